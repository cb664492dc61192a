/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "check-util.h"

#include <stdarg.h>

#include "resource-limits.h"

/* Docker's flags for one test: NAME, VALUE pairs. */
static int from_flags(ScopeLimits *l, char **ret_error, ...) {
        char *values[_DOCKER_LIMIT_MAX] = {};
        const char *name;
        va_list ap;

        va_start(ap, ret_error);
        while ((name = va_arg(ap, const char *))) {
                DockerLimit d = docker_limit_from_string(name);
                ck_assert_int_ge(d, 0);
                values[d] = va_arg(ap, char *);
        }
        va_end(ap);
        return limits_from_docker_flags(values, l, ret_error);
}

#define FLAGS(l, ...) from_flags(l, NULL, __VA_ARGS__, NULL)

START_TEST(test_docker_limit_table) {
        for (DockerLimit l = 0; l < _DOCKER_LIMIT_MAX; l++) {
                ck_assert_ptr_nonnull(docker_limit_to_string(l));
                ck_assert_int_eq(docker_limit_from_string(docker_limit_to_string(l)), l);
                ck_assert_ptr_nonnull(docker_limit_syntax(l));
        }
        ck_assert_int_eq(docker_limit_from_string("memory"), DOCKER_LIMIT_MEMORY);
        ck_assert_int_eq(docker_limit_from_string("blkio-weight"), DOCKER_LIMIT_BLKIO_WEIGHT);
        ck_assert_int_eq(docker_limit_from_string("nope"), _DOCKER_LIMIT_INVALID);
        ck_assert_int_eq(docker_limit_from_string(NULL), _DOCKER_LIMIT_INVALID);
        ck_assert_ptr_null(docker_limit_to_string(_DOCKER_LIMIT_MAX));
        ck_assert_ptr_null(docker_limit_to_string(-1));
}
END_TEST

START_TEST(test_shares_to_weight) {
        ck_assert_uint_eq(limits_cpu_shares_to_weight(2), 1);
        ck_assert_uint_eq(limits_cpu_shares_to_weight(262144), 10000);
        ck_assert_uint_eq(limits_cpu_shares_to_weight(1024), 39);
        ck_assert_uint_eq(limits_cpu_shares_to_weight(0), 0);
        ck_assert_uint_eq(limits_blkio_weight_to_io_weight(10), 1);
        ck_assert_uint_eq(limits_blkio_weight_to_io_weight(1000), 10000);
        ck_assert_uint_eq(limits_blkio_weight_to_io_weight(500), 1 + (490ULL * 9999) / 990);
}
END_TEST

START_TEST(test_docker_flags) {
        ScopeLimits l = {};

        ck_assert_int_eq(FLAGS(&l, "memory", "512m"), 0);
        ck_assert_uint_eq(l.memory_max, 512ULL << 20);
        scope_limits_done(&l);
        ck_assert_int_eq(FLAGS(&l, "memory", "1.5g"), 0);
        ck_assert_uint_eq(l.memory_max, 3ULL << 29);
        ck_assert_int_eq(FLAGS(&l, "memory", "1m"), -ERANGE);
        ck_assert_int_eq(FLAGS(&l, "memory", "lots"), -EINVAL);
        ck_assert_int_eq(FLAGS(&l, "memory", "-5"), -EINVAL);

        ck_assert_int_eq(FLAGS(&l, "cpus", "1.5"), 0);
        ck_assert_uint_eq(l.cpu_quota_usec, 1500000);
        ck_assert_int_eq(FLAGS(&l, "cpus", "0.01"), 0);
        ck_assert_uint_eq(l.cpu_quota_usec, 10000);
        ck_assert_int_eq(FLAGS(&l, "cpus", ".5"), 0);
        ck_assert_uint_eq(l.cpu_quota_usec, 500000);
        ck_assert_int_eq(FLAGS(&l, "cpus", "0.001"), -ERANGE);
        ck_assert_int_eq(FLAGS(&l, "cpus", "1e3"), -EINVAL);
        ck_assert_int_eq(FLAGS(&l, "cpus", "-1"), -EINVAL);
        ck_assert_int_eq(FLAGS(&l, "cpus", "1.2.3"), -EINVAL);
        ck_assert_int_eq(FLAGS(&l, "cpus", ""), -EINVAL);

        ck_assert_int_eq(FLAGS(&l, "cpu-shares", "512"), 0);
        ck_assert_uint_eq(l.cpu_weight, limits_cpu_shares_to_weight(512));
        ck_assert_int_eq(FLAGS(&l, "cpu-shares", "1"), -ERANGE);
        ck_assert_int_eq(FLAGS(&l, "cpu-shares", "262145"), -ERANGE);
        ck_assert_int_eq(FLAGS(&l, "cpu-shares", "x"), -EINVAL);

        ck_assert_int_eq(FLAGS(&l, "pids-limit", "100"), 0);
        ck_assert_uint_eq(l.tasks_max, 100);
        ck_assert_int_eq(FLAGS(&l, "pids-limit", "-1"), 0);
        ck_assert_uint_eq(l.tasks_max, LIMIT_INFINITY);
        ck_assert_int_eq(FLAGS(&l, "pids-limit", "-2"), -EINVAL);

        ck_assert_int_eq(FLAGS(&l, "blkio-weight", "10"), 0);
        ck_assert_uint_eq(l.io_weight, 1);
        ck_assert_int_eq(FLAGS(&l, "blkio-weight", "9"), -ERANGE);
        ck_assert_int_eq(FLAGS(&l, "blkio-weight", "1001"), -ERANGE);

        ck_assert_int_eq(FLAGS(&l, "memory-reservation", "256m"), 0);
        ck_assert_uint_eq(l.memory_low, 256ULL << 20);
        ck_assert(!l.memory_swap_max_set);

        ck_assert_int_eq(FLAGS(&l, "cpuset-cpus", "0-2,4"), 0);
        ck_assert_uint_eq(l.allowed_cpus_size, 1);
        ck_assert_uint_eq(l.allowed_cpus[0], 0x17);
        scope_limits_done(&l);
}
END_TEST

