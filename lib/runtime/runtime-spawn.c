/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* runtime_spawn(): the container's first process, cloned with CLONE_VM from
 * a short-lived thread. A fork of the daemon would cost the clone, a
 * copy-on-write fault for every page either side writes until the child's
 * execve, and the teardown of the copy at execve; sharing the daemon's
 * memory instead, as posix_spawn does, costs none of these, but the child
 * then reads its plan in place (so the plan owns a copy of the spec) and
 * must not touch what belongs to the memory or to the daemon's threads
 * (see runtime-child.c). */
#include <fcntl.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/wait.h>

#include "runtime-internal.h"

static int strv_copy_opt(char * const *l, char ***ret) {
        *ret = NULL;
        if (!l)
                return 0;
        *ret = strv_copy(l);
        return *ret ? 0 : -ENOMEM;
}

static int fd_copy_opt(int fd, int *ret) {
        if (fd < 0)
                return 0;
        *ret = fcntl(fd, F_DUPFD_CLOEXEC, 3);
        return *ret < 0 ? negative_errno() : 0;
}

static int mounts_copy(const MountSpec *from, size_t n, const MountSpec **ret) {
        MountSpec *m;
        int r = 0;

        *ret = NULL;
        if (n == 0)
                return 0;
        m = calloc(n, sizeof *m);
        if (!m)
                return -ENOMEM;
        *ret = m;
        for (size_t i = 0; i < n && r >= 0; i++) {
                m[i] = (MountSpec) { .type = from[i].type, .read_only = from[i].read_only,
                                     .tmpfs_size = from[i].tmpfs_size, .tmpfs_mode = from[i].tmpfs_mode };
                r = free_and_strdup(&m[i].source, from[i].source);
                if (r >= 0)
                        r = free_and_strdup(&m[i].target, from[i].target);
                if (r >= 0)
                        r = free_and_strdup(&m[i].options, from[i].options);
        }
        return r;
}

/* What the child reads of the spec, copied: the caller's spec may be gone
 * long before the child is released. Fields only the parent reads (env,
 * capabilities, the seccomp profile) are left out. */
static int spec_copy(const RuntimeSpec *from, RuntimeSpec *to) {
        const RuntimeProcessSpec *p = &from->process;
        const struct { const char *from; const char **to; } strings[] = {
                { from->name, &to->name }, { from->unit, &to->unit }, { from->hostname, &to->hostname },
                { from->upperdir, &to->upperdir }, { from->workdir, &to->workdir },
                { from->rootfs, &to->rootfs }, { from->hostname_file, &to->hostname_file },
                { from->hosts_file, &to->hosts_file }, { from->resolv_conf_file, &to->resolv_conf_file },
                { p->cwd, &to->process.cwd }, { p->user, &to->process.user },
        };
        const struct { char * const *from; char ***to; } lists[] = {
                { from->lowerdirs, &to->lowerdirs }, { from->masked_paths, &to->masked_paths },
                { from->readonly_paths, &to->readonly_paths }, { p->argv, &to->process.argv },
        };
        int r = 0;

        *to = (RuntimeSpec) {
                .readonly_rootfs = from->readonly_rootfs, .volatile_upper = from->volatile_upper,
                .etc_files_readonly = from->etc_files_readonly,
                .n_mounts = from->n_mounts, .network = from->network, .join_netns_fd = -EBADF,
                .process = { .tty = p->tty, .stdin_fd = -EBADF, .stdout_fd = -EBADF,
                             .stderr_fd = -EBADF, .journal = p->journal, .privileged = p->privileged,
                             .no_new_privs = p->no_new_privs, .seccomp = p->seccomp },
        };
        /* The stdio fds too: the child is cloned after runtime_spawn_begin()
         * returned, and the caller may have closed its own by then. */
        r = from->network == RUNTIME_NETWORK_JOIN ? fd_copy_opt(from->join_netns_fd, &to->join_netns_fd) : 0;
        if (r >= 0)
                r = fd_copy_opt(p->stdin_fd, &to->process.stdin_fd);
        if (r >= 0)
                r = fd_copy_opt(p->stdout_fd, &to->process.stdout_fd);
        if (r >= 0)
                r = fd_copy_opt(p->stderr_fd, &to->process.stderr_fd);
        for (size_t i = 0; r >= 0 && i < ELEMENTSOF(strings); i++)
                r = free_and_strdup((char **) strings[i].to, strings[i].from);
        for (size_t i = 0; r >= 0 && i < ELEMENTSOF(lists); i++)
                r = strv_copy_opt(lists[i].from, lists[i].to);
        if (r >= 0)
                r = mounts_copy(from->mounts, from->n_mounts, &to->mounts);
        if (r < 0)
                spec_copy_done(to);
        return r;
}

