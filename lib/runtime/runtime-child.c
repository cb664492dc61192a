/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The child side of the runtime: from clone to execve. Nothing here may
 * allocate (see ChildPlan); failures go back to the parent over the channel
 * as a stage, a path and an errno. */
#include <fcntl.h>
#include <grp.h>
#include <linux/keyctl.h>
#include <linux/openat2.h>
#include <linux/sched.h>
#include <net/if.h>
#include <sched.h>
#include <signal.h>
#include <sys/ioctl.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <syslog.h>
#include <termios.h>

#include "capabilities.h"
#include "openat2-util.h"
#include "passwd.h"
#include "runtime-internal.h"

static void child_report(ChildPlan *plan, const SetupFailure *f, int r) {
        ChannelMsg m = { .type = CHANNEL_MSG_ERROR, .stage = f->stage, .error = -r };

        memcpy(m.path, f->path, sizeof m.path);
        (void) channel_send(plan->channel, &m, -EBADF);
}

_noreturn_ static void child_fail(ChildPlan *plan, const SetupFailure *f, int r) {
        child_report(plan, f, r);
        _exit(runtime_exit_code(f->stage, -r));
}

/* The parent's release: 1 when it came, 0 when the parent hung up, -1 on error. */
static ssize_t read_release(ChildPlan *plan) {
        ssize_t n;
        char c;

        do
                n = read(plan->channel, &c, 1);
        while (n < 0 && errno == EINTR);
        return n;
}

/* A failure before the release is reported at once, but the child exits
 * only once released, that is inside its scope: gone before systemd moved
 * it there, it would leave the scope running and empty, as systemd learns
 * of emptiness only from a cgroup that was populated. */
_noreturn_ static void child_fail_before_release(ChildPlan *plan, const SetupFailure *f, int r) {
        child_report(plan, f, r);
        (void) read_release(plan);
        _exit(runtime_exit_code(f->stage, -r));
}

static void child_reset_signals(void) {
        struct sigaction sa = { .sa_handler = SIG_DFL };
        sigset_t none;

        /* The daemon's blocked signals and handlers are no business of the
         * container; signals glibc reserves just fail here, harmlessly. */
        for (int s = 1; s < _NSIG; s++)
                if (s != SIGKILL && s != SIGSTOP)
                        (void) sigaction(s, &sa, NULL);
        sigemptyset(&none);
        (void) sigprocmask(SIG_SETMASK, &none, NULL);
}

static int child_prepare(ChildPlan *plan, SetupFailure *f) {
        /* Not dumpable until exec: a process of the container must not be able
         * to open /proc/<pid>/exe of this copy of the daemon (CVE-2019-5736)
         * nor ptrace it. execve() resets it for the user's command. A child
         * in the daemon's memory leaves the flag alone: it is the memory's,
         * no process of its container exists before its execve, and the
         * kernel clears it anyway once the child changes credentials (see
         * spawn_setup_begin() for how the daemon gets it back). */
        if (!plan->shared_vm && prctl(PR_SET_DUMPABLE, 0, 0, 0, 0) < 0)
                return setup_fail(f, SETUP_STAGE_SYNC, NULL, negative_errno());
        child_reset_signals();
        /* Modes are given explicitly to every mknod and mkdir of the setup. */
        umask(0);
        return 0;
}

/* Blocks until the parent has put us into our cgroup and says go. */
static int child_wait_release(ChildPlan *plan, SetupFailure *f) {
        ssize_t n = read_release(plan);

        if (n == 0)
                _exit(RUNTIME_EXIT_ENGINE_ERROR); /* the caller gave up on us */
        if (n < 0)
                return setup_fail(f, SETUP_STAGE_SYNC, NULL, negative_errno());
        return 0;
}

static int dup_high(int fd) {
        int r = fcntl(fd, F_DUPFD_CLOEXEC, 3);
        return r < 0 ? negative_errno() : r;
}

/* A journald stdout stream, as sd_journal_stream_fd() opens one, but
 * without allocating (we are between clone and exec) and declaring the
 * scope: journald names the unit from the writer's cgroup, and falls back to
 * the declared one when that cgroup is gone already (a short-lived command
 * whose lines it reads after the exit). */
