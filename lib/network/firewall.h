/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/* The kernel's firewall through libnftables, never by running nft(8): one
 * table, "inet berth", that Berth alone owns. It is loaded whole and
 * atomically (one transaction); what changes per network and per container
 * is only set and map elements, added and deleted in batches. Nothing else
 * in the ruleset is listed, changed or flushed. The ruleset is in
 * docs/networking.md.
 *
 * Blocking calls (the engine's network worker thread); a Firewall is not
 * safe to use from two threads at once. */

#include "in-addr-util.h"
#include "port-spec.h"

typedef struct Firewall Firewall;

typedef struct FirewallNetwork {
        const char *bridge;            /* the bridge's interface name */
        const InPrefix *subnets;
        size_t n_subnets;
        bool internal;                 /* no forwarding in or out, no masquerade */
} FirewallNetwork;

typedef struct FirewallPort {
        PortMapping mapping;           /* host_ip family 0: every address (any: of its family); host_port bound */
        InAddr container_addr;         /* the family the rule is for */
        const char *bridge;            /* the container's network's bridge (hairpin, masquerade) */
} FirewallPort;

int firewall_new(Firewall **ret);
Firewall *firewall_free(Firewall *f);
DEFINE_TRIVIAL_CLEANUP_FUNC(Firewall *, firewall_free);

/* Replaces the whole table with the one for these networks and ports, in
 * one transaction: at start, and when the table was found gone. */
int firewall_load(Firewall *f, const FirewallNetwork *networks, size_t n_networks,
                  const FirewallPort *ports, size_t n_ports);
/* Elements, batched in one transaction each call. */
int firewall_add_network(Firewall *f, const FirewallNetwork *n);
int firewall_remove_network(Firewall *f, const FirewallNetwork *n);
int firewall_add_ports(Firewall *f, const FirewallPort *ports, size_t n);
int firewall_remove_ports(Firewall *f, const FirewallPort *ports, size_t n);
/* Removes the table (tests, and berthd when the last network goes? no: kept). */
int firewall_remove(Firewall *f);
/* Whether the table is there: 1, 0. */
int firewall_present(Firewall *f);

/* Makes iptables' FORWARD chains (ip and ip6 "filter", where they exist)
 * accept what crosses Berth's bridges, so that their drop policy leaves
 * Berth's own forward rules to decide. Idempotent. */
int firewall_open_forward(Firewall *f);

enum {
        FIREWALL_EVENT_TABLE_GONE = 1 << 0,      /* "inet berth" deleted: load it again */
        FIREWALL_EVENT_FORWARD_CHANGED = 1 << 1, /* iptables' filter table changed: open it again */
};

/* A netlink socket subscribed to nftables' events (NFNLGRP_NFTABLES), to
 * be polled: firewall_watch_read() reads what is queued and returns the
 * FIREWALL_EVENT_* seen, or -errno. Non-blocking; run on the event loop. */
int firewall_watch_open(void);
int firewall_watch_read(int fd);
