/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* org.berth.Berth1.Network objects, /org/berth/Berth1/network/<id>, and the
 * Manager's methods for networks. */
#include "bus-property.h"
#include "bus-util.h"
#include "engine.h"
#include "manager.h"
#include "network-dbus.h"
#include "network-options.h"
#include "polkit.h"

int network_object_path(const char *id, char **ret) {
        *ret = strjoin(BERTH_NETWORK_PATH_PREFIX "/", id);
        return *ret ? 0 : -ENOMEM;
}

static int network_error(sd_bus_error *error, int r, const char *message) {
        return bus_error_set_errnof(error, BERTH_OBJECT_NETWORK, r, "%s", message ?: strerror(-r));
}

static int network_error_now(sd_bus_error *error, int r) {
        return network_error(error, r, errmsg_last());
}

static Manager *message_manager(sd_bus_message *message) {
        return sd_bus_slot_get_userdata(sd_bus_get_current_slot(sd_bus_message_get_bus(message)));
}

/* ---- properties ---- */

static int property_get_subnets(sd_bus *bus, const char *path, const char *interface, const char *property,
                                sd_bus_message *reply, void *userdata, sd_bus_error *error) {
        Network *n = userdata;
        int r;

        r = sd_bus_message_open_container(reply, 'a', "s");
        for (size_t i = 0; r >= 0 && i < n->n_subnets; i++) {
                const NetworkSubnet *s = &n->subnets[i];
                char buf[IN_PREFIX_STRLEN];

                if (streq(property, "Subnets"))
                        r = sd_bus_message_append(reply, "s", in_prefix_to_string(&s->subnet, buf));
                else if (streq(property, "Gateways"))
                        r = sd_bus_message_append(reply, "s", in_addr_to_string(&s->gateway, buf));
                else if (in_addr_is_set(&s->ip_range.addr))
                        r = sd_bus_message_append(reply, "s", in_prefix_to_string(&s->ip_range, buf));
        }
        if (r < 0)
                return r;
        return sd_bus_message_close_container(reply);
}

static int property_get_map(sd_bus *bus, const char *path, const char *interface, const char *property,
                            sd_bus_message *reply, void *userdata, sd_bus_error *error) {
        char **l = *(char ***) userdata;
        int r;

        r = sd_bus_message_open_container(reply, 'a', "{ss}");
        STRV_FOREACH(kv, l) {
                _cleanup_free_ char *k = strndup(*kv, strcspn(*kv, "="));
                const char *eq = strchr(*kv, '=');

                if (!k)
                        return -ENOMEM;
                if (r >= 0)
                        r = sd_bus_message_append(reply, "{ss}", k, eq ? eq + 1 : "");
        }
        if (r < 0)
                return r;
        return sd_bus_message_close_container(reply);
}

static int append_prefixed(sd_bus_message *reply, const Network *n, const InAddr *a) {
        char buf[IN_ADDR_STRLEN + 8];

        buf[0] = 0;
        for (size_t i = 0; in_addr_is_set(a) && i < n->n_subnets; i++)
                if (n->subnets[i].subnet.addr.family == a->family) {
                        char s[IN_ADDR_STRLEN];
                        snprintf(buf, sizeof buf, "%s/%u", in_addr_to_string(a, s), n->subnets[i].subnet.prefixlen);
                }
        return sd_bus_message_append(reply, "s", buf);
}

