/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <ctype.h>
#include <fcntl.h>
#include <jansson.h>
#include <strings.h>

#include "auth-file.h"
#include "curl-glue.h"
#include "fileio.h"
#include "registry-auth.h"
#include "registry-http.h"

#define HTTP_TRIES_MAX 5U
#define HTTP_BACKOFF_USEC (250 * USEC_PER_MSEC)
#define HTTP_RETRY_AFTER_MAX_USEC (60 * USEC_PER_SEC)
#define HTTP_ERROR_BODY_MAX (64U * 1024U)
#define HTTP_HEADER_MAX (8U * 1024U)
#define HTTP_AUTH_TRIES_MAX 3U
#define HTTP_CANCEL_POLL_USEC (100 * USEC_PER_MSEC)
#define HTTP_CA_MAX (4U * 1024U * 1024U)

/* One endpoint with what the client found out about it. */
typedef struct ClientEndpoint {
        RegistryEndpoint *e;
        RegistryCredentials creds;   /* for this host only; empty: none */
        bool have_creds;
        AuthScheme scheme;           /* learned from its first challenge */
        bool plain_http;             /* insecure and https failed: http from now on */
        char *ca_blob;               /* certs.d's *.crt, concatenated */
        size_t ca_blob_size;
} ClientEndpoint;

struct RegistryClient {
        sd_event *event;
        CurlGlue *glue;
        char *domain;
        const RegistryOptions *options;
        RegistryEndpoint *pull_list, *push_list;
        size_t n_pull, n_push;
        ClientEndpoint *pull, *push;
        AuthCache *tokens;
        RegistryRequest *requests;
        unsigned n_requests;
        sd_event_source *cancel_timer;
        bool cancelled;
        char *last_endpoint;
};

typedef struct ResponseHeaders {
        char *content_type, *digest, *location, *range, *www_authenticate, *retry_after, *content_range;
        uint64_t content_length;
} ResponseHeaders;

struct RegistryRequest {
        RegistryClient *client;
        RegistryRequest *prev, *next;
        RegistryRequestSpec spec;    /* strings below owned */
        char *method, *repository, *scope_actions, *path, *url, *query, *content_type;
        char **headers;

        ClientEndpoint *endpoints;
        size_t n_endpoints, endpoint_idx;
        unsigned tries, auth_tries;
        CURL *curl;
        struct curl_slist *header_list;
        uint64_t upload_pos;
        bool attempt_plain;          /* this attempt went over plain http */
        AuthScheme attempt_auth;     /* what this attempt sent */

        long status;
        ResponseHeaders h;
        char *body;
        size_t body_size, body_alloc;
        uint64_t delivered, skip, range_from;
        bool range_sent;
        int error;                   /* set by a callback: fails the transfer */
        char *errmsg;
        char *resolved_location;

        sd_event_source *retry_timer, *defer;
        bool paused, cancelled, finished;

        /* A token request made on behalf of parent. */
        RegistryRequest *parent, *token_child;
        bool is_token;
        char *token_scope;
        AuthChallenge challenge;
        bool token_post;
        char *form;
};

static int request_attempt(RegistryRequest *r);
static void request_finish(RegistryRequest *r, int error);
static int token_retry_get(RegistryRequest *t);

static const char *request_endpoint(RegistryRequest *r) {
        return r->n_endpoints > 0 ? r->endpoints[r->endpoint_idx].e->host : r->client->domain;
}

static int request_fail(RegistryRequest *r, int error, const char *format, ...) _printf_(3, 4);
static int request_fail(RegistryRequest *r, int error, const char *format, ...) {
        _cleanup_free_ char *reason = NULL;
        va_list ap;

        va_start(ap, format);
        if (vasprintf(&reason, format, ap) < 0)
                reason = NULL;
        va_end(ap);
        free(r->errmsg);
        if (asprintf(&r->errmsg, "%s%s%s: %s.", request_endpoint(r), r->repository ? "/" : "",
                     strempty(r->repository), reason ?: "request failed") < 0)
                r->errmsg = NULL;
        return error;
}

static void response_headers_done(ResponseHeaders *h) {
        h->content_type = mfree(h->content_type);
        h->digest = mfree(h->digest);
        h->location = mfree(h->location);
        h->range = mfree(h->range);
        h->www_authenticate = mfree(h->www_authenticate);
        h->retry_after = mfree(h->retry_after);
        h->content_range = mfree(h->content_range);
        h->content_length = UINT64_MAX;
}

static void request_reset_transfer(RegistryRequest *r) {
        if (r->curl) {
                curl_glue_remove(r->client->glue, r->curl);
                curl_easy_cleanup(r->curl);
                r->curl = NULL;
        }
        curl_slist_free_all(r->header_list);
        r->header_list = NULL;
        response_headers_done(&r->h);
        r->body = mfree(r->body);
        r->body_size = r->body_alloc = 0;
        r->status = 0;
        r->error = 0;
        r->upload_pos = 0;
        r->range_sent = false;
        r->paused = false;
}

static void request_free(RegistryRequest *r) {
        if (!r)
                return;
        if (r->token_child) {
                r->token_child->parent = NULL;
                request_finish(r->token_child, -ECANCELED);
        }
        if (r->parent)
                r->parent->token_child = NULL;
        request_reset_transfer(r);
        sd_event_source_disable_unref(r->retry_timer);
        sd_event_source_disable_unref(r->defer);
        if (r->client) {
                if (r->prev)
                        r->prev->next = r->next;
                else
                        r->client->requests = r->next;
                if (r->next)
                        r->next->prev = r->prev;
                r->client->n_requests--;
        }
        free(r->method);
        free(r->repository);
        free(r->scope_actions);
        free(r->path);
        free(r->url);
        free(r->query);
        free(r->content_type);
        strv_free(r->headers);
        free(r->errmsg);
        free(r->resolved_location);
        free(r->token_scope);
        auth_challenge_done(&r->challenge);
        if (r->form) {
                explicit_bzero(r->form, strlen(r->form));
                free(r->form);
        }
        free(r);
}

/* ---- callbacks of the transfer ---- */

static bool header_is(const char *line, size_t n, const char *name, const char **ret_value, size_t *ret_n) {
        size_t k = strlen(name);
        const char *v, *e;

        if (n <= k || strncasecmp(line, name, k) != 0 || line[k] != ':')
                return false;
        v = line + k + 1;
        e = line + n;
        while (v < e && (*v == ' ' || *v == '\t'))
                v++;
        while (e > v && (e[-1] == '\r' || e[-1] == '\n' || e[-1] == ' ' || e[-1] == '\t'))
                e--;
        *ret_value = v;
        *ret_n = e - v;
        return true;
}

static int header_store(char **field, const char *v, size_t n, bool append) {
        char *s;

        if (!*field || !append) {
                s = strndup(v, n);
                if (!s)
                        return -ENOMEM;
                free(*field);
                *field = s;
                return 0;
        }
        /* Several WWW-Authenticate headers are one list. */
        if (strlen(*field) + n > HTTP_HEADER_MAX)
                return 0;
        if (asprintf(&s, "%s, %.*s", *field, (int) n, v) < 0)
                return -ENOMEM;
        free(*field);
        *field = s;
        return 0;
}

