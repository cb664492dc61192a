/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Runs real containers on a busybox root (needs root and busybox-static). */
#include <check.h>
#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <linux/keyctl.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/stat.h>
#include <sys/wait.h>

#include "capabilities.h"
#include "fileio.h"
#include "runtime.h"

static char base[] = "/var/tmp/berth-test-runtime.XXXXXX";
static char lower[PATH_MAX], lower2[PATH_MAX];

static const char * const applets[] = {
        "sh", "echo", "id", "cat", "ls", "hostname", "grep", "mount", "unshare", "touch",
        "pwd", "env", "sleep", "true", "false", "wc", "mkdir", "tty", "head", "sort", "test",
        "tr", "readlink", "ln",
};

static void write_file(const char *dir, const char *name, const char *content, mode_t mode) {
        _cleanup_free_ char *p = strjoin(dir, "/", name);
        _cleanup_close_ int fd = open(p, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, mode);

        ck_assert_int_ge(fd, 0);
        ck_assert_int_eq(write(fd, content, strlen(content)), (ssize_t) strlen(content));
}

static void make_rootfs(void) {
        _cleanup_free_ char *bin = NULL, *etc = NULL;
        char cmd[PATH_MAX * 2];

        ck_assert_ptr_nonnull(mkdtemp(base));
        snprintf(lower, sizeof lower, "%s/lower", base);
        snprintf(lower2, sizeof lower2, "%s/lower2", base);
        bin = strjoin(lower, "/bin");
        etc = strjoin(lower, "/etc");
        ck_assert_int_eq(mkdir_p(bin, 0755), 0);
        ck_assert_int_eq(mkdir_p(etc, 0755), 0);
        ck_assert_int_eq(mkdir_p(lower2, 0755), 0);
        snprintf(cmd, sizeof cmd, "cp /bin/busybox %s/busybox", bin);
        ck_assert_int_eq(system(cmd), 0);
        for (size_t i = 0; i < ELEMENTSOF(applets); i++) {
                _cleanup_free_ char *l = strjoin(bin, "/", applets[i]);
                ck_assert_int_eq(symlink("busybox", l), 0);
        }
        write_file(etc, "passwd",
                   "root:x:0:0:root:/root:/bin/sh\n"
                   "alice:x:1000:1000:Alice:/home/alice:/bin/sh\n", 0644);
        write_file(etc, "group", "root:x:0:\nalice:x:1000:\nstaff:x:50:alice\naudio:x:29:bob,alice\n", 0644);
        write_file(etc, "layer", "bottom\n", 0644);
        write_file(lower, "notexec", "#!/bin/sh\necho never\n", 0644);
        write_file(lower2, "upper-layer", "top\n", 0644);
}

static void remove_rootfs(void) {
        char cmd[PATH_MAX];

        /* Nothing may be left mounted below base; rm would fail on a busy mount. */
        snprintf(cmd, sizeof cmd, "rm -rf --one-file-system %s", base);
        (void) system(cmd);
}

typedef struct Run {
        RuntimeSpec spec;
        char *lowers[4];
        char upper[PATH_MAX], work[PATH_MAX], rootfs[PATH_MAX];
        char *argv[8];
        char output[16384];
        int status;
        RuntimeError error;
        int release;
} Run;

static int counter;

static void run_init(Run *r, const char *script) {
        char dir[256];

        *r = (Run) {};
        /* Each test runs in a fork of its own: the pid keeps the dirs apart
         * (a volatile overlay's work dir cannot be mounted again). */
        snprintf(dir, sizeof dir, "%s/c%d-%d", base, (int) getpid(), counter++);
        snprintf(r->upper, sizeof r->upper, "%s/upper", dir);
        snprintf(r->work, sizeof r->work, "%s/work", dir);
        snprintf(r->rootfs, sizeof r->rootfs, "%s/rootfs", dir);
        ck_assert_int_eq(mkdir_p(r->upper, 0755), 0);
        ck_assert_int_eq(mkdir_p(r->work, 0700), 0);
        ck_assert_int_eq(mkdir_p(r->rootfs, 0755), 0);
        r->lowers[0] = lower2;
        r->lowers[1] = lower;
        r->argv[0] = (char *) "sh";
        r->argv[1] = (char *) "-c";
        r->argv[2] = (char *) script;
        r->spec = (RuntimeSpec) {
                .name = "berth-test", .hostname = "berth-test",
                .lowerdirs = r->lowers, .upperdir = r->upper, .workdir = r->work, .rootfs = r->rootfs,
                .network = RUNTIME_NETWORK_NONE,
        };
        runtime_process_spec_init(&r->spec.process);
        r->spec.process.argv = r->argv;
}

static void read_all(int fd, char *buf, size_t size) {
        size_t n = 0;
        ssize_t k;

        while (n < size - 1 && (k = read(fd, buf + n, size - 1 - n)) > 0)
                n += k;
        buf[n] = 0;
}

/* Runs the container to its end; output is stdout and stderr together. */
static int run_go(Run *r) {
        RuntimeProcess p = RUNTIME_PROCESS_NULL;
        _cleanup_close_ int rd = -EBADF;
        int pipefd[2], k;

        ck_assert_int_eq(pipe2(pipefd, O_CLOEXEC), 0);
        rd = pipefd[0];
        r->spec.process.stdout_fd = r->spec.process.stderr_fd = pipefd[1];
        k = runtime_spawn(&r->spec, &p);
        safe_close(pipefd[1]);
        if (k < 0)
                return k;
        r->release = runtime_release(&p, UINT64_MAX, &r->error);
        read_all(rd, r->output, sizeof r->output);
        ck_assert_int_eq(runtime_wait(&p, &r->status), 0);
        runtime_process_done(&p);
        return r->release;
}

