/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include <systemd/sd-bus.h>

typedef struct Manager Manager;
typedef struct Network Network;

int network_object_path(const char *id, char **ret);

int method_list_networks(sd_bus_message *message, void *userdata, sd_bus_error *error);
int method_get_network(sd_bus_message *message, void *userdata, sd_bus_error *error);
int method_create_network(sd_bus_message *message, void *userdata, sd_bus_error *error);
int method_remove_network_by_name(sd_bus_message *message, void *userdata, sd_bus_error *error);
int method_connect_network_by_name(sd_bus_message *message, void *userdata, sd_bus_error *error);
int method_disconnect_network_by_name(sd_bus_message *message, void *userdata, sd_bus_error *error);
int method_prune_networks(sd_bus_message *message, void *userdata, sd_bus_error *error);

/* The engine's callbacks: NetworkAdded/NetworkRemoved, Containers changed. */
void network_dbus_added(Network *n, void *userdata);
void network_dbus_changed(Network *n, void *userdata);
void network_dbus_removed(Network *n, void *userdata);

int network_dbus_register(Manager *m);
