/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <fcntl.h>
#include <signal.h>
#include <sys/stat.h>

#include "engine-internal.h"
#include "fileio.h"
#include "log.h"

/* "KEY=..." entries of extra replace those of base with the same key. */
static int merge_env(char **base, char **extra, char ***ret) {
        _cleanup_strv_free_ char **l = NULL;
        int r;

        STRV_FOREACH(b, base) {
                size_t k = strcspn(*b, "=");
                bool overridden = false;
                STRV_FOREACH(x, extra)
                        if (strncmp(*x, *b, k) == 0 && IN_SET((*x)[k], '=', '\0'))
                                overridden = true;
                if (!overridden && (r = strv_extend(&l, *b)) < 0)
                        return r;
        }
        STRV_FOREACH(x, extra)
                if ((r = strv_extend(&l, *x)) < 0)
                        return r;
        *ret = TAKE_PTR(l);
        return 0;
}

static int replace_strv(char ***dst, char **src) {
        char **c = strv_copy(src);

        if (!c)
                return -ENOMEM;
        strv_free(*dst);
        *dst = c;
        return 0;
}

/* Docker's rules: --entrypoint replaces the image's entrypoint and drops its
 * Cmd; arguments after the image replace its Cmd. */
static int merge_command(ContainerConfig *cfg, const OciImageConfig *img) {
        int r;

        if (!cfg->entrypoint) {
                r = replace_strv(&cfg->entrypoint, img->entrypoint);
                if (r < 0)
                        return r;
                if (!cfg->argv && (r = replace_strv(&cfg->argv, img->cmd)) < 0)
                        return r;
        }
        if (strv_length(cfg->entrypoint) + strv_length(cfg->argv) == 0)
                return errmsg_set(-EINVAL, "No command specified: the image has neither Entrypoint nor Cmd.");
        return 0;
}

static int merge_image_config(Container *c, const Image *i) {
        ContainerConfig *cfg = &c->config;
        const OciImageConfig *img = &i->config;
        _cleanup_strv_free_ char **env = NULL;
        int r;

        r = merge_command(cfg, img);
        if (r < 0)
                return r;
        r = merge_env(img->env, cfg->env, &env);
        if (r < 0)
                return r;
        strv_free(cfg->env);
        cfg->env = TAKE_PTR(env);
        if (!cfg->cwd && (r = free_and_strdup(&cfg->cwd, img->working_dir ?: "/")) < 0)
                return r;
        if (!cfg->user && img->user && (r = free_and_strdup(&cfg->user, img->user)) < 0)
                return r;
        if (cfg->stop_signal <= 0)
                cfg->stop_signal = img->stop_signal ? signal_from_string(img->stop_signal) : SIGTERM;
        if (cfg->stop_signal <= 0)
                cfg->stop_signal = SIGTERM;
        return 0;
}

static int pick_identity(Engine *e, Container *c) {
        Container *other;
        int r;

        r = container_id_generate(&c->id);
        if (r < 0)
                return r;
        if (c->name) {
                if (strlen(c->name) > CONTAINER_NAME_MAX)
                        return errmsg_set(-EINVAL, "Invalid container name: %zu characters, at most %zu fit a unit name.",
                                          strlen(c->name), (size_t) CONTAINER_NAME_MAX);
                if (!container_name_is_valid(c->name))
                        return errmsg_set(-EINVAL, "Invalid container name '%s': use [a-zA-Z0-9][a-zA-Z0-9_.-]*.", c->name);
                if (container_table_find(e->containers, c->name, &other) >= 0 && streq(other->name, c->name))
                        return errmsg_set(-EEXIST, "The container name '%s' is already in use by container %.12s.",
                                          c->name, other->id);
        } else {
                r = container_table_new_name(e->containers, &c->name);
                if (r < 0)
                        return errmsg_set(r, "Cannot find an unused name for the container; give one with --name.");
        }
        if (!c->config.hostname && !(c->config.hostname = strndup(c->id, 12)))
                return -ENOMEM;
        return scope_unit_name(c->name, &c->unit);
}

/* --add-host's "host-gateway": the gateway of the container's first network. */
static const char *extra_host_address(Engine *e, const Container *c, const char *addr, char buf[static IN_ADDR_STRLEN]) {
        Network *n;

        if (!streq(addr, "host-gateway"))
                return addr;
        if (c->config.n_endpoints == 0 ||
            network_table_find(engine_networks(e), c->config.endpoints[0].network_id, &n) < 0 || n->n_subnets == 0)
                return NULL;
        return in_addr_to_string(&n->subnets[0].gateway, buf);
}

