/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Bridges and veth pairs through rtnetlink with libnl-route-3, never ip(8).
 *
 * Every call opens its own netlink socket, so any thread may call and no
 * libnl object is shared. Links are asked for by name, one at a time, never
 * by dumping all of them: a container start costs a handful of round trips
 * however many containers run. The kernel's own errno and the reason it
 * gives (extended ack) are kept from its error message, because libnl's
 * codes fold ENETUNREACH and friends into "Unspecific failure". */
#include <fcntl.h>
#include <net/if.h>
#include <pthread.h>
#include <sched.h>
#include <signal.h>
#include <sys/ioctl.h>
#include <sys/random.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <linux/if_addr.h>
#include <linux/netlink.h>
#include <linux/nsfs.h>
#include <linux/rtnetlink.h>
#include <netlink/netlink.h>
#include <netlink/msg.h>
#include <netlink/route/addr.h>
#include <netlink/route/link.h>
#include <netlink/route/link/bridge.h>
#include <netlink/route/link/veth.h>
#include <netlink/route/route.h>

#include "netlink-link.h"

#ifndef PIDFD_GET_NET_NAMESPACE
#define PIDFD_GET_NET_NAMESPACE _IO(0xFF, 4)       /* Linux 6.11, linux/pidfd.h */
#endif

/* The kernel gives the loopback device this index in every namespace. */
#define LOOPBACK_IFINDEX 1
/* A dump interrupted by a concurrent change is asked for again this often. */
#define DUMP_ATTEMPTS 5

DEFINE_TRIVIAL_CLEANUP_FUNC(struct rtnl_link *, rtnl_link_put);
DEFINE_TRIVIAL_CLEANUP_FUNC(struct rtnl_addr *, rtnl_addr_put);
DEFINE_TRIVIAL_CLEANUP_FUNC(struct rtnl_route *, rtnl_route_put);
DEFINE_TRIVIAL_CLEANUP_FUNC(struct nl_addr *, nl_addr_put);

/* Names go into /proc/sys paths too: what dev_valid_name() accepts. */
static bool ifname_valid(const char *s) {
        if (isempty(s) || strlen(s) >= IFNAMSIZ || streq(s, ".") || streq(s, ".."))
                return false;
        for (; *s; s++)
                if (*s == '/' || *s == ':' || *s <= ' ' || *s == 0x7f)
                        return false;
        return true;
}

static const char *addr_string(const LinkAddress *a, char buf[static IN_PREFIX_STRLEN]) {
        char s[IN_ADDR_STRLEN];

        snprintf(buf, IN_PREFIX_STRLEN, "%s/%u", in_addr_to_string(&a->addr, s), a->prefixlen);
        return buf;
}

static bool link_address_valid(const LinkAddress *a) {
        size_t size = in_addr_size(a->addr.family);

        return size > 0 && a->prefixlen <= size * 8;
}

/* ---- A netlink socket and the kernel's answer ---- */

typedef struct Rt {
        struct nl_sock *sk;
        int error;                     /* the errno of the kernel's last error message, negative; 0 */
        char extack[160];              /* and the reason it gave */
        char why[256];                 /* both, for a sentence */
} Rt;

static int nle_errno(int nle) {
        switch (abs(nle)) {
        case 0: return 0;
        case NLE_BAD_SOCK: return -EBADF;
        case NLE_EXIST: return -EEXIST;
        case NLE_NOADDR: return -EADDRNOTAVAIL;
        case NLE_OBJ_NOTFOUND: return -ENOENT;
        case NLE_NODEV: return -ENODEV;
        case NLE_INTR: return -EINTR;
        case NLE_AGAIN: case NLE_DUMP_INTR: return -EAGAIN;
        case NLE_INVAL: return -EINVAL;
        case NLE_NOACCESS: return -EACCES;
        case NLE_PERM: return -EPERM;
        case NLE_NOMEM: return -ENOMEM;
        case NLE_AF_NOSUPPORT: return -EAFNOSUPPORT;
        case NLE_PROTO_MISMATCH: return -EPROTONOSUPPORT;
        case NLE_OPNOTSUPP: return -EOPNOTSUPP;
        case NLE_BUSY: return -EBUSY;
        case NLE_RANGE: return -ERANGE;
        case NLE_MSGSIZE: return -EMSGSIZE;
        case NLE_MSG_TRUNC: case NLE_MSG_TOOSHORT: return -EBADMSG;
        default: return -EIO;
        }
}

/* Called for each error message: its errno and, when the kernel attached
 * one (NETLINK_EXT_ACK), its reason ("Nexthop has invalid gateway"). */
static int rt_error_cb(struct sockaddr_nl *who, struct nlmsgerr *e, void *userdata) {
        const struct nlmsghdr *h = (const struct nlmsghdr *) ((const uint8_t *) e - NLMSG_HDRLEN);
        const struct nlattr *msg;
        Rt *nl = userdata;
        size_t off;

        nl->error = e->error < 0 ? e->error : -EIO;
        nl->extack[0] = 0;
        if (!(h->nlmsg_flags & NLM_F_ACK_TLVS) || h->nlmsg_len < NLMSG_HDRLEN + sizeof *e)
                return NL_STOP;
        off = sizeof *e;
        if (!(h->nlmsg_flags & NLM_F_CAPPED)) {
                if (e->msg.nlmsg_len < NLMSG_HDRLEN)
                        return NL_STOP;
                off += e->msg.nlmsg_len - NLMSG_HDRLEN;
        }
        off = NLMSG_ALIGN(off);
        if (off > h->nlmsg_len - NLMSG_HDRLEN)
                return NL_STOP;
        msg = nla_find((const struct nlattr *) ((const uint8_t *) e + off),
                       (int) (h->nlmsg_len - NLMSG_HDRLEN - off), NLMSGERR_ATTR_MSG);
        if (msg && nla_len(msg) > 0)
                snprintf(nl->extack, sizeof nl->extack, "%.*s", (int) strnlen(nla_data(msg), (size_t) nla_len(msg)),
                         (const char *) nla_data(msg));
        return NL_STOP;
}

static void rt_reset(Rt *nl) {
        nl->error = 0;
        nl->extack[0] = 0;
}

/* A libnl result as an errno: the kernel's own when it sent one. */
static int rt_result(const Rt *nl, int nle) {
        if (nle >= 0)
                return 0;
        return nl->error < 0 ? nl->error : nle_errno(nle);
}

#define RT_DO(nl, call) (rt_reset(nl), rt_result((nl), (call)))

/* "File exists", or "Invalid argument (Nexthop has invalid gateway)". */
static const char *rt_why(Rt *nl, int r) {
        if (r == nl->error && nl->extack[0])
                snprintf(nl->why, sizeof nl->why, "%s (%s)", strerror(-r), nl->extack);
        else
                snprintf(nl->why, sizeof nl->why, "%s", strerror(-r));
        return nl->why;
}

