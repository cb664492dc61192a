/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "port-spec.h"

/* Placeholders until the module is written. */
const char *port_proto_to_string(PortProto p) { return p == PORT_PROTO_TCP ? "tcp" : p == PORT_PROTO_UDP ? "udp" : p == PORT_PROTO_SCTP ? "sctp" : NULL; }
PortProto port_proto_from_string(const char *s) { return !s ? -EINVAL : streq(s, "tcp") ? PORT_PROTO_TCP : streq(s, "udp") ? PORT_PROTO_UDP : streq(s, "sctp") ? PORT_PROTO_SCTP : -EINVAL; }
int port_spec_parse(const char *spec, PortMapping **mappings, size_t *n_mappings) { return -EOPNOTSUPP; }
int port_spec_parse_exposed(const char *key, PortMapping **mappings, size_t *n_mappings) { return -EOPNOTSUPP; }
int port_mapping_to_string(const PortMapping *m, char **ret) { return -EOPNOTSUPP; }
