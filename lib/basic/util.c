/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <ctype.h>
#include <stdarg.h>
#include <signal.h>
#include <strings.h>
#include <time.h>

#include "util.h"

const char *startswith(const char *s, const char *prefix) {
        size_t n = strlen(prefix);
        return strncmp(s, prefix, n) == 0 ? s + n : NULL;
}

const char *endswith(const char *s, const char *suffix) {
        size_t sl = strlen(s), xl = strlen(suffix);
        if (xl > sl)
                return NULL;
        return streq(s + sl - xl, suffix) ? s + sl - xl : NULL;
}

char *strjoin_real(const char *first, ...) {
        va_list ap;
        size_t n = 0;
        char *r, *p;

        va_start(ap, first);
        for (const char *s = first; s; s = va_arg(ap, const char *))
                n += strlen(s);
        va_end(ap);

        r = p = malloc(n + 1);
        if (!r)
                return NULL;
        va_start(ap, first);
        for (const char *s = first; s; s = va_arg(ap, const char *))
                p = stpcpy(p, s);
        va_end(ap);
        *p = 0;
        return r;
}

int greedy_realloc(void **p, size_t *alloc, size_t need, size_t elem) {
        size_t n;
        void *q;

        if (need <= *alloc)
                return 0;
        n = MAX(need, MAX(*alloc * 2, (size_t) 64));
        q = reallocarray(*p, n, elem);
        if (!q)
                return -ENOMEM;
        *p = q;
        *alloc = n;
        return 0;
}

int free_and_strdup(char **p, const char *s) {
        char *c = NULL;

        if (s) {
                c = strdup(s);
                if (!c)
                        return -ENOMEM;
        }
        free(*p);
        *p = c;
        return 0;
}

char **strv_free(char **l) {
        STRV_FOREACH(s, l)
                free(*s);
        free(l);
        return NULL;
}

size_t strv_length(char * const *l) {
        size_t n = 0;
        STRV_FOREACH(s, l)
                n++;
        return n;
}

bool strv_contains(char * const *l, const char *s) {
        STRV_FOREACH(i, l)
                if (streq(*i, s))
                        return true;
        return false;
}

int strv_consume(char ***l, char *s) {
        size_t n = strv_length(*l);
        char **c;

        if (!s)
                return -ENOMEM;
        c = realloc(*l, sizeof(char *) * (n + 2));
        if (!c) {
                free(s);
                return -ENOMEM;
        }
        c[n] = s;
        c[n + 1] = NULL;
        *l = c;
        return 0;
}

int strv_extend(char ***l, const char *s) {
        return strv_consume(l, strdup(s));
}

char **strv_copy(char * const *l) {
        _cleanup_strv_free_ char **c = calloc(strv_length(l) + 1, sizeof(char *));
        size_t i = 0;

        if (!c)
                return NULL;
        STRV_FOREACH(s, l) {
                c[i] = strdup(*s);
                if (!c[i++])
                        return NULL;
        }
        return TAKE_PTR(c);
}

char *strv_join(char * const *l, const char *sep) {
        size_t n = 0, k = strlen(sep);
        char *r, *p;

        STRV_FOREACH(s, l)
                n += strlen(*s) + k;
        r = p = malloc(n + 1);
        if (!r)
                return NULL;
        *p = 0;
        STRV_FOREACH(s, l) {
                if (s != l)
                        p = stpcpy(p, sep);
                p = stpcpy(p, *s);
        }
        return r;
}

int safe_atou64(const char *s, uint64_t *ret) {
        char *end;
        unsigned long long v;

        if (isempty(s) || !isdigit((unsigned char) s[0]))
                return -EINVAL;
        errno = 0;
        v = strtoull(s, &end, 10);
        if (errno > 0)
                return -errno;
        if (*end)
                return -EINVAL;
        *ret = v;
        return 0;
}

