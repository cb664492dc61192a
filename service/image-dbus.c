/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <fcntl.h>
#include <sys/stat.h>

#include "bus-property.h"
#include "bus-util.h"
#include "digest.h"
#include "image-dbus.h"
#include "image-load.h"
#include "log.h"
#include "manager.h"
#include "operation.h"
#include "polkit.h"
#include "store.h"

static int image_compare(const void *a, const void *b) {
        return strcmp((*(Image * const *) a)->id, (*(Image * const *) b)->id);
}

static Image *manager_find_image(Manager *m, const char *id) {
        Image key = { .id = (char *) id }, *k = &key, **found;

        found = bsearch(&k, m->images, m->n_images, sizeof(Image *), image_compare);
        return found ? *found : NULL;
}

int image_object_path(const char *id, char **ret) {
        const char *hex = digest_hex(id);

        if (!hex)
                return -EINVAL;
        *ret = strjoin(BERTH_IMAGE_PATH_PREFIX "/", hex);
        return *ret ? 0 : -ENOMEM;
}

static void emit_image_signal(Manager *m, const char *member, const Image *i) {
        _cleanup_free_ char *path = NULL;

        if (image_object_path(i->id, &path) < 0)
                return;
        if (streq(member, "ImageAdded"))
                (void) sd_bus_emit_object_added(m->bus, path);
        else if (streq(member, "ImageRemoved"))
                (void) sd_bus_emit_object_removed(m->bus, path);
        else {
                (void) sd_bus_emit_properties_changed(m->bus, path, BERTH_IMAGE_IFACE,
                                                      "RepoTags", "RepoDigests", NULL);
                return;
        }
        (void) sd_bus_emit_signal(m->bus, BERTH_MANAGER_PATH, BERTH_MANAGER_IFACE, member,
                                  "so", i->id, path);
}

static bool image_tags_equal(const Image *a, const Image *b) {
        size_t n = strv_length(a->repo_tags);

        if (n != strv_length(b->repo_tags) || strv_length(a->repo_digests) != strv_length(b->repo_digests))
                return false;
        for (size_t i = 0; i < n; i++)
                if (!streq(a->repo_tags[i], b->repo_tags[i]))
                        return false;
        return true;
}

/* Both lists are sorted by id: one merge pass finds what came and went. */
static void emit_image_changes(Manager *m, Image **old, size_t n_old, Image **new, size_t n_new) {
        size_t i = 0, j = 0;

        while (i < n_old || j < n_new) {
                int c = i >= n_old ? 1 : j >= n_new ? -1 : strcmp(old[i]->id, new[j]->id);
                if (c < 0)
                        emit_image_signal(m, "ImageRemoved", old[i++]);
                else if (c > 0)
                        emit_image_signal(m, "ImageAdded", new[j++]);
                else {
                        if (!image_tags_equal(old[i], new[j]))
                                emit_image_signal(m, "PropertiesChanged", new[j]);
                        i++, j++;
                }
        }
}

int manager_refresh_images(Manager *m) {
        Image **l = NULL;
        size_t n = 0;
        int r;

        r = store_list_images(m->store, &l, &n);
        if (r < 0)
                return log_warning_errno(r, "Failed to list images: %s", store_last_error() ?: strerror(-r));
        qsort(l, n, sizeof(Image *), image_compare);
        if (m->bus)
                emit_image_changes(m, m->images, m->n_images, l, n);
        image_array_free(m->images, m->n_images);
        m->images = l;
        m->n_images = n;
        return 0;
}

void manager_free_images(Manager *m) {
        image_array_free(m->images, m->n_images);
        m->images = NULL;
        m->n_images = 0;
}

static int property_get_labels(sd_bus *bus, const char *path, const char *interface,
                               const char *property, sd_bus_message *reply,
                               void *userdata, sd_bus_error *error) {
        char **l = *(char ***) userdata;
        int r;

        r = sd_bus_message_open_container(reply, 'a', "{ss}");
        for (size_t i = 0; r >= 0 && l && l[i] && l[i + 1]; i += 2)
                r = sd_bus_message_append(reply, "{ss}", l[i], l[i + 1]);
        if (r < 0)
                return r;
        return sd_bus_message_close_container(reply);
}

