/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Pull and push (lib/registry/registry-pull.c, registry-push.c) against an
 * in-memory registry behind the HTTP client's interface
 * (registry-http-fake.c): streaming through the unpacker with pauses, the
 * sequential pass for layers that need their lower layers, one request for
 * an image the store has, digest mismatches refused with the store
 * unchanged, cancellation, partial blobs kept across pulls (resumed with
 * Range, dropped on a mismatch, bounded, never followed when planted),
 * push with HEAD, mount, monolithic and chunked uploads and the manifest's
 * digest kept. */
#include <fcntl.h>
#include <pthread.h>
#include <sys/file.h>
#include <sys/stat.h>

#include "check-util.h"
#include "image-test-util.h"

#include "fileio.h"
#include "registry-http-fake.h"
#include "registry.h"
#include "store.h"
#include "store-partial.h"
#include "sysinfo.h"

#define DOMAIN "fake.invalid:5000"
#define MT_DOCKER "application/vnd.docker.distribution.manifest.v2+json"

typedef struct TImage {
        TLayer layers[3];
        char *config, *config_digest;
        char *manifest, *manifest_digest;
} TImage;

static void t_image_done(TImage *t) {
        for (size_t i = 0; i < ELEMENTSOF(t->layers); i++)
                tbuf_done(&t->layers[i].blob);
        free(t->config);
        free(t->config_digest);
        free(t->manifest);
        free(t->manifest_digest);
}

static char *t_manifest(const TImage *t, const char *layer0_digest) {
        char *m = NULL;

        ck_assert_int_ge(asprintf(&m, "{\"schemaVersion\":2,\"mediaType\":\"" MT_DOCKER "\",\"config\":{\"mediaType\":"
                                  "\"application/vnd.docker.container.image.v1+json\",\"size\":%zu,\"digest\":\"%s\"},"
                                  "\"layers\":["
                                  "{\"mediaType\":\"application/vnd.docker.image.rootfs.diff.tar.gzip\",\"size\":%zu,\"digest\":\"%s\"},"
                                  "{\"mediaType\":\"application/vnd.docker.image.rootfs.diff.tar.gzip\",\"size\":%zu,\"digest\":\"%s\"},"
                                  "{\"mediaType\":\"application/vnd.docker.image.rootfs.diff.tar.gzip\",\"size\":%zu,\"digest\":\"%s\"}]}",
                                  strlen(t->config), t->config_digest,
                                  t->layers[0].blob.size, layer0_digest ?: t->layers[0].digest,
                                  t->layers[1].blob.size, t->layers[1].digest,
                                  t->layers[2].blob.size, t->layers[2].digest), 0);
        return m;
}

/* Three layers: a base, one that implies directories and hardlinks a file
 * of the base (both need the base to unpack right), and 10 MiB of noise
 * (pauses the transfer on a full pipe; chunked on push). */
static void t_image(TImage *t, const char *repo, const char *tag) {
        static const char *l0[] = { "d:etc", "d:usr", "d:usr/bin", "f:etc/hostname=berth\n", "f:usr/bin/tool=#!/bin/sh\n", NULL };
        static const char *l1[] = { "f:usr/bin/second=two\n", "h:usr/bin/tool-link=usr/bin/tool", NULL };
        _cleanup_free_ char *noise = malloc(10 * 1024 * 1024 + 1), *spec = NULL, *mpath = NULL;
        const char *l2[] = { "d:data", NULL, NULL };
        uint64_t x = 88172645463325252ULL;

        for (size_t i = 0; i < 10 * 1024 * 1024; i++) {
                x ^= x << 13, x ^= x >> 7, x ^= x << 17;
                noise[i] = (char) (1 + x % 255);   /* no NUL: t_layer's spec is a string */
        }
        noise[10 * 1024 * 1024] = 0;
        spec = strjoin("f:data/noise=", noise);
        l2[1] = spec;
        *t = (TImage) {};
        t_layer(&t->layers[0], 1, l0);
        t_layer(&t->layers[1], 1, l1);
        t_layer(&t->layers[2], 1, l2);
        t->config = t_config("amd64", NULL, t->layers, 3);
        t->config_digest = t_digest(t->config, strlen(t->config));
        t->manifest = t_manifest(t, NULL);
        t->manifest_digest = t_digest(t->manifest, strlen(t->manifest));
        for (size_t i = 0; i < 3; i++) {
                _cleanup_free_ char *p = strjoin("blobs/", t->layers[i].digest);
                fake_put(DOMAIN, repo, p, NULL, t->layers[i].blob.data, t->layers[i].blob.size);
        }
        {
                _cleanup_free_ char *p = strjoin("blobs/", t->config_digest);
                fake_put(DOMAIN, repo, p, NULL, t->config, strlen(t->config));
        }
        mpath = strjoin("manifests/", tag);
        fake_put(DOMAIN, repo, mpath, MT_DOCKER, t->manifest, strlen(t->manifest));
}

