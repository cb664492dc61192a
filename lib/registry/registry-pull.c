/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <fcntl.h>
#include <pthread.h>
#include <signal.h>
#include <sys/stat.h>
#include <unistd.h>

#include "fileio.h"
#include "image-internal.h"
#include "log.h"
#include "reference.h"
#include "registry-http.h"
#include "registry-manifest.h"
#include "store-partial.h"

/* A pull in the operation's thread: the manifest (and the platform's
 * manifest of an index), the config, then the missing layers, a few at a
 * time. Each layer's bytes go to a staging blob file (kept for the second,
 * sequential unpack some layers need) and through a non-blocking pipe into
 * a thread running layer_unpack(), so a layer is unpacked when its last
 * byte arrives. A full pipe pauses the transfer until the pipe drains. The
 * store sees the image only through store_commit_image(), once everything
 * is verified; anything else leaves it as it was, but for the partial
 * blobs: the blob file of a layer is the store's partial blob of its
 * digest (store-partial.h), so what a pull that does not complete received
 * stays, and the next pull feeds those bytes through the digest and the
 * unpacker again, then asks the registry for the rest only. */

#define PULL_PIPE_SIZE (1024 * 1024)
#define PULL_PENDING_MAX (64 * 1024 * 1024)
#define PULL_REPLAY_CHUNK (256 * 1024)

typedef struct Pull Pull;

typedef struct PullLayer {
        Pull *pull;
        size_t index;
        const OciDescriptor *desc;
        RegistryLayerState state;
        bool wanted;
        RegistryRequest *req;
        Sha256 *hash;
        uint64_t received;
        int blob_fd;
        StorePartial *partial;         /* where blob_fd writes, or NULL: a staging file */
        uint64_t kept;                 /* bytes the partial had, fed again before the request */
        sd_event_source *replay_source;
        int pipe_fd;                   /* write end, O_NONBLOCK; -EBADF once closed */
        sd_event_source *pipe_source;
        uint8_t *pending;              /* what the full pipe did not take yet, from pending_off */
        size_t n_pending, pending_off;
        bool paused, download_done;

        /* The unpack thread's own, until joined. */
        pthread_t thread;
        bool thread_started;
        int read_fd, dir_fd;
        int *lowers;
        size_t n_lowers;
        int unpack_r;
        bool with_lowers;              /* all its lower layers were at hand */
        bool final;
        char **implied;                /* directories it implies, to fix up when unpacked without lowers */
        char unpack_error[384];
        LayerUnpackResult res;
} PullLayer;

struct Pull {
        Store *store;
        const RegistryOptions *opts;
        Reference *ref;
        char *name;                    /* "host/repo" for messages */
        char *refstr;                  /* the tag or the digest */
        sd_event *event;
        RegistryClient *client;
        StoreStaging *staging;
        RegistryManifest manifest;
        OciManifest *parsed;
        OciImageConfig *config;
        StagedImage img;
        PullLayer *layers;
        size_t n_layers, next, running, replaying;
        unsigned max_parallel;
        int error;
        char *error_msg;
        uint64_t done, total;
        char *config_data;             /* the config blob, verified */
        size_t config_size;
        bool config_present;
        uint8_t *replay_buf;           /* PULL_REPLAY_CHUNK */
};

static void layer_report(PullLayer *l) {
        Pull *p = l->pull;

        if (p->opts->layer_progress)
                p->opts->layer_progress(l->index, p->n_layers, l->desc->digest, l->state, l->received,
                                        l->desc->size, p->opts->userdata);
}

static void layer_set_state(PullLayer *l, RegistryLayerState s) {
        l->state = s;
        layer_report(l);
}

static void pull_report(Pull *p, const char *current) {
        if (p->opts->progress)
                p->opts->progress(p->done, p->total, current, p->opts->userdata);
}

static void layer_close_pipe(PullLayer *l) {
        l->pipe_source = sd_event_source_disable_unref(l->pipe_source);
        l->pipe_fd = safe_close(l->pipe_fd);
        l->pending = mfree(l->pending);
        l->n_pending = l->pending_off = 0;
}

static void layer_stop_replay(PullLayer *l) {
        if (!l->replay_source)
                return;
        l->replay_source = sd_event_source_disable_unref(l->replay_source);
        l->pull->replaying--;
}

/* The first failure wins; everything else running is stopped. */
static int pull_fail(Pull *p, int r) {
        if (p->error < 0)
                return r;
        p->error = r;
        free(p->error_msg);
        p->error_msg = strdup(strempty(errmsg_last()));
        for (size_t i = 0; i < p->n_layers; i++) {
                PullLayer *l = &p->layers[i];
                if (l->req)
                        registry_request_cancel(l->req);
                layer_stop_replay(l);
                /* The unpack threads read EOF and end. */
                layer_close_pipe(l);
        }
        return r;
}

static int pull_check_cancel(Pull *p) {
        if (p->opts->cancel && *p->opts->cancel)
                return errmsg_set(-ECANCELED, "%s: pull cancelled.", p->name);
        return 0;
}

/* ---- the unpack thread ---- */

