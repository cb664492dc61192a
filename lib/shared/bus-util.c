/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "bus-util.h"

const sd_bus_error_map berth_error_map[] = {
        SD_BUS_ERROR_MAP(BERTH_ERROR_NO_SUCH_CONTAINER, ENOENT),
        SD_BUS_ERROR_MAP(BERTH_ERROR_NO_SUCH_IMAGE, ENOENT),
        SD_BUS_ERROR_MAP(BERTH_ERROR_NAME_IN_USE, EEXIST),
        SD_BUS_ERROR_MAP(BERTH_ERROR_INVALID_REFERENCE, EINVAL),
        SD_BUS_ERROR_MAP(BERTH_ERROR_INVALID_ARCHIVE, EBADMSG),
        SD_BUS_ERROR_MAP(BERTH_ERROR_DIGEST_MISMATCH, EBADMSG),
        SD_BUS_ERROR_MAP(BERTH_ERROR_IMAGE_IN_USE, EBUSY),
        SD_BUS_ERROR_MAP(BERTH_ERROR_CONTAINER_RUNNING, EBUSY),
        SD_BUS_ERROR_MAP(BERTH_ERROR_CONTAINER_NOT_RUNNING, ESRCH),
        SD_BUS_ERROR_MAP(BERTH_ERROR_LIMIT_EXCEEDED, EFBIG),
        SD_BUS_ERROR_MAP(BERTH_ERROR_CANCELLED, ECANCELED),
        SD_BUS_ERROR_MAP(BERTH_ERROR_BUSY, EAGAIN),
        SD_BUS_ERROR_MAP(BERTH_ERROR_START_FAILED, EIO),
        SD_BUS_ERROR_MAP(BERTH_ERROR_COMMAND_NOT_FOUND, ENOEXEC),
        SD_BUS_ERROR_MAP(BERTH_ERROR_COMMAND_NOT_EXECUTABLE, EACCES),
        SD_BUS_ERROR_MAP_END
};

int bus_open_berth(const char *host, sd_bus **ret) {
        _cleanup_(sd_bus_unrefp) sd_bus *bus = NULL;
        int r;

        (void) sd_bus_error_add_map(berth_error_map);
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
