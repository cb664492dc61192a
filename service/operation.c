/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <inttypes.h>
#include <stdio.h>
#include <sys/eventfd.h>

#include "bus-util.h"
#include "log.h"
#include "manager.h"
#include "operation.h"

#define JOB_PATH_PREFIX "/org/berth/Berth1/job"
#define JOB_IFACE "org.berth.Berth1.Job"
#define PROGRESS_INTERVAL_USEC (200 * 1000)

static void operation_set_current(Operation *o, const char *current) {
        pthread_mutex_lock(&o->current_lock);
        snprintf(o->current, sizeof o->current, "%s", strempty(current));
        pthread_mutex_unlock(&o->current_lock);
}

void operation_progress(uint64_t done, uint64_t total, const char *current, void *userdata) {
        Operation *o = userdata;

        atomic_store(&o->progress, done);
        atomic_store(&o->total, total);
        if (current)
                operation_set_current(o, current);
}

static int operation_parts_grow(Operation *o, size_t n) {
        OperationPart *p;

        if (n <= o->n_parts)
                return 0;
        if (n > 4096)
                return -E2BIG;
        p = reallocarray(o->parts, n, sizeof *p);
        if (!p)
                return -ENOMEM;
        memset(p + o->n_parts, 0, (n - o->n_parts) * sizeof *p);
        for (size_t i = o->n_parts; i < n; i++)
                p[i].state = "waiting";
        o->parts = p;
        o->n_parts = n;
        return 0;
}

static void part_update_rate(OperationPart *p, uint64_t done) {
        uint64_t now = now_usec(CLOCK_MONOTONIC);

        if (p->rate_usec == 0 || done < p->rate_done) {
                p->rate_usec = now;
                p->rate_done = done;
        } else if (now - p->rate_usec >= USEC_PER_SEC) {
                p->rate = (done - p->rate_done) * USEC_PER_SEC / (now - p->rate_usec);
                p->rate_usec = now;
                p->rate_done = done;
        }
}

void operation_part_progress(Operation *o, size_t index, size_t n, const char *name, const char *state,
                             uint64_t done, uint64_t total) {
        OperationPart *p;

        pthread_mutex_lock(&o->parts_lock);
        if (index < n && operation_parts_grow(o, n) >= 0) {
                p = &o->parts[index];
                snprintf(p->name, sizeof p->name, "%s", strempty(name));
                p->state = state ?: "waiting";
                p->done = done;
                p->total = total;
                part_update_rate(p, done);
                o->parts_changed = true;
        }
        pthread_mutex_unlock(&o->parts_lock);
}

static void *operation_thread(void *userdata) {
        Operation *o = userdata;
        uint64_t one = 1;

        errmsg_clear();
        o->result = o->work(o);
        if (o->result < 0 && errmsg_last())
                o->error_message = strdup(errmsg_last());
        (void) write(o->done_fd, &one, sizeof one);
        return NULL;
}

static void operation_unlink(Operation *o) {
        for (Operation **p = &o->manager->operations; *p; p = &(*p)->next)
                if (*p == o) {
                        *p = o->next;
                        o->manager->n_operations--;
                        return;
                }
}

Operation *operation_free(Operation *o) {
        if (!o)
                return NULL;
        if (o->thread_started) {
                o->cancel = 1;
                pthread_join(o->thread, NULL);
        }
        operation_unlink(o);
        sd_event_source_disable_unref(o->done_source);
        sd_event_source_disable_unref(o->progress_timer);
        safe_close(o->done_fd);
        safe_close(o->fd);
        sd_bus_message_unref(o->request);
        if (o->free_userdata)
                o->free_userdata(o->userdata);
        pthread_mutex_destroy(&o->current_lock);
        pthread_mutex_destroy(&o->parts_lock);
        free(o->parts);
        strv_free(o->result_ids);
        free(o->error_message);
        free(o->path);
        free(o->type);
        free(o->owner);
        free(o);
        return NULL;
}
DEFINE_TRIVIAL_CLEANUP_FUNC(Operation *, operation_free);

static bool operation_take_parts_changed(Operation *o) {
        bool changed;

        pthread_mutex_lock(&o->parts_lock);
        changed = o->parts_changed;
        o->parts_changed = false;
        pthread_mutex_unlock(&o->parts_lock);
        return changed;
}

static void operation_emit_progress(Operation *o) {
        uint64_t p = atomic_load(&o->progress);

        if (operation_take_parts_changed(o))
                (void) sd_bus_emit_properties_changed(o->manager->bus, o->path, JOB_IFACE, "Layers", NULL);
        if (p == o->emitted_progress)
                return;
        o->emitted_progress = p;
        (void) sd_bus_emit_properties_changed(o->manager->bus, o->path, JOB_IFACE,
                                              "Progress", "Total", "Current", NULL);
}

