/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <sys/random.h>

#include "hashmap.h"

#define HASHMAP_MIN_BUCKETS 16U

typedef struct Entry {
        const char *key;   /* NULL: empty bucket */
        void *value;
        uint64_t hash;
} Entry;

struct Hashmap {
        Entry *buckets;
        size_t n_buckets;  /* a power of two */
        size_t n_entries;
        uint64_t seed;
};

/* FNV-1a with a per-map random seed, so names chosen by clients cannot be
 * lined up to collide ahead of time. */
static uint64_t hash_string(uint64_t seed, const char *s) {
        uint64_t h = 0xcbf29ce484222325ULL ^ seed;

        for (; *s; s++) {
                h ^= (uint8_t) *s;
                h *= 0x100000001b3ULL;
        }
        return h ^ (h >> 29);
}

Hashmap *hashmap_new(void) {
        Hashmap *h = calloc(1, sizeof(Hashmap));

        if (!h)
                return NULL;
        h->buckets = calloc(HASHMAP_MIN_BUCKETS, sizeof(Entry));
        if (!h->buckets)
                return mfree(h);
        h->n_buckets = HASHMAP_MIN_BUCKETS;
        if (getrandom(&h->seed, sizeof h->seed, GRND_NONBLOCK) != sizeof h->seed)
                h->seed = (uint64_t) now_usec(CLOCK_MONOTONIC);
        return h;
}

Hashmap *hashmap_free(Hashmap *h) {
        if (!h)
                return NULL;
        free(h->buckets);
        return mfree(h);
}

size_t hashmap_size(const Hashmap *h) {
        return h ? h->n_entries : 0;
}

static size_t find_slot(const Hashmap *h, const char *key, uint64_t hash) {
        size_t mask = h->n_buckets - 1;

        for (size_t i = hash & mask;; i = (i + 1) & mask) {
                const Entry *e = &h->buckets[i];
                if (!e->key || (e->hash == hash && streq(e->key, key)))
                        return i;
        }
}

static int resize(Hashmap *h, size_t n_buckets) {
        Entry *old = h->buckets;
        size_t n_old = h->n_buckets;

        h->buckets = calloc(n_buckets, sizeof(Entry));
        if (!h->buckets) {
                h->buckets = old;
                return -ENOMEM;
        }
        h->n_buckets = n_buckets;
        for (size_t i = 0; i < n_old; i++)
                if (old[i].key)
                        h->buckets[find_slot(h, old[i].key, old[i].hash)] = old[i];
        free(old);
        return 0;
}

int hashmap_put(Hashmap *h, const char *key, void *value) {
        uint64_t hash = hash_string(h->seed, key);
        size_t i;
        int r;

        /* Keep the load factor under 3/4 so probe sequences stay short. */
        if ((h->n_entries + 1) * 4 > h->n_buckets * 3) {
                r = resize(h, h->n_buckets * 2);
                if (r < 0)
                        return r;
        }
        i = find_slot(h, key, hash);
        if (h->buckets[i].key)
                return -EEXIST;
        h->buckets[i] = (Entry) { key, value, hash };
        h->n_entries++;
        return 0;
}

void *hashmap_get(const Hashmap *h, const char *key) {
        size_t i;

        if (!h || !key)
                return NULL;
        i = find_slot(h, key, hash_string(h->seed, key));
        return h->buckets[i].key ? h->buckets[i].value : NULL;
}

/* Backward-shift deletion: pull later members of the probe run into the hole
 * so lookups never need tombstones. */
void *hashmap_remove(Hashmap *h, const char *key) {
        size_t mask, i, j;
        void *value;

        if (!h || !key)
                return NULL;
        mask = h->n_buckets - 1;
        i = find_slot(h, key, hash_string(h->seed, key));
        if (!h->buckets[i].key)
                return NULL;
        value = h->buckets[i].value;
        for (j = (i + 1) & mask; h->buckets[j].key; j = (j + 1) & mask) {
                size_t home = h->buckets[j].hash & mask;
                /* Move j into the hole at i unless its home lies in (i, j]. */
                if (((j - home) & mask) >= ((j - i) & mask)) {
                        h->buckets[i] = h->buckets[j];
                        i = j;
                }
        }
        h->buckets[i] = (Entry) {};
        h->n_entries--;
        return value;
}

bool hashmap_iterate(const Hashmap *h, size_t *i, const char **ret_key, void **ret_value) {
        if (!h)
                return false;
        for (; *i < h->n_buckets; (*i)++)
                if (h->buckets[*i].key) {
                        if (ret_key)
                                *ret_key = h->buckets[*i].key;
                        if (ret_value)
                                *ret_value = h->buckets[*i].value;
                        (*i)++;
                        return true;
                }
        return false;
}
