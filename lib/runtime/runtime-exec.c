/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* runtime_exec_begin(): another process in a running container. A copy of
 * the daemon must never enter the container: it would carry the daemon's fd
 * table, memory and capabilities into a place where a process of the
 * container with CAP_SYS_PTRACE could take them. So, as runc and crun do,
 * the daemon starts a small program of its own, berth-exec, with nothing but
 * the fds it needs and its plan in a sealed memfd, and that program joins
 * the container (runtime-child.c, child_exec_main). berth-exec runs from a
 * sealed memfd copy too: a container process that reopens /proc/PID/exe of
 * it finds that copy, which nobody can write, never the file on the host
 * (CVE-2019-5736). */
#include <fcntl.h>
#include <pthread.h>
#include <sched.h>
#include <signal.h>
#include <sys/mman.h>
#include <sys/pidfd.h>
#include <sys/sendfile.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <dirent.h>

#include "berth-config.h"
#include "runtime-internal.h"

#ifndef MFD_EXEC
#define MFD_EXEC 0x0010U
#endif

static pthread_mutex_t helper_lock = PTHREAD_MUTEX_INITIALIZER;
static char *helper_path;
static int helper_memfd = -EBADF;

void runtime_set_exec_helper(const char *path) {
        pthread_mutex_lock(&helper_lock);
        (void) free_and_strdup(&helper_path, path);
        helper_memfd = safe_close(helper_memfd);
        pthread_mutex_unlock(&helper_lock);
}

static int memfd_new_exec(const char *name) {
        /* MFD_EXEC says so where vm.memfd_noexec asks for it (Linux 6.3). */
        int fd = memfd_create(name, MFD_CLOEXEC | MFD_ALLOW_SEALING | MFD_EXEC);

        if (fd < 0 && errno == EINVAL)
                fd = memfd_create(name, MFD_CLOEXEC | MFD_ALLOW_SEALING);
        return fd < 0 ? negative_errno() : fd;
}

static int helper_copy(const char *path, int *ret) {
        _cleanup_close_ int src = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY), fd = -EBADF;
        struct stat st;

        if (src < 0)
                return negative_errno();
        if (fstat(src, &st) < 0)
                return negative_errno();
        if (!S_ISREG(st.st_mode))
                return -ENOEXEC;
        fd = memfd_new_exec("berth-exec");
        if (fd < 0)
                return fd;
        for (off_t done = 0; done < st.st_size;) {
                ssize_t n = sendfile(fd, src, NULL, (size_t) (st.st_size - done));
                if (n <= 0)
                        return n < 0 ? negative_errno() : -EIO;
                done += n;
        }
        if (fcntl(fd, F_ADD_SEALS, F_SEAL_SEAL | F_SEAL_SHRINK | F_SEAL_GROW | F_SEAL_WRITE) < 0)
                return negative_errno();
        *ret = TAKE_FD(fd);
        return 0;
}

/* The sealed copy, made at the first exec and kept: returns a borrowed fd. */
static int helper_get(int *ret) {
        int r = 0;

        pthread_mutex_lock(&helper_lock);
        if (helper_memfd < 0)
                r = helper_copy(helper_path ?: BERTH_EXEC_HELPER, &helper_memfd);
        *ret = helper_memfd;
        pthread_mutex_unlock(&helper_lock);
        return r;
}

typedef struct HelperStart {
        int fds[EXEC_HELPER_N_FDS];    /* what becomes fd i, each >= EXEC_HELPER_N_FDS */
        int memfd;
} HelperStart;

/* In the daemon's memory until execveat: no allocation, system calls only. */
static int helper_entry(void *userdata) {
        const HelperStart *h = userdata;
        static char *const argv[] = { (char *) "berth-exec", NULL };
        static char *const envp[] = { NULL };

        for (int i = 0; i < EXEC_HELPER_N_FDS; i++)
                if (dup2(h->fds[i], i) < 0)
                        _exit(RUNTIME_EXIT_ENGINE_ERROR);
        /* Marked rather than closed: the memfd must live until the exec. */
        if (syscall(SYS_close_range, EXEC_HELPER_N_FDS, ~0U, CLOSE_RANGE_CLOEXEC) < 0)
                _exit(RUNTIME_EXIT_ENGINE_ERROR);
        (void) syscall(SYS_execveat, h->memfd, "", argv, envp, AT_EMPTY_PATH);
        _exit(RUNTIME_EXIT_ENGINE_ERROR);
}

