/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Network files (lib/network/network.c): the input is one
 * <root>/networks/<id>.json. A network that loads must print to JSON that
 * loads again and prints the same (berthd rewrites the file it read), and
 * hold what the IPAM relies on: one subnet per family, IPv4 first, each
 * gateway and range inside its subnet. */
#include <sys/socket.h>

#include "fuzz.h"
#include "json-util.h"
#include "network.h"
#include "util.h"

static void check_network(const Network *n) {
        FUZZ_CHECK(n->id && strlen(n->id) == 64 && n->name && n->bridge && streq(n->driver, "bridge"));
        FUZZ_CHECK(n->n_subnets <= 2 && n->mtu <= 65535);
        for (size_t i = 0; i < n->n_subnets; i++) {
                const NetworkSubnet *s = &n->subnets[i];

                FUZZ_CHECK(in_prefix_contains(&s->subnet, &s->gateway));
                FUZZ_CHECK(!in_addr_is_set(&s->ip_range.addr) ||
                           (in_prefix_contains(&s->subnet, &s->ip_range.addr) &&
                            s->ip_range.prefixlen >= s->subnet.prefixlen));
                FUZZ_CHECK(in_prefix_size(&s->subnet) >= 4);
        }
        if (n->n_subnets == 2)
                FUZZ_CHECK(n->subnets[0].subnet.addr.family == AF_INET &&
                           n->subnets[1].subnet.addr.family == AF_INET6);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
        _cleanup_(network_freep) Network *n = NULL, *again = NULL;
        _cleanup_free_ char *s = NULL, *s2 = NULL;
        json_t *j = NULL, *out = NULL, *out2 = NULL;

        if (json_parse_object("network", (const char *) data, size, &j) < 0)
                return 0;
        if (network_from_json(j, &n) == 0) {
                check_network(n);
                FUZZ_CHECK(network_to_json(n, &out) == 0);
                FUZZ_CHECK(json_dump_string(out, &s) == 0);
                FUZZ_CHECK(network_from_json(out, &again) == 0);
                check_network(again);
                FUZZ_CHECK(network_to_json(again, &out2) == 0);
                FUZZ_CHECK(json_dump_string(out2, &s2) == 0);
                FUZZ_CHECK(json_equal(out, out2) && streq(s, s2));
        } else
                FUZZ_CHECK(!n);
        json_decref(out);
        json_decref(out2);
        json_decref(j);
        return 0;
}
