/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include "util.h"

/* Registry credentials files, in the two formats users have:
 *   podman's auth.json and docker's config.json, both
 *     { "auths": { "HOST[:PORT]": { "auth": base64("user:password"),
 *                                   "identitytoken": "..." } },
 *       "credHelpers": { "HOST": "NAME" }, "credsStore": "NAME" }   (docker only)
 * Keys are matched as docker and podman match them: "host[:port]", also
 * written with a scheme or a path ("https://index.docker.io/v1/" is
 * docker.io). Writes are atomic (write, fsync, rename) and keep every key
 * they do not understand; a new file is created 0600.
 *
 * berthctl reads the calling user's files; berthd keeps its own, root-only
 * (BERTH_AUTH_FILE), for pulls nobody is there to log in for. */

#define BERTH_AUTH_FILE "/etc/berth/auth.json"

typedef struct AuthEntry {
        char *username;
        char *password;
        char *identity_token;
        char *helper;        /* credHelpers / credsStore: "docker-credential-<helper>" holds them */
} AuthEntry;

void auth_entry_done(AuthEntry *e);   /* wipes and frees */

/* "docker.io", "index.docker.io", "https://index.docker.io/v1/",
 * "registry-1.docker.io" -> "docker.io"; others lower-cased host[:port]
 * without scheme and path. */
int auth_normalize_registry(const char *key, char **ret);

/* -ENOENT when neither the file nor an entry for registry exists. */
int auth_file_lookup(const char *path, const char *registry, AuthEntry *ret);
int auth_file_store(const char *path, const char *registry, const char *username, const char *password);
/* -ENOENT when there was nothing to remove. */
int auth_file_remove(const char *path, const char *registry);
