#!/usr/bin/python3
# SPDX-License-Identifier: LGPL-2.1-or-later
# Measures how long berthd takes to answer, over one connection to the
# system bus, every 20 ms until STOPFILE exists: GetInfo, and with IMAGE
# GetImage(IMAGE) too (which resolves the name in the store, under its lock):
#   loop-probe.py STOPFILE OUTFILE [IMAGE]
# Writes "CALLS SLOW MAX_MS" to OUTFILE: SLOW counts the answers that took
# more than 100 ms (or never came within 5 s, which counts as 5000 ms).
import os
import sys
import time

import gi
gi.require_version("Gio", "2.0")
from gi.repository import Gio, GLib

stop, out = sys.argv[1], sys.argv[2]
methods = [("GetInfo", None, "(a{sv})")]
if len(sys.argv) > 3:
    methods.append(("GetImage", GLib.Variant("(s)", (sys.argv[3],)), "(o)"))
bus = Gio.bus_get_sync(Gio.BusType.SYSTEM, None)
calls = slow = 0
worst = 0.0
while not os.path.exists(stop):
    for method, args, reply in methods:
        t = time.monotonic()
        try:
            bus.call_sync("org.berth.Berth1", "/org/berth/Berth1", "org.berth.Berth1.Manager", method,
                          args, GLib.VariantType.new(reply), Gio.DBusCallFlags.NONE, 5000, None)
            ms = (time.monotonic() - t) * 1000
        except GLib.Error as e:
            print(f"{method} failed: {e.message}", file=sys.stderr)
            ms = 5000.0
        calls += 1
        worst = max(worst, ms)
        if ms > 100:
            slow += 1
            print(f"{method} took {ms:.0f} ms", file=sys.stderr)
    time.sleep(0.02)
with open(out + ".tmp", "w") as f:
    f.write(f"{calls} {slow} {worst:.0f}\n")
os.rename(out + ".tmp", out)
