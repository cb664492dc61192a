/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* lib/shared/auth-file.c: podman's auth.json and docker's config.json as
 * berthctl and berthd read and write them. Every file is made below one
 * temporary directory that main() removes. */
#include <dirent.h>
#include <fcntl.h>
#include <jansson.h>
#include <sys/stat.h>

#include "check-util.h"

#include "auth-file.h"
#include "fileio.h"

static char top[] = "/tmp/berth-test-auth-file-XXXXXX";

/* A fresh path below top for each caller, so tests never share a file
 * (each test runs in a child of its own, hence the pid). */
static char *fresh_path(const char *name) {
        static unsigned counter;
        char *p;

        ck_assert_int_ge(asprintf(&p, "%s/%d-%u-%s", top, (int) getpid(), counter++, name), 0);
        return p;
}

static char *file_with(const char *content) {
        char *p = fresh_path("auth.json");

        ck_assert_int_eq(write_file_atomic_at(AT_FDCWD, p, content, strlen(content), 0600), 0);
        return p;
}

static char *read_text(const char *path) {
        char *s;
        size_t n;

        ck_assert_int_eq(read_full_file_at(AT_FDCWD, path, 1 << 20, &s, &n), 0);
        return s;
}

static json_t *read_json(const char *path) {
        json_error_t e;
        json_t *j = json_load_file(path, 0, &e);

        ck_assert_msg(json_is_object(j), "%s: %s", path, e.text);
        return j;
}

static const struct {
        const char *key, *normal;
} normal[] = {
        { "docker.io", "docker.io" },
        { "index.docker.io", "docker.io" },
        { "registry-1.docker.io", "docker.io" },
        { "https://index.docker.io/v1/", "docker.io" },
        { "http://index.docker.io/v1/", "docker.io" },
        { "Docker.IO", "docker.io" },
        { "docker.io/library/busybox", "docker.io" },
        { "quay.io", "quay.io" },
        { "https://Quay.IO/v2/", "quay.io" },
        { "localhost:5000", "localhost:5000" },
        { "http://127.0.0.1:5000/v2/", "127.0.0.1:5000" },
        { "Registry.Example.COM:443/team/app", "registry.example.com:443" },
        { "[::1]:5000", "[::1]:5000" },
        /* Only docker.io's own names are docker.io. */
        { "docker.io.evil.example", "docker.io.evil.example" },
        { "index.docker.io:5000", "index.docker.io:5000" },
};

START_TEST(test_normalize) {
        _cleanup_free_ char *n = NULL;

        ck_assert_int_eq(auth_normalize_registry(normal[_i].key, &n), 0);
        ck_assert_str_eq(n, normal[_i].normal);
}
END_TEST

START_TEST(test_normalize_bad) {
        static const char *bad[] = { "", "/", "/v2/", "https://", "https:///v1/" };

        for (size_t i = 0; i < ELEMENTSOF(bad); i++) {
                char *n = NULL;
                ck_assert_msg(auth_normalize_registry(bad[i], &n) == -EINVAL, "%s", bad[i]);
                ck_assert_ptr_null(n);
        }
        ck_assert_int_eq(auth_normalize_registry(NULL, &(char *){ NULL }), -EINVAL);
}
END_TEST

/* base64("alice:s3cret:with:colons") and base64("bob:hunter2"). */
#define ALICE "YWxpY2U6czNjcmV0OndpdGg6Y29sb25z"
#define BOB "Ym9iOmh1bnRlcjI="

