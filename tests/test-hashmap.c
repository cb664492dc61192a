/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "check-util.h"

#include "hashmap.h"

#define N 10000

START_TEST(test_many) {
        _cleanup_(hashmap_freep) Hashmap *h = hashmap_new();
        static char keys[N][16];
        const char *k;
        void *v;
        size_t i = 0, seen = 0;

        ck_assert_ptr_nonnull(h);
        for (size_t n = 0; n < N; n++) {
                snprintf(keys[n], sizeof keys[n], "key-%zu", n);
                ck_assert_int_eq(hashmap_put(h, keys[n], (void *) (uintptr_t) (n + 1)), 0);
        }
        ck_assert_uint_eq(hashmap_size(h), N);
        ck_assert_int_eq(hashmap_put(h, "key-17", NULL), -EEXIST);
        for (size_t n = 0; n < N; n++)
                ck_assert_uint_eq((uintptr_t) hashmap_get(h, keys[n]), n + 1);
        ck_assert_ptr_null(hashmap_get(h, "key-10000"));
        ck_assert_ptr_null(hashmap_get(h, ""));

        /* Remove every third key, then check that every other key is still found:
         * backward-shift deletion must not break probe chains. */
        for (size_t n = 0; n < N; n += 3)
                ck_assert_uint_eq((uintptr_t) hashmap_remove(h, keys[n]), n + 1);
        ck_assert_ptr_null(hashmap_remove(h, keys[0]));
        for (size_t n = 0; n < N; n++)
                if (n % 3 == 0)
                        ck_assert_ptr_null(hashmap_get(h, keys[n]));
                else
                        ck_assert_uint_eq((uintptr_t) hashmap_get(h, keys[n]), n + 1);
        ck_assert_uint_eq(hashmap_size(h), N - (N + 2) / 3);

        while (hashmap_iterate(h, &i, &k, &v)) {
                ck_assert_uint_eq((uintptr_t) v, strtoul(k + 4, NULL, 10) + 1);
                seen++;
        }
        ck_assert_uint_eq(seen, hashmap_size(h));
        for (size_t n = 0; n < N; n += 3)
                ck_assert_int_eq(hashmap_put(h, keys[n], (void *) (uintptr_t) (n + 1)), 0);
        ck_assert_uint_eq(hashmap_size(h), N);
}
END_TEST

START_TEST(test_empty) {
        size_t i = 0;

        ck_assert_ptr_null(hashmap_get(NULL, "x"));
        ck_assert_uint_eq(hashmap_size(NULL), 0);
        ck_assert(!hashmap_iterate(NULL, &i, NULL, NULL));
        ck_assert_ptr_null(hashmap_free(NULL));
}
END_TEST

int main(void) {
        Suite *s = suite_create("hashmap");
        TCase *tc = tcase_create("core");

        tcase_add_test(tc, test_many);
        tcase_add_test(tc, test_empty);
        suite_add_tcase(s, tc);
        return check_run_suite(s);
}
