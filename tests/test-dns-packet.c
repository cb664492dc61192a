/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <sys/socket.h>

#include "check-util.h"

#include "dns-packet.h"

typedef struct Pkt {
        uint8_t b[600];
        size_t n;
} Pkt;

static void put(Pkt *p, const void *data, size_t n) {
        ck_assert_uint_le(p->n + n, sizeof p->b);
        memcpy(p->b + p->n, data, n);
        p->n += n;
}

static void put16(Pkt *p, uint16_t v) {
        uint8_t b[2] = { (uint8_t) (v >> 8), (uint8_t) v };

        put(p, b, 2);
}

static uint16_t get16(const uint8_t *b) {
        return (uint16_t) (b[0] << 8 | b[1]);
}

static void put_header(Pkt *p, uint16_t id, uint16_t flags, uint16_t qd, uint16_t an, uint16_t ns, uint16_t ar) {
        put16(p, id);
        put16(p, flags);
        put16(p, qd);
        put16(p, an);
        put16(p, ns);
        put16(p, ar);
}

/* "web.example" as labels, with the final zero. */
static void put_name(Pkt *p, const char *name) {
        while (*name) {
                size_t len = strcspn(name, ".");
                uint8_t l = (uint8_t) len;

                put(p, &l, 1);
                put(p, name, len);
                name += len + (name[len] == '.');
        }
        put(p, "", 1);
}

/* A query as a stub resolver sends it: RD set, one question. */
static Pkt query(uint16_t id, const char *name, uint16_t qtype) {
        Pkt p = {};

        put_header(&p, id, 0x0100, 1, 0, 0, 0);
        put_name(&p, name);
        put16(&p, qtype);
        put16(&p, DNS_CLASS_IN);
        return p;
}

static void put_opt(Pkt *p, uint16_t udp_size, uint16_t rdlen) {
        put(p, "", 1);   /* the root name */
        put16(p, 41);
        put16(p, udp_size);
        put16(p, 0);
        put16(p, 0);
        put16(p, rdlen);
        for (uint16_t i = 0; i < rdlen; i++)
                put(p, "x", 1);
}

START_TEST(test_parse_a) {
        Pkt p = query(0x1234, "Web.Example", DNS_TYPE_A);
        DnsQuestion q;

        ck_assert_int_eq(dns_question_parse(p.b, p.n, &q), 0);
        ck_assert_uint_eq(q.id, 0x1234);
        ck_assert_uint_eq(q.flags, 0x0100);
        ck_assert_str_eq(q.name, "web.example");   /* lower case */
        ck_assert_uint_eq(q.qtype, DNS_TYPE_A);
        ck_assert_uint_eq(q.qclass, DNS_CLASS_IN);
        ck_assert_uint_eq(q.question_end, p.n);
        ck_assert_uint_eq(q.udp_size, 512);
}
END_TEST

START_TEST(test_parse_aaaa_edns) {
        Pkt p = {};
        DnsQuestion q;

        put_header(&p, 7, 0x0100, 1, 0, 0, 1);
        put_name(&p, "db");
        put16(&p, DNS_TYPE_AAAA);
        put16(&p, DNS_CLASS_IN);
        put_opt(&p, 1232, 0);
        ck_assert_int_eq(dns_question_parse(p.b, p.n, &q), 0);
        ck_assert_str_eq(q.name, "db");
        ck_assert_uint_eq(q.qtype, DNS_TYPE_AAAA);
        ck_assert_uint_eq(q.question_end, 12 + 4 + 4);
        ck_assert_uint_eq(q.udp_size, 1232);
}
END_TEST

START_TEST(test_parse_edns_sizes) {
        static const struct { uint16_t asked, got, rdlen; } sizes[] = {
                { 0, 512, 0 }, { 100, 512, 0 }, { 4096, 4096, 0 }, { 65535, 4096, 0 }, { 1400, 1400, 12 },
        };

        for (size_t i = 0; i < ELEMENTSOF(sizes); i++) {
                Pkt p = {};
                DnsQuestion q;

                put_header(&p, 7, 0, 1, 0, 0, 1);
                put_name(&p, "db");
                put16(&p, DNS_TYPE_A);
                put16(&p, DNS_CLASS_IN);
                put_opt(&p, sizes[i].asked, sizes[i].rdlen);
                ck_assert_int_eq(dns_question_parse(p.b, p.n, &q), 0);
                ck_assert_uint_eq(q.udp_size, sizes[i].got);
        }
}
END_TEST

