/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <getopt.h>
#include <sys/resource.h>

#include "berth-config.h"
#include "config.h"
#include "log.h"
#include "manager.h"
#include "registry.h"

static const char *arg_config = BERTH_CONFIG_FILE;
static const char *arg_root = NULL;
static int arg_log_level = -1;

static void help(void) {
        printf("Usage: berthd [OPTIONS]\n\n"
               "The Berth container engine service (D-Bus name org.berth.Berth1).\n\n"
               "  -h --help             Show this help\n"
               "     --version          Show the version\n"
               "     --root=PATH        Storage root (default " BERTH_DEFAULT_ROOT ")\n"
               "     --config=PATH      Configuration file (default " BERTH_CONFIG_FILE ")\n"
               "     --log-level=LEVEL  emerg ... debug (default info)\n");
}

static int parse_argv(int argc, char *argv[]) {
        enum { ARG_VERSION = 0x100, ARG_ROOT, ARG_CONFIG, ARG_LOG_LEVEL };
        static const struct option options[] = {
                { "help", no_argument, NULL, 'h' },
                { "version", no_argument, NULL, ARG_VERSION },
                { "root", required_argument, NULL, ARG_ROOT },
                { "config", required_argument, NULL, ARG_CONFIG },
                { "log-level", required_argument, NULL, ARG_LOG_LEVEL },
                {}
        };
        int c;

        while ((c = getopt_long(argc, argv, "h", options, NULL)) >= 0)
                switch (c) {
                case 'h':
                        help();
                        return 0;
                case ARG_VERSION:
                        printf("berthd %s\n", BERTH_VERSION);
                        return 0;
                case ARG_ROOT:
                        arg_root = optarg;
                        break;
                case ARG_CONFIG:
                        arg_config = optarg;
                        break;
                case ARG_LOG_LEVEL:
                        if (config_parse_log_level(optarg, &arg_log_level) < 0)
                                return log_error_errno(EINVAL, "Unknown log level '%s'.", optarg);
                        break;
                default:
                        return -EINVAL;
                }
        if (optind < argc)
                return log_error_errno(EINVAL, "berthd takes no arguments.");
        return 1;
}

/* Command line beats the config file, which beats the built-in defaults. */
static int load_config(ManagerConfig *c) {
        int r;

        *c = (ManagerConfig) {
                .log_level = LOG_INFO,
                .max_operations = 4,
                .store_limits = store_limits_default,
                .max_partial_blobs_size = REGISTRY_MAX_PARTIAL_SIZE,
        };
        r = manager_config_load(c, arg_config);
        if (r < 0)
                return r;
        if (arg_root && free_and_strdup(&c->root, arg_root) < 0)
                return log_oom();
        if (!c->root && free_and_strdup(&c->root, BERTH_DEFAULT_ROOT) < 0)
                return log_oom();
        if (c->root[0] != '/')
                return log_error_errno(EINVAL, "The storage root must be an absolute path: %s", c->root);
        if (arg_log_level >= 0)
                c->log_level = arg_log_level;
        return 0;
}

/* Every running container costs a pidfd; the soft limit of 1024 would cap
 * them long before memory does. Raising it up to the hard limit needs no
 * privilege. */
static void raise_nofile_limit(void) {
        struct rlimit rl;

        if (getrlimit(RLIMIT_NOFILE, &rl) >= 0 && rl.rlim_cur < rl.rlim_max) {
                rl.rlim_cur = rl.rlim_max;
                (void) setrlimit(RLIMIT_NOFILE, &rl);
        }
}

int main(int argc, char *argv[]) {
        _cleanup_(manager_freep) Manager *m = NULL;
        ManagerConfig config = {};
        int r;

        log_open("berthd");
        r = parse_argv(argc, argv);
        if (r <= 0)
                return r < 0 ? EXIT_FAILURE : EXIT_SUCCESS;
        r = load_config(&config);
        if (r < 0) {
                manager_config_done(&config);
                return EXIT_FAILURE;
        }
        log_set_max_level(config.log_level);
        raise_nofile_limit();
        r = manager_new(&config, &m);
        manager_config_done(&config);
        if (r < 0)
                return log_error_errno(r, "Failed to set up the manager: %m"), EXIT_FAILURE;
        r = manager_startup(m);
        if (r < 0)
                return EXIT_FAILURE;
        return manager_run(m) < 0 ? EXIT_FAILURE : EXIT_SUCCESS;
}