static void rt_done(Rt *nl) {
        if (nl->sk)
                nl_socket_free(nl->sk);   /* closes its fd */
        nl->sk = NULL;
}

/* A route socket in the calling thread's namespace (netns_fd < 0) or in
 * netns_fd's. Bound before libnl sees it, so the kernel picks the port and
 * libnl's process-wide port map stays out of it. */
static int rt_open(Rt *nl, int netns_fd) {
        struct sockaddr_nl sa = { .nl_family = AF_NETLINK };
        _cleanup_close_ int fd = -EBADF;
        int one = 1, r;

        *nl = (Rt) {};
        if (netns_fd >= 0)
                fd = netns_socket(netns_fd, AF_NETLINK, SOCK_RAW, NETLINK_ROUTE);
        else {
                fd = socket(AF_NETLINK, SOCK_RAW | SOCK_CLOEXEC, NETLINK_ROUTE);
                if (fd < 0)
                        fd = negative_errno();
        }
        if (fd < 0)
                return errmsg_set(fd, "Cannot open a netlink socket: %s", strerror(-fd));
        if (bind(fd, (struct sockaddr *) &sa, sizeof sa) < 0)
                return errmsg_set(negative_errno(), "Cannot bind a netlink socket: %s", strerror(errno));
        /* Best effort: without them the sentences lose the kernel's reason. */
        (void) setsockopt(fd, SOL_NETLINK, NETLINK_EXT_ACK, &one, sizeof one);
        (void) setsockopt(fd, SOL_NETLINK, NETLINK_CAP_ACK, &one, sizeof one);
        nl->sk = nl_socket_alloc();
        if (!nl->sk)
                return -ENOMEM;
        r = nl_socket_set_fd(nl->sk, NETLINK_ROUTE, fd);
        if (r < 0)
                return errmsg_set(nle_errno(r), "Cannot use a netlink socket: %s", nl_geterror(r));
        TAKE_FD(fd);
        if (nl_socket_modify_err_cb(nl->sk, NL_CB_CUSTOM, rt_error_cb, nl) < 0)
                return -ENOMEM;
        return 0;
}

typedef void (*RtObjectFunc)(struct nl_object *o, void *userdata);

typedef struct RtDump {
        RtObjectFunc func;
        void *userdata;
} RtDump;

static int dump_valid(struct nl_msg *msg, void *userdata) {
        RtDump *d = userdata;

        /* What libnl cannot parse is nothing we asked for. */
        (void) nl_msg_parse(msg, d->func, d->userdata);
        return NL_OK;
}

/* A dump request (type, a header of size bytes); func gets each object,
 * parsed by libnl. -EAGAIN when a change interrupted it: ask again. */
static int rt_dump(Rt *nl, int type, const void *hdr, size_t size, RtObjectFunc func, void *userdata) {
        RtDump d = { func, userdata };
        struct nl_cb *base, *cb;
        int one = 1, r;

        /* The kernel filters by the header's fields (ifindex, table) only
         * when asked to check dump requests strictly (4.20+); the callers
         * filter again for older ones. */
        (void) setsockopt(nl_socket_get_fd(nl->sk), SOL_NETLINK, NETLINK_GET_STRICT_CHK, &one, sizeof one);
        rt_reset(nl);
        r = nl_send_simple(nl->sk, type, NLM_F_DUMP, (void *) hdr, size);
        if (r < 0)
                return rt_result(nl, r);
        base = nl_socket_get_cb(nl->sk);
        cb = nl_cb_clone(base);
        nl_cb_put(base);
        if (!cb)
                return -ENOMEM;
        nl_cb_set(cb, NL_CB_VALID, NL_CB_CUSTOM, dump_valid, &d);
        r = nl_recvmsgs(nl->sk, cb);
        nl_cb_put(cb);
        return r == -NLE_DUMP_INTR ? -EAGAIN : rt_result(nl, r);
}

/* ---- Links, addresses, routes ---- */

static int rt_link_get(Rt *nl, int ifindex, const char *name, struct rtnl_link **ret) {
        int r;

        *ret = NULL;
        r = RT_DO(nl, rtnl_link_get_kernel(nl->sk, ifindex, name, ret));
        if (r >= 0 && !*ret)
                r = -ENODEV;
        return r;
}

/* Up (if asked) and the MTU (if not 0), in one request. */
static int rt_link_set(Rt *nl, int ifindex, bool up, uint32_t mtu) {
        _cleanup_(rtnl_link_putp) struct rtnl_link *orig = rtnl_link_alloc(), *change = rtnl_link_alloc();

        if (!orig || !change)
                return -ENOMEM;
        rtnl_link_set_ifindex(orig, ifindex);
        if (up)
                rtnl_link_set_flags(change, IFF_UP);
        if (mtu > 0)
                rtnl_link_set_mtu(change, mtu);
        return RT_DO(nl, rtnl_link_change(nl->sk, orig, change, 0));
}

/* 0 if it was not there. */
static int rt_link_delete(Rt *nl, int ifindex, const char *name) {
        _cleanup_(rtnl_link_putp) struct rtnl_link *l = rtnl_link_alloc();
        int r;

        if (!l)
                return -ENOMEM;
        if (ifindex > 0)
                rtnl_link_set_ifindex(l, ifindex);
        else
                rtnl_link_set_name(l, name);
        r = RT_DO(nl, rtnl_link_delete(nl->sk, l));
        return r == -ENODEV ? 0 : r;
}

static struct nl_addr *rt_addr_of(const InAddr *a, unsigned prefixlen) {
        struct nl_addr *n = nl_addr_build(a->family, a->bytes, in_addr_size(a->family));

        if (n)
                nl_addr_set_prefixlen(n, (int) prefixlen);
        return n;
}

static bool in_addr_of(struct nl_addr *n, InAddr *ret) {
        int family = n ? nl_addr_get_family(n) : 0;
        size_t size = in_addr_size(family);

        if (size == 0 || nl_addr_get_len(n) != size)
                return false;
        *ret = (InAddr) { .family = family };
        memcpy(ret->bytes, nl_addr_get_binary_addr(n), size);
        return true;
}

static bool is_ipv6_link_local(const InAddr *a) {
        return a->family == AF_INET6 && a->bytes[0] == 0xfe && (a->bytes[1] & 0xc0) == 0x80;
}

/* IPv6 addresses without duplicate address detection: usable at once, as
 * a container starts, instead of a second or two later. */
