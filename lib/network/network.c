/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The Network model, its JSON file and the table of networks. */
#include <fcntl.h>
#include <sys/random.h>
#include <sys/socket.h>
#include <sys/stat.h>

#include "fileio.h"
#include "json-util.h"
#include "names.h"
#include "network-internal.h"

void network_pools_default(NetworkPools *p, const char *machine_id) {
        char head[11] = "";
        uint8_t id[5];

        *p = (NetworkPools) { .user_v4_prefixlen = 24 };
        (void) in_prefix_parse("10.88.0.0/16", AF_INET, &p->default_v4);
        (void) in_prefix_parse("10.89.0.0/16", AF_INET, &p->user_v4);
        /* RFC 4193: fd + 40 bits, here from the machine id so that it is stable.
         * Only its first 10 digits count (string_is_hex() wants the whole string). */
        if (machine_id)
                snprintf(head, sizeof head, "%s", machine_id);
        if (string_is_hex(head, 10))
                for (size_t i = 0; i < 5; i++) {
                        char h[3] = { machine_id[2 * i], machine_id[2 * i + 1], 0 };
                        id[i] = (uint8_t) strtoul(h, NULL, 16);
                }
        else
                (void) getrandom(id, sizeof id, 0);
        p->ula_v6 = (InPrefix) { .addr.family = AF_INET6, .prefixlen = 48 };
        p->ula_v6.addr.bytes[0] = 0xfd;
        memcpy(p->ula_v6.addr.bytes + 1, id, 5);
}

Network *network_free(Network *n) {
        if (!n)
                return NULL;
        network_leases_free(n);
        free(n->id);
        free(n->name);
        free(n->driver);
        free(n->bridge);
        free(n->subnets);
        strv_free(n->labels);
        strv_free(n->options);
        return mfree(n);
}

bool network_name_is_valid(const char *name) {
        return name && strlen(name) <= NETWORK_NAME_MAX && container_name_is_valid(name);
}

static bool bridge_name_is_valid(const char *b) {
        const char *n = startswith(b, "berth");

        if (!n || !*n || strlen(b) > 15)
                return false;
        for (const char *p = n; *p; p++)
                if (*p < '0' || *p > '9')
                        return false;
        return !(n[0] == '0' && n[1]);
}

static json_t *subnet_to_json(const NetworkSubnet *s) {
        char a[IN_PREFIX_STRLEN], g[IN_ADDR_STRLEN], r[IN_PREFIX_STRLEN];

        return json_pack("{s:s, s:s, s:s}", "subnet", in_prefix_to_string(&s->subnet, a),
                         "gateway", in_addr_to_string(&s->gateway, g), "ipRange", in_prefix_to_string(&s->ip_range, r));
}

int network_to_json(const Network *n, json_t **ret) {
        json_t *subnets = json_array(), *j;

        for (size_t i = 0; subnets && i < n->n_subnets; i++)
                if (json_array_append_new(subnets, subnet_to_json(&n->subnets[i])) < 0)
                        subnets = (json_decref(subnets), NULL);
        if (!subnets)
                return -ENOMEM;
        j = json_pack("{s:s, s:s, s:s, s:s, s:o, s:b, s:b, s:b, s:i, s:o, s:o, s:I}",
                      "id", n->id, "name", n->name, "driver", n->driver, "bridge", n->bridge,
                      "subnets", subnets, "internal", n->internal, "ipv6", n->ipv6, "dns", n->dns,
                      "mtu", (int) n->mtu, "labels", json_strv(n->labels), "options", json_strv(n->options),
                      "created", (json_int_t) n->created_usec);
        if (!j)
                return -ENOMEM;
        *ret = j;
        return 0;
}

