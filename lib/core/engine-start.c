/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <fcntl.h>
#include <signal.h>
#include <sys/ioctl.h>
#include <sys/wait.h>
#include <systemd/sd-daemon.h>

#include "engine-internal.h"
#include "log.h"
#include "netlink-link.h"
#include "scope-v1.h"

/* Paths below <root>/containers/<id>/ that the runtime needs. */
typedef struct ContainerPaths {
        char *upper, *work, *rootfs, *hostname, *hosts, *resolv;
} ContainerPaths;

static void container_paths_done(ContainerPaths *p) {
        free(p->upper);
        free(p->work);
        free(p->rootfs);
        free(p->hostname);
        free(p->hosts);
        free(p->resolv);
}

static int container_paths(Engine *e, Container *c, ContainerPaths *ret) {
        _cleanup_free_ char *dir = strjoin(e->root, "/" CONTAINER_DIR "/", c->id, "/");

        if (!dir)
                return -ENOMEM;
        *ret = (ContainerPaths) {
                .upper = strjoin(dir, "upper"), .work = strjoin(dir, "work"),
                .rootfs = strjoin(dir, "rootfs"), .hostname = strjoin(dir, "hostname"),
                .hosts = strjoin(dir, "hosts"), .resolv = strjoin(dir, "resolv.conf"),
        };
        if (!ret->upper || !ret->work || !ret->rootfs || !ret->hostname || !ret->hosts || !ret->resolv) {
                container_paths_done(ret);
                return -ENOMEM;
        }
        return 0;
}

static int on_spawn_io(sd_event_source *s, int fd, uint32_t revents, void *userdata);
static int on_setup_timeout(sd_event_source *s, uint64_t usec, void *userdata);
static void setup_abort(Engine *e, Live *l);

static RuntimeNetwork runtime_network_of(NetworkMode m) {
        switch (m) {
        case NETWORK_MODE_HOST:
                return RUNTIME_NETWORK_HOST;
        case NETWORK_MODE_BRIDGE:
                return RUNTIME_NETWORK_PRIVATE;
        case NETWORK_MODE_CONTAINER:
                return RUNTIME_NETWORK_JOIN;
        default:
                return RUNTIME_NETWORK_NONE;
        }
}

/* --network container:OTHER: OTHER's namespace, while OTHER runs. */
static int joined_netns(Engine *e, const Container *c) {
        Container *other;
        int fd;

        if (container_table_find(e->containers, c->config.network_name, &other) < 0)
                return errmsg_set(-ENOENT, "The container %s whose network this one shares is gone.",
                                  c->config.network_name);
        if (!IN_SET(other->state, CONTAINER_RUNNING, CONTAINER_PAUSED) || other->pidfd < 0)
                return errmsg_set(-ESRCH, "Container %s, whose network this one shares, is not running.",
                                  other->name);
        fd = netns_open_pidfd(other->pidfd);
        if (fd < 0)
                return errmsg_set(fd, "Cannot open the network namespace of %s: %s", other->name, strerror(-fd));
        return fd;
}

