/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <fcntl.h>
#include <getopt.h>
#include <sys/stat.h>

#include "berthctl.h"
#include "bus-util.h"

/* Verbs of "berthctl image ..." and their Docker-style aliases. */

typedef struct ImageRow {
        const char *id;
        char **tags;
        uint64_t created;
        uint64_t size;
} ImageRow;

static int list_images(sd_bus *bus, sd_bus_message **ret_reply) {
        return ctl_call(bus, "ListImages", ret_reply, NULL);
}

/* Calls fn for every image of a ListImages reply. */
static int foreach_image(sd_bus_message *reply, int (*fn)(const ImageRow *row, void *userdata),
                         void *userdata) {
        int r;

        r = sd_bus_message_enter_container(reply, 'a', "(sastto)");
        while (r >= 0 && (r = sd_bus_message_enter_container(reply, 'r', "sastto")) > 0) {
                _cleanup_strv_free_ char **tags = NULL;
                ImageRow row = {};
                const char *path;

                r = sd_bus_message_read(reply, "s", &row.id);
                if (r >= 0)
                        r = sd_bus_message_read_strv(reply, &tags);
                if (r >= 0)
                        r = sd_bus_message_read(reply, "tto", &row.created, &row.size, &path);
                if (r >= 0)
                        r = sd_bus_message_exit_container(reply);
                row.tags = tags;
                if (r >= 0)
                        r = fn(&row, userdata);
        }
        if (r >= 0)
                r = sd_bus_message_exit_container(reply);
        if (r < 0)
                return ctl_bad_reply(r);
        return 0;
}

typedef struct ListOptions {
        bool quiet;
        bool no_trunc;
        bool all;
        json_t *json;
} ListOptions;

/* "docker.io/library/busybox:latest" -> "busybox", "latest" */
static void split_tag(const char *full, char *repo, size_t n, const char **ret_tag) {
        const char *colon = strrchr(full, ':'), *slash = strrchr(full, '/');
        const char *name = full;
        size_t len;

        if (!colon || (slash && colon < slash))
                colon = full + strlen(full);
        if (startswith(full, "docker.io/library/"))
                name = full + strlen("docker.io/library/");
        else if (startswith(full, "docker.io/"))
                name = full + strlen("docker.io/");
        len = MIN((size_t) (colon - name), n - 1);
        memcpy(repo, name, len);
        repo[len] = 0;
        *ret_tag = *colon ? colon + 1 : "<none>";
}

static const char *short_id(const char *id, bool no_trunc) {
        static char buf[13];
        const char *hex = startswith(id, "sha256:") ?: id;

        if (no_trunc)
                return id;
        snprintf(buf, sizeof buf, "%.12s", hex);
        return buf;
}

static int print_image_row(const ImageRow *row, void *userdata) {
        ListOptions *o = userdata;
        char created[64], size[32], repo[256];
        const char *tag;
        uint64_t now = now_usec(CLOCK_REALTIME);

        if (o->json) {
                json_t *tags = json_array();
                STRV_FOREACH(t, row->tags)
                        json_array_append_new(tags, json_string(*t));
                json_array_append_new(o->json, json_pack("{s:s,s:o,s:I,s:I}", "Id", row->id,
                                                         "RepoTags", tags, "Created", (json_int_t) (row->created / 1000000),
                                                         "Size", (json_int_t) row->size));
                return 0;
        }
        if (o->quiet) {
                printf("%s\n", ctl_escape(short_id(row->id, o->no_trunc)));
                return 0;
        }
        format_time_ago(row->created, now, created, sizeof created);
        format_size_si(row->size, size, sizeof size);
        if (!row->tags || !row->tags[0])
                printf("%-40s %-15s %-14s %-20s %s\n", "<none>", "<none>",
                       ctl_escape(short_id(row->id, o->no_trunc)), created, size);
        STRV_FOREACH(t, row->tags) {
                split_tag(*t, repo, sizeof repo, &tag);
                printf("%-40s %-15s %-14s %-20s %s\n", ctl_escape(repo), ctl_escape(tag),
                       ctl_escape(short_id(row->id, o->no_trunc)), created, size);
        }
        return 0;
}