static Store *t_store(char **ret_dir) {
        Store *s = NULL;

        *ret_dir = t_mkdtemp();
        ck_assert_int_eq(store_open(AT_FDCWD, *ret_dir, NULL, &s), 0);
        return s;
}

START_TEST(test_pull_twice) {
        _cleanup_(registry_pull_result_done) RegistryPullResult res = {}, again = {};
        _cleanup_(store_freep) Store *s = NULL;
        _cleanup_strv_free_ char **paths = NULL;
        _cleanup_free_ char *dir = NULL, *data = NULL;
        TImage t;

        fake_reset();
        t_image(&t, "test/multi", "1");
        s = t_store(&dir);
        fake_requests = fake_pauses = 0;
        /* Chunks larger than the pipe: the transfer must pause. */
        fake_chunk = 4 * 1024 * 1024;
        ck_assert_int_eq(registry_pull(s, DOMAIN "/test/multi:1", NULL, &res), 0);
        fake_chunk = 16384;
        ck_assert_str_eq(res.image_id, t.config_digest);
        ck_assert_str_eq(res.reference, DOMAIN "/test/multi:1");
        ck_assert_str_eq(res.manifest_digest, t.manifest_digest);
        ck_assert(!res.was_present);
        ck_assert_uint_eq(fake_requests, 5);       /* manifest, config, three layers */
        ck_assert_uint_gt(fake_pauses, 0);         /* the 10 MiB layer outran the pipe */
        ck_assert_int_eq(store_image_layer_paths(s, res.image_id, &paths), 0);
        ck_assert_uint_eq(strv_length(paths), 3);
        /* The middle layer: its hardlink needed the base (sequential pass). */
        {
                _cleanup_free_ char *p = strjoin(paths[1], "/usr/bin/tool-link");
                ck_assert_int_eq(read_full_file_at(AT_FDCWD, p, 4096, &data, NULL), 0);
                ck_assert_str_eq(data, "#!/bin/sh\n");
        }
        /* Again: the store has it all, one request (the manifest). */
        fake_requests = 0;
        ck_assert_int_eq(registry_pull(s, DOMAIN "/test/multi:1", NULL, &again), 0);
        ck_assert_uint_eq(fake_requests, 1);
        ck_assert(again.was_present);
        ck_assert_str_eq(again.image_id, res.image_id);
        t_image_done(&t);
        t_rmdir(TAKE_PTR(dir));
}
END_TEST

static void t_refused(const char *ref, int error, const char *needle) {
        _cleanup_(store_freep) Store *s = NULL;
        _cleanup_free_ char *dir = NULL, *before = NULL, *after = NULL;
        RegistryPullResult res = {};

        s = t_store(&dir);
        before = t_list_store(dir);
        ck_assert_int_eq(registry_pull(s, ref, NULL, &res), error);
        ck_assert_msg(strstr(strempty(errmsg_last()), needle), "message: %s", strempty(errmsg_last()));
        ck_assert(strstr(errmsg_last(), DOMAIN));
        after = t_list_store(dir);
        ck_assert_str_eq(before, after);
        t_rmdir(TAKE_PTR(dir));
}

START_TEST(test_pull_alias) {
        _cleanup_(registry_pull_result_done) RegistryPullResult res = {};
        _cleanup_(registry_config_freep) RegistryConfig *config = NULL;
        _cleanup_(store_freep) Store *s = NULL;
        _cleanup_free_ char *dir = NULL, *conf = NULL, *file = NULL;
        RegistryOptions o = {};
        TImage t;

        fake_reset();
        t_image(&t, "test/multi", "7");
        conf = t_mkdtemp();
        file = strjoin(conf, "/test.conf");
        ck_assert_int_eq(write_string_file_atomic_at(AT_FDCWD, file, "[Aliases]\nmulti=" DOMAIN "/test/multi\n"), 0);
        ck_assert_int_eq(registry_config_load(conf, conf, &config), 0);
        o.config = config;
        s = t_store(&dir);
        ck_assert_int_eq(registry_pull(s, "multi:7", &o, &res), 0);
        ck_assert_str_eq(res.reference, DOMAIN "/test/multi:7");
        t_image_done(&t);
        t_rmdir(TAKE_PTR(dir));
        t_rmdir(TAKE_PTR(conf));
}
END_TEST

