#!/usr/bin/env python3
# SPDX-License-Identifier: LGPL-2.1-or-later
"""Checks that a view of the umoci test image (rootfs-parity.sh) has what its
layers were built to contain, so that the comparison cannot pass because a
tool dropped something from both views. Usage: rootfs-expect.py ROOT"""
import os
import stat
import sys

root = sys.argv[1]
errors = []


def p(rel):
    return os.path.join(root, rel)


def st(rel):
    try:
        return os.lstat(p(rel))
    except FileNotFoundError:
        errors.append("%s: missing" % rel)
        return None


def expect(cond, what):
    if not cond:
        errors.append(what)


def absent(rel):
    expect(not os.path.lexists(p(rel)), "%s: whited out, but visible" % rel)


# Whiteouts: single files, whole trees, and entry-by-entry or opaque replaced directories.
for rel in ("tobe/removed", "tobe/stays", "a/b", "opq/old1", "opq/sub", "new/deeper/still",
            "opq2/old", "opq2/sub"):
    absent(rel)
expect(sorted(os.listdir(p("opq"))) == ["new"], "opq: %s" % os.listdir(p("opq")))
expect(sorted(os.listdir(p("opq2"))) == ["fresh"], "opq2: %s" % os.listdir(p("opq2")))
s = st("x/file")
expect(s and stat.S_ISDIR(s.st_mode), "x/file: not the directory of layer 3")
expect(open(p("etc/hello")).read() == "changed\n", "etc/hello: not layer 2's content")
s = st("etc/empty")
expect(s and s.st_size == 0 and (s.st_uid, s.st_gid) == (1000, 50), "etc/empty: size/owner")
# Symlinks.
expect(os.readlink(p("links/abs")) == "/etc/hello", "links/abs")
expect(os.readlink(p("links/rel")) == "../../etc/empty", "links/rel")
expect(os.readlink(p("links/dangling")) == "/nonexistent/target", "links/dangling")
s = st("links/abs")
expect(s and int(s.st_mtime) == 981173106, "links/abs: mtime of the symlink itself")
# Hardlinks: within a layer, and to a lower layer's file.
ino = lambda rel: os.lstat(p(rel)).st_ino
expect(ino("hl/one") == ino("hl/two") == ino("etc/three"), "hl/one, hl/two, etc/three: not one inode")
expect(ino("lower/target") == ino("lower/link2"), "lower/link2: not linked to lower/target")
expect(ino("lower/single") == ino("lower/link3"), "lower/link3: not linked to lower/single")
expect(ino("bin/pinglike") == ino("bin/pinglike2"), "bin/pinglike2: not linked")
# Nodes, owners, modes, times, xattrs, capabilities.
s = st("dev/cdev")
expect(s and stat.S_ISCHR(s.st_mode) and s.st_rdev == os.makedev(1, 3), "dev/cdev")
s = st("dev/bdev")
expect(s and stat.S_ISBLK(s.st_mode) and s.st_rdev == os.makedev(7, 0), "dev/bdev")
s = st("dev/fifo")
expect(s and stat.S_ISFIFO(s.st_mode), "dev/fifo")
for rel, uid, gid in (("own/u1000", 1000, 1000), ("own/g50", 0, 50), ("own/d1000", 1000, 1000)):
    s = st(rel)
    expect(s and (s.st_uid, s.st_gid) == (uid, gid), "%s: owner" % rel)
for rel, mode in (("mode/suid", 0o4755), ("mode/sgid", 0o2755), ("mode/sticky", 0o1777),
                  ("mode/ro", 0o400), ("own/g50", 0o640)):
    s = st(rel)
    expect(s and stat.S_IMODE(s.st_mode) == mode, "%s: mode %o" % (rel, s and stat.S_IMODE(s.st_mode)))
s = st("times/old")
expect(s and int(s.st_mtime) == 981173106, "times/old: mtime")
s = st("new")
expect(s and int(s.st_mtime) == 1118131750, "new: directory mtime of layer 2")
s = st("times")
expect(s and int(s.st_mtime) == 946684799, "times: directory mtime")
for rel in ("x/attr", "x/dir"):
    try:
        v = os.getxattr(p(rel), "user.parity", follow_symlinks=False)
        expect(v == b"value\0bin", "%s: user.parity is %r" % (rel, v))
    except OSError:
        errors.append("%s: no user.parity" % rel)
for rel in ("bin/pinglike", "bin/pinglike2"):
    try:
        cap = os.getxattr(p(rel), "security.capability", follow_symlinks=False)
        expect(len(cap) >= 20, "%s: short capability" % rel)
    except OSError:
        errors.append("%s: no security.capability" % rel)
for e in errors:
    print("EXPECT %s: %s" % (root, e))
sys.exit(1 if errors else 0)
