/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <sys/utsname.h>

#include "json-util.h"
#include "oci.h"
#include "sysinfo.h"

static const char *const oci_media_type_table[_OCI_MEDIA_TYPE_MAX] = {
        [OCI_MEDIA_OCI_INDEX] = "application/vnd.oci.image.index.v1+json",
        [OCI_MEDIA_OCI_MANIFEST] = "application/vnd.oci.image.manifest.v1+json",
        [OCI_MEDIA_OCI_CONFIG] = "application/vnd.oci.image.config.v1+json",
        [OCI_MEDIA_OCI_LAYER] = "application/vnd.oci.image.layer.v1.tar",
        [OCI_MEDIA_OCI_LAYER_GZIP] = "application/vnd.oci.image.layer.v1.tar+gzip",
        [OCI_MEDIA_OCI_LAYER_ZSTD] = "application/vnd.oci.image.layer.v1.tar+zstd",
        [OCI_MEDIA_OCI_LAYER_NONDIST] = "application/vnd.oci.image.layer.nondistributable.v1.tar",
        [OCI_MEDIA_OCI_LAYER_NONDIST_GZIP] = "application/vnd.oci.image.layer.nondistributable.v1.tar+gzip",
        [OCI_MEDIA_OCI_LAYER_NONDIST_ZSTD] = "application/vnd.oci.image.layer.nondistributable.v1.tar+zstd",
        [OCI_MEDIA_DOCKER_MANIFEST_LIST] = "application/vnd.docker.distribution.manifest.list.v2+json",
        [OCI_MEDIA_DOCKER_MANIFEST] = "application/vnd.docker.distribution.manifest.v2+json",
        [OCI_MEDIA_DOCKER_CONFIG] = "application/vnd.docker.container.image.v1+json",
        [OCI_MEDIA_DOCKER_LAYER] = "application/vnd.docker.image.rootfs.diff.tar",
        [OCI_MEDIA_DOCKER_LAYER_GZIP] = "application/vnd.docker.image.rootfs.diff.tar.gzip",
        [OCI_MEDIA_DOCKER_LAYER_FOREIGN_GZIP] = "application/vnd.docker.image.rootfs.foreign.diff.tar.gzip",
};

DEFINE_STRING_TABLE_LOOKUP(oci_media_type, OciMediaType);

bool oci_media_type_is_index(OciMediaType t) {
        return IN_SET(t, OCI_MEDIA_OCI_INDEX, OCI_MEDIA_DOCKER_MANIFEST_LIST);
}

bool oci_media_type_is_manifest(OciMediaType t) {
        return IN_SET(t, OCI_MEDIA_OCI_MANIFEST, OCI_MEDIA_DOCKER_MANIFEST);
}

bool oci_media_type_is_config(OciMediaType t) {
        return IN_SET(t, OCI_MEDIA_OCI_CONFIG, OCI_MEDIA_DOCKER_CONFIG);
}

bool oci_media_type_is_layer(OciMediaType t) {
        return t >= OCI_MEDIA_OCI_LAYER && t < _OCI_MEDIA_TYPE_MAX && !oci_media_type_is_index(t) &&
               !oci_media_type_is_manifest(t) && !oci_media_type_is_config(t);
}

void oci_platform_done(OciPlatform *p) {
        free(p->architecture);
        free(p->os);
        free(p->variant);
        *p = (OciPlatform) {};
}

void oci_descriptor_done(OciDescriptor *d) {
        free(d->ref_name);
        oci_platform_done(&d->platform);
        *d = (OciDescriptor) {};
}

static void descriptors_free(OciDescriptor *d, size_t n) {
        for (size_t i = 0; i < n; i++)
                oci_descriptor_done(&d[i]);
        free(d);
}

OciIndex *oci_index_free(OciIndex *i) {
        if (!i)
                return NULL;
        descriptors_free(i->manifests, i->n_manifests);
        free(i);
        return NULL;
}

OciManifest *oci_manifest_free(OciManifest *m) {
        if (!m)
                return NULL;
        oci_descriptor_done(&m->config);
        descriptors_free(m->layers, m->n_layers);
        free(m);
        return NULL;
}

