/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "check-util.h"

#include "oci.h"
#include "sysinfo.h"

#define D1 "sha256:1111111111111111111111111111111111111111111111111111111111111111"
#define D2 "sha256:2222222222222222222222222222222222222222222222222222222222222222"

static const char manifest_json[] =
        "{\"schemaVersion\":2,\"mediaType\":\"application/vnd.docker.distribution.manifest.v2+json\","
        "\"config\":{\"mediaType\":\"application/vnd.docker.container.image.v1+json\",\"digest\":\"" D1 "\",\"size\":10},"
        "\"layers\":[{\"mediaType\":\"application/vnd.docker.image.rootfs.diff.tar.gzip\",\"digest\":\"" D2 "\",\"size\":20}]}";

START_TEST(test_media_types) {
        for (OciMediaType t = 0; t < _OCI_MEDIA_TYPE_MAX; t++)
                ck_assert_int_eq(oci_media_type_from_string(oci_media_type_to_string(t)), t);
        ck_assert_int_eq(oci_media_type_from_string("application/x-foo"), -EINVAL);
        ck_assert(oci_media_type_is_layer(OCI_MEDIA_OCI_LAYER_ZSTD));
        ck_assert(!oci_media_type_is_layer(OCI_MEDIA_OCI_CONFIG));
        ck_assert(oci_media_type_is_index(OCI_MEDIA_DOCKER_MANIFEST_LIST));
}
END_TEST

START_TEST(test_manifest_roundtrip) {
        _cleanup_(oci_manifest_freep) OciManifest *m = NULL, *m2 = NULL;
        _cleanup_free_ char *json = NULL;
        OciMediaType t;

        ck_assert_int_eq(oci_document_media_type(manifest_json, strlen(manifest_json), &t), 0);
        ck_assert_int_eq(t, OCI_MEDIA_DOCKER_MANIFEST);
        ck_assert_int_eq(oci_manifest_parse(manifest_json, strlen(manifest_json), &m), 0);
        ck_assert_int_eq(m->media_type, OCI_MEDIA_DOCKER_MANIFEST);
        ck_assert_str_eq(m->config.digest, D1);
        ck_assert_uint_eq(m->n_layers, 1);
        ck_assert_uint_eq(m->layers[0].size, 20);
        ck_assert_int_eq(oci_manifest_to_json(m, &json), 0);
        ck_assert_int_eq(oci_manifest_parse(json, strlen(json), &m2), 0);
        ck_assert_str_eq(m2->layers[0].digest, D2);
}
END_TEST

static const struct {
        const char *json, *message;
        int error;
} bad_manifests[] = {
        { "{\"schemaVersion\":2,\"config\":", "truncated", -EBADMSG },
        { "[1]", "expected a JSON object", -EBADMSG },
        { "{\"schemaVersion\":1,\"layers\":[]}", "schema version 1", -EMEDIUMTYPE },
        { "{\"schemaVersion\":2,\"mediaType\":\"application/x-foo\"}", "application/x-foo", -EMEDIUMTYPE },
        { "{\"schemaVersion\":2,\"layers\":[]}", "missing field \"config\"", -EBADMSG },
        { "{\"schemaVersion\":2,\"config\":{\"mediaType\":\"application/vnd.oci.image.config.v1+json\",\"digest\":\"" D1
          "\",\"size\":\"10\"},\"layers\":[]}", "\"size\" must be a non-negative integer", -EBADMSG },
        { "{\"schemaVersion\":2,\"config\":{\"mediaType\":\"application/vnd.oci.image.config.v1+json\",\"digest\":\"md5:1\","
          "\"size\":1},\"layers\":[]}", "invalid digest", -EBADMSG },
        { "{\"schemaVersion\":2,\"config\":{\"mediaType\":\"application/vnd.oci.image.config.v1+json\",\"digest\":\"" D1
          "\",\"size\":1},\"layers\":{}}", "\"layers\" must be an array", -EBADMSG },
        { "{\"schemaVersion\":2,\"config\":{\"mediaType\":\"application/vnd.oci.image.layer.v1.tar\",\"digest\":\"" D1
          "\",\"size\":1},\"layers\":[]}", "config media type", -EMEDIUMTYPE },
};

