/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <fcntl.h>
#include <sys/stat.h>

#include "check-util.h"

#include "fileio.h"
#include "proc-util.h"

static void sanitized_is(const char *in, const char *want) {
        _cleanup_free_ char *s = strdup(in);

        ck_assert_ptr_nonnull(s);
        utf8_sanitize(s);
        ck_assert_str_eq(s, want);
}

START_TEST(test_utf8_sanitize) {
        sanitized_is("", "");
        sanitized_is("sleep 1000", "sleep 1000");
        sanitized_is("gr\xc3\xbc\xc3\x9f \xe2\x82\xac \xf0\x9f\x98\x80", "gr\xc3\xbc\xc3\x9f \xe2\x82\xac \xf0\x9f\x98\x80");
        sanitized_is("a\xff" "b\xfe", "a?b?");
        sanitized_is("\x80x", "?x");                       /* a lone continuation byte */
        sanitized_is("\xc0\xaf", "??");                    /* overlong '/' */
        sanitized_is("\xe0\x80\xaf", "???");               /* overlong, three bytes */
        sanitized_is("\xed\xa0\x80", "???");               /* a UTF-16 surrogate */
        sanitized_is("\xef\xbf\xbe", "???");               /* U+FFFE */
        sanitized_is("\xef\xb7\x90", "???");               /* U+FDD0, a non-character */
        sanitized_is("\xf4\x90\x80\x80", "????");          /* beyond U+10FFFF */
        sanitized_is("x\xe2\x82", "x??");                  /* cut short at the end */
        sanitized_is("\xe2\x82x", "??x");                  /* cut short by an ASCII byte */
}
END_TEST

START_TEST(test_own_process) {
        _cleanup_free_ char *cmd = NULL;
        uint32_t ppid = 0, uid = 1;

        ck_assert_int_eq(proc_read_process(AT_FDCWD, getpid(), 4096, &ppid, &uid, &cmd), 0);
        ck_assert_uint_eq(ppid, (uint32_t) getppid());
        ck_assert_uint_eq(uid, (uint32_t) getuid());
        ck_assert_ptr_nonnull(strstr(cmd, "test-proc-util"));
        cmd = mfree(cmd);
        ck_assert_int_eq(proc_read_process(AT_FDCWD, getpid(), 4, &ppid, &uid, &cmd), 0);
        ck_assert_uint_eq(strlen(cmd), 4);
}
END_TEST

/* A fake /proc in a temporary directory: what a process that goes or
 * plays with its command line leaves for the reader. */
static int fake_proc(char *dir, const char *stat, const char *status, const char *cmdline, size_t cmdline_size) {
        _cleanup_close_ int fd = -EBADF;

        ck_assert_ptr_nonnull(mkdtemp(dir));
        fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        ck_assert_int_ge(fd, 0);
        ck_assert_int_eq(mkdirat(fd, "42", 0755), 0);
        if (stat)
                ck_assert_int_eq(write_file_replace_at(fd, "42/stat", stat, strlen(stat), 0644, false), 0);
        if (status)
                ck_assert_int_eq(write_file_replace_at(fd, "42/status", status, strlen(status), 0644, false), 0);
        if (cmdline)
                ck_assert_int_eq(write_file_replace_at(fd, "42/cmdline", cmdline, cmdline_size, 0644, false), 0);
        return TAKE_FD(fd);
}

START_TEST(test_gone_between_reads) {
        char dir[] = "/tmp/test-proc-util.XXXXXX";
        _cleanup_close_ int fd = -EBADF;
        _cleanup_free_ char *cmd = NULL;
        uint32_t ppid, uid;

        /* Its stat read, then it went: before, the read of status was
         * fclose(NULL) and berthd died. */
        fd = fake_proc(dir, "42 (sh) S 1 42 42 0 -1\n", NULL, NULL, 0);
        ck_assert_int_eq(proc_read_process(fd, 42, 4096, &ppid, &uid, &cmd), -ESRCH);
        ck_assert_ptr_null(cmd);
        ck_assert_int_eq(proc_read_process(fd, 43, 4096, &ppid, &uid, &cmd), -ESRCH);
        ck_assert_int_eq(rm_rf_at(AT_FDCWD, dir), 0);
}
END_TEST

START_TEST(test_hostile_names) {
        char dir[] = "/tmp/test-proc-util.XXXXXX";
        static const char cmdline[] = "sh\0-c\0x\xff\0";
        _cleanup_close_ int fd = -EBADF;
        _cleanup_free_ char *cmd = NULL;
        uint32_t ppid = 0, uid = 0;

        /* A comm with ") S 99 (" in it: the ppid is after the last ')'. */
        fd = fake_proc(dir, "42 (a) S 99 (b) S 7 42 42 0 -1\n",
                       "Name:\ta) S 99 (b\nUmask:\t0022\nState:\tS (sleeping)\nUid:\t1000\t1000\t1000\t1000\n",
                       cmdline, sizeof cmdline - 1);
        ck_assert_int_eq(proc_read_process(fd, 42, 4096, &ppid, &uid, &cmd), 0);
        ck_assert_uint_eq(ppid, 7);
        ck_assert_uint_eq(uid, 1000);
        ck_assert_str_eq(cmd, "sh -c x?");
        ck_assert_int_eq(rm_rf_at(AT_FDCWD, dir), 0);
}
END_TEST

START_TEST(test_zombie) {
        char dir[] = "/tmp/test-proc-util.XXXXXX";
        _cleanup_close_ int fd = -EBADF;
        _cleanup_free_ char *cmd = NULL;
        uint32_t ppid = 0, uid = 0;

        /* An empty command line (a zombie's) is no error. */
        fd = fake_proc(dir, "42 (sh) Z 5 42 42 0 -1\n", "Name:\tsh\nUid:\t0\t0\t0\t0\n", "", 0);
        ck_assert_int_eq(proc_read_process(fd, 42, 4096, &ppid, &uid, &cmd), 0);
        ck_assert_uint_eq(ppid, 5);
        ck_assert_str_eq(cmd, "");
        ck_assert_int_eq(rm_rf_at(AT_FDCWD, dir), 0);
}
END_TEST

int main(void) {
        Suite *s = suite_create("proc-util");
        TCase *tc = tcase_create("core");

        tcase_add_test(tc, test_utf8_sanitize);
        tcase_add_test(tc, test_own_process);
        tcase_add_test(tc, test_gone_between_reads);
        tcase_add_test(tc, test_hostile_names);
        tcase_add_test(tc, test_zombie);
        suite_add_tcase(s, tc);
        return check_run_suite(s);
}
