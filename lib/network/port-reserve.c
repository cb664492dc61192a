/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Host ports held by a bound, never listening socket. */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>

#include "port-reserve.h"

static int sock_type(PortProto p, int *type, int *protocol) {
        *type = p == PORT_PROTO_UDP ? SOCK_DGRAM : SOCK_STREAM;
        *protocol = p == PORT_PROTO_SCTP ? IPPROTO_SCTP : 0;
        return 0;
}

static int bind_one(const PortMapping *m, uint16_t port, int *ret_fd) {
        union { struct sockaddr sa; struct sockaddr_in in; struct sockaddr_in6 in6; } sa = {};
        socklen_t len;
        int type, protocol, fd, family = m->host_ip.family ?: AF_INET6;

        (void) sock_type(m->proto, &type, &protocol);
        fd = socket(family, type | SOCK_CLOEXEC, protocol);
        if (fd < 0 && family == AF_INET6 && !m->host_ip.family && errno == EAFNOSUPPORT) {
                family = AF_INET;   /* IPv6 disabled: every IPv4 address */
                fd = socket(family, type | SOCK_CLOEXEC, protocol);
        }
        if (fd < 0)
                return -errno;
        if (family == AF_INET6) {
                /* Every address is both families; "::" only IPv6's, as in Docker. */
                int v6only = m->host_ip.family == AF_INET6;
                (void) setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &v6only, sizeof v6only);
                sa.in6 = (struct sockaddr_in6) { .sin6_family = AF_INET6, .sin6_port = htons(port) };
                if (m->host_ip.family)
                        memcpy(&sa.in6.sin6_addr, m->host_ip.bytes, 16);
                len = sizeof sa.in6;
        } else {
                sa.in = (struct sockaddr_in) { .sin_family = AF_INET, .sin_port = htons(port) };
                if (m->host_ip.family)
                        memcpy(&sa.in.sin_addr, m->host_ip.bytes, 4);
                len = sizeof sa.in;
        }
        if (bind(fd, &sa.sa, len) < 0) {
                int r = -errno;
                safe_close(fd);
                return r;
        }
        *ret_fd = fd;
        return 0;
}

static uint16_t bound_port(int fd) {
        union { struct sockaddr sa; struct sockaddr_in in; struct sockaddr_in6 in6; } sa = {};
        socklen_t len = sizeof sa;

        if (getsockname(fd, &sa.sa, &len) < 0)
                return 0;
        return ntohs(sa.sa.sa_family == AF_INET6 ? sa.in6.sin6_port : sa.in.sin_port);
}

int port_reserve(const PortMapping *m, int *ret_fd, uint16_t *ret_port) {
        uint16_t first = m->host_port, last = m->host_port_last > m->host_port ? m->host_port_last : m->host_port;
        char ip[IN_ADDR_STRLEN];
        int fd = -EBADF, r = -EADDRINUSE;

        if (in_addr_is_loopback(&m->host_ip) && m->host_ip.family == AF_INET6)
                return errmsg_set(-EOPNOTSUPP, "Ports cannot be published on ::1: use 127.0.0.1 or every address.");
        for (uint32_t p = first; p <= last; p++) {
                r = bind_one(m, (uint16_t) p, &fd);
                if (r != -EADDRINUSE)
                        break;
        }
        if (IN_SET(r, -EPROTONOSUPPORT, -ESOCKTNOSUPPORT) && m->proto == PORT_PROTO_SCTP && first != 0) {
                /* Without the SCTP module the port cannot be taken by anybody else either. */
                *ret_fd = -EBADF;
                *ret_port = first;
                return 0;
        }
        if (r == -EADDRINUSE) {
                char ports[16];
                if (last != first)
                        snprintf(ports, sizeof ports, "%u-%u", first, last);
                else
                        snprintf(ports, sizeof ports, "%u", first);
                return errmsg_set(r, "Port %s/%s on %s is already in use by another program.", ports,
                                  port_proto_to_string(m->proto),
                                  m->host_ip.family ? in_addr_to_string(&m->host_ip, ip) : "0.0.0.0");
        }
        if (r < 0)
                return errmsg_set(r, "Cannot reserve port %u/%s: %s", first, port_proto_to_string(m->proto), strerror(-r));
        *ret_fd = fd;
        *ret_port = bound_port(fd);
        return 0;
}

bool port_reservation_matches(int fd, const PortMapping *m) {
        int type, protocol, t = 0, p = 0;
        socklen_t len = sizeof t;

        (void) sock_type(m->proto, &type, &protocol);
        if (fd < 0 || getsockopt(fd, SOL_SOCKET, SO_TYPE, &t, &len) < 0 || t != type)
                return false;
        len = sizeof p;
        if (getsockopt(fd, SOL_SOCKET, SO_PROTOCOL, &p, &len) < 0 ||
            p != (protocol ?: (type == SOCK_DGRAM ? IPPROTO_UDP : IPPROTO_TCP)))
                return false;
        return bound_port(fd) == m->host_port;
}