START_TEST(test_parse_names) {
        char label[64], name[DNS_NAME_MAX + 8] = "";
        Pkt p;
        DnsQuestion q;

        /* the root name */
        p = query(1, "", DNS_TYPE_A);
        ck_assert_int_eq(dns_question_parse(p.b, p.n, &q), 0);
        ck_assert_str_eq(q.name, "");

        /* a label of 63, and a name of 255 on the wire: the most there is */
        memset(label, 'a', 63);
        label[63] = 0;
        snprintf(name, sizeof name, "%s.%s.%s.%.61s", label, label, label, label);
        p = query(1, name, DNS_TYPE_A);
        ck_assert_int_eq(dns_question_parse(p.b, p.n, &q), 0);
        ck_assert_uint_eq(strlen(q.name), 253);

        /* one more byte is too long */
        snprintf(name, sizeof name, "%s.%s.%s.%.62s", label, label, label, label);
        p = query(1, name, DNS_TYPE_A);
        ck_assert_int_eq(dns_question_parse(p.b, p.n, &q), -EBADMSG);

        /* bytes that are not a host name's: never a name Berth would answer */
        p = (Pkt) {};
        put_header(&p, 1, 0, 1, 0, 0, 0);
        put(&p, "\x05" "a.b c" "\x00", 7);
        put16(&p, DNS_TYPE_A);
        put16(&p, DNS_CLASS_IN);
        ck_assert_int_eq(dns_question_parse(p.b, p.n, &q), 0);
        ck_assert_str_eq(q.name, "a?b?c");
}
END_TEST

START_TEST(test_parse_refused) {
        Pkt p, good = query(9, "web", DNS_TYPE_A);
        DnsQuestion q;

        ck_assert_int_eq(dns_question_parse(good.b, good.n, &q), 0);
        /* every truncation of a good query */
        for (size_t n = 0; n < good.n; n++)
                ck_assert_msg(dns_question_parse(good.b, n, &q) == -EBADMSG, "truncated to %zu parsed", n);
        /* a byte more than it says */
        p = good;
        put(&p, "", 1);
        ck_assert_int_eq(dns_question_parse(p.b, p.n, &q), -EBADMSG);
        ck_assert_int_eq(dns_question_parse(NULL, 0, &q), -EBADMSG);

        /* QDCOUNT 0 and 2, answers, authorities, a response, another opcode */
        static const struct { size_t offset; uint16_t value; } headers[] = {
                { 4, 0 }, { 4, 2 }, { 6, 1 }, { 8, 1 }, { 2, 0x8100 }, { 2, 0x2800 }, { 2, 0x1000 }, { 10, 2 },
        };
        for (size_t i = 0; i < ELEMENTSOF(headers); i++) {
                p = good;
                p.b[headers[i].offset] = (uint8_t) (headers[i].value >> 8);
                p.b[headers[i].offset + 1] = (uint8_t) headers[i].value;
                ck_assert_msg(dns_question_parse(p.b, p.n, &q) == -EBADMSG, "header %zu", i);
        }
}
END_TEST

START_TEST(test_parse_pointers) {
        Pkt p;
        DnsQuestion q;

        /* a pointer to itself: a loop for a parser that follows pointers */
        p = (Pkt) {};
        put_header(&p, 1, 0, 1, 0, 0, 0);
        put(&p, "\xc0\x0c", 2);
        put16(&p, DNS_TYPE_A);
        put16(&p, DNS_CLASS_IN);
        ck_assert_int_eq(dns_question_parse(p.b, p.n, &q), -EBADMSG);

        /* a label, then a pointer back to it */
        p = (Pkt) {};
        put_header(&p, 1, 0, 1, 0, 0, 0);
        put(&p, "\x03web\xc0\x0c", 6);
        put16(&p, DNS_TYPE_A);
        put16(&p, DNS_CLASS_IN);
        ck_assert_int_eq(dns_question_parse(p.b, p.n, &q), -EBADMSG);

        /* the reserved label types 0x40 and 0x80 */
        for (unsigned t = 0x40; t <= 0x80; t += 0x40) {
                p = (Pkt) {};
                put_header(&p, 1, 0, 1, 0, 0, 0);
                put(&p, &(uint8_t) { (uint8_t) t }, 1);
                put(&p, "", 1);
                put16(&p, DNS_TYPE_A);
                put16(&p, DNS_CLASS_IN);
                ck_assert_int_eq(dns_question_parse(p.b, p.n, &q), -EBADMSG);
        }
}
END_TEST

