/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Containers on Berth's networks: leases at creation, the veth pairs, DNS
 * listeners and published ports of a start, their teardown at the exit,
 * the firewall's table kept whole, and the names the embedded resolver
 * answers. Netlink and firewall calls run on the engine's network worker
 * (one thread, in order: it alone owns the Firewall); their results come
 * back to the loop. See docs/networking.md. */
#include <ctype.h>
#include <fcntl.h>
#include <net/if.h>
#include <sys/socket.h>

#include "engine-internal.h"
#include "dns-server.h"
#include "firewall.h"
#include "log.h"
#include "netlink-link.h"
#include "network.h"
#include "port-reserve.h"

/* ---- names the resolver answers: per network, name -> containers ---- */

typedef struct NameEntry {
        char *name;                    /* the key */
        Container **containers;
        size_t n;
} NameEntry;

static Hashmap *network_names(Network *n) {
        if (!n->userdata)
                n->userdata = hashmap_new();
        return n->userdata;
}

static void names_free(Network *n) {
        Hashmap *h = n->userdata;
        const char *k;
        void *v;
        size_t i = 0;

        while (h && hashmap_iterate(h, &i, &k, &v)) {
                NameEntry *ne = v;
                free(ne->containers);
                free(ne->name);
                free(ne);
        }
        n->userdata = hashmap_free(h);
}

static int name_add(Network *n, const char *name, Container *c) {
        Hashmap *h = network_names(n);
        NameEntry *ne;
        Container **l;
        int r;

        if (!h)
                return -ENOMEM;
        ne = hashmap_get(h, name);
        if (!ne) {
                ne = calloc(1, sizeof *ne);
                if (!ne || !(ne->name = strdup(name))) {
                        free(ne);
                        return -ENOMEM;
                }
                r = hashmap_put(h, ne->name, ne);
                if (r < 0) {
                        free(ne->name);
                        free(ne);
                        return r;
                }
        }
        for (size_t i = 0; i < ne->n; i++)
                if (ne->containers[i] == c)
                        return 0;
        l = reallocarray(ne->containers, ne->n + 1, sizeof *l);
        if (!l)
                return -ENOMEM;
        ne->containers = l;
        l[ne->n++] = c;
        return 0;
}

static void name_remove(Network *n, const char *name, Container *c) {
        NameEntry *ne = n->userdata ? hashmap_get(n->userdata, name) : NULL;

        if (!ne)
                return;
        for (size_t i = 0; i < ne->n; i++)
                if (ne->containers[i] == c) {
                        ne->containers[i] = ne->containers[--ne->n];
                        break;
                }
        if (ne->n == 0) {
                hashmap_remove(n->userdata, name);
                free(ne->containers);
                free(ne->name);
                free(ne);
        }
}

/* The container's names on n: its name, its short id, its aliases. */
static void endpoint_names(Network *n, Container *c, const ContainerEndpoint *ep, bool add) {
        char short_id[13];

        snprintf(short_id, sizeof short_id, "%.12s", c->id);
        if (add) {
                (void) name_add(n, c->name, c);
                (void) name_add(n, short_id, c);
        } else {
                name_remove(n, c->name, c);
                name_remove(n, short_id, c);
        }
        STRV_FOREACH(a, ep->aliases) {
                _cleanup_free_ char *lower = strdup(*a);
                if (!lower)
                        continue;
                for (char *p = lower; *p; p++)
                        *p = (char) tolower((unsigned char) *p);
                if (add)
                        (void) name_add(n, lower, c);
                else
                        name_remove(n, lower, c);
        }
}

static int dns_lookup(const char *listener_id, const char *name, int family, InAddr *ret, size_t max,
                      size_t *ret_n, void *userdata) {
        Engine *e = userdata;
        Container *asker = hashmap_get(e->containers->by_id, listener_id);
        bool found = false;
        size_t k = 0;

        *ret_n = 0;
        if (!asker)
                return 0;
        for (size_t i = 0; i < asker->config.n_endpoints; i++) {
                Network *n;
                NameEntry *ne;

                if (network_table_find(e->networks, asker->config.endpoints[i].network_id, &n) < 0 ||
                    !n->dns || !n->userdata)
                        continue;
                ne = hashmap_get(n->userdata, name);
                if (!ne)
                        continue;
                found = true;
                for (size_t j = 0; j < ne->n && k < max; j++) {
                        Container *c = ne->containers[j];
                        const ContainerEndpoint *ep = container_find_endpoint(&c->config, n->id);
                        const InAddr *a = ep ? &ep->addrs[family == AF_INET6] : NULL;

                        if (!IN_SET(c->state, CONTAINER_RUNNING, CONTAINER_PAUSED) || !a || a->family != family)
                                continue;
                        ret[k++] = *a;
                }
        }
        *ret_n = k;
        return found;
}

/* ---- the engine's networking state ---- */

static void machine_id(char buf[static 33]) {
        _cleanup_fclose_ FILE *f = fopen("/etc/machine-id", "re");

        buf[0] = 0;
        if (f && fscanf(f, "%32s", buf) != 1)
                buf[0] = 0;
}

int engine_network_init(Engine *e) {
        NetworkPools pools;
        char id[33];
        int r;

        machine_id(id);
        network_pools_default(&pools, id);
        e->ip_forward = true;
        r = network_table_new(e->root_fd, &pools, &e->networks);
        if (r < 0)
                return r;
        r = work_queue_new(e->event, "berth-net", &e->net_queue);
        if (r < 0)
                return r;
        return dns_server_new(e->event, dns_lookup, e, &e->dns);
}

void engine_network_configure(Engine *e, const EngineNetworkConfig *cfg) {
        if (cfg->machine_id)
                network_pools_default(&e->networks->pools, cfg->machine_id);
        if (in_addr_is_set(&cfg->default_subnet.addr))
                e->networks->pools.default_v4 = cfg->default_subnet;
        if (in_addr_is_set(&cfg->user_pool.addr))
                e->networks->pools.user_v4 = cfg->user_pool;
        e->ip_forward = cfg->ip_forward;
}

static void run_firewall_free(void *data) {
        Engine *e = data;

        e->firewall = firewall_free(e->firewall);
}

