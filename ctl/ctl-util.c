/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <stdarg.h>

#include "berthctl.h"
#include "bus-util.h"

bool arg_json = false;
const char *arg_host = NULL;

/* The errors that mean "berthd is not there" or "you may not talk to it". */
static bool error_is_unreachable(const sd_bus_error *error, int r) {
        if (error && sd_bus_error_is_set(error))
                return sd_bus_error_has_names(error,
                                              SD_BUS_ERROR_SERVICE_UNKNOWN,
                                              SD_BUS_ERROR_NAME_HAS_NO_OWNER,
                                              SD_BUS_ERROR_ACCESS_DENIED,
                                              SD_BUS_ERROR_AUTH_FAILED,
                                              SD_BUS_ERROR_NO_REPLY,
                                              "org.freedesktop.DBus.Error.Spawn.ChildExited",
                                              "org.freedesktop.DBus.Error.Spawn.Failed",
                                              SD_BUS_ERROR_DISCONNECTED,
                                              SD_BUS_ERROR_TIMEOUT);
        return IN_SET(r, -ECONNREFUSED, -ENOENT, -EACCES, -EPERM, -ENOTCONN, -ECONNRESET, -ETIMEDOUT);
}

int ctl_connect(sd_bus **ret) {
        int r;

        /* Before the bus: the agent must be registered before the first
         * call that polkitd may want to ask about. Without it, polkit's
         * "auth_admin" is a denial, which berthd explains. */
        r = ctl_polkit_agent_open();
        if (r < 0)
                fprintf(stderr, "Cannot run the authentication agent (%s); continuing without it.\n", strerror(-r));
        r = bus_open_berth(arg_host, ret);
        if (r < 0) {
                fprintf(stderr, "Cannot connect to the bus%s%s: %s. Is D-Bus running?\n",
                        arg_host ? " at " : "", strempty(arg_host), strerror(-r));
                return r;
        }
        /* Every call of ours may then have polkitd ask the user. */
        (void) sd_bus_set_allow_interactive_authorization(*ret, ctl_polkit_interactive());
        return 0;
}

/* berthd's own sentences for a denial by polkit (service/polkit.c), as
 * opposed to dbus-daemon's policy refusals, which carry the same name. */
static bool error_is_authorization(const sd_bus_error *error) {
        if (!error || !sd_bus_error_has_names(error, SD_BUS_ERROR_ACCESS_DENIED,
                                              SD_BUS_ERROR_INTERACTIVE_AUTHORIZATION_REQUIRED))
                return false;
        return error->message && (startswith(error->message, "Not authorized to ") ||
                                  startswith(error->message, "Authentication is required to "));
}

int ctl_call_failed(const char *what, const sd_bus_error *error, int r) {
        if (error_is_authorization(error)) {
                fprintf(stderr, "%s\n", ctl_escape(error->message));
                return r < 0 ? r : -EACCES;
        }
        if (error_is_unreachable(error, r)) {
                if (sd_bus_error_has_names(error, SD_BUS_ERROR_ACCESS_DENIED) || r == -EACCES || r == -EPERM)
                        fprintf(stderr, "Permission denied talking to berthd: %s\n",
                                error && error->message ? ctl_escape(error->message) : strerror(-r));
                else
                        fprintf(stderr, "Cannot reach berthd (org.berth.Berth1): %s. Is the service installed and running?\n",
                                error && error->message ? ctl_escape(error->message) : strerror(-r));
        } else
                /* berthd's sentences quote image fields and container names. */
                fprintf(stderr, "Error: %s: %s\n", ctl_escape(what),
                        error && error->message ? ctl_escape(error->message) : strerror(-r));
        return r < 0 ? r : -EIO;
}

int ctl_bad_reply(int r) {
        fprintf(stderr, "Error: cannot parse berthd's reply: %s\n", strerror(r < 0 ? -r : EBADMSG));
        return r < 0 ? r : -EBADMSG;
}

int ctl_oom(void) {
        fprintf(stderr, "Error: out of memory.\n");
        return -ENOMEM;
}

int ctl_call(sd_bus *bus, const char *member, sd_bus_message **reply, const char *types, ...) {
        _cleanup_(sd_bus_error_free) sd_bus_error error = SD_BUS_ERROR_NULL;
        _cleanup_(sd_bus_message_unrefp) sd_bus_message *m = NULL;
        va_list ap;
        int r;

        r = sd_bus_message_new_method_call(bus, &m, BERTH_BUS_NAME, BERTH_MANAGER_PATH,
                                           BERTH_MANAGER_IFACE, member);
        if (r < 0)
                return ctl_call_failed(member, NULL, r);
        if (!isempty(types)) {
                va_start(ap, types);
                r = sd_bus_message_appendv(m, types, ap);
                va_end(ap);
                if (r < 0)
                        return ctl_call_failed(member, NULL, r);
        }
        r = sd_bus_call(bus, m, UINT64_MAX, &error, reply);
        if (r < 0)
                return ctl_call_failed(member, &error, r);
        return 0;
}

void ctl_print_verb_help(const Verb *v) {
        printf("Usage: berthctl %s %s\n\n%s\n", v->name, strempty(v->usage), v->summary);
}

