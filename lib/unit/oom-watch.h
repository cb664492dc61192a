/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include <systemd/sd-event.h>

#include "cgroup-util.h"

/* Tells when the kernel's OOM killer acts inside a scope's memory cgroup,
 * while it exists: by the time a container's exit is handled, systemd has
 * usually removed the cgroup and its counters with it. cgroup v1 reports
 * through cgroup.event_control and an eventfd, v2 through inotify on
 * memory.events. */

typedef struct OomWatch OomWatch;
typedef void (*OomCallback)(void *userdata);

/* control_group is the unit's ControlGroup ("/berth.slice/berth-x.scope"). */
int oom_watch_new(sd_event *e, CgroupVersion v, const char *control_group, OomCallback cb, void *userdata,
                  OomWatch **ret);
OomWatch *oom_watch_free(OomWatch *w);
DEFINE_TRIVIAL_CLEANUP_FUNC(OomWatch *, oom_watch_free);
