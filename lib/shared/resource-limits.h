/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/* A container's resource limits in ONE typed form: systemd's unit
 * properties, their names and their types (MemoryMax t bytes, CPUWeight t,
 * CPUQuotaPerSecUSec t, ...). The D-Bus API takes and shows them so, the
 * scope code hands them to systemd so, state.json stores them so. Docker's
 * flag strings (--memory 512m, --cpus 1.5, ...) are turned into this form
 * here, by the client. Depends on nothing but util. */

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "util.h"

/* 0 means "not set" (systemd's default, or the current value on update),
 * except for MemorySwapMax, which has memory_swap_max_set since 0 bytes of
 * swap is a limit. LIMIT_INFINITY means "unlimited" (systemd's "infinity"). */
#define LIMIT_INFINITY UINT64_MAX

typedef struct ScopeLimits {
        uint64_t memory_max;       /* MemoryMax=, bytes */
        uint64_t memory_low;       /* MemoryLow=, bytes */
        uint64_t memory_swap_max;  /* MemorySwapMax=, bytes of swap (not memory + swap) */
        bool memory_swap_max_set;
        uint64_t cpu_quota_usec;   /* CPUQuotaPerSecUSec=, µs of CPU time per second */
        uint64_t cpu_weight;       /* CPUWeight=, 1..10000 */
        uint64_t tasks_max;        /* TasksMax= */
        uint64_t io_weight;        /* IOWeight=, 1..10000 */
        uint8_t *allowed_cpus;     /* AllowedCPUs= as systemd's "ay" bitmask: byte i bit j = CPU 8i+j */
        size_t allowed_cpus_size;
} ScopeLimits;

void scope_limits_done(ScopeLimits *l);
int scope_limits_copy(const ScopeLimits *from, ScopeLimits *to);
/* Cross-field checks; on failure *ret_reason is a static sentence. */
int scope_limits_verify(const ScopeLimits *l, const char **ret_reason);
/* Overlays the fields set in update onto l (Update). */
int scope_limits_merge(ScopeLimits *l, const ScopeLimits *update);

/* The "t" properties, in the order the API lists them; AllowedCPUs ("ay")
 * is the one other. */
#define LIMIT_PROPERTY_ALLOWED_CPUS "AllowedCPUs"
typedef struct LimitProperty {
        const char *name;
        size_t offset;             /* of the uint64_t in ScopeLimits */
        uint64_t min, max;         /* valid values besides LIMIT_INFINITY (if infinity_ok) */
        bool infinity_ok;
} LimitProperty;

extern const LimitProperty limit_properties[];
extern const size_t limit_properties_size;
const LimitProperty *limit_property_find(const char *name);
/* Sets a "t" property: -EINVAL unknown name, -ERANGE a value systemd would refuse. */
int limits_set_property(ScopeLimits *l, const char *name, uint64_t value);
/* Whether p is set in l, and its value. */
bool limits_get_property(const ScopeLimits *l, const LimitProperty *p, uint64_t *ret);
/* AllowedCPUs from the "ay" bitmask; an empty one is refused. */
int limits_set_allowed_cpus(ScopeLimits *l, const uint8_t *mask, size_t size);

/* Docker's resource flags, by their names. */
typedef enum DockerLimit {
        DOCKER_LIMIT_MEMORY,              /* "memory": "512m" */
        DOCKER_LIMIT_MEMORY_RESERVATION,  /* "memory-reservation" */
        DOCKER_LIMIT_MEMORY_SWAP,         /* "memory-swap": memory + swap, "-1" unlimited */
        DOCKER_LIMIT_CPUS,                /* "cpus": "1.5" */
        DOCKER_LIMIT_CPU_SHARES,          /* "cpu-shares": 2..262144 */
        DOCKER_LIMIT_CPUSET_CPUS,         /* "cpuset-cpus": "0-2,4" */
        DOCKER_LIMIT_PIDS_LIMIT,          /* "pids-limit": N, "-1"/"0" unlimited */
        DOCKER_LIMIT_BLKIO_WEIGHT,        /* "blkio-weight": 10..1000 */
        _DOCKER_LIMIT_MAX,
        _DOCKER_LIMIT_INVALID = -EINVAL,
} DockerLimit;

const char *docker_limit_to_string(DockerLimit l);
DockerLimit docker_limit_from_string(const char *s);
/* What a value of that flag looks like, for error messages. */
const char *docker_limit_syntax(DockerLimit l);

/* Docker's flags (values[i] NULL: not given) into typed limits, with
 * Docker's rules: --memory-swap is memory plus swap and needs --memory;
 * --memory without --memory-swap allows as much swap as memory. On failure
 * *ret_error (optional) is one sentence naming the flag. */
int limits_from_docker_flags(char * const values[_DOCKER_LIMIT_MAX], ScopeLimits *ret, char **ret_error);

/* Docker's conversions, as crun and podman make them. */
uint64_t limits_cpu_shares_to_weight(uint64_t shares);
uint64_t limits_blkio_weight_to_io_weight(uint64_t blkio);
int limits_parse_cpuset(const char *s, uint8_t **ret, size_t *ret_size);
/* "0-2,4" again, for display. */
char *limits_format_cpuset(const uint8_t *mask, size_t size);