void engine_network_done(Engine *e) {
        const char *k;
        void *v;
        size_t i = 0;

        e->firewall_watch = sd_event_source_disable_unref(e->firewall_watch);
        e->veth_reap_timer = sd_event_source_disable_unref(e->veth_reap_timer);
        e->veth_reaps = mfree(e->veth_reaps);
        e->n_veth_reaps = e->alloc_veth_reaps = 0;
        if (e->net_queue)
                (void) work_queue_push(e->net_queue, run_firewall_free, NULL, e);
        e->net_stopping = true;
        e->net_queue = work_queue_free(e->net_queue);
        e->bridges_ready = strv_free(e->bridges_ready);
        e->dns = dns_server_free(e->dns);
        while (e->networks && hashmap_iterate(e->networks->by_id, &i, &k, &v))
                names_free(v);
        e->networks = network_table_free(e->networks);
}

/* The firewall, made on the worker thread at its first use. */
static int worker_firewall(Engine *e) {
        return e->firewall ? 0 : firewall_new(&e->firewall);
}

static void firewall_network_of(const Network *n, InPrefix *subnets, FirewallNetwork *ret) {
        for (size_t i = 0; i < n->n_subnets && i < 2; i++)
                subnets[i] = n->subnets[i].subnet;
        *ret = (FirewallNetwork) { .bridge = n->bridge, .subnets = subnets,
                                   .n_subnets = MIN(n->n_subnets, (size_t) 2), .internal = n->internal };
}

/* The firewall rules of the container's bound ports, one per family it has. */
static int firewall_ports_of(Engine *e, const Container *c, FirewallPort **ret, size_t *ret_n) {
        const ContainerEndpoint *ep = c->config.n_endpoints > 0 ? &c->config.endpoints[0] : NULL;
        _cleanup_free_ FirewallPort *l = NULL;
        Network *n;
        size_t k = 0;

        *ret = NULL;
        *ret_n = 0;
        if (!ep || c->n_bound_ports == 0 || network_table_find(e->networks, ep->network_id, &n) < 0)
                return 0;
        l = calloc(2 * c->n_bound_ports, sizeof *l);
        if (!l)
                return -ENOMEM;
        for (size_t i = 0; i < c->n_bound_ports; i++)
                for (int f = 0; f < 2; f++) {
                        const PortMapping *m = &c->bound_ports[i];
                        if (!in_addr_is_set(&ep->addrs[f]) ||
                            (m->host_ip.family && m->host_ip.family != ep->addrs[f].family))
                                continue;
                        l[k++] = (FirewallPort) { .mapping = *m, .container_addr = ep->addrs[f], .bridge = n->bridge };
                }
        *ret = TAKE_PTR(l);
        *ret_n = k;
        return 0;
}

/* ---- the whole table, at start and when somebody deleted it ---- */

typedef struct FirewallLoad {
        Engine *e;
        FirewallNetwork *networks;
        InPrefix (*subnets)[2];
        size_t n_networks;
        FirewallPort *ports;
        size_t n_ports;
        char **bridges;                /* owned strings the FirewallNetworks point to */
        int r;
        int forward_r;                 /* of opening iptables' FORWARD chains */
        char message[256];
} FirewallLoad;

static void firewall_load_free(FirewallLoad *fl) {
        if (!fl)
                return;
        free(fl->networks);
        free(fl->subnets);
        free(fl->ports);
        strv_free(fl->bridges);
        free(fl);
}

static void run_firewall_load(void *data) {
        FirewallLoad *fl = data;

        fl->r = worker_firewall(fl->e);
        if (fl->r >= 0)
                fl->r = firewall_load(fl->e->firewall, fl->networks, fl->n_networks, fl->ports, fl->n_ports);
        if (fl->r >= 0)
                fl->forward_r = firewall_open_forward(fl->e->firewall);
        if (fl->r < 0)
                snprintf(fl->message, sizeof fl->message, "%s", errmsg_last() ?: strerror(-fl->r));
}

static int on_firewall_event(sd_event_source *s, int fd, uint32_t revents, void *userdata);

static void done_firewall_load(void *data) {
        FirewallLoad *fl = data;
        Engine *e = fl->e;
        int fd;

        if (fl->r < 0)
                log_error("Cannot load the firewall table inet berth: %s", fl->message);
        else if (fl->forward_r < 0)
                log_warning_errno(fl->forward_r, "Cannot open iptables' FORWARD chain to Berth's bridges: %m");
        if (fl->r >= 0 && !e->firewall_watch) {
                fd = firewall_watch_open();
                if (fd < 0 || sd_event_add_io(e->event, &e->firewall_watch, fd, EPOLLIN, on_firewall_event, e) < 0) {
                        log_warning("Cannot watch the firewall for changes: a deleted table is not restored.");
                        safe_close(fd);
                } else
                        (void) sd_event_source_set_io_fd_own(e->firewall_watch, true);
        }
        firewall_load_free(fl);
}

static int firewall_load_collect(Engine *e, FirewallLoad *fl) {
        size_t n = hashmap_size(e->networks->by_id), i = 0;
        const char *k;
        void *v;

        fl->networks = calloc(n + 1, sizeof *fl->networks);
        fl->subnets = calloc(n + 1, sizeof *fl->subnets);
        if (!fl->networks || !fl->subnets)
                return -ENOMEM;
        while (hashmap_iterate(e->networks->by_id, &i, &k, &v)) {
                Network *net = v;
                if (strv_extend(&fl->bridges, net->bridge) < 0)
                        return -ENOMEM;
                firewall_network_of(net, fl->subnets[fl->n_networks], &fl->networks[fl->n_networks]);
                fl->networks[fl->n_networks].bridge = fl->bridges[fl->n_networks];
                fl->n_networks++;
        }
        i = 0;
        while (hashmap_iterate(e->containers->by_id, &i, &k, &v)) {
                Container *c = v;
                _cleanup_free_ FirewallPort *p = NULL;
                size_t np;
                FirewallPort *l;

                if (!IN_SET(c->state, CONTAINER_RUNNING, CONTAINER_PAUSED) || firewall_ports_of(e, c, &p, &np) < 0 ||
                    np == 0)
                        continue;
                l = reallocarray(fl->ports, fl->n_ports + np, sizeof *l);
                if (!l)
                        return -ENOMEM;
                fl->ports = l;
                memcpy(l + fl->n_ports, p, np * sizeof *p);
                fl->n_ports += np;
        }
        /* The ports' bridge names point into the networks, which live on the
         * loop: point them at the copies. */
        for (size_t j = 0; j < fl->n_ports; j++)
                for (size_t m = 0; m < fl->n_networks; m++)
                        if (streq(fl->ports[j].bridge, fl->bridges[m]))
                                fl->ports[j].bridge = fl->bridges[m];
        return 0;
}

