/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* A test driver for pull, push and login without berthd:
 *   registry-tool pull STORE REF [OPTIONS]
 *   registry-tool push STORE IMAGE [DEST] [OPTIONS]
 *   registry-tool login REGISTRY [OPTIONS]      (credentials: "user\npassword\n" on stdin)
 * OPTIONS: --insecure-config DIR (a registries.d directory), --tls-verify=false,
 *          --platform OS/ARCH[/VARIANT], --parallel N, --credentials (read them from
 *          stdin for pull and push too), --progress (layer states on stderr).
 * Prints what registry.h returns, one "key value" a line. */
#include <fcntl.h>
#include <getopt.h>
#include <stdio.h>

#include "registry.h"
#include "store.h"

static const char *last_state[4096];

static void on_layer(size_t index, size_t n_layers, const char *digest, RegistryLayerState state, uint64_t done,
                     uint64_t total, void *userdata) {
        const char *s = registry_layer_state_to_string(state);

        /* One line per state change, not per chunk. */
        if (index < ELEMENTSOF(last_state) && last_state[index] == s)
                return;
        if (index < ELEMENTSOF(last_state))
                last_state[index] = s;
        fprintf(stderr, "layer %zu/%zu %s %s %llu/%llu\n", index + 1, n_layers, digest, s,
                (unsigned long long) done, (unsigned long long) total);
}

static int fail(int r, const char *what) {
        fprintf(stderr, "%s failed: %s (%s)\n", what, strempty(errmsg_last()), strerror(-r));
        return EXIT_FAILURE;
}

static int read_credentials(RegistryCredentials *c) {
        char *line = NULL;
        size_t n = 0;
        ssize_t k;

        for (int i = 0; i < 2; i++) {
                k = getline(&line, &n, stdin);
                if (k <= 0)
                        break;
                if (line[k - 1] == '\n')
                        line[k - 1] = 0;
                *(i == 0 ? &c->username : &c->password) = strdup(line);
        }
        if (line)
                explicit_bzero(line, n);
        free(line);
        return c->username && c->password ? 0 : -EINVAL;
}

typedef struct Args {
        const char *config_dir;
        const char *platform;
        unsigned parallel;
        bool tls_verify_disabled, credentials, progress;
} Args;

static int parse_args(int argc, char **argv, Args *a) {
        static const struct option options[] = {
                { "insecure-config", required_argument, NULL, 'c' },
                { "tls-verify", required_argument, NULL, 't' },
                { "platform", required_argument, NULL, 'p' },
                { "parallel", required_argument, NULL, 'j' },
                { "credentials", no_argument, NULL, 'u' },
                { "progress", no_argument, NULL, 'v' },
                {}
        };
        int c;

        while ((c = getopt_long(argc, argv, "", options, NULL)) >= 0)
                switch (c) {
                case 'c': a->config_dir = optarg; break;
                case 't': a->tls_verify_disabled = streq(optarg, "false"); break;
                case 'p': a->platform = optarg; break;
                case 'j': a->parallel = (unsigned) atoi(optarg); break;
                case 'u': a->credentials = true; break;
                case 'v': a->progress = true; break;
                default: return -EINVAL;
                }
        return 0;
}

static int run(const char *verb, char **pos, size_t n_pos, const RegistryOptions *o) {
        _cleanup_(store_freep) Store *s = NULL;
        int r;

        if (streq(verb, "login")) {
                r = registry_check_login(pos[0], o);
                if (r < 0)
                        return fail(r, verb);
                printf("login ok\n");
                return EXIT_SUCCESS;
        }
        if (n_pos < 2)
                return fail(-EINVAL, "usage");
        r = store_open(AT_FDCWD, pos[0], NULL, &s);
        if (r < 0)
                return fail(r, "open");
        if (streq(verb, "pull")) {
                _cleanup_(registry_pull_result_done) RegistryPullResult res = {};
                r = registry_pull(s, pos[1], o, &res);
                if (r < 0)
                        return fail(r, verb);
                printf("id %s\nreference %s\nmanifest %s\nrepo_digest %s\nwas_present %s\n", res.image_id,
                       res.reference, res.manifest_digest, res.repo_digest, res.was_present ? "yes" : "no");
                return EXIT_SUCCESS;
        }
        if (streq(verb, "push")) {
                _cleanup_(registry_push_result_done) RegistryPushResult res = {};
                r = registry_push(s, pos[1], n_pos > 2 ? pos[2] : NULL, o, &res);
                if (r < 0)
                        return fail(r, verb);
                printf("reference %s\nmanifest %s\nsize %llu\n", res.reference, res.manifest_digest,
                       (unsigned long long) res.manifest_size);
                return EXIT_SUCCESS;
        }
        return fail(-EINVAL, "unknown verb");
}

int main(int argc, char **argv) {
        _cleanup_(registry_config_freep) RegistryConfig *config = NULL;
        _cleanup_(registry_credentials_done) RegistryCredentials creds = {};
        Args a = {};
        RegistryOptions o = {};
        const char *verb;
        int r;

        if (parse_args(argc, argv, &a) < 0 || argc - optind < 2) {
                fprintf(stderr, "Usage: %s pull STORE REF | push STORE IMAGE [DEST] | login REGISTRY [OPTIONS]\n",
                        argv[0]);
                return EXIT_FAILURE;
        }
        verb = argv[optind];
        if (a.config_dir) {
                r = registry_config_load(a.config_dir, a.config_dir, &config);
                if (r < 0)
                        return fail(r, "config");
        }
        if ((a.credentials || streq(verb, "login")) && read_credentials(&creds) < 0)
                return fail(-EINVAL, "reading credentials from stdin");
        o = (RegistryOptions) { .config = config, .tls_verify_disabled = a.tls_verify_disabled,
                                .platform = a.platform, .max_parallel = a.parallel,
                                .credentials = creds.username ? &creds : NULL,
                                .layer_progress = a.progress ? on_layer : NULL };
        return run(verb, argv + optind + 1, (size_t) (argc - optind - 1), &o);
}
