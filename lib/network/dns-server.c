/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The embedded resolver: berthd's loop serves a UDP and a TCP socket on
 * 127.0.0.11:53 inside each container; names of the container's networks
 * are answered, the rest is forwarded from the host's namespace. */
#include <arpa/inet.h>
#include <fcntl.h>
#include <sys/random.h>
#include <sys/socket.h>
#include <sys/stat.h>

#include "dns-packet.h"
#include "dns-server.h"
#include "hashmap.h"
#include "netlink-link.h"

#define DNS_UPSTREAMS_MAX 8
#define DNS_TCP_MAX 16
#define DNS_ADDRS_MAX 32
/* Names follow connects and removals at once: clients must not keep them long. */
#define DNS_TTL 5

typedef union SockAddr {
        struct sockaddr sa;
        struct sockaddr_in in;
        struct sockaddr_in6 in6;
        struct sockaddr_storage storage;
} SockAddr;

typedef struct DnsListener DnsListener;
typedef struct DnsTcp DnsTcp;

typedef struct DnsForward {
        DnsListener *listener;
        int fd;
        sd_event_source *io, *timer;
        uint8_t *query;
        size_t len;
        uint16_t client_id;
        SockAddr client;               /* UDP: where the answer goes */
        socklen_t client_len;
        DnsTcp *tcp;                   /* TCP: the connection instead */
        size_t upstream;               /* the one asked now */
        struct DnsForward *next, *prev;
} DnsForward;

struct DnsTcp {
        DnsListener *listener;
        int fd;
        sd_event_source *io, *timer;
        uint8_t buf[2 + DNS_PACKET_MAX];
        size_t have;
        DnsForward *forward;
        DnsTcp *next, *prev;
};

struct DnsListener {
        DnsServer *server;
        char *id;
        int udp_fd, tcp_fd;
        sd_event_source *udp_source, *tcp_source;
        InAddr upstreams[DNS_UPSTREAMS_MAX];
        size_t n_upstreams;
        bool forward;
        unsigned n_pending, n_tcp;
        DnsForward *forwards;
        DnsTcp *tcps;
};

struct DnsServer {
        sd_event *event;
        DnsLookup lookup;
        void *userdata;
        Hashmap *listeners;
        InAddr defaults[DNS_UPSTREAMS_MAX];
        size_t n_defaults;
        bool defaults_given;
        struct timespec resolv_mtime;
        uint64_t resolv_checked_usec;
};

#define LIST_PREPEND(head, item)                \
        do {                                    \
                (item)->prev = NULL;            \
                (item)->next = (head);          \
                if (head)                       \
                        (head)->prev = (item);  \
                (head) = (item);                \
        } while (0)
#define LIST_REMOVE(head, item)                                 \
        do {                                                    \
                if ((item)->prev)                               \
                        (item)->prev->next = (item)->next;      \
                else                                            \
                        (head) = (item)->next;                  \
                if ((item)->next)                               \
                        (item)->next->prev = (item)->prev;      \
        } while (0)

/* ---- upstreams ---- */

int dns_resolv_conf_servers(const char *path, InAddr **ret, size_t *ret_n) {
        _cleanup_fclose_ FILE *f = fopen(path, "re");
        _cleanup_free_ InAddr *l = NULL;
        char line[512];
        size_t n = 0;

        *ret = NULL;
        *ret_n = 0;
        if (!f)
                return -errno;
        l = calloc(DNS_UPSTREAMS_MAX, sizeof *l);
        if (!l)
                return -ENOMEM;
        while (n < DNS_UPSTREAMS_MAX && fgets(line, sizeof line, f)) {
                char addr[IN_ADDR_STRLEN + 1];

                if (sscanf(line, " nameserver %46s", addr) != 1 || strchr(addr, '%'))
                        continue;
                if (in_addr_parse(addr, AF_UNSPEC, &l[n]) >= 0)
                        n++;
        }
        *ret = TAKE_PTR(l);
        *ret_n = n;
        return 0;
}

int dns_server_set_default_upstreams(DnsServer *s, const InAddr *servers, size_t n) {
        s->n_defaults = MIN(n, (size_t) DNS_UPSTREAMS_MAX);
        memcpy(s->defaults, servers, s->n_defaults * sizeof *servers);
        s->defaults_given = true;
        return 0;
}

