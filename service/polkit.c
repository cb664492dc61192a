/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Placeholder until the asynchronous CheckAuthorization lands: root only. */

#include "caller.h"
#include "manager.h"
#include "polkit.h"

int polkit_verify(sd_bus_message *m, const char *action, const char **details, Manager *manager,
                  sd_bus_error *error) {
        int r;

        (void) details;
        (void) manager;
        r = bus_message_sender_is_root(m);
        if (r < 0)
                return r;
        if (r == 0)
                return sd_bus_error_setf(error, SD_BUS_ERROR_ACCESS_DENIED, "Not authorized: %s.", action);
        return 1;
}

void polkit_free(Manager *manager) {
        (void) manager;
}
