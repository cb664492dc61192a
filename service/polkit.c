/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Authorization with polkit, without libpolkit and without ever waiting in
 * the loop (see polkit.h for how a handler uses it).
 *
 * A call's check is a PolkitQuery in manager->polkit_queries, keyed by the
 * message. Its life: the first polkit_verify() asks dbus-daemon for the
 * sender's uid (GetConnectionUnixUser, asynchronously: the message carries
 * no credentials); root is answered at once, anybody else is the subject of
 * a CheckAuthorization to polkitd. With the answer stored, the message goes
 * back into the bus's read queue, its handler runs again and finds the
 * answer, and an idle event source frees the query right after that second
 * run. A handler that asks for a second action in its second run (the
 * privileged one after manage-containers) makes the query ask again: the
 * answers gather in the query until the handler gets through.
 *
 * Each query is a request of its caller (caller.c): bounded per caller, and
 * dropped, unanswered and with its call to polkitd cancelled, when the caller
 * leaves the bus before the answer came.
 *
 * A caller's later calls do not overtake the one being checked: a bus filter
 * holds them (PolkitSender) until the caller has no check under way, then
 * puts them back into the read queue in their order. Clients send
 * StartContainer and WaitContainer back to back and rely on that order. */

#include <stdio.h>

#include "bus-util.h"
#include "caller.h"
#include "log.h"
#include "manager.h"
#include "polkit.h"

#define POLKIT_BUS_NAME "org.freedesktop.PolicyKit1"
#define POLKIT_AUTHORITY_PATH "/org/freedesktop/PolicyKit1/Authority"
#define POLKIT_AUTHORITY_IFACE "org.freedesktop.PolicyKit1.Authority"
#define POLKIT_CHECK_ALLOW_USER_INTERACTION 1U

/* CheckAuthorization calls in flight for unprivileged callers, everybody
 * together: well below the 128 replies dbus-daemon lets one connection
 * (berthd's) wait for, which systemd's answers need too. */
#define POLKIT_CHECKS_MAX 64U
/* Actions one call may be checked for; a handler asks for two today. */
#define POLKIT_ANSWERS_MAX 4U
/* Calls of one caller held behind its checks; beyond, they are refused. */
#define POLKIT_HELD_MAX 64U
/* How long a person may take at the agent's password prompt. */
#define POLKIT_INTERACTIVE_TIMEOUT_USEC (5 * 60 * USEC_PER_SEC)

typedef struct PolkitAnswer {
        char *action;
        char **details;
        int result;               /* > 0 allowed; < 0 denied, with error */
        sd_bus_error error;
} PolkitAnswer;

typedef struct PolkitSender {
        Manager *manager;
        char *name;               /* unique name, the key in manager->polkit_senders */
        unsigned n_queries;
        sd_bus_message *held[POLKIT_HELD_MAX];
        size_t n_held;
        sd_event_source *release;
} PolkitSender;

typedef struct PolkitQuery {
        Manager *manager;
        PolkitSender *sender;
        char key[32];             /* the request's address, the key in manager->polkit_queries */
        sd_bus_message *request;
        CallerRequest *req;       /* the caller's count; req->slot is our call in flight */
        bool interactive;
        bool uid_known;
        uid_t uid;
        bool counted;             /* one of manager->n_polkit_checks */
        bool cancelled;           /* the caller left */
        /* The question in flight, NULL between questions. */
        char *action;
        char **details;
        PolkitAnswer answers[POLKIT_ANSWERS_MAX];
        size_t n_answers;
        sd_event_source *idle;    /* frees the query after the handler's next run */
} PolkitQuery;