static void *unpack_thread(void *userdata) {
        PullLayer *l = userdata;
        const volatile int *cancel = l->pull->opts->cancel;

        l->with_lowers = l->n_lowers == l->index;
        l->unpack_r = layer_unpack_full(l->read_fd, l->dir_fd, l->lowers, l->n_lowers,
                                        &store_limits(l->pull->store)->layer, cancel, &l->res,
                                        l->with_lowers ? NULL : &l->implied);
        if (l->unpack_r < 0) {
                l->final = IN_SET(l->unpack_r, -ECANCELED, -EFBIG, -E2BIG, -EXDEV, -ENOMEM, -ENOSPC) ||
                           l->with_lowers;
                snprintf(l->unpack_error, sizeof l->unpack_error, "%s",
                         layer_last_error() ?: strerror(-l->unpack_r));
        }
        /* Closing the read end makes the writer's next write fail with EPIPE
         * rather than wait for a reader that is gone. */
        l->read_fd = safe_close(l->read_fd);
        return NULL;
}

static void layer_join(PullLayer *l) {
        if (l->thread_started) {
                pthread_join(l->thread, NULL);
                l->thread_started = false;
        }
        l->read_fd = safe_close(l->read_fd);
        l->dir_fd = safe_close(l->dir_fd);
        if (l->lowers)
                load_lowers_close(l->lowers, l->n_lowers);
        l->lowers = mfree(l->lowers);
        l->n_lowers = 0;
}

/* ---- feeding the pipe ---- */

static void consume_sigpipe(void) {
        sigset_t ss;
        struct timespec zero = {};

        sigemptyset(&ss);
        sigaddset(&ss, SIGPIPE);
        while (sigtimedwait(&ss, NULL, &zero) > 0)
                ;
}

/* Writes what the pipe takes; returns the bytes taken, or -EPIPE when the
 * unpacker is gone (it failed, or finished: its result tells). */
static ssize_t pipe_write(PullLayer *l, const uint8_t *p, size_t n) {
        size_t done = 0;

        while (done < n) {
                ssize_t k = write(l->pipe_fd, p + done, n - done);
                if (k < 0) {
                        if (errno == EINTR)
                                continue;
                        if (errno == EAGAIN)
                                break;
                        if (errno == EPIPE)
                                consume_sigpipe();
                        return -errno;
                }
                done += (size_t) k;
        }
        return (ssize_t) done;
}

static int keep_pending(PullLayer *l, const uint8_t *p, size_t n) {
        uint8_t *b;

        if (l->n_pending + n > PULL_PENDING_MAX)
                return errmsg_set(-ENOBUFS, "%s: layer %s: the unpacker does not keep up.", l->pull->name,
                                  l->desc->digest);
        b = realloc(l->pending, l->n_pending + n);
        if (!b)
                return -ENOMEM;
        memcpy(b + l->n_pending, p, n);
        l->pending = b;
        l->n_pending += n;
        return 0;
}

/* The pipe took everything pending (or is gone): the transfer, or the
 * replay of kept bytes, goes on. */
static void layer_unpause(PullLayer *l) {
        if (l->paused && l->req)
                registry_request_unpause(l->req);
        l->paused = false;
        if (l->replay_source)
                (void) sd_event_source_set_enabled(l->replay_source, SD_EVENT_ON);
}

static int on_pipe_writable(sd_event_source *s, int fd, uint32_t revents, void *userdata) {
        PullLayer *l = userdata;
        ssize_t k = pipe_write(l, l->pending + l->pending_off, l->n_pending - l->pending_off);

        if (k < 0) {
                /* The unpacker is gone; the blob file still gets everything. */
                layer_close_pipe(l);
                layer_unpause(l);
                return 0;
        }
        /* Taken from the front; compacted only once half of it is gone. */
        l->pending_off += (size_t) k;
        if (l->pending_off < l->n_pending) {
                if (l->pending_off > l->n_pending / 2) {
                        memmove(l->pending, l->pending + l->pending_off, l->n_pending - l->pending_off);
                        l->n_pending -= l->pending_off;
                        l->pending_off = 0;
                }
                return 0;
        }
        l->n_pending = l->pending_off = 0;
        (void) sd_event_source_set_enabled(l->pipe_source, SD_EVENT_OFF);
        if (l->download_done)
                layer_close_pipe(l);
        layer_unpause(l);
        return 0;
}

static int feed_pipe(PullLayer *l, const uint8_t *p, size_t n) {
        ssize_t k = 0;
        int r;

        if (l->pipe_fd < 0)
                return 0;
        if (l->n_pending == 0) {
                k = pipe_write(l, p, n);
                if (k < 0) {
                        layer_close_pipe(l);
                        return 0;
                }
                if ((size_t) k == n)
                        return 0;
        }
        r = keep_pending(l, p + k, n - (size_t) k);
        if (r < 0)
                return r;
        if (!l->pipe_source) {
                r = sd_event_add_io(l->pull->event, &l->pipe_source, l->pipe_fd, EPOLLOUT, on_pipe_writable, l);
                if (r < 0)
                        return r;
        }
        (void) sd_event_source_set_enabled(l->pipe_source, SD_EVENT_ON);
        if (!l->paused && l->req) {
                registry_request_pause(l->req);
                l->paused = true;
        }
        return 0;
}

static int write_all(int fd, const void *p, size_t n) {
        while (n > 0) {
                ssize_t k = write(fd, p, n);
                if (k < 0) {
                        if (errno == EINTR)
                                continue;
                        return -errno;
                }
                p = (const uint8_t *) p + k;
                n -= (size_t) k;
        }
        return 0;
}

/* Bytes of the layer in order, from the network or kept from an earlier
 * pull (those are in the blob file already): digested, written, unpacked. */
