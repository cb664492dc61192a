/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Image index, manifest and config JSON (lib/oci.c, lib/oci-config.c): the
 * input is one document, tried as each kind. Whatever parses must print to
 * JSON that parses again and prints the same (the store keeps documents in
 * the form oci_*_to_json() gives them and reads them back). */
#include "fuzz.h"
#include "oci.h"
#include "util.h"

static void fuzz_index(const char *json, size_t size) {
        _cleanup_(oci_index_freep) OciIndex *i = NULL, *again = NULL;
        _cleanup_free_ char *s = NULL, *s2 = NULL;
        size_t k;

        if (oci_index_parse(json, size, &i) < 0)
                return;
        FUZZ_CHECK(oci_media_type_is_index(i->media_type));
        FUZZ_CHECK(oci_index_to_json(i, &s) == 0);
        /* Entries of unknown media type (attestations) are kept only to be
         * skipped and print without their type: only indexes that Berth
         * writes itself (image save) need to round-trip. */
        for (k = 0; k < i->n_manifests; k++)
                if (i->manifests[k].media_type < 0)
                        break;
        if (k == i->n_manifests) {
                FUZZ_CHECK(oci_index_parse(s, strlen(s), &again) == 0);
                FUZZ_CHECK(oci_index_to_json(again, &s2) == 0);
                FUZZ_CHECK(streq(s, s2));
        }

        if (oci_index_select_platform(i, NULL, NULL, &k) == 0)
                FUZZ_CHECK(k < i->n_manifests);
        if (oci_index_select_platform(i, "arm", "v7", &k) == 0)
                FUZZ_CHECK(k < i->n_manifests);
        if (oci_index_select_platform(i, "arm64", NULL, &k) == 0)
                FUZZ_CHECK(k < i->n_manifests);
}

static void fuzz_manifest(const char *json, size_t size) {
        _cleanup_(oci_manifest_freep) OciManifest *m = NULL, *again = NULL;
        _cleanup_free_ char *s = NULL, *s2 = NULL;

        if (oci_manifest_parse(json, size, &m) < 0)
                return;
        FUZZ_CHECK(oci_media_type_is_manifest(m->media_type));
        FUZZ_CHECK(oci_media_type_is_config(m->config.media_type));
        for (size_t k = 0; k < m->n_layers; k++)
                FUZZ_CHECK(oci_media_type_is_layer(m->layers[k].media_type));
        FUZZ_CHECK(oci_manifest_to_json(m, &s) == 0);
        FUZZ_CHECK(oci_manifest_parse(s, strlen(s), &again) == 0);
        FUZZ_CHECK(oci_manifest_to_json(again, &s2) == 0);
        FUZZ_CHECK(streq(s, s2));
}

static void fuzz_config(const char *json, size_t size) {
        _cleanup_(oci_image_config_freep) OciImageConfig *c = NULL, *copy = NULL;
        _cleanup_free_ char *s = NULL, *s2 = NULL;
        char chain[DIGEST_STRING_MAX], parent[DIGEST_STRING_MAX] = "";

        if (oci_image_config_parse(json, size, &c) < 0)
                return;
        FUZZ_CHECK(c->architecture && c->os);
        FUZZ_CHECK(oci_image_config_to_json(c, &s) == 0);
        FUZZ_CHECK(oci_image_config_copy(c, &copy) == 0);
        FUZZ_CHECK(oci_image_config_to_json(copy, &s2) == 0);
        FUZZ_CHECK(streq(s, s2));

        /* What the store computes from a config it accepted. */
        STRV_FOREACH(d, c->diff_ids) {
                FUZZ_CHECK(oci_chain_id(parent[0] ? parent : NULL, *d, chain) == 0);
                memcpy(parent, chain, sizeof chain);
        }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
        const char *json = (const char *) data;
        OciMediaType t;

        if (oci_document_media_type(json, size, &t) == 0)
                FUZZ_CHECK(t >= 0 && t < _OCI_MEDIA_TYPE_MAX);
        fuzz_index(json, size);
        fuzz_manifest(json, size);
        fuzz_config(json, size);
        return 0;
}