/* Runs script and returns its output; the exit status must be 0. */
static const char *run_script(Run *r, const char *script) {
        if (script)
                r->argv[2] = (char *) script;
        ck_assert_int_eq(run_go(r), 0);
        ck_assert_msg(r->status == 0, "status %d, output: %s", r->status, r->output);
        return r->output;
}

static const char *run_simple(const char *script) {
        static Run r;

        run_init(&r, script);
        return run_script(&r, NULL);
}

START_TEST(test_pid1_hostname_proc) {
        ck_assert_str_eq(run_simple("echo $$; hostname; echo /proc/[0-9]*"),
                         "1\nberth-test\n/proc/1\n");
}
END_TEST

START_TEST(test_env_exact) {
        Run r;
        char *env[] = { (char *) "FOO=bar baz", NULL };

        run_init(&r, NULL);
        r.argv[0] = (char *) "env";
        r.argv[1] = NULL;
        r.spec.process.env = env;
        run_script(&r, NULL);
        ck_assert_str_eq(r.output,
                         "FOO=bar baz\n"
                         "PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin\n"
                         "HOSTNAME=berth-test\n"
                         "HOME=/root\n");
}
END_TEST

START_TEST(test_cwd) {
        Run r;

        run_init(&r, "pwd; test -d /work/dir && echo dir");
        r.spec.process.cwd = "/work/dir";
        ck_assert_str_eq(run_script(&r, NULL), "/work/dir\ndir\n");
}
END_TEST

static void check_user(const char *user, const char *expected) {
        Run r;

        run_init(&r, "id -u; id -g; id -G; echo $HOME");
        r.spec.process.user = user;
        ck_assert_str_eq(run_script(&r, NULL), expected);
}

START_TEST(test_users) {
        check_user(NULL, "0\n0\n0\n/root\n");
        check_user("alice", "1000\n1000\n1000 29 50\n/home/alice\n");
        check_user("1000:50", "1000\n50\n50 29\n/home/alice\n");
        check_user("alice:audio", "1000\n29\n29 50\n/home/alice\n");
        check_user("4242", "4242\n0\n0\n/\n");
}
END_TEST

START_TEST(test_unknown_user) {
        Run r;

        run_init(&r, "echo never");
        r.spec.process.user = "mallory";
        ck_assert_int_eq(run_go(&r), -ESRCH);
        ck_assert_int_eq(r.status, 125);
        ck_assert_int_eq(r.error.exit_code, 125);
        ck_assert_int_eq(r.error.stage, SETUP_STAGE_USER);
        ck_assert_str_eq(r.error.message, "resolve user mallory: no matching entries in passwd or group file");
        ck_assert_str_eq(r.output, "");
}
END_TEST

static uint64_t status_mask(const char *out, const char *field) {
        const char *p = strstr(out, field);

        ck_assert_msg(p, "no %s in %s", field, out);
        return strtoull(p + strlen(field), NULL, 16);
}

START_TEST(test_capabilities) {
        const char *script = "grep -E '^Cap' /proc/self/status";
        uint64_t net_admin = UINT64_C(1) << CAP_NET_ADMIN, chown_bit = UINT64_C(1) << CAP_CHOWN;
        char *add[] = { (char *) "net_admin", NULL }, *drop[] = { (char *) "CAP_CHOWN", NULL };
        const char *out;
        Run r;

        out = run_simple(script);
        ck_assert_uint_eq(status_mask(out, "CapEff:"), capability_docker_default());
        ck_assert_uint_eq(status_mask(out, "CapBnd:"), capability_docker_default());
        ck_assert_uint_eq(status_mask(out, "CapPrm:"), capability_docker_default());
        ck_assert_uint_eq(status_mask(out, "CapInh:"), 0);
        ck_assert_uint_eq(status_mask(out, "CapAmb:"), 0);

        run_init(&r, script);
        r.spec.process.cap_add = add;
        r.spec.process.cap_drop = drop;
        out = run_script(&r, NULL);
        ck_assert_uint_eq(status_mask(out, "CapEff:"), (capability_docker_default() | net_admin) & ~chown_bit);

        /* A non-root user keeps the bounding set but no effective capability. */
        run_init(&r, script);
        r.spec.process.user = "alice";
        out = run_script(&r, NULL);
        ck_assert_uint_eq(status_mask(out, "CapEff:"), 0);
        ck_assert_uint_eq(status_mask(out, "CapBnd:"), capability_docker_default());
}
END_TEST

START_TEST(test_seccomp_and_nnp) {
        const char *script = "grep -E '^(Seccomp|NoNewPrivs):' /proc/self/status; "
                             "mkdir -p /mnt; unshare -n true && echo unshare-ok; mount -t tmpfs t /mnt && echo mount-ok; true";
        char *add[] = { (char *) "SYS_ADMIN", NULL };
        const char *out;
        Run r;

        /* CAP_SYS_ADMIN is given, so that only seccomp can be what refuses. */
        run_init(&r, script);
        r.spec.process.cap_add = add;
        out = run_script(&r, NULL);
        ck_assert_msg(strstr(out, "Seccomp:\t2\n"), "%s", out);
        ck_assert_msg(strstr(out, "NoNewPrivs:\t0\n"), "%s", out);
        ck_assert_msg(!strstr(out, "unshare-ok") && !strstr(out, "mount-ok"), "%s", out);
        ck_assert_msg(strstr(out, "Operation not permitted"), "%s", out);

        run_init(&r, script);
        r.spec.process.cap_add = add;
        r.spec.process.seccomp = SECCOMP_MODE_UNCONFINED;
        r.spec.process.no_new_privs = true;
        out = run_script(&r, NULL);
        ck_assert_msg(strstr(out, "Seccomp:\t0\n"), "%s", out);
        ck_assert_msg(strstr(out, "NoNewPrivs:\t1\n"), "%s", out);
        ck_assert_msg(strstr(out, "unshare-ok") && strstr(out, "mount-ok"), "%s", out);
}
END_TEST