static const struct {
        const char *action;
        const char *purpose;
} action_purposes[] = {
        { BERTH_ACTION_READ_CONFIG, "read the configuration of containers" },
        { BERTH_ACTION_MANAGE_CONTAINERS, "manage containers" },
        { BERTH_ACTION_PRIVILEGED_CONTAINERS, "manage containers with privileges or host resources" },
        { BERTH_ACTION_EXEC, "run commands in containers" },
        { BERTH_ACTION_MANAGE_IMAGES, "manage images" },
        { BERTH_ACTION_MANAGE_NETWORKS, "manage networks" },
        { BERTH_ACTION_PULL_IMAGES, "pull or push images" },
        { BERTH_ACTION_REGISTRY_CREDENTIALS, "change the engine's own registry credentials" },
};

static const char *action_purpose(const char *action) {
        for (size_t i = 0; i < ELEMENTSOF(action_purposes); i++)
                if (streq(action_purposes[i].action, action))
                        return action_purposes[i].purpose;
        return "do this";
}

static void query_key(sd_bus_message *m, char key[static 32]) {
        (void) snprintf(key, 32, "%p", (void *) m);
}

static void polkit_answer_done(PolkitAnswer *a) {
        a->action = mfree(a->action);
        a->details = strv_free(a->details);
        sd_bus_error_free(&a->error);
}

static void query_uncount(PolkitQuery *q) {
        if (q->counted)
                q->manager->n_polkit_checks--;
        q->counted = false;
}

static PolkitSender *polkit_sender_free(PolkitSender *s) {
        if (!s)
                return NULL;
        (void) hashmap_remove(s->manager->polkit_senders, s->name);
        for (size_t i = 0; i < s->n_held; i++)
                sd_bus_message_unref(s->held[i]);
        sd_event_source_disable_unref(s->release);
        free(s->name);
        return mfree(s);
}

static int polkit_sender_get(Manager *manager, const char *name, PolkitSender **ret) {
        PolkitSender *s;
        int r;

        if (!manager->polkit_senders) {
                manager->polkit_senders = hashmap_new();
                if (!manager->polkit_senders)
                        return -ENOMEM;
        }
        s = hashmap_get(manager->polkit_senders, name);
        if (s) {
                *ret = s;
                return 0;
        }
        s = calloc(1, sizeof *s);
        if (!s)
                return -ENOMEM;
        s->manager = manager;
        s->name = strdup(name);
        r = s->name ? hashmap_put(manager->polkit_senders, s->name, s) : -ENOMEM;
        if (r < 0) {
                free(s->name);
                free(s);
                return r;
        }
        *ret = s;
        return 0;
}

/* Idle, so nothing is left in the read queue to overtake: the held calls go
 * back in their order, and pass the filter as the sender is forgotten. */
static int sender_on_release(sd_event_source *source, void *userdata) {
        PolkitSender *s = userdata;
        sd_bus *bus = s->manager->bus;
        sd_bus_message *held[POLKIT_HELD_MAX];
        size_t n = s->n_held;
        int r;

        if (s->n_queries > 0)
                return 0;         /* another check began: its end releases them */
        memcpy(held, s->held, n * sizeof held[0]);
        s->n_held = 0;
        polkit_sender_free(s);
        for (size_t i = 0; i < n; i++) {
                r = sd_bus_enqueue_for_read(bus, held[i]);
                if (r < 0) {
                        log_warning_errno(r, "Cannot dispatch a held call: %m");
                        (void) sd_bus_reply_method_errno(held[i], r, NULL);
                }
                sd_bus_message_unref(held[i]);
        }
        return 0;
}

/* A check of s ended; gone: its caller left, and so do the calls it held. */
static void polkit_sender_query_done(PolkitSender *s, bool gone) {
        int r;

        if (!s)
                return;
        s->n_queries--;
        if (gone) {
                for (size_t i = 0; i < s->n_held; i++)
                        sd_bus_message_unref(s->held[i]);
                s->n_held = 0;
        }
        if (s->n_queries > 0)
                return;
        if (s->n_held == 0) {
                polkit_sender_free(s);
                return;
        }
        if (s->release)
                r = sd_event_source_set_enabled(s->release, SD_EVENT_ONESHOT);
        else {
                r = sd_event_add_defer(s->manager->event, &s->release, sender_on_release, s);
                if (r >= 0)
                        r = sd_event_source_set_priority(s->release, SD_EVENT_PRIORITY_IDLE);
        }
        if (r < 0) {
                log_warning_errno(r, "Cannot release the calls held behind a check, dropping them: %m");
                polkit_sender_free(s);
        }
}

