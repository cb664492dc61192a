/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include <systemd/sd-bus.h>

typedef struct Manager Manager;
typedef struct Operation Operation;

/* Re-reads the store's images, publishing added and removed Image objects
 * (ImageAdded/ImageRemoved, InterfacesAdded/Removed) and changed tags. */
int manager_refresh_images(Manager *m);
void manager_free_images(Manager *m);
/* An OperationFinish for jobs that change the store's images. */
void image_refresh_when_done(Operation *o);

int image_object_path(const char *id, char **ret);

int method_load_image(sd_bus_message *message, void *userdata, sd_bus_error *error);
int method_import_image(sd_bus_message *message, void *userdata, sd_bus_error *error);
int method_save_image(sd_bus_message *message, void *userdata, sd_bus_error *error);
int method_list_images(sd_bus_message *message, void *userdata, sd_bus_error *error);
int method_get_image(sd_bus_message *message, void *userdata, sd_bus_error *error);
int method_remove_image_by_name(sd_bus_message *message, void *userdata, sd_bus_error *error);
int method_tag_image_by_name(sd_bus_message *message, void *userdata, sd_bus_error *error);
int method_untag_image(sd_bus_message *message, void *userdata, sd_bus_error *error);
int method_prune_images(sd_bus_message *message, void *userdata, sd_bus_error *error);

int image_dbus_register(Manager *m);