START_TEST(test_manifest_errors) {
        _cleanup_(oci_manifest_freep) OciManifest *m = NULL;
        const char *j = bad_manifests[_i].json;

        ck_assert_int_eq(oci_manifest_parse(j, strlen(j), &m), bad_manifests[_i].error);
        if (!strstr(errmsg_last(), bad_manifests[_i].message))
                ck_abort_msg("\"%s\" lacks \"%s\"", errmsg_last(), bad_manifests[_i].message);
}
END_TEST

START_TEST(test_config) {
        static const char json[] =
                "{\"architecture\":\"arm64\",\"variant\":\"v8\",\"os\":\"linux\",\"created\":\"2024-01-02T03:04:05.5Z\","
                "\"config\":{\"Env\":[\"A=1\"],\"Cmd\":null,\"Entrypoint\":[\"/e\"],\"WorkingDir\":\"/w\",\"User\":\"1:2\","
                "\"ExposedPorts\":{\"53/udp\":{},\"80/tcp\":{}},\"Labels\":{\"b\":\"2\",\"a\":\"1\"},\"StopSignal\":\"SIGQUIT\","
                "\"Volumes\":{\"/data\":{}}},\"rootfs\":{\"type\":\"layers\",\"diff_ids\":[\"" D1 "\"]},"
                "\"history\":[{\"created_by\":\"RUN x\",\"empty_layer\":true},{\"created_by\":\"ADD y\",\"comment\":\"c\"}]}";
        _cleanup_(oci_image_config_freep) OciImageConfig *c = NULL, *copy = NULL;

        ck_assert_int_eq(oci_image_config_parse(json, strlen(json), &c), 0);
        ck_assert_str_eq(c->architecture, "arm64");
        ck_assert_str_eq(c->variant, "v8");
        ck_assert_uint_eq(c->created_usec, 1704164645500000ULL);
        ck_assert_ptr_null(c->cmd);
        ck_assert_str_eq(c->entrypoint[0], "/e");
        ck_assert_str_eq(c->exposed_ports[0], "53/udp");
        ck_assert_str_eq(c->labels[0], "a");
        ck_assert_str_eq(c->labels[3], "2");
        ck_assert_str_eq(c->volumes[0], "/data");
        ck_assert_str_eq(c->stop_signal, "SIGQUIT");
        ck_assert_uint_eq(c->n_history, 2);
        ck_assert(c->history[0].empty_layer);
        ck_assert_str_eq(c->history[1].comment, "c");
        ck_assert_int_eq(oci_image_config_copy(c, &copy), 0);
        ck_assert_str_eq(copy->user, "1:2");
        ck_assert_str_eq(copy->diff_ids[0], D1);
        ck_assert_uint_eq(copy->created_usec, c->created_usec);
}
END_TEST

START_TEST(test_config_errors) {
        static const char *const bad[] = {
                "{\"architecture\":\"amd64\",\"os\":\"linux\"}",
                "{\"architecture\":\"amd64\",\"os\":\"linux\",\"rootfs\":{\"type\":\"layers\",\"diff_ids\":[\"x\"]}}",
                "{\"architecture\":1,\"os\":\"linux\",\"rootfs\":{\"type\":\"layers\",\"diff_ids\":[]}}",
                "{\"architecture\":\"amd64\",\"os\":\"linux\",\"config\":{\"Env\":\"A=1\"},\"rootfs\":{\"type\":\"layers\",\"diff_ids\":[]}}",
        };
        static const char *const msg[] = { "missing field \"rootfs\"", "invalid diff_id", "\"architecture\" must be a string",
                                           "\"Env\" must be an array" };

        for (size_t i = 0; i < ELEMENTSOF(bad); i++) {
                _cleanup_(oci_image_config_freep) OciImageConfig *c = NULL;
                ck_assert_int_eq(oci_image_config_parse(bad[i], strlen(bad[i]), &c), -EBADMSG);
                if (!strstr(errmsg_last(), msg[i]))
                        ck_abort_msg("\"%s\" lacks \"%s\"", errmsg_last(), msg[i]);
        }
}
END_TEST

