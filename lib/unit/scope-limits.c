/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Docker's resource flags, parsed and turned into systemd unit properties. */
#include <ctype.h>
#include <signal.h>

#include "names.h"
#include "scope.h"

#define CPUSET_MAX_CPUS 8192U
#define MEMORY_MIN (6ULL * 1024 * 1024)   /* Docker refuses less than 6 MiB */
#define CPU_QUOTA_MIN_USEC 10000ULL       /* 0.01 CPUs, systemd's own minimum */

static const char *const scope_limit_table[_SCOPE_LIMIT_MAX] = {
        [SCOPE_LIMIT_MEMORY] = "memory",
        [SCOPE_LIMIT_MEMORY_RESERVATION] = "memory-reservation",
        [SCOPE_LIMIT_MEMORY_SWAP] = "memory-swap",
        [SCOPE_LIMIT_CPUS] = "cpus",
        [SCOPE_LIMIT_CPU_SHARES] = "cpu-shares",
        [SCOPE_LIMIT_CPUSET_CPUS] = "cpuset-cpus",
        [SCOPE_LIMIT_PIDS_LIMIT] = "pids-limit",
        [SCOPE_LIMIT_BLKIO_WEIGHT] = "blkio-weight",
};

DEFINE_STRING_TABLE_LOOKUP(scope_limit, ScopeLimit);

static const char *const scope_limit_syntax_table[_SCOPE_LIMIT_MAX] = {
        [SCOPE_LIMIT_MEMORY] = "a size of at least 6m, like 512m or 1.5g",
        [SCOPE_LIMIT_MEMORY_RESERVATION] = "a size like 256m",
        [SCOPE_LIMIT_MEMORY_SWAP] = "a size (memory plus swap) like 1g, or -1 for unlimited swap",
        [SCOPE_LIMIT_CPUS] = "a number of CPUs of at least 0.01, like 1.5",
        [SCOPE_LIMIT_CPU_SHARES] = "an integer from 2 to 262144",
        [SCOPE_LIMIT_CPUSET_CPUS] = "a list of CPUs and ranges, like 0-2,4",
        [SCOPE_LIMIT_PIDS_LIMIT] = "a positive integer, or -1 for unlimited",
        [SCOPE_LIMIT_BLKIO_WEIGHT] = "an integer from 10 to 1000",
};

const char *scope_limit_syntax(ScopeLimit l) {
        if (l < 0 || l >= _SCOPE_LIMIT_MAX)
                return NULL;
        return scope_limit_syntax_table[l];
}

int scope_limit_error_message(ScopeLimit which, const char *value, int error, char **ret) {
        const char *flag = scope_limit_to_string(which);
        char *s = NULL;

        if (!flag)
                return -EINVAL;
        if (asprintf(&s, "%s --%s value \"%s\": expected %s.",
                     error == -ERANGE ? "Out of range" : "Invalid", flag, strempty(value),
                     scope_limit_syntax(which)) < 0)
                return -ENOMEM;
        *ret = s;
        return 0;
}

void scope_limits_done(ScopeLimits *l) {
        if (!l)
                return;
        l->allowed_cpus = mfree(l->allowed_cpus);
        l->allowed_cpus_size = 0;
}

int scope_limits_copy(const ScopeLimits *from, ScopeLimits *to) {
        ScopeLimits c = *from;

        c.allowed_cpus = NULL;
        if (from->allowed_cpus) {
                c.allowed_cpus = malloc(from->allowed_cpus_size ?: 1);
                if (!c.allowed_cpus)
                        return -ENOMEM;
                memcpy(c.allowed_cpus, from->allowed_cpus, from->allowed_cpus_size);
        }
        *to = c;
        return 0;
}

/* Formulas as in crun and podman, so a container gets the same share of the
 * machine as under Docker: shares 2..262144 -> weight 1..10000. */
uint64_t scope_cpu_shares_to_weight(uint64_t shares) {
        if (shares == 0)
                return 0;
        shares = MIN(MAX(shares, 2ULL), 262144ULL);
        return 1 + ((shares - 2) * 9999) / 262142;
}

/* runc's ConvertBlkIOToIOWeightValue: 10..1000 -> 1..10000. */
uint64_t scope_blkio_weight_to_io_weight(uint64_t blkio) {
        if (blkio == 0)
                return 0;
        blkio = MIN(MAX(blkio, 10ULL), 1000ULL);
        return 1 + ((blkio - 10) * 9999) / 990;
}

static int parse_cpu_index(const char *s, const char **end, unsigned *ret) {
        unsigned long v;
        char *e;

        if (!isdigit((unsigned char) *s))
                return -EINVAL;
        errno = 0;
        v = strtoul(s, &e, 10);
        if (errno > 0 || v >= CPUSET_MAX_CPUS)
                return -ERANGE;
        *end = e;
        *ret = (unsigned) v;
        return 0;
}

