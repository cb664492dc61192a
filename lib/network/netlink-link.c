/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Bridges and veth pairs through rtnetlink with libnl-route-3. */
#include <fcntl.h>
#include <linux/if.h>
#include <linux/if_addr.h>
#include <netlink/netlink.h>
#include <netlink/route/addr.h>
#include <netlink/route/link.h>
#include <netlink/route/link/bridge.h>
#include <netlink/route/link/veth.h>
#include <netlink/route/route.h>
#include <pthread.h>
#include <sched.h>
#include <sys/socket.h>

#include "fileio.h"
#include "netlink-link.h"

static int nl_errno(int nlerr) {
        switch (abs(nlerr)) {
        case 0: return 0;
        case NLE_EXIST: return -EEXIST;
        case NLE_OBJ_NOTFOUND: case NLE_NODEV: return -ENODEV;
        case NLE_PERM: return -EPERM;
        case NLE_BUSY: return -EBUSY;
        case NLE_NOMEM: return -ENOMEM;
        case NLE_INVAL: return -EINVAL;
        case NLE_RANGE: return -ERANGE;
        case NLE_NOADDR: return -EADDRNOTAVAIL;
        case NLE_OPNOTSUPP: return -EOPNOTSUPP;
        default: return -EIO;
        }
}

static void nl_socket_freep(struct nl_sock **s) {
        if (*s)
                nl_socket_free(*s);
}

static void rtnl_link_putp(struct rtnl_link **l) {
        if (*l)
                rtnl_link_put(*l);
}

static void nl_addr_putp(struct nl_addr **a) {
        if (*a)
                nl_addr_put(*a);
}

static int route_socket(struct nl_sock **ret) {
        struct nl_sock *s = nl_socket_alloc();
        int r;

        if (!s)
                return -ENOMEM;
        r = nl_connect(s, NETLINK_ROUTE);
        if (r < 0) {
                nl_socket_free(s);
                return nl_errno(r);
        }
        *ret = s;
        return 0;
}

/* The calling thread in netns_fd for the call of fn, then back. */
static int in_netns(int netns_fd, int (*fn)(void *), void *userdata) {
        _cleanup_close_ int self = open("/proc/thread-self/ns/net", O_RDONLY | O_CLOEXEC);
        int r;

        if (self < 0)
                return -errno;
        if (setns(netns_fd, CLONE_NEWNET) < 0)
                return -errno;
        r = fn(userdata);
        if (setns(self, CLONE_NEWNET) < 0)
                abort();   /* a thread of berthd left in a container's namespace */
        return r;
}

static int connect_route_socket(void *userdata) {
        return route_socket(userdata);
}

typedef struct SocketArgs {
        int family, type, protocol;
} SocketArgs;

static int make_socket(void *userdata) {
        SocketArgs *a = userdata;
        int fd = socket(a->family, a->type | SOCK_CLOEXEC, a->protocol);

        return fd < 0 ? -errno : fd;
}

int netns_socket(int netns_fd, int family, int type, int protocol) {
        SocketArgs a = { family, type, protocol };

        return in_netns(netns_fd, make_socket, &a);
}

typedef struct PidfdNetns {
        int pidfd;
        int r;
} PidfdNetns;

static void *pidfd_netns_thread(void *userdata) {
        PidfdNetns *p = userdata;

        /* This thread ends right after: its namespace need not come back. */
        if (setns(p->pidfd, CLONE_NEWNET) < 0)
                p->r = -errno;
        else {
                p->r = open("/proc/thread-self/ns/net", O_RDONLY | O_CLOEXEC);
                if (p->r < 0)
                        p->r = -errno;
        }
        return NULL;
}

int netns_open_pidfd(int pidfd) {
        PidfdNetns p = { .pidfd = pidfd, .r = -EIO };
        pthread_t t;
        int r;

        r = pthread_create(&t, NULL, pidfd_netns_thread, &p);
        if (r != 0)
                return -r;
        (void) pthread_join(t, NULL);
        return p.r;
}

static int sysctl_write(const char *proto, const char *ifname, const char *key, const char *value) {
        char path[256];

        snprintf(path, sizeof path, "/proc/sys/net/%s/conf/%s/%s", proto, ifname, key);
        return write_string_file_at(AT_FDCWD, path, value);
}

