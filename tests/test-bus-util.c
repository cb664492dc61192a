/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "check-util.h"

#include <sys/socket.h>

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
                                                        ECONNRESET, EPROTO, ENONET));
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

/* A message to write into: a bus on one end of a socketpair is open
 * enough to make messages (nothing is sent). */
static sd_bus_message *new_message(sd_bus **ret_bus, int fds[2]) {
        sd_bus_message *m = NULL;

        ck_assert_int_eq(socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, fds), 0);
        ck_assert_int_ge(sd_bus_new(ret_bus), 0);
        ck_assert_int_ge(sd_bus_set_fd(*ret_bus, fds[0], fds[0]), 0);
        ck_assert_int_ge(sd_bus_start(*ret_bus), 0);
        ck_assert_int_ge(sd_bus_message_new_method_call(*ret_bus, &m, "org.example", "/", "org.example", "X"), 0);
        return m;
}

/* The same limits as the API's a{sv} and as systemd's a(sv). */
START_TEST(test_append_limits) {
        ScopeLimits l = { .memory_max = 256ULL << 20, .tasks_max = 64 };
        const uint8_t cpus[] = { 0x05 };
        const char *forms[] = { "{sv}", "(sv)" };

        ck_assert_int_eq(limits_set_allowed_cpus(&l, cpus, sizeof cpus), 0);
        for (size_t k = 0; k < ELEMENTSOF(forms); k++) {
                _cleanup_(sd_bus_unrefp) sd_bus *bus = NULL;
                _cleanup_(sd_bus_message_unrefp) sd_bus_message *m = NULL;
                uint64_t memory_max = 0, tasks_max = 0;
                const void *mask = NULL;
                size_t n_mask = 0, n = 0;
                const char *key;
                int fds[2];
                char entry = k == 0 ? 'e' : 'r';

                m = new_message(&bus, fds);
                if (k == 0)
                        ck_assert_int_ge(bus_append_limits(m, &l), 0);
                else {
                        ck_assert_int_ge(sd_bus_message_open_container(m, 'a', "(sv)"), 0);
                        ck_assert_int_ge(bus_append_limit_entries(m, &l, 'r'), 0);
                        ck_assert_int_ge(sd_bus_message_close_container(m), 0);
                }
                ck_assert_int_ge(sd_bus_message_seal(m, 1, 0), 0);
                ck_assert_int_ge(sd_bus_message_rewind(m, true), 0);
                ck_assert_int_eq(sd_bus_message_enter_container(m, 'a', forms[k]), 1);
                while (sd_bus_message_enter_container(m, entry, "sv") > 0) {
                        ck_assert_int_eq(sd_bus_message_read(m, "s", &key), 1);
                        if (streq(key, "MemoryMax"))
                                ck_assert_int_eq(sd_bus_message_read(m, "v", "t", &memory_max), 1);
                        else if (streq(key, "TasksMax"))
                                ck_assert_int_eq(sd_bus_message_read(m, "v", "t", &tasks_max), 1);
                        else if (streq(key, "AllowedCPUs")) {
                                ck_assert_int_eq(sd_bus_message_enter_container(m, 'v', "ay"), 1);
                                ck_assert_int_eq(sd_bus_message_read_array(m, 'y', &mask, &n_mask), 1);
                                ck_assert_int_eq(sd_bus_message_exit_container(m), 1);
                        } else
                                ck_abort_msg("%s: not set", key);
                        ck_assert_int_eq(sd_bus_message_exit_container(m), 1);
                        n++;
                }
                ck_assert_int_eq(sd_bus_message_exit_container(m), 1);
                ck_assert_uint_eq(n, 3);
                ck_assert_uint_eq(memory_max, 256ULL << 20);
                ck_assert_uint_eq(tasks_max, 64);
                ck_assert_uint_eq(n_mask, 1);
                ck_assert_uint_eq(((const uint8_t *) mask)[0], 0x05);
                close(fds[1]);
        }
        ck_assert_int_eq(bus_append_limit_entries(NULL, &l, 'a'), -EINVAL);
        scope_limits_done(&l);
}
END_TEST

static Suite *bus_util_suite(void) {
        Suite *s = suite_create("bus-util");
        TCase *tc = tcase_create("errors");

        tcase_add_test(tc, test_error_name_from_errno);
        tcase_add_test(tc, test_error_round_trip);
        tcase_add_test(tc, test_error_set_without_name);
        suite_add_tcase(s, tc);
        tc = tcase_create("limits");
        tcase_add_test(tc, test_append_limits);
        suite_add_tcase(s, tc);
        return s;
}

int main(void) {
        return check_run_suite(bus_util_suite());
}
