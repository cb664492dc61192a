/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Scope units over sd-bus: start/stop jobs followed through JobRemoved (as
 * machined does), limits, kill, stats, state watching, freeze. */
#include <fcntl.h>
#include <signal.h>
#include <sys/stat.h>
#include <systemd/sd-event.h>

#include "bus-util.h"
#include "cgroup-util.h"
#include "fileio.h"
#include "scope.h"

#define SD_DEST "org.freedesktop.systemd1"
#define SD_PATH "/org/freedesktop/systemd1"
#define SD_MANAGER "org.freedesktop.systemd1.Manager"
#define SD_UNIT_PREFIX "/org/freedesktop/systemd1/unit"
#define FREEZER_ROOT "/sys/fs/cgroup/freezer"
#define SYSTEMD_V1_ROOT "/sys/fs/cgroup/systemd"
#define FREEZE_POLL_USEC 5000ULL
#define FREEZE_TIMEOUT_USEC (10ULL * 1000000ULL)

struct ScopeJob {
        sd_bus *bus;
        char *unit;
        char *job_path;        /* known once StartTransientUnit/StopUnit replied */
        char **early;          /* (job path, result) pairs seen before the reply */
        sd_bus_slot *match_slot;
        sd_bus_slot *call_slot;
        sd_event_source *timer;
        char *control_group;   /* v1 freeze fallback */
        bool freeze;
        uint64_t deadline;
        ScopeCallback cb;
        void *userdata;
        bool floating;
};

ScopeJob *scope_job_free(ScopeJob *j) {
        if (!j)
                return NULL;
        sd_bus_slot_unref(j->match_slot);
        sd_bus_slot_unref(j->call_slot);
        sd_event_source_disable_unref(j->timer);
        sd_bus_unref(j->bus);
        free(j->unit);
        free(j->job_path);
        strv_free(j->early);
        free(j->control_group);
        return mfree(j);
}

static int scope_job_new(sd_bus *bus, const char *unit, ScopeCallback cb, void *userdata,
                         ScopeJob **ret) {
        ScopeJob *j = calloc(1, sizeof(ScopeJob));

        if (!j)
                return -ENOMEM;
        j->bus = sd_bus_ref(bus);
        j->unit = strdup(unit);
        if (!j->unit) {
                scope_job_free(j);
                return -ENOMEM;
        }
        j->cb = cb;
        j->userdata = userdata;
        *ret = j;
        return 0;
}

/* Runs the callback exactly once. The callback may free a non-floating job,
 * so nothing touches j after it. */
static void scope_job_finish(ScopeJob *j, const char *result, int r, const sd_bus_error *error) {
        ScopeCallback cb = TAKE_PTR(j->cb);
        void *userdata = j->userdata;
        _cleanup_free_ char *res = result ? strdup(result) : NULL;

        j->match_slot = sd_bus_slot_unref(j->match_slot);
        j->call_slot = sd_bus_slot_unref(j->call_slot);
        j->timer = sd_event_source_disable_unref(j->timer);
        if (result && !res)
                r = -ENOMEM;
        if (j->floating)
                scope_job_free(j);
        if (cb)
                cb(r < 0 ? NULL : res, r, error, userdata);
}

static int match_job_removed(sd_bus_message *m, void *userdata, sd_bus_error *ret_error) {
        ScopeJob *j = userdata;
        const char *path, *unit, *result;
        uint32_t id;
        int r;

        r = sd_bus_message_read(m, "uoss", &id, &path, &unit, &result);
        if (r < 0 || !streq(unit, j->unit))
                return 0;
        if (j->job_path) {
                if (streq(path, j->job_path))
                        scope_job_finish(j, result, 0, NULL);
                return 0;
        }
        /* The signal overtook the method reply: keep it for when the reply names our job. */
        if (strv_extend(&j->early, path) < 0 || strv_extend(&j->early, result) < 0)
                scope_job_finish(j, NULL, -ENOMEM, NULL);
        return 0;
}