static int rt_addr_change(Rt *nl, int ifindex, const LinkAddress *la, bool add) {
        _cleanup_(rtnl_addr_putp) struct rtnl_addr *a = rtnl_addr_alloc();
        _cleanup_(nl_addr_putp) struct nl_addr *local = rt_addr_of(&la->addr, la->prefixlen), *brd = NULL;

        if (!a || !local)
                return -ENOMEM;
        rtnl_addr_set_ifindex(a, ifindex);
        rtnl_addr_set_family(a, la->addr.family);
        if (rtnl_addr_set_local(a, local) < 0)
                return -EINVAL;
        rtnl_addr_set_prefixlen(a, (int) la->prefixlen);
        if (!add)
                return RT_DO(nl, rtnl_addr_delete(nl->sk, a, 0));
        if (la->addr.family == AF_INET6)
                rtnl_addr_set_flags(a, IFA_F_NODAD);
        else if (la->prefixlen <= 30) {
                InAddr b = la->addr;
                uint32_t host = la->prefixlen == 0 ? UINT32_MAX : (UINT32_C(1) << (32 - la->prefixlen)) - 1;

                b.in.s_addr |= htonl(host);
                brd = rt_addr_of(&b, 32);
                if (!brd)
                        return -ENOMEM;
                rtnl_addr_set_broadcast(a, brd);
        }
        return RT_DO(nl, rtnl_addr_add(nl->sk, a, NLM_F_EXCL));
}

static int rt_route_add_default(Rt *nl, int ifindex, const InAddr *gw) {
        static const InAddr any4 = { .family = AF_INET }, any6 = { .family = AF_INET6 };
        _cleanup_(rtnl_route_putp) struct rtnl_route *rt = rtnl_route_alloc();
        _cleanup_(nl_addr_putp) struct nl_addr *dst = rt_addr_of(gw->family == AF_INET ? &any4 : &any6, 0),
                                               *via = rt_addr_of(gw, in_addr_size(gw->family) * 8);
        struct rtnl_nexthop *nh;

        if (!rt || !dst || !via)
                return -ENOMEM;
        nh = rtnl_route_nh_alloc();
        if (!nh)
                return -ENOMEM;
        rtnl_route_nh_set_ifindex(nh, ifindex);
        rtnl_route_nh_set_gateway(nh, via);
        rtnl_route_add_nexthop(rt, nh);       /* the route owns it now */
        rtnl_route_set_family(rt, (uint8_t) gw->family);
        rtnl_route_set_table(rt, RT_TABLE_MAIN);
        rtnl_route_set_protocol(rt, RTPROT_STATIC);
        if (rtnl_route_set_dst(rt, dst) < 0)
                return -EINVAL;
        return RT_DO(nl, rtnl_route_add(nl->sk, rt, NLM_F_EXCL));
}

/* ---- Sysctls of the calling thread's namespace ---- */

static int sysctl_read_int(const char *path, int *ret) {
        _cleanup_close_ int fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY);
        char buf[32];
        ssize_t n;

        if (fd < 0)
                return negative_errno();
        n = read(fd, buf, sizeof buf - 1);
        if (n < 0)
                return negative_errno();
        buf[n] = 0;
        buf[strcspn(buf, "\n")] = 0;
        return safe_atoi(buf, ret);
}

static int sysctl_write(const char *path, const char *value) {
        _cleanup_close_ int fd = open(path, O_WRONLY | O_CLOEXEC | O_NOCTTY);
        size_t n = strlen(value);
        ssize_t k;

        if (fd < 0)
                return negative_errno();
        k = write(fd, value, n);
        if (k < 0)
                return negative_errno();
        return (size_t) k == n ? 0 : -EIO;
}

#define SYSCTL_LINK_PATH_MAX 128

static void sysctl_link_path(char path[static SYSCTL_LINK_PATH_MAX], const char *family, const char *ifname,
                             const char *key) {
        snprintf(path, SYSCTL_LINK_PATH_MAX, "/proc/sys/net/%s/conf/%s/%s", family, ifname, key);
}

/* net.<family>.conf.<ifname>.<key> = value, the error as a sentence. */
static int sysctl_write_link(const char *family, const char *ifname, const char *key, const char *value) {
        char path[SYSCTL_LINK_PATH_MAX];
        int r;

        sysctl_link_path(path, family, ifname, key);
        r = sysctl_write(path, value);
        if (r < 0)
                return errmsg_set(r, "Cannot set net.%s.conf.%s.%s to %s: %s", family, ifname, key, value,
                                  strerror(-r));
        return 0;
}

/* ---- Network namespaces ---- */

/* Only the calling thread moves: the network namespace is per thread.
 * Returns an fd of the namespace to come back to. */
static int netns_enter(int netns_fd) {
        _cleanup_close_ int self = -EBADF;

        if (netns_fd < 0)
                return errmsg_set(-EBADF, "No network namespace to enter.");
        self = open("/proc/thread-self/ns/net", O_RDONLY | O_CLOEXEC);
        if (self < 0)
                return errmsg_set(negative_errno(), "Cannot open the thread's network namespace: %s",
                                  strerror(errno));
        if (setns(netns_fd, CLONE_NEWNET) < 0)
                return errmsg_set(negative_errno(), "Cannot enter the network namespace: %s", strerror(errno));
        return TAKE_FD(self);
}

/* A thread of berthd left in a container's namespace would make every
 * later socket there, and write its sysctls: better to stop. Entering a
 * namespace we hold an fd of, as root, does not fail but for want of memory. */
static void netns_leave(int self) {
        if (setns(self, CLONE_NEWNET) < 0)
                abort();
        safe_close(self);
}

/* Writes a sysctl of the network namespace netns_fd: the files under
 * /proc/sys/net are those of the opener's namespace. -ENOENT (no such link,
 * or no IPv6 in this kernel) is the caller's to judge. */
static int netns_sysctl_write(int netns_fd, const char *path, const char *value) {
        int self, r;

        self = netns_enter(netns_fd);
        if (self < 0)
                return self;
        r = sysctl_write(path, value);
        netns_leave(self);
        return r;
}

/* ---- Bridges ---- */

typedef struct AddrList {
        int ifindex;
        LinkAddress *l;
        size_t n, alloc;
        int error;
} AddrList;

static void addr_collect(struct nl_object *o, void *userdata) {
        struct rtnl_addr *a = (struct rtnl_addr *) o;
        AddrList *al = userdata;
        LinkAddress la = {};

        if (rtnl_addr_get_ifindex(a) != al->ifindex || !in_addr_of(rtnl_addr_get_local(a), &la.addr))
                return;
        la.prefixlen = (unsigned) rtnl_addr_get_prefixlen(a);
        if (greedy_realloc((void **) &al->l, &al->alloc, al->n + 1, sizeof *al->l) < 0) {
                al->error = -ENOMEM;
                return;
        }
        al->l[al->n++] = la;
}