static int layer_take_bytes(PullLayer *l, const void *data, size_t n, bool write_blob) {
        Pull *p = l->pull;
        int r;

        l->received += n;
        p->done += n;
        if ((r = sha256_update(l->hash, data, n)) < 0)
                return r;
        r = write_blob ? write_all(l->blob_fd, data, n) : 0;
        if (r < 0)
                return errmsg_set(r, "%s: layer %s: cannot write the blob: %s.", p->name, l->desc->digest,
                                  strerror(-r));
        r = feed_pipe(l, data, n);
        if (r < 0)
                return r;
        layer_report(l);
        pull_report(p, l->desc->digest);
        return 0;
}

static int on_layer_data(RegistryRequest *req, const void *data, size_t n, void *userdata) {
        PullLayer *l = userdata;
        Pull *p = l->pull;

        l->req = req;
        if (l->received + n > l->desc->size)
                return errmsg_set(-EBADMSG, "%s: layer %s: the registry sent more than the %llu bytes the "
                                  "manifest gives.", p->name, l->desc->digest, (unsigned long long) l->desc->size);
        return layer_take_bytes(l, data, n, true);
}

/* Bytes the registry sent that cannot be right are not kept for the next
 * pull: a digest mismatch, more than the manifest gives, a resume at the
 * wrong offset (-EBADMSG), or a range the registry refuses (HTTP 416). */
static void layer_drop_partial(PullLayer *l) {
        store_partial_drop(TAKE_PTR(l->partial));
}

static int layer_finish_download(PullLayer *l) {
        Pull *p = l->pull;
        char digest[DIGEST_STRING_MAX];
        int r;

        if (l->received != l->desc->size)
                return errmsg_set(-EBADMSG, "%s: layer %s: received %llu bytes, the manifest gives %llu.",
                                  p->name, l->desc->digest, (unsigned long long) l->received,
                                  (unsigned long long) l->desc->size);
        r = sha256_final(l->hash, digest);
        if (r < 0)
                return r;
        if (!streq(digest, l->desc->digest)) {
                layer_drop_partial(l);
                return errmsg_set(-EBADMSG, "%s: layer %s: digest mismatch: the blob received is %s.",
                                  p->name, l->desc->digest, digest);
        }
        l->blob_fd = safe_close(l->blob_fd);
        r = l->partial ? store_partial_take(TAKE_PTR(l->partial), p->staging, p->img.layers[l->index].blob_path) : 0;
        if (r < 0)
                return errmsg_set(r, "%s: layer %s: cannot stage the blob: %s.", p->name, l->desc->digest,
                                  strerror(-r));
        if (l->n_pending == 0)
                layer_close_pipe(l);
        else
                l->download_done = true;
        layer_set_state(l, REGISTRY_LAYER_VERIFYING);
        return 0;
}

static int pull_start_next(Pull *p);

static void on_layer_done(RegistryRequest *req, int r, const RegistryResponse *resp, void *userdata) {
        PullLayer *l = userdata;
        Pull *p = l->pull;

        l->req = NULL;
        p->running--;
        if (r < 0 && (r == -EBADMSG || (resp && resp->status == 416)))
                layer_drop_partial(l);
        if (r < 0) {
                const char *e = registry_request_error(req);
                if (!isempty(e))
                        errmsg_set(r, "%s", e);
                else
                        errmsg_set(r, "%s: layer %s: %s.", p->name, l->desc->digest, strerror(-r));
                pull_fail(p, r);
                return;
        }
        r = layer_finish_download(l);
        if (r < 0) {
                pull_fail(p, r);
                return;
        }
        r = pull_start_next(p);
        if (r < 0)
                pull_fail(p, r);
}

/* ---- starting a layer ---- */

/* Unpacked with its lower layers when they are all in the store already (a
 * new top on a known base), else without and maybe again later. */
static int layer_lowers(PullLayer *l) {
        Pull *p = l->pull;
        int r;

        for (size_t k = 0; k < l->index; k++)
                if (p->layers[k].wanted)
                        return 0;
        if (l->index == 0)
                return 0;
        l->lowers = calloc(l->index, sizeof(int));
        if (!l->lowers)
                return -ENOMEM;
        for (size_t k = 0; k < l->index; k++)
                l->lowers[k] = -EBADF;
        l->n_lowers = l->index;
        r = load_open_lowers(p->store, p->staging, p->img.layers, l->index, l->lowers);
        if (r < 0) {
                load_lowers_close(l->lowers, l->n_lowers);
                l->lowers = mfree(l->lowers);
                l->n_lowers = 0;
        }
        return 0;
}

/* The blob file: the store's partial blob of the digest where it can be
 * had (another pull may be writing it), so that what arrives stays should
 * this pull not complete; else a staging file. The last byte is always
 * asked for, so that there is a request to make. */
static int layer_open_blob(PullLayer *l) {
        Pull *p = l->pull;
        const StagedLayer *sl = &p->img.layers[l->index];

        if (p->opts->max_partial_size > 0 && l->desc->size > 0 &&
            store_partial_open(p->store, l->desc->digest, l->desc->size - 1, &l->partial) >= 0) {
                l->kept = store_partial_size(l->partial);
                l->blob_fd = fcntl(store_partial_fd(l->partial), F_DUPFD_CLOEXEC, 3);
        } else
                l->blob_fd = openat(p->staging->dirfd, sl->blob_path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC,
                                    0600);
        return l->blob_fd < 0 ? -errno : 0;
}