static size_t on_header(char *p, size_t size, size_t nmemb, void *userdata) {
        RegistryRequest *r = userdata;
        size_t n = size * nmemb, k;
        const char *v;
        uint64_t u;
        int q = 0;

        if (r->cancelled) {
                r->error = request_fail(r, -ECANCELED, "cancelled");
                return 0;
        }
        if (n >= 5 && strncmp(p, "HTTP/", 5) == 0) {
                /* A new answer (after a redirect or a 100): forget the last one's headers. */
                response_headers_done(&r->h);
                return n;
        }
        if (n > HTTP_HEADER_MAX)
                return n;   /* ignored: nothing we read is that long */

        if (header_is(p, n, "Content-Type", &v, &k)) {
                const char *semi = memchr(v, ';', k);
                size_t m = semi ? (size_t) (semi - v) : k;
                while (m > 0 && (v[m - 1] == ' ' || v[m - 1] == '\t'))
                        m--;
                q = header_store(&r->h.content_type, v, m, false);
        } else if (header_is(p, n, "Docker-Content-Digest", &v, &k))
                q = header_store(&r->h.digest, v, k, false);
        else if (header_is(p, n, "Location", &v, &k))
                q = header_store(&r->h.location, v, k, false);
        else if (header_is(p, n, "Range", &v, &k))
                q = header_store(&r->h.range, v, k, false);
        else if (header_is(p, n, "WWW-Authenticate", &v, &k))
                q = header_store(&r->h.www_authenticate, v, k, true);
        else if (header_is(p, n, "Retry-After", &v, &k))
                q = header_store(&r->h.retry_after, v, k, false);
        else if (header_is(p, n, "Content-Range", &v, &k))
                q = header_store(&r->h.content_range, v, k, false);
        else if (header_is(p, n, "Content-Length", &v, &k)) {
                _cleanup_free_ char *s = strndup(v, k);
                if (s && safe_atou64(s, &u) >= 0)
                        r->h.content_length = u;
        }
        return q < 0 ? 0 : n;
}

static long request_status_now(RegistryRequest *r) {
        long status = 0;

        (void) curl_easy_getinfo(r->curl, CURLINFO_RESPONSE_CODE, &status);
        return status;
}

static int body_append(RegistryRequest *r, const char *p, size_t n, uint64_t max, bool truncate) {
        if (r->body_size + n > max) {
                if (truncate) {
                        n = max - MIN(max, r->body_size);
                        if (n == 0)
                                return 0;
                } else
                        return request_fail(r, -EFBIG, "the answer is larger than %" PRIu64 " bytes", max);
        }
        if (greedy_realloc((void **) &r->body, &r->body_alloc, r->body_size + n + 1, 1) < 0)
                return -ENOMEM;
        memcpy(r->body + r->body_size, p, n);
        r->body_size += n;
        r->body[r->body_size] = 0;
        return 0;
}

/* 206 must start where we asked; anything else cannot be spliced in. */
static int check_content_range(RegistryRequest *r) {
        uint64_t start;
        const char *s;

        s = r->h.content_range ? startswith(r->h.content_range, "bytes ") : NULL;
        if (!s || sscanf(s, "%" SCNu64 "-", &start) != 1 || start != r->range_from)
                return request_fail(r, -EBADMSG, "the server resumed at the wrong offset");
        r->skip = 0;
        return 0;
}

static int stream_data(RegistryRequest *r, const char *p, size_t n) {
        size_t k;
        int q;

        if (r->status == 0) {
                r->status = request_status_now(r);
                if (r->status == 206) {
                        if (!r->range_sent)
                                return request_fail(r, -EBADMSG, "unasked partial content (HTTP 206)");
                        q = check_content_range(r);
                        if (q < 0)
                                return q;
                } else
                        r->skip = r->delivered;   /* starting over: skip what was delivered */
        }
        k = MIN((uint64_t) n, r->skip);
        r->skip -= k;
        p += k;
        n -= k;
        if (n == 0)
                return 0;
        q = r->spec.on_data(r, p, n, r->spec.userdata);
        if (q < 0) {
                free(r->errmsg);
                r->errmsg = errmsg_last() ? strdup(errmsg_last()) : NULL;
                return q;
        }
        r->delivered += n;
        return 0;
}

static size_t on_write(char *p, size_t size, size_t nmemb, void *userdata) {
        RegistryRequest *r = userdata;
        size_t n = size * nmemb;
        long status = request_status_now(r);
        int q;

        if (r->cancelled) {
                r->error = request_fail(r, -ECANCELED, "cancelled");
                return CURL_WRITEFUNC_ERROR;
        }
        if (status >= 200 && status < 300 && r->spec.on_data)
                q = stream_data(r, p, n);
        else if (status >= 200 && status < 300)
                q = r->spec.max_body > 0 ? body_append(r, p, n, r->spec.max_body, false) : 0;
        else
                q = body_append(r, p, n, HTTP_ERROR_BODY_MAX, true);
        if (q < 0) {
                r->error = q;
                return CURL_WRITEFUNC_ERROR;
        }
        return n;
}

static size_t on_read(char *buf, size_t size, size_t nmemb, void *userdata) {
        RegistryRequest *r = userdata;
        uint64_t total = r->spec.body ? r->spec.body_size : r->spec.body_length;
        size_t n = MIN((uint64_t) size * nmemb, total - r->upload_pos);
        ssize_t k;

        if (r->cancelled) {
                r->error = request_fail(r, -ECANCELED, "cancelled");
                return CURL_READFUNC_ABORT;
        }
        if (n == 0)
                return 0;
        if (r->spec.body) {
                memcpy(buf, (const char *) r->spec.body + r->upload_pos, n);
                k = n;
        } else {
                k = pread(r->spec.body_fd, buf, n, r->spec.body_offset + r->upload_pos);
                if (k <= 0) {
                        r->error = request_fail(r, k < 0 ? negative_errno() : -EIO,
                                                "cannot read the request body");
                        return CURL_READFUNC_ABORT;
                }
        }
        r->upload_pos += k;
        if (r->spec.on_sent)
                r->spec.on_sent(r, r->upload_pos, r->spec.userdata);
        return k;
}

static int on_seek(void *userdata, curl_off_t offset, int origin) {
        RegistryRequest *r = userdata;

        if (origin != SEEK_SET || offset < 0)
                return CURL_SEEKFUNC_CANTSEEK;
        r->upload_pos = offset;
        return CURL_SEEKFUNC_OK;
}

/* ---- one attempt ---- */

static ClientEndpoint *request_client_endpoint(RegistryRequest *r) {
        return r->n_endpoints > 0 ? r->endpoints + r->endpoint_idx : NULL;
}

