/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include <systemd/sd-bus.h>

#include "resource-limits.h"
#include "util.h"

/* The D-Bus API's names, shared by berthd, berthctl and the tests. */
#define BERTH_BUS_NAME "org.berth.Berth1"
#define BERTH_MANAGER_PATH "/org/berth/Berth1"
#define BERTH_CONTAINER_PATH_PREFIX "/org/berth/Berth1/container"
#define BERTH_IMAGE_PATH_PREFIX "/org/berth/Berth1/image"
#define BERTH_EXEC_PATH_PREFIX "/org/berth/Berth1/exec"
#define BERTH_JOB_PATH_PREFIX "/org/berth/Berth1/job"
#define BERTH_NETWORK_PATH_PREFIX "/org/berth/Berth1/network"
#define BERTH_MANAGER_IFACE "org.berth.Berth1.Manager"
#define BERTH_CONTAINER_IFACE "org.berth.Berth1.Container"
#define BERTH_IMAGE_IFACE "org.berth.Berth1.Image"
#define BERTH_EXEC_IFACE "org.berth.Berth1.Exec"
#define BERTH_JOB_IFACE "org.berth.Berth1.Job"
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
#define BERTH_ERROR_NO_SUCH_EXEC "org.berth.Berth1.Error.NoSuchExec"
#define BERTH_ERROR_NOT_SUPPORTED "org.berth.Berth1.Error.NotSupported"
#define BERTH_ERROR_REGISTRY_AUTH "org.berth.Berth1.Error.RegistryAuthenticationFailed"
#define BERTH_ERROR_REGISTRY_UNAVAILABLE "org.berth.Berth1.Error.RegistryUnavailable"
#define BERTH_ERROR_NO_MATCHING_PLATFORM "org.berth.Berth1.Error.NoMatchingPlatform"
#define BERTH_ERROR_NO_SUCH_NETWORK "org.berth.Berth1.Error.NoSuchNetwork"
#define BERTH_ERROR_NETWORK_IN_USE "org.berth.Berth1.Error.NetworkInUse"
#define BERTH_ERROR_ADDRESS_IN_USE "org.berth.Berth1.Error.AddressInUse"
#define BERTH_ERROR_ADDRESS_NOT_AVAILABLE "org.berth.Berth1.Error.AddressNotAvailable"

/* What a failing call was about: one errno means different things for
 * different objects (ENOENT: NoSuchContainer or NoSuchImage; EBUSY:
 * ContainerRunning or ImageInUse). */
typedef enum BerthObjectKind {
        BERTH_OBJECT_ANY,
        BERTH_OBJECT_CONTAINER,
        BERTH_OBJECT_IMAGE,
        BERTH_OBJECT_EXEC,
        BERTH_OBJECT_NETWORK,
        _BERTH_OBJECT_KIND_MAX,
        _BERTH_OBJECT_KIND_INVALID = -EINVAL,
} BerthObjectKind;

/* THE table of Berth's error names (docs/dbus-api.md lists it): errno and
 * kind -> name for berthd, name -> errno for clients. */
typedef struct BerthErrorEntry {
        const char *name;
        int errnum;                   /* positive */
        BerthObjectKind kind;         /* ANY: whatever the object */
        bool reverse_only;            /* only name -> errno: set by name where it arises */
} BerthErrorEntry;

extern const BerthErrorEntry berth_error_table[];
extern const size_t berth_error_table_size;

/* Berth's name for a failure (r negative or positive), or NULL when the
 * errno has none (sd-bus's generic System.Error.* name is used then). */
const char *bus_error_name_from_errno(BerthObjectKind kind, int r);
/* The errno a client maps name back to (positive), 0 when not Berth's. */
int bus_error_errno_from_name(const char *name);

/* Sets e to Berth's name for r (by kind) with the sentence fmt; returns
 * -|r| so a handler may "return bus_error_set_errnof(...)". */
int bus_error_set_errnof(sd_bus_error *e, BerthObjectKind kind, int r, const char *fmt, ...) _printf_(4, 5);

/* Registers the table with sd_bus_error_add_map() (once), so that
 * sd_bus_error_get_errno() and sd_bus_call() failures give Berth's errnos. */
int bus_error_add_berth_map(void);

/* Appends l as "a{sv}" in systemd's names and types (AllowedCPUs "ay"):
 * the form of the Limits property, of CreateContainer's "Limits" and of
 * Update. Unset limits are left out. */
int bus_append_limits(sd_bus_message *m, const ScopeLimits *l);
/* The same entries into an open container: entry 'e' for "{sv}" dict
 * entries, 'r' for the "(sv)" structs of StartTransientUnit and
 * SetUnitProperties. */
int bus_append_limit_entries(sd_bus_message *m, const ScopeLimits *l, char entry);

/* Client side: the system bus, or the address in host ("unix:path=...") when given. */
int bus_open_berth(const char *host, sd_bus **ret);

