/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The network half of CreateContainer's options, Connect's and
 * CreateNetwork's: each key one docker flag; bad values are refused with a
 * sentence naming the flag and the value. */
#include "bus-util.h"
#include "names.h"
#include "network-options.h"

static int read_strv(sd_bus_message *m, char ***dst) {
        char **l = NULL;
        int r = sd_bus_message_read_strv(m, &l);

        if (r < 0)
                return r;
        strv_free(*dst);
        *dst = l;
        return 0;
}

static int read_address(sd_bus_message *m, int family, const char *flag, InAddr *ret, sd_bus_error *error) {
        const char *s;
        int r = sd_bus_message_read(m, "s", &s);

        if (r < 0)
                return r;
        if (isempty(s)) {
                *ret = (InAddr) {};
                return 0;
        }
        if (in_addr_parse(s, family, ret) < 0 || in_addr_is_any(ret) || in_addr_is_loopback(ret))
                return sd_bus_error_setf(error, SD_BUS_ERROR_INVALID_ARGS, "Invalid %s address '%s' for %s.",
                                         family == AF_INET ? "IPv4" : "IPv6", s, flag);
        return 0;
}

static int read_mac(sd_bus_message *m, uint8_t mac[6], sd_bus_error *error) {
        const char *s;
        int r = sd_bus_message_read(m, "s", &s);

        if (r < 0)
                return r;
        if (isempty(s))
                return 0;
        /* Multicast addresses (low bit of the first byte) are no NIC's. */
        if (mac_parse(s, mac) < 0 || (mac[0] & 1))
                return sd_bus_error_setf(error, SD_BUS_ERROR_INVALID_ARGS, "Invalid MAC address '%s' for --mac-address.", s);
        return 0;
}

static int read_aliases(sd_bus_message *m, char ***dst, sd_bus_error *error) {
        int r = read_strv(m, dst);

        if (r < 0)
                return r;
        STRV_FOREACH(a, *dst)
                if (!container_name_is_valid(*a))
                        return sd_bus_error_setf(error, SD_BUS_ERROR_INVALID_ARGS,
                                                 "Invalid network alias '%s': use [a-zA-Z0-9][a-zA-Z0-9_.-]*.", *a);
        return 0;
}

/* An endpoint for the first network, made when one of its flags is given. */
static ContainerEndpoint *first_endpoint(ContainerConfig *cfg) {
        ContainerEndpoint ep = {};

        if (cfg->n_endpoints == 0 && container_add_endpoint(cfg, &ep) < 0)
                return NULL;
        return &cfg->endpoints[0];
}

static int read_mode(sd_bus_message *m, ContainerConfig *cfg, sd_bus_error *error) {
        const char *s, *other;
        int r = sd_bus_message_read(m, "s", &s);

        if (r < 0)
                return r;
        if (isempty(s))
                return sd_bus_error_set(error, SD_BUS_ERROR_INVALID_ARGS, "The network mode is empty.");
        if ((other = startswith(s, "container:"))) {
                if (!container_name_is_valid(other) && !container_id_is_valid(other))
                        return sd_bus_error_setf(error, SD_BUS_ERROR_INVALID_ARGS,
                                                 "Invalid container '%s' for --network container:.", other);
                cfg->network = NETWORK_MODE_CONTAINER;
                return free_and_strdup(&cfg->network_name, other);
        }
        if (streq(s, "none") || streq(s, "host")) {
                cfg->network = network_mode_from_string(s);
                return 0;
        }
        if (strlen(s) > NETWORK_NAME_MAX || !container_name_is_valid(s))
                return sd_bus_error_setf(error, SD_BUS_ERROR_INVALID_ARGS, "Invalid network name '%s'.", s);
        cfg->network = NETWORK_MODE_BRIDGE;
        return free_and_strdup(&cfg->network_name, s);
}

