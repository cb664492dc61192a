/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* scope-probe: exercises lib/scope against the real systemd on the system bus.
 * Starts berth-probe-PID.scope with limits around a sleeping child, checks the
 * unit's properties and the cgroup files, updates a limit, pauses, unpauses,
 * kills, and waits for the unit to go away. Exits non-zero on any mismatch.
 * Needs root and a systemd it may disturb (the integration sandbox). */
#include <fcntl.h>
#include <inttypes.h>
#include <signal.h>
#include <sys/wait.h>
#include <systemd/sd-event.h>

#include "cgroup-util.h"
#include "fileio.h"
#include "scope.h"

static int failures;

#define CHECK(cond, ...)                                                  \
        do {                                                              \
                if (!(cond)) {                                            \
                        fprintf(stderr, "FAIL %s:%d: ", __FILE__, __LINE__); \
                        fprintf(stderr, __VA_ARGS__);                     \
                        fputc('\n', stderr);                              \
                        failures++;                                       \
                } else                                                    \
                        fprintf(stderr, "ok   " __VA_ARGS__), fputc('\n', stderr); \
        } while (0)

typedef struct Done {
        bool done;
        int r;
        char result[32];
        bool removed;
        char active[32];
} Done;

static void on_job(const char *result, int r, const sd_bus_error *error, void *userdata) {
        Done *d = userdata;

        d->done = true;
        d->r = r;
        snprintf(d->result, sizeof d->result, "%s", strempty(result));
        if (r < 0)
                fprintf(stderr, "     job failed: %s (%s)\n", strerror(-r),
                        error && error->message ? error->message : "-");
}

static void on_watch(const char *unit, const char *active, const char *sub, bool removed, void *userdata) {
        Done *d = userdata;

        if (removed)
                d->removed = true;
        if (active)
                snprintf(d->active, sizeof d->active, "%s", active);
        fprintf(stderr, "     %s: %s %s%s\n", unit, strempty(active), strempty(sub), removed ? " removed" : "");
}

static bool run_until(sd_event *e, const bool *flag, uint64_t timeout_usec) {
        uint64_t end = now_usec(CLOCK_MONOTONIC) + timeout_usec;

        while (!*flag && now_usec(CLOCK_MONOTONIC) < end)
                if (sd_event_run(e, 100000) < 0)
                        return false;
        return *flag;
}

static uint64_t unit_u64(sd_bus *bus, const char *path, const char *prop) {
        uint64_t v = 0;
        int r = sd_bus_get_property_trivial(bus, "org.freedesktop.systemd1", path,
                                            "org.freedesktop.systemd1.Scope", prop, NULL, 't', &v);
        return r < 0 ? (uint64_t) r : v;
}

static char *cgroup_file(const char *hierarchy, const char *cg, const char *file) {
        _cleanup_free_ char *p = strjoin("/sys/fs/cgroup/", hierarchy, cg, "/", file), *s = NULL;

        if (!p || read_full_file_at(AT_FDCWD, p, 4096, &s, NULL) < 0)
                return strdup("(unreadable)");
        s[strcspn(s, "\n")] = 0;
        return TAKE_PTR(s);
}

static void check_cgroup_file(const char *hierarchy, const char *cg, const char *file, const char *want) {
        _cleanup_free_ char *v = cgroup_file(hierarchy, cg, file);

        CHECK(streq(v, want), "%s%s/%s = %s (want %s)", hierarchy, cg, file, v, want);
}

static void check_limits_files(CgroupVersion v, const char *cg, const char *tasks) {
        if (v == CGROUP_VERSION_UNIFIED) {
                check_cgroup_file("", cg, "memory.max", "67108864");
                check_cgroup_file("", cg, "pids.max", tasks);
                check_cgroup_file("", cg, "cpu.max", "50000 100000");
                check_cgroup_file("", cg, "cpu.weight", "20");
        } else {
                check_cgroup_file("memory", cg, "memory.limit_in_bytes", "67108864");
                check_cgroup_file("pids", cg, "pids.max", tasks);
                check_cgroup_file("cpu", cg, "cpu.cfs_quota_us", "50000");
                /* systemd maps weight back to shares: 20 * 1024 / 100. */
                check_cgroup_file("cpu", cg, "cpu.shares", "204");
        }
}

