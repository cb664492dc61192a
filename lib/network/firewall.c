/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The table "inet berth" through libnftables. The whole table is one
 * transaction (add + delete + definition: atomic whether it existed or
 * not); afterwards only elements change. What was added is mirrored here,
 * so that a removal deletes only what exists (nftables fails a whole batch
 * on one missing element) and a deleted table can be loaded again. */
#include <netinet/in.h>
#include <sys/socket.h>
/* After netinet/in.h: the kernel's headers then leave its definitions alone. */
#include <linux/netfilter.h>
#include <linux/netfilter/nf_tables.h>
#include <linux/netfilter/nfnetlink.h>
#include <linux/netlink.h>
#include <nftables/libnftables.h>

#include "firewall.h"
#include "hashmap.h"

struct Firewall {
        struct nft_ctx *ctx;
        Hashmap *ports;                /* element key -> itself: "dnat4_any { tcp . 8080 }" */
        Hashmap *networks;             /* bridge -> FirewallNetworkCopy */
};

typedef struct FirewallNetworkCopy {
        char *bridge;
        char *elements;                /* the "add element" lines of this network */
        char *removal;                 /* the "delete element" lines */
} FirewallNetworkCopy;

static const char table_definition[] =
        "add table inet berth\n"
        "delete table inet berth\n"
        "table inet berth {\n"
        "  set bridges { type ifname; }\n"
        "  set internal { type ifname; }\n"
        "  set within { type ifname . ifname; }\n"
        "  set nets4 { type ipv4_addr; flags interval; }\n"
        "  set nets6 { type ipv6_addr; flags interval; }\n"
        "  map dnat4 { type inet_proto . ipv4_addr . inet_service : ipv4_addr . inet_service; }\n"
        "  map dnat4_any { type inet_proto . inet_service : ipv4_addr . inet_service; }\n"
        "  map dnat6 { type inet_proto . ipv6_addr . inet_service : ipv6_addr . inet_service; }\n"
        "  map dnat6_any { type inet_proto . inet_service : ipv6_addr . inet_service; }\n"
        /* Published ports: by host address and port, or by port alone. */
        "  chain ports {\n"
        "    dnat ip to meta l4proto . ip daddr . th dport map @dnat4\n"
        "    dnat ip to meta l4proto . th dport map @dnat4_any\n"
        "    dnat ip6 to meta l4proto . ip6 daddr . th dport map @dnat6\n"
        "    dnat ip6 to meta l4proto . th dport map @dnat6_any\n"
        "  }\n"
        /* A container must not reach the host's loopback services (CVE-2020-8558):
         * route_localnet is on for the bridges. */
        "  chain prerouting_filter { type filter hook prerouting priority -150; policy accept;\n"
        "    iifname @bridges ip daddr 127.0.0.0/8 drop\n"
        "  }\n"
        /* From other hosts and containers; 127.0.0.1 only from the host itself. */
        "  chain prerouting { type nat hook prerouting priority dstnat; policy accept;\n"
        "    fib daddr type local ip daddr != 127.0.0.0/8 jump ports\n"
        "    fib daddr type local meta nfproto ipv6 jump ports\n"
        "  }\n"
        "  chain output { type nat hook output priority -100; policy accept;\n"
        "    fib daddr type local jump ports\n"
        "  }\n"
        "  chain postrouting { type nat hook postrouting priority srcnat; policy accept;\n"
        "    oifname @bridges ip saddr 127.0.0.0/8 masquerade\n"
        "    ct status dnat oifname @bridges ip saddr @nets4 masquerade\n"
        "    ct status dnat oifname @bridges ip6 saddr @nets6 masquerade\n"
        "    oifname != @bridges ip saddr @nets4 masquerade\n"
        "    oifname != @bridges ip6 saddr @nets6 masquerade\n"
        "  }\n"
        /* Only what concerns a bridge of Berth's is dropped here. */
        "  chain forward { type filter hook forward priority filter; policy accept;\n"
        "    oifname @bridges ct state established,related accept\n"
        /* Within one bridge when br_netfilter shows bridged frames here, as
         * Docker's "-i docker0 -o docker0" (internal networks included). */
        "    iifname . oifname @within accept\n"
        "    iifname @internal drop\n"
        "    oifname @internal drop\n"
        "    oifname @bridges ct status dnat accept\n"
        "    iifname @bridges oifname @bridges drop\n"
        "    iifname @bridges accept\n"
        "    oifname @bridges drop\n"
        "  }\n"
        "}\n";

