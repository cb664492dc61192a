/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <fcntl.h>
#include <linux/kcmp.h>
#include <poll.h>
#include <signal.h>
#include <sys/epoll.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <sys/syscall.h>
#include <systemd/sd-event.h>

#include "berthctl.h"
#include "stdio-fd.h"

/* The container gets our stdin, stdout and stderr only where berthd would
 * take them as they are: pipes and connected AF_UNIX stream sockets
 * (lib/shared/stdio-fd.c says why). Passing those straight through is what keeps
 * attached runs fast. Anything else (a terminal, a file, a directory, ...)
 * stays ours: the container gets a pipe, and we copy between it and our own
 * fd until the container's side closes. For our /dev/null it gets nothing:
 * berthd gives it a /dev/null of its own, which does the same.
 *
 * Our own fds are never made non-blocking: O_NONBLOCK belongs to the open
 * file, which our shell shares. Only our ends of the pipes are. Reading our
 * stdin waits for poll where it can be polled (a terminal); a regular file
 * or /dev/null cannot be (epoll refuses them) and never blocks for long. */

#define RELAY_BUFFER (128 * 1024)
/* Rounds of a relay per event, so that a busy stream leaves the bus its turn. */
#define RELAY_ROUNDS 16

typedef struct Relay {
        int own_fd;             /* 0, 1 or 2 */
        int pipe_fd;            /* our end of the container's pipe, O_NONBLOCK */
        bool input;             /* own -> pipe (stdin); else pipe -> own */
        bool own_ready;         /* poll said own_fd is readable */
        bool done;
        sd_event_source *own_source;    /* NULL: own_fd cannot be polled */
        sd_event_source *pipe_source;
        size_t start, end;
        char buf[RELAY_BUFFER];
} Relay;

struct CtlStdio {
        int remote[3];          /* what berthd gets for each stream; -EBADF: nothing */
        bool remote_ours[3];    /* remote[i] is a pipe end to close, not fd i itself */
        Relay *relays[3];       /* NULL: passed as it is, or stderr shares stdout's pipe */
};

static const char * const stream_key[3] = { "Stdin", "Stdout", "Stderr" };
static const char * const stream_name[3] = { "stdin", "stdout", "stderr" };

static void relay_finish(Relay *r) {
        r->own_source = sd_event_source_disable_unref(r->own_source);
        r->pipe_source = sd_event_source_disable_unref(r->pipe_source);
        r->pipe_fd = safe_close(r->pipe_fd);   /* the container sees EOF, or EPIPE */
        r->done = true;
}

static Relay *relay_free(Relay *r) {
        if (!r)
                return NULL;
        relay_finish(r);
        free(r);
        return NULL;
}

/* Our own fd may have been made non-blocking by somebody else: then wait
 * here, as a blocking write would. */
static int write_own(int fd, const char *p, size_t n) {
        while (n > 0) {
                ssize_t k = write(fd, p, n);
                if (k < 0 && errno == EAGAIN) {
                        (void) poll(&(struct pollfd) { .fd = fd, .events = POLLOUT }, 1, -1);
                        continue;
                }
                if (k < 0 && errno == EINTR)
                        continue;
                if (k < 0)
                        return negative_errno();
                p += k;
                n -= (size_t) k;
        }
        return 0;
}

static void relay_want(Relay *r, bool own_in, uint32_t pipe_events) {
        if (r->own_source)
                (void) sd_event_source_set_enabled(r->own_source, own_in ? SD_EVENT_ON : SD_EVENT_OFF);
        /* Enabled with no events, the pipe still reports EPOLLERR: the
         * container closed its stdin. */
        (void) sd_event_source_set_io_events(r->pipe_source, pipe_events);
}