static int request_build_url(RegistryRequest *r, ClientEndpoint *ce, char **ret) {
        _cleanup_free_ char *u = NULL;

        if (r->url)
                u = strdup(r->url);
        else
                u = strjoin(r->attempt_plain ? "http://" : "https://", ce->e->host, "/v2/",
                            r->repository ?: "", r->repository && r->path ? "/" : "",
                            r->repository ? strempty(r->path) : "");
        if (!u)
                return -ENOMEM;
        if (r->query) {
                char *n = strjoin(u, strchr(u, '?') ? "&" : "?", r->query);
                if (!n)
                        return -ENOMEM;
                free(u);
                u = n;
        }
        *ret = TAKE_PTR(u);
        return 0;
}

/* "host" or "host:port" as the URL names it, lower-cased. */
static int url_authority(const char *url, char **ret) {
        CURLU *h = curl_url();
        char *host = NULL, *port = NULL;
        int r = -EINVAL;

        if (!h)
                return -ENOMEM;
        if (curl_url_set(h, CURLUPART_URL, url, 0) == CURLUE_OK &&
            curl_url_get(h, CURLUPART_HOST, &host, 0) == CURLUE_OK) {
                (void) curl_url_get(h, CURLUPART_PORT, &port, 0);
                for (char *p = host; *p; p++)
                        *p = tolower((unsigned char) *p);
                *ret = port ? strjoin(host, ":", port) : strdup(host);
                r = *ret ? 0 : -ENOMEM;
        }
        curl_free(host);
        curl_free(port);
        curl_url_cleanup(h);
        return r;
}

static bool request_to_endpoint_host_url(ClientEndpoint *ce, const char *url) {
        _cleanup_free_ char *a = NULL;

        if (url_authority(url, &a) < 0)
                return false;
        return strcasecmp(a, ce->e->host) == 0;
}

/* Credentials and tokens go to the endpoint's own host only. */
static bool request_to_endpoint_host(RegistryRequest *r, ClientEndpoint *ce, const char *url) {
        return !r->url || request_to_endpoint_host_url(ce, url);
}

static int setopt_fail(CURLcode c) {
        return c == CURLE_OK ? 0 : c == CURLE_OUT_OF_MEMORY ? -ENOMEM : -EIO;
}

static int request_setup_basic(CURL *c, const RegistryCredentials *creds) {
        if (!creds->username || !creds->password)
                return 0;
        return setopt_fail(curl_easy_setopt(c, CURLOPT_HTTPAUTH, (long) CURLAUTH_BASIC)) ?:
               setopt_fail(curl_easy_setopt(c, CURLOPT_USERNAME, creds->username)) ?:
               setopt_fail(curl_easy_setopt(c, CURLOPT_PASSWORD, creds->password));
}

static int request_setup_auth(RegistryRequest *r, ClientEndpoint *ce, const char *url) {
        const char *token;

        if (r->parent)
                /* The token service: the registry's credentials, unless this
                 * is the refresh-token grant (the token is in the form). */
                return ce && ce->have_creds && !r->token_post ? request_setup_basic(r->curl, &ce->creds) : 0;
        if (!ce || !request_to_endpoint_host(r, ce, url))
                return 0;
        token = auth_cache_get(r->client->tokens, ce->e->host, r->token_scope, now_usec(CLOCK_BOOTTIME));
        if (token)
                r->attempt_auth = AUTH_SCHEME_BEARER;
        if (token)
                return setopt_fail(curl_easy_setopt(r->curl, CURLOPT_HTTPAUTH, (long) CURLAUTH_BEARER)) ?:
                       setopt_fail(curl_easy_setopt(r->curl, CURLOPT_XOAUTH2_BEARER, token));
        if (ce->scheme == AUTH_SCHEME_BASIC && ce->have_creds && ce->creds.username && ce->creds.password) {
                r->attempt_auth = AUTH_SCHEME_BASIC;
                return request_setup_basic(r->curl, &ce->creds);
        }
        return 0;
}

static int request_setup_tls(RegistryRequest *r, ClientEndpoint *ce, const char *url) {
        const RegistryEndpoint *e = ce->e;
        struct curl_blob blob = { .data = ce->ca_blob, .len = ce->ca_blob_size, .flags = CURL_BLOB_NOCOPY };
        bool verify = !e->insecure && !r->client->options->tls_verify_disabled;
        int q;

        /* Another host (a token service, blob storage) gets none of the
         * endpoint's TLS settings: not its client certificate, not its
         * insecurity. */
        if (r->url && !request_to_endpoint_host_url(ce, url))
                return setopt_fail(curl_easy_setopt(r->curl, CURLOPT_SSL_VERIFYPEER,
                                                    (long) !r->client->options->tls_verify_disabled));

        q = setopt_fail(curl_easy_setopt(r->curl, CURLOPT_SSL_VERIFYPEER, (long) verify)) ?:
            setopt_fail(curl_easy_setopt(r->curl, CURLOPT_SSL_VERIFYHOST, verify ? 2L : 0L));
        /* A blob adds to the system store, it does not replace it. */
        if (q >= 0 && ce->ca_blob)
                q = setopt_fail(curl_easy_setopt(r->curl, CURLOPT_CAINFO_BLOB, &blob));
        if (q >= 0 && e->client_cert)
                q = setopt_fail(curl_easy_setopt(r->curl, CURLOPT_SSLCERT, e->client_cert)) ?:
                    setopt_fail(curl_easy_setopt(r->curl, CURLOPT_SSLKEY, e->client_key));
        return q;
}

static int request_add_header(RegistryRequest *r, const char *h) {
        struct curl_slist *l = curl_slist_append(r->header_list, h);

        if (!l)
                return -ENOMEM;
        r->header_list = l;
        return 0;
}

static int request_setup_headers(RegistryRequest *r) {
        char range[64];
        int q = 0;

        STRV_FOREACH(h, r->headers) {
                q = request_add_header(r, *h);
                if (q < 0)
                        return q;
        }
        /* No 100-continue round trip: registries answer right away. */
        q = request_add_header(r, "Expect:");
        if (q >= 0 && r->content_type) {
                _cleanup_free_ char *ct = strjoin("Content-Type: ", r->content_type);
                q = ct ? request_add_header(r, ct) : -ENOMEM;
        }
        if (q >= 0 && r->spec.on_data && (r->spec.resumable || r->spec.resume_from > 0) && r->delivered > 0) {
                snprintf(range, sizeof range, "Range: bytes=%" PRIu64 "-", r->delivered);
                r->range_from = r->delivered;
                r->range_sent = true;
                q = request_add_header(r, range);
        }
        if (q >= 0)
                q = setopt_fail(curl_easy_setopt(r->curl, CURLOPT_HTTPHEADER, r->header_list));
        return q;
}

