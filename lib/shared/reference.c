/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <ctype.h>

#include "digest.h"
#include "reference.h"

Reference *reference_free(Reference *r) {
        if (!r)
                return NULL;
        free(r->domain);
        free(r->path);
        free(r->tag);
        free(r->digest);
        free(r);
        return NULL;
}

static bool is_alnum_lower(char c) {
        return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9');
}

/* [a-z0-9]+((\.|_|__|-+)[a-z0-9]+)* */
static bool path_component_valid(const char *s, size_t n) {
        size_t i = 0;

        if (n == 0 || !is_alnum_lower(s[0]) || !is_alnum_lower(s[n - 1]))
                return false;
        while (i < n) {
                if (is_alnum_lower(s[i])) {
                        i++;
                        continue;
                }
                size_t j = i;
                while (j < n && !is_alnum_lower(s[j]))
                        j++;
                size_t len = j - i;
                bool ok = (len == 1 && IN_SET(s[i], '.', '_', '-')) ||
                          (len == 2 && s[i] == '_' && s[i + 1] == '_') ||
                          strspn(s + i, "-") >= len;
                if (!ok)
                        return false;
                i = j;
        }
        return true;
}

/* host components [a-zA-Z0-9]([a-zA-Z0-9-]*[a-zA-Z0-9])? joined by dots,
 * optionally :port, or a bracketed IPv6 address with optional port. */
static bool domain_valid(const char *s, size_t n) {
        const char *colon, *end = s + n;
        size_t hn;

        if (n == 0)
                return false;
        if (s[0] == '[') {
                const char *rb = memchr(s, ']', n);
                if (!rb || rb == s + 1)
                        return false;
                for (const char *p = s + 1; p < rb; p++)
                        if (!isxdigit((unsigned char) *p) && *p != ':')
                                return false;
                colon = rb + 1 < end ? rb + 1 : NULL;
                if (colon && *colon != ':')
                        return false;
                hn = 0;
        } else {
                colon = memchr(s, ':', n);
                hn = colon ? (size_t) (colon - s) : n;
        }
        if (colon) {
                if (colon + 1 >= end)
                        return false;
                for (const char *p = colon + 1; p < end; p++)
                        if (!isdigit((unsigned char) *p))
                                return false;
        }
        for (size_t i = 0, start = 0; s[0] != '[' && i <= hn; i++) {
                if (i < hn && s[i] != '.')
                        continue;
                size_t len = i - start;
                if (len == 0 || !isalnum((unsigned char) s[start]) || !isalnum((unsigned char) s[i - 1]))
                        return false;
                for (size_t k = start; k < i; k++)
                        if (!isalnum((unsigned char) s[k]) && s[k] != '-')
                                return false;
                start = i + 1;
        }
        return true;
}

static bool tag_valid(const char *t) {
        size_t n = strlen(t);

        if (n == 0 || n > REFERENCE_TAG_MAX)
                return false;
        for (size_t i = 0; i < n; i++) {
                unsigned char c = (unsigned char) t[i];
                if (!(isalnum(c) || c == '_' || (i > 0 && (c == '.' || c == '-'))))
                        return false;
        }
        return true;
}

static int split_domain(const char *name, char **ret_domain, char **ret_path) {
        const char *slash = strchr(name, '/');
        _cleanup_free_ char *domain = NULL, *path = NULL;

        if (slash && (memchr(name, '.', (size_t) (slash - name)) ||
                      memchr(name, ':', (size_t) (slash - name)) ||
                      ((size_t) (slash - name) == strlen("localhost") && strneq(name, "localhost", 9)) ||
                      name[0] == '[')) {
                domain = strndup(name, (size_t) (slash - name));
                path = strdup(slash + 1);
        } else {
                domain = strdup(REFERENCE_DEFAULT_DOMAIN);
                path = strdup(name);
        }
        if (!domain || !path)
                return -ENOMEM;
        if (streq(domain, "index.docker.io") && free_and_strdup(&domain, REFERENCE_DEFAULT_DOMAIN) < 0)
                return -ENOMEM;
        if (streq(domain, REFERENCE_DEFAULT_DOMAIN) && !strchr(path, '/')) {
                char *p = strjoin("library/", path);
                if (!p)
                        return -ENOMEM;
                free(path);
                path = p;
        }
        *ret_domain = TAKE_PTR(domain);
        *ret_path = TAKE_PTR(path);
        return 0;
}

static int path_validate(const char *input, const char *path) {
        for (const char *p = path;;) {
                size_t n = strcspn(p, "/");
                if (!path_component_valid(p, n)) {
                        for (size_t i = 0; i < n; i++)
                                if (isupper((unsigned char) p[i]))
                                        return errmsg_set(-EINVAL, "Invalid reference \"%s\": repository name must be lowercase.", input);
                        return errmsg_set(-EINVAL, "Invalid reference \"%s\": invalid repository path component \"%.*s\".",
                                          input, (int) n, p);
                }
                if (!p[n])
                        return 0;
                p += n + 1;
        }
}

