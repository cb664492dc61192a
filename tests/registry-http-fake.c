/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <unistd.h>

#include "digest.h"
#include "registry-http-fake.h"

typedef struct FakeEntry {
        char *domain, *repository, *path, *content_type;
        uint8_t *data;
        size_t size;
} FakeEntry;

static FakeEntry *entries;
static size_t n_entries;
static unsigned n_uploads, n_serials;
size_t fake_chunk = 16384;
unsigned fake_requests, fake_pauses, fake_by_method[5];
unsigned fake_ranges;
uint64_t fake_last_range, fake_streamed;
const char *fake_fail_path;
uint64_t fake_fail_at;

struct RegistryClient {
        sd_event *event;
        char *domain;
        const volatile int *cancel;
        RegistryRequest *requests;
};

struct RegistryRequest {
        RegistryClient *client;
        RegistryRequest *next;
        RegistryRequestSpec spec;
        char *path, *url, *query, *repository, *method;
        uint64_t delivered;
        bool paused, cancelled;
        unsigned serial;
        char error[256];
        char location[256];
};

void fake_reset(void) {
        for (size_t i = 0; i < n_entries; i++) {
                free(entries[i].domain);
                free(entries[i].repository);
                free(entries[i].path);
                free(entries[i].content_type);
                free(entries[i].data);
        }
        entries = mfree(entries);
        n_entries = 0;
        fake_requests = fake_pauses = fake_ranges = 0;
        fake_last_range = fake_streamed = 0;
        fake_fail_path = NULL;
        memset(fake_by_method, 0, sizeof fake_by_method);
}

static FakeEntry *find(const char *domain, const char *repository, const char *path) {
        for (size_t i = 0; i < n_entries; i++)
                if (streq(entries[i].domain, domain) && streq(entries[i].repository, repository) &&
                    streq(entries[i].path, path))
                        return &entries[i];
        return NULL;
}

void fake_put(const char *domain, const char *repository, const char *path, const char *content_type,
              const void *data, size_t size) {
        FakeEntry *e = find(domain, repository, path);

        if (!e) {
                entries = realloc(entries, (n_entries + 1) * sizeof(FakeEntry));
                e = &entries[n_entries++];
                *e = (FakeEntry) { .domain = strdup(domain), .repository = strdup(repository), .path = strdup(path) };
        } else {
                free(e->data);
                free(e->content_type);
        }
        e->content_type = content_type ? strdup(content_type) : NULL;
        e->data = malloc(size + 1);
        memcpy(e->data, data, size);
        e->size = size;
}

const void *fake_get(const char *domain, const char *repository, const char *path, size_t *ret_size) {
        FakeEntry *e = find(domain, repository, path);

        if (!e)
                return NULL;
        *ret_size = e->size;
        return e->data;
}

int registry_client_new(sd_event *e, const char *domain, const RegistryOptions *o, RegistryClient **ret) {
        RegistryClient *c = calloc(1, sizeof *c);

        c->event = sd_event_ref(e);
        c->domain = strdup(domain);
        c->cancel = o->cancel;
        *ret = c;
        return 0;
}

static void request_free(RegistryRequest *r) {
        free(r->path);
        free(r->url);
        free(r->query);
        free(r->repository);
        free(r->method);
        free(r);
}

RegistryClient *registry_client_free(RegistryClient *c) {
        if (!c)
                return NULL;
        while (c->requests) {
                RegistryRequest *r = c->requests;
                c->requests = r->next;
                request_free(r);
        }
        sd_event_unref(c->event);
        free(c->domain);
        free(c);
        return NULL;
}

static int method_index(const char *m) {
        return streq(m, "GET") ? 0 : streq(m, "HEAD") ? 1 : streq(m, "PUT") ? 2 : streq(m, "POST") ? 3 : 4;
}

int registry_request_start(RegistryClient *c, const RegistryRequestSpec *spec, RegistryRequest **ret) {
        RegistryRequest *r = calloc(1, sizeof *r), **p;

        r->client = c;
        r->spec = *spec;
        r->path = spec->path ? strdup(spec->path) : NULL;
        r->url = spec->url ? strdup(spec->url) : NULL;
        r->query = spec->query ? strdup(spec->query) : NULL;
        r->repository = spec->repository ? strdup(spec->repository) : NULL;
        r->method = strdup(spec->method);
        r->serial = ++n_serials;
        /* What the caller has is skipped, as a 206 would. */
        r->delivered = spec->resume_from;
        if (spec->on_data && spec->resume_from > 0) {
                fake_ranges++;
                fake_last_range = spec->resume_from;
        }
        fake_requests++;
        fake_by_method[method_index(spec->method)]++;
        for (p = &c->requests; *p; p = &(*p)->next)
                ;
        *p = r;
        if (ret)
                *ret = r;
        return 0;
}

