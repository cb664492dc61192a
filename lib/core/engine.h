/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/* The container engine: makes containers from stored images, runs them in
 * transient systemd scopes through the runtime, follows them to their exit,
 * and re-adopts them when berthd starts again. It knows nothing of D-Bus
 * objects: the service registers callbacks to publish what changes.
 *
 * Lifecycle of a start: runtime_spawn() clones the leader, which waits;
 * StartTransientUnit puts it in berth-NAME.scope; when systemd's job is done
 * runtime_release() lets it exec the command. The leader's pidfd is watched
 * for the exit, and kept in systemd's file descriptor store so that a
 * restarted berthd can still learn the real exit status (PIDFD_INFO_EXIT). */

#include <systemd/sd-bus.h>
#include <systemd/sd-event.h>

#include "cgroup-util.h"
#include "container.h"
#include "network.h"
#include "store.h"

typedef struct Engine Engine;

typedef struct EngineCallbacks {
        void (*added)(Container *c, void *userdata);
        void (*changed)(Container *c, void *userdata);
        /* Called before the container is freed. */
        void (*removed)(Container *c, void *userdata);
        void (*network_added)(Network *n, void *userdata);
        void (*network_changed)(Network *n, void *userdata);   /* its containers */
        /* Called before the network is freed. */
        void (*network_removed)(Network *n, void *userdata);
} EngineCallbacks;

/* Where a started container's stdio goes: the journal (detached), the
 * caller's fds (attached), or a pseudo-terminal whose master the caller gets. */
typedef struct EngineStdio {
        int stdin_fd, stdout_fd, stderr_fd;   /* -EBADF: none */
        bool attach;                          /* use the fds above instead of the journal */
} EngineStdio;

#define ENGINE_STDIO_DETACHED \
        ((EngineStdio) { .stdin_fd = -EBADF, .stdout_fd = -EBADF, .stderr_fd = -EBADF })

/* Completion of an asynchronous operation: r < 0 with a message on failure. */
typedef void (*EngineDone)(Container *c, int r, const char *message, int pty_master, void *userdata);

int engine_new(sd_event *event, sd_bus *bus, Store *store, int root_fd, const char *root,
               const EngineCallbacks *cb, void *userdata, Engine **ret);
/* The same with another UnitManager than systemd's (the unit tests' fake):
 * data is handed to its functions. */
typedef struct UnitManager UnitManager;
int engine_new_full(sd_event *event, const UnitManager *units, void *units_data, Store *store, int root_fd,
                    const char *root, const EngineCallbacks *cb, void *userdata, Engine **ret);
Engine *engine_free(Engine *e);
DEFINE_TRIVIAL_CLEANUP_FUNC(Engine *, engine_free);

/* How long a container's or an exec's setup may take from the release to
 * the exec of the command: it reads the container's files, which the image
 * or the running container may have made slow. Then it is killed. */
#define ENGINE_SETUP_TIMEOUT_USEC_DEFAULT (30 * USEC_PER_SEC)
void engine_set_setup_timeout(Engine *e, uint64_t usec);

/* Loads the state files, re-adopts running containers, and collects the exit
 * status of those that ended while berthd was away. */
int engine_load(Engine *e);

ContainerTable *engine_containers(Engine *e);
int engine_find(Engine *e, const char *name_or_id, Container **ret);

/* c carries what the caller asked for (name, argv, env, mounts, limits...);
 * the engine resolves image, fills in the image's config, gives it an id and
 * a name, prepares its directories and saves it. Takes c. */
int engine_create(Engine *e, Container *c, const char *image, Container **ret);

int engine_start(Engine *e, Container *c, const EngineStdio *stdio, EngineDone done, void *userdata);
/* engine_create() and engine_start() in one, for "run": the creation is made
 * durable while systemd makes the scope instead of before. *ret is set once
 * the container exists, even when the start then fails (r < 0, done not
 * called); otherwise done runs once it has started or failed to. */
int engine_run(Engine *e, Container *c, const char *image, const EngineStdio *stdio, EngineDone done,
               void *userdata, Container **ret);
/* Sends the stop signal, then SIGKILL to the whole scope after the timeout;
 * done runs when the container has exited. timeout_usec UINT64_MAX: the
 * container's own. */
int engine_stop(Engine *e, Container *c, uint64_t timeout_usec, EngineDone done, void *userdata);
/* engine_stop() then engine_start(), detached. As in Docker, the stop of a
 * restart does not remove a --rm container. done gets the start's result. */
int engine_restart(Engine *e, Container *c, uint64_t timeout_usec, EngineDone done, void *userdata);
int engine_kill(Engine *e, Container *c, int sig);
/* Refuses a running container unless force (then it is killed first);
 * done runs once it is gone. */
int engine_remove(Engine *e, Container *c, bool force, EngineDone done, void *userdata);
int engine_pause(Engine *e, Container *c, bool pause, EngineDone done, void *userdata);
/* Lays update over the container's limits and, while it runs, has systemd
 * apply them (SetUnitProperties); done runs once they are in force and
 * recorded. One update at a time per container (-EBUSY). */
int engine_update(Engine *e, Container *c, const ScopeLimits *update, EngineDone done, void *userdata);

/* Runs another process in the container (its namespaces, scope and security
 * settings); done runs once it has started, exited() when it exits. */
typedef void (*EngineExecExited)(int exit_code, void *userdata);
int engine_exec(Engine *e, Container *c, char **argv, char **env, const char *user,
                const char *cwd, bool tty, const EngineStdio *stdio,
                EngineDone started, EngineExecExited exited, void *userdata);

/* Waiting for an exit: done runs once the container is exited (at once if it
 * is). *ret (optional, set before done can run) names the wait for
 * engine_wait_cancel(), which forgets it: done never runs then. The handle
 * is valid until done runs or the wait is cancelled. */
typedef struct Waiter Waiter;
int engine_wait(Engine *e, Container *c, EngineDone done, void *userdata, Waiter **ret);
void engine_wait_cancel(Engine *e, Container *c, Waiter *w);

/* Networking (docs/networking.md). Configured before engine_load(). */
typedef struct EngineNetworkConfig {
        const char *machine_id;        /* the IPv6 ULA pool is derived from it */
        InPrefix default_subnet;       /* family 0: 10.88.0.0/16 */
        InPrefix user_pool;            /* family 0: 10.89.0.0/16 */
        bool ip_forward;               /* IPForward=: may berthd enable forwarding */
} EngineNetworkConfig;
void engine_network_configure(Engine *e, const EngineNetworkConfig *cfg);

typedef void (*EngineNetworkDone)(Container *c, int r, const char *message, void *userdata);
NetworkTable *engine_networks(Engine *e);
/* By name, id or id prefix; "bridge" is made on first use. */
int engine_network_find(Engine *e, const char *ref, Network **ret);
int engine_network_create(Engine *e, const NetworkCreateSpec *spec, Network **ret);
/* -EBUSY while containers are on it. Frees n. */
int engine_network_remove(Engine *e, Network *n);
/* Removes every network without containers but "bridge"; their names. */
int engine_network_prune(Engine *e, char ***ret_removed);
/* req: the addresses asked for (addrs), aliases, MAC; its contents are
 * taken on success. done runs once the container is on it. */
int engine_network_connect(Engine *e, Network *n, Container *c, ContainerEndpoint *req, EngineNetworkDone done,
                           void *userdata);
int engine_network_disconnect(Engine *e, Network *n, Container *c, bool force, EngineNetworkDone done,
                              void *userdata);

/* Frees every pending operation's callbacks (shutdown). */
void engine_cancel_all(Engine *e);