static int property_get_containers(sd_bus *bus, const char *path, const char *interface, const char *property,
                                   sd_bus_message *reply, void *userdata, sd_bus_error *error) {
        Network *n = userdata;
        Manager *m = sd_bus_slot_get_userdata(sd_bus_get_current_slot(bus));
        ContainerTable *t = engine_containers(m->engine);
        const char *k;
        void *v;
        size_t i = 0;
        int r;

        r = sd_bus_message_open_container(reply, 'a', "(sssss)");
        while (r >= 0 && hashmap_iterate(t->by_id, &i, &k, &v)) {
                Container *c = v;
                const ContainerEndpoint *ep = container_find_endpoint(&c->config, n->id);
                char mac[18];

                if (!ep)
                        continue;
                r = sd_bus_message_open_container(reply, 'r', "sssss");
                if (r >= 0)
                        r = sd_bus_message_append(reply, "ss", c->id, c->name);
                if (r >= 0)
                        r = append_prefixed(reply, n, &ep->addrs[0]);
                if (r >= 0)
                        r = append_prefixed(reply, n, &ep->addrs[1]);
                if (r >= 0)
                        r = sd_bus_message_append(reply, "s", mac_to_string(ep->mac, mac));
                if (r >= 0)
                        r = sd_bus_message_close_container(reply);
        }
        if (r < 0)
                return r;
        return sd_bus_message_close_container(reply);
}

/* ---- methods ---- */

static int find_network(Manager *m, const char *name, sd_bus_error *error, Network **ret) {
        int r;

        errmsg_clear();
        r = engine_network_find(m->engine, name, ret);
        return r < 0 ? network_error_now(error, r) : 0;
}

static int verify_network(sd_bus_message *message, Manager *m, const char *network, const char *container,
                          sd_bus_error *error) {
        const char *details[] = { "network", strempty(network), container ? "container" : NULL, container, NULL };

        return polkit_verify(message, BERTH_ACTION_MANAGE_NETWORKS, details, m, error);
}

int method_list_networks(sd_bus_message *message, void *userdata, sd_bus_error *error) {
        _cleanup_(sd_bus_message_unrefp) sd_bus_message *reply = NULL;
        Manager *m = userdata;
        NetworkTable *t = engine_networks(m->engine);
        const char *k;
        void *v;
        size_t i = 0;
        int r;

        r = sd_bus_message_new_method_return(message, &reply);
        if (r >= 0)
                r = sd_bus_message_open_container(reply, 'a', "(ssssbo)");
        while (r >= 0 && hashmap_iterate(t->by_id, &i, &k, &v)) {
                Network *n = v;
                _cleanup_free_ char *path = NULL, *subnets = NULL;
                _cleanup_strv_free_ char **l = NULL;

                for (size_t j = 0; r >= 0 && j < n->n_subnets; j++) {
                        char buf[IN_PREFIX_STRLEN];
                        r = strv_extend(&l, in_prefix_to_string(&n->subnets[j].subnet, buf));
                }
                if (r < 0 || network_object_path(n->id, &path) < 0 || !(subnets = strv_join(l, ",")))
                        return -ENOMEM;
                r = sd_bus_message_append(reply, "(ssssbo)", n->id, n->name, n->driver, subnets, n->internal, path);
        }
        if (r >= 0)
                r = sd_bus_message_close_container(reply);
        if (r < 0)
                return r;
        return sd_bus_send(NULL, reply, NULL);
}

int method_get_network(sd_bus_message *message, void *userdata, sd_bus_error *error) {
        _cleanup_free_ char *path = NULL;
        Manager *m = userdata;
        const char *name;
        Network *n;
        int r;

        r = sd_bus_message_read(message, "s", &name);
        if (r >= 0)
                r = find_network(m, name, error, &n);
        if (r >= 0)
                r = network_object_path(n->id, &path);
        if (r < 0)
                return r;
        return sd_bus_reply_method_return(message, "o", path);
}

int method_create_network(sd_bus_message *message, void *userdata, sd_bus_error *error) {
        _cleanup_(network_create_options_done) NetworkCreateOptions o = {};
        _cleanup_free_ char *path = NULL;
        Manager *m = userdata;
        const char *name;
        Network *n;
        int r;

        r = sd_bus_message_read(message, "s", &name);
        if (r >= 0)
                r = network_options_read_create(message, &o, error);
        if (r < 0)
                return r;
        o.spec.name = name;
        r = verify_network(message, m, name, NULL, error);
        if (r <= 0)
                return r < 0 ? r : 1;
        errmsg_clear();
        r = engine_network_create(m->engine, &o.spec, &n);
        if (r < 0)
                return network_error_now(error, r);
        r = network_object_path(n->id, &path);
        if (r < 0)
                return r;
        return sd_bus_reply_method_return(message, "so", n->id, path);
}

