/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/* Registry credentials as the calling user has them, found where docker and
 * podman users keep them, in this order:
 *   --authfile FILE, else $REGISTRY_AUTH_FILE (only that file), else
 *   ${XDG_RUNTIME_DIR}/containers/auth.json (or /run/containers/UID/auth.json),
 *   ~/.config/containers/auth.json, ~/.docker/config.json;
 * an entry naming a credential helper (credHelpers, credsStore) is asked with
 * "docker-credential-NAME get". They go to berthd inside the one call that
 * needs them, never on a command line or into an environment. */

typedef struct CtlCredentials {
        char *username;
        char *password;
        char *identity_token;
} CtlCredentials;

void ctl_credentials_done(CtlCredentials *c);   /* wipes */

/* 0 with everything NULL when there are none; registry as a reference's
 * domain ("docker.io", "127.0.0.1:5000"). */
int ctl_credentials_resolve(const char *registry, const char *authfile, CtlCredentials *ret);
/* Where login stores and logout removes: --authfile, $REGISTRY_AUTH_FILE or
 * podman's default. */
int ctl_credentials_store_path(const char *authfile, char **ret);
/* Asks helper ("docker-credential-NAME") for server's credentials: 0 and
 * NULLs when it has none. */
int ctl_credentials_from_helper(const char *helper, const char *server, CtlCredentials *ret);
