/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "firewall.h"

/* Placeholders until the module is written. */
int firewall_new(Firewall **ret) { return -EOPNOTSUPP; }
Firewall *firewall_free(Firewall *f) { return NULL; }
int firewall_load(Firewall *f, const FirewallNetwork *networks, size_t n_networks,
                  const FirewallPort *ports, size_t n_ports) { return -EOPNOTSUPP; }
int firewall_add_network(Firewall *f, const FirewallNetwork *n) { return -EOPNOTSUPP; }
int firewall_remove_network(Firewall *f, const FirewallNetwork *n) { return 0; }
int firewall_add_ports(Firewall *f, const FirewallPort *ports, size_t n) { return -EOPNOTSUPP; }
int firewall_remove_ports(Firewall *f, const FirewallPort *ports, size_t n) { return 0; }
int firewall_remove(Firewall *f) { return 0; }
int firewall_present(Firewall *f) { return 0; }
int firewall_watch_open(void) { return -EOPNOTSUPP; }
int firewall_watch_table_gone(int fd) { return 0; }