/* Our stdin to the container: what was read is written before more is read. */
static void relay_input(Relay *r) {
        for (int round = 0; round < RELAY_ROUNDS; round++) {
                ssize_t k;

                if (r->start < r->end) {
                        k = write(r->pipe_fd, r->buf + r->start, r->end - r->start);
                        if (k < 0 && errno == EINTR)
                                continue;
                        if (k < 0 && errno == EAGAIN) {
                                relay_want(r, false, EPOLLOUT);
                                return;
                        }
                        if (k < 0) {
                                relay_finish(r);   /* EPIPE: the container closed its stdin */
                                return;
                        }
                        r->start += (size_t) k;
                        continue;
                }
                r->start = r->end = 0;
                if (r->own_source && !r->own_ready) {
                        relay_want(r, true, 0);
                        return;
                }
                k = read(r->own_fd, r->buf, sizeof r->buf);
                r->own_ready = false;
                if (k < 0 && errno == EINTR)
                        continue;
                if (k < 0 && errno == EAGAIN && r->own_source)
                        continue;
                if (k < 0)
                        fprintf(stderr, "berthctl: cannot read stdin: %m\n");
                if (k <= 0) {
                        relay_finish(r);
                        return;
                }
                r->end = (size_t) k;
        }
        /* Not done yet: come back when the pipe takes more. */
        relay_want(r, false, EPOLLOUT);
}

/* The container's stdout or stderr to ours. */
static void relay_output(Relay *r) {
        for (int round = 0; round < RELAY_ROUNDS; round++) {
                ssize_t k = read(r->pipe_fd, r->buf, sizeof r->buf);

                if (k < 0 && errno == EINTR)
                        continue;
                if (k < 0 && errno == EAGAIN)
                        return;
                if (k <= 0) {
                        relay_finish(r);
                        return;
                }
                if (write_own(r->own_fd, r->buf, (size_t) k) < 0) {
                        int saved = errno;
                        /* Closing the pipe gives the container EPIPE, as a
                         * closed stdout of its own would. */
                        relay_finish(r);
                        if (r->own_fd != STDERR_FILENO)
                                fprintf(stderr, "berthctl: cannot write %s: %s\n",
                                        stream_name[r->own_fd], strerror(saved));
                        return;
                }
        }
}

static int on_pipe(sd_event_source *s, int fd, uint32_t revents, void *userdata) {
        Relay *r = userdata;

        if (r->input && (revents & (EPOLLERR | EPOLLHUP)))
                relay_finish(r);
        else if (r->input)
                relay_input(r);
        else
                relay_output(r);
        return 0;
}

static int on_own(sd_event_source *s, int fd, uint32_t revents, void *userdata) {
        Relay *r = userdata;

        r->own_ready = true;
        relay_input(r);
        return 0;
}

/* stdout and stderr the same open file (a terminal, "> out 2>&1"): one pipe
 * for both keeps their order. */
static bool same_open_file(int a, int b) {
        pid_t pid = getpid();

        return syscall(SYS_kcmp, pid, pid, KCMP_FILE, a, b) == 0;
}

static bool is_dev_null(int fd) {
        struct stat st;

        return fstat(fd, &st) >= 0 && S_ISCHR(st.st_mode) && st.st_rdev == makedev(1, 3);
}

static int relay_new(CtlStdio *s, int i) {
        _cleanup_close_ int rd = -EBADF, wr = -EBADF;
        int p[2];
        Relay *r;

        if (pipe2(p, O_CLOEXEC) < 0)
                return negative_errno();
        rd = p[0];
        wr = p[1];
        r = calloc(1, sizeof *r);
        if (!r)
                return -ENOMEM;
        *r = (Relay) { .own_fd = i, .input = i == STDIN_FILENO };
        r->pipe_fd = r->input ? TAKE_FD(wr) : TAKE_FD(rd);
        s->remote[i] = r->input ? TAKE_FD(rd) : TAKE_FD(wr);
        s->remote_ours[i] = true;
        s->relays[i] = r;
        return fcntl(r->pipe_fd, F_SETFL, O_NONBLOCK) < 0 ? negative_errno() : 0;
}

