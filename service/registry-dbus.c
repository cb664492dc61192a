/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "auth-file.h"
#include "bus-util.h"
#include "image-dbus.h"
#include "log.h"
#include "manager.h"
#include "operation.h"
#include "polkit.h"
#include "registry-dbus.h"
#include "registry.h"

/* Pull, push, login and logout: each an Operation, since every one of them
 * waits on a registry (or fsyncs berthd's auth file). The caller's
 * credentials live in the job's userdata only, wiped when it ends; they never
 * reach a property, a log line or a message. */

typedef struct RegistryJob {
        char *reference;             /* pull: what; push: the image; login/logout: the registry */
        char *destination;           /* push */
        char *platform;
        bool tls_verify_disabled;
        bool store;                  /* login: keep them in BERTH_AUTH_FILE */
        RegistryCredentials credentials;
        bool has_credentials;
        RegistryPullResult pull;
        RegistryPushResult push;
} RegistryJob;

static void registry_job_free(void *p) {
        RegistryJob *j = p;

        if (!j)
                return;
        free(j->reference);
        free(j->destination);
        free(j->platform);
        registry_credentials_done(&j->credentials);
        registry_pull_result_done(&j->pull);
        registry_push_result_done(&j->push);
        free(j);
}

static int read_option_string(sd_bus_message *message, char **field) {
        const char *v;
        int r;

        r = sd_bus_message_read(message, "v", "s", &v);
        if (r < 0)
                return r;
        return free_and_strdup(field, isempty(v) ? NULL : v);
}

static int read_option(sd_bus_message *message, const char *key, RegistryJob *j, bool for_login,
                       sd_bus_error *error) {
        int b, r;

        if (streq(key, "TLSVerify")) {
                r = sd_bus_message_read(message, "v", "b", &b);
                j->tls_verify_disabled = !b;
                return r;
        }
        if (for_login && streq(key, "Store")) {
                r = sd_bus_message_read(message, "v", "b", &b);
                j->store = b;
                return r;
        }
        if (!for_login && streq(key, "Platform"))
                return read_option_string(message, &j->platform);
        if (!for_login && streq(key, "Username"))
                return j->has_credentials = true, read_option_string(message, &j->credentials.username);
        if (!for_login && streq(key, "Password"))
                return j->has_credentials = true, read_option_string(message, &j->credentials.password);
        if (!for_login && streq(key, "IdentityToken"))
                return j->has_credentials = true, read_option_string(message, &j->credentials.identity_token);
        return sd_bus_error_setf(error, SD_BUS_ERROR_INVALID_ARGS, "Unknown option '%s'.", key);
}

static int read_options(sd_bus_message *message, RegistryJob *j, bool for_login, sd_bus_error *error) {
        const char *key;
        int r;

        r = sd_bus_message_enter_container(message, 'a', "{sv}");
        if (r < 0)
                return r;
        while ((r = sd_bus_message_enter_container(message, 'e', "sv")) > 0) {
                r = sd_bus_message_read(message, "s", &key);
                if (r >= 0)
                        r = read_option(message, key, j, for_login, error);
                if (r >= 0)
                        r = sd_bus_message_exit_container(message);
                if (r < 0)
                        return r;
        }
        if (r < 0)
                return r;
        return sd_bus_message_exit_container(message);
}

static void layer_progress(size_t index, size_t n, const char *digest, RegistryLayerState state,
                           uint64_t done, uint64_t total, void *userdata) {
        operation_part_progress(userdata, index, n, digest, registry_layer_state_to_string(state), done, total);
}

/* Read in the worker for every operation: a changed registries.d applies to
 * the next pull, as podman reads its registries.conf for every command. */
static int registry_job_options(Operation *o, RegistryConfig **config, RegistryOptions *ret) {
        RegistryJob *j = o->userdata;
        const ManagerConfig *mc = &o->manager->config;
        int r;

        r = registry_config_load(NULL, NULL, config);
        if (r < 0)
                return r;
        *ret = (RegistryOptions) {
                .config = *config,
                .credentials = j->has_credentials ? &j->credentials : NULL,
                .auth_file = BERTH_AUTH_FILE,
                .tls_verify_disabled = j->tls_verify_disabled,
                .platform = j->platform,
                .max_parallel = mc->max_parallel_downloads,
                .max_manifest_size = mc->max_manifest_size,
                .max_config_size = mc->max_config_size,
                .stall_timeout_sec = mc->stalled_transfer_timeout_sec,
                .max_partial_size = mc->max_partial_blobs_size,
                .cancel = &o->cancel,
                .layer_progress = layer_progress,
                .progress = operation_progress,
                .userdata = o,
        };
        return 0;
}

