/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* registries.d (lib/registry/registry-config.c): the input is one
 * NAME.conf in a directory of its own. */
#include <fcntl.h>
#include <sys/stat.h>

#include "fileio.h"
#include "fuzz.h"
#include "registry-config.h"
#include "util.h"

static void check_endpoints(const RegistryConfig *c, const char *domain) {
        RegistryEndpoint *e = NULL;
        size_t n = 0;
        int r;

        r = registry_config_endpoints(c, domain, true, &e, &n);
        if (r < 0) {
                FUZZ_CHECK(r == -EACCES);
                return;
        }
        FUZZ_CHECK(n >= 1);
        /* The registry itself comes last, after its mirrors. */
        FUZZ_CHECK(!e[n - 1].mirror);
        for (size_t i = 0; i + 1 < n; i++)
                FUZZ_CHECK(e[i].mirror && e[i].host && *e[i].host);
        registry_endpoints_free(e, n);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
        _cleanup_free_ char *dir = NULL, *file = NULL;
        RegistryConfig *c = NULL;
        int r;

        dir = strjoin(fuzz_tmpdir(), "/fuzz-registries-conf-XXXXXX");
        FUZZ_CHECK(dir && mkdtemp(dir));
        file = strjoin(dir, "/10-fuzz.conf");
        FUZZ_CHECK(file);
        FUZZ_CHECK(write_file_atomic_at(AT_FDCWD, file, data, size, 0644) >= 0);

        r = registry_config_load(dir, dir, &c);
        if (r < 0) {
                /* Every bad line is named: "FILE:LINE: ...". */
                FUZZ_CHECK(r == -EINVAL);
                FUZZ_CHECK(errmsg_last() && strstr(errmsg_last(), "10-fuzz.conf:"));
        } else {
                check_endpoints(c, "docker.io");
                check_endpoints(c, "example.com:5000");
                (void) registry_config_alias(c, "debian");
                registry_config_free(c);
        }
        FUZZ_CHECK(rm_rf_at(AT_FDCWD, dir) >= 0);
        return 0;
}
