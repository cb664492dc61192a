/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <getopt.h>
#include <pwd.h>

#include "berthctl.h"
#include "bus-util.h"

/* berthctl ps, inspect and top. */

typedef struct PsOptions {
        bool quiet;
        bool no_trunc;
        bool all;
        const char *format;
        uint64_t now;
} PsOptions;

/* Field by field: sd_bus_message_read() parses its signature again for
 * every row, a sixth of a 1,000-container ps. */
static int read_container_row(sd_bus_message *reply, ContainerRow *row) {
        const char **strings[] = { &row->id, &row->name, &row->image, &row->state, &row->command };
        uint64_t *times[] = { &row->created, &row->started, &row->finished };
        int r;

        r = sd_bus_message_enter_container(reply, 'r', "ssssstttio");
        if (r <= 0)
                return r;
        for (size_t i = 0; r >= 0 && i < ELEMENTSOF(strings); i++)
                r = sd_bus_message_read_basic(reply, 's', strings[i]);
        for (size_t i = 0; r >= 0 && i < ELEMENTSOF(times); i++)
                r = sd_bus_message_read_basic(reply, 't', times[i]);
        if (r >= 0)
                r = sd_bus_message_read_basic(reply, 'i', &row->exit_code);
        if (r >= 0)
                r = sd_bus_message_read_basic(reply, 'o', &row->path);
        if (r >= 0)
                r = sd_bus_message_exit_container(reply);
        return r < 0 ? r : 1;
}

/* The rows point into reply, which must outlive them. */
static int read_container_rows(sd_bus_message *reply, ContainerRow **ret, size_t *ret_n) {
        _cleanup_free_ ContainerRow *rows = NULL;
        size_t n = 0, allocated = 0;
        int r;

        r = sd_bus_message_enter_container(reply, 'a', "(ssssstttio)");
        while (r >= 0) {
                ContainerRow row = {};

                r = read_container_row(reply, &row);
                if (r <= 0)
                        break;
                if (n == allocated) {
                        ContainerRow *p = reallocarray(rows, allocated = MAX(allocated * 2, 64u), sizeof *rows);
                        if (!p)
                                return ctl_oom();
                        rows = p;
                }
                rows[n++] = row;
        }
        if (r < 0)
                return ctl_bad_reply(r);
        *ret = TAKE_PTR(rows);
        *ret_n = n;
        return 0;
}

static int row_compare_newest_first(const void *a, const void *b) {
        const ContainerRow *x = a, *y = b;

        if (x->created != y->created)
                return x->created < y->created ? 1 : -1;
        return strcmp(x->id, y->id);
}

/* One ListContainers call, sorted newest first. */
int ctl_list_containers(sd_bus *bus, bool all, sd_bus_message **ret_reply, ContainerRow **ret, size_t *ret_n) {
        _cleanup_(sd_bus_message_unrefp) sd_bus_message *reply = NULL;
        int r;

        r = ctl_call(bus, "ListContainers", &reply, "b", all);
        if (r >= 0)
                r = read_container_rows(reply, ret, ret_n);
        if (r < 0)
                return r;
        qsort(*ret, *ret_n, sizeof **ret, row_compare_newest_first);
        *ret_reply = TAKE_PTR(reply);
        return 0;
}

static const char *row_id(const ContainerRow *row, bool no_trunc, char *buf, size_t n) {
        if (no_trunc)
                return row->id;
        snprintf(buf, n, "%.12s", row->id);
        return buf;
}

/* "\"sh -c 'echo out; e…\"": quoted, at most 20 characters inside. */
static const char *row_command(const ContainerRow *row, bool no_trunc, char *buf, size_t n) {
        const char *s = row->command;
        size_t chars = 0, bytes = 0;

        if (no_trunc || utf8_width(s) <= 20) {
                snprintf(buf, n, "\"%s\"", s);
                return buf;
        }
        for (; s[bytes] && chars < 20; bytes++)
                if (((unsigned char) s[bytes] & 0xC0) != 0x80 && ++chars == 20)
                        break;
        snprintf(buf, n, "\"%.*s…\"", (int) bytes, s);
        return buf;
}

