/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Container <-> JSON for state.json. Unsigned 64-bit limits are stored as
 * JSON integers of the same bits, so "unlimited" (UINT64_MAX) reads as -1. */
#include <signal.h>

#include "container.h"
#include "json-util.h"
#include "network.h"

static json_t *labels_to_json(char * const *l) {
        json_t *o = json_object();

        STRV_FOREACH(s, l) {
                _cleanup_free_ char *k = strndup(*s, strcspn(*s, "="));
                const char *eq = strchr(*s, '=');

                if (!o || !k || json_object_set_new(o, k, json_string(eq ? eq + 1 : "")) < 0) {
                        json_decref(o);
                        return NULL;
                }
        }
        return o;
}

static json_t *mount_to_json(const MountSpec *m) {
        return json_pack("{s:s, s:s*, s:s, s:b, s:I, s:I, s:s*}",
                         "type", mount_type_to_string(m->type),
                         "source", m->source,
                         "target", m->target,
                         "read_only", m->read_only,
                         "tmpfs_size", (json_int_t) m->tmpfs_size,
                         "tmpfs_mode", (json_int_t) m->tmpfs_mode,
                         "options", m->options);
}

static json_t *limits_to_json(const ScopeLimits *l) {
        _cleanup_free_ char *cpuset = l->allowed_cpus ?
                limits_format_cpuset(l->allowed_cpus, l->allowed_cpus_size) : NULL;

        if (l->allowed_cpus && !cpuset)
                return NULL;
        return json_pack("{s:I, s:I, s:I, s:b, s:I, s:I, s:I, s:I, s:s*}",
                         "memory_max", (json_int_t) l->memory_max,
                         "memory_low", (json_int_t) l->memory_low,
                         "memory_swap_max", (json_int_t) l->memory_swap_max,
                         "memory_swap_max_set", l->memory_swap_max_set,
                         "cpu_quota_usec", (json_int_t) l->cpu_quota_usec,
                         "cpu_weight", (json_int_t) l->cpu_weight,
                         "tasks_max", (json_int_t) l->tasks_max,
                         "io_weight", (json_int_t) l->io_weight,
                         "cpuset", cpuset);
}

static json_t *config_base_to_json(const ContainerConfig *c);

static json_t *port_to_json(const PortMapping *m) {
        char ip[IN_ADDR_STRLEN];

        return json_pack("{s:s, s:i, s:i, s:i, s:s}", "host_ip", in_addr_to_string(&m->host_ip, ip),
                         "host_port", m->host_port, "host_port_last", m->host_port_last,
                         "container_port", m->container_port, "proto", port_proto_to_string(m->proto));
}

static json_t *ports_to_json(const PortMapping *p, size_t n) {
        json_t *a = json_array();

        for (size_t i = 0; a && i < n; i++)
                if (json_array_append_new(a, port_to_json(&p[i])) < 0)
                        a = (json_decref(a), NULL);
        return a;
}

static json_t *endpoint_to_json(const ContainerEndpoint *e) {
        char a4[IN_ADDR_STRLEN], a6[IN_ADDR_STRLEN], mac[18];

        return json_pack("{s:s, s:o, s:s, s:s, s:s, s:i}", "network_id", e->network_id,
                         "aliases", json_strv(e->aliases), "ipv4", in_addr_to_string(&e->addrs[0], a4),
                         "ipv6", in_addr_to_string(&e->addrs[1], a6), "mac", mac_to_string(e->mac, mac),
                         "slot", (json_int_t) e->slot);
}

/* The network half of the configuration, set into o. */
static int network_config_to_json(const ContainerConfig *c, json_t *o) {
        json_t *eps = json_array();

        for (size_t i = 0; eps && i < c->n_endpoints; i++)
                if (json_array_append_new(eps, endpoint_to_json(&c->endpoints[i])) < 0)
                        eps = (json_decref(eps), NULL);
        if (!eps || json_object_set_new(o, "endpoints", eps) < 0 ||
            json_object_set_new(o, "ports", ports_to_json(c->ports, c->n_ports)) < 0 ||
            json_object_set_new(o, "dns", json_strv(c->dns)) < 0 ||
            json_object_set_new(o, "dns_search", json_strv(c->dns_search)) < 0 ||
            json_object_set_new(o, "dns_options", json_strv(c->dns_options)) < 0 ||
            json_object_set_new(o, "extra_hosts", json_strv(c->extra_hosts)) < 0 ||
            json_object_set_new(o, "publish_all", json_boolean(c->publish_all)) < 0 ||
            (c->network_name && json_object_set_new(o, "network_name", json_string(c->network_name)) < 0))
                return -ENOMEM;
        return 0;
}