static int reply_job(sd_bus_message *m, void *userdata, sd_bus_error *ret_error) {
        ScopeJob *j = userdata;
        const char *path;
        int r;

        j->call_slot = sd_bus_slot_unref(j->call_slot);
        if (sd_bus_message_is_method_error(m, NULL)) {
                scope_job_finish(j, NULL, -sd_bus_message_get_errno(m), sd_bus_message_get_error(m));
                return 0;
        }
        r = sd_bus_message_read(m, "o", &path);
        if (r < 0) {
                scope_job_finish(j, NULL, r, NULL);
                return 0;
        }
        for (char **e = j->early; e && e[0] && e[1]; e += 2)
                if (streq(e[0], path)) {
                        scope_job_finish(j, e[1], 0, NULL);
                        return 0;
                }
        if (free_and_strdup(&j->job_path, path) < 0)
                scope_job_finish(j, NULL, -ENOMEM, NULL);
        return 0;
}

static int scope_job_submit(ScopeJob *j, sd_bus_message *m, bool wait_job_removed) {
        _cleanup_free_ char *rule = NULL;
        int r;

        /* The match goes out before the call, so the bus installs it before
         * systemd can possibly emit the job's JobRemoved. No arg2= filter:
         * sd-bus matches argN locally only while all earlier arguments are
         * strings, and JobRemoved starts with a "u"; match_job_removed()
         * compares the unit itself. */
        if (wait_job_removed) {
                rule = strdup("type='signal',sender='" SD_DEST "',path='" SD_PATH "',"
                              "interface='" SD_MANAGER "',member='JobRemoved'");
                if (!rule)
                        return -ENOMEM;
                r = sd_bus_add_match_async(j->bus, &j->match_slot, rule, match_job_removed, NULL, j);
                if (r < 0)
                        return r;
        }
        return sd_bus_call_async(j->bus, &j->call_slot, m,
                                 wait_job_removed ? reply_job : NULL, j, 0);
}

static int scope_job_hand_out(ScopeJob *j, ScopeJob **ret) {
        if (ret)
                *ret = j;
        else
                j->floating = true;
        return 0;
}

int scope_subscribe(sd_bus *bus) {
        /* systemd answers AlreadySubscribed to a second call; nothing to handle. */
        return sd_bus_call_method_async(bus, NULL, SD_DEST, SD_PATH, SD_MANAGER, "Subscribe",
                                        NULL, NULL, NULL);
}

int scope_start(sd_bus *bus, const char *unit, pid_t pid, const ScopeLimits *l,
                char * const *extra_props, ScopeCallback cb, void *userdata, ScopeJob **ret) {
        _cleanup_(sd_bus_message_unrefp) sd_bus_message *m = NULL;
        _cleanup_(scope_job_freep) ScopeJob *j = NULL;
        int r;

        r = scope_new_start_message(bus, unit, pid, l, extra_props, &m);
        if (r < 0)
                return r;
        r = scope_job_new(bus, unit, cb, userdata, &j);
        if (r < 0)
                return r;
        r = scope_job_submit(j, m, true);
        if (r < 0)
                return r;
        return scope_job_hand_out(TAKE_PTR(j), ret);
}

int scope_stop(sd_bus *bus, const char *unit, ScopeCallback cb, void *userdata, ScopeJob **ret) {
        _cleanup_(sd_bus_message_unrefp) sd_bus_message *m = NULL;
        _cleanup_(scope_job_freep) ScopeJob *j = NULL;
        int r;

        if (!scope_unit_name_is_valid(unit))
                return -EINVAL;
        r = sd_bus_message_new_method_call(bus, &m, SD_DEST, SD_PATH, SD_MANAGER, "StopUnit");
        if (r >= 0)
                r = sd_bus_message_append(m, "ss", unit, "fail");
        if (r >= 0)
                r = scope_job_new(bus, unit, cb, userdata, &j);
        if (r >= 0)
                r = scope_job_submit(j, m, true);
        if (r < 0)
                return r;
        return scope_job_hand_out(TAKE_PTR(j), ret);
}

