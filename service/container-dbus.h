/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include <systemd/sd-bus.h>

#include "engine.h"

typedef struct Manager Manager;

extern const EngineCallbacks container_dbus_callbacks;

int container_object_path(const char *id, char **ret);

int method_create_container(sd_bus_message *message, void *userdata, sd_bus_error *error);
int method_run_container(sd_bus_message *message, void *userdata, sd_bus_error *error);
int method_list_containers(sd_bus_message *message, void *userdata, sd_bus_error *error);
int method_get_container(sd_bus_message *message, void *userdata, sd_bus_error *error);

/* The Manager's by-name forms of the Container object's methods: a
 * container name or id (prefix) first, then the object method's arguments. */
int method_start_by_name(sd_bus_message *message, void *userdata, sd_bus_error *error);
int method_stop_by_name(sd_bus_message *message, void *userdata, sd_bus_error *error);
int method_restart_by_name(sd_bus_message *message, void *userdata, sd_bus_error *error);
int method_kill_by_name(sd_bus_message *message, void *userdata, sd_bus_error *error);
int method_remove_by_name(sd_bus_message *message, void *userdata, sd_bus_error *error);
int method_wait_by_name(sd_bus_message *message, void *userdata, sd_bus_error *error);
int method_exec_by_name(sd_bus_message *message, void *userdata, sd_bus_error *error);
int method_pause_by_name(sd_bus_message *message, void *userdata, sd_bus_error *error);
int method_unpause_by_name(sd_bus_message *message, void *userdata, sd_bus_error *error);
int method_update_by_name(sd_bus_message *message, void *userdata, sd_bus_error *error);
int method_get_processes_by_name(sd_bus_message *message, void *userdata, sd_bus_error *error);
int method_get_stats_by_name(sd_bus_message *message, void *userdata, sd_bus_error *error);
int method_get_environment_by_name(sd_bus_message *message, void *userdata, sd_bus_error *error);

int container_dbus_register(Manager *m);
/* Shutdown, after callers_free(): forgets the exec sessions. */
void container_dbus_free_execs(Manager *m);
