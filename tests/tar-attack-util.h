/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/* Tar members written by hand, the way an attacker would, where libarchive's
 * writer will not: an old GNU sparse member ('S') with any apparent size and
 * any sparse map, whose data is only the map's bytes. */

#include <check.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef struct TarBuf {
        char *data;
        size_t size, allocated;
} TarBuf;

/* Grows by doubling: the sparse-map bombs are 100,000 blocks, and a
 * realloc() that copies each time (ASan's does) makes that quadratic. */
static inline void tarbuf_append(TarBuf *b, const void *p, size_t n) {
        if (b->size + n > b->allocated) {
                size_t want = b->allocated * 2 > b->size + n ? b->allocated * 2 : b->size + n + 65536;
                char *d = realloc(b->data, want);

                ck_assert_ptr_nonnull(d);
                b->data = d;
                b->allocated = want;
        }
        memcpy(b->data + b->size, p, n);
        b->size += n;
}

/* Octal when it fits, else GNU base-256 (first byte 0x80, big-endian). */
static inline void tar_num(char *field, size_t len, uint64_t v) {
        if (len < 12 || v < (UINT64_C(1) << (3 * (len - 1)))) {
                snprintf(field, len, "%0*llo", (int) len - 1, (unsigned long long) v);
                return;
        }
        memset(field, 0, len);
        field[0] = (char) 0x80;
        for (size_t i = len - 1; i > 0 && v > 0; i--, v >>= 8)
                field[i] = (char) (v & 0xff);
}

static inline void tar_checksum(char h[512]) {
        unsigned sum = 0;

        memset(h + 148, ' ', 8);
        for (size_t i = 0; i < 512; i++)
                sum += (unsigned char) h[i];
        snprintf(h + 148, 8, "%06o", sum);
        h[155] = ' ';
}

/* Appends an old GNU sparse member: apparent size realsize, the extents
 * map[i] = { offset, length } (their data, 'x' bytes, follow the header),
 * the first four in the header, the others in extension blocks of 21. */
static inline void tar_gnu_sparse(TarBuf *b, const char *name, uint64_t realsize,
                                  const uint64_t (*map)[2], size_t n) {
        char h[512] = {}, block[512];
        uint64_t data = 0;
        size_t i = 0;

        for (size_t k = 0; k < n; k++)
                data += map[k][1];
        snprintf(h, 100, "%s", name);
        tar_num(h + 100, 8, 0644);
        tar_num(h + 108, 8, 0);
        tar_num(h + 116, 8, 0);
        tar_num(h + 124, 12, data);
        tar_num(h + 136, 12, 1700000000);
        h[156] = 'S';
        memcpy(h + 257, "ustar  ", 8);
        for (; i < n && i < 4; i++) {
                tar_num(h + 386 + 24 * i, 12, map[i][0]);
                tar_num(h + 386 + 24 * i + 12, 12, map[i][1]);
        }
        h[482] = i < n;
        tar_num(h + 483, 12, realsize);
        tar_checksum(h);
        tarbuf_append(b, h, sizeof h);
        while (i < n) {
                memset(block, 0, sizeof block);
                for (size_t k = 0; k < 21 && i < n; k++, i++) {
                        tar_num(block + 24 * k, 12, map[i][0]);
                        tar_num(block + 24 * k + 12, 12, map[i][1]);
                }
                block[504] = i < n;
                tarbuf_append(b, block, sizeof block);
        }
        memset(block, 'x', sizeof block);
        for (uint64_t left = data; left > 0; left -= MIN(left, (uint64_t) sizeof block))
                tarbuf_append(b, block, sizeof block);
}

static inline void tar_end(TarBuf *b) {
        char zeros[1024] = {};

        tarbuf_append(b, zeros, sizeof zeros);
}

/* The peak memory of this process since tar_memory_mark(), in bytes: the
 * high-water mark is reset to the current size, then read again. */
static inline long tar_status_kb(const char *key) {
        FILE *f = fopen("/proc/self/status", "re");
        char line[256];
        long v = -1;

        ck_assert_ptr_nonnull(f);
        while (fgets(line, sizeof line, f))
                if (strncmp(line, key, strlen(key)) == 0)
                        v = strtol(line + strlen(key), NULL, 10);
        fclose(f);
        ck_assert_int_ge(v, 0);
        return v;
}

static inline long tar_memory_mark(void) {
        FILE *f = fopen("/proc/self/clear_refs", "we");

        ck_assert_ptr_nonnull(f);
        ck_assert_int_eq(fputs("5", f), 1);
        ck_assert_int_eq(fclose(f), 0);
        return tar_status_kb("VmRSS:");
}

static inline uint64_t tar_memory_growth(long mark_kb) {
        long peak = tar_status_kb("VmHWM:");

        return peak > mark_kb ? (uint64_t) (peak - mark_kb) * 1024 : 0;
}

/* AddressSanitizer keeps freed memory in quarantine (256 MiB) and pads
 * every allocation: resident size says nothing there, and only the plain
 * build checks the bound. The limits themselves are checked in both. */
#if defined(__SANITIZE_ADDRESS__)
#  define tar_assert_memory_below(mark, bound) ((void) (mark), (void) (bound))
#else
#  define tar_assert_memory_below(mark, bound) ck_assert_uint_lt(tar_memory_growth(mark), (bound))
#endif
