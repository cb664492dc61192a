/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include <limits.h>
#include <sys/types.h>

#include "mount-setup.h"
#include "seccomp-profile.h"
#include "util.h"

/* Berth's container runtime: creates the container's first process in new
 * namespaces on an overlay root, and runs further processes inside it.
 *
 * Both runtime_spawn() and runtime_exec_begin() give a process that is
 * stopped before doing anything: the caller moves it into its cgroup (a
 * transient systemd scope) and only then releases it, so that no instruction
 * of the user's command ever runs outside the container's limits. Release
 * and exec are driven without blocking: the caller polls the process's
 * channel and calls the _continue() functions when it is readable, and
 * enforces a time limit, since the setup reads files of the container; a
 * failure is described by a RuntimeError ("mount /proc: Permission denied")
 * with Docker's exit code class. The blocking runtime_release() and
 * runtime_exec() are for tests and tools. */

typedef enum RuntimeNetwork {
        RUNTIME_NETWORK_NONE,     /* a new network namespace with only lo, up */
        RUNTIME_NETWORK_HOST,     /* the host's network namespace */
        RUNTIME_NETWORK_PRIVATE,  /* a new namespace the caller configures (bridge) */
        RUNTIME_NETWORK_JOIN,     /* another container's: join_netns_fd */
        _RUNTIME_NETWORK_MAX,
        _RUNTIME_NETWORK_INVALID = -EINVAL,
} RuntimeNetwork;

const char *runtime_network_to_string(RuntimeNetwork n);
RuntimeNetwork runtime_network_from_string(const char *s);

/* Docker's exit codes for failures before the command runs. */
#define RUNTIME_EXIT_ENGINE_ERROR 125
#define RUNTIME_EXIT_NOT_EXECUTABLE 126
#define RUNTIME_EXIT_NOT_FOUND 127

/* What runs: shared by the container's first process and exec'd ones. */
typedef struct RuntimeProcessSpec {
        char **argv;
        char **env;                    /* exactly these, plus PATH, HOSTNAME, HOME, TERM if unset */
        const char *cwd;               /* in the container; created if missing; NULL: "/" */
        const char *user;              /* Docker's --user forms; NULL: root */
        bool tty;                      /* a pty from the container's devpts as stdio */
        int stdin_fd, stdout_fd, stderr_fd; /* -EBADF: /dev/null; unused with tty */
        bool journal;                  /* stdout/stderr to the journal (spawn only) */
        char **cap_add, **cap_drop;    /* "NET_ADMIN", "CAP_NET_ADMIN", "ALL" */
        bool privileged;
        bool no_new_privs;
        SeccompMode seccomp;
        const char *seccomp_profile;   /* SECCOMP_MODE_PROFILE: Docker-format JSON file */
} RuntimeProcessSpec;

typedef struct RuntimeSpec {
        const char *name;              /* journal identifier */
        const char *unit;              /* the scope, declared to journald; may be NULL */
        const char *hostname;
        char **lowerdirs;              /* image layers, topmost first */
        const char *upperdir, *workdir;
        const char *rootfs;            /* an empty directory the overlay is mounted on,
                                        * inside the container's mount namespace only */
        bool volatile_upper;           /* the upper layer goes with the container (--rm):
                                        * never synced, fsync in the container included */
        bool readonly_rootfs;
        const char *hostname_file, *hosts_file, *resolv_conf_file; /* prepared by the caller */
        bool etc_files_readonly;
        const MountSpec *mounts;
        size_t n_mounts;
        RuntimeNetwork network;
        int join_netns_fd;             /* RUNTIME_NETWORK_JOIN: the namespace, entered before the clone */
        char **masked_paths;           /* NULL: Docker's list */
        char **readonly_paths;         /* NULL: Docker's list */
        RuntimeProcessSpec process;
} RuntimeSpec;

typedef struct ChildPlan ChildPlan;

typedef struct RuntimeProcess {
        ChildPlan *spawn_plan;         /* spawn: until the child said it is alive */
        pid_t pid;
        int pidfd;
        int pty_master;                /* with tty, once released (exec: once it exists) */
        int channel;                   /* to the child in setup; -EBADF once it exec'd */
        int helper_pidfd;              /* exec: berth-exec, until it is reaped */
        bool released;
} RuntimeProcess;

#define RUNTIME_PROCESS_NULL \
        ((RuntimeProcess) { .pid = 0, .pidfd = -EBADF, .pty_master = -EBADF, .channel = -EBADF, \
                            .helper_pidfd = -EBADF })

typedef struct RuntimeError {
        SetupStage stage;
        int error;                     /* positive errno */
        int exit_code;                 /* RUNTIME_EXIT_* */
        char path[PATH_MAX];
        char message[PATH_MAX + 128];  /* "mount /proc: Permission denied" */
} RuntimeError;

/* Fills spec's process part with Docker's defaults: fds -EBADF, default seccomp. */
void runtime_process_spec_init(RuntimeProcessSpec *p);

/* Clones the container's first process from a thread and returns at once:
 * ret->channel is to be polled, and runtime_spawn_continue() called
 * whenever it is readable: 0 once the process is alive (ret->pid and
 * ret->pidfd are set then, and the release may begin), -EAGAIN while it is
 * not yet, else a negative errno. */
int runtime_spawn_begin(const RuntimeSpec *spec, RuntimeProcess *ret);
int runtime_spawn_continue(RuntimeProcess *p);
/* Both, blocking. */
int runtime_spawn(const RuntimeSpec *spec, RuntimeProcess *ret);

/* Where berth-exec is; NULL: the installed one. Read at the first exec. */
void runtime_set_exec_helper(const char *path);
/* Starts berth-exec, which joins the container whose leader is pidfd and
 * forks the process that becomes the command: ret->channel is to be polled,
 * ret->pid and ret->pidfd are set once runtime_exec_continue() returns 1
 * (-EAGAIN: not yet). ret->helper_pidfd is berth-exec, to be reaped. */
int runtime_exec_begin(int pidfd, const RuntimeProcessSpec *spec, RuntimeProcess *ret);
int runtime_exec_continue(RuntimeProcess *p, RuntimeError *ret_error);
/* Kills what is left of execs of a previous daemon (at start). */
int runtime_exec_kill_leftovers(void);
/* Both, blocking, and berth-exec reaped. */
int runtime_exec(int pidfd, const RuntimeProcessSpec *spec, RuntimeProcess *ret);

/* Lets the process go on; then runtime_release_continue() whenever the
 * channel is readable: 0 once the process has exec'd the command, -EAGAIN
 * while it is in setup, else a negative errno (details in ret_error if not
 * NULL). */
int runtime_release_begin(RuntimeProcess *p);
int runtime_release_continue(RuntimeProcess *p, RuntimeError *ret_error);
/* Both, blocking for at most timeout_usec (UINT64_MAX: no limit). */
int runtime_release(RuntimeProcess *p, uint64_t timeout_usec, RuntimeError *ret_error);
/* poll() for POLLIN; -ETIMEDOUT. */
int channel_wait(int fd, uint64_t timeout_usec);

/* Waits for exit: the exit status, or 128 + signal number. */
int runtime_wait(RuntimeProcess *p, int *ret_status);

/* Closes the fds; a process in setup is killed and reaped, blocking. */
void runtime_process_done(RuntimeProcess *p);
/* A process in setup (and berth-exec) is killed, without waiting: the caller
 * reaps p->pidfd and p->helper_pidfd, which stay open. One that had not yet
 * said it is alive is reaped by the thread that spawned it, or left in
 * p->pidfd for the caller. */
void runtime_process_kill(RuntimeProcess *p);