static int request_setup_method(RegistryRequest *r) {
        CURL *c = r->curl;
        curl_off_t size = r->spec.body ? (curl_off_t) r->spec.body_size
                        : r->spec.body_fd >= 0 ? (curl_off_t) r->spec.body_length : 0;

        if (streq(r->method, "GET"))
                return setopt_fail(curl_easy_setopt(c, CURLOPT_HTTPGET, 1L));
        if (streq(r->method, "HEAD"))
                return setopt_fail(curl_easy_setopt(c, CURLOPT_NOBODY, 1L));
        if (streq(r->method, "POST"))
                return setopt_fail(curl_easy_setopt(c, CURLOPT_POST, 1L)) ?:
                       setopt_fail(curl_easy_setopt(c, CURLOPT_POSTFIELDSIZE_LARGE, size));
        if (!IN_SET_STR(r->method, "PUT", "PATCH"))
                return -EINVAL;
        return setopt_fail(curl_easy_setopt(c, CURLOPT_UPLOAD, 1L)) ?:
               setopt_fail(curl_easy_setopt(c, CURLOPT_INFILESIZE_LARGE, size)) ?:
               setopt_fail(curl_easy_setopt(c, CURLOPT_CUSTOMREQUEST, r->method));
}

static int request_setup(RegistryRequest *r, ClientEndpoint *ce) {
        _cleanup_free_ char *url = NULL;
        int q;

        q = request_build_url(r, ce, &url);
        if (q < 0)
                return q;
        q = curl_glue_make(r->client->options->stall_timeout_sec, &r->curl);
        if (q < 0)
                return q;
        q = setopt_fail(curl_easy_setopt(r->curl, CURLOPT_URL, url)) ?:
            setopt_fail(curl_easy_setopt(r->curl, CURLOPT_PRIVATE, r)) ?:
            setopt_fail(curl_easy_setopt(r->curl, CURLOPT_HEADERFUNCTION, on_header)) ?:
            setopt_fail(curl_easy_setopt(r->curl, CURLOPT_HEADERDATA, r)) ?:
            setopt_fail(curl_easy_setopt(r->curl, CURLOPT_WRITEFUNCTION, on_write)) ?:
            setopt_fail(curl_easy_setopt(r->curl, CURLOPT_WRITEDATA, r)) ?:
            setopt_fail(curl_easy_setopt(r->curl, CURLOPT_READFUNCTION, on_read)) ?:
            setopt_fail(curl_easy_setopt(r->curl, CURLOPT_READDATA, r)) ?:
            setopt_fail(curl_easy_setopt(r->curl, CURLOPT_SEEKFUNCTION, on_seek)) ?:
            setopt_fail(curl_easy_setopt(r->curl, CURLOPT_SEEKDATA, r));
        if (q >= 0)
                q = request_setup_method(r);
        if (q >= 0)
                q = request_setup_headers(r);
        if (q >= 0 && ce)
                q = request_setup_tls(r, ce, url);
        if (q >= 0)
                q = request_setup_auth(r, ce, url);
        return q;
}

static int request_attempt(RegistryRequest *r) {
        int q;

        request_reset_transfer(r);
        r->attempt_plain = request_client_endpoint(r) && request_client_endpoint(r)->plain_http;
        r->attempt_auth = AUTH_SCHEME_NONE;
        q = request_setup(r, request_client_endpoint(r));
        if (q >= 0)
                q = curl_glue_add(r->client->glue, r->curl);
        if (q < 0) {
                request_fail(r, q, "cannot set up the request: %s", strerror(-q));
                request_finish(r, q);
        }
        return q;
}

/* ---- results: retry, fall back, authenticate or finish ---- */

static int on_retry_timer(sd_event_source *s, uint64_t usec, void *userdata) {
        RegistryRequest *r = userdata;

        r->retry_timer = sd_event_source_disable_unref(r->retry_timer);
        (void) request_attempt(r);
        return 0;
}

/* Retry-After: delta-seconds or an HTTP-date; bounded. */
static uint64_t retry_after_usec(const char *v) {
        uint64_t sec;
        time_t t;

        if (!v)
                return 0;
        if (safe_atou64(v, &sec) >= 0)
                return MIN(sec, HTTP_RETRY_AFTER_MAX_USEC / USEC_PER_SEC) * USEC_PER_SEC;
        t = curl_getdate(v, NULL);
        if (t < 0 || t <= time(NULL))
                return 0;
        return MIN((uint64_t) (t - time(NULL)), HTTP_RETRY_AFTER_MAX_USEC / USEC_PER_SEC) * USEC_PER_SEC;
}

static int request_schedule_retry(RegistryRequest *r) {
        uint64_t delay = HTTP_BACKOFF_USEC << MIN(r->tries - 1, 8U);
        int q;

        delay = MAX(delay, retry_after_usec(r->h.retry_after));
        q = sd_event_add_time_relative(r->client->event, &r->retry_timer, CLOCK_BOOTTIME, delay, 1,
                                       on_retry_timer, r);
        if (q < 0) {
                request_fail(r, q, "cannot schedule a retry");
                request_finish(r, q);
        }
        return q;
}

/* The next endpoint (a mirror failed) with a fresh start. */
static bool request_next_endpoint(RegistryRequest *r) {
        if (r->url || r->parent || r->endpoint_idx + 1 >= r->n_endpoints || r->delivered > r->spec.resume_from)
                return false;
        r->endpoint_idx++;
        r->tries = r->auth_tries = 0;
        (void) request_attempt(r);
        return true;
}

static int curl_code_to_errno(CURLcode c) {
        switch (c) {
        case CURLE_COULDNT_RESOLVE_HOST:
        case CURLE_COULDNT_RESOLVE_PROXY:
                return -EHOSTUNREACH;
        case CURLE_COULDNT_CONNECT:
                return -ECONNREFUSED;
        case CURLE_OPERATION_TIMEDOUT:
                return -ETIMEDOUT;
        case CURLE_TOO_MANY_REDIRECTS:
        case CURLE_UNSUPPORTED_PROTOCOL:
        case CURLE_WEIRD_SERVER_REPLY:
                return -EPROTO;
        case CURLE_SSL_CONNECT_ERROR:
        case CURLE_PEER_FAILED_VERIFICATION:
        case CURLE_SSL_CERTPROBLEM:
        case CURLE_SSL_CACERT_BADFILE:
                return -EPROTO;
        case CURLE_OUT_OF_MEMORY:
                return -ENOMEM;
        default:
                return -ECONNRESET;
        }
}

static bool curl_code_is_connect_failure(CURLcode c) {
        return IN_SET(c, (CURLcode) CURLE_COULDNT_RESOLVE_HOST, CURLE_COULDNT_CONNECT, CURLE_SSL_CONNECT_ERROR,
                      CURLE_PEER_FAILED_VERIFICATION, CURLE_SSL_CERTPROBLEM);
}

static bool curl_code_is_drop(CURLcode c) {
        return IN_SET(c, (CURLcode) CURLE_RECV_ERROR, CURLE_SEND_ERROR, CURLE_PARTIAL_FILE, CURLE_GOT_NOTHING,
                      CURLE_HTTP2, CURLE_HTTP2_STREAM);
}

