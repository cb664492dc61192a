/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The StartTransientUnit and SetUnitProperties contents of a container's
 * scope: its name, its defaults, its typed limits (lib/limits.h) and the
 * assignments callers may add. */
#include <signal.h>

#include "bus-util.h"
#include "names.h"
#include "scope.h"

int scope_unit_name(const char *container_name, char **ret) {
        char *s;

        if (!container_name_is_valid(container_name))
                return -EINVAL;
        s = strjoin(SCOPE_UNIT_PREFIX, container_name, SCOPE_UNIT_SUFFIX);
        if (!s)
                return -ENOMEM;
        *ret = s;
        return 0;
}

bool scope_unit_name_is_valid(const char *unit) {
        const char *p = startswith(strempty(unit), SCOPE_UNIT_PREFIX);
        const char *e;
        _cleanup_free_ char *name = NULL;

        /* systemd's own limit for unit names is 255 bytes. */
        if (!p || strlen(unit) > 255)
                return false;
        e = endswith(p, SCOPE_UNIT_SUFFIX);
        if (!e)
                return false;
        name = strndup(p, (size_t) (e - p));
        return name && container_name_is_valid(name);
}

typedef struct Assignment {
        const char *key;
        char type;
} Assignment;

/* The unit properties callers may pass as "Key=value"; everything else about
 * the scope is decided here. */
static const Assignment assignment_table[] = {
        { "Description", 's' },
        { "KillMode", 's' },
        { "KillSignal", 'i' },
        { "FinalKillSignal", 'i' },
        { "SendSIGKILL", 'b' },
        { "SendSIGHUP", 'b' },
        { "TimeoutStopUSec", 't' },
        { "CollectMode", 's' },
        { "OOMPolicy", 's' },
        { "Delegate", 'b' },
        { "CPUAccounting", 'b' },    /* the caller's: on some v1 hosts it costs and counts nothing */
        { "DevicePolicy", 's' },
        { "DeviceAllow", 'D' },      /* "SPECIFIER PERMISSIONS", one per assignment */
};

static const Assignment *assignment_find(const char *key, size_t n) {
        for (size_t i = 0; i < ELEMENTSOF(assignment_table); i++)
                if (strlen(assignment_table[i].key) == n && strneq(assignment_table[i].key, key, n))
                        return &assignment_table[i];
        return NULL;
}

static int append_assignment(sd_bus_message *m, const Assignment *a, const char *value) {
        _cleanup_free_ char *spec = NULL;
        const char *sp;
        uint64_t t;
        int r, i;

        switch (a->type) {
        case 'D':
                sp = strchr(value, ' ');
                if (!sp || sp == value || isempty(sp + 1))
                        return -EINVAL;
                spec = strndup(value, (size_t) (sp - value));
                if (!spec)
                        return -ENOMEM;
                return sd_bus_message_append(m, "(sv)", a->key, "a(ss)", 1, spec, sp + 1);
        case 's':
                return sd_bus_message_append(m, "(sv)", a->key, "s", value);
        case 'b':
                r = parse_boolean(value);
                return r < 0 ? r : sd_bus_message_append(m, "(sv)", a->key, "b", r);
        case 'i':
                i = signal_from_string(value);
                return i < 0 ? i : sd_bus_message_append(m, "(sv)", a->key, "i", i);
        case 't':
                r = safe_atou64(value, &t);
                return r < 0 ? r : sd_bus_message_append(m, "(sv)", a->key, "t", t);
        default:
                return -EINVAL;
        }
}

int scope_append_assignments(sd_bus_message *m, char * const *assignments) {
        int r;

        STRV_FOREACH(s, assignments) {
                const char *eq = strchr(*s, '=');
                const Assignment *a;

                if (!eq)
                        return -EINVAL;
                a = assignment_find(*s, (size_t) (eq - *s));
                if (!a)
                        return -EINVAL;
                r = append_assignment(m, a, eq + 1);
                if (r < 0)
                        return r;
        }
        return 0;
}

