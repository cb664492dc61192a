/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <signal.h>
#include <systemd/sd-event.h>

#include "berthctl.h"
#include "bus-util.h"

/* Waits for a job of berthd (load, import, save) to end: draws a progress
 * bar on a terminal, forwards Ctrl-C as Job.Cancel, and returns the ids the
 * job reported. */

typedef struct JobWait {
        sd_bus *bus;
        sd_event *event;
        const char *path;
        const char *verb;
        bool tty;
        bool quiet;
        bool cancelled;
        size_t lines_drawn;      /* layer lines on the terminal, redrawn in place */
        char **layer_states;     /* per layer index: the state last printed (plain output) */
        bool finished;
        int result;             /* 0 or a negative errno, said so */
        char **ids;
} JobWait;

static void draw_progress(JobWait *w, uint64_t done, uint64_t total, const char *current) {
        char d[32], t[32];
        int width = 30, filled = total > 0 ? (int) (MIN(done, total) * (uint64_t) width / total) : 0;

        format_size_si(done, d, sizeof d);
        format_size_si(total, t, sizeof t);
        fprintf(stderr, "\r%-9s [%.*s%s%*s] %8s/%-8s %.30s\033[K", w->verb, filled,
                "==============================", filled < width ? ">" : "",
                width - filled - (filled < width), "", d, total > 0 ? t : "?", strempty(ctl_escape(current)));
        fflush(stderr);
}

/* Docker's words for a layer's state. */
static const char *layer_state_label(const JobWait *w, const char *state) {
        bool push = streq(w->verb, "push");

        if (streq(state, "waiting"))
                return push ? "Preparing" : "Waiting";
        if (streq(state, "downloading"))
                return "Downloading";
        if (streq(state, "uploading"))
                return "Pushing";
        if (streq(state, "verifying"))
                return "Verifying Checksum";
        if (streq(state, "done"))
                return push ? "Pushed" : "Pull complete";
        if (streq(state, "exists"))
                return push ? "Layer already exists" : "Already exists";
        if (streq(state, "mounted"))
                return "Mounted from another repository";
        return state;
}

static bool layer_state_moving(const char *state) {
        return streq(state, "downloading") || streq(state, "uploading");
}

static void layer_short_id(const char *digest, char ret[static 13]) {
        const char *hex = startswith(digest, "sha256:") ?: digest;

        snprintf(ret, 13, "%s", hex);
}

void ctl_format_layer_line(const char *digest, const char *label, bool moving, uint64_t done, uint64_t total,
                           uint64_t rate, char *buf, size_t n) {
        char id[13], d[32], t[32], r[32];
        int width = 30, filled = total > 0 ? (int) (MIN(done, total) * (uint64_t) width / total) : 0;

        layer_short_id(digest, id);
        if (!moving) {
                snprintf(buf, n, "%s: %s", id, label);
                return;
        }
        format_size_si(done, d, sizeof d);
        format_size_si(total, t, sizeof t);
        format_size_si(rate, r, sizeof r);
        snprintf(buf, n, "%s: %-11s [%.*s%s%*s] %8s/%-8s %8s/s", id, label, filled,
                 "==============================", filled < width ? ">" : "",
                 width - filled - (filled < width), "", d, total > 0 ? t : "?", r);
}

static void draw_layers_tty(JobWait *w, sd_bus_message *reply) {
        const char *digest, *state;
        uint64_t done, total, rate;
        size_t n = 0;
        char line[256];

        if (w->lines_drawn > 0)
                fprintf(stderr, "\r\033[%zuA", w->lines_drawn);
        while (sd_bus_message_read(reply, "(ssttt)", &digest, &state, &done, &total, &rate) > 0) {
                ctl_format_layer_line(digest, layer_state_label(w, state), layer_state_moving(state), done,
                                      total, rate, line, sizeof line);
                fprintf(stderr, "\r%s\033[K\n", ctl_escape(line));
                n++;
        }
        w->lines_drawn = MAX(w->lines_drawn, n);
        fflush(stderr);
}

