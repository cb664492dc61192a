/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The UnitManager of the real systemd: scope.c's asynchronous calls on the
 * sd_bus given as data, and the fd store through sd_notify. */
#include <systemd/sd-daemon.h>

#include "unit-manager.h"

struct UnitCall {
        ScopeJob *job;
        sd_bus_slot *slot;
        ScopeCallback cb;
        void *userdata;
};

static void call_free(UnitCall *c) {
        if (!c)
                return;
        scope_job_free(c->job);
        sd_bus_slot_unref(c->slot);
        free(c);
}

/* The call goes before the callback, which may start another. */
static void call_done(const char *result, int r, const sd_bus_error *error, void *userdata) {
        UnitCall *c = userdata;
        ScopeCallback cb = c->cb;
        void *u = c->userdata;

        call_free(c);
        if (cb)
                cb(result, r, error, u);
}

static int call_new(ScopeCallback cb, void *userdata, UnitCall **ret) {
        UnitCall *c = calloc(1, sizeof *c);

        if (!c)
                return -ENOMEM;
        *c = (UnitCall) { .cb = cb, .userdata = userdata };
        *ret = c;
        return 0;
}

static int sd_start_scope(void *data, const char *unit, pid_t pid, const ScopeLimits *l,
                          char * const *extra_props, ScopeCallback cb, void *userdata, UnitCall **ret) {
        UnitCall *c;
        int r;

        r = call_new(cb, userdata, &c);
        if (r < 0)
                return r;
        r = scope_start(data, unit, pid, l, extra_props, call_done, c, &c->job);
        if (r < 0) {
                call_free(c);
                return r;
        }
        *ret = c;
        return 0;
}

static int sd_wait_removed(void *data, const char *unit, uint64_t timeout_usec, ScopeCallback cb,
                           void *userdata, UnitCall **ret) {
        UnitCall *c;
        int r;

        r = call_new(cb, userdata, &c);
        if (r < 0)
                return r;
        r = scope_wait_removed(data, unit, timeout_usec, call_done, c, &c->job);
        if (r < 0) {
                call_free(c);
                return r;
        }
        *ret = c;
        return 0;
}

static int reply_attached(sd_bus_message *reply, void *userdata, sd_bus_error *ret_error) {
        const sd_bus_error *e = sd_bus_message_get_error(reply);

        call_done(e ? NULL : "done", e ? -sd_bus_error_get_errno(e) : 0, e, userdata);
        return 0;
}

static int sd_attach(void *data, const char *unit, pid_t pid, ScopeCallback cb, void *userdata, UnitCall **ret) {
        UnitCall *c;
        int r;

        r = call_new(cb, userdata, &c);
        if (r < 0)
                return r;
        r = sd_bus_call_method_async(data, &c->slot, "org.freedesktop.systemd1", "/org/freedesktop/systemd1",
                                     "org.freedesktop.systemd1.Manager", "AttachProcessesToUnit",
                                     reply_attached, c, "ssau", unit, "", 1, (uint32_t) pid);
        if (r < 0) {
                call_free(c);
                return r;
        }
        *ret = c;
        return 0;
}

static int sd_kill(void *data, const char *unit, const char *whom, int sig, ScopeCallback cb, void *userdata) {
        return scope_kill(data, unit, whom, sig, cb, userdata);
}

static int sd_set_limits(void *data, const char *unit, const ScopeLimits *l, ScopeCallback cb, void *userdata) {
        return scope_set_limits(data, unit, l, cb, userdata);
}

static int sd_freeze(void *data, const char *unit, bool freeze, ScopeCallback cb, void *userdata) {
        return scope_freeze(data, unit, freeze, cb, userdata, NULL);
}

static void sd_cancel(void *data, UnitCall *c) {
        call_free(c);
}

static void sd_fdstore_put(void *data, const char *name, int fd) {
        _cleanup_free_ char *msg = strjoin("FDSTORE=1\nFDNAME=", name);

        if (!msg || fd < 0)
                return;
        (void) sd_pid_notify_with_fds(0, false, msg, &fd, 1);
}

static void sd_fdstore_remove(void *data, const char *name) {
        _cleanup_free_ char *msg = strjoin("FDSTOREREMOVE=1\nFDNAME=", name);

        if (msg)
                (void) sd_notify(false, msg);
}

static int sd_fdstore_load(void *data, char ***ret_names, int **ret_fds) {
        _cleanup_strv_free_ char **names = NULL;
        int n = sd_listen_fds_with_names(true, &names);
        int *fds;

        *ret_names = NULL;
        *ret_fds = NULL;
        if (n <= 0)
                return 0;
        fds = calloc((size_t) n, sizeof(int));
        if (!fds) {
                for (int i = 0; i < n; i++)
                        safe_close(SD_LISTEN_FDS_START + i);
                return -ENOMEM;
        }
        for (int i = 0; i < n; i++)
                fds[i] = SD_LISTEN_FDS_START + i;
        *ret_names = TAKE_PTR(names);
        *ret_fds = fds;
        return n;
}

const UnitManager unit_manager_systemd = {
        .start_scope = sd_start_scope,
        .wait_removed = sd_wait_removed,
        .attach = sd_attach,
        .kill = sd_kill,
        .set_limits = sd_set_limits,
        .freeze = sd_freeze,
        .cancel = sd_cancel,
        .fdstore_put = sd_fdstore_put,
        .fdstore_remove = sd_fdstore_remove,
        .fdstore_load = sd_fdstore_load,
};