START_TEST(test_lookup_podman) {
        _cleanup_free_ char *p = file_with("{ \"auths\": {"
                                           " \"localhost:5000\": { \"auth\": \"" ALICE "\" },"
                                           " \"quay.io\": { \"auth\": \"" BOB "\" } } }");
        AuthEntry e = {};

        ck_assert_int_eq(auth_file_lookup(p, "localhost:5000", &e), 0);
        /* docker splits user:password at the first colon; a password may hold more. */
        ck_assert_str_eq(e.username, "alice");
        ck_assert_str_eq(e.password, "s3cret:with:colons");
        ck_assert_ptr_null(e.identity_token);
        ck_assert_ptr_null(e.helper);
        auth_entry_done(&e);
        ck_assert_ptr_null(e.username);
        ck_assert_ptr_null(e.password);

        ck_assert_int_eq(auth_file_lookup(p, "https://QUAY.io/v2/", &e), 0);
        ck_assert_str_eq(e.username, "bob");
        ck_assert_str_eq(e.password, "hunter2");
        auth_entry_done(&e);
        auth_entry_done(&e);   /* twice is harmless */

        ck_assert_int_eq(auth_file_lookup(p, "localhost:5001", &e), -ENOENT);
        ck_assert_int_eq(auth_file_lookup(p, "localhost", &e), -ENOENT);
}
END_TEST

/* docker login writes Docker Hub as "https://index.docker.io/v1/"; every
 * name of Docker Hub finds it. */
START_TEST(test_lookup_docker_hub) {
        static const char *names[] = { "docker.io", "index.docker.io", "registry-1.docker.io",
                                       "https://index.docker.io/v1/" };
        _cleanup_free_ char *p = file_with("{ \"auths\": { \"https://index.docker.io/v1/\":"
                                           " { \"auth\": \"" BOB "\", \"email\": \"x@y\" } } }");

        for (size_t i = 0; i < ELEMENTSOF(names); i++) {
                AuthEntry e = {};
                ck_assert_msg(auth_file_lookup(p, names[i], &e) == 0, "%s", names[i]);
                ck_assert_str_eq(e.username, "bob");
                ck_assert_str_eq(e.password, "hunter2");
                auth_entry_done(&e);
        }
}
END_TEST

START_TEST(test_lookup_identity_token) {
        _cleanup_free_ char *p = file_with("{ \"auths\": {"
                                           " \"a.example\": { \"identitytoken\": \"tok-123\" },"
                                           " \"b.example\": { \"auth\": \"" BOB "\", \"identitytoken\": \"tok-b\" } } }");
        AuthEntry e = {};

        ck_assert_int_eq(auth_file_lookup(p, "a.example", &e), 0);
        ck_assert_ptr_null(e.username);
        ck_assert_ptr_null(e.password);
        ck_assert_str_eq(e.identity_token, "tok-123");
        auth_entry_done(&e);

        ck_assert_int_eq(auth_file_lookup(p, "b.example", &e), 0);
        ck_assert_str_eq(e.username, "bob");
        ck_assert_str_eq(e.identity_token, "tok-b");
        auth_entry_done(&e);
}
END_TEST

/* docker with a credential store leaves empty entries in auths; the
 * helper for the registry wins over the general store. */
START_TEST(test_lookup_helpers) {
        _cleanup_free_ char *p = file_with("{ \"auths\": { \"https://index.docker.io/v1/\": {},"
                                           "             \"inline.example\": { \"auth\": \"" BOB "\" } },"
                                           "  \"credHelpers\": { \"gcr.io\": \"gcloud\","
                                           "                     \"inline.example\": \"never\" },"
                                           "  \"credsStore\": \"desktop\" }");
        AuthEntry e = {};

        ck_assert_int_eq(auth_file_lookup(p, "gcr.io", &e), 0);
        ck_assert_str_eq(e.helper, "gcloud");
        ck_assert_ptr_null(e.username);
        auth_entry_done(&e);
        ck_assert_ptr_null(e.helper);

        ck_assert_int_eq(auth_file_lookup(p, "docker.io", &e), 0);
        ck_assert_str_eq(e.helper, "desktop");
        ck_assert_ptr_null(e.username);
        auth_entry_done(&e);

        /* Any registry at all goes to the store. */
        ck_assert_int_eq(auth_file_lookup(p, "elsewhere.example:8443", &e), 0);
        ck_assert_str_eq(e.helper, "desktop");
        auth_entry_done(&e);

        /* Credentials in the file itself are used as they are. */
        ck_assert_int_eq(auth_file_lookup(p, "inline.example", &e), 0);
        ck_assert_str_eq(e.username, "bob");
        ck_assert_ptr_null(e.helper);
        auth_entry_done(&e);
}
END_TEST