static const char *row_status(const ContainerRow *row, uint64_t now, char *buf, size_t n) {
        char d[64];

        if (IN_SET_STR(row->state, "running", "paused")) {
                format_human_duration(now > row->started ? now - row->started : 0, d, sizeof d);
                snprintf(buf, n, "Up %s%s", d, streq(row->state, "paused") ? " (Paused)" : "");
        } else if (streq(row->state, "exited")) {
                format_human_duration(now > row->finished ? now - row->finished : 0, d, sizeof d);
                snprintf(buf, n, "Exited (%d) %s ago", (int) row->exit_code, d);
        } else if (streq(row->state, "removing"))
                snprintf(buf, n, "Removal In Progress");
        else
                snprintf(buf, n, "Created");
        return buf;
}

static const char *row_running_for(const ContainerRow *row, uint64_t now, char *buf, size_t n) {
        char d[64];

        format_human_duration(now > row->created ? now - row->created : 0, d, sizeof d);
        snprintf(buf, n, "%s ago", d);
        return buf;
}

static json_t *row_json(const ContainerRow *row, uint64_t now) {
        char status[128];

        return json_pack("{s:s,s:s,s:s,s:s,s:I,s:s,s:s,s:s,s:i}",
                         "Id", row->id, "Names", row->name, "Image", row->image, "Command", row->command,
                         "Created", (json_int_t) (row->created / 1000000), "State", row->state,
                         "Status", row_status(row, now, status, sizeof status), "Ports", strempty(row->ports),
                         "ExitCode", (int) row->exit_code);
}

static const char *field_id(const ContainerRow *row, const PsOptions *o, char *buf, size_t n) {
        return row_id(row, o->no_trunc, buf, n);
}

static const char *field_names(const ContainerRow *row, const PsOptions *o, char *buf, size_t n) {
        return row->name;
}

static const char *field_image(const ContainerRow *row, const PsOptions *o, char *buf, size_t n) {
        return row->image;
}

static const char *field_command(const ContainerRow *row, const PsOptions *o, char *buf, size_t n) {
        return row_command(row, o->no_trunc, buf, n);
}

static const char *field_created_at(const ContainerRow *row, const PsOptions *o, char *buf, size_t n) {
        time_t t = (time_t) (row->created / 1000000);
        struct tm tm;

        if (!localtime_r(&t, &tm) || strftime(buf, n, "%Y-%m-%d %H:%M:%S %z %Z", &tm) == 0)
                buf[0] = 0;
        return buf;
}

static const char *field_running_for(const ContainerRow *row, const PsOptions *o, char *buf, size_t n) {
        return row_running_for(row, o->now, buf, n);
}

static const char *field_status(const ContainerRow *row, const PsOptions *o, char *buf, size_t n) {
        return row_status(row, o->now, buf, n);
}

static const char *field_state(const ContainerRow *row, const PsOptions *o, char *buf, size_t n) {
        return row->state;
}

static const char *field_ports(const ContainerRow *row, const PsOptions *o, char *buf, size_t n) {
        return strempty(row->ports);
}

static const char *field_exit_code(const ContainerRow *row, const PsOptions *o, char *buf, size_t n) {
        snprintf(buf, n, "%d", (int) row->exit_code);
        return buf;
}

typedef struct PsField {
        const char *name;
        const char *header;
        const char *(*value)(const ContainerRow *row, const PsOptions *o, char *buf, size_t n);
} PsField;

static const PsField ps_fields[] = {
        { "ID", "CONTAINER ID", field_id }, { "Image", "IMAGE", field_image },
        { "Command", "COMMAND", field_command }, { "CreatedAt", "CREATED AT", field_created_at },
        { "RunningFor", "CREATED", field_running_for }, { "Status", "STATUS", field_status },
        { "State", "STATE", field_state }, { "Ports", "PORTS", field_ports },
        { "Names", "NAMES", field_names }, { "ExitCode", "EXIT CODE", field_exit_code },
};

static const PsField *ps_field_find(const char *name) {
        for (size_t i = 0; i < ELEMENTSOF(ps_fields); i++)
                if (streq(ps_fields[i].name, name))
                        return &ps_fields[i];
        return NULL;
}

#define PS_DEFAULT_FORMAT "table {{.ID}}\t{{.Image}}\t{{.Command}}\t{{.RunningFor}}\t{{.Status}}\t{{.Ports}}\t{{.Names}}"

/* A --format template, parsed once: literal text and placeholders in turn.
 * A part with neither field nor json is literal text of the template. */
typedef struct TemplatePart {
        const char *text;
        size_t len;
        const PsField *field;
        bool json;                     /* {{json .}} */
} TemplatePart;

