/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <sys/socket.h>

#include "check-util.h"

#include "in-addr-util.h"

static InAddr addr(const char *s) {
        InAddr a;

        ck_assert_msg(in_addr_parse(s, AF_UNSPEC, &a) == 0, "%s does not parse", s);
        return a;
}

static InPrefix prefix(const char *s) {
        InPrefix p;

        ck_assert_msg(in_prefix_parse(s, AF_UNSPEC, &p) == 0, "%s does not parse", s);
        return p;
}

static const struct {
        const char *input, *canonical;
        int family;
} good_addrs[] = {
        { "10.88.0.1", "10.88.0.1", AF_INET },
        { "0.0.0.0", "0.0.0.0", AF_INET },
        { "255.255.255.255", "255.255.255.255", AF_INET },
        { "fd00::1", "fd00::1", AF_INET6 },
        { "FD00:0:0:0:0:0:0:1", "fd00::1", AF_INET6 },
        { "[::1]", "::1", AF_INET6 },
        { "::", "::", AF_INET6 },
        /* A v4-mapped address stays an IPv6 address: it is never taken for 10.0.0.1. */
        { "::ffff:10.0.0.1", "::ffff:10.0.0.1", AF_INET6 },
};

START_TEST(test_addr_parse_good) {
        char buf[IN_ADDR_STRLEN];
        InAddr a = addr(good_addrs[_i].input);

        ck_assert_int_eq(a.family, good_addrs[_i].family);
        ck_assert_str_eq(in_addr_to_string(&a, buf), good_addrs[_i].canonical);
        ck_assert_uint_eq(in_addr_size(a.family), a.family == AF_INET ? 4 : 16);
}
END_TEST

static const char *const bad_addrs[] = {
        "", "10.0.0", "10.0.0.0.1", "010.0.0.1", "10.0.0.256", " 10.0.0.1", "10.0.0.1 ", "10.0.0.1\n",
        "0x0a.0.0.1", "10.0.0.-1", "[10.0.0.1]", "[::1", "::1]", "[]", "[[::1]]", "fe80::1%eth0",
        "fd00:::1", "1:2:3:4:5:6:7:8:9", "::1/128", "localhost",
        "[0000:0000:0000:0000:0000:0000:0000:0000:0000:0001]",
        "00000000000000000000000000000000000000000000000000000000000010.0.0.1",
};

START_TEST(test_addr_parse_bad) {
        InAddr a = { .family = 12345 };

        ck_assert_msg(in_addr_parse(bad_addrs[_i], AF_UNSPEC, &a) == -EINVAL, "'%s' parsed", bad_addrs[_i]);
        ck_assert_int_eq(a.family, 12345);   /* untouched on error */
}
END_TEST

START_TEST(test_addr_parse_family) {
        InAddr a;

        ck_assert_int_eq(in_addr_parse("10.0.0.1", AF_INET6, &a), -EINVAL);
        ck_assert_int_eq(in_addr_parse("::1", AF_INET, &a), -EINVAL);
        ck_assert_int_eq(in_addr_parse("[::1]", AF_INET, &a), -EINVAL);
        ck_assert_int_eq(in_addr_parse(NULL, AF_UNSPEC, &a), -EINVAL);
        ck_assert_int_eq(in_addr_parse("[::1]", AF_INET6, &a), 0);
        ck_assert_int_eq(in_addr_parse("10.0.0.1", AF_INET, &a), 0);
        ck_assert_int_eq(a.family, AF_INET);
}
END_TEST

START_TEST(test_addr_predicates) {
        InAddr a = addr("127.1.2.3"), b = addr("::1"), c = addr("::ffff:127.0.0.1"), z = {};
        InAddr any4 = addr("0.0.0.0"), any6 = addr("::"), x = addr("10.0.0.1");
        InAddr same = addr("10.0.0.1"), other = addr("10.0.0.2");

        ck_assert(in_addr_is_loopback(&a));
        ck_assert(in_addr_is_loopback(&b));
        ck_assert(!in_addr_is_loopback(&c));
        ck_assert(!in_addr_is_loopback(&x));
        ck_assert(in_addr_is_any(&any4));
        ck_assert(in_addr_is_any(&any6));
        ck_assert(!in_addr_is_any(&x));
        ck_assert(!in_addr_is_any(&z));    /* no address is not "any address" */
        ck_assert(!in_addr_is_set(&z));
        ck_assert(in_addr_is_set(&x));
        ck_assert(!in_addr_equal(&any4, &any6));
        ck_assert(in_addr_equal(&x, &same));
        ck_assert(!in_addr_equal(&x, &other));
}
END_TEST

