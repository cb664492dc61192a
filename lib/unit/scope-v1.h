/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include <sys/types.h>

#include "scope.h"

/* On cgroup v1 (legacy and hybrid hosts) systemd does not apply
 * AllowedCPUs=, MemoryLow= or MemorySwapMax=. Docker's flags still mean
 * something there, so Berth writes them itself: memory.soft_limit_in_bytes
 * and memory.memsw.limit_in_bytes in the scope's memory cgroup, and
 * cpuset.cpus of a cpuset cgroup of the same path, which pid and every
 * process of the scope join at once. (systemd moves the scope's processes
 * there too when AllowedCPUs= is set, but later, from its own event loop:
 * an update would leave what the container forked unconfined for a while.)
 * Called after systemd made the scope, before the command runs, and again
 * on update. A no-op on cgroup v2, where systemd does it all. root is
 * normally "/sys/fs/cgroup"; control_group the unit's ControlGroup. */
int scope_v1_apply_limits(const char *root, const char *control_group, pid_t pid, const ScopeLimits *l);
/* Removes the cpuset cgroup systemd does not know about. */
int scope_v1_remove(const char *root, const char *control_group);
