/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/* IPv4 and IPv6 addresses and prefixes: parsing (hostile input: CLI flags,
 * D-Bus arguments, state files), formatting, arithmetic inside a prefix. */

#include <netinet/in.h>

#include "util.h"

typedef struct InAddr {
        int family;                    /* AF_INET, AF_INET6; 0: none */
        union {
                struct in_addr in;
                struct in6_addr in6;
                uint8_t bytes[16];
        };
} InAddr;

typedef struct InPrefix {
        InAddr addr;                   /* the network address: host bits zero */
        unsigned prefixlen;
} InPrefix;

#define IN_ADDR_STRLEN INET6_ADDRSTRLEN
#define IN_PREFIX_STRLEN (INET6_ADDRSTRLEN + 4)

static inline bool in_addr_is_set(const InAddr *a) {
        return a && a->family != 0;
}
size_t in_addr_size(int family) _pure_;   /* 4, 16; 0 for anything else */
bool in_addr_equal(const InAddr *a, const InAddr *b) _pure_;
bool in_addr_is_loopback(const InAddr *a) _pure_;
bool in_addr_is_any(const InAddr *a) _pure_;      /* 0.0.0.0, :: */

/* "10.88.0.1", "fd00::1" ("[fd00::1]" too when brackets is true); -EINVAL. */
int in_addr_parse(const char *s, int family /* AF_UNSPEC: either */, InAddr *ret);
/* "10.88.0.0/16", "fd00:0:0:1::/64"; host bits set is -EINVAL, as in Docker. */
int in_prefix_parse(const char *s, int family, InPrefix *ret);
const char *in_addr_to_string(const InAddr *a, char buf[static IN_ADDR_STRLEN]);
const char *in_prefix_to_string(const InPrefix *p, char buf[static IN_PREFIX_STRLEN]);

bool in_prefix_contains(const InPrefix *p, const InAddr *a) _pure_;
bool in_prefix_overlaps(const InPrefix *a, const InPrefix *b) _pure_;
/* The number of addresses in p, UINT64_MAX when it does not fit. */
uint64_t in_prefix_size(const InPrefix *p) _pure_;
/* p's network address plus n: -ERANGE past its end. */
int in_prefix_nth(const InPrefix *p, uint64_t n, InAddr *ret);
/* The offset of a inside p: -ERANGE outside (or past 2^64 in). */
int in_prefix_offset(const InPrefix *p, const InAddr *a, uint64_t *ret);
/* The next prefix of the same length after p (10.89.0.0/24 -> 10.89.1.0/24): -ERANGE at the end. */
int in_prefix_next(const InPrefix *p, InPrefix *ret);
