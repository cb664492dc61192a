/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "berth-config.h"
#include "berthctl.h"
#include "bus-util.h"

static int get_server_info(json_t **ret) {
        _cleanup_(sd_bus_flush_close_unrefp) sd_bus *bus = NULL;
        _cleanup_(sd_bus_message_unrefp) sd_bus_message *reply = NULL;
        int r;

        r = ctl_connect(&bus);
        if (r < 0)
                return r;
        r = ctl_call(bus, "GetInfo", &reply, NULL);
        if (r < 0)
                return r;
        r = bus_message_read_dict_json(reply, ret);
        if (r < 0)
                return ctl_bad_reply(r);
        return 0;
}

int verb_version(int argc, char *argv[]) {
        json_t *info = NULL;
        int r;

        r = get_server_info(&info);
        if (arg_json) {
                json_t *j = json_pack("{s:{s:s},s:o?}", "Client", "Version", BERTH_VERSION,
                                      "Server", info);
                ctl_print_json(j);
                json_decref(j);
                return r < 0 ? r : 0;
        }
        printf("Client:\n Version: %s\n", BERTH_VERSION);
        if (info)
                printf("Server:\n Version: %s\n", json_string_value(json_object_get(info, "Version")));
        json_decref(info);
        return r < 0 ? r : 0;
}

static void print_info_value(const char *key, json_t *v) {
        if (json_is_array(v)) {
                size_t i;
                json_t *item;
                printf(" %s:", key);
                json_array_foreach(v, i, item)
                        printf(" %s", json_string_value(item));
                putchar('\n');
        } else if (json_is_integer(v))
                printf(" %s: %" JSON_INTEGER_FORMAT "\n", key, json_integer_value(v));
        else if (json_is_string(v))
                printf(" %s: %s\n", key, json_string_value(v));
}

int verb_info(int argc, char *argv[]) {
        json_t *info = NULL, *v;
        const char *key;
        int r;

        r = get_server_info(&info);
        if (r < 0)
                return r;
        if (arg_json)
                ctl_print_json(info);
        else {
                printf("Client:\n Version: %s\nServer:\n", BERTH_VERSION);
                json_object_foreach(info, key, v)
                        print_info_value(key, v);
        }
        json_decref(info);
        return 0;
}