START_TEST(test_prefix_parse) {
        char buf[IN_PREFIX_STRLEN];
        InPrefix p;

        p = prefix("10.88.0.0/16");
        ck_assert_int_eq(p.addr.family, AF_INET);
        ck_assert_uint_eq(p.prefixlen, 16);
        ck_assert_str_eq(in_prefix_to_string(&p, buf), "10.88.0.0/16");
        p = prefix("fd00:0:0:1::/64");
        ck_assert_str_eq(in_prefix_to_string(&p, buf), "fd00:0:0:1::/64");
        p = prefix("0.0.0.0/0");
        ck_assert_uint_eq(p.prefixlen, 0);
        p = prefix("::/0");
        ck_assert_uint_eq(p.prefixlen, 0);
        p = prefix("10.1.2.3/32");
        ck_assert_uint_eq(p.prefixlen, 32);
        p = prefix("fd00::1/128");
        ck_assert_uint_eq(p.prefixlen, 128);

        ck_assert_int_eq(in_prefix_parse("fd00::/64", AF_INET, &p), -EINVAL);
        ck_assert_int_eq(in_prefix_parse("10.0.0.0/8", AF_INET6, &p), -EINVAL);
        ck_assert_int_eq(in_prefix_parse("10.0.0.0/8", AF_INET, &p), 0);
}
END_TEST

static const char *const bad_prefixes[] = {
        /* host bits set, as Docker refuses them */
        "10.88.0.1/16", "10.0.0.128/24", "10.0.0.1/31", "0.0.0.1/0", "fd00::1/64", "fd00::1/127",
        /* the length */
        "10.0.0.0/33", "fd00::/129", "10.0.0.0/", "10.0.0.0", "10.0.0.0/08", "10.0.0.0/+8", "10.0.0.0/-8",
        "10.0.0.0/ 8", "10.0.0.0/8 ", "10.0.0.0/8/8", "10.0.0.0/99999999999999999999999", "10.0.0.0/4294967304",
        /* the address */
        "[fd00::]/64", "10.0.0/8", "/8", "", " 10.0.0.0/8", "010.0.0.0/8",
};

START_TEST(test_prefix_parse_bad) {
        InPrefix p = { .prefixlen = 77 };

        ck_assert_msg(in_prefix_parse(bad_prefixes[_i], AF_UNSPEC, &p) == -EINVAL, "'%s' parsed", bad_prefixes[_i]);
        ck_assert_uint_eq(p.prefixlen, 77);
}
END_TEST

START_TEST(test_prefix_contains) {
        InPrefix p = prefix("10.88.0.0/16"), host = prefix("10.1.2.3/32"), all4 = prefix("0.0.0.0/0");
        InPrefix all6 = prefix("::/0"), p6 = prefix("fd00::/64"), one6 = prefix("fd00::1/128");
        InAddr a = addr("10.88.255.255"), b = addr("10.89.0.0"), c = addr("10.1.2.3"), d = addr("10.1.2.4");
        InAddr e = addr("fd00::ffff:ffff:ffff:ffff"), f = addr("fd00:0:0:1::"), g = addr("fd00::1");

        ck_assert(in_prefix_contains(&p, &p.addr));
        ck_assert(in_prefix_contains(&p, &a));
        ck_assert(!in_prefix_contains(&p, &b));
        ck_assert(in_prefix_contains(&host, &c));
        ck_assert(!in_prefix_contains(&host, &d));
        ck_assert(in_prefix_contains(&all4, &a));
        ck_assert(!in_prefix_contains(&all4, &g));   /* never across families */
        ck_assert(in_prefix_contains(&all6, &g));
        ck_assert(!in_prefix_contains(&all6, &a));
        ck_assert(in_prefix_contains(&p6, &e));
        ck_assert(!in_prefix_contains(&p6, &f));
        ck_assert(in_prefix_contains(&one6, &g));
        ck_assert(!in_prefix_contains(&one6, &e));
}
END_TEST