static int network_remove(sd_bus_message *message, Manager *m, Network *n, sd_bus_error *error) {
        int r = verify_network(message, m, n->name, NULL, error);

        if (r <= 0)
                return r < 0 ? r : 1;
        if (streq(n->name, NETWORK_DEFAULT_NAME))
                return bus_error_set_errnof(error, BERTH_OBJECT_NETWORK, -EPERM,
                                            "The default network %s cannot be removed.", n->name);
        errmsg_clear();
        r = engine_network_remove(m->engine, n);
        if (r < 0)
                return network_error_now(error, r);
        return sd_bus_reply_method_return(message, NULL);
}

int method_remove_network_by_name(sd_bus_message *message, void *userdata, sd_bus_error *error) {
        Manager *m = userdata;
        const char *name;
        Network *n;
        int r;

        r = sd_bus_message_read(message, "s", &name);
        if (r >= 0)
                r = find_network(m, name, error, &n);
        if (r < 0)
                return r;
        return network_remove(message, m, n, error);
}

static int method_remove(sd_bus_message *message, void *userdata, sd_bus_error *error) {
        return network_remove(message, message_manager(message), userdata, error);
}

int method_prune_networks(sd_bus_message *message, void *userdata, sd_bus_error *error) {
        _cleanup_strv_free_ char **removed = NULL;
        _cleanup_(sd_bus_message_unrefp) sd_bus_message *reply = NULL;
        Manager *m = userdata;
        int r;

        r = verify_network(message, m, NULL, NULL, error);
        if (r <= 0)
                return r < 0 ? r : 1;
        r = engine_network_prune(m->engine, &removed);
        if (r < 0)
                return network_error_now(error, r);
        r = sd_bus_message_new_method_return(message, &reply);
        if (r >= 0)
                r = sd_bus_message_append_strv(reply, removed);
        if (r < 0)
                return r;
        return sd_bus_send(NULL, reply, NULL);
}

static void reply_connected(Container *c, int r, const char *message, void *userdata) {
        _cleanup_(sd_bus_message_unrefp) sd_bus_message *request = userdata;
        _cleanup_(sd_bus_error_free) sd_bus_error error = SD_BUS_ERROR_NULL;

        if (r < 0) {
                (void) network_error(&error, r, message);
                (void) sd_bus_reply_method_error(request, &error);
        } else
                (void) sd_bus_reply_method_return(request, NULL);
}

static int find_container(Manager *m, const char *name, sd_bus_error *error, Container **ret) {
        int r = engine_find(m->engine, name, ret);

        if (r == -ENOENT)
                return bus_error_set_errnof(error, BERTH_OBJECT_CONTAINER, r, "No such container: %s", name);
        if (r == -ENOTUNIQ)
                return bus_error_set_errnof(error, BERTH_OBJECT_CONTAINER, r,
                                            "The id prefix '%s' fits several containers.", name);
        return r;
}

static int network_connect(sd_bus_message *message, Manager *m, Network *n, sd_bus_error *error) {
        _cleanup_(container_endpoint_done) ContainerEndpoint req = {};
        const char *name;
        Container *c;
        int r;

        r = sd_bus_message_read(message, "s", &name);
        if (r >= 0)
                r = network_options_read_endpoint(message, &req, error);
        if (r >= 0)
                r = find_container(m, name, error, &c);
        if (r < 0)
                return r;
        r = verify_network(message, m, n->name, c->name, error);
        if (r <= 0)
                return r < 0 ? r : 1;
        errmsg_clear();
        r = engine_network_connect(m->engine, n, c, &req, reply_connected, sd_bus_message_ref(message));
        if (r < 0) {
                sd_bus_message_unref(message);
                return network_error_now(error, r);
        }
        return 1;
}