static int new_set_limits_message(sd_bus *bus, const char *unit, const ScopeLimits *l,
                                  sd_bus_message **ret) {
        _cleanup_(sd_bus_message_unrefp) sd_bus_message *m = NULL;
        int r;

        if (!scope_unit_name_is_valid(unit))
                return -EINVAL;
        r = sd_bus_message_new_method_call(bus, &m, SD_DEST, SD_PATH, SD_MANAGER, "SetUnitProperties");
        if (r >= 0)
                r = sd_bus_message_append(m, "sb", unit, 1);
        if (r >= 0)
                r = sd_bus_message_open_container(m, 'a', "(sv)");
        if (r >= 0)
                r = bus_append_limit_entries(m, l, 'r');
        if (r >= 0)
                r = sd_bus_message_close_container(m);
        if (r < 0)
                return r;
        *ret = TAKE_PTR(m);
        return 0;
}

/* A single call to systemd whose reply goes to a typed callback. The
 * ScopeCall lives as long as the call's slot: a caller that keeps the slot
 * cancels the callback by freeing it. */
typedef struct ScopeCall {
        union {
                ScopeCallback done;
                ScopeStatsCallback stats;
                ScopePidsCallback pids;
        };
        void *userdata;
} ScopeCall;

static int scope_call(sd_bus *bus, sd_bus_message *m, sd_bus_message_handler_t handler, ScopeCall call,
                      sd_bus_slot **ret_slot) {
        _cleanup_(sd_bus_slot_unrefp) sd_bus_slot *slot = NULL;
        _cleanup_free_ ScopeCall *c = malloc(sizeof(ScopeCall));
        int r;

        if (!c)
                return -ENOMEM;
        *c = call;
        r = sd_bus_call_async(bus, &slot, m, handler, c, 0);
        if (r < 0)
                return r;
        (void) sd_bus_slot_set_destroy_callback(slot, free);
        TAKE_PTR(c);
        if (ret_slot) {
                *ret_slot = TAKE_PTR(slot);
                return 0;
        }
        /* Floating: the bus keeps the slot until the reply (or its timeout). */
        r = sd_bus_slot_set_floating(slot, true);
        return r < 0 ? r : 0;
}

static int reply_call_done(sd_bus_message *m, void *userdata, sd_bus_error *ret_error) {
        const ScopeCall *c = userdata;
        const sd_bus_error *e = sd_bus_message_get_error(m);

        if (c->done)
                c->done(e ? NULL : "done", e ? -sd_bus_message_get_errno(m) : 0, e, c->userdata);
        return 0;
}

int scope_set_limits(sd_bus *bus, const char *unit, const ScopeLimits *l, ScopeCallback cb, void *userdata) {
        _cleanup_(sd_bus_message_unrefp) sd_bus_message *m = NULL;
        int r;

        r = new_set_limits_message(bus, unit, l, &m);
        if (r < 0)
                return r;
        return scope_call(bus, m, reply_call_done, (ScopeCall) { .done = cb, .userdata = userdata }, NULL);
}

int scope_kill(sd_bus *bus, const char *unit, const char *whom, int sig, ScopeCallback cb, void *userdata) {
        _cleanup_(sd_bus_message_unrefp) sd_bus_message *m = NULL;
        int r;

        if (!scope_unit_name_is_valid(unit) || !(streq_ptr(whom, "all") || streq_ptr(whom, "main")) || sig <= 0 || sig >= NSIG)
                return -EINVAL;
        r = sd_bus_message_new_method_call(bus, &m, SD_DEST, SD_PATH, SD_MANAGER, "KillUnit");
        if (r >= 0)
                r = sd_bus_message_append(m, "ssi", unit, whom, (int32_t) sig);
        if (r < 0)
                return r;
        return scope_call(bus, m, reply_call_done, (ScopeCall) { .done = cb, .userdata = userdata }, NULL);
}

