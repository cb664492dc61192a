/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/* What a container may receive as its stdin, stdout or stderr from a caller:
 * an anonymous pipe or a connected AF_UNIX stream socket, nothing else.
 * berthd refuses anything else; berthctl relays anything else through a pipe
 * of its own. Both decide with the one function below. */

/* 0 when fd may be handed to a container as it is. Otherwise -EPERM and
 * *ret_what names what it is ("a terminal", "a directory", ...), or another
 * negative errno when fd cannot be examined (-EBADF: not open). */
int stdio_fd_check(int fd, const char **ret_what);
