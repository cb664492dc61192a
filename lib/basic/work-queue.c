/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <pthread.h>
#include <sys/eventfd.h>
#include <sys/prctl.h>

#include "work-queue.h"

typedef struct WorkItem {
        WorkRun run;
        WorkDone done;
        void *data;
        struct WorkItem *next;
} WorkItem;

struct WorkQueue {
        pthread_t thread;
        pthread_mutex_t lock;
        pthread_cond_t cond;
        WorkItem *todo, **todo_tail;   /* for the thread */
        WorkItem *finished, **finished_tail; /* for the loop */
        size_t pending;
        bool stopping, started;
        int efd;
        sd_event_source *source;
        char name[16];
};

static void items_append(WorkItem ***tail, WorkItem *i) {
        i->next = NULL;
        **tail = i;
        *tail = &i->next;
}

static void *worker(void *userdata) {
        WorkQueue *q = userdata;

        (void) prctl(PR_SET_NAME, q->name);
        pthread_mutex_lock(&q->lock);
        for (;;) {
                WorkItem *i;

                while (!q->todo && !q->stopping)
                        pthread_cond_wait(&q->cond, &q->lock);
                if (!q->todo)
                        break;
                i = q->todo;
                q->todo = i->next;
                if (!q->todo)
                        q->todo_tail = &q->todo;
                pthread_mutex_unlock(&q->lock);
                i->run(i->data);
                pthread_mutex_lock(&q->lock);
                items_append(&q->finished_tail, i);
                (void) eventfd_write(q->efd, 1);
        }
        pthread_mutex_unlock(&q->lock);
        return NULL;
}

static void run_finished(WorkQueue *q) {
        WorkItem *list;

        pthread_mutex_lock(&q->lock);
        list = q->finished;
        q->finished = NULL;
        q->finished_tail = &q->finished;
        pthread_mutex_unlock(&q->lock);
        while (list) {
                WorkItem *i = list;
                list = i->next;
                q->pending--;
                if (i->done)
                        i->done(i->data);
                free(i);
        }
}

static int on_finished(sd_event_source *s, int fd, uint32_t revents, void *userdata) {
        WorkQueue *q = userdata;
        eventfd_t v;

        (void) eventfd_read(fd, &v);
        run_finished(q);
        return 0;
}

int work_queue_new(sd_event *event, const char *name, WorkQueue **ret) {
        WorkQueue *q;
        int r;

        q = calloc(1, sizeof *q);
        if (!q)
                return -ENOMEM;
        pthread_mutex_init(&q->lock, NULL);
        pthread_cond_init(&q->cond, NULL);
        q->todo_tail = &q->todo;
        q->finished_tail = &q->finished;
        snprintf(q->name, sizeof q->name, "%s", name);
        q->efd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
        if (q->efd < 0) {
                r = -errno;
                goto fail;
        }
        r = sd_event_add_io(event, &q->source, q->efd, EPOLLIN, on_finished, q);
        if (r < 0)
                goto fail;
        r = -pthread_create(&q->thread, NULL, worker, q);
        if (r < 0)
                goto fail;
        q->started = true;
        *ret = q;
        return 0;
fail:
        work_queue_free(q);
        return r;
}

WorkQueue *work_queue_free(WorkQueue *q) {
        if (!q)
                return NULL;
        if (q->started) {
                pthread_mutex_lock(&q->lock);
                q->stopping = true;
                pthread_cond_signal(&q->cond);
                pthread_mutex_unlock(&q->lock);
                pthread_join(q->thread, NULL);
        }
        run_finished(q);
        sd_event_source_disable_unref(q->source);
        safe_close(q->efd);
        pthread_cond_destroy(&q->cond);
        pthread_mutex_destroy(&q->lock);
        return mfree(q);
}

int work_queue_push(WorkQueue *q, WorkRun run, WorkDone done, void *data) {
        WorkItem *i = calloc(1, sizeof *i);

        if (!i)
                return -ENOMEM;
        *i = (WorkItem) { .run = run, .done = done, .data = data };
        pthread_mutex_lock(&q->lock);
        items_append(&q->todo_tail, i);
        q->pending++;
        pthread_cond_signal(&q->cond);
        pthread_mutex_unlock(&q->lock);
        return 0;
}

size_t work_queue_pending(WorkQueue *q) {
        return q->pending;
}
