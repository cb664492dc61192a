/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include <jansson.h>
#include <pthread.h>

#include "store.h"

/* Shared between the store modules (store.c, store-image.c, image-load.c,
 * image-save.c); not for the service layer. */

struct Store {
        pthread_mutex_t mutex;
        int root_fd;
        int lock_fd;          /* <root>/lock, flock()ed while changing */
        char *root;
        StoreLimits limits;
};

/* The mutex and the cross-process flock, released by the cleanup. */
typedef struct StoreLock {
        Store *store;
} StoreLock;
int store_lock(Store *s, StoreLock *ret);
void store_unlock(StoreLock *l);

/* One layer as recorded in an image record. */
typedef struct StoreLayer {
        char digest[DIGEST_STRING_MAX];     /* the blob, as loaded (maybe compressed) */
        char diff_id[DIGEST_STRING_MAX];
        char chain_id[DIGEST_STRING_MAX];
        OciMediaType media_type;
        uint64_t blob_size;
        uint64_t size;                      /* unpacked bytes */
} StoreLayer;

/* images/<hex>.json */
typedef struct StoreRecord {
        char id[DIGEST_STRING_MAX];
        char manifest_digest[DIGEST_STRING_MAX];   /* "" if none stored */
        bool manifest_original;                    /* from the archive, not synthesised */
        uint64_t loaded_usec;
        StoreLayer *layers;
        size_t n_layers;
        char **repo_digests;                       /* "name@sha256:..." it was pulled as */
} StoreRecord;

StoreRecord *store_record_free(StoreRecord *r);
DEFINE_TRIVIAL_CLEANUP_FUNC(StoreRecord *, store_record_free);
int store_record_read(Store *s, const char *id_hex, StoreRecord **ret);
int store_record_write(Store *s, const StoreRecord *r);
/* All ids (hex) with a record. */
int store_record_list(Store *s, char ***ret);

/* repositories.json: full reference -> image id. */
int store_tags_read(Store *s, json_t **ret);
int store_tags_write(Store *s, json_t *tags);

/* A directory under <root>/tmp/ for one operation, flock()ed so that GC in
 * any process leaves it alone while it lives; removed by the cleanup. */
typedef struct StoreStaging {
        Store *store;
        int dirfd;
        char *name;           /* relative to <root>/tmp */
        unsigned counter;
} StoreStaging;
int store_staging_new(Store *s, StoreStaging **ret);
StoreStaging *store_staging_free(StoreStaging *st);
DEFINE_TRIVIAL_CLEANUP_FUNC(StoreStaging *, store_staging_free);
/* A fresh unique name inside the staging dir. */
int store_staging_name(StoreStaging *st, const char *prefix, char **ret);
/* Writes a new staging file under a fresh name (returned). Not synced: the
 * commit's syncfs() of the staging dir makes everything in it durable at
 * once, before any of it becomes visible. */
int store_staging_write(StoreStaging *st, const char *prefix, const void *data, size_t size, char **ret);

/* Whether layers/<chain hex> is there; ret_blob_digest: what it was
 * unpacked from, ret_size: its unpacked size (may be NULL). */
int store_layer_lookup(Store *s, const char *chain_id, char ret_blob_digest[static DIGEST_STRING_MAX],
                       uint64_t *ret_size);
bool store_blob_exists(Store *s, const char *digest);
int store_blob_open(Store *s, const char *digest);

/* What a loader hands over: files in the staging dir, already verified. */
typedef struct StagedLayer {
        StoreLayer layer;
        char *blob_path;      /* in staging, NULL if the store has the blob */
        char *dir_path;       /* unpacked dir in staging, NULL if the store has the layer */
} StagedLayer;

typedef struct StagedImage {
        char id[DIGEST_STRING_MAX];
        char *config_path;                 /* config blob in staging, NULL if stored */
        char manifest_digest[DIGEST_STRING_MAX];
        char *manifest_path;               /* manifest blob in staging, NULL if stored */
        bool manifest_original;
        StagedLayer *layers;
        size_t n_layers;
        char **tags;                       /* full references */
        char *repo_digest;                 /* "name@<manifest digest>" of a pull, or NULL */
} StagedImage;

void staged_image_done(StagedImage *i);
/* Moves blobs and layers into place, writes the record and the tags, all
 * under the lock, each step durable before the next. */
int store_commit_image(Store *s, StoreStaging *st, const StagedImage *img);

/* <root>/trash: what is to be deleted is renamed there under the lock and
 * deleted once it is released; what a crash leaves there goes at the next
 * store_open(). */
#define STORE_TRASH_DIR "trash"
/* Renames name (below dirfd) to a new name in the trash, *ret (may be NULL). */
int store_trash(Store *s, int dirfd, const char *name, char **ret);

/* Under the lock: renames blobs and layers no record references into the
 * trash, listing them in *ret_victims; adds what the blobs took to
 * *reclaimed (may be NULL). */
int store_gc_unreferenced(Store *s, uint64_t *reclaimed, char ***ret_victims);
/* Once the lock is released: deletes the victims (adding their size to
 * *reclaimed, may be NULL) and frees the list. */
void store_gc_finish(Store *s, char **victims, uint64_t *reclaimed);
/* Under the lock: moves the partial blobs store_partial_trim() would
 * remove into the trash, listing them in *victims, adding their size to
 * *reclaimed (may be NULL). */
int store_partial_sweep(Store *s, uint64_t max_total, uint64_t max_age_usec, char ***victims,
                        uint64_t *reclaimed);
/* Bytes in regular files below path (not following symlinks). */
uint64_t store_tree_size_at(int dirfd, const char *path);
int store_image_from_record(Store *s, const StoreRecord *rec, json_t *tags, Image **ret);