static int write_hosts(Engine *e, int dirfd, const Container *c) {
        _cleanup_free_ char *host = NULL, *s = NULL;
        size_t size = 0;
        FILE *o;

        /* With the host's network, the host's view of names is the right one. */
        if (c->config.network == NETWORK_MODE_HOST &&
            read_full_file_at(AT_FDCWD, "/etc/hosts", 1 << 20, &host, NULL) >= 0 && !c->config.extra_hosts)
                return write_string_file_replace_at(dirfd, "hosts", host);
        o = open_memstream(&s, &size);
        if (!o)
                return -ENOMEM;
        if (host)
                fputs(host, o);
        else
                fputs("127.0.0.1\tlocalhost\n"
                      "::1\tlocalhost ip6-localhost ip6-loopback\n"
                      "fe00::0\tip6-localnet\nff00::0\tip6-mcastprefix\n"
                      "ff02::1\tip6-allnodes\nff02::2\tip6-allrouters\n", o);
        /* Docker names the container's own address; without one, 127.0.1.1. */
        if (c->config.n_endpoints > 0) {
                char a[IN_ADDR_STRLEN];
                for (int f = 0; f < 2; f++)
                        if (in_addr_is_set(&c->config.endpoints[0].addrs[f]))
                                fprintf(o, "%s\t%s\n", in_addr_to_string(&c->config.endpoints[0].addrs[f], a),
                                        c->config.hostname);
        } else if (!host)
                fprintf(o, "127.0.1.1\t%s\n", c->config.hostname);
        STRV_FOREACH(x, c->config.extra_hosts) {
                const char *colon = strrchr(*x, ':');
                _cleanup_free_ char *name = colon ? strndup(*x, colon - *x) : NULL;
                char buf[IN_ADDR_STRLEN];
                const char *addr = colon ? extra_host_address(e, c, colon + 1, buf) : NULL;

                if (name && addr)
                        fprintf(o, "%s\t%s\n", addr, name);
        }
        if (fclose(o) != 0)
                return -ENOMEM;
        return write_string_file_replace_at(dirfd, "hosts", s ?: "");
}

static void write_resolv_list(FILE *o, const char *key, char **l) {
        if (!l)
                return;
        fprintf(o, "%s", key);
        STRV_FOREACH(x, l)
                fprintf(o, " %s", *x);
        fputc('\n', o);
}

/* The host's resolv.conf; loopback resolvers only make sense in the host's
 * network namespace, so they are dropped otherwise, as Docker does. On
 * Berth's networks the container asks berthd's resolver on 127.0.0.11,
 * which forwards to the host's (or --dns) servers from the host's
 * namespace. --dns-search and --dns-option replace the host's lines. */
static int write_resolv_conf(int dirfd, const Container *c) {
        _cleanup_fclose_ FILE *in = fopen("/etc/resolv.conf", "re");
        _cleanup_free_ char *line = NULL, *out = NULL;
        const ContainerConfig *cfg = &c->config;
        bool embedded = cfg->network == NETWORK_MODE_BRIDGE, own_ns = cfg->dns && !embedded;
        size_t n = 0, size = 0;
        FILE *o;

        o = open_memstream(&out, &size);
        if (!o)
                return -ENOMEM;
        if (embedded)
                fputs("nameserver 127.0.0.11\n", o);
        STRV_FOREACH(d, own_ns ? cfg->dns : NULL)
                fprintf(o, "nameserver %s\n", *d);
        while (in && getline(&line, &n, in) > 0) {
                const char *ns = startswith(line, "nameserver");
                if (ns && (embedded || own_ns ||
                           (cfg->network != NETWORK_MODE_HOST && (strstr(ns, " 127.") || strstr(ns, " ::1")))))
                        continue;
                if ((cfg->dns_search && (startswith(line, "search") || startswith(line, "domain"))) ||
                    (cfg->dns_options && startswith(line, "options")))
                        continue;
                fputs(line, o);
        }
        write_resolv_list(o, "search", cfg->dns_search);
        write_resolv_list(o, "options", cfg->dns_options);
        if (fclose(o) != 0)
                return -ENOMEM;
        return write_string_file_replace_at(dirfd, "resolv.conf", out ?: "");
}

/* <root>/containers/<id>/: upper and work for the overlay, rootfs where it
 * is mounted (inside the container's namespace only). */
