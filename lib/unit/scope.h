/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/* Systemd glue: every container lives in a transient scope unit
 * "berth-NAME.scope" in berth.slice. systemd holds the cgroup and the limits;
 * nothing of ours runs next to the container. All calls that wait on systemd
 * are asynchronous and report through the sd-event loop the bus is attached to. */

#include <sys/types.h>
#include <systemd/sd-bus.h>

#include "resource-limits.h"
#include "names.h"
#include "util.h"

#define SCOPE_SLICE "berth.slice"
#define SCOPE_UNIT_PREFIX CONTAINER_UNIT_PREFIX
#define SCOPE_UNIT_SUFFIX CONTAINER_UNIT_SUFFIX

/* "berth-NAME.scope"; -EINVAL unless NAME is a valid container name. */
int scope_unit_name(const char *container_name, char **ret);
bool scope_unit_name_is_valid(const char *unit);

/* Appends "Key=value" assignments of a small set of typed keys (KillSignal,
 * TimeoutStopUSec, SendSIGKILL, Description, ...): -EINVAL for unknown keys. */
int scope_append_assignments(sd_bus_message *m, char * const *assignments);
/* The complete StartTransientUnit call, unsent. */
int scope_new_start_message(sd_bus *bus, const char *unit, pid_t pid, const ScopeLimits *l,
                            char * const *extra_props, sd_bus_message **ret);

/* An asynchronous systemd job (start, stop, freeze): cb runs once, with r < 0
 * (and error, if systemd sent one) when the call failed, else with the job's
 * result ("done", "failed", "canceled", "timeout", ...). Freeing a ScopeJob
 * cancels the callback; pass ret = NULL to let the job free itself. */
typedef struct ScopeJob ScopeJob;
typedef void (*ScopeCallback)(const char *result, int r, const sd_bus_error *error, void *userdata);
ScopeJob *scope_job_free(ScopeJob *j);
DEFINE_TRIVIAL_CLEANUP_FUNC(ScopeJob *, scope_job_free);

/* Manager.Subscribe(), needed for unit PropertiesChanged; idempotent, never waits. */
int scope_subscribe(sd_bus *bus);

int scope_start(sd_bus *bus, const char *unit, pid_t pid, const ScopeLimits *l,
                char * const *extra_props, ScopeCallback cb, void *userdata, ScopeJob **ret);
int scope_stop(sd_bus *bus, const char *unit, ScopeCallback cb, void *userdata, ScopeJob **ret);
/* Single calls: cb runs once with systemd's answer, or with r < 0 (and
 * systemd's error, if it sent one). Where a call hands out ret_slot, freeing
 * that slot cancels the callback; without, the call frees itself. */

/* SetUnitProperties(runtime=true); cb gets "done". Pass the merged limits
 * (scope_limits_merge()): MemorySwapMax is derived from memory and swap
 * together, and only fields that are set are sent. */
int scope_set_limits(sd_bus *bus, const char *unit, const ScopeLimits *l, ScopeCallback cb, void *userdata);
/* KillUnit: whom is "all" (every process of the cgroup) or "main"; scopes
 * have no main process in systemd 252, so "main" fails with ESRCH there.
 * cb (may be NULL) gets "done". */
int scope_kill(sd_bus *bus, const char *unit, const char *whom, int sig, ScopeCallback cb, void *userdata);

typedef struct ScopeStats {
        uint64_t memory_current;   /* UINT64_MAX when systemd does not know */
        uint64_t cpu_usage_nsec;
        uint64_t tasks_current;
        uint64_t io_read_bytes;
        uint64_t io_write_bytes;
} ScopeStats;
typedef void (*ScopeStatsCallback)(const ScopeStats *stats, int r, void *userdata);
int scope_stats_from_message(sd_bus_message *m, ScopeStats *ret);
int scope_get_stats(sd_bus *bus, const char *unit, ScopeStatsCallback cb, void *userdata, sd_bus_slot **ret_slot);
/* The cgroup's processes (GetUnitProcesses); pids is NULL when r < 0. */
typedef void (*ScopePidsCallback)(const pid_t *pids, size_t n, int r, void *userdata);
int scope_get_pids(sd_bus *bus, const char *unit, ScopePidsCallback cb, void *userdata, sd_bus_slot **ret_slot);

/* Until the unit is gone (GetUnit says NoSuchUnit, or UnitRemoved comes;
 * needs scope_subscribe()): systemd refuses a new scope of the name while the
 * old one is loaded, which it stays a moment after its processes are gone.
 * cb gets "done", or -ETIMEDOUT after timeout_usec. */
int scope_wait_removed(sd_bus *bus, const char *unit, uint64_t timeout_usec, ScopeCallback cb, void *userdata,
                       ScopeJob **ret);
/* How long a start waits for the scope of the last run to go. */
#define SCOPE_GONE_TIMEOUT_USEC (10 * USEC_PER_SEC)

/* State watching: cb gets ActiveState/SubState as they change, and removed =
 * true once the unit is gone (UnitRemoved). Needs scope_subscribe(). */
typedef struct ScopeWatch ScopeWatch;
typedef void (*ScopeWatchCallback)(const char *unit, const char *active_state,
                                   const char *sub_state, bool removed, void *userdata);
int scope_watch(sd_bus *bus, const char *unit, ScopeWatchCallback cb, void *userdata, ScopeWatch **ret);
ScopeWatch *scope_watch_free(ScopeWatch *w);
DEFINE_TRIVIAL_CLEANUP_FUNC(ScopeWatch *, scope_watch_free);

/* Pause/unpause: FreezeUnit/ThawUnit on the unified hierarchy; on hybrid and
 * legacy hosts the v1 freezer cgroup at the scope's ControlGroup path, polled
 * from the event loop until the kernel reports FROZEN. cb gets "done" or r < 0. */
int scope_freeze(sd_bus *bus, const char *unit, bool freeze, ScopeCallback cb, void *userdata, ScopeJob **ret);
/* The v1 freezer part alone; root is normally "/sys/fs/cgroup/freezer". */
int scope_v1_freezer_state(const char *root, const char *control_group, char **ret);
/* Moves every process of the scope (as the named systemd hierarchy under
 * systemd_root lists them) into target_procs, the cgroup.procs file of a v1
 * hierarchy systemd leaves alone. What forks meanwhile follows its parent or
 * turns up in the next pass; a pass that reads the list the one before read
 * ends it (-EBUSY after 100). A process that exits meanwhile is no matter. */
int scope_v1_move_processes(const char *systemd_root, const char *control_group, const char *target_procs);
/* Removes the freezer cgroup systemd does not know about; call after the scope is gone. */
int scope_v1_freezer_remove(const char *root, const char *control_group);