/* Docker's --memory-swap is memory plus swap; systemd's MemorySwapMax is
 * swap alone. */
START_TEST(test_docker_swap) {
        _cleanup_free_ char *e = NULL;
        ScopeLimits l = {};

        ck_assert_int_eq(FLAGS(&l, "memory", "256m"), 0);   /* as much swap as memory */
        ck_assert(l.memory_swap_max_set);
        ck_assert_uint_eq(l.memory_swap_max, 256ULL << 20);
        ck_assert_int_eq(FLAGS(&l, "memory", "256m", "memory-swap", "1g"), 0);
        ck_assert_uint_eq(l.memory_swap_max, (1ULL << 30) - (256ULL << 20));
        ck_assert_int_eq(FLAGS(&l, "memory", "256m", "memory-swap", "256m"), 0);   /* no swap */
        ck_assert(l.memory_swap_max_set);
        ck_assert_uint_eq(l.memory_swap_max, 0);
        ck_assert_int_eq(FLAGS(&l, "memory", "256m", "memory-swap", "-1"), 0);
        ck_assert_uint_eq(l.memory_swap_max, LIMIT_INFINITY);
        ck_assert_int_eq(from_flags(&l, &e, "memory-swap", "1g", NULL), -EINVAL);
        ck_assert_str_eq(e, "A --memory-swap limit needs a --memory limit as well.");
        e = mfree(e);
        ck_assert_int_eq(from_flags(&l, &e, "memory", "256m", "memory-swap", "128m", NULL), -EINVAL);
        ck_assert_ptr_nonnull(e);
        e = mfree(e);
        ck_assert_int_eq(from_flags(&l, &e, "memory", "256m", "memory-reservation", "512m", NULL), -EINVAL);
        ck_assert_ptr_nonnull(e);
        e = mfree(e);
        ck_assert_int_eq(from_flags(&l, &e, "memory", "lots", NULL), -EINVAL);
        ck_assert_str_eq(e, "Invalid --memory value \"lots\": expected a size of at least 6m, like 512m or 1.5g.");
        e = mfree(e);
        ck_assert_int_eq(from_flags(&l, &e, "cpu-shares", "1", NULL), -ERANGE);
        ck_assert_str_eq(e, "Out of range --cpu-shares value \"1\": expected an integer from 2 to 262144.");
}
END_TEST

START_TEST(test_cpuset) {
        _cleanup_free_ uint8_t *m = NULL;
        _cleanup_free_ char *s = NULL;
        size_t n;

        ck_assert_int_eq(limits_parse_cpuset("0-2,4", &m, &n), 0);
        ck_assert_uint_eq(n, 1);
        ck_assert_uint_eq(m[0], 0x17);
        s = limits_format_cpuset(m, n);
        ck_assert_str_eq(s, "0-2,4");
        m = mfree(m);
        s = mfree(s);
        ck_assert_int_eq(limits_parse_cpuset("9", &m, &n), 0);
        ck_assert_uint_eq(n, 2);
        ck_assert_uint_eq(m[1], 0x02);
        m = mfree(m);
        ck_assert_int_eq(limits_parse_cpuset("7-8,3,3", &m, &n), 0);
        s = limits_format_cpuset(m, n);
        ck_assert_str_eq(s, "3,7-8");
        m = mfree(m);
        ck_assert_int_eq(limits_parse_cpuset("", &m, &n), -EINVAL);
        ck_assert_int_eq(limits_parse_cpuset("2-1", &m, &n), -EINVAL);
        ck_assert_int_eq(limits_parse_cpuset("1,", &m, &n), -EINVAL);
        ck_assert_int_eq(limits_parse_cpuset("a", &m, &n), -EINVAL);
        ck_assert_int_eq(limits_parse_cpuset("99999", &m, &n), -ERANGE);
        ck_assert_ptr_null(m);
}
END_TEST

