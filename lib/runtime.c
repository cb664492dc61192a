/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The parent side of the runtime: everything is computed here, before clone,
 * and handed to the child as a ChildPlan (runtime-child.c). */
#include <fcntl.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <pthread.h>

#include "capabilities.h"
#include "runtime-internal.h"

#define DEFAULT_PATH "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"

static const char * const runtime_network_table[_RUNTIME_NETWORK_MAX] = {
        [RUNTIME_NETWORK_NONE] = "none",
        [RUNTIME_NETWORK_HOST] = "host",
        [RUNTIME_NETWORK_PRIVATE] = "private",
};
DEFINE_STRING_TABLE_LOOKUP(runtime_network, RuntimeNetwork);

int runtime_exit_code(SetupStage stage, int error) {
        if (stage != SETUP_STAGE_EXEC)
                return RUNTIME_EXIT_ENGINE_ERROR;
        return IN_SET(error, ENOENT, ENOTDIR) ? RUNTIME_EXIT_NOT_FOUND : RUNTIME_EXIT_NOT_EXECUTABLE;
}

pid_t raw_clone3(struct clone_args *args) {
        return (pid_t) syscall(SYS_clone3, args, sizeof *args);
}

int channel_send(int fd, const ChannelMsg *m, int passfd) {
        union {
                struct cmsghdr h;
                char buf[CMSG_SPACE(sizeof(int))];
        } control = {};
        struct iovec iov = { .iov_base = (void *) m, .iov_len = sizeof *m };
        struct msghdr mh = { .msg_iov = &iov, .msg_iovlen = 1 };

        if (passfd >= 0) {
                struct cmsghdr *c;

                mh.msg_control = &control;
                mh.msg_controllen = sizeof control.buf;
                c = CMSG_FIRSTHDR(&mh);
                c->cmsg_level = SOL_SOCKET;
                c->cmsg_type = SCM_RIGHTS;
                c->cmsg_len = CMSG_LEN(sizeof(int));
                memcpy(CMSG_DATA(c), &passfd, sizeof(int));
        }
        if (sendmsg(fd, &mh, MSG_NOSIGNAL) < 0)
                return negative_errno();
        return 0;
}

int channel_recv(int fd, ChannelMsg *m, int *ret_fd) {
        union {
                struct cmsghdr h;
                char buf[CMSG_SPACE(sizeof(int))];
        } control = {};
        struct iovec iov = { .iov_base = m, .iov_len = sizeof *m };
        struct msghdr mh = { .msg_iov = &iov, .msg_iovlen = 1,
                             .msg_control = &control, .msg_controllen = sizeof control.buf };
        struct cmsghdr *c;
        ssize_t n;

        do
                n = recvmsg(fd, &mh, MSG_CMSG_CLOEXEC);
        while (n < 0 && errno == EINTR);
        if (n < 0)
                return negative_errno();
        if (n == 0)
                return 0;
        c = CMSG_FIRSTHDR(&mh);
        if (c && c->cmsg_level == SOL_SOCKET && c->cmsg_type == SCM_RIGHTS && ret_fd)
                memcpy(ret_fd, CMSG_DATA(c), sizeof(int));
        else if (c && c->cmsg_type == SCM_RIGHTS) {
                int stray;

                memcpy(&stray, CMSG_DATA(c), sizeof(int));
                safe_close(stray);
        }
        if ((size_t) n != sizeof *m || (mh.msg_flags & (MSG_TRUNC | MSG_CTRUNC)))
                return -EBADMSG;
        return 1;
}

void runtime_process_spec_init(RuntimeProcessSpec *p) {
        *p = (RuntimeProcessSpec) {
                .stdin_fd = -EBADF,
                .stdout_fd = -EBADF,
                .stderr_fd = -EBADF,
                .seccomp = SECCOMP_MODE_DEFAULT,
        };
}

static void child_plan_done(ChildPlan *plan) {
        plan->overlay_options = mfree(plan->overlay_options);
        /* The child's HOME slot points into the plan (a child in the
         * daemon's memory fills it in place). */
        if (plan->envp)
                plan->envp[plan->n_env] = NULL;
        plan->envp = strv_free(plan->envp);
        if (plan->caps_setup)
                cap_free(plan->caps_setup);
        if (plan->caps_final)
                cap_free(plan->caps_final);
        plan->caps_setup = plan->caps_final = NULL;
        seccomp_bpf_done(&plan->bpf);
}

