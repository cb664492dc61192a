/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include <jansson.h>
#include <stdarg.h>
#include <systemd/sd-bus.h>

#include "port-spec.h"
#include "resource-limits.h"

#include "util.h"

/* How berthctl fails, as systemctl does:
 *
 * - Every function of ctl/, verbs included, returns 0 (or a count, where it
 *   says so) on success and a negative errno on failure, never an exit code.
 *   A function that fails prints one sentence saying why (to stderr) before
 *   it returns; its callers pass r on and print nothing more. Helpers that
 *   say they are quiet (ctl_container_path(..., quiet = true)) leave the
 *   sentence to their caller.
 * - A verb that runs a container's process (run, start -a, exec) reports that
 *   process's exit status through its own out-parameter, *ret_exit_status,
 *   set only when it returns 0. A command that cannot be executed is such a
 *   status too, as a shell gives it (126, 127) and berthd records it as the
 *   container's exit code: the verb prints berthd's sentence, sets the status
 *   and returns 0.
 * - Only main() turns a verb's result into the exit code: 0 on success, the
 *   process's exit status for the verbs above, EXIT_INTERRUPTED (130) for
 *   -ECANCELED (a job cancelled, by Ctrl-C or by another client), and
 *   EXIT_ENGINE (125) for every other failure: usage errors, errors of berthd
 *   and of the bus, as Docker's CLI does. */
#define EXIT_ENGINE 125
#define EXIT_CANNOT_EXEC 126
#define EXIT_NOT_FOUND 127
#define EXIT_INTERRUPTED 130

typedef struct Verb {
        const char *name;
        const char *alias;
        int (*run)(int argc, char *argv[]);
        const char *usage;
        const char *summary;
        /* Instead of run, for the verbs that run a container's process. */
        int (*run_process)(int argc, char *argv[], int *ret_exit_status);
        bool polkit;             /* may be authorized with polkit: run an agent on a terminal */
} Verb;

/* Global options, shared by every verb. */
extern bool arg_json;
extern const char *arg_host;
extern bool arg_ask_password;    /* --no-ask-password clears it */
extern bool arg_polkit_agent;    /* the verb may need polkit's authorization */

/* polkit (ctl-polkit.c): true when a password may be asked for: stdin is a
 * terminal, we are not root and --no-ask-password was not given. */
bool ctl_polkit_interactive(void);
/* Runs pkttyagent for this process when arg_polkit_agent and
 * ctl_polkit_interactive(), and returns once it is registered with polkitd.
 * It is stopped at exit. */
int ctl_polkit_agent_open(void);

/* Connects to berthd; on failure prints one sentence saying why. */
int ctl_connect(sd_bus **ret);
/* Prints a failed call's error as one sentence; returns r (-EIO if r is not
 * negative), for "return ctl_call_failed(...)". */
int ctl_call_failed(const char *what, const sd_bus_error *error, int r);
/* The same for a reply that cannot be read and for a failed allocation. */
int ctl_bad_reply(int r);
int ctl_oom(void);
int ctl_call(sd_bus *bus, const char *member, sd_bus_message **reply, const char *types, ...);

/* Standard per-verb option handling: --help prints the verb's usage. */
bool ctl_want_help(int argc, char *argv[], const Verb *v);
void ctl_print_verb_help(const Verb *v);

/* JSON as jansson writes it, with DEL and the C1 controls escaped too
 * (escape_json_text()): an image's strings reach the terminal as text. */
void ctl_dump_json(json_t *j, size_t flags, FILE *f);
void ctl_print_json(json_t *j);
/* Every string that comes from an image, a container or berthd goes through
 * this before a table or a sentence prints it: s itself when it holds no
 * control character, else escape_terminal()'s copy, valid for the next
 * CTL_ESCAPE_SLOTS - 1 calls (enough for one printf). Never NULL unless s is. */
#define CTL_ESCAPE_SLOTS 8
const char *ctl_escape(const char *s);

/* Reads an a{sv} reply into a JSON object, for --json and for printing. */
int bus_message_read_dict_json(sd_bus_message *m, json_t **ret);

/* Sends a call that starts a job of berthd and waits for it to end, showing
 * progress on a terminal and cancelling it on Ctrl-C. */