int verb_image_ls(int argc, char *argv[]) {
        static const struct option options[] = {
                { "quiet", no_argument, NULL, 'q' },
                { "all", no_argument, NULL, 'a' },
                { "no-trunc", no_argument, NULL, 'T' },
                {}
        };
        _cleanup_(sd_bus_flush_close_unrefp) sd_bus *bus = NULL;
        _cleanup_(sd_bus_message_unrefp) sd_bus_message *reply = NULL;
        ListOptions o = {};
        int c, r;

        while ((c = getopt_long(argc, argv, "qa", options, NULL)) >= 0)
                switch (c) {
                case 'q': o.quiet = true; break;
                case 'a': o.all = true; break;
                case 'T': o.no_trunc = true; break;
                default: return -EINVAL;
                }
        r = ctl_connect(&bus);
        if (r >= 0)
                r = list_images(bus, &reply);
        if (r < 0)
                return r;
        if (arg_json)
                o.json = json_array();
        else if (!o.quiet)
                printf("%-40s %-15s %-14s %-20s %s\n", "REPOSITORY", "TAG", "IMAGE ID", "CREATED", "SIZE");
        r = foreach_image(reply, print_image_row, &o);
        if (o.json) {
                ctl_print_json(o.json);
                json_decref(o.json);
        }
        return r < 0 ? r : 0;
}

/* Prints "Loaded image: busybox:latest" for every tag of the ids, as docker does. */
typedef struct LoadedPrint {
        char **ids;
} LoadedPrint;

static int print_loaded_row(const ImageRow *row, void *userdata) {
        LoadedPrint *p = userdata;
        char repo[256];
        const char *tag;

        if (!strv_contains(p->ids, row->id))
                return 0;
        if (!row->tags || !row->tags[0])
                printf("Loaded image ID: %s\n", ctl_escape(row->id));
        STRV_FOREACH(t, row->tags) {
                split_tag(*t, repo, sizeof repo, &tag);
                printf("Loaded image: %s:%s\n", ctl_escape(repo), ctl_escape(tag));
        }
        return 0;
}

static int new_manager_call(sd_bus *bus, const char *member, sd_bus_message **ret) {
        int r = sd_bus_message_new_method_call(bus, ret, BERTH_BUS_NAME, BERTH_MANAGER_PATH,
                                               BERTH_MANAGER_IFACE, member);
        return r < 0 ? ctl_call_failed(member, NULL, r) : 0;
}

/* Sends a call that starts a job (the options dictionary is appended here)
 * and waits for the job to end. */
static int run_job(sd_bus *bus, sd_bus_message *m, const char *verb, char ***ret_ids) {
        int r = sd_bus_message_append(m, "a{sv}", 0);

        if (r < 0)
                return ctl_call_failed(verb, NULL, r);
        return ctl_job_run(bus, m, verb, ret_ids);
}

static int open_input(const char *path) {
        int fd, r;

        if (!path || streq(path, "-")) {
                if (isatty(STDIN_FILENO)) {
                        fprintf(stderr, "Error: refusing to read an archive from a terminal; use -i FILE or a pipe.\n");
                        return -ENOTTY;
                }
                return STDIN_FILENO;
        }
        fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY);
        if (fd < 0) {
                r = -errno;
                fprintf(stderr, "Error: cannot open %s: %s\n", path, strerror(-r));
                return r;
        }
        return fd;
}

int verb_image_load(int argc, char *argv[]) {
        static const struct option options[] = {
                { "input", required_argument, NULL, 'i' },
                { "quiet", no_argument, NULL, 'q' },
                {}
        };
        _cleanup_(sd_bus_flush_close_unrefp) sd_bus *bus = NULL;
        _cleanup_(sd_bus_message_unrefp) sd_bus_message *reply = NULL, *m = NULL;
        _cleanup_strv_free_ char **ids = NULL;
        const char *input = NULL;
        int c, fd, r;

        while ((c = getopt_long(argc, argv, "i:q", options, NULL)) >= 0)
                switch (c) {
                case 'i': input = optarg; break;
                case 'q': break;
                default: return -EINVAL;
                }
        fd = open_input(input);
        if (fd < 0)
                return fd;
        r = ctl_connect(&bus);
        if (r >= 0)
                r = new_manager_call(bus, "LoadImage", &m);
        if (r >= 0) {
                r = sd_bus_message_append(m, "h", fd);
                if (r < 0)
                        r = ctl_call_failed("load", NULL, r);
        }
        if (r >= 0)
                r = run_job(bus, m, "load", &ids);
        if (r >= 0)
                r = list_images(bus, &reply);
        if (r < 0)
                return r;
        return foreach_image(reply, print_loaded_row, &(LoadedPrint) { .ids = ids });
}

