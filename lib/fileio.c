/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <fcntl.h>
#include <poll.h>
#include <linux/openat2.h>
#include <sys/random.h>
#include <sys/syscall.h>
#include <sys/stat.h>

#include "fileio.h"

/* "dir/name" -> "dir/.#name.XXXXXXXXXXXXXXXX", in the same directory so the
 * rename stays atomic. */
int tempname_at(const char *path, char **ret) {
        const char *slash = strrchr(path, '/');
        uint64_t rnd;
        char suffix[17];

        if (getrandom(&rnd, sizeof rnd, 0) != sizeof rnd)
                return -EIO;
        snprintf(suffix, sizeof suffix, "%016llx", (unsigned long long) rnd);
        if (slash) {
                _cleanup_free_ char *dir = strndup(path, (size_t) (slash - path + 1));
                if (!dir)
                        return -ENOMEM;
                *ret = strjoin(dir, ".#", slash + 1, ".", suffix);
        } else
                *ret = strjoin(".#", path, ".", suffix);
        return *ret ? 0 : -ENOMEM;
}

static int write_all(int fd, const void *data, size_t size) {
        const uint8_t *p = data;

        while (size > 0) {
                ssize_t k = write(fd, p, size);
                if (k < 0) {
                        if (errno == EINTR)
                                continue;
                        return -errno;
                }
                p += k;
                size -= (size_t) k;
        }
        return 0;
}

int opendir_at(int dirfd, const char *path, int flags, DIR **ret) {
        int fd = openat(dirfd, path, O_RDONLY | O_DIRECTORY | O_CLOEXEC | flags);
        DIR *d;

        if (fd < 0)
                return -errno;
        d = fdopendir(fd);
        if (!d) {
                int r = -errno;
                safe_close(fd);
                return r;
        }
        *ret = d;
        return 0;
}

/* Makes a file written earlier without fsync durable, with its name. */
int fsync_path_at(int dirfd, const char *path) {
        _cleanup_close_ int fd = openat(dirfd, path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);

        if (fd < 0)
                return -errno;
        if (fsync(fd) < 0)
                return -errno;
        return fsync_directory_of_at(dirfd, path);
}