/* Without a terminal: a line whenever a layer reaches a new state. */
static void print_layers_plain(JobWait *w, sd_bus_message *reply) {
        const char *digest, *state;
        uint64_t done, total, rate;
        char line[256];

        for (size_t i = 0; sd_bus_message_read(reply, "(ssttt)", &digest, &state, &done, &total, &rate) > 0; i++) {
                if (i >= strv_length(w->layer_states)) {
                        if (strv_extend(&w->layer_states, "") < 0)
                                return;
                        i = strv_length(w->layer_states) - 1;
                }
                if (streq(w->layer_states[i], state) || streq(state, "waiting"))
                        continue;
                if (free_and_strdup(&w->layer_states[i], state) < 0)
                        return;
                ctl_format_layer_line(digest, layer_state_label(w, state), false, done, total, rate, line,
                                      sizeof line);
                fprintf(stderr, "%s\n", ctl_escape(line));
        }
}

/* Layers, when the signal m carries them: shown, and true returned. The
 * values travel in the signal itself, so the last states are seen even
 * though the job is gone by the time we could ask. */
static bool show_layers(JobWait *w, sd_bus_message *m) {
        const char *key;
        bool shown = false;

        if (sd_bus_message_skip(m, "s") < 0 || sd_bus_message_enter_container(m, 'a', "{sv}") < 0)
                return false;
        while (sd_bus_message_enter_container(m, 'e', "sv") > 0) {
                if (sd_bus_message_read(m, "s", &key) < 0)
                        return shown;
                if (!streq(key, "Layers")) {
                        if (sd_bus_message_skip(m, "v") < 0)
                                return shown;
                } else {
                        if (sd_bus_message_enter_container(m, 'v', "a(ssttt)") < 0 ||
                            sd_bus_message_enter_container(m, 'a', "(ssttt)") < 0)
                                return shown;
                        if (w->tty)
                                draw_layers_tty(w, m);
                        else
                                print_layers_plain(w, m);
                        shown = true;
                        if (sd_bus_message_exit_container(m) < 0 || sd_bus_message_exit_container(m) < 0)
                                return shown;
                }
                if (sd_bus_message_exit_container(m) < 0)
                        return shown;
        }
        return shown;
}

static int on_properties_changed(sd_bus_message *m, void *userdata, sd_bus_error *ret_error) {
        JobWait *w = userdata;
        uint64_t done = 0, total = 0;
        const char *current = NULL;
        _cleanup_(sd_bus_message_unrefp) sd_bus_message *reply = NULL;

        if (w->quiet || !w->path || !streq_ptr(sd_bus_message_get_path(m), w->path))
                return 0;
        if (show_layers(w, m) || !w->tty || w->lines_drawn > 0)
                return 0;
        if (sd_bus_call_method(w->bus, BERTH_BUS_NAME, w->path, "org.freedesktop.DBus.Properties",
                               "GetAll", NULL, &reply, "s", "org.berth.Berth1.Job") < 0)
                return 0;
        json_t *j = NULL;
        if (bus_message_read_dict_json(reply, &j) < 0)
                return 0;
        done = (uint64_t) json_integer_value(json_object_get(j, "Progress"));
        total = (uint64_t) json_integer_value(json_object_get(j, "Total"));
        current = json_string_value(json_object_get(j, "Current"));
        draw_progress(w, done, total, current);
        json_decref(j);
        return 0;
}

/* The wait is over: the progress line (if one is drawn) is cleared first,
 * then the caller says why. */
static void wait_end(JobWait *w, int result) {
        if (!w->quiet && w->tty && w->lines_drawn == 0)
                fputs("\r\033[K", stderr);
        w->finished = true;
        w->result = result;
}

static int on_job_removed(sd_bus_message *m, void *userdata, sd_bus_error *ret_error) {
        JobWait *w = userdata;
        const char *path, *result, *error_name, *error_message;
        uint32_t id;
        int r;

        r = sd_bus_message_read(m, "uosss", &id, &path, &result, &error_name, &error_message);
        if (r < 0 || !streq_ptr(path, w->path))
                return 0;
        (void) sd_bus_message_read_strv(m, &w->ids);
        if (streq(result, "done"))
                wait_end(w, 0);
        else if (streq(result, "canceled")) {
                wait_end(w, -ECANCELED);
                fprintf(stderr, "Cancelled.\n");
        } else {
                wait_end(w, -EIO);
                fprintf(stderr, "Error: %s\n", ctl_escape(error_message));
        }
        return sd_event_exit(w->event, 0);
}

/* berthd lost its name (it crashed, was killed or stopped): the job is gone
 * with it and no JobRemoved will come. */