static int property_get_history(sd_bus *bus, const char *path, const char *interface,
                                const char *property, sd_bus_message *reply,
                                void *userdata, sd_bus_error *error) {
        Image *i = userdata;
        int r;

        r = sd_bus_message_open_container(reply, 'a', "(tsssb)");
        for (size_t k = 0; r >= 0 && k < i->config.n_history; k++) {
                const OciHistory *h = &i->config.history[k];
                r = sd_bus_message_append(reply, "(tsssb)", h->created_usec, strempty(h->created_by),
                                          strempty(h->author), strempty(h->comment), h->empty_layer);
        }
        if (r < 0)
                return r;
        return sd_bus_message_close_container(reply);
}

/* A store failure as Berth's error for an image; message is the store's
 * sentence, captured when it failed. */
static int image_error(sd_bus_error *error, int r, const char *what, const char *message) {
        if (bus_error_name_from_errno(BERTH_OBJECT_IMAGE, r))
                return bus_error_set_errnof(error, BERTH_OBJECT_IMAGE, r, "%s", message ?: strerror(-r));
        return bus_error_set_errnof(error, BERTH_OBJECT_IMAGE, r, "%s: %s", what, message ?: strerror(-r));
}

/* Looks up a caller's name for an image, turning failures into D-Bus errors. */
static int resolve_image(Manager *m, const char *name, sd_bus_error *error, Image **ret) {
        _cleanup_(image_freep) Image *i = NULL;
        int r;

        errmsg_clear();
        r = store_resolve_image(m->store, name, &i);
        if (r == -ENOENT)
                return bus_error_set_errnof(error, BERTH_OBJECT_IMAGE, r, "No such image: %s", name);
        if (r < 0)
                return image_error(error, r, name, store_last_error());
        *ret = TAKE_PTR(i);
        return 0;
}

int method_get_image(sd_bus_message *message, void *userdata, sd_bus_error *error) {
        _cleanup_(image_freep) Image *i = NULL;
        _cleanup_free_ char *path = NULL;
        Manager *m = userdata;
        const char *name;
        int r;

        r = sd_bus_message_read(message, "s", &name);
        if (r < 0)
                return r;
        r = resolve_image(m, name, error, &i);
        if (r < 0)
                return r;
        r = image_object_path(i->id, &path);
        if (r < 0)
                return r;
        return sd_bus_reply_method_return(message, "o", path);
}

int method_list_images(sd_bus_message *message, void *userdata, sd_bus_error *error) {
        _cleanup_(sd_bus_message_unrefp) sd_bus_message *reply = NULL;
        Manager *m = userdata;
        int r;

        r = sd_bus_message_new_method_return(message, &reply);
        if (r >= 0)
                r = sd_bus_message_open_container(reply, 'a', "(sastto)");
        for (size_t k = 0; r >= 0 && k < m->n_images; k++) {
                const Image *i = m->images[k];
                _cleanup_free_ char *path = NULL;

                r = image_object_path(i->id, &path);
                if (r >= 0)
                        r = sd_bus_message_open_container(reply, 'r', "sastto");
                if (r >= 0)
                        r = sd_bus_message_append(reply, "s", i->id);
                if (r >= 0)
                        r = sd_bus_message_append_strv(reply, i->repo_tags);
                if (r >= 0)
                        r = sd_bus_message_append(reply, "tto", i->config.created_usec, i->size, path);
                if (r >= 0)
                        r = sd_bus_message_close_container(reply);
        }
        if (r >= 0)
                r = sd_bus_message_close_container(reply);
        if (r < 0)
                return r;
        return sd_bus_send(NULL, reply, NULL);
}

/* An Image object's methods get the image as userdata; the Manager is the
 * userdata of the fallback vtable that found it. */
static Manager *message_manager(sd_bus_message *message) {
        return sd_bus_slot_get_userdata(sd_bus_get_current_slot(sd_bus_message_get_bus(message)));
}

static int verify_image(sd_bus_message *message, Manager *m, const char *image, const char *action,
                        sd_bus_error *error) {
        const char *details[] = { "image", strempty(image), NULL };

        return polkit_verify(message, action, details, m, error);
}

