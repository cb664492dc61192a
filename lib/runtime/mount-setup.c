/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <fcntl.h>
#include <linux/magic.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <sys/syscall.h>
#include <sys/sysmacros.h>

#include "mount-setup.h"
#include "openat2-util.h"

static const char * const setup_stage_table[_SETUP_STAGE_MAX] = {
        [SETUP_STAGE_NONE] = "setup",
        [SETUP_STAGE_SYNC] = "wait for release",
        [SETUP_STAGE_STDIO] = "set up stdio",
        [SETUP_STAGE_JOURNAL] = "connect to journal",
        [SETUP_STAGE_NAMESPACE] = "set up namespace",
        [SETUP_STAGE_MOUNT] = "mount",
        [SETUP_STAGE_CREATE] = "create",
        [SETUP_STAGE_MKNOD] = "mknod",
        [SETUP_STAGE_SYMLINK] = "symlink",
        [SETUP_STAGE_PIVOT_ROOT] = "pivot_root",
        [SETUP_STAGE_MASK] = "mask",
        [SETUP_STAGE_REMOUNT] = "remount read-only",
        [SETUP_STAGE_NETWORK] = "bring up",
        [SETUP_STAGE_HOSTNAME] = "sethostname",
        [SETUP_STAGE_TTY] = "allocate tty",
        [SETUP_STAGE_CWD] = "chdir",
        [SETUP_STAGE_USER] = "resolve user",
        [SETUP_STAGE_SETUID] = "switch user",
        [SETUP_STAGE_CAPS] = "set capabilities",
        [SETUP_STAGE_NNP] = "set no_new_privs",
        [SETUP_STAGE_SECCOMP] = "load seccomp filter",
        [SETUP_STAGE_EXEC] = "exec",
        [SETUP_STAGE_KEYRING] = "join a session keyring",
};
DEFINE_STRING_TABLE_LOOKUP(setup_stage, SetupStage);

char * const mount_default_masked_paths[] = {
        (char *) "/proc/acpi", (char *) "/proc/asound", (char *) "/proc/kcore",
        (char *) "/proc/keys", (char *) "/proc/latency_stats", (char *) "/proc/timer_list",
        (char *) "/proc/timer_stats", (char *) "/proc/sched_debug", (char *) "/proc/scsi",
        (char *) "/sys/firmware", (char *) "/sys/devices/virtual/powercap", NULL,
};

char * const mount_default_readonly_paths[] = {
        (char *) "/proc/bus", (char *) "/proc/fs", (char *) "/proc/irq",
        (char *) "/proc/sys", (char *) "/proc/sysrq-trigger", NULL,
};

int setup_fail(SetupFailure *f, SetupStage stage, const char *path, int error) {
        if (f) {
                f->stage = stage;
                f->path[0] = 0;
                if (path) {
                        strncpy(f->path, path, sizeof f->path - 1);
                        f->path[sizeof f->path - 1] = 0;
                }
        }
        return error < 0 ? error : -EIO;
}

static int fail_errno(SetupFailure *f, SetupStage stage, const char *path) {
        return setup_fail(f, stage, path, negative_errno());
}

static bool overlay_path_ok(const char *p) {
        /* ',' separates mount options and ':' layers; our store never makes such
         * paths, so refuse them rather than escape them. */
        return p && p[0] == '/' && !strpbrk(p, ",:\\");
}

int mount_overlay_options(char * const *lowerdirs, const char *upper, const char *work, bool volatile_upper,
                          char **ret) {
        _cleanup_free_ char *lower = NULL, *o = NULL;
        long page = sysconf(_SC_PAGESIZE);

        if (strv_length(lowerdirs) == 0 || !overlay_path_ok(upper) || !overlay_path_ok(work))
                return -EINVAL;
        STRV_FOREACH(l, lowerdirs)
                if (!overlay_path_ok(*l))
                        return -EINVAL;
        lower = strv_join(lowerdirs, ":");
        if (!lower)
                return -ENOMEM;
        o = strjoin("lowerdir=", lower, ",upperdir=", upper, ",workdir=", work, ",index=off",
                    volatile_upper ? ",volatile" : "");
        if (!o)
                return -ENOMEM;
        if ((long) strlen(o) >= (page > 0 ? page : 4096) - 1)
                return -E2BIG;
        *ret = TAKE_PTR(o);
        return 0;
}

