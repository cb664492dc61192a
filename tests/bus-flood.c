/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* bus-flood: what a hostile local user can send berthd over one connection
 * of the system bus, for tests/integration/test-unprivileged.sh.
 *
 *   bus-flood wait CONTAINER N [noreply]
 *        sends N WaitContainer calls at once (with NO_REPLY_EXPECTED if asked),
 *        collects the replies that come within 300 ms, then disconnects with
 *        the rest pending. Prints "pending=P" and one "ERROR-NAME=K" per error.
 *   bus-flood ps CONTAINER SECONDS IN_FLIGHT
 *        keeps IN_FLIGHT GetContainerProcesses calls pending for SECONDS. Prints
 *        "ok=K" and one "ERROR-NAME=K" per error.
 *   bus-flood remove CONTAINER N
 *        sends N RemoveContainer calls at once (each checked with polkit),
 *        collects the replies that come within 300 ms, then disconnects with
 *        the rest pending, as "wait" does.
 *
 * Exits 0 once it ran (whatever berthd answered), 2 on a local failure. */
#include <inttypes.h>
#include <systemd/sd-bus.h>

#include "util.h"

#define DEST "org.berth.Berth1"
#define PATH "/org/berth/Berth1"
#define IFACE "org.berth.Berth1.Manager"

typedef struct Tally {
        unsigned ok;
        unsigned pending;
        char names[8][128];
        unsigned counts[8];
        size_t n_names;
} Tally;

static void tally_reply(Tally *t, sd_bus_message *m) {
        const sd_bus_error *e = sd_bus_message_get_error(m);
        size_t i;

        t->pending--;
        if (!e) {
                t->ok++;
                return;
        }
        for (i = 0; i < t->n_names; i++)
                if (streq(t->names[i], e->name))
                        break;
        if (i == t->n_names) {
                if (i == ELEMENTSOF(t->names))
                        return;
                snprintf(t->names[i], sizeof t->names[i], "%s", e->name);
                t->n_names++;
        }
        t->counts[i]++;
}

static void tally_print(const Tally *t, bool ok) {
        if (ok)
                printf("ok=%u\n", t->ok);
        printf("pending=%u\n", t->pending);
        for (size_t i = 0; i < t->n_names; i++)
                printf("%s=%u\n", t->names[i], t->counts[i]);
}

static int on_reply(sd_bus_message *m, void *userdata, sd_bus_error *ret_error) {
        tally_reply(userdata, m);
        return 0;
}

static int send_call(sd_bus *bus, const char *member, const char *container, bool noreply, Tally *t) {
        _cleanup_(sd_bus_message_unrefp) sd_bus_message *m = NULL;
        int r;

        r = sd_bus_message_new_method_call(bus, &m, DEST, PATH, IFACE, member);
        if (r >= 0)
                r = sd_bus_message_append(m, "s", container);
        if (r >= 0 && streq(member, "RemoveContainer"))
                r = sd_bus_message_append(m, "b", 0);
        if (r < 0)
                return r;
        if (noreply) {
                r = sd_bus_message_set_expect_reply(m, false);
                return r < 0 ? r : sd_bus_send(bus, m, NULL);
        }
        r = sd_bus_call_async(bus, NULL, m, on_reply, t, UINT64_MAX);
        if (r >= 0)
                t->pending++;
        return r;
}

static void run_for(sd_bus *bus, uint64_t usec, Tally *t, const char *container, unsigned in_flight) {
        uint64_t end = now_usec(CLOCK_MONOTONIC) + usec;

        for (uint64_t now; (now = now_usec(CLOCK_MONOTONIC)) < end;) {
                int r = sd_bus_process(bus, NULL);
                if (r < 0)
                        break;
                while (in_flight > 0 && t->pending < in_flight)
                        if (send_call(bus, "GetContainerProcesses", container, false, t) < 0)
                                return;
                if (r == 0)
                        (void) sd_bus_wait(bus, end - now);
        }
}

int main(int argc, char *argv[]) {
        _cleanup_(sd_bus_close_unrefp) sd_bus *bus = NULL;
        Tally t = {};
        int n, r;

        if (argc < 4 || safe_atoi(argv[3], &n) < 0 || n < 0) {
                fprintf(stderr, "Usage: bus-flood wait CONTAINER N [noreply] | ps CONTAINER SECONDS IN_FLIGHT | remove CONTAINER N\n");
                return 2;
        }
        r = sd_bus_open_system(&bus);
        if (r < 0) {
                fprintf(stderr, "Cannot connect to the system bus: %s\n", strerror(-r));
                return 2;
        }
        if (streq(argv[1], "wait") || streq(argv[1], "remove")) {
                bool noreply = argc > 4 && streq(argv[4], "noreply");
                const char *member = streq(argv[1], "wait") ? "WaitContainer" : "RemoveContainer";
                for (int i = 0; i < n; i++)
                        if ((r = send_call(bus, member, argv[2], noreply, &t)) < 0) {
                                fprintf(stderr, "Cannot send: %s\n", strerror(-r));
                                return 2;
                        }
                (void) sd_bus_flush(bus);
                run_for(bus, 300000, &t, NULL, 0);
                tally_print(&t, false);
        } else if (streq(argv[1], "ps") && argc > 4) {
                int in_flight;
                if (safe_atoi(argv[4], &in_flight) < 0 || in_flight <= 0)
                        return 2;
                run_for(bus, (uint64_t) n * 1000000ULL, &t, argv[2], (unsigned) in_flight);
                tally_print(&t, true);
        } else
                return 2;
        fflush(stdout);
        return 0;
}
