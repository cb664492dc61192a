/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <archive.h>
#include <archive_entry.h>
#include <fcntl.h>
#include <linux/openat2.h>
#include <sys/stat.h>

#include "fileio.h"
#include "image-internal.h"
#include "json-util.h"
#include "openat2-util.h"
#include "reference.h"

static const char *const image_archive_format_table[_IMAGE_ARCHIVE_FORMAT_MAX] = {
        [IMAGE_ARCHIVE_DOCKER] = "docker-archive",
        [IMAGE_ARCHIVE_OCI] = "oci-archive",
};

DEFINE_STRING_TABLE_LOOKUP(image_archive_format, ImageArchiveFormat);

/* "./a//b/../c" -> "a/c"; NULL for absolute paths or paths leaving the root. */
static char *normalize_member_path(const char *p) {
        _cleanup_free_ char *r = malloc(strlen(p) + 1);
        char *o = r;

        if (!r || p[0] == '/')
                return NULL;
        while (*p) {
                size_t n = strcspn(p, "/");
                if (n == 2 && strneq(p, "..", 2)) {
                        if (o == r)
                                return NULL;
                        while (o > r && o[-1] != '/')
                                o--;
                        if (o > r)
                                o--;
                } else if (n > 0 && !(n == 1 && p[0] == '.')) {
                        if (o != r)
                                *o++ = '/';
                        memcpy(o, p, n);
                        o += n;
                }
                p += n + (p[n] == '/');
        }
        *o = 0;
        return isempty(r) ? NULL : TAKE_PTR(r);
}

static LoadMember *member_find(LoadContext *c, const char *path) {
        return c->by_path ? hashmap_get(c->by_path, path) : NULL;
}

/* Every member's name stays in memory for the whole load: their length is
 * bounded one by one and together. */
static int member_account(LoadContext *c, const char *path, const char *link) {
        const StoreLimits *lim = store_limits(c->store);
        uint64_t max = lim->layer.max_path_length;
        size_t n = strlen(path), k = link ? strlen(link) : 0;

        if (max > 0 && (n > max || k > max))
                return errmsg_set(-E2BIG, "Archive member %.64s...: %s longer than the limit of %llu bytes.", path,
                                  n > max ? "path" : "link target", (unsigned long long) max);
        c->names_size += n + k;
        if (lim->max_archive_names_size > 0 && c->names_size > lim->max_archive_names_size)
                return errmsg_set(-E2BIG, "The names of the archive's members take more than the limit of %llu bytes.",
                                  (unsigned long long) lim->max_archive_names_size);
        return 0;
}

/* Takes path on success. */
static int member_add(LoadContext *c, char *path, LoadMember **ret) {
        _cleanup_free_ LoadMember *m = NULL;
        LoadMember **l;
        int r;

        if (!c->by_path && !(c->by_path = hashmap_new()))
                return -ENOMEM;
        l = reallocarray(c->members, c->n_members + 1, sizeof(LoadMember *));
        if (!l)
                return -ENOMEM;
        c->members = l;
        m = calloc(1, sizeof(LoadMember));
        if (!m)
                return -ENOMEM;
        m->path = path;
        r = hashmap_put(c->by_path, m->path, m);
        if (r < 0)
                return r;
        c->members[c->n_members++] = m;
        *ret = TAKE_PTR(m);
        return 0;
}

