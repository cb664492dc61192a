/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Each test enters a network namespace of its own first (Check forks every
 * test), so the links, routes and sysctls it touches are its own. What is
 * checked is read back by other means than the module's: getifaddrs(),
 * ioctls, /proc/thread-self/net; links the tests set up themselves are made
 * with libnl directly. */
#include <arpa/inet.h>
#include <fcntl.h>
#include <ifaddrs.h>
#include <net/if.h>
#include <poll.h>
#include <pthread.h>
#include <sched.h>
#include <signal.h>
#include <sys/ioctl.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <linux/if_addr.h>
#include <linux/sockios.h>
#include <netlink/netlink.h>
#include <netlink/route/addr.h>
#include <netlink/route/link.h>
#include <netlink/route/route.h>
#include <netlink/route/link/veth.h>

#include "check-util.h"

#include "netlink-link.h"

/* ---- Namespaces ---- */

static ino_t inode_of(const char *path) {
        struct stat st;

        ck_assert_int_eq(stat(path, &st), 0);
        return st.st_ino;
}

static ino_t fd_inode(int fd) {
        struct stat st;

        ck_assert_int_eq(fstat(fd, &st), 0);
        return st.st_ino;
}

static ino_t own_netns(void) {
        return inode_of("/proc/thread-self/ns/net");
}

/* A namespace of the test's own; /proc/sys/net shows the namespace of the
 * task that opens a file, so a fresh one lists lo only. Checked before
 * anything is written, so a test can never write the host's sysctls. */
static void netns_new(void) {
        DIR *d;
        struct dirent *de;
        size_t n = 0;

        ck_assert_int_eq(unshare(CLONE_NEWNET), 0);
        d = opendir("/proc/sys/net/ipv6/conf");
        ck_assert_ptr_nonnull(d);
        while ((de = readdir(d))) {
                if (de->d_name[0] == '.')
                        continue;
                ck_assert_msg(IN_SET_STR(de->d_name, "all", "default", "lo"), "host link %s seen", de->d_name);
                n++;
        }
        closedir(d);
        ck_assert_uint_eq(n, 3);
}

/* A process in a namespace of its own (the "container"), until stopped. */
typedef struct Child {
        pid_t pid;
        int hold;
        int netns;
} Child;

static void child_start(Child *c) {
        int ready[2], hold[2];
        char b;

        ck_assert_int_eq(pipe2(ready, O_CLOEXEC), 0);
        ck_assert_int_eq(pipe2(hold, O_CLOEXEC), 0);
        c->pid = fork();
        ck_assert_int_ge(c->pid, 0);
        if (c->pid == 0) {
                (void) prctl(PR_SET_PDEATHSIG, SIGKILL);
                close(ready[0]);
                close(hold[1]);
                if (unshare(CLONE_NEWNET) < 0 || write(ready[1], "x", 1) != 1)
                        _exit(EXIT_FAILURE);
                (void) read(hold[0], &b, 1);   /* EOF when the test is done */
                _exit(EXIT_SUCCESS);
        }
        close(ready[1]);
        close(hold[0]);
        ck_assert_int_eq(read(ready[0], &b, 1), 1);
        close(ready[0]);
        c->hold = hold[1];
        {
                char path[64];

                snprintf(path, sizeof path, "/proc/%d/ns/net", (int) c->pid);
                c->netns = open(path, O_RDONLY | O_CLOEXEC);
                ck_assert_int_ge(c->netns, 0);
                ck_assert_uint_ne(fd_inode(c->netns), own_netns());
        }
}

static void child_stop(Child *c) {
        int status;

        close(c->hold);
        ck_assert_int_eq(waitpid(c->pid, &status, 0), c->pid);
        ck_assert(WIFEXITED(status) && WEXITSTATUS(status) == 0);
        close(c->netns);
}

/* The test process (single-threaded) in netns for a while. */
static int enter(int netns) {
        int self = open("/proc/thread-self/ns/net", O_RDONLY | O_CLOEXEC);

        ck_assert_int_ge(self, 0);
        ck_assert_int_eq(setns(netns, CLONE_NEWNET), 0);
        return self;
}

static void leave(int self) {
        ck_assert_int_eq(setns(self, CLONE_NEWNET), 0);
        close(self);
}

/* ---- Reading links back ---- */

static int ifreq_ioctl(const char *name, unsigned long req, struct ifreq *ifr) {
        int fd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0), r;

        ck_assert_int_ge(fd, 0);
        memset(ifr, 0, sizeof *ifr);
        snprintf(ifr->ifr_name, sizeof ifr->ifr_name, "%s", name);
        r = ioctl(fd, req, ifr);
        close(fd);
        return r;
}

static unsigned link_flags(const char *name) {
        struct ifreq ifr;

        ck_assert_int_eq(ifreq_ioctl(name, SIOCGIFFLAGS, &ifr), 0);
        return (unsigned) (uint16_t) ifr.ifr_flags;
}

static int link_mtu(const char *name) {
        struct ifreq ifr;

        ck_assert_int_eq(ifreq_ioctl(name, SIOCGIFMTU, &ifr), 0);
        return ifr.ifr_mtu;
}

static void link_mac(const char *name, uint8_t mac[6]) {
        struct ifreq ifr;

        ck_assert_int_eq(ifreq_ioctl(name, SIOCGIFHWADDR, &ifr), 0);
        memcpy(mac, ifr.ifr_hwaddr.sa_data, 6);
}

static bool link_exists(const char *name) {
        return if_nametoindex(name) > 0;
}

static unsigned popcount_bytes(const uint8_t *p, size_t n) {
        unsigned c = 0;

        for (size_t i = 0; i < n; i++)
                c += (unsigned) __builtin_popcount(p[i]);
        return c;
}

