/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <archive.h>
#include <archive_entry.h>
#include <fcntl.h>
#include <inttypes.h>
#include <poll.h>
#include <stdarg.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <sys/xattr.h>

#include "fileio.h"
#include "hashmap.h"
#include "layer.h"
#include "log.h"
#include "openat2-util.h"

/* 32 GiB compressed, 64 GiB uncompressed, 10 million entries, 4096 bytes of
 * path: far above any real image (the largest common layers are a few GiB and
 * a few hundred thousand files), small enough that a hostile stream cannot
 * fill the disk or the inode table unnoticed. The headers of one entry (4 MiB)
 * and the directory table (64 MiB, a few hundred thousand directories) bound
 * the memory an unpack takes, whatever the stream. */
const LayerLimits layer_limits_default = {
        .max_compressed_size = UINT64_C(32) << 30,
        .max_uncompressed_size = UINT64_C(64) << 30,
        .max_entries = 10000000,
        .max_path_length = 4096,
        .max_header_size = UINT64_C(4) << 20,
        .max_dir_table_size = UINT64_C(64) << 20,
};

#define INPUT_BUFFER_SIZE (256 * 1024)
#define WHITEOUT_PREFIX ".wh."
#define WHITEOUT_META_PREFIX ".wh..wh."
#define WHITEOUT_OPAQUE ".wh..wh..opq"
#define OVERLAY_OPAQUE_XATTR "trusted.overlay.opaque"

static _Thread_local char last_error[1024];
static _Thread_local bool last_error_set;

typedef struct DirTime {
        size_t path;                    /* offset into Unpacker.dir_paths */
        struct timespec ts[2];          /* UTIME_OMIT: left as they are */
        bool implied;                   /* created for an entry below it, not listed */
} DirTime;

typedef struct Unpacker {
        int fd;
        bool fd_pollable;               /* not a regular file */
        int target;
        const int *lower;
        size_t n_lower;
        LayerLimits limits;
        const volatile int *cancel;

        struct archive *raw;            /* detects and undoes the compression */
        struct archive *tar;            /* parses the decompressed stream */
        bool raw_eof;
        bool plain;                     /* no compression: one hash serves both digests */
        Sha256 *compressed_hash;
        Sha256 *diff_hash;
        uint64_t compressed_size;
        uint64_t uncompressed_size;
        uint64_t entries;
        uint64_t implied_dirs;
        uint64_t written;               /* declared sizes of the files written, and copied up */
        bool in_header;                 /* archive_read_next_header() is running */
        uint64_t header_size;           /* bytes the tar parser took for the current header */
        uint8_t *input;
        int error;                      /* set by the read callbacks */

        char *path;                     /* cleaned path of the current entry */
        char *dir;                      /* scratch: the directory part of a path */
        size_t dir_alloc;
        size_t path_alloc;
        char *link;                     /* cleaned hardlink target */
        size_t link_alloc;
        char *prev;                     /* the last entry that was unpacked, for messages */
        size_t prev_alloc;
        bool have_prev;

        DirTime *dirs;
        size_t n_dirs, dirs_alloc;
        char *dir_paths;
        size_t dir_paths_size, dir_paths_alloc;
} Unpacker;

static _printf_(2, 3) int fail(int r, const char *format, ...) {
        va_list ap;

        va_start(ap, format);
        (void) vsnprintf(last_error, sizeof last_error, format, ap);
        va_end(ap);
        /* Entry names come from the stream: no terminal escapes or newlines
         * in logs and D-Bus errors. */
        for (char *p = last_error; *p; p++)
                if ((unsigned char) *p < ' ' || *p == 127)
                        *p = '?';
        last_error_set = true;
        log_debug("layer: %s", last_error);
        return r;
}

const char *layer_last_error(void) {
        return last_error_set ? last_error : NULL;
}

static bool limit_exceeded(uint64_t value, uint64_t limit) {
        return limit > 0 && value > limit;
}

static bool cancelled(Unpacker *u) {
        return u->cancel && *u->cancel;
}

static const char *prev_name(Unpacker *u) {
        return u->have_prev ? u->prev : "(none)";
}

/* Reads the raw bytes from the fd: everything the registry sent is hashed. */
/* A pipe or socket may stall (a download in progress): wait for it in
 * short steps so that cancel is noticed, and cope with O_NONBLOCK. */
static ssize_t fd_read(Unpacker *u) {
        for (;;) {
                ssize_t k;

                if (u->fd_pollable) {
                        struct pollfd p = { .fd = u->fd, .events = POLLIN };
                        int n = poll(&p, 1, 200);

                        if (n < 0 && errno != EINTR)
                                return -errno;
                        if (cancelled(u))
                                return -ECANCELED;
                        if (n <= 0)
                                continue;
                }
                k = read(u->fd, u->input, INPUT_BUFFER_SIZE);
                if (k >= 0)
                        return k;
                if (errno == EAGAIN && u->fd_pollable)
                        continue;
                if (errno != EINTR)
                        return -errno;
        }
}

static ssize_t fd_read_cb(struct archive *a, void *userdata, const void **ret_buf) {
        Unpacker *u = userdata;
        ssize_t k;

        k = fd_read(u);
        if (k < 0) {
                if (k == -ECANCELED)
                        u->error = u->error ?: fail(-ECANCELED, "unpacking was cancelled");
                else
                        u->error = u->error ?: fail((int) k, "reading the layer failed: %s", strerror((int) -k));
                archive_set_error(a, (int) -k, "read failed");
                return -1;
        }
        u->compressed_size += (uint64_t) k;
        if (limit_exceeded(u->compressed_size, u->limits.max_compressed_size)) {
                u->error = u->error ?: fail(-EFBIG, "compressed layer exceeds the limit of %" PRIu64 " bytes",
                                            u->limits.max_compressed_size);
                archive_set_error(a, EFBIG, "compressed size limit");
                return -1;
        }
        if (!u->plain && sha256_update(u->compressed_hash, u->input, (size_t) k) < 0) {
                u->error = u->error ?: fail(-EIO, "hashing failed");
                archive_set_error(a, EIO, "hashing failed");
                return -1;
        }
        *ret_buf = u->input;
        return k;
}

/* Hands the decompressed stream to the tar parser, hashing it (the diff_id)
 * on the way. The blocks are passed on without copying. */
