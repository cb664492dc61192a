/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <ctype.h>
#include <fcntl.h>
#include <sys/stat.h>

#include "config.h"
#include "fileio.h"
#include "json-util.h"
#include "registry-config.h"

#define REGISTRY_CONFIG_FILE_MAX (1024U * 1024U)
#define REGISTRY_CONFIG_FILES_MAX 256U

typedef struct RegistrySection {
        char *name;
        char **mirrors;
        int insecure;        /* -1: not set */
        int blocked;
} RegistrySection;

struct RegistryConfig {
        RegistrySection *registries;
        size_t n_registries;
        char **aliases;      /* name, target, name, target, ... */
        char *certs_dir;
};

static void registry_section_done(RegistrySection *s) {
        s->name = mfree(s->name);
        s->mirrors = strv_free(s->mirrors);
}

RegistryConfig *registry_config_free(RegistryConfig *c) {
        if (!c)
                return NULL;
        for (size_t i = 0; i < c->n_registries; i++)
                registry_section_done(c->registries + i);
        free(c->registries);
        strv_free(c->aliases);
        free(c->certs_dir);
        free(c);
        return NULL;
}

/* docker.io's many names are one registry. */
static const char *domain_normalize(const char *d) {
        return IN_SET_STR(d, "index.docker.io", "registry-1.docker.io") ? "docker.io" : d;
}

/* host[:port]: letters, digits, '-', '.', a bracketed IPv6 address. */
static bool host_valid(const char *s) {
        size_t n = strlen(s);

        if (n == 0 || n > 255 || s[0] == '.' || s[0] == '-' || s[0] == ':')
                return false;
        for (const char *p = s; *p; p++)
                if (!isalnum((unsigned char) *p) && !strchr(".-:[]", *p))
                        return false;
        return !strstr(s, "..");
}

static bool alias_name_valid(const char *s) {
        if (isempty(s) || strlen(s) > 255)
                return false;
        for (const char *p = s; *p; p++)
                if (!islower((unsigned char) *p) && !isdigit((unsigned char) *p) && !strchr("._-/", *p))
                        return false;
        return true;
}

static bool reference_chars_valid(const char *s) {
        if (isempty(s) || strlen(s) > 512)
                return false;
        for (const char *p = s; *p; p++)
                if (!isalnum((unsigned char) *p) && !strchr("._-/:@[]", *p))
                        return false;
        return true;
}

static RegistrySection *config_find(RegistryConfig *c, const char *name) {
        for (size_t i = 0; i < c->n_registries; i++)
                if (streq(c->registries[i].name, name))
                        return c->registries + i;
        return NULL;
}

/* A section read from a file, added to what earlier sections said. */
static int config_merge(RegistryConfig *c, RegistrySection *s) {
        RegistrySection *t;
        void *n;

        t = config_find(c, s->name);
        if (!t) {
                n = realloc(c->registries, (c->n_registries + 1) * sizeof(RegistrySection));
                if (!n)
                        return -ENOMEM;
                c->registries = n;
                c->registries[c->n_registries++] = *s;
                *s = (RegistrySection) { .insecure = -1, .blocked = -1 };
                return 0;
        }
        STRV_FOREACH(m, s->mirrors)
                if (!strv_contains(t->mirrors, *m) && strv_extend(&t->mirrors, *m) < 0)
                        return -ENOMEM;
        if (s->insecure >= 0)
                t->insecure = s->insecure;
        if (s->blocked >= 0)
                t->blocked = s->blocked;
        registry_section_done(s);
        *s = (RegistrySection) { .insecure = -1, .blocked = -1 };
        return 0;
}

static int config_alias(RegistryConfig *c, const char *key, const char *value) {
        size_t n = strv_length(c->aliases);

        for (size_t i = 0; i + 1 < n; i += 2)
                if (streq(c->aliases[i], key))
                        return free_and_strdup(&c->aliases[i + 1], value);
        if (strv_extend(&c->aliases, key) < 0 || strv_extend(&c->aliases, value) < 0)
                return -ENOMEM;
        return 0;
}

typedef struct Parser {
        RegistryConfig *config;
        RegistrySection current;
        bool in_registry;
        unsigned section_line;
} Parser;

static int parser_end_section(Parser *p) {
        if (!p->in_registry)
                return 0;
        p->in_registry = false;
        if (!p->current.name)
                return -EDESTADDRREQ;   /* a [Registry] without Name= */
        return config_merge(p->config, &p->current);
}

