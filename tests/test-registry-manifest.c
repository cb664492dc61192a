/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Manifest negotiation of a pull (lib/registry/registry-manifest.c): what is
 * asked for, what is accepted, and the platform picked from an index. */
#include <string.h>

#include "check-util.h"

#include "registry-manifest.h"
#include "sysinfo.h"

#define D1 "sha256:1111111111111111111111111111111111111111111111111111111111111111"
#define D2 "sha256:2222222222222222222222222222222222222222222222222222222222222222"
#define D3 "sha256:3333333333333333333333333333333333333333333333333333333333333333"
#define D4 "sha256:4444444444444444444444444444444444444444444444444444444444444444"
#define MT_DOCKER "application/vnd.docker.distribution.manifest.v2+json"
#define MT_LIST "application/vnd.docker.distribution.manifest.list.v2+json"
#define MT_OCI_INDEX "application/vnd.oci.image.index.v1+json"
#define MT_OCI "application/vnd.oci.image.manifest.v1+json"

static const char manifest[] =
        "{\"schemaVersion\":2,\"mediaType\":\"" MT_DOCKER "\","
        "\"config\":{\"mediaType\":\"application/vnd.docker.container.image.v1+json\",\"digest\":\"" D1 "\",\"size\":10},"
        "\"layers\":[{\"mediaType\":\"application/vnd.docker.image.rootfs.diff.tar.gzip\",\"digest\":\"" D2 "\",\"size\":20}]}";

/* No "mediaType": OCI allows it; the Content-Type says what it is. */
static const char index_untyped[] =
        "{\"schemaVersion\":2,\"manifests\":["
        "{\"mediaType\":\"" MT_OCI "\",\"digest\":\"" D1 "\",\"size\":1,\"platform\":{\"os\":\"linux\",\"architecture\":\"amd64\"}},"
        "{\"mediaType\":\"" MT_OCI "\",\"digest\":\"" D2 "\",\"size\":1,\"platform\":{\"os\":\"linux\",\"architecture\":\"arm64\",\"variant\":\"v8\"}},"
        "{\"mediaType\":\"" MT_OCI "\",\"digest\":\"" D3 "\",\"size\":1,\"platform\":{\"os\":\"linux\",\"architecture\":\"arm\",\"variant\":\"v7\"}},"
        "{\"mediaType\":\"" MT_OCI "\",\"digest\":\"" D4 "\",\"size\":1,\"platform\":{\"os\":\"linux\",\"architecture\":\"arm\",\"variant\":\"v6\"}}]}";

static const char schema1[] =
        "{\"schemaVersion\":1,\"name\":\"library/x\",\"tag\":\"latest\",\"architecture\":\"amd64\","
        "\"fsLayers\":[{\"blobSum\":\"" D1 "\"}],\"history\":[{\"v1Compatibility\":\"{}\"}]}";

static int check(const char *ct, const char *dcd, const char *expected, const char *body, size_t size,
                 uint64_t max, RegistryManifest *ret) {
        return registry_manifest_check("127.0.0.1:5000/x", "latest", ct, dcd, expected, body, size, max, ret);
}

START_TEST(test_accept) {
        ck_assert(strstr(registry_manifest_accept, MT_OCI_INDEX));
        ck_assert(strstr(registry_manifest_accept, MT_OCI));
        ck_assert(strstr(registry_manifest_accept, MT_LIST));
        ck_assert(strstr(registry_manifest_accept, MT_DOCKER));
        ck_assert(!strstr(registry_manifest_accept, "distribution.manifest.v1"));
        ck_assert(strncmp(registry_manifest_accept, "Accept: ", 8) == 0);
}
END_TEST

