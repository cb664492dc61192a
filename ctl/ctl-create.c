/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <getopt.h>

#include "berthctl.h"
#include "bus-util.h"

/* The flags of docker create/run, gathered into CreateContainer's a{sv}. */

enum {
        ARG_NAME = 0x100, ARG_RM, ARG_ENTRYPOINT, ARG_TMPFS, ARG_MOUNT, ARG_NETWORK, ARG_CAP_ADD,
        ARG_CAP_DROP, ARG_PRIVILEGED, ARG_READ_ONLY, ARG_SECURITY_OPT, ARG_STOP_SIGNAL,
        ARG_STOP_TIMEOUT, ARG_LIMIT, ARG_PULL, ARG_PLATFORM, ARG_IP, ARG_IP6, ARG_MAC, ARG_ALIAS, ARG_DNS,
        ARG_DNS_SEARCH, ARG_DNS_OPTION, ARG_ADD_HOST,
};

static const struct option create_options[] = {
        { "detach", no_argument, NULL, 'd' },
        { "interactive", no_argument, NULL, 'i' },
        { "tty", no_argument, NULL, 't' },
        { "name", required_argument, NULL, ARG_NAME },
        { "rm", no_argument, NULL, ARG_RM },
        { "env", required_argument, NULL, 'e' },
        { "workdir", required_argument, NULL, 'w' },
        { "user", required_argument, NULL, 'u' },
        { "hostname", required_argument, NULL, 'h' },
        { "label", required_argument, NULL, 'l' },
        { "volume", required_argument, NULL, 'v' },
        { "tmpfs", required_argument, NULL, ARG_TMPFS },
        { "mount", required_argument, NULL, ARG_MOUNT },
        { "network", required_argument, NULL, ARG_NETWORK },
        { "net", required_argument, NULL, ARG_NETWORK },
        { "network-alias", required_argument, NULL, ARG_ALIAS },
        { "net-alias", required_argument, NULL, ARG_ALIAS },
        { "ip", required_argument, NULL, ARG_IP },
        { "ip6", required_argument, NULL, ARG_IP6 },
        { "mac-address", required_argument, NULL, ARG_MAC },
        { "dns", required_argument, NULL, ARG_DNS },
        { "dns-search", required_argument, NULL, ARG_DNS_SEARCH },
        { "dns-option", required_argument, NULL, ARG_DNS_OPTION },
        { "add-host", required_argument, NULL, ARG_ADD_HOST },
        { "publish", required_argument, NULL, 'p' },
        { "publish-all", no_argument, NULL, 'P' },
        { "cap-add", required_argument, NULL, ARG_CAP_ADD },
        { "cap-drop", required_argument, NULL, ARG_CAP_DROP },
        { "privileged", no_argument, NULL, ARG_PRIVILEGED },
        { "read-only", no_argument, NULL, ARG_READ_ONLY },
        { "security-opt", required_argument, NULL, ARG_SECURITY_OPT },
        { "entrypoint", required_argument, NULL, ARG_ENTRYPOINT },
        { "stop-signal", required_argument, NULL, ARG_STOP_SIGNAL },
        { "stop-timeout", required_argument, NULL, ARG_STOP_TIMEOUT },
        { "pull", required_argument, NULL, ARG_PULL },
        { "platform", required_argument, NULL, ARG_PLATFORM },
        /* Docker's limit flags; berthctl turns them into the API's typed form. */
        { "memory", required_argument, NULL, 'm' },
        { "memory-reservation", required_argument, NULL, ARG_LIMIT },
        { "memory-swap", required_argument, NULL, ARG_LIMIT },
        { "cpus", required_argument, NULL, ARG_LIMIT },
        { "cpu-shares", required_argument, NULL, 'c' },
        { "cpuset-cpus", required_argument, NULL, ARG_LIMIT },
        { "pids-limit", required_argument, NULL, ARG_LIMIT },
        { "blkio-weight", required_argument, NULL, ARG_LIMIT },
        {}
};

