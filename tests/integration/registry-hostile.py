#!/usr/bin/env python3
# SPDX-License-Identifier: LGPL-2.1-or-later
"""A registry that lies, for test-registry's attacks:
  registry-hostile.py ADDR PORT
Repository (under /v2/bad/) and what it answers for manifests/1:
  digest      a manifest whose layer blob is not what its digest says
  diffid      a layer whose diff_id in the config is wrong
  bigmanifest a 64 MiB manifest
  malformed   a manifest that is not JSON
  schema1     a Docker schema 1 manifest
  mediatype   an unknown media type
  redirect    a redirect to itself, forever
  slow        nothing for 60 s
  denied      401 with a Basic challenge, whatever the credentials
  gone        404 MANIFEST_UNKNOWN"""

import gzip
import hashlib
import io
import json
import sys
import tarfile
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer


def layer():
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w") as t:
        data = b"hostile\n"
        info = tarfile.TarInfo("hello.txt")
        info.size = len(data)
        t.addfile(info, io.BytesIO(data))
    tar = buf.getvalue()
    return tar, gzip.compress(tar, mtime=0)


def sha(b):
    return "sha256:" + hashlib.sha256(b).hexdigest()


TAR, GZ = layer()
blobs = {}


def image(diff_id):
    config = json.dumps({"architecture": "amd64", "os": "linux", "config": {},
                         "rootfs": {"type": "layers", "diff_ids": [diff_id]}}).encode()
    blobs[sha(config)] = config
    return {"schemaVersion": 2, "mediaType": "application/vnd.oci.image.manifest.v1+json",
            "config": {"mediaType": "application/vnd.oci.image.config.v1+json",
                       "digest": sha(config), "size": len(config)},
            "layers": [{"mediaType": "application/vnd.oci.image.layer.v1.tar+gzip",
                        "digest": sha(GZ), "size": len(GZ)}]}


GOOD = image(sha(TAR))
BAD_DIFF = image("sha256:" + "1" * 64)
blobs[sha(GZ)] = GZ
OCI = "application/vnd.oci.image.manifest.v1+json"
SCHEMA1 = json.dumps({"schemaVersion": 1, "name": "bad/schema1", "tag": "1", "architecture": "amd64",
                      "fsLayers": [], "history": []}).encode()


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, *args):
        pass

    def answer(self, status, body=b"", ctype="application/json", headers=()):
        self.send_response(status)
        self.send_header("Content-Type", ctype)
        self.send_header("Content-Length", str(len(body)))
        for k, v in headers:
            self.send_header(k, v)
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(body)

    def do_GET(self):
        p = self.path
        if p == "/v2/":
            return self.answer(200, b"{}")
        parts = p.split("/")
        if len(parts) < 6 or parts[2] != "bad":
            return self.answer(404, b'{"errors":[{"code":"NAME_UNKNOWN"}]}')
        repo, kind, ref = parts[3], parts[4], parts[5]
        if kind == "blobs":
            if repo == "digest" and ref == sha(GZ):
                return self.answer(200, GZ[:-4] + b"evil", "application/octet-stream")
            if ref in blobs:
                return self.answer(200, blobs[ref], "application/octet-stream")
            return self.answer(404, b'{"errors":[{"code":"BLOB_UNKNOWN"}]}')
        if repo in ("digest", "diffid"):
            body = json.dumps(GOOD if repo == "digest" else BAD_DIFF).encode()
            return self.answer(200, body, OCI, [("Docker-Content-Digest", sha(body))])
        if repo == "bigmanifest":
            self.send_response(200)
            self.send_header("Content-Type", OCI)
            self.send_header("Content-Length", str(64 << 20))
            self.end_headers()
            try:
                for _ in range(64 << 4):
                    self.wfile.write(b" " * 65536)
            except OSError:
                pass
            return
        if repo == "malformed":
            return self.answer(200, b'{"schemaVersion": 2, "layers": [', OCI)
        if repo == "schema1":
            return self.answer(200, SCHEMA1, "application/vnd.docker.distribution.manifest.v1+prettyjws")
        if repo == "mediatype":
            body = json.dumps(dict(GOOD, mediaType="application/x-evil")).encode()
            return self.answer(200, body, "application/x-evil")
        if repo == "redirect":
            return self.answer(302, b"", headers=[("Location", p)])
        if repo == "slow":
            time.sleep(60)
            return self.answer(503)
        if repo == "denied":
            return self.answer(401, b'{"errors":[{"code":"UNAUTHORIZED"}]}',
                               headers=[("WWW-Authenticate", 'Basic realm="hostile"')])
        return self.answer(404, b'{"errors":[{"code":"MANIFEST_UNKNOWN"}]}')

    do_HEAD = do_GET


ThreadingHTTPServer((sys.argv[1], int(sys.argv[2])), Handler).serve_forever()