int safe_atoi(const char *s, int *ret) {
        char *end;
        long v;

        if (isempty(s))
                return -EINVAL;
        errno = 0;
        v = strtol(s, &end, 10);
        if (errno > 0)
                return -errno;
        if (*end)
                return -EINVAL;
        if (v < INT32_MIN || v > INT32_MAX)
                return -ERANGE;
        *ret = (int) v;
        return 0;
}

int parse_boolean(const char *s) {
        static const char *const yes[] = { "1", "yes", "y", "true", "t", "on" };
        static const char *const no[] = { "0", "no", "n", "false", "f", "off" };

        for (size_t i = 0; i < ELEMENTSOF(yes); i++) {
                if (strcasecmp(s, yes[i]) == 0)
                        return 1;
                if (strcasecmp(s, no[i]) == 0)
                        return 0;
        }
        return -EINVAL;
}

/* "512", "64k", "1.5g": suffixes are powers of base (1024 or 1000). */
int parse_size(const char *s, uint64_t base, uint64_t *ret) {
        static const char suffixes[] = "kmgtpe";
        char *end;
        double v, mult = 1;
        const char *p;

        if (isempty(s) || !(isdigit((unsigned char) s[0]) || s[0] == '.'))
                return -EINVAL;
        errno = 0;
        v = strtod(s, &end);
        if (errno > 0 || v < 0)
                return -EINVAL;
        if (*end) {
                p = strchr(suffixes, tolower((unsigned char) *end));
                if (!p)
                        return -EINVAL;
                for (size_t i = 0; i <= (size_t) (p - suffixes); i++)
                        mult *= (double) base;
                end++;
                if (*end == 'b' || *end == 'B')
                        end++;
                if (*end)
                        return -EINVAL;
        }
        v *= mult;
        if (v >= 18446744073709551615.0)
                return -ERANGE;
        *ret = (uint64_t) v;
        return 0;
}

char *hexlify(const void *p, size_t n) {
        static const char digits[] = "0123456789abcdef";
        const uint8_t *b = p;
        char *r = malloc(n * 2 + 1);

        if (!r)
                return NULL;
        for (size_t i = 0; i < n; i++) {
                r[i * 2] = digits[b[i] >> 4];
                r[i * 2 + 1] = digits[b[i] & 15];
        }
        r[n * 2] = 0;
        return r;
}

bool string_is_hex(const char *s, size_t n) {
        if (strlen(s) != n)
                return false;
        for (size_t i = 0; i < n; i++)
                if (!isdigit((unsigned char) s[i]) && !(s[i] >= 'a' && s[i] <= 'f'))
                        return false;
        return true;
}

bool string_has_cc(const char *s) {
        for (const char *p = s; *p; p++)
                if ((unsigned char) *p < ' ' || *p == 127)
                        return true;
        return false;
}

/* The length of the UTF-8 character at s and its code point, 0 when the
 * bytes there are not one (cut short, overlong, a surrogate, past U+10FFFF). */
static size_t utf8_decode(const char *s, uint32_t *ret) {
        const unsigned char *u = (const unsigned char *) s;
        size_t n = u[0] < 0x80 ? 1 : u[0] < 0xc2 ? 0 : u[0] < 0xe0 ? 2 : u[0] < 0xf0 ? 3 : u[0] < 0xf5 ? 4 : 0;
        uint32_t c = n == 1 ? u[0] : u[0] & (0x7fu >> n);

        if (n == 0)
                return 0;
        for (size_t i = 1; i < n; i++) {
                if ((u[i] & 0xc0) != 0x80)      /* also where the string ends */
                        return 0;
                c = c << 6 | (u[i] & 0x3f);
        }
        if ((n == 3 && c < 0x800) || (n == 4 && (c < 0x10000 || c > 0x10ffff)) || (c >= 0xd800 && c <= 0xdfff))
                return 0;
        *ret = c;
        return n;
}

