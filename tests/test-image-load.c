/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <ftw.h>
#include <signal.h>
#include <sys/sysmacros.h>
#include <sys/wait.h>
#include <sys/xattr.h>

#include "check-util.h"
#include "image-load.h"
#include "image-test-util.h"
#include "reference.h"
#include "store.h"
#include "sysinfo.h"
#include "tar-attack-util.h"

static const char *const base_spec[] = {
        "d:etc", "f:etc/os-release=ID=test\n", "f:etc/gone=x", "d:bin", "f:bin/sh=#!shell", "d:var", "d:var/cache",
        "f:var/cache/a=1", NULL,
};
static const char *const top_spec[] = {
        "f:etc/.wh.gone=", "d:var/cache", "f:var/cache/.wh..wh..opq=", "f:var/cache/b=2", "f:app=hello", NULL,
};
static const char *const other_spec[] = { "f:other=3", NULL };

typedef struct TImage {
        char *config;
        TLayer *layers[4];
        size_t n;
        const char *tags;            /* JSON array for manifest.json, or a ref name for OCI */
} TImage;

static void t_image_done(TImage *i) {
        free(i->config);
}

/* style 0: "<n>/layer.tar" and "<hex>.json" like docker < 25; 1: blobs/sha256/. */
static void t_docker_archive(TBuf *out, TImage *imgs, size_t n, int style) {
        struct archive *a = t_writer(out, 0);
        _cleanup_free_ char *manifest = strdup("[");

        for (size_t i = 0; i < n; i++) {
                _cleanup_free_ char *cd = t_digest(imgs[i].config, strlen(imgs[i].config));
                _cleanup_free_ char *cpath = style ? t_blob_path(cd) : strjoin(cd + 7, ".json");
                _cleanup_free_ char *layers = strdup(""), *entry = NULL;

                t_add_str(a, cpath, imgs[i].config);
                for (size_t k = 0; k < imgs[i].n; k++) {
                        char lp[128];
                        TLayer *l = imgs[i].layers[k];
                        if (style)
                                snprintf(lp, sizeof lp, "blobs/sha256/%s", l->digest + 7);
                        else
                                snprintf(lp, sizeof lp, "%zu-%zu/layer.tar", i, k);
                        /* Shared layers are written once by docker; later images repeat the path. */
                        bool dup = false;
                        for (size_t j = 0; j < i && style; j++)
                                for (size_t m = 0; m < imgs[j].n; m++)
                                        dup = dup || imgs[j].layers[m] == l;
                        if (!dup && !style) {
                                /* podman links a layer already written to its first copy. */
                                for (size_t j = 0; j < i && !dup; j++)
                                        for (size_t m = 0; m < imgs[j].n && !dup; m++)
                                                if (imgs[j].layers[m] == l) {
                                                        char target[128];
                                                        snprintf(target, sizeof target, "../%zu-%zu/layer.tar", j, m);
                                                        t_add(a, 'l', lp, target, 0);
                                                        dup = true;
                                                }
                        }
                        if (!dup)
                                t_add(a, 'f', lp, l->blob.data, l->blob.size);
                        char *nl = strjoin(layers, k ? "," : "", "\"", lp, "\"");
                        free(layers);
                        layers = nl;
                }
                ck_assert_int_ge(asprintf(&entry, "%s{\"Config\":\"%s\",\"RepoTags\":%s,\"Layers\":[%s]}",
                                          i ? "," : "", cpath, imgs[i].tags ?: "null", layers), 0);
                char *nm = strjoin(manifest, entry);
                free(manifest);
                manifest = nm;
        }
        char *nm = strjoin(manifest, "]");
        free(manifest);
        manifest = nm;
        t_add_str(a, "manifest.json", manifest);
        t_add_str(a, "repositories", "{}");
        t_finish(a);
}

typedef enum Defect {
        DEFECT_NONE,
        DEFECT_LAYER_DIGEST,
        DEFECT_DIFF_ID,
        DEFECT_TRUNCATED_MANIFEST,
        DEFECT_MISSING_BLOB,
        DEFECT_MEDIA_TYPE,
        DEFECT_TRUNCATED_ARCHIVE,
} Defect;

static const char *layer_media_type(const TLayer *l) {
        if ((uint8_t) l->blob.data[0] == 0x1f)
                return "application/vnd.oci.image.layer.v1.tar+gzip";
        if ((uint8_t) l->blob.data[0] == 0x28)
                return "application/vnd.oci.image.layer.v1.tar+zstd";
        return "application/vnd.oci.image.layer.v1.tar";
}

/* Writes config, layers and manifest blobs; returns the manifest descriptor JSON. */
static char *t_oci_image(struct archive *a, TImage *img, Defect defect, const char *platform) {
        _cleanup_free_ char *config = strdup(img->config), *layers = strdup(""), *manifest = NULL;
        _cleanup_free_ char *cd = NULL, *cpath = NULL, *md = NULL, *mpath = NULL;
        char *desc = NULL;

        if (defect == DEFECT_DIFF_ID) {
                char *p = strstr(config, "sha256:");
                memset(p + 7, 'e', 8);
        }
        cd = t_digest(config, strlen(config));
        cpath = t_blob_path(cd);
        t_add_str(a, cpath, config);
        for (size_t k = 0; k < img->n; k++) {
                TLayer *l = img->layers[k];
                _cleanup_free_ char *lpath = NULL;
                char digest[DIGEST_STRING_MAX];
                strcpy(digest, l->digest);
                if (defect == DEFECT_LAYER_DIGEST && k == 0)
                        memset(digest + 7, 'a', 10);
                lpath = t_blob_path(digest);
                if (!(defect == DEFECT_MISSING_BLOB && k == img->n - 1))
                        t_add(a, 'f', lpath, l->blob.data, l->blob.size);
                char *e = NULL;
                ck_assert_int_ge(asprintf(&e, "%s%s{\"mediaType\":\"%s\",\"digest\":\"%s\",\"size\":%zu}", layers,
                                          k ? "," : "", defect == DEFECT_MEDIA_TYPE ? "application/x-foo" : layer_media_type(l),
                                          digest, l->blob.size), 0);
                free(layers);
                layers = e;
        }
        ck_assert_int_ge(asprintf(&manifest, "{\"schemaVersion\":2,\"mediaType\":\"application/vnd.oci.image.manifest.v1+json\","
                                  "\"config\":{\"mediaType\":\"application/vnd.oci.image.config.v1+json\",\"digest\":\"%s\",\"size\":%zu},"
                                  "\"layers\":[%s]}", cd, strlen(config), layers), 0);
        if (defect == DEFECT_TRUNCATED_MANIFEST)
                manifest[strlen(manifest) / 2] = 0;
        md = t_digest(manifest, strlen(manifest));
        mpath = t_blob_path(md);
        t_add_str(a, mpath, manifest);
        ck_assert_int_ge(asprintf(&desc, "{\"mediaType\":\"application/vnd.oci.image.manifest.v1+json\",\"digest\":\"%s\","
                                  "\"size\":%zu%s%s%s%s}", md, strlen(manifest),
                                  img->tags ? ",\"annotations\":{\"org.opencontainers.image.ref.name\":\"" : "",
                                  img->tags ?: "", img->tags ? "\"}" : "", platform ?: ""), 0);
        return desc;
}

