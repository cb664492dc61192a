/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The INI config (lib/config.c): the input is a berthd.conf, parsed with
 * the settings berthd knows from a memfd. The table is a copy of
 * service/manager.c's (static there): keep the two alike. */
#include <sys/mman.h>

#include "config.h"
#include "fuzz.h"
#include "store.h"
#include "util.h"

typedef struct FuzzConfig {
        char *root;
        int log_level;
        unsigned max_operations;
        StoreLimits store_limits;
        unsigned setup_timeout_sec;
} FuzzConfig;

static const ConfigItem items[] = {
        { "Daemon", "Root", config_parse_string, offsetof(FuzzConfig, root) },
        { "Daemon", "LogLevel", config_parse_log_level, offsetof(FuzzConfig, log_level) },
        { "Daemon", "MaxOperations", config_parse_unsigned, offsetof(FuzzConfig, max_operations) },
#define LIMIT(key, parser, field) { "Images", key, parser, offsetof(FuzzConfig, store_limits.field) }
        LIMIT("MaxLayerCompressedSize", config_parse_size, layer.max_compressed_size),
        LIMIT("MaxLayerSize", config_parse_size, layer.max_uncompressed_size),
        LIMIT("MaxLayerEntries", config_parse_size, layer.max_entries),
        LIMIT("MaxPathLength", config_parse_size, layer.max_path_length),
        LIMIT("MaxJSONSize", config_parse_size, max_json_size),
        LIMIT("MaxArchiveEntries", config_parse_size, max_archive_entries),
        LIMIT("MaxArchiveSize", config_parse_size, max_archive_size),
        LIMIT("MaxImagesPerArchive", config_parse_size, max_images),
        LIMIT("MaxLayersPerImage", config_parse_size, max_layers),
        LIMIT("UnpackThreads", config_parse_unsigned, unpack_threads),
#undef LIMIT
        { "Containers", "SetupTimeoutSec", config_parse_unsigned, offsetof(FuzzConfig, setup_timeout_sec) },
};

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
        FuzzConfig c = { .log_level = 6, .store_limits = store_limits_default };
        _cleanup_close_ int fd = memfd_create("berthd.conf", MFD_CLOEXEC);
        char path[64];
        unsigned line = 0;
        int r;

        FUZZ_CHECK(fd >= 0);
        for (size_t n = 0; n < size;) {
                ssize_t k = write(fd, data + n, size - n);
                FUZZ_CHECK(k > 0);
                n += (size_t) k;
        }
        snprintf(path, sizeof path, "/proc/self/fd/%i", fd);
        r = config_parse_file(path, items, ELEMENTSOF(items), &c, &line);
        if (getenv("BERTH_FUZZ_VERBOSE"))
                fprintf(stderr, "config_parse_file: %d (line %u)\n", r, line);
        if (r < 0)
                /* Every failure past opening the file names its line. */
                FUZZ_CHECK(line > 0);
        else {
                FUZZ_CHECK(c.log_level >= 0 && c.log_level <= 7);
                FUZZ_CHECK(!c.root || strlen(c.root) < size + 1);
        }
        free(c.root);
        return 0;
}