static int spawn_leader(Engine *e, Container *c, const EngineStdio *stdio, Live *l) {
        _cleanup_(container_paths_done) ContainerPaths paths = {};
        _cleanup_close_ int join_fd = -EBADF;
        _cleanup_strv_free_ char **lower = NULL, **argv = NULL;
        const ContainerConfig *cfg = &c->config;
        RuntimeSpec spec = {};
        int r;

        r = store_image_layer_paths(e->store, c->image_id, &lower);
        if (r < 0)
                return errmsg_set(r, "The image %s of the container is not usable: %s", c->image_ref,
                                  store_last_error() ?: strerror(-r));
        r = container_paths(e, c, &paths);
        if (r < 0)
                return r;
        r = engine_write_etc_files(e, c);
        if (r < 0)
                return errmsg_set(r, "Cannot write the container's /etc files: %s", strerror(-r));
        if (cfg->network == NETWORK_MODE_CONTAINER) {
                join_fd = joined_netns(e, c);
                if (join_fd < 0)
                        return join_fd;
        }
        argv = strv_copy(cfg->entrypoint);
        STRV_FOREACH(a, cfg->argv)
                if (!argv || strv_extend(&argv, *a) < 0)
                        return -ENOMEM;
        spec = (RuntimeSpec) {
                .name = c->name, .unit = c->unit, .hostname = cfg->hostname, .lowerdirs = lower,
                .upperdir = paths.upper, .workdir = paths.work, .rootfs = paths.rootfs,
                .readonly_rootfs = cfg->security.read_only, .volatile_upper = cfg->auto_remove,
                .hostname_file = paths.hostname, .hosts_file = paths.hosts,
                .resolv_conf_file = paths.resolv,
                .mounts = cfg->mounts, .n_mounts = cfg->n_mounts,
                .network = runtime_network_of(cfg->network), .join_netns_fd = join_fd,
        };
        process_spec_from_config(&spec.process, cfg, argv, stdio);
        r = runtime_spawn_begin(&spec, &l->process);
        if (r < 0)
                return errmsg_set(r, "Cannot create the container's process: %s", strerror(-r));
        /* The child is cloned by a thread: the loop learns on its channel
         * that it is alive, within the setup's time limit. */
        r = sd_event_add_io(e->event, &l->setup_io, l->process.channel, EPOLLIN, on_spawn_io, l);
        if (r >= 0)
                r = engine_add_setup_timer(e, &l->setup_timer, on_setup_timeout, l);
        if (r < 0) {
                setup_abort(e, l);
                return errmsg_set(r, "Cannot follow the container's process: %s", strerror(-r));
        }
        return 0;
}

static void start_finish(Live *l, int r, const char *message, int pty_master) {
        EngineDone done = TAKE_PTR(l->start_done);

        /* Nobody attached to a detached terminal: berthd keeps it. */
        if (pty_master >= 0 && !l->attach)
                pty_master = engine_drain_terminal(l->engine, l->container, pty_master, true);

        if (done)
                done(l->container, r, message, pty_master, l->start_userdata);
        else
                safe_close(pty_master);
}

static void on_scope_started(const char *result, int r, const sd_bus_error *error, void *userdata);
static void release_leader(Live *l);

/* The leader in setup is killed, never waited for: the loop reaps it. */
static void setup_abort(Engine *e, Live *l) {
        l->setup_io = sd_event_source_disable_unref(l->setup_io);
        l->setup_timer = sd_event_source_disable_unref(l->setup_timer);
        runtime_process_kill(&l->process);
        engine_reap(e, TAKE_FD(l->process.pidfd));
        runtime_process_done(&l->process);
}

/* The process never ran the command: say why, as "docker start" does. */
static void start_failed(Engine *e, Container *c, int r, int exit_code, const char *message) {
        Live *l = c->live;

        setup_abort(e, l);
        engine_network_teardown(e, c);
        engine_fdstore_remove(e, c);
        c->pidfd = safe_close(c->pidfd);
        c->pid = 0;
        c->state = CONTAINER_EXITED;
        c->exit_code = exit_code;
        c->exit_status_known = true;
        c->finished_usec = now_usec(CLOCK_REALTIME);
        (void) engine_save_state(e, c);
        engine_changed(e, c);
        start_finish(l, r, message, -EBADF);
        engine_run_waiters(&l->watchers, c, 0, NULL);
        engine_run_waiters(&l->waiters, c, 0, NULL);
        if (c->config.auto_remove)
                engine_finish_remove(e, c);
}

