/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* A text authentication agent for the calls berthd authorizes with polkit,
 * as systemctl and machinectl run one (systemd's src/shared/polkit-agent.c):
 * pkttyagent registers for this process, so polkitd asks the user for a
 * password on this terminal; berthctl marks its calls as allowing
 * interactive authorization, so berthd lets polkitd ask. */

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdlib.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <systemd/sd-login.h>
#include <unistd.h>

#include "berthctl.h"

#define PKTTYAGENT "/usr/bin/pkttyagent"
/* pkttyagent registers within milliseconds; never hang on it. */
#define AGENT_REGISTER_TIMEOUT_MSEC 5000

bool arg_ask_password = true;
bool arg_polkit_agent = false;

static pid_t agent_pid = 0;

bool ctl_polkit_interactive(void) {
        return arg_ask_password && geteuid() != 0 && isatty(STDIN_FILENO);
}

static void agent_close(void) {
        if (agent_pid <= 0)
                return;
        (void) kill(agent_pid, SIGTERM);
        (void) kill(agent_pid, SIGCONT);
        while (waitpid(agent_pid, NULL, 0) < 0 && errno == EINTR)
                ;
        agent_pid = 0;
}

/* In the child, between fork and exec: only async-signal-safe calls. */
_noreturn_
static void agent_exec(int notify_fd, pid_t parent, bool fallback) {
        char fd_arg[16], pid_arg[16];
        int tty;

        /* Gone with berthctl, however berthctl ends. */
        if (prctl(PR_SET_PDEATHSIG, SIGTERM) < 0 || getppid() != parent)
                _exit(EXIT_FAILURE);
        /* The prompt goes to the terminal even when our output is piped. */
        if (!isatty(STDOUT_FILENO) || !isatty(STDERR_FILENO)) {
                tty = open("/dev/tty", O_WRONLY | O_NOCTTY | O_CLOEXEC);
                if (tty >= 0) {
                        if (!isatty(STDOUT_FILENO))
                                (void) dup2(tty, STDOUT_FILENO);
                        if (!isatty(STDERR_FILENO))
                                (void) dup2(tty, STDERR_FILENO);
                }
        }
        /* The only fd it gets beyond stdio; everything else is O_CLOEXEC. */
        if (fcntl(notify_fd, F_SETFD, 0) < 0)
                _exit(EXIT_FAILURE);
        (void) snprintf(fd_arg, sizeof fd_arg, "%d", notify_fd);
        (void) snprintf(pid_arg, sizeof pid_arg, "%d", (int) parent);
        execl(PKTTYAGENT, PKTTYAGENT, "--process", pid_arg, "--notify-fd", fd_arg,
              fallback ? "--fallback" : (char *) NULL, (char *) NULL);
        _exit(EXIT_FAILURE);
}

int ctl_polkit_agent_open(void) {
        _cleanup_free_ char *session = NULL;
        struct pollfd p = { .events = POLLHUP };
        pid_t parent = getpid();
        bool fallback;
        int pipe_fd[2], r;

        if (agent_pid > 0 || !arg_polkit_agent || !ctl_polkit_interactive())
                return 0;
        if (access(PKTTYAGENT, X_OK) < 0)
                return 0;
        /* In a login session, a session's own agent (a desktop's dialog)
         * goes first, as with systemctl. polkitd uses a fallback agent for
         * subjects in a session only: outside one (a plain su or setpriv,
         * no pam_systemd), ours is the process's agent outright. */
        fallback = sd_pid_get_session(0, &session) >= 0;
        if (pipe2(pipe_fd, O_CLOEXEC) < 0)
                return -errno;
        (void) fflush(stdout);
        (void) fflush(stderr);
        agent_pid = fork();
        if (agent_pid < 0) {
                r = -errno;
                agent_pid = 0;
                safe_close(pipe_fd[0]);
                safe_close(pipe_fd[1]);
                return r;
        }
        if (agent_pid == 0)
                agent_exec(pipe_fd[1], parent, fallback);
        safe_close(pipe_fd[1]);
        (void) atexit(agent_close);
        /* pkttyagent closes the fd once registered, or by exiting. */
        p.fd = pipe_fd[0];
        while (poll(&p, 1, AGENT_REGISTER_TIMEOUT_MSEC) < 0 && errno == EINTR)
                ;
        safe_close(pipe_fd[0]);
        return 0;
}