int verb_image_import(int argc, char *argv[]) {
        static const struct option options[] = {
                { "change", required_argument, NULL, 'c' },
                { "message", required_argument, NULL, 'm' },
                {}
        };
        _cleanup_(sd_bus_flush_close_unrefp) sd_bus *bus = NULL;
        _cleanup_(sd_bus_message_unrefp) sd_bus_message *m = NULL;
        _cleanup_strv_free_ char **changes = NULL, **ids = NULL;
        int c, fd, r;

        while ((c = getopt_long(argc, argv, "c:m:", options, NULL)) >= 0)
                switch (c) {
                case 'c':
                        if (strv_extend(&changes, optarg) < 0)
                                return ctl_oom();
                        break;
                case 'm': break;
                default: return -EINVAL;
                }
        if (optind >= argc || argc - optind > 2) {
                fprintf(stderr, "Usage: berthctl image import FILE|- [REPOSITORY[:TAG]] [--change INSTRUCTION]...\n");
                return -EINVAL;
        }
        fd = open_input(argv[optind]);
        if (fd < 0)
                return fd;
        r = ctl_connect(&bus);
        if (r >= 0)
                r = new_manager_call(bus, "ImportImage", &m);
        if (r >= 0) {
                r = sd_bus_message_append(m, "hs", fd, argc - optind == 2 ? argv[optind + 1] : "");
                if (r >= 0)
                        r = sd_bus_message_append_strv(m, changes);
                if (r < 0)
                        r = ctl_call_failed("import", NULL, r);
        }
        if (r >= 0)
                r = run_job(bus, m, "import", &ids);
        if (r < 0)
                return r;
        STRV_FOREACH(id, ids)
                printf("%s\n", ctl_escape(*id));
        return 0;
}

int verb_image_save(int argc, char *argv[]) {
        static const struct option options[] = {
                { "output", required_argument, NULL, 'o' },
                { "format", required_argument, NULL, 'f' },
                {}
        };
        _cleanup_(sd_bus_flush_close_unrefp) sd_bus *bus = NULL;
        _cleanup_(sd_bus_message_unrefp) sd_bus_message *m = NULL;
        const char *output = NULL, *format = "docker-archive";
        _cleanup_close_ int fd = -EBADF;
        int c, r;

        while ((c = getopt_long(argc, argv, "o:", options, NULL)) >= 0)
                switch (c) {
                case 'o': output = optarg; break;
                case 'f': format = optarg; break;
                default: return -EINVAL;
                }
        if (optind >= argc) {
                fprintf(stderr, "Usage: berthctl image save [-o FILE] [--format docker-archive|oci-archive] IMAGE...\n");
                return -EINVAL;
        }
        if (!output && isatty(STDOUT_FILENO)) {
                fprintf(stderr, "Error: refusing to write an archive to a terminal; use -o FILE or redirect.\n");
                return -ENOTTY;
        }
        fd = output ? open(output, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC | O_NOCTTY, 0644) : dup(STDOUT_FILENO);
        if (fd < 0) {
                r = -errno;
                fprintf(stderr, "Error: cannot open %s: %s\n", output ?: "stdout", strerror(-r));
                return r;
        }
        r = ctl_connect(&bus);
        if (r >= 0)
                r = new_manager_call(bus, "SaveImage", &m);
        if (r >= 0) {
                r = sd_bus_message_append(m, "h", fd);
                if (r >= 0)
                        r = sd_bus_message_append_strv(m, argv + optind);
                if (r >= 0)
                        r = sd_bus_message_append(m, "s", format);
                if (r < 0)
                        r = ctl_call_failed("save", NULL, r);
        }
        if (r >= 0)
                r = run_job(bus, m, "save", NULL);
        if (r < 0 && output)
                (void) unlink(output);
        return r < 0 ? r : 0;
}

static int get_image_json(sd_bus *bus, const char *name, json_t **ret) {
        _cleanup_(sd_bus_error_free) sd_bus_error error = SD_BUS_ERROR_NULL;
        _cleanup_(sd_bus_message_unrefp) sd_bus_message *reply = NULL, *props = NULL;
        const char *path;
        int r;

        r = ctl_call(bus, "GetImage", &reply, "s", name);
        if (r < 0)
                return r;
        r = sd_bus_message_read(reply, "o", &path);
        if (r >= 0)
                r = sd_bus_call_method(bus, BERTH_BUS_NAME, path, "org.freedesktop.DBus.Properties",
                                       "GetAll", &error, &props, "s", BERTH_IMAGE_IFACE);
        if (r >= 0)
                r = bus_message_read_dict_json(props, ret);
        if (r < 0)
                return ctl_call_failed(name, &error, r);
        return 0;
}

