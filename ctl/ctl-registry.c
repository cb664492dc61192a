/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <getopt.h>
#include <termios.h>

#include "auth-file.h"
#include "berthctl.h"
#include "bus-util.h"
#include "ctl-credentials.h"
#include "reference.h"

/* pull, push, login, logout: berthd talks to the registry; berthctl finds
 * the user's credentials and hands them over inside the one call. */

typedef struct RegistryArgs {
        bool quiet;
        int tls_verify;              /* -1: not given */
        const char *platform;
        const char *authfile;
} RegistryArgs;

enum { ARG_TLS_VERIFY = 0x100, ARG_PLATFORM, ARG_AUTHFILE, ARG_PASSWORD_STDIN, ARG_SYSTEM };

static int parse_tls_verify(const char *v, RegistryArgs *a) {
        a->tls_verify = v ? parse_boolean(v) : 1;
        if (a->tls_verify < 0) {
                fprintf(stderr, "Error: --tls-verify takes true or false, not '%s'.\n", v);
                return -EINVAL;
        }
        return 0;
}

/* The registry a reference names, for its credentials. */
static int reference_registry(const char *ref, char **ret) {
        _cleanup_(reference_freep) Reference *r = NULL;

        if (reference_parse(ref, &r) < 0) {
                fprintf(stderr, "Error: invalid reference format: %s\n", ctl_escape(errmsg_last() ?: ref));
                return -EINVAL;
        }
        *ret = strdup(r->domain);
        return *ret ? 0 : ctl_oom();
}

static int append_sv_string(sd_bus_message *m, const char *key, const char *v) {
        if (!v)
                return 0;
        return sd_bus_message_append(m, "{sv}", key, "s", v);
}

/* The options dictionary of PullImage and PushImage. */
static int append_registry_options(sd_bus_message *m, const RegistryArgs *a, const char *ref) {
        _cleanup_(ctl_credentials_done) CtlCredentials c = {};
        _cleanup_free_ char *registry = NULL;
        int r;

        r = reference_registry(ref, &registry);
        if (r >= 0)
                r = ctl_credentials_resolve(registry, a->authfile, &c);
        if (r < 0)
                return r;
        r = sd_bus_message_sensitive(m);
        if (r >= 0)
                r = sd_bus_message_open_container(m, 'a', "{sv}");
        if (r >= 0)
                r = append_sv_string(m, "Platform", a->platform);
        if (r >= 0 && a->tls_verify >= 0)
                r = sd_bus_message_append(m, "{sv}", "TLSVerify", "b", a->tls_verify);
        if (r >= 0)
                r = append_sv_string(m, "Username", c.username);
        if (r >= 0)
                r = append_sv_string(m, "Password", c.password);
        if (r >= 0)
                r = append_sv_string(m, "IdentityToken", c.identity_token);
        if (r >= 0)
                r = sd_bus_message_close_container(m);
        return r < 0 ? ctl_call_failed("pull", NULL, r) : 0;
}

/* The image's id before the pull, to tell "up to date" from "downloaded". */
static char *image_id_of(sd_bus *bus, const char *ref) {
        _cleanup_(sd_bus_message_unrefp) sd_bus_message *reply = NULL;
        _cleanup_free_ char *id = NULL;
        const char *path;

        if (sd_bus_call_method(bus, BERTH_BUS_NAME, BERTH_MANAGER_PATH, BERTH_MANAGER_IFACE, "GetImage", NULL,
                               &reply, "s", ref) < 0 ||
            sd_bus_message_read(reply, "o", &path) < 0)
                return NULL;
        if (sd_bus_get_property_string(bus, BERTH_BUS_NAME, path, "org.berth.Berth1.Image", "Id", NULL, &id) < 0)
                return NULL;
        return TAKE_PTR(id);
}

static void print_pull_result(const char *before, char **ids, const RegistryArgs *a) {
        const char *id = ids && ids[0] ? ids[0] : "", *ref = id[0] && ids[1] ? ids[1] : "";
        const char *digest = ref[0] && ids[2] ? ids[2] : "";
        _cleanup_free_ char *familiar = reference_familiar_string(ref);

        if (arg_json) {
                json_t *j = json_pack("{s:s, s:s, s:s}", "Id", id, "Reference", ref, "RepoDigest", digest);
                ctl_print_json(j);
                json_decref(j);
                return;
        }
        if (a->quiet) {
                printf("%s\n", ctl_escape(ref));
                return;
        }
        if (strchr(digest, '@'))
                printf("Digest: %s\n", ctl_escape(strchr(digest, '@') + 1));
        printf("Status: %s %s\n", streq_ptr(before, id) ? "Image is up to date for" : "Downloaded newer image for",
               ctl_escape(familiar ?: ref));
        printf("%s\n", ctl_escape(ref));
}

