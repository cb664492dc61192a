/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <ctype.h>
#include <fcntl.h>
#include <jansson.h>
#include <openssl/evp.h>
#include <sys/stat.h>

#include "auth-file.h"
#include "fileio.h"

#define AUTH_FILE_MAX (4U * 1024U * 1024U)

void auth_entry_done(AuthEntry *e) {
        if (!e)
                return;
        e->username = erase_and_free(e->username);
        e->password = erase_and_free(e->password);
        e->identity_token = erase_and_free(e->identity_token);
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
        for (char *p = n; *p; p++) {
                *p = tolower((unsigned char) *p);
                /* host[:port], an IPv6 address in brackets: nothing else is a registry */
                if (!strchr("abcdefghijklmnopqrstuvwxyz0123456789.-_:[]", *p)) {
                        free(n);
                        return -EINVAL;
                }
        }
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

/* The file's JSON object; -ENOENT when there is no file, -EBADMSG when it
 * is not an object. The bytes read are wiped: they hold secrets. */
static int read_root(const char *path, json_t **ret) {
        _cleanup_free_ char *data = NULL;
        json_t *root;
        size_t n;
        int r;

        r = read_full_file_at(AT_FDCWD, path, AUTH_FILE_MAX, &data, &n);
        if (r < 0)
                return r;
        root = json_loadb(data, n, 0, NULL);
        explicit_bzero(data, n);
        if (!json_is_object(root)) {
                json_decref(root);
                return -EBADMSG;
        }
        *ret = root;
        return 0;
}

int auth_file_lookup(const char *path, const char *registry, AuthEntry *ret) {
        _cleanup_free_ char *want = NULL;
        AuthEntry e = {};
        json_t *root, *auths, *v;
        const char *key, *helper;
        int r;

        r = auth_normalize_registry(registry, &want);
        if (r < 0)
                return r;
        r = read_root(path, &root);
        if (r < 0)
                return r;
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
        if (r == -ENOENT && isempty(helper))
                helper = json_string_value(json_object_get(root, "credsStore"));
        if (r == -ENOENT && !isempty(helper)) {   /* "credsStore": "" means none */
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

/* The file's JSON, or {} when it does not exist. */
static int load_root(const char *path, json_t **ret) {
        int r = read_root(path, ret);

        if (r != -ENOENT)
                return r;
        *ret = json_object();
        return *ret ? 0 : -ENOMEM;
}

static int mkdir_parents_private(const char *path) {
        _cleanup_free_ char *dir = strdup(path);
        char *slash;

        if (!dir)
                return -ENOMEM;
        slash = strrchr(dir, '/');
        if (!slash || slash == dir)
                return 0;
        *slash = 0;
        for (char *p = strchr(dir + 1, '/');; p = strchr(p + 1, '/')) {
                if (p)
                        *p = 0;
                if (mkdir(dir, 0700) < 0 && errno != EEXIST)
                        return -errno;
                if (!p)
                        return 0;
                *p = '/';
        }
}

static int save_root(const char *path, json_t *root) {
        char *data = json_dumps(root, JSON_INDENT(8) | JSON_SORT_KEYS);
        int r;

        if (!data)
                return -ENOMEM;
        r = mkdir_parents_private(path);
        if (r >= 0)
                r = write_file_atomic_at(AT_FDCWD, path, data, strlen(data), 0600);
        explicit_bzero(data, strlen(data));
        free(data);
        return r;
}

/* Removes every key of auths that means registry; returns how many. */
static int remove_keys(json_t *auths, const char *registry) {
        const char *key;
        json_t *v;
        void *tmp;
        int n = 0;

        json_object_foreach_safe(auths, tmp, key, v) {
                _cleanup_free_ char *k = NULL;
                if (auth_normalize_registry(key, &k) >= 0 && streq(k, registry)) {
                        json_object_del(auths, key);
                        n++;
                }
        }
        return n;
}

static char *encode_auth(const char *username, const char *password) {
        _cleanup_free_ char *plain = strjoin(username, ":", password);
        size_t n = plain ? strlen(plain) : 0;
        char *out;

        if (!plain)
                return NULL;
        out = malloc(4 * ((n + 2) / 3) + 1);
        if (out)
                EVP_EncodeBlock((unsigned char *) out, (const unsigned char *) plain, (int) n);
        explicit_bzero(plain, n);
        return out;
}

/* docker's own CLI finds Docker Hub only under its old index URL. */
static const char *store_key(const char *path, const char *key) {
        const char *base = strrchr(path, '/');

        if (streq(key, "docker.io") && streq(base ? base + 1 : path, "config.json"))
                return "https://index.docker.io/v1/";
        return key;
}

int auth_file_store(const char *path, const char *registry, const char *username, const char *password) {
        _cleanup_free_ char *key = NULL, *auth = NULL;
        json_t *root = NULL, *auths, *entry;
        int r;

        /* "user:password" is split at the first colon when read back. */
        if (isempty(username) || strchr(username, ':'))
                return -EINVAL;
        r = auth_normalize_registry(registry, &key);
        if (r >= 0)
                r = load_root(path, &root);
        if (r < 0)
                return r;
        auths = json_object_get(root, "auths");
        if (!json_is_object(auths)) {
                auths = json_object();
                if (!auths || json_object_set_new(root, "auths", auths) < 0) {
                        json_decref(root);
                        return -ENOMEM;
                }
        }
        (void) remove_keys(auths, key);
        auth = encode_auth(username, password);
        entry = auth ? json_pack("{s:s}", "auth", auth) : NULL;
        r = entry && json_object_set_new(auths, store_key(path, key), entry) == 0 ? save_root(path, root) : -ENOMEM;
        if (auth)
                explicit_bzero(auth, strlen(auth));
        json_decref(root);
        return r;
}

int auth_file_remove(const char *path, const char *registry) {
        _cleanup_free_ char *key = NULL;
        json_t *root = NULL;
        int r;

        r = auth_normalize_registry(registry, &key);
        if (r >= 0)
                r = load_root(path, &root);
        if (r < 0)
                return r;
        r = remove_keys(json_object_get(root, "auths"), key) > 0 ? save_root(path, root) : -ENOENT;
        json_decref(root);
        return r;
}
