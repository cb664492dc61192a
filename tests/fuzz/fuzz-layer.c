/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The layer unpacker (lib/layer.c): the input is a layer blob (tar, maybe
 * gzip or zstd), unpacked into a fresh directory above one lower layer
 * (for hardlink copy-ups and implied directories), which is removed again
 * after every run.
 *
 * Layout, in a directory made once below fuzz_tmpdir():
 *   lower/    the lower layer, made at start; must never change
 *   t/        the target of the current run
 * Nothing else may appear there: an entry that escaped the target would.
 * The limits keep one run small (a few MiB, a few hundred entries), and the
 * sparse files the stream may declare cost no disk. */
#include <fcntl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <sys/xattr.h>

#include "fileio.h"
#include "fuzz.h"
#include "layer.h"
#include "util.h"

static const LayerLimits limits = {
        .max_compressed_size = 1 << 20,
        .max_uncompressed_size = 8 << 20,
        .max_entries = 256,
        .max_path_length = 1024,
        .max_header_size = 64 << 10,
        .max_dir_table_size = 1 << 20,
};

static char top[PATH_MAX];
static int top_fd = -EBADF, lower_fd = -EBADF;
static char *lower_print;

static void cleanup(void) {
        if (top_fd >= 0)
                (void) rm_rf_at(AT_FDCWD, top);
}

static void make_file(const char *path, const char *content, mode_t mode) {
        _cleanup_close_ int fd = openat(lower_fd, path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, mode);

        FUZZ_CHECK(fd >= 0);
        FUZZ_CHECK(write(fd, content, strlen(content)) == (ssize_t) strlen(content));
        FUZZ_CHECK(fchmod(fd, mode) == 0);
}

/* A small base layer: what real images have below a layer that links to,
 * whites out or replaces their files. */