static int pull_work(Operation *o) {
        _cleanup_(registry_config_freep) RegistryConfig *config = NULL;
        RegistryJob *j = o->userdata;
        RegistryOptions opts;
        int r;

        r = registry_job_options(o, &config, &opts);
        if (r >= 0)
                r = registry_pull(o->manager->store, j->reference, &opts, &j->pull);
        if (r < 0)
                return r;
        FOREACH_STRING(s, j->pull.image_id, j->pull.reference, strempty(j->pull.repo_digest)) {
                r = strv_extend(&o->result_ids, s);
                if (r < 0)
                        return r;
        }
        return 0;
}

static int push_work(Operation *o) {
        _cleanup_(registry_config_freep) RegistryConfig *config = NULL;
        _cleanup_free_ char *pushed = NULL;
        RegistryJob *j = o->userdata;
        RegistryOptions opts;
        int r;

        r = registry_job_options(o, &config, &opts);
        if (r >= 0)
                r = registry_push(o->manager->store, j->reference, j->destination, &opts, &j->push);
        if (r < 0)
                return r;
        pushed = strjoin(j->push.reference, "@", j->push.manifest_digest);
        if (!pushed)
                return -ENOMEM;
        return strv_consume(&o->result_ids, TAKE_PTR(pushed));
}

static int login_work(Operation *o) {
        _cleanup_(registry_config_freep) RegistryConfig *config = NULL;
        RegistryJob *j = o->userdata;
        RegistryOptions opts;
        int r;

        r = registry_job_options(o, &config, &opts);
        if (r < 0)
                return r;
        opts.auth_file = NULL;            /* only what was given counts */
        r = registry_check_login(j->reference, &opts);
        if (r < 0 || !j->store)
                return r;
        r = auth_file_store(BERTH_AUTH_FILE, j->reference, j->credentials.username, j->credentials.password);
        if (r < 0)
                return errmsg_set(r, "Cannot store the credentials for %s in %s: %s.", j->reference,
                                  BERTH_AUTH_FILE, strerror(-r));
        return 0;
}

static int logout_work(Operation *o) {
        RegistryJob *j = o->userdata;
        int r;

        /* Like docker logout, forgetting what was not there is no failure. */
        r = auth_file_remove(BERTH_AUTH_FILE, j->reference);
        if (r == -ENOENT)
                return 0;
        if (r < 0)
                return errmsg_set(r, "Cannot remove the credentials for %s from %s: %s.", j->reference,
                                  BERTH_AUTH_FILE, strerror(-r));
        return 0;
}

/* Login and logout answer the call itself once the worker is done. */
static void reply_when_done(Operation *o) {
        _cleanup_(sd_bus_error_free) sd_bus_error error = SD_BUS_ERROR_NULL;
        int r;

        if (o->result >= 0)
                r = sd_bus_reply_method_return(o->request, NULL);
        else {
                (void) bus_error_set_errnof(&error, BERTH_OBJECT_IMAGE, o->result, "%s",
                                            o->error_message ?: strerror(-o->result));
                r = sd_bus_reply_method_error(o->request, &error);
        }
        if (r < 0)
                log_warning_errno(r, "Failed to reply to %s: %m", o->type);
}

typedef enum RegistryJobOptions {
        OPTIONS_NONE,
        OPTIONS_IMAGE,               /* TLSVerify, Platform, Username, Password, IdentityToken */
        OPTIONS_LOGIN,               /* TLSVerify, Store */
} RegistryJobOptions;

/* pull-images covers the transfers and a login's check; berthd's own stored
 * credentials, which every unattended pull uses, are the administrator's. */
typedef enum RegistryJobAction {
        ACTION_PULL_IMAGES,
        ACTION_CREDENTIALS_IF_STORED,
        ACTION_CREDENTIALS,
} RegistryJobAction;

typedef struct RegistryJobType {
        const char *name;            /* the Job's Type */
        const char *subject;         /* polkit's detail for the reference */
        bool destination;            /* a "destination" detail too, so that rules can bound where images go */
        RegistryJobAction action;
        RegistryJobOptions options;
        OperationWork work;
        OperationFinish finish;
        bool reply_path;             /* answered with the Job's path, else when done */
} RegistryJobType;