void registry_request_pause(RegistryRequest *r) {
        r->paused = true;
        fake_pauses++;
}

void registry_request_unpause(RegistryRequest *r) {
        r->paused = false;
}

void registry_request_cancel(RegistryRequest *r) {
        r->cancelled = true;
        r->paused = false;
}

const char *registry_request_error(RegistryRequest *r) {
        return r->error[0] ? r->error : NULL;
}

uint64_t registry_request_bytes(RegistryRequest *r) {
        return r->delivered;
}

const char *registry_client_endpoint(RegistryClient *c) {
        return c->domain;
}

static void finish(RegistryRequest *r, int error, RegistryResponse *resp) {
        RegistryClient *c = r->client;
        RegistryRequest **p;

        for (p = &c->requests; *p != r; p = &(*p)->next)
                ;
        *p = r->next;
        if (error < 0 && !r->error[0])
                snprintf(r->error, sizeof r->error, "%s/%s: %s %s failed (HTTP %ld).", c->domain,
                         strempty(r->repository), r->method, strempty(r->path ?: r->url), resp->status);
        r->spec.on_done(r, error, resp, r->spec.userdata);
        request_free(r);
}

static int read_body(RegistryRequest *r, uint8_t **ret, size_t *ret_size) {
        size_t n = r->spec.body_fd >= 0 ? r->spec.body_length : r->spec.body_size;
        uint8_t *b = malloc(n + 1);

        if (r->spec.body_fd >= 0) {
                if (pread(r->spec.body_fd, b, n, (off_t) r->spec.body_offset) != (ssize_t) n)
                        return -EIO;
        } else if (n > 0)
                memcpy(b, r->spec.body, n);
        *ret = b;
        *ret_size = n;
        return 0;
}

/* Uploads in progress live as entries of repository "upload" keyed by number. */
static void do_upload(RegistryRequest *r, RegistryResponse *resp) {
        RegistryClient *c = r->client;
        const char *id = startswith(r->url, "http://fake/upload/");
        _cleanup_free_ uint8_t *body = NULL, *all = NULL;
        size_t n, have = 0, repo_size;
        const void *prev = id ? fake_get("upload", "upload", id, &have) : NULL;
        char digest[DIGEST_STRING_MAX];
        const char *want = r->query ? startswith(r->query, "digest=") : NULL;
        _cleanup_free_ char *path = NULL;

        if (!id || read_body(r, &body, &n) < 0)
                return finish(r, -EPROTO, resp);
        all = malloc(have + n + 1);
        if (have)
                memcpy(all, prev, have);
        if (n)
                memcpy(all + have, body, n);
        fake_put("upload", "upload", id, NULL, all, have + n);
        snprintf(r->location, sizeof r->location, "%s", r->url);
        resp->location = r->location;
        if (streq(r->method, "PATCH")) {
                resp->status = 202;
                return finish(r, 0, resp);
        }
        sha256_digest_buffer(all, have + n, digest);
        if (!want || !streq(want, digest)) {
                resp->status = 400;
                return finish(r, -EBADMSG, resp);
        }
        /* The repository was remembered in the upload's first entry. */
        path = strjoin("blobs/", digest);
        fake_put(c->domain, strempty(fake_get("upload", "repo", id, &repo_size)), path, NULL, all, have + n);
        resp->status = 201;
        finish(r, 0, resp);
}

static void do_post(RegistryRequest *r, RegistryResponse *resp) {
        RegistryClient *c = r->client;
        char id[32];
        const char *mount = r->query ? startswith(r->query, "mount=") : NULL;

        if (mount) {
                _cleanup_free_ char *digest = strndup(mount, 71), *path = strjoin("blobs/", digest);
                const char *from = strstr(r->query, "&from=");
                size_t n;
                const void *d = from ? fake_get(c->domain, from + 6, path, &n) : NULL;
                if (d) {
                        fake_put(c->domain, r->repository, path, NULL, d, n);
                        resp->status = 201;
                        return finish(r, 0, resp);
                }
        }
        snprintf(id, sizeof id, "%u", ++n_uploads);
        fake_put("upload", "upload", id, NULL, "", 0);
        fake_put("upload", "repo", id, NULL, r->repository, strlen(r->repository) + 1);
        snprintf(r->location, sizeof r->location, "http://fake/upload/%s", id);
        resp->location = r->location;
        resp->status = 202;
        finish(r, 0, resp);
}

