/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/* Reading other processes' /proc entries, which change and vanish under the
 * reader and whose contents the processes choose. */

#include <sys/types.h>

#include "util.h"

/* ppid, uid and command line (arguments joined by spaces, at most
 * max_cmdline bytes, mended by utf8_sanitize()) of a process, as ps shows
 * them. All three are read through one fd of its directory in proc_fd
 * (AT_FDCWD: /proc), so they are the same process's; one that is gone, or
 * goes meanwhile, is -ESRCH. */
int proc_read_process(int proc_fd, pid_t pid, size_t max_cmdline, uint32_t *ret_ppid, uint32_t *ret_uid,
                      char **ret_cmdline);

/* In place: every byte that does not make valid UTF-8, or makes what sd-bus
 * refuses (surrogates, non-characters, beyond U+10FFFF), becomes '?'. */
void utf8_sanitize(char *s);
