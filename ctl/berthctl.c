/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "berth-config.h"
#include <getopt.h>

#include "berthctl.h"

static const Verb verbs[] = {
        { "version", NULL, verb_version, "", "Show the client's and the server's version." },
        { "info", NULL, verb_info, "", "Show how berthd and this host are set up." },
        { "run", NULL, NULL, "[OPTIONS] IMAGE [COMMAND] [ARG...]", "Create and start a container (-d: in the background).", verb_run, true },
        { "create", NULL, verb_create, "[OPTIONS] IMAGE [COMMAND] [ARG...]", "Create a container.", NULL, true },
        { "start", NULL, NULL, "[-a] [-i] CONTAINER...", "Start containers.", verb_start, true },
        { "stop", NULL, verb_stop, "[-t SECONDS] CONTAINER...", "Stop containers: the stop signal, then SIGKILL after the timeout.", NULL, true },
        { "restart", NULL, verb_restart, "[-t SECONDS] CONTAINER...", "Stop and start containers.", NULL, true },
        { "kill", NULL, verb_kill, "[-s SIGNAL] CONTAINER...", "Send a signal to containers (SIGKILL by default).", NULL, true },
        { "rm", NULL, verb_rm, "[-f] CONTAINER...", "Remove containers (-f: running ones too).", NULL, true },
        { "wait", NULL, verb_wait, "CONTAINER...", "Wait for containers to exit and print their exit codes." },
        { "exec", NULL, NULL, "[-i] [-t] [-e K=V] [-u USER] [-w DIR] CONTAINER COMMAND [ARG...]", "Run a command in a running container.", verb_exec, true },
        { "update", NULL, verb_update, "[--memory M] [--cpus N] ... CONTAINER...", "Change the limits of containers.", NULL, true },
        { "pause", NULL, verb_pause, "CONTAINER...", "Freeze all processes of containers.", NULL, true },
        { "unpause", NULL, verb_unpause, "CONTAINER...", "Thaw paused containers.", NULL, true },
        { "ps", NULL, verb_ps, "[-a] [-q] [--no-trunc] [--format TEMPLATE]", "List containers." },
        { "inspect", NULL, verb_inspect, "[--type container|image] NAME...", "Show everything about containers or images, as JSON." },
        { "top", NULL, verb_top, "CONTAINER", "Show the processes of a container." },
        { "stats", NULL, verb_stats, "[--no-stream] [CONTAINER...]", "Show containers' resource usage." },
        { "logs", NULL, verb_logs, "[-f] [--since TIME] [--until TIME] [-n N] [-t] CONTAINER", "Show a container's output from the journal." },
        { "image", NULL, verb_image, "COMMAND", "Manage images (ls, load, import, save, inspect, history, rm, tag, prune).", NULL, true },
        { "network", NULL, verb_network, "COMMAND", "Manage networks (create, ls, inspect, rm, connect, disconnect, prune).", NULL, true },
        { "port", NULL, verb_port, "CONTAINER [PRIVATE_PORT[/PROTO]]", "List a container's published ports." },
        { "images", NULL, verb_image_ls, "[-a] [-q] [--no-trunc]", "List images (image ls)." },
        { "load", NULL, verb_image_load, "[-i FILE]", "Load images from an archive (image load).", NULL, true },
        { "import", NULL, verb_image_import, "FILE|- [REPOSITORY[:TAG]] [-c INSTRUCTION]...", "Create an image from a root filesystem tarball (image import).", NULL, true },
        { "save", NULL, verb_image_save, "[-o FILE] [--format FORMAT] IMAGE...", "Write images to an archive (image save).", NULL, true },
        { "history", NULL, verb_image_history, "IMAGE", "Show the history of an image (image history)." },
        { "rmi", NULL, verb_image_rm, "[-f] IMAGE...", "Remove images (image rm).", NULL, true },
        { "pull", NULL, verb_pull, "[-q] [--platform OS/ARCH] [--tls-verify=false] [--authfile FILE] IMAGE", "Download an image from a registry (image pull).", NULL, true },
        { "push", NULL, verb_push, "[-q] [--tls-verify=false] [--authfile FILE] IMAGE [DESTINATION]", "Upload an image to a registry (image push).", NULL, true },
        { "login", NULL, verb_login, "[-u USER] [-p PASSWORD | --password-stdin] [--system] [REGISTRY]", "Log in to a registry: check the credentials and keep them.", NULL, true },
        { "logout", NULL, verb_logout, "[--system] [REGISTRY]", "Forget the credentials of a registry." , NULL, true },
        { "tag", NULL, verb_image_tag, "SOURCE TARGET", "Give an image another name (image tag).", NULL, true },
};