static json_t *config_to_json(const ContainerConfig *c) {
        json_t *j = config_base_to_json(c);

        if (j && network_config_to_json(c, j) < 0)
                j = (json_decref(j), NULL);
        return j;
}

static json_t *config_base_to_json(const ContainerConfig *c) {
        const SecurityOptions *s = &c->security;
        json_t *mounts = json_array();

        for (size_t i = 0; mounts && i < c->n_mounts; i++)
                if (json_array_append_new(mounts, mount_to_json(&c->mounts[i])) < 0)
                        mounts = (json_decref(mounts), NULL);
        if (!mounts)
                return NULL;
        /* "o" steals the reference; json_pack frees all of them on failure. */
        return json_pack("{s:o, s:o, s:o, s:s*, s:s*, s:s*, s:o, s:o, s:s, "
                         "s:{s:o, s:o, s:b, s:b, s:b, s:s*}, s:o, s:i, s:I, s:b, s:b, s:b}",
                         "argv", json_strv(c->argv),
                         "entrypoint", json_strv(c->entrypoint),
                         "env", json_strv(c->env),
                         "cwd", c->cwd, "user", c->user, "hostname", c->hostname,
                         "labels", labels_to_json(c->labels),
                         "mounts", mounts,
                         "network", network_mode_to_string(c->network),
                         "security",
                         "cap_add", json_strv(s->cap_add),
                         "cap_drop", json_strv(s->cap_drop),
                         "privileged", s->privileged,
                         "read_only", s->read_only,
                         "no_new_privileges", s->no_new_privileges,
                         "seccomp_profile", s->seccomp_profile,
                         "limits", limits_to_json(&c->limits),
                         "stop_signal", c->stop_signal,
                         "stop_timeout_usec", (json_int_t) c->stop_timeout_usec,
                         "auto_remove", c->auto_remove,
                         "tty", c->tty,
                         "interactive", c->interactive);
}

int container_to_json(const Container *c, json_t **ret) {
        json_t *j;

        j = json_pack("{s:s, s:s, s:{s:s*, s:s*}, s:s, s:i, s:I, s:i, s:i, s:b, s:b, "
                      "s:I, s:I, s:I, s:s*, s:o}",
                      "id", c->id, "name", c->name,
                      "image", "reference", c->image_ref, "id", c->image_id,
                      "state", container_state_to_string(c->state),
                      "pid", (int) c->pid,
                      "pid_start_time", (json_int_t) c->pid_start_time,
                      "exit_code", c->exit_code,
                      "exit_signal", c->exit_signal,
                      "exit_status_known", c->exit_status_known,
                      "oom_killed", c->oom_killed,
                      "created_usec", (json_int_t) c->created_usec,
                      "started_usec", (json_int_t) c->started_usec,
                      "finished_usec", (json_int_t) c->finished_usec,
                      "unit", c->unit,
                      "config", config_to_json(&c->config));
        if (!j)
                return -EINVAL;
        if (c->n_bound_ports > 0 &&
            json_object_set_new(j, "bound_ports", ports_to_json(c->bound_ports, c->n_bound_ports)) < 0) {
                json_decref(j);
                return -ENOMEM;
        }
        *ret = j;
        return 0;
}

/* Unlike json_get_strv(), [] reads back as NULL: what json_strv() wrote for
 * NULL, so that a state file round-trips. */
static int strv_from_json(json_t *o, const char *key, char ***ret) {
        json_t *a = json_object_get(o, key), *v;
        _cleanup_strv_free_ char **l = NULL;
        size_t i;

        if (!a || json_is_null(a))
                return 0;
        if (!json_is_array(a))
                return -EBADMSG;
        json_array_foreach(a, i, v) {
                if (!json_is_string(v))
                        return -EBADMSG;
                if (strv_extend(&l, json_string_value(v)) < 0)
                        return -ENOMEM;
        }
        strv_free(*ret);
        *ret = TAKE_PTR(l);
        return 0;
}

static int labels_from_json(json_t *o, char ***ret) {
        json_t *obj = json_object_get(o, "labels"), *v;
        _cleanup_strv_free_ char **l = NULL;
        const char *k;

        if (!obj || json_is_null(obj))
                return 0;
        if (!json_is_object(obj))
                return -EBADMSG;
        json_object_foreach(obj, k, v) {
                if (!json_is_string(v))
                        return -EBADMSG;
                if (strv_consume(&l, strjoin(k, "=", json_string_value(v))) < 0)
                        return -ENOMEM;
        }
        *ret = TAKE_PTR(l);
        return 0;
}

