/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <getopt.h>
#include <signal.h>

#include "berthctl.h"
#include "bus-util.h"

static int new_call(sd_bus *bus, const char *member, sd_bus_message **ret) {
        int r = sd_bus_message_new_method_call(bus, ret, BERTH_BUS_NAME, BERTH_MANAGER_PATH,
                                               BERTH_MANAGER_IFACE, member);
        return r < 0 ? ctl_call_failed(member, NULL, r) : 0;
}

static int create_container(sd_bus *bus, const CreateRequest *q, char **ret_id) {
        _cleanup_(sd_bus_error_free) sd_bus_error error = SD_BUS_ERROR_NULL;
        _cleanup_(sd_bus_message_unrefp) sd_bus_message *m = NULL, *reply = NULL;
        const char *id;
        int r;

        r = new_call(bus, "CreateContainer", &m);
        if (r < 0)
                return r;
        r = create_request_append(m, q);
        if (r < 0)
                return ctl_call_failed("create", NULL, r);
        r = sd_bus_call(bus, m, UINT64_MAX, &error, &reply);
        if (r >= 0)
                r = sd_bus_message_read(reply, "s", &id);
        if (r < 0)
                return ctl_call_failed("create", &error, r);
        *ret_id = strdup(id);
        return *ret_id ? 0 : ctl_oom();
}

/* Attached: the container gets our stdout and stderr (and stdin with -i),
 * or pipes we relay to them (ctl-stdio.c); with -t a terminal whose master
 * comes back to us, and none of ours. Without -i its stdin is /dev/null. */
static int append_attach_options(sd_bus_message *m, bool interactive, bool tty, CtlStdio **ret_stdio) {
        int r = 0;

        *ret_stdio = NULL;
        if (!tty)
                r = ctl_stdio_new(interactive, ret_stdio);
        if (r >= 0)
                r = sd_bus_message_open_container(m, 'a', "{sv}");
        if (r >= 0)
                r = sd_bus_message_append(m, "{sv}", "Attach", "b", 1);
        if (r >= 0 && *ret_stdio)
                r = ctl_stdio_append(*ret_stdio, m);
        return r < 0 ? r : sd_bus_message_close_container(m);
}

static int start_attached(sd_bus *bus, const char *id, bool interactive, bool tty, int *ret_exit_status) {
        _cleanup_(sd_bus_message_unrefp) sd_bus_message *m = NULL;
        _cleanup_(ctl_stdio_freep) CtlStdio *io = NULL;
        int r;

        r = new_call(bus, "StartContainer", &m);
        if (r < 0)
                return r;
        r = sd_bus_message_append(m, "s", id);
        if (r >= 0)
                r = append_attach_options(m, interactive, tty, &io);
        if (r < 0)
                return ctl_call_failed("start", NULL, r);
        return ctl_start_and_wait(bus, TAKE_PTR(m), io, id, CTL_START_CONTAINER, interactive, ret_exit_status);
}

/* One call makes and starts it: berthd overlaps the creation's disk flushes
 * with systemd's work on the scope. */
static int run_attached(sd_bus *bus, const CreateRequest *q, int *ret_exit_status) {
        _cleanup_(sd_bus_message_unrefp) sd_bus_message *m = NULL;
        _cleanup_(ctl_stdio_freep) CtlStdio *io = NULL;
        int r;

        r = new_call(bus, "RunContainer", &m);
        if (r < 0)
                return r;
        r = create_request_append(m, q);
        if (r >= 0)
                r = append_attach_options(m, q->interactive, q->tty, &io);
        if (r < 0)
                return ctl_call_failed("run", NULL, r);
        return ctl_start_and_wait(bus, TAKE_PTR(m), io, NULL, CTL_START_RUN, q->interactive, ret_exit_status);
}

/* Returns 0 with *ret_exit_status 0 when the container started, 126 or 127
 * when its command could not be executed (said so). */
static int start_detached(sd_bus *bus, const char *id, int *ret_exit_status) {
        _cleanup_(sd_bus_error_free) sd_bus_error error = SD_BUS_ERROR_NULL;
        _cleanup_(sd_bus_message_unrefp) sd_bus_message *m = NULL;
        int r, status;

        r = new_call(bus, "StartContainer", &m);
        if (r < 0)
                return r;
        r = sd_bus_message_append(m, "sa{sv}", id, 0);
        if (r < 0)
                return ctl_call_failed("start", NULL, r);
        r = sd_bus_call(bus, m, UINT64_MAX, &error, NULL);
        status = ctl_start_error_exit_status(&error);
        if (r >= 0 || status > 0) {
                if (r < 0)
                        fprintf(stderr, "Error: %s\n", ctl_escape(error.message ?: error.name));
                *ret_exit_status = r >= 0 ? 0 : status;
                return 0;
        }
        /* berthd's own sentence as it is, else what the bus said. */
        if (sd_bus_error_is_set(&error) && startswith(error.name, "org.berth.Berth1.Error.")) {
                fprintf(stderr, "Error: %s\n", ctl_escape(error.message ?: error.name));
                return r;
        }
        return ctl_call_failed("start", &error, r);
}

