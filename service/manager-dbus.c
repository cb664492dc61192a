/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <sys/utsname.h>

#include "berth-config.h"
#include "bus-util.h"
#include "fileio.h"
#include "container-dbus.h"
#include "image-dbus.h"
#include "network-dbus.h"
#include "registry-dbus.h"
#include "manager-dbus.h"
#include "operation.h"
#include "manager.h"
#include "sysinfo.h"

static int property_get_version(sd_bus *bus, const char *path, const char *interface,
                                const char *property, sd_bus_message *reply,
                                void *userdata, sd_bus_error *error) {
        return sd_bus_message_append(reply, "s", BERTH_VERSION);
}

static int property_get_cgroup_version(sd_bus *bus, const char *path, const char *interface,
                                       const char *property, sd_bus_message *reply,
                                       void *userdata, sd_bus_error *error) {
        Manager *m = userdata;

        return sd_bus_message_append(reply, "s", cgroup_version_to_string(m->cgroup_version));
}

static int property_get_features(sd_bus *bus, const char *path, const char *interface,
                                 const char *property, sd_bus_message *reply,
                                 void *userdata, sd_bus_error *error) {
        Manager *m = userdata;

        return sd_bus_message_append_strv(reply, m->features);
}

static int append_info_entry(sd_bus_message *reply, const char *key, const char *type, ...) {
        va_list ap;
        int r;

        r = sd_bus_message_open_container(reply, 'e', "sv");
        if (r < 0)
                return r;
        r = sd_bus_message_append(reply, "s", key);
        if (r < 0)
                return r;
        r = sd_bus_message_open_container(reply, 'v', type);
        if (r < 0)
                return r;
        va_start(ap, type);
        r = sd_bus_message_appendv(reply, type, ap);
        va_end(ap);
        if (r < 0)
                return r;
        r = sd_bus_message_close_container(reply);
        if (r < 0)
                return r;
        return sd_bus_message_close_container(reply);
}

static int append_features_entry(sd_bus_message *reply, char **features) {
        int r;

        r = sd_bus_message_open_container(reply, 'e', "sv");
        if (r >= 0)
                r = sd_bus_message_append(reply, "s", "Features");
        if (r >= 0)
                r = sd_bus_message_open_container(reply, 'v', "as");
        if (r >= 0)
                r = sd_bus_message_append_strv(reply, features);
        if (r >= 0)
                r = sd_bus_message_close_container(reply);
        if (r >= 0)
                r = sd_bus_message_close_container(reply);
        return r;
}

static int method_get_info(sd_bus_message *message, void *userdata, sd_bus_error *error) {
        _cleanup_(sd_bus_message_unrefp) sd_bus_message *reply = NULL;
        _cleanup_(sysinfo_done) SysInfo si = {};
        Manager *m = userdata;
        int r;

        r = sysinfo_read(&si);
        if (r < 0)
                return r;
        r = sd_bus_message_new_method_return(message, &reply);
        if (r < 0)
                return r;
        r = sd_bus_message_open_container(reply, 'a', "{sv}");
        if (r < 0)
                return r;
        if ((r = append_info_entry(reply, "Version", "s", BERTH_VERSION)) < 0 ||
            (r = append_info_entry(reply, "StorageRoot", "s", m->config.root)) < 0 ||
            (r = append_info_entry(reply, "StorageDriver", "s", "overlay")) < 0 ||
            (r = append_info_entry(reply, "CgroupVersion", "s",
                                   cgroup_version_to_string(m->cgroup_version))) < 0 ||
            (r = append_info_entry(reply, "CgroupManager", "s", "systemd")) < 0 ||
            (r = append_info_entry(reply, "KernelVersion", "s", si.kernel)) < 0 ||
            (r = append_info_entry(reply, "OperatingSystem", "s", si.os)) < 0 ||
            (r = append_info_entry(reply, "Architecture", "s", si.arch)) < 0 ||
            (r = append_info_entry(reply, "Hostname", "s", si.hostname)) < 0 ||
            (r = append_info_entry(reply, "NCPU", "u", si.ncpu)) < 0 ||
            (r = append_info_entry(reply, "MemTotal", "t", si.mem_total)) < 0 ||
            (r = append_features_entry(reply, m->features)) < 0)
                return r;
        r = sd_bus_message_close_container(reply);
        if (r < 0)
                return r;
        return sd_bus_send(NULL, reply, NULL);
}

