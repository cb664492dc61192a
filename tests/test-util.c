/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "check-util.h"

#include <jansson.h>

#include "util.h"

START_TEST(test_strv) {
        _cleanup_strv_free_ char **l = NULL;
        _cleanup_free_ char *j = NULL;

        ck_assert_int_eq(strv_extend(&l, "a"), 0);
        ck_assert_int_eq(strv_extend(&l, "bc"), 0);
        ck_assert_uint_eq(strv_length(l), 2);
        ck_assert(strv_contains(l, "bc"));
        ck_assert(!strv_contains(l, "b"));
        j = strv_join(l, ",");
        ck_assert_str_eq(j, "a,bc");
}
END_TEST

static void check_escape(const char *in, const char *want) {
        _cleanup_free_ char *e = escape_terminal(in);

        ck_assert_ptr_nonnull(e);
        ck_assert_str_eq(e, want);
        ck_assert(string_is_terminal_safe(e));
        ck_assert(string_is_terminal_safe(in) == streq(in, want));
}

START_TEST(test_escape_terminal) {
        check_escape("", "");
        check_escape("busybox:latest", "busybox:latest");
        /* A window title (OSC) and a screen clear (CSI), as an image's tag
         * or Cmd would carry them. */
        check_escape("\033]0;pwned\007", "\\x1b]0;pwned\\a");
        check_escape("x\033[2Jy", "x\\x1b[2Jy");
        check_escape("a\tb\nc\rd\be\vf\fg", "a\\tb\\nc\\rd\\be\\vf\\fg");
        check_escape("\001\037\177", "\\x01\\x1f\\x7f");
        /* C1 controls, as UTF-8 (U+009B is CSI) and as raw bytes. */
        check_escape("\xc2\x9b" "2J", "\\u009b2J");
        check_escape("\xc2\x80\xc2\x9f", "\\u0080\\u009f");
        check_escape("\x9b" "2J", "\\x9b2J");
        /* Not UTF-8: cut short, overlong, a surrogate, past U+10FFFF. */
        check_escape("\xe2\x82", "\\xe2\\x82");
        check_escape("\xc0\xaf", "\\xc0\\xaf");
        check_escape("\xed\xa0\x80", "\\xed\\xa0\\x80");
        check_escape("\xf4\x90\x80\x80", "\\xf4\\x90\\x80\\x80");
        /* Printable text stays, whatever its script; backslashes too. */
        check_escape("caf\xc3\xa9 \xc2\xa0 \xe2\x80\xa6 \xf0\x9f\x90\xb3", "caf\xc3\xa9 \xc2\xa0 \xe2\x80\xa6 \xf0\x9f\x90\xb3");
        check_escape("C:\\x1b", "C:\\x1b");
}
END_TEST

START_TEST(test_escape_json_text) {
        json_t *v = json_pack("{s:s}", "Cmd", "\033]0;pwned\007 \177 \xc2\x9b" "2J caf\xc3\xa9");
        _cleanup_free_ char *dump = json_dumps(v, JSON_COMPACT), *e = NULL;
        json_t *back;

        ck_assert_ptr_nonnull(dump);
        e = escape_json_text(dump);
        ck_assert_str_eq(e, "{\"Cmd\":\"\\u001B]0;pwned\\u0007 \\u007f \\u009b2J caf\xc3\xa9\"}");
        /* The same value, and nothing a terminal obeys. */
        back = json_loads(e, 0, NULL);
        ck_assert(json_equal(back, v));
        for (const char *p = e; *p; p++)
                ck_assert((unsigned char) *p >= 0x20 && *p != 0x7f);
        ck_assert(string_is_terminal_safe(e));
        json_decref(back);
        json_decref(v);
}
END_TEST

START_TEST(test_parse_size) {
        uint64_t v;

        ck_assert_int_eq(parse_size("512", 1024, &v), 0);
        ck_assert_uint_eq(v, 512);
        ck_assert_int_eq(parse_size("64k", 1024, &v), 0);
        ck_assert_uint_eq(v, 65536);
        ck_assert_int_eq(parse_size("1.5g", 1024, &v), 0);
        ck_assert_uint_eq(v, 1610612736ULL);
        ck_assert_int_eq(parse_size("2MB", 1000, &v), 0);
        ck_assert_uint_eq(v, 2000000);
        ck_assert_int_eq(parse_size("-1", 1024, &v), -EINVAL);
        ck_assert_int_eq(parse_size("12q", 1024, &v), -EINVAL);
        ck_assert_int_eq(parse_size("", 1024, &v), -EINVAL);
}
END_TEST

START_TEST(test_timestamps) {
        uint64_t u;
        char buf[64];

        ck_assert_int_eq(parse_timestamp_rfc3339("2024-01-02T03:04:05Z", &u), 0);
        ck_assert_uint_eq(u, 1704164645ULL * 1000000ULL);
        ck_assert_int_eq(parse_timestamp_rfc3339("2024-01-02T03:04:05.5+01:00", &u), 0);
        ck_assert_uint_eq(u, (1704164645ULL - 3600) * 1000000ULL + 500000);
        ck_assert_int_eq(parse_timestamp_rfc3339("yesterday", &u), -EINVAL);
        ck_assert_int_eq(format_timestamp_rfc3339(1704164645ULL * 1000000ULL + 7, buf, sizeof buf), 0);
        ck_assert_str_eq(buf, "2024-01-02T03:04:05.000007Z");
}
END_TEST

START_TEST(test_hex_and_strings) {
        _cleanup_free_ char *h = hexlify("\x01\xab", 2);

        ck_assert_str_eq(h, "01ab");
        ck_assert(string_is_hex("01ab", 4));
        ck_assert(!string_is_hex("01aB", 4));
        ck_assert(!string_is_hex("01a", 4));
        ck_assert_str_eq(startswith("foobar", "foo"), "bar");
        ck_assert_ptr_null(startswith("foobar", "bar"));
        ck_assert_str_eq(endswith("foobar", "bar"), "bar");
        ck_assert(IN_SET(3, 1, 2, 3));
        ck_assert(!IN_SET(4, 1, 2, 3));
        ck_assert_int_eq(parse_boolean("yes"), 1);
        ck_assert_int_eq(parse_boolean("off"), 0);
        ck_assert_int_eq(parse_boolean("maybe"), -EINVAL);
}
END_TEST

START_TEST(test_take) {
        char *p = strdup("x");
        char *q = TAKE_PTR(p);
        int fd = 5, g = TAKE_FD(fd);

        ck_assert_ptr_null(p);
        ck_assert_str_eq(q, "x");
        ck_assert_int_eq(fd, -EBADF);
        ck_assert_int_eq(g, 5);
        free(q);
}
END_TEST

int main(void) {
        Suite *s = suite_create("util");
        TCase *tc = tcase_create("core");

        tcase_add_test(tc, test_strv);
        tcase_add_test(tc, test_escape_terminal);
        tcase_add_test(tc, test_escape_json_text);
        tcase_add_test(tc, test_parse_size);
        tcase_add_test(tc, test_timestamps);
        tcase_add_test(tc, test_hex_and_strings);
        tcase_add_test(tc, test_take);
        suite_add_tcase(s, tc);
        return check_run_suite(s);
}
