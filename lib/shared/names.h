/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include <stdbool.h>

#define CONTAINER_ID_LENGTH 64

/* A container's scope is "berth-NAME.scope" and a unit name has at most 255
 * characters (systemd's UNIT_NAME_MAX), so a longer name could never start. */
#define CONTAINER_UNIT_PREFIX "berth-"
#define CONTAINER_UNIT_SUFFIX ".scope"
#define CONTAINER_NAME_MAX (255 - (sizeof CONTAINER_UNIT_PREFIX - 1) - (sizeof CONTAINER_UNIT_SUFFIX - 1))

/* [a-zA-Z0-9][a-zA-Z0-9_.-]*, as Docker, and at most CONTAINER_NAME_MAX. */
bool container_name_is_valid(const char *name);
bool container_id_is_valid(const char *id);