static ssize_t tar_read_cb(struct archive *a, void *userdata, const void **ret_buf) {
        Unpacker *u = userdata;
        const void *buf = NULL;
        size_t size = 0;
        la_int64_t offset;
        int r;

        if (cancelled(u)) {
                u->error = u->error ?: fail(-ECANCELED, "unpacking was cancelled");
                archive_set_error(a, ECANCELED, "cancelled");
                return -1;
        }
        while (size == 0) {
                if (u->raw_eof)
                        return 0;
                r = archive_read_data_block(u->raw, &buf, &size, &offset);
                if (r == ARCHIVE_EOF) {
                        u->raw_eof = true;
                        return 0;
                }
                if (r < ARCHIVE_WARN) {
                        u->error = u->error ?: fail(-EBADMSG, "corrupt or truncated compressed stream after entry '%s': %s",
                                                    prev_name(u), strempty(archive_error_string(u->raw)));
                        archive_set_error(a, EBADMSG, "decompression failed");
                        return -1;
                }
        }
        u->uncompressed_size += size;
        /* All libarchive keeps of an entry (pax records, long names, sparse
         * maps) comes from the stream while it parses the header: what it
         * takes then bounds that memory, to within one block. */
        if (u->in_header) {
                u->header_size += size;
                if (limit_exceeded(u->header_size, u->limits.max_header_size)) {
                        u->error = u->error ?: fail(-E2BIG, "the tar headers of the entry after '%s' (pax extended "
                                                    "headers, long names, sparse map) exceed the limit of %" PRIu64
                                                    " bytes", prev_name(u), u->limits.max_header_size);
                        archive_set_error(a, E2BIG, "header size limit");
                        return -1;
                }
        }
        if (limit_exceeded(u->uncompressed_size, u->limits.max_uncompressed_size)) {
                u->error = u->error ?: fail(-EFBIG, "uncompressed layer exceeds the limit of %" PRIu64 " bytes",
                                            u->limits.max_uncompressed_size);
                archive_set_error(a, EFBIG, "uncompressed size limit");
                return -1;
        }
        if (sha256_update(u->diff_hash, buf, size) < 0) {
                u->error = u->error ?: fail(-EIO, "hashing failed");
                archive_set_error(a, EIO, "hashing failed");
                return -1;
        }
        *ret_buf = buf;
        return (ssize_t) size;
}

/* Lexically normalises an entry name into *buf: leading "/" and "." are
 * dropped (absolute names are relative to the layer root, as tar and
 * containers-storage treat them), ".." removes the previous component and
 * may not climb above the root. "" is the root itself. */
static int path_clean(const char *name, char **buf, size_t *alloc) {
        size_t n = 0, len = strlen(name);
        const char *p = name;
        int r;

        r = greedy_realloc((void **) buf, alloc, len + 1, 1);
        if (r < 0)
                return r;
        while (*p) {
                size_t k = strcspn(p, "/");

                if (k == 0 || (k == 1 && p[0] == '.')) {
                        /* empty or "." component */
                } else if (k == 2 && p[0] == '.' && p[1] == '.') {
                        char *slash;

                        if (n == 0)
                                return -EXDEV;
                        (*buf)[n] = 0;
                        slash = strrchr(*buf, '/');
                        n = slash ? (size_t) (slash - *buf) : 0;
                } else {
                        if (n > 0)
                                (*buf)[n++] = '/';
                        memcpy(*buf + n, p, k);
                        n += k;
                }
                p += k;
                if (*p == '/')
                        p++;
        }
        (*buf)[n] = 0;
        return 0;
}

/* Copies the directory part of path into *dir ("" for the root) and
 * returns its base name, pointing into path. */
static const char *path_split(const char *path, char **dir, size_t *alloc) {
        const char *slash = strrchr(path, '/');
        size_t n = slash ? (size_t) (slash - path) : 0;

        if (greedy_realloc((void **) dir, alloc, n + 1, 1) < 0)
                return NULL;
        memcpy(*dir, path, n);
        (*dir)[n] = 0;
        return slash ? slash + 1 : path;
}

static bool is_whiteout(const struct stat *st) {
        return S_ISCHR(st->st_mode) && st->st_rdev == makedev(0, 0);
}

/* Whether a directory on the way to path in this lower layer is opaque, so
 * that the layers below cannot provide path. */
static bool lower_opaque_above(int layer_fd, const char *path) {
        _cleanup_free_ char *p = strdup(path);
        char v;

        if (!p)
                return false;
        for (char *slash = strchr(p, '/'); slash; slash = strchr(slash + 1, '/')) {
                _cleanup_close_ int fd = -EBADF;

                *slash = 0;
                fd = openat_in_root(layer_fd, p, O_RDONLY | O_DIRECTORY | O_NOFOLLOW, 0, false);
                *slash = '/';
                if (fd < 0)
                        return false;
                if (fgetxattr(fd, OVERLAY_OPAQUE_XATTR, &v, 1) == 1 && v == 'y')
                        return true;
        }
        return false;
}

/* Finds path in the lower layers, topmost first, as overlayfs would: a
 * whiteout, a non-directory on the way or an opaque directory hides it from
 * the layers below. Returns an O_PATH fd or -ENOENT. */
static int lower_open(Unpacker *u, const char *path, struct stat *ret_st) {
        for (size_t i = 0; i < u->n_lower; i++) {
                _cleanup_close_ int fd = -EBADF;

                fd = openat_in_root(u->lower[i], path, O_PATH | O_NOFOLLOW, 0, false);
                if (fd == -ENOENT && !lower_opaque_above(u->lower[i], path))
                        continue;
                if (IN_SET(fd, -ENOENT, -ENOTDIR, -ELOOP))
                        return -ENOENT;
                if (fd < 0)
                        return fd;
                if (fstat(fd, ret_st) < 0)
                        return -errno;
                if (is_whiteout(ret_st))
                        return -ENOENT;
                return TAKE_FD(fd);
        }
        return -ENOENT;
}

static int dir_time_add(Unpacker *u, const char *path, const struct timespec ts[2], bool implied) {
        size_t len = strlen(path) + 1;
        int r;

        if (limit_exceeded((u->n_dirs + 1) * sizeof(DirTime) + u->dir_paths_size + len, u->limits.max_dir_table_size))
                return fail(-E2BIG, "the layer's directories (%zu so far, their paths and times kept until the "
                            "end) exceed the limit of %" PRIu64 " bytes of memory, at entry '%s'",
                            u->n_dirs, u->limits.max_dir_table_size, u->path);

        r = greedy_realloc((void **) &u->dirs, &u->dirs_alloc, u->n_dirs + 1, sizeof(DirTime));
        if (r < 0)
                return r;
        r = greedy_realloc((void **) &u->dir_paths, &u->dir_paths_alloc, u->dir_paths_size + len, 1);
        if (r < 0)
                return r;
        memcpy(u->dir_paths + u->dir_paths_size, path, len);
        u->dirs[u->n_dirs++] = (DirTime) { .path = u->dir_paths_size, .ts = { ts[0], ts[1] }, .implied = implied };
        u->dir_paths_size += len;
        return 0;
}

/* A directory's mtime changes with every child written into it, so all of
 * them are set once everything else is in place. */