static int journal_stream_open(const char *socket_path, const char *identifier, const char *unit, int priority) {
        union {
                struct sockaddr sa;
                struct sockaddr_un un;
        } sa = { .un = { .sun_family = AF_UNIX } };
        char header[512];
        int fd, n, sndbuf = 8 * 1024 * 1024;

        if (strlen(socket_path) >= sizeof sa.un.sun_path)
                return -ENAMETOOLONG;
        strcpy(sa.un.sun_path, socket_path);
        n = snprintf(header, sizeof header, "%s\n%s\n%i\n0\n0\n0\n0\n", identifier, unit ?: "", priority);
        if (n < 0 || (size_t) n >= sizeof header)
                return -ENAMETOOLONG;
        fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
        if (fd < 0)
                return negative_errno();
        if (connect(fd, &sa.sa, sizeof sa.un) < 0 || shutdown(fd, SHUT_RD) < 0 ||
            write(fd, header, (size_t) n) != n) {
                int r = negative_errno();
                safe_close(fd);
                return r;
        }
        (void) setsockopt(fd, SOL_SOCKET, SO_SNDBUF, &sndbuf, sizeof sndbuf);
        return fd;
}

/* Returns a new fd (>= 3, CLOEXEC) for stdio slot i, or a negative errno.
 * journal_socket: journald's stream socket, opened (O_PATH) before
 * pivot_root took the host's /run out of reach. */
static int stdio_source(ChildPlan *plan, int i, int tty_slave, int journal_socket) {
        const RuntimeProcessSpec *p = plan->process;
        int fd = i == 0 ? p->stdin_fd : i == 1 ? p->stdout_fd : p->stderr_fd, r;

        if (tty_slave >= 0)
                return dup_high(tty_slave);
        if (i > 0 && p->journal && plan->spec) {
                char path[64];

                if (journal_socket < 0)
                        return -EBADF;
                /* Connected from inside the scope, so that journald attributes
                 * the stream to the container's unit. */
                snprintf(path, sizeof path, "/proc/self/fd/%i", journal_socket);
                r = journal_stream_open(path, plan->spec->name, plan->spec->unit, i == 1 ? LOG_INFO : LOG_ERR);
                if (r < 0)
                        return r;
                fd = dup_high(r);
                safe_close(r);
                return fd;
        }
        if (fd >= 0)
                return dup_high(fd);
        r = open("/dev/null", O_RDWR | O_CLOEXEC | O_NOCTTY);
        if (r < 0)
                return negative_errno();
        fd = dup_high(r);
        safe_close(r);
        return fd;
}

static int child_setup_stdio(ChildPlan *plan, int tty_slave, int journal_socket, SetupFailure *f) {
        int fds[3] = { -EBADF, -EBADF, -EBADF }, r = 0;

        /* All three are first copied above 2, so that a source that is itself
         * 0, 1 or 2 is not overwritten before it is used. */
        for (int i = 0; i < 3 && r >= 0; i++) {
                fds[i] = stdio_source(plan, i, tty_slave, journal_socket);
                if (fds[i] < 0)
                        r = fds[i];
        }
        for (int i = 0; i < 3 && r >= 0; i++)
                if (dup2(fds[i], i) < 0)
                        r = negative_errno();
        for (int i = 0; i < 3; i++)
                safe_close(fds[i]);
        if (r < 0)
                return setup_fail(f, plan->process->journal ? SETUP_STAGE_JOURNAL : SETUP_STAGE_STDIO,
                                  NULL, r);
        return 0;
}

/* Allocates the pty in the container's own devpts instance, hands the master
 * to the parent and makes the slave our stdio. */
