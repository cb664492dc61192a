/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "dns-packet.h"

/* Placeholders until the module is written. */
int dns_question_parse(const uint8_t *p, size_t n, DnsQuestion *ret) { return -EBADMSG; }
int dns_answer_build(const DnsQuestion *q, const uint8_t *query, uint16_t rcode, const InAddr *addrs,
                     size_t n_addrs, uint32_t ttl, uint8_t *buf, size_t max) { return -EOPNOTSUPP; }
int dns_reply_id(const uint8_t *p, size_t n, uint16_t *ret) { return -EBADMSG; }
