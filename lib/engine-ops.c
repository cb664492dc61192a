/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <signal.h>
#include <sys/syscall.h>
#include <sys/wait.h>

#include "engine-internal.h"
#include "log.h"

static int pidfd_send_signal_to(int pidfd, int sig) {
        if (pidfd < 0)
                return -ESRCH;
        return syscall(SYS_pidfd_send_signal, pidfd, sig, NULL, 0) < 0 ? -errno : 0;
}

static bool is_running(const Container *c) {
        return IN_SET(c->state, CONTAINER_RUNNING, CONTAINER_PAUSED);
}

int engine_wait(Engine *e, Container *c, EngineDone done, void *userdata) {
        Live *l;

        if (!is_running(c) && !(c->live && ((Live *) c->live)->start_done)) {
                done(c, 0, NULL, -EBADF, userdata);
                return 0;
        }
        l = engine_live(e, c);
        if (!l)
                return -ENOMEM;
        return engine_add_waiter(&l->watchers, done, userdata);
}

int engine_kill(Engine *e, Container *c, int sig) {
        int r;

        if (!is_running(c))
                return errmsg_set(-ESRCH, "Container %s is not running.", c->name);
        r = pidfd_send_signal_to(c->pidfd, sig);
        if (r < 0)
                return errmsg_set(r, "Cannot signal container %s: %s", c->name, strerror(-r));
        return 0;
}

/* Everything in the scope, not only the leader: what a stop's timeout and
 * rm -f promise. A frozen scope is thawed so the signal can land. */
static void kill_scope(Engine *e, Container *c) {
        _cleanup_(sd_bus_error_free) sd_bus_error error = SD_BUS_ERROR_NULL;
        int r;

        r = scope_kill(e->bus, c->unit, "all", SIGKILL, &error);
        if (r < 0) {
                log_debug_errno(r, "KillUnit(%s) failed: %s", c->unit, error.message ?: "");
                (void) pidfd_send_signal_to(c->pidfd, SIGKILL);
        }
        if (c->state == CONTAINER_PAUSED)
                (void) scope_freeze(e->bus, c->unit, false, NULL, NULL, NULL);
}

static int on_stop_timeout(sd_event_source *s, uint64_t usec, void *userdata) {
        Live *l = userdata;

        log_debug("Container %s did not stop in time; killing its scope.", l->container->name);
        kill_scope(l->engine, l->container);
        return 0;
}

int engine_stop(Engine *e, Container *c, uint64_t timeout_usec, EngineDone done, void *userdata) {
        Live *l;
        int r;

        if (!is_running(c)) {
                if (done)
                        done(c, 0, NULL, -EBADF, userdata);
                return 0;
        }
        l = engine_live(e, c);
        if (!l)
                return -ENOMEM;
        if (timeout_usec == UINT64_MAX)
                timeout_usec = c->config.stop_timeout_usec;
        r = engine_add_waiter(&l->waiters, done, userdata);
        if (r < 0)
                return r;
        if (c->state == CONTAINER_PAUSED || timeout_usec == 0) {
                kill_scope(e, c);
                return 0;
        }
        (void) pidfd_send_signal_to(c->pidfd, c->config.stop_signal);
        if (l->stop_timer)
                return 0;
        return sd_event_add_time_relative(e->event, &l->stop_timer, CLOCK_MONOTONIC, timeout_usec, 0,
                                          on_stop_timeout, l);
}

typedef struct RestartJob {
        Engine *engine;
        EngineDone done;
        void *userdata;
} RestartJob;

static void restart_stopped(Container *c, int r, const char *message, int pty, void *userdata) {
        _cleanup_free_ RestartJob *j = userdata;
        EngineStdio stdio = ENGINE_STDIO_DETACHED;

        safe_close(pty);
        if (r >= 0 && c) {
                errmsg_clear();
                r = engine_start(j->engine, c, &stdio, j->done, j->userdata);
                if (r >= 0)
                        return;
        }
        j->done(c, r < 0 ? r : -ESRCH, message ?: errmsg_last(), -EBADF, j->userdata);
}

