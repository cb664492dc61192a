/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <fcntl.h>
#include <signal.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <seccomp.h>
#include <systemd/sd-daemon.h>

#include "berth-config.h"
#include "bus-util.h"
#include "config.h"
#include "fileio.h"
#include "log.h"
#include "container-dbus.h"
#include "engine.h"
#include "image-dbus.h"
#include "manager-dbus.h"
#include "manager.h"
#include "operation.h"
#include "scope.h"
#include "polkit.h"
#include "store.h"

/* Seconds under 1 KiB/s after which a registry transfer fails: at least one
 * (0 would be curl's "never"), at most an hour. */
static int config_parse_stall_timeout(const char *value, void *data) {
        unsigned *sec = data, v;
        int r;

        r = config_parse_unsigned(value, &v);
        if (r < 0)
                return r;
        if (v < 1 || v > 3600)
                return -ERANGE;
        *sec = v;
        return 0;
}

/* IPForward=yes|no: whether berthd may turn on forwarding for its networks. */
static int config_parse_ip_forward(const char *value, void *data) {
        bool *refused = data;

        if (IN_SET_STR(value, "yes", "true", "1", "enable"))
                *refused = false;
        else if (IN_SET_STR(value, "no", "false", "0", "refuse"))
                *refused = true;
        else
                return -EINVAL;
        return 0;
}

static int config_parse_ipv4_prefix(const char *value, void *data) {
        InPrefix *p = data;

        if (in_prefix_parse(value, AF_INET, p) < 0 || p->prefixlen > 24)
                return -EINVAL;
        return 0;
}

static const ConfigItem manager_config_items[] = {
        { "Daemon", "Root", config_parse_string, offsetof(ManagerConfig, root) },
        { "Daemon", "LogLevel", config_parse_log_level, offsetof(ManagerConfig, log_level) },
        { "Daemon", "MaxOperations", config_parse_unsigned, offsetof(ManagerConfig, max_operations) },
#define LIMIT(key, parser, field) { "Images", key, parser, offsetof(ManagerConfig, store_limits.field) }
        LIMIT("MaxLayerCompressedSize", config_parse_size, layer.max_compressed_size),
        LIMIT("MaxLayerSize", config_parse_size, layer.max_uncompressed_size),
        LIMIT("MaxLayerEntries", config_parse_size, layer.max_entries),
        LIMIT("MaxPathLength", config_parse_size, layer.max_path_length),
        LIMIT("MaxLayerHeaderSize", config_parse_size, layer.max_header_size),
        LIMIT("MaxLayerDirectoryTable", config_parse_size, layer.max_dir_table_size),
        LIMIT("MaxJSONSize", config_parse_size, max_json_size),
        LIMIT("MaxArchiveEntries", config_parse_size, max_archive_entries),
        LIMIT("MaxArchiveSize", config_parse_size, max_archive_size),
        LIMIT("MaxArchiveNamesSize", config_parse_size, max_archive_names_size),
        LIMIT("MaxImagesPerArchive", config_parse_size, max_images),
        LIMIT("MaxLayersPerImage", config_parse_size, max_layers),
        LIMIT("UnpackThreads", config_parse_unsigned, unpack_threads),
#undef LIMIT
        { "Images", "MaxParallelDownloads", config_parse_unsigned, offsetof(ManagerConfig, max_parallel_downloads) },
        { "Images", "MaxManifestSize", config_parse_size, offsetof(ManagerConfig, max_manifest_size) },
        { "Images", "MaxConfigSize", config_parse_size, offsetof(ManagerConfig, max_config_size) },
        { "Images", "StalledTransferTimeoutSec", config_parse_stall_timeout,
          offsetof(ManagerConfig, stalled_transfer_timeout_sec) },
        { "Images", "MaxPartialBlobsSize", config_parse_size, offsetof(ManagerConfig, max_partial_blobs_size) },
        { "Containers", "SetupTimeoutSec", config_parse_unsigned, offsetof(ManagerConfig, setup_timeout_sec) },
        { "Network", "IPForward", config_parse_ip_forward, offsetof(ManagerConfig, ip_forward_refused) },
        { "Network", "DefaultSubnet", config_parse_ipv4_prefix, offsetof(ManagerConfig, default_subnet) },
        { "Network", "UserSubnetPool", config_parse_ipv4_prefix, offsetof(ManagerConfig, user_subnet_pool) },
};