START_TEST(test_digest) {
        RegistryManifest m = {};
        char digest[DIGEST_STRING_MAX];

        ck_assert_int_eq(sha256_digest_buffer(manifest, strlen(manifest), digest), 0);
        /* Computed when the reference has none; the registry's claim checked. */
        ck_assert_int_eq(check(MT_DOCKER, NULL, NULL, manifest, strlen(manifest), 4096, &m), 0);
        ck_assert_str_eq(m.digest, digest);
        ck_assert_int_eq(m.media_type, OCI_MEDIA_DOCKER_MANIFEST);
        ck_assert_uint_eq(m.size, strlen(manifest));
        ck_assert(memcmp(m.data, manifest, m.size) == 0);
        registry_manifest_done(&m);
        ck_assert_int_eq(check(MT_DOCKER, digest, digest, manifest, strlen(manifest), 4096, &m), 0);
        registry_manifest_done(&m);

        ck_assert_int_eq(check(MT_DOCKER, D1, NULL, manifest, strlen(manifest), 4096, &m), -EBADMSG);
        ck_assert(strstr(errmsg_last(), "Docker-Content-Digest"));
        ck_assert(strstr(errmsg_last(), "127.0.0.1:5000/x"));
        ck_assert_int_eq(check(MT_DOCKER, NULL, D1, manifest, strlen(manifest), 4096, &m), -EBADMSG);
        ck_assert(strstr(errmsg_last(), "digest mismatch"));
        /* The registry agreeing with itself does not help a wrong answer. */
        ck_assert_int_eq(check(MT_DOCKER, digest, D1, manifest, strlen(manifest), 4096, &m), -EBADMSG);
        /* One byte changed. */
        {
                char copy[sizeof manifest];
                memcpy(copy, manifest, sizeof manifest);
                copy[strlen(copy) - 3] = '1';
                ck_assert_int_eq(check(MT_DOCKER, NULL, digest, copy, strlen(copy), 4096, &m), -EBADMSG);
        }
}
END_TEST

START_TEST(test_schema1) {
        RegistryManifest m = {};

        ck_assert_int_eq(check("application/vnd.docker.distribution.manifest.v1+prettyjws", NULL, NULL, schema1,
                               strlen(schema1), 4096, &m), -EMEDIUMTYPE);
        ck_assert(strstr(errmsg_last(), "schema 1"));
        ck_assert_int_eq(check("application/vnd.docker.distribution.manifest.v1+json", NULL, NULL, schema1,
                               strlen(schema1), 4096, &m), -EMEDIUMTYPE);
        /* Sent as plain JSON: recognised by its schemaVersion. */
        ck_assert_int_eq(check("application/json", NULL, NULL, schema1, strlen(schema1), 4096, &m), -EMEDIUMTYPE);
        ck_assert(strstr(errmsg_last(), "schema 1"));
        ck_assert_int_eq(check(NULL, NULL, NULL, schema1, strlen(schema1), 4096, &m), -EMEDIUMTYPE);
        ck_assert_ptr_null(m.data);
}
END_TEST

START_TEST(test_limits) {
        RegistryManifest m = {};
        size_t n = strlen(manifest);

        ck_assert_int_eq(check(MT_DOCKER, NULL, NULL, manifest, n, n - 1, &m), -EFBIG);
        ck_assert(strstr(errmsg_last(), "limit"));
        ck_assert_int_eq(check(MT_DOCKER, NULL, NULL, manifest, n, n, &m), 0);
        registry_manifest_done(&m);
}
END_TEST

START_TEST(test_types) {
        RegistryManifest m = {};
        static const char config[] = "{\"schemaVersion\":2,\"mediaType\":\"application/vnd.oci.image.config.v1+json\"}";

        ck_assert_int_eq(check(MT_OCI_INDEX, NULL, NULL, index_untyped, strlen(index_untyped), 65536, &m), 0);
        ck_assert_int_eq(m.media_type, OCI_MEDIA_OCI_INDEX);
        registry_manifest_done(&m);
        ck_assert_int_eq(check(MT_LIST, NULL, NULL, index_untyped, strlen(index_untyped), 65536, &m), 0);
        ck_assert_int_eq(m.media_type, OCI_MEDIA_DOCKER_MANIFEST_LIST);
        registry_manifest_done(&m);
        /* An index whose header says manifest (or the reverse) is refused. */
        ck_assert_int_eq(check(MT_OCI_INDEX, NULL, NULL, manifest, strlen(manifest), 65536, &m), -EBADMSG);
        /* Not a manifest at all. */
        ck_assert_int_eq(check("application/octet-stream", NULL, NULL, config, strlen(config), 65536, &m),
                         -EMEDIUMTYPE);
        ck_assert_int_eq(check(MT_DOCKER, NULL, NULL, "{\"schemaVersion\":2,", 19, 65536, &m), -EBADMSG);
        ck_assert_int_eq(check(MT_DOCKER, NULL, NULL, "[]", 2, 65536, &m), -EBADMSG);
        ck_assert_int_eq(check(MT_DOCKER, NULL, NULL, "{\"schemaVersion\":3,\"mediaType\":\"" MT_DOCKER "\"}",
                               strlen("{\"schemaVersion\":3,\"mediaType\":\"" MT_DOCKER "\"}"), 65536, &m),
                         -EMEDIUMTYPE);
        ck_assert_ptr_null(m.data);
}
END_TEST

