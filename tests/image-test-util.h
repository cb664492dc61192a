/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/* Helpers for the image tests: tarballs, layers, configs and archives built
 * in memory with libarchive, temporary stores under /var/tmp. */

#include <archive.h>
#include <archive_entry.h>
#include <check.h>
#include <fcntl.h>
#include <ftw.h>
#include <pthread.h>
#include <sys/mman.h>
#include <sys/stat.h>

#include "digest.h"
#include "fileio.h"
#include "util.h"

typedef struct TBuf {
        char *data;
        size_t size;
} TBuf;

static inline void tbuf_done(TBuf *b) {
        free(b->data);
        *b = (TBuf) {};
}

static inline la_ssize_t tbuf_write_cb(struct archive *a, void *userdata, const void *p, size_t n) {
        TBuf *b = userdata;
        char *d = realloc(b->data, b->size + n + 1);

        ck_assert_ptr_nonnull(d);
        memcpy(d + b->size, p, n);
        b->data = d;
        b->size += n;
        return (la_ssize_t) n;
}

static inline struct archive *t_writer(TBuf *out, int compression) {
        struct archive *a = archive_write_new();

        *out = (TBuf) {};
        ck_assert_int_eq(archive_write_set_format_pax_restricted(a), ARCHIVE_OK);
        if (compression == 1)
                ck_assert_int_eq(archive_write_add_filter_gzip(a), ARCHIVE_OK);
        else if (compression == 2)
                ck_assert_int_eq(archive_write_add_filter_zstd(a), ARCHIVE_OK);
        archive_write_set_bytes_in_last_block(a, 1);
        ck_assert_int_eq(archive_write_open(a, out, NULL, tbuf_write_cb, NULL), ARCHIVE_OK);
        return a;
}

/* Adds a regular file ('f'), directory ('d'), symlink ('l') or hardlink ('h'). */
static inline void t_add(struct archive *a, char type, const char *path, const void *data, size_t size) {
        struct archive_entry *e = archive_entry_new();

        archive_entry_set_pathname(e, path);
        archive_entry_set_mtime(e, 1700000000, 0);
        archive_entry_set_uid(e, 0);
        archive_entry_set_gid(e, 0);
        switch (type) {
        case 'd':
                archive_entry_set_filetype(e, AE_IFDIR);
                archive_entry_set_perm(e, 0755);
                break;
        case 'l':
                archive_entry_set_filetype(e, AE_IFLNK);
                archive_entry_set_perm(e, 0777);
                archive_entry_set_symlink(e, data);
                size = 0;
                break;
        case 'h':
                archive_entry_set_filetype(e, AE_IFREG);
                archive_entry_set_perm(e, 0644);
                archive_entry_set_hardlink(e, data);
                size = 0;
                break;
        default:
                archive_entry_set_filetype(e, AE_IFREG);
                archive_entry_set_perm(e, 0644);
                archive_entry_set_size(e, (la_int64_t) size);
        }
        ck_assert_int_eq(archive_write_header(a, e), ARCHIVE_OK);
        if (type == 'f' && size > 0)
                ck_assert_int_eq(archive_write_data(a, data, size), (la_ssize_t) size);
        archive_entry_free(e);
}

static inline void t_add_str(struct archive *a, const char *path, const char *s) {
        t_add(a, 'f', path, s, strlen(s));
}

static inline void t_finish(struct archive *a) {
        ck_assert_int_eq(archive_write_close(a), ARCHIVE_OK);
        archive_write_free(a);
}

typedef struct TLayer {
        TBuf blob;
        char digest[DIGEST_STRING_MAX];
        char diff_id[DIGEST_STRING_MAX];
} TLayer;

/* data as a gzip (compression 1), zstd (2) or xz (3) stream, into *out. */
static inline void t_compress(const void *data, size_t size, int compression, TBuf *out) {
        struct archive *c = archive_write_new();
        struct archive_entry *e = archive_entry_new();

        archive_write_set_format_raw(c);
        ck_assert_int_eq(compression == 1 ? archive_write_add_filter_gzip(c) :
                         compression == 2 ? archive_write_add_filter_zstd(c) : archive_write_add_filter_xz(c),
                         ARCHIVE_OK);
        archive_write_set_bytes_in_last_block(c, 1);
        *out = (TBuf) {};
        ck_assert_int_eq(archive_write_open(c, out, NULL, tbuf_write_cb, NULL), ARCHIVE_OK);
        archive_entry_set_filetype(e, AE_IFREG);
        archive_entry_set_pathname(e, "data");
        archive_entry_set_size(e, (la_int64_t) size);
        ck_assert_int_eq(archive_write_header(c, e), ARCHIVE_OK);
        ck_assert_int_eq(archive_write_data(c, data, size), (la_ssize_t) size);
        archive_entry_free(e);
        t_finish(c);
}

/* spec: "d:dir", "f:path=content", "l:path=target", "h:path=target". */
static inline void t_layer(TLayer *l, int compression, const char * const *spec) {
        TBuf plain;
        struct archive *a = t_writer(&plain, 0);

        for (const char * const *s = spec; *s; s++) {
                const char *p = *s + 2, *eq = strchr(p, '=');
                _cleanup_free_ char *path = eq ? strndup(p, (size_t) (eq - p)) : strdup(p);
                t_add(a, (*s)[0], path, eq ? eq + 1 : "", eq ? strlen(eq + 1) : 0);
        }
        t_finish(a);
        ck_assert_int_eq(sha256_digest_buffer(plain.data, plain.size, l->diff_id), 0);
        if (compression == 0)
                l->blob = plain;
        else {
                t_compress(plain.data, plain.size, compression, &l->blob);
                tbuf_done(&plain);
        }
        ck_assert_int_eq(sha256_digest_buffer(l->blob.data, l->blob.size, l->digest), 0);
}