/* How many addresses of family name has, and whether "addr/len" is one. */
static size_t link_addrs(const char *name, int family, const char *want, unsigned want_len, bool *found) {
        struct ifaddrs *ifa, *i;
        size_t n = 0;

        *found = false;
        ck_assert_int_eq(getifaddrs(&ifa), 0);
        for (i = ifa; i; i = i->ifa_next) {
                char s[INET6_ADDRSTRLEN];
                const void *a, *m;
                size_t size;

                if (!i->ifa_addr || i->ifa_addr->sa_family != family || !streq(i->ifa_name, name))
                        continue;
                if (family == AF_INET) {
                        a = &((struct sockaddr_in *) i->ifa_addr)->sin_addr;
                        m = &((struct sockaddr_in *) i->ifa_netmask)->sin_addr;
                        size = 4;
                } else {
                        a = &((struct sockaddr_in6 *) i->ifa_addr)->sin6_addr;
                        m = &((struct sockaddr_in6 *) i->ifa_netmask)->sin6_addr;
                        size = 16;
                        if (IN6_IS_ADDR_LINKLOCAL((const struct in6_addr *) a))
                                continue;
                }
                n++;
                inet_ntop(family, a, s, sizeof s);
                if (streq(s, want) && popcount_bytes(m, size) == want_len)
                        *found = true;
        }
        freeifaddrs(ifa);
        return n;
}

static bool has_addr(const char *name, int family, const char *want, unsigned want_len) {
        bool found;

        (void) link_addrs(name, family, want, want_len, &found);
        return found;
}

/* The IPv6 addresses of name (/proc/net/if_inet6), link-local included:
 * how many, and in *ret_flags the IFA_F_* flags of addr (-1 if absent). */
static int ipv6_addrs(const char *name, const char *addr, int *ret_flags) {
        FILE *f = fopen("/proc/thread-self/net/if_inet6", "re");
        struct in6_addr want = {};
        char hex[33], ifname[IFNAMSIZ + 1];
        unsigned idx, len, scope, flags;
        int n = 0;

        ck_assert_ptr_nonnull(f);
        if (addr)
                ck_assert_int_eq(inet_pton(AF_INET6, addr, &want), 1);
        if (ret_flags)
                *ret_flags = -1;
        while (fscanf(f, "%32s %x %x %x %x %16s", hex, &idx, &len, &scope, &flags, ifname) == 6) {
                uint8_t b[16];

                if (!streq(ifname, name))
                        continue;
                n++;
                for (size_t i = 0; i < 16; i++)
                        ck_assert_int_eq(sscanf(hex + 2 * i, "%2hhx", &b[i]), 1);
                if (addr && memcmp(b, &want, 16) == 0)
                        *ret_flags = (int) flags;
        }
        fclose(f);
        return n;
}

static int ipv6_addr_flags(const char *name, const char *addr) {
        int flags;

        (void) ipv6_addrs(name, addr, &flags);
        return flags;
}

static int ipv6_addr_count(const char *name) {
        return ipv6_addrs(name, NULL, NULL);
}

/* Whether there is a default route via gw out of name (/proc/net/route). */
static bool has_default_route4(const char *name, const char *gw) {
        FILE *f = fopen("/proc/thread-self/net/route", "re");
        char line[256], ifname[IFNAMSIZ + 1];
        unsigned dst, via, mask;
        struct in_addr want;
        bool found = false;

        ck_assert_ptr_nonnull(f);
        ck_assert_int_eq(inet_pton(AF_INET, gw, &want), 1);
        while (fgets(line, sizeof line, f))
                if (sscanf(line, "%16s %x %x %*x %*d %*d %*d %x", ifname, &dst, &via, &mask) == 4 &&
                    streq(ifname, name) && dst == 0 && mask == 0 && via == want.s_addr)
                        found = true;
        fclose(f);
        return found;
}

static bool has_default_route6(const char *name, const char *gw) {
        FILE *f = fopen("/proc/thread-self/net/ipv6_route", "re");
        char dst[33], src[33], via[33], ifname[IFNAMSIZ + 1], want[33];
        unsigned dlen, slen, metric, ref, use, flags;
        struct in6_addr g;
        bool found = false;

        ck_assert_ptr_nonnull(f);
        ck_assert_int_eq(inet_pton(AF_INET6, gw, &g), 1);
        for (size_t i = 0; i < 16; i++)
                snprintf(want + 2 * i, 3, "%02x", g.s6_addr[i]);
        while (fscanf(f, "%32s %x %32s %x %32s %x %x %x %x %16s", dst, &dlen, src, &slen, via, &metric, &ref, &use,
                      &flags, ifname) == 10)
                if (streq(ifname, name) && dlen == 0 && streq(via, want))
                        found = true;
        fclose(f);
        return found;
}

static int sysctl_get(const char *path) {
        char buf[32] = {};
        int fd = open(path, O_RDONLY | O_CLOEXEC);

        ck_assert_int_ge(fd, 0);
        ck_assert_int_gt(read(fd, buf, sizeof buf - 1), 0);
        close(fd);
        return atoi(buf);
}

static void sysctl_put(const char *path, const char *value) {
        int fd = open(path, O_WRONLY | O_CLOEXEC);

        ck_assert_int_ge(fd, 0);
        ck_assert_int_eq(write(fd, value, strlen(value)), (ssize_t) strlen(value));
        close(fd);
}

/* ---- Setting links up by hand (libnl directly) ---- */

static struct nl_sock *test_sock(void) {
        struct nl_sock *sk = nl_socket_alloc();

        ck_assert_ptr_nonnull(sk);
        ck_assert_int_eq(nl_connect(sk, NETLINK_ROUTE), 0);
        return sk;
}

static void test_link_set(const char *name, bool up, uint32_t mtu) {
        struct nl_sock *sk = test_sock();
        struct rtnl_link *orig = rtnl_link_alloc(), *change = rtnl_link_alloc();

        rtnl_link_set_ifindex(orig, (int) if_nametoindex(name));
        if (up)
                rtnl_link_set_flags(change, IFF_UP);
        else
                rtnl_link_unset_flags(change, IFF_UP);
        if (mtu > 0)
                rtnl_link_set_mtu(change, mtu);
        ck_assert_int_eq(rtnl_link_change(sk, orig, change, 0), 0);
        rtnl_link_put(orig);
        rtnl_link_put(change);
        nl_socket_free(sk);
}

