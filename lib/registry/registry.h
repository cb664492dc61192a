/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include <stdbool.h>
#include <stdint.h>

#include "registry-config.h"
#include "store.h"
#include "util.h"

/* The client side of the OCI distribution API: pull, push and the login
 * check, feeding and reading the image store. Everything a registry answers
 * is hostile: digests are verified as bytes arrive, sizes are bounded by the
 * store's limits, and a failed or cancelled operation leaves the store as it
 * was (only partial blobs may be kept, bounded, to resume a later pull).
 *
 * Each call is synchronous for its caller, which is a worker thread: inside,
 * the transfers run on an sd-event loop of their own through curl's multi
 * interface (registry-http.h), several layers at once, each layer streamed
 * through its digest, decompression and the unpacker (layer.h) as it
 * arrives. berthd's main loop never waits on any of it (as systemd-importd
 * leaves the transfer loop to systemd-pull).
 *
 * Errors are negative errno values with one sentence in errmsg_last() naming
 * the registry, the repository and the reason:
 *   -EINVAL      malformed reference or option
 *   -ENOENT      no such repository, tag, manifest or blob (404)
 *   -EACCES      authentication failed or refused (401/403)
 *   -EBADMSG     malformed answer, or a digest mismatch
 *   -EMEDIUMTYPE unknown or refused media type (schema 1 included)
 *   -EFBIG       an answer over a limit
 *   -ENODATA     no manifest of the index fits the platform
 *   -EHOSTUNREACH, -ECONNREFUSED, -ETIMEDOUT, -ECONNRESET  network, after retries
 *   -EPROTO      an answer the protocol does not allow (e.g. endless redirects)
 *   -ECANCELED   the cancel flag was raised */

/* Credentials for one registry, as the caller resolved them (berthctl reads
 * the user's auth.json, docker config.json or credential helper) and handed
 * over for this one operation. Never logged, never put in a message. */
typedef struct RegistryCredentials {
        char *username;
        char *password;
        char *identity_token;        /* an OAuth2 refresh token ("identitytoken") instead */
} RegistryCredentials;

void registry_credentials_done(RegistryCredentials *c);   /* wipes and frees */

typedef enum RegistryLayerState {
        REGISTRY_LAYER_WAITING,
        REGISTRY_LAYER_DOWNLOADING,   /* pull: bytes arriving (and unpacked as they arrive) */
        REGISTRY_LAYER_UPLOADING,     /* push */
        REGISTRY_LAYER_VERIFYING,     /* last bytes in, the unpacker finishing / diff_id checked */
        REGISTRY_LAYER_DONE,
        REGISTRY_LAYER_EXISTS,        /* already in the store (pull) or the registry (push): not sent */
        REGISTRY_LAYER_MOUNTED,       /* push: mounted from another repository */
        _REGISTRY_LAYER_STATE_MAX,
        _REGISTRY_LAYER_STATE_INVALID = -EINVAL,
} RegistryLayerState;

const char *registry_layer_state_to_string(RegistryLayerState s) _pure_;

/* Called from the operation's thread (never two at once) whenever a layer
 * changes state or has moved on by some bytes. index counts layers base
 * first; digest is the blob digest ("sha256:..."); total may be 0 while
 * unknown. */
typedef void (*RegistryLayerProgressFn)(size_t index, size_t n_layers, const char *digest,
                                        RegistryLayerState state, uint64_t done, uint64_t total,
                                        void *userdata);

/* berthd's default for RegistryOptions.max_partial_size. */
#define REGISTRY_MAX_PARTIAL_SIZE (UINT64_C(1) << 30)

typedef struct RegistryOptions {
        const RegistryConfig *config;           /* registries.d and certs.d; NULL: none */
        const RegistryCredentials *credentials; /* for the reference's registry; NULL: auth_file */
        const char *auth_file;                  /* berthd's own root-only auth.json; NULL: none */
        bool tls_verify_disabled;               /* --tls-verify=false: for this operation only */
        const char *platform;                   /* "os/arch[/variant]"; NULL: the host's */
        unsigned max_parallel;                  /* layers transferred at once; 0: 3 */
        uint64_t max_manifest_size;             /* 0: 4 MiB */
        uint64_t max_config_size;               /* 0: 8 MiB */
        unsigned stall_timeout_sec;             /* a transfer under 1 KiB/s this long fails; 0: 60 */
        uint64_t max_partial_size;              /* partial blobs kept across pulls, in all, in bytes; 0: none
                                                 * (berthd's MaxPartialBlobsSize=, REGISTRY_MAX_PARTIAL_SIZE) */
        const volatile int *cancel;             /* polled; non-zero: -ECANCELED */
        RegistryLayerProgressFn layer_progress;
        StoreProgressFn progress;               /* bytes of the whole operation */
        void *userdata;                         /* for both callbacks */
} RegistryOptions;

typedef struct RegistryPullResult {
        char *image_id;              /* "sha256:<config hex>" */
        char *reference;             /* full reference tagged: "docker.io/library/debian:latest" */
        char *manifest_digest;       /* of the platform's manifest */
        char *repo_digest;           /* "docker.io/library/debian@sha256:<manifest hex>" */
        bool was_present;            /* the image was in the store already: only the manifest was asked */
} RegistryPullResult;

void registry_pull_result_done(RegistryPullResult *r);

/* Pulls reference (Docker's forms: "debian", "name:tag", "name@sha256:...",
 * "host:port/name"; short-name aliases of the config applied) into the
 * store and tags it. Tries the registry's mirrors first, in order. */
int registry_pull(Store *s, const char *reference, const RegistryOptions *o, RegistryPullResult *ret);

typedef struct RegistryPushResult {
        char *reference;             /* where it went: "127.0.0.1:5000/me/app:1.0" */
        char *manifest_digest;       /* as the registry returned it */
        uint64_t manifest_size;
} RegistryPushResult;

void registry_push_result_done(RegistryPushResult *r);

/* Pushes the stored image name_or_id to destination (a reference; NULL: the
 * image's name itself). Blobs the registry has are not sent; blobs of another
 * repository on the same registry are mounted where the registry allows. */
int registry_push(Store *s, const char *name_or_id, const char *destination, const RegistryOptions *o,
                  RegistryPushResult *ret);

/* Checks credentials against registry ("host[:port]", "docker.io" is
 * Docker Hub): 0 when accepted, -EACCES with a sentence when refused. */
int registry_check_login(const char *registry, const RegistryOptions *o);
