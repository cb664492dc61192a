/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <fcntl.h>
#include <signal.h>
#include <sys/stat.h>

#include "engine-internal.h"
#include "fileio.h"
#include "log.h"

int engine_new_full(sd_event *event, const UnitManager *units, void *units_data, Store *store, int root_fd,
                    const char *root, const EngineCallbacks *cb, void *userdata, Engine **ret) {
        _cleanup_(engine_freep) Engine *e = NULL;
        int r;

        e = calloc(1, sizeof *e);
        if (!e)
                return -ENOMEM;
        e->event = sd_event_ref(event);
        e->units = units;
        e->units_data = units_data;
        e->store = store;
        e->root_fd = root_fd;
        e->cb = *cb;
        e->userdata = userdata;
        e->setup_timeout_usec = ENGINE_SETUP_TIMEOUT_USEC_DEFAULT;
        e->cgroup_version = cgroup_detect_version(NULL);
        e->cpu_accounting = cgroup_cpu_accounting_readable(NULL, e->cgroup_version);
        e->root = strdup(root);
        if (!e->root)
                return -ENOMEM;
        if (mkdirat(root_fd, CONTAINER_DIR, 0700) < 0 && errno != EEXIST)
                return -errno;
        container_trash_sweep(root_fd);
        r = container_table_new(&e->containers);
        if (r < 0)
                return r;
        r = engine_network_init(e);
        if (r < 0)
                return r;
        *ret = TAKE_PTR(e);
        return 0;
}

int engine_new(sd_event *event, sd_bus *bus, Store *store, int root_fd, const char *root,
               const EngineCallbacks *cb, void *userdata, Engine **ret) {
        Engine *e;
        int r;

        r = engine_new_full(event, &unit_manager_systemd, bus, store, root_fd, root, cb, userdata, &e);
        if (r < 0)
                return r;
        e->bus = sd_bus_ref(bus);
        *ret = e;
        return 0;
}

void engine_set_setup_timeout(Engine *e, uint64_t usec) {
        e->setup_timeout_usec = usec > 0 ? usec : ENGINE_SETUP_TIMEOUT_USEC_DEFAULT;
}

static void live_free(Live *l) {
        if (!l)
                return;
        /* A start in progress (removed meanwhile, or berthd stops) is told. */
        if (l->start_done)
                TAKE_PTR(l->start_done)(l->container, -ECANCELED, "The container went before it started.",
                                        -EBADF, l->start_userdata);
        engine_run_waiters(&l->watchers, l->container, -ECANCELED, "berthd is stopping");
        engine_run_waiters(&l->waiters, l->container, -ECANCELED, "berthd is stopping");
        engine_run_waiters(&l->removers, l->container, -ECANCELED, "berthd is stopping");
        sd_event_source_disable_unref(l->exit_source);
        sd_event_source_disable_unref(l->stop_timer);
        sd_event_source_disable_unref(l->reap_timer);
        if (l->job)
                l->engine->units->cancel(l->engine->units_data, l->job);
        oom_watch_free(l->oom);
        sd_event_source_disable_unref(l->terminal);
        sd_event_source_disable_unref(l->setup_io);
        sd_event_source_disable_unref(l->setup_timer);
        engine_exec_cancel_all(l);
        /* The network's setup finds its start gone, and undoes itself. */
        if (l->net_setup)
                l->net_setup = NULL;
        /* systemd's store keeps its own copies of the ports' sockets. */
        for (size_t i = 0; i < l->n_port_fds; i++)
                safe_close(l->port_fds[i]);
        free(l->port_fds);
        /* A leader still in setup is killed, and reaped by the loop. */
        runtime_process_kill(&l->process);
        engine_reap(l->engine, TAKE_FD(l->process.pidfd));
        runtime_process_done(&l->process);
        l->container->live = NULL;
        free(l);
}

void engine_cancel_all(Engine *e) {
        const char *key;
        void *value;
        size_t i = 0;

        while (hashmap_iterate(e->containers->by_id, &i, &key, &value))
                live_free(((Container *) value)->live);
}

Engine *engine_free(Engine *e) {
        if (!e)
                return NULL;
        if (e->containers)
                engine_cancel_all(e);
        engine_network_done(e);
        container_table_free(e->containers);
        sd_bus_unref(e->bus);
        sd_event_unref(e->event);
        free(e->root);
        free(e);
        return NULL;
}

ContainerTable *engine_containers(Engine *e) {
        return e->containers;
}

int engine_find(Engine *e, const char *name_or_id, Container **ret) {
        return container_table_find(e->containers, name_or_id, ret);
}

void engine_finish_remove(Engine *e, Container *c) {
        Live *l = c->live;
        int r;

        c->state = CONTAINER_REMOVING;
        (void) engine_save(e, c);
        engine_fdstore_remove(e, c);
        engine_network_release(e, c);
        r = store_release_image(e->store, c->image_id, c->id);
        if (r < 0 && r != -ENOENT)
                log_warning_errno(r, "Failed to release image %s for %s: %m", c->image_id, c->name);
        errmsg_clear();         /* not the removal's error (a retry finds no hold: fine) */
        r = container_remove_dir(e->root_fd, c->id);
        if (r < 0) {
                /* It stays, "removing", with its state: rm -f tries again, also
                 * after a restart. */
                log_warning_errno(r, "Failed to remove the directory of container %s: %m", c->name);
                engine_changed(e, c);
                if (l) {
                        /* The sentence goes with the result: the waiters' replies are
                         * sent later than the thread's last sentence lives. */
                        char message[256];

                        snprintf(message, sizeof message, "Cannot remove the container's directory: %s.",
                                 strerror(-r));
                        engine_run_waiters(&l->removers, c, errmsg_set(r, "%s", message), message);
                }
                return;
        }
        if (l)
                engine_run_waiters(&l->removers, c, 0, NULL);
        if (e->cb.removed)
                e->cb.removed(c, e->userdata);
        container_table_remove(e->containers, c);
        live_free(c->live);
        container_free(c);
}
