/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <stdarg.h>
#include <stdio.h>
#include <sys/stat.h>
/* We pass the caller's location ourselves. */
#define SD_JOURNAL_SUPPRESS_LOCATION 1
#include <systemd/sd-journal.h>

#include "log.h"

static int max_level = LOG_INFO;
static const char *log_ident = "berth";
static int use_journal = -1;

void log_set_max_level(int level) {
        max_level = level;
}

int log_get_max_level(void) {
        return max_level;
}

void log_open(const char *ident) {
        log_ident = ident;
        use_journal = -1;
}

/* systemd sets JOURNAL_STREAM=dev:ino when stderr is connected to the journal. */
static bool stderr_is_journal(void) {
        const char *e = getenv("JOURNAL_STREAM");
        unsigned long long dev, ino;
        struct stat st;

        if (!e || sscanf(e, "%llu:%llu", &dev, &ino) != 2)
                return false;
        if (fstat(STDERR_FILENO, &st) < 0)
                return false;
        return st.st_dev == dev && st.st_ino == ino;
}

static int log_dispatch(int level, int error, const char *file, int line, const char *func,
                        char * const *fields, const char *msg) {
        struct iovec iov[16];
        char buf[10][256];
        size_t n = 0, k = 0;

        if (use_journal < 0)
                use_journal = stderr_is_journal();
        if (!use_journal) {
                fprintf(stderr, "%s\n", msg);
                return error > 0 ? -error : error;
        }

#define ADD_FIELD(...)                                                        \
        do {                                                                  \
                snprintf(buf[k], sizeof buf[k], __VA_ARGS__);                 \
                iov[n++] = (struct iovec) { buf[k], strlen(buf[k]) };         \
                k++;                                                          \
        } while (0)
        ADD_FIELD("PRIORITY=%i", level);
        ADD_FIELD("SYSLOG_IDENTIFIER=%s", log_ident);
        ADD_FIELD("CODE_FILE=%s", file);
        ADD_FIELD("CODE_LINE=%i", line);
        ADD_FIELD("CODE_FUNC=%s", func);
        if (error != 0)
                ADD_FIELD("ERRNO=%i", abs(error));
#undef ADD_FIELD
        STRV_FOREACH(f, fields)
                if (n < ELEMENTSOF(iov) - 1)
                        iov[n++] = (struct iovec) { *f, strlen(*f) };
        _cleanup_free_ char *m = strjoin("MESSAGE=", msg);
        if (m)
                iov[n++] = (struct iovec) { m, strlen(m) };
        (void) sd_journal_sendv(iov, (int) n);
        return error > 0 ? -error : error;
}

static _printf_(7, 0) int log_va(int level, int error, const char *file, int line, const char *func,
                  char * const *fields, const char *format, va_list ap) {
        char msg[2048];
        int saved = errno;

        if (error < 0)
                error = -error;
        if (level > max_level)
                return -error;
        errno = error;  /* so that %m works */
        vsnprintf(msg, sizeof msg, format, ap);
        errno = saved;
        return log_dispatch(level, error, file, line, func, fields, msg);
}

int log_internal(int level, int error, const char *file, int line, const char *func,
                 const char *format, ...) {
        va_list ap;
        int r;

        va_start(ap, format);
        r = log_va(level, error, file, line, func, NULL, format, ap);
        va_end(ap);
        return r;
}

int log_struct_internal(int level, int error, const char *file, int line, const char *func,
                        char * const *fields, const char *format, ...) {
        va_list ap;
        int r;

        va_start(ap, format);
        r = log_va(level, error, file, line, func, fields, format, ap);
        va_end(ap);
        return r;
}
