/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <ctype.h>
#include <syslog.h>

#include "config.h"

int config_parse_string(const char *value, void *data) {
        return free_and_strdup(data, value);
}

int config_parse_size(const char *value, void *data) {
        return parse_size(value, 1024, data);
}

int config_parse_unsigned(const char *value, void *data) {
        uint64_t v;
        int r = safe_atou64(value, &v);

        if (r < 0)
                return r;
        if (v > UINT32_MAX)
                return -ERANGE;
        *(unsigned *) data = (unsigned) v;
        return 0;
}

int config_parse_log_level(const char *value, void *data) {
        static const char *const names[] = { "emerg", "alert", "crit", "err",
                                             "warning", "notice", "info", "debug" };

        for (size_t i = 0; i < ELEMENTSOF(names); i++)
                if (streq(value, names[i])) {
                        *(int *) data = (int) i;
                        return 0;
                }
        return -EINVAL;
}

static char *strip(char *s) {
        char *e;

        while (isspace((unsigned char) *s))
                s++;
        e = s + strlen(s);
        while (e > s && isspace((unsigned char) e[-1]))
                *--e = 0;
        return s;
}

static int config_assign(const char *section, char *line, const ConfigItem *items,
                         size_t n_items, void *base) {
        char *eq = strchr(line, '=');

        if (!eq)
                return -EINVAL;
        *eq = 0;
        const char *key = strip(line), *value = strip(eq + 1);
        for (size_t i = 0; i < n_items; i++)
                if (streq(items[i].section, section) && streq(items[i].key, key))
                        return items[i].parse(value, (uint8_t *) base + items[i].offset);
        return -EINVAL;
}

int config_parse_file(const char *path, const ConfigItem *items, size_t n_items, void *base,
                      unsigned *ret_line) {
        _cleanup_fclose_ FILE *f = fopen(path, "re");
        _cleanup_free_ char *section = NULL, *buf = NULL;
        size_t bufsize = 0;
        unsigned line = 0;
        int r;

        if (!f)
                return errno == ENOENT ? 0 : -errno;
        while (getline(&buf, &bufsize, f) >= 0) {
                char *l = strip(buf);

                line++;
                if (*l == 0 || *l == '#' || *l == ';')
                        continue;
                if (*l == '[') {
                        char *end = strchr(l, ']');
                        if (!end || end[1])
                                r = -EINVAL;
                        else {
                                *end = 0;
                                r = free_and_strdup(&section, l + 1);
                        }
                } else
                        r = section ? config_assign(section, l, items, n_items, base) : -EINVAL;
                if (r < 0) {
                        if (ret_line)
                                *ret_line = line;
                        return r;
                }
        }
        return 0;
}
