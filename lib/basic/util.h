/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/* The small conveniences systemd keeps internal (cleanup attributes, string
 * vectors, errno helpers), written fresh for Berth. */

#include <errno.h>
#include <inttypes.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <dirent.h>
#include <time.h>

#define _cleanup_(f) __attribute__((cleanup(f)))
#define _unused_ __attribute__((unused))
#define _printf_(a, b) __attribute__((format(printf, a, b)))
#define _noreturn_ __attribute__((noreturn))
#define _pure_ __attribute__((pure))

#define USEC_PER_SEC UINT64_C(1000000)
#define USEC_PER_MSEC UINT64_C(1000)
#define STRINGIFY_(x) #x
#define STRINGIFY(x) STRINGIFY_(x)
#define ELEMENTSOF(x) (sizeof(x) / sizeof((x)[0]))
#define IN_SET(x, first, ...)                                                  \
        ({                                                                     \
                const typeof(first) _in_set_[] = { first, __VA_ARGS__ };      \
                bool _found_ = false;                                          \
                for (size_t _i_ = 0; _i_ < ELEMENTSOF(_in_set_); _i_++)        \
                        if ((x) == _in_set_[_i_]) {                            \
                                _found_ = true;                                \
                                break;                                         \
                        }                                                      \
                _found_;                                                       \
        })

#define MIN(a, b) ((a) < (b) ? (a) : (b))
#define MAX(a, b) ((a) > (b) ? (a) : (b))

/* Hand over ownership: returns the value and leaves the variable empty. */
#define TAKE_GENERIC(var, type, nullvalue)                 \
        ({                                                 \
                type *_pvar_ = &(var);                     \
                type _var_ = *_pvar_;                      \
                *_pvar_ = (nullvalue);                     \
                _var_;                                     \
        })
#define TAKE_PTR(p) TAKE_GENERIC(p, typeof(p), NULL)
#define TAKE_FD(fd) TAKE_GENERIC(fd, int, -EBADF)

#define DEFINE_TRIVIAL_CLEANUP_FUNC(type, func)            \
        static inline void func##p(type *p) {              \
                if (*p)                                    \
                        func(*p);                          \
        }

static inline void freep(void *p) {
        free(*(void **) p);
}
#define _cleanup_free_ _cleanup_(freep)

static inline void *mfree(void *p) {
        free(p);
        return NULL;
}

/* For secrets: overwritten before the memory goes back (systemd's name). */
static inline void *erase_and_free(char *s) {
        if (s)
                explicit_bzero(s, strlen(s));
        return mfree(s);
}

static inline int safe_close(int fd) {
        if (fd >= 0) {
                int saved = errno;
                (void) close(fd);
                errno = saved;
        }
        return -EBADF;
}
static inline void closep(int *fd) {
        safe_close(*fd);
}
#define _cleanup_close_ _cleanup_(closep)

static inline void fclosep(FILE **f) {
        if (*f)
                fclose(*f);
}
#define _cleanup_fclose_ _cleanup_(fclosep)

static inline void closedirp(DIR **d) {
        if (*d)
                closedir(*d);
}
#define _cleanup_closedir_ _cleanup_(closedirp)

/* Returns -errno of the last failed libc call, never 0. */
static inline int negative_errno(void) {
        return errno > 0 ? -errno : -EIO;
}

#define streq(a, b) (strcmp((a), (b)) == 0)
#define strneq(a, b, n) (strncmp((a), (b), (n)) == 0)
static inline bool streq_ptr(const char *a, const char *b) {
        if (!a || !b)
                return a == b;
        return streq(a, b);
}
static inline const char *strempty(const char *s) {
        return s ?: "";
}
static inline bool isempty(const char *s) {
        return !s || !*s;
}

const char *startswith(const char *s, const char *prefix) _pure_;
const char *endswith(const char *s, const char *suffix) _pure_;
char *strjoin_real(const char *first, ...) __attribute__((sentinel));
#define strjoin(...) strjoin_real(__VA_ARGS__, NULL)
int free_and_strdup(char **p, const char *s);
/* Makes *p hold at least need elements of elem bytes, growing by doubling
 * (64 at the least); *alloc is its size in elements. */
