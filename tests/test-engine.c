/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The engine against a fake systemd (unit-manager-fake.c): real containers
 * on a busybox image (needs root and busybox-static), their scopes, kills,
 * fd store and failures as the fake plays them. */
#include <check.h>
#include <fcntl.h>
#include <signal.h>
#include <sys/stat.h>
#include <sys/wait.h>

#include "engine.h"
#include "fileio.h"
#include "image-load.h"
#include "runtime.h"
#include "unit-manager-fake.h"

static char suite_dir[] = "/var/tmp/berth-test-engine.XXXXXX";   /* removed by main(), failed or not */
static char base[256];
static int root_fd = -EBADF;
static Store *store;
static sd_event *event;
static FakeUnits fake;
static Engine *engine;

static void make_image(void) {
        char cmd[4096], tar[PATH_MAX];
        _cleanup_close_ int fd = -EBADF;
        _cleanup_free_ char *id = NULL;

        snprintf(cmd, sizeof cmd,
                 "set -e; d=%s/rootfs; mkdir -p $d/bin $d/etc $d/tmp $d/proc $d/dev $d/sys; "
                 "cp /bin/busybox $d/bin/busybox; for a in sh echo sleep cat true; do ln -s busybox $d/bin/$a; done; "
                 "echo root:x:0:0:root:/root:/bin/sh >$d/etc/passwd; echo root:x:0: >$d/etc/group; "
                 "tar -C $d --numeric-owner -cf %s/rootfs.tar .; rm -rf $d", base, base);
        ck_assert_int_eq(system(cmd), 0);
        snprintf(tar, sizeof tar, "%s/rootfs.tar", base);
        fd = open(tar, O_RDONLY | O_CLOEXEC);
        ck_assert_int_ge(fd, 0);
        ck_assert_int_eq(image_import(store, fd, "bb", NULL, NULL, &id), 0);
}

static void new_engine(void) {
        static const EngineCallbacks cb = {};

        ck_assert_int_eq(engine_new_full(event, &unit_manager_fake, &fake, store, root_fd, base, &cb, NULL, &engine), 0);
        engine_set_setup_timeout(engine, 5 * USEC_PER_SEC);
}

