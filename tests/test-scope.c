/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <check.h>
#include <fcntl.h>
#include <signal.h>
#include <sys/socket.h>

#include "cgroup-util.h"
#include "fileio.h"
#include "scope.h"

START_TEST(test_unit_names) {
        _cleanup_free_ char *u = NULL;

        ck_assert_int_eq(scope_unit_name("web_1.a-b", &u), 0);
        ck_assert_str_eq(u, "berth-web_1.a-b.scope");
        ck_assert(scope_unit_name_is_valid(u));
        ck_assert_int_eq(scope_unit_name("-x", &u), -EINVAL);
        ck_assert_int_eq(scope_unit_name("a/b", &u), -EINVAL);
        ck_assert_int_eq(scope_unit_name("", &u), -EINVAL);
        ck_assert(!scope_unit_name_is_valid("berth-.scope"));
        ck_assert(!scope_unit_name_is_valid("foo-x.scope"));
        ck_assert(!scope_unit_name_is_valid("berth-x.service"));
        ck_assert(!scope_unit_name_is_valid("berth-a'b.scope"));
        ck_assert(!scope_unit_name_is_valid(NULL));
}
END_TEST

/* A fake systemd on the other end of a socketpair: real marshalling, and
 * full control over the order of replies and signals. */

typedef struct Pair {
        sd_bus *client;
        sd_bus *server;
        sd_bus_message *last_call;
} Pair;

static int server_filter(sd_bus_message *m, void *userdata, sd_bus_error *ret_error) {
        Pair *p = userdata;

        if (sd_bus_message_get_type(m, &(uint8_t) { 0 }) >= 0 &&
            sd_bus_message_is_method_call(m, NULL, NULL)) {
                sd_bus_message_unref(p->last_call);
                p->last_call = sd_bus_message_ref(m);
                return 1;   /* handled: no automatic UnknownObject error */
        }
        return 0;
}

static void pump(Pair *p) {
        for (int i = 0; i < 200; i++) {
                int a = sd_bus_process(p->client, NULL);
                int b = sd_bus_process(p->server, NULL);
                ck_assert_int_ge(a, 0);
                ck_assert_int_ge(b, 0);
                if (a == 0 && b == 0) {
                        (void) sd_bus_flush(p->client);
                        (void) sd_bus_flush(p->server);
                        if (sd_bus_process(p->client, NULL) == 0 && sd_bus_process(p->server, NULL) == 0)
                                return;
                }
        }
}

static void pair_init(Pair *p) {
        int fds[2];
        sd_id128_t id;

        *p = (Pair) {};
        ck_assert_int_eq(socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0, fds), 0);
        ck_assert_int_eq(sd_id128_randomize(&id), 0);
        ck_assert_int_eq(sd_bus_new(&p->server), 0);
        ck_assert_int_eq(sd_bus_set_fd(p->server, fds[1], fds[1]), 0);
        ck_assert_int_eq(sd_bus_set_server(p->server, 1, id), 0);
        ck_assert_int_eq(sd_bus_set_anonymous(p->server, 1), 0);
        ck_assert_int_eq(sd_bus_add_filter(p->server, NULL, server_filter, p), 0);
        ck_assert_int_eq(sd_bus_start(p->server), 0);
        ck_assert_int_eq(sd_bus_new(&p->client), 0);
        ck_assert_int_eq(sd_bus_set_fd(p->client, fds[0], fds[0]), 0);
        ck_assert_int_eq(sd_bus_start(p->client), 0);
        pump(p);
}

static void pair_done(Pair *p) {
        sd_bus_message_unref(p->last_call);
        sd_bus_flush_close_unref(p->client);
        sd_bus_flush_close_unref(p->server);
}

static void send_from_systemd(Pair *p, sd_bus_message *m) {
        ck_assert_int_eq(sd_bus_message_set_sender(m, "org.freedesktop.systemd1"), 0);
        ck_assert_int_ge(sd_bus_send(p->server, m, NULL), 0);
}

