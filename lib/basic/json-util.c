/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "json-util.h"

/* Counts the values and keys of a JSON text without parsing it (an
 * over-count: "[]" counts two), skipping strings with their escapes; a
 * malformed text is left for the parser to refuse. */
static uint64_t json_count_nodes(const char *p, size_t n) {
        uint64_t count = 1;
        bool in_string = false;

        for (size_t i = 0; i < n; i++) {
                if (in_string) {
                        if (p[i] == '\\')
                                i++;
                        else if (p[i] == '"')
                                in_string = false;
                } else if (p[i] == '"')
                        in_string = true;
                else if (IN_SET(p[i], '[', '{', ',', ':'))
                        count++;
        }
        return count;
}

int json_parse(const char *what, const char *data, size_t size, json_t **ret) {
        uint64_t nodes = json_count_nodes(data, size), max = JSON_MAX_NODES_BASE + size / JSON_BYTES_PER_NODE;
        json_error_t e;
        json_t *j;

        /* jansson takes up to ~230 bytes for a value ("[{},{},...]"): 4 MiB
         * of such text would cost 300 MiB. */
        if (nodes > max)
                return errmsg_set(-E2BIG, "The %s has %llu JSON values, more than the limit of %llu for its size.",
                                  what, (unsigned long long) nodes, (unsigned long long) max);
        j = json_loadb(data, size, JSON_REJECT_DUPLICATES, &e);
        if (!j) {
                if (e.position >= (int) size)
                        return errmsg_set(-EBADMSG, "Malformed %s: truncated JSON (%s).", what, e.text);
                return errmsg_set(-EBADMSG, "Malformed %s: invalid JSON at line %d column %d: %s.",
                                  what, e.line, e.column, e.text);
        }
        *ret = j;
        return 0;
}

int json_parse_object(const char *what, const char *data, size_t size, json_t **ret) {
        json_t *j;
        int r;

        r = json_parse(what, data, size, &j);
        if (r < 0)
                return r;
        if (!json_is_object(j)) {
                json_decref(j);
                return errmsg_set(-EBADMSG, "Malformed %s: expected a JSON object.", what);
        }
        *ret = j;
        return 0;
}

int json_get_string(const char *what, json_t *o, const char *key, bool required, const char **ret) {
        json_t *v = json_object_get(o, key);

        if (!v || json_is_null(v)) {
                if (required)
                        return errmsg_set(-EBADMSG, "Malformed %s: missing field \"%s\".", what, key);
                *ret = NULL;
                return 0;
        }
        if (!json_is_string(v))
                return errmsg_set(-EBADMSG, "Malformed %s: field \"%s\" must be a string.", what, key);
        *ret = json_string_value(v);
        return 0;
}

int json_dup_string(const char *what, json_t *o, const char *key, bool required, char **ret) {
        const char *s;
        int r;

        r = json_get_string(what, o, key, required, &s);
        if (r < 0)
                return r;
        if (isempty(s)) {
                *ret = NULL;
                return 0;
        }
        *ret = strdup(s);
        return *ret ? 0 : -ENOMEM;
}

int json_get_strv(const char *what, json_t *o, const char *key, char ***ret) {
        _cleanup_strv_free_ char **l = NULL;
        json_t *v = json_object_get(o, key), *e;
        size_t i;

        *ret = NULL;
        if (!v || json_is_null(v))
                return 0;
        if (!json_is_array(v))
                return errmsg_set(-EBADMSG, "Malformed %s: field \"%s\" must be an array of strings.", what, key);
        l = calloc(1, sizeof(char *));
        if (!l)
                return -ENOMEM;
        json_array_foreach(v, i, e) {
                if (!json_is_string(e))
                        return errmsg_set(-EBADMSG, "Malformed %s: element %zu of \"%s\" must be a string.",
                                          what, i, key);
                if (strv_extend(&l, json_string_value(e)) < 0)
                        return -ENOMEM;
        }
        *ret = TAKE_PTR(l);
        return 0;
}

static int cmp_str(const void *a, const void *b) {
        return strcmp(*(char * const *) a, *(char * const *) b);
}

void strv_sort(char **l) {
        if (l)
                qsort(l, strv_length(l), sizeof(char *), cmp_str);
}

int json_get_keys(const char *what, json_t *o, const char *key, char ***ret) {
        _cleanup_strv_free_ char **l = NULL;
        json_t *v = json_object_get(o, key), *e;
        const char *k;

        *ret = NULL;
        if (!v || json_is_null(v))
                return 0;
        if (!json_is_object(v))
                return errmsg_set(-EBADMSG, "Malformed %s: field \"%s\" must be an object.", what, key);
        json_object_foreach(v, k, e)
                if (strv_extend(&l, k) < 0)
                        return -ENOMEM;
        strv_sort(l);
        *ret = TAKE_PTR(l);
        return 0;
}

int json_get_string_map(const char *what, json_t *o, const char *key, char ***ret) {
        _cleanup_strv_free_ char **keys = NULL, **l = NULL;
        json_t *v = json_object_get(o, key);
        int r;

        r = json_get_keys(what, o, key, &keys);
        if (r < 0)
                return r;
        STRV_FOREACH(k, keys) {
                json_t *e = json_object_get(v, *k);
                if (!json_is_string(e))
                        return errmsg_set(-EBADMSG, "Malformed %s: value of \"%s\" in \"%s\" must be a string.",
                                          what, *k, key);
                if (strv_extend(&l, *k) < 0 || strv_extend(&l, json_string_value(e)) < 0)
                        return -ENOMEM;
        }
        *ret = TAKE_PTR(l);
        return 0;
}

int json_get_uint64(const char *what, json_t *o, const char *key, bool required, uint64_t *ret) {
        json_t *v = json_object_get(o, key);

        if (!v) {
                if (required)
                        return errmsg_set(-EBADMSG, "Malformed %s: missing field \"%s\".", what, key);
                *ret = 0;
                return 0;
        }
        if (!json_is_integer(v) || json_integer_value(v) < 0)
                return errmsg_set(-EBADMSG, "Malformed %s: field \"%s\" must be a non-negative integer.", what, key);
        *ret = (uint64_t) json_integer_value(v);
        return 0;
}

json_t *json_strv(char * const *l) {
        json_t *a = json_array();

        STRV_FOREACH(s, l)
                if (!a || json_array_append_new(a, json_string(*s)) < 0) {
                        json_decref(a);
                        return NULL;
                }
        return a;
}

json_t *json_keys_object(char * const *l) {
        json_t *o = json_object();

        STRV_FOREACH(s, l)
                if (!o || json_object_set_new(o, *s, json_object()) < 0) {
                        json_decref(o);
                        return NULL;
                }
        return o;
}

json_t *json_string_map(char * const *pairs) {
        json_t *o = json_object();

        for (char * const *p = pairs; o && p && p[0] && p[1]; p += 2)
                if (json_object_set_new(o, p[0], json_string(p[1])) < 0) {
                        json_decref(o);
                        return NULL;
                }
        return o;
}

int json_set_string(json_t *o, const char *key, const char *value) {
        if (!value)
                return 0;
        return json_object_set_new(o, key, json_string(value)) < 0 ? -ENOMEM : 0;
}

int json_dump_string(json_t *j, char **ret) {
        char *s = json_dumps(j, JSON_COMPACT | JSON_SORT_KEYS);

        if (!s)
                return -ENOMEM;
        *ret = s;
        return 0;
}
