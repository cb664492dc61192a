/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "check-util.h"

#include "reference.h"

static const struct {
        const char *input, *full, *familiar;
} good[] = {
        { "busybox", "docker.io/library/busybox:latest", "busybox:latest" },
        { "busybox:1.36", "docker.io/library/busybox:1.36", "busybox:1.36" },
        { "library/busybox", "docker.io/library/busybox:latest", "busybox:latest" },
        { "docker.io/busybox", "docker.io/library/busybox:latest", "busybox:latest" },
        { "index.docker.io/library/busybox:x", "docker.io/library/busybox:x", "busybox:x" },
        { "user/app", "docker.io/user/app:latest", "user/app:latest" },
        { "quay.io/podman/stable:v4", "quay.io/podman/stable:v4", "quay.io/podman/stable:v4" },
        { "localhost/app", "localhost/app:latest", "localhost/app:latest" },
        { "localhost:5000/a/b/c:1.0-rc_1", "localhost:5000/a/b/c:1.0-rc_1", "localhost:5000/a/b/c:1.0-rc_1" },
        { "registry.example.com:443/x__y/a-b.c", "registry.example.com:443/x__y/a-b.c:latest",
          "registry.example.com:443/x__y/a-b.c:latest" },
        { "[::1]:5000/app:1", "[::1]:5000/app:1", "[::1]:5000/app:1" },
        { "busybox@sha256:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef",
          "docker.io/library/busybox@sha256:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef",
          "busybox@sha256:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef" },
        { "busybox:1@sha256:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef",
          "docker.io/library/busybox:1@sha256:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef",
          "busybox:1@sha256:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef" },
};

START_TEST(test_good) {
        _cleanup_(reference_freep) Reference *r = NULL;
        _cleanup_free_ char *full = NULL, *familiar = NULL, *again = NULL;

        if (reference_parse(good[_i].input, &r) < 0)
                ck_abort_msg("%s: %s", good[_i].input, errmsg_last());
        full = reference_to_string(r);
        familiar = reference_familiar(r);
        ck_assert_str_eq(full, good[_i].full);
        ck_assert_str_eq(familiar, good[_i].familiar);
        again = reference_familiar_string(full);
        ck_assert_str_eq(again, good[_i].familiar);
}
END_TEST

static const struct {
        const char *input, *message;
} bad[] = {
        { "", "empty" },
        { "BusyBox", "lowercase" },
        { "busybox:", "invalid tag" },
        { "busybox:-x", "invalid tag" },
        { "busybox:" "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa" "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa",
          "invalid tag" },
        { "a//b", "path component" },
        { "a/-b", "path component" },
        { "a/b_", "path component" },
        { "a/b...c", "path component" },
        { "bad host.com/x", "whitespace" },
        { "busybox@sha256:abc", "invalid digest" },
        { "busybox@md5:0123456789abcdef0123456789abcdef", "invalid digest" },
        { "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef", "64-byte" },
        { "-host.com/x", "invalid registry" },
        { "host-.com:80/x", "invalid registry" },
        { "host.com:/x", "invalid registry" },
};

START_TEST(test_bad) {
        _cleanup_(reference_freep) Reference *r = NULL;

        ck_assert_int_eq(reference_parse(bad[_i].input, &r), -EINVAL);
        if (!strstr(errmsg_last(), bad[_i].message))
                ck_abort_msg("%s: message \"%s\" lacks \"%s\"", bad[_i].input, errmsg_last(), bad[_i].message);
}
END_TEST

START_TEST(test_ids) {
        _cleanup_free_ char *hex = NULL, *hex2 = NULL, *none = NULL;
        _cleanup_(reference_freep) Reference *r = NULL, *r2 = NULL;

        ck_assert_int_eq(reference_parse_id("sha256:abc123", &hex), 0);
        ck_assert_str_eq(hex, "abc123");
        ck_assert_int_eq(reference_parse_id("0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef", &hex2), 0);
        ck_assert_int_eq(reference_parse_id("abc123", &none), -EINVAL);
        ck_assert_int_eq(reference_parse_id("sha256:xyz", &none), -EINVAL);
        ck_assert_ptr_null(none);
        ck_assert(reference_is_id_prefix("abc"));
        ck_assert(!reference_is_id_prefix("abg"));
        ck_assert(!reference_is_id_prefix(""));
        /* A short hex string is also a valid name: resolution tries the name first. */
        ck_assert_int_eq(reference_parse("abc", &r), 0);
        ck_assert_str_eq(r->tag, "latest");
        ck_assert_int_eq(reference_parse_name("abc", &r2), 0);
        ck_assert_ptr_null(r2->tag);
}
END_TEST

/* Docker limits the normalised name ("docker.io/library/NAME"), so that
 * every name Berth stores parses again as it is printed. */
START_TEST(test_name_length) {
        _cleanup_(reference_freep) Reference *r = NULL, *again = NULL;
        _cleanup_free_ char *full = NULL;
        char name[512];

        /* 18 + 237 = 255 bytes once normalised: the longest accepted. */
        memset(name, 'a', 237);
        name[237] = 0;
        ck_assert_int_eq(reference_parse(name, &r), 0);
        full = reference_to_string(r);
        ck_assert_int_eq(reference_parse(full, &again), 0);
        r = reference_free(r);
        /* One more byte: 255 as given, 256 once normalised. */
        memset(name, 'a', 238);
        name[238] = 0;
        ck_assert_int_eq(reference_parse(name, &r), -EINVAL);
        ck_assert_ptr_nonnull(strstr(errmsg_last(), "longer than 255"));
        /* "library/" is added to a one-component name of any domain given as docker.io. */
        snprintf(name, sizeof name, "docker.io/%0*d", 240, 0);
        ck_assert_int_eq(reference_parse(name, &r), -EINVAL);
}
END_TEST

int main(void) {
        Suite *s = suite_create("reference");
        TCase *tc = tcase_create("core");

        tcase_add_loop_test(tc, test_good, 0, (int) ELEMENTSOF(good));
        tcase_add_loop_test(tc, test_bad, 0, (int) ELEMENTSOF(bad));
        tcase_add_test(tc, test_ids);
        tcase_add_test(tc, test_name_length);
        suite_add_tcase(s, tc);
        return check_run_suite(s);
}
