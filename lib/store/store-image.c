/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <fcntl.h>
#include <sys/stat.h>

#include "fileio.h"
#include "json-util.h"
#include "log.h"
#include "reference.h"
#include "store-internal.h"

Image *image_free(Image *i) {
        if (!i)
                return NULL;
        free(i->id);
        strv_free(i->repo_tags);
        strv_free(i->repo_digests);
        free(i->manifest_digest);
        oci_image_config_done(&i->config);
        strv_free(i->layer_digests);
        strv_free(i->chain_ids);
        strv_free(i->holders);
        free(i);
        return NULL;
}

void image_array_free(Image **l, size_t n) {
        for (size_t i = 0; i < n; i++)
                image_free(l[i]);
        free(l);
}

char **image_familiar_tags(const Image *i) {
        _cleanup_strv_free_ char **l = calloc(1, sizeof(char *));

        if (!l)
                return NULL;
        STRV_FOREACH(t, i->repo_tags)
                if (strv_consume(&l, reference_familiar_string(*t)) < 0)
                        return NULL;
        return TAKE_PTR(l);
}

int image_short_id(const Image *i, char ret[static 13]) {
        const char *hex = digest_hex(i->id);

        if (!hex)
                return -EINVAL;
        snprintf(ret, 13, "%.12s", hex);
        return 0;
}

static int tags_of(json_t *tags, const char *id, char ***ret) {
        _cleanup_strv_free_ char **l = calloc(1, sizeof(char *));
        const char *k;
        json_t *v;

        if (!l)
                return -ENOMEM;
        json_object_foreach(tags, k, v)
                if (streq_ptr(json_string_value(v), id) && strv_extend(&l, k) < 0)
                        return -ENOMEM;
        strv_sort(l);
        *ret = TAKE_PTR(l);
        return 0;
}

static int holders_of(Store *s, const char *id, char ***ret) {
        _cleanup_strv_free_ char **l = calloc(1, sizeof(char *));
        _cleanup_free_ char *p = strjoin("holds/", strempty(digest_hex(id)));
        _cleanup_closedir_ DIR *d = NULL;
        struct dirent *de;
        int r;

        if (!l || !p)
                return -ENOMEM;
        r = opendir_at(s->root_fd, p, 0, &d);
        if (r < 0) {
                if (r != -ENOENT)
                        return r;
                *ret = TAKE_PTR(l);
                return 0;
        }
        while ((de = readdir(d)))
                if (de->d_name[0] != '.' && strv_extend(&l, de->d_name) < 0)
                        return -ENOMEM;
        strv_sort(l);
        *ret = TAKE_PTR(l);
        return 0;
}

/* The digests it was pulled as, and name@manifest for each tag of an image
 * whose manifest is the original. */
static int repo_digests_of(const StoreRecord *rec, char * const *tags, char ***ret) {
        _cleanup_strv_free_ char **l = rec->repo_digests ? strv_copy(rec->repo_digests) : calloc(1, sizeof(char *));

        if (!l)
                return -ENOMEM;
        STRV_FOREACH(t, tags) {
                _cleanup_(reference_freep) Reference *ref = NULL;
                _cleanup_free_ char *name = NULL, *d = NULL;

                if (!rec->manifest_original || reference_parse(*t, &ref) < 0)
                        continue;
                name = reference_name(ref);
                d = name ? strjoin(name, "@", rec->manifest_digest) : NULL;
                if (!d)
                        return -ENOMEM;
                if (!strv_contains(l, d) && strv_consume(&l, TAKE_PTR(d)) < 0)
                        return -ENOMEM;
        }
        *ret = TAKE_PTR(l);
        return 0;
}

static int read_config(Store *s, const char *id, OciImageConfig **ret) {
        _cleanup_close_ int fd = store_blob_open(s, id);
        _cleanup_free_ char *data = NULL;
        size_t size;
        int r;

        if (fd < 0)
                return fd;
        r = read_full_fd(fd, s->limits.max_json_size, &data, &size);
        if (r < 0)
                return r;
        return oci_image_config_parse(data, size, ret);
}

static int image_layers_from_record(const StoreRecord *rec, Image *img) {
        img->layer_digests = calloc(rec->n_layers + 1, sizeof(char *));
        img->chain_ids = calloc(rec->n_layers + 1, sizeof(char *));
        if (!img->layer_digests || !img->chain_ids)
                return -ENOMEM;
        for (size_t i = 0; i < rec->n_layers; i++) {
                img->layer_digests[i] = strdup(rec->layers[i].digest);
                img->chain_ids[i] = strdup(rec->layers[i].chain_id);
                if (!img->layer_digests[i] || !img->chain_ids[i])
                        return -ENOMEM;
                img->size += rec->layers[i].size;
        }
        img->virtual_size = img->size;
        return 0;
}