static int parse_media_type(const char *what, const char *s, OciMediaType *ret) {
        OciMediaType t = oci_media_type_from_string(s);

        if (t < 0)
                return errmsg_set(-EMEDIUMTYPE, "Unsupported media type \"%s\" in %s.", s, what);
        *ret = t;
        return 0;
}

static int parse_platform(const char *what, json_t *o, OciDescriptor *d) {
        json_t *p = json_object_get(o, "platform");
        int r;

        if (!p || json_is_null(p))
                return 0;
        if (!json_is_object(p))
                return errmsg_set(-EBADMSG, "Malformed %s: \"platform\" must be an object.", what);
        d->has_platform = true;
        r = json_dup_string(what, p, "architecture", true, &d->platform.architecture);
        if (r >= 0)
                r = json_dup_string(what, p, "os", true, &d->platform.os);
        if (r >= 0)
                r = json_dup_string(what, p, "variant", false, &d->platform.variant);
        return r;
}

/* lenient_type: keep descriptors of unknown media type (index entries such as
 * attestations), marked _OCI_MEDIA_TYPE_INVALID, instead of failing. */
static int parse_descriptor(const char *what, json_t *o, bool lenient_type, OciDescriptor *d) {
        const char *mt, *digest, *ref = NULL;
        json_t *ann;
        int r;

        if (!json_is_object(o))
                return errmsg_set(-EBADMSG, "Malformed %s: descriptor must be an object.", what);
        r = json_get_string(what, o, "mediaType", true, &mt);
        if (r < 0)
                return r;
        d->media_type = oci_media_type_from_string(mt);
        if (d->media_type < 0 && !lenient_type)
                return parse_media_type(what, mt, &d->media_type);
        r = json_get_string(what, o, "digest", true, &digest);
        if (r < 0)
                return r;
        if (digest_validate(digest) < 0)
                return errmsg_set(-EBADMSG, "Malformed %s: unsupported or invalid digest \"%s\".", what, digest);
        strcpy(d->digest, digest);
        r = json_get_uint64(what, o, "size", true, &d->size);
        if (r < 0)
                return r;
        ann = json_object_get(o, "annotations");
        if (json_is_object(ann)) {
                r = json_get_string(what, ann, "org.opencontainers.image.ref.name", false, &ref);
                if (r < 0)
                        return r;
                if (ref && !(d->ref_name = strdup(ref)))
                        return -ENOMEM;
        }
        return parse_platform(what, o, d);
}

static int parse_descriptor_array(const char *what, json_t *o, const char *key, bool lenient_type,
                                  OciDescriptor **ret, size_t *ret_n) {
        json_t *a = json_object_get(o, key), *e;
        OciDescriptor *d;
        size_t i;
        int r;

        if (!a)
                return errmsg_set(-EBADMSG, "Malformed %s: missing field \"%s\".", what, key);
        if (!json_is_array(a))
                return errmsg_set(-EBADMSG, "Malformed %s: field \"%s\" must be an array.", what, key);
        d = calloc(json_array_size(a) + 1, sizeof *d);
        if (!d)
                return -ENOMEM;
        *ret = d;
        *ret_n = 0;
        json_array_foreach(a, i, e) {
                r = parse_descriptor(what, e, lenient_type, &d[i]);
                *ret_n = i + 1;
                if (r < 0)
                        return r;
        }
        return 0;
}

static int check_schema_version(const char *what, json_t *j) {
        json_t *v = json_object_get(j, "schemaVersion");

        if (!v)
                return errmsg_set(-EBADMSG, "Malformed %s: missing field \"schemaVersion\".", what);
        if (!json_is_integer(v))
                return errmsg_set(-EBADMSG, "Malformed %s: field \"schemaVersion\" must be an integer.", what);
        if (json_integer_value(v) != 2)
                return errmsg_set(-EMEDIUMTYPE, "Unsupported %s schema version %lld (only 2 is supported).",
                                  what, (long long) json_integer_value(v));
        return 0;
}

