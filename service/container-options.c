/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <inttypes.h>
#include <signal.h>

#include "bus-util.h"
#include "container-options.h"
#include "network-options.h"
#include "seccomp-profile.h"
#include "stdio-fd.h"

/* CreateContainer's a{sv} options, into a Container the engine completes.
 * Each key is one docker run flag; unknown keys and mistyped values are
 * refused with a message naming them. */

static int read_strv_into(sd_bus_message *m, char ***dst) {
        char **l = NULL;
        int r = sd_bus_message_read_strv(m, &l);

        if (r < 0)
                return r;
        strv_free(*dst);
        *dst = l;
        return 0;
}

static int read_string_into(sd_bus_message *m, char **dst) {
        const char *s;
        int r = sd_bus_message_read(m, "s", &s);

        if (r < 0)
                return r;
        return free_and_strdup(dst, s);
}

static int read_labels(sd_bus_message *m, char ***dst) {
        const char *k, *v;
        int r;

        r = sd_bus_message_enter_container(m, 'a', "{ss}");
        while (r >= 0 && (r = sd_bus_message_read(m, "{ss}", &k, &v)) > 0)
                r = strv_consume(dst, strjoin(k, "=", v));
        if (r < 0)
                return r;
        return sd_bus_message_exit_container(m);
}

static int read_mounts(sd_bus_message *m, Container *c, int (*parse)(const char *, MountSpec *),
                       sd_bus_error *error) {
        _cleanup_strv_free_ char **l = NULL;
        int r = sd_bus_message_read_strv(m, &l);

        if (r < 0)
                return r;
        STRV_FOREACH(s, l) {
                MountSpec spec = {};
                errmsg_clear();
                r = parse(*s, &spec);
                if (r < 0)
                        return sd_bus_error_setf(error, SD_BUS_ERROR_INVALID_ARGS, "Invalid mount '%s': %s",
                                                 *s, errmsg_last() ?: strerror(-r));
                r = container_add_mount(c, &spec);
                if (r < 0)
                        return r;
        }
        return 0;
}

/* Limits as systemd's unit properties: "t" values by their names, and
 * AllowedCPUs as systemd's "ay" bitmask. */
static int read_limit(sd_bus_message *m, const char *key, ScopeLimits *limits, sd_bus_error *error) {
        const void *mask;
        size_t size;
        uint64_t v;
        int r;

        if (streq(key, LIMIT_PROPERTY_ALLOWED_CPUS)) {
                r = sd_bus_message_enter_container(m, 'v', "ay");
                if (r >= 0)
                        r = sd_bus_message_read_array(m, 'y', &mask, &size);
                if (r >= 0)
                        r = sd_bus_message_exit_container(m);
                if (r == -ENXIO)
                        return sd_bus_error_setf(error, SD_BUS_ERROR_INVALID_ARGS, "Limit %s takes \"ay\".", key);
                if (r < 0)
                        return r;
                r = limits_set_allowed_cpus(limits, mask, size);
                if (r == -ERANGE)
                        return sd_bus_error_setf(error, SD_BUS_ERROR_INVALID_ARGS,
                                                 "AllowedCPUs must name at least one CPU below 8192.");
                return r;
        }
        if (!limit_property_find(key))
                return sd_bus_error_setf(error, SD_BUS_ERROR_INVALID_ARGS, "Unknown limit '%s'.", key);
        r = sd_bus_message_read(m, "v", "t", &v);
        if (r == -ENXIO)
                return sd_bus_error_setf(error, SD_BUS_ERROR_INVALID_ARGS, "Limit %s takes \"t\".", key);
        if (r < 0)
                return r;
        r = limits_set_property(limits, key, v);
        if (r == -ERANGE)
                return sd_bus_error_setf(error, SD_BUS_ERROR_INVALID_ARGS,
                                         "Value %" PRIu64 " is out of range for %s.", v, key);
        return r;
}

static int read_limits(sd_bus_message *m, ScopeLimits *limits, sd_bus_error *error) {
        const char *k;
        int r;

        r = sd_bus_message_enter_container(m, 'a', "{sv}");
        while (r >= 0 && (r = sd_bus_message_enter_container(m, 'e', "sv")) > 0) {
                r = sd_bus_message_read(m, "s", &k);
                if (r >= 0)
                        r = read_limit(m, k, limits, error);
                if (r >= 0)
                        r = sd_bus_message_exit_container(m);
        }
        if (r < 0)
                return r;
        return sd_bus_message_exit_container(m);
}

