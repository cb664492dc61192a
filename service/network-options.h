/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include <systemd/sd-bus.h>

#include "container.h"
#include "network.h"

/* CreateContainer's network options ("Network", "PortBindings", "Dns", ...):
 * 1 if key is one of them (read into cfg), 0 if not, or a negative errno
 * with error set. */
int network_options_read_container(sd_bus_message *m, const char *key, ContainerConfig *cfg, sd_bus_error *error);
/* Connect's options ("Aliases", "IPv4Address", "IPv6Address", "MacAddress"). */
int network_options_read_endpoint(sd_bus_message *m, ContainerEndpoint *ret, sd_bus_error *error);

/* CreateNetwork's options, into spec; the arrays it points to are owned by
 * the NetworkCreateOptions. */
typedef struct NetworkCreateOptions {
        NetworkCreateSpec spec;
        char *driver;
        InPrefix subnets[8], ip_ranges[8];
        InAddr gateways[8];
        char **labels, **options;
} NetworkCreateOptions;

int network_options_read_create(sd_bus_message *m, NetworkCreateOptions *o, sd_bus_error *error);
void network_create_options_done(NetworkCreateOptions *o);
