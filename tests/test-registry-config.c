/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <fcntl.h>
#include <sys/stat.h>

#include "check-util.h"
#include "fileio.h"
#include "registry-config.h"

static char dir[64], certs[80];

static void setup(void) {
        strcpy(dir, "/tmp/test-registry-config-XXXXXX");
        ck_assert_ptr_nonnull(mkdtemp(dir));
        snprintf(certs, sizeof certs, "%s/certs.d", dir);
        ck_assert_int_eq(mkdir(certs, 0755), 0);
}

static void teardown(void) {
        (void) rm_rf_at(AT_FDCWD, dir);
}

static void put(const char *name, const char *text) {
        char p[256];

        snprintf(p, sizeof p, "%s/%s", dir, name);
        ck_assert_int_eq(write_string_file_atomic_at(AT_FDCWD, p, text), 0);
}

START_TEST(test_good) {
        _cleanup_(registry_config_freep) RegistryConfig *c = NULL;
        RegistryEndpoint *e = NULL;
        size_t n = 0;

        put("10-hub.conf",
            "# Docker Hub through two mirrors\n"
            "[Registry]\n"
            "Name=docker.io   # the hub\n"
            "Mirror=mirror-b.example:5000\n"
            "Mirror=mirror-a.example\n"
            "\n"
            "[Registry]\n"
            "Name=mirror-b.example:5000\n"
            "Insecure=yes\n"
            "\n"
            "[Aliases]\n"
            "debian=docker.io/library/debian\n");
        put("20-more.conf",
            "[Registry]\n"
            "Name=index.docker.io\n"
            "Mirror=mirror-c.example\n"
            "[Registry]\n"
            "Name=evil.example\n"
            "Blocked=true\n"
            "[Aliases]\n"
            "debian=quay.io/debian/debian\n"
            "alpine=docker.io/library/alpine\n");
        put("ignored.txt", "garbage\n");
        ck_assert_int_eq(registry_config_load(dir, certs, &c), 0);

        /* Mirrors in order (later files add), then the registry itself. */
        ck_assert_int_eq(registry_config_endpoints(c, "docker.io", true, &e, &n), 0);
        ck_assert_uint_eq(n, 4);
        ck_assert_str_eq(e[0].host, "mirror-b.example:5000");
        ck_assert(e[0].mirror && e[0].insecure);
        ck_assert_str_eq(e[1].host, "mirror-a.example");
        ck_assert(e[1].mirror && !e[1].insecure);
        ck_assert_str_eq(e[2].host, "mirror-c.example");
        ck_assert_str_eq(e[3].host, "registry-1.docker.io");
        ck_assert(!e[3].mirror && !e[3].insecure);
        registry_endpoints_free(e, n);

        /* Not for a pull (a push): no mirrors. */
        ck_assert_int_eq(registry_config_endpoints(c, "docker.io", false, &e, &n), 0);
        ck_assert_uint_eq(n, 1);
        ck_assert_str_eq(e[0].host, "registry-1.docker.io");
        registry_endpoints_free(e, n);

        ck_assert_int_eq(registry_config_endpoints(c, "evil.example", true, &e, &n), -EACCES);
        ck_assert_ptr_nonnull(strstr(errmsg_last(), "evil.example"));

        ck_assert_int_eq(registry_config_endpoints(c, "other.example:443", true, &e, &n), 0);
        ck_assert_uint_eq(n, 1);
        ck_assert_str_eq(e[0].host, "other.example:443");
        ck_assert(!e[0].insecure);
        registry_endpoints_free(e, n);

        /* A later file overrides an alias. */
        ck_assert_str_eq(registry_config_alias(c, "debian"), "quay.io/debian/debian");
        ck_assert_str_eq(registry_config_alias(c, "alpine"), "docker.io/library/alpine");
        ck_assert_ptr_null(registry_config_alias(c, "fedora"));
        ck_assert_ptr_null(registry_config_alias(NULL, "debian"));
}
END_TEST

START_TEST(test_missing_dir) {
        _cleanup_(registry_config_freep) RegistryConfig *c = NULL;
        RegistryEndpoint *e = NULL;
        size_t n = 0;
        char p[128];

        snprintf(p, sizeof p, "%s/nope", dir);
        ck_assert_int_eq(registry_config_load(p, certs, &c), 0);
        ck_assert_int_eq(registry_config_endpoints(c, "docker.io", true, &e, &n), 0);
        ck_assert_uint_eq(n, 1);
        registry_endpoints_free(e, n);
        /* No config at all. */
        ck_assert_int_eq(registry_config_endpoints(NULL, "127.0.0.1:5000", true, &e, &n), 0);
        ck_assert_str_eq(e[0].host, "127.0.0.1:5000");
        registry_endpoints_free(e, n);
}
END_TEST

