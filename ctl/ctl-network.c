/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* berthctl network ... and berthctl port: Docker's verbs over the Manager's
 * network methods and the Container's Ports property. */
#include <getopt.h>

#include "berthctl.h"
#include "bus-util.h"

static int append_strv_entry(sd_bus_message *m, const char *key, char **l) {
        return l ? ctl_append_strv_option(m, key, l) : 0;
}

static int append_map_entry(sd_bus_message *m, const char *key, char **kv) {
        int r;

        if (!kv)
                return 0;
        r = sd_bus_message_open_container(m, 'e', "sv");
        if (r >= 0)
                r = sd_bus_message_append(m, "s", key);
        if (r >= 0)
                r = sd_bus_message_open_container(m, 'v', "a{ss}");
        if (r >= 0)
                r = sd_bus_message_open_container(m, 'a', "{ss}");
        STRV_FOREACH(x, kv) {
                _cleanup_free_ char *k = strndup(*x, strcspn(*x, "="));
                const char *eq = strchr(*x, '=');
                if (!k)
                        return -ENOMEM;
                if (r >= 0)
                        r = sd_bus_message_append(m, "{ss}", k, eq ? eq + 1 : "");
        }
        for (int i = 0; r >= 0 && i < 3; i++)
                r = sd_bus_message_close_container(m);
        return r;
}

static int network_create(int argc, char *argv[]) {
        static const struct option options[] = {
                { "driver", required_argument, NULL, 'd' },
                { "subnet", required_argument, NULL, 's' },
                { "gateway", required_argument, NULL, 'g' },
                { "ip-range", required_argument, NULL, 'r' },
                { "ipv6", no_argument, NULL, '6' },
                { "internal", no_argument, NULL, 'i' },
                { "label", required_argument, NULL, 'l' },
                { "opt", required_argument, NULL, 'o' },
                {}
        };
        _cleanup_(sd_bus_flush_close_unrefp) sd_bus *bus = NULL;
        _cleanup_(sd_bus_message_unrefp) sd_bus_message *m = NULL, *reply = NULL;
        _cleanup_(sd_bus_error_free) sd_bus_error error = SD_BUS_ERROR_NULL;
        _cleanup_strv_free_ char **subnets = NULL, **gateways = NULL, **ranges = NULL, **labels = NULL, **opts = NULL;
        _cleanup_free_ char *driver = NULL;
        bool ipv6 = false, internal = false;
        const char *id;
        int c, r;

        while ((c = getopt_long(argc, argv, "d:o:", options, NULL)) >= 0)
                switch (c) {
                case 'd': if (free_and_strdup(&driver, optarg) < 0) return ctl_oom(); break;
                case 's': if (strv_extend(&subnets, optarg) < 0) return ctl_oom(); break;
                case 'g': if (strv_extend(&gateways, optarg) < 0) return ctl_oom(); break;
                case 'r': if (strv_extend(&ranges, optarg) < 0) return ctl_oom(); break;
                case 'l': if (strv_extend(&labels, optarg) < 0) return ctl_oom(); break;
                case 'o': if (strv_extend(&opts, optarg) < 0) return ctl_oom(); break;
                case '6': ipv6 = true; break;
                case 'i': internal = true; break;
                default: return -EINVAL;
                }
        if (optind + 1 != argc) {
                fprintf(stderr, "\"berthctl network create\" requires exactly 1 argument: NETWORK\n");
                return -EINVAL;
        }
        r = ctl_connect(&bus);
        if (r < 0)
                return r;
        r = sd_bus_message_new_method_call(bus, &m, BERTH_BUS_NAME, BERTH_MANAGER_PATH, BERTH_MANAGER_IFACE,
                                           "CreateNetwork");
        if (r >= 0)
                r = sd_bus_message_append(m, "s", argv[optind]);
        if (r >= 0)
                r = sd_bus_message_open_container(m, 'a', "{sv}");
        if (r >= 0 && driver)
                r = sd_bus_message_append(m, "{sv}", "Driver", "s", driver);
        if (r >= 0) r = append_strv_entry(m, "Subnets", subnets);
        if (r >= 0) r = append_strv_entry(m, "Gateways", gateways);
        if (r >= 0) r = append_strv_entry(m, "IPRanges", ranges);
        if (r >= 0 && ipv6) r = sd_bus_message_append(m, "{sv}", "IPv6", "b", 1);
        if (r >= 0 && internal) r = sd_bus_message_append(m, "{sv}", "Internal", "b", 1);
        if (r >= 0) r = append_map_entry(m, "Labels", labels);
        if (r >= 0) r = append_map_entry(m, "Options", opts);
        if (r >= 0)
                r = sd_bus_message_close_container(m);
        if (r < 0)
                return ctl_oom();
        (void) sd_bus_message_set_allow_interactive_authorization(m, ctl_polkit_interactive());
        r = sd_bus_call(bus, m, UINT64_MAX, &error, &reply);
        if (r < 0)
                return ctl_call_failed("CreateNetwork", &error, r);
        r = sd_bus_message_read(reply, "s", &id);
        if (r < 0)
                return ctl_bad_reply(r);
        printf("%s\n", id);
        return 0;
}

