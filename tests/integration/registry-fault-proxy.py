#!/usr/bin/env python3
# SPDX-License-Identifier: LGPL-2.1-or-later
"""A proxy in front of a registry that misbehaves on request, for resume and
retry tests:  registry-fault-proxy.py ADDR PORT UPSTREAM_PORT CONTROL LOG
CONTROL is a JSON file read at every request:
  {"mode": "drop", "after": N, "times": K}   GETs of blobs larger than N:
        send N bytes of the body (headers promise all of it), then cut the
        connection; K times
  {"mode": "429", "times": K}   answer 429 Retry-After: 1 to K requests
  {"mode": "503", "times": K}   answer 503 to K requests
  {"mode": "slow", "delay": S}  a pause of S seconds before every 16 KiB
  {"mode": "trickle", "rate": B}  GETs of blobs: the headers at once, then
        the body at B bytes a second (B/10 every 0.1 s) until the client
        gives up
  {"mode": "none"}
Each request appends {"method", "path", "range", "status", "bytes"} to LOG
(bytes: body bytes sent), so a test can sum what was transferred."""

import http.client
import json
import sys
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

addr, port, upstream, control_path, log_path = sys.argv[1:6]
lock = threading.Lock()
used = {}


def fault():
    """The fault for this request, counting it against its times."""
    try:
        c = json.load(open(control_path))
    except Exception:
        return {"mode": "none"}
    mode = c.get("mode", "none")
    key = json.dumps(c, sort_keys=True)
    with lock:
        n = used.get(key, 0)
        if mode in ("drop", "429", "503") and n >= c.get("times", 1):
            return {"mode": "none"}
        return c


def spend(c):
    with lock:
        key = json.dumps(c, sort_keys=True)
        used[key] = used.get(key, 0) + 1


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, *args):
        pass

    def record(self, status, sent):
        with lock, open(log_path, "a") as f:
            f.write(json.dumps({"method": self.command, "path": self.path, "status": status,
                                "range": self.headers.get("Range"), "bytes": sent}) + "\n")

    def refuse(self, status):
        self.send_response(status)
        if status == 429:
            self.send_header("Retry-After", "1")
        self.send_header("Content-Length", "0")
        self.end_headers()
        self.record(status, 0)

    def forward(self):
        c = fault()
        is_blob = "/blobs/sha256:" in self.path and self.command == "GET"
        if c["mode"] in ("429", "503") and "/v2/" in self.path and self.path != "/v2/":
            spend(c)
            return self.refuse(int(c["mode"]))
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length) if length else None
        headers = {k: v for k, v in self.headers.items() if k.lower() not in ("host", "connection")}
        conn = http.client.HTTPConnection("127.0.0.1", int(upstream), timeout=60)
        conn.request(self.command, self.path, body=body, headers=headers)
        resp = conn.getresponse()
        self.send_response(resp.status)
        for k, v in resp.getheaders():
            if k.lower() not in ("connection", "transfer-encoding"):
                self.send_header(k, v)
        if resp.getheader("Content-Length") is None:
            self.send_header("Content-Length", "0")
        self.end_headers()
        sent, limit = 0, None
        size = int(resp.getheader("Content-Length") or 0)
        if is_blob and c["mode"] == "drop" and resp.status in (200, 206) and size > c.get("after", 0):
            spend(c)
            limit = c.get("after", 0)
        while self.command != "HEAD":
            chunk = resp.read(16384)
            if not chunk:
                break
            if limit is not None and sent + len(chunk) >= limit:
                self.wfile.write(chunk[:limit - sent])
                sent = limit
                self.wfile.flush()
                self.record(resp.status, sent)
                self.close_connection = True
                self.connection.shutdown(2)
                return
            if c["mode"] == "slow":
                time.sleep(c.get("delay", 0.5))
            if is_blob and c["mode"] == "trickle":
                step = max(10, c.get("rate", 100)) // 10
                try:
                    for i in range(0, len(chunk), step):
                        self.wfile.write(chunk[i:i + step])
                        sent += len(chunk[i:i + step])
                        time.sleep(0.1)
                except OSError:     # the client gave up: what a stall test wants
                    self.close_connection = True
                    break
                continue
            self.wfile.write(chunk)
            sent += len(chunk)
        self.record(resp.status, sent)

    do_GET = do_HEAD = do_PUT = do_POST = do_PATCH = do_DELETE = forward


ThreadingHTTPServer((addr, int(port)), Handler).serve_forever()