static int subnet_from_json(json_t *o, NetworkSubnet *ret) {
        const char *subnet, *gateway, *range = "";
        NetworkSubnet s = {};

        if (json_unpack(o, "{s:s, s:s, s?s}", "subnet", &subnet, "gateway", &gateway, "ipRange", &range) < 0 ||
            in_prefix_parse(subnet, AF_UNSPEC, &s.subnet) < 0 ||
            in_addr_parse(gateway, s.subnet.addr.family, &s.gateway) < 0 ||
            !in_prefix_contains(&s.subnet, &s.gateway) ||
            (!isempty(range) && (in_prefix_parse(range, s.subnet.addr.family, &s.ip_range) < 0 ||
                                 !in_prefix_overlaps(&s.subnet, &s.ip_range) ||
                                 s.ip_range.prefixlen < s.subnet.prefixlen)))
                return -EBADMSG;
        /* Too small to hold a network address, a gateway and a container. */
        if (8 * in_addr_size(s.subnet.addr.family) - s.subnet.prefixlen < 2)
                return -EBADMSG;
        *ret = s;
        return 0;
}

static int strv_from_json_array(json_t *a, char ***ret) {
        json_t *v;
        size_t i;

        if (!a || json_is_null(a))
                return 0;
        if (!json_is_array(a))
                return -EBADMSG;
        json_array_foreach(a, i, v)
                if (!json_is_string(v) || strv_extend(ret, json_string_value(v)) < 0)
                        return -EBADMSG;
        return 0;
}

int network_from_json(json_t *j, Network **ret) {
        _cleanup_(network_freep) Network *n = calloc(1, sizeof *n);
        const char *id, *name, *driver, *bridge;
        json_t *subnets = NULL, *labels = NULL, *options = NULL, *v;
        int internal = 0, ipv6 = 0, dns = 0;
        json_int_t created = 0, mtu = 0;   /* json_int_t: a huge mtu must not wrap into range */
        size_t i;

        if (!n)
                return -ENOMEM;
        if (json_unpack(j, "{s:s, s:s, s:s, s:s, s:o, s?b, s?b, s?b, s?I, s?o, s?o, s?I}", "id", &id,
                        "name", &name, "driver", &driver, "bridge", &bridge, "subnets", &subnets,
                        "internal", &internal, "ipv6", &ipv6, "dns", &dns, "mtu", &mtu, "labels", &labels,
                        "options", &options, "created", &created) < 0)
                return -EBADMSG;
        if (strlen(id) != 64 || !string_is_hex(id, 64) || !network_name_is_valid(name) || !streq(driver, "bridge") ||
            !bridge_name_is_valid(bridge) || !json_is_array(subnets) || json_array_size(subnets) > 2 ||
            mtu < 0 || mtu > 65535)
                return -EBADMSG;
        n->subnets = calloc(2, sizeof *n->subnets);
        if (!n->subnets)
                return -ENOMEM;
        json_array_foreach(subnets, i, v) {
                if (subnet_from_json(v, &n->subnets[i]) < 0)
                        return -EBADMSG;
                n->n_subnets++;
        }
        /* One subnet per family, IPv4 first. */
        if (n->n_subnets == 2 && (n->subnets[0].subnet.addr.family != AF_INET ||
                                  n->subnets[1].subnet.addr.family != AF_INET6))
                return -EBADMSG;
        if (!(n->id = strdup(id)) || !(n->name = strdup(name)) || !(n->driver = strdup(driver)) ||
            !(n->bridge = strdup(bridge)))
                return -ENOMEM;
        if (strv_from_json_array(labels, &n->labels) < 0 || strv_from_json_array(options, &n->options) < 0)
                return -EBADMSG;
        n->internal = internal;
        n->ipv6 = ipv6;
        n->dns = dns;
        n->mtu = (uint32_t) mtu;
        n->created_usec = (uint64_t) created;
        *ret = TAKE_PTR(n);
        return 0;
}

/* ---- the table ---- */