static int document_type(const char *what, json_t *j, OciMediaType *ret) {
        const char *mt;
        int r;

        r = json_get_string(what, j, "mediaType", false, &mt);
        if (r < 0)
                return r;
        if (mt)
                return parse_media_type(what, mt, ret);
        if (json_object_get(j, "manifests"))
                *ret = OCI_MEDIA_OCI_INDEX;
        else if (json_object_get(j, "config") || json_object_get(j, "layers"))
                *ret = OCI_MEDIA_OCI_MANIFEST;
        else
                return errmsg_set(-EMEDIUMTYPE, "Cannot tell the type of %s: no \"mediaType\".", what);
        return 0;
}

int oci_document_media_type(const char *json, size_t size, OciMediaType *ret) {
        json_auto_t *j = NULL;
        int r;

        r = json_parse_object("document", json, size, &j);
        if (r < 0)
                return r;
        return document_type("document", j, ret);
}

int oci_index_parse(const char *json, size_t size, OciIndex **ret) {
        _cleanup_(oci_index_freep) OciIndex *i = NULL;
        json_auto_t *j = NULL;
        int r;

        r = json_parse_object("image index", json, size, &j);
        if (r < 0)
                return r;
        i = calloc(1, sizeof *i);
        if (!i)
                return -ENOMEM;
        r = check_schema_version("image index", j);
        if (r < 0)
                return r;
        r = document_type("image index", j, &i->media_type);
        if (r < 0)
                return r;
        if (!oci_media_type_is_index(i->media_type))
                return errmsg_set(-EMEDIUMTYPE, "Expected an image index, got media type \"%s\".",
                                  oci_media_type_to_string(i->media_type));
        r = parse_descriptor_array("image index", j, "manifests", true, &i->manifests, &i->n_manifests);
        if (r < 0)
                return r;
        *ret = TAKE_PTR(i);
        return 0;
}

int oci_manifest_parse(const char *json, size_t size, OciManifest **ret) {
        _cleanup_(oci_manifest_freep) OciManifest *m = NULL;
        json_auto_t *j = NULL;
        json_t *c;
        int r;

        r = json_parse_object("image manifest", json, size, &j);
        if (r < 0)
                return r;
        m = calloc(1, sizeof *m);
        if (!m)
                return -ENOMEM;
        r = check_schema_version("image manifest", j);
        if (r < 0)
                return r;
        r = document_type("image manifest", j, &m->media_type);
        if (r < 0)
                return r;
        if (!oci_media_type_is_manifest(m->media_type))
                return errmsg_set(-EMEDIUMTYPE, "Expected an image manifest, got media type \"%s\".",
                                  oci_media_type_to_string(m->media_type));
        c = json_object_get(j, "config");
        if (!c)
                return errmsg_set(-EBADMSG, "Malformed image manifest: missing field \"config\".");
        r = parse_descriptor("image manifest config", c, false, &m->config);
        if (r < 0)
                return r;
        if (!oci_media_type_is_config(m->config.media_type))
                return errmsg_set(-EMEDIUMTYPE, "Unsupported config media type \"%s\" in image manifest.",
                                  oci_media_type_to_string(m->config.media_type));
        r = parse_descriptor_array("image manifest", j, "layers", false, &m->layers, &m->n_layers);
        if (r < 0)
                return r;
        for (size_t k = 0; k < m->n_layers; k++)
                if (!oci_media_type_is_layer(m->layers[k].media_type))
                        return errmsg_set(-EMEDIUMTYPE, "Unsupported layer media type \"%s\" in image manifest.",
                                          oci_media_type_to_string(m->layers[k].media_type));
        *ret = TAKE_PTR(m);
        return 0;
}

static json_t *descriptor_to_json(const OciDescriptor *d) {
        json_t *o = json_object(), *p;

        if (!o)
                return NULL;
        if (json_set_string(o, "mediaType", oci_media_type_to_string(d->media_type)) < 0 ||
            json_set_string(o, "digest", d->digest) < 0 ||
            json_object_set_new(o, "size", json_integer((json_int_t) d->size)) < 0)
                goto fail;
        if (d->ref_name &&
            json_object_set_new(o, "annotations",
                                json_pack("{ss}", "org.opencontainers.image.ref.name", d->ref_name)) < 0)
                goto fail;
        if (d->has_platform) {
                p = json_object();
                if (!p || json_object_set_new(o, "platform", p) < 0 ||
                    json_set_string(p, "architecture", d->platform.architecture) < 0 ||
                    json_set_string(p, "os", d->platform.os) < 0 ||
                    json_set_string(p, "variant", d->platform.variant) < 0)
                        goto fail;
        }
        return o;
fail:
        json_decref(o);
        return NULL;
}