static int spec_validate(const RuntimeSpec *s) {
        if (isempty(s->name) || strv_length(s->lowerdirs) == 0 || isempty(s->upperdir) ||
            isempty(s->workdir) || isempty(s->rootfs))
                return -EINVAL;
        if (s->network < 0 || s->network >= _RUNTIME_NETWORK_MAX)
                return -EINVAL;
        if (s->network == RUNTIME_NETWORK_JOIN && s->join_netns_fd < 0)
                return -EINVAL;
        if (s->hostname && strlen(s->hostname) > 64)
                return -EINVAL;
        for (size_t i = 0; i < s->n_mounts; i++)
                if (!s->mounts[i].target || s->mounts[i].target[0] != '/' ||
                    (s->mounts[i].type == MOUNT_TYPE_BIND && !s->mounts[i].source))
                        return -EINVAL;
        return 0;
}

/* The child's stack: a guard page below, one kept for the next spawn so
 * that its pages are not faulted in again every time. */
static void *cached_child_stack;

#if defined(__SANITIZE_ADDRESS__)
#include <sanitizer/asan_interface.h>
#define stack_unpoison(p, n) ASAN_UNPOISON_MEMORY_REGION(p, n)
#else
#define stack_unpoison(p, n) ((void) 0)
#endif

static size_t guard_size(void) {
        return (size_t) sysconf(_SC_PAGESIZE);
}

void *child_stack_get(void) {
        void *s = __atomic_exchange_n(&cached_child_stack, NULL, __ATOMIC_ACQ_REL);

        /* The last child left by execve, not by returning: under
         * AddressSanitizer the redzones of its frames are still marked. */
        if (s) {
                stack_unpoison((char *) s + guard_size(), CHILD_STACK_SIZE);
                return s;
        }
        s = mmap(NULL, CHILD_STACK_SIZE + guard_size(), PROT_READ | PROT_WRITE,
                 MAP_PRIVATE | MAP_ANONYMOUS | MAP_STACK | MAP_NORESERVE, -1, 0);
        if (s == MAP_FAILED)
                return NULL;
        if (mprotect(s, guard_size(), PROT_NONE) < 0) {
                (void) munmap(s, CHILD_STACK_SIZE + guard_size());
                return NULL;
        }
        return s;
}

void child_stack_put(void *s) {
        void *expected = NULL;

        if (s && !__atomic_compare_exchange_n(&cached_child_stack, &expected, s, false,
                                              __ATOMIC_ACQ_REL, __ATOMIC_ACQUIRE))
                (void) munmap(s, CHILD_STACK_SIZE + guard_size());
}

void *child_stack_top(void *s) {
        return (char *) s + guard_size() + CHILD_STACK_SIZE;
}

/* The dumpable flag belongs to the memory, which a child shares with us
 * until its execve, and the kernel clears it as soon as the child changes
 * credentials. Cleared, it is what keeps an unprivileged host user from
 * ptracing a child that has switched to that user, and thereby the daemon's
 * memory: so it is given back only once no child is left in setup. */
static pthread_mutex_t dumpable_lock = PTHREAD_MUTEX_INITIALIZER;
static unsigned spawns_in_setup;
static int daemon_dumpable = -1;

static void spawn_setup_begin(void) {
        pthread_mutex_lock(&dumpable_lock);
        if (spawns_in_setup++ == 0)
                daemon_dumpable = prctl(PR_GET_DUMPABLE, 0, 0, 0, 0);
        pthread_mutex_unlock(&dumpable_lock);
}

static void spawn_setup_end(void) {
        pthread_mutex_lock(&dumpable_lock);
        if (--spawns_in_setup == 0 && daemon_dumpable >= 0)
                (void) prctl(PR_SET_DUMPABLE, daemon_dumpable, 0, 0, 0);
        pthread_mutex_unlock(&dumpable_lock);
}

static int child_spawn_entry(void *userdata) {
        child_spawn_main(userdata);
}