static int child_setup_tty(ChildPlan *plan, int rootfd, bool console, SetupFailure *f) {
        _cleanup_close_ int master = -EBADF, slave = -EBADF;
        ChannelMsg m = { .type = CHANNEL_MSG_PTY };
        int unlock = 0, n, r;

        master = openat(rootfd, "dev/pts/ptmx", O_RDWR | O_NOCTTY | O_CLOEXEC);
        if (master < 0)
                return setup_fail(f, SETUP_STAGE_TTY, "/dev/pts/ptmx", negative_errno());
        if (ioctl(master, TIOCSPTLCK, &unlock) < 0 || ioctl(master, TIOCGPTN, &n) < 0)
                return setup_fail(f, SETUP_STAGE_TTY, "/dev/pts/ptmx", negative_errno());
        slave = ioctl(master, TIOCGPTPEER, O_RDWR | O_NOCTTY | O_CLOEXEC);
        if (slave < 0)
                return setup_fail(f, SETUP_STAGE_TTY, "/dev/pts", negative_errno());
        if (console) {
                r = mount_bind_console(rootfd, n, f);
                if (r < 0)
                        return r;
        }
        r = channel_send(plan->channel, &m, master);
        if (r < 0)
                return setup_fail(f, SETUP_STAGE_TTY, NULL, r);
        return child_setup_stdio(plan, slave, -EBADF, f);
}

static int loopback_up(void) {
        _cleanup_close_ int fd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
        struct ifreq ifr = { .ifr_name = "lo" };

        if (fd < 0 || ioctl(fd, SIOCGIFFLAGS, &ifr) < 0)
                return negative_errno();
        ifr.ifr_flags |= IFF_UP | IFF_RUNNING;
        if (ioctl(fd, SIOCSIFFLAGS, &ifr) < 0)
                return negative_errno();
        return 0;
}

/* Network and hostname: namespaces of our own since the clone. */
static int child_network_hostname(ChildPlan *plan, SetupFailure *f) {
        const RuntimeSpec *s = plan->spec;
        int r;

        if (!IN_SET(s->network, RUNTIME_NETWORK_HOST, RUNTIME_NETWORK_JOIN)) {
                r = loopback_up();
                if (r < 0)
                        return setup_fail(f, SETUP_STAGE_NETWORK, "lo", r);
        }
        if (!isempty(s->hostname) && sethostname(s->hostname, strlen(s->hostname)) < 0)
                return setup_fail(f, SETUP_STAGE_HOSTNAME, s->hostname, negative_errno());
        return 0;
}

static int child_etc_files(const RuntimeSpec *s, int rootfd, SetupFailure *f) {
        const struct { const char *source, *target; } files[] = {
                { s->hostname_file, "/etc/hostname" },
                { s->hosts_file, "/etc/hosts" },
                { s->resolv_conf_file, "/etc/resolv.conf" },
        };

        for (size_t i = 0; i < ELEMENTSOF(files); i++) {
                MountSpec m = {
                        .type = MOUNT_TYPE_BIND,
                        .source = (char *) files[i].source,
                        .target = (char *) files[i].target,
                        .read_only = s->etc_files_readonly,
                };
                int r;

                if (!files[i].source)
                        continue;
                r = mount_apply(rootfd, &m, f);
                if (r < 0)
                        return r;
        }
        for (size_t i = 0; i < s->n_mounts; i++) {
                int r = mount_apply(rootfd, &s->mounts[i], f);
                if (r < 0)
                        return r;
        }
        return 0;
}

static int child_mount_root(ChildPlan *plan, int *ret_rootfd, SetupFailure *f) {
        const RuntimeSpec *s = plan->spec;
        _cleanup_close_ int rootfd = -EBADF;
        int r;

        r = mount_make_private(f);
        if (r >= 0)
                r = mount_overlay(s->lowerdirs, s->upperdir, s->workdir, s->volatile_upper, plan->overlay_options,
                                  s->rootfs, f);
        if (r < 0)
                return r;
        rootfd = open(s->rootfs, O_PATH | O_DIRECTORY | O_CLOEXEC);
        if (rootfd < 0)
                return setup_fail(f, SETUP_STAGE_MOUNT, s->rootfs, negative_errno());
        r = mount_setup_proc(rootfd, f);
        if (r >= 0)
                r = mount_setup_dev(rootfd, f);
        if (r >= 0)
                r = mount_setup_sys(rootfd, s->network != RUNTIME_NETWORK_HOST, !plan->process->privileged, f);
        if (r >= 0)
                r = child_etc_files(s, rootfd, f);
        if (r < 0)
                return r;
        *ret_rootfd = TAKE_FD(rootfd);
        return 0;
}