static int image_tag(Manager *m, const char *name, sd_bus_message *message, sd_bus_error *error) {
        const char *reference;
        int r;

        r = sd_bus_message_read(message, "s", &reference);
        if (r < 0)
                return r;
        r = verify_image(message, m, name, BERTH_ACTION_MANAGE_IMAGES, error);
        if (r <= 0)
                return r < 0 ? r : 1;
        errmsg_clear();
        r = store_tag_image(m->store, name, reference);
        if (r == -ENOENT)
                return bus_error_set_errnof(error, BERTH_OBJECT_IMAGE, r, "No such image: %s", name);
        if (r < 0)
                return image_error(error, r, reference, store_last_error());
        (void) manager_refresh_images(m);
        return sd_bus_reply_method_return(message, NULL);
}

/* image: NULL (the Manager's UntagImage: whatever image has the tag) or
 * the id the reference must name. */
static int image_untag(Manager *m, const char *image, sd_bus_message *message, sd_bus_error *error) {
        const char *reference;
        int r;

        r = sd_bus_message_read(message, "s", &reference);
        if (r < 0)
                return r;
        r = verify_image(message, m, image ?: reference, BERTH_ACTION_MANAGE_IMAGES, error);
        if (r <= 0)
                return r < 0 ? r : 1;
        if (image) {
                _cleanup_(image_freep) Image *i = NULL;
                r = resolve_image(m, reference, error, &i);
                if (r < 0)
                        return r;
                if (!streq(i->id, image))
                        return sd_bus_error_setf(error, SD_BUS_ERROR_INVALID_ARGS,
                                                 "%s is not a name of image %s.", reference, image);
        }
        errmsg_clear();
        r = store_untag_image(m->store, reference);
        if (r == -ENOENT)
                return bus_error_set_errnof(error, BERTH_OBJECT_IMAGE, r, "No such image: %s", reference);
        if (r < 0)
                return image_error(error, r, reference, store_last_error());
        (void) manager_refresh_images(m);
        return sd_bus_reply_method_return(message, NULL);
}

int method_tag_image_by_name(sd_bus_message *message, void *userdata, sd_bus_error *error) {
        const char *name;
        int r;

        r = sd_bus_message_read(message, "s", &name);
        if (r < 0)
                return r;
        return image_tag(userdata, name, message, error);
}

int method_untag_image(sd_bus_message *message, void *userdata, sd_bus_error *error) {
        return image_untag(userdata, NULL, message, error);
}

static int method_tag(sd_bus_message *message, void *userdata, sd_bus_error *error) {
        return image_tag(message_manager(message), ((Image *) userdata)->id, message, error);
}

static int method_untag(sd_bus_message *message, void *userdata, sd_bus_error *error) {
        return image_untag(message_manager(message), ((Image *) userdata)->id, message, error);
}

typedef struct ImageJob {
        char *reference;
        char **strv;                  /* import: changes; save: names */
        ImageArchiveFormat format;
        bool flag;                    /* remove: force; prune: all */
        char **untagged;
        char **deleted;
        uint64_t reclaimed;
} ImageJob;

static void image_job_free(void *p) {
        ImageJob *j = p;

        if (!j)
                return;
        free(j->reference);
        strv_free(j->strv);
        strv_free(j->untagged);
        strv_free(j->deleted);
        free(j);
}

static StoreIoOptions operation_io_options(Operation *o) {
        return (StoreIoOptions) {
                .progress = operation_progress,
                .userdata = o,
                .cancel = &o->cancel,
        };
}

static int load_work(Operation *o) {
        StoreIoOptions opts = operation_io_options(o);
        _cleanup_strv_free_ char **tags = NULL;
        struct stat st;

        if (fstat(o->fd, &st) < 0)
                return -errno;
        if (S_ISDIR(st.st_mode))
                return image_load_oci_layout(o->manager->store, o->fd, &opts, &o->result_ids, &tags);
        return image_load(o->manager->store, o->fd, &opts, &o->result_ids, &tags);
}

static int import_work(Operation *o) {
        StoreIoOptions opts = operation_io_options(o);
        ImageJob *j = o->userdata;
        _cleanup_free_ char *id = NULL;
        int r;

        r = image_import(o->manager->store, o->fd, j->reference, j->strv, &opts, &id);
        if (r < 0)
                return r;
        return strv_consume(&o->result_ids, TAKE_PTR(id));
}