START_TEST(test_pull_limits) {
        _cleanup_(store_freep) Store *s = NULL;
        _cleanup_free_ char *dir = NULL, *before = NULL, *after = NULL;
        RegistryOptions o = { .max_config_size = 64 };
        RegistryPullResult res = {};
        TImage t;

        fake_reset();
        t_image(&t, "test/multi", "1");
        s = t_store(&dir);
        before = t_list_store(dir);
        ck_assert_int_eq(registry_pull(s, DOMAIN "/test/multi:1", &o, &res), -EFBIG);
        ck_assert(strstr(errmsg_last(), "config"));
        o = (RegistryOptions) { .max_manifest_size = 100 };
        ck_assert_int_eq(registry_pull(s, DOMAIN "/test/multi:1", &o, &res), -EFBIG);
        after = t_list_store(dir);
        ck_assert_str_eq(before, after);
        t_image_done(&t);
        t_rmdir(TAKE_PTR(dir));
}
END_TEST

START_TEST(test_pull_mismatch) {
        _cleanup_free_ char *bad = NULL, *p = NULL, *cfg = NULL, *m = NULL;
        TImage t;

        fake_reset();
        t_image(&t, "test/bad", "1");
        /* The last layer's bytes changed under the same digest. */
        p = strjoin("blobs/", t.layers[2].digest);
        bad = malloc(t.layers[2].blob.size);
        memcpy(bad, t.layers[2].blob.data, t.layers[2].blob.size);
        bad[t.layers[2].blob.size / 2] ^= 1;
        fake_put(DOMAIN, "test/bad", p, NULL, bad, t.layers[2].blob.size);
        t_refused(DOMAIN "/test/bad:1", -EBADMSG, t.layers[2].digest);
        ck_assert(strstr(errmsg_last(), "test/bad"));

        /* A config whose diff_id is not the layer's. */
        fake_put(DOMAIN, "test/bad", p, NULL, t.layers[2].blob.data, t.layers[2].blob.size);
        cfg = strdup(t.config);
        memcpy(strstr(cfg, t.layers[1].diff_id) + 7, "00", 2);
        free(t.config_digest);
        free(t.config);
        t.config_digest = t_digest(cfg, strlen(cfg));
        t.config = TAKE_PTR(cfg);
        free(p);
        p = strjoin("blobs/", t.config_digest);
        fake_put(DOMAIN, "test/bad", p, NULL, t.config, strlen(t.config));
        m = t_manifest(&t, NULL);
        fake_put(DOMAIN, "test/bad", "manifests/2", MT_DOCKER, m, strlen(m));
        t_refused(DOMAIN "/test/bad:2", -EBADMSG, "diff_id");

        /* A manifest asked for by digest that comes back as another. */
        free(p);
        p = strjoin("manifests/", t.manifest_digest);
        fake_put(DOMAIN, "test/bad", p, MT_DOCKER, m, strlen(m));
        free(bad);
        bad = strjoin(DOMAIN "/test/bad@", t.manifest_digest);
        t_refused(bad, -EBADMSG, "digest mismatch");
        t_image_done(&t);
}
END_TEST

START_TEST(test_pull_schema1) {
        static const char s1[] = "{\"schemaVersion\":1,\"name\":\"test/old\",\"tag\":\"1\",\"fsLayers\":[]}";

        fake_reset();
        fake_put(DOMAIN, "test/old", "manifests/1", "application/vnd.docker.distribution.manifest.v1+prettyjws",
                 s1, strlen(s1));
        t_refused(DOMAIN "/test/old:1", -EMEDIUMTYPE, "schema 1");
        t_refused(DOMAIN "/test/none:1", -ENOENT, "test/none");
}
END_TEST

static volatile int cancel_flag;

static void cancel_on_download(size_t index, size_t n, const char *digest, RegistryLayerState state, uint64_t done,
                               uint64_t total, void *userdata) {
        if (state == REGISTRY_LAYER_DOWNLOADING && done > 1024 * 1024)
                cancel_flag = 1;
}