static void reply_job_path(Pair *p, const char *job) {
        _cleanup_(sd_bus_message_unrefp) sd_bus_message *r = NULL;

        ck_assert_ptr_nonnull(p->last_call);
        ck_assert_int_eq(sd_bus_message_new_method_return(p->last_call, &r), 0);
        ck_assert_int_ge(sd_bus_message_append(r, "o", job), 0);
        send_from_systemd(p, r);
}

static void emit_job_removed(Pair *p, uint32_t id, const char *job, const char *unit, const char *result) {
        _cleanup_(sd_bus_message_unrefp) sd_bus_message *s = NULL;

        ck_assert_int_eq(sd_bus_message_new_signal(p->server, &s, "/org/freedesktop/systemd1",
                                                   "org.freedesktop.systemd1.Manager", "JobRemoved"), 0);
        ck_assert_int_ge(sd_bus_message_append(s, "uoss", id, job, unit, result), 0);
        send_from_systemd(p, s);
}

typedef struct Outcome {
        int calls;
        int r;
        char result[32];
        char error[128];
} Outcome;

static void on_job(const char *result, int r, const sd_bus_error *error, void *userdata) {
        Outcome *o = userdata;

        o->calls++;
        o->r = r;
        snprintf(o->result, sizeof o->result, "%s", strempty(result));
        snprintf(o->error, sizeof o->error, "%s", error && error->name ? error->name : "");
}

#define UNIT "berth-test.scope"
#define JOB "/org/freedesktop/systemd1/job/42"