static int save_work(Operation *o) {
        StoreIoOptions opts = operation_io_options(o);
        ImageJob *j = o->userdata;

        return image_save(o->manager->store, j->strv, j->format, o->fd, &opts);
}

void image_refresh_when_done(Operation *o) {
        (void) manager_refresh_images(o->manager);
}

/* Takes the caller's file descriptor; the daemon reads or writes it directly. */
static int dup_message_fd(int fd, sd_bus_error *error) {
        int copy = fcntl(fd, F_DUPFD_CLOEXEC, 3);

        if (copy < 0)
                return bus_error_set_errnof(error, BERTH_OBJECT_IMAGE, -errno, "Cannot use the file descriptor passed: %m");
        return copy;
}

static int start_image_job(Manager *m, sd_bus_message *message, const char *type, int fd,
                           OperationWork work, OperationFinish finish, ImageJob *j,
                           bool reply_path, sd_bus_error *error) {
        return operation_start_job(m, message, type, fd, work, finish, j, image_job_free, reply_path, error);
}

/* Options are accepted for forward compatibility; unknown keys are refused. */
static int read_no_options(sd_bus_message *message, sd_bus_error *error) {
        const char *key;
        int r;

        r = sd_bus_message_enter_container(message, 'a', "{sv}");
        if (r < 0)
                return r;
        while ((r = sd_bus_message_enter_container(message, 'e', "sv")) > 0) {
                r = sd_bus_message_read(message, "s", &key);
                if (r < 0)
                        return r;
                return sd_bus_error_setf(error, SD_BUS_ERROR_INVALID_ARGS, "Unknown option '%s'.", key);
        }
        if (r < 0)
                return r;
        return sd_bus_message_exit_container(message);
}

int method_load_image(sd_bus_message *message, void *userdata, sd_bus_error *error) {
        Manager *m = userdata;
        int fd, r;

        r = sd_bus_message_read(message, "h", &fd);
        if (r < 0)
                return r;
        r = read_no_options(message, error);
        if (r < 0)
                return r;
        r = verify_image(message, m, NULL, BERTH_ACTION_MANAGE_IMAGES, error);
        if (r <= 0)
                return r < 0 ? r : 1;
        fd = dup_message_fd(fd, error);
        if (fd < 0)
                return fd;
        return start_image_job(m, message, "load", fd, load_work, image_refresh_when_done, NULL, true, error);
}

int method_import_image(sd_bus_message *message, void *userdata, sd_bus_error *error) {
        _cleanup_strv_free_ char **changes = NULL;
        Manager *m = userdata;
        const char *reference;
        ImageJob *j;
        int fd, r;

        r = sd_bus_message_read(message, "hs", &fd, &reference);
        if (r >= 0)
                r = sd_bus_message_read_strv(message, &changes);
        if (r < 0)
                return r;
        r = read_no_options(message, error);
        if (r < 0)
                return r;
        r = verify_image(message, m, reference, BERTH_ACTION_MANAGE_IMAGES, error);
        if (r <= 0)
                return r < 0 ? r : 1;
        fd = dup_message_fd(fd, error);
        if (fd < 0)
                return fd;
        j = calloc(1, sizeof *j);
        if (!j || (!isempty(reference) && !(j->reference = strdup(reference)))) {
                image_job_free(j);
                safe_close(fd);
                return -ENOMEM;
        }
        j->strv = TAKE_PTR(changes);
        return start_image_job(m, message, "import", fd, import_work, image_refresh_when_done, j, true, error);
}

