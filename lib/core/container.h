/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/* The Container model: its configuration, its life-cycle state, the state
 * file <root>/containers/<id>/state.json, and the table that finds a
 * container by id, name or id prefix. */

#include <jansson.h>
#include <sys/types.h>
#include <systemd/sd-event.h>

#include "hashmap.h"
#include "mount-spec.h"
#include "resource-limits.h"
#include "names.h"
#include "port-spec.h"
#include "util.h"

#define CONTAINER_STATE_FILE "state.json"
#define CONTAINER_DIR "containers"
/* Directories of removed containers, on their way out. */
#define CONTAINER_TRASH_DIR "trash"
/* Docker's answer for an exit status nobody could observe. */
#define CONTAINER_EXIT_CODE_UNKNOWN 255
/* ... and for failures of the engine before the command ran. */
#define CONTAINER_EXIT_CODE_ENGINE 125
/* One hex digit of a host veth's name (vb<id><slot>) */
#define CONTAINER_ENDPOINTS_MAX 16

typedef enum ContainerState {
        CONTAINER_CREATED,
        CONTAINER_RUNNING,
        CONTAINER_PAUSED,
        CONTAINER_EXITED,
        CONTAINER_REMOVING,
        _CONTAINER_STATE_MAX,
        _CONTAINER_STATE_INVALID = -EINVAL,
} ContainerState;

typedef enum NetworkMode {
        NETWORK_MODE_NONE,
        NETWORK_MODE_HOST,
        NETWORK_MODE_BRIDGE,      /* Berth networks: "bridge" or user networks (endpoints) */
        NETWORK_MODE_CONTAINER,   /* another container's namespace (network_container) */
        _NETWORK_MODE_MAX,
        _NETWORK_MODE_INVALID = -EINVAL,
} NetworkMode;

typedef struct SecurityOptions {
        char **cap_add;
        char **cap_drop;
        bool privileged;
        bool read_only;
        bool no_new_privileges;
        char *seccomp_profile;  /* NULL: the default profile; "unconfined"; or a path */
} SecurityOptions;

/* The container on one network: its lease, held from creation (or connect)
 * to removal (or disconnect). */
typedef struct ContainerEndpoint {
        char *network_id;
        char **aliases;                /* --network-alias */
        InAddr addrs[2];               /* [0] IPv4, [1] IPv6; family 0: none */
        uint8_t mac[6];
        unsigned slot;                 /* eth<slot> inside, and the host end's name; kept across disconnects */
} ContainerEndpoint;

typedef struct ContainerConfig {
        char **argv;
        char **entrypoint;
        char **env;             /* "KEY=value" */
        char *cwd;
        char *user;
        char *hostname;
        char **labels;          /* "key=value" */
        MountSpec *mounts;
        size_t n_mounts;
        NetworkMode network;
        char *network_name;     /* as asked: "bridge", a network's name; container:'s id */
        ContainerEndpoint *endpoints; /* NETWORK_MODE_BRIDGE: the networks, eth0 first */
        size_t n_endpoints;
        PortMapping *ports;     /* -p, and -P's once resolved at creation */
        size_t n_ports;
        char **dns, **dns_search, **dns_options;
        char **extra_hosts;     /* --add-host "name:address" */
        bool publish_all;       /* -P */
        SecurityOptions security;
        ScopeLimits limits;
        int stop_signal;
        uint64_t stop_timeout_usec;
        bool auto_remove;
        bool tty;
        bool interactive;
} ContainerConfig;

typedef struct Container {
        char *id;
        char *name;
        char *image_ref;
        char *image_id;
        ContainerConfig config;
        ContainerState state;
        pid_t pid;
        uint64_t pid_start_time;  /* /proc/PID/stat field 22, to recognise the pid after restarts */
        int pidfd;                /* not persisted */
        int exit_code;
        int exit_signal;
        bool exit_status_known;
        bool oom_killed;
        uint64_t created_usec;
        uint64_t started_usec;
        uint64_t finished_usec;
        char *unit;
        PortMapping *bound_ports; /* while running: the host ports reserved (host_port set) */
        size_t n_bound_ports;
        void *live;               /* the engine's running state, not persisted */
} Container;

const char *container_state_to_string(ContainerState s);
ContainerState container_state_from_string(const char *s);
const char *network_mode_to_string(NetworkMode m);
NetworkMode network_mode_from_string(const char *s);

