/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The container's cgroup beyond what systemd does: its path, the v1
 * limits and cgroups systemd leaves out, the OOM watch. */
#include "engine-internal.h"
#include "scope-v1.h"
#include "log.h"

/* The scope's ControlGroup: berthd's cgroup namespace is rooted where
 * systemd's tree is, so it is the same path systemd reports. */
char *engine_control_group(const Container *c) {
        return strjoin("/" SCOPE_SLICE "/", c->unit);
}

/* What systemd leaves out on cgroup v1, with pid joining the container's
 * cpuset; nothing to do on v2. */
int engine_apply_v1_limits(Engine *e, const Container *c, pid_t pid, const ScopeLimits *l) {
        _cleanup_free_ char *cg = NULL;

        if (e->cgroup_version == CGROUP_VERSION_UNIFIED)
                return 0;
        cg = engine_control_group(c);
        return cg ? scope_v1_apply_limits("/sys/fs/cgroup", cg, pid, l) : -ENOMEM;
}

/* The v1 cgroups Berth made itself (cpuset, freezer): systemd does not
 * know them and leaves them behind. */
void engine_remove_v1_cgroups(Engine *e, Container *c) {
        _cleanup_free_ char *cg = NULL;

        if (e->cgroup_version == CGROUP_VERSION_UNIFIED)
                return;
        cg = engine_control_group(c);
        if (!cg)
                return;
        (void) scope_v1_remove("/sys/fs/cgroup", cg);
        (void) scope_v1_freezer_remove("/sys/fs/cgroup/freezer", cg);
}

static void on_oom(void *userdata) {
        Live *l = userdata;

        l->container->oom_killed = true;
        (void) engine_save_state(l->engine, l->container);
}

void engine_watch_oom(Engine *e, Container *c) {
        _cleanup_free_ char *cg = engine_control_group(c);
        Live *l = engine_live(e, c);
        int r;

        if (!cg || !l)
                return;
        l->oom = oom_watch_free(l->oom);
        r = oom_watch_new(e->event, e->cgroup_version, cg, on_oom, l, &l->oom);
        if (r < 0)
                log_debug_errno(r, "Cannot watch %s for OOM kills: %m", cg);
}
