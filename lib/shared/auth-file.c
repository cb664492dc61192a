/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The reading half of auth-file.h (what the registry client needs); the
 * writing half (auth_file_store/remove) is the login's. */
#include <ctype.h>
#include <fcntl.h>
#include <jansson.h>
#include <openssl/evp.h>

#include "auth-file.h"
#include "fileio.h"

#define AUTH_FILE_MAX (4U * 1024U * 1024U)

static void free_wiped(char **p) {
        if (*p) {
                explicit_bzero(*p, strlen(*p));
                *p = mfree(*p);
        }
}

void auth_entry_done(AuthEntry *e) {
        if (!e)
                return;
        free_wiped(&e->username);
        free_wiped(&e->password);
        free_wiped(&e->identity_token);
        e->helper = mfree(e->helper);
}

int auth_normalize_registry(const char *key, char **ret) {
        const char *s = key, *e;
        char *n;

        if (isempty(key))
                return -EINVAL;
        s = startswith(s, "https://") ?: startswith(s, "http://") ?: s;
        e = strchrnul(s, '/');
        if (e == s)
                return -EINVAL;
        n = strndup(s, e - s);
        if (!n)
                return -ENOMEM;
        for (char *p = n; *p; p++)
                *p = tolower((unsigned char) *p);
        if (IN_SET_STR(n, "index.docker.io", "registry-1.docker.io", "docker.io")) {
                free(n);
                n = strdup("docker.io");
                if (!n)
                        return -ENOMEM;
        }
        *ret = n;
        return 0;
}

static int decode_auth(const char *b64, AuthEntry *ret) {
        size_t n = strlen(b64);
        _cleanup_free_ unsigned char *buf = NULL;
        char *colon;
        int k;

        if (n == 0 || n % 4 != 0 || n > 64 * 1024)
                return -EBADMSG;
        buf = malloc(n / 4 * 3 + 1);
        if (!buf)
                return -ENOMEM;
        k = EVP_DecodeBlock(buf, (const unsigned char *) b64, n);
        if (k < 0)
                return -EBADMSG;
        /* EVP_DecodeBlock counts the padding as zero bytes. */
        while (k > 0 && n > 0 && b64[n - 1] == '=') {
                k--;
                n--;
        }
        buf[k] = 0;
        colon = memchr(buf, ':', k);
        if (!colon || strlen((char *) buf) != (size_t) k) {
                explicit_bzero(buf, k);
                return -EBADMSG;
        }
        *colon = 0;
        ret->username = strdup((char *) buf);
        ret->password = strdup(colon + 1);
        explicit_bzero(buf, k);
        return ret->username && ret->password ? 0 : -ENOMEM;
}

static int entry_from_json(json_t *v, AuthEntry *ret) {
        const char *auth = json_string_value(json_object_get(v, "auth"));
        const char *token = json_string_value(json_object_get(v, "identitytoken"));
        int r;

        if (!isempty(auth)) {
                r = decode_auth(auth, ret);
                if (r < 0)
                        return r;
        }
        if (!isempty(token) && !(ret->identity_token = strdup(token)))
                return -ENOMEM;
        return ret->username || ret->identity_token ? 0 : -ENOENT;
}

int auth_file_lookup(const char *path, const char *registry, AuthEntry *ret) {
        _cleanup_free_ char *data = NULL, *want = NULL;
        AuthEntry e = {};
        json_t *root, *auths, *v;
        const char *key, *helper;
        size_t n;
        int r;

        r = auth_normalize_registry(registry, &want);
        if (r < 0)
                return r;
        r = read_full_file_at(AT_FDCWD, path, AUTH_FILE_MAX, &data, &n);
        if (r < 0)
                return r;
        root = json_loadb(data, n, 0, NULL);
        explicit_bzero(data, n);
        if (!json_is_object(root)) {
                json_decref(root);
                return -EBADMSG;
        }
        r = -ENOENT;
        auths = json_object_get(root, "auths");
        json_object_foreach(auths, key, v) {
                _cleanup_free_ char *k = NULL;

                if (auth_normalize_registry(key, &k) < 0 || !streq(k, want))
                        continue;
                r = entry_from_json(v, &e);
                if (r != -ENOENT)
                        break;
        }
        helper = json_string_value(json_object_get(json_object_get(root, "credHelpers"), want));
        if (r == -ENOENT && !helper)
                helper = json_string_value(json_object_get(root, "credsStore"));
        if (r == -ENOENT && helper) {
                e.helper = strdup(helper);
                r = e.helper ? 0 : -ENOMEM;
        }
        json_decref(root);
        if (r < 0) {
                auth_entry_done(&e);
                return r;
        }
        *ret = e;
        return 0;
}
