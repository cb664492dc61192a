/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <fcntl.h>
#include <linux/magic.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/vfs.h>
#include <termios.h>

#include "stdio-fd.h"
#include "util.h"

/* Why so narrow. Whatever a container receives it holds with its own
 * privileges, and every fd is also a path: /proc/self/fd/N.
 *  - A terminal: keystrokes, termios, O_NONBLOCK (one flag for the whole
 *    open file, so the caller's shell sees it too), TIOCSTI on older kernels.
 *  - A regular file or a directory: reopened read-write through
 *    /proc/self/fd/N, fchdir() or openat() out of the root, its host path
 *    read with readlink(); fchmod(), fchown() and xattrs of the host's inode.
 *  - A FIFO of the file system: the same inode operations and path.
 *  - Devices, O_PATH fds, epoll, eventfd, pidfd, memfd...: all of the above
 *    or worse; none of them is a stream.
 *  - A socket acts in the network namespace it was made in, not the
 *    container's: an unconnected one connects or sends anywhere there (an
 *    AF_UNIX one to abstract sockets of the host), a listening one accepts
 *    the caller's clients, a datagram one (even connected) sends to any
 *    address, and a TCP one is re-pointed by connect(AF_UNSPEC). A connected
 *    AF_UNIX stream or seqpacket socket cannot connect again: it talks to its
 *    peer only, and receives no fd the peer does not send.
 * An anonymous pipe has no path and no inode of the host; reopening
 * /proc/self/fd/N of it gives only the other end of the same pipe. */

static bool fs_is(int fd, long magic) {
        struct statfs sfs;

        return fstatfs(fd, &sfs) >= 0 && sfs.f_type == magic;
}

static int sockopt_int(int fd, int opt, int *ret) {
        socklen_t len = sizeof *ret;

        return getsockopt(fd, SOL_SOCKET, opt, ret, &len) < 0 ? negative_errno() : 0;
}

static int check_socket(int fd, const char **ret_what) {
        struct sockaddr_storage sa;
        socklen_t salen = sizeof sa;
        int domain, type, listening, r;

        r = sockopt_int(fd, SO_DOMAIN, &domain);
        if (r >= 0)
                r = sockopt_int(fd, SO_TYPE, &type);
        if (r >= 0)
                r = sockopt_int(fd, SO_ACCEPTCONN, &listening);
        if (r < 0)
                return r;
        if (domain != AF_UNIX)
                *ret_what = "a network socket";
        else if (!IN_SET(type, SOCK_STREAM, SOCK_SEQPACKET))
                *ret_what = "a datagram socket";
        else if (listening)
                *ret_what = "a listening socket";
        else if (getpeername(fd, (struct sockaddr *) &sa, &salen) < 0) {
                if (errno != ENOTCONN)
                        return negative_errno();
                *ret_what = "an unconnected socket";
        } else
                return 0;
        return -EPERM;
}

static const char *describe(int fd, const struct stat *st) {
        struct termios t;

        switch (st->st_mode & S_IFMT) {
        case S_IFDIR:
                return "a directory";
        case S_IFREG:
                /* pidfs gives pidfds regular files' type (Linux 6.9). */
                return fs_is(fd, ANON_INODE_FS_MAGIC) || fs_is(fd, 0x50494446 /* PID_FS_MAGIC */) ?
                       "a special file descriptor (epoll, eventfd, pidfd, ...)" : "a regular file";
        case S_IFCHR:
                return tcgetattr(fd, &t) >= 0 ? "a terminal" : "a character device";
        case S_IFBLK:
                return "a block device";
        case S_IFLNK:
                return "a symbolic link";
        case S_IFIFO:
                return "a FIFO of the file system";
        default:
                return "a special file descriptor (epoll, eventfd, pidfd, ...)";
        }
}

int stdio_fd_check(int fd, const char **ret_what) {
        struct stat st;
        int flags;

        *ret_what = NULL;
        flags = fcntl(fd, F_GETFL);
        if (flags < 0)
                return negative_errno();
        if (flags & O_PATH) {
                *ret_what = "an O_PATH file descriptor";
                return -EPERM;
        }
        if (fstat(fd, &st) < 0)
                return negative_errno();
        if (S_ISSOCK(st.st_mode))
                return check_socket(fd, ret_what);
        if (S_ISFIFO(st.st_mode) && fs_is(fd, PIPEFS_MAGIC))
                return 0;
        *ret_what = describe(fd, &st);
        return -EPERM;
}