static int link_get(struct nl_sock *s, const char *name, struct rtnl_link **ret) {
        int r = rtnl_link_get_kernel(s, 0, name, ret);

        return r < 0 ? nl_errno(r) : 0;
}

static int link_set_up(struct nl_sock *s, struct rtnl_link *orig, uint32_t mtu, const uint8_t *mac,
                       const char *new_name) {
        _cleanup_(rtnl_link_putp) struct rtnl_link *change = rtnl_link_alloc();
        _cleanup_(nl_addr_putp) struct nl_addr *a = NULL;
        int r;

        if (!change)
                return -ENOMEM;
        rtnl_link_set_flags(change, IFF_UP);
        if (mtu > 0)
                rtnl_link_set_mtu(change, mtu);
        if (new_name)
                rtnl_link_set_name(change, new_name);
        if (mac) {
                a = nl_addr_build(AF_LLC, mac, 6);
                if (!a)
                        return -ENOMEM;
                rtnl_link_set_addr(change, a);
        }
        r = rtnl_link_change(s, orig, change, 0);
        return r < 0 ? nl_errno(r) : 0;
}

static int addr_add(struct nl_sock *s, int ifindex, const LinkAddress *la) {
        _cleanup_(nl_addr_putp) struct nl_addr *local = nl_addr_build(la->addr.family, la->addr.bytes,
                                                                       in_addr_size(la->addr.family));
        struct rtnl_addr *a = rtnl_addr_alloc();
        int r;

        if (!local || !a) {
                if (a)
                        rtnl_addr_put(a);
                return -ENOMEM;
        }
        nl_addr_set_prefixlen(local, (int) la->prefixlen);
        rtnl_addr_set_ifindex(a, ifindex);
        rtnl_addr_set_family(a, la->addr.family);
        rtnl_addr_set_local(a, local);
        rtnl_addr_set_prefixlen(a, (int) la->prefixlen);
        if (la->addr.family == AF_INET6)
                rtnl_addr_set_flags(a, IFA_F_NODAD);
        r = rtnl_addr_add(s, a, 0);
        rtnl_addr_put(a);
        return r < 0 ? nl_errno(r) : 0;
}

static int route_add_default(struct nl_sock *s, int ifindex, const InAddr *gw) {
        static const uint8_t zero[16];
        _cleanup_(nl_addr_putp) struct nl_addr *dst = nl_addr_build(gw->family, zero, in_addr_size(gw->family));
        _cleanup_(nl_addr_putp) struct nl_addr *via = nl_addr_build(gw->family, gw->bytes, in_addr_size(gw->family));
        struct rtnl_route *rt = rtnl_route_alloc();
        struct rtnl_nexthop *nh = rtnl_route_nh_alloc();
        int r;

        if (!dst || !via || !rt || !nh) {
                if (rt)
                        rtnl_route_put(rt);
                if (nh)
                        rtnl_route_nh_free(nh);
                return -ENOMEM;
        }
        nl_addr_set_prefixlen(dst, 0);
        rtnl_route_set_family(rt, (uint8_t) gw->family);
        rtnl_route_set_dst(rt, dst);
        rtnl_route_set_table(rt, RT_TABLE_MAIN);
        rtnl_route_set_protocol(rt, RTPROT_STATIC);
        rtnl_route_nh_set_ifindex(nh, ifindex);
        rtnl_route_nh_set_gateway(nh, via);
        rtnl_route_add_nexthop(rt, nh);
        r = rtnl_route_add(s, rt, NLM_F_CREATE);
        rtnl_route_put(rt);
        return r < 0 ? nl_errno(r) : 0;
}

