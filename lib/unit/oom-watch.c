/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <fcntl.h>
#include <sys/eventfd.h>
#include <sys/inotify.h>

#include "fileio.h"
#include "oom-watch.h"
#include "util.h"

struct OomWatch {
        sd_event_source *source;
        char *events_path;      /* v2: memory.events; v1: the cgroup directory */
        bool v2;
        OomCallback cb;
        void *userdata;
};

OomWatch *oom_watch_free(OomWatch *w) {
        if (!w)
                return NULL;
        sd_event_source_disable_unref(w->source);
        free(w->events_path);
        free(w);
        return NULL;
}

static bool v2_saw_oom_kill(const char *path) {
        _cleanup_fclose_ FILE *f = fopen(path, "re");
        char key[64];
        unsigned long long n;

        while (f && fscanf(f, "%63s %llu", key, &n) == 2)
                if (streq(key, "oom_kill") && n > 0)
                        return true;
        return false;
}

static int on_event(sd_event_source *s, int fd, uint32_t revents, void *userdata) {
        OomWatch *w = userdata;
        char buf[4096];
        bool oom;

        (void) read(fd, buf, sizeof buf);
        /* v1 also signals when the cgroup goes away: only a live one had an OOM. */
        oom = w->v2 ? v2_saw_oom_kill(w->events_path) : access(w->events_path, F_OK) >= 0;
        if (oom) {
                (void) sd_event_source_set_enabled(s, SD_EVENT_OFF);
                w->cb(w->userdata);
        }
        return 0;
}

static int watch_v1(OomWatch *w, const char *dir) {
        _cleanup_free_ char *ctl = strjoin(dir, "/memory.oom_control"), *ev = strjoin(dir, "/cgroup.event_control");
        _cleanup_close_ int cfd = -EBADF, efd = -EBADF;
        char line[64];

        if (!ctl || !ev)
                return -ENOMEM;
        cfd = open(ctl, O_RDONLY | O_CLOEXEC);
        efd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
        if (cfd < 0 || efd < 0)
                return -errno;
        snprintf(line, sizeof line, "%d %d", efd, cfd);
        int r = write_string_file_at(AT_FDCWD, ev, line);
        if (r < 0)
                return r;
        return TAKE_FD(efd);
}

static int watch_v2(OomWatch *w) {
        _cleanup_close_ int fd = inotify_init1(IN_CLOEXEC | IN_NONBLOCK);

        if (fd < 0)
                return -errno;
        if (inotify_add_watch(fd, w->events_path, IN_MODIFY) < 0)
                return -errno;
        return TAKE_FD(fd);
}

int oom_watch_new(sd_event *e, CgroupVersion v, const char *control_group, OomCallback cb, void *userdata,
                  OomWatch **ret) {
        _cleanup_(oom_watch_freep) OomWatch *w = NULL;
        int fd, r;

        w = calloc(1, sizeof *w);
        if (!w)
                return -ENOMEM;
        *w = (OomWatch) { .v2 = v == CGROUP_VERSION_UNIFIED, .cb = cb, .userdata = userdata };
        w->events_path = w->v2 ? strjoin("/sys/fs/cgroup", control_group, "/memory.events")
                               : strjoin("/sys/fs/cgroup/memory", control_group);
        if (!w->events_path)
                return -ENOMEM;
        fd = w->v2 ? watch_v2(w) : watch_v1(w, w->events_path);
        if (fd < 0)
                return fd;
        r = sd_event_add_io(e, &w->source, fd, EPOLLIN, on_event, w);
        if (r < 0) {
                safe_close(fd);
                return r;
        }
        (void) sd_event_source_set_io_fd_own(w->source, true);
        *ret = TAKE_PTR(w);
        return 0;
}
