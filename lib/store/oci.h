/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include <stdbool.h>
#include <stdint.h>

#include "digest.h"
#include "util.h"

/* OCI and Docker image documents: index / manifest list, manifest, image
 * config. Parsers reject malformed JSON, missing or mistyped fields and
 * unknown media types with -EBADMSG / -EMEDIUMTYPE and leave a message naming
 * the problem in errmsg_last(). */

typedef enum OciMediaType {
        OCI_MEDIA_OCI_INDEX,
        OCI_MEDIA_OCI_MANIFEST,
        OCI_MEDIA_OCI_CONFIG,
        OCI_MEDIA_OCI_LAYER,
        OCI_MEDIA_OCI_LAYER_GZIP,
        OCI_MEDIA_OCI_LAYER_ZSTD,
        OCI_MEDIA_OCI_LAYER_NONDIST,
        OCI_MEDIA_OCI_LAYER_NONDIST_GZIP,
        OCI_MEDIA_OCI_LAYER_NONDIST_ZSTD,
        OCI_MEDIA_DOCKER_MANIFEST_LIST,
        OCI_MEDIA_DOCKER_MANIFEST,
        OCI_MEDIA_DOCKER_CONFIG,
        OCI_MEDIA_DOCKER_LAYER,          /* application/vnd.docker.image.rootfs.diff.tar */
        OCI_MEDIA_DOCKER_LAYER_GZIP,
        OCI_MEDIA_DOCKER_LAYER_FOREIGN_GZIP,
        _OCI_MEDIA_TYPE_MAX,
        _OCI_MEDIA_TYPE_INVALID = -EINVAL,
} OciMediaType;

const char *oci_media_type_to_string(OciMediaType t) _pure_;
OciMediaType oci_media_type_from_string(const char *s) _pure_;
bool oci_media_type_is_index(OciMediaType t) _pure_;
bool oci_media_type_is_manifest(OciMediaType t) _pure_;
bool oci_media_type_is_config(OciMediaType t) _pure_;
bool oci_media_type_is_layer(OciMediaType t) _pure_;

typedef struct OciPlatform {
        char *architecture;
        char *os;
        char *variant;
} OciPlatform;

typedef struct OciDescriptor {
        OciMediaType media_type;
        char digest[DIGEST_STRING_MAX];
        uint64_t size;
        char *ref_name;            /* annotation org.opencontainers.image.ref.name */
        bool has_platform;
        OciPlatform platform;
} OciDescriptor;

/* An OCI image index or a Docker manifest list. */
typedef struct OciIndex {
        OciMediaType media_type;
        OciDescriptor *manifests;
        size_t n_manifests;
} OciIndex;

typedef struct OciManifest {
        OciMediaType media_type;
        OciDescriptor config;
        OciDescriptor *layers;
        size_t n_layers;
} OciManifest;

typedef struct OciHistory {
        uint64_t created_usec;     /* 0 when unknown */
        char *created_by;
        char *author;
        char *comment;
        bool empty_layer;
} OciHistory;

typedef struct OciImageConfig {
        char *architecture;
        char *os;
        char *variant;
        char *author;
        uint64_t created_usec;     /* 0 when unknown */
        char **env;                /* "K=V" */
        char **cmd;
        char **entrypoint;
        char *working_dir;
        char *user;
        char *stop_signal;
        char **exposed_ports;      /* "80/tcp", sorted */
        char **volumes;            /* sorted */
        char **labels;             /* key, value, key, value, ... sorted by key */
        char **diff_ids;           /* rootfs.diff_ids, base layer first */
        OciHistory *history;
        size_t n_history;
} OciImageConfig;

void oci_platform_done(OciPlatform *p);
void oci_descriptor_done(OciDescriptor *d);
OciIndex *oci_index_free(OciIndex *i);
DEFINE_TRIVIAL_CLEANUP_FUNC(OciIndex *, oci_index_free);
OciManifest *oci_manifest_free(OciManifest *m);
DEFINE_TRIVIAL_CLEANUP_FUNC(OciManifest *, oci_manifest_free);
OciImageConfig *oci_image_config_free(OciImageConfig *c);
void oci_image_config_done(OciImageConfig *c);
DEFINE_TRIVIAL_CLEANUP_FUNC(OciImageConfig *, oci_image_config_free);
int oci_image_config_copy(const OciImageConfig *c, OciImageConfig **ret);

/* Peeks at "mediaType" (and "manifests"/"layers" when it is absent, as in
 * OCI layouts) to tell an index from a manifest. */
int oci_document_media_type(const char *json, size_t size, OciMediaType *ret);

int oci_index_parse(const char *json, size_t size, OciIndex **ret);
int oci_manifest_parse(const char *json, size_t size, OciManifest **ret);
int oci_image_config_parse(const char *json, size_t size, OciImageConfig **ret);

int oci_index_to_json(const OciIndex *i, char **ret);
int oci_manifest_to_json(const OciManifest *m, char **ret);
int oci_image_config_to_json(const OciImageConfig *c, char **ret);

/* Index of the manifest that fits arch/variant on linux (arch NULL: the
 * host), preferring an exact variant match; -ENOENT with a message listing
 * what the index offers if none fits. */
int oci_index_select_platform(const OciIndex *i, const char *arch, const char *variant, size_t *ret);

/* Applies one Dockerfile-like instruction ("CMD /bin/sh", "ENV K=V",
 * "EXPOSE 80/tcp", ...) to a config, as docker import --change does. */
int oci_image_config_apply_change(OciImageConfig *c, const char *change);

/* Chain id of a layer stack: chain(L0) = diff_id(L0),
 * chain(Ln) = sha256(chain(Ln-1) + " " + diff_id(Ln)). */
int oci_chain_id(const char *parent_chain_id, const char *diff_id, char ret[static DIGEST_STRING_MAX]);
