/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Addresses of a network's containers: one file per address handed out,
 * <root>/networks/<id>.leases/<address>, holding the container's id,
 * created O_EXCL and fsynced before the address is used. */
#include <fcntl.h>
#include <sys/random.h>
#include <sys/socket.h>
#include <sys/stat.h>

#include "fileio.h"
#include "names.h"
#include "network-internal.h"

typedef struct NetworkLease {
        char address[IN_ADDR_STRLEN];  /* the key of used[] and the file's name */
        char *container_id;
} NetworkLease;

typedef struct NetworkHolder {
        char *container_id;            /* the key of holders */
        NetworkLease *leases[2];
} NetworkHolder;

int network_leases_init(Network *n) {
        for (int i = 0; i < 2; i++)
                if (!n->used[i] && !(n->used[i] = hashmap_new()))
                        return -ENOMEM;
        if (!n->holders && !(n->holders = hashmap_new()))
                return -ENOMEM;
        return 0;
}

void network_leases_free(Network *n) {
        const char *k;
        void *v;

        for (int i = 0; i < 2; i++) {
                size_t j = 0;
                while (n->used[i] && hashmap_iterate(n->used[i], &j, &k, &v)) {
                        NetworkLease *l = v;
                        free(l->container_id);
                        free(l);
                }
                n->used[i] = hashmap_free(n->used[i]);
        }
        size_t j = 0;
        while (n->holders && hashmap_iterate(n->holders, &j, &k, &v)) {
                NetworkHolder *h = v;
                free(h->container_id);
                free(h);
        }
        n->holders = hashmap_free(n->holders);
}

size_t network_n_leases(const Network *n) {
        return hashmap_size(n->holders);
}

static char *leases_dir(const Network *n) {
        return strjoin(NETWORK_DIR "/", n->id, ".leases");
}

static NetworkHolder *holder_get(Network *n, const char *container_id, bool create) {
        NetworkHolder *h = hashmap_get(n->holders, container_id);

        if (h || !create)
                return h;
        h = calloc(1, sizeof *h);
        if (!h || !(h->container_id = strdup(container_id)) || hashmap_put(n->holders, h->container_id, h) < 0) {
                if (h)
                        free(h->container_id);
                free(h);
                return NULL;
        }
        return h;
}

static void holder_drop_if_empty(Network *n, NetworkHolder *h) {
        if (h->leases[0] || h->leases[1])
                return;
        hashmap_remove(n->holders, h->container_id);
        free(h->container_id);
        free(h);
}

/* Records a lease in memory (the file exists). */
static int lease_record(Network *n, size_t subnet, const char *address, const char *container_id) {
        NetworkLease *l = calloc(1, sizeof *l);
        NetworkHolder *h;
        int r;

        if (!l)
                return -ENOMEM;
        snprintf(l->address, sizeof l->address, "%s", address);
        l->container_id = strdup(container_id);
        h = holder_get(n, container_id, true);
        if (!l->container_id || !h || h->leases[subnet]) {
                free(l->container_id);
                free(l);
                return h && h->leases[subnet] ? -EEXIST : -ENOMEM;
        }
        r = hashmap_put(n->used[subnet], l->address, l);
        if (r < 0) {
                free(l->container_id);
                free(l);
                holder_drop_if_empty(n, h);
                return r;
        }
        h->leases[subnet] = l;
        return 0;
}

/* Network address, gateway and IPv4 broadcast are never handed out. By
 * address, not offset: an IPv6 subnet wider than /64 has offsets that do
 * not fit in 64 bits. */
static bool address_reserved(const NetworkSubnet *s, const InAddr *a) {
        InAddr last;

        if (in_addr_equal(a, &s->subnet.addr) || in_addr_equal(a, &s->gateway))
                return true;
        return s->subnet.addr.family == AF_INET &&
               in_prefix_nth(&s->subnet, in_prefix_size(&s->subnet) - 1, &last) >= 0 && in_addr_equal(a, &last);
}

/* Where addresses are searched for: the --ip-range, else the whole subnet. */
static const InPrefix *subnet_scan(const NetworkSubnet *s) {
        return in_addr_is_set(&s->ip_range.addr) ? &s->ip_range : &s->subnet;
}

