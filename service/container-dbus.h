/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include <systemd/sd-bus.h>

#include "engine.h"

typedef struct Manager Manager;

extern const EngineCallbacks container_dbus_callbacks;

int container_object_path(const char *id, char **ret);

int method_create_container(sd_bus_message *message, void *userdata, sd_bus_error *error);
int method_start_container(sd_bus_message *message, void *userdata, sd_bus_error *error);
int method_run_container(sd_bus_message *message, void *userdata, sd_bus_error *error);
int method_stop_container(sd_bus_message *message, void *userdata, sd_bus_error *error);
int method_restart_container(sd_bus_message *message, void *userdata, sd_bus_error *error);
int method_kill_container(sd_bus_message *message, void *userdata, sd_bus_error *error);
int method_remove_container(sd_bus_message *message, void *userdata, sd_bus_error *error);
int method_wait_container(sd_bus_message *message, void *userdata, sd_bus_error *error);
int method_exec_container(sd_bus_message *message, void *userdata, sd_bus_error *error);
int method_wait_exec(sd_bus_message *message, void *userdata, sd_bus_error *error);
int method_list_containers(sd_bus_message *message, void *userdata, sd_bus_error *error);
int method_get_container(sd_bus_message *message, void *userdata, sd_bus_error *error);
int method_update_container(sd_bus_message *message, void *userdata, sd_bus_error *error);
int method_pause_container(sd_bus_message *message, void *userdata, sd_bus_error *error);
int method_unpause_container(sd_bus_message *message, void *userdata, sd_bus_error *error);
int method_container_processes(sd_bus_message *message, void *userdata, sd_bus_error *error);
int method_container_stats(sd_bus_message *message, void *userdata, sd_bus_error *error);

int container_dbus_register(Manager *m);