int store_image_from_record(Store *s, const StoreRecord *rec, json_t *tags, Image **ret) {
        _cleanup_(image_freep) Image *img = NULL;
        _cleanup_(oci_image_config_freep) OciImageConfig *c = NULL;
        int r;

        img = calloc(1, sizeof *img);
        if (!img)
                return -ENOMEM;
        img->id = strdup(rec->id);
        img->manifest_digest = isempty(rec->manifest_digest) ? NULL : strdup(rec->manifest_digest);
        if (!img->id || (!isempty(rec->manifest_digest) && !img->manifest_digest))
                return -ENOMEM;
        img->loaded_usec = rec->loaded_usec;
        if ((r = tags_of(tags, rec->id, &img->repo_tags)) < 0 ||
            (r = repo_digests_of(rec, img->repo_tags, &img->repo_digests)) < 0 ||
            (r = holders_of(s, rec->id, &img->holders)) < 0 ||
            (r = image_layers_from_record(rec, img)) < 0 ||
            (r = read_config(s, rec->id, &c)) < 0)
                return r;
        img->config = *c;
        free(TAKE_PTR(c));
        *ret = TAKE_PTR(img);
        return 0;
}

static int image_load_locked(Store *s, const char *id, json_t *tags, Image **ret) {
        _cleanup_(store_record_freep) StoreRecord *rec = NULL;
        int r;

        r = store_record_read(s, digest_hex(id) ?: id, &rec);
        if (r == -ENOENT)
                return errmsg_set(-ENOENT, "No such image: %s.", id);
        if (r < 0)
                return r;
        return store_image_from_record(s, rec, tags, ret);
}

static int cmp_image(const void *a, const void *b) {
        const Image *x = *(Image * const *) a, *y = *(Image * const *) b;
        uint64_t cx = x->config.created_usec ?: x->loaded_usec, cy = y->config.created_usec ?: y->loaded_usec;

        if (cx != cy)
                return cx < cy ? 1 : -1;
        return strcmp(x->id, y->id);
}

int store_list_images(Store *s, Image ***ret, size_t *ret_n) {
        _cleanup_(store_unlock) StoreLock lock = {};
        _cleanup_strv_free_ char **ids = NULL;
        json_auto_t *tags = NULL;
        Image **l = NULL;
        size_t n = 0;
        int r;

        r = store_lock(s, &lock);
        if (r < 0)
                return r;
        if ((r = store_tags_read(s, &tags)) < 0 || (r = store_record_list(s, &ids)) < 0)
                return r;
        l = calloc(strv_length(ids) + 1, sizeof(Image *));
        if (!l)
                return -ENOMEM;
        STRV_FOREACH(id, ids) {
                r = image_load_locked(s, *id, tags, &l[n]);
                if (r == -ENOMEM) {
                        image_array_free(l, n);
                        return r;
                }
                /* One damaged image must not hide all the others. */
                if (r < 0) {
                        log_debug_errno(r, "store: skipping image %s: %s", *id, strempty(errmsg_last()));
                        continue;
                }
                n++;
        }
        errmsg_clear();
        qsort(l, n, sizeof(Image *), cmp_image);
        *ret = l;
        *ret_n = n;
        return 0;
}

static int resolve_prefix(Store *s, const char *input, const char *prefix, char ret_id[static DIGEST_STRING_MAX]) {
        _cleanup_strv_free_ char **ids = NULL;
        const char *found = NULL;
        int r;

        r = store_record_list(s, &ids);
        if (r < 0)
                return r;
        STRV_FOREACH(id, ids) {
                if (!startswith(*id, prefix))
                        continue;
                if (found)
                        return errmsg_set(-ENOTUNIQ, "Short id \"%s\" is ambiguous: it matches %.12s and %.12s.",
                                          input, found, *id);
                found = *id;
        }
        if (!found)
                return errmsg_set(-ENOENT, "No such image: %s.", input);
        snprintf(ret_id, DIGEST_STRING_MAX, "sha256:%s", found);
        return 0;
}

static int resolve_digest(Store *s, const Reference *ref, const char *input, char ret_id[static DIGEST_STRING_MAX]) {
        _cleanup_strv_free_ char **ids = NULL;
        int r;

        r = store_record_list(s, &ids);
        if (r < 0)
                return r;
        STRV_FOREACH(id, ids) {
                _cleanup_(store_record_freep) StoreRecord *rec = NULL;

                if (store_record_read(s, *id, &rec) < 0)
                        continue;
                if (streq(rec->manifest_digest, ref->digest) || streq(rec->id, ref->digest)) {
                        snprintf(ret_id, DIGEST_STRING_MAX, "sha256:%s", *id);
                        return 0;
                }
        }
        return errmsg_set(-ENOENT, "No such image: %s.", input);
}

