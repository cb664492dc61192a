/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* An exec's plan as the daemon hands it to berth-exec: what plan_build()
 * computed (the command, its environment, user, working directory,
 * capabilities and compiled seccomp filter), in one sealed memfd. The helper
 * is a fresh program: it shares nothing with the daemon but this and the
 * fds it is given, so a process of the container that takes it over finds
 * nothing of the daemon's (see runtime-exec.c). */
#include <fcntl.h>
#include <sys/mman.h>
#include <sys/stat.h>

#include "capabilities.h"
#include "runtime-internal.h"

#define EXEC_PLAN_MAGIC UINT32_C(0x31584542) /* "BEX1" */
/* argv and environment together are bounded by ARG_MAX at execve anyway. */
#define EXEC_PLAN_MAX (8U * 1024 * 1024)

enum {
        EXEC_PLAN_TTY = 1 << 0,
        EXEC_PLAN_NO_NEW_PRIVS = 1 << 1,
        EXEC_PLAN_PRIVILEGED = 1 << 2,
        EXEC_PLAN_SECCOMP = 1 << 3,
        EXEC_PLAN_NEED_HOME = 1 << 4,
};

typedef struct ExecPlanHeader {
        uint32_t magic;
        uint32_t flags;
        uint64_t caps, caps_extra;
        uint32_t n_argv, n_env;
        uint32_t bpf_len;
        uint32_t strings_size;
} ExecPlanHeader;

static size_t strings_size(const ChildPlan *plan) {
        const RuntimeProcessSpec *p = plan->process;
        size_t n = strlen(strempty(p->user)) + 1 + strlen(strempty(p->cwd)) + 1;

        STRV_FOREACH(a, p->argv)
                n += strlen(*a) + 1;
        for (size_t i = 0; i < plan->n_env; i++)
                n += strlen(plan->envp[i]) + 1;
        return n;
}

static char *put_string(char *at, const char *s) {
        size_t n = strlen(strempty(s)) + 1;

        memcpy(at, strempty(s), n);
        return at + n;
}

static int memfd_sealed(const void *data, size_t size, int *ret) {
        _cleanup_close_ int fd = memfd_create("berth-exec-plan", MFD_CLOEXEC | MFD_ALLOW_SEALING);
        const char *p = data;

        if (fd < 0)
                return negative_errno();
        for (size_t done = 0; done < size;) {
                ssize_t n = write(fd, p + done, size - done);
                if (n < 0)
                        return negative_errno();
                done += (size_t) n;
        }
        if (fcntl(fd, F_ADD_SEALS, F_SEAL_SEAL | F_SEAL_SHRINK | F_SEAL_GROW | F_SEAL_WRITE) < 0)
                return negative_errno();
        *ret = TAKE_FD(fd);
        return 0;
}

int exec_plan_write(const ChildPlan *plan, int *ret_fd) {
        const RuntimeProcessSpec *p = plan->process;
        size_t bpf_size = plan->seccomp ? plan->bpf.len * sizeof(struct sock_filter) : 0;
        size_t size = sizeof(ExecPlanHeader) + bpf_size + strings_size(plan);
        _cleanup_free_ char *buf = NULL;
        ExecPlanHeader h = {
                .magic = EXEC_PLAN_MAGIC,
                .flags = (p->tty ? EXEC_PLAN_TTY : 0) | (p->no_new_privs ? EXEC_PLAN_NO_NEW_PRIVS : 0) |
                         (p->privileged ? EXEC_PLAN_PRIVILEGED : 0) | (plan->seccomp ? EXEC_PLAN_SECCOMP : 0) |
                         (plan->need_home ? EXEC_PLAN_NEED_HOME : 0),
                .caps = plan->caps, .caps_extra = plan->caps_extra,
                .n_argv = (uint32_t) strv_length(p->argv), .n_env = (uint32_t) plan->n_env,
                .bpf_len = plan->seccomp ? plan->bpf.len : 0,
        };
        char *at;

        if (size > EXEC_PLAN_MAX)
                return -E2BIG;
        h.strings_size = (uint32_t) (size - sizeof h - bpf_size);
        buf = malloc(size);
        if (!buf)
                return -ENOMEM;
        memcpy(buf, &h, sizeof h);
        if (bpf_size > 0)
                memcpy(buf + sizeof h, plan->bpf.filter, bpf_size);
        at = put_string(buf + sizeof h + bpf_size, p->user);
        at = put_string(at, p->cwd);
        STRV_FOREACH(a, p->argv)
                at = put_string(at, *a);
        for (size_t i = 0; i < plan->n_env; i++)
                at = put_string(at, plan->envp[i]);
        return memfd_sealed(buf, size, ret_fd);
}

