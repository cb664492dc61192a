/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <ctype.h>
#include <fcntl.h>
#include <getopt.h>
#include <math.h>
#include <systemd/sd-journal.h>

#include "berthctl.h"
#include "bus-util.h"

/* berthctl logs: a detached container's leader streams its stdout (PRIORITY 6)
 * and stderr (PRIORITY 3) to journald itself, so the entries carry the
 * container's scope as _SYSTEMD_UNIT and its name as SYSLOG_IDENTIFIER. */

#define LOGS_FOLLOW_POLL_USEC (250 * 1000ULL)
/* After the container exited, the last lines may still be on their way
 * through journald: wait this many quiet polls before stopping. */
#define LOGS_FOLLOW_GRACE_POLLS 2

typedef struct LogsOptions {
        bool follow;
        bool timestamps;
        uint64_t since;          /* realtime usec, 0: none */
        uint64_t until;          /* realtime usec, UINT64_MAX: none */
        int64_t tail;            /* -1: all */
} LogsOptions;

typedef struct LogsTarget {
        char *path;
        char *unit;
        char *name;
        char *id;
        uint64_t created;
} LogsTarget;

static void logs_target_clear(LogsTarget *t) {
        free(t->path);
        free(t->unit);
        free(t->name);
        free(t->id);
}

/* Go's time.ParseDuration, as docker takes "10m" or "1h30m". */
static int parse_go_duration(const char *s, uint64_t *ret_usec) {
        static const struct { const char *suffix; double usec; } units[] = {
                { "ns", 1e-3 }, { "us", 1 }, { "µs", 1 }, { "ms", 1e3 }, { "s", 1e6 }, { "m", 60e6 }, { "h", 3600e6 },
        };
        double total = 0;

        if (isempty(s))
                return -EINVAL;
        while (*s) {
                char *end;
                double v = strtod(s, &end);
                size_t i;

                if (end == s || v < 0 || !isfinite(v))
                        return -EINVAL;
                for (i = 0; i < ELEMENTSOF(units) && !startswith(end, units[i].suffix); i++)
                        ;
                if (i == ELEMENTSOF(units))
                        return -EINVAL;
                total += v * units[i].usec;
                s = end + strlen(units[i].suffix);
        }
        *ret_usec = (uint64_t) total;
        return 0;
}

/* "1700000000" or "1700000000.123456789". */
static int parse_unix_seconds(const char *s, uint64_t *ret_usec) {
        char *end;
        unsigned long long sec;
        double frac = 0;

        if (!isdigit((unsigned char) s[0]))
                return -EINVAL;
        errno = 0;
        sec = strtoull(s, &end, 10);
        if (errno != 0)
                return -EINVAL;
        if (*end == '.') {
                if (!isdigit((unsigned char) end[1]) || strspn(end + 1, "0123456789") != strlen(end + 1))
                        return -EINVAL;
                frac = strtod(end, NULL);
        } else if (*end)
                return -EINVAL;
        *ret_usec = (uint64_t) sec * 1000000ULL + (uint64_t) (frac * 1e6);
        return 0;
}

static int parse_date(const char *s, uint64_t *ret_usec) {
        struct tm tm = {};
        const char *p = strptime(s, "%Y-%m-%d", &tm);
        time_t t;

        if (!p || *p)
                return -EINVAL;
        t = timegm(&tm);
        if (t == (time_t) -1)
                return -EINVAL;
        *ret_usec = (uint64_t) t * 1000000ULL;
        return 0;
}

/* Docker's --since/--until: a duration before now, unix seconds, RFC 3339 or a date. */
static int parse_log_time(const char *s, uint64_t now, uint64_t *ret_usec) {
        uint64_t d;

        if (parse_go_duration(s, &d) >= 0) {
                *ret_usec = now > d ? now - d : 0;
                return 0;
        }
        if (parse_unix_seconds(s, ret_usec) >= 0 || parse_timestamp_rfc3339(s, ret_usec) >= 0 ||
            parse_date(s, ret_usec) >= 0)
                return 0;
        fprintf(stderr, "Error: cannot parse time '%s'; use RFC 3339 (2024-01-02T15:04:05Z), "
                "unix seconds or a duration like 10m.\n", s);
        return -EINVAL;
}

