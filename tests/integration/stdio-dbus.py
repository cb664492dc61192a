#!/usr/bin/python3
# SPDX-License-Identifier: LGPL-2.1-or-later
# A direct D-Bus caller of berthd that hands one stream an fd of its choice:
#   stdio-dbus.py run|start NAME|exec NAME  Stdin|Stdout|Stderr  KIND
# KIND: file dir tty ptmx opath devnull fifo eventfd dgram listen unconnected tcp
# (refused) or pipe socket (accepted). Prints "ok" or the error's message.
import os
import pty
import socket
import sys
import tempfile

import gi
gi.require_version("Gio", "2.0")
from gi.repository import Gio, GLib


def make_fd(kind, tmp):
    if kind == "file":
        path = os.path.join(tmp, "f")
        with open(path, "w") as f:
            f.write("host file\n")
        return os.open(path, os.O_RDWR)
    if kind == "dir":
        return os.open(tmp, os.O_RDONLY | os.O_DIRECTORY)
    if kind == "opath":
        return os.open(tmp, os.O_PATH)
    if kind in ("tty", "ptmx"):
        master, slave = pty.openpty()
        return slave if kind == "tty" else master
    if kind == "devnull":
        return os.open("/dev/null", os.O_RDWR)
    if kind == "fifo":
        path = os.path.join(tmp, "fifo")
        os.mkfifo(path)
        return os.open(path, os.O_RDWR)
    if kind == "eventfd":
        return os.eventfd(0)
    if kind == "dgram":
        a, b = socket.socketpair(socket.AF_UNIX, socket.SOCK_DGRAM)
        return a.detach()
    if kind == "unconnected":
        return socket.socket(socket.AF_UNIX, socket.SOCK_STREAM).detach()
    if kind == "listen":
        s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        s.bind(os.path.join(tmp, "sock"))
        s.listen(1)
        return s.detach()
    if kind == "tcp":
        srv = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        srv.bind(("127.0.0.1", 0))
        srv.listen(1)
        c = socket.create_connection(srv.getsockname())
        make_fd.keep = (srv, srv.accept())
        return c.detach()
    if kind == "pipe":
        r, w = os.pipe()
        make_fd.keep = r
        return w
    if kind == "socket":
        a, b = socket.socketpair(socket.AF_UNIX, socket.SOCK_STREAM)
        make_fd.keep = b
        return a.detach()
    raise SystemExit("unknown kind " + kind)


def main():
    args = sys.argv[1:]
    method = args.pop(0)
    target = args.pop(0) if method in ("start", "exec") else None
    stream, kind = args
    tmp = tempfile.mkdtemp()
    fds = Gio.UnixFDList.new()
    idx = fds.append(make_fd(kind, tmp))
    stdio = {"Attach": GLib.Variant("b", True), stream: GLib.Variant("h", idx)}
    if method == "run":
        member = "RunContainer"
        params = GLib.Variant("(a{sv}a{sv})", ({"Image": GLib.Variant("s", "bb"),
                                                 "Cmd": GLib.Variant("as", ["true"]),
                                                 "AutoRemove": GLib.Variant("b", True)}, stdio))
    elif method == "start":
        member = "StartContainer"
        params = GLib.Variant("(sa{sv})", (target, stdio))
    else:
        del stdio["Attach"]
        member = "ExecContainer"
        params = GLib.Variant("(sasa{sv})", (target, ["touch", "/tmp/ran"], stdio))
    bus = Gio.bus_get_sync(Gio.BusType.SYSTEM, None)
    try:
        bus.call_with_unix_fd_list_sync("org.berth.Berth1", "/org/berth/Berth1", "org.berth.Berth1.Manager",
                                        member, params, None, Gio.DBusCallFlags.NONE, 30000, fds, None)
    except GLib.Error as e:
        name = Gio.DBusError.get_remote_error(e) or ""
        print(name, e.message.split(": ", 1)[-1] if e.message.startswith("GDBus.Error:") else e.message)
        sys.exit(1)
    print("ok")


main()