static int unit_object_path(const char *unit, char **ret) {
        if (!scope_unit_name_is_valid(unit))
                return -EINVAL;
        return sd_bus_path_encode(SD_UNIT_PREFIX, unit, ret);
}

int scope_stats_from_message(sd_bus_message *m, ScopeStats *ret) {
        ScopeStats s = { UINT64_MAX, UINT64_MAX, UINT64_MAX, UINT64_MAX, UINT64_MAX };
        static const struct {
                const char *name;
                size_t offset;
        } fields[] = {
                { "MemoryCurrent", offsetof(ScopeStats, memory_current) },
                { "CPUUsageNSec", offsetof(ScopeStats, cpu_usage_nsec) },
                { "TasksCurrent", offsetof(ScopeStats, tasks_current) },
                { "IOReadBytes", offsetof(ScopeStats, io_read_bytes) },
                { "IOWriteBytes", offsetof(ScopeStats, io_write_bytes) },
        };
        const char *key;
        int r;

        r = sd_bus_message_enter_container(m, 'a', "{sv}");
        if (r < 0)
                return r;
        while ((r = sd_bus_message_enter_container(m, 'e', "sv")) > 0) {
                size_t i;

                r = sd_bus_message_read(m, "s", &key);
                if (r < 0)
                        return r;
                for (i = 0; i < ELEMENTSOF(fields); i++)
                        if (streq(key, fields[i].name))
                                break;
                if (i < ELEMENTSOF(fields))
                        r = sd_bus_message_read(m, "v", "t", (uint64_t *) ((uint8_t *) &s + fields[i].offset));
                else
                        r = sd_bus_message_skip(m, "v");
                if (r < 0)
                        return r;
                r = sd_bus_message_exit_container(m);
                if (r < 0)
                        return r;
        }
        if (r < 0)
                return r;
        r = sd_bus_message_exit_container(m);
        if (r < 0)
                return r;
        *ret = s;
        return 0;
}

static int reply_call_stats(sd_bus_message *m, void *userdata, sd_bus_error *ret_error) {
        const ScopeCall *c = userdata;
        ScopeStats s = {};
        int r;

        if (sd_bus_message_is_method_error(m, NULL))
                r = -sd_bus_message_get_errno(m);
        else
                r = scope_stats_from_message(m, &s);
        c->stats(r < 0 ? NULL : &s, r, c->userdata);
        return 0;
}

int scope_get_stats(sd_bus *bus, const char *unit, ScopeStatsCallback cb, void *userdata, sd_bus_slot **ret_slot) {
        _cleanup_(sd_bus_message_unrefp) sd_bus_message *m = NULL;
        _cleanup_free_ char *path = NULL;
        int r;

        r = unit_object_path(unit, &path);
        if (r >= 0)
                r = sd_bus_message_new_method_call(bus, &m, SD_DEST, path, "org.freedesktop.DBus.Properties", "GetAll");
        if (r >= 0)
                r = sd_bus_message_append(m, "s", "org.freedesktop.systemd1.Scope");
        if (r < 0)
                return r;
        return scope_call(bus, m, reply_call_stats, (ScopeCall) { .stats = cb, .userdata = userdata }, ret_slot);
}