static int json_dup_string(json_t *o, const char *key, char **ret) {
        const char *s = json_string_value(json_object_get(o, key));

        if (isempty(s)) {
                fprintf(stderr, "Error: berthd did not tell the container's %s.\n", key);
                return -EBADMSG;
        }
        *ret = strdup(s);
        return *ret ? 0 : ctl_oom();
}

static int logs_target_get(sd_bus *bus, const char *name, LogsTarget *ret) {
        json_t *props = NULL;
        int r;

        r = ctl_container_path(bus, name, false, &ret->path);
        if (r < 0)
                return r;
        r = ctl_get_all_json(bus, ret->path, BERTH_CONTAINER_IFACE, &props);
        if (r >= 0)
                r = json_dup_string(props, "Unit", &ret->unit);
        if (r >= 0)
                r = json_dup_string(props, "Name", &ret->name);
        if (r >= 0)
                r = json_dup_string(props, "Id", &ret->id);
        if (r >= 0)
                ret->created = (uint64_t) json_integer_value(json_object_get(props, "Created"));
        json_decref(props);
        return r;
}

/* True once the container is neither running nor paused, or is gone. */
static bool container_finished(sd_bus *bus, const LogsTarget *t) {
        _cleanup_(sd_bus_error_free) sd_bus_error error = SD_BUS_ERROR_NULL;
        _cleanup_free_ char *state = NULL;

        if (sd_bus_get_property_string(bus, BERTH_BUS_NAME, t->path, BERTH_CONTAINER_IFACE, "State",
                                       &error, &state) < 0)
                return true;
        return !IN_SET_STR(state, "running", "paused");
}

static bool dir_has_unreadable_journal(const char *path) {
        _cleanup_closedir_ DIR *d = opendir(path);
        struct dirent *de;

        if (!d)
                return errno == EACCES;
        while ((de = readdir(d))) {
                if (!startswith(de->d_name, "system") || !endswith(de->d_name, ".journal"))
                        continue;
                if (faccessat(dirfd(d), de->d_name, R_OK, AT_EACCESS) < 0 && errno == EACCES)
                        return true;
        }
        return false;
}

/* sd_journal_open() skips files it may not read; tell why nothing shows. */
static bool journal_access_denied(void) {
        FOREACH_STRING(top, "/run/log/journal", "/var/log/journal") {
                _cleanup_closedir_ DIR *d = opendir(top);
                struct dirent *de;

                if (!d && errno == EACCES)
                        return true;
                while (d && (de = readdir(d))) {
                        _cleanup_free_ char *sub = NULL;
                        if (de->d_name[0] == '.' || de->d_type != DT_DIR)
                                continue;
                        sub = strjoin(top, "/", de->d_name);
                        if (sub && dir_has_unreadable_journal(sub))
                                return true;
                }
        }
        return false;
}

static int journal_open(sd_journal **ret) {
        _cleanup_(sd_journal_closep) sd_journal *j = NULL;
        int r;

        r = sd_journal_open(&j, SD_JOURNAL_LOCAL_ONLY | SD_JOURNAL_SYSTEM);
        if (r >= 0 && sd_journal_has_runtime_files(j) <= 0 && sd_journal_has_persistent_files(j) <= 0 &&
            journal_access_denied())
                r = -EACCES;
        if (r < 0) {
                fprintf(stderr, "Error: Cannot read the journal: %s (are you root or in the systemd-journal group?)\n",
                        strerror(-r));
                return r;
        }
        (void) sd_journal_set_data_threshold(j, 0);
        *ret = TAKE_PTR(j);
        return 0;
}

