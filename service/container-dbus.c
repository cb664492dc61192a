/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <fcntl.h>
#include <inttypes.h>
#include <signal.h>
#include <stdio.h>

#include "bus-property.h"
#include "bus-util.h"
#include "caller.h"
#include "container-dbus.h"
#include "network-dbus.h"
#include "container-options.h"
#include "log.h"
#include "manager.h"
#include "polkit.h"
#include "proc-util.h"
#include "scope.h"

static int property_get_state(sd_bus *bus, const char *path, const char *interface,
                              const char *property, sd_bus_message *reply,
                              void *userdata, sd_bus_error *error) {
        Container *c = userdata;

        return sd_bus_message_append(reply, "s", container_state_to_string(c->state));
}

static int property_get_network(sd_bus *bus, const char *path, const char *interface,
                                const char *property, sd_bus_message *reply,
                                void *userdata, sd_bus_error *error) {
        Container *c = userdata;
        _cleanup_free_ char *s = NULL;

        /* As asked: "bridge", a network's name, "container:NAME", "none", "host". */
        if (c->config.network == NETWORK_MODE_CONTAINER)
                s = strjoin("container:", strempty(c->config.network_name));
        else if (c->config.network == NETWORK_MODE_BRIDGE)
                s = strdup(c->config.network_name ?: "bridge");
        else
                s = strdup(network_mode_to_string(c->config.network));
        if (!s)
                return -ENOMEM;
        return sd_bus_message_append(reply, "s", s);
}

static int append_endpoint(sd_bus_message *reply, const Network *n, const ContainerEndpoint *ep) {
        char a4[IN_ADDR_STRLEN + 8] = "", a6[IN_ADDR_STRLEN + 8] = "", g4[IN_ADDR_STRLEN] = "",
             g6[IN_ADDR_STRLEN] = "", mac[18];
        int r;

        for (size_t i = 0; i < n->n_subnets; i++) {
                const NetworkSubnet *s = &n->subnets[i];
                int f = s->subnet.addr.family == AF_INET6;
                char a[IN_ADDR_STRLEN];

                if (!in_addr_is_set(&ep->addrs[f]))
                        continue;
                snprintf(f ? a6 : a4, sizeof a4, "%s/%u", in_addr_to_string(&ep->addrs[f], a), s->subnet.prefixlen);
                in_addr_to_string(&s->gateway, f ? g6 : g4);
        }
        r = sd_bus_message_open_container(reply, 'r', "ssssssas");
        if (r >= 0)
                r = sd_bus_message_append(reply, "ssssss", n->name, a4, g4, a6, g6, mac_to_string(ep->mac, mac));
        if (r >= 0)
                r = sd_bus_message_append_strv(reply, ep->aliases);
        if (r < 0)
                return r;
        return sd_bus_message_close_container(reply);
}

static int property_get_networks(sd_bus *bus, const char *path, const char *interface,
                                 const char *property, sd_bus_message *reply,
                                 void *userdata, sd_bus_error *error) {
        Manager *m = sd_bus_slot_get_userdata(sd_bus_get_current_slot(bus));
        Container *c = userdata;
        int r;

        r = sd_bus_message_open_container(reply, 'a', "(ssssssas)");
        for (size_t i = 0; r >= 0 && i < c->config.n_endpoints; i++) {
                Network *n;
                if (network_table_find(engine_networks(m->engine), c->config.endpoints[i].network_id, &n) >= 0)
                        r = append_endpoint(reply, n, &c->config.endpoints[i]);
        }
        if (r < 0)
                return r;
        return sd_bus_message_close_container(reply);
}

static int property_get_port_bindings(sd_bus *bus, const char *path, const char *interface,
                                      const char *property, sd_bus_message *reply,
                                      void *userdata, sd_bus_error *error) {
        Container *c = userdata;
        bool bound = streq(property, "Ports");
        const PortMapping *p = bound ? c->bound_ports : c->config.ports;
        size_t n = bound ? c->n_bound_ports : c->config.n_ports;
        int r;

        r = sd_bus_message_open_container(reply, 'a', bound ? "(sqqs)" : "(sqqqs)");
        for (size_t i = 0; r >= 0 && i < n; i++) {
                char ip[IN_ADDR_STRLEN];
                const char *proto = port_proto_to_string(p[i].proto);

                in_addr_to_string(&p[i].host_ip, ip);
                r = bound ? sd_bus_message_append(reply, "(sqqs)", ip, p[i].host_port, p[i].container_port, proto) :
                        sd_bus_message_append(reply, "(sqqqs)", ip, p[i].host_port, p[i].host_port_last,
                                              p[i].container_port, proto);
        }
        if (r < 0)
                return r;
        return sd_bus_message_close_container(reply);
}

static int property_get_command(sd_bus *bus, const char *path, const char *interface,
                                const char *property, sd_bus_message *reply,
                                void *userdata, sd_bus_error *error) {
        Container *c = userdata;
        int r;

        r = sd_bus_message_open_container(reply, 'a', "s");
        STRV_FOREACH(a, c->config.entrypoint)
                if (r >= 0)
                        r = sd_bus_message_append(reply, "s", *a);
        STRV_FOREACH(a, c->config.argv)
                if (r >= 0)
                        r = sd_bus_message_append(reply, "s", *a);
        if (r < 0)
                return r;
        return sd_bus_message_close_container(reply);
}

static int property_get_labels(sd_bus *bus, const char *path, const char *interface,
                               const char *property, sd_bus_message *reply,
                               void *userdata, sd_bus_error *error) {
        Container *c = userdata;
        int r;

        r = sd_bus_message_open_container(reply, 'a', "{ss}");
        STRV_FOREACH(l, c->config.labels) {
                _cleanup_free_ char *k = strndup(*l, strcspn(*l, "="));
                const char *eq = strchr(*l, '=');
                if (r >= 0)
                        r = k ? sd_bus_message_append(reply, "{ss}", k, eq ? eq + 1 : "") : -ENOMEM;
        }
        if (r < 0)
                return r;
        return sd_bus_message_close_container(reply);
}

static int property_get_mounts(sd_bus *bus, const char *path, const char *interface,
                               const char *property, sd_bus_message *reply,
                               void *userdata, sd_bus_error *error) {
        Container *c = userdata;
        int r;

        r = sd_bus_message_open_container(reply, 'a', "(sssb)");
        for (size_t i = 0; r >= 0 && i < c->config.n_mounts; i++) {
                const MountSpec *m = &c->config.mounts[i];
                r = sd_bus_message_append(reply, "(sssb)", mount_type_to_string(m->type),
                                          strempty(m->source), m->target, m->read_only);
        }
        if (r < 0)
                return r;
        return sd_bus_message_close_container(reply);
}

/* The form CreateContainer's "Limits" and Update take. */
static int property_get_limits(sd_bus *bus, const char *path, const char *interface,
                               const char *property, sd_bus_message *reply,
                               void *userdata, sd_bus_error *error) {
        return bus_append_limits(reply, &((Container *) userdata)->config.limits);
}

static int property_get_pid(sd_bus *bus, const char *path, const char *interface,
                            const char *property, sd_bus_message *reply,
                            void *userdata, sd_bus_error *error) {
        return sd_bus_message_append(reply, "u", (uint32_t) *(pid_t *) userdata);
}

/* ListContainers: id, name, image, state, command, created, started,
 * finished, exit code, object. */
#define CONTAINER_ROW "ssssstttio"