static void spec_copy_done(RuntimeSpec *s) {
        free((char *) s->name);
        free((char *) s->unit);
        free((char *) s->hostname);
        strv_free(s->lowerdirs);
        free((char *) s->upperdir);
        free((char *) s->workdir);
        free((char *) s->rootfs);
        free((char *) s->hostname_file);
        free((char *) s->hosts_file);
        free((char *) s->resolv_conf_file);
        for (size_t i = 0; s->mounts && i < s->n_mounts; i++)
                mount_spec_done((MountSpec *) &s->mounts[i]);
        free((MountSpec *) s->mounts);
        strv_free(s->masked_paths);
        strv_free(s->readonly_paths);
        strv_free(s->process.argv);
        free((char *) s->process.cwd);
        free((char *) s->process.user);
        *s = (RuntimeSpec) {};
}

static int strdup_opt(const char *s, const char **ret) {
        *ret = NULL;
        if (!s)
                return 0;
        *ret = strdup(s);
        return *ret ? 0 : -ENOMEM;
}

static int strv_copy_opt(char * const *l, char ***ret) {
        *ret = NULL;
        if (!l)
                return 0;
        *ret = strv_copy(l);
        return *ret ? 0 : -ENOMEM;
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
                r = strdup_opt(from[i].source, (const char **) &m[i].source);
                if (r >= 0)
                        r = strdup_opt(from[i].target, (const char **) &m[i].target);
                if (r >= 0)
                        r = strdup_opt(from[i].options, (const char **) &m[i].options);
        }
        return r;
}

/* What the child reads of the spec, copied: the caller's spec may be gone
 * long before the child is released. Fields only the parent reads (env,
 * capabilities, the seccomp profile) are left out. */
static int spec_copy(const RuntimeSpec *from, RuntimeSpec *to) {
        const RuntimeProcessSpec *p = &from->process;
        int r;

        *to = (RuntimeSpec) {
                .readonly_rootfs = from->readonly_rootfs, .volatile_upper = from->volatile_upper,
                .etc_files_readonly = from->etc_files_readonly,
                .n_mounts = from->n_mounts, .network = from->network,
                .process = { .tty = p->tty, .stdin_fd = p->stdin_fd, .stdout_fd = p->stdout_fd,
                             .stderr_fd = p->stderr_fd, .journal = p->journal, .privileged = p->privileged,
                             .no_new_privs = p->no_new_privs, .seccomp = p->seccomp },
        };
        r = strdup_opt(from->name, &to->name);
        if (r >= 0)
                r = strdup_opt(from->unit, &to->unit);
        if (r >= 0)
                r = strdup_opt(from->hostname, &to->hostname);
        if (r >= 0)
                r = strv_copy_opt(from->lowerdirs, &to->lowerdirs);
        if (r >= 0)
                r = strdup_opt(from->upperdir, &to->upperdir);
        if (r >= 0)
                r = strdup_opt(from->workdir, &to->workdir);
        if (r >= 0)
                r = strdup_opt(from->rootfs, &to->rootfs);
        if (r >= 0)
                r = strdup_opt(from->hostname_file, &to->hostname_file);
        if (r >= 0)
                r = strdup_opt(from->hosts_file, &to->hosts_file);
        if (r >= 0)
                r = strdup_opt(from->resolv_conf_file, &to->resolv_conf_file);
        if (r >= 0)
                r = mounts_copy(from->mounts, from->n_mounts, &to->mounts);
        if (r >= 0)
                r = strv_copy_opt(from->masked_paths, &to->masked_paths);
        if (r >= 0)
                r = strv_copy_opt(from->readonly_paths, &to->readonly_paths);
        if (r >= 0)
                r = strv_copy_opt(p->argv, &to->process.argv);
        if (r >= 0)
                r = strdup_opt(p->cwd, &to->process.cwd);
        if (r >= 0)
                r = strdup_opt(p->user, &to->process.user);
        if (r < 0)
                spec_copy_done(to);
        return r;
}

static ChildPlan *child_plan_unref(ChildPlan *plan) {
        if (!plan || __atomic_sub_fetch(&plan->n_ref, 1, __ATOMIC_ACQ_REL) > 0)
                return NULL;
        child_plan_done(plan);
        spec_copy_done(&plan->own_spec);
        safe_close(plan->channel);
        safe_close(plan->pidfd);
        return mfree(plan);
}
DEFINE_TRIVIAL_CLEANUP_FUNC(ChildPlan *, child_plan_unref);

static const char *env_get(char * const *env, const char *name) {
        size_t n = strlen(name);

        STRV_FOREACH(e, env)
                if (strneq(*e, name, n) && (*e)[n] == '=')
                        return *e + n + 1;
        return NULL;
}