typedef struct Template {
        TemplatePart *parts;
        size_t n;
} Template;

static void template_done(Template *t) {
        t->parts = mfree(t->parts);
        t->n = 0;
}

static int template_add(Template *t, TemplatePart part) {
        TemplatePart *p = reallocarray(t->parts, t->n + 1, sizeof *p);

        if (!p)
                return ctl_oom();
        t->parts = p;
        t->parts[t->n++] = part;
        return 0;
}

/* One {{...}} (s, len: what is between the braces) as a part. */
static int placeholder_part(const char *s, size_t len, TemplatePart *ret) {
        char inner[64];
        const PsField *f;

        while (len > 0 && *s == ' ')
                s++, len--;
        while (len > 0 && s[len - 1] == ' ')
                len--;
        snprintf(inner, sizeof inner, "%.*s", (int) MIN(len, sizeof inner - 1), s);
        if (streq(inner, "json .")) {
                *ret = (TemplatePart) { .json = true };
                return 0;
        }
        f = inner[0] == '.' ? ps_field_find(inner + 1) : NULL;
        if (!f) {
                fprintf(stderr, "Error: unknown placeholder '{{%s}}' in --format; known are .ID, .Names, .Image, "
                        ".Command, .CreatedAt, .RunningFor, .Status, .State, .Ports, .ExitCode and 'json .'.\n", inner);
                return -EINVAL;
        }
        *ret = (TemplatePart) { .field = f };
        return 0;
}

/* The parts point into s, which must outlive them. */
static int template_parse(const char *s, Template *ret) {
        _cleanup_(template_done) Template t = {};
        int r = 0;

        while (*s && r >= 0) {
                const char *open = strstr(s, "{{"), *close = open ? strstr(open + 2, "}}") : NULL;
                TemplatePart p;

                if (open && !close) {
                        fprintf(stderr, "Error: unterminated '{{' in --format.\n");
                        return -EINVAL;
                }
                if (!open) {
                        r = template_add(&t, (TemplatePart) { .text = s, .len = strlen(s) });
                        break;
                }
                r = template_add(&t, (TemplatePart) { .text = s, .len = open - s });
                if (r >= 0)
                        r = placeholder_part(open + 2, close - open - 2, &p);
                if (r >= 0)
                        r = template_add(&t, p);
                s = close + 2;
        }
        if (r < 0)
                return r;
        *ret = t;
        t = (Template) {};
        return 0;
}

/* Renders the template for row (the header for NULL) into out. */
static void template_render(const Template *t, const ContainerRow *row, const PsOptions *o, FILE *out) {
        char buf[4096];

        for (size_t i = 0; i < t->n; i++) {
                const TemplatePart *p = &t->parts[i];

                if (p->json) {
                        json_t *j = row ? row_json(row, o->now) : NULL;
                        if (j)
                                ctl_dump_json(j, JSON_COMPACT, out);
                        json_decref(j);
                } else if (p->field)
                        /* Escaped here, before the table is laid out: a tab or a
                         * newline in a name must not make a column or a row. */
                        fputs(strempty(row ? ctl_escape(p->field->value(row, o, buf, sizeof buf))
                                           : p->field->header), out);
                else
                        fwrite(p->text, 1, p->len, out);
        }
}

/* Docker's templates take "\t" and "\n" as written on the command line. */
static char *unescape_format(const char *f) {
        char *s = strdup(f), *d = s;

        if (!s)
                return NULL;
        for (const char *p = f; *p; p++) {
                if (p[0] == '\\' && (p[1] == 't' || p[1] == 'n')) {
                        *d++ = *++p == 't' ? '\t' : '\n';
                        continue;
                }
                *d++ = *p;
        }
        *d = 0;
        return s;
}

/* A FILE that appends to a buffer grown by doubling: open_memstream() zeroes
 * every new half, and on this VM each fresh page costs a fault. */
typedef struct Buffer {
        char *data;
        size_t size, allocated;
} Buffer;

static ssize_t buffer_write(void *cookie, const char *p, size_t n) {
        Buffer *b = cookie;

        if (greedy_realloc((void **) &b->data, &b->allocated, b->size + n, 1) < 0)
                return -1;
        memcpy(b->data + b->size, p, n);
        b->size += n;
        return (ssize_t) n;
}

/* The header and the rows go into one buffer, each ended by a NUL, which no
 * cell contains, and are laid out from there (a stream per row cost a fifth
 * of a 1,000-container ps: each zeroes a fresh buffer). */