int network_table_new(int root_fd, const NetworkPools *pools, NetworkTable **ret) {
        NetworkTable *t = calloc(1, sizeof *t);

        if (!t)
                return -ENOMEM;
        t->root_fd = root_fd;
        t->pools = *pools;
        t->by_id = hashmap_new();
        t->by_name = hashmap_new();
        if (!t->by_id || !t->by_name) {
                network_table_free(t);
                return -ENOMEM;
        }
        *ret = t;
        return 0;
}

NetworkTable *network_table_free(NetworkTable *t) {
        const char *k;
        void *v;
        size_t i = 0;

        if (!t)
                return NULL;
        while (t->by_id && hashmap_iterate(t->by_id, &i, &k, &v))
                network_free(v);
        hashmap_free(t->by_id);
        hashmap_free(t->by_name);
        return mfree(t);
}

static int table_add(NetworkTable *t, Network *n) {
        int r = hashmap_put(t->by_id, n->id, n);

        if (r < 0)
                return r;
        r = hashmap_put(t->by_name, n->name, n);
        if (r < 0)
                hashmap_remove(t->by_id, n->id);
        return r;
}

static int network_save(NetworkTable *t, const Network *n) {
        _cleanup_free_ char *path = strjoin(NETWORK_DIR "/", n->id, ".json"), *s = NULL;
        json_t *j = NULL;
        int r;

        if (!path)
                return -ENOMEM;
        r = network_to_json(n, &j);
        if (r < 0)
                return r;
        r = json_dump_string(j, &s);
        json_decref(j);
        if (r < 0)
                return r;
        if (mkdirat(t->root_fd, NETWORK_DIR, 0700) < 0 && errno != EEXIST)
                return -errno;
        return write_string_file_atomic_at(t->root_fd, path, s);
}

int network_table_load(NetworkTable *t, bool (*is_live)(const char *container_id, void *userdata), void *userdata) {
        _cleanup_close_ int dfd = openat(t->root_fd, NETWORK_DIR, O_RDONLY | O_DIRECTORY | O_CLOEXEC | O_NOFOLLOW);
        _cleanup_(closedirp) DIR *d = NULL;
        struct dirent *de;

        if (dfd < 0)
                return errno == ENOENT ? 0 : -errno;
        d = fdopendir(TAKE_FD(dfd));
        if (!d)
                return -errno;
        while ((de = readdir(d))) {
                _cleanup_free_ char *data = NULL, *id = NULL;
                Network *n = NULL;
                json_t *j = NULL;
                const char *dot = strrchr(de->d_name, '.');

                if (!dot || !streq(dot, ".json") || de->d_type != DT_REG)
                        continue;
                if (read_full_file_at(dirfd(d), de->d_name, 1 << 20, &data, NULL) < 0 ||
                    json_parse_object("network", data, strlen(data), &j) < 0)
                        continue;
                if (network_from_json(j, &n) >= 0 && (id = strndup(de->d_name, dot - de->d_name)) &&
                    streq(id, n->id) && !hashmap_get(t->by_name, n->name) && table_add(t, n) >= 0)
                        (void) network_leases_load(t, n, is_live, userdata);
                else
                        network_free(n);
                json_decref(j);
        }
        return 0;
}

int network_table_find(NetworkTable *t, const char *ref, Network **ret) {
        Network *found = NULL;
        const char *k;
        void *v;
        size_t i = 0, len;

        if (isempty(ref))
                return -ENOENT;
        if ((found = hashmap_get(t->by_id, ref)) || (found = hashmap_get(t->by_name, ref))) {
                *ret = found;
                return 0;
        }
        len = strlen(ref);
        if (len > 64 || !string_is_hex(ref, len))
                return -ENOENT;
        while (hashmap_iterate(t->by_id, &i, &k, &v))
                if (strncmp(k, ref, len) == 0) {
                        if (found)
                                return -ENOTUNIQ;
                        found = v;
                }
        if (!found)
                return -ENOENT;
        *ret = found;
        return 0;
}

