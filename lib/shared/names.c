/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The names and ids of containers, which the scope code and the model share. */
#include <ctype.h>
#include <string.h>

#include "names.h"
#include "util.h"

/* The character set also keeps "berth-NAME.scope" a valid unit name without
 * escaping. */
bool container_name_is_valid(const char *name) {
        size_t n;

        if (isempty(name))
                return false;
        n = strlen(name);
        if (n > CONTAINER_NAME_MAX || !isalnum((unsigned char) name[0]))
                return false;
        for (size_t i = 0; i < n; i++)
                if (!isascii((unsigned char) name[i]) ||
                    !(isalnum((unsigned char) name[i]) || strchr("_.-", name[i])))
                        return false;
        return true;
}

bool container_id_is_valid(const char *id) {
        return id && string_is_hex(id, CONTAINER_ID_LENGTH);
}
