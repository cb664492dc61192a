/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <check.h>
#include <linux/net.h>
#include <sched.h>
#include <signal.h>
#include <sys/mman.h>
#include <sys/personality.h>
#include <sys/prctl.h>
#include <sys/ptrace.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/uio.h>
#include <sys/wait.h>

#include "capabilities.h"
#include "seccomp-profile.h"
#include "seccomp-sim.h"

static const char docker_like[] =
        "{\"defaultAction\": \"SCMP_ACT_ERRNO\", \"defaultErrnoRet\": 1,"
        " \"archMap\": [{\"architecture\": \"SCMP_ARCH_X86_64\","
        "               \"subArchitectures\": [\"SCMP_ARCH_X86\", \"SCMP_ARCH_X32\"]}],"
        " \"syscalls\": ["
        "  {\"names\": [\"read\", \"write\", \"no_such_syscall\"], \"action\": \"SCMP_ACT_ALLOW\"},"
        "  {\"names\": [\"personality\"], \"action\": \"SCMP_ACT_ALLOW\","
        "   \"args\": [{\"index\": 0, \"value\": 8, \"valueTwo\": 0, \"op\": \"SCMP_CMP_EQ\"}]},"
        "  {\"names\": [\"clone\"], \"action\": \"SCMP_ACT_ALLOW\","
        "   \"args\": [{\"index\": 0, \"value\": 2114060288, \"valueTwo\": 0, \"op\": \"SCMP_CMP_MASKED_EQ\"}]},"
        "  {\"names\": [\"mount\"], \"action\": \"SCMP_ACT_ALLOW\", \"includes\": {\"caps\": [\"CAP_SYS_ADMIN\"]}},"
        "  {\"names\": [\"ptrace\"], \"action\": \"SCMP_ACT_ALLOW\", \"includes\": {\"minKernel\": \"4.8\"}},"
        "  {\"names\": [\"arch_prctl\"], \"action\": \"SCMP_ACT_ALLOW\", \"includes\": {\"arches\": [\"amd64\"]}},"
        "  {\"names\": [\"getpid\"], \"action\": \"SCMP_ACT_ERRNO\", \"errnoRet\": 38}"
        " ]}";

START_TEST(test_parse_docker_format) {
        _cleanup_(seccomp_profile_freep) SeccompProfile *p = NULL;

        ck_assert_int_eq(seccomp_profile_parse(docker_like, &p), 0);
        ck_assert_uint_eq(p->default_action, SCMP_ACT_ERRNO(1));
        ck_assert_uint_eq(p->n_arches, 3);
        ck_assert_uint_eq(p->arches[0], SCMP_ARCH_X86_64);
        ck_assert_uint_eq(p->arches[1], SCMP_ARCH_X86);
        ck_assert_uint_eq(p->n_rules, 7);
        ck_assert_uint_eq(strv_length(p->rules[0].names), 3);
        ck_assert_uint_eq(p->rules[1].n_args, 1);
        ck_assert_uint_eq(p->rules[1].args[0].datum_a, 8);
        ck_assert_int_eq(p->rules[1].args[0].op, SCMP_CMP_EQ);
        ck_assert_int_eq(p->rules[2].args[0].op, SCMP_CMP_MASKED_EQ);
        ck_assert_uint_eq(p->rules[2].args[0].datum_a, 2114060288);
        ck_assert_uint_eq(p->rules[3].caps_include, UINT64_C(1) << CAP_SYS_ADMIN);
        ck_assert_uint_eq(p->rules[4].min_kernel, 4008);
        ck_assert_str_eq(p->rules[5].arches_include[0], "amd64");
        ck_assert_uint_eq(p->rules[6].action, SCMP_ACT_ERRNO(38));
}
END_TEST

static int parse(const char *json) {
        _cleanup_(seccomp_profile_freep) SeccompProfile *p = NULL;

        return seccomp_profile_parse(json, &p);
}

