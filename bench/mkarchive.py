#!/usr/bin/env python3
# SPDX-License-Identifier: LGPL-2.1-or-later
"""Writes a docker-archive (the `docker save` layout) from layer tarballs.

    mkarchive.py OUT.tar REPO:TAG [--gzip] LAYER.tar...

Layers are given base first. Each becomes <blob-hex>/layer.tar (gzip-compressed
with --gzip, as `docker save` of a pulled image may hold them), with the
legacy <hex>/json and <hex>/VERSION beside it; then the image config
<config-hex>.json (rootfs.diff_ids are the sha256 of the uncompressed tars),
manifest.json and repositories, in the order Docker writes them.
"""
import gzip
import hashlib
import json
import os
import shutil
import sys
import tarfile
import tempfile

EPOCH = "2026-01-01T00:00:00Z"


def sha256_file(path):
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


def add_bytes(tar, name, data, mode=0o644):
    info = tarfile.TarInfo(name)
    info.size = len(data)
    info.mode = mode
    info.mtime = 1767225600
    with tempfile.TemporaryFile() as f:
        f.write(data)
        f.seek(0)
        tar.addfile(info, f)


def add_dir(tar, name):
    info = tarfile.TarInfo(name)
    info.type = tarfile.DIRTYPE
    info.mode = 0o755
    info.mtime = 1767225600
    tar.addfile(info)


def main(argv):
    args = [a for a in argv[1:] if a != "--gzip"]
    compress = "--gzip" in argv[1:]
    if len(args) < 3:
        sys.exit(__doc__)
    out, ref, layers = args[0], args[1], args[2:]
    repo, _, tag = ref.rpartition(":")
    work = tempfile.mkdtemp(dir=os.path.dirname(os.path.abspath(out)))
    try:
        blobs, diff_ids = [], []
        for i, layer in enumerate(layers):
            diff_ids.append("sha256:" + sha256_file(layer))
            blob = layer
            if compress:
                blob = os.path.join(work, "layer%d.tar.gz" % i)
                with open(layer, "rb") as src, open(blob, "wb") as raw:
                    with gzip.GzipFile(fileobj=raw, mode="wb", compresslevel=6, mtime=0) as dst:
                        shutil.copyfileobj(src, dst, 1 << 20)
            blobs.append((sha256_file(blob), blob))

        config = {
            "architecture": "amd64",
            "os": "linux",
            "created": EPOCH,
            "config": {
                "Env": ["PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"],
                "Cmd": ["bash"],
            },
            "rootfs": {"type": "layers", "diff_ids": diff_ids},
            "history": [{"created": EPOCH, "created_by": "berth bench: layer %d of %s" % (i, os.path.basename(l))}
                        for i, l in enumerate(layers)],
        }
        config_bytes = json.dumps(config, separators=(",", ":"), sort_keys=True).encode()
        config_hex = hashlib.sha256(config_bytes).hexdigest()

        manifest = [{
            "Config": config_hex + ".json",
            "RepoTags": [ref],
            "Layers": [hexd + "/layer.tar" for hexd, _ in blobs],
        }]
        repositories = {repo: {tag: blobs[-1][0]}}

        tmp_out = out + ".tmp"
        with tarfile.open(tmp_out, "w", format=tarfile.PAX_FORMAT) as tar:
            parent = None
            for hexd, path in blobs:
                add_dir(tar, hexd)
                add_bytes(tar, hexd + "/VERSION", b"1.0")
                legacy = {"id": hexd, "created": EPOCH}
                if parent:
                    legacy["parent"] = parent
                add_bytes(tar, hexd + "/json", json.dumps(legacy).encode())
                info = tar.gettarinfo(path, arcname=hexd + "/layer.tar")
                info.uid = info.gid = 0
                info.uname = info.gname = ""
                info.mtime = 1767225600
                with open(path, "rb") as f:
                    tar.addfile(info, f)
                parent = hexd
            add_bytes(tar, config_hex + ".json", config_bytes)
            add_bytes(tar, "manifest.json", json.dumps(manifest).encode())
            add_bytes(tar, "repositories", json.dumps(repositories).encode())
        os.rename(tmp_out, out)
        print("sha256:" + config_hex)
    finally:
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main(sys.argv)
