/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The Container model: ids, names, the state file, the leader process. */
#include <ctype.h>
#include <fcntl.h>
#include <signal.h>
#include <sys/epoll.h>
#include <sys/pidfd.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <sys/wait.h>

#include "container.h"
#include "fileio.h"

static const char *const container_state_table[_CONTAINER_STATE_MAX] = {
        [CONTAINER_CREATED] = "created",
        [CONTAINER_RUNNING] = "running",
        [CONTAINER_PAUSED] = "paused",
        [CONTAINER_EXITED] = "exited",
        [CONTAINER_REMOVING] = "removing",
};

DEFINE_STRING_TABLE_LOOKUP(container_state, ContainerState);

static const char *const mount_type_table[_MOUNT_TYPE_MAX] = {
        [MOUNT_TYPE_BIND] = "bind",
        [MOUNT_TYPE_TMPFS] = "tmpfs",
};

DEFINE_STRING_TABLE_LOOKUP(mount_type, MountType);

static const char *const network_mode_table[_NETWORK_MODE_MAX] = {
        [NETWORK_MODE_NONE] = "none",
        [NETWORK_MODE_HOST] = "host",
        [NETWORK_MODE_BRIDGE] = "bridge",
        [NETWORK_MODE_CONTAINER] = "container",
};

DEFINE_STRING_TABLE_LOOKUP(network_mode, NetworkMode);

int container_id_generate(char **ret) {
        uint8_t b[CONTAINER_ID_LENGTH / 2];
        char *s;

        if (getrandom(b, sizeof b, 0) != (ssize_t) sizeof b)
                return -EIO;
        s = hexlify(b, sizeof b);
        if (!s)
                return -ENOMEM;
        *ret = s;
        return 0;
}

static const char *const name_adjectives[] = {
        "admiring", "bold", "brave", "busy", "clever", "dazzling", "eager", "elegant",
        "festive", "focused", "gallant", "gentle", "happy", "hopeful", "jolly", "keen",
        "kind", "lucid", "modest", "nifty", "optimistic", "patient", "quirky", "relaxed",
        "serene", "sharp", "stoic", "tender", "upbeat", "vibrant", "wizardly", "zealous",
};

static const char *const name_surnames[] = {
        "babbage", "bohr", "curie", "darwin", "dijkstra", "einstein", "euler", "fermi",
        "galois", "hamilton", "hopper", "hypatia", "kepler", "knuth", "lamarr", "lovelace",
        "meitner", "morse", "newton", "noether", "pascal", "ritchie", "shannon", "thompson",
        "torvalds", "turing", "volta", "wiles", "wright", "yalow", "zuse", "lamport",
};

int container_name_generate(char **ret) {
        uint32_t rnd[2];
        char *s;

        if (getrandom(rnd, sizeof rnd, 0) != (ssize_t) sizeof rnd)
                return -EIO;
        s = strjoin(name_adjectives[rnd[0] % ELEMENTSOF(name_adjectives)], "_",
                    name_surnames[rnd[1] % ELEMENTSOF(name_surnames)]);
        if (!s)
                return -ENOMEM;
        *ret = s;
        return 0;
}

int container_new(Container **ret) {
        Container *c = calloc(1, sizeof(Container));

        if (!c)
                return -ENOMEM;
        c->state = CONTAINER_CREATED;
        c->pidfd = -EBADF;
        c->config.network = NETWORK_MODE_NONE;
        c->config.stop_signal = SIGTERM;
        c->config.stop_timeout_usec = 10ULL * 1000000ULL;
        *ret = c;
        return 0;
}

void mount_spec_done(MountSpec *m) {
        if (!m)
                return;
        m->source = mfree(m->source);
        m->target = mfree(m->target);
        m->options = mfree(m->options);
}