int verb_image_inspect(int argc, char *argv[]) {
        _cleanup_(sd_bus_flush_close_unrefp) sd_bus *bus = NULL;
        json_t *all;
        int r, ret = 0;

        if (argc < 2) {
                fprintf(stderr, "Usage: berthctl image inspect IMAGE...\n");
                return -EINVAL;
        }
        r = ctl_connect(&bus);
        if (r < 0)
                return r;
        all = json_array();
        for (int i = 1; i < argc; i++) {
                json_t *j = NULL;
                r = get_image_json(bus, argv[i], &j);
                if (r < 0)
                        ret = r;
                else
                        json_array_append_new(all, j);
        }
        ctl_print_json(all);
        json_decref(all);
        return ret;
}

int verb_image_history(int argc, char *argv[]) {
        _cleanup_(sd_bus_flush_close_unrefp) sd_bus *bus = NULL;
        json_t *j = NULL, *h, *e;
        size_t i;
        int r;

        if (argc != 2) {
                fprintf(stderr, "Usage: berthctl image history IMAGE\n");
                return -EINVAL;
        }
        r = ctl_connect(&bus);
        if (r >= 0)
                r = get_image_json(bus, argv[1], &j);
        if (r < 0)
                return r;
        h = json_object_get(j, "History");
        if (arg_json)
                ctl_print_json(h);
        else {
                uint64_t now = now_usec(CLOCK_REALTIME);
                printf("%-20s %-50s %s\n", "CREATED", "CREATED BY", "COMMENT");
                /* Newest first, as docker prints it. */
                for (i = json_array_size(h); i > 0; i--) {
                        char ago[64];
                        e = json_array_get(h, i - 1);
                        format_time_ago((uint64_t) json_integer_value(json_array_get(e, 0)), now, ago, sizeof ago);
                        printf("%-20s %-50.50s %s\n", ago, ctl_escape(strempty(json_string_value(json_array_get(e, 1)))),
                               ctl_escape(strempty(json_string_value(json_array_get(e, 3)))));
                }
        }
        json_decref(j);
        return 0;
}

int verb_image_rm(int argc, char *argv[]) {
        static const struct option options[] = {
                { "force", no_argument, NULL, 'f' },
                {}
        };
        _cleanup_(sd_bus_flush_close_unrefp) sd_bus *bus = NULL;
        bool force = false;
        int c, r, ret = 0;

        while ((c = getopt_long(argc, argv, "f", options, NULL)) >= 0)
                switch (c) {
                case 'f': force = true; break;
                default: return -EINVAL;
                }
        if (optind >= argc) {
                fprintf(stderr, "Usage: berthctl image rm [-f] IMAGE...\n");
                return -EINVAL;
        }
        r = ctl_connect(&bus);
        if (r < 0)
                return r;
        for (int i = optind; i < argc; i++) {
                _cleanup_(sd_bus_message_unrefp) sd_bus_message *reply = NULL;
                _cleanup_strv_free_ char **untagged = NULL, **deleted = NULL;

                r = ctl_call(bus, "RemoveImage", &reply, "sb", argv[i], force);
                if (r >= 0) {
                        r = sd_bus_message_read_strv(reply, &untagged);
                        if (r >= 0)
                                r = sd_bus_message_read_strv(reply, &deleted);
                        if (r < 0)
                                r = ctl_bad_reply(r);
                }
                if (r < 0) {
                        ret = r;
                        continue;
                }
                STRV_FOREACH(u, untagged)
                        printf("Untagged: %s\n", ctl_escape(*u));
                STRV_FOREACH(d, deleted)
                        printf("Deleted: %s\n", ctl_escape(*d));
        }
        return ret;
}

int verb_image_tag(int argc, char *argv[]) {
        _cleanup_(sd_bus_flush_close_unrefp) sd_bus *bus = NULL;
        int r;

        if (argc != 3) {
                fprintf(stderr, "Usage: berthctl image tag SOURCE_IMAGE TARGET_IMAGE[:TAG]\n");
                return -EINVAL;
        }
        r = ctl_connect(&bus);
        if (r >= 0)
                r = ctl_call(bus, "TagImage", NULL, "ss", argv[1], argv[2]);
        return r < 0 ? r : 0;
}