static int network_ls(int argc, char *argv[]) {
        static const struct option options[] = {
                { "quiet", no_argument, NULL, 'q' },
                { "no-trunc", no_argument, NULL, 'T' },
                {}
        };
        _cleanup_(sd_bus_flush_close_unrefp) sd_bus *bus = NULL;
        _cleanup_(sd_bus_message_unrefp) sd_bus_message *reply = NULL;
        _cleanup_(table_freep) Table *t = table_new(4);
        json_t *list = json_array();
        bool quiet = false, no_trunc = false;
        const char *id, *name, *driver, *subnets, *path;
        int internal, c, r;

        while ((c = getopt_long(argc, argv, "q", options, NULL)) >= 0)
                switch (c) {
                case 'q': quiet = true; break;
                case 'T': no_trunc = true; break;
                default: json_decref(list); return -EINVAL;
                }
        if (!t || !list)
                return ctl_oom();
        r = ctl_connect(&bus);
        if (r >= 0)
                r = ctl_call(bus, "ListNetworks", &reply, NULL);
        if (r < 0) {
                json_decref(list);
                return r;
        }
        (void) table_add_many(t, "NETWORK ID", "NAME", "DRIVER", "SUBNET");
        r = sd_bus_message_enter_container(reply, 'a', "(ssssbo)");
        while (r >= 0 && (r = sd_bus_message_read(reply, "(ssssbo)", &id, &name, &driver, &subnets, &internal, &path)) > 0) {
                char short_id[13];

                snprintf(short_id, sizeof short_id, "%.12s", id);
                if (quiet)
                        printf("%s\n", no_trunc ? id : short_id);
                else
                        (void) table_add_many(t, no_trunc ? id : short_id, name, driver, subnets);
                (void) json_array_append_new(list, json_pack("{s:s, s:s, s:s, s:s, s:b}", "Id", id, "Name", name,
                                                             "Driver", driver, "Subnets", subnets, "Internal", internal));
        }
        if (r < 0) {
                json_decref(list);
                return ctl_bad_reply(r);
        }
        if (arg_json)
                ctl_print_json(list);
        else if (!quiet)
                table_print(t, stdout);
        json_decref(list);
        return 0;
}

static int network_path(sd_bus *bus, const char *name, char **ret) {
        _cleanup_(sd_bus_message_unrefp) sd_bus_message *reply = NULL;
        const char *path;
        int r = ctl_call(bus, "GetNetwork", &reply, "s", name);

        if (r < 0)
                return r;
        r = sd_bus_message_read(reply, "o", &path);
        if (r < 0)
                return ctl_bad_reply(r);
        *ret = strdup(path);
        return *ret ? 0 : ctl_oom();
}

