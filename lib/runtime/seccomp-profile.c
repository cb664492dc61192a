/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <fcntl.h>
#include <jansson.h>
#include <linux/net.h>
#include <linux/seccomp.h>
#include <sched.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/utsname.h>

#include "capabilities.h"
#include "fileio.h"
#include "log.h"
#include "seccomp-default.h"
#include <pthread.h>

#include "seccomp-profile.h"

#define PROFILE_SIZE_MAX (4U * 1024U * 1024U)
#define PROFILE_RULES_MAX 4096U
#define PROFILE_ARCHES_MAX 64U

static const char * const seccomp_mode_table[_SECCOMP_MODE_MAX] = {
        [SECCOMP_MODE_DEFAULT] = "default",
        [SECCOMP_MODE_UNCONFINED] = "unconfined",
        [SECCOMP_MODE_PROFILE] = "profile",
};
DEFINE_STRING_TABLE_LOOKUP(seccomp_mode, SeccompMode);

static void seccomp_rule_done(SeccompRule *r) {
        strv_free(r->names);
        strv_free(r->arches_include);
        strv_free(r->arches_exclude);
}

SeccompProfile *seccomp_profile_free(SeccompProfile *p) {
        if (!p)
                return NULL;
        for (size_t i = 0; i < p->n_rules; i++)
                seccomp_rule_done(&p->rules[i]);
        free(p->rules);
        free(p->arches);
        return mfree(p);
}

static SeccompRule *profile_new_rule(SeccompProfile *p) {
        SeccompRule *n;

        if (p->n_rules >= PROFILE_RULES_MAX)
                return NULL;
        n = realloc(p->rules, (p->n_rules + 1) * sizeof *n);
        if (!n)
                return NULL;
        p->rules = n;
        n = &p->rules[p->n_rules++];
        *n = (SeccompRule) {};
        return n;
}

static int profile_add(SeccompProfile *p, const char *name, uint32_t action, size_t n_args,
                       const struct scmp_arg_cmp *args) {
        SeccompRule *rule = profile_new_rule(p);

        if (!rule || strv_extend(&rule->names, name) < 0)
                return -ENOMEM;
        rule->action = action;
        rule->n_args = n_args;
        if (n_args > 0)
                memcpy(rule->args, args, n_args * sizeof *args);
        return 0;
}

/* The namespace flags clone(2) must not carry (Docker's mask 0x7E020000). */
#define CLONE_NAMESPACE_FLAGS \
        (CLONE_NEWNS | CLONE_NEWUTS | CLONE_NEWIPC | CLONE_NEWUSER | CLONE_NEWPID | \
         CLONE_NEWNET | CLONE_NEWCGROUP)

int seccomp_profile_default(SeccompProfile **ret) {
        _cleanup_(seccomp_profile_freep) SeccompProfile *p = calloc(1, sizeof *p);
        int r = 0;

        if (!p)
                return -ENOMEM;
        p->default_action = SCMP_ACT_ERRNO(EPERM);
        for (size_t i = 0; r >= 0 && i < ELEMENTSOF(seccomp_default_allow); i++)
                r = profile_add(p, seccomp_default_allow[i], SCMP_ACT_ALLOW, 0, NULL);
        for (size_t i = 0; r >= 0 && i < ELEMENTSOF(seccomp_default_personalities); i++)
                r = profile_add(p, "personality", SCMP_ACT_ALLOW, 1,
                                &SCMP_A0_64(SCMP_CMP_EQ, seccomp_default_personalities[i]));
        /* As Docker: tracing within the container (strace, gdb), where ptrace
         * no longer bypasses seccomp. The kernel's ptrace checks stay: the
         * same user, and no capability the tracer lacks. */
        for (size_t i = 0; r >= 0 && i < ELEMENTSOF(seccomp_default_trace); i++) {
                r = profile_add(p, seccomp_default_trace[i], SCMP_ACT_ALLOW, 0, NULL);
                if (r >= 0)
                        p->rules[p->n_rules - 1].min_kernel = 4008;
        }
        if (r >= 0)
                /* No AF_VSOCK: it reaches the host, outside the network namespace. */
                r = profile_add(p, "socket", SCMP_ACT_ALLOW, 1, &SCMP_A0_64(SCMP_CMP_NE, 40));
        if (r >= 0)
                r = profile_add(p, "clone", SCMP_ACT_ALLOW, 1,
                                &SCMP_A0_64(SCMP_CMP_MASKED_EQ, CLONE_NAMESPACE_FLAGS, 0));
        if (r >= 0)
                /* clone3's flags live in memory seccomp cannot inspect; ENOSYS makes
                 * libc fall back to clone(), which the rule above checks. */
                r = profile_add(p, "clone3", SCMP_ACT_ERRNO(ENOSYS), 0, NULL);
        if (r < 0)
                return r;
        *ret = TAKE_PTR(p);
        return 0;
}