static bool address_in_range(const NetworkSubnet *s, const InAddr *a) {
        return !in_addr_is_set(&s->ip_range.addr) || in_prefix_contains(&s->ip_range, a);
}

/* Written, not yet synced: network_lease() syncs a container's files
 * together, one journal commit rather than one per file and directory. */
static int lease_file_create(NetworkTable *t, const Network *n, const char *address, const char *container_id) {
        _cleanup_free_ char *dir = leases_dir(n), *path = NULL;
        _cleanup_close_ int fd = -EBADF;
        size_t len = strlen(container_id);
        int r;

        if (!dir || !(path = strjoin(dir, "/", address)))
                return -ENOMEM;
        if (mkdirat(t->root_fd, NETWORK_DIR, 0700) < 0 && errno != EEXIST)
                return -errno;
        if (mkdirat(t->root_fd, dir, 0700) < 0 && errno != EEXIST)
                return -errno;
        fd = openat(t->root_fd, path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW, 0600);
        if (fd < 0)
                return -errno;
        if (write(fd, container_id, len) != (ssize_t) len) {
                r = errno ? -errno : -EIO;
                (void) unlinkat(t->root_fd, path, 0);
                return r;
        }
        return 0;
}

/* The holder's files and their directory on disk, before anybody is told
 * of the addresses. */
static int lease_files_sync(NetworkTable *t, const Network *n, const NetworkHolder *h) {
        _cleanup_free_ char *dir = leases_dir(n);

        if (!dir)
                return -ENOMEM;
        for (int i = 0; i < 2; i++) {
                _cleanup_free_ char *path = NULL;
                _cleanup_close_ int fd = -EBADF;

                if (!h->leases[i])
                        continue;
                path = strjoin(dir, "/", h->leases[i]->address);
                if (!path)
                        return -ENOMEM;
                fd = openat(t->root_fd, path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW | O_NOCTTY);
                if (fd < 0 || fsync(fd) < 0)
                        return -errno;
        }
        return fsync_path_at(t->root_fd, dir);
}

static int lease_file_remove(NetworkTable *t, const Network *n, const char *address) {
        _cleanup_free_ char *dir = leases_dir(n), *path = NULL;

        if (!dir || !(path = strjoin(dir, "/", address)))
                return -ENOMEM;
        if (unlinkat(t->root_fd, path, 0) < 0 && errno != ENOENT)
                return -errno;
        return 0;
}

static int lease_take(NetworkTable *t, Network *n, size_t subnet, const InAddr *a, const char *container_id) {
        char buf[IN_ADDR_STRLEN];
        int r;

        in_addr_to_string(a, buf);
        r = lease_file_create(t, n, buf, container_id);
        if (r < 0)
                return r;
        r = lease_record(n, subnet, buf, container_id);
        if (r < 0)
                (void) lease_file_remove(t, n, buf);
        return r;
}

static int lease_wanted(NetworkTable *t, Network *n, size_t subnet, const InAddr *want, const char *container_id) {
        const NetworkSubnet *s = &n->subnets[subnet];
        char a[IN_ADDR_STRLEN], b[IN_PREFIX_STRLEN];
        NetworkLease *l;

        in_addr_to_string(want, a);
        if (!in_prefix_contains(&s->subnet, want) || !address_in_range(s, want))
                return errmsg_set(-EADDRNOTAVAIL, "Address %s is outside the subnet %s of network %s.", a,
                                  in_prefix_to_string(in_addr_is_set(&s->ip_range.addr) ? &s->ip_range : &s->subnet, b),
                                  n->name);
        if (address_reserved(s, want))
                return errmsg_set(-EADDRNOTAVAIL, "Address %s is reserved in network %s (network, gateway or broadcast).",
                                  a, n->name);
        l = hashmap_get(n->used[subnet], a);
        if (l)
                return errmsg_set(-EADDRINUSE, "Address %s is already in use by container %.12s on network %s.", a,
                                  l->container_id, n->name);
        return lease_take(t, n, subnet, want, container_id);
}

