/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <fcntl.h>
#include <pthread.h>
#include <sys/stat.h>

#include "fileio.h"
#include "image-internal.h"
#include "log.h"

static pthread_mutex_t progress_mutex = PTHREAD_MUTEX_INITIALIZER;

void load_context_done(LoadContext *c) {
        for (size_t i = 0; i < c->n_members; i++) {
                free(c->members[i]->path);
                free(c->members[i]->staged);
                free(c->members[i]->link_target);
                free(c->members[i]);
        }
        free(c->members);
        c->by_path = hashmap_free(c->by_path);
        strv_free(c->unpacked);
        c->members = NULL;
        c->n_members = 0;
        c->unpacked = NULL;
}

int load_check_cancel(LoadContext *c) {
        if (c->opts && c->opts->cancel && *c->opts->cancel)
                return errmsg_set(-ECANCELED, "Operation cancelled.");
        return 0;
}

/* Progress may be reported from unpacking threads: serialised here. */
void load_progress(LoadContext *c, const char *current) {
        if (!c->opts || !c->opts->progress)
                return;
        pthread_mutex_lock(&progress_mutex);
        c->opts->progress(c->bytes_done, c->bytes_total, current, c->opts->userdata);
        pthread_mutex_unlock(&progress_mutex);
}

static int write_all_fd(int fd, const void *p, size_t n) {
        while (n > 0) {
                ssize_t k = write(fd, p, n);
                if (k < 0) {
                        if (errno == EINTR)
                                continue;
                        return -errno;
                }
                p = (const uint8_t *) p + k;
                n -= (size_t) k;
        }
        return 0;
}

