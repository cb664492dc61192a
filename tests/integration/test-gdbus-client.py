#!/usr/bin/python3
# SPDX-License-Identifier: LGPL-2.1-or-later
# A client of berthd that is not berthctl: Python GDBus, as a desktop
# application would use org.berth.Berth1, run by tests/integration/test-polkit.sh
# as an unprivileged user.
#
#   test-gdbus-client.py lifecycle NAME
#       lists the containers, creates NAME, starts it with passed pipes for
#       stdout and stderr, follows PropertiesChanged to its exit, reads the
#       output from the pipes and removes it.
#   test-gdbus-client.py refused NAME
#       tries to create NAME and expects a refusal by polkit, then checks
#       that no NAME was made.
#
# Prints one line per step, "ok STEP" or "FAILED STEP: why", and exits 1 at
# the first failure.
import os
import signal
import sys

import gi
gi.require_version("Gio", "2.0")
from gi.repository import Gio, GLib

BUS_NAME = "org.berth.Berth1"
MANAGER_PATH = "/org/berth/Berth1"
MANAGER = "org.berth.Berth1.Manager"
CONTAINER = "org.berth.Berth1.Container"
PROPERTIES = "org.freedesktop.DBus.Properties"
TIMEOUT_MSEC = 30000
COMMAND = ["sh", "-c", "echo to-stdout; echo to-stderr >&2; exit 7"]


def step(what, ok, why=""):
    if ok:
        print("ok " + what)
        return
    print("FAILED %s: %s" % (what, why))
    sys.exit(1)


class Client:
    def __init__(self):
        self.bus = Gio.bus_get_sync(Gio.BusType.SYSTEM, None)

    def call(self, member, signature, args, path=MANAGER_PATH, iface=MANAGER, fds=None):
        params = GLib.Variant("(%s)" % signature, args) if signature else None
        result, _ = self.bus.call_with_unix_fd_list_sync(
            BUS_NAME, path, iface, member, params, None, Gio.DBusCallFlags.NONE,
            TIMEOUT_MSEC, fds, None)
        return result.unpack()

    def container_names(self):
        (rows,) = self.call("ListContainers", "b", (True,))
        # (id, name, image, state, command, created, started, finished, exit code)
        return [row[1] for row in rows]

    def container_path(self, name):
        (path,) = self.call("GetContainer", "s", (name,))
        return path

    def get(self, path, prop):
        (value,) = self.call("Get", "ss", (CONTAINER, prop), path=path, iface=PROPERTIES)
        return value


def error_name(e):
    return Gio.DBusError.get_remote_error(e) or str(e)


def read_all(fd):
    data = b""
    while True:
        chunk = os.read(fd, 65536)
        if not chunk:
            return data
        data += chunk


def follow_to_exit(client, path, start):
    """Runs start() with a PropertiesChanged listener on path in place, then
    waits for State "exited"; returns the ExitCode the signals carried."""
    loop = GLib.MainLoop()
    seen = {"states": [], "exit_code": None}

    def on_changed(conn, sender, obj, iface, signal, params):
        changed_iface, changed, _ = params.unpack()
        if changed_iface != CONTAINER:
            return
        if "ExitCode" in changed:
            seen["exit_code"] = changed["ExitCode"]
        if "State" in changed:
            seen["states"].append(changed["State"])
            if changed["State"] == "exited":
                loop.quit()

    sub = client.bus.signal_subscribe(BUS_NAME, PROPERTIES, "PropertiesChanged", path, None,
                                      Gio.DBusSignalFlags.NONE, on_changed)
    start()
    GLib.timeout_add_seconds(20, loop.quit)
    loop.run()
    client.bus.signal_unsubscribe(sub)
    return seen


def lifecycle(client, name):
    try:
        names = client.container_names()
    except GLib.Error as e:
        step("ListContainers", False, error_name(e))
    step("ListContainers answers, without %s yet" % name, name not in names, "it is there already")

    options = {"Image": GLib.Variant("s", "bb"), "Name": GLib.Variant("s", name),
               "Cmd": GLib.Variant("as", COMMAND)}
    try:
        cid, path = client.call("CreateContainer", "a{sv}", (options,))
    except GLib.Error as e:
        step("CreateContainer", False, error_name(e))
    step("CreateContainer gives an id and an object path", len(cid) == 64 and path.startswith(MANAGER_PATH),
         "%s %s" % (cid, path))
    step("... the object is the one GetContainer finds", client.container_path(name) == path, path)
    step("... and it is created, not running", client.get(path, "State") == "created",
         client.get(path, "State"))

    out_r, out_w = os.pipe()
    err_r, err_w = os.pipe()
    fds = Gio.UnixFDList.new()
    start_options = {"Attach": GLib.Variant("b", True),
                     "Stdout": GLib.Variant("h", fds.append(out_w)),
                     "Stderr": GLib.Variant("h", fds.append(err_w))}

    def start():
        try:
            client.call("StartContainer", "sa{sv}", (name, start_options), fds=fds)
        except GLib.Error as e:
            step("StartContainer with passed pipes", False, error_name(e))
        # berthd and the container hold the write ends now: the pipes end
        # when the container's output does, once ours are closed (the fd
        # list holds copies of its own).
        os.close(out_w)
        os.close(err_w)
        for fd in fds.steal_fds():
            os.close(fd)
        step("StartContainer with passed pipes", True)

    seen = follow_to_exit(client, path, start)
    step("PropertiesChanged followed the container to State \"exited\"", "exited" in seen["states"],
         "states seen: %s" % seen["states"])
    step("... and carried its ExitCode 7", seen["exit_code"] == 7, "ExitCode %s" % seen["exit_code"])
    step("the ExitCode property says so too", client.get(path, "ExitCode") == 7, client.get(path, "ExitCode"))
    out, err = read_all(out_r), read_all(err_r)
    step("stdout came through its pipe", out == b"to-stdout\n", repr(out))
    step("stderr through its own", err == b"to-stderr\n", repr(err))

    try:
        client.call("RemoveContainer", "sb", (name, False))
    except GLib.Error as e:
        step("RemoveContainer", False, error_name(e))
    step("RemoveContainer", True)
    step("... it is gone from ListContainers", name not in client.container_names(), "still listed")
    try:
        client.container_path(name)
        step("... and GetContainer does not find it", False, "it does")
    except GLib.Error as e:
        step("... and GetContainer does not find it",
             error_name(e) == "org.berth.Berth1.Error.NoSuchContainer", error_name(e))


def refused(client, name):
    options = {"Image": GLib.Variant("s", "bb"), "Name": GLib.Variant("s", name),
               "Cmd": GLib.Variant("as", ["true"])}
    try:
        client.call("CreateContainer", "a{sv}", (options,))
        step("CreateContainer is refused", False, "it was allowed")
    except GLib.Error as e:
        step("CreateContainer is refused by polkit",
             error_name(e) in ("org.freedesktop.DBus.Error.AccessDenied",
                               "org.freedesktop.DBus.Error.InteractiveAuthorizationRequired"),
             error_name(e))
    step("... and nothing was created", name not in client.container_names(), "it is listed")


def main():
    if len(sys.argv) != 3 or sys.argv[1] not in ("lifecycle", "refused"):
        sys.exit("Usage: test-gdbus-client.py lifecycle|refused NAME")
    # A hang fails here, not in the runner's timeout.
    signal.signal(signal.SIGALRM, lambda *_: step("the whole run within 60 s", False, "it hung"))
    signal.alarm(60)
    client = Client()
    (lifecycle if sys.argv[1] == "lifecycle" else refused)(client, sys.argv[2])


main()
