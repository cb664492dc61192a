/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include <stdint.h>

#include "digest.h"
#include "util.h"

/* Unpacks one image layer (a tar stream, plain, gzip or zstd) into a
 * directory, in the form overlayfs expects of a lower layer:
 *   - ".wh.NAME" becomes a whiteout (character device 0:0) named NAME;
 *   - ".wh..wh..opq" marks its directory opaque (trusted.overlay.opaque=y);
 *   - a hardlink to a file of a lower layer copies that file up first.
 * All paths are resolved inside the target (openat2 RESOLVE_IN_ROOT), symlinks
 * are never followed, and nothing outside the target is written. The stream
 * is hostile: the limits bound what it may cost. */

typedef struct LayerLimits {
        uint64_t max_compressed_size;     /* bytes read from the fd */
        uint64_t max_uncompressed_size;   /* bytes of tar stream after decompression */
        uint64_t max_entries;             /* tar entries */
        uint64_t max_path_length;         /* bytes of one entry's path */
} LayerLimits;

/* Conservative defaults (documented in docs/storage.md). */
extern const LayerLimits layer_limits_default;

typedef struct LayerUnpackResult {
        char compressed_digest[DIGEST_STRING_MAX];   /* sha256 of the bytes read */
        char diff_id[DIGEST_STRING_MAX];             /* sha256 of the uncompressed tar */
        uint64_t compressed_size;
        uint64_t uncompressed_size;
        uint64_t entries;
} LayerUnpackResult;

/* Reads the layer from fd to its end and unpacks it into target_dirfd, which
 * should be an empty directory. lower_dirfds are the unpacked parent layers,
 * the topmost first (for hardlinks that point into them), n_lower may be 0.
 * cancel, if not NULL, is polled; when it turns true the unpack stops with
 * -ECANCELED. On error the target is left for the caller to remove.
 * Errors: -EBADMSG malformed archive, -EFBIG/-E2BIG a limit was hit,
 * -EXDEV an entry tried to leave the target, -ECANCELED, other -errno. */
int layer_unpack(int fd, int target_dirfd, const int *lower_dirfds, size_t n_lower,
                 const LayerLimits *limits, const volatile int *cancel,
                 LayerUnpackResult *ret);

/* A message naming what was wrong with the last failed layer_unpack() in this
 * thread ("entry 'etc/../../x': path leaves the layer"), or NULL. */
const char *layer_last_error(void);
