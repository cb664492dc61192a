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

int engine_wait(Engine *e, Container *c, EngineDone done, void *userdata, Waiter **ret) {
        Live *l;

        if (ret)
                *ret = NULL;
        if (!is_running(c) && !(c->live && ((Live *) c->live)->start_done)) {
                done(c, 0, NULL, -EBADF, userdata);
                return 0;
        }
        l = engine_live(e, c);
        if (!l)
                return -ENOMEM;
        return engine_add_waiter_full(&l->watchers, done, userdata, ret);
}

void engine_wait_cancel(Engine *e, Container *c, Waiter *w) {
        Live *l = c->live;

        /* Without a Live every wait has been answered: nothing can be pending. */
        if (l && w)
                engine_remove_waiter(&l->watchers, w);
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

/* Containers by id once systemd answers: they may be gone by then. */
static Container *find_by_id(Engine *e, const char *id) {
        return hashmap_get(e->containers->by_id, id);
}

typedef struct KillCall {
        Engine *engine;
        char id[CONTAINER_ID_LENGTH + 1];
        pid_t pid;
} KillCall;

/* systemd could not kill the scope (it is gone, or refused): the leader at
 * least, and with it its pid namespace, unless a restart made a new one. */
static void on_scope_killed(const char *result, int r, const sd_bus_error *error, void *userdata) {
        _cleanup_free_ KillCall *k = userdata;
        Container *c;

        if (r >= 0)
                return;
        c = find_by_id(k->engine, k->id);
        log_debug_errno(r, "KillUnit(%s) failed: %s", c ? c->unit : k->id, error && error->message ? error->message : "");
        if (c && c->pid == k->pid)
                (void) pidfd_send_signal_to(c->pidfd, SIGKILL);
}

/* Everything in the scope, not only the leader: what a stop's timeout and
 * rm -f promise. A frozen scope is thawed so the signal can land; systemd
 * takes the two calls in order. */
static void kill_scope(Engine *e, Container *c) {
        KillCall *k = calloc(1, sizeof *k);
        int r = -ENOMEM;

        if (k) {
                *k = (KillCall) { .engine = e, .pid = c->pid };
                strcpy(k->id, c->id);
                r = e->units->kill(e->units_data, c->unit, "all", SIGKILL, on_scope_killed, k);
        }
        if (r < 0) {
                free(k);
                log_debug_errno(r, "Cannot send KillUnit(%s): %m", c->unit);
                (void) pidfd_send_signal_to(c->pidfd, SIGKILL);
        }
        if (c->state == CONTAINER_PAUSED)
                (void) e->units->freeze(e->units_data, c->unit, false, NULL, NULL);
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
        char id[CONTAINER_ID_LENGTH + 1];
        EngineDone done;
        void *userdata;
} RestartJob;

/* The start waits itself for the stopped run's scope to go (see
 * engine_start()); the container is found again by id, since it may have
 * been removed meanwhile. */
static void restart_stopped(Container *c, int r, const char *message, int pty, void *userdata) {
        _cleanup_free_ RestartJob *j = userdata;
        EngineStdio stdio = ENGINE_STDIO_DETACHED;

        safe_close(pty);
        if (r < 0) {
                j->done(c, r, message ?: strerror(-r), -EBADF, j->userdata);
                return;
        }
        errmsg_clear();
        c = find_by_id(j->engine, j->id);
        if (!c)
                r = errmsg_set(-ESRCH, "The container was removed during its restart.");
        else {
                r = engine_start(j->engine, c, &stdio, j->done, j->userdata);
                if (r >= 0)
                        return;
        }
        j->done(c, r, errmsg_last(), -EBADF, j->userdata);
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
        strcpy(j->id, c->id);
        l->restarting = is_running(c);
        r = engine_stop(e, c, timeout_usec, restart_stopped, j);
        if (r < 0) {
                l->restarting = false;
                free(j);
        }
        return r;
}

int engine_remove(Engine *e, Container *c, bool force, EngineDone done, void *userdata) {
        bool running = is_running(c);
        Live *l;
        int r;

        if (running && !force)
                return errmsg_set(-EBUSY, "Container %s is running: stop it first, or remove it with force (rm -f).",
                                  c->name);
        l = engine_live(e, c);
        if (!l)
                return -ENOMEM;
        r = engine_add_waiter(&l->removers, done, userdata);
        if (r < 0)
                return r;
        /* Removal is synchronous: a container still in state "removing" is
         * one whose directory could not be moved to the trash, or whose
         * removal a crash cut short. Removing it again tries again. A
         * running one goes once it has exited. */
        if (!running) {
                engine_finish_remove(e, c);
                return 0;
        }
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
        r = e->units->freeze(e->units_data, c->unit, pause, on_frozen, j);
        if (r < 0) {
                free(j);
                return errmsg_set(r, "Cannot %s container %s: %s", pause ? "pause" : "unpause", c->name,
                                  strerror(-r));
        }
        return 0;
}

typedef struct UpdateJob {
        Engine *engine;
        char id[CONTAINER_ID_LENGTH + 1];
        ScopeLimits merged;
        EngineDone done;
        void *userdata;
} UpdateJob;

static void update_commit(Engine *e, Container *c, ScopeLimits *merged) {
        scope_limits_done(&c->config.limits);
        c->config.limits = *merged;
        *merged = (ScopeLimits) {};
        (void) engine_save(e, c);
        engine_changed(e, c);
}

static void on_limits_set(const char *result, int r, const sd_bus_error *error, void *userdata) {
        UpdateJob *j = userdata;
        Container *c = find_by_id(j->engine, j->id);
        const char *message = NULL;

        errmsg_clear();
        if (!c)
                r = errmsg_set(-ESRCH, "The container was removed during the update.");
        else if (r < 0)
                (void) errmsg_set(r, "systemd refused the new limits: %s",
                                  error && error->message ? error->message : strerror(-r));
        else if (is_running(c)) {
                r = engine_apply_v1_limits(j->engine, c, c->pid, &j->merged);
                if (r < 0)
                        (void) errmsg_set(r, "Cannot apply the cgroup v1 limits: %s", strerror(-r));
        }
        if (c && c->live)
                ((Live *) c->live)->updating = false;
        if (r >= 0)
                update_commit(j->engine, c, &j->merged);
        else
                message = errmsg_last();
        j->done(c, r, message, -EBADF, j->userdata);
        scope_limits_done(&j->merged);
        free(j);
}

int engine_update(Engine *e, Container *c, const ScopeLimits *update, EngineDone done, void *userdata) {
        _cleanup_(scope_limits_done) ScopeLimits merged = {};
        const char *reason = NULL;
        UpdateJob *j;
        Live *l;
        int r;

        r = scope_limits_copy(&c->config.limits, &merged);
        if (r >= 0)
                r = scope_limits_merge(&merged, update);
        if (r < 0)
                return r;
        if (scope_limits_verify(&merged, &reason) < 0)
                return errmsg_set(-EINVAL, "%s", reason);
        if (!is_running(c)) {
                update_commit(e, c, &merged);
                done(c, 0, NULL, -EBADF, userdata);
                return 0;
        }
        /* One at a time: each sends the whole merged set, and a second one
         * merged before the first is recorded would drop its changes. */
        l = engine_live(e, c);
        if (!l)
                return -ENOMEM;
        if (l->updating)
                return errmsg_set(-EBUSY, "An update of container %s is under way already.", c->name);
        j = calloc(1, sizeof *j);
        if (!j)
                return -ENOMEM;
        *j = (UpdateJob) { .engine = e, .merged = merged, .done = done, .userdata = userdata };
        merged = (ScopeLimits) {};
        strcpy(j->id, c->id);
        r = e->units->set_limits(e->units_data, c->unit, &j->merged, on_limits_set, j);
        if (r < 0) {
                scope_limits_done(&j->merged);
                free(j);
                return errmsg_set(r, "Cannot ask systemd for the new limits: %s", strerror(-r));
        }
        l->updating = true;
        return 0;
}
