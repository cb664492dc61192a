/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "check-util.h"

#include "bus-util.h"

/* errno and kind -> name, as berthd sends it. */
START_TEST(test_error_name_from_errno) {
        ck_assert_str_eq(bus_error_name_from_errno(BERTH_OBJECT_CONTAINER, -ENOENT), BERTH_ERROR_NO_SUCH_CONTAINER);
        ck_assert_str_eq(bus_error_name_from_errno(BERTH_OBJECT_IMAGE, -ENOENT), BERTH_ERROR_NO_SUCH_IMAGE);
        ck_assert_str_eq(bus_error_name_from_errno(BERTH_OBJECT_EXEC, ENOENT), BERTH_ERROR_NO_SUCH_EXEC);
        ck_assert_ptr_null(bus_error_name_from_errno(BERTH_OBJECT_ANY, -ENOENT));
        ck_assert_str_eq(bus_error_name_from_errno(BERTH_OBJECT_CONTAINER, -EBUSY), BERTH_ERROR_CONTAINER_RUNNING);
        ck_assert_str_eq(bus_error_name_from_errno(BERTH_OBJECT_IMAGE, -EBUSY), BERTH_ERROR_IMAGE_IN_USE);
        ck_assert_str_eq(bus_error_name_from_errno(BERTH_OBJECT_IMAGE, -EINVAL), BERTH_ERROR_INVALID_REFERENCE);
        ck_assert_str_eq(bus_error_name_from_errno(BERTH_OBJECT_CONTAINER, -EINVAL), SD_BUS_ERROR_INVALID_ARGS);
        ck_assert_str_eq(bus_error_name_from_errno(BERTH_OBJECT_IMAGE, -EXDEV), BERTH_ERROR_INVALID_ARCHIVE);
        ck_assert_str_eq(bus_error_name_from_errno(BERTH_OBJECT_CONTAINER, -EEXIST), BERTH_ERROR_NAME_IN_USE);
        ck_assert_str_eq(bus_error_name_from_errno(BERTH_OBJECT_IMAGE, -ECANCELED), BERTH_ERROR_CANCELLED);
        ck_assert_str_eq(bus_error_name_from_errno(BERTH_OBJECT_CONTAINER, -ESRCH), BERTH_ERROR_CONTAINER_NOT_RUNNING);
        ck_assert_str_eq(bus_error_name_from_errno(BERTH_OBJECT_ANY, -E2BIG), BERTH_ERROR_LIMIT_EXCEEDED);
        /* Set by name only where they arise. */
        ck_assert_ptr_null(bus_error_name_from_errno(BERTH_OBJECT_CONTAINER, -EACCES));
        ck_assert_ptr_null(bus_error_name_from_errno(BERTH_OBJECT_CONTAINER, -EIO));
        ck_assert_ptr_null(bus_error_name_from_errno(BERTH_OBJECT_CONTAINER, -ENOMEM));
}
END_TEST

/* name -> errno, as berthctl reads it; and every name that berthd sends
 * comes back as the errno it was sent for. */
START_TEST(test_error_round_trip) {
        ck_assert_int_eq(bus_error_errno_from_name(BERTH_ERROR_NO_SUCH_IMAGE), ENOENT);
        ck_assert_int_eq(bus_error_errno_from_name(BERTH_ERROR_IMAGE_IN_USE), EBUSY);
        ck_assert_int_eq(bus_error_errno_from_name(BERTH_ERROR_INVALID_ARCHIVE), EBADMSG);
        ck_assert_int_eq(bus_error_errno_from_name(BERTH_ERROR_COMMAND_NOT_FOUND), ENOEXEC);
        ck_assert_int_eq(bus_error_errno_from_name("org.example.Nope"), 0);
        ck_assert_int_eq(bus_error_errno_from_name(NULL), 0);

        ck_assert_int_ge(bus_error_add_berth_map(), 0);
        ck_assert_int_eq(bus_error_add_berth_map(), 0);   /* once */
        for (BerthObjectKind k = 0; k < _BERTH_OBJECT_KIND_MAX; k++)
                for (int e = 1; e < 134; e++) {
                        _cleanup_(sd_bus_error_free) sd_bus_error error = SD_BUS_ERROR_NULL;
                        const char *name = bus_error_name_from_errno(k, -e);

                        if (!name)
                                continue;
                        /* The primary errno of a name: what a client sees. */
                        int back = bus_error_errno_from_name(name);
                        ck_assert_int_eq(bus_error_set_errnof(&error, k, -e, "sentence %d", e), -e);
                        ck_assert_str_eq(error.name, name);
                        ck_assert_int_eq(sd_bus_error_get_errno(&error), back);
                        /* Secondary errnos (E2BIG, EXDEV, ENOTUNIQ, the network ones) come back as the name's first. */
                        ck_assert_int_ne(back, 0);
                        ck_assert(back == e || IN_SET(e, E2BIG, EXDEV, EMEDIUMTYPE, ENOTUNIQ, ECONNREFUSED, ETIMEDOUT,
                                                        ECONNRESET, EPROTO));
                }
}
END_TEST

START_TEST(test_error_set_without_name) {
        _cleanup_(sd_bus_error_free) sd_bus_error error = SD_BUS_ERROR_NULL;

        ck_assert_int_eq(bus_error_set_errnof(&error, BERTH_OBJECT_CONTAINER, -ENOMEM, "out of %s", "memory"), -ENOMEM);
        ck_assert_str_eq(error.message, "out of memory");
        ck_assert_int_eq(sd_bus_error_get_errno(&error), ENOMEM);
}
END_TEST

static Suite *bus_util_suite(void) {
        Suite *s = suite_create("bus-util");
        TCase *tc = tcase_create("errors");

        tcase_add_test(tc, test_error_name_from_errno);
        tcase_add_test(tc, test_error_round_trip);
        tcase_add_test(tc, test_error_set_without_name);
        suite_add_tcase(s, tc);
        return s;
}

int main(void) {
        return check_run_suite(bus_util_suite());
}
