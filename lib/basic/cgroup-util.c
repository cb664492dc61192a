/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <linux/magic.h>
#include <sys/stat.h>
#include <sys/vfs.h>

#include "cgroup-util.h"
#include "util.h"

static const char *const cgroup_version_table[_CGROUP_VERSION_MAX] = {
        [CGROUP_VERSION_LEGACY] = "v1",
        [CGROUP_VERSION_HYBRID] = "hybrid",
        [CGROUP_VERSION_UNIFIED] = "v2",
};

DEFINE_STRING_TABLE_LOOKUP(cgroup_version, CgroupVersion);

static bool is_fs_type(const char *path, long magic) {
        struct statfs sfs;

        return statfs(path, &sfs) >= 0 && sfs.f_type == magic;
}

CgroupVersion cgroup_detect_version(const char *root) {
        _cleanup_free_ char *top = strjoin(strempty(root), "/sys/fs/cgroup");
        _cleanup_free_ char *unified = strjoin(strempty(root), "/sys/fs/cgroup/unified");

        if (!top || !unified)
                return _CGROUP_VERSION_INVALID;
        if (is_fs_type(top, CGROUP2_SUPER_MAGIC))
                return CGROUP_VERSION_UNIFIED;
        if (is_fs_type(unified, CGROUP2_SUPER_MAGIC))
                return CGROUP_VERSION_HYBRID;
        return CGROUP_VERSION_LEGACY;
}

bool cgroup_cpu_accounting_readable(const char *root, CgroupVersion v) {
        _cleanup_free_ char *cpu = strjoin(strempty(root), "/sys/fs/cgroup/cpu");
        _cleanup_free_ char *cpuacct = strjoin(strempty(root), "/sys/fs/cgroup/cpuacct");
        struct stat a, b;

        if (v == CGROUP_VERSION_UNIFIED)
                return true;
        return cpu && cpuacct && stat(cpu, &a) >= 0 && stat(cpuacct, &b) >= 0 &&
               a.st_dev == b.st_dev && a.st_ino == b.st_ino;
}