START_TEST(test_pull_cancel) {
        _cleanup_(store_freep) Store *s = NULL;
        _cleanup_free_ char *dir = NULL, *before = NULL, *after = NULL;
        RegistryOptions o = { .cancel = &cancel_flag, .layer_progress = cancel_on_download };
        RegistryPullResult res = {};
        TImage t;

        fake_reset();
        t_image(&t, "test/multi", "1");
        s = t_store(&dir);
        before = t_list_store(dir);
        cancel_flag = 0;
        ck_assert_int_eq(registry_pull(s, DOMAIN "/test/multi:1", &o, &res), -ECANCELED);
        after = t_list_store(dir);
        ck_assert_str_eq(before, after);
        t_image_done(&t);
        t_rmdir(TAKE_PTR(dir));
}
END_TEST

/* ---- partial blobs ---- */

#define PARTIAL_MAX (64 * 1024 * 1024)

static char *t_partial_path(const char *dir, const TLayer *l) {
        return strjoin(dir, "/partial/", digest_hex(l->digest));
}

/* The partial blob's size, or -1 when there is none. */
static int64_t t_partial_size(const char *dir, const TLayer *l) {
        _cleanup_free_ char *p = t_partial_path(dir, l);
        struct stat st;

        if (lstat(p, &st) < 0) {
                ck_assert_int_eq(errno, ENOENT);
                return -1;
        }
        ck_assert(S_ISREG(st.st_mode));
        return (int64_t) st.st_size;
}

static uint64_t t_blob_bytes(const TImage *t) {
        return t->layers[0].blob.size + t->layers[1].blob.size + t->layers[2].blob.size;
}

static void cancel_at_half(size_t index, size_t n, const char *digest, RegistryLayerState state, uint64_t done,
                           uint64_t total, void *userdata) {
        if (index == 2 && state == REGISTRY_LAYER_DOWNLOADING && done >= total / 2)
                cancel_flag = 1;
}

/* A pull whose third layer stops at half: by the fake server (fail) or
 * cancelled; no image, the partial kept. */
static uint64_t t_pull_half(Store *s, const char *dir, const TImage *t, uint64_t max, bool fail) {
        _cleanup_free_ char *path = strjoin("blobs/", t->layers[2].digest);
        RegistryOptions o = { .max_partial_size = max };
        RegistryPullResult res = {};
        int64_t kept;

        cancel_flag = 0;
        if (fail) {
                fake_fail_path = path;
                fake_fail_at = t->layers[2].blob.size / 2;
        } else {
                o.cancel = &cancel_flag;
                o.layer_progress = cancel_at_half;
        }
        ck_assert_int_eq(registry_pull(s, DOMAIN "/test/multi:1", &o, &res), fail ? -ECONNRESET : -ECANCELED);
        fake_fail_path = NULL;
        ck_assert_int_eq(store_resolve_image(s, DOMAIN "/test/multi:1", NULL), -ENOENT);
        /* The small layers completed: nothing of theirs is kept. */
        ck_assert_int_eq(t_partial_size(dir, &t->layers[0]), -1);
        ck_assert_int_eq(t_partial_size(dir, &t->layers[1]), -1);
        kept = t_partial_size(dir, &t->layers[2]);
        if (max < t->layers[2].blob.size / 2) {
                ck_assert_int_eq(kept, -1);
                return 0;
        }
        ck_assert_int_ge(kept, (int64_t) t->layers[2].blob.size / 2);
        ck_assert_int_lt(kept, (int64_t) t->layers[2].blob.size);
        if (fail)
                ck_assert_int_eq(kept, (int64_t) t->layers[2].blob.size / 2);
        return (uint64_t) kept;
}

/* A pull that completes: the image right, no partial left. */
static void t_pull_ok(Store *s, const char *dir, const TImage *t) {
        _cleanup_(registry_pull_result_done) RegistryPullResult res = {};
        _cleanup_strv_free_ char **paths = NULL;
        _cleanup_free_ char *noise = NULL, *data = NULL;
        RegistryOptions o = { .max_partial_size = PARTIAL_MAX };
        size_t size;

        ck_assert_int_eq(registry_pull(s, DOMAIN "/test/multi:1", &o, &res), 0);
        ck_assert_str_eq(res.image_id, t->config_digest);
        ck_assert_int_eq(store_image_layer_paths(s, res.image_id, &paths), 0);
        noise = strjoin(paths[0], "/data/noise");
        ck_assert_int_eq(read_full_file_at(AT_FDCWD, noise, 16 << 20, &data, &size), 0);
        ck_assert_uint_eq(size, 10 * 1024 * 1024);
        for (size_t i = 0; i < 3; i++)
                ck_assert_int_eq(t_partial_size(dir, &t->layers[i]), -1);
}

