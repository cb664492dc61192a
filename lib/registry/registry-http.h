/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include <stdbool.h>
#include <stdint.h>
#include <systemd/sd-event.h>

#include "registry-config.h"
#include "registry.h"

/* HTTP for the distribution API: libcurl's multi interface driven by an
 * sd-event loop (curl-glue.h), with what every request of a pull or push
 * needs done once here:
 *   - endpoints: a request for_pull goes to the domain's mirrors first, in
 *     order, falling back to the next on a connection failure, 404 or a 5xx
 *     that retries did not cure; https, and plain http only where insecure;
 *   - TLS: the system CA store plus certs.d's CA and client certificate;
 *     verification off only where insecure or tls_verify_disabled;
 *   - auth: anonymous first; on 401 the WWW-Authenticate challenge is
 *     answered with HTTP basic or a bearer token fetched from the token
 *     service for the repository's scope (cached per endpoint and scope until
 *     it expires; fetched again on 401 with error insufficient_scope);
 *     credentials go to the registry's own host and its token service only,
 *     never to a redirect target (blob storage) nor into any message;
 *   - redirects: followed (at most 10) without Authorization;
 *   - retries: 429 and 5xx and dropped connections retried with exponential
 *     backoff (at most 5 tries), Retry-After honoured (bounded to 60 s);
 *     a streamed GET that drops resumes with Range from the last byte
 *     delivered where the server answers 206, else starts over and skips
 *     what was already delivered;
 *   - limits: a collected body over max_body fails with -EFBIG; a transfer
 *     slower than 1 KiB/s for 60 s fails with -ETIMEDOUT.
 * Messages name endpoint, repository and reason, e.g.
 *   "127.0.0.1:5000/library/debian: manifest 'latest' not found (HTTP 404)." */

typedef struct RegistryClient RegistryClient;
typedef struct RegistryRequest RegistryRequest;

/* o->config, credentials, auth_file, tls_verify_disabled and cancel are used
 * (and must outlive the client). domain: the reference's domain. */
int registry_client_new(sd_event *e, const char *domain, const RegistryOptions *o, RegistryClient **ret);
RegistryClient *registry_client_free(RegistryClient *c);   /* cancels what is running */
DEFINE_TRIVIAL_CLEANUP_FUNC(RegistryClient *, registry_client_free);

typedef struct RegistryResponse {
        long status;                     /* final HTTP status */
        const char *content_type;        /* media type without parameters, or NULL */
        const char *docker_content_digest;
        const char *location;            /* absolute URL, resolved against the request's */
        const char *range;               /* "0-1234" of an upload, or NULL */
        uint64_t content_length;         /* UINT64_MAX when unknown */
        const char *body;                /* collected body (NUL-terminated), or NULL */
        size_t body_size;
        const char *endpoint;            /* the host that answered */
} RegistryResponse;

/* Streamed body bytes, in order, each exactly once even across retries and
 * resumes. Return 0 to go on, or a negative errno to fail the request with
 * it (the callback sets the message with errmsg_set()). May call
 * registry_request_pause(). */
typedef int (*RegistryDataFn)(RegistryRequest *req, const void *p, size_t n, void *userdata);
/* Once per request: r is 0 for a 2xx answer, else a negative errno (see
 * registry.h) with registry_request_error() saying why; resp is valid for
 * the call (status set also on failure when the server answered). The
 * request is freed after it returns. */
typedef void (*RegistryDoneFn)(RegistryRequest *req, int r, const RegistryResponse *resp, void *userdata);
/* Bytes of the request body handed to the connection so far, for progress
 * (smaller again when a retry starts the body over). */
typedef void (*RegistrySentFn)(RegistryRequest *req, uint64_t sent, void *userdata);

typedef struct RegistryRequestSpec {
        const char *method;              /* "GET", "HEAD", "PUT", "POST", "PATCH" */
        const char *repository;          /* "library/debian": the URL's and the token's scope */
        const char *scope_actions;       /* "pull" or "pull,push" */
        const char *path;                /* after "/v2/<repository>/": "manifests/latest", "blobs/<digest>",
                                          * "blobs/uploads/"; NULL with url, or for "/v2/" itself */
        const char *url;                 /* absolute URL (an upload's Location) instead of path */
        const char *query;               /* appended with '?' or '&': "digest=sha256:..", "mount=..&from=.." */
        const char * const *headers;     /* extra "Name: value" lines, NULL-terminated, e.g. Accept */
        const void *body;                /* request body in memory ... */
        size_t body_size;
        int body_fd;                     /* ... or from a file (not owned; -EBADF: none) */
        uint64_t body_offset, body_length;
        const char *content_type;        /* of the body */
        uint64_t max_body;               /* collect the answer's body, at most this many bytes; 0: drop it */
        RegistryDataFn on_data;          /* stream the body instead (2xx answers only) */
        bool resumable;                  /* a dropped streamed GET resumes with Range */
        uint64_t resume_from;            /* a streamed GET whose first bytes the caller has (a partial
                                          * blob kept from an earlier pull): asked for with "Range:
                                          * bytes=N-", 206 expected; on a 200 they are skipped. on_data
                                          * gets the rest only */
        bool for_pull;                   /* may be served by a mirror */
        const char *mount_source;        /* a mount's source repository: its pull scope is asked for too,
                                          * else a token registry quietly uploads instead of mounting */
        RegistryDoneFn on_done;
        RegistrySentFn on_sent;          /* may be NULL */
        void *userdata;
} RegistryRequestSpec;

int registry_request_start(RegistryClient *c, const RegistryRequestSpec *spec, RegistryRequest **ret);
void registry_request_pause(RegistryRequest *r);
void registry_request_unpause(RegistryRequest *r);
/* Stops it; on_done is called with -ECANCELED from the loop, not from here. */
void registry_request_cancel(RegistryRequest *r);
const char *registry_request_error(RegistryRequest *r);
/* Bytes delivered so far to on_data, counting resume_from (for progress). */
uint64_t registry_request_bytes(RegistryRequest *r);

/* The host a for_pull request last reached successfully for this client
 * (the mirror or the registry), for messages; NULL before. */
const char *registry_client_endpoint(RegistryClient *c);

/* Runs the loop until no request is left (or the cancel flag rises:
 * everything is cancelled and -ECANCELED returned). */
int registry_client_run(RegistryClient *c);

/* What registry_request_run_once() keeps of an answer. */
typedef struct RegistryReply {
        long status;
        char *content_type;
        char *docker_content_digest;
        char *body;                      /* NUL-terminated copy, where spec->max_body > 0 */
        size_t body_size;
} RegistryReply;

void registry_reply_done(RegistryReply *r);

/* One request on its own: starts it (spec's on_done and userdata are not
 * used), runs the loop until nothing is left and returns 0 for a 2xx answer,
 * else a negative errno with the request's sentence (or the loop's) as
 * errmsg_last(). ret may be NULL; after a failed request it holds only the
 * status, after a failed loop (cancelled) nothing. In registry-request.c,
 * on the calls above only, so that a fake client serves it too. */
int registry_request_run_once(RegistryClient *c, const RegistryRequestSpec *spec, RegistryReply *ret);
