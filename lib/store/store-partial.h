/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include "store-internal.h"

/* Partial blobs: what a pull received of a layer blob whose download did
 * not complete (it failed, was cancelled, berthd was killed), kept as
 * <root>/partial/<hex> so that the next pull of the same digest asks the
 * registry for the rest only. The file is the download's blob file itself,
 * written as the bytes arrive: its size is what was received, there is no
 * other metadata to trust, and the digest check at the end of the download
 * decides whether the bytes were right. A pull writing one holds an flock()
 * on it; names in partial/ are created, renamed and removed only under the
 * store lock, and removed only by whoever holds that flock (or just took it
 * to see that nobody writes the file). */

typedef struct StorePartial StorePartial;

#define STORE_PARTIAL_MAX_AGE_USEC (7 * 24 * 3600 * USEC_PER_SEC)

/* Opens, creating it, the partial blob of digest for this caller alone:
 * what it holds beyond max_size is cut, the file offset is at its end.
 * Whatever else sits at its name (a symlink, a FIFO, a directory) is
 * removed unopened. -EBUSY: another pull writes it. */
int store_partial_open(Store *s, const char *digest, uint64_t max_size, StorePartial **ret);
/* O_RDWR, for this caller's reads and writes; owned by p. */
int store_partial_fd(const StorePartial *p);
/* The bytes it held when opened (after the cut). */
uint64_t store_partial_size(const StorePartial *p);
/* Complete and verified: renamed to name in the staging dir. Frees p. */
int store_partial_take(StorePartial *p, StoreStaging *st, const char *name);
/* Its bytes cannot be right: removed. Frees p. */
void store_partial_drop(StorePartial *p);
/* Closes it; the file stays for a later pull. */
StorePartial *store_partial_free(StorePartial *p);
DEFINE_TRIVIAL_CLEANUP_FUNC(StorePartial *, store_partial_free);

/* Removes the partial blobs nobody writes that are empty or older than
 * max_age_usec (by their last write), and, counting the newest first
 * (those being written included), every one beyond max_total bytes in all;
 * anything in partial/ that is not a regular file named by 64 hex goes too. */
int store_partial_trim(Store *s, uint64_t max_total, uint64_t max_age_usec);