static int parse_action(const char *s, json_t *errno_ret, uint32_t *ret) {
        json_int_t e = json_is_integer(errno_ret) ? json_integer_value(errno_ret) : EPERM;

        if (!s)
                return -EINVAL;
        if (streq(s, "SCMP_ACT_ALLOW"))
                *ret = SCMP_ACT_ALLOW;
        else if (streq(s, "SCMP_ACT_ERRNO")) {
                if (e < 0 || e > 4095)
                        return -EINVAL;
                *ret = SCMP_ACT_ERRNO((uint32_t) e);
        } else if (IN_SET(0, strcmp(s, "SCMP_ACT_KILL"), strcmp(s, "SCMP_ACT_KILL_THREAD")))
                *ret = SCMP_ACT_KILL;
        else if (streq(s, "SCMP_ACT_KILL_PROCESS"))
                *ret = SCMP_ACT_KILL_PROCESS;
        else if (streq(s, "SCMP_ACT_TRAP"))
                *ret = SCMP_ACT_TRAP;
        else if (streq(s, "SCMP_ACT_LOG"))
                *ret = SCMP_ACT_LOG;
        else if (streq(s, "SCMP_ACT_TRACE"))
                *ret = SCMP_ACT_TRACE((uint32_t) (e & 0xffff));
        else
                return -EOPNOTSUPP; /* SCMP_ACT_NOTIFY needs a listener we do not have. */
        return 0;
}

static int parse_arch(const char *s, uint32_t *ret) {
        char buf[32];
        const char *n = startswith(s, "SCMP_ARCH_");
        uint32_t a;
        size_t i;

        if (!n)
                return -EINVAL;
        for (i = 0; n[i] && i < sizeof buf - 1; i++)
                buf[i] = (char) (n[i] >= 'A' && n[i] <= 'Z' ? n[i] - 'A' + 'a' : n[i]);
        buf[i] = 0;
        a = seccomp_arch_resolve_name(buf);
        if (a == 0)
                return -EINVAL;
        *ret = a;
        return 0;
}

static int profile_add_arch(SeccompProfile *p, const char *name) {
        uint32_t a, *n;
        int r = parse_arch(name, &a);

        if (r < 0)
                return r;
        if (p->n_arches >= PROFILE_ARCHES_MAX)
                return -E2BIG;
        n = realloc(p->arches, (p->n_arches + 1) * sizeof *n);
        if (!n)
                return -ENOMEM;
        p->arches = n;
        p->arches[p->n_arches++] = a;
        return 0;
}

static int parse_arches(SeccompProfile *p, json_t *root) {
        json_t *v, *m, *sub;
        size_t i, j;
        int r;

        json_array_foreach(json_object_get(root, "architectures"), i, v) {
                r = profile_add_arch(p, json_string_value(v));
                if (r < 0)
                        return r;
        }
        json_array_foreach(json_object_get(root, "archMap"), i, m) {
                r = profile_add_arch(p, json_string_value(json_object_get(m, "architecture")));
                if (r < 0)
                        return r;
                json_array_foreach(json_object_get(m, "subArchitectures"), j, sub) {
                        r = profile_add_arch(p, json_string_value(sub));
                        if (r < 0)
                                return r;
                }
        }
        return 0;
}

