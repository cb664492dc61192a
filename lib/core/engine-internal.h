/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include "engine.h"
#include "oom-watch.h"
#include "runtime.h"
#include "scope.h"
#include "unit-manager.h"
#include "work-queue.h"

/* The engine's files call only downwards, in this order (none calls one
 * above it):
 *   engine-live.c, engine-fdstore.c                    Live, waiters, saving; fd store
 *   engine-network.c                                   leases, veths, ports, DNS names, the firewall
 *   engine-create.c                                    creation
 *   engine-terminal.c, engine-cgroup.c                 detached terminals; v1 cgroups, OOM
 *   engine-exec.c                                      exec'd processes
 *   engine.c                                           the Engine, removal, shutdown
 *   engine-start.c                                     start, exit, re-adoption
 *   engine-ops.c                                       stop, kill, remove, pause, update, wait */

typedef struct ExecJob ExecJob;
typedef struct NetSetup NetSetup;
typedef struct DnsServer DnsServer;
typedef struct Firewall Firewall;

struct Waiter {
        EngineDone done;
        void *userdata;
        struct Waiter *next, *prev;
};

/* What the engine keeps about a container while berthd runs. */
typedef struct Live {
        Engine *engine;
        Container *container;
        sd_event_source *exit_source;
        sd_event_source *stop_timer;
        sd_event_source *reap_timer;  /* adopted leader exited, not reaped yet */
        unsigned reap_tries;
        UnitCall *job;              /* systemd: the scope's start, or the wait for the last one to go */
        OomWatch *oom;
        sd_event_source *terminal;    /* -d -t: the pty master, drained into the journal */
        bool attach;
        RuntimeProcess process;     /* between spawn and release */
        sd_event_source *setup_io;  /* the released child's channel, until it exec'd */
        sd_event_source *setup_timer;
        EngineDone start_done;
        void *start_userdata;
        Waiter *watchers;           /* wait: told of the exit first, change nothing */
        Waiter *waiters;            /* stop, restart: run at exit, once it is recorded */
        Waiter *removers;           /* rm -f of a running container: run at removal */
        ExecJob *execs;             /* exec'd processes, in setup or running */
        bool adopted;               /* not our child: its status comes from pidfs */
        bool remove_at_exit;
        bool restarting;            /* the coming exit is a restart's: no --rm removal */
        bool scope_retried;         /* the start waited once for the last run's scope to go */
        bool updating;              /* SetUnitProperties in flight */
        NetSetup *net_setup;        /* the network's setup on the worker, in flight */
        bool net_ready, scope_ready; /* a start releases the leader once both are */
        int *port_fds;              /* the published ports' reservations */
        size_t n_port_fds;
} Live;

typedef struct VethReap {
        int ifindex;
        uint64_t due_usec;          /* CLOCK_MONOTONIC */
} VethReap;

struct Engine {
        sd_event *event;
        sd_bus *bus;                /* the systemd UnitManager's, or NULL */
        const UnitManager *units;   /* everything asked of systemd */
        void *units_data;
        Store *store;
        int root_fd;
        char *root;
        CgroupVersion cgroup_version;
        bool cpu_accounting;        /* systemd can count CPU time here (CPUAccounting=) */
        uint64_t setup_timeout_usec; /* release to exec, of a start or an exec */
        ContainerTable *containers;
        EngineCallbacks cb;
        void *userdata;
        NetworkTable *networks;
        WorkQueue *net_queue;       /* netlink and firewall calls, in order */
        Firewall *firewall;         /* the net_queue's thread only */
        char **bridges_ready;       /* the net_queue's thread only: bridges set up by it */
        bool firewall_loaded;       /* the table's load is queued or done */
        sd_event_source *firewall_watch;
        bool forward_open_queued;   /* an opening of iptables' FORWARD chains is queued */
        int forward_open_r;         /* its result, written by the worker */
        DnsServer *dns;
        VethReap *veth_reaps;       /* host ends of exited containers' veths, to check later */
        size_t n_veth_reaps, alloc_veth_reaps;
        sd_event_source *veth_reap_timer;
        bool ip_forward;
        bool net_stopping;          /* the worker is being joined: nothing more is queued */
};

Live *engine_live(Engine *e, Container *c);
void engine_changed(Engine *e, Container *c);
int engine_save(Engine *e, Container *c);
int engine_save_state(Engine *e, Container *c);
int engine_create_full(Engine *e, Container *c, const char *image, bool durable, Container **ret);
int engine_add_waiter(Waiter **list, EngineDone done, void *userdata);
/* ret names the waiter for engine_remove_waiter(). */
int engine_add_waiter_full(Waiter **list, EngineDone done, void *userdata, Waiter **ret);
void engine_remove_waiter(Waiter **list, Waiter *w);
void engine_run_waiters(Waiter **list, Container *c, int r, const char *message);
/* Forgets the container: releases its image, removes its state, frees it. */
void engine_finish_remove(Engine *e, Container *c);
/* The leader is gone: records the status and tells everybody waiting. */
void engine_handle_exit(Engine *e, Container *c);
int engine_watch_exit(Engine *e, Container *c);
void engine_watch_oom(Engine *e, Container *c);
void engine_remove_v1_cgroups(Engine *e, Container *c);
char *engine_control_group(const Container *c);
int engine_apply_v1_limits(Engine *e, const Container *c, pid_t pid, const ScopeLimits *l);
/* The container goes: its execs' callbacks are told, their processes in
 * setup killed, those running left alone (their exit is not watched). */
void engine_exec_cancel_all(Live *l);
/* Reaps a child of ours once it has exited, from the loop. Takes pidfd. */
void engine_reap(Engine *e, int pidfd);
/* The time limit of a setup: fires after e->setup_timeout_usec. */
int engine_add_setup_timer(Engine *e, sd_event_source **ret, sd_event_time_handler_t handler, void *userdata);
/* "did not finish its setup within 30 s" */
void engine_setup_timeout_message(Engine *e, const char *what, char *buf, size_t size);
/* engine-network.c */
/* Creation: leases the container's addresses (-P: exposed_ports published). */
int engine_network_prepare(Engine *e, Container *c, char **exposed_ports, bool publish_all);
void engine_network_added(Engine *e, Container *c);
void engine_network_release(Engine *e, Container *c);
/* A start, once the leader is alive: done when its network is ready. */
int engine_network_setup(Engine *e, Container *c, EngineNetworkDone done, void *userdata);
void engine_network_teardown(Engine *e, Container *c);
void engine_network_adopt(Engine *e, Container *c, char **names, int *fds, int n_fds);
void engine_network_loaded(Engine *e);
int engine_network_init(Engine *e);
void engine_network_done(Engine *e);

/* Takes the master of a detached container's terminal. */
int engine_drain_terminal(Engine *e, Container *c, int master, bool store);

int engine_write_etc_files(Engine *e, Container *c);
void process_spec_from_config(RuntimeProcessSpec *p, const ContainerConfig *cfg,
                              char **argv, const EngineStdio *stdio);

/* systemd's file descriptor store keeps leaders' pidfds across restarts
 * (engine-fdstore.c). */
void engine_fdstore_put(Engine *e, Container *c, int fd, const char *suffix);
void engine_fdstore_remove(Engine *e, Container *c);
void engine_fdstore_remove_name(Engine *e, const char *name);
/* Takes the fd stored under name id out of what UnitManager.fdstore_load()
 * gave (its name is freed), or -EBADF. */
int engine_fdstore_take(char **names, int *fds, int n_fds, const char *id);
