/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <ctype.h>
#include <jansson.h>
#include <strings.h>

#include "registry-auth.h"

#define AUTH_VALUE_MAX 4096U
#define AUTH_TOKEN_MAX (64U * 1024U)
#define AUTH_LIFETIME_MIN_USEC (60 * USEC_PER_SEC)
#define AUTH_LIFETIME_MAX_USEC (24 * 3600 * USEC_PER_SEC)

void auth_challenge_done(AuthChallenge *c) {
        if (!c)
                return;
        c->realm = mfree(c->realm);
        c->service = mfree(c->service);
        c->scope = mfree(c->scope);
        c->error = mfree(c->error);
        c->scheme = AUTH_SCHEME_NONE;
}

static bool is_tchar(char c) {
        /* RFC 7230's token characters. */
        return isalnum((unsigned char) c) || (c && strchr("!#$%&'*+-.^_`|~", c));
}

static const char *skip_ows(const char *p) {
        while (*p == ' ' || *p == '\t')
                p++;
        return p;
}

/* A token or a quoted-string; *p moves past it. */
static int parse_value(const char **p, char **ret) {
        const char *s = *p;
        _cleanup_free_ char *v = NULL;
        size_t n = 0;

        v = malloc(AUTH_VALUE_MAX + 1);
        if (!v)
                return -ENOMEM;

        if (*s == '"') {
                for (s++; *s != '"'; s++) {
                        if (!*s)
                                return -EBADMSG;
                        if (*s == '\\' && s[1])
                                s++;
                        if ((unsigned char) *s < 0x20 && *s != '\t')
                                return -EBADMSG;
                        if (n >= AUTH_VALUE_MAX)
                                return -EBADMSG;
                        v[n++] = *s;
                }
                s++;
        } else {
                for (; is_tchar(*s) || *s == '/' || *s == '=' || *s == ':'; s++) {
                        if (n >= AUTH_VALUE_MAX)
                                return -EBADMSG;
                        v[n++] = *s;
                }
        }
        v[n] = 0;
        *p = s;
        *ret = TAKE_PTR(v);
        return 0;
}

static int parse_token(const char **p, char *buf, size_t size) {
        size_t n = 0;

        for (; is_tchar(**p); (*p)++) {
                if (n + 1 >= size)
                        return -EBADMSG;
                buf[n++] = **p;
        }
        buf[n] = 0;
        return n > 0 ? 0 : -EBADMSG;
}

static void challenge_set(AuthChallenge *c, const char *key, char **value) {
        char **field = NULL;

        if (strcasecmp(key, "realm") == 0)
                field = &c->realm;
        else if (strcasecmp(key, "service") == 0)
                field = &c->service;
        else if (strcasecmp(key, "scope") == 0)
                field = &c->scope;
        else if (strcasecmp(key, "error") == 0)
                field = &c->error;
        if (field) {
                free(*field);
                *field = TAKE_PTR(*value);
        }
}

static AuthScheme scheme_from_string(const char *s) {
        if (strcasecmp(s, "Basic") == 0)
                return AUTH_SCHEME_BASIC;
        if (strcasecmp(s, "Bearer") == 0)
                return AUTH_SCHEME_BEARER;
        return AUTH_SCHEME_NONE;
}

/* Parses the auth-params after a scheme up to the next scheme or the end. */
static int parse_params(const char **p, AuthChallenge *c) {
        for (;;) {
                const char *s = skip_ows(*p), *save;
                char key[64];
                _cleanup_free_ char *value = NULL;
                int r;

                while (*s == ',')
                        s = skip_ows(s + 1);
                if (!*s) {
                        *p = s;
                        return 0;
                }
                save = s;
                r = parse_token(&s, key, sizeof key);
                if (r < 0)
                        return r;
                s = skip_ows(s);
                if (*s != '=') {
                        /* The next challenge's scheme. */
                        *p = save;
                        return 0;
                }
                s = skip_ows(s + 1);
                r = parse_value(&s, &value);
                if (r < 0)
                        return r;
                challenge_set(c, key, &value);
                s = skip_ows(s);
                if (*s && *s != ',')
                        return -EBADMSG;
                *p = s;
        }
}

