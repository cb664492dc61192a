/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include <stdbool.h>
#include <stdint.h>
#include <sys/capability.h>

/* Capability sets are bit masks indexed by capability number (bit 0 is
 * CAP_CHOWN), the layout of /proc/<pid>/status's Cap* lines. */

/* "chown", "CAP_CHOWN" and "Cap_Chown" all give 0; unknown names -EINVAL. */
int capability_from_name(const char *name);
/* Upper-case name with the CAP_ prefix, or NULL. */
const char *capability_to_name(int cap);

uint64_t capability_all(void);
uint64_t capability_docker_default(void);

/* Docker's rules: privileged gives every capability; otherwise start from the
 * default set, "ALL" in add starts from everything, "ALL" in drop from
 * nothing, then single names are added and dropped. */
int capability_compute(char * const *add, char * const *drop, bool privileged, uint64_t *ret);

/* Drops every capability outside set from the bounding set and clears the
 * ambient set. Needs CAP_SETPCAP. */
int capability_apply_bounding(uint64_t set);
/* Builds the state "effective and permitted are set (inheritable empty), plus
 * extra_effective in effective and permitted" (used to keep CAP_SYS_ADMIN
 * until seccomp is loaded). Prepared before fork so that the child applies
 * it without allocating. */
int capability_prepare(uint64_t set, uint64_t extra_effective, cap_t *ret);
int capability_apply(cap_t prepared);
int capability_get_permitted(uint64_t *ret);