static int polkit_filter(sd_bus_message *m, void *userdata, sd_bus_error *error) {
        Manager *manager = userdata;
        PolkitSender *s;
        char key[32];
        uint8_t type;

        if (!manager->polkit_senders || sd_bus_message_get_type(m, &type) < 0 || type != SD_BUS_MESSAGE_METHOD_CALL)
                return 0;
        s = hashmap_get(manager->polkit_senders, strempty(sd_bus_message_get_sender(m)));
        if (!s)
                return 0;
        /* The checked call itself, dispatched again. */
        query_key(m, key);
        if (manager->polkit_queries && hashmap_get(manager->polkit_queries, key))
                return 0;
        if (s->n_held >= POLKIT_HELD_MAX)
                return sd_bus_error_setf(error, BERTH_ERROR_BUSY,
                                         "This connection has %u calls waiting behind an authorization check already.",
                                         POLKIT_HELD_MAX);
        s->held[s->n_held++] = sd_bus_message_ref(m);
        return 1;
}

static PolkitQuery *polkit_query_free(PolkitQuery *q) {
        if (!q)
                return NULL;
        (void) hashmap_remove(q->manager->polkit_queries, q->key);
        query_uncount(q);
        polkit_sender_query_done(q->sender, q->cancelled);
        if (q->req) {
                /* Takes our call to polkitd or dbus-daemon along (its slot). */
                q->req->cancel = NULL;
                caller_request_free(q->req);
        }
        sd_event_source_disable_unref(q->idle);
        free(q->action);
        strv_free(q->details);
        for (size_t i = 0; i < q->n_answers; i++)
                polkit_answer_done(&q->answers[i]);
        sd_bus_message_unref(q->request);
        return mfree(q);
}
DEFINE_TRIVIAL_CLEANUP_FUNC(PolkitQuery *, polkit_query_free);

/* The caller left while we asked: nothing of its call is done. */
static void query_cancel(CallerRequest *req) {
        PolkitQuery *q = req->userdata;

        log_debug("%s left during the authorization of %s; forgetting it.",
                  strempty(sd_bus_message_get_sender(q->request)), strempty(sd_bus_message_get_member(q->request)));
        q->req = NULL;            /* caller.c frees it, and with it our call in flight */
        q->cancelled = true;
        polkit_query_free(q);
}

static int query_on_idle(sd_event_source *s, void *userdata) {
        polkit_query_free(userdata);
        return 0;
}

static PolkitAnswer *query_find_answer(PolkitQuery *q, const char *action, const char **details) {
        for (size_t i = 0; i < q->n_answers; i++) {
                PolkitAnswer *a = &q->answers[i];
                size_t n = strv_length(a->details);
                bool same;

                if (!streq(a->action, action) || n != strv_length((char * const *) details))
                        continue;
                same = true;
                for (size_t j = 0; same && j < n; j++)
                        same = streq(a->details[j], details[j]);
                /* Details that changed since are a new question. */
                if (same)
                        return a;
        }
        return NULL;
}

static PolkitAnswer *query_take_question(PolkitQuery *q) {
        PolkitAnswer *a = &q->answers[q->n_answers++];

        *a = (PolkitAnswer) { .action = TAKE_PTR(q->action), .details = TAKE_PTR(q->details), .result = 1,
                              .error = SD_BUS_ERROR_NULL };
        return a;
}

/* The question in flight is answered: yes. */
static void query_allow(PolkitQuery *q) {
        (void) query_take_question(q);
}