/* pivot_root, then Docker's masked and read-only paths, which Docker lifts
 * for --privileged, and so do we. */
static int child_enter_root(ChildPlan *plan, int rootfd, SetupFailure *f) {
        const RuntimeSpec *s = plan->spec;
        int r;

        r = mount_pivot_root(rootfd, f);
        if (r < 0 || plan->process->privileged)
                return r;
        r = mount_mask_paths(s->masked_paths ?: mount_default_masked_paths, f);
        if (r >= 0)
                r = mount_readonly_paths(s->readonly_paths ?: mount_default_readonly_paths, f);
        return r;
}

/* After the release: /sys/fs/cgroup shows the container's own cgroup only
 * once it is in its scope and in a cgroup namespace of its own. */
static int child_finish_root(ChildPlan *plan, int rootfd, SetupFailure *f) {
        int r;

        r = mount_setup_cgroup(rootfd, !plan->process->privileged, f);
        if (r >= 0 && plan->process->tty)
                r = child_setup_tty(plan, rootfd, true, f);
        if (r < 0)
                return r;
        return plan->spec->readonly_rootfs ? mount_readonly_root(f) : 0;
}

/* Looked up in the container's files after pivot_root, so neither the
 * host's NSS nor its /etc is ever consulted. */
static int child_resolve_user(ChildPlan *plan, UserCreds *ret, SetupFailure *f) {
        const RuntimeProcessSpec *p = plan->process;
        _cleanup_close_ int rootfd = open("/", O_PATH | O_DIRECTORY | O_CLOEXEC);
        int r;

        if (rootfd < 0)
                return setup_fail(f, SETUP_STAGE_USER, "/", negative_errno());
        ret->error_file = NULL;
        r = passwd_resolve(rootfd, p->user, ret);
        if (r < 0)
                return setup_fail(f, SETUP_STAGE_USER, ret->error_file ?: p->user ?: "root", r);
        if (plan->need_home) {
                snprintf(plan->home_env, sizeof plan->home_env, "HOME=%s", ret->home);
                plan->envp[plan->n_env] = plan->home_env;
        }
        return 0;
}

static int child_switch_user(ChildPlan *plan, const UserCreds *c, SetupFailure *f) {
        const char *user = plan->process->user ?: "root";

        /* Keep the permitted set across setuid: the final capability sets are
         * applied afterwards, and a non-root user then loses them at execve
         * (no ambient capabilities, as in Docker). */
        if (prctl(PR_SET_KEEPCAPS, 1, 0, 0, 0) < 0)
                return setup_fail(f, SETUP_STAGE_SETUID, NULL, negative_errno());
        /* Raw system calls: glibc's wrappers change the credentials of every
         * thread they know of, and a child in the daemon's memory would see
         * the daemon's threads. */
        if (syscall(SYS_setgroups, c->n_groups, c->groups) < 0 ||
            syscall(SYS_setresgid, c->gid, c->gid, c->gid) < 0 ||
            syscall(SYS_setresuid, c->uid, c->uid, c->uid) < 0)
                return setup_fail(f, SETUP_STAGE_SETUID, user, negative_errno());
        if (prctl(PR_SET_KEEPCAPS, 0, 0, 0, 0) < 0)
                return setup_fail(f, SETUP_STAGE_SETUID, NULL, negative_errno());
        return 0;
}

/* A session keyring of its own, as runc gives each container and each exec:
 * inherited, the daemon's would be shared by every container, and keys one
 * container adds would be found by all the others. Made while still root,
 * so it counts against root's key quota, not against that of a uid the host
 * shares with the container; the process possesses it whatever uid it
 * switches to. A kernel without keys has nothing to share. */
static int child_join_keyring(SetupFailure *f) {
        if (syscall(SYS_keyctl, KEYCTL_JOIN_SESSION_KEYRING, NULL) < 0 && errno != ENOSYS)
                return setup_fail(f, SETUP_STAGE_KEYRING, NULL, negative_errno());
        return 0;
}