/* Chunks of 256 KiB: fewer turns of the fake's loop, still many per layer. */
static void t_partial_setup(TImage *t, Store **s, char **dir) {
        fake_reset();
        fake_chunk = 256 * 1024;
        t_image(t, "test/multi", "1");
        *s = t_store(dir);
}

static void t_partial_done(TImage *t, char **dir) {
        fake_chunk = 16384;
        t_image_done(t);
        t_rmdir(TAKE_PTR(*dir));
}

START_TEST(test_partial_resume) {
        _cleanup_(store_freep) Store *s = NULL;
        _cleanup_free_ char *dir = NULL;
        uint64_t kept;
        TImage t;

        t_partial_setup(&t, &s, &dir);
        kept = t_pull_half(s, dir, &t, PARTIAL_MAX, false);
        /* Again: the kept bytes through the digest and the unpacker, the
         * rest asked for from where they end, and only the rest sent. */
        fake_ranges = 0;
        fake_streamed = 0;
        t_pull_ok(s, dir, &t);
        ck_assert_uint_eq(fake_ranges, 1);
        ck_assert_uint_eq(fake_last_range, kept);
        ck_assert_uint_eq(fake_streamed, t_blob_bytes(&t) - kept);
        t_partial_done(&t, &dir);
}
END_TEST

START_TEST(test_partial_tampered) {
        _cleanup_(store_freep) Store *s = NULL;
        _cleanup_free_ char *dir = NULL, *p = NULL;
        RegistryOptions o = { .max_partial_size = PARTIAL_MAX };
        RegistryPullResult res = {};
        TImage t;
        int fd;

        t_partial_setup(&t, &s, &dir);
        (void) t_pull_half(s, dir, &t, PARTIAL_MAX, true);
        p = t_partial_path(dir, &t.layers[2]);
        fd = open(p, O_WRONLY | O_CLOEXEC);
        ck_assert_int_ge(fd, 0);
        ck_assert_int_eq(pwrite(fd, "\x55\xaa", 2, 4096), 2);
        close(fd);
        /* The registry's rest on bytes that are not its own: a mismatch at
         * the end, no image, the partial gone. */
        fake_ranges = 0;
        ck_assert_int_eq(registry_pull(s, DOMAIN "/test/multi:1", &o, &res), -EBADMSG);
        ck_assert_msg(strstr(strempty(errmsg_last()), "digest mismatch"), "message: %s", strempty(errmsg_last()));
        ck_assert(strstr(errmsg_last(), t.layers[2].digest));
        ck_assert_uint_eq(fake_ranges, 1);
        ck_assert_int_eq(t_partial_size(dir, &t.layers[2]), -1);
        ck_assert_int_eq(store_resolve_image(s, DOMAIN "/test/multi:1", NULL), -ENOENT);
        /* Then from scratch. */
        fake_ranges = 0;
        fake_streamed = 0;
        t_pull_ok(s, dir, &t);
        ck_assert_uint_eq(fake_ranges, 0);
        ck_assert_uint_eq(fake_streamed, t_blob_bytes(&t));
        t_partial_done(&t, &dir);
}
END_TEST

static void t_age(const char *dir, const TLayer *l, uint64_t days) {
        _cleanup_free_ char *p = t_partial_path(dir, l);
        struct timespec ts[2] = { { .tv_sec = time(NULL) - (time_t) (days * 24 * 3600) } };

        ts[1] = ts[0];
        ck_assert_int_eq(utimensat(AT_FDCWD, p, ts, AT_SYMLINK_NOFOLLOW), 0);
}