int manager_config_load(ManagerConfig *c, const char *path) {
        unsigned line = 0;
        int r;

        r = config_parse_file(path, manager_config_items, ELEMENTSOF(manager_config_items), c, &line);
        if (r < 0 && line > 0)
                return log_error_errno(r, "%s:%u: invalid setting.", path, line);
        if (r < 0)
                return log_error_errno(r, "Failed to read %s: %m", path);
        return 0;
}

void manager_config_done(ManagerConfig *c) {
        c->root = mfree(c->root);
}

static int detect_features(char ***ret) {
        _cleanup_strv_free_ char **l = NULL;
        _cleanup_free_ char *fs = NULL;
        int r;

        if (read_full_file_at(AT_FDCWD, "/proc/filesystems", 1 << 20, &fs, NULL) >= 0 &&
            strstr(fs, "\toverlay\n")) {
                r = strv_extend(&l, "overlayfs");
                if (r < 0)
                        return r;
        }
        if (seccomp_api_get() >= 1) {
                r = strv_extend(&l, "seccomp");
                if (r < 0)
                        return r;
        }
        _cleanup_close_ int pidfd = (int) syscall(SYS_pidfd_open, getpid(), 0);
        if (pidfd >= 0) {
                r = strv_extend(&l, "pidfd");
                if (r < 0)
                        return r;
        }
        r = strv_extend(&l, "journal-logs");
        if (r < 0)
                return r;
        *ret = TAKE_PTR(l);
        return 0;
}

int manager_new(ManagerConfig *config, Manager **ret) {
        _cleanup_(manager_freep) Manager *m = NULL;
        int r;

        m = calloc(1, sizeof *m);
        if (!m)
                return -ENOMEM;
        m->root_fd = -EBADF;
        m->config = *config;
        *config = (ManagerConfig) {};

        r = sd_event_default(&m->event);
        if (r < 0)
                return r;
        /* WATCHDOG=1 from the loop itself (when the unit has WatchdogSec=):
         * systemd restarts a berthd whose loop stopped turning. */
        r = sd_event_set_watchdog(m->event, true);
        if (r < 0)
                return r;
        r = detect_features(&m->features);
        if (r < 0)
                return r;
        m->cgroup_version = cgroup_detect_version(NULL);
        *ret = TAKE_PTR(m);
        return 0;
}

Manager *manager_free(Manager *m) {
        if (!m)
                return NULL;
        operation_cancel_all(m);
        /* The engine answers the waits it holds (the callers' requests) first. */
        engine_free(m->engine);
        /* The checks hold requests of callers: they go first. */
        polkit_free(m);
        callers_free(m);
        container_dbus_free_execs(m);
        manager_free_images(m);
        store_free(m->store);
        sd_bus_flush_close_unref(m->bus);
        sd_event_unref(m->event);
        safe_close(m->root_fd);
        strv_free(m->features);
        manager_config_done(&m->config);
        free(m);
        return NULL;
}