/* A veth pair in the test's namespace, both ends up (this kernel may have
 * no dummy links). */
static void test_veth_pair(const char *a, const char *b) {
        struct nl_sock *sk = test_sock();

        ck_assert_int_eq(rtnl_link_veth_add(sk, a, b, getpid()), 0);
        nl_socket_free(sk);
        test_link_set(a, true, 0);
        test_link_set(b, true, 0);
}

static void test_addr(const char *name, const char *cidr, bool add) {
        struct nl_sock *sk = test_sock();
        struct rtnl_addr *a = rtnl_addr_alloc();
        struct nl_addr *local;

        ck_assert_int_eq(nl_addr_parse(cidr, AF_UNSPEC, &local), 0);
        rtnl_addr_set_ifindex(a, (int) if_nametoindex(name));
        rtnl_addr_set_family(a, nl_addr_get_family(local));
        ck_assert_int_eq(rtnl_addr_set_local(a, local), 0);
        if (nl_addr_get_family(local) == AF_INET6)
                rtnl_addr_set_flags(a, IFA_F_NODAD);
        ck_assert_int_eq(add ? rtnl_addr_add(sk, a, 0) : rtnl_addr_delete(sk, a, 0), 0);
        nl_addr_put(local);
        rtnl_addr_put(a);
        nl_socket_free(sk);
}

static void test_route(const char *dst, const char *gw, const char *name) {
        struct nl_sock *sk = test_sock();
        struct rtnl_route *rt = rtnl_route_alloc();
        struct rtnl_nexthop *nh = rtnl_route_nh_alloc();
        struct nl_addr *d, *g;

        ck_assert_int_eq(nl_addr_parse(dst, AF_INET, &d), 0);
        ck_assert_int_eq(nl_addr_parse(gw, AF_INET, &g), 0);
        rtnl_route_set_family(rt, AF_INET);
        ck_assert_int_eq(rtnl_route_set_dst(rt, d), 0);
        rtnl_route_nh_set_ifindex(nh, (int) if_nametoindex(name));
        rtnl_route_nh_set_gateway(nh, g);
        rtnl_route_add_nexthop(rt, nh);
        ck_assert_int_eq(rtnl_route_add(sk, rt, 0), 0);
        nl_addr_put(d);
        nl_addr_put(g);
        rtnl_route_put(rt);
        nl_socket_free(sk);
}

static const char *link_type(const char *name) {
        static char type[32];
        struct nl_sock *sk = test_sock();
        struct rtnl_link *l = NULL;

        ck_assert_int_eq(rtnl_link_get_kernel(sk, 0, name, &l), 0);
        snprintf(type, sizeof type, "%s", strempty(rtnl_link_get_type(l)));
        rtnl_link_put(l);
        nl_socket_free(sk);
        return type;
}

static int link_master(const char *name) {
        struct nl_sock *sk = test_sock();
        struct rtnl_link *l = NULL;
        int m;

        ck_assert_int_eq(rtnl_link_get_kernel(sk, 0, name, &l), 0);
        m = rtnl_link_get_master(l);
        rtnl_link_put(l);
        nl_socket_free(sk);
        return m;
}

/* ---- Specs ---- */

static LinkAddress la(const char *addr, unsigned prefixlen) {
        LinkAddress a = { .prefixlen = prefixlen };

        ck_assert_int_eq(in_addr_parse(addr, AF_UNSPEC, &a.addr), 0);
        return a;
}

static InAddr ia(const char *addr) {
        InAddr a;

        ck_assert_int_eq(in_addr_parse(addr, AF_UNSPEC, &a), 0);
        return a;
}

static LinkAddress bridge_addrs[2];

static BridgeSpec bridge_spec(void) {
        bridge_addrs[0] = la("10.89.0.1", 24);
        bridge_addrs[1] = la("fd00:89::1", 64);
        return (BridgeSpec) { .name = "berth0", .addrs = bridge_addrs, .n_addrs = 2, .mtu = 1400, .ipv6 = true,
                              .route_localnet = true };
}

static const uint8_t test_mac[6] = { 0x02, 0x42, 0x0a, 0x59, 0x00, 0x02 };
static LinkAddress veth_addrs[2];
static InAddr veth_gws[2];

static VethSpec veth_spec(int netns) {
        veth_addrs[0] = la("10.89.0.2", 24);
        veth_addrs[1] = la("fd00:89::2", 64);
        veth_gws[0] = ia("10.89.0.1");
        veth_gws[1] = ia("fd00:89::1");
        return (VethSpec) { .bridge = "berth0", .host_name = "vbtest0", .netns_fd = netns, .ifname = "eth0",
                            .mac = test_mac, .addrs = veth_addrs, .n_addrs = 2, .gateways = veth_gws,
                            .n_gateways = 2, .mtu = 1400, .ipv6 = true };
}

static void bridge_up(void) {
        BridgeSpec b = bridge_spec();

        errmsg_clear();
        ck_assert_msg(link_bridge_ensure(&b) == 0, "%s", strempty(errmsg_last()));
}

/* A namespace of the test's own with berth0, and a child in another. */
static void bridge_and_child(Child *c) {
        netns_new();
        bridge_up();
        child_start(c);
}

/* ---- Bridges ---- */