int link_bridge_ensure(const BridgeSpec *spec) {
        _cleanup_(nl_socket_freep) struct nl_sock *s = NULL;
        _cleanup_(rtnl_link_putp) struct rtnl_link *l = NULL;
        int r;

        r = route_socket(&s);
        if (r < 0)
                return errmsg_set(r, "Cannot open a netlink socket: %s", strerror(-r));
        r = link_get(s, spec->name, &l);
        if (r == -ENODEV) {
                r = nl_errno(rtnl_link_bridge_add(s, spec->name));
                if (r < 0 && r != -EEXIST)
                        return errmsg_set(r, "Cannot create the bridge %s: %s", spec->name, strerror(-r));
                r = link_get(s, spec->name, &l);
        }
        if (r < 0)
                return errmsg_set(r, "Cannot find the bridge %s: %s", spec->name, strerror(-r));
        if (!rtnl_link_is_bridge(l))
                return errmsg_set(-EEXIST, "The interface %s exists and is not a bridge.", spec->name);
        /* Before its addresses: no RA, no autoconfiguration on the bridge. */
        if (spec->ipv6) {
                (void) sysctl_write("ipv6", spec->name, "accept_ra", "0");
                (void) sysctl_write("ipv6", spec->name, "autoconf", "0");
        }
        if (spec->route_localnet)
                (void) sysctl_write("ipv4", spec->name, "route_localnet", "1");
        for (size_t i = 0; i < spec->n_addrs; i++) {
                r = addr_add(s, rtnl_link_get_ifindex(l), &spec->addrs[i]);
                if (r < 0 && r != -EEXIST) {
                        char a[IN_ADDR_STRLEN];
                        return errmsg_set(r, "Cannot add address %s/%u to the bridge %s: %s",
                                          in_addr_to_string(&spec->addrs[i].addr, a), spec->addrs[i].prefixlen,
                                          spec->name, strerror(-r));
                }
        }
        if ((rtnl_link_get_flags(l) & IFF_UP) && (spec->mtu == 0 || rtnl_link_get_mtu(l) == spec->mtu))
                return 0;
        r = link_set_up(s, l, spec->mtu, NULL, NULL);
        if (r < 0)
                return errmsg_set(r, "Cannot bring the bridge %s up: %s", spec->name, strerror(-r));
        return 0;
}

int link_remove(const char *name) {
        _cleanup_(nl_socket_freep) struct nl_sock *s = NULL;
        _cleanup_(rtnl_link_putp) struct rtnl_link *l = NULL;
        int r;

        r = route_socket(&s);
        if (r < 0)
                return r;
        r = link_get(s, name, &l);
        if (r == -ENODEV)
                return 0;
        if (r < 0)
                return r;
        r = nl_errno(rtnl_link_delete(s, l));
        return r == -ENODEV ? 0 : r;
}

int link_bridge_remove(const char *name) {
        return link_remove(name);
}

static int loopback_up(struct nl_sock *s) {
        _cleanup_(rtnl_link_putp) struct rtnl_link *lo = NULL;
        int r = link_get(s, "lo", &lo);

        if (r < 0)
                return r;
        if (rtnl_link_get_flags(lo) & IFF_UP)
                return 0;
        return link_set_up(s, lo, 0, NULL, NULL);
}

int link_loopback_up(int netns_fd) {
        _cleanup_(nl_socket_freep) struct nl_sock *s = NULL;
        int r = in_netns(netns_fd, connect_route_socket, &s);

        return r < 0 ? r : loopback_up(s);
}

/* Inside the container: the peer renamed, addressed, routed and up; lo up. */
static int veth_configure_inside(struct nl_sock *s, const VethSpec *spec, const char *tmp_name) {
        static const uint8_t zero[6];
        _cleanup_(rtnl_link_putp) struct rtnl_link *peer = NULL;
        char a[IN_ADDR_STRLEN];
        int ifindex, r;

        r = link_get(s, tmp_name, &peer);
        if (r < 0)
                return errmsg_set(r, "Cannot find the container's end of the veth pair: %s", strerror(-r));
        ifindex = rtnl_link_get_ifindex(peer);
        r = link_set_up(s, peer, spec->mtu, spec->mac && memcmp(spec->mac, zero, 6) != 0 ? spec->mac : NULL,
                        spec->ifname);
        if (r < 0)
                return errmsg_set(r, "Cannot set up %s of the container: %s", spec->ifname, strerror(-r));
        for (size_t i = 0; i < spec->n_addrs; i++) {
                r = addr_add(s, ifindex, &spec->addrs[i]);
                if (r < 0)
                        return errmsg_set(r, "Cannot add address %s/%u to %s of the container: %s",
                                          in_addr_to_string(&spec->addrs[i].addr, a), spec->addrs[i].prefixlen,
                                          spec->ifname, strerror(-r));
        }
        for (size_t i = 0; i < spec->n_gateways; i++) {
                if (!in_addr_is_set(&spec->gateways[i]))
                        continue;
                r = route_add_default(s, ifindex, &spec->gateways[i]);
                if (r < 0)
                        return errmsg_set(r, "Cannot add the default route via %s in the container: %s",
                                          in_addr_to_string(&spec->gateways[i], a), strerror(-r));
        }
        r = loopback_up(s);
        if (r < 0)
                return errmsg_set(r, "Cannot bring lo up in the container: %s", strerror(-r));
        return 0;
}