void create_request_done(CreateRequest *q) {
        free(q->name);
        free(q->image);
        free(q->entrypoint);
        free(q->workdir);
        free(q->user);
        free(q->hostname);
        free(q->network);
        free(q->stop_signal);
        free(q->pull);
        free(q->platform);
        free(q->ip);
        free(q->ip6);
        free(q->mac);
        free(q->ports);
        strv_free(q->aliases);
        strv_free(q->dns);
        strv_free(q->dns_search);
        strv_free(q->dns_options);
        strv_free(q->add_hosts);
        strv_free(q->cmd);
        strv_free(q->env);
        strv_free(q->labels);
        strv_free(q->volumes);
        strv_free(q->tmpfs);
        strv_free(q->mounts);
        strv_free(q->cap_add);
        strv_free(q->cap_drop);
        strv_free(q->security_opt);
        strv_free(q->limits);
        scope_limits_done(&q->typed_limits);
}

int ctl_parse_limits(char **flags, ScopeLimits *ret) {
        _cleanup_free_ char *error = NULL;
        char *values[_DOCKER_LIMIT_MAX] = {};
        int r;

        for (size_t i = 0; flags && flags[i] && flags[i + 1]; i += 2) {
                DockerLimit d = docker_limit_from_string(flags[i]);
                if (d < 0)
                        return -EINVAL;
                values[d] = flags[i + 1];
        }
        r = limits_from_docker_flags(values, ret, &error);
        if (r < 0) {
                fprintf(stderr, "Error: %s\n", error ?: strerror(-r));
                return -EINVAL;
        }
        return 0;
}

/* -e NAME without "=" takes the value from our own environment, as docker does. */
static int add_env(CreateRequest *q, const char *e) {
        const char *v;

        if (strchr(e, '='))
                return strv_extend(&q->env, e);
        v = getenv(e);
        return v ? strv_consume(&q->env, strjoin(e, "=", v)) : 0;
}

static int add_limit(CreateRequest *q, const char *flag, const char *value) {
        int r = strv_extend(&q->limits, flag);

        return r < 0 ? r : strv_extend(&q->limits, value);
}

static int add_port(CreateRequest *q, const char *spec) {
        int r;

        errmsg_clear();
        r = port_spec_parse(spec, &q->ports, &q->n_ports);
        if (r < 0)
                fprintf(stderr, "Error: invalid argument \"%s\" for \"-p, --publish\" flag: %s\n", spec,
                        errmsg_last() ?: strerror(-r));
        return r < 0 ? -ECANCELED : 0;
}

static int check_address(const char *flag, const char *value, int family) {
        InAddr a;

        if (in_addr_parse(value, family, &a) >= 0)
                return 0;
        fprintf(stderr, "Error: invalid argument \"%s\" for \"%s\" flag: not an IP%s address.\n", value, flag,
                family == AF_INET ? "v4" : family == AF_INET6 ? "v6" : "");
        return -ECANCELED;
}

static int parse_network_flag(CreateRequest *q, int c) {
        int r;

        switch (c) {
        case 'p': return add_port(q, optarg);
        case 'P': q->publish_all = true; return 0;
        case ARG_IP:
                r = check_address("--ip", optarg, AF_INET);
                return r < 0 ? r : free_and_strdup(&q->ip, optarg);
        case ARG_IP6:
                r = check_address("--ip6", optarg, AF_INET6);
                return r < 0 ? r : free_and_strdup(&q->ip6, optarg);
        case ARG_MAC: return free_and_strdup(&q->mac, optarg);
        case ARG_ALIAS: return strv_extend(&q->aliases, optarg);
        case ARG_DNS:
                r = check_address("--dns", optarg, AF_UNSPEC);
                return r < 0 ? r : strv_extend(&q->dns, optarg);
        case ARG_DNS_SEARCH: return strv_extend(&q->dns_search, optarg);
        case ARG_DNS_OPTION: return strv_extend(&q->dns_options, optarg);
        case ARG_ADD_HOST: {
                const char *colon = strchr(optarg, ':');
                if (!colon || colon == optarg ||
                    (!streq(colon + 1, "host-gateway") && check_address("--add-host", colon + 1, AF_UNSPEC) < 0)) {
                        if (!colon || colon == optarg)
                                fprintf(stderr, "Error: invalid argument \"%s\" for \"--add-host\" flag: use name:address.\n", optarg);
                        return -ECANCELED;
                }
                return strv_extend(&q->add_hosts, optarg);
        }
        default: return -EINVAL;
        }
}