/* As posix_spawn does: CLONE_VM | CLONE_VFORK, so the calling thread is
 * suspended only until the execveat, every signal blocked meanwhile (the
 * helper sets its own mask). The environment is empty: the image's Env
 * (LD_PRELOAD=...) must not reach a program that runs as root on the host. */
static int helper_spawn(HelperStart *h, int *ret_pidfd) {
        void *stack = child_stack_get();
        sigset_t all, saved;
        pid_t pid;
        int saved_errno;

        if (!stack)
                return -ENOMEM;
        sigfillset(&all);
        (void) pthread_sigmask(SIG_SETMASK, &all, &saved);
        pid = clone(helper_entry, child_stack_top(stack), CLONE_VM | CLONE_VFORK | CLONE_PIDFD | SIGCHLD, h,
                    ret_pidfd);
        saved_errno = errno;
        (void) pthread_sigmask(SIG_SETMASK, &saved, NULL);
        child_stack_put(stack);
        return pid < 0 ? -saved_errno : 0;
}

static void helper_start_done(HelperStart *h) {
        for (int i = 0; i < EXEC_HELPER_N_FDS; i++)
                h->fds[i] = safe_close(h->fds[i]);
}

static int helper_start_prepare(HelperStart *h, const RuntimeProcessSpec *spec, int channel, int leader,
                                int plan) {
        _cleanup_close_ int devnull = -EBADF;
        int src[EXEC_HELPER_N_FDS] = { spec->stdin_fd, spec->stdout_fd, spec->stderr_fd, channel, leader, plan };

        for (int i = 0; i < EXEC_HELPER_N_FDS; i++)
                h->fds[i] = -EBADF;
        for (int i = 0; i < EXEC_HELPER_N_FDS; i++) {
                if (src[i] < 0) {
                        if (devnull < 0)
                                devnull = open("/dev/null", O_RDWR | O_CLOEXEC | O_NOCTTY);
                        if (devnull < 0)
                                return negative_errno();
                        src[i] = devnull;
                }
                h->fds[i] = fcntl(src[i], F_DUPFD_CLOEXEC, EXEC_HELPER_N_FDS);
                if (h->fds[i] < 0)
                        return negative_errno();
        }
        return 0;
}

int runtime_exec_begin(int pidfd, const RuntimeProcessSpec *spec, RuntimeProcess *ret) {
        _cleanup_(child_plan_done) ChildPlan plan = { .process = spec, .target_pidfd = -EBADF };
        _cleanup_(close_pair) int pair[2] = { -EBADF, -EBADF };
        _cleanup_close_ int planfd = -EBADF;
        _cleanup_(helper_start_done) HelperStart h = {};
        int helper_pidfd = -EBADF, flags, r;

        if (pidfd < 0 || spec->journal)
                return -EINVAL;
        r = plan_build(&plan, spec, NULL);
        if (r < 0)
                return r;
        r = exec_plan_write(&plan, &planfd);
        if (r < 0)
                return r;
        r = helper_get(&h.memfd);
        if (r < 0)
                return r;
        if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, pair) < 0)
                return negative_errno();
        r = helper_start_prepare(&h, spec, pair[1], pidfd, planfd);
        if (r < 0)
                return r;
        r = helper_spawn(&h, &helper_pidfd);
        if (r < 0)
                return r;
        flags = fcntl(pair[0], F_GETFL);
        if (flags < 0 || fcntl(pair[0], F_SETFL, flags | O_NONBLOCK) < 0) {
                r = negative_errno();
                (void) syscall(SYS_pidfd_send_signal, helper_pidfd, SIGKILL, NULL, 0);
                (void) waitid(P_PIDFD, (id_t) helper_pidfd, &(siginfo_t) {}, WEXITED);
                safe_close(helper_pidfd);
                return r;
        }
        *ret = RUNTIME_PROCESS_NULL;
        ret->channel = TAKE_FD(pair[0]);
        ret->helper_pidfd = helper_pidfd;
        return 0;
}