int engine_restart(Engine *e, Container *c, uint64_t timeout_usec, EngineDone done, void *userdata) {
        RestartJob *j = calloc(1, sizeof *j);
        Live *l = engine_live(e, c);
        int r;

        if (!j || !l) {
                free(j);
                return -ENOMEM;
        }
        *j = (RestartJob) { .engine = e, .done = done, .userdata = userdata };
        l->restarting = is_running(c);
        r = engine_stop(e, c, timeout_usec, restart_stopped, j);
        if (r < 0) {
                l->restarting = false;
                free(j);
        }
        return r;
}

int engine_remove(Engine *e, Container *c, bool force, EngineDone done, void *userdata) {
        Live *l;
        int r;

        /* Removal is synchronous: a container still in state "removing" is
         * one whose files could not all be removed, or whose removal a crash
         * cut short. Removing it again tries again. */
        if (!is_running(c)) {
                l = engine_live(e, c);
                if (!l)
                        return -ENOMEM;
                r = engine_add_waiter(&l->removers, done, userdata);
                if (r < 0)
                        return r;
                engine_finish_remove(e, c);
                return 0;
        }
        if (!force)
                return errmsg_set(-EBUSY, "Container %s is running: stop it first, or remove it with force (rm -f).",
                                  c->name);
        l = engine_live(e, c);
        if (!l)
                return -ENOMEM;
        r = engine_add_waiter(&l->removers, done, userdata);
        if (r < 0)
                return r;
        l->remove_at_exit = true;
        kill_scope(e, c);
        return 0;
}

typedef struct PauseJob {
        Engine *engine;
        Container *container;
        bool pause;
        EngineDone done;
        void *userdata;
} PauseJob;

static void on_frozen(const char *result, int r, const sd_bus_error *error, void *userdata) {
        _cleanup_free_ PauseJob *j = userdata;
        Container *c = j->container;

        if (r >= 0 && !streq_ptr(result, "done"))
                r = -EIO;
        if (r >= 0) {
                c->state = j->pause ? CONTAINER_PAUSED : CONTAINER_RUNNING;
                (void) engine_save_state(j->engine, c);
                engine_changed(j->engine, c);
        }
        if (j->done)
                j->done(c, r, r < 0 ? (error && error->message ? error->message : strerror(-r)) : NULL,
                        -EBADF, j->userdata);
}

int engine_pause(Engine *e, Container *c, bool pause, EngineDone done, void *userdata) {
        PauseJob *j;
        int r;

        if (c->state != (pause ? CONTAINER_RUNNING : CONTAINER_PAUSED))
                return errmsg_set(-ESRCH, "Container %s is %s.", c->name,
                                  pause ? "not running" : "not paused");
        j = calloc(1, sizeof *j);
        if (!j)
                return -ENOMEM;
        *j = (PauseJob) { e, c, pause, done, userdata };
        r = scope_freeze(e->bus, c->unit, pause, on_frozen, j, NULL);
        if (r < 0) {
                free(j);
                return errmsg_set(r, "Cannot %s container %s: %s", pause ? "pause" : "unpause", c->name,
                                  strerror(-r));
        }
        return 0;
}

int engine_update(Engine *e, Container *c, const ScopeLimits *update, sd_bus_error *error) {
        const char *reason = NULL;
        ScopeLimits merged = {};
        int r;

        r = scope_limits_copy(&c->config.limits, &merged);
        if (r >= 0)
                r = scope_limits_merge(&merged, update);
        if (r >= 0 && scope_limits_verify(&merged, &reason) < 0)
                r = errmsg_set(-EINVAL, "%s", reason);
        if (r >= 0 && is_running(c))
                r = scope_set_limits(e->bus, c->unit, &merged, error);
        if (r >= 0 && is_running(c)) {
                r = engine_apply_v1_limits(e, c, c->pid, &merged);
                if (r < 0)
                        r = errmsg_set(r, "Cannot apply the cgroup v1 limits: %s", strerror(-r));
        }
        if (r < 0) {
                scope_limits_done(&merged);
                return r;
        }
        scope_limits_done(&c->config.limits);
        c->config.limits = merged;
        (void) engine_save(e, c);
        engine_changed(e, c);
        return 0;
}

typedef struct ExecJob {
        Engine *engine;
        RuntimeProcess process;
        sd_event_source *exit_source;
        EngineDone started;
        EngineExecExited exited;
        void *userdata;
        Container *container;
} ExecJob;