START_TEST(test_bridge_create) {
        bool found;
        uint8_t mac[6];
        int ifindex;

        netns_new();
        bridge_up();
        ck_assert_str_eq(link_type("berth0"), "bridge");
        ck_assert(link_flags("berth0") & IFF_UP);
        ck_assert_int_eq(link_mtu("berth0"), 1400);
        ck_assert(has_addr("berth0", AF_INET, "10.89.0.1", 24));
        ck_assert(has_addr("berth0", AF_INET6, "fd00:89::1", 64));
        /* Usable at once: no duplicate address detection. */
        ck_assert_int_ge(ipv6_addr_flags("berth0", "fd00:89::1"), 0);
        ck_assert_int_eq(ipv6_addr_flags("berth0", "fd00:89::1") & IFA_F_TENTATIVE, 0);
        ck_assert_int_ne(ipv6_addr_flags("berth0", "fd00:89::1") & IFA_F_NODAD, 0);
        ck_assert_int_eq(sysctl_get("/proc/sys/net/ipv6/conf/berth0/accept_ra"), 0);
        ck_assert_int_eq(sysctl_get("/proc/sys/net/ipv6/conf/berth0/autoconf"), 0);
        ck_assert_int_eq(sysctl_get("/proc/sys/net/ipv4/conf/berth0/route_localnet"), 1);
        /* A MAC of its own, locally administered, unicast. */
        link_mac("berth0", mac);
        ck_assert_int_eq(mac[0] & 3, 2);

        /* Twice is once. */
        ifindex = (int) if_nametoindex("berth0");
        bridge_up();
        ck_assert_int_eq((int) if_nametoindex("berth0"), ifindex);
        ck_assert_uint_eq(link_addrs("berth0", AF_INET, "10.89.0.1", 24, &found), 1);
        ck_assert(found);
        ck_assert_uint_eq(link_addrs("berth0", AF_INET6, "fd00:89::1", 64, &found), 1);
        ck_assert(found);
}
END_TEST

START_TEST(test_bridge_fix) {
        netns_new();
        bridge_up();
        /* A crash, an admin, another network that had the name before. */
        test_addr("berth0", "10.89.0.1/24", false);
        test_addr("berth0", "10.99.0.1/16", true);
        test_addr("berth0", "fd00:99::1/64", true);
        test_link_set("berth0", false, 1500);
        sysctl_put("/proc/sys/net/ipv6/conf/berth0/accept_ra", "1");
        ck_assert(!has_addr("berth0", AF_INET, "10.89.0.1", 24));

        bridge_up();
        ck_assert(has_addr("berth0", AF_INET, "10.89.0.1", 24));
        ck_assert(has_addr("berth0", AF_INET6, "fd00:89::1", 64));
        ck_assert(!has_addr("berth0", AF_INET, "10.99.0.1", 16));
        ck_assert(!has_addr("berth0", AF_INET6, "fd00:99::1", 64));
        ck_assert(link_flags("berth0") & IFF_UP);
        ck_assert_int_eq(link_mtu("berth0"), 1400);
        ck_assert_int_eq(sysctl_get("/proc/sys/net/ipv6/conf/berth0/accept_ra"), 0);

        /* Deleted by an admin: made again. */
        ck_assert_int_eq(link_bridge_remove("berth0"), 0);
        ck_assert(!link_exists("berth0"));
        ck_assert_int_eq(link_bridge_remove("berth0"), 0);
        bridge_up();
        ck_assert(has_addr("berth0", AF_INET, "10.89.0.1", 24));
        ck_assert(link_flags("berth0") & IFF_UP);
}
END_TEST

/* By index: what the teardown notes, and removes later if still there. */
START_TEST(test_link_index) {
        int ifindex;

        netns_new();
        bridge_up();
        ifindex = link_index("berth0");
        ck_assert_int_eq(ifindex, (int) if_nametoindex("berth0"));
        ck_assert_int_eq(link_index("nosuch0"), 0);
        ck_assert_int_eq(link_index("bad/name"), -EINVAL);
        ck_assert_int_eq(link_remove_index(ifindex), 0);
        ck_assert(!link_exists("berth0"));
        ck_assert_int_eq(link_remove_index(ifindex), 0);
        /* Made again under the same name: a new index, untouched by the old one's removal. */
        bridge_up();
        ck_assert_int_ne(link_index("berth0"), ifindex);
        ck_assert_int_eq(link_remove_index(ifindex), 0);
        ck_assert(link_exists("berth0"));
        ck_assert_int_eq(link_remove_index(0), -EINVAL);
}
END_TEST

START_TEST(test_bridge_not_bridge) {
        BridgeSpec b = bridge_spec();

        netns_new();
        test_veth_pair("berth0", "berth0p");
        errmsg_clear();
        ck_assert_int_eq(link_bridge_ensure(&b), -EEXIST);
        ck_assert_ptr_nonnull(strstr(strempty(errmsg_last()), "berth0"));
        ck_assert_ptr_nonnull(strstr(strempty(errmsg_last()), "veth"));
        ck_assert(!has_addr("berth0", AF_INET, "10.89.0.1", 24));
        /* Not removed either. */
        ck_assert_int_eq(link_bridge_remove("berth0"), -EEXIST);
        ck_assert(link_exists("berth0"));

        /* Names that would leave /proc/sys/net/.../conf/. */
        b.name = "../all";
        ck_assert_int_eq(link_bridge_ensure(&b), -EINVAL);
        b.name = "berth0123456789x";
        ck_assert_int_eq(link_bridge_ensure(&b), -EINVAL);
}
END_TEST

/* ---- Veths ---- */

static void check_inside(int netns) {
        int self = enter(netns);
        uint8_t mac[6];

        ck_assert(link_exists("eth0"));
        ck_assert(link_flags("eth0") & IFF_UP);
        ck_assert(link_flags("eth0") & IFF_MULTICAST);
        ck_assert_int_eq(link_mtu("eth0"), 1400);
        link_mac("eth0", mac);
        ck_assert_mem_eq(mac, test_mac, 6);
        ck_assert(has_addr("eth0", AF_INET, "10.89.0.2", 24));
        ck_assert(has_addr("eth0", AF_INET6, "fd00:89::2", 64));
        ck_assert_int_ge(ipv6_addr_flags("eth0", "fd00:89::2"), 0);
        ck_assert_int_eq(ipv6_addr_flags("eth0", "fd00:89::2") & IFA_F_TENTATIVE, 0);
        ck_assert(has_default_route4("eth0", "10.89.0.1"));
        ck_assert(has_default_route6("eth0", "fd00:89::1"));
        ck_assert(link_flags("lo") & IFF_UP);
        leave(self);
}

