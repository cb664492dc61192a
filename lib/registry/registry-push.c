/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <fcntl.h>
#include <sys/stat.h>

#include "fileio.h"
#include "reference.h"
#include "registry-http.h"
#include "store-internal.h"

/* A push: every blob of the manifest (layers, then the config) is asked
 * about with HEAD, mounted from another repository of the same registry
 * when the image came from one, else uploaded (one PUT up to 8 MiB, 8 MiB
 * PATCH chunks above); then the manifest the store kept is PUT as it is, so
 * that its digest is the one the image was pulled or loaded with. */

#define PUSH_CHUNK_SIZE (8 * 1024 * 1024)

typedef struct Push Push;

typedef enum PushStep {
        PUSH_HEAD,
        PUSH_MOUNT,
        PUSH_POST,
        PUSH_PATCH,
        PUSH_PUT,
} PushStep;

typedef struct PushBlob {
        Push *push;
        size_t index;                 /* layers base first, then the config */
        const OciDescriptor *desc;
        int fd;
        PushStep step;
        char *location;
        uint64_t offset;
        uint64_t sending;             /* of the request under way, handed to curl so far */
        RegistryLayerState state;
} PushBlob;

struct Push {
        Store *store;
        const RegistryOptions *opts;
        Reference *dest;
        char *name;                   /* "host/repo" */
        char *mount_from;             /* a repository of the same registry the image came from */
        sd_event *event;
        RegistryClient *client;
        char *manifest;
        size_t manifest_size;
        char manifest_digest[DIGEST_STRING_MAX];
        OciManifest *parsed;
        PushBlob *blobs;
        size_t n_blobs, next, running;
        unsigned max_parallel;
        int error;
        char *error_msg;
        uint64_t done, total;
        char *returned_digest;
};

static void blob_report(PushBlob *b) {
        Push *p = b->push;

        if (p->opts->layer_progress && b->index < p->parsed->n_layers)
                p->opts->layer_progress(b->index, p->parsed->n_layers, b->desc->digest, b->state,
                                        b->offset + b->sending, b->desc->size, p->opts->userdata);
        if (p->opts->progress)
                p->opts->progress(p->done, p->total, b->desc->digest, p->opts->userdata);
}

static void blob_set_state(PushBlob *b, RegistryLayerState s) {
        b->state = s;
        blob_report(b);
}

static int push_fail(Push *p, int r) {
        if (p->error < 0)
                return r;
        p->error = r;
        free(p->error_msg);
        p->error_msg = strdup(strempty(errmsg_last()));
        return r;
}

static int request_failed(Push *p, RegistryRequest *req, int r, const char *what, const PushBlob *b) {
        const char *e = registry_request_error(req);

        if (!isempty(e))
                return errmsg_set(r, "%s", e);
        return errmsg_set(r, "%s: %s %s failed: %s.", p->name, what, b->desc->digest, strerror(-r));
}

static int blob_step(PushBlob *b);
static int push_start_next(Push *p);

static void blob_finish(PushBlob *b, RegistryLayerState s) {
        Push *p = b->push;

        if (s != REGISTRY_LAYER_DONE)
                p->total -= MIN(p->total, b->desc->size);
        b->offset = b->desc->size;
        blob_set_state(b, s);
        p->running--;
        b->fd = safe_close(b->fd);
        (void) push_start_next(p);
}

static int take_location(PushBlob *b, const RegistryResponse *resp) {
        if (isempty(resp->location))
                return errmsg_set(-EPROTO, "%s: blob %s: the registry answered %ld without a Location.",
                                  b->push->name, b->desc->digest, resp->status);
        free(b->location);
        b->location = strdup(resp->location);
        return b->location ? 0 : -ENOMEM;
}

/* A PUT's or PATCH's bytes show as they go, not only once answered. */
static void on_blob_sent(RegistryRequest *req, uint64_t sent, void *userdata) {
        PushBlob *b = userdata;

        b->push->done = b->push->done - b->sending + sent;
        b->sending = sent;
        blob_report(b);
}