void container_config_done(ContainerConfig *c) {
        c->argv = strv_free(c->argv);
        c->entrypoint = strv_free(c->entrypoint);
        c->env = strv_free(c->env);
        c->cwd = mfree(c->cwd);
        c->user = mfree(c->user);
        c->hostname = mfree(c->hostname);
        c->labels = strv_free(c->labels);
        for (size_t i = 0; i < c->n_mounts; i++)
                mount_spec_done(&c->mounts[i]);
        c->mounts = mfree(c->mounts);
        c->n_mounts = 0;
        c->network_name = mfree(c->network_name);
        for (size_t i = 0; i < c->n_endpoints; i++)
                container_endpoint_done(&c->endpoints[i]);
        c->endpoints = mfree(c->endpoints);
        c->n_endpoints = 0;
        c->ports = mfree(c->ports);
        c->n_ports = 0;
        c->dns = strv_free(c->dns);
        c->dns_search = strv_free(c->dns_search);
        c->dns_options = strv_free(c->dns_options);
        c->extra_hosts = strv_free(c->extra_hosts);
        c->security.cap_add = strv_free(c->security.cap_add);
        c->security.cap_drop = strv_free(c->security.cap_drop);
        c->security.seccomp_profile = mfree(c->security.seccomp_profile);
        scope_limits_done(&c->limits);
}

void container_endpoint_done(ContainerEndpoint *e) {
        e->network_id = mfree(e->network_id);
        e->aliases = strv_free(e->aliases);
}

bool container_slot_used(const ContainerConfig *c, unsigned slot) {
        for (size_t i = 0; i < c->n_endpoints; i++)
                if (c->endpoints[i].slot == slot)
                        return true;
        return false;
}

int container_add_endpoint_at(ContainerConfig *c, ContainerEndpoint *ep) {
        ContainerEndpoint *l;

        if (c->n_endpoints >= CONTAINER_ENDPOINTS_MAX || ep->slot >= CONTAINER_ENDPOINTS_MAX)
                return -E2BIG;
        if (container_slot_used(c, ep->slot))
                return -EEXIST;
        l = reallocarray(c->endpoints, c->n_endpoints + 1, sizeof *l);
        if (!l)
                return -ENOMEM;
        c->endpoints = l;
        l[c->n_endpoints++] = *ep;
        *ep = (ContainerEndpoint) {};
        return 0;
}

int container_add_endpoint(ContainerConfig *c, ContainerEndpoint *ep) {
        for (ep->slot = 0; container_slot_used(c, ep->slot); ep->slot++)
                ;
        return container_add_endpoint_at(c, ep);
}

ContainerEndpoint *container_find_endpoint(const ContainerConfig *c, const char *network_id) {
        for (size_t i = 0; i < c->n_endpoints; i++)
                if (streq(c->endpoints[i].network_id, network_id))
                        return &c->endpoints[i];
        return NULL;
}

void container_remove_endpoint(ContainerConfig *c, ContainerEndpoint *ep) {
        size_t i = ep - c->endpoints;

        container_endpoint_done(ep);
        memmove(c->endpoints + i, c->endpoints + i + 1, (c->n_endpoints - i - 1) * sizeof *ep);
        c->n_endpoints--;
}

Container *container_free(Container *c) {
        if (!c)
                return NULL;
        container_config_done(&c->config);
        safe_close(c->pidfd);
        free(c->id);
        free(c->name);
        free(c->image_ref);
        free(c->image_id);
        free(c->unit);
        free(c->bound_ports);
        return mfree(c);
}

bool container_config_is_privileged(const ContainerConfig *c) {
        /* A profile of the caller's may allow whatever "unconfined" does. */
        if (c->security.privileged || strv_length(c->security.cap_add) > 0 || c->network == NETWORK_MODE_HOST ||
            c->security.seccomp_profile)
                return true;
        for (size_t i = 0; i < c->n_mounts; i++)
                if (c->mounts[i].type == MOUNT_TYPE_BIND)
                        return true;
        return false;
}

int container_config_bind_sources(const ContainerConfig *c, char **ret) {
        _cleanup_strv_free_ char **l = NULL;
        char *s;
        int r;

        for (size_t i = 0; i < c->n_mounts; i++)
                if (c->mounts[i].type == MOUNT_TYPE_BIND) {
                        r = strv_extend(&l, strempty(c->mounts[i].source));
                        if (r < 0)
                                return r;
                }
        s = l ? strv_join(l, ":") : strdup("");
        if (!s)
                return -ENOMEM;
        *ret = s;
        return 0;
}

int container_add_mount(Container *c, MountSpec *m) {
        MountSpec *a = reallocarray(c->config.mounts, c->config.n_mounts + 1, sizeof(MountSpec));

        if (!a)
                return -ENOMEM;
        c->config.mounts = a;
        a[c->config.n_mounts++] = *m;
        *m = (MountSpec) {};
        return 0;
}

