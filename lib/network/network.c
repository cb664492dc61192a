/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "network.h"

/* Placeholders until the module is written: everything fails. */
void network_pools_default(NetworkPools *p, const char *machine_id) { *p = (NetworkPools) {}; }
int network_table_new(int root_fd, const NetworkPools *pools, NetworkTable **ret) {
        NetworkTable *t = calloc(1, sizeof *t);
        if (!t)
                return -ENOMEM;
        t->root_fd = root_fd;
        t->pools = *pools;
        t->by_id = hashmap_new();
        t->by_name = hashmap_new();
        *ret = t;
        return 0;
}
NetworkTable *network_table_free(NetworkTable *t) {
        if (t) {
                hashmap_free(t->by_id);
                hashmap_free(t->by_name);
                free(t);
        }
        return NULL;
}
int network_table_load(NetworkTable *t, bool (*is_live)(const char *, void *), void *userdata) { return 0; }
int network_table_find(NetworkTable *t, const char *ref, Network **ret) { return -ENOENT; }
int network_table_default(NetworkTable *t, Network **ret) { return -EOPNOTSUPP; }
int network_table_create(NetworkTable *t, const NetworkCreateSpec *spec, const InPrefix *host_routes,
                         size_t n_host_routes, Network **ret) { return -EOPNOTSUPP; }
int network_table_remove(NetworkTable *t, Network *n) { return -EOPNOTSUPP; }
int network_to_json(const Network *n, json_t **ret) { return -EOPNOTSUPP; }
int network_from_json(json_t *j, Network **ret) { return -EOPNOTSUPP; }
Network *network_free(Network *n) { return NULL; }
void network_mac_from_addr(const InAddr *addr, uint8_t ret[6]) { memset(ret, 0, 6); }
int mac_parse(const char *s, uint8_t ret[6]) { return -EINVAL; }
const char *mac_to_string(const uint8_t mac[6], char buf[static 18]) { buf[0] = 0; return buf; }