/* What comes after an answer: the next step, or the end. */
static int blob_advance(PushBlob *b, const RegistryResponse *resp) {
        int r;

        b->push->done -= b->sending;
        b->sending = 0;

        switch (b->step) {
        case PUSH_HEAD:
                blob_finish(b, REGISTRY_LAYER_EXISTS);
                return 0;
        case PUSH_MOUNT:
                if (resp->status == 201) {
                        blob_finish(b, REGISTRY_LAYER_MOUNTED);
                        return 0;
                }
                __attribute__((fallthrough));
        case PUSH_POST:
        case PUSH_PATCH:
                if ((r = take_location(b, resp)) < 0)
                        return r;
                if (b->step == PUSH_PATCH) {
                        uint64_t n = MIN((uint64_t) PUSH_CHUNK_SIZE, b->desc->size - b->offset);
                        b->offset += n;
                        b->push->done += n;
                        blob_report(b);
                }
                b->step = b->desc->size > PUSH_CHUNK_SIZE && b->offset < b->desc->size ? PUSH_PATCH : PUSH_PUT;
                if (b->state != REGISTRY_LAYER_UPLOADING)
                        blob_set_state(b, REGISTRY_LAYER_UPLOADING);
                return blob_step(b);
        case PUSH_PUT:
                b->push->done += b->desc->size - b->offset;
                blob_finish(b, REGISTRY_LAYER_DONE);
                return 0;
        }
        return -EINVAL;
}

static void on_blob_done(RegistryRequest *req, int r, const RegistryResponse *resp, void *userdata) {
        PushBlob *b = userdata;
        Push *p = b->push;
        static const char * const what[] = {
                [PUSH_HEAD] = "HEAD of blob", [PUSH_MOUNT] = "mount of blob", [PUSH_POST] = "upload of blob",
                [PUSH_PATCH] = "upload of blob", [PUSH_PUT] = "upload of blob",
        };

        if (p->error < 0)
                return;
        if (r < 0 && b->step == PUSH_HEAD && resp && resp->status == 404) {
                b->step = p->mount_from ? PUSH_MOUNT : PUSH_POST;
                r = blob_step(b);
        } else if (r < 0)
                r = request_failed(p, req, r, what[b->step], b);
        else
                r = blob_advance(b, resp);
        if (r < 0)
                push_fail(p, r);
}

static int blob_request(PushBlob *b, RegistryRequestSpec *spec) {
        spec->repository = b->push->dest->path;
        spec->scope_actions = "pull,push";
        spec->mount_source = b->push->mount_from;
        spec->on_done = on_blob_done;
        spec->on_sent = on_blob_sent;
        spec->userdata = b;
        return registry_request_start(b->push->client, spec, NULL);
}

static int blob_step(PushBlob *b) {
        _cleanup_free_ char *path = strjoin("blobs/", b->desc->digest), *query = NULL, *range = NULL;
        RegistryRequestSpec spec = { .body_fd = -EBADF };
        const char *headers[2] = {};
        uint64_t n;

        if (!path)
                return -ENOMEM;
        switch (b->step) {
        case PUSH_HEAD:
                spec.method = "HEAD";
                spec.path = path;
                break;
        case PUSH_MOUNT:
        case PUSH_POST:
                spec.method = "POST";
                spec.path = "blobs/uploads/";
                if (b->step == PUSH_MOUNT &&
                    !(query = strjoin("mount=", b->desc->digest, "&from=", b->push->mount_from)))
                        return -ENOMEM;
                spec.query = query;
                break;
        case PUSH_PATCH:
                n = MIN((uint64_t) PUSH_CHUNK_SIZE, b->desc->size - b->offset);
                if (asprintf(&range, "Content-Range: %llu-%llu", (unsigned long long) b->offset,
                             (unsigned long long) (b->offset + n - 1)) < 0)
                        return -ENOMEM;
                headers[0] = range;
                spec = (RegistryRequestSpec) { .method = "PATCH", .url = b->location, .headers = headers,
                                               .body_fd = b->fd, .body_offset = b->offset, .body_length = n,
                                               .content_type = "application/octet-stream" };
                break;
        case PUSH_PUT:
                if (!(query = strjoin("digest=", b->desc->digest)))
                        return -ENOMEM;
                spec = (RegistryRequestSpec) { .method = "PUT", .url = b->location, .query = query,
                                               .body_fd = -EBADF, .content_type = "application/octet-stream" };
                /* Monolithic: the whole blob with the PUT; chunked: only the digest. */
                if (b->desc->size <= PUSH_CHUNK_SIZE) {
                        spec.body_fd = b->fd;
                        spec.body_length = b->desc->size;
                }
                break;
        }
        return blob_request(b, &spec);
}

