/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include <jansson.h>

#include "util.h"

/* Small jansson helpers shared by the OCI and store modules. Failures set
 * errmsg with "what" naming the document. */

/* jansson >= 2.11 provides json_auto_t. */

/* A document may hold at most JSON_MAX_NODES_BASE + size / JSON_BYTES_PER_NODE
 * values and keys (-E2BIG): that bounds jansson's memory to ~10 times the
 * text (~50 MiB for 4 MiB) instead of ~75 times; real documents (digests,
 * paths, commands) have far fewer values for their size. */
#define JSON_MAX_NODES_BASE 65536
#define JSON_BYTES_PER_NODE 16
int json_parse(const char *what, const char *data, size_t size, json_t **ret);
int json_parse_object(const char *what, const char *data, size_t size, json_t **ret);
/* Optional string field: *ret NULL if absent or null; -EBADMSG if not a string. */
int json_get_string(const char *what, json_t *o, const char *key, bool required, const char **ret);
int json_dup_string(const char *what, json_t *o, const char *key, bool required, char **ret);
int json_get_strv(const char *what, json_t *o, const char *key, char ***ret);
/* Keys of an object ({"80/tcp": {}}) as a sorted strv. */
int json_get_keys(const char *what, json_t *o, const char *key, char ***ret);
/* {"k": "v"} as a sorted key, value, ... strv. */
int json_get_string_map(const char *what, json_t *o, const char *key, char ***ret);
int json_get_uint64(const char *what, json_t *o, const char *key, bool required, uint64_t *ret);

json_t *json_strv(char * const *l);
json_t *json_keys_object(char * const *l);
json_t *json_string_map(char * const *pairs);
int json_set_string(json_t *o, const char *key, const char *value);
int json_dump_string(json_t *j, char **ret);

void strv_sort(char **l);