/* Creates a detached mount of fstype with the given comma-separated options
 * ("key=value" or flags) and mount attributes. */
static int fs_create(const char *fstype, const char *options, unsigned attrs, int *ret_fd) {
        _cleanup_close_ int fsfd = fsopen(fstype, FSOPEN_CLOEXEC);
        char buf[512], *state = NULL;
        int mfd;

        if (fsfd < 0)
                return negative_errno();
        if (strlen(options ?: "") >= sizeof buf)
                return -E2BIG;
        strcpy(buf, options ?: "");
        for (char *w = strtok_r(buf, ",", &state); w; w = strtok_r(NULL, ",", &state)) {
                char *eq = strchr(w, '=');
                int r;

                if (eq) {
                        *eq = 0;
                        r = fsconfig(fsfd, FSCONFIG_SET_STRING, w, eq + 1, 0);
                } else
                        r = fsconfig(fsfd, FSCONFIG_SET_FLAG, w, NULL, 0);
                if (r < 0)
                        return negative_errno();
        }
        if (fsconfig(fsfd, FSCONFIG_SET_STRING, "source", fstype, 0) < 0 ||
            fsconfig(fsfd, FSCONFIG_CMD_CREATE, NULL, NULL, 0) < 0)
                return negative_errno();
        mfd = fsmount(fsfd, FSMOUNT_CLOEXEC, attrs);
        if (mfd < 0)
                return negative_errno();
        *ret_fd = mfd;
        return 0;
}

static int move_mount_to(int mfd, int targetfd) {
        if (move_mount(mfd, "", targetfd, "", MOVE_MOUNT_F_EMPTY_PATH | MOVE_MOUNT_T_EMPTY_PATH) < 0)
                return negative_errno();
        return 0;
}

/* The overlay fsconfig() route: one "lowerdir+" per layer (Linux 6.8), so
 * the page-sized limit on the option string does not apply. */
static int overlay_create_by_layer(char * const *lowerdirs, const char *upper, const char *work,
                                   bool volatile_upper, int *ret_fd) {
        _cleanup_close_ int fsfd = fsopen("overlay", FSOPEN_CLOEXEC);
        int mfd;

        if (fsfd < 0)
                return negative_errno();
        STRV_FOREACH(l, lowerdirs)
                if (fsconfig(fsfd, FSCONFIG_SET_STRING, "lowerdir+", *l, 0) < 0)
                        return negative_errno();
        if (fsconfig(fsfd, FSCONFIG_SET_STRING, "upperdir", upper, 0) < 0 ||
            fsconfig(fsfd, FSCONFIG_SET_STRING, "workdir", work, 0) < 0 ||
            fsconfig(fsfd, FSCONFIG_SET_STRING, "index", "off", 0) < 0 ||
            (volatile_upper && fsconfig(fsfd, FSCONFIG_SET_FLAG, "volatile", NULL, 0) < 0) ||
            fsconfig(fsfd, FSCONFIG_SET_STRING, "source", "overlay", 0) < 0 ||
            fsconfig(fsfd, FSCONFIG_CMD_CREATE, NULL, NULL, 0) < 0)
                return negative_errno();
        mfd = fsmount(fsfd, FSMOUNT_CLOEXEC, 0);
        if (mfd < 0)
                return negative_errno();
        *ret_fd = mfd;
        return 0;
}

int mount_overlay(char * const *lowerdirs, const char *upper, const char *work, bool volatile_upper,
                  const char *options, const char *target, SetupFailure *f) {
        _cleanup_close_ int mfd = -EBADF, tfd = -EBADF;
        int r;

        if (options) {
                if (mount("overlay", target, "overlay", 0, options) < 0)
                        return fail_errno(f, SETUP_STAGE_MOUNT, target);
                return 0;
        }
        r = overlay_create_by_layer(lowerdirs, upper, work, volatile_upper, &mfd);
        if (r < 0)
                return setup_fail(f, SETUP_STAGE_MOUNT, target, r);
        tfd = open(target, O_PATH | O_DIRECTORY | O_CLOEXEC);
        if (tfd < 0)
                return fail_errno(f, SETUP_STAGE_MOUNT, target);
        r = move_mount_to(mfd, tfd);
        return r < 0 ? setup_fail(f, SETUP_STAGE_MOUNT, target, r) : 0;
}