/* One request alone first: the endpoint's scheme (https, or http where
 * insecure) and the auth challenge are then learned once, not by several
 * requests racing (in a pull the manifest request does that). */
static int push_start_next(Push *p) {
        unsigned limit = p->next == 0 ? 1 : p->max_parallel;
        int r;

        while (p->error >= 0 && p->running < limit && p->next < p->n_blobs) {
                PushBlob *b = &p->blobs[p->next++];
                b->step = PUSH_HEAD;
                r = blob_step(b);
                if (r < 0)
                        return push_fail(p, r);
                p->running++;
        }
        return 0;
}

/* ---- the manifest ---- */

static OciMediaType config_type_for(const StoreRecord *rec) {
        for (size_t i = 0; i < rec->n_layers; i++)
                if (IN_SET(rec->layers[i].media_type, OCI_MEDIA_DOCKER_LAYER, OCI_MEDIA_DOCKER_LAYER_GZIP,
                           OCI_MEDIA_DOCKER_LAYER_FOREIGN_GZIP))
                        return OCI_MEDIA_DOCKER_CONFIG;
        return OCI_MEDIA_OCI_CONFIG;
}

/* Only for an image that came without one (none is stored). */
static int synthesise_manifest(Push *p, const StoreRecord *rec, char **ret) {
        _cleanup_close_ int fd = store_blob_open(p->store, rec->id);
        _cleanup_free_ OciDescriptor *layers = calloc(rec->n_layers + 1, sizeof(OciDescriptor));
        OciManifest m = { .layers = layers, .n_layers = rec->n_layers };
        struct stat st;

        if (fd < 0)
                return fd;
        if (!layers)
                return -ENOMEM;
        if (fstat(fd, &st) < 0)
                return -errno;
        m.config = (OciDescriptor) { .media_type = config_type_for(rec), .size = (uint64_t) st.st_size };
        m.media_type = m.config.media_type == OCI_MEDIA_DOCKER_CONFIG ? OCI_MEDIA_DOCKER_MANIFEST :
                                                                         OCI_MEDIA_OCI_MANIFEST;
        strcpy(m.config.digest, rec->id);
        for (size_t i = 0; i < rec->n_layers; i++) {
                layers[i] = (OciDescriptor) { .media_type = rec->layers[i].media_type,
                                              .size = rec->layers[i].blob_size };
                strcpy(layers[i].digest, rec->layers[i].digest);
        }
        return oci_manifest_to_json(&m, ret);
}

static int push_load_manifest(Push *p, const Image *img) {
        _cleanup_(store_record_freep) StoreRecord *rec = NULL;
        _cleanup_close_ int fd = -EBADF;
        char digest[DIGEST_STRING_MAX];
        int r;

        r = store_record_read(p->store, digest_hex(img->id), &rec);
        if (r < 0)
                return errmsg_set(r, "No such image: %s.", img->id);
        if (!isempty(rec->manifest_digest)) {
                fd = store_blob_open(p->store, rec->manifest_digest);
                if (fd < 0)
                        return fd;
                r = read_full_fd(fd, store_limits(p->store)->max_json_size, &p->manifest, &p->manifest_size);
        } else {
                r = synthesise_manifest(p, rec, &p->manifest);
                p->manifest_size = r >= 0 ? strlen(p->manifest) : 0;
        }
        if (r < 0)
                return r;
        if ((r = sha256_digest_buffer(p->manifest, p->manifest_size, digest)) < 0)
                return r;
        if (!isempty(rec->manifest_digest) && !streq(digest, rec->manifest_digest))
                return errmsg_set(-EBADMSG, "The stored manifest of %s is damaged (digest %s, not %s).",
                                  img->id, digest, rec->manifest_digest);
        strcpy(p->manifest_digest, digest);
        r = oci_manifest_parse(p->manifest, p->manifest_size, &p->parsed);
        if (r < 0)
                return r;
        if (!streq(p->parsed->config.digest, img->id))
                return errmsg_set(-EBADMSG, "The stored manifest of %s names another config.", img->id);
        return 0;
}