static int network_inspect(int argc, char *argv[]) {
        _cleanup_(sd_bus_flush_close_unrefp) sd_bus *bus = NULL;
        json_t *out = json_array();
        int r, ret = 0;

        if (argc < 2 || !out) {
                json_decref(out);
                fprintf(stderr, "\"berthctl network inspect\" requires at least 1 argument: NETWORK...\n");
                return -EINVAL;
        }
        r = ctl_connect(&bus);
        if (r < 0) {
                json_decref(out);
                return r;
        }
        for (int i = 1; i < argc; i++) {
                _cleanup_free_ char *path = NULL;
                json_t *j = NULL;

                r = network_path(bus, argv[i], &path);
                if (r >= 0)
                        r = ctl_get_all_json(bus, path, BERTH_NETWORK_IFACE, &j);
                if (r < 0) {
                        ret = r;
                        continue;
                }
                (void) json_array_append_new(out, j);
        }
        ctl_print_json(out);
        json_decref(out);
        return ret;
}

static int network_rm(int argc, char *argv[]) {
        _cleanup_(sd_bus_flush_close_unrefp) sd_bus *bus = NULL;
        int r, ret = 0;

        if (argc < 2) {
                fprintf(stderr, "\"berthctl network rm\" requires at least 1 argument: NETWORK...\n");
                return -EINVAL;
        }
        r = ctl_connect(&bus);
        if (r < 0)
                return r;
        /* As docker: every one is tried, and the verb fails if one did. */
        for (int i = 1; i < argc; i++) {
                r = ctl_call(bus, "RemoveNetwork", NULL, "s", argv[i]);
                if (r < 0)
                        ret = r;
                else
                        printf("%s\n", argv[i]);
        }
        return ret;
}

static int network_connect(int argc, char *argv[]) {
        static const struct option options[] = {
                { "alias", required_argument, NULL, 'a' },
                { "ip", required_argument, NULL, '4' },
                { "ip6", required_argument, NULL, '6' },
                {}
        };
        _cleanup_(sd_bus_flush_close_unrefp) sd_bus *bus = NULL;
        _cleanup_(sd_bus_message_unrefp) sd_bus_message *m = NULL;
        _cleanup_(sd_bus_error_free) sd_bus_error error = SD_BUS_ERROR_NULL;
        _cleanup_strv_free_ char **aliases = NULL;
        const char *ip = NULL, *ip6 = NULL;
        int c, r;

        while ((c = getopt_long(argc, argv, "", options, NULL)) >= 0)
                switch (c) {
                case 'a': if (strv_extend(&aliases, optarg) < 0) return ctl_oom(); break;
                case '4': ip = optarg; break;
                case '6': ip6 = optarg; break;
                default: return -EINVAL;
                }
        if (optind + 2 != argc) {
                fprintf(stderr, "\"berthctl network connect\" requires exactly 2 arguments: NETWORK CONTAINER\n");
                return -EINVAL;
        }
        r = ctl_connect(&bus);
        if (r < 0)
                return r;
        r = sd_bus_message_new_method_call(bus, &m, BERTH_BUS_NAME, BERTH_MANAGER_PATH, BERTH_MANAGER_IFACE,
                                           "ConnectNetwork");
        if (r >= 0)
                r = sd_bus_message_append(m, "ss", argv[optind], argv[optind + 1]);
        if (r >= 0)
                r = sd_bus_message_open_container(m, 'a', "{sv}");
        if (r >= 0) r = append_strv_entry(m, "Aliases", aliases);
        if (r >= 0 && ip) r = sd_bus_message_append(m, "{sv}", "IPv4Address", "s", ip);
        if (r >= 0 && ip6) r = sd_bus_message_append(m, "{sv}", "IPv6Address", "s", ip6);
        if (r >= 0)
                r = sd_bus_message_close_container(m);
        if (r < 0)
                return ctl_oom();
        (void) sd_bus_message_set_allow_interactive_authorization(m, ctl_polkit_interactive());
        r = sd_bus_call(bus, m, UINT64_MAX, &error, NULL);
        return r < 0 ? ctl_call_failed("ConnectNetwork", &error, r) : 0;
}