/* Two keys for one registry, the first empty: the one with credentials is found. */
START_TEST(test_lookup_duplicate_keys) {
        _cleanup_free_ char *p = file_with("{ \"auths\": { \"docker.io\": {},"
                                           " \"https://index.docker.io/v1/\": { \"auth\": \"" BOB "\" } } }");
        AuthEntry e = {};

        ck_assert_int_eq(auth_file_lookup(p, "docker.io", &e), 0);
        ck_assert_str_eq(e.username, "bob");
        auth_entry_done(&e);
}
END_TEST

START_TEST(test_lookup_missing) {
        _cleanup_free_ char *p = fresh_path("nonexistent.json");
        _cleanup_free_ char *empty = file_with("{}");
        _cleanup_free_ char *odd = file_with("{ \"auths\": [ \"docker.io\" ], \"credHelpers\": 7,"
                                             "  \"credsStore\": 8 }");
        _cleanup_free_ char *blank = file_with("{ \"auths\": { \"docker.io\": { \"auth\": \"\","
                                               " \"identitytoken\": \"\" }, \"quay.io\": 5 } }");
        AuthEntry e = {};

        ck_assert_int_eq(auth_file_lookup(p, "docker.io", &e), -ENOENT);
        ck_assert_int_eq(auth_file_lookup(empty, "docker.io", &e), -ENOENT);
        ck_assert_int_eq(auth_file_lookup(odd, "docker.io", &e), -ENOENT);
        ck_assert_int_eq(auth_file_lookup(blank, "docker.io", &e), -ENOENT);
        ck_assert_int_eq(auth_file_lookup(blank, "quay.io", &e), -ENOENT);
        ck_assert_int_eq(auth_file_lookup(empty, "", &e), -EINVAL);
        ck_assert_ptr_null(e.username);
        ck_assert_ptr_null(e.helper);
}
END_TEST

/* An empty helper name is no helper (docker: credsStore "" means the file
 * itself); else berthctl would run "docker-credential-". */
START_TEST(test_lookup_empty_helper) {
        _cleanup_free_ char *p = file_with("{ \"credHelpers\": { \"docker.io\": \"\" }, \"credsStore\": \"\" }");
        _cleanup_free_ char *q = file_with("{ \"credHelpers\": { \"docker.io\": \"\" }, \"credsStore\": \"desktop\" }");
        AuthEntry e = {};

        ck_assert_int_eq(auth_file_lookup(p, "docker.io", &e), -ENOENT);
        ck_assert_int_eq(auth_file_lookup(p, "quay.io", &e), -ENOENT);
        ck_assert_ptr_null(e.helper);
        ck_assert_int_eq(auth_file_lookup(q, "docker.io", &e), 0);
        ck_assert_str_eq(e.helper, "desktop");
        auth_entry_done(&e);
}
END_TEST

/* What a hostile or broken file may hold: each is refused, none crashes. */
static const struct {
        const char *content;
        int error;
} broken[] = {
        { "", -EBADMSG },
        { "not json", -EBADMSG },
        { "[]", -EBADMSG },
        { "\"auths\"", -EBADMSG },
        { "{ \"auths\": { \"docker.io\": { \"auth\": \"" BOB "\" } }", -EBADMSG },   /* truncated */
        { "{ \"auths\": { \"docker.io\": { \"auth\": \"!!!!\" } } }", -EBADMSG },    /* not base64 */
        { "{ \"auths\": { \"docker.io\": { \"auth\": \"Ym9i\" } } }", -EBADMSG },    /* "bob", no colon */
        { "{ \"auths\": { \"docker.io\": { \"auth\": \"Ym9\" } } }", -EBADMSG },     /* bad length */
        { "{ \"auths\": { \"docker.io\": { \"auth\": \"Ym9iADpwdw==\" } } }", -EBADMSG },  /* "bob\0:pw" */
        { "{ \"auths\": { \"docker.io\": { \"auth\": \"Ym9iOnB3AHg=\" } } }", -EBADMSG },  /* "bob:pw\0x" */
};

