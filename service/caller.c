/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "bus-util.h"
#include "caller.h"
#include "hashmap.h"
#include "log.h"
#include "manager.h"

struct Caller {
        Manager *manager;
        char *name;                               /* unique name, the key in manager->callers */
        unsigned n[_CALLER_REQUEST_TYPE_MAX];
        CallerRequest *requests;
};

static const unsigned caller_max[_CALLER_REQUEST_TYPE_MAX] = {
        [CALLER_REQUEST_WAIT] = CALLER_WAITS_MAX,
        [CALLER_REQUEST_QUERY] = CALLER_QUERIES_MAX,
        [CALLER_REQUEST_POLKIT] = CALLER_POLKIT_CHECKS_MAX,
};

static const unsigned unprivileged_max[_CALLER_REQUEST_TYPE_MAX] = {
        [CALLER_REQUEST_WAIT] = CALLERS_UNPRIVILEGED_WAITS_MAX,
        [CALLER_REQUEST_QUERY] = CALLERS_UNPRIVILEGED_QUERIES_MAX,
        [CALLER_REQUEST_POLKIT] = CALLERS_POLKIT_CHECKS_MAX,
};

static Caller *caller_free(Caller *c) {
        if (!c)
                return NULL;
        (void) hashmap_remove(c->manager->callers, c->name);
        free(c->name);
        return mfree(c);
}

static int caller_get(Manager *m, const char *name, Caller **ret) {
        Caller *c = hashmap_get(m->callers, name);
        int r;

        if (c) {
                *ret = c;
                return 0;
        }
        c = calloc(1, sizeof *c);
        if (!c)
                return -ENOMEM;
        c->manager = m;
        c->name = strdup(name);
        r = c->name ? hashmap_put(m->callers, c->name, c) : -ENOMEM;
        if (r < 0) {
                free(c->name);
                free(c);
                return r;
        }
        *ret = c;
        return 0;
}

int bus_message_sender_is_root(sd_bus_message *m) {
        _cleanup_(sd_bus_creds_unrefp) sd_bus_creds *creds = NULL;
        uid_t uid;
        int r;

        /* A question to dbus-daemon (GetConnectionCredentials), as sd-bus
         * asks for every privileged method: the bus, not systemd. */
        r = sd_bus_query_sender_creds(m, SD_BUS_CREDS_EUID, &creds);
        if (r >= 0)
                r = sd_bus_creds_get_euid(creds, &uid);
        if (r < 0)
                return r;
        return uid == 0;
}

static const char *request_what(CallerRequestType type) {
        return type == CALLER_REQUEST_WAIT ? "waits" :
               type == CALLER_REQUEST_QUERY ? "questions to systemd" : "authorization checks";
}

int caller_request_new(Manager *m, sd_bus_message *message, CallerRequestType type, sd_bus_error *error,
                       CallerRequest **ret) {
        const char *sender = sd_bus_message_get_sender(message);
        CallerRequest *req;
        Caller *c;
        int r;

        if (!sender)
                return sd_bus_error_set(error, SD_BUS_ERROR_ACCESS_DENIED, "Calls without a sender are not served.");
        c = hashmap_get(m->callers, sender);
        if (c && c->n[type] >= caller_max[type])
                return sd_bus_error_setf(error, BERTH_ERROR_BUSY,
                                         "This connection has %u %s pending already, the most berthd keeps for one caller.",
                                         c->n[type], request_what(type));
        /* The credentials are asked for only when it matters. */
        if (m->n_caller_requests[type] >= unprivileged_max[type]) {
                r = bus_message_sender_is_root(message);
                if (r < 0)
                        return r;
                if (r == 0)
                        return sd_bus_error_setf(error, BERTH_ERROR_BUSY,
                                                 "berthd has %u %s pending, the most it keeps for unprivileged callers; try again later.",
                                                 m->n_caller_requests[type], request_what(type));
        }
        req = calloc(1, sizeof *req);
        if (!req)
                return -ENOMEM;
        r = caller_get(m, sender, &c);
        if (r < 0) {
                free(req);
                return r;
        }
        *req = (CallerRequest) { .manager = m, .caller = c, .type = type, .message = sd_bus_message_ref(message),
                                 .next = c->requests };
        if (c->requests)
                c->requests->prev = req;
        c->requests = req;
        c->n[type]++;
        m->n_caller_requests[type]++;
        *ret = req;
        return 0;
}

CallerRequest *caller_request_free(CallerRequest *req) {
        Caller *c;

        if (!req)
                return NULL;
        c = req->caller;
        if (req->prev)
                req->prev->next = req->next;
        else
                c->requests = req->next;
        if (req->next)
                req->next->prev = req->prev;
        c->n[req->type]--;
        c->manager->n_caller_requests[req->type]--;
        sd_bus_slot_unref(req->slot);
        sd_bus_message_unref(req->message);
        free(req);
        if (!c->requests)
                caller_free(c);
        return NULL;
}

/* Everything the caller left behind goes; the last request takes the caller. */
static void caller_gone(Caller *c) {
        for (CallerRequest *req = c->requests, *next; req; req = next) {
                next = req->next;
                if (req->cancel)
                        req->cancel(req);
                caller_request_free(req);
        }
}

static int match_name_owner_changed(sd_bus_message *message, void *userdata, sd_bus_error *error) {
        Manager *m = userdata;
        const char *name, *old_owner, *new_owner;
        Caller *c;

        if (sd_bus_message_read(message, "sss", &name, &old_owner, &new_owner) < 0 || !isempty(new_owner))
                return 0;
        c = hashmap_get(m->callers, name);
        if (c) {
                log_debug("%s left the bus; dropping what it had pending.", name);
                caller_gone(c);
        }
        return 0;
}

int callers_watch(Manager *m) {
        m->callers = hashmap_new();
        if (!m->callers)
                return -ENOMEM;
        /* One match for every caller rather than one per caller (sd_bus_track):
         * dbus-daemon allows a connection 512 match rules, and berthd needs
         * its own for systemd's jobs and scopes; callers must not spend them.
         * Installed before the name is taken, and dbus-daemon sends a peer's
         * NameOwnerChanged after every message of that peer, so no departure
         * can be missed. */
        return sd_bus_add_match(m->bus, &m->name_owner_slot,
                                "type='signal',sender='org.freedesktop.DBus',path='/org/freedesktop/DBus',"
                                "interface='org.freedesktop.DBus',member='NameOwnerChanged'",
                                match_name_owner_changed, m);
}

void callers_free(Manager *m) {
        const char *key;
        void *value;
        size_t i;

        m->name_owner_slot = sd_bus_slot_unref(m->name_owner_slot);
        if (!m->callers)
                return;
        /* Each caller goes with its last request: start again from the top. */
        for (i = 0; hashmap_iterate(m->callers, &i, &key, &value); i = 0) {
                Caller *c = value;
                while (c->requests && c->requests->next)
                        caller_request_free(c->requests);
                caller_request_free(c->requests);
        }
        m->callers = hashmap_free(m->callers);
}
