/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
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

/* How an attached run learns the exit: from the Container object's
 * PropertiesChanged (State "exited" with its ExitCode), subscribed to
 * before the start is sent, so neither a quick exit nor the removal of a
 * --rm container can slip by; an exec's from its Exec object's Wait(),
 * which is there until its container goes. */
typedef struct Session {
        sd_bus *bus;
        sd_event *event;
        const char *container;       /* where signals go; NULL: nowhere */
        char *run_id;                /* the container RunContainer made */
        char *path;                  /* the container's object; NULL until known */
        char **early_exits;          /* "PATH CODE" of exits seen before path was known */
        sd_bus_slot *match;          /* the PropertiesChanged subscription */
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

/* PropertiesChanged of a Container: State and ExitCode change together. */
static int on_container_changed(sd_bus_message *m, void *userdata, sd_bus_error *ret_error) {
        Session *s = userdata;
        const char *iface, *key, *state = NULL;
        bool have_code = false;
        int32_t code = -1;
        char *e;
        int r;

        r = sd_bus_message_read(m, "s", &iface);
        if (r < 0 || !streq(iface, BERTH_CONTAINER_IFACE))
                return 0;
        r = sd_bus_message_enter_container(m, 'a', "{sv}");
        while (r > 0 && (r = sd_bus_message_enter_container(m, 'e', "sv")) > 0) {
                r = sd_bus_message_read(m, "s", &key);
                if (r >= 0 && streq(key, "State"))
                        r = sd_bus_message_read(m, "v", "s", &state);
                else if (r >= 0 && streq(key, "ExitCode")) {
                        r = sd_bus_message_read(m, "v", "i", &code);
                        have_code = r >= 0;
                } else if (r >= 0)
                        r = sd_bus_message_skip(m, "v");
                if (r >= 0)
                        r = sd_bus_message_exit_container(m);
        }
        if (!streq_ptr(state, "exited") || !have_code)
                return 0;
        if (s->path) {
                if (streq_ptr(sd_bus_message_get_path(m), s->path) && s->exit_code < 0)
                        s->exit_code = code;
                return 0;
        }
        /* RunContainer has not answered yet: which container is ours is not known. */
        if (asprintf(&e, "%s %" PRIi32, sd_bus_message_get_path(m), code) >= 0)
                (void) strv_consume(&s->early_exits, e);
        return 0;
}

/* path NULL: every container's (for RunContainer, which names it in its reply). */
static int subscribe_container(Session *s, const char *path) {
        _cleanup_free_ char *match = NULL;

#define MATCH_PREFIX "type='signal',sender='" BERTH_BUS_NAME "',interface='org.freedesktop.DBus.Properties'," \
                     "member='PropertiesChanged',arg0='" BERTH_CONTAINER_IFACE "',"
        match = path ? strjoin(MATCH_PREFIX "path='", path, "'") :
                       strdup(MATCH_PREFIX "path_namespace='" BERTH_CONTAINER_PATH_PREFIX "'");
#undef MATCH_PREFIX
        if (!match)
                return -ENOMEM;
        /* Asynchronously: dbus-daemon handles a connection's messages in
         * order, so the match is in place before the start that follows. */
        return sd_bus_add_match_async(s->bus, &s->match, match, on_container_changed, NULL, s);
}

/* Docker's --sig-proxy: what we receive, the container receives. */
static int on_forward_signal(sd_event_source *src, const struct signalfd_siginfo *si, void *userdata) {
        Session *s = userdata;

        if (!s->container)
                return 0;
        return sd_bus_call_method_async(s->bus, NULL, BERTH_BUS_NAME, BERTH_MANAGER_PATH, BERTH_MANAGER_IFACE,
                                        "KillContainer", NULL, NULL, "si", s->container, (int32_t) si->ssi_signo);
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

/* An exec may run for days: its Wait has no timeout. */
static int send_exec_wait(Session *s, const char *exec_path) {
        _cleanup_(sd_bus_message_unrefp) sd_bus_message *m = NULL;
        int r;

        r = sd_bus_message_new_method_call(s->bus, &m, BERTH_BUS_NAME, exec_path, BERTH_EXEC_IFACE, "Wait");
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

/* RunContainer's reply starts with the new container's id and path; an
 * exit seen before it came is looked up now. */
static int read_run_reply(Session *s) {
        const char *id, *path;
        int r;

        r = sd_bus_message_read(s->start_reply, "so", &id, &path);
        if (r < 0)
                return ctl_bad_reply(r);
        s->run_id = strdup(id);
        s->path = strdup(path);
        if (!s->run_id || !s->path)
                return ctl_oom();
        s->container = s->run_id;
        STRV_FOREACH(e, s->early_exits) {
                const char *code = startswith(*e, s->path);
                if (code && *code == ' ')
                        (void) safe_atoi(code + 1, &s->exit_code);
        }
        return 0;
}

/* An exec's process may leave children holding its streams: Docker waits
 * as long for them. */
#define STREAMS_DRAIN_USEC (2 * 1000000ULL)

/* Sends start (StartContainer, RunContainer or ExecContainer), attaches a
 * terminal if one comes back, and waits for the exit code. */
int ctl_start_and_wait(sd_bus *bus, sd_bus_message *start, CtlStdio *stdio, const char *container,
                       CtlStartKind kind, bool interactive, int *ret_exit_status) {
        _cleanup_(sd_bus_message_unrefp) sd_bus_message *start_call = start;
        bool is_exec = kind == CTL_START_EXEC;
        Session s = { .bus = bus, .container = kind == CTL_START_CONTAINER ? container : NULL, .exit_code = -1 };
        _cleanup_close_ int master = -EBADF;
        const char *exec_path = NULL;
        const sd_bus_error *e;
        int r, status;

        r = session_setup(&s);
        /* Subscribed before the start is sent: the exit cannot come first. */
        if (r >= 0 && kind == CTL_START_RUN)
                r = subscribe_container(&s, NULL);
        if (r >= 0 && kind == CTL_START_CONTAINER) {
                r = ctl_container_path(bus, container, false, &s.path);
                if (r < 0)
                        goto finish;   /* said so */
                r = subscribe_container(&s, s.path);
        }
        if (r >= 0)
                r = sd_bus_call_async(bus, NULL, start_call, on_start_reply, &s, UINT64_MAX);
        /* Our copies of the container's pipe ends go with the message: else
         * the container's stdout would never end. */
        start_call = sd_bus_message_unref(start_call);
        if (r >= 0 && stdio)
                r = ctl_stdio_attach(stdio, s.event);
        while (r >= 0 && !s.start_reply)
                r = sd_event_run(s.event, UINT64_MAX);
        if (r < 0 || !s.start_reply) {
                r = ctl_call_failed("start", NULL, r < 0 ? r : -EIO);
                goto finish;
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
                r = sd_bus_message_read(s.start_reply, "o", &exec_path);
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
        if (is_exec) {
                r = send_exec_wait(&s, exec_path);
                if (r < 0) {
                        r = ctl_call_failed("wait", NULL, r);
                        goto finish;
                }
        }
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
        sd_bus_slot_unref(s.match);
        (void) sd_bus_detach_event(bus);
        sd_bus_message_unref(s.start_reply);
        sd_event_unref(s.event);
        free(s.run_id);
        free(s.path);
        strv_free(s.early_exits);
        return r < 0 ? r : 0;
}