START_TEST(test_seccomp_json_profile) {
        _cleanup_free_ char *profile = strjoin(base, "/profile.json");
        Run r;

        write_file(base, "profile.json",
                   "{\"defaultAction\": \"SCMP_ACT_ALLOW\", \"syscalls\": ["
                   "{\"names\": [\"mkdir\", \"mkdirat\"], \"action\": \"SCMP_ACT_ERRNO\", \"errnoRet\": 18}]}", 0644);
        run_init(&r, "mkdir /newdir; grep -E '^Seccomp:' /proc/self/status");
        r.spec.process.seccomp = SECCOMP_MODE_PROFILE;
        r.spec.process.seccomp_profile = profile;
        run_script(&r, NULL);
        ck_assert_msg(strstr(r.output, "Invalid cross-device link") && strstr(r.output, "Seccomp:\t2"),
                      "%s", r.output);
}
END_TEST

START_TEST(test_no_stray_fds) {
        _cleanup_close_ int stray = open("/dev/null", O_RDONLY); /* not CLOEXEC on purpose */
        Run r;

        ck_assert_int_ge(stray, 3);
        run_init(&r, NULL);
        r.argv[0] = (char *) "ls";
        r.argv[1] = (char *) "/proc/self/fd";
        r.argv[2] = NULL;
        /* ls itself holds the directory open as 3. */
        ck_assert_str_eq(run_script(&r, NULL), "0\n1\n2\n3\n");
}
END_TEST

START_TEST(test_masked_and_readonly_paths) {
        const char *out = run_simple(
                "cat /proc/keys /proc/timer_list | wc -c; ls -A /sys/firmware | wc -l; ls -A /proc/acpi | wc -l; "
                "grep -c ' /proc/sys ro,' /proc/self/mountinfo; grep -c ' /sys ro,' /proc/self/mountinfo; "
                "grep -c ' /sys/fs/cgroup ro,' /proc/self/mountinfo; "
                "touch /sys/x 2>/dev/null || echo sys-ro; (echo 1 > /proc/sys/kernel/hostname) 2>/dev/null || echo procsys-ro");

        ck_assert_str_eq(out, "0\n0\n0\n1\n1\n1\nsys-ro\nprocsys-ro\n");
}
END_TEST

START_TEST(test_privileged_unmasked) {
        Run r;

        run_init(&r, "grep -c ' /proc/sys ro,' /proc/self/mountinfo; grep -E '^(CapEff|Seccomp):' /proc/self/status");
        r.spec.process.privileged = true;
        run_go(&r);
        ck_assert_msg(strstr(r.output, "0\n") == r.output, "%s", r.output);
        ck_assert_msg(strstr(r.output, "Seccomp:\t0"), "%s", r.output);
        ck_assert_uint_ne(status_mask(r.output, "CapEff:"), capability_docker_default());
}
END_TEST

START_TEST(test_readonly_rootfs) {
        Run r;

        run_init(&r, "touch /x 2>/dev/null || echo root-ro; touch /dev/shm/x && echo shm-rw");
        r.spec.readonly_rootfs = true;
        ck_assert_str_eq(run_script(&r, NULL), "root-ro\nshm-rw\n");
}
END_TEST

START_TEST(test_mounts) {
        _cleanup_free_ char *ro = strjoin(base, "/ro-src"), *rw = strjoin(base, "/rw-src"), *check = NULL;
        _cleanup_free_ char *hosts = strjoin(base, "/hosts");
        MountSpec m[3] = {};
        Run r;

        ck_assert_int_eq(mkdir_p(ro, 0755), 0);
        ck_assert_int_eq(mkdir_p(rw, 0755), 0);
        write_file(ro, "f", "from-host\n", 0644);
        write_file(base, "hosts", "127.0.0.1 localhost berth-test\n", 0644);
        m[0] = (MountSpec) { .type = MOUNT_TYPE_BIND, .source = ro, .target = (char *) "/data", .read_only = true };
        m[1] = (MountSpec) { .type = MOUNT_TYPE_BIND, .source = rw, .target = (char *) "/deep/rw" };
        ck_assert_int_eq(mount_spec_parse_tmpfs("/scratch:size=1m,mode=0700", &m[2]), 0);
        run_init(&r, "cat /data/f; touch /data/g 2>/dev/null || echo data-ro; touch /deep/rw/new; "
                     "grep ' /scratch ' /proc/self/mountinfo | grep -o 'nosuid,nodev.*size=1024k,mode=700'; "
                     "cat /etc/hosts; (echo x >> /etc/hosts) 2>/dev/null || echo hosts-ro");
        r.spec.mounts = m;
        r.spec.n_mounts = 3;
        r.spec.hosts_file = hosts;
        r.spec.etc_files_readonly = true;
        ck_assert_str_eq(run_script(&r, NULL),
                         "from-host\ndata-ro\nnosuid,nodev,noexec,relatime - tmpfs tmpfs rw,size=1024k,mode=700\n127.0.0.1 localhost berth-test\nhosts-ro\n");
        check = strjoin(rw, "/new");
        ck_assert_int_eq(access(check, F_OK), 0);
        mount_spec_done(&m[2]);
}
END_TEST