int auth_challenge_parse(const char *value, AuthChallenge *ret) {
        AuthChallenge best = {};
        const char *p = value;
        int r;

        if (!value || strlen(value) > 4 * AUTH_VALUE_MAX)
                return -EBADMSG;

        for (;;) {
                AuthChallenge c = {};
                char scheme[64];

                p = skip_ows(p);
                while (*p == ',')
                        p = skip_ows(p + 1);
                if (!*p)
                        break;
                r = parse_token(&p, scheme, sizeof scheme);
                if (r < 0 || (*p && *p != ' ' && *p != '\t' && *p != ',')) {
                        auth_challenge_done(&best);
                        return -EBADMSG;
                }
                c.scheme = scheme_from_string(scheme);
                r = parse_params(&p, &c);
                if (r < 0) {
                        auth_challenge_done(&c);
                        auth_challenge_done(&best);
                        return r;
                }
                /* Bearer wins over Basic; the first of a kind wins over later ones. */
                if (c.scheme > best.scheme) {
                        auth_challenge_done(&best);
                        best = c;
                } else
                        auth_challenge_done(&c);
        }

        if (best.scheme == AUTH_SCHEME_NONE)
                return -EOPNOTSUPP;
        if (best.scheme == AUTH_SCHEME_BEARER && isempty(best.realm)) {
                auth_challenge_done(&best);
                return -EBADMSG;
        }
        *ret = best;
        return 0;
}

static int url_escape(const char *s, char **ret) {
        static const char hex[] = "0123456789ABCDEF";
        char *e, *q;

        e = q = malloc(strlen(s) * 3 + 1);
        if (!e)
                return -ENOMEM;
        for (; *s; s++) {
                unsigned char c = *s;

                if (isalnum(c) || strchr("-._~", c))
                        *q++ = c;
                else {
                        *q++ = '%';
                        *q++ = hex[c >> 4];
                        *q++ = hex[c & 15];
                }
        }
        *q = 0;
        *ret = e;
        return 0;
}

static int append_param(char **s, const char *sep, const char *key, const char *value) {
        _cleanup_free_ char *e = NULL;
        char *n;
        int r;

        if (!value)
                return 0;
        r = url_escape(value, &e);
        if (r < 0)
                return r;
        n = strjoin(*s, sep, key, "=", e);
        if (!n)
                return -ENOMEM;
        free(*s);
        *s = n;
        return 1;
}

int auth_token_url(const AuthChallenge *c, char * const *scopes, char **ret) {
        _cleanup_free_ char *u = NULL;
        const char *sep;
        int r;

        if (!c->realm || (!startswith(c->realm, "https://") && !startswith(c->realm, "http://")) ||
            strpbrk(c->realm, " \t\r\n#"))
                return -EBADMSG;

        u = strdup(c->realm);
        if (!u)
                return -ENOMEM;
        sep = strchr(u, '?') ? "&" : "?";
        r = append_param(&u, sep, "service", c->service);
        if (r < 0)
                return r;
        if (r > 0)
                sep = "&";
        STRV_FOREACH(scope, scopes) {
                r = append_param(&u, sep, "scope", *scope);
                if (r < 0)
                        return r;
                sep = "&";
        }
        *ret = TAKE_PTR(u);
        return 0;
}

