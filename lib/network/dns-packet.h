/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/* The little of DNS (RFC 1035) the embedded resolver needs: a query's
 * header and question read from hostile bytes (a container sends them),
 * and answers built for names Berth knows. Everything else is forwarded
 * as the bytes came. */

#include "in-addr-util.h"

#define DNS_PACKET_MAX 65535
#define DNS_NAME_MAX 255

enum {
        DNS_TYPE_A = 1,
        DNS_TYPE_PTR = 12,
        DNS_TYPE_AAAA = 28,
        DNS_CLASS_IN = 1,
        DNS_RCODE_NOERROR = 0,
        DNS_RCODE_FORMERR = 1,
        DNS_RCODE_SERVFAIL = 2,
        DNS_RCODE_NXDOMAIN = 3,
        DNS_RCODE_REFUSED = 5,
};

typedef struct DnsQuestion {
        uint16_t id;
        uint16_t flags;
        char name[DNS_NAME_MAX + 1];   /* lower case, no trailing dot: "web", "web.example" */
        uint16_t qtype, qclass;
        size_t question_end;           /* offset just past the question */
        uint16_t udp_size;             /* EDNS: what the client takes over UDP (512 without) */
} DnsQuestion;

/* -EBADMSG for anything that is not one well-formed query with one
 * question (compression pointers are refused in queries). */
int dns_question_parse(const uint8_t *p, size_t n, DnsQuestion *ret);

/* An answer to q (the question copied back) with these addresses, TTL
 * ttl, or with rcode and no answers (n_addrs 0). Truncated (TC set) when it
 * does not fit max (UDP: 512, or the EDNS size). Returns the length. */
int dns_answer_build(const DnsQuestion *q, const uint8_t *query, uint16_t rcode, const InAddr *addrs,
                     size_t n_addrs, uint32_t ttl, uint8_t *buf, size_t max);
/* An upstream reply's id (to match it to the query that was forwarded). */
int dns_reply_id(const uint8_t *p, size_t n, uint16_t *ret);