int mount_overlay_clear_volatile(const char *work) {
        _cleanup_close_ int fd = open(work, O_PATH | O_DIRECTORY | O_CLOEXEC);

        if (fd < 0)
                return errno == ENOENT ? 0 : negative_errno();
        /* The marker the kernel leaves in the work directory of a volatile
         * mount; deepest first. */
        if ((unlinkat(fd, "work/incompat/volatile/dirty", 0) < 0 && errno != ENOENT) ||
            (unlinkat(fd, "work/incompat/volatile", AT_REMOVEDIR) < 0 && errno != ENOENT) ||
            (unlinkat(fd, "work/incompat", AT_REMOVEDIR) < 0 && errno != ENOENT))
                return negative_errno();
        return 0;
}

int mount_make_private(SetupFailure *f) {
        /* Nothing we mount may propagate back to the host, and host mounts
         * appearing later must not show up in the container. */
        if (mount(NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL) < 0)
                return fail_errno(f, SETUP_STAGE_MOUNT, "/");
        return 0;
}

/* Appends one component to (or, for "..", removes the last one from) the
 * canonical path cur, never going above "/". */
static int path_push(char *cur, const char *name, size_t len) {
        size_t n = strlen(cur);

        if (len == 2 && strneq(name, "..", 2)) {
                char *slash = strrchr(cur, '/');

                slash[slash == cur] = 0;
                return 0;
        }
        if (n + 1 + len >= PATH_MAX)
                return -ENAMETOOLONG;
        if (n > 1)
                cur[n++] = '/';
        memcpy(cur + n, name, len);
        cur[n + len] = 0;
        return 0;
}

/* One step of the walk: creates name below cur if missing, or, if it is a
 * symlink, splices its target into rest. Returns 1 when rest changed. */
static int walk_step(int rootfd, char *cur, char *rest, const char *name, const char *tail,
                     bool create_file) {
        _cleanup_close_ int parent = openat_in_root(rootfd, cur, O_PATH | O_DIRECTORY, 0, true);
        char target[PATH_MAX], next[PATH_MAX];
        struct stat st;
        ssize_t n;

        if (parent < 0)
                return parent;
        if (fstatat(parent, name, &st, AT_SYMLINK_NOFOLLOW) < 0) {
                if (errno != ENOENT)
                        return negative_errno();
                if ((create_file ? mknodat(parent, name, S_IFREG | 0644, 0) : mkdirat(parent, name, 0755)) < 0 &&
                    errno != EEXIST)
                        return negative_errno();
                return path_push(cur, name, strlen(name));
        }
        if (!S_ISLNK(st.st_mode))
                return path_push(cur, name, strlen(name));
        n = readlinkat(parent, name, target, sizeof target - 1);
        if (n < 0)
                return negative_errno();
        target[n] = 0;
        if ((size_t) snprintf(next, sizeof next, "%s/%s", target, tail) >= sizeof next)
                return -ENAMETOOLONG;
        if (target[0] == '/')
                strcpy(cur, "/");
        strcpy(rest, next);
        return 1;
}

/* Resolves path as if rootfd were "/", creating what is missing on the way,
 * including the targets of dangling symlinks (as runc does): each symlink is
 * read and spliced in by hand, so the walk never leaves the root, whatever
 * the image planted. The canonical result is left in cur. */
static int walk_create(int rootfd, const char *path, bool dir, char *cur) {
        char rest[PATH_MAX], name[NAME_MAX + 1];
        unsigned hops = 0;
        const char *p;

        if (strlen(path) >= sizeof rest || path[0] != '/')
                return -EINVAL;
        strcpy(rest, path);
        strcpy(cur, "/");
        for (p = rest; *(p += strspn(p, "/"));) {
                size_t len = strcspn(p, "/");
                bool last = p[len + strspn(p + len, "/")] == 0;
                int r;

                if (len > NAME_MAX)
                        return -ENAMETOOLONG;
                if (len == 1 && p[0] == '.') {
                        p += len;
                        continue;
                }
                if (len == 2 && strneq(p, "..", 2)) {
                        (void) path_push(cur, p, len);
                        p += len;
                        continue;
                }
                memcpy(name, p, len);
                name[len] = 0;
                r = walk_step(rootfd, cur, rest, name, p + len, last && !dir);
                if (r < 0)
                        return r;
                if (r == 0)
                        p += len;
                else if (++hops > 40)
                        return -ELOOP;
                else
                        p = rest;
        }
        return 0;
}