/* ret_tag: the full tag when the name was a tag. */
static int resolve_locked(Store *s, json_t *tags, const char *name, char ret_id[static DIGEST_STRING_MAX],
                          char **ret_tag) {
        _cleanup_(reference_freep) Reference *ref = NULL;
        _cleanup_free_ char *hex = NULL, *full = NULL;
        const char *id;

        if (ret_tag)
                *ret_tag = NULL;
        if (reference_parse_id(name, &hex) >= 0)
                return resolve_prefix(s, name, hex, ret_id);
        if (reference_parse(name, &ref) >= 0) {
                if (ref->digest)
                        return resolve_digest(s, ref, name, ret_id);
                full = reference_to_string(ref);
                if (!full)
                        return -ENOMEM;
                id = json_string_value(json_object_get(tags, full));
                if (id && digest_validate(id) >= 0) {
                        snprintf(ret_id, DIGEST_STRING_MAX, "%s", id);
                        if (ret_tag)
                                *ret_tag = TAKE_PTR(full);
                        return 0;
                }
        }
        if (reference_is_id_prefix(name))
                return resolve_prefix(s, name, name, ret_id);
        if (!ref)
                return -EINVAL;   /* errmsg from reference_parse() */
        return errmsg_set(-ENOENT, "No such image: %s.", name);
}

int store_resolve_image(Store *s, const char *name_or_id, Image **ret) {
        _cleanup_(store_unlock) StoreLock lock = {};
        json_auto_t *tags = NULL;
        char id[DIGEST_STRING_MAX];
        int r;

        errmsg_clear();
        r = store_lock(s, &lock);
        if (r < 0)
                return r;
        if ((r = store_tags_read(s, &tags)) < 0 || (r = resolve_locked(s, tags, name_or_id, id, NULL)) < 0)
                return r;
        errmsg_clear();   /* the forms tried before the one that matched */
        return image_load_locked(s, id, tags, ret);
}

static int normalize_tag(const char *reference, char **ret) {
        _cleanup_(reference_freep) Reference *ref = NULL;
        int r;

        r = reference_parse(reference, &ref);
        if (r < 0)
                return r;
        if (ref->digest)
                return errmsg_set(-EINVAL, "Cannot tag with a digest reference \"%s\".", reference);
        *ret = reference_to_string(ref);
        return *ret ? 0 : -ENOMEM;
}

int store_tag_image(Store *s, const char *name_or_id, const char *reference) {
        _cleanup_(store_unlock) StoreLock lock = {};
        _cleanup_free_ char *full = NULL;
        json_auto_t *tags = NULL;
        char id[DIGEST_STRING_MAX];
        int r;

        errmsg_clear();
        r = normalize_tag(reference, &full);
        if (r < 0)
                return r;
        r = store_lock(s, &lock);
        if (r < 0)
                return r;
        if ((r = store_tags_read(s, &tags)) < 0 || (r = resolve_locked(s, tags, name_or_id, id, NULL)) < 0)
                return r;
        if (json_object_set_new(tags, full, json_string(id)) < 0)
                return -ENOMEM;
        return store_tags_write(s, tags);
}

int store_untag_image(Store *s, const char *reference) {
        _cleanup_(store_unlock) StoreLock lock = {};
        _cleanup_free_ char *full = NULL;
        json_auto_t *tags = NULL;
        int r;

        errmsg_clear();
        r = normalize_tag(reference, &full);
        if (r < 0)
                return r;
        r = store_lock(s, &lock);
        if (r < 0)
                return r;
        r = store_tags_read(s, &tags);
        if (r < 0)
                return r;
        if (json_object_del(tags, full) < 0)
                return errmsg_set(-ENOENT, "No such tag: %s.", reference);
        return store_tags_write(s, tags);
}

static int untag_all(json_t *tags, char * const *image_tags, char ***untagged) {
        STRV_FOREACH(t, image_tags) {
                (void) json_object_del(tags, *t);
                if (untagged && strv_consume(untagged, reference_familiar_string(*t)) < 0)
                        return -ENOMEM;
        }
        return 0;
}

static int delete_record(Store *s, const char *id) {
        _cleanup_free_ char *p = strjoin("images/", digest_hex(id), ".json");

        if (!p)
                return -ENOMEM;
        if (unlinkat(s->root_fd, p, 0) < 0)
                return -errno;
        return fsync_directory_of_at(s->root_fd, p);
}

