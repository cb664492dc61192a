/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <ctype.h>
#include <strings.h>

#include "json-util.h"
#include "oci.h"

/* Dockerfile-like instructions for docker import --change. Only the
 * instructions that change the config are meaningful here. */

static int parse_json_array(const char *instr, const char *s, char ***ret) {
        json_auto_t *j = NULL;
        json_t *e;
        _cleanup_strv_free_ char **l = NULL;
        size_t i;

        j = json_loads(s, 0, NULL);
        if (!json_is_array(j))
                return errmsg_set(-EINVAL, "%s: malformed JSON array \"%s\".", instr, s);
        l = calloc(1, sizeof(char *));
        if (!l)
                return -ENOMEM;
        json_array_foreach(j, i, e) {
                if (!json_is_string(e))
                        return errmsg_set(-EINVAL, "%s: element %zu is not a string.", instr, i);
                if (strv_extend(&l, json_string_value(e)) < 0)
                        return -ENOMEM;
        }
        *ret = TAKE_PTR(l);
        return 0;
}

/* Splits on whitespace, honouring "double quotes" and backslash escapes. */
static int split_words(const char *instr, const char *s, char ***ret) {
        _cleanup_strv_free_ char **l = NULL;
        _cleanup_free_ char *w = malloc(strlen(s) + 1);

        if (!w)
                return -ENOMEM;
        for (const char *p = s;;) {
                bool quoted = false, any = false;
                size_t n = 0;

                while (isspace((unsigned char) *p))
                        p++;
                if (!*p)
                        break;
                for (; *p && (quoted || !isspace((unsigned char) *p)); p++) {
                        any = true;
                        if (*p == '"')
                                quoted = !quoted;
                        else if (*p == '\\' && p[1])
                                w[n++] = *++p;
                        else
                                w[n++] = *p;
                }
                if (quoted)
                        return errmsg_set(-EINVAL, "%s: unterminated quote.", instr);
                w[n] = 0;
                if (any && strv_extend(&l, w) < 0)
                        return -ENOMEM;
        }
        *ret = TAKE_PTR(l);
        return 0;
}

static int command_value(const char *instr, const char *arg, char ***ret) {
        _cleanup_strv_free_ char **l = NULL;

        if (arg[0] == '[')
                return parse_json_array(instr, arg, ret);
        if (strv_extend(&l, "/bin/sh") < 0 || strv_extend(&l, "-c") < 0 || strv_extend(&l, arg) < 0)
                return -ENOMEM;
        *ret = TAKE_PTR(l);
        return 0;
}

static int set_key_value(char ***l, const char *key, const char *value, bool pairs) {
        size_t klen = strlen(key);

        /* env: "K=V" entries; labels: key, value pairs. */
        for (char **p = *l; p && *p; p += pairs ? 2 : 1) {
                if (pairs && streq(p[0], key))
                        return free_and_strdup(&p[1], value);
                if (!pairs && strneq(*p, key, klen) && (*p)[klen] == '=') {
                        char *e = strjoin(key, "=", value);
                        if (!e)
                                return -ENOMEM;
                        free(*p);
                        *p = e;
                        return 0;
                }
        }
        if (pairs)
                return strv_extend(l, key) < 0 || strv_extend(l, value) < 0 ? -ENOMEM : 0;
        return strv_consume(l, strjoin(key, "=", value));
}

static int apply_key_values(const char *instr, const char *arg, char ***l, bool pairs) {
        _cleanup_strv_free_ char **words = NULL;
        int r;

        r = split_words(instr, arg, &words);
        if (r < 0)
                return r;
        if (strv_length(words) == 0)
                return errmsg_set(-EINVAL, "%s needs KEY=VALUE.", instr);
        /* "ENV KEY VALUE with spaces": the old single-pair form. */
        if (!strchr(words[0], '=')) {
                const char *rest = arg + strcspn(arg, " \t");
                rest += strspn(rest, " \t");
                if (isempty(rest))
                        return errmsg_set(-EINVAL, "%s %s: missing value.", instr, words[0]);
                return set_key_value(l, words[0], rest, pairs);
        }
        STRV_FOREACH(w, words) {
                char *eq = strchr(*w, '=');
                if (!eq || eq == *w)
                        return errmsg_set(-EINVAL, "%s: \"%s\" is not KEY=VALUE.", instr, *w);
                *eq = 0;
                r = set_key_value(l, *w, eq + 1, pairs);
                if (r < 0)
                        return r;
        }
        return 0;
}

static int apply_expose(const char *arg, OciImageConfig *c) {
        _cleanup_strv_free_ char **words = NULL;
        int r;

        r = split_words("EXPOSE", arg, &words);
        if (r < 0)
                return r;
        STRV_FOREACH(w, words) {
                size_t n = strspn(*w, "0123456789-");
                const char *proto = (*w)[n] == '/' ? *w + n + 1 : (*w)[n] ? NULL : "tcp";
                _cleanup_free_ char *port = NULL, *p = NULL;

                if (n == 0 || !proto || !(streq(proto, "tcp") || streq(proto, "udp") || streq(proto, "sctp")))
                        return errmsg_set(-EINVAL, "EXPOSE: invalid port \"%s\".", *w);
                port = strndup(*w, n);
                p = port ? strjoin(port, "/", proto) : NULL;
                if (!p)
                        return -ENOMEM;
                if (strv_contains(c->exposed_ports, p))
                        continue;
                if (strv_consume(&c->exposed_ports, TAKE_PTR(p)) < 0)
                        return -ENOMEM;
        }
        strv_sort(c->exposed_ports);
        return 0;
}