/* Queues a load of the whole table from what the loop knows now. */
static int firewall_reload(Engine *e) {
        FirewallLoad *fl = calloc(1, sizeof *fl);
        int r;

        if (!fl)
                return -ENOMEM;
        fl->e = e;
        r = firewall_load_collect(e, fl);
        if (r >= 0)
                r = work_queue_push(e->net_queue, run_firewall_load, done_firewall_load, fl);
        if (r < 0)
                firewall_load_free(fl);
        else
                e->firewall_loaded = true;
        return r;
}

static void run_forward_open(void *data) {
        Engine *e = data;

        e->forward_open_r = worker_firewall(e);
        if (e->forward_open_r >= 0)
                e->forward_open_r = firewall_open_forward(e->firewall);
}

static void done_forward_open(void *data) {
        Engine *e = data;

        e->forward_open_queued = false;
        if (e->forward_open_r < 0)
                log_warning_errno(e->forward_open_r, "Cannot open iptables' FORWARD chain to Berth's bridges: %m");
}

static int on_firewall_event(sd_event_source *s, int fd, uint32_t revents, void *userdata) {
        Engine *e = userdata;
        int r = firewall_watch_read(fd);

        if (r > 0 && (r & FIREWALL_EVENT_TABLE_GONE)) {
                log_info("The firewall table inet berth was deleted; loading it again.");
                (void) firewall_reload(e);     /* opens the FORWARD chains too */
        } else if (r > 0 && !e->forward_open_queued) {
                if (work_queue_push(e->net_queue, run_forward_open, done_forward_open, e) >= 0)
                        e->forward_open_queued = true;
        } else if (r < 0 && r != -EAGAIN)
                log_debug_errno(r, "Reading the firewall's events failed: %m");
        return 0;
}

/* ---- creation: the leases ---- */

/* Resolves the network a creation asked for and leases the container's
 * addresses there. The endpoint's addrs hold what --ip/--ip6 asked. */
static int lease_endpoint(Engine *e, Container *c, ContainerEndpoint *ep, Network *n) {
        InAddr want[2] = { ep->addrs[0], ep->addrs[1] }, got[2] = {};
        static const uint8_t zero[6];
        int r;

        if (in_addr_is_set(&want[1]) && !n->ipv6)
                return errmsg_set(-EADDRNOTAVAIL, "Network %s has no IPv6 subnet for --ip6.", n->name);
        r = network_lease(e->networks, n, c->id, &want[0], &want[1], got);
        if (r < 0)
                return r;
        for (size_t i = 0; i < n->n_subnets && i < 2; i++)
                ep->addrs[got[i].family == AF_INET6] = got[i];
        if (memcmp(ep->mac, zero, 6) == 0)
                network_mac_from_addr(&ep->addrs[0], ep->mac);
        return free_and_strdup(&ep->network_id, n->id);
}

static int network_of_request(Engine *e, const char *ref, Network **ret) {
        int r;

        if (!ref || streq(ref, NETWORK_DEFAULT_NAME))
                r = network_table_default(e->networks, ret);
        else
                r = network_table_find(e->networks, ref, ret);
        if (r == -ENOENT)
                return errmsg_set(r, "No such network: %s", ref);
        if (r == -ENOTUNIQ)
                return errmsg_set(r, "The network id prefix %s is ambiguous.", ref);
        return r;
}

/* -P: every port the image exposes, on any free host port. */
static int publish_exposed(ContainerConfig *cfg, char **exposed) {
        STRV_FOREACH(x, exposed) {
                int r = port_spec_parse_exposed(*x, &cfg->ports, &cfg->n_ports);
                if (r < 0)
                        return r;
        }
        return 0;
}

int engine_network_prepare(Engine *e, Container *c, char **exposed_ports, bool publish_all) {
        ContainerConfig *cfg = &c->config;
        Network *n;
        int r;

        if (cfg->network != NETWORK_MODE_BRIDGE) {
                if (cfg->n_ports > 0 || publish_all)
                        return errmsg_set(-EINVAL, "Ports cannot be published with --network %s.",
                                          network_mode_to_string(cfg->network));
                if (cfg->n_endpoints > 0)
                        return errmsg_set(-EINVAL, "--ip, --ip6, --mac-address and --network-alias need a bridge network.");
                return 0;
        }
        if (publish_all && (r = publish_exposed(cfg, exposed_ports)) < 0)
                return r;
        if (cfg->n_endpoints == 0) {
                ContainerEndpoint ep = {};
                r = container_add_endpoint(cfg, &ep);
                if (r < 0)
                        return r;
        }
        r = network_of_request(e, cfg->network_name, &n);
        if (r == -ENOENT)
                r = -ENONET;   /* not the image's ENOENT */
        if (r < 0)
                return r;
        if (!n->dns && cfg->endpoints[0].aliases)
                return errmsg_set(-EINVAL, "Network-scoped aliases are only supported for user networks, not %s.", n->name);
        r = lease_endpoint(e, c, &cfg->endpoints[0], n);
        if (r < 0)
                return r;
        if (!cfg->network_name && !(cfg->network_name = strdup(NETWORK_DEFAULT_NAME)))
                return -ENOMEM;
        return 0;
}

static void endpoints_names_add(Engine *e, Container *c, bool notify) {
        for (size_t i = 0; i < c->config.n_endpoints; i++) {
                Network *n;
                if (network_table_find(e->networks, c->config.endpoints[i].network_id, &n) < 0)
                        continue;
                endpoint_names(n, c, &c->config.endpoints[i], true);
                if (notify && e->cb.network_changed)
                        e->cb.network_changed(n, e->userdata);
        }
}

/* After the container is in the table: its names answer from now on. */
void engine_network_added(Engine *e, Container *c) {
        endpoints_names_add(e, c, true);
}

/* Removal (or a failed creation): leases back, names gone. */
void engine_network_release(Engine *e, Container *c) {
        for (size_t i = 0; i < c->config.n_endpoints; i++) {
                const ContainerEndpoint *ep = &c->config.endpoints[i];
                Network *n;
                int r;

                if (!ep->network_id || network_table_find(e->networks, ep->network_id, &n) < 0)
                        continue;
                endpoint_names(n, c, ep, false);
                r = network_release(e->networks, n, c->id);
                if (r < 0)
                        log_warning_errno(r, "Cannot release the addresses of %s on %s: %m", c->name, n->name);
                if (e->cb.network_changed)
                        e->cb.network_changed(n, e->userdata);
        }
}

/* ---- a start: veths, the DNS listener, the published ports ---- */

typedef struct NetAttach {
        char bridge[IFNAMSIZ], host_name[IFNAMSIZ], ifname[IFNAMSIZ];
        LinkAddress bridge_addrs[2], addrs[2];
        size_t n_addrs;
        InAddr gateways[2];
        size_t n_gateways;
        uint8_t mac[6];
        uint32_t mtu;
        bool ipv6, internal, route_localnet;
        InPrefix subnets[2];
        bool created;
} NetAttach;