static int on_progress_timer(sd_event_source *s, uint64_t usec, void *userdata) {
        Operation *o = userdata;

        operation_emit_progress(o);
        (void) sd_event_source_set_time_relative(s, PROGRESS_INTERVAL_USEC);
        return sd_event_source_set_enabled(s, SD_EVENT_ON);
}

static void operation_emit_removed(Operation *o) {
        const char *result = o->result >= 0 ? "done" : o->result == -ECANCELED ? "canceled" : "failed";
        const char *name = o->result >= 0 ? "" : bus_error_name_from_errno(BERTH_OBJECT_IMAGE, o->result) ?: "";
        const char *msg = o->result >= 0 ? "" : o->error_message ?: strerror(-o->result);
        _cleanup_(sd_bus_message_unrefp) sd_bus_message *m = NULL;
        int r;

        r = sd_bus_message_new_signal(o->manager->bus, &m, BERTH_MANAGER_PATH,
                                      BERTH_MANAGER_IFACE, "JobRemoved");
        if (r >= 0)
                r = sd_bus_message_append(m, "uosss", o->id, o->path, result, name, msg);
        if (r >= 0)
                r = sd_bus_message_append_strv(m, o->result_ids);
        if (r >= 0)
                r = sd_bus_send(o->manager->bus, m, NULL);
        if (r < 0)
                log_warning_errno(r, "Failed to emit JobRemoved for %s: %m", o->path);
}

static int on_operation_done(sd_event_source *s, int fd, uint32_t revents, void *userdata) {
        Operation *o = userdata;

        pthread_join(o->thread, NULL);
        o->thread_started = false;
        operation_emit_progress(o);
        if (o->result < 0 && o->result != -ECANCELED)
                log_warning_errno(o->result, "Job %" PRIu32 " (%s) failed: %s", o->id, o->type,
                                  o->error_message ?: strerror(-o->result));
        if (o->finish)
                o->finish(o);
        operation_emit_removed(o);
        (void) sd_bus_emit_object_removed(o->manager->bus, o->path);
        operation_free(o);
        return 0;
}

static int operation_setup_events(Operation *o) {
        int r;

        o->done_fd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
        if (o->done_fd < 0)
                return -errno;
        r = sd_event_add_io(o->manager->event, &o->done_source, o->done_fd, EPOLLIN,
                            on_operation_done, o);
        if (r < 0)
                return r;
        return sd_event_add_time_relative(o->manager->event, &o->progress_timer, CLOCK_MONOTONIC,
                                          PROGRESS_INTERVAL_USEC, 0, on_progress_timer, o);
}

int operation_start(Manager *m, const char *type, sd_bus_message *request, int fd,
                    OperationWork work, OperationFinish finish,
                    void *userdata, void (*free_userdata)(void *), Operation **ret) {
        _cleanup_(operation_freep) Operation *o = NULL;
        int r;

        o = calloc(1, sizeof *o);
        if (!o) {
                safe_close(fd);
                if (free_userdata)
                        free_userdata(userdata);
                return -ENOMEM;
        }
        *o = (Operation) {
                .manager = m, .id = ++m->last_operation_id, .fd = fd, .done_fd = -EBADF,
                .work = work, .finish = finish, .userdata = userdata, .free_userdata = free_userdata,
        };
        pthread_mutex_init(&o->current_lock, NULL);
        pthread_mutex_init(&o->parts_lock, NULL);
        o->request = sd_bus_message_ref(request);
        o->next = m->operations;
        m->operations = o;
        m->n_operations++;
        if (asprintf(&o->path, JOB_PATH_PREFIX "/%" PRIu32, o->id) < 0 ||
            !(o->type = strdup(type)) || !(o->owner = strdup(strempty(sd_bus_message_get_sender(request)))))
                return -ENOMEM;
        r = operation_setup_events(o);
        if (r < 0)
                return r;
        r = -pthread_create(&o->thread, NULL, operation_thread, o);
        if (r < 0)
                return r;
        o->thread_started = true;
        (void) sd_bus_emit_object_added(m->bus, o->path);
        *ret = TAKE_PTR(o);
        return 0;
}

int operation_start_job(Manager *m, sd_bus_message *message, const char *type, int fd, OperationWork work,
                        OperationFinish finish, void *userdata, void (*free_userdata)(void *),
                        bool reply_path, sd_bus_error *error) {
        Operation *o;
        int r;

        if (m->n_operations >= m->config.max_operations) {
                safe_close(fd);
                if (free_userdata)
                        free_userdata(userdata);
                return bus_error_set_errnof(error, BERTH_OBJECT_IMAGE, -EAGAIN,
                                            "Too many operations at once (%u); try again later.",
                                            m->config.max_operations);
        }
        r = operation_start(m, type, message, fd, work, finish, userdata, free_userdata, &o);
        if (r < 0)
                return r;
        return reply_path ? sd_bus_reply_method_return(message, "o", o->path) : 1;
}

void operation_cancel_all(Manager *m) {
        while (m->operations)
                operation_free(m->operations);
}