static bool link_exists_in(int netns, const char *name) {
        int self = enter(netns);
        bool r = link_exists(name);

        leave(self);
        return r;
}

START_TEST(test_veth) {
        Child c;
        VethSpec v;

        bridge_and_child(&c);
        v = veth_spec(c.netns);
        errmsg_clear();
        ck_assert_msg(link_veth_add(&v) == 0, "%s", strempty(errmsg_last()));
        ck_assert(link_exists("vbtest0"));
        ck_assert(!link_exists("eth0"));
        ck_assert_int_eq(link_master("vbtest0"), (int) if_nametoindex("berth0"));
        ck_assert(link_flags("vbtest0") & IFF_UP);
        ck_assert_int_eq(link_mtu("vbtest0"), 1400);
        /* A bridge port: no address, not even a link-local one. */
        ck_assert_int_eq(sysctl_get("/proc/sys/net/ipv6/conf/vbtest0/disable_ipv6"), 1);
        ck_assert_int_eq(ipv6_addr_count("vbtest0"), 0);
        check_inside(c.netns);

        ck_assert_int_eq(link_remove("vbtest0"), 0);
        ck_assert(!link_exists("vbtest0"));
        ck_assert(!link_exists_in(c.netns, "eth0"));
        ck_assert_int_eq(link_remove("vbtest0"), 0);

        /* No MAC, no MTU, no routes: the kernel's choices; a second network. */
        v.mac = NULL;
        v.mtu = 0;
        v.n_gateways = 0;
        v.ifname = "eth1";
        ck_assert_msg(link_veth_add(&v) == 0, "%s", strempty(errmsg_last()));
        ck_assert(link_exists_in(c.netns, "eth1"));
        child_stop(&c);
}
END_TEST

static void wait_connected(int fd) {
        struct pollfd p = { .fd = fd, .events = POLLOUT };
        int err = -1;
        socklen_t len = sizeof err;

        ck_assert_int_eq(poll(&p, 1, 5000), 1);
        ck_assert_int_eq(getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &len), 0);
        ck_assert_msg(err == 0, "connect: %s", strerror(err));
}

/* A TCP connection from the container's namespace to the host's end of the
 * bridge: link, addresses, routes and the bridge's ports all work. */
static void connect_through(int netns, int family, const char *addr) {
        struct sockaddr_storage ss = {};
        socklen_t len = family == AF_INET ? sizeof(struct sockaddr_in) : sizeof(struct sockaddr_in6);
        int l, s, a;
        ino_t before = own_netns();

        ss.ss_family = (sa_family_t) family;
        if (family == AF_INET)
                ck_assert_int_eq(inet_pton(AF_INET, addr, &((struct sockaddr_in *) &ss)->sin_addr), 1);
        else
                ck_assert_int_eq(inet_pton(AF_INET6, addr, &((struct sockaddr_in6 *) &ss)->sin6_addr), 1);
        l = socket(family, SOCK_STREAM | SOCK_CLOEXEC, 0);
        ck_assert_int_ge(l, 0);
        ck_assert_msg(bind(l, (struct sockaddr *) &ss, len) == 0, "bind %s: %m", addr);
        ck_assert_int_eq(listen(l, 1), 0);
        ck_assert_int_eq(getsockname(l, (struct sockaddr *) &ss, &len), 0);

        s = netns_socket(netns, family, SOCK_STREAM | SOCK_NONBLOCK, 0);
        ck_assert_int_ge(s, 0);
        ck_assert_uint_eq(own_netns(), before);
        ck_assert(fcntl(s, F_GETFD) & FD_CLOEXEC);
        if (connect(s, (struct sockaddr *) &ss, len) < 0)
                ck_assert_int_eq(errno, EINPROGRESS);
        wait_connected(s);
        a = accept4(l, NULL, NULL, SOCK_CLOEXEC);
        ck_assert_int_ge(a, 0);
        ck_assert_int_eq(write(s, "ping", 4), 4);
        {
                char b[4];
                ck_assert_int_eq(read(a, b, 4), 4);
                ck_assert_mem_eq(b, "ping", 4);
        }
        close(a);
        close(s);
        close(l);
}

START_TEST(test_connectivity) {
        Child c;
        VethSpec v;

        bridge_and_child(&c);
        v = veth_spec(c.netns);
        ck_assert_msg(link_veth_add(&v) == 0, "%s", strempty(errmsg_last()));
        connect_through(c.netns, AF_INET, "10.89.0.1");
        connect_through(c.netns, AF_INET6, "fd00:89::1");
        child_stop(&c);
}
END_TEST

static void veth_fails(const VethSpec *v, int error, const char *sentence) {
        errmsg_clear();
        ck_assert_int_eq(link_veth_add(v), error);
        ck_assert_msg(strstr(strempty(errmsg_last()), sentence), "\"%s\" lacks \"%s\"", strempty(errmsg_last()),
                      sentence);
        ck_assert(!link_exists(v->host_name));
}