static int dir_times_apply(Unpacker *u) {
        for (size_t i = 0; i < u->n_dirs; i++) {
                const char *path = u->dir_paths + u->dirs[i].path;
                _cleanup_close_ int fd = -EBADF;

                if (u->dirs[i].ts[0].tv_nsec == UTIME_OMIT && u->dirs[i].ts[1].tv_nsec == UTIME_OMIT)
                        continue;
                fd = openat_in_root(u->target, *path ? path : ".", O_RDONLY | O_DIRECTORY | O_NOFOLLOW, 0, false);
                if (IN_SET(fd, -ENOENT, -ENOTDIR, -ELOOP))
                        continue;       /* replaced by a later entry */
                if (fd < 0)
                        return fail(fd, "cannot open directory '%s' to set its times: %s", path, strerror(-fd));
                if (futimens(fd, u->dirs[i].ts) < 0)
                        return fail(-errno, "cannot set times of directory '%s': %m", path);
        }
        return 0;
}

/* The directory a lower layer has at path, as overlayfs shows it: 1 with its
 * stat in ret, 0 if there is none (or not a directory). */
static int lower_dir_stat(Unpacker *u, const char *path, struct stat *ret) {
        _cleanup_close_ int fd = lower_open(u, path, ret);

        if (fd == -ENOENT)
                return 0;
        if (fd < 0)
                return fd;
        return S_ISDIR(ret->st_mode);
}

/* A directory's owner, then its mode (chown clears setuid and setgid). */
static int dir_take_owner_mode(int fd, const struct stat *st) {
        if (fchown(fd, st->st_uid, st->st_gid) < 0 || fchmod(fd, st->st_mode & 07777) < 0)
                return -errno;
        return 0;
}

static void omit_times(struct timespec ts[2]) {
        ts[0] = ts[1] = (struct timespec) { .tv_nsec = UTIME_OMIT };
}

/* Creates the missing directory name in dirfd. A directory the layer does not
 * list but a lower layer has keeps the lower one's owner, mode and times, as
 * an overlayfs copy-up would; otherwise it is root's, 0755. */
