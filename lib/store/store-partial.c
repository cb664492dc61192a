/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <fcntl.h>
#include <sys/file.h>
#include <sys/stat.h>

#include "fileio.h"
#include "log.h"
#include "store-partial.h"

#define PARTIAL_DIR "partial"

struct StorePartial {
        Store *store;
        char hex[DIGEST_HEX_LEN + 1];
        int fd;
        uint64_t size;
};

typedef struct PartialEntry {
        char name[DIGEST_HEX_LEN + 1];
        uint64_t size, mtime_usec;
        bool busy;                     /* a pull writes it */
} PartialEntry;

static int partial_dir_open(Store *s) {
        int fd = openat(s->root_fd, PARTIAL_DIR, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);

        return fd < 0 ? -errno : fd;
}

static int partial_trash(Store *s, int dir_fd, const char *name, char ***victims) {
        char *victim = NULL;
        int r;

        r = store_trash(s, dir_fd, name, &victim);
        if (r < 0)
                return r;
        return strv_consume(victims, victim);
}

/* Under the lock: a name only ever holds a regular file with one link;
 * anything else was planted, and goes to the trash without being opened
 * (a FIFO would block, a device have side effects, a symlink lead out).
 * Returns 1 if it did so. */
static int partial_clear_name(Store *s, int dir_fd, const char *name, char ***victims) {
        struct stat st;
        int r;

        if (fstatat(dir_fd, name, &st, AT_SYMLINK_NOFOLLOW) < 0)
                return errno == ENOENT ? 0 : -errno;
        if (S_ISREG(st.st_mode) && st.st_nlink == 1)
                return 0;
        log_debug("store: removing %s/%s, which is not a partial blob", PARTIAL_DIR, name);
        r = partial_trash(s, dir_fd, name, victims);
        return r < 0 ? r : 1;
}

static int partial_open_locked(Store *s, int dir_fd, const char *hex, char ***victims, int *ret_fd) {
        _cleanup_(store_unlock) StoreLock lock = {};
        _cleanup_close_ int fd = -EBADF;
        struct stat st;
        int r;

        r = store_lock(s, &lock);
        if (r < 0)
                return r;
        r = partial_clear_name(s, dir_fd, hex, victims);
        if (r < 0)
                return r;
        fd = openat(dir_fd, hex, O_RDWR | O_CREAT | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC, 0600);
        if (fd < 0)
                return -errno;
        if (fstat(fd, &st) < 0)
                return -errno;
        if (!S_ISREG(st.st_mode))
                return -EBADFD;
        if (flock(fd, LOCK_EX | LOCK_NB) < 0)
                return errno == EWOULDBLOCK ? -EBUSY : -errno;
        *ret_fd = TAKE_FD(fd);
        return 0;
}

int store_partial_open(Store *s, const char *digest, uint64_t max_size, StorePartial **ret) {
        _cleanup_(store_partial_freep) StorePartial *p = NULL;
        _cleanup_close_ int dir_fd = -EBADF;
        char **victims = NULL;
        const char *hex = digest_hex(digest);
        struct stat st;
        int r;

        if (!hex)
                return -EINVAL;
        p = calloc(1, sizeof *p);
        if (!p)
                return -ENOMEM;
        *p = (StorePartial) { .store = s, .fd = -EBADF };
        strcpy(p->hex, hex);
        dir_fd = partial_dir_open(s);
        if (dir_fd < 0)
                return dir_fd;
        r = partial_open_locked(s, dir_fd, hex, &victims, &p->fd);
        store_gc_finish(s, victims, NULL);
        if (r < 0)
                return r;
        if (fstat(p->fd, &st) < 0)
                return -errno;
        p->size = MIN((uint64_t) st.st_size, max_size);
        if ((uint64_t) st.st_size > max_size && ftruncate(p->fd, (off_t) max_size) < 0)
                return -errno;
        if (lseek(p->fd, (off_t) p->size, SEEK_SET) < 0)
                return -errno;
        /* Its age counts from its last use. */
        (void) futimens(p->fd, NULL);
        *ret = TAKE_PTR(p);
        return 0;
}

int store_partial_fd(const StorePartial *p) {
        return p->fd;
}

uint64_t store_partial_size(const StorePartial *p) {
        return p->size;
}

StorePartial *store_partial_free(StorePartial *p) {
        if (!p)
                return NULL;
        safe_close(p->fd);
        free(p);
        return NULL;
}

/* Our flock is still held: nobody else renames or removes the name. */
int store_partial_take(StorePartial *p, StoreStaging *st, const char *name) {
        _cleanup_(store_partial_freep) StorePartial *owned = p;   /* freed on every way out */
        _cleanup_(store_unlock) StoreLock lock = {};
        _cleanup_close_ int dir_fd = partial_dir_open(owned->store);
        int r;

        if (dir_fd < 0)
                return dir_fd;
        r = store_lock(owned->store, &lock);
        if (r < 0)
                return r;
        if (renameat(dir_fd, owned->hex, st->dirfd, name) < 0)
                return -errno;
        return 0;
}

