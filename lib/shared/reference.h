/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include <stdbool.h>

#include "util.h"

/* Image references as Docker parses them (distribution/reference grammar):
 *   busybox                 -> docker.io/library/busybox:latest
 *   quay.io:443/a/b:1.0     -> quay.io:443/a/b:1.0
 *   busybox@sha256:<hex>    -> docker.io/library/busybox@sha256:<hex>
 * The familiar form drops "docker.io/" and "library/" for display. */

#define REFERENCE_DEFAULT_DOMAIN "docker.io"
#define REFERENCE_DEFAULT_TAG "latest"
#define REFERENCE_NAME_MAX 255
#define REFERENCE_TAG_MAX 128

typedef struct Reference {
        char *domain;      /* "docker.io", "localhost:5000" */
        char *path;        /* "library/busybox" */
        char *tag;         /* NULL when only a digest was given */
        char *digest;      /* "sha256:<hex>" or NULL */
} Reference;

Reference *reference_free(Reference *r);
DEFINE_TRIVIAL_CLEANUP_FUNC(Reference *, reference_free);

/* Parses and normalises; adds the tag "latest" when neither tag nor digest
 * is given. -EINVAL with a message in errmsg_last() when invalid. */
int reference_parse(const char *s, Reference **ret);
/* Like reference_parse() but never adds a default tag. */
int reference_parse_name(const char *s, Reference **ret);

/* "docker.io/library/busybox" */
char *reference_name(const Reference *r);
/* "docker.io/library/busybox:latest", "...@sha256:..", or "...:tag@sha256:.." */
char *reference_to_string(const Reference *r);
/* "busybox:latest" */
char *reference_familiar(const Reference *r);
/* Familiar form of a full string reference; a copy if it does not parse. */
char *reference_familiar_string(const char *full);

/* Whether s can only be an image id (prefix): "sha256:" + hex, or 64 hex.
 * Returns the lowercase hex part. */
int reference_parse_id(const char *s, char **ret_hex);
/* Whether s could be an id prefix (1..64 lowercase hex). */
bool reference_is_id_prefix(const char *s) _pure_;
