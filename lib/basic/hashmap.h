/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/* A string-keyed open-addressing hash table (linear probing, backward-shift
 * deletion). Keys are borrowed: they must live as long as their entry, which
 * suits keys that point into the value (a container's id or name). */

#include "util.h"

typedef struct Hashmap Hashmap;

Hashmap *hashmap_new(void);
Hashmap *hashmap_free(Hashmap *h);
DEFINE_TRIVIAL_CLEANUP_FUNC(Hashmap *, hashmap_free);

/* -EEXIST if the key is present already. */
int hashmap_put(Hashmap *h, const char *key, void *value);
void *hashmap_get(const Hashmap *h, const char *key);
/* Returns the removed value, or NULL. */
void *hashmap_remove(Hashmap *h, const char *key);
size_t hashmap_size(const Hashmap *h);
/* Start with *i = 0; returns false when done. No changes while iterating. */
bool hashmap_iterate(const Hashmap *h, size_t *i, const char **ret_key, void **ret_value);