int verb_image_untag(int argc, char *argv[]) {
        _cleanup_(sd_bus_flush_close_unrefp) sd_bus *bus = NULL;
        int r;

        if (argc != 2) {
                fprintf(stderr, "Usage: berthctl image untag IMAGE[:TAG]\n");
                return -EINVAL;
        }
        r = ctl_connect(&bus);
        if (r >= 0)
                r = ctl_call(bus, "UntagImage", NULL, "s", argv[1]);
        return r < 0 ? r : 0;
}

int verb_image_prune(int argc, char *argv[]) {
        static const struct option options[] = {
                { "all", no_argument, NULL, 'a' },
                { "force", no_argument, NULL, 'f' },
                {}
        };
        _cleanup_(sd_bus_flush_close_unrefp) sd_bus *bus = NULL;
        _cleanup_(sd_bus_message_unrefp) sd_bus_message *reply = NULL;
        _cleanup_strv_free_ char **deleted = NULL;
        uint64_t reclaimed = 0;
        bool all = false;
        char size[32];
        int c, r;

        while ((c = getopt_long(argc, argv, "af", options, NULL)) >= 0)
                switch (c) {
                case 'a': all = true; break;
                case 'f': break;   /* berthctl never prompts */
                default: return -EINVAL;
                }
        r = ctl_connect(&bus);
        if (r >= 0)
                r = ctl_call(bus, "PruneImages", &reply, "b", all);
        if (r >= 0) {
                r = sd_bus_message_read_strv(reply, &deleted);
                if (r >= 0)
                        r = sd_bus_message_read(reply, "t", &reclaimed);
                if (r < 0)
                        r = ctl_bad_reply(r);
        }
        if (r < 0)
                return r;
        if (deleted && deleted[0])
                printf("Deleted Images:\n");
        STRV_FOREACH(d, deleted)
                printf("deleted: %s\n", ctl_escape(*d));
        printf("Total reclaimed space: %s\n", format_size_si(reclaimed, size, sizeof size));
        return 0;
}

static const Verb image_verbs[] = {
        { "ls", "list", verb_image_ls, "[-a] [-q] [--no-trunc]", "List images." },
        { "load", NULL, verb_image_load, "[-i FILE]", "Load images from a docker-archive or oci-archive (stdin by default)." },
        { "import", NULL, verb_image_import, "FILE|- [REPOSITORY[:TAG]] [-c INSTRUCTION]...", "Create an image from a root filesystem tarball." },
        { "save", NULL, verb_image_save, "[-o FILE] [--format docker-archive|oci-archive] IMAGE...", "Write images to an archive." },
        { "inspect", NULL, verb_image_inspect, "IMAGE...", "Show everything about images, as JSON." },
        { "history", NULL, verb_image_history, "IMAGE", "Show the history of an image." },
        { "rm", "remove", verb_image_rm, "[-f] IMAGE...", "Remove images (untag, then delete unused layers)." },
        { "tag", NULL, verb_image_tag, "SOURCE TARGET", "Give an image another name." },
        { "untag", NULL, verb_image_untag, "IMAGE[:TAG]", "Remove a name from an image." },
        { "prune", NULL, verb_image_prune, "[-a] [-f]", "Remove dangling images (-a: all unused) and the partial blobs unfinished pulls kept." },
};

int verb_image(int argc, char *argv[]) {
        const Verb *v = NULL;

        if (argc < 2 || streq(argv[1], "--help") || streq(argv[1], "-h")) {
                printf("Usage: berthctl image COMMAND\n\nManage images.\n\nCommands:\n");
                for (size_t i = 0; i < ELEMENTSOF(image_verbs); i++)
                        printf("  %-10s %s\n", image_verbs[i].name, image_verbs[i].summary);
                return argc < 2 ? -EINVAL : 0;
        }
        for (size_t i = 0; i < ELEMENTSOF(image_verbs); i++)
                if (streq(image_verbs[i].name, argv[1]) || streq_ptr(image_verbs[i].alias, argv[1]))
                        v = &image_verbs[i];
        if (!v) {
                fprintf(stderr, "Unknown command 'image %s'. See 'berthctl image --help'.\n", argv[1]);
                return -EINVAL;
        }
        if (ctl_want_help(argc - 1, argv + 1, v))
                return 0;
        optind = 0;
        return v->run(argc - 1, argv + 1);
}