static pid_t spawn_sleeper(void) {
        pid_t pid = fork();

        if (pid == 0) {
                execl("/bin/sleep", "sleep", "1000", (char *) NULL);
                _exit(127);
        }
        return pid;
}

static void set_limits(ScopeLimits *l) {
        char *flags[_DOCKER_LIMIT_MAX] = {
                [DOCKER_LIMIT_MEMORY] = (char *) "64m",
                [DOCKER_LIMIT_PIDS_LIMIT] = (char *) "32",
                [DOCKER_LIMIT_CPUS] = (char *) "0.5",
                [DOCKER_LIMIT_CPU_SHARES] = (char *) "512",
                [DOCKER_LIMIT_CPUSET_CPUS] = (char *) "0",
                [DOCKER_LIMIT_BLKIO_WEIGHT] = (char *) "500",
        };

        if (limits_from_docker_flags(flags, l, NULL) < 0)
                abort();
}

typedef struct StatsDone {
        bool done;
        int r;
        ScopeStats stats;
} StatsDone;

static void on_stats(const ScopeStats *stats, int r, void *userdata) {
        StatsDone *d = userdata;

        d->done = true;
        d->r = r;
        if (stats)
                d->stats = *stats;
}

typedef struct PidsDone {
        bool done;
        int r;
        size_t n;
        pid_t first;
} PidsDone;

static void on_pids(const pid_t *pids, size_t n, int r, void *userdata) {
        PidsDone *d = userdata;

        d->done = true;
        d->r = r;
        d->n = n;
        d->first = n > 0 ? pids[0] : 0;
}

/* A second scope, stopped the graceful way: StopUnit sends KillSignal= to
 * the cgroup and the job completes once it is empty. */
static void check_stop(sd_bus *bus, sd_event *e) {
        _cleanup_free_ char *name = NULL, *unit = NULL;
        Done d = {};
        pid_t pid = spawn_sleeper();
        int status;

        if (asprintf(&name, "probe-stop-%d", (int) getpid()) < 0 || scope_unit_name(name, &unit) < 0)
                abort();
        CHECK(scope_start(bus, unit, pid, NULL, STRV_MAKE("KillSignal=SIGTERM"), on_job, &d, NULL) >= 0 &&
              run_until(e, &d.done, 30000000) && d.r >= 0 && streq(d.result, "done"), "second scope started");
        d = (Done) {};
        /* A second scope of the same name is refused (UnitExists), asynchronously. */
        CHECK(scope_start(bus, unit, getpid(), NULL, NULL, on_job, &d, NULL) >= 0 &&
              run_until(e, &d.done, 30000000) && d.r < 0, "duplicate scope refused (r=%d)", d.r);
        d = (Done) {};
        CHECK(scope_stop(bus, unit, on_job, &d, NULL) >= 0, "stop submitted");
        CHECK(run_until(e, &d.done, 30000000) && d.r >= 0 && streq(d.result, "done"), "stop job: %s", d.result);
        CHECK(waitpid(pid, &status, 0) == pid && WIFSIGNALED(status) && WTERMSIG(status) == SIGTERM,
              "child got SIGTERM");
        d = (Done) {};
        CHECK(scope_stop(bus, unit, on_job, &d, NULL) >= 0 && run_until(e, &d.done, 10000000) && d.r < 0,
              "stopping a gone unit fails (r=%d)", d.r);
}

