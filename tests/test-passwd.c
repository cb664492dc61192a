/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <check.h>
#include <fcntl.h>
#include <sys/stat.h>

#include "fileio.h"
#include "passwd.h"

static char root[] = "/var/tmp/berth-test-passwd.XXXXXX";
static int rootfd = -EBADF;

static void put(const char *path, const char *content) {
        ck_assert_int_eq(write_file_atomic_at(rootfd, path, content, strlen(content), 0644), 0);
}

static void setup(void) {
        ck_assert_ptr_nonnull(mkdtemp(root));
        rootfd = open(root, O_PATH | O_DIRECTORY | O_CLOEXEC);
        ck_assert_int_ge(rootfd, 0);
        ck_assert_int_eq(mkdirat(rootfd, "etc", 0755), 0);
}

static void teardown(void) {
        (void) rm_rf_at(AT_FDCWD, root);
        rootfd = safe_close(rootfd);
}

static char *long_line(void) {
        char *l = malloc(10000);

        memset(l, 'x', 9998);
        memcpy(l, "evil:x:0:0:", 11);
        l[9998] = '\n';
        l[9999] = 0;
        return l;
}

START_TEST(test_malformed_lines) {
        _cleanup_free_ char *longl = long_line(), *content = NULL;
        UserCreds c;

        content = strjoin("# comment\n\n",
                          "short:x:1\n",
                          "toomany:x:5:5:g:/h:/s:extra\n",
                          "neg:x:-1:0::/:/bin/sh\n",
                          "alpha:x:12a:0::/:/bin/sh\n",
                          ":x:7:7::/:/bin/sh\n",
                          longl,
                          "huge:x:99999999999:0::/:/bin/sh\n",
                          "app:x:100:101:App:/srv/app:/bin/sh\n",
                          "last:x:200:200::/home/last:/bin/sh");  /* no final newline */
        put("etc/passwd", content);
        put("etc/group", "bad\napp:x:101:\nwheel:x:10:app,last\nweird:x:nope:app\n");

        ck_assert_int_eq(passwd_resolve(rootfd, "app", &c), 0);
        ck_assert_int_eq(c.uid, 100);
        ck_assert_int_eq(c.gid, 101);
        ck_assert_str_eq(c.home, "/srv/app");
        ck_assert_uint_eq(c.n_groups, 2);
        ck_assert_int_eq(c.groups[0], 101);
        ck_assert_int_eq(c.groups[1], 10);

        ck_assert_int_eq(passwd_resolve(rootfd, "last", &c), 0);
        ck_assert_int_eq(c.uid, 200);
        ck_assert_str_eq(c.home, "/home/last");

        /* Names only present on malformed lines resolve to nothing. */
        ck_assert_int_eq(passwd_resolve(rootfd, "short", &c), -ESRCH);
        ck_assert_int_eq(passwd_resolve(rootfd, "toomany", &c), -ESRCH);
        ck_assert_int_eq(passwd_resolve(rootfd, "neg", &c), -ESRCH);
        ck_assert_int_eq(passwd_resolve(rootfd, "alpha", &c), -ESRCH);
        ck_assert_int_eq(passwd_resolve(rootfd, "evil", &c), -ESRCH);
        ck_assert_int_eq(passwd_resolve(rootfd, "huge", &c), -ESRCH);
        ck_assert_int_eq(passwd_resolve(rootfd, "app:weird", &c), -ESRCH);
        ck_assert_int_eq(passwd_resolve(rootfd, "app:nogroup", &c), -ESRCH);
}
END_TEST

START_TEST(test_forms) {
        UserCreds c;

        put("etc/passwd", "root:x:0:0:root:/root:/bin/sh\nbob:x:1001:1001::/home/bob:/bin/sh\nnohome:x:1002:1002:::\n");
        put("etc/group", "root:x:0:\nbob:x:1001:\nusers:x:100:bob\n");

        ck_assert_int_eq(passwd_resolve(rootfd, NULL, &c), 0);
        ck_assert_int_eq(c.uid, 0);
        ck_assert_str_eq(c.home, "/root");
        ck_assert_int_eq(passwd_resolve(rootfd, "1001", &c), 0);
        ck_assert_int_eq(c.gid, 1001);
        ck_assert_uint_eq(c.n_groups, 2);
        ck_assert_int_eq(passwd_resolve(rootfd, "bob:users", &c), 0);
        ck_assert_int_eq(c.gid, 100);
        ck_assert_uint_eq(c.n_groups, 1);
        ck_assert_int_eq(passwd_resolve(rootfd, "bob:4000", &c), 0);
        ck_assert_int_eq(c.gid, 4000);
        ck_assert_int_eq(c.groups[0], 4000);
        ck_assert_int_eq(passwd_resolve(rootfd, "5000:6000", &c), 0);
        ck_assert_int_eq(c.uid, 5000);
        ck_assert_int_eq(c.gid, 6000);
        ck_assert_str_eq(c.home, "/");
        ck_assert_uint_eq(c.n_groups, 1);
        ck_assert_int_eq(passwd_resolve(rootfd, "nohome", &c), 0);
        ck_assert_str_eq(c.home, "/");
        ck_assert_int_eq(passwd_resolve(rootfd, "nobody", &c), -ESRCH);
        ck_assert_int_eq(passwd_resolve(rootfd, "bob:", &c), -EINVAL);
        ck_assert_int_eq(passwd_resolve(rootfd, ":100", &c), -EINVAL);
}
END_TEST

START_TEST(test_stays_in_root) {
        UserCreds c;

        /* Absolute symlinks and ".." resolve inside the root, never to the host's
         * files: this one reaches our etc/group, not the host's. */
        put("etc/group", "inroot:x:5:5::/:/bin/sh\n");
        ck_assert_int_eq(symlinkat("/../../../../../etc/group", rootfd, "etc/passwd"), 0);
        ck_assert_int_eq(passwd_resolve(rootfd, "inroot", &c), 0);
        ck_assert_int_eq(c.uid, 5);
        ck_assert_int_eq(passwd_resolve(rootfd, "root", &c), -ESRCH);
        ck_assert_int_eq(unlinkat(rootfd, "etc/passwd", 0), 0);
        ck_assert_int_eq(mkdirat(rootfd, "real", 0755), 0);
        put("real/passwd", "inside:x:7:7::/in:/bin/sh\n");
        ck_assert_int_eq(symlinkat("/real/passwd", rootfd, "etc/passwd"), 0);
        ck_assert_int_eq(passwd_resolve(rootfd, "inside", &c), 0);
        ck_assert_int_eq(c.uid, 7);
}
END_TEST

static Suite *passwd_suite(void) {
        Suite *s = suite_create("passwd");
        TCase *tc = tcase_create("core");

        tcase_add_checked_fixture(tc, setup, teardown);
        tcase_add_test(tc, test_malformed_lines);
        tcase_add_test(tc, test_forms);
        tcase_add_test(tc, test_stays_in_root);
        suite_add_tcase(s, tc);
        return s;
}

int main(void) {
        SRunner *sr = srunner_create(passwd_suite());
        int failed;

        srunner_run_all(sr, CK_NORMAL);
        failed = srunner_ntests_failed(sr);
        srunner_free(sr);
        return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