static int mkdir_implied(Unpacker *u, int dirfd, const char *name, const char *path, bool opaque) {
        _cleanup_close_ int fd = -EBADF;
        struct stat st;
        struct timespec ts[2];
        int r;

        r = lower_dir_stat(u, path, &st);
        if (r < 0)
                return r;
        if (r > 0) {
                ts[0] = st.st_atim;
                ts[1] = st.st_mtim;
        } else {
                st = (struct stat) { .st_mode = S_IFDIR | 0755 };
                omit_times(ts);
        }
        if (mkdirat(dirfd, name, 0700) < 0)
                return -errno;
        u->implied_dirs++;
        fd = openat(dirfd, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
        if (fd < 0)
                return -errno;
        r = dir_take_owner_mode(fd, &st);
        if (r < 0)
                return r;
        if (opaque && fsetxattr(fd, OVERLAY_OPAQUE_XATTR, "y", 1, 0) < 0)
                return -errno;
        /* Listed even without lower times: layer_unpack_full() returns them. */
        return dir_time_add(u, path, ts, true);
}

/* The layer's root is implied too unless it lists "./": it keeps the lower
 * root's owner, mode and times, as overlayfs shows the topmost root and as
 * docker and podman make each layer's root from its parent's. */
static int root_implied(Unpacker *u) {
        _cleanup_close_ int fd = -EBADF;
        struct stat st;
        struct timespec ts[2];
        int r;

        r = lower_dir_stat(u, ".", &st);
        if (r < 0)
                return fail(r, "cannot look up the lower layers' root: %s", strerror(-r));
        if (r == 0) {
                omit_times(ts);
                return dir_time_add(u, "", ts, true);
        }
        fd = openat_in_root(u->target, ".", O_RDONLY | O_DIRECTORY, 0, false);
        if (fd < 0)
                return fail(fd, "cannot open the layer root: %s", strerror(-fd));
        r = dir_take_owner_mode(fd, &st);
        if (r < 0)
                return fail(r, "cannot give the layer root its lower root's owner and mode: %s", strerror(-r));
        ts[0] = st.st_atim;
        ts[1] = st.st_mtim;
        return dir_time_add(u, "", ts, true);
}

/* Opens the directory name in dirfd (path is its path in the layer),
 * creating it if it is missing or a whiteout. Returns an fd. */
static int open_component(Unpacker *u, int dirfd, const char *name, const char *path) {
        bool opaque = false;
        struct stat st;
        int fd, r;

        fd = openat(dirfd, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
        if (fd >= 0)
                return fd;
        if (IN_SET(errno, ENOTDIR, ELOOP)) {
                if (fstatat(dirfd, name, &st, AT_SYMLINK_NOFOLLOW) < 0)
                        return -errno;
                if (S_ISLNK(st.st_mode))
                        return -EXDEV;
                if (!is_whiteout(&st))
                        return -ENOTDIR;
                /* Entries below a whiteout of this layer: the directory is
                 * recreated and replaces the lower one. */
                if (unlinkat(dirfd, name, 0) < 0)
                        return -errno;
                opaque = true;
        } else if (errno != ENOENT)
                return -errno;
        r = mkdir_implied(u, dirfd, name, path, opaque);
        if (r < 0)
                return r;
        fd = openat(dirfd, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
        return fd < 0 ? -errno : fd;
}

/* Walks dir one component at a time from the target, creating what is
 * missing. Components are single names and never symlinks (O_NOFOLLOW). */
static int mkdir_parents(Unpacker *u, const char *dir, int *ret_fd) {
        _cleanup_free_ char *copy = strdup(dir);
        _cleanup_close_ int cur = -EBADF;
        char *p, *slash;

        if (!copy)
                return -ENOMEM;
        cur = openat_in_root(u->target, ".", O_RDONLY | O_DIRECTORY, 0, false);
        if (cur < 0)
                return cur;
        for (p = copy; p && *p; p = slash ? slash + 1 : NULL) {
                int fd;

                slash = strchr(p, '/');
                if (slash)
                        *slash = 0;
                fd = open_component(u, cur, p, copy);
                if (fd < 0)
                        return fd;
                if (slash)
                        *slash = '/';
                safe_close(cur);
                cur = fd;
        }
        *ret_fd = TAKE_FD(cur);
        return 0;
}

/* Opens the directory dir of the target ("" is the root) without following
 * any symlink, creating missing directories on the way. */
static int open_dir(Unpacker *u, const char *dir, int *ret_fd) {
        int fd;

        fd = openat_in_root(u->target, *dir ? dir : ".", O_RDONLY | O_DIRECTORY | O_NOFOLLOW, 0, false);
        if (IN_SET(fd, -ENOENT, -ENOTDIR))
                return mkdir_parents(u, dir, ret_fd);
        if (fd == -ELOOP)
                return -EXDEV;
        if (fd < 0)
                return fd;
        *ret_fd = fd;
        return 0;
}

/* Clears the way for a new entry: returns 1 if a directory is there and
 * keep_dir is set, 0 once nothing is there. *ret_whiteout tells whether a
 * whiteout was replaced. */
static int remove_existing(int dirfd, const char *name, bool keep_dir, bool *ret_whiteout) {
        struct stat st;

        if (ret_whiteout)
                *ret_whiteout = false;
        if (fstatat(dirfd, name, &st, AT_SYMLINK_NOFOLLOW) < 0)
                return errno == ENOENT ? 0 : -errno;
        if (S_ISDIR(st.st_mode) && keep_dir)
                return 1;
        if (ret_whiteout)
                *ret_whiteout = is_whiteout(&st);
        return rm_rf_at(dirfd, name);
}

static bool xattr_allowed(const char *name) {
        /* Overlay's own attributes (redirect, metacopy, ...) would let a layer
         * reach into other layers; opacity comes from .wh..wh..opq only. */
        return !startswith(name, "trusted.overlay.");
}

static int xattr_too_big(Unpacker *u, const char *name, size_t size) {
        return fail(-E2BIG, "entry '%s': xattr %s has %zu bytes, more than the kernel's limit of %d",
                    u->path, name, size, XATTR_SIZE_MAX);
}

static int entry_ids(struct archive_entry *e, uid_t *ret_uid, gid_t *ret_gid) {
        la_int64_t uid = archive_entry_uid(e), gid = archive_entry_gid(e);

        if (uid < 0 || uid >= UINT32_MAX || gid < 0 || gid >= UINT32_MAX)
                return -EBADMSG;
        *ret_uid = (uid_t) uid;
        *ret_gid = (gid_t) gid;
        return 0;
}

static void entry_times(struct archive_entry *e, struct timespec ret[2]) {
        ret[1] = archive_entry_mtime_is_set(e)
                ? (struct timespec) { archive_entry_mtime(e), archive_entry_mtime_nsec(e) }
                : (struct timespec) { .tv_nsec = UTIME_OMIT };
        ret[0] = archive_entry_atime_is_set(e)
                ? (struct timespec) { archive_entry_atime(e), archive_entry_atime_nsec(e) }
                : ret[1];
}

/* Owner first, then mode (chown clears setuid/setgid), then xattrs (chown
 * clears security.capability too), then times. */
static int apply_metadata_fd(Unpacker *u, int fd, struct archive_entry *e, bool set_times) {
        const char *name;
        const void *value;
        size_t size;
        uid_t uid;
        gid_t gid;
        struct timespec ts[2];

        if (entry_ids(e, &uid, &gid) < 0)
                return fail(-EBADMSG, "entry '%s': invalid owner", u->path);
        if (fchown(fd, uid, gid) < 0)
                return fail(-errno, "entry '%s': cannot change owner: %m", u->path);
        if (fchmod(fd, archive_entry_perm(e) & 07777) < 0)
                return fail(-errno, "entry '%s': cannot change mode: %m", u->path);
        archive_entry_xattr_reset(e);
        while (archive_entry_xattr_next(e, &name, &value, &size) == ARCHIVE_OK) {
                if (!xattr_allowed(name))
                        continue;
                if (size > XATTR_SIZE_MAX)
                        return xattr_too_big(u, name, size);
                if (fsetxattr(fd, name, value, size, 0) < 0)
                        return fail(-errno, "entry '%s': cannot set xattr %s: %m", u->path, name);
        }
        if (!set_times)
                return 0;
        entry_times(e, ts);
        if (futimens(fd, ts) < 0)
                return fail(-errno, "entry '%s': cannot set times: %m", u->path);
        return 0;
}

/* The same for entries that cannot be opened: symlinks and device nodes. */
static int apply_metadata_at(Unpacker *u, int dirfd, const char *name, struct archive_entry *e, bool symlink) {
        const char *xname;
        const void *value;
        size_t size;
        uid_t uid;
        gid_t gid;
        struct timespec ts[2];

        if (entry_ids(e, &uid, &gid) < 0)
                return fail(-EBADMSG, "entry '%s': invalid owner", u->path);
        if (fchownat(dirfd, name, uid, gid, AT_SYMLINK_NOFOLLOW) < 0)
                return fail(-errno, "entry '%s': cannot change owner: %m", u->path);
        /* The node was just created by us in a directory nobody else writes to. */
        if (!symlink && fchmodat(dirfd, name, archive_entry_perm(e) & 07777, 0) < 0)
                return fail(-errno, "entry '%s': cannot change mode: %m", u->path);
        archive_entry_xattr_reset(e);
        while (archive_entry_xattr_next(e, &xname, &value, &size) == ARCHIVE_OK) {
                char p[64 + NAME_MAX];

                if (!xattr_allowed(xname))
                        continue;
                if (size > XATTR_SIZE_MAX)
                        return xattr_too_big(u, xname, size);
                snprintf(p, sizeof p, "/proc/self/fd/%i/%s", dirfd, name);
                if (lsetxattr(p, xname, value, size, 0) < 0)
                        return fail(-errno, "entry '%s': cannot set xattr %s: %m", u->path, xname);
        }
        entry_times(e, ts);
        if (utimensat(dirfd, name, ts, AT_SYMLINK_NOFOLLOW) < 0)
                return fail(-errno, "entry '%s': cannot set times: %m", u->path);
        return 0;
}

static int path_error(Unpacker *u, int r, const char *what) {
        if (r == -EXDEV)
                return fail(r, "entry '%s': %s goes through a symlink or leaves the layer", u->path, what);
        return fail(r, "entry '%s': cannot open %s: %s", u->path, what, strerror(-r));
}

/* Opens the parent directory of u->path; *ret_name points into u->path. */
static int open_parent(Unpacker *u, int *ret_fd, const char **ret_name) {
        const char *name = path_split(u->path, &u->dir, &u->dir_alloc);
        int r;

        if (!name)
                return -ENOMEM;
        r = open_dir(u, u->dir, ret_fd);
        if (r < 0)
                return path_error(u, r, "parent directory");
        *ret_name = name;
        return 0;
}

/* Counts size bytes of files against the limit of the stream: a sparse
 * file's holes and a file copied up from a lower layer cost no bytes of the
 * stream, but as much disk once a container or a copy writes them out. */
static int count_written(Unpacker *u, uint64_t size, const char *what) {
        if (size > UINT64_MAX - u->written || limit_exceeded(u->written + size, u->limits.max_uncompressed_size))
                return fail(-EFBIG, "entry '%s': %s of %" PRIu64 " bytes takes the layer's files past the limit of "
                            "%" PRIu64 " bytes", u->path, what, size, u->limits.max_uncompressed_size);
        u->written += size;
        return 0;
}

/* The bytes a regular file entry may cover: its declared size, or the end
 * of its sparse map's furthest extent. Counted before anything is written,
 * so that holes cannot take a file past the limit. */
static int entry_extent(Unpacker *u, struct archive_entry *e, uint64_t *ret) {
        la_int64_t size = archive_entry_size_is_set(e) ? archive_entry_size(e) : 0, offset, length;
        uint64_t end;

        if (size < 0)
                return fail(-EBADMSG, "entry '%s': negative size", u->path);
        end = (uint64_t) size;
        if (archive_entry_sparse_reset(e) > 0)
                while (archive_entry_sparse_next(e, &offset, &length) == ARCHIVE_OK) {
                        if (offset < 0 || length < 0 || offset > INT64_MAX - length)
                                return fail(-EBADMSG, "entry '%s': invalid sparse map", u->path);
                        end = MAX(end, (uint64_t) (offset + length));
                }
        *ret = end;
        return 0;
}

static int write_data(Unpacker *u, int fd, struct archive_entry *e, uint64_t extent) {
        const void *buf;
        size_t size;
        la_int64_t offset;
        uint64_t end = 0;
        int r;

        for (;;) {
                r = archive_read_data_block(u->tar, &buf, &size, &offset);
                if (r == ARCHIVE_EOF)
                        break;
                if (r < ARCHIVE_WARN)
                        return u->error ?: fail(-EBADMSG, "truncated or corrupt tar stream in entry '%s': %s",
                                                u->path, strempty(archive_error_string(u->tar)));
                if (cancelled(u))
                        return fail(-ECANCELED, "unpacking was cancelled");
                /* libarchive's blocks follow its own copy of the sparse map,
                 * which the entry's (the one counted) leaves out past the size. */
                if (offset < 0 || (uint64_t) offset > extent || size > extent - (uint64_t) offset)
                        return fail(-EBADMSG, "entry '%s': data beyond its declared size", u->path);
                /* Sparse files come as blocks at offsets; pwrite() leaves the holes. */
                for (const uint8_t *p = buf; size > 0;) {
                        ssize_t k = pwrite(fd, p, size, offset);
                        if (k < 0) {
                                if (errno == EINTR)
                                        continue;
                                return fail(-errno, "entry '%s': write failed: %m", u->path);
                        }
                        p += k;
                        offset += k;
                        size -= (size_t) k;
                }
                end = MAX(end, (uint64_t) offset);
        }
        if (archive_entry_size_is_set(e) && (uint64_t) archive_entry_size(e) > end &&
            ftruncate(fd, archive_entry_size(e)) < 0)
                return fail(-errno, "entry '%s': cannot extend sparse file: %m", u->path);
        return 0;
}

/* The common case costs one openat2(): the parent is resolved by the kernel. */
static int create_file(Unpacker *u, int *ret_fd) {
        const int flags = O_CREAT | O_EXCL | O_WRONLY | O_NOFOLLOW | O_CLOEXEC;
        _cleanup_close_ int dfd = -EBADF;
        const char *name;
        int fd, r;

        fd = openat_in_root(u->target, u->path, flags, 0600, false);
        if (fd >= 0) {
                *ret_fd = fd;
                return 0;
        }
        if (!IN_SET(fd, -EEXIST, -ENOENT, -ENOTDIR, -ELOOP))
                return fail(fd, "entry '%s': cannot create file: %s", u->path, strerror(-fd));
        r = open_parent(u, &dfd, &name);
        if (r < 0)
                return r;
        r = remove_existing(dfd, name, false, NULL);
        if (r >= 0) {
                fd = openat(dfd, name, flags, 0600);
                r = fd < 0 ? -errno : 0;
        }
        if (r < 0)
                return fail(r, "entry '%s': cannot create file: %s", u->path, strerror(-r));
        *ret_fd = fd;
        return 0;
}

static int unpack_regular(Unpacker *u, struct archive_entry *e) {
        _cleanup_close_ int fd = -EBADF;
        uint64_t extent = 0;
        int r;

        r = entry_extent(u, e, &extent);
        if (r < 0)
                return r;
        r = count_written(u, extent, archive_entry_sparse_count(e) > 0 ? "a sparse file (holes included)" : "a file");
        if (r < 0)
                return r;
        r = create_file(u, &fd);
        if (r < 0)
                return r;
        r = write_data(u, fd, e, extent);
        if (r < 0)
                return r;
        return apply_metadata_fd(u, fd, e, true);
}

static int set_opaque(Unpacker *u, int fd) {
        if (fsetxattr(fd, OVERLAY_OPAQUE_XATTR, "y", 1, 0) < 0)
                return fail(-errno, "entry '%s': cannot mark directory opaque: %m", u->path);
        return 0;
}

static int unpack_directory(Unpacker *u, struct archive_entry *e) {
        _cleanup_close_ int dfd = -EBADF, fd = -EBADF;
        struct timespec ts[2];
        bool was_whiteout = false;
        const char *name;
        int r;

        if (isempty(u->path)) {
                fd = openat_in_root(u->target, ".", O_RDONLY | O_DIRECTORY, 0, false);
                if (fd < 0)
                        return fail(fd, "cannot open the layer root: %s", strerror(-fd));
        } else {
                r = open_parent(u, &dfd, &name);
                if (r < 0)
                        return r;
                r = remove_existing(dfd, name, true, &was_whiteout);
                if (r == 0 && mkdirat(dfd, name, 0700) < 0)
                        r = -errno;
                if (r >= 0) {
                        fd = openat(dfd, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
                        r = fd < 0 ? -errno : 0;
                }
                if (r < 0)
                        return fail(r, "entry '%s': cannot create directory: %s", u->path, strerror(-r));
        }
        r = apply_metadata_fd(u, fd, e, false);
        if (r < 0)
                return r;
        /* A directory replacing a whiteout of this layer replaces the lower
         * directory rather than merging with it. */
        if (was_whiteout) {
                r = set_opaque(u, fd);
                if (r < 0)
                        return r;
        }
        entry_times(e, ts);
        return dir_time_add(u, u->path, ts, false);
}

static int unpack_node(Unpacker *u, struct archive_entry *e) {
        _cleanup_close_ int dfd = -EBADF;
        mode_t type = archive_entry_filetype(e);
        const char *link_target = archive_entry_symlink(e) ?: archive_entry_symlink_utf8(e);
        const char *name;
        int r;

        if (type == AE_IFLNK && !link_target)
                return fail(-EBADMSG, "entry '%s': symlink without a usable target", u->path);
        r = open_parent(u, &dfd, &name);
        if (r < 0)
                return r;
        r = remove_existing(dfd, name, false, NULL);
        if (r >= 0) {
                if (type == AE_IFLNK)
                        r = symlinkat(link_target, dfd, name) < 0 ? -errno : 0;
                else
                        r = mknodat(dfd, name, type | 0600, archive_entry_rdev(e)) < 0 ? -errno : 0;
        }
        if (r >= 0)
                r = apply_metadata_at(u, dfd, name, e, type == AE_IFLNK);
        else
                r = fail(r, "entry '%s': cannot create node: %s", u->path, strerror(-r));
        return r;
}

/* A whiteout applies to the lower layers only: an entry of this layer with
 * that name already hides them and is kept; if it is a directory, its lower
 * namesakes' contents are hidden too, so it becomes opaque. */
static int whiteout_at(int dirfd, const char *name) {
        _cleanup_close_ int fd = -EBADF;
        struct stat st;

        if (fstatat(dirfd, name, &st, AT_SYMLINK_NOFOLLOW) < 0) {
                if (errno != ENOENT)
                        return -errno;
                return mknodat(dirfd, name, S_IFCHR | 0, makedev(0, 0)) < 0 ? -errno : 0;
        }
        if (!S_ISDIR(st.st_mode))
                return 0;
        fd = openat(dirfd, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
        if (fd < 0)
                return -errno;
        return fsetxattr(fd, OVERLAY_OPAQUE_XATTR, "y", 1, 0) < 0 ? -errno : 0;
}

static int unpack_whiteout(Unpacker *u, const char *base) {
        _cleanup_close_ int dfd = -EBADF;
        const char *target = base + strlen(WHITEOUT_PREFIX);
        const char *name;
        int r;


        if (streq(base, WHITEOUT_OPAQUE)) {
                /* Opens the directory itself: ".wh..wh..opq" is its last component. */
                r = open_parent(u, &dfd, &name);
                if (r < 0)
                        return r;
                return set_opaque(u, dfd);
        }
        if (startswith(base, WHITEOUT_META_PREFIX))
                return 0;       /* aufs bookkeeping (.wh..wh.plnk, ...), meaningless here */
        if (isempty(target) || streq(target, "."))
                return fail(-EBADMSG, "entry '%s': whiteout names nothing", u->path);
        if (streq(target, ".."))
                return fail(-EXDEV, "entry '%s': whiteout leaves the layer", u->path);

        r = open_parent(u, &dfd, &name);
        if (r < 0)
                return r;
        r = whiteout_at(dfd, target);
        if (r < 0)
                return fail(r, "entry '%s': cannot create whiteout: %s", u->path, strerror(-r));
        return 0;
}

static int copy_xattrs(int from, int to) {
        _cleanup_free_ char *names = NULL, *value = NULL;
        ssize_t n;

        n = flistxattr(from, NULL, 0);
        if (n <= 0)
                return n < 0 && !IN_SET(errno, EOPNOTSUPP, ENOTSUP) ? -errno : 0;
        names = malloc((size_t) n);
        value = malloc(XATTR_SIZE_MAX);
        if (!names || !value)
                return -ENOMEM;
        n = flistxattr(from, names, (size_t) n);
        if (n < 0)
                return -errno;
        for (const char *p = names; p < names + n; p += strlen(p) + 1) {
                ssize_t k;

                if (!xattr_allowed(p))
                        continue;
                k = fgetxattr(from, p, value, XATTR_SIZE_MAX);
                if (k < 0)
                        return -errno;
                if (fsetxattr(to, p, value, (size_t) k, 0) < 0)
                        return -errno;
        }
        return 0;
}

static int copy_data(int from, int to) {
        _cleanup_free_ char *buf = NULL;
        const size_t size = 64 * 1024;

        for (;;) {
                ssize_t k = copy_file_range(from, NULL, to, NULL, SIZE_MAX / 2, 0);
                if (k == 0)
                        return 0;
                if (k > 0)
                        continue;
                if (!IN_SET(errno, EXDEV, EINVAL, ENOSYS, EOPNOTSUPP))
                        return -errno;
                break;
        }
        buf = malloc(size);
        if (!buf)
                return -ENOMEM;
        for (;;) {
                ssize_t k = read(from, buf, size);
                if (k < 0)
                        return -errno;
                if (k == 0)
                        return 0;
                for (ssize_t w = 0; w < k;) {
                        ssize_t m = write(to, buf + w, (size_t) (k - w));
                        if (m < 0)
                                return -errno;
                        w += m;
                }
        }
}

/* Copies a regular file of a lower layer to the same path in this layer
 * (content, owner, mode, xattrs, times), so that a hardlink can point at it. */
static int copy_up_regular(Unpacker *u, int lfd, const struct stat *st, int dfd, const char *name) {
        _cleanup_close_ int from = -EBADF, to = -EBADF;
        char p[64];
        int r;

        r = count_written(u, (uint64_t) st->st_size, "copying up a file of a lower layer");
        if (r < 0)
                return r;

        /* Reopens the O_PATH fd that was resolved safely inside the lower layer. */
        snprintf(p, sizeof p, "/proc/self/fd/%i", lfd);
        from = open(p, O_RDONLY | O_CLOEXEC | O_NOCTTY);
        if (from < 0)
                return -errno;
        to = openat(dfd, name, O_CREAT | O_EXCL | O_WRONLY | O_NOFOLLOW | O_CLOEXEC, 0600);
        if (to < 0)
                return -errno;
        r = copy_data(from, to);
        if (r < 0)
                return r;
        if (fchown(to, st->st_uid, st->st_gid) < 0 || fchmod(to, st->st_mode & 07777) < 0)
                return -errno;
        r = copy_xattrs(from, to);
        if (r < 0)
                return r;
        if (futimens(to, (struct timespec[2]) { st->st_atim, st->st_mtim }) < 0)
                return -errno;
        return 0;
}

static int copy_up(Unpacker *u, const char *path, int dfd, const char *name) {
        _cleanup_close_ int lfd = -EBADF;
        char target[PATH_MAX];
        struct stat st;
        ssize_t n;

        lfd = lower_open(u, path, &st);
        if (lfd < 0)
                return lfd;
        if (S_ISREG(st.st_mode))
                return copy_up_regular(u, lfd, &st, dfd, name);
        if (S_ISDIR(st.st_mode))
                return -EISDIR;
        if (S_ISLNK(st.st_mode)) {
                n = readlinkat(lfd, "", target, sizeof target - 1);
                if (n < 0)
                        return -errno;
                target[n] = 0;
                if (symlinkat(target, dfd, name) < 0)
                        return -errno;
        } else if (mknodat(dfd, name, st.st_mode, st.st_rdev) < 0)
                return -errno;
        if (fchownat(dfd, name, st.st_uid, st.st_gid, AT_SYMLINK_NOFOLLOW) < 0)
                return -errno;
        if (!S_ISLNK(st.st_mode) && fchmodat(dfd, name, st.st_mode & 07777, 0) < 0)
                return -errno;
        if (utimensat(dfd, name, (struct timespec[2]) { st.st_atim, st.st_mtim }, AT_SYMLINK_NOFOLLOW) < 0)
                return -errno;
        return 0;
}

/* Opens the directory of the hardlink target u->link; copies the target up
 * from a lower layer if this layer does not have it. */
static int open_link_source(Unpacker *u, int *ret_fd, const char **ret_name) {
        _cleanup_close_ int dfd = -EBADF;
        const char *name = path_split(u->link, &u->dir, &u->dir_alloc);
        int r;

        if (!name)
                return -ENOMEM;
        r = open_dir(u, u->dir, &dfd);
        if (r < 0)
                return path_error(u, r, "hardlink target");
        if (faccessat(dfd, name, F_OK, AT_SYMLINK_NOFOLLOW) < 0) {
                r = errno == ENOENT ? 0 : -errno;
                if (r == 0)
                        r = copy_up(u, u->link, dfd, name);
                if (r == -ENOENT)
                        return fail(-EBADMSG, "entry '%s': hardlink target '%s' does not exist", u->path, u->link);
                if (r == -EFBIG)
                        return r;       /* count_written() said why */
                if (r < 0)
                        return fail(r, "entry '%s': cannot copy up hardlink target '%s': %s",
                                    u->path, u->link, strerror(-r));
        }
        *ret_fd = TAKE_FD(dfd);
        *ret_name = name;
        return 0;
}

/* The hardlink's own header describes the file too: its owner, mode, xattrs
 * and times are applied to the shared inode, as docker's and
 * containers-storage's extraction do (so the file looks the same in podman),
 * whether the link points into this layer or at a file copied up from below. */
static int unpack_hardlink(Unpacker *u, struct archive_entry *e, const char *link) {
        _cleanup_close_ int sfd = -EBADF, dfd = -EBADF;
        const char *sname = NULL, *name = NULL;
        struct stat st;
        int r;

        if (strlen(link) > u->limits.max_path_length && u->limits.max_path_length > 0)
                return fail(-E2BIG, "entry '%s': hardlink target too long", u->path);
        r = path_clean(link, &u->link, &u->link_alloc);
        if (r == -EXDEV)
                return fail(r, "entry '%s': hardlink target '%s' leaves the layer", u->path, link);
        if (r < 0)
                return r;
        if (isempty(u->link))
                return fail(-EBADMSG, "entry '%s': hardlink to the layer root", u->path);
        if (streq(u->link, u->path))
                return 0;
        r = open_link_source(u, &sfd, &sname);
        if (r < 0)
                return r;
        r = open_parent(u, &dfd, &name);
        if (r >= 0) {
                r = remove_existing(dfd, name, false, NULL);
                if (r >= 0 && linkat(sfd, sname, dfd, name, 0) < 0)
                        r = -errno;
                if (r >= 0 && fstatat(dfd, name, &st, AT_SYMLINK_NOFOLLOW) < 0)
                        r = -errno;
                if (r < 0)
                        return fail(r, "entry '%s': cannot link to '%s': %s", u->path, u->link, strerror(-r));
                r = apply_metadata_at(u, dfd, name, e, S_ISLNK(st.st_mode));
        }
        return r;
}

static int unpack_entry(Unpacker *u, struct archive_entry *e) {
        const char *name, *base, *link;
        int r;

        name = archive_entry_pathname(e) ?: archive_entry_pathname_utf8(e);
        if (!name)
                return fail(-EBADMSG, "entry after '%s' has no usable name", prev_name(u));
        if (u->limits.max_path_length > 0 && strlen(name) > u->limits.max_path_length)
                return fail(-E2BIG, "entry after '%s': path longer than %" PRIu64 " bytes",
                            prev_name(u), u->limits.max_path_length);
        r = path_clean(name, &u->path, &u->path_alloc);
        if (r == -EXDEV)
                return fail(r, "entry '%s': path leaves the layer", name);
        if (r < 0)
                return r;

        base = strrchr(u->path, '/');
        base = base ? base + 1 : u->path;
        if (startswith(base, WHITEOUT_PREFIX))
                return unpack_whiteout(u, base);
        link = archive_entry_hardlink(e) ?: archive_entry_hardlink_utf8(e);
        if (link)
                return unpack_hardlink(u, e, link);
        if (isempty(u->path) && archive_entry_filetype(e) != AE_IFDIR)
                return fail(-EBADMSG, "entry '%s' names the layer root but is no directory", name);

        switch (archive_entry_filetype(e)) {
        case AE_IFREG:
                return unpack_regular(u, e);
        case AE_IFDIR:
                return unpack_directory(u, e);
        case AE_IFLNK:
        case AE_IFCHR:
        case AE_IFBLK:
        case AE_IFIFO:
                return unpack_node(u, e);
        default:
                log_debug("layer: skipping entry '%s' of type 0%o", u->path, archive_entry_filetype(e));
                return 0;
        }
}

/* The entry just unpacked becomes the previous one, without copying. */
static void remember_entry(Unpacker *u) {
        char *p = u->prev;
        size_t a = u->prev_alloc;

        u->prev = u->path;
        u->prev_alloc = u->path_alloc;
        u->path = p;
        u->path_alloc = a;
        u->have_prev = true;
}

static int unpack_entries(Unpacker *u) {
        struct archive_entry *e;
        int r;

        for (;;) {
                if (cancelled(u))
                        return fail(-ECANCELED, "unpacking was cancelled");
                u->in_header = true;
                u->header_size = 0;
                r = archive_read_next_header(u->tar, &e);
                u->in_header = false;
                if (r == ARCHIVE_EOF)
                        return 0;
                if (u->error)
                        return u->error;
                if (r < ARCHIVE_WARN) {
                        const char *s = strempty(archive_error_string(u->tar));

                        if (strcasestr(s, "too large"))
                                return fail(-E2BIG, "tar header after entry '%s' refused: %s", prev_name(u), s);
                        if (strcasestr(s, "truncated"))
                                return fail(-EBADMSG, "truncated tar stream after entry '%s'", prev_name(u));
                        return fail(-EBADMSG, "malformed tar stream after entry '%s': %s", prev_name(u), s);
                }
                if (++u->entries > u->limits.max_entries && u->limits.max_entries > 0)
                        return fail(-E2BIG, "layer has more than %" PRIu64 " entries", u->limits.max_entries);
                r = unpack_entry(u, e);
                if (r < 0)
                        return u->error ?: r;
                /* Data not read (of a hardlink, a whiteout) is skipped here,
                 * not while the next header counts. */
                if (archive_read_data_skip(u->tar) < ARCHIVE_WARN)
                        return u->error ?: fail(-EBADMSG, "truncated tar stream in entry '%s'", u->path);
                remember_entry(u);
        }
}

/* Reads what the tar parser left (end-of-archive padding) and whatever
 * follows the compressed stream, so that both digests cover everything. */
static int drain(Unpacker *u) {
        const void *buf;
        ssize_t k;

        do
                k = tar_read_cb(u->tar, u, &buf);
        while (k > 0);
        if (k < 0)
                return u->error ?: -EIO;
        do
                k = fd_read_cb(u->raw, u, &buf);
        while (k > 0);
        return k < 0 ? (u->error ?: -EIO) : 0;
}

static int open_readers(Unpacker *u) {
        struct archive_entry *e;
        int r;

        u->raw = archive_read_new();
        u->tar = archive_read_new();
        if (!u->raw || !u->tar)
                return -ENOMEM;
        /* OCI layers are tar, tar+gzip or tar+zstd; nothing else is probed. */
        if (archive_read_support_filter_gzip(u->raw) < ARCHIVE_WARN ||
            archive_read_support_filter_zstd(u->raw) < ARCHIVE_WARN ||
            archive_read_support_format_raw(u->raw) != ARCHIVE_OK ||
            archive_read_support_format_tar(u->tar) != ARCHIVE_OK)
                return fail(-EOPNOTSUPP, "libarchive lacks gzip, zstd or tar support");
        if (archive_read_open(u->raw, u, NULL, fd_read_cb, NULL) != ARCHIVE_OK)
                return u->error ?: fail(-EBADMSG, "cannot read layer: %s", strempty(archive_error_string(u->raw)));
        /* The raw reader then hands on the input byte for byte, from the start. */
        u->plain = archive_filter_code(u->raw, 0) == ARCHIVE_FILTER_NONE;
        r = archive_read_next_header(u->raw, &e);
        if (r == ARCHIVE_EOF)
                u->raw_eof = true;
        else if (r < ARCHIVE_WARN)
                return u->error ?: fail(-EBADMSG, "cannot read layer: %s", strempty(archive_error_string(u->raw)));
        if (archive_read_open(u->tar, u, NULL, tar_read_cb, NULL) != ARCHIVE_OK)
                return u->error ?: fail(-EBADMSG, "not a tar stream: %s", strempty(archive_error_string(u->tar)));
        return 0;
}

static void unpacker_done(Unpacker *u) {
        if (u->tar)
                archive_read_free(u->tar);
        if (u->raw)
                archive_read_free(u->raw);
        sha256_free(u->compressed_hash);
        sha256_free(u->diff_hash);
        free(u->input);
        free(u->path);
        free(u->link);
        free(u->dir);
        free(u->prev);
        free(u->dirs);
        free(u->dir_paths);
}

static int unpack(Unpacker *u, LayerUnpackResult *ret) {
        LayerUnpackResult result = {};
        struct stat st;
        int r;

        if (fstat(u->fd, &st) < 0)
                return -errno;
        u->fd_pollable = !S_ISREG(st.st_mode) && !S_ISBLK(st.st_mode);
        u->input = malloc(INPUT_BUFFER_SIZE);
        if (!u->input)
                return -ENOMEM;
        r = sha256_new(&u->compressed_hash);
        if (r < 0)
                return r;
        r = sha256_new(&u->diff_hash);
        if (r < 0)
                return r;
        r = open_readers(u);
        if (r < 0)
                return r;
        r = root_implied(u);
        if (r < 0)
                return r;
        r = unpack_entries(u);
        if (r < 0)
                return r;
        r = drain(u);
        if (r < 0)
                return r;
        r = dir_times_apply(u);
        if (r < 0)
                return r;
        r = sha256_final(u->diff_hash, result.diff_id);
        if (r < 0)
                return r;
        if (u->plain && u->compressed_size != u->uncompressed_size)
                return fail(-EIO, "the uncompressed layer's size changed while reading it");
        if (u->plain)
                memcpy(result.compressed_digest, result.diff_id, sizeof result.diff_id);
        else {
                r = sha256_final(u->compressed_hash, result.compressed_digest);
                if (r < 0)
                        return r;
        }
        result.compressed_size = u->compressed_size;
        result.uncompressed_size = u->uncompressed_size;
        result.entries = u->entries;
        result.implied_dirs = u->implied_dirs;
        if (ret)
                *ret = result;
        return 0;
}

/* The implied directories no later entry of the layer listed itself: the
 * last record of a path decides. */
static int implied_collect(Unpacker *u, char ***ret) {
        _cleanup_(hashmap_freep) Hashmap *last = hashmap_new();
        _cleanup_strv_free_ char **l = calloc(1, sizeof(char *));
        int r;

        if (!last || !l)
                return -ENOMEM;
        for (size_t i = 0; i < u->n_dirs; i++) {
                const char *path = u->dir_paths + u->dirs[i].path;

                (void) hashmap_remove(last, path);
                r = hashmap_put(last, path, &u->dirs[i]);
                if (r < 0)
                        return r;
        }
        for (size_t i = 0; i < u->n_dirs; i++) {
                const char *path = u->dir_paths + u->dirs[i].path;

                if (u->dirs[i].implied && hashmap_get(last, path) == &u->dirs[i] && strv_extend(&l, path) < 0)
                        return -ENOMEM;
        }
        *ret = TAKE_PTR(l);
        return 0;
}

int layer_unpack(int fd, int target_dirfd, const int *lower_dirfds, size_t n_lower,
                 const LayerLimits *limits, const volatile int *cancel,
                 LayerUnpackResult *ret) {
        return layer_unpack_full(fd, target_dirfd, lower_dirfds, n_lower, limits, cancel, ret, NULL);
}

int layer_unpack_full(int fd, int target_dirfd, const int *lower_dirfds, size_t n_lower,
                      const LayerLimits *limits, const volatile int *cancel,
                      LayerUnpackResult *ret, char ***ret_implied) {
        Unpacker u = {
                .fd = fd,
                .target = target_dirfd,
                .lower = lower_dirfds,
                .n_lower = lower_dirfds ? n_lower : 0,
                .limits = limits ? *limits : layer_limits_default,
                .cancel = cancel,
        };
        int r;

        last_error_set = false;
        last_error[0] = 0;
        if (fd < 0 || target_dirfd < 0)
                return fail(-EBADF, "invalid file descriptor");
        r = unpack(&u, ret);
        if (r >= 0 && ret_implied)
                r = implied_collect(&u, ret_implied);
        unpacker_done(&u);
        if (r < 0 && !last_error_set)
                (void) fail(r, "unpacking failed: %s", strerror(-r));
        return r;
}

static int fix_implied_dir(Unpacker *u, const char *path) {
        _cleanup_close_ int fd = -EBADF;
        struct stat st;
        int r;

        fd = openat_in_root(u->target, *path ? path : ".", O_RDONLY | O_DIRECTORY | O_NOFOLLOW, 0, false);
        if (IN_SET(fd, -ENOENT, -ENOTDIR, -ELOOP))
                return 0;       /* replaced or removed by a later entry */
        if (fd < 0)
                return fail(fd, "cannot open directory '%s': %s", path, strerror(-fd));
        r = lower_dir_stat(u, *path ? path : ".", &st);
        if (r <= 0)
                return r < 0 ? fail(r, "cannot look up '%s' in the lower layers: %s", path, strerror(-r)) : 0;
        /* In mkdir_implied()'s order: owner, mode, then times. */
        r = dir_take_owner_mode(fd, &st);
        if (r >= 0 && futimens(fd, (struct timespec[2]) { st.st_atim, st.st_mtim }) < 0)
                r = -errno;
        if (r < 0)
                return fail(r, "cannot give directory '%s' its lower layer's metadata: %s", path, strerror(-r));
        return 0;
}

int layer_fix_implied_dirs(int target_dirfd, const int *lower_dirfds, size_t n_lower, char * const *implied) {
        Unpacker u = { .target = target_dirfd, .lower = lower_dirfds, .n_lower = lower_dirfds ? n_lower : 0 };
        int r;

        last_error_set = false;
        last_error[0] = 0;
        STRV_FOREACH(p, implied) {
                r = fix_implied_dir(&u, *p);
                if (r < 0)
                        return r;
        }
        return 0;
}