static bool addr_in(const LinkAddress *a, const LinkAddress *l, size_t n) {
        for (size_t i = 0; i < n; i++)
                if (in_addr_equal(&a->addr, &l[i].addr) && a->prefixlen == l[i].prefixlen)
                        return true;
        return false;
}

/* The addresses of the link ifindex: one dump, filtered by the kernel. */
static int link_addresses(Rt *nl, int ifindex, AddrList *ret) {
        struct ifaddrmsg ifa = { .ifa_family = AF_UNSPEC, .ifa_index = (unsigned) ifindex };
        int r = -EAGAIN;

        for (unsigned i = 0; r == -EAGAIN && i < DUMP_ATTEMPTS; i++) {
                ret->n = 0;
                ret->error = 0;
                r = rt_dump(nl, RTM_GETADDR, &ifa, sizeof ifa, addr_collect, ret);
                if (r >= 0)
                        r = ret->error;
        }
        return r;
}

/* The bridge's addresses become the spec's: what is missing is added, and
 * what else it has (a crash, a bridge name used again by another network)
 * removed, IPv6 link-local ones aside. */
static int bridge_addresses(Rt *nl, const BridgeSpec *spec, int ifindex) {
        _cleanup_free_ LinkAddress *l = NULL;
        AddrList have = { .ifindex = ifindex };
        char s[IN_PREFIX_STRLEN];
        bool removed = false;
        int r;

        r = link_addresses(nl, ifindex, &have);
        l = have.l;
        if (r < 0)
                return errmsg_set(r, "Cannot list the addresses of the bridge %s: %s", spec->name, rt_why(nl, r));
        for (size_t i = 0; i < have.n; i++) {
                if (is_ipv6_link_local(&l[i].addr) || addr_in(&l[i], spec->addrs, spec->n_addrs))
                        continue;
                r = rt_addr_change(nl, ifindex, &l[i], false);
                if (r < 0 && r != -EADDRNOTAVAIL)
                        return errmsg_set(r, "Cannot remove the stale address %s from the bridge %s: %s",
                                          addr_string(&l[i], s), spec->name, rt_why(nl, r));
                removed = true;
        }
        for (size_t i = 0; i < spec->n_addrs; i++) {
                /* An IPv4 address that was a secondary of a removed one went with it. */
                if (!removed && addr_in(&spec->addrs[i], l, have.n))
                        continue;
                r = rt_addr_change(nl, ifindex, &spec->addrs[i], true);
                if (r < 0 && r != -EEXIST)
                        return errmsg_set(r, "Cannot add address %s to the bridge %s: %s",
                                          addr_string(&spec->addrs[i], s), spec->name, rt_why(nl, r));
        }
        return 0;
}

/* A locally administered MAC of its own: a bridge without one takes the
 * lowest of its ports', so the gateway's MAC would change as containers
 * come and go, and their neighbour caches go stale. */
static int bridge_create(Rt *nl, const BridgeSpec *spec) {
        _cleanup_(rtnl_link_putp) struct rtnl_link *l = rtnl_link_bridge_alloc();
        _cleanup_(nl_addr_putp) struct nl_addr *mac = NULL;
        uint8_t b[6];
        int r;

        if (!l)
                return -ENOMEM;
        if (getrandom(b, sizeof b, 0) != sizeof b)
                return errmsg_set(negative_errno(), "Cannot make a MAC address for the bridge %s: %s", spec->name,
                                  strerror(errno));
        b[0] = (uint8_t) ((b[0] & 0xfe) | 0x02);
        mac = nl_addr_build(AF_LLC, b, sizeof b);
        if (!mac)
                return -ENOMEM;
        rtnl_link_set_name(l, spec->name);
        rtnl_link_set_addr(l, mac);
        if (spec->mtu > 0)
                rtnl_link_set_mtu(l, spec->mtu);
        /* Down: its sysctls are set before it can see a router advertisement. */
        r = RT_DO(nl, rtnl_link_add(nl->sk, l, NLM_F_CREATE | NLM_F_EXCL));
        if (r < 0 && r != -EEXIST)    /* EEXIST: made meanwhile, looked at again */
                return errmsg_set(r, "Cannot create the bridge %s: %s", spec->name, rt_why(nl, r));
        return 0;
}

static int bridge_spec_check(const BridgeSpec *spec) {
        char s[IN_PREFIX_STRLEN];

        if (!spec || !ifname_valid(spec->name))
                return errmsg_set(-EINVAL, "Invalid bridge name: %s", spec ? strempty(spec->name) : "");
        if (spec->n_addrs > LINK_ADDRS_MAX || (spec->n_addrs > 0 && !spec->addrs))
                return errmsg_set(-EINVAL, "Too many addresses for the bridge %s: %zu", spec->name, spec->n_addrs);
        for (size_t i = 0; i < spec->n_addrs; i++)
                if (!link_address_valid(&spec->addrs[i]))
                        return errmsg_set(-EINVAL, "Invalid address for the bridge %s: %s", spec->name,
                                          addr_string(&spec->addrs[i], s));
        return 0;
}

static int bridge_sysctls(const BridgeSpec *spec) {
        int r = 0;

        /* Nobody routes for Berth's networks but the host: router
         * advertisements from a container must not configure the bridge. */
        if (spec->ipv6) {
                r = sysctl_write_link("ipv6", spec->name, "accept_ra", "0");
                if (r >= 0)
                        r = sysctl_write_link("ipv6", spec->name, "autoconf", "0");
        }
        if (r >= 0 && spec->route_localnet)
                r = sysctl_write_link("ipv4", spec->name, "route_localnet", "1");
        return r;
}

int link_bridge_ensure(const BridgeSpec *spec) {
        _cleanup_(rt_done) Rt nl = {};
        _cleanup_(rtnl_link_putp) struct rtnl_link *l = NULL;
        const char *type;
        int ifindex, r;

        r = bridge_spec_check(spec);
        if (r < 0)
                return r;
        r = rt_open(&nl, -EBADF);
        if (r < 0)
                return r;
        r = rt_link_get(&nl, 0, spec->name, &l);
        if (r == -ENODEV) {
                r = bridge_create(&nl, spec);
                if (r < 0)
                        return r;
                r = rt_link_get(&nl, 0, spec->name, &l);
        }
        if (r < 0)
                return errmsg_set(r, "Cannot look up the bridge %s: %s", spec->name, rt_why(&nl, r));
        type = rtnl_link_get_type(l);
        if (!streq_ptr(type, "bridge"))
                return errmsg_set(-EEXIST, "Cannot use %s as a bridge: a link of that name exists and is not one "
                                  "(%s).", spec->name, type ? type : "a device of no virtual kind");
        ifindex = rtnl_link_get_ifindex(l);
        r = bridge_sysctls(spec);
        if (r < 0)
                return r;
        if (!(rtnl_link_get_flags(l) & IFF_UP) || (spec->mtu > 0 && rtnl_link_get_mtu(l) != spec->mtu)) {
                r = rt_link_set(&nl, ifindex, true, spec->mtu);
                if (r < 0)
                        return errmsg_set(r, "Cannot bring the bridge %s up (MTU %" PRIu32 "): %s", spec->name,
                                          spec->mtu, rt_why(&nl, r));
        }
        return bridge_addresses(&nl, spec, ifindex);
}