int load_spool_fd(LoadContext *c, int fd, uint64_t limit, const char *what, LoadMember *m) {
        _cleanup_(sha256_freep) Sha256 *h = NULL;
        _cleanup_close_ int out = -EBADF;
        _cleanup_free_ char *name = NULL;
        static const size_t bufsize = 128 * 1024;
        _cleanup_free_ uint8_t *buf = malloc(bufsize);
        int r;

        if (!buf)
                return -ENOMEM;
        if ((r = sha256_new(&h)) < 0 || (r = store_staging_name(c->staging, "s", &name)) < 0)
                return r;
        out = openat(c->staging->dirfd, name, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
        if (out < 0)
                return -errno;
        m->size = 0;
        for (;;) {
                ssize_t k = read_cancellable(fd, buf, bufsize, c->opts ? c->opts->cancel : NULL);
                if (k == -ECANCELED)
                        return load_check_cancel(c);
                if (k < 0)
                        return errmsg_set((int) k, "Cannot read %s: %s.", what, strerror((int) -k));
                if (k == 0)
                        break;
                m->size += (uint64_t) k;
                c->bytes_done += (uint64_t) k;
                if (m->size > limit)
                        return errmsg_set(-EFBIG, "%s is larger than the limit of %llu bytes.", what,
                                          (unsigned long long) limit);
                if ((r = sha256_update(h, buf, (size_t) k)) < 0 || (r = write_all_fd(out, buf, (size_t) k)) < 0 ||
                    (r = load_check_cancel(c)) < 0)
                        return r;
                load_progress(c, what);
        }
        r = sha256_final(h, m->digest);
        if (r < 0)
                return r;
        m->staged = TAKE_PTR(name);
        return 0;
}

OciMediaType load_sniff_layer_type(LoadContext *c, const LoadMember *m, bool docker) {
        _cleanup_close_ int fd = openat(c->staging->dirfd, m->staged, O_RDONLY | O_CLOEXEC);
        uint8_t magic[4] = {};

        if (fd >= 0 && read(fd, magic, sizeof magic) == (ssize_t) sizeof magic) {
                if (magic[0] == 0x1f && magic[1] == 0x8b)
                        return docker ? OCI_MEDIA_DOCKER_LAYER_GZIP : OCI_MEDIA_OCI_LAYER_GZIP;
                if (magic[0] == 0x28 && magic[1] == 0xb5 && magic[2] == 0x2f && magic[3] == 0xfd)
                        return OCI_MEDIA_OCI_LAYER_ZSTD;
        }
        return docker ? OCI_MEDIA_DOCKER_LAYER : OCI_MEDIA_OCI_LAYER;
}

typedef struct UnpackJob {
        LoadContext *ctx;
        size_t index;
        const LoadMember *blob;
        const char *diff_id;
        char *dir;                /* in staging: <dir>/diff is the layer */
        int r;
        bool final;               /* the failure would not go away with the lower layers */
        char error[384];
        uint64_t size;
} UnpackJob;

typedef struct UnpackQueue {
        UnpackJob *jobs;
        size_t n_jobs;
        size_t next;
        pthread_mutex_t mutex;
} UnpackQueue;

void load_lowers_close(int *fds, size_t n) {
        for (size_t i = 0; i < n; i++)
                safe_close(fds[i]);
}

int load_open_lowers(Store *s, StoreStaging *st, const StagedLayer *out, size_t i, int *fds) {
        for (size_t k = 0; k < i; k++) {
                const StagedLayer *l = &out[i - 1 - k];
                _cleanup_free_ char *p = NULL;
                int base = l->dir_path ? st->dirfd : s->root_fd;

                p = l->dir_path ? strjoin(l->dir_path, "/diff") :
                                  strjoin("layers/", digest_hex(l->layer.chain_id), "/diff");
                if (!p)
                        return -ENOMEM;
                fds[k] = openat(base, p, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
                if (fds[k] < 0)
                        return -errno;
        }
        return 0;
}

static void unpack_fail(UnpackJob *j, int r, bool final, const char *msg) {
        j->r = r;
        j->final = final;
        snprintf(j->error, sizeof j->error, "%s", msg ?: strerror(-r));
}

static void unpack_one(UnpackJob *j, const int *lowers, size_t n_lowers) {
        LoadContext *c = j->ctx;
        _cleanup_close_ int dfd = -EBADF, bfd = -EBADF;
        _cleanup_free_ char *diff = strjoin(j->dir, "/diff");
        LayerUnpackResult res;
        int r;

        j->r = 0;
        (void) rm_rf_at(c->staging->dirfd, j->dir);
        if (!diff)
                return unpack_fail(j, -ENOMEM, true, NULL);
        if (mkdirat(c->staging->dirfd, j->dir, 0700) < 0 || mkdirat(c->staging->dirfd, diff, 0755) < 0)
                return unpack_fail(j, -errno, true, NULL);
        dfd = openat(c->staging->dirfd, diff, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        bfd = openat(c->staging->dirfd, j->blob->staged, O_RDONLY | O_CLOEXEC);
        if (dfd < 0 || bfd < 0)
                return unpack_fail(j, -errno, true, NULL);
        r = layer_unpack(bfd, dfd, lowers, n_lowers, &c->store->limits.layer,
                         c->opts ? c->opts->cancel : NULL, &res);
        if (r < 0)
                return unpack_fail(j, r, IN_SET(r, -ECANCELED, -EFBIG, -E2BIG, -EXDEV, -ENOMEM, -ENOSPC),
                                   layer_last_error());
        if (!streq(res.compressed_digest, j->blob->digest))
                return unpack_fail(j, -EBADMSG, true, "the blob changed while unpacking");
        if (!streq(res.diff_id, j->diff_id)) {
                char msg[256];
                snprintf(msg, sizeof msg, "digest mismatch: the config says diff_id %s, the layer is %s",
                         j->diff_id, res.diff_id);
                return unpack_fail(j, -EBADMSG, true, msg);
        }
        /* Unpacked without (all of) its lower layers, the directories it only
         * implies got root's 0755 and the current time instead of the lower
         * directory's owner, mode and times: the sequential pass redoes it. */
        if (n_lowers < j->index && res.implied_dirs > 0)
                return unpack_fail(j, -EAGAIN, false, "directories it implies need the lower layers");
        j->size = store_tree_size_at(c->staging->dirfd, diff);
        c->bytes_done += j->blob->size;
        load_progress(c, j->blob->path);
}

static void *unpack_worker(void *userdata) {
        UnpackQueue *q = userdata;

        for (;;) {
                UnpackJob *j;

                pthread_mutex_lock(&q->mutex);
                j = q->next < q->n_jobs ? &q->jobs[q->next++] : NULL;
                pthread_mutex_unlock(&q->mutex);
                if (!j)
                        return NULL;
                unpack_one(j, NULL, 0);
        }
}

static int run_parallel(LoadContext *c, UnpackQueue *q) {
        unsigned n = MIN(c->store->limits.unpack_threads, (unsigned) q->n_jobs);
        pthread_t threads[16];
        unsigned started = 0;

        n = MIN(n, (unsigned) ELEMENTSOF(threads));
        for (; started < n; started++)
                if (pthread_create(&threads[started], NULL, unpack_worker, q) != 0)
                        break;
        if (started == 0)
                unpack_worker(q);
        for (unsigned i = 0; i < started; i++)
                pthread_join(threads[i], NULL);
        return 0;
}

/* Sequential pass with the lower layers, for jobs not done yet (or that
 * failed without them, e.g. a hardlink to a lower layer's file, or that
 * implied directories whose metadata the lower layers provide). */
static int run_sequential(LoadContext *c, UnpackQueue *q, StagedLayer *out, bool only_failed) {
        for (size_t k = 0; k < q->n_jobs; k++) {
                UnpackJob *j = &q->jobs[k];
                int lowers[j->index + 1];
                int r;

                if (only_failed && (j->r == 0 || j->final))
                        continue;
                for (size_t i = 0; i <= j->index; i++)
                        lowers[i] = -EBADF;
                r = load_open_lowers(c->store, c->staging, out, j->index, lowers);
                if (r < 0)
                        unpack_fail(j, r, true, NULL);
                else
                        unpack_one(j, lowers, j->index);
                load_lowers_close(lowers, j->index);
        }
        return 0;
}

static const char *unpacked_lookup(LoadContext *c, const char *chain_id) {
        for (char **p = c->unpacked; p && p[0] && p[1]; p += 2)
                if (streq(p[0], chain_id))
                        return p[1];
        return NULL;
}

/* Fills out[i] and decides whether layer i needs unpacking (returns 1). */
static int plan_layer(LoadContext *c, const LoadMember *blob, const char *expected, OciMediaType mt,
                      const char *diff_id, const char *parent_chain, size_t i, StagedLayer *out) {
        char existing[DIGEST_STRING_MAX];
        const char *dir;
        uint64_t size = 0;
        int r;

        if (expected && !streq(expected, blob->digest))
                return errmsg_set(-EBADMSG, "Digest mismatch for layer %zu (%s): expected %s, got %s.",
                                  i, blob->path, expected, blob->digest);
        if (digest_validate(diff_id) < 0)
                return errmsg_set(-EBADMSG, "Invalid diff_id \"%s\" for layer %zu.", diff_id, i);
        out->layer = (StoreLayer) { .media_type = mt, .blob_size = blob->size };
        strcpy(out->layer.digest, blob->digest);
        strcpy(out->layer.diff_id, diff_id);
        r = oci_chain_id(parent_chain, diff_id, out->layer.chain_id);
        if (r < 0)
                return r;
        /* Kept even if the store has the blob: a concurrent removal may take it before we commit. */
        out->blob_path = strdup(blob->staged);
        if (!out->blob_path)
                return -ENOMEM;
        dir = unpacked_lookup(c, out->layer.chain_id);
        if (dir) {
                out->dir_path = strdup(dir);
                out->layer.size = store_tree_size_at(c->staging->dirfd, dir);
                return out->dir_path ? 0 : -ENOMEM;
        }
        /* Already in the store, unpacked from this very blob: nothing to verify again. */
        if (store_layer_lookup(c->store, out->layer.chain_id, existing, &size) >= 0 &&
            streq(existing, blob->digest)) {
                out->layer.size = size;
                return 0;
        }
        r = store_staging_name(c->staging, "l", &out->dir_path);
        return r < 0 ? r : 1;
}

static int collect_results(LoadContext *c, UnpackQueue *q, StagedLayer *out) {
        for (size_t k = 0; k < q->n_jobs; k++) {
                UnpackJob *j = &q->jobs[k];
                if (j->r < 0)
                        return errmsg_set(j->r, "Layer %zu (%s): %s.", j->index, j->blob->path, j->error);
        }
        for (size_t k = 0; k < q->n_jobs; k++) {
                UnpackJob *j = &q->jobs[k];
                out[j->index].layer.size = j->size;
                if (strv_extend(&c->unpacked, out[j->index].layer.chain_id) < 0 ||
                    strv_extend(&c->unpacked, j->dir) < 0)
                        return -ENOMEM;
        }
        return 0;
}

int load_stage_layers(LoadContext *c, const LoadMember * const *blobs, char * const *expected,
                      const OciMediaType *media_types, char * const *diff_ids, size_t n, StagedLayer *out) {
        _cleanup_free_ UnpackJob *jobs = calloc(n + 1, sizeof(UnpackJob));
        UnpackQueue q = { .jobs = jobs, .mutex = PTHREAD_MUTEX_INITIALIZER };
        int r;

        if (!jobs)
                return -ENOMEM;
        for (size_t i = 0; i < n; i++) {
                r = plan_layer(c, blobs[i], expected ? expected[i] : NULL, media_types[i], diff_ids[i],
                               i > 0 ? out[i - 1].layer.chain_id : NULL, i, &out[i]);
                if (r < 0)
                        return r;
                if (r > 0)
                        jobs[q.n_jobs++] = (UnpackJob) { .ctx = c, .index = i, .blob = blobs[i],
                                                         .diff_id = diff_ids[i], .dir = out[i].dir_path };
        }
        if (q.n_jobs == 0)
                return 0;
        if (c->store->limits.unpack_threads > 1 && q.n_jobs > 1) {
                run_parallel(c, &q);
                run_sequential(c, &q, out, true);
        } else
                run_sequential(c, &q, out, false);
        r = load_check_cancel(c);
        if (r < 0)
                return r;
        return collect_results(c, &q, out);
}
