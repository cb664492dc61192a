/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Credentials files (lib/shared/auth-file.c): the input is a first line
 * naming a registry, the rest an auth.json / config.json. The file is
 * looked up, then a login is stored into it and removed again, in a
 * directory made once below fuzz_tmpdir(). Beyond not crashing:
 *   - a lookup that succeeds returns credentials, a token or a helper;
 *   - a file that does not parse is never rewritten;
 *   - after a store, the lookup returns exactly what was stored and every
 *     other top-level key is kept;
 *   - after a remove, no key of auths means the registry any more. */
#include <fcntl.h>
#include <jansson.h>

#include "auth-file.h"
#include "fileio.h"
#include "fuzz.h"
#include "util.h"

static char top[PATH_MAX], path[PATH_MAX + 16];

static void cleanup(void) {
        if (top[0])
                (void) rm_rf_at(AT_FDCWD, top);
}

int LLVMFuzzerInitialize(int *argc, char ***argv) {
        snprintf(top, sizeof top, "%s/berth-fuzz-auth-file-XXXXXX", fuzz_tmpdir());
        FUZZ_CHECK(mkdtemp(top));
        atexit(cleanup);
        snprintf(path, sizeof path, "%s/auth.json", top);
        return 0;
}

static void check_lookup(const char *registry) {
        AuthEntry e = {};

        if (auth_file_lookup(path, registry, &e) < 0) {
                FUZZ_CHECK(!e.username && !e.password && !e.identity_token && !e.helper);
                return;
        }
        FUZZ_CHECK(!!e.username == !!e.password);
        FUZZ_CHECK(e.username || e.identity_token || !isempty(e.helper));
        auth_entry_done(&e);
}

static void check_kept(json_t *before, const char *registry) {
        json_t *after = json_load_file(path, 0, NULL), *v;
        const char *key;

        FUZZ_CHECK(json_is_object(after));
        json_object_foreach(before, key, v)
                if (!streq(key, "auths"))
                        FUZZ_CHECK(json_equal(v, json_object_get(after, key)));
        json_object_foreach(json_object_get(after, "auths"), key, v) {
                _cleanup_free_ char *k = NULL;
                FUZZ_CHECK(!(auth_normalize_registry(key, &k) >= 0 && streq(k, registry)) ||
                           json_is_string(json_object_get(v, "auth")));
        }
        json_decref(after);
}

static void check_store_remove(const char *registry, const char *content, size_t n) {
        static const char *password = "pw:\"ä\\";
        json_t *before = json_loadb(content, n, 0, NULL);
        _cleanup_free_ char *normal = NULL, *again = NULL;
        AuthEntry e = {};
        size_t m;
        int r;

        r = auth_file_store(path, registry, "fuzz", password);
        if (!json_is_object(before) || auth_normalize_registry(registry, &normal) < 0) {
                FUZZ_CHECK(r < 0);
                FUZZ_CHECK(read_full_file_at(AT_FDCWD, path, 1 << 20, &again, &m) == 0);
                FUZZ_CHECK(m == n && memcmp(again, content, n) == 0);
                json_decref(before);
                return;
        }
        FUZZ_CHECK(r == 0);
        check_kept(before, normal);
        FUZZ_CHECK(auth_file_lookup(path, registry, &e) == 0);
        FUZZ_CHECK(streq_ptr(e.username, "fuzz") && streq_ptr(e.password, password));
        auth_entry_done(&e);

        FUZZ_CHECK(auth_file_remove(path, registry) == 0);
        FUZZ_CHECK(auth_file_remove(path, registry) == -ENOENT);
        if (auth_file_lookup(path, registry, &e) == 0)
                FUZZ_CHECK(!e.username && !e.identity_token && e.helper);
        auth_entry_done(&e);
        json_decref(before);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
        const uint8_t *nl = memchr(data, '\n', size);
        size_t rl = nl ? (size_t) (nl - data) : size;
        _cleanup_free_ char *registry = fuzz_strndup(data, rl);
        const char *content = nl ? (const char *) nl + 1 : "";
        size_t n = nl ? size - rl - 1 : 0;

        FUZZ_CHECK(write_file_atomic_at(AT_FDCWD, path, content, n, 0600) == 0);
        check_lookup(registry);
        check_lookup("docker.io");
        check_store_remove(registry, content, n);
        (void) unlink(path);
        return 0;
}