static int image_save_start(Manager *m, sd_bus_message *message, int fd, char **names, const char *format,
                            sd_bus_error *error) {
        _cleanup_free_ char *joined = NULL;
        ImageJob *j;
        int r;

        if (strv_length(names) == 0)
                return sd_bus_error_set(error, SD_BUS_ERROR_INVALID_ARGS, "No image to save was named.");
        ImageArchiveFormat f = isempty(format) ? IMAGE_ARCHIVE_DOCKER : image_archive_format_from_string(format);
        if (f < 0)
                return sd_bus_error_setf(error, SD_BUS_ERROR_INVALID_ARGS,
                                         "Unknown archive format '%s' (docker-archive or oci-archive).", format);
        joined = strv_join(names, ":");
        if (!joined)
                return -ENOMEM;
        r = verify_image(message, m, joined, BERTH_ACTION_MANAGE_IMAGES, error);
        if (r <= 0)
                return r < 0 ? r : 1;
        STRV_FOREACH(n, names) {
                _cleanup_(image_freep) Image *i = NULL;
                r = resolve_image(m, *n, error, &i);
                if (r < 0)
                        return r;
        }
        fd = dup_message_fd(fd, error);
        if (fd < 0)
                return fd;
        j = calloc(1, sizeof *j);
        if (!j || !(j->strv = strv_copy(names))) {
                image_job_free(j);
                safe_close(fd);
                return -ENOMEM;
        }
        j->format = f;
        return start_image_job(m, message, "save", fd, save_work, NULL, j, true, error);
}

int method_save_image(sd_bus_message *message, void *userdata, sd_bus_error *error) {
        _cleanup_strv_free_ char **names = NULL;
        const char *format;
        int fd, r;

        r = sd_bus_message_read(message, "h", &fd);
        if (r >= 0)
                r = sd_bus_message_read_strv(message, &names);
        if (r >= 0)
                r = sd_bus_message_read(message, "s", &format);
        if (r < 0)
                return r;
        r = read_no_options(message, error);
        if (r < 0)
                return r;
        return image_save_start(userdata, message, fd, names, format, error);
}

/* Save(h fd, a{sv} options): options "Format" (s: docker-archive, the
 * default, or oci-archive). */
static int method_save(sd_bus_message *message, void *userdata, sd_bus_error *error) {
        char *names[] = { ((Image *) userdata)->id, NULL };
        const char *key, *format = NULL;
        int fd, r;

        r = sd_bus_message_read(message, "h", &fd);
        if (r >= 0)
                r = sd_bus_message_enter_container(message, 'a', "{sv}");
        while (r >= 0 && (r = sd_bus_message_enter_container(message, 'e', "sv")) > 0) {
                r = sd_bus_message_read(message, "s", &key);
                if (r < 0)
                        return r;
                if (!streq(key, "Format"))
                        return sd_bus_error_setf(error, SD_BUS_ERROR_INVALID_ARGS, "Unknown option '%s'.", key);
                r = sd_bus_message_read(message, "v", "s", &format);
                if (r >= 0)
                        r = sd_bus_message_exit_container(message);
        }
        if (r >= 0)
                r = sd_bus_message_exit_container(message);
        if (r < 0)
                return r;
        return image_save_start(message_manager(message), message, fd, names, format, error);
}

static int remove_work(Operation *o) {
        ImageJob *j = o->userdata;

        return store_remove_image(o->manager->store, j->reference, j->flag, &j->untagged, &j->deleted);
}

static int prune_work(Operation *o) {
        ImageJob *j = o->userdata;

        return store_prune(o->manager->store, j->flag, &j->deleted, &j->reclaimed);
}

/* Remove and prune answer the call itself once the worker is done. */
static void reply_when_done(Operation *o) {
        _cleanup_(sd_bus_error_free) sd_bus_error error = SD_BUS_ERROR_NULL;
        _cleanup_(sd_bus_message_unrefp) sd_bus_message *reply = NULL;
        ImageJob *j = o->userdata;
        int r;

        (void) manager_refresh_images(o->manager);
        if (o->result < 0) {
                if (o->result == -ENOENT)
                        (void) bus_error_set_errnof(&error, BERTH_OBJECT_IMAGE, o->result, "No such image: %s",
                                                   strempty(j->reference));
                else
                        (void) image_error(&error, o->result, strempty(j->reference), o->error_message);
                (void) sd_bus_reply_method_error(o->request, &error);
                return;
        }
        r = sd_bus_message_new_method_return(o->request, &reply);
        if (r >= 0 && streq(o->type, "remove"))
                r = sd_bus_message_append_strv(reply, j->untagged);
        if (r >= 0)
                r = sd_bus_message_append_strv(reply, j->deleted);
        if (r >= 0 && streq(o->type, "prune"))
                r = sd_bus_message_append(reply, "t", j->reclaimed);
        if (r >= 0)
                r = sd_bus_send(NULL, reply, NULL);
        if (r < 0)
                log_warning_errno(r, "Failed to reply to %s: %m", o->type);
}