static char *state_path(const char *id) {
        return strjoin(CONTAINER_DIR "/", id, "/" CONTAINER_STATE_FILE);
}

int container_save(const Container *c, int root_fd, bool durable) {
        _cleanup_free_ char *dir = NULL, *path = NULL, *text = NULL;
        json_t *j = NULL;
        int r;

        if (!container_id_is_valid(c->id))
                return -EINVAL;
        dir = strjoin(CONTAINER_DIR "/", c->id);
        path = state_path(c->id);
        if (!dir || !path)
                return -ENOMEM;
        r = container_to_json(c, &j);
        if (r < 0)
                return r;
        text = json_dumps(j, JSON_INDENT(2) | JSON_SORT_KEYS);
        json_decref(j);
        if (!text)
                return -ENOMEM;
        r = mkdir_p_at(root_fd, dir, 0700);
        if (r < 0)
                return r;
        return write_file_replace_at(root_fd, path, text, strlen(text), 0600, durable);
}

int container_sync(const Container *c, int root_fd) {
        _cleanup_free_ char *path = state_path(c->id);

        if (!path)
                return -ENOMEM;
        return fsync_path_at(root_fd, path);
}

int container_load(int root_fd, const char *id, Container **ret) {
        _cleanup_free_ char *path = NULL, *text = NULL;
        _cleanup_(container_freep) Container *c = NULL;
        json_error_t err;
        size_t size;
        json_t *j;
        int r;

        if (!container_id_is_valid(id))
                return -EINVAL;
        path = state_path(id);
        if (!path)
                return -ENOMEM;
        r = read_full_file_at(root_fd, path, 16 * 1024 * 1024, &text, &size);
        if (r < 0)
                return r;
        j = json_loadb(text, size, JSON_REJECT_DUPLICATES, &err);
        if (!j)
                return -EBADMSG;
        r = container_from_json(j, &c);
        json_decref(j);
        if (r < 0)
                return r;
        /* The directory name is the authority: a state file copied elsewhere is corrupt. */
        if (!streq(c->id, id))
                return -EBADMSG;
        *ret = TAKE_PTR(c);
        return 0;
}

/* The directory is renamed into the trash, which is quick whatever is in
 * it (a container may have made 50,000 nested directories), and removed from
 * there in the background. Until the rename is done the container exists
 * with its state; after it, it does not, and what a crash or a failure
 * leaves in the trash goes at the next container_trash_sweep(). */
int container_remove_dir(int root_fd, const char *id) {
        _cleanup_free_ char *dir = NULL, *trash = NULL;
        int r;

        if (!container_id_is_valid(id))
                return -EINVAL;
        dir = strjoin(CONTAINER_DIR "/", id);
        if (!dir)
                return -ENOMEM;
        r = tempname_at(CONTAINER_TRASH_DIR "/x", &trash);
        if (r < 0)
                return r;
        if (mkdirat(root_fd, CONTAINER_TRASH_DIR, 0700) < 0 && errno != EEXIST)
                return -errno;
        if (renameat(root_fd, dir, root_fd, trash) < 0)
                return errno == ENOENT ? 0 : -errno;
        return rm_rf_background(root_fd, trash);
}

void container_trash_sweep(int root_fd) {
        _cleanup_closedir_ DIR *d = NULL;
        struct dirent *de;

        if (opendir_at(root_fd, CONTAINER_TRASH_DIR, O_NOFOLLOW, &d) < 0)
                return;
        while ((de = readdir(d)))
                if (!IN_SET_STR(de->d_name, ".", ".."))
                        (void) rm_rf_background(dirfd(d), de->d_name);
}

/* The "comm" field may contain spaces and parentheses, so parse from the last ')'. */
int pid_get_start_time(pid_t pid, uint64_t *ret) {
        _cleanup_free_ char *text = NULL;
        char path[64];
        const char *p;
        unsigned long long v;
        int r;

        if (pid <= 0)
                return -EINVAL;
        snprintf(path, sizeof path, "/proc/%d/stat", (int) pid);
        r = read_full_file_at(AT_FDCWD, path, 8192, &text, NULL);
        if (r < 0)
                return r == -ENOENT ? -ESRCH : r;
        p = strrchr(text, ')');
        if (!p)
                return -EBADMSG;
        /* After ')' come field 3 (state) ... field 22 (starttime): skip 19 fields. */
        p++;
        for (int i = 0; i < 19; i++) {
                p = strchr(p + 1, ' ');
                if (!p)
                        return -EBADMSG;
        }
        if (sscanf(p, " %llu", &v) != 1)
                return -EBADMSG;
        *ret = v;
        return 0;
}