struct NetSetup {
        Engine *e;
        char *container_id;
        int pidfd;
        bool adopt;                    /* re-adoption: veths are there, only DNS and missing ports */
        bool cancelled;                /* the start went away meanwhile: undo in done */
        NetAttach *att;
        size_t n_att;
        PortMapping *ports;            /* to bind; host_port of bound ones set */
        size_t n_ports;
        int *port_fds;                 /* -EBADF: not bound (yet) */
        FirewallPort *fw_ports;
        size_t n_fw_ports;
        bool fw_added;
        int dns_udp, dns_tcp;
        int r;
        char message[512];
        EngineNetworkDone done;
        void *userdata;
};

static NetSetup *net_setup_free(NetSetup *s) {
        if (!s)
                return NULL;
        for (size_t i = 0; s->port_fds && i < s->n_ports; i++)
                safe_close(s->port_fds[i]);
        free(s->port_fds);
        free(s->ports);
        free(s->fw_ports);
        free(s->att);
        safe_close(s->pidfd);
        safe_close(s->dns_udp);
        safe_close(s->dns_tcp);
        free(s->container_id);
        return mfree(s);
}
DEFINE_TRIVIAL_CLEANUP_FUNC(NetSetup *, net_setup_free);

/* Named by the endpoint's slot, not its place in the list: a disconnect of
 * another network does not rename it, nor give its name to the next connect. */
static void veth_host_name(const Container *c, const ContainerEndpoint *ep, char buf[static IFNAMSIZ]) {
        snprintf(buf, IFNAMSIZ, "vb%.12s%x", c->id, ep->slot & 0xf);
}

static void attach_of(const Container *c, size_t index, const Network *n, const ContainerEndpoint *ep,
                      NetAttach *a) {
        *a = (NetAttach) { .mtu = n->mtu, .ipv6 = n->ipv6, .internal = n->internal, .route_localnet = true };
        snprintf(a->bridge, sizeof a->bridge, "%s", n->bridge);
        veth_host_name(c, ep, a->host_name);
        snprintf(a->ifname, sizeof a->ifname, "eth%u", ep->slot);
        memcpy(a->mac, ep->mac, 6);
        for (size_t i = 0; i < n->n_subnets && i < 2; i++) {
                const NetworkSubnet *s = &n->subnets[i];
                int f = s->subnet.addr.family == AF_INET6;

                a->subnets[i] = s->subnet;
                a->bridge_addrs[i] = (LinkAddress) { s->gateway, s->subnet.prefixlen };
                if (!in_addr_is_set(&ep->addrs[f]))
                        continue;
                a->addrs[a->n_addrs++] = (LinkAddress) { ep->addrs[f], s->subnet.prefixlen };
                /* Only the first network routes out, and internal ones never. */
                if (index == 0 && !n->internal)
                        a->gateways[a->n_gateways++] = s->gateway;
        }
}

static void bridge_forget(Engine *e, const char *name) {
        size_t k = 0;

        STRV_FOREACH(b, e->bridges_ready) {
                if (streq(*b, name))
                        free(*b);
                else
                        e->bridges_ready[k++] = *b;
        }
        if (e->bridges_ready)
                e->bridges_ready[k] = NULL;
}

/* A bridge is set up (made, addressed, up, its sysctls) once per run of the
 * worker, not at every start: a start only finds it by name, and sets it up
 * again if it is gone. */
static int bridge_ready(Engine *e, const BridgeSpec *br, bool again) {
        int r;

        if (again)
                bridge_forget(e, br->name);
        else if (strv_contains(e->bridges_ready, br->name))
                return 0;
        r = link_bridge_ensure(br);
        if (r >= 0 && strv_extend(&e->bridges_ready, br->name) < 0)
                return -ENOMEM;
        return r;
}

static int attach_link(Engine *e, NetAttach *a, int netns) {
        size_t n_br = a->subnets[1].addr.family ? 2 : 1;
        BridgeSpec br = { .name = a->bridge, .addrs = a->bridge_addrs, .n_addrs = n_br, .mtu = a->mtu,
                          .ipv6 = a->ipv6, .route_localnet = a->route_localnet };
        FirewallNetwork fwn = { .bridge = a->bridge, .subnets = a->subnets, .n_subnets = n_br,
                                .internal = a->internal };
        VethSpec v = { .bridge = a->bridge, .host_name = a->host_name, .netns_fd = netns, .ifname = a->ifname,
                       .mac = a->mac, .addrs = a->addrs, .n_addrs = a->n_addrs, .gateways = a->gateways,
                       .n_gateways = a->n_gateways, .mtu = a->mtu, .ipv6 = a->ipv6 };
        int r;

        if (!a->internal) {
                r = ip_forward_ensure(AF_INET, e->ip_forward);
                if (r >= 0 && a->ipv6)
                        r = ip_forward_ensure(AF_INET6, e->ip_forward);
                if (r < 0)
                        return r;
        }
        r = bridge_ready(e, &br, false);
        if (r >= 0)
                r = firewall_add_network(e->firewall, &fwn);
        if (r >= 0)
                r = link_veth_add(&v);
        if (r == -ENODEV) {
                r = bridge_ready(e, &br, true);
                if (r >= 0)
                        r = link_veth_add(&v);
        }
        if (r >= 0)
                a->created = true;
        return r;
}

static int bind_ports(NetSetup *s) {
        for (size_t i = 0; i < s->n_ports; i++) {
                uint16_t port;
                int r;

                if (s->port_fds[i] >= 0)
                        continue;
                r = port_reserve(&s->ports[i], &s->port_fds[i], &port);
                if (r < 0)
                        return r;
                s->ports[i].host_port = port;
                s->ports[i].host_port_last = 0;
        }
        return 0;
}

/* The firewall's DNAT rules for the bound ports, to the first network's addresses. */
static int ports_rules(NetSetup *s) {
        const NetAttach *a = s->n_att > 0 ? &s->att[0] : NULL;

        if (!a || s->n_ports == 0)
                return 0;
        s->fw_ports = calloc(2 * s->n_ports, sizeof *s->fw_ports);
        if (!s->fw_ports)
                return -ENOMEM;
        for (size_t i = 0; i < s->n_ports; i++)
                for (size_t j = 0; j < a->n_addrs; j++) {
                        const PortMapping *m = &s->ports[i];
                        if (m->host_ip.family && m->host_ip.family != a->addrs[j].addr.family)
                                continue;
                        s->fw_ports[s->n_fw_ports++] = (FirewallPort) {
                                .mapping = *m, .container_addr = a->addrs[j].addr, .bridge = a->bridge };
                }
        return 0;
}