/* The process a PID message names must be the one the pidfd refers to, and
 * our child (CLONE_PARENT): the message may come from a process of the
 * container that took the new process over, and a bare pid would let it name
 * any process of the host to be moved into its scope. */
static bool pidfd_is_our_child(int pidfd, pid_t pid) {
        char path[64], buf[1024];
        _cleanup_close_ int fd = -EBADF;
        const char *p;
        pid_t actual, ppid;
        ssize_t n;

        if (pid <= 0 || pidfd_get_pid(pidfd, &actual) < 0 || actual != pid)
                return false;
        snprintf(path, sizeof path, "/proc/%i/status", pid);
        fd = open(path, O_RDONLY | O_CLOEXEC);
        if (fd < 0)
                return false;
        n = read(fd, buf, sizeof buf - 1);
        if (n <= 0)
                return false;
        buf[n] = 0;
        p = strstr(buf, "\nPPid:\t");
        return p && sscanf(p + 7, "%i", &ppid) == 1 && ppid == getpid();
}

int runtime_exec_continue(RuntimeProcess *p, RuntimeError *ret_error) {
        for (;;) {
                ChannelMsg m;
                int fd = -EBADF, r = channel_recv(p->channel, &m, &fd);

                if (r <= 0) {
                        safe_close(fd);
                        return r == 0 ? -EPROTO : r; /* EOF: berth-exec died */
                }
                if (m.type == CHANNEL_MSG_PTY && fd >= 0 && p->pty_master < 0) {
                        p->pty_master = fd;
                        continue;
                }
                if (m.type == CHANNEL_MSG_PID && fd >= 0 && pidfd_is_our_child(fd, m.pid)) {
                        p->pid = m.pid;
                        p->pidfd = fd;
                        return 1;
                }
                safe_close(fd);
                if (m.type == CHANNEL_MSG_ERROR && m.error > 0 && m.error < 4096) {
                        if (ret_error)
                                runtime_error_fill(ret_error, &m);
                        return -m.error;
                }
                return -EBADMSG;
        }
}

int runtime_exec(int pidfd, const RuntimeProcessSpec *spec, RuntimeProcess *ret) {
        int r;

        *ret = RUNTIME_PROCESS_NULL;
        r = runtime_exec_begin(pidfd, spec, ret);
        while (r >= 0) {
                r = runtime_exec_continue(ret, NULL);
                if (r != -EAGAIN)
                        break;
                r = channel_wait(ret->channel, UINT64_MAX);
        }
        if (r < 0) {
                runtime_process_done(ret);
                return r;
        }
        (void) waitid(P_PIDFD, (id_t) ret->helper_pidfd, &(siginfo_t) {}, WEXITED);
        ret->helper_pidfd = safe_close(ret->helper_pidfd);
        return 0;
}

/* Processes still running berth-exec's image when the daemon starts are
 * leftovers of its last life: no exec is under way yet. An exec'd process
 * dies with the daemon until it is released, but a process of the container
 * may have stopped it before it could ask for that; it would wait for ever.
 * Only processes that run the sealed copy are matched, which nobody but the
 * daemon starts. Returns how many were killed. */
int runtime_exec_kill_leftovers(void) {
        _cleanup_closedir_ DIR *d = opendir("/proc");
        int n = 0;

        if (!d)
                return negative_errno();
        for (struct dirent *de; (de = readdir(d));) {
                char path[64], exe[64];
                _cleanup_close_ int pidfd = -EBADF;
                pid_t pid;
                ssize_t k;

                if (safe_atoi(de->d_name, &pid) < 0 || pid <= 0 || pid == getpid())
                        continue;
                /* The pidfd first: the readlink then speaks of this process. */
                pidfd = pidfd_open(pid, 0);
                if (pidfd < 0)
                        continue;
                snprintf(path, sizeof path, "/proc/%i/exe", pid);
                k = readlink(path, exe, sizeof exe - 1);
                if (k < 0)
                        continue;
                exe[k] = 0;
                if (!startswith(exe, "/memfd:berth-exec "))
                        continue;
                if (syscall(SYS_pidfd_send_signal, pidfd, SIGKILL, NULL, 0) >= 0)
                        n++;
        }
        return n;
}
