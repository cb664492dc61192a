/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* systemd's file descriptor store: the leaders' pidfds and the masters of
 * detached terminals, kept by systemd across restarts of berthd. */
#include "engine-internal.h"

/* Stores fd under the container's id (the leader's pidfd) or id + suffix. */
void engine_fdstore_put(Engine *e, Container *c, int fd, const char *suffix) {
        _cleanup_free_ char *name = strjoin(c->id, strempty(suffix));

        if (name && fd >= 0)
                e->units->fdstore_put(e->units_data, name, fd);
}

void engine_fdstore_remove_name(Engine *e, const char *name) {
        e->units->fdstore_remove(e->units_data, name);
}

void engine_fdstore_remove(Engine *e, Container *c) {
        FOREACH_STRING(suffix, "", ".tty") {
                _cleanup_free_ char *name = strjoin(c->id, suffix);
                if (name)
                        engine_fdstore_remove_name(e, name);
        }
}

/* The fds systemd kept for us while berthd was away: "<id>" is the leader's
 * pidfd, "<id>.tty" the master of a detached terminal. */
int engine_fdstore_take(char **names, int *fds, int n_fds, const char *id) {
        for (int i = 0; i < n_fds; i++)
                if (names && names[i] && streq(names[i], id)) {
                        names[i] = mfree(names[i]);
                        return TAKE_FD(fds[i]);
                }
        return -EBADF;
}