/* The next free address from the cursor (an offset in the range searched)
 * on, wrapping around once. */
static int lease_next(NetworkTable *t, Network *n, size_t subnet, const char *container_id, InAddr *ret) {
        const NetworkSubnet *s = &n->subnets[subnet];
        const InPrefix *scan = subnet_scan(s);
        uint64_t size = in_prefix_size(scan), start;

        if (size > (1u << 24))
                size = 1u << 24;   /* a /64 is never full: the first 16 M addresses do */
        start = n->next[subnet] < size ? n->next[subnet] : 0;
        for (uint64_t i = 0; i < size; i++) {
                uint64_t off = (start + i) % size;
                char buf[IN_ADDR_STRLEN];
                InAddr a;
                int r;

                if (in_prefix_nth(scan, off, &a) < 0 || address_reserved(s, &a))
                        continue;
                if (hashmap_get(n->used[subnet], in_addr_to_string(&a, buf)))
                        continue;
                r = lease_take(t, n, subnet, &a, container_id);
                if (r == -EEXIST)   /* a file nobody knew of: skip it */
                        continue;
                if (r < 0)
                        return r;
                n->next[subnet] = off + 1;
                *ret = a;
                return 0;
        }
        return errmsg_set(-ENOSPC, "Network %s has no free address left.", n->name);
}

int network_lease(NetworkTable *t, Network *n, const char *container_id, const InAddr *want4,
                  const InAddr *want6, InAddr *ret) {
        NetworkHolder *h;
        int r = network_leases_init(n);

        if (r < 0)
                return r;
        h = holder_get(n, container_id, false);
        for (size_t i = 0; i < n->n_subnets; i++) {
                const InAddr *want = n->subnets[i].subnet.addr.family == AF_INET ? want4 : want6;

                if (h && h->leases[i]) {   /* idempotent */
                        (void) in_addr_parse(h->leases[i]->address, AF_UNSPEC, &ret[i]);
                        continue;
                }
                if (want && in_addr_is_set(want)) {
                        r = lease_wanted(t, n, i, want, container_id);
                        if (r >= 0)
                                ret[i] = *want;
                } else
                        r = lease_next(t, n, i, container_id, &ret[i]);
                if (r < 0) {
                        (void) network_release(t, n, container_id);
                        return r;
                }
                h = holder_get(n, container_id, false);
        }
        r = h ? lease_files_sync(t, n, h) : 0;
        if (r < 0) {
                (void) network_release(t, n, container_id);
                return errmsg_set(r, "Cannot write the address leases of network %s: %s", n->name, strerror(-r));
        }
        return 0;
}

int network_release(NetworkTable *t, Network *n, const char *container_id) {
        NetworkHolder *h = n->holders ? hashmap_get(n->holders, container_id) : NULL;

        if (!h)
                return 0;
        for (int i = 0; i < 2; i++) {
                NetworkLease *l = h->leases[i];
                if (!l)
                        continue;
                (void) lease_file_remove(t, n, l->address);
                hashmap_remove(n->used[i], l->address);
                free(l->container_id);
                free(l);
                h->leases[i] = NULL;
        }
        holder_drop_if_empty(n, h);
        return 1;
}

/* One lease file at load: kept if it is a plain file naming a live container
 * and an address of a subnet; anything else is removed without being followed. */
