/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include <stdbool.h>
#include <stdint.h>

#include "oci.h"

/* Manifest negotiation for a pull: what is asked for (OCI index, OCI
 * manifest, Docker manifest list, Docker schema 2; never schema 1), what an
 * answer must be to be accepted (bounded, of a known type, its digest the
 * one asked for or the one the registry claims), and the platform picked
 * from an index. The checks are pure functions, unit-tested and fuzzed; the
 * fetch runs them on what the client collected. */

/* "Accept: ..." for manifest requests. */
extern const char registry_manifest_accept[];

typedef struct RegistryManifest {
        OciMediaType media_type;          /* an index or a manifest type */
        char digest[DIGEST_STRING_MAX];   /* sha256 of data, verified */
        char *data;                       /* the bytes as received (NUL-terminated) */
        size_t size;
} RegistryManifest;

void registry_manifest_done(RegistryManifest *m);

/* Checks an answer to GET manifests/<ref>. name ("host/repo") and ref are for
 * messages. content_type and docker_content_digest may be NULL;
 * expected_digest (the reference's or the index's, may be NULL) must match
 * the bytes, and so must Docker-Content-Digest when sent. Schema 1 is
 * -EMEDIUMTYPE, over max_size -EFBIG, a digest mismatch -EBADMSG. */
int registry_manifest_check(const char *name, const char *ref, const char *content_type,
                            const char *docker_content_digest, const char *expected_digest,
                            const void *body, size_t size, uint64_t max_size, RegistryManifest *ret);

/* Parses "os/arch[/variant]" (NULL: the host's, returned as NULL arch);
 * only os "linux" runs here (-ENODATA otherwise). Common aliases
 * (x86_64, aarch64) are mapped to their OCI names. */
int registry_platform_parse(const char *platform, char **ret_arch, char **ret_variant);

/* The manifest of index that fits platform, as registry_platform_parse()
 * reads it: -ENODATA naming name and what the index offers if none does. */
int registry_manifest_select(const char *name, const OciIndex *index, const char *platform, size_t *ret);
