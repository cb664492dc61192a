/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/* A UnitManager for the engine's unit tests: systemd as the engine sees it,
 * answering from the event loop (a deferred event source per call) as the
 * test says, and recording what it was asked. A "scope" is only the pid it
 * was started with: kill signals that pid. The fd store keeps duplicates,
 * handed out again by fdstore_load as systemd does to a restarted berthd. */

#include <systemd/sd-event.h>

#include "unit-manager.h"

typedef enum FakeMode {
        FAKE_ANSWER,    /* "done" */
        FAKE_FAIL,      /* fail_error, as systemd's error reply */
        FAKE_TIMEOUT,   /* -ETIMEDOUT after 50 ms, as sd-bus when no reply comes */
        FAKE_SILENT,    /* never answers */
} FakeMode;

typedef struct FakeUnits {
        sd_event *event;
        FakeMode start_mode, attach_mode, limits_mode;
        const char *fail_error;         /* D-Bus error name, FAKE_FAIL */
        unsigned n_start, n_wait_removed, n_attach, n_kill, n_set_limits, n_freeze, n_cancel;
        unsigned n_pending;             /* calls whose callback has not run */
        char last_unit[256];
        pid_t last_pid;
        int last_signal;
        char *units[16];                /* started scopes and their pids */
        pid_t pids[16];
        size_t n_units;
        char *fd_names[16];             /* the fd store */
        int fds[16];
        size_t n_fds;
} FakeUnits;

extern const UnitManager unit_manager_fake;

void fake_units_init(FakeUnits *f, sd_event *event);
void fake_units_done(FakeUnits *f);
/* The fd stored under name, or -EBADF. */
int fake_units_fd(FakeUnits *f, const char *name);