static int child_security(ChildPlan *plan, const UserCreds *creds, SetupFailure *f) {
        const RuntimeProcessSpec *p = plan->process;
        int r;

        r = child_join_keyring(f);
        if (r < 0)
                return r;
        r = capability_apply_bounding(plan->caps);
        if (r < 0)
                return setup_fail(f, SETUP_STAGE_CAPS, "bounding set", r);
        r = child_switch_user(plan, creds, f);
        if (r < 0)
                return r;
        r = capability_apply(plan->caps_setup);
        if (r < 0)
                return setup_fail(f, SETUP_STAGE_CAPS, NULL, r);
        if (p->no_new_privs && prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) < 0)
                return setup_fail(f, SETUP_STAGE_NNP, NULL, negative_errno());
        /* Installed as late as possible, so that the filter need not allow what
         * the setup itself does. Without no_new_privs the kernel wants
         * CAP_SYS_ADMIN for this, which caps_setup kept until now. */
        if (plan->seccomp) {
                r = seccomp_bpf_install(&plan->bpf);
                if (r < 0)
                        return setup_fail(f, SETUP_STAGE_SECCOMP, NULL, r);
        }
        r = capability_apply(plan->caps_final);
        if (r < 0)
                return setup_fail(f, SETUP_STAGE_CAPS, NULL, r);
        return 0;
}

static int open_exec_target(const char *path, uint64_t resolve) {
        struct open_how how = { .flags = O_PATH | O_CLOEXEC, .resolve = resolve };
        return openat2_retry(AT_FDCWD, path, &how);
}

/* A command reached through a magic link of the container's /proc would be
 * whatever that link names: until the execve, /proc/self/exe is berthd's own
 * binary (or berth-exec's copy) and /proc/self/fd/N, /proc/1/root... lead
 * wherever this process's fds and root lead (CVE-2019-5736). Such a path is
 * refused (-EXDEV); anything else is left to execve(), errno and all. */
static void child_execve(const char *path, char * const *argv, char * const *envp) {
        int fd = open_exec_target(path, RESOLVE_NO_MAGICLINKS);

        if (fd == -ELOOP) {
                fd = open_exec_target(path, 0);
                if (fd >= 0) {
                        safe_close(fd);
                        errno = EXDEV;
                        return;
                }
        }
        safe_close(fd);
        execve(path, argv, envp);
}

static int child_exec(ChildPlan *plan, SetupFailure *f) {
        char * const *argv = plan->process->argv;
        char buf[PATH_MAX], dirs[PATH_MAX], *state = NULL;
        int saved = -ENOENT;

        /* Everything but stdio closes at execve; the channel (CLOEXEC) thus
         * tells the daemon that execve succeeded. */
        if (syscall(SYS_close_range, 3U, ~0U, CLOSE_RANGE_CLOEXEC) < 0)
                return setup_fail(f, SETUP_STAGE_EXEC, NULL, negative_errno());

        if (strchr(argv[0], '/')) {
                child_execve(argv[0], argv, plan->envp);
                return setup_fail(f, SETUP_STAGE_EXEC, argv[0], negative_errno());
        }
        /* Our own PATH walk: execvpe() would search the daemon's PATH, not the
         * container's. Like execvp(), EACCES is remembered but does not stop the
         * search, and missing directories are skipped. */
        snprintf(dirs, sizeof dirs, "%s", plan->path);
        for (char *d = strtok_r(dirs, ":", &state); d; d = strtok_r(NULL, ":", &state)) {
                if ((size_t) snprintf(buf, sizeof buf, "%s/%s", d, argv[0]) >= sizeof buf)
                        continue;
                child_execve(buf, argv, plan->envp);
                if (errno == EACCES)
                        saved = -EACCES;
                else if (!IN_SET(errno, ENOENT, ENOTDIR, ESTALE, ENODEV, ETIMEDOUT)) {
                        saved = negative_errno();
                        break;
                }
        }
        return setup_fail(f, SETUP_STAGE_EXEC, argv[0], saved);
}

/* The kernel's getcwd() names a directory outside our root
 * "(unreachable)/...": the last line of defence should the resolution above
 * ever have been fooled. A raw system call, as glibc's would allocate on
 * ENAMETOOLONG. */