/* ... or no, with an error name and its sentence. */
_printf_(3, 4)
static void query_deny(PolkitQuery *q, const char *name, const char *format, ...) {
        PolkitAnswer *a = query_take_question(q);
        va_list ap;

        va_start(ap, format);
        a->result = sd_bus_error_setfv(&a->error, name, format, ap);
        va_end(ap);
        if (a->result >= 0)
                a->result = -EACCES;
}

/* The answer is in: the handler runs again with the same message. */
static void query_dispatch_again(PolkitQuery *q) {
        sd_bus *bus = q->manager->bus;
        int r;

        query_uncount(q);
        /* Idle priority: after the message waiting in the read queue is
         * through (sd-bus takes one message per turn of the loop, at normal
         * priority). */
        if (q->idle)
                r = sd_event_source_set_enabled(q->idle, SD_EVENT_ONESHOT);
        else {
                r = sd_event_add_defer(q->manager->event, &q->idle, query_on_idle, q);
                if (r >= 0)
                        r = sd_event_source_set_priority(q->idle, SD_EVENT_PRIORITY_IDLE);
        }
        if (r >= 0)
                r = sd_bus_message_rewind(q->request, true);
        if (r >= 0)
                r = sd_bus_enqueue_for_read(bus, q->request);
        if (r < 0) {
                log_warning_errno(r, "Cannot dispatch %s again after its authorization: %m",
                                  strempty(sd_bus_message_get_member(q->request)));
                (void) sd_bus_reply_method_errno(q->request, r, NULL);
                polkit_query_free(q);
        }
}

static int query_on_check_reply(sd_bus_message *reply, void *userdata, sd_bus_error *ret_error) {
        PolkitQuery *q = userdata;
        const char *purpose = action_purpose(q->action);
        int authorized, challenge, r;

        q->req->slot = sd_bus_slot_unref(q->req->slot);
        if (sd_bus_message_is_method_error(reply, NULL)) {
                const sd_bus_error *e = sd_bus_message_get_error(reply);
                log_debug("polkit did not answer for %s: %s", q->action, e->message ?: e->name);
                query_deny(q, SD_BUS_ERROR_ACCESS_DENIED,
                           "Not authorized to %s (%s): polkit could not be asked (%s).",
                           purpose, q->action, e->message ?: e->name);
                query_dispatch_again(q);
                return 0;
        }
        r = sd_bus_message_enter_container(reply, 'r', "bba{ss}");
        if (r >= 0)
                r = sd_bus_message_read(reply, "bb", &authorized, &challenge);
        if (r < 0)
                query_deny(q, SD_BUS_ERROR_ACCESS_DENIED,
                           "Not authorized to %s (%s): polkit's answer could not be read.", purpose, q->action);
        else if (authorized) {
                log_debug("polkit allows %s to %s.", sd_bus_message_get_sender(q->request), q->action);
                query_allow(q);
        } else if (challenge && !q->interactive)
                query_deny(q, SD_BUS_ERROR_INTERACTIVE_AUTHORIZATION_REQUIRED,
                           "Authentication is required to %s (%s), and the call did not allow interactive authorization.",
                           purpose, q->action);
        else
                query_deny(q, SD_BUS_ERROR_ACCESS_DENIED, "Not authorized to %s (%s).", purpose, q->action);
        query_dispatch_again(q);
        return 0;
}

static int append_details(sd_bus_message *m, char **details) {
        int r;

        r = sd_bus_message_open_container(m, 'a', "{ss}");
        for (char **d = details; r >= 0 && d && d[0] && d[1]; d += 2)
                r = sd_bus_message_append(m, "{ss}", d[0], d[1]);
        if (r < 0)
                return r;
        return sd_bus_message_close_container(m);
}

/* CheckAuthorization(subject, action, details, flags, cancellation id),
 * the subject the caller's bus name, which polkitd resolves itself. */
