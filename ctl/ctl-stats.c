/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <getopt.h>

#include "berthctl.h"

/* berthctl stats: resource usage from the containers' scopes. systemd reports
 * UINT64_MAX for what it does not account (CPU on hybrid cgroup hosts, say),
 * and that is printed as "--". */

typedef struct StatsSample {
        char id[65];
        char name[256];
        bool ok;
        uint64_t when;            /* CLOCK_MONOTONIC, usec */
        uint64_t memory, cpu_nsec, tasks, io_read, io_write;
} StatsSample;

typedef struct StatsOptions {
        bool no_stream;
        bool all;
        char **names;
} StatsOptions;

static int read_stats(sd_bus_message *reply, StatsSample *s) {
        const char *key;
        int r;

        s->memory = s->cpu_nsec = s->tasks = s->io_read = s->io_write = UINT64_MAX;
        r = sd_bus_message_enter_container(reply, 'a', "{sv}");
        while (r >= 0 && (r = sd_bus_message_enter_container(reply, 'e', "sv")) > 0) {
                uint64_t *dst = NULL;
                r = sd_bus_message_read(reply, "s", &key);
                if (r < 0)
                        break;
                dst = streq(key, "MemoryCurrent") ? &s->memory : streq(key, "CPUUsageNSec") ? &s->cpu_nsec :
                      streq(key, "TasksCurrent") ? &s->tasks : streq(key, "IOReadBytes") ? &s->io_read :
                      streq(key, "IOWriteBytes") ? &s->io_write : NULL;
                r = dst ? sd_bus_message_read(reply, "v", "t", dst) : sd_bus_message_skip(reply, "v");
                if (r >= 0)
                        r = sd_bus_message_exit_container(reply);
        }
        if (r < 0)
                return r;
        return sd_bus_message_exit_container(reply);
}

static int sample_one(sd_bus *bus, const ContainerRow *row, StatsSample *s) {
        _cleanup_(sd_bus_message_unrefp) sd_bus_message *reply = NULL;
        int r;

        *s = (StatsSample) { .memory = UINT64_MAX, .cpu_nsec = UINT64_MAX, .tasks = UINT64_MAX,
                             .io_read = UINT64_MAX, .io_write = UINT64_MAX };
        snprintf(s->id, sizeof s->id, "%s", row->id);
        snprintf(s->name, sizeof s->name, "%s", row->name);
        if (!IN_SET_STR(row->state, "running", "paused"))
                return 0;
        r = ctl_container_call(bus, "ContainerStats", row->id, true, &reply);
        if (r == -ENOENT || r == -ESRCH)
                return 0;   /* stopped or removed meanwhile */
        if (r < 0)
                return r;
        s->when = now_usec(CLOCK_MONOTONIC);
        r = read_stats(reply, s);
        if (r < 0)
                return ctl_bad_reply(r);
        s->ok = true;
        return 0;
}

static bool row_wanted(const ContainerRow *row, char **names, bool all) {
        if (!names)
                return all || IN_SET_STR(row->state, "running", "paused");
        STRV_FOREACH(n, names)
                if (streq(row->name, *n) || (strlen(*n) >= 3 && startswith(row->id, *n)))
                        return true;
        return false;
}

static int check_names(const ContainerRow *rows, size_t n, char **names) {
        int ret = 0;

        STRV_FOREACH(name, names) {
                bool found = false;
                for (size_t i = 0; i < n && !found; i++)
                        found = row_wanted(&rows[i], (char *[]) { *name, NULL }, false);
                if (!found) {
                        fprintf(stderr, "Error: No such container: %s\n", ctl_escape(*name));
                        ret = -ENOENT;
                }
        }
        return ret;
}

/* Samples every wanted container; *ret is in the order of the list. */
static int sample_all(sd_bus *bus, const StatsOptions *o, bool first, StatsSample **ret, size_t *ret_n) {
        _cleanup_(sd_bus_message_unrefp) sd_bus_message *reply = NULL;
        _cleanup_free_ ContainerRow *rows = NULL;
        _cleanup_free_ StatsSample *s = NULL;
        size_t n = 0, k = 0;
        int r;

        r = ctl_list_containers(bus, o->names || o->all, &reply, &rows, &n);
        if (r >= 0 && first)
                r = check_names(rows, n, o->names);
        if (r < 0)
                return r;
        s = calloc(MAX(n, 1u), sizeof *s);
        if (!s)
                return ctl_oom();
        for (size_t i = 0; i < n; i++) {
                if (!row_wanted(&rows[i], o->names, o->all))
                        continue;
                r = sample_one(bus, &rows[i], &s[k++]);
                if (r < 0)
                        return r;
        }
        *ret = TAKE_PTR(s);
        *ret_n = k;
        return 0;
}

/* Docker's units.BytesSize: "3.863MiB". */
static char *format_size_iec(uint64_t bytes, char *buf, size_t n) {
        static const char *const units[] = { "B", "KiB", "MiB", "GiB", "TiB", "PiB", "EiB" };
        double v = (double) bytes;
        size_t u = 0;

        while (v >= 1024 && u + 1 < ELEMENTSOF(units)) {
                v /= 1024;
                u++;
        }
        snprintf(buf, n, "%.4g%s", v, units[u]);
        return buf;
}

static const StatsSample *find_sample(const StatsSample *s, size_t n, const char *id) {
        for (size_t i = 0; i < n; i++)
                if (streq(s[i].id, id))
                        return &s[i];
        return NULL;
}

