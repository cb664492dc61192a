/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <stdarg.h>
#include <stdio.h>

#include "bus-util.h"

/* First the entries for one kind, then the general ones: the first match
 * wins. For name -> errno the first entry of a name counts. */
const BerthErrorEntry berth_error_table[] = {
        { BERTH_ERROR_NO_SUCH_CONTAINER, ENOENT, BERTH_OBJECT_CONTAINER },
        { BERTH_ERROR_NO_SUCH_IMAGE, ENOENT, BERTH_OBJECT_IMAGE },
        { BERTH_ERROR_NO_SUCH_EXEC, ENOENT, BERTH_OBJECT_EXEC },
        { BERTH_ERROR_NO_SUCH_NETWORK, ENOENT, BERTH_OBJECT_NETWORK },
        { BERTH_ERROR_NETWORK_IN_USE, EBUSY, BERTH_OBJECT_NETWORK },
        { BERTH_ERROR_NO_SUCH_NETWORK, ENONET, BERTH_OBJECT_ANY },   /* a creation naming a missing network */
        { BERTH_ERROR_ADDRESS_IN_USE, EADDRINUSE, BERTH_OBJECT_ANY },
        { BERTH_ERROR_ADDRESS_NOT_AVAILABLE, EADDRNOTAVAIL, BERTH_OBJECT_ANY },
        { BERTH_ERROR_CONTAINER_RUNNING, EBUSY, BERTH_OBJECT_CONTAINER },
        { BERTH_ERROR_IMAGE_IN_USE, EBUSY, BERTH_OBJECT_IMAGE },
        { BERTH_ERROR_INVALID_REFERENCE, EINVAL, BERTH_OBJECT_IMAGE },
        { BERTH_ERROR_INVALID_ARCHIVE, EBADMSG, BERTH_OBJECT_IMAGE },
        { BERTH_ERROR_INVALID_ARCHIVE, EMEDIUMTYPE, BERTH_OBJECT_IMAGE },
        { BERTH_ERROR_INVALID_ARCHIVE, EXDEV, BERTH_OBJECT_IMAGE },
        { BERTH_ERROR_REGISTRY_AUTH, EACCES, BERTH_OBJECT_IMAGE },
        { BERTH_ERROR_REGISTRY_UNAVAILABLE, EHOSTUNREACH, BERTH_OBJECT_IMAGE },
        { BERTH_ERROR_REGISTRY_UNAVAILABLE, ECONNREFUSED, BERTH_OBJECT_IMAGE },
        { BERTH_ERROR_REGISTRY_UNAVAILABLE, ETIMEDOUT, BERTH_OBJECT_IMAGE },
        { BERTH_ERROR_REGISTRY_UNAVAILABLE, ECONNRESET, BERTH_OBJECT_IMAGE },
        { BERTH_ERROR_REGISTRY_UNAVAILABLE, EPROTO, BERTH_OBJECT_IMAGE },
        { BERTH_ERROR_NO_MATCHING_PLATFORM, ENODATA, BERTH_OBJECT_IMAGE },
        { BERTH_ERROR_NAME_IN_USE, EEXIST, BERTH_OBJECT_ANY },
        { BERTH_ERROR_INVALID_REFERENCE, ENOTUNIQ, BERTH_OBJECT_ANY },
        { BERTH_ERROR_CONTAINER_NOT_RUNNING, ESRCH, BERTH_OBJECT_ANY },
        { BERTH_ERROR_LIMIT_EXCEEDED, EFBIG, BERTH_OBJECT_ANY },
        { BERTH_ERROR_LIMIT_EXCEEDED, E2BIG, BERTH_OBJECT_ANY },
        { BERTH_ERROR_CANCELLED, ECANCELED, BERTH_OBJECT_ANY },
        { BERTH_ERROR_BUSY, EAGAIN, BERTH_OBJECT_ANY },
        { BERTH_ERROR_NOT_SUPPORTED, EOPNOTSUPP, BERTH_OBJECT_ANY },
        { SD_BUS_ERROR_INVALID_ARGS, EINVAL, BERTH_OBJECT_ANY },
        /* Set by name where they arise (the start of a command): */
        { BERTH_ERROR_DIGEST_MISMATCH, EBADMSG, BERTH_OBJECT_IMAGE, true },
        { BERTH_ERROR_START_FAILED, EIO, BERTH_OBJECT_CONTAINER, true },
        { BERTH_ERROR_COMMAND_NOT_FOUND, ENOEXEC, BERTH_OBJECT_CONTAINER, true },
        { BERTH_ERROR_COMMAND_NOT_EXECUTABLE, EACCES, BERTH_OBJECT_CONTAINER, true },
};
const size_t berth_error_table_size = ELEMENTSOF(berth_error_table);

