/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The parent side of the runtime: everything is computed here, before clone,
 * and handed to the child as a ChildPlan (runtime-child.c). */
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/wait.h>

#include "capabilities.h"
#include "passwd.h"
#include "runtime-internal.h"

#define DEFAULT_PATH "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"

static const char * const runtime_network_table[_RUNTIME_NETWORK_MAX] = {
        [RUNTIME_NETWORK_NONE] = "none",
        [RUNTIME_NETWORK_HOST] = "host",
        [RUNTIME_NETWORK_PRIVATE] = "private",
        [RUNTIME_NETWORK_JOIN] = "join",
};
DEFINE_STRING_TABLE_LOOKUP(runtime_network, RuntimeNetwork);

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
        plan->caps_extra = extra;
        r = capability_prepare(plan->caps, extra, &plan->caps_setup);
        if (r < 0)
                return r;
        return capability_prepare(plan->caps, 0, &plan->caps_final);
}


/* Sentences for the failures a hostile image or container provokes. */
static const char *runtime_error_reason(SetupStage stage, int error) {
        if (stage == SETUP_STAGE_USER && error == ESRCH)
                return "no matching entries in passwd or group file";
        if (stage == SETUP_STAGE_USER && error == EBADFD)
                return "not a regular file";
        if (stage == SETUP_STAGE_USER && error == EFBIG)
                return "larger than " STRINGIFY(PASSWD_FILE_MAX_MIB) " MiB";
        if (stage == SETUP_STAGE_CWD && error == EXDEV)
                return "the working directory is outside the container";
        if (stage == SETUP_STAGE_EXEC && error == EXDEV)
                return "refusing to run a command through a /proc magic link";
        return strerror(error);
}

