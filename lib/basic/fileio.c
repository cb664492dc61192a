/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <dirent.h>
#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <sys/random.h>
#include <sys/syscall.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>

#include "fileio.h"
#include "log.h"

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

/* Tree walks (removal, size) are iterative: a tree a container made can be
 * deeper than any C stack (50,000 nested directories take a few seconds of a
 * shell loop), and keeping one fd per level would exhaust the fd limit.
 * Each directory is listed in one go into a stack of listings, its fd is
 * closed once the walk goes down, and the walk goes back up by "..", checking
 * that it came back to the directory it left (same device and inode). If not
 * (the tree was moved meanwhile), the walk starts again from the top. Only
 * the deepest directory's fd is open; memory grows with the depth (48 bytes a
 * level) and the listings of the directories on the current path. Symlinks
 * are never followed and mount points are not entered. */

typedef struct WalkDir {
        size_t pos, end;        /* unread part of its listing, offsets into Walk.names */
        size_t name;            /* its own name, an offset into its parent's listing */
        dev_t dev;
        ino_t ino;
} WalkDir;

typedef struct Walk {
        bool remove;
        uint64_t size;          /* bytes of the regular files seen */
        int fd;                 /* of the deepest directory, dirs[n_dirs - 1] */
        dev_t dev;              /* of the top: other devices are mounts, not entered */
        WalkDir *dirs;
        size_t n_dirs, dirs_alloc;
        char *names;            /* listings, one after the other: d_type byte, name, NUL */
        size_t names_size, names_alloc;
        uint8_t *buf;           /* for getdents64() */
        int error;              /* the first failure; the walk goes on with the rest */
} Walk;

#define WALK_BUFFER_SIZE (32 * 1024)
#define WALK_MAX_RESTARTS 8

static void walk_done(Walk *w) {
        safe_close(w->fd);
        free(w->dirs);
        free(w->names);
        free(w->buf);
}

static void walk_fail(Walk *w, int r) {
        if (w->error == 0)
                w->error = r;
}

/* Appends the entries of fd (but "." and "..") to w->names. */
static int walk_list(Walk *w, int fd) {
        for (;;) {
                ssize_t n = getdents64(fd, w->buf, WALK_BUFFER_SIZE);

                /* ENOENT: removed meanwhile, so it has nothing left. */
                if (n < 0)
                        return errno == ENOENT ? 0 : -errno;
                if (n == 0)
                        return 0;
                for (ssize_t off = 0; off < n;) {
                        const struct dirent64 *de = (const struct dirent64 *) (w->buf + off);
                        size_t len = strlen(de->d_name);
                        int r;

                        off += de->d_reclen;
                        if (streq(de->d_name, ".") || streq(de->d_name, ".."))
                                continue;
                        r = greedy_realloc((void **) &w->names, &w->names_alloc, w->names_size + len + 2, 1);
                        if (r < 0)
                                return r;
                        w->names[w->names_size] = (char) de->d_type;
                        memcpy(w->names + w->names_size + 1, de->d_name, len + 1);
                        w->names_size += len + 2;
                }
        }
}

/* Makes fd, the directory called name (an offset into the parent's
 * listing), the deepest level. Takes fd. */
static int walk_push(Walk *w, int fd, size_t name, const struct stat *st) {
        size_t start = w->names_size;
        int r;

        r = greedy_realloc((void **) &w->dirs, &w->dirs_alloc, w->n_dirs + 1, sizeof(WalkDir));
        if (r >= 0)
                r = walk_list(w, fd);
        if (r < 0) {
                w->names_size = start;
                safe_close(fd);
                return r;
        }
        w->dirs[w->n_dirs++] = (WalkDir) {
                .pos = start, .end = w->names_size, .name = name, .dev = st->st_dev, .ino = st->st_ino,
        };
        safe_close(w->fd);
        w->fd = fd;
        return 0;
}

/* Identifies the directory fd: what walk_up() compares, and whether it is a
 * mount point (another device than the top, or the root of a mount: a bind
 * mount of the same file system has the same device). */
static int walk_identify(int fd, dev_t top, struct stat *ret, bool *ret_mount) {
        struct statx sx;

        if (statx(fd, "", AT_EMPTY_PATH | AT_STATX_DONT_SYNC, STATX_TYPE | STATX_INO, &sx) < 0)
                return -errno;
        *ret = (struct stat) { .st_dev = makedev(sx.stx_dev_major, sx.stx_dev_minor), .st_ino = sx.stx_ino };
        *ret_mount = ret->st_dev != top ||
                     ((sx.stx_attributes_mask & STATX_ATTR_MOUNT_ROOT) && (sx.stx_attributes & STATX_ATTR_MOUNT_ROOT));
        return 0;
}

