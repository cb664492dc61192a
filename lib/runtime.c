/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The parent side of the runtime: everything is computed here, before clone,
 * and handed to the child as a ChildPlan (runtime-child.c). */
#include <fcntl.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/wait.h>

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

void child_plan_done(ChildPlan *plan) {
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

int plan_build(ChildPlan *plan, const RuntimeProcessSpec *p, const char *hostname) {
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

void close_pair(int (*pair)[2]) {
        safe_close((*pair)[0]);
        safe_close((*pair)[1]);
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
        /* A child gone before the release (killed) has closed its end, but
         * what it sent is still queued: read it. */
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
