/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* berth-exec: how berthd runs a process in a running container. berthd
 * starts it from a sealed memfd with an empty environment and exactly these
 * fds: 0-2 the command's stdio, 3 the channel to berthd, 4 a pidfd of the
 * container's leader, 5 the plan (lib/runtime/runtime-plan.c). It is not meant to be
 * run by hand, and refuses to run without them. */
#include <fcntl.h>
#include <sys/prctl.h>

#include "runtime-internal.h"

int main(int argc, char *argv[]) {
        static RuntimeProcessSpec process;
        static ChildPlan plan = {
                .channel = EXEC_HELPER_FD_CHANNEL,
                .target_pidfd = EXEC_HELPER_FD_LEADER,
                .pidfd = -EBADF,
                .parent_channel = -EBADF,
        };
        ChannelMsg m = { .type = CHANNEL_MSG_ERROR, .stage = SETUP_STAGE_SYNC };
        int r;

        /* First of all: nobody but root may look at us (see child_prepare). */
        if (prctl(PR_SET_DUMPABLE, 0, 0, 0, 0) < 0)
                return RUNTIME_EXIT_ENGINE_ERROR;
        if (argc != 1 || fcntl(EXEC_HELPER_FD_PLAN, F_GETFD) < 0) {
                fprintf(stderr, "berth-exec is started by berthd only.\n");
                return RUNTIME_EXIT_ENGINE_ERROR;
        }
        r = exec_plan_read(EXEC_HELPER_FD_PLAN, &plan, &process);
        (void) close(EXEC_HELPER_FD_PLAN);
        if (r < 0) {
                m.error = -r;
                (void) channel_send(plan.channel, &m, -EBADF);
                return RUNTIME_EXIT_ENGINE_ERROR;
        }
        child_exec_main(&plan);
}