START_TEST(test_prefix_overlaps) {
        InPrefix a = prefix("10.0.0.0/8"), b = prefix("10.1.0.0/16"), c = prefix("10.88.0.0/16");
        InPrefix d = prefix("11.0.0.0/8"), all = prefix("0.0.0.0/0"), h = prefix("10.1.255.255/32");
        InPrefix v6 = prefix("::/0"), u = prefix("fd00::/48"), w = prefix("fd00:0:0:5::/64"), x = prefix("fd01::/48");

        ck_assert(in_prefix_overlaps(&a, &b));
        ck_assert(in_prefix_overlaps(&b, &a));
        ck_assert(!in_prefix_overlaps(&b, &c));
        ck_assert(!in_prefix_overlaps(&a, &d));
        ck_assert(in_prefix_overlaps(&all, &d));
        ck_assert(in_prefix_overlaps(&h, &b));
        ck_assert(!in_prefix_overlaps(&h, &c));
        ck_assert(in_prefix_overlaps(&a, &a));
        ck_assert(!in_prefix_overlaps(&all, &v6));
        ck_assert(in_prefix_overlaps(&u, &w));
        ck_assert(!in_prefix_overlaps(&x, &w));
}
END_TEST

static uint64_t size_of(const char *s) {
        InPrefix p = prefix(s);

        return in_prefix_size(&p);
}

START_TEST(test_prefix_size) {
        ck_assert_uint_eq(size_of("10.0.0.0/24"), 256);
        ck_assert_uint_eq(size_of("10.0.0.1/32"), 1);
        ck_assert_uint_eq(size_of("0.0.0.0/0"), UINT64_C(1) << 32);
        ck_assert_uint_eq(size_of("fd00::1/128"), 1);
        ck_assert_uint_eq(size_of("fd00::/65"), UINT64_C(1) << 63);
        ck_assert_uint_eq(size_of("fd00::/64"), UINT64_MAX);
        ck_assert_uint_eq(size_of("::/0"), UINT64_MAX);
}
END_TEST

static void assert_nth(const char *p, uint64_t n, const char *want) {
        InPrefix x = prefix(p);
        char buf[IN_ADDR_STRLEN];
        InAddr a;
        uint64_t back;

        ck_assert_msg(in_prefix_nth(&x, n, &a) == 0, "%s + %" PRIu64, p, n);
        ck_assert_str_eq(in_addr_to_string(&a, buf), want);
        ck_assert_int_eq(in_prefix_offset(&x, &a, &back), 0);
        ck_assert_uint_eq(back, n);
}

