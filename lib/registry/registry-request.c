/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "registry-http.h"

/* Built only on registry-http.h's public calls: test-registry-pull links a
 * fake client in place of registry-http.c, and this serves both. */

typedef struct RequestOnce {
        int r;
        char *error;
        bool want_body;
        RegistryReply reply;
} RequestOnce;

void registry_reply_done(RegistryReply *r) {
        if (!r)
                return;
        r->content_type = mfree(r->content_type);
        r->docker_content_digest = mfree(r->docker_content_digest);
        r->body = mfree(r->body);
        r->body_size = 0;
        r->status = 0;
}

static int reply_copy(RegistryReply *r, const RegistryResponse *resp, bool want_body) {
        if ((resp->content_type && !(r->content_type = strdup(resp->content_type))) ||
            (resp->docker_content_digest && !(r->docker_content_digest = strdup(resp->docker_content_digest))))
                return -ENOMEM;
        if (!want_body)
                return 0;
        r->body = malloc(resp->body_size + 1);
        if (!r->body)
                return -ENOMEM;
        if (resp->body_size > 0)
                memcpy(r->body, resp->body, resp->body_size);
        r->body[resp->body_size] = 0;
        r->body_size = resp->body_size;
        return 0;
}

static void on_once_done(RegistryRequest *req, int r, const RegistryResponse *resp, void *userdata) {
        RequestOnce *o = userdata;

        o->r = r;
        o->reply.status = resp ? resp->status : 0;
        if (r < 0)
                o->error = strdup(strempty(registry_request_error(req)));
        else
                o->r = reply_copy(&o->reply, resp, o->want_body);
}

int registry_request_run_once(RegistryClient *c, const RegistryRequestSpec *spec, RegistryReply *ret) {
        RequestOnce o = { .r = -EIO, .want_body = spec->max_body > 0 };
        RegistryRequestSpec s = *spec;
        long status;
        int r;

        s.on_done = on_once_done;
        s.userdata = &o;
        r = registry_request_start(c, &s, NULL);
        if (r >= 0)
                r = registry_client_run(c);
        if (r < 0)
                registry_reply_done(&o.reply);
        else if (o.r < 0) {
                r = !isempty(o.error) ? errmsg_set(o.r, "%s", o.error) : o.r;
                status = o.reply.status;
                registry_reply_done(&o.reply);
                o.reply.status = status;
        }
        free(o.error);
        if (ret)
                *ret = o.reply;
        else
                registry_reply_done(&o.reply);
        return r;
}