/* The pids of GetUnitProcesses' "a(sus)", in order. */
static int read_pids(sd_bus_message *m, pid_t **ret, size_t *ret_n) {
        _cleanup_free_ pid_t *pids = NULL;
        size_t n = 0, allocated = 0;
        const char *cg, *cmd;
        uint32_t pid;
        int r;

        r = sd_bus_message_enter_container(m, 'a', "(sus)");
        if (r < 0)
                return r;
        while ((r = sd_bus_message_read(m, "(sus)", &cg, &pid, &cmd)) > 0) {
                r = greedy_realloc((void **) &pids, &allocated, n + 1, sizeof(pid_t));
                if (r < 0)
                        return r;
                pids[n++] = (pid_t) pid;
        }
        if (r < 0)
                return r;
        *ret = TAKE_PTR(pids);
        *ret_n = n;
        return 0;
}

static int reply_call_pids(sd_bus_message *m, void *userdata, sd_bus_error *ret_error) {
        const ScopeCall *c = userdata;
        _cleanup_free_ pid_t *pids = NULL;
        size_t n = 0;
        int r;

        if (sd_bus_message_is_method_error(m, NULL))
                r = -sd_bus_message_get_errno(m);
        else
                r = read_pids(m, &pids, &n);
        c->pids(r < 0 ? NULL : pids, n, r, c->userdata);
        return 0;
}

int scope_get_pids(sd_bus *bus, const char *unit, ScopePidsCallback cb, void *userdata, sd_bus_slot **ret_slot) {
        _cleanup_(sd_bus_message_unrefp) sd_bus_message *m = NULL;
        int r;

        if (!scope_unit_name_is_valid(unit))
                return -EINVAL;
        r = sd_bus_message_new_method_call(bus, &m, SD_DEST, SD_PATH, SD_MANAGER, "GetUnitProcesses");
        if (r >= 0)
                r = sd_bus_message_append(m, "s", unit);
        if (r < 0)
                return r;
        return scope_call(bus, m, reply_call_pids, (ScopeCall) { .pids = cb, .userdata = userdata }, ret_slot);
}

static int match_unit_gone(sd_bus_message *m, void *userdata, sd_bus_error *ret_error) {
        scope_job_finish(userdata, "done", 0, NULL);
        return 0;
}

static int reply_get_unit(sd_bus_message *m, void *userdata, sd_bus_error *ret_error) {
        ScopeJob *j = userdata;

        j->call_slot = sd_bus_slot_unref(j->call_slot);
        if (sd_bus_message_is_method_error(m, "org.freedesktop.systemd1.NoSuchUnit"))
                scope_job_finish(j, "done", 0, NULL);
        else if (sd_bus_message_is_method_error(m, NULL))
                scope_job_finish(j, NULL, -sd_bus_message_get_errno(m), sd_bus_message_get_error(m));
        /* Otherwise it is still loaded: UnitRemoved will tell. */
        return 0;
}

static int on_wait_timeout(sd_event_source *s, uint64_t usec, void *userdata) {
        scope_job_finish(userdata, NULL, -ETIMEDOUT, NULL);
        return 0;
}

int scope_wait_removed(sd_bus *bus, const char *unit, uint64_t timeout_usec, ScopeCallback cb, void *userdata,
                       ScopeJob **ret) {
        _cleanup_(scope_job_freep) ScopeJob *j = NULL;
        _cleanup_free_ char *rule = NULL;
        sd_event *e = sd_bus_get_event(bus);
        int r;

        if (!scope_unit_name_is_valid(unit))
                return -EINVAL;
        if (!e)
                return -ENXIO;
        r = scope_job_new(bus, unit, cb, userdata, &j);
        if (r < 0)
                return r;
        /* The match before the question, on the same connection: the
         * removal cannot fall between the two. */
        rule = strjoin("type='signal',sender='" SD_DEST "',path='" SD_PATH "',"
                       "interface='" SD_MANAGER "',member='UnitRemoved',arg0='", unit, "'");
        if (!rule)
                return -ENOMEM;
        r = sd_bus_add_match_async(bus, &j->match_slot, rule, match_unit_gone, NULL, j);
        if (r >= 0)
                r = sd_bus_call_method_async(bus, &j->call_slot, SD_DEST, SD_PATH, SD_MANAGER, "GetUnit",
                                             reply_get_unit, j, "s", unit);
        if (r >= 0)
                r = sd_event_add_time_relative(e, &j->timer, CLOCK_MONOTONIC, timeout_usec, 0, on_wait_timeout, j);
        if (r < 0)
                return r;
        return scope_job_hand_out(TAKE_PTR(j), ret);
}