static void net_setup_undo(NetSetup *s) {
        if (s->fw_added && s->e->firewall)
                (void) firewall_remove_ports(s->e->firewall, s->fw_ports, s->n_fw_ports);
        s->fw_added = false;
        for (size_t i = 0; i < s->n_att; i++)
                if (s->att[i].created && !s->adopt)
                        (void) link_remove(s->att[i].host_name);
        for (size_t i = 0; i < s->n_ports; i++)
                s->port_fds[i] = safe_close(s->port_fds[i]);
        s->dns_udp = safe_close(s->dns_udp);
        s->dns_tcp = safe_close(s->dns_tcp);
}

static int net_setup_steps(NetSetup *s) {
        _cleanup_close_ int netns = -EBADF;
        int r;

        netns = netns_open_pidfd(s->pidfd);
        if (netns < 0)
                return errmsg_set(netns, "Cannot open the container's network namespace: %s", strerror(-netns));
        r = worker_firewall(s->e);
        if (r >= 0 && !s->adopt)
                r = netns_ipv6_defaults(netns);
        if (r < 0)
                return r;
        for (size_t i = 0; !s->adopt && i < s->n_att; i++) {
                r = attach_link(s->e, &s->att[i], netns);
                if (r < 0)
                        return r;
        }
        r = dns_listener_sockets(netns, &s->dns_udp, &s->dns_tcp);
        if (r < 0)
                return errmsg_set(r, "Cannot make the container's DNS sockets on %s: %s", DNS_ADDRESS,
                                  errmsg_last() ?: strerror(-r));
        r = bind_ports(s);
        if (r >= 0 && !s->adopt)
                r = ports_rules(s);
        if (r >= 0 && s->n_fw_ports > 0) {
                r = firewall_add_ports(s->e->firewall, s->fw_ports, s->n_fw_ports);
                s->fw_added = r >= 0;
        }
        return r;
}

static void run_net_setup(void *data) {
        NetSetup *s = data;

        errmsg_clear();
        s->r = net_setup_steps(s);
        if (s->r < 0) {
                snprintf(s->message, sizeof s->message, "%s", errmsg_last() ?: strerror(-s->r));
                net_setup_undo(s);
        }
}

/* An exited container's veths go with its network namespace: the kernel
 * removes both ends in its batched clean-up of the namespace. Removing the
 * host end at once would cost the worker some 15 ms of the kernel's RCU
 * waits, and a start queued behind would wait as long. So the teardown only
 * notes the host ends' indexes, and a while later removes those still there
 * (something else holds the namespace: a process that joined it, say).
 * Indexes are not reused: a later veth of the same name is never hit. */
#define VETH_REAP_DELAY_USEC (2 * USEC_PER_SEC)

typedef struct NetTeardown {
        Engine *e;
        FirewallPort *fw_ports;
        size_t n_fw_ports;
        char **links;
        int *ifindexes;                /* of links, found by the worker; 0: gone */
        char **bridges;                /* the fw_ports' bridge names, owned */
} NetTeardown;

static void run_net_teardown(void *data) {
        NetTeardown *t = data;
        size_t i = 0;

        if (t->n_fw_ports > 0 && t->e->firewall)
                (void) firewall_remove_ports(t->e->firewall, t->fw_ports, t->n_fw_ports);
        STRV_FOREACH(l, t->links) {
                int ifindex = t->ifindexes ? link_index(*l) : -ENOMEM;

                /* Not to be noted (no memory, no answer): removed now. */
                if (ifindex < 0)
                        (void) link_remove(*l);
                else
                        t->ifindexes[i] = ifindex;
                i++;
        }
}

typedef struct VethReapJob {
        int *ifindexes;
        size_t n;
} VethReapJob;

static void run_veth_reap(void *data) {
        VethReapJob *j = data;

        for (size_t i = 0; i < j->n; i++)
                (void) link_remove_index(j->ifindexes[i]);
}

static void done_veth_reap(void *data) {
        VethReapJob *j = data;

        free(j->ifindexes);
        free(j);
}

static int veth_reap_arm(Engine *e);

/* The due ones go to the worker, in one job. */
static int on_veth_reap_timer(sd_event_source *s, uint64_t usec, void *userdata) {
        Engine *e = userdata;
        VethReapJob *j = calloc(1, sizeof *j);
        size_t k = 0;

        if (j)
                j->ifindexes = calloc(e->n_veth_reaps, sizeof *j->ifindexes);
        for (size_t i = 0; i < e->n_veth_reaps; i++) {
                if (e->veth_reaps[i].due_usec <= usec && j && j->ifindexes)
                        j->ifindexes[j->n++] = e->veth_reaps[i].ifindex;
                else
                        e->veth_reaps[k++] = e->veth_reaps[i];
        }
        e->n_veth_reaps = k;
        if (j && (!j->ifindexes || work_queue_push(e->net_queue, run_veth_reap, done_veth_reap, j) < 0))
                done_veth_reap(j);
        (void) veth_reap_arm(e);
        return 0;
}

/* The timer at the earliest due time, off if nothing is due. */
static int veth_reap_arm(Engine *e) {
        uint64_t due = UINT64_MAX;

        for (size_t i = 0; i < e->n_veth_reaps; i++)
                due = MIN(due, e->veth_reaps[i].due_usec);
        if (due == UINT64_MAX)
                return e->veth_reap_timer ? sd_event_source_set_enabled(e->veth_reap_timer, SD_EVENT_OFF) : 0;
        if (!e->veth_reap_timer)
                return sd_event_add_time(e->event, &e->veth_reap_timer, CLOCK_MONOTONIC, due, 0,
                                         on_veth_reap_timer, e);
        (void) sd_event_source_set_time(e->veth_reap_timer, due);
        return sd_event_source_set_enabled(e->veth_reap_timer, SD_EVENT_ONESHOT);
}

static void veth_reap_later(Engine *e, const int *ifindexes, size_t n) {
        uint64_t now = 0;

        (void) sd_event_now(e->event, CLOCK_MONOTONIC, &now);
        for (size_t i = 0; i < n; i++) {
                if (ifindexes[i] <= 0)
                        continue;
                if (greedy_realloc((void **) &e->veth_reaps, &e->alloc_veth_reaps, e->n_veth_reaps + 1,
                                   sizeof *e->veth_reaps) < 0)
                        break;         /* left to the kernel alone */
                e->veth_reaps[e->n_veth_reaps++] = (VethReap) { ifindexes[i], now + VETH_REAP_DELAY_USEC };
        }
        if (veth_reap_arm(e) < 0)
                log_warning("Cannot arm the timer that removes leftover veths.");
}

