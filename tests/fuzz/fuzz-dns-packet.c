/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* DNS queries (lib/network/dns-packet.c): the input is one UDP payload, as
 * a container sends it to the embedded resolver. A query that parses gets
 * answers built on it, in the room its EDNS size gives; the answer must fit,
 * be a reply to it, and carry its question back unchanged. */
#include <sys/socket.h>

#include "dns-packet.h"
#include "fuzz.h"
#include "util.h"

static uint16_t get16(const uint8_t *p) {
        return (uint16_t) (p[0] << 8 | p[1]);
}

static void check_answer(const DnsQuestion *q, const uint8_t *query, const uint8_t *buf, int n, size_t max,
                         size_t n_addrs) {
        uint8_t again[DNS_PACKET_MAX];
        DnsQuestion q2;
        uint16_t id;

        FUZZ_CHECK(n >= (int) q->question_end && (size_t) n <= max);
        FUZZ_CHECK(dns_reply_id(buf, (size_t) n, &id) == 0 && id == q->id);
        FUZZ_CHECK(get16(buf + 4) == 1 && get16(buf + 6) <= n_addrs);
        FUZZ_CHECK(get16(buf + 6) == n_addrs || (get16(buf + 2) & 0x0200));
        FUZZ_CHECK(memcmp(buf + 12, query + 12, q->question_end - 12) == 0);

        /* The question alone, made a query again, parses to the same question. */
        memcpy(again, buf, q->question_end);
        again[2] = (uint8_t) (q->flags >> 8);
        again[3] = (uint8_t) q->flags;
        memset(again + 6, 0, 6);
        FUZZ_CHECK(dns_question_parse(again, q->question_end, &q2) == 0);
        FUZZ_CHECK(streq(q2.name, q->name) && q2.qtype == q->qtype && q2.qclass == q->qclass);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
        static uint8_t buf[4096];
        InAddr addrs[64];
        DnsQuestion q;
        uint16_t id;
        int n;

        (void) dns_reply_id(data, size, &id);
        if (dns_question_parse(data, size, &q) < 0)
                return 0;
        FUZZ_CHECK(strlen(q.name) <= DNS_NAME_MAX - 2);   /* 255 on the wire: 253 as text */
        FUZZ_CHECK(!strstr(q.name, "..") && q.name[0] != '.');
        FUZZ_CHECK(q.question_end >= 12 + 5 && q.question_end <= size);
        FUZZ_CHECK(q.udp_size >= 512 && q.udp_size <= sizeof buf);

        for (size_t i = 0; i < ELEMENTSOF(addrs); i++) {
                addrs[i] = (InAddr) { .family = i % 3 ? AF_INET : AF_INET6 };
                memset(addrs[i].bytes, (int) i, sizeof addrs[i].bytes);
        }
        n = dns_answer_build(&q, data, DNS_RCODE_NOERROR, addrs, ELEMENTSOF(addrs), 60, buf, q.udp_size);
        if (q.question_end > q.udp_size) {
                FUZZ_CHECK(n == -ENOBUFS);
                return 0;
        }
        check_answer(&q, data, buf, n, q.udp_size, ELEMENTSOF(addrs));
        n = dns_answer_build(&q, data, DNS_RCODE_NXDOMAIN, NULL, 0, 0, buf, q.udp_size);
        check_answer(&q, data, buf, n, q.udp_size, 0);
        FUZZ_CHECK((get16(buf + 2) & 0xf) == DNS_RCODE_NXDOMAIN);
        return 0;
}
