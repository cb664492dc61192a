/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* What the engine keeps about a container while berthd runs (Live), its
 * waiters, saving, and the loop's helpers every operation uses (reaping,
 * setup timers). Calls nothing else of the engine. */
#include <sys/wait.h>

#include "engine-internal.h"
#include "log.h"

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
