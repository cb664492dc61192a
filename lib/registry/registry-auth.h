/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include <stdint.h>

#include "util.h"

/* The registry's side of authentication: the WWW-Authenticate challenge of
 * a 401 (RFC 7235; Docker's token protocol), the token service's answer and
 * the tokens cached per endpoint and scope. Everything here comes from a
 * hostile server: lengths are bounded and nothing is trusted to be
 * well-formed. */

typedef enum AuthScheme {
        AUTH_SCHEME_NONE,
        AUTH_SCHEME_BASIC,
        AUTH_SCHEME_BEARER,
} AuthScheme;

typedef struct AuthChallenge {
        AuthScheme scheme;
        char *realm;
        char *service;
        char *scope;
        char *error;        /* "insufficient_scope", "invalid_token", ... */
} AuthChallenge;

void auth_challenge_done(AuthChallenge *c);

/* Parses one WWW-Authenticate value (possibly several challenges, Bearer
 * preferred over Basic; unknown schemes skipped). -EBADMSG when malformed,
 * -EOPNOTSUPP when no challenge is Basic or Bearer. */
int auth_challenge_parse(const char *value, AuthChallenge *ret);

/* "REALM?service=SERVICE&scope=S1&scope=S2", escaped; the realm must be an
 * http(s) URL without spaces or a fragment. */
int auth_token_url(const AuthChallenge *c, char * const *scopes, char **ret);
/* The refresh-token grant's form body (RFC 6749 section 6; scopes space-separated). */
int auth_token_form(const AuthChallenge *c, char * const *scopes, const char *refresh_token, char **ret);

/* The token service's JSON: {"token"|"access_token": "...", "expires_in": N,
 * "issued_at": "..."}; ret_lifetime_usec: how long it may be used (at
 * least 60 s, as the distribution spec says). */
int auth_token_parse(const char *json, size_t n, char **ret_token, uint64_t *ret_lifetime_usec);

/* Tokens for endpoint and scope until they expire (CLOCK_BOOTTIME usec). */
typedef struct AuthCache AuthCache;
AuthCache *auth_cache_free(AuthCache *c);
DEFINE_TRIVIAL_CLEANUP_FUNC(AuthCache *, auth_cache_free);
const char *auth_cache_get(AuthCache *c, const char *endpoint, const char *scope, uint64_t now);
int auth_cache_put(AuthCache **c, const char *endpoint, const char *scope, const char *token, uint64_t expiry);
void auth_cache_forget(AuthCache *c, const char *endpoint, const char *scope);