/* The host's link of that name, through a socket opened for it: 1, or 0 if
 * there is none (*ret NULL). what names it in the sentences. */
static int link_find(Rt *nl, const char *what, const char *name, struct rtnl_link **ret) {
        int r;

        *ret = NULL;
        if (!ifname_valid(name))
                return errmsg_set(-EINVAL, "Invalid %s name: %s", what, strempty(name));
        r = rt_open(nl, -EBADF);
        if (r < 0)
                return r;
        r = rt_link_get(nl, 0, name, ret);
        if (r == -ENODEV)
                return 0;
        if (r < 0)
                return errmsg_set(r, "Cannot look up the %s %s: %s", what, name, rt_why(nl, r));
        return 1;
}

int link_bridge_remove(const char *name) {
        _cleanup_(rt_done) Rt nl = {};
        _cleanup_(rtnl_link_putp) struct rtnl_link *l = NULL;
        int r;

        r = link_find(&nl, "bridge", name, &l);
        if (r <= 0)
                return r;
        if (!streq_ptr(rtnl_link_get_type(l), "bridge"))
                return errmsg_set(-EEXIST, "Not removing %s: it is not a bridge.", name);
        r = rt_link_delete(&nl, rtnl_link_get_ifindex(l), NULL);
        if (r < 0)
                return errmsg_set(r, "Cannot remove the bridge %s: %s", name, rt_why(&nl, r));
        return 0;
}

/* ---- Veth pairs ---- */

static bool mac_is_set(const uint8_t *mac) {
        static const uint8_t zero[6];

        return mac && memcmp(mac, zero, sizeof zero) != 0;
}

static int veth_spec_check(const VethSpec *spec) {
        char s[IN_PREFIX_STRLEN];

        if (!spec || !ifname_valid(spec->bridge) || !ifname_valid(spec->host_name) || !ifname_valid(spec->ifname))
                return errmsg_set(-EINVAL, "Invalid link names for a veth pair.");
        if (spec->netns_fd < 0)
                return errmsg_set(-EBADF, "No network namespace for %s.", spec->ifname);
        if (spec->n_addrs > LINK_ADDRS_MAX || (spec->n_addrs > 0 && !spec->addrs) ||
            spec->n_gateways > LINK_GATEWAYS_MAX || (spec->n_gateways > 0 && !spec->gateways))
                return errmsg_set(-EINVAL, "Too many addresses or gateways for %s of the container.", spec->ifname);
        for (size_t i = 0; i < spec->n_addrs; i++) {
                if (!link_address_valid(&spec->addrs[i]))
                        return errmsg_set(-EINVAL, "Invalid address for %s of the container: %s", spec->ifname,
                                          addr_string(&spec->addrs[i], s));
                if (spec->addrs[i].addr.family == AF_INET6 && !spec->ipv6)
                        return errmsg_set(-EINVAL, "The network of %s of the container has no IPv6 for %s.",
                                          spec->ifname, addr_string(&spec->addrs[i], s));
        }
        for (size_t i = 0; i < spec->n_gateways; i++)
                if (in_addr_is_set(&spec->gateways[i]) && in_addr_size(spec->gateways[i].family) == 0)
                        return errmsg_set(-EINVAL, "Invalid gateway for %s of the container.", spec->ifname);
        if (mac_is_set(spec->mac) && (spec->mac[0] & 1))
                return errmsg_set(-EINVAL, "The MAC address %02x:%02x:%02x:%02x:%02x:%02x is a multicast address.",
                                  spec->mac[0], spec->mac[1], spec->mac[2], spec->mac[3], spec->mac[4],
                                  spec->mac[5]);
        return 0;
}

/* One request: the host end on the bridge, the peer made in the
 * container's namespace under its final name, with its MAC and MTU. Both
 * come up later, once their IPv6 is settled (a link-local address is made
 * at up). The peer is brought up from inside: libnl sends the peer's flags
 * without a change mask, which the kernel takes as "every flag", clearing
 * IFF_MULTICAST. */
static int veth_create(Rt *nl, const VethSpec *spec, int master) {
        _cleanup_(rtnl_link_putp) struct rtnl_link *l = rtnl_link_veth_alloc(), *peer = NULL;
        _cleanup_(nl_addr_putp) struct nl_addr *mac = NULL;

        if (!l)
                return -ENOMEM;
        peer = rtnl_link_veth_get_peer(l);
        if (!peer)
                return -ENOMEM;
        rtnl_link_set_name(l, spec->host_name);
        rtnl_link_set_master(l, master);
        rtnl_link_set_name(peer, spec->ifname);
        rtnl_link_set_ns_fd(peer, spec->netns_fd);
        if (spec->mtu > 0) {
                rtnl_link_set_mtu(l, spec->mtu);
                rtnl_link_set_mtu(peer, spec->mtu);
        }
        if (mac_is_set(spec->mac)) {
                mac = nl_addr_build(AF_LLC, spec->mac, 6);
                if (!mac)
                        return -ENOMEM;
                rtnl_link_set_addr(peer, mac);
        }
        return RT_DO(nl, rtnl_link_add(nl->sk, l, NLM_F_CREATE | NLM_F_EXCL));
}

/* After -EEXIST: which name is taken? The host end's, by a leftover veth of
 * a crash (this container, this network: removed, 0), or the inside one. */
static int veth_clear_name(Rt *nl, const VethSpec *spec) {
        _cleanup_(rtnl_link_putp) struct rtnl_link *l = NULL;
        int r;

        r = rt_link_get(nl, 0, spec->host_name, &l);
        if (r == -ENODEV)
                return errmsg_set(-EEXIST, "Cannot add %s to the container: a link of that name exists there.",
                                  spec->ifname);
        if (r < 0)
                return errmsg_set(r, "Cannot look up the link %s: %s", spec->host_name, rt_why(nl, r));
        if (!rtnl_link_is_veth(l))
                return errmsg_set(-EEXIST, "Cannot add the veth %s: a link of that name exists and is not a veth.",
                                  spec->host_name);
        r = rt_link_delete(nl, rtnl_link_get_ifindex(l), NULL);
        if (r < 0)
                return errmsg_set(r, "Cannot remove the leftover veth %s: %s", spec->host_name, rt_why(nl, r));
        return 0;
}