static const sd_bus_vtable manager_vtable[] = {
        SD_BUS_VTABLE_START(0),
        SD_BUS_PROPERTY("Version", "s", property_get_version, 0, SD_BUS_VTABLE_PROPERTY_CONST),
        SD_BUS_PROPERTY("StorageRoot", "s", NULL, offsetof(Manager, config.root),
                        SD_BUS_VTABLE_PROPERTY_CONST),
        SD_BUS_PROPERTY("CgroupVersion", "s", property_get_cgroup_version, 0,
                        SD_BUS_VTABLE_PROPERTY_CONST),
        SD_BUS_PROPERTY("Features", "as", property_get_features, 0, SD_BUS_VTABLE_PROPERTY_CONST),
        SD_BUS_METHOD_WITH_ARGS("GetInfo", SD_BUS_NO_ARGS, SD_BUS_RESULT("a{sv}", info),
                                method_get_info, SD_BUS_VTABLE_UNPRIVILEGED),

        SD_BUS_METHOD_WITH_ARGS("ListImages", SD_BUS_NO_ARGS,
                                SD_BUS_RESULT("a(sastto)", images),
                                method_list_images, SD_BUS_VTABLE_UNPRIVILEGED),
        SD_BUS_METHOD_WITH_ARGS("GetImage", SD_BUS_ARGS("s", name), SD_BUS_RESULT("o", image),
                                method_get_image, SD_BUS_VTABLE_UNPRIVILEGED),
        SD_BUS_METHOD_WITH_ARGS("LoadImage", SD_BUS_ARGS("h", archive, "a{sv}", options),
                                SD_BUS_RESULT("o", job), method_load_image, SD_BUS_VTABLE_UNPRIVILEGED),
        SD_BUS_METHOD_WITH_ARGS("ImportImage",
                                SD_BUS_ARGS("h", rootfs, "s", reference, "as", changes, "a{sv}", options),
                                SD_BUS_RESULT("o", job), method_import_image, SD_BUS_VTABLE_UNPRIVILEGED),
        SD_BUS_METHOD_WITH_ARGS("SaveImage",
                                SD_BUS_ARGS("h", output, "as", names, "s", format, "a{sv}", options),
                                SD_BUS_RESULT("o", job), method_save_image, SD_BUS_VTABLE_UNPRIVILEGED),
        SD_BUS_METHOD_WITH_ARGS("PullImage", SD_BUS_ARGS("s", reference, "a{sv}", options),
                                SD_BUS_RESULT("o", job), method_pull_image,
                                SD_BUS_VTABLE_UNPRIVILEGED | SD_BUS_VTABLE_SENSITIVE),
        SD_BUS_METHOD_WITH_ARGS("PushImage", SD_BUS_ARGS("s", name, "s", destination, "a{sv}", options),
                                SD_BUS_RESULT("o", job), method_push_image,
                                SD_BUS_VTABLE_UNPRIVILEGED | SD_BUS_VTABLE_SENSITIVE),
        SD_BUS_METHOD_WITH_ARGS("Login", SD_BUS_ARGS("s", registry, "s", username, "s", password,
                                "a{sv}", options), SD_BUS_NO_RESULT, method_login,
                                SD_BUS_VTABLE_UNPRIVILEGED | SD_BUS_VTABLE_SENSITIVE),
        SD_BUS_METHOD_WITH_ARGS("Logout", SD_BUS_ARGS("s", registry), SD_BUS_NO_RESULT, method_logout,
                                SD_BUS_VTABLE_UNPRIVILEGED),
        SD_BUS_METHOD_WITH_ARGS("RemoveImage", SD_BUS_ARGS("s", name, "b", force),
                                SD_BUS_RESULT("as", untagged, "as", deleted), method_remove_image_by_name,
                                SD_BUS_VTABLE_UNPRIVILEGED),
        SD_BUS_METHOD_WITH_ARGS("TagImage", SD_BUS_ARGS("s", name, "s", reference), SD_BUS_NO_RESULT,
                                method_tag_image_by_name, SD_BUS_VTABLE_UNPRIVILEGED),
        SD_BUS_METHOD_WITH_ARGS("UntagImage", SD_BUS_ARGS("s", reference), SD_BUS_NO_RESULT,
                                method_untag_image, SD_BUS_VTABLE_UNPRIVILEGED),
        SD_BUS_METHOD_WITH_ARGS("PruneImages", SD_BUS_ARGS("b", all),
                                SD_BUS_RESULT("as", deleted, "t", reclaimed), method_prune_images,
                                SD_BUS_VTABLE_UNPRIVILEGED),

        SD_BUS_METHOD_WITH_ARGS("ListContainers", SD_BUS_ARGS("b", all),
                                SD_BUS_RESULT("a(ssssstttio)", containers), method_list_containers,
                                SD_BUS_VTABLE_UNPRIVILEGED),
        SD_BUS_METHOD_WITH_ARGS("GetContainer", SD_BUS_ARGS("s", name), SD_BUS_RESULT("o", container),
                                method_get_container, SD_BUS_VTABLE_UNPRIVILEGED),
        SD_BUS_METHOD_WITH_ARGS("CreateContainer", SD_BUS_ARGS("a{sv}", options),
                                SD_BUS_RESULT("s", id, "o", container), method_create_container,
                                SD_BUS_VTABLE_UNPRIVILEGED),
        /* CreateContainer + StartContainer in one call (replies once started). */
        SD_BUS_METHOD_WITH_ARGS("RunContainer", SD_BUS_ARGS("a{sv}", options, "a{sv}", start_options),
                                SD_BUS_RESULT("s", id, "o", container, "a{sv}", result),
                                method_run_container, SD_BUS_VTABLE_UNPRIVILEGED),
        /* By name: the Container object's methods. */
        SD_BUS_METHOD_WITH_ARGS("StartContainer", SD_BUS_ARGS("s", name, "a{sv}", options),
                                SD_BUS_RESULT("a{sv}", result), method_start_by_name, SD_BUS_VTABLE_UNPRIVILEGED),
        SD_BUS_METHOD_WITH_ARGS("StopContainer", SD_BUS_ARGS("s", name, "t", timeout_usec),
                                SD_BUS_NO_RESULT, method_stop_by_name, SD_BUS_VTABLE_UNPRIVILEGED),
        SD_BUS_METHOD_WITH_ARGS("RestartContainer", SD_BUS_ARGS("s", name, "t", timeout_usec),
                                SD_BUS_NO_RESULT, method_restart_by_name, SD_BUS_VTABLE_UNPRIVILEGED),
        SD_BUS_METHOD_WITH_ARGS("KillContainer", SD_BUS_ARGS("s", name, "i", signal),
                                SD_BUS_NO_RESULT, method_kill_by_name, SD_BUS_VTABLE_UNPRIVILEGED),
        SD_BUS_METHOD_WITH_ARGS("RemoveContainer", SD_BUS_ARGS("s", name, "b", force),
                                SD_BUS_NO_RESULT, method_remove_by_name, SD_BUS_VTABLE_UNPRIVILEGED),
        SD_BUS_METHOD_WITH_ARGS("WaitContainer", SD_BUS_ARGS("s", name), SD_BUS_RESULT("i", exit_code),
                                method_wait_by_name, SD_BUS_VTABLE_UNPRIVILEGED),
        SD_BUS_METHOD_WITH_ARGS("ExecContainer", SD_BUS_ARGS("s", name, "as", argv, "a{sv}", options),
                                SD_BUS_RESULT("o", exec, "a{sv}", result), method_exec_by_name,
                                SD_BUS_VTABLE_UNPRIVILEGED),
        SD_BUS_METHOD_WITH_ARGS("PauseContainer", SD_BUS_ARGS("s", name), SD_BUS_NO_RESULT,
                                method_pause_by_name, SD_BUS_VTABLE_UNPRIVILEGED),
        SD_BUS_METHOD_WITH_ARGS("UnpauseContainer", SD_BUS_ARGS("s", name), SD_BUS_NO_RESULT,
                                method_unpause_by_name, SD_BUS_VTABLE_UNPRIVILEGED),
        SD_BUS_METHOD_WITH_ARGS("UpdateContainer", SD_BUS_ARGS("s", name, "a{sv}", limits),
                                SD_BUS_NO_RESULT, method_update_by_name, SD_BUS_VTABLE_UNPRIVILEGED),
        SD_BUS_METHOD_WITH_ARGS("GetContainerProcesses", SD_BUS_ARGS("s", name),
                                SD_BUS_RESULT("a(uuus)", processes), method_get_processes_by_name,
                                SD_BUS_VTABLE_UNPRIVILEGED),
        SD_BUS_METHOD_WITH_ARGS("GetContainerStats", SD_BUS_ARGS("s", name), SD_BUS_RESULT("a{sv}", stats),
                                method_get_stats_by_name, SD_BUS_VTABLE_UNPRIVILEGED),
        SD_BUS_METHOD_WITH_ARGS("GetContainerEnvironment", SD_BUS_ARGS("s", name),
                                SD_BUS_RESULT("as", environment), method_get_environment_by_name,
                                SD_BUS_VTABLE_UNPRIVILEGED),
        SD_BUS_METHOD_WITH_ARGS("ListNetworks", SD_BUS_NO_ARGS, SD_BUS_RESULT("a(ssssbo)", networks),
                                method_list_networks, SD_BUS_VTABLE_UNPRIVILEGED),
        SD_BUS_METHOD_WITH_ARGS("GetNetwork", SD_BUS_ARGS("s", name), SD_BUS_RESULT("o", network),
                                method_get_network, SD_BUS_VTABLE_UNPRIVILEGED),
        SD_BUS_METHOD_WITH_ARGS("CreateNetwork", SD_BUS_ARGS("s", name, "a{sv}", options),
                                SD_BUS_RESULT("s", id, "o", network), method_create_network,
                                SD_BUS_VTABLE_UNPRIVILEGED),
        SD_BUS_METHOD_WITH_ARGS("RemoveNetwork", SD_BUS_ARGS("s", name), SD_BUS_NO_RESULT,
                                method_remove_network_by_name, SD_BUS_VTABLE_UNPRIVILEGED),
        SD_BUS_METHOD_WITH_ARGS("ConnectNetwork", SD_BUS_ARGS("s", name, "s", container, "a{sv}", options),
                                SD_BUS_NO_RESULT, method_connect_network_by_name, SD_BUS_VTABLE_UNPRIVILEGED),
        SD_BUS_METHOD_WITH_ARGS("DisconnectNetwork", SD_BUS_ARGS("s", name, "s", container, "b", force),
                                SD_BUS_NO_RESULT, method_disconnect_network_by_name, SD_BUS_VTABLE_UNPRIVILEGED),
        SD_BUS_METHOD_WITH_ARGS("PruneNetworks", SD_BUS_NO_ARGS, SD_BUS_RESULT("as", removed),
                                method_prune_networks, SD_BUS_VTABLE_UNPRIVILEGED),
        SD_BUS_SIGNAL_WITH_ARGS("ContainerAdded", SD_BUS_ARGS("s", id, "o", container), 0),
        SD_BUS_SIGNAL_WITH_ARGS("ContainerRemoved", SD_BUS_ARGS("s", id, "o", container), 0),

        SD_BUS_SIGNAL_WITH_ARGS("ImageAdded", SD_BUS_ARGS("s", id, "o", image), 0),
        SD_BUS_SIGNAL_WITH_ARGS("ImageRemoved", SD_BUS_ARGS("s", id, "o", image), 0),
        SD_BUS_SIGNAL_WITH_ARGS("NetworkAdded", SD_BUS_ARGS("s", id, "o", network), 0),
        SD_BUS_SIGNAL_WITH_ARGS("NetworkRemoved", SD_BUS_ARGS("s", id, "o", network), 0),
        SD_BUS_SIGNAL_WITH_ARGS("JobRemoved",
                                SD_BUS_ARGS("u", id, "o", job, "s", result, "s", error_name,
                                            "s", error_message, "as", ids), 0),
        SD_BUS_VTABLE_END
};

int manager_dbus_register(Manager *m) {
        int r;

        r = sd_bus_add_object_vtable(m->bus, NULL, BERTH_MANAGER_PATH, BERTH_MANAGER_IFACE,
                                     manager_vtable, m);
        if (r < 0)
                return r;
        r = image_dbus_register(m);
        if (r < 0)
                return r;
        r = operation_dbus_register(m);
        if (r < 0)
                return r;
        r = container_dbus_register(m);
        if (r < 0)
                return r;
        r = network_dbus_register(m);
        if (r < 0)
                return r;
        return sd_bus_add_object_manager(m->bus, NULL, BERTH_MANAGER_PATH);
}