static void lease_load_one(NetworkTable *t, Network *n, int dfd, const char *name,
                           bool (*is_live)(const char *, void *), void *userdata) {
        _cleanup_close_ int fd = openat(dfd, name, O_RDONLY | O_CLOEXEC | O_NOFOLLOW | O_NONBLOCK);
        char id[CONTAINER_ID_LENGTH + 2] = "";
        struct stat st;
        InAddr a;
        ssize_t k;

        if (fd >= 0 && fstat(fd, &st) >= 0 && S_ISREG(st.st_mode) && st.st_size <= CONTAINER_ID_LENGTH &&
            (k = read(fd, id, sizeof id - 1)) == CONTAINER_ID_LENGTH && container_id_is_valid(id) &&
            in_addr_parse(name, AF_UNSPEC, &a) >= 0 && (!is_live || is_live(id, userdata)))
                for (size_t i = 0; i < n->n_subnets; i++) {
                        uint64_t off;
                        char canon[IN_ADDR_STRLEN];
                        if (!in_prefix_contains(&n->subnets[i].subnet, &a) ||
                            !streq(in_addr_to_string(&a, canon), name) || lease_record(n, i, name, id) < 0)
                                continue;
                        if (in_prefix_offset(subnet_scan(&n->subnets[i]), &a, &off) >= 0 && off + 1 > n->next[i])
                                n->next[i] = off + 1;
                        return;
                }
        if (unlinkat(dfd, name, 0) < 0 && errno == EISDIR)
                (void) unlinkat(dfd, name, AT_REMOVEDIR);
        if (fd < 0 || !S_ISREG(st.st_mode))
                (void) unlinkat(dfd, name, AT_REMOVEDIR);
}

int network_leases_load(NetworkTable *t, Network *n, bool (*is_live)(const char *, void *), void *userdata) {
        _cleanup_free_ char *dir = leases_dir(n);
        _cleanup_(closedirp) DIR *d = NULL;
        struct dirent *de;
        int fd, r;

        r = network_leases_init(n);
        if (r < 0 || !dir)
                return r < 0 ? r : -ENOMEM;
        fd = openat(t->root_fd, dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC | O_NOFOLLOW);
        if (fd < 0)
                return errno == ENOENT ? 0 : -errno;
        d = fdopendir(fd);
        if (!d) {
                safe_close(fd);
                return -errno;
        }
        while ((de = readdir(d)))
                if (!streq(de->d_name, ".") && !streq(de->d_name, ".."))
                        lease_load_one(t, n, dirfd(d), de->d_name, is_live, userdata);
        return 0;
}

int network_leases_remove_dir(NetworkTable *t, Network *n) {
        _cleanup_free_ char *dir = leases_dir(n);

        if (!dir)
                return -ENOMEM;
        if (unlinkat(t->root_fd, dir, AT_REMOVEDIR) < 0 && errno != ENOENT)
                return -errno;
        return 0;
}

/* ---- MAC addresses ---- */

void network_mac_from_addr(const InAddr *addr, uint8_t ret[6]) {
        if (addr && addr->family == AF_INET) {
                ret[0] = 0x02;
                ret[1] = 0x42;
                memcpy(ret + 2, addr->bytes, 4);
                return;
        }
        if (getrandom(ret, 6, 0) != 6)
                memset(ret, 0x5a, 6);
        ret[0] = (uint8_t) ((ret[0] & 0xfe) | 0x02);   /* unicast, locally administered */
}

static int hex_digit(char c) {
        return c >= '0' && c <= '9' ? c - '0' : c >= 'a' && c <= 'f' ? c - 'a' + 10 : c >= 'A' && c <= 'F' ? c - 'A' + 10 : -1;
}

/* Exactly "xx:xx:xx:xx:xx:xx": sscanf's %x would take a sign, a space or
 * "0x" in place of a digit. */
int mac_parse(const char *s, uint8_t ret[6]) {
        uint8_t mac[6];

        if (!s || strlen(s) != 17)
                return -EINVAL;
        for (size_t i = 0; i < 6; i++) {
                int hi = hex_digit(s[3 * i]), lo = hex_digit(s[3 * i + 1]);

                if (hi < 0 || lo < 0 || (i < 5 && s[3 * i + 2] != ':'))
                        return -EINVAL;
                mac[i] = (uint8_t) (hi << 4 | lo);
        }
        memcpy(ret, mac, 6);
        return 0;
}

const char *mac_to_string(const uint8_t mac[6], char buf[static 18]) {
        static const uint8_t zero[6];

        if (memcmp(mac, zero, 6) == 0)
                buf[0] = 0;
        else
                snprintf(buf, 18, "%02x:%02x:%02x:%02x:%02x:%02x", mac[0], mac[1], mac[2], mac[3], mac[4], mac[5]);
        return buf;
}