static int check_cwd_in_root(void) {
        char buf[PATH_MAX];
        long n = syscall(SYS_getcwd, buf, sizeof buf);

        if (n < 0)
                return negative_errno();
        return n > 0 && buf[0] == '/' ? 0 : -EXDEV;
}

/* Through the fd resolved inside the root, never by path again: a path
 * would be resolved anew, through whatever /proc/self/fd/N or symlink the
 * image or the running container planted there since (CVE-2024-21626).
 * After the user switch, so with the user's own rights, as Docker does. */
static int child_enter_cwd(int cwdfd, const char *cwd, SetupFailure *f) {
        int r;

        if (fchdir(cwdfd) < 0)
                return setup_fail(f, SETUP_STAGE_CWD, cwd, negative_errno());
        r = check_cwd_in_root();
        if (r < 0)
                return setup_fail(f, SETUP_STAGE_CWD, cwd, r);
        umask(0022);
        return 0;
}

/* The working directory, resolved (and made, as Docker does) inside the
 * root; a failure names it as the working directory. */
static int child_open_cwd(int rootfd, const char *cwd, int *ret_fd, SetupFailure *f) {
        int r = mount_open_target(rootfd, cwd, true, ret_fd, f);

        return r < 0 ? setup_fail(f, SETUP_STAGE_CWD, cwd, r) : 0;
}

static int child_finalize(ChildPlan *plan, int tty_slave_set, const UserCreds *creds, SetupFailure *f) {
        const char *cwd = plan->process->cwd ?: "/";
        _cleanup_close_ int rootfd = open("/", O_PATH | O_DIRECTORY | O_CLOEXEC), cwdfd = -EBADF;
        int r;

        if (rootfd < 0)
                return setup_fail(f, SETUP_STAGE_CWD, "/", negative_errno());
        r = child_open_cwd(rootfd, cwd, &cwdfd, f);
        if (r < 0)
                return r;
        if (setsid() < 0)
                return setup_fail(f, SETUP_STAGE_TTY, NULL, negative_errno());
        if (tty_slave_set && ioctl(0, TIOCSCTTY, 0) < 0)
                return setup_fail(f, SETUP_STAGE_TTY, NULL, negative_errno());
        r = child_security(plan, creds, f);
        if (r >= 0)
                r = child_enter_cwd(cwdfd, cwd, f);
        if (r < 0)
                return r;
        return child_exec(plan, f);
}

/* While the daemon waits for systemd to make the scope: everything that
 * needs neither the scope nor the final credentials, up to the user lookup
 * in the container's own files. journald's socket is opened (O_PATH) before
 * pivot_root takes the host's /run out of reach; the streams connect through
 * it after the release, from inside the scope, as journald files a stream
 * under the writer's unit. */
static int child_before_release(ChildPlan *plan, int *rootfd, int *journal_socket, UserCreds *creds,
                                SetupFailure *f) {
        int r;

        r = child_prepare(plan, f);
        if (r >= 0)
                r = child_mount_root(plan, rootfd, f);
        if (r < 0)
                return r;
        if (plan->process->journal && !plan->process->tty) {
                *journal_socket = open("/run/systemd/journal/stdout", O_PATH | O_CLOEXEC);
                if (*journal_socket < 0)
                        return setup_fail(f, SETUP_STAGE_JOURNAL, "/run/systemd/journal/stdout",
                                          negative_errno());
        }
        r = child_network_hostname(plan, f);
        if (r >= 0)
                r = child_enter_root(plan, *rootfd, f);
        if (r >= 0)
                r = child_resolve_user(plan, creds, f);
        return r;
}

/* The child starts with a copy of the daemon's whole fd table: its bus
 * connection, the store, every other container's pidfd and stdio, and its
 * own 0, 1 and 2. Before anything else, and so before any path of the
 * container is resolved, all but the channel and the three stdio sources
 * go: a /proc/self/fd/N of the container's own /proc would otherwise lead
 * back into the host (CVE-2024-21626), and a copy of the bus connection
 * would keep a restarted daemon from taking its name back. Free slots 0-2
 * are refilled with /dev/null so that no fd opened later lands on them and
 * is overwritten by the stdio setup. */