static int remove_locked(Store *s, json_t *tags, const char *name, bool force, char ***untagged, char ***deleted) {
        _cleanup_strv_free_ char **image_tags = NULL, **holders = NULL;
        _cleanup_free_ char *tag = NULL;
        char id[DIGEST_STRING_MAX];
        int r;

        if ((r = resolve_locked(s, tags, name, id, &tag)) < 0 ||
            (r = tags_of(tags, id, &image_tags)) < 0 || (r = holders_of(s, id, &holders)) < 0)
                return r;
        if (tag && strv_length(image_tags) > 1) {
                char *one[] = { tag, NULL };
                return untag_all(tags, one, untagged);
        }
        if (!tag && strv_length(image_tags) > 1 && !force)
                return errmsg_set(-EEXIST, "Image %.12s is referenced in multiple repositories (%zu tags); "
                                  "remove by name or force.", digest_hex(id), strv_length(image_tags));
        if (strv_length(holders) > 0) {
                if (!force)
                        return errmsg_set(-EBUSY, "Image %.12s is in use by container %s.", digest_hex(id), holders[0]);
                return untag_all(tags, image_tags, untagged);
        }
        r = untag_all(tags, image_tags, untagged);
        if (r >= 0)
                r = delete_record(s, id);
        if (r >= 0 && deleted)
                r = strv_extend(deleted, id);
        return r;
}

int store_remove_image(Store *s, const char *name_or_id, bool force, char ***ret_untagged, char ***ret_deleted) {
        _cleanup_(store_unlock) StoreLock lock = {};
        _cleanup_strv_free_ char **untagged = calloc(1, sizeof(char *)), **deleted = calloc(1, sizeof(char *));
        _cleanup_strv_free_ char **victims = NULL;
        json_auto_t *tags = NULL;
        int r;

        errmsg_clear();
        if (!untagged || !deleted)
                return -ENOMEM;
        r = store_lock(s, &lock);
        if (r < 0)
                return r;
        if ((r = store_tags_read(s, &tags)) < 0 ||
            (r = remove_locked(s, tags, name_or_id, force, &untagged, &deleted)) < 0)
                return r;
        /* Tags first: a crash in between leaves a dangling image, never a tag to nothing. */
        r = store_tags_write(s, tags);
        if (r < 0)
                return r;
        if (strv_length(deleted) > 0)
                (void) store_gc_unreferenced(s, NULL, &victims);
        store_unlock(&lock);
        store_gc_finish(s, TAKE_PTR(victims), NULL);
        if (ret_untagged)
                *ret_untagged = TAKE_PTR(untagged);
        if (ret_deleted)
                *ret_deleted = TAKE_PTR(deleted);
        return 0;
}

int store_prune(Store *s, bool all, char ***ret_deleted, uint64_t *ret_reclaimed) {
        _cleanup_(store_unlock) StoreLock lock = {};
        _cleanup_strv_free_ char **ids = NULL, **deleted = calloc(1, sizeof(char *)), **victims = NULL;
        uint64_t reclaimed = 0;
        json_auto_t *tags = NULL;
        int r;

        errmsg_clear();
        if (!deleted)
                return -ENOMEM;
        r = store_lock(s, &lock);
        if (r < 0)
                return r;
        if ((r = store_tags_read(s, &tags)) < 0 || (r = store_record_list(s, &ids)) < 0)
                return r;
        STRV_FOREACH(hex, ids) {
                _cleanup_strv_free_ char **image_tags = NULL, **holders = NULL;
                _cleanup_free_ char *id = strjoin("sha256:", *hex);

                if (!id)
                        return -ENOMEM;
                if ((r = tags_of(tags, id, &image_tags)) < 0 || (r = holders_of(s, id, &holders)) < 0)
                        return r;
                if (strv_length(holders) > 0 || (!all && strv_length(image_tags) > 0))
                        continue;
                if ((r = untag_all(tags, image_tags, NULL)) < 0 || (r = store_tags_write(s, tags)) < 0 ||
                    (r = delete_record(s, id)) < 0 || (r = strv_extend(&deleted, id)) < 0)
                        return r;
        }
        r = store_gc_unreferenced(s, &reclaimed, &victims);
        /* What partial blobs are kept for goes too. */
        if (r >= 0)
                r = store_partial_sweep(s, 0, 0, &victims, &reclaimed);
        store_unlock(&lock);
        store_gc_finish(s, TAKE_PTR(victims), &reclaimed);
        if (r < 0)
                return r;
        if (ret_reclaimed)
                *ret_reclaimed = reclaimed;
        if (ret_deleted)
                *ret_deleted = TAKE_PTR(deleted);
        return 0;
}