static void stream_step(RegistryRequest *r, RegistryResponse *resp, const FakeEntry *e) {
        bool failing = fake_fail_path && streq(r->path, fake_fail_path);
        uint64_t end = failing ? MIN(fake_fail_at, e->size) : e->size;
        size_t n;
        int k;

        if (r->spec.resume_from > 0)
                resp->status = r->spec.resume_from < e->size ? 206 : 416;
        if (resp->status == 416)
                return finish(r, -EPROTO, resp);
        if (failing && r->delivered >= end) {
                snprintf(r->error, sizeof r->error, "%s/%s: connection reset.", r->client->domain, r->repository);
                return finish(r, -ECONNRESET, resp);
        }
        n = MIN(fake_chunk, end - r->delivered);
        k = n > 0 ? r->spec.on_data(r, e->data + r->delivered, n, r->spec.userdata) : 0;
        r->delivered += n;
        fake_streamed += n;
        if (k < 0)
                return finish(r, k, resp);
        if (r->delivered < e->size)
                return;
        finish(r, 0, resp);
}

static void do_get(RegistryRequest *r, RegistryResponse *resp, const FakeEntry *e) {
        char digest[DIGEST_STRING_MAX];

        if (!e) {
                resp->status = 404;
                return finish(r, -ENOENT, resp);
        }
        sha256_digest_buffer(e->data, e->size, digest);
        resp->status = 200;
        resp->content_type = e->content_type;
        resp->docker_content_digest = startswith(r->path, "manifests/") ? digest : NULL;
        resp->content_length = e->size;
        if (streq(r->method, "HEAD"))
                return finish(r, 0, resp);
        if (r->spec.on_data)
                return stream_step(r, resp, e);
        if (e->size > r->spec.max_body) {
                snprintf(r->error, sizeof r->error, "%s: answer over the limit.", r->client->domain);
                return finish(r, -EFBIG, resp);
        }
        resp->body = (const char *) e->data;
        resp->body_size = e->size;
        finish(r, 0, resp);
}

/* One step of r: a chunk of a streamed GET, or the whole of anything else. */
static void step(RegistryRequest *r) {
        RegistryClient *c = r->client;
        RegistryResponse resp = { .content_length = UINT64_MAX, .endpoint = c->domain };

        if (r->cancelled)
                return finish(r, -ECANCELED, &resp);
        if (r->url)
                return do_upload(r, &resp);
        if (streq(r->method, "POST"))
                return do_post(r, &resp);
        if (streq(r->method, "PUT")) {
                _cleanup_free_ uint8_t *body = NULL;
                size_t n;
                char digest[DIGEST_STRING_MAX];
                read_body(r, &body, &n);
                fake_put(c->domain, r->repository, r->path, r->spec.content_type, body, n);
                sha256_digest_buffer(body, n, digest);
                resp.docker_content_digest = digest;
                resp.status = 201;
                return finish(r, 0, &resp);
        }
        if (!r->path) {   /* GET /v2/ */
                resp.status = 200;
                return finish(r, 0, &resp);
        }
        do_get(r, &resp, find(c->domain, r->repository, r->path));
}

static RegistryRequest *by_serial(RegistryClient *c, unsigned serial) {
        for (RegistryRequest *r = c->requests; r; r = r->next)
                if (r->serial == serial)
                        return r;
        return NULL;
}

/* Round robin: one step of each request there is, then the loop. */
int registry_client_run(RegistryClient *c) {
        while (c->requests) {
                unsigned serials[256];
                size_t n = 0;
                bool any = false;

                for (RegistryRequest *r = c->requests; r && n < ELEMENTSOF(serials); r = r->next) {
                        if (c->cancel && *c->cancel)
                                r->cancelled = true;
                        serials[n++] = r->serial;
                }
                for (size_t i = 0; i < n; i++) {
                        RegistryRequest *r = by_serial(c, serials[i]);
                        if (!r || r->paused)
                                continue;
                        any = true;
                        step(r);
                }
                (void) sd_event_run(c->event, any ? 0 : 10000);
        }
        return c->cancel && *c->cancel ? -ECANCELED : 0;
}