static void done_net_teardown(void *data) {
        NetTeardown *t = data;

        if (t->ifindexes && !t->e->net_stopping)
                veth_reap_later(t->e, t->ifindexes, strv_length(t->links));
        free(t->fw_ports);
        free(t->ifindexes);
        strv_free(t->links);
        strv_free(t->bridges);
        free(t);
}

/* Queues the removal of what a setup made: rules of the bound ports and veths. */
static void teardown_push(Engine *e, FirewallPort *fw_ports, size_t n_fw_ports, char **links) {
        NetTeardown *t = e->net_stopping ? NULL : calloc(1, sizeof *t);

        if (!t) {
                free(fw_ports);
                strv_free(links);
                return;
        }
        *t = (NetTeardown) { .e = e, .fw_ports = fw_ports, .n_fw_ports = n_fw_ports, .links = links };
        if (links)
                t->ifindexes = calloc(strv_length(links), sizeof *t->ifindexes);
        /* The bridge names must outlive the networks on the loop. */
        for (size_t i = 0; i < n_fw_ports; i++) {
                if (strv_extend(&t->bridges, fw_ports[i].bridge) < 0)
                        break;
                fw_ports[i].bridge = t->bridges[strv_length(t->bridges) - 1];
        }
        if (work_queue_push(e->net_queue, run_net_teardown, done_net_teardown, t) < 0)
                done_net_teardown(t);
}

static void net_setup_cancel_done(NetSetup *s) {
        char **links = NULL;

        if (s->r >= 0) {
                for (size_t i = 0; i < s->n_att; i++)
                        if (!s->adopt)
                                (void) strv_extend(&links, s->att[i].host_name);
                teardown_push(s->e, s->fw_added ? TAKE_PTR(s->fw_ports) : NULL,
                              s->fw_added ? s->n_fw_ports : 0, links);
        }
        net_setup_free(s);
}

static void store_port_fds(Engine *e, Container *c, Live *l, NetSetup *s) {
        for (size_t i = 0; i < s->n_ports; i++) {
                char suffix[32];

                snprintf(suffix, sizeof suffix, ".port%zu", i);
                engine_fdstore_put(e, c, s->port_fds[i], suffix);
        }
        free(l->port_fds);
        l->port_fds = TAKE_PTR(s->port_fds);
        l->n_port_fds = s->n_ports;
}

static void done_net_setup(void *data) {
        _cleanup_(net_setup_freep) NetSetup *s = data;
        Engine *e = s->e;
        Container *c = hashmap_get(e->containers->by_id, s->container_id);
        Live *l = c ? c->live : NULL;
        DnsListenerSpec dl;
        _cleanup_free_ InAddr *upstreams = NULL;
        size_t n_up = 0;
        int r = s->r;

        if (s->cancelled || !l || l->net_setup != s) {
                net_setup_cancel_done(TAKE_PTR(s));
                return;
        }
        l->net_setup = NULL;
        if (r >= 0) {
                free(c->bound_ports);
                c->bound_ports = TAKE_PTR(s->ports);
                c->n_bound_ports = s->n_ports;
                store_port_fds(e, c, l, s);
                STRV_FOREACH(d, c->config.dns) {
                        InAddr *u = reallocarray(upstreams, n_up + 1, sizeof *u);
                        if (!u)
                                break;
                        upstreams = u;
                        if (in_addr_parse(*d, AF_UNSPEC, &u[n_up]) >= 0)
                                n_up++;
                }
                dl = (DnsListenerSpec) { .id = c->id, .udp_fd = TAKE_FD(s->dns_udp), .tcp_fd = TAKE_FD(s->dns_tcp),
                                         .upstreams = upstreams, .n_upstreams = n_up,
                                         .forward = s->n_att == 0 || !s->att[0].internal };
                r = dns_server_add_listener(e->dns, &dl);
                if (r < 0)
                        log_warning_errno(r, "Cannot serve DNS to container %s: %m", c->name);
                r = 0;
        }
        if (s->done)
                s->done(c, r, r < 0 ? s->message : NULL, s->userdata);
}

static int net_setup_new(Engine *e, Container *c, int pidfd, NetSetup **ret) {
        _cleanup_(net_setup_freep) NetSetup *s = calloc(1, sizeof *s);
        const ContainerConfig *cfg = &c->config;

        if (!s)
                return -ENOMEM;
        *s = (NetSetup) { .e = e, .pidfd = -EBADF, .dns_udp = -EBADF, .dns_tcp = -EBADF };
        s->container_id = strdup(c->id);
        s->pidfd = fcntl(pidfd, F_DUPFD_CLOEXEC, 3);
        s->att = calloc(MAX(cfg->n_endpoints, (size_t) 1), sizeof *s->att);
        s->ports = cfg->n_ports > 0 ? calloc(cfg->n_ports, sizeof *s->ports) : NULL;
        s->port_fds = calloc(MAX(cfg->n_ports, (size_t) 1), sizeof *s->port_fds);
        if (!s->container_id || s->pidfd < 0 || !s->att || !s->port_fds || (cfg->n_ports > 0 && !s->ports))
                return -ENOMEM;
        for (size_t i = 0; i < cfg->n_endpoints; i++) {
                Network *n;
                if (network_table_find(e->networks, cfg->endpoints[i].network_id, &n) < 0)
                        return errmsg_set(-ENOENT, "The network of the container's endpoint %zu is gone.", i);
                attach_of(c, i, n, &cfg->endpoints[i], &s->att[s->n_att++]);
        }
        s->n_ports = cfg->n_ports;
        if (cfg->n_ports > 0)
                memcpy(s->ports, cfg->ports, cfg->n_ports * sizeof *s->ports);
        for (size_t i = 0; i < s->n_ports; i++)
                s->port_fds[i] = -EBADF;
        *ret = TAKE_PTR(s);
        return 0;
}

/* The table first, whole, before anything of a network is added. */
static int firewall_ensure(Engine *e) {
        return e->firewall_loaded ? 0 : firewall_reload(e);
}

int engine_network_setup(Engine *e, Container *c, EngineNetworkDone done, void *userdata) {
        Live *l = engine_live(e, c);
        NetSetup *s;
        int r;

        if (!l)
                return -ENOMEM;
        r = firewall_ensure(e);
        if (r < 0)
                return r;
        r = net_setup_new(e, c, l->process.pidfd, &s);
        if (r < 0)
                return r;
        s->done = done;
        s->userdata = userdata;
        r = work_queue_push(e->net_queue, run_net_setup, done_net_setup, s);
        if (r < 0) {
                net_setup_free(s);
                return r;
        }
        l->net_setup = s;
        return 0;
}

