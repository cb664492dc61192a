/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* A registry's answer to GET manifests/<ref> (lib/registry/registry-manifest.c):
 * the first byte picks the Content-Type the registry claims, the rest is the
 * body. Whatever is accepted must be an index or a manifest whose digest is
 * the bytes' own; the same bytes with a wrong expected digest, or over the
 * size limit, must be refused; an accepted index must give a platform
 * choice inside it. */
#include "fuzz.h"
#include "registry-manifest.h"
#include "util.h"

static const char * const content_types[] = {
        NULL,
        "application/json",
        "application/vnd.oci.image.index.v1+json",
        "application/vnd.oci.image.manifest.v1+json",
        "application/vnd.docker.distribution.manifest.list.v2+json",
        "application/vnd.docker.distribution.manifest.v2+json",
        "application/vnd.docker.distribution.manifest.v1+prettyjws",
        "application/vnd.docker.distribution.manifest.v1+json",
};

#define WRONG "sha256:0000000000000000000000000000000000000000000000000000000000000000"

static void fuzz_select(const RegistryManifest *m) {
        _cleanup_(oci_index_freep) OciIndex *i = NULL;
        size_t k;

        if (oci_index_parse(m->data, m->size, &i) < 0)
                return;
        FOREACH_STRING(p, "linux/amd64", "linux/arm/v7", "linux/arm64", "linux/riscv64")
                if (registry_manifest_select("fuzz/x", i, p, &k) == 0)
                        FUZZ_CHECK(k < i->n_manifests);
        if (registry_manifest_select("fuzz/x", i, NULL, &k) == 0)
                FUZZ_CHECK(k < i->n_manifests);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
        RegistryManifest m = {}, again = {};
        char digest[DIGEST_STRING_MAX];
        const char *ct;
        int r;

        if (size < 1)
                return 0;
        ct = content_types[data[0] % ELEMENTSOF(content_types)];
        data++;
        size--;
        FUZZ_CHECK(sha256_digest_buffer(data, size, digest) == 0);
        r = registry_manifest_check("fuzz/x", "latest", ct, NULL, NULL, data, size, 1 << 20, &m);
        if (r < 0) {
                FUZZ_CHECK(errmsg_last());
                FUZZ_CHECK(!m.data);
                return 0;
        }
        FUZZ_CHECK(streq(m.digest, digest));
        FUZZ_CHECK(m.size == size && memcmp(m.data, data, size) == 0);
        FUZZ_CHECK(oci_media_type_is_index(m.media_type) || oci_media_type_is_manifest(m.media_type));
        FUZZ_CHECK(!ct || !strstr(ct, "distribution.manifest.v1"));
        FUZZ_CHECK(registry_manifest_check("fuzz/x", digest, ct, digest, digest, data, size, 1 << 20, &again) == 0);
        registry_manifest_done(&again);
        FUZZ_CHECK(registry_manifest_check("fuzz/x", "latest", ct, NULL, WRONG, data, size, 1 << 20, &again) ==
                   -EBADMSG);
        FUZZ_CHECK(registry_manifest_check("fuzz/x", "latest", ct, WRONG, NULL, data, size, 1 << 20, &again) ==
                   -EBADMSG);
        FUZZ_CHECK(registry_manifest_check("fuzz/x", "latest", ct, NULL, NULL, data, size, size - 1, &again) ==
                   -EFBIG);
        if (oci_media_type_is_index(m.media_type))
                fuzz_select(&m);
        registry_manifest_done(&m);
        return 0;
}