START_TEST(test_parse_errors) {
        ck_assert_int_eq(parse("not json"), -EINVAL);
        ck_assert_int_eq(parse("[]"), -EINVAL);
        ck_assert_int_eq(parse("{}"), -EINVAL);
        ck_assert_int_eq(parse("{\"defaultAction\": \"SCMP_ACT_FROBNICATE\"}"), -EOPNOTSUPP);
        ck_assert_int_eq(parse("{\"defaultAction\": \"SCMP_ACT_NOTIFY\"}"), -EOPNOTSUPP);
        ck_assert_int_eq(parse("{\"defaultAction\": \"SCMP_ACT_ERRNO\", \"defaultErrnoRet\": 5000}"), -EINVAL);
        ck_assert_int_eq(parse("{\"defaultAction\": \"SCMP_ACT_ALLOW\", \"architectures\": [\"SCMP_ARCH_PDP11\"]}"), -EINVAL);
        ck_assert_int_eq(parse("{\"defaultAction\": \"SCMP_ACT_ALLOW\", \"syscalls\": {}}"), -EINVAL);
        ck_assert_int_eq(parse("{\"defaultAction\": \"SCMP_ACT_ALLOW\", \"syscalls\": [{\"names\": [], \"action\": \"SCMP_ACT_ERRNO\"}]}"), -EINVAL);
        ck_assert_int_eq(parse("{\"defaultAction\": \"SCMP_ACT_ALLOW\", \"syscalls\": [{\"names\": [\"read\"]}]}"), -EINVAL);
        ck_assert_int_eq(parse("{\"defaultAction\": \"SCMP_ACT_ALLOW\", \"syscalls\": [{\"names\": [\"read\"], \"action\": \"SCMP_ACT_ERRNO\","
                               " \"args\": [{\"index\": 6, \"value\": 1, \"op\": \"SCMP_CMP_EQ\"}]}]}"), -EINVAL);
        ck_assert_int_eq(parse("{\"defaultAction\": \"SCMP_ACT_ALLOW\", \"syscalls\": [{\"names\": [\"read\"], \"action\": \"SCMP_ACT_ERRNO\","
                               " \"args\": [{\"index\": 0, \"value\": 1, \"op\": \"SCMP_CMP_ALMOST\"}]}]}"), -EINVAL);
        ck_assert_int_eq(parse("{\"defaultAction\": \"SCMP_ACT_ALLOW\", \"defaultAction\": \"SCMP_ACT_KILL\"}"), -EINVAL);
        ck_assert_int_eq(parse("{\"defaultAction\": \"SCMP_ACT_ALLOW\", \"syscalls\": [{\"names\": [\"read\"], \"action\": \"SCMP_ACT_LOG\","
                               " \"includes\": {\"minKernel\": \"new\"}}]}"), -EINVAL);
}
END_TEST

/* Runs f in a child under the profile and returns its exit status. */
static int under_profile(SeccompProfile *p, uint64_t caps, int (*f)(void)) {
        SeccompBpf bpf = {};
        int status;
        pid_t pid;

        ck_assert_int_eq(seccomp_profile_export(p, caps, &bpf), 0);
        ck_assert_uint_gt(bpf.len, 0);
        pid = fork();
        ck_assert_int_ge(pid, 0);
        if (pid == 0) {
                if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) < 0 || seccomp_bpf_install(&bpf) < 0)
                        _exit(100);
                _exit(f());
        }
        seccomp_bpf_done(&bpf);
        ck_assert_int_eq(waitpid(pid, &status, 0), pid);
        return WIFEXITED(status) ? WEXITSTATUS(status) : 200 + WTERMSIG(status);
}

#define expect(r, err) expect_one((r), (err), #r)
static int expect_one(long r, int err, const char *what) {
        if (r < 0 && errno == err)
                return 0;
        fprintf(stderr, "%s: got %ld (%s), expected %s\n", what, r, strerror(errno), strerror(err));
        return 1;
}

#if defined(__x86_64__)
/* The kernel reports x32 calls as x86-64 ones with bit 30 set; i386 numbers
 * are spelled out, libseccomp resolves i386's socket() to its multiplexer. */