/* net.ipv6.conf.IFNAME.disable_ipv6 = 1, in netns_fd if it is not -EBADF,
 * before the link is up. No IPv6 in the kernel: nothing to turn off. */
static int link_ipv6_off(int netns_fd, const char *ifname, const char *where) {
        char path[SYSCTL_LINK_PATH_MAX];
        int r;

        sysctl_link_path(path, "ipv6", ifname, "disable_ipv6");
        r = netns_fd >= 0 ? netns_sysctl_write(netns_fd, path, "1") : sysctl_write(path, "1");
        if (r < 0 && r != -ENOENT)
                return errmsg_set(r, "Cannot turn IPv6 off on %s%s: %s", ifname, where, strerror(-r));
        return 0;
}

/* The bridge port bridges IPv6 but has none of its own, then comes up:
 * found by name (the name in the change too, or libnl sends none). */
static int veth_host_end_up(Rt *nl, const VethSpec *spec) {
        _cleanup_(rtnl_link_putp) struct rtnl_link *orig = rtnl_link_alloc(), *change = rtnl_link_alloc();
        int r;

        if (!orig || !change)
                return -ENOMEM;
        r = link_ipv6_off(-EBADF, spec->host_name, "");
        if (r < 0)
                return r;
        rtnl_link_set_name(orig, spec->host_name);
        rtnl_link_set_name(change, spec->host_name);
        rtnl_link_set_flags(change, IFF_UP);
        r = RT_DO(nl, rtnl_link_change(nl->sk, orig, change, 0));
        if (r < 0)
                return errmsg_set(r, "Cannot bring %s up: %s", spec->host_name, rt_why(nl, r));
        return 0;
}

/* Inside the container, through a socket made there: the peer up, its
 * addresses and default routes; lo up. */
static int veth_configure_inside(const VethSpec *spec) {
        _cleanup_(rt_done) Rt nl = {};
        _cleanup_(rtnl_link_putp) struct rtnl_link *l = NULL;
        char s[IN_PREFIX_STRLEN];
        int ifindex, r;

        if (!spec->ipv6) {
                r = link_ipv6_off(spec->netns_fd, spec->ifname, " of the container");
                if (r < 0)
                        return r;
        }
        r = rt_open(&nl, spec->netns_fd);
        if (r < 0)
                return errmsg_set(r, "Cannot configure %s of the container: %s", spec->ifname,
                                  errmsg_last() ?: strerror(-r));
        r = rt_link_get(&nl, 0, spec->ifname, &l);
        if (r < 0)
                return errmsg_set(r, "Cannot find %s in the container: %s", spec->ifname, rt_why(&nl, r));
        ifindex = rtnl_link_get_ifindex(l);
        r = rt_link_set(&nl, ifindex, true, 0);
        if (r < 0)
                return errmsg_set(r, "Cannot bring %s of the container up: %s", spec->ifname, rt_why(&nl, r));
        for (size_t i = 0; i < spec->n_addrs; i++) {
                r = rt_addr_change(&nl, ifindex, &spec->addrs[i], true);
                if (r < 0)
                        return errmsg_set(r, "Cannot add address %s to %s of the container: %s",
                                          addr_string(&spec->addrs[i], s), spec->ifname, rt_why(&nl, r));
        }
        for (size_t i = 0; i < spec->n_gateways; i++) {
                char g[IN_ADDR_STRLEN];

                if (!in_addr_is_set(&spec->gateways[i]))
                        continue;
                r = rt_route_add_default(&nl, ifindex, &spec->gateways[i]);
                if (r < 0)
                        return errmsg_set(r, "Cannot add the default route via %s to %s of the container: %s",
                                          in_addr_to_string(&spec->gateways[i], g), spec->ifname, rt_why(&nl, r));
        }
        r = rt_link_set(&nl, LOOPBACK_IFINDEX, true, 0);
        if (r < 0)
                return errmsg_set(r, "Cannot bring lo of the container up: %s", rt_why(&nl, r));
        return 0;
}

/* The peer would be made beside the host end, under the container's name. */
static int netns_is_own(int netns_fd) {
        struct stat a, b;

        if (fstat(netns_fd, &a) < 0 || stat("/proc/thread-self/ns/net", &b) < 0)
                return negative_errno();
        return a.st_dev == b.st_dev && a.st_ino == b.st_ino;
}

int link_veth_add(const VethSpec *spec) {
        _cleanup_(rt_done) Rt nl = {};
        _cleanup_(rtnl_link_putp) struct rtnl_link *br = NULL;
        int master, r;

        r = veth_spec_check(spec);
        if (r < 0)
                return r;
        r = netns_is_own(spec->netns_fd);
        if (r != 0)
                return errmsg_set(r < 0 ? r : -EINVAL, "Cannot add %s to the container: %s", spec->ifname,
                                  r < 0 ? strerror(-r) : "it has the host's network namespace");
        r = rt_open(&nl, -EBADF);
        if (r < 0)
                return r;
        r = rt_link_get(&nl, 0, spec->bridge, &br);
        if (r < 0)
                return errmsg_set(r, "Cannot find the bridge %s: %s", spec->bridge, rt_why(&nl, r));
        if (!streq_ptr(rtnl_link_get_type(br), "bridge"))
                return errmsg_set(-EINVAL, "%s is not a bridge.", spec->bridge);
        master = rtnl_link_get_ifindex(br);
        for (unsigned attempt = 0;; attempt++) {
                r = veth_create(&nl, spec, master);
                if (r != -EEXIST || attempt == 2)
                        break;
                r = veth_clear_name(&nl, spec);
                if (r < 0)
                        return r;
        }
        if (r == -EXFULL)     /* BR_MAX_PORTS: port numbers have 10 bits, 0 unused */
                return errmsg_set(r, "The bridge %s has %d containers, as many as the kernel allows on one bridge: "
                                  "use another network.", spec->bridge, BRIDGE_PORTS_MAX);
        if (r < 0)
                return errmsg_set(r, "Cannot add the veth pair %s (%s in the container) to the bridge %s: %s",
                                  spec->host_name, spec->ifname, spec->bridge, rt_why(&nl, r));
        r = veth_host_end_up(&nl, spec);
        if (r >= 0)
                r = veth_configure_inside(spec);
        if (r < 0)
                /* The peer goes with it: nothing is left of the pair. */
                (void) rt_link_delete(&nl, 0, spec->host_name);
        return r;
}

/* By index if ifindex > 0, else by name: 0 if it was not there. */
static int link_delete(int ifindex, const char *name) {
        _cleanup_(rt_done) Rt nl = {};
        char what[IFNAMSIZ + 16];
        int r;

        r = rt_open(&nl, -EBADF);
        if (r < 0)
                return r;
        r = rt_link_delete(&nl, ifindex, name);
        if (r < 0) {
                if (ifindex > 0)
                        snprintf(what, sizeof what, "%d", ifindex);
                else
                        snprintf(what, sizeof what, "%s", name);
                return errmsg_set(r, "Cannot remove the link %s: %s", what, rt_why(&nl, r));
        }
        return 0;
}