static int manager_open_root(Manager *m) {
        int r;

        r = mkdir_p(m->config.root, 0711);
        if (r < 0)
                return log_error_errno(r, "Failed to create storage root %s: %m", m->config.root);
        m->root_fd = open(m->config.root, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        if (m->root_fd < 0)
                return log_error_errno(errno, "Failed to open storage root %s: %m", m->config.root);
        r = store_open(m->root_fd, "images", &m->config.store_limits, &m->store);
        if (r < 0)
                return log_error_errno(r, "Failed to open the image store in %s/images: %s",
                                       m->config.root, store_last_error() ?: strerror(-r));
        return manager_refresh_images(m);
}

static int manager_load_containers(Manager *m) {
        int r;

        r = engine_new(m->event, m->bus, m->store, m->root_fd, m->config.root,
                       &container_dbus_callbacks, m, &m->engine);
        if (r < 0)
                return log_error_errno(r, "Failed to set up the container engine: %m");
        engine_set_setup_timeout(m->engine, m->config.setup_timeout_sec * USEC_PER_SEC);
        engine_network_configure(m->engine, &(EngineNetworkConfig) {
                .default_subnet = m->config.default_subnet, .user_pool = m->config.user_subnet_pool,
                .ip_forward = !m->config.ip_forward_refused });
        r = scope_subscribe(m->bus);
        if (r < 0)
                return log_error_errno(r, "Failed to subscribe to systemd's signals: %m");
        r = engine_load(m->engine);
        if (r < 0)
                return log_error_errno(r, "Failed to load the containers' state: %m");
        return 0;
}

static int manager_connect_bus(Manager *m) {
        int r;

        (void) bus_error_add_berth_map();
        r = sd_bus_default_system(&m->bus);
        if (r < 0)
                return log_error_errno(r, "Failed to connect to the system bus: %m");
        r = manager_dbus_register(m);
        if (r < 0)
                return log_error_errno(r, "Failed to register D-Bus objects: %m");
        r = callers_watch(m);
        if (r < 0)
                return log_error_errno(r, "Failed to follow the callers on the bus: %m");
        r = sd_bus_attach_event(m->bus, m->event, SD_EVENT_PRIORITY_NORMAL);
        if (r < 0)
                return log_error_errno(r, "Failed to attach the bus to the event loop: %m");
        r = manager_load_containers(m);
        if (r < 0)
                return r;
        /* The name last: callers find everything in place once it is ours. */
        r = sd_bus_request_name(m->bus, BERTH_BUS_NAME, 0);
        if (r < 0)
                return log_error_errno(r, "Failed to acquire the name %s: %m", BERTH_BUS_NAME);
        return 0;
}

static int manager_setup_signals(Manager *m) {
        sigset_t ss;
        int r;

        sigemptyset(&ss);
        sigaddset(&ss, SIGTERM);
        sigaddset(&ss, SIGINT);
        if (sigprocmask(SIG_BLOCK, &ss, NULL) < 0)
                return log_error_errno(errno, "Failed to block signals: %m");
        /* A NULL handler makes sd-event leave the loop on the signal. */
        r = sd_event_add_signal(m->event, NULL, SIGTERM, NULL, NULL);
        if (r >= 0)
                r = sd_event_add_signal(m->event, NULL, SIGINT, NULL, NULL);
        if (r < 0)
                return log_error_errno(r, "Failed to watch SIGTERM and SIGINT: %m");
        return 0;
}

int manager_startup(Manager *m) {
        int r;

        r = manager_setup_signals(m);
        if (r < 0)
                return r;
        r = manager_open_root(m);
        if (r < 0)
                return r;
        return manager_connect_bus(m);
}

int manager_run(Manager *m) {
        int r;

        (void) sd_notifyf(false, "READY=1\nSTATUS=Serving %s, storage at %s.",
                          BERTH_BUS_NAME, m->config.root);
        log_info("berthd " BERTH_VERSION " ready, storage root %s, cgroup %s.",
                 m->config.root, cgroup_version_to_string(m->cgroup_version));
        r = sd_event_loop(m->event);
        (void) sd_notify(false, "STOPPING=1");
        if (r < 0)
                return log_error_errno(r, "Event loop failed: %m");
        log_info("berthd stopping.");
        return 0;
}