int mount_open_target(int rootfd, const char *path, bool dir, int *ret_fd, SetupFailure *f) {
        char cur[PATH_MAX];
        int fd, r;

        r = walk_create(rootfd, path, dir, cur);
        if (r < 0)
                return setup_fail(f, SETUP_STAGE_CREATE, path, r);
        fd = openat_in_root(rootfd, cur, O_PATH, 0, true);
        if (fd < 0)
                return setup_fail(f, SETUP_STAGE_CREATE, path, fd);
        *ret_fd = fd;
        return 0;
}

/* Mounts a new instance of fstype at path below rootfd. */
static int mount_fresh(int rootfd, const char *path, const char *fstype, const char *options,
                       unsigned attrs, SetupFailure *f) {
        _cleanup_close_ int tfd = -EBADF, mfd = -EBADF;
        int r;

        r = mount_open_target(rootfd, path, true, &tfd, f);
        if (r < 0)
                return r;
        r = fs_create(fstype, options, attrs, &mfd);
        if (r >= 0)
                r = move_mount_to(mfd, tfd);
        return r < 0 ? setup_fail(f, SETUP_STAGE_MOUNT, path, r) : 0;
}

#define ATTR_NOSUID_NODEV_NOEXEC (MOUNT_ATTR_NOSUID | MOUNT_ATTR_NODEV | MOUNT_ATTR_NOEXEC)

int mount_setup_proc(int rootfd, SetupFailure *f) {
        /* A new procfs instance: it shows the container's pid namespace only. */
        return mount_fresh(rootfd, "/proc", "proc", NULL, ATTR_NOSUID_NODEV_NOEXEC, f);
}

static const struct {
        const char *name;
        unsigned major, minor;
} dev_nodes[] = {
        { "null", 1, 3 }, { "zero", 1, 5 }, { "full", 1, 7 },
        { "random", 1, 8 }, { "urandom", 1, 9 }, { "tty", 5, 0 },
};

static const struct {
        const char *name, *target;
} dev_links[] = {
        { "ptmx", "pts/ptmx" }, { "fd", "/proc/self/fd" }, { "stdin", "/proc/self/fd/0" },
        { "stdout", "/proc/self/fd/1" }, { "stderr", "/proc/self/fd/2" },
};

static int dev_populate(int rootfd, SetupFailure *f) {
        _cleanup_close_ int devfd = openat_in_root(rootfd, "/dev", O_PATH | O_DIRECTORY, 0, true);
        char path[64];

        if (devfd < 0)
                return setup_fail(f, SETUP_STAGE_MKNOD, "/dev", devfd);
        /* mknod rather than binds from the host /dev: the nodes then belong to
         * this tmpfs and carry none of the host's mount flags or labels. */
        for (size_t i = 0; i < ELEMENTSOF(dev_nodes); i++) {
                snprintf(path, sizeof path, "/dev/%s", dev_nodes[i].name);
                if (mknodat(devfd, dev_nodes[i].name, S_IFCHR | 0666,
                            makedev(dev_nodes[i].major, dev_nodes[i].minor)) < 0)
                        return fail_errno(f, SETUP_STAGE_MKNOD, path);
        }
        for (size_t i = 0; i < ELEMENTSOF(dev_links); i++)
                if (symlinkat(dev_links[i].target, devfd, dev_links[i].name) < 0) {
                        snprintf(path, sizeof path, "/dev/%s", dev_links[i].name);
                        return fail_errno(f, SETUP_STAGE_SYMLINK, path);
                }
        return 0;
}

int mount_setup_dev(int rootfd, SetupFailure *f) {
        int r;

        r = mount_fresh(rootfd, "/dev", "tmpfs", "mode=755,size=65536k",
                        MOUNT_ATTR_NOSUID | MOUNT_ATTR_STRICTATIME, f);
        if (r < 0)
                return r;
        r = dev_populate(rootfd, f);
        if (r < 0)
                return r;
        r = mount_fresh(rootfd, "/dev/pts", "devpts", "newinstance,ptmxmode=0666,mode=0620,gid=5",
                        MOUNT_ATTR_NOSUID | MOUNT_ATTR_NOEXEC, f);
        if (r < 0)
                return r;
        r = mount_fresh(rootfd, "/dev/shm", "tmpfs", "mode=1777,size=65536k", ATTR_NOSUID_NODEV_NOEXEC, f);
        if (r < 0)
                return r;
        return mount_fresh(rootfd, "/dev/mqueue", "mqueue", NULL, ATTR_NOSUID_NODEV_NOEXEC, f);
}

