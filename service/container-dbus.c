/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <fcntl.h>
#include <signal.h>

#include "bus-property.h"
#include "bus-util.h"
#include "caller.h"
#include "container-dbus.h"
#include "container-options.h"
#include "log.h"
#include "manager.h"
#include "polkit.h"
#include "proc-util.h"

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

        return sd_bus_message_append(reply, "s", network_mode_to_string(c->config.network));
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

static int append_limit(sd_bus_message *reply, const char *key, uint64_t v) {
        if (v == 0)
                return 0;
        return sd_bus_message_append(reply, "{sv}", key, "t", v);
}

static int property_get_limits(sd_bus *bus, const char *path, const char *interface,
                               const char *property, sd_bus_message *reply,
                               void *userdata, sd_bus_error *error) {
        const ScopeLimits *l = &((Container *) userdata)->config.limits;
        _cleanup_free_ char *cpus = NULL;
        int r;

        r = sd_bus_message_open_container(reply, 'a', "{sv}");
        if (r >= 0) r = append_limit(reply, "MemoryMax", l->memory_max);
        if (r >= 0) r = append_limit(reply, "MemoryLow", l->memory_low);
        if (r >= 0) r = append_limit(reply, "MemorySwapMax", scope_limits_swap_max(l));
        if (r >= 0) r = append_limit(reply, "CPUQuotaPerSecUSec", l->cpu_quota_usec);
        if (r >= 0) r = append_limit(reply, "CPUWeight", l->cpu_weight);
        if (r >= 0) r = append_limit(reply, "TasksMax", l->tasks_max);
        if (r >= 0) r = append_limit(reply, "IOWeight", l->io_weight);
        if (r >= 0 && l->allowed_cpus_size > 0) {
                cpus = scope_format_cpuset(l->allowed_cpus, l->allowed_cpus_size);
                r = cpus ? sd_bus_message_append(reply, "{sv}", "AllowedCPUs", "s", cpus) : -ENOMEM;
        }
        if (r < 0)
                return r;
        return sd_bus_message_close_container(reply);
}

/* The environment carries credentials often enough that /proc shows it to
 * the process's owner alone (environ is 0400): here, root alone. The
 * property is explicit, so sd-bus leaves it out of GetAll,
 * GetManagedObjects and InterfacesAdded, which would hand it to anyone; it
 * is const, so no PropertiesChanged carries it either. */
static int property_get_env(sd_bus *bus, const char *path, const char *interface,
                            const char *property, sd_bus_message *reply,
                            void *userdata, sd_bus_error *error) {
        Container *c = userdata;
        int r;

        r = bus_message_sender_is_root(sd_bus_get_current_message(bus));
        if (r < 0)
                return r;
        if (r == 0)
                return sd_bus_error_set(error, SD_BUS_ERROR_ACCESS_DENIED,
                                        "Only root may read the environment of a container.");
        return sd_bus_message_append_strv(reply, c->config.env);
}

static int property_get_pid(sd_bus *bus, const char *path, const char *interface,
                            const char *property, sd_bus_message *reply,
                            void *userdata, sd_bus_error *error) {
        return sd_bus_message_append(reply, "u", (uint32_t) *(pid_t *) userdata);
}

int container_object_path(const char *id, char **ret) {
        *ret = strjoin(BERTH_CONTAINER_PATH_PREFIX "/", id);
        return *ret ? 0 : -ENOMEM;
}

/* Engine errors to Berth's D-Bus errors, with the engine's own sentence. */
static int container_error(sd_bus_error *error, int r, const char *fallback) {
        const char *msg = errmsg_last() ?: fallback ?: strerror(-r);

        switch (-r) {
        case EBUSY:
                return sd_bus_error_set(error, BERTH_ERROR_CONTAINER_RUNNING, msg);
        case ESRCH:
                return sd_bus_error_set(error, BERTH_ERROR_CONTAINER_NOT_RUNNING, msg);
        case EEXIST:
                return sd_bus_error_set(error, BERTH_ERROR_NAME_IN_USE, msg);
        case ENOENT:
                return sd_bus_error_set(error, BERTH_ERROR_NO_SUCH_IMAGE, msg);
        case EINVAL:
                return sd_bus_error_set(error, SD_BUS_ERROR_INVALID_ARGS, msg);
        default:
                return sd_bus_error_set_errnof(error, r, "%s", msg);
        }
}