struct ScopeWatch {
        char *unit;
        sd_bus_slot *changed_slot;
        sd_bus_slot *removed_slot;
        ScopeWatchCallback cb;
        void *userdata;
};

ScopeWatch *scope_watch_free(ScopeWatch *w) {
        if (!w)
                return NULL;
        sd_bus_slot_unref(w->changed_slot);
        sd_bus_slot_unref(w->removed_slot);
        free(w->unit);
        return mfree(w);
}

static int read_state_changes(sd_bus_message *m, const char **ret_active, const char **ret_sub) {
        const char *key, *active = NULL, *sub = NULL;
        int r;

        r = sd_bus_message_enter_container(m, 'a', "{sv}");
        if (r < 0)
                return r;
        while ((r = sd_bus_message_enter_container(m, 'e', "sv")) > 0) {
                r = sd_bus_message_read(m, "s", &key);
                if (r >= 0 && streq(key, "ActiveState"))
                        r = sd_bus_message_read(m, "v", "s", &active);
                else if (r >= 0 && streq(key, "SubState"))
                        r = sd_bus_message_read(m, "v", "s", &sub);
                else if (r >= 0)
                        r = sd_bus_message_skip(m, "v");
                if (r >= 0)
                        r = sd_bus_message_exit_container(m);
                if (r < 0)
                        return r;
        }
        if (r < 0)
                return r;
        *ret_active = active;
        *ret_sub = sub;
        return 0;
}

static int match_properties_changed(sd_bus_message *m, void *userdata, sd_bus_error *ret_error) {
        ScopeWatch *w = userdata;
        const char *iface, *active, *sub;

        if (sd_bus_message_read(m, "s", &iface) < 0 || read_state_changes(m, &active, &sub) < 0)
                return 0;
        if (active || sub)
                w->cb(w->unit, active, sub, false, w->userdata);
        return 0;
}

static int match_unit_removed(sd_bus_message *m, void *userdata, sd_bus_error *ret_error) {
        ScopeWatch *w = userdata;

        w->cb(w->unit, NULL, NULL, true, w->userdata);
        return 0;
}

int scope_watch(sd_bus *bus, const char *unit, ScopeWatchCallback cb, void *userdata, ScopeWatch **ret) {
        _cleanup_(scope_watch_freep) ScopeWatch *w = NULL;
        _cleanup_free_ char *path = NULL, *changed = NULL, *removed = NULL;
        int r;

        r = unit_object_path(unit, &path);
        if (r < 0)
                return r;
        w = calloc(1, sizeof(ScopeWatch));
        if (!w)
                return -ENOMEM;
        w->unit = strdup(unit);
        changed = strjoin("type='signal',sender='" SD_DEST "',path='", path, "',"
                          "interface='org.freedesktop.DBus.Properties',member='PropertiesChanged',"
                          "arg0='org.freedesktop.systemd1.Unit'");
        removed = strjoin("type='signal',sender='" SD_DEST "',path='" SD_PATH "',"
                          "interface='" SD_MANAGER "',member='UnitRemoved',arg0='", unit, "'");
        if (!w->unit || !changed || !removed)
                return -ENOMEM;
        w->cb = cb;
        w->userdata = userdata;
        r = sd_bus_add_match_async(bus, &w->changed_slot, changed, match_properties_changed, NULL, w);
        if (r < 0)
                return r;
        r = sd_bus_add_match_async(bus, &w->removed_slot, removed, match_unit_removed, NULL, w);
        if (r < 0)
                return r;
        *ret = TAKE_PTR(w);
        return 0;
}