static int journal_add_matches(sd_journal *j, const LogsTarget *t) {
        _cleanup_free_ char *unit = strjoin("_SYSTEMD_UNIT=", t->unit);
        _cleanup_free_ char *ident = strjoin("SYSLOG_IDENTIFIER=", t->name);
        int r;

        _cleanup_free_ char *id = strjoin("CONTAINER_ID=", t->id);

        if (!unit || !ident || !id)
                return -ENOMEM;
        /* The container's own streams: its scope and its name. */
        r = sd_journal_add_match(j, unit, 0);
        if (r >= 0)
                r = sd_journal_add_match(j, ident, 0);
        /* Or what berthd relays from a detached terminal, sent as root. */
        if (r >= 0)
                r = sd_journal_add_disjunction(j);
        if (r >= 0)
                r = sd_journal_add_match(j, id, 0);
        if (r >= 0)
                r = sd_journal_add_match(j, "_UID=0", 0);
        return r;
}

/* Positions j so that the next sd_journal_next() returns the first entry to
 * print: the first at or after since, or the first of the last tail entries. */
static int journal_seek(sd_journal *j, uint64_t since, const LogsOptions *o) {
        _cleanup_free_ char *cursor = NULL;
        int64_t n = 0;
        uint64_t rt;
        int r;

        if (o->tail < 0)
                return sd_journal_seek_realtime_usec(j, since);
        r = o->until != UINT64_MAX ? sd_journal_seek_realtime_usec(j, o->until + 1) : sd_journal_seek_tail(j);
        while (r >= 0 && n < o->tail && (r = sd_journal_previous(j)) > 0) {
                r = sd_journal_get_realtime_usec(j, &rt);
                if (r < 0 || rt < since)
                        break;
                if (rt > o->until)
                        continue;
                free(cursor);
                cursor = NULL;
                r = sd_journal_get_cursor(j, &cursor);
                n++;
        }
        if (r < 0)
                return r;
        if (cursor)
                return sd_journal_seek_cursor(j, cursor);
        /* Nothing to show from the past: stand on the newest entry, so that
         * following shows only what comes after it. */
        if (o->tail == 0)
                (void) sd_journal_previous(j);
        return 0;
}

/* Docker's RFC3339NanoFixed, in UTC. */
static void format_timestamp_nano(uint64_t usec, char *buf, size_t n) {
        time_t sec = (time_t) (usec / 1000000ULL);
        struct tm tm;
        char base[32];

        if (!gmtime_r(&sec, &tm) || strftime(base, sizeof base, "%Y-%m-%dT%H:%M:%S", &tm) == 0)
                base[0] = 0;
        snprintf(buf, n, "%s.%06llu000Z", base, (unsigned long long) (usec % 1000000ULL));
}

/* stdout for PRIORITY 5 and above, stderr for 4 and below, as the container wrote them. */
static int print_entry(sd_journal *j, const LogsOptions *o, uint64_t rt, FILE **last) {
        const void *data;
        const char *msg;
        size_t len;
        int prio = 6, r;
        FILE *f;

        if (sd_journal_get_data(j, "PRIORITY", &data, &len) >= 0 && len == strlen("PRIORITY=") + 1)
                prio = ((const char *) data)[len - 1] - '0';
        r = sd_journal_get_data(j, "MESSAGE", &data, &len);
        if (r == -ENOENT)
                return 0;
        if (r < 0)
                return r;
        msg = (const char *) data + strlen("MESSAGE=");
        len -= strlen("MESSAGE=");
        f = prio <= 4 ? stderr : stdout;
        if (*last && *last != f)
                fflush(*last);
        *last = f;
        if (o->timestamps) {
                char ts[64];
                format_timestamp_nano(rt, ts, sizeof ts);
                fprintf(f, "%s ", ts);
        }
        fwrite(msg, 1, len, f);
        fputc('\n', f);
        return 1;
}

/* Prints what is there now; > 0 when something was printed, 0 when at the
 * end, -ESPIPE when past --until. */