START_TEST(test_partial_bounded) {
        _cleanup_(store_freep) Store *s = NULL;
        _cleanup_free_ char *dir = NULL;
        StorePartial *busy = NULL;
        uint64_t kept, reclaimed = 0;
        TImage t;

        t_partial_setup(&t, &s, &dir);
        /* Over the bound: dropped when the pull ends. */
        ck_assert_uint_eq(t_pull_half(s, dir, &t, 1024 * 1024, true), 0);
        /* No bound: nothing kept, ever. */
        ck_assert_uint_eq(t_pull_half(s, dir, &t, 0, true), 0);
        /* Older than a week: dropped. */
        kept = t_pull_half(s, dir, &t, PARTIAL_MAX, true);
        t_age(dir, &t.layers[2], 6);
        ck_assert_int_eq(store_partial_trim(s, PARTIAL_MAX, STORE_PARTIAL_MAX_AGE_USEC), 0);
        ck_assert_int_eq(t_partial_size(dir, &t.layers[2]), (int64_t) kept);
        t_age(dir, &t.layers[2], 8);
        ck_assert_int_eq(store_partial_trim(s, PARTIAL_MAX, STORE_PARTIAL_MAX_AGE_USEC), 0);
        ck_assert_int_eq(t_partial_size(dir, &t.layers[2]), -1);
        /* The oldest go first: another layer's, older, is the one dropped. */
        kept = t_pull_half(s, dir, &t, PARTIAL_MAX, true);
        ck_assert_int_eq(store_partial_open(s, t.layers[0].digest, 100, &busy), 0);
        ck_assert_int_eq(write(store_partial_fd(busy), "0123456789", 10), 10);
        busy = store_partial_free(busy);
        t_age(dir, &t.layers[0], 1);
        ck_assert_int_eq(store_partial_trim(s, kept + 5, STORE_PARTIAL_MAX_AGE_USEC), 0);
        ck_assert_int_eq(t_partial_size(dir, &t.layers[2]), (int64_t) kept);
        ck_assert_int_eq(t_partial_size(dir, &t.layers[0]), -1);
        /* prune takes them all. */
        ck_assert_int_eq(store_prune(s, false, NULL, &reclaimed), 0);
        ck_assert_uint_ge(reclaimed, kept);
        ck_assert_int_eq(t_partial_size(dir, &t.layers[2]), -1);
        t_partial_done(&t, &dir);
}
END_TEST

/* One another pull is writing is neither used nor touched. */
START_TEST(test_partial_busy) {
        _cleanup_(store_freep) Store *s = NULL;
        _cleanup_free_ char *dir = NULL;
        StorePartial *busy = NULL, *again = NULL;
        TImage t;

        t_partial_setup(&t, &s, &dir);
        ck_assert_int_eq(store_partial_open(s, t.layers[2].digest, t.layers[2].blob.size, &busy), 0);
        ck_assert_int_eq(write(store_partial_fd(busy), t.layers[2].blob.data, 4096), 4096);
        ck_assert_int_eq(store_partial_open(s, t.layers[2].digest, t.layers[2].blob.size, &again), -EBUSY);
        fake_ranges = 0;
        fake_streamed = 0;
        {
                _cleanup_(registry_pull_result_done) RegistryPullResult res = {};
                RegistryOptions o = { .max_partial_size = 1 };
                ck_assert_int_eq(registry_pull(s, DOMAIN "/test/multi:1", &o, &res), 0);
        }
        ck_assert_uint_eq(fake_ranges, 0);
        ck_assert_uint_eq(fake_streamed, t_blob_bytes(&t));
        /* Over the bound, but written: kept. */
        ck_assert_int_eq(t_partial_size(dir, &t.layers[2]), 4096);
        store_partial_drop(busy);
        ck_assert_int_eq(t_partial_size(dir, &t.layers[2]), -1);
        t_partial_done(&t, &dir);
}
END_TEST

/* What someone planted under a partial's name is removed, never followed,
 * opened or waited on. */
START_TEST(test_partial_planted) {
        _cleanup_(store_freep) Store *s = NULL;
        _cleanup_free_ char *dir = NULL, *target = NULL, *data = NULL, *p0 = NULL, *p1 = NULL, *p2 = NULL,
                            *junk = NULL, *inner = NULL;
        TImage t;

        t_partial_setup(&t, &s, &dir);
        target = strjoin(dir, "/outside");
        ck_assert_int_eq(write_string_file_atomic_at(AT_FDCWD, target, "precious"), 0);
        p0 = t_partial_path(dir, &t.layers[0]);
        p1 = t_partial_path(dir, &t.layers[1]);
        p2 = t_partial_path(dir, &t.layers[2]);
        junk = strjoin(dir, "/partial/junk");
        ck_assert_int_eq(symlink(target, p2), 0);
        ck_assert_int_eq(mkfifo(p1, 0600), 0);
        ck_assert_int_eq(mkdir(p0, 0700), 0);
        inner = strjoin(p0, "/x");
        ck_assert_int_eq(write_string_file_atomic_at(AT_FDCWD, inner, "x"), 0);
        ck_assert_int_eq(symlink(target, junk), 0);
        t_pull_ok(s, dir, &t);
        ck_assert_int_eq(read_full_file_at(AT_FDCWD, target, 64, &data, NULL), 0);
        ck_assert_str_eq(data, "precious");
        ck_assert_int_eq(access(junk, F_OK), -1);
        ck_assert_int_eq(access(p0, F_OK), -1);
        t_partial_done(&t, &dir);
}
END_TEST

static unsigned states[_REGISTRY_LAYER_STATE_MAX];