static void check_start_call(sd_bus_message *m) {
        const char *name, *mode, *key, *slice = NULL, *policy = NULL, *dev = NULL, *perm = NULL;
        uint64_t memory_max = 0, tasks_max = 0, quota = 0, weight = 0, swap = 0;
        const void *cpus = NULL;
        size_t n_cpus = 0;
        int pids = 0, delegate = -1, cpu_accounting = -1;

        ck_assert(sd_bus_message_is_method_call(m, "org.freedesktop.systemd1.Manager", "StartTransientUnit"));
        ck_assert_int_eq(sd_bus_message_read(m, "ss", &name, &mode), 1);
        ck_assert_str_eq(name, UNIT);
        ck_assert_str_eq(mode, "fail");
        ck_assert_int_eq(sd_bus_message_enter_container(m, 'a', "(sv)"), 1);
        while (sd_bus_message_enter_container(m, 'r', "sv") > 0) {
                ck_assert_int_eq(sd_bus_message_read(m, "s", &key), 1);
                if (streq(key, "Slice"))
                        ck_assert_int_eq(sd_bus_message_read(m, "v", "s", &slice), 1);
                else if (streq(key, "MemoryMax"))
                        ck_assert_int_eq(sd_bus_message_read(m, "v", "t", &memory_max), 1);
                else if (streq(key, "MemorySwapMax"))
                        ck_assert_int_eq(sd_bus_message_read(m, "v", "t", &swap), 1);
                else if (streq(key, "TasksMax"))
                        ck_assert_int_eq(sd_bus_message_read(m, "v", "t", &tasks_max), 1);
                else if (streq(key, "CPUQuotaPerSecUSec"))
                        ck_assert_int_eq(sd_bus_message_read(m, "v", "t", &quota), 1);
                else if (streq(key, "CPUWeight"))
                        ck_assert_int_eq(sd_bus_message_read(m, "v", "t", &weight), 1);
                else if (streq(key, "DelegateControllers")) {
                        /* Delegated (AttachProcessesToUnit works), but no
                         * controller beyond what the limits need. */
                        ck_assert_int_eq(sd_bus_message_enter_container(m, 'v', "as"), 1);
                        ck_assert_int_eq(sd_bus_message_enter_container(m, 'a', "s"), 1);
                        for (delegate = 0; sd_bus_message_read(m, "s", &key) > 0; delegate++)
                                ;
                        ck_assert_int_eq(sd_bus_message_exit_container(m), 1);
                        ck_assert_int_eq(sd_bus_message_exit_container(m), 1);
                } else if (streq(key, "Delegate") || streq(key, "IOAccounting"))
                        ck_abort_msg("%s: every controller on v1", key);
                else if (streq(key, "CPUAccounting"))
                        ck_assert_int_eq(sd_bus_message_read(m, "v", "b", &cpu_accounting), 1);
                else if (streq(key, "DevicePolicy"))
                        ck_assert_int_eq(sd_bus_message_read(m, "v", "s", &policy), 1);
                else if (streq(key, "DeviceAllow"))
                        ck_assert_int_eq(sd_bus_message_read(m, "v", "a(ss)", 1, &dev, &perm), 1);
                else if (streq(key, "AllowedCPUs")) {
                        ck_assert_int_eq(sd_bus_message_enter_container(m, 'v', "ay"), 1);
                        ck_assert_int_eq(sd_bus_message_read_array(m, 'y', &cpus, &n_cpus), 1);
                        ck_assert_int_eq(sd_bus_message_exit_container(m), 1);
                } else if (streq(key, "PIDs")) {
                        uint32_t pid;
                        ck_assert_int_eq(sd_bus_message_enter_container(m, 'v', "au"), 1);
                        ck_assert_int_eq(sd_bus_message_enter_container(m, 'a', "u"), 1);
                        while (sd_bus_message_read(m, "u", &pid) > 0) {
                                ck_assert_uint_eq(pid, 4242);
                                pids++;
                        }
                        ck_assert_int_eq(sd_bus_message_exit_container(m), 1);
                        ck_assert_int_eq(sd_bus_message_exit_container(m), 1);
                } else
                        ck_assert_int_ge(sd_bus_message_skip(m, "v"), 0);
                ck_assert_int_eq(sd_bus_message_exit_container(m), 1);
        }
        ck_assert_str_eq(slice, "berth.slice");
        ck_assert_uint_eq(memory_max, 256ULL << 20);
        ck_assert_uint_eq(swap, 256ULL << 20);
        ck_assert_uint_eq(tasks_max, 64);
        ck_assert_uint_eq(quota, 500000);
        ck_assert_uint_eq(weight, limits_cpu_shares_to_weight(2048));
        ck_assert_int_eq(delegate, 0);
        ck_assert_int_eq(cpu_accounting, 1);   /* once, from the caller */
        ck_assert_int_eq(pids, 1);
        ck_assert_uint_eq(n_cpus, 1);
        ck_assert_uint_eq(((const uint8_t *) cpus)[0], 0x03);
        ck_assert_str_eq(policy, "strict");
        ck_assert_str_eq(dev, "char-*");
        ck_assert_str_eq(perm, "m");
}

static void test_limits_fill(ScopeLimits *l) {
        char *flags[_DOCKER_LIMIT_MAX] = {
                [DOCKER_LIMIT_MEMORY] = (char *) "256m",
                [DOCKER_LIMIT_PIDS_LIMIT] = (char *) "64",
                [DOCKER_LIMIT_CPUS] = (char *) "0.5",
                [DOCKER_LIMIT_CPU_SHARES] = (char *) "2048",
                [DOCKER_LIMIT_CPUSET_CPUS] = (char *) "0-1",
        };

        ck_assert_int_eq(limits_from_docker_flags(flags, l, NULL), 0);
}

/* CPUAccounting only where systemd can read the counter back: on v1 that
 * needs cpu and cpuacct to be one hierarchy (the usual "cpu,cpuacct" with
 * two symlinks to it), not two mounts side by side. */