static int print_rows_table(const Template *t, const ContainerRow *rows, size_t n, const PsOptions *o) {
        _cleanup_free_ Buffer *b = calloc(1, sizeof *b);
        FILE *out = b ? fopencookie(b, "w", (cookie_io_functions_t) { .write = buffer_write }) : NULL;
        int r = 0;

        if (!out)
                return ctl_oom();
        template_render(t, NULL, o, out);
        for (size_t i = 0; i < n; i++) {
                fputc(0, out);
                template_render(t, &rows[i], o, out);
        }
        fputc(0, out);
        if (fclose(out) != 0)
                r = ctl_oom();    /* buffer_write() fails only so */
        else
                table_print_lines(b->data, b->size, stdout);
        free(b->data);
        return r;
}

static int print_rows(const ContainerRow *rows, size_t n, const PsOptions *o) {
        _cleanup_free_ char *tmpl = NULL;
        _cleanup_(template_done) Template t = {};
        const char *table;
        int r;

        tmpl = unescape_format(o->quiet ? "{{.ID}}" : streq_ptr(o->format, "json") ? "{{json .}}" :
                               o->format ?: PS_DEFAULT_FORMAT);
        if (!tmpl)
                return ctl_oom();
        table = startswith(tmpl, "table");
        if (table) {
                table += strspn(table, " ");
                table = isempty(table) ? PS_DEFAULT_FORMAT + strlen("table ") : table;
        }
        /* Parsed once, so that a bad template fails with no containers too. */
        r = template_parse(table ?: tmpl, &t);
        if (r < 0)
                return r;
        if (table)
                return print_rows_table(&t, rows, n, o);
        for (size_t i = 0; i < n; i++) {
                template_render(&t, &rows[i], o, stdout);
                putchar('\n');
        }
        return 0;
}

static int print_rows_json(const ContainerRow *rows, size_t n, const PsOptions *o) {
        json_t *a = json_array();

        if (!a)
                return ctl_oom();
        for (size_t i = 0; i < n; i++)
                json_array_append_new(a, row_json(&rows[i], o->now));
        ctl_print_json(a);
        json_decref(a);
        return 0;
}

/* Only running containers have bound ports: one Get each of those. A
 * container gone meanwhile just shows none. */
static void rows_fetch_ports(sd_bus *bus, ContainerRow *rows, size_t n) {
        for (size_t i = 0; i < n; i++)
                if (IN_SET_STR(rows[i].state, "running", "paused"))
                        (void) ctl_container_ports(bus, rows[i].path, &rows[i].ports);
}

int verb_ps(int argc, char *argv[]) {
        static const struct option options[] = {
                { "all", no_argument, NULL, 'a' },
                { "quiet", no_argument, NULL, 'q' },
                { "no-trunc", no_argument, NULL, 'T' },
                { "format", required_argument, NULL, 'f' },
                {}
        };
        _cleanup_(sd_bus_flush_close_unrefp) sd_bus *bus = NULL;
        _cleanup_(sd_bus_message_unrefp) sd_bus_message *reply = NULL;
        _cleanup_free_ ContainerRow *rows = NULL;
        PsOptions o = {};
        size_t n = 0;
        int c, r;

        while ((c = getopt_long(argc, argv, "aq", options, NULL)) >= 0)
                switch (c) {
                case 'a': o.all = true; break;
                case 'q': o.quiet = true; break;
                case 'T': o.no_trunc = true; break;
                case 'f': o.format = optarg; break;
                default: return -EINVAL;
                }
        if (optind < argc) {
                fprintf(stderr, "Error: 'berthctl ps' accepts no arguments.\n");
                return -EINVAL;
        }
        r = ctl_connect(&bus);
        if (r >= 0)
                r = ctl_list_containers(bus, o.all, &reply, &rows, &n);
        if (r < 0)
                return r;
        o.now = now_usec(CLOCK_REALTIME);
        if (!o.quiet)
                rows_fetch_ports(bus, rows, n);
        if (arg_json && !o.quiet && !o.format)
                r = print_rows_json(rows, n, &o);
        else
                r = print_rows(rows, n, &o);
        for (size_t i = 0; i < n; i++)
                free(rows[i].ports);
        return r < 0 ? r : 0;
}

/* Resolves a container name or id to its object path. Missing containers get
 * one sentence, "Error: No such container: NAME", unless quiet. */
