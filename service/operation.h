/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include <pthread.h>
#include <stdatomic.h>
#include <systemd/sd-bus.h>
#include <systemd/sd-event.h>

#include "util.h"

/* A long operation (load, import, save) runs in a worker thread so the event
 * loop never blocks. It is published as a Job object
 * (/org/berth/Berth1/job/<n>, interface org.berth.Berth1.Job) whose Progress,
 * Total and Current properties change as it goes and whose Cancel method stops
 * it; when it ends the Manager emits JobRemoved(id, job, result, error name,
 * error message, ids). The worker never touches sd-bus: it updates atomics and
 * wakes the loop through an eventfd. */

typedef struct Manager Manager;
typedef struct Operation Operation;

/* One part of a job moving on its own (a layer of a pull or push), for the
 * Job's Layers property. */
typedef struct OperationPart {
        char name[80];               /* the blob digest */
        const char *state;           /* a static string: "downloading", "done", ... */
        uint64_t done, total;
        uint64_t rate;               /* bytes/s over the last second or so */
        uint64_t rate_usec, rate_done;
} OperationPart;

/* Runs in the worker thread. Returns 0 or a negative errno; may fill
 * o->result_ids and set an error message with errmsg_set(). */
typedef int (*OperationWork)(Operation *o);
/* Runs in the main thread once the work is done, before JobRemoved. */
typedef void (*OperationFinish)(Operation *o);

struct Operation {
        Manager *manager;
        uint32_t id;
        char *path;
        char *type;
        char *owner;                 /* unique bus name of the caller */

        OperationWork work;
        OperationFinish finish;
        void *userdata;
        void (*free_userdata)(void *userdata);
        int fd;                      /* the caller's file, owned */
        sd_bus_message *request;     /* for operations that reply when done */

        pthread_t thread;
        bool thread_started;
        int done_fd;
        sd_event_source *done_source;
        sd_event_source *progress_timer;

        volatile int cancel;
        _Atomic uint64_t progress;
        _Atomic uint64_t total;
        pthread_mutex_t current_lock;
        char current[256];
        uint64_t emitted_progress;

        pthread_mutex_t parts_lock;
        OperationPart *parts;
        size_t n_parts;
        bool parts_changed;          /* under parts_lock */

        int result;                  /* set by the worker */
        char *error_message;
        char **result_ids;

        Operation *next;
};

/* Takes ownership of fd and userdata. */
int operation_start(Manager *m, const char *type, sd_bus_message *request, int fd,
                    OperationWork work, OperationFinish finish,
                    void *userdata, void (*free_userdata)(void *), Operation **ret);
/* operation_start() for the method call message that asks for it:
 * refused with EAGAIN (fd and userdata freed) while MaxOperations run, else
 * answered with the Job's path where reply_path, or left for finish to
 * answer once the work is done. */
int operation_start_job(Manager *m, sd_bus_message *message, const char *type, int fd, OperationWork work,
                        OperationFinish finish, void *userdata, void (*free_userdata)(void *),
                        bool reply_path, sd_bus_error *error);
Operation *operation_free(Operation *o);
void operation_cancel_all(Manager *m);

/* For the worker: a StoreProgressFn. */
void operation_progress(uint64_t done, uint64_t total, const char *current, void *userdata);

/* For the worker: part index of n changed. The Layers property is emitted
 * with the progress, at most every 200 ms. */
void operation_part_progress(Operation *o, size_t index, size_t n, const char *name, const char *state,
                             uint64_t done, uint64_t total);

int operation_dbus_register(Manager *m);
