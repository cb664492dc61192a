/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Docker's -p syntax (moby's nat.ParsePortSpec), checked as strictly. */
#include <arpa/inet.h>
#include <sys/socket.h>

#include <ctype.h>

#include "port-spec.h"

static const char *const port_proto_table[_PORT_PROTO_MAX] = {
        [PORT_PROTO_TCP] = "tcp",
        [PORT_PROTO_UDP] = "udp",
        [PORT_PROTO_SCTP] = "sctp",
};

DEFINE_STRING_TABLE_LOOKUP(port_proto, PortProto);

#define PORT_MAPPINGS_MAX 65536

/* "80" or "8000-8009": first and last; never 0. */
static int parse_range(const char *s, size_t len, uint16_t *first, uint16_t *last) {
        unsigned long v[2] = {};
        size_t i = 0;

        for (int k = 0; k < 2; k++) {
                size_t start = i;
                if (i >= len || s[i] < '0' || s[i] > '9')
                        return -EINVAL;
                while (i < len && s[i] >= '0' && s[i] <= '9') {
                        v[k] = v[k] * 10 + (unsigned) (s[i] - '0');
                        if (v[k] > 65535 || i - start > 5)
                                return -ERANGE;
                        i++;
                }
                if (v[k] == 0)
                        return -ERANGE;
                if (i == len) {
                        if (k == 0)
                                v[1] = v[0];
                        break;
                }
                if (k == 1 || s[i] != '-')
                        return -EINVAL;
                i++;
        }
        if (i != len || v[1] < v[0])
                return -EINVAL;
        *first = (uint16_t) v[0];
        *last = (uint16_t) v[1];
        return 0;
}

/* Room for count more mappings, all or none: a spec over the cap adds
 * nothing, and "1-65535" costs one allocation rather than 65535. */
static int reserve(PortMapping **l, size_t n, size_t count) {
        PortMapping *x;

        if (count > PORT_MAPPINGS_MAX - MIN(n, (size_t) PORT_MAPPINGS_MAX))
                return errmsg_set(-E2BIG, "Too many published ports: at most %d.", PORT_MAPPINGS_MAX);
        x = reallocarray(*l, n + count, sizeof *x);
        if (!x)
                return -ENOMEM;
        *l = x;
        return 0;
}

/* Splits "[IP:][HOST:]CTR" into its parts. */
static int split_spec(const char *spec, const char *body, size_t len, char *ip, size_t ip_size,
                      const char **host, size_t *host_len, const char **ctr, size_t *ctr_len) {
        const char *p = body, *end = body + len, *colon;

        ip[0] = 0;
        *host = NULL;
        *host_len = 0;
        if (*p == '[') {
                const char *close = memchr(p, ']', len);
                if (!close || close[1] != ':' || (size_t) (close - p - 1) >= ip_size)
                        return errmsg_set(-EINVAL, "Invalid port spec '%s': an IPv6 address in brackets must be followed by ':'.", spec);
                memcpy(ip, p + 1, close - p - 1);
                ip[close - p - 1] = 0;
                p = close + 2;
                colon = memchr(p, ':', end - p);
                if (!colon)
                        return errmsg_set(-EINVAL, "Invalid port spec '%s': give [IP]:HOSTPORT:CONTAINERPORT.", spec);
                *host = p;
                *host_len = colon - p;
                p = colon + 1;
        } else {
                size_t colons = 0;
                for (const char *q = p; q < end; q++)
                        colons += *q == ':';
                if (colons > 2)
                        return errmsg_set(-EINVAL, "Invalid port spec '%s': an IPv6 address must be in brackets ([::1]:8080:80).", spec);
                if (colons == 2) {
                        colon = memchr(p, ':', end - p);
                        if ((size_t) (colon - p) >= ip_size)
                                return errmsg_set(-EINVAL, "Invalid port spec '%s': bad address.", spec);
                        memcpy(ip, p, colon - p);
                        ip[colon - p] = 0;
                        p = colon + 1;
                }
                if (colons >= 1) {
                        colon = memchr(p, ':', end - p);
                        *host = p;
                        *host_len = colon - p;
                        p = colon + 1;
                }
        }
        *ctr = p;
        *ctr_len = end - p;
        return 0;
}