static int parse_op(const char *s, enum scmp_compare *ret) {
        static const struct { const char *name; enum scmp_compare op; } ops[] = {
                { "SCMP_CMP_NE", SCMP_CMP_NE }, { "SCMP_CMP_LT", SCMP_CMP_LT },
                { "SCMP_CMP_LE", SCMP_CMP_LE }, { "SCMP_CMP_EQ", SCMP_CMP_EQ },
                { "SCMP_CMP_GE", SCMP_CMP_GE }, { "SCMP_CMP_GT", SCMP_CMP_GT },
                { "SCMP_CMP_MASKED_EQ", SCMP_CMP_MASKED_EQ },
        };

        for (size_t i = 0; s && i < ELEMENTSOF(ops); i++)
                if (streq(s, ops[i].name)) {
                        *ret = ops[i].op;
                        return 0;
                }
        return -EINVAL;
}

static int parse_args(SeccompRule *rule, json_t *args) {
        json_t *a;
        size_t i;
        int r;

        if (args && !json_is_array(args) && !json_is_null(args))
                return -EINVAL;
        if (json_array_size(args) > SECCOMP_ARGS_MAX)
                return -E2BIG;
        json_array_foreach(args, i, a) {
                json_t *index = json_object_get(a, "index"), *value = json_object_get(a, "value");
                json_t *two = json_object_get(a, "valueTwo");
                struct scmp_arg_cmp *c = &rule->args[rule->n_args];

                if (!json_is_integer(index) || json_integer_value(index) < 0 ||
                    json_integer_value(index) >= SECCOMP_ARGS_MAX || !json_is_integer(value))
                        return -EINVAL;
                r = parse_op(json_string_value(json_object_get(a, "op")), &c->op);
                if (r < 0)
                        return r;
                c->arg = (unsigned) json_integer_value(index);
                c->datum_a = (uint64_t) json_integer_value(value);
                c->datum_b = json_is_integer(two) ? (uint64_t) json_integer_value(two) : 0;
                /* Docker puts the mask in value and the expected bits in valueTwo. */
                rule->n_args++;
        }
        return 0;
}

static int parse_strv(json_t *a, char ***ret) {
        json_t *v;
        size_t i;
        int r;

        json_array_foreach(a, i, v) {
                if (!json_is_string(v))
                        return -EINVAL;
                r = strv_extend(ret, json_string_value(v));
                if (r < 0)
                        return r;
        }
        return 0;
}

static int parse_caps(json_t *a, uint64_t *ret) {
        json_t *v;
        size_t i;

        json_array_foreach(a, i, v) {
                int c = capability_from_name(json_string_value(v));

                /* Capabilities this kernel lacks can never be held: the gate stays shut. */
                if (c < 0)
                        c = 63;
                *ret |= UINT64_C(1) << c;
        }
        return 0;
}

static int parse_kernel_version(const char *s, unsigned *ret) {
        unsigned major, minor = 0;

        if (!s || sscanf(s, "%u.%u", &major, &minor) < 1 || major > 1000 || minor > 999)
                return -EINVAL;
        *ret = major * 1000 + minor;
        return 0;
}

static int parse_gates(SeccompRule *rule, json_t *inc, json_t *exc) {
        int r;

        r = parse_caps(json_object_get(inc, "caps"), &rule->caps_include);
        if (r >= 0)
                r = parse_caps(json_object_get(exc, "caps"), &rule->caps_exclude);
        if (r >= 0)
                r = parse_strv(json_object_get(inc, "arches"), &rule->arches_include);
        if (r >= 0)
                r = parse_strv(json_object_get(exc, "arches"), &rule->arches_exclude);
        if (r >= 0 && json_object_get(inc, "minKernel"))
                r = parse_kernel_version(json_string_value(json_object_get(inc, "minKernel")),
                                         &rule->min_kernel);
        return r;
}

