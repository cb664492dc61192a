/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <fcntl.h>

#include "fileio.h"
#include "proc-util.h"

/* Bytes that do not make UTF-8 (or make what sd-bus refuses: surrogates,
 * non-characters) become '?': a process picks its own command line, and one
 * bad string would fail the whole answer. */
void utf8_sanitize(char *s) {
        for (unsigned char *p = (unsigned char *) s; *p;) {
                size_t len = *p < 0x80 ? 1 : (*p & 0xe0) == 0xc0 ? 2 : (*p & 0xf0) == 0xe0 ? 3 :
                             (*p & 0xf8) == 0xf0 ? 4 : 0;
                uint32_t cp = *p & (len == 2 ? 0x1f : len == 3 ? 0x0f : 0x07);
                size_t i;

                if (len == 1) {
                        p++;
                        continue;
                }
                /* A NUL ends the loop too: it is no continuation byte. */
                for (i = 1; i < len && (p[i] & 0xc0) == 0x80; i++)
                        cp = cp << 6 | (p[i] & 0x3f);
                if (len == 0 || i < len || (len == 2 && cp < 0x80) || (len == 3 && cp < 0x800) ||
                    (len == 4 && (cp < 0x10000 || cp >= 0x110000)) || (cp & 0xfffff800) == 0xd800 ||
                    (cp >= 0xfdd0 && cp <= 0xfdef) || (cp & 0xfffe) == 0xfffe) {
                        *p++ = '?';
                        continue;
                }
                p += len;
        }
}

static int read_command_line(int dir_fd, size_t max, char **ret) {
        _cleanup_close_ int fd = openat(dir_fd, "cmdline", O_RDONLY | O_CLOEXEC);
        _cleanup_free_ char *cmd = malloc(max + 1);
        size_t n = 0;

        if (!cmd)
                return -ENOMEM;
        while (fd >= 0 && n < max) {
                ssize_t k = read(fd, cmd + n, max - n);
                if (k < 0 && errno == EINTR)
                        continue;
                if (k <= 0)
                        break;   /* a zombie's is empty; one that exited meanwhile fails */
                n += (size_t) k;
        }
        for (size_t i = 0; i + 1 < n; i++)
                if (cmd[i] == 0)
                        cmd[i] = ' ';
        cmd[n] = 0;
        utf8_sanitize(cmd);
        *ret = TAKE_PTR(cmd);
        return 0;
}

int proc_read_process(int proc_fd, pid_t pid, size_t max_cmdline, uint32_t *ret_ppid, uint32_t *ret_uid,
                      char **ret_cmdline) {
        _cleanup_free_ char *stat = NULL, *status = NULL;
        _cleanup_close_ int dir_fd = -EBADF;
        unsigned ppid, uid;
        const char *p;
        char path[32];

        snprintf(path, sizeof path, proc_fd == AT_FDCWD ? "/proc/%d" : "%d", (int) pid);
        dir_fd = openat(proc_fd, path, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        if (dir_fd < 0 || read_full_file_at(dir_fd, "stat", 4096, &stat, NULL) < 0 ||
            read_full_file_at(dir_fd, "status", 64 * 1024, &status, NULL) < 0)
                return -ESRCH;
        p = strrchr(stat, ')');
        if (!p || sscanf(p + 1, " %*c %u", &ppid) != 1)
                return -EBADMSG;
        p = strstr(status, "\nUid:");
        if (!p || sscanf(p + 5, "%u", &uid) != 1)
                return -EBADMSG;
        *ret_ppid = ppid;
        *ret_uid = uid;
        return read_command_line(dir_fd, max_cmdline, ret_cmdline);
}