static void make_lower(void) {
        static const char *const dirs[] = { "bin", "etc", "usr", "usr/lib", "var", "var/cache", "tmp" };

        for (size_t i = 0; i < ELEMENTSOF(dirs); i++)
                FUZZ_CHECK(mkdirat(lower_fd, dirs[i], 0755) == 0);
        FUZZ_CHECK(fchmodat(lower_fd, "tmp", 01777, 0) == 0);
        make_file("bin/busybox", "#!/bin/sh\necho busybox\n", 0755);
        make_file("etc/passwd", "root:x:0:0:root:/root:/bin/sh\nnobody:x:65534:65534::/:/bin/false\n", 0644);
        make_file("etc/shadow", "root:*:19000:0:99999:7:::\n", 0600);
        make_file("usr/lib/libc.so.6", "\177ELF not really\n", 0755);
        make_file("var/cache/suid", "", 04755);
        FUZZ_CHECK(fchownat(lower_fd, "etc/shadow", 0, 42, 0) == 0);
        FUZZ_CHECK(symlinkat("busybox", lower_fd, "bin/sh") == 0);
        FUZZ_CHECK(symlinkat("/etc/passwd", lower_fd, "passwd-link") == 0);
        FUZZ_CHECK(linkat(lower_fd, "bin/busybox", lower_fd, "bin/ls", 0) == 0);
        FUZZ_CHECK(mkfifoat(lower_fd, "var/fifo", 0600) == 0);
        FUZZ_CHECK(mknodat(lower_fd, "gone", S_IFCHR | 0, makedev(0, 0)) == 0);
        /* Xattrs need a filesystem that has them; without, the layer's
         * copy-up simply has none to copy. */
        _cleanup_close_ int fd = openat(lower_fd, "var/cache", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        FUZZ_CHECK(fd >= 0);
        (void) fsetxattr(fd, "trusted.overlay.opaque", "y", 1, 0);
        safe_close(TAKE_FD(fd));
        fd = openat(lower_fd, "bin/busybox", O_RDONLY | O_CLOEXEC);
        FUZZ_CHECK(fd >= 0);
        (void) fsetxattr(fd, "user.fuzz", "1", 1, 0);
}

/* Everything about the lower layer that a write through it would change:
 * names, types, modes, owners, sizes, link counts and ctimes (which every
 * change of an inode updates). */
static void fingerprint(int dirfd, const char *prefix, FILE *out) {
        _cleanup_closedir_ DIR *d = NULL;
        struct dirent *de;
        struct stat st;
        int fd;

        fd = openat(dirfd, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        FUZZ_CHECK(fd >= 0);
        d = fdopendir(fd);
        FUZZ_CHECK(d);
        FUZZ_CHECK(fstat(dirfd, &st) == 0);
        fprintf(out, "%s/ %o %u:%u %ju %ld.%ld\n", prefix, st.st_mode, st.st_uid, st.st_gid,
                (uintmax_t) st.st_nlink, (long) st.st_ctim.tv_sec, st.st_ctim.tv_nsec);
        while ((de = readdir(d))) {
                if (streq(de->d_name, ".") || streq(de->d_name, ".."))
                        continue;
                FUZZ_CHECK(fstatat(dirfd, de->d_name, &st, AT_SYMLINK_NOFOLLOW) == 0);
                if (S_ISDIR(st.st_mode)) {
                        _cleanup_close_ int sub = openat(dirfd, de->d_name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
                        _cleanup_free_ char *p = strjoin(prefix, "/", de->d_name);
                        FUZZ_CHECK(sub >= 0 && p);
                        fingerprint(sub, p, out);
                        continue;
                }
                fprintf(out, "%s/%s %o %u:%u %jd %ju %ld.%ld\n", prefix, de->d_name, st.st_mode,
                        st.st_uid, st.st_gid, (intmax_t) st.st_size, (uintmax_t) st.st_nlink,
                        (long) st.st_ctim.tv_sec, st.st_ctim.tv_nsec);
        }
}

static char *lower_fingerprint(void) {
        char *buf = NULL;
        size_t size = 0;
        FILE *f = open_memstream(&buf, &size);

        FUZZ_CHECK(f);
        fingerprint(lower_fd, "", f);
        FUZZ_CHECK(fclose(f) == 0);
        return buf;
}

int LLVMFuzzerInitialize(int *argc, char ***argv) {
        snprintf(top, sizeof top, "%s/berth-fuzz-layer-XXXXXX", fuzz_tmpdir());
        FUZZ_CHECK(mkdtemp(top));
        top_fd = open(top, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        FUZZ_CHECK(top_fd >= 0);
        atexit(cleanup);
        FUZZ_CHECK(mkdirat(top_fd, "lower", 0755) == 0);
        lower_fd = openat(top_fd, "lower", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        FUZZ_CHECK(lower_fd >= 0);
        make_lower();
        lower_print = lower_fingerprint();
        return 0;
}

static void check_top_holds_only_lower(void) {
        _cleanup_closedir_ DIR *d = NULL;
        struct dirent *de;
        int fd = openat(top_fd, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);

        FUZZ_CHECK(fd >= 0);
        d = fdopendir(fd);
        FUZZ_CHECK(d);
        while ((de = readdir(d)))
                if (!streq(de->d_name, ".") && !streq(de->d_name, "..") && !streq(de->d_name, "lower")) {
                        fprintf(stderr, "escaped the target: %s/%s\n", top, de->d_name);
                        abort();
                }
}

static bool digest_well_formed(const char *d) {
        const char *hex = startswith(d, "sha256:");

        return hex && strlen(hex) == 64 && strspn(hex, "0123456789abcdef") == 64;
}

#ifdef BERTH_LIBFUZZER
size_t LLVMFuzzerMutate(uint8_t *data, size_t size, size_t max_size);
size_t LLVMFuzzerCustomMutator(uint8_t *data, size_t size, size_t max_size, unsigned seed);

/* Mutates as libFuzzer would, then makes the checksum of every tar header
 * right again: with a wrong one libarchive stops at the first header, and
 * the fuzzer would hardly ever get past it. Headers start at multiples of
 * 512 bytes; ustar/pax/GNU ones say "ustar" at offset 257. Compressed
 * inputs are left to chance. Half of the mutations keep a wrong checksum,
 * so that path is fuzzed too. */
size_t LLVMFuzzerCustomMutator(uint8_t *data, size_t size, size_t max_size, unsigned seed) {
        size = LLVMFuzzerMutate(data, size, max_size);
        if (seed % 2)
                return size;
        for (size_t off = 0; off + 512 <= size; off += 512) {
                uint8_t *h = data + off;
                unsigned sum = 0;

                if (memcmp(h + 257, "ustar", 5) != 0)
                        continue;
                memset(h + 148, ' ', 8);
                for (size_t i = 0; i < 512; i++)
                        sum += h[i];
                snprintf((char *) h + 148, 8, "%06o", sum & 0777777);
                h[155] = ' ';
        }
        return size;
}
#endif

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
        _cleanup_close_ int fd = memfd_create("layer", MFD_CLOEXEC), target = -EBADF;
        _cleanup_free_ char *print = NULL;
        LayerUnpackResult res;
        int r;

        FUZZ_CHECK(fd >= 0);
        for (size_t n = 0; n < size;) {
                ssize_t k = write(fd, data + n, size - n);
                FUZZ_CHECK(k > 0);
                n += (size_t) k;
        }
        FUZZ_CHECK(lseek(fd, 0, SEEK_SET) == 0);
        FUZZ_CHECK(mkdirat(top_fd, "t", 0755) == 0);
        target = openat(top_fd, "t", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        FUZZ_CHECK(target >= 0);

        r = layer_unpack(fd, target, &lower_fd, 1, &limits, NULL, &res);
        if (getenv("BERTH_FUZZ_VERBOSE"))
                fprintf(stderr, "layer_unpack: %s\n", r >= 0 ? "ok" : layer_last_error());
        if (r >= 0) {
                FUZZ_CHECK(res.compressed_size == size);
                FUZZ_CHECK(res.uncompressed_size <= limits.max_uncompressed_size);
                FUZZ_CHECK(res.entries <= limits.max_entries);
                FUZZ_CHECK(digest_well_formed(res.compressed_digest));
                FUZZ_CHECK(digest_well_formed(res.diff_id));
        } else
                FUZZ_CHECK(layer_last_error());

        safe_close(TAKE_FD(target));
        r = rm_rf_at(top_fd, "t");
        if (r < 0) {
                fprintf(stderr, "cannot remove %s/t: %s\n", top, strerror(-r));
                abort();
        }
        check_top_holds_only_lower();
        print = lower_fingerprint();
        FUZZ_CHECK(streq(print, lower_print));
        return 0;
}