int ctl_container_path(sd_bus *bus, const char *name, bool quiet, char **ret_path) {
        _cleanup_(sd_bus_error_free) sd_bus_error error = SD_BUS_ERROR_NULL;
        _cleanup_(sd_bus_message_unrefp) sd_bus_message *reply = NULL;
        const char *path;
        int r;

        r = sd_bus_call_method(bus, BERTH_BUS_NAME, BERTH_MANAGER_PATH, BERTH_MANAGER_IFACE,
                               "GetContainer", &error, &reply, "s", name);
        if (r < 0 && sd_bus_error_has_name(&error, BERTH_ERROR_NO_SUCH_CONTAINER)) {
                if (!quiet)
                        fprintf(stderr, "Error: No such container: %s\n", ctl_escape(name));
                return -ENOENT;
        }
        if (r >= 0)
                r = sd_bus_message_read(reply, "o", &path);
        if (r < 0)
                return ctl_call_failed(name, &error, r);
        *ret_path = strdup(path);
        return *ret_path ? 0 : ctl_oom();
}

/* Properties.GetAll of one object as a JSON object. */
int ctl_get_all_json(sd_bus *bus, const char *path, const char *iface, json_t **ret) {
        _cleanup_(sd_bus_error_free) sd_bus_error error = SD_BUS_ERROR_NULL;
        _cleanup_(sd_bus_message_unrefp) sd_bus_message *reply = NULL;
        int r;

        r = sd_bus_call_method(bus, BERTH_BUS_NAME, path, "org.freedesktop.DBus.Properties", "GetAll",
                               &error, &reply, "s", iface);
        if (r >= 0)
                r = bus_message_read_dict_json(reply, ret);
        if (r < 0)
                return ctl_call_failed(path, &error, r);
        return 0;
}

/* A Manager call about one container; Berth's own errors ("No such container:
 * c1", "Container c1 is not running.") are printed as berthd wrote them. */
int ctl_container_call(sd_bus *bus, const char *member, const char *name, bool quiet, sd_bus_message **ret) {
        _cleanup_(sd_bus_error_free) sd_bus_error error = SD_BUS_ERROR_NULL;
        int r;

        r = sd_bus_call_method(bus, BERTH_BUS_NAME, BERTH_MANAGER_PATH, BERTH_MANAGER_IFACE, member,
                               &error, ret, "s", name);
        if (r >= 0)
                return 0;
        if (!sd_bus_error_is_set(&error) || !startswith(error.name, "org.berth.Berth1.Error."))
                return ctl_call_failed(member, &error, r);
        if (!quiet)
                fprintf(stderr, "Error: %s\n", ctl_escape(error.message ?: error.name));
        return sd_bus_error_has_name(&error, BERTH_ERROR_NO_SUCH_CONTAINER) ? -ENOENT : -ESRCH;
}

static int image_path(sd_bus *bus, const char *name, char **ret_path) {
        _cleanup_(sd_bus_error_free) sd_bus_error error = SD_BUS_ERROR_NULL;
        _cleanup_(sd_bus_message_unrefp) sd_bus_message *reply = NULL;
        const char *path;
        int r;

        r = sd_bus_call_method(bus, BERTH_BUS_NAME, BERTH_MANAGER_PATH, BERTH_MANAGER_IFACE,
                               "GetImage", &error, &reply, "s", name);
        if (r < 0 && sd_bus_error_has_names(&error, BERTH_ERROR_NO_SUCH_IMAGE, BERTH_ERROR_INVALID_REFERENCE))
                return -ENOENT;
        if (r >= 0)
                r = sd_bus_message_read(reply, "o", &path);
        if (r < 0)
                return ctl_call_failed(name, &error, r);
        *ret_path = strdup(path);
        return *ret_path ? 0 : ctl_oom();
}

/* "10.88.0.2/16" into the IPAddress and IPPrefixLen of Docker's inspect. */
static void set_address(json_t *o, const char *addr_key, const char *len_key, const char *cidr) {
        const char *slash = strchr(cidr, '/');

        json_object_set_new(o, addr_key, json_stringn(cidr, slash ? (size_t) (slash - cidr) : strlen(cidr)));
        json_object_set_new(o, len_key, json_integer(slash ? atoi(slash + 1) : 0));
}