static int parse_rule(SeccompProfile *p, json_t *s) {
        json_t *names = json_object_get(s, "names"), *name = json_object_get(s, "name");
        SeccompRule *rule;
        int r;

        if (!json_is_object(s))
                return -EINVAL;
        rule = profile_new_rule(p);
        if (!rule)
                return -E2BIG;
        r = parse_strv(names, &rule->names);
        if (r >= 0 && json_is_string(name))
                r = strv_extend(&rule->names, json_string_value(name));
        if (r < 0)
                return r;
        if (strv_length(rule->names) == 0)
                return -EINVAL;
        r = parse_action(json_string_value(json_object_get(s, "action")),
                         json_object_get(s, "errnoRet"), &rule->action);
        if (r < 0)
                return r;
        r = parse_args(rule, json_object_get(s, "args"));
        if (r < 0)
                return r;
        return parse_gates(rule, json_object_get(s, "includes"), json_object_get(s, "excludes"));
}

int seccomp_profile_parse(const char *text, SeccompProfile **ret) {
        _cleanup_(seccomp_profile_freep) SeccompProfile *p = calloc(1, sizeof *p);
        json_error_t error;
        json_t *root, *s;
        size_t i;
        int r;

        if (!p)
                return -ENOMEM;
        root = json_loads(text, JSON_REJECT_DUPLICATES, &error);
        if (!json_is_object(root)) {
                log_debug("Invalid seccomp profile: %s (line %d)", error.text, error.line);
                json_decref(root);
                return -EINVAL;
        }
        r = parse_action(json_string_value(json_object_get(root, "defaultAction")),
                         json_object_get(root, "defaultErrnoRet"), &p->default_action);
        if (r >= 0)
                r = parse_arches(p, root);
        if (r >= 0 && json_object_get(root, "syscalls") && !json_is_array(json_object_get(root, "syscalls")))
                r = -EINVAL;
        json_array_foreach(json_object_get(root, "syscalls"), i, s) {
                if (r < 0)
                        break;
                r = parse_rule(p, s);
        }
        json_decref(root);
        if (r < 0)
                return r;
        *ret = TAKE_PTR(p);
        return 0;
}

int seccomp_profile_load(const char *path, SeccompProfile **ret) {
        _cleanup_free_ char *text = NULL;
        _cleanup_close_ int fd = -EBADF;
        struct stat st;
        int r;

        /* A caller of CreateContainer names the path, and berthd reads it in
         * its loop: a FIFO or a device would block it (O_NONBLOCK makes the
         * open return, and only a regular file is read). */
        fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NONBLOCK);
        if (fd < 0)
                return -errno;
        if (fstat(fd, &st) < 0)
                return -errno;
        if (!S_ISREG(st.st_mode))
                return -EINVAL;
        r = read_full_fd(fd, PROFILE_SIZE_MAX, &text, NULL);
        if (r < 0)
                return r;
        return seccomp_profile_parse(text, ret);
}

/* Docker names architectures as Go does. */
static const char *native_arch_name(void) {
#if defined(__x86_64__)
        return "amd64";
#elif defined(__aarch64__)
        return "arm64";
#elif defined(__i386__)
        return "386";
#else
        return "";
#endif
}

static unsigned running_kernel(void) {
        struct utsname u;
        unsigned v = 0;

        if (uname(&u) >= 0)
                (void) parse_kernel_version(u.release, &v);
        return v;
}

static bool rule_applies(const SeccompRule *rule, uint64_t caps) {
        if ((rule->caps_include & caps) != rule->caps_include)
                return false;
        if (rule->caps_exclude & caps)
                return false;
        if (rule->arches_include && !strv_contains(rule->arches_include, native_arch_name()))
                return false;
        if (strv_contains(rule->arches_exclude, native_arch_name()))
                return false;
        return rule->min_kernel == 0 || running_kernel() >= rule->min_kernel;
}

#define FILTER_ARCHES_MAX (PROFILE_ARCHES_MAX + 3)

/* The architectures a filter covers: the native one, the compat entry
 * points any x86-64 process can reach, and the profile's. */
static size_t filter_arches(const SeccompProfile *p, uint32_t ret[static FILTER_ARCHES_MAX]) {
        size_t n = 0;

        ret[n++] = seccomp_arch_native();
#if defined(__x86_64__)
        ret[n++] = SCMP_ARCH_X86;
        ret[n++] = SCMP_ARCH_X32;
#endif
        for (size_t i = 0; i < p->n_arches && n < FILTER_ARCHES_MAX; i++) {
                bool seen = false;

                for (size_t j = 0; j < n; j++)
                        seen = seen || ret[j] == p->arches[i];
                if (!seen)
                        ret[n++] = p->arches[i];
        }
        return n;
}