static bool is_control(uint32_t c) {
        return c < 0x20 || (c >= 0x7f && c <= 0x9f);
}

bool string_is_terminal_safe(const char *s) {
        for (size_t n; *s; s += n) {
                uint32_t c;

                /* Printable ASCII (0x20..0x7e) in one comparison: ps checks
                 * every cell of every row. */
                while ((unsigned char) (*s - 0x20) < 0x5f)
                        s++;
                if (!*s)
                        break;
                n = utf8_decode(s, &c);
                if (n == 0 || is_control(c))
                        return false;
        }
        return true;
}

char *escape_terminal(const char *s) {
        static const char named[] = { ['\a'] = 'a', ['\b'] = 'b', ['\t'] = 't', ['\n'] = 'n',
                                      ['\v'] = 'v', ['\f'] = 'f', ['\r'] = 'r' };
        size_t len = strlen(s);
        char *e, *d;

        if (string_is_terminal_safe(s))
                return strdup(s);
        /* At most 4 bytes out per byte in: "\xNN". */
        if (len > (SIZE_MAX - 1) / 4)
                return NULL;
        e = d = malloc(len * 4 + 1);
        if (!e)
                return NULL;
        for (size_t n; *s; s += n) {
                uint32_t c = 0;

                n = utf8_decode(s, &c);
                if (n == 0) {
                        d += sprintf(d, "\\x%02x", (unsigned char) *s);
                        n = 1;
                } else if (c < ELEMENTSOF(named) && named[c])
                        d += sprintf(d, "\\%c", named[c]);
                else if (c < 0x20 || c == 0x7f)
                        d += sprintf(d, "\\x%02x", (unsigned) c);
                else if (is_control(c))
                        d += sprintf(d, "\\u%04x", (unsigned) c);
                else {
                        memcpy(d, s, n);
                        d += n;
                }
        }
        *d = 0;
        return e;
}

char *escape_json_text(const char *json) {
        size_t len = strlen(json), extra = 0;
        uint32_t c = 0;
        char *e, *d;

        /* Each becomes "\u00NN": DEL 5 bytes longer, a C1 control 4. */
        for (const char *s = json; *s; s++)
                if (*s == 0x7f || (utf8_decode(s, &c) == 2 && c <= 0x9f))
                        extra += *s == 0x7f ? 5 : 4;
        e = d = malloc(len + extra + 1);
        if (!e)
                return NULL;
        for (const char *s = json; *s;) {
                size_t n = utf8_decode(s, &c);

                if (n > 0 && c >= 0x7f && c <= 0x9f) {
                        d += sprintf(d, "\\u%04x", (unsigned) c);
                        s += n;
                } else
                        *d++ = *s++;
        }
        *d = 0;
        return e;
}

uint64_t now_usec(clockid_t clock) {
        struct timespec ts;

        (void) clock_gettime(clock, &ts);
        return (uint64_t) ts.tv_sec * 1000000ULL + (uint64_t) ts.tv_nsec / 1000ULL;
}

char *format_size_si(uint64_t bytes, char *buf, size_t n) {
        static const char *const units[] = { "B", "kB", "MB", "GB", "TB", "PB", "EB" };
        double v = (double) bytes;
        size_t u = 0;

        while (v >= 1000 && u + 1 < ELEMENTSOF(units)) {
                v /= 1000;
                u++;
        }
        if (u == 0)
                snprintf(buf, n, "%lluB", (unsigned long long) bytes);
        else
                snprintf(buf, n, "%.3g%s", v, units[u]);
        return buf;
}