static char *freezer_file(const char *root, const char *cg, const char *file) {
        return strjoin(root, cg, file ? "/" : "", strempty(file));
}

int scope_v1_freezer_state(const char *root, const char *cg, char **ret) {
        _cleanup_free_ char *path = freezer_file(root, cg, "freezer.state");
        char *s;
        int r;

        if (!path)
                return -ENOMEM;
        r = read_full_file_at(AT_FDCWD, path, 64, &s, NULL);
        if (r < 0)
                return r;
        s[strcspn(s, "\n")] = 0;
        *ret = s;
        return 0;
}

int scope_v1_freezer_remove(const char *root, const char *cg) {
        _cleanup_free_ char *dir = freezer_file(root, cg, NULL);

        if (!dir)
                return -ENOMEM;
        if (rmdir(dir) < 0 && errno != ENOENT)
                return -errno;
        return 0;
}

int scope_v1_move_processes(const char *systemd_root, const char *cg, const char *target_procs) {
        _cleanup_free_ char *procs = strjoin(systemd_root, cg, "/cgroup.procs");
        _cleanup_free_ char *last = NULL;
        int r;

        if (!procs)
                return -ENOMEM;
        for (unsigned round = 0; round < 100; round++) {
                _cleanup_free_ char *list = NULL;
                char *save = NULL;

                r = read_full_file_at(AT_FDCWD, procs, 4 * 1024 * 1024, &list, NULL);
                if (r < 0)
                        return r;
                if (last && streq(last, list))
                        return 0;
                free(last);
                last = strdup(list);
                if (!last)
                        return -ENOMEM;
                for (char *t = strtok_r(list, "\n", &save); t; t = strtok_r(NULL, "\n", &save)) {
                        int pid;

                        if (safe_atoi(t, &pid) < 0)
                                continue;
                        r = write_string_file_at(AT_FDCWD, target_procs, t);
                        if (r < 0 && r != -ESRCH)
                                return r;
                }
        }
        return -EBUSY;
}

/* systemd does not manage the v1 freezer controller, so the scope's
 * processes sit in the freezer root: all of them go into a freezer cgroup of
 * the same path (made beforehand). Moved tasks freeze at once in a FROZEN
 * cgroup and cannot fork, so the passes converge. */
static int v1_freezer_migrate(const char *cg) {
        _cleanup_free_ char *target = freezer_file(FREEZER_ROOT, cg, "cgroup.procs");

        return target ? scope_v1_move_processes(SYSTEMD_V1_ROOT, cg, target) : -ENOMEM;
}

static int v1_freezer_write(const char *cg, const char *state) {
        _cleanup_free_ char *path = freezer_file(FREEZER_ROOT, cg, "freezer.state");

        return path ? write_string_file_at(AT_FDCWD, path, state) : -ENOMEM;
}

static int on_freeze_timer(sd_event_source *s, uint64_t usec, void *userdata) {
        ScopeJob *j = userdata;
        _cleanup_free_ char *state = NULL;
        int r;

        r = v1_freezer_migrate(j->control_group);
        if (r >= 0)
                r = scope_v1_freezer_state(FREEZER_ROOT, j->control_group, &state);
        if (r >= 0 && streq(state, "FROZEN")) {
                scope_job_finish(j, "done", 0, NULL);
                return 0;
        }
        if (r >= 0 && usec >= j->deadline)
                r = -ETIMEDOUT;
        if (r < 0) {
                (void) v1_freezer_write(j->control_group, "THAWED");
                scope_job_finish(j, NULL, r, NULL);
                return 0;
        }
        /* The kernel documentation asks to write FROZEN again while FREEZING. */
        (void) v1_freezer_write(j->control_group, "FROZEN");
        r = sd_event_source_set_time_relative(s, FREEZE_POLL_USEC);
        if (r >= 0)
                r = sd_event_source_set_enabled(s, SD_EVENT_ONESHOT);
        if (r < 0)
                scope_job_finish(j, NULL, r, NULL);
        return 0;
}