static int veth_create(struct nl_sock *s, const VethSpec *spec, int master, const char *tmp_name) {
        _cleanup_(rtnl_link_putp) struct rtnl_link *l = rtnl_link_veth_alloc();
        struct rtnl_link *peer;
        int r;

        if (!l)
                return -ENOMEM;
        peer = rtnl_link_veth_get_peer(l);
        rtnl_link_set_name(l, spec->host_name);
        rtnl_link_set_master(l, master);
        rtnl_link_set_flags(l, IFF_UP);
        if (spec->mtu > 0) {
                rtnl_link_set_mtu(l, spec->mtu);
                rtnl_link_set_mtu(peer, spec->mtu);
        }
        /* Made in the container's namespace directly, under a name that
         * cannot clash with its own links until it is renamed. */
        rtnl_link_set_name(peer, tmp_name);
        rtnl_link_set_ns_fd(peer, spec->netns_fd);
        rtnl_link_put(peer);
        r = rtnl_link_add(s, l, NLM_F_CREATE | NLM_F_EXCL);
        return r < 0 ? nl_errno(r) : 0;
}

int link_veth_add(const VethSpec *spec) {
        _cleanup_(nl_socket_freep) struct nl_sock *s = NULL, *inside = NULL;
        _cleanup_(rtnl_link_putp) struct rtnl_link *br = NULL;
        char tmp_name[IFNAMSIZ];
        int r;

        snprintf(tmp_name, sizeof tmp_name, "bt%s", spec->host_name + 2);
        r = route_socket(&s);
        if (r < 0)
                return errmsg_set(r, "Cannot open a netlink socket: %s", strerror(-r));
        r = link_get(s, spec->bridge, &br);
        if (r < 0)
                return errmsg_set(r, "Cannot find the bridge %s: %s", spec->bridge, strerror(-r));
        r = veth_create(s, spec, rtnl_link_get_ifindex(br), tmp_name);
        if (r == -EEXIST) {   /* a leftover of a crash: same container, same network */
                (void) link_remove(spec->host_name);
                r = veth_create(s, spec, rtnl_link_get_ifindex(br), tmp_name);
        }
        if (r < 0)
                return errmsg_set(r, "Cannot create the veth pair %s: %s", spec->host_name, strerror(-r));
        r = in_netns(spec->netns_fd, connect_route_socket, &inside);
        if (r >= 0)
                r = veth_configure_inside(inside, spec, tmp_name);
        else
                errmsg_set(r, "Cannot enter the container's network namespace: %s", strerror(-r));
        if (r < 0)
                (void) link_remove(spec->host_name);
        return r;
}

/* /proc/net/route: "Iface Destination Gateway Flags RefCnt Use Metric Mask ...", hex, host order. */
static int routes_v4(const char *prefix, InPrefix **l, size_t *n) {
        _cleanup_fclose_ FILE *f = fopen("/proc/net/route", "re");
        char line[512], ifname[IFNAMSIZ + 1];
        unsigned dst, gw, flags, mask;

        if (!f)
                return -errno;
        while (fgets(line, sizeof line, f)) {
                InPrefix p = { .addr.family = AF_INET };
                InPrefix *m;

                if (sscanf(line, "%16s %x %x %x %*d %*d %*d %x", ifname, &dst, &gw, &flags, &mask) != 5 ||
                    mask == 0 || startswith(ifname, prefix))
                        continue;
                memcpy(p.addr.bytes, &dst, 4);
                p.prefixlen = (unsigned) __builtin_popcount(mask);
                m = reallocarray(*l, *n + 1, sizeof *m);
                if (!m)
                        return -ENOMEM;
                *l = m;
                m[(*n)++] = p;
        }
        return 0;
}