static bool holder_valid(const char *h) {
        size_t n = strlen(h);

        return n > 0 && n <= 255 && h[0] != '.' && strspn(h, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_.-") == n;
}

static int hold_path(Store *s, const char *image_id, const char *holder, char ret_id[static DIGEST_STRING_MAX],
                     char **ret_dir, char **ret_file) {
        _cleanup_(store_record_freep) StoreRecord *rec = NULL;
        const char *hex = digest_hex(image_id) ?: image_id;
        int r;

        if (!holder_valid(holder))
                return errmsg_set(-EINVAL, "Invalid holder name \"%s\".", holder);
        if (!string_is_hex(hex, DIGEST_HEX_LEN))
                return errmsg_set(-EINVAL, "Invalid image id \"%s\": holds need the full id.", image_id);
        r = store_record_read(s, hex, &rec);
        if (r < 0)
                return errmsg_set(r == -ENOENT ? -ENOENT : r, "No such image: %s.", image_id);
        snprintf(ret_id, DIGEST_STRING_MAX, "sha256:%s", hex);
        *ret_dir = strjoin("holds/", hex);
        *ret_file = strjoin("holds/", hex, "/", holder);
        return *ret_dir && *ret_file ? 0 : -ENOMEM;
}

int store_hold_image(Store *s, const char *image_id, const char *holder) {
        _cleanup_(store_unlock) StoreLock lock = {};
        _cleanup_free_ char *dir = NULL, *file = NULL;
        char id[DIGEST_STRING_MAX];
        int r;

        errmsg_clear();
        r = store_lock(s, &lock);
        if (r < 0)
                return r;
        r = hold_path(s, image_id, holder, id, &dir, &file);
        if (r < 0)
                return r;
        if (mkdirat(s->root_fd, dir, 0700) < 0 && errno != EEXIST)
                return -errno;
        if (faccessat(s->root_fd, file, F_OK, AT_SYMLINK_NOFOLLOW) >= 0)
                return 0;
        return write_string_file_replace_at(s->root_fd, file, id);
}

int store_release_image(Store *s, const char *image_id, const char *holder) {
        _cleanup_(store_unlock) StoreLock lock = {};
        _cleanup_free_ char *dir = NULL, *file = NULL;
        char id[DIGEST_STRING_MAX];
        int r;

        errmsg_clear();
        r = store_lock(s, &lock);
        if (r < 0)
                return r;
        r = hold_path(s, image_id, holder, id, &dir, &file);
        if (r < 0)
                return r;
        if (unlinkat(s->root_fd, file, 0) < 0)
                return errmsg_set(-errno, "Image %.12s has no hold by %s.", digest_hex(id), holder);
        if (unlinkat(s->root_fd, dir, AT_REMOVEDIR) >= 0)
                return fsync_directory_of_at(s->root_fd, dir);
        return fsync_directory_of_at(s->root_fd, file);
}

int store_image_layer_paths(Store *s, const char *image_id, char ***ret) {
        _cleanup_(store_unlock) StoreLock lock = {};
        _cleanup_(store_record_freep) StoreRecord *rec = NULL;
        _cleanup_strv_free_ char **l = NULL;
        int r;

        errmsg_clear();
        r = store_lock(s, &lock);
        if (r < 0)
                return r;
        r = store_record_read(s, digest_hex(image_id) ?: image_id, &rec);
        if (r < 0)
                return errmsg_set(r, "No such image: %s.", image_id);
        l = calloc(rec->n_layers + 1, sizeof(char *));
        if (!l)
                return -ENOMEM;
        for (size_t i = 0; i < rec->n_layers; i++) {
                l[i] = strjoin(s->root, "/layers/", digest_hex(rec->layers[rec->n_layers - 1 - i].chain_id), "/diff");
                if (!l[i])
                        return -ENOMEM;
        }
        *ret = TAKE_PTR(l);
        return 0;
}

int store_image_config_json(Store *s, const char *image_id, char **ret) {
        _cleanup_close_ int fd = -EBADF;
        _cleanup_free_ char *id = NULL;

        errmsg_clear();
        id = startswith(image_id, "sha256:") ? strdup(image_id) : strjoin("sha256:", image_id);
        if (!id)
                return -ENOMEM;
        fd = store_blob_open(s, id);
        if (fd < 0)
                return fd;
        return read_full_fd(fd, s->limits.max_json_size, ret, NULL);
}