static void request_on_curl_error(RegistryRequest *r, CURLcode c) {
        ClientEndpoint *ce = request_client_endpoint(r);

        if (c == CURLE_TOO_MANY_REDIRECTS) {
                request_fail(r, -EPROTO, "too many redirects (more than 10)");
                return request_finish(r, -EPROTO);
        }
        if (curl_code_is_connect_failure(c)) {
                /* Insecure endpoints: https first, then plain http. Judged by
                 * this attempt's scheme: parallel first requests all fail
                 * over https, each must move on. */
                if (ce && !r->url && ce->e->insecure && !r->attempt_plain) {
                        ce->plain_http = true;
                        (void) request_attempt(r);
                        return;
                }
                if (request_next_endpoint(r))
                        return;
        } else if (c == CURLE_OPERATION_TIMEDOUT) {
                /* A stall (under 1 KiB/s for StalledTransferTimeoutSec=, 60 s)
                 * or a connect that timed out: not retried (minutes each), a
                 * mirror gives way. A stall began after the request was sent. */
                curl_off_t sent_after = 0;

                if (request_next_endpoint(r))
                        return;
                (void) curl_easy_getinfo(r->curl, CURLINFO_PRETRANSFER_TIME_T, &sent_after);
                if (sent_after > 0) {
                        request_fail(r, -ETIMEDOUT, "the registry is too slow (under 1 KiB/s for %u s)",
                                     r->client->options->stall_timeout_sec ?: CURL_GLUE_STALL_TIMEOUT_SEC_DEFAULT);
                        return request_finish(r, -ETIMEDOUT);
                }
        } else if (curl_code_is_drop(c) && ++r->tries < HTTP_TRIES_MAX) {
                (void) request_schedule_retry(r);
                return;
        } else if (curl_code_is_drop(c) && request_next_endpoint(r))
                return;

        request_fail(r, curl_code_to_errno(c), "%s", curl_easy_strerror(c));
        request_finish(r, curl_code_to_errno(c));
}

static int status_to_errno(long status) {
        if (status == 404)
                return -ENOENT;
        if (IN_SET(status, 401L, 403L))
                return -EACCES;
        if (status == 413)
                return -EFBIG;
        if (status == 429 || status >= 500)
                return -ECONNRESET;
        return -EPROTO;
}

/* The registry's own reason: {"errors":[{"code":"MANIFEST_UNKNOWN",...}]}.
 * Only the code, which is a short upper-case word: the message is the
 * server's prose and may hold anything. */
static const char *registry_error_code(RegistryRequest *r, char *buf, size_t size) {
        json_t *j, *e;
        const char *code;

        if (!r->body)
                return NULL;
        j = json_loadb(r->body, r->body_size, 0, NULL);
        e = json_array_get(json_object_get(j, "errors"), 0);
        code = json_string_value(json_object_get(e, "code"));
        if (code && strlen(code) < size && strspn(code, "ABCDEFGHIJKLMNOPQRSTUVWXYZ_") == strlen(code))
                snprintf(buf, size, "%s", code);
        else
                code = NULL;
        json_decref(j);
        return code ? buf : NULL;
}

static void request_fail_status(RegistryRequest *r) {
        const char *what = r->path ?: r->url ? "the upload" : "the API";
        char code[64];
        const char *c = registry_error_code(r, code, sizeof code);
        int error = status_to_errno(r->status);

        if (r->parent)
                request_fail(r, error == -EACCES ? error : -EACCES,
                             "the token service refused the request (HTTP %ld)", r->status);
        else if (r->status == 404)
                request_fail(r, error, "%s not found (HTTP 404%s%s)", what, c ? ", " : "", strempty(c));
        else if (IN_SET(r->status, 401L, 403L))
                request_fail(r, error, "access to %s denied (HTTP %ld%s%s)", what, r->status, c ? ", " : "",
                             strempty(c));
        else
                request_fail(r, error, "%s %s failed (HTTP %ld%s%s)", r->method, what, r->status,
                             c ? ", " : "", strempty(c));
        request_finish(r, r->parent && error != -EACCES ? -EACCES : error);
}

static int request_start_token(RegistryRequest *r, ClientEndpoint *ce, AuthChallenge *ch);

/* Refused for good: a mirror gives way to the next endpoint, else it fails. */
static void request_refused(RegistryRequest *r) {
        ClientEndpoint *ce = request_client_endpoint(r);

        if (!r->parent && ce && ce->e->mirror && request_next_endpoint(r))
                return;
        request_fail_status(r);
}

static void request_on_unauthorized(RegistryRequest *r) {
        ClientEndpoint *ce = request_client_endpoint(r);
        _cleanup_(auth_challenge_done) AuthChallenge ch = {};
        int q;

        if (r->parent || !ce || ++r->auth_tries > HTTP_AUTH_TRIES_MAX ||
            !request_to_endpoint_host(r, ce, r->url))
                return request_refused(r);

        q = auth_challenge_parse(r->h.www_authenticate, &ch);
        if (q < 0) {
                request_fail(r, -EACCES, "authentication required, but the challenge is %s",
                             q == -EOPNOTSUPP ? "of an unsupported scheme" : "malformed");
                return request_finish(r, -EACCES);
        }
        /* Judged by what this attempt sent: parallel requests learn the
         * scheme and fetch tokens for each other. */
        if (ch.scheme == AUTH_SCHEME_BASIC) {
                if (!ce->have_creds || !ce->creds.password || r->attempt_auth == AUTH_SCHEME_BASIC) {
                        if (ce->e->mirror && request_next_endpoint(r))
                                return;
                        request_fail(r, -EACCES, ce->have_creds ? "the credentials were refused (HTTP 401)"
                                                                : "authentication required (HTTP 401)");
                        return request_finish(r, -EACCES);
                }
                ce->scheme = AUTH_SCHEME_BASIC;
                (void) request_attempt(r);
                return;
        }
        /* Bearer: a token we sent was refused (expired, or its scope too
         * small): fetch a new one; the second refusal ends it. A token
         * another request fetched meanwhile is tried first. */
        if (r->attempt_auth == AUTH_SCHEME_BEARER) {
                /* A mirror's anonymous token that did not do will not get
                 * better: the next endpoint (a mirror without credentials
                 * is asked for one, as docker asks Hub's mirrors). */
                if (ce->e->mirror && !ce->have_creds)
                        return request_refused(r);
                if (r->auth_tries > 2 && !streq_ptr(ch.error, "insufficient_scope"))
                        return request_refused(r);
                auth_cache_forget(r->client->tokens, ce->e->host, r->token_scope);
        } else if (auth_cache_get(r->client->tokens, ce->e->host, r->token_scope, now_usec(CLOCK_BOOTTIME))) {
                (void) request_attempt(r);
                return;
        }
        ce->scheme = AUTH_SCHEME_BEARER;
        (void) request_start_token(r, ce, &ch);
}

