/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <sys/socket.h>

#include "check-util.h"

#include "port-spec.h"

typedef struct Ports {
        PortMapping *m;
        size_t n;
} Ports;

static void ports_done(Ports *p) {
        p->m = mfree(p->m);
        p->n = 0;
}

static char *ip_of(const PortMapping *m) {
        char buf[IN_ADDR_STRLEN];

        return strdup(m->host_ip.family ? in_addr_to_string(&m->host_ip, buf) : "*");
}

/* One line per mapping, "IP HOST[-LAST]:CTR/PROTO", to compare whole results at once. */
static char *ports_to_string(const Ports *p) {
        char *s = strdup("");

        for (size_t i = 0; s && i < p->n; i++) {
                const PortMapping *m = &p->m[i];
                _cleanup_free_ char *ip = ip_of(m), *line = NULL;
                char last[8] = "";

                if (m->host_port_last)
                        snprintf(last, sizeof last, "-%u", m->host_port_last);
                ck_assert_int_ge(asprintf(&line, "%s%s %u%s:%u/%s", i ? "\n" : "", ip, m->host_port, last,
                                          m->container_port, port_proto_to_string(m->proto)), 0);
                char *joined = strjoin(s, line);

                free(s);
                s = joined;
        }
        ck_assert_ptr_nonnull(s);
        return s;
}

static const struct {
        const char *spec, *want;
} good[] = {
        /* every form of the header comment */
        { "80", "* 0:80/tcp" },
        { "8080:80", "* 8080:80/tcp" },
        { "127.0.0.1:8080:80", "127.0.0.1 8080:80/tcp" },
        { "127.0.0.1::80", "127.0.0.1 0:80/tcp" },
        { "[::1]:8080:80", "::1 8080:80/tcp" },
        { "[2001:db8::1]:8080:80", "2001:db8::1 8080:80/tcp" },
        { "8000-8002:80-82", "* 8000:80/tcp\n* 8001:81/tcp\n* 8002:82/tcp" },
        { "8000-8009:80", "* 8000-8009:80/tcp" },
        /* and around them */
        { "53/udp", "* 0:53/udp" },
        { "5353:53/udp", "* 5353:53/udp" },
        { "9/sctp", "* 0:9/sctp" },
        { "80/tcp", "* 0:80/tcp" },
        { "[::1]::80/udp", "::1 0:80/udp" },
        { "0.0.0.0:8080:80", "0.0.0.0 8080:80/tcp" }, /* every IPv4 address only, as in Docker */
        { "[::]:8080:80", ":: 8080:80/tcp" },        /* every IPv6 address only */
        { "::80", "* 0:80/tcp" },                   /* Docker reads it so too: no IP, no host port */
        { "65535:65535", "* 65535:65535/tcp" },
        { "1:1", "* 1:1/tcp" },
        { "80-81", "* 0:80/tcp\n* 0:81/tcp" },
        { "10.0.0.1:1000-1001:2000-2001/udp", "10.0.0.1 1000:2000/udp\n10.0.0.1 1001:2001/udp" },
        { "8080-8080:80-80", "* 8080:80/tcp" },
        { "080", "* 0:80/tcp" },
        { "80/TCP", "* 0:80/tcp" },                 /* as Docker, any case */
        { "5353:53/Udp", "* 5353:53/udp" },
};

START_TEST(test_good) {
        _cleanup_(ports_done) Ports p = {};
        _cleanup_free_ char *s = NULL;

        errmsg_clear();
        if (port_spec_parse(good[_i].spec, &p.m, &p.n) < 0)
                ck_abort_msg("%s: %s", good[_i].spec, errmsg_last());
        s = ports_to_string(&p);
        ck_assert_str_eq(s, good[_i].want);
}
END_TEST

