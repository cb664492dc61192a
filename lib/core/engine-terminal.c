/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <fcntl.h>
#include <systemd/sd-journal.h>

#include "engine-internal.h"
#include "log.h"

/* A detached container with a terminal (run -d -t) writes to a pty whose
 * master nobody attached holds. berthd keeps it, in the fd store too, and
 * copies what arrives to the journal line by line. OBJECT_PID names the
 * container's leader, so journald files the lines under the container's
 * scope as well (journalctl -u berth-NAME.scope shows them). */

static void journal_line(const Container *c, const char *line, size_t n) {
        (void) sd_journal_send("MESSAGE=%.*s", (int) n, line,
                               "PRIORITY=6",
                               "SYSLOG_IDENTIFIER=%s", c->name,
                               "CONTAINER_NAME=%s", c->name,
                               "CONTAINER_ID=%s", c->id,
                               "OBJECT_PID=%d", (int) c->pid,
                               NULL);
}

static int on_terminal(sd_event_source *s, int fd, uint32_t revents, void *userdata) {
        Live *l = userdata;
        char buf[8192];
        ssize_t k;

        k = read(fd, buf, sizeof buf);
        if (k < 0 && (errno == EAGAIN || errno == EINTR))
                return 0;
        if (k <= 0) {
                /* EIO: the container side is closed, the container is ending. */
                l->terminal = sd_event_source_disable_unref(l->terminal);
                return 0;
        }
        for (char *p = buf, *end = buf + k; p < end;) {
                char *nl = memchr(p, '\n', (size_t) (end - p));
                size_t n = (size_t) ((nl ?: end) - p);
                if (n > 0 && p[n - 1] == '\r')
                        n--;
                if (n > 0)
                        journal_line(l->container, p, n);
                p = nl ? nl + 1 : end;
        }
        return 0;
}

int engine_drain_terminal(Engine *e, Container *c, int master, bool store) {
        Live *l = engine_live(e, c);
        int r;

        if (!l) {
                safe_close(master);
                return -EBADF;
        }
        (void) fcntl(master, F_SETFL, fcntl(master, F_GETFL) | O_NONBLOCK);
        if (store)
                engine_fdstore_put(e, c, master, ".tty");
        l->terminal = sd_event_source_disable_unref(l->terminal);
        r = sd_event_add_io(e->event, &l->terminal, master, EPOLLIN, on_terminal, l);
        if (r < 0) {
                log_warning_errno(r, "Cannot read the terminal of container %s: %m", c->name);
                safe_close(master);
                return -EBADF;
        }
        (void) sd_event_source_set_io_fd_own(l->terminal, true);
        return -EBADF;
}