static void expect_bad(const char *text, const char *where) {
        _cleanup_(registry_config_freep) RegistryConfig *c = NULL;
        char want[160];

        put("50-bad.conf", text);
        ck_assert_int_eq(registry_config_load(dir, certs, &c), -EINVAL);
        snprintf(want, sizeof want, "%s/50-bad.conf:%s", dir, where);
        ck_assert_msg(strstr(errmsg_last(), want), "'%s' lacks '%s'", errmsg_last(), want);
}

START_TEST(test_bad_lines) {
        expect_bad("[Registry]\nName=a.example\nFoo=bar\n", "3:");
        expect_bad("[Registry]\nName=a.example\nInsecure=maybe\n", "3:");
        expect_bad("Name=a.example\n", "1:");
        expect_bad("[Registry]\nName=a.example\n[Nope]\n", "3:");
        expect_bad("[Registry]\nName=a.example\nno equals sign\n", "3:");
        expect_bad("[Registry]\nName=bad host\n", "2:");
        expect_bad("[Registry]\nName=a.example\nMirror=../etc\n", "3:");
        /* A section without Name= is named by its header's line. */
        expect_bad("[Registry]\nMirror=m.example\n", "1:");
        expect_bad("\n[Registry]\nMirror=m.example\n[Registry]\nName=b.example\n", "2:");
        expect_bad("[Aliases]\nDebian=docker.io/library/debian\n", "2:");
        expect_bad("[Aliases]\ndebian=docker.io/library/debian;rm\n", "2:");
}
END_TEST

static void mkcerts(const char *host, bool ca, bool client) {
        char p[256];

        snprintf(p, sizeof p, "%s/%s", certs, host);
        ck_assert_int_eq(mkdir(p, 0755), 0);
        if (ca) {
                snprintf(p, sizeof p, "%s/%s/ca.crt", certs, host);
                ck_assert_int_eq(write_string_file_atomic_at(AT_FDCWD, p, "CA\n"), 0);
        }
        if (client) {
                snprintf(p, sizeof p, "%s/%s/client.cert", certs, host);
                ck_assert_int_eq(write_string_file_atomic_at(AT_FDCWD, p, "C\n"), 0);
                snprintf(p, sizeof p, "%s/%s/client.key", certs, host);
                ck_assert_int_eq(write_string_file_atomic_at(AT_FDCWD, p, "K\n"), 0);
        }
}

START_TEST(test_certs) {
        _cleanup_(registry_config_freep) RegistryConfig *c = NULL;
        RegistryEndpoint *e = NULL;
        size_t n = 0;
        char want[256];

        mkcerts("reg.example:5000", true, false);
        mkcerts("reg.example", false, true);
        mkcerts("other.example", true, true);
        ck_assert_int_eq(registry_config_load(dir, certs, &c), 0);

        /* HOST:PORT wins over HOST. */
        ck_assert_int_eq(registry_config_endpoints(c, "reg.example:5000", true, &e, &n), 0);
        snprintf(want, sizeof want, "%s/reg.example:5000/ca.crt", certs);
        ck_assert_str_eq(e[0].ca_file, want);
        ck_assert_ptr_null(e[0].client_cert);
        registry_endpoints_free(e, n);

        /* Falls back to HOST. */
        ck_assert_int_eq(registry_config_endpoints(c, "other.example:5000", true, &e, &n), 0);
        snprintf(want, sizeof want, "%s/other.example/ca.crt", certs);
        ck_assert_str_eq(e[0].ca_file, want);
        snprintf(want, sizeof want, "%s/other.example/client.key", certs);
        ck_assert_str_eq(e[0].client_key, want);
        ck_assert_ptr_nonnull(e[0].client_cert);
        registry_endpoints_free(e, n);

        ck_assert_int_eq(registry_config_endpoints(c, "none.example", true, &e, &n), 0);
        ck_assert_ptr_null(e[0].ca_file);
        ck_assert_ptr_null(e[0].client_cert);
        registry_endpoints_free(e, n);
}
END_TEST

static Suite *registry_config_suite(void) {
        Suite *s = suite_create("registry-config");
        TCase *tc = tcase_create("core");

        tcase_add_checked_fixture(tc, setup, teardown);
        tcase_add_test(tc, test_good);
        tcase_add_test(tc, test_missing_dir);
        tcase_add_test(tc, test_bad_lines);
        tcase_add_test(tc, test_certs);
        suite_add_tcase(s, tc);
        return s;
}

int main(void) {
        return check_run_suite(registry_config_suite());
}