static void request_on_status(RegistryRequest *r) {
        ClientEndpoint *ce = request_client_endpoint(r);

        if (r->status >= 200 && r->status < 300) {
                if (ce && r->spec.for_pull && free_and_strdup(&r->client->last_endpoint, ce->e->host) < 0)
                        return request_finish(r, -ENOMEM);
                return request_finish(r, 0);
        }
        if (r->parent && r->token_post && IN_SET(r->status, 400L, 404L, 405L)) {
                if (token_retry_get(r) == -ENOMEM) {
                        request_fail(r, -ENOMEM, "out of memory");
                        request_finish(r, -ENOMEM);
                }
                return;
        }
        if (r->status == 401)
                return request_on_unauthorized(r);
        if ((r->status == 429 || r->status >= 500) && ++r->tries < HTTP_TRIES_MAX) {
                (void) request_schedule_retry(r);
                return;
        }
        /* A mirror that lacks it or keeps failing: the next one, then the registry. */
        if ((r->status == 404 || r->status == 429 || r->status >= 500) && ce && ce->e->mirror &&
            request_next_endpoint(r))
                return;
        request_fail_status(r);
}

static void on_finished(CurlGlue *g, CURL *c, CURLcode result, void *userdata) {
        RegistryRequest *r = NULL;

        if (curl_easy_getinfo(c, CURLINFO_PRIVATE, (char **) &r) != CURLE_OK || !r)
                return;
        r->status = request_status_now(r);
        curl_glue_remove(g, c);

        if (r->error < 0)
                /* A callback failed it and set the message (-EFBIG, the caller's error). */
                return request_finish(r, r->error);
        if (result != CURLE_OK)
                return request_on_curl_error(r, result);
        request_on_status(r);
}

/* ---- the token service ---- */

static RegistryRequest *request_alloc(RegistryClient *c) {
        RegistryRequest *r = calloc(1, sizeof(*r));

        if (!r)
                return NULL;
        r->client = c;
        r->spec.body_fd = -EBADF;
        r->h.content_length = UINT64_MAX;
        r->next = c->requests;
        if (c->requests)
                c->requests->prev = r;
        c->requests = r;
        c->n_requests++;
        return r;
}

/* The scopes of a request's token: its own (one per word of token_scope),
 * and the one the registry named if it differs. */
static int token_scopes(const RegistryRequest *parent, const AuthChallenge *ch, char ***ret) {
        _cleanup_strv_free_ char **scopes = calloc(1, sizeof(char *));
        _cleanup_free_ char *copy = strdup(parent->token_scope);
        char *state = NULL;

        if (!scopes || !copy)
                return -ENOMEM;
        for (char *w = strtok_r(copy, " ", &state); w; w = strtok_r(NULL, " ", &state))
                if (strv_extend(&scopes, w) < 0)
                        return -ENOMEM;
        if (ch && ch->scope && !strv_contains(scopes, ch->scope) && strv_extend(&scopes, ch->scope) < 0)
                return -ENOMEM;
        *ret = TAKE_PTR(scopes);
        return 0;
}

static int token_child_setup(RegistryRequest *t, RegistryRequest *parent, ClientEndpoint *ce, AuthChallenge *ch) {
        _cleanup_strv_free_ char **scopes = NULL;
        int q;

        q = token_scopes(parent, ch, &scopes);
        if (q < 0)
                return q;

        t->token_post = ce->have_creds && ce->creds.identity_token;
        if (t->token_post) {
                q = auth_token_form(ch, scopes, ce->creds.identity_token, &t->form);
                if (q >= 0)
                        q = free_and_strdup(&t->url, ch->realm);
                t->method = strdup("POST");
                t->content_type = strdup("application/x-www-form-urlencoded");
                t->spec.body = t->form;
                t->spec.body_size = t->form ? strlen(t->form) : 0;
        } else {
                q = auth_token_url(ch, scopes, &t->url);
                t->method = strdup("GET");
        }
        if (q < 0)
                return q;
        if (!t->method || (t->token_post && !t->content_type))
                return -ENOMEM;
        t->spec.max_body = 64 * 1024;
        t->repository = parent->repository ? strdup(parent->repository) : NULL;
        t->endpoints = parent->endpoints;
        t->n_endpoints = parent->n_endpoints;
        t->endpoint_idx = parent->endpoint_idx;
        return 0;
}

static int request_start_token(RegistryRequest *r, ClientEndpoint *ce, AuthChallenge *ch) {
        RegistryRequest *t;
        int q;

        t = request_alloc(r->client);
        if (!t)
                return request_fail(r, -ENOMEM, "out of memory"), request_finish(r, -ENOMEM), -ENOMEM;
        t->parent = r;
        t->is_token = true;
        r->token_child = t;
        q = token_child_setup(t, r, ce, ch);
        if (q < 0) {
                request_fail(r, -EACCES, "the token service's address is invalid");
                request_finish(r, -EACCES);   /* frees t too */
                return q;
        }
        auth_challenge_done(&t->challenge);
        t->challenge = *ch;
        *ch = (AuthChallenge) {};
        return request_attempt(t);
}

static int token_retry_get(RegistryRequest *t) {
        _cleanup_strv_free_ char **scopes = NULL;
        RegistryRequest *parent = t->parent;

        /* No OAuth2 endpoint at the realm (404, 405): the plain GET with
         * basic credentials, as docker falls back. */
        if (token_scopes(parent, NULL, &scopes) < 0)
                return -ENOMEM;
        t->url = mfree(t->url);
        if (auth_token_url(&t->challenge, scopes, &t->url) < 0 || free_and_strdup(&t->method, "GET") < 0)
                return -ENOMEM;
        t->token_post = false;
        t->content_type = mfree(t->content_type);
        t->spec.body = NULL;
        t->spec.body_size = 0;
        t->tries = 0;
        return request_attempt(t);
}

/* The token request t finished: the parent goes on with the token, or fails. */
static void token_done(RegistryRequest *t, int error) {
        RegistryRequest *parent = t->parent;
        ClientEndpoint *ce = request_client_endpoint(parent);
        _cleanup_free_ char *token = NULL;
        uint64_t lifetime;
        int q;

        t->parent = NULL;
        parent->token_child = NULL;
        if (error < 0 && ce && ce->e->mirror && request_next_endpoint(parent))
                return;
        if (error < 0) {
                free(parent->errmsg);
                parent->errmsg = t->errmsg ? strdup(t->errmsg) : NULL;
                return request_finish(parent, error);
        }
        q = auth_token_parse(t->body, t->body_size, &token, &lifetime);
        if (q < 0) {
                request_fail(parent, -EACCES, "the token service's answer is %s",
                             q == -ENOMEM ? "too much for memory" : "malformed");
                return request_finish(parent, -EACCES);
        }
        q = auth_cache_put(&parent->client->tokens, ce->e->host, parent->token_scope, token,
                           now_usec(CLOCK_BOOTTIME) + lifetime);
        explicit_bzero(token, strlen(token));
        if (q < 0) {
                request_fail(parent, q, "out of memory");
                return request_finish(parent, q);
        }
        (void) request_attempt(parent);
}

