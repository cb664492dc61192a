/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The --change parser (lib/oci-change.c): each line of the input is one
 * change, applied in order to a config like the one image import makes,
 * up to the first one refused (import stops there too). The config must
 * then print to JSON which parses again to the same config (import stores
 * exactly that JSON); if every change was accepted, its lists must also be
 * sorted as oci.h promises (a refused change may have applied in part). */
#include "fuzz.h"
#include "oci.h"
#include "util.h"

#define CHANGES_MAX 64

static bool strv_sorted(char **l, size_t step) {
        for (size_t i = 0; l && l[i] && l[i + step]; i += step)
                if (strcmp(l[i], l[i + step]) > 0)
                        return false;
        return true;
}

static void check_config(const OciImageConfig *c, bool all_accepted) {
        _cleanup_(oci_image_config_freep) OciImageConfig *copy = NULL;
        _cleanup_free_ char *s = NULL, *s2 = NULL;

        if (all_accepted) {
                FUZZ_CHECK(strv_sorted(c->exposed_ports, 1));
                FUZZ_CHECK(strv_sorted(c->volumes, 1));
        }
        FUZZ_CHECK(strv_length(c->labels) % 2 == 0);
        FUZZ_CHECK(oci_image_config_to_json(c, &s) == 0);
        FUZZ_CHECK(oci_image_config_copy(c, &copy) == 0);
        FUZZ_CHECK(oci_image_config_to_json(copy, &s2) == 0);
        FUZZ_CHECK(streq(s, s2));
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
        _cleanup_(oci_image_config_freep) OciImageConfig *c = calloc(1, sizeof(OciImageConfig));
        _cleanup_free_ char *input = fuzz_strndup(data, size);
        unsigned n = 0;
        char *p = input;
        int r = 0;

        FUZZ_CHECK(c);
        c->architecture = strdup("amd64");
        c->os = strdup("linux");
        FUZZ_CHECK(c->architecture && c->os);
        while (p && r >= 0 && n++ < CHANGES_MAX) {
                char *nl = strchr(p, '\n');

                if (nl)
                        *nl = 0;
                r = oci_image_config_apply_change(c, p);
                p = nl ? nl + 1 : NULL;
        }
        check_config(c, r >= 0);
        return 0;
}