START_TEST(test_cpu_accounting_readable) {
        char root[] = "/tmp/berth-test-cgroup.XXXXXX";
        _cleanup_free_ char *cg = NULL, *cpu = NULL, *cpuacct = NULL, *both = NULL;

        ck_assert_ptr_nonnull(mkdtemp(root));
        cg = strjoin(root, "/sys/fs/cgroup");
        cpu = strjoin(cg, "/cpu");
        cpuacct = strjoin(cg, "/cpuacct");
        both = strjoin(cg, "/cpu,cpuacct");
        ck_assert_int_eq(mkdir_p(cpu, 0755), 0);
        ck_assert_int_eq(mkdir_p(cpuacct, 0755), 0);
        ck_assert(!cgroup_cpu_accounting_readable(root, CGROUP_VERSION_HYBRID));
        ck_assert(!cgroup_cpu_accounting_readable(root, CGROUP_VERSION_LEGACY));
        ck_assert(cgroup_cpu_accounting_readable(root, CGROUP_VERSION_UNIFIED));
        ck_assert_int_eq(rmdir(cpu), 0);
        ck_assert_int_eq(rmdir(cpuacct), 0);
        ck_assert_int_eq(mkdir_p(both, 0755), 0);
        ck_assert_int_eq(symlink("cpu,cpuacct", cpu), 0);
        ck_assert_int_eq(symlink("cpu,cpuacct", cpuacct), 0);
        ck_assert(cgroup_cpu_accounting_readable(root, CGROUP_VERSION_HYBRID));
        ck_assert_int_eq(rm_rf_at(AT_FDCWD, root), 0);
}
END_TEST

START_TEST(test_start_message) {
        ScopeLimits l;
        Pair p;
        Outcome o = {};
        _cleanup_(scope_job_freep) ScopeJob *j = NULL;
        char *bad[] = { (char *) "Bogus=1", NULL };
        char *bad_dev[] = { (char *) "DeviceAllow=/dev/null", NULL };
        char *extra[] = { (char *) "KillSignal=SIGINT", (char *) "TimeoutStopUSec=5000000",
                          (char *) "DevicePolicy=strict", (char *) "DeviceAllow=char-* m",
                          (char *) "CPUAccounting=yes", NULL };
        sd_bus_message *m = NULL;

        pair_init(&p);
        test_limits_fill(&l);
        ck_assert_int_eq(scope_new_start_message(p.client, UNIT, 4242, &l, bad, &m), -EINVAL);
        ck_assert_int_eq(scope_new_start_message(p.client, UNIT, 4242, &l, bad_dev, &m), -EINVAL);
        ck_assert_int_eq(scope_new_start_message(p.client, "x.service", 4242, &l, NULL, &m), -EINVAL);
        ck_assert_int_eq(scope_start(p.client, UNIT, 4242, &l, extra, on_job, &o, &j), 0);
        pump(&p);
        check_start_call(p.last_call);
        ck_assert_int_eq(o.calls, 0);
        scope_limits_done(&l);
        pair_done(&p);
}
END_TEST

START_TEST(test_job_reply_then_signal) {
        Pair p;
        Outcome o = {};
        _cleanup_(scope_job_freep) ScopeJob *j = NULL;

        pair_init(&p);
        ck_assert_int_eq(scope_stop(p.client, UNIT, on_job, &o, &j), 0);
        pump(&p);
        ck_assert(sd_bus_message_is_method_call(p.last_call, NULL, "StopUnit"));
        reply_job_path(&p, JOB);
        pump(&p);
        ck_assert_int_eq(o.calls, 0);
        emit_job_removed(&p, 41, "/org/freedesktop/systemd1/job/41", UNIT, "canceled");
        emit_job_removed(&p, 42, JOB, "berth-other.scope", "failed");
        pump(&p);
        ck_assert_int_eq(o.calls, 0);
        emit_job_removed(&p, 42, JOB, UNIT, "done");
        pump(&p);
        ck_assert_int_eq(o.calls, 1);
        ck_assert_int_eq(o.r, 0);
        ck_assert_str_eq(o.result, "done");
        emit_job_removed(&p, 42, JOB, UNIT, "failed");
        pump(&p);
        ck_assert_int_eq(o.calls, 1);
        pair_done(&p);
}
END_TEST