/* The typed form, by systemd's property names, both ways. */
START_TEST(test_properties) {
        ScopeLimits l = {};
        uint64_t v;

        for (size_t i = 0; i < limit_properties_size; i++) {
                ck_assert_ptr_eq(limit_property_find(limit_properties[i].name), &limit_properties[i]);
                ck_assert(!limits_get_property(&l, &limit_properties[i], &v));
        }
        ck_assert_ptr_null(limit_property_find("MemoryMaxx"));
        ck_assert_ptr_null(limit_property_find(NULL));
        ck_assert_int_eq(limits_set_property(&l, "Nope", 1), -EINVAL);
        ck_assert_int_eq(limits_set_property(&l, "MemoryMax", 512ULL << 20), 0);
        ck_assert_uint_eq(l.memory_max, 512ULL << 20);
        ck_assert(limits_get_property(&l, limit_property_find("MemoryMax"), &v));
        ck_assert_uint_eq(v, 512ULL << 20);
        ck_assert_int_eq(limits_set_property(&l, "MemorySwapMax", 0), 0);
        ck_assert(limits_get_property(&l, limit_property_find("MemorySwapMax"), &v));
        ck_assert_uint_eq(v, 0);
        ck_assert_int_eq(limits_set_property(&l, "CPUWeight", 0), -ERANGE);
        ck_assert_int_eq(limits_set_property(&l, "CPUWeight", 10001), -ERANGE);
        ck_assert_int_eq(limits_set_property(&l, "CPUWeight", LIMIT_INFINITY), -ERANGE);
        ck_assert_int_eq(limits_set_property(&l, "CPUWeight", 100), 0);
        ck_assert_int_eq(limits_set_property(&l, "TasksMax", LIMIT_INFINITY), 0);
        ck_assert_int_eq(limits_set_property(&l, "CPUQuotaPerSecUSec", 9999), -ERANGE);
        ck_assert_int_eq(limits_set_property(&l, "MemoryMax", 0), -ERANGE);
        ck_assert_int_eq(limits_set_allowed_cpus(&l, (const uint8_t[]) { 0 }, 1), -ERANGE);
        ck_assert_int_eq(limits_set_allowed_cpus(&l, (const uint8_t[]) { 0, 3 }, 2), 0);
        ck_assert_uint_eq(l.allowed_cpus[1], 3);
        scope_limits_done(&l);
}
END_TEST

START_TEST(test_merge_verify) {
        ScopeLimits l = {}, u = {};
        const char *reason;

        ck_assert_int_eq(FLAGS(&l, "memory", "512m", "pids-limit", "50"), 0);
        ck_assert_int_eq(FLAGS(&u, "pids-limit", "80", "cpuset-cpus", "1"), 0);
        ck_assert_int_eq(limits_set_property(&u, "MemorySwapMax", 0), 0);
        ck_assert_int_eq(scope_limits_merge(&l, &u), 0);
        ck_assert_uint_eq(l.memory_max, 512ULL << 20);
        ck_assert_uint_eq(l.tasks_max, 80);
        ck_assert_uint_eq(l.memory_swap_max, 0);
        ck_assert(l.memory_swap_max_set);
        ck_assert_uint_eq(l.allowed_cpus[0], 0x02);
        ck_assert_ptr_ne(l.allowed_cpus, u.allowed_cpus);
        ck_assert_int_eq(scope_limits_verify(&l, &reason), 0);
        ck_assert_int_eq(limits_set_property(&l, "MemoryLow", 1ULL << 30), 0);
        ck_assert_int_eq(scope_limits_verify(&l, &reason), -EINVAL);
        ck_assert_ptr_nonnull(reason);
        scope_limits_done(&l);
        scope_limits_done(&u);
}
END_TEST

int main(void) {
        Suite *s = suite_create("limits");
        TCase *tc = tcase_create("limits");

        tcase_add_test(tc, test_docker_limit_table);
        tcase_add_test(tc, test_shares_to_weight);
        tcase_add_test(tc, test_docker_flags);
        tcase_add_test(tc, test_docker_swap);
        tcase_add_test(tc, test_cpuset);
        tcase_add_test(tc, test_properties);
        tcase_add_test(tc, test_merge_verify);
        suite_add_tcase(s, tc);
        return check_run_suite(s);
}