static int read_port_bindings(sd_bus_message *m, ContainerConfig *cfg, sd_bus_error *error) {
        const char *ip, *proto;
        uint16_t hp, hl, cp;
        int r;

        r = sd_bus_message_enter_container(m, 'a', "(sqqqs)");
        while (r >= 0 && (r = sd_bus_message_read(m, "(sqqqs)", &ip, &hp, &hl, &cp, &proto)) > 0) {
                PortMapping p = { .host_port = hp, .host_port_last = hl, .container_port = cp,
                                  .proto = port_proto_from_string(proto) };
                PortMapping *l;

                if (p.proto < 0 || cp == 0 || (hl != 0 && hl < hp) ||
                    (!isempty(ip) && in_addr_parse(ip, AF_UNSPEC, &p.host_ip) < 0))
                        return sd_bus_error_setf(error, SD_BUS_ERROR_INVALID_ARGS,
                                                 "Invalid port binding %s:%u-%u:%u/%s.", ip, hp, hl, cp, proto);
                if (cfg->n_ports >= 65536)
                        return sd_bus_error_set(error, SD_BUS_ERROR_INVALID_ARGS, "Too many port bindings.");
                l = reallocarray(cfg->ports, cfg->n_ports + 1, sizeof *l);
                if (!l)
                        return -ENOMEM;
                cfg->ports = l;
                l[cfg->n_ports++] = p;
        }
        if (r < 0)
                return r;
        return sd_bus_message_exit_container(m);
}

static int read_dns(sd_bus_message *m, ContainerConfig *cfg, sd_bus_error *error) {
        int r = read_strv(m, &cfg->dns);

        if (r < 0)
                return r;
        STRV_FOREACH(d, cfg->dns) {
                InAddr a;
                if (in_addr_parse(*d, AF_UNSPEC, &a) < 0)
                        return sd_bus_error_setf(error, SD_BUS_ERROR_INVALID_ARGS, "Invalid address '%s' for --dns.", *d);
        }
        return 0;
}

static bool resolv_word_ok(const char *s) {
        if (isempty(s) || strlen(s) > 253)
                return false;
        for (const char *p = s; *p; p++)
                if ((unsigned char) *p <= ' ' || *p == 0x7f || *p == '#' || *p == ';')
                        return false;
        return true;
}

static int read_resolv_words(sd_bus_message *m, const char *flag, char ***dst, sd_bus_error *error) {
        int r = read_strv(m, dst);

        if (r < 0)
                return r;
        STRV_FOREACH(w, *dst)
                if (!resolv_word_ok(*w))
                        return sd_bus_error_setf(error, SD_BUS_ERROR_INVALID_ARGS, "Invalid value '%s' for %s.", *w, flag);
        return 0;
}

static int read_extra_hosts(sd_bus_message *m, ContainerConfig *cfg, sd_bus_error *error) {
        int r = read_strv(m, &cfg->extra_hosts);

        if (r < 0)
                return r;
        STRV_FOREACH(x, cfg->extra_hosts) {
                const char *colon = strchr(*x, ':');
                InAddr a;

                /* name:address; the address may be IPv6 with colons of its own. */
                if (!colon || colon == *x || !resolv_word_ok(*x) ||
                    (!streq(colon + 1, "host-gateway") && in_addr_parse(colon + 1, AF_UNSPEC, &a) < 0))
                        return sd_bus_error_setf(error, SD_BUS_ERROR_INVALID_ARGS,
                                                 "Invalid --add-host '%s': use name:address or name:host-gateway.", *x);
        }
        return 0;
}

