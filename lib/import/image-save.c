/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <archive.h>
#include <archive_entry.h>
#include <sys/stat.h>

#include "fileio.h"
#include "image-internal.h"
#include "json-util.h"
#include "reference.h"

/* One image to save and the tags it is saved under (docker groups them). */
typedef struct SaveItem {
        Image *image;
        char **tags;             /* full references */
} SaveItem;

typedef struct Saver {
        Store *store;
        const StoreIoOptions *opts;
        struct archive *a;
        SaveItem *items;
        size_t n_items;
        char **written;          /* blob digests already in the archive */
        uint64_t done, total;
        int fd;
} Saver;

/* The output may be a pipe, even O_NONBLOCK (a client reading slowly). */
static la_ssize_t archive_write_cb(struct archive *a, void *userdata, const void *buf, size_t n) {
        Saver *w = userdata;
        int r = write_all_cancellable(w->fd, buf, n, w->opts ? w->opts->cancel : NULL);

        if (r < 0) {
                archive_set_error(a, -r, "write: %s", strerror(-r));
                return -1;
        }
        return (la_ssize_t) n;
}

static void saver_done(Saver *w) {
        for (size_t i = 0; i < w->n_items; i++) {
                image_free(w->items[i].image);
                strv_free(w->items[i].tags);
        }
        free(w->items);
        strv_free(w->written);
        if (w->a)
                archive_write_free(w->a);
}

static int saver_add(Saver *w, const char *name) {
        _cleanup_(image_freep) Image *img = NULL;
        _cleanup_(reference_freep) Reference *ref = NULL;
        _cleanup_free_ char *tag = NULL;
        SaveItem *items;
        int r;

        r = store_resolve_image(w->store, name, &img);
        if (r < 0)
                return r;
        if (reference_parse(name, &ref) >= 0 && !ref->digest && !(tag = reference_to_string(ref)))
                return -ENOMEM;
        if (tag && !strv_contains(img->repo_tags, tag))
                tag = mfree(tag);       /* the name was an id prefix */
        for (size_t i = 0; i < w->n_items; i++)
                if (streq(w->items[i].image->id, img->id))
                        return tag && !strv_contains(w->items[i].tags, tag) ? strv_consume(&w->items[i].tags, TAKE_PTR(tag)) : 0;
        items = reallocarray(w->items, w->n_items + 1, sizeof(SaveItem));
        if (!items)
                return -ENOMEM;
        w->items = items;
        w->items[w->n_items] = (SaveItem) { .image = TAKE_PTR(img) };
        if (tag && strv_consume(&w->items[w->n_items].tags, TAKE_PTR(tag)) < 0) {
                w->n_items++;
                return -ENOMEM;
        }
        w->n_items++;
        return 0;
}

static int write_header(Saver *w, const char *path, uint64_t size) {
        struct archive_entry *e = archive_entry_new();
        int r;

        if (!e)
                return -ENOMEM;
        archive_entry_set_pathname(e, path);
        archive_entry_set_filetype(e, AE_IFREG);
        archive_entry_set_perm(e, 0644);
        archive_entry_set_size(e, (la_int64_t) size);
        archive_entry_set_mtime(e, 0, 0);
        r = archive_write_header(w->a, e);
        archive_entry_free(e);
        if (r != ARCHIVE_OK)
                return errmsg_set(-EIO, "Cannot write the archive: %s.", archive_error_string(w->a));
        return 0;
}

static int write_buffer(Saver *w, const char *path, const char *data) {
        size_t n = strlen(data);
        int r;

        r = write_header(w, path, n);
        if (r < 0)
                return r;
        if (archive_write_data(w->a, data, n) != (la_ssize_t) n)
                return errmsg_set(-EIO, "Cannot write the archive: %s.", archive_error_string(w->a));
        return 0;
}