int container_options_read_limits(sd_bus_message *m, ScopeLimits *limits, sd_bus_error *error) {
        const char *reason = NULL;
        int r = read_limits(m, limits, error);

        if (r < 0)
                return r;
        if (scope_limits_verify(limits, &reason) < 0)
                return sd_bus_error_setf(error, SD_BUS_ERROR_INVALID_ARGS, "%s", reason);
        return 0;
}

/* Read now, as Docker does, so that a bad profile is refused by create with
 * a sentence naming it, not later by start with a bare errno. */
static int check_seccomp_profile(const char *path, sd_bus_error *error) {
        _cleanup_(seccomp_profile_freep) SeccompProfile *p = NULL;
        int r = seccomp_profile_load(path, &p);

        if (r == -EINVAL)
                return sd_bus_error_setf(error, SD_BUS_ERROR_INVALID_ARGS,
                                         "Seccomp profile %s is not a valid profile.", path);
        if (r < 0)
                return sd_bus_error_setf(error, SD_BUS_ERROR_INVALID_ARGS,
                                         "Cannot load seccomp profile %s: %s", path, strerror(-r));
        return 0;
}

static int apply_security_opt(SecurityOptions *s, const char *opt, sd_bus_error *error) {
        const char *v;
        int r;

        if (IN_SET_STR(opt, "no-new-privileges", "no-new-privileges=true", "no-new-privileges:true"))
                s->no_new_privileges = true;
        else if (IN_SET_STR(opt, "no-new-privileges=false", "no-new-privileges:false"))
                s->no_new_privileges = false;
        else if ((v = startswith(opt, "seccomp=")) || (v = startswith(opt, "seccomp:"))) {
                if (!streq(v, "unconfined") && v[0] != '/')
                        return sd_bus_error_setf(error, SD_BUS_ERROR_INVALID_ARGS,
                                                 "seccomp= takes 'unconfined' or an absolute path to a profile, not '%s'.", v);
                if (!streq(v, "unconfined")) {
                        r = check_seccomp_profile(v, error);
                        if (r < 0)
                                return r;
                }
                return free_and_strdup(&s->seccomp_profile, v);
        } else
                return sd_bus_error_setf(error, SD_BUS_ERROR_INVALID_ARGS, "Unknown security option '%s'.", opt);
        return 0;
}

static int read_security_opts(sd_bus_message *m, SecurityOptions *s, sd_bus_error *error) {
        _cleanup_strv_free_ char **l = NULL;
        int r = sd_bus_message_read_strv(m, &l);

        STRV_FOREACH(o, l)
                if (r >= 0)
                        r = apply_security_opt(s, *o, error);
        return r;
}

static int read_bool_into(sd_bus_message *m, bool *dst) {
        int b, r = sd_bus_message_read(m, "b", &b);

        if (r >= 0)
                *dst = b;
        return r;
}

static int read_stop_signal(sd_bus_message *m, ContainerConfig *cfg, sd_bus_error *error) {
        const char *s;
        int r = sd_bus_message_read(m, "s", &s);

        if (r < 0)
                return r;
        cfg->stop_signal = signal_from_string(s);
        if (cfg->stop_signal < 0)
                return sd_bus_error_setf(error, SD_BUS_ERROR_INVALID_ARGS, "Unknown signal '%s'.", s);
        return 0;
}

static int read_stop_timeout(sd_bus_message *m, ContainerConfig *cfg) {
        return sd_bus_message_read(m, "t", &cfg->stop_timeout_usec);
}