START_TEST(test_job_signal_before_reply) {
        Pair p;
        Outcome o = {};
        ScopeLimits l;

        pair_init(&p);
        test_limits_fill(&l);
        /* Floating: the job frees itself after the callback. */
        ck_assert_int_eq(scope_start(p.client, UNIT, 4242, &l, NULL, on_job, &o, NULL), 0);
        pump(&p);
        emit_job_removed(&p, 7, "/org/freedesktop/systemd1/job/7", UNIT, "canceled");
        emit_job_removed(&p, 42, JOB, UNIT, "failed");
        pump(&p);
        ck_assert_int_eq(o.calls, 0);
        reply_job_path(&p, JOB);
        pump(&p);
        ck_assert_int_eq(o.calls, 1);
        ck_assert_str_eq(o.result, "failed");
        scope_limits_done(&l);
        pair_done(&p);
}
END_TEST

START_TEST(test_job_error_and_cancel) {
        _cleanup_(sd_bus_message_unrefp) sd_bus_message *err = NULL;
        Pair p;
        Outcome o = {}, o2 = {};
        ScopeJob *j = NULL;

        pair_init(&p);
        ck_assert_int_eq(scope_stop(p.client, UNIT, on_job, &o, &j), 0);
        pump(&p);
        ck_assert_int_eq(sd_bus_message_new_method_errorf(p.last_call, &err,
                                                          "org.freedesktop.systemd1.NoSuchUnit",
                                                          "Unit %s not loaded.", UNIT), 0);
        send_from_systemd(&p, err);
        pump(&p);
        ck_assert_int_eq(o.calls, 1);
        ck_assert_int_lt(o.r, 0);
        ck_assert_str_eq(o.error, "org.freedesktop.systemd1.NoSuchUnit");
        j = scope_job_free(j);

        /* Freeing a pending job means its callback never runs. */
        ck_assert_int_eq(scope_stop(p.client, UNIT, on_job, &o2, &j), 0);
        pump(&p);
        j = scope_job_free(j);
        reply_job_path(&p, JOB);
        emit_job_removed(&p, 42, JOB, UNIT, "done");
        pump(&p);
        ck_assert_int_eq(o2.calls, 0);
        pair_done(&p);
}
END_TEST

typedef struct WatchLog {
        int changes;
        int removed;
        char active[32];
} WatchLog;

static void on_watch(const char *unit, const char *active, const char *sub, bool removed, void *userdata) {
        WatchLog *w = userdata;

        ck_assert_str_eq(unit, UNIT);
        if (removed)
                w->removed++;
        else {
                w->changes++;
                snprintf(w->active, sizeof w->active, "%s", strempty(active));
        }
}