/* The exit (or a failed start): ports, DNS and veths go. */
void engine_network_teardown(Engine *e, Container *c) {
        Live *l = c->live;
        FirewallPort *fw = NULL;
        size_t n_fw = 0;
        char **links = NULL;

        if (l && l->net_setup) {
                l->net_setup->cancelled = true;
                l->net_setup = NULL;
        }
        if (c->config.network != NETWORK_MODE_BRIDGE)
                return;
        dns_server_remove_listener(e->dns, c->id);
        (void) firewall_ports_of(e, c, &fw, &n_fw);
        for (size_t i = 0; i < c->config.n_endpoints; i++) {
                char name[IFNAMSIZ];
                veth_host_name(c, &c->config.endpoints[i], name);
                (void) strv_extend(&links, name);
        }
        teardown_push(e, fw, n_fw, links);
        for (size_t i = 0; l && i < l->n_port_fds; i++) {
                char name[128];
                l->port_fds[i] = safe_close(l->port_fds[i]);
                snprintf(name, sizeof name, "%s.port%zu", c->id, i);
                engine_fdstore_remove_name(e, name);
        }
        if (l) {
                l->port_fds = mfree(l->port_fds);
                l->n_port_fds = 0;
        }
        c->bound_ports = mfree(c->bound_ports);
        c->n_bound_ports = 0;
}

/* ---- re-adoption after a restart of berthd ---- */

static void done_adopt(Container *c, int r, const char *message, void *userdata) {
        if (r < 0)
                log_warning("Container %s: cannot restore its network: %s", c->name, message);
}

void engine_network_adopt(Engine *e, Container *c, char **names, int *fds, int n_fds) {
        Live *l = engine_live(e, c);
        NetSetup *s;
        int r;

        if (c->config.network != NETWORK_MODE_BRIDGE || !l || c->pidfd < 0)
                return;
        r = net_setup_new(e, c, c->pidfd, &s);
        if (r < 0) {
                log_warning_errno(r, "Container %s: cannot restore its network: %m", c->name);
                return;
        }
        s->adopt = true;
        s->done = done_adopt;
        /* The ports bound before, from systemd's store; those missing are bound again. */
        for (size_t i = 0; i < s->n_ports && i < c->n_bound_ports; i++) {
                _cleanup_free_ char *name = NULL;
                char suffix[32];
                int fd;

                snprintf(suffix, sizeof suffix, ".port%zu", i);
                name = strjoin(c->id, suffix);
                fd = name ? engine_fdstore_take(names, fds, n_fds, name) : -EBADF;
                s->ports[i] = c->bound_ports[i];
                if (fd >= 0 && port_reservation_matches(fd, &s->ports[i]))
                        s->port_fds[i] = fd;
                else
                        safe_close(fd);
        }
        if (work_queue_push(e->net_queue, run_net_setup, done_net_setup, s) < 0) {
                net_setup_free(s);
                return;
        }
        l->net_setup = s;
}

/* After the load: names of every container, the firewall's table whole. */
void engine_network_loaded(Engine *e) {
        const char *k;
        void *v;
        size_t i = 0;

        while (hashmap_iterate(e->containers->by_id, &i, &k, &v)) {
                Container *c = v;

                endpoints_names_add(e, c, false);
                /* Ports of a run that ended while berthd was away are free. */
                if (!IN_SET(c->state, CONTAINER_RUNNING, CONTAINER_PAUSED) && c->n_bound_ports > 0) {
                        c->bound_ports = mfree(c->bound_ports);
                        c->n_bound_ports = 0;
                }
        }
        if (hashmap_size(e->networks->by_id) > 0 && firewall_reload(e) < 0)
                log_warning("Cannot queue the load of the firewall's table.");
}

/* ---- networks: create, remove, connect, disconnect ---- */

NetworkTable *engine_networks(Engine *e) {
        return e->networks;
}

int engine_network_find(Engine *e, const char *ref, Network **ret) {
        int r = network_table_find(e->networks, ref, ret);

        if (r == -ENOENT && streq_ptr(ref, NETWORK_DEFAULT_NAME))
                r = network_table_default(e->networks, ret);
        if (r == -ENOENT)
                return errmsg_set(r, "No such network: %s", ref);
        if (r == -ENOTUNIQ)
                return errmsg_set(r, "The network id prefix %s is ambiguous.", ref);
        return r;
}

int engine_network_create(Engine *e, const NetworkCreateSpec *spec, Network **ret) {
        _cleanup_free_ InPrefix *routes = NULL;
        size_t n_routes = 0;
        int r;

        /* One netlink dump of the routes: answered by the kernel at once. */
        r = link_host_routes("berth", &routes, &n_routes);
        if (r < 0)
                log_debug_errno(r, "Cannot read the host's routes: %m");
        r = network_table_create(e->networks, spec, routes, n_routes, ret);
        if (r < 0)
                return r;
        if (e->cb.network_added)
                e->cb.network_added(*ret, e->userdata);
        return 0;
}

typedef struct BridgeRemoval {
        Engine *e;
        char bridge[IFNAMSIZ];
        InPrefix subnets[2];
        size_t n_subnets;
        bool internal;
} BridgeRemoval;

static void run_bridge_removal(void *data) {
        BridgeRemoval *b = data;
        FirewallNetwork fwn = { .bridge = b->bridge, .subnets = b->subnets, .n_subnets = b->n_subnets,
                                .internal = b->internal };

        (void) link_bridge_remove(b->bridge);
        bridge_forget(b->e, b->bridge);
        if (b->e->firewall)
                (void) firewall_remove_network(b->e->firewall, &fwn);
}

int engine_network_remove(Engine *e, Network *n) {
        BridgeRemoval *b;
        int r;

        if (network_n_leases(n) > 0)
                return errmsg_set(-EBUSY, "Network %s has containers: disconnect or remove them first.", n->name);
        b = calloc(1, sizeof *b);
        if (!b)
                return -ENOMEM;
        *b = (BridgeRemoval) { .e = e, .internal = n->internal };
        snprintf(b->bridge, sizeof b->bridge, "%s", n->bridge);
        for (size_t i = 0; i < n->n_subnets && i < 2; i++)
                b->subnets[b->n_subnets++] = n->subnets[i].subnet;
        r = network_table_remove(e->networks, n);
        if (r < 0) {
                free(b);
                return r;
        }
        if (work_queue_push(e->net_queue, run_bridge_removal, free, b) < 0)
                free(b);
        if (e->cb.network_removed)
                e->cb.network_removed(n, e->userdata);
        names_free(n);
        network_free(n);
        return 0;
}

