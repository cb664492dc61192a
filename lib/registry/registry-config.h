/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include <stdbool.h>

#include "util.h"

/* Registry settings from /etc/berth/registries.d/NAME.conf (INI, as
 * berthd.conf; files read in lexical order, later ones add to and override
 * earlier ones) and per-registry TLS files from /etc/berth/certs.d/ as in
 * Docker's certs.d:
 *
 *   [Registry]
 *   Name=docker.io                 # host[:port] the settings are for
 *   Mirror=mirror.example:5000     # repeatable, tried in order before Name
 *   Insecure=no                    # yes: plain HTTP, or TLS unverified, for this host only
 *   Blocked=no
 *
 *   [Aliases]
 *   debian=docker.io/library/debian
 *
 * A [Registry] section per host; a mirror is a host of its own (its own
 * Insecure= comes from its own section). certs.d/HOST:PORT/ (or HOST/) holds
 * ca.crt (and any *.crt, added to the system CAs), client.cert and
 * client.key. */

#define REGISTRY_CONFIG_DIR "/etc/berth/registries.d"
#define REGISTRY_CERTS_DIR "/etc/berth/certs.d"

typedef struct RegistryConfig RegistryConfig;

/* dir or certs_dir NULL: the defaults above. A missing directory is empty.
 * A bad line fails with -EINVAL and a message naming file and line. */
int registry_config_load(const char *dir, const char *certs_dir, RegistryConfig **ret);
RegistryConfig *registry_config_free(RegistryConfig *c);
DEFINE_TRIVIAL_CLEANUP_FUNC(RegistryConfig *, registry_config_free);

typedef struct RegistryEndpoint {
        char *host;          /* "host[:port]" as connected to ("registry-1.docker.io" for docker.io) */
        bool insecure;       /* plain HTTP allowed (tried after https), TLS unverified */
        bool mirror;
        char *ca_file;       /* certs.d CA bundle, NULL: only the system store */
        char *client_cert;   /* certs.d client.cert, NULL if none */
        char *client_key;
} RegistryEndpoint;

void registry_endpoint_done(RegistryEndpoint *e);
void registry_endpoints_free(RegistryEndpoint *e, size_t n);

/* Where to go for domain (a reference's domain, "docker.io" included), in
 * order: its mirrors when for_pull, then the registry itself. -EACCES when
 * the registry is Blocked=. c may be NULL (no settings). */
int registry_config_endpoints(const RegistryConfig *c, const char *domain, bool for_pull,
                              RegistryEndpoint **ret, size_t *ret_n);

/* The alias of a short name ("debian"), or NULL. */
const char *registry_config_alias(const RegistryConfig *c, const char *short_name);