START_TEST(test_exit_codes) {
        Run r;

        run_init(&r, "exit 3");
        ck_assert_int_eq(run_go(&r), 0);
        ck_assert_int_eq(r.status, 3);

        run_init(&r, NULL);
        r.argv[0] = (char *) "no-such-command";
        ck_assert_int_eq(run_go(&r), -ENOENT);
        ck_assert_int_eq(r.status, 127);
        ck_assert_int_eq(r.error.exit_code, 127);
        ck_assert_str_eq(r.error.message, "exec no-such-command: No such file or directory");

        run_init(&r, NULL);
        r.argv[0] = (char *) "/notexec";
        ck_assert_int_eq(run_go(&r), -EACCES);
        ck_assert_int_eq(r.status, 126);
        ck_assert_int_eq(r.error.exit_code, 126);
}
END_TEST

START_TEST(test_setup_error_is_typed) {
        MountSpec m = { .type = MOUNT_TYPE_BIND, .source = (char *) "/nonexistent-berth", .target = (char *) "/x" };
        Run r;

        run_init(&r, "echo never");
        r.spec.mounts = &m;
        r.spec.n_mounts = 1;
        ck_assert_int_eq(run_go(&r), -ENOENT);
        ck_assert_int_eq(r.status, 125);
        ck_assert_str_eq(r.error.message, "mount /nonexistent-berth: No such file or directory");
}
END_TEST

START_TEST(test_no_mounts_left_and_upper) {
        _cleanup_free_ char *before = NULL, *after = NULL, *created = NULL, *in_lower = NULL;
        Run r;

        ck_assert_int_eq(read_full_file_at(AT_FDCWD, "/proc/self/mountinfo", 1 << 20, &before, NULL), 0);
        run_init(&r, "cat /etc/layer /upper-layer; echo new > /created; echo changed > /etc/layer");
        ck_assert_str_eq(run_script(&r, NULL), "bottom\ntop\n");
        ck_assert_int_eq(read_full_file_at(AT_FDCWD, "/proc/self/mountinfo", 1 << 20, &after, NULL), 0);
        ck_assert_str_eq(before, after);

        created = strjoin(r.upper, "/created");
        ck_assert_int_eq(access(created, F_OK), 0);
        in_lower = strjoin(lower, "/created");
        ck_assert_int_eq(access(in_lower, F_OK), -1);
        {
                _cleanup_free_ char *p = strjoin(lower, "/etc/layer"), *c = NULL;
                ck_assert_int_eq(read_full_file_at(AT_FDCWD, p, 4096, &c, NULL), 0);
                ck_assert_str_eq(c, "bottom\n");
        }
}
END_TEST

START_TEST(test_many_layers) {
        char *layers[42] = {};
        char name[PATH_MAX];
        Run r;

        /* Long paths, so that the option string exceeds a page. */
        for (int i = 0; i < 40; i++) {
                snprintf(name, sizeof name, "%s/layer-%02d-%0120d", base, i, 0);
                ck_assert_int_eq(mkdir_p(name, 0755), 0);
                layers[i] = strdup(name);
        }
        write_file(layers[7], "marker", "seven\n", 0644);
        layers[40] = lower;
        run_init(&r, "cat /marker; echo $$");
        r.spec.lowerdirs = layers;
        ck_assert_str_eq(run_script(&r, NULL), "seven\n1\n");
        for (int i = 0; i < 40; i++)
                free(layers[i]);
}
END_TEST

START_TEST(test_network_none) {
        ck_assert_str_eq(run_simple("ls /sys/class/net; cat /sys/class/net/lo/flags"), "lo\n0x9\n");
}
END_TEST

START_TEST(test_network_host) {
        _cleanup_closedir_ DIR *d = opendir("/sys/class/net");
        char expected[4096] = "";
        struct dirent *de;
        Run r;

        /* The host's interfaces, through a read-only bind of the host's /sys. */
        ck_assert_ptr_nonnull(d);
        while ((de = readdir(d)))
                if (de->d_name[0] != '.') {
                        strcat(expected, de->d_name);
                        strcat(expected, " ");
                }
        run_init(&r, "for i in /sys/class/net/*; do echo -n \"${i##*/} \"; done; echo; "
                     "grep -c ' /sys ro,' /proc/self/mountinfo; hostname");
        r.spec.network = RUNTIME_NETWORK_HOST;
        run_script(&r, NULL);
        ck_assert_msg(strstr(r.output, "\n1\nberth-test\n"), "%s", r.output);
        /* readdir order is not sorted; compare as sets by length and members. */
        ck_assert_uint_eq(strcspn(r.output, "\n"), strlen(expected));
        for (char *w = strtok(expected, " "); w; w = strtok(NULL, " "))
                ck_assert_msg(strstr(r.output, w), "%s missing in %s", w, r.output);
}
END_TEST

START_TEST(test_privileged_sys_writable) {
        Run r;

        run_init(&r, "grep -c ' /sys rw,' /proc/self/mountinfo");
        r.spec.process.privileged = true;
        ck_assert_str_eq(run_script(&r, NULL), "1\n");
}
END_TEST

START_TEST(test_mount_target_symlink_stays_inside) {
        _cleanup_free_ char *outside = strjoin(base, "/outside-target"), *link = NULL, *src = NULL;
        MountSpec m = { .type = MOUNT_TYPE_BIND, .target = (char *) "/escape/sub" };
        Run r;

        /* An image may carry a symlink to any host path; following it while
         * creating the mount point must stay inside the container's root. */
        link = strjoin(lower2, "/escape");
        ck_assert_int_eq(symlink(outside, link), 0);
        src = strjoin(base, "/bind-src");
        ck_assert_int_eq(mkdir_p(src, 0755), 0);
        m.source = src;
        run_init(&r, "test -d /escape/sub && echo inside");
        r.spec.mounts = &m;
        r.spec.n_mounts = 1;
        ck_assert_str_eq(run_script(&r, NULL), "inside\n");
        ck_assert_int_eq(access(outside, F_OK), -1);
        ck_assert_int_eq(unlink(link), 0);
}
END_TEST

