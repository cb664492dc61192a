/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "network.h"

/* Placeholders until the module is written. */
int network_lease(NetworkTable *t, Network *n, const char *container_id, const InAddr *want4,
                  const InAddr *want6, InAddr *ret) { return -EOPNOTSUPP; }
int network_release(NetworkTable *t, Network *n, const char *container_id) { return 0; }
size_t network_n_leases(const Network *n) { return 0; }