static ExecJob *exec_job_free(ExecJob *j) {
        if (!j)
                return NULL;
        sd_event_source_disable_unref(j->exit_source);
        runtime_process_done(&j->process);
        free(j);
        return NULL;
}

static int on_exec_exit(sd_event_source *s, int fd, uint32_t revents, void *userdata) {
        ExecJob *j = userdata;
        siginfo_t si = {};
        int code = CONTAINER_EXIT_CODE_UNKNOWN;

        if (waitid((idtype_t) P_PIDFD, (id_t) fd, &si, WEXITED | WNOHANG) < 0 || si.si_pid == 0) {
                if (errno == EAGAIN || si.si_pid == 0)
                        return 0;
        } else
                code = si.si_code == CLD_EXITED ? si.si_status : 128 + si.si_status;
        j->exited(code, j->userdata);
        exec_job_free(j);
        return 0;
}

static int on_exec_attached(sd_bus_message *reply, void *userdata, sd_bus_error *ret_error) {
        ExecJob *j = userdata;
        const sd_bus_error *e = sd_bus_message_get_error(reply);
        RuntimeError err = {};
        int r;

        if (e) {
                j->started(j->container, -sd_bus_error_get_errno(e), e->message, -EBADF, j->userdata);
                exec_job_free(j);
                return 0;
        }
        /* systemd moved it into the scope's cgroups; the v1 cpuset is ours. */
        if (j->container->config.limits.allowed_cpus_size > 0)
                (void) engine_apply_v1_limits(j->engine, j->container, j->process.pid,
                                              &j->container->config.limits);
        r = runtime_release(&j->process, &err);
        if (r < 0) {
                j->started(j->container, r, err.message[0] ? err.message : strerror(-r), -EBADF, j->userdata);
                j->exited(err.exit_code ?: CONTAINER_EXIT_CODE_ENGINE, j->userdata);
                exec_job_free(j);
                return 0;
        }
        r = sd_event_add_io(j->engine->event, &j->exit_source, j->process.pidfd, EPOLLIN, on_exec_exit, j);
        j->started(j->container, r, r < 0 ? strerror(-r) : NULL, TAKE_FD(j->process.pty_master), j->userdata);
        if (r < 0)
                exec_job_free(j);
        return 0;
}

int engine_exec(Engine *e, Container *c, char **argv, char **env, const char *user,
                const char *cwd, bool tty, const EngineStdio *stdio,
                EngineDone started, EngineExecExited exited, void *userdata) {
        _cleanup_strv_free_ char **merged_env = NULL;
        RuntimeProcessSpec spec;
        ExecJob *j;
        int r;

        if (c->state == CONTAINER_PAUSED)
                return errmsg_set(-EBUSY, "Container %s is paused; unpause it first.", c->name);
        if (c->state != CONTAINER_RUNNING)
                return errmsg_set(-ESRCH, "Container %s is not running.", c->name);
        merged_env = strv_copy(c->config.env);
        STRV_FOREACH(x, env)
                if (!merged_env || strv_extend(&merged_env, *x) < 0)
                        return -ENOMEM;
        process_spec_from_config(&spec, &c->config, argv, stdio);
        spec.env = merged_env;
        spec.tty = tty;
        spec.journal = false;
        if (user)
                spec.user = user;
        if (cwd)
                spec.cwd = cwd;
        j = calloc(1, sizeof *j);
        if (!j)
                return -ENOMEM;
        *j = (ExecJob) { .engine = e, .process = RUNTIME_PROCESS_NULL, .started = started,
                         .exited = exited, .userdata = userdata, .container = c };
        r = runtime_exec(c->pidfd, &spec, &j->process);
        if (r < 0) {
                exec_job_free(j);
                return errmsg_set(r, "Cannot enter container %s: %s", c->name, strerror(-r));
        }
        /* Into the container's scope before it runs anything. */
        r = sd_bus_call_method_async(e->bus, NULL, "org.freedesktop.systemd1", "/org/freedesktop/systemd1",
                                     "org.freedesktop.systemd1.Manager", "AttachProcessesToUnit",
                                     on_exec_attached, j, "ssau", c->unit, "", 1, (uint32_t) j->process.pid);
        if (r < 0)
                exec_job_free(j);
        return r;
}