START_TEST(test_veth_failures) {
        LinkAddress twice[2];
        InAddr far;
        Child c;
        VethSpec v;
        int self;

        bridge_and_child(&c);

        /* An address conflict: the pair goes. */
        v = veth_spec(c.netns);
        twice[0] = twice[1] = la("10.89.0.2", 24);
        v.addrs = twice;
        veth_fails(&v, -EEXIST, "Cannot add address 10.89.0.2/24 to eth0 of the container: File exists");
        ck_assert(!link_exists_in(c.netns, "eth0"));

        /* A gateway nothing leads to. */
        v = veth_spec(c.netns);
        far = ia("192.0.2.1");
        v.gateways = &far;
        v.n_gateways = 1;
        veth_fails(&v, -ENETUNREACH, "Cannot add the default route via 192.0.2.1 to eth0 of the container");
        ck_assert(!link_exists_in(c.netns, "eth0"));

        /* No such bridge. */
        v = veth_spec(c.netns);
        v.bridge = "berth9";
        veth_fails(&v, -ENODEV, "berth9");

        /* A multicast MAC, a name that is no name. */
        v = veth_spec(c.netns);
        v.mac = (const uint8_t[]) { 0x01, 0, 0x5e, 0, 0, 1 };
        veth_fails(&v, -EINVAL, "multicast");
        v = veth_spec(c.netns);
        v.ifname = "eth0/x";
        ck_assert_int_eq(link_veth_add(&v), -EINVAL);
        /* Not into the host's own namespace. */
        {
                int own = open("/proc/thread-self/ns/net", O_RDONLY | O_CLOEXEC);

                v = veth_spec(own);
                veth_fails(&v, -EINVAL, "host's network namespace");
                ck_assert(!link_exists("eth0"));
                close(own);
        }

        /* The name is taken inside. */
        self = enter(c.netns);
        test_veth_pair("eth0", "eth0p");
        leave(self);
        v = veth_spec(c.netns);
        veth_fails(&v, -EEXIST, "Cannot add eth0 to the container: a link of that name exists there.");
        ck_assert(link_exists_in(c.netns, "eth0p"));
        child_stop(&c);
}
END_TEST

/* An IPv4 network: no IPv6 inside at all, so nothing of it to flood. */
START_TEST(test_veth_ipv4_only) {
        Child c;
        VethSpec v;
        int self;

        bridge_and_child(&c);
        v = veth_spec(c.netns);
        v.ipv6 = false;
        veth_fails(&v, -EINVAL, "of the container has no IPv6 for fd00:89::2/64");

        v.n_addrs = 1;
        v.n_gateways = 1;
        ck_assert_msg(link_veth_add(&v) == 0, "%s", strempty(errmsg_last()));
        self = enter(c.netns);
        ck_assert(link_flags("eth0") & IFF_UP);
        ck_assert_int_eq(sysctl_get("/proc/sys/net/ipv6/conf/eth0/disable_ipv6"), 1);
        ck_assert_int_eq(ipv6_addr_count("eth0"), 0);
        ck_assert(has_addr("eth0", AF_INET, "10.89.0.2", 24));
        ck_assert_int_eq(sysctl_get("/proc/sys/net/ipv6/conf/lo/disable_ipv6"), 0);
        leave(self);
        connect_through(c.netns, AF_INET, "10.89.0.1");

        /* On an IPv6 network it has IPv6. */
        v = veth_spec(c.netns);
        v.host_name = "vbtest1";
        v.ifname = "eth1";
        v.n_gateways = 0;
        v.addrs = &veth_addrs[1];
        v.n_addrs = 1;
        ck_assert_msg(link_veth_add(&v) == 0, "%s", strempty(errmsg_last()));
        self = enter(c.netns);
        ck_assert_int_eq(sysctl_get("/proc/sys/net/ipv6/conf/eth1/disable_ipv6"), 0);
        ck_assert_int_ge(ipv6_addr_count("eth1"), 1);    /* link-local: once the carrier is seen */
        ck_assert_int_eq(sysctl_get("/proc/sys/net/ipv6/conf/eth0/disable_ipv6"), 1);
        leave(self);
        child_stop(&c);
}
END_TEST

/* The kernel takes 1,023 ports on a bridge: the next is a sentence. */
START_TEST(test_veth_bridge_full) {
        struct nl_sock *sk;
        int master;
        Child c;
        VethSpec v;

        bridge_and_child(&c);
        sk = test_sock();
        master = (int) if_nametoindex("berth0");
        for (int i = 0; i < BRIDGE_PORTS_MAX; i++) {    /* veths: this kernel may have no dummy links */
                struct rtnl_link *l = rtnl_link_veth_alloc();
                char name[IFNAMSIZ];

                snprintf(name, sizeof name, "p%d", i);
                rtnl_link_set_name(l, name);
                rtnl_link_set_master(l, master);
                ck_assert_int_eq(rtnl_link_add(sk, l, NLM_F_CREATE | NLM_F_EXCL), 0);
                rtnl_link_put(l);
        }
        nl_socket_free(sk);
        v = veth_spec(c.netns);
        veth_fails(&v, -EXFULL, "The bridge berth0 has 1023 containers, as many as the kernel allows on one bridge");
        ck_assert(!link_exists_in(c.netns, "eth0"));
        child_stop(&c);
}
END_TEST

/* A crash left the host end of a previous start: it is made again. */
START_TEST(test_veth_leftover) {
        Child c;
        VethSpec v;

        bridge_and_child(&c);
        test_veth_pair("vbtest0", "old0");
        v = veth_spec(c.netns);
        ck_assert_msg(link_veth_add(&v) == 0, "%s", strempty(errmsg_last()));
        ck_assert(!link_exists("old0"));
        ck_assert_int_eq(link_master("vbtest0"), (int) if_nametoindex("berth0"));
        check_inside(c.netns);

        /* But a link of the name that is no veth is nobody's leftover. */
        ck_assert_int_eq(link_remove("vbtest0"), 0);
        v.host_name = "berth0";
        errmsg_clear();
        ck_assert_int_eq(link_veth_add(&v), -EEXIST);
        ck_assert_ptr_nonnull(strstr(strempty(errmsg_last()), "is not a veth"));
        ck_assert_str_eq(link_type("berth0"), "bridge");
        ck_assert(!link_exists_in(c.netns, "eth0"));
        child_stop(&c);
}
END_TEST

START_TEST(test_loopback_up) {
        Child c;
        int self;

        netns_new();
        child_start(&c);
        ck_assert_int_eq(link_loopback_up(c.netns), 0);
        self = enter(c.netns);
        ck_assert(link_flags("lo") & IFF_UP);
        leave(self);
        ck_assert(!(link_flags("lo") & IFF_UP));
        child_stop(&c);
}
END_TEST

/* ---- Namespaces ---- */