static int parse_one(CreateRequest *q, int c, const char *flag) {
        switch (c) {
        case 'd': q->detach = true; return 0;
        case 'i': q->interactive = true; return 0;
        case 't': q->tty = true; return 0;
        case ARG_RM: q->rm = true; return 0;
        case ARG_PRIVILEGED: q->privileged = true; return 0;
        case ARG_READ_ONLY: q->read_only = true; return 0;
        case ARG_NAME: return free_and_strdup(&q->name, optarg);
        case ARG_ENTRYPOINT: return free_and_strdup(&q->entrypoint, optarg);
        case 'w': return free_and_strdup(&q->workdir, optarg);
        case 'u': return free_and_strdup(&q->user, optarg);
        case 'h': return free_and_strdup(&q->hostname, optarg);
        case ARG_NETWORK: return free_and_strdup(&q->network, optarg);
        case ARG_STOP_SIGNAL: return free_and_strdup(&q->stop_signal, optarg);
        case ARG_STOP_TIMEOUT: return safe_atoi(optarg, &q->stop_timeout) < 0 || q->stop_timeout < 0 ? -EINVAL : 0;
        case 'e': return add_env(q, optarg);
        case 'l': return strv_extend(&q->labels, optarg);
        case 'v': return strv_extend(&q->volumes, optarg);
        case ARG_TMPFS: return strv_extend(&q->tmpfs, optarg);
        case ARG_MOUNT: return strv_extend(&q->mounts, optarg);
        case ARG_CAP_ADD: return strv_extend(&q->cap_add, optarg);
        case ARG_CAP_DROP: return strv_extend(&q->cap_drop, optarg);
        case ARG_SECURITY_OPT: return strv_extend(&q->security_opt, optarg);
        case ARG_PULL:
                if (!streq(optarg, "always") && !streq(optarg, "missing") && !streq(optarg, "never"))
                        return -EINVAL;
                return free_and_strdup(&q->pull, optarg);
        case ARG_PLATFORM: return free_and_strdup(&q->platform, optarg);
        case 'm': return add_limit(q, "memory", optarg);
        case 'c': return add_limit(q, "cpu-shares", optarg);
        case ARG_LIMIT: return add_limit(q, flag, optarg);
        default: return parse_network_flag(q, c);
        }
}

/* Options stop at the image: what follows is the command, as with docker. */
int create_request_parse(int argc, char *argv[], CreateRequest *q) {
        int c, idx, r;

        q->stop_timeout = -1;
        while ((c = getopt_long(argc, argv, "+dite:w:u:h:l:v:m:c:p:P", create_options, &idx)) >= 0) {
                if (c == '?')
                        return -EINVAL;
                r = parse_one(q, c, c == ARG_LIMIT ? create_options[idx].name : NULL);
                if (r == -ECANCELED)   /* said already */
                        return -EINVAL;
                if (r < 0) {
                        fprintf(stderr, "Invalid value '%s' for an option of %s.\n", strempty(optarg), argv[0]);
                        return r;
                }
        }
        if (optind >= argc) {
                fprintf(stderr, "\"berthctl %s\" requires at least 1 argument: IMAGE [COMMAND] [ARG...]\n", argv[0]);
                return -EINVAL;
        }
        r = ctl_parse_limits(q->limits, &q->typed_limits);
        if (r < 0)
                return r;
        q->image = strdup(argv[optind]);
        q->cmd = strv_copy(argv + optind + 1);
        return q->image && q->cmd ? 0 : ctl_oom();
}

static int append_string(sd_bus_message *m, const char *key, const char *value) {
        return value ? sd_bus_message_append(m, "{sv}", key, "s", value) : 0;
}

static int append_bool(sd_bus_message *m, const char *key, bool value) {
        return value ? sd_bus_message_append(m, "{sv}", key, "b", 1) : 0;
}