static const struct {
        const char *spec, *message;
} bad[] = {
        { "", "Invalid port spec" },
        { "80:80:80:80", "in brackets" },
        { "0", "container port" },
        { "0:80", "host port" },
        { "65536", "container port" },
        { "8080:65536", "container port" },
        { "99999999999999999999", "container port" },
        { "90-80", "container port" },
        { "9000-8000:80", "host port" },
        { "80-", "container port" },
        { "-80", "container port" },
        { "80-90-100", "container port" },
        { "8000-8001:80-89", "differ in length" },
        { "8000:80-89", "differ in length" },
        { "80/tcpx", "unknown protocol" },
        { "80/", "unknown protocol" },
        { "80/TCP/udp", "container port" },
        { "/tcp", "container port" },
        { "[::1", "brackets" },
        { "[::1]", "brackets" },
        { "[::1]8080:80", "brackets" },
        { "[::1]:80", "[IP]:HOSTPORT:CONTAINERPORT" },
        { "::1:8080:80", "in brackets" },
        { "2001:db8::1:8080:80", "in brackets" },
        { "[10.0.0.1:8080:80", "brackets" },
        { "[fe80::1%eth0]:8080:80", "not an IP address" },
        { "localhost:8080:80", "not an IP address" },
        { "10.0.0:8080:80", "not an IP address" },
        { " 80", "container port" },
        { "80 ", "container port" },
        { "8080:80:", "not an IP address" },
        { "a:80", "host port" },
        { "80:a", "container port" },
        { "1111111111111111111111111111111111111111111111111111111111111111111111111111111111111111111111111111"
          "11111111111111111111111111111111", "Invalid port spec" },
};

START_TEST(test_bad) {
        _cleanup_(ports_done) Ports p = {};

        errmsg_clear();
        ck_assert_msg(port_spec_parse(bad[_i].spec, &p.m, &p.n) == -EINVAL, "'%s' parsed", bad[_i].spec);
        ck_assert_ptr_nonnull(errmsg_last());
        ck_assert_msg(strstr(errmsg_last(), bad[_i].message), "'%s': %s", bad[_i].spec, errmsg_last());
        ck_assert_uint_eq(p.n, 0);
}
END_TEST

START_TEST(test_appends) {
        _cleanup_(ports_done) Ports p = {};
        _cleanup_free_ char *s = NULL;

        ck_assert_int_eq(port_spec_parse("80", &p.m, &p.n), 0);
        ck_assert_int_eq(port_spec_parse("127.0.0.1:53:53/udp", &p.m, &p.n), 0);
        ck_assert_int_eq(port_spec_parse("80:80:80:80", &p.m, &p.n), -EINVAL);
        ck_assert_int_eq(port_spec_parse("[::1]:1-2:3-4", &p.m, &p.n), 0);
        s = ports_to_string(&p);
        ck_assert_str_eq(s, "* 0:80/tcp\n127.0.0.1 53:53/udp\n::1 1:3/tcp\n::1 2:4/tcp");
}
END_TEST

START_TEST(test_cap) {
        _cleanup_(ports_done) Ports p = {};

        /* Every port of both protocols is 131070 mappings: the second spec passes the cap. */
        ck_assert_int_eq(port_spec_parse("1-65535", &p.m, &p.n), 0);
        ck_assert_uint_eq(p.n, 65535);
        ck_assert_uint_eq(p.m[65534].container_port, 65535);
        ck_assert_int_eq(port_spec_parse("7/udp", &p.m, &p.n), 0);
        ck_assert_uint_eq(p.n, 65536);
        errmsg_clear();
        ck_assert_int_eq(port_spec_parse("8/udp", &p.m, &p.n), -E2BIG);
        ck_assert_ptr_nonnull(strstr(errmsg_last(), "65536"));
        ck_assert_uint_eq(p.n, 65536);
        ports_done(&p);

        ck_assert_int_eq(port_spec_parse("1-65535:1-65535/udp", &p.m, &p.n), 0);
        errmsg_clear();
        ck_assert_int_eq(port_spec_parse("1-2", &p.m, &p.n), -E2BIG);
        ck_assert_ptr_nonnull(errmsg_last());
        /* A spec over the cap adds nothing, not the part of it that fitted. */
        ck_assert_uint_eq(p.n, 65535);
}
END_TEST