CtlStdio *ctl_stdio_free(CtlStdio *s) {
        if (!s)
                return NULL;
        for (int i = 0; i < 3; i++) {
                relay_free(s->relays[i]);
                if (s->remote_ours[i])
                        safe_close(s->remote[i]);
        }
        free(s);
        return NULL;
}

int ctl_stdio_new(bool with_stdin, CtlStdio **ret) {
        _cleanup_(ctl_stdio_freep) CtlStdio *s = NULL;
        const char *what;
        int r;

        s = calloc(1, sizeof *s);
        if (!s)
                return -ENOMEM;
        for (int i = 0; i < 3; i++)
                s->remote[i] = -EBADF;
        for (int i = with_stdin ? 0 : 1; i < 3; i++) {
                r = stdio_fd_check(i, &what);
                if (r == -EBADF || (r == -EPERM && is_dev_null(i)))
                        continue;   /* closed or /dev/null: the container gets berthd's /dev/null */
                if (r >= 0)
                        s->remote[i] = i;
                else if (i == STDERR_FILENO && s->relays[1] && same_open_file(1, 2))
                        s->remote[2] = s->remote[1];   /* closed with stdout's */
                else {
                        r = relay_new(s, i);
                        if (r < 0)
                                return r;
                }
        }
        /* The container may close its stdin before we are done writing it. */
        if (s->relays[0])
                (void) signal(SIGPIPE, SIG_IGN);
        *ret = TAKE_PTR(s);
        return 0;
}

int ctl_stdio_append(CtlStdio *s, sd_bus_message *m) {
        int r = 0;

        for (int i = 0; r >= 0 && i < 3; i++)
                if (s->remote[i] >= 0)
                        r = sd_bus_message_append(m, "{sv}", stream_key[i], "h", s->remote[i]);
        if (r < 0)
                return r;
        /* The message holds copies now; ours would keep the container's
         * stdout open after it is gone. */
        for (int i = 0; i < 3; i++) {
                if (s->remote_ours[i])
                        safe_close(s->remote[i]);
                s->remote_ours[i] = false;
                s->remote[i] = -EBADF;
        }
        return 0;
}

int ctl_stdio_attach(CtlStdio *s, sd_event *e) {
        int r;

        for (int i = 0; i < 3; i++) {
                Relay *relay = s->relays[i];

                if (!relay)
                        continue;
                r = sd_event_add_io(e, &relay->pipe_source, relay->pipe_fd, relay->input ? EPOLLOUT : EPOLLIN,
                                    on_pipe, relay);
                if (r < 0)
                        return r;
                if (!relay->input)
                        continue;
                r = sd_event_add_io(e, &relay->own_source, relay->own_fd, EPOLLIN, on_own, relay);
                if (r == -EPERM)
                        relay->own_source = NULL;   /* a regular file, /dev/null...: always readable */
                else if (r < 0)
                        return r;
                else
                        relay_want(relay, true, 0);
        }
        return 0;
}

bool ctl_stdio_outputs_done(const CtlStdio *s) {
        for (int i = 1; i < 3; i++)
                if (s->relays[i] && !s->relays[i]->done)
                        return false;
        return true;
}

/* The container's streams close when its last process exits; an exec's
 * process may leave children holding them, and Docker waits two seconds
 * for an exec's streams too. */
int ctl_stdio_drain(CtlStdio *s, sd_event *e, uint64_t timeout_usec) {
        uint64_t deadline = now_usec(CLOCK_MONOTONIC) + timeout_usec;
        int r;

        if (s->relays[0])
                relay_finish(s->relays[0]);
        while (!ctl_stdio_outputs_done(s)) {
                uint64_t now = now_usec(CLOCK_MONOTONIC);
                if (now >= deadline)
                        break;
                r = sd_event_run(e, deadline - now);
                if (r < 0)
                        return r;
        }
        return 0;
}
