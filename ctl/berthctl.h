/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include <jansson.h>
#include <systemd/sd-bus.h>

#include "util.h"

/* Exit codes as Docker's CLI uses them. */
#define EXIT_ENGINE 125
#define EXIT_CANNOT_EXEC 126
#define EXIT_NOT_FOUND 127

typedef struct Verb {
        const char *name;
        const char *alias;
        int (*run)(int argc, char *argv[]);
        const char *usage;
        const char *summary;
} Verb;

/* Global options, shared by every verb. */
extern bool arg_json;
extern const char *arg_host;

/* Connects to berthd; on failure prints one sentence saying why. */
int ctl_connect(sd_bus **ret);
/* Prints a failed call's error as one sentence, returns the exit code. */
int ctl_call_failed(const char *what, const sd_bus_error *error, int r);
int ctl_call(sd_bus *bus, const char *member, sd_bus_message **reply, const char *types, ...);

/* Standard per-verb option handling: --help prints the verb's usage. */
bool ctl_want_help(int argc, char *argv[], const Verb *v);
void ctl_print_verb_help(const Verb *v);

void ctl_print_json(json_t *j);

/* Reads an a{sv} reply into a JSON object, for --json and for printing. */
int bus_message_read_dict_json(sd_bus_message *m, json_t **ret);

/* Sends a call that starts a job of berthd and waits for it to end, showing
 * progress on a terminal and cancelling it on Ctrl-C. */
int ctl_job_run(sd_bus *bus, sd_bus_message *m, const char *verb, char ***ret_ids);

int verb_version(int argc, char *argv[]);
int verb_info(int argc, char *argv[]);

int verb_image(int argc, char *argv[]);
int verb_image_ls(int argc, char *argv[]);
int verb_image_load(int argc, char *argv[]);
int verb_image_import(int argc, char *argv[]);
int verb_image_save(int argc, char *argv[]);
int verb_image_inspect(int argc, char *argv[]);
int verb_image_history(int argc, char *argv[]);
int verb_image_rm(int argc, char *argv[]);
int verb_image_tag(int argc, char *argv[]);
int verb_image_untag(int argc, char *argv[]);
int verb_image_prune(int argc, char *argv[]);