static int network_disconnect(int argc, char *argv[]) {
        static const struct option options[] = { { "force", no_argument, NULL, 'f' }, {} };
        _cleanup_(sd_bus_flush_close_unrefp) sd_bus *bus = NULL;
        bool force = false;
        int c, r;

        while ((c = getopt_long(argc, argv, "f", options, NULL)) >= 0)
                switch (c) {
                case 'f': force = true; break;
                default: return -EINVAL;
                }
        if (optind + 2 != argc) {
                fprintf(stderr, "\"berthctl network disconnect\" requires exactly 2 arguments: NETWORK CONTAINER\n");
                return -EINVAL;
        }
        r = ctl_connect(&bus);
        if (r < 0)
                return r;
        return ctl_call(bus, "DisconnectNetwork", NULL, "ssb", argv[optind], argv[optind + 1], force);
}

static int network_prune(int argc, char *argv[]) {
        static const struct option options[] = { { "force", no_argument, NULL, 'f' }, {} };
        _cleanup_(sd_bus_flush_close_unrefp) sd_bus *bus = NULL;
        _cleanup_(sd_bus_message_unrefp) sd_bus_message *reply = NULL;
        _cleanup_strv_free_ char **removed = NULL;
        bool force = false;
        int c, r;

        while ((c = getopt_long(argc, argv, "f", options, NULL)) >= 0)
                switch (c) {
                case 'f': force = true; break;
                default: return -EINVAL;
                }
        if (!force) {
                char answer[16] = "";
                fprintf(stderr, "WARNING! This will remove all networks not used by at least one container.\n"
                                "Are you sure you want to continue? [y/N] ");
                if (!fgets(answer, sizeof answer, stdin) || (answer[0] != 'y' && answer[0] != 'Y'))
                        return 0;
        }
        r = ctl_connect(&bus);
        if (r >= 0)
                r = ctl_call(bus, "PruneNetworks", &reply, NULL);
        if (r < 0)
                return r;
        r = sd_bus_message_read_strv(reply, &removed);
        if (r < 0)
                return ctl_bad_reply(r);
        if (removed && removed[0]) {
                printf("Deleted Networks:\n");
                STRV_FOREACH(n, removed)
                        printf("%s\n", ctl_escape(*n));
        }
        return 0;
}

static const Verb network_verbs[] = {
        { "create", NULL, network_create, "[--subnet CIDR] [--gateway IP] [--ip-range CIDR] [--ipv6] [--internal] [--label K=V] [-o mtu=N] NETWORK", "Create a network." },
        { "ls", "list", network_ls, "[-q] [--no-trunc]", "List networks." },
        { "inspect", NULL, network_inspect, "NETWORK...", "Show everything about networks, as JSON." },
        { "rm", "remove", network_rm, "NETWORK...", "Remove networks." },
        { "connect", NULL, network_connect, "[--alias A] [--ip IP] [--ip6 IP] NETWORK CONTAINER", "Connect a container to a network." },
        { "disconnect", NULL, network_disconnect, "[-f] NETWORK CONTAINER", "Disconnect a container from a network." },
        { "prune", NULL, network_prune, "[-f]", "Remove all networks no container uses." },
};

int verb_network(int argc, char *argv[]) {
        const Verb *v = NULL;

        if (argc < 2 || streq(argv[1], "--help") || streq(argv[1], "-h")) {
                printf("Usage: berthctl network COMMAND\n\nManage networks.\n\nCommands:\n");
                for (size_t i = 0; i < ELEMENTSOF(network_verbs); i++)
                        printf("  %-10s %s\n", network_verbs[i].name, network_verbs[i].summary);
                return argc < 2 ? -EINVAL : 0;
        }
        for (size_t i = 0; i < ELEMENTSOF(network_verbs); i++)
                if (streq(network_verbs[i].name, argv[1]) || streq_ptr(network_verbs[i].alias, argv[1]))
                        v = &network_verbs[i];
        if (!v) {
                fprintf(stderr, "Unknown command 'network %s'. See 'berthctl network --help'.\n", argv[1]);
                return -EINVAL;
        }
        if (ctl_want_help(argc - 1, argv + 1, v))
                return 0;
        optind = 0;
        return v->run(argc - 1, argv + 1);
}

