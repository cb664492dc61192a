/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include <limits.h>
#include <stdbool.h>

#include "mount-spec.h"
#include "util.h"

/* Assembly of a container's root inside the container's own mount namespace.
 * Everything here runs in the child between clone and exec: no allocation,
 * and every failure names its step and the path it was working on, as
 * bubblewrap's bind-mount.h does, so the caller can say "mount /proc:
 * Permission denied" instead of just "Permission denied". */

typedef enum SetupStage {
        SETUP_STAGE_NONE,
        SETUP_STAGE_SYNC,
        SETUP_STAGE_STDIO,
        SETUP_STAGE_JOURNAL,
        SETUP_STAGE_NAMESPACE,
        SETUP_STAGE_MOUNT,
        SETUP_STAGE_CREATE,
        SETUP_STAGE_MKNOD,
        SETUP_STAGE_SYMLINK,
        SETUP_STAGE_PIVOT_ROOT,
        SETUP_STAGE_MASK,
        SETUP_STAGE_REMOUNT,
        SETUP_STAGE_NETWORK,
        SETUP_STAGE_HOSTNAME,
        SETUP_STAGE_TTY,
        SETUP_STAGE_CWD,
        SETUP_STAGE_USER,
        SETUP_STAGE_SETUID,
        SETUP_STAGE_CAPS,
        SETUP_STAGE_NNP,
        SETUP_STAGE_SECCOMP,
        SETUP_STAGE_EXEC,
        SETUP_STAGE_KEYRING,
        _SETUP_STAGE_MAX,
        _SETUP_STAGE_INVALID = -EINVAL,
} SetupStage;

const char *setup_stage_to_string(SetupStage s);
SetupStage setup_stage_from_string(const char *s);

typedef struct SetupFailure {
        SetupStage stage;
        char path[PATH_MAX];
} SetupFailure;

/* Records stage and path in f (if not NULL) and returns error (negative). */
int setup_fail(SetupFailure *f, SetupStage stage, const char *path, int error);


/* Docker's lists, NULL-terminated. */
extern char * const mount_default_masked_paths[];
extern char * const mount_default_readonly_paths[];

/* Built before fork: the overlay option string, or -E2BIG when it does not
 * fit in a page and the layers must be added one by one with fsconfig().
 * volatile_upper: the upper layer goes with the container, so the overlay
 * never syncs it (nor the whole file system under it when unmounted). */
int mount_overlay_options(char * const *lowerdirs, const char *upper, const char *work, bool volatile_upper,
                          char **ret);
int mount_overlay(char * const *lowerdirs, const char *upper, const char *work, bool volatile_upper,
                  const char *options, const char *target, SetupFailure *f);
/* A volatile overlay marks its work directory so that it is never mounted
 * again; only for a container whose previous run is over. */
int mount_overlay_clear_volatile(const char *work);

int mount_make_private(SetupFailure *f);
/* Opens path below rootfd (RESOLVE_IN_ROOT), creating it and its parents;
 * dir selects directory or empty file. */
int mount_open_target(int rootfd, const char *path, bool dir, int *ret_fd, SetupFailure *f);

int mount_setup_proc(int rootfd, SetupFailure *f);
int mount_setup_dev(int rootfd, SetupFailure *f);
/* Read-only unless the container is privileged, as in Docker. */
int mount_setup_sys(int rootfd, bool own_netns, bool readonly, SetupFailure *f);
int mount_setup_cgroup(int rootfd, bool readonly, SetupFailure *f);
int mount_apply(int rootfd, const MountSpec *m, SetupFailure *f);
int mount_bind_console(int rootfd, int pts_number, SetupFailure *f);

/* After these, the calling process's root is rootfd's directory. */
int mount_pivot_root(int rootfd, SetupFailure *f);

/* After pivot_root. */
int mount_mask_paths(char * const *paths, SetupFailure *f);
int mount_readonly_paths(char * const *paths, SetupFailure *f);
int mount_readonly_root(SetupFailure *f);
