/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <arpa/inet.h>
#include <sys/socket.h>

#include "in-addr-util.h"

size_t in_addr_size(int family) {
        return family == AF_INET ? 4 : family == AF_INET6 ? 16 : 0;
}

bool in_addr_equal(const InAddr *a, const InAddr *b) {
        return a->family == b->family && memcmp(a->bytes, b->bytes, in_addr_size(a->family)) == 0;
}

bool in_addr_is_loopback(const InAddr *a) {
        if (a->family == AF_INET)
                return a->bytes[0] == 127;
        return a->family == AF_INET6 && IN6_IS_ADDR_LOOPBACK(&a->in6);
}

bool in_addr_is_any(const InAddr *a) {
        static const uint8_t zero[16];

        return in_addr_size(a->family) > 0 && memcmp(a->bytes, zero, in_addr_size(a->family)) == 0;
}

int in_addr_parse(const char *s, int family, InAddr *ret) {
        char buf[IN_ADDR_STRLEN + 2];
        InAddr a = {};
        size_t n;

        if (!s)
                return -EINVAL;
        n = strlen(s);
        if (n >= 2 && s[0] == '[' && s[n - 1] == ']') {   /* "[::1]" */
                if (n - 2 >= sizeof buf)
                        return -EINVAL;
                memcpy(buf, s + 1, n - 2);
                buf[n - 2] = 0;
                if (family == AF_INET)
                        return -EINVAL;
                family = AF_INET6;
                s = buf;
        }
        if (family != AF_INET6 && inet_pton(AF_INET, s, &a.in) == 1)
                a.family = AF_INET;
        else if (family != AF_INET && inet_pton(AF_INET6, s, &a.in6) == 1)
                a.family = AF_INET6;
        else
                return -EINVAL;
        *ret = a;
        return 0;
}

static void prefix_mask(InAddr *a, unsigned prefixlen) {
        size_t size = in_addr_size(a->family);

        for (size_t i = 0; i < size; i++) {
                unsigned bits = prefixlen >= 8 * (i + 1) ? 8 : prefixlen > 8 * i ? prefixlen - 8 * i : 0;
                a->bytes[i] &= (uint8_t) (0xff00u >> bits);
        }
}

int in_prefix_parse(const char *s, int family, InPrefix *ret) {
        _cleanup_free_ char *addr = NULL;
        const char *slash, *len;
        char *end;
        unsigned long l;
        InPrefix p = {};
        int r;

        if (!s)
                return -EINVAL;
        slash = strchr(s, '/');
        if (!slash)
                return -EINVAL;
        addr = strndup(s, slash - s);
        if (!addr)
                return -ENOMEM;
        r = in_addr_parse(addr, family, &p.addr);
        if (r < 0 || strchr(addr, '['))
                return -EINVAL;
        len = slash + 1;
        if (!*len || *len < '0' || *len > '9' || (len[0] == '0' && len[1]))
                return -EINVAL;
        errno = 0;
        l = strtoul(len, &end, 10);
        if (errno || *end || l > 8 * in_addr_size(p.addr.family))
                return -EINVAL;
        p.prefixlen = (unsigned) l;
        {
                InAddr masked = p.addr;
                prefix_mask(&masked, p.prefixlen);
                if (!in_addr_equal(&masked, &p.addr))
                        return -EINVAL;
        }
        *ret = p;
        return 0;
}

const char *in_addr_to_string(const InAddr *a, char buf[static IN_ADDR_STRLEN]) {
        if (!in_addr_is_set(a) || !inet_ntop(a->family, a->bytes, buf, IN_ADDR_STRLEN))
                buf[0] = 0;
        return buf;
}

const char *in_prefix_to_string(const InPrefix *p, char buf[static IN_PREFIX_STRLEN]) {
        char a[IN_ADDR_STRLEN];

        if (!in_addr_is_set(&p->addr))
                buf[0] = 0;
        else
                snprintf(buf, IN_PREFIX_STRLEN, "%s/%u", in_addr_to_string(&p->addr, a), p->prefixlen);
        return buf;
}

bool in_prefix_contains(const InPrefix *p, const InAddr *a) {
        InAddr masked;

        if (p->addr.family != a->family)
                return false;
        masked = *a;
        prefix_mask(&masked, p->prefixlen);
        return in_addr_equal(&masked, &p->addr);
}

bool in_prefix_overlaps(const InPrefix *a, const InPrefix *b) {
        InAddr x, y;
        unsigned len = MIN(a->prefixlen, b->prefixlen);

        if (a->addr.family != b->addr.family)
                return false;
        x = a->addr;
        y = b->addr;
        prefix_mask(&x, len);
        prefix_mask(&y, len);
        return in_addr_equal(&x, &y);
}

uint64_t in_prefix_size(const InPrefix *p) {
        unsigned host_bits = 8 * (unsigned) in_addr_size(p->addr.family) - p->prefixlen;

        return host_bits >= 64 ? UINT64_MAX : UINT64_C(1) << host_bits;
}

/* The low 64 bits of an address, big-endian, and the rest apart. */
static uint64_t addr_low64(const InAddr *a) {
        size_t size = in_addr_size(a->family), from = size > 8 ? size - 8 : 0;
        uint64_t v = 0;

        for (size_t i = from; i < size; i++)
                v = (v << 8) | a->bytes[i];
        return v;
}

static void addr_set_low64(InAddr *a, uint64_t v) {
        size_t size = in_addr_size(a->family), from = size > 8 ? size - 8 : 0;

        for (size_t i = size; i > from; i--) {
                a->bytes[i - 1] = (uint8_t) v;
                v >>= 8;
        }
}

int in_prefix_nth(const InPrefix *p, uint64_t n, InAddr *ret) {
        uint64_t size = in_prefix_size(p);
        InAddr a = p->addr;

        if (!in_addr_is_set(&a) || (size != UINT64_MAX && n >= size))
                return -ERANGE;
        /* For prefixes longer than 64 host bits only the low 64 are used. */
        addr_set_low64(&a, addr_low64(&a) + n);
        *ret = a;
        return 0;
}

int in_prefix_offset(const InPrefix *p, const InAddr *a, uint64_t *ret) {
        if (!in_prefix_contains(p, a))
                return -ERANGE;
        if (in_prefix_size(p) == UINT64_MAX) {
                /* More than 64 host bits: only addresses whose high host bits are zero. */
                InPrefix low = { .addr = *a, .prefixlen = 8 * (unsigned) in_addr_size(a->family) - 64 };
                InAddr masked = *a;
                prefix_mask(&masked, low.prefixlen);
                if (!in_addr_equal(&masked, &p->addr))
                        return -ERANGE;
        }
        *ret = addr_low64(a) - addr_low64(&p->addr);
        return 0;
}

int in_prefix_next(const InPrefix *p, InPrefix *ret) {
        InPrefix n = *p;
        size_t size = in_addr_size(p->addr.family);
        unsigned bit;

        if (p->prefixlen == 0 || size == 0)
                return -ERANGE;
        /* Add one at the last bit of the prefix, carrying. */
        bit = p->prefixlen - 1;
        for (;;) {
                uint8_t mask = (uint8_t) (0x80u >> (bit % 8));
                n.addr.bytes[bit / 8] ^= mask;
                if (n.addr.bytes[bit / 8] & mask)
                        break;
                if (bit == 0)
                        return -ERANGE;
                bit--;
        }
        *ret = n;
        return 0;
}
