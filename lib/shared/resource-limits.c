/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Typed limits (systemd's unit properties) and Docker's flags turned into them. */
#include <ctype.h>
#include <stdio.h>

#include "resource-limits.h"

#define CPUSET_MAX_CPUS 8192U
#define MEMORY_MIN (6ULL * 1024 * 1024)   /* Docker refuses less than 6 MiB */
#define CPU_QUOTA_MIN_USEC 10000ULL       /* 0.01 CPUs, systemd's own minimum */

#define PROPERTY(n, field, lo, hi, inf) \
        { .name = n, .offset = offsetof(ScopeLimits, field), .min = lo, .max = hi, .infinity_ok = inf }

const LimitProperty limit_properties[] = {
        PROPERTY("MemoryMax", memory_max, 1, UINT64_MAX - 1, true),
        PROPERTY("MemoryLow", memory_low, 1, UINT64_MAX - 1, true),
        PROPERTY("MemorySwapMax", memory_swap_max, 0, UINT64_MAX - 1, true),
        PROPERTY("CPUQuotaPerSecUSec", cpu_quota_usec, CPU_QUOTA_MIN_USEC, UINT64_MAX - 1, true),
        PROPERTY("CPUWeight", cpu_weight, 1, 10000, false),
        PROPERTY("TasksMax", tasks_max, 1, UINT64_MAX - 1, true),
        PROPERTY("IOWeight", io_weight, 1, 10000, false),
};
const size_t limit_properties_size = ELEMENTSOF(limit_properties);

const LimitProperty *limit_property_find(const char *name) {
        for (size_t i = 0; name && i < ELEMENTSOF(limit_properties); i++)
                if (streq(limit_properties[i].name, name))
                        return &limit_properties[i];
        return NULL;
}

static uint64_t *property_field(ScopeLimits *l, const LimitProperty *p) {
        return (uint64_t *) ((uint8_t *) l + p->offset);
}

int limits_set_property(ScopeLimits *l, const char *name, uint64_t value) {
        const LimitProperty *p = limit_property_find(name);

        if (!p)
                return -EINVAL;
        if (!(value == LIMIT_INFINITY && p->infinity_ok) && (value < p->min || value > p->max))
                return -ERANGE;
        *property_field(l, p) = value;
        if (p->offset == offsetof(ScopeLimits, memory_swap_max))
                l->memory_swap_max_set = true;
        return 0;
}

bool limits_get_property(const ScopeLimits *l, const LimitProperty *p, uint64_t *ret) {
        uint64_t v = *property_field((ScopeLimits *) l, p);

        *ret = v;
        if (p->offset == offsetof(ScopeLimits, memory_swap_max))
                return l->memory_swap_max_set;
        return v != 0;
}

int limits_set_allowed_cpus(ScopeLimits *l, const uint8_t *mask, size_t size) {
        uint8_t *c;
        bool any = false;

        for (size_t i = 0; i < size; i++)
                any = any || mask[i] != 0;
        if (!any || size > CPUSET_MAX_CPUS / 8)
                return -ERANGE;
        c = malloc(size);
        if (!c)
                return -ENOMEM;
        memcpy(c, mask, size);
        free(l->allowed_cpus);
        l->allowed_cpus = c;
        l->allowed_cpus_size = size;
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

int scope_limits_verify(const ScopeLimits *l, const char **ret_reason) {
        const char *reason = NULL;

        if (l->memory_low != 0 && l->memory_max != 0 && l->memory_max != LIMIT_INFINITY &&
            l->memory_low > l->memory_max)
                reason = "MemoryLow must not be larger than MemoryMax.";
        if (ret_reason)
                *ret_reason = reason;
        return reason ? -EINVAL : 0;
}

int scope_limits_merge(ScopeLimits *l, const ScopeLimits *u) {
        for (size_t i = 0; i < ELEMENTSOF(limit_properties); i++) {
                uint64_t v;

                if (limits_get_property(u, &limit_properties[i], &v))
                        *property_field(l, &limit_properties[i]) = v;
        }
        if (u->memory_swap_max_set)
                l->memory_swap_max_set = true;
        if (u->allowed_cpus)
                return limits_set_allowed_cpus(l, u->allowed_cpus, u->allowed_cpus_size);
        return 0;
}

static const char *const docker_limit_table[_DOCKER_LIMIT_MAX] = {
        [DOCKER_LIMIT_MEMORY] = "memory",
        [DOCKER_LIMIT_MEMORY_RESERVATION] = "memory-reservation",
        [DOCKER_LIMIT_MEMORY_SWAP] = "memory-swap",
        [DOCKER_LIMIT_CPUS] = "cpus",
        [DOCKER_LIMIT_CPU_SHARES] = "cpu-shares",
        [DOCKER_LIMIT_CPUSET_CPUS] = "cpuset-cpus",
        [DOCKER_LIMIT_PIDS_LIMIT] = "pids-limit",
        [DOCKER_LIMIT_BLKIO_WEIGHT] = "blkio-weight",
};

DEFINE_STRING_TABLE_LOOKUP(docker_limit, DockerLimit);

static const char *const docker_limit_syntax_table[_DOCKER_LIMIT_MAX] = {
        [DOCKER_LIMIT_MEMORY] = "a size of at least 6m, like 512m or 1.5g",
        [DOCKER_LIMIT_MEMORY_RESERVATION] = "a size like 256m",
        [DOCKER_LIMIT_MEMORY_SWAP] = "a size (memory plus swap) like 1g, or -1 for unlimited swap",
        [DOCKER_LIMIT_CPUS] = "a number of CPUs of at least 0.01, like 1.5",
        [DOCKER_LIMIT_CPU_SHARES] = "an integer from 2 to 262144",
        [DOCKER_LIMIT_CPUSET_CPUS] = "a list of CPUs and ranges, like 0-2,4",
        [DOCKER_LIMIT_PIDS_LIMIT] = "a positive integer, or -1 for unlimited",
        [DOCKER_LIMIT_BLKIO_WEIGHT] = "an integer from 10 to 1000",
};

const char *docker_limit_syntax(DockerLimit l) {
        if (l < 0 || l >= _DOCKER_LIMIT_MAX)
                return NULL;
        return docker_limit_syntax_table[l];
}

/* Formulas as in crun and podman, so a container gets the same share of the
 * machine as under Docker: shares 2..262144 -> weight 1..10000. */
uint64_t limits_cpu_shares_to_weight(uint64_t shares) {
        if (shares == 0)
                return 0;
        shares = MIN(MAX(shares, 2ULL), 262144ULL);
        return 1 + ((shares - 2) * 9999) / 262142;
}

/* runc's ConvertBlkIOToIOWeightValue: 10..1000 -> 1..10000. */
uint64_t limits_blkio_weight_to_io_weight(uint64_t blkio) {
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

int limits_parse_cpuset(const char *s, uint8_t **ret, size_t *ret_size) {
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

char *limits_format_cpuset(const uint8_t *mask, size_t size) {
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
                *ret = LIMIT_INFINITY;
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
                *ret = LIMIT_INFINITY;
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
                *ret = LIMIT_INFINITY;
                return 0;
        }
        return parse_ranged(s, 1, UINT64_MAX - 1, ret);
}

/* One flag (not --memory-swap, which depends on --memory) into l. */
static int parse_flag(ScopeLimits *l, DockerLimit which, const char *value) {
        uint64_t v = 0;
        int r;

        switch (which) {
        case DOCKER_LIMIT_MEMORY:
                return parse_memory(value, false, MEMORY_MIN, &l->memory_max);
        case DOCKER_LIMIT_MEMORY_RESERVATION:
                return parse_memory(value, false, 1, &l->memory_low);
        case DOCKER_LIMIT_CPUS:
                return parse_cpus(value, &l->cpu_quota_usec);
        case DOCKER_LIMIT_CPU_SHARES:
                r = parse_ranged(value, 2, 262144, &v);
                if (r >= 0)
                        l->cpu_weight = limits_cpu_shares_to_weight(v);
                return r;
        case DOCKER_LIMIT_CPUSET_CPUS: {
                uint8_t *mask;
                size_t size;

                r = limits_parse_cpuset(value, &mask, &size);
                if (r < 0)
                        return r;
                free(l->allowed_cpus);
                l->allowed_cpus = mask;
                l->allowed_cpus_size = size;
                return 0;
        }
        case DOCKER_LIMIT_PIDS_LIMIT:
                return parse_pids_limit(value, &l->tasks_max);
        case DOCKER_LIMIT_BLKIO_WEIGHT:
                r = parse_ranged(value, 10, 1000, &v);
                if (r >= 0)
                        l->io_weight = limits_blkio_weight_to_io_weight(v);
                return r;
        default:
                return -EINVAL;
        }
}

static int flag_error(DockerLimit which, const char *value, int error, char **ret_error) {
        if (ret_error && asprintf(ret_error, "%s --%s value \"%s\": expected %s.",
                                  error == -ERANGE ? "Out of range" : "Invalid", docker_limit_to_string(which),
                                  strempty(value), docker_limit_syntax(which)) < 0)
                *ret_error = NULL;
        return error;
}

static int reason_error(const char *reason, char **ret_error) {
        if (ret_error)
                *ret_error = strdup(reason);
        return -EINVAL;
}

int limits_from_docker_flags(char * const values[_DOCKER_LIMIT_MAX], ScopeLimits *ret, char **ret_error) {
        _cleanup_(scope_limits_done) ScopeLimits l = {};
        const char *swap = values[DOCKER_LIMIT_MEMORY_SWAP];
        int r;

        if (ret_error)
                *ret_error = NULL;
        for (DockerLimit i = 0; i < _DOCKER_LIMIT_MAX; i++) {
                if (!values[i] || i == DOCKER_LIMIT_MEMORY_SWAP)
                        continue;
                r = parse_flag(&l, i, values[i]);
                if (r < 0)
                        return flag_error(i, values[i], r, ret_error);
        }
        if (swap) {
                uint64_t total;

                r = parse_memory(swap, true, MEMORY_MIN, &total);
                if (r < 0)
                        return flag_error(DOCKER_LIMIT_MEMORY_SWAP, swap, r, ret_error);
                if (total == LIMIT_INFINITY)
                        l.memory_swap_max = LIMIT_INFINITY;
                else if (total != 0) {
                        if (l.memory_max == 0 || l.memory_max == LIMIT_INFINITY)
                                return reason_error("A --memory-swap limit needs a --memory limit as well.", ret_error);
                        if (total < l.memory_max)
                                return reason_error("The --memory-swap limit must not be smaller than the --memory limit.",
                                                    ret_error);
                        l.memory_swap_max = total - l.memory_max;
                }
                l.memory_swap_max_set = total != 0;
        }
        /* Docker: a memory limit without --memory-swap allows as much swap as memory. */
        if (!l.memory_swap_max_set && !swap && l.memory_max != 0 && l.memory_max != LIMIT_INFINITY) {
                l.memory_swap_max = l.memory_max;
                l.memory_swap_max_set = true;
        }
        if (l.memory_low != 0 && l.memory_max != 0 && l.memory_max != LIMIT_INFINITY && l.memory_low > l.memory_max)
                return reason_error("The --memory-reservation must not be larger than the --memory limit.", ret_error);
        *ret = l;
        l = (ScopeLimits) {};
        return 0;
}