static void start_running(Live *l) {
        Engine *e = l->engine;
        Container *c = l->container;
        int pty = TAKE_FD(l->process.pty_master), r;

        l->setup_io = sd_event_source_disable_unref(l->setup_io);
        l->setup_timer = sd_event_source_disable_unref(l->setup_timer);
        runtime_process_done(&l->process);
        c->state = CONTAINER_RUNNING;
        c->started_usec = now_usec(CLOCK_REALTIME);
        c->oom_killed = false;
        (void) engine_save_state(e, c);
        engine_watch_oom(e, c);
        r = engine_watch_exit(e, c);
        if (r < 0)
                log_warning_errno(r, "Cannot watch container %s for its exit: %m", c->name);
        engine_changed(e, c);
        start_finish(l, 0, NULL, pty);
}

static int on_setup_io(sd_event_source *s, int fd, uint32_t revents, void *userdata) {
        Live *l = userdata;
        RuntimeError err = {};
        int r = runtime_release_continue(&l->process, &err);

        if (r == -EAGAIN)
                return 0;
        if (r < 0)
                start_failed(l->engine, l->container, r, err.exit_code ?: CONTAINER_EXIT_CODE_ENGINE,
                             err.message[0] ? err.message : strerror(-r));
        else
                start_running(l);
        return 0;
}

static int on_setup_timeout(sd_event_source *s, uint64_t usec, void *userdata) {
        Live *l = userdata;
        char what[256], msg[512];

        snprintf(what, sizeof what, "Container %s", l->container->name);
        engine_setup_timeout_message(l->engine, what, msg, sizeof msg);
        start_failed(l->engine, l->container, -ETIMEDOUT, CONTAINER_EXIT_CODE_ENGINE, msg);
        return 0;
}

/* Docker's device cgroup rules: any node may be created, but only the
 * standard pseudo devices opened. Without this, CAP_MKNOD (in the default
 * set) would let a container create and open a node of the host's disk.
 * The runtime's own mknods of /dev run inside the scope, hence "m" on them. */
static const char * const device_policy[] = {
        "DevicePolicy=strict",
        "DeviceAllow=/dev/null rwm", "DeviceAllow=/dev/zero rwm", "DeviceAllow=/dev/full rwm",
        "DeviceAllow=/dev/random rwm", "DeviceAllow=/dev/urandom rwm", "DeviceAllow=/dev/tty rwm",
        "DeviceAllow=/dev/ptmx rwm", "DeviceAllow=char-pts rwm", "DeviceAllow=/dev/net/tun rwm",
        "DeviceAllow=char-* m", "DeviceAllow=block-* m",
};

/* The scope of the leader in setup, asked of systemd. */
static int scope_request(Live *l) {
        Engine *e = l->engine;
        Container *c = l->container;
        _cleanup_strv_free_ char **props = NULL;
        int r;

        r = strv_consume(&props, strjoin("Description=Berth container ", c->name));
        /* Where systemd cannot count CPU time (cpu and cpuacct apart on v1)
         * the property costs a start 2 ms (measured on such a host) and
         * gives stats nothing. */
        if (r >= 0 && e->cpu_accounting)
                r = strv_extend(&props, "CPUAccounting=yes");
        for (size_t i = 0; r >= 0 && !c->config.security.privileged && i < ELEMENTSOF(device_policy); i++)
                r = strv_extend(&props, device_policy[i]);
        if (r < 0)
                return r;
        return e->units->start_scope(e->units_data, c->unit, l->process.pid, &c->config.limits, props,
                                     on_scope_started, l, &l->job);
}

static void on_old_scope_gone(const char *result, int r, const sd_bus_error *error, void *userdata) {
        Live *l = userdata;
        char msg[512];

        /* After a timeout it is tried all the same: systemd's error then
         * says what lingers. */
        l->job = NULL;
        r = scope_request(l);
        if (r < 0) {
                snprintf(msg, sizeof msg, "Cannot ask systemd for the scope %s: %s", l->container->unit,
                         strerror(-r));
                start_failed(l->engine, l->container, r, CONTAINER_EXIT_CODE_ENGINE, msg);
        }
}