static int image_remove(Manager *m, const char *name, sd_bus_message *message, sd_bus_error *error) {
        ImageJob *j;
        int force, r;

        r = sd_bus_message_read(message, "b", &force);
        if (r < 0)
                return r;
        r = verify_image(message, m, name, BERTH_ACTION_MANAGE_IMAGES, error);
        if (r <= 0)
                return r < 0 ? r : 1;
        j = calloc(1, sizeof *j);
        if (!j || !(j->reference = strdup(name))) {
                image_job_free(j);
                return -ENOMEM;
        }
        j->flag = force;
        return start_image_job(m, message, "remove", -EBADF, remove_work, reply_when_done, j, false, error);
}

int method_remove_image_by_name(sd_bus_message *message, void *userdata, sd_bus_error *error) {
        const char *name;
        int r;

        r = sd_bus_message_read(message, "s", &name);
        if (r < 0)
                return r;
        return image_remove(userdata, name, message, error);
}

static int method_remove(sd_bus_message *message, void *userdata, sd_bus_error *error) {
        return image_remove(message_manager(message), ((Image *) userdata)->id, message, error);
}

int method_prune_images(sd_bus_message *message, void *userdata, sd_bus_error *error) {
        Manager *m = userdata;
        ImageJob *j;
        int all, r;

        r = sd_bus_message_read(message, "b", &all);
        if (r < 0)
                return r;
        r = verify_image(message, m, NULL, BERTH_ACTION_MANAGE_IMAGES, error);
        if (r <= 0)
                return r < 0 ? r : 1;
        j = calloc(1, sizeof *j);
        if (!j)
                return -ENOMEM;
        j->flag = all;
        return start_image_job(m, message, "prune", -EBADF, prune_work, reply_when_done, j, false, error);
}

static int image_object_find(sd_bus *bus, const char *path, const char *interface,
                             void *userdata, void **found, sd_bus_error *error) {
        Manager *m = userdata;
        const char *hex = startswith(path, BERTH_IMAGE_PATH_PREFIX "/");
        _cleanup_free_ char *id = NULL;
        Image *i;

        if (!hex || !string_is_hex(hex, DIGEST_HEX_LEN))
                return 0;
        id = strjoin("sha256:", hex);
        if (!id)
                return -ENOMEM;
        i = manager_find_image(m, id);
        if (!i)
                return 0;
        *found = i;
        return 1;
}

static int image_node_enumerator(sd_bus *bus, const char *path, void *userdata,
                                 char ***nodes, sd_bus_error *error) {
        _cleanup_strv_free_ char **l = NULL;
        Manager *m = userdata;
        int r;

        for (size_t k = 0; k < m->n_images; k++) {
                char *p;
                r = image_object_path(m->images[k]->id, &p);
                if (r >= 0)
                        r = strv_consume(&l, p);
                if (r < 0)
                        return r;
        }
        *nodes = TAKE_PTR(l);
        return 1;
}

#define CONFIG_OFFSET(field) (offsetof(Image, config) + offsetof(OciImageConfig, field))