void store_partial_drop(StorePartial *p) {
        _cleanup_(store_partial_freep) StorePartial *owned = p;   /* freed on every way out */
        _cleanup_close_ int dir_fd = -EBADF;
        StoreLock lock = {};
        char **victims = NULL;

        if (!owned)
                return;
        dir_fd = partial_dir_open(owned->store);
        if (dir_fd < 0 || store_lock(owned->store, &lock) < 0)
                return;
        if (partial_trash(owned->store, dir_fd, owned->hex, &victims) < 0)
                log_debug("store: cannot remove %s/%s", PARTIAL_DIR, owned->hex);
        store_unlock(&lock);
        store_gc_finish(owned->store, victims, NULL);
}

/* ---- trimming ---- */

static int partial_entry_read(int dir_fd, const char *name, PartialEntry *ret) {
        _cleanup_close_ int fd = -EBADF;
        struct stat st;

        fd = openat(dir_fd, name, O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC);
        if (fd < 0 || fstat(fd, &st) < 0)
                return -errno;
        *ret = (PartialEntry) {
                .size = (uint64_t) st.st_size,
                .mtime_usec = (uint64_t) st.st_mtim.tv_sec * USEC_PER_SEC + (uint64_t) st.st_mtim.tv_nsec / 1000,
                /* Under the store lock nobody takes it between this and the removal. */
                .busy = flock(fd, LOCK_EX | LOCK_NB) < 0,
        };
        strcpy(ret->name, name);
        return 0;
}

/* Under the lock: the partial blobs, and what is not one into the trash. */
static int partial_scan(Store *s, DIR *d, char ***victims, PartialEntry **ret, size_t *ret_n) {
        _cleanup_free_ PartialEntry *e = NULL;
        size_t n = 0, alloc = 0;
        struct dirent *de;
        int r;

        while ((de = readdir(d))) {
                if (streq(de->d_name, ".") || streq(de->d_name, ".."))
                        continue;
                if (!string_is_hex(de->d_name, DIGEST_HEX_LEN)) {
                        r = partial_trash(s, dirfd(d), de->d_name, victims);
                        if (r < 0)
                                return r;
                        continue;
                }
                r = partial_clear_name(s, dirfd(d), de->d_name, victims);
                if (r < 0)
                        return r;
                if (r > 0)
                        continue;
                if (greedy_realloc((void **) &e, &alloc, n + 1, sizeof *e) < 0)
                        return -ENOMEM;
                if (partial_entry_read(dirfd(d), de->d_name, &e[n]) >= 0)
                        n++;
        }
        *ret = TAKE_PTR(e);
        *ret_n = n;
        return 0;
}

static int entry_newest_first(const void *a, const void *b) {
        const PartialEntry *x = a, *y = b;

        return x->mtime_usec < y->mtime_usec ? 1 : x->mtime_usec > y->mtime_usec ? -1 : strcmp(x->name, y->name);
}

static bool entry_expired(const PartialEntry *e, uint64_t now, uint64_t max_age_usec) {
        return e->size == 0 || (now > e->mtime_usec && now - e->mtime_usec > max_age_usec);
}

int store_partial_sweep(Store *s, uint64_t max_total, uint64_t max_age_usec, char ***victims,
                        uint64_t *reclaimed) {
        _cleanup_closedir_ DIR *d = NULL;
        _cleanup_free_ PartialEntry *e = NULL;
        uint64_t total = 0, now = now_usec(CLOCK_REALTIME);
        bool full = false;
        size_t n;
        int r;

        r = opendir_at(s->root_fd, PARTIAL_DIR, O_NOFOLLOW, &d);
        if (r < 0)
                return r == -ENOENT ? 0 : r;
        r = partial_scan(s, d, victims, &e, &n);
        if (r < 0)
                return r;
        if (n > 0)   /* qsort() of NULL is undefined, even of nothing */
                qsort(e, n, sizeof *e, entry_newest_first);
        for (size_t i = 0; i < n; i++) {
                full = full || total + e[i].size > max_total;
                if (e[i].busy || (!full && !entry_expired(&e[i], now, max_age_usec))) {
                        total += e[i].size;
                        continue;
                }
                r = partial_trash(s, dirfd(d), e[i].name, victims);
                if (r < 0)
                        return r;
                if (reclaimed)
                        *reclaimed += e[i].size;
        }
        return 0;
}

int store_partial_trim(Store *s, uint64_t max_total, uint64_t max_age_usec) {
        _cleanup_(store_unlock) StoreLock lock = {};
        char **victims = NULL;
        int r;

        r = store_lock(s, &lock);
        if (r < 0)
                return r;
        r = store_partial_sweep(s, max_total, max_age_usec, &victims, NULL);
        store_unlock(&lock);
        store_gc_finish(s, victims, NULL);
        return r;
}