/* ---- finishing ---- */

static int resolve_location(RegistryRequest *r) {
        CURLU *h;
        char *base = NULL, *u = NULL;

        if (!r->h.location || !r->curl)
                return 0;
        h = curl_url();
        if (!h)
                return -ENOMEM;
        if (curl_easy_getinfo(r->curl, CURLINFO_EFFECTIVE_URL, &base) == CURLE_OK && base &&
            curl_url_set(h, CURLUPART_URL, base, 0) == CURLUE_OK &&
            curl_url_set(h, CURLUPART_URL, r->h.location, 0) == CURLUE_OK &&
            curl_url_get(h, CURLUPART_URL, &u, 0) == CURLUE_OK) {
                free(r->resolved_location);
                r->resolved_location = strdup(u);
        }
        curl_free(u);
        curl_url_cleanup(h);
        return 0;
}

static void request_finish(RegistryRequest *r, int error) {
        RegistryResponse resp;

        if (r->finished)
                return;
        r->finished = true;
        r->retry_timer = sd_event_source_disable_unref(r->retry_timer);
        r->defer = sd_event_source_disable_unref(r->defer);

        if (r->parent) {
                token_done(r, error);
                return request_free(r);
        }
        if (r->is_token)
                /* Its parent is gone. */
                return request_free(r);
        (void) resolve_location(r);
        if (error < 0 && !r->errmsg)
                request_fail(r, error, "%s", strerror(-error));

        resp = (RegistryResponse) {
                .status = r->status,
                .content_type = r->h.content_type,
                .docker_content_digest = r->h.digest,
                .location = r->resolved_location,
                .range = r->h.range,
                .content_length = r->h.content_length,
                .body = r->body,
                .body_size = r->body_size,
                .endpoint = r->n_endpoints > 0 ? request_endpoint(r) : NULL,
        };
        if (error < 0)
                (void) errmsg_set(error, "%s", r->errmsg ?: "Request failed.");
        if (r->spec.on_done)
                r->spec.on_done(r, error, &resp, r->spec.userdata);
        request_free(r);
}

/* ---- the client ---- */

static void client_endpoint_done(ClientEndpoint *ce) {
        registry_credentials_done(&ce->creds);
        free(ce->ca_blob);
}

static int creds_copy(RegistryCredentials *d, const char *user, const char *pass, const char *token) {
        if ((user && !(d->username = strdup(user))) || (pass && !(d->password = strdup(pass))) ||
            (token && !(d->identity_token = strdup(token))))
                return -ENOMEM;
        return 0;
}

/* The registry's own endpoint takes the caller's credentials, else berthd's
 * auth file's for the domain; a mirror only the auth file's for itself. */
static int client_endpoint_creds(RegistryClient *c, ClientEndpoint *ce) {
        const RegistryCredentials *o = c->options->credentials;
        AuthEntry a = {};
        int q;

        if (!ce->e->mirror && o) {
                q = creds_copy(&ce->creds, o->username, o->password, o->identity_token);
                ce->have_creds = (o->username && o->password) || o->identity_token;
                return q;
        }
        if (!c->options->auth_file)
                return 0;
        q = auth_file_lookup(c->options->auth_file, ce->e->mirror ? ce->e->host : c->domain, &a);
        if (q == -ENOENT)
                return 0;
        if (q < 0)
                return errmsg_set(q, "%s: cannot read the credentials file.", ce->e->host);
        q = creds_copy(&ce->creds, a.username, a.password, a.identity_token);
        ce->have_creds = (a.username && a.password) || a.identity_token;
        auth_entry_done(&a);
        return q;
}

/* certs.d's CA file and the other *.crt beside it, in one bundle. */
static int client_endpoint_ca(ClientEndpoint *ce) {
        _cleanup_free_ char *dir = NULL;
        _cleanup_closedir_ DIR *d = NULL;
        struct dirent *de;
        char *slash;

        if (!ce->e->ca_file)
                return 0;
        dir = strdup(ce->e->ca_file);
        if (!dir)
                return -ENOMEM;
        slash = strrchr(dir, '/');
        if (slash)
                *slash = 0;
        d = opendir(slash ? dir : ".");
        if (!d)
                return errmsg_set(negative_errno(), "%s: cannot open %s: %m.", ce->e->host, dir);
        while ((de = readdir(d))) {
                _cleanup_free_ char *data = NULL;
                size_t n;
                char *b;
                int q;

                if (de->d_name[0] == '.' || !endswith(de->d_name, ".crt"))
                        continue;
                q = read_full_file_at(dirfd(d), de->d_name, HTTP_CA_MAX, &data, &n);
                if (q < 0)
                        return errmsg_set(q, "%s: cannot read %s/%s: %s.", ce->e->host, dir, de->d_name,
                                          strerror(-q));
                b = realloc(ce->ca_blob, ce->ca_blob_size + n + 1);
                if (!b)
                        return -ENOMEM;
                memcpy(b + ce->ca_blob_size, data, n);
                b[ce->ca_blob_size + n] = '\n';
                ce->ca_blob = b;
                ce->ca_blob_size += n + 1;
        }
        return 0;
}

static int client_endpoints_make(RegistryClient *c, RegistryEndpoint *l, size_t n, ClientEndpoint **ret) {
        ClientEndpoint *ce;
        int q;

        ce = calloc(n, sizeof(ClientEndpoint));
        if (!ce)
                return -ENOMEM;
        *ret = ce;
        for (size_t i = 0; i < n; i++) {
                ce[i].e = l + i;
                q = client_endpoint_creds(c, ce + i);
                if (q >= 0)
                        q = client_endpoint_ca(ce + i);
                if (q < 0)
                        return q;
        }
        return 0;
}

static int on_cancel_poll(sd_event_source *s, uint64_t usec, void *userdata) {
        RegistryClient *c = userdata;

        if (!*c->options->cancel) {
                (void) sd_event_source_set_time_relative(s, HTTP_CANCEL_POLL_USEC);
                return sd_event_source_set_enabled(s, SD_EVENT_ONESHOT);
        }
        c->cancelled = true;
        for (RegistryRequest *r = c->requests; r; r = r->next)
                if (!r->is_token)
                        registry_request_cancel(r);
        return 0;
}

