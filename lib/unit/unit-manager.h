/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/* What the engine asks of systemd, behind a small interface, as crun puts
 * its cgroup managers behind a struct of function pointers: the sd-bus
 * implementation is unit_manager_systemd (unit-manager-systemd.c, data: the
 * sd_bus), and the engine's unit tests drive the engine against a fake
 * (tests/unit-manager-fake.c).
 *
 * Every call is asynchronous: cb runs once, later, from the event loop,
 * never from within the call; with r < 0 (and systemd's error, if it sent
 * one) when it failed, else with systemd's result ("done", or a job's
 * "failed", "canceled", ...). A call that hands out a UnitCall frees it
 * once cb has run; unit_call_cancel() before that frees it, and cb never
 * runs then. */

#include <sys/types.h>
#include <systemd/sd-bus.h>

#include "scope.h"

typedef struct UnitCall UnitCall;

typedef struct UnitManager {
        /* StartTransientUnit of the scope berth-NAME.scope holding pid, and its job. */
        int (*start_scope)(void *data, const char *unit, pid_t pid, const ScopeLimits *l,
                           char * const *extra_props, ScopeCallback cb, void *userdata, UnitCall **ret);
        /* Until the unit is gone, or -ETIMEDOUT after timeout_usec. */
        int (*wait_removed)(void *data, const char *unit, uint64_t timeout_usec, ScopeCallback cb,
                            void *userdata, UnitCall **ret);
        /* AttachProcessesToUnit: pid into the unit's cgroup. */
        int (*attach)(void *data, const char *unit, pid_t pid, ScopeCallback cb, void *userdata, UnitCall **ret);
        /* KillUnit (whom: "all" or "main"); cb may be NULL. */
        int (*kill)(void *data, const char *unit, const char *whom, int sig, ScopeCallback cb, void *userdata);
        /* SetUnitProperties(runtime) of the limits that are set. */
        int (*set_limits)(void *data, const char *unit, const ScopeLimits *l, ScopeCallback cb, void *userdata);
        /* FreezeUnit/ThawUnit (the v1 freezer where there is none); cb may be NULL. */
        int (*freeze)(void *data, const char *unit, bool freeze, ScopeCallback cb, void *userdata);
        void (*cancel)(void *data, UnitCall *call);

        /* The file descriptor store, which keeps fds for berthd across its
         * restarts: fd under name, name's fd dropped, and at start what it
         * kept: n names and fds (owned by the caller then), n returned. */
        void (*fdstore_put)(void *data, const char *name, int fd);
        void (*fdstore_remove)(void *data, const char *name);
        int (*fdstore_load)(void *data, char ***ret_names, int **ret_fds);
} UnitManager;

extern const UnitManager unit_manager_systemd;
