/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include <stdbool.h>
#include <sys/types.h>

struct open_how;

/* openat2(), retried while a concurrent rename makes it fail with EAGAIN.
 * Returns an fd or -errno. */
int openat2_retry(int dirfd, const char *path, const struct open_how *how);

/* openat2(RESOLVE_IN_ROOT | RESOLVE_NO_MAGICLINKS [| RESOLVE_NO_SYMLINKS]). */
int openat_in_root(int dirfd, const char *path, int flags, mode_t mode, bool follow_symlinks);