START_TEST(test_watch) {
        _cleanup_(scope_watch_freep) ScopeWatch *w = NULL;
        _cleanup_(sd_bus_message_unrefp) sd_bus_message *s = NULL, *s2 = NULL, *s3 = NULL;
        _cleanup_free_ char *path = NULL;
        WatchLog log = {};
        Pair p;

        pair_init(&p);
        ck_assert_int_eq(scope_watch(p.client, UNIT, on_watch, &log, &w), 0);
        ck_assert_int_eq(sd_bus_path_encode("/org/freedesktop/systemd1/unit", UNIT, &path), 0);
        ck_assert_int_eq(sd_bus_message_new_signal(p.server, &s, path, "org.freedesktop.DBus.Properties",
                                                   "PropertiesChanged"), 0);
        ck_assert_int_ge(sd_bus_message_append(s, "sa{sv}as", "org.freedesktop.systemd1.Unit", 2,
                                               "ActiveState", "s", "inactive",
                                               "SubState", "s", "dead", 0), 0);
        send_from_systemd(&p, s);
        /* Another unit's signal must not reach us. */
        ck_assert_int_eq(sd_bus_message_new_signal(p.server, &s2, "/org/freedesktop/systemd1",
                                                   "org.freedesktop.systemd1.Manager", "UnitRemoved"), 0);
        ck_assert_int_ge(sd_bus_message_append(s2, "so", "berth-other.scope", "/x"), 0);
        send_from_systemd(&p, s2);
        ck_assert_int_eq(sd_bus_message_new_signal(p.server, &s3, "/org/freedesktop/systemd1",
                                                   "org.freedesktop.systemd1.Manager", "UnitRemoved"), 0);
        ck_assert_int_ge(sd_bus_message_append(s3, "so", UNIT, path), 0);
        send_from_systemd(&p, s3);
        pump(&p);
        ck_assert_int_eq(log.changes, 1);
        ck_assert_str_eq(log.active, "inactive");
        ck_assert_int_eq(log.removed, 1);
        pair_done(&p);
}
END_TEST

START_TEST(test_stats_parse) {
        _cleanup_(sd_bus_message_unrefp) sd_bus_message *m = NULL;
        ScopeStats s;
        Pair p;

        pair_init(&p);
        ck_assert_int_eq(sd_bus_message_new_signal(p.server, &m, "/x", "a.b", "C"), 0);
        ck_assert_int_ge(sd_bus_message_append(m, "a{sv}", 4,
                                               "MemoryCurrent", "t", (uint64_t) 4096,
                                               "ControlGroup", "s", "/berth.slice/x",
                                               "TasksCurrent", "t", (uint64_t) 3,
                                               "CPUUsageNSec", "t", (uint64_t) 123), 0);
        ck_assert_int_eq(sd_bus_message_seal(m, 1, 0), 0);
        ck_assert_int_eq(scope_stats_from_message(m, &s), 0);
        ck_assert_uint_eq(s.memory_current, 4096);
        ck_assert_uint_eq(s.tasks_current, 3);
        ck_assert_uint_eq(s.cpu_usage_nsec, 123);
        ck_assert_uint_eq(s.io_read_bytes, UINT64_MAX);
        pair_done(&p);
}
END_TEST

START_TEST(test_signal_names) {
        ck_assert_int_eq(signal_from_string("SIGTERM"), SIGTERM);
        ck_assert_int_eq(signal_from_string("KILL"), SIGKILL);
        ck_assert_int_eq(signal_from_string("2"), 2);
        ck_assert_int_eq(signal_from_string("SIGNOPE"), -EINVAL);
        ck_assert_int_eq(signal_from_string("0"), -EINVAL);
        ck_assert_int_eq(signal_from_string(""), -EINVAL);
}
END_TEST

static Suite *scope_suite(void) {
        Suite *s = suite_create("scope");
        TCase *tc = tcase_create("limits");
        TCase *bus = tcase_create("bus");

        tcase_add_test(tc, test_unit_names);
        tcase_add_test(tc, test_signal_names);
        tcase_add_test(tc, test_cpu_accounting_readable);
        suite_add_tcase(s, tc);
        tcase_add_test(bus, test_start_message);
        tcase_add_test(bus, test_job_reply_then_signal);
        tcase_add_test(bus, test_job_signal_before_reply);
        tcase_add_test(bus, test_job_error_and_cancel);
        tcase_add_test(bus, test_watch);
        tcase_add_test(bus, test_stats_parse);
        suite_add_tcase(s, bus);
        return s;
}

int main(void) {
        SRunner *sr = srunner_create(scope_suite());
        int failed;

        srunner_run_all(sr, CK_NORMAL);
        failed = srunner_ntests_failed(sr);
        srunner_free(sr);
        return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