#define X32(nr) ((nr) | 0x40000000)
#define I386_getpid 20
#define I386_socketcall 102
#define I386_unshare 310
#define I386_socket 359

/* A syscall through the i386 entry point, as a 32-bit binary would make it. */
static long syscall_i386(long nr, long a1, long a2, long a3, long a4) {
        long r;

        /* The 32-bit entry zeroes r8-r11 in a 64-bit process. */
        __asm__ volatile("int $0x80" : "=a"(r) : "a"(nr), "b"(a1), "c"(a2), "d"(a3), "S"(a4)
                         : "memory", "r8", "r9", "r10", "r11");
        return r;
}
#endif

/* A traced child stops, and goes on when its tracer says so. */
static int ptrace_child_checks(void) {
        int status;
        pid_t pid = fork();

        if (pid < 0)
                return 1;
        if (pid == 0) {
                if (ptrace(PTRACE_TRACEME, 0, NULL, NULL) < 0)
                        _exit(10);
                raise(SIGSTOP);
                _exit(7);
        }
        if (waitpid(pid, &status, 0) != pid || !WIFSTOPPED(status) || WSTOPSIG(status) != SIGSTOP) {
                fprintf(stderr, "traced child: status %#x\n", status);
                return 1;
        }
        if (ptrace(PTRACE_CONT, pid, NULL, NULL) < 0)
                return 1;
        return waitpid(pid, &status, 0) != pid || !WIFEXITED(status) || WEXITSTATUS(status) != 7;
}

static int process_vm_checks(void) {
        char from[] = "berth", to[sizeof from] = "";
        struct iovec local = { to, sizeof to }, remote = { from, sizeof from };

        if (process_vm_readv(getpid(), &local, 1, &remote, 1, 0) != sizeof from || strcmp(to, from) != 0)
                return 1;
        local.iov_base = from;
        remote.iov_base = to;
        return process_vm_writev(getpid(), &local, 1, &remote, 1, 0) != sizeof from;
}

static int default_profile_checks(void) {
        int fails = 0;

        fails += expect(unshare(CLONE_NEWNS), EPERM);
        fails += expect(syscall(SYS_clone3, NULL, 0), ENOSYS);
        fails += expect(syscall(SYS_keyctl, 0, 0, 0, 0), EPERM);
        /* Docker allows these three since Linux 4.8 (ptrace no longer
         * bypasses seccomp there); kcmp and pidfd_getfd stay refused. */
        fails += ptrace_child_checks();
        fails += process_vm_checks();
        fails += expect(syscall(SYS_kcmp, getpid(), getpid(), 0, 0, 0), EPERM);
        fails += expect(syscall(SYS_pidfd_getfd, 0, 0, 0), EPERM);
        fails += expect(syscall(SYS_bpf, 0, NULL, 0), EPERM);
        fails += expect(syscall(SYS_fsopen, "tmpfs", 0), EPERM);
        fails += expect(syscall(SYS_setns, 0, 0), EPERM);
        fails += expect(personality(PER_BSD), EPERM);
        fails += expect(socket(AF_VSOCK, SOCK_STREAM, 0), EPERM);
        fails += personality(0xffffffff) < 0;
        fails += getppid() <= 0;
        return fails;
}

#if defined(__x86_64__)
static int compat_checks(void) {
        /* socketcall's arguments, where a 32-bit pointer reaches them. */
        uint32_t *args = mmap(NULL, 4096, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_32BIT, -1, 0);
        long r;
        int fails = 0;

        if (args == MAP_FAILED)
                return 1;
        /* i386 unshare is 310: the compat entry must be filtered too. */
        fails += syscall_i386(I386_unshare, CLONE_NEWNS, 0, 0, 0) != -EPERM;
        fails += syscall_i386(I386_socket, AF_VSOCK, SOCK_STREAM, 0, 0) != -EPERM;
        memcpy(args, (uint32_t[]) { AF_VSOCK, SOCK_STREAM, 0 }, 3 * sizeof *args);
        r = syscall_i386(I386_socketcall, SYS_SOCKET, (long) args, 0, 0);
        if (r != -ENOSYS) {
                fprintf(stderr, "i386 socketcall(SYS_SOCKET, AF_VSOCK): %ld\n", r);
                fails++;
        }
        r = syscall_i386(I386_socket, AF_INET, SOCK_DGRAM, 0, 0);
        fails += r < 0;
        if (r >= 0)
                close((int) r);
        return fails;
}