static int dup_opt(const char *s, char **ret) {
        return free_and_strdup(ret, s);
}

static int mount_from_json(json_t *m, MountSpec *ret) {
        const char *type = NULL, *source = NULL, *target = NULL, *options = NULL;
        json_int_t size = 0, mode = 0;
        int ro = 0;
        MountSpec s = {};

        if (json_unpack(m, "{s:s, s?s, s:s, s?b, s?I, s?I, s?s}", "type", &type, "source", &source,
                        "target", &target, "read_only", &ro, "tmpfs_size", &size,
                        "tmpfs_mode", &mode, "options", &options) < 0)
                return -EBADMSG;
        s.type = mount_type_from_string(type);
        if (s.type < 0 || target[0] != '/')
                return -EBADMSG;
        s.read_only = ro;
        s.tmpfs_size = (uint64_t) size;
        s.tmpfs_mode = (uint32_t) mode;
        if (dup_opt(source, &s.source) < 0 || dup_opt(target, &s.target) < 0 ||
            dup_opt(options, &s.options) < 0) {
                mount_spec_done(&s);
                return -ENOMEM;
        }
        *ret = s;
        return 0;
}

static int limits_from_json(json_t *o, ScopeLimits *l) {
        json_int_t v[8] = {};
        const char *cpuset = NULL;
        int swap_set = -1;

        if (!o)
                return 0;
        if (json_unpack(o, "{s?I, s?I, s?I, s?I, s?b, s?I, s?I, s?I, s?I, s?s}",
                        "memory_max", &v[0], "memory_low", &v[1], "memory_swap", &v[2],
                        "memory_swap_max", &v[7], "memory_swap_max_set", &swap_set,
                        "cpu_quota_usec", &v[3], "cpu_weight", &v[4], "tasks_max", &v[5],
                        "io_weight", &v[6], "cpuset", &cpuset) < 0)
                return -EBADMSG;
        l->memory_max = (uint64_t) v[0];
        l->memory_low = (uint64_t) v[1];
        if (swap_set >= 0) {
                l->memory_swap_max = (uint64_t) v[7];
                l->memory_swap_max_set = swap_set;
        } else {
                /* Before API v1 state.json kept Docker's memory + swap total;
                 * unset with a memory limit meant as much swap as memory. */
                uint64_t total = (uint64_t) v[2];
                bool memory = l->memory_max != 0 && l->memory_max != LIMIT_INFINITY;

                if (total == LIMIT_INFINITY)
                        l->memory_swap_max = LIMIT_INFINITY;
                else if (memory)
                        l->memory_swap_max = total == 0 ? l->memory_max :
                                total >= l->memory_max ? total - l->memory_max : 0;
                l->memory_swap_max_set = total == LIMIT_INFINITY || memory;
        }
        l->cpu_quota_usec = (uint64_t) v[3];
        l->cpu_weight = (uint64_t) v[4];
        l->tasks_max = (uint64_t) v[5];
        l->io_weight = (uint64_t) v[6];
        if (cpuset)
                return limits_parse_cpuset(cpuset, &l->allowed_cpus, &l->allowed_cpus_size) < 0 ? -EBADMSG : 0;
        return 0;
}

static int security_from_json(json_t *o, SecurityOptions *s) {
        const char *seccomp = NULL;
        int priv = 0, ro = 0, nnp = 0, r;

        if (!o)
                return 0;
        if (json_unpack(o, "{s?b, s?b, s?b, s?s}", "privileged", &priv, "read_only", &ro,
                        "no_new_privileges", &nnp, "seccomp_profile", &seccomp) < 0)
                return -EBADMSG;
        s->privileged = priv;
        s->read_only = ro;
        s->no_new_privileges = nnp;
        r = strv_from_json(o, "cap_add", &s->cap_add);
        if (r >= 0)
                r = strv_from_json(o, "cap_drop", &s->cap_drop);
        if (r >= 0)
                r = dup_opt(seccomp, &s->seccomp_profile);
        return r;
}

