/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "netlink-link.h"

/* Placeholders until the module is written. */
int link_bridge_ensure(const BridgeSpec *spec) { return -EOPNOTSUPP; }
int link_bridge_remove(const char *name) { return 0; }
int link_veth_add(const VethSpec *spec) { return -EOPNOTSUPP; }
int link_remove(const char *name) { return 0; }
int link_loopback_up(int netns_fd) { return -EOPNOTSUPP; }
int link_host_routes(const char *bridge_prefix, InPrefix **ret, size_t *ret_n) { *ret = NULL; *ret_n = 0; return 0; }
int netns_socket(int netns_fd, int family, int type, int protocol) { return -EOPNOTSUPP; }
int netns_open_pidfd(int pidfd) { return -EOPNOTSUPP; }
int ip_forward_ensure(int family, bool enable) { return -EOPNOTSUPP; }