START_TEST(test_platform_parse) {
        _cleanup_free_ char *arch = NULL, *variant = NULL;

        ck_assert_int_eq(registry_platform_parse(NULL, &arch, &variant), 0);
        ck_assert_ptr_null(arch);
        ck_assert_int_eq(registry_platform_parse("linux/arm64/v8", &arch, &variant), 0);
        ck_assert_str_eq(arch, "arm64");
        ck_assert_str_eq(variant, "v8");
        arch = mfree(arch);
        variant = mfree(variant);
        ck_assert_int_eq(registry_platform_parse("linux/x86_64", &arch, &variant), 0);
        ck_assert_str_eq(arch, "amd64");
        ck_assert_ptr_null(variant);
        arch = mfree(arch);
        ck_assert_int_eq(registry_platform_parse("windows/amd64", &arch, &variant), -ENODATA);
        FOREACH_STRING(bad, "linux", "linux/", "/amd64", "linux/arm/v7/x", "linux/arm/", "")
                ck_assert_int_eq(registry_platform_parse(bad, &arch, &variant), isempty(bad) ? 0 : -EINVAL);
}
END_TEST

START_TEST(test_select) {
        _cleanup_(oci_index_freep) OciIndex *i = NULL;
        const char *host = oci_host_architecture();
        size_t k = 99;

        ck_assert_int_eq(oci_index_parse(index_untyped, strlen(index_untyped), &i), 0);
        ck_assert_int_eq(registry_manifest_select("r/x", i, "linux/arm/v7", &k), 0);
        ck_assert_uint_eq(k, 2);
        ck_assert_int_eq(registry_manifest_select("r/x", i, "linux/arm/v6", &k), 0);
        ck_assert_uint_eq(k, 3);
        ck_assert_int_eq(registry_manifest_select("r/x", i, "linux/aarch64", &k), 0);
        ck_assert_uint_eq(k, 1);
        ck_assert_int_eq(registry_manifest_select("r/x", i, "linux/s390x", &k), -ENODATA);
        ck_assert(strstr(errmsg_last(), "r/x"));
        ck_assert(strstr(errmsg_last(), "linux/arm64"));
        ck_assert_int_eq(registry_manifest_select("r/x", i, "windows/amd64", &k), -ENODATA);
        if (streq(host, "amd64")) {
                ck_assert_int_eq(registry_manifest_select("r/x", i, NULL, &k), 0);
                ck_assert_uint_eq(k, 0);
        } else if (streq(host, "arm64")) {
                ck_assert_int_eq(registry_manifest_select("r/x", i, NULL, &k), 0);
                ck_assert_uint_eq(k, 1);
        }
}
END_TEST

int main(void) {
        Suite *s = suite_create("registry-manifest");
        TCase *tc = tcase_create("core");

        tcase_add_test(tc, test_accept);
        tcase_add_test(tc, test_digest);
        tcase_add_test(tc, test_schema1);
        tcase_add_test(tc, test_limits);
        tcase_add_test(tc, test_types);
        tcase_add_test(tc, test_platform_parse);
        tcase_add_test(tc, test_select);
        suite_add_tcase(s, tc);
        return check_run_suite(s);
}
