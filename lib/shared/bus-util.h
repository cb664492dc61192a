/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include <systemd/sd-bus.h>

#include "util.h"

/* The D-Bus API's names, shared by berthd, berthctl and the tests. */
#define BERTH_BUS_NAME "org.berth.Berth1"
#define BERTH_MANAGER_PATH "/org/berth/Berth1"
#define BERTH_CONTAINER_PATH_PREFIX "/org/berth/Berth1/container"
#define BERTH_IMAGE_PATH_PREFIX "/org/berth/Berth1/image"
#define BERTH_MANAGER_IFACE "org.berth.Berth1.Manager"
#define BERTH_CONTAINER_IFACE "org.berth.Berth1.Container"
#define BERTH_IMAGE_IFACE "org.berth.Berth1.Image"
#define BERTH_NETWORK_IFACE "org.berth.Berth1.Network"
#define BERTH_VOLUME_IFACE "org.berth.Berth1.Volume"

#define BERTH_ERROR_NO_SUCH_CONTAINER "org.berth.Berth1.Error.NoSuchContainer"
#define BERTH_ERROR_NO_SUCH_IMAGE "org.berth.Berth1.Error.NoSuchImage"
#define BERTH_ERROR_NAME_IN_USE "org.berth.Berth1.Error.NameInUse"
#define BERTH_ERROR_INVALID_REFERENCE "org.berth.Berth1.Error.InvalidReference"
#define BERTH_ERROR_INVALID_ARCHIVE "org.berth.Berth1.Error.InvalidArchive"
#define BERTH_ERROR_DIGEST_MISMATCH "org.berth.Berth1.Error.DigestMismatch"
#define BERTH_ERROR_IMAGE_IN_USE "org.berth.Berth1.Error.ImageInUse"
#define BERTH_ERROR_CONTAINER_RUNNING "org.berth.Berth1.Error.ContainerRunning"
#define BERTH_ERROR_CONTAINER_NOT_RUNNING "org.berth.Berth1.Error.ContainerNotRunning"
#define BERTH_ERROR_LIMIT_EXCEEDED "org.berth.Berth1.Error.LimitExceeded"
#define BERTH_ERROR_CANCELLED "org.berth.Berth1.Error.Cancelled"
#define BERTH_ERROR_BUSY "org.berth.Berth1.Error.Busy"
#define BERTH_ERROR_START_FAILED "org.berth.Berth1.Error.StartFailed"
#define BERTH_ERROR_COMMAND_NOT_FOUND "org.berth.Berth1.Error.CommandNotFound"
#define BERTH_ERROR_COMMAND_NOT_EXECUTABLE "org.berth.Berth1.Error.CommandNotExecutable"

/* Registered with sd_bus_error_add_map() by both sides, so an errno travels as
 * Berth's own error name and comes back as the same errno. */
extern const sd_bus_error_map berth_error_map[];

/* Client side: the system bus, or the address in host ("unix:path=...") when given. */
int bus_open_berth(const char *host, sd_bus **ret);