START_TEST(test_lookup_broken) {
        _cleanup_free_ char *p = file_with(broken[_i].content);
        AuthEntry e = {};

        ck_assert_int_eq(auth_file_lookup(p, "docker.io", &e), broken[_i].error);
        ck_assert_ptr_null(e.username);
        ck_assert_ptr_null(e.password);
}
END_TEST

static char *repeat(const char *open, size_t n, const char *middle, const char *close) {
        size_t lo = strlen(open), lm = strlen(middle), lc = strlen(close);
        char *s = malloc(n * (lo + lc) + lm + 1), *q = s;

        ck_assert_ptr_nonnull(s);
        for (size_t i = 0; i < n; i++, q += lo)
                memcpy(q, open, lo);
        memcpy(q, middle, lm);
        q += lm;
        for (size_t i = 0; i < n; i++, q += lc)
                memcpy(q, close, lc);
        *q = 0;
        return s;
}

START_TEST(test_lookup_hostile_sizes) {
        _cleanup_free_ char *deep = repeat("[", 200000, "", "]");
        _cleanup_free_ char *long_auth = repeat("QUFB", 40000, "", "");   /* 160 KB of "AAA..." */
        _cleanup_free_ char *doc = NULL, *p_deep = NULL, *p_long = NULL, *p_big = NULL;
        AuthEntry e = {};
        _cleanup_close_ int fd = -EBADF;

        p_deep = file_with(deep);
        ck_assert_int_eq(auth_file_lookup(p_deep, "docker.io", &e), -EBADMSG);

        ck_assert_int_ge(asprintf(&doc, "{ \"auths\": { \"docker.io\": { \"auth\": \"%s\" } } }", long_auth), 0);
        p_long = file_with(doc);
        ck_assert_int_eq(auth_file_lookup(p_long, "docker.io", &e), -EBADMSG);

        /* Larger than any credentials file: not read into memory whole. */
        p_big = fresh_path("big.json");
        fd = open(p_big, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
        ck_assert_int_ge(fd, 0);
        ck_assert_int_eq(write(fd, "{", 1), 1);
        ck_assert_int_eq(ftruncate(fd, 64 << 20), 0);
        ck_assert_int_eq(auth_file_lookup(p_big, "docker.io", &e), -EFBIG);
        ck_assert_ptr_null(e.username);
}
END_TEST

START_TEST(test_store_new) {
        _cleanup_free_ char *dir = fresh_path("new"), *p = NULL, *text = NULL;
        json_t *j;
        struct stat st;
        AuthEntry e = {};
        const char *password = "pä:ss \"w\\rd\"";

        /* The parents are made, private: ~/.config/containers may not exist yet. */
        ck_assert_int_ge(asprintf(&p, "%s/containers/auth.json", dir), 0);
        ck_assert_int_eq(auth_file_store(p, "https://index.docker.io/v1/", "alice", password), 0);

        ck_assert_int_eq(stat(p, &st), 0);
        ck_assert_int_eq(st.st_mode & 07777, 0600);
        ck_assert_int_eq(stat(dir, &st), 0);
        ck_assert_int_eq(st.st_mode & 07777, 0700);

        ck_assert_int_eq(auth_file_lookup(p, "docker.io", &e), 0);
        ck_assert_str_eq(e.username, "alice");
        ck_assert_str_eq(e.password, password);
        auth_entry_done(&e);

        /* podman's form: the normalized key, "auth" = base64(user:password). */
        j = read_json(p);
        ck_assert_str_eq(json_string_value(json_object_get(json_object_get(json_object_get(j, "auths"),
                                                                           "docker.io"), "auth")),
                         "YWxpY2U6cMOkOnNzICJ3XHJkIg==");
        json_decref(j);
        text = read_text(p);
        ck_assert_ptr_null(strstr(text, "alice"));
}
END_TEST

/* Everything the file held that is not this registry's entry survives. */
START_TEST(test_store_keeps_unknown) {
        _cleanup_free_ char *p = file_with(
                "{ \"auths\": { \"quay.io\": { \"auth\": \"" BOB "\", \"email\": \"b@q\" },"
                "              \"https://index.docker.io/v1/\": { \"auth\": \"" BOB "\" },"
                "              \"index.docker.io\": { \"identitytoken\": \"old\" } },"
                "  \"credHelpers\": { \"gcr.io\": \"gcloud\" },"
                "  \"credsStore\": \"desktop\","
                "  \"HttpHeaders\": { \"User-Agent\": \"x\" },"
                "  \"psFormat\": \"table {{.ID}}\","
                "  \"experimental\": { \"nested\": [1, 2, { \"a\": null }] } }");
        json_t *before = read_json(p), *after;
        AuthEntry e = {};
        const char *key;
        json_t *v;

        ck_assert_int_eq(auth_file_store(p, "docker.io", "alice", "new"), 0);
        after = read_json(p);

        json_object_foreach(before, key, v)
                if (!streq(key, "auths"))
                        ck_assert_msg(json_equal(v, json_object_get(after, key)), "%s lost", key);
        ck_assert(json_equal(json_object_get(json_object_get(before, "auths"), "quay.io"),
                             json_object_get(json_object_get(after, "auths"), "quay.io")));
        /* Docker Hub's older keys are gone: a lookup could otherwise find the old ones. */
        ck_assert_int_eq(json_object_size(json_object_get(after, "auths")), 2);
        ck_assert_ptr_nonnull(json_object_get(json_object_get(after, "auths"), "docker.io"));

        ck_assert_int_eq(auth_file_lookup(p, "https://index.docker.io/v1/", &e), 0);
        ck_assert_str_eq(e.username, "alice");
        ck_assert_str_eq(e.password, "new");
        ck_assert_ptr_null(e.identity_token);
        auth_entry_done(&e);
        json_decref(before);
        json_decref(after);
}
END_TEST

/* "auths" of the wrong type is replaced, not a reason to fail a login. */
START_TEST(test_store_bad_auths) {
        _cleanup_free_ char *p = file_with("{ \"auths\": 42, \"other\": true }");
        AuthEntry e = {};
        json_t *j;

        ck_assert_int_eq(auth_file_store(p, "localhost:5000", "u", "p"), 0);
        ck_assert_int_eq(auth_file_lookup(p, "localhost:5000", &e), 0);
        ck_assert_str_eq(e.username, "u");
        auth_entry_done(&e);
        j = read_json(p);
        ck_assert(json_is_true(json_object_get(j, "other")));
        json_decref(j);
}
END_TEST

/* A file that does not parse is left as it is: storing must not throw
 * away whatever the user had there. */
START_TEST(test_store_refuses_broken) {
        static const char *content = "{ \"auths\": { \"quay.io\": ";
        _cleanup_free_ char *p = file_with(content), *after = NULL;

        ck_assert_int_eq(auth_file_store(p, "docker.io", "u", "p"), -EBADMSG);
        ck_assert_int_eq(auth_file_remove(p, "docker.io"), -EBADMSG);
        after = read_text(p);
        ck_assert_str_eq(after, content);
        ck_assert_int_eq(auth_file_store(p, "", "u", "p"), -EINVAL);
}
END_TEST

static unsigned count_entries(const char *dir) {
        _cleanup_(closedirp) DIR *d = opendir(dir);
        struct dirent *de;
        unsigned n = 0;

        ck_assert_ptr_nonnull(d);
        while ((de = readdir(d)))
                if (!streq(de->d_name, ".") && !streq(de->d_name, ".."))
                        n++;
        return n;
}

/* Written to a temporary file and renamed over: a reader sees the old or
 * the new file, never half of one; a group- or world-readable file
 * becomes the user's alone; no temporary file stays behind. */
START_TEST(test_store_atomic) {
        _cleanup_free_ char *dir = fresh_path("atomic"), *p = NULL;
        _cleanup_close_ int old = -EBADF;
        struct stat before, after;
        char buf[64] = {};

        ck_assert_int_eq(mkdir(dir, 0755), 0);
        ck_assert_int_ge(asprintf(&p, "%s/config.json", dir), 0);
        ck_assert_int_eq(write_file_atomic_at(AT_FDCWD, p, "{}", 2, 0644), 0);
        ck_assert_int_eq(stat(p, &before), 0);
        old = open(p, O_RDONLY | O_CLOEXEC);
        ck_assert_int_ge(old, 0);

        ck_assert_int_eq(auth_file_store(p, "quay.io", "u", "p"), 0);
        ck_assert_int_eq(stat(p, &after), 0);
        ck_assert(before.st_ino != after.st_ino);
        ck_assert_int_eq(after.st_mode & 07777, 0600);
        /* Who had the file open still reads the old content. */
        ck_assert_int_eq(read(old, buf, sizeof buf - 1), 2);
        ck_assert_str_eq(buf, "{}");
        ck_assert_uint_eq(count_entries(dir), 1);
}
END_TEST

/* A symlink planted where the file goes is replaced, its target never written. */
START_TEST(test_store_symlink) {
        _cleanup_free_ char *dir = fresh_path("link"), *p = NULL, *victim = NULL, *text = NULL;
        struct stat st;

        ck_assert_int_eq(mkdir(dir, 0700), 0);
        ck_assert_int_ge(asprintf(&p, "%s/auth.json", dir), 0);
        victim = file_with("{ \"precious\": 1 }");
        ck_assert_int_eq(symlink(victim, p), 0);

        ck_assert_int_eq(auth_file_store(p, "quay.io", "u", "p"), 0);
        ck_assert_int_eq(lstat(p, &st), 0);
        ck_assert(S_ISREG(st.st_mode));
        text = read_text(victim);
        ck_assert_str_eq(text, "{ \"precious\": 1 }");
}
END_TEST

START_TEST(test_remove) {
        _cleanup_free_ char *p = file_with(
                "{ \"auths\": { \"docker.io\": { \"auth\": \"" BOB "\" },"
                "              \"https://index.docker.io/v1/\": { \"auth\": \"" BOB "\" },"
                "              \"quay.io\": { \"auth\": \"" ALICE "\" } },"
                "  \"credHelpers\": { \"docker.io\": \"pass\" }, \"keep\": \"me\" }");
        AuthEntry e = {};
        struct stat st;
        json_t *j;

        ck_assert_int_eq(auth_file_remove(p, "index.docker.io"), 0);
        j = read_json(p);
        ck_assert_int_eq(json_object_size(json_object_get(j, "auths")), 1);
        ck_assert_str_eq(json_string_value(json_object_get(j, "keep")), "me");
        /* The helper's configuration is not ours to change. */
        ck_assert_str_eq(json_string_value(json_object_get(json_object_get(j, "credHelpers"), "docker.io")),
                         "pass");
        json_decref(j);
        ck_assert_int_eq(stat(p, &st), 0);
        ck_assert_int_eq(st.st_mode & 07777, 0600);

        ck_assert_int_eq(auth_file_lookup(p, "docker.io", &e), 0);
        ck_assert_ptr_null(e.username);
        ck_assert_str_eq(e.helper, "pass");
        auth_entry_done(&e);
        ck_assert_int_eq(auth_file_lookup(p, "quay.io", &e), 0);
        ck_assert_str_eq(e.username, "alice");
        auth_entry_done(&e);

        ck_assert_int_eq(auth_file_remove(p, "docker.io"), -ENOENT);
        ck_assert_int_eq(auth_file_remove(p, "https://quay.io/"), 0);
        ck_assert_int_eq(auth_file_lookup(p, "quay.io", &e), -ENOENT);
}
END_TEST

/* Logging out of nothing creates no file. */
START_TEST(test_remove_missing) {
        _cleanup_free_ char *dir = fresh_path("none"), *p = NULL;

        ck_assert_int_ge(asprintf(&p, "%s/auth.json", dir), 0);
        ck_assert_int_eq(auth_file_remove(p, "docker.io"), -ENOENT);
        ck_assert_int_eq(access(p, F_OK), -1);
        ck_assert_int_eq(access(dir, F_OK), -1);
        ck_assert_int_eq(auth_file_remove(p, ""), -EINVAL);
}
END_TEST

/* Login after login after logout, several registries: each sees only its own. */
START_TEST(test_store_many) {
        _cleanup_free_ char *p = fresh_path("many.json");
        char reg[32], user[32];
        AuthEntry e = {};

        for (unsigned i = 0; i < 20; i++) {
                snprintf(reg, sizeof reg, "r%u.example:%u", i, 5000 + i);
                snprintf(user, sizeof user, "user%u", i);
                ck_assert_int_eq(auth_file_store(p, reg, user, "pw"), 0);
        }
        ck_assert_int_eq(auth_file_store(p, "r3.example:5003", "again", "pw2"), 0);
        ck_assert_int_eq(auth_file_remove(p, "r7.example:5007"), 0);
        for (unsigned i = 0; i < 20; i++) {
                snprintf(reg, sizeof reg, "R%u.EXAMPLE:%u", i, 5000 + i);
                snprintf(user, sizeof user, "user%u", i);
                if (i == 7) {
                        ck_assert_int_eq(auth_file_lookup(p, reg, &e), -ENOENT);
                        continue;
                }
                ck_assert_int_eq(auth_file_lookup(p, reg, &e), 0);
                ck_assert_str_eq(e.username, i == 3 ? "again" : user);
                auth_entry_done(&e);
        }
}
END_TEST

int main(void) {
        Suite *s = suite_create("auth-file");
        TCase *tc = tcase_create("core");
        int r;

        if (!mkdtemp(top))
                return EXIT_FAILURE;
        tcase_add_loop_test(tc, test_normalize, 0, (int) ELEMENTSOF(normal));
        tcase_add_test(tc, test_normalize_bad);
        tcase_add_test(tc, test_lookup_podman);
        tcase_add_test(tc, test_lookup_docker_hub);
        tcase_add_test(tc, test_lookup_identity_token);
        tcase_add_test(tc, test_lookup_helpers);
        tcase_add_test(tc, test_lookup_duplicate_keys);
        tcase_add_test(tc, test_lookup_missing);
        tcase_add_test(tc, test_lookup_empty_helper);
        tcase_add_loop_test(tc, test_lookup_broken, 0, (int) ELEMENTSOF(broken));
        tcase_add_test(tc, test_lookup_hostile_sizes);
        tcase_add_test(tc, test_store_new);
        tcase_add_test(tc, test_store_keeps_unknown);
        tcase_add_test(tc, test_store_bad_auths);
        tcase_add_test(tc, test_store_refuses_broken);
        tcase_add_test(tc, test_store_atomic);
        tcase_add_test(tc, test_store_symlink);
        tcase_add_test(tc, test_remove);
        tcase_add_test(tc, test_remove_missing);
        tcase_add_test(tc, test_store_many);
        suite_add_tcase(s, tc);
        r = check_run_suite(s);
        (void) rm_rf_at(AT_FDCWD, top);
        return r;
}