START_TEST(test_platform) {
        char json[2048];
        _cleanup_(oci_index_freep) OciIndex *i = NULL;
        size_t k;

        snprintf(json, sizeof json,
                 "{\"schemaVersion\":2,\"mediaType\":\"application/vnd.docker.distribution.manifest.list.v2+json\",\"manifests\":["
                 "{\"mediaType\":\"application/vnd.docker.distribution.manifest.v2+json\",\"digest\":\"" D1 "\",\"size\":1,"
                 "\"platform\":{\"architecture\":\"arm\",\"os\":\"linux\",\"variant\":\"v6\"}},"
                 "{\"mediaType\":\"application/vnd.docker.distribution.manifest.v2+json\",\"digest\":\"" D2 "\",\"size\":1,"
                 "\"platform\":{\"architecture\":\"arm\",\"os\":\"linux\",\"variant\":\"v7\"}},"
                 "{\"mediaType\":\"application/vnd.in-toto+json\",\"digest\":\"" D2 "\",\"size\":1},"
                 "{\"mediaType\":\"application/vnd.docker.distribution.manifest.v2+json\",\"digest\":\"" D2 "\",\"size\":1,"
                 "\"platform\":{\"architecture\":\"%s\",\"os\":\"linux\"}}]}", oci_host_architecture());
        ck_assert_int_eq(oci_index_parse(json, strlen(json), &i), 0);
        ck_assert_uint_eq(i->n_manifests, 4);
        ck_assert_int_eq(oci_index_select_platform(i, "arm", "v7", &k), 0);
        ck_assert_uint_eq(k, 1);
        ck_assert_int_eq(oci_index_select_platform(i, "arm", "v8", &k), 0);
        ck_assert_uint_eq(k, 1);        /* v7 is the best an armv8 32-bit machine can run here */
        ck_assert_int_eq(oci_index_select_platform(i, "arm", "v5", &k), -ENOENT);
        ck_assert_ptr_nonnull(strstr(errmsg_last(), "linux/arm/v6"));
        ck_assert_int_eq(oci_index_select_platform(i, NULL, NULL, &k), 0);
        ck_assert_uint_eq(k, 3);
        ck_assert_int_eq(oci_index_select_platform(i, "riscv64", NULL, &k), -ENOENT);
}
END_TEST

START_TEST(test_changes) {
        _cleanup_(oci_image_config_freep) OciImageConfig *c = calloc(1, sizeof(OciImageConfig));

        ck_assert_int_eq(oci_image_config_apply_change(c, "CMD [\"/bin/sh\", \"-l\"]"), 0);
        ck_assert_str_eq(c->cmd[1], "-l");
        ck_assert_int_eq(oci_image_config_apply_change(c, "cmd echo hi"), 0);
        ck_assert_str_eq(c->cmd[2], "echo hi");
        ck_assert_int_eq(oci_image_config_apply_change(c, "ENV A=1 B=2"), 0);
        ck_assert_int_eq(oci_image_config_apply_change(c, "ENV A 3 4"), 0);
        ck_assert_str_eq(c->env[0], "A=3 4");
        ck_assert_str_eq(c->env[1], "B=2");
        ck_assert_int_eq(oci_image_config_apply_change(c, "WORKDIR /a"), 0);
        ck_assert_int_eq(oci_image_config_apply_change(c, "WORKDIR b"), 0);
        ck_assert_str_eq(c->working_dir, "/a/b");
        ck_assert_int_eq(oci_image_config_apply_change(c, "EXPOSE 80 53/udp"), 0);
        ck_assert_str_eq(c->exposed_ports[0], "53/udp");
        ck_assert_str_eq(c->exposed_ports[1], "80/tcp");
        ck_assert_int_eq(oci_image_config_apply_change(c, "LABEL a=\"x y\""), 0);
        ck_assert_str_eq(c->labels[1], "x y");
        ck_assert_int_eq(oci_image_config_apply_change(c, "VOLUME [\"/v\"]"), 0);
        ck_assert_int_eq(oci_image_config_apply_change(c, "STOPSIGNAL SIGKILL"), 0);
        ck_assert_int_eq(oci_image_config_apply_change(c, "USER a b"), -EINVAL);
        ck_assert_int_eq(oci_image_config_apply_change(c, "EXPOSE http"), -EINVAL);
        ck_assert_int_eq(oci_image_config_apply_change(c, "CMD [\"unterminated"), -EINVAL);
        ck_assert_int_eq(oci_image_config_apply_change(c, "RUN make"), -EINVAL);
        ck_assert_ptr_nonnull(strstr(errmsg_last(), "RUN"));
        ck_assert_int_eq(oci_image_config_apply_change(c, "CMD"), -EINVAL);
}
END_TEST