/* PullImage(ref, options) as a job; ids: its result. */
static int pull_call(sd_bus *bus, const char *ref, const RegistryArgs *a, bool quiet, char ***ret_ids) {
        _cleanup_(sd_bus_message_unrefp) sd_bus_message *m = NULL;
        int r;

        r = sd_bus_message_new_method_call(bus, &m, BERTH_BUS_NAME, BERTH_MANAGER_PATH, BERTH_MANAGER_IFACE,
                                           "PullImage");
        if (r >= 0)
                r = sd_bus_message_append(m, "s", ref);
        if (r < 0)
                return ctl_call_failed("pull", NULL, r);
        r = append_registry_options(m, a, ref);
        if (r >= 0)
                r = ctl_job_run_full(bus, m, "pull", quiet, ret_ids);
        return r;
}

/* Pulls ref through berthd; also what run and create use for --pull. */
int ctl_pull(sd_bus *bus, const char *ref, const char *platform, bool quiet, char **ret_id) {
        RegistryArgs a = { .quiet = quiet, .tls_verify = -1, .platform = platform };
        _cleanup_strv_free_ char **ids = NULL;
        int r;

        r = pull_call(bus, ref, &a, quiet, &ids);
        if (r < 0)
                return r;
        if (ret_id && !(*ret_id = strdup(ids && ids[0] ? ids[0] : "")))
                return ctl_oom();
        return 0;
}

static int parse_registry_args(int argc, char *argv[], const char *shortopts, RegistryArgs *a) {
        static const struct option options[] = {
                { "quiet", no_argument, NULL, 'q' },
                { "tls-verify", optional_argument, NULL, ARG_TLS_VERIFY },
                { "platform", required_argument, NULL, ARG_PLATFORM },
                { "authfile", required_argument, NULL, ARG_AUTHFILE },
                {}
        };
        int c, r;

        *a = (RegistryArgs) { .tls_verify = -1 };
        while ((c = getopt_long(argc, argv, shortopts, options, NULL)) >= 0)
                switch (c) {
                case 'q': a->quiet = true; break;
                case ARG_TLS_VERIFY:
                        r = parse_tls_verify(optarg, a);
                        if (r < 0)
                                return r;
                        break;
                case ARG_PLATFORM: a->platform = optarg; break;
                case ARG_AUTHFILE: a->authfile = optarg; break;
                default: return -EINVAL;
                }
        return 0;
}

int verb_pull(int argc, char *argv[]) {
        _cleanup_(sd_bus_flush_close_unrefp) sd_bus *bus = NULL;
        _cleanup_strv_free_ char **ids = NULL;
        _cleanup_free_ char *before = NULL;
        RegistryArgs a;
        int r;

        r = parse_registry_args(argc, argv, "q", &a);
        if (r < 0)
                return r;
        if (optind + 1 != argc) {
                fprintf(stderr, "Error: pull takes one image reference.\n");
                return -EINVAL;
        }
        r = ctl_connect(&bus);
        if (r < 0)
                return r;
        before = image_id_of(bus, argv[optind]);
        r = pull_call(bus, argv[optind], &a, a.quiet || arg_json, &ids);
        if (r < 0)
                return r;
        print_pull_result(before, ids, &a);
        return 0;
}

static void print_push_result(char **ids, const RegistryArgs *a) {
        const char *pushed = ids && ids[0] ? ids[0] : "", *at = strrchr(pushed, '@');

        if (arg_json) {
                json_t *j = json_pack("{s:s, s:s}", "Reference", pushed, "Digest", at ? at + 1 : "");
                ctl_print_json(j);
                json_decref(j);
        } else if (a->quiet)
                printf("%s\n", ctl_escape(pushed));
        else
                printf("digest: %s\n%s\n", ctl_escape(at ? at + 1 : ""), ctl_escape(pushed));
}

