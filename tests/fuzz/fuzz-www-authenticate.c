/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The registry's answers to authentication (lib/registry/registry-auth.c):
 * the input is a WWW-Authenticate value, and the same bytes are the token
 * service's JSON answer. */
#include "fuzz.h"
#include "registry-auth.h"
#include "util.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
        _cleanup_free_ char *s = fuzz_strndup(data, size), *url = NULL, *form = NULL, *token = NULL;
        AuthChallenge c = {};
        uint64_t lifetime = 0;
        int r;

        r = auth_challenge_parse(s, &c);
        if (r >= 0) {
                FUZZ_CHECK(c.scheme == AUTH_SCHEME_BASIC || c.scheme == AUTH_SCHEME_BEARER);
                if (c.scheme == AUTH_SCHEME_BEARER)
                        FUZZ_CHECK(c.realm && *c.realm);
                FUZZ_CHECK(!c.realm || strlen(c.realm) <= size);
                FUZZ_CHECK(!c.scope || strlen(c.scope) <= size);
                if (auth_token_url(&c, STRV_MAKE("repository:a/b:pull", c.scope ?: "x"), &url) >= 0) {
                        /* Nothing the server sent may break out of the URL. */
                        FUZZ_CHECK(!strpbrk(url, " \r\n#"));
                        FUZZ_CHECK(startswith(url, "http://") || startswith(url, "https://"));
                }
                if (auth_token_form(&c, STRV_MAKE("repository:a/b:pull"), "refresh", &form) >= 0)
                        FUZZ_CHECK(!strpbrk(form, " \r\n"));
        } else
                FUZZ_CHECK(IN_SET(r, -EBADMSG, -EOPNOTSUPP, -ENOMEM));
        auth_challenge_done(&c);

        if (auth_token_parse((const char *) data, size, &token, &lifetime) >= 0) {
                FUZZ_CHECK(*token && !strpbrk(token, "\r\n"));
                FUZZ_CHECK(lifetime >= 60 * USEC_PER_SEC);
        }
        return 0;
}