int greedy_realloc(void **p, size_t *alloc, size_t need, size_t elem);

/* NULL-terminated string vectors. */
typedef char **Strv;
char **strv_free(char **l);
static inline void strv_freep(char ***l) {
        strv_free(*l);
}
#define _cleanup_strv_free_ _cleanup_(strv_freep)
size_t strv_length(char * const *l) _pure_;
bool strv_contains(char * const *l, const char *s) _pure_;
int strv_extend(char ***l, const char *s);
int strv_consume(char ***l, char *s);
char **strv_copy(char * const *l);
char *strv_join(char * const *l, const char *sep);
#define IN_SET_STR(x, ...) strv_contains((char **) (const char *[]) { __VA_ARGS__, NULL }, (x))
#define FOREACH_STRING(x, ...) \
        for (const char *const *_l_ = (const char *const[]) { __VA_ARGS__, NULL }, *x = *_l_; x; x = *++_l_)
#define STRV_FOREACH(s, l) for (char * const *s = (l); s && *s; s++)
#define STRV_MAKE(...) ((char **) ((const char *[]) { __VA_ARGS__, NULL }))

/* Parsing and formatting. */
int safe_atou64(const char *s, uint64_t *ret);
int safe_atoi(const char *s, int *ret);
int parse_boolean(const char *s);
int parse_size(const char *s, uint64_t base, uint64_t *ret);
char *hexlify(const void *p, size_t n);
bool string_is_hex(const char *s, size_t n) _pure_;
bool string_has_cc(const char *s) _pure_;
/* Text from images and containers, made harmless for a terminal: the C0
 * controls and DEL become C escapes ("\n", "\t", "\x1b", "\x7f"), the C1
 * controls U+0080..U+009F (which terminals obey as CSI, OSC, ... too)
 * "\u009b", and bytes that are not UTF-8 "\xNN". Everything else stays as
 * it is, backslashes too: made to be read, not parsed back. */
char *escape_terminal(const char *s);
bool string_is_terminal_safe(const char *s) _pure_;
/* JSON text as jansson writes it, which escapes the C0 controls only, with
 * DEL and the C1 controls escaped too ("\u007f", "\u009b"): the same JSON
 * value, safe to print. Only strings can hold those, so nothing else changes. */
char *escape_json_text(const char *json);
uint64_t now_usec(clockid_t clock);
/* "4.26MB", as docker prints sizes (powers of 1000). */
char *format_size_si(uint64_t bytes, char *buf, size_t n);
/* "3 weeks ago", relative to now (both in usec since the epoch). */
char *format_time_ago(uint64_t usec, uint64_t now, char *buf, size_t n);
int format_timestamp_rfc3339(uint64_t usec, char *buf, size_t n);
int parse_timestamp_rfc3339(const char *s, uint64_t *ret_usec);

/* A string table for an enum: TYPE_to_string() and TYPE_from_string(). */
#define DEFINE_STRING_TABLE_LOOKUP(name, type)                                   \
        const char *name##_to_string(type i) {                                   \
                if (i < 0 || (size_t) i >= ELEMENTSOF(name##_table))             \
                        return NULL;                                             \
                return name##_table[i];                                          \
        }                                                                        \
        type name##_from_string(const char *s) {                                 \
                if (!s)                                                          \
                        return (type) -EINVAL;                                   \
                for (size_t i = 0; i < ELEMENTSOF(name##_table); i++)            \
                        if (name##_table[i] && streq(name##_table[i], s))        \
                                return (type) i;                                 \
                return (type) -EINVAL;                                           \
        }

/* A per-thread sentence describing the last failure, for library code that
 * must not log: errmsg_set() stores it and returns error (negative errno). */
int errmsg_set(int error, const char *format, ...) _printf_(2, 3);
const char *errmsg_last(void);
void errmsg_clear(void);

/* "SIGTERM", "TERM" or "15" -> 15; -EINVAL otherwise. */
int signal_from_string(const char *s);