/* A leader running script with a pipe as stdin, released: the script can
 * wait for a line there, which leader_finish() writes. */
static void leader_start(Run *r, const char *script, RuntimeProcess *leader, int *ret_stdin) {
        int in[2];

        run_init(r, script);
        ck_assert_int_eq(pipe2(in, O_CLOEXEC), 0);
        r->spec.process.stdin_fd = in[0];
        ck_assert_int_eq(runtime_spawn(&r->spec, leader), 0);
        safe_close(in[0]);
        ck_assert_int_eq(runtime_release(leader, UINT64_MAX, NULL), 0);
        *ret_stdin = in[1];
}

static void leader_finish(RuntimeProcess *leader, int stdin_fd, int expected_status) {
        int status;

        ck_assert_int_eq(write(stdin_fd, "go\n", 3), 3);
        safe_close(stdin_fd);
        ck_assert_int_eq(runtime_wait(leader, &status), 0);
        ck_assert_int_eq(status, expected_status);
        runtime_process_done(leader);
}

/* Runs ps in the container of leader to its end, its stdout and stderr in buf. */
static int exec_capture(const RuntimeProcess *leader, RuntimeProcessSpec *ps, char *buf, size_t size,
                        int *ret_status) {
        RuntimeProcess p = RUNTIME_PROCESS_NULL;
        int out[2], r;

        ck_assert_int_eq(pipe2(out, O_CLOEXEC), 0);
        ps->stdout_fd = ps->stderr_fd = out[1];
        r = runtime_exec(leader->pidfd, ps, &p);
        safe_close(out[1]);
        if (r >= 0) {
                ck_assert_int_gt(p.pid, 0);
                r = runtime_release(&p, UINT64_MAX, NULL);
                read_all(out[0], buf, size);
                ck_assert_int_eq(runtime_wait(&p, ret_status), 0);
        }
        safe_close(out[0]);
        runtime_process_done(&p);
        return r;
}

/* The exec'd process is in the container's namespaces, as the user asked
 * for, and holds nothing of ours: no fd (ls holds 3 itself), no capability
 * (the user has none), no binary of the host. */
START_TEST(test_exec) {
        _cleanup_close_ int stray = open(base, O_RDONLY | O_DIRECTORY);
        RuntimeProcess leader = RUNTIME_PROCESS_NULL;
        RuntimeProcessSpec ps;
        char *argv[] = { (char *) "sh", (char *) "-c",
                         (char *) "hostname; set -- /proc/[0-9]*; echo $#; id -u; pwd; "
                                  "ls /proc/self/fd | tr '\\n' ' '; echo; grep CapEff /proc/self/status; "
                                  "readlink /proc/self/exe", NULL };
        int in, status;
        char buf[4096];
        Run r;

        ck_assert_int_ge(stray, 3);
        leader_start(&r, "read line; exit 7", &leader, &in);
        runtime_process_spec_init(&ps);
        ps.argv = argv;
        ps.user = "alice";
        ps.cwd = "/tmp";
        ck_assert_int_eq(exec_capture(&leader, &ps, buf, sizeof buf, &status), 0);
        ck_assert_int_eq(status, 0);
        /* Same UTS and pid namespace: two processes (leader and us), our user. */
        ck_assert_str_eq(buf, "berth-test\n2\n1000\n/tmp\n0 1 2 3 \nCapEff:\t0000000000000000\n/bin/busybox\n");
        leader_finish(&leader, in, 7);
}
END_TEST

START_TEST(test_tty) {
        RuntimeProcess p = RUNTIME_PROCESS_NULL;
        char buf[4096];
        int status;
        Run r;

        run_init(&r, "tty; test -c /dev/console && echo console; echo $TERM");
        r.spec.process.tty = true;
        ck_assert_int_eq(runtime_spawn(&r.spec, &p), 0);
        ck_assert_int_eq(runtime_release(&p, UINT64_MAX, NULL), 0);
        ck_assert_int_ge(p.pty_master, 0);
        ck_assert_int_eq(runtime_wait(&p, &status), 0);
        ck_assert_int_eq(status, 0);
        read_all(p.pty_master, buf, sizeof buf);
        ck_assert_msg(strstr(buf, "/dev/pts/0\r\nconsole\r\nxterm\r\n"), "%s", buf);
        runtime_process_done(&p);
}
END_TEST

START_TEST(test_never_released) {
        RuntimeProcess p = RUNTIME_PROCESS_NULL;
        Run r;

        run_init(&r, "touch /ran");
        ck_assert_int_eq(runtime_spawn(&r.spec, &p), 0);
        runtime_process_done(&p);
        ck_assert_int_eq(p.pidfd, -EBADF);
        {
                _cleanup_free_ char *ran = strjoin(r.upper, "/ran");
                ck_assert_int_eq(access(ran, F_OK), -1);
        }
}
END_TEST

/* A daemon that goes away before the release (crash, stop) must not leave
 * its child waiting forever. */
START_TEST(test_abandoned_child_exits) {
        RuntimeProcess p = RUNTIME_PROCESS_NULL;
        struct pollfd pfd;
        int status;
        Run r;

        run_init(&r, "touch /ran");
        ck_assert_int_eq(runtime_spawn(&r.spec, &p), 0);
        p.channel = safe_close(p.channel);
        pfd = (struct pollfd) { .fd = p.pidfd, .events = POLLIN };
        ck_assert_int_eq(poll(&pfd, 1, 10000), 1);
        ck_assert_int_eq(runtime_wait(&p, &status), 0);
        ck_assert_int_eq(status, RUNTIME_EXIT_ENGINE_ERROR);
        runtime_process_done(&p);
        {
                _cleanup_free_ char *ran = strjoin(r.upper, "/ran");
                ck_assert_int_eq(access(ran, F_OK), -1);
        }
}
END_TEST