static int bind_mount(int srcdir, const char *src, int targetfd, bool readonly, bool recursive) {
        unsigned rec = recursive ? AT_RECURSIVE : 0;
        _cleanup_close_ int tree = open_tree(srcdir, src,
                                             OPEN_TREE_CLONE | OPEN_TREE_CLOEXEC | rec |
                                             (isempty(src) ? AT_EMPTY_PATH : 0));
        struct mount_attr attr = { .attr_set = MOUNT_ATTR_RDONLY };

        if (tree < 0)
                return negative_errno();
        if (readonly && mount_setattr(tree, "", AT_EMPTY_PATH | rec, &attr, sizeof attr) < 0)
                return negative_errno();
        return move_mount_to(tree, targetfd);
}

static int bind_tree(int srcdir, const char *src, int targetfd, bool readonly) {
        return bind_mount(srcdir, src, targetfd, readonly, true);
}

int mount_setup_sys(int rootfd, bool own_netns, bool readonly, SetupFailure *f) {
        _cleanup_close_ int tfd = -EBADF;
        int r;

        /* sysfs shows the network devices of the mounting process's network
         * namespace; with the host's network, Docker binds the host's /sys. */
        if (own_netns)
                return mount_fresh(rootfd, "/sys", "sysfs", NULL,
                                   ATTR_NOSUID_NODEV_NOEXEC | (readonly ? MOUNT_ATTR_RDONLY : 0), f);
        r = mount_open_target(rootfd, "/sys", true, &tfd, f);
        if (r < 0)
                return r;
        /* The sysfs mount alone: the host's submounts (debugfs, tracefs,
         * securityfs, its cgroup hierarchies, ...) are no business of the
         * container, and a fresh sysfs would not show them either. */
        r = bind_mount(AT_FDCWD, "/sys", tfd, readonly, false);
        return r < 0 ? setup_fail(f, SETUP_STAGE_MOUNT, "/sys", r) : 0;
}

static bool is_fs(const char *path, long magic) {
        struct statfs s;

        return statfs(path, &s) >= 0 && s.f_type == magic;
}

/* One v1 hierarchy, as named in /proc/self/cgroup ("cpu,cpuacct" or
 * "name=systemd"); the cgroup namespace roots it at the container's cgroup. */
static int cgroup1_mount(int rootfd, const char *controllers, unsigned ro, SetupFailure *f) {
        char path[PATH_MAX], options[256], link[PATH_MAX];
        const char *name = startswith(controllers, "name=");
        _cleanup_close_ int dirfd = -EBADF;
        int r;

        snprintf(path, sizeof path, "/sys/fs/cgroup/%s", name ?: controllers);
        snprintf(options, sizeof options, "%s%s", name ? "none," : "", controllers);
        r = mount_fresh(rootfd, path, "cgroup", options, ATTR_NOSUID_NODEV_NOEXEC | ro, f);
        if (r < 0 || name || !strchr(controllers, ','))
                return r;
        dirfd = openat_in_root(rootfd, "/sys/fs/cgroup", O_PATH | O_DIRECTORY, 0, true);
        if (dirfd < 0)
                return setup_fail(f, SETUP_STAGE_SYMLINK, "/sys/fs/cgroup", dirfd);
        /* Co-mounted controllers get a link each, as on the host: cpu -> cpu,cpuacct. */
        snprintf(link, sizeof link, "%s", controllers);
        for (char *state = NULL, *c = strtok_r(link, ",", &state); c; c = strtok_r(NULL, ",", &state))
                if (symlinkat(controllers, dirfd, c) < 0 && errno != EEXIST)
                        return fail_errno(f, SETUP_STAGE_SYMLINK, c);
        return 0;
}

