/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <fcntl.h>
#include <linux/openat2.h>
#include <sys/stat.h>

#include "openat2-util.h"
#include "passwd.h"
#include "util.h"

#define LINE_MAX_LEN 4096

/* A line reader over a fixed buffer: lines longer than the buffer are
 * skipped whole, like any other malformed line. */
typedef struct LineReader {
        int fd;
        size_t start, end, total;
        bool eof;
        char buf[LINE_MAX_LEN];
} LineReader;

static int line_next(LineReader *lr, char **ret) {
        bool skipping = false;

        for (;;) {
                char *nl = memchr(lr->buf + lr->start, '\n', lr->end - lr->start);
                ssize_t n;

                if (nl || (lr->eof && lr->end > lr->start)) {
                        char *line = lr->buf + lr->start;

                        if (!nl)
                                nl = lr->buf + lr->end;
                        *nl = 0;
                        lr->start = nl - lr->buf + (nl < lr->buf + lr->end);
                        if (skipping) {
                                skipping = false;
                                continue;
                        }
                        *ret = line;
                        return 1;
                }
                if (lr->eof)
                        return 0;
                memmove(lr->buf, lr->buf + lr->start, lr->end - lr->start);
                lr->end -= lr->start;
                lr->start = 0;
                if (lr->end == sizeof lr->buf - 1) {
                        skipping = true;
                        lr->end = 0;
                }
                n = read(lr->fd, lr->buf + lr->end, sizeof lr->buf - 1 - lr->end);
                if (n < 0)
                        return negative_errno();
                lr->total += (size_t) n;
                if (lr->total > PASSWD_FILE_MAX)
                        return -EFBIG;
                lr->eof = n == 0;
                lr->end += n;
        }
}

/* The files are the image's or the running container's: a FIFO would block
 * the open or the reads for ever, a device (a symlink to /dev/zero, resolved
 * in the root) or a huge sparse file would never end. So they are opened
 * without blocking, taken only if regular, and read up to a bound. */
static int open_in_root(int rootfd, const char *path) {
        struct open_how how = {
                .flags = O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NONBLOCK,
                .resolve = RESOLVE_IN_ROOT | RESOLVE_NO_MAGICLINKS,
        };
        int fd = openat2_retry(rootfd, path, &how);
        struct stat st;

        if (fd < 0)
                return fd;
        if (fstat(fd, &st) < 0) {
                int r = negative_errno();
                safe_close(fd);
                return r;
        }
        if (!S_ISREG(st.st_mode)) {
                safe_close(fd);
                return -EBADFD;
        }
        return fd;
}

static int parse_id(const char *s, unsigned *ret) {
        char *e;
        unsigned long v;

        if (isempty(s) || *s == '-' || *s == '+' || *s == ' ')
                return -EINVAL;
        errno = 0;
        v = strtoul(s, &e, 10);
        if (errno || *e || v >= (unsigned long) UINT32_MAX)
                return -EINVAL;
        *ret = (unsigned) v;
        return 0;
}

/* Splits a colon-separated line into exactly n fields; -EINVAL otherwise. */
static int split_fields(char *line, char **fields, size_t n) {
        char *p = line;

        for (size_t i = 0; i < n; i++) {
                fields[i] = p;
                p = strchr(p, ':');
                if (i == n - 1)
                        return p ? -EINVAL : 0;
                if (!p)
                        return -EINVAL;
                *p++ = 0;
        }
        return -EINVAL;
}

static bool is_comment(const char *line) {
        return line[0] == 0 || line[0] == '#';
}

static bool has_member(char *list, const char *name) {
        for (char *m = strtok_r(list, ",", &list); m; m = strtok_r(NULL, ",", &list))
                if (streq(m, name))
                        return true;
        return false;
}

/* Finds the passwd entry whose name is user (or whose uid is user, if numeric).
 * Returns 1 if found, 0 if not. */