static int property_get_current(sd_bus *bus, const char *path, const char *interface,
                                const char *property, sd_bus_message *reply,
                                void *userdata, sd_bus_error *error) {
        Operation *o = userdata;
        char buf[sizeof o->current];

        pthread_mutex_lock(&o->current_lock);
        memcpy(buf, o->current, sizeof buf);
        pthread_mutex_unlock(&o->current_lock);
        return sd_bus_message_append(reply, "s", buf);
}

static int property_get_atomic(sd_bus *bus, const char *path, const char *interface,
                               const char *property, sd_bus_message *reply,
                               void *userdata, sd_bus_error *error) {
        return sd_bus_message_append(reply, "t", atomic_load((_Atomic uint64_t *) userdata));
}

static int property_get_layers(sd_bus *bus, const char *path, const char *interface,
                               const char *property, sd_bus_message *reply,
                               void *userdata, sd_bus_error *error) {
        Operation *o = userdata;
        int r;

        r = sd_bus_message_open_container(reply, 'a', "(ssttt)");
        pthread_mutex_lock(&o->parts_lock);
        for (size_t i = 0; r >= 0 && i < o->n_parts; i++) {
                const OperationPart *p = &o->parts[i];
                r = sd_bus_message_append(reply, "(ssttt)", p->name, p->state, p->done, p->total, p->rate);
        }
        pthread_mutex_unlock(&o->parts_lock);
        if (r < 0)
                return r;
        return sd_bus_message_close_container(reply);
}

static int method_cancel(sd_bus_message *message, void *userdata, sd_bus_error *error) {
        Operation *o = userdata;
        uid_t uid = (uid_t) -1;
        _cleanup_(sd_bus_creds_unrefp) sd_bus_creds *creds = NULL;
        int r;

        /* The caller that started it may cancel it, and root. */
        r = sd_bus_query_sender_creds(message, SD_BUS_CREDS_EUID, &creds);
        if (r >= 0)
                r = sd_bus_creds_get_euid(creds, &uid);
        if (r < 0)
                return r;
        if (uid != 0 && !streq_ptr(sd_bus_message_get_sender(message), o->owner))
                return sd_bus_error_set(error, SD_BUS_ERROR_ACCESS_DENIED,
                                        "Only the caller that started the job may cancel it.");
        o->cancel = 1;
        return sd_bus_reply_method_return(message, NULL);
}

static int operation_object_find(sd_bus *bus, const char *path, const char *interface,
                                 void *userdata, void **found, sd_bus_error *error) {
        Manager *m = userdata;
        const char *e = startswith(path, JOB_PATH_PREFIX "/");

        if (!e)
                return 0;
        for (Operation *o = m->operations; o; o = o->next)
                if (streq(o->path, path)) {
                        *found = o;
                        return 1;
                }
        return 0;
}

static int operation_node_enumerator(sd_bus *bus, const char *path, void *userdata,
                                     char ***nodes, sd_bus_error *error) {
        _cleanup_strv_free_ char **l = NULL;
        Manager *m = userdata;
        int r;

        for (Operation *o = m->operations; o; o = o->next) {
                r = strv_extend(&l, o->path);
                if (r < 0)
                        return r;
        }
        *nodes = TAKE_PTR(l);
        return 1;
}

static const sd_bus_vtable operation_vtable[] = {
        SD_BUS_VTABLE_START(0),
        SD_BUS_PROPERTY("Id", "u", NULL, offsetof(Operation, id), SD_BUS_VTABLE_PROPERTY_CONST),
        SD_BUS_PROPERTY("Type", "s", NULL, offsetof(Operation, type), SD_BUS_VTABLE_PROPERTY_CONST),
        SD_BUS_PROPERTY("Progress", "t", property_get_atomic, offsetof(Operation, progress),
                        SD_BUS_VTABLE_PROPERTY_EMITS_CHANGE),
        SD_BUS_PROPERTY("Total", "t", property_get_atomic, offsetof(Operation, total),
                        SD_BUS_VTABLE_PROPERTY_EMITS_CHANGE),
        SD_BUS_PROPERTY("Current", "s", property_get_current, 0, SD_BUS_VTABLE_PROPERTY_EMITS_CHANGE),
        SD_BUS_PROPERTY("Layers", "a(ssttt)", property_get_layers, 0, SD_BUS_VTABLE_PROPERTY_EMITS_CHANGE),
        SD_BUS_METHOD_WITH_ARGS("Cancel", SD_BUS_NO_ARGS, SD_BUS_NO_RESULT, method_cancel,
                                SD_BUS_VTABLE_UNPRIVILEGED),
        SD_BUS_VTABLE_END
};

int operation_dbus_register(Manager *m) {
        int r;

        r = sd_bus_add_fallback_vtable(m->bus, NULL, JOB_PATH_PREFIX, JOB_IFACE, operation_vtable,
                                       operation_object_find, m);
        if (r < 0)
                return r;
        return sd_bus_add_node_enumerator(m->bus, NULL, JOB_PATH_PREFIX, operation_node_enumerator, m);
}