/* Some hypervisors (this CI's among them) have no 32-bit entry at all:
 * int $0x80 faults. Asked in a child, which the fault may kill. */
static bool have_i386_entry(void) {
        int status;
        pid_t pid = fork();

        if (pid < 0)
                return false;
        if (pid == 0)
                _exit(syscall_i386(I386_getpid, 0, 0, 0, 0) > 0 ? 0 : 1);
        return waitpid(pid, &status, 0) == pid && WIFEXITED(status) && WEXITSTATUS(status) == 0;
}
#endif

START_TEST(test_default_profile_enforced) {
        _cleanup_(seccomp_profile_freep) SeccompProfile *p = NULL;

        ck_assert_int_eq(seccomp_profile_default(&p), 0);
        ck_assert_int_eq(under_profile(p, capability_docker_default(), default_profile_checks), 0);
}
END_TEST

#if defined(__x86_64__)
/* Registered only where the machine has the i386 entry (main()); where it has
 * none, test_default_profile_compat_arches still checks the same calls
 * through the simulator. */
START_TEST(test_default_profile_compat_enforced) {
        _cleanup_(seccomp_profile_freep) SeccompProfile *p = NULL;

        ck_assert_int_eq(seccomp_profile_default(&p), 0);
        ck_assert_int_eq(under_profile(p, capability_docker_default(), compat_checks), 0);
}
END_TEST
#endif

/* What the filter answers for one syscall as the kernel describes it, simulated. */
static uint32_t answer_nr(const SeccompBpf *b, uint32_t arch, int nr, uint64_t a0) {
        struct seccomp_data d = { .nr = nr, .arch = arch, .args = { a0 } };

        return seccomp_sim_run(b->filter, b->len, &d);
}

static uint32_t answer(const SeccompBpf *b, uint32_t arch, const char *name, uint64_t a0) {
        int nr = seccomp_syscall_resolve_name_arch(arch, name);

        ck_assert_int_ge(nr, 0);
        return answer_nr(b, arch, nr, a0);
}

static void export_profile(const char *json, SeccompBpf *ret) {
        _cleanup_(seccomp_profile_freep) SeccompProfile *p = NULL;

        if (json)
                ck_assert_int_eq(seccomp_profile_parse(json, &p), 0);
        else
                ck_assert_int_eq(seccomp_profile_default(&p), 0);
        ck_assert_int_eq(seccomp_profile_export(p, capability_docker_default(), ret), 0);
}

/* The compat architectures are in the filter and refuse what the native one
 * refuses: the calls of default_profile_checks() as an i386 and an x32
 * process make them, simulated, so that a machine without a 32-bit entry
 * checks them too. */