static int push_open_blobs(Push *p) {
        size_t n = p->parsed->n_layers + 1;

        p->blobs = calloc(n, sizeof(PushBlob));
        if (!p->blobs)
                return -ENOMEM;
        for (size_t i = 0; i < n; i++) {
                PushBlob *b = &p->blobs[i];
                struct stat st;

                *b = (PushBlob) { .push = p, .index = i, .fd = -EBADF,
                                  .desc = i < p->parsed->n_layers ? &p->parsed->layers[i] : &p->parsed->config };
                p->n_blobs++;
                b->fd = store_blob_open(p->store, b->desc->digest);
                if (b->fd < 0)
                        return b->fd;
                if (fstat(b->fd, &st) < 0)
                        return -errno;
                if ((uint64_t) st.st_size != b->desc->size)
                        return errmsg_set(-EBADMSG, "Blob %s in the store has %llu bytes, the manifest gives %llu.",
                                          b->desc->digest, (unsigned long long) st.st_size,
                                          (unsigned long long) b->desc->size);
                p->total += b->desc->size;
        }
        return 0;
}

static int push_manifest(Push *p) {
        _cleanup_free_ char *path = strjoin("manifests/", p->dest->tag);
        RegistryRequestSpec spec = {
                .method = "PUT", .repository = p->dest->path, .scope_actions = "pull,push", .path = path,
                .body = p->manifest, .body_size = p->manifest_size, .body_fd = -EBADF,
                .content_type = oci_media_type_to_string(p->parsed->media_type),
        };
        RegistryReply reply = {};
        int r;

        if (!path)
                return -ENOMEM;
        r = registry_request_run_once(p->client, &spec, &reply);
        if (r >= 0 && reply.docker_content_digest && !streq(reply.docker_content_digest, p->manifest_digest))
                r = errmsg_set(-EBADMSG, "%s:%s: the registry stored the manifest as %s, but what was sent is %s.",
                               p->name, p->dest->tag, reply.docker_content_digest, p->manifest_digest);
        registry_reply_done(&reply);
        return r;
}

/* ---- setup ---- */

/* A repository of the same registry the image was pulled from or tagged
 * for, to mount blobs from instead of sending them. */
static int find_mount_source(Push *p, const Image *img) {
        char **lists[] = { img->repo_digests, img->repo_tags };

        for (size_t k = 0; k < ELEMENTSOF(lists); k++)
                STRV_FOREACH(t, lists[k]) {
                        _cleanup_(reference_freep) Reference *r = NULL;

                        if (reference_parse(*t, &r) < 0)
                                continue;
                        if (streq(r->domain, p->dest->domain) && !streq(r->path, p->dest->path)) {
                                p->mount_from = strdup(r->path);
                                return p->mount_from ? 0 : -ENOMEM;
                        }
                }
        errmsg_clear();
        return 0;
}

static int push_parse_destination(Push *p, const char *name_or_id, const char *destination) {
        _cleanup_free_ char *hex = NULL;
        int r;

        if (!destination && reference_parse_id(name_or_id, &hex) >= 0)
                return errmsg_set(-EINVAL, "Image %s is named by id: give a destination to push it to.",
                                  name_or_id);
        r = reference_parse(destination ?: name_or_id, &p->dest);
        if (r < 0)
                return r;
        if (!p->dest->tag)
                return errmsg_set(-EINVAL, "Destination %s has no tag: push needs one.", destination ?: name_or_id);
        p->name = reference_name(p->dest);
        return p->name ? 0 : -ENOMEM;
}