/* Clones the child and waits, suspended (CLONE_VFORK), until it has exec'd
 * or died: only then may its stack and the plan go. Its copy of the
 * child's end of the channel goes then too, so that EOF on the daemon's
 * end means "exec'd or dead". A child the daemon gave up on before it said
 * STARTED (it then exits, finding the channel closed) is reaped here. */
static void *spawn_thread(void *userdata) {
        ChildPlan *plan = userdata;
        void *stack = child_stack_get();
        int expected = SPAWN_STATE_RUNNING;
        pid_t pid = -1;

        /* Another container's network: this short-lived thread enters it,
         * and the child is cloned there. */
        bool joined = plan->spec->network != RUNTIME_NETWORK_JOIN ||
                setns(plan->spec->join_netns_fd, CLONE_NEWNET) >= 0;
        int error = joined ? ENOMEM : errno;

        if (stack && joined) {
                pid = clone(child_spawn_entry, child_stack_top(stack),
                            (int) plan->clone_flags, plan, &plan->pidfd);
                error = errno;
        }
        if (pid < 0) {
                ChannelMsg m = { .type = CHANNEL_MSG_ERROR, .error = error,
                                 .stage = joined ? SETUP_STAGE_NAMESPACE : SETUP_STAGE_NETWORK };
                (void) channel_send(plan->channel, &m, -EBADF);
        }
        plan->channel = safe_close(plan->channel);
        spawn_setup_end();
        child_stack_put(stack);
        if (!__atomic_compare_exchange_n(&plan->spawn_state, &expected, SPAWN_STATE_THREAD_DONE, false,
                                         __ATOMIC_ACQ_REL, __ATOMIC_ACQUIRE) && plan->pidfd >= 0) {
                siginfo_t si = {};

                (void) syscall(SYS_pidfd_send_signal, plan->pidfd, SIGKILL, NULL, 0);
                while (waitid(P_PIDFD, (id_t) plan->pidfd, &si, WEXITED) < 0 && errno == EINTR)
                        ;
        }
        child_plan_unref(plan);
        return NULL;
}

/* Detached, small, and with every signal blocked: so starts the child too,
 * which sets its own mask before the command runs. */
static int thread_start_detached(void *(*fn)(void *), void *arg) {
        pthread_attr_t attr;
        sigset_t all, saved;
        pthread_t t;
        int r;

        r = pthread_attr_init(&attr);
        if (r != 0)
                return -r;
        r = pthread_attr_setdetachstate(&attr, PTHREAD_CREATE_DETACHED);
        if (r == 0)
                r = pthread_attr_setstacksize(&attr, 64 * 1024);
        if (r == 0) {
                sigfillset(&all);
                (void) pthread_sigmask(SIG_SETMASK, &all, &saved);
                r = pthread_create(&t, &attr, fn, arg);
                (void) pthread_sigmask(SIG_SETMASK, &saved, NULL);
        }
        (void) pthread_attr_destroy(&attr);
        return -r;
}

static int spawn_thread_start(ChildPlan *plan) {
        int r;

        __atomic_add_fetch(&plan->n_ref, 1, __ATOMIC_ACQ_REL);
        spawn_setup_begin();
        r = thread_start_detached(spawn_thread, plan);
        if (r < 0) {
                spawn_setup_end();
                __atomic_sub_fetch(&plan->n_ref, 1, __ATOMIC_ACQ_REL);
        }
        return r;
}

int pidfd_get_pid(int pidfd, pid_t *ret) {
        char path[64], buf[4096];
        _cleanup_close_ int fd = -EBADF;
        const char *p;
        ssize_t n;

        snprintf(path, sizeof path, "/proc/self/fdinfo/%i", pidfd);
        fd = open(path, O_RDONLY | O_CLOEXEC);
        if (fd < 0)
                return negative_errno();
        n = read(fd, buf, sizeof buf - 1);
        if (n < 0)
                return negative_errno();
        buf[n] = 0;
        p = strstr(buf, "\nPid:\t");
        if (!p || sscanf(p + 6, "%i", ret) != 1 || *ret <= 0)
                return -ESRCH;
        return 0;
}