int ctl_append_strv_option(sd_bus_message *m, const char *key, char **l) {
        int r;

        if (!l)
                return 0;
        r = sd_bus_message_open_container(m, 'e', "sv");
        if (r >= 0)
                r = sd_bus_message_append(m, "s", key);
        if (r >= 0)
                r = sd_bus_message_open_container(m, 'v', "as");
        if (r >= 0)
                r = sd_bus_message_append_strv(m, l);
        if (r >= 0)
                r = sd_bus_message_close_container(m);
        if (r >= 0)
                r = sd_bus_message_close_container(m);
        return r;
}

static int append_limits(sd_bus_message *m, const CreateRequest *q) {
        int r;

        if (!q->limits)
                return 0;
        r = sd_bus_message_open_container(m, 'e', "sv");
        if (r >= 0)
                r = sd_bus_message_append(m, "s", "Limits");
        if (r >= 0)
                r = sd_bus_message_open_container(m, 'v', "a{sv}");
        if (r >= 0)
                r = bus_append_limits(m, &q->typed_limits);
        if (r >= 0)
                r = sd_bus_message_close_container(m);
        if (r >= 0)
                r = sd_bus_message_close_container(m);
        return r;
}

/* "k=v" pairs (labels) or flat key, value lists as a{ss}. */
static int append_dict(sd_bus_message *m, const char *key, char **l, bool flat) {
        int r;

        if (!l)
                return 0;
        r = sd_bus_message_open_container(m, 'e', "sv");
        if (r >= 0)
                r = sd_bus_message_append(m, "s", key);
        if (r >= 0)
                r = sd_bus_message_open_container(m, 'v', "a{ss}");
        if (r >= 0)
                r = sd_bus_message_open_container(m, 'a', "{ss}");
        for (size_t i = 0; r >= 0 && l[i]; i += flat ? 2 : 1) {
                _cleanup_free_ char *k = flat ? strdup(l[i]) : strndup(l[i], strcspn(l[i], "="));
                const char *eq = strchr(l[i], '=');
                r = k ? sd_bus_message_append(m, "{ss}", k, flat ? l[i + 1] : eq ? eq + 1 : "") : -ENOMEM;
        }
        for (int k = 0; r >= 0 && k < 3; k++)
                r = sd_bus_message_close_container(m);
        return r;
}

static int append_entrypoint(sd_bus_message *m, const char *entrypoint) {
        char *l[] = { (char *) entrypoint, NULL };

        /* --entrypoint "" clears the image's entrypoint. */
        if (!entrypoint)
                return 0;
        return ctl_append_strv_option(m, "Entrypoint", isempty(entrypoint) ? (char *[]) { NULL } : l);
}

static int append_ports(sd_bus_message *m, const CreateRequest *q) {
        int r;

        if (q->n_ports == 0)
                return 0;
        r = sd_bus_message_open_container(m, 'e', "sv");
        if (r >= 0)
                r = sd_bus_message_append(m, "s", "PortBindings");
        if (r >= 0)
                r = sd_bus_message_open_container(m, 'v', "a(sqqqs)");
        if (r >= 0)
                r = sd_bus_message_open_container(m, 'a', "(sqqqs)");
        for (size_t i = 0; r >= 0 && i < q->n_ports; i++) {
                const PortMapping *p = &q->ports[i];
                char ip[IN_ADDR_STRLEN];

                r = sd_bus_message_append(m, "(sqqqs)", in_addr_to_string(&p->host_ip, ip), p->host_port,
                                          p->host_port_last, p->container_port, port_proto_to_string(p->proto));
        }
        for (int k = 0; r >= 0 && k < 3; k++)
                r = sd_bus_message_close_container(m);
        return r;
}