static int new_id(char **ret) {
        uint8_t b[32];

        if (getrandom(b, sizeof b, 0) != (ssize_t) sizeof b)
                return -EIO;
        *ret = hexlify(b, sizeof b);
        return *ret ? 0 : -ENOMEM;
}

static bool bridge_used(NetworkTable *t, const char *name) {
        const char *k;
        void *v;
        size_t i = 0;

        while (hashmap_iterate(t->by_id, &i, &k, &v))
                if (streq(((Network *) v)->bridge, name))
                        return true;
        return false;
}

static int pick_bridge(NetworkTable *t, char **ret) {
        char name[16];

        for (unsigned n = 1; n < 100000; n++) {
                snprintf(name, sizeof name, "berth%u", n);
                if (!bridge_used(t, name))
                        return (*ret = strdup(name)) ? 0 : -ENOMEM;
        }
        return -ENOSPC;
}

/* A prefix some network of the table, or a host route, overlaps: its name in ret_what. */
static bool subnet_taken(NetworkTable *t, const InPrefix *p, const InPrefix *routes, size_t n_routes,
                         char *what, size_t what_size) {
        const char *k;
        void *v;
        size_t i = 0;

        while (hashmap_iterate(t->by_id, &i, &k, &v)) {
                Network *n = v;
                for (size_t s = 0; s < n->n_subnets; s++)
                        if (in_prefix_overlaps(&n->subnets[s].subnet, p)) {
                                snprintf(what, what_size, "network %s", n->name);
                                return true;
                        }
        }
        for (size_t r = 0; r < n_routes; r++)
                if (in_prefix_overlaps(&routes[r], p)) {
                        char b[IN_PREFIX_STRLEN];
                        snprintf(what, what_size, "the host's route to %s", in_prefix_to_string(&routes[r], b));
                        return true;
                }
        return false;
}

/* The first free prefix of length len in pool and after it, up to the end of the
 * family's private range (10/8 for IPv4, the /48 for IPv6). */
static int pick_subnet(NetworkTable *t, const InPrefix *pool, unsigned len, const InPrefix *limit,
                       const InPrefix *routes, size_t n_routes, InPrefix *ret) {
        InPrefix p = { .addr = pool->addr, .prefixlen = len };
        char what[128];

        for (unsigned k = 0; k < 1u << 20; k++) {
                if (!in_prefix_contains(limit, &p.addr))
                        break;
                if (!subnet_taken(t, &p, routes, n_routes, what, sizeof what)) {
                        *ret = p;
                        return 0;
                }
                if (in_prefix_next(&p, &p) < 0)
                        break;
        }
        return errmsg_set(-ENOSPC, "No free subnet is left in the address pool.");
}

static int subnet_complete(NetworkSubnet *s, const InAddr *gateway, const InPrefix *range) {
        char b[IN_PREFIX_STRLEN], g[IN_PREFIX_STRLEN];

        if (8 * in_addr_size(s->subnet.addr.family) - s->subnet.prefixlen < 2)
                return errmsg_set(-EINVAL, "Subnet %s is too small.", in_prefix_to_string(&s->subnet, b));
        if (gateway) {
                if (!in_prefix_contains(&s->subnet, gateway))
                        return errmsg_set(-EADDRNOTAVAIL, "Gateway %s is outside subnet %s.", in_addr_to_string(gateway, g),
                                          in_prefix_to_string(&s->subnet, b));
                s->gateway = *gateway;
        } else if (in_prefix_nth(&s->subnet, 1, &s->gateway) < 0)
                return -ERANGE;
        if (range) {
                if (!in_prefix_overlaps(&s->subnet, range) || range->prefixlen < s->subnet.prefixlen)
                        return errmsg_set(-EADDRNOTAVAIL, "IP range %s is outside subnet %s.",
                                          in_prefix_to_string(range, g), in_prefix_to_string(&s->subnet, b));
                s->ip_range = *range;
        }
        return 0;
}

