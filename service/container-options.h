/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include <systemd/sd-bus.h>

#include "container.h"

/* Reads CreateContainer's a{sv} into a new Container and the image name. */
int container_options_read(sd_bus_message *m, Container **ret, char **ret_image, sd_bus_error *error);
/* An a{ss} of docker flag names ("memory", "cpus", ...) to values. */
int container_options_read_limits(sd_bus_message *m, ScopeLimits *limits, sd_bus_error *error);
/* The caller's fd for "Stdin", "Stdout" or "Stderr": refused, with a sentence
 * naming the stream and what it is, unless a container may have it as it is
 * (lib/shared/stdio-fd.h). */
int container_options_check_stdio(const char *key, int fd, sd_bus_error *error);
