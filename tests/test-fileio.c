/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <check.h>
#include <dirent.h>
#include <fcntl.h>
#include <pthread.h>
#include <sched.h>
#include <sys/mount.h>
#include <sys/resource.h>
#include <sys/stat.h>

#include "check-util.h"
#include "fileio.h"

/* Tree walks run on a thread with this much stack: a recursive walk
 * overflows it within a few hundred levels, an iterative one never does. */
#define SMALL_STACK (64 * 1024)
#define DEEP 50000

/* On tmpfs: removing 50,000 directories from a busy disk can take minutes. */
static char top[] = "/dev/shm/berth-test-fileio-XXXXXX";

static int count_fds(void) {
        _cleanup_closedir_ DIR *d = opendir("/proc/self/fd");
        int n = 0;

        ck_assert_ptr_nonnull(d);
        while (readdir(d))
                n++;
        return n;
}

static int mkdir_fresh(char *ret, size_t size, const char *what) {
        static unsigned counter;
        int fd;

        snprintf(ret, size, "%s/%s-%u-%d", top, what, counter++, getpid());
        ck_assert_int_eq(mkdir(ret, 0755), 0);
        fd = open(ret, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        ck_assert_int_ge(fd, 0);
        return fd;
}

static void write_file_at(int dirfd, const char *name, size_t size) {
        int fd = openat(dirfd, name, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644);

        ck_assert_int_ge(fd, 0);
        ck_assert_int_eq(ftruncate(fd, (off_t) size), 0);
        close(fd);
}

/* DEEP nested directories "d", one fd open at a time; a file of one byte
 * at every 1000th level. */
static void make_deep(int dirfd, const char *name) {
        int fd;

        ck_assert_int_eq(mkdirat(dirfd, name, 0755), 0);
        fd = openat(dirfd, name, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        for (int i = 0; i < DEEP; i++) {
                int sub;

                ck_assert_int_ge(fd, 0);
                if (i % 1000 == 0)
                        write_file_at(fd, "f", 1);
                ck_assert_int_eq(mkdirat(fd, "d", 0755), 0);
                sub = openat(fd, "d", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
                close(fd);
                fd = sub;
        }
        close(fd);
}

typedef struct WalkJob {
        int dirfd;
        const char *path;
        bool remove;
        int nofile;             /* RLIMIT_NOFILE during the walk, 0: unchanged */
        uint64_t size;
        int r;
} WalkJob;

static void *walk_thread(void *userdata) {
        WalkJob *j = userdata;

        j->r = j->remove ? rm_rf_at(j->dirfd, j->path) : tree_size_at(j->dirfd, j->path, &j->size);
        return NULL;
}

/* Runs the walk on a thread with a small stack and, if asked, with only a
 * few fds left to open. */
static int walk_small(WalkJob *j) {
        struct rlimit saved, few;
        pthread_attr_t attr;
        pthread_t t;

        ck_assert_int_eq(getrlimit(RLIMIT_NOFILE, &saved), 0);
        if (j->nofile > 0) {
                few = (struct rlimit) { .rlim_cur = (rlim_t) (count_fds() + j->nofile), .rlim_max = saved.rlim_max };
                ck_assert_int_eq(setrlimit(RLIMIT_NOFILE, &few), 0);
        }
        ck_assert_int_eq(pthread_attr_init(&attr), 0);
        ck_assert_int_eq(pthread_attr_setstacksize(&attr, SMALL_STACK), 0);
        ck_assert_int_eq(pthread_create(&t, &attr, walk_thread, j), 0);
        ck_assert_int_eq(pthread_join(t, NULL), 0);
        pthread_attr_destroy(&attr);
        ck_assert_int_eq(setrlimit(RLIMIT_NOFILE, &saved), 0);
        return j->r;
}

START_TEST(test_rm_rf_deep) {
        char base[PATH_MAX];
        int fd = mkdir_fresh(base, sizeof base, "deep"), fds;
        WalkJob size = { .dirfd = fd, .path = "tree", .nofile = 8 };
        WalkJob rm = { .dirfd = fd, .path = "tree", .remove = true, .nofile = 8 };
        struct stat st;

        make_deep(fd, "tree");
        fds = count_fds();
        ck_assert_int_eq(walk_small(&size), 0);
        ck_assert_uint_eq(size.size, DEEP / 1000);
        ck_assert_int_eq(walk_small(&rm), 0);
        ck_assert_int_eq(fstatat(fd, "tree", &st, AT_SYMLINK_NOFOLLOW), -1);
        ck_assert_int_eq(errno, ENOENT);
        ck_assert_int_eq(count_fds(), fds);
        close(fd);
}
END_TEST

START_TEST(test_rm_rf_wide) {
        char base[PATH_MAX], name[32];
        int fd = mkdir_fresh(base, sizeof base, "wide"), tree;
        WalkJob size = { .dirfd = fd, .path = "tree" };
        WalkJob rm = { .dirfd = fd, .path = "tree", .remove = true, .nofile = 8 };

        ck_assert_int_eq(mkdirat(fd, "tree", 0755), 0);
        tree = openat(fd, "tree", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        ck_assert_int_ge(tree, 0);
        /* Directories with content among files, each one listed once. */
        for (int i = 0; i < 5000; i++) {
                int sub;

                snprintf(name, sizeof name, "f%d", i);
                write_file_at(tree, name, 3);
                snprintf(name, sizeof name, "d%d", i);
                ck_assert_int_eq(mkdirat(tree, name, 0755), 0);
                sub = openat(tree, name, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
                ck_assert_int_ge(sub, 0);
                write_file_at(sub, "x", 2);
                ck_assert_int_eq(mkdirat(sub, "empty", 0755), 0);
                ck_assert_int_eq(symlinkat("..", sub, "up"), 0);
                close(sub);
        }
        close(tree);
        ck_assert_int_eq(walk_small(&size), 0);
        ck_assert_uint_eq(size.size, 5000 * 5);
        ck_assert_int_eq(walk_small(&rm), 0);
        ck_assert_int_eq(faccessat(fd, "tree", F_OK, AT_SYMLINK_NOFOLLOW), -1);
        close(fd);
}
END_TEST

/* Symlinks in the tree lead out of it, to the file system root and to
 * directories and files outside: all are removed, nothing they point at. */
START_TEST(test_rm_rf_symlinks) {
        char base[PATH_MAX], p[PATH_MAX + 32];
        int fd = mkdir_fresh(base, sizeof base, "links"), tree;
        WalkJob size = { .dirfd = fd, .path = "tree" };
        struct stat st;

        ck_assert_int_eq(mkdirat(fd, "outside", 0755), 0);
        ck_assert_int_eq(mkdirat(fd, "outside/dir", 0755), 0);
        write_file_at(fd, "outside/file", 1000);
        write_file_at(fd, "outside/dir/file", 1000);
        ck_assert_int_eq(mkdirat(fd, "tree", 0755), 0);
        ck_assert_int_eq(mkdirat(fd, "tree/sub", 0755), 0);
        tree = openat(fd, "tree/sub", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        ck_assert_int_ge(tree, 0);
        snprintf(p, sizeof p, "%s/outside", base);
        ck_assert_int_eq(symlinkat(p, tree, "abs-dir"), 0);
        ck_assert_int_eq(symlinkat("../../outside", tree, "rel-dir"), 0);
        ck_assert_int_eq(symlinkat("../../outside/file", tree, "rel-file"), 0);
        ck_assert_int_eq(symlinkat("/", tree, "root"), 0);
        ck_assert_int_eq(symlinkat("..", tree, "parent"), 0);
        ck_assert_int_eq(symlinkat("dangling", tree, "dangling"), 0);
        close(tree);
        /* A symlink as the top is removed, not followed. */
        ck_assert_int_eq(symlinkat("outside", fd, "top-link"), 0);
        ck_assert_int_eq(rm_rf_at(fd, "top-link"), 0);
        ck_assert_int_eq(walk_small(&size), 0);
        ck_assert_uint_eq(size.size, 0);
        ck_assert_int_eq(rm_rf_at(fd, "tree"), 0);
        ck_assert_int_eq(faccessat(fd, "tree", F_OK, AT_SYMLINK_NOFOLLOW), -1);
        ck_assert_int_eq(faccessat(fd, "top-link", F_OK, AT_SYMLINK_NOFOLLOW), -1);
        ck_assert_int_eq(fstatat(fd, "outside/file", &st, 0), 0);
        ck_assert_int_eq(st.st_size, 1000);
        ck_assert_int_eq(fstatat(fd, "outside/dir/file", &st, 0), 0);
        /* A file, and what does not exist. */
        ck_assert_int_eq(rm_rf_at(fd, "outside/file"), 0);
        ck_assert_int_eq(faccessat(fd, "outside/file", F_OK, 0), -1);
        ck_assert_int_eq(rm_rf_at(fd, "nonexistent"), 0);
        close(fd);
}
END_TEST

/* The same tree removed in the background: the call returns at once. */
START_TEST(test_rm_rf_background) {
        char base[PATH_MAX];
        int fd = mkdir_fresh(base, sizeof base, "background");
        uint64_t start;

        make_deep(fd, "tree");
        start = now_usec(CLOCK_MONOTONIC);
        ck_assert_int_eq(rm_rf_background(fd, "tree"), 0);
        ck_assert_int_eq(rm_rf_background(fd, "nonexistent"), 0);
        ck_assert_uint_lt(now_usec(CLOCK_MONOTONIC) - start, 100 * 1000);
        close(fd);
        fd = open(base, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        for (int i = 0; i < 1200 && faccessat(fd, "tree", F_OK, AT_SYMLINK_NOFOLLOW) == 0; i++)
                usleep(100 * 1000);
        ck_assert_int_eq(faccessat(fd, "tree", F_OK, AT_SYMLINK_NOFOLLOW), -1);
        close(fd);
}
END_TEST

/* Two removals of the same tree at once (a background removal and a
 * cleanup of the directory it is in): both succeed. */
START_TEST(test_rm_rf_concurrent) {
        char base[PATH_MAX], name[32];
        int fd = mkdir_fresh(base, sizeof base, "concurrent"), tree;
        WalkJob a = { .dirfd = fd, .path = "tree", .remove = true };
        WalkJob b = { .dirfd = fd, .path = "tree", .remove = true };
        pthread_t ta, tb;

        ck_assert_int_eq(mkdirat(fd, "tree", 0755), 0);
        tree = openat(fd, "tree", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        ck_assert_int_ge(tree, 0);
        for (int i = 0; i < 3000; i++) {
                int sub;

                snprintf(name, sizeof name, "d%d", i);
                ck_assert_int_eq(mkdirat(tree, name, 0755), 0);
                sub = openat(tree, name, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
                ck_assert_int_ge(sub, 0);
                for (int k = 0; k < 3; k++) {
                        snprintf(name, sizeof name, "f%d", k);
                        write_file_at(sub, name, 1);
                }
                ck_assert_int_eq(mkdirat(sub, "e", 0755), 0);
                close(sub);
        }
        make_deep(tree, "deep");
        close(tree);
        ck_assert_int_eq(pthread_create(&ta, NULL, walk_thread, &a), 0);
        ck_assert_int_eq(pthread_create(&tb, NULL, walk_thread, &b), 0);
        ck_assert_int_eq(pthread_join(ta, NULL), 0);
        ck_assert_int_eq(pthread_join(tb, NULL), 0);
        ck_assert_int_eq(a.r, 0);
        ck_assert_int_eq(b.r, 0);
        ck_assert_int_eq(faccessat(fd, "tree", F_OK, AT_SYMLINK_NOFOLLOW), -1);
        close(fd);
}
END_TEST

/* A mount inside the tree (a tmpfs, a bind mount of the same file system)
 * is not entered: its content stays, the removal fails with -EBUSY, and
 * succeeds once it is unmounted. */
START_TEST(test_rm_rf_mounts) {
        char base[PATH_MAX], p[PATH_MAX + 32], q[PATH_MAX + 32];
        int fd;

        if (geteuid() != 0)
                ck_abort_msg("needs root (mount namespaces)");
        /* Check forks each test: the namespace ends with it. */
        ck_assert_int_eq(unshare(CLONE_NEWNS), 0);
        ck_assert_int_eq(mount(NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL), 0);
        fd = mkdir_fresh(base, sizeof base, "mounts");
        ck_assert_int_eq(mkdirat(fd, "tree", 0755), 0);
        ck_assert_int_eq(mkdirat(fd, "tree/tmpfs", 0755), 0);
        ck_assert_int_eq(mkdirat(fd, "tree/bind", 0755), 0);
        ck_assert_int_eq(mkdirat(fd, "elsewhere", 0755), 0);
        write_file_at(fd, "elsewhere/keep", 1);
        snprintf(p, sizeof p, "%s/tree/tmpfs", base);
        ck_assert_int_eq(mount("tmpfs", p, "tmpfs", 0, NULL), 0);
        snprintf(q, sizeof q, "%s/tree/tmpfs/keep", base);
        close(open(q, O_WRONLY | O_CREAT | O_CLOEXEC, 0644));
        snprintf(p, sizeof p, "%s/elsewhere", base);
        snprintf(q, sizeof q, "%s/tree/bind", base);
        ck_assert_int_eq(mount(p, q, NULL, MS_BIND, NULL), 0);
        ck_assert_int_eq(rm_rf_at(fd, "tree"), -EBUSY);
        ck_assert_int_eq(faccessat(fd, "tree/tmpfs/keep", F_OK, 0), 0);
        ck_assert_int_eq(faccessat(fd, "elsewhere/keep", F_OK, 0), 0);
        ck_assert_int_eq(umount(q), 0);
        snprintf(p, sizeof p, "%s/tree/tmpfs", base);
        ck_assert_int_eq(umount(p), 0);
        ck_assert_int_eq(rm_rf_at(fd, "tree"), 0);
        ck_assert_int_eq(faccessat(fd, "tree", F_OK, AT_SYMLINK_NOFOLLOW), -1);
        ck_assert_int_eq(faccessat(fd, "elsewhere/keep", F_OK, 0), 0);
        close(fd);
}
END_TEST

int main(void) {
        Suite *s = suite_create("fileio");
        TCase *tc = tcase_create("tree");
        int r;

        if (!mkdtemp(top))
                return EXIT_FAILURE;
        tcase_set_timeout(tc, 120);
        tcase_add_test(tc, test_rm_rf_deep);
        tcase_add_test(tc, test_rm_rf_wide);
        tcase_add_test(tc, test_rm_rf_symlinks);
        tcase_add_test(tc, test_rm_rf_mounts);
        tcase_add_test(tc, test_rm_rf_background);
        tcase_add_test(tc, test_rm_rf_concurrent);
        suite_add_tcase(s, tc);
        r = check_run_suite(s);
        (void) rm_rf_at(AT_FDCWD, top);
        return r;
}
