/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <check.h>

#include "capabilities.h"
#include "util.h"

#define BIT(c) (UINT64_C(1) << (c))

START_TEST(test_names) {
        ck_assert_int_eq(capability_from_name("chown"), CAP_CHOWN);
        ck_assert_int_eq(capability_from_name("CAP_CHOWN"), CAP_CHOWN);
        ck_assert_int_eq(capability_from_name("Cap_Net_Admin"), CAP_NET_ADMIN);
        ck_assert_int_eq(capability_from_name("NET_ADMIN"), CAP_NET_ADMIN);
        ck_assert_int_eq(capability_from_name("sys_admin"), CAP_SYS_ADMIN);
        ck_assert_int_eq(capability_from_name("CAP_"), -EINVAL);
        ck_assert_int_eq(capability_from_name(""), -EINVAL);
        ck_assert_int_eq(capability_from_name(NULL), -EINVAL);
        ck_assert_int_eq(capability_from_name("12"), -EINVAL);
        ck_assert_int_eq(capability_from_name("CAP_FLY"), -EINVAL);
        ck_assert_int_eq(capability_from_name("all"), -EINVAL);
        ck_assert_str_eq(capability_to_name(CAP_SYS_ADMIN), "CAP_SYS_ADMIN");
        ck_assert_str_eq(capability_to_name(CAP_CHOWN), "CAP_CHOWN");
        ck_assert_ptr_null(capability_to_name(-1));
        ck_assert_ptr_null(capability_to_name(64));
        for (int c = 0; c <= CAP_LAST_CAP; c++)
                ck_assert_int_eq(capability_from_name(capability_to_name(c)), c);
}
END_TEST

START_TEST(test_default_set) {
        /* Docker's default, as /proc/<pid>/status shows it in a container. */
        ck_assert_uint_eq(capability_docker_default(), UINT64_C(0xa80425fb));
        ck_assert_uint_eq(capability_all() & BIT(CAP_SYS_ADMIN), BIT(CAP_SYS_ADMIN));
}
END_TEST

START_TEST(test_compute) {
        char *add[] = { (char *) "NET_ADMIN", (char *) "cap_sys_time", NULL };
        char *drop[] = { (char *) "CHOWN", (char *) "CAP_NET_RAW", NULL };
        char *all[] = { (char *) "ALL", NULL }, *bad[] = { (char *) "CAP_FOO", NULL };
        char *only[] = { (char *) "kill", NULL };
        uint64_t d = capability_docker_default(), s;

        ck_assert_int_eq(capability_compute(NULL, NULL, false, &s), 0);
        ck_assert_uint_eq(s, d);
        ck_assert_int_eq(capability_compute(add, drop, false, &s), 0);
        ck_assert_uint_eq(s, (d | BIT(CAP_NET_ADMIN) | BIT(CAP_SYS_TIME)) & ~(BIT(CAP_CHOWN) | BIT(CAP_NET_RAW)));
        ck_assert_int_eq(capability_compute(all, NULL, false, &s), 0);
        ck_assert_uint_eq(s, capability_all());
        ck_assert_int_eq(capability_compute(all, drop, false, &s), 0);
        ck_assert_uint_eq(s, capability_all() & ~(BIT(CAP_CHOWN) | BIT(CAP_NET_RAW)));
        ck_assert_int_eq(capability_compute(NULL, all, false, &s), 0);
        ck_assert_uint_eq(s, 0);
        ck_assert_int_eq(capability_compute(only, all, false, &s), 0);
        ck_assert_uint_eq(s, BIT(CAP_KILL));
        ck_assert_int_eq(capability_compute(NULL, drop, true, &s), 0);
        ck_assert_uint_eq(s, capability_all());
        ck_assert_int_eq(capability_compute(bad, NULL, false, &s), -EINVAL);
        ck_assert_int_eq(capability_compute(NULL, bad, true, &s), -EINVAL);
}
END_TEST

static Suite *capabilities_suite(void) {
        Suite *s = suite_create("capabilities");
        TCase *tc = tcase_create("core");

        tcase_add_test(tc, test_names);
        tcase_add_test(tc, test_default_set);
        tcase_add_test(tc, test_compute);
        suite_add_tcase(s, tc);
        return s;
}

int main(void) {
        SRunner *sr = srunner_create(capabilities_suite());
        int failed;

        srunner_run_all(sr, CK_NORMAL);
        failed = srunner_ntests_failed(sr);
        srunner_free(sr);
        return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
