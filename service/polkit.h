/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/* Authorization of callers other than root with polkit, asynchronously, the
 * way systemd's bus_verify_polkit_async() works: a method handler asks at its
 * top and, while polkitd thinks, returns; once the answer arrives the same
 * message is dispatched again and the handler finds the answer cached.
 *
 *         r = polkit_verify(m, BERTH_ACTION_MANAGE_CONTAINERS, details, manager, error);
 *         if (r < 0)
 *                 return r;
 *         if (r == 0)
 *                 return 1;   // pending: this handler runs again with m
 *
 * Root passes without asking; with polkitd missing everybody else is denied. */

#include <systemd/sd-bus.h>

typedef struct Manager Manager;

/* The actions of policy/org.berth.Berth1.policy. Each keeps one kind of
 * root-equivalent power apart from the others. */
#define BERTH_ACTION_READ_CONFIG "org.berth.Berth1.read-container-config"
#define BERTH_ACTION_MANAGE_CONTAINERS "org.berth.Berth1.manage-containers"
#define BERTH_ACTION_PRIVILEGED_CONTAINERS "org.berth.Berth1.manage-privileged-containers"
#define BERTH_ACTION_EXEC "org.berth.Berth1.exec-containers"
#define BERTH_ACTION_MANAGE_IMAGES "org.berth.Berth1.manage-images"
#define BERTH_ACTION_PULL_IMAGES "org.berth.Berth1.pull-images"
#define BERTH_ACTION_MANAGE_NETWORKS "org.berth.Berth1.manage-networks"
#define BERTH_ACTION_REGISTRY_CREDENTIALS "org.berth.Berth1.manage-registry-credentials"

/* details: NULL or key, value, key, value, ..., NULL; what rules may read
 * (action.lookup("container"), "image", "privileged", "bind-sources", ...).
 * > 0: allowed. 0: asked, pending (return 1 from the handler). < 0: denied,
 * with error set (org.freedesktop.DBus.Error.AccessDenied, or
 * org.freedesktop.DBus.Error.InteractiveAuthorizationRequired when polkit
 * would ask and the call did not allow interaction). */
int polkit_verify(sd_bus_message *m, const char *action, const char **details, Manager *manager,
                  sd_bus_error *error);

/* Shutdown: forgets pending checks, unanswered. */
void polkit_free(Manager *manager);