static int layer_open_files(PullLayer *l) {
        Pull *p = l->pull;
        const StagedLayer *sl = &p->img.layers[l->index];
        _cleanup_free_ char *diff = strjoin(sl->dir_path, "/diff");
        int fds[2], r;

        if (!diff)
                return -ENOMEM;
        r = layer_open_blob(l);
        if (r < 0)
                return r;
        if (mkdirat(p->staging->dirfd, sl->dir_path, 0700) < 0 || mkdirat(p->staging->dirfd, diff, 0755) < 0)
                return -errno;
        l->dir_fd = openat(p->staging->dirfd, diff, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        if (l->dir_fd < 0)
                return -errno;
        if (pipe2(fds, O_CLOEXEC | O_NONBLOCK) < 0)
                return -errno;
        l->read_fd = fds[0];
        l->pipe_fd = fds[1];
        (void) fcntl(l->pipe_fd, F_SETPIPE_SZ, PULL_PIPE_SIZE);
        return sha256_new(&l->hash);
}

/* GET of the blob, from the first byte this pull does not have. */
static int layer_request(PullLayer *l) {
        Pull *p = l->pull;
        _cleanup_free_ char *path = strjoin("blobs/", l->desc->digest);
        RegistryRequestSpec spec = {
                .method = "GET", .repository = p->ref->path, .scope_actions = "pull", .path = path,
                .body_fd = -EBADF, .on_data = on_layer_data, .resumable = true, .resume_from = l->received,
                .for_pull = true, .on_done = on_layer_done, .userdata = l,
        };

        if (!path)
                return -ENOMEM;
        return registry_request_start(p->client, &spec, &l->req);
}

/* A piece of the kept bytes per turn of the loop, while the pipe takes
 * them (a full pipe turns this off until it drains), then the request for
 * the rest. */
static int layer_replay_step(PullLayer *l) {
        Pull *p = l->pull;
        ssize_t n;
        int r;

        if (!p->replay_buf && !(p->replay_buf = malloc(PULL_REPLAY_CHUNK)))
                return -ENOMEM;
        if ((r = pull_check_cancel(p)) < 0)
                return r;
        n = pread(l->blob_fd, p->replay_buf, MIN((uint64_t) PULL_REPLAY_CHUNK, l->kept - l->received),
                  (off_t) l->received);
        if (n <= 0)
                return errmsg_set(n < 0 ? -errno : -EIO, "%s: layer %s: cannot read the partial blob.", p->name,
                                  l->desc->digest);
        r = layer_take_bytes(l, p->replay_buf, (size_t) n, false);
        if (r < 0)
                return r;
        if (l->received < l->kept) {
                if (l->n_pending > 0)
                        (void) sd_event_source_set_enabled(l->replay_source, SD_EVENT_OFF);
                return 0;
        }
        layer_stop_replay(l);
        return layer_request(l);
}

static int on_replay(sd_event_source *s, void *userdata) {
        PullLayer *l = userdata;
        int r;

        r = layer_replay_step(l);
        if (r < 0)
                pull_fail(l->pull, r);
        return 0;
}

static int layer_start_replay(PullLayer *l) {
        int r;

        r = sd_event_add_defer(l->pull->event, &l->replay_source, on_replay, l);
        if (r < 0)
                return r;
        l->pull->replaying++;
        return sd_event_source_set_enabled(l->replay_source, SD_EVENT_ON);
}

static int layer_start(PullLayer *l) {
        Pull *p = l->pull;
        int r;

        if ((r = layer_open_files(l)) < 0 || (r = layer_lowers(l)) < 0)
                return errmsg_set(r, "%s: layer %s: cannot stage it: %s.", p->name, l->desc->digest, strerror(-r));
        if (pthread_create(&l->thread, NULL, unpack_thread, l) != 0)
                return errmsg_set(-EAGAIN, "%s: cannot start an unpack thread.", p->name);
        l->thread_started = true;
        r = l->kept > 0 ? layer_start_replay(l) : layer_request(l);
        if (r < 0)
                return r;
        p->running++;
        layer_set_state(l, REGISTRY_LAYER_DOWNLOADING);
        return 0;
}

static int pull_start_next(Pull *p) {
        int r;

        while (p->error >= 0 && p->running < p->max_parallel && p->next < p->n_layers) {
                PullLayer *l = &p->layers[p->next++];
                if (!l->wanted)
                        continue;
                r = layer_start(l);
                if (r < 0)
                        return r;
        }
        return 0;
}

/* ---- after the transfers: verification and the sequential pass ---- */

static int layer_check_result(PullLayer *l) {
        Pull *p = l->pull;
        const char *diff_id = p->img.layers[l->index].layer.diff_id;

        if (l->unpack_r < 0)
                return errmsg_set(l->unpack_r, "%s: layer %s: %s.", p->name, l->desc->digest, l->unpack_error);
        if (!streq(l->res.compressed_digest, l->desc->digest))
                return errmsg_set(-EBADMSG, "%s: layer %s: digest mismatch: the blob unpacked is %s.", p->name,
                                  l->desc->digest, l->res.compressed_digest);
        if (!streq(l->res.diff_id, diff_id))
                return errmsg_set(-EBADMSG, "%s: layer %s: digest mismatch: the config says diff_id %s, "
                                  "the layer is %s.", p->name, l->desc->digest, diff_id, l->res.diff_id);
        return 0;
}

/* Whether the streamed unpack has to be done again with the lower layers:
 * it failed for want of them (a hardlink into a lower layer). */
static bool layer_needs_redo(const PullLayer *l) {
        return !l->with_lowers && l->unpack_r < 0 && !l->final;
}

/* The layer's diff directory afresh (emptied if empty is set) and its lower
 * layers, for a second pass over it. */
static int layer_reopen(PullLayer *l, bool empty, int *lowers) {
        Pull *p = l->pull;
        _cleanup_free_ char *diff = strjoin(p->img.layers[l->index].dir_path, "/diff");
        int r;

        if (!diff)
                return -ENOMEM;
        if (empty) {
                r = rm_rf_at(p->staging->dirfd, diff);
                if (r < 0 || mkdirat(p->staging->dirfd, diff, 0755) < 0)
                        return r < 0 ? r : -errno;
        }
        l->dir_fd = safe_close(l->dir_fd);
        l->dir_fd = openat(p->staging->dirfd, diff, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        if (l->dir_fd < 0)
                return -errno;
        return load_open_lowers(p->store, p->staging, p->img.layers, l->index, lowers);
}

static int layer_redo(PullLayer *l) {
        Pull *p = l->pull;
        _cleanup_close_ int bfd = -EBADF;
        int lowers[l->index + 1];
        int r;

        for (size_t k = 0; k <= l->index; k++)
                lowers[k] = -EBADF;
        bfd = openat(p->staging->dirfd, p->img.layers[l->index].blob_path, O_RDONLY | O_CLOEXEC);
        if (bfd < 0)
                return -errno;
        r = layer_reopen(l, true, lowers);
        if (r >= 0) {
                l->unpack_r = layer_unpack(bfd, l->dir_fd, lowers, l->index, &store_limits(p->store)->layer,
                                           p->opts->cancel, &l->res);
                if (l->unpack_r < 0)
                        snprintf(l->unpack_error, sizeof l->unpack_error, "%s",
                                 layer_last_error() ?: strerror(-l->unpack_r));
        }
        load_lowers_close(lowers, l->index);
        l->with_lowers = true;
        return r;
}

/* Streamed before its lower layers were in: the directories it implies get
 * their owners, modes and times from below now, as a redo would give them. */
static int layer_fix_implied(PullLayer *l) {
        int lowers[l->index + 1];
        int r;

        if (l->with_lowers || l->unpack_r < 0 || strv_length(l->implied) == 0)
                return 0;
        for (size_t k = 0; k <= l->index; k++)
                lowers[k] = -EBADF;
        r = layer_reopen(l, false, lowers);
        if (r >= 0 && layer_fix_implied_dirs(l->dir_fd, lowers, l->index, l->implied) < 0) {
                l->unpack_r = -EIO;
                snprintf(l->unpack_error, sizeof l->unpack_error, "%s", layer_last_error() ?: "cannot fix it up");
        }
        load_lowers_close(lowers, l->index);
        return r;
}

/* A transfer may end while the pipe still holds back its last bytes; with
 * no transfer left the loop is gone, so they are written here (the
 * unpacker is reading, or gone: EPIPE). */
static void layer_flush(PullLayer *l) {
        if (l->pipe_fd >= 0 && l->n_pending > 0 && l->pull->error >= 0) {
                if (write_all_cancellable(l->pipe_fd, l->pending + l->pending_off, l->n_pending - l->pending_off,
                                          l->pull->opts->cancel) == -EPIPE)
                        consume_sigpipe();
        }
        layer_close_pipe(l);
}

static int pull_finish_layers(Pull *p) {
        int r;

        for (size_t i = 0; i < p->n_layers; i++) {
                layer_flush(&p->layers[i]);
                layer_join(&p->layers[i]);
        }
        if (p->error < 0)
                return errmsg_set(p->error, "%s", strempty(p->error_msg));
        for (size_t i = 0; i < p->n_layers; i++) {
                PullLayer *l = &p->layers[i];
                StagedLayer *sl = &p->img.layers[i];

                if (!l->wanted)
                        continue;
                if (layer_needs_redo(l) && (r = layer_redo(l)) < 0)
                        return errmsg_set(r, "%s: layer %s: cannot unpack it again: %s.", p->name,
                                          l->desc->digest, strerror(-r));
                if ((r = layer_fix_implied(l)) < 0)
                        return errmsg_set(r, "%s: layer %s: cannot open its lower layers: %s.", p->name,
                                          l->desc->digest, strerror(-r));
                r = layer_check_result(l);
                if (r < 0)
                        return r;
                _cleanup_free_ char *diff = strjoin(sl->dir_path, "/diff");
                if (!diff)
                        return -ENOMEM;
                sl->layer.size = store_tree_size_at(p->staging->dirfd, diff);
                layer_set_state(l, REGISTRY_LAYER_DONE);
        }
        return pull_check_cancel(p);
}

/* The client's loop ends with its last request: layers still feeding
 * kept bytes have none yet, and turn the loop themselves. */
static int pull_layers(Pull *p) {
        int r;

        r = pull_start_next(p);
        if (r < 0)
                pull_fail(p, r);
        for (;;) {
                r = registry_client_run(p->client);
                if (r < 0)
                        pull_fail(p, r);
                if (p->replaying == 0)
                        break;
                r = pull_check_cancel(p);
                if (r >= 0)
                        r = sd_event_run(p->event, 100 * USEC_PER_MSEC);
                if (r < 0)
                        pull_fail(p, r);
        }
        return pull_finish_layers(p);
}

/* ---- manifest, config and the plan ---- */

/* GET prefix<ref>, the body collected (at most max bytes). */
static int pull_get(RegistryClient *c, const char *repository, const char *prefix, const char *ref,
                    const char * const *headers, uint64_t max, RegistryReply *ret) {
        _cleanup_free_ char *path = strjoin(prefix, ref);
        RegistryRequestSpec spec = {
                .method = "GET", .repository = repository, .scope_actions = "pull", .path = path,
                .headers = headers, .body_fd = -EBADF, .max_body = max, .for_pull = true,
        };

        if (!path)
                return -ENOMEM;
        return registry_request_run_once(c, &spec, ret);
}

/* GET manifests/<ref>, checked by registry_manifest_check(). */
static int manifest_fetch(RegistryClient *c, const char *name, const char *repository, const char *ref,
                          const char *expected_digest, uint64_t max_size, RegistryManifest *ret) {
        const char *headers[] = { registry_manifest_accept, NULL };
        RegistryReply reply = {};
        int r;

        r = pull_get(c, repository, "manifests/", ref, headers, max_size, &reply);
        if (r >= 0)
                r = registry_manifest_check(name, ref, reply.content_type, reply.docker_content_digest,
                                            expected_digest, reply.body, reply.body_size, max_size, ret);
        registry_reply_done(&reply);
        return r;
}

static uint64_t max_manifest(const Pull *p) {
        return p->opts->max_manifest_size ?: 4 * 1024 * 1024;
}

static uint64_t max_config(const Pull *p) {
        return p->opts->max_config_size ?: 8 * 1024 * 1024;
}

/* A blob the store has already (a manifest or config seen before), read
 * instead of asked for: a pull of what is there costs one request. */
static int read_stored_blob(Pull *p, const char *digest, uint64_t max, char **ret, size_t *ret_size) {
        _cleanup_close_ int fd = -EBADF;

        if (!store_blob_exists(p->store, digest))
                return -ENOENT;
        fd = store_blob_open(p->store, digest);
        if (fd < 0)
                return fd;
        return read_full_fd(fd, max, ret, ret_size);
}

static int pull_platform_manifest(Pull *p) {
        _cleanup_(oci_index_freep) OciIndex *index = NULL;
        _cleanup_free_ char *data = NULL;
        RegistryManifest m = {};
        const OciDescriptor *d;
        size_t k, size;
        int r;

        r = oci_index_parse(p->manifest.data, p->manifest.size, &index);
        if (r < 0)
                return errmsg_set(r, "%s: %s", p->name, strempty(errmsg_last()));
        r = registry_manifest_select(p->name, index, p->opts->platform, &k);
        if (r < 0)
                return r;
        d = &index->manifests[k];
        if (d->size > max_manifest(p))
                return errmsg_set(-EFBIG, "%s: manifest %s is larger than the limit of %llu bytes.", p->name,
                                  d->digest, (unsigned long long) max_manifest(p));
        if (read_stored_blob(p, d->digest, max_manifest(p), &data, &size) >= 0)
                r = registry_manifest_check(p->name, d->digest, oci_media_type_to_string(d->media_type), NULL,
                                            d->digest, data, size, max_manifest(p), &m);
        else
                r = manifest_fetch(p->client, p->name, p->ref->path, d->digest, d->digest,
                                   max_manifest(p), &m);
        if (r < 0)
                return r;
        registry_manifest_done(&p->manifest);
        p->manifest = m;
        if (!oci_media_type_is_manifest(m.media_type) || m.size != d->size)
                return errmsg_set(-EBADMSG, "%s: manifest %s of the index is not the image manifest it lists.",
                                  p->name, d->digest);
        return 0;
}

static int pull_manifest(Pull *p) {
        int r;

        r = manifest_fetch(p->client, p->name, p->ref->path, p->refstr, p->ref->digest,
                           max_manifest(p), &p->manifest);
        if (r < 0)
                return r;
        if (oci_media_type_is_index(p->manifest.media_type)) {
                r = pull_platform_manifest(p);
                if (r < 0)
                        return r;
        }
        r = oci_manifest_parse(p->manifest.data, p->manifest.size, &p->parsed);
        if (r < 0)
                return errmsg_set(r, "%s: %s", p->name, strempty(errmsg_last()));
        if (p->parsed->n_layers > store_limits(p->store)->max_layers)
                return errmsg_set(-E2BIG, "%s: the image has %zu layers, more than the limit of %llu.", p->name,
                                  p->parsed->n_layers, (unsigned long long) store_limits(p->store)->max_layers);
        return 0;
}

static int fetch_config(Pull *p, const OciDescriptor *d, char **ret, size_t *ret_size) {
        RegistryReply reply = {};
        int r;

        r = pull_get(p->client, p->ref->path, "blobs/", d->digest, NULL, max_config(p), &reply);
        if (r < 0)
                return r;
        *ret = TAKE_PTR(reply.body);
        *ret_size = reply.body_size;
        registry_reply_done(&reply);
        return 0;
}

static int pull_config(Pull *p) {
        const OciDescriptor *d = &p->parsed->config;
        _cleanup_free_ char *data = NULL;
        char digest[DIGEST_STRING_MAX];
        size_t size;
        int r;

        if (d->size > max_config(p))
                return errmsg_set(-EFBIG, "%s: the image config is larger than the limit of %llu bytes.", p->name,
                                  (unsigned long long) max_config(p));
        p->config_present = read_stored_blob(p, d->digest, max_config(p), &data, &size) >= 0;
        if (!p->config_present && (r = fetch_config(p, d, &data, &size)) < 0)
                return r;
        if ((r = sha256_digest_buffer(data, size, digest)) < 0)
                return r;
        if (!streq(digest, d->digest) || size != d->size)
                return errmsg_set(-EBADMSG, "%s: config %s: digest mismatch: received %s (%zu bytes).", p->name,
                                  d->digest, digest, size);
        r = oci_image_config_parse(data, size, &p->config);
        if (r < 0)
                return errmsg_set(r, "%s: config %s: %s", p->name, d->digest, strempty(errmsg_last()));
        if (strv_length(p->config->diff_ids) != p->parsed->n_layers)
                return errmsg_set(-EBADMSG, "%s: the config lists %zu diff_ids for %zu layers.", p->name,
                                  strv_length(p->config->diff_ids), p->parsed->n_layers);
        strcpy(p->img.id, d->digest);
        p->config_data = TAKE_PTR(data);
        p->config_size = size;
        return 0;
}

static int plan_layer(Pull *p, size_t i) {
        const OciDescriptor *d = &p->parsed->layers[i];
        StagedLayer *sl = &p->img.layers[i];
        PullLayer *l = &p->layers[i];
        char existing[DIGEST_STRING_MAX];
        uint64_t size = 0;
        int r;

        *l = (PullLayer) { .pull = p, .index = i, .desc = d, .blob_fd = -EBADF, .pipe_fd = -EBADF,
                           .read_fd = -EBADF, .dir_fd = -EBADF };
        if (digest_validate(p->config->diff_ids[i]) < 0)
                return errmsg_set(-EBADMSG, "%s: invalid diff_id \"%s\" for layer %zu.", p->name,
                                  p->config->diff_ids[i], i);
        sl->layer = (StoreLayer) { .media_type = d->media_type, .blob_size = d->size };
        strcpy(sl->layer.digest, d->digest);
        strcpy(sl->layer.diff_id, p->config->diff_ids[i]);
        r = oci_chain_id(i > 0 ? sl[-1].layer.chain_id : NULL, sl->layer.diff_id, sl->layer.chain_id);
        if (r < 0)
                return r;
        /* In the store, unpacked from this very blob, and the blob kept (push needs it). */
        if (store_layer_lookup(p->store, sl->layer.chain_id, existing, &size) >= 0 &&
            streq(existing, d->digest) && store_blob_exists(p->store, d->digest)) {
                sl->layer.size = size;
                l->state = REGISTRY_LAYER_EXISTS;
                return 0;
        }
        if (d->size > store_limits(p->store)->layer.max_compressed_size &&
            store_limits(p->store)->layer.max_compressed_size > 0)
                return errmsg_set(-EFBIG, "%s: layer %s is larger than the limit.", p->name, d->digest);
        l->wanted = true;
        p->total += d->size;
        if ((r = store_staging_name(p->staging, "b", &sl->blob_path)) < 0 ||
            (r = store_staging_name(p->staging, "l", &sl->dir_path)) < 0)
                return r;
        return 0;
}

static int pull_plan(Pull *p) {
        size_t n = p->parsed->n_layers;
        int r;

        p->layers = calloc(n + 1, sizeof(PullLayer));
        p->img.layers = calloc(n + 1, sizeof(StagedLayer));
        if (!p->layers || !p->img.layers)
                return -ENOMEM;
        p->n_layers = p->img.n_layers = n;
        for (size_t i = 0; i < n; i++) {
                r = plan_layer(p, i);
                if (r < 0)
                        return r;
        }
        for (size_t i = 0; i < n; i++)
                layer_report(&p->layers[i]);
        return 0;
}

/* ---- commit ---- */

/* The image is stored from this very manifest and already carries the tag:
 * a repeated pull changes nothing, so it writes nothing (no fsync). */
static bool pull_changes_nothing(Pull *p) {
        _cleanup_(image_freep) Image *img = NULL;

        if (!p->config_present)
                return false;
        for (size_t i = 0; i < p->n_layers; i++)
                if (p->layers[i].wanted)
                        return false;
        if (store_resolve_image(p->store, p->img.id, &img) < 0 || !streq_ptr(img->manifest_digest, p->manifest.digest) ||
            !strv_contains(img->repo_digests, p->img.repo_digest))
                return false;
        return !p->img.tags[0] || strv_contains(img->repo_tags, p->img.tags[0]);
}

static int pull_commit(Pull *p) {
        int r;

        strcpy(p->img.manifest_digest, p->manifest.digest);
        p->img.manifest_original = true;
        p->img.repo_digest = strjoin(p->name, "@", p->manifest.digest);
        p->img.tags = calloc(2, sizeof(char *));
        if (!p->img.tags || !p->img.repo_digest)
                return -ENOMEM;
        /* A pull by digest names no tag (docker's <none>). */
        if (p->ref->tag) {
                Reference t = *p->ref;
                t.digest = NULL;
                p->img.tags[0] = reference_to_string(&t);
                if (!p->img.tags[0])
                        return -ENOMEM;
        }
        r = pull_check_cancel(p);
        if (r < 0 || pull_changes_nothing(p))
                return r;
        if ((r = store_staging_write(p->staging, "c", p->config_data, p->config_size, &p->img.config_path)) < 0 ||
            (r = store_staging_write(p->staging, "m", p->manifest.data, p->manifest.size, &p->img.manifest_path)) < 0)
                return r;
        r = store_commit_image(p->store, p->staging, &p->img);
        if (r < 0)
                return errmsg_set(r, "%s: cannot store the image: %s", p->name,
                                  strempty(errmsg_last() ?: store_last_error()));
        return 0;
}

static int pull_result(Pull *p, RegistryPullResult *ret) {
        _cleanup_(registry_pull_result_done) RegistryPullResult res = {};
        bool present = p->config_present;

        for (size_t i = 0; i < p->n_layers; i++)
                present = present && !p->layers[i].wanted;
        res.image_id = strdup(p->img.id);
        res.reference = p->img.tags[0] ? strdup(p->img.tags[0]) : strjoin(p->name, "@", p->manifest.digest);
        res.manifest_digest = strdup(p->manifest.digest);
        res.repo_digest = strjoin(p->name, "@", p->manifest.digest);
        if (!res.image_id || !res.reference || !res.manifest_digest || !res.repo_digest)
                return -ENOMEM;
        res.was_present = present;
        *ret = res;
        res = (RegistryPullResult) {};
        return 0;
}

/* ---- setup ---- */

/* Within the bound, the newest first, this pull's included. The pull's
 * own message stays the last. */
static void pull_trim_partials(Pull *p) {
        char saved[512];
        bool any = false;

        for (size_t i = 0; i < p->n_layers; i++)
                any = any || p->layers[i].wanted;
        if (!any)
                return;
        snprintf(saved, sizeof saved, "%s", strempty(errmsg_last()));
        if (store_partial_trim(p->store, p->opts->max_partial_size, STORE_PARTIAL_MAX_AGE_USEC) < 0)
                log_debug("pull: cannot trim the partial blobs: %s", strempty(errmsg_last()));
        if (saved[0])
                errmsg_set(0, "%s", saved);
        else
                errmsg_clear();
}

static void pull_done(Pull *p) {
        for (size_t i = 0; i < p->n_layers; i++) {
                PullLayer *l = &p->layers[i];
                layer_stop_replay(l);
                layer_close_pipe(l);
                layer_join(l);
                l->blob_fd = safe_close(l->blob_fd);
                /* Kept for the next pull. */
                store_partial_free(l->partial);
                sha256_free(l->hash);
                strv_free(l->implied);
        }
        pull_trim_partials(p);
        free(p->replay_buf);
        free(p->layers);
        staged_image_done(&p->img);
        oci_image_config_free(p->config);
        free(p->config_data);
        oci_manifest_free(p->parsed);
        registry_manifest_done(&p->manifest);
        /* Before the client: requests reference it; the staging dir goes with
         * everything half-done in it. */
        registry_client_free(p->client);
        sd_event_unref(p->event);
        store_staging_free(p->staging);
        reference_free(p->ref);
        free(p->name);
        free(p->error_msg);
}

/* "debian:12" -> the alias of "debian" with ":12" kept. */
static int apply_alias(const RegistryConfig *c, const char *reference, char **ret) {
        _cleanup_free_ char *name = NULL;
        const char *slash = strrchr(reference, '/'), *end, *alias;

        end = strpbrk(slash ? slash : reference, ":@");
        name = strndup(reference, end ? (size_t) (end - reference) : strlen(reference));
        if (!name)
                return -ENOMEM;
        alias = c ? registry_config_alias(c, name) : NULL;
        *ret = alias ? strjoin(alias, strempty(end)) : strdup(reference);
        return *ret ? 0 : -ENOMEM;
}

static int pull_init(Pull *p, Store *s, const char *reference, const RegistryOptions *o) {
        _cleanup_free_ char *full = NULL;
        int r;

        *p = (Pull) { .store = s, .opts = o, .max_parallel = o->max_parallel ?: 3 };
        if ((r = apply_alias(o->config, reference, &full)) < 0)
                return r;
        r = reference_parse(full, &p->ref);
        if (r < 0)
                return r;
        p->name = reference_name(p->ref);
        if (!p->name)
                return -ENOMEM;
        p->refstr = p->ref->digest ?: p->ref->tag;
        r = sd_event_new(&p->event);
        if (r < 0)
                return r;
        r = registry_client_new(p->event, p->ref->domain, o, &p->client);
        if (r < 0)
                return r;
        return store_staging_new(s, &p->staging);
}

static int pull_run(Pull *p, RegistryPullResult *ret) {
        int r;

        if ((r = pull_manifest(p)) < 0 || (r = pull_config(p)) < 0 || (r = pull_plan(p)) < 0 ||
            (r = pull_layers(p)) < 0 || (r = pull_commit(p)) < 0)
                return r;
        return ret ? pull_result(p, ret) : 0;
}

int registry_pull(Store *s, const char *reference, const RegistryOptions *o, RegistryPullResult *ret) {
        static const RegistryOptions defaults = {};
        sigset_t block, saved;
        Pull p = {};
        int r;

        errmsg_clear();
        o = o ?: &defaults;
        /* A write to the pipe of an unpacker that is gone raises SIGPIPE in
         * this thread: blocked here and taken back, it cannot kill berthd. */
        sigemptyset(&block);
        sigaddset(&block, SIGPIPE);
        pthread_sigmask(SIG_BLOCK, &block, &saved);
        r = pull_init(&p, s, reference, o);
        if (r >= 0)
                r = pull_run(&p, ret);
        if (r < 0 && !errmsg_last())
                errmsg_set(r, "Pull of %s failed: %s.", reference, strerror(-r));
        pull_done(&p);
        consume_sigpipe();
        pthread_sigmask(SIG_SETMASK, &saved, NULL);
        return r;
}
