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
 * Both runtime_spawn() and runtime_exec() return a process that is stopped
 * before doing anything: the caller moves it into its cgroup (a transient
 * systemd scope) and only then calls runtime_release(), so that no
 * instruction of the user's command ever runs outside the container's
 * limits. runtime_release() waits until the process has exec'd the command
 * or failed; a failure is described by a RuntimeError ("mount /proc:
 * Permission denied") with Docker's exit code class. */

typedef enum RuntimeNetwork {
        RUNTIME_NETWORK_NONE,     /* a new network namespace with only lo, up */
        RUNTIME_NETWORK_HOST,     /* the host's network namespace */
        RUNTIME_NETWORK_PRIVATE,  /* a new namespace the caller configures (bridge) */
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
        char **masked_paths;           /* NULL: Docker's list */
        char **readonly_paths;         /* NULL: Docker's list */
        RuntimeProcessSpec process;
} RuntimeSpec;

typedef struct RuntimeProcess {
        pid_t pid;
        int pidfd;
        int pty_master;                /* with tty, once released */
        int channel;                   /* to the waiting child; -EBADF once released */
} RuntimeProcess;

#define RUNTIME_PROCESS_NULL \
        ((RuntimeProcess) { .pid = 0, .pidfd = -EBADF, .pty_master = -EBADF, .channel = -EBADF })

typedef struct RuntimeError {
        SetupStage stage;
        int error;                     /* positive errno */
        int exit_code;                 /* RUNTIME_EXIT_* */
        char path[PATH_MAX];
        char message[PATH_MAX + 128];  /* "mount /proc: Permission denied" */
} RuntimeError;

/* Fills spec's process part with Docker's defaults: fds -EBADF, default seccomp. */
void runtime_process_spec_init(RuntimeProcessSpec *p);

int runtime_spawn(const RuntimeSpec *spec, RuntimeProcess *ret);
/* Runs a process in the namespaces of the container whose leader is pidfd. */
int runtime_exec(int pidfd, const RuntimeProcessSpec *spec, RuntimeProcess *ret);

/* Lets the process go on, and waits until it has exec'd (0) or failed
 * (negative errno, details in ret_error if not NULL). Blocks for the
 * duration of the container's setup. */
int runtime_release(RuntimeProcess *p, RuntimeError *ret_error);

/* Waits for exit: the exit status, or 128 + signal number. */
int runtime_wait(RuntimeProcess *p, int *ret_status);

/* Closes the fds; a process never released is killed and reaped. */
void runtime_process_done(RuntimeProcess *p);