static int spool_archive_entry(LoadContext *c, struct archive *a, const char *path, LoadMember *m) {
        _cleanup_(sha256_freep) Sha256 *h = NULL;
        _cleanup_close_ int out = -EBADF;
        _cleanup_free_ char *name = NULL;
        const StoreLimits *lim = store_limits(c->store);
        const void *buf;
        size_t n;
        la_int64_t off;
        int r;

        if ((r = sha256_new(&h)) < 0 || (r = store_staging_name(c->staging, "s", &name)) < 0)
                return r;
        out = openat(c->staging->dirfd, name, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
        if (out < 0)
                return -errno;
        for (;;) {
                r = archive_read_data_block(a, &buf, &n, &off);
                if (r == ARCHIVE_EOF)
                        break;
                if (r != ARCHIVE_OK && archive_errno(a) == ECANCELED)
                        return load_check_cancel(c) ?: -ECANCELED;
                if (r != ARCHIVE_OK)
                        return errmsg_set(-EBADMSG, "Malformed archive: %s: %s.", path, archive_error_string(a));
                if ((uint64_t) off != m->size)
                        return errmsg_set(-EBADMSG, "Malformed archive: sparse member %s.", path);
                m->size += n;
                c->bytes_done += n;
                if (m->size > lim->layer.max_compressed_size || c->bytes_done > lim->max_archive_size)
                        return errmsg_set(-EFBIG, "Archive member %s exceeds the size limit.", path);
                if ((r = sha256_update(h, buf, n)) < 0 || (r = load_check_cancel(c)) < 0)
                        return r;
                for (size_t done = 0; done < n;) {
                        ssize_t k = write(out, (const uint8_t *) buf + done, n - done);
                        if (k < 0 && errno != EINTR)
                                return -errno;
                        done += k > 0 ? (size_t) k : 0;
                }
                load_progress(c, path);
        }
        r = sha256_final(h, m->digest);
        if (r < 0)
                return r;
        m->staged = TAKE_PTR(name);
        return 0;
}

/* Symlinks are relative to their directory, hardlinks to the archive root. */
static char *link_target(const char *path, const char *hardlink, const char *symlink) {
        const char *slash = strrchr(path, '/');
        _cleanup_free_ char *j = NULL;

        if (hardlink)
                return normalize_member_path(hardlink);
        if (!symlink || symlink[0] == '/')
                return NULL;
        if (!slash)
                return normalize_member_path(symlink);
        if (asprintf(&j, "%.*s/%s", (int) (slash - path), path, symlink) < 0)
                return NULL;
        return normalize_member_path(j);
}

/* A path written twice is fine only with the same content (tar appends). */
static int spool_duplicate(LoadContext *c, struct archive *a, struct archive_entry *e, const char *path) {
        LoadMember *first = member_find(c, path), dup = {};
        int r;

        if (first->link_target || archive_entry_filetype(e) != AE_IFREG || archive_entry_hardlink(e))
                return errmsg_set(-EBADMSG, "Malformed archive: duplicate member %s.", path);
        r = spool_archive_entry(c, a, path, &dup);
        if (r >= 0 && !streq(dup.digest, first->digest))
                r = errmsg_set(-EBADMSG, "Malformed archive: member %s appears twice with different content.", path);
        if (dup.staged)
                (void) unlinkat(c->staging->dirfd, dup.staged, 0);
        free(dup.staged);
        return r;
}

static int spool_entry(LoadContext *c, struct archive *a, struct archive_entry *e) {
        _cleanup_free_ char *path = NULL;
        mode_t type = archive_entry_filetype(e);
        LoadMember *m;
        int r;

        if (type == AE_IFDIR)
                return 0;
        if (type != AE_IFREG && type != AE_IFLNK && !archive_entry_hardlink(e))
                return 0;
        r = member_account(c, strempty(archive_entry_pathname(e)),
                           archive_entry_hardlink(e) ?: (type == AE_IFLNK ? archive_entry_symlink(e) : NULL));
        if (r < 0)
                return r;
        path = normalize_member_path(archive_entry_pathname(e) ?: "");
        if (!path)
                return errmsg_set(-EBADMSG, "Malformed archive: member path \"%s\" is not allowed.",
                                  strempty(archive_entry_pathname(e)));
        if (member_find(c, path))
                return spool_duplicate(c, a, e, path);
        r = member_add(c, path, &m);
        if (r < 0)
                return r;
        TAKE_PTR(path);
        if (type == AE_IFLNK || archive_entry_hardlink(e)) {
                m->link_target = link_target(m->path, archive_entry_hardlink(e), archive_entry_symlink(e));
                return m->link_target ? 0 : errmsg_set(-EBADMSG, "Malformed archive: link %s points outside.", m->path);
        }
        return spool_archive_entry(c, a, m->path, m);
}

/* Two readers, as for layers (lib/layer.c): one undoes the compression, the
 * other parses the tar stream it is handed, so that what the tar parser
 * takes while it reads a header (all libarchive keeps of an entry: pax
 * records, long names, a sparse map) is counted in uncompressed bytes. */
typedef struct ArchiveInput {
        int fd;
        const volatile int *cancel;
        struct archive *raw;
        bool raw_eof;
        bool in_header;
        uint64_t header_size, max_header_size;
        int error;                /* set by the tar reader's callback */
        uint8_t block[64 * 1024];
} ArchiveInput;

static ssize_t archive_read_cb(struct archive *a, void *userdata, const void **buf) {
        ArchiveInput *in = userdata;
        ssize_t n = read_cancellable(in->fd, in->block, sizeof in->block, in->cancel);

        if (n < 0)
                archive_set_error(a, (int) -n, "read: %s", strerror((int) -n));
        *buf = in->block;
        return n;
}

static ssize_t archive_tar_cb(struct archive *a, void *userdata, const void **buf) {
        ArchiveInput *in = userdata;
        size_t size = 0;
        la_int64_t offset;
        int r;

        while (size == 0) {
                if (in->raw_eof)
                        return 0;
                r = archive_read_data_block(in->raw, buf, &size, &offset);
                if (r == ARCHIVE_EOF) {
                        in->raw_eof = true;
                        return 0;
                }
                if (r < ARCHIVE_WARN) {
                        archive_set_error(a, archive_errno(in->raw), "%s", strempty(archive_error_string(in->raw)));
                        return -1;
                }
        }
        if (in->in_header) {
                in->header_size += size;
                if (in->max_header_size > 0 && in->header_size > in->max_header_size) {
                        in->error = -E2BIG;
                        archive_set_error(a, E2BIG, "tar headers of one member exceed the limit");
                        return -1;
                }
        }
        return (ssize_t) size;
}

/* gzip, bzip2 and zstd: none of the filters libarchive would run an
 * external program for (lrzip, lzop, grzip, ...), and not xz, to which
 * libarchive lets a stream of 160 KB ask for a 1 GiB dictionary. */
static int archive_open_input(LoadContext *c, ArchiveInput *in, struct archive *a) {
        struct archive_entry *e;
        int r;

        in->raw = archive_read_new();
        if (!in->raw)
                return -ENOMEM;
        if (archive_read_support_filter_gzip(in->raw) != ARCHIVE_OK ||
            archive_read_support_filter_bzip2(in->raw) != ARCHIVE_OK ||
            archive_read_support_filter_zstd(in->raw) != ARCHIVE_OK ||
            archive_read_support_format_raw(in->raw) != ARCHIVE_OK ||
            archive_read_support_format_tar(a) != ARCHIVE_OK)
                return errmsg_set(-EOPNOTSUPP, "libarchive lacks tar, gzip, bzip2 or zstd support.");
        if (archive_read_open(in->raw, in, NULL, archive_read_cb, NULL) != ARCHIVE_OK)
                return archive_errno(in->raw) == ECANCELED ? (load_check_cancel(c) ?: -ECANCELED) :
                       errmsg_set(-EBADMSG, "Not an image archive: %s.", archive_error_string(in->raw));
        r = archive_read_next_header(in->raw, &e);
        if (r == ARCHIVE_EOF)
                in->raw_eof = true;
        else if (r < ARCHIVE_WARN)
                return archive_errno(in->raw) == ECANCELED ? (load_check_cancel(c) ?: -ECANCELED) :
                       errmsg_set(-EBADMSG, "Not an image archive: %s.", archive_error_string(in->raw));
        if (archive_read_open(a, in, NULL, archive_tar_cb, NULL) != ARCHIVE_OK)
                return archive_errno(a) == ECANCELED ? (load_check_cancel(c) ?: -ECANCELED) :
                       errmsg_set(-EBADMSG, "Not an image archive: %s.", archive_error_string(a));
        return 0;
}

static int archive_failed(LoadContext *c, ArchiveInput *in, struct archive *a, const char *what) {
        if (in->error == -E2BIG)
                return errmsg_set(-E2BIG, "The tar headers of one archive member (pax extended headers, long names, "
                                  "sparse map) exceed the limit of %llu bytes.",
                                  (unsigned long long) in->max_header_size);
        if (archive_errno(a) == ECANCELED)
                return load_check_cancel(c) ?: -ECANCELED;
        return errmsg_set(-EBADMSG, "%s: %s.", what, archive_error_string(a));
}

/* Reads the whole archive stream once, spooling each member to staging. */
static int spool_archive(LoadContext *c, int fd) {
        _cleanup_free_ ArchiveInput *in = calloc(1, sizeof(ArchiveInput));
        struct archive *a = archive_read_new();
        struct archive_entry *e;
        uint64_t entries = 0;
        int r = 0, q;

        if (!a || !in) {
                archive_read_free(a);
                return -ENOMEM;
        }
        in->fd = fd;
        in->cancel = c->opts ? c->opts->cancel : NULL;
        in->max_header_size = store_limits(c->store)->layer.max_header_size;
        r = archive_open_input(c, in, a);
        if (r < 0)
                goto finish;
        for (;;) {
                in->in_header = true;
                in->header_size = 0;
                q = archive_read_next_header(a, &e);
                in->in_header = false;
                if (q != ARCHIVE_OK && q != ARCHIVE_WARN)
                        break;
                if (++entries > store_limits(c->store)->max_archive_entries) {
                        r = errmsg_set(-E2BIG, "The archive has more than %llu members.",
                                       (unsigned long long) store_limits(c->store)->max_archive_entries);
                        goto finish;
                }
                r = spool_entry(c, a, e);
                if (r < 0)
                        goto finish;
                /* What was not spooled (a link's data) is skipped here, not
                 * counted with the next header. */
                if (archive_read_data_skip(a) < ARCHIVE_WARN) {
                        r = archive_failed(c, in, a, "Malformed or truncated archive");
                        goto finish;
                }
        }
        if (q != ARCHIVE_EOF)
                r = archive_failed(c, in, a, "Malformed or truncated archive");
        else if (entries == 0)
                r = errmsg_set(-EBADMSG, "The archive is empty.");
finish:
        archive_read_free(a);
        if (in)
                archive_read_free(in->raw);
        return r;
}

/* The layout dir is untrusted: no symlinks, nothing outside it. */
static int open_beneath(int dirfd, const char *path) {
        struct open_how how = {
                .flags = O_RDONLY | O_CLOEXEC | O_NOCTTY,
                .resolve = RESOLVE_BENEATH | RESOLVE_NO_SYMLINKS | RESOLVE_NO_MAGICLINKS,
        };
        int fd = openat2_retry(dirfd, path, &how);

        if (fd == -ENOSYS)
                fd = openat(dirfd, path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW | O_NOCTTY);
        return fd;
}

/* Follows symlink members; for a layout dir, spools the file on first use. */
static int member_get(LoadContext *c, const char *path, const char *what, LoadMember **ret) {
        _cleanup_free_ char *p = normalize_member_path(path);

        if (!p)
                return errmsg_set(-EBADMSG, "Invalid path \"%s\" for %s.", path, what);
        for (unsigned hops = 0; hops < 8; hops++) {
                LoadMember *m = member_find(c, p);
                int r;

                if (!m && c->layout_fd >= 0 && !strstr(p, "..")) {
                        _cleanup_close_ int fd = open_beneath(c->layout_fd, p);
                        if (fd >= 0) {
                                _cleanup_free_ char *mp = strdup(p);
                                if (!mp)
                                        return -ENOMEM;
                                if ((r = member_account(c, mp, NULL)) < 0 || (r = member_add(c, mp, &m)) < 0)
                                        return r;
                                TAKE_PTR(mp);
                                r = load_spool_fd(c, fd, store_limits(c->store)->layer.max_compressed_size, p, m);
                                if (r < 0)
                                        return r;
                        }
                }
                if (!m)
                        return errmsg_set(-ENOENT, "Missing %s: %s is not in the archive.", what, path);
                if (!m->link_target) {
                        *ret = m;
                        return 0;
                }
                r = free_and_strdup(&p, m->link_target);
                if (r < 0)
                        return r;
        }
        return errmsg_set(-ELOOP, "Too many symlinks resolving %s.", path);
}

static int member_read(LoadContext *c, LoadMember *m, const char *what, char **ret, size_t *ret_size) {
        uint64_t max = store_limits(c->store)->max_json_size;

        if (m->size > max)
                return errmsg_set(-EFBIG, "%s (%s) is larger than the limit of %llu bytes.", what, m->path,
                                  (unsigned long long) max);
        return read_full_file_at(c->staging->dirfd, m->staged, max, ret, ret_size);
}

static int blob_member(LoadContext *c, const OciDescriptor *d, const char *what, LoadMember **ret) {
        _cleanup_free_ char *path = strjoin("blobs/sha256/", digest_hex(d->digest));
        LoadMember *m;
        int r;

        if (!path)
                return -ENOMEM;
        r = member_get(c, path, what, &m);
        if (r < 0)
                return errmsg_set(r, "Missing blob %s (%s).", d->digest, what);
        if (!streq(m->digest, d->digest))
                return errmsg_set(-EBADMSG, "Digest mismatch for %s: expected %s, content is %s.",
                                  what, d->digest, m->digest);
        if (m->size != d->size)
                return errmsg_set(-EBADMSG, "Size mismatch for %s %s: expected %llu bytes, got %llu.", what,
                                  d->digest, (unsigned long long) d->size, (unsigned long long) m->size);
        *ret = m;
        return 0;
}

static int normalize_tags(char * const *in, char ***ret) {
        _cleanup_strv_free_ char **l = calloc(1, sizeof(char *));

        if (!l)
                return -ENOMEM;
        STRV_FOREACH(t, in) {
                _cleanup_(reference_freep) Reference *ref = NULL;
                int r = reference_parse(*t, &ref);
                if (r < 0)
                        return errmsg_set(r, "Invalid tag in archive: %s", strempty(errmsg_last()));
                if (ref->digest)
                        continue;
                if (strv_consume(&l, reference_to_string(ref)) < 0)
                        return -ENOMEM;
        }
        *ret = TAKE_PTR(l);
        return 0;
}

static int synthesize_manifest(LoadContext *c, const LoadMember *config, const StagedLayer *layers, size_t n,
                               StagedImage *out) {
        OciManifest m = { .media_type = OCI_MEDIA_DOCKER_MANIFEST };
        _cleanup_free_ OciDescriptor *descs = calloc(n + 1, sizeof(OciDescriptor));
        _cleanup_free_ char *json = NULL;
        int r;

        if (!descs)
                return -ENOMEM;
        m.config = (OciDescriptor) { .media_type = OCI_MEDIA_DOCKER_CONFIG, .size = config->size };
        strcpy(m.config.digest, config->digest);
        for (size_t i = 0; i < n; i++) {
                descs[i] = (OciDescriptor) { .media_type = layers[i].layer.media_type, .size = layers[i].layer.blob_size };
                strcpy(descs[i].digest, layers[i].layer.digest);
                if (layers[i].layer.media_type == OCI_MEDIA_OCI_LAYER_ZSTD)
                        m.media_type = OCI_MEDIA_OCI_MANIFEST;
        }
        if (m.media_type == OCI_MEDIA_OCI_MANIFEST)
                m.config.media_type = OCI_MEDIA_OCI_CONFIG;
        m.layers = descs;
        m.n_layers = n;
        r = oci_manifest_to_json(&m, &json);
        if (r < 0)
                return r;
        r = sha256_digest_buffer(json, strlen(json), out->manifest_digest);
        if (r < 0)
                return r;
        if (store_blob_exists(c->store, out->manifest_digest))
                return 0;
        return store_staging_write(c->staging, "m", json, strlen(json), &out->manifest_path);
}

typedef struct ImageSource {
        LoadMember *config;
        char expected_config[DIGEST_STRING_MAX];   /* digest the archive names the config by, or "" */
        LoadMember **layers;
        char **expected;                  /* compressed digests, or NULL (docker-archive) */
        OciMediaType *media_types;
        size_t n_layers;
        LoadMember *manifest;             /* NULL: synthesise one */
        char **tags;
} ImageSource;

static void image_source_done(ImageSource *src) {
        free(src->layers);
        strv_free(src->expected);
        free(src->media_types);
        strv_free(src->tags);
        *src = (ImageSource) {};
}

static int stage_image(LoadContext *c, const ImageSource *src, StagedImage *out) {
        _cleanup_(oci_image_config_freep) OciImageConfig *cfg = NULL;
        _cleanup_free_ char *json = NULL;
        size_t size, n_diff;
        int r;

        if (!isempty(src->expected_config) && !streq(src->expected_config, src->config->digest))
                return errmsg_set(-EBADMSG, "Digest mismatch for image config %s: content is %s.",
                                  src->expected_config, src->config->digest);
        r = member_read(c, src->config, "image config", &json, &size);
        if (r < 0)
                return r;
        r = oci_image_config_parse(json, size, &cfg);
        if (r < 0)
                return errmsg_set(r, "%s: %s", src->config->path, errmsg_last());
        n_diff = strv_length(cfg->diff_ids);
        if (n_diff != src->n_layers)
                return errmsg_set(-EBADMSG, "Image config %s lists %zu diff_ids but the manifest has %zu layers.",
                                  src->config->digest, n_diff, src->n_layers);
        if (n_diff > store_limits(c->store)->max_layers)
                return errmsg_set(-E2BIG, "Image has %zu layers, more than the limit of %llu.", n_diff,
                                  (unsigned long long) store_limits(c->store)->max_layers);
        strcpy(out->id, src->config->digest);
        out->config_path = strdup(src->config->staged);
        if (!out->config_path)
                return -ENOMEM;
        out->layers = calloc(n_diff + 1, sizeof(StagedLayer));
        if (!out->layers)
                return -ENOMEM;
        out->n_layers = n_diff;
        r = load_stage_layers(c, (const LoadMember * const *) src->layers, src->expected, src->media_types,
                              cfg->diff_ids, n_diff, out->layers);
        if (r < 0)
                return r;
        if (!src->manifest)
                r = synthesize_manifest(c, src->config, out->layers, n_diff, out);
        else {
                out->manifest_original = true;
                strcpy(out->manifest_digest, src->manifest->digest);
                out->manifest_path = strdup(src->manifest->staged);
                if (!out->manifest_path)
                        return -ENOMEM;
        }
        if (r < 0)
                return r;
        return normalize_tags(src->tags, &out->tags);
}

/* docker-archive: manifest.json is [{"Config": path, "RepoTags": [...], "Layers": [paths]}]. */
static int docker_entry_source(LoadContext *c, json_t *e, size_t idx, ImageSource *src) {
        _cleanup_strv_free_ char **layer_paths = NULL;
        const char *config, *hex;
        size_t n;
        int r;

        if (!json_is_object(e))
                return errmsg_set(-EBADMSG, "Malformed manifest.json: entry %zu is not an object.", idx);
        if ((r = json_get_string("manifest.json", e, "Config", true, &config)) < 0 ||
            (r = json_get_strv("manifest.json", e, "RepoTags", &src->tags)) < 0)
                return r;
        if (!json_is_array(json_object_get(e, "Layers")))
                return errmsg_set(-EBADMSG, "Malformed manifest.json: entry %zu has no \"Layers\" array.", idx);
        if ((r = json_get_strv("manifest.json", e, "Layers", &layer_paths)) < 0 ||
            (r = member_get(c, config, "image config", &src->config)) < 0)
                return r;
        /* "<hex>.json" and "blobs/sha256/<hex>" name the config by its digest. */
        hex = startswith(config, "blobs/sha256/") ?: config;
        if (string_is_hex(hex, DIGEST_HEX_LEN) ||
            (strlen(hex) == DIGEST_HEX_LEN + 5 && streq(hex + DIGEST_HEX_LEN, ".json") &&
             strspn(hex, "0123456789abcdef") == DIGEST_HEX_LEN))
                snprintf(src->expected_config, DIGEST_STRING_MAX, "sha256:%.64s", hex);
        n = strv_length(layer_paths);
        src->layers = calloc(n + 1, sizeof(LoadMember *));
        src->media_types = calloc(n + 1, sizeof(OciMediaType));
        src->expected = calloc(n + 1, sizeof(char *));
        if (!src->layers || !src->media_types || !src->expected)
                return -ENOMEM;
        for (size_t i = 0; i < n; i++) {
                const char *lh = startswith(layer_paths[i], "blobs/sha256/");
                r = member_get(c, layer_paths[i], "layer", &src->layers[i]);
                if (r < 0)
                        return r;
                src->media_types[i] = load_sniff_layer_type(c, src->layers[i], true);
                /* Blobs named by digest are checked against it; "<id>/layer.tar" carries none. */
                if (lh && string_is_hex(lh, DIGEST_HEX_LEN) && !(src->expected[i] = strjoin("sha256:", lh)))
                        return -ENOMEM;
                if (!src->expected[i] && !(src->expected[i] = strdup(src->layers[i]->digest)))
                        return -ENOMEM;
        }
        src->n_layers = n;
        return 0;
}

static int load_docker(LoadContext *c, StagedImage **ret, size_t *ret_n) {
        _cleanup_free_ char *data = NULL;
        json_auto_t *j = NULL;
        StagedImage *imgs;
        LoadMember *m;
        size_t size, n, i;
        json_t *entry;
        int r;

        if ((r = member_get(c, "manifest.json", "manifest.json", &m)) < 0 ||
            (r = member_read(c, m, "manifest.json", &data, &size)) < 0)
                return r;
        r = json_parse("manifest.json", data, size, &j);
        if (r < 0)
                return r;
        if (!json_is_array(j) || json_array_size(j) == 0)
                return errmsg_set(-EBADMSG, "Malformed manifest.json: expected a non-empty array.");
        n = json_array_size(j);
        if (n > store_limits(c->store)->max_images)
                return errmsg_set(-E2BIG, "The archive holds %zu images, more than the limit.", n);
        imgs = calloc(n, sizeof(StagedImage));
        if (!imgs)
                return -ENOMEM;
        *ret = imgs;
        *ret_n = n;
        json_array_foreach(j, i, entry) {
                _cleanup_(image_source_done) ImageSource src = {};
                r = docker_entry_source(c, entry, i, &src);
                if (r >= 0)
                        r = stage_image(c, &src, &imgs[i]);
                if (r < 0)
                        return r;
        }
        return 0;
}

/* Docker >= 25 writes both layouts; its manifest.json has the tags. */
static int docker_tags_for_config(LoadContext *c, const char *config_digest, char ***ret) {
        _cleanup_free_ char *data = NULL, *want = strjoin("blobs/sha256/", digest_hex(config_digest));
        json_auto_t *j = NULL;
        LoadMember *m;
        json_t *e;
        size_t size, i;

        *ret = NULL;
        if (!want)
                return -ENOMEM;
        if (!member_find(c, "manifest.json") || member_get(c, "manifest.json", "manifest.json", &m) < 0 ||
            member_read(c, m, "manifest.json", &data, &size) < 0)
                return 0;
        if (json_parse("manifest.json", data, size, &j) < 0)
                return 0;
        json_array_foreach(j, i, e)
                if (streq_ptr(json_string_value(json_object_get(e, "Config")), want))
                        return json_get_strv("manifest.json", e, "RepoTags", ret);
        return 0;
}

static int oci_manifest_source(LoadContext *c, const OciDescriptor *d, const char *ref_name, ImageSource *src) {
        _cleanup_(oci_manifest_freep) OciManifest *man = NULL;
        _cleanup_free_ char *data = NULL;
        size_t size;
        int r;

        if ((r = blob_member(c, d, "image manifest", &src->manifest)) < 0 ||
            (r = member_read(c, src->manifest, "image manifest", &data, &size)) < 0)
                return r;
        r = oci_manifest_parse(data, size, &man);
        if (r < 0)
                return errmsg_set(r, "Manifest %s: %s", d->digest, errmsg_last());
        if ((r = blob_member(c, &man->config, "image config", &src->config)) < 0)
                return r;
        src->layers = calloc(man->n_layers + 1, sizeof(LoadMember *));
        src->media_types = calloc(man->n_layers + 1, sizeof(OciMediaType));
        src->expected = calloc(man->n_layers + 1, sizeof(char *));
        if (!src->layers || !src->media_types || !src->expected)
                return -ENOMEM;
        for (size_t i = 0; i < man->n_layers; i++) {
                r = blob_member(c, &man->layers[i], "layer", &src->layers[i]);
                if (r < 0)
                        return r;
                src->media_types[i] = man->layers[i].media_type;
                src->expected[i] = strdup(man->layers[i].digest);
                if (!src->expected[i])
                        return -ENOMEM;
        }
        src->n_layers = man->n_layers;
        /* A bare tag ("latest") names no repository; docker's manifest.json may. */
        if (ref_name && (strchr(ref_name, ':') || strchr(ref_name, '/')))
                return strv_extend(&src->tags, ref_name);
        return docker_tags_for_config(c, man->config.digest, &src->tags);
}

static int check_oci_layout(LoadContext *c) {
        _cleanup_free_ char *data = NULL;
        json_auto_t *j = NULL;
        const char *v;
        LoadMember *m;
        size_t size;
        int r;

        r = member_get(c, "oci-layout", "oci-layout", &m);
        if (r < 0)
                return errmsg_set(r, "Not an OCI image layout: oci-layout is missing.");
        if ((r = member_read(c, m, "oci-layout", &data, &size)) < 0 ||
            (r = json_parse_object("oci-layout", data, size, &j)) < 0 ||
            (r = json_get_string("oci-layout", j, "imageLayoutVersion", true, &v)) < 0)
                return r;
        if (!startswith(v, "1."))
                return errmsg_set(-EMEDIUMTYPE, "Unsupported OCI image layout version \"%s\".", v);
        return 0;
}

/* The manifest descriptor an index entry stands for (nested indexes: the host's platform). */
static int resolve_index_entry(LoadContext *c, const OciDescriptor *d, size_t idx, OciDescriptor *ret) {
        _cleanup_(oci_index_freep) OciIndex *sub = NULL;
        _cleanup_free_ char *data = NULL;
        LoadMember *m;
        size_t size, k;
        int r;

        if (oci_media_type_is_manifest(d->media_type)) {
                *ret = *d;
                return 0;
        }
        if (!oci_media_type_is_index(d->media_type))
                return errmsg_set(-EMEDIUMTYPE, "index.json: entry %zu has an unsupported media type.", idx);
        if ((r = blob_member(c, d, "image index", &m)) < 0 || (r = member_read(c, m, "image index", &data, &size)) < 0)
                return r;
        r = oci_index_parse(data, size, &sub);
        if (r < 0)
                return errmsg_set(r, "Index %s: %s", d->digest, errmsg_last());
        r = oci_index_select_platform(sub, NULL, NULL, &k);
        if (r < 0)
                return r;
        *ret = sub->manifests[k];
        ret->ref_name = NULL;
        ret->platform = (OciPlatform) {};
        return 0;
}

static int load_oci(LoadContext *c, StagedImage **ret, size_t *ret_n) {
        _cleanup_(oci_index_freep) OciIndex *index = NULL;
        _cleanup_free_ char *data = NULL;
        size_t size, n, only = SIZE_MAX, n_platform = 0;
        StagedImage *imgs;
        LoadMember *m;
        int r;

        if ((r = check_oci_layout(c)) < 0 || (r = member_get(c, "index.json", "index.json", &m)) < 0 ||
            (r = member_read(c, m, "index.json", &data, &size)) < 0)
                return r;
        r = oci_index_parse(data, size, &index);
        if (r < 0)
                return errmsg_set(r, "index.json: %s", errmsg_last());
        n = index->n_manifests;
        if (n == 0)
                return errmsg_set(-EBADMSG, "index.json lists no images.");
        if (n > store_limits(c->store)->max_images)
                return errmsg_set(-E2BIG, "The archive holds %zu images, more than the limit.", n);
        /* A multi-platform image at the top level: pick one, like a nested index. */
        for (size_t i = 0; i < n; i++)
                n_platform += index->manifests[i].has_platform && !index->manifests[i].ref_name;
        if (n_platform == n && n > 1) {
                r = oci_index_select_platform(index, NULL, NULL, &only);
                if (r < 0)
                        return r;
        }
        imgs = calloc(n, sizeof(StagedImage));
        if (!imgs)
                return -ENOMEM;
        *ret = imgs;
        *ret_n = 0;
        for (size_t i = 0; i < n; i++) {
                _cleanup_(image_source_done) ImageSource src = {};
                OciDescriptor d;

                if (only != SIZE_MAX && i != only)
                        continue;
                if ((r = resolve_index_entry(c, &index->manifests[i], i, &d)) < 0 ||
                    (r = oci_manifest_source(c, &d, index->manifests[i].ref_name, &src)) < 0 ||
                    (r = stage_image(c, &src, &imgs[(*ret_n)++])) < 0)
                        return r;
        }
        return 0;
}

static void staged_images_free(StagedImage *imgs, size_t n) {
        for (size_t i = 0; i < n; i++)
                staged_image_done(&imgs[i]);
        free(imgs);
}

static int load_finish(LoadContext *c, int (*loader)(LoadContext *, StagedImage **, size_t *),
                       char ***ret_ids, char ***ret_tags) {
        _cleanup_strv_free_ char **ids = calloc(1, sizeof(char *)), **tags = calloc(1, sizeof(char *));
        StagedImage *imgs = NULL;
        size_t n = 0;
        int r;

        if (!ids || !tags)
                return -ENOMEM;
        r = loader(c, &imgs, &n);
        /* Only a fully verified archive changes the store. */
        for (size_t i = 0; r >= 0 && i < n; i++) {
                r = load_check_cancel(c);
                if (r >= 0)
                        r = store_commit_image(c->store, c->staging, &imgs[i]);
                if (r >= 0 && !strv_contains(ids, imgs[i].id))
                        r = strv_extend(&ids, imgs[i].id);
                STRV_FOREACH(t, imgs[i].tags)
                        if (r >= 0)
                                r = strv_extend(&tags, *t);
        }
        staged_images_free(imgs, n);
        if (r < 0)
                return r;
        if (ret_ids)
                *ret_ids = TAKE_PTR(ids);
        if (ret_tags)
                *ret_tags = TAKE_PTR(tags);
        return 0;
}

int image_load(Store *s, int fd, const StoreIoOptions *opts, char ***ret_ids, char ***ret_tags) {
        _cleanup_(load_context_done) LoadContext c = { .store = s, .opts = opts, .layout_fd = -EBADF };
        _cleanup_(store_staging_freep) StoreStaging *st = NULL;
        struct stat stbuf;
        int r;

        errmsg_clear();
        r = store_staging_new(s, &st);
        if (r < 0)
                return r;
        c.staging = st;
        if (fstat(fd, &stbuf) >= 0 && S_ISREG(stbuf.st_mode))
                c.bytes_total = (uint64_t) stbuf.st_size * 2;
        r = spool_archive(&c, fd);
        if (r < 0)
                return r;
        if (member_find(&c, "index.json"))
                return load_finish(&c, load_oci, ret_ids, ret_tags);
        if (member_find(&c, "manifest.json"))
                return load_finish(&c, load_docker, ret_ids, ret_tags);
        return errmsg_set(-EBADMSG, "Not an image archive: neither manifest.json (docker-archive) "
                          "nor index.json (oci-archive) found.");
}

int image_load_oci_layout(Store *s, int dirfd, const StoreIoOptions *opts, char ***ret_ids, char ***ret_tags) {
        _cleanup_(load_context_done) LoadContext c = { .store = s, .opts = opts, .layout_fd = dirfd };
        _cleanup_(store_staging_freep) StoreStaging *st = NULL;
        int r;

        errmsg_clear();
        r = store_staging_new(s, &st);
        if (r < 0)
                return r;
        c.staging = st;
        return load_finish(&c, load_oci, ret_ids, ret_tags);
}
