/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/* What berthd keeps for the peers that call it: pending WaitContainer calls
 * and questions to systemd in flight, counted per caller (its unique bus
 * name), bounded, and dropped as soon as the caller leaves the bus. Anyone
 * on the system bus may call the read-only methods, so nothing here may grow
 * with what a caller sends. */

#include <limits.h>
#include <systemd/sd-bus.h>

#include "container.h"

typedef struct Manager Manager;
typedef struct Caller Caller;

typedef enum CallerRequestType {
        CALLER_REQUEST_WAIT,     /* until a container exits: as long as that takes */
        CALLER_REQUEST_QUERY,    /* a question to systemd: until it answers */
        CALLER_REQUEST_POLKIT,   /* an authorization check (polkit.c): until polkitd answers */
        _CALLER_REQUEST_TYPE_MAX,
        _CALLER_REQUEST_TYPE_INVALID = -EINVAL,
} CallerRequestType;

typedef struct CallerRequest CallerRequest;
struct CallerRequest {
        Manager *manager;
        Caller *caller;
        CallerRequestType type;
        sd_bus_message *message;   /* the call, to reply to */
        sd_bus_slot *slot;         /* the call to systemd in flight: freed (cancelled) with the request */
        /* Run when the caller leaves first; the request is freed right after. */
        void (*cancel)(CallerRequest *req);
        void *userdata;
        char container_id[CONTAINER_ID_LENGTH + 1];
        CallerRequest *prev, *next;
};

/* Per caller, for everyone; the totals beyond which only root is served. */
#define CALLER_WAITS_MAX 64U
#define CALLER_QUERIES_MAX 4U
#define CALLER_POLKIT_CHECKS_MAX 8U
#define CALLERS_UNPRIVILEGED_WAITS_MAX 4096U
#define CALLERS_UNPRIVILEGED_QUERIES_MAX 32U
/* Not checked here: who is root is known only once the bus has answered
 * (polkit.c bounds the checks of unprivileged callers itself). */
#define CALLERS_POLKIT_CHECKS_MAX UINT_MAX

/* Follows NameOwnerChanged; call before the bus name is taken. */
int callers_watch(Manager *m);
/* Shutdown: forgets every request, unanswered. */
void callers_free(Manager *m);

/* > 0 if the sender of m has effective uid 0. */
int bus_message_sender_is_root(sd_bus_message *m);

/* A new request of message's sender, or BERTH_ERROR_BUSY with one sentence
 * in error when the caller (or, for unprivileged callers, everybody
 * together) has as many pending as allowed. */
int caller_request_new(Manager *m, sd_bus_message *message, CallerRequestType type, sd_bus_error *error,
                       CallerRequest **ret);
/* Unlinks and frees (the caller too once it has nothing pending); NULL is fine. */
CallerRequest *caller_request_free(CallerRequest *req);