int auth_token_form(const AuthChallenge *c, char * const *scopes, const char *refresh_token, char **ret) {
        _cleanup_free_ char *f = strdup("grant_type=refresh_token&client_id=berth");
        _cleanup_free_ char *scope = NULL;
        int r;

        if (!f)
                return -ENOMEM;
        if (scopes) {
                scope = strv_join(scopes, " ");
                if (!scope)
                        return -ENOMEM;
        }
        r = append_param(&f, "&", "service", c->service);
        if (r >= 0)
                r = append_param(&f, "&", "scope", scope);
        if (r >= 0)
                r = append_param(&f, "&", "refresh_token", refresh_token);
        if (r < 0) {
                explicit_bzero(f, strlen(f));
                return r;
        }
        *ret = TAKE_PTR(f);
        return 0;
}

int auth_token_parse(const char *json, size_t n, char **ret_token, uint64_t *ret_lifetime_usec) {
        json_t *root, *t, *e;
        uint64_t lifetime = AUTH_LIFETIME_MIN_USEC;
        const char *s;
        char *token;

        root = json_loadb(json, n, JSON_REJECT_DUPLICATES, NULL);
        if (!root || !json_is_object(root)) {
                json_decref(root);
                return -EBADMSG;
        }
        t = json_object_get(root, "token");
        if (!json_is_string(t) || json_string_length(t) == 0)
                t = json_object_get(root, "access_token");
        s = json_string_value(t);
        /* The token goes into a header: no control characters, bounded. */
        if (!s || !*s || json_string_length(t) > AUTH_TOKEN_MAX || strlen(s) != json_string_length(t) ||
            strpbrk(s, "\r\n")) {
                json_decref(root);
                return -EBADMSG;
        }
        e = json_object_get(root, "expires_in");
        if (json_is_integer(e) && json_integer_value(e) > 0)
                lifetime = MIN((uint64_t) json_integer_value(e), AUTH_LIFETIME_MAX_USEC / USEC_PER_SEC) *
                           USEC_PER_SEC;
        /* issued_at is the server's clock, ours is what counts: the lifetime
         * starts when we got the answer. */
        token = strdup(s);
        json_decref(root);
        if (!token)
                return -ENOMEM;
        *ret_token = token;
        *ret_lifetime_usec = MAX(lifetime, AUTH_LIFETIME_MIN_USEC);
        return 0;
}

struct AuthCache {
        char *endpoint;
        char *scope;
        char *token;
        uint64_t expiry;
        AuthCache *next;
};

static void auth_cache_entry_free(AuthCache *c) {
        free(c->endpoint);
        free(c->scope);
        erase_and_free(c->token);
        free(c);
}

AuthCache *auth_cache_free(AuthCache *c) {
        while (c) {
                AuthCache *n = c->next;
                auth_cache_entry_free(c);
                c = n;
        }
        return NULL;
}

const char *auth_cache_get(AuthCache *c, const char *endpoint, const char *scope, uint64_t now) {
        for (; c; c = c->next)
                if (streq(c->endpoint, endpoint) && streq(c->scope, scope))
                        return c->expiry > now ? c->token : NULL;
        return NULL;
}

void auth_cache_forget(AuthCache *c, const char *endpoint, const char *scope) {
        for (; c; c = c->next)
                if (streq(c->endpoint, endpoint) && streq(c->scope, scope))
                        c->expiry = 0;
}

int auth_cache_put(AuthCache **head, const char *endpoint, const char *scope, const char *token, uint64_t expiry) {
        AuthCache *c;

        for (c = *head; c; c = c->next)
                if (streq(c->endpoint, endpoint) && streq(c->scope, scope))
                        break;
        if (!c) {
                c = calloc(1, sizeof(*c));
                if (!c)
                        return -ENOMEM;
                c->endpoint = strdup(endpoint);
                c->scope = strdup(scope);
                if (!c->endpoint || !c->scope) {
                        auth_cache_entry_free(c);
                        return -ENOMEM;
                }
                c->next = *head;
                *head = c;
        }
        c->token = erase_and_free(c->token);
        c->token = strdup(token);
        if (!c->token)
                return -ENOMEM;
        c->expiry = expiry;
        return 0;
}
