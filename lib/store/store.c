/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <fcntl.h>
#include <limits.h>
#include <sys/file.h>
#include <sys/stat.h>

#include "fileio.h"
#include "log.h"
#include "json-util.h"
#include "store-partial.h"

const StoreLimits store_limits_default = {
        .layer = {
                .max_compressed_size = 16ULL << 30,
                .max_uncompressed_size = 64ULL << 30,
                .max_entries = 1000000,
                .max_path_length = 4096,
                .max_header_size = 4ULL << 20,
                .max_dir_table_size = 64ULL << 20,
        },
        .max_json_size = 4ULL << 20,
        .max_archive_entries = 100000,
        .max_archive_size = 256ULL << 30,
        .max_archive_names_size = 16ULL << 20,
        .max_images = 1000,
        .max_layers = 128,
        .unpack_threads = 1,   /* see docs/storage.md: more threads redo layers that imply directories */
};

static const char *const store_dirs[] = { "tmp", "trash", "blobs", "blobs/sha256", "layers", "images", "holds",
                                            "partial" };

const char *store_last_error(void) {
        return errmsg_last();
}

const char *store_root(Store *s) {
        return s->root;
}

const StoreLimits *store_limits(Store *s) {
        return &s->limits;
}

static int store_open_root(int dirfd, const char *path, int *ret_fd, char **ret_path) {
        _cleanup_close_ int fd = -EBADF;
        char proc[64], buf[PATH_MAX];
        ssize_t n;
        int r;

        if (!isempty(path)) {
                r = mkdir_p_at(dirfd, path, 0700);
                if (r < 0)
                        return errmsg_set(r, "Cannot create store directory %s: %s.", path, strerror(-r));
                fd = openat(dirfd, path, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        } else
                fd = fcntl(dirfd, F_DUPFD_CLOEXEC, 3);
        if (fd < 0)
                return errmsg_set(-errno, "Cannot open store directory %s: %m.", strempty(path));
        snprintf(proc, sizeof proc, "/proc/self/fd/%d", fd);
        n = readlink(proc, buf, sizeof buf - 1);
        if (n < 0)
                return -errno;
        buf[n] = 0;
        *ret_path = strdup(buf);
        if (!*ret_path)
                return -ENOMEM;
        *ret_fd = TAKE_FD(fd);
        return 0;
}

int store_open(int dirfd, const char *path, const StoreLimits *limits, Store **ret) {
        _cleanup_(store_freep) Store *s = NULL;
        int r;

        errmsg_clear();
        s = calloc(1, sizeof *s);
        if (!s)
                return -ENOMEM;
        s->root_fd = s->lock_fd = -EBADF;
        s->limits = limits ? *limits : store_limits_default;
        s->limits.unpack_threads = MAX(s->limits.unpack_threads, 1u);
        r = pthread_mutex_init(&s->mutex, NULL);
        if (r != 0)
                return -r;
        r = store_open_root(dirfd, path, &s->root_fd, &s->root);
        if (r < 0)
                return r;
        for (size_t i = 0; i < ELEMENTSOF(store_dirs); i++)
                if (mkdirat(s->root_fd, store_dirs[i], 0700) < 0 && errno != EEXIST)
                        return errmsg_set(-errno, "Cannot create %s/%s: %m.", s->root, store_dirs[i]);
        s->lock_fd = openat(s->root_fd, "lock", O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0600);
        if (s->lock_fd < 0)
                return errmsg_set(-errno, "Cannot open %s/lock: %m.", s->root);
        r = store_gc(s);
        if (r < 0)
                log_debug_errno(r, "store: garbage collection at open failed: %s", strempty(errmsg_last()));
        errmsg_clear();
        *ret = TAKE_PTR(s);
        return 0;
}

Store *store_free(Store *s) {
        if (!s)
                return NULL;
        safe_close(s->lock_fd);
        safe_close(s->root_fd);
        free(s->root);
        pthread_mutex_destroy(&s->mutex);
        free(s);
        return NULL;
}

int store_lock(Store *s, StoreLock *ret) {
        pthread_mutex_lock(&s->mutex);
        while (flock(s->lock_fd, LOCK_EX) < 0) {
                if (errno == EINTR)
                        continue;
                int r = -errno;
                pthread_mutex_unlock(&s->mutex);
                return errmsg_set(r, "Cannot lock the image store: %s.", strerror(-r));
        }
        ret->store = s;
        return 0;
}

void store_unlock(StoreLock *l) {
        if (!l->store)
                return;
        (void) flock(l->store->lock_fd, LOCK_UN);
        pthread_mutex_unlock(&l->store->mutex);
        l->store = NULL;
}

/* ---- image records ---- */

StoreRecord *store_record_free(StoreRecord *r) {
        if (!r)
                return NULL;
        free(r->layers);
        strv_free(r->repo_digests);
        free(r);
        return NULL;
}

static int record_path(const char *id_hex, char **ret) {
        if (!string_is_hex(id_hex, DIGEST_HEX_LEN))
                return -EINVAL;
        *ret = strjoin("images/", id_hex, ".json");
        return *ret ? 0 : -ENOMEM;
}

static int copy_digest(const char *what, json_t *o, const char *key, bool required, char ret[static DIGEST_STRING_MAX]) {
        const char *d;
        int r;

        r = json_get_string(what, o, key, required, &d);
        if (r < 0)
                return r;
        if (!d) {
                ret[0] = 0;
                return 0;
        }
        if (digest_validate(d) < 0)
                return errmsg_set(-EBADMSG, "Malformed %s: invalid digest in \"%s\".", what, key);
        strcpy(ret, d);
        return 0;
}

static int record_parse_layer(json_t *e, StoreLayer *l) {
        static const char what[] = "image record";
        const char *mt;
        int r;

        if (!json_is_object(e))
                return errmsg_set(-EBADMSG, "Malformed image record: layer is not an object.");
        if ((r = copy_digest(what, e, "digest", true, l->digest)) < 0 ||
            (r = copy_digest(what, e, "diffId", true, l->diff_id)) < 0 ||
            (r = copy_digest(what, e, "chainId", true, l->chain_id)) < 0 ||
            (r = json_get_uint64(what, e, "blobSize", false, &l->blob_size)) < 0 ||
            (r = json_get_uint64(what, e, "size", false, &l->size)) < 0 ||
            (r = json_get_string(what, e, "mediaType", true, &mt)) < 0)
                return r;
        l->media_type = oci_media_type_from_string(mt);
        if (l->media_type < 0)
                return errmsg_set(-EMEDIUMTYPE, "Malformed image record: media type \"%s\".", mt);
        return 0;
}

static int record_parse(const char *data, size_t size, StoreRecord **ret) {
        static const char what[] = "image record";
        _cleanup_(store_record_freep) StoreRecord *rec = NULL;
        json_auto_t *j = NULL;
        json_t *layers, *e;
        size_t i;
        int r;

        r = json_parse_object(what, data, size, &j);
        if (r < 0)
                return r;
        rec = calloc(1, sizeof *rec);
        if (!rec)
                return -ENOMEM;
        if ((r = copy_digest(what, j, "id", true, rec->id)) < 0 ||
            (r = copy_digest(what, j, "manifest", false, rec->manifest_digest)) < 0 ||
            (r = json_get_uint64(what, j, "loaded", false, &rec->loaded_usec)) < 0)
                return r;
        rec->manifest_original = json_is_true(json_object_get(j, "manifestOriginal"));
        r = json_get_strv(what, j, "repoDigests", &rec->repo_digests);
        if (r < 0)
                return r;
        layers = json_object_get(j, "layers");
        if (!json_is_array(layers))
                return errmsg_set(-EBADMSG, "Malformed image record: \"layers\" must be an array.");
        rec->layers = calloc(json_array_size(layers) + 1, sizeof(StoreLayer));
        if (!rec->layers)
                return -ENOMEM;
        json_array_foreach(layers, i, e) {
                r = record_parse_layer(e, &rec->layers[i]);
                if (r < 0)
                        return r;
                rec->n_layers = i + 1;
        }
        *ret = TAKE_PTR(rec);
        return 0;
}

int store_record_read(Store *s, const char *id_hex, StoreRecord **ret) {
        _cleanup_free_ char *path = NULL, *data = NULL;
        size_t size;
        int r;

        r = record_path(id_hex, &path);
        if (r < 0)
                return r;
        r = read_full_file_at(s->root_fd, path, s->limits.max_json_size, &data, &size);
        if (r < 0)
                return r;
        return record_parse(data, size, ret);
}

int store_record_write(Store *s, const StoreRecord *rec) {
        _cleanup_free_ char *path = NULL, *data = NULL;
        json_auto_t *j = NULL;
        json_t *layers;
        int r;

        r = record_path(digest_hex(rec->id), &path);
        if (r < 0)
                return r;
        layers = json_array();
        j = json_pack("{ss,sb,sI,so*}", "id", rec->id, "manifestOriginal", rec->manifest_original,
                      "loaded", (json_int_t) rec->loaded_usec, "layers", layers);
        if (!j || !layers || json_set_string(j, "manifest", isempty(rec->manifest_digest) ? NULL : rec->manifest_digest) < 0)
                return -ENOMEM;
        if (strv_length(rec->repo_digests) > 0 && json_object_set_new(j, "repoDigests", json_strv(rec->repo_digests)) < 0)
                return -ENOMEM;
        for (size_t i = 0; i < rec->n_layers; i++) {
                const StoreLayer *l = &rec->layers[i];
                if (json_array_append_new(layers, json_pack("{ss,ss,ss,ss,sI,sI}", "digest", l->digest,
                                                            "diffId", l->diff_id, "chainId", l->chain_id,
                                                            "mediaType", oci_media_type_to_string(l->media_type),
                                                            "blobSize", (json_int_t) l->blob_size,
                                                            "size", (json_int_t) l->size)) < 0)
                        return -ENOMEM;
        }
        r = json_dump_string(j, &data);
        if (r < 0)
                return r;
        return write_file_atomic_at(s->root_fd, path, data, strlen(data), 0600);
}

int store_record_list(Store *s, char ***ret) {
        _cleanup_strv_free_ char **l = calloc(1, sizeof(char *));
        _cleanup_closedir_ DIR *d = NULL;
        struct dirent *de;
        int r;

        if (!l)
                return -ENOMEM;
        r = opendir_at(s->root_fd, "images", 0, &d);
        if (r < 0)
                return r;
        while ((de = readdir(d))) {
                const char *e = endswith(de->d_name, ".json");
                if (!e || e - de->d_name != DIGEST_HEX_LEN || de->d_name[0] == '.')
                        continue;
                if (strv_consume(&l, strndup(de->d_name, DIGEST_HEX_LEN)) < 0)
                        return -ENOMEM;
        }
        strv_sort(l);
        *ret = TAKE_PTR(l);
        return 0;
}

/* ---- the name index ---- */

int store_tags_read(Store *s, json_t **ret) {
        _cleanup_free_ char *data = NULL;
        json_auto_t *j = NULL;
        json_t *tags;
        size_t size;
        int r;

        r = read_full_file_at(s->root_fd, "repositories.json", s->limits.max_json_size * 16, &data, &size);
        if (r == -ENOENT) {
                *ret = json_object();
                return *ret ? 0 : -ENOMEM;
        }
        if (r < 0)
                return r;
        r = json_parse_object("repositories.json", data, size, &j);
        if (r < 0)
                return r;
        tags = json_object_get(j, "tags");
        if (!json_is_object(tags))
                return errmsg_set(-EBADMSG, "Malformed repositories.json: \"tags\" must be an object.");
        *ret = json_incref(tags);
        return 0;
}

int store_tags_write(Store *s, json_t *tags) {
        _cleanup_free_ char *data = NULL;
        json_auto_t *j = json_pack("{sO}", "tags", tags);
        int r;

        if (!j)
                return -ENOMEM;
        r = json_dump_string(j, &data);
        if (r < 0)
                return r;
        return write_file_atomic_at(s->root_fd, "repositories.json", data, strlen(data), 0600);
}

/* ---- staging ---- */

int store_staging_new(Store *s, StoreStaging **ret) {
        _cleanup_(store_staging_freep) StoreStaging *st = NULL;
        _cleanup_(store_unlock) StoreLock lock = {};
        _cleanup_free_ char *tmp = NULL;
        int r;

        st = calloc(1, sizeof *st);
        if (!st)
                return -ENOMEM;
        st->store = s;
        st->dirfd = -EBADF;
        r = tempname_at("tmp/op", &tmp);
        if (r < 0)
                return r;
        /* Under the store lock, which GC holds throughout: between mkdir and
         * flock a GC (of another process) would take the new directory for
         * a leftover. */
        r = store_lock(s, &lock);
        if (r < 0)
                return r;
        if (mkdirat(s->root_fd, tmp, 0700) < 0)
                return errmsg_set(-errno, "Cannot create %s/%s: %m.", s->root, tmp);
        st->name = strdup(tmp + strlen("tmp/"));
        if (!st->name) {
                (void) unlinkat(s->root_fd, tmp, AT_REMOVEDIR);
                return -ENOMEM;
        }
        st->dirfd = openat(s->root_fd, tmp, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        if (st->dirfd < 0)
                return -errno;
        /* GC skips what it cannot lock: this staging dir stays ours. */
        if (flock(st->dirfd, LOCK_EX) < 0)
                return -errno;
        *ret = TAKE_PTR(st);
        return 0;
}

StoreStaging *store_staging_free(StoreStaging *st) {
        if (!st)
                return NULL;
        if (st->name) {
                _cleanup_free_ char *p = strjoin("tmp/", st->name);
                if (p)
                        (void) rm_rf_at(st->store->root_fd, p);
        }
        safe_close(st->dirfd);
        free(st->name);
        free(st);
        return NULL;
}

int store_staging_name(StoreStaging *st, const char *prefix, char **ret) {
        char buf[32];

        snprintf(buf, sizeof buf, "%u", __atomic_add_fetch(&st->counter, 1, __ATOMIC_SEQ_CST));
        *ret = strjoin(prefix, buf);
        return *ret ? 0 : -ENOMEM;
}

int store_staging_write(StoreStaging *st, const char *prefix, const void *data, size_t size, char **ret) {
        _cleanup_free_ char *name = NULL;
        int r;

        r = store_staging_name(st, prefix, &name);
        if (r < 0)
                return r;
        r = write_file_replace_at(st->dirfd, name, data, size, 0600, false);
        if (r < 0)
                return r;
        *ret = TAKE_PTR(name);
        return 0;
}

/* ---- blobs and layers ---- */

static int blob_path(const char *digest, char **ret) {
        const char *hex = digest_hex(digest);

        if (!hex)
                return -EINVAL;
        *ret = strjoin("blobs/sha256/", hex);
        return *ret ? 0 : -ENOMEM;
}

bool store_blob_exists(Store *s, const char *digest) {
        _cleanup_free_ char *p = NULL;

        return blob_path(digest, &p) >= 0 && faccessat(s->root_fd, p, F_OK, AT_SYMLINK_NOFOLLOW) >= 0;
}

int store_blob_open(Store *s, const char *digest) {
        _cleanup_free_ char *p = NULL;
        int r, fd;

        r = blob_path(digest, &p);
        if (r < 0)
                return r;
        fd = openat(s->root_fd, p, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
        if (fd < 0)
                return errmsg_set(-errno, "Blob %s is missing from the store: %m.", digest);
        return fd;
}

static int layer_dir(const char *chain_id, const char *sub, char **ret) {
        const char *hex = digest_hex(chain_id);

        if (!hex)
                return -EINVAL;
        *ret = strjoin("layers/", hex, sub ? "/" : "", strempty(sub));
        return *ret ? 0 : -ENOMEM;
}

int store_layer_lookup(Store *s, const char *chain_id, char ret_blob_digest[static DIGEST_STRING_MAX],
                       uint64_t *ret_size) {
        _cleanup_free_ char *p = NULL, *data = NULL;
        json_auto_t *j = NULL;
        size_t size;
        int r;

        r = layer_dir(chain_id, "layer.json", &p);
        if (r < 0)
                return r;
        r = read_full_file_at(s->root_fd, p, 65536, &data, &size);
        if (r < 0)
                return r;
        r = json_parse_object("layer record", data, size, &j);
        if (r < 0)
                return r;
        if (ret_size && (r = json_get_uint64("layer record", j, "size", false, ret_size)) < 0)
                return r;
        return copy_digest("layer record", j, "digest", true, ret_blob_digest);
}

static int move_blob(Store *s, StoreStaging *st, const char *staged, const char *digest) {
        _cleanup_free_ char *p = NULL;
        int r;

        if (!staged || store_blob_exists(s, digest))
                return 0;
        r = blob_path(digest, &p);
        if (r < 0)
                return r;
        if (renameat(st->dirfd, staged, s->root_fd, p) < 0)
                return errmsg_set(-errno, "Cannot move blob %s into the store: %m.", digest);
        return 0;
}

/* Outside the lock: layer.json goes into each staged layer dir first. */
static int stage_layer_meta(StoreStaging *st, const StagedLayer *sl, const char *parent) {
        _cleanup_free_ char *meta = NULL, *data = NULL;
        json_auto_t *j = NULL;
        int r;

        if (!sl->dir_path)
                return 0;
        meta = strjoin(sl->dir_path, "/layer.json");
        if (!meta)
                return -ENOMEM;
        /* Moved into the store already by an earlier image of the same load. */
        if (faccessat(st->dirfd, sl->dir_path, F_OK, AT_SYMLINK_NOFOLLOW) < 0)
                return 0;
        j = json_pack("{ss,ss,ss,sI}", "diffId", sl->layer.diff_id, "chainId", sl->layer.chain_id,
                      "digest", sl->layer.digest, "size", (json_int_t) sl->layer.size);
        if (!j || json_set_string(j, "parent", parent) < 0)
                return -ENOMEM;
        r = json_dump_string(j, &data);
        if (r < 0)
                return r;
        /* Durable with the rest of the staging dir (store_commit_image's syncfs). */
        return write_file_replace_at(st->dirfd, meta, data, strlen(data), 0600, false);
}

static int move_layer(Store *s, StoreStaging *st, const StagedLayer *sl) {
        _cleanup_free_ char *p = NULL;
        char existing[DIGEST_STRING_MAX];
        int r;

        if (store_layer_lookup(s, sl->layer.chain_id, existing, NULL) >= 0)
                return 0;
        if (!sl->dir_path)
                return errmsg_set(-ESTALE, "Layer %s was removed while the image was being loaded; load it again.",
                                  sl->layer.chain_id);
        r = layer_dir(sl->layer.chain_id, NULL, &p);
        if (r < 0)
                return r;
        /* A half-removed layer without layer.json: into the trash, not
         * deleted here, under the lock. */
        if (faccessat(s->root_fd, p, F_OK, AT_SYMLINK_NOFOLLOW) >= 0) {
                _cleanup_free_ char *victim = NULL;

                r = store_trash(s, s->root_fd, p, &victim);
                if (r < 0)
                        return errmsg_set(r, "Cannot move the remains of layer %s away: %s.",
                                          sl->layer.chain_id, strerror(-r));
                (void) rm_rf_background(s->root_fd, victim);
        }
        if (renameat(st->dirfd, sl->dir_path, s->root_fd, p) < 0)
                return errmsg_set(-errno, "Cannot move layer %s into the store: %m.", sl->layer.chain_id);
        return 0;
}

static int commit_files(Store *s, StoreStaging *st, const StagedImage *img) {
        int r;

        for (size_t i = 0; i < img->n_layers; i++) {
                const StagedLayer *sl = &img->layers[i];
                r = move_blob(s, st, sl->blob_path, sl->layer.digest);
                if (r < 0)
                        return r;
                r = move_layer(s, st, sl);
                if (r < 0)
                        return r;
        }
        r = move_blob(s, st, img->config_path, img->id);
        if (r >= 0 && !isempty(img->manifest_digest))
                r = move_blob(s, st, img->manifest_path, img->manifest_digest);
        if (r < 0)
                return r;
        r = fsync_directory_of_at(s->root_fd, "layers/x");
        if (r >= 0)
                r = fsync_directory_of_at(s->root_fd, "blobs/sha256/x");
        return r;
}

/* Moves each tag to id; the image it pointed to loses it (and may become dangling). */
static int tags_set(Store *s, char * const *tags, const char *id) {
        json_auto_t *index = NULL;
        bool changed = false;
        int r;

        if (strv_length(tags) == 0)
                return 0;

        r = store_tags_read(s, &index);
        if (r < 0)
                return r;
        STRV_FOREACH(t, tags) {
                if (streq_ptr(json_string_value(json_object_get(index, *t)), id))
                        continue;
                if (json_object_set_new(index, *t, json_string(id)) < 0)
                        return -ENOMEM;
                changed = true;
        }
        return changed ? store_tags_write(s, index) : 0;
}

/* An image seen again keeps its record, unless this time it comes with its
 * original manifest (an OCI archive after a docker-archive); a pull adds the
 * repository digest it was pulled as. */
static int record_update(Store *s, const StagedImage *img) {
        _cleanup_(store_record_freep) StoreRecord *existing = NULL;
        _cleanup_strv_free_ char **digests = NULL;
        StoreRecord rec = {};
        int r;

        if (store_record_read(s, digest_hex(img->id), &existing) >= 0 &&
            !(img->manifest_original && !existing->manifest_original)) {
                if (!img->repo_digest || strv_contains(existing->repo_digests, img->repo_digest))
                        return 0;
                if (strv_extend(&existing->repo_digests, img->repo_digest) < 0)
                        return -ENOMEM;
                return store_record_write(s, existing);
        }
        if (existing && existing->repo_digests)
                digests = TAKE_PTR(existing->repo_digests);
        if (img->repo_digest && !strv_contains(digests, img->repo_digest) && strv_extend(&digests, img->repo_digest) < 0)
                return -ENOMEM;
        rec.layers = calloc(img->n_layers + 1, sizeof(StoreLayer));
        if (!rec.layers)
                return -ENOMEM;
        strcpy(rec.id, img->id);
        strcpy(rec.manifest_digest, img->manifest_digest);
        rec.manifest_original = img->manifest_original;
        rec.loaded_usec = now_usec(CLOCK_REALTIME);
        for (size_t i = 0; i < img->n_layers; i++)
                rec.layers[i] = img->layers[i].layer;
        rec.n_layers = img->n_layers;
        rec.repo_digests = digests;
        r = store_record_write(s, &rec);
        free(rec.layers);
        return r;
}

int store_commit_image(Store *s, StoreStaging *st, const StagedImage *img) {
        _cleanup_(store_unlock) StoreLock lock = {};
        int r;

        for (size_t i = 0; i < img->n_layers; i++) {
                r = stage_layer_meta(st, &img->layers[i], i > 0 ? img->layers[i - 1].layer.chain_id : NULL);
                if (r < 0)
                        return r;
        }
        /* Everything staged reaches the disk before anything becomes visible;
         * done before taking the lock, which listing waits for. */
        if (syncfs(st->dirfd) < 0)
                return -errno;
        r = store_lock(s, &lock);
        if (r < 0)
                return r;
        r = commit_files(s, st, img);
        if (r < 0)
                return r;
        r = record_update(s, img);
        if (r < 0)
                return errmsg_set(r, "Cannot write the image record: %s.", strerror(-r));
        return tags_set(s, img->tags, img->id);
}

void staged_image_done(StagedImage *i) {
        for (size_t k = 0; k < i->n_layers; k++) {
                free(i->layers[k].blob_path);
                free(i->layers[k].dir_path);
        }
        free(i->layers);
        free(i->config_path);
        free(i->manifest_path);
        strv_free(i->tags);
        free(i->repo_digest);
        *i = (StagedImage) {};
}

/* ---- garbage collection ---- */

static int referenced_sets(Store *s, char ***ret_chains, char ***ret_blobs) {
        _cleanup_strv_free_ char **ids = NULL, **chains = NULL, **blobs = NULL;
        int r;

        r = store_record_list(s, &ids);
        if (r < 0)
                return r;
        STRV_FOREACH(id, ids) {
                _cleanup_(store_record_freep) StoreRecord *rec = NULL;

                /* An unreadable record might reference anything: collect nothing. */
                r = store_record_read(s, *id, &rec);
                if (r < 0)
                        return errmsg_set(r, "Image record %s is unreadable, not collecting garbage.", *id);
                if (strv_extend(&blobs, rec->id) < 0 ||
                    (!isempty(rec->manifest_digest) && strv_extend(&blobs, rec->manifest_digest) < 0))
                        return -ENOMEM;
                for (size_t i = 0; i < rec->n_layers; i++)
                        if (strv_extend(&chains, digest_hex(rec->layers[i].chain_id)) < 0 ||
                            strv_extend(&blobs, digest_hex(rec->layers[i].digest)) < 0)
                                return -ENOMEM;
        }
        STRV_FOREACH(b, blobs) {
                const char *hex = digest_hex(*b);
                if (hex)
                        memmove(*b, hex, strlen(hex) + 1);
        }
        *ret_chains = TAKE_PTR(chains);
        *ret_blobs = TAKE_PTR(blobs);
        return 0;
}

uint64_t store_tree_size_at(int parent_fd, const char *path) {
        uint64_t size = 0;

        /* What could be counted is: a size is for display and GC statistics. */
        (void) tree_size_at(parent_fd, path, &size);
        return size;
}

int store_trash(Store *s, int dirfd, const char *name, char **ret) {
        _cleanup_free_ char *victim = NULL;
        int r;

        r = tempname_at(STORE_TRASH_DIR "/x", &victim);
        if (r < 0)
                return r;
        if (renameat(dirfd, name, s->root_fd, victim) < 0)
                return -errno;
        if (ret)
                *ret = TAKE_PTR(victim);
        return 0;
}

/* Moves entries of dir (relative to root) not in keep into the trash,
 * listing them in *victims: a layer may be a million files or 50,000 nested
 * directories, a blob gigabytes, and other operations (some in berthd's
 * event loop) wait for the lock, so nothing is deleted under it; the
 * victims go once it is released (store_gc_finish()). */
static int sweep_dir(Store *s, const char *dir, char * const *keep, char ***victims, uint64_t *reclaimed) {
        _cleanup_closedir_ DIR *d = NULL;
        struct dirent *de;
        bool moved = false;
        int r;

        r = opendir_at(s->root_fd, dir, 0, &d);
        if (r < 0)
                return r;
        while ((de = readdir(d))) {
                _cleanup_free_ char *victim = NULL;
                struct stat st;

                if (streq(de->d_name, ".") || streq(de->d_name, "..") || strv_contains(keep, de->d_name))
                        continue;
                /* Blobs are single files, counted here; layers once deleted. */
                if (fstatat(dirfd(d), de->d_name, &st, AT_SYMLINK_NOFOLLOW) >= 0 && S_ISREG(st.st_mode))
                        *reclaimed += (uint64_t) st.st_size;
                r = store_trash(s, dirfd(d), de->d_name, &victim);
                if (r < 0)
                        return r;
                moved = true;
                r = strv_consume(victims, TAKE_PTR(victim));
                if (r < 0)
                        return r;
                log_debug("store: removed unreferenced %s/%s", dir, de->d_name);
        }
        /* Gone from dir for good before the lock goes: what a crash leaves in
         * the trash is emptied at the next open. */
        if (moved && fsync(dirfd(d)) < 0)
                return -errno;
        return 0;
}

int store_gc_unreferenced(Store *s, uint64_t *reclaimed, char ***ret_victims) {
        _cleanup_strv_free_ char **chains = NULL, **blobs = NULL;
        uint64_t n = 0;
        int r;

        r = referenced_sets(s, &chains, &blobs);
        if (r < 0)
                return r;
        r = sweep_dir(s, "layers", chains, ret_victims, &n);
        if (r >= 0)
                r = sweep_dir(s, "blobs/sha256", blobs, ret_victims, &n);
        if (reclaimed)
                *reclaimed += n;
        return r;
}

void store_gc_finish(Store *s, char **victims, uint64_t *reclaimed) {
        STRV_FOREACH(v, victims) {
                /* Blobs were counted when they were moved. */
                if (reclaimed) {
                        struct stat st;
                        if (fstatat(s->root_fd, *v, &st, AT_SYMLINK_NOFOLLOW) >= 0 && S_ISDIR(st.st_mode))
                                *reclaimed += store_tree_size_at(s->root_fd, *v);
                }
                (void) rm_rf_at(s->root_fd, *v);
        }
        strv_free(victims);
}

/* Leftovers of interrupted operations: staging dirs nobody holds locked,
 * moved into the trash. */
static int gc_tmp(Store *s, char ***victims) {
        _cleanup_closedir_ DIR *d = NULL;
        struct dirent *de;
        int r;

        r = opendir_at(s->root_fd, "tmp", 0, &d);
        if (r < 0)
                return r;
        while ((de = readdir(d))) {
                _cleanup_close_ int efd = -EBADF;
                _cleanup_free_ char *victim = NULL;

                if (streq(de->d_name, ".") || streq(de->d_name, ".."))
                        continue;
                efd = openat(dirfd(d), de->d_name, O_RDONLY | O_CLOEXEC | O_NOFOLLOW | O_NONBLOCK);
                if (efd >= 0 && flock(efd, LOCK_EX | LOCK_NB) < 0)
                        continue;       /* in use by a running operation */
                r = store_trash(s, dirfd(d), de->d_name, &victim);
                if (r < 0)
                        log_debug_errno(r, "store: cannot move tmp/%s into the trash: %m", de->d_name);
                else if (strv_consume(victims, TAKE_PTR(victim)) < 0)
                        return -ENOMEM;
        }
        return 0;
}

/* What a crash left in the trash. Not under the lock: every name in the
 * trash is new and nobody uses it but who deletes it; a concurrent removal
 * of another process may delete the same entry, which is harmless. */
static void gc_trash(Store *s) {
        _cleanup_closedir_ DIR *d = NULL;
        struct dirent *de;

        if (opendir_at(s->root_fd, STORE_TRASH_DIR, 0, &d) < 0)
                return;
        while ((de = readdir(d)))
                if (!streq(de->d_name, ".") && !streq(de->d_name, ".."))
                        (void) rm_rf_at(dirfd(d), de->d_name);
}

/* Temporary files of write_file_atomic_at() that a crash left. */
static void gc_dot_files(Store *s, const char *dir) {
        _cleanup_closedir_ DIR *d = NULL;
        struct dirent *de;

        if (opendir_at(s->root_fd, dir, 0, &d) < 0)
                return;
        while ((de = readdir(d)))
                if (startswith(de->d_name, ".#"))
                        (void) unlinkat(dirfd(d), de->d_name, 0);
}

int store_gc(Store *s) {
        _cleanup_(store_unlock) StoreLock lock = {};
        _cleanup_strv_free_ char **victims = NULL;
        int r;

        r = store_lock(s, &lock);
        if (r < 0)
                return r;
        r = gc_tmp(s, &victims);
        if (r < 0)
                return r;
        gc_dot_files(s, ".");
        gc_dot_files(s, "images");
        r = store_gc_unreferenced(s, NULL, &victims);
        (void) store_partial_sweep(s, UINT64_MAX, STORE_PARTIAL_MAX_AGE_USEC, &victims, NULL);
        if (victims)
                (void) fsync_path_at(s->root_fd, STORE_TRASH_DIR);
        store_unlock(&lock);
        /* The victims are in the trash now, with what a crash left there:
         * all of it goes, but after the lock, which nobody waits for then. */
        strv_free(TAKE_PTR(victims));
        gc_trash(s);
        return r;
}