static int print_available(sd_journal *j, uint64_t since, const LogsOptions *o, FILE **last) {
        bool printed = false;
        uint64_t rt;
        int r;

        while ((r = sd_journal_next(j)) > 0) {
                r = sd_journal_get_realtime_usec(j, &rt);
                if (r < 0)
                        return r;
                if (rt < since)
                        continue;
                if (rt > o->until)
                        return -ESPIPE;
                r = print_entry(j, o, rt, last);
                if (r < 0)
                        return r;
                printed = printed || r > 0;
        }
        return r < 0 ? r : printed;
}

static int logs_show(sd_journal *j, sd_bus *bus, const LogsTarget *t, const LogsOptions *o) {
        uint64_t since = MAX(t->created, o->since);
        FILE *last = NULL;
        unsigned quiet = 0;
        int r;

        r = journal_seek(j, since, o);
        while (r >= 0) {
                r = print_available(j, since, o, &last);
                fflush(stdout);
                fflush(stderr);
                if (r < 0 || !o->follow)
                        break;
                if (r > 0)
                        quiet = 0;
                else if (o->until != UINT64_MAX && now_usec(CLOCK_REALTIME) > o->until)
                        break;
                else if (container_finished(bus, t) && ++quiet > LOGS_FOLLOW_GRACE_POLLS)
                        break;
                r = sd_journal_wait(j, LOGS_FOLLOW_POLL_USEC);
        }
        if (r == -ESPIPE)
                return 0;
        if (r < 0) {
                fprintf(stderr, "Error: cannot read the journal: %s\n", strerror(-r));
                return r;
        }
        return 0;
}

static int parse_logs_options(int argc, char *argv[], LogsOptions *o) {
        static const struct option options[] = {
                { "follow", no_argument, NULL, 'f' },
                { "since", required_argument, NULL, 'S' },
                { "until", required_argument, NULL, 'U' },
                { "tail", required_argument, NULL, 'n' },
                { "timestamps", no_argument, NULL, 't' },
                { "details", no_argument, NULL, 'D' },
                {}
        };
        uint64_t now = now_usec(CLOCK_REALTIME), n;
        int c, r = 0;

        *o = (LogsOptions) { .until = UINT64_MAX, .tail = -1 };
        while (r >= 0 && (c = getopt_long(argc, argv, "fn:t", options, NULL)) >= 0)
                switch (c) {
                case 'f': o->follow = true; break;
                case 't': o->timestamps = true; break;
                case 'D': break;
                case 'S': r = parse_log_time(optarg, now, &o->since); break;
                case 'U': r = parse_log_time(optarg, now, &o->until); break;
                case 'n':
                        if (streq(optarg, "all"))
                                o->tail = -1;
                        else if (safe_atou64(optarg, &n) >= 0 && n < INT64_MAX)
                                o->tail = (int64_t) n;
                        else {
                                fprintf(stderr, "Error: --tail takes a number of lines or 'all', not '%s'.\n", optarg);
                                r = -EINVAL;
                        }
                        break;
                default: r = -EINVAL;
                }
        if (r >= 0 && optind + 1 != argc) {
                fprintf(stderr, "Usage: berthctl logs [-f] [--since TIME] [--until TIME] [-n N] [-t] CONTAINER\n");
                r = -EINVAL;
        }
        return r;
}

int verb_logs(int argc, char *argv[]) {
        _cleanup_(sd_bus_flush_close_unrefp) sd_bus *bus = NULL;
        _cleanup_(sd_journal_closep) sd_journal *j = NULL;
        _cleanup_(logs_target_clear) LogsTarget t = {};
        LogsOptions o;
        int r;

        r = parse_logs_options(argc, argv, &o);
        if (r >= 0)
                r = ctl_connect(&bus);
        if (r >= 0)
                r = logs_target_get(bus, argv[optind], &t);
        if (r >= 0)
                r = journal_open(&j);
        if (r >= 0) {
                r = journal_add_matches(j, &t);
                if (r < 0)
                        fprintf(stderr, "Error: cannot search the journal: %s\n", strerror(-r));
        }
        if (r >= 0)
                r = logs_show(j, bus, &t, &o);
        return r < 0 ? r : 0;
}