static const InAddr *gateway_of(const NetworkCreateSpec *spec, int family) {
        for (size_t i = 0; i < spec->n_gateways; i++)
                if (spec->gateways[i].family == family)
                        return &spec->gateways[i];
        return NULL;
}

static const InPrefix *range_of(const NetworkCreateSpec *spec, int family) {
        for (size_t i = 0; i < spec->n_ip_ranges; i++)
                if (spec->ip_ranges[i].addr.family == family)
                        return &spec->ip_ranges[i];
        return NULL;
}

static int parse_mtu(char **options, uint32_t *ret) {
        STRV_FOREACH(o, options) {
                const char *v = startswith(*o, "mtu=") ?: startswith(*o, "com.docker.network.driver.mtu=");
                char *end;
                unsigned long m;

                if (!v) {
                        _cleanup_free_ char *k = strndup(*o, strcspn(*o, "="));
                        return errmsg_set(-EINVAL, "Unknown network option '%s' (known: mtu).", k ?: *o);
                }
                errno = 0;
                m = strtoul(v, &end, 10);
                if (errno || *end || end == v || m < 68 || m > 65535)
                        return errmsg_set(-EINVAL, "Invalid MTU '%s': use 68 to 65535.", v);
                *ret = (uint32_t) m;
        }
        return 0;
}

/* The subnets of a new network: given (one per family), or from the pools. */
static int network_subnets(NetworkTable *t, Network *n, const NetworkCreateSpec *spec, bool is_default,
                           const InPrefix *routes, size_t n_routes) {
        static const int families[2] = { AF_INET, AF_INET6 };
        InPrefix given[2] = {};
        int r;

        for (size_t i = 0; i < spec->n_subnets; i++) {
                int f = spec->subnets[i].addr.family == AF_INET6;
                char what[128], b[IN_PREFIX_STRLEN];

                if (in_addr_is_set(&given[f].addr))
                        return errmsg_set(-EINVAL, "Only one %s subnet per network.", f ? "IPv6" : "IPv4");
                if (subnet_taken(t, &spec->subnets[i], routes, n_routes, what, sizeof what))
                        return errmsg_set(-EADDRNOTAVAIL, "Subnet %s overlaps %s.",
                                          in_prefix_to_string(&spec->subnets[i], b), what);
                given[f] = spec->subnets[i];
        }
        n->ipv6 = spec->ipv6 || is_default || in_addr_is_set(&given[1].addr);
        for (int f = 0; f < 2; f++) {
                NetworkSubnet *s = &n->subnets[n->n_subnets];
                InPrefix ten, limit6 = t->pools.ula_v6;

                if (f == 1 && !n->ipv6)
                        break;
                (void) in_prefix_parse("10.0.0.0/8", AF_INET, &ten);
                if (in_addr_is_set(&given[f].addr))
                        s->subnet = given[f];
                else if (f == 0 && is_default)
                        s->subnet = t->pools.default_v4;
                else {
                        r = f == 0 ? pick_subnet(t, &t->pools.user_v4, t->pools.user_v4_prefixlen, &ten, routes, n_routes,
                                                 &s->subnet) :
                                     pick_subnet(t, &t->pools.ula_v6, 64, &limit6, routes, n_routes, &s->subnet);
                        if (r < 0)
                                return r;
                }
                r = subnet_complete(s, gateway_of(spec, families[f]), range_of(spec, families[f]));
                if (r < 0)
                        return r;
                n->n_subnets++;
        }
        /* A gateway or range of a family the network does not have would be dropped unseen. */
        if (!n->ipv6 && (gateway_of(spec, AF_INET6) || range_of(spec, AF_INET6)))
                return errmsg_set(-EINVAL, "An IPv6 %s needs an IPv6 network: add --ipv6 or an IPv6 --subnet.",
                                  gateway_of(spec, AF_INET6) ? "--gateway" : "--ip-range");
        return 0;
}

