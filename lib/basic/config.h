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
