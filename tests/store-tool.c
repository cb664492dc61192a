/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* A test driver for the image store, used by the interop script:
 *   store-tool ROOT load < ARCHIVE | load-dir DIR | import REF [CHANGE...] < TAR
 *   store-tool ROOT save docker-archive|oci-archive NAME... > ARCHIVE
 *   store-tool ROOT inspect NAME | layers NAME | rmi NAME | prune
 * "layers" prints store_image_layer_paths(), the overlay lowerdirs, topmost first. */
#include <fcntl.h>

#include "image-load.h"
#include "store.h"

static int fail(int r, const char *what) {
        fprintf(stderr, "%s failed: %s (%s)\n", what, strempty(store_last_error()), strerror(-r));
        return EXIT_FAILURE;
}

static int inspect(Store *s, const char *name) {
        _cleanup_(image_freep) Image *img = NULL;
        int r = store_resolve_image(s, name, &img);

        if (r < 0)
                return fail(r, "inspect");
        printf("id %s\n", img->id);
        printf("manifest %s\n", strempty(img->manifest_digest));
        STRV_FOREACH(t, img->repo_tags)
                printf("tag %s\n", *t);
        STRV_FOREACH(l, img->layer_digests)
                printf("layer %s\n", *l);
        STRV_FOREACH(d, img->config.diff_ids)
                printf("diff_id %s\n", *d);
        printf("architecture %s\n", strempty(img->config.architecture));
        return EXIT_SUCCESS;
}

static int layers(Store *s, const char *name) {
        _cleanup_(image_freep) Image *img = NULL;
        _cleanup_strv_free_ char **paths = NULL;
        int r;

        r = store_resolve_image(s, name, &img);
        if (r < 0)
                return fail(r, "layers");
        r = store_image_layer_paths(s, img->id, &paths);
        if (r < 0)
                return fail(r, "layers");
        STRV_FOREACH(p, paths)
                printf("%s\n", *p);
        return EXIT_SUCCESS;
}

static int run(Store *s, int argc, char **argv) {
        _cleanup_strv_free_ char **ids = NULL, **tags = NULL;
        const char *verb = argv[2];
        int r;

        if (streq(verb, "load") || streq(verb, "load-dir")) {
                _cleanup_close_ int dfd = argc > 3 ? open(argv[3], O_RDONLY | O_DIRECTORY | O_CLOEXEC) : -EBADF;
                r = streq(verb, "load") ? image_load(s, STDIN_FILENO, NULL, &ids, &tags) :
                                          image_load_oci_layout(s, dfd, NULL, &ids, &tags);
                if (r < 0)
                        return fail(r, verb);
                STRV_FOREACH(i, ids)
                        printf("Loaded image: %s\n", *i);
                STRV_FOREACH(t, tags)
                        printf("Loaded tag: %s\n", *t);
                return EXIT_SUCCESS;
        }
        if (streq(verb, "import") && argc > 3) {
                _cleanup_free_ char *id = NULL;
                r = image_import(s, STDIN_FILENO, argv[3], argv + 4, NULL, &id);
                if (r < 0)
                        return fail(r, verb);
                printf("%s\n", id);
                return EXIT_SUCCESS;
        }
        if (streq(verb, "save") && argc > 4) {
                r = image_save(s, argv + 4, image_archive_format_from_string(argv[3]), STDOUT_FILENO, NULL);
                return r < 0 ? fail(r, verb) : EXIT_SUCCESS;
        }
        if (streq(verb, "inspect") && argc > 3)
                return inspect(s, argv[3]);
        if (streq(verb, "layers") && argc > 3)
                return layers(s, argv[3]);
        if (streq(verb, "rmi") && argc > 3) {
                r = store_remove_image(s, argv[3], false, NULL, NULL);
                return r < 0 ? fail(r, verb) : EXIT_SUCCESS;
        }
        if (streq(verb, "prune")) {
                r = store_prune(s, true, NULL, NULL);
                return r < 0 ? fail(r, verb) : EXIT_SUCCESS;
        }
        fprintf(stderr, "Unknown verb %s\n", verb);
        return EXIT_FAILURE;
}

int main(int argc, char **argv) {
        _cleanup_(store_freep) Store *s = NULL;
        int r;

        if (argc < 3) {
                fprintf(stderr, "Usage: %s ROOT VERB [ARGS...]\n", argv[0]);
                return EXIT_FAILURE;
        }
        r = store_open(AT_FDCWD, argv[1], NULL, &s);
        if (r < 0)
                return fail(r, "open");
        return run(s, argc, argv);
}
