/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "check-util.h"
#include "image-load.h"
#include "image-test-util.h"
#include "store.h"

/* Tiny distinct one-layer images made with image_import(). */
static char *t_import(Store *s, const char *tag, unsigned n) {
        char path[80], content[16];
        const char *spec[] = { path, NULL };
        _cleanup_free_ char *id = NULL;
        TLayer l;
        int fd;

        snprintf(content, sizeof content, "%u", n);
        snprintf(path, sizeof path, "f:file%u=%s", n, content);
        t_layer(&l, n % 3, spec);
        fd = t_memfd_from(&l.blob);
        ck_assert_int_eq(image_import(s, fd, tag, NULL, NULL, &id), 0);
        close(fd);
        tbuf_done(&l.blob);
        return TAKE_PTR(id);
}

static Store *t_open(const char *root) {
        Store *s = NULL;

        ck_assert_int_eq(store_open(AT_FDCWD, root, NULL, &s), 0);
        return s;
}

static size_t n_images(Store *s) {
        Image **l;
        size_t n;

        ck_assert_int_eq(store_list_images(s, &l, &n), 0);
        image_array_free(l, n);
        return n;
}

START_TEST(test_tag_untag_resolve) {
        char *root = t_mkdtemp();
        _cleanup_(store_freep) Store *s = t_open(root);
        _cleanup_free_ char *id = t_import(s, "one:1", 1);
        _cleanup_(image_freep) Image *img = NULL, *byid = NULL, *byshort = NULL, *bysha = NULL;
        char shortid[13], sha[80];

        ck_assert_int_eq(store_tag_image(s, "one:1", "quay.io/x/y:2"), 0);
        ck_assert_int_eq(store_tag_image(s, "one:1", "Bad:Name"), -EINVAL);
        ck_assert_int_eq(store_tag_image(s, "nothere", "z:1"), -ENOENT);
        ck_assert_int_eq(store_resolve_image(s, "quay.io/x/y:2", &img), 0);
        ck_assert_str_eq(img->id, id);
        ck_assert_uint_eq(strv_length(img->repo_tags), 2);
        ck_assert_int_eq(image_short_id(img, shortid), 0);
        ck_assert_int_eq(store_resolve_image(s, shortid, &byshort), 0);
        ck_assert_int_eq(store_resolve_image(s, id + 7, &byid), 0);
        snprintf(sha, sizeof sha, "sha256:%.20s", id + 7);
        ck_assert_int_eq(store_resolve_image(s, sha, &bysha), 0);
        ck_assert_str_eq(byshort->id, id);
        ck_assert_int_eq(store_untag_image(s, "quay.io/x/y:2"), 0);
        ck_assert_int_eq(store_untag_image(s, "quay.io/x/y:2"), -ENOENT);
        image_free(img);
        img = NULL;
        ck_assert_int_eq(store_resolve_image(s, "quay.io/x/y:2", &img), -ENOENT);
        ck_assert_ptr_nonnull(strstr(store_last_error(), "No such image"));
        /* Tagging moves a tag: the old image keeps its other tags. */
        _cleanup_free_ char *id2 = t_import(s, "two:1", 2);
        ck_assert_int_eq(store_tag_image(s, id2, "one:1"), 0);
        image_free(img);
        img = NULL;
        ck_assert_int_eq(store_resolve_image(s, "one", &img), -ENOENT);    /* one:latest */
        ck_assert_int_eq(store_resolve_image(s, "one:1", &img), 0);
        ck_assert_str_eq(img->id, id2);
        t_rmdir(root);
}
END_TEST