int registry_client_new(sd_event *e, const char *domain, const RegistryOptions *o, RegistryClient **ret) {
        _cleanup_(registry_client_freep) RegistryClient *c = NULL;
        int q;

        c = calloc(1, sizeof(*c));
        if (!c)
                return -ENOMEM;
        c->event = sd_event_ref(e);
        c->options = o;
        c->domain = strdup(domain);
        if (!c->domain)
                return -ENOMEM;
        q = curl_glue_new(e, on_finished, c, &c->glue);
        if (q < 0)
                return errmsg_set(q, "%s: cannot set up the HTTP client.", domain);
        q = registry_config_endpoints(o->config, domain, true, &c->pull_list, &c->n_pull);
        if (q >= 0)
                q = registry_config_endpoints(o->config, domain, false, &c->push_list, &c->n_push);
        if (q < 0)
                return q;
        q = client_endpoints_make(c, c->pull_list, c->n_pull, &c->pull);
        if (q >= 0)
                q = client_endpoints_make(c, c->push_list, c->n_push, &c->push);
        if (q < 0)
                return q;
        if (o->cancel) {
                q = sd_event_add_time_relative(e, &c->cancel_timer, CLOCK_BOOTTIME, HTTP_CANCEL_POLL_USEC, 1,
                                               on_cancel_poll, c);
                if (q < 0)
                        return q;
        }
        *ret = TAKE_PTR(c);
        return 0;
}

static void client_endpoints_free(ClientEndpoint *ce, size_t n) {
        for (size_t i = 0; ce && i < n; i++)
                client_endpoint_done(ce + i);
        free(ce);
}

RegistryClient *registry_client_free(RegistryClient *c) {
        if (!c)
                return NULL;
        while (c->requests) {
                RegistryRequest *r = c->requests;
                /* Gone without a word: the caller is going away too. */
                r->finished = true;
                if (r->token_child)
                        r->token_child->finished = true;
                request_free(r);
        }
        sd_event_source_disable_unref(c->cancel_timer);
        curl_glue_free(c->glue);
        client_endpoints_free(c->pull, c->n_pull);
        client_endpoints_free(c->push, c->n_push);
        registry_endpoints_free(c->pull_list, c->n_pull);
        registry_endpoints_free(c->push_list, c->n_push);
        auth_cache_free(c->tokens);
        free(c->domain);
        free(c->last_endpoint);
        sd_event_unref(c->event);
        free(c);
        return NULL;
}

static int strdup_opt(char **d, const char *s) {
        if (!s)
                return 0;
        *d = strdup(s);
        return *d ? 0 : -ENOMEM;
}

static int request_copy_spec(RegistryRequest *r, const RegistryRequestSpec *spec) {
        r->spec = *spec;
        if (strdup_opt(&r->method, spec->method ?: "GET") < 0 || strdup_opt(&r->repository, spec->repository) < 0 ||
            strdup_opt(&r->scope_actions, spec->scope_actions ?: "pull") < 0 ||
            strdup_opt(&r->path, spec->path) < 0 || strdup_opt(&r->url, spec->url) < 0 ||
            strdup_opt(&r->query, spec->query) < 0 || strdup_opt(&r->content_type, spec->content_type) < 0)
                return -ENOMEM;
        if (spec->headers) {
                r->headers = strv_copy((char * const *) spec->headers);
                if (!r->headers)
                        return -ENOMEM;
        }
        /* Space-separated, as the token request's scopes (token_scopes()). */
        if (r->repository && asprintf(&r->token_scope, "repository:%s:%s%s%s%s", r->repository, r->scope_actions,
                                      spec->mount_source ? " repository:" : "", strempty(spec->mount_source),
                                      spec->mount_source ? ":pull" : "") < 0)
                return -ENOMEM;
        if (!r->token_scope && !(r->token_scope = strdup("")))
                return -ENOMEM;
        return 0;
}

static bool spec_valid(const RegistryRequestSpec *spec) {
        if (spec->method && !IN_SET_STR(spec->method, "GET", "HEAD", "PUT", "POST", "PATCH", "DELETE"))
                return false;
        if (spec->url && !startswith(spec->url, "https://") && !startswith(spec->url, "http://"))
                return false;
        /* Nothing of ours may break a header or the URL's path. */
        if ((spec->path && strpbrk(spec->path, " \r\n#?")) || (spec->query && strpbrk(spec->query, " \r\n#")) ||
            (spec->repository && strpbrk(spec->repository, " \r\n#?:")) || (spec->url && strpbrk(spec->url, " \r\n")))
                return false;
        for (const char * const *h = spec->headers; h && *h; h++)
                if (strpbrk(*h, "\r\n"))
                        return false;
        return spec->resume_from == 0 || spec->on_data;
}

int registry_request_start(RegistryClient *c, const RegistryRequestSpec *spec, RegistryRequest **ret) {
        RegistryRequest *r;
        int q;

        if (!spec_valid(spec))
                return errmsg_set(-EINVAL, "%s: invalid request.", c->domain);
        if (c->cancelled)
                return errmsg_set(-ECANCELED, "%s: cancelled.", c->domain);
        r = request_alloc(c);
        if (!r)
                return -ENOMEM;
        q = request_copy_spec(r, spec);
        if (q < 0) {
                r->finished = true;
                request_free(r);
                return q;
        }
        /* What the caller has counts as delivered: the first attempt asks
         * for the rest, and a 200 answer skips it. */
        r->delivered = spec->resume_from;
        r->endpoints = spec->for_pull ? c->pull : c->push;
        r->n_endpoints = spec->for_pull ? c->n_pull : c->n_push;
        if (ret)
                *ret = r;
        /* Setup failures are reported through on_done, as every other. */
        (void) request_attempt(r);
        return 0;
}

void registry_request_pause(RegistryRequest *r) {
        if (r->curl && !r->paused && curl_easy_pause(r->curl, CURLPAUSE_RECV) == CURLE_OK)
                r->paused = true;
}

void registry_request_unpause(RegistryRequest *r) {
        if (r->curl && r->paused && curl_easy_pause(r->curl, CURLPAUSE_CONT) == CURLE_OK)
                r->paused = false;
}

static int on_cancel_defer(sd_event_source *s, void *userdata) {
        RegistryRequest *r = userdata;

        request_fail(r, -ECANCELED, "cancelled");
        request_finish(r, -ECANCELED);
        return 0;
}

void registry_request_cancel(RegistryRequest *r) {
        if (r->cancelled || r->finished)
                return;
        /* This may run inside a curl callback (another request's on_data):
         * the easy handles are removed from the loop, never from here. */
        r->cancelled = true;
        r->retry_timer = sd_event_source_disable_unref(r->retry_timer);
        if (sd_event_add_defer(r->client->event, &r->defer, on_cancel_defer, r) < 0)
                /* The transfer's callbacks fail it from now on: on_done comes anyway. */
                return;
}

const char *registry_request_error(RegistryRequest *r) {
        return r->errmsg;
}

uint64_t registry_request_bytes(RegistryRequest *r) {
        return r->delivered;
}

const char *registry_client_endpoint(RegistryClient *c) {
        return c->last_endpoint;
}

int registry_client_run(RegistryClient *c) {
        int q;

        while (c->n_requests > 0) {
                q = sd_event_run(c->event, UINT64_MAX);
                if (q < 0)
                        return errmsg_set(q, "%s: the event loop failed: %s.", c->domain, strerror(-q));
        }
        if (c->cancelled)
                return errmsg_set(-ECANCELED, "%s: cancelled.", c->domain);
        return 0;
}