static int prepare_directory(Engine *e, Container *c) {
        _cleanup_free_ char *dir = strjoin(CONTAINER_DIR "/", c->id);
        _cleanup_close_ int fd = -EBADF;

        if (!dir)
                return -ENOMEM;
        if (mkdirat(e->root_fd, dir, 0700) < 0)
                return -errno;
        fd = openat(e->root_fd, dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        if (fd < 0)
                return -errno;
        FOREACH_STRING(sub, "upper", "work", "rootfs")
                if (mkdirat(fd, sub, 0755) < 0)
                        return -errno;
        return 0;
}

/* The files bound over /etc/hostname, /etc/hosts and /etc/resolv.conf, made
 * afresh at every start from the host's current state, as Docker does: they
 * need no fsync, since they are made again whenever they are lost. */
int engine_write_etc_files(Engine *e, Container *c) {
        _cleanup_free_ char *dir = strjoin(CONTAINER_DIR "/", c->id);
        _cleanup_free_ char *hostname = strjoin(c->config.hostname, "\n");
        _cleanup_close_ int fd = -EBADF;
        int r;

        if (!dir || !hostname)
                return -ENOMEM;
        fd = openat(e->root_fd, dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        if (fd < 0)
                return -errno;
        r = write_string_file_replace_at(fd, "hostname", hostname);
        if (r >= 0)
                r = write_hosts(e, fd, c);
        if (r >= 0)
                r = write_resolv_conf(fd, c);
        return r;
}

int engine_create_full(Engine *e, Container *c_in, const char *image, bool durable, Container **ret) {
        _cleanup_(container_freep) Container *c = c_in;
        _cleanup_(image_freep) Image *i = NULL;
        int r;

        r = store_resolve_image(e->store, image, &i);
        if (r == -ENOENT)
                return errmsg_set(r, "No such image: %s", image);
        if (r < 0)
                return r;
        errmsg_clear();   /* what the lookup tried on the way is no error of ours */
        r = merge_image_config(c, i);
        if (r < 0)
                return r;
        r = pick_identity(e, c);
        if (r < 0)
                return r;
        if (free_and_strdup(&c->image_ref, image) < 0 || free_and_strdup(&c->image_id, i->id) < 0)
                return -ENOMEM;
        r = engine_network_prepare(e, c, i->config.exposed_ports, c->config.publish_all);
        if (r < 0) {
                engine_network_release(e, c);
                return r;
        }
        r = prepare_directory(e, c);
        if (r < 0) {
                engine_network_release(e, c);
                (void) container_remove_dir(e->root_fd, c->id);
                return errmsg_set(r, "Cannot prepare the container's directory: %s", strerror(-r));
        }
        r = store_hold_image(e->store, c->image_id, c->id);
        if (r >= 0) {
                c->state = CONTAINER_CREATED;
                c->created_usec = now_usec(CLOCK_REALTIME);
                r = container_save(c, e->root_fd, durable);
        }
        if (r >= 0)
                r = container_table_add(e->containers, c);
        if (r < 0) {
                engine_network_release(e, c);
                (void) store_release_image(e->store, c->image_id, c->id);
                (void) container_remove_dir(e->root_fd, c->id);
                return r;
        }
        engine_network_added(e, c);
        if (e->cb.added)
                e->cb.added(c, e->userdata);
        *ret = TAKE_PTR(c);
        return 0;
}

int engine_create(Engine *e, Container *c, const char *image, Container **ret) {
        return engine_create_full(e, c, image, true, ret);
}

static int seccomp_mode_of(const SecurityOptions *s, const char **ret_profile) {
        *ret_profile = NULL;
        if (!s->seccomp_profile)
                return SECCOMP_MODE_DEFAULT;
        if (streq(s->seccomp_profile, "unconfined"))
                return SECCOMP_MODE_UNCONFINED;
        *ret_profile = s->seccomp_profile;
        return SECCOMP_MODE_PROFILE;
}

void process_spec_from_config(RuntimeProcessSpec *p, const ContainerConfig *cfg,
                                     char **argv, const EngineStdio *stdio) {
        runtime_process_spec_init(p);
        p->argv = argv;
        p->env = cfg->env;
        p->cwd = cfg->cwd;
        p->user = cfg->user;
        p->tty = cfg->tty;
        p->journal = !stdio->attach;
        p->stdin_fd = stdio->stdin_fd;
        p->stdout_fd = stdio->stdout_fd;
        p->stderr_fd = stdio->stderr_fd;
        p->cap_add = cfg->security.cap_add;
        p->cap_drop = cfg->security.cap_drop;
        p->privileged = cfg->security.privileged;
        p->no_new_privs = cfg->security.no_new_privileges;
        p->seccomp = seccomp_mode_of(&cfg->security, &p->seccomp_profile);
}
