/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <fcntl.h>
#include <signal.h>
#include <sys/stat.h>

#include "engine-internal.h"
#include "fileio.h"
#include "log.h"

int engine_new(sd_event *event, sd_bus *bus, Store *store, int root_fd, const char *root,
               const EngineCallbacks *cb, void *userdata, Engine **ret) {
        _cleanup_(engine_freep) Engine *e = NULL;
        int r;

        e = calloc(1, sizeof *e);
        if (!e)
                return -ENOMEM;
        e->event = sd_event_ref(event);
        e->bus = sd_bus_ref(bus);
        e->store = store;
        e->root_fd = root_fd;
        e->cb = *cb;
        e->userdata = userdata;
        e->setup_timeout_usec = ENGINE_SETUP_TIMEOUT_USEC_DEFAULT;
        e->cgroup_version = cgroup_detect_version(NULL);
        e->cpu_accounting = cgroup_cpu_accounting_readable(NULL, e->cgroup_version);
        e->root = strdup(root);
        if (!e->root)
                return -ENOMEM;
        if (mkdirat(root_fd, CONTAINER_DIR, 0700) < 0 && errno != EEXIST)
                return -errno;
        container_trash_sweep(root_fd);
        r = container_registry_new(&e->registry);
        if (r < 0)
                return r;
        *ret = TAKE_PTR(e);
        return 0;
}

void engine_set_setup_timeout(Engine *e, uint64_t usec) {
        e->setup_timeout_usec = usec > 0 ? usec : ENGINE_SETUP_TIMEOUT_USEC_DEFAULT;
}

int engine_add_setup_timer(Engine *e, sd_event_source **ret, sd_event_time_handler_t handler, void *userdata) {
        return sd_event_add_time_relative(e->event, ret, CLOCK_MONOTONIC, e->setup_timeout_usec, 0, handler,
                                          userdata);
}

void engine_setup_timeout_message(Engine *e, const char *what, char *buf, size_t size) {
        snprintf(buf, size, "%s did not finish its setup within %" PRIu64 " s (SetupTimeoutSec= in "
                 "berthd.conf); it was killed.", what, (e->setup_timeout_usec + USEC_PER_SEC - 1) / USEC_PER_SEC);
}

static int on_reap(sd_event_source *s, int fd, uint32_t revents, void *userdata) {
        siginfo_t si = {};

        if (waitid(P_PIDFD, (id_t) fd, &si, WEXITED | WNOHANG) >= 0 && si.si_pid == 0)
                return 0; /* not yet */
        /* The loop's reference is the only one: this frees it. */
        sd_event_source_disable_unref(s);
        return 0;
}

/* A process killed in setup may take its time to die (a read of a FUSE
 * file, say): the loop reaps it once it is gone instead of waiting. */
void engine_reap(Engine *e, int pidfd) {
        sd_event_source *s = NULL;

        if (pidfd < 0)
                return;
        if (sd_event_add_io(e->event, &s, pidfd, EPOLLIN, on_reap, NULL) < 0) {
                log_warning("Cannot watch a process to reap it; it stays a zombie.");
                safe_close(pidfd);
                return;
        }
        (void) sd_event_source_set_io_fd_own(s, true);
        (void) sd_event_source_set_floating(s, true);
        sd_event_source_unref(s);
}

static void live_free(Live *l) {
        if (!l)
                return;
        engine_run_waiters(&l->watchers, l->container, -ECANCELED, "berthd is stopping");
        engine_run_waiters(&l->waiters, l->container, -ECANCELED, "berthd is stopping");
        engine_run_waiters(&l->removers, l->container, -ECANCELED, "berthd is stopping");
        sd_event_source_disable_unref(l->exit_source);
        sd_event_source_disable_unref(l->stop_timer);
        sd_event_source_disable_unref(l->reap_timer);
        scope_job_free(l->job);
        oom_watch_free(l->oom);
        sd_event_source_disable_unref(l->terminal);
        sd_event_source_disable_unref(l->setup_io);
        sd_event_source_disable_unref(l->setup_timer);
        engine_exec_cancel_all(l);
        /* A leader still in setup is killed, and reaped by the loop. */
        runtime_process_kill(&l->process);
        engine_reap(l->engine, TAKE_FD(l->process.pidfd));
        runtime_process_done(&l->process);
        l->container->live = NULL;
        free(l);
}

void engine_cancel_all(Engine *e) {
        const char *key;
        void *value;
        size_t i = 0;

        while (hashmap_iterate(e->registry->by_id, &i, &key, &value))
                live_free(((Container *) value)->live);
}

