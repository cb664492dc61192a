/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* sec-probe: the syscalls the security integration test makes from inside a
 * busybox container, where nothing else can make them, and one look at a
 * container's filter from outside. Static: the image has no libc. Each
 * command prints one line per result, "ok" or "failed: <why>".
 *
 *   socket FAMILY          socket(2) of FAMILY (vsock, inet, unix)
 *   socket-i386 FAMILY     the same through the i386 entry (int $0x80)
 *   socketcall-i386 FAMILY socketcall(SYS_SOCKET, ...) through the i386 entry
 *   trace-child            PTRACE_TRACEME in a child, PTRACE_ATTACH to another,
 *                          process_vm_readv of it
 *   attach PID             PTRACE_ATTACH to PID, then detach
 *   filter PID             what PID's newest seccomp filter answers to the
 *                          socket calls of each x86 ABI (needs CAP_SYS_ADMIN)
 */
#include <errno.h>
#include <linux/net.h>
#include <setjmp.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/ptrace.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/uio.h>
#include <sys/wait.h>
#include <unistd.h>

#include "seccomp-sim.h"

#ifndef PTRACE_SECCOMP_GET_FILTER
#define PTRACE_SECCOMP_GET_FILTER 0x420c
#endif
#define AUDIT_I386 UINT32_C(0x40000003)
#define AUDIT_X86_64 UINT32_C(0xc000003e)
#define I386_getpid 20
#define I386_socketcall 102
#define I386_socket 359

static int result(long r, int err) {
        if (r >= 0) {
                puts("ok");
                return 0;
        }
        printf("failed: %s\n", strerror(err));
        return 1;
}

static int parse_family(const char *s) {
        if (strcmp(s, "vsock") == 0)
                return AF_VSOCK;
        if (strcmp(s, "inet") == 0)
                return AF_INET;
        if (strcmp(s, "unix") == 0)
                return AF_UNIX;
        fprintf(stderr, "unknown family %s\n", s);
        exit(2);
}

#if defined(__x86_64__)
static sigjmp_buf no_ia32;

static void on_segv(int sig) {
        siglongjmp(no_ia32, 1);
}

static long int80(long nr, long a1, long a2, long a3) {
        long r;

        __asm__ volatile("int $0x80" : "=a"(r) : "a"(nr), "b"(a1), "c"(a2), "d"(a3)
                         : "memory", "r8", "r9", "r10", "r11");
        return r;
}

/* Some kernels have no ia32 entry (CONFIG_IA32_EMULATION off, or
 * ia32_emulation=0): int $0x80 faults there. Says so, exit status 3. */
static void need_ia32(void) {
        struct sigaction sa = { .sa_handler = on_segv }, old;

        sigaction(SIGSEGV, &sa, &old);
        if (sigsetjmp(no_ia32, 1) != 0 || int80(I386_getpid, 0, 0, 0) != getpid()) {
                puts("no ia32 entry");
                exit(3);
        }
        sigaction(SIGSEGV, &old, NULL);
}

static int socket_i386(int family, int multiplexed) {
        /* socketcall's arguments, where a 32-bit pointer reaches them. */
        uint32_t *args = mmap(NULL, 4096, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_32BIT, -1, 0);
        long r;

        need_ia32();
        if (args == MAP_FAILED)
                return result(-1, errno);
        args[0] = (uint32_t) family;
        args[1] = family == AF_INET ? SOCK_DGRAM : SOCK_STREAM;
        args[2] = 0;
        if (multiplexed)
                r = int80(I386_socketcall, SYS_SOCKET, (long) (uintptr_t) args, 0);
        else
                r = int80(I386_socket, args[0], args[1], args[2]);
        return result(r, (int) -r);
}
#else
static int socket_i386(int family, int multiplexed) {
        puts("no ia32 entry");
        return 3;
}
#endif

static int step_failed(const char *step, int err) {
        printf("failed: %s: %s\n", step, strerror(err));
        return 1;
}

/* A child that stops itself under PTRACE_TRACEME and goes on when told. */
static int trace_me(void) {
        int status;
        pid_t pid = fork();

        if (pid < 0)
                return step_failed("fork", errno);
        if (pid == 0) {
                if (ptrace(PTRACE_TRACEME, 0, NULL, NULL) < 0)
                        _exit(10);
                raise(SIGSTOP);
                _exit(7);
        }
        if (waitpid(pid, &status, 0) != pid)
                return step_failed("waitpid", errno);
        if (WIFEXITED(status))
                return step_failed("PTRACE_TRACEME", EPERM);
        if (!WIFSTOPPED(status) || ptrace(PTRACE_CONT, pid, NULL, NULL) < 0)
                return step_failed("PTRACE_CONT", errno);
        if (waitpid(pid, &status, 0) != pid || !WIFEXITED(status) || WEXITSTATUS(status) != 7)
                return step_failed("traced child's exit", ECHILD);
        return 0;
}

