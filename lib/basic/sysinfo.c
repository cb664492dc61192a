/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <sys/sysinfo.h>
#include <sys/utsname.h>

#include "sysinfo.h"
#include "util.h"

const char *oci_architecture_from_machine(const char *machine) {
        static const struct { const char *machine, *oci; } map[] = {
                { "x86_64", "amd64" },   { "i686", "386" },      { "i386", "386" },
                { "aarch64", "arm64" },  { "armv7l", "arm" },    { "armv6l", "arm" },
                { "ppc64le", "ppc64le" }, { "s390x", "s390x" },  { "riscv64", "riscv64" },
                { "mips64", "mips64" },  { "loongarch64", "loong64" },
        };

        for (size_t i = 0; i < ELEMENTSOF(map); i++)
                if (streq(map[i].machine, machine))
                        return map[i].oci;
        return NULL;
}

const char *oci_host_architecture(void) {
        struct utsname u;

        if (uname(&u) < 0)
                return "unknown";
        return oci_architecture_from_machine(u.machine) ?: "unknown";
}

static char *os_pretty_name(void) {
        _cleanup_fclose_ FILE *f = fopen("/etc/os-release", "re");
        _cleanup_free_ char *line = NULL;
        size_t n = 0;

        if (!f)
                f = fopen("/usr/lib/os-release", "re");
        while (f && getline(&line, &n, f) > 0) {
                const char *v = startswith(line, "PRETTY_NAME=");
                if (!v)
                        continue;
                size_t len = strcspn(v, "\n");
                if (len >= 2 && v[0] == '"' && v[len - 1] == '"')
                        return strndup(v + 1, len - 2);
                return strndup(v, len);
        }
        return strdup("Linux");
}

int sysinfo_read(SysInfo *ret) {
        struct utsname u;
        struct sysinfo s;

        if (uname(&u) < 0 || sysinfo(&s) < 0)
                return -errno;
        *ret = (SysInfo) {
                .kernel = strdup(u.release),
                .os = os_pretty_name(),
                .arch = oci_architecture_from_machine(u.machine) ?: "unknown",
                .variant = streq(u.machine, "aarch64") ? "v8" : NULL,
                .hostname = strdup(u.nodename),
                .ncpu = (uint32_t) sysconf(_SC_NPROCESSORS_ONLN),
                .mem_total = (uint64_t) s.totalram * s.mem_unit,
        };
        if (!ret->kernel || !ret->os || !ret->hostname) {
                sysinfo_done(ret);
                return -ENOMEM;
        }
        return 0;
}

void sysinfo_done(SysInfo *si) {
        free(si->kernel);
        free(si->os);
        free(si->hostname);
        *si = (SysInfo) {};
}