static int on_owner_changed(sd_bus_message *m, void *userdata, sd_bus_error *ret_error) {
        JobWait *w = userdata;
        const char *name, *old_owner, *new_owner;

        if (sd_bus_message_read(m, "sss", &name, &old_owner, &new_owner) < 0 || !streq(name, BERTH_BUS_NAME) ||
            isempty(old_owner) || w->finished)
                return 0;
        wait_end(w, -ECONNRESET);
        fprintf(stderr, "Error: berthd stopped before the %s job ended; it did not complete.\n", w->verb);
        return sd_event_exit(w->event, 0);
}

static int on_interrupt(sd_event_source *s, const struct signalfd_siginfo *si, void *userdata) {
        JobWait *w = userdata;

        if (w->cancelled) {   /* a second Ctrl-C: stop waiting */
                fputs("Cancelled; not waiting for the job any longer.\n", stderr);
                w->finished = true;
                w->result = -ECANCELED;
                return sd_event_exit(w->event, 0);
        }
        w->cancelled = true;
        if (!w->path)
                return 0;
        return sd_bus_call_method_async(w->bus, NULL, BERTH_BUS_NAME, w->path, "org.berth.Berth1.Job",
                                        "Cancel", NULL, NULL, NULL);
}

/* Sends m, a call that starts a job, and waits for the job's end. The
 * matches are in place before the call and queued messages are dispatched
 * before waiting, so no signal of the job can slip by. */
int ctl_job_run(sd_bus *bus, sd_bus_message *m, const char *verb, char ***ret_ids) {
        return ctl_job_run_full(bus, m, verb, false, ret_ids);
}

int ctl_job_run_full(sd_bus *bus, sd_bus_message *m, const char *verb, bool quiet, char ***ret_ids) {
        _cleanup_(sd_bus_error_free) sd_bus_error error = SD_BUS_ERROR_NULL;
        _cleanup_(sd_bus_message_unrefp) sd_bus_message *reply = NULL;
        _cleanup_(sd_event_unrefp) sd_event *event = NULL;
        JobWait w = { .bus = bus, .verb = verb, .tty = isatty(STDERR_FILENO), .quiet = quiet };
        sigset_t ss;
        int r;

        sigemptyset(&ss);
        sigaddset(&ss, SIGINT);
        sigaddset(&ss, SIGTERM);
        sigprocmask(SIG_BLOCK, &ss, NULL);
        r = sd_event_default(&event);
        if (r >= 0)
                r = sd_bus_set_close_on_exit(bus, false);
        if (r >= 0)
                r = sd_bus_attach_event(bus, event, 0);
        w.event = event;
        if (r >= 0)
                r = sd_bus_match_signal(bus, NULL, BERTH_BUS_NAME, BERTH_MANAGER_PATH,
                                        BERTH_MANAGER_IFACE, "JobRemoved", on_job_removed, &w);
        if (r >= 0)
                r = sd_bus_add_match(bus, NULL,
                                     "type='signal',sender='" BERTH_BUS_NAME "',"
                                     "interface='org.freedesktop.DBus.Properties',member='PropertiesChanged',"
                                     "path_namespace='/org/berth/Berth1/job'", on_properties_changed, &w);
        if (r >= 0)
                r = sd_bus_add_match(bus, NULL,
                                     "type='signal',sender='org.freedesktop.DBus',interface='org.freedesktop.DBus',"
                                     "member='NameOwnerChanged',arg0='" BERTH_BUS_NAME "'", on_owner_changed, &w);
        if (r >= 0)
                r = sd_event_add_signal(event, NULL, SIGINT, on_interrupt, &w);
        if (r >= 0)
                r = sd_event_add_signal(event, NULL, SIGTERM, on_interrupt, &w);
        if (r < 0)
                return ctl_call_failed(verb, NULL, r);
        r = sd_bus_call(bus, m, UINT64_MAX, &error, &reply);
        if (r >= 0)
                r = sd_bus_message_read(reply, "o", &w.path);
        if (r < 0)
                return ctl_call_failed(verb, &error, r);
        while (!w.finished && (r = sd_bus_process(bus, NULL)) > 0)
                ;
        if (r >= 0 && !w.finished)
                r = sd_event_loop(event);
        (void) sd_bus_detach_event(bus);
        strv_free(w.layer_states);
        if (r < 0) {
                fprintf(stderr, "Error: lost track of %s: %s\n", w.path, strerror(-r));
                strv_free(w.ids);
                return r;
        }
        if (w.result < 0) {
                strv_free(w.ids);
                return w.result;
        }
        if (ret_ids)
                *ret_ids = TAKE_PTR(w.ids);
        strv_free(w.ids);
        return 0;
}
