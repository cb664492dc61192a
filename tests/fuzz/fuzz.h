/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/* The libFuzzer entry points every harness defines, and what the harnesses
 * share. Each fuzz-NAME.c is linked twice: with -fsanitize=fuzzer in the
 * clang build (-Dfuzz=true), and with fuzz-main.c as a plain program that
 * replays the corpus and the regressions once, in every build. */

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
/* Optional: runs once before the first input. */
int LLVMFuzzerInitialize(int *argc, char ***argv);

/* An invariant of the parser under test broke: a crash for libFuzzer, which
 * keeps the input. Unlike assert(), never compiled out. */
#define FUZZ_CHECK(expr)                                                                 \
        do {                                                                             \
                if (!(expr)) {                                                           \
                        fprintf(stderr, "%s:%d: check failed: %s\n", __FILE__, __LINE__, \
                                #expr);                                                  \
                        abort();                                                         \
                }                                                                        \
        } while (0)

/* Where harnesses that need files make their own temporary directory:
 * $TMPDIR (tests/run.sh points it at a directory it removes afterwards,
 * so even a crashed run leaves nothing behind), else /var/tmp. */
static inline const char *fuzz_tmpdir(void) {
        const char *t = getenv("TMPDIR");

        return t && t[0] == '/' ? t : "/var/tmp";
}

/* The input as a C string (the parsers take strings; libFuzzer's buffer has
 * no terminating NUL). An embedded NUL ends the string early, as it would
 * for any caller. */
static inline char *fuzz_strndup(const uint8_t *data, size_t size) {
        char *s = strndup((const char *) data, size);

        if (!s)
                abort();
        return s;
}