static int v1_freeze_begin(ScopeJob *j) {
        sd_event *e = sd_bus_get_event(j->bus);
        _cleanup_free_ char *dir = freezer_file(FREEZER_ROOT, j->control_group, NULL);
        int r;

        if (!dir)
                return -ENOMEM;
        if (!j->freeze) {
                r = v1_freezer_write(j->control_group, "THAWED");
                return r == -ENOENT ? 0 : r;
        }
        if (!e)
                return -ENXIO;
        r = mkdir_p(dir, 0755);
        if (r >= 0)
                r = v1_freezer_write(j->control_group, "FROZEN");
        if (r >= 0)
                r = v1_freezer_migrate(j->control_group);
        if (r < 0)
                return r;
        j->deadline = now_usec(CLOCK_MONOTONIC) + FREEZE_TIMEOUT_USEC;
        return sd_event_add_time_relative(e, &j->timer, CLOCK_MONOTONIC, 0, 0, on_freeze_timer, j);
}

static int reply_control_group(sd_bus_message *m, void *userdata, sd_bus_error *ret_error) {
        ScopeJob *j = userdata;
        const char *cg;
        int r;

        j->call_slot = sd_bus_slot_unref(j->call_slot);
        if (sd_bus_message_is_method_error(m, NULL)) {
                scope_job_finish(j, NULL, -sd_bus_message_get_errno(m), sd_bus_message_get_error(m));
                return 0;
        }
        r = sd_bus_message_read(m, "v", "s", &cg);
        if (r >= 0 && (isempty(cg) || cg[0] != '/' || strstr(cg, "/..")))
                r = -ESRCH;
        if (r >= 0)
                r = free_and_strdup(&j->control_group, cg);
        if (r >= 0)
                r = v1_freeze_begin(j);
        if (r < 0)
                scope_job_finish(j, NULL, r, NULL);
        else if (!j->timer)
                scope_job_finish(j, "done", 0, NULL);
        return 0;
}

static int reply_freeze(sd_bus_message *m, void *userdata, sd_bus_error *ret_error) {
        ScopeJob *j = userdata;

        j->call_slot = sd_bus_slot_unref(j->call_slot);
        if (sd_bus_message_is_method_error(m, NULL))
                scope_job_finish(j, NULL, -sd_bus_message_get_errno(m), sd_bus_message_get_error(m));
        else
                scope_job_finish(j, "done", 0, NULL);
        return 0;
}

int scope_freeze(sd_bus *bus, const char *unit, bool freeze, ScopeCallback cb, void *userdata,
                 ScopeJob **ret) {
        _cleanup_(scope_job_freep) ScopeJob *j = NULL;
        _cleanup_free_ char *path = NULL;
        int r;

        r = unit_object_path(unit, &path);
        if (r < 0)
                return r;
        r = scope_job_new(bus, unit, cb, userdata, &j);
        if (r < 0)
                return r;
        j->freeze = freeze;
        /* FreezeUnit replies only once the cgroup is frozen: no job to follow. */
        if (cgroup_detect_version(NULL) == CGROUP_VERSION_UNIFIED)
                r = sd_bus_call_method_async(bus, &j->call_slot, SD_DEST, SD_PATH, SD_MANAGER,
                                             freeze ? "FreezeUnit" : "ThawUnit",
                                             reply_freeze, j, "s", unit);
        else
                r = sd_bus_call_method_async(bus, &j->call_slot, SD_DEST, path,
                                             "org.freedesktop.DBus.Properties", "Get",
                                             reply_control_group, j, "ss",
                                             "org.freedesktop.systemd1.Scope", "ControlGroup");
        if (r < 0)
                return r;
        return scope_job_hand_out(TAKE_PTR(j), ret);
}