static int run(Firewall *f, const char *cmd) {
        const char *err;

        if (nft_run_cmd_from_buffer(f->ctx, cmd) == 0)
                return 0;
        err = nft_ctx_get_error_buffer(f->ctx);
        return errmsg_set(-EIO, "The firewall refused Berth's table: %.300s", strempty(err));
}

static void network_copy_free(FirewallNetworkCopy *c) {
        if (!c)
                return;
        free(c->bridge);
        free(c->elements);
        free(c->removal);
        free(c);
}

static void mirror_clear(Firewall *f) {
        const char *k;
        void *v;
        size_t i = 0;

        while (f->ports && hashmap_iterate(f->ports, &i, &k, &v))
                free(v);
        i = 0;
        while (f->networks && hashmap_iterate(f->networks, &i, &k, &v))
                network_copy_free(v);
        f->ports = hashmap_free(f->ports);
        f->networks = hashmap_free(f->networks);
}

static int mirror_init(Firewall *f) {
        if (!f->ports)
                f->ports = hashmap_new();
        if (!f->networks)
                f->networks = hashmap_new();
        return f->ports && f->networks ? 0 : -ENOMEM;
}

int firewall_new(Firewall **ret) {
        Firewall *f = calloc(1, sizeof *f);

        if (!f)
                return -ENOMEM;
        f->ctx = nft_ctx_new(NFT_CTX_DEFAULT);
        if (!f->ctx || nft_ctx_buffer_output(f->ctx) < 0 || nft_ctx_buffer_error(f->ctx) < 0 || mirror_init(f) < 0) {
                firewall_free(f);
                return -ENOMEM;
        }
        *ret = f;
        return 0;
}

Firewall *firewall_free(Firewall *f) {
        if (!f)
                return NULL;
        mirror_clear(f);
        if (f->ctx)
                nft_ctx_free(f->ctx);
        return mfree(f);
}

/* "add element inet berth nets4 { 10.88.0.0/16 }" lines for a network (verb "add" or "delete"). */
static char *network_lines(const FirewallNetwork *n, const char *verb) {
        _cleanup_free_ char *out = NULL;
        size_t size = 0;
        FILE *o = open_memstream(&out, &size);

        if (!o)
                return NULL;
        fprintf(o, "%s element inet berth bridges { \"%s\" }\n", verb, n->bridge);
        fprintf(o, "%s element inet berth within { \"%s\" . \"%s\" }\n", verb, n->bridge, n->bridge);
        if (n->internal)
                fprintf(o, "%s element inet berth internal { \"%s\" }\n", verb, n->bridge);
        for (size_t i = 0; i < n->n_subnets; i++) {
                char p[IN_PREFIX_STRLEN];
                fprintf(o, "%s element inet berth %s { %s }\n", verb,
                        n->subnets[i].addr.family == AF_INET6 ? "nets6" : "nets4", in_prefix_to_string(&n->subnets[i], p));
        }
        if (fclose(o) != 0)
                return NULL;
        return TAKE_PTR(out);
}

static bool bridge_name_ok(const char *b) {
        if (isempty(b) || strlen(b) > 15)
                return false;
        for (const char *p = b; *p; p++)
                if (!((*p >= 'a' && *p <= 'z') || (*p >= '0' && *p <= '9') || *p == '-' || *p == '_'))
                        return false;
        return true;
}

