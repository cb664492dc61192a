/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The registry client's HTTP layer against tests/registry-http-server.py, a
 * scripted registry on 127.0.0.1 (plain HTTP: the endpoint is Insecure=),
 * with a second port as the "storage" redirects point to. */
#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <jansson.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/wait.h>

#include "check-util.h"
#include "fileio.h"
#include "registry-http.h"
#include "util.h"

#define PASSWORD "s3cret-Pa55"

typedef struct Server {
        pid_t pid;
        int in_fd;
        unsigned port, storage_port;
        char domain[64];
        char dir[64];
        RegistryConfig *config;
} Server;

static void server_write_config(Server *s, const char *extra) {
        _cleanup_free_ char *path = NULL, *conf = NULL;

        s->config = registry_config_free(s->config);
        ck_assert_int_ge(asprintf(&path, "%s/test.conf", s->dir), 0);
        /* Insecure: plain HTTP allowed for this host (https is tried first). */
        ck_assert_int_ge(asprintf(&conf, "[Registry]\nName=%s\nInsecure=yes\n%s", s->domain, strempty(extra)), 0);
        ck_assert_int_eq(write_string_file_atomic_at(AT_FDCWD, path, conf), 0);
        ck_assert_int_eq(registry_config_load(s->dir, s->dir, &s->config), 0);
}

/* One server for the whole suite (python takes long to start); each test
 * resets its counters and writes its own configuration. */
static Server server;