START_TEST(test_parse_bad_opt) {
        static const struct { uint16_t type, rdlen, claimed; } opts[] = {
                { 1, 0, 0 },     /* not OPT */
                { 41, 4, 5 },    /* rdata shorter than it says */
                { 41, 4, 3 },    /* longer */
        };

        for (size_t i = 0; i < ELEMENTSOF(opts); i++) {
                Pkt p = {};
                DnsQuestion q;

                put_header(&p, 1, 0, 1, 0, 0, 1);
                put_name(&p, "db");
                put16(&p, DNS_TYPE_A);
                put16(&p, DNS_CLASS_IN);
                put(&p, "", 1);
                put16(&p, opts[i].type);
                put16(&p, 1232);
                put16(&p, 0);
                put16(&p, 0);
                put16(&p, opts[i].claimed);
                for (uint16_t k = 0; k < opts[i].rdlen; k++)
                        put(&p, "x", 1);
                ck_assert_msg(dns_question_parse(p.b, p.n, &q) == -EBADMSG, "opt %zu", i);
        }
}
END_TEST

static InAddr addr(const char *s) {
        InAddr a;

        ck_assert_int_eq(in_addr_parse(s, AF_UNSPEC, &a), 0);
        return a;
}

START_TEST(test_answer) {
        Pkt p = query(0xbeef, "web", DNS_TYPE_A);
        InAddr addrs[2] = { addr("10.89.0.2"), addr("fd00::2") };
        uint8_t buf[512];
        DnsQuestion q;
        uint16_t id;
        int n;

        ck_assert_int_eq(dns_question_parse(p.b, p.n, &q), 0);
        n = dns_answer_build(&q, p.b, DNS_RCODE_NOERROR, addrs, 2, 600, buf, sizeof buf);
        ck_assert_int_eq(n, (int) p.n + 16 + 28);
        ck_assert_uint_eq(get16(buf), 0xbeef);
        ck_assert_uint_eq(get16(buf + 2), 0x8000 | 0x0400 | 0x0100 | 0x0080);   /* QR AA RD RA */
        ck_assert_uint_eq(get16(buf + 4), 1);
        ck_assert_uint_eq(get16(buf + 6), 2);
        ck_assert_uint_eq(get16(buf + 8), 0);
        ck_assert_uint_eq(get16(buf + 10), 0);
        ck_assert_int_eq(memcmp(buf + 12, p.b + 12, p.n - 12), 0);   /* the question, as asked */

        /* the records: a pointer to the question's name, type, class, TTL, the address */
        ck_assert_uint_eq(get16(buf + p.n), 0xc00c);
        ck_assert_uint_eq(get16(buf + p.n + 2), DNS_TYPE_A);
        ck_assert_uint_eq(get16(buf + p.n + 4), DNS_CLASS_IN);
        ck_assert_uint_eq(get16(buf + p.n + 6) << 16 | get16(buf + p.n + 8), 600);
        ck_assert_uint_eq(get16(buf + p.n + 10), 4);
        ck_assert_int_eq(memcmp(buf + p.n + 12, addrs[0].bytes, 4), 0);
        ck_assert_uint_eq(get16(buf + p.n + 16 + 2), DNS_TYPE_AAAA);
        ck_assert_uint_eq(get16(buf + p.n + 16 + 10), 16);
        ck_assert_int_eq(memcmp(buf + p.n + 16 + 12, addrs[1].bytes, 16), 0);

        ck_assert_int_eq(dns_reply_id(buf, (size_t) n, &id), 0);
        ck_assert_uint_eq(id, 0xbeef);
}
END_TEST