static void check_properties(sd_bus *bus, const char *path, uint64_t tasks) {
        _cleanup_(sd_bus_error_free) sd_bus_error err = SD_BUS_ERROR_NULL;
        _cleanup_(sd_bus_message_unrefp) sd_bus_message *reply = NULL;
        const void *cpus = NULL;
        size_t n = 0;
        int r;

        CHECK(unit_u64(bus, path, "MemoryMax") == 64ULL << 20, "MemoryMax = %" PRIu64, unit_u64(bus, path, "MemoryMax"));
        CHECK(unit_u64(bus, path, "TasksMax") == tasks, "TasksMax = %" PRIu64, unit_u64(bus, path, "TasksMax"));
        CHECK(unit_u64(bus, path, "CPUQuotaPerSecUSec") == 500000, "CPUQuotaPerSecUSec = %" PRIu64,
              unit_u64(bus, path, "CPUQuotaPerSecUSec"));
        CHECK(unit_u64(bus, path, "CPUWeight") == 20, "CPUWeight = %" PRIu64, unit_u64(bus, path, "CPUWeight"));
        CHECK(unit_u64(bus, path, "IOWeight") == limits_blkio_weight_to_io_weight(500), "IOWeight = %" PRIu64,
              unit_u64(bus, path, "IOWeight"));
        r = sd_bus_get_property(bus, "org.freedesktop.systemd1", path, "org.freedesktop.systemd1.Scope",
                                "AllowedCPUs", &err, &reply, "ay");
        if (r >= 0)
                r = sd_bus_message_read_array(reply, 'y', &cpus, &n);
        /* systemd pads the mask to whole longs. */
        for (size_t i = 1; r >= 0 && i < n; i++)
                if (((const uint8_t *) cpus)[i] != 0)
                        r = -EBADMSG;
        CHECK(r >= 0 && n >= 1 && ((const uint8_t *) cpus)[0] == 1, "AllowedCPUs = 0 (r=%d n=%zu)", r, n);
}

static void check_pause(sd_bus *bus, sd_event *e, const char *unit, CgroupVersion v, const char *cg, pid_t pid) {
        Done d = {};
        _cleanup_free_ char *state = NULL;
        char path[64];

        CHECK(scope_freeze(bus, unit, true, on_job, &d, NULL) >= 0, "freeze submitted");
        CHECK(run_until(e, &d.done, 15000000) && d.r >= 0 && streq(d.result, "done"), "freeze done (%s)", d.result);
        if (v != CGROUP_VERSION_UNIFIED) {
                CHECK(scope_v1_freezer_state("/sys/fs/cgroup/freezer", cg, &state) >= 0 && streq(state, "FROZEN"),
                      "freezer.state = %s", strempty(state));
                state = mfree(state);
        } else
                check_cgroup_file("", cg, "cgroup.freeze", "1");
        snprintf(path, sizeof path, "/proc/%d/cgroup", (int) pid);
        d = (Done) {};
        CHECK(scope_freeze(bus, unit, false, on_job, &d, NULL) >= 0, "thaw submitted");
        CHECK(run_until(e, &d.done, 15000000) && d.r >= 0, "thaw done");
        if (v != CGROUP_VERSION_UNIFIED) {
                CHECK(scope_v1_freezer_state("/sys/fs/cgroup/freezer", cg, &state) >= 0 && streq(state, "THAWED"),
                      "freezer.state = %s", strempty(state));
        } else
                check_cgroup_file("", cg, "cgroup.freeze", "0");
}