static int parse_registry_key(RegistrySection *s, const char *key, const char *value) {
        int b;

        if (streq(key, "Name")) {
                if (!host_valid(value))
                        return -EINVAL;
                return free_and_strdup(&s->name, domain_normalize(value));
        }
        if (streq(key, "Mirror")) {
                if (isempty(value)) {
                        s->mirrors = strv_free(s->mirrors);
                        return 0;
                }
                if (!host_valid(value))
                        return -EINVAL;
                return strv_contains(s->mirrors, value) ? 0 : strv_extend(&s->mirrors, value);
        }
        if (streq(key, "Insecure") || streq(key, "Blocked")) {
                b = parse_boolean(value);
                if (b < 0)
                        return -EINVAL;
                *(streq(key, "Insecure") ? &s->insecure : &s->blocked) = b;
                return 0;
        }
        return -ENOKEY;
}

/* A ConfigLineFn: [Registry] repeats, one per host; [Aliases] has keys of
 * the user's choosing. Any other section is an invalid line. */
static int parse_setting(const char *section, const char *key, const char *value, unsigned line,
                         void *userdata) {
        Parser *p = userdata;
        int r;

        if (!key) {
                r = parser_end_section(p);
                if (r < 0)
                        return r;
                if (streq(section, "Registry")) {
                        p->in_registry = true;
                        p->section_line = line;
                        return 0;
                }
                return streq(section, "Aliases") ? 0 : -EINVAL;
        }
        if (streq(section, "Registry"))
                return parse_registry_key(&p->current, key, value);
        if (!alias_name_valid(key) || !reference_chars_valid(value))
                return -EINVAL;
        return config_alias(p->config, key, value);
}

static int config_load_file(RegistryConfig *c, const char *path) {
        Parser p = { .config = c, .current = { .insecure = -1, .blocked = -1 } };
        _cleanup_free_ char *data = NULL;
        unsigned line = 0;
        size_t n;
        int r;

        r = read_full_file_at(AT_FDCWD, path, REGISTRY_CONFIG_FILE_MAX, &data, &n);
        if (r < 0)
                return errmsg_set(r, "Cannot read registry configuration %s: %s.", path, strerror(-r));
        if (memchr(data, 0, n))
                return errmsg_set(-EINVAL, "%s:1: the file holds a NUL byte.", path);

        r = config_parse_text(data, CONFIG_VALUE_COMMENTS, parse_setting, &p, &line);
        if (r >= 0)
                r = parser_end_section(&p);
        registry_section_done(&p.current);
        if (r == -ENOMEM)
                return r;
        if (r == -EDESTADDRREQ)
                return errmsg_set(-EINVAL, "%s:%u: the [Registry] section has no Name=.", path, p.section_line);
        if (r == -ENOKEY)
                return errmsg_set(-EINVAL, "%s:%u: unknown setting.", path, line);
        if (r < 0)
                return errmsg_set(-EINVAL, "%s:%u: invalid line.", path, line);
        return 0;
}

static int list_conf_files(const char *dir, char ***ret) {
        _cleanup_closedir_ DIR *d = NULL;
        _cleanup_strv_free_ char **l = NULL;
        struct dirent *de;
        size_t n;

        d = opendir(dir);
        if (!d) {
                if (errno == ENOENT) {
                        *ret = NULL;
                        return 0;
                }
                return errmsg_set(negative_errno(), "Cannot open %s: %m.", dir);
        }
        while ((de = readdir(d))) {
                if (de->d_name[0] == '.' || !endswith(de->d_name, ".conf"))
                        continue;
                if (strv_length(l) >= REGISTRY_CONFIG_FILES_MAX)
                        return errmsg_set(-E2BIG, "Too many files in %s.", dir);
                if (strv_consume(&l, strjoin(dir, "/", de->d_name)) < 0)
                        return -ENOMEM;
        }
        n = strv_length(l);
        if (n > 1)
                strv_sort(l);
        *ret = TAKE_PTR(l);
        return 0;
}

int registry_config_load(const char *dir, const char *certs_dir, RegistryConfig **ret) {
        _cleanup_(registry_config_freep) RegistryConfig *c = NULL;
        _cleanup_strv_free_ char **files = NULL;
        int r;

        c = calloc(1, sizeof(*c));
        if (!c)
                return -ENOMEM;
        c->certs_dir = strdup(certs_dir ?: REGISTRY_CERTS_DIR);
        if (!c->certs_dir)
                return -ENOMEM;

        r = list_conf_files(dir ?: REGISTRY_CONFIG_DIR, &files);
        if (r < 0)
                return r;
        STRV_FOREACH(f, files) {
                r = config_load_file(c, *f);
                if (r < 0)
                        return r;
        }
        *ret = TAKE_PTR(c);
        return 0;
}

void registry_endpoint_done(RegistryEndpoint *e) {
        if (!e)
                return;
        e->host = mfree(e->host);
        e->ca_file = mfree(e->ca_file);
        e->client_cert = mfree(e->client_cert);
        e->client_key = mfree(e->client_key);
}