int scope_parse_cpuset(const char *s, uint8_t **ret, size_t *ret_size) {
        _cleanup_free_ uint8_t *mask = NULL;
        size_t size = 0;
        const char *p = s;
        int r;

        if (isempty(s))
                return -EINVAL;
        mask = calloc(CPUSET_MAX_CPUS / 8, 1);
        if (!mask)
                return -ENOMEM;
        for (;;) {
                unsigned a, b;

                r = parse_cpu_index(p, &p, &a);
                if (r < 0)
                        return r;
                b = a;
                if (*p == '-') {
                        r = parse_cpu_index(p + 1, &p, &b);
                        if (r < 0)
                                return r;
                        if (b < a)
                                return -EINVAL;
                }
                for (unsigned i = a; i <= b; i++)
                        mask[i / 8] |= (uint8_t) (1U << (i % 8));
                size = MAX(size, (size_t) b / 8 + 1);
                if (*p == 0)
                        break;
                if (*p != ',')
                        return -EINVAL;
                p++;
        }
        *ret = realloc(mask, size) ?: mask;
        mask = NULL;
        *ret_size = size;
        return 0;
}

char *scope_format_cpuset(const uint8_t *mask, size_t size) {
        _cleanup_free_ char *buf = malloc(size * 8 * 12 + 1);
        char *p = buf;

        if (!buf)
                return NULL;
        *p = 0;
        for (size_t i = 0; i < size * 8; i++) {
                size_t j = i;

                if (!(mask[i / 8] & (1U << (i % 8))))
                        continue;
                while (j + 1 < size * 8 && (mask[(j + 1) / 8] & (1U << ((j + 1) % 8))))
                        j++;
                p += sprintf(p, p == buf ? "%zu" : ",%zu", i);
                if (j > i)
                        p += sprintf(p, "-%zu", j);
                i = j;
        }
        return TAKE_PTR(buf);
}

/* Docker's --cpus: a plain decimal, no exponent, no sign. */
static int parse_cpus(const char *s, uint64_t *ret) {
        double v;
        char *end;

        if (isempty(s) || strspn(s, "0123456789.") != strlen(s) || strchr(s, '.') != strrchr(s, '.'))
                return -EINVAL;
        errno = 0;
        v = strtod(s, &end);
        if (errno > 0 || *end || end == s)
                return -EINVAL;
        if (v == 0) {
                *ret = SCOPE_LIMIT_INFINITY;
                return 0;
        }
        if (v > 1000000.0 || (uint64_t) (v * 1e6 + 0.5) < CPU_QUOTA_MIN_USEC)
                return -ERANGE;
        *ret = (uint64_t) (v * 1e6 + 0.5);
        return 0;
}

static int parse_ranged(const char *s, uint64_t min, uint64_t max, uint64_t *ret) {
        uint64_t v;
        int r;

        r = safe_atou64(s, &v);
        if (r < 0)
                return r == -ERANGE ? r : -EINVAL;
        if (v != 0 && (v < min || v > max))
                return -ERANGE;
        *ret = v;
        return 0;
}

static int parse_memory(const char *s, bool allow_unlimited, uint64_t min, uint64_t *ret) {
        uint64_t v;
        int r;

        if (allow_unlimited && streq_ptr(s, "-1")) {
                *ret = SCOPE_LIMIT_INFINITY;
                return 0;
        }
        r = parse_size(s, 1024, &v);
        if (r < 0)
                return r;
        if (v != 0 && v < min)
                return -ERANGE;
        *ret = v;
        return 0;
}

static int parse_pids_limit(const char *s, uint64_t *ret) {
        if (streq_ptr(s, "-1") || streq_ptr(s, "0")) {
                *ret = SCOPE_LIMIT_INFINITY;
                return 0;
        }
        return parse_ranged(s, 1, UINT64_MAX - 1, ret);
}

int scope_limits_set(ScopeLimits *l, ScopeLimit which, const char *value) {
        uint64_t v = 0;
        int r;

        switch (which) {
        case SCOPE_LIMIT_MEMORY:
                r = parse_memory(value, false, MEMORY_MIN, &l->memory_max);
                return r;
        case SCOPE_LIMIT_MEMORY_RESERVATION:
                return parse_memory(value, false, 1, &l->memory_low);
        case SCOPE_LIMIT_MEMORY_SWAP:
                return parse_memory(value, true, MEMORY_MIN, &l->memory_swap);
        case SCOPE_LIMIT_CPUS:
                return parse_cpus(value, &l->cpu_quota_usec);
        case SCOPE_LIMIT_CPU_SHARES:
                r = parse_ranged(value, 2, 262144, &v);
                if (r >= 0)
                        l->cpu_weight = scope_cpu_shares_to_weight(v);
                return r;
        case SCOPE_LIMIT_CPUSET_CPUS: {
                uint8_t *mask;
                size_t size;

                r = scope_parse_cpuset(value, &mask, &size);
                if (r < 0)
                        return r;
                free(l->allowed_cpus);
                l->allowed_cpus = mask;
                l->allowed_cpus_size = size;
                return 0;
        }
        case SCOPE_LIMIT_PIDS_LIMIT:
                return parse_pids_limit(value, &l->tasks_max);
        case SCOPE_LIMIT_BLKIO_WEIGHT:
                r = parse_ranged(value, 10, 1000, &v);
                if (r >= 0)
                        l->io_weight = scope_blkio_weight_to_io_weight(v);
                return r;
        default:
                return -EINVAL;
        }
}