static void check_pidfd_netns(int (*open_netns)(int), const Child *c, int pidfd) {
        ino_t before = own_netns();
        int fd = open_netns(pidfd);

        ck_assert_msg(fd >= 0, "%s", strempty(errmsg_last()));
        ck_assert_uint_eq(fd_inode(fd), fd_inode(c->netns));
        ck_assert(fcntl(fd, F_GETFD) & FD_CLOEXEC);
        ck_assert_uint_eq(own_netns(), before);
        close(fd);
}

START_TEST(test_netns_pidfd) {
        Child c;
        int pidfd;

        netns_new();
        child_start(&c);
        pidfd = (int) syscall(SYS_pidfd_open, c.pid, 0);
        ck_assert_int_ge(pidfd, 0);
        check_pidfd_netns(netns_open_pidfd, &c, pidfd);
        check_pidfd_netns(netns_open_pidfd_thread, &c, pidfd);
        child_stop(&c);
        /* Gone: an error, not some other namespace. */
        ck_assert_int_lt(netns_open_pidfd(pidfd), 0);
        ck_assert_int_lt(netns_open_pidfd_thread(pidfd), 0);
        ck_assert_int_eq(netns_open_pidfd(-EBADF), -EBADF);
        close(pidfd);
}
END_TEST

typedef struct SocketThread {
        int netns;
        ino_t before, after;
        int fd, failed;
} SocketThread;

static void *socket_thread(void *userdata) {
        SocketThread *t = userdata;

        t->before = own_netns();
        t->fd = netns_socket(t->netns, AF_INET, SOCK_DGRAM, 0);
        t->failed = netns_socket(t->netns, AF_INET, 4242, 0);
        t->after = own_netns();
        return NULL;
}

/* In the child's namespace, not this one's; links made there after it take it. */
START_TEST(test_netns_ipv6_defaults) {
        _cleanup_close_ int self = -EBADF;
        ino_t mine;
        Child c;

        netns_new();
        child_start(&c);
        mine = own_netns();
        ck_assert_int_eq(sysctl_get("/proc/sys/net/ipv6/conf/default/accept_ra"), 1);
        errmsg_clear();
        ck_assert_msg(netns_ipv6_defaults(c.netns) == 0, "%s", strempty(errmsg_last()));
        ck_assert_uint_eq(own_netns(), mine);
        ck_assert_int_eq(sysctl_get("/proc/sys/net/ipv6/conf/default/accept_ra"), 1);
        ck_assert_int_eq(sysctl_get("/proc/sys/net/ipv6/conf/all/accept_ra"), 1);
        ck_assert_int_eq(sysctl_get("/proc/sys/net/ipv6/conf/default/accept_dad"), 1);

        self = open("/proc/thread-self/ns/net", O_RDONLY | O_CLOEXEC);
        ck_assert_int_ge(self, 0);
        ck_assert_int_eq(setns(c.netns, CLONE_NEWNET), 0);
        ck_assert_int_eq(sysctl_get("/proc/sys/net/ipv6/conf/default/accept_ra"), 0);
        ck_assert_int_eq(sysctl_get("/proc/sys/net/ipv6/conf/all/accept_ra"), 0);
        ck_assert_int_eq(system("ip link add rafoo type bridge"), 0);
        ck_assert_int_eq(sysctl_get("/proc/sys/net/ipv6/conf/rafoo/accept_ra"), 0);
        ck_assert_int_eq(sysctl_get("/proc/sys/net/ipv6/conf/rafoo/accept_dad"), 0);
        ck_assert_int_eq(setns(self, CLONE_NEWNET), 0);
        ck_assert_uint_eq(own_netns(), mine);

        ck_assert_int_eq(netns_ipv6_defaults(-EBADF), -EBADF);
        ck_assert_uint_eq(own_netns(), mine);
        child_stop(&c);
}
END_TEST

START_TEST(test_netns_socket) {
        SocketThread t = {};
        pthread_t th;
        ino_t mine;
        Child c;
        int fd, nsfd, devnull;

        netns_new();
        child_start(&c);
        mine = own_netns();

        /* The socket lives in the child's namespace; this thread stays in its own. */
        fd = netns_socket(c.netns, AF_INET, SOCK_DGRAM, 0);
        ck_assert_int_ge(fd, 0);
        ck_assert_uint_eq(own_netns(), mine);
        nsfd = ioctl(fd, SIOCGSKNS);
        ck_assert_int_ge(nsfd, 0);
        ck_assert_uint_eq(fd_inode(nsfd), fd_inode(c.netns));
        close(nsfd);
        close(fd);

        /* Failing inside, failing to enter: back home either way. */
        ck_assert_int_lt(netns_socket(c.netns, AF_INET, 4242, 0), 0);
        ck_assert_uint_eq(own_netns(), mine);
        devnull = open("/dev/null", O_RDONLY | O_CLOEXEC);
        ck_assert_int_eq(netns_socket(devnull, AF_INET, SOCK_DGRAM, 0), -EINVAL);
        ck_assert_uint_eq(own_netns(), mine);
        close(devnull);

        /* From a worker thread: it comes back, the main thread never moved. */
        t.netns = c.netns;
        ck_assert_int_eq(pthread_create(&th, NULL, socket_thread, &t), 0);
        ck_assert_int_eq(pthread_join(th, NULL), 0);
        ck_assert_int_ge(t.fd, 0);
        ck_assert_int_lt(t.failed, 0);
        ck_assert_uint_eq(t.before, mine);
        ck_assert_uint_eq(t.after, mine);
        ck_assert_uint_eq(own_netns(), mine);
        nsfd = ioctl(t.fd, SIOCGSKNS);
        ck_assert_uint_eq(fd_inode(nsfd), fd_inode(c.netns));
        close(nsfd);
        close(t.fd);
        child_stop(&c);
}
END_TEST

/* ---- Forwarding ---- */