static void t_oci_archive(TBuf *out, TImage *imgs, size_t n, Defect defect) {
        struct archive *a = t_writer(out, 0);
        _cleanup_free_ char *index = strdup("{\"schemaVersion\":2,\"manifests\":[");

        t_add_str(a, "oci-layout", "{\"imageLayoutVersion\":\"1.0.0\"}");
        for (size_t i = 0; i < n; i++) {
                _cleanup_free_ char *d = t_oci_image(a, &imgs[i], defect, NULL);
                char *ni = strjoin(index, i ? "," : "", d);
                free(index);
                index = ni;
        }
        char *ni = strjoin(index, "]}");
        free(index);
        index = ni;
        t_add_str(a, "index.json", index);
        t_finish(a);
        if (defect == DEFECT_TRUNCATED_ARCHIVE)
                out->size = out->size * 2 / 3;
}

static TLayer base_gz, top_plain, other_zstd;
static char *host_config_a, *host_config_b;

static void fixtures(void) {
        static bool done;
        const char *arch = oci_host_architecture();
        TLayer ab[] = { {}, {} };

        if (done)
                return;
        done = true;
        t_layer(&base_gz, 1, base_spec);
        t_layer(&top_plain, 0, top_spec);
        t_layer(&other_zstd, 2, other_spec);
        ab[0] = base_gz;
        ab[1] = top_plain;
        host_config_a = t_config(arch, "\"Env\":[\"PATH=/bin\",\"A=1\"],\"Cmd\":[\"/bin/sh\"],\"WorkingDir\":\"/srv\","
                                 "\"User\":\"nobody\",\"ExposedPorts\":{\"80/tcp\":{}},\"Labels\":{\"k\":\"v\"},"
                                 "\"StopSignal\":\"SIGINT\",\"Entrypoint\":[\"/init\"]", ab, 2);
        ab[1] = other_zstd;
        host_config_b = t_config(arch, "\"Cmd\":[\"other\"]", ab, 2);
}

static void two_images(TImage imgs[2]) {
        fixtures();
        imgs[0] = (TImage) { .config = strdup(host_config_a), .layers = { &base_gz, &top_plain }, .n = 2,
                             .tags = "[\"busybox:latest\",\"example.com:5000/a/b:1\"]" };
        imgs[1] = (TImage) { .config = strdup(host_config_b), .layers = { &base_gz, &other_zstd }, .n = 2,
                             .tags = "[\"other:2\"]" };
}

static Store *t_store(const char *root) {
        Store *s = NULL;
        StoreLimits lim = store_limits_default;

        lim.unpack_threads = 2;
        ck_assert_int_eq(store_open(AT_FDCWD, root, &lim, &s), 0);
        return s;
}

static void load_buf_pipe(Store *s, const TBuf *b, int expect, char ***ids, char ***tags) {
        TFeeder f;
        int fd = t_pipe_from(&f, b);
        int r = image_load(s, fd, NULL, ids, tags);

        if (r != expect)
                ck_abort_msg("image_load: %d (%s), expected %d", r, strempty(store_last_error()), expect);
        t_pipe_join(&f, fd);
}

static bool is_whiteout(const char *path) {
        struct stat st;

        return lstat(path, &st) == 0 && S_ISCHR(st.st_mode) && st.st_rdev == makedev(0, 0);
}

static void check_image_a(Store *s, const char *name) {
        _cleanup_(image_freep) Image *img = NULL;
        _cleanup_strv_free_ char **paths = NULL, **familiar = NULL;
        char buf[8] = {};

        ck_assert_int_eq(store_resolve_image(s, name, &img), 0);
        ck_assert_str_eq(img->config.architecture, oci_host_architecture());
        ck_assert_str_eq(img->config.cmd[0], "/bin/sh");
        ck_assert_str_eq(img->config.entrypoint[0], "/init");
        ck_assert(strv_contains(img->config.env, "A=1"));
        ck_assert_str_eq(img->config.working_dir, "/srv");
        ck_assert_str_eq(img->config.user, "nobody");
        ck_assert_str_eq(img->config.stop_signal, "SIGINT");
        ck_assert_str_eq(img->config.exposed_ports[0], "80/tcp");
        ck_assert_str_eq(img->config.labels[0], "k");
        ck_assert_str_eq(img->config.labels[1], "v");
        ck_assert_uint_eq(img->config.created_usec, 1704164645ULL * 1000000ULL);
        ck_assert_uint_eq(strv_length(img->config.diff_ids), 2);
        ck_assert_uint_eq(img->config.n_history, 1);
        familiar = image_familiar_tags(img);
        ck_assert_uint_eq(strv_length(familiar), strv_length(img->repo_tags));
        ck_assert_uint_gt(img->size, 0);
        ck_assert_int_eq(store_image_layer_paths(s, img->id, &paths), 0);
        ck_assert_uint_eq(strv_length(paths), 2);
        _cleanup_free_ char *osr = strjoin(paths[1], "/etc/os-release"), *gone = strjoin(paths[0], "/etc/gone");
        _cleanup_free_ char *cache = strjoin(paths[0], "/var/cache"), *app = strjoin(paths[0], "/app");
        ck_assert_int_eq(access(osr, F_OK), 0);
        ck_assert_int_eq(access(app, F_OK), 0);
        ck_assert(is_whiteout(gone));
        ck_assert_int_eq(getxattr(cache, "trusted.overlay.opaque", buf, sizeof buf), 1);
        ck_assert_int_eq(buf[0], 'y');
}

static size_t count_dir(const char *root, const char *sub) {
        _cleanup_free_ char *p = strjoin(root, "/", sub);
        _cleanup_closedir_ DIR *d = opendir(p);
        size_t n = 0;

        ck_assert_ptr_nonnull(d);
        for (struct dirent *de; (de = readdir(d));)
                n += !streq(de->d_name, ".") && !streq(de->d_name, "..");
        return n;
}