const char *bus_error_name_from_errno(BerthObjectKind kind, int r) {
        int e = r < 0 ? -r : r;

        for (size_t i = 0; i < ELEMENTSOF(berth_error_table); i++) {
                const BerthErrorEntry *t = &berth_error_table[i];

                if (t->reverse_only || t->errnum != e)
                        continue;
                if (t->kind == BERTH_OBJECT_ANY || t->kind == kind)
                        return t->name;
        }
        return NULL;
}

int bus_error_errno_from_name(const char *name) {
        if (!name)
                return 0;
        for (size_t i = 0; i < ELEMENTSOF(berth_error_table); i++)
                if (streq(berth_error_table[i].name, name))
                        return berth_error_table[i].errnum;
        return 0;
}

int bus_error_set_errnof(sd_bus_error *e, BerthObjectKind kind, int r, const char *fmt, ...) {
        const char *name = bus_error_name_from_errno(kind, r);
        _cleanup_free_ char *msg = NULL;
        int errnum = r < 0 ? -r : r;
        va_list ap;

        if (errnum == 0)
                errnum = EIO;
        if (fmt) {
                va_start(ap, fmt);
                if (vasprintf(&msg, fmt, ap) < 0)
                        msg = NULL;
                va_end(ap);
        }
        if (name)
                (void) sd_bus_error_set(e, name, msg ?: strerror(errnum));
        else if (msg)
                (void) sd_bus_error_set_errnof(e, errnum, "%s", msg);
        else
                (void) sd_bus_error_set_errno(e, errnum);
        return -errnum;
}

int bus_error_add_berth_map(void) {
        static sd_bus_error_map map[ELEMENTSOF(berth_error_table) + 1];
        static bool added;
        size_t n = 0;

        if (added)
                return 0;
        for (size_t i = 0; i < ELEMENTSOF(berth_error_table); i++) {
                const char *name = berth_error_table[i].name;

                if (bus_error_errno_from_name(name) != berth_error_table[i].errnum ||
                    startswith(name, "org.freedesktop."))
                        continue;   /* not the first entry of its name, or sd-bus's own */
                map[n++] = (sd_bus_error_map) SD_BUS_ERROR_MAP(name, berth_error_table[i].errnum);
        }
        map[n] = (sd_bus_error_map) SD_BUS_ERROR_MAP_END;
        added = true;
        return sd_bus_error_add_map(map);
}

int bus_append_limit_entries(sd_bus_message *m, const ScopeLimits *l, char entry) {
        const char *contents = entry == 'e' ? "{sv}" : "(sv)";
        int r = 0;

        if (!IN_SET(entry, 'e', 'r'))
                return -EINVAL;
        for (size_t i = 0; r >= 0 && i < limit_properties_size; i++) {
                uint64_t v;

                if (limits_get_property(l, &limit_properties[i], &v))
                        r = sd_bus_message_append(m, contents, limit_properties[i].name, "t", v);
        }
        /* allowed_cpus is set with a size of at least 1 or not at all. */
        if (r >= 0 && l->allowed_cpus_size > 0) {
                r = sd_bus_message_open_container(m, entry, "sv");
                if (r >= 0)
                        r = sd_bus_message_append(m, "s", LIMIT_PROPERTY_ALLOWED_CPUS);
                if (r >= 0)
                        r = sd_bus_message_open_container(m, 'v', "ay");
                if (r >= 0)
                        r = sd_bus_message_append_array(m, 'y', l->allowed_cpus, l->allowed_cpus_size);
                if (r >= 0)
                        r = sd_bus_message_close_container(m);
                if (r >= 0)
                        r = sd_bus_message_close_container(m);
        }
        return r;
}

int bus_append_limits(sd_bus_message *m, const ScopeLimits *l) {
        int r;

        r = sd_bus_message_open_container(m, 'a', "{sv}");
        if (r >= 0)
                r = bus_append_limit_entries(m, l, 'e');
        if (r < 0)
                return r;
        return sd_bus_message_close_container(m);
}

int bus_open_berth(const char *host, sd_bus **ret) {
        _cleanup_(sd_bus_unrefp) sd_bus *bus = NULL;
        int r;

        (void) bus_error_add_berth_map();
        if (isempty(host))
                return sd_bus_open_system(ret);

        r = sd_bus_new(&bus);
        if (r < 0)
                return r;
        r = sd_bus_set_address(bus, host);
        if (r < 0)
                return r;
        r = sd_bus_set_bus_client(bus, true);
        if (r < 0)
                return r;
        r = sd_bus_start(bus);
        if (r < 0)
                return r;
        *ret = TAKE_PTR(bus);
        return 0;
}