Engine *engine_free(Engine *e) {
        if (!e)
                return NULL;
        if (e->registry)
                engine_cancel_all(e);
        container_registry_free(e->registry);
        sd_bus_unref(e->bus);
        sd_event_unref(e->event);
        free(e->root);
        free(e);
        return NULL;
}

ContainerRegistry *engine_registry(Engine *e) {
        return e->registry;
}

int engine_find(Engine *e, const char *name_or_id, Container **ret) {
        return container_registry_find(e->registry, name_or_id, ret);
}

Live *engine_live(Engine *e, Container *c) {
        Live *l = c->live;

        if (l)
                return l;
        l = calloc(1, sizeof *l);
        if (!l)
                return NULL;
        *l = (Live) { .engine = e, .container = c, .process = RUNTIME_PROCESS_NULL };
        c->live = l;
        return l;
}

void engine_changed(Engine *e, Container *c) {
        if (e->cb.changed)
                e->cb.changed(c, e->userdata);
}

static int save(Engine *e, Container *c, bool durable) {
        int r = container_save(c, e->root_fd, durable);

        if (r < 0)
                log_warning_errno(r, "Failed to save the state of container %s: %m", c->name);
        return r;
}

/* Configuration, creation and removal: must survive a power loss. */
int engine_save(Engine *e, Container *c) {
        return save(e, c, true);
}

/* What the processes are doing (running, paused, exited, OOM-killed): none
 * of them survives a power loss, and after one engine_load finds the leader
 * gone whatever the file says. Atomic, so a crash of berthd alone (the page
 * cache lives on) sees either state; not fsync'd, which would put two disk
 * flushes on the way of every start and every exit. */
int engine_save_state(Engine *e, Container *c) {
        return save(e, c, false);
}

int engine_add_waiter(Waiter **list, EngineDone done, void *userdata) {
        return engine_add_waiter_full(list, done, userdata, NULL);
}

int engine_add_waiter_full(Waiter **list, EngineDone done, void *userdata, Waiter **ret) {
        Waiter *w;

        if (ret)
                *ret = NULL;
        if (!done)
                return 0;
        w = calloc(1, sizeof *w);
        if (!w)
                return -ENOMEM;
        *w = (Waiter) { .done = done, .userdata = userdata, .next = *list };
        if (*list)
                (*list)->prev = w;
        *list = w;
        if (ret)
                *ret = w;
        return 0;
}

/* Doubly linked, so that the waits of a caller that left go in O(1) each,
 * however many others wait for the same container. */
void engine_remove_waiter(Waiter **list, Waiter *w) {
        if (w->prev)
                w->prev->next = w->next;
        else
                *list = w->next;
        if (w->next)
                w->next->prev = w->prev;
        free(w);
}

void engine_run_waiters(Waiter **list, Container *c, int r, const char *message) {
        while (*list) {
                Waiter *w = *list;
                *list = w->next;
                if (*list)
                        (*list)->prev = NULL;
                w->done(c, r, message, -EBADF, w->userdata);
                free(w);
        }
}

void engine_finish_remove(Engine *e, Container *c) {
        Live *l = c->live;
        int r;

        c->state = CONTAINER_REMOVING;
        (void) engine_save(e, c);
        engine_fdstore_remove(c);
        r = store_release_image(e->store, c->image_id, c->id);
        if (r < 0 && r != -ENOENT)
                log_warning_errno(r, "Failed to release image %s for %s: %m", c->image_id, c->name);
        errmsg_clear();         /* not the removal's error (a retry finds no hold: fine) */
        r = container_remove_dir(e->root_fd, c->id);
        if (r < 0) {
                /* It stays, "removing", with its state: rm -f tries again, also
                 * after a restart. */
                log_warning_errno(r, "Failed to remove the directory of container %s: %m", c->name);
                engine_changed(e, c);
                if (l) {
                        /* The sentence goes with the result: the waiters' replies are
                         * sent later than the thread's last sentence lives. */
                        char message[256];

                        snprintf(message, sizeof message, "Cannot remove the container's directory: %s.",
                                 strerror(-r));
                        engine_run_waiters(&l->removers, c, errmsg_set(r, "%s", message), message);
                }
                return;
        }
        if (l)
                engine_run_waiters(&l->removers, c, 0, NULL);
        if (e->cb.removed)
                e->cb.removed(c, e->userdata);
        container_registry_remove(e->registry, c);
        live_free(c->live);
        container_free(c);
}
