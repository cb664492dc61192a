/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/* A published port is reserved by binding it: a socket on the host port,
 * bound and never listened on, so that another program binding it gets
 * EADDRINUSE and Berth cannot publish a port somebody else has. berthd keeps
 * these sockets in systemd's fd store, so they outlive its restarts. */

#include "port-spec.h"

/* Binds m's host address and port (host_port 0: any free port; a range:
 * the first free one), SO_REUSEADDR off. host_ip family 0 binds IPv6 "::"
 * with IPV6_V6ONLY off, so IPv4 and IPv6 are both reserved; "::" itself
 * with it on (IPv6 only), "0.0.0.0" IPv4 only. ret_fd and
 * ret_port get the socket and the port bound. -EADDRINUSE with a sentence
 * naming the port when taken. */
int port_reserve(const PortMapping *m, int *ret_fd, uint16_t *ret_port);
/* Whether fd is a socket bound to m's address and port (fds back from the
 * fd store are checked before they are trusted). */
bool port_reservation_matches(int fd, const PortMapping *m);