/* A running child, attached to and read from, as gdb -p does. */
static int attach_child(void) {
        static char word[] = "berth";
        char got[sizeof word] = "";
        struct iovec local = { got, sizeof got }, remote = { word, sizeof word };
        int status, r = 0;
        pid_t pid = fork();

        if (pid < 0)
                return step_failed("fork", errno);
        if (pid == 0) {
                for (;;)
                        pause();
        }
        if (ptrace(PTRACE_ATTACH, pid, NULL, NULL) < 0)
                r = step_failed("PTRACE_ATTACH", errno);
        else if (waitpid(pid, &status, 0) != pid || !WIFSTOPPED(status))
                r = step_failed("waitpid", errno);
        else if (process_vm_readv(pid, &local, 1, &remote, 1, 0) != sizeof word || strcmp(got, word) != 0)
                r = step_failed("process_vm_readv", errno);
        else if (ptrace(PTRACE_DETACH, pid, NULL, NULL) < 0)
                r = step_failed("PTRACE_DETACH", errno);
        kill(pid, SIGKILL);
        waitpid(pid, NULL, 0);
        return r;
}

static int trace_child(void) {
        int r = trace_me();

        if (r == 0)
                r = attach_child();
        if (r == 0)
                puts("ok");
        return r;
}

static int attach(pid_t pid) {
        int status;

        if (ptrace(PTRACE_ATTACH, pid, NULL, NULL) < 0)
                return result(-1, errno);
        if (waitpid(pid, &status, __WALL) != pid)
                return result(-1, errno);
        (void) ptrace(PTRACE_DETACH, pid, NULL, NULL);
        return result(0, 0);
}

static void print_answer(const char *what, const struct sock_filter *prog, size_t len, uint32_t arch,
                         int nr, uint64_t a0) {
        struct seccomp_data d = { .nr = nr, .arch = arch, .args = { a0 } };
        uint32_t v = seccomp_sim_run(prog, len, &d);

        if (v == SECCOMP_RET_ALLOW)
                printf("%s: allow\n", what);
        else if ((v & SECCOMP_RET_ACTION_FULL) == SECCOMP_RET_ERRNO)
                printf("%s: errno %u\n", what, v & SECCOMP_RET_DATA);
        else
                printf("%s: action %#x\n", what, v);
}

static int filter(pid_t pid) {
        struct sock_filter *prog;
        long len;
        int status;

        if (ptrace(PTRACE_ATTACH, pid, NULL, NULL) < 0 || waitpid(pid, &status, __WALL) != pid)
                return result(-1, errno);
        len = ptrace(PTRACE_SECCOMP_GET_FILTER, pid, 0, NULL);
        prog = len > 0 ? calloc((size_t) len, sizeof *prog) : NULL;
        if (!prog || ptrace(PTRACE_SECCOMP_GET_FILTER, pid, 0, prog) != len) {
                int err = len < 0 ? errno : ENOMEM;

                (void) ptrace(PTRACE_DETACH, pid, NULL, NULL);
                return result(-1, err);
        }
        (void) ptrace(PTRACE_DETACH, pid, NULL, NULL);
#if defined(__x86_64__)
        print_answer("x86_64 socket(AF_VSOCK)", prog, len, AUDIT_X86_64, SYS_socket, AF_VSOCK);
        print_answer("x86_64 socket(AF_INET)", prog, len, AUDIT_X86_64, SYS_socket, AF_INET);
        print_answer("x32 socket(AF_VSOCK)", prog, len, AUDIT_X86_64, SYS_socket | 0x40000000, AF_VSOCK);
        print_answer("i386 socket(AF_VSOCK)", prog, len, AUDIT_I386, I386_socket, AF_VSOCK);
        print_answer("i386 socket(AF_INET)", prog, len, AUDIT_I386, I386_socket, AF_INET);
        print_answer("i386 socketcall(SYS_SOCKET)", prog, len, AUDIT_I386, I386_socketcall, SYS_SOCKET);
        print_answer("i386 socketcall(SYS_CONNECT)", prog, len, AUDIT_I386, I386_socketcall, SYS_CONNECT);
#endif
        free(prog);
        return 0;
}

int main(int argc, char **argv) {
        const char *cmd = argc > 1 ? argv[1] : "";

        setvbuf(stdout, NULL, _IOLBF, 0);
        if (strcmp(cmd, "socket") == 0 && argc == 3) {
                int family = parse_family(argv[2]);
                int fd = socket(family, family == AF_INET ? SOCK_DGRAM : SOCK_STREAM, 0);

                return result(fd, errno);
        }
        if (strcmp(cmd, "socket-i386") == 0 && argc == 3)
                return socket_i386(parse_family(argv[2]), 0);
        if (strcmp(cmd, "socketcall-i386") == 0 && argc == 3)
                return socket_i386(parse_family(argv[2]), 1);
        if (strcmp(cmd, "trace-child") == 0 && argc == 2)
                return trace_child();
        if (strcmp(cmd, "attach") == 0 && argc == 3)
                return attach((pid_t) atoi(argv[2]));
        if (strcmp(cmd, "filter") == 0 && argc == 3)
                return filter((pid_t) atoi(argv[2]));
        fprintf(stderr, "usage: sec-probe socket|socket-i386|socketcall-i386 FAMILY | trace-child | attach PID | filter PID\n");
        return 2;
}