static int write_blob(Saver *w, const char *digest) {
        _cleanup_close_ int fd = -EBADF;
        _cleanup_free_ char *path = NULL;
        _cleanup_free_ uint8_t *buf = malloc(128 * 1024);
        struct stat st;
        int r;

        if (!buf)
                return -ENOMEM;
        if (strv_contains(w->written, digest))
                return 0;
        fd = store_blob_open(w->store, digest);
        if (fd < 0)
                return fd;
        if (fstat(fd, &st) < 0)
                return -errno;
        path = strjoin("blobs/sha256/", digest_hex(digest));
        if (!path)
                return -ENOMEM;
        r = write_header(w, path, (uint64_t) st.st_size);
        if (r < 0)
                return r;
        for (;;) {
                ssize_t k = read(fd, buf, 128 * 1024);
                if (k < 0 && errno == EINTR)
                        continue;
                if (k < 0)
                        return -errno;
                if (k == 0)
                        break;
                if (archive_write_data(w->a, buf, (size_t) k) != k)
                        return errmsg_set(-EIO, "Cannot write the archive: %s.", archive_error_string(w->a));
                w->done += (uint64_t) k;
                if (w->opts && w->opts->cancel && *w->opts->cancel)
                        return errmsg_set(-ECANCELED, "Operation cancelled.");
                if (w->opts && w->opts->progress)
                        w->opts->progress(w->done, w->total, digest, w->opts->userdata);
        }
        return strv_extend(&w->written, digest);
}

static int write_image_blobs(Saver *w, const Image *img) {
        int r;

        r = write_blob(w, img->id);
        STRV_FOREACH(l, img->layer_digests)
                if (r >= 0)
                        r = write_blob(w, *l);
        if (r >= 0 && img->manifest_digest)
                r = write_blob(w, img->manifest_digest);
        return r;
}

static int blob_size(Store *s, const char *digest, uint64_t *ret) {
        _cleanup_close_ int fd = store_blob_open(s, digest);
        struct stat st;

        if (fd < 0)
                return fd;
        if (fstat(fd, &st) < 0)
                return -errno;
        *ret = (uint64_t) st.st_size;
        return 0;
}

static json_t *blob_paths(char * const *digests) {
        json_t *a = json_array();

        STRV_FOREACH(d, digests)
                if (!a || json_array_append_new(a, json_sprintf("blobs/sha256/%s", digest_hex(*d))) < 0) {
                        json_decref(a);
                        return NULL;
                }
        return a;
}

static int write_docker_index(Saver *w) {
        _cleanup_free_ char *manifest = NULL, *repos = NULL;
        json_auto_t *m = json_array(), *r = json_object();

        if (!m || !r)
                return -ENOMEM;
        for (size_t i = 0; i < w->n_items; i++) {
                const SaveItem *it = &w->items[i];
                _cleanup_strv_free_ char **familiar = calloc(1, sizeof(char *));
                size_t n = strv_length(it->image->layer_digests);

                if (!familiar)
                        return -ENOMEM;
                STRV_FOREACH(t, it->tags) {
                        _cleanup_(reference_freep) Reference *ref = NULL;
                        _cleanup_free_ char *name = NULL;
                        if (reference_parse(*t, &ref) < 0)
                                continue;
                        if (strv_consume(&familiar, reference_familiar(ref)) < 0)
                                return -ENOMEM;
                        /* repositories: name -> tag -> top layer, for docker < 1.10. */
                        ref->tag = mfree(ref->tag);
                        name = reference_familiar(ref);
                        if (!name || (n > 0 && !json_object_get(r, name) && json_object_set_new(r, name, json_object()) < 0))
                                return -ENOMEM;
                        if (n > 0 && json_object_set_new(json_object_get(r, name), strrchr(*t, ':') + 1,
                                                         json_string(digest_hex(it->image->layer_digests[n - 1]))) < 0)
                                return -ENOMEM;
                }
                if (json_array_append_new(m, json_pack("{s:o*,s:o*,s:o*}",
                                                       "Config", json_sprintf("blobs/sha256/%s", digest_hex(it->image->id)),
                                                       "RepoTags", strv_length(familiar) > 0 ? json_strv(familiar) : json_null(),
                                                       "Layers", blob_paths(it->image->layer_digests))) < 0)
                        return -ENOMEM;
        }
        if (json_dump_string(m, &manifest) < 0 || json_dump_string(r, &repos) < 0)
                return -ENOMEM;
        int q = write_buffer(w, "manifest.json", manifest);
        return q < 0 ? q : write_buffer(w, "repositories", repos);
}

