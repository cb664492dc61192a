/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* systemd's file descriptor store: the leaders' pidfds and the masters of
 * detached terminals, kept by systemd across restarts of berthd. */
#include <systemd/sd-daemon.h>

#include "engine-internal.h"

/* Stores fd under the container's id (the leader's pidfd) or id + suffix. */
void engine_fdstore_put(Container *c, int fd, const char *suffix) {
        _cleanup_free_ char *msg = strjoin("FDSTORE=1\nFDNAME=", c->id, strempty(suffix));

        if (!msg || fd < 0)
                return;
        (void) sd_pid_notify_with_fds(0, false, msg, &fd, 1);
}

void engine_fdstore_remove_name(const char *name) {
        _cleanup_free_ char *msg = strjoin("FDSTOREREMOVE=1\nFDNAME=", name);

        if (msg)
                (void) sd_notify(false, msg);
}

void engine_fdstore_remove(Container *c) {
        FOREACH_STRING(suffix, "", ".tty") {
                _cleanup_free_ char *name = strjoin(c->id, suffix);
                if (name)
                        engine_fdstore_remove_name(name);
        }
}

/* The fds systemd kept for us while berthd was away: "<id>" is the leader's
 * pidfd, "<id>.tty" the master of a detached terminal. */
int engine_fdstore_take(char **names, int n_fds, const char *id) {
        for (int i = 0; i < n_fds; i++)
                if (names && names[i] && streq(names[i], id)) {
                        free(names[i]);
                        names[i] = NULL;
                        return SD_LISTEN_FDS_START + i;
                }
        return -EBADF;
}
