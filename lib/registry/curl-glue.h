/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include <curl/curl.h>
#include <systemd/sd-event.h>

#include "util.h"

/* libcurl's multi interface driven by an sd-event loop, as systemd's
 * src/import/curl-util.c does it: curl tells us which sockets to watch
 * (CURLMOPT_SOCKETFUNCTION) and when to wake it (CURLMOPT_TIMERFUNCTION);
 * we hand events back with curl_multi_socket_action() and report each
 * finished easy handle to on_finished. */

typedef struct CurlGlue CurlGlue;

typedef void (*CurlGlueFinishedFn)(CurlGlue *g, CURL *c, CURLcode result, void *userdata);

int curl_glue_new(sd_event *e, CurlGlueFinishedFn on_finished, void *userdata, CurlGlue **ret);
CurlGlue *curl_glue_free(CurlGlue *g);
DEFINE_TRIVIAL_CLEANUP_FUNC(CurlGlue *, curl_glue_free);

#define CURL_GLUE_STALL_TIMEOUT_SEC_DEFAULT 60U

/* A new easy handle with what every transfer needs (no signals, no output,
 * http/https only, redirects and their protocols bounded). A transfer under
 * 1 KiB/s for stall_timeout_sec seconds (0: the default) fails with
 * CURLE_OPERATION_TIMEDOUT. */
int curl_glue_make(unsigned stall_timeout_sec, CURL **ret);
int curl_glue_add(CurlGlue *g, CURL *c);
void curl_glue_remove(CurlGlue *g, CURL *c);