static int network_copy(const FirewallNetwork *n, FirewallNetworkCopy **ret) {
        FirewallNetworkCopy *c = calloc(1, sizeof *c);

        if (!bridge_name_ok(n->bridge)) {
                free(c);
                return -EINVAL;
        }
        if (!c || !(c->bridge = strdup(n->bridge)) || !(c->elements = network_lines(n, "add")) ||
            !(c->removal = network_lines(n, "delete"))) {
                network_copy_free(c);
                return -ENOMEM;
        }
        *ret = c;
        return 0;
}

/* The element key and the data of a port rule:
 * "dnat4_any { tcp . 8080" and " : 10.88.0.2 . 80 }". */
static int port_element(const FirewallPort *p, char **ret_key, char **ret_value) {
        const PortMapping *m = &p->mapping;
        char host[IN_ADDR_STRLEN], ctr[IN_ADDR_STRLEN], key[160], value[80];
        bool v6 = p->container_addr.family == AF_INET6;

        if (!in_addr_is_set(&p->container_addr) || m->host_port == 0 ||
            (m->host_ip.family && m->host_ip.family != p->container_addr.family))
                return -EINVAL;
        if (in_addr_is_set(&m->host_ip) && !in_addr_is_any(&m->host_ip))
                snprintf(key, sizeof key, "%s { %s . %s . %u", v6 ? "dnat6" : "dnat4", port_proto_to_string(m->proto),
                         in_addr_to_string(&m->host_ip, host), m->host_port);
        else
                snprintf(key, sizeof key, "%s { %s . %u", v6 ? "dnat6_any" : "dnat4_any",
                         port_proto_to_string(m->proto), m->host_port);
        snprintf(value, sizeof value, " : %s . %u }", in_addr_to_string(&p->container_addr, ctr), m->container_port);
        *ret_key = strdup(key);
        *ret_value = strdup(value);
        if (!*ret_key || !*ret_value) {
                *ret_key = mfree(*ret_key);
                *ret_value = mfree(*ret_value);
                return -ENOMEM;
        }
        return 0;
}

/* Mirrors and writes the add commands of ports not yet in the table. */
static int ports_add_lines(Firewall *f, const FirewallPort *ports, size_t n, FILE *o, char ***ret_added) {
        for (size_t i = 0; i < n; i++) {
                _cleanup_free_ char *key = NULL, *value = NULL;
                int r = port_element(&ports[i], &key, &value);

                if (r < 0)
                        return r;
                if (hashmap_get(f->ports, key))
                        continue;
                fprintf(o, "add element inet berth %s%s\n", key, value);
                r = hashmap_put(f->ports, key, key);
                if (r < 0)
                        return r;
                r = strv_extend(ret_added, key);
                TAKE_PTR(key);
                if (r < 0)
                        return r;
        }
        return 0;
}

static void ports_forget(Firewall *f, char **keys) {
        STRV_FOREACH(k, keys)
                free(hashmap_remove(f->ports, *k));
}

int firewall_load(Firewall *f, const FirewallNetwork *networks, size_t n_networks, const FirewallPort *ports,
                  size_t n_ports) {
        _cleanup_strv_free_ char **added = NULL;
        _cleanup_free_ char *cmd = NULL;
        size_t size = 0;
        FILE *o;
        int r;

        mirror_clear(f);
        r = mirror_init(f);
        if (r < 0)
                return r;
        o = open_memstream(&cmd, &size);
        if (!o)
                return -ENOMEM;
        fputs(table_definition, o);
        for (size_t i = 0; r >= 0 && i < n_networks; i++) {
                FirewallNetworkCopy *c;
                if (hashmap_get(f->networks, networks[i].bridge))
                        continue;
                r = network_copy(&networks[i], &c);
                if (r >= 0 && (r = hashmap_put(f->networks, c->bridge, c)) < 0)
                        network_copy_free(c);
                if (r >= 0)
                        fputs(c->elements, o);
        }
        if (r >= 0)
                r = ports_add_lines(f, ports, n_ports, o, &added);
        if (fclose(o) != 0 && r >= 0)
                r = -ENOMEM;
        if (r >= 0)
                r = run(f, cmd);
        if (r < 0)
                mirror_clear(f), (void) mirror_init(f);
        return r;
}

