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
 * is hostile: the limits bound what it may cost.
 *
 * How entry names are treated:
 *   - "/abs/path" is relative to the layer root, as containers-storage and tar
 *     treat it: it lands in TARGET/abs/path;
 *   - "." and empty components are dropped, "a/../b" is resolved lexically to
 *     "b"; a ".." that would climb above the root ("../x", "a/../../x", also in
 *     hardlink targets and as "../.wh.x") fails with -EXDEV;
 *   - a symlink is created with its target as it is, and is never followed:
 *     an entry whose parent path goes through a symlink ("a -> /etc" then
 *     "a/passwd", even "a -> b" inside the layer) fails with -EXDEV rather
 *     than being resolved chroot-style as docker's chrootarchive does. Real
 *     layers (diffs of overlayfs upper directories) never need that; an entry
 *     that replaces the symlink itself ("a" again) replaces it;
 *   - directories missing from the stream are created: with the owner, mode
 *     and mtime of the same directory in the topmost lower layer that has it
 *     (as an overlayfs copy-up would), else root's, 0755;
 *   - ".wh.NAME" when this layer itself has NAME keeps NAME (the OCI spec:
 *     whiteouts apply to lower layers only, and NAME already hides them) and
 *     makes it opaque if it is a directory; an entry NAME after the whiteout
 *     replaces it, and a directory replacing a whiteout (listed or implied by
 *     a child) is made opaque; other ".wh..wh.*" names (aufs) are ignored;
 *   - a hardlink entry's owner, mode, xattrs and times apply to the linked
 *     file, as docker and containers-storage apply them;
 *   - trusted.overlay.* xattrs in the stream are dropped, all other xattrs
 *     (user.*, security.capability, ...) are applied after chown/chmod;
 *   - only tar (ustar, pax, GNU, incl. sparse) inside none, gzip or zstd is
 *     read. Bytes after the tar end marker or after the gzip stream are read
 *     too and count in the digests. */

typedef struct LayerLimits {
        uint64_t max_compressed_size;     /* bytes read from the fd */
        uint64_t max_uncompressed_size;   /* bytes of tar stream after decompression, and bytes
                                           * of the files written: regular files by their declared
                                           * size (a sparse file's holes count), plus files copied
                                           * up from lower layers for hardlinks */
        uint64_t max_entries;             /* tar entries */
        uint64_t max_path_length;         /* bytes of one entry's path */
        uint64_t max_header_size;         /* bytes of tar headers of one entry: pax extended
                                           * headers (xattrs, long names), GNU long names, sparse
                                           * maps; what libarchive holds in memory for an entry */
        uint64_t max_dir_table_size;      /* bytes of the table of directories whose times are
                                           * set at the end (their paths and times) */
} LayerLimits;

/* A limit of 0 means no limit. Defaults (see layer.c): 32 GiB compressed,
 * 64 GiB uncompressed, 10 million entries, 4096 bytes of path, 4 MiB of
 * headers per entry, 64 MiB of directory table (documented in
 * docs/storage.md). */
extern const LayerLimits layer_limits_default;

typedef struct LayerUnpackResult {
        char compressed_digest[DIGEST_STRING_MAX];   /* sha256 of the bytes read */
        char diff_id[DIGEST_STRING_MAX];             /* sha256 of the uncompressed tar */
        uint64_t compressed_size;
        uint64_t uncompressed_size;
        uint64_t entries;
        uint64_t implied_dirs;    /* directories created for entries but not listed themselves: their
                                   * owner, mode and times come from lower_dirfds, so a layer unpacked
                                   * without its lower layers must be unpacked again with them */
} LayerUnpackResult;

/* Reads the layer from fd to its end and unpacks it into target_dirfd, which
 * should be an empty directory. lower_dirfds are the unpacked parent layers,
 * the topmost first (for hardlinks that point into them), n_lower may be 0.
 * cancel, if not NULL, is polled (between entries, between data blocks, and
 * every 200 ms while a pipe or socket fd has nothing to read); when it turns
 * true the unpack stops with -ECANCELED. fd may be O_NONBLOCK. On error the target is left for the caller to remove.
 * Errors: -EBADMSG malformed archive, -EFBIG/-E2BIG a limit was hit,
 * -EXDEV an entry tried to leave the target, -ECANCELED, other -errno. */
/* limits NULL means layer_limits_default. ret may be NULL. Thread-safe:
 * each call keeps its own state. */
int layer_unpack(int fd, int target_dirfd, const int *lower_dirfds, size_t n_lower,
                 const LayerLimits *limits, const volatile int *cancel,
                 LayerUnpackResult *ret);
/* The same, and in *ret_implied the paths of the directories the layer
 * implies (creates for its entries without listing them), parents first. */
int layer_unpack_full(int fd, int target_dirfd, const int *lower_dirfds, size_t n_lower,
                      const LayerLimits *limits, const volatile int *cancel,
                      LayerUnpackResult *ret, char ***ret_implied);
/* Gives the implied directories of a layer unpacked without its lower layers
 * the owner, mode and times of their lower namesakes, as an unpack with them
 * would have: so a layer streamed while its lower layers were still arriving
 * need not be unpacked again just for its implied directories. */
int layer_fix_implied_dirs(int target_dirfd, const int *lower_dirfds, size_t n_lower, char * const *implied);

/* A message naming what was wrong with the last failed layer_unpack() in this
 * thread ("entry 'etc/../../x': path leaves the layer"), or NULL. */
const char *layer_last_error(void);