int verb_push(int argc, char *argv[]) {
        _cleanup_(sd_bus_flush_close_unrefp) sd_bus *bus = NULL;
        _cleanup_(sd_bus_message_unrefp) sd_bus_message *m = NULL;
        _cleanup_strv_free_ char **ids = NULL;
        const char *image, *dest;
        RegistryArgs a;
        int r;

        r = parse_registry_args(argc, argv, "q", &a);
        if (r < 0)
                return r;
        if (optind >= argc || argc - optind > 2) {
                fprintf(stderr, "Error: push takes an image and, optionally, where to push it.\n");
                return -EINVAL;
        }
        image = argv[optind];
        dest = optind + 1 < argc ? argv[optind + 1] : "";
        r = ctl_connect(&bus);
        if (r >= 0)
                r = sd_bus_message_new_method_call(bus, &m, BERTH_BUS_NAME, BERTH_MANAGER_PATH,
                                                   BERTH_MANAGER_IFACE, "PushImage");
        if (r >= 0)
                r = sd_bus_message_append(m, "ss", image, dest);
        if (r < 0)
                return ctl_call_failed("push", NULL, r);
        if (!arg_json && !a.quiet)
                printf("The push refers to repository [%s]\n", ctl_escape(isempty(dest) ? image : dest));
        r = append_registry_options(m, &a, isempty(dest) ? image : dest);
        if (r >= 0)
                r = ctl_job_run_full(bus, m, "push", a.quiet || arg_json, &ids);
        if (r < 0)
                return r;
        print_push_result(ids, &a);
        return 0;
}

/* A line from the terminal, without echo when secret. */
static int prompt_line(const char *prompt, bool secret, char **ret) {
        struct termios old, raw;
        bool restore = false;
        char *line = NULL;
        size_t n = 0;
        ssize_t k;

        fputs(prompt, stderr);
        fflush(stderr);
        if (secret && tcgetattr(STDIN_FILENO, &old) == 0) {
                raw = old;
                raw.c_lflag &= ~(tcflag_t) ECHO;
                restore = tcsetattr(STDIN_FILENO, TCSAFLUSH, &raw) == 0;
        }
        k = getline(&line, &n, stdin);
        if (restore) {
                (void) tcsetattr(STDIN_FILENO, TCSAFLUSH, &old);
                fputc('\n', stderr);
        }
        if (k < 0) {
                free(line);
                fprintf(stderr, "Error: no input.\n");
                return -ENODATA;
        }
        line[strcspn(line, "\r\n")] = 0;
        *ret = line;
        return 0;
}

typedef struct LoginArgs {
        RegistryArgs r;
        const char *username;
        char *password;
        bool password_stdin;
        bool system;
        const char *registry;
} LoginArgs;

static int parse_login_args(int argc, char *argv[], bool login, LoginArgs *a) {
        static const struct option options[] = {
                { "username", required_argument, NULL, 'u' },
                { "password", required_argument, NULL, 'p' },
                { "password-stdin", no_argument, NULL, ARG_PASSWORD_STDIN },
                { "tls-verify", optional_argument, NULL, ARG_TLS_VERIFY },
                { "authfile", required_argument, NULL, ARG_AUTHFILE },
                { "system", no_argument, NULL, ARG_SYSTEM },
                {}
        };
        int c, r;

        *a = (LoginArgs) { .r.tls_verify = -1 };
        while ((c = getopt_long(argc, argv, login ? "u:p:" : "", options, NULL)) >= 0)
                switch (c) {
                case 'u': a->username = optarg; break;
                case 'p':
                        fprintf(stderr, "WARNING! Using --password via the CLI is insecure. Use --password-stdin.\n");
                        a->password = strdup(optarg);
                        explicit_bzero(optarg, strlen(optarg));
                        if (!a->password)
                                return ctl_oom();
                        break;
                case ARG_PASSWORD_STDIN: a->password_stdin = true; break;
                case ARG_TLS_VERIFY:
                        r = parse_tls_verify(optarg, &a->r);
                        if (r < 0)
                                return r;
                        break;
                case ARG_AUTHFILE: a->r.authfile = optarg; break;
                case ARG_SYSTEM: a->system = true; break;
                default: return -EINVAL;
                }
        if (argc - optind > 1) {
                fprintf(stderr, "Error: %s takes one registry.\n", login ? "login" : "logout");
                return -EINVAL;
        }
        a->registry = optind < argc ? argv[optind] : "docker.io";
        return 0;
}

static int login_read_secrets(LoginArgs *a, char **ret_user) {
        int r;

        if (a->password_stdin && a->password) {
                fprintf(stderr, "Error: --password and --password-stdin are mutually exclusive.\n");
                return -EINVAL;
        }
        if (a->password_stdin && !a->username) {
                fprintf(stderr, "Error: --password-stdin needs --username.\n");
                return -EINVAL;
        }
        if (!a->username) {
                r = prompt_line("Username: ", false, ret_user);
                if (r < 0)
                        return r;
        } else if (!(*ret_user = strdup(a->username)))
                return ctl_oom();
        if (strchr(*ret_user, ':')) {
                fprintf(stderr, "Error: a user name cannot contain ':'.\n");
                return -EINVAL;
        }
        if (!a->password)
                return prompt_line(a->password_stdin ? "" : "Password: ", !a->password_stdin, &a->password);
        return 0;
}

