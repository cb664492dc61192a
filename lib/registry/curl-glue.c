/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <errno.h>

#include "berth-config.h"

#include "curl-glue.h"

struct CurlGlue {
        sd_event *event;
        CURLM *multi;
        sd_event_source *timer;
        CurlGlueFinishedFn on_finished;
        void *userdata;
};

static void curl_glue_check_finished(CurlGlue *g) {
        CURLMsg *msg;
        int k;

        /* on_finished may free the easy handle: read the message first. */
        while ((msg = curl_multi_info_read(g->multi, &k)))
                if (msg->msg == CURLMSG_DONE && g->on_finished)
                        g->on_finished(g, msg->easy_handle, msg->data.result, g->userdata);
}

static int curl_glue_on_io(sd_event_source *s, int fd, uint32_t revents, void *userdata) {
        CurlGlue *g = userdata;
        int action = 0, k;

        if (revents & (EPOLLIN | EPOLLHUP | EPOLLERR))
                action |= CURL_CSELECT_IN;
        if (revents & EPOLLOUT)
                action |= CURL_CSELECT_OUT;
        if (revents & EPOLLERR)
                action |= CURL_CSELECT_ERR;

        if (curl_multi_socket_action(g->multi, fd, action, &k) != CURLM_OK)
                return -EIO;
        curl_glue_check_finished(g);
        return 0;
}

static int curl_glue_socket_callback(CURL *c, curl_socket_t fd, int action, void *userdata, void *socketp) {
        CurlGlue *g = userdata;
        sd_event_source *io = socketp;
        uint32_t events = 0;

        if (action == CURL_POLL_REMOVE) {
                sd_event_source_disable_unref(io);
                (void) curl_multi_assign(g->multi, fd, NULL);
                return 0;
        }

        if (IN_SET(action, CURL_POLL_IN, CURL_POLL_INOUT))
                events |= EPOLLIN;
        if (IN_SET(action, CURL_POLL_OUT, CURL_POLL_INOUT))
                events |= EPOLLOUT;

        if (io) {
                if (sd_event_source_set_io_events(io, events) < 0 ||
                    sd_event_source_set_enabled(io, SD_EVENT_ON) < 0)
                        return -1;
                return 0;
        }

        if (sd_event_add_io(g->event, &io, fd, events, curl_glue_on_io, g) < 0)
                return -1;
        (void) sd_event_source_set_description(io, "curl-io");
        if (curl_multi_assign(g->multi, fd, io) != CURLM_OK) {
                sd_event_source_disable_unref(io);
                return -1;
        }
        return 0;
}

static int curl_glue_on_timer(sd_event_source *s, uint64_t usec, void *userdata) {
        CurlGlue *g = userdata;
        int k;

        if (curl_multi_socket_action(g->multi, CURL_SOCKET_TIMEOUT, 0, &k) != CURLM_OK)
                return -EIO;
        curl_glue_check_finished(g);
        return 0;
}

static int curl_glue_timer_callback(CURLM *multi, long timeout_ms, void *userdata) {
        CurlGlue *g = userdata;
        uint64_t usec;

        if (timeout_ms < 0) {
                if (g->timer && sd_event_source_set_enabled(g->timer, SD_EVENT_OFF) < 0)
                        return -1;
                return 0;
        }

        if (sd_event_now(g->event, CLOCK_BOOTTIME, &usec) < 0)
                return -1;
        usec += (uint64_t) timeout_ms * USEC_PER_MSEC + 1;

        if (g->timer) {
                if (sd_event_source_set_time(g->timer, usec) < 0 ||
                    sd_event_source_set_enabled(g->timer, SD_EVENT_ONESHOT) < 0)
                        return -1;
                return 0;
        }
        if (sd_event_add_time(g->event, &g->timer, CLOCK_BOOTTIME, usec, 1, curl_glue_on_timer, g) < 0)
                return -1;
        (void) sd_event_source_set_description(g->timer, "curl-timer");
        return 0;
}

int curl_glue_new(sd_event *e, CurlGlueFinishedFn on_finished, void *userdata, CurlGlue **ret) {
        CurlGlue *g;

        g = calloc(1, sizeof(*g));
        if (!g)
                return -ENOMEM;
        g->event = sd_event_ref(e);
        g->on_finished = on_finished;
        g->userdata = userdata;

        g->multi = curl_multi_init();
        if (!g->multi) {
                curl_glue_free(g);
                return -ENOMEM;
        }
        if (curl_multi_setopt(g->multi, CURLMOPT_SOCKETDATA, g) != CURLM_OK ||
            curl_multi_setopt(g->multi, CURLMOPT_SOCKETFUNCTION, curl_glue_socket_callback) != CURLM_OK ||
            curl_multi_setopt(g->multi, CURLMOPT_TIMERDATA, g) != CURLM_OK ||
            curl_multi_setopt(g->multi, CURLMOPT_TIMERFUNCTION, curl_glue_timer_callback) != CURLM_OK) {
                curl_glue_free(g);
                return -EINVAL;
        }
        *ret = g;
        return 0;
}

CurlGlue *curl_glue_free(CurlGlue *g) {
        if (!g)
                return NULL;
        /* The easy handles are their owners' to remove and clean up first;
         * curl_multi_cleanup() still reports the sockets it closes. */
        if (g->multi)
                curl_multi_cleanup(g->multi);
        sd_event_source_disable_unref(g->timer);
        sd_event_unref(g->event);
        free(g);
        return NULL;
}

int curl_glue_make(unsigned stall_timeout_sec, CURL **ret) {
        CURL *c;

        c = curl_easy_init();
        if (!c)
                return -ENOMEM;

        /* Threads of berthd must never see SIGALRM or SIGPIPE from curl,
         * and nothing may reach stderr. */
        if (curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L) != CURLE_OK ||
            curl_easy_setopt(c, CURLOPT_VERBOSE, 0L) != CURLE_OK ||
            curl_easy_setopt(c, CURLOPT_NOPROGRESS, 1L) != CURLE_OK ||
            curl_easy_setopt(c, CURLOPT_PROTOCOLS_STR, "http,https") != CURLE_OK ||
            curl_easy_setopt(c, CURLOPT_REDIR_PROTOCOLS_STR, "http,https") != CURLE_OK ||
            curl_easy_setopt(c, CURLOPT_FOLLOWLOCATION, 1L) != CURLE_OK ||
            curl_easy_setopt(c, CURLOPT_MAXREDIRS, 10L) != CURLE_OK ||
            curl_easy_setopt(c, CURLOPT_UNRESTRICTED_AUTH, 0L) != CURLE_OK ||
            curl_easy_setopt(c, CURLOPT_LOW_SPEED_LIMIT, 1024L) != CURLE_OK ||
            curl_easy_setopt(c, CURLOPT_LOW_SPEED_TIME,
                             (long) (stall_timeout_sec ?: CURL_GLUE_STALL_TIMEOUT_SEC_DEFAULT)) != CURLE_OK ||
            curl_easy_setopt(c, CURLOPT_CONNECTTIMEOUT, 30L) != CURLE_OK ||
            curl_easy_setopt(c, CURLOPT_USERAGENT, "berth/" BERTH_VERSION) != CURLE_OK) {
                curl_easy_cleanup(c);
                return -EIO;
        }
        *ret = c;
        return 0;
}

int curl_glue_add(CurlGlue *g, CURL *c) {
        return curl_multi_add_handle(g->multi, c) == CURLM_OK ? 0 : -EIO;
}

void curl_glue_remove(CurlGlue *g, CURL *c) {
        (void) curl_multi_remove_handle(g->multi, c);
}
