/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/* One worker thread running items in the order they were pushed, each
 * reporting back on the event loop: for short blocking work that must keep
 * its order and must not run on the loop (netlink and firewall calls, whose
 * state a single thread owns). */

#include <systemd/sd-event.h>

#include "util.h"

typedef struct WorkQueue WorkQueue;

typedef void (*WorkRun)(void *data);    /* on the worker thread */
typedef void (*WorkDone)(void *data);   /* then on the event loop; may be NULL */

int work_queue_new(sd_event *event, const char *name, WorkQueue **ret);
/* Runs what is queued, then joins the thread; done callbacks still pending
 * are called (from here) so that their data is freed. */
WorkQueue *work_queue_free(WorkQueue *q);
DEFINE_TRIVIAL_CLEANUP_FUNC(WorkQueue *, work_queue_free);
int work_queue_push(WorkQueue *q, WorkRun run, WorkDone done, void *data);
/* Items pushed and not yet done. */
size_t work_queue_pending(WorkQueue *q);
