/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sys/ioctl.h>
#include <sys/signalfd.h>
#include <termios.h>

#include "berthctl.h"
#include "bus-util.h"

/* With -t the container's terminal is a pty in its own devpts; berthd hands
 * us the master. We put our terminal in raw mode and copy bytes both ways
 * until the container side closes, passing on window size changes. */

static struct termios saved_termios;
static bool termios_saved;

static void restore_terminal(void) {
        if (termios_saved)
                (void) tcsetattr(STDIN_FILENO, TCSADRAIN, &saved_termios);
        termios_saved = false;
}

static void make_terminal_raw(void) {
        struct termios raw;

        if (!isatty(STDIN_FILENO) || tcgetattr(STDIN_FILENO, &saved_termios) < 0)
                return;
        termios_saved = true;
        atexit(restore_terminal);
        raw = saved_termios;
        cfmakeraw(&raw);
        (void) tcsetattr(STDIN_FILENO, TCSADRAIN, &raw);
}

static void copy_window_size(int master) {
        struct winsize ws;

        if (ioctl(STDOUT_FILENO, TIOCGWINSZ, &ws) >= 0)
                (void) ioctl(master, TIOCSWINSZ, &ws);
}

static int write_all_fd(int fd, const char *p, size_t n) {
        while (n > 0) {
                ssize_t k = write(fd, p, n);
                if (k < 0) {
                        if (errno == EINTR || errno == EAGAIN)
                                continue;
                        return -errno;
                }
                p += k;
                n -= (size_t) k;
        }
        return 0;
}

/* Moves what is readable on from to to; false at end of input. */
static bool pump(int from, int to) {
        char buf[16384];
        ssize_t k = read(from, buf, sizeof buf);

        if (k < 0 && (errno == EINTR || errno == EAGAIN))
                return true;
        if (k <= 0)
                return false;
        return write_all_fd(to, buf, (size_t) k) >= 0;
}

static int winch_signalfd(void) {
        sigset_t ss;

        sigemptyset(&ss);
        sigaddset(&ss, SIGWINCH);
        sigprocmask(SIG_BLOCK, &ss, NULL);
        return signalfd(-1, &ss, SFD_CLOEXEC | SFD_NONBLOCK);
}

int ctl_attach_terminal(int master, bool interactive) {
        _cleanup_close_ int winch = winch_signalfd();
        struct pollfd p[3];
        bool in_open = interactive;

        copy_window_size(master);
        if (interactive)
                make_terminal_raw();
        for (;;) {
                p[0] = (struct pollfd) { .fd = master, .events = POLLIN };
                p[1] = (struct pollfd) { .fd = in_open ? STDIN_FILENO : -1, .events = POLLIN };
                p[2] = (struct pollfd) { .fd = winch, .events = POLLIN };
                if (poll(p, 3, -1) < 0) {
                        if (errno == EINTR)
                                continue;
                        break;
                }
                if (p[2].revents & POLLIN) {
                        struct signalfd_siginfo si;
                        (void) read(winch, &si, sizeof si);
                        copy_window_size(master);
                }
                if ((p[0].revents & (POLLIN | POLLHUP | POLLERR)) && !pump(master, STDOUT_FILENO))
                        break;   /* EIO: the container closed its side */
                if ((p[1].revents & (POLLIN | POLLHUP)) && !pump(STDIN_FILENO, master))
                        in_open = false;
        }
        restore_terminal();
        return 0;
}

typedef struct Session {
        sd_bus *bus;
        sd_event *event;
        const char *container;       /* where signals go; NULL: nowhere */
        char *run_id;                /* the container RunContainer made */
        sd_bus_message *start_reply;
        int exit_code;               /* -1: not known yet */
        int error;                   /* a negative errno, said so; 0: none */
} Session;

static int on_start_reply(sd_bus_message *reply, void *userdata, sd_bus_error *ret_error) {
        Session *s = userdata;

        s->start_reply = sd_bus_message_ref(reply);
        return 0;
}

