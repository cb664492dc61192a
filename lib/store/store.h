/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include <stdbool.h>
#include <stdint.h>

#include "layer.h"
#include "oci.h"
#include "util.h"

/* The image store: content-addressed blobs, layers unpacked once per chain id
 * and shared between images, image records keyed by config digest, and a
 * name index. The on-disk layout is described in docs/storage.md.
 *
 * Every change is atomic: work happens in <root>/tmp/ and is renamed into
 * place, metadata is written with write_file_atomic_at(). A Store is
 * thread-safe (one mutex); an flock on <root>/lock serialises changes between
 * processes. store_open() garbage-collects what a crash left behind.
 *
 * Errors are negative errno values; a sentence naming the problem is left in
 * store_last_error() (per thread):
 *   -ENOENT      no such image / tag / blob
 *   -ENOTUNIQ    a short id prefix matches more than one image
 *   -EBUSY       the image is held (used by a container)
 *   -EEXIST      remove by id of an image with several tags, without force
 *   -EINVAL      malformed reference or argument
 *   -EBADMSG     malformed archive, JSON, or a digest mismatch
 *   -EMEDIUMTYPE unknown media type
 *   -EFBIG/-E2BIG a limit was hit
 *   -ECANCELED   the cancel flag was raised
 *   -ESTALE      a layer a load relied on was removed meanwhile: load again */

typedef struct Store Store;

typedef struct StoreLimits {
        LayerLimits layer;               /* per layer blob */
        uint64_t max_json_size;          /* manifest, config, index, manifest.json */
        uint64_t max_archive_entries;    /* members of a loaded archive */
        uint64_t max_archive_size;       /* bytes read from a loaded archive */
        uint64_t max_archive_names_size; /* bytes of the names of its members (kept while it loads) */
        uint64_t max_images;             /* images in one archive */
        uint64_t max_layers;             /* layers of one image */
        unsigned unpack_threads;         /* layers unpacked in parallel, >= 1 */
} StoreLimits;

extern const StoreLimits store_limits_default;

/* A snapshot of one image; owned by the caller, freed with image_free(). */
typedef struct Image {
        char *id;                  /* "sha256:<hex>", the config digest */
        char **repo_tags;          /* full names: "docker.io/library/busybox:latest" */
        char **repo_digests;       /* "docker.io/library/busybox@sha256:..." */
        char *manifest_digest;     /* digest of the stored manifest blob */
        uint64_t size;             /* sum of the unpacked layers' sizes */
        uint64_t virtual_size;     /* same as size: layers are shared, not copied */
        uint64_t loaded_usec;      /* when it entered the store */
        OciImageConfig config;     /* architecture, os, created, env, cmd, ..., history */
        char **layer_digests;      /* blob digests as stored, base first (for save) */
        char **chain_ids;          /* base first */
        char **holders;            /* who holds it (container ids) */
} Image;

Image *image_free(Image *i);
DEFINE_TRIVIAL_CLEANUP_FUNC(Image *, image_free);
void image_array_free(Image **l, size_t n);
/* Short forms for display: "busybox:latest", the 12-hex short id. */
char **image_familiar_tags(const Image *i);
int image_short_id(const Image *i, char ret[static 13]);

/* Opens (creating if needed) the store at path relative to dirfd, as openat()
 * does; path NULL or "" uses dirfd itself. limits NULL: the defaults. */
int store_open(int dirfd, const char *path, const StoreLimits *limits, Store **ret);
Store *store_free(Store *s);
DEFINE_TRIVIAL_CLEANUP_FUNC(Store *, store_free);
const char *store_root(Store *s);
const StoreLimits *store_limits(Store *s);
/* The message of the last failure in this thread, or NULL. */
const char *store_last_error(void);

/* All images, sorted newest first. */
int store_list_images(Store *s, Image ***ret, size_t *ret_n);
/* Finds an image by full id, "sha256:" + id, short id prefix (ambiguous is
 * -ENOTUNIQ), name, name:tag, registry/name:tag or name@sha256:digest. */
int store_resolve_image(Store *s, const char *name_or_id, Image **ret);

int store_tag_image(Store *s, const char *name_or_id, const char *reference);
int store_untag_image(Store *s, const char *reference);

/* docker rmi: a name:tag with other tags left only untags; an id (or the last
 * tag) deletes the image and its now unused layers. Refuses an image held by a
 * container (-EBUSY) or tagged several times when named by id (-EEXIST);
 * force untags everything and deletes it, except that a held image is only
 * untagged and stays (with its layers) until released. Lists "untagged"
 * references and "deleted" ids, like docker's output. */
int store_remove_image(Store *s, const char *name_or_id, bool force,
                       char ***ret_untagged, char ***ret_deleted);
/* Removes dangling (untagged) images, or with all every image without a
 * holder, then their unused layers and blobs, and the partial blobs kept
 * for later pulls (store-partial.h) that no pull is writing. */
int store_prune(Store *s, bool all, char ***ret_deleted, uint64_t *ret_reclaimed);
/* Removes leftovers of interrupted operations and layers/blobs no image
 * references. Run by store_open(). */
int store_gc(Store *s);

/* Holds are persistent (a file per holder): a held image cannot be removed
 * or pruned. holder is a container id or name ([A-Za-z0-9_.-]+). Taking a
 * hold is atomic but not fsync'd: holders take theirs again whenever they
 * load (engine_load), which puts back one a power loss took, before anyone
 * could remove the image. */
int store_hold_image(Store *s, const char *image_id, const char *holder);
int store_release_image(Store *s, const char *image_id, const char *holder);

/* What a container runtime needs: the unpacked layer directories (absolute
 * paths) for overlay lowerdir, topmost first, and the raw config JSON (the
 * parsed one is Image.config). */
int store_image_layer_paths(Store *s, const char *image_id, char ***ret);
int store_image_config_json(Store *s, const char *image_id, char **ret);

/* Progress and cancellation for long operations (load, import, save).
 * progress may be called from the unpacking threads (never two at once). */
typedef void (*StoreProgressFn)(uint64_t done, uint64_t total, const char *current, void *userdata);

typedef struct StoreIoOptions {
        StoreProgressFn progress;
        void *userdata;
        const volatile int *cancel;   /* polled; when non-zero: -ECANCELED */
} StoreIoOptions;
