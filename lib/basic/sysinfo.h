/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include <stdint.h>

typedef struct SysInfo {
        char *kernel;
        char *os;
        const char *arch;       /* OCI name: amd64, arm64, ... */
        const char *variant;    /* OCI variant (v8 for arm64), or NULL */
        char *hostname;
        uint32_t ncpu;
        uint64_t mem_total;
} SysInfo;

int sysinfo_read(SysInfo *ret);
void sysinfo_done(SysInfo *si);

/* The OCI (GOARCH) name of the machine this runs on. */
const char *oci_host_architecture(void);
/* Maps uname's machine (x86_64, aarch64, ...) to the OCI name, NULL if unknown. */
const char *oci_architecture_from_machine(const char *machine);