static void setup(void) {
        snprintf(base, sizeof base, "%s/t.XXXXXX", suite_dir);
        ck_assert_ptr_nonnull(mkdtemp(base));
        root_fd = open(base, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        ck_assert_int_ge(root_fd, 0);
        ck_assert_int_eq(store_open(root_fd, "images", NULL, &store), 0);
        make_image();
        ck_assert_int_eq(sd_event_new(&event), 0);
        fake_units_init(&fake, event);
        new_engine();
}

static void teardown(void) {
        char cmd[PATH_MAX + 64];

        engine = engine_free(engine);
        fake_units_done(&fake);
        event = sd_event_unref(event);
        store = store_free(store);
        root_fd = safe_close(root_fd);
        snprintf(cmd, sizeof cmd, "rm -rf --one-file-system %s", base);
        (void) system(cmd);
}

/* Runs the loop until *flag is set (or, with flag NULL, until the fake has
 * no call pending), for at most 10 s. */
static bool run_until(const bool *flag) {
        uint64_t end = now_usec(CLOCK_MONOTONIC) + 10 * USEC_PER_SEC;

        while (now_usec(CLOCK_MONOTONIC) < end) {
                if (flag ? *flag : fake.n_pending == 0)
                        return true;
                ck_assert_int_ge(sd_event_run(event, 100 * 1000), 0);
        }
        return flag ? *flag : fake.n_pending == 0;
}

typedef struct Result {
        bool done;
        int r;
        char message[512];
} Result;

static void on_done(Container *c, int r, const char *message, int pty_master, void *userdata) {
        Result *res = userdata;

        res->done = true;
        res->r = r;
        snprintf(res->message, sizeof res->message, "%s", strempty(message));
        safe_close(pty_master);
}

/* A container of "bb" running argv, its stdout into *ret_out. */
static Container *create(const char *name, char **argv) {
        Container *c, *created;

        ck_assert_int_eq(container_new(&c), 0);
        ck_assert_int_eq(free_and_strdup(&c->name, name), 0);
        c->config.argv = strv_copy(argv);
        ck_assert_ptr_nonnull(c->config.argv);
        c->config.stop_timeout_usec = USEC_PER_SEC;
        ck_assert_int_eq(engine_create(engine, c, "bb", &created), 0);
        ck_assert_int_eq(created->state, CONTAINER_CREATED);
        return created;
}

static EngineStdio stdio_to(int out) {
        return (EngineStdio) { .stdin_fd = -EBADF, .stdout_fd = out, .stderr_fd = -EBADF, .attach = true };
}

static int start(Container *c, int *ret_out) {
        int pipefd[2];
        EngineStdio io;
        Result res = {};
        int r;

        ck_assert_int_eq(pipe2(pipefd, O_CLOEXEC), 0);
        io = stdio_to(pipefd[1]);
        r = engine_start(engine, c, &io, on_done, &res);
        safe_close(pipefd[1]);
        ck_assert_int_eq(r, 0);
        ck_assert(run_until(&res.done));
        if (res.r < 0)
                fprintf(stderr, "start: %s\n", res.message);
        if (ret_out)
                *ret_out = pipefd[0];
        else
                safe_close(pipefd[0]);
        return res.r;
}

static void remove_container(Container *c, bool force) {
        Result res = {};

        ck_assert_int_eq(engine_remove(engine, c, force, on_done, &res), 0);
        ck_assert(run_until(&res.done));
        ck_assert_int_eq(res.r, 0);
}

static bool no_children(void) {
        for (int i = 0; i < 100; i++) {
                if (waitpid(-1, NULL, WNOHANG) < 0 && errno == ECHILD)
                        return true;
                (void) sd_event_run(event, 20 * 1000);
        }
        return false;
}

START_TEST(test_lifecycle) {
        char *argv[] = { "sh", "-c", "echo hello; exec sleep 1000", NULL };
        Container *c = create("life", argv), *found;
        char buf[64] = {};
        Result res = {};
        int out;

        ck_assert_int_eq(start(c, &out), 0);
        ck_assert_int_eq(c->state, CONTAINER_RUNNING);
        ck_assert_uint_eq(fake.n_start, 1);
        ck_assert_str_eq(fake.last_unit, "berth-life.scope");
        ck_assert_int_eq(fake.last_pid, c->pid);
        ck_assert_int_ge(fake_units_fd(&fake, c->id), 0);
        ck_assert_int_eq(read(out, buf, sizeof buf - 1), 6);
        ck_assert_str_eq(buf, "hello\n");
        safe_close(out);

        /* sleep, PID 1 of its namespace, ignores SIGTERM: the stop's
         * timeout (1 s) has the scope killed. */
        ck_assert_int_eq(engine_stop(engine, c, UINT64_MAX, on_done, &res), 0);
        ck_assert(run_until(&res.done));
        ck_assert_int_eq(res.r, 0);
        ck_assert_int_eq(c->state, CONTAINER_EXITED);
        ck_assert_uint_eq(fake.n_kill, 1);
        ck_assert_int_eq(fake.last_signal, SIGKILL);
        ck_assert_int_eq(c->exit_code, 128 + SIGKILL);
        ck_assert_int_lt(fake_units_fd(&fake, c->id), 0);

        /* Started again: a new scope of the same name. */
        ck_assert_int_eq(start(c, NULL), 0);
        ck_assert_uint_eq(fake.n_start, 2);
        ck_assert_int_eq(engine_kill(engine, c, SIGKILL), 0);
        remove_container(c, true);
        ck_assert_int_eq(engine_find(engine, "life", &found), -ENOENT);
        ck_assert(run_until(NULL));
        ck_assert(no_children());
        ck_assert_uint_eq(fake.n_fds, 0);
}
END_TEST

START_TEST(test_start_refused) {
        char *argv[] = { "sleep", "1000", NULL };
        Container *c = create("refused", argv);

        fake.start_mode = FAKE_FAIL;
        fake.fail_error = "org.freedesktop.systemd1.UnitExists";
        /* UnitExists: the engine waits for the old scope to go and asks once more. */
        ck_assert_int_lt(start(c, NULL), 0);
        ck_assert_uint_eq(fake.n_start, 2);
        ck_assert_uint_eq(fake.n_wait_removed, 1);
        ck_assert_int_eq(c->state, CONTAINER_EXITED);
        ck_assert_int_eq(c->exit_code, CONTAINER_EXIT_CODE_ENGINE);

        fake.fail_error = SD_BUS_ERROR_ACCESS_DENIED;
        {
                Result res = {};
                int pipefd[2];
                EngineStdio io;

                ck_assert_int_eq(pipe2(pipefd, O_CLOEXEC), 0);
                io = stdio_to(pipefd[1]);
                ck_assert_int_eq(engine_start(engine, c, &io, on_done, &res), 0);
                safe_close(pipefd[1]);
                ck_assert(run_until(&res.done));
                ck_assert_int_eq(res.r, -EACCES);
                ck_assert_ptr_nonnull(strstr(res.message, "Cannot start the scope berth-refused.scope"));
                ck_assert_ptr_nonnull(strstr(res.message, "The fake systemd says no."));
                safe_close(pipefd[0]);
        }
        ck_assert_uint_eq(fake.n_start, 3);
        ck_assert_int_eq(c->state, CONTAINER_EXITED);
        ck_assert_int_lt(fake_units_fd(&fake, c->id), 0);
        /* The leader never ran the command: killed in setup, and reaped. */
        ck_assert(no_children());
        remove_container(c, false);
}
END_TEST

START_TEST(test_start_timeout) {
        char *argv[] = { "sleep", "1000", NULL };
        Container *c = create("late", argv);
        Result res = {};
        EngineStdio io = ENGINE_STDIO_DETACHED;

        /* systemd never answers: sd-bus gives up on the call (ETIMEDOUT). */
        fake.start_mode = FAKE_TIMEOUT;
        ck_assert_int_eq(start(c, NULL), -ETIMEDOUT);
        ck_assert_int_eq(c->state, CONTAINER_EXITED);
        ck_assert(no_children());

        /* Nor does it ever: removing the starting container cancels the
         * call, and the start is told. */
        fake.start_mode = FAKE_SILENT;
        io = stdio_to(-EBADF);
        ck_assert_int_eq(engine_start(engine, c, &io, on_done, &res), 0);
        for (int i = 0; i < 50 && fake.n_start < 2; i++)
                ck_assert_int_ge(sd_event_run(event, 20 * 1000), 0);
        ck_assert_uint_eq(fake.n_start, 2);
        ck_assert(!res.done);
        ck_assert_int_eq(engine_start(engine, c, &io, on_done, &res), -EBUSY);
        remove_container(c, true);
        ck_assert(res.done);
        ck_assert_int_eq(res.r, -ECANCELED);
        ck_assert_uint_eq(fake.n_cancel, 1);
        ck_assert_uint_eq(fake.n_pending, 0);
        ck_assert(no_children());
}
END_TEST

START_TEST(test_update) {
        char *argv[] = { "sleep", "1000", NULL };
        Container *c = create("upd", argv);
        ScopeLimits update = { .memory_max = 64 << 20 };
        Result res = {};

        ck_assert_int_eq(start(c, NULL), 0);
        fake.limits_mode = FAKE_FAIL;
        ck_assert_int_eq(engine_update(engine, c, &update, on_done, &res), 0);
        ck_assert(run_until(&res.done));
        ck_assert_int_lt(res.r, 0);
        ck_assert_uint_eq(c->config.limits.memory_max, 0);

        res = (Result) {};
        fake.limits_mode = FAKE_ANSWER;
        ck_assert_int_eq(engine_update(engine, c, &update, on_done, &res), 0);
        ck_assert(run_until(&res.done));
        ck_assert_int_eq(res.r, 0);
        ck_assert_uint_eq(c->config.limits.memory_max, 64 << 20);
        ck_assert_uint_eq(fake.n_set_limits, 2);
        remove_container(c, true);
        ck_assert(run_until(NULL));
        ck_assert(no_children());
}
END_TEST

START_TEST(test_readopt) {
        char *argv[] = { "sleep", "1000", NULL };
        Container *c = create("again", argv), *found;
        _cleanup_free_ char *id = NULL;
        pid_t pid;

        ck_assert_int_eq(start(c, NULL), 0);
        pid = c->pid;
        id = strdup(c->id);
        ck_assert_int_ge(fake_units_fd(&fake, id), 0);

        /* berthd goes; the container runs on, its pidfd in the fd store. */
        engine = engine_free(engine);
        ck_assert_int_eq(kill(pid, 0), 0);
        new_engine();
        ck_assert_int_eq(engine_load(engine), 0);
        ck_assert_int_eq(engine_find(engine, "again", &found), 0);
        ck_assert_str_eq(found->id, id);
        ck_assert_int_eq(found->state, CONTAINER_RUNNING);
        ck_assert_int_eq(found->pid, pid);

        /* Its exit is seen through the stored pidfd. */
        {
                Result res = {};

                ck_assert_int_eq(engine_wait(engine, found, on_done, &res, NULL), 0);
                ck_assert_int_eq(engine_kill(engine, found, SIGKILL), 0);
                /* Ours still (the test is its parent): reaped here, as PID 1
                 * would reap it for a restarted berthd. */
                ck_assert_int_eq(waitpid(pid, NULL, 0), pid);
                ck_assert(run_until(&res.done));
                ck_assert_int_eq(found->state, CONTAINER_EXITED);
        }
        ck_assert_int_lt(fake_units_fd(&fake, id), 0);
        remove_container(found, false);
        ck_assert(run_until(NULL));
        ck_assert(no_children());
}
END_TEST

typedef struct ExecResult {
        Result started;
        bool exited;
        int exit_code;
} ExecResult;

static void on_exec_started(Container *c, int r, const char *message, int pty_master, void *userdata) {
        on_done(c, r, message, pty_master, &((ExecResult *) userdata)->started);
}

static void on_exec_exited(int exit_code, void *userdata) {
        ExecResult *res = userdata;

        res->exited = true;
        res->exit_code = exit_code;
}

static void exec_in(Container *c, ExecResult *res, int *ret_out) {
        char *argv[] = { "echo", "from exec", NULL };
        int pipefd[2];
        EngineStdio io;

        ck_assert_int_eq(pipe2(pipefd, O_CLOEXEC), 0);
        io = stdio_to(pipefd[1]);
        ck_assert_int_eq(engine_exec(engine, c, argv, NULL, NULL, NULL, false, &io, on_exec_started,
                                     on_exec_exited, res), 0);
        safe_close(pipefd[1]);
        ck_assert(run_until(&res->exited));
        *ret_out = pipefd[0];
}

START_TEST(test_exec) {
        char *argv[] = { "sleep", "1000", NULL };
        Container *c = create("ex", argv);
        ExecResult res = {};
        char buf[64] = {};
        int out;

        ck_assert_int_eq(start(c, NULL), 0);
        exec_in(c, &res, &out);
        ck_assert(res.started.done);
        ck_assert_int_eq(res.started.r, 0);
        ck_assert_int_eq(res.exit_code, 0);
        ck_assert_uint_eq(fake.n_attach, 1);
        ck_assert_int_eq(read(out, buf, sizeof buf - 1), 10);
        ck_assert_str_eq(buf, "from exec\n");
        safe_close(out);

        /* systemd refuses to move it into the scope: it never runs. */
        res = (ExecResult) {};
        fake.attach_mode = FAKE_FAIL;
        exec_in(c, &res, &out);
        ck_assert(res.started.done);
        ck_assert_int_lt(res.started.r, 0);
        ck_assert_ptr_nonnull(strstr(res.started.message, "The fake systemd says no."));
        ck_assert_int_eq(read(out, buf, sizeof buf - 1), 0);
        safe_close(out);
        ck_assert_uint_eq(fake.n_attach, 2);
        remove_container(c, true);
        ck_assert(run_until(NULL));
        ck_assert(no_children());
}
END_TEST

static Suite *engine_suite(void) {
        Suite *s = suite_create("engine");
        TCase *tc = tcase_create("fake-systemd");

        tcase_add_checked_fixture(tc, setup, teardown);
        tcase_set_timeout(tc, 60);
        tcase_add_test(tc, test_lifecycle);
        tcase_add_test(tc, test_start_refused);
        tcase_add_test(tc, test_start_timeout);
        tcase_add_test(tc, test_update);
        tcase_add_test(tc, test_readopt);
        tcase_add_test(tc, test_exec);
        suite_add_tcase(s, tc);
        return s;
}

int main(void) {
        SRunner *sr;
        int failed;

        if (geteuid() != 0 || access("/bin/busybox", X_OK) < 0) {
                fprintf(stderr, "needs root and /bin/busybox (busybox-static), skipping\n");
                return 77;
        }
        runtime_set_exec_helper(BERTH_EXEC_HELPER_BUILD);
        if (!mkdtemp(suite_dir))
                return EXIT_FAILURE;
        sr = srunner_create(engine_suite());
        srunner_run_all(sr, CK_NORMAL);
        failed = srunner_ntests_failed(sr);
        srunner_free(sr);
        {
                char cmd[sizeof suite_dir + 64];

                snprintf(cmd, sizeof cmd, "rm -rf --one-file-system %s", suite_dir);
                (void) system(cmd);
        }
        return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