void runtime_error_fill(RuntimeError *e, const ChannelMsg *m) {
        const char *what = setup_stage_to_string(m->stage) ?: "setup";
        const char *why = runtime_error_reason(m->stage, m->error);

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

int runtime_release_begin(RuntimeProcess *p) {
        int flags;

        if (p->channel < 0 || p->released)
                return -EALREADY;
        flags = fcntl(p->channel, F_GETFL);
        if (flags < 0 || fcntl(p->channel, F_SETFL, flags | O_NONBLOCK) < 0)
                return negative_errno();
        /* A child gone before the release (killed) has closed its end, but
         * what it sent is still queued: runtime_release_continue() reads it. */
        if (send(p->channel, "1", 1, MSG_NOSIGNAL) < 0 && errno != EPIPE)
                return negative_errno();
        p->released = true;
        return 0;
}

/* Takes what the child says: a pty master once, or its failure. */
static int release_message(RuntimeProcess *p, const ChannelMsg *m, int fd, RuntimeError *ret_error) {
        if (m->type == CHANNEL_MSG_PTY && fd >= 0 && p->pty_master < 0) {
                p->pty_master = fd;
                return -EAGAIN;
        }
        safe_close(fd);
        if (m->type != CHANNEL_MSG_ERROR || m->error <= 0 || m->error >= 4096)
                return -EBADMSG;
        if (ret_error)
                runtime_error_fill(ret_error, m);
        return -m->error;
}

int runtime_release_continue(RuntimeProcess *p, RuntimeError *ret_error) {
        for (;;) {
                ChannelMsg m;
                int fd = -EBADF, r = channel_recv(p->channel, &m, &fd);

                if (r == -EAGAIN)
                        return r;
                if (r > 0)
                        r = release_message(p, &m, fd, ret_error);
                else
                        safe_close(fd);
                if (r == -EAGAIN)
                        continue;
                /* EOF: the channel closed at execve. */
                p->channel = safe_close(p->channel);
                return r;
        }
}

int channel_wait(int fd, uint64_t timeout_usec) {
        struct pollfd pfd = { .fd = fd, .events = POLLIN };
        int timeout = timeout_usec == UINT64_MAX ? -1 : (int) (timeout_usec / 1000);
        int n;

        do
                n = poll(&pfd, 1, timeout);
        while (n < 0 && errno == EINTR);
        if (n < 0)
                return negative_errno();
        return n == 0 ? -ETIMEDOUT : 0;
}

int runtime_release(RuntimeProcess *p, uint64_t timeout_usec, RuntimeError *ret_error) {
        int r = runtime_release_begin(p);

        while (r >= 0) {
                r = runtime_release_continue(p, ret_error);
                if (r != -EAGAIN)
                        break;
                r = channel_wait(p->channel, timeout_usec);
        }
        return r;
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

static void kill_and_reap(int pidfd) {
        siginfo_t si = {};

        (void) syscall(SYS_pidfd_send_signal, pidfd, SIGKILL, NULL, 0);
        while (waitid(P_PIDFD, (id_t) pidfd, &si, WEXITED) < 0 && errno == EINTR)
                ;
}

void spec_copy_done(RuntimeSpec *s) {
        if (s->network == RUNTIME_NETWORK_JOIN)
                s->join_netns_fd = safe_close(s->join_netns_fd);
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
        safe_close(s->process.stdin_fd);
        safe_close(s->process.stdout_fd);
        safe_close(s->process.stderr_fd);
        *s = (RuntimeSpec) { .process = { .stdin_fd = -EBADF, .stdout_fd = -EBADF, .stderr_fd = -EBADF } };
}

ChildPlan *child_plan_unref(ChildPlan *plan) {
        if (!plan || __atomic_sub_fetch(&plan->n_ref, 1, __ATOMIC_ACQ_REL) > 0)
                return NULL;
        child_plan_done(plan);
        spec_copy_done(&plan->own_spec);
        safe_close(plan->channel);
        safe_close(plan->pidfd);
        return mfree(plan);
}

void runtime_spawn_plan_drop(RuntimeProcess *p) {
        child_plan_unref(TAKE_PTR(p->spawn_plan));
}

/* The daemon lets go of the plan before the child said STARTED: the
 * spawning thread reaps the child, or, if that is done already, the child
 * is left in p->pidfd for the caller. */
void runtime_spawn_abandon(RuntimeProcess *p) {
        ChildPlan *plan = TAKE_PTR(p->spawn_plan);
        int expected = SPAWN_STATE_RUNNING;

        if (!plan)
                return;
        if (!__atomic_compare_exchange_n(&plan->spawn_state, &expected, SPAWN_STATE_ABANDONED, false,
                                         __ATOMIC_ACQ_REL, __ATOMIC_ACQUIRE) && p->pidfd < 0)
                p->pidfd = TAKE_FD(plan->pidfd);
        child_plan_unref(plan);
}

void runtime_process_kill(RuntimeProcess *p) {
        runtime_spawn_abandon(p);
        /* In setup still: it has not run a single instruction of the
         * user's, so killing it loses nothing. */
        if (p->channel >= 0 && p->pidfd >= 0)
                (void) syscall(SYS_pidfd_send_signal, p->pidfd, SIGKILL, NULL, 0);
        if (p->helper_pidfd >= 0)
                (void) syscall(SYS_pidfd_send_signal, p->helper_pidfd, SIGKILL, NULL, 0);
        p->channel = safe_close(p->channel);
        p->pty_master = safe_close(p->pty_master);
}

void runtime_process_done(RuntimeProcess *p) {
        runtime_spawn_abandon(p);
        if (p->channel >= 0 && p->pidfd >= 0)
                kill_and_reap(p->pidfd);
        if (p->helper_pidfd >= 0)
                kill_and_reap(p->helper_pidfd);
        p->channel = safe_close(p->channel);
        p->pidfd = safe_close(p->pidfd);
        p->helper_pidfd = safe_close(p->helper_pidfd);
        p->pty_master = safe_close(p->pty_master);
        p->pid = 0;
        p->released = false;
}