START_TEST(test_docker_archive_shared) {
        char *root = t_mkdtemp();
        _cleanup_(store_freep) Store *s = t_store(root);
        _cleanup_strv_free_ char **ids = NULL, **tags = NULL, **pa = NULL, **pb = NULL;
        _cleanup_(image_freep) Image *b = NULL;
        Image **list = NULL;
        size_t n;
        TImage imgs[2];
        TBuf ar;

        two_images(imgs);
        t_docker_archive(&ar, imgs, 2, _i);
        load_buf_pipe(s, &ar, 0, &ids, &tags);
        ck_assert_uint_eq(strv_length(ids), 2);
        ck_assert_uint_eq(strv_length(tags), 3);
        ck_assert(strv_contains(tags, "example.com:5000/a/b:1"));
        ck_assert_int_eq(store_list_images(s, &list, &n), 0);
        ck_assert_uint_eq(n, 2);
        image_array_free(list, n);
        check_image_a(s, "busybox");
        check_image_a(s, "example.com:5000/a/b:1");
        {
                _cleanup_(image_freep) Image *a = NULL;
                _cleanup_strv_free_ char **familiar = NULL;
                ck_assert_int_eq(store_resolve_image(s, "docker.io/library/busybox:latest", &a), 0);
                ck_assert(strv_contains(a->repo_tags, "docker.io/library/busybox:latest"));
                familiar = image_familiar_tags(a);
                ck_assert(strv_contains(familiar, "busybox:latest"));
                ck_assert(strv_contains(familiar, "example.com:5000/a/b:1"));
                ck_assert_uint_eq(strv_length(a->repo_digests), 0);   /* docker load has none either */
        }
        ck_assert_int_eq(store_resolve_image(s, "other:2", &b), 0);
        ck_assert_str_eq(b->config.cmd[0], "other");
        /* The shared base is unpacked once: the same chain-id directory. */
        ck_assert_int_eq(store_image_layer_paths(s, ids[0], &pa), 0);
        ck_assert_int_eq(store_image_layer_paths(s, ids[1], &pb), 0);
        ck_assert_str_eq(pa[1], pb[1]);
        ck_assert_str_ne(pa[0], pb[0]);
        ck_assert_uint_eq(count_dir(root, "layers"), 3);
        ck_assert_uint_eq(count_dir(root, "tmp"), 0);
        /* A second load of the same archive changes nothing. */
        _cleanup_free_ char *before = t_list_store(root);
        _cleanup_strv_free_ char **ids2 = NULL;
        load_buf_pipe(s, &ar, 0, &ids2, NULL);
        ck_assert_uint_eq(strv_length(ids2), 2);
        _cleanup_free_ char *after = t_list_store(root);
        ck_assert_str_eq(before, after);
        tbuf_done(&ar);
        t_image_done(&imgs[0]);
        t_image_done(&imgs[1]);
        t_rmdir(root);
}
END_TEST

START_TEST(test_oci_archive) {
        char *root = t_mkdtemp(), *root2 = t_mkdtemp();
        _cleanup_(store_freep) Store *s = t_store(root);
        _cleanup_strv_free_ char **ids = NULL, **tags = NULL;
        _cleanup_(image_freep) Image *img = NULL;
        TImage imgs[2];
        TBuf ar;

        two_images(imgs);
        imgs[0].tags = "example.com/app:v1";
        imgs[1].tags = "docker.io/library/other:2";
        t_oci_archive(&ar, imgs, 2, DEFECT_NONE);
        load_buf_pipe(s, &ar, 0, &ids, &tags);
        ck_assert_uint_eq(strv_length(ids), 2);
        check_image_a(s, "example.com/app:v1");
        ck_assert_int_eq(store_resolve_image(s, "other:2", &img), 0);
        ck_assert_uint_eq(strv_length(img->repo_digests), 1);
        image_free(img);
        img = NULL;
        /* Loaded before from a docker-archive, the image now gains its original manifest. */
        {
                _cleanup_(store_freep) Store *s2 = t_store(root2);
                _cleanup_(image_freep) Image *i2 = NULL;
                TImage dimgs[2] = { imgs[0], imgs[1] };
                TBuf dar;
                dimgs[0].tags = "[\"example.com/app:v1\"]";
                dimgs[1].tags = "[\"other:2\"]";
                t_docker_archive(&dar, dimgs, 2, 0);
                load_buf_pipe(s2, &dar, 0, NULL, NULL);
                ck_assert_int_eq(store_resolve_image(s2, "other:2", &i2), 0);
                ck_assert_uint_eq(strv_length(i2->repo_digests), 0);
                image_free(i2);
                i2 = NULL;
                load_buf_pipe(s2, &ar, 0, NULL, NULL);
                ck_assert_int_eq(store_resolve_image(s2, "other:2", &i2), 0);
                ck_assert_uint_eq(strv_length(i2->repo_digests), 1);
                tbuf_done(&dar);
        }
        ck_assert_int_eq(store_resolve_image(s, "other:2", &img), 0);
        /* OCI archives carry the manifest: RepoDigests and name@digest work. */
        ck_assert_uint_eq(strv_length(img->repo_digests), 1);
        _cleanup_(image_freep) Image *again = NULL;
        ck_assert_int_eq(store_resolve_image(s, img->repo_digests[0], &again), 0);
        ck_assert_str_eq(again->id, img->id);
        ck_assert_uint_eq(count_dir(root, "layers"), 3);
        tbuf_done(&ar);
        t_image_done(&imgs[0]);
        t_image_done(&imgs[1]);
        t_rmdir(root);
        t_rmdir(root2);
}
END_TEST

/* An index.json pointing to a nested index with several platforms. */
START_TEST(test_oci_platforms) {
        char *root = t_mkdtemp();
        _cleanup_(store_freep) Store *s = t_store(root);
        _cleanup_strv_free_ char **ids = NULL, **tags = NULL;
        _cleanup_(image_freep) Image *img = NULL;
        _cleanup_free_ char *foreign_cfg = NULL, *d1 = NULL, *d2 = NULL, *nested = NULL, *nd = NULL, *np = NULL, *top = NULL;
        const char *foreign = streq(oci_host_architecture(), "s390x") ? "ppc64le" : "s390x";
        TLayer l1[] = { {} };
        char plat1[128], plat2[128];
        TImage host, other;
        TBuf ar;
        struct archive *a;

        fixtures();
        l1[0] = other_zstd;
        foreign_cfg = t_config(foreign, NULL, l1, 1);
        host = (TImage) { .config = strdup(host_config_a), .layers = { &base_gz, &top_plain }, .n = 2 };
        other = (TImage) { .config = strdup(foreign_cfg), .layers = { &other_zstd }, .n = 1 };
        snprintf(plat1, sizeof plat1, ",\"platform\":{\"architecture\":\"%s\",\"os\":\"linux\"}", foreign);
        snprintf(plat2, sizeof plat2, ",\"platform\":{\"architecture\":\"%s\",\"os\":\"linux\"}", oci_host_architecture());
        a = t_writer(&ar, 0);
        t_add_str(a, "oci-layout", "{\"imageLayoutVersion\":\"1.0.0\"}");
        d1 = t_oci_image(a, &other, DEFECT_NONE, plat1);
        d2 = t_oci_image(a, &host, DEFECT_NONE, plat2);
        ck_assert_int_ge(asprintf(&nested, "{\"schemaVersion\":2,\"mediaType\":\"application/vnd.oci.image.index.v1+json\","
                                  "\"manifests\":[%s,%s]}", d1, d2), 0);
        nd = t_digest(nested, strlen(nested));
        np = t_blob_path(nd);
        t_add_str(a, np, nested);
        ck_assert_int_ge(asprintf(&top, "{\"schemaVersion\":2,\"manifests\":[{\"mediaType\":\"application/vnd.oci.image.index.v1+json\","
                                  "\"digest\":\"%s\",\"size\":%zu,\"annotations\":{\"org.opencontainers.image.ref.name\":"
                                  "\"multi:1\"}}]}", nd, strlen(nested)), 0);
        t_add_str(a, "index.json", top);
        t_finish(a);
        load_buf_pipe(s, &ar, 0, &ids, &tags);
        ck_assert_uint_eq(strv_length(ids), 1);
        ck_assert_int_eq(store_resolve_image(s, "multi:1", &img), 0);
        ck_assert_str_eq(img->config.architecture, oci_host_architecture());
        tbuf_done(&ar);
        t_image_done(&host);
        t_image_done(&other);
        t_rmdir(root);
}
END_TEST