static int child_close_fds(ChildPlan *plan) {
        const RuntimeProcessSpec *p = plan->process;
        int keep[4] = { plan->channel, p->stdin_fd, p->stdout_fd, p->stderr_fd };
        unsigned from = 0;
        int fd;

        /* Sorted in place: four entries, no allocation. */
        for (size_t i = 1; i < ELEMENTSOF(keep); i++)
                for (size_t j = i; j > 0 && keep[j - 1] > keep[j]; j--) {
                        int t = keep[j];
                        keep[j] = keep[j - 1];
                        keep[j - 1] = t;
                }
        for (size_t i = 0; i < ELEMENTSOF(keep); i++) {
                if (keep[i] < 0 || (unsigned) keep[i] < from)
                        continue;
                if ((unsigned) keep[i] > from &&
                    syscall(SYS_close_range, from, (unsigned) keep[i] - 1, 0) < 0)
                        return negative_errno();
                from = (unsigned) keep[i] + 1;
        }
        if (syscall(SYS_close_range, from, ~0U, 0) < 0)
                return negative_errno();
        for (;;) {
                fd = open("/dev/null", O_RDWR | O_CLOEXEC | O_NOCTTY);
                if (fd < 0)
                        return negative_errno();
                if (fd > 2) {
                        safe_close(fd);
                        return 0;
                }
        }
}

void child_spawn_main(ChildPlan *plan) {
        _cleanup_close_ int rootfd = -EBADF, journal_socket = -EBADF;
        ChannelMsg started = { .type = CHANNEL_MSG_STARTED };
        SetupFailure f = {};
        UserCreds creds;
        int r;

        /* The daemon's end goes with the rest: our copy of it would keep us
         * from ever seeing it hang up. */
        if (child_close_fds(plan) < 0)
                _exit(RUNTIME_EXIT_ENGINE_ERROR);
        r = channel_send(plan->channel, &started, -EBADF);
        if (r < 0)
                _exit(RUNTIME_EXIT_ENGINE_ERROR);
        r = child_before_release(plan, &rootfd, &journal_socket, &creds, &f);
        if (r < 0)
                child_fail_before_release(plan, &f, r);
        r = child_wait_release(plan, &f);
        /* The cgroup namespace is created only now, after the caller moved us
         * into the container's cgroup: created at clone time it would be
         * rooted at the daemon's cgroup and show the container its siblings. */
        if (r >= 0 && unshare(CLONE_NEWCGROUP) < 0)
                r = setup_fail(&f, SETUP_STAGE_NAMESPACE, "cgroup", negative_errno());
        if (r >= 0 && !plan->process->tty)
                r = child_setup_stdio(plan, -EBADF, journal_socket, &f);
        journal_socket = safe_close(journal_socket);
        if (r >= 0)
                r = child_finish_root(plan, rootfd, &f);
        if (r >= 0)
                r = child_finalize(plan, plan->process->tty, &creds, &f);
        child_fail(plan, &f, r);
}

/* berth-exec, from here on: its own program, started by the daemon with
 * nothing but stdio, the channel, the leader's pidfd and the plan (see
 * runtime-exec.c). All of the setup happens here, in a process no process of
 * the container can see, since it is outside the container's pid namespace;
 * what it forks into that namespace already has the container's
 * credentials, capabilities, seccomp filter and working directory, and holds
 * only stdio and the channel: taken over by a container process with
 * CAP_SYS_PTRACE, it would give that process nothing it does not have. */
static int exec_setup(ChildPlan *plan, SetupFailure *f) {
        const char *cwd = plan->process->cwd ?: "/";
        _cleanup_close_ int rootfd = -EBADF, cwdfd = -EBADF;
        UserCreds creds;
        int r;

        /* setns() to the mount namespace made its root our root and cwd. */
        rootfd = open("/", O_PATH | O_DIRECTORY | O_CLOEXEC);
        if (rootfd < 0)
                return setup_fail(f, SETUP_STAGE_NAMESPACE, "/", negative_errno());
        r = plan->process->tty ? child_setup_tty(plan, rootfd, false, f)
                               : child_setup_stdio(plan, -EBADF, -EBADF, f);
        if (r >= 0)
                r = child_resolve_user(plan, &creds, f);
        if (r >= 0)
                r = child_open_cwd(rootfd, cwd, &cwdfd, f);
        if (r < 0)
                return r;
        r = child_security(plan, &creds, f);
        if (r < 0)
                return r;
        return child_enter_cwd(cwdfd, cwd, f);
}