static int query_send_check(PolkitQuery *q, sd_bus_error *error) {
        _cleanup_(sd_bus_message_unrefp) sd_bus_message *call = NULL;
        sd_bus *bus = q->manager->bus;
        int r;

        if (q->manager->n_polkit_checks >= POLKIT_CHECKS_MAX)
                return sd_bus_error_setf(error, BERTH_ERROR_BUSY,
                                         "berthd has %u authorization checks with polkit pending, the most it keeps for unprivileged callers; try again later.",
                                         q->manager->n_polkit_checks);
        r = sd_bus_message_new_method_call(bus, &call, POLKIT_BUS_NAME, POLKIT_AUTHORITY_PATH,
                                           POLKIT_AUTHORITY_IFACE, "CheckAuthorization");
        if (r >= 0)
                r = sd_bus_message_append(call, "(sa{sv})s", "system-bus-name", 1, "name", "s",
                                          sd_bus_message_get_sender(q->request), q->action);
        if (r >= 0)
                r = append_details(call, q->details);
        if (r >= 0)
                r = sd_bus_message_append(call, "us",
                                          q->interactive ? POLKIT_CHECK_ALLOW_USER_INTERACTION : 0U, "");
        /* polkitd may be started on demand (it is D-Bus activatable): auto-start stays on. */
        if (r >= 0)
                r = sd_bus_call_async(bus, &q->req->slot, call, query_on_check_reply, q,
                                      q->interactive ? POLKIT_INTERACTIVE_TIMEOUT_USEC : 0);
        if (r < 0)
                return r;
        q->counted = true;
        q->manager->n_polkit_checks++;
        return 0;
}

static int query_on_uid_reply(sd_bus_message *reply, void *userdata, sd_bus_error *ret_error) {
        _cleanup_(sd_bus_error_free) sd_bus_error error = SD_BUS_ERROR_NULL;
        PolkitQuery *q = userdata;
        uint32_t uid;
        int r;

        q->req->slot = sd_bus_slot_unref(q->req->slot);
        r = sd_bus_message_read(reply, "u", &uid);
        if (r < 0) {
                /* The caller left already (NameHasNoOwner), most likely. */
                const sd_bus_error *e = sd_bus_message_get_error(reply);
                query_deny(q, SD_BUS_ERROR_ACCESS_DENIED,
                           "Not authorized to %s (%s): the bus could not tell who called (%s).",
                           action_purpose(q->action), q->action, e ? e->message ?: e->name : strerror(-r));
                query_dispatch_again(q);
                return 0;
        }
        q->uid = uid;
        q->uid_known = true;
        if (uid == 0) {
                query_allow(q);
                query_dispatch_again(q);
                return 0;
        }
        r = query_send_check(q, &error);
        if (r < 0) {
                if (sd_bus_error_is_set(&error))
                        query_deny(q, error.name, "%s", error.message);
                else
                        query_deny(q, SD_BUS_ERROR_ACCESS_DENIED,
                                   "Not authorized to %s (%s): polkit could not be asked (%s).",
                                   action_purpose(q->action), q->action, strerror(-r));
                query_dispatch_again(q);
        }
        return 0;
}

static int query_new(Manager *manager, sd_bus_message *m, const char *key, sd_bus_error *error,
                     PolkitQuery **ret) {
        _cleanup_(polkit_query_freep) PolkitQuery *q = NULL;
        int r;

        if (!manager->polkit_queries) {
                manager->polkit_queries = hashmap_new();
                if (!manager->polkit_queries)
                        return -ENOMEM;
        }
        if (!manager->polkit_filter_slot) {
                r = sd_bus_add_filter(manager->bus, &manager->polkit_filter_slot, polkit_filter, manager);
                if (r < 0)
                        return r;
        }
        q = calloc(1, sizeof *q);
        if (!q)
                return -ENOMEM;
        q->manager = manager;
        q->request = sd_bus_message_ref(m);
        q->interactive = sd_bus_message_get_allow_interactive_authorization(m) > 0;
        memcpy(q->key, key, sizeof q->key);
        r = polkit_sender_get(manager, sd_bus_message_get_sender(m), &q->sender);
        if (r < 0)
                return r;
        q->sender->n_queries++;
        r = hashmap_put(manager->polkit_queries, q->key, q);
        if (r < 0) {
                q->key[0] = 0;    /* not ours to remove */
                return r;
        }
        /* Counted against the caller and followed: gone with it. */
        r = caller_request_new(manager, m, CALLER_REQUEST_POLKIT, error, &q->req);
        if (r < 0)
                return r;
        q->req->cancel = query_cancel;
        q->req->userdata = q;
        *ret = TAKE_PTR(q);
        return 0;
}