static int call_login(sd_bus *bus, const LoginArgs *a, const char *registry, const char *user) {
        _cleanup_(sd_bus_error_free) sd_bus_error error = SD_BUS_ERROR_NULL;
        _cleanup_(sd_bus_message_unrefp) sd_bus_message *m = NULL, *reply = NULL;
        int r;

        r = sd_bus_message_new_method_call(bus, &m, BERTH_BUS_NAME, BERTH_MANAGER_PATH, BERTH_MANAGER_IFACE,
                                           "Login");
        if (r >= 0)
                r = sd_bus_message_sensitive(m);
        if (r >= 0)
                r = sd_bus_message_append(m, "sss", registry, user, a->password);
        if (r >= 0)
                r = sd_bus_message_open_container(m, 'a', "{sv}");
        if (r >= 0 && a->r.tls_verify >= 0)
                r = sd_bus_message_append(m, "{sv}", "TLSVerify", "b", a->r.tls_verify);
        if (r >= 0 && a->system)
                r = sd_bus_message_append(m, "{sv}", "Store", "b", 1);
        if (r >= 0)
                r = sd_bus_message_close_container(m);
        if (r < 0)
                return ctl_call_failed("login", NULL, r);
        r = sd_bus_call(bus, m, 300 * USEC_PER_SEC, &error, &reply);
        return r < 0 ? ctl_call_failed("login", &error, r) : 0;
}

int verb_login(int argc, char *argv[]) {
        _cleanup_(sd_bus_flush_close_unrefp) sd_bus *bus = NULL;
        _cleanup_free_ char *user = NULL, *registry = NULL, *path = NULL;
        LoginArgs a;
        int r;

        r = parse_login_args(argc, argv, true, &a);
        if (r >= 0)
                r = auth_normalize_registry(a.registry, &registry);
        if (r >= 0)
                r = login_read_secrets(&a, &user);
        if (r >= 0)
                r = ctl_connect(&bus);
        if (r >= 0)
                r = call_login(bus, &a, registry, user);
        if (r >= 0)
                r = ctl_credentials_store_path(a.r.authfile, &path);
        if (r >= 0) {
                r = auth_file_store(path, registry, user, a.password);
                if (r < 0)
                        fprintf(stderr, "Error: cannot store the credentials in %s: %s\n", path, strerror(-r));
        }
        erase_and_free(a.password);
        if (r < 0)
                return r;
        printf("Login Succeeded!\n");
        return 0;
}

static int call_logout(sd_bus *bus, const char *registry) {
        _cleanup_(sd_bus_error_free) sd_bus_error error = SD_BUS_ERROR_NULL;
        _cleanup_(sd_bus_message_unrefp) sd_bus_message *reply = NULL;
        int r;

        r = sd_bus_call_method(bus, BERTH_BUS_NAME, BERTH_MANAGER_PATH, BERTH_MANAGER_IFACE, "Logout", &error,
                               &reply, "s", registry);
        return r < 0 ? ctl_call_failed("logout", &error, r) : 0;
}

int verb_logout(int argc, char *argv[]) {
        _cleanup_(sd_bus_flush_close_unrefp) sd_bus *bus = NULL;
        _cleanup_free_ char *registry = NULL, *path = NULL;
        LoginArgs a;
        int r;

        r = parse_login_args(argc, argv, false, &a);
        if (r >= 0)
                r = auth_normalize_registry(a.registry, &registry);
        if (r >= 0 && a.system && (r = ctl_connect(&bus)) >= 0)
                r = call_logout(bus, registry);
        if (r >= 0)
                r = ctl_credentials_store_path(a.r.authfile, &path);
        if (r < 0)
                return r;
        r = auth_file_remove(path, registry);
        if (r == -ENOENT && !a.system) {
                fprintf(stderr, "Error: not logged in to %s.\n", ctl_escape(registry));
                return r;
        }
        if (r < 0 && r != -ENOENT) {
                fprintf(stderr, "Error: cannot remove the credentials from %s: %s\n", path, strerror(-r));
                return r;
        }
        printf("Removed login credentials for %s\n", ctl_escape(registry));
        return 0;
}