/* The host's resolv.conf, read again when it changed (looked at once a second at most). */
static void refresh_defaults(DnsServer *s) {
        uint64_t now = now_usec(CLOCK_MONOTONIC);
        _cleanup_free_ InAddr *l = NULL;
        struct stat st;
        size_t n;

        if (s->defaults_given || (s->resolv_checked_usec && now - s->resolv_checked_usec < USEC_PER_SEC))
                return;
        s->resolv_checked_usec = now;
        if (stat("/etc/resolv.conf", &st) < 0 ||
            (st.st_mtim.tv_sec == s->resolv_mtime.tv_sec && st.st_mtim.tv_nsec == s->resolv_mtime.tv_nsec))
                return;
        if (dns_resolv_conf_servers("/etc/resolv.conf", &l, &n) < 0)
                return;
        s->resolv_mtime = st.st_mtim;
        s->n_defaults = n;
        memcpy(s->defaults, l, n * sizeof *l);
}

static const InAddr *upstreams_of(DnsListener *l, size_t *ret_n) {
        if (l->n_upstreams > 0) {
                *ret_n = l->n_upstreams;
                return l->upstreams;
        }
        refresh_defaults(l->server);
        *ret_n = l->server->n_defaults;
        return l->server->defaults;
}

/* ---- answers ---- */

static void tcp_free(DnsTcp *t);

static void send_answer(DnsListener *l, const SockAddr *client, socklen_t client_len, DnsTcp *tcp,
                        const uint8_t *buf, size_t len) {
        if (tcp) {
                uint8_t hdr[2] = { (uint8_t) (len >> 8), (uint8_t) len };
                struct iovec iov[2] = { { hdr, 2 }, { (void *) buf, len } };
                struct msghdr mh = { .msg_iov = iov, .msg_iovlen = 2 };

                /* Small answers fit the socket's buffer; a client that does not read loses its answer. */
                (void) sendmsg(tcp->fd, &mh, MSG_DONTWAIT | MSG_NOSIGNAL);
                tcp_free(tcp);
                return;
        }
        (void) sendto(l->udp_fd, buf, len, MSG_DONTWAIT, &client->sa, client_len);
}

static void answer_rcode(DnsListener *l, const DnsQuestion *q, const uint8_t *query, uint16_t rcode,
                         const SockAddr *client, socklen_t client_len, DnsTcp *tcp) {
        uint8_t buf[512];
        int n;

        if (q->question_end > sizeof buf)
                return;
        n = dns_answer_build(q, query, rcode, NULL, 0, 0, buf, sizeof buf);
        if (n > 0)
                send_answer(l, client, client_len, tcp, buf, (size_t) n);
}

/* FORMERR for a query whose header could be read, nothing otherwise. */
static void answer_formerr(DnsListener *l, const uint8_t *p, size_t n, const SockAddr *client,
                           socklen_t client_len, DnsTcp *tcp) {
        uint8_t buf[12] = {};

        if (n < 12 || (p[2] & 0x80)) {
                if (tcp)
                        tcp_free(tcp);
                return;
        }
        memcpy(buf, p, 2);
        buf[2] = 0x80 | (p[2] & 0x79);
        buf[3] = DNS_RCODE_FORMERR;
        send_answer(l, client, client_len, tcp, buf, sizeof buf);
}

static bool answer_ours(DnsListener *l, const DnsQuestion *q, const uint8_t *query, const SockAddr *client,
                        socklen_t client_len, DnsTcp *tcp) {
        DnsServer *s = l->server;
        InAddr addrs[DNS_ADDRS_MAX];
        size_t n = 0;
        int family = q->qtype == DNS_TYPE_AAAA ? AF_INET6 : AF_INET;
        uint8_t buf[4096];
        int len;

        if (q->qclass != DNS_CLASS_IN || !s->lookup ||
            s->lookup(l->id, q->name, family, addrs, DNS_ADDRS_MAX, &n, s->userdata) <= 0)
                return false;
        if (!IN_SET(q->qtype, DNS_TYPE_A, DNS_TYPE_AAAA))
                n = 0;     /* a name of ours, with nothing of that type */
        len = dns_answer_build(q, query, DNS_RCODE_NOERROR, addrs, n, DNS_TTL, buf,
                               tcp ? sizeof buf : q->udp_size);
        if (len > 0)
                send_answer(l, client, client_len, tcp, buf, (size_t) len);
        return true;
}