static int add_arches(scmp_filter_ctx ctx, const SeccompProfile *p) {
        uint32_t arches[FILTER_ARCHES_MAX];
        size_t n = filter_arches(p, arches);
        int r;

        for (size_t i = 0; i < n; i++) {
                r = seccomp_arch_add(ctx, arches[i]);
                if (r < 0 && r != -EEXIST)
                        return r;
        }
        return 0;
}

static int add_rule(scmp_filter_ctx ctx, const SeccompProfile *p, const SeccompRule *rule) {
        STRV_FOREACH(n, rule->names) {
                int nr = seccomp_syscall_resolve_name(*n), r;

                if (nr == __NR_SCMP_ERROR || rule->action == p->default_action)
                        continue;
                r = seccomp_rule_add_array(ctx, rule->action, nr, (unsigned) rule->n_args, rule->args);
                /* An allow rule that cannot be expressed is left out, which only
                 * makes the filter stricter; anything else must not be lost. */
                if (r < 0 && rule->action != SCMP_ACT_ALLOW) {
                        log_debug("seccomp: cannot add rule for %s: %s", *n, strerror(-r));
                        return r;
                }
        }
        return 0;
}

int seccomp_profile_compile(const SeccompProfile *p, uint64_t caps, scmp_filter_ctx *ret) {
        scmp_filter_ctx ctx = seccomp_init(p->default_action);
        int r;

        if (!ctx)
                return -EINVAL;
        /* A binary tree of syscall numbers instead of a linear chain: each
         * syscall then walks O(log n) instructions, and so does the kernel
         * when it precomputes its per-syscall cache at install (for a
         * Docker-sized profile, a millisecond on the way of every start).
         * Older libseccomp lacks it: the filter means the same without. */
        (void) seccomp_attr_set(ctx, SCMP_FLTATR_CTL_OPTIMIZE, 2);
        r = add_arches(ctx, p);
        for (size_t i = 0; r >= 0 && i < p->n_rules; i++)
                if (rule_applies(&p->rules[i], caps))
                        r = add_rule(ctx, p, &p->rules[i]);
        if (r < 0) {
                seccomp_release(ctx);
                return r;
        }
        *ret = ctx;
        return 0;
}

/* The calls socketcall(2) multiplexes, by their number (SYS_SOCKET is 1). */
static const char * const socketcall_calls[] = {
        [SYS_SOCKET] = "socket", [SYS_BIND] = "bind", [SYS_CONNECT] = "connect",
        [SYS_LISTEN] = "listen", [SYS_ACCEPT] = "accept", [SYS_GETSOCKNAME] = "getsockname",
        [SYS_GETPEERNAME] = "getpeername", [SYS_SOCKETPAIR] = "socketpair", [SYS_SEND] = "send",
        [SYS_RECV] = "recv", [SYS_SENDTO] = "sendto", [SYS_RECVFROM] = "recvfrom",
        [SYS_SHUTDOWN] = "shutdown", [SYS_SETSOCKOPT] = "setsockopt",
        [SYS_GETSOCKOPT] = "getsockopt", [SYS_SENDMSG] = "sendmsg", [SYS_RECVMSG] = "recvmsg",
        [SYS_ACCEPT4] = "accept4", [SYS_RECVMMSG] = "recvmmsg", [SYS_SENDMMSG] = "sendmmsg",
};

/* Where socketcall(2) multiplexes the socket calls (i386, also as x86-64's
 * compat ABI; s390, ppc, mips o32), libseccomp also applies a rule on
 * socket() to socketcall(SYS_SOCKET, args) but drops its argument checks:
 * socketcall's arguments are in memory, out of seccomp's reach. An allow rule
 * that checks arguments would then allow them all there, AF_VSOCK included.
 * Returns the mask of call numbers that such rules allow with checks, and
 * no rule without: those are refused through socketcall. */