int fsync_directory_of_at(int dirfd, const char *path) {
        const char *slash = strrchr(path, '/');
        _cleanup_free_ char *dir = NULL;
        _cleanup_close_ int fd = -EBADF;

        if (slash) {
                dir = strndup(path, slash == path ? 1 : (size_t) (slash - path));
                if (!dir)
                        return -ENOMEM;
        }
        fd = openat(dirfd, dir ?: ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        if (fd < 0)
                return -errno;
        return fsync(fd) < 0 ? -errno : 0;
}

int write_file_replace_at(int dirfd, const char *path, const void *data, size_t size, mode_t mode,
                          bool durable) {
        _cleanup_free_ char *tmp = NULL;
        _cleanup_close_ int fd = -EBADF;
        int r;

        r = tempname_at(path, &tmp);
        if (r < 0)
                return r;
        fd = openat(dirfd, tmp, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW, mode);
        if (fd < 0)
                return -errno;
        r = write_all(fd, data, size);
        if (r >= 0 && fchmod(fd, mode) < 0)
                r = -errno;
        if (r >= 0 && durable && fsync(fd) < 0)
                r = -errno;
        if (r >= 0 && renameat(dirfd, tmp, dirfd, path) < 0)
                r = -errno;
        if (r < 0) {
                (void) unlinkat(dirfd, tmp, 0);
                return r;
        }
        return durable ? fsync_directory_of_at(dirfd, path) : 0;
}

int write_file_atomic_at(int dirfd, const char *path, const void *data, size_t size, mode_t mode) {
        return write_file_replace_at(dirfd, path, data, size, mode, true);
}

int write_string_file_replace_at(int dirfd, const char *path, const char *s) {
        return write_file_replace_at(dirfd, path, s, strlen(s), 0644, false);
}

int write_string_file_atomic_at(int dirfd, const char *path, const char *s) {
        return write_file_atomic_at(dirfd, path, s, strlen(s), 0644);
}

int read_full_fd(int fd, size_t max_size, char **ret, size_t *ret_size) {
        _cleanup_free_ char *buf = NULL;
        size_t n = 0, allocated = 0;

        for (;;) {
                ssize_t k;

                if (allocated - n < 4096) {
                        size_t want = MAX(allocated * 2, (size_t) 16384);
                        char *b = realloc(buf, want + 1);
                        if (!b)
                                return -ENOMEM;
                        buf = b;
                        allocated = want;
                }
                k = read(fd, buf + n, allocated - n);
                if (k < 0) {
                        if (errno == EINTR)
                                continue;
                        return -errno;
                }
                if (k == 0)
                        break;
                n += (size_t) k;
                if (n > max_size)
                        return -EFBIG;
        }
        buf[n] = 0;
        if (ret_size)
                *ret_size = n;
        *ret = TAKE_PTR(buf);
        return 0;
}

int read_full_file_at(int dirfd, const char *path, size_t max_size, char **ret, size_t *ret_size) {
        _cleanup_close_ int fd = openat(dirfd, path, O_RDONLY | O_CLOEXEC | O_NOCTTY);

        if (fd < 0)
                return -errno;
        return read_full_fd(fd, max_size, ret, ret_size);
}

int mkdir_p_at(int dirfd, const char *path, mode_t mode) {
        _cleanup_free_ char *p = strdup(path);

        if (!p)
                return -ENOMEM;
        for (char *s = p + 1; ; s++) {
                if (*s != '/' && *s != 0)
                        continue;
                char c = *s;
                *s = 0;
                if (mkdirat(dirfd, p, mode) < 0 && errno != EEXIST)
                        return -errno;
                *s = c;
                if (c == 0)
                        break;
        }
        return 0;
}

int mkdir_p(const char *path, mode_t mode) {
        return mkdir_p_at(AT_FDCWD, path, mode);
}

static int rm_rf_children(int fd) {
        _cleanup_closedir_ DIR *d = fdopendir(fd);
        struct dirent *de;
        int r = 0;

        if (!d) {
                safe_close(fd);
                return -errno;
        }
        while ((de = readdir(d))) {
                if (streq(de->d_name, ".") || streq(de->d_name, ".."))
                        continue;
                int q = rm_rf_at(dirfd(d), de->d_name);
                if (q < 0 && r == 0)
                        r = q;
        }
        return r;
}

/* Removes a tree without following symlinks. */
int rm_rf_at(int dirfd, const char *path) {
        struct stat st;
        int fd, r;

        if (fstatat(dirfd, path, &st, AT_SYMLINK_NOFOLLOW) < 0)
                return errno == ENOENT ? 0 : -errno;
        if (!S_ISDIR(st.st_mode))
                return unlinkat(dirfd, path, 0) < 0 && errno != ENOENT ? -errno : 0;
        fd = openat(dirfd, path, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
        if (fd < 0)
                return -errno;
        r = rm_rf_children(fd);
        if (unlinkat(dirfd, path, AT_REMOVEDIR) < 0 && errno != ENOENT)
                return r < 0 ? r : -errno;
        return r;
}

/* For kernel interface files (cgroup, proc): one write() of the whole string,
 * no creation, no temporary file. */
int write_string_file_at(int dirfd, const char *path, const char *s) {
        _cleanup_close_ int fd = -EBADF;

        fd = openat(dirfd, path, O_WRONLY | O_CLOEXEC | O_NOCTTY);
        if (fd < 0)
                return -errno;
        return write_all(fd, s, strlen(s));
}

/* openat2() confined to dirfd as if it were "/": absolute symlinks and ".."
 * cannot leave it. Without follow_symlinks, any symlink on the way fails
 * with ELOOP (the final component is still subject to O_NOFOLLOW/O_EXCL
 * as usual). Returns an fd or -errno. */
int openat_in_root(int dirfd, const char *path, int flags, mode_t mode, bool follow_symlinks) {
        struct open_how how = {
                .flags = (uint64_t) flags | O_CLOEXEC,
                .mode = (flags & (O_CREAT | O_TMPFILE)) ? mode : 0,
                .resolve = RESOLVE_IN_ROOT | RESOLVE_NO_MAGICLINKS |
                           (follow_symlinks ? 0 : RESOLVE_NO_SYMLINKS),
        };

        for (unsigned attempt = 0;; attempt++) {
                long fd = syscall(SYS_openat2, dirfd, path, &how, sizeof how);
                if (fd >= 0)
                        return (int) fd;
                /* EAGAIN: a concurrent rename raced with the lookup; retry a few times. */
                if (errno != EAGAIN || attempt >= 16)
                        return -errno;
        }
}

static int wait_fd(int fd, short events, const volatile int *cancel) {
        struct pollfd p = { .fd = fd, .events = events };

        for (;;) {
                int n = poll(&p, 1, 200);
                if (n < 0 && errno != EINTR)
                        return -errno;
                if (cancel && *cancel)
                        return -ECANCELED;
                if (n > 0)
                        return 0;
        }
}

ssize_t read_cancellable(int fd, void *buf, size_t n, const volatile int *cancel) {
        for (;;) {
                ssize_t k;
                int r = wait_fd(fd, POLLIN, cancel);

                if (r < 0)
                        return r;
                k = read(fd, buf, n);
                if (k >= 0)
                        return k;
                if (errno != EAGAIN && errno != EINTR)
                        return -errno;
        }
}

int write_all_cancellable(int fd, const void *buf, size_t n, const volatile int *cancel) {
        const uint8_t *p = buf;

        while (n > 0) {
                ssize_t k;
                int r = wait_fd(fd, POLLOUT, cancel);

                if (r < 0)
                        return r;
                k = write(fd, p, n);
                if (k < 0) {
                        if (errno == EAGAIN || errno == EINTR)
                                continue;
                        return -errno;
                }
                p += k;
                n -= (size_t) k;
        }
        return 0;
}
