/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "check-util.h"
#include <sys/mman.h>

#include "digest.h"

#define EMPTY "sha256:e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"
#define ABC "sha256:ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"

START_TEST(test_known_vectors) {
        char buf[DIGEST_STRING_MAX];

        ck_assert_int_eq(sha256_digest_buffer("", 0, buf), 0);
        ck_assert_str_eq(buf, EMPTY);
        ck_assert_int_eq(sha256_digest_buffer("abc", 3, buf), 0);
        ck_assert_str_eq(buf, ABC);
}
END_TEST

START_TEST(test_streaming) {
        _cleanup_(sha256_freep) Sha256 *h = NULL;
        static uint8_t data[300000];
        char one[DIGEST_STRING_MAX], many[DIGEST_STRING_MAX];

        for (size_t i = 0; i < sizeof data; i++)
                data[i] = (uint8_t) (i * 7 + i / 251);
        ck_assert_int_eq(sha256_digest_buffer(data, sizeof data, one), 0);
        ck_assert_int_eq(sha256_new(&h), 0);
        for (size_t off = 0, step = 1; off < sizeof data; off += step, step = step * 3 + 1)
                ck_assert_int_eq(sha256_update(h, data + off, MIN(step, sizeof data - off)), 0);
        ck_assert_int_eq(sha256_final(h, many), 0);
        ck_assert_str_eq(one, many);
        ck_assert_int_eq(digest_validate(one), 0);
}
END_TEST

START_TEST(test_fd) {
        _cleanup_close_ int fd = memfd_create("digest", MFD_CLOEXEC);
        char buf[DIGEST_STRING_MAX];

        ck_assert_int_ge(fd, 0);
        ck_assert_int_eq(sha256_digest_fd(fd, buf), 0);
        ck_assert_str_eq(buf, EMPTY);
        ck_assert_int_eq(write(fd, "abc", 3), 3);
        ck_assert_int_eq(lseek(fd, 0, SEEK_SET), 0);
        ck_assert_int_eq(sha256_digest_fd(fd, buf), 0);
        ck_assert_str_eq(buf, ABC);
        ck_assert_int_eq(sha256_digest_fd(-1, buf), -EBADF);
}
END_TEST

START_TEST(test_validate) {
        ck_assert_int_eq(digest_validate(ABC), 0);
        ck_assert_str_eq(digest_hex(ABC), ABC + 7);
        ck_assert_int_eq(digest_validate(NULL), -EINVAL);
        ck_assert_int_eq(digest_validate(""), -EINVAL);
        ck_assert_int_eq(digest_validate(ABC + 7), -EINVAL);
        ck_assert_int_eq(digest_validate("sha256:BA7816BF8F01CFEA414140DE5DAE2223B00361A396177A9CB410FF61F20015AD"), -EINVAL);
        ck_assert_int_eq(digest_validate("sha256:ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015a"), -EINVAL);
        ck_assert_int_eq(digest_validate(ABC "0"), -EINVAL);
        ck_assert_int_eq(digest_validate("sha512:ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"), -EINVAL);
        ck_assert_int_eq(digest_validate("sha256:ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ag"), -EINVAL);
        ck_assert_int_eq(digest_validate("SHA256:ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"), -EINVAL);
        ck_assert_ptr_null(digest_hex("sha256:abc"));
}
END_TEST

int main(void) {
        Suite *s = suite_create("digest");
        TCase *tc = tcase_create("core");

        tcase_add_test(tc, test_known_vectors);
        tcase_add_test(tc, test_streaming);
        tcase_add_test(tc, test_fd);
        tcase_add_test(tc, test_validate);
        suite_add_tcase(s, tc);
        return check_run_suite(s);
}
