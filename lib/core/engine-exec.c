/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <signal.h>
#include <sys/wait.h>

#include "engine-internal.h"
#include "log.h"

/* An exec: berth-exec sets the process up in the container (phase
 * EXEC_HELPER), systemd moves it into the scope (EXEC_ATTACH), it is
 * released (EXEC_RELEASE) and then runs. Every step is driven from the loop
 * and the whole setup is bounded in time. */
typedef enum ExecPhase {
        EXEC_HELPER,
        EXEC_ATTACH,
        EXEC_RELEASE,
        EXEC_RUNNING,
} ExecPhase;

struct ExecJob {
        Live *live;                 /* of the container; the job is in its list */
        ExecJob *next;
        Engine *engine;
        RuntimeProcess process;
        ExecPhase phase;
        sd_event_source *channel_source, *timer, *exit_source;
        UnitCall *attach;           /* systemd moves it into the scope */
        EngineDone started;
        EngineExecExited exited;
        void *userdata;
        Container *container;
};

static void exec_job_unlink(ExecJob *j) {
        for (ExecJob **p = &j->live->execs; *p; p = &(*p)->next)
                if (*p == j) {
                        *p = j->next;
                        break;
                }
}

static ExecJob *exec_job_free(ExecJob *j) {
        if (!j)
                return NULL;
        exec_job_unlink(j);
        sd_event_source_disable_unref(j->channel_source);
        sd_event_source_disable_unref(j->timer);
        sd_event_source_disable_unref(j->exit_source);
        if (j->attach)
                j->engine->units->cancel(j->engine->units_data, j->attach);
        /* In setup still: killed, and reaped by the loop. */
        runtime_process_kill(&j->process);
        engine_reap(j->engine, TAKE_FD(j->process.helper_pidfd));
        if (j->phase != EXEC_RUNNING)
                engine_reap(j->engine, TAKE_FD(j->process.pidfd));
        runtime_process_done(&j->process);
        free(j);
        return NULL;
}

/* Tells both callbacks (the caller waits for the start, then the exit). */
static void exec_job_failed(ExecJob *j, int r, const char *message, int exit_code) {
        j->started(j->container, r, message ?: strerror(-r), -EBADF, j->userdata);
        j->exited(exit_code, j->userdata);
        exec_job_free(j);
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

static void exec_running(ExecJob *j) {
        int r;

        j->phase = EXEC_RUNNING;
        j->channel_source = sd_event_source_disable_unref(j->channel_source);
        j->timer = sd_event_source_disable_unref(j->timer);
        r = sd_event_add_io(j->engine->event, &j->exit_source, j->process.pidfd, EPOLLIN, on_exec_exit, j);
        j->started(j->container, r, r < 0 ? strerror(-r) : NULL, TAKE_FD(j->process.pty_master), j->userdata);
        if (r < 0)
                exec_job_free(j);
}

static void on_exec_attached(const char *result, int r, const sd_bus_error *error, void *userdata) {
        ExecJob *j = userdata;

        j->attach = NULL;
        if (r < 0) {
                exec_job_failed(j, r, error && error->message ? error->message : NULL, CONTAINER_EXIT_CODE_ENGINE);
                return;
        }
        /* systemd moved it into the scope's cgroups; the v1 cpuset is ours. */
        if (j->container->config.limits.allowed_cpus_size > 0)
                (void) engine_apply_v1_limits(j->engine, j->container, j->process.pid,
                                              &j->container->config.limits);
        j->phase = EXEC_RELEASE;
        r = runtime_release_begin(&j->process);
        if (r >= 0)
                r = sd_event_source_set_enabled(j->channel_source, SD_EVENT_ON);
        if (r < 0)
                exec_job_failed(j, r, NULL, CONTAINER_EXIT_CODE_ENGINE);
}

/* Into the container's scope before it runs anything. */
static int exec_attach(ExecJob *j) {
        Engine *e = j->engine;
        int r;

        /* berth-exec is done with it: the loop reaps it. */
        engine_reap(e, TAKE_FD(j->process.helper_pidfd));
        j->phase = EXEC_ATTACH;
        r = sd_event_source_set_enabled(j->channel_source, SD_EVENT_OFF);
        if (r < 0)
                return r;
        return e->units->attach(e->units_data, j->container->unit, j->process.pid, on_exec_attached, j, &j->attach);
}

static int on_exec_channel(sd_event_source *s, int fd, uint32_t revents, void *userdata) {
        ExecJob *j = userdata;
        RuntimeError err = {};
        int r;

        if (j->phase == EXEC_HELPER) {
                r = runtime_exec_continue(&j->process, &err);
                if (r > 0)
                        r = exec_attach(j);
        } else {
                r = runtime_release_continue(&j->process, &err);
                if (r == 0) {
                        exec_running(j);
                        return 0;
                }
        }
        if (r < 0 && r != -EAGAIN)
                exec_job_failed(j, r, err.message[0] ? err.message : NULL,
                                err.exit_code ?: CONTAINER_EXIT_CODE_ENGINE);
        return 0;
}

void engine_exec_cancel_all(Live *l) {
        while (l->execs) {
                ExecJob *j = l->execs;

                if (j->phase == EXEC_RUNNING) {
                        j->exited(CONTAINER_EXIT_CODE_UNKNOWN, j->userdata);
                        exec_job_free(j);
                } else
                        exec_job_failed(j, -ESRCH, "The container is gone.", CONTAINER_EXIT_CODE_ENGINE);
        }
}

static int on_exec_timeout(sd_event_source *s, uint64_t usec, void *userdata) {
        ExecJob *j = userdata;
        char what[256], msg[512];

        snprintf(what, sizeof what, "The exec in container %s", j->container->name);
        engine_setup_timeout_message(j->engine, what, msg, sizeof msg);
        exec_job_failed(j, -ETIMEDOUT, msg, CONTAINER_EXIT_CODE_ENGINE);
        return 0;
}

int engine_exec(Engine *e, Container *c, char **argv, char **env, const char *user,
                const char *cwd, bool tty, const EngineStdio *stdio,
                EngineDone started, EngineExecExited exited, void *userdata) {
        _cleanup_strv_free_ char **merged_env = NULL;
        RuntimeProcessSpec spec;
        ExecJob *j;
        Live *l;
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
        l = engine_live(e, c);
        if (!l) {
                free(j);
                return -ENOMEM;
        }
        *j = (ExecJob) { .live = l, .next = l->execs, .engine = e, .process = RUNTIME_PROCESS_NULL,
                         .started = started, .exited = exited, .userdata = userdata, .container = c };
        l->execs = j;
        r = runtime_exec_begin(c->pidfd, &spec, &j->process);
        if (r < 0) {
                exec_job_free(j);
                return errmsg_set(r, "Cannot enter container %s: %s", c->name, strerror(-r));
        }
        r = sd_event_add_io(e->event, &j->channel_source, j->process.channel, EPOLLIN, on_exec_channel, j);
        if (r >= 0)
                r = engine_add_setup_timer(e, &j->timer, on_exec_timeout, j);
        if (r < 0)
                exec_job_free(j);
        return r;
}