/* ---- forwarding ---- */

static void forward_free(DnsForward *f) {
        if (!f)
                return;
        LIST_REMOVE(f->listener->forwards, f);
        f->listener->n_pending--;
        if (f->tcp)
                f->tcp->forward = NULL;
        sd_event_source_disable_unref(f->io);
        sd_event_source_disable_unref(f->timer);
        safe_close(f->fd);
        free(f->query);
        free(f);
}

static int forward_send(DnsForward *f);

static void forward_fail(DnsForward *f) {
        DnsQuestion q;
        DnsTcp *tcp = f->tcp;

        f->query[0] = (uint8_t) (f->client_id >> 8);
        f->query[1] = (uint8_t) f->client_id;
        if (dns_question_parse(f->query, f->len, &q) >= 0) {
                f->tcp = NULL;
                if (tcp)
                        tcp->forward = NULL;
                answer_rcode(f->listener, &q, f->query, DNS_RCODE_SERVFAIL, &f->client, f->client_len, tcp);
        }
        forward_free(f);
}

static int on_forward_reply(sd_event_source *src, int fd, uint32_t revents, void *userdata) {
        DnsForward *f = userdata;
        uint8_t buf[4096];
        uint16_t id;
        ssize_t n = recv(fd, buf, sizeof buf, MSG_DONTWAIT);
        DnsTcp *tcp = f->tcp;

        /* Connected: only the upstream's own address and port reach this socket. */
        if (n < 0 && errno != EAGAIN && errno != EINTR) {   /* ICMP unreachable: the next one */
                f->upstream++;
                if (forward_send(f) < 0)
                        forward_fail(f);
                return 0;
        }
        if (n < 12 || dns_reply_id(buf, (size_t) n, &id) < 0 || id != (uint16_t) ((f->query[0] << 8) | f->query[1]))
                return 0;
        buf[0] = (uint8_t) (f->client_id >> 8);
        buf[1] = (uint8_t) f->client_id;
        f->tcp = NULL;
        if (tcp)
                tcp->forward = NULL;
        send_answer(f->listener, &f->client, f->client_len, tcp, buf, (size_t) n);
        forward_free(f);
        return 0;
}

static int on_forward_timeout(sd_event_source *src, uint64_t usec, void *userdata) {
        DnsForward *f = userdata;

        f->upstream++;
        if (forward_send(f) < 0)
                forward_fail(f);
        return 0;
}