START_TEST(test_answer_rcode) {
        Pkt p = {};
        uint8_t buf[512];
        DnsQuestion q;
        int n;

        /* An EDNS query: the OPT record is not copied back. */
        put_header(&p, 5, 0x0000, 1, 0, 0, 1);
        put_name(&p, "nothere");
        put16(&p, DNS_TYPE_A);
        put16(&p, DNS_CLASS_IN);
        put_opt(&p, 4096, 0);
        ck_assert_int_eq(dns_question_parse(p.b, p.n, &q), 0);
        n = dns_answer_build(&q, p.b, DNS_RCODE_NXDOMAIN, NULL, 0, 0, buf, sizeof buf);
        ck_assert_int_eq(n, (int) q.question_end);
        ck_assert_uint_eq(get16(buf + 2), 0x8000 | 0x0080 | DNS_RCODE_NXDOMAIN);   /* no RD: not asked */
        ck_assert_uint_eq(get16(buf + 6), 0);
        ck_assert_uint_eq(get16(buf + 10), 0);

        n = dns_answer_build(&q, p.b, DNS_RCODE_NOERROR, NULL, 0, 0, buf, sizeof buf);
        ck_assert_uint_eq(get16(buf + 2), 0x8000 | 0x0400 | 0x0080);   /* NODATA: ours, so AA */

        /* no room even for the question */
        ck_assert_int_eq(dns_answer_build(&q, p.b, 0, NULL, 0, 0, buf, q.question_end - 1), -ENOBUFS);
}
END_TEST

START_TEST(test_answer_truncated) {
        Pkt p = query(3, "many", DNS_TYPE_A);
        InAddr addrs[40];
        uint8_t buf[1024];
        DnsQuestion q;
        int n;

        for (size_t i = 0; i < ELEMENTSOF(addrs); i++) {
                addrs[i] = addr("10.89.0.0");
                addrs[i].bytes[3] = (uint8_t) i;
        }
        ck_assert_int_eq(dns_question_parse(p.b, p.n, &q), 0);
        n = dns_answer_build(&q, p.b, 0, addrs, ELEMENTSOF(addrs), 5, buf, 512);
        ck_assert_int_le(n, 512);
        ck_assert_int_gt(n, 512 - 16);
        ck_assert(get16(buf + 2) & 0x0200);   /* TC */
        ck_assert_uint_eq(get16(buf + 6), (512 - p.n) / 16);
        ck_assert_int_eq((size_t) n, p.n + 16 * get16(buf + 6));

        /* with room for all: no TC */
        n = dns_answer_build(&q, p.b, 0, addrs, ELEMENTSOF(addrs), 5, buf, sizeof buf);
        ck_assert_int_eq(n, (int) p.n + 16 * 40);
        ck_assert(!(get16(buf + 2) & 0x0200));
        ck_assert_uint_eq(get16(buf + 6), 40);
}
END_TEST

START_TEST(test_reply_id) {
        uint8_t reply[12] = { 0xab, 0xcd, 0x81, 0x80 }, q[12] = { 0xab, 0xcd, 0x01, 0x00 };
        uint16_t id = 0;

        ck_assert_int_eq(dns_reply_id(reply, sizeof reply, &id), 0);
        ck_assert_uint_eq(id, 0xabcd);
        id = 0;
        ck_assert_int_eq(dns_reply_id(reply, 11, &id), -EBADMSG);
        ck_assert_int_eq(dns_reply_id(q, sizeof q, &id), -EBADMSG);   /* a query, not a reply */
        ck_assert_uint_eq(id, 0);
}
END_TEST

static Suite *dns_packet_suite(void) {
        Suite *s = suite_create("dns-packet");
        TCase *tc = tcase_create("question");

        tcase_add_test(tc, test_parse_a);
        tcase_add_test(tc, test_parse_aaaa_edns);
        tcase_add_test(tc, test_parse_edns_sizes);
        tcase_add_test(tc, test_parse_names);
        tcase_add_test(tc, test_parse_refused);
        tcase_add_test(tc, test_parse_pointers);
        tcase_add_test(tc, test_parse_bad_opt);
        suite_add_tcase(s, tc);

        tc = tcase_create("answer");
        tcase_add_test(tc, test_answer);
        tcase_add_test(tc, test_answer_rcode);
        tcase_add_test(tc, test_answer_truncated);
        tcase_add_test(tc, test_reply_id);
        suite_add_tcase(s, tc);
        return s;
}

int main(void) {
        return check_run_suite(dns_packet_suite());
}