int ctl_job_run(sd_bus *bus, sd_bus_message *m, const char *verb, char ***ret_ids);
/* The same; quiet shows no progress (errors still). A job with layers (pull,
 * push) shows a line per layer: redrawn bars on a terminal, a line per state
 * reached elsewhere. */
int ctl_job_run_full(sd_bus *bus, sd_bus_message *m, const char *verb, bool quiet, char ***ret_ids);
/* "abcd12345678: Downloading [====>   ] 1.2MB/4.5MB 1MB/s" (moving), or
 * "abcd12345678: Pull complete". */
void ctl_format_layer_line(const char *digest, const char *label, bool moving, uint64_t done, uint64_t total,
                           uint64_t rate, char *buf, size_t n);

/* Tables laid out as docker's tabwriter does (ctl-table.c). */
typedef struct Table {
        size_t n_columns;
        size_t n_cells;
        size_t n_allocated;
        char **cells;            /* NULL-terminated */
} Table;
Table *table_new(size_t n_columns);
Table *table_free(Table *t);
DEFINE_TRIVIAL_CLEANUP_FUNC(Table *, table_free);
int table_add(Table *t, const char *cell);
int table_add_many(Table *t, ...);   /* exactly n_columns cells */
void table_print(const Table *t, FILE *f);
/* The same layout for lines already rendered: NUL-ended, cells split by tabs,
 * as many columns as the first line has. */
void table_print_lines(const char *lines, size_t size, FILE *f);
size_t utf8_width(const char *s);
size_t utf8_width_n(const char *s, size_t len);
/* Go's units.HumanDuration: "Less than a second", "About a minute", "5 hours". */
char *format_human_duration(uint64_t usec, char *buf, size_t n);

/* Containers by name or id: -ENOENT when missing (and said so unless quiet),
 * another negative errno (and said so) on other failures. */
int ctl_container_path(sd_bus *bus, const char *name, bool quiet, char **ret_path);
int ctl_container_call(sd_bus *bus, const char *member, const char *name, bool quiet, sd_bus_message **ret);
int ctl_get_all_json(sd_bus *bus, const char *path, const char *iface, json_t **ret);

/* One row of ListContainers; the strings point into the reply. */
typedef struct ContainerRow {
        const char *id, *name, *image, *state, *command;
        uint64_t created, started, finished;
        int32_t exit_code;
        const char *path;
        char *ports;            /* docker ps's PORTS, where asked for (owned) */
} ContainerRow;
/* One ListContainers call, sorted newest first. */
int ctl_list_containers(sd_bus *bus, bool all, sd_bus_message **ret_reply, ContainerRow **ret, size_t *ret_n);

/* docker create/run flags. */
typedef struct CreateRequest {
        char *name, *image, *entrypoint, *workdir, *user, *hostname, *network, *stop_signal;
        char **cmd, **env, **labels, **volumes, **tmpfs, **mounts, **cap_add, **cap_drop;
        char **security_opt;
        char *pull;             /* --pull: always, missing (the default), never */
        char *platform;
        char **limits;          /* Docker's flags: flag, value, flag, value, ... */
        ScopeLimits typed_limits;   /* what they mean, in the API's typed form */
        int stop_timeout;       /* seconds; -1: the default */
        bool detach, interactive, tty, rm, privileged, read_only;
        /* networking */
        char *ip, *ip6, *mac;
        char **aliases, **dns, **dns_search, **dns_options, **add_hosts;
        PortMapping *ports;     /* -p, checked here already */
        size_t n_ports;
        bool publish_all;
} CreateRequest;

int create_request_parse(int argc, char *argv[], CreateRequest *q);
int create_request_append(sd_bus_message *m, const CreateRequest *q);
/* Appends {key: <as>} to an open a{sv}; nothing when l is NULL. */
int ctl_append_strv_option(sd_bus_message *m, const char *key, char **l);
void create_request_done(CreateRequest *q);
/* Docker's limit flags (flag, value, ...) into the API's typed form; says
 * what is wrong and returns -EINVAL when one is. */
int ctl_parse_limits(char **flags, ScopeLimits *ret);

/* Our stdin (with_stdin), stdout and stderr as a container gets them
 * (ctl-stdio.c): pipes and AF_UNIX stream sockets as they are, anything else
 * through a pipe that we relay. */