int network_options_read_container(sd_bus_message *m, const char *key, ContainerConfig *cfg, sd_bus_error *error) {
        ContainerEndpoint *ep = NULL;
        int r;

        if (IN_SET_STR(key, "NetworkAliases", "IPv4Address", "IPv6Address", "MacAddress") && !(ep = first_endpoint(cfg)))
                return -ENOMEM;
        if (streq(key, "Network")) r = read_mode(m, cfg, error);
        else if (streq(key, "NetworkAliases")) r = read_aliases(m, &ep->aliases, error);
        else if (streq(key, "IPv4Address")) r = read_address(m, AF_INET, "--ip", &ep->addrs[0], error);
        else if (streq(key, "IPv6Address")) r = read_address(m, AF_INET6, "--ip6", &ep->addrs[1], error);
        else if (streq(key, "MacAddress")) r = read_mac(m, ep->mac, error);
        else if (streq(key, "PortBindings")) r = read_port_bindings(m, cfg, error);
        else if (streq(key, "PublishAll")) {
                int b;
                r = sd_bus_message_read(m, "b", &b);
                cfg->publish_all = b;
        } else if (streq(key, "Dns")) r = read_dns(m, cfg, error);
        else if (streq(key, "DnsSearch")) r = read_resolv_words(m, "--dns-search", &cfg->dns_search, error);
        else if (streq(key, "DnsOptions")) r = read_resolv_words(m, "--dns-option", &cfg->dns_options, error);
        else if (streq(key, "ExtraHosts")) r = read_extra_hosts(m, cfg, error);
        else
                return 0;
        return r < 0 ? r : 1;
}

int network_options_read_endpoint(sd_bus_message *m, ContainerEndpoint *ret, sd_bus_error *error) {
        _cleanup_(container_endpoint_done) ContainerEndpoint ep = {};
        const char *key, *contents;
        int r;

        r = sd_bus_message_enter_container(m, 'a', "{sv}");
        while (r >= 0 && (r = sd_bus_message_enter_container(m, 'e', "sv")) > 0) {
                r = sd_bus_message_read(m, "s", &key);
                if (r >= 0)
                        r = sd_bus_message_peek_type(m, NULL, &contents);
                if (r >= 0)
                        r = sd_bus_message_enter_container(m, 'v', contents);
                if (r < 0)
                        return r;
                if (streq(key, "Aliases")) r = read_aliases(m, &ep.aliases, error);
                else if (streq(key, "IPv4Address")) r = read_address(m, AF_INET, "--ip", &ep.addrs[0], error);
                else if (streq(key, "IPv6Address")) r = read_address(m, AF_INET6, "--ip6", &ep.addrs[1], error);
                else if (streq(key, "MacAddress")) r = read_mac(m, ep.mac, error);
                else
                        return sd_bus_error_setf(error, SD_BUS_ERROR_INVALID_ARGS, "Unknown connect option '%s'.", key);
                if (r == -ENXIO && !sd_bus_error_is_set(error))
                        return sd_bus_error_setf(error, SD_BUS_ERROR_INVALID_ARGS, "Option '%s' has the wrong type (%s).",
                                                 key, contents);
                if (r >= 0)
                        r = sd_bus_message_exit_container(m);
                if (r >= 0)
                        r = sd_bus_message_exit_container(m);
        }
        if (r >= 0)
                r = sd_bus_message_exit_container(m);
        if (r < 0)
                return r;
        *ret = ep;
        ep = (ContainerEndpoint) {};
        return 0;
}

static int read_prefixes(sd_bus_message *m, const char *flag, InPrefix *dst, size_t *n, sd_bus_error *error) {
        _cleanup_strv_free_ char **l = NULL;
        int r = sd_bus_message_read_strv(m, &l);

        if (r < 0)
                return r;
        STRV_FOREACH(s, l) {
                if (*n >= 8)
                        return sd_bus_error_setf(error, SD_BUS_ERROR_INVALID_ARGS, "At most 8 values for %s.", flag);
                if (in_prefix_parse(*s, AF_UNSPEC, &dst[*n]) < 0)
                        return sd_bus_error_setf(error, SD_BUS_ERROR_INVALID_ARGS,
                                                 "Invalid %s '%s': give a network address and a prefix length, "
                                                 "host bits zero (10.89.5.0/24, fd00:1::/64).", flag, *s);
                (*n)++;
        }
        return 0;
}