static const RegistryJobType pull_type = {
        "pull", "image", false, ACTION_PULL_IMAGES, OPTIONS_IMAGE, pull_work, image_refresh_when_done, true,
};
static const RegistryJobType push_type = {
        "push", "image", true, ACTION_PULL_IMAGES, OPTIONS_IMAGE, push_work, NULL, true,
};
static const RegistryJobType login_type = {
        "login", "registry", false, ACTION_CREDENTIALS_IF_STORED, OPTIONS_LOGIN, login_work, reply_when_done, false,
};
static const RegistryJobType logout_type = {
        "logout", "registry", false, ACTION_CREDENTIALS, OPTIONS_NONE, logout_work, reply_when_done, false,
};

static int verify_registry(sd_bus_message *message, Manager *m, const RegistryJobType *t, const RegistryJob *j,
                           sd_bus_error *error) {
        const char *details[] = { t->subject, j->reference, NULL, NULL, NULL };
        bool credentials = t->action == ACTION_CREDENTIALS || (t->action == ACTION_CREDENTIALS_IF_STORED && j->store);

        if (t->destination) {
                details[2] = "destination";
                details[3] = j->destination ?: j->reference;
        }
        return polkit_verify(message, credentials ? BERTH_ACTION_REGISTRY_CREDENTIALS : BERTH_ACTION_PULL_IMAGES,
                             details, m, error);
}

/* A job whose arguments before the options were read (it takes j; NULL:
 * out of memory): its options, then authorized and started. */
static int registry_job_begin(sd_bus_message *message, Manager *m, RegistryJob *j, const RegistryJobType *t,
                              sd_bus_error *error) {
        int r;

        if (!j)
                return -ENOMEM;
        r = t->options == OPTIONS_NONE ? 0 : read_options(message, j, t->options == OPTIONS_LOGIN, error);
        if (r >= 0)
                r = verify_registry(message, m, t, j, error);
        if (r <= 0) {
                registry_job_free(j);
                return r < 0 ? r : 1;
        }
        return operation_start_job(m, message, t->name, -EBADF, t->work, t->finish, j, registry_job_free,
                                   t->reply_path, error);
}

static RegistryJob *registry_job_new(const char *reference) {
        RegistryJob *j = calloc(1, sizeof *j);

        if (j && !(j->reference = strdup(reference)))
                j = mfree(j);
        return j;
}

int method_pull_image(sd_bus_message *message, void *userdata, sd_bus_error *error) {
        const char *reference;
        int r;

        r = sd_bus_message_read(message, "s", &reference);
        if (r < 0)
                return r;
        if (isempty(reference))
                return sd_bus_error_set(error, SD_BUS_ERROR_INVALID_ARGS, "No image to pull was named.");
        return registry_job_begin(message, userdata, registry_job_new(reference), &pull_type, error);
}

int method_push_image(sd_bus_message *message, void *userdata, sd_bus_error *error) {
        const char *name, *destination;
        RegistryJob *j;
        int r;

        r = sd_bus_message_read(message, "ss", &name, &destination);
        if (r < 0)
                return r;
        if (isempty(name))
                return sd_bus_error_set(error, SD_BUS_ERROR_INVALID_ARGS, "No image to push was named.");
        j = registry_job_new(name);
        if (!j || (!isempty(destination) && !(j->destination = strdup(destination)))) {
                registry_job_free(j);
                return -ENOMEM;
        }
        return registry_job_begin(message, userdata, j, &push_type, error);
}

int method_login(sd_bus_message *message, void *userdata, sd_bus_error *error) {
        const char *registry, *username, *password;
        RegistryJob *j;
        int r;

        r = sd_bus_message_read(message, "sss", &registry, &username, &password);
        if (r < 0)
                return r;
        if (isempty(registry) || isempty(username))
                return sd_bus_error_set(error, SD_BUS_ERROR_INVALID_ARGS,
                                        "Login needs a registry and a user name.");
        j = registry_job_new(registry);
        if (!j || !(j->credentials.username = strdup(username)) || !(j->credentials.password = strdup(password))) {
                registry_job_free(j);
                return -ENOMEM;
        }
        j->has_credentials = true;
        return registry_job_begin(message, userdata, j, &login_type, error);
}

int method_logout(sd_bus_message *message, void *userdata, sd_bus_error *error) {
        const char *registry;
        int r;

        r = sd_bus_message_read(message, "s", &registry);
        if (r < 0)
                return r;
        if (isempty(registry))
                return sd_bus_error_set(error, SD_BUS_ERROR_INVALID_ARGS, "Logout needs a registry.");
        return registry_job_begin(message, userdata, registry_job_new(registry), &logout_type, error);
}
