/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <fcntl.h>
#include <sys/stat.h>

#include "fileio.h"
#include "image-internal.h"
#include "reference.h"
#include "sysinfo.h"

static int import_config(const char *diff_id, char * const *changes, OciImageConfig **ret) {
        _cleanup_(oci_image_config_freep) OciImageConfig *cfg = calloc(1, sizeof(OciImageConfig));
        int r;

        if (!cfg)
                return -ENOMEM;
        cfg->architecture = strdup(oci_host_architecture());
        cfg->os = strdup("linux");
        cfg->history = calloc(1, sizeof(OciHistory));
        if (!cfg->architecture || !cfg->os || !cfg->history)
                return -ENOMEM;
        cfg->created_usec = now_usec(CLOCK_REALTIME);
        cfg->n_history = 1;
        cfg->history[0] = (OciHistory) { .created_usec = cfg->created_usec, .created_by = strdup("berth import"),
                                         .comment = strdup("Imported from tarball") };
        if (!cfg->history[0].created_by || !cfg->history[0].comment)
                return -ENOMEM;
        if (diff_id && strv_extend(&cfg->diff_ids, diff_id) < 0)
                return -ENOMEM;
        STRV_FOREACH(ch, changes) {
                r = oci_image_config_apply_change(cfg, *ch);
                if (r < 0)
                        return r;
        }
        *ret = TAKE_PTR(cfg);
        return 0;
}

/* Writes a JSON document as a staged blob. */
static int stage_json(LoadContext *c, const char *json, char digest[static DIGEST_STRING_MAX], char **ret_path) {
        int r;

        *ret_path = NULL;
        r = sha256_digest_buffer(json, strlen(json), digest);
        if (r < 0 || store_blob_exists(c->store, digest))
                return r;
        return store_staging_write(c->staging, "j", json, strlen(json), ret_path);
}

static int import_unpack(LoadContext *c, const LoadMember *blob, StagedLayer *ret) {
        _cleanup_close_ int dfd = -EBADF, bfd = -EBADF;
        _cleanup_free_ char *dir = NULL, *diff = NULL;
        char existing[DIGEST_STRING_MAX];
        LayerUnpackResult res;
        uint64_t size;
        int r;

        if ((r = store_staging_name(c->staging, "l", &dir)) < 0 || !(diff = strjoin(dir, "/diff")))
                return r < 0 ? r : -ENOMEM;
        if (mkdirat(c->staging->dirfd, dir, 0700) < 0 || mkdirat(c->staging->dirfd, diff, 0755) < 0)
                return -errno;
        dfd = openat(c->staging->dirfd, diff, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        bfd = openat(c->staging->dirfd, blob->staged, O_RDONLY | O_CLOEXEC);
        if (dfd < 0 || bfd < 0)
                return -errno;
        r = layer_unpack(bfd, dfd, NULL, 0, &store_limits(c->store)->layer, c->opts ? c->opts->cancel : NULL, &res);
        if (r < 0)
                return errmsg_set(r, "Cannot import the tarball: %s.", layer_last_error() ?: strerror(-r));
        *ret = (StagedLayer) { .layer = { .media_type = load_sniff_layer_type(c, blob, false),
                                          .blob_size = blob->size } };
        strcpy(ret->layer.digest, blob->digest);
        strcpy(ret->layer.diff_id, res.diff_id);
        strcpy(ret->layer.chain_id, res.diff_id);
        ret->layer.size = store_tree_size_at(c->staging->dirfd, diff);
        if (!store_blob_exists(c->store, blob->digest) && !(ret->blob_path = strdup(blob->staged)))
                return -ENOMEM;
        if (store_layer_lookup(c->store, res.diff_id, existing, &size) >= 0)
                return 0;
        ret->dir_path = TAKE_PTR(dir);
        return 0;
}

static int import_manifest(LoadContext *c, const char *config_json, StagedImage *img) {
        OciManifest m = { .media_type = OCI_MEDIA_OCI_MANIFEST, .n_layers = 1 };
        OciDescriptor layer = { .media_type = img->layers[0].layer.media_type,
                                .size = img->layers[0].layer.blob_size };
        _cleanup_free_ char *json = NULL;
        int r;

        m.config = (OciDescriptor) { .media_type = OCI_MEDIA_OCI_CONFIG, .size = strlen(config_json) };
        strcpy(m.config.digest, img->id);
        strcpy(layer.digest, img->layers[0].layer.digest);
        m.layers = &layer;
        r = oci_manifest_to_json(&m, &json);
        if (r < 0)
                return r;
        return stage_json(c, json, img->manifest_digest, &img->manifest_path);
}

int image_import(Store *s, int fd, const char *reference, char * const *changes,
                 const StoreIoOptions *opts, char **ret_id) {
        _cleanup_(load_context_done) LoadContext c = { .store = s, .opts = opts, .layout_fd = -EBADF };
        _cleanup_(store_staging_freep) StoreStaging *st = NULL;
        _cleanup_(oci_image_config_freep) OciImageConfig *cfg = NULL;
        _cleanup_(staged_image_done) StagedImage img = {};
        _cleanup_free_ char *json = NULL;
        LoadMember blob = { .path = (char *) "rootfs tarball" };
        int r;

        errmsg_clear();
        /* Check the changes and the name before reading anything. */
        if ((r = import_config(NULL, changes, &cfg)) < 0)
                return r;
        cfg = oci_image_config_free(cfg);
        if (reference) {
                _cleanup_(reference_freep) Reference *ref = NULL;
                if ((r = reference_parse(reference, &ref)) < 0)
                        return r;
                if (ref->digest)
                        return errmsg_set(-EINVAL, "Cannot tag with a digest reference \"%s\".", reference);
                if (strv_consume(&img.tags, reference_to_string(ref)) < 0)
                        return -ENOMEM;
        }
        if ((r = store_staging_new(s, &st)) < 0)
                return r;
        c.staging = st;
        r = load_spool_fd(&c, fd, s->limits.layer.max_compressed_size, "rootfs tarball", &blob);
        if (r < 0)
                return r;
        img.layers = calloc(1, sizeof(StagedLayer));
        if (!img.layers)
                goto oom;
        img.n_layers = 1;
        if ((r = import_unpack(&c, &blob, &img.layers[0])) < 0 ||
            (r = import_config(img.layers[0].layer.diff_id, changes, &cfg)) < 0 ||
            (r = oci_image_config_to_json(cfg, &json)) < 0 ||
            (r = stage_json(&c, json, img.id, &img.config_path)) < 0 ||
            (r = import_manifest(&c, json, &img)) < 0 ||
            (r = store_commit_image(s, st, &img)) < 0)
                goto finish;
        if (ret_id && !(*ret_id = strdup(img.id)))
                goto oom;
        r = 0;
        goto finish;
oom:
        r = -ENOMEM;
finish:
        free(blob.staged);
        return r;
}