static json_t *descriptor_array(const OciDescriptor *d, size_t n) {
        json_t *a = json_array();

        for (size_t i = 0; a && i < n; i++)
                if (json_array_append_new(a, descriptor_to_json(&d[i])) < 0) {
                        json_decref(a);
                        return NULL;
                }
        return a;
}

int oci_index_to_json(const OciIndex *i, char **ret) {
        json_auto_t *j = json_pack("{si,ss,so*}", "schemaVersion", 2,
                                   "mediaType", oci_media_type_to_string(i->media_type),
                                   "manifests", descriptor_array(i->manifests, i->n_manifests));

        if (!j || !json_object_get(j, "manifests"))
                return -ENOMEM;
        return json_dump_string(j, ret);
}

int oci_manifest_to_json(const OciManifest *m, char **ret) {
        json_auto_t *j = json_pack("{si,ss,so*,so*}", "schemaVersion", 2,
                                   "mediaType", oci_media_type_to_string(m->media_type),
                                   "config", descriptor_to_json(&m->config),
                                   "layers", descriptor_array(m->layers, m->n_layers));

        if (!j || !json_object_get(j, "config") || !json_object_get(j, "layers"))
                return -ENOMEM;
        return json_dump_string(j, ret);
}

static const char *host_variant(const char *arch) {
        struct utsname u;

        if (streq(arch, "arm64"))
                return "v8";
        if (!streq(arch, "arm") || uname(&u) < 0)
                return NULL;
        if (startswith(u.machine, "armv7"))
                return "v7";
        if (startswith(u.machine, "armv6"))
                return "v6";
        return NULL;
}

/* 0: no match; higher is better. */
static int platform_score(const OciPlatform *p, const char *arch, const char *variant) {
        if (!streq_ptr(p->os, "linux") || !streq_ptr(p->architecture, arch))
                return 0;
        if (streq_ptr(p->variant, variant))
                return 300;
        if (!p->variant || !variant)
                return 200;
        /* An armv7 machine runs v6 and v5 code: the newest such variant wins. */
        if (streq(arch, "arm") && strcmp(p->variant, variant) < 0)
                return 100 + (p->variant[0] == 'v' ? atoi(p->variant + 1) : 0);
        return 0;
}

int oci_index_select_platform(const OciIndex *i, const char *arch, const char *variant, size_t *ret) {
        _cleanup_strv_free_ char **offered = NULL;
        _cleanup_free_ char *list = NULL;
        int best = 0;
        size_t best_idx = 0;

        if (!arch) {
                arch = oci_host_architecture();
                variant = host_variant(arch);
        }
        for (size_t k = 0; k < i->n_manifests; k++) {
                const OciDescriptor *d = &i->manifests[k];
                int s;

                if (!oci_media_type_is_manifest(d->media_type))
                        continue;
                if (!d->has_platform) {
                        /* An unlabelled manifest (OCI layouts written by tools) fits anything. */
                        s = 1;
                } else {
                        s = platform_score(&d->platform, arch, variant);
                        if (strv_consume(&offered, strjoin(strempty(d->platform.os), "/",
                                                           strempty(d->platform.architecture),
                                                           d->platform.variant ? "/" : "",
                                                           strempty(d->platform.variant))) < 0)
                                return -ENOMEM;
                }
                if (s > best) {
                        best = s;
                        best_idx = k;
                }
        }
        if (best == 0) {
                list = strv_join(offered, ", ");
                return errmsg_set(-ENOENT, "No image for platform linux/%s%s%s in the index (it offers: %s).",
                                  arch, variant ? "/" : "", strempty(variant),
                                  isempty(list) ? "nothing usable" : list);
        }
        *ret = best_idx;
        return 0;
}