char *format_time_ago(uint64_t usec, uint64_t now, char *buf, size_t n) {
        static const struct { uint64_t sec; const char *name; } units[] = {
                { 365 * 86400, "year" }, { 30 * 86400, "month" }, { 7 * 86400, "week" },
                { 86400, "day" }, { 3600, "hour" }, { 60, "minute" }, { 1, "second" },
        };
        uint64_t d = usec == 0 ? UINT64_MAX : now > usec ? (now - usec) / 1000000 : 0;

        if (d == UINT64_MAX) {
                snprintf(buf, n, "N/A");
                return buf;
        }
        if (d < 1) {
                snprintf(buf, n, "Less than a second ago");
                return buf;
        }
        for (size_t i = 0; i < ELEMENTSOF(units); i++)
                if (d >= units[i].sec) {
                        uint64_t k = d / units[i].sec;
                        if (k == 1 && IN_SET(units[i].sec, 60u, 3600u))
                                snprintf(buf, n, "About a%s %s ago", units[i].sec == 3600 ? "n" : "",
                                         units[i].name);
                        else if (k == 1)
                                snprintf(buf, n, "1 %s ago", units[i].name);
                        else
                                snprintf(buf, n, "%llu %ss ago", (unsigned long long) k, units[i].name);
                        break;
                }
        return buf;
}

int format_timestamp_rfc3339(uint64_t usec, char *buf, size_t n) {
        time_t sec = (time_t) (usec / 1000000ULL);
        struct tm tm;
        char base[32];

        if (!gmtime_r(&sec, &tm) || strftime(base, sizeof base, "%Y-%m-%dT%H:%M:%S", &tm) == 0)
                return -EINVAL;
        if ((size_t) snprintf(buf, n, "%s.%06lluZ", base,
                              (unsigned long long) (usec % 1000000ULL)) >= n)
                return -ENOBUFS;
        return 0;
}

/* Accepts what image configs carry: "2024-01-02T03:04:05[.frac](Z|+hh:mm)". */
int parse_timestamp_rfc3339(const char *s, uint64_t *ret_usec) {
        struct tm tm = {};
        const char *p;
        uint64_t frac = 0, scale = 1000000;
        long offset = 0;
        time_t t;

        p = strptime(s, "%Y-%m-%dT%H:%M:%S", &tm);
        if (!p)
                return -EINVAL;
        if (*p == '.')
                for (p++; isdigit((unsigned char) *p); p++)
                        if (scale > 1) {
                                scale /= 10;
                                frac += (uint64_t) (*p - '0') * scale;
                        }
        if (*p == '+' || *p == '-') {
                int hh, mm;
                if (sscanf(p + 1, "%2d:%2d", &hh, &mm) != 2)
                        return -EINVAL;
                offset = (hh * 3600L + mm * 60L) * (*p == '-' ? -1 : 1);
                p += 6;
        } else if (*p == 'Z' || *p == 'z')
                p++;
        if (*p)
                return -EINVAL;
        t = timegm(&tm);
        if (t == (time_t) -1 || t - offset < 0)
                return -ERANGE;
        *ret_usec = (uint64_t) (t - offset) * 1000000ULL + frac;
        return 0;
}

static _Thread_local char errmsg_buf[512];

int errmsg_set(int error, const char *format, ...) {
        char buf[sizeof errmsg_buf];
        va_list ap;

        /* Format first: the arguments may point into errmsg_buf itself. */
        va_start(ap, format);
        (void) vsnprintf(buf, sizeof buf, format, ap);
        va_end(ap);
        memcpy(errmsg_buf, buf, sizeof buf);
        return error;
}

const char *errmsg_last(void) {
        return errmsg_buf[0] ? errmsg_buf : NULL;
}

void errmsg_clear(void) {
        errmsg_buf[0] = 0;
}

int signal_from_string(const char *s) {
        const char *p;
        int n;

        if (isempty(s))
                return -EINVAL;
        if (safe_atoi(s, &n) >= 0)
                return n > 0 && n < NSIG ? n : -EINVAL;
        p = startswith(s, "SIG") ?: s;
        for (int i = 1; i < SIGRTMIN; i++) {
                const char *a = sigabbrev_np(i);
                if (a && streq(a, p))
                        return i;
        }
        return -EINVAL;
}