int port_spec_parse(const char *spec, PortMapping **mappings, size_t *n_mappings) {
        const char *slash, *host = NULL, *ctr = NULL;
        size_t body_len, host_len = 0, ctr_len = 0;
        uint16_t hf = 0, hl = 0, cf, cl;
        char ip[IN_ADDR_STRLEN + 1];
        PortMapping m = {};
        int r;

        if (isempty(spec) || strlen(spec) > 128)
                return errmsg_set(-EINVAL, "Invalid port spec '%s'.", strempty(spec));
        slash = strrchr(spec, '/');
        m.proto = PORT_PROTO_TCP;
        if (slash) {
                char proto[8] = "";
                /* Docker takes "80/TCP" too. */
                for (size_t i = 0; i + 1 < sizeof proto && slash[1 + i]; i++)
                        proto[i] = (char) tolower((unsigned char) slash[1 + i]);
                m.proto = strlen(slash + 1) < sizeof proto ? port_proto_from_string(proto) : _PORT_PROTO_INVALID;
                if (m.proto < 0)
                        return errmsg_set(-EINVAL, "Invalid port spec '%s': unknown protocol '%s' (use tcp, udp or sctp).",
                                          spec, slash + 1);
        }
        body_len = slash ? (size_t) (slash - spec) : strlen(spec);
        r = split_spec(spec, spec, body_len, ip, sizeof ip, &host, &host_len, &ctr, &ctr_len);
        if (r < 0)
                return r;
        if (ip[0] && (in_addr_parse(ip, AF_UNSPEC, &m.host_ip) < 0 ||
                      (strchr(ip, ':') && spec[0] != '[')))
                return errmsg_set(-EINVAL, "Invalid port spec '%s': '%s' is not an IP address.", spec, ip);
        if (parse_range(ctr, ctr_len, &cf, &cl) < 0)
                return errmsg_set(-EINVAL, "Invalid port spec '%s': the container port must be 1 to 65535 or a range of those.", spec);
        if (host_len > 0 && parse_range(host, host_len, &hf, &hl) < 0)
                return errmsg_set(-EINVAL, "Invalid port spec '%s': the host port must be 1 to 65535 or a range of those.", spec);
        if (host_len > 0 && hl - hf != cl - cf && cf != cl)
                return errmsg_set(-EINVAL, "Invalid port spec '%s': the host and container port ranges differ in length (%u and %u).",
                                  spec, (unsigned) (hl - hf + 1), (unsigned) (cl - cf + 1));
        r = reserve(mappings, *n_mappings, (size_t) cl - cf + 1);
        if (r < 0)
                return r;
        for (unsigned p = cf; p <= cl; p++) {
                m.container_port = (uint16_t) p;
                if (host_len == 0)
                        m.host_port = m.host_port_last = 0;
                else if (cf == cl && hl != hf) {   /* one container port, a host range to pick from */
                        m.host_port = hf;
                        m.host_port_last = hl;
                } else {
                        m.host_port = (uint16_t) (hf + (p - cf));
                        m.host_port_last = 0;
                }
                (*mappings)[(*n_mappings)++] = m;
        }
        return 0;
}

int port_spec_parse_exposed(const char *key, PortMapping **mappings, size_t *n_mappings) {
        /* An exposed port is "CTR[/proto]": the spec with no host part. */
        if (isempty(key) || strchr(key, ':'))
                return errmsg_set(-EINVAL, "Invalid exposed port '%s'.", strempty(key));
        return port_spec_parse(key, mappings, n_mappings);
}

int port_mapping_to_string(const PortMapping *m, char **ret) {
        char ip[IN_ADDR_STRLEN];
        char buf[IN_ADDR_STRLEN + 48];

        if (m->host_ip.family == AF_INET6)
                snprintf(buf, sizeof buf, "[%s]:%u->%u/%s", in_addr_to_string(&m->host_ip, ip), m->host_port,
                         m->container_port, port_proto_to_string(m->proto));
        else
                snprintf(buf, sizeof buf, "%s:%u->%u/%s",
                         m->host_ip.family ? in_addr_to_string(&m->host_ip, ip) : "0.0.0.0", m->host_port,
                         m->container_port, port_proto_to_string(m->proto));
        *ret = strdup(buf);
        return *ret ? 0 : -ENOMEM;
}