static int read_gateways(sd_bus_message *m, NetworkCreateOptions *o, sd_bus_error *error) {
        _cleanup_strv_free_ char **l = NULL;
        int r = sd_bus_message_read_strv(m, &l);

        if (r < 0)
                return r;
        STRV_FOREACH(s, l) {
                if (o->spec.n_gateways >= 8)
                        return sd_bus_error_set(error, SD_BUS_ERROR_INVALID_ARGS, "At most 8 values for --gateway.");
                if (in_addr_parse(*s, AF_UNSPEC, &o->gateways[o->spec.n_gateways]) < 0)
                        return sd_bus_error_setf(error, SD_BUS_ERROR_INVALID_ARGS, "Invalid --gateway '%s'.", *s);
                o->spec.n_gateways++;
        }
        return 0;
}

static int read_create_option(sd_bus_message *m, const char *key, NetworkCreateOptions *o, sd_bus_error *error) {
        int b, r;

        if (streq(key, "Driver")) {
                const char *s;
                r = sd_bus_message_read(m, "s", &s);
                return r < 0 ? r : free_and_strdup(&o->driver, s);
        }
        if (streq(key, "Subnets")) return read_prefixes(m, "--subnet", o->subnets, &o->spec.n_subnets, error);
        if (streq(key, "IPRanges")) return read_prefixes(m, "--ip-range", o->ip_ranges, &o->spec.n_ip_ranges, error);
        if (streq(key, "Gateways")) return read_gateways(m, o, error);
        if (streq(key, "Internal") || streq(key, "IPv6")) {
                r = sd_bus_message_read(m, "b", &b);
                if (r >= 0)
                        *(streq(key, "Internal") ? &o->spec.internal : &o->spec.ipv6) = b;
                return r;
        }
        if (streq(key, "Labels") || streq(key, "Options")) {
                char ***dst = streq(key, "Labels") ? &o->labels : &o->options;
                const char *k, *v;

                r = sd_bus_message_enter_container(m, 'a', "{ss}");
                while (r >= 0 && (r = sd_bus_message_read(m, "{ss}", &k, &v)) > 0)
                        r = strv_consume(dst, strjoin(k, "=", v));
                return r < 0 ? r : sd_bus_message_exit_container(m);
        }
        return sd_bus_error_setf(error, SD_BUS_ERROR_INVALID_ARGS, "Unknown network option '%s'.", key);
}

int network_options_read_create(sd_bus_message *m, NetworkCreateOptions *o, sd_bus_error *error) {
        const char *key, *contents;
        int r;

        r = sd_bus_message_enter_container(m, 'a', "{sv}");
        while (r >= 0 && (r = sd_bus_message_enter_container(m, 'e', "sv")) > 0) {
                r = sd_bus_message_read(m, "s", &key);
                if (r >= 0)
                        r = sd_bus_message_peek_type(m, NULL, &contents);
                if (r >= 0)
                        r = sd_bus_message_enter_container(m, 'v', contents);
                if (r >= 0)
                        r = read_create_option(m, key, o, error);
                if (r == -ENXIO && !sd_bus_error_is_set(error))
                        return sd_bus_error_setf(error, SD_BUS_ERROR_INVALID_ARGS, "Option '%s' has the wrong type (%s).",
                                                 key, contents);
                if (r >= 0)
                        r = sd_bus_message_exit_container(m);
                if (r >= 0)
                        r = sd_bus_message_exit_container(m);
        }
        if (r >= 0)
                r = sd_bus_message_exit_container(m);
        if (r < 0)
                return r;
        o->spec.driver = o->driver;
        o->spec.subnets = o->subnets;
        o->spec.ip_ranges = o->ip_ranges;
        o->spec.gateways = o->gateways;
        o->spec.labels = o->labels;
        o->spec.options = o->options;
        return 0;
}

void network_create_options_done(NetworkCreateOptions *o) {
        o->driver = mfree(o->driver);
        o->labels = strv_free(o->labels);
        o->options = strv_free(o->options);
}