/* Percent of one CPU between two samples; negative when unknown. */
static double cpu_percent(const StatsSample *prev, const StatsSample *cur) {
        if (!prev || !prev->ok || !cur->ok || prev->cpu_nsec == UINT64_MAX || cur->cpu_nsec == UINT64_MAX ||
            cur->when <= prev->when || cur->cpu_nsec < prev->cpu_nsec)
                return -1;
        return (double) (cur->cpu_nsec - prev->cpu_nsec) / ((double) (cur->when - prev->when) * 1000.0) * 100.0;
}

typedef struct StatsCells {
        char cpu[32], mem[32], block[80], pids[32];
} StatsCells;

static void stats_cells(const StatsSample *prev, const StatsSample *cur, StatsCells *c) {
        double cpu = cpu_percent(prev, cur);
        char r[32], w[32];

        snprintf(c->cpu, sizeof c->cpu, cpu < 0 ? "--" : "%.2f%%", cpu);
        if (cur->ok && cur->memory != UINT64_MAX)
                format_size_iec(cur->memory, c->mem, sizeof c->mem);
        else
                snprintf(c->mem, sizeof c->mem, "--");
        if (cur->ok && cur->io_read != UINT64_MAX && cur->io_write != UINT64_MAX)
                snprintf(c->block, sizeof c->block, "%s / %s", format_size_si(cur->io_read, r, sizeof r),
                         format_size_si(cur->io_write, w, sizeof w));
        else
                snprintf(c->block, sizeof c->block, "--");
        if (cur->ok && cur->tasks != UINT64_MAX)
                snprintf(c->pids, sizeof c->pids, "%llu", (unsigned long long) cur->tasks);
        else
                snprintf(c->pids, sizeof c->pids, "--");
}

static json_t *json_uint_or_null(bool ok, uint64_t v) {
        return ok && v != UINT64_MAX ? json_integer((json_int_t) v) : json_null();
}

static json_t *stats_json(const StatsSample *cur, const StatsCells *c) {
        return json_pack("{s:s,s:s,s:s,s:s,s:s,s:s,s:s,s:o,s:o,s:o,s:o,s:o}",
                         "ID", cur->id, "Name", cur->name, "CPUPerc", c->cpu, "MemUsage", c->mem,
                         "NetIO", "--", "BlockIO", c->block, "PIDs", c->pids,
                         "MemoryCurrent", json_uint_or_null(cur->ok, cur->memory),
                         "CPUUsageNSec", json_uint_or_null(cur->ok, cur->cpu_nsec),
                         "TasksCurrent", json_uint_or_null(cur->ok, cur->tasks),
                         "IOReadBytes", json_uint_or_null(cur->ok, cur->io_read),
                         "IOWriteBytes", json_uint_or_null(cur->ok, cur->io_write));
}

static int print_frame(const StatsSample *prev, size_t n_prev, const StatsSample *cur, size_t n, bool clear) {
        _cleanup_(table_freep) Table *t = table_new(7);
        json_t *json = arg_json ? json_array() : NULL;
        int r;

        if (!t || table_add_many(t, "CONTAINER ID", "NAME", "CPU %", "MEM USAGE", "NET I/O", "BLOCK I/O", "PIDS") < 0)
                return ctl_oom();
        for (size_t i = 0; i < n; i++) {
                char id[13];
                StatsCells c;
                stats_cells(find_sample(prev, n_prev, cur[i].id), &cur[i], &c);
                snprintf(id, sizeof id, "%.12s", cur[i].id);
                if (json)
                        json_array_append_new(json, stats_json(&cur[i], &c));
                else if ((r = table_add_many(t, id, cur[i].name, c.cpu, c.mem, "--", c.block, c.pids)) < 0)
                        return ctl_oom();
        }
        if (clear)
                fputs("\033[2J\033[H", stdout);
        if (json)
                ctl_print_json(json);
        else
                table_print(t, stdout);
        json_decref(json);
        fflush(stdout);
        return 0;
}

static bool any_cpu_known(const StatsSample *s, size_t n) {
        for (size_t i = 0; i < n; i++)
                if (s[i].ok && s[i].cpu_nsec != UINT64_MAX)
                        return true;
        return false;
}

static int stats_loop(sd_bus *bus, const StatsOptions *o) {
        _cleanup_free_ StatsSample *prev = NULL;
        bool clear = !o->no_stream && isatty(STDOUT_FILENO);
        size_t n_prev = 0;
        int r;

        r = sample_all(bus, o, true, &prev, &n_prev);
        if (r < 0)
                return r;
        /* CPU usage is a rate: the first frame needs a second sample. */
        if (any_cpu_known(prev, n_prev))
                (void) usleep(500 * 1000);
        for (;;) {
                _cleanup_free_ StatsSample *cur = NULL;
                size_t n = 0;

                r = sample_all(bus, o, false, &cur, &n);
                if (r >= 0)
                        r = print_frame(prev, n_prev, cur, n, clear);
                if (r < 0 || o->no_stream)
                        return r;
                free(prev);
                prev = TAKE_PTR(cur);
                n_prev = n;
                (void) sleep(1);
        }
}

int verb_stats(int argc, char *argv[]) {
        static const struct option options[] = {
                { "no-stream", no_argument, NULL, 'N' },
                { "all", no_argument, NULL, 'a' },
                {}
        };
        _cleanup_(sd_bus_flush_close_unrefp) sd_bus *bus = NULL;
        StatsOptions o = {};
        int c, r;

        while ((c = getopt_long(argc, argv, "a", options, NULL)) >= 0)
                switch (c) {
                case 'N': o.no_stream = true; break;
                case 'a': o.all = true; break;
                default: return -EINVAL;
                }
        if (optind < argc)
                o.names = argv + optind;
        r = ctl_connect(&bus);
        if (r >= 0)
                r = stats_loop(bus, &o);
        return r < 0 ? r : 0;
}
