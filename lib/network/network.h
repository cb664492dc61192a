/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/* The Network model and its table: user networks and the default "bridge",
 * one file each, <root>/networks/<id>.json (written, fsynced, renamed), and
 * their addresses (IPAM), one file per address handed out,
 * <root>/networks/<id>.leases/<address> holding the container's id:
 * created O_EXCL, so an address is never given twice, even across a crash;
 * unlinked when the container is removed; leases of containers that no
 * longer exist are swept at load. See docs/networking.md. */

#include <jansson.h>

#include "hashmap.h"
#include "in-addr-util.h"

#define NETWORK_DIR "networks"
#define NETWORK_DEFAULT_NAME "bridge"
#define NETWORK_DEFAULT_BRIDGE "berth0"
#define NETWORK_NAME_MAX 64

typedef struct NetworkSubnet {
        InPrefix subnet;
        InAddr gateway;                /* on the bridge; default: the subnet's first address */
        InPrefix ip_range;             /* containers' addresses come from here; family 0: the whole subnet */
} NetworkSubnet;

typedef struct Network {
        char *id;                      /* 64 hex digits */
        char *name;
        char *driver;                  /* "bridge" */
        char *bridge;                  /* the Linux bridge: berth0, berth1, ... */
        NetworkSubnet *subnets;        /* at most one per family: IPv4 first, then IPv6 */
        size_t n_subnets;
        bool internal;                 /* no route out, no masquerade, no forwarding of DNS */
        bool ipv6;
        bool dns;                      /* names of its containers answered (user networks) */
        uint32_t mtu;                  /* 0: 1500 */
        char **labels;                 /* "key=value" */
        char **options;                /* "-o key=value" as given */
        uint64_t created_usec;
        /* IPAM, not in the JSON: used addresses per subnet (address -> NetworkLease),
         * holders (container id -> NetworkHolder), and where the next search starts */
        Hashmap *used[2];
        Hashmap *holders;
        uint64_t next[2];
        void *userdata;                /* the engine's */
} Network;

typedef struct NetworkCreateSpec {
        const char *name;
        const char *driver;            /* NULL: bridge */
        const InPrefix *subnets;       /* --subnet, any order; none: taken from the pool */
        size_t n_subnets;
        const InAddr *gateways;        /* --gateway, matched to a subnet by family */
        size_t n_gateways;
        const InPrefix *ip_ranges;     /* --ip-range, matched by family and containment */
        size_t n_ip_ranges;
        bool internal, ipv6;
        char **labels, **options;      /* options understood: mtu=N, com.docker.network.driver.mtu=N */
} NetworkCreateSpec;

typedef struct NetworkPools {
        InPrefix default_v4;           /* 10.88.0.0/16: the "bridge" network */
        InPrefix user_v4;              /* 10.89.0.0/16 and up, in /24s */
        unsigned user_v4_prefixlen;    /* 24 */
        InPrefix ula_v6;               /* fdXX:XXXX:XXXX::/48 from the host's machine id; /64s of it */
} NetworkPools;

typedef struct NetworkTable {
        int root_fd;                   /* the Berth root */
        NetworkPools pools;
        Hashmap *by_id, *by_name;
} NetworkTable;

/* Default pools; the ULA /48 is derived from machine_id (32 hex digits). */
void network_pools_default(NetworkPools *p, const char *machine_id);

int network_table_new(int root_fd, const NetworkPools *pools, NetworkTable **ret);
NetworkTable *network_table_free(NetworkTable *t);
DEFINE_TRIVIAL_CLEANUP_FUNC(NetworkTable *, network_table_free);
/* Reads every network and its leases; leases whose container is_live() says
 * is gone are removed. */
int network_table_load(NetworkTable *t, bool (*is_live)(const char *container_id, void *userdata), void *userdata);
/* Exact id, exact name, unique id prefix: -ENOENT, -ENOTUNIQ. */
int network_table_find(NetworkTable *t, const char *ref, Network **ret);
/* The default "bridge" network, made on first use. */
int network_table_default(NetworkTable *t, Network **ret);
/* Validates (name, CIDRs, overlaps with every other network and with the
 * host's routes given in host_routes, gateway and range inside the subnet),
 * picks what was not given from the pools, writes the file: errmsg_set() on
 * bad input, nothing written then. */
int network_table_create(NetworkTable *t, const NetworkCreateSpec *spec, const InPrefix *host_routes,
                         size_t n_host_routes, Network **ret);
/* Removes the file; -EBUSY while it has leases. */
int network_table_remove(NetworkTable *t, Network *n);

int network_to_json(const Network *n, json_t **ret);
int network_from_json(json_t *j, Network **ret);
Network *network_free(Network *n);
DEFINE_TRIVIAL_CLEANUP_FUNC(Network *, network_free);

/* IPAM: an address of each subnet for container_id: want (family matched
 * to the subnet; NULL or family 0: any free one, from the cursor on, never
 * the network address, the gateway or the broadcast address). -EADDRINUSE
 * (taken), -EADDRNOTAVAIL (outside the subnet or range), -ENOSPC (full),
 * each with errmsg_set(). ret gets n->n_subnets addresses. Durable before
 * it returns. */
int network_lease(NetworkTable *t, Network *n, const char *container_id, const InAddr *want4,
                  const InAddr *want6, InAddr *ret);
/* Gives container_id's addresses of n back; 0 if it had none. */
int network_release(NetworkTable *t, Network *n, const char *container_id);
size_t network_n_leases(const Network *n) _pure_;

/* A MAC address for addr (02:42-style locally administered, from the IPv4
 * address as Docker does, random without one). */
void network_mac_from_addr(const InAddr *addr, uint8_t ret[6]);
int mac_parse(const char *s, uint8_t ret[6]);
const char *mac_to_string(const uint8_t mac[6], char buf[static 18]);