static int find_container(Manager *m, const char *name, sd_bus_error *error, Container **ret) {
        int r = engine_find(m->engine, name, ret);

        if (r == -ENOENT)
                return sd_bus_error_setf(error, BERTH_ERROR_NO_SUCH_CONTAINER, "No such container: %s", name);
        if (r == -ENOTUNIQ)
                return sd_bus_error_setf(error, BERTH_ERROR_INVALID_REFERENCE,
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

/* polkit (until the v1 handlers carry their own checks): manage-containers,
 * and for create, start and restart of a container that is privileged
 * (container_config_is_privileged()) manage-privileged-containers too.
 * > 0: go on; 0: pending, return 1; < 0: denied. */
static int verify_container(sd_bus_message *message, Manager *m, const Container *c, const char *image,
                            bool check_privileged, sd_bus_error *error) {
        _cleanup_free_ char *binds = NULL;
        bool privileged = container_config_is_privileged(&c->config);
        int r;

        r = container_config_bind_sources(&c->config, &binds);
        if (r < 0)
                return r;
        const char *details[] = { "container", strempty(c->name), "image", strempty(image ?: c->image_ref),
                                  "privileged", privileged ? "yes" : "no", "bind-sources", binds, NULL };
        r = polkit_verify(message, BERTH_ACTION_MANAGE_CONTAINERS, details, m, error);
        if (r <= 0 || !privileged || !check_privileged)
                return r;
        return polkit_verify(message, BERTH_ACTION_PRIVILEGED_CONTAINERS, details, m, error);
}

int method_create_container(sd_bus_message *message, void *userdata, sd_bus_error *error) {
        _cleanup_free_ char *image = NULL, *path = NULL;
        Manager *m = userdata;
        Container *c = NULL, *created;
        int r;

        r = container_options_read(message, &c, &image, error);
        if (r < 0)
                return r;
        r = verify_container(message, m, c, image, true, error);
        if (r <= 0) {
                container_free(c);
                return r < 0 ? r : 1;
        }
        errmsg_clear();
        r = engine_create(m->engine, c, image, &created);
        if (r < 0)
                return container_error(error, r, NULL);
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

static void reply_started(Container *c, int r, const char *message, int pty, void *userdata) {
        _cleanup_(sd_bus_message_unrefp) sd_bus_message *request = userdata;
        _cleanup_(sd_bus_message_unrefp) sd_bus_message *reply = NULL;
        _cleanup_(sd_bus_error_free) sd_bus_error error = SD_BUS_ERROR_NULL;
        _cleanup_close_ int pty_fd = pty;

        if (r < 0) {
                /* The name tells the client Docker's exit code: 127, 126 or 125. */
                int code = c ? c->exit_code : CONTAINER_EXIT_CODE_ENGINE;
                (void) sd_bus_error_set(&error, code == 127 ? BERTH_ERROR_COMMAND_NOT_FOUND :
                                        code == 126 ? BERTH_ERROR_COMMAND_NOT_EXECUTABLE :
                                        BERTH_ERROR_START_FAILED, message ?: strerror(-r));
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

int method_start_container(sd_bus_message *message, void *userdata, sd_bus_error *error) {
        EngineStdio stdio = ENGINE_STDIO_DETACHED;
        Manager *m = userdata;
        Container *c;
        int r;

        r = read_and_find(message, m, error, &c);
        if (r < 0)
                return r;
        r = read_start_options(message, &stdio, error);
        if (r < 0)
                return r;
        r = verify_container(message, m, c, NULL, true, error);
        if (r <= 0)
                return r < 0 ? r : 1;
        errmsg_clear();
        r = engine_start(m->engine, c, &stdio, reply_started, sd_bus_message_ref(message));
        if (r < 0) {
                sd_bus_message_unref(message);
                return container_error(error, r, NULL);
        }
        return 1;
}

/* The exit code goes to the caller of RunContainer alone, before a --rm
 * container is removed: a WaitContainer sent after the reply could come
 * too late to find it. */
static void notify_run_exited(Container *c, int r, const char *message, int pty, void *userdata) {
        _cleanup_(sd_bus_message_unrefp) sd_bus_message *request = userdata, *signal = NULL;

        safe_close(pty);
        if (r < 0 || !c)
                return;
        r = sd_bus_message_new_signal(sd_bus_message_get_bus(request), &signal, BERTH_MANAGER_PATH,
                                      BERTH_MANAGER_IFACE, "RunExited");
        if (r >= 0)
                r = sd_bus_message_set_destination(signal, sd_bus_message_get_sender(request));
        if (r >= 0)
                r = sd_bus_message_append(signal, "si", c->id, (int32_t) c->exit_code);
        if (r >= 0)
                r = sd_bus_send(NULL, signal, NULL);
        if (r < 0)
                log_debug_errno(r, "Cannot send RunExited for %s: %m", c->name);
}

int method_run_container(sd_bus_message *message, void *userdata, sd_bus_error *error) {
        EngineStdio stdio = ENGINE_STDIO_DETACHED;
        _cleanup_free_ char *image = NULL;
        Manager *m = userdata;
        Container *c = NULL, *created = NULL;
        int r;

        r = container_options_read(message, &c, &image, error);
        if (r >= 0)
                r = read_start_options(message, &stdio, error);
        if (r >= 0)
                r = verify_container(message, m, c, image, true, error);
        if (r <= 0) {
                container_free(c);
                return r < 0 ? r : 1;
        }
        errmsg_clear();
        r = engine_run(m->engine, c, image, &stdio, reply_started, sd_bus_message_ref(message), &created);
        if (r < 0) {
                sd_bus_message_unref(message);
                return container_error(error, r, NULL);
        }
        if (stdio.attach && engine_wait(m->engine, created, notify_run_exited, sd_bus_message_ref(message), NULL) < 0)
                sd_bus_message_unref(message);
        return 1;
}

static uint64_t timeout_from_seconds(int32_t t) {
        return t < 0 ? UINT64_MAX : (uint64_t) t * 1000000ULL;
}

int method_stop_container(sd_bus_message *message, void *userdata, sd_bus_error *error) {
        Manager *m = userdata;
        Container *c;
        int32_t timeout;
        int r;

        r = read_and_find(message, m, error, &c);
        if (r >= 0)
                r = sd_bus_message_read(message, "i", &timeout);
        if (r < 0)
                return r;
        r = verify_container(message, m, c, NULL, false, error);
        if (r <= 0)
                return r < 0 ? r : 1;
        errmsg_clear();
        r = engine_stop(m->engine, c, timeout_from_seconds(timeout), reply_done, sd_bus_message_ref(message));
        if (r < 0) {
                sd_bus_message_unref(message);
                return container_error(error, r, NULL);
        }
        return 1;
}

int method_restart_container(sd_bus_message *message, void *userdata, sd_bus_error *error) {
        Manager *m = userdata;
        Container *c;
        int32_t timeout;
        int r;

        r = read_and_find(message, m, error, &c);
        if (r >= 0)
                r = sd_bus_message_read(message, "i", &timeout);
        if (r < 0)
                return r;
        r = verify_container(message, m, c, NULL, true, error);
        if (r <= 0)
                return r < 0 ? r : 1;
        errmsg_clear();
        r = engine_restart(m->engine, c, timeout_from_seconds(timeout), reply_done, sd_bus_message_ref(message));
        if (r < 0) {
                sd_bus_message_unref(message);
                return container_error(error, r, NULL);
        }
        return 1;
}

int method_kill_container(sd_bus_message *message, void *userdata, sd_bus_error *error) {
        Manager *m = userdata;
        const char *signame;
        Container *c;
        int sig, r;

        r = read_and_find(message, m, error, &c);
        if (r >= 0)
                r = sd_bus_message_read(message, "s", &signame);
        if (r < 0)
                return r;
        sig = isempty(signame) ? SIGKILL : signal_from_string(signame);
        if (sig < 0)
                return sd_bus_error_setf(error, SD_BUS_ERROR_INVALID_ARGS, "Unknown signal '%s'.", signame);
        r = verify_container(message, m, c, NULL, false, error);
        if (r <= 0)
                return r < 0 ? r : 1;
        errmsg_clear();
        r = engine_kill(m->engine, c, sig);
        if (r < 0)
                return container_error(error, r, NULL);
        return sd_bus_reply_method_return(message, NULL);
}

int method_remove_container(sd_bus_message *message, void *userdata, sd_bus_error *error) {
        Manager *m = userdata;
        Container *c;
        int force, r;

        r = read_and_find(message, m, error, &c);
        if (r >= 0)
                r = sd_bus_message_read(message, "b", &force);
        if (r < 0)
                return r;
        r = verify_container(message, m, c, NULL, false, error);
        if (r <= 0)
                return r < 0 ? r : 1;
        errmsg_clear();
        r = engine_remove(m->engine, c, force, reply_done, sd_bus_message_ref(message));
        if (r < 0) {
                sd_bus_message_unref(message);
                return container_error(error, r, NULL);
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
        Container *c = hashmap_get(engine_registry(e)->by_id, req->container_id);

        if (c)
                engine_wait_cancel(e, c, req->userdata);
}

int method_wait_container(sd_bus_message *message, void *userdata, sd_bus_error *error) {
        Manager *m = userdata;
        CallerRequest *req;
        Container *c;
        Waiter *w;
        int r;

        r = read_and_find(message, m, error, &c);
        if (r < 0)
                return r;
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

/* An exec's exit code is kept until somebody asks for it with WaitExec, or
 * until its container is removed (as Docker drops a container's execs). */
typedef struct ExecRecord {
        Manager *manager;
        uint32_t id;
        char container_id[CONTAINER_ID_LENGTH + 1];
        bool exited;
        bool started;
        bool orphaned;           /* its container is gone: nobody may ask any more */
        int exit_code;
        sd_bus_message *waiter;
        sd_bus_message *start_request;
        struct ExecRecord *next;
} ExecRecord;

static void exec_record_unlink(ExecRecord *x) {
        for (ExecRecord **p = (ExecRecord **) &x->manager->execs; *p; p = &(*p)->next)
                if (*p == x) {
                        *p = x->next;
                        break;
                }
        sd_bus_message_unref(x->waiter);
        sd_bus_message_unref(x->start_request);
        free(x);
}

static void on_exec_started(Container *c, int r, const char *message, int pty, void *userdata) {
        ExecRecord *x = userdata;
        _cleanup_(sd_bus_message_unrefp) sd_bus_message *reply = NULL;
        _cleanup_(sd_bus_error_free) sd_bus_error error = SD_BUS_ERROR_NULL;
        _cleanup_close_ int pty_fd = pty;
        sd_bus_message *request = TAKE_PTR(x->start_request);

        if (r < 0) {
                (void) sd_bus_error_set(&error, BERTH_ERROR_START_FAILED, message ?: strerror(-r));
                (void) sd_bus_reply_method_error(request, &error);
                sd_bus_message_unref(request);
                return;
        }
        x->started = true;
        r = sd_bus_message_new_method_return(request, &reply);
        if (r >= 0)
                r = sd_bus_message_append(reply, "u", x->id);
        if (r >= 0)
                r = sd_bus_message_open_container(reply, 'a', "{sv}");
        if (r >= 0 && pty_fd >= 0)
                r = sd_bus_message_append(reply, "{sv}", "Terminal", "h", pty_fd);
        if (r >= 0)
                r = sd_bus_message_close_container(reply);
        if (r >= 0)
                (void) sd_bus_send(NULL, reply, NULL);
        sd_bus_message_unref(request);
}

static void on_exec_exited(int exit_code, void *userdata) {
        ExecRecord *x = userdata;

        x->exited = true;
        x->exit_code = exit_code;
        if (!x->started) {
                /* Failed before it ran: the start reply carried the error. */
                exec_record_unlink(x);
                return;
        }
        if (x->waiter) {
                (void) sd_bus_reply_method_return(x->waiter, "i", (int32_t) exit_code);
                exec_record_unlink(x);
        } else if (x->orphaned)
                exec_record_unlink(x);
}

/* The exec records of a removed container: those that ended go now, the
 * others once they end (their exit callback still holds them). */
static void forget_execs(Manager *m, const char *container_id) {
        for (ExecRecord *x = m->execs, *next; x; x = next) {
                next = x->next;
                if (!streq(x->container_id, container_id) || x->waiter)
                        continue;
                if (x->exited)
                        exec_record_unlink(x);
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

int method_exec_container(sd_bus_message *message, void *userdata, sd_bus_error *error) {
        EngineStdio stdio = ENGINE_STDIO_DETACHED;
        _cleanup_strv_free_ char **argv = NULL, **env = NULL;
        const char *user = NULL, *cwd = NULL;
        Manager *m = userdata;
        ExecRecord *x;
        bool tty = false;
        Container *c;
        int r;

        r = read_and_find(message, m, error, &c);
        if (r >= 0)
                r = sd_bus_message_read_strv(message, &argv);
        if (r >= 0)
                r = read_exec_options(message, &stdio, &env, &user, &cwd, &tty, error);
        if (r < 0)
                return r;
        if (strv_length(argv) == 0)
                return sd_bus_error_set(error, SD_BUS_ERROR_INVALID_ARGS, "No command to execute was given.");
        x = calloc(1, sizeof *x);
        if (!x)
                return -ENOMEM;
        *x = (ExecRecord) { .manager = m, .id = ++m->last_exec_id, .start_request = sd_bus_message_ref(message),
                            .next = m->execs };
        strcpy(x->container_id, c->id);
        m->execs = x;
        errmsg_clear();
        r = engine_exec(m->engine, c, argv, env, user, cwd, tty, &stdio, on_exec_started, on_exec_exited, x);
        if (r < 0) {
                exec_record_unlink(x);
                return container_error(error, r, NULL);
        }
        return 1;
}

int method_wait_exec(sd_bus_message *message, void *userdata, sd_bus_error *error) {
        Manager *m = userdata;
        uint32_t id;
        int r;

        r = sd_bus_message_read(message, "u", &id);
        if (r < 0)
                return r;
        for (ExecRecord *x = m->execs; x; x = x->next) {
                if (x->id != id)
                        continue;
                if (x->exited) {
                        r = sd_bus_reply_method_return(message, "i", (int32_t) x->exit_code);
                        exec_record_unlink(x);
                        return r;
                }
                if (x->waiter)
                        return sd_bus_error_setf(error, BERTH_ERROR_BUSY, "Somebody waits for exec %u already.", id);
                x->waiter = sd_bus_message_ref(message);
                return 1;
        }
        return sd_bus_error_setf(error, SD_BUS_ERROR_INVALID_ARGS, "No such exec: %u", id);
}

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
        int r;

        r = join_command(&c->config, cmd, cmd_size);
        if (r >= 0)
                r = sd_bus_message_open_container(reply, 'r', "sssssttti");
        for (size_t i = 0; r >= 0 && i < ELEMENTSOF(strings); i++)
                r = sd_bus_message_append_basic(reply, 's', strings[i]);
        if (r >= 0)
                r = sd_bus_message_append_basic(reply, 's', *cmd);
        for (size_t i = 0; r >= 0 && i < ELEMENTSOF(times); i++)
                r = sd_bus_message_append_basic(reply, 't', &times[i]);
        if (r >= 0)
                r = sd_bus_message_append_basic(reply, 'i', &exit_code);
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
                r = sd_bus_message_open_container(reply, 'a', "(sssssttti)");
        while (r >= 0 && hashmap_iterate(engine_registry(m->engine)->by_id, &i, &key, &value)) {
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

int method_update_container(sd_bus_message *message, void *userdata, sd_bus_error *error) {
        _cleanup_(scope_limits_done) ScopeLimits update = {};
        Manager *m = userdata;
        Container *c;
        int r;

        r = read_and_find(message, m, error, &c);
        if (r >= 0)
                r = container_options_read_limits(message, &update, error);
        if (r < 0)
                return r;
        errmsg_clear();
        r = engine_update(m->engine, c, &update, reply_done, sd_bus_message_ref(message));
        if (r < 0) {
                sd_bus_message_unref(message);
                return container_error(error, r, NULL);
        }
        return 1;
}

static int pause_or_unpause(sd_bus_message *message, Manager *m, bool pause, sd_bus_error *error) {
        Container *c;
        int r;

        r = read_and_find(message, m, error, &c);
        if (r < 0)
                return r;
        errmsg_clear();
        r = engine_pause(m->engine, c, pause, reply_done, sd_bus_message_ref(message));
        if (r < 0) {
                sd_bus_message_unref(message);
                return container_error(error, r, NULL);
        }
        return 1;
}

int method_pause_container(sd_bus_message *message, void *userdata, sd_bus_error *error) {
        return pause_or_unpause(message, userdata, true, error);
}

int method_unpause_container(sd_bus_message *message, void *userdata, sd_bus_error *error) {
        return pause_or_unpause(message, userdata, false, error);
}

/* What one ContainerProcesses answer may cost: the container decides how
 * many processes it has and how long their command lines are. */
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

int method_container_processes(sd_bus_message *message, void *userdata, sd_bus_error *error) {
        Manager *m = userdata;
        CallerRequest *req;
        Container *c;
        int r;

        r = read_and_find(message, m, error, &c);
        if (r < 0)
                return r;
        if (!IN_SET(c->state, CONTAINER_RUNNING, CONTAINER_PAUSED))
                return sd_bus_error_setf(error, BERTH_ERROR_CONTAINER_NOT_RUNNING, "Container %s is not running.", c->name);
        r = caller_request_new(m, message, CALLER_REQUEST_QUERY, error, &req);
        if (r < 0)
                return r;
        r = scope_get_pids(m->bus, c->unit, reply_processes, req, &req->slot);
        if (r < 0) {
                caller_request_free(req);
                return sd_bus_error_set_errnof(error, r, "Cannot list the processes of %s: %m", c->unit);
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

int method_container_stats(sd_bus_message *message, void *userdata, sd_bus_error *error) {
        Manager *m = userdata;
        CallerRequest *req;
        Container *c;
        int r;

        r = read_and_find(message, m, error, &c);
        if (r < 0)
                return r;
        if (!IN_SET(c->state, CONTAINER_RUNNING, CONTAINER_PAUSED))
                return sd_bus_error_setf(error, BERTH_ERROR_CONTAINER_NOT_RUNNING, "Container %s is not running.", c->name);
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

static int container_object_find(sd_bus *bus, const char *path, const char *interface,
                                 void *userdata, void **found, sd_bus_error *error) {
        const char *id = startswith(path, BERTH_CONTAINER_PATH_PREFIX "/");
        Manager *m = userdata;
        Container *c;

        if (!id || !container_id_is_valid(id))
                return 0;
        c = hashmap_get(engine_registry(m->engine)->by_id, id);
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

        while (hashmap_iterate(engine_registry(m->engine)->by_id, &i, &key, &value)) {
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
                                              "Pid", "StartedAt", "FinishedAt", "OOMKilled", "Limits", NULL);
}

const EngineCallbacks container_dbus_callbacks = {
        .added = on_container_added,
        .changed = on_container_changed,
        .removed = on_container_removed,
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
        SD_BUS_PROPERTY("Env", "as", property_get_env, 0,
                        SD_BUS_VTABLE_PROPERTY_CONST | SD_BUS_VTABLE_PROPERTY_EXPLICIT),
        SD_BUS_PROPERTY("WorkingDir", "s", bus_property_get_string, CFG(cwd), SD_BUS_VTABLE_PROPERTY_CONST),
        SD_BUS_PROPERTY("User", "s", bus_property_get_string, CFG(user), SD_BUS_VTABLE_PROPERTY_CONST),
        SD_BUS_PROPERTY("Hostname", "s", bus_property_get_string, CFG(hostname), SD_BUS_VTABLE_PROPERTY_CONST),
        SD_BUS_PROPERTY("NetworkMode", "s", property_get_network, 0, SD_BUS_VTABLE_PROPERTY_CONST),
        SD_BUS_PROPERTY("Tty", "b", bus_property_get_bool, CFG(tty), SD_BUS_VTABLE_PROPERTY_CONST),
        SD_BUS_PROPERTY("AutoRemove", "b", bus_property_get_bool, CFG(auto_remove), SD_BUS_VTABLE_PROPERTY_CONST),
        SD_BUS_PROPERTY("Privileged", "b", bus_property_get_bool, CFG(security.privileged), SD_BUS_VTABLE_PROPERTY_CONST),
        SD_BUS_PROPERTY("ReadOnly", "b", bus_property_get_bool, CFG(security.read_only), SD_BUS_VTABLE_PROPERTY_CONST),
        SD_BUS_PROPERTY("CapAdd", "as", bus_property_get_strv, CFG(security.cap_add), SD_BUS_VTABLE_PROPERTY_CONST),
        SD_BUS_PROPERTY("CapDrop", "as", bus_property_get_strv, CFG(security.cap_drop), SD_BUS_VTABLE_PROPERTY_CONST),
        SD_BUS_VTABLE_END
};

int container_dbus_register(Manager *m) {
        int r;

        r = sd_bus_add_fallback_vtable(m->bus, NULL, BERTH_CONTAINER_PATH_PREFIX, BERTH_CONTAINER_IFACE,
                                       container_vtable, container_object_find, m);
        if (r < 0)
                return r;
        return sd_bus_add_node_enumerator(m->bus, NULL, BERTH_CONTAINER_PATH_PREFIX, container_node_enumerator, m);
}