int link_remove(const char *name) {
        if (!ifname_valid(name))
                return errmsg_set(-EINVAL, "Invalid link name: %s", strempty(name));
        return link_delete(0, name);
}

int link_index(const char *name) {
        _cleanup_(rt_done) Rt nl = {};
        _cleanup_(rtnl_link_putp) struct rtnl_link *l = NULL;
        int r;

        r = link_find(&nl, "link", name, &l);
        return r <= 0 ? r : rtnl_link_get_ifindex(l);
}

int link_remove_index(int ifindex) {
        if (ifindex <= 0)
                return errmsg_set(-EINVAL, "Invalid link index: %d", ifindex);
        return link_delete(ifindex, NULL);
}

int link_loopback_up(int netns_fd) {
        _cleanup_(rt_done) Rt nl = {};
        int r;

        r = rt_open(&nl, netns_fd);
        if (r < 0)
                return r;
        r = rt_link_set(&nl, LOOPBACK_IFINDEX, true, 0);
        if (r < 0)
                return errmsg_set(r, "Cannot bring lo up: %s", rt_why(&nl, r));
        return 0;
}

/* ---- The host's routes ---- */

typedef struct RouteList {
        InPrefix *l;
        int *oifs;
        size_t n, alloc, alloc_oifs;
        int error;
} RouteList;

static void prefix_mask(InPrefix *p) {
        size_t size = in_addr_size(p->addr.family);

        for (size_t i = 0; i < size; i++) {
                unsigned bits = p->prefixlen > i * 8 ? p->prefixlen - (unsigned) i * 8 : 0;

                if (bits < 8)
                        p->addr.bytes[i] &= (uint8_t) (0xff00u >> bits);
        }
}

/* Main-table routes that say where a network is: no default routes, no
 * IPv6 link-local or multicast ones (every link has those). */
static void route_collect(struct nl_object *o, void *userdata) {
        struct rtnl_route *rt = (struct rtnl_route *) o;
        RouteList *rl = userdata;
        InPrefix p = {};
        int oif = 0;

        if (rtnl_route_get_table(rt) != RT_TABLE_MAIN ||
            !IN_SET(rtnl_route_get_type(rt), RTN_UNICAST, RTN_BLACKHOLE, RTN_UNREACHABLE, RTN_PROHIBIT, RTN_THROW) ||
            !in_addr_of(rtnl_route_get_dst(rt), &p.addr))
                return;
        p.prefixlen = (unsigned) nl_addr_get_prefixlen(rtnl_route_get_dst(rt));
        if (p.prefixlen == 0 || p.prefixlen > in_addr_size(p.addr.family) * 8 || is_ipv6_link_local(&p.addr) ||
            (p.addr.family == AF_INET6 && p.addr.bytes[0] == 0xff))
                return;
        prefix_mask(&p);
        if (rtnl_route_get_nnexthops(rt) > 0)
                oif = rtnl_route_nh_get_ifindex(rtnl_route_nexthop_n(rt, 0));
        if (greedy_realloc((void **) &rl->l, &rl->alloc, rl->n + 1, sizeof *rl->l) < 0 ||
            greedy_realloc((void **) &rl->oifs, &rl->alloc_oifs, rl->n + 1, sizeof *rl->oifs) < 0) {
                rl->error = -ENOMEM;
                return;
        }
        rl->l[rl->n] = p;
        rl->oifs[rl->n++] = oif;
}

static int routes_dump(Rt *nl, int family, RouteList *rl) {
        struct rtmsg rtm = { .rtm_family = (uint8_t) family, .rtm_table = RT_TABLE_MAIN };
        size_t start = rl->n;
        int r = -EAGAIN;

        for (unsigned i = 0; r == -EAGAIN && i < DUMP_ATTEMPTS; i++) {
                rl->n = start;
                r = rt_dump(nl, RTM_GETROUTE, &rtm, sizeof rtm, route_collect, rl);
                if (r >= 0)
                        r = rl->error;
        }
        /* A kernel without IPv6 has no routes of it. */
        return family == AF_INET6 && r == -EAFNOSUPPORT ? 0 : r;
}

/* Whether the link oif's name starts with prefix (looked up once per link). */
static int oif_excluded(Rt *nl, const char *prefix, int oif, const int *seen, const bool *verdicts, size_t n_seen) {
        _cleanup_(rtnl_link_putp) struct rtnl_link *l = NULL;
        const char *name;
        int r;

        for (size_t i = 0; i < n_seen; i++)
                if (seen[i] == oif)
                        return verdicts[i];
        r = rt_link_get(nl, oif, NULL, &l);
        if (r == -ENODEV)
                return true;           /* gone meanwhile, and its routes with it */
        if (r < 0)
                return r;
        name = rtnl_link_get_name(l);
        return name && startswith(name, prefix);
}

int link_host_routes(const char *bridge_prefix, InPrefix **ret, size_t *ret_n) {
        _cleanup_(rt_done) Rt nl = {};
        _cleanup_free_ int *seen = NULL;
        _cleanup_free_ bool *verdicts = NULL;
        RouteList rl = {};
        size_t n = 0, n_seen = 0;
        int r;

        r = rt_open(&nl, -EBADF);
        if (r < 0)
                return r;
        r = routes_dump(&nl, AF_INET, &rl);
        if (r >= 0)
                r = routes_dump(&nl, AF_INET6, &rl);
        if (r >= 0 && rl.n > 0) {
                seen = calloc(rl.n, sizeof *seen);
                verdicts = calloc(rl.n, sizeof *verdicts);
                if (!seen || !verdicts)
                        r = -ENOMEM;
        }
        for (size_t i = 0; r >= 0 && i < rl.n; i++) {
                int x = 0;

                if (rl.oifs[i] > 0 && !isempty(bridge_prefix)) {
                        x = oif_excluded(&nl, bridge_prefix, rl.oifs[i], seen, verdicts, n_seen);
                        if (x < 0) {
                                r = x;
                                break;
                        }
                        seen[n_seen] = rl.oifs[i];
                        verdicts[n_seen++] = x;
                }
                if (!x)
                        rl.l[n++] = rl.l[i];
        }
        free(rl.oifs);
        if (r < 0) {
                free(rl.l);
                return errmsg_set(r, "Cannot list the host's routes: %s", rt_why(&nl, r));
        }
        *ret = rl.l;
        *ret_n = n;
        return 0;
}

/* ---- Inside network namespaces ---- */

