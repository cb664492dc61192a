/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Queries read strictly from a container's bytes; answers built for Berth's names. */
#include <arpa/inet.h>
#include <ctype.h>
#include <sys/socket.h>

#include "dns-packet.h"

#define HEADER_SIZE 12

static uint16_t get16(const uint8_t *p) {
        return (uint16_t) ((p[0] << 8) | p[1]);
}

static void put16(uint8_t *p, uint16_t v) {
        p[0] = (uint8_t) (v >> 8);
        p[1] = (uint8_t) v;
}

static int parse_name(const uint8_t *p, size_t n, size_t *off, char name[static DNS_NAME_MAX + 1]) {
        size_t i = *off, out = 0, wire = 0;

        for (;;) {
                uint8_t len;

                if (i >= n)
                        return -EBADMSG;
                len = p[i++];
                wire += 1 + len;
                if (len == 0)
                        break;
                /* No pointers in a question; 255 bytes at most, the final zero included. */
                if (len > 63 || wire + 1 > DNS_NAME_MAX || i + len > n)
                        return -EBADMSG;
                if (out > 0)
                        name[out++] = '.';
                for (size_t k = 0; k < len; k++) {
                        unsigned char c = p[i + k];
                        /* Names Berth knows are container names: anything else is forwarded as it came. */
                        name[out++] = (char) (c == '.' || c < 0x21 || c > 0x7e ? '?' : tolower(c));
                }
                i += len;
        }
        name[out] = 0;
        *off = i;
        return 0;
}

/* An EDNS OPT record in the additional section: its UDP size. */
static int parse_opt(const uint8_t *p, size_t n, size_t off, uint16_t arcount, uint16_t *udp_size) {
        *udp_size = 512;
        if (arcount == 0)
                return off == n ? 0 : -EBADMSG;
        if (arcount != 1 || off + 11 > n || p[off] != 0 || get16(p + off + 1) != 41)
                return -EBADMSG;
        if (off + 11 + get16(p + off + 9) != n)
                return -EBADMSG;
        *udp_size = get16(p + off + 3);
        if (*udp_size < 512)
                *udp_size = 512;
        if (*udp_size > 4096)
                *udp_size = 4096;
        return 0;
}

int dns_question_parse(const uint8_t *p, size_t n, DnsQuestion *ret) {
        DnsQuestion q = {};
        size_t off = HEADER_SIZE;
        int r;

        if (!p || n < HEADER_SIZE || n > DNS_PACKET_MAX)
                return -EBADMSG;
        q.id = get16(p);
        q.flags = get16(p + 2);
        if ((q.flags & 0x8000) || ((q.flags >> 11) & 0xf) != 0 || get16(p + 4) != 1 || get16(p + 6) != 0 ||
            get16(p + 8) != 0)
                return -EBADMSG;
        r = parse_name(p, n, &off, q.name);
        if (r < 0 || off + 4 > n)
                return -EBADMSG;
        q.qtype = get16(p + off);
        q.qclass = get16(p + off + 2);
        q.question_end = off + 4;
        r = parse_opt(p, n, q.question_end, get16(p + 10), &q.udp_size);
        if (r < 0)
                return r;
        *ret = q;
        return 0;
}

int dns_answer_build(const DnsQuestion *q, const uint8_t *query, uint16_t rcode, const InAddr *addrs,
                     size_t n_addrs, uint32_t ttl, uint8_t *buf, size_t max) {
        size_t off = q->question_end, n_ans = 0;
        uint16_t flags;

        if (max < q->question_end || q->question_end < HEADER_SIZE)
                return -ENOBUFS;
        memcpy(buf, query, q->question_end);
        /* QR, the opcode and RD as asked, RA; AA for our own names. */
        flags = (uint16_t) (0x8000 | (q->flags & 0x0100) | 0x0080 | (rcode & 0xf) | (n_addrs > 0 || rcode == 0 ? 0x0400 : 0));
        for (size_t i = 0; i < n_addrs; i++) {
                size_t len = in_addr_size(addrs[i].family);

                if (off + 12 + len > max) {
                        flags |= 0x0200;   /* TC */
                        break;
                }
                put16(buf + off, 0xc00c);  /* the name: the question's */
                put16(buf + off + 2, addrs[i].family == AF_INET6 ? DNS_TYPE_AAAA : DNS_TYPE_A);
                put16(buf + off + 4, DNS_CLASS_IN);
                put16(buf + off + 6, (uint16_t) (ttl >> 16));
                put16(buf + off + 8, (uint16_t) ttl);
                put16(buf + off + 10, (uint16_t) len);
                memcpy(buf + off + 12, addrs[i].bytes, len);
                off += 12 + len;
                n_ans++;
        }
        put16(buf + 2, flags);
        put16(buf + 4, 1);
        put16(buf + 6, (uint16_t) n_ans);
        put16(buf + 8, 0);
        put16(buf + 10, 0);
        return (int) off;
}

int dns_reply_id(const uint8_t *p, size_t n, uint16_t *ret) {
        if (n < HEADER_SIZE || !(p[2] & 0x80))
                return -EBADMSG;
        *ret = get16(p);
        return 0;
}
