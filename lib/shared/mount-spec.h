/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/* A mount the user asked for (-v, --tmpfs, --mount): shared by the container
 * model, which parses and stores it, and the runtime, which applies it. */

#include <stdbool.h>
#include <stdint.h>

#include "util.h"

typedef enum MountType {
        MOUNT_TYPE_BIND,
        MOUNT_TYPE_TMPFS,
        _MOUNT_TYPE_MAX,
        _MOUNT_TYPE_INVALID = -EINVAL,
} MountType;

typedef struct MountSpec {
        MountType type;
        char *source;          /* bind only: an absolute host path */
        char *target;          /* absolute path in the container */
        bool read_only;
        uint64_t tmpfs_size;   /* tmpfs only, bytes, 0 = kernel default */
        uint32_t tmpfs_mode;   /* tmpfs only, 0 = default (01777) */
        char *options;         /* tmpfs only: other options, passed to mount(2) as is */
} MountSpec;

const char *mount_type_to_string(MountType t);
MountType mount_type_from_string(const char *s);
void mount_spec_done(MountSpec *m);

/* Mount specs as the CLI writes them; -EINVAL for malformed ones. */
int mount_spec_parse_volume(const char *s, MountSpec *ret);   /* -v SRC:DST[:ro|rw] */
int mount_spec_parse_tmpfs(const char *s, MountSpec *ret);    /* --tmpfs PATH[:opts] */
int mount_spec_parse_mount(const char *s, MountSpec *ret);    /* --mount type=...,... */