typedef struct CtlStdio CtlStdio;
int ctl_stdio_new(bool with_stdin, CtlStdio **ret);
CtlStdio *ctl_stdio_free(CtlStdio *s);
DEFINE_TRIVIAL_CLEANUP_FUNC(CtlStdio *, ctl_stdio_free);
/* Appends Stdin/Stdout/Stderr entries to an open a{sv}, then closes our
 * copies of the pipe ends given away. */
int ctl_stdio_append(CtlStdio *s, sd_bus_message *m);
/* Relays from now on, in e's loop. */
int ctl_stdio_attach(CtlStdio *s, sd_event *e);
bool ctl_stdio_outputs_done(const CtlStdio *s);
/* Stops reading our stdin; relays the container's output until it closes,
 * for timeout_usec at most. */
int ctl_stdio_drain(CtlStdio *s, sd_event *e, uint64_t timeout_usec);

/* Attached I/O of run/start/exec: stdio passed to berthd, or a terminal. */
int ctl_attach_terminal(int master, bool interactive);
typedef enum CtlStartKind {
        CTL_START_CONTAINER,   /* StartContainer of container */
        CTL_START_EXEC,        /* ExecContainer */
        CTL_START_RUN,         /* RunContainer: the container comes with the reply */
} CtlStartKind;

/* Sends start, which it takes (it unrefs it once sent: the message holds
 * copies of the pipe ends given to the container), and relays stdio (NULL:
 * none) until the container is done. Returns 0 with the process's exit status
 * (126 or 127 when its command could not be executed), or a negative errno. */
int ctl_start_and_wait(sd_bus *bus, sd_bus_message *start, CtlStdio *stdio, const char *container,
                       CtlStartKind kind, bool interactive, int *ret_exit_status);
/* The exit status Docker gives a container whose start failed with e: 127 for
 * a command not found, 126 for one not executable, 0 for any other error. */
int ctl_start_error_exit_status(const sd_bus_error *e);

int verb_version(int argc, char *argv[]);
int verb_info(int argc, char *argv[]);

int verb_create(int argc, char *argv[]);
int verb_run(int argc, char *argv[], int *ret_exit_status);
int verb_start(int argc, char *argv[], int *ret_exit_status);
int verb_stop(int argc, char *argv[]);
int verb_restart(int argc, char *argv[]);
int verb_kill(int argc, char *argv[]);
int verb_rm(int argc, char *argv[]);
int verb_pause(int argc, char *argv[]);
int verb_unpause(int argc, char *argv[]);
int verb_wait(int argc, char *argv[]);
int verb_update(int argc, char *argv[]);
int verb_exec(int argc, char *argv[], int *ret_exit_status);

int verb_image(int argc, char *argv[]);
int verb_network(int argc, char *argv[]);
int verb_port(int argc, char *argv[]);
/* A running container's bound ports, "0.0.0.0:8080->80/tcp, [::]:8080->80/tcp". */
int ctl_container_ports(sd_bus *bus, const char *path, char **ret);
int verb_image_ls(int argc, char *argv[]);
int verb_image_load(int argc, char *argv[]);
int verb_image_import(int argc, char *argv[]);
int verb_image_save(int argc, char *argv[]);
int verb_image_inspect(int argc, char *argv[]);
int verb_image_history(int argc, char *argv[]);
int verb_image_rm(int argc, char *argv[]);
int verb_image_tag(int argc, char *argv[]);

/* Registries (ctl-registry.c). */
int verb_pull(int argc, char *argv[]);
int verb_push(int argc, char *argv[]);
int verb_login(int argc, char *argv[]);
int verb_logout(int argc, char *argv[]);
/* Pulls ref with the user's credentials, showing progress unless quiet;
 * *ret_id (may be NULL) the image id. */
int ctl_pull(sd_bus *bus, const char *ref, const char *platform, bool quiet, char **ret_id);
/* What run and create do before creating: pull per --pull. */
int create_request_pull(sd_bus *bus, const CreateRequest *q);
int verb_image_untag(int argc, char *argv[]);
int verb_image_prune(int argc, char *argv[]);

int verb_ps(int argc, char *argv[]);
int verb_inspect(int argc, char *argv[]);
int verb_top(int argc, char *argv[]);
int verb_stats(int argc, char *argv[]);
int verb_logs(int argc, char *argv[]);
