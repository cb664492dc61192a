/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include <limits.h>
#include <sys/types.h>

/* Resolves Docker's --user forms (name, uid, uid:gid, name:group, uid:group,
 * name:gid) against the /etc/passwd and /etc/group of a container root,
 * never the host's NSS. Works without allocating, so that it can run in the
 * container's child after pivot_root. */

#define PASSWD_GROUPS_MAX 64
/* Larger files are refused (-EFBIG); so are files that are not regular
 * (-EBADFD), which are never opened in a way that could block. */
#define PASSWD_FILE_MAX_MIB 16
#define PASSWD_FILE_MAX (PASSWD_FILE_MAX_MIB * 1024U * 1024U)

typedef struct UserCreds {
        uid_t uid;
        gid_t gid;
        size_t n_groups;                 /* supplementary groups, primary included */
        gid_t groups[PASSWD_GROUPS_MAX];
        char home[PATH_MAX];             /* "/" when the user has no entry */
        const char *error_file;          /* on failure: the file that could not be read */
} UserCreds;

/* rootfd is the container's root; files are opened beneath it with
 * RESOLVE_IN_ROOT. NULL or "" means root. -ESRCH: no such user or group;
 * other errors set ret->error_file. */
int passwd_resolve(int rootfd, const char *spec, UserCreds *ret);