/* Outside any test: Check's assertions cannot report from here. */
#define SPAWN_CHECK(x)                                                          \
        do {                                                                    \
                if (!(x)) {                                                     \
                        fprintf(stderr, "cannot start the test server: %s\n", #x); \
                        exit(EXIT_FAILURE);                                     \
                }                                                               \
        } while (0)

static void server_spawn(Server *s) {
        int in[2], out[2];
        char line[64] = {};
        ssize_t n;

        SPAWN_CHECK(pipe2(in, O_CLOEXEC) == 0);
        SPAWN_CHECK(pipe2(out, O_CLOEXEC) == 0);
        s->pid = fork();
        SPAWN_CHECK(s->pid >= 0);
        if (s->pid == 0) {
                (void) prctl(PR_SET_PDEATHSIG, SIGTERM);
                dup2(in[0], 0);
                dup2(out[1], 1);
                execlp("python3", "python3", TESTS_SOURCE_DIR "/registry-http-server.py", (char *) NULL);
                _exit(127);
        }
        close(in[0]);
        close(out[1]);
        s->in_fd = in[1];
        /* Read up to the newline: the line may come in pieces. */
        for (size_t k = 0; !strchr(line, '\n');) {
                n = read(out[0], line + k, sizeof line - 1 - k);
                SPAWN_CHECK(n > 0);
                k += n;
        }
        close(out[0]);
        SPAWN_CHECK(sscanf(line, "%u %u", &s->port, &s->storage_port) == 2);
        snprintf(s->domain, sizeof s->domain, "127.0.0.1:%u", s->port);
}

static void server_kill(Server *s) {
        close(s->in_fd);
        (void) kill(s->pid, SIGTERM);
        (void) waitpid(s->pid, NULL, 0);
}

static json_t *server_get(Server *s, const char *what);

static void server_start(Server *s) {
        json_t *j;

        *s = server;
        strcpy(s->dir, "/tmp/test-registry-http-XXXXXX");
        ck_assert_ptr_nonnull(mkdtemp(s->dir));
        server_write_config(s, NULL);
        j = server_get(s, "_reset");
        json_decref(j);
}

static void server_stop(Server *s) {
        registry_config_free(s->config);
        (void) rm_rf_at(AT_FDCWD, s->dir);
}

typedef struct Result {
        int r;
        bool done;
        long status;
        char *body;
        char *error;
        char *content_type, *digest, *location;
        char *stream;
        size_t stream_size;
        uint64_t resumed;            /* the spec's resume_from */
        unsigned calls;
        uint64_t sent;
} Result;

static void on_sent(RegistryRequest *req, uint64_t sent, void *userdata) {
        Result *res = userdata;

        ck_assert(!res->done);
        res->sent = sent;
}

static void result_done(Result *res) {
        free(res->body);
        free(res->error);
        free(res->content_type);
        free(res->digest);
        free(res->location);
        free(res->stream);
}

static void on_done(RegistryRequest *req, int r, const RegistryResponse *resp, void *userdata) {
        Result *res = userdata;

        res->done = true;
        res->calls++;
        res->r = r;
        res->status = resp->status;
        res->body = resp->body ? strdup(resp->body) : NULL;
        res->content_type = resp->content_type ? strdup(resp->content_type) : NULL;
        res->digest = resp->docker_content_digest ? strdup(resp->docker_content_digest) : NULL;
        res->location = resp->location ? strdup(resp->location) : NULL;
        res->error = registry_request_error(req) ? strdup(registry_request_error(req)) : NULL;
}

static int on_data(RegistryRequest *req, const void *p, size_t n, void *userdata) {
        Result *res = userdata;

        res->stream = realloc(res->stream, res->stream_size + n);
        ck_assert_ptr_nonnull(res->stream);
        memcpy(res->stream + res->stream_size, p, n);
        res->stream_size += n;
        ck_assert_uint_eq(registry_request_bytes(req), res->resumed + res->stream_size - n);
        return 0;
}

static RegistryCredentials creds = { .username = (char *) "alice", .password = (char *) PASSWORD };

/* One request through a fresh client; the loop's result in *ret_run. */
static char *last_endpoint;

static int run_request(Server *s, RegistryOptions *o, RegistryRequestSpec *spec, Result *res) {
        _cleanup_(registry_client_freep) RegistryClient *c = NULL;
        sd_event *e = NULL;
        int r;

        o->config = s->config;
        ck_assert_int_ge(sd_event_new(&e), 0);
        ck_assert_int_eq(registry_client_new(e, s->domain, o, &c), 0);
        spec->on_done = on_done;
        spec->userdata = res;
        spec->body_fd = spec->body ? -EBADF : spec->body_fd ?: -EBADF;
        ck_assert_int_eq(registry_request_start(c, spec, NULL), 0);
        r = registry_client_run(c);
        ck_assert(res->done);
        ck_assert_uint_eq(res->calls, 1);
        free(last_endpoint);
        last_endpoint = registry_client_endpoint(c) ? strdup(registry_client_endpoint(c)) : NULL;
        c = registry_client_free(c);
        sd_event_unref(e);
        /* Whatever happened, the password is in no message. */
        ck_assert(!res->error || !strstr(res->error, PASSWORD));
        ck_assert(!errmsg_last() || !strstr(errmsg_last(), PASSWORD));
        return r;
}

static json_t *server_get(Server *s, const char *what) {
        RegistryOptions o = {};
        RegistryRequestSpec spec = { .method = "GET", .url = NULL, .max_body = 1 << 20 };
        Result res = {};
        char url[128];
        json_t *j;

        snprintf(url, sizeof url, "http://127.0.0.1:%u/%s", s->port, what);
        spec.url = url;
        ck_assert_int_eq(run_request(s, &o, &spec, &res), 0);
        ck_assert_int_eq(res.r, 0);
        j = json_loads(res.body, 0, NULL);
        ck_assert_ptr_nonnull(j);
        result_done(&res);
        return j;
}

static json_t *server_state(Server *s) {
        return server_get(s, "_state");
}

START_TEST(test_get_head_collect) {
        Server s = {};
        RegistryOptions o = {};
        Result res = {}, head = {};
        RegistryRequestSpec spec = { .method = "GET", .repository = "plain", .path = "manifests/latest",
                                     .max_body = 1024, .for_pull = true };
        const char *hdrs[] = { "Accept: application/vnd.oci.image.manifest.v1+json", NULL };

        server_start(&s);
        spec.headers = hdrs;
        ck_assert_int_eq(run_request(&s, &o, &spec, &res), 0);
        ck_assert_int_eq(res.r, 0);
        ck_assert_int_eq(res.status, 200);
        ck_assert_str_eq(res.body, "hello");
        ck_assert_str_eq(res.content_type, "text/plain");
        ck_assert_str_eq(res.digest, "sha256:ab");

        spec.method = "HEAD";
        ck_assert_int_eq(run_request(&s, &o, &spec, &head), 0);
        ck_assert_int_eq(head.r, 0);
        ck_assert_int_eq(head.status, 200);
        ck_assert(!head.body || !*head.body);
        result_done(&res);
        result_done(&head);
        server_stop(&s);
}
END_TEST

START_TEST(test_parallel_first) {
        Server s = {};
        RegistryOptions o = { .credentials = &creds };
        Result res[6] = {};
        RegistryRequestSpec spec = { .method = "GET", .repository = "basic", .path = "blobs/x", .max_body = 1024,
                                     .on_done = on_done, .body_fd = -EBADF };
        sd_event *e = NULL;

        server_start(&s);
        o.config = s.config;
        ck_assert_int_ge(sd_event_new(&e), 0);
        /* All at once on a fresh client: every one learns https fails and
         * the challenge, none may fail for the others having learned it. */
        FOREACH_STRING(repo, "basic", "bearer") {
                _cleanup_(registry_client_freep) RegistryClient *k = NULL;

                ck_assert_int_eq(registry_client_new(e, s.domain, &o, &k), 0);
                spec.repository = repo;
                for (size_t i = 0; i < ELEMENTSOF(res); i++) {
                        res[i] = (Result) {};
                        spec.userdata = res + i;
                        ck_assert_int_eq(registry_request_start(k, &spec, NULL), 0);
                }
                ck_assert_int_eq(registry_client_run(k), 0);
                for (size_t i = 0; i < ELEMENTSOF(res); i++) {
                        ck_assert_msg(res[i].r == 0, "%s %zu: %s", repo, i, strempty(res[i].error));
                        ck_assert_str_eq(res[i].body, streq(repo, "basic") ? "basic-ok" : "bearer-ok");
                        result_done(res + i);
                }
        }
        sd_event_unref(e);
        server_stop(&s);
}
END_TEST

START_TEST(test_put_location) {
        Server s = {};
        RegistryOptions o = {};
        Result res = {};
        char want[128];
        RegistryRequestSpec spec = { .method = "PUT", .repository = "plain", .path = "blobs/uploads/1",
                                     .query = "digest=sha256:00", .body = "payload", .body_size = 7,
                                     .content_type = "application/octet-stream", .max_body = 1024,
                                     .scope_actions = "pull,push", .on_sent = on_sent };

        server_start(&s);
        ck_assert_int_eq(run_request(&s, &o, &spec, &res), 0);
        ck_assert_int_eq(res.r, 0);
        ck_assert_int_eq(res.status, 201);
        /* The body's progress was told before the answer. */
        ck_assert_uint_eq(res.sent, 7);
        ck_assert_str_eq(res.body, "payload");
        snprintf(want, sizeof want, "http://%s/v2/plain/blobs/sha256:put", s.domain);
        ck_assert_str_eq(res.location, want);
        result_done(&res);
        server_stop(&s);
}
END_TEST

START_TEST(test_not_found) {
        Server s = {};
        RegistryOptions o = {};
        Result res = {};
        RegistryRequestSpec spec = { .method = "GET", .repository = "nothing", .path = "manifests/latest",
                                     .max_body = 1024 };

        server_start(&s);
        ck_assert_int_eq(run_request(&s, &o, &spec, &res), 0);
        ck_assert_int_eq(res.r, -ENOENT);
        ck_assert_int_eq(res.status, 404);
        ck_assert_ptr_nonnull(strstr(res.error, s.domain));
        ck_assert_ptr_nonnull(strstr(res.error, "nothing"));
        ck_assert_ptr_nonnull(strstr(res.error, "404"));
        result_done(&res);
        server_stop(&s);
}
END_TEST

START_TEST(test_basic_auth) {
        Server s = {};
        RegistryOptions o = {}, anon = {};
        RegistryCredentials wrong = { .username = (char *) "alice", .password = (char *) "wrong-" PASSWORD };
        Result res = {}, no = {}, bad = {};
        RegistryRequestSpec spec = { .method = "GET", .repository = "basic", .path = "blobs/x", .max_body = 1024 };

        server_start(&s);
        o.credentials = &creds;
        ck_assert_int_eq(run_request(&s, &o, &spec, &res), 0);
        ck_assert_int_eq(res.r, 0);
        ck_assert_str_eq(res.body, "basic-ok");

        ck_assert_int_eq(run_request(&s, &anon, &spec, &no), 0);
        ck_assert_int_eq(no.r, -EACCES);
        ck_assert_int_eq(no.status, 401);

        o.credentials = &wrong;
        ck_assert_int_eq(run_request(&s, &o, &spec, &bad), 0);
        ck_assert_int_eq(bad.r, -EACCES);
        ck_assert_ptr_nonnull(strstr(bad.error, "refused"));
        ck_assert_ptr_null(strstr(bad.error, "wrong-"));
        result_done(&res);
        result_done(&no);
        result_done(&bad);
        server_stop(&s);
}
END_TEST

START_TEST(test_bearer) {
        Server s = {};
        RegistryOptions o = { .credentials = &creds };
        Result res = {};
        RegistryRequestSpec spec = { .method = "GET", .repository = "bearer", .path = "blobs/x", .max_body = 1024 };
        json_t *st;

        server_start(&s);
        ck_assert_int_eq(run_request(&s, &o, &spec, &res), 0);
        ck_assert_int_eq(res.r, 0);
        ck_assert_str_eq(res.body, "bearer-ok");
        st = server_state(&s);
        ck_assert_int_eq(json_integer_value(json_object_get(st, "tokens")), 1);
        json_decref(st);
        result_done(&res);
        server_stop(&s);
}
END_TEST

START_TEST(test_identity_token) {
        Server s = {};
        RegistryCredentials idt = { .identity_token = (char *) "refresh-" PASSWORD };
        RegistryCredentials bad = { .identity_token = (char *) "refresh-wrong" };
        RegistryOptions o = { .credentials = &idt };
        Result res = {}, no = {};
        RegistryRequestSpec spec = { .method = "GET", .repository = "bearer", .path = "blobs/x", .max_body = 1024 };
        json_t *st, *form;

        server_start(&s);
        ck_assert_int_eq(run_request(&s, &o, &spec, &res), 0);
        ck_assert_int_eq(res.r, 0);
        ck_assert_str_eq(res.body, "bearer-ok");
        st = server_state(&s);
        form = json_object_get(st, "oauth_form");
        ck_assert_str_eq(json_string_value(json_object_get(form, "service")), "svc");
        ck_assert_str_eq(json_string_value(json_object_get(form, "scope")), "repository%3Abearer%3Apull");
        /* The refresh token is in the form only, not in an Authorization header. */
        ck_assert(json_is_null(json_array_get(json_object_get(st, "token_auth"), 0)));
        json_decref(st);

        o.credentials = &bad;
        ck_assert_int_eq(run_request(&s, &o, &spec, &no), 0);
        ck_assert_int_eq(no.r, -EACCES);
        ck_assert_ptr_null(strstr(no.error, "refresh-"));
        result_done(&res);
        result_done(&no);
        server_stop(&s);
}
END_TEST

START_TEST(test_insufficient_scope) {
        Server s = {};
        RegistryOptions o = { .credentials = &creds };
        Result res = {};
        RegistryRequestSpec spec = { .method = "GET", .repository = "scope-x", .path = "blobs/x", .max_body = 1024 };
        json_t *st;

        server_start(&s);
        ck_assert_int_eq(run_request(&s, &o, &spec, &res), 0);
        ck_assert_int_eq(res.r, 0);
        ck_assert_str_eq(res.body, "scope-ok");
        /* The first token was too small: fetched again. */
        st = server_state(&s);
        ck_assert_int_eq(json_integer_value(json_object_get(st, "tokens")), 2);
        json_decref(st);
        result_done(&res);
        server_stop(&s);
}
END_TEST

START_TEST(test_redirect_no_auth) {
        Server s = {};
        RegistryOptions o = { .credentials = &creds };
        Result res = {};
        RegistryRequestSpec spec = { .method = "GET", .repository = "redir", .path = "blobs/x", .max_body = 1024 };
        json_t *st, *a;

        server_start(&s);
        ck_assert_int_eq(run_request(&s, &o, &spec, &res), 0);
        ck_assert_int_eq(res.r, 0);
        ck_assert_str_eq(res.body, "from-storage");
        st = server_state(&s);
        ck_assert_int_eq(json_integer_value(json_object_get(st, "storage_hits")), 1);
        a = json_array_get(json_object_get(st, "storage_auth"), 0);
        /* The other port got no Authorization at all. */
        ck_assert(json_is_null(a));
        json_decref(st);
        result_done(&res);
        server_stop(&s);
}
END_TEST

START_TEST(test_redirect_loop) {
        Server s = {};
        RegistryOptions o = {};
        Result res = {};
        RegistryRequestSpec spec = { .method = "GET", .repository = "loop", .path = "blobs/x", .max_body = 1024 };

        server_start(&s);
        ck_assert_int_eq(run_request(&s, &o, &spec, &res), 0);
        ck_assert_int_eq(res.r, -EPROTO);
        ck_assert_ptr_nonnull(strstr(res.error, "redirects"));
        result_done(&res);
        server_stop(&s);
}
END_TEST

START_TEST(test_retry_after) {
        Server s = {};
        RegistryOptions o = {};
        Result res = {};
        RegistryRequestSpec spec = { .method = "GET", .repository = "r429", .path = "blobs/x", .max_body = 1024 };
        uint64_t t0 = now_usec(CLOCK_MONOTONIC);

        server_start(&s);
        ck_assert_int_eq(run_request(&s, &o, &spec, &res), 0);
        ck_assert_int_eq(res.r, 0);
        ck_assert_str_eq(res.body, "ok-429");
        ck_assert_uint_ge(now_usec(CLOCK_MONOTONIC) - t0, USEC_PER_SEC);
        result_done(&res);
        server_stop(&s);
}
END_TEST

START_TEST(test_retry_after_date) {
        Server s = {};
        RegistryOptions o = {};
        Result res = {};
        RegistryRequestSpec spec = { .method = "GET", .repository = "r429date", .path = "blobs/x", .max_body = 1024 };
        uint64_t t0 = now_usec(CLOCK_MONOTONIC);

        server_start(&s);
        ck_assert_int_eq(run_request(&s, &o, &spec, &res), 0);
        ck_assert_int_eq(res.r, 0);
        ck_assert_str_eq(res.body, "ok-429date");
        /* An HTTP-date 2 s ahead (1 s resolution): at least 1 s waited. */
        ck_assert_uint_ge(now_usec(CLOCK_MONOTONIC) - t0, USEC_PER_SEC);
        result_done(&res);
        server_stop(&s);
}
END_TEST

static unsigned free_port(void) {
        struct sockaddr_in a = { .sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
        socklen_t l = sizeof a;
        int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);

        ck_assert_int_ge(fd, 0);
        ck_assert_int_eq(bind(fd, (struct sockaddr *) &a, sizeof a), 0);
        ck_assert_int_eq(getsockname(fd, (struct sockaddr *) &a, &l), 0);
        close(fd);   /* nobody listens there now: connections are refused */
        return ntohs(a.sin_port);
}

START_TEST(test_mirrors) {
        Server s = {};
        RegistryOptions o = { .credentials = &creds };
        Result res = {}, dead = {}, push = {};
        RegistryRequestSpec spec = { .method = "GET", .repository = "basic", .path = "blobs/x", .max_body = 1024,
                                     .for_pull = true };
        char extra[512], want[64];
        unsigned port = free_port();
        json_t *st;

        server_start(&s);
        /* A dead mirror, then the storage port as a working mirror. */
        snprintf(extra, sizeof extra,
                 "Mirror=127.0.0.1:%u\nMirror=127.0.0.1:%u\n"
                 "[Registry]\nName=127.0.0.1:%u\nInsecure=yes\n[Registry]\nName=127.0.0.1:%u\nInsecure=yes\n",
                 port, s.storage_port, port, s.storage_port);
        server_write_config(&s, extra);
        ck_assert_int_eq(run_request(&s, &o, &spec, &res), 0);
        ck_assert_int_eq(res.r, 0);
        ck_assert_str_eq(res.body, "from-storage");
        snprintf(want, sizeof want, "127.0.0.1:%u", s.storage_port);
        ck_assert_str_eq(last_endpoint, want);
        st = server_state(&s);
        /* The registry's credentials never went to the mirror. */
        ck_assert(json_is_null(json_array_get(json_object_get(st, "storage_auth"), 0)));
        json_decref(st);

        /* Only the dead mirror: falls back to the registry itself. */
        snprintf(extra, sizeof extra, "Mirror=127.0.0.1:%u\n[Registry]\nName=127.0.0.1:%u\nInsecure=yes\n",
                 port, port);
        server_write_config(&s, extra);
        ck_assert_int_eq(run_request(&s, &o, &spec, &dead), 0);
        ck_assert_int_eq(dead.r, 0);
        ck_assert_str_eq(dead.body, "basic-ok");
        ck_assert_str_eq(last_endpoint, s.domain);

        /* Not for_pull: the registry only, never a mirror. */
        spec.for_pull = false;
        ck_assert_int_eq(run_request(&s, &o, &spec, &push), 0);
        ck_assert_int_eq(push.r, 0);
        ck_assert_str_eq(push.body, "basic-ok");
        result_done(&res);
        result_done(&dead);
        result_done(&push);
        server_stop(&s);
}
END_TEST

START_TEST(test_mirror_auth_file) {
        Server s = {};
        RegistryOptions o = { .credentials = &creds };
        Result res = {}, none = {};
        RegistryRequestSpec spec = { .method = "GET", .repository = "mauth", .path = "blobs/x", .max_body = 1024,
                                     .for_pull = true };
        _cleanup_free_ char *auth = NULL, *json = NULL;
        char extra[256];
        json_t *st, *a;
        size_t i;

        server_start(&s);
        snprintf(extra, sizeof extra, "Mirror=127.0.0.1:%u\n[Registry]\nName=127.0.0.1:%u\nInsecure=yes\n",
                 s.storage_port, s.storage_port);
        server_write_config(&s, extra);

        /* No auth file: the mirror refuses, the registry serves. */
        ck_assert_int_eq(run_request(&s, &o, &spec, &none), 0);
        ck_assert_int_eq(none.r, 0);
        ck_assert_str_eq(none.body, "basic-ok");
        ck_assert_str_eq(last_endpoint, s.domain);

        /* berthd's auth file has the mirror's own credentials (bob:mirror-pw). */
        ck_assert_int_ge(asprintf(&auth, "%s/auth.json", s.dir), 0);
        ck_assert_int_ge(asprintf(&json, "{\"auths\":{\"127.0.0.1:%u\":{\"auth\":\"Ym9iOm1pcnJvci1wdw==\"}}}",
                                  s.storage_port), 0);
        ck_assert_int_eq(write_string_file_atomic_at(AT_FDCWD, auth, json), 0);
        o.auth_file = auth;
        ck_assert_int_eq(run_request(&s, &o, &spec, &res), 0);
        ck_assert_int_eq(res.r, 0);
        ck_assert_str_eq(res.body, "mirror-ok");

        /* The registry's credentials (alice's) never reached the mirror. */
        st = server_state(&s);
        json_array_foreach(json_object_get(st, "storage_auth"), i, a)
                ck_assert(json_is_null(a) || !strstr(json_string_value(a), "YWxpY2U"));
        ck_assert_uint_ge(json_array_size(json_object_get(st, "storage_auth")), 3);
        json_decref(st);
        result_done(&res);
        result_done(&none);
        server_stop(&s);
}
END_TEST

START_TEST(test_refused) {
        Server s = {};
        RegistryOptions o = {};
        Result res = {};
        RegistryRequestSpec spec = { .method = "GET", .repository = "plain", .path = "blobs/x", .max_body = 1024 };

        server_start(&s);
        snprintf(s.domain, sizeof s.domain, "127.0.0.1:%u", free_port());
        server_write_config(&s, NULL);
        ck_assert_int_eq(run_request(&s, &o, &spec, &res), 0);
        ck_assert_int_eq(res.r, -ECONNREFUSED);
        ck_assert_ptr_nonnull(strstr(res.error, s.domain));
        result_done(&res);
        server_stop(&s);
}
END_TEST

START_TEST(test_retry_5xx) {
        Server s = {};
        RegistryOptions o = {};
        Result res = {}, never = {};
        RegistryRequestSpec spec = { .method = "GET", .repository = "r503", .path = "blobs/x", .max_body = 1024 };
        json_t *st;

        server_start(&s);
        ck_assert_int_eq(run_request(&s, &o, &spec, &res), 0);
        ck_assert_int_eq(res.r, 0);
        ck_assert_str_eq(res.body, "ok-503");

        spec.repository = "always503";
        ck_assert_int_eq(run_request(&s, &o, &spec, &never), 0);
        ck_assert_int_lt(never.r, 0);
        ck_assert_int_eq(never.status, 503);
        st = server_state(&s);
        ck_assert_int_eq(json_integer_value(json_object_get(json_object_get(st, "counts"), "r503")), 3);
        ck_assert_int_eq(json_integer_value(json_object_get(json_object_get(st, "counts"), "always503")), 5);
        json_decref(st);
        result_done(&res);
        result_done(&never);
        server_stop(&s);
}
END_TEST

static void check_blob_from(const Result *res, size_t from) {
        ck_assert_uint_eq(res->stream_size, 200000 - from);
        for (size_t i = from; i < 200000; i++)
                if ((unsigned char) res->stream[i - from] != ((i * 7 + i / 251) & 0xFF))
                        ck_abort_msg("byte %zu differs", i);
}

static void check_blob(const Result *res) {
        check_blob_from(res, 0);
}

START_TEST(test_resume_range) {
        Server s = {};
        RegistryOptions o = {};
        Result res = {};
        RegistryRequestSpec spec = { .method = "GET", .repository = "drop-range", .path = "blobs/x",
                                     .on_data = on_data, .resumable = true };
        json_t *st;

        server_start(&s);
        ck_assert_int_eq(run_request(&s, &o, &spec, &res), 0);
        ck_assert_int_eq(res.r, 0);
        ck_assert_int_eq(res.status, 206);
        check_blob(&res);
        st = server_state(&s);
        ck_assert_str_eq(json_string_value(json_array_get(json_object_get(st, "ranges"), 1)), "bytes=70000-");
        json_decref(st);
        result_done(&res);
        server_stop(&s);
}
END_TEST

START_TEST(test_resume_no_range) {
        Server s = {};
        RegistryOptions o = {};
        Result res = {};
        RegistryRequestSpec spec = { .method = "GET", .repository = "drop-norange", .path = "blobs/x",
                                     .on_data = on_data, .resumable = true };

        server_start(&s);
        ck_assert_int_eq(run_request(&s, &o, &spec, &res), 0);
        ck_assert_int_eq(res.r, 0);
        ck_assert_int_eq(res.status, 200);
        check_blob(&res);
        result_done(&res);
        server_stop(&s);
}
END_TEST

/* The caller has the first bytes (a partial blob): asked for from there;
 * a registry without Range sends everything, and they are skipped, also
 * when it drops and is asked again. */
START_TEST(test_resume_from) {
        Server s = {};
        RegistryOptions o = {};
        Result res = { .resumed = 50000 }, all = { .resumed = 50000 };
        RegistryRequestSpec spec = { .method = "GET", .repository = "drop-range", .path = "blobs/x",
                                     .on_data = on_data, .resumable = true, .resume_from = 50000 };
        json_t *st;

        server_start(&s);
        ck_assert_int_eq(run_request(&s, &o, &spec, &res), 0);
        ck_assert_int_eq(res.r, 0);
        ck_assert_int_eq(res.status, 206);
        check_blob_from(&res, 50000);
        st = server_state(&s);
        ck_assert_uint_eq(json_array_size(json_object_get(st, "ranges")), 1);
        ck_assert_str_eq(json_string_value(json_array_get(json_object_get(st, "ranges"), 0)), "bytes=50000-");
        json_decref(st);

        spec.repository = "drop-norange";
        ck_assert_int_eq(run_request(&s, &o, &spec, &all), 0);
        ck_assert_int_eq(all.r, 0);
        ck_assert_int_eq(all.status, 200);
        check_blob_from(&all, 50000);
        result_done(&res);
        result_done(&all);
        server_stop(&s);
}
END_TEST

START_TEST(test_too_big) {
        Server s = {};
        RegistryOptions o = {};
        Result res = {};
        RegistryRequestSpec spec = { .method = "GET", .repository = "big", .path = "blobs/x", .max_body = 1 << 20 };

        server_start(&s);
        ck_assert_int_eq(run_request(&s, &o, &spec, &res), 0);
        ck_assert_int_eq(res.r, -EFBIG);
        ck_assert_ptr_nonnull(strstr(res.error, "big"));
        result_done(&res);
        server_stop(&s);
}
END_TEST

typedef struct PauseState {
        Result res;
        sd_event_source *timer;
        unsigned pauses;
} PauseState;

static int on_unpause(sd_event_source *src, uint64_t usec, void *userdata) {
        registry_request_unpause(userdata);
        return 0;
}

/* Pauses after every chunk, unpaused 20 ms later from the loop. */
static int on_data_pausing(RegistryRequest *req, const void *p, size_t n, void *userdata) {
        PauseState *ps = userdata;
        sd_event *e = NULL;

        (void) on_data(req, p, n, &ps->res);
        if (ps->pauses++ < 5) {
                registry_request_pause(req);
                ck_assert_int_ge(sd_event_default(&e), 0);
                ps->timer = sd_event_source_disable_unref(ps->timer);
                ck_assert_int_ge(sd_event_add_time_relative(e, &ps->timer, CLOCK_MONOTONIC, 20 * USEC_PER_MSEC, 1,
                                                            on_unpause, req), 0);
                sd_event_unref(e);
        }
        return 0;
}

static void on_done_pausing(RegistryRequest *req, int r, const RegistryResponse *resp, void *userdata) {
        PauseState *ps = userdata;

        ps->timer = sd_event_source_disable_unref(ps->timer);
        on_done(req, r, resp, &ps->res);
}

START_TEST(test_pause) {
        Server s = {};
        RegistryOptions o = {};
        PauseState ps = {};
        RegistryRequestSpec spec = { .method = "GET", .repository = "drop-norange", .path = "blobs/x",
                                     .on_data = on_data_pausing, .on_done = on_done_pausing, .userdata = &ps,
                                     .body_fd = -EBADF };
        _cleanup_(registry_client_freep) RegistryClient *c = NULL;
        sd_event *e = NULL;

        server_start(&s);
        o.config = s.config;
        ck_assert_int_ge(sd_event_default(&e), 0);
        ck_assert_int_eq(registry_client_new(e, s.domain, &o, &c), 0);
        ck_assert_int_eq(registry_request_start(c, &spec, NULL), 0);
        ck_assert_int_eq(registry_client_run(c), 0);
        ck_assert_int_eq(ps.res.r, 0);
        ck_assert_uint_ge(ps.pauses, 5);
        check_blob(&ps.res);
        c = registry_client_free(c);
        sd_event_unref(e);
        result_done(&ps.res);
        server_stop(&s);
}
END_TEST

static volatile int cancel_flag;

static int on_raise_cancel(sd_event_source *src, uint64_t usec, void *userdata) {
        cancel_flag = 1;
        return 0;
}

START_TEST(test_cancel) {
        Server s = {};
        RegistryOptions o = { .cancel = &cancel_flag };
        Result res = {};
        RegistryRequestSpec spec = { .method = "GET", .repository = "slow", .path = "blobs/x", .on_data = on_data,
                                     .on_done = on_done, .userdata = &res, .body_fd = -EBADF };
        _cleanup_(registry_client_freep) RegistryClient *c = NULL;
        sd_event_source *t = NULL;
        sd_event *e = NULL;
        uint64_t t0 = now_usec(CLOCK_MONOTONIC);

        server_start(&s);
        o.config = s.config;
        cancel_flag = 0;
        ck_assert_int_ge(sd_event_new(&e), 0);
        ck_assert_int_ge(sd_event_add_time_relative(e, &t, CLOCK_MONOTONIC, 500 * USEC_PER_MSEC, 0,
                                                    on_raise_cancel, NULL), 0);
        ck_assert_int_eq(registry_client_new(e, s.domain, &o, &c), 0);
        ck_assert_int_eq(registry_request_start(c, &spec, NULL), 0);
        ck_assert_int_eq(registry_client_run(c), -ECANCELED);
        ck_assert_int_eq(res.r, -ECANCELED);
        ck_assert_uint_gt(res.stream_size, 0);
        ck_assert_uint_lt(now_usec(CLOCK_MONOTONIC) - t0, 3 * USEC_PER_SEC);
        c = registry_client_free(c);
        sd_event_source_unref(t);
        sd_event_unref(e);
        result_done(&res);
        server_stop(&s);
}
END_TEST

static Suite *registry_http_suite(void) {
        Suite *s = suite_create("registry-http");
        TCase *tc = tcase_create("core");

        tcase_set_timeout(tc, 30);
        tcase_add_test(tc, test_get_head_collect);
        tcase_add_test(tc, test_parallel_first);
        tcase_add_test(tc, test_put_location);
        tcase_add_test(tc, test_not_found);
        tcase_add_test(tc, test_basic_auth);
        tcase_add_test(tc, test_bearer);
        tcase_add_test(tc, test_identity_token);
        tcase_add_test(tc, test_insufficient_scope);
        tcase_add_test(tc, test_redirect_no_auth);
        tcase_add_test(tc, test_redirect_loop);
        tcase_add_test(tc, test_retry_after);
        tcase_add_test(tc, test_retry_after_date);
        tcase_add_test(tc, test_mirrors);
        tcase_add_test(tc, test_mirror_auth_file);
        tcase_add_test(tc, test_refused);
        tcase_add_test(tc, test_retry_5xx);
        tcase_add_test(tc, test_resume_range);
        tcase_add_test(tc, test_resume_no_range);
        tcase_add_test(tc, test_resume_from);
        tcase_add_test(tc, test_too_big);
        tcase_add_test(tc, test_pause);
        tcase_add_test(tc, test_cancel);
        suite_add_tcase(s, tc);
        return s;
}

int main(void) {
        int r;

        server_spawn(&server);
        r = check_run_suite(registry_http_suite());
        server_kill(&server);
        return r;
}