static void help(void) {
        printf("Usage: berthctl [OPTIONS] COMMAND [ARG...]\n\n"
               "Manage containers and images through berthd (org.berth.Berth1).\n\n"
               "Options:\n"
               "  -h --help        Show this help\n"
               "     --version     Show the client version\n"
               "     --json        Print machine-readable JSON\n"
               "  -H --host=ADDR   D-Bus address of the bus berthd is on (or $BERTH_HOST)\n"
               "     --no-ask-password  Do not ask for a password when polkit wants one\n\n"
               "Commands:\n");
        for (size_t i = 0; i < ELEMENTSOF(verbs); i++)
                printf("  %-14s %s\n", verbs[i].name, verbs[i].summary);
        printf("\nRun 'berthctl COMMAND --help' for more about a command.\n");
}

static const Verb *find_verb(const char *name) {
        for (size_t i = 0; i < ELEMENTSOF(verbs); i++)
                if (streq(verbs[i].name, name) || streq_ptr(verbs[i].alias, name))
                        return &verbs[i];
        return NULL;
}

/* Global options come before the verb, as with docker. Returns the verb's
 * index, 0 when there is nothing more to do. */
static int parse_global_options(int argc, char *argv[]) {
        int i;

        for (i = 1; i < argc && argv[i][0] == '-'; i++) {
                const char *a = argv[i], *v;

                if (streq(a, "-h") || streq(a, "--help")) {
                        help();
                        return 0;
                } else if (streq(a, "--version")) {
                        printf("berthctl %s\n", BERTH_VERSION);
                        return 0;
                } else if (streq(a, "--json"))
                        arg_json = true;
                else if (streq(a, "--no-ask-password"))
                        arg_ask_password = false;
                else if ((v = startswith(a, "--host=")))
                        arg_host = v;
                else if ((streq(a, "-H") || streq(a, "--host")) && i + 1 < argc)
                        arg_host = argv[++i];
                else {
                        fprintf(stderr, "Unknown option '%s'. See 'berthctl --help'.\n", a);
                        return -EINVAL;
                }
        }
        if (i >= argc) {
                help();
                return -EINVAL;
        }
        return i;
}

/* The one place a result becomes an exit code (the convention is at the top
 * of berthctl.h). */
static int ctl_exit_code(int r, int exit_status) {
        if (r == -ECANCELED)
                return EXIT_INTERRUPTED;
        if (r < 0)
                return EXIT_ENGINE;
        return exit_status;
}

int main(int argc, char *argv[]) {
        const Verb *v;
        int i, r, exit_status = 0;

        if (!arg_host)
                arg_host = getenv("BERTH_HOST");
        i = parse_global_options(argc, argv);
        if (i <= 0)
                return ctl_exit_code(i, 0);
        v = find_verb(argv[i]);
        if (!v) {
                fprintf(stderr, "Unknown command '%s'. See 'berthctl --help'.\n", argv[i]);
                return EXIT_ENGINE;
        }
        if (ctl_want_help(argc - i, argv + i, v))
                return 0;
        arg_polkit_agent = v->polkit;
        optind = 0;
        if (v->run_process)
                r = v->run_process(argc - i, argv + i, &exit_status);
        else
                r = v->run(argc - i, argv + i);
        return ctl_exit_code(r, exit_status);
}
