/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include "util.h"

/* berthd.conf is INI-style like systemd's own *.conf files:
 *
 *   [Daemon]
 *   Root=/var/lib/berth
 *   LogLevel=info
 *
 *   [Images]
 *   MaxLayerSize=...
 *
 * Each setting is described by a ConfigItem; unknown keys are an error so
 * typos do not go unnoticed. */

typedef int (*ConfigParser)(const char *value, void *data);

typedef struct ConfigItem {
        const char *section;
        const char *key;
        ConfigParser parse;
        size_t offset;
} ConfigItem;

int config_parse_string(const char *value, void *data);
int config_parse_size(const char *value, void *data);
int config_parse_unsigned(const char *value, void *data);
int config_parse_log_level(const char *value, void *data);

/* Parses the file into the struct at base. A missing file is not an error. On a
 * bad line returns -EINVAL and sets *ret_line to its number. */
int config_parse_file(const char *path, const ConfigItem *items, size_t n_items, void *base,
                      unsigned *ret_line);

/* For files a ConfigItem table cannot describe (a section that repeats,
 * keys of the user's choosing): called for each "[section]" line with key
 * and value NULL, and for each "key=value" line with the section it is in
 * (key and value stripped); line is its number. A negative return stops
 * the parse at that line. */
typedef int (*ConfigLineFn)(const char *section, const char *key, const char *value, unsigned line,
                            void *userdata);

typedef enum ConfigFlags {
        CONFIG_VALUE_COMMENTS = 1 << 0,   /* "key=value # comment": " #" or "\t#" ends the value */
} ConfigFlags;

/* The same syntax from text in memory (NUL-terminated, changed in place),
 * every line given to fn. Blank lines and lines starting with '#' or ';'
 * are skipped; a malformed line, or a setting before the first section, is
 * -EINVAL. On failure returns the negative errno and sets *ret_line to the
 * line's number. */
int config_parse_text(char *text, ConfigFlags flags, ConfigLineFn fn, void *userdata, unsigned *ret_line);
