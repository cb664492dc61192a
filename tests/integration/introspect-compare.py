#!/usr/bin/env python3
# SPDX-License-Identifier: LGPL-2.1-or-later
"""Compares one interface of an object's live introspection (XML on stdin)
with the file kept in the tree, both normalized: element by element in
order, attributes sorted, whitespace and comments ignored.

    introspect-compare.py INTERFACE FILE          exit 0 if equal, else a diff
    introspect-compare.py INTERFACE FILE --write  (re)writes FILE from stdin
"""
import difflib
import sys
import xml.etree.ElementTree as ET


def find_interface(root, name):
    for e in root.iter("interface"):
        if e.get("name") == name:
            return e
    return None


def canonical(e, depth=0):
    attrs = " ".join('%s="%s"' % (k, v) for k, v in sorted(e.attrib.items()))
    lines = ["  " * depth + ("<%s %s>" % (e.tag, attrs) if attrs else "<%s>" % e.tag)]
    for c in e:
        lines += canonical(c, depth + 1)
    return lines


def pretty(e):
    ET.indent(e, space="  ")
    return ET.tostring(e, encoding="unicode") + "\n"


def main():
    iface, path = sys.argv[1], sys.argv[2]
    write = "--write" in sys.argv[3:]
    live = find_interface(ET.fromstring(sys.stdin.read()), iface)
    if live is None:
        print("the live object has no interface %s" % iface)
        return 1
    if write:
        with open(path, "w") as f:
            f.write('<!-- SPDX-License-Identifier: LGPL-2.1-or-later -->\n')
            f.write('<!-- %s as berthd introspects it; test-api.sh checks that it still does.\n'
                    '     Documented in docs/dbus-api.md. -->\n' % iface)
            f.write(pretty(live))
        return 0
    kept = ET.parse(path).getroot()
    if kept.tag != "interface":
        kept = find_interface(kept, iface)
    if kept is None:
        print("%s holds no interface %s" % (path, iface))
        return 1
    a, b = canonical(kept), canonical(live)
    if a == b:
        return 0
    sys.stdout.writelines(l + "\n" for l in difflib.unified_diff(a, b, path, "live", lineterm=""))
    return 1


sys.exit(main())