int scope_limits_verify(const ScopeLimits *l, const char **ret_reason) {
        const char *reason = NULL;

        if (l->memory_swap != 0 && l->memory_swap != SCOPE_LIMIT_INFINITY) {
                if (l->memory_max == 0 || l->memory_max == SCOPE_LIMIT_INFINITY)
                        reason = "A memory+swap limit needs a memory limit as well.";
                else if (l->memory_swap < l->memory_max)
                        reason = "The memory+swap limit must not be smaller than the memory limit.";
        }
        if (!reason && l->memory_low != 0 && l->memory_max != 0 &&
            l->memory_max != SCOPE_LIMIT_INFINITY && l->memory_low > l->memory_max)
                reason = "The memory reservation must not be larger than the memory limit.";
        if (ret_reason)
                *ret_reason = reason;
        return reason ? -EINVAL : 0;
}

int scope_limits_merge(ScopeLimits *l, const ScopeLimits *u) {
        if (u->memory_max)
                l->memory_max = u->memory_max;
        if (u->memory_low)
                l->memory_low = u->memory_low;
        if (u->memory_swap)
                l->memory_swap = u->memory_swap;
        if (u->cpu_quota_usec)
                l->cpu_quota_usec = u->cpu_quota_usec;
        if (u->cpu_weight)
                l->cpu_weight = u->cpu_weight;
        if (u->tasks_max)
                l->tasks_max = u->tasks_max;
        if (u->io_weight)
                l->io_weight = u->io_weight;
        if (u->allowed_cpus) {
                uint8_t *c = malloc(u->allowed_cpus_size ?: 1);
                if (!c)
                        return -ENOMEM;
                memcpy(c, u->allowed_cpus, u->allowed_cpus_size);
                free(l->allowed_cpus);
                l->allowed_cpus = c;
                l->allowed_cpus_size = u->allowed_cpus_size;
        }
        return 0;
}

/* Docker: unset swap with a memory limit means as much swap as memory;
 * "-1" means unlimited swap; otherwise the total minus the memory. */
uint64_t scope_limits_swap_max(const ScopeLimits *l) {
        if (l->memory_swap == SCOPE_LIMIT_INFINITY)
                return SCOPE_LIMIT_INFINITY;
        if (l->memory_max == 0 || l->memory_max == SCOPE_LIMIT_INFINITY)
                return 0;
        if (l->memory_swap == 0)
                return l->memory_max;
        return l->memory_swap >= l->memory_max ? l->memory_swap - l->memory_max : 0;
}

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

static int append_u64(sd_bus_message *m, const char *key, uint64_t v) {
        if (v == 0)
                return 0;
        return sd_bus_message_append(m, "(sv)", key, "t", v);
}

int scope_append_limits(sd_bus_message *m, const ScopeLimits *l) {
        int r;

        r = append_u64(m, "MemoryMax", l->memory_max);
        if (r >= 0)
                r = append_u64(m, "MemoryLow", l->memory_low);
        if (r >= 0)
                r = append_u64(m, "MemorySwapMax", scope_limits_swap_max(l));
        if (r >= 0)
                r = append_u64(m, "CPUQuotaPerSecUSec", l->cpu_quota_usec);
        if (r >= 0)
                r = append_u64(m, "CPUWeight", l->cpu_weight);
        if (r >= 0)
                r = append_u64(m, "TasksMax", l->tasks_max);
        if (r >= 0)
                r = append_u64(m, "IOWeight", l->io_weight);
        if (r >= 0 && l->allowed_cpus) {
                r = sd_bus_message_open_container(m, 'r', "sv");
                if (r >= 0)
                        r = sd_bus_message_append(m, "s", "AllowedCPUs");
                if (r >= 0)
                        r = sd_bus_message_open_container(m, 'v', "ay");
                if (r >= 0)
                        r = sd_bus_message_append_array(m, 'y', l->allowed_cpus, l->allowed_cpus_size);
                if (r >= 0)
                        r = sd_bus_message_close_container(m);
                if (r >= 0)
                        r = sd_bus_message_close_container(m);
        }
        return r;
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
                r = scope_append_limits(m, l);
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
