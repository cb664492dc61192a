/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <ctype.h>

#include "json-util.h"
#include "oci.h"

static void history_free(OciHistory *h, size_t n) {
        for (size_t i = 0; i < n; i++) {
                free(h[i].created_by);
                free(h[i].author);
                free(h[i].comment);
        }
        free(h);
}

OciImageConfig *oci_image_config_free(OciImageConfig *c) {
        if (!c)
                return NULL;
        oci_image_config_done(c);
        free(c);
        return NULL;
}

void oci_image_config_done(OciImageConfig *c) {
        free(c->architecture);
        free(c->os);
        free(c->variant);
        free(c->author);
        strv_free(c->env);
        strv_free(c->cmd);
        strv_free(c->entrypoint);
        free(c->working_dir);
        free(c->user);
        free(c->stop_signal);
        strv_free(c->exposed_ports);
        strv_free(c->volumes);
        strv_free(c->labels);
        strv_free(c->diff_ids);
        history_free(c->history, c->n_history);
        *c = (OciImageConfig) {};
}

static int parse_created(const char *what, json_t *o, uint64_t *ret) {
        const char *s;
        int r;

        r = json_get_string(what, o, "created", false, &s);
        if (r < 0)
                return r;
        *ret = 0;
        /* Go's zero time and other oddities are "unknown", not an error. */
        if (s && parse_timestamp_rfc3339(s, ret) < 0)
                *ret = 0;
        return 0;
}

static int parse_history(const char *what, json_t *j, OciImageConfig *c) {
        json_t *a = json_object_get(j, "history"), *e;
        size_t i;
        int r;

        if (!a || json_is_null(a))
                return 0;
        if (!json_is_array(a))
                return errmsg_set(-EBADMSG, "Malformed %s: field \"history\" must be an array.", what);
        c->history = calloc(json_array_size(a) + 1, sizeof(OciHistory));
        if (!c->history)
                return -ENOMEM;
        json_array_foreach(a, i, e) {
                OciHistory *h = &c->history[i];
                json_t *empty;

                if (!json_is_object(e))
                        return errmsg_set(-EBADMSG, "Malformed %s: history entry %zu must be an object.", what, i);
                c->n_history = i + 1;
                r = parse_created(what, e, &h->created_usec);
                if (r >= 0)
                        r = json_dup_string(what, e, "created_by", false, &h->created_by);
                if (r >= 0)
                        r = json_dup_string(what, e, "author", false, &h->author);
                if (r >= 0)
                        r = json_dup_string(what, e, "comment", false, &h->comment);
                if (r < 0)
                        return r;
                empty = json_object_get(e, "empty_layer");
                if (empty && !json_is_boolean(empty))
                        return errmsg_set(-EBADMSG, "Malformed %s: \"empty_layer\" must be a boolean.", what);
                h->empty_layer = json_is_true(empty);
        }
        return 0;
}

static int parse_container_config(const char *what, json_t *j, OciImageConfig *c) {
        json_t *cc = json_object_get(j, "config");
        int r;

        if (!cc || json_is_null(cc))
                return 0;
        if (!json_is_object(cc))
                return errmsg_set(-EBADMSG, "Malformed %s: field \"config\" must be an object.", what);
        if ((r = json_get_strv(what, cc, "Env", &c->env)) < 0 ||
            (r = json_get_strv(what, cc, "Cmd", &c->cmd)) < 0 ||
            (r = json_get_strv(what, cc, "Entrypoint", &c->entrypoint)) < 0 ||
            (r = json_dup_string(what, cc, "WorkingDir", false, &c->working_dir)) < 0 ||
            (r = json_dup_string(what, cc, "User", false, &c->user)) < 0 ||
            (r = json_dup_string(what, cc, "StopSignal", false, &c->stop_signal)) < 0 ||
            (r = json_get_keys(what, cc, "ExposedPorts", &c->exposed_ports)) < 0 ||
            (r = json_get_keys(what, cc, "Volumes", &c->volumes)) < 0 ||
            (r = json_get_string_map(what, cc, "Labels", &c->labels)) < 0)
                return r;
        return 0;
}

static int parse_rootfs(const char *what, json_t *j, OciImageConfig *c) {
        json_t *rootfs = json_object_get(j, "rootfs");
        const char *type;
        int r;

        if (!rootfs)
                return errmsg_set(-EBADMSG, "Malformed %s: missing field \"rootfs\".", what);
        if (!json_is_object(rootfs))
                return errmsg_set(-EBADMSG, "Malformed %s: field \"rootfs\" must be an object.", what);
        r = json_get_string(what, rootfs, "type", true, &type);
        if (r < 0)
                return r;
        if (!streq(type, "layers"))
                return errmsg_set(-EBADMSG, "Malformed %s: rootfs type \"%s\" is not \"layers\".", what, type);
        if (!json_object_get(rootfs, "diff_ids"))
                return errmsg_set(-EBADMSG, "Malformed %s: missing field \"rootfs.diff_ids\".", what);
        r = json_get_strv(what, rootfs, "diff_ids", &c->diff_ids);
        if (r < 0)
                return r;
        STRV_FOREACH(d, c->diff_ids)
                if (digest_validate(*d) < 0)
                        return errmsg_set(-EBADMSG, "Malformed %s: invalid diff_id \"%s\".", what, *d);
        return 0;
}