int firewall_add_network(Firewall *f, const FirewallNetwork *n) {
        FirewallNetworkCopy *c;
        int r;

        if (hashmap_get(f->networks, n->bridge))
                return 0;
        r = network_copy(n, &c);
        if (r < 0)
                return r;
        r = run(f, c->elements);
        if (r >= 0)
                r = hashmap_put(f->networks, c->bridge, c);
        if (r < 0)
                network_copy_free(c);
        return r;
}

int firewall_remove_network(Firewall *f, const FirewallNetwork *n) {
        FirewallNetworkCopy *c = hashmap_get(f->networks, n->bridge);
        int r;

        if (!c)
                return 0;
        r = run(f, c->removal);
        hashmap_remove(f->networks, c->bridge);
        network_copy_free(c);
        return r;
}

int firewall_add_ports(Firewall *f, const FirewallPort *ports, size_t n) {
        _cleanup_strv_free_ char **added = NULL;
        _cleanup_free_ char *cmd = NULL;
        size_t size = 0;
        FILE *o = open_memstream(&cmd, &size);
        int r;

        if (!o)
                return -ENOMEM;
        r = ports_add_lines(f, ports, n, o, &added);
        if (fclose(o) != 0 && r >= 0)
                r = -ENOMEM;
        if (r >= 0 && !isempty(cmd))
                r = run(f, cmd);
        if (r < 0)
                ports_forget(f, added);
        return r;
}

int firewall_remove_ports(Firewall *f, const FirewallPort *ports, size_t n) {
        _cleanup_strv_free_ char **gone = NULL;
        _cleanup_free_ char *cmd = NULL;
        size_t size = 0;
        FILE *o = open_memstream(&cmd, &size);
        int r = 0;

        if (!o)
                return -ENOMEM;
        for (size_t i = 0; r >= 0 && i < n; i++) {
                _cleanup_free_ char *key = NULL, *value = NULL;

                if (port_element(&ports[i], &key, &value) < 0 || !hashmap_get(f->ports, key))
                        continue;
                fprintf(o, "delete element inet berth %s }\n", key);
                r = strv_extend(&gone, key);
        }
        if (fclose(o) != 0 && r >= 0)
                r = -ENOMEM;
        if (r >= 0 && !isempty(cmd))
                r = run(f, cmd);
        ports_forget(f, gone);
        return r;
}

int firewall_remove(Firewall *f) {
        mirror_clear(f);
        (void) mirror_init(f);
        return run(f, "add table inet berth\ndelete table inet berth\n");
}

int firewall_present(Firewall *f) {
        return nft_run_cmd_from_buffer(f->ctx, "list table inet berth") == 0;
}

/* ---- beside iptables: its FORWARD chain's drop ---- */

/* A packet passes a hook only if every base chain on it accepts: iptables'
 * "FORWARD DROP" (Docker's, ufw's, iptables-persistent's; iptables-nft keeps
 * it in "ip filter" and "ip6 filter") would drop what our table accepts.
 * As Docker does there, two rules at its head accept what crosses Berth's
 * bridges; our own forward chain still decides what of that may pass. Only
 * this one chain is read, to find our rules; nothing of it is changed else. */
static const char forward_comment[] = "berth: Berth's bridges, filtered in table inet berth";

static int forward_open_family(Firewall *f, const char *family) {
        _cleanup_free_ char *list = NULL, *add = NULL;
        const char *out;

        if (asprintf(&list, "list chain %s filter FORWARD", family) < 0)
                return -ENOMEM;
        if (nft_run_cmd_from_buffer(f->ctx, list) != 0)
                return 0;       /* no such chain: nothing drops there */
        out = nft_ctx_get_output_buffer(f->ctx);
        if (out && strstr(out, forward_comment))
                return 0;
        if (asprintf(&add,
                     "insert rule %1$s filter FORWARD oifname \"berth*\" counter accept comment \"%2$s\"\n"
                     "insert rule %1$s filter FORWARD iifname \"berth*\" counter accept comment \"%2$s\"\n",
                     family, forward_comment) < 0)
                return -ENOMEM;
        return run(f, add);
}