static int append_network(sd_bus_message *m, const CreateRequest *q) {
        int r = append_string(m, "Network", q->network);

        if (r >= 0) r = ctl_append_strv_option(m, "NetworkAliases", q->aliases);
        if (r >= 0) r = append_string(m, "IPv4Address", q->ip);
        if (r >= 0) r = append_string(m, "IPv6Address", q->ip6);
        if (r >= 0) r = append_string(m, "MacAddress", q->mac);
        if (r >= 0) r = append_ports(m, q);
        if (r >= 0 && q->publish_all) r = append_bool(m, "PublishAll", true);
        if (r >= 0) r = ctl_append_strv_option(m, "Dns", q->dns);
        if (r >= 0) r = ctl_append_strv_option(m, "DnsSearch", q->dns_search);
        if (r >= 0) r = ctl_append_strv_option(m, "DnsOptions", q->dns_options);
        if (r >= 0) r = ctl_append_strv_option(m, "ExtraHosts", q->add_hosts);
        return r;
}

int create_request_append(sd_bus_message *m, const CreateRequest *q) {
        int r;

        r = sd_bus_message_open_container(m, 'a', "{sv}");
        if (r >= 0) r = append_string(m, "Image", q->image);
        if (r >= 0) r = append_string(m, "Name", q->name);
        if (r >= 0 && q->cmd && q->cmd[0]) r = ctl_append_strv_option(m, "Cmd", q->cmd);
        if (r >= 0) r = append_entrypoint(m, q->entrypoint);
        if (r >= 0) r = ctl_append_strv_option(m, "Env", q->env);
        if (r >= 0) r = append_string(m, "WorkingDir", q->workdir);
        if (r >= 0) r = append_string(m, "User", q->user);
        if (r >= 0) r = append_string(m, "Hostname", q->hostname);
        if (r >= 0) r = append_dict(m, "Labels", q->labels, false);
        if (r >= 0) r = ctl_append_strv_option(m, "Volumes", q->volumes);
        if (r >= 0) r = ctl_append_strv_option(m, "Tmpfs", q->tmpfs);
        if (r >= 0) r = ctl_append_strv_option(m, "Mounts", q->mounts);
        if (r >= 0) r = append_network(m, q);
        if (r >= 0) r = ctl_append_strv_option(m, "CapAdd", q->cap_add);
        if (r >= 0) r = ctl_append_strv_option(m, "CapDrop", q->cap_drop);
        if (r >= 0) r = append_bool(m, "Privileged", q->privileged);
        if (r >= 0) r = append_bool(m, "ReadOnly", q->read_only);
        if (r >= 0) r = ctl_append_strv_option(m, "SecurityOpt", q->security_opt);
        if (r >= 0) r = append_limits(m, q);
        if (r >= 0) r = append_bool(m, "AutoRemove", q->rm);
        if (r >= 0) r = append_bool(m, "Tty", q->tty);
        if (r >= 0) r = append_bool(m, "Interactive", q->interactive);
        if (r >= 0) r = append_string(m, "StopSignal", q->stop_signal);
        if (r >= 0 && q->stop_timeout >= 0)
                r = sd_bus_message_append(m, "{sv}", "StopTimeoutUSec", "t", (uint64_t) q->stop_timeout * USEC_PER_SEC);
        if (r >= 0)
                r = sd_bus_message_close_container(m);
        return r;
}

static bool image_present(sd_bus *bus, const char *image) {
        _cleanup_(sd_bus_error_free) sd_bus_error error = SD_BUS_ERROR_NULL;
        _cleanup_(sd_bus_message_unrefp) sd_bus_message *reply = NULL;

        return sd_bus_call_method(bus, BERTH_BUS_NAME, BERTH_MANAGER_PATH, BERTH_MANAGER_IFACE, "GetImage",
                                  &error, &reply, "s", image) >= 0 ||
               !sd_bus_error_has_name(&error, BERTH_ERROR_NO_SUCH_IMAGE);
}

/* As docker run: --pull missing (the default) pulls an image the store
 * lacks, always pulls, never leaves it to CreateContainer to fail. */
int create_request_pull(sd_bus *bus, const CreateRequest *q) {
        const char *policy = q->pull ?: "missing";

        if (streq(policy, "never"))
                return 0;
        if (streq(policy, "missing")) {
                if (image_present(bus, q->image))
                        return 0;
                fprintf(stderr, "Unable to find image '%s' locally\n", ctl_escape(q->image));
        }
        return ctl_pull(bus, q->image, q->platform, false, NULL);
}