static int plan_env(ChildPlan *plan, const RuntimeProcessSpec *p, const char *hostname) {
        _cleanup_strv_free_ char **env = NULL;
        _cleanup_free_ char *h = NULL;
        int r = 0;

        STRV_FOREACH(e, p->env) {
                if (!strchr(*e, '=') || **e == '=')
                        return -EINVAL;
                r = strv_extend(&env, *e);
                if (r < 0)
                        return r;
        }
        if (!env_get(env, "PATH"))
                r = strv_extend(&env, "PATH=" DEFAULT_PATH);
        if (r >= 0 && !isempty(hostname) && !env_get(env, "HOSTNAME")) {
                h = strjoin("HOSTNAME=", hostname);
                r = h ? strv_consume(&env, TAKE_PTR(h)) : -ENOMEM;
        }
        if (r >= 0 && p->tty && !env_get(env, "TERM"))
                r = strv_extend(&env, "TERM=xterm");
        if (r < 0)
                return r;
        plan->need_home = !env_get(env, "HOME");
        plan->n_env = strv_length(env);
        /* A spare slot the child fills with HOME once it knows the user. */
        r = strv_extend(&env, "HOME=/");
        if (r < 0)
                return r;
        env[plan->n_env] = mfree(env[plan->n_env]);
        plan->envp = TAKE_PTR(env);
        plan->path = env_get(plan->envp, "PATH");
        return 0;
}

static int plan_seccomp(ChildPlan *plan, const RuntimeProcessSpec *p) {
        _cleanup_(seccomp_profile_freep) SeccompProfile *profile = NULL;
        int r;

        if (p->privileged || p->seccomp == SECCOMP_MODE_UNCONFINED)
                return 0;
        if (p->seccomp == SECCOMP_MODE_DEFAULT)
                r = seccomp_default_bpf(plan->caps, &plan->bpf);
        else if (p->seccomp == SECCOMP_MODE_PROFILE && p->seccomp_profile) {
                r = seccomp_profile_load(p->seccomp_profile, &profile);
                if (r >= 0)
                        r = seccomp_profile_export(profile, plan->caps, &plan->bpf);
        } else
                r = -EINVAL;
        if (r < 0)
                return r;
        plan->seccomp = true;
        return 0;
}

static int plan_build(ChildPlan *plan, const RuntimeProcessSpec *p, const char *hostname) {
        uint64_t extra = 0, own;
        int r;

        if (strv_length(p->argv) == 0 || isempty(p->argv[0]))
                return -EINVAL;
        if (p->cwd && p->cwd[0] != '/')
                return -EINVAL;
        r = plan_env(plan, p, hostname);
        if (r < 0)
                return r;
        r = capability_compute(p->cap_add, p->cap_drop, p->privileged, &plan->caps);
        if (r < 0)
                return r;
        /* Never more than we hold ourselves: capset() would refuse. */
        r = capability_get_permitted(&own);
        if (r < 0)
                return r;
        plan->caps &= own;
        r = plan_seccomp(plan, p);
        if (r < 0)
                return r;
        if (plan->seccomp && !p->no_new_privs)
                extra = own & (UINT64_C(1) << CAP_SYS_ADMIN);
        r = capability_prepare(plan->caps, extra, &plan->caps_setup);
        if (r < 0)
                return r;
        return capability_prepare(plan->caps, 0, &plan->caps_final);
}

static int spec_validate(const RuntimeSpec *s) {
        if (isempty(s->name) || strv_length(s->lowerdirs) == 0 || isempty(s->upperdir) ||
            isempty(s->workdir) || isempty(s->rootfs))
                return -EINVAL;
        if (s->network < 0 || s->network >= _RUNTIME_NETWORK_MAX)
                return -EINVAL;
        if (s->hostname && strlen(s->hostname) > 64)
                return -EINVAL;
        for (size_t i = 0; i < s->n_mounts; i++)
                if (!s->mounts[i].target || s->mounts[i].target[0] != '/' ||
                    (s->mounts[i].type == MOUNT_TYPE_BIND && !s->mounts[i].source))
                        return -EINVAL;
        return 0;
}

static void close_pair(int (*pair)[2]) {
        safe_close((*pair)[0]);
        safe_close((*pair)[1]);
}

/* The child's stack: a guard page below, one kept for the next spawn so
 * that its pages are not faulted in again every time. */
#define CHILD_STACK_SIZE (256 * 1024)
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