/* A running container's bound ports as docker ps shows them:
 * "0.0.0.0:8080->80/tcp, [::]:8080->80/tcp". */
int ctl_container_ports(sd_bus *bus, const char *path, char **ret) {
        _cleanup_(sd_bus_message_unrefp) sd_bus_message *reply = NULL;
        _cleanup_free_ char *out = NULL;
        size_t size = 0;
        const char *ip, *proto;
        uint16_t hp, cp;
        FILE *o;
        int r;

        r = sd_bus_get_property(bus, BERTH_BUS_NAME, path, BERTH_CONTAINER_IFACE, "Ports", NULL, &reply, "a(sqqs)");
        if (r < 0)
                return r;
        o = open_memstream(&out, &size);
        if (!o)
                return -ENOMEM;
        r = sd_bus_message_enter_container(reply, 'a', "(sqqs)");
        while (r >= 0 && (r = sd_bus_message_read(reply, "(sqqs)", &ip, &hp, &cp, &proto)) > 0) {
                const char *sep = ftell(o) > 0 ? ", " : "";
                if (isempty(ip))
                        fprintf(o, "%s0.0.0.0:%u->%u/%s, [::]:%u->%u/%s", sep, hp, cp, proto, hp, cp, proto);
                else
                        fprintf(o, strchr(ip, ':') ? "%s[%s]:%u->%u/%s" : "%s%s:%u->%u/%s", sep, ip, hp, cp, proto);
        }
        if (fclose(o) != 0 && r >= 0)
                r = -ENOMEM;
        if (r < 0)
                return r;
        *ret = TAKE_PTR(out);
        return 0;
}

/* berthctl port CONTAINER [PORT[/PROTO]]: "80/tcp -> 0.0.0.0:8080". */
int verb_port(int argc, char *argv[]) {
        _cleanup_(sd_bus_flush_close_unrefp) sd_bus *bus = NULL;
        _cleanup_(sd_bus_message_unrefp) sd_bus_message *reply = NULL;
        _cleanup_(sd_bus_error_free) sd_bus_error error = SD_BUS_ERROR_NULL;
        _cleanup_free_ char *path = NULL;
        const char *ip, *proto, *want = argc > 2 ? argv[2] : NULL;
        uint16_t hp, cp;
        int r;

        if (argc < 2 || argc > 3) {
                fprintf(stderr, "Usage: berthctl port CONTAINER [PRIVATE_PORT[/PROTO]]\n");
                return -EINVAL;
        }
        r = ctl_connect(&bus);
        if (r >= 0)
                r = ctl_container_path(bus, argv[1], false, &path);
        if (r < 0)
                return r;
        r = sd_bus_get_property(bus, BERTH_BUS_NAME, path, BERTH_CONTAINER_IFACE, "Ports", &error, &reply, "a(sqqs)");
        if (r < 0)
                return ctl_call_failed("Ports", &error, r);
        r = sd_bus_message_enter_container(reply, 'a', "(sqqs)");
        while (r >= 0 && (r = sd_bus_message_read(reply, "(sqqs)", &ip, &hp, &cp, &proto)) > 0) {
                char key[32];

                snprintf(key, sizeof key, "%u/%s", cp, proto);
                if (want && !streq(want, key) && !(strchr(want, '/') == NULL && atoi(want) == cp && streq(proto, "tcp")))
                        continue;
                if (isempty(ip))
                        printf("%s -> 0.0.0.0:%u\n%s -> [::]:%u\n", key, hp, key, hp);
                else if (strchr(ip, ':'))
                        printf("%s -> [%s]:%u\n", key, ip, hp);
                else
                        printf("%s -> %s:%u\n", key, ip, hp);
        }
        return r < 0 ? ctl_bad_reply(r) : 0;
}