static void count_states(size_t index, size_t n, const char *digest, RegistryLayerState state, uint64_t done,
                         uint64_t total, void *userdata) {
        static RegistryLayerState last[8];
        static bool seen[8];

        if (index < 8 && seen[index] && last[index] == state)
                return;
        if (index < 8) {
                seen[index] = true;
                last[index] = state;
        }
        states[state]++;
}

START_TEST(test_push) {
        _cleanup_(registry_pull_result_done) RegistryPullResult res = {};
        _cleanup_(registry_push_result_done) RegistryPushResult pushed = {}, mounted = {}, again = {};
        _cleanup_(store_freep) Store *s = NULL;
        _cleanup_free_ char *dir = NULL;
        RegistryOptions o = { .layer_progress = count_states };
        const void *m;
        size_t n;
        TImage t;

        t_partial_setup(&t, &s, &dir);
        ck_assert_int_eq(registry_pull(s, DOMAIN "/test/multi:1", NULL, &res), 0);

        /* Another registry: everything uploaded, the 10 MiB layer in chunks. */
        memset(fake_by_method, 0, sizeof fake_by_method);
        ck_assert_int_eq(registry_push(s, DOMAIN "/test/multi:1", "other.invalid/me/copy:2", &o, &pushed), 0);
        ck_assert_str_eq(pushed.manifest_digest, t.manifest_digest);
        ck_assert_str_eq(pushed.reference, "other.invalid/me/copy:2");
        ck_assert_uint_eq(fake_by_method[1], 4);     /* HEAD of each blob */
        ck_assert_uint_eq(fake_by_method[3], 4);     /* POST of each */
        ck_assert_uint_eq(fake_by_method[4], 2);     /* PATCH: 10 MiB in 8 MiB chunks */
        ck_assert_uint_eq(fake_by_method[2], 5);     /* PUT: 4 blobs and the manifest */
        m = fake_get("other.invalid", "me/copy", "manifests/2", &n);
        ck_assert_ptr_nonnull(m);
        ck_assert_uint_eq(n, strlen(t.manifest));
        ck_assert(memcmp(m, t.manifest, n) == 0);
        for (size_t i = 0; i < 3; i++) {
                _cleanup_free_ char *p = strjoin("blobs/", t.layers[i].digest);
                const void *b = fake_get("other.invalid", "me/copy", p, &n);
                ck_assert_ptr_nonnull(b);
                ck_assert_uint_eq(n, t.layers[i].blob.size);
                ck_assert(memcmp(b, t.layers[i].blob.data, n) == 0);
        }
        ck_assert_uint_eq(states[REGISTRY_LAYER_DONE], 3);

        /* Same registry, other repository: mounted from the one pulled from. */
        memset(fake_by_method, 0, sizeof fake_by_method);
        memset(states, 0, sizeof states);
        ck_assert_int_eq(registry_push(s, res.image_id, DOMAIN "/test/mounted:3", &o, &mounted), 0);
        ck_assert_str_eq(mounted.manifest_digest, t.manifest_digest);
        ck_assert_uint_eq(fake_by_method[3], 4);     /* POST ?mount= */
        ck_assert_uint_eq(fake_by_method[4], 0);
        ck_assert_uint_eq(fake_by_method[2], 1);     /* only the manifest */
        ck_assert_uint_eq(states[REGISTRY_LAYER_MOUNTED], 3);

        /* Again: the registry has every blob. */
        memset(fake_by_method, 0, sizeof fake_by_method);
        memset(states, 0, sizeof states);
        ck_assert_int_eq(registry_push(s, res.image_id, "other.invalid/me/copy:2", &o, &again), 0);
        ck_assert_uint_eq(fake_by_method[3], 0);
        ck_assert_uint_eq(states[REGISTRY_LAYER_EXISTS], 3);

        ck_assert_int_eq(registry_push(s, res.image_id, NULL, &o, &again), -EINVAL);
        t_image_done(&t);
        t_rmdir(TAKE_PTR(dir));
}
END_TEST

