/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/* Published ports as Docker's -p takes them, shared by berthctl (which
 * checks them before calling) and berthd (which checks them again):
 *   [IP:][HOSTPORT:]CTRPORT[/tcp|udp|sctp], each port a number or a range
 *   80                   any free host port, on every address
 *   8080:80              host 8080
 *   127.0.0.1:8080:80    only on 127.0.0.1 (reachable from the host alone)
 *   127.0.0.1::80        any free port on 127.0.0.1
 *   [::1]:8080:80, [2001:db8::1]:8080:80
 *   8000-8009:80-89      ten mappings; the ranges must be as long
 *   8000-8009:80         the first free host port of 8000-8009
 */

#include "in-addr-util.h"

typedef enum PortProto {
        PORT_PROTO_TCP,
        PORT_PROTO_UDP,
        PORT_PROTO_SCTP,
        _PORT_PROTO_MAX,
        _PORT_PROTO_INVALID = -EINVAL,
} PortProto;

const char *port_proto_to_string(PortProto p) _pure_;
PortProto port_proto_from_string(const char *s) _pure_;

typedef struct PortMapping {
        InAddr host_ip;                /* family 0: every address, IPv4 and IPv6; 0.0.0.0, ::: every one of that family */
        uint16_t host_port;            /* 0: any free port */
        uint16_t host_port_last;       /* > host_port: the first free one of host_port..host_port_last */
        uint16_t container_port;
        PortProto proto;
} PortMapping;

/* Appends the mappings of one -p spec to *mappings (n_mappings counts them);
 * -EINVAL with errmsg_set() naming what is wrong. At most 65536 in all. */
int port_spec_parse(const char *spec, PortMapping **mappings, size_t *n_mappings);
/* An image's ExposedPorts key ("80/tcp", "53/udp", "8000-8009/tcp"): for -P. */
int port_spec_parse_exposed(const char *key, PortMapping **mappings, size_t *n_mappings);
/* "127.0.0.1:8080->80/tcp", "[::]:8080->80/tcp", "0.0.0.0:32768->80/tcp" as docker ps shows one bound mapping. */
int port_mapping_to_string(const PortMapping *m, char **ret);