static int cgroup1_setup(int rootfd, bool hybrid, unsigned ro, SetupFailure *f) {
        _cleanup_close_ int fd = open("/proc/self/cgroup", O_RDONLY | O_CLOEXEC), cgfd = -EBADF;
        struct mount_attr attr = { .attr_set = MOUNT_ATTR_RDONLY };
        char buf[4096], *state = NULL;
        ssize_t n;
        int r;

        if (fd < 0)
                return fail_errno(f, SETUP_STAGE_MOUNT, "/proc/self/cgroup");
        n = read(fd, buf, sizeof buf - 1);
        if (n < 0)
                return fail_errno(f, SETUP_STAGE_MOUNT, "/proc/self/cgroup");
        buf[n] = 0;
        r = mount_fresh(rootfd, "/sys/fs/cgroup", "tmpfs", "mode=755,size=64k", ATTR_NOSUID_NODEV_NOEXEC, f);
        for (char *line = strtok_r(buf, "\n", &state); r >= 0 && line; line = strtok_r(NULL, "\n", &state)) {
                char *controllers = strchr(line, ':'), *end;

                if (!controllers || !(end = strchr(++controllers, ':')))
                        continue;
                *end = 0;
                if (isempty(controllers)) {
                        if (hybrid)
                                r = mount_fresh(rootfd, "/sys/fs/cgroup/unified", "cgroup2", NULL,
                                                ATTR_NOSUID_NODEV_NOEXEC | ro, f);
                } else
                        r = cgroup1_mount(rootfd, controllers, ro, f);
        }
        if (r < 0 || !ro)
                return r;
        cgfd = openat_in_root(rootfd, "/sys/fs/cgroup", O_PATH | O_DIRECTORY, 0, true);
        if (cgfd < 0 || mount_setattr(cgfd, "", AT_EMPTY_PATH, &attr, sizeof attr) < 0)
                return fail_errno(f, SETUP_STAGE_REMOUNT, "/sys/fs/cgroup");
        return 0;
}

int mount_setup_cgroup(int rootfd, bool readonly, SetupFailure *f) {
        unsigned ro = readonly ? MOUNT_ATTR_RDONLY : 0;

        /* With the cgroup namespace, a new cgroup2 (or v1 hierarchy) mount is
         * rooted at the container's own cgroup: no binds of host paths needed. */
        if (is_fs("/sys/fs/cgroup", CGROUP2_SUPER_MAGIC))
                return mount_fresh(rootfd, "/sys/fs/cgroup", "cgroup2", NULL, ATTR_NOSUID_NODEV_NOEXEC | ro, f);
        return cgroup1_setup(rootfd, is_fs("/sys/fs/cgroup/unified", CGROUP2_SUPER_MAGIC), ro, f);
}

/* Docker's tmpfs defaults are noexec,nosuid,nodev; "exec", "suid" and "dev"
 * among the options lift them. Runs in the child: no allocation. */
static int mount_tmpfs(int rootfd, const MountSpec *m, SetupFailure *f) {
        unsigned attrs = MOUNT_ATTR_NOSUID | MOUNT_ATTR_NODEV | MOUNT_ATTR_NOEXEC;
        char data[96] = "";
        int n = 0;

        for (const char *o = m->options; o && *o; o += strcspn(o, ","), o += *o == ',') {
                size_t len = strcspn(o, ",");
                if (len == 4 && strneq(o, "exec", 4))
                        attrs &= ~MOUNT_ATTR_NOEXEC;
                else if (len == 4 && strneq(o, "suid", 4))
                        attrs &= ~MOUNT_ATTR_NOSUID;
                else if (len == 3 && strneq(o, "dev", 3))
                        attrs &= ~MOUNT_ATTR_NODEV;
        }
        if (m->tmpfs_size > 0)
                n = snprintf(data, sizeof data, "size=%llu", (unsigned long long) m->tmpfs_size);
        if (m->tmpfs_mode > 0)
                (void) snprintf(data + n, sizeof data - (size_t) n, "%smode=%o", n > 0 ? "," : "",
                                (unsigned) m->tmpfs_mode);
        return mount_fresh(rootfd, m->target, "tmpfs", data[0] ? data : NULL,
                           attrs | (m->read_only ? MOUNT_ATTR_RDONLY : 0), f);
}