static int config_scalars_from_json(json_t *o, ContainerConfig *c) {
        const char *cwd = NULL, *user = NULL, *hostname = NULL, *network = "none";
        json_int_t timeout = (json_int_t) c->stop_timeout_usec;
        int sig = c->stop_signal, rm = 0, tty = 0, interactive = 0;

        if (json_unpack(o, "{s?s, s?s, s?s, s?s, s?i, s?I, s?b, s?b, s?b}",
                        "cwd", &cwd, "user", &user, "hostname", &hostname, "network", &network,
                        "stop_signal", &sig, "stop_timeout_usec", &timeout,
                        "auto_remove", &rm, "tty", &tty, "interactive", &interactive) < 0)
                return -EBADMSG;
        c->network = network_mode_from_string(network);
        if (c->network < 0 || sig <= 0 || sig >= NSIG)
                return -EBADMSG;
        c->stop_signal = sig;
        c->stop_timeout_usec = (uint64_t) timeout;
        c->auto_remove = rm;
        c->tty = tty;
        c->interactive = interactive;
        if (dup_opt(cwd, &c->cwd) < 0 || dup_opt(user, &c->user) < 0 ||
            dup_opt(hostname, &c->hostname) < 0)
                return -ENOMEM;
        return 0;
}

static int port_from_json(json_t *o, PortMapping *ret) {
        const char *ip = "", *proto = NULL;
        int hp = 0, hl = 0, cp = 0;
        PortMapping m = {};

        if (json_unpack(o, "{s?s, s?i, s?i, s:i, s:s}", "host_ip", &ip, "host_port", &hp,
                        "host_port_last", &hl, "container_port", &cp, "proto", &proto) < 0)
                return -EBADMSG;
        m.proto = port_proto_from_string(proto);
        if (m.proto < 0 || hp < 0 || hp > 65535 || hl < 0 || hl > 65535 || cp <= 0 || cp > 65535 ||
            (!isempty(ip) && in_addr_parse(ip, AF_UNSPEC, &m.host_ip) < 0))
                return -EBADMSG;
        m.host_port = (uint16_t) hp;
        m.host_port_last = (uint16_t) hl;
        m.container_port = (uint16_t) cp;
        *ret = m;
        return 0;
}

static int ports_from_json(json_t *a, PortMapping **ret, size_t *ret_n) {
        _cleanup_free_ PortMapping *p = NULL;
        json_t *v;
        size_t i;

        if (!a || json_is_null(a))
                return 0;
        if (!json_is_array(a) || json_array_size(a) > 65536)
                return -EBADMSG;
        if (json_array_size(a) == 0)
                return 0;
        p = calloc(json_array_size(a), sizeof *p);
        if (!p)
                return -ENOMEM;
        json_array_foreach(a, i, v)
                if (port_from_json(v, &p[i]) < 0)
                        return -EBADMSG;
        free(*ret);
        *ret = TAKE_PTR(p);
        *ret_n = json_array_size(a);
        return 0;
}

/* An endpoint without "slot" (written before slots) has its place in the list. */
static int endpoint_from_json(json_t *o, size_t index, ContainerEndpoint *ret) {
        const char *id = NULL, *a4 = "", *a6 = "", *mac = "";
        _cleanup_(container_endpoint_done) ContainerEndpoint e = {};
        json_int_t slot = (json_int_t) index;
        int r;

        if (json_unpack(o, "{s:s, s?s, s?s, s?s, s?I}", "network_id", &id, "ipv4", &a4, "ipv6", &a6,
                        "mac", &mac, "slot", &slot) < 0 || slot < 0 || slot >= CONTAINER_ENDPOINTS_MAX)
                return -EBADMSG;
        e.slot = (unsigned) slot;
        if ((!isempty(a4) && in_addr_parse(a4, AF_INET, &e.addrs[0]) < 0) ||
            (!isempty(a6) && in_addr_parse(a6, AF_INET6, &e.addrs[1]) < 0) ||
            (!isempty(mac) && mac_parse(mac, e.mac) < 0) || strlen(id) != 64)
                return -EBADMSG;
        r = dup_opt(id, &e.network_id);
        if (r >= 0)
                r = strv_from_json(o, "aliases", &e.aliases);
        if (r < 0)
                return r;
        *ret = e;
        e = (ContainerEndpoint) {};
        return 0;
}