/* One option; "s", "as", ... is the variant's type it must have. */
static int read_option(sd_bus_message *m, const char *key, Container *c, char **image, sd_bus_error *error) {
        ContainerConfig *cfg = &c->config;
        int r = network_options_read_container(m, key, cfg, error);

        if (r != 0)
                return r < 0 ? r : 0;

        if (streq(key, "Image")) return read_string_into(m, image);
        if (streq(key, "Name")) return read_string_into(m, &c->name);
        if (streq(key, "Cmd")) return read_strv_into(m, &cfg->argv);
        if (streq(key, "Entrypoint")) return read_strv_into(m, &cfg->entrypoint);
        if (streq(key, "Env")) return read_strv_into(m, &cfg->env);
        if (streq(key, "WorkingDir")) return read_string_into(m, &cfg->cwd);
        if (streq(key, "User")) return read_string_into(m, &cfg->user);
        if (streq(key, "Hostname")) return read_string_into(m, &cfg->hostname);
        if (streq(key, "Labels")) return read_labels(m, &cfg->labels);
        if (streq(key, "Volumes")) return read_mounts(m, c, mount_spec_parse_volume, error);
        if (streq(key, "Tmpfs")) return read_mounts(m, c, mount_spec_parse_tmpfs, error);
        if (streq(key, "Mounts")) return read_mounts(m, c, mount_spec_parse_mount, error);
        if (streq(key, "CapAdd")) return read_strv_into(m, &cfg->security.cap_add);
        if (streq(key, "CapDrop")) return read_strv_into(m, &cfg->security.cap_drop);
        if (streq(key, "Privileged")) return read_bool_into(m, &cfg->security.privileged);
        if (streq(key, "ReadOnly")) return read_bool_into(m, &cfg->security.read_only);
        if (streq(key, "SecurityOpt")) return read_security_opts(m, &cfg->security, error);
        if (streq(key, "Limits")) return container_options_read_limits(m, &cfg->limits, error);
        if (streq(key, "AutoRemove")) return read_bool_into(m, &cfg->auto_remove);
        if (streq(key, "Tty")) return read_bool_into(m, &cfg->tty);
        if (streq(key, "Interactive")) return read_bool_into(m, &cfg->interactive);
        if (streq(key, "StopSignal")) return read_stop_signal(m, cfg, error);
        if (streq(key, "StopTimeoutUSec")) return read_stop_timeout(m, cfg);
        return sd_bus_error_setf(error, SD_BUS_ERROR_INVALID_ARGS, "Unknown container option '%s'.", key);
}

int container_options_read(sd_bus_message *m, Container **ret, char **ret_image, sd_bus_error *error) {
        _cleanup_(container_freep) Container *c = NULL;
        _cleanup_free_ char *image = NULL;
        const char *key, *contents;
        int r;

        r = container_new(&c);
        if (r < 0)
                return r;
        c->config.stop_signal = 0;   /* 0: the image's, or SIGTERM */
        c->config.network = NETWORK_MODE_BRIDGE;   /* Docker's default: the "bridge" network */
        r = sd_bus_message_enter_container(m, 'a', "{sv}");
        while (r >= 0 && (r = sd_bus_message_enter_container(m, 'e', "sv")) > 0) {
                r = sd_bus_message_read(m, "s", &key);
                if (r >= 0)
                        r = sd_bus_message_peek_type(m, NULL, &contents);
                if (r >= 0)
                        r = sd_bus_message_enter_container(m, 'v', contents);
                if (r >= 0)
                        r = read_option(m, key, c, &image, error);
                if (r == -ENXIO && !sd_bus_error_is_set(error))
                        return sd_bus_error_setf(error, SD_BUS_ERROR_INVALID_ARGS,
                                                 "Option '%s' has the wrong type (%s).", key, contents);
                if (r >= 0)
                        r = sd_bus_message_exit_container(m);
                if (r >= 0)
                        r = sd_bus_message_exit_container(m);
        }
        if (r >= 0)
                r = sd_bus_message_exit_container(m);
        if (r < 0)
                return r;
        if (isempty(image))
                return sd_bus_error_set(error, SD_BUS_ERROR_INVALID_ARGS, "No image given (option 'Image').");
        *ret = TAKE_PTR(c);
        *ret_image = TAKE_PTR(image);
        return 0;
}

int container_options_check_stdio(const char *key, int fd, sd_bus_error *error) {
        const char *stream = streq(key, "Stdin") ? "stdin" : streq(key, "Stdout") ? "stdout" : "stderr";
        const char *what;
        int r = stdio_fd_check(fd, &what);

        if (r == -EPERM && what)
                return sd_bus_error_setf(error, SD_BUS_ERROR_INVALID_ARGS,
                                         "%s must be a pipe or a connected AF_UNIX stream socket, not %s.",
                                         stream, what);
        if (r < 0)
                return sd_bus_error_set_errnof(error, r, "Cannot examine the %s given: %m", stream);
        return 0;
}