/* docker >= 25 writes an OCI layout with a bare "latest" ref name and a
 * manifest.json that has the repository. */
START_TEST(test_docker25_archive) {
        char *root = t_mkdtemp();
        _cleanup_(store_freep) Store *s = t_store(root);
        _cleanup_strv_free_ char **ids = NULL, **tags = NULL;
        _cleanup_free_ char *desc = NULL, *index = NULL, *manifest = NULL, *cd = NULL;
        _cleanup_(image_freep) Image *img = NULL;
        TImage imgs[2];
        struct archive *a;
        TBuf ar;

        two_images(imgs);
        imgs[0].tags = "latest";
        a = t_writer(&ar, 0);
        t_add_str(a, "oci-layout", "{\"imageLayoutVersion\":\"1.0.0\"}");
        desc = t_oci_image(a, &imgs[0], DEFECT_NONE, NULL);
        ck_assert_int_ge(asprintf(&index, "{\"schemaVersion\":2,\"manifests\":[%s]}", desc), 0);
        t_add_str(a, "index.json", index);
        cd = t_digest(imgs[0].config, strlen(imgs[0].config));
        ck_assert_int_ge(asprintf(&manifest, "[{\"Config\":\"blobs/sha256/%s\",\"RepoTags\":[\"docker25:1\"],"
                                  "\"Layers\":[\"blobs/sha256/%s\",\"blobs/sha256/%s\"]}]", cd + 7,
                                  base_gz.digest + 7, top_plain.digest + 7), 0);
        t_add_str(a, "manifest.json", manifest);
        t_finish(a);
        load_buf_pipe(s, &ar, 0, &ids, &tags);
        ck_assert_uint_eq(strv_length(tags), 1);
        ck_assert_str_eq(tags[0], "docker.io/library/docker25:1");
        ck_assert_int_eq(store_resolve_image(s, "docker25:1", &img), 0);
        ck_assert_uint_eq(strv_length(img->repo_digests), 1);   /* the OCI manifest was used */
        tbuf_done(&ar);
        t_image_done(&imgs[0]);
        t_image_done(&imgs[1]);
        t_rmdir(root);
}
END_TEST

static void t_extract(const TBuf *b, const char *dir) {
        struct archive *a = archive_read_new();
        struct archive_entry *e;

        archive_read_support_format_tar(a);
        ck_assert_int_eq(archive_read_open_memory(a, b->data, b->size), ARCHIVE_OK);
        while (archive_read_next_header(a, &e) == ARCHIVE_OK) {
                _cleanup_free_ char *p = strjoin(dir, "/", archive_entry_pathname(e));
                _cleanup_free_ char *data = malloc((size_t) archive_entry_size(e) + 1);
                char *slash = strrchr(p, '/');
                *slash = 0;
                ck_assert_int_eq(mkdir_p(p, 0755), 0);
                *slash = '/';
                ck_assert_int_eq(archive_read_data(a, data, (size_t) archive_entry_size(e)), archive_entry_size(e));
                ck_assert_int_eq(write_file_atomic_at(AT_FDCWD, p, data, (size_t) archive_entry_size(e), 0644), 0);
        }
        archive_read_free(a);
}