/* One (name, addr4, gateway4, addr6, gateway6, mac, aliases) of the
 * Networks property as an endpoint of Docker's NetworkSettings.Networks. */
static json_t *endpoint_json(json_t *e) {
        json_t *o = json_object();

        if (!o)
                return NULL;
        set_address(o, "IPAddress", "IPPrefixLen", json_string_value(json_array_get(e, 1)) ?: "");
        json_object_set(o, "Gateway", json_array_get(e, 2));
        set_address(o, "GlobalIPv6Address", "GlobalIPv6PrefixLen", json_string_value(json_array_get(e, 3)) ?: "");
        json_object_set(o, "IPv6Gateway", json_array_get(e, 4));
        json_object_set(o, "MacAddress", json_array_get(e, 5));
        json_object_set(o, "Aliases", json_array_get(e, 6));
        return o;
}

/* Ports as docker inspect shows them: {"80/tcp": [{"HostIp": "0.0.0.0", "HostPort": "8080"}]}. */
static json_t *ports_json(json_t *bound) {
        json_t *o = json_object(), *b;
        size_t i;

        json_array_foreach(bound, i, b) {
                const char *ip = json_string_value(json_array_get(b, 0)) ?: "";
                char key[32], port[8];
                json_t *l;

                snprintf(key, sizeof key, "%" JSON_INTEGER_FORMAT "/%s", json_integer_value(json_array_get(b, 2)),
                         json_string_value(json_array_get(b, 3)) ?: "");
                snprintf(port, sizeof port, "%" JSON_INTEGER_FORMAT, json_integer_value(json_array_get(b, 1)));
                l = json_object_get(o, key);
                if (!l)
                        json_object_set_new(o, key, l = json_array());
                if (isempty(ip)) {
                        json_array_append_new(l, json_pack("{s:s,s:s}", "HostIp", "0.0.0.0", "HostPort", port));
                        json_array_append_new(l, json_pack("{s:s,s:s}", "HostIp", "::", "HostPort", port));
                } else
                        json_array_append_new(l, json_pack("{s:s,s:s}", "HostIp", ip, "HostPort", port));
        }
        return o;
}

/* Docker's NetworkSettings, made of the Networks and Ports properties, for
 * the scripts that read it; the default bridge's address at the top too. */
static json_t *network_settings_json(json_t *j) {
        json_t *s = json_object(), *nets = json_object(), *e;
        size_t i;

        if (!s || !nets) {
                json_decref(s);
                json_decref(nets);
                return NULL;
        }
        json_array_foreach(json_object_get(j, "Networks"), i, e) {
                json_t *ep = endpoint_json(e);
                const char *name = json_string_value(json_array_get(e, 0));

                if (!ep || !name) {
                        json_decref(ep);
                        continue;
                }
                if (streq(name, "bridge"))
                        json_object_update(s, ep);
                json_object_set_new(nets, name, ep);
        }
        json_object_set_new(s, "Networks", nets);
        json_object_set_new(s, "Ports", ports_json(json_object_get(j, "Ports")));
        return s;
}

/* A container's Env is not a property (it holds secrets): GetEnvironment
 * gives it to whom polkit allows, and it is left out where berthd refuses. */
static int container_json(sd_bus *bus, const char *path, json_t **ret) {
        _cleanup_strv_free_ char **env = NULL;
        json_t *j = NULL, *a;
        int r;

        r = ctl_get_all_json(bus, path, BERTH_CONTAINER_IFACE, &j);
        if (r < 0)
                return r;
        json_object_set_new(j, "NetworkSettings", network_settings_json(j));
        _cleanup_(sd_bus_message_unrefp) sd_bus_message *reply = NULL;
        if (sd_bus_call_method(bus, BERTH_BUS_NAME, path, BERTH_CONTAINER_IFACE, "GetEnvironment", NULL, &reply,
                               NULL) >= 0 && sd_bus_message_read_strv(reply, &env) >= 0) {
                a = json_array();
                STRV_FOREACH(e, env)
                        if (!a || json_array_append_new(a, json_string(*e)) < 0)
                                break;
                if (!a || json_object_set_new(j, "Env", a) < 0) {
                        json_decref(j);
                        return ctl_oom();
                }
        }
        *ret = j;
        return 0;
}

