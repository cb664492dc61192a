/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/* Links through rtnetlink (libnl-route-3), never by running ip(8): the
 * networks' bridges and the containers' veth pairs. Blocking calls: the
 * engine runs them on its network worker thread, never on the event loop.
 * Every function leaves an errmsg_set() sentence naming the link. */

#include "in-addr-util.h"

/* Bounds on what a spec may hold (hostile input: state files, D-Bus). */
#define LINK_ADDRS_MAX 16
#define LINK_GATEWAYS_MAX 2
/* The kernel's limit on a bridge's ports: containers per network. */
#define BRIDGE_PORTS_MAX 1023

typedef struct LinkAddress {
        InAddr addr;
        unsigned prefixlen;
} LinkAddress;

typedef struct BridgeSpec {
        const char *name;              /* berth0 */
        const LinkAddress *addrs;      /* the gateways, with the subnets' lengths */
        size_t n_addrs;
        uint32_t mtu;                  /* 0: the kernel's default */
        bool ipv6;                     /* no RAs accepted, no autoconf on the bridge */
        bool route_localnet;           /* 127.0.0.1 published ports are DNATed through it */
} BridgeSpec;

/* Creates the bridge if missing (or fixes it: addresses, MTU, up), so a
 * second call, a crash between calls or a bridge an admin deleted are all
 * the same. -EEXIST if the name is taken by a link that is not a bridge. */
int link_bridge_ensure(const BridgeSpec *spec);
/* 0 if it was not there; -EEXIST if the name is not a bridge (left alone). */
int link_bridge_remove(const char *name);

typedef struct VethSpec {
        const char *bridge;
        const char *host_name;         /* the host end: "vb" + 12 hex of container id + index, <= 15 */
        int netns_fd;                  /* the container's network namespace */
        const char *ifname;            /* inside: eth0, eth1, ... */
        const uint8_t *mac;            /* inside; NULL: the kernel's random one */
        const LinkAddress *addrs;      /* inside */
        size_t n_addrs;
        const InAddr *gateways;        /* default routes, one per family; empty family: none */
        size_t n_gateways;
        uint32_t mtu;
        bool ipv6;                     /* the network has IPv6; false: IPv6 off inside, as in Docker */
} VethSpec;

/* Makes the pair with the peer created in the container's namespace,
 * attaches the host end to the bridge, configures the inside end (name,
 * MAC, addresses, routes, MTU, up; IPv6 DAD off so it is usable at once)
 * and brings loopback up there. Nothing is left behind on failure.
 * Neither end has IPv6 the network does not have: the host end, a bridge
 * port, never has an address (no link-local route per container in the
 * host's table), and the inside end only on an IPv6 network, so an IPv4
 * network's bridge floods no MLD report of a new container to every
 * port. */
int link_veth_add(const VethSpec *spec);
/* Removes the host end (its peer goes with it): 0 if it was not there. */
int link_remove(const char *name);
/* The link's index: 0 if there is none of that name. Indexes are not
 * reused, so link_remove_index() of it never hits a later link of the
 * same name; 0 if it is gone. */
int link_index(const char *name);
int link_remove_index(int ifindex);
/* Brings lo up in the namespace netns_fd (--network none and bridge). */
int link_loopback_up(int netns_fd);
/* The host's routes (IPv4 and IPv6, main table, not through Berth's
 * bridges): what a new network's subnet must not overlap. */
int link_host_routes(const char *bridge_prefix /* "berth" */, InPrefix **ret, size_t *ret_n);

/* A socket made inside the network namespace netns_fd (the calling thread
 * enters it and comes back): how berthd gets the DNS sockets it serves on
 * 127.0.0.11 inside a container. */
int netns_socket(int netns_fd, int family, int type, int protocol);
/* In netns_fd, before its links are made (they take default's values):
 * net.ipv6.conf.{all,default}.accept_ra = 0, as a container on the bridge
 * could otherwise send router advertisements that route the others' IPv6
 * through it (CVE-2020-13401), and each new link would solicit routers from
 * every port of the bridge; net.ipv6.conf.default.accept_dad = 0, as the
 * link-local address is made of a MAC unique on the network: usable at
 * once, and no probe flooded to every port. */
int netns_ipv6_defaults(int netns_fd);
/* The network namespace of the process pidfd, as an fd; the calling
 * thread's namespace does not change. ioctl(PIDFD_GET_NET_NAMESPACE) since
 * Linux 6.11, else netns_open_pidfd_thread(): a helper thread enters by the
 * pidfd (5.8+) and opens its own namespace (exported for its test). */
int netns_open_pidfd(int pidfd);
int netns_open_pidfd_thread(int pidfd);

/* The sysctls forwarding needs, in berthd's (the host's) namespace. For
 * IPv6, interfaces taking router advertisements (accept_ra = 1) get
 * accept_ra = 2 first, so enabling forwarding does not stop them. enable
 * false: -EPERM with a sentence if forwarding is off. */
int ip_forward_ensure(int family, bool enable);