/* The child runs in the caller's memory until its execve: what it reads of
 * the spec must be the runtime's own copy, as the caller's may be gone. */
START_TEST(test_spec_copied) {
        RuntimeProcess p = RUNTIME_PROCESS_NULL;
        _cleanup_close_ int rd = -EBADF;
        char *script = strdup("hostname; echo $0 done"), *hostname = strdup("copied");
        int pipefd[2], status;
        Run r;

        run_init(&r, script);
        r.spec.hostname = hostname;
        ck_assert_int_eq(pipe2(pipefd, O_CLOEXEC), 0);
        rd = pipefd[0];
        r.spec.process.stdout_fd = pipefd[1];
        ck_assert_int_eq(runtime_spawn(&r.spec, &p), 0);
        safe_close(pipefd[1]);
        memset(script, 'x', strlen(script));
        memset(hostname, 'y', strlen(hostname));
        free(script);
        free(hostname);
        memset(&r.spec, 0xff, sizeof r.spec);
        ck_assert_int_eq(runtime_release(&p, UINT64_MAX, NULL), 0);
        read_all(rd, r.output, sizeof r.output);
        ck_assert_int_eq(runtime_wait(&p, &status), 0);
        runtime_process_done(&p);
        ck_assert_int_eq(status, 0);
        ck_assert_str_eq(r.output, "copied\nsh done\n");
}
END_TEST

static void *idle_thread(void *userdata) {
        char c;

        (void) read(*(int *) userdata, &c, 1);
        return NULL;
}

static void check_task_uids(void) {
        _cleanup_(closedirp) DIR *d = opendir("/proc/self/task");
        int n = 0;

        ck_assert_ptr_nonnull(d);
        for (struct dirent *de; (de = readdir(d)); ) {
                _cleanup_free_ char *path = NULL, *status = NULL;

                if (de->d_name[0] == '.')
                        continue;
                path = strjoin("/proc/self/task/", de->d_name, "/status");
                ck_assert_int_eq(read_full_file_at(AT_FDCWD, path, 1 << 16, &status, NULL), 0);
                ck_assert_msg(strstr(status, "\nUid:\t0\t0\t0\t0\n") && strstr(status, "\nGid:\t0\t0\t0\t0\n"),
                              "task %s changed credentials", de->d_name);
                n++;
        }
        ck_assert_int_ge(n, 2);
}

/* A child that switches to another user and drops capabilities must not do
 * so to its caller, nor to the caller's other threads (glibc's set*id()
 * wrappers would signal every thread they know of), and the caller stays
 * dumpable (a property of the memory the child borrows). */
START_TEST(test_caller_unchanged) {
        pthread_t t;
        int pipefd[2];
        Run r;

        ck_assert_int_eq(pipe2(pipefd, O_CLOEXEC), 0);
        ck_assert_int_eq(pthread_create(&t, NULL, idle_thread, &pipefd[0]), 0);
        run_init(&r, "id -u");
        r.spec.process.user = "alice";
        ck_assert_str_eq(run_script(&r, NULL), "1000\n");
        check_task_uids();
        ck_assert_int_eq(prctl(PR_GET_DUMPABLE, 0, 0, 0, 0), 1);
        {
                uint64_t caps;
                ck_assert_int_eq(capability_get_permitted(&caps), 0);
                ck_assert(caps & (UINT64_C(1) << CAP_SYS_ADMIN));
        }
        ck_assert_int_eq(write(pipefd[1], "x", 1), 1);
        ck_assert_int_eq(pthread_join(t, NULL), 0);
        safe_close(pipefd[0]);
        safe_close(pipefd[1]);
}
END_TEST

/* --rm: the upper layer is never synced; the mark the kernel leaves on such a
 * work directory must not stop the container from starting again. */
START_TEST(test_volatile_upper) {
        Run r;

        run_init(&r, "grep -c ' / / .*volatile' /proc/self/mountinfo");
        ck_assert_int_eq(run_go(&r), 0);
        ck_assert_str_eq(r.output, "0\n");
        r.spec.volatile_upper = true;
        ck_assert_str_eq(run_script(&r, NULL), "1\n");
        ck_assert_str_eq(run_script(&r, NULL), "1\n");
}
END_TEST

/* A layer of its own on top of the shared ones, for a test's hostile files. */
static void run_add_layer(Run *r, char *dir, size_t size, const char *name) {
        snprintf(dir, size, "%s/%s", base, name);
        ck_assert_int_eq(mkdir_p(dir, 0755), 0);
        r->lowers[2] = r->lowers[1];
        r->lowers[1] = r->lowers[0];
        r->lowers[0] = dir;
}

/* The fds the daemon holds while it spawns (its store, the bus, other
 * containers' stdio) must be gone before the container's paths are resolved:
 * WORKDIR /proc/self/fd/N walked out of the root through them
 * (CVE-2024-21626). Here the test holds a directory of the host at many fd
 * numbers, with and without O_CLOEXEC, and the container tries each. */