/* The scope of the container's last run lingers a moment after its
 * processes are gone (systemd notices the empty cgroup, then collects the
 * unit) and systemd refuses a new one of the name meanwhile, so a start
 * right after an exit, or a run right after rm -f of a namesake, waits for
 * it to go and asks once more. */
static bool scope_retry_when_gone(Live *l, const sd_bus_error *error) {
        if (l->scope_retried || !sd_bus_error_has_name(error, "org.freedesktop.systemd1.UnitExists"))
                return false;
        l->scope_retried = true;
        return l->engine->units->wait_removed(l->engine->units_data, l->container->unit, SCOPE_GONE_TIMEOUT_USEC,
                                              on_old_scope_gone, l, &l->job) >= 0;
}

static void on_scope_started(const char *result, int r, const sd_bus_error *error, void *userdata) {
        Live *l = userdata;
        Engine *e = l->engine;
        Container *c = l->container;
        char msg[512];

        l->job = NULL;
        if (r < 0 && error && scope_retry_when_gone(l, error))
                return;
        if (r < 0 || !streq_ptr(result, "done")) {
                snprintf(msg, sizeof msg, "Cannot start the scope %s: %s", c->unit,
                         error && error->message ? error->message : r < 0 ? strerror(-r) : strempty(result));
                return start_failed(e, c, r < 0 ? r : -EIO, CONTAINER_EXIT_CODE_ENGINE, msg);
        }
        r = engine_apply_v1_limits(e, c, c->pid, &c->config.limits);
        if (r < 0) {
                snprintf(msg, sizeof msg, "Cannot apply the cgroup v1 limits of %s: %s", c->unit, strerror(-r));
                return start_failed(e, c, r, CONTAINER_EXIT_CODE_ENGINE, msg);
        }
        l->scope_ready = true;
        if (l->net_ready)
                release_leader(l);
}

/* The leader is in its scope and its network is ready: only now may it
 * run the user's command. Its setup reads the container's files, so the
 * loop follows it on its channel, within a time limit. */
static void release_leader(Live *l) {
        Engine *e = l->engine;
        Container *c = l->container;
        char msg[512];
        int r;

        r = runtime_release_begin(&l->process);
        if (r >= 0)
                r = sd_event_add_io(e->event, &l->setup_io, l->process.channel, EPOLLIN, on_setup_io, l);
        if (r >= 0)
                r = engine_add_setup_timer(e, &l->setup_timer, on_setup_timeout, l);
        if (r < 0) {
                snprintf(msg, sizeof msg, "Cannot release the leader of %s: %s", c->name, strerror(-r));
                return start_failed(e, c, r, CONTAINER_EXIT_CODE_ENGINE, msg);
        }
}

static void on_network_ready(Container *c, int r, const char *message, void *userdata) {
        Live *l = userdata;
        char msg[600];

        if (r < 0) {
                snprintf(msg, sizeof msg, "Cannot set up the network of %s: %s", l->container->name, message);
                start_failed(l->engine, l->container, r, CONTAINER_EXIT_CODE_ENGINE, msg);
                return;
        }
        l->net_ready = true;
        if (l->scope_ready)
                release_leader(l);
}

/* The leader is alive (runtime_spawn_continue()): systemd is asked for its
 * scope, and gets its pidfd for the store meanwhile. */