static int reference_parse_full(const char *s, bool default_tag, Reference **ret) {
        _cleanup_(reference_freep) Reference *r = NULL;
        _cleanup_free_ char *name = NULL;
        const char *at, *colon, *slash;
        int q;

        if (isempty(s))
                return errmsg_set(-EINVAL, "Invalid reference: empty name.");
        if (string_has_cc(s) || strchr(s, ' '))
                return errmsg_set(-EINVAL, "Invalid reference \"%s\": contains whitespace or control characters.", s);
        if (string_is_hex(s, DIGEST_HEX_LEN))
                return errmsg_set(-EINVAL, "Invalid repository name \"%s\": cannot specify 64-byte hexadecimal strings.", s);
        r = calloc(1, sizeof *r);
        if (!r)
                return -ENOMEM;
        at = strrchr(s, '@');
        if (at) {
                if (digest_validate(at + 1) < 0)
                        return errmsg_set(-EINVAL, "Invalid reference \"%s\": invalid digest \"%s\".", s, at + 1);
                r->digest = strdup(at + 1);
                if (!r->digest)
                        return -ENOMEM;
        }
        name = at ? strndup(s, (size_t) (at - s)) : strdup(s);
        if (!name)
                return -ENOMEM;
        slash = strrchr(name, '/');
        colon = strrchr(slash ?: name, ':');
        if (colon) {
                if (!tag_valid(colon + 1))
                        return errmsg_set(-EINVAL, "Invalid reference \"%s\": invalid tag \"%s\".", s, colon + 1);
                r->tag = strdup(colon + 1);
                if (!r->tag)
                        return -ENOMEM;
                name[colon - name] = 0;
        }
        if (isempty(name))
                return errmsg_set(-EINVAL, "Invalid reference \"%s\": empty repository name.", s);
        q = split_domain(name, &r->domain, &r->path);
        if (q < 0)
                return q;
        /* The limit applies to the normalised name, as in Docker: what is
         * stored ("docker.io/library/NAME") must parse again. */
        if (strlen(r->domain) + 1 + strlen(r->path) > REFERENCE_NAME_MAX)
                return errmsg_set(-EINVAL, "Invalid reference \"%s\": repository name longer than %d characters.",
                                  s, REFERENCE_NAME_MAX);
        if (!domain_valid(r->domain, strlen(r->domain)))
                return errmsg_set(-EINVAL, "Invalid reference \"%s\": invalid registry \"%s\".", s, r->domain);
        q = path_validate(s, r->path);
        if (q < 0)
                return q;
        if (default_tag && !r->tag && !r->digest) {
                r->tag = strdup(REFERENCE_DEFAULT_TAG);
                if (!r->tag)
                        return -ENOMEM;
        }
        *ret = TAKE_PTR(r);
        return 0;
}

int reference_parse(const char *s, Reference **ret) {
        return reference_parse_full(s, true, ret);
}

int reference_parse_name(const char *s, Reference **ret) {
        return reference_parse_full(s, false, ret);
}

char *reference_name(const Reference *r) {
        return strjoin(r->domain, "/", r->path);
}

char *reference_to_string(const Reference *r) {
        return strjoin(r->domain, "/", r->path,
                       r->tag ? ":" : "", strempty(r->tag),
                       r->digest ? "@" : "", strempty(r->digest));
}

char *reference_familiar(const Reference *r) {
        const char *path = r->path;

        if (!streq(r->domain, REFERENCE_DEFAULT_DOMAIN))
                return reference_to_string(r);
        path = startswith(path, "library/") && !strchr(path + 8, '/') ? path + 8 : path;
        return strjoin(path,
                       r->tag ? ":" : "", strempty(r->tag),
                       r->digest ? "@" : "", strempty(r->digest));
}

char *reference_familiar_string(const char *full) {
        _cleanup_(reference_freep) Reference *r = NULL;

        if (reference_parse_name(full, &r) < 0)
                return strdup(full);
        return reference_familiar(r);
}

bool reference_is_id_prefix(const char *s) {
        size_t n = strlen(s);

        return n > 0 && n <= DIGEST_HEX_LEN && string_is_hex(s, n);
}

int reference_parse_id(const char *s, char **ret_hex) {
        const char *hex = startswith(s, "sha256:");
        char *c;

        if (hex) {
                if (!reference_is_id_prefix(hex))
                        return errmsg_set(-EINVAL, "Invalid image id \"%s\".", s);
        } else if (string_is_hex(s, DIGEST_HEX_LEN))
                hex = s;
        else
                return errmsg_set(-EINVAL, "\"%s\" is not an image id.", s);
        c = strdup(hex);
        if (!c)
                return -ENOMEM;
        *ret_hex = c;
        return 0;
}
