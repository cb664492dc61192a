/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <errno.h>
#include <fcntl.h>
#include <linux/openat2.h>
#include <stdint.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "openat2-util.h"

/* openat2() fails with EAGAIN when a rename or mount anywhere on the system
 * raced with a lookup that has RESOLVE_IN_ROOT or RESOLVE_BENEATH and "..";
 * the lookup is simply retried (as libpathrs and systemd do). */
int openat2_retry(int dirfd, const char *path, const struct open_how *how) {
        for (unsigned attempt = 0;; attempt++) {
                long fd = syscall(SYS_openat2, dirfd, path, how, sizeof *how);
                if (fd >= 0)
                        return (int) fd;
                if (errno != EAGAIN || attempt >= 64)
                        return -errno;
        }
}

/* openat2() confined to dirfd as if it were "/": absolute symlinks and ".."
 * cannot leave it. Without follow_symlinks, any symlink on the way fails
 * with ELOOP (the final component is still subject to O_NOFOLLOW/O_EXCL
 * as usual). Returns an fd or -errno. */
int openat_in_root(int dirfd, const char *path, int flags, mode_t mode, bool follow_symlinks) {
        struct open_how how = {
                .flags = (uint64_t) flags | O_CLOEXEC,
                .mode = (flags & (O_CREAT | O_TMPFILE)) ? mode : 0,
                .resolve = RESOLVE_IN_ROOT | RESOLVE_NO_MAGICLINKS |
                           (follow_symlinks ? 0 : RESOLVE_NO_SYMLINKS),
        };

        return openat2_retry(dirfd, path, &how);
}
