#!/usr/bin/env python3
# SPDX-License-Identifier: LGPL-2.1-or-later
"""Compares two root filesystem trees exhaustively (used by rootfs-parity.sh).

Usage: rootfs-compare.py EXPECTED ACTUAL [LOAD_START]
EXPECTED is podman's view of an image, ACTUAL Berth's (the overlay of its
layer directories). For every path: type, mode (incl. setuid/setgid/sticky),
uid, gid, size (not for directories: their st_size is a property of the file
system, not of the image), sha256 of regular files, symlink target, device
numbers, xattrs (without trusted.overlay.*, overlayfs' own, and
security.selinux, the host's label), mtime in whole seconds (tar headers
carry seconds; pax headers may carry more, but podman's vfs copy and
overlayfs keep what the tar had, so seconds is the common ground), and the
hardlink groups (sets of paths sharing an inode). atime and ctime are not
compared: reading changes the one, unpacking sets the other.
Directory mtimes: podman's vfs driver applies a layer on a copy of the
tree below it and never restores the mtime of a directory the layer writes
into without listing it (umoci lists only changed entries, so "etc/hello"
comes without "etc/"): podman shows the time of the load there, which no
image defines. Berth keeps the lower layer's time, as an overlayfs copy-up
would. Given LOAD_START (epoch seconds before podman loaded), a directory
whose podman mtime is not earlier is reported as not comparable instead of
as a difference. Whiteouts
(character devices 0:0, ".wh.*" names) must be invisible in both.
Prints every difference and exits 1 if there is any.
"""
import hashlib
import os
import stat
import sys

IGNORED_XATTR_PREFIXES = ("trusted.overlay.", "security.selinux")


def xattrs(path):
    out = {}
    try:
        names = os.listxattr(path, follow_symlinks=False)
    except OSError:
        return out
    for n in names:
        if n.startswith(IGNORED_XATTR_PREFIXES):
            continue
        out[n] = os.getxattr(path, n, follow_symlinks=False).hex()
    return out


def digest(path):
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


def describe(root, rel, st):
    path = os.path.join(root, rel) if rel != "." else root
    mode = st.st_mode
    d = {
        "type": stat.S_IFMT(mode),
        "mode": "%04o" % stat.S_IMODE(mode),
        "uid": st.st_uid,
        "gid": st.st_gid,
        "mtime": int(st.st_mtime),
        "xattrs": xattrs(path),
    }
    if stat.S_ISREG(mode):
        d["size"] = st.st_size
        d["sha256"] = digest(path)
    elif stat.S_ISLNK(mode):
        d["size"] = st.st_size
        d["target"] = os.readlink(path)
    elif stat.S_ISCHR(mode) or stat.S_ISBLK(mode):
        d["rdev"] = "%d:%d" % (os.major(st.st_rdev), os.minor(st.st_rdev))
    return d


def scan(root):
    entries, inodes, problems = {}, {}, []
    for dirpath, dirnames, filenames in os.walk(root):
        for name in dirnames + filenames:
            full = os.path.join(dirpath, name)
            rel = os.path.relpath(full, root)
            st = os.lstat(full)
            if name.startswith(".wh."):
                problems.append("%s: whiteout name visible in %s" % (rel, root))
            if stat.S_ISCHR(st.st_mode) and st.st_rdev == 0:
                problems.append("%s: whiteout device visible in %s" % (rel, root))
            entries[rel] = describe(root, rel, st)
            if not stat.S_ISDIR(st.st_mode):
                inodes.setdefault((st.st_dev, st.st_ino), []).append(rel)
    entries["."] = describe(root, ".", os.lstat(root))
    groups = {frozenset(v) for v in inodes.values() if len(v) > 1}
    return entries, groups, problems


def main():
    if len(sys.argv) not in (3, 4):
        sys.exit("usage: rootfs-compare.py EXPECTED ACTUAL [LOAD_START]")
    exp_root, act_root = sys.argv[1], sys.argv[2]
    load_start = int(sys.argv[3]) if len(sys.argv) > 3 else None
    exp, exp_groups, p1 = scan(exp_root)
    act, act_groups, p2 = scan(act_root)
    diffs = p1 + p2
    for rel in sorted(set(exp) | set(act)):
        if rel not in act:
            diffs.append("%s: only in podman's view" % rel)
            continue
        if rel not in exp:
            diffs.append("%s: only in Berth's view" % rel)
            continue
        for k in sorted(set(exp[rel]) | set(act[rel])):
            a, b = exp[rel].get(k), act[rel].get(k)
            if (a != b and k == "mtime" and load_start is not None
                    and exp[rel]["type"] == stat.S_IFDIR and a >= load_start):
                print("note %s: directory mtime not comparable: podman %d (set by its load), berth %d"
                      % (rel, a, b))
                continue
            if a != b:
                diffs.append("%s: %s differs: podman %r, berth %r" % (rel, k, a, b))
    for g in sorted(exp_groups - act_groups, key=sorted):
        diffs.append("hardlink group only in podman's view: %s" % sorted(g))
    for g in sorted(act_groups - exp_groups, key=sorted):
        diffs.append("hardlink group only in Berth's view: %s" % sorted(g))
    for d in diffs:
        print("DIFF " + d)
    print("%d paths, %d hardlink groups compared, %d differences" % (len(exp), len(exp_groups), len(diffs)))
    return 1 if diffs else 0


if __name__ == "__main__":
    sys.exit(main())
