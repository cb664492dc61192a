/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Mount specs in the three spellings of the Docker CLI. */
#include <fcntl.h>

#include "mount-spec.h"

/* Absolute, no ".." component, no control characters; "/" only as a source. */
static bool mount_path_is_valid(const char *p, bool allow_root) {
        if (isempty(p) || p[0] != '/' || string_has_cc(p) || strlen(p) > 4096)
                return false;
        if (!allow_root && strspn(p, "/") == strlen(p))
                return false;
        for (const char *s = p; (s = strstr(s, "..")); s += 2)
                if (s[-1] == '/' && (s[2] == '/' || s[2] == 0))
                        return false;
        return true;
}

static int parse_mode(const char *s, uint32_t *ret) {
        char *end;
        unsigned long v;

        if (isempty(s))
                return -EINVAL;
        errno = 0;
        v = strtoul(s, &end, 8);
        if (errno > 0 || *end || v > 07777)
                return -EINVAL;
        *ret = (uint32_t) v;
        return 0;
}

static int finish_spec(MountSpec *s, MountSpec *ret) {
        if (!mount_path_is_valid(s->target, false) ||
            (s->type == MOUNT_TYPE_BIND && !mount_path_is_valid(s->source, true)) ||
            (s->type == MOUNT_TYPE_TMPFS && s->source)) {
                mount_spec_done(s);
                return -EINVAL;
        }
        *ret = *s;
        return 0;
}

int mount_spec_parse_volume(const char *s, MountSpec *ret) {
        _cleanup_strv_free_ char **parts = NULL;
        _cleanup_free_ char *copy = strdup(strempty(s));
        MountSpec m = { .type = MOUNT_TYPE_BIND };
        char *save = NULL;

        if (!copy)
                return -ENOMEM;
        for (char *t = strtok_r(copy, ":", &save); t; t = strtok_r(NULL, ":", &save))
                if (strv_extend(&parts, t) < 0)
                        return -ENOMEM;
        /* Named and anonymous volumes are the volume module's business. */
        if (strv_length(parts) < 2 || strv_length(parts) > 3 || s[strlen(s) - 1] == ':' || strstr(s, "::"))
                return -EINVAL;
        if (parts[2]) {
                _cleanup_free_ char *opts = strdup(parts[2]);
                char *save2 = NULL;

                if (!opts)
                        return -ENOMEM;
                for (char *o = strtok_r(opts, ",", &save2); o; o = strtok_r(NULL, ",", &save2))
                        if (streq(o, "ro"))
                                m.read_only = true;
                        else if (streq(o, "rw"))
                                m.read_only = false;
                        else
                                return -EINVAL;
        }
        m.source = strdup(parts[0]);
        m.target = strdup(parts[1]);
        if (!m.source || !m.target) {
                mount_spec_done(&m);
                return -ENOMEM;
        }
        return finish_spec(&m, ret);
}

/* Splits tmpfs options into size, mode, ro and the rest (kept for mount(2)). */
static int parse_tmpfs_options(MountSpec *m, const char *opts) {
        _cleanup_free_ char *copy = strdup(opts);
        _cleanup_strv_free_ char **rest = NULL;
        static const char *const passthrough[] = { "noexec", "exec", "nosuid", "suid", "nodev", "dev" };
        char *save = NULL, *v;
        int r;

        if (!copy)
                return -ENOMEM;
        for (char *o = strtok_r(copy, ",", &save); o; o = strtok_r(NULL, ",", &save)) {
                bool known = false;

                if ((v = (char *) startswith(o, "size=")))
                        r = parse_size(v, 1024, &m->tmpfs_size);
                else if ((v = (char *) startswith(o, "mode=")))
                        r = parse_mode(v, &m->tmpfs_mode);
                else if (streq(o, "ro") || streq(o, "rw"))
                        r = (m->read_only = streq(o, "ro"), 0);
                else {
                        for (size_t i = 0; i < ELEMENTSOF(passthrough); i++)
                                known = known || streq(o, passthrough[i]);
                        r = known ? strv_extend(&rest, o) : -EINVAL;
                }
                if (r < 0)
                        return r == -ENOMEM ? r : -EINVAL;
        }
        if (rest) {
                m->options = strv_join(rest, ",");
                if (!m->options)
                        return -ENOMEM;
        }
        return 0;
}

int mount_spec_parse_tmpfs(const char *s, MountSpec *ret) {
        MountSpec m = { .type = MOUNT_TYPE_TMPFS };
        const char *colon;
        int r;

        if (isempty(s))
                return -EINVAL;
        colon = strchr(s, ':');
        m.target = colon ? strndup(s, (size_t) (colon - s)) : strdup(s);
        if (!m.target)
                return -ENOMEM;
        if (colon) {
                r = isempty(colon + 1) ? -EINVAL : parse_tmpfs_options(&m, colon + 1);
                if (r < 0) {
                        mount_spec_done(&m);
                        return r;
                }
        }
        return finish_spec(&m, ret);
}

static int parse_mount_field(MountSpec *m, const char *key, const char *value, bool *have_type) {
        int r;

        if (streq(key, "type")) {
                if (*have_type || !value || mount_type_from_string(value) < 0)
                        return -EINVAL;
                m->type = mount_type_from_string(value);
                *have_type = true;
                return 0;
        }
        if (IN_SET(true, streq(key, "readonly"), streq(key, "ro"))) {
                r = value ? parse_boolean(value) : 1;
                if (r < 0)
                        return r;
                m->read_only = r;
                return 0;
        }
        if (!value)
                return -EINVAL;
        if (streq(key, "source") || streq(key, "src"))
                return m->source ? -EINVAL : free_and_strdup(&m->source, value);
        if (streq(key, "target") || streq(key, "destination") || streq(key, "dst"))
                return m->target ? -EINVAL : free_and_strdup(&m->target, value);
        if (streq(key, "tmpfs-size"))
                return parse_size(value, 1024, &m->tmpfs_size);
        if (streq(key, "tmpfs-mode"))
                return parse_mode(value, &m->tmpfs_mode);
        return -EINVAL;
}

int mount_spec_parse_mount(const char *s, MountSpec *ret) {
        _cleanup_free_ char *copy = strdup(strempty(s));
        MountSpec m = { .type = _MOUNT_TYPE_INVALID };
        bool have_type = false;
        char *save = NULL;
        int r = 0;

        if (!copy)
                return -ENOMEM;
        for (char *f = strtok_r(copy, ",", &save); f && r >= 0; f = strtok_r(NULL, ",", &save)) {
                char *eq = strchr(f, '=');

                if (eq)
                        *eq++ = 0;
                r = parse_mount_field(&m, f, eq, &have_type);
        }
        if (r >= 0 && !have_type)
                r = -EINVAL;
        /* tmpfs-only fields on a bind mount are a mistake worth reporting. */
        if (r >= 0 && m.type == MOUNT_TYPE_BIND && (m.tmpfs_size || m.tmpfs_mode))
                r = -EINVAL;
        if (r < 0) {
                mount_spec_done(&m);
                return r == -ENOMEM ? r : -EINVAL;
        }
        return finish_spec(&m, ret);
}