int container_object_path(const char *id, char **ret) {
        *ret = strjoin(BERTH_CONTAINER_PATH_PREFIX "/", id);
        return *ret ? 0 : -ENOMEM;
}

/* Engine errors to Berth's D-Bus errors. message: the engine's sentence,
 * captured when it failed (a deferred reply must not read the thread's last
 * sentence: other calls may have set it meanwhile). */
static int container_error(sd_bus_error *error, int r, const char *message) {
        return bus_error_set_errnof(error, BERTH_OBJECT_CONTAINER, r, "%s", message ?: strerror(-r));
}

/* A synchronous failure of the engine: its sentence is the last one. */
static int container_error_now(sd_bus_error *error, int r) {
        return container_error(error, r, errmsg_last());
}

/* Creation fails with ENOENT when the image is missing. */
static int create_error_now(sd_bus_error *error, int r) {
        return bus_error_set_errnof(error, r == -ENOENT ? BERTH_OBJECT_IMAGE : BERTH_OBJECT_CONTAINER, r,
                                    "%s", errmsg_last() ?: strerror(-r));
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

static int read_and_find(sd_bus_message *message, Manager *m, sd_bus_error *error, Container **ret) {
        const char *name;
        int r;

        r = sd_bus_message_read(message, "s", &name);
        if (r < 0)
                return r;
        return find_container(m, name, error, ret);
}

/* A Container object's method gets the container as userdata; the Manager
 * is the userdata of the fallback vtable that found it. */
static Manager *message_manager(sd_bus_message *message) {
        return sd_bus_slot_get_userdata(sd_bus_get_current_slot(sd_bus_message_get_bus(message)));
}


/* polkit for a verb on c: action, and for a privileged container
 * BERTH_ACTION_PRIVILEGED_CONTAINERS as well when privileged_too (create,
 * run, start, restart, update, exec). command: the exec's, for rules.
 * > 0 allowed, 0 pending (the handler returns 1), < 0 denied. */
static int verify_container(sd_bus_message *message, Manager *m, const Container *c, const char *image,
                            const char *action, bool privileged_too, const char *command, sd_bus_error *error) {
        _cleanup_free_ char *binds = NULL;
        bool privileged = container_config_is_privileged(&c->config);
        int r;

        r = container_config_bind_sources(&c->config, &binds);
        if (r < 0)
                return r;
        const char *details[] = {
                "container", strempty(c->name),
                "image", strempty(image ?: c->image_ref),
                "privileged", privileged ? "yes" : "no",
                "bind-sources", binds,
                command ? "command" : NULL, command,
                NULL,
        };
        r = polkit_verify(message, action, details, m, error);
        if (r <= 0 || !privileged || !privileged_too)
                return r;
        return polkit_verify(message, BERTH_ACTION_PRIVILEGED_CONTAINERS, details, m, error);
}

int method_create_container(sd_bus_message *message, void *userdata, sd_bus_error *error) {
        _cleanup_free_ char *image = NULL, *path = NULL;
        _cleanup_(container_freep) Container *c = NULL;
        Manager *m = userdata;
        Container *created;
        int r;

        r = container_options_read(message, &c, &image, error);
        if (r < 0)
                return r;
        r = verify_container(message, m, c, image, BERTH_ACTION_MANAGE_CONTAINERS, true, NULL, error);
        if (r <= 0)
                return r < 0 ? r : 1;
        errmsg_clear();
        r = engine_create(m->engine, TAKE_PTR(c), image, &created);
        if (r < 0)
                return create_error_now(error, r);
        r = container_object_path(created->id, &path);
        if (r < 0)
                return r;
        return sd_bus_reply_method_return(message, "so", created->id, path);
}

/* Deferred replies: the request waits in the engine's callback. */
static void reply_done(Container *c, int r, const char *message, int pty, void *userdata) {
        _cleanup_(sd_bus_message_unrefp) sd_bus_message *request = userdata;
        _cleanup_(sd_bus_error_free) sd_bus_error error = SD_BUS_ERROR_NULL;

        safe_close(pty);
        if (r < 0) {
                (void) container_error(&error, r, message);
                (void) sd_bus_reply_method_error(request, &error);
        } else
                (void) sd_bus_reply_method_return(request, NULL);
}

/* The name tells the client Docker's exit code: 127, 126 or 125. */
static void set_start_error(sd_bus_error *error, const Container *c, int r, const char *message) {
        int code = c ? c->exit_code : CONTAINER_EXIT_CODE_ENGINE;

        (void) sd_bus_error_set(error, code == 127 ? BERTH_ERROR_COMMAND_NOT_FOUND :
                                code == 126 ? BERTH_ERROR_COMMAND_NOT_EXECUTABLE :
                                BERTH_ERROR_START_FAILED, message ?: strerror(-r));
}

static void reply_started(Container *c, int r, const char *message, int pty, void *userdata) {
        _cleanup_(sd_bus_message_unrefp) sd_bus_message *request = userdata;
        _cleanup_(sd_bus_message_unrefp) sd_bus_message *reply = NULL;
        _cleanup_(sd_bus_error_free) sd_bus_error error = SD_BUS_ERROR_NULL;
        _cleanup_close_ int pty_fd = pty;

        if (r < 0) {
                set_start_error(&error, c, r, message);
                (void) sd_bus_reply_method_error(request, &error);
                return;
        }
        r = sd_bus_message_new_method_return(request, &reply);
        if (r >= 0 && sd_bus_message_is_method_call(request, NULL, "RunContainer")) {
                _cleanup_free_ char *path = NULL;
                r = container_object_path(c->id, &path);
                if (r >= 0)
                        r = sd_bus_message_append(reply, "so", c->id, path);
        }
        if (r >= 0)
                r = sd_bus_message_open_container(reply, 'a', "{sv}");
        if (r >= 0 && pty_fd >= 0)
                r = sd_bus_message_append(reply, "{sv}", "Terminal", "h", pty_fd);
        if (r >= 0)
                r = sd_bus_message_close_container(reply);
        if (r >= 0)
                r = sd_bus_send(NULL, reply, NULL);
        if (r < 0)
                log_warning_errno(r, "Failed to reply to %s: %m", sd_bus_message_get_member(request));
}

/* Attached runs pass stdin/stdout/stderr in the options: pipes or sockets only. */
static int read_start_options(sd_bus_message *message, EngineStdio *stdio, sd_bus_error *error) {
        const char *key;
        int r;

        r = sd_bus_message_enter_container(message, 'a', "{sv}");
        while (r >= 0 && (r = sd_bus_message_enter_container(message, 'e', "sv")) > 0) {
                int fd, *dst;
                r = sd_bus_message_read(message, "s", &key);
                if (r < 0)
                        return r;
                if (streq(key, "Attach")) {
                        /* With a terminal no fds come: the caller takes the master. */
                        int b;
                        r = sd_bus_message_read(message, "v", "b", &b);
                        if (r < 0)
                                return r;
                        stdio->attach = b;
                        r = sd_bus_message_exit_container(message);
                        continue;
                }
                dst = streq(key, "Stdin") ? &stdio->stdin_fd : streq(key, "Stdout") ? &stdio->stdout_fd :
                      streq(key, "Stderr") ? &stdio->stderr_fd : NULL;
                if (!dst)
                        return sd_bus_error_setf(error, SD_BUS_ERROR_INVALID_ARGS, "Unknown start option '%s'.", key);
                r = sd_bus_message_read(message, "v", "h", &fd);
                if (r < 0)
                        return r;
                r = container_options_check_stdio(key, fd, error);
                if (r < 0)
                        return r;
                *dst = fd;
                stdio->attach = true;
                r = sd_bus_message_exit_container(message);
        }
        if (r < 0)
                return r;
        return sd_bus_message_exit_container(message);
}

/* The verbs. Each takes the container found (by the object path, or by
 * the name a Manager method read first) and reads its own arguments; the
 * Container object's method and the Manager's by-name method run the same
 * function, as machined's do. */

static int container_start(Manager *m, Container *c, sd_bus_message *message, sd_bus_error *error) {
        EngineStdio stdio = ENGINE_STDIO_DETACHED;
        int r;

        r = read_start_options(message, &stdio, error);
        if (r < 0)
                return r;
        r = verify_container(message, m, c, NULL, BERTH_ACTION_MANAGE_CONTAINERS, true, NULL, error);
        if (r <= 0)
                return r < 0 ? r : 1;
        errmsg_clear();
        r = engine_start(m->engine, c, &stdio, reply_started, sd_bus_message_ref(message));
        if (r < 0) {
                sd_bus_message_unref(message);
                return container_error_now(error, r);
        }
        return 1;
}

int method_run_container(sd_bus_message *message, void *userdata, sd_bus_error *error) {
        EngineStdio stdio = ENGINE_STDIO_DETACHED;
        _cleanup_(container_freep) Container *c = NULL;
        _cleanup_free_ char *image = NULL;
        Manager *m = userdata;
        Container *created = NULL;
        int r;

        r = container_options_read(message, &c, &image, error);
        if (r >= 0)
                r = read_start_options(message, &stdio, error);
        if (r < 0)
                return r;
        r = verify_container(message, m, c, image, BERTH_ACTION_MANAGE_CONTAINERS, true, NULL, error);
        if (r <= 0)
                return r < 0 ? r : 1;
        errmsg_clear();
        r = engine_run(m->engine, TAKE_PTR(c), image, &stdio, reply_started, sd_bus_message_ref(message), &created);
        if (r < 0) {
                sd_bus_message_unref(message);
                return create_error_now(error, r);
        }
        return 1;
}

static int container_stop(Manager *m, Container *c, sd_bus_message *message, sd_bus_error *error) {
        uint64_t timeout;
        int r;

        r = sd_bus_message_read(message, "t", &timeout);
        if (r < 0)
                return r;
        r = verify_container(message, m, c, NULL, BERTH_ACTION_MANAGE_CONTAINERS, false, NULL, error);
        if (r <= 0)
                return r < 0 ? r : 1;
        errmsg_clear();
        r = engine_stop(m->engine, c, timeout, reply_done, sd_bus_message_ref(message));
        if (r < 0) {
                sd_bus_message_unref(message);
                return container_error_now(error, r);
        }
        return 1;
}

static int container_restart(Manager *m, Container *c, sd_bus_message *message, sd_bus_error *error) {
        uint64_t timeout;
        int r;

        r = sd_bus_message_read(message, "t", &timeout);
        if (r < 0)
                return r;
        r = verify_container(message, m, c, NULL, BERTH_ACTION_MANAGE_CONTAINERS, true, NULL, error);
        if (r <= 0)
                return r < 0 ? r : 1;
        errmsg_clear();
        r = engine_restart(m->engine, c, timeout, reply_done, sd_bus_message_ref(message));
        if (r < 0) {
                sd_bus_message_unref(message);
                return container_error_now(error, r);
        }
        return 1;
}

static int container_kill(Manager *m, Container *c, sd_bus_message *message, sd_bus_error *error) {
        int32_t sig;
        int r;

        r = sd_bus_message_read(message, "i", &sig);
        if (r < 0)
                return r;
        if (sig <= 0 || sig >= _NSIG)
                return sd_bus_error_setf(error, SD_BUS_ERROR_INVALID_ARGS, "Invalid signal number %" PRIi32 ".", sig);
        r = verify_container(message, m, c, NULL, BERTH_ACTION_MANAGE_CONTAINERS, false, NULL, error);
        if (r <= 0)
                return r < 0 ? r : 1;
        errmsg_clear();
        r = engine_kill(m->engine, c, sig);
        if (r < 0)
                return container_error_now(error, r);
        return sd_bus_reply_method_return(message, NULL);
}

static int container_remove(Manager *m, Container *c, sd_bus_message *message, sd_bus_error *error) {
        int force, r;

        r = sd_bus_message_read(message, "b", &force);
        if (r < 0)
                return r;
        r = verify_container(message, m, c, NULL, BERTH_ACTION_MANAGE_CONTAINERS, false, NULL, error);
        if (r <= 0)
                return r < 0 ? r : 1;
        errmsg_clear();
        r = engine_remove(m->engine, c, force, reply_done, sd_bus_message_ref(message));
        if (r < 0) {
                sd_bus_message_unref(message);
                return container_error_now(error, r);
        }
        return 1;
}

static void reply_exit_code(Container *c, int r, const char *message, int pty, void *userdata) {
        CallerRequest *req = userdata;
        _cleanup_(sd_bus_error_free) sd_bus_error error = SD_BUS_ERROR_NULL;

        safe_close(pty);
        if (r < 0) {
                (void) container_error(&error, r, message);
                (void) sd_bus_reply_method_error(req->message, &error);
        } else
                (void) sd_bus_reply_method_return(req->message, "i", (int32_t) c->exit_code);
        caller_request_free(req);
}

/* The caller left: its waiter goes from the container's list. */
static void cancel_wait(CallerRequest *req) {
        Engine *e = req->manager->engine;
        Container *c = hashmap_get(engine_containers(e)->by_id, req->container_id);

        if (c)
                engine_wait_cancel(e, c, req->userdata);
}

static int container_wait(Manager *m, Container *c, sd_bus_message *message, sd_bus_error *error) {
        CallerRequest *req;
        Waiter *w;
        int r;

        /* Nobody would hear the answer: nothing to keep. */
        if (!sd_bus_message_get_expect_reply(message))
                return 1;
        r = caller_request_new(m, message, CALLER_REQUEST_WAIT, error, &req);
        if (r < 0)
                return r;
        req->cancel = cancel_wait;
        strcpy(req->container_id, c->id);
        r = engine_wait(m->engine, c, reply_exit_code, req, &w);
        if (r < 0) {
                caller_request_free(req);
                return r;
        }
        /* Without a waiter the answer went out already, and req with it. */
        if (w)
                req->userdata = w;
        return 1;
}

static int container_update(Manager *m, Container *c, sd_bus_message *message, sd_bus_error *error) {
        _cleanup_(scope_limits_done) ScopeLimits update = {};
        int r;

        r = container_options_read_limits(message, &update, error);
        if (r < 0)
                return r;
        r = verify_container(message, m, c, NULL, BERTH_ACTION_MANAGE_CONTAINERS, true, NULL, error);
        if (r <= 0)
                return r < 0 ? r : 1;
        errmsg_clear();
        r = engine_update(m->engine, c, &update, reply_done, sd_bus_message_ref(message));
        if (r < 0) {
                sd_bus_message_unref(message);
                return container_error_now(error, r);
        }
        return 1;
}

static int pause_or_unpause(Manager *m, Container *c, sd_bus_message *message, bool pause, sd_bus_error *error) {
        int r;

        r = verify_container(message, m, c, NULL, BERTH_ACTION_MANAGE_CONTAINERS, false, NULL, error);
        if (r <= 0)
                return r < 0 ? r : 1;
        errmsg_clear();
        r = engine_pause(m->engine, c, pause, reply_done, sd_bus_message_ref(message));
        if (r < 0) {
                sd_bus_message_unref(message);
                return container_error_now(error, r);
        }
        return 1;
}

static int container_pause(Manager *m, Container *c, sd_bus_message *message, sd_bus_error *error) {
        return pause_or_unpause(m, c, message, true, error);
}

static int container_unpause(Manager *m, Container *c, sd_bus_message *message, sd_bus_error *error) {
        return pause_or_unpause(m, c, message, false, error);
}

/* The environment carries credentials often enough that /proc shows it to
 * the process's owner alone (environ is 0400): here, whom polkit allows
 * BERTH_ACTION_READ_CONFIG (root without asking). A method, not a property:
 * GetAll, GetManagedObjects and InterfacesAdded would hand a property to
 * anyone. */
static int container_get_environment(Manager *m, Container *c, sd_bus_message *message, sd_bus_error *error) {
        _cleanup_(sd_bus_message_unrefp) sd_bus_message *reply = NULL;
        int r;

        r = verify_container(message, m, c, NULL, BERTH_ACTION_READ_CONFIG, false, NULL, error);
        if (r <= 0)
                return r < 0 ? r : 1;
        r = sd_bus_message_new_method_return(message, &reply);
        if (r >= 0)
                r = sd_bus_message_append_strv(reply, c->config.env);
        if (r < 0)
                return r;
        return sd_bus_send(NULL, reply, NULL);
}

/* What one GetProcesses answer may cost: the container decides how many
 * processes it has and how long their command lines are. */
#define PROCESSES_MAX 16384U
#define PROCESS_COMMAND_MAX 4096U
#define PROCESSES_COMMAND_BUDGET (1024U * 1024U)

static void reply_processes(const pid_t *pids, size_t n, int r, void *userdata) {
        CallerRequest *req = userdata;
        _cleanup_(sd_bus_message_unrefp) sd_bus_message *reply = NULL;
        size_t budget = PROCESSES_COMMAND_BUDGET;

        if (r >= 0)
                r = sd_bus_message_new_method_return(req->message, &reply);
        if (r >= 0)
                r = sd_bus_message_open_container(reply, 'a', "(uuus)");
        for (size_t i = 0; r >= 0 && i < MIN(n, (size_t) PROCESSES_MAX); i++) {
                _cleanup_free_ char *cmd = NULL;
                uint32_t ppid, uid;

                if (proc_read_process(AT_FDCWD, pids[i], MIN(budget, (size_t) PROCESS_COMMAND_MAX), &ppid, &uid, &cmd) < 0)
                        continue;   /* gone meanwhile */
                budget -= strlen(cmd);
                r = sd_bus_message_append(reply, "(uuus)", (uint32_t) pids[i], ppid, uid, cmd);
        }
        if (r >= 0)
                r = sd_bus_message_close_container(reply);
        if (r >= 0)
                r = sd_bus_send(NULL, reply, NULL);
        if (r < 0)
                (void) sd_bus_reply_method_errnof(req->message, r, "Cannot list the processes of the container: %m");
        caller_request_free(req);
}

static int check_running(const Container *c, sd_bus_error *error) {
        if (!IN_SET(c->state, CONTAINER_RUNNING, CONTAINER_PAUSED))
                return bus_error_set_errnof(error, BERTH_OBJECT_CONTAINER, -ESRCH,
                                            "Container %s is not running.", c->name);
        return 0;
}

static int container_get_processes(Manager *m, Container *c, sd_bus_message *message, sd_bus_error *error) {
        CallerRequest *req;
        int r;

        r = check_running(c, error);
        if (r < 0)
                return r;
        r = caller_request_new(m, message, CALLER_REQUEST_QUERY, error, &req);
        if (r < 0)
                return r;
        r = scope_get_pids(m->bus, c->unit, reply_processes, req, &req->slot);
        if (r < 0) {
                caller_request_free(req);
                return bus_error_set_errnof(error, BERTH_OBJECT_CONTAINER, r, "Cannot list the processes of %s: %s",
                                            c->unit, strerror(-r));
        }
        return 1;
}

static void reply_stats(const ScopeStats *s, int r, void *userdata) {
        CallerRequest *req = userdata;
        _cleanup_(sd_bus_message_unrefp) sd_bus_message *reply = NULL;

        if (r >= 0)
                r = sd_bus_message_new_method_return(req->message, &reply);
        if (r >= 0)
                r = sd_bus_message_append(reply, "a{sv}", 5,
                                          "MemoryCurrent", "t", s->memory_current,
                                          "CPUUsageNSec", "t", s->cpu_usage_nsec,
                                          "TasksCurrent", "t", s->tasks_current,
                                          "IOReadBytes", "t", s->io_read_bytes,
                                          "IOWriteBytes", "t", s->io_write_bytes);
        if (r >= 0)
                r = sd_bus_send(NULL, reply, NULL);
        if (r < 0)
                (void) sd_bus_reply_method_errnof(req->message, r, "Cannot read the scope's statistics: %m");
        caller_request_free(req);
}

static int container_get_stats(Manager *m, Container *c, sd_bus_message *message, sd_bus_error *error) {
        CallerRequest *req;
        int r;

        r = check_running(c, error);
        if (r < 0)
                return r;
        r = caller_request_new(m, message, CALLER_REQUEST_QUERY, error, &req);
        if (r < 0)
                return r;
        r = scope_get_stats(m->bus, c->unit, reply_stats, req, &req->slot);
        if (r < 0) {
                caller_request_free(req);
                return r;
        }
        return 1;
}

/* Exec sessions: objects /org/berth/Berth1/exec/N (org.berth.Berth1.Exec)
 * from the Exec call until their container is removed (as Docker drops a
 * container's execs), so a Wait() sent after Exec's reply cannot miss the
 * exit. A container keeps the last EXECS_KEPT_MAX ended ones. */
#define EXECS_KEPT_MAX 64U
#define EXEC_WAITERS_MAX 16U

typedef enum ExecState {
        EXEC_STARTING,
        EXEC_RUNNING,
        EXEC_EXITED,
        _EXEC_STATE_MAX,
        _EXEC_STATE_INVALID = -EINVAL,
} ExecState;

static const char *const exec_state_table[_EXEC_STATE_MAX] = {
        [EXEC_STARTING] = "starting",
        [EXEC_RUNNING] = "running",
        [EXEC_EXITED] = "exited",
};

static const char *exec_state_to_string(ExecState s) {
        return s >= 0 && s < _EXEC_STATE_MAX ? exec_state_table[s] : NULL;
}

typedef struct ExecRecord {
        Manager *manager;
        uint32_t id;
        char *path;
        char container_id[CONTAINER_ID_LENGTH + 1];
        char **command;
        ExecState state;
        bool orphaned;           /* its container is gone: goes at its exit */
        int exit_code;
        uint64_t started_usec;
        uint64_t finished_usec;
        CallerRequest *waiters[EXEC_WAITERS_MAX];
        size_t n_waiters;
        sd_bus_message *start_request;
        struct ExecRecord *next;
} ExecRecord;

static int exec_object_path(uint32_t id, char **ret) {
        return asprintf(ret, BERTH_EXEC_PATH_PREFIX "/%" PRIu32, id) < 0 ? -ENOMEM : 0;
}

static void exec_record_unlink(ExecRecord *x, bool published) {
        for (ExecRecord **p = (ExecRecord **) &x->manager->execs; *p; p = &(*p)->next)
                if (*p == x) {
                        *p = x->next;
                        break;
                }
        if (published && x->manager->bus)
                (void) sd_bus_emit_object_removed(x->manager->bus, x->path);
        for (size_t i = 0; i < x->n_waiters; i++)
                caller_request_free(x->waiters[i]);
        sd_bus_message_unref(x->start_request);
        strv_free(x->command);
        free(x->path);
        free(x);
}

static void exec_emit_changed(ExecRecord *x) {
        (void) sd_bus_emit_properties_changed(x->manager->bus, x->path, BERTH_EXEC_IFACE, "State", "ExitCode",
                                              "StartedAt", "FinishedAt", NULL);
}

static void on_exec_started(Container *c, int r, const char *message, int pty, void *userdata) {
        ExecRecord *x = userdata;
        _cleanup_(sd_bus_message_unrefp) sd_bus_message *reply = NULL, *request = TAKE_PTR(x->start_request);
        _cleanup_(sd_bus_error_free) sd_bus_error error = SD_BUS_ERROR_NULL;
        _cleanup_close_ int pty_fd = pty;

        if (r < 0) {
                set_start_error(&error, NULL, r, message);
                (void) sd_bus_reply_method_error(request, &error);
                return;   /* on_exec_exited() follows and drops x */
        }
        x->state = EXEC_RUNNING;
        x->started_usec = now_usec(CLOCK_REALTIME);
        (void) sd_bus_emit_object_added(x->manager->bus, x->path);
        r = sd_bus_message_new_method_return(request, &reply);
        if (r >= 0)
                r = sd_bus_message_append(reply, "o", x->path);
        if (r >= 0)
                r = sd_bus_message_open_container(reply, 'a', "{sv}");
        if (r >= 0 && pty_fd >= 0)
                r = sd_bus_message_append(reply, "{sv}", "Terminal", "h", pty_fd);
        if (r >= 0)
                r = sd_bus_message_close_container(reply);
        if (r >= 0)
                (void) sd_bus_send(NULL, reply, NULL);
}

/* Drops the oldest ended execs of a container beyond EXECS_KEPT_MAX. */
static void exec_trim(Manager *m, const char *container_id) {
        ExecRecord *oldest = NULL;
        unsigned n = 0;

        for (ExecRecord *x = m->execs; x; x = x->next)
                if (streq(x->container_id, container_id) && x->state == EXEC_EXITED) {
                        n++;
                        oldest = x;   /* the list is newest first */
                }
        if (n > EXECS_KEPT_MAX && oldest)
                exec_record_unlink(oldest, true);
}

static void on_exec_exited(int exit_code, void *userdata) {
        ExecRecord *x = userdata;
        bool started = x->state == EXEC_RUNNING;

        if (!started) {
                /* Failed before it ran: the start reply carried the error. */
                exec_record_unlink(x, false);
                return;
        }
        x->state = EXEC_EXITED;
        x->exit_code = exit_code;
        x->finished_usec = now_usec(CLOCK_REALTIME);
        exec_emit_changed(x);
        for (size_t i = 0; i < x->n_waiters; i++) {
                (void) sd_bus_reply_method_return(x->waiters[i]->message, "i", (int32_t) exit_code);
                caller_request_free(x->waiters[i]);
        }
        x->n_waiters = 0;
        if (x->orphaned)
                exec_record_unlink(x, true);
        else
                exec_trim(x->manager, x->container_id);
}

void container_dbus_free_execs(Manager *m) {
        while (m->execs) {
                ExecRecord *x = m->execs;

                x->n_waiters = 0;   /* their requests went with callers_free() */
                exec_record_unlink(x, false);
        }
}

/* The exec records of a removed container: those that ended go now, the
 * others once they end (their exit callback still holds them). */
static void forget_execs(Manager *m, const char *container_id) {
        for (ExecRecord *x = m->execs, *next; x; x = next) {
                next = x->next;
                if (!streq(x->container_id, container_id))
                        continue;
                if (x->state == EXEC_EXITED)
                        exec_record_unlink(x, true);
                else
                        x->orphaned = true;
        }
}

static int read_exec_options(sd_bus_message *message, EngineStdio *stdio, char ***env,
                             const char **user, const char **cwd, bool *tty, sd_bus_error *error) {
        const char *key;
        int r;

        r = sd_bus_message_enter_container(message, 'a', "{sv}");
        while (r >= 0 && (r = sd_bus_message_enter_container(message, 'e', "sv")) > 0) {
                int fd, b;
                r = sd_bus_message_read(message, "s", &key);
                if (r < 0)
                        return r;
                if (IN_SET_STR(key, "Stdin", "Stdout", "Stderr")) {
                        r = sd_bus_message_read(message, "v", "h", &fd);
                        if (r >= 0)
                                r = container_options_check_stdio(key, fd, error);
                        if (r < 0)
                                return r;
                        *(streq(key, "Stdin") ? &stdio->stdin_fd : streq(key, "Stdout") ? &stdio->stdout_fd :
                          &stdio->stderr_fd) = fd;
                        stdio->attach = true;
                } else if (streq(key, "Env")) {
                        r = sd_bus_message_enter_container(message, 'v', "as");
                        if (r >= 0)
                                r = sd_bus_message_read_strv(message, env);
                        if (r >= 0)
                                r = sd_bus_message_exit_container(message);
                } else if (streq(key, "User"))
                        r = sd_bus_message_read(message, "v", "s", user);
                else if (streq(key, "WorkingDir"))
                        r = sd_bus_message_read(message, "v", "s", cwd);
                else if (streq(key, "Tty")) {
                        r = sd_bus_message_read(message, "v", "b", &b);
                        *tty = b;
                } else
                        return sd_bus_error_setf(error, SD_BUS_ERROR_INVALID_ARGS, "Unknown exec option '%s'.", key);
                if (r >= 0)
                        r = sd_bus_message_exit_container(message);
        }
        if (r < 0)
                return r;
        return sd_bus_message_exit_container(message);
}

static int container_exec(Manager *m, Container *c, sd_bus_message *message, sd_bus_error *error) {
        EngineStdio stdio = ENGINE_STDIO_DETACHED;
        _cleanup_strv_free_ char **argv = NULL, **env = NULL;
        _cleanup_free_ char *command = NULL;
        const char *user = NULL, *cwd = NULL;
        ExecRecord *x;
        bool tty = false;
        int r;

        r = sd_bus_message_read_strv(message, &argv);
        if (r >= 0)
                r = read_exec_options(message, &stdio, &env, &user, &cwd, &tty, error);
        if (r < 0)
                return r;
        if (strv_length(argv) == 0)
                return sd_bus_error_set(error, SD_BUS_ERROR_INVALID_ARGS, "No command to execute was given.");
        command = strv_join(argv, " ");
        if (!command)
                return -ENOMEM;
        r = verify_container(message, m, c, NULL, BERTH_ACTION_EXEC, true, command, error);
        if (r <= 0)
                return r < 0 ? r : 1;
        x = calloc(1, sizeof *x);
        if (!x)
                return -ENOMEM;
        *x = (ExecRecord) { .manager = m, .id = ++m->last_exec_id, .start_request = sd_bus_message_ref(message),
                            .command = TAKE_PTR(argv), .next = m->execs };
        strcpy(x->container_id, c->id);
        m->execs = x;
        r = exec_object_path(x->id, &x->path);
        if (r < 0) {
                exec_record_unlink(x, false);
                return r;
        }
        errmsg_clear();
        r = engine_exec(m->engine, c, x->command, env, user, cwd, tty, &stdio, on_exec_started, on_exec_exited, x);
        if (r < 0) {
                exec_record_unlink(x, false);
                return container_error_now(error, r);
        }
        return 1;
}

/* The caller left: its wait goes from the exec's list. */
static void cancel_exec_wait(CallerRequest *req) {
        ExecRecord *x = req->userdata;

        for (size_t i = 0; i < x->n_waiters; i++)
                if (x->waiters[i] == req) {
                        x->waiters[i] = x->waiters[--x->n_waiters];
                        break;
                }
}

static int method_exec_wait(sd_bus_message *message, void *userdata, sd_bus_error *error) {
        ExecRecord *x = userdata;
        CallerRequest *req;
        int r;

        if (x->state == EXEC_EXITED)
                return sd_bus_reply_method_return(message, "i", (int32_t) x->exit_code);
        if (!sd_bus_message_get_expect_reply(message))
                return 1;
        if (x->n_waiters >= EXEC_WAITERS_MAX)
                return bus_error_set_errnof(error, BERTH_OBJECT_EXEC, -EAGAIN,
                                            "Too many callers wait for exec %" PRIu32 " already.", x->id);
        r = caller_request_new(x->manager, message, CALLER_REQUEST_WAIT, error, &req);
        if (r < 0)
                return r;
        req->cancel = cancel_exec_wait;
        req->userdata = x;
        x->waiters[x->n_waiters++] = req;
        return 1;
}

static int property_get_exec_state(sd_bus *bus, const char *path, const char *interface,
                                   const char *property, sd_bus_message *reply,
                                   void *userdata, sd_bus_error *error) {
        ExecRecord *x = userdata;

        return sd_bus_message_append(reply, "s", exec_state_to_string(x->state));
}

static int property_get_exec_container(sd_bus *bus, const char *path, const char *interface,
                                       const char *property, sd_bus_message *reply,
                                       void *userdata, sd_bus_error *error) {
        ExecRecord *x = userdata;
        _cleanup_free_ char *p = NULL;
        int r;

        r = container_object_path(x->container_id, &p);
        if (r < 0)
                return r;
        return sd_bus_message_append(reply, "o", p);
}

static int exec_object_find(sd_bus *bus, const char *path, const char *interface,
                            void *userdata, void **found, sd_bus_error *error) {
        Manager *m = userdata;

        if (!startswith(path, BERTH_EXEC_PATH_PREFIX "/"))
                return 0;
        for (ExecRecord *x = m->execs; x; x = x->next)
                /* Published from its start on. */
                if (x->state != EXEC_STARTING && streq(x->path, path)) {
                        *found = x;
                        return 1;
                }
        return 0;
}

static int exec_node_enumerator(sd_bus *bus, const char *path, void *userdata,
                                char ***nodes, sd_bus_error *error) {
        _cleanup_strv_free_ char **l = NULL;
        Manager *m = userdata;
        int r;

        for (ExecRecord *x = m->execs; x; x = x->next) {
                if (x->state == EXEC_STARTING)
                        continue;
                r = strv_extend(&l, x->path);
                if (r < 0)
                        return r;
        }
        *nodes = TAKE_PTR(l);
        return 1;
}

static const sd_bus_vtable exec_vtable[] = {
        SD_BUS_VTABLE_START(0),
        SD_BUS_PROPERTY("Id", "u", NULL, offsetof(ExecRecord, id), SD_BUS_VTABLE_PROPERTY_CONST),
        SD_BUS_PROPERTY("Container", "o", property_get_exec_container, 0, SD_BUS_VTABLE_PROPERTY_CONST),
        SD_BUS_PROPERTY("Command", "as", bus_property_get_strv, offsetof(ExecRecord, command),
                        SD_BUS_VTABLE_PROPERTY_CONST),
        SD_BUS_PROPERTY("State", "s", property_get_exec_state, 0, SD_BUS_VTABLE_PROPERTY_EMITS_CHANGE),
        SD_BUS_PROPERTY("ExitCode", "i", NULL, offsetof(ExecRecord, exit_code), SD_BUS_VTABLE_PROPERTY_EMITS_CHANGE),
        SD_BUS_PROPERTY("StartedAt", "t", NULL, offsetof(ExecRecord, started_usec), SD_BUS_VTABLE_PROPERTY_EMITS_CHANGE),
        SD_BUS_PROPERTY("FinishedAt", "t", NULL, offsetof(ExecRecord, finished_usec), SD_BUS_VTABLE_PROPERTY_EMITS_CHANGE),
        SD_BUS_METHOD_WITH_ARGS("Wait", SD_BUS_NO_ARGS, SD_BUS_RESULT("i", exit_code), method_exec_wait,
                                SD_BUS_VTABLE_UNPRIVILEGED),
        SD_BUS_VTABLE_END
};

/* Entrypoint and arguments joined by spaces into *buf, which grows as needed
 * and serves every row of a listing. */
static int join_command(const ContainerConfig *cfg, char **buf, size_t *size) {
        char * const *parts[] = { cfg->entrypoint, cfg->argv };
        size_t n = 0;
        int r = greedy_realloc((void **) buf, size, 1, 1);

        for (size_t i = 0; r >= 0 && i < ELEMENTSOF(parts); i++)
                STRV_FOREACH(a, parts[i]) {
                        size_t len = strlen(*a);

                        r = greedy_realloc((void **) buf, size, n + 1 + len + 1, 1);
                        if (r < 0)
                                break;
                        if (n > 0)
                                (*buf)[n++] = ' ';
                        memcpy(*buf + n, *a, len);
                        n += len;
                }
        if (r >= 0)
                (*buf)[n] = 0;
        return r;
}

/* Field by field: sd_bus_message_append() would parse the row's signature
 * again for each of a thousand rows. */
static int append_container_row(sd_bus_message *reply, const Container *c, char **cmd, size_t *cmd_size) {
        const char *strings[] = { c->id, c->name, strempty(c->image_ref), container_state_to_string(c->state) };
        const uint64_t times[] = { c->created_usec, c->started_usec, c->finished_usec };
        int32_t exit_code = c->exit_code;
        char path[sizeof(BERTH_CONTAINER_PATH_PREFIX "/") + CONTAINER_ID_LENGTH];
        int r;

        r = join_command(&c->config, cmd, cmd_size);
        if (r >= 0)
                r = sd_bus_message_open_container(reply, 'r', CONTAINER_ROW);
        for (size_t i = 0; r >= 0 && i < ELEMENTSOF(strings); i++)
                r = sd_bus_message_append_basic(reply, 's', strings[i]);
        if (r >= 0)
                r = sd_bus_message_append_basic(reply, 's', *cmd);
        for (size_t i = 0; r >= 0 && i < ELEMENTSOF(times); i++)
                r = sd_bus_message_append_basic(reply, 't', &times[i]);
        if (r >= 0)
                r = sd_bus_message_append_basic(reply, 'i', &exit_code);
        if (r >= 0) {
                snprintf(path, sizeof path, BERTH_CONTAINER_PATH_PREFIX "/%s", c->id);
                r = sd_bus_message_append_basic(reply, 'o', path);
        }
        return r < 0 ? r : sd_bus_message_close_container(reply);
}

int method_list_containers(sd_bus_message *message, void *userdata, sd_bus_error *error) {
        _cleanup_(sd_bus_message_unrefp) sd_bus_message *reply = NULL;
        _cleanup_free_ char *cmd = NULL;
        size_t cmd_size = 0;
        Manager *m = userdata;
        const char *key;
        void *value;
        size_t i = 0;
        int all, r;

        r = sd_bus_message_read(message, "b", &all);
        if (r >= 0)
                r = sd_bus_message_new_method_return(message, &reply);
        if (r >= 0)
                r = sd_bus_message_open_container(reply, 'a', "(" CONTAINER_ROW ")");
        while (r >= 0 && hashmap_iterate(engine_containers(m->engine)->by_id, &i, &key, &value)) {
                Container *c = value;
                if (all || IN_SET(c->state, CONTAINER_RUNNING, CONTAINER_PAUSED))
                        r = append_container_row(reply, c, &cmd, &cmd_size);
        }
        if (r >= 0)
                r = sd_bus_message_close_container(reply);
        if (r < 0)
                return r;
        return sd_bus_send(NULL, reply, NULL);
}

int method_get_container(sd_bus_message *message, void *userdata, sd_bus_error *error) {
        _cleanup_free_ char *path = NULL;
        Container *c;
        int r;

        r = read_and_find(message, userdata, error, &c);
        if (r < 0)
                return r;
        r = container_object_path(c->id, &path);
        if (r < 0)
                return r;
        return sd_bus_reply_method_return(message, "o", path);
}

/* Each verb twice: on the Container object, and on the Manager by name. */
#define CONTAINER_VERB(verb)                                                                            \
        static int method_##verb(sd_bus_message *message, void *userdata, sd_bus_error *error) {        \
                return container_##verb(message_manager(message), userdata, message, error);            \
        }                                                                                               \
        int method_##verb##_by_name(sd_bus_message *message, void *userdata, sd_bus_error *error) {     \
                Container *c;                                                                           \
                int r = read_and_find(message, userdata, error, &c);                                    \
                if (r < 0)                                                                              \
                        return r;                                                                       \
                return container_##verb(userdata, c, message, error);                                   \
        }

