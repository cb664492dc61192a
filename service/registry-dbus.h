/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include <systemd/sd-bus.h>

/* The Manager's registry methods: PullImage, PushImage, Login, Logout
 * (docs/dbus-api.md). */
int method_pull_image(sd_bus_message *message, void *userdata, sd_bus_error *error);
int method_push_image(sd_bus_message *message, void *userdata, sd_bus_error *error);
int method_login(sd_bus_message *message, void *userdata, sd_bus_error *error);
int method_logout(sd_bus_message *message, void *userdata, sd_bus_error *error);
