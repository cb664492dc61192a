/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include "hashmap.h"
#include "image-load.h"
#include "store-internal.h"

/* Shared by image-load.c, image-import.c and image-unpack.c. */

/* One file of the input, spooled into the staging dir and digested. */
typedef struct LoadMember {
        char *path;              /* normalised path inside the archive */
        char *staged;            /* file name in the staging dir, NULL for a symlink */
        char *link_target;       /* symlinks (old docker archives share layers so) */
        char digest[DIGEST_STRING_MAX];
        uint64_t size;
} LoadMember;

typedef struct LoadContext {
        Store *store;
        StoreStaging *staging;
        const StoreIoOptions *opts;
        int layout_fd;           /* OCI layout dir, or -EBADF for an archive */
        LoadMember **members;    /* individually allocated: pointers to them stay valid */
        size_t n_members;
        Hashmap *by_path;        /* the same, by path (keys are the members' own) */
        uint64_t names_size;     /* bytes of their names and link targets */
        uint64_t bytes_done, bytes_total;
        char **unpacked;         /* chain id, staged dir, ... of layers unpacked by this operation */
} LoadContext;

void load_context_done(LoadContext *c);
int load_check_cancel(LoadContext *c);
void load_progress(LoadContext *c, const char *current);

/* Copies fd into a new staging file, digesting; limit: max bytes. */
int load_spool_fd(LoadContext *c, int fd, uint64_t limit, const char *what, LoadMember *m);

/* Unpacks (or finds in the store) the layers of one image: blobs[i] is the
 * staged blob of layer i, expected[i] its compressed digest or NULL, diff_ids
 * from the config. Fills out (n entries). */
int load_stage_layers(LoadContext *c, const LoadMember * const *blobs, char * const *expected,
                      const OciMediaType *media_types, char * const *diff_ids, size_t n, StagedLayer *out);

/* Opens the unpacked directories below layer i of out (staged, or in the
 * store when dir_path is NULL), topmost first, into fds[0..i-1] (set to
 * -EBADF by the caller); also for the registry's pull. */
int load_open_lowers(Store *s, StoreStaging *st, const StagedLayer *out, size_t i, int *fds);
void load_lowers_close(int *fds, size_t n);

/* Media type for a layer blob that came without one, from its magic bytes. */
OciMediaType load_sniff_layer_type(LoadContext *c, const LoadMember *m, bool docker);