START_TEST(test_pull_index) {
        _cleanup_(registry_pull_result_done) RegistryPullResult res = {}, again = {}, arm = {}, bydigest = {};
        _cleanup_(store_freep) Store *s = NULL;
        _cleanup_free_ char *dir = NULL, *index = NULL, *p = NULL, *ref = NULL;
        RegistryOptions o = { .platform = "linux/arm64" };
        TImage t;

        fake_reset();
        t_image(&t, "test/multi", "amd");
        ck_assert_int_ge(asprintf(&index, "{\"schemaVersion\":2,\"mediaType\":\"application/vnd.oci.image.index.v1+json\","
                                  "\"manifests\":[{\"mediaType\":\"" MT_DOCKER "\",\"digest\":\"%s\",\"size\":%zu,"
                                  "\"platform\":{\"os\":\"linux\",\"architecture\":\"%s\"}},"
                                  "{\"mediaType\":\"" MT_DOCKER "\",\"digest\":\"%s\",\"size\":%zu,"
                                  "\"platform\":{\"os\":\"linux\",\"architecture\":\"%s\"}}]}",
                                  t.manifest_digest, strlen(t.manifest), oci_host_architecture(),
                                  t.manifest_digest, strlen(t.manifest), "arm64"), 0);
        fake_put(DOMAIN, "test/multi", "manifests/multi", "application/vnd.oci.image.index.v1+json", index,
                 strlen(index));
        p = strjoin("manifests/", t.manifest_digest);
        fake_put(DOMAIN, "test/multi", p, MT_DOCKER, t.manifest, strlen(t.manifest));
        s = t_store(&dir);
        fake_requests = 0;
        ck_assert_int_eq(registry_pull(s, DOMAIN "/test/multi:multi", NULL, &res), 0);
        ck_assert_uint_eq(fake_requests, 6);       /* index, manifest, config, three layers */
        ck_assert_str_eq(res.manifest_digest, t.manifest_digest);
        ck_assert_str_eq(res.image_id, t.config_digest);
        /* Again: the index only; the platform's manifest is in the store. */
        fake_requests = 0;
        ck_assert_int_eq(registry_pull(s, DOMAIN "/test/multi:multi", NULL, &again), 0);
        ck_assert_uint_eq(fake_requests, 1);
        ck_assert(again.was_present);
        fake_requests = 0;
        ck_assert_int_eq(registry_pull(s, DOMAIN "/test/multi:multi", &o, &arm), 0);
        ck_assert_uint_eq(fake_requests, 1);
        o.platform = "linux/s390x";
        ck_assert_int_eq(registry_pull(s, DOMAIN "/test/multi:multi", &o, &arm), -ENODATA);
        ck_assert(strstr(errmsg_last(), "linux/arm64"));
        /* By digest: no tag, the repo digest reported (untagged first, so
         * that no tag vouches for it). */
        ck_assert_int_eq(store_untag_image(s, DOMAIN "/test/multi:multi"), 0);
        ref = strjoin(DOMAIN "/test/multi@", t.manifest_digest);
        ck_assert_int_eq(registry_pull(s, ref, NULL, &bydigest), 0);
        ck_assert_str_eq(bydigest.reference, ref);
        ck_assert_str_eq(bydigest.repo_digest, ref);
        /* ... and kept in the image's record, as docker shows it in RepoDigests. */
        {
                _cleanup_(image_freep) Image *img = NULL;

                ck_assert_int_eq(store_resolve_image(s, bydigest.image_id, &img), 0);
                ck_assert(strv_contains(img->repo_digests, ref));
        }
        t_image_done(&t);
        t_rmdir(TAKE_PTR(dir));
}
END_TEST

/* Three cases, which meson runs as three tests side by side (CK_RUN_CASE):
 * under the sanitizers each takes minutes. */
static TCase *registry_case(const char *name) {
        TCase *tc = tcase_create(name);

        tcase_add_unchecked_fixture(tc, t_suite_setup, t_suite_teardown);
        tcase_set_timeout(tc, 120);
        return tc;
}

int main(void) {
        Suite *s = suite_create("registry-pull");
        TCase *pull = registry_case("pull"), *partial = registry_case("partial"), *push = registry_case("push");

        tcase_add_test(pull, test_pull_twice);
        tcase_add_test(pull, test_pull_index);
        tcase_add_test(pull, test_pull_alias);
        tcase_add_test(pull, test_pull_limits);
        tcase_add_test(pull, test_pull_mismatch);
        tcase_add_test(pull, test_pull_schema1);
        tcase_add_test(pull, test_pull_cancel);
        tcase_add_test(partial, test_partial_resume);
        tcase_add_test(partial, test_partial_tampered);
        tcase_add_test(partial, test_partial_bounded);
        tcase_add_test(partial, test_partial_busy);
        tcase_add_test(partial, test_partial_planted);
        tcase_add_test(push, test_push);
        suite_add_tcase(s, pull);
        suite_add_tcase(s, partial);
        suite_add_tcase(s, push);
        return check_run_suite(s);
}