int verb_create(int argc, char *argv[]) {
        _cleanup_(sd_bus_flush_close_unrefp) sd_bus *bus = NULL;
        _cleanup_(create_request_done) CreateRequest q = {};
        _cleanup_free_ char *id = NULL;
        int r;

        r = create_request_parse(argc, argv, &q);
        if (r < 0)
                return r;
        r = ctl_connect(&bus);
        if (r >= 0)
                r = create_request_pull(bus, &q);
        if (r >= 0)
                r = create_container(bus, &q, &id);
        if (r < 0)
                return r;
        printf("%s\n", id);
        return 0;
}

int verb_run(int argc, char *argv[], int *ret_exit_status) {
        _cleanup_(sd_bus_flush_close_unrefp) sd_bus *bus = NULL;
        _cleanup_(create_request_done) CreateRequest q = {};
        _cleanup_free_ char *id = NULL;
        int r, status;

        r = create_request_parse(argc, argv, &q);
        if (r < 0)
                return r;
        r = ctl_connect(&bus);
        if (r >= 0)
                r = create_request_pull(bus, &q);
        if (r < 0)
                return r;
        if (!q.detach)
                return run_attached(bus, &q, ret_exit_status);
        r = create_container(bus, &q, &id);
        if (r >= 0)
                r = start_detached(bus, id, &status);
        if (r < 0)
                return r;
        if (status == 0)
                printf("%s\n", id);
        *ret_exit_status = status;
        return 0;
}

int verb_start(int argc, char *argv[], int *ret_exit_status) {
        static const struct option options[] = {
                { "attach", no_argument, NULL, 'a' },
                { "interactive", no_argument, NULL, 'i' },
                {}
        };
        _cleanup_(sd_bus_flush_close_unrefp) sd_bus *bus = NULL;
        bool attach = false, interactive = false;
        int c, r, ret = 0, status = 0;

        while ((c = getopt_long(argc, argv, "ai", options, NULL)) >= 0)
                switch (c) {
                case 'a': attach = true; break;
                case 'i': interactive = true; break;
                default: return -EINVAL;
                }
        if (optind >= argc || (attach && argc - optind > 1)) {
                fprintf(stderr, "Usage: berthctl start [-a] [-i] CONTAINER...\n");
                return -EINVAL;
        }
        r = ctl_connect(&bus);
        if (r < 0)
                return r;
        if (attach)
                return start_attached(bus, argv[optind], interactive, false, ret_exit_status);
        /* Every container is tried; a failure of berthd's outweighs a
         * command that could not be executed. */
        for (int i = optind; i < argc; i++) {
                int s = 0;

                r = start_detached(bus, argv[i], &s);
                if (r < 0)
                        ret = r;
                else if (s > 0)
                        status = s;
                else
                        printf("%s\n", argv[i]);
        }
        if (ret < 0)
                return ret;
        *ret_exit_status = status;
        return 0;
}

/* Runs member(name, extra...) for every name, printing each that worked. */
static int for_each_container(int argc, char *argv[], int first, const char *member, const char *types,
                              const void *extra) {
        _cleanup_(sd_bus_flush_close_unrefp) sd_bus *bus = NULL;
        int r, ret = 0;

        if (first >= argc) {
                fprintf(stderr, "\"berthctl %s\" requires at least 1 argument: CONTAINER...\n", argv[0]);
                return -EINVAL;
        }
        r = ctl_connect(&bus);
        if (r < 0)
                return r;
        for (int i = first; i < argc; i++) {
                if (streq(types, "s"))
                        r = ctl_call(bus, member, NULL, "s", argv[i]);
                else if (streq(types, "si"))
                        r = ctl_call(bus, member, NULL, "si", argv[i], *(const int32_t *) extra);
                else if (streq(types, "st"))
                        r = ctl_call(bus, member, NULL, "st", argv[i], *(const uint64_t *) extra);
                else
                        r = ctl_call(bus, member, NULL, "sb", argv[i], *(const int *) extra);
                if (r < 0)
                        ret = r;
                else
                        printf("%s\n", argv[i]);
        }
        return ret;
}

/* --time in whole seconds, as Docker; the API takes µs (UINT64_MAX: the
 * container's own stop timeout). */
