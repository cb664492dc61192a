/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* All containers, by id and by name. Keys point into the containers. */
#include <fcntl.h>

#include "container.h"
#include "fileio.h"

int container_table_new(ContainerTable **ret) {
        _cleanup_(container_table_freep) ContainerTable *r = calloc(1, sizeof(ContainerTable));

        if (!r)
                return -ENOMEM;
        r->by_id = hashmap_new();
        r->by_name = hashmap_new();
        if (!r->by_id || !r->by_name)
                return -ENOMEM;
        *ret = TAKE_PTR(r);
        return 0;
}

ContainerTable *container_table_free(ContainerTable *r) {
        Container *c;
        size_t i = 0;

        if (!r)
                return NULL;
        while (hashmap_iterate(r->by_id, &i, NULL, (void **) &c))
                container_free(c);
        hashmap_free(r->by_id);
        hashmap_free(r->by_name);
        return mfree(r);
}

size_t container_table_size(const ContainerTable *r) {
        return hashmap_size(r->by_id);
}

int container_table_add(ContainerTable *r, Container *c) {
        int k;

        if (!container_id_is_valid(c->id) || !container_name_is_valid(c->name))
                return -EINVAL;
        if (hashmap_get(r->by_name, c->name))
                return -EEXIST;
        k = hashmap_put(r->by_id, c->id, c);
        if (k < 0)
                return k;
        k = hashmap_put(r->by_name, c->name, c);
        if (k < 0) {
                hashmap_remove(r->by_id, c->id);
                return k;
        }
        return 0;
}

void container_table_remove(ContainerTable *r, Container *c) {
        if (hashmap_get(r->by_id, c->id) == c)
                hashmap_remove(r->by_id, c->id);
        if (hashmap_get(r->by_name, c->name) == c)
                hashmap_remove(r->by_name, c->name);
}

/* Prefixes are rare next to exact lookups; a scan of 64-byte ids stays
 * well under a millisecond for tens of thousands of containers. */
static int find_by_prefix(const ContainerTable *r, const char *prefix, Container **ret) {
        size_t n = strlen(prefix), i = 0;
        Container *c, *found = NULL;
        const char *id;

        if (n == 0 || n > CONTAINER_ID_LENGTH || strspn(prefix, "0123456789abcdef") != n)
                return -ENOENT;
        while (hashmap_iterate(r->by_id, &i, &id, (void **) &c))
                if (strneq(id, prefix, n)) {
                        if (found)
                                return -ENOTUNIQ;
                        found = c;
                }
        if (!found)
                return -ENOENT;
        *ret = found;
        return 0;
}

int container_table_find(const ContainerTable *r, const char *ref, Container **ret) {
        Container *c;

        if (isempty(ref))
                return -EINVAL;
        c = hashmap_get(r->by_id, ref) ?: hashmap_get(r->by_name, ref);
        if (c) {
                *ret = c;
                return 0;
        }
        return find_by_prefix(r, ref, ret);
}

int container_table_new_name(const ContainerTable *r, char **ret) {
        for (unsigned attempt = 0; attempt < 64; attempt++) {
                _cleanup_free_ char *name = NULL;
                int k;

                k = container_name_generate(&name);
                if (k < 0)
                        return k;
                /* 32 x 32 plain names fill up; then Docker-style numbered ones. */
                if (attempt >= 8) {
                        char *numbered = NULL;

                        if (asprintf(&numbered, "%s%u", name, attempt) < 0)
                                return -ENOMEM;
                        free(name);
                        name = numbered;
                }
                if (!hashmap_get(r->by_name, name)) {
                        *ret = TAKE_PTR(name);
                        return 0;
                }
        }
        return -EBUSY;
}

int container_table_load(ContainerTable *r, int root_fd, char ***ret_corrupt) {
        _cleanup_strv_free_ char **corrupt = NULL;
        _cleanup_closedir_ DIR *d = NULL;
        struct dirent *de;
        int n = 0, k;

        k = opendir_at(root_fd, CONTAINER_DIR, 0, &d);
        if (k < 0)
                return k == -ENOENT ? 0 : k;
        while ((de = readdir(d))) {
                _cleanup_(container_freep) Container *c = NULL;

                if (!container_id_is_valid(de->d_name))
                        continue;
                k = container_load(root_fd, de->d_name, &c);
                if (k >= 0)
                        k = container_table_add(r, c);
                if (k == -ENOMEM)
                        return k;
                if (k < 0) {
                        if (strv_extend(&corrupt, de->d_name) < 0)
                                return -ENOMEM;
                        continue;
                }
                TAKE_PTR(c);
                n++;
        }
        if (ret_corrupt)
                *ret_corrupt = TAKE_PTR(corrupt);
        return n;
}