static int on_wait_reply(sd_bus_message *reply, void *userdata, sd_bus_error *ret_error) {
        Session *s = userdata;
        const sd_bus_error *e = sd_bus_message_get_error(reply);
        int32_t code;
        int r;

        /* A --rm container may be gone before the wait arrived; its exit
         * code then came first, with RunExited. */
        if (e && s->exit_code >= 0)
                return 0;
        if (e) {
                s->error = ctl_call_failed("wait", e, -sd_bus_error_get_errno(e));
                return 0;
        }
        r = sd_bus_message_read(reply, "i", &code);
        if (r < 0)
                s->error = ctl_bad_reply(r);
        else
                s->exit_code = code;
        return 0;
}

/* RunExited: berthd sends it to RunContainer's caller alone, at the exit. */
static int on_run_exited(sd_bus_message *m, void *userdata, sd_bus_error *ret_error) {
        Session *s = userdata;
        const char *id;
        int32_t code;

        if (!s->run_id || !sd_bus_message_is_signal(m, BERTH_MANAGER_IFACE, "RunExited") ||
            !streq_ptr(sd_bus_message_get_path(m), BERTH_MANAGER_PATH))
                return 0;
        if (sd_bus_message_read(m, "si", &id, &code) >= 0 && streq(id, s->run_id))
                s->exit_code = code;
        return 0;
}

/* Docker's --sig-proxy: what we receive, the container receives. */
static int on_forward_signal(sd_event_source *src, const struct signalfd_siginfo *si, void *userdata) {
        Session *s = userdata;

        if (!s->container)
                return 0;
        return sd_bus_call_method_async(s->bus, NULL, BERTH_BUS_NAME, BERTH_MANAGER_PATH, BERTH_MANAGER_IFACE,
                                        "KillContainer", NULL, NULL, "ss", s->container,
                                        sigabbrev_np((int) si->ssi_signo));
}

static int session_setup(Session *s) {
        static const int forwarded[] = { SIGINT, SIGTERM, SIGHUP, SIGQUIT, SIGUSR1, SIGUSR2 };
        sigset_t ss;
        int r;

        sigemptyset(&ss);
        for (size_t i = 0; i < ELEMENTSOF(forwarded); i++)
                sigaddset(&ss, forwarded[i]);
        sigprocmask(SIG_BLOCK, &ss, NULL);
        r = sd_event_new(&s->event);
        if (r >= 0)
                r = sd_bus_set_close_on_exit(s->bus, false);
        if (r >= 0)
                r = sd_bus_attach_event(s->bus, s->event, 0);
        for (size_t i = 0; r >= 0 && i < ELEMENTSOF(forwarded); i++)
                r = sd_event_add_signal(s->event, NULL, forwarded[i], on_forward_signal, s);
        return r;
}

/* A container may run for days: waits have no timeout. */
static int send_wait(Session *s, const char *member, const char *name, uint32_t id) {
        _cleanup_(sd_bus_message_unrefp) sd_bus_message *m = NULL;
        int r;

        r = sd_bus_message_new_method_call(s->bus, &m, BERTH_BUS_NAME, BERTH_MANAGER_PATH,
                                           BERTH_MANAGER_IFACE, member);
        if (r >= 0)
                r = name ? sd_bus_message_append(m, "s", name) : sd_bus_message_append(m, "u", id);
        if (r >= 0)
                r = sd_bus_call_async(s->bus, NULL, m, on_wait_reply, s, UINT64_MAX);
        return r;
}

int ctl_start_error_exit_status(const sd_bus_error *e) {
        if (sd_bus_error_has_name(e, BERTH_ERROR_COMMAND_NOT_FOUND))
                return EXIT_NOT_FOUND;
        if (sd_bus_error_has_name(e, BERTH_ERROR_COMMAND_NOT_EXECUTABLE))
                return EXIT_CANNOT_EXEC;
        return 0;
}

static int read_terminal(sd_bus_message *reply) {
        const char *key;
        int fd = -EBADF, r;

        r = sd_bus_message_enter_container(reply, 'a', "{sv}");
        while (r >= 0 && (r = sd_bus_message_enter_container(reply, 'e', "sv")) > 0) {
                r = sd_bus_message_read(reply, "s", &key);
                if (r >= 0 && streq(key, "Terminal"))
                        r = sd_bus_message_read(reply, "v", "h", &fd);
                else if (r >= 0)
                        r = sd_bus_message_skip(reply, "v");
                if (r >= 0)
                        r = sd_bus_message_exit_container(reply);
        }
        return fd >= 0 ? fcntl(fd, F_DUPFD_CLOEXEC, 3) : -EBADF;
}