static int query_ask(PolkitQuery *q, const char *action, const char **details, sd_bus_error *error) {
        int r;

        if (q->n_answers >= POLKIT_ANSWERS_MAX)
                return sd_bus_error_setf(error, SD_BUS_ERROR_ACCESS_DENIED,
                                         "Not authorized to %s (%s): too many checks for one call.",
                                         action_purpose(action), action);
        q->action = strdup(action);
        q->details = strv_copy((char * const *) details);
        if (!q->action || (details && !q->details))
                return -ENOMEM;
        /* Not freed while a question is in flight. */
        if (q->idle) {
                r = sd_event_source_set_enabled(q->idle, SD_EVENT_OFF);
                if (r < 0)
                        return r;
        }
        if (q->uid_known)
                return query_send_check(q, error);
        return sd_bus_call_method_async(q->manager->bus, &q->req->slot, "org.freedesktop.DBus",
                                        "/org/freedesktop/DBus", "org.freedesktop.DBus",
                                        "GetConnectionUnixUser", query_on_uid_reply, q, "s",
                                        sd_bus_message_get_sender(q->request));
}

int polkit_verify(sd_bus_message *m, const char *action, const char **details, Manager *manager,
                  sd_bus_error *error) {
        PolkitQuery *q = NULL;
        PolkitAnswer *a;
        char key[32];
        int r;

        if (!m || !action || !manager)
                return -EINVAL;
        if (!sd_bus_message_get_sender(m))
                return sd_bus_error_setf(error, SD_BUS_ERROR_ACCESS_DENIED,
                                         "Not authorized to %s (%s): the call has no sender.",
                                         action_purpose(action), action);
        query_key(m, key);
        if (manager->polkit_queries)
                q = hashmap_get(manager->polkit_queries, key);
        if (q) {
                /* Dispatched again before the answer came: still waiting. */
                if (q->action)
                        return 0;
                if (q->uid_known && q->uid == 0)
                        return 1;
                a = query_find_answer(q, action, details);
                if (a && a->result > 0)
                        return 1;
                if (a) {
                        r = sd_bus_error_copy(error, &a->error);
                        return r < 0 ? r : -EACCES;
                }
        } else {
                r = query_new(manager, m, key, error, &q);
                if (r < 0)
                        return r;
        }
        r = query_ask(q, action, details, error);
        if (r < 0) {
                polkit_query_free(q);
                return r;
        }
        return 0;
}

void polkit_free(Manager *manager) {
        const char *key;
        void *value;
        size_t i;

        /* Each free changes the table: start again from the top. */
        for (i = 0; manager->polkit_queries && hashmap_iterate(manager->polkit_queries, &i, &key, &value); i = 0)
                polkit_query_free(value);
        manager->polkit_queries = hashmap_free(manager->polkit_queries);
        for (i = 0; manager->polkit_senders && hashmap_iterate(manager->polkit_senders, &i, &key, &value); i = 0)
                polkit_sender_free(value);
        manager->polkit_senders = hashmap_free(manager->polkit_senders);
        manager->polkit_filter_slot = sd_bus_slot_unref(manager->polkit_filter_slot);
}
