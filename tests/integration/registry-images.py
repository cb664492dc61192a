#!/usr/bin/env python3
# SPDX-License-Identifier: LGPL-2.1-or-later
"""Builds the OCI layouts test-registry pushes with skopeo:
  registry-images.py BASE.tar OUTDIR
  OUTDIR/multi   four gzip layers: the base rootfs, a 4 MiB file of random
                 bytes, a whiteout of /etc/motd with a hardlink, a small file
  OUTDIR/zstd    the base rootfs, then a layer of two zstd frames
  OUTDIR/index   an index of two manifests: linux/amd64 and linux/arm64,
                 each with /arch.txt saying which
  OUTDIR/attrs   for root file system parity (test-registry-more): the base
                 rootfs, then layers of owners, modes, set-id bits, symlinks
                 (times of their own), hardlinks (within a layer and to a
                 lower one), a FIFO, a device node, a user.* xattr, a single
                 and an opaque whiteout, a file replaced by a directory
Every layout has its image under the tag "1"."""

import gzip
import hashlib
import io
import json
import os
import subprocess
import sys
import tarfile


def sha(b):
    return hashlib.sha256(b).hexdigest()


def tar_of(entries):
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w", format=tarfile.PAX_FORMAT) as t:
        for name, data, kind in entries:
            info = tarfile.TarInfo(name)
            info.mtime = 1700000000
            if kind == "link":
                info.type, info.linkname = tarfile.LNKTYPE, data
                t.addfile(info)
            else:
                info.size = len(data)
                t.addfile(info, io.BytesIO(data))
    return buf.getvalue()


def tar_attrs(entries):
    """entries: (name, type, data-or-linkname, {uid, gid, mode, mtime, xattrs}).
    A hardlink entry's attributes apply to its target (docker's and
    containers-storage's rule): they repeat the target's here."""
    types = {"file": tarfile.REGTYPE, "dir": tarfile.DIRTYPE, "sym": tarfile.SYMTYPE,
             "link": tarfile.LNKTYPE, "fifo": tarfile.FIFOTYPE, "chr": tarfile.CHRTYPE}
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w", format=tarfile.PAX_FORMAT) as t:
        for name, kind, data, attrs in entries:
            info = tarfile.TarInfo(name)
            info.type = types[kind]
            info.uid, info.gid = attrs.get("uid", 0), attrs.get("gid", 0)
            info.mode = attrs.get("mode", 0o755 if kind == "dir" else 0o644)
            info.mtime = attrs.get("mtime", 1700000000)
            info.pax_headers = {"SCHILY.xattr." + k: v for k, v in attrs.get("xattrs", {}).items()}
            if kind in ("sym", "link"):
                info.linkname = data
            if kind == "chr":
                info.devmajor, info.devminor = data
            if kind == "file":
                info.size = len(data)
                t.addfile(info, io.BytesIO(data))
            else:
                t.addfile(info)
    return buf.getvalue()


def attrs_layers():
    two = tar_attrs([
        ("opt", "dir", None, {"uid": 1000, "gid": 50, "mode": 0o750, "mtime": 1600000000}),
        ("opt/suid", "file", b"#!/bin/sh\n", {"mode": 0o4755}),
        ("opt/sgid", "dir", None, {"mode": 0o2775, "gid": 50}),
        ("opt/sticky", "dir", None, {"mode": 0o1777}),
        ("opt/ro", "file", b"read only\n", {"uid": 1000, "gid": 1000, "mode": 0o400}),
        ("opt/ro-link", "link", "opt/ro", {"uid": 1000, "gid": 1000, "mode": 0o400}),
        ("opt/abs", "sym", "/etc/passwd", {"mtime": 981173106}),
        ("opt/dangling", "sym", "../nonexistent/target", {}),
        ("opt/fifo", "fifo", None, {"mode": 0o600}),
        ("opt/null", "chr", (1, 3), {"mode": 0o666}),
        ("opt/attr", "file", b"x\n", {"xattrs": {"user.parity": "value-1"}}),
        ("opt/gone", "file", b"gone\n", {}),
        ("opt/becomes-dir", "file", b"file\n", {}),
        ("opq", "dir", None, {}),
        ("opq/old", "file", b"old\n", {}),
        ("opq/sub", "dir", None, {}),
        ("opq/sub/old", "file", b"old\n", {}),
        ("lower", "dir", None, {}),
        ("lower/target", "file", b"target\n", {"uid": 1000, "mode": 0o640}),
    ])
    three = tar_attrs([
        ("opt/.wh.gone", "file", b"", {}),
        ("opt/becomes-dir", "dir", None, {"mode": 0o700}),
        ("opt/becomes-dir/inside", "file", b"inside\n", {}),
        ("opq/.wh..wh..opq", "file", b"", {}),
        ("opq/new", "file", b"new\n", {}),
        ("lower/link", "link", "lower/target", {"uid": 1000, "mode": 0o640}),
        ("etc/added", "file", b"in a directory the layer does not list\n", {"mode": 0o600}),
    ])
    return [gz(two), gz(three)]