static uint32_t socketcall_unfilterable(const SeccompProfile *p, uint64_t caps) {
        uint32_t checked = 0, unchecked = 0;

        for (size_t i = 0; i < p->n_rules; i++) {
                const SeccompRule *rule = &p->rules[i];

                if (!IN_SET(rule->action, SCMP_ACT_ALLOW, SCMP_ACT_LOG) ||
                    rule->action == p->default_action || !rule_applies(rule, caps))
                        continue;
                for (size_t c = 1; c < ELEMENTSOF(socketcall_calls); c++)
                        if (strv_contains(rule->names, socketcall_calls[c])) {
                                if (rule->n_args > 0)
                                        checked |= UINT32_C(1) << c;
                                else
                                        unchecked |= UINT32_C(1) << c;
                        }
        }
        return checked & ~unchecked;
}

/* socketcall reads its call number as an int: only the low half of the
 * register counts, wherever it sits in seccomp_data. */
#define ARG0_LOW (offsetof(struct seccomp_data, args[0]) + \
                  (__BYTE_ORDER__ == __ORDER_BIG_ENDIAN__ ? 4 : 0))
#define GUARD_MAX 255 /* a conditional jump reaches 255 instructions */

static void guard_emit(struct sock_filter *g, size_t *n, uint16_t code, uint32_t k, size_t jt, size_t jf) {
        if (*n < GUARD_MAX)
                g[*n] = (struct sock_filter) { code, (uint8_t) jt, (uint8_t) jf, k };
        (*n)++;
}

/* The instructions put before libseccomp's program that answer ENOSYS to
 * socketcall(N) for each N of calls, on each of arches that has socketcall:
 * as if the multiplexer did not exist, as clone3 is answered (libc has to
 * use the direct calls then, which the filter checks). Any other syscall
 * falls through to the program, which starts by loading what it needs. */
static int socketcall_guard(const uint32_t *arches, size_t n_arches, uint32_t calls,
                            struct sock_filter g[static GUARD_MAX], size_t *ret_len) {
        size_t n = 0, n_blocks = 0, block, end, deny;
        int nr;

        for (size_t i = 0; calls != 0 && i < n_arches; i++)
                n_blocks += seccomp_syscall_resolve_name_arch(arches[i], "socketcall") >= 0;
        if (n_blocks == 0) {
                *ret_len = 0;
                return 0;
        }
        /* Per arch: compare it, load nr, compare it, load the call, compare
         * each, then jump to the program. After the blocks, the deny. */
        block = 5 + (size_t) __builtin_popcount(calls);
        deny = 1 + n_blocks * block;
        end = deny + 1;
        if (end > GUARD_MAX)
                return -E2BIG;
        /* Jump offsets count from the next instruction. */
        guard_emit(g, &n, BPF_LD | BPF_W | BPF_ABS, offsetof(struct seccomp_data, arch), 0, 0);
        for (size_t i = 0; i < n_arches; i++) {
                size_t next;

                nr = seccomp_syscall_resolve_name_arch(arches[i], "socketcall");
                if (nr < 0)
                        continue;
                next = n + block == deny ? end : n + block;
                guard_emit(g, &n, BPF_JMP | BPF_JEQ | BPF_K, arches[i], 0, next - n - 1);
                guard_emit(g, &n, BPF_LD | BPF_W | BPF_ABS, offsetof(struct seccomp_data, nr), 0, 0);
                guard_emit(g, &n, BPF_JMP | BPF_JEQ | BPF_K, (uint32_t) nr, 0, end - n - 1);
                guard_emit(g, &n, BPF_LD | BPF_W | BPF_ABS, ARG0_LOW, 0, 0);
                for (uint32_t c = 0; c < 32; c++)
                        if (calls & (UINT32_C(1) << c))
                                guard_emit(g, &n, BPF_JMP | BPF_JEQ | BPF_K, c, deny - n - 1, 0);
                guard_emit(g, &n, BPF_JMP | BPF_JA, (uint32_t) (end - n - 1), 0, 0);
        }
        guard_emit(g, &n, BPF_RET | BPF_K, SCMP_ACT_ERRNO(ENOSYS), 0, 0);
        if (n != end)
                return -EINVAL;
        *ret_len = n;
        return 0;
}