static int push_init(Push *p, Store *s, const char *name_or_id, const char *destination, const RegistryOptions *o) {
        _cleanup_(image_freep) Image *img = NULL;
        int r;

        *p = (Push) { .store = s, .opts = o, .max_parallel = o->max_parallel ?: 3 };
        if ((r = store_resolve_image(s, name_or_id, &img)) < 0 ||
            (r = push_parse_destination(p, name_or_id, destination)) < 0 ||
            (r = find_mount_source(p, img)) < 0 || (r = push_load_manifest(p, img)) < 0 ||
            (r = push_open_blobs(p)) < 0)
                return r;
        if ((r = sd_event_new(&p->event)) < 0)
                return r;
        return registry_client_new(p->event, p->dest->domain, o, &p->client);
}

static void push_done(Push *p) {
        registry_client_free(p->client);
        sd_event_unref(p->event);
        for (size_t i = 0; i < p->n_blobs; i++) {
                safe_close(p->blobs[i].fd);
                free(p->blobs[i].location);
        }
        free(p->blobs);
        oci_manifest_free(p->parsed);
        free(p->manifest);
        reference_free(p->dest);
        free(p->name);
        free(p->mount_from);
        free(p->error_msg);
}

static int push_run(Push *p, RegistryPushResult *ret) {
        int r;

        r = push_start_next(p);
        if (r >= 0)
                r = registry_client_run(p->client);
        if (r < 0)
                push_fail(p, r);
        if (p->error < 0)
                return errmsg_set(p->error, "%s", strempty(p->error_msg));
        r = push_manifest(p);
        if (r < 0 || !ret)
                return r;
        *ret = (RegistryPushResult) { .reference = reference_to_string(p->dest),
                                      .manifest_digest = strdup(p->manifest_digest),
                                      .manifest_size = p->manifest_size };
        if (!ret->reference || !ret->manifest_digest) {
                registry_push_result_done(ret);
                return -ENOMEM;
        }
        return 0;
}

int registry_push(Store *s, const char *name_or_id, const char *destination, const RegistryOptions *o,
                  RegistryPushResult *ret) {
        static const RegistryOptions defaults = {};
        Push p = {};
        int r;

        errmsg_clear();
        o = o ?: &defaults;
        r = push_init(&p, s, name_or_id, destination, o);
        if (r >= 0)
                r = push_run(&p, ret);
        if (r < 0 && !errmsg_last())
                errmsg_set(r, "Push of %s failed: %s.", name_or_id, strerror(-r));
        push_done(&p);
        return r;
}

/* ---- login ---- */

int registry_check_login(const char *registry, const RegistryOptions *o) {
        static const RegistryOptions defaults = {};
        _cleanup_(registry_client_freep) RegistryClient *c = NULL;
        _cleanup_(sd_event_unrefp) sd_event *e = NULL;
        RegistryRequestSpec spec = { .method = "GET", .body_fd = -EBADF };
        RegistryReply reply = {};
        int r;

        errmsg_clear();
        o = o ?: &defaults;
        if (isempty(registry) || strpbrk(registry, "/@ "))
                return errmsg_set(-EINVAL, "Invalid registry \"%s\": expected host[:port].", strempty(registry));
        if ((r = sd_event_new(&e)) < 0 || (r = registry_client_new(e, registry, o, &c)) < 0)
                return r;
        r = registry_request_run_once(c, &spec, &reply);
        /* Where the loop failed (cancelled) the reply is empty and its message stands. */
        if (r < 0 && (r == -EACCES || IN_SET(reply.status, 401, 403)))
                r = errmsg_set(-EACCES, "%s: the registry refused the credentials (HTTP %ld).", registry,
                               reply.status ?: 401);
        registry_reply_done(&reply);
        return r;
}
