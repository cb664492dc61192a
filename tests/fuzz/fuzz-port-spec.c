/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Published ports (lib/shared/port-spec.c): the input is one -p spec, also
 * tried as an image's ExposedPorts key. What parses must be a mapping
 * berthd can bind: ports in range, host ranges as long as the container's,
 * a string docker ps would show. */
#include "fuzz.h"
#include "port-spec.h"
#include "util.h"

static void check_mappings(const PortMapping *m, size_t n) {
        for (size_t i = 0; i < n; i++) {
                _cleanup_free_ char *s = NULL;

                FUZZ_CHECK(m[i].container_port > 0);
                FUZZ_CHECK(m[i].proto >= 0 && m[i].proto < _PORT_PROTO_MAX);
                FUZZ_CHECK(m[i].host_port_last == 0 || m[i].host_port_last > m[i].host_port);
                FUZZ_CHECK(m[i].host_port_last == 0 || m[i].host_port > 0);
                FUZZ_CHECK(!in_addr_is_set(&m[i].host_ip) || IN_SET(m[i].host_ip.family, AF_INET, AF_INET6));
                FUZZ_CHECK(i == 0 || m[i].container_port == m[i - 1].container_port + 1);
                FUZZ_CHECK(port_mapping_to_string(&m[i], &s) == 0);
                FUZZ_CHECK(strstr(s, "->") && strchr(s, '/'));
        }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
        _cleanup_free_ char *s = fuzz_strndup(data, size);
        PortMapping *m = NULL;
        size_t n = 0;

        if (port_spec_parse(s, &m, &n) == 0) {
                FUZZ_CHECK(n > 0 && n <= 65535);
                check_mappings(m, n);
        } else
                FUZZ_CHECK(n == 0 && errmsg_last());
        m = mfree(m);
        n = 0;
        if (port_spec_parse_exposed(s, &m, &n) == 0) {
                FUZZ_CHECK(!strchr(s, ':'));
                for (size_t i = 0; i < n; i++)
                        FUZZ_CHECK(m[i].host_port == 0 && !in_addr_is_set(&m[i].host_ip));
                check_mappings(m, n);
        }
        free(m);
        errmsg_clear();
        return 0;
}