static int network_new(NetworkTable *t, const NetworkCreateSpec *spec, bool is_default, const InPrefix *routes,
                       size_t n_routes, Network **ret) {
        _cleanup_(network_freep) Network *n = calloc(1, sizeof *n);
        int r;

        if (!n || !(n->subnets = calloc(2, sizeof *n->subnets)))
                return -ENOMEM;
        if (spec->driver && !streq(spec->driver, "bridge"))
                return errmsg_set(-EOPNOTSUPP, "Network driver '%s' is not supported: use bridge.", spec->driver);
        r = new_id(&n->id);
        if (r < 0)
                return r;
        if (!(n->name = strdup(spec->name)) || !(n->driver = strdup("bridge")))
                return -ENOMEM;
        n->bridge = is_default ? strdup(NETWORK_DEFAULT_BRIDGE) : NULL;
        if (is_default ? !n->bridge : pick_bridge(t, &n->bridge) < 0)
                return -ENOMEM;
        r = parse_mtu(spec->options, &n->mtu);
        if (r < 0)
                return r;
        r = network_subnets(t, n, spec, is_default, routes, n_routes);
        if (r < 0)
                return r;
        n->internal = spec->internal;
        n->dns = !is_default;
        n->labels = strv_copy(spec->labels);
        n->options = strv_copy(spec->options);
        if ((spec->labels && !n->labels) || (spec->options && !n->options))
                return -ENOMEM;
        n->created_usec = now_usec(CLOCK_REALTIME);
        r = network_leases_init(n);
        if (r < 0)
                return r;
        r = network_save(t, n);
        if (r < 0)
                return errmsg_set(r, "Cannot write the network's file: %s", strerror(-r));
        r = table_add(t, n);
        if (r < 0)
                return r;
        *ret = TAKE_PTR(n);
        return 0;
}

int network_table_default(NetworkTable *t, Network **ret) {
        NetworkCreateSpec spec = { .name = NETWORK_DEFAULT_NAME };
        Network *n = hashmap_get(t->by_name, NETWORK_DEFAULT_NAME);

        if (n) {
                *ret = n;
                return 0;
        }
        return network_new(t, &spec, true, NULL, 0, ret);
}

int network_table_create(NetworkTable *t, const NetworkCreateSpec *spec, const InPrefix *host_routes,
                         size_t n_host_routes, Network **ret) {
        if (!network_name_is_valid(spec->name))
                return errmsg_set(-EINVAL, "Invalid network name '%s': use [a-zA-Z0-9][a-zA-Z0-9_.-]*, at most %d characters.",
                                  strempty(spec->name), NETWORK_NAME_MAX);
        if (IN_SET_STR(spec->name, "bridge", "none", "host", "default"))
                return errmsg_set(-EEXIST, "The network name '%s' is reserved.", spec->name);
        if (hashmap_get(t->by_name, spec->name))
                return errmsg_set(-EEXIST, "A network named %s exists already.", spec->name);
        return network_new(t, spec, false, host_routes, n_host_routes, ret);
}

int network_table_remove(NetworkTable *t, Network *n) {
        _cleanup_free_ char *path = strjoin(NETWORK_DIR "/", n->id, ".json");
        int r;

        if (network_n_leases(n) > 0)
                return errmsg_set(-EBUSY, "Network %s has containers: disconnect or remove them first.", n->name);
        if (!path)
                return -ENOMEM;
        r = network_leases_remove_dir(t, n);
        if (r < 0)
                return r;
        if (unlinkat(t->root_fd, path, 0) < 0 && errno != ENOENT)
                return errmsg_set(-errno, "Cannot remove %s: %m", path);
        (void) fsync_path_at(t->root_fd, NETWORK_DIR);
        hashmap_remove(t->by_id, n->id);
        hashmap_remove(t->by_name, n->name);
        return 0;
}