static bool assignments_have(char * const *assignments, const char *key) {
        size_t n = strlen(key);

        STRV_FOREACH(s, assignments)
                if (strneq(*s, key, n) && (*s)[n] == '=')
                        return true;
        return false;
}

/* Why these defaults: delegated because systemd moves a process into a
 * running unit (AttachProcessesToUnit, for exec) only when it is delegated;
 * the container still cannot write its cgroup, which the runtime mounts
 * read-only. An empty DelegateControllers= delegates without asking for
 * every controller, which on cgroup v1 costs a directory per hierarchy and
 * systemd realizing each controller for all sibling units (see
 * docs/containers.md). KillMode=control-group because a scope has no main
 * process, so "mixed" would send the stop signal to nobody. */
static int append_defaults(sd_bus_message *m, const char *unit, char * const *extra) {
        _cleanup_free_ char *name = NULL, *description = NULL;
        const char *p = startswith(unit, SCOPE_UNIT_PREFIX);
        int r;

        name = strndup(p, strlen(p) - strlen(SCOPE_UNIT_SUFFIX));
        if (!name)
                return -ENOMEM;
        description = strjoin("Berth container ", name);
        if (!description)
                return -ENOMEM;
        r = sd_bus_message_append(m, "(sv)(sv)(sv)",
                                  "Slice", "s", SCOPE_SLICE,
                                  "MemoryAccounting", "b", 1,
                                  "TasksAccounting", "b", 1);
        if (r < 0)
                return r;
        if (!assignments_have(extra, "Description"))
                r = sd_bus_message_append(m, "(sv)", "Description", "s", description);
        if (r >= 0 && !assignments_have(extra, "Delegate"))
                r = sd_bus_message_append(m, "(sv)", "DelegateControllers", "as", 0);
        if (r >= 0 && !assignments_have(extra, "CollectMode"))
                r = sd_bus_message_append(m, "(sv)", "CollectMode", "s", "inactive-or-failed");
        if (r >= 0 && !assignments_have(extra, "KillMode"))
                r = sd_bus_message_append(m, "(sv)", "KillMode", "s", "control-group");
        if (r >= 0 && !assignments_have(extra, "SendSIGKILL"))
                r = sd_bus_message_append(m, "(sv)", "SendSIGKILL", "b", 1);
        if (r >= 0 && !assignments_have(extra, "TimeoutStopUSec"))
                r = sd_bus_message_append(m, "(sv)", "TimeoutStopUSec", "t", (uint64_t) 10 * 1000000);
        return r;
}

int scope_new_start_message(sd_bus *bus, const char *unit, pid_t pid, const ScopeLimits *l,
                            char * const *extra_props, sd_bus_message **ret) {
        _cleanup_(sd_bus_message_unrefp) sd_bus_message *m = NULL;
        int r;

        if (!scope_unit_name_is_valid(unit) || pid <= 0)
                return -EINVAL;
        r = sd_bus_message_new_method_call(bus, &m, "org.freedesktop.systemd1",
                                           "/org/freedesktop/systemd1",
                                           "org.freedesktop.systemd1.Manager",
                                           "StartTransientUnit");
        if (r < 0)
                return r;
        r = sd_bus_message_append(m, "ss", unit, "fail");
        if (r >= 0)
                r = sd_bus_message_open_container(m, 'a', "(sv)");
        if (r >= 0)
                r = append_defaults(m, unit, extra_props);
        if (r >= 0)
                r = sd_bus_message_append(m, "(sv)", "PIDs", "au", 1, (uint32_t) pid);
        if (r >= 0 && l)
                r = bus_append_limit_entries(m, l, 'r');
        if (r >= 0)
                r = scope_append_assignments(m, extra_props);
        if (r >= 0)
                r = sd_bus_message_close_container(m);
        if (r >= 0)
                r = sd_bus_message_append(m, "a(sa(sv))", 0);
        if (r < 0)
                return r;
        *ret = TAKE_PTR(m);
        return 0;
}
