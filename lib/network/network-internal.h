/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include "network.h"

/* network-ipam.c, for network.c */
int network_leases_init(Network *n);
void network_leases_free(Network *n);
int network_leases_load(NetworkTable *t, Network *n, bool (*is_live)(const char *, void *), void *userdata);
int network_leases_remove_dir(NetworkTable *t, Network *n);
bool network_name_is_valid(const char *name);