/* A damaged record (its config blob lost) hides only that image. */
START_TEST(test_list_skips_damaged) {
        char *root = t_mkdtemp();
        _cleanup_(store_freep) Store *s = t_open(root);
        _cleanup_free_ char *a = t_import(s, "a:1", 1), *b = t_import(s, "b:1", 2), *blob = NULL;
        _cleanup_(image_freep) Image *img = NULL;

        blob = strjoin(root, "/blobs/sha256/", a + 7);
        ck_assert_int_eq(unlink(blob), 0);
        ck_assert_uint_eq(n_images(s), 1);
        ck_assert_int_eq(store_resolve_image(s, "a:1", &img), -ENOENT);
        ck_assert_ptr_nonnull(strstr(store_last_error(), "missing"));
        t_rmdir(root);
}
END_TEST

START_TEST(test_short_id_ambiguity) {
        char *root = t_mkdtemp();
        _cleanup_(store_freep) Store *s = t_open(root);
        _cleanup_strv_free_ char **ids = NULL;
        char prefix[2] = {};

        /* 17 images: two share a first hex digit (pigeonhole). */
        for (unsigned i = 0; i < 17 && !prefix[0]; i++) {
                _cleanup_free_ char *id = t_import(s, NULL, 100 + i);
                STRV_FOREACH(o, ids)
                        if ((*o)[7] == id[7])
                                prefix[0] = id[7];
                ck_assert_int_eq(strv_extend(&ids, id), 0);
        }
        ck_assert(prefix[0]);
        _cleanup_(image_freep) Image *img = NULL;
        ck_assert_int_eq(store_resolve_image(s, prefix, &img), -ENOTUNIQ);
        ck_assert_ptr_nonnull(strstr(store_last_error(), "ambiguous"));
        ck_assert_int_eq(store_resolve_image(s, ids[0] + 7, &img), 0);
        t_rmdir(root);
}
END_TEST

START_TEST(test_remove_like_rmi) {
        char *root = t_mkdtemp();
        _cleanup_(store_freep) Store *s = t_open(root);
        _cleanup_free_ char *id = t_import(s, "a:1", 1), *empty = NULL;
        _cleanup_strv_free_ char **untagged = NULL, **deleted = NULL;

        empty = t_list_store(root);
        ck_assert_int_eq(store_tag_image(s, "a:1", "b:1"), 0);
        /* By id with two tags: refused without force. */
        ck_assert_int_eq(store_remove_image(s, id, false, NULL, NULL), -EEXIST);
        /* By one of two tags: only untags. */
        ck_assert_int_eq(store_remove_image(s, "b:1", false, &untagged, &deleted), 0);
        ck_assert_str_eq(untagged[0], "b:1");
        ck_assert_uint_eq(strv_length(deleted), 0);
        ck_assert_uint_eq(n_images(s), 1);
        /* Held: refused; with force only untagged, layers kept. */
        ck_assert_int_eq(store_hold_image(s, id, "container1"), 0);
        ck_assert_int_eq(store_hold_image(s, id, "../evil"), -EINVAL);
        ck_assert_int_eq(store_remove_image(s, "a:1", false, NULL, NULL), -EBUSY);
        ck_assert_ptr_nonnull(strstr(store_last_error(), "container1"));
        strv_free(untagged);
        strv_free(deleted);
        untagged = deleted = NULL;
        ck_assert_int_eq(store_remove_image(s, "a:1", true, &untagged, &deleted), 0);
        ck_assert_str_eq(untagged[0], "a:1");
        ck_assert_uint_eq(strv_length(deleted), 0);
        ck_assert_uint_eq(n_images(s), 1);
        /* Prune keeps held images, even dangling ones. */
        strv_free(deleted);
        deleted = NULL;
        ck_assert_int_eq(store_prune(s, true, &deleted, NULL), 0);
        ck_assert_uint_eq(strv_length(deleted), 0);
        _cleanup_strv_free_ char **paths = NULL;
        ck_assert_int_eq(store_image_layer_paths(s, id, &paths), 0);
        ck_assert_int_eq(access(paths[0], F_OK), 0);
        /* Released: remove deletes the image, its layer and blobs. */
        if (store_release_image(s, id, "container1") != 0) ck_abort_msg("release: %s", store_last_error());
        ck_assert_int_eq(store_release_image(s, id, "container1"), -ENOENT);
        strv_free(deleted);
        deleted = NULL;
        ck_assert_int_eq(store_remove_image(s, id, false, NULL, &deleted), 0);
        ck_assert_str_eq(deleted[0], id);
        ck_assert_uint_eq(n_images(s), 0);
        ck_assert_int_eq(access(paths[0], F_OK), -1);
        ck_assert_int_eq(store_remove_image(s, id, false, NULL, NULL), -ENOENT);
        t_rmdir(root);
}
END_TEST