/* Takes the next NUL-terminated string of [*at, end); NULL past the end. */
static char *take_string(char **at, char *end) {
        char *s = *at, *nul = s < end ? memchr(s, 0, (size_t) (end - s)) : NULL;

        if (!nul)
                return NULL;
        *at = nul + 1;
        return s;
}

static int read_all(int fd, char **ret, size_t *ret_size) {
        _cleanup_free_ char *buf = NULL;
        struct stat st;
        size_t done = 0;

        if (fstat(fd, &st) < 0)
                return negative_errno();
        if (st.st_size < (off_t) sizeof(ExecPlanHeader) || (uint64_t) st.st_size > EXEC_PLAN_MAX)
                return -EBADMSG;
        buf = malloc((size_t) st.st_size);
        if (!buf)
                return -ENOMEM;
        while (done < (size_t) st.st_size) {
                ssize_t n = pread(fd, buf + done, (size_t) st.st_size - done, (off_t) done);
                if (n <= 0)
                        return n < 0 ? negative_errno() : -EBADMSG;
                done += (size_t) n;
        }
        *ret = TAKE_PTR(buf);
        *ret_size = done;
        return 0;
}

static int parse_strings(ChildPlan *plan, RuntimeProcessSpec *p, const ExecPlanHeader *h, char *at, char *end) {
        char *user = take_string(&at, end), *cwd = take_string(&at, end);

        if (!user || !cwd || h->n_argv == 0)
                return -EBADMSG;
        p->user = isempty(user) ? NULL : user;
        p->cwd = isempty(cwd) ? NULL : cwd;
        p->argv = calloc(h->n_argv + 1, sizeof(char *));
        /* One spare slot before the end for HOME (see plan_env). */
        plan->envp = calloc(h->n_env + 2, sizeof(char *));
        if (!p->argv || !plan->envp)
                return -ENOMEM;
        for (uint32_t i = 0; i < h->n_argv; i++)
                if (!(p->argv[i] = take_string(&at, end)))
                        return -EBADMSG;
        for (uint32_t i = 0; i < h->n_env; i++) {
                plan->envp[i] = take_string(&at, end);
                if (!plan->envp[i])
                        return -EBADMSG;
                if (startswith(plan->envp[i], "PATH="))
                        plan->path = plan->envp[i] + 5;
        }
        plan->n_env = h->n_env;
        return at == end && plan->path ? 0 : -EBADMSG;
}

int exec_plan_read(int fd, ChildPlan *plan, RuntimeProcessSpec *p) {
        ExecPlanHeader h;
        size_t size, bpf_size;
        char *buf;
        int r;

        r = read_all(fd, &buf, &size);
        if (r < 0)
                return r;
        /* Never freed: the plan points into it until execve. */
        memcpy(&h, buf, sizeof h);
        bpf_size = (size_t) h.bpf_len * sizeof(struct sock_filter);
        if (h.magic != EXEC_PLAN_MAGIC || h.bpf_len > USHRT_MAX ||
            sizeof h + bpf_size + h.strings_size != size || !(h.flags & EXEC_PLAN_SECCOMP) != !h.bpf_len)
                return -EBADMSG;
        *p = (RuntimeProcessSpec) {
                .tty = h.flags & EXEC_PLAN_TTY, .no_new_privs = h.flags & EXEC_PLAN_NO_NEW_PRIVS,
                .privileged = h.flags & EXEC_PLAN_PRIVILEGED,
                .stdin_fd = STDIN_FILENO, .stdout_fd = STDOUT_FILENO, .stderr_fd = STDERR_FILENO,
        };
        plan->process = p;
        plan->caps = h.caps;
        plan->caps_extra = h.caps_extra;
        plan->need_home = h.flags & EXEC_PLAN_NEED_HOME;
        plan->seccomp = h.flags & EXEC_PLAN_SECCOMP;
        plan->bpf = (SeccompBpf) { .filter = (struct sock_filter *) (buf + sizeof h),
                                   .len = (unsigned short) h.bpf_len };
        r = parse_strings(plan, p, &h, buf + sizeof h + bpf_size, buf + size);
        if (r < 0)
                return r;
        r = capability_prepare(plan->caps, plan->caps_extra, &plan->caps_setup);
        if (r < 0)
                return r;
        return capability_prepare(plan->caps, 0, &plan->caps_final);
}