int netns_socket(int netns_fd, int family, int type, int protocol) {
        int self, fd, saved;

        self = netns_enter(netns_fd);
        if (self < 0)
                return self;
        fd = socket(family, type | SOCK_CLOEXEC, protocol);
        saved = errno;
        netns_leave(self);
        if (fd < 0)
                return errmsg_set(-saved, "Cannot make a socket in the network namespace: %s", strerror(saved));
        return fd;
}

int netns_ipv6_defaults(int netns_fd) {
        static const char * const paths[] = { "/proc/sys/net/ipv6/conf/all/accept_ra",
                                              "/proc/sys/net/ipv6/conf/default/accept_ra",
                                              "/proc/sys/net/ipv6/conf/default/accept_dad" };
        int self, r = 0;

        self = netns_enter(netns_fd);
        if (self < 0)
                return self;
        for (size_t i = 0; r >= 0 && i < ELEMENTSOF(paths); i++) {
                r = sysctl_write(paths[i], "0");
                if (r == -ENOENT)
                        r = 0;         /* no IPv6 in this kernel: nothing to refuse */
                else if (r < 0)
                        r = errmsg_set(r, "Cannot set %s to 0 in the container: %s", paths[i] + strlen("/proc/sys/"),
                                       strerror(-r));
        }
        netns_leave(self);
        return r;
}

static int netns_fd_check(int fd) {
        int type = ioctl(fd, NS_GET_NSTYPE);

        if (type < 0)
                return negative_errno();
        return type == CLONE_NEWNET ? 0 : -EINVAL;
}

typedef struct PidfdNetns {
        int pidfd;
        int r;
} PidfdNetns;

static void *pidfd_netns_thread(void *userdata) {
        PidfdNetns *p = userdata;

        /* This thread ends right after: its namespace never needs to come back. */
        if (setns(p->pidfd, CLONE_NEWNET) < 0)
                p->r = negative_errno();
        else {
                p->r = open("/proc/thread-self/ns/net", O_RDONLY | O_CLOEXEC);
                if (p->r < 0)
                        p->r = negative_errno();
        }
        return NULL;
}

int netns_open_pidfd_thread(int pidfd) {
        PidfdNetns p = { .pidfd = pidfd, .r = -EIO };
        sigset_t all, saved;
        pthread_t t;
        int r;

        if (pidfd < 0)
                return errmsg_set(-EBADF, "No process to open the network namespace of.");
        /* No signal of the process's is ever delivered to the helper. */
        sigfillset(&all);
        r = pthread_sigmask(SIG_SETMASK, &all, &saved);
        if (r != 0)
                return errmsg_set(-r, "Cannot block signals: %s", strerror(r));
        r = pthread_create(&t, NULL, pidfd_netns_thread, &p);
        (void) pthread_sigmask(SIG_SETMASK, &saved, NULL);
        if (r != 0)
                return errmsg_set(-r, "Cannot start a thread: %s", strerror(r));
        (void) pthread_join(t, NULL);
        if (p.r < 0)
                return errmsg_set(p.r, "Cannot open the network namespace of the process: %s", strerror(-p.r));
        return p.r;
}

int netns_open_pidfd(int pidfd) {
        int fd, r;

        if (pidfd < 0)
                return errmsg_set(-EBADF, "No process to open the network namespace of.");
        fd = ioctl(pidfd, PIDFD_GET_NET_NAMESPACE, 0);
        if (fd < 0) {
                /* Before 6.11 pidfds know no such ioctl: a thread enters by the pidfd (5.8+). */
                if (IN_SET(errno, ENOTTY, EINVAL, EOPNOTSUPP))
                        return netns_open_pidfd_thread(pidfd);
                return errmsg_set(negative_errno(), "Cannot open the network namespace of the process: %s",
                                  strerror(errno));
        }
        r = netns_fd_check(fd);
        if (r < 0) {
                safe_close(fd);
                return errmsg_set(r, "The pidfd gave no network namespace: %s", strerror(-r));
        }
        return fd;
}

/* ---- Forwarding ---- */

/* accept_ra = 1 stops being honoured once forwarding is on; 2 keeps it. */
static int keep_router_advertisements(void) {
        _cleanup_closedir_ DIR *d = opendir("/proc/sys/net/ipv6/conf");
        struct dirent *de;

        if (!d)
                return errmsg_set(negative_errno(), "Cannot list /proc/sys/net/ipv6/conf: %s", strerror(errno));
        while ((errno = 0, de = readdir(d))) {
                char path[sizeof "/proc/sys/net/ipv6/conf//accept_ra" + sizeof de->d_name];
                int v, r;

                if (!ifname_valid(de->d_name) || IN_SET_STR(de->d_name, "all", "default", "lo"))
                        continue;
                snprintf(path, sizeof path, "/proc/sys/net/ipv6/conf/%s/accept_ra", de->d_name);
                r = sysctl_read_int(path, &v);
                if (r == -ENOENT)
                        continue;      /* the link went meanwhile */
                if (r < 0)
                        return errmsg_set(r, "Cannot read net.ipv6.conf.%s.accept_ra: %s", de->d_name,
                                          strerror(-r));
                if (v != 1)
                        continue;
                r = sysctl_write(path, "2");
                if (r < 0 && r != -ENOENT)
                        return errmsg_set(r, "Cannot set net.ipv6.conf.%s.accept_ra to 2 before turning on "
                                          "IPv6 forwarding: %s", de->d_name, strerror(-r));
        }
        if (errno > 0)
                return errmsg_set(negative_errno(), "Cannot list /proc/sys/net/ipv6/conf: %s", strerror(errno));
        return 0;
}

int ip_forward_ensure(int family, bool enable) {
        const char *path, *name, *what;
        int v, r;

        if (family == AF_INET) {
                path = "/proc/sys/net/ipv4/ip_forward";
                name = "net.ipv4.ip_forward";
                what = "IPv4";
        } else if (family == AF_INET6) {
                path = "/proc/sys/net/ipv6/conf/all/forwarding";
                name = "net.ipv6.conf.all.forwarding";
                what = "IPv6";
        } else
                return errmsg_set(-EAFNOSUPPORT, "No forwarding for address family %i.", family);
        r = sysctl_read_int(path, &v);
        if (r < 0)
                return errmsg_set(r, "Cannot read %s: %s", name, strerror(-r));
        if (v != 0)
                return 0;
        if (!enable)
                return errmsg_set(-EPERM, "%s forwarding is off (%s = 0) and berthd.conf says IPForward=no: "
                                  "turn %s on, or set IPForward=yes in its [Network] section.", what, name, name);
        if (family == AF_INET6) {
                r = keep_router_advertisements();
                if (r < 0)
                        return r;
        }
        r = sysctl_write(path, "1");
        if (r < 0)
                return errmsg_set(r, "Cannot set %s to 1: %s", name, strerror(-r));
        return 0;
}
