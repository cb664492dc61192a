/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <fcntl.h>
#include <netinet/in.h>
#include <pty.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>

#include "check-util.h"
#include "stdio-fd.h"
#include "util.h"

/* Refused, and named as want says. */
static void assert_refused(int fd, const char *want) {
        const char *what = NULL;

        ck_assert_int_ge(fd, 0);
        ck_assert_int_eq(stdio_fd_check(fd, &what), -EPERM);
        ck_assert_ptr_nonnull(what);
        ck_assert_msg(strstr(what, want), "'%s' does not say '%s'", what, want);
        safe_close(fd);
}

static void assert_accepted(int fd) {
        const char *what = "unset";

        ck_assert_int_ge(fd, 0);
        ck_assert_int_eq(stdio_fd_check(fd, &what), 0);
        ck_assert_ptr_null(what);
}

START_TEST(test_pipes_and_stream_sockets) {
        int p[2], s[2];

        ck_assert_int_eq(pipe2(p, O_CLOEXEC), 0);
        assert_accepted(p[0]);
        assert_accepted(p[1]);
        /* Its own O_NONBLOCK changes nothing. */
        ck_assert_int_eq(fcntl(p[1], F_SETFL, O_NONBLOCK), 0);
        assert_accepted(p[1]);
        safe_close(p[0]);
        safe_close(p[1]);
        ck_assert_int_eq(socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, s), 0);
        assert_accepted(s[0]);
        /* The peer gone, it still cannot connect elsewhere. */
        safe_close(s[1]);
        assert_accepted(s[0]);
        safe_close(s[0]);
        ck_assert_int_eq(socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, s), 0);
        assert_accepted(s[0]);
        safe_close(s[0]);
        safe_close(s[1]);
}
END_TEST

START_TEST(test_files) {
        char dir[] = "/tmp/test-stdio-fd.XXXXXX", path[64];
        int fd;

        ck_assert_ptr_nonnull(mkdtemp(dir));
        snprintf(path, sizeof path, "%s/f", dir);
        assert_refused(open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0600), "a regular file");
        assert_refused(open(path, O_RDONLY | O_CLOEXEC), "a regular file");
        assert_refused(open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC), "a directory");
        assert_refused(open(dir, O_PATH | O_CLOEXEC), "O_PATH");
        assert_refused(open(path, O_PATH | O_CLOEXEC), "O_PATH");
        ck_assert_int_eq(unlink(path), 0);
        /* A FIFO of the file system passes S_ISFIFO but is an inode of the host. */
        ck_assert_int_eq(mkfifo(path, 0600), 0);
        assert_refused(open(path, O_RDWR | O_CLOEXEC), "FIFO of the file system");
        assert_refused(open(path, O_PATH | O_CLOEXEC), "O_PATH");
        ck_assert_int_eq(unlink(path), 0);
        /* So does a socket's inode, opened O_PATH. */
        {
                struct sockaddr_un sa = { .sun_family = AF_UNIX };
                int l = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);

                strcpy(sa.sun_path, path);
                ck_assert_int_eq(bind(l, (struct sockaddr *) &sa, sizeof sa), 0);
                assert_refused(open(path, O_PATH | O_CLOEXEC), "O_PATH");
                safe_close(l);
                ck_assert_int_eq(unlink(path), 0);
        }
        ck_assert_int_eq(rmdir(dir), 0);
        fd = memfd_create("x", MFD_CLOEXEC);
        assert_refused(fd, "a regular file");
}
END_TEST

START_TEST(test_devices) {
        int master, slave;

        assert_refused(open("/dev/null", O_RDWR | O_CLOEXEC), "a character device");
        assert_refused(open("/dev/zero", O_RDONLY | O_CLOEXEC), "a character device");
        ck_assert_int_eq(openpty(&master, &slave, NULL, NULL, NULL), 0);
        assert_refused(slave, "a terminal");
        assert_refused(master, "a terminal");
}
END_TEST

START_TEST(test_special) {
        assert_refused(eventfd(0, EFD_CLOEXEC), "special");
        assert_refused(epoll_create1(EPOLL_CLOEXEC), "special");
}
END_TEST

START_TEST(test_sockets) {
        struct sockaddr_un sa = { .sun_family = AF_UNIX, .sun_path = "\0test-stdio-fd" };
        socklen_t len = offsetof(struct sockaddr_un, sun_path) + 14;
        int s[2], l;

        /* Unconnected, it could connect to any abstract socket of the
         * network namespace it was made in (the host's). */
        assert_refused(socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0), "an unconnected socket");
        l = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
        ck_assert_int_eq(bind(l, (struct sockaddr *) &sa, len), 0);
        ck_assert_int_eq(listen(l, 1), 0);
        assert_refused(l, "a listening socket");
        /* Datagram sockets send anywhere, connected or not. */
        ck_assert_int_eq(socketpair(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0, s), 0);
        assert_refused(s[0], "a datagram socket");
        safe_close(s[1]);
        assert_refused(socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0), "a datagram socket");
        /* TCP is re-pointed with connect(AF_UNSPEC); UDP sends anywhere. */
        assert_refused(socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0), "a network socket");
        assert_refused(socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0), "a network socket");
        {
                struct sockaddr_in in = { .sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
                socklen_t inlen = sizeof in;
                int srv = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0), c, a;

                ck_assert_int_eq(bind(srv, (struct sockaddr *) &in, sizeof in), 0);
                ck_assert_int_eq(listen(srv, 1), 0);
                ck_assert_int_eq(getsockname(srv, (struct sockaddr *) &in, &inlen), 0);
                c = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
                ck_assert_int_eq(connect(c, (struct sockaddr *) &in, sizeof in), 0);
                a = accept4(srv, NULL, NULL, SOCK_CLOEXEC);
                assert_refused(c, "a network socket");
                assert_refused(a, "a network socket");
                safe_close(srv);
        }
}
END_TEST

START_TEST(test_not_open) {
        const char *what = "unset";

        ck_assert_int_eq(stdio_fd_check(-1, &what), -EBADF);
        ck_assert_ptr_null(what);
        ck_assert_int_eq(stdio_fd_check(1000000, &what), -EBADF);
}
END_TEST

int main(void) {
        Suite *s = suite_create("stdio-fd");
        TCase *tc = tcase_create("core");

        tcase_add_test(tc, test_pipes_and_stream_sockets);
        tcase_add_test(tc, test_files);
        tcase_add_test(tc, test_devices);
        tcase_add_test(tc, test_special);
        tcase_add_test(tc, test_sockets);
        tcase_add_test(tc, test_not_open);
        suite_add_tcase(s, tc);
        return check_run_suite(s);
}