START_TEST(test_exposed) {
        _cleanup_(ports_done) Ports p = {};
        _cleanup_free_ char *s = NULL;

        ck_assert_int_eq(port_spec_parse_exposed("80/tcp", &p.m, &p.n), 0);
        ck_assert_int_eq(port_spec_parse_exposed("53/udp", &p.m, &p.n), 0);
        ck_assert_int_eq(port_spec_parse_exposed("8000-8002/tcp", &p.m, &p.n), 0);
        ck_assert_int_eq(port_spec_parse_exposed("443", &p.m, &p.n), 0);
        s = ports_to_string(&p);
        ck_assert_str_eq(s, "* 0:80/tcp\n* 0:53/udp\n* 0:8000/tcp\n* 0:8001/tcp\n* 0:8002/tcp\n* 0:443/tcp");

        /* no host part in an image's ExposedPorts */
        ck_assert_int_eq(port_spec_parse_exposed("8080:80/tcp", &p.m, &p.n), -EINVAL);
        ck_assert_int_eq(port_spec_parse_exposed("[::1]:80:80", &p.m, &p.n), -EINVAL);
        ck_assert_int_eq(port_spec_parse_exposed("", &p.m, &p.n), -EINVAL);
        ck_assert_int_eq(port_spec_parse_exposed(NULL, &p.m, &p.n), -EINVAL);
        ck_assert_int_eq(port_spec_parse_exposed("80/icmp", &p.m, &p.n), -EINVAL);
        ck_assert_int_eq(port_spec_parse_exposed("0/tcp", &p.m, &p.n), -EINVAL);
        ck_assert_uint_eq(p.n, 6);
}
END_TEST

static void assert_mapping_string(const char *spec, uint16_t bound_port, const char *want) {
        _cleanup_(ports_done) Ports p = {};
        _cleanup_free_ char *s = NULL;

        ck_assert_int_eq(port_spec_parse(spec, &p.m, &p.n), 0);
        ck_assert_uint_eq(p.n, 1);
        if (bound_port)
                p.m[0].host_port = bound_port;
        ck_assert_int_eq(port_mapping_to_string(&p.m[0], &s), 0);
        ck_assert_str_eq(s, want);
}

START_TEST(test_to_string) {
        InAddr any6;
        PortMapping m = { .host_port = 8080, .container_port = 80, .proto = PORT_PROTO_TCP };
        _cleanup_free_ char *s = NULL;

        assert_mapping_string("127.0.0.1:8080:80", 0, "127.0.0.1:8080->80/tcp");
        assert_mapping_string("8080:80/udp", 0, "0.0.0.0:8080->80/udp");
        assert_mapping_string("80", 32768, "0.0.0.0:32768->80/tcp");
        assert_mapping_string("[::1]:8080:80/sctp", 0, "[::1]:8080->80/sctp");
        assert_mapping_string("[2001:db8::1]::443", 40000, "[2001:db8::1]:40000->443/tcp");

        /* Docker's "[::]:8080->80/tcp": a mapping bound on IPv6's any address. */
        ck_assert_int_eq(in_addr_parse("::", AF_INET6, &any6), 0);
        m.host_ip = any6;
        ck_assert_int_eq(port_mapping_to_string(&m, &s), 0);
        ck_assert_str_eq(s, "[::]:8080->80/tcp");
}
END_TEST

START_TEST(test_proto_table) {
        for (PortProto p = 0; p < _PORT_PROTO_MAX; p++)
                ck_assert_int_eq(port_proto_from_string(port_proto_to_string(p)), p);
        ck_assert_int_eq(port_proto_from_string("icmp"), _PORT_PROTO_INVALID);
        ck_assert_int_eq(port_proto_from_string(""), _PORT_PROTO_INVALID);
        ck_assert_ptr_null(port_proto_to_string(_PORT_PROTO_MAX));
        ck_assert_ptr_null(port_proto_to_string(_PORT_PROTO_INVALID));
}
END_TEST

static Suite *port_spec_suite(void) {
        Suite *s = suite_create("port-spec");
        TCase *tc = tcase_create("parse");

        tcase_add_loop_test(tc, test_good, 0, ELEMENTSOF(good));
        tcase_add_loop_test(tc, test_bad, 0, ELEMENTSOF(bad));
        tcase_add_test(tc, test_appends);
        tcase_add_test(tc, test_cap);
        tcase_add_test(tc, test_exposed);
        tcase_add_test(tc, test_to_string);
        tcase_add_test(tc, test_proto_table);
        suite_add_tcase(s, tc);
        return s;
}

int main(void) {
        return check_run_suite(port_spec_suite());
}
