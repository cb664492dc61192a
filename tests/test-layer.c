/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <archive.h>
#include <archive_entry.h>
#include <check.h>
#include <fcntl.h>
#include <pthread.h>
#include <signal.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <sys/xattr.h>
#include <ftw.h>

#include "digest.h"
#include "fileio.h"
#include "layer.h"
#include "tar-attack-util.h"

/* Every test unpacks into a fresh directory below one top directory that
 * main() creates and removes; the canary lives beside the targets. */
static char top[] = "/var/tmp/berth-test-layer-XXXXXX";

#define MTIME 1700000000

typedef struct Dirs {
        char target[PATH_MAX];
        char canary[PATH_MAX];
        int target_fd;
} Dirs;

static void dirs_make(Dirs *d) {
        static unsigned counter;
        char name[256];

        snprintf(name, sizeof name, "%s/t%u-%d", top, counter++, getpid());
        ck_assert_int_eq(mkdir(name, 0755), 0);
        snprintf(d->target, sizeof d->target, "%s/target", name);
        snprintf(d->canary, sizeof d->canary, "%s/canary", name);
        ck_assert_int_eq(mkdir(d->target, 0755), 0);
        ck_assert_int_eq(mkdir(d->canary, 0755), 0);
        d->target_fd = open(d->target, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        ck_assert_int_ge(d->target_fd, 0);
}

static int canary_entries(const Dirs *d) {
        _cleanup_closedir_ DIR *dir = opendir(d->canary);
        struct dirent *de;
        int n = 0;

        ck_assert_ptr_nonnull(dir);
        while ((de = readdir(dir)))
                if (!streq(de->d_name, ".") && !streq(de->d_name, ".."))
                        n++;
        return n;
}

static struct archive *writer_new(int fd, const char *filter) {
        struct archive *a = archive_write_new();

        ck_assert_ptr_nonnull(a);
        ck_assert_int_eq(archive_write_set_format_pax(a), ARCHIVE_OK);
        /* Names are bytes, as on the filesystem, whatever the locale. */
        ck_assert_int_eq(archive_write_set_options(a, "hdrcharset=BINARY"), ARCHIVE_OK);
        if (streq(filter, "gzip"))
                ck_assert_int_eq(archive_write_add_filter_gzip(a), ARCHIVE_OK);
        else if (streq(filter, "zstd"))
                ck_assert_int_eq(archive_write_add_filter_zstd(a), ARCHIVE_OK);
        ck_assert_int_eq(archive_write_open_fd(a, fd), ARCHIVE_OK);
        return a;
}

static void writer_finish(struct archive *a, int fd) {
        ck_assert_int_eq(archive_write_close(a), ARCHIVE_OK);
        archive_write_free(a);
        ck_assert_int_eq(lseek(fd, 0, SEEK_SET), 0);
}

static int memfd_new(void) {
        int fd = memfd_create("layer", 0);

        ck_assert_int_ge(fd, 0);
        return fd;
}

static struct archive_entry *entry_new(const char *path, mode_t mode) {
        struct archive_entry *e = archive_entry_new();

        archive_entry_set_pathname(e, path);
        archive_entry_set_mode(e, mode);
        archive_entry_set_mtime(e, MTIME, 0);
        return e;
}

static void entry_write(struct archive *a, struct archive_entry *e, const void *data, size_t size) {
        if (archive_entry_filetype(e) == AE_IFREG && !archive_entry_hardlink(e))
                archive_entry_set_size(e, (la_int64_t) size);
        ck_assert_int_eq(archive_write_header(a, e), ARCHIVE_OK);
        if (size > 0)
                ck_assert_int_eq(archive_write_data(a, data, size), (la_ssize_t) size);
        archive_entry_free(e);
}

static void add_file(struct archive *a, const char *path, const char *content) {
        entry_write(a, entry_new(path, AE_IFREG | 0644), content, strlen(content));
}

static void add_dir(struct archive *a, const char *path, mode_t mode) {
        entry_write(a, entry_new(path, AE_IFDIR | mode), NULL, 0);
}

static void add_symlink(struct archive *a, const char *path, const char *target) {
        struct archive_entry *e = entry_new(path, AE_IFLNK | 0777);

        archive_entry_set_symlink(e, target);
        entry_write(a, e, NULL, 0);
}

static void add_hardlink(struct archive *a, const char *path, const char *target) {
        struct archive_entry *e = entry_new(path, AE_IFREG | 0644);

        archive_entry_set_hardlink(e, target);
        entry_write(a, e, NULL, 0);
}

static int unpack(const Dirs *d, int fd, const LayerLimits *limits, LayerUnpackResult *res) {
        return layer_unpack(fd, d->target_fd, NULL, 0, limits, NULL, res);
}

static char *file_at(const Dirs *d, const char *path) {
        char *s = NULL;

        ck_assert_int_eq(read_full_file_at(d->target_fd, path, 1 << 26, &s, NULL), 0);
        return s;
}

static void assert_content(const Dirs *d, const char *path, const char *content) {
        _cleanup_free_ char *s = file_at(d, path);

        ck_assert_str_eq(s, content);
}

static void stat_at(const Dirs *d, const char *path, struct stat *st) {
        ck_assert_msg(fstatat(d->target_fd, path, st, AT_SYMLINK_NOFOLLOW) == 0, "%s: %m", path);
}

static bool exists_at(const Dirs *d, const char *path) {
        struct stat st;

        return fstatat(d->target_fd, path, &st, AT_SYMLINK_NOFOLLOW) == 0;
}

static void shell_sha256(const char *cmd, char buf[static DIGEST_STRING_MAX]) {
        FILE *f = popen(cmd, "r");
        char hex[DIGEST_HEX_LEN + 1] = {};

        ck_assert_ptr_nonnull(f);
        ck_assert_uint_eq(fread(hex, 1, DIGEST_HEX_LEN, f), DIGEST_HEX_LEN);
        ck_assert_int_eq(pclose(f), 0);
        snprintf(buf, DIGEST_STRING_MAX, "sha256:%s", hex);
}

static void fill_pattern(char *buf, size_t n, unsigned seed) {
        for (size_t i = 0; i < n; i++)
                buf[i] = (char) ('a' + (i * 31 + i / 977 + seed) % 26);
        buf[n - 1] = 0;
}

static void check_formats(const char *filter) {
        const size_t big_size = 3 * 1024 * 1024 + 17;
        _cleanup_free_ char *big = malloc(big_size);
        _cleanup_close_ int fd = memfd_new();
        char cmd[256], want[DIGEST_STRING_MAX];
        LayerUnpackResult res;
        struct archive *a;
        struct stat st;
        Dirs d;

        dirs_make(&d);
        fill_pattern(big, big_size, 7);
        a = writer_new(fd, filter);
        add_dir(a, "etc", 0755);
        add_file(a, "etc/hostname", "berth\n");
        add_file(a, "./empty", "");
        add_file(a, "usr/share/big", big);
        add_file(a, "caf\xc3\xa9 \xe2\x98\x83", "utf-8");
        add_file(a, "latin1-\xe9", "not utf-8");
        writer_finish(a, fd);

        ck_assert_int_eq(unpack(&d, fd, NULL, &res), 0);
        ck_assert_ptr_null(layer_last_error());
        assert_content(&d, "etc/hostname", "berth\n");
        assert_content(&d, "empty", "");
        assert_content(&d, "usr/share/big", big);
        assert_content(&d, "caf\xc3\xa9 \xe2\x98\x83", "utf-8");
        assert_content(&d, "latin1-\xe9", "not utf-8");
        stat_at(&d, "usr/share", &st);
        ck_assert(S_ISDIR(st.st_mode));
        ck_assert_int_eq(st.st_mode & 07777, 0755);
        ck_assert_uint_eq(res.entries, 6);

        /* Both digests against the tools. */
        snprintf(cmd, sizeof cmd, "sha256sum < /proc/%d/fd/%d", getpid(), fd);
        shell_sha256(cmd, want);
        ck_assert_str_eq(res.compressed_digest, want);
        ck_assert_uint_eq(res.compressed_size, (uint64_t) lseek(fd, 0, SEEK_END));
        snprintf(cmd, sizeof cmd, "%s < /proc/%d/fd/%d | sha256sum",
                 streq(filter, "gzip") ? "gzip -dc" : streq(filter, "zstd") ? "zstd -dcq" : "cat",
                 getpid(), fd);
        shell_sha256(cmd, want);
        ck_assert_str_eq(res.diff_id, want);
        ck_assert_uint_gt(res.uncompressed_size, big_size);
        if (streq(filter, "none")) {
                ck_assert_str_eq(res.compressed_digest, res.diff_id);
                ck_assert_uint_eq(res.uncompressed_size, res.compressed_size);
        } else
                ck_assert_str_ne(res.compressed_digest, res.diff_id);
}

START_TEST(test_plain) {
        check_formats("none");
}
END_TEST

START_TEST(test_gzip) {
        check_formats("gzip");
}
END_TEST

START_TEST(test_zstd) {
        check_formats("zstd");
}
END_TEST

/* Bytes after the tar end-of-archive marker belong to the layer's digests
 * too, although the tar parser never asks for them. */
START_TEST(test_trailing_data) {
        static const char *const compressors[] = { "cat", "gzip -c", "zstd -qc" };

        for (size_t i = 0; i < ELEMENTSOF(compressors); i++) {
                _cleanup_close_ int tar = memfd_new(), fd = memfd_new();
                _cleanup_free_ char *zeros = calloc(1, 1 << 20);
                char cmd[256], want[DIGEST_STRING_MAX];
                LayerUnpackResult res;
                struct archive *a;
                Dirs d;

                dirs_make(&d);
                a = writer_new(tar, "none");
                add_file(a, "f", "content");
                writer_finish(a, tar);
                off_t size = lseek(tar, 0, SEEK_END);
                ck_assert_int_eq(write(tar, zeros, 1 << 20), 1 << 20);
                snprintf(cmd, sizeof cmd, "%s < /proc/%d/fd/%d > /proc/%d/fd/%d",
                         compressors[i], getpid(), tar, getpid(), fd);
                ck_assert_int_eq(system(cmd), 0);
                /* gzip tolerates zeros after the last member (tape padding). */
                if (streq(compressors[i], "gzip -c")) {
                        ck_assert_int_gt(lseek(fd, 0, SEEK_END), 0);
                        ck_assert_int_eq(write(fd, zeros, 1 << 20), 1 << 20);
                        ck_assert_int_eq(lseek(fd, 0, SEEK_SET), 0);
                }
                ck_assert_int_eq(unpack(&d, fd, NULL, &res), 0);
                assert_content(&d, "f", "content");
                snprintf(cmd, sizeof cmd, "sha256sum < /proc/%d/fd/%d", getpid(), tar);
                shell_sha256(cmd, want);
                ck_assert_str_eq(res.diff_id, want);
                ck_assert_uint_eq(res.uncompressed_size, (uint64_t) size + (1 << 20));
                snprintf(cmd, sizeof cmd, "sha256sum < /proc/%d/fd/%d", getpid(), fd);
                shell_sha256(cmd, want);
                ck_assert_str_eq(res.compressed_digest, want);
                ck_assert_uint_eq(res.compressed_size, (uint64_t) lseek(fd, 0, SEEK_END));
        }
}
END_TEST

START_TEST(test_symlinks_never_followed) {
        char target[PATH_MAX + 16], buf[PATH_MAX];
        LayerUnpackResult res;
        struct stat st;
        Dirs d;

        dirs_make(&d);
        snprintf(target, sizeof target, "%s/victim", d.canary);
        ck_assert_int_eq(write_string_file_atomic_at(AT_FDCWD, target, "precious"), 0);

        /* Symlinks are created as they are; a later entry of the same name
         * replaces the symlink instead of writing through it. */
        {
                _cleanup_close_ int fd = memfd_new();
                struct archive *a = writer_new(fd, "none");

                add_symlink(a, "abs", d.canary);
                add_symlink(a, "rel", "../../../../../../..");
                add_symlink(a, "victim", target);
                add_file(a, "victim", "replaced");
                writer_finish(a, fd);
                ck_assert_int_eq(unpack(&d, fd, NULL, &res), 0);
        }
        ck_assert_int_eq(readlinkat(d.target_fd, "abs", buf, sizeof buf), (ssize_t) strlen(d.canary));
        ck_assert_int_eq(readlinkat(d.target_fd, "rel", buf, sizeof buf), 20);
        stat_at(&d, "victim", &st);
        ck_assert(S_ISREG(st.st_mode));
        assert_content(&d, "victim", "replaced");

        /* Writing through a symlink, absolute or climbing, is refused. */
        static const char *const through[] = { "abs/evil", "rel/evil", "rel/tmp/evil", "abs/sub/evil" };
        for (size_t i = 0; i < ELEMENTSOF(through); i++) {
                _cleanup_close_ int fd = memfd_new();
                struct archive *a = writer_new(fd, "gzip");

                add_file(a, through[i], "owned");
                writer_finish(a, fd);
                ck_assert_int_eq(unpack(&d, fd, NULL, &res), -EXDEV);
                ck_assert_ptr_nonnull(strstr(layer_last_error(), through[i]));
        }
        /* Not even through a symlink that stays inside the layer. */
        {
                _cleanup_close_ int fd = memfd_new();
                struct archive *a = writer_new(fd, "none");

                add_dir(a, "realdir", 0755);
                add_symlink(a, "inner", "realdir");
                add_file(a, "inner/x", "x");
                writer_finish(a, fd);
                ck_assert_int_eq(unpack(&d, fd, NULL, &res), -EXDEV);
                ck_assert(!exists_at(&d, "realdir/x"));
        }
        /* Neither can a directory, a node or a hardlink be placed through one. */
        {
                _cleanup_close_ int fd = memfd_new();
                struct archive *a = writer_new(fd, "none");

                add_dir(a, "abs/newdir", 0755);
                writer_finish(a, fd);
                ck_assert_int_eq(unpack(&d, fd, NULL, &res), -EXDEV);
        }
        {
                _cleanup_close_ int fd = memfd_new();
                struct archive *a = writer_new(fd, "none");

                add_hardlink(a, "abs/link", "victim");
                writer_finish(a, fd);
                ck_assert_int_eq(unpack(&d, fd, NULL, &res), -EXDEV);
        }
        {
                _cleanup_close_ int fd = memfd_new();
                struct archive *a = writer_new(fd, "none");

                add_hardlink(a, "stolen", "abs/victim");
                writer_finish(a, fd);
                ck_assert_int_eq(unpack(&d, fd, NULL, &res), -EXDEV);
        }
        ck_assert_int_eq(canary_entries(&d), 1);
        ck_assert_int_eq(lstat(target, &st), 0);
        ck_assert_int_eq(st.st_nlink, 1);
        {
                _cleanup_free_ char *s = NULL;
                ck_assert_int_eq(read_full_file_at(AT_FDCWD, target, 100, &s, NULL), 0);
                ck_assert_str_eq(s, "precious");
        }
}
END_TEST

START_TEST(test_dotdot) {
        static const char *const bad[] = { "../x", "../../x", "a/../../x", "./../x", "a/b/../../../x", "../.wh.x",
                                           "../\033[31mred\n" };
        LayerUnpackResult res;
        Dirs d;

        dirs_make(&d);
        for (size_t i = 0; i < ELEMENTSOF(bad); i++) {
                _cleanup_close_ int fd = memfd_new();
                struct archive *a = writer_new(fd, "none");

                add_file(a, bad[i], "owned");
                writer_finish(a, fd);
                ck_assert_int_eq(unpack(&d, fd, NULL, &res), -EXDEV);
                ck_assert_ptr_nonnull(strstr(layer_last_error(), "leaves the layer"));
                ck_assert(!string_has_cc(layer_last_error()));
        }
        {
                _cleanup_close_ int fd = memfd_new();
                struct archive *a = writer_new(fd, "none");

                add_file(a, "ok", "fine");
                add_hardlink(a, "hl", "../ok");
                writer_finish(a, fd);
                ck_assert_int_eq(unpack(&d, fd, NULL, &res), -EXDEV);
        }
        ck_assert_int_eq(canary_entries(&d), 0);
        ck_assert(!exists_at(&d, "../x"));
        {
                _cleanup_close_ int fd = memfd_new();
                struct archive *a = writer_new(fd, "none");

                /* ".." that stays inside is resolved lexically. */
                add_file(a, "a/../b", "inside");
                add_file(a, "c/d/../e", "inside too");
                writer_finish(a, fd);
                ck_assert_int_eq(unpack(&d, fd, NULL, &res), 0);
        }
        assert_content(&d, "b", "inside");
        assert_content(&d, "c/e", "inside too");
        ck_assert(!exists_at(&d, "a"));
}
END_TEST

START_TEST(test_absolute) {
        _cleanup_close_ int fd = memfd_new();
        char abs[PATH_MAX + 16], inner[PATH_MAX + 32];
        LayerUnpackResult res;
        struct archive *a;
        Dirs d;

        dirs_make(&d);
        /* Absolute names are relative to the layer root, as in containers-storage. */
        snprintf(abs, sizeof abs, "%s/abs", d.canary);
        a = writer_new(fd, "none");
        add_file(a, "/etc/berth-test", "rooted");
        add_file(a, abs, "not outside");
        add_hardlink(a, "/etc/berth-link", "/etc/berth-test");
        writer_finish(a, fd);
        ck_assert_int_eq(unpack(&d, fd, NULL, &res), 0);
        assert_content(&d, "etc/berth-test", "rooted");
        assert_content(&d, "etc/berth-link", "rooted");
        snprintf(inner, sizeof inner, "%s/abs", d.canary + 1);
        assert_content(&d, inner, "not outside");
        ck_assert_int_eq(canary_entries(&d), 0);
        ck_assert_int_eq(access("/etc/berth-test", F_OK), -1);
}
END_TEST

static void assert_whiteout(const Dirs *d, const char *path) {
        struct stat st;

        stat_at(d, path, &st);
        ck_assert(S_ISCHR(st.st_mode));
        ck_assert_uint_eq(major(st.st_rdev), 0);
        ck_assert_uint_eq(minor(st.st_rdev), 0);
}

START_TEST(test_whiteouts) {
        _cleanup_close_ int fd = memfd_new();
        LayerUnpackResult res;
        struct archive *a;
        struct stat st;
        char v[8];
        Dirs d;

        dirs_make(&d);
        a = writer_new(fd, "gzip");
        add_file(a, ".wh.gone", "");
        add_dir(a, "opaque", 0755);
        add_file(a, "opaque/.wh..wh..opq", "");
        add_file(a, "opaque/kept", "new");
        add_file(a, "deep/er/.wh.file", "");
        add_file(a, "deep/.wh..wh.plnk", "");
        add_file(a, "mine", "same layer wins");
        add_file(a, ".wh.mine", "");
        add_file(a, ".wh.later", "");
        add_file(a, "later", "replaces the whiteout");
        add_file(a, ".wh.redir", "");
        add_dir(a, "redir", 0755);
        add_file(a, ".wh.implied", "");
        add_file(a, "implied/child", "below a whiteout");
        add_file(a, "notadir", "file");
        add_file(a, "late/child", "before the whiteout");
        add_file(a, ".wh.late", "");
        writer_finish(a, fd);
        ck_assert_int_eq(unpack(&d, fd, NULL, &res), 0);

        assert_whiteout(&d, "gone");
        assert_whiteout(&d, "deep/er/file");
        ck_assert(!exists_at(&d, ".wh.gone"));
        ck_assert(!exists_at(&d, "deep/.wh..wh.plnk"));
        ck_assert(!exists_at(&d, "opaque/.wh..wh..opq"));
        {
                char p[PATH_MAX + 16];

                snprintf(p, sizeof p, "%s/opaque", d.target);
                ck_assert_int_eq(getxattr(p, "trusted.overlay.opaque", v, sizeof v), 1);
                ck_assert_int_eq(v[0], 'y');
                snprintf(p, sizeof p, "%s/redir", d.target);
                ck_assert_int_eq(getxattr(p, "trusted.overlay.opaque", v, sizeof v), 1);
                snprintf(p, sizeof p, "%s/implied", d.target);
                ck_assert_int_eq(getxattr(p, "trusted.overlay.opaque", v, sizeof v), 1);
                snprintf(p, sizeof p, "%s/late", d.target);
                ck_assert_int_eq(getxattr(p, "trusted.overlay.opaque", v, sizeof v), 1);
                snprintf(p, sizeof p, "%s/deep", d.target);
                ck_assert_int_eq(getxattr(p, "trusted.overlay.opaque", v, sizeof v), -1);
        }
        assert_content(&d, "implied/child", "below a whiteout");
        assert_content(&d, "late/child", "before the whiteout");
        {
                /* Below a regular file there is nothing to create. */
                _cleanup_close_ int fd2 = memfd_new();

                a = writer_new(fd2, "none");
                add_file(a, "notadir/child", "x");
                writer_finish(a, fd2);
                ck_assert_int_eq(unpack(&d, fd2, NULL, &res), -ENOTDIR);
        }
        assert_content(&d, "opaque/kept", "new");
        assert_content(&d, "mine", "same layer wins");
        assert_content(&d, "later", "replaces the whiteout");
        stat_at(&d, "redir", &st);
        ck_assert(S_ISDIR(st.st_mode));
}
END_TEST

START_TEST(test_hardlink_in_layer) {
        _cleanup_close_ int fd = memfd_new();
        LayerUnpackResult res;
        struct stat a1, a2, a3;
        struct archive *a;
        Dirs d;

        dirs_make(&d);
        a = writer_new(fd, "zstd");
        add_file(a, "bin/busybox", "multi-call");
        add_hardlink(a, "bin/sh", "bin/busybox");
        add_hardlink(a, "usr/bin/ls", "bin/busybox");
        writer_finish(a, fd);
        ck_assert_int_eq(unpack(&d, fd, NULL, &res), 0);
        stat_at(&d, "bin/busybox", &a1);
        stat_at(&d, "bin/sh", &a2);
        stat_at(&d, "usr/bin/ls", &a3);
        ck_assert_uint_eq(a1.st_ino, a2.st_ino);
        ck_assert_uint_eq(a1.st_ino, a3.st_ino);
        ck_assert_uint_eq(a1.st_nlink, 3);
        assert_content(&d, "usr/bin/ls", "multi-call");
}
END_TEST

/* A hardlink header's owner, mode, xattrs and times apply to the shared
 * inode, as in docker's and containers-storage's extraction (podman showed
 * the link header's mtime where Berth kept the target's: found by
 * tests/integration/rootfs-parity.sh with a GNU tar layer). */
START_TEST(test_hardlink_header_metadata) {
        _cleanup_close_ int fd = memfd_new();
        struct archive_entry *e;
        LayerUnpackResult res;
        struct stat s1, s2;
        struct archive *a;
        char p[PATH_MAX + 16], v[8];
        Dirs d;

        dirs_make(&d);
        a = writer_new(fd, "none");
        add_file(a, "data", "payload");
        e = entry_new("link", AE_IFREG | 02711);
        archive_entry_set_uid(e, 1000);
        archive_entry_set_gid(e, 50);
        archive_entry_set_mtime(e, MTIME - 100, 0);
        archive_entry_xattr_add_entry(e, "user.from", "link", 4);
        archive_entry_set_hardlink(e, "data");
        entry_write(a, e, NULL, 0);
        writer_finish(a, fd);
        ck_assert_int_eq(unpack(&d, fd, NULL, &res), 0);
        stat_at(&d, "data", &s1);
        stat_at(&d, "link", &s2);
        ck_assert_uint_eq(s1.st_ino, s2.st_ino);
        ck_assert_uint_eq(s1.st_uid, 1000);
        ck_assert_uint_eq(s1.st_gid, 50);
        ck_assert_int_eq(s1.st_mode & 07777, 02711);
        ck_assert_int_eq(s1.st_mtim.tv_sec, MTIME - 100);
        snprintf(p, sizeof p, "%s/data", d.target);
        ck_assert_int_eq(getxattr(p, "user.from", v, sizeof v), 4);
        assert_content(&d, "link", "payload");
}
END_TEST

START_TEST(test_hardlink_to_lower) {
        _cleanup_close_ int fd = memfd_new(), lower_fd = -EBADF, upper_fd = -EBADF;
        char lower[PATH_MAX + 16], upper[PATH_MAX + 16], p[PATH_MAX + 64], v[16];
        LayerUnpackResult res;
        struct stat s1, s2;
        struct archive *a;
        int lowers[2];
        Dirs d;

        dirs_make(&d);
        /* Two lower layers: the topmost has the file, the bottom one an
         * older version that must not be used. */
        snprintf(lower, sizeof lower, "%s/../lower", d.target);
        snprintf(upper, sizeof upper, "%s/../upper", d.target);
        ck_assert_int_eq(mkdir_p(lower, 0755), 0);
        ck_assert_int_eq(mkdir_p(upper, 0755), 0);
        snprintf(p, sizeof p, "%s/usr/bin", upper);
        ck_assert_int_eq(mkdir_p(p, 0755), 0);
        ck_assert_int_eq(chown(p, 5, 6), 0);
        ck_assert_int_eq(chmod(p, 0711), 0);
        snprintf(p, sizeof p, "%s/usr/bin/tool", upper);
        ck_assert_int_eq(write_string_file_atomic_at(AT_FDCWD, p, "upper tool"), 0);
        ck_assert_int_eq(chown(p, 123, 456), 0);
        ck_assert_int_eq(chmod(p, 04750), 0);
        ck_assert_int_eq(setxattr(p, "user.origin", "lower", 5, 0), 0);
        snprintf(p, sizeof p, "%s/usr/bin", lower);
        ck_assert_int_eq(mkdir_p(p, 0755), 0);
        snprintf(p, sizeof p, "%s/usr/bin/tool", lower);
        ck_assert_int_eq(write_string_file_atomic_at(AT_FDCWD, p, "old tool"), 0);
        snprintf(p, sizeof p, "%s/usr/bin/gone", lower);
        ck_assert_int_eq(write_string_file_atomic_at(AT_FDCWD, p, "deleted above"), 0);
        snprintf(p, sizeof p, "%s/usr/bin/gone", upper);
        ck_assert_int_eq(mknod(p, S_IFCHR | 0600, makedev(0, 0)), 0);
        /* Below an opaque directory of the upper layer, the lower one is hidden. */
        snprintf(p, sizeof p, "%s/opt/hidden", lower);
        ck_assert_int_eq(mkdir_p(p, 0755), 0);
        snprintf(p, sizeof p, "%s/opt/hidden/file", lower);
        ck_assert_int_eq(write_string_file_atomic_at(AT_FDCWD, p, "hidden"), 0);
        snprintf(p, sizeof p, "%s/opt", upper);
        ck_assert_int_eq(mkdir_p(p, 0755), 0);
        ck_assert_int_eq(setxattr(p, "trusted.overlay.opaque", "y", 1, 0), 0);
        /* A symlink in the upper layer where the lower one has a directory. */
        snprintf(p, sizeof p, "%s/srv/dir", lower);
        ck_assert_int_eq(mkdir_p(p, 0755), 0);
        snprintf(p, sizeof p, "%s/srv/dir/file", lower);
        ck_assert_int_eq(write_string_file_atomic_at(AT_FDCWD, p, "shadowed"), 0);
        snprintf(p, sizeof p, "%s/srv", upper);
        ck_assert_int_eq(symlink("/elsewhere", p), 0);
        upper_fd = open(upper, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        lower_fd = open(lower, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        lowers[0] = upper_fd;
        lowers[1] = lower_fd;

        a = writer_new(fd, "gzip");
        /* As a real tool writes it: the header carries the file's metadata. */
        {
                struct archive_entry *e = entry_new("usr/bin/tool2", AE_IFREG | 04750);

                archive_entry_set_uid(e, 123);
                archive_entry_set_gid(e, 456);
                archive_entry_set_hardlink(e, "usr/bin/tool");
                entry_write(a, e, NULL, 0);
        }
        writer_finish(a, fd);
        ck_assert_int_eq(layer_unpack(fd, d.target_fd, lowers, 2, NULL, NULL, &res), 0);
        stat_at(&d, "usr/bin/tool", &s1);
        stat_at(&d, "usr/bin/tool2", &s2);
        ck_assert_uint_eq(s1.st_ino, s2.st_ino);
        ck_assert_uint_eq(s1.st_nlink, 2);
        ck_assert_uint_eq(s1.st_uid, 123);
        ck_assert_uint_eq(s1.st_gid, 456);
        ck_assert_int_eq(s1.st_mode & 07777, 04750);
        assert_content(&d, "usr/bin/tool2", "upper tool");
        snprintf(p, sizeof p, "%s/usr/bin/tool2", d.target);
        ck_assert_int_eq(getxattr(p, "user.origin", v, sizeof v), 5);
        ck_assert(memcmp(v, "lower", 5) == 0);
        /* The implied parent keeps the lower directory's owner and mode. */
        stat_at(&d, "usr/bin", &s1);
        ck_assert_uint_eq(s1.st_uid, 5);
        ck_assert_int_eq(s1.st_mode & 07777, 0711);

        /* A file whited out above is not found below. */
        {
                _cleanup_close_ int fd2 = memfd_new();

                a = writer_new(fd2, "none");
                add_hardlink(a, "usr/bin/zombie", "usr/bin/gone");
                writer_finish(a, fd2);
                ck_assert_int_eq(layer_unpack(fd2, d.target_fd, lowers, 2, NULL, NULL, &res), -EBADMSG);
                ck_assert_ptr_nonnull(strstr(layer_last_error(), "does not exist"));
        }
        static const char *const hidden[] = { "opt/hidden/file", "srv/dir/file" };
        for (size_t i = 0; i < ELEMENTSOF(hidden); i++) {
                _cleanup_close_ int fd2 = memfd_new();

                a = writer_new(fd2, "none");
                add_hardlink(a, "newlink", hidden[i]);
                writer_finish(a, fd2);
                ck_assert_int_eq(layer_unpack(fd2, d.target_fd, lowers, 2, NULL, NULL, &res), -EBADMSG);
                ck_assert_ptr_nonnull(strstr(layer_last_error(), "does not exist"));
        }
        /* Without the upper layer, the lower file is found. */
        {
                _cleanup_close_ int fd2 = memfd_new();

                a = writer_new(fd2, "none");
                add_hardlink(a, "newlink", "opt/hidden/file");
                writer_finish(a, fd2);
                ck_assert_int_eq(layer_unpack(fd2, d.target_fd, &lower_fd, 1, NULL, NULL, &res), 0);
                assert_content(&d, "newlink", "hidden");
        }
        ck_assert_int_eq(rm_rf_at(AT_FDCWD, lower), 0);
        ck_assert_int_eq(rm_rf_at(AT_FDCWD, upper), 0);
}
END_TEST

/* A layer implying usr/ and usr/lib/ (as "tar -c usr/lib/x" writes it),
 * unpacked without its lower layer and fixed up afterwards, ends as the
 * unpack with the lower layer does; an implied directory the layer lists
 * later keeps what the layer says. */
static void implied_layer(int fd) {
        struct archive *a = writer_new(fd, "gzip");

        add_file(a, "usr/lib/x/file", "in x");
        add_file(a, "opt/app/file", "in app");
        add_dir(a, "opt/", 0700);
        add_file(a, "new/dir/file", "nothing below");
        writer_finish(a, fd);
}

static void assert_dir_meta(const Dirs *d, const char *path, uid_t uid, mode_t mode, time_t mtime) {
        struct stat st;

        stat_at(d, path, &st);
        ck_assert_msg(S_ISDIR(st.st_mode), "%s is no directory", path);
        ck_assert_uint_eq(st.st_uid, uid);
        ck_assert_int_eq(st.st_mode & 07777, mode);
        if (mtime > 0)
                ck_assert_int_eq(st.st_mtime, mtime);
}

START_TEST(test_implied_dirs_fixed_up) {
        _cleanup_close_ int fd = memfd_new(), fd2 = memfd_new(), lower_fd = -EBADF;
        _cleanup_strv_free_ char **implied = NULL;
        char lower[PATH_MAX + 16], p[PATH_MAX + 64];
        LayerUnpackResult res;
        Dirs d, with;

        dirs_make(&d);
        dirs_make(&with);
        snprintf(lower, sizeof lower, "%s/../lower", d.target);
        static const struct { const char *path; uid_t uid; mode_t mode; } below[] = {
                { "usr", 11, 0751 }, { "usr/lib", 12, 0715 }, { "opt", 13, 0755 }, { "opt/app", 14, 0750 },
        };
        for (size_t i = 0; i < ELEMENTSOF(below); i++) {
                snprintf(p, sizeof p, "%s/%s", lower, below[i].path);
                ck_assert_int_eq(mkdir_p(p, 0755), 0);
                ck_assert_int_eq(chown(p, below[i].uid, below[i].uid), 0);
                ck_assert_int_eq(chmod(p, below[i].mode), 0);
        }
        for (size_t i = ELEMENTSOF(below); i-- > 0;) {
                snprintf(p, sizeof p, "%s/%s", lower, below[i].path);
                ck_assert_int_eq(utimensat(AT_FDCWD, p, (struct timespec[2]) { { MTIME - 100 - (time_t) i, 0 },
                                                                               { MTIME - 100 - (time_t) i, 0 } }, 0), 0);
        }
        ck_assert_int_eq(chown(lower, 15, 15), 0);
        ck_assert_int_eq(chmod(lower, 0700), 0);
        ck_assert_int_eq(utimensat(AT_FDCWD, lower, (struct timespec[2]) { { MTIME - 99, 0 }, { MTIME - 99, 0 } }, 0), 0);
        lower_fd = open(lower, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        ck_assert_int_ge(lower_fd, 0);

        implied_layer(fd);
        ck_assert_int_eq(layer_unpack_full(fd, d.target_fd, NULL, 0, NULL, NULL, &res, &implied), 0);
        ck_assert_uint_eq(res.implied_dirs, 7);
        /* The root (not listed either) and six: opt/ was listed after all. Parents first. */
        ck_assert_uint_eq(strv_length(implied), 7);
        ck_assert_str_eq(implied[0], "");
        ck_assert_str_eq(implied[1], "usr");
        ck_assert(!strv_contains(implied, "opt"));
        assert_dir_meta(&d, "usr", 0, 0755, 0);
        ck_assert_int_eq(layer_fix_implied_dirs(d.target_fd, &lower_fd, 1, implied), 0);

        implied_layer(fd2);
        ck_assert_int_eq(layer_unpack(fd2, with.target_fd, &lower_fd, 1, NULL, NULL, &res), 0);
        for (size_t i = 0; i < 2; i++) {
                const Dirs *x = i == 0 ? &d : &with;

                assert_dir_meta(x, ".", 15, 0700, MTIME - 99);
                assert_dir_meta(x, "usr", 11, 0751, MTIME - 100);
                assert_dir_meta(x, "usr/lib", 12, 0715, MTIME - 101);
                assert_dir_meta(x, "usr/lib/x", 0, 0755, 0);
                assert_dir_meta(x, "opt", 0, 0700, MTIME);
                assert_dir_meta(x, "opt/app", 14, 0750, MTIME - 103);
                assert_dir_meta(x, "new/dir", 0, 0755, 0);
        }
        /* Nothing below: no change, and a path replaced by a file is skipped. */
        ck_assert_int_eq(layer_fix_implied_dirs(d.target_fd, NULL, 0, implied), 0);
        assert_dir_meta(&d, "usr", 11, 0751, MTIME - 100);
        ck_assert_int_eq(rm_rf_at(d.target_fd, "new"), 0);
        ck_assert_int_eq(write_string_file_atomic_at(d.target_fd, "new", "a file now"), 0);
        ck_assert_int_eq(layer_fix_implied_dirs(d.target_fd, &lower_fd, 1, implied), 0);
        /* An implied directory a later entry turned into a symlink out of the
         * layer: the fix-up does not follow it. */
        {
                struct stat st;

                ck_assert_int_eq(rm_rf_at(d.target_fd, "usr"), 0);
                ck_assert_int_eq(symlinkat(d.canary, d.target_fd, "usr"), 0);
                ck_assert_int_eq(layer_fix_implied_dirs(d.target_fd, &lower_fd, 1, implied), 0);
                ck_assert_int_eq(stat(d.canary, &st), 0);
                ck_assert_uint_eq(st.st_uid, 0);
                ck_assert_int_eq(st.st_mode & 07777, 0755);
        }
        ck_assert_int_eq(rm_rf_at(AT_FDCWD, lower), 0);
}
END_TEST

START_TEST(test_nodes_owners_modes) {
        _cleanup_close_ int fd = memfd_new();
        LayerUnpackResult res;
        struct archive_entry *e;
        struct archive *a;
        struct stat st;
        Dirs d;

        dirs_make(&d);
        a = writer_new(fd, "none");
        e = entry_new("dev/null", AE_IFCHR | 0666);
        archive_entry_set_rdev(e, makedev(1, 3));
        entry_write(a, e, NULL, 0);
        e = entry_new("dev/loop0", AE_IFBLK | 0660);
        archive_entry_set_rdev(e, makedev(7, 0));
        archive_entry_set_gid(e, 6);
        entry_write(a, e, NULL, 0);
        entry_write(a, entry_new("run/fifo", AE_IFIFO | 0620), NULL, 0);
        e = entry_new("usr/bin/su", AE_IFREG | 04755);
        archive_entry_set_uid(e, 1000);
        archive_entry_set_gid(e, 2000);
        entry_write(a, e, "su", 2);
        e = entry_new("usr/bin/wall", AE_IFREG | 02755);
        archive_entry_set_gid(e, 5);
        entry_write(a, e, "wall", 4);
        add_dir(a, "tmp", 01777);
        e = entry_new("home/user", AE_IFDIR | 0700);
        archive_entry_set_uid(e, 1000);
        archive_entry_set_gid(e, 1000);
        entry_write(a, e, NULL, 0);
        e = entry_new("home/user/link", AE_IFLNK | 0777);
        archive_entry_set_symlink(e, "/nonexistent");
        archive_entry_set_uid(e, 1000);
        archive_entry_set_gid(e, 1001);
        entry_write(a, e, NULL, 0);
        writer_finish(a, fd);
        ck_assert_int_eq(unpack(&d, fd, NULL, &res), 0);

        stat_at(&d, "dev/null", &st);
        ck_assert(S_ISCHR(st.st_mode));
        ck_assert_uint_eq(st.st_rdev, makedev(1, 3));
        ck_assert_int_eq(st.st_mode & 07777, 0666);
        stat_at(&d, "dev/loop0", &st);
        ck_assert(S_ISBLK(st.st_mode));
        ck_assert_uint_eq(st.st_rdev, makedev(7, 0));
        ck_assert_uint_eq(st.st_gid, 6);
        ck_assert_int_eq(st.st_mode & 07777, 0660);
        stat_at(&d, "run/fifo", &st);
        ck_assert(S_ISFIFO(st.st_mode));
        ck_assert_int_eq(st.st_mode & 07777, 0620);
        stat_at(&d, "usr/bin/su", &st);
        ck_assert_uint_eq(st.st_uid, 1000);
        ck_assert_uint_eq(st.st_gid, 2000);
        ck_assert_int_eq(st.st_mode & 07777, 04755);
        stat_at(&d, "usr/bin/wall", &st);
        ck_assert_uint_eq(st.st_gid, 5);
        ck_assert_int_eq(st.st_mode & 07777, 02755);
        stat_at(&d, "tmp", &st);
        ck_assert_int_eq(st.st_mode & 07777, 01777);
        stat_at(&d, "home/user", &st);
        ck_assert_uint_eq(st.st_uid, 1000);
        ck_assert_int_eq(st.st_mode & 07777, 0700);
        stat_at(&d, "home/user/link", &st);
        ck_assert(S_ISLNK(st.st_mode));
        ck_assert_uint_eq(st.st_uid, 1000);
        ck_assert_uint_eq(st.st_gid, 1001);
}
END_TEST

START_TEST(test_mtimes) {
        _cleanup_close_ int fd = memfd_new();
        LayerUnpackResult res;
        struct archive_entry *e;
        struct archive *a;
        struct stat st;
        Dirs d;

        dirs_make(&d);
        a = writer_new(fd, "gzip");
        e = entry_new("dir", AE_IFDIR | 0755);
        archive_entry_set_mtime(e, 1111111111, 0);
        entry_write(a, e, NULL, 0);
        e = entry_new("dir/file", AE_IFREG | 0644);
        archive_entry_set_mtime(e, 1000000000, 500000000);
        entry_write(a, e, "x", 1);
        e = entry_new("dir/link", AE_IFLNK | 0777);
        archive_entry_set_symlink(e, "file");
        archive_entry_set_mtime(e, 1234567890, 0);
        entry_write(a, e, NULL, 0);
        e = entry_new("dir/sub", AE_IFDIR | 0755);
        archive_entry_set_mtime(e, 1222222222, 0);
        entry_write(a, e, NULL, 0);
        add_file(a, "dir/sub/late", "written after its directory");
        add_file(a, "dir/.wh.deleted", "");
        writer_finish(a, fd);
        ck_assert_int_eq(unpack(&d, fd, NULL, &res), 0);

        stat_at(&d, "dir", &st);
        ck_assert_int_eq(st.st_mtim.tv_sec, 1111111111);
        stat_at(&d, "dir/file", &st);
        ck_assert_int_eq(st.st_mtim.tv_sec, 1000000000);
        ck_assert_int_eq(st.st_mtim.tv_nsec, 500000000);
        stat_at(&d, "dir/link", &st);
        ck_assert_int_eq(st.st_mtim.tv_sec, 1234567890);
        stat_at(&d, "dir/sub", &st);
        ck_assert_int_eq(st.st_mtim.tv_sec, 1222222222);
        stat_at(&d, "dir/sub/late", &st);
        ck_assert_int_eq(st.st_mtim.tv_sec, MTIME);
}
END_TEST

START_TEST(test_xattrs) {
        /* VFS_CAP_REVISION_2 | effective, permitted = CAP_NET_RAW. */
        static const uint8_t cap[20] = { 0x01, 0x00, 0x00, 0x02, 0x00, 0x20, 0x00, 0x00 };
        _cleanup_close_ int fd = memfd_new();
        char p[PATH_MAX + 32], v[64];
        LayerUnpackResult res;
        struct archive_entry *e;
        struct archive *a;
        Dirs d;

        dirs_make(&d);
        a = writer_new(fd, "zstd");
        e = entry_new("usr/bin/ping", AE_IFREG | 0755);
        archive_entry_set_uid(e, 0);
        archive_entry_xattr_add_entry(e, "security.capability", cap, sizeof cap);
        archive_entry_xattr_add_entry(e, "user.comment", "hello", 5);
        archive_entry_xattr_add_entry(e, "trusted.overlay.redirect", "/etc", 4);
        entry_write(a, e, "ping", 4);
        e = entry_new("dir", AE_IFDIR | 0755);
        archive_entry_xattr_add_entry(e, "user.dir", "d", 1);
        entry_write(a, e, NULL, 0);
        writer_finish(a, fd);
        ck_assert_int_eq(unpack(&d, fd, NULL, &res), 0);

        snprintf(p, sizeof p, "%s/usr/bin/ping", d.target);
        ck_assert_int_eq(getxattr(p, "security.capability", v, sizeof v), (ssize_t) sizeof cap);
        ck_assert(memcmp(v, cap, sizeof cap) == 0);
        ck_assert_int_eq(getxattr(p, "user.comment", v, sizeof v), 5);
        ck_assert(memcmp(v, "hello", 5) == 0);
        ck_assert_int_eq(getxattr(p, "trusted.overlay.redirect", v, sizeof v), -1);
        snprintf(p, sizeof p, "%s/dir", d.target);
        ck_assert_int_eq(getxattr(p, "user.dir", v, sizeof v), 1);
}
END_TEST

START_TEST(test_replace_and_repeat) {
        _cleanup_close_ int fd = memfd_new();
        LayerUnpackResult res;
        struct archive *a;
        struct stat st;
        Dirs d;

        dirs_make(&d);
        a = writer_new(fd, "none");
        add_file(a, "x", "1");
        add_file(a, "x", "22");
        add_dir(a, "d", 0755);
        add_file(a, "d/f", "child");
        add_dir(a, "d", 0750);
        add_file(a, "y", "file first");
        add_dir(a, "y", 0755);
        add_file(a, "z/c", "child");
        add_file(a, "z", "file replaces dir");
        add_symlink(a, "s", "x");
        add_dir(a, "s", 0755);
        add_dir(a, "/", 0711);
        writer_finish(a, fd);
        ck_assert_int_eq(unpack(&d, fd, NULL, &res), 0);

        assert_content(&d, "x", "22");
        assert_content(&d, "d/f", "child");
        stat_at(&d, "d", &st);
        ck_assert_int_eq(st.st_mode & 07777, 0750);
        stat_at(&d, "y", &st);
        ck_assert(S_ISDIR(st.st_mode));
        assert_content(&d, "z", "file replaces dir");
        stat_at(&d, "s", &st);
        ck_assert(S_ISDIR(st.st_mode));
        ck_assert_int_eq(fstat(d.target_fd, &st), 0);
        ck_assert_int_eq(st.st_mode & 07777, 0711);
        ck_assert_int_eq(st.st_mtim.tv_sec, MTIME);
}
END_TEST

START_TEST(test_limits) {
        LayerUnpackResult res;
        LayerLimits l;
        Dirs d;

        dirs_make(&d);
        {
                _cleanup_close_ int fd = memfd_new();
                struct archive *a = writer_new(fd, "none");

                for (int i = 0; i < 5; i++) {
                        char n[16];
                        snprintf(n, sizeof n, "f%d", i);
                        add_file(a, n, "x");
                }
                writer_finish(a, fd);
                l = layer_limits_default;
                l.max_entries = 5;
                ck_assert_int_eq(unpack(&d, fd, &l, &res), 0);
                ck_assert_int_eq(lseek(fd, 0, SEEK_SET), 0);
                l.max_entries = 3;
                ck_assert_int_eq(unpack(&d, fd, &l, &res), -E2BIG);
                ck_assert_ptr_nonnull(strstr(layer_last_error(), "entries"));
        }
        {
                _cleanup_close_ int fd = memfd_new();
                struct archive *a = writer_new(fd, "none");

                add_file(a, "a-rather-long-name", "x");
                writer_finish(a, fd);
                l = layer_limits_default;
                l.max_path_length = 10;
                ck_assert_int_eq(unpack(&d, fd, &l, &res), -E2BIG);
        }
        {
                /* 100 MB of zeros is about 100 KB of gzip. */
                _cleanup_close_ int fd = memfd_new();
                _cleanup_free_ char *zeros = calloc(1, 1 << 20);
                struct archive *a = writer_new(fd, "gzip");
                struct archive_entry *e = entry_new("bomb", AE_IFREG | 0644);

                archive_entry_set_size(e, 100 << 20);
                ck_assert_int_eq(archive_write_header(a, e), ARCHIVE_OK);
                for (int i = 0; i < 100; i++)
                        ck_assert_int_eq(archive_write_data(a, zeros, 1 << 20), 1 << 20);
                archive_entry_free(e);
                writer_finish(a, fd);
                ck_assert_int_lt(lseek(fd, 0, SEEK_END), 1 << 20);
                ck_assert_int_eq(lseek(fd, 0, SEEK_SET), 0);
                l = layer_limits_default;
                l.max_uncompressed_size = 10 << 20;
                /* Refused by its declared size, before anything is written. */
                ck_assert_int_eq(unpack(&d, fd, &l, &res), -EFBIG);
                ck_assert_ptr_nonnull(strstr(layer_last_error(), "'bomb': a file of 104857600 bytes"));
                ck_assert(!exists_at(&d, "bomb"));
                ck_assert_int_eq(lseek(fd, 0, SEEK_SET), 0);
                l = layer_limits_default;
                l.max_compressed_size = 4096;
                ck_assert_int_eq(unpack(&d, fd, &l, &res), -EFBIG);
                ck_assert_ptr_nonnull(strstr(layer_last_error(), "compressed"));
        }
        {
                /* The stream counts too: 20 MB of zeros after the end marker. */
                _cleanup_close_ int fd = memfd_new();
                _cleanup_free_ char *zeros = calloc(1, 1 << 20);
                struct archive *a = writer_new(fd, "none");

                add_file(a, "small", "x");
                writer_finish(a, fd);
                ck_assert_int_gt(lseek(fd, 0, SEEK_END), 0);
                for (int i = 0; i < 20; i++)
                        ck_assert_int_eq(write(fd, zeros, 1 << 20), 1 << 20);
                ck_assert_int_eq(lseek(fd, 0, SEEK_SET), 0);
                l = layer_limits_default;
                l.max_uncompressed_size = 10 << 20;
                ck_assert_int_eq(unpack(&d, fd, &l, &res), -EFBIG);
                ck_assert_ptr_nonnull(strstr(layer_last_error(), "uncompressed layer exceeds"));
        }
}
END_TEST

START_TEST(test_sparse) {
        _cleanup_free_ char *data = calloc(1, 20 << 20);
        _cleanup_close_ int fd = memfd_new();
        LayerUnpackResult res;
        struct archive_entry *e;
        struct archive *a;
        struct stat st;
        char buf[8];
        Dirs d;

        dirs_make(&d);
        a = writer_new(fd, "gzip");
        e = entry_new("sparse", AE_IFREG | 0644);
        archive_entry_set_size(e, 20 << 20);
        archive_entry_sparse_add_entry(e, 4 << 20, 6);
        ck_assert_int_eq(archive_write_header(a, e), ARCHIVE_OK);
        /* The writer takes the whole file and leaves out the holes. */
        memcpy(data + (4 << 20), "hello\n", 6);
        ck_assert_int_eq(archive_write_data(a, data, 20 << 20), 20 << 20);
        archive_entry_free(e);
        writer_finish(a, fd);
        ck_assert_int_eq(unpack(&d, fd, NULL, &res), 0);

        ck_assert_uint_lt(res.uncompressed_size, 1 << 20);
        stat_at(&d, "sparse", &st);
        ck_assert_int_eq(st.st_size, 20 << 20);
        ck_assert_int_lt(st.st_blocks, 1024);
        {
                _cleanup_close_ int f = openat(d.target_fd, "sparse", O_RDONLY | O_CLOEXEC);
                ck_assert_int_eq(pread(f, buf, 6, 4 << 20), 6);
                ck_assert(memcmp(buf, "hello\n", 6) == 0);
                ck_assert_int_eq(pread(f, buf, 6, 0), 6);
                ck_assert(memcmp(buf, "\0\0\0\0\0\0", 6) == 0);
        }
}
END_TEST

static int build_two_files(const char *filter) {
        int fd = memfd_new();
        struct archive *a = writer_new(fd, filter);
        char *big = malloc(200000);

        fill_pattern(big, 200000, 3);
        add_file(a, "first", "0123456789");
        add_file(a, "second", big);
        writer_finish(a, fd);
        free(big);
        return fd;
}

START_TEST(test_truncated_and_garbage) {
        LayerUnpackResult res;
        Dirs d;

        dirs_make(&d);
        {
                /* pax: header + extended header blocks, so cut inside the second header. */
                _cleanup_close_ int fd = build_two_files("none");
                off_t second;

                /* Find the second entry's ustar header ("second" at offset 0 of a block). */
                for (second = 512; ; second += 512) {
                        char b[8];
                        ck_assert_int_eq(pread(fd, b, 6, second), 6);
                        if (memcmp(b, "second", 6) == 0)
                                break;
                        ck_assert_int_lt(second, 1 << 20);
                }
                ck_assert_int_eq(ftruncate(fd, second + 100), 0);
                ck_assert_int_eq(unpack(&d, fd, NULL, &res), -EBADMSG);
                ck_assert_msg(strstr(layer_last_error(), "truncated tar stream after entry 'first'"),
                              "%s", layer_last_error());
        }
        {
                _cleanup_close_ int fd = build_two_files("none");

                ck_assert_int_eq(ftruncate(fd, 100000), 0);
                ck_assert_int_eq(unpack(&d, fd, NULL, &res), -EBADMSG);
                ck_assert_msg(strstr(layer_last_error(), "'second'"), "%s", layer_last_error());
        }
        {
                _cleanup_close_ int fd = build_two_files("gzip");
                off_t size = lseek(fd, 0, SEEK_END);

                ck_assert_int_eq(ftruncate(fd, size / 2), 0);
                ck_assert_int_eq(lseek(fd, 0, SEEK_SET), 0);
                ck_assert_int_eq(unpack(&d, fd, NULL, &res), -EBADMSG);
                ck_assert_ptr_nonnull(layer_last_error());
        }
        {
                _cleanup_close_ int fd = memfd_new();
                char junk[4096];

                fill_pattern(junk, sizeof junk, 11);
                ck_assert_int_eq(write(fd, junk, sizeof junk), (ssize_t) sizeof junk);
                ck_assert_int_eq(lseek(fd, 0, SEEK_SET), 0);
                ck_assert_int_eq(unpack(&d, fd, NULL, &res), -EBADMSG);
                ck_assert_ptr_nonnull(layer_last_error());
        }
        {
                /* gzip magic followed by garbage */
                _cleanup_close_ int fd = memfd_new();
                static const uint8_t junk[64] = { 0x1f, 0x8b, 0x08, 0, 0, 0, 0, 0, 0, 3, 0xde, 0xad };

                ck_assert_int_eq(write(fd, junk, sizeof junk), (ssize_t) sizeof junk);
                ck_assert_int_eq(lseek(fd, 0, SEEK_SET), 0);
                ck_assert_int_eq(unpack(&d, fd, NULL, &res), -EBADMSG);
        }
}
END_TEST

typedef struct Feeder {
        int from, to;
        volatile int *cancel;
} Feeder;

/* Sends the first 8 MB, raises the cancel flag, then sends the rest. */
static void *feed(void *userdata) {
        Feeder *f = userdata;
        static char buf[65536];
        off_t sent = 0;
        ssize_t k;

        while ((k = read(f->from, buf, sizeof buf)) > 0) {
                if (sent >= (8 << 20))
                        *f->cancel = 1;
                if (write(f->to, buf, (size_t) k) != k)
                        break;
                sent += k;
        }
        close(f->to);
        return NULL;
}

START_TEST(test_cancel) {
        _cleanup_close_ int fd = memfd_new();
        _cleanup_free_ char *big = malloc(32 << 20);
        volatile int cancel = 1;
        LayerUnpackResult res;
        struct archive *a;
        struct stat st;
        pthread_t t;
        int pipefd[2];
        Dirs d;

        dirs_make(&d);
        fill_pattern(big, 32 << 20, 5);
        a = writer_new(fd, "none");
        add_file(a, "first", "x");
        entry_write(a, entry_new("big", AE_IFREG | 0644), big, 32 << 20);
        writer_finish(a, fd);

        ck_assert_int_eq(layer_unpack(fd, d.target_fd, NULL, 0, NULL, &cancel, &res), -ECANCELED);
        ck_assert(!exists_at(&d, "first"));

        /* Cancelled in the middle of a big file. */
        cancel = 0;
        ck_assert_int_eq(lseek(fd, 0, SEEK_SET), 0);
        ck_assert_int_eq(pipe2(pipefd, O_CLOEXEC), 0);
        Feeder f = { .from = fd, .to = pipefd[1], .cancel = (volatile int *) &cancel };
        ck_assert_int_eq(pthread_create(&t, NULL, feed, &f), 0);
        ck_assert_int_eq(layer_unpack(pipefd[0], d.target_fd, NULL, 0, NULL, &cancel, &res), -ECANCELED);
        close(pipefd[0]);
        ck_assert_int_eq(pthread_join(t, NULL), 0);
        stat_at(&d, "big", &st);
        ck_assert_int_lt(st.st_size, 32 << 20);
        ck_assert_ptr_nonnull(strstr(layer_last_error(), "cancel"));
}
END_TEST

static void *cancel_later(void *userdata) {
        usleep(300 * 1000);
        *(volatile int *) userdata = 1;
        return NULL;
}

/* A download that stalls: the unpack waits in poll(), not in read(), and
 * still notices cancel. O_NONBLOCK input works too. */
START_TEST(test_cancel_stalled_pipe) {
        _cleanup_close_ int fd = memfd_new();
        volatile int cancel = 0;
        LayerUnpackResult res;
        struct archive *a;
        char buf[1536];
        pthread_t t;
        int pipefd[2];
        uint64_t t0;
        Dirs d;

        dirs_make(&d);
        a = writer_new(fd, "gzip");
        add_file(a, "first", "x");
        add_file(a, "second", "y");
        writer_finish(a, fd);
        ck_assert_int_eq(pipe2(pipefd, O_CLOEXEC | O_NONBLOCK), 0);
        /* Half of the stream, then nothing, and the writer stays open. */
        ssize_t n = read(fd, buf, sizeof buf);
        ck_assert_int_gt(n, 0);
        ck_assert_int_lt(n, (ssize_t) sizeof buf);
        ck_assert_int_eq(write(pipefd[1], buf, (size_t) n / 2), n / 2);
        ck_assert_int_eq(pthread_create(&t, NULL, cancel_later, (void *) &cancel), 0);
        t0 = now_usec(CLOCK_MONOTONIC);
        ck_assert_int_eq(layer_unpack(pipefd[0], d.target_fd, NULL, 0, NULL, &cancel, &res), -ECANCELED);
        ck_assert_uint_lt(now_usec(CLOCK_MONOTONIC) - t0, 5 * 1000 * 1000);
        ck_assert_int_eq(pthread_join(t, NULL), 0);
        ck_assert_ptr_nonnull(strstr(layer_last_error(), "cancel"));

        /* The rest arrives: the whole stream unpacks from the non-blocking pipe. */
        close(pipefd[0]);
        close(pipefd[1]);
        ck_assert_int_eq(pipe2(pipefd, O_CLOEXEC | O_NONBLOCK), 0);
        ck_assert_int_eq(write(pipefd[1], buf, (size_t) n), n);
        close(pipefd[1]);
        cancel = 0;
        ck_assert_int_eq(layer_unpack(pipefd[0], d.target_fd, NULL, 0, NULL, &cancel, &res), 0);
        close(pipefd[0]);
        assert_content(&d, "second", "y");
}
END_TEST

/* --- Attacks on the limits ------------------------------------------------ */

static uint64_t blocks_total;

static int add_blocks(const char *path, const struct stat *st, int type, struct FTW *ftw) {
        blocks_total += (uint64_t) st->st_blocks * 512;
        return 0;
}

/* What the files below the target really take on disk. */
static uint64_t disk_usage(const Dirs *d) {
        blocks_total = 0;
        ck_assert_int_eq(nftw(d->target, add_blocks, 16, FTW_PHYS), 0);
        return blocks_total;
}

static void tarbuf_to_fd(const TarBuf *b, int fd, bool gzip) {
        struct archive *a = archive_write_new();
        struct archive_entry *e = archive_entry_new();

        ck_assert_int_eq(archive_write_set_format_raw(a), ARCHIVE_OK);
        if (gzip)
                ck_assert_int_eq(archive_write_add_filter_gzip(a), ARCHIVE_OK);
        ck_assert_int_eq(archive_write_set_bytes_in_last_block(a, 1), ARCHIVE_OK);
        ck_assert_int_eq(archive_write_open_fd(a, fd), ARCHIVE_OK);
        archive_entry_set_filetype(e, AE_IFREG);
        archive_entry_set_pathname(e, "data");
        archive_entry_set_size(e, (la_int64_t) b->size);
        ck_assert_int_eq(archive_write_header(a, e), ARCHIVE_OK);
        ck_assert_int_eq(archive_write_data(a, b->data, b->size), (la_ssize_t) b->size);
        archive_entry_free(e);
        writer_finish(a, fd);
}

/* A sparse member is written by its declared size: a few hundred bytes of
 * archive must not make a file of 1 TiB (it costs no disk until someone
 * reads it out: a copy-up in a container, a save, a backup). */
START_TEST(test_attack_sparse_declared_size) {
        static const uint64_t one[][2] = { { 0, 512 } };
        static const uint64_t far[][2] = { { 0, 512 }, { UINT64_C(1) << 40, 512 } };
        static const uint64_t half[][2] = { { 0, 512 } };
        const uint64_t tib = UINT64_C(1) << 40;
        LayerUnpackResult res;
        LayerLimits l;
        Dirs d;

        dirs_make(&d);
        {
                _cleanup_close_ int fd = memfd_new();
                TarBuf b = {};

                tar_gnu_sparse(&b, "big", tib, one, 1);
                tar_end(&b);
                tarbuf_to_fd(&b, fd, true);
                ck_assert_int_lt(lseek(fd, 0, SEEK_END), 30 * 1024);
                ck_assert_int_eq(lseek(fd, 0, SEEK_SET), 0);
                ck_assert_int_eq(unpack(&d, fd, NULL, &res), -EFBIG);
                ck_assert_ptr_nonnull(strstr(layer_last_error(), "'big': a sparse file (holes included) of 1099511627776"));
                ck_assert(!exists_at(&d, "big"));
                ck_assert_uint_lt(disk_usage(&d), 64 * 1024);
                free(b.data);
        }
        {
                /* The map reaching past the declared size, which libarchive
                 * leaves out of the entry's map but still hands out data for. */
                _cleanup_close_ int fd = memfd_new();
                TarBuf b = {};
                struct stat st;

                tar_gnu_sparse(&b, "small", 1024, far, 2);
                tar_end(&b);
                tarbuf_to_fd(&b, fd, false);
                ck_assert_int_lt(unpack(&d, fd, NULL, &res), 0);
                ck_assert(!exists_at(&d, "small") ||
                          (fstatat(d.target_fd, "small", &st, AT_SYMLINK_NOFOLLOW) == 0 && st.st_size <= 1024));
                ck_assert_uint_lt(disk_usage(&d), 64 * 1024);
                free(b.data);
        }
        {
                /* Each sparse file is under the limit, together they are not. */
                _cleanup_close_ int fd = memfd_new();
                TarBuf b = {};

                tar_gnu_sparse(&b, "a", 6 << 20, half, 1);
                tar_gnu_sparse(&b, "b", 6 << 20, half, 1);
                tar_end(&b);
                tarbuf_to_fd(&b, fd, false);
                l = layer_limits_default;
                l.max_uncompressed_size = 10 << 20;
                ck_assert_int_eq(unpack(&d, fd, &l, &res), -EFBIG);
                ck_assert_ptr_nonnull(strstr(layer_last_error(), "'b': a sparse file"));
                ck_assert(!exists_at(&d, "b"));
                /* Within the limit, the same layer unpacks, holes and all. */
                ck_assert_int_eq(lseek(fd, 0, SEEK_SET), 0);
                l.max_uncompressed_size = 12 << 20;
                ck_assert_int_eq(unpack(&d, fd, &l, &res), 0);
                ck_assert_uint_lt(disk_usage(&d), 1 << 20);
                free(b.data);
        }
}
END_TEST

/* A hardlink to a file of a lower layer copies it up: those bytes count. */
START_TEST(test_attack_copy_up) {
        _cleanup_close_ int lower_fd = -EBADF;
        _cleanup_free_ char *data = malloc(3 << 20);
        char lower[PATH_MAX + 16], p[PATH_MAX + 64];
        LayerUnpackResult res;
        LayerLimits l = layer_limits_default;
        struct archive *a;
        Dirs d;

        dirs_make(&d);
        snprintf(lower, sizeof lower, "%s/../lower", d.target);
        ck_assert_int_eq(mkdir(lower, 0755), 0);
        fill_pattern(data, 3 << 20, 1);
        for (int i = 0; i < 3; i++) {
                _cleanup_close_ int f = -EBADF;

                snprintf(p, sizeof p, "%s/file%d", lower, i);
                f = open(p, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644);
                ck_assert_int_ge(f, 0);
                ck_assert_int_eq(write(f, data, 3 << 20), 3 << 20);
        }
        /* Holes too: a lower file of 1 GiB that takes no disk. */
        snprintf(p, sizeof p, "%s/huge", lower);
        ck_assert_int_eq(close(open(p, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644)), 0);
        ck_assert_int_eq(truncate(p, 1 << 30), 0);
        lower_fd = open(lower, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        ck_assert_int_ge(lower_fd, 0);
        l.max_uncompressed_size = 8 << 20;
        {
                _cleanup_close_ int fd = memfd_new();

                a = writer_new(fd, "gzip");
                add_hardlink(a, "l0", "file0");
                add_hardlink(a, "l0b", "file0");        /* the copy is there now: no second copy */
                add_hardlink(a, "l1", "file1");
                add_hardlink(a, "l2", "file2");         /* 9 MiB copied up: past 8 MiB */
                writer_finish(a, fd);
                ck_assert_int_eq(layer_unpack(fd, d.target_fd, &lower_fd, 1, &l, NULL, &res), -EFBIG);
                ck_assert_ptr_nonnull(strstr(layer_last_error(), "'l2': copying up a file of a lower layer of 3145728"));
                ck_assert(!exists_at(&d, "file2"));
                ck_assert(exists_at(&d, "l1"));
        }
        {
                _cleanup_close_ int fd = memfd_new();

                a = writer_new(fd, "none");
                add_hardlink(a, "big", "huge");
                writer_finish(a, fd);
                ck_assert_int_eq(layer_unpack(fd, d.target_fd, &lower_fd, 1, &l, NULL, &res), -EFBIG);
                ck_assert(!exists_at(&d, "huge"));
        }
        ck_assert_int_eq(rm_rf_at(AT_FDCWD, lower), 0);
}
END_TEST

static void add_xattr_file(struct archive *a, const char *path, size_t xattr_size) {
        _cleanup_free_ char *v = malloc(xattr_size);
        struct archive_entry *e = entry_new(path, AE_IFREG | 0644);

        fill_pattern(v, xattr_size, 5);
        archive_entry_xattr_add_entry(e, "user.big", v, xattr_size);
        entry_write(a, e, "x", 1);
}

/* What libarchive keeps in memory for an entry (pax records, long names, a
 * sparse map) is bounded by the bytes of its headers. */
START_TEST(test_attack_headers) {
        LayerUnpackResult res;
        LayerLimits l;
        Dirs d;

        dirs_make(&d);
        {
                /* An xattr the kernel would refuse anyway: a clear error. */
                _cleanup_close_ int fd = memfd_new();
                struct archive *a = writer_new(fd, "gzip");

                add_xattr_file(a, "x", 200 * 1024);
                writer_finish(a, fd);
                ck_assert_int_eq(unpack(&d, fd, NULL, &res), -E2BIG);
                ck_assert_ptr_nonnull(strstr(layer_last_error(), "xattr user.big has 204800 bytes"));
        }
        {
                /* A pax header of several MiB. */
                _cleanup_close_ int fd = memfd_new();
                struct archive *a = writer_new(fd, "gzip");

                add_file(a, "before", "1");
                add_xattr_file(a, "huge", 5 << 20);
                writer_finish(a, fd);
                ck_assert_int_eq(unpack(&d, fd, NULL, &res), -E2BIG);
                ck_assert_msg(strstr(layer_last_error(), "after entry 'before' refused"), "%s", layer_last_error());
                ck_assert(!exists_at(&d, "huge"));
        }
        {
                /* Below libarchive's own bound (1 MiB a record), the configured
                 * one holds, to within a block of the stream (64 KiB of gzip):
                 * a 300 KiB xattr makes 700 KB of pax header. */
                _cleanup_close_ int fd = memfd_new();
                struct archive *a = writer_new(fd, "gzip");

                add_file(a, "before", "1");
                add_xattr_file(a, "big", 300 * 1024);
                writer_finish(a, fd);
                l = layer_limits_default;
                l.max_header_size = 256 * 1024;
                ck_assert_int_eq(unpack(&d, fd, &l, &res), -E2BIG);
                ck_assert_msg(strstr(layer_last_error(), "tar headers of the entry after 'before'"), "%s",
                              layer_last_error());
                ck_assert(!exists_at(&d, "big"));
                ck_assert_int_eq(lseek(fd, 0, SEEK_SET), 0);
                ck_assert_int_eq(unpack(&d, fd, NULL, &res), -E2BIG);
                ck_assert_ptr_nonnull(strstr(layer_last_error(), "xattr user.big has 307200 bytes"));
        }
}
END_TEST

/* A layer of a few hundred KB must not cost the daemon much memory, however
 * it is made: a sparse map of millions of extents, thousands of directories
 * with the longest paths (their times are kept until the end), many
 * hardlinks. */
START_TEST(test_attack_memory) {
        LayerUnpackResult res;
        LayerLimits l;
        long mark;
        Dirs d;

        dirs_make(&d);
        {
                /* 2.1 million extents in 100,000 extension blocks, 50 MB of
                 * tar, about 100 KB of gzip. */
                const size_t n = 4 + 21 * 100000;
                _cleanup_free_ uint64_t (*map)[2] = calloc(n, sizeof *map);
                _cleanup_close_ int fd = memfd_new();
                TarBuf b = {};

                ck_assert_ptr_nonnull(map);
                tar_gnu_sparse(&b, "map", 1 << 20, (const uint64_t (*)[2]) map, n);
                tar_end(&b);
                tarbuf_to_fd(&b, fd, true);
                free(b.data);
                ck_assert_int_lt(lseek(fd, 0, SEEK_END), 1 << 20);
                ck_assert_int_eq(lseek(fd, 0, SEEK_SET), 0);
                mark = tar_memory_mark();
                ck_assert_int_eq(unpack(&d, fd, NULL, &res), -E2BIG);
                tar_assert_memory_below(mark, 40 << 20);
                ck_assert_ptr_nonnull(strstr(layer_last_error(), "sparse map"));
        }
        {
                /* 2,000 directories of 4,000-byte paths: 8 MB of table. */
                _cleanup_close_ int fd = memfd_new();
                struct archive *a = writer_new(fd, "gzip");
                char path[4096], *p = path;

                for (int i = 0; i < 15; i++) {
                        memset(p, 'a' + i, 250);
                        p[250] = '/';
                        p += 251;
                }
                for (int i = 0; i < 2000; i++) {
                        snprintf(p, path + sizeof path - p, "%0200d", i);
                        add_dir(a, path, 0755);
                }
                writer_finish(a, fd);
                l = layer_limits_default;
                l.max_dir_table_size = 1 << 20;
                ck_assert_int_eq(unpack(&d, fd, &l, &res), -E2BIG);
                ck_assert_msg(strstr(layer_last_error(), "directories"), "%s", layer_last_error());
        }
        {
                /* 20,000 hardlinks: nothing is kept per link. */
                _cleanup_close_ int fd = memfd_new();
                struct archive *a = writer_new(fd, "gzip");
                char name[64];
                Dirs d2;

                dirs_make(&d2);
                add_file(a, "target", "shared");
                for (int i = 0; i < 20000; i++) {
                        snprintf(name, sizeof name, "link-%05d-%040d", i, i);
                        add_hardlink(a, name, "target");
                }
                writer_finish(a, fd);
                mark = tar_memory_mark();
                ck_assert_int_eq(unpack(&d2, fd, NULL, &res), 0);
                tar_assert_memory_below(mark, 8 << 20);
        }
}
END_TEST

int main(void) {
        Suite *s = suite_create("layer");
        TCase *tc = tcase_create("core");
        SRunner *sr;
        int failed;

        signal(SIGPIPE, SIG_IGN);
        if (!mkdtemp(top)) {
                perror("mkdtemp");
                return EXIT_FAILURE;
        }
        tcase_set_timeout(tc, 60);
        tcase_add_test(tc, test_plain);
        tcase_add_test(tc, test_gzip);
        tcase_add_test(tc, test_zstd);
        tcase_add_test(tc, test_implied_dirs_fixed_up);
        tcase_add_test(tc, test_trailing_data);
        tcase_add_test(tc, test_symlinks_never_followed);
        tcase_add_test(tc, test_dotdot);
        tcase_add_test(tc, test_absolute);
        tcase_add_test(tc, test_whiteouts);
        tcase_add_test(tc, test_hardlink_in_layer);
        tcase_add_test(tc, test_hardlink_to_lower);
        tcase_add_test(tc, test_hardlink_header_metadata);
        tcase_add_test(tc, test_nodes_owners_modes);
        tcase_add_test(tc, test_mtimes);
        tcase_add_test(tc, test_xattrs);
        tcase_add_test(tc, test_replace_and_repeat);
        tcase_add_test(tc, test_sparse);
        tcase_add_test(tc, test_limits);
        tcase_add_test(tc, test_attack_sparse_declared_size);
        tcase_add_test(tc, test_attack_copy_up);
        tcase_add_test(tc, test_attack_headers);
        tcase_add_test(tc, test_attack_memory);
        tcase_add_test(tc, test_truncated_and_garbage);
        tcase_add_test(tc, test_cancel);
        tcase_add_test(tc, test_cancel_stalled_pipe);
        suite_add_tcase(s, tc);
        sr = srunner_create(s);
        srunner_run_all(sr, CK_NORMAL);
        failed = srunner_ntests_failed(sr);
        srunner_free(sr);
        (void) rm_rf_at(AT_FDCWD, top);
        return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