/* /proc/net/ipv6_route: "dst dstlen src srclen next metric ref use flags iface". */
static int routes_v6(const char *prefix, InPrefix **l, size_t *n) {
        _cleanup_fclose_ FILE *f = fopen("/proc/net/ipv6_route", "re");
        char line[512], dst[33], ifname[IFNAMSIZ + 1];
        unsigned len;

        if (!f)
                return errno == ENOENT ? 0 : -errno;
        while (fgets(line, sizeof line, f)) {
                InPrefix p = { .addr.family = AF_INET6 };
                InPrefix *m;

                if (sscanf(line, "%32s %x %*s %*s %*s %*s %*s %*s %*s %16s", dst, &len, ifname) != 3 || len == 0 ||
                    len > 128 || startswith(ifname, prefix) || streq(ifname, "lo"))
                        continue;
                for (size_t i = 0; i < 16; i++) {
                        char h[3] = { dst[2 * i], dst[2 * i + 1], 0 };
                        p.addr.bytes[i] = (uint8_t) strtoul(h, NULL, 16);
                }
                p.prefixlen = len;
                /* Local and multicast routes are no networks of the host's. */
                if (p.addr.bytes[0] == 0xff || (p.addr.bytes[0] == 0xfe && (p.addr.bytes[1] & 0xc0) == 0x80) ||
                    len == 128)
                        continue;
                m = reallocarray(*l, *n + 1, sizeof *m);
                if (!m)
                        return -ENOMEM;
                *l = m;
                m[(*n)++] = p;
        }
        return 0;
}

int link_host_routes(const char *bridge_prefix, InPrefix **ret, size_t *ret_n) {
        _cleanup_free_ InPrefix *l = NULL;
        size_t n = 0;
        int r;

        r = routes_v4(bridge_prefix, &l, &n);
        if (r >= 0)
                r = routes_v6(bridge_prefix, &l, &n);
        if (r < 0)
                return r;
        *ret = TAKE_PTR(l);
        *ret_n = n;
        return 0;
}

static int read_sysctl_int(const char *path, int *ret) {
        _cleanup_free_ char *s = NULL;
        int r = read_full_file_at(AT_FDCWD, path, 64, &s, NULL);

        if (r < 0)
                return r;
        *ret = atoi(s);
        return 0;
}

/* accept_ra = 1 stops being honoured once forwarding is on; 2 keeps it. */
static void keep_router_advertisements(void) {
        _cleanup_(closedirp) DIR *d = opendir("/proc/sys/net/ipv6/conf");
        struct dirent *de;

        while (d && (de = readdir(d))) {
                char path[512];
                int v;

                if (de->d_name[0] == '.' || IN_SET_STR(de->d_name, "all", "default", "lo"))
                        continue;
                snprintf(path, sizeof path, "/proc/sys/net/ipv6/conf/%s/accept_ra", de->d_name);
                if (read_sysctl_int(path, &v) >= 0 && v == 1)
                        (void) write_string_file_at(AT_FDCWD, path, "2");
        }
}

int ip_forward_ensure(int family, bool enable) {
        const char *path = family == AF_INET6 ? "/proc/sys/net/ipv6/conf/all/forwarding" :
                                                "/proc/sys/net/ipv4/ip_forward";
        int v, r;

        r = read_sysctl_int(path, &v);
        if (r < 0)
                return errmsg_set(r, "Cannot read %s: %s", path, strerror(-r));
        if (v != 0)
                return 0;
        if (!enable)
                return errmsg_set(-EPERM, "IP forwarding is off (%s) and berthd.conf says IPForward=no: "
                                  "turn it on, or allow berthd to.", path);
        if (family == AF_INET6)
                keep_router_advertisements();
        r = write_string_file_at(AT_FDCWD, path, "1");
        if (r < 0)
                return errmsg_set(r, "Cannot turn on IP forwarding (%s): %s", path, strerror(-r));
        return 0;
}