START_TEST(test_ip_forward) {
        int host_fwd = open("/proc/sys/net/ipv4/ip_forward", O_RDONLY | O_CLOEXEC), lo_ra;
        char before[8] = {}, after[8] = {};

        /* Opened before unshare: the host's value, which must not change. */
        ck_assert_int_ge(host_fwd, 0);
        ck_assert_int_gt(pread(host_fwd, before, sizeof before - 1, 0), 0);

        netns_new();
        test_veth_pair("d0", "d1");
        sysctl_put("/proc/sys/net/ipv6/conf/d0/accept_ra", "1");
        sysctl_put("/proc/sys/net/ipv6/conf/d1/accept_ra", "0");
        sysctl_put("/proc/sys/net/ipv4/ip_forward", "0");
        sysctl_put("/proc/sys/net/ipv6/conf/all/forwarding", "0");
        lo_ra = sysctl_get("/proc/sys/net/ipv6/conf/lo/accept_ra");

        errmsg_clear();
        ck_assert_int_eq(ip_forward_ensure(AF_INET, false), -EPERM);
        ck_assert_ptr_nonnull(strstr(strempty(errmsg_last()), "net.ipv4.ip_forward"));
        ck_assert_ptr_nonnull(strstr(strempty(errmsg_last()), "IPForward="));
        ck_assert_int_eq(ip_forward_ensure(AF_INET6, false), -EPERM);
        ck_assert_ptr_nonnull(strstr(strempty(errmsg_last()), "net.ipv6.conf.all.forwarding"));
        ck_assert_int_eq(sysctl_get("/proc/sys/net/ipv4/ip_forward"), 0);
        ck_assert_int_eq(sysctl_get("/proc/sys/net/ipv6/conf/d0/accept_ra"), 1);

        ck_assert_int_eq(ip_forward_ensure(AF_INET6, true), 0);
        ck_assert_int_eq(sysctl_get("/proc/sys/net/ipv6/conf/all/forwarding"), 1);
        ck_assert_int_eq(sysctl_get("/proc/sys/net/ipv6/conf/d0/accept_ra"), 2);
        ck_assert_int_eq(sysctl_get("/proc/sys/net/ipv6/conf/d1/accept_ra"), 0);
        ck_assert_int_eq(sysctl_get("/proc/sys/net/ipv6/conf/lo/accept_ra"), lo_ra);
        ck_assert_int_eq(ip_forward_ensure(AF_INET, true), 0);
        ck_assert_int_eq(sysctl_get("/proc/sys/net/ipv4/ip_forward"), 1);
        /* On already: nothing to refuse. */
        ck_assert_int_eq(ip_forward_ensure(AF_INET, false), 0);
        ck_assert_int_eq(ip_forward_ensure(AF_INET6, false), 0);
        ck_assert_int_eq(ip_forward_ensure(AF_UNIX, true), -EAFNOSUPPORT);

        ck_assert_int_gt(pread(host_fwd, after, sizeof after - 1, 0), 0);
        ck_assert_str_eq(after, before);
        close(host_fwd);
}
END_TEST

/* ---- Routes ---- */

static bool routes_have(const InPrefix *l, size_t n, const char *prefix) {
        InPrefix p;

        ck_assert_int_eq(in_prefix_parse(prefix, AF_UNSPEC, &p), 0);
        for (size_t i = 0; i < n; i++)
                if (in_addr_equal(&l[i].addr, &p.addr) && l[i].prefixlen == p.prefixlen)
                        return true;
        return false;
}

START_TEST(test_host_routes) {
        InPrefix *l = NULL;
        size_t n = 0;

        netns_new();
        bridge_up();
        test_veth_pair("d0", "d1");
        test_addr("d0", "198.18.5.1/24", true);
        test_addr("d0", "2001:db8:5::1/64", true);
        test_route("198.19.0.0/16", "198.18.5.2", "d0");
        test_route("0.0.0.0/0", "198.18.5.2", "d0");

        ck_assert_int_eq(link_host_routes("berth", &l, &n), 0);
        ck_assert(routes_have(l, n, "198.18.5.0/24"));
        ck_assert(routes_have(l, n, "198.19.0.0/16"));
        ck_assert(routes_have(l, n, "2001:db8:5::/64"));
        ck_assert(!routes_have(l, n, "10.89.0.0/24"));
        ck_assert(!routes_have(l, n, "fd00:89::/64"));
        for (size_t i = 0; i < n; i++) {
                char s[IN_PREFIX_STRLEN];

                ck_assert_msg(l[i].prefixlen > 0, "default route listed");
                ck_assert_msg(!(l[i].addr.family == AF_INET6 && l[i].addr.bytes[0] == 0xfe), "%s listed",
                              in_prefix_to_string(&l[i], s));
        }
        free(l);

        /* The bridge's routes are there; the prefix is what leaves them out. */
        ck_assert_int_eq(link_host_routes("", &l, &n), 0);
        ck_assert(routes_have(l, n, "10.89.0.0/24"));
        ck_assert(routes_have(l, n, "fd00:89::/64"));
        free(l);
}
END_TEST

int main(void) {
        Suite *s = suite_create("netlink");
        TCase *tc = tcase_create("core");

        tcase_set_timeout(tc, 60);
        tcase_add_test(tc, test_bridge_create);
        tcase_add_test(tc, test_bridge_fix);
        tcase_add_test(tc, test_bridge_not_bridge);
        tcase_add_test(tc, test_veth);
        tcase_add_test(tc, test_connectivity);
        tcase_add_test(tc, test_veth_failures);
        tcase_add_test(tc, test_veth_leftover);
        tcase_add_test(tc, test_loopback_up);
        tcase_add_test(tc, test_netns_pidfd);
        tcase_add_test(tc, test_netns_socket);
        tcase_add_test(tc, test_link_index);
        tcase_add_test(tc, test_netns_ipv6_defaults);
        tcase_add_test(tc, test_veth_ipv4_only);
        tcase_add_test(tc, test_veth_bridge_full);
        tcase_add_test(tc, test_ip_forward);
        tcase_add_test(tc, test_host_routes);
        suite_add_tcase(s, tc);
        return check_run_suite(s);
}