static int on_spawn_io(sd_event_source *s, int fd, uint32_t revents, void *userdata) {
        Live *l = userdata;
        Engine *e = l->engine;
        Container *c = l->container;
        char msg[512];
        int r = runtime_spawn_continue(&l->process);

        if (r == -EAGAIN)
                return 0;
        if (r >= 0) {
                l->setup_io = sd_event_source_disable_unref(l->setup_io);
                l->setup_timer = sd_event_source_disable_unref(l->setup_timer);
                r = container_attach_pid(c, l->process.pid);
        }
        if (r < 0) {
                snprintf(msg, sizeof msg, "Cannot create the container's process: %s", strerror(-r));
                start_failed(e, c, r, CONTAINER_EXIT_CODE_ENGINE, msg);
                return 0;
        }
        r = scope_request(l);
        if (r < 0) {
                snprintf(msg, sizeof msg, "Cannot ask systemd for the scope %s: %s", c->unit, strerror(-r));
                start_failed(e, c, r, CONTAINER_EXIT_CODE_ENGINE, msg);
                return 0;
        }
        /* The veths, ports and DNS are made on the network worker while
         * systemd makes the scope. */
        l->scope_ready = false;
        l->net_ready = c->config.network != NETWORK_MODE_BRIDGE;
        if (!l->net_ready) {
                r = engine_network_setup(e, c, on_network_ready, l);
                if (r < 0) {
                        snprintf(msg, sizeof msg, "Cannot set up the network of %s: %s", c->name,
                                 errmsg_last() ?: strerror(-r));
                        start_failed(e, c, r, CONTAINER_EXIT_CODE_ENGINE, msg);
                        return 0;
                }
        }
        /* Into systemd's store while it makes the scope (not before asking
         * for it: that is the longest wait of a start); by the time the
         * command runs, systemd has long had it. */
        engine_fdstore_put(e, c, c->pidfd, NULL);
        return 0;
}

int engine_start(Engine *e, Container *c, const EngineStdio *stdio, EngineDone done, void *userdata) {
        Live *l;
        int r;

        if (IN_SET(c->state, CONTAINER_RUNNING, CONTAINER_PAUSED))
                return errmsg_set(-EBUSY, "Container %s is already running.", c->name);
        if (c->state == CONTAINER_REMOVING)
                return errmsg_set(-EBUSY, "Container %s is being removed.", c->name);
        l = engine_live(e, c);
        if (!l)
                return -ENOMEM;
        if (l->job || l->start_done)
                return errmsg_set(-EBUSY, "Container %s is starting already.", c->name);
        r = spawn_leader(e, c, stdio, l);
        if (r < 0)
                return r;
        l->start_done = done;
        l->start_userdata = userdata;
        l->attach = stdio->attach;
        l->scope_retried = false;
        return 0;
}

int engine_run(Engine *e, Container *c_in, const char *image, const EngineStdio *stdio, EngineDone done,
               void *userdata, Container **ret) {
        Container *c;
        int r, k;

        r = engine_create_full(e, c_in, image, false, &c);
        if (r < 0)
                return r;
        *ret = c;
        r = engine_start(e, c, stdio, done, userdata);
        /* The start waits for systemd now: the fsyncs go in that wait. The
         * state file is whole either way (renamed into place); should the
         * disk refuse, the start goes on and the next durable save retries. */
        k = container_sync(c, e->root_fd);
        if (k < 0)
                log_warning_errno(k, "Cannot make the state of container %s durable: %m", c->name);
        if (r < 0 && c->config.auto_remove && c->state == CONTAINER_CREATED) {
                *ret = NULL;
                engine_finish_remove(e, c);
        }
        return r;
}

/* Since Linux 6.15 pidfs keeps the exit status of a process for anyone who
 * holds a pidfd to it, child or not. Older kernels answer ENOTTY/EINVAL. */
struct berth_pidfd_info {
        uint64_t mask;
        uint64_t cgroupid;
        uint32_t pid, tgid, ppid, ruid, rgid, euid, egid, suid, sgid, fsuid, fsgid;
        int32_t exit_code;
};
#define BERTH_PIDFD_GET_INFO _IOWR(0xFF, 11, struct berth_pidfd_info)
#define BERTH_PIDFD_INFO_EXIT (1ULL << 3)

static int pidfd_exit_status(int pidfd, int *ret_status) {
        struct berth_pidfd_info info = { .mask = BERTH_PIDFD_INFO_EXIT };

        if (ioctl(pidfd, BERTH_PIDFD_GET_INFO, &info) < 0)
                return -errno;
        if (!(info.mask & BERTH_PIDFD_INFO_EXIT))
                return -ENODATA;
        *ret_status = info.exit_code;
        return 0;
}