START_TEST(test_default_profile_compat_arches) {
        _cleanup_(seccomp_profile_freep) SeccompProfile *p = NULL;
        scmp_filter_ctx ctx;

        ck_assert_int_eq(seccomp_profile_default(&p), 0);
        ck_assert_int_eq(seccomp_profile_compile(p, 0, &ctx), 0);
#if defined(__x86_64__)
        SeccompBpf b = {};

        ck_assert_int_eq(seccomp_arch_exist(ctx, SCMP_ARCH_X86), 0);
        ck_assert_int_eq(seccomp_arch_exist(ctx, SCMP_ARCH_X32), 0);
        seccomp_release(ctx);

        export_profile(NULL, &b);
        ck_assert_uint_eq(answer_nr(&b, SCMP_ARCH_X86, I386_unshare, CLONE_NEWNS), SCMP_ACT_ERRNO(EPERM));
        ck_assert_uint_eq(answer(&b, SCMP_ARCH_X86, "keyctl", 0), SCMP_ACT_ERRNO(EPERM));
        ck_assert_uint_eq(answer(&b, SCMP_ARCH_X86, "bpf", 0), SCMP_ACT_ERRNO(EPERM));
        ck_assert_uint_eq(answer(&b, SCMP_ARCH_X86, "setns", 0), SCMP_ACT_ERRNO(EPERM));
        ck_assert_uint_eq(answer(&b, SCMP_ARCH_X86, "kcmp", 0), SCMP_ACT_ERRNO(EPERM));
        ck_assert_uint_eq(answer(&b, SCMP_ARCH_X86, "clone3", 0), SCMP_ACT_ERRNO(ENOSYS));
        ck_assert_uint_eq(answer(&b, SCMP_ARCH_X86, "personality", PER_BSD), SCMP_ACT_ERRNO(EPERM));
        ck_assert_uint_eq(answer(&b, SCMP_ARCH_X86, "personality", 0xffffffff), SCMP_ACT_ALLOW);
        ck_assert_uint_eq(answer_nr(&b, SCMP_ARCH_X86, I386_getpid, 0), SCMP_ACT_ALLOW);
        /* x32 calls come as x86-64 ones with bit 30 set. */
        ck_assert_uint_eq(answer_nr(&b, SCMP_ARCH_X86_64, X32(SYS_unshare), CLONE_NEWNS), SCMP_ACT_ERRNO(EPERM));
        ck_assert_uint_eq(answer_nr(&b, SCMP_ARCH_X86_64, X32(SYS_keyctl), 0), SCMP_ACT_ERRNO(EPERM));
        ck_assert_uint_eq(answer_nr(&b, SCMP_ARCH_X86_64, X32(SYS_bpf), 0), SCMP_ACT_ERRNO(EPERM));
        ck_assert_uint_eq(answer_nr(&b, SCMP_ARCH_X86_64, X32(SYS_setns), 0), SCMP_ACT_ERRNO(EPERM));
        ck_assert_uint_eq(answer_nr(&b, SCMP_ARCH_X86_64, X32(SYS_getpid), 0), SCMP_ACT_ALLOW);
        seccomp_bpf_done(&b);
#else
        seccomp_release(ctx);
#endif
}
END_TEST

/* Where socketcall(2) multiplexes the socket calls, libseccomp turns a rule
 * on socket(2) into one on socketcall(SYS_SOCKET) and drops its argument
 * checks (they cannot be made: the arguments are in memory), which allowed
 * socketcall(SYS_SOCKET, {AF_VSOCK, ...}) from any x86-64 process. */