START_TEST(test_prune) {
        char *root = t_mkdtemp();
        _cleanup_(store_freep) Store *s = t_open(root);
        _cleanup_free_ char *dangling = t_import(s, NULL, 1), *tagged = t_import(s, "t:1", 2);
        _cleanup_free_ char *held = t_import(s, "h:1", 3);
        _cleanup_strv_free_ char **deleted = NULL;
        uint64_t reclaimed = 0;

        ck_assert_int_eq(store_hold_image(s, held, "c1"), 0);
        ck_assert_int_eq(store_prune(s, false, &deleted, &reclaimed), 0);
        ck_assert_uint_eq(strv_length(deleted), 1);
        ck_assert_str_eq(deleted[0], dangling);
        ck_assert_uint_gt(reclaimed, 0);
        ck_assert_uint_eq(n_images(s), 2);
        strv_free(deleted);
        deleted = NULL;
        ck_assert_int_eq(store_prune(s, true, &deleted, NULL), 0);
        ck_assert_uint_eq(strv_length(deleted), 1);
        ck_assert_str_eq(deleted[0], tagged);
        ck_assert_uint_eq(n_images(s), 1);
        /* Holds persist across reopening. */
        store_free(s);
        s = t_open(root);
        ck_assert_int_eq(store_remove_image(s, "h:1", false, NULL, NULL), -EBUSY);
        t_rmdir(root);
}
END_TEST

typedef struct Loader {
        Store *store;
        unsigned from;
} Loader;

static void *import_thread(void *userdata) {
        Loader *l = userdata;

        for (unsigned i = 0; i < 10; i++)
                free(t_import(l->store, NULL, l->from + i));
        return NULL;
}

/* A worker imports while the main thread lists and resolves. */
START_TEST(test_threads) {
        char *root = t_mkdtemp();
        _cleanup_(store_freep) Store *s = t_open(root);
        Loader l = { .store = s, .from = 500 };
        pthread_t t;

        ck_assert_int_eq(pthread_create(&t, NULL, import_thread, &l), 0);
        for (unsigned i = 0; i < 50; i++) {
                Image **list;
                size_t n;
                ck_assert_int_eq(store_list_images(s, &list, &n), 0);
                for (size_t k = 0; k < n; k++) {
                        _cleanup_(image_freep) Image *img = NULL;
                        ck_assert_int_eq(store_resolve_image(s, list[k]->id, &img), 0);
                }
                image_array_free(list, n);
        }
        pthread_join(t, NULL);
        ck_assert_uint_eq(n_images(s), 10);
        t_rmdir(root);
}
END_TEST

static void *reopen_thread(void *userdata) {
        const char *root = userdata;

        for (unsigned i = 0; i < 20; i++) {
                Store *other = t_open(root);   /* runs GC, as a second process would */
                store_free(other);
        }
        return NULL;
}

/* GC of another Store on the same root (its own flock, like another process)
 * never takes what a running import has staged or committed. */