/* The exit of a process we did not spawn ourselves (re-adopted). pidfs has
 * its status once its parent (PID 1 now) has reaped it, which happens just
 * after the pidfd turns readable: -EAGAIN asks to try again a little later. */
static int collect_adopted_exit(Container *c, bool last_try) {
        int status, r;

        r = c->pidfd >= 0 ? pidfd_exit_status(c->pidfd, &status) : -EBADF;
        if (r == -ENODATA && !last_try)
                return -EAGAIN;
        if (r >= 0) {
                c->exit_status_known = true;
                c->exit_signal = WIFSIGNALED(status) ? WTERMSIG(status) : 0;
                c->exit_code = WIFSIGNALED(status) ? 128 + WTERMSIG(status) : WEXITSTATUS(status);
        } else {
                c->exit_status_known = false;
                c->exit_code = CONTAINER_EXIT_CODE_UNKNOWN;
                c->exit_signal = 0;
        }
        c->state = CONTAINER_EXITED;
        c->finished_usec = now_usec(CLOCK_REALTIME);
        c->pidfd = safe_close(c->pidfd);
        c->pid = 0;
        return 0;
}

#define REAP_RETRY_USEC (20 * 1000)
#define REAP_TRIES 100

static int on_reap_timer(sd_event_source *s, uint64_t usec, void *userdata) {
        Live *l = userdata;

        l->reap_timer = sd_event_source_disable_unref(l->reap_timer);
        engine_handle_exit(l->engine, l->container);
        return 0;
}

static int collect_exit(Engine *e, Container *c, Live *l) {
        int r;

        if (!l || !l->adopted) {
                r = container_collect_exit(c);
                return r == -EAGAIN || r >= 0 ? r : collect_adopted_exit(c, true);
        }
        r = collect_adopted_exit(c, l->reap_tries >= REAP_TRIES);
        if (r != -EAGAIN)
                return r;
        l->reap_tries++;
        r = sd_event_add_time_relative(e->event, &l->reap_timer, CLOCK_MONOTONIC, REAP_RETRY_USEC, 0,
                                       on_reap_timer, l);
        return r < 0 ? collect_adopted_exit(c, true) : -EINPROGRESS;
}

void engine_handle_exit(Engine *e, Container *c) {
        Live *l = c->live;
        bool remove;
        int r;

        /* Off epoll before the pidfd is closed: systemd's fd store holds a
         * duplicate, so closing ours would not end the registration, and
         * epoll would go on reporting a freed source. */
        if (l) {
                l->exit_source = sd_event_source_disable_unref(l->exit_source);
                l->stop_timer = sd_event_source_disable_unref(l->stop_timer);
                l->oom = oom_watch_free(l->oom);
        }
        r = collect_exit(e, c, l);
        if (r == -EINPROGRESS)
                return;
        if (r == -EAGAIN) {   /* spurious wakeup */
                (void) engine_watch_exit(e, c);
                return;
        }
        /* An attached run is waiting for this exit code: it goes out before
         * the bookkeeping, which cannot change it. */
        if (l)
                engine_run_waiters(&l->watchers, c, 0, NULL);
        engine_fdstore_remove(e, c);
        engine_network_teardown(e, c);
        engine_remove_v1_cgroups(e, c);
        (void) engine_save_state(e, c);
        log_debug("Container %s exited with %d.", c->name, c->exit_code);
        engine_changed(e, c);
        /* Decided before the waiters run: a restart's waiter starts the
         * container again, which must then stay. */
        remove = (c->config.auto_remove && !(l && l->restarting)) || (l && l->remove_at_exit);
        if (l) {
                l->restarting = false;
                engine_run_waiters(&l->waiters, c, 0, NULL);
        }
        if (remove)
                engine_finish_remove(e, c);
}