START_TEST(test_default_socket_family_through_socketcall) {
        SeccompBpf b = {};
        uint32_t native = seccomp_arch_native();

        export_profile(NULL, &b);
        ck_assert_uint_eq(answer(&b, native, "socket", AF_VSOCK), SCMP_ACT_ERRNO(EPERM));
        ck_assert_uint_eq(answer(&b, native, "socket", AF_INET), SCMP_ACT_ALLOW);
        ck_assert_uint_eq(answer(&b, native, "socket", AF_UNIX), SCMP_ACT_ALLOW);
        ck_assert_uint_eq(answer(&b, native, "getpid", 0), SCMP_ACT_ALLOW);
#if defined(__x86_64__)
        ck_assert_uint_eq(answer_nr(&b, SCMP_ARCH_X86_64, X32(SYS_socket), AF_VSOCK), SCMP_ACT_ERRNO(EPERM));
        ck_assert_uint_eq(answer_nr(&b, SCMP_ARCH_X86_64, X32(SYS_socket), AF_INET), SCMP_ACT_ALLOW);
        ck_assert_uint_eq(answer_nr(&b, SCMP_ARCH_X86, I386_socket, AF_VSOCK), SCMP_ACT_ERRNO(EPERM));
        ck_assert_uint_eq(answer_nr(&b, SCMP_ARCH_X86, I386_socket, AF_INET), SCMP_ACT_ALLOW);
        /* The family is in memory: socketcall(SYS_SOCKET) is refused whatever
         * it points to, as if the multiplexer did not exist. */
        ck_assert_uint_eq(answer_nr(&b, SCMP_ARCH_X86, I386_socketcall, SYS_SOCKET), SCMP_ACT_ERRNO(ENOSYS));
        /* The kernel reads the call number as an int. */
        ck_assert_uint_eq(answer_nr(&b, SCMP_ARCH_X86, I386_socketcall, UINT64_C(1) << 32 | SYS_SOCKET),
                          SCMP_ACT_ERRNO(ENOSYS));
        /* The calls that choose no family stay as Docker has them. */
        ck_assert_uint_eq(answer_nr(&b, SCMP_ARCH_X86, I386_socketcall, SYS_CONNECT), SCMP_ACT_ALLOW);
        ck_assert_uint_eq(answer_nr(&b, SCMP_ARCH_X86, I386_socketcall, SYS_SENDMSG), SCMP_ACT_ALLOW);
        ck_assert_uint_eq(answer_nr(&b, SCMP_ARCH_X86, I386_socketcall, SYS_SOCKETPAIR), SCMP_ACT_ALLOW);
        ck_assert_uint_eq(answer_nr(&b, SCMP_ARCH_X86, I386_getpid, 0), SCMP_ACT_ALLOW);
        ck_assert_uint_eq(answer_nr(&b, SCMP_ARCH_X86, I386_unshare, CLONE_NEWNS), SCMP_ACT_ERRNO(EPERM));
#endif
        seccomp_bpf_done(&b);
}
END_TEST

/* The same holds for any profile's rules, in Docker's JSON format. */
START_TEST(test_json_socket_family_through_socketcall) {
        SeccompBpf b = {};
        uint32_t native = seccomp_arch_native();

        export_profile("{\"defaultAction\": \"SCMP_ACT_ERRNO\","
                       " \"archMap\": [{\"architecture\": \"SCMP_ARCH_X86_64\","
                       "               \"subArchitectures\": [\"SCMP_ARCH_X86\", \"SCMP_ARCH_X32\"]}],"
                       " \"syscalls\": ["
                       "  {\"names\": [\"socketcall\", \"connect\", \"getpid\"], \"action\": \"SCMP_ACT_ALLOW\"},"
                       "  {\"names\": [\"socket\"], \"action\": \"SCMP_ACT_ALLOW\","
                       "   \"args\": [{\"index\": 0, \"value\": 1, \"op\": \"SCMP_CMP_EQ\"}]},"
                       "  {\"names\": [\"socketpair\"], \"action\": \"SCMP_ACT_ALLOW\","
                       "   \"args\": [{\"index\": 0, \"value\": 1, \"op\": \"SCMP_CMP_EQ\"}]}"
                       " ]}", &b);
        ck_assert_uint_eq(answer(&b, native, "socket", AF_UNIX), SCMP_ACT_ALLOW);
        ck_assert_uint_eq(answer(&b, native, "socket", AF_INET), SCMP_ACT_ERRNO(EPERM));
#if defined(__x86_64__)
        ck_assert_uint_eq(answer_nr(&b, SCMP_ARCH_X86, I386_socket, AF_UNIX), SCMP_ACT_ALLOW);
        ck_assert_uint_eq(answer_nr(&b, SCMP_ARCH_X86, I386_socket, AF_INET), SCMP_ACT_ERRNO(EPERM));
        ck_assert_uint_eq(answer_nr(&b, SCMP_ARCH_X86, I386_socketcall, SYS_SOCKET), SCMP_ACT_ERRNO(ENOSYS));
        ck_assert_uint_eq(answer_nr(&b, SCMP_ARCH_X86, I386_socketcall, SYS_SOCKETPAIR), SCMP_ACT_ERRNO(ENOSYS));
        ck_assert_uint_eq(answer_nr(&b, SCMP_ARCH_X86, I386_socketcall, SYS_CONNECT), SCMP_ACT_ALLOW);
#endif
        seccomp_bpf_done(&b);

        /* A socket rule without arguments loses nothing through socketcall:
         * 32-bit programs keep it. */
        export_profile("{\"defaultAction\": \"SCMP_ACT_ERRNO\","
                       " \"architectures\": [\"SCMP_ARCH_X86\"],"
                       " \"syscalls\": [{\"names\": [\"socket\", \"socketcall\"], \"action\": \"SCMP_ACT_ALLOW\"}]}",
                       &b);
        ck_assert_uint_eq(answer(&b, native, "socket", AF_INET), SCMP_ACT_ALLOW);
#if defined(__x86_64__)
        ck_assert_uint_eq(answer_nr(&b, SCMP_ARCH_X86, I386_socketcall, SYS_SOCKET), SCMP_ACT_ALLOW);
#endif
        seccomp_bpf_done(&b);
}
END_TEST