static int plan_new_spawn(const RuntimeSpec *spec, ChildPlan **ret) {
        _cleanup_(child_plan_unrefp) ChildPlan *plan = calloc(1, sizeof *plan);
        int r;

        if (!plan)
                return -ENOMEM;
        *plan = (ChildPlan) { .n_ref = 1, .shared_vm = true, .pidfd = -EBADF, .channel = -EBADF,
                              .parent_channel = -EBADF, .target_pidfd = -EBADF,
                              .own_spec.process = { .stdin_fd = -EBADF, .stdout_fd = -EBADF,
                                                    .stderr_fd = -EBADF } };
        r = spec_copy(spec, &plan->own_spec);
        if (r < 0)
                return r;
        plan->spec = &plan->own_spec;
        plan->process = &plan->own_spec.process;
        r = plan_build(plan, &spec->process, spec->hostname);
        if (r < 0)
                return r;
        r = mount_overlay_options(spec->lowerdirs, spec->upperdir, spec->workdir, spec->volatile_upper,
                                  &plan->overlay_options);
        if (r < 0 && r != -E2BIG)
                return r;
        if (spec->volatile_upper) {
                r = mount_overlay_clear_volatile(spec->workdir);
                if (r < 0)
                        return r;
        }
        plan->clone_flags = CLONE_VM | CLONE_VFORK | CLONE_PIDFD | CLONE_NEWPID | CLONE_NEWNS |
                            CLONE_NEWUTS | CLONE_NEWIPC | SIGCHLD;
        if (!IN_SET(spec->network, RUNTIME_NETWORK_HOST, RUNTIME_NETWORK_JOIN))
                plan->clone_flags |= CLONE_NEWNET;
        *ret = TAKE_PTR(plan);
        return 0;
}

/* CLONE_VFORK keeps the thread, whose thread-local storage the child
 * borrows, suspended until the child's execve. */
int runtime_spawn_begin(const RuntimeSpec *spec, RuntimeProcess *ret) {
        _cleanup_(child_plan_unrefp) ChildPlan *plan = NULL;
        _cleanup_(close_pair) int pair[2] = { -EBADF, -EBADF };
        int flags, r;

        *ret = RUNTIME_PROCESS_NULL;
        r = spec_validate(spec);
        if (r < 0)
                return r;
        r = plan_new_spawn(spec, &plan);
        if (r < 0)
                return r;
        if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, pair) < 0)
                return negative_errno();
        /* Ours only: the child reads its end blocking. */
        flags = fcntl(pair[0], F_GETFL);
        if (flags < 0 || fcntl(pair[0], F_SETFL, flags | O_NONBLOCK) < 0)
                return negative_errno();
        plan->channel = TAKE_FD(pair[1]);
        plan->parent_channel = pair[0];
        r = spawn_thread_start(plan);
        if (r < 0)
                return r;
        ret->channel = TAKE_FD(pair[0]);
        ret->spawn_plan = TAKE_PTR(plan);
        return 0;
}

int runtime_spawn_continue(RuntimeProcess *p) {
        ChannelMsg m = {};
        pid_t pid;
        int r;

        if (!p->spawn_plan)
                return -EALREADY;
        r = channel_recv(p->channel, &m, NULL);
        if (r == -EAGAIN)
                return r;
        if (r == 0)
                r = -EIO;
        else if (r > 0 && m.type == CHANNEL_MSG_ERROR)
                r = m.error > 0 ? -m.error : -EIO;
        else if (r > 0 && (m.type != CHANNEL_MSG_STARTED || p->spawn_plan->pidfd < 0))
                r = -EBADMSG;
        /* The channel stays: with it open, runtime_process_kill() and
         * _done() know that a child left in p->pidfd is to be killed. */
        if (r < 0) {
                runtime_spawn_abandon(p);
                return r;
        }
        /* The kernel set the pidfd at clone, before the child could say
         * anything: it is ours from now on. */
        p->pidfd = TAKE_FD(p->spawn_plan->pidfd);
        runtime_spawn_plan_drop(p);
        r = pidfd_get_pid(p->pidfd, &pid);
        if (r < 0)
                return r;
        p->pid = pid;
        /* Blocking again, as runtime_release_begin() and the tests expect
         * to find it. */
        r = fcntl(p->channel, F_GETFL);
        if (r < 0 || fcntl(p->channel, F_SETFL, r & ~O_NONBLOCK) < 0)
                return negative_errno();
        return 0;
}

int runtime_spawn(const RuntimeSpec *spec, RuntimeProcess *ret) {
        int r;

        r = runtime_spawn_begin(spec, ret);
        while (r >= 0) {
                r = runtime_spawn_continue(ret);
                if (r != -EAGAIN)
                        break;
                r = channel_wait(ret->channel, UINT64_MAX);
        }
        if (r < 0)
                runtime_process_done(ret);
        return r;
}