static int network_disconnect(sd_bus_message *message, Manager *m, Network *n, sd_bus_error *error) {
        const char *name;
        Container *c;
        int force, r;

        r = sd_bus_message_read(message, "sb", &name, &force);
        if (r >= 0)
                r = find_container(m, name, error, &c);
        if (r < 0)
                return r;
        r = verify_network(message, m, n->name, c->name, error);
        if (r <= 0)
                return r < 0 ? r : 1;
        errmsg_clear();
        r = engine_network_disconnect(m->engine, n, c, force, reply_connected, sd_bus_message_ref(message));
        if (r < 0) {
                sd_bus_message_unref(message);
                return network_error_now(error, r);
        }
        return 1;
}

int method_connect_network_by_name(sd_bus_message *message, void *userdata, sd_bus_error *error) {
        const char *name;
        Network *n;
        int r;

        r = sd_bus_message_read(message, "s", &name);
        if (r >= 0)
                r = find_network(userdata, name, error, &n);
        if (r < 0)
                return r;
        return network_connect(message, userdata, n, error);
}

int method_disconnect_network_by_name(sd_bus_message *message, void *userdata, sd_bus_error *error) {
        const char *name;
        Network *n;
        int r;

        r = sd_bus_message_read(message, "s", &name);
        if (r >= 0)
                r = find_network(userdata, name, error, &n);
        if (r < 0)
                return r;
        return network_disconnect(message, userdata, n, error);
}

static int method_connect(sd_bus_message *message, void *userdata, sd_bus_error *error) {
        return network_connect(message, message_manager(message), userdata, error);
}

static int method_disconnect(sd_bus_message *message, void *userdata, sd_bus_error *error) {
        return network_disconnect(message, message_manager(message), userdata, error);
}

/* ---- signals ---- */

static void emit_network_signal(Manager *m, Network *n, const char *member) {
        _cleanup_free_ char *path = NULL;

        if (!m->bus || network_object_path(n->id, &path) < 0)
                return;
        if (streq(member, "NetworkAdded"))
                (void) sd_bus_emit_object_added(m->bus, path);
        else
                (void) sd_bus_emit_object_removed(m->bus, path);
        (void) sd_bus_emit_signal(m->bus, BERTH_MANAGER_PATH, BERTH_MANAGER_IFACE, member, "so", n->id, path);
}

void network_dbus_added(Network *n, void *userdata) {
        emit_network_signal(userdata, n, "NetworkAdded");
}

void network_dbus_removed(Network *n, void *userdata) {
        emit_network_signal(userdata, n, "NetworkRemoved");
}

void network_dbus_changed(Network *n, void *userdata) {
        Manager *m = userdata;
        _cleanup_free_ char *path = NULL;

        if (!m->bus || network_object_path(n->id, &path) < 0)
                return;
        (void) sd_bus_emit_properties_changed(m->bus, path, BERTH_NETWORK_IFACE, "Containers", NULL);
}

/* ---- objects ---- */

static int network_object_find(sd_bus *bus, const char *path, const char *interface, void *userdata,
                               void **found, sd_bus_error *error) {
        Manager *m = userdata;
        const char *id = startswith(path, BERTH_NETWORK_PATH_PREFIX "/");
        Network *n;

        if (!id || !m->engine)
                return 0;
        n = hashmap_get(engine_networks(m->engine)->by_id, id);
        if (!n)
                return 0;
        *found = n;
        return 1;
}

static int network_node_enumerator(sd_bus *bus, const char *path, void *userdata, char ***nodes,
                                   sd_bus_error *error) {
        _cleanup_strv_free_ char **l = NULL;
        Manager *m = userdata;
        const char *k;
        void *v;
        size_t i = 0;

        while (m->engine && hashmap_iterate(engine_networks(m->engine)->by_id, &i, &k, &v)) {
                char *p;
                if (network_object_path(k, &p) < 0 || strv_consume(&l, p) < 0)
                        return -ENOMEM;
        }
        *nodes = TAKE_PTR(l);
        return 1;
}