CONTAINER_VERB(start)
CONTAINER_VERB(stop)
CONTAINER_VERB(restart)
CONTAINER_VERB(kill)
CONTAINER_VERB(remove)
CONTAINER_VERB(wait)
CONTAINER_VERB(exec)
CONTAINER_VERB(pause)
CONTAINER_VERB(unpause)
CONTAINER_VERB(update)
CONTAINER_VERB(get_processes)
CONTAINER_VERB(get_stats)
CONTAINER_VERB(get_environment)

static int container_object_find(sd_bus *bus, const char *path, const char *interface,
                                 void *userdata, void **found, sd_bus_error *error) {
        const char *id = startswith(path, BERTH_CONTAINER_PATH_PREFIX "/");
        Manager *m = userdata;
        Container *c;

        if (!id || !container_id_is_valid(id))
                return 0;
        c = hashmap_get(engine_containers(m->engine)->by_id, id);
        if (!c)
                return 0;
        *found = c;
        return 1;
}

static int container_node_enumerator(sd_bus *bus, const char *path, void *userdata,
                                     char ***nodes, sd_bus_error *error) {
        _cleanup_strv_free_ char **l = NULL;
        Manager *m = userdata;
        const char *key;
        void *value;
        size_t i = 0;
        int r;

        while (hashmap_iterate(engine_containers(m->engine)->by_id, &i, &key, &value)) {
                char *p;
                r = container_object_path(key, &p);
                if (r >= 0)
                        r = strv_consume(&l, p);
                if (r < 0)
                        return r;
        }
        *nodes = TAKE_PTR(l);
        return 1;
}

