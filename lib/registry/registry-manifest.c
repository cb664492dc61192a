/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <string.h>

#include "json-util.h"
#include "registry-manifest.h"

const char registry_manifest_accept[] =
        "Accept: application/vnd.oci.image.index.v1+json, application/vnd.oci.image.manifest.v1+json, "
        "application/vnd.docker.distribution.manifest.list.v2+json, "
        "application/vnd.docker.distribution.manifest.v2+json";

void registry_manifest_done(RegistryManifest *m) {
        if (!m)
                return;
        m->data = mfree(m->data);
        m->size = 0;
}

/* "repo:tag" but "repo@sha256:..." */
static const char *sep(const char *ref) {
        return startswith(ref, "sha256:") ? "@" : ":";
}

static bool is_schema1_type(const char *t) {
        return t && (streq(t, "application/vnd.docker.distribution.manifest.v1+json") ||
                     streq(t, "application/vnd.docker.distribution.manifest.v1+prettyjws"));
}

static int refuse_schema1(const char *name, const char *ref) {
        return errmsg_set(-EMEDIUMTYPE, "%s%s%s is a Docker schema 1 manifest, which Berth refuses "
                          "(deprecated and unverifiable); push the image again with a current client.",
                          name, sep(ref), ref);
}

/* The document's own type; falls back to the Content-Type when it has no
 * "mediaType" (OCI allows that), and refuses the two disagreeing. */
static int manifest_type(const char *name, const char *ref, const char *content_type, const char *body,
                         size_t size, OciMediaType *ret) {
        json_auto_t *j = NULL;
        OciMediaType from_header = oci_media_type_from_string(content_type ?: ""), t;
        json_t *v;
        int r;

        r = json_parse_object("manifest", body, size, &j);
        if (r < 0)
                return errmsg_set(r, "%s%s%s: %s", name, sep(ref), ref, strempty(errmsg_last()));
        v = json_object_get(j, "schemaVersion");
        if (json_is_integer(v) && json_integer_value(v) == 1)
                return refuse_schema1(name, ref);
        if (!json_is_integer(v) || json_integer_value(v) != 2)
                return errmsg_set(-EMEDIUMTYPE, "%s%s%s: unsupported manifest schema version (only 2 is).",
                                  name, sep(ref), ref);
        r = oci_document_media_type(body, size, &t);
        if (r < 0)
                return errmsg_set(r, "%s%s%s: %s", name, sep(ref), ref, strempty(errmsg_last()));
        if (!json_object_get(j, "mediaType") && from_header >= 0 &&
            (oci_media_type_is_index(from_header) || oci_media_type_is_manifest(from_header)))
                t = from_header;
        else if (json_object_get(j, "mediaType") && from_header >= 0 && from_header != t &&
                 (oci_media_type_is_index(from_header) || oci_media_type_is_manifest(from_header)))
                return errmsg_set(-EBADMSG, "%s%s%s: the registry sent a %s as %s.", name, sep(ref), ref,
                                  oci_media_type_to_string(t), content_type);
        if (!oci_media_type_is_index(t) && !oci_media_type_is_manifest(t))
                return errmsg_set(-EMEDIUMTYPE, "%s%s%s: %s is not an image manifest or index.",
                                  name, sep(ref), ref,
                                  oci_media_type_to_string(t));
        *ret = t;
        return 0;
}

static int check_digests(const char *name, const char *ref, const char *dcd, const char *expected,
                         const char *actual) {
        if (expected && !streq(expected, actual))
                return errmsg_set(-EBADMSG, "%s%s%s: digest mismatch: asked for manifest %s, received %s.",
                                  name, sep(ref), ref, expected, actual);
        if (!isempty(dcd) && !streq(dcd, actual))
                return errmsg_set(-EBADMSG, "%s%s%s: digest mismatch: the registry says Docker-Content-Digest %s, "
                                  "the manifest received is %s.", name, sep(ref), ref, dcd, actual);
        return 0;
}

int registry_manifest_check(const char *name, const char *ref, const char *content_type,
                            const char *docker_content_digest, const char *expected_digest,
                            const void *body, size_t size, uint64_t max_size, RegistryManifest *ret) {
        RegistryManifest m = {};
        int r;

        if (size > max_size)
                return errmsg_set(-EFBIG, "%s%s%s: the manifest is larger than the limit of %llu bytes.",
                                  name, sep(ref), ref, (unsigned long long) max_size);
        if (is_schema1_type(content_type))
                return refuse_schema1(name, ref);
        r = sha256_digest_buffer(body, size, m.digest);
        if (r < 0)
                return r;
        r = check_digests(name, ref, docker_content_digest, expected_digest, m.digest);
        if (r < 0)
                return r;
        r = manifest_type(name, ref, content_type, body, size, &m.media_type);
        if (r < 0)
                return r;
        m.data = malloc(size + 1);
        if (!m.data)
                return -ENOMEM;
        memcpy(m.data, body, size);
        m.data[size] = 0;
        m.size = size;
        *ret = m;
        return 0;
}

static const char *arch_alias(const char *a) {
        if (streq(a, "x86_64") || streq(a, "x86-64"))
                return "amd64";
        if (streq(a, "aarch64"))
                return "arm64";
        if (streq(a, "i686") || streq(a, "i386"))
                return "386";
        return a;
}

int registry_platform_parse(const char *platform, char **ret_arch, char **ret_variant) {
        _cleanup_free_ char *copy = NULL, *arch = NULL, *variant = NULL;
        char *os, *a, *v;

        if (isempty(platform)) {
                *ret_arch = *ret_variant = NULL;
                return 0;
        }
        copy = strdup(platform);
        if (!copy)
                return -ENOMEM;
        os = copy;
        a = strchr(os, '/');
        if (!a || a == os || !a[1])
                return errmsg_set(-EINVAL, "Invalid platform \"%s\": expected os/arch[/variant].", platform);
        *a++ = 0;
        v = strchr(a, '/');
        if (v) {
                *v++ = 0;
                if (!*v || strchr(v, '/'))
                        return errmsg_set(-EINVAL, "Invalid platform \"%s\": expected os/arch[/variant].",
                                          platform);
        }
        if (!streq(os, "linux"))
                return errmsg_set(-ENODATA, "Platform \"%s\": only linux images run here.", platform);
        arch = strdup(arch_alias(a));
        variant = v ? strdup(v) : NULL;
        if (!arch || (v && !variant))
                return -ENOMEM;
        *ret_arch = TAKE_PTR(arch);
        *ret_variant = TAKE_PTR(variant);
        return 0;
}

int registry_manifest_select(const char *name, const OciIndex *index, const char *platform, size_t *ret) {
        _cleanup_free_ char *arch = NULL, *variant = NULL;
        int r;

        r = registry_platform_parse(platform, &arch, &variant);
        if (r < 0)
                return r;
        r = oci_index_select_platform(index, arch, variant, ret);
        if (r == -ENOENT)
                return errmsg_set(-ENODATA, "%s: %s", name, strempty(errmsg_last()));
        return r;
}
