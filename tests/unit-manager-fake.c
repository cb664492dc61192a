/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "unit-manager-fake.h"

struct UnitCall {
        FakeUnits *fake;
        sd_event_source *source;
        ScopeCallback cb;
        void *userdata;
        FakeMode mode;
};

static void call_free(UnitCall *c) {
        if (!c)
                return;
        sd_event_source_disable_unref(c->source);
        c->fake->n_pending--;
        free(c);
}

static int on_answer(sd_event_source *s, void *userdata) {
        UnitCall *c = userdata;
        ScopeCallback cb = c->cb;
        void *u = c->userdata;
        FakeUnits *f = c->fake;
        sd_bus_error error = SD_BUS_ERROR_NULL;
        FakeMode mode = c->mode;

        call_free(c);
        if (mode == FAKE_FAIL)
                (void) sd_bus_error_set(&error, f->fail_error ?: SD_BUS_ERROR_FAILED, "The fake systemd says no.");
        if (cb) {
                if (mode == FAKE_ANSWER)
                        cb("done", 0, NULL, u);
                else if (mode == FAKE_FAIL)
                        cb(NULL, -sd_bus_error_get_errno(&error) ?: -EIO, &error, u);
                else
                        cb(NULL, -ETIMEDOUT, NULL, u);
        }
        sd_bus_error_free(&error);
        return 0;
}

static int on_timeout(sd_event_source *s, uint64_t usec, void *userdata) {
        return on_answer(s, userdata);
}

/* ret NULL: the call answers all the same and frees itself. */
static int call_new(FakeUnits *f, FakeMode mode, ScopeCallback cb, void *userdata, UnitCall **ret) {
        UnitCall *c = calloc(1, sizeof *c);
        int r = 0;

        if (!c)
                return -ENOMEM;
        *c = (UnitCall) { .fake = f, .cb = cb, .userdata = userdata, .mode = mode };
        f->n_pending++;
        if (mode == FAKE_ANSWER || mode == FAKE_FAIL)
                r = sd_event_add_defer(f->event, &c->source, on_answer, c);
        else if (mode == FAKE_TIMEOUT)
                r = sd_event_add_time_relative(f->event, &c->source, CLOCK_MONOTONIC, 50 * 1000, 0, on_timeout, c);
        if (r < 0) {
                call_free(c);
                return r;
        }
        if (ret)
                *ret = c;
        return 0;
}

static void remember(FakeUnits *f, const char *unit, pid_t pid) {
        snprintf(f->last_unit, sizeof f->last_unit, "%s", unit);
        f->last_pid = pid;
        for (size_t i = 0; i < f->n_units; i++)
                if (strcmp(f->units[i], unit) == 0) {
                        f->pids[i] = pid;
                        return;
                }
        if (f->n_units < 16) {
                f->units[f->n_units] = strdup(unit);
                f->pids[f->n_units++] = pid;
        }
}

static int fake_start_scope(void *data, const char *unit, pid_t pid, const ScopeLimits *l,
                            char * const *extra_props, ScopeCallback cb, void *userdata, UnitCall **ret) {
        FakeUnits *f = data;

        f->n_start++;
        remember(f, unit, pid);
        return call_new(f, f->start_mode, cb, userdata, ret);
}

static int fake_wait_removed(void *data, const char *unit, uint64_t timeout_usec, ScopeCallback cb,
                             void *userdata, UnitCall **ret) {
        FakeUnits *f = data;

        f->n_wait_removed++;
        return call_new(f, FAKE_ANSWER, cb, userdata, ret);
}

static int fake_attach(void *data, const char *unit, pid_t pid, ScopeCallback cb, void *userdata, UnitCall **ret) {
        FakeUnits *f = data;

        f->n_attach++;
        return call_new(f, f->attach_mode, cb, userdata, ret);
}

static int fake_kill(void *data, const char *unit, const char *whom, int sig, ScopeCallback cb, void *userdata) {
        FakeUnits *f = data;

        f->n_kill++;
        f->last_signal = sig;
        for (size_t i = 0; i < f->n_units; i++)
                if (strcmp(f->units[i], unit) == 0 && f->pids[i] > 0)
                        (void) kill(f->pids[i], sig);
        return call_new(f, FAKE_ANSWER, cb, userdata, NULL);
}

static int fake_set_limits(void *data, const char *unit, const ScopeLimits *l, ScopeCallback cb, void *userdata) {
        FakeUnits *f = data;

        f->n_set_limits++;
        return call_new(f, f->limits_mode, cb, userdata, NULL);
}

static int fake_freeze(void *data, const char *unit, bool freeze, ScopeCallback cb, void *userdata) {
        FakeUnits *f = data;

        f->n_freeze++;
        return call_new(f, FAKE_ANSWER, cb, userdata, NULL);
}

static void fake_cancel(void *data, UnitCall *c) {
        FakeUnits *f = data;

        f->n_cancel++;
        call_free(c);
}

static void fake_fdstore_remove(void *data, const char *name) {
        FakeUnits *f = data;

        for (size_t i = 0; i < f->n_fds; i++)
                if (strcmp(f->fd_names[i], name) == 0) {
                        free(f->fd_names[i]);
                        close(f->fds[i]);
                        f->n_fds--;
                        f->fd_names[i] = f->fd_names[f->n_fds];
                        f->fds[i] = f->fds[f->n_fds];
                        return;
                }
}

static void fake_fdstore_put(void *data, const char *name, int fd) {
        FakeUnits *f = data;

        fake_fdstore_remove(f, name);
        if (f->n_fds >= 16)
                return;
        f->fds[f->n_fds] = fcntl(fd, F_DUPFD_CLOEXEC, 3);
        f->fd_names[f->n_fds++] = strdup(name);
}

static int fake_fdstore_load(void *data, char ***ret_names, int **ret_fds) {
        FakeUnits *f = data;
        char **names = calloc(f->n_fds + 1, sizeof(char *));
        int *fds = calloc(f->n_fds + 1, sizeof(int));

        if (!names || !fds) {
                free(names);
                free(fds);
                return -ENOMEM;
        }
        for (size_t i = 0; i < f->n_fds; i++) {
                names[i] = strdup(f->fd_names[i]);
                fds[i] = fcntl(f->fds[i], F_DUPFD_CLOEXEC, 3);
        }
        *ret_names = names;
        *ret_fds = fds;
        return (int) f->n_fds;
}

const UnitManager unit_manager_fake = {
        .start_scope = fake_start_scope,
        .wait_removed = fake_wait_removed,
        .attach = fake_attach,
        .kill = fake_kill,
        .set_limits = fake_set_limits,
        .freeze = fake_freeze,
        .cancel = fake_cancel,
        .fdstore_put = fake_fdstore_put,
        .fdstore_remove = fake_fdstore_remove,
        .fdstore_load = fake_fdstore_load,
};

void fake_units_init(FakeUnits *f, sd_event *event) {
        *f = (FakeUnits) { .event = event };
}

void fake_units_done(FakeUnits *f) {
        for (size_t i = 0; i < f->n_units; i++)
                free(f->units[i]);
        for (size_t i = 0; i < f->n_fds; i++) {
                free(f->fd_names[i]);
                close(f->fds[i]);
        }
        *f = (FakeUnits) {};
}

int fake_units_fd(FakeUnits *f, const char *name) {
        for (size_t i = 0; i < f->n_fds; i++)
                if (strcmp(f->fd_names[i], name) == 0)
                        return f->fds[i];
        return -EBADF;
}