/* Sends start (StartContainer or ExecContainer), attaches a terminal if one
 * comes back, and waits for the exit code. For a container the wait is sent
 * right behind the start, so even a container that is gone at once (--rm)
 * cannot slip by. */
/* RunContainer's reply starts with the new container's id and path. */
static int read_run_reply(Session *s) {
        const char *id, *path;
        int r;

        r = sd_bus_message_read(s->start_reply, "so", &id, &path);
        if (r < 0)
                return ctl_bad_reply(r);
        s->run_id = strdup(id);
        if (!s->run_id)
                return ctl_oom();
        s->container = s->run_id;
        r = send_wait(s, "WaitContainer", s->run_id, 0);
        if (r < 0)
                return ctl_call_failed("wait", NULL, r);
        return 0;
}

/* An exec's process may leave children holding its streams: Docker waits
 * as long for them. */
#define STREAMS_DRAIN_USEC (2 * 1000000ULL)

int ctl_start_and_wait(sd_bus *bus, sd_bus_message *start, CtlStdio *stdio, const char *container,
                       CtlStartKind kind, bool interactive, int *ret_exit_status) {
        _cleanup_(sd_bus_message_unrefp) sd_bus_message *start_call = start;
        bool is_exec = kind == CTL_START_EXEC;
        Session s = { .bus = bus, .container = kind == CTL_START_CONTAINER ? container : NULL, .exit_code = -1 };
        _cleanup_close_ int master = -EBADF;
        const sd_bus_error *e;
        uint32_t exec_id = 0;
        int r, status;

        r = session_setup(&s);
        if (r >= 0 && kind == CTL_START_RUN)
                r = sd_bus_add_filter(bus, NULL, on_run_exited, &s);
        if (r >= 0)
                r = sd_bus_call_async(bus, NULL, start_call, on_start_reply, &s, UINT64_MAX);
        /* Our copies of the container's pipe ends go with the message: else
         * the container's stdout would never end. */
        start_call = sd_bus_message_unref(start_call);
        if (r >= 0 && stdio)
                r = ctl_stdio_attach(stdio, s.event);
        if (r >= 0 && kind == CTL_START_CONTAINER)
                r = send_wait(&s, "WaitContainer", container, 0);
        while (r >= 0 && !s.start_reply)
                r = sd_event_run(s.event, UINT64_MAX);
        if (r < 0 || !s.start_reply) {
                sd_event_unref(s.event);
                return ctl_call_failed("start", NULL, r < 0 ? r : -EIO);
        }
        e = sd_bus_message_get_error(s.start_reply);
        if (e) {
                /* A command that cannot be executed is the process's exit
                 * status, as a shell gives it; anything else is ours. */
                fprintf(stderr, "Error: %s\n", ctl_escape(e->message ?: e->name));
                status = ctl_start_error_exit_status(e);
                if (status > 0)
                        *ret_exit_status = status;
                r = status > 0 ? 0 : -(sd_bus_error_get_errno(e) ?: EIO);
                goto finish;
        }
        if (is_exec) {
                r = sd_bus_message_read(s.start_reply, "u", &exec_id);
                if (r < 0) {
                        r = ctl_bad_reply(r);
                        goto finish;
                }
        }
        if (kind == CTL_START_RUN) {
                r = read_run_reply(&s);
                if (r < 0)
                        goto finish;
        }
        master = read_terminal(s.start_reply);
        if (master >= 0)
                (void) ctl_attach_terminal(master, interactive);
        if (is_exec)
                r = send_wait(&s, "WaitExec", NULL, exec_id);
        while (r >= 0 && s.exit_code < 0 && s.error == 0)
                r = sd_event_run(s.event, UINT64_MAX);
        if (r >= 0 && stdio)
                r = ctl_stdio_drain(stdio, s.event, STREAMS_DRAIN_USEC);
        if (r < 0)
                r = ctl_call_failed("wait", NULL, r);
        else if (s.error < 0)
                r = s.error;
        else
                *ret_exit_status = s.exit_code;
finish:
        (void) sd_bus_detach_event(bus);
        sd_bus_message_unref(s.start_reply);
        sd_event_unref(s.event);
        free(s.run_id);
        return r < 0 ? r : 0;
}