/* An image config; extra is inserted into "config" (e.g. "\"Cmd\":[\"sh\"]"). */
static inline char *t_config(const char *arch, const char *extra, const TLayer *layers, size_t n) {
        char *s = NULL, *ids = strdup("");

        for (size_t i = 0; i < n; i++) {
                char *j = strjoin(ids, i ? "," : "", "\"", layers[i].diff_id, "\"");
                free(ids);
                ids = j;
        }
        ck_assert_int_ge(asprintf(&s, "{\"architecture\":\"%s\",\"os\":\"linux\",\"created\":\"2024-01-02T03:04:05Z\","
                                  "\"config\":{%s},\"rootfs\":{\"type\":\"layers\",\"diff_ids\":[%s]},"
                                  "\"history\":[{\"created_by\":\"test\",\"created\":\"2024-01-02T03:04:05Z\"}]}",
                                  arch, extra ?: "", ids), 0);
        free(ids);
        return s;
}

static inline char *t_digest(const void *p, size_t n) {
        char d[DIGEST_STRING_MAX];

        ck_assert_int_eq(sha256_digest_buffer(p, n, d), 0);
        return strdup(d);
}

static inline char *t_blob_path(const char *digest) {
        return strjoin("blobs/sha256/", digest + 7);
}

/* One directory for the suite, made and removed by the runner process (which
 * survives failed assertions: register with tcase_add_unchecked_fixture()),
 * and a fresh one below it for each store. */
static char t_suite_dir[] = "/var/tmp/berth-test-image.XXXXXX";

static inline void t_suite_setup(void) {
        ck_assert_ptr_nonnull(mkdtemp(t_suite_dir));
}

static inline void t_suite_teardown(void) {
        (void) rm_rf_at(AT_FDCWD, t_suite_dir);
}

static inline char *t_mkdtemp(void) {
        char *p = strjoin(t_suite_dir, "/t.XXXXXX");

        ck_assert_ptr_nonnull(p);
        ck_assert_ptr_nonnull(mkdtemp(p));
        return p;
}

static inline void t_rmdir(char *p) {
        if (p)
                (void) rm_rf_at(AT_FDCWD, p);
        free(p);
}

/* Every path and size below root, sorted: to compare a store before and after. */
static inline void t_list_rec(int fd, const char *prefix, char ***l) {
        _cleanup_closedir_ DIR *d = fdopendir(fd);
        struct dirent *de;

        ck_assert_ptr_nonnull(d);
        while ((de = readdir(d))) {
                struct stat st;
                char *line = NULL;
                if (streq(de->d_name, ".") || streq(de->d_name, ".."))
                        continue;
                ck_assert_int_eq(fstatat(dirfd(d), de->d_name, &st, AT_SYMLINK_NOFOLLOW), 0);
                ck_assert_int_ge(asprintf(&line, "%s%s %o %lld", prefix, de->d_name, st.st_mode,
                                          S_ISDIR(st.st_mode) ? 0LL : (long long) st.st_size), 0);
                ck_assert_int_eq(strv_consume(l, line), 0);
                if (S_ISDIR(st.st_mode)) {
                        _cleanup_free_ char *sub = strjoin(prefix, de->d_name, "/");
                        t_list_rec(openat(dirfd(d), de->d_name, O_RDONLY | O_DIRECTORY | O_CLOEXEC), sub, l);
                }
        }
}

static inline int t_cmp(const void *a, const void *b) {
        return strcmp(*(char * const *) a, *(char * const *) b);
}

static inline char *t_list_store(const char *root) {
        _cleanup_strv_free_ char **l = calloc(1, sizeof(char *));

        t_list_rec(open(root, O_RDONLY | O_DIRECTORY | O_CLOEXEC), "", &l);
        qsort(l, strv_length(l), sizeof(char *), t_cmp);
        return strv_join(l, "\n");
}

/* A pipe fed from a thread: the loader sees a non-seekable, O_NONBLOCK
 * stream (as a D-Bus client may hand over). */
typedef struct TFeeder {
        pthread_t thread;
        int fd;
        const TBuf *buf;
} TFeeder;

static inline void *t_feed(void *userdata) {
        TFeeder *f = userdata;
        size_t done = 0;

        while (done < f->buf->size) {
                ssize_t k = write(f->fd, f->buf->data + done, f->buf->size - done);
                if (k <= 0)
                        break;
                done += (size_t) k;
        }
        close(f->fd);
        return NULL;
}

static inline int t_pipe_from(TFeeder *f, const TBuf *b) {
        int p[2];

        ck_assert_int_eq(pipe2(p, O_CLOEXEC), 0);
        ck_assert_int_eq(fcntl(p[0], F_SETFL, O_NONBLOCK), 0);
        f->fd = p[1];
        f->buf = b;
        ck_assert_int_eq(pthread_create(&f->thread, NULL, t_feed, f), 0);
        return p[0];
}

static inline void t_pipe_join(TFeeder *f, int readfd) {
        close(readfd);          /* unblocks the writer if the loader stopped early */
        pthread_join(f->thread, NULL);
}

static inline int t_memfd_from(const TBuf *b) {
        int fd = memfd_create("archive", MFD_CLOEXEC);

        ck_assert_int_ge(fd, 0);
        ck_assert_int_eq(write(fd, b->data, b->size), (ssize_t) b->size);
        ck_assert_int_eq(lseek(fd, 0, SEEK_SET), 0);
        return fd;
}

static inline void t_buf_from_fd(int fd, TBuf *b) {
        ck_assert_int_eq(lseek(fd, 0, SEEK_SET), 0);
        ck_assert_int_eq(read_full_fd(fd, 1 << 30, &b->data, &b->size), 0);
}