/* Asks upstream number f->upstream, on a socket of its own (a new source port each time). */
static int forward_send(DnsForward *f) {
        size_t n_up;
        const InAddr *up = upstreams_of(f->listener, &n_up);
        SockAddr sa = {};
        socklen_t len;
        uint16_t id;
        int r;

        if (f->upstream >= n_up)
                return -ENOENT;
        f->io = sd_event_source_disable_unref(f->io);
        f->timer = sd_event_source_disable_unref(f->timer);
        f->fd = safe_close(f->fd);
        f->fd = socket(up[f->upstream].family, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
        if (f->fd < 0)
                return -errno;
        if (up[f->upstream].family == AF_INET6) {
                sa.in6 = (struct sockaddr_in6) { .sin6_family = AF_INET6, .sin6_port = htons(53) };
                memcpy(&sa.in6.sin6_addr, up[f->upstream].bytes, 16);
                len = sizeof sa.in6;
        } else {
                sa.in = (struct sockaddr_in) { .sin_family = AF_INET, .sin_port = htons(53) };
                memcpy(&sa.in.sin_addr, up[f->upstream].bytes, 4);
                len = sizeof sa.in;
        }
        if (getrandom(&id, sizeof id, 0) != sizeof id)
                id = (uint16_t) now_usec(CLOCK_MONOTONIC);
        f->query[0] = (uint8_t) (id >> 8);
        f->query[1] = (uint8_t) id;
        if (connect(f->fd, &sa.sa, len) < 0 || send(f->fd, f->query, f->len, MSG_DONTWAIT) < 0)
                return -errno;
        r = sd_event_add_io(f->listener->server->event, &f->io, f->fd, EPOLLIN, on_forward_reply, f);
        if (r >= 0)
                r = sd_event_add_time_relative(f->listener->server->event, &f->timer, CLOCK_MONOTONIC,
                                               DNS_FORWARD_TIMEOUT_USEC / n_up, 0, on_forward_timeout, f);
        return r;
}

static void forward(DnsListener *l, const DnsQuestion *q, const uint8_t *p, size_t n, const SockAddr *client,
                    socklen_t client_len, DnsTcp *tcp) {
        DnsForward *f;

        if (!l->forward || l->n_pending >= DNS_PENDING_MAX)
                return answer_rcode(l, q, p, DNS_RCODE_REFUSED, client, client_len, tcp);
        f = calloc(1, sizeof *f);
        if (!f || !(f->query = malloc(n))) {
                free(f);
                return answer_rcode(l, q, p, DNS_RCODE_SERVFAIL, client, client_len, tcp);
        }
        memcpy(f->query, p, n);
        *f = (DnsForward) { .listener = l, .fd = -EBADF, .query = f->query, .len = n, .client_id = q->id,
                            .client_len = client_len, .tcp = tcp };
        if (client)
                f->client = *client;
        LIST_PREPEND(l->forwards, f);
        l->n_pending++;
        if (tcp)
                tcp->forward = f;
        if (forward_send(f) < 0)
                forward_fail(f);
}

static void handle_query(DnsListener *l, const uint8_t *p, size_t n, const SockAddr *client, socklen_t client_len,
                         DnsTcp *tcp) {
        DnsQuestion q;

        if (dns_question_parse(p, n, &q) < 0)
                return answer_formerr(l, p, n, client, client_len, tcp);
        if (tcp)
                q.udp_size = 4096;
        if (answer_ours(l, &q, p, client, client_len, tcp))
                return;
        forward(l, &q, p, n, client, client_len, tcp);
}

static int on_udp(sd_event_source *src, int fd, uint32_t revents, void *userdata) {
        DnsListener *l = userdata;

        /* Bounded per wakeup, so that one flooding container does not hold the loop. */
        for (int k = 0; k < 32; k++) {
                uint8_t buf[4096];
                SockAddr client = {};
                socklen_t len = sizeof client;
                ssize_t n = recvfrom(fd, buf, sizeof buf, MSG_DONTWAIT, &client.sa, &len);

                if (n < 0)
                        break;
                handle_query(l, buf, (size_t) n, &client, len, NULL);
        }
        return 0;
}

/* ---- TCP ---- */

static void tcp_free(DnsTcp *t) {
        if (!t)
                return;
        if (t->forward) {
                t->forward->tcp = NULL;
                forward_free(t->forward);
        }
        LIST_REMOVE(t->listener->tcps, t);
        t->listener->n_tcp--;
        sd_event_source_disable_unref(t->io);
        sd_event_source_disable_unref(t->timer);
        safe_close(t->fd);
        free(t);
}

static int on_tcp_data(sd_event_source *src, int fd, uint32_t revents, void *userdata) {
        DnsTcp *t = userdata;
        ssize_t n;
        size_t want;

        if (t->forward)    /* one query per connection; the answer is on its way */
                return 0;
        n = recv(fd, t->buf + t->have, sizeof t->buf - t->have, MSG_DONTWAIT);
        if (n == 0 || (n < 0 && errno != EAGAIN && errno != EINTR)) {
                tcp_free(t);
                return 0;
        }
        if (n < 0)
                return 0;
        t->have += (size_t) n;
        if (t->have < 2)
                return 0;
        want = (size_t) ((t->buf[0] << 8) | t->buf[1]);
        if (t->have < 2 + want)
                return 0;
        (void) sd_event_source_set_enabled(t->io, SD_EVENT_OFF);
        handle_query(t->listener, t->buf + 2, want, NULL, 0, t);
        return 0;
}

static int on_tcp_timeout(sd_event_source *src, uint64_t usec, void *userdata) {
        tcp_free(userdata);
        return 0;
}

static int on_tcp_accept(sd_event_source *src, int fd, uint32_t revents, void *userdata) {
        DnsListener *l = userdata;
        DnsTcp *t;
        int c = accept4(fd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);

        if (c < 0)
                return 0;
        if (l->n_tcp >= DNS_TCP_MAX || !(t = calloc(1, sizeof *t))) {
                safe_close(c);
                return 0;
        }
        t->listener = l;
        t->fd = c;
        LIST_PREPEND(l->tcps, t);
        l->n_tcp++;
        if (sd_event_add_io(l->server->event, &t->io, c, EPOLLIN, on_tcp_data, t) < 0 ||
            sd_event_add_time_relative(l->server->event, &t->timer, CLOCK_MONOTONIC, DNS_TCP_TIMEOUT_USEC, 0,
                                       on_tcp_timeout, t) < 0)
                tcp_free(t);
        return 0;
}

/* ---- the server and its listeners ---- */

int dns_server_new(sd_event *event, DnsLookup lookup, void *userdata, DnsServer **ret) {
        DnsServer *s = calloc(1, sizeof *s);

        if (!s || !(s->listeners = hashmap_new())) {
                free(s);
                return -ENOMEM;
        }
        s->event = sd_event_ref(event);
        s->lookup = lookup;
        s->userdata = userdata;
        *ret = s;
        return 0;
}

static void listener_free(DnsListener *l) {
        if (!l)
                return;
        while (l->forwards)
                forward_free(l->forwards);
        while (l->tcps)
                tcp_free(l->tcps);
        sd_event_source_disable_unref(l->udp_source);
        sd_event_source_disable_unref(l->tcp_source);
        safe_close(l->udp_fd);
        safe_close(l->tcp_fd);
        free(l->id);
        free(l);
}

DnsServer *dns_server_free(DnsServer *s) {
        const char *k;
        void *v;
        size_t i = 0;

        if (!s)
                return NULL;
        while (hashmap_iterate(s->listeners, &i, &k, &v))
                listener_free(v);
        hashmap_free(s->listeners);
        sd_event_unref(s->event);
        return mfree(s);
}

int dns_server_add_listener(DnsServer *s, const DnsListenerSpec *spec) {
        DnsListener *l = calloc(1, sizeof *l);
        int r;

        if (!l) {
                safe_close(spec->udp_fd);
                safe_close(spec->tcp_fd);
                return -ENOMEM;
        }
        *l = (DnsListener) { .server = s, .udp_fd = spec->udp_fd, .tcp_fd = spec->tcp_fd, .forward = spec->forward,
                             .n_upstreams = MIN(spec->n_upstreams, (size_t) DNS_UPSTREAMS_MAX) };
        memcpy(l->upstreams, spec->upstreams, l->n_upstreams * sizeof *l->upstreams);
        dns_server_remove_listener(s, spec->id);
        l->id = strdup(spec->id);
        r = l->id ? 0 : -ENOMEM;
        if (r >= 0)
                r = sd_event_add_io(s->event, &l->udp_source, l->udp_fd, EPOLLIN, on_udp, l);
        if (r >= 0 && l->tcp_fd >= 0)
                r = sd_event_add_io(s->event, &l->tcp_source, l->tcp_fd, EPOLLIN, on_tcp_accept, l);
        if (r >= 0)
                r = hashmap_put(s->listeners, l->id, l);
        if (r < 0)
                listener_free(l);
        return r;
}

void dns_server_remove_listener(DnsServer *s, const char *id) {
        DnsListener *l = hashmap_remove(s->listeners, id);

        listener_free(l);
}

int dns_listener_sockets(int netns_fd, int *ret_udp, int *ret_tcp) {
        struct sockaddr_in sa = { .sin_family = AF_INET, .sin_port = htons(53) };
        _cleanup_close_ int udp = -EBADF, tcp = -EBADF;
        int one = 1;

        (void) inet_pton(AF_INET, DNS_ADDRESS, &sa.sin_addr);
        udp = netns_socket(netns_fd, AF_INET, SOCK_DGRAM | SOCK_NONBLOCK, 0);
        if (udp < 0)
                return udp;
        tcp = netns_socket(netns_fd, AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0);
        if (tcp < 0)
                return tcp;
        (void) setsockopt(tcp, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
        if (bind(udp, (struct sockaddr *) &sa, sizeof sa) < 0 || bind(tcp, (struct sockaddr *) &sa, sizeof sa) < 0 ||
            listen(tcp, 16) < 0)
                return -errno;
        *ret_udp = TAKE_FD(udp);
        *ret_tcp = TAKE_FD(tcp);
        return 0;
}
