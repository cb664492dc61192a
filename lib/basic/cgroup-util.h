/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include <stdbool.h>

typedef enum CgroupVersion {
        CGROUP_VERSION_LEGACY,   /* v1 controllers only */
        CGROUP_VERSION_HYBRID,   /* v1 controllers, systemd's tree on cgroup2 */
        CGROUP_VERSION_UNIFIED,  /* pure cgroup2 */
        _CGROUP_VERSION_MAX,
        _CGROUP_VERSION_INVALID = -22,
} CgroupVersion;

const char *cgroup_version_to_string(CgroupVersion v);
CgroupVersion cgroup_version_from_string(const char *s);

/* What the host mounts at /sys/fs/cgroup (or below root, for tests). */
CgroupVersion cgroup_detect_version(const char *root);
/* Whether systemd can count a unit's CPU time here: always on cgroup v2; on
 * v1 only where cpu and cpuacct are one hierarchy, as systemd expects. */
bool cgroup_cpu_accounting_readable(const char *root, CgroupVersion v);