static int manifest_descriptor(Saver *w, const Image *img, OciDescriptor *d) {
        _cleanup_close_ int fd = -EBADF;
        _cleanup_free_ char *data = NULL;
        size_t size;
        int r;

        if (!img->manifest_digest)
                return errmsg_set(-ENOENT, "Image %s has no stored manifest.", img->id);
        fd = store_blob_open(w->store, img->manifest_digest);
        if (fd < 0)
                return fd;
        r = read_full_fd(fd, store_limits(w->store)->max_json_size, &data, &size);
        if (r < 0)
                return r;
        *d = (OciDescriptor) { .size = size };
        strcpy(d->digest, img->manifest_digest);
        return oci_document_media_type(data, size, &d->media_type);
}

static int write_oci_index(Saver *w) {
        _cleanup_free_ OciDescriptor *descs = NULL;
        _cleanup_free_ char *json = NULL;
        OciIndex index = { .media_type = OCI_MEDIA_OCI_INDEX };
        size_t n = 0;
        int r;

        for (size_t i = 0; i < w->n_items; i++)
                n += MAX(strv_length(w->items[i].tags), (size_t) 1);
        descs = calloc(n + 1, sizeof(OciDescriptor));
        if (!descs)
                return -ENOMEM;
        for (size_t i = 0; i < w->n_items; i++) {
                const SaveItem *it = &w->items[i];
                OciDescriptor d;

                r = manifest_descriptor(w, it->image, &d);
                if (r < 0)
                        return r;
                if (strv_length(it->tags) == 0)
                        descs[index.n_manifests++] = d;
                STRV_FOREACH(t, it->tags) {
                        descs[index.n_manifests] = d;
                        descs[index.n_manifests++].ref_name = *t;   /* borrowed */
                }
        }
        index.manifests = descs;
        r = oci_index_to_json(&index, &json);
        if (r < 0)
                return r;
        r = write_buffer(w, "oci-layout", "{\"imageLayoutVersion\":\"1.0.0\"}");
        return r < 0 ? r : write_buffer(w, "index.json", json);
}

static int saver_compute_total(Saver *w) {
        for (size_t i = 0; i < w->n_items; i++) {
                uint64_t sz;
                int r = blob_size(w->store, w->items[i].image->id, &sz);
                if (r < 0)
                        return r;
                w->total += sz;
                STRV_FOREACH(l, w->items[i].image->layer_digests) {
                        r = blob_size(w->store, *l, &sz);
                        if (r < 0)
                                return r;
                        w->total += sz;
                }
        }
        return 0;
}

int image_save(Store *s, char * const *names, ImageArchiveFormat format, int fd, const StoreIoOptions *opts) {
        _cleanup_(saver_done) Saver w = { .store = s, .opts = opts, .fd = fd };
        int r;

        errmsg_clear();
        if (format < 0 || format >= _IMAGE_ARCHIVE_FORMAT_MAX || strv_length(names) == 0)
                return errmsg_set(-EINVAL, "Nothing to save or unknown archive format.");
        STRV_FOREACH(n, names) {
                r = saver_add(&w, *n);
                if (r < 0)
                        return r;
        }
        r = saver_compute_total(&w);
        if (r < 0)
                return r;
        w.a = archive_write_new();
        if (!w.a)
                return -ENOMEM;
        if (archive_write_set_format_pax_restricted(w.a) != ARCHIVE_OK ||
            archive_write_set_bytes_in_last_block(w.a, 1) != ARCHIVE_OK ||
            archive_write_open(w.a, &w, NULL, archive_write_cb, NULL) != ARCHIVE_OK)
                return errmsg_set(-EIO, "Cannot write the archive: %s.", archive_error_string(w.a));
        if (format == IMAGE_ARCHIVE_OCI)
                r = write_oci_index(&w);
        for (size_t i = 0; r >= 0 && i < w.n_items; i++)
                r = write_image_blobs(&w, w.items[i].image);
        if (r >= 0 && format == IMAGE_ARCHIVE_DOCKER)
                r = write_docker_index(&w);
        if (r < 0)
                return r;
        if (archive_write_close(w.a) != ARCHIVE_OK)
                return errmsg_set(-EIO, "Cannot finish the archive: %s.", archive_error_string(w.a));
        return 0;
}