static int on_leader_exit(sd_event_source *s, int fd, uint32_t revents, void *userdata) {
        Live *l = userdata;

        engine_handle_exit(l->engine, l->container);
        return 0;
}

int engine_watch_exit(Engine *e, Container *c) {
        Live *l = engine_live(e, c);

        if (!l)
                return -ENOMEM;
        if (c->pidfd < 0)
                return -EBADF;
        l->exit_source = sd_event_source_disable_unref(l->exit_source);
        return sd_event_add_io(e->event, &l->exit_source, c->pidfd, EPOLLIN, on_leader_exit, l);
}

static void adopt(Engine *e, Container *c, int stored_pidfd) {
        Live *l = engine_live(e, c);
        int r;

        if (!l)
                return;
        l->adopted = true;
        if (stored_pidfd >= 0) {
                /* A stored pidfd stays valid after the exit, with the status. */
                safe_close(c->pidfd);
                c->pidfd = stored_pidfd;
        } else if (container_readopt(c) <= 0) {
                log_info("Container %s ended while berthd was away; its exit status is unknown.", c->name);
                (void) engine_save_state(e, c);
                return;
        }
        r = engine_watch_exit(e, c);
        if (r < 0)
                log_warning_errno(r, "Cannot watch container %s: %m", c->name);
        else
                log_info("Re-adopted container %s (pid %d).", c->name, (int) c->pid);
        engine_watch_oom(e, c);
}

static bool container_is_known(const char *id, void *userdata) {
        Engine *e = userdata;

        return hashmap_get(e->containers->by_id, id) != NULL;
}

int engine_load(Engine *e) {
        _cleanup_strv_free_ char **corrupt = NULL, **names = NULL;
        _cleanup_free_ int *fds = NULL;
        const char *key;
        void *value;
        size_t i = 0;
        int n_fds, r;

        r = runtime_exec_kill_leftovers();
        if (r > 0)
                log_info("Killed %i exec'd processes a previous berthd left in setup.", r);
        r = container_table_load(e->containers, e->root_fd, &corrupt);
        if (r < 0)
                return r;
        r = network_table_load(e->networks, container_is_known, e);
        if (r < 0)
                log_warning_errno(r, "Cannot load the networks: %m");
        STRV_FOREACH(id, corrupt)
                log_warning("The state of container %s is unreadable; it is ignored.", *id);
        n_fds = e->units->fdstore_load(e->units_data, &names, &fds);
        while (hashmap_iterate(e->containers->by_id, &i, &key, &value)) {
                Container *c = value;
                _cleanup_free_ char *tty_name = strjoin(c->id, ".tty");
                int fd = engine_fdstore_take(names, fds, n_fds, c->id);
                int tty = tty_name ? engine_fdstore_take(names, fds, n_fds, tty_name) : -EBADF;

                if (c->state != CONTAINER_REMOVING && store_hold_image(e->store, c->image_id, c->id) < 0)
                        log_debug("Container %s: no hold on image %s: %s", c->name, c->image_id,
                                  errmsg_last() ?: "cannot write it");

                if (IN_SET(c->state, CONTAINER_RUNNING, CONTAINER_PAUSED)) {
                        adopt(e, c, fd);
                        if (IN_SET(c->state, CONTAINER_RUNNING, CONTAINER_PAUSED))
                                engine_network_adopt(e, c, names, fds, n_fds);
                        if (tty >= 0)
                                (void) engine_drain_terminal(e, c, tty, false);
                } else if (fd >= 0 || tty >= 0) {
                        /* A run that ended while berthd was away: its pidfd
                         * must not be taken for a later run's after a crash. */
                        safe_close(fd);
                        safe_close(tty);
                        engine_fdstore_remove(e, c);
                }
        }
        engine_network_loaded(e);
        /* Fds of containers that no longer exist. */
        for (int k = 0; k < n_fds; k++)
                if (names && names[k]) {
                        safe_close(fds[k]);
                        engine_fdstore_remove_name(e, names[k]);
                }
        return 0;
}