def zstd_frames(tar):
    half = len(tar) // 2
    out = b""
    for part in (tar[:half], tar[half:]):
        out += subprocess.run(["zstd", "-q", "-c", "-"], input=part, check=True,
                              stdout=subprocess.PIPE).stdout
    return out


class Layout:
    def __init__(self, path):
        self.path = path
        os.makedirs(os.path.join(path, "blobs", "sha256"), exist_ok=True)
        with open(os.path.join(path, "oci-layout"), "w") as f:
            json.dump({"imageLayoutVersion": "1.0.0"}, f)

    def blob(self, data, media_type):
        d = sha(data)
        with open(os.path.join(self.path, "blobs", "sha256", d), "wb") as f:
            f.write(data)
        return {"mediaType": media_type, "digest": "sha256:" + d, "size": len(data)}

    def image(self, layers, arch="amd64"):
        """layers: (uncompressed tar, blob, media type) -> manifest descriptor"""
        config = json.dumps({
            "architecture": arch, "os": "linux", "created": "2026-12-01T00:00:00Z",
            "config": {"Cmd": ["/bin/sh"], "Env": ["PATH=/bin"]},
            "rootfs": {"type": "layers", "diff_ids": ["sha256:" + sha(t) for t, _, _ in layers]},
            "history": [{"created_by": "layer %d" % i} for i in range(len(layers))],
        }, sort_keys=True).encode()
        manifest = json.dumps({
            "schemaVersion": 2, "mediaType": "application/vnd.oci.image.manifest.v1+json",
            "config": self.blob(config, "application/vnd.oci.image.config.v1+json"),
            "layers": [self.blob(b, mt) for _, b, mt in layers],
        }, sort_keys=True).encode()
        desc = self.blob(manifest, "application/vnd.oci.image.manifest.v1+json")
        desc["platform"] = {"architecture": arch, "os": "linux"}
        return desc

    def index(self, manifests, media_type=None):
        top = {"schemaVersion": 2, "manifests": manifests}
        if media_type:
            return self.blob(json.dumps(top, sort_keys=True).encode(), media_type)
        for m in manifests:
            m.setdefault("annotations", {})["org.opencontainers.image.ref.name"] = "1"
        with open(os.path.join(self.path, "index.json"), "w") as f:
            json.dump(top, f)


GZ = "application/vnd.oci.image.layer.v1.tar+gzip"
ZSTD = "application/vnd.oci.image.layer.v1.tar+zstd"


def gz(tar):
    return (tar, gzip.compress(tar, mtime=0), GZ)


def main():
    base_tar = open(sys.argv[1], "rb").read()
    out = sys.argv[2]
    big = os.urandom(4 << 20)

    multi = Layout(os.path.join(out, "multi"))
    multi.index([multi.image([
        gz(base_tar),
        gz(tar_of([("data/big.bin", big, "file")])),
        gz(tar_of([("etc/.wh.motd", b"", "file"), ("data/big-link.bin", "data/big.bin", "link")])),
        gz(tar_of([("data/last.txt", b"layer four\n", "file")])),
    ])])

    zstd = Layout(os.path.join(out, "zstd"))
    small = tar_of([("data/zstd.txt", b"two frames\n" * 1000, "file")])
    zstd.index([zstd.image([gz(base_tar), (small, zstd_frames(small), ZSTD)])])

    attrs = Layout(os.path.join(out, "attrs"))
    attrs.index([attrs.image([gz(base_tar)] + attrs_layers())])

    idx = Layout(os.path.join(out, "index"))
    per_arch = [idx.image([gz(base_tar), gz(tar_of([("arch.txt", arch.encode() + b"\n", "file")]))], arch)
                for arch in ("amd64", "arm64")]
    top = idx.index(per_arch, "application/vnd.oci.image.index.v1+json")
    top["annotations"] = {"org.opencontainers.image.ref.name": "1"}
    with open(os.path.join(idx.path, "index.json"), "w") as f:
        json.dump({"schemaVersion": 2, "manifests": [top]}, f)
    with open(os.path.join(out, "big.sha256"), "w") as f:
        f.write(sha(big) + "\n")


main()