static void *child_stack_get(void) {
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

static void child_stack_put(void *s) {
        void *expected = NULL;

        if (s && !__atomic_compare_exchange_n(&cached_child_stack, &expected, s, false,
                                              __ATOMIC_ACQ_REL, __ATOMIC_ACQUIRE))
                (void) munmap(s, CHILD_STACK_SIZE + guard_size());
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
 * or died: only then may its stack and the plan go. */
static void *spawn_thread(void *userdata) {
        ChildPlan *plan = userdata;
        void *stack = child_stack_get();
        pid_t pid = -1;

        if (stack)
                pid = clone(child_spawn_entry, (char *) stack + guard_size() + CHILD_STACK_SIZE,
                            (int) plan->clone_flags, plan, &plan->pidfd);
        if (pid < 0) {
                ChannelMsg m = { .type = CHANNEL_MSG_ERROR, .stage = SETUP_STAGE_NAMESPACE,
                                 .error = stack ? errno : ENOMEM };
                (void) channel_send(plan->channel, &m, -EBADF);
        }
        spawn_setup_end();
        child_stack_put(stack);
        child_plan_unref(plan);
        return NULL;
}

static int spawn_thread_start(ChildPlan *plan) {
        pthread_attr_t attr;
        sigset_t all, saved;
        pthread_t t;
        int r;

        r = pthread_attr_init(&attr);
        if (r == 0)
                r = pthread_attr_setdetachstate(&attr, PTHREAD_CREATE_DETACHED);
        if (r == 0)
                r = pthread_attr_setstacksize(&attr, 64 * 1024);
        if (r != 0)
                return -r;
        /* The thread, and so the child, starts with every signal blocked;
         * the child sets its own mask before the command runs. */
        sigfillset(&all);
        (void) pthread_sigmask(SIG_SETMASK, &all, &saved);
        __atomic_add_fetch(&plan->n_ref, 1, __ATOMIC_ACQ_REL);
        spawn_setup_begin();
        r = pthread_create(&t, &attr, spawn_thread, plan);
        if (r != 0) {
                spawn_setup_end();
                __atomic_sub_fetch(&plan->n_ref, 1, __ATOMIC_ACQ_REL);
        }
        (void) pthread_sigmask(SIG_SETMASK, &saved, NULL);
        (void) pthread_attr_destroy(&attr);
        return -r;
}

static int pidfd_get_pid(int pidfd, pid_t *ret) {
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
                              .target_pidfd = -EBADF };
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
        if (spec->network != RUNTIME_NETWORK_HOST)
                plan->clone_flags |= CLONE_NEWNET;
        *ret = TAKE_PTR(plan);
        return 0;
}

/* The child is cloned with CLONE_VM from a short-lived thread: it runs in
 * the daemon's memory until its execve, so that neither the clone nor the
 * daemon afterwards pays for copying and faulting in the daemon's pages
 * (the longest part of a start on a virtual machine). CLONE_VFORK keeps
 * the thread, whose stack the child borrows for its thread-local storage,
 * suspended meanwhile. */
int runtime_spawn(const RuntimeSpec *spec, RuntimeProcess *ret) {
        _cleanup_(child_plan_unrefp) ChildPlan *plan = NULL;
        _cleanup_(close_pair) int pair[2] = { -EBADF, -EBADF };
        ChannelMsg m = {};
        pid_t pid;
        int r;

        r = spec_validate(spec);
        if (r < 0)
                return r;
        r = plan_new_spawn(spec, &plan);
        if (r < 0)
                return r;
        if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, pair) < 0)
                return negative_errno();
        plan->channel = TAKE_FD(pair[1]);
        r = spawn_thread_start(plan);
        if (r < 0)
                return r;
        /* The thread's copy of the child's end closes when it is done, so
         * that EOF still means "exec'd or dead". */
        r = channel_recv(pair[0], &m, NULL);
        if (r == 0)
                return -EIO;
        if (r < 0)
                return r;
        if (m.type == CHANNEL_MSG_ERROR)
                return m.error > 0 ? -m.error : -EIO;
        if (m.type != CHANNEL_MSG_STARTED || plan->pidfd < 0)
                return -EBADMSG;
        r = pidfd_get_pid(plan->pidfd, &pid);
        *ret = (RuntimeProcess) { .pid = pid, .pidfd = TAKE_FD(plan->pidfd), .pty_master = -EBADF,
                                  .channel = TAKE_FD(pair[0]) };
        if (r < 0) {
                runtime_process_done(ret);
                return r;
        }
        return 0;
}