static int probe(sd_bus *bus, sd_event *e) {
        _cleanup_free_ char *unit = NULL, *path = NULL, *cg = NULL, *name = NULL, *pids_file = NULL;
        _cleanup_(scope_watch_freep) ScopeWatch *w = NULL;
        sd_bus_slot *slot = NULL;
        CgroupVersion v = cgroup_detect_version(NULL);
        ScopeLimits l, u = {};
        Done d = {}, watch = {};
        StatsDone sd = {};
        PidsDone pd = {};
        pid_t pid;
        int status;

        fprintf(stderr, "     cgroup hierarchy: %s\n", cgroup_version_to_string(v));
        CHECK(asprintf(&name, "probe-%d", (int) getpid()) > 0 && scope_unit_name(name, &unit) >= 0, "unit %s", unit);
        CHECK(sd_bus_path_encode("/org/freedesktop/systemd1/unit", unit, &path) >= 0, "unit path");
        CHECK(scope_subscribe(bus) >= 0, "subscribed");
        pid = spawn_sleeper();
        set_limits(&l);
        CHECK(scope_start(bus, unit, pid, &l, STRV_MAKE("KillSignal=SIGTERM", "TimeoutStopUSec=2000000"),
                          on_job, &d, NULL) >= 0, "start submitted");
        CHECK(run_until(e, &d.done, 30000000) && d.r >= 0 && streq(d.result, "done"), "start job: %s", d.result);
        if (!d.done || d.r < 0) {
                kill(pid, SIGKILL);
                waitpid(pid, &status, 0);
                return -EIO;
        }
        CHECK(scope_watch(bus, unit, on_watch, &watch, &w) >= 0, "watching");
        CHECK(sd_bus_get_property_string(bus, "org.freedesktop.systemd1", path, "org.freedesktop.systemd1.Scope",
                                         "ControlGroup", NULL, &cg) >= 0 && endswith(cg, unit),
              "ControlGroup = %s", strempty(cg));
        check_properties(bus, path, 32);
        if (cg)
                check_limits_files(v, cg, "32");

        CHECK(scope_get_pids(bus, unit, on_pids, &pd, NULL) >= 0 && run_until(e, &pd.done, 5000000) &&
              pd.r >= 0 && pd.n == 1 && pd.first == pid, "pids = [%d] (n=%zu)", (int) pd.first, pd.n);
        CHECK(scope_get_stats(bus, unit, on_stats, &sd, NULL) >= 0 && run_until(e, &sd.done, 5000000) &&
              sd.r >= 0 && sd.stats.tasks_current == 1, "TasksCurrent = %" PRIu64, sd.stats.tasks_current);
        /* On v1 a moved process's pages stay charged where they were: 0 is fine. */
        CHECK(sd.stats.memory_current != UINT64_MAX, "MemoryCurrent = %" PRIu64, sd.stats.memory_current);
        /* systemd finds no cpuacct on v1 hosts that mount cpu and cpuacct apart. */
        if (v == CGROUP_VERSION_UNIFIED)
                CHECK(sd.stats.cpu_usage_nsec != UINT64_MAX, "CPUUsageNSec = %" PRIu64, sd.stats.cpu_usage_nsec);
        /* A caller that keeps the slot cancels the answer by freeing it. */
        sd = (StatsDone) {};
        CHECK(scope_get_stats(bus, unit, on_stats, &sd, &slot) >= 0 && slot, "stats with a slot");
        slot = sd_bus_slot_unref(slot);
        (void) run_until(e, &sd.done, 500000);
        CHECK(!sd.done, "a freed slot cancels the answer");

        CHECK(limits_set_property(&u, "TasksMax", 16) >= 0, "update parsed");
        d = (Done) {};
        CHECK(scope_set_limits(bus, unit, &u, on_job, &d) >= 0 && run_until(e, &d.done, 5000000) && d.r >= 0 &&
              streq(d.result, "done"), "SetUnitProperties: %s", d.result);
        check_properties(bus, path, 16);
        if (cg)
                check_limits_files(v, cg, "16");

        if (cg)
                check_pause(bus, e, unit, v, cg, pid);

        d = (Done) {};
        CHECK(scope_kill(bus, unit, "all", SIGKILL, on_job, &d) >= 0 && run_until(e, &d.done, 5000000) && d.r >= 0,
              "KillUnit all SIGKILL");
        CHECK(waitpid(pid, &status, 0) == pid && WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL, "child killed");
        d = (Done) {};
        CHECK(scope_wait_removed(bus, unit, 15000000, on_job, &d, NULL) >= 0 && run_until(e, &d.done, 16000000) &&
              d.r >= 0, "waited for the unit to go");
        CHECK(run_until(e, &watch.removed, 15000000), "unit removed (last state %s)", watch.active);
        d = (Done) {};
        CHECK(scope_wait_removed(bus, unit, 15000000, on_job, &d, NULL) >= 0 && run_until(e, &d.done, 1000000) &&
              d.r >= 0, "a gone unit needs no waiting");
        if (cg && v != CGROUP_VERSION_UNIFIED)
                CHECK(scope_v1_freezer_remove("/sys/fs/cgroup/freezer", cg) >= 0, "freezer cgroup removed");
        check_stop(bus, e);
        scope_limits_done(&l);
        scope_limits_done(&u);
        return 0;
}

int main(void) {
        _cleanup_(sd_bus_flush_close_unrefp) sd_bus *bus = NULL;
        _cleanup_(sd_event_unrefp) sd_event *e = NULL;
        int r;

        r = sd_bus_open_system(&bus);
        if (r >= 0)
                r = sd_event_default(&e);
        if (r >= 0)
                r = sd_bus_attach_event(bus, e, 0);
        if (r < 0) {
                fprintf(stderr, "setup: %s\n", strerror(-r));
                return 2;
        }
        r = probe(bus, e);
        fprintf(stderr, "%s: %d failure(s)\n", r < 0 || failures ? "FAIL" : "PASS", failures);
        return r < 0 || failures ? 1 : 0;
}