/* Containers first; images too unless --type container, as docker inspect does. */
static int inspect_one(sd_bus *bus, const char *name, const char *type, json_t **ret) {
        _cleanup_free_ char *path = NULL;
        int r = -ENOENT;

        if (!streq(type, "image")) {
                r = ctl_container_path(bus, name, true, &path);
                if (r >= 0)
                        return container_json(bus, path, ret);
                if (r != -ENOENT)
                        return r;
        }
        if (!streq(type, "container")) {
                r = image_path(bus, name, &path);
                if (r >= 0)
                        return ctl_get_all_json(bus, path, BERTH_IMAGE_IFACE, ret);
                if (r != -ENOENT)
                        return r;
        }
        fprintf(stderr, "Error: No such %s: %s\n", streq(type, "image") ? "image" : "container", ctl_escape(name));
        return -ENOENT;
}

int verb_inspect(int argc, char *argv[]) {
        static const struct option options[] = {
                { "type", required_argument, NULL, 't' },
                {}
        };
        _cleanup_(sd_bus_flush_close_unrefp) sd_bus *bus = NULL;
        const char *type = "";
        json_t *all;
        int c, r, ret = 0;

        while ((c = getopt_long(argc, argv, "", options, NULL)) >= 0)
                switch (c) {
                case 't': type = optarg; break;
                default: return -EINVAL;
                }
        if (!IN_SET_STR(type, "", "container", "image")) {
                fprintf(stderr, "Error: --type must be 'container' or 'image', not '%s'.\n", type);
                return -EINVAL;
        }
        if (optind >= argc) {
                fprintf(stderr, "Usage: berthctl inspect [--type container|image] NAME...\n");
                return -EINVAL;
        }
        r = ctl_connect(&bus);
        if (r < 0)
                return r;
        all = json_array();
        for (int i = optind; i < argc; i++) {
                json_t *j = NULL;
                r = inspect_one(bus, argv[i], type, &j);
                if (r < 0)
                        ret = r;
                else
                        json_array_append_new(all, j);
        }
        ctl_print_json(all);
        json_decref(all);
        return ret;
}

static const char *user_name(uint32_t uid, char *buf, size_t n) {
        struct passwd pw, *found = NULL;
        char pwbuf[1024];

        if (getpwuid_r((uid_t) uid, &pw, pwbuf, sizeof pwbuf, &found) == 0 && found) {
                snprintf(buf, n, "%s", found->pw_name);
                return buf;
        }
        snprintf(buf, n, "%u", uid);
        return buf;
}

static int print_processes(sd_bus_message *reply, Table *t, json_t *json) {
        const char *cmd;
        uint32_t pid, ppid, uid;
        int r;

        r = sd_bus_message_enter_container(reply, 'a', "(uuus)");
        while (r >= 0 && (r = sd_bus_message_read(reply, "(uuus)", &pid, &ppid, &uid, &cmd)) > 0) {
                char user[64], spid[16], sppid[16];
                snprintf(spid, sizeof spid, "%u", pid);
                snprintf(sppid, sizeof sppid, "%u", ppid);
                user_name(uid, user, sizeof user);
                if (json)
                        json_array_append_new(json, json_pack("{s:s,s:i,s:i,s:i,s:s}", "User", user, "UID", (int) uid,
                                                              "PID", (int) pid, "PPID", (int) ppid, "CMD", cmd));
                else
                        r = table_add_many(t, user, spid, sppid, cmd);
        }
        if (r < 0)
                return ctl_bad_reply(r);
        return 0;
}

int verb_top(int argc, char *argv[]) {
        _cleanup_(sd_bus_flush_close_unrefp) sd_bus *bus = NULL;
        _cleanup_(sd_bus_message_unrefp) sd_bus_message *reply = NULL;
        _cleanup_(table_freep) Table *t = NULL;
        json_t *json = NULL;
        int r;

        if (argc != 2) {
                fprintf(stderr, "Usage: berthctl top CONTAINER\n");
                return -EINVAL;
        }
        r = ctl_connect(&bus);
        if (r >= 0)
                r = ctl_container_call(bus, "GetContainerProcesses", argv[1], false, &reply);
        if (r < 0)
                return r;
        t = table_new(4);
        if (!t || table_add_many(t, "UID", "PID", "PPID", "CMD") < 0)
                return ctl_oom();
        if (arg_json)
                json = json_array();
        r = print_processes(reply, t, json);
        if (r >= 0 && json)
                ctl_print_json(json);
        else if (r >= 0)
                table_print(t, stdout);
        json_decref(json);
        return r < 0 ? r : 0;
}