int engine_network_prune(Engine *e, char ***ret_removed) {
        _cleanup_strv_free_ char **removed = NULL, **ids = NULL;
        const char *k;
        void *v;
        size_t i = 0;

        while (hashmap_iterate(e->networks->by_id, &i, &k, &v)) {
                Network *n = v;
                if (network_n_leases(n) == 0 && !streq(n->name, NETWORK_DEFAULT_NAME) && strv_extend(&ids, n->id) < 0)
                        return -ENOMEM;
        }
        STRV_FOREACH(id, ids) {
                Network *n;
                _cleanup_free_ char *name = NULL;

                if (network_table_find(e->networks, *id, &n) < 0 || !(name = strdup(n->name)))
                        continue;
                if (engine_network_remove(e, n) >= 0 && strv_consume(&removed, TAKE_PTR(name)) < 0)
                        return -ENOMEM;
        }
        *ret_removed = TAKE_PTR(removed);
        return 0;
}

typedef struct LinkJob {
        Engine *e;
        char *container_id;
        int pidfd;
        NetAttach att;
        bool remove;
        int r;
        char message[512];
        EngineNetworkDone done;
        void *userdata;
} LinkJob;

static void run_link_job(void *data) {
        LinkJob *j = data;
        _cleanup_close_ int netns = -EBADF;

        errmsg_clear();
        if (j->remove) {
                j->r = link_remove(j->att.host_name);
        } else {
                netns = netns_open_pidfd(j->pidfd);
                j->r = netns < 0 ? netns : worker_firewall(j->e);
                if (j->r >= 0)
                        j->r = attach_link(j->e, &j->att, netns);
        }
        if (j->r < 0)
                snprintf(j->message, sizeof j->message, "%s", errmsg_last() ?: strerror(-j->r));
}

static void done_link_job(void *data) {
        LinkJob *j = data;
        Container *c = hashmap_get(j->e->containers->by_id, j->container_id);

        if (j->done)
                j->done(c, j->r, j->r < 0 ? j->message : NULL, j->userdata);
        safe_close(j->pidfd);
        free(j->container_id);
        free(j);
}

static int link_job_push(Engine *e, Container *c, size_t index, const Network *n, const ContainerEndpoint *ep,
                         bool remove, EngineNetworkDone done, void *userdata) {
        LinkJob *j = calloc(1, sizeof *j);
        int r;

        if (!j)
                return -ENOMEM;
        *j = (LinkJob) { .e = e, .pidfd = -EBADF, .remove = remove, .done = done, .userdata = userdata };
        attach_of(c, index, n, ep, &j->att);
        j->container_id = strdup(c->id);
        if (!remove)
                j->pidfd = fcntl(c->pidfd, F_DUPFD_CLOEXEC, 3);
        r = !j->container_id || (!remove && j->pidfd < 0) ? -ENOMEM :
                work_queue_push(e->net_queue, run_link_job, done_link_job, j);
        if (r < 0) {
                safe_close(j->pidfd);
                free(j->container_id);
                free(j);
        }
        return r;
}

static bool container_is_up(const Container *c) {
        return IN_SET(c->state, CONTAINER_RUNNING, CONTAINER_PAUSED) && c->pidfd >= 0;
}

/* Connects c to n: a lease now, and a veth at once if it runs (done then,
 * else done at once). req: --ip, --ip6, --alias, as a ContainerEndpoint. */
int engine_network_connect(Engine *e, Network *n, Container *c, ContainerEndpoint *req, EngineNetworkDone done,
                           void *userdata) {
        ContainerEndpoint *ep;
        size_t index;
        int r;

        if (c->config.network != NETWORK_MODE_BRIDGE)
                return errmsg_set(-EINVAL, "Container %s uses --network %s: it cannot join networks.", c->name,
                                  network_mode_to_string(c->config.network));
        if (container_find_endpoint(&c->config, n->id))
                return errmsg_set(-EEXIST, "Container %s is already connected to network %s.", c->name, n->name);
        if (req->aliases && !n->dns)
                return errmsg_set(-EINVAL, "Network-scoped aliases are only supported for user networks, not %s.", n->name);
        if (c->config.n_endpoints >= CONTAINER_ENDPOINTS_MAX)
                return errmsg_set(-E2BIG, "Container %s is on %d networks already.", c->name,
                                  CONTAINER_ENDPOINTS_MAX);
        r = firewall_ensure(e);
        if (r < 0)
                return r;
        r = lease_endpoint(e, c, req, n);
        if (r < 0)
                return r;
        index = c->config.n_endpoints;
        r = container_add_endpoint(&c->config, req);
        if (r < 0) {
                (void) network_release(e->networks, n, c->id);
                return r;
        }
        ep = &c->config.endpoints[index];
        endpoint_names(n, c, ep, true);
        (void) engine_save(e, c);
        engine_changed(e, c);
        if (e->cb.network_changed)
                e->cb.network_changed(n, e->userdata);
        if (!container_is_up(c)) {
                done(c, 0, NULL, userdata);
                return 0;
        }
        return link_job_push(e, c, index, n, ep, false, done, userdata);
}

int engine_network_disconnect(Engine *e, Network *n, Container *c, bool force, EngineNetworkDone done,
                              void *userdata) {
        ContainerEndpoint *ep = container_find_endpoint(&c->config, n->id);
        bool pushed;
        size_t index;
        int r;

        if (!ep)
                return errmsg_set(-ENOENT, "Container %s is not connected to network %s.", c->name, n->name);
        if (c->config.n_endpoints == 1 && container_is_up(c) && c->n_bound_ports > 0 && !force)
                return errmsg_set(-EBUSY, "Container %s publishes ports through network %s; use --force.",
                                  c->name, n->name);
        index = ep - c->config.endpoints;
        endpoint_names(n, c, ep, false);
        r = network_release(e->networks, n, c->id);
        if (r < 0)
                return r;
        /* done once the veth is gone, as docker network disconnect returns. */
        pushed = container_is_up(c) && link_job_push(e, c, index, n, ep, true, done, userdata) >= 0;
        container_remove_endpoint(&c->config, ep);
        (void) engine_save(e, c);
        engine_changed(e, c);
        if (e->cb.network_changed)
                e->cb.network_changed(n, e->userdata);
        if (!pushed)
                done(c, 0, NULL, userdata);
        return 0;
}