static int apply_volume(const char *arg, OciImageConfig *c) {
        _cleanup_strv_free_ char **l = NULL;
        int r;

        r = arg[0] == '[' ? parse_json_array("VOLUME", arg, &l) : split_words("VOLUME", arg, &l);
        if (r < 0)
                return r;
        STRV_FOREACH(v, l)
                if (!strv_contains(c->volumes, *v) && strv_extend(&c->volumes, *v) < 0)
                        return -ENOMEM;
        strv_sort(c->volumes);
        return 0;
}

static int apply_workdir(const char *arg, OciImageConfig *c) {
        char *w;

        if (arg[0] == '/' || isempty(c->working_dir))
                w = strjoin(arg[0] == '/' ? "" : "/", arg);
        else
                w = strjoin(c->working_dir, endswith(c->working_dir, "/") ? "" : "/", arg);
        if (!w)
                return -ENOMEM;
        free(c->working_dir);
        c->working_dir = w;
        return 0;
}

static int apply_string(const char *instr, const char *arg, char **field) {
        if (strpbrk(arg, " \t"))
                return errmsg_set(-EINVAL, "%s takes a single value, got \"%s\".", instr, arg);
        return free_and_strdup(field, arg);
}

/* Whether s is valid UTF-8 as JSON (and jansson) want it: no overlong
 * forms, no surrogates, nothing above U+10FFFF. */
static bool utf8_valid(const char *s) {
        for (const unsigned char *p = (const unsigned char *) s; *p;) {
                unsigned n, min;
                uint32_t cp;

                if (*p < 0x80) {
                        p++;
                        continue;
                }
                if ((*p & 0xe0) == 0xc0)
                        n = 1, min = 0x80, cp = *p & 0x1f;
                else if ((*p & 0xf0) == 0xe0)
                        n = 2, min = 0x800, cp = *p & 0x0f;
                else if ((*p & 0xf8) == 0xf0)
                        n = 3, min = 0x10000, cp = *p & 0x07;
                else
                        return false;
                for (unsigned i = 1; i <= n; i++) {
                        if ((p[i] & 0xc0) != 0x80)
                                return false;   /* also stops at the NUL */
                        cp = cp << 6 | (p[i] & 0x3f);
                }
                if (cp < min || cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff))
                        return false;
                p += n + 1;
        }
        return true;
}

int oci_image_config_apply_change(OciImageConfig *c, const char *change) {
        _cleanup_free_ char *instr = NULL, *arg = NULL;
        _cleanup_strv_free_ char **l = NULL;
        size_t n;
        int r;

        /* The config is kept as JSON, which holds UTF-8 only. */
        if (!utf8_valid(change))
                return errmsg_set(-EINVAL, "Change is not valid UTF-8.");
        change += strspn(change, " \t");
        n = strcspn(change, " \t");
        instr = strndup(change, n);
        arg = strdup(change + n + strspn(change + n, " \t"));
        if (!instr || !arg)
                return -ENOMEM;
        for (char *p = instr; *p; p++)
                *p = (char) toupper((unsigned char) *p);
        for (n = strlen(arg); n > 0 && isspace((unsigned char) arg[n - 1]); n--)
                arg[n - 1] = 0;
        if (isempty(arg))
                return errmsg_set(-EINVAL, "Change \"%s\": missing argument.", change);

        if (streq(instr, "CMD") || streq(instr, "ENTRYPOINT")) {
                r = command_value(instr, arg, &l);
                if (r < 0)
                        return r;
                if (streq(instr, "CMD")) {
                        strv_free(c->cmd);
                        c->cmd = TAKE_PTR(l);
                } else {
                        strv_free(c->entrypoint);
                        c->entrypoint = TAKE_PTR(l);
                }
                return 0;
        }
        if (streq(instr, "ENV"))
                return apply_key_values(instr, arg, &c->env, false);
        if (streq(instr, "LABEL"))
                return apply_key_values(instr, arg, &c->labels, true);
        if (streq(instr, "EXPOSE"))
                return apply_expose(arg, c);
        if (streq(instr, "VOLUME"))
                return apply_volume(arg, c);
        if (streq(instr, "WORKDIR"))
                return apply_workdir(arg, c);
        if (streq(instr, "USER"))
                return apply_string(instr, arg, &c->user);
        if (streq(instr, "STOPSIGNAL"))
                return apply_string(instr, arg, &c->stop_signal);
        return errmsg_set(-EINVAL, "Unsupported change instruction \"%s\" (supported: CMD, ENTRYPOINT, ENV, "
                          "EXPOSE, LABEL, STOPSIGNAL, USER, VOLUME, WORKDIR).", instr);
}