int oci_image_config_parse(const char *json, size_t size, OciImageConfig **ret) {
        static const char what[] = "image config";
        _cleanup_(oci_image_config_freep) OciImageConfig *c = NULL;
        json_auto_t *j = NULL;
        int r;

        r = json_parse_object(what, json, size, &j);
        if (r < 0)
                return r;
        c = calloc(1, sizeof *c);
        if (!c)
                return -ENOMEM;
        if ((r = json_dup_string(what, j, "architecture", true, &c->architecture)) < 0 ||
            (r = json_dup_string(what, j, "os", true, &c->os)) < 0 ||
            (r = json_dup_string(what, j, "variant", false, &c->variant)) < 0 ||
            (r = json_dup_string(what, j, "author", false, &c->author)) < 0 ||
            (r = parse_created(what, j, &c->created_usec)) < 0 ||
            (r = parse_container_config(what, j, c)) < 0 ||
            (r = parse_rootfs(what, j, c)) < 0 ||
            (r = parse_history(what, j, c)) < 0)
                return r;
        if (!c->architecture || !c->os)
                return errmsg_set(-EBADMSG, "Malformed %s: empty \"architecture\" or \"os\".", what);
        *ret = TAKE_PTR(c);
        return 0;
}

static int set_created(json_t *o, uint64_t usec) {
        char buf[64];

        if (usec == 0)
                return 0;
        if (format_timestamp_rfc3339(usec, buf, sizeof buf) < 0)
                return -EINVAL;
        return json_set_string(o, "created", buf);
}

static json_t *history_to_json(const OciImageConfig *c) {
        json_t *a = json_array();

        for (size_t i = 0; a && i < c->n_history; i++) {
                const OciHistory *h = &c->history[i];
                json_t *e = json_object();

                if (json_array_append_new(a, e) < 0 || set_created(e, h->created_usec) < 0 ||
                    json_set_string(e, "created_by", h->created_by) < 0 ||
                    json_set_string(e, "author", h->author) < 0 ||
                    json_set_string(e, "comment", h->comment) < 0 ||
                    (h->empty_layer && json_object_set_new(e, "empty_layer", json_true()) < 0)) {
                        json_decref(a);
                        return NULL;
                }
        }
        return a;
}

static int set_new(json_t *o, const char *key, json_t *v, bool want) {
        if (!want) {
                json_decref(v);
                return 0;
        }
        return json_object_set_new(o, key, v) < 0 ? -ENOMEM : 0;
}

static json_t *container_config_to_json(const OciImageConfig *c) {
        json_t *cc = json_object();

        if (!cc || set_new(cc, "Env", json_strv(c->env), c->env) < 0 ||
            set_new(cc, "Cmd", json_strv(c->cmd), c->cmd) < 0 ||
            set_new(cc, "Entrypoint", json_strv(c->entrypoint), c->entrypoint) < 0 ||
            json_set_string(cc, "WorkingDir", c->working_dir) < 0 ||
            json_set_string(cc, "User", c->user) < 0 ||
            json_set_string(cc, "StopSignal", c->stop_signal) < 0 ||
            set_new(cc, "ExposedPorts", json_keys_object(c->exposed_ports), c->exposed_ports) < 0 ||
            set_new(cc, "Volumes", json_keys_object(c->volumes), c->volumes) < 0 ||
            set_new(cc, "Labels", json_string_map(c->labels), c->labels) < 0) {
                json_decref(cc);
                return NULL;
        }
        return cc;
}

int oci_image_config_to_json(const OciImageConfig *c, char **ret) {
        json_auto_t *j = json_object();
        json_t *diff_ids = json_strv(c->diff_ids) ?: json_array();

        if (!j || json_set_string(j, "architecture", c->architecture) < 0 ||
            json_set_string(j, "os", c->os) < 0 ||
            json_set_string(j, "variant", c->variant) < 0 ||
            json_set_string(j, "author", c->author) < 0 ||
            set_created(j, c->created_usec) < 0 ||
            set_new(j, "config", container_config_to_json(c), true) < 0 ||
            set_new(j, "rootfs", json_pack("{ss,so*}", "type", "layers", "diff_ids", diff_ids), true) < 0 ||
            set_new(j, "history", history_to_json(c), c->n_history > 0) < 0)
                return -ENOMEM;
        return json_dump_string(j, ret);
}

int oci_image_config_copy(const OciImageConfig *c, OciImageConfig **ret) {
        _cleanup_free_ char *json = NULL;
        int r;

        /* The config round-trips through JSON losslessly for every field we keep. */
        r = oci_image_config_to_json(c, &json);
        if (r < 0)
                return r;
        return oci_image_config_parse(json, strlen(json), ret);
}

int oci_chain_id(const char *parent_chain_id, const char *diff_id, char ret[static DIGEST_STRING_MAX]) {
        _cleanup_free_ char *s = NULL;

        if (!parent_chain_id) {
                snprintf(ret, DIGEST_STRING_MAX, "%s", diff_id);
                return 0;
        }
        s = strjoin(parent_chain_id, " ", diff_id);
        if (!s)
                return -ENOMEM;
        return sha256_digest_buffer(s, strlen(s), ret);
}