/* The config is stored as JSON, which holds UTF-8 only: a change that is
 * not valid UTF-8 is refused instead of making the config unprintable
 * (found by fuzz-change). */
START_TEST(test_changes_utf8) {
        _cleanup_(oci_image_config_freep) OciImageConfig *c = calloc(1, sizeof(OciImageConfig));
        static const char *const bad[] = {
                "ENV MY_VAR some value with spa\xff" "ces",
                "CMD echo \xc3",                       /* truncated sequence */
                "LABEL a=\xc0\xaf",                    /* overlong "/" */
                "WORKDIR /\xed\xa0\x80",               /* surrogate */
                "USER \xf4\x90\x80\x80",               /* above U+10FFFF */
        };
        _cleanup_free_ char *json = NULL;

        c->architecture = strdup("amd64");
        c->os = strdup("linux");
        for (size_t i = 0; i < ELEMENTSOF(bad); i++) {
                ck_assert_int_eq(oci_image_config_apply_change(c, bad[i]), -EINVAL);
                ck_assert_ptr_nonnull(strstr(errmsg_last(), "UTF-8"));
        }
        ck_assert_int_eq(oci_image_config_apply_change(c, "LABEL caf\xc3\xa9=\xe2\x82\xac \xf0\x9f\x90\xb3=1"), 0);
        ck_assert_int_eq(oci_image_config_to_json(c, &json), 0);
        ck_assert_ptr_nonnull(strstr(json, "caf\xc3\xa9"));
}
END_TEST

START_TEST(test_chain_id) {
        char c1[DIGEST_STRING_MAX], c2[DIGEST_STRING_MAX], expect[DIGEST_STRING_MAX];

        ck_assert_int_eq(oci_chain_id(NULL, D1, c1), 0);
        ck_assert_str_eq(c1, D1);
        ck_assert_int_eq(oci_chain_id(c1, D2, c2), 0);
        ck_assert_int_eq(sha256_digest_buffer(D1 " " D2, strlen(D1 " " D2), expect), 0);
        ck_assert_str_eq(c2, expect);
}
END_TEST

int main(void) {
        Suite *s = suite_create("oci");
        TCase *tc = tcase_create("core");

        tcase_add_test(tc, test_media_types);
        tcase_add_test(tc, test_manifest_roundtrip);
        tcase_add_loop_test(tc, test_manifest_errors, 0, (int) ELEMENTSOF(bad_manifests));
        tcase_add_test(tc, test_config);
        tcase_add_test(tc, test_config_errors);
        tcase_add_test(tc, test_platform);
        tcase_add_test(tc, test_changes);
        tcase_add_test(tc, test_changes_utf8);
        tcase_add_test(tc, test_chain_id);
        suite_add_tcase(s, tc);
        return check_run_suite(s);
}