static void emit_container_signal(Manager *m, Container *c, const char *member) {
        _cleanup_free_ char *path = NULL;

        if (!m->bus || container_object_path(c->id, &path) < 0)
                return;
        if (streq(member, "ContainerAdded"))
                (void) sd_bus_emit_object_added(m->bus, path);
        else
                (void) sd_bus_emit_object_removed(m->bus, path);
        (void) sd_bus_emit_signal(m->bus, BERTH_MANAGER_PATH, BERTH_MANAGER_IFACE, member, "so", c->id, path);
}

static void on_container_added(Container *c, void *userdata) {
        emit_container_signal(userdata, c, "ContainerAdded");
}

static void on_container_removed(Container *c, void *userdata) {
        forget_execs(userdata, c->id);
        emit_container_signal(userdata, c, "ContainerRemoved");
}

static void on_container_changed(Container *c, void *userdata) {
        Manager *m = userdata;
        _cleanup_free_ char *path = NULL;

        if (!m->bus || container_object_path(c->id, &path) < 0)
                return;
        (void) sd_bus_emit_properties_changed(m->bus, path, BERTH_CONTAINER_IFACE, "State", "ExitCode",
                                              "Pid", "StartedAt", "FinishedAt", "OOMKilled", "Limits",
                                              "Networks", "Ports", NULL);
}