int container_attach_pid(Container *c, pid_t pid) {
        uint64_t start;
        int fd, r;

        fd = pidfd_open(pid, 0);
        if (fd < 0)
                return -errno;
        /* Read the start time after opening the pidfd: if the pid was reused
         * in between, the pidfd refers to the new process and so does the time. */
        r = pid_get_start_time(pid, &start);
        if (r < 0) {
                safe_close(fd);
                return r;
        }
        safe_close(c->pidfd);
        c->pidfd = fd;
        c->pid = pid;
        c->pid_start_time = start;
        return 0;
}

static void container_mark_exited(Container *c, bool known, int code, int sig) {
        c->state = CONTAINER_EXITED;
        c->exit_status_known = known;
        c->exit_code = known ? code : CONTAINER_EXIT_CODE_UNKNOWN;
        c->exit_signal = sig;
        c->finished_usec = now_usec(CLOCK_REALTIME);
        c->pidfd = safe_close(c->pidfd);
        c->pid = 0;
}

int container_readopt(Container *c) {
        uint64_t start;
        int fd;

        if (!IN_SET(c->state, CONTAINER_RUNNING, CONTAINER_PAUSED))
                return 0;
        fd = c->pid > 0 ? pidfd_open(c->pid, 0) : -ESRCH;
        if (fd >= 0 && pid_get_start_time(c->pid, &start) >= 0 && start == c->pid_start_time) {
                safe_close(c->pidfd);
                c->pidfd = fd;
                return 1;
        }
        safe_close(fd);
        container_mark_exited(c, false, 0, 0);
        return 0;
}

int container_collect_exit(Container *c) {
        siginfo_t si = {};

        if (c->pidfd < 0)
                return -EBADF;
        /* Only the parent can reap; after a berthd restart the leader belongs
         * to PID 1 and its status is gone (ECHILD). */
        if (waitid((idtype_t) P_PIDFD, (id_t) c->pidfd, &si, WEXITED | WNOHANG) < 0) {
                if (errno != ECHILD)
                        return -errno;
                container_mark_exited(c, false, 0, 0);
                return 0;
        }
        if (si.si_pid == 0)
                return -EAGAIN;
        if (si.si_code == CLD_EXITED)
                container_mark_exited(c, true, si.si_status, 0);
        else
                container_mark_exited(c, true, 128 + si.si_status, si.si_status);
        return 0;
}

typedef struct PidfdWatch {
        Container *container;
        ContainerExitCallback cb;
        void *userdata;
} PidfdWatch;

static int on_pidfd(sd_event_source *s, int fd, uint32_t revents, void *userdata) {
        PidfdWatch *w = userdata;
        int r;

        /* Off before collecting: collecting closes the pidfd the source watches. */
        (void) sd_event_source_set_enabled(s, SD_EVENT_OFF);
        r = container_collect_exit(w->container);
        if (r == -EAGAIN) {
                /* Readable but not yet reapable: other threads of the leader are still exiting. */
                (void) sd_event_source_set_enabled(s, SD_EVENT_ON);
                return 0;
        }
        w->cb(w->container, w->userdata);
        return 0;
}

int container_watch_pidfd(sd_event *e, Container *c, ContainerExitCallback cb, void *userdata,
                          sd_event_source **ret) {
        _cleanup_free_ PidfdWatch *w = NULL;
        sd_event_source *s = NULL;
        int r;

        if (c->pidfd < 0)
                return -EBADF;
        w = calloc(1, sizeof(PidfdWatch));
        if (!w)
                return -ENOMEM;
        *w = (PidfdWatch) { c, cb, userdata };
        r = sd_event_add_io(e, &s, c->pidfd, EPOLLIN, on_pidfd, w);
        if (r < 0)
                return r;
        r = sd_event_source_set_destroy_callback(s, free);
        if (r < 0) {
                sd_event_source_unref(s);
                return r;
        }
        TAKE_PTR(w);
        *ret = s;
        return 0;
}