START_TEST(test_prefix_nth_offset) {
        InPrefix p = prefix("10.88.0.0/24"), host = prefix("10.1.2.3/32"), all = prefix("0.0.0.0/0");
        InPrefix p6 = prefix("fd00::/64"), p48 = prefix("fd00::/48"), one6 = prefix("fd00::1/128");
        InAddr a = {}, outside = addr("10.88.1.0"), high = addr("fd00:0:0:1::1"), other_family = addr("fd00::1");
        uint64_t off = 42;

        assert_nth("10.88.0.0/24", 0, "10.88.0.0");
        assert_nth("10.88.0.0/24", 1, "10.88.0.1");
        assert_nth("10.88.0.0/24", 255, "10.88.0.255");   /* the last address */
        assert_nth("10.88.0.0/16", 256, "10.88.1.0");
        assert_nth("10.1.2.3/32", 0, "10.1.2.3");
        assert_nth("0.0.0.0/0", UINT32_MAX, "255.255.255.255");
        assert_nth("fd00::/64", 2, "fd00::2");
        assert_nth("fd00::/64", UINT64_MAX, "fd00::ffff:ffff:ffff:ffff");
        assert_nth("fd00::/48", 65536, "fd00::1:0");
        assert_nth("fd00::1/128", 0, "fd00::1");

        /* Past the end, -ERANGE and ret untouched. */
        ck_assert_int_eq(in_prefix_nth(&p, 256, &a), -ERANGE);
        ck_assert_int_eq(in_prefix_nth(&host, 1, &a), -ERANGE);
        ck_assert_int_eq(in_prefix_nth(&all, UINT64_C(1) << 32, &a), -ERANGE);
        ck_assert_int_eq(in_prefix_nth(&one6, 1, &a), -ERANGE);
        ck_assert_int_eq(in_prefix_nth(&p, UINT64_MAX, &a), -ERANGE);
        ck_assert_int_eq(in_prefix_nth(&(InPrefix) {}, 0, &a), -ERANGE);
        ck_assert(!in_addr_is_set(&a));

        ck_assert_int_eq(in_prefix_offset(&p, &outside, &off), -ERANGE);
        ck_assert_int_eq(in_prefix_offset(&p, &other_family, &off), -ERANGE);
        ck_assert_int_eq(in_prefix_offset(&p6, &high, &off), -ERANGE);
        /* Wider than 2^64: offsets that do not fit are refused, not truncated. */
        ck_assert_int_eq(in_prefix_offset(&p48, &high, &off), -ERANGE);
        ck_assert_uint_eq(off, 42);
}
END_TEST

static void assert_next(const char *p, const char *want) {
        InPrefix x = prefix(p), n;
        char buf[IN_PREFIX_STRLEN];

        ck_assert_msg(in_prefix_next(&x, &n) == 0, "next of %s", p);
        ck_assert_str_eq(in_prefix_to_string(&n, buf), want);
}

static void assert_no_next(const char *p) {
        InPrefix x = prefix(p), n = { .prefixlen = 99 };

        ck_assert_msg(in_prefix_next(&x, &n) == -ERANGE, "next of %s", p);
        ck_assert_uint_eq(n.prefixlen, 99);
}

START_TEST(test_prefix_next) {
        assert_next("10.89.0.0/24", "10.89.1.0/24");
        assert_next("10.89.255.0/24", "10.90.0.0/24");   /* carries */
        assert_next("10.255.255.0/24", "11.0.0.0/24");
        assert_next("10.0.0.0/8", "11.0.0.0/8");
        assert_next("10.0.0.1/32", "10.0.0.2/32");
        assert_next("10.0.0.255/32", "10.0.1.0/32");
        assert_next("0.0.0.0/1", "128.0.0.0/1");
        assert_next("fd00::/64", "fd00:0:0:1::/64");
        assert_next("fd00:0:0:ffff::/64", "fd00:0:1::/64");
        assert_next("fd00::ffff/128", "fd00::1:0/128");

        assert_no_next("255.255.255.0/24");
        assert_no_next("255.255.255.255/32");
        assert_no_next("128.0.0.0/1");
        assert_no_next("0.0.0.0/0");
        assert_no_next("::/0");
        assert_no_next("ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff/128");
}
END_TEST

static Suite *in_addr_suite(void) {
        Suite *s = suite_create("in-addr-util");
        TCase *tc = tcase_create("parse");

        tcase_add_loop_test(tc, test_addr_parse_good, 0, ELEMENTSOF(good_addrs));
        tcase_add_loop_test(tc, test_addr_parse_bad, 0, ELEMENTSOF(bad_addrs));
        tcase_add_test(tc, test_addr_parse_family);
        tcase_add_test(tc, test_addr_predicates);
        tcase_add_test(tc, test_prefix_parse);
        tcase_add_loop_test(tc, test_prefix_parse_bad, 0, ELEMENTSOF(bad_prefixes));
        suite_add_tcase(s, tc);

        tc = tcase_create("arithmetic");
        tcase_add_test(tc, test_prefix_contains);
        tcase_add_test(tc, test_prefix_overlaps);
        tcase_add_test(tc, test_prefix_size);
        tcase_add_test(tc, test_prefix_nth_offset);
        tcase_add_test(tc, test_prefix_next);
        suite_add_tcase(s, tc);
        return s;
}

int main(void) {
        return check_run_suite(in_addr_suite());
}