const EngineCallbacks container_dbus_callbacks = {
        .added = on_container_added,
        .changed = on_container_changed,
        .removed = on_container_removed,
        .network_added = network_dbus_added,
        .network_changed = network_dbus_changed,
        .network_removed = network_dbus_removed,
};

#define CFG(field) (offsetof(Container, config) + offsetof(ContainerConfig, field))

static const sd_bus_vtable container_vtable[] = {
        SD_BUS_VTABLE_START(0),
        SD_BUS_PROPERTY("Id", "s", bus_property_get_string, offsetof(Container, id), SD_BUS_VTABLE_PROPERTY_CONST),
        SD_BUS_PROPERTY("Name", "s", bus_property_get_string, offsetof(Container, name), SD_BUS_VTABLE_PROPERTY_CONST),
        SD_BUS_PROPERTY("Image", "s", bus_property_get_string, offsetof(Container, image_ref), SD_BUS_VTABLE_PROPERTY_CONST),
        SD_BUS_PROPERTY("ImageId", "s", bus_property_get_string, offsetof(Container, image_id), SD_BUS_VTABLE_PROPERTY_CONST),
        SD_BUS_PROPERTY("State", "s", property_get_state, 0, SD_BUS_VTABLE_PROPERTY_EMITS_CHANGE),
        SD_BUS_PROPERTY("ExitCode", "i", NULL, offsetof(Container, exit_code), SD_BUS_VTABLE_PROPERTY_EMITS_CHANGE),
        SD_BUS_PROPERTY("Pid", "u", property_get_pid, offsetof(Container, pid), SD_BUS_VTABLE_PROPERTY_EMITS_CHANGE),
        SD_BUS_PROPERTY("Created", "t", NULL, offsetof(Container, created_usec), SD_BUS_VTABLE_PROPERTY_CONST),
        SD_BUS_PROPERTY("StartedAt", "t", NULL, offsetof(Container, started_usec), SD_BUS_VTABLE_PROPERTY_EMITS_CHANGE),
        SD_BUS_PROPERTY("FinishedAt", "t", NULL, offsetof(Container, finished_usec), SD_BUS_VTABLE_PROPERTY_EMITS_CHANGE),
        SD_BUS_PROPERTY("OOMKilled", "b", bus_property_get_bool, offsetof(Container, oom_killed), SD_BUS_VTABLE_PROPERTY_EMITS_CHANGE),
        SD_BUS_PROPERTY("Command", "as", property_get_command, 0, SD_BUS_VTABLE_PROPERTY_CONST),
        SD_BUS_PROPERTY("Unit", "s", bus_property_get_string, offsetof(Container, unit), SD_BUS_VTABLE_PROPERTY_CONST),
        SD_BUS_PROPERTY("Limits", "a{sv}", property_get_limits, 0, SD_BUS_VTABLE_PROPERTY_EMITS_CHANGE),
        SD_BUS_PROPERTY("Mounts", "a(sssb)", property_get_mounts, 0, SD_BUS_VTABLE_PROPERTY_CONST),
        SD_BUS_PROPERTY("Labels", "a{ss}", property_get_labels, 0, SD_BUS_VTABLE_PROPERTY_CONST),
        SD_BUS_PROPERTY("WorkingDir", "s", bus_property_get_string, CFG(cwd), SD_BUS_VTABLE_PROPERTY_CONST),
        SD_BUS_PROPERTY("User", "s", bus_property_get_string, CFG(user), SD_BUS_VTABLE_PROPERTY_CONST),
        SD_BUS_PROPERTY("Hostname", "s", bus_property_get_string, CFG(hostname), SD_BUS_VTABLE_PROPERTY_CONST),
        SD_BUS_PROPERTY("NetworkMode", "s", property_get_network, 0, SD_BUS_VTABLE_PROPERTY_CONST),
        SD_BUS_PROPERTY("Networks", "a(ssssssas)", property_get_networks, 0, SD_BUS_VTABLE_PROPERTY_EMITS_CHANGE),
        SD_BUS_PROPERTY("PortBindings", "a(sqqqs)", property_get_port_bindings, 0, SD_BUS_VTABLE_PROPERTY_CONST),
        SD_BUS_PROPERTY("Ports", "a(sqqs)", property_get_port_bindings, 0, SD_BUS_VTABLE_PROPERTY_EMITS_CHANGE),
        SD_BUS_PROPERTY("Tty", "b", bus_property_get_bool, CFG(tty), SD_BUS_VTABLE_PROPERTY_CONST),
        SD_BUS_PROPERTY("AutoRemove", "b", bus_property_get_bool, CFG(auto_remove), SD_BUS_VTABLE_PROPERTY_CONST),
        SD_BUS_PROPERTY("Privileged", "b", bus_property_get_bool, CFG(security.privileged), SD_BUS_VTABLE_PROPERTY_CONST),
        SD_BUS_PROPERTY("ReadOnly", "b", bus_property_get_bool, CFG(security.read_only), SD_BUS_VTABLE_PROPERTY_CONST),
        SD_BUS_PROPERTY("CapAdd", "as", bus_property_get_strv, CFG(security.cap_add), SD_BUS_VTABLE_PROPERTY_CONST),
        SD_BUS_PROPERTY("CapDrop", "as", bus_property_get_strv, CFG(security.cap_drop), SD_BUS_VTABLE_PROPERTY_CONST),
        SD_BUS_PROPERTY("StopTimeoutUSec", "t", NULL, CFG(stop_timeout_usec), SD_BUS_VTABLE_PROPERTY_CONST),

        SD_BUS_METHOD_WITH_ARGS("Start", SD_BUS_ARGS("a{sv}", options), SD_BUS_RESULT("a{sv}", result),
                                method_start, SD_BUS_VTABLE_UNPRIVILEGED),
        SD_BUS_METHOD_WITH_ARGS("Stop", SD_BUS_ARGS("t", timeout_usec), SD_BUS_NO_RESULT,
                                method_stop, SD_BUS_VTABLE_UNPRIVILEGED),
        SD_BUS_METHOD_WITH_ARGS("Restart", SD_BUS_ARGS("t", timeout_usec), SD_BUS_NO_RESULT,
                                method_restart, SD_BUS_VTABLE_UNPRIVILEGED),
        SD_BUS_METHOD_WITH_ARGS("Kill", SD_BUS_ARGS("i", signal), SD_BUS_NO_RESULT,
                                method_kill, SD_BUS_VTABLE_UNPRIVILEGED),
        SD_BUS_METHOD_WITH_ARGS("Remove", SD_BUS_ARGS("b", force), SD_BUS_NO_RESULT,
                                method_remove, SD_BUS_VTABLE_UNPRIVILEGED),
        SD_BUS_METHOD_WITH_ARGS("Wait", SD_BUS_NO_ARGS, SD_BUS_RESULT("i", exit_code),
                                method_wait, SD_BUS_VTABLE_UNPRIVILEGED),
        SD_BUS_METHOD_WITH_ARGS("Exec", SD_BUS_ARGS("as", argv, "a{sv}", options),
                                SD_BUS_RESULT("o", exec, "a{sv}", result), method_exec, SD_BUS_VTABLE_UNPRIVILEGED),
        SD_BUS_METHOD_WITH_ARGS("Pause", SD_BUS_NO_ARGS, SD_BUS_NO_RESULT, method_pause, SD_BUS_VTABLE_UNPRIVILEGED),
        SD_BUS_METHOD_WITH_ARGS("Unpause", SD_BUS_NO_ARGS, SD_BUS_NO_RESULT, method_unpause, SD_BUS_VTABLE_UNPRIVILEGED),
        SD_BUS_METHOD_WITH_ARGS("Update", SD_BUS_ARGS("a{sv}", limits), SD_BUS_NO_RESULT,
                                method_update, SD_BUS_VTABLE_UNPRIVILEGED),
        SD_BUS_METHOD_WITH_ARGS("GetProcesses", SD_BUS_NO_ARGS, SD_BUS_RESULT("a(uuus)", processes),
                                method_get_processes, SD_BUS_VTABLE_UNPRIVILEGED),
        SD_BUS_METHOD_WITH_ARGS("GetStats", SD_BUS_NO_ARGS, SD_BUS_RESULT("a{sv}", stats),
                                method_get_stats, SD_BUS_VTABLE_UNPRIVILEGED),
        SD_BUS_METHOD_WITH_ARGS("GetEnvironment", SD_BUS_NO_ARGS, SD_BUS_RESULT("as", environment),
                                method_get_environment, SD_BUS_VTABLE_UNPRIVILEGED),
        SD_BUS_VTABLE_END
};

int container_dbus_register(Manager *m) {
        int r;

        r = sd_bus_add_fallback_vtable(m->bus, NULL, BERTH_CONTAINER_PATH_PREFIX, BERTH_CONTAINER_IFACE,
                                       container_vtable, container_object_find, m);
        if (r < 0)
                return r;
        r = sd_bus_add_node_enumerator(m->bus, NULL, BERTH_CONTAINER_PATH_PREFIX, container_node_enumerator, m);
        if (r < 0)
                return r;
        r = sd_bus_add_fallback_vtable(m->bus, NULL, BERTH_EXEC_PATH_PREFIX, BERTH_EXEC_IFACE,
                                       exec_vtable, exec_object_find, m);
        if (r < 0)
                return r;
        return sd_bus_add_node_enumerator(m->bus, NULL, BERTH_EXEC_PATH_PREFIX, exec_node_enumerator, m);
}