START_TEST(test_oci_layout_dir) {
        char *root = t_mkdtemp(), *layout = t_mkdtemp();
        _cleanup_(store_freep) Store *s = t_store(root);
        _cleanup_strv_free_ char **ids = NULL, **tags = NULL;
        _cleanup_close_ int dfd = -EBADF;
        TImage imgs[2];
        TBuf ar;

        two_images(imgs);
        imgs[0].tags = "layout:1";
        t_oci_archive(&ar, imgs, 1, DEFECT_NONE);
        t_extract(&ar, layout);
        dfd = open(layout, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        ck_assert_int_eq(image_load_oci_layout(s, dfd, NULL, &ids, &tags), 0);
        ck_assert_uint_eq(strv_length(ids), 1);
        ck_assert_str_eq(tags[0], "docker.io/library/layout:1");
        check_image_a(s, "layout:1");
        tbuf_done(&ar);
        t_image_done(&imgs[0]);
        t_image_done(&imgs[1]);
        t_rmdir(layout);
        t_rmdir(root);
}
END_TEST

static const struct {
        Defect defect;
        int error;
        const char *message;
} defects[] = {
        { DEFECT_LAYER_DIGEST, -EBADMSG, "Digest mismatch" },
        { DEFECT_DIFF_ID, -EBADMSG, "diff_id" },
        { DEFECT_TRUNCATED_MANIFEST, -EBADMSG, "truncated" },
        { DEFECT_MISSING_BLOB, -ENOENT, "Missing blob" },
        { DEFECT_MEDIA_TYPE, -EMEDIUMTYPE, "application/x-foo" },
        { DEFECT_TRUNCATED_ARCHIVE, -EBADMSG, "runcated" },
};

/* Each broken archive fails with a message naming the problem and leaves the store as it was. */
START_TEST(test_errors_leave_store_unchanged) {
        char *root = t_mkdtemp();
        _cleanup_(store_freep) Store *s = t_store(root);
        _cleanup_free_ char *before = NULL, *after = NULL;
        TImage imgs[2];
        TBuf good, bad;

        two_images(imgs);
        t_docker_archive(&good, imgs, 1, 0);
        load_buf_pipe(s, &good, 0, NULL, NULL);
        before = t_list_store(root);
        imgs[1].tags = "broken:1";
        t_oci_archive(&bad, &imgs[1], 1, defects[_i].defect);
        load_buf_pipe(s, &bad, defects[_i].error, NULL, NULL);
        ck_assert_ptr_nonnull(store_last_error());
        if (!strstr(store_last_error(), defects[_i].message))
                ck_abort_msg("message \"%s\" lacks \"%s\"", store_last_error(), defects[_i].message);
        after = t_list_store(root);
        ck_assert_str_eq(before, after);
        tbuf_done(&good);
        tbuf_done(&bad);
        t_image_done(&imgs[0]);
        t_image_done(&imgs[1]);
        t_rmdir(root);
}
END_TEST

START_TEST(test_save_roundtrip) {
        char *root1 = t_mkdtemp(), *root2 = t_mkdtemp();
        _cleanup_(store_freep) Store *s1 = t_store(root1), *s2 = t_store(root2);
        _cleanup_strv_free_ char **ids = NULL, **ids2 = NULL, **tags2 = NULL;
        char *names[] = { (char *) "busybox:latest", (char *) "other:2", NULL };
        _cleanup_close_ int out = memfd_create("saved", MFD_CLOEXEC);
        TImage imgs[2];
        TBuf ar, saved;

        two_images(imgs);
        t_docker_archive(&ar, imgs, 2, 0);
        load_buf_pipe(s1, &ar, 0, &ids, NULL);
        ck_assert_int_eq(image_save(s1, names, (ImageArchiveFormat) _i, out, NULL), 0);
        t_buf_from_fd(out, &saved);
        load_buf_pipe(s2, &saved, 0, &ids2, &tags2);
        ck_assert_uint_eq(strv_length(ids2), 2);
        ck_assert(strv_contains(ids2, ids[0]));
        ck_assert(strv_contains(ids2, ids[1]));
        ck_assert(strv_contains(tags2, "docker.io/library/busybox:latest"));
        ck_assert(strv_contains(tags2, "docker.io/library/other:2"));
        STRV_FOREACH(id, ids) {
                _cleanup_(image_freep) Image *a = NULL, *b = NULL;
                ck_assert_int_eq(store_resolve_image(s1, *id, &a), 0);
                ck_assert_int_eq(store_resolve_image(s2, *id, &b), 0);
                ck_assert_uint_eq(strv_length(a->layer_digests), strv_length(b->layer_digests));
                for (size_t i = 0; a->layer_digests[i]; i++)
                        ck_assert_str_eq(a->layer_digests[i], b->layer_digests[i]);
                ck_assert_str_eq(a->manifest_digest, b->manifest_digest);
        }
        check_image_a(s2, "busybox:latest");
        tbuf_done(&ar);
        tbuf_done(&saved);
        t_image_done(&imgs[0]);
        t_image_done(&imgs[1]);
        t_rmdir(root1);
        t_rmdir(root2);
}
END_TEST

typedef struct Drainer {
        pthread_t thread;
        int fd;
        TBuf buf;
} Drainer;

static void *drain(void *userdata) {
        Drainer *d = userdata;

        (void) read_full_fd(d->fd, 1 << 30, &d->buf.data, &d->buf.size);
        return NULL;
}

/* Save into an O_NONBLOCK pipe a thread drains; a raised cancel flag stops a save. */
START_TEST(test_save_pipe_and_cancel) {
        char *root = t_mkdtemp(), *root2 = t_mkdtemp();
        _cleanup_(store_freep) Store *s = t_store(root), *s2 = t_store(root2);
        _cleanup_strv_free_ char **ids = NULL, **ids2 = NULL;
        char *names[] = { (char *) "busybox", NULL };
        volatile int cancel = 1;
        StoreIoOptions opts = { .cancel = &cancel };
        Drainer d = {};
        TImage imgs[2];
        TBuf ar;
        int p[2];

        two_images(imgs);
        t_docker_archive(&ar, imgs, 1, 1);
        load_buf_pipe(s, &ar, 0, &ids, NULL);
        ck_assert_int_eq(pipe2(p, O_CLOEXEC), 0);
        ck_assert_int_eq(fcntl(p[1], F_SETFL, O_NONBLOCK), 0);
        ck_assert_int_eq(image_save(s, names, IMAGE_ARCHIVE_OCI, p[1], &opts), -ECANCELED);
        d.fd = p[0];
        ck_assert_int_eq(pthread_create(&d.thread, NULL, drain, &d), 0);
        cancel = 0;
        ck_assert_int_eq(image_save(s, names, IMAGE_ARCHIVE_OCI, p[1], &opts), 0);
        close(p[1]);
        pthread_join(d.thread, NULL);
        close(p[0]);
        /* The cancelled save wrote nothing: what came through is one whole oci-archive. */
        load_buf_pipe(s2, &d.buf, 0, &ids2, NULL);
        ck_assert_str_eq(ids2[0], ids[0]);
        tbuf_done(&d.buf);
        ck_assert_int_eq(store_remove_image(s2, ids[0], true, NULL, NULL), 0);
        ids2 = strv_free(ids2);
        ck_assert_int_eq(pipe2(p, O_CLOEXEC), 0);
        ck_assert_int_eq(fcntl(p[1], F_SETFL, O_NONBLOCK), 0);
        d = (Drainer) { .fd = p[0] };
        ck_assert_int_eq(pthread_create(&d.thread, NULL, drain, &d), 0);
        ck_assert_int_eq(image_save(s, names, IMAGE_ARCHIVE_DOCKER, p[1], NULL), 0);
        close(p[1]);
        pthread_join(d.thread, NULL);
        close(p[0]);
        load_buf_pipe(s2, &d.buf, 0, &ids2, NULL);
        ck_assert_str_eq(ids2[0], ids[0]);
        tbuf_done(&d.buf);
        tbuf_done(&ar);
        t_image_done(&imgs[0]);
        t_image_done(&imgs[1]);
        t_rmdir(root);
        t_rmdir(root2);
}
END_TEST

START_TEST(test_import) {
        char *root = t_mkdtemp();
        _cleanup_(store_freep) Store *s = t_store(root);
        _cleanup_(image_freep) Image *img = NULL;
        _cleanup_free_ char *id = NULL, *before = NULL, *after = NULL;
        _cleanup_strv_free_ char **paths = NULL;
        char *changes[] = { (char *) "CMD /bin/sh", (char *) "ENV A=1 B=\"two words\"", (char *) "WORKDIR /srv",
                            (char *) "EXPOSE 80", (char *) "LABEL k=v", (char *) "USER nobody",
                            (char *) "STOPSIGNAL SIGINT", (char *) "ENTRYPOINT [\"/init\"]", NULL };
        char *bad[] = { (char *) "FROM scratch", NULL };
        int fd;

        fixtures();
        fd = t_memfd_from(&base_gz.blob);
        ck_assert_int_eq(image_import(s, fd, "imported:1", changes, NULL, &id), 0);
        close(fd);
        ck_assert_int_eq(store_resolve_image(s, "imported:1", &img), 0);
        ck_assert_str_eq(img->id, id);
        ck_assert_str_eq(img->config.cmd[0], "/bin/sh");
        ck_assert_str_eq(img->config.cmd[1], "-c");
        ck_assert_str_eq(img->config.cmd[2], "/bin/sh");
        ck_assert_str_eq(img->config.entrypoint[0], "/init");
        ck_assert(strv_contains(img->config.env, "B=two words"));
        ck_assert_str_eq(img->config.working_dir, "/srv");
        ck_assert_str_eq(img->config.exposed_ports[0], "80/tcp");
        ck_assert_str_eq(img->config.user, "nobody");
        ck_assert_str_eq(img->config.stop_signal, "SIGINT");
        ck_assert_str_eq(img->config.diff_ids[0], base_gz.diff_id);
        ck_assert_int_eq(store_image_layer_paths(s, id, &paths), 0);
        _cleanup_free_ char *sh = strjoin(paths[0], "/bin/sh");
        ck_assert_int_eq(access(sh, F_OK), 0);
        before = t_list_store(root);
        fd = t_memfd_from(&base_gz.blob);
        ck_assert_int_eq(image_import(s, fd, "x", bad, NULL, NULL), -EINVAL);
        ck_assert_ptr_nonnull(strstr(store_last_error(), "FROM"));
        close(fd);
        after = t_list_store(root);
        ck_assert_str_eq(before, after);
        t_rmdir(root);
}
END_TEST

/* What a crash leaves (a staging dir, a layer and a blob nobody references) goes at open. */
START_TEST(test_gc_after_crash) {
        char *root = t_mkdtemp();
        Store *s = t_store(root);
        _cleanup_free_ char *before = NULL, *after = NULL, *p = NULL;
        _cleanup_strv_free_ char **ids = NULL, **paths = NULL;
        TImage imgs[2];
        TBuf ar;

        two_images(imgs);
        t_docker_archive(&ar, imgs, 1, 0);
        load_buf_pipe(s, &ar, 0, &ids, NULL);
        before = t_list_store(root);
        store_free(s);
        p = strjoin(root, "/tmp/op-crashed/l1/diff");
        ck_assert_int_eq(mkdir_p(p, 0755), 0);
        free(p);
        p = strjoin(root, "/layers/1111111111111111111111111111111111111111111111111111111111111111/diff/x");
        ck_assert_int_eq(mkdir_p(p, 0755), 0);
        free(p);
        p = strjoin(root, "/blobs/sha256/2222222222222222222222222222222222222222222222222222222222222222");
        ck_assert_int_eq(write_file_atomic_at(AT_FDCWD, p, "x", 1, 0600), 0);
        free(p);
        p = strjoin(root, "/images/.#abc.json.1234");
        ck_assert_int_eq(write_file_atomic_at(AT_FDCWD, p, "{", 1, 0600), 0);
        s = t_store(root);
        after = t_list_store(root);
        ck_assert_str_eq(before, after);
        ck_assert_int_eq(store_image_layer_paths(s, ids[0], &paths), 0);
        ck_assert_uint_eq(strv_length(paths), 2);
        store_free(s);
        tbuf_done(&ar);
        t_image_done(&imgs[0]);
        t_image_done(&imgs[1]);
        t_rmdir(root);
}
END_TEST

/* A hardlink to a file of a lower layer: the parallel first pass cannot
 * resolve it, the sequential retry with the lower layers does. */
START_TEST(test_hardlink_to_lower_layer) {
        static const char *const l0[] = { "f:data=payload", NULL };
        static const char *const l1[] = { "h:link=data", NULL };
        static const char *const l2[] = { "f:x=1", NULL };
        char *root = t_mkdtemp();
        _cleanup_(store_freep) Store *s = t_store(root);
        _cleanup_strv_free_ char **ids = NULL, **paths = NULL;
        _cleanup_free_ char *config = NULL, *link = NULL, *content = NULL;
        TLayer layers[3];
        TImage img;
        TBuf ar;

        t_layer(&layers[0], 1, l0);
        t_layer(&layers[1], 0, l1);
        t_layer(&layers[2], 2, l2);
        config = t_config(oci_host_architecture(), NULL, layers, 3);
        img = (TImage) { .config = strdup(config), .layers = { &layers[0], &layers[1], &layers[2] }, .n = 3,
                         .tags = "[\"hl:1\"]" };
        t_docker_archive(&ar, &img, 1, 1);
        load_buf_pipe(s, &ar, 0, &ids, NULL);
        ck_assert_int_eq(store_image_layer_paths(s, ids[0], &paths), 0);
        link = strjoin(paths[1], "/link");
        ck_assert_int_eq(read_full_file_at(AT_FDCWD, link, 100, &content, NULL), 0);
        ck_assert_str_eq(content, "payload");
        tbuf_done(&ar);
        for (size_t i = 0; i < 3; i++)
                tbuf_done(&layers[i].blob);
        t_image_done(&img);
        t_rmdir(root);
}
END_TEST

/* A directory a layer only implies ("srv/b" without "srv/") takes owner,
 * mode and times from the lower layer. The parallel first pass has no lower
 * layers: it must not keep what it made up (root's 0755, the current time).
 * Found by tests/integration/rootfs-parity.sh with umoci-made layers. */
START_TEST(test_implied_dir_from_lower_layer) {
        static const char *const l0[] = { "d:srv", "f:srv/a=1", NULL };
        static const char *const l1[] = { "f:srv/b=2", NULL };
        char *root = t_mkdtemp();
        _cleanup_(store_freep) Store *s = t_store(root);
        _cleanup_strv_free_ char **ids = NULL, **paths = NULL;
        _cleanup_free_ char *config = NULL, *srv = NULL;
        struct stat st;
        TLayer layers[2];
        TImage img;
        TBuf ar;

        t_layer(&layers[0], 1, l0);
        t_layer(&layers[1], 0, l1);
        config = t_config(oci_host_architecture(), NULL, layers, 2);
        img = (TImage) { .config = strdup(config), .layers = { &layers[0], &layers[1] }, .n = 2,
                         .tags = "[\"implied:1\"]" };
        t_docker_archive(&ar, &img, 1, 1);
        load_buf_pipe(s, &ar, 0, &ids, NULL);
        ck_assert_int_eq(store_image_layer_paths(s, ids[0], &paths), 0);
        srv = strjoin(paths[0], "/srv");
        ck_assert_int_eq(lstat(srv, &st), 0);
        ck_assert(S_ISDIR(st.st_mode));
        /* t_add() writes every entry with mtime 1700000000. */
        ck_assert_int_eq(st.st_mtim.tv_sec, 1700000000);
        ck_assert_int_eq(st.st_mode & 07777, 0755);
        tbuf_done(&ar);
        for (size_t i = 0; i < 2; i++)
                tbuf_done(&layers[i].blob);
        t_image_done(&img);
        t_rmdir(root);
}
END_TEST

/* Limits: too many layers, JSON too large; the store stays as it was. */
START_TEST(test_limits) {
        char *root = t_mkdtemp();
        StoreLimits lim = store_limits_default;
        _cleanup_(store_freep) Store *s = NULL;
        _cleanup_free_ char *before = NULL, *after = NULL;
        TImage imgs[2];
        TBuf ar;

        if (_i == 0)
                lim.max_layers = 1;
        else
                lim.max_json_size = 64;
        ck_assert_int_eq(store_open(AT_FDCWD, root, &lim, &s), 0);
        two_images(imgs);
        t_docker_archive(&ar, imgs, 2, 0);
        before = t_list_store(root);
        load_buf_pipe(s, &ar, _i == 0 ? -E2BIG : -EFBIG, NULL, NULL);
        ck_assert_ptr_nonnull(strstr(store_last_error(), _i == 0 ? "layers" : "limit"));
        after = t_list_store(root);
        ck_assert_str_eq(before, after);
        tbuf_done(&ar);
        t_image_done(&imgs[0]);
        t_image_done(&imgs[1]);
        t_rmdir(root);
}
END_TEST

/* A loader process SIGKILLed half-way leaves nothing visible, and the next
 * open reclaims its staging directory. */
START_TEST(test_sigkill_mid_load) {
        char *root = t_mkdtemp();
        _cleanup_free_ char *before = NULL, *after = NULL;
        Store *s = t_store(root);
        TImage imgs[2];
        TBuf ar;
        int p[2], status;
        pid_t pid;

        two_images(imgs);
        t_docker_archive(&ar, imgs, 2, 0);
        store_free(s);
        before = t_list_store(root);
        ck_assert_int_eq(pipe2(p, O_CLOEXEC), 0);
        pid = fork();
        ck_assert_int_ge(pid, 0);
        if (pid == 0) {
                Store *child = NULL;
                close(p[1]);
                if (store_open(AT_FDCWD, root, NULL, &child) < 0)
                        _exit(1);
                (void) image_load(child, p[0], NULL, NULL, NULL);
                _exit(2);
        }
        close(p[0]);
        /* Half of the archive, then the writer stalls: the child is mid-load. */
        ck_assert_int_eq(write(p[1], ar.data, ar.size / 2), (ssize_t) (ar.size / 2));
        for (unsigned i = 0; i < 200 && count_dir(root, "tmp") == 0; i++)
                usleep(10000);
        usleep(100000);
        ck_assert_uint_eq(count_dir(root, "tmp"), 1);
        ck_assert_int_eq(kill(pid, SIGKILL), 0);
        ck_assert_int_eq(waitpid(pid, &status, 0), pid);
        ck_assert(WIFSIGNALED(status));
        close(p[1]);
        s = t_store(root);
        ck_assert_uint_eq(count_dir(root, "tmp"), 0);
        after = t_list_store(root);
        ck_assert_str_eq(before, after);
        store_free(s);
        tbuf_done(&ar);
        t_image_done(&imgs[0]);
        t_image_done(&imgs[1]);
        t_rmdir(root);
}
END_TEST

static void count_progress(uint64_t done, uint64_t total, const char *current, void *userdata) {
        (*(unsigned *) userdata)++;
}

START_TEST(test_cancel_and_progress) {
        char *root = t_mkdtemp();
        _cleanup_(store_freep) Store *s = t_store(root);
        _cleanup_free_ char *before = NULL, *after = NULL;
        volatile int cancel = 1;
        unsigned calls = 0;
        StoreIoOptions opts = { .progress = count_progress, .userdata = &calls, .cancel = &cancel };
        TImage imgs[2];
        TBuf ar;
        int fd;

        two_images(imgs);
        t_docker_archive(&ar, imgs, 2, 0);
        before = t_list_store(root);
        fd = t_memfd_from(&ar);
        ck_assert_int_eq(image_load(s, fd, &opts, NULL, NULL), -ECANCELED);
        after = t_list_store(root);
        ck_assert_str_eq(before, after);
        cancel = 0;
        ck_assert_int_eq(lseek(fd, 0, SEEK_SET), 0);
        ck_assert_int_eq(image_load(s, fd, &opts, NULL, NULL), 0);
        ck_assert_uint_gt(calls, 0);
        close(fd);
        tbuf_done(&ar);
        t_image_done(&imgs[0]);
        t_image_done(&imgs[1]);
        t_rmdir(root);
}
END_TEST

/* --- Attacks on the limits ------------------------------------------------ */

static uint64_t blocks_total;

static int add_blocks(const char *path, const struct stat *st, int type, struct FTW *ftw) {
        blocks_total += (uint64_t) st->st_blocks * 512;
        return 0;
}

static uint64_t disk_usage(const char *root) {
        blocks_total = 0;
        ck_assert_int_eq(nftw(root, add_blocks, 16, FTW_PHYS), 0);
        return blocks_total;
}

/* Loads a docker-archive of one image with these layers; expects error. */
static void load_attack(Store *s, const char *root, TLayer *layers, size_t n, int error, const char *message) {
        _cleanup_free_ char *config = t_config(oci_host_architecture(), NULL, layers, n);
        _cleanup_free_ char *before = t_list_store(root), *after = NULL;
        uint64_t usage = disk_usage(root);
        TImage img = { .config = config, .n = n, .tags = "[\"attack:1\"]" };
        TBuf ar;

        for (size_t i = 0; i < n; i++)
                img.layers[i] = &layers[i];
        t_docker_archive(&ar, &img, 1, 1);
        load_buf_pipe(s, &ar, error, NULL, NULL);
        if (!strstr(strempty(store_last_error()), message))
                ck_abort_msg("message \"%s\" lacks \"%s\"", strempty(store_last_error()), message);
        /* Nothing left: no staging directory, no layer, no blob. */
        after = t_list_store(root);
        ck_assert_str_eq(before, after);
        ck_assert_uint_lt(disk_usage(root), usage + (1 << 20));
        tbuf_done(&ar);
}

static void t_layer_raw(TLayer *l, TarBuf *plain) {
        l->blob = (TBuf) { .data = plain->data, .size = plain->size };
        ck_assert_int_eq(sha256_digest_buffer(plain->data, plain->size, l->diff_id), 0);
        strcpy(l->digest, l->diff_id);
        *plain = (TarBuf) {};
}

/* A layer of 2 KB whose sparse member declares 1 TiB. */
START_TEST(test_attack_sparse_layer) {
        static const uint64_t map[][2] = { { 0, 512 } };
        char *root = t_mkdtemp();
        _cleanup_(store_freep) Store *s = t_store(root);
        TarBuf plain = {};
        TLayer layer;

        tar_gnu_sparse(&plain, "etc/big", UINT64_C(1) << 40, map, 1);
        tar_end(&plain);
        t_layer_raw(&layer, &plain);
        ck_assert_uint_lt(layer.blob.size, 4096);
        load_attack(s, root, &layer, 1, -EFBIG, "'etc/big': a sparse file (holes included) of 1099511627776 bytes");
        tbuf_done(&layer.blob);
        t_rmdir(root);
}
END_TEST

/* Hardlinks to files of the layers below copy them up: 5.7 MB in a layer of
 * a few KB, past a limit of 4 MiB that each layer's own files respect. */
START_TEST(test_attack_copy_up_layer) {
        _cleanup_free_ char *big = malloc(1900001), *fa = NULL, *fb = NULL, *fc = NULL;
        const char *l0[] = { NULL, NULL, NULL }, *l1[] = { NULL, NULL };
        static const char *const l2[] = { "h:la=a", "h:lb=b", "h:lc=c", NULL };
        char *root = t_mkdtemp();
        StoreLimits lim = store_limits_default;
        _cleanup_(store_freep) Store *s = NULL;
        TLayer layers[3];

        lim.unpack_threads = 2;
        lim.layer.max_uncompressed_size = 4 << 20;
        ck_assert_int_eq(store_open(AT_FDCWD, root, &lim, &s), 0);
        memset(big, 'z', 1900000);
        big[1900000] = 0;
        fa = strjoin("f:a=", big);
        fb = strjoin("f:b=", big);
        fc = strjoin("f:c=", big);
        l0[0] = fa;
        l0[1] = fb;
        l1[0] = fc;
        t_layer(&layers[0], 1, l0);
        t_layer(&layers[1], 1, l1);
        t_layer(&layers[2], 0, l2);
        ck_assert_uint_lt(layers[2].blob.size, 16384);
        load_attack(s, root, layers, 3, -EFBIG, "'lc': copying up a file of a lower layer of 1900000 bytes");
        for (size_t i = 0; i < 3; i++)
                tbuf_done(&layers[i].blob);
        t_rmdir(root);
}
END_TEST

/* 4 MiB of "[{},{},...]" cost jansson 300 MiB: refused before parsing. */
START_TEST(test_attack_json_nodes) {
        const size_t n = (4 << 20) - 16;
        _cleanup_free_ char *json = malloc(n + 1);
        char *root = t_mkdtemp();
        _cleanup_(store_freep) Store *s = t_store(root);
        struct archive *a;
        TBuf ar;
        long mark;

        size_t i = 1;

        json[0] = '[';
        for (; i + 6 < n; i += 3)
                memcpy(json + i, "{},", 3);
        memcpy(json + i, "{}]", 4);
        a = t_writer(&ar, 1);
        t_add_str(a, "manifest.json", json);
        t_finish(a);
        ck_assert_uint_lt(ar.size, 64 * 1024);
        mark = tar_memory_mark();
        load_buf_pipe(s, &ar, -E2BIG, NULL, NULL);
        ck_assert_msg(strstr(store_last_error(), "JSON values"), "%s", store_last_error());
        tar_assert_memory_below(mark, 32 << 20);
        tbuf_done(&ar);
        t_rmdir(root);
}
END_TEST

/* The names of an archive's members stay in memory while it loads. */
START_TEST(test_attack_member_names) {
        char *root = t_mkdtemp();
        _cleanup_(store_freep) Store *s = t_store(root);
        char name[4100];
        struct archive *a;
        TBuf ar;
        long mark;

        /* One name past the path limit. */
        memset(name, 'n', 4097);
        name[4097] = 0;
        a = t_writer(&ar, 1);
        t_add_str(a, name, "x");
        t_finish(a);
        load_buf_pipe(s, &ar, -E2BIG, NULL, NULL);
        ck_assert_msg(strstr(store_last_error(), "path longer than the limit of 4096"), "%s", store_last_error());
        tbuf_done(&ar);

        /* 5,000 names of 4,000 bytes: 20 MB of names in 100 KB of gzip. */
        a = t_writer(&ar, 1);
        for (int i = 0; i < 5000; i++) {
                memset(name, 'n', 3990);
                snprintf(name + 3990, sizeof name - 3990, "%05d", i);
                t_add_str(a, name, "");
        }
        t_finish(a);
        ck_assert_uint_lt(ar.size, 1 << 20);
        mark = tar_memory_mark();
        load_buf_pipe(s, &ar, -E2BIG, NULL, NULL);
        ck_assert_msg(strstr(store_last_error(), "names of the archive's members"), "%s", store_last_error());
        tar_assert_memory_below(mark, 32 << 20);
        ck_assert_uint_eq(count_dir(root, "tmp"), 0);
        tbuf_done(&ar);
        t_rmdir(root);
}
END_TEST

/* The archive itself: a member whose sparse map has 2.1 million extents
 * (50 MB of tar in 240 KB of gzip) cost libarchive 100 MiB while reading
 * its header. */
START_TEST(test_attack_archive_headers) {
        const size_t n = 4 + 21 * 100000;
        _cleanup_free_ uint64_t (*map)[2] = calloc(n, sizeof *map);
        char *root = t_mkdtemp();
        _cleanup_(store_freep) Store *s = t_store(root);
        TarBuf plain = {};
        TBuf ar = {};
        long mark;

        ck_assert_ptr_nonnull(map);
        tar_gnu_sparse(&plain, "manifest.json", 1 << 20, (const uint64_t (*)[2]) map, n);
        tar_end(&plain);
        t_compress(plain.data, plain.size, 1, &ar);
        free(plain.data);
        ck_assert_uint_lt(ar.size, 1 << 20);
        /* The load stops reading long before the feeder is done. */
        signal(SIGPIPE, SIG_IGN);
        mark = tar_memory_mark();
        load_buf_pipe(s, &ar, -E2BIG, NULL, NULL);
        ck_assert_msg(strstr(store_last_error(), "tar headers of one archive member"), "%s", store_last_error());
        tar_assert_memory_below(mark, 32 << 20);
        ck_assert_uint_eq(count_dir(root, "tmp"), 0);
        tbuf_done(&ar);
        t_rmdir(root);
}
END_TEST

/* xz is not read: libarchive lets a 160 KB stream ask liblzma for a 1 GiB
 * dictionary (measured: 1 GiB of resident memory). */
START_TEST(test_attack_xz_refused) {
        char *root = t_mkdtemp();
        _cleanup_(store_freep) Store *s = t_store(root);
        TImage imgs[2];
        TBuf plain, ar;

        /* A good archive, which loads uncompressed. */
        two_images(imgs);
        t_docker_archive(&plain, imgs, 1, 0);
        t_compress(plain.data, plain.size, 3, &ar);
        load_buf_pipe(s, &ar, -EBADMSG, NULL, NULL);
        ck_assert_uint_eq(count_dir(root, "images"), 0);
        load_buf_pipe(s, &plain, 0, NULL, NULL);
        tbuf_done(&plain);
        ck_assert_uint_eq(count_dir(root, "tmp"), 0);
        tbuf_done(&ar);
        t_image_done(&imgs[0]);
        t_image_done(&imgs[1]);
        t_rmdir(root);
}
END_TEST

int main(void) {
        Suite *s = suite_create("image-load");
        TCase *tc = tcase_create("core");

        if (geteuid() != 0) {
                fprintf(stderr, "Needs root (whiteouts are device nodes): skipping.\n");
                return 77;
        }
        tcase_set_timeout(tc, 60);
        tcase_add_unchecked_fixture(tc, t_suite_setup, t_suite_teardown);
        tcase_add_loop_test(tc, test_docker_archive_shared, 0, 2);
        tcase_add_test(tc, test_oci_archive);
        tcase_add_test(tc, test_oci_platforms);
        tcase_add_test(tc, test_oci_layout_dir);
        tcase_add_test(tc, test_docker25_archive);
        tcase_add_loop_test(tc, test_errors_leave_store_unchanged, 0, (int) ELEMENTSOF(defects));
        tcase_add_loop_test(tc, test_save_roundtrip, 0, _IMAGE_ARCHIVE_FORMAT_MAX);
        tcase_add_test(tc, test_import);
        tcase_add_test(tc, test_save_pipe_and_cancel);
        tcase_add_test(tc, test_gc_after_crash);
        tcase_add_test(tc, test_sigkill_mid_load);
        tcase_add_test(tc, test_cancel_and_progress);
        tcase_add_test(tc, test_hardlink_to_lower_layer);
        tcase_add_test(tc, test_implied_dir_from_lower_layer);
        tcase_add_loop_test(tc, test_limits, 0, 2);
        tcase_add_test(tc, test_attack_sparse_layer);
        tcase_add_test(tc, test_attack_copy_up_layer);
        tcase_add_test(tc, test_attack_json_nodes);
        tcase_add_test(tc, test_attack_member_names);
        tcase_add_test(tc, test_attack_archive_headers);
        tcase_add_test(tc, test_attack_xz_refused);
        suite_add_tcase(s, tc);
        return check_run_suite(s);
}