/* The process that becomes the command: a session of its own, then it waits
 * until the daemon has moved it into the container's scope. Until then it
 * dies with the daemon: a process of the container may keep it stopped, and
 * it would never read the hang-up; the daemon's next life knows nothing of
 * it. The command itself outlives the daemon, as containers do. */
_noreturn_ static void exec_command(ChildPlan *plan) {
        SetupFailure f = {};
        int r = 0;

        if (prctl(PR_SET_PDEATHSIG, SIGKILL, 0, 0, 0) < 0)
                r = setup_fail(&f, SETUP_STAGE_SYNC, NULL, negative_errno());
        if (r >= 0 && setsid() < 0)
                r = setup_fail(&f, SETUP_STAGE_TTY, NULL, negative_errno());
        if (r >= 0 && plan->process->tty && ioctl(STDIN_FILENO, TIOCSCTTY, 0) < 0)
                r = setup_fail(&f, SETUP_STAGE_TTY, NULL, negative_errno());
        if (r >= 0)
                r = child_wait_release(plan, &f);
        if (r >= 0 && prctl(PR_SET_PDEATHSIG, 0, 0, 0, 0) < 0)
                r = setup_fail(&f, SETUP_STAGE_SYNC, NULL, negative_errno());
        if (r >= 0)
                r = child_exec(plan, &f);
        child_fail(plan, &f, r);
}

/* clone3 first; a seccomp filter of Docker's kind answers it ENOSYS, and then
 * clone(2), which the filter checks for namespace flags only. CLONE_PARENT
 * makes the command the daemon's child, so that the daemon collects its
 * exit status; the pid namespace applies to it since setns(). */
static pid_t exec_fork(int *ret_pidfd) {
        struct clone_args a = { .flags = CLONE_PIDFD | CLONE_PARENT, .pidfd = (uint64_t) (uintptr_t) ret_pidfd };
        pid_t pid = raw_clone3(&a);

        if (pid < 0 && errno == ENOSYS)
                pid = (pid_t) syscall(SYS_clone, CLONE_PIDFD | CLONE_PARENT, NULL, ret_pidfd, NULL, NULL);
        return pid;
}

void child_exec_main(ChildPlan *plan) {
        ChannelMsg m = { .type = CHANNEL_MSG_PID };
        SetupFailure f = {};
        int pidfd = -EBADF, r;
        pid_t pid;

        r = child_prepare(plan, &f);
        if (r >= 0 && setns(plan->target_pidfd, CLONE_NEWNS | CLONE_NEWUTS | CLONE_NEWIPC | CLONE_NEWNET |
                                                CLONE_NEWPID | CLONE_NEWCGROUP) < 0)
                r = setup_fail(&f, SETUP_STAGE_NAMESPACE, NULL, negative_errno());
        plan->target_pidfd = safe_close(plan->target_pidfd);
        if (r >= 0)
                r = exec_setup(plan, &f);
        /* What the command takes along: stdio and the channel, nothing more. */
        if (r >= 0 && syscall(SYS_close_range, EXEC_HELPER_FD_CHANNEL + 1, ~0U, 0) < 0)
                r = setup_fail(&f, SETUP_STAGE_EXEC, NULL, negative_errno());
        if (r < 0)
                child_fail(plan, &f, r);
        pid = exec_fork(&pidfd);
        if (pid < 0)
                child_fail(plan, &f, setup_fail(&f, SETUP_STAGE_NAMESPACE, NULL, negative_errno()));
        if (pid == 0)
                exec_command(plan);
        m.pid = pid;
        r = channel_send(plan->channel, &m, pidfd);
        _exit(r < 0 ? RUNTIME_EXIT_ENGINE_ERROR : 0);
}