static int parse_time_option(int argc, char *argv[], uint64_t *ret) {
        static const struct option options[] = {
                { "time", required_argument, NULL, 't' },
                {}
        };
        int c, t;

        *ret = UINT64_MAX;
        while ((c = getopt_long(argc, argv, "t:", options, NULL)) >= 0) {
                if (c != 't' || safe_atoi(optarg, &t) < 0 || t < 0) {
                        fprintf(stderr, "Invalid --time: give whole seconds.\n");
                        return -EINVAL;
                }
                *ret = (uint64_t) t * USEC_PER_SEC;
        }
        return 0;
}

int verb_stop(int argc, char *argv[]) {
        uint64_t t;
        int r;

        r = parse_time_option(argc, argv, &t);
        if (r < 0)
                return r;
        return for_each_container(argc, argv, optind, "StopContainer", "st", &t);
}

int verb_restart(int argc, char *argv[]) {
        uint64_t t;
        int r;

        r = parse_time_option(argc, argv, &t);
        if (r < 0)
                return r;
        return for_each_container(argc, argv, optind, "RestartContainer", "st", &t);
}

int verb_kill(int argc, char *argv[]) {
        static const struct option options[] = {
                { "signal", required_argument, NULL, 's' },
                {}
        };
        int32_t sig = SIGKILL;
        int c;

        while ((c = getopt_long(argc, argv, "s:", options, NULL)) >= 0) {
                if (c != 's')
                        return -EINVAL;
                sig = signal_from_string(optarg);
                if (sig <= 0) {
                        fprintf(stderr, "Invalid signal: %s\n", ctl_escape(optarg));
                        return -EINVAL;
                }
        }
        return for_each_container(argc, argv, optind, "KillContainer", "si", &sig);
}

int verb_rm(int argc, char *argv[]) {
        static const struct option options[] = {
                { "force", no_argument, NULL, 'f' },
                { "volumes", no_argument, NULL, 'v' },
                {}
        };
        int c, force = false;

        while ((c = getopt_long(argc, argv, "fv", options, NULL)) >= 0) {
                if (c == 'f')
                        force = true;
                else if (c != 'v')
                        return -EINVAL;
        }
        return for_each_container(argc, argv, optind, "RemoveContainer", "sb", &force);
}

int verb_pause(int argc, char *argv[]) {
        return for_each_container(argc, argv, 1, "PauseContainer", "s", NULL);
}

int verb_unpause(int argc, char *argv[]) {
        return for_each_container(argc, argv, 1, "UnpauseContainer", "s", NULL);
}

int verb_wait(int argc, char *argv[]) {
        _cleanup_(sd_bus_flush_close_unrefp) sd_bus *bus = NULL;
        int r, ret = 0;

        if (argc < 2) {
                fprintf(stderr, "\"berthctl wait\" requires at least 1 argument: CONTAINER...\n");
                return -EINVAL;
        }
        r = ctl_connect(&bus);
        if (r < 0)
                return r;
        for (int i = 1; i < argc; i++) {
                _cleanup_(sd_bus_message_unrefp) sd_bus_message *reply = NULL;
                int32_t code;

                r = ctl_call(bus, "WaitContainer", &reply, "s", argv[i]);
                if (r >= 0) {
                        r = sd_bus_message_read(reply, "i", &code);
                        if (r < 0)
                                r = ctl_bad_reply(r);
                }
                if (r < 0)
                        ret = r;
                else
                        printf("%d\n", code);
        }
        return ret;
}

static int update_one(sd_bus *bus, const char *name, const ScopeLimits *limits) {
        _cleanup_(sd_bus_error_free) sd_bus_error error = SD_BUS_ERROR_NULL;
        _cleanup_(sd_bus_message_unrefp) sd_bus_message *m = NULL;
        int r;

        r = new_call(bus, "UpdateContainer", &m);
        if (r < 0)
                return r;
        r = sd_bus_message_append(m, "s", name);
        if (r >= 0)
                r = bus_append_limits(m, limits);
        if (r < 0)   /* the request could not be built: nothing was sent */
                return ctl_call_failed("update", NULL, r);
        r = sd_bus_call(bus, m, UINT64_MAX, &error, NULL);
        if (r < 0)
                return ctl_call_failed("update", &error, r);
        return 0;
}