int firewall_open_forward(Firewall *f) {
        int r = forward_open_family(f, "ip");
        int k = forward_open_family(f, "ip6");

        return r < 0 ? r : k;
}

/* ---- nftables' events: was our table deleted? ---- */

int firewall_watch_open(void) {
        struct sockaddr_nl sa = { .nl_family = AF_NETLINK, .nl_groups = 1u << (NFNLGRP_NFTABLES - 1) };
        int fd = socket(AF_NETLINK, SOCK_RAW | SOCK_CLOEXEC | SOCK_NONBLOCK, NETLINK_NETFILTER);

        if (fd < 0)
                return -errno;
        if (bind(fd, (struct sockaddr *) &sa, sizeof sa) < 0) {
                int r = -errno;
                safe_close(fd);
                return r;
        }
        return fd;
}

/* The table an nf_tables message is about: attribute 1 is NFTA_TABLE_NAME,
 * NFTA_CHAIN_TABLE and NFTA_RULE_TABLE alike. */
static bool message_table_is(const struct nlmsghdr *h, const char *table) {
        const struct nfgenmsg *g = NLMSG_DATA(h);
        size_t len = h->nlmsg_len - NLMSG_LENGTH(sizeof *g), want = strlen(table);
        const struct nlattr *a = (const struct nlattr *) ((const char *) g + NLMSG_ALIGN(sizeof *g));

        while (len >= sizeof *a && a->nla_len >= sizeof *a && a->nla_len <= len) {
                if ((a->nla_type & NLA_TYPE_MASK) == 1) {
                        size_t n = a->nla_len - NLA_HDRLEN;
                        const char *name = (const char *) a + NLA_HDRLEN;
                        return n >= want && strncmp(name, table, want) == 0 && (n == want || name[want] == 0);
                }
                size_t step = (size_t) NLA_ALIGN(a->nla_len);
                len -= step > len ? len : step;
                a = (const struct nlattr *) ((const char *) a + NLA_ALIGN(a->nla_len));
        }
        return false;
}

static int message_event(const struct nlmsghdr *h) {
        const struct nfgenmsg *g = NLMSG_DATA(h);
        int type;

        if (h->nlmsg_len < NLMSG_LENGTH(sizeof *g) || (h->nlmsg_type >> 8) != NFNL_SUBSYS_NFTABLES)
                return 0;
        type = h->nlmsg_type & 0xff;
        if (type == NFT_MSG_DELTABLE && g->nfgen_family == NFPROTO_INET && message_table_is(h, "berth"))
                return FIREWALL_EVENT_TABLE_GONE;
        /* iptables made, re-made or flushed its FORWARD chain (a policy is a NEWCHAIN). */
        if (IN_SET(type, NFT_MSG_NEWCHAIN, NFT_MSG_DELRULE) && IN_SET(g->nfgen_family, NFPROTO_IPV4, NFPROTO_IPV6) &&
            message_table_is(h, "filter"))
                return FIREWALL_EVENT_FORWARD_CHANGED;
        return 0;
}

int firewall_watch_read(int fd) {
        static char buf[65536];
        int events = 0;

        /* Bounded: 64 datagrams per call; the loop calls again if more wait. */
        for (int k = 0; k < 64; k++) {
                ssize_t n = recv(fd, buf, sizeof buf, MSG_DONTWAIT);
                unsigned left;

                if (n < 0) {
                        if (errno == ENOBUFS)
                                return FIREWALL_EVENT_TABLE_GONE | FIREWALL_EVENT_FORWARD_CHANGED;   /* lost: redo both */
                        if (errno == EAGAIN || errno == EINTR)
                                break;
                        return -errno;
                }
                left = (unsigned) n;
                for (const struct nlmsghdr *h = (const struct nlmsghdr *) buf; NLMSG_OK(h, left); h = NLMSG_NEXT(h, left))
                        events |= message_event(h);
        }
        return events;
}
