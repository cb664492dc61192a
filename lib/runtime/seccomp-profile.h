/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include <linux/filter.h>
#include <linux/seccomp.h>
#include <seccomp.h>
#include <stdint.h>
#include <sys/syscall.h>

#include "util.h"

/* Seccomp profiles in Docker's JSON format, and Berth's built-in default
 * (Docker's default allow-list, a little stricter: no io_uring, no new mount
 * API, no capability-gated extras, and socket-family rules that hold through
 * socketcall(2)). */

typedef enum SeccompMode {
        SECCOMP_MODE_DEFAULT,
        SECCOMP_MODE_UNCONFINED,
        SECCOMP_MODE_PROFILE,    /* a JSON file */
        _SECCOMP_MODE_MAX,
        _SECCOMP_MODE_INVALID = -EINVAL,
} SeccompMode;

#define SECCOMP_ARGS_MAX 6

typedef struct SeccompRule {
        char **names;
        uint32_t action;                    /* SCMP_ACT_* */
        size_t n_args;
        struct scmp_arg_cmp args[SECCOMP_ARGS_MAX];
        uint64_t caps_include, caps_exclude; /* capability masks gating the rule */
        char **arches_include, **arches_exclude; /* Docker's names: amd64, x86, x32 */
        unsigned min_kernel;                /* major * 1000 + minor, 0 if none */
} SeccompRule;

typedef struct SeccompProfile {
        uint32_t default_action;
        uint32_t *arches;                   /* SCMP_ARCH_*, besides the native one */
        size_t n_arches;
        SeccompRule *rules;
        size_t n_rules;
} SeccompProfile;

/* A compiled filter, ready for seccomp(2) without any allocation. */
typedef struct SeccompBpf {
        struct sock_filter *filter;
        unsigned short len;
} SeccompBpf;

SeccompProfile *seccomp_profile_free(SeccompProfile *p);
DEFINE_TRIVIAL_CLEANUP_FUNC(SeccompProfile *, seccomp_profile_free);

int seccomp_profile_default(SeccompProfile **ret);
int seccomp_profile_parse(const char *json, SeccompProfile **ret);
int seccomp_profile_load(const char *path, SeccompProfile **ret);

/* Builds a libseccomp filter for the native architecture and the profile's
 * others (x86 and x32 are always added on x86-64, so that a compat syscall
 * cannot bypass the filter); caps is the capability set of the process. */
int seccomp_profile_compile(const SeccompProfile *p, uint64_t caps, scmp_filter_ctx *ret);
/* The compiled filter as BPF, behind a few instructions of Berth's own that
 * refuse (ENOSYS) the socketcall(2) calls whose argument checks libseccomp
 * would drop on the architectures that multiplex them: the filter of
 * seccomp_profile_compile() alone is weaker. */
int seccomp_profile_export(const SeccompProfile *p, uint64_t caps, SeccompBpf *ret);
void seccomp_bpf_done(SeccompBpf *b);
/* The default profile compiled for caps, from a cache: compiling takes tens
 * of milliseconds, which would dominate starting a container. The copy in
 * ret is the caller's. Thread-safe. */
int seccomp_default_bpf(uint64_t caps, SeccompBpf *ret);
/* Installs the filter in the calling thread; needs no_new_privs or
 * CAP_SYS_ADMIN. Inline, so that berth-exec needs no libseccomp. */
static inline int seccomp_bpf_install(const SeccompBpf *b) {
        struct sock_fprog prog = { .len = b->len, .filter = b->filter };

        if (syscall(SYS_seccomp, SECCOMP_SET_MODE_FILTER, 0, &prog) < 0)
                return -errno;
        return 0;
}

const char *seccomp_mode_to_string(SeccompMode m);
SeccompMode seccomp_mode_from_string(const char *s);