int mount_apply(int rootfd, const MountSpec *m, SetupFailure *f) {
        _cleanup_close_ int tfd = -EBADF;
        struct stat st;
        int r;

        if (m->type == MOUNT_TYPE_TMPFS)
                return mount_tmpfs(rootfd, m, f);
        if (stat(m->source, &st) < 0)
                return fail_errno(f, SETUP_STAGE_MOUNT, m->source);
        r = mount_open_target(rootfd, m->target, S_ISDIR(st.st_mode), &tfd, f);
        if (r < 0)
                return r;
        r = bind_tree(AT_FDCWD, m->source, tfd, m->read_only);
        return r < 0 ? setup_fail(f, SETUP_STAGE_MOUNT, m->target, r) : 0;
}

int mount_bind_console(int rootfd, int pts_number, SetupFailure *f) {
        _cleanup_close_ int tfd = -EBADF, ptsfd = -EBADF;
        char name[32];
        int r;

        r = mount_open_target(rootfd, "/dev/console", false, &tfd, f);
        if (r < 0)
                return r;
        ptsfd = openat_in_root(rootfd, "/dev/pts", O_PATH | O_DIRECTORY, 0, true);
        if (ptsfd < 0)
                return setup_fail(f, SETUP_STAGE_MOUNT, "/dev/pts", ptsfd);
        snprintf(name, sizeof name, "%d", pts_number);
        r = bind_tree(ptsfd, name, tfd, false);
        return r < 0 ? setup_fail(f, SETUP_STAGE_MOUNT, "/dev/console", r) : 0;
}

int mount_pivot_root(int rootfd, SetupFailure *f) {
        /* pivot_root(".", ".") stacks the old root on top of the new one; the
         * detaching unmount then drops it, so no path to the host's tree is
         * left in the namespace (runc's trick, no temporary directory needed). */
        if (fchdir(rootfd) < 0)
                return fail_errno(f, SETUP_STAGE_PIVOT_ROOT, "/");
        if (syscall(SYS_pivot_root, ".", ".") < 0)
                return fail_errno(f, SETUP_STAGE_PIVOT_ROOT, "/");
        if (umount2(".", MNT_DETACH) < 0)
                return fail_errno(f, SETUP_STAGE_PIVOT_ROOT, "old root");
        if (chdir("/") < 0)
                return fail_errno(f, SETUP_STAGE_PIVOT_ROOT, "/");
        return 0;
}

/* Hides path: directories get an empty read-only tmpfs, files /dev/null. */
static int mask_one(const char *path) {
        _cleanup_close_ int fd = open(path, O_PATH | O_NOFOLLOW | O_CLOEXEC), mfd = -EBADF;
        struct stat st;
        int r;

        if (fd < 0)
                return errno == ENOENT ? 0 : negative_errno();
        if (fstat(fd, &st) < 0)
                return negative_errno();
        if (!S_ISDIR(st.st_mode))
                return bind_tree(AT_FDCWD, "/dev/null", fd, true);
        r = fs_create("tmpfs", "size=0,mode=0555", MOUNT_ATTR_RDONLY | ATTR_NOSUID_NODEV_NOEXEC, &mfd);
        return r < 0 ? r : move_mount_to(mfd, fd);
}

int mount_mask_paths(char * const *paths, SetupFailure *f) {
        STRV_FOREACH(p, paths) {
                int r = mask_one(*p);

                if (r < 0)
                        return setup_fail(f, SETUP_STAGE_MASK, *p, r);
        }
        return 0;
}

int mount_readonly_paths(char * const *paths, SetupFailure *f) {
        STRV_FOREACH(p, paths) {
                _cleanup_close_ int fd = open(*p, O_PATH | O_NOFOLLOW | O_CLOEXEC);
                int r;

                if (fd < 0 && errno == ENOENT)
                        continue;
                if (fd < 0)
                        return fail_errno(f, SETUP_STAGE_REMOUNT, *p);
                r = bind_tree(fd, "", fd, true);
                if (r < 0)
                        return setup_fail(f, SETUP_STAGE_REMOUNT, *p, r);
        }
        return 0;
}

int mount_readonly_root(SetupFailure *f) {
        struct mount_attr attr = { .attr_set = MOUNT_ATTR_RDONLY };

        if (mount_setattr(AT_FDCWD, "/", 0, &attr, sizeof attr) < 0)
                return fail_errno(f, SETUP_STAGE_REMOUNT, "/");
        return 0;
}
