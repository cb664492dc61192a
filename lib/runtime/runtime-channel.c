/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The channel between the daemon and a child in setup: fixed-size messages
 * on a SOCK_SEQPACKET pair, an fd riding along where one is handed over.
 * Shared by the daemon, the children it clones and berth-exec; what arrives
 * from a child is checked, since a process of the container may have taken
 * the child over by then. */
#include <sys/socket.h>
#include <sys/syscall.h>

#include "runtime-internal.h"

int runtime_exit_code(SetupStage stage, int error) {
        if (stage != SETUP_STAGE_EXEC)
                return RUNTIME_EXIT_ENGINE_ERROR;
        return IN_SET(error, ENOENT, ENOTDIR) ? RUNTIME_EXIT_NOT_FOUND : RUNTIME_EXIT_NOT_EXECUTABLE;
}

pid_t raw_clone3(struct clone_args *args) {
        return (pid_t) syscall(SYS_clone3, args, sizeof *args);
}

int channel_send(int fd, const ChannelMsg *m, int passfd) {
        union {
                struct cmsghdr h;
                char buf[CMSG_SPACE(sizeof(int))];
        } control = {};
        struct iovec iov = { .iov_base = (void *) m, .iov_len = sizeof *m };
        struct msghdr mh = { .msg_iov = &iov, .msg_iovlen = 1 };

        if (passfd >= 0) {
                struct cmsghdr *c;

                mh.msg_control = &control;
                mh.msg_controllen = sizeof control.buf;
                c = CMSG_FIRSTHDR(&mh);
                c->cmsg_level = SOL_SOCKET;
                c->cmsg_type = SCM_RIGHTS;
                c->cmsg_len = CMSG_LEN(sizeof(int));
                memcpy(CMSG_DATA(c), &passfd, sizeof(int));
        }
        if (sendmsg(fd, &mh, MSG_NOSIGNAL) < 0)
                return negative_errno();
        return 0;
}

int channel_recv(int fd, ChannelMsg *m, int *ret_fd) {
        union {
                struct cmsghdr h;
                char buf[CMSG_SPACE(sizeof(int))];
        } control = {};
        struct iovec iov = { .iov_base = m, .iov_len = sizeof *m };
        struct msghdr mh = { .msg_iov = &iov, .msg_iovlen = 1,
                             .msg_control = &control, .msg_controllen = sizeof control.buf };
        struct cmsghdr *c;
        ssize_t n;

        do
                n = recvmsg(fd, &mh, MSG_CMSG_CLOEXEC);
        while (n < 0 && errno == EINTR);
        if (n < 0)
                return negative_errno();
        if (n == 0)
                return 0;
        c = CMSG_FIRSTHDR(&mh);
        if (c && c->cmsg_level == SOL_SOCKET && c->cmsg_type == SCM_RIGHTS && ret_fd)
                memcpy(ret_fd, CMSG_DATA(c), sizeof(int));
        else if (c && c->cmsg_type == SCM_RIGHTS) {
                int stray;

                memcpy(&stray, CMSG_DATA(c), sizeof(int));
                safe_close(stray);
        }
        if ((size_t) n != sizeof *m || (mh.msg_flags & (MSG_TRUNC | MSG_CTRUNC)))
                return -EBADMSG;
        return 1;
}

void close_pair(int (*pair)[2]) {
        safe_close((*pair)[0]);
        safe_close((*pair)[1]);
}
