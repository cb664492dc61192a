/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "dns-server.h"
#include <stdlib.h>

/* Placeholders until the module is written. */
struct DnsServer { int unused; };
int dns_server_new(sd_event *event, DnsLookup lookup, void *userdata, DnsServer **ret) {
        *ret = calloc(1, sizeof **ret);
        return *ret ? 0 : -ENOMEM;
}
DnsServer *dns_server_free(DnsServer *s) { free(s); return NULL; }
int dns_server_set_default_upstreams(DnsServer *s, const InAddr *servers, size_t n) { return 0; }
int dns_resolv_conf_servers(const char *path, InAddr **ret, size_t *ret_n) { *ret = NULL; *ret_n = 0; return 0; }
int dns_server_add_listener(DnsServer *s, const DnsListenerSpec *spec) {
        safe_close(spec->udp_fd);
        safe_close(spec->tcp_fd);
        return -EOPNOTSUPP;
}
void dns_server_remove_listener(DnsServer *s, const char *id) {}
int dns_listener_sockets(int netns_fd, int *ret_udp, int *ret_tcp) { return -EOPNOTSUPP; }