START_TEST(test_workdir_through_daemon_fds) {
        char host[PATH_MAX], marker[PATH_MAX + 16], cwd[64];
        int fds[16];

        snprintf(host, sizeof host, "%s/host-dir", base);
        ck_assert_int_eq(mkdir_p(host, 0755), 0);
        for (size_t i = 0; i < ELEMENTSOF(fds); i++) {
                fds[i] = open(host, O_RDONLY | O_DIRECTORY | (i % 2 ? O_CLOEXEC : 0));
                ck_assert_int_ge(fds[i], 0);
        }
        for (int n = 3; n < fds[ELEMENTSOF(fds) - 1] + 4; n++) {
                Run r;

                run_init(&r, "echo x > escaped; echo x > ../../../escaped-up; pwd");
                snprintf(cwd, sizeof cwd, n % 3 ? "/proc/self/fd/%d" : "/proc/thread-self/fd/%d", n);
                r.spec.process.cwd = cwd;
                /* Made inside the container, or refused: never the host's. */
                (void) run_go(&r);
                snprintf(marker, sizeof marker, "%s/escaped", host);
                ck_assert_msg(access(marker, F_OK) < 0, "cwd %s escaped to the host", cwd);
        }
        snprintf(marker, sizeof marker, "%s/escaped-up", base);
        ck_assert_int_lt(access(marker, F_OK), 0);
        for (size_t i = 0; i < ELEMENTSOF(fds); i++)
                safe_close(fds[i]);
}
END_TEST

/* An exec whose working directory the running container turned into a
 * magic link: entered through the fd resolved in the root, or refused. */
START_TEST(test_exec_cwd_symlink_to_proc_fd) {
        RuntimeProcess leader = RUNTIME_PROCESS_NULL;
        char host[PATH_MAX], marker[PATH_MAX + 16], buf[4096];
        _cleanup_close_ int hostfd = -EBADF;
        RuntimeProcessSpec ps;
        char *argv[] = { (char *) "sh", (char *) "-c", (char *) "echo x > escaped; pwd", NULL };
        int in, status;
        Run r;

        snprintf(host, sizeof host, "%s/exec-host-dir", base);
        ck_assert_int_eq(mkdir_p(host, 0755), 0);
        hostfd = open(host, O_RDONLY | O_DIRECTORY);
        ck_assert_int_ge(hostfd, 0);
        leader_start(&r, "for n in 3 4 5 6 7 8 9 10 11 12; do ln -s /proc/self/fd/$n /w$n; done; read line",
                     &leader, &in);
        usleep(200 * 1000);
        for (int n = 3; n <= 12; n++) {
                char cwd[16];

                snprintf(cwd, sizeof cwd, "/w%d", n);
                runtime_process_spec_init(&ps);
                ps.argv = argv;
                ps.cwd = cwd;
                (void) exec_capture(&leader, &ps, buf, sizeof buf, &status);
                snprintf(marker, sizeof marker, "%s/escaped", host);
                ck_assert_msg(access(marker, F_OK) < 0, "exec -w %s escaped to the host", cwd);
        }
        leader_finish(&leader, in, 0);
}
END_TEST

static uint64_t elapsed_usec(uint64_t since) {
        return now_usec(CLOCK_MONOTONIC) - since;
}

/* A passwd or group the image made hostile fails the start at once, with a
 * sentence naming the file: never a wait on a FIFO, a read of a device or of
 * a sparse file without end. */
static void check_hostile_user_file(const char *file, const char *kind, const char *user, int error,
                                    const char *message) {
        char dir[PATH_MAX], etc[PATH_MAX + 8], path[PATH_MAX + 16];
        uint64_t t0;
        Run r;

        run_init(&r, "echo never");
        run_add_layer(&r, dir, sizeof dir, kind);
        snprintf(etc, sizeof etc, "%s/etc", dir);
        ck_assert_int_eq(mkdir_p(etc, 0755), 0);
        snprintf(path, sizeof path, "%s/%s", etc, file);
        if (streq(kind, "fifo-passwd") || streq(kind, "fifo-group"))
                ck_assert_int_eq(mkfifo(path, 0644), 0);
        else if (streq(kind, "zero-passwd"))
                ck_assert_int_eq(symlink("/dev/zero", path), 0);
        else {
                _cleanup_close_ int fd = open(path, O_WRONLY | O_CREAT | O_CLOEXEC, 0644);
                ck_assert_int_ge(fd, 0);
                ck_assert_int_eq(ftruncate(fd, (off_t) 64 << 30), 0);
        }
        r.spec.process.user = user;
        t0 = now_usec(CLOCK_MONOTONIC);
        ck_assert_int_eq(run_go(&r), -error);
        ck_assert_uint_lt(elapsed_usec(t0), 2 * USEC_PER_SEC);
        ck_assert_int_eq(r.status, 125);
        ck_assert_str_eq(r.error.message, message);
        ck_assert_str_eq(r.output, "");
}

START_TEST(test_hostile_passwd_and_group) {
        check_hostile_user_file("passwd", "fifo-passwd", "nobody", EBADFD,
                                "resolve user /etc/passwd: not a regular file");
        check_hostile_user_file("passwd", "zero-passwd", "nobody", EBADFD,
                                "resolve user /etc/passwd: not a regular file");
        check_hostile_user_file("passwd", "sparse-passwd", "nobody", EFBIG,
                                "resolve user /etc/passwd: larger than 16 MiB");
        check_hostile_user_file("group", "fifo-group", "alice", EBADFD,
                                "resolve user /etc/group: not a regular file");
}
END_TEST

/* The blocking release is bounded too (the engine's is driven from the
 * loop, tested with a real berthd in the integration tests). */
START_TEST(test_release_time_limit) {
        RuntimeProcess p = RUNTIME_PROCESS_NULL;
        int pair[2];
        Run r;

        ck_assert_int_eq(socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, pair), 0);
        ck_assert_int_eq(channel_wait(pair[0], 100 * USEC_PER_MSEC), -ETIMEDOUT);
        safe_close(pair[0]);
        safe_close(pair[1]);
        run_init(&r, "true");
        ck_assert_int_eq(runtime_spawn(&r.spec, &p), 0);
        RuntimeError e = {};
        int k = runtime_release(&p, 5 * USEC_PER_SEC, &e);
        ck_assert_msg(k == 0, "%d %s", k, e.message);
        runtime_process_done(&p);
}
END_TEST