bool ctl_want_help(int argc, char *argv[], const Verb *v) {
        /* Only before the first argument: "run IMAGE sh --help" is the
         * command's business, and -h means --hostname for run. */
        for (int i = 1; i < argc && argv[i][0] == '-'; i++) {
                if (streq(argv[i], "--"))
                        break;
                if (streq(argv[i], "--help")) {
                        ctl_print_verb_help(v);
                        return true;
                }
        }
        return false;
}

const char *ctl_escape(const char *s) {
        static char *slots[CTL_ESCAPE_SLOTS];
        static size_t next;
        char *e;

        if (!s || string_is_terminal_safe(s))
                return s;
        e = escape_terminal(s);
        if (!e)
                return "?";     /* out of memory: never the raw text */
        free(slots[next]);
        slots[next] = e;
        next = (next + 1) % CTL_ESCAPE_SLOTS;
        return e;
}

void ctl_dump_json(json_t *j, size_t flags, FILE *f) {
        _cleanup_free_ char *dump = json_dumps(j, flags | JSON_ENCODE_ANY), *e = NULL;

        e = dump ? escape_json_text(dump) : NULL;
        if (e)
                fputs(e, f);
        else
                fputs("null", f);
}

void ctl_print_json(json_t *j) {
        ctl_dump_json(j, JSON_INDENT(2), stdout);
        putchar('\n');
}

static int bus_variant_to_json(sd_bus_message *m, json_t **ret);

/* An array or a struct, both as a JSON array of their members. */
static int bus_container_to_json(sd_bus_message *m, char type, const char *contents, json_t **ret) {
        json_t *a = json_array();
        int r;

        if (!a)
                return -ENOMEM;
        r = sd_bus_message_enter_container(m, type, contents);
        while (r >= 0 && (r = sd_bus_message_at_end(m, false)) == 0) {
                json_t *item = NULL;
                r = bus_variant_to_json(m, &item);
                if (r >= 0)
                        json_array_append_new(a, item);
        }
        if (r >= 0)
                r = sd_bus_message_exit_container(m);
        if (r < 0) {
                json_decref(a);
                return r;
        }
        *ret = a;
        return 0;
}

/* Converts the next value of m (basic types, variants, arrays) into JSON. */
static int bus_variant_to_json(sd_bus_message *m, json_t **ret) {
        const char *contents;
        char type;
        int r;

        r = sd_bus_message_peek_type(m, &type, &contents);
        if (r <= 0)
                return r < 0 ? r : -EBADMSG;
        switch (type) {
        case 's': case 'o': case 'g': {
                const char *s;
                r = sd_bus_message_read_basic(m, type, &s);
                *ret = json_string(s);
                return r;
        }
        case 'b': {
                int b;
                r = sd_bus_message_read_basic(m, type, &b);
                *ret = json_boolean(b);
                return r;
        }
        case 'y': case 'n': case 'q': case 'i': case 'u': case 'x': case 't': {
                union { uint8_t y; int16_t n; uint16_t q; int32_t i; uint32_t u; int64_t x; uint64_t t; } v;
                r = sd_bus_message_read_basic(m, type, &v);
                *ret = json_integer(type == 'y' ? v.y : type == 'n' ? v.n : type == 'q' ? v.q :
                                    type == 'i' ? v.i : type == 'u' ? v.u : type == 'x' ? v.x :
                                    (json_int_t) v.t);
                return r;
        }
        case 'd': {
                double d;
                r = sd_bus_message_read_basic(m, type, &d);
                *ret = json_real(d);
                return r;
        }
        case 'v':
                r = sd_bus_message_enter_container(m, 'v', contents);
                if (r < 0)
                        return r;
                r = bus_variant_to_json(m, ret);
                if (r < 0)
                        return r;
                return sd_bus_message_exit_container(m);
        case 'r':
                return bus_container_to_json(m, 'r', contents, ret);
        case 'a':
                if (contents[0] == '{')
                        return bus_message_read_dict_json(m, ret);
                return bus_container_to_json(m, 'a', contents, ret);
        default:
                return sd_bus_message_skip(m, NULL);
        }
}

int bus_message_read_dict_json(sd_bus_message *m, json_t **ret) {
        const char *contents;
        json_t *o = json_object();
        char entry[16];
        int r;

        if (!o)
                return -ENOMEM;

        r = sd_bus_message_peek_type(m, NULL, &contents);
        if (r >= 0 && (strlen(contents) < 4 || strlen(contents) >= sizeof entry))
                r = -EBADMSG;
        if (r >= 0) {
                /* "{sv}" -> "sv" */
                memcpy(entry, contents + 1, strlen(contents) - 2);
                entry[strlen(contents) - 2] = 0;
                r = sd_bus_message_enter_container(m, 'a', contents);
        }
        while (r >= 0 && (r = sd_bus_message_enter_container(m, 'e', entry)) > 0) {
                const char *key;
                json_t *v = NULL;
                r = sd_bus_message_read(m, "s", &key);
                if (r >= 0)
                        r = bus_variant_to_json(m, &v);
                if (r >= 0)
                        json_object_set_new(o, key, v ?: json_null());
                if (r >= 0)
                        r = sd_bus_message_exit_container(m);
        }
        if (r >= 0)
                r = sd_bus_message_exit_container(m);
        if (r < 0) {
                json_decref(o);
                return r;
        }
        *ret = o;
        return 0;
}
