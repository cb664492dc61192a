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

/* One line: blank, a comment, "[section]" or "key=value" of the section. */
static int config_parse_line(char *l, ConfigFlags flags, char **section, unsigned line, ConfigLineFn fn,
                             void *userdata) {
        char *eq, *value, *hash;
        int r;

        l = strip(l);
        if (*l == 0 || *l == '#' || *l == ';')
                return 0;
        if (*l == '[') {
                char *end = strchr(l, ']');
                if (!end || end[1])
                        return -EINVAL;
                *end = 0;
                r = free_and_strdup(section, l + 1);
                if (r < 0)
                        return r;
                return fn(*section, NULL, NULL, line, userdata);
        }
        eq = strchr(l, '=');
        if (!eq || !*section)
                return -EINVAL;
        *eq = 0;
        value = eq + 1;
        if (flags & CONFIG_VALUE_COMMENTS) {
                hash = strstr(value, " #") ?: strstr(value, "\t#");
                if (hash)
                        *hash = 0;
        }
        return fn(*section, strip(l), strip(value), line, userdata);
}

int config_parse_text(char *text, ConfigFlags flags, ConfigLineFn fn, void *userdata, unsigned *ret_line) {
        _cleanup_free_ char *section = NULL;
        unsigned line = 1;
        char *e;
        int r;

        for (char *s = text; s; s = e, line++) {
                e = strchr(s, '\n');
                if (e)
                        *e++ = 0;
                r = config_parse_line(s, flags, &section, line, fn, userdata);
                if (r < 0) {
                        if (ret_line)
                                *ret_line = line;
                        return r;
                }
        }
        return 0;
}

typedef struct ConfigTable {
        const ConfigItem *items;
        size_t n_items;
        void *base;
} ConfigTable;

static int config_assign(const char *section, const char *key, const char *value, unsigned line,
                         void *userdata) {
        const ConfigTable *t = userdata;

        if (!key)
                return 0;
        for (size_t i = 0; i < t->n_items; i++)
                if (streq(t->items[i].section, section) && streq(t->items[i].key, key))
                        return t->items[i].parse(value, (uint8_t *) t->base + t->items[i].offset);
        return -EINVAL;
}

int config_parse_file(const char *path, const ConfigItem *items, size_t n_items, void *base,
                      unsigned *ret_line) {
        _cleanup_fclose_ FILE *f = fopen(path, "re");
        _cleanup_free_ char *section = NULL, *buf = NULL;
        ConfigTable t = { items, n_items, base };
        size_t bufsize = 0;
        unsigned line = 0;
        int r;

        if (!f)
                return errno == ENOENT ? 0 : -errno;
        while (getline(&buf, &bufsize, f) >= 0) {
                line++;
                r = config_parse_line(buf, 0, &section, line, config_assign, &t);
                if (r < 0) {
                        if (ret_line)
                                *ret_line = line;
                        return r;
                }
        }
        return 0;
}
