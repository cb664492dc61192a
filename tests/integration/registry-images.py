#!/usr/bin/env python3
# SPDX-License-Identifier: LGPL-2.1-or-later
"""Builds the OCI layouts test-registry pushes with skopeo:
  registry-images.py BASE.tar OUTDIR
  OUTDIR/multi   four gzip layers: the base rootfs, a 4 MiB file of random
                 bytes, a whiteout of /etc/motd with a hardlink, a small file
  OUTDIR/zstd    the base rootfs, then a layer of two zstd frames
  OUTDIR/index   an index of two manifests: linux/amd64 and linux/arm64,
                 each with /arch.txt saying which
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
