/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <fcntl.h>
#include <sys/socket.h>
#include <sys/stat.h>

#include "check-util.h"

#include "fileio.h"
#include "json-util.h"
#include "names.h"
#include "network.h"

#define MACHINE_ID "0123456789abcdef0123456789abcdef"

/* Made and removed by the runner process (an unchecked fixture), so that a
 * failed assertion in a forked test leaves nothing behind. */
static char suite_dir[64];

static void suite_setup(void) {
        snprintf(suite_dir, sizeof suite_dir, "/var/tmp/berth-test-network.XXXXXX");
        ck_assert_ptr_nonnull(mkdtemp(suite_dir));
}

static void suite_teardown(void) {
        (void) rm_rf_at(AT_FDCWD, suite_dir);
}

typedef struct T {
        int root_fd;
        NetworkTable *table;
} T;

static T t_new(void) {
        _cleanup_free_ char *p = strjoin(suite_dir, "/root.XXXXXX");
        NetworkPools pools;
        T t = {};

        ck_assert_ptr_nonnull(p);
        ck_assert_ptr_nonnull(mkdtemp(p));
        t.root_fd = open(p, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        ck_assert_int_ge(t.root_fd, 0);
        network_pools_default(&pools, MACHINE_ID);
        ck_assert_int_eq(network_table_new(t.root_fd, &pools, &t.table), 0);
        return t;
}

/* A second table on the same root, as berthd has after a restart. */
static NetworkTable *t_reload(const T *t, bool (*is_live)(const char *, void *), void *userdata) {
        NetworkTable *again = NULL;
        NetworkPools pools;

        network_pools_default(&pools, MACHINE_ID);
        ck_assert_int_eq(network_table_new(t->root_fd, &pools, &again), 0);
        ck_assert_int_eq(network_table_load(again, is_live, userdata), 0);
        return again;
}

static void t_done(T *t) {
        t->table = network_table_free(t->table);
        t->root_fd = safe_close(t->root_fd);
}

static const char *cid(unsigned k) {
        static char ids[16][CONTAINER_ID_LENGTH + 1];

        ck_assert_uint_lt(k, ELEMENTSOF(ids));
        snprintf(ids[k], sizeof ids[k], "%064x", 0xc0de00u + k);
        return ids[k];
}

static InPrefix prefix(const char *s) {
        InPrefix p;

        ck_assert_msg(in_prefix_parse(s, AF_UNSPEC, &p) == 0, "%s", s);
        return p;
}

static InAddr addr(const char *s) {
        InAddr a;

        ck_assert_msg(in_addr_parse(s, AF_UNSPEC, &a) == 0, "%s", s);
        return a;
}

static void assert_prefix(const InPrefix *p, const char *want) {
        char buf[IN_PREFIX_STRLEN];

        ck_assert_str_eq(in_prefix_to_string(p, buf), want);
}

static void assert_addr(const InAddr *a, const char *want) {
        char buf[IN_ADDR_STRLEN];

        ck_assert_str_eq(in_addr_to_string(a, buf), want);
}

static void assert_errmsg(const char *part) {
        ck_assert_ptr_nonnull(errmsg_last());
        ck_assert_msg(strstr(errmsg_last(), part), "'%s' lacks '%s'", errmsg_last(), part);
}

/* The number of entries of a directory below the root, -1 if it is missing. */
static int count_entries(int root_fd, const char *path) {
        _cleanup_(closedirp) DIR *d = NULL;
        int fd = openat(root_fd, path, O_RDONLY | O_DIRECTORY | O_CLOEXEC), n = 0;
        struct dirent *de;

        if (fd < 0)
                return -1;
        d = fdopendir(fd);
        ck_assert_ptr_nonnull(d);
        while ((de = readdir(d)))
                n += !streq(de->d_name, ".") && !streq(de->d_name, "..");
        return n;
}

static char *lease_path(const Network *n, const char *address) {
        char *p = strjoin(NETWORK_DIR "/", n->id, ".leases/", address);

        ck_assert_ptr_nonnull(p);
        return p;
}

static bool lease_file_exists(const T *t, const Network *n, const char *address) {
        _cleanup_free_ char *p = lease_path(n, address);

        return faccessat(t->root_fd, p, F_OK, AT_SYMLINK_NOFOLLOW) == 0;
}

static Network *t_create(T *t, const char *name, const char *subnet, const char *range) {
        InPrefix s, r;
        NetworkCreateSpec spec = { .name = name };
        Network *n = NULL;

        if (subnet) {
                s = prefix(subnet);
                spec.subnets = &s;
                spec.n_subnets = 1;
        }
        if (range) {
                r = prefix(range);
                spec.ip_ranges = &r;
                spec.n_ip_ranges = 1;
        }
        errmsg_clear();
        if (network_table_create(t->table, &spec, NULL, 0, &n) < 0)
                ck_abort_msg("create %s: %s", name, errmsg_last());
        return n;
}

static InAddr t_lease(T *t, Network *n, const char *container_id) {
        InAddr a[2] = {};

        errmsg_clear();
        if (network_lease(t->table, n, container_id, NULL, NULL, a) < 0)
                ck_abort_msg("lease on %s: %s", n->name, errmsg_last());
        return a[0];
}

START_TEST(test_pools) {
        NetworkPools p, q;

        network_pools_default(&p, MACHINE_ID);
        assert_prefix(&p.default_v4, "10.88.0.0/16");
        assert_prefix(&p.user_v4, "10.89.0.0/16");
        ck_assert_uint_eq(p.user_v4_prefixlen, 24);
        /* RFC 4193: fd, then 40 bits of the machine id */
        assert_prefix(&p.ula_v6, "fd01:2345:6789::/48");
        network_pools_default(&q, MACHINE_ID);
        ck_assert(in_addr_equal(&p.ula_v6.addr, &q.ula_v6.addr));
        /* without a usable machine id, still a ULA /48 */
        network_pools_default(&q, "not hex at all");
        ck_assert_uint_eq(q.ula_v6.prefixlen, 48);
        ck_assert_uint_eq(q.ula_v6.addr.bytes[0], 0xfd);
}
END_TEST

START_TEST(test_default) {
        _cleanup_(t_done) T t = t_new();
        _cleanup_free_ char *path = NULL;
        Network *n = NULL, *again = NULL;

        ck_assert_int_eq(network_table_default(t.table, &n), 0);
        ck_assert_str_eq(n->name, NETWORK_DEFAULT_NAME);
        ck_assert_str_eq(n->bridge, NETWORK_DEFAULT_BRIDGE);
        ck_assert_str_eq(n->driver, "bridge");
        ck_assert_uint_eq(strlen(n->id), 64);
        ck_assert_uint_eq(n->n_subnets, 2);
        assert_prefix(&n->subnets[0].subnet, "10.88.0.0/16");
        assert_addr(&n->subnets[0].gateway, "10.88.0.1");
        assert_prefix(&n->subnets[1].subnet, "fd01:2345:6789::/64");
        assert_addr(&n->subnets[1].gateway, "fd01:2345:6789::1");
        ck_assert(n->ipv6);
        ck_assert(!n->dns);   /* Docker's default bridge answers no names */
        ck_assert(!n->internal);

        ck_assert_int_eq(network_table_default(t.table, &again), 0);
        ck_assert_ptr_eq(again, n);
        path = strjoin(NETWORK_DIR "/", n->id, ".json");
        ck_assert_int_eq(faccessat(t.root_fd, path, F_OK, 0), 0);
        ck_assert_int_eq(count_entries(t.root_fd, NETWORK_DIR), 1);
}
END_TEST

START_TEST(test_create_user) {
        _cleanup_(t_done) T t = t_new();
        Network *def = NULL, *a, *b, *c, *six = NULL;
        NetworkCreateSpec spec = { .name = "six", .ipv6 = true };

        ck_assert_int_eq(network_table_default(t.table, &def), 0);
        a = t_create(&t, "a", NULL, NULL);
        b = t_create(&t, "b", NULL, NULL);
        assert_prefix(&a->subnets[0].subnet, "10.89.0.0/24");
        assert_addr(&a->subnets[0].gateway, "10.89.0.1");
        assert_prefix(&b->subnets[0].subnet, "10.89.1.0/24");
        ck_assert_str_eq(a->bridge, "berth1");
        ck_assert_str_eq(b->bridge, "berth2");
        ck_assert_uint_eq(a->n_subnets, 1);
        ck_assert(!a->ipv6);
        ck_assert(a->dns);
        ck_assert_str_ne(a->id, b->id);

        /* a given subnet is skipped by the pool */
        c = t_create(&t, "c", "10.89.2.0/24", NULL);
        assert_prefix(&c->subnets[0].subnet, "10.89.2.0/24");
        c = t_create(&t, "d", NULL, NULL);
        assert_prefix(&c->subnets[0].subnet, "10.89.3.0/24");

        /* IPv6 /64s come after the default network's */
        ck_assert_int_eq(network_table_create(t.table, &spec, NULL, 0, &six), 0);
        ck_assert_uint_eq(six->n_subnets, 2);
        assert_prefix(&six->subnets[0].subnet, "10.89.4.0/24");
        assert_prefix(&six->subnets[1].subnet, "fd01:2345:6789:1::/64");
        ck_assert(six->ipv6);
        ck_assert_int_eq(count_entries(t.root_fd, NETWORK_DIR), 6);
}
END_TEST

START_TEST(test_create_options) {
        _cleanup_(t_done) T t = t_new();
        char *mtu[] = { (char *) "mtu=9000", NULL }, *labels[] = { (char *) "a=b", NULL };
        NetworkCreateSpec spec = { .name = "jumbo", .options = mtu, .labels = labels, .internal = true };
        InAddr gw = addr("10.50.0.254");
        InPrefix s = prefix("10.50.0.0/24");
        Network *n = NULL;

        spec.subnets = &s;
        spec.n_subnets = 1;
        spec.gateways = &gw;
        spec.n_gateways = 1;
        ck_assert_int_eq(network_table_create(t.table, &spec, NULL, 0, &n), 0);
        ck_assert_uint_eq(n->mtu, 9000);
        ck_assert(n->internal);
        ck_assert(strv_contains(n->labels, "a=b"));
        assert_addr(&n->subnets[0].gateway, "10.50.0.254");
        ck_assert_int_eq(network_table_find(t.table, "jumbo", &n), 0);
}
END_TEST

/* Refused creates: the errno, a message naming the reason, and no file. */
static void assert_create_fails(T *t, const NetworkCreateSpec *spec, const InPrefix *routes, size_t n_routes,
                                int error, const char *message) {
        int before = count_entries(t->root_fd, NETWORK_DIR);
        Network *n = NULL;

        errmsg_clear();
        ck_assert_int_eq(network_table_create(t->table, spec, routes, n_routes, &n), error);
        assert_errmsg(message);
        ck_assert_ptr_null(n);
        ck_assert_int_eq(count_entries(t->root_fd, NETWORK_DIR), before);
}

START_TEST(test_create_refused) {
        _cleanup_(t_done) T t = t_new();
        InPrefix over = prefix("10.88.5.0/24"), mine = prefix("10.60.0.0/16"), route = prefix("10.48.0.0/12");
        InPrefix v4b = prefix("10.61.0.0/24"), tiny = prefix("10.62.0.0/31"), range = prefix("10.63.0.0/24");
        InPrefix range6 = prefix("fd00:63::/80");
        InAddr gw = addr("10.70.0.1"), gw6 = addr("fd00:63::1");
        char *bad_mtu[] = { (char *) "mtu=10", NULL }, *unknown[] = { (char *) "foo=1", NULL };
        InPrefix two[2] = { mine, v4b };
        Network *def = NULL;

        ck_assert_int_eq(network_table_default(t.table, &def), 0);
        (void) t_create(&t, "taken", NULL, NULL);
        assert_create_fails(&t, &(NetworkCreateSpec) { .name = "taken" }, NULL, 0, -EEXIST, "exists already");
        assert_create_fails(&t, &(NetworkCreateSpec) { .name = "bridge" }, NULL, 0, -EEXIST, "reserved");
        assert_create_fails(&t, &(NetworkCreateSpec) { .name = "host" }, NULL, 0, -EEXIST, "reserved");
        assert_create_fails(&t, &(NetworkCreateSpec) { .name = "bad name" }, NULL, 0, -EINVAL, "Invalid network name");
        assert_create_fails(&t, &(NetworkCreateSpec) { .name = "" }, NULL, 0, -EINVAL, "Invalid network name");
        assert_create_fails(&t, &(NetworkCreateSpec) { .name = "x", .driver = "macvlan" }, NULL, 0, -EOPNOTSUPP,
                            "macvlan");
        assert_create_fails(&t, &(NetworkCreateSpec) { .name = "x", .subnets = &over, .n_subnets = 1 }, NULL, 0,
                            -EADDRNOTAVAIL, "overlaps network bridge");
        assert_create_fails(&t, &(NetworkCreateSpec) { .name = "x", .subnets = &mine, .n_subnets = 1 }, &route, 1,
                            -EADDRNOTAVAIL, "host's route to 10.48.0.0/12");
        assert_create_fails(&t, &(NetworkCreateSpec) { .name = "x", .subnets = two, .n_subnets = 2 }, NULL, 0,
                            -EINVAL, "Only one IPv4 subnet");
        assert_create_fails(&t, &(NetworkCreateSpec) { .name = "x", .subnets = &tiny, .n_subnets = 1 }, NULL, 0,
                            -EINVAL, "too small");
        assert_create_fails(&t, &(NetworkCreateSpec) { .name = "x", .subnets = &mine, .n_subnets = 1,
                                                       .gateways = &gw, .n_gateways = 1 },
                            NULL, 0, -EADDRNOTAVAIL, "outside subnet");
        assert_create_fails(&t, &(NetworkCreateSpec) { .name = "x", .subnets = &mine, .n_subnets = 1,
                                                       .ip_ranges = &range, .n_ip_ranges = 1 },
                            NULL, 0, -EADDRNOTAVAIL, "IP range 10.63.0.0/24 is outside");
        assert_create_fails(&t, &(NetworkCreateSpec) { .name = "x", .subnets = &mine, .n_subnets = 1,
                                                       .ip_ranges = &range6, .n_ip_ranges = 1 },
                            NULL, 0, -EINVAL, "IPv6 --ip-range needs an IPv6 network");
        assert_create_fails(&t, &(NetworkCreateSpec) { .name = "x", .gateways = &gw6, .n_gateways = 1 },
                            NULL, 0, -EINVAL, "IPv6 --gateway needs an IPv6 network");
        assert_create_fails(&t, &(NetworkCreateSpec) { .name = "x", .options = bad_mtu }, NULL, 0, -EINVAL,
                            "Invalid MTU");
        assert_create_fails(&t, &(NetworkCreateSpec) { .name = "x", .options = unknown }, NULL, 0, -EINVAL,
                            "Unknown network option 'foo'");
}
END_TEST

START_TEST(test_create_route_skipped) {
        _cleanup_(t_done) T t = t_new();
        InPrefix routes[2] = { prefix("10.89.0.0/23"), prefix("192.168.0.0/16") };
        NetworkCreateSpec spec = { .name = "around" };
        Network *n = NULL;

        ck_assert_int_eq(network_table_create(t.table, &spec, routes, 2, &n), 0);
        assert_prefix(&n->subnets[0].subnet, "10.89.2.0/24");
}
END_TEST

START_TEST(test_lease) {
        _cleanup_(t_done) T t = t_new();
        _cleanup_free_ char *content = NULL, *path = NULL;
        Network *n = t_create(&t, "a", NULL, NULL);
        InAddr a1, a2, a4, got[2] = {}, want;

        a1 = t_lease(&t, n, cid(1));
        a2 = t_lease(&t, n, cid(2));
        assert_addr(&a1, "10.89.0.2");   /* .0 is the network, .1 the gateway */
        assert_addr(&a2, "10.89.0.3");
        ck_assert_uint_eq(network_n_leases(n), 2);
        /* the same container again: the same address, no second lease */
        got[0] = t_lease(&t, n, cid(1));
        ck_assert(in_addr_equal(&got[0], &a1));
        ck_assert_uint_eq(network_n_leases(n), 2);

        /* durable: one file per address holding the container's id */
        path = lease_path(n, "10.89.0.2");
        ck_assert_int_eq(read_full_file_at(t.root_fd, path, 4096, &content, NULL), 0);
        ck_assert_str_eq(content, cid(1));

        want = addr("10.89.0.3");
        errmsg_clear();
        ck_assert_int_eq(network_lease(t.table, n, cid(3), &want, NULL, got), -EADDRINUSE);
        assert_errmsg("already in use");
        want = addr("10.90.0.5");
        errmsg_clear();
        ck_assert_int_eq(network_lease(t.table, n, cid(3), &want, NULL, got), -EADDRNOTAVAIL);
        assert_errmsg("outside the subnet 10.89.0.0/24");
        want = addr("fd00::5");
        ck_assert_int_eq(network_lease(t.table, n, cid(3), &want, NULL, got), -EADDRNOTAVAIL);
        FOREACH_STRING(reserved, "10.89.0.0", "10.89.0.1", "10.89.0.255") {
                want = addr(reserved);
                errmsg_clear();
                ck_assert_int_eq(network_lease(t.table, n, cid(3), &want, NULL, got), -EADDRNOTAVAIL);
                assert_errmsg("reserved");
        }
        ck_assert_uint_eq(network_n_leases(n), 2);
        ck_assert_int_eq(count_entries(t.root_fd, path) , -1);   /* a file, not a directory */

        want = addr("10.89.0.77");
        ck_assert_int_eq(network_lease(t.table, n, cid(3), &want, NULL, got), 0);
        assert_addr(&got[0], "10.89.0.77");
        ck_assert(lease_file_exists(&t, n, "10.89.0.77"));

        /* released: the file goes; the address is not the next one given */
        ck_assert_int_eq(network_release(t.table, n, cid(2)), 1);
        ck_assert_int_eq(network_release(t.table, n, cid(2)), 0);
        ck_assert(!lease_file_exists(&t, n, "10.89.0.3"));
        a4 = t_lease(&t, n, cid(4));
        assert_addr(&a4, "10.89.0.4");
        ck_assert_uint_eq(network_n_leases(n), 3);
        ck_assert_int_eq(network_release(t.table, n, cid(9)), 0);
}
END_TEST

START_TEST(test_lease_full) {
        _cleanup_(t_done) T t = t_new();
        Network *n = t_create(&t, "small", "10.100.0.0/30", NULL);
        InAddr a, got[1];

        a = t_lease(&t, n, cid(1));
        assert_addr(&a, "10.100.0.2");   /* the only one: .0 network, .1 gateway, .3 broadcast */
        errmsg_clear();
        ck_assert_int_eq(network_lease(t.table, n, cid(2), NULL, NULL, got), -ENOSPC);
        assert_errmsg("no free address");
        ck_assert_uint_eq(network_n_leases(n), 1);
        ck_assert_int_eq(network_release(t.table, n, cid(1)), 1);
        /* the search wraps around to the start */
        a = t_lease(&t, n, cid(2));
        assert_addr(&a, "10.100.0.2");
}
END_TEST

START_TEST(test_lease_never_twice) {
        _cleanup_(t_done) T t = t_new();
        Network *n = t_create(&t, "ring", "10.101.0.0/29", NULL);   /* .2 to .6 */
        bool seen[8] = {};

        for (unsigned k = 0; k < 5; k++) {
                InAddr a = t_lease(&t, n, cid(k));
                ck_assert_uint_ge(a.bytes[3], 2);
                ck_assert_uint_le(a.bytes[3], 6);
                ck_assert(!seen[a.bytes[3]]);
                seen[a.bytes[3]] = true;
        }
        _cleanup_free_ char *dir = lease_path(n, "");
        ck_assert_int_eq(count_entries(t.root_fd, dir), 5);
}
END_TEST

START_TEST(test_lease_ip_range) {
        _cleanup_(t_done) T t = t_new();
        Network *n = t_create(&t, "ranged", "10.90.0.0/16", "10.90.5.0/30");
        InAddr got[1], want;

        assert_prefix(&n->subnets[0].ip_range, "10.90.5.0/30");
        for (unsigned k = 0; k < 4; k++) {
                InAddr a = t_lease(&t, n, cid(k));
                ck_assert(in_prefix_contains(&n->subnets[0].ip_range, &a));
        }
        errmsg_clear();
        ck_assert_int_eq(network_lease(t.table, n, cid(5), NULL, NULL, got), -ENOSPC);
        want = addr("10.90.6.1");
        errmsg_clear();
        ck_assert_int_eq(network_lease(t.table, n, cid(5), &want, NULL, got), -EADDRNOTAVAIL);
        assert_errmsg("10.90.5.0/30");
}
END_TEST

START_TEST(test_lease_wide_ipv6_range) {
        _cleanup_(t_done) T t = t_new();
        InPrefix subnets[2] = { prefix("10.91.0.0/24"), prefix("fd00:1::/48") };
        InPrefix range = prefix("fd00:1:0:5::/64");
        NetworkCreateSpec spec = { .name = "wide", .subnets = subnets, .n_subnets = 2,
                                   .ip_ranges = &range, .n_ip_ranges = 1 };
        Network *n = NULL, *again;
        NetworkTable *reloaded;
        InAddr got[2], want = addr("fd00:1:0:5::99");

        ck_assert_int_eq(network_table_create(t.table, &spec, NULL, 0, &n), 0);
        ck_assert_int_eq(network_lease(t.table, n, cid(1), NULL, NULL, got), 0);
        ck_assert_msg(in_prefix_contains(&range, &got[1]), "leased outside the range");
        errmsg_clear();
        if (network_lease(t.table, n, cid(2), NULL, &want, got) < 0)
                ck_abort_msg("%s", errmsg_last());
        assert_addr(&got[1], "fd00:1:0:5::99");

        /* and the leases are still there after a restart */
        reloaded = t_reload(&t, NULL, NULL);
        ck_assert_int_eq(network_table_find(reloaded, "wide", &again), 0);
        ck_assert_uint_eq(network_n_leases(again), 2);
        network_table_free(reloaded);
}
END_TEST

START_TEST(test_lease_dual_stack_rollback) {
        _cleanup_(t_done) T t = t_new();
        NetworkCreateSpec spec = { .name = "dual", .ipv6 = true };
        Network *n = NULL;
        InAddr got[2], want6 = addr("fd99::1");

        ck_assert_int_eq(network_table_create(t.table, &spec, NULL, 0, &n), 0);
        ck_assert_uint_eq(n->n_subnets, 2);
        ck_assert_int_eq(network_lease(t.table, n, cid(1), NULL, NULL, got), 0);
        ck_assert_int_eq(got[0].family, AF_INET);
        ck_assert_int_eq(got[1].family, AF_INET6);
        ck_assert(in_prefix_contains(&n->subnets[1].subnet, &got[1]));

        /* the IPv6 address is refused: the IPv4 one taken for it is given back */
        ck_assert_int_eq(network_lease(t.table, n, cid(2), NULL, &want6, got), -EADDRNOTAVAIL);
        ck_assert_uint_eq(network_n_leases(n), 1);
        ck_assert(!lease_file_exists(&t, n, "10.89.0.3"));
        _cleanup_free_ char *dir = lease_path(n, "");
        ck_assert_int_eq(count_entries(t.root_fd, dir), 2);
}
END_TEST

static bool not_container_2(const char *container_id, void *userdata) {
        unsigned *calls = userdata;

        (*calls)++;
        return !streq(container_id, cid(2));
}

START_TEST(test_reload) {
        _cleanup_(t_done) T t = t_new();
        _cleanup_free_ char *junk = NULL;
        Network *n = t_create(&t, "a", NULL, NULL), *def = NULL, *m = NULL;
        NetworkTable *again;
        char *dir = lease_path(n, "");
        unsigned calls = 0;
        InAddr a1, a3, a4;
        int fd;

        ck_assert_int_eq(network_table_default(t.table, &def), 0);
        a1 = t_lease(&t, n, cid(1));
        (void) t_lease(&t, n, cid(2));
        a3 = t_lease(&t, n, cid(3));
        /* What berthd never writes: swept, never followed. */
        ck_assert_int_eq(symlinkat("/etc/passwd", t.root_fd, (junk = strjoin(dir, "10.89.0.9"))), 0);
        free(junk);
        ck_assert_int_eq(mkdirat(t.root_fd, (junk = strjoin(dir, "10.89.0.10")), 0700), 0);
        free(junk);
        ck_assert_int_eq(write_string_file_atomic_at(t.root_fd, (junk = strjoin(dir, "10.89.0.11")), "short"), 0);
        free(junk);
        ck_assert_int_eq(write_string_file_atomic_at(t.root_fd, (junk = strjoin(dir, "10.77.0.2")), cid(4)), 0);
        free(junk);
        ck_assert_int_eq(write_string_file_atomic_at(t.root_fd, (junk = strjoin(dir, "not-an-address")), cid(4)), 0);
        free(junk);
        junk = NULL;
        /* a network file that is not one, and one under another network's id */
        ck_assert_int_eq(write_string_file_atomic_at(t.root_fd, NETWORK_DIR "/broken.json", "{\"id\":"), 0);
        fd = openat(t.root_fd, NETWORK_DIR, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        ck_assert_int_ge(fd, 0);
        free(junk);
        ck_assert_int_eq(linkat(fd, (junk = strjoin(n->id, ".json")), fd,
                                "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa.json", 0), 0);
        close(fd);

        again = t_reload(&t, not_container_2, &calls);
        ck_assert_uint_eq(hashmap_size(again->by_id), 2);
        ck_assert_int_eq(network_table_find(again, "a", &m), 0);
        ck_assert_str_eq(m->id, n->id);
        assert_prefix(&m->subnets[0].subnet, "10.89.0.0/24");
        ck_assert_int_eq(network_table_find(again, NETWORK_DEFAULT_NAME, &m), 0);
        ck_assert_uint_eq(m->n_subnets, 2);
        ck_assert_int_eq(network_table_find(again, "a", &m), 0);

        ck_assert_uint_ge(calls, 3);
        ck_assert_uint_eq(network_n_leases(m), 2);
        ck_assert(lease_file_exists(&t, m, "10.89.0.2"));
        ck_assert(!lease_file_exists(&t, m, "10.89.0.3"));   /* container 2 is gone */
        ck_assert(lease_file_exists(&t, m, "10.89.0.4"));
        ck_assert_int_eq(count_entries(t.root_fd, dir), 2);
        ck_assert(faccessat(AT_FDCWD, "/etc/passwd", F_OK, 0) == 0);

        /* the leases that survived are still taken, and the cursor goes on after them */
        ck_assert_int_eq(network_lease(again, m, cid(5), &a1, NULL, &a4), -EADDRINUSE);
        ck_assert_int_eq(network_lease(again, m, cid(5), &a3, NULL, &a4), -EADDRINUSE);
        a4 = t_lease(&(T) { .table = again, .root_fd = t.root_fd }, m, cid(5));
        assert_addr(&a4, "10.89.0.5");
        network_table_free(again);
        free(dir);
}
END_TEST

START_TEST(test_find_remove) {
        _cleanup_(t_done) T t = t_new();
        _cleanup_free_ char *json = NULL, *leases = NULL;
        Network *n = t_create(&t, "gone", NULL, NULL), *m = NULL;
        char short_id[13];
        bool ambiguous = false;

        snprintf(short_id, sizeof short_id, "%s", n->id);
        ck_assert_int_eq(network_table_find(t.table, n->id, &m), 0);
        ck_assert_ptr_eq(m, n);
        m = NULL;
        ck_assert_int_eq(network_table_find(t.table, short_id, &m), 0);
        ck_assert_ptr_eq(m, n);
        ck_assert_int_eq(network_table_find(t.table, "nope", &m), -ENOENT);
        ck_assert_int_eq(network_table_find(t.table, "", &m), -ENOENT);

        (void) t_lease(&t, n, cid(1));
        errmsg_clear();
        ck_assert_int_eq(network_table_remove(t.table, n), -EBUSY);
        assert_errmsg("has containers");
        ck_assert_int_eq(network_release(t.table, n, cid(1)), 1);
        json = strjoin(NETWORK_DIR "/", n->id, ".json");
        leases = strjoin(NETWORK_DIR "/", n->id, ".leases");
        ck_assert_int_eq(network_table_remove(t.table, n), 0);
        ck_assert_int_ne(faccessat(t.root_fd, json, F_OK, 0), 0);
        ck_assert_int_ne(faccessat(t.root_fd, leases, F_OK, 0), 0);
        ck_assert_int_eq(network_table_find(t.table, "gone", &m), -ENOENT);
        network_free(n);

        /* 17 ids, 16 hex digits: two of them start alike */
        for (unsigned k = 0; k < 17; k++) {
                char name[8];
                snprintf(name, sizeof name, "n%u", k);
                (void) t_create(&t, name, NULL, NULL);
        }
        for (char c = '0'; c <= 'f'; c = c == '9' ? 'a' : c + 1) {
                char ref[2] = { c, 0 };
                int r = network_table_find(t.table, ref, &m);
                ck_assert(r == 0 || r == -ENOENT || r == -ENOTUNIQ);
                ambiguous = ambiguous || r == -ENOTUNIQ;
        }
        ck_assert(ambiguous);
}
END_TEST

static json_t *good_json(void) {
        json_t *j = json_pack("{s:s, s:s, s:s, s:s, s:[{s:s, s:s, s:s}, {s:s, s:s}], s:b, s:b, s:b, s:i, s:[s], s:[s], s:I}",
                              "id", "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef",
                              "name", "web", "driver", "bridge", "bridge", "berth7",
                              "subnets", "subnet", "10.89.7.0/24", "gateway", "10.89.7.1", "ipRange", "10.89.7.128/25",
                              "subnet", "fd00:0:0:7::/64", "gateway", "fd00:0:0:7::1",
                              "internal", 1, "ipv6", 1, "dns", 1, "mtu", 9000, "labels", "a=b", "options", "mtu=9000",
                              "created", (json_int_t) 1700000000000000);

        ck_assert_ptr_nonnull(j);
        return j;
}

START_TEST(test_json_round_trip) {
        _cleanup_(network_freep) Network *n = NULL, *m = NULL;
        json_t *j = good_json(), *out = NULL, *out2 = NULL;

        ck_assert_int_eq(network_from_json(j, &n), 0);
        ck_assert_str_eq(n->name, "web");
        ck_assert_str_eq(n->bridge, "berth7");
        ck_assert_uint_eq(n->n_subnets, 2);
        assert_prefix(&n->subnets[0].ip_range, "10.89.7.128/25");
        ck_assert(!in_addr_is_set(&n->subnets[1].ip_range.addr));
        ck_assert(n->internal && n->ipv6 && n->dns);
        ck_assert_uint_eq(n->mtu, 9000);
        ck_assert_uint_eq(n->created_usec, UINT64_C(1700000000000000));
        ck_assert(strv_contains(n->labels, "a=b"));
        ck_assert(strv_contains(n->options, "mtu=9000"));

        ck_assert_int_eq(network_to_json(n, &out), 0);
        ck_assert_int_eq(network_from_json(out, &m), 0);
        ck_assert_int_eq(network_to_json(m, &out2), 0);
        ck_assert(json_equal(out, out2));
        ck_assert_str_eq(json_string_value(json_object_get(out, "id")), n->id);
        json_decref(j);
        json_decref(out);
        json_decref(out2);
}
END_TEST

START_TEST(test_json_made_network) {
        _cleanup_(t_done) T t = t_new();
        _cleanup_(network_freep) Network *m = NULL;
        Network *def = NULL;
        json_t *a = NULL, *b = NULL;

        ck_assert_int_eq(network_table_default(t.table, &def), 0);
        ck_assert_int_eq(network_to_json(def, &a), 0);
        ck_assert_int_eq(network_from_json(a, &m), 0);
        ck_assert_int_eq(network_to_json(m, &b), 0);
        ck_assert(json_equal(a, b));
        ck_assert_str_eq(json_string_value(json_object_get(a, "bridge")), "berth0");
        json_decref(a);
        json_decref(b);
}
END_TEST

/* One change of the good document, each of which must be refused. */
static const struct {
        const char *path, *json;
} bad_json[] = {
        { "id", "\"0123\"" },
        { "id", "\"0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdeg\"" },
        { "id", "7" },
        { "name", "\"bad name\"" },
        { "name", "\"\"" },
        { "driver", "\"macvlan\"" },
        { "bridge", "\"eth0\"" },
        { "bridge", "\"berth01\"" },
        { "bridge", "\"berth\"" },
        { "bridge", "\"berth12345678901\"" },
        { "mtu", "70000" },
        { "mtu", "-1" },
        { "labels", "\"a=b\"" },
        { "labels", "[1]" },
        { "options", "[null]" },
        { "internal", "\"yes\"" },
        { "subnets", "{}" },
        { "subnets", "[{\"subnet\": \"10.0.0.0/24\", \"gateway\": \"10.0.0.1\"}, {\"subnet\": \"10.0.1.0/24\", \"gateway\": \"10.0.1.1\"}]" },
        { "subnets", "[{\"subnet\": \"fd00::/64\", \"gateway\": \"fd00::1\"}, {\"subnet\": \"10.0.1.0/24\", \"gateway\": \"10.0.1.1\"}]" },
        { "subnets", "[{\"subnet\": \"10.0.0.0/24\", \"gateway\": \"10.0.0.1\"}, {\"subnet\": \"10.0.1.0/24\", \"gateway\": \"10.0.1.1\"}, {\"subnet\": \"10.0.2.0/24\", \"gateway\": \"10.0.2.1\"}]" },
        { "subnets", "[{\"subnet\": \"10.0.0.1/24\", \"gateway\": \"10.0.0.1\"}]" },
        { "subnets", "[{\"subnet\": \"10.0.0.0/24\", \"gateway\": \"10.0.1.1\"}]" },
        { "subnets", "[{\"subnet\": \"10.0.0.0/24\", \"gateway\": \"fd00::1\"}]" },
        { "subnets", "[{\"subnet\": \"10.0.0.0/24\"}]" },
        { "subnets", "[{\"subnet\": \"10.0.0.0/31\", \"gateway\": \"10.0.0.1\"}]" },
        { "subnets", "[{\"subnet\": \"10.0.0.0/24\", \"gateway\": \"10.0.0.1\", \"ipRange\": \"10.0.1.0/25\"}]" },
        { "subnets", "[{\"subnet\": \"10.0.0.0/24\", \"gateway\": \"10.0.0.1\", \"ipRange\": \"10.0.0.0/16\"}]" },
        { "subnets", "[{\"subnet\": \"10.0.0.0/24\", \"gateway\": \"10.0.0.1\", \"ipRange\": \"fd00::/64\"}]" },
        { "subnets", "[7]" },
};

START_TEST(test_json_bad) {
        _cleanup_(network_freep) Network *n = NULL;
        json_t *j = good_json(), *v = json_loads(bad_json[_i].json, JSON_DECODE_ANY, NULL);

        ck_assert_ptr_nonnull(v);
        ck_assert_int_eq(json_object_set_new(j, bad_json[_i].path, v), 0);
        ck_assert_msg(network_from_json(j, &n) == -EBADMSG, "%s: %s accepted", bad_json[_i].path, bad_json[_i].json);
        ck_assert_ptr_null(n);
        ck_assert_int_eq(json_object_del(j, bad_json[_i].path), 0);
        if (!IN_SET_STR(bad_json[_i].path, "mtu", "labels", "options", "internal"))   /* optional */
                ck_assert_int_eq(network_from_json(j, &n), -EBADMSG);
        json_decref(j);
}
END_TEST

START_TEST(test_json_not_object) {
        _cleanup_(network_freep) Network *n = NULL;
        json_t *j = json_array();

        ck_assert_int_eq(network_from_json(j, &n), -EBADMSG);
        json_decref(j);
}
END_TEST

START_TEST(test_mac) {
        uint8_t mac[6], again[6];
        char buf[18];
        InAddr a = addr("10.88.0.2"), six = addr("fd00::2");

        ck_assert_int_eq(mac_parse("02:42:0a:58:00:02", mac), 0);
        ck_assert_str_eq(mac_to_string(mac, buf), "02:42:0a:58:00:02");
        ck_assert_int_eq(mac_parse("AA:BB:CC:DD:EE:FF", mac), 0);
        ck_assert_str_eq(mac_to_string(mac, buf), "aa:bb:cc:dd:ee:ff");
        memset(mac, 0, sizeof mac);
        ck_assert_str_eq(mac_to_string(mac, buf), "");   /* none */

        network_mac_from_addr(&a, mac);
        ck_assert_str_eq(mac_to_string(mac, buf), "02:42:0a:58:00:02");   /* as Docker */
        for (int k = 0; k < 2; k++) {
                network_mac_from_addr(k ? &six : NULL, mac);
                ck_assert_uint_eq(mac[0] & 0x03, 0x02);   /* unicast, locally administered */
                ck_assert_int_eq(mac_parse(mac_to_string(mac, buf), again), 0);
                ck_assert_int_eq(memcmp(mac, again, 6), 0);
        }
}
END_TEST

static const char *const bad_macs[] = {
        "", "02:42:0a:58:00", "02:42:0a:58:00:02:", "02:42:0a:58:00:0g", "02-42-0a-58-00-02",
        "0242:0a:58:00:02:", "02:42:0a:58:00:002", "02:42:0a:58:0:002",
        /* what sscanf's %x would take: a sign, a space, a 0x */
        " 2:42:0a:58:00:02", "+2:42:0a:58:00:02", "-1:42:0a:58:00:02", "0x:42:0a:58:00:02", "02:42:0a:58:00: 2",
};

START_TEST(test_mac_bad) {
        uint8_t mac[6] = { 1, 2, 3, 4, 5, 6 };

        ck_assert_msg(mac_parse(bad_macs[_i], mac) == -EINVAL, "'%s' parsed", bad_macs[_i]);
        ck_assert_int_eq(mac_parse(NULL, mac), -EINVAL);
}
END_TEST

static Suite *network_suite(void) {
        Suite *s = suite_create("network-ipam");
        TCase *tc = tcase_create("table");

        tcase_add_unchecked_fixture(tc, suite_setup, suite_teardown);
        tcase_add_test(tc, test_pools);
        tcase_add_test(tc, test_default);
        tcase_add_test(tc, test_create_user);
        tcase_add_test(tc, test_create_options);
        tcase_add_test(tc, test_create_refused);
        tcase_add_test(tc, test_create_route_skipped);
        tcase_add_test(tc, test_reload);
        tcase_add_test(tc, test_find_remove);
        suite_add_tcase(s, tc);

        tc = tcase_create("lease");
        tcase_add_unchecked_fixture(tc, suite_setup, suite_teardown);
        tcase_add_test(tc, test_lease);
        tcase_add_test(tc, test_lease_full);
        tcase_add_test(tc, test_lease_never_twice);
        tcase_add_test(tc, test_lease_ip_range);
        tcase_add_test(tc, test_lease_wide_ipv6_range);
        tcase_add_test(tc, test_lease_dual_stack_rollback);
        suite_add_tcase(s, tc);

        tc = tcase_create("json");
        tcase_add_unchecked_fixture(tc, suite_setup, suite_teardown);
        tcase_add_test(tc, test_json_round_trip);
        tcase_add_test(tc, test_json_made_network);
        tcase_add_loop_test(tc, test_json_bad, 0, ELEMENTSOF(bad_json));
        tcase_add_test(tc, test_json_not_object);
        tcase_add_test(tc, test_mac);
        tcase_add_loop_test(tc, test_mac_bad, 0, ELEMENTSOF(bad_macs));
        suite_add_tcase(s, tc);
        return s;
}

int main(void) {
        return check_run_suite(network_suite());
}