static int passwd_find(int rootfd, const char *user, UserCreds *c, char *ret_name, size_t name_size) {
        _cleanup_close_ int fd = open_in_root(rootfd, "/etc/passwd");
        LineReader lr = { .fd = fd };
        unsigned want, uid, gid;
        bool numeric = parse_id(user, &want) >= 0;
        char *line, *f[7];
        int r;

        if (fd == -ENOENT)
                return 0;
        if (fd < 0)
                return fd;
        while ((r = line_next(&lr, &line)) > 0) {
                if (is_comment(line) || split_fields(line, f, 7) < 0)
                        continue;
                if (isempty(f[0]) || parse_id(f[2], &uid) < 0 || parse_id(f[3], &gid) < 0)
                        continue;
                if (numeric ? uid != want : !streq(f[0], user))
                        continue;
                if (strlen(f[0]) >= name_size || strlen(f[5]) >= sizeof c->home)
                        continue;
                c->uid = uid;
                c->gid = gid;
                strcpy(c->home, isempty(f[5]) ? "/" : f[5]);
                strcpy(ret_name, f[0]);
                return 1;
        }
        return r;
}

/* Resolves the group argument (if any) and collects the groups listing user
 * (if it has a name) as supplementary groups. */
static int group_scan(int rootfd, const char *group, const char *user, UserCreds *c) {
        _cleanup_close_ int fd = open_in_root(rootfd, "/etc/group");
        LineReader lr = { .fd = fd };
        bool found = false;
        char *line, *f[4];
        unsigned gid;
        int r;

        if (fd < 0 && fd != -ENOENT)
                return fd;
        while (fd >= 0 && (r = line_next(&lr, &line)) > 0) {
                if (is_comment(line) || split_fields(line, f, 4) < 0 || parse_id(f[2], &gid) < 0)
                        continue;
                if (group && !found && streq(f[0], group)) {
                        c->gid = gid;
                        found = true;
                }
                if (!isempty(user) && has_member(f[3], user) && c->n_groups < PASSWD_GROUPS_MAX)
                        c->groups[c->n_groups++] = gid;
        }
        if (fd >= 0 && r < 0)
                return r;
        return group && !found ? -ESRCH : 0;
}

int passwd_resolve(int rootfd, const char *spec, UserCreds *ret) {
        char user[256] = "", name[256] = "", *group = NULL;
        UserCreds c = { .home = "/" };
        unsigned id;
        int r;

        if (isempty(spec))
                spec = "0";
        if (strlen(spec) >= sizeof user)
                return -EINVAL;
        strcpy(user, spec);
        group = strchr(user, ':');
        if (group) {
                *group++ = 0;
                if (isempty(group))
                        return -EINVAL;
        }
        if (isempty(user))
                return -EINVAL;

        r = passwd_find(rootfd, user, &c, name, sizeof name);
        if (r < 0) {
                ret->error_file = "/etc/passwd";
                return r;
        }
        if (r == 0) {
                /* Docker accepts unknown numeric ids, with gid 0 and HOME=/. */
                if (parse_id(user, &id) < 0)
                        return -ESRCH;
                c.uid = id;
        }
        if (group && parse_id(group, &id) >= 0) {
                c.gid = id;
                group = NULL;
        }
        r = group_scan(rootfd, group, name, &c);
        if (r < 0) {
                if (r != -ESRCH)
                        ret->error_file = "/etc/group";
                return r;
        }
        /* The primary group leads the list, without duplicates. */
        if (c.n_groups < PASSWD_GROUPS_MAX)
                c.groups[c.n_groups++] = c.gid;
        for (size_t i = c.n_groups - 1; i > 0; i--)
                c.groups[i] = c.groups[i - 1];
        c.groups[0] = c.gid;
        for (size_t i = 1; i < c.n_groups; i++)
                for (size_t j = 0; j < i; j++)
                        if (c.groups[j] == c.groups[i]) {
                                c.groups[i--] = c.groups[--c.n_groups];
                                break;
                        }
        *ret = c;
        return 0;
}