static int wait_helper(pid_t pid) {
        int status;

        while (waitpid(pid, &status, 0) < 0)
                if (errno != EINTR)
                        return negative_errno();
        return WIFEXITED(status) && WEXITSTATUS(status) == 0 ? 0 : -EPROTO;
}

int runtime_exec(int pidfd, const RuntimeProcessSpec *spec, RuntimeProcess *ret) {
        _cleanup_(child_plan_done) ChildPlan plan = {
                .process = spec, .target_pidfd = pidfd,
        };
        _cleanup_(close_pair) int pair[2] = { -EBADF, -EBADF };
        struct clone_args a = { .exit_signal = SIGCHLD };
        ChannelMsg m = {};
        int fd = -EBADF, r, k;
        pid_t helper;

        if (pidfd < 0 || spec->journal)
                return -EINVAL;
        r = plan_build(&plan, spec, NULL);
        if (r < 0)
                return r;
        if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, pair) < 0)
                return negative_errno();
        plan.channel = pair[1];
        helper = raw_clone3(&a);
        if (helper < 0)
                return negative_errno();
        if (helper == 0) {
                pair[0] = safe_close(pair[0]);
                child_exec_main(&plan);
        }
        pair[1] = safe_close(pair[1]);
        r = channel_recv(pair[0], &m, &fd);
        k = wait_helper(helper);
        if (r > 0 && m.type == CHANNEL_MSG_PID && fd >= 0 && k >= 0) {
                *ret = (RuntimeProcess) { .pid = m.pid, .pidfd = fd, .pty_master = -EBADF,
                                          .channel = TAKE_FD(pair[0]) };
                return 0;
        }
        safe_close(fd);
        if (r > 0 && m.type == CHANNEL_MSG_ERROR)
                return m.error > 0 ? -m.error : -EIO;
        return r < 0 ? r : k < 0 ? k : -EPROTO;
}

static void runtime_error_fill(RuntimeError *e, const ChannelMsg *m) {
        const char *what = setup_stage_to_string(m->stage) ?: "setup";
        const char *why = m->stage == SETUP_STAGE_USER && m->error == ESRCH ?
                "no matching entries in passwd or group file" : strerror(m->error);

        *e = (RuntimeError) {
                .stage = m->stage,
                .error = m->error,
                .exit_code = runtime_exit_code(m->stage, m->error),
        };
        memcpy(e->path, m->path, sizeof e->path);
        e->path[sizeof e->path - 1] = 0;
        snprintf(e->message, sizeof e->message, "%s%s%s: %s",
                 what, e->path[0] ? " " : "", e->path, why);
}

int runtime_release(RuntimeProcess *p, RuntimeError *ret_error) {
        _cleanup_close_ int channel = TAKE_FD(p->channel);
        ChannelMsg m;

        if (channel < 0)
                return -EALREADY;
        /* A child that failed before the release has closed its end, but its
         * reason is still queued: read it. */
        if (send(channel, "1", 1, MSG_NOSIGNAL) < 0 && errno != EPIPE)
                return negative_errno();
        for (;;) {
                int fd = -EBADF, r = channel_recv(channel, &m, &fd);

                if (r == 0)
                        return 0; /* the channel closed at execve */
                if (r < 0) {
                        safe_close(fd);
                        return r;
                }
                if (m.type == CHANNEL_MSG_PTY && fd >= 0 && p->pty_master < 0) {
                        p->pty_master = fd;
                        continue;
                }
                safe_close(fd);
                if (m.type != CHANNEL_MSG_ERROR || m.error <= 0)
                        return -EBADMSG;
                if (ret_error)
                        runtime_error_fill(ret_error, &m);
                return -m.error;
        }
}

int runtime_wait(RuntimeProcess *p, int *ret_status) {
        siginfo_t si = {};

        if (p->pidfd < 0)
                return -EBADF;
        while (waitid(P_PIDFD, (id_t) p->pidfd, &si, WEXITED) < 0)
                if (errno != EINTR)
                        return negative_errno();
        *ret_status = si.si_code == CLD_EXITED ? si.si_status : 128 + si.si_status;
        return 0;
}

void runtime_process_done(RuntimeProcess *p) {
        if (p->channel >= 0 && p->pidfd >= 0) {
                int status;

                /* Never released: it has not run a single instruction of the
                 * user's, so killing it loses nothing. */
                (void) syscall(SYS_pidfd_send_signal, p->pidfd, SIGKILL, NULL, 0);
                (void) runtime_wait(p, &status);
        }
        p->channel = safe_close(p->channel);
        p->pidfd = safe_close(p->pidfd);
        p->pty_master = safe_close(p->pty_master);
        p->pid = 0;
}