static int network_config_from_json(json_t *o, ContainerConfig *cfg) {
        json_t *eps = json_object_get(o, "endpoints"), *v;
        const char *name = NULL;
        int publish_all = 0;
        size_t i;
        int r;

        if (json_unpack(o, "{s?s, s?b}", "network_name", &name, "publish_all", &publish_all) < 0)
                return -EBADMSG;
        cfg->publish_all = publish_all;
        r = dup_opt(name, &cfg->network_name);
        if (r >= 0)
                r = ports_from_json(json_object_get(o, "ports"), &cfg->ports, &cfg->n_ports);
        FOREACH_STRING(k, "dns", "dns_search", "dns_options", "extra_hosts") {
                char ***l = streq(k, "dns") ? &cfg->dns : streq(k, "dns_search") ? &cfg->dns_search :
                            streq(k, "dns_options") ? &cfg->dns_options : &cfg->extra_hosts;
                if (r >= 0)
                        r = strv_from_json(o, k, l);
        }
        if (r < 0)
                return r;
        if (eps && !json_is_array(eps))
                return -EBADMSG;
        json_array_foreach(eps, i, v) {
                _cleanup_(container_endpoint_done) ContainerEndpoint e = {};

                r = endpoint_from_json(v, i, &e);
                if (r >= 0)
                        r = container_add_endpoint_at(cfg, &e);
                if (r < 0)
                        return r == -EEXIST || r == -E2BIG ? -EBADMSG : r;
        }
        return 0;
}

static int config_from_json(json_t *o, Container *c) {
        ContainerConfig *cfg = &c->config;
        json_t *mounts, *m;
        size_t i;
        int r;

        if (!json_is_object(o))
                return -EBADMSG;
        r = config_scalars_from_json(o, cfg);
        if (r >= 0)
                r = strv_from_json(o, "argv", &cfg->argv);
        if (r >= 0)
                r = strv_from_json(o, "entrypoint", &cfg->entrypoint);
        if (r >= 0)
                r = strv_from_json(o, "env", &cfg->env);
        if (r >= 0)
                r = labels_from_json(o, &cfg->labels);
        if (r >= 0)
                r = security_from_json(json_object_get(o, "security"), &cfg->security);
        if (r >= 0)
                r = limits_from_json(json_object_get(o, "limits"), &cfg->limits);
        if (r >= 0)
                r = network_config_from_json(o, cfg);
        if (r < 0)
                return r;
        mounts = json_object_get(o, "mounts");
        if (mounts && !json_is_array(mounts))
                return -EBADMSG;
        json_array_foreach(mounts, i, m) {
                MountSpec s;

                r = mount_from_json(m, &s);
                if (r >= 0)
                        r = container_add_mount(c, &s);
                if (r < 0)
                        return r;
        }
        return 0;
}

int container_from_json(json_t *j, Container **ret) {
        _cleanup_(container_freep) Container *c = NULL;
        const char *id, *name, *state, *image_ref = NULL, *image_id = NULL, *unit = NULL;
        json_int_t start = 0, created = 0, started = 0, finished = 0;
        int pid = 0, known = 0, oom = 0, r;
        json_t *config = NULL;

        r = container_new(&c);
        if (r < 0)
                return r;
        if (json_unpack(j, "{s:s, s:s, s?{s?s, s?s}, s:s, s?i, s?I, s?i, s?i, s?b, s?b, "
                        "s?I, s?I, s?I, s?s, s?o}",
                        "id", &id, "name", &name, "image", "reference", &image_ref, "id", &image_id,
                        "state", &state, "pid", &pid, "pid_start_time", &start,
                        "exit_code", &c->exit_code, "exit_signal", &c->exit_signal,
                        "exit_status_known", &known, "oom_killed", &oom,
                        "created_usec", &created, "started_usec", &started,
                        "finished_usec", &finished, "unit", &unit, "config", &config) < 0)
                return -EBADMSG;
        c->state = container_state_from_string(state);
        if (c->state < 0 || !container_id_is_valid(id) || !container_name_is_valid(name) || pid < 0)
                return -EBADMSG;
        c->pid = pid;
        c->pid_start_time = (uint64_t) start;
        c->exit_status_known = known;
        c->oom_killed = oom;
        c->created_usec = (uint64_t) created;
        c->started_usec = (uint64_t) started;
        c->finished_usec = (uint64_t) finished;
        if (dup_opt(id, &c->id) < 0 || dup_opt(name, &c->name) < 0 ||
            dup_opt(image_ref, &c->image_ref) < 0 || dup_opt(image_id, &c->image_id) < 0 ||
            dup_opt(unit, &c->unit) < 0)
                return -ENOMEM;
        if (config) {
                r = config_from_json(config, c);
                if (r < 0)
                        return r;
        }
        r = ports_from_json(json_object_get(j, "bound_ports"), &c->bound_ports, &c->n_bound_ports);
        if (r < 0)
                return r;
        *ret = TAKE_PTR(c);
        return 0;
}