static int walk_down(Walk *w, size_t name) {
        const char *n = w->names + name + 1;
        struct stat st;
        bool mount = false;
        int fd, r;

        fd = openat(w->fd, n, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC | O_NOCTTY);
        if (fd < 0) {
                if (errno == ENOENT)
                        return 0;
                /* Replaced by a symlink or a file since it was listed. */
                if (IN_SET(errno, ENOTDIR, ELOOP))
                        return w->remove && unlinkat(w->fd, n, 0) < 0 && errno != ENOENT ? -errno : 0;
                return -errno;
        }
        r = walk_identify(fd, w->dev, &st, &mount);
        if (r < 0 || mount) {
                safe_close(fd);
                return r < 0 ? r : w->remove ? -EBUSY : 0;
        }
        return walk_push(w, fd, name, &st);
}

/* One entry of the deepest directory, at offset name of w->names. */
static int walk_entry(Walk *w, size_t name) {
        unsigned char type = (unsigned char) w->names[name];
        const char *n = w->names + name + 1;
        struct stat st;

        if (type == DT_UNKNOWN) {
                if (fstatat(w->fd, n, &st, AT_SYMLINK_NOFOLLOW) < 0)
                        return errno == ENOENT ? 0 : -errno;
                type = IFTODT(st.st_mode);
        }
        if (type == DT_DIR)
                return walk_down(w, name);
        if (w->remove) {
                if (unlinkat(w->fd, n, 0) >= 0 || errno == ENOENT)
                        return 0;
                return errno == EISDIR ? walk_down(w, name) : -errno;
        }
        if (type == DT_REG && fstatat(w->fd, n, &st, AT_SYMLINK_NOFOLLOW) >= 0 && S_ISREG(st.st_mode))
                w->size += (uint64_t) st.st_size;
        return 0;
}

/* Leaves the deepest directory, which has been walked, for its parent. */
static int walk_up(Walk *w) {
        const WalkDir *d = &w->dirs[w->n_dirs - 1], *parent = d - 1;
        struct stat st;
        int fd;

        /* ENOENT: the directory was removed meanwhile (by someone else removing
         * the same tree): the walk starts again from the top as well. */
        fd = openat(w->fd, "..", O_RDONLY | O_DIRECTORY | O_CLOEXEC | O_NOCTTY);
        if (fd < 0)
                return errno == ENOENT ? -ESTALE : -errno;
        if (fstat(fd, &st) < 0 || st.st_dev != parent->dev || st.st_ino != parent->ino) {
                safe_close(fd);
                return -ESTALE;
        }
        safe_close(w->fd);
        w->fd = fd;
        if (w->remove && unlinkat(fd, w->names + d->name + 1, AT_REMOVEDIR) < 0 && errno != ENOENT)
                walk_fail(w, -errno);
        /* Its listing was the last one: the parent's unread part ends where it began. */
        w->names_size = parent->end;
        w->n_dirs--;
        return 0;
}

static int walk_tree(Walk *w) {
        while (w->n_dirs > 0) {
                WalkDir *d = &w->dirs[w->n_dirs - 1];
                size_t name = d->pos;
                int r;

                if (d->pos >= d->end) {
                        if (w->n_dirs == 1)
                                return 0;
                        r = walk_up(w);
                        if (r < 0)
                                return r;
                        continue;
                }
                d->pos += strlen(w->names + name + 1) + 2;
                r = walk_entry(w, name);
                if (r == -ENOMEM)
                        return r;
                if (r < 0)
                        walk_fail(w, r);
        }
        return 0;
}

/* Walks the tree at path once: 0 with w->error set to the first failure, or
 * -ESTALE if it was moved while being walked. */