static int json_profile_checks(void) {
        int fails = 0;

        fails += expect(syscall(SYS_getpid), ENOSYS);
        fails += expect(personality(PER_BSD), EPERM);
        fails += personality(8) < 0;
        fails += expect(mkdir("/nonexistent-dir/x", 0755), EPERM);
        return fails;
}

START_TEST(test_json_profile_enforced) {
        _cleanup_(seccomp_profile_freep) SeccompProfile *p = NULL;
        const char *json =
                "{\"defaultAction\": \"SCMP_ACT_ALLOW\", \"syscalls\": ["
                " {\"names\": [\"getpid\"], \"action\": \"SCMP_ACT_ERRNO\", \"errnoRet\": 38},"
                " {\"names\": [\"mkdir\", \"mkdirat\"], \"action\": \"SCMP_ACT_ERRNO\"},"
                " {\"names\": [\"personality\"], \"action\": \"SCMP_ACT_ERRNO\","
                "  \"args\": [{\"index\": 0, \"value\": 8, \"op\": \"SCMP_CMP_NE\"}]}]}";

        ck_assert_int_eq(seccomp_profile_parse(json, &p), 0);
        ck_assert_int_eq(under_profile(p, 0, json_profile_checks), 0);
}
END_TEST

START_TEST(test_mode_strings) {
        for (int m = 0; m < _SECCOMP_MODE_MAX; m++)
                ck_assert_int_eq(seccomp_mode_from_string(seccomp_mode_to_string(m)), m);
        ck_assert_int_eq(seccomp_mode_from_string("strict"), _SECCOMP_MODE_INVALID);
}
END_TEST

static Suite *seccomp_suite(void) {
        Suite *s = suite_create("seccomp-profile");
        TCase *tc = tcase_create("core");

        tcase_add_test(tc, test_parse_docker_format);
        tcase_add_test(tc, test_parse_errors);
        tcase_add_test(tc, test_default_profile_enforced);
        tcase_add_test(tc, test_default_profile_compat_arches);
        tcase_add_test(tc, test_default_socket_family_through_socketcall);
        tcase_add_test(tc, test_json_socket_family_through_socketcall);
        tcase_add_test(tc, test_json_profile_enforced);
        tcase_add_test(tc, test_mode_strings);
        suite_add_tcase(s, tc);
        return s;
}

int main(void) {
        Suite *s = seccomp_suite();
        SRunner *sr;
        int failed;

#if defined(__x86_64__)
        /* Not counted where it cannot run, rather than counted as passed. */
        if (have_i386_entry()) {
                TCase *tc = tcase_create("compat-live");
                tcase_add_test(tc, test_default_profile_compat_enforced);
                suite_add_tcase(s, tc);
        } else
                printf("No i386 syscall entry here: compat enforcement is checked through the simulator only.\n");
#endif
        sr = srunner_create(s);

        srunner_run_all(sr, CK_NORMAL);
        failed = srunner_ntests_failed(sr);
        srunner_free(sr);
        return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
