/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include <systemd/sd-bus.h>
#include <systemd/sd-event.h>

#include "cgroup-util.h"
#include "util.h"

#include "caller.h"
#include "hashmap.h"
#include "in-addr-util.h"
#include "store.h"

typedef struct ManagerConfig {
        char *root;
        int log_level;
        unsigned max_operations;
        StoreLimits store_limits;
        unsigned setup_timeout_sec;     /* 0: the engine's default */
        unsigned max_parallel_downloads; /* 0: the registry client's default */
        uint64_t max_manifest_size;
        uint64_t max_config_size;
        unsigned stalled_transfer_timeout_sec; /* 0: the registry client's default */
        uint64_t max_partial_blobs_size;  /* partial blobs kept across pulls; 0: none */
        bool ip_forward_refused;        /* [Network] IPForward=no */
        InPrefix default_subnet, user_subnet_pool;
} ManagerConfig;

typedef struct Operation Operation;
typedef struct Store Store;
typedef struct Image Image;
typedef struct Engine Engine;

typedef struct Manager {
        sd_event *event;
        sd_bus *bus;
        ManagerConfig config;
        int root_fd;
        CgroupVersion cgroup_version;
        char **features;

        Store *store;
        /* Snapshot of the store's images behind the Image objects, sorted by
         * id; refreshed after every change. */
        Image **images;
        size_t n_images;

        Operation *operations;
        unsigned n_operations;
        uint32_t last_operation_id;

        Engine *engine;
        struct ExecRecord *execs;
        uint32_t last_exec_id;

        /* Callers with something pending, by unique name (caller.c). */
        Hashmap *callers;
        unsigned n_caller_requests[_CALLER_REQUEST_TYPE_MAX];
        sd_bus_slot *name_owner_slot;

        /* Authorization checks by message (polkit.c), how many of
         * unprivileged callers are with polkitd right now, and the callers
         * with a check under way, whose later calls wait behind it. */
        Hashmap *polkit_queries;
        unsigned n_polkit_checks;
        Hashmap *polkit_senders;
        sd_bus_slot *polkit_filter_slot;
} Manager;

int manager_config_load(ManagerConfig *c, const char *path);
void manager_config_done(ManagerConfig *c);

int manager_new(ManagerConfig *config, Manager **ret);
Manager *manager_free(Manager *m);
DEFINE_TRIVIAL_CLEANUP_FUNC(Manager *, manager_free);

int manager_startup(Manager *m);
int manager_run(Manager *m);