static const sd_bus_vtable image_vtable[] = {
        SD_BUS_VTABLE_START(0),
        SD_BUS_PROPERTY("Id", "s", bus_property_get_string, offsetof(Image, id), SD_BUS_VTABLE_PROPERTY_CONST),
        SD_BUS_PROPERTY("RepoTags", "as", bus_property_get_strv, offsetof(Image, repo_tags),
                        SD_BUS_VTABLE_PROPERTY_EMITS_CHANGE),
        SD_BUS_PROPERTY("RepoDigests", "as", bus_property_get_strv, offsetof(Image, repo_digests),
                        SD_BUS_VTABLE_PROPERTY_EMITS_CHANGE),
        SD_BUS_PROPERTY("Size", "t", NULL, offsetof(Image, size), SD_BUS_VTABLE_PROPERTY_CONST),
        SD_BUS_PROPERTY("VirtualSize", "t", NULL, offsetof(Image, virtual_size), SD_BUS_VTABLE_PROPERTY_CONST),
        SD_BUS_PROPERTY("Created", "t", NULL, CONFIG_OFFSET(created_usec), SD_BUS_VTABLE_PROPERTY_CONST),
        SD_BUS_PROPERTY("Architecture", "s", bus_property_get_string, CONFIG_OFFSET(architecture),
                        SD_BUS_VTABLE_PROPERTY_CONST),
        SD_BUS_PROPERTY("Os", "s", bus_property_get_string, CONFIG_OFFSET(os), SD_BUS_VTABLE_PROPERTY_CONST),
        SD_BUS_PROPERTY("Variant", "s", bus_property_get_string, CONFIG_OFFSET(variant), SD_BUS_VTABLE_PROPERTY_CONST),
        SD_BUS_PROPERTY("Author", "s", bus_property_get_string, CONFIG_OFFSET(author), SD_BUS_VTABLE_PROPERTY_CONST),
        SD_BUS_PROPERTY("Layers", "as", bus_property_get_strv, CONFIG_OFFSET(diff_ids), SD_BUS_VTABLE_PROPERTY_CONST),
        SD_BUS_PROPERTY("Labels", "a{ss}", property_get_labels, CONFIG_OFFSET(labels), SD_BUS_VTABLE_PROPERTY_CONST),
        SD_BUS_PROPERTY("Env", "as", bus_property_get_strv, CONFIG_OFFSET(env), SD_BUS_VTABLE_PROPERTY_CONST),
        SD_BUS_PROPERTY("Cmd", "as", bus_property_get_strv, CONFIG_OFFSET(cmd), SD_BUS_VTABLE_PROPERTY_CONST),
        SD_BUS_PROPERTY("Entrypoint", "as", bus_property_get_strv, CONFIG_OFFSET(entrypoint), SD_BUS_VTABLE_PROPERTY_CONST),
        SD_BUS_PROPERTY("WorkingDir", "s", bus_property_get_string, CONFIG_OFFSET(working_dir), SD_BUS_VTABLE_PROPERTY_CONST),
        SD_BUS_PROPERTY("User", "s", bus_property_get_string, CONFIG_OFFSET(user), SD_BUS_VTABLE_PROPERTY_CONST),
        SD_BUS_PROPERTY("ExposedPorts", "as", bus_property_get_strv, CONFIG_OFFSET(exposed_ports), SD_BUS_VTABLE_PROPERTY_CONST),
        SD_BUS_PROPERTY("Volumes", "as", bus_property_get_strv, CONFIG_OFFSET(volumes), SD_BUS_VTABLE_PROPERTY_CONST),
        SD_BUS_PROPERTY("StopSignal", "s", bus_property_get_string, CONFIG_OFFSET(stop_signal), SD_BUS_VTABLE_PROPERTY_CONST),
        SD_BUS_PROPERTY("History", "a(tsssb)", property_get_history, 0, SD_BUS_VTABLE_PROPERTY_CONST),
        SD_BUS_METHOD_WITH_ARGS("Remove", SD_BUS_ARGS("b", force), SD_BUS_RESULT("as", untagged, "as", deleted),
                                method_remove, SD_BUS_VTABLE_UNPRIVILEGED),
        SD_BUS_METHOD_WITH_ARGS("Tag", SD_BUS_ARGS("s", reference), SD_BUS_NO_RESULT, method_tag,
                                SD_BUS_VTABLE_UNPRIVILEGED),
        SD_BUS_METHOD_WITH_ARGS("Untag", SD_BUS_ARGS("s", reference), SD_BUS_NO_RESULT, method_untag,
                                SD_BUS_VTABLE_UNPRIVILEGED),
        SD_BUS_METHOD_WITH_ARGS("Save", SD_BUS_ARGS("h", output, "a{sv}", options), SD_BUS_RESULT("o", job),
                                method_save, SD_BUS_VTABLE_UNPRIVILEGED),
        SD_BUS_VTABLE_END
};

int image_dbus_register(Manager *m) {
        int r;

        r = sd_bus_add_fallback_vtable(m->bus, NULL, BERTH_IMAGE_PATH_PREFIX, BERTH_IMAGE_IFACE,
                                       image_vtable, image_object_find, m);
        if (r < 0)
                return r;
        return sd_bus_add_node_enumerator(m->bus, NULL, BERTH_IMAGE_PATH_PREFIX, image_node_enumerator, m);
}