START_TEST(test_gc_during_import) {
        char *root = t_mkdtemp();
        _cleanup_(store_freep) Store *s = t_open(root);
        _cleanup_strv_free_ char **ids = NULL;
        pthread_t t;

        ck_assert_int_eq(pthread_create(&t, NULL, reopen_thread, root), 0);
        for (unsigned i = 0; i < 10; i++)
                ck_assert_int_eq(strv_consume(&ids, t_import(s, NULL, 900 + i)), 0);
        pthread_join(t, NULL);
        STRV_FOREACH(id, ids) {
                _cleanup_strv_free_ char **paths = NULL;
                ck_assert_int_eq(store_image_layer_paths(s, *id, &paths), 0);
                ck_assert_int_eq(access(paths[0], F_OK), 0);
        }
        ck_assert_uint_eq(n_images(s), 10);
        t_rmdir(root);
}
END_TEST

typedef struct RemoveJob {
        Store *store;
        const char *id;
        uint64_t started, done;
} RemoveJob;

static void *remove_thread(void *userdata) {
        RemoveJob *j = userdata;

        j->started = now_usec(CLOCK_MONOTONIC);
        ck_assert_int_eq(store_remove_image(j->store, j->id, false, NULL, NULL), 0);
        j->done = now_usec(CLOCK_MONOTONIC);
        return NULL;
}

/* Removing an image whose layer holds 60,000 files takes long: the store's
 * lock, which berthd's event loop takes (holds for containers, listing), is
 * not held meanwhile. */
START_TEST(test_remove_big_layer_unlocked) {
        _cleanup_free_ char *root = strdup("/dev/shm/berth-test-store.XXXXXX"), *id = NULL;
        _cleanup_(store_freep) Store *s = NULL;
        uint64_t worst = 0;
        struct archive *a;
        pthread_t t;
        RemoveJob j;
        TBuf tar;
        int fd;

        ck_assert_ptr_nonnull(mkdtemp(root));
        s = t_open(root);
        a = t_writer(&tar, 1);
        for (int i = 0; i < 60000; i++) {
                char name[64];
                snprintf(name, sizeof name, "d%d/f%d", i / 1000, i);
                t_add_str(a, name, "x");
        }
        t_finish(a);
        fd = t_memfd_from(&tar);
        ck_assert_int_eq(image_import(s, fd, "big:1", NULL, NULL, &id), 0);
        close(fd);
        tbuf_done(&tar);
        j = (RemoveJob) { .store = s, .id = id };
        ck_assert_int_eq(pthread_create(&t, NULL, remove_thread, &j), 0);
        while (__atomic_load_n(&j.done, __ATOMIC_SEQ_CST) == 0) {
                uint64_t a0 = now_usec(CLOCK_MONOTONIC);
                n_images(s);
                worst = MAX(worst, now_usec(CLOCK_MONOTONIC) - a0);
                usleep(1000);
        }
        ck_assert_int_eq(pthread_join(t, NULL), 0);
        if (j.done - j.started < 100 * 1000)
                ck_abort_msg("the removal took only %llu us: no measure", (unsigned long long) (j.done - j.started));
        if (worst > (j.done - j.started) / 2)
                ck_abort_msg("listing waited %llu us of a removal of %llu us", (unsigned long long) worst,
                             (unsigned long long) (j.done - j.started));
        ck_assert_uint_eq(n_images(s), 0);
        (void) rm_rf_at(AT_FDCWD, root);
}
END_TEST

int main(void) {
        Suite *s = suite_create("store");
        TCase *tc = tcase_create("core");

        tcase_set_timeout(tc, 60);
        tcase_add_unchecked_fixture(tc, t_suite_setup, t_suite_teardown);
        tcase_add_test(tc, test_tag_untag_resolve);
        tcase_add_test(tc, test_short_id_ambiguity);
        tcase_add_test(tc, test_list_skips_damaged);
        tcase_add_test(tc, test_remove_like_rmi);
        tcase_add_test(tc, test_prune);
        tcase_add_test(tc, test_threads);
        tcase_add_test(tc, test_gc_during_import);
        tcase_add_test(tc, test_remove_big_layer_unlocked);
        suite_add_tcase(s, tc);
        return check_run_suite(s);
}