void registry_endpoints_free(RegistryEndpoint *e, size_t n) {
        for (size_t i = 0; i < n; i++)
                registry_endpoint_done(e + i);
        free(e);
}

static int file_in(const char *dir, const char *name, char **ret) {
        _cleanup_free_ char *p = strjoin(dir, "/", name);

        if (!p)
                return -ENOMEM;
        if (access(p, R_OK) < 0)
                return 0;
        *ret = TAKE_PTR(p);
        return 1;
}

/* A CA in certs.d: ca.crt, else the first *.crt (the HTTP layer adds the
 * directory's other *.crt files too). */
static int certs_find_ca(const char *dir, char **ret) {
        _cleanup_closedir_ DIR *d = NULL;
        struct dirent *de;
        int r;

        r = file_in(dir, "ca.crt", ret);
        if (r != 0)
                return r;
        d = opendir(dir);
        if (!d)
                return 0;
        while ((de = readdir(d)))
                if (de->d_name[0] != '.' && endswith(de->d_name, ".crt"))
                        return file_in(dir, de->d_name, ret);
        return 0;
}

static int certs_lookup(const char *certs_dir, const char *host, RegistryEndpoint *e) {
        _cleanup_free_ char *dir = NULL, *bare = NULL;
        struct stat st;
        const char *colon = strrchr(host, ':');

        if (!certs_dir)
                return 0;
        /* HOST:PORT first, then HOST, as docker looks them up. */
        dir = strjoin(certs_dir, "/", host);
        if (!dir)
                return -ENOMEM;
        if (stat(dir, &st) < 0 || !S_ISDIR(st.st_mode)) {
                if (!colon || strchr(host, ']') > colon)
                        return 0;
                bare = strndup(host, colon - host);
                if (!bare)
                        return -ENOMEM;
                free(dir);
                dir = strjoin(certs_dir, "/", bare);
                if (!dir)
                        return -ENOMEM;
                if (stat(dir, &st) < 0 || !S_ISDIR(st.st_mode))
                        return 0;
        }
        if (certs_find_ca(dir, &e->ca_file) < 0 || file_in(dir, "client.cert", &e->client_cert) < 0 ||
            file_in(dir, "client.key", &e->client_key) < 0)
                return -ENOMEM;
        /* A certificate without its key (or the other way round) is useless. */
        if (!e->client_cert != !e->client_key) {
                e->client_cert = mfree(e->client_cert);
                e->client_key = mfree(e->client_key);
        }
        return 0;
}

static int endpoint_make(const RegistryConfig *c, const char *name, bool mirror, RegistryEndpoint *e) {
        const RegistrySection *s = c ? config_find((RegistryConfig *) c, name) : NULL;
        const char *host = streq(name, "docker.io") ? "registry-1.docker.io" : name;
        int r;

        *e = (RegistryEndpoint) { .mirror = mirror, .insecure = s && s->insecure > 0 };
        e->host = strdup(host);
        if (!e->host)
                return -ENOMEM;
        r = certs_lookup(c ? c->certs_dir : REGISTRY_CERTS_DIR, name, e);
        if (r >= 0 && !e->ca_file && !e->client_cert && !streq(host, name))
                r = certs_lookup(c ? c->certs_dir : REGISTRY_CERTS_DIR, host, e);
        return r;
}

int registry_config_endpoints(const RegistryConfig *c, const char *domain, bool for_pull,
                              RegistryEndpoint **ret, size_t *ret_n) {
        const RegistrySection *s;
        RegistryEndpoint *l;
        size_t n = 0, k = 0;
        const char *name;
        int r;

        if (isempty(domain))
                return -EINVAL;
        name = domain_normalize(domain);
        s = c ? config_find((RegistryConfig *) c, name) : NULL;
        if (s && s->blocked > 0)
                return errmsg_set(-EACCES, "%s: the registry is blocked by the configuration.", name);

        if (for_pull && s)
                n = strv_length(s->mirrors);
        l = calloc(n + 1, sizeof(RegistryEndpoint));
        if (!l)
                return -ENOMEM;
        for (; k < n; k++) {
                r = endpoint_make(c, s->mirrors[k], true, l + k);
                if (r < 0)
                        goto fail;
        }
        r = endpoint_make(c, name, false, l + k);
        if (r < 0)
                goto fail;
        *ret = l;
        *ret_n = n + 1;
        return 0;
fail:
        registry_endpoints_free(l, k + 1);
        return r;
}

const char *registry_config_alias(const RegistryConfig *c, const char *short_name) {
        size_t n;

        if (!c || !short_name)
                return NULL;
        n = strv_length(c->aliases);
        for (size_t i = 0; i + 1 < n; i += 2)
                if (streq(c->aliases[i], short_name))
                        return c->aliases[i + 1];
        return NULL;
}