int verb_update(int argc, char *argv[]) {
        static const struct option options[] = {
                { "memory", required_argument, NULL, 'm' },
                { "memory-reservation", required_argument, NULL, 0 },
                { "memory-swap", required_argument, NULL, 0 },
                { "cpus", required_argument, NULL, 0 },
                { "cpu-shares", required_argument, NULL, 'c' },
                { "cpuset-cpus", required_argument, NULL, 0 },
                { "pids-limit", required_argument, NULL, 0 },
                { "blkio-weight", required_argument, NULL, 0 },
                {}
        };
        _cleanup_(sd_bus_flush_close_unrefp) sd_bus *bus = NULL;
        _cleanup_strv_free_ char **limits = NULL;
        _cleanup_(scope_limits_done) ScopeLimits typed = {};
        int c, idx, r, ret = 0;

        while ((c = getopt_long(argc, argv, "m:c:", options, &idx)) >= 0) {
                const char *flag = c == 'm' ? "memory" : c == 'c' ? "cpu-shares" : c == 0 ? options[idx].name : NULL;
                if (!flag)
                        return -EINVAL;
                if (strv_extend(&limits, flag) < 0 || strv_extend(&limits, optarg) < 0)
                        return ctl_oom();
        }
        if (optind >= argc || !limits) {
                fprintf(stderr, "Usage: berthctl update [--memory M] [--cpus N] [--pids-limit N] ... CONTAINER...\n");
                return -EINVAL;
        }
        r = ctl_parse_limits(limits, &typed);
        if (r < 0)
                return r;
        r = ctl_connect(&bus);
        if (r < 0)
                return r;
        for (int i = optind; i < argc; i++) {
                r = update_one(bus, argv[i], &typed);
                if (r < 0)
                        ret = r;
                else
                        printf("%s\n", argv[i]);
        }
        return ret;
}

typedef struct ExecRequest {
        bool interactive, tty, detach;
        const char *user, *workdir;
        char **env;
} ExecRequest;

static void exec_request_done(ExecRequest *x) {
        x->env = strv_free(x->env);
}

static int exec_parse(int argc, char *argv[], ExecRequest *x) {
        static const struct option options[] = {
                { "interactive", no_argument, NULL, 'i' },
                { "tty", no_argument, NULL, 't' },
                { "detach", no_argument, NULL, 'd' },
                { "env", required_argument, NULL, 'e' },
                { "user", required_argument, NULL, 'u' },
                { "workdir", required_argument, NULL, 'w' },
                {}
        };
        int c;

        while ((c = getopt_long(argc, argv, "+itde:u:w:", options, NULL)) >= 0)
                switch (c) {
                case 'i': x->interactive = true; break;
                case 't': x->tty = true; break;
                case 'd': x->detach = true; break;
                case 'u': x->user = optarg; break;
                case 'w': x->workdir = optarg; break;
                case 'e':
                        if (strv_extend(&x->env, optarg) < 0)
                                return ctl_oom();
                        break;
                default: return -EINVAL;
                }
        if (argc - optind < 2) {
                fprintf(stderr, "Usage: berthctl exec [-i] [-t] [-e K=V] [-u USER] [-w DIR] CONTAINER COMMAND [ARG...]\n");
                return -EINVAL;
        }
        return optind;
}

static int exec_append_options(sd_bus_message *m, const ExecRequest *x, CtlStdio **ret_stdio) {
        int r = 0;

        *ret_stdio = NULL;
        if (!x->tty && !x->detach)
                r = ctl_stdio_new(x->interactive, ret_stdio);
        if (r >= 0)
                r = sd_bus_message_open_container(m, 'a', "{sv}");
        if (r >= 0 && *ret_stdio)
                r = ctl_stdio_append(*ret_stdio, m);
        if (r >= 0 && x->tty)
                r = sd_bus_message_append(m, "{sv}", "Tty", "b", 1);
        if (r >= 0 && x->user)
                r = sd_bus_message_append(m, "{sv}", "User", "s", x->user);
        if (r >= 0 && x->workdir)
                r = sd_bus_message_append(m, "{sv}", "WorkingDir", "s", x->workdir);
        if (r >= 0)
                r = ctl_append_strv_option(m, "Env", x->env);
        if (r >= 0)
                r = sd_bus_message_close_container(m);
        return r;
}

int verb_exec(int argc, char *argv[], int *ret_exit_status) {
        _cleanup_(sd_bus_flush_close_unrefp) sd_bus *bus = NULL;
        _cleanup_(sd_bus_message_unrefp) sd_bus_message *m = NULL;
        _cleanup_(ctl_stdio_freep) CtlStdio *io = NULL;
        _cleanup_(exec_request_done) ExecRequest x = {};
        int i, r;

        i = exec_parse(argc, argv, &x);
        if (i < 0)
                return i;
        r = ctl_connect(&bus);
        if (r < 0)
                return r;
        r = new_call(bus, "ExecContainer", &m);
        if (r < 0)
                return r;
        r = sd_bus_message_append(m, "s", argv[i]);
        if (r >= 0)
                r = sd_bus_message_append_strv(m, argv + i + 1);
        if (r >= 0)
                r = exec_append_options(m, &x, &io);
        if (r < 0)
                return ctl_call_failed("exec", NULL, r);
        return ctl_start_and_wait(bus, TAKE_PTR(m), io, argv[i], CTL_START_EXEC, x.interactive, ret_exit_status);
}