static const sd_bus_vtable network_vtable[] = {
        SD_BUS_VTABLE_START(0),
        SD_BUS_PROPERTY("Id", "s", bus_property_get_string, offsetof(Network, id), SD_BUS_VTABLE_PROPERTY_CONST),
        SD_BUS_PROPERTY("Name", "s", bus_property_get_string, offsetof(Network, name), SD_BUS_VTABLE_PROPERTY_CONST),
        SD_BUS_PROPERTY("Driver", "s", bus_property_get_string, offsetof(Network, driver), SD_BUS_VTABLE_PROPERTY_CONST),
        SD_BUS_PROPERTY("Bridge", "s", bus_property_get_string, offsetof(Network, bridge), SD_BUS_VTABLE_PROPERTY_CONST),
        SD_BUS_PROPERTY("Subnets", "as", property_get_subnets, 0, SD_BUS_VTABLE_PROPERTY_CONST),
        SD_BUS_PROPERTY("Gateways", "as", property_get_subnets, 0, SD_BUS_VTABLE_PROPERTY_CONST),
        SD_BUS_PROPERTY("IPRanges", "as", property_get_subnets, 0, SD_BUS_VTABLE_PROPERTY_CONST),
        SD_BUS_PROPERTY("Internal", "b", bus_property_get_bool, offsetof(Network, internal), SD_BUS_VTABLE_PROPERTY_CONST),
        SD_BUS_PROPERTY("IPv6", "b", bus_property_get_bool, offsetof(Network, ipv6), SD_BUS_VTABLE_PROPERTY_CONST),
        SD_BUS_PROPERTY("DNS", "b", bus_property_get_bool, offsetof(Network, dns), SD_BUS_VTABLE_PROPERTY_CONST),
        SD_BUS_PROPERTY("MTU", "u", NULL, offsetof(Network, mtu), SD_BUS_VTABLE_PROPERTY_CONST),
        SD_BUS_PROPERTY("Labels", "a{ss}", property_get_map, offsetof(Network, labels), SD_BUS_VTABLE_PROPERTY_CONST),
        SD_BUS_PROPERTY("Options", "a{ss}", property_get_map, offsetof(Network, options), SD_BUS_VTABLE_PROPERTY_CONST),
        SD_BUS_PROPERTY("Created", "t", NULL, offsetof(Network, created_usec), SD_BUS_VTABLE_PROPERTY_CONST),
        SD_BUS_PROPERTY("Containers", "a(sssss)", property_get_containers, 0,
                        SD_BUS_VTABLE_PROPERTY_EMITS_INVALIDATION),
        SD_BUS_METHOD_WITH_ARGS("Connect", SD_BUS_ARGS("s", container, "a{sv}", options), SD_BUS_NO_RESULT,
                                method_connect, SD_BUS_VTABLE_UNPRIVILEGED),
        SD_BUS_METHOD_WITH_ARGS("Disconnect", SD_BUS_ARGS("s", container, "b", force), SD_BUS_NO_RESULT,
                                method_disconnect, SD_BUS_VTABLE_UNPRIVILEGED),
        SD_BUS_METHOD_WITH_ARGS("Remove", SD_BUS_NO_ARGS, SD_BUS_NO_RESULT, method_remove, SD_BUS_VTABLE_UNPRIVILEGED),
        SD_BUS_VTABLE_END
};

int network_dbus_register(Manager *m) {
        int r;

        r = sd_bus_add_fallback_vtable(m->bus, NULL, BERTH_NETWORK_PATH_PREFIX, BERTH_NETWORK_IFACE, network_vtable,
                                       network_object_find, m);
        if (r < 0)
                return r;
        return sd_bus_add_node_enumerator(m->bus, NULL, BERTH_NETWORK_PATH_PREFIX, network_node_enumerator, m);
}