int container_id_generate(char **ret);
/* Docker style "adjective_surname". */
int container_name_generate(char **ret);

int container_new(Container **ret);
Container *container_free(Container *c);
DEFINE_TRIVIAL_CLEANUP_FUNC(Container *, container_free);
void container_config_done(ContainerConfig *c);
int container_add_mount(Container *c, MountSpec *m);  /* takes the contents of *m */
void container_endpoint_done(ContainerEndpoint *e);
/* Take the contents of *ep: _at in its own slot, the other in the lowest one free. */
int container_add_endpoint_at(ContainerConfig *c, ContainerEndpoint *ep);
int container_add_endpoint(ContainerConfig *c, ContainerEndpoint *ep);
bool container_slot_used(const ContainerConfig *c, unsigned slot);
ContainerEndpoint *container_find_endpoint(const ContainerConfig *c, const char *network_id);
void container_remove_endpoint(ContainerConfig *c, ContainerEndpoint *ep);
/* Whether the configuration reaches past the container's confinement: the
 * privileged flag, bind mounts of host paths, added capabilities, the host's
 * network namespace, or a seccomp profile other than the default one. Such a container needs
 * BERTH_ACTION_PRIVILEGED_CONTAINERS besides the usual action. */
bool container_config_is_privileged(const ContainerConfig *c) _pure_;
/* The host paths of its bind mounts joined with ":" ("" without any). */
int container_config_bind_sources(const ContainerConfig *c, char **ret);


int container_to_json(const Container *c, json_t **ret);
int container_from_json(json_t *j, Container **ret);

/* State files, relative to the Berth root directory fd. Always replaced
 * atomically; durable (fsync'd) when the change must outlive a power loss. */
int container_save(const Container *c, int root_fd, bool durable);
/* Makes what a non-durable container_save() wrote durable. */
int container_sync(const Container *c, int root_fd);
int container_load(int root_fd, const char *id, Container **ret);
int container_remove_dir(int root_fd, const char *id);
/* Removes (in the background) what removals left in the trash. */
void container_trash_sweep(int root_fd);

/* The start time of a process in clock ticks since boot, field 22 of /proc/PID/stat. */
int pid_get_start_time(pid_t pid, uint64_t *ret);
/* Records pid and start time and opens the pidfd: call right after spawning. */
int container_attach_pid(Container *c, pid_t pid);
/* After a berthd restart: a running or paused container whose leader is still
 * the same process gets a new pidfd (returns 1); otherwise it is marked exited
 * with an unknown status (returns 0). See docs/containers.md. */
int container_readopt(Container *c);
/* The leader exited: fill exit code/signal (exact if we are its parent, else
 * CONTAINER_EXIT_CODE_UNKNOWN), state, finished time. */
int container_collect_exit(Container *c);

typedef void (*ContainerExitCallback)(Container *c, void *userdata);
/* Calls cb once the pidfd turns readable and the exit has been collected. */
int container_watch_pidfd(sd_event *e, Container *c, ContainerExitCallback cb, void *userdata,
                          sd_event_source **ret);

typedef struct ContainerTable {
        Hashmap *by_id;
        Hashmap *by_name;
} ContainerTable;

int container_table_new(ContainerTable **ret);
/* Frees the table and every container in it. */
ContainerTable *container_table_free(ContainerTable *r);
DEFINE_TRIVIAL_CLEANUP_FUNC(ContainerTable *, container_table_free);
/* Takes ownership on success; -EEXIST if the id or the name is taken. */
int container_table_add(ContainerTable *r, Container *c);
/* Forgets c without freeing it. */
void container_table_remove(ContainerTable *r, Container *c);
/* Exact id, then exact name, then unique id prefix: -ENOENT, or -ENOTUNIQ
 * for a prefix that fits several. */
int container_table_find(const ContainerTable *r, const char *ref, Container **ret);
size_t container_table_size(const ContainerTable *r);
/* A generated name not in use yet; after a few collisions a number is appended. */
int container_table_new_name(const ContainerTable *r, char **ret);
/* Loads every <root>/containers/<id>/state.json; unreadable ones are skipped
 * and their ids returned in ret_corrupt (may be NULL). Returns the count loaded. */
int container_table_load(ContainerTable *r, int root_fd, char ***ret_corrupt);
