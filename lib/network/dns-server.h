/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/* The embedded resolver (Docker's model): berthd makes a UDP and a TCP
 * socket on 127.0.0.11:53 inside each container's network namespace and
 * serves them all on its own event loop. A question for a name of the
 * container's networks is answered from the engine's tables (lookup());
 * anything else is forwarded from berthd's own (the host's) namespace to
 * the listener's upstream servers, the host's resolvers by default,
 * systemd-resolved's stub included, since berthd runs beside it.
 *
 * A container is hostile: its queries are parsed with limits, at most
 * DNS_PENDING_MAX forwarded queries of one listener are in flight, and
 * a TCP client gets DNS_TCP_TIMEOUT_USEC for its query; nothing it sends
 * can block the loop. */

#include <systemd/sd-event.h>

#include "in-addr-util.h"

#define DNS_PENDING_MAX 64
#define DNS_TCP_TIMEOUT_USEC (5 * USEC_PER_SEC)
#define DNS_FORWARD_TIMEOUT_USEC (5 * USEC_PER_SEC)
#define DNS_ADDRESS "127.0.0.11"

typedef struct DnsServer DnsServer;

/* 1 and the addresses (at most max) if the name is one of the listener's
 * networks' (family AF_INET or AF_INET6: only those; a name with no
 * address of the family is 1 with none); 0 if it is not ours (forwarded). */
typedef int (*DnsLookup)(const char *listener_id, const char *name, int family, InAddr *ret, size_t max,
                         size_t *ret_n, void *userdata);

int dns_server_new(sd_event *event, DnsLookup lookup, void *userdata, DnsServer **ret);
DnsServer *dns_server_free(DnsServer *s);
DEFINE_TRIVIAL_CLEANUP_FUNC(DnsServer *, dns_server_free);

/* The upstreams when a listener has none of its own: "nameserver" lines
 * of a resolv.conf (the host's /etc/resolv.conf), read again when it changes. */
int dns_server_set_default_upstreams(DnsServer *s, const InAddr *servers, size_t n);
int dns_resolv_conf_servers(const char *path, InAddr **ret, size_t *ret_n);

typedef struct DnsListenerSpec {
        const char *id;                /* the container's id */
        int udp_fd, tcp_fd;            /* taken; bound (TCP listening) inside the container */
        const InAddr *upstreams;       /* --dns; n 0: the defaults */
        size_t n_upstreams;
        bool forward;                  /* false: internal networks only, others REFUSED */
} DnsListenerSpec;

int dns_server_add_listener(DnsServer *s, const DnsListenerSpec *spec);
void dns_server_remove_listener(DnsServer *s, const char *id);
/* Makes the pair of sockets on 127.0.0.11:53 inside netns_fd (the worker
 * thread calls it; netns_socket()). */
int dns_listener_sockets(int netns_fd, int *ret_udp, int *ret_tcp);