/* Each container and each exec has a session keyring of its own, not ours
 * and not each other's (runc's behaviour). */
START_TEST(test_session_keyring_own) {
        char dir[PATH_MAX], cmd[PATH_MAX * 2], ours[32];
        long own = syscall(SYS_keyctl, KEYCTL_GET_KEYRING_ID, KEY_SPEC_SESSION_KEYRING, 0);
        Run a, b;

        ck_assert_int_ge(own, 0);
        snprintf(ours, sizeof ours, "%ld\n", own);
        run_init(&a, NULL);
        run_add_layer(&a, dir, sizeof dir, "keyring");
        snprintf(cmd, sizeof cmd, "cp %s %s/keyring-probe", KEYRING_PROBE_BUILD, dir);
        ck_assert_int_eq(system(cmd), 0);
        a.argv[0] = (char *) "/keyring-probe";
        a.argv[1] = NULL;
        /* keyctl is not in the default filter, as in Docker. */
        a.spec.process.seccomp = SECCOMP_MODE_UNCONFINED;
        b = a;
        ck_assert_int_eq(run_go(&a), 0);
        ck_assert_int_eq(a.status, 0);
        ck_assert_int_eq(run_go(&b), 0);
        ck_assert_int_eq(b.status, 0);
        ck_assert_str_ne(a.output, ours);
        ck_assert_str_ne(b.output, ours);
        ck_assert_str_ne(a.output, b.output);
}
END_TEST

/* An Entrypoint through a magic link of the container's /proc would run
 * what the link names before the execve: the daemon's binary for
 * /proc/self/exe (CVE-2019-5736), the host's files through /proc/1/root. */
START_TEST(test_entrypoint_through_proc_magic_links) {
        const char *paths[] = { "/proc/self/exe", "/proc/1/exe", "/proc/1/root/bin/true",
                                "/proc/self/root/bin/true", "/proc/thread-self/exe" };

        for (size_t i = 0; i < ELEMENTSOF(paths); i++) {
                char expected[256];
                Run r;

                run_init(&r, NULL);
                r.argv[0] = (char *) paths[i];
                r.argv[1] = (char *) "--version";
                r.argv[2] = NULL;
                ck_assert_int_eq(run_go(&r), -EXDEV);
                ck_assert_int_eq(r.status, 126);
                snprintf(expected, sizeof expected, "exec %s: refusing to run a command through a /proc magic link",
                         paths[i]);
                ck_assert_str_eq(r.error.message, expected);
                ck_assert_str_eq(r.output, "");
        }
}
END_TEST

static Suite *runtime_suite(void) {
        Suite *s = suite_create("runtime");
        TCase *tc = tcase_create("containers");

        tcase_add_unchecked_fixture(tc, make_rootfs, remove_rootfs);
        tcase_set_timeout(tc, 60);
        tcase_add_test(tc, test_pid1_hostname_proc);
        tcase_add_test(tc, test_env_exact);
        tcase_add_test(tc, test_cwd);
        tcase_add_test(tc, test_users);
        tcase_add_test(tc, test_unknown_user);
        tcase_add_test(tc, test_capabilities);
        tcase_add_test(tc, test_seccomp_and_nnp);
        tcase_add_test(tc, test_seccomp_json_profile);
        tcase_add_test(tc, test_no_stray_fds);
        tcase_add_test(tc, test_masked_and_readonly_paths);
        tcase_add_test(tc, test_privileged_unmasked);
        tcase_add_test(tc, test_readonly_rootfs);
        tcase_add_test(tc, test_mounts);
        tcase_add_test(tc, test_exit_codes);
        tcase_add_test(tc, test_setup_error_is_typed);
        tcase_add_test(tc, test_no_mounts_left_and_upper);
        tcase_add_test(tc, test_many_layers);
        tcase_add_test(tc, test_network_none);
        tcase_add_test(tc, test_network_host);
        tcase_add_test(tc, test_privileged_sys_writable);
        tcase_add_test(tc, test_mount_target_symlink_stays_inside);
        tcase_add_test(tc, test_exec);
        tcase_add_test(tc, test_tty);
        tcase_add_test(tc, test_never_released);
        tcase_add_test(tc, test_abandoned_child_exits);
        tcase_add_test(tc, test_spec_copied);
        tcase_add_test(tc, test_caller_unchanged);
        tcase_add_test(tc, test_volatile_upper);
        tcase_add_test(tc, test_workdir_through_daemon_fds);
        tcase_add_test(tc, test_exec_cwd_symlink_to_proc_fd);
        tcase_add_test(tc, test_hostile_passwd_and_group);
        tcase_add_test(tc, test_release_time_limit);
        tcase_add_test(tc, test_session_keyring_own);
        tcase_add_test(tc, test_entrypoint_through_proc_magic_links);
        suite_add_tcase(s, tc);
        return s;
}

int main(void) {
        SRunner *sr;
        int failed;

        if (geteuid() != 0 || access("/bin/busybox", X_OK) < 0) {
                fprintf(stderr, "needs root and /bin/busybox (busybox-static), skipping\n");
                return 77;
        }
        runtime_set_exec_helper(BERTH_EXEC_HELPER_BUILD);
        sr = srunner_create(runtime_suite());
        srunner_run_all(sr, CK_NORMAL);
        failed = srunner_ntests_failed(sr);
        srunner_free(sr);
        return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