static int walk_once(Walk *w, int dirfd, const char *path) {
        struct stat st;
        int fd;

        if (fstatat(dirfd, path, &st, AT_SYMLINK_NOFOLLOW) < 0)
                return errno == ENOENT ? 0 : -errno;
        if (!S_ISDIR(st.st_mode)) {
                if (!w->remove)
                        w->size = S_ISREG(st.st_mode) ? (uint64_t) st.st_size : 0;
                else if (unlinkat(dirfd, path, 0) < 0 && errno != ENOENT)
                        return -errno;
                return 0;
        }
        fd = openat(dirfd, path, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC | O_NOCTTY);
        if (fd < 0)
                return errno == ENOENT ? 0 : -errno;
        if (fstat(fd, &st) < 0) {
                safe_close(fd);
                return -errno;
        }
        w->dev = st.st_dev;
        w->buf = malloc(WALK_BUFFER_SIZE);
        if (!w->buf) {
                safe_close(fd);
                return -ENOMEM;
        }
        return walk_push(w, fd, 0, &st) ?: walk_tree(w);
}

static int walk_at(int dirfd, const char *path, bool remove, uint64_t *ret_size) {
        for (unsigned attempt = 0;; attempt++) {
                Walk w = { .remove = remove, .fd = -EBADF };
                int r;

                r = walk_once(&w, dirfd, path);
                walk_done(&w);
                if (r == -ESTALE && attempt < WALK_MAX_RESTARTS)
                        continue;
                if (r < 0)
                        return r;
                if (ret_size)
                        *ret_size = w.size;
                if (remove && unlinkat(dirfd, path, AT_REMOVEDIR) < 0 && !IN_SET(errno, ENOENT, ENOTDIR))
                        return w.error ?: -errno;
                return w.error;
        }
}

/* Removes a tree without following symlinks; see the walk above. */
int rm_rf_at(int dirfd, const char *path) {
        return walk_at(dirfd, path, true, NULL);
}

int tree_size_at(int dirfd, const char *path, uint64_t *ret) {
        return walk_at(dirfd, path, false, ret);
}

/* Removals in the background: one thread, started when there is work and
 * gone when there is none, takes them in order. */
typedef struct RmJob {
        int dirfd;
        char *path;
        struct RmJob *next;
} RmJob;

static pthread_mutex_t rm_lock = PTHREAD_MUTEX_INITIALIZER;
static RmJob *rm_queue, **rm_queue_tail = &rm_queue;
static bool rm_thread_running;

static RmJob *rm_job_free(RmJob *j) {
        if (j) {
                safe_close(j->dirfd);
                free(j->path);
                free(j);
        }
        return NULL;
}

static void *rm_thread(void *userdata) {
        for (;;) {
                RmJob *j;
                int r;

                pthread_mutex_lock(&rm_lock);
                j = rm_queue;
                if (j) {
                        rm_queue = j->next;
                        if (!rm_queue)
                                rm_queue_tail = &rm_queue;
                } else
                        rm_thread_running = false;
                pthread_mutex_unlock(&rm_lock);
                if (!j)
                        return NULL;
                r = rm_rf_at(j->dirfd, j->path);
                if (r < 0)
                        log_debug_errno(r, "Cannot remove %s: %m", j->path);
                rm_job_free(j);
        }
}

static int rm_thread_start(void) {
        pthread_attr_t attr;
        pthread_t t;
        int r;

        r = -pthread_attr_init(&attr);
        if (r < 0)
                return r;
        r = -pthread_attr_setdetachstate(&attr, PTHREAD_CREATE_DETACHED);
        /* The walk needs little stack: rm_rf_at() is iterative. */
        if (r >= 0)
                r = -pthread_attr_setstacksize(&attr, 256 * 1024);
        if (r >= 0)
                r = -pthread_create(&t, &attr, rm_thread, NULL);
        (void) pthread_attr_destroy(&attr);
        return r;
}

int rm_rf_background(int dirfd, const char *path) {
        RmJob *j = calloc(1, sizeof *j);
        int r = 0;

        if (!j)
                return -ENOMEM;
        j->dirfd = fcntl(dirfd, F_DUPFD_CLOEXEC, 3);
        j->path = strdup(path);
        if (j->dirfd < 0 || !j->path) {
                r = j->dirfd < 0 ? -errno : -ENOMEM;
                rm_job_free(j);
                return r;
        }
        pthread_mutex_lock(&rm_lock);
        /* The queue is empty whenever no thread runs. */
        if (!rm_thread_running) {
                r = rm_thread_start();
                rm_thread_running = r >= 0;
        }
        if (r >= 0) {
                *rm_queue_tail = j;
                rm_queue_tail = &j->next;
        }
        pthread_mutex_unlock(&rm_lock);
        if (r < 0) {
                /* No thread: removed here and now, then. */
                r = rm_rf_at(j->dirfd, j->path);
                rm_job_free(j);
        }
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