int seccomp_profile_export(const SeccompProfile *p, uint64_t caps, SeccompBpf *ret) {
        _cleanup_close_ int fd = -EBADF;
        _cleanup_free_ char *data = NULL;
        _cleanup_free_ struct sock_filter *filter = NULL;
        struct sock_filter guard[GUARD_MAX];
        uint32_t arches[FILTER_ARCHES_MAX];
        size_t size, n_guard, n_prog;
        scmp_filter_ctx ctx;
        int r;

        r = socketcall_guard(arches, filter_arches(p, arches), socketcall_unfilterable(p, caps),
                             guard, &n_guard);
        if (r < 0)
                return r;
        r = seccomp_profile_compile(p, caps, &ctx);
        if (r < 0)
                return r;
        fd = memfd_create("berth-seccomp", MFD_CLOEXEC);
        r = fd < 0 ? negative_errno() : seccomp_export_bpf(ctx, fd);
        seccomp_release(ctx);
        if (r < 0)
                return r;
        if (lseek(fd, 0, SEEK_SET) < 0)
                return negative_errno();
        r = read_full_fd(fd, 1024 * 1024, &data, &size);
        if (r < 0)
                return r;
        n_prog = size / sizeof(struct sock_filter);
        if (size == 0 || size % sizeof(struct sock_filter) != 0 || n_guard + n_prog > BPF_MAXINSNS)
                return -E2BIG;
        filter = malloc((n_guard + n_prog) * sizeof *filter);
        if (!filter)
                return -ENOMEM;
        memcpy(filter, guard, n_guard * sizeof *filter);
        memcpy(filter + n_guard, data, size);
        *ret = (SeccompBpf) {
                .filter = TAKE_PTR(filter),
                .len = (unsigned short) (n_guard + n_prog),
        };
        return 0;
}

void seccomp_bpf_done(SeccompBpf *b) {
        b->filter = mfree(b->filter);
        b->len = 0;
}

#define DEFAULT_BPF_CACHE_SIZE 8

static struct {
        uint64_t caps;
        SeccompBpf bpf;
} default_bpf_cache[DEFAULT_BPF_CACHE_SIZE];
static size_t default_bpf_cached;
static pthread_mutex_t default_bpf_lock = PTHREAD_MUTEX_INITIALIZER;

static int bpf_copy(const SeccompBpf *from, SeccompBpf *ret) {
        struct sock_filter *f = malloc(from->len * sizeof *f);

        if (!f)
                return -ENOMEM;
        memcpy(f, from->filter, from->len * sizeof *f);
        *ret = (SeccompBpf) { .filter = f, .len = from->len };
        return 0;
}

static int default_bpf_compile(uint64_t caps, SeccompBpf *ret) {
        _cleanup_(seccomp_profile_freep) SeccompProfile *p = NULL;
        int r;

        r = seccomp_profile_default(&p);
        if (r < 0)
                return r;
        return seccomp_profile_export(p, caps, ret);
}

int seccomp_default_bpf(uint64_t caps, SeccompBpf *ret) {
        SeccompBpf compiled = {};
        int r;

        pthread_mutex_lock(&default_bpf_lock);
        for (size_t i = 0; i < default_bpf_cached; i++)
                if (default_bpf_cache[i].caps == caps) {
                        r = bpf_copy(&default_bpf_cache[i].bpf, ret);
                        pthread_mutex_unlock(&default_bpf_lock);
                        return r;
                }
        r = default_bpf_compile(caps, &compiled);
        if (r >= 0)
                r = bpf_copy(&compiled, ret);
        if (r >= 0 && default_bpf_cached < DEFAULT_BPF_CACHE_SIZE)
                default_bpf_cache[default_bpf_cached++] = (typeof(default_bpf_cache[0])) { caps, compiled };
        else
                seccomp_bpf_done(&compiled);
        pthread_mutex_unlock(&default_bpf_lock);
        return r;
}
