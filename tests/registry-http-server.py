#!/usr/bin/env python3
# SPDX-License-Identifier: LGPL-2.1-or-later
"""A scripted registry for test-registry-http: two servers on 127.0.0.1
(the registry, and "storage" on a second port that redirects point to),
each on an ephemeral port, printed as "REGISTRY_PORT STORAGE_PORT" on
stdout. /_state answers what the servers saw (counters, Authorization
headers that reached the storage port). Exits when stdin closes."""

import base64
import json
import socket
import sys
import threading
import time
from email.utils import formatdate
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

USER, PASSWORD = "alice", "s3cret-Pa55"
BLOB = bytes((i * 7 + i // 251) & 0xFF for i in range(200000))
DROP_AT = 70000

lock = threading.Lock()
state = {"counts": {}, "storage_auth": [], "storage_hits": 0, "tokens": 0, "token_auth": []}
ports = {}


def count(key):
    with lock:
        state["counts"][key] = state["counts"].get(key, 0) + 1
        return state["counts"][key]


def basic_ok(header):
    want = "Basic " + base64.b64encode(f"{USER}:{PASSWORD}".encode()).decode()
    return header == want


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, *args):
        pass

    def handle(self):
        # A TLS ClientHello (the https try of an insecure endpoint): hang up
        # at once instead of waiting for a line that never comes.
        try:
            first = self.connection.recv(1, socket.MSG_PEEK)
        except OSError:
            return
        if first == b"\x16" or not first:
            return
        super().handle()

    def send(self, code, body=b"", headers=()):
        self.send_response(code)
        for k, v in headers:
            self.send_header(k, v)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(body)

    def challenge_basic(self):
        self.send(401, b'{"errors":[{"code":"UNAUTHORIZED","message":"x"}]}',
                  [("WWW-Authenticate", 'Basic realm="test"'), ("Content-Type", "application/json")])

    def challenge_bearer(self, repo, error=None):
        v = f'Bearer realm="http://127.0.0.1:{ports["registry"]}/token",service="svc",scope="repository:{repo}:pull"'
        if error:
            v += f',error="{error}"'
        self.send(401, b"{}", [("WWW-Authenticate", v)])

    def do_HEAD(self):
        self.do_GET()

    def do_GET(self):
        auth = self.headers.get("Authorization")
        path = self.path.split("?")[0]
        if self.server.role == "storage" and path.startswith("/v2/mauth/"):
            with lock:
                state["storage_auth"].append(auth)
            want = "Basic " + base64.b64encode(b"bob:mirror-pw").decode()
            if auth != want:
                return self.challenge_basic()
            return self.send(200, b"mirror-ok")
        if self.server.role == "storage":
            with lock:
                state["storage_hits"] += 1
                state["storage_auth"].append(auth)
            return self.send(200, b"from-storage")
        if path == "/_reset":
            with lock:
                state.clear()
                state.update({"counts": {}, "storage_auth": [], "storage_hits": 0, "tokens": 0, "token_auth": []})
            return self.send(200, b"{}")
        if path == "/_state":
            with lock:
                return self.send(200, json.dumps(state).encode())
        if path == "/token":
            return self.token(auth)
        if path == "/v2/":
            return self.send(200, b"{}")
        parts = path.split("/")
        repo = parts[2] if len(parts) > 2 else ""
        n = count(repo)
        handler = getattr(self, "r_" + repo.replace("-", "_"), None)
        if not handler:
            return self.send(404, b'{"errors":[{"code":"NAME_UNKNOWN","message":"no"}]}')
        return handler(n, auth)

    def token(self, auth):
        q = self.path.split("?", 1)[1] if "?" in self.path else ""
        with lock:
            state["tokens"] += 1
            state["token_auth"].append(auth)
            k = state["tokens"]
        if not basic_ok(auth):
            return self.send(401, b"{}", [("WWW-Authenticate", 'Basic realm="token"')])
        scope = "insufficient" if "scope-" in q and k == 1 else "full"
        return self.send(200, json.dumps({"token": "tok-" + scope, "expires_in": 300}).encode(),
                         [("Content-Type", "application/json")])

    # One handler per scripted repository; n counts the requests to it.
    def r_plain(self, n, auth):
        self.send(200, b"hello", [("Content-Type", "text/plain; charset=x"), ("Docker-Content-Digest", "sha256:ab")])

    def r_mauth(self, n, auth):
        self.r_basic(n, auth)

    def r_basic(self, n, auth):
        if not basic_ok(auth):
            return self.challenge_basic()
        self.send(200, b"basic-ok")

    def r_bearer(self, n, auth):
        if auth != "Bearer tok-full":
            return self.challenge_bearer("bearer")
        self.send(200, b"bearer-ok")

    def r_scope_x(self, n, auth):
        if auth == "Bearer tok-insufficient":
            return self.challenge_bearer("scope-x", "insufficient_scope")
        if auth != "Bearer tok-full":
            return self.challenge_bearer("scope-x")
        self.send(200, b"scope-ok")

    def r_redir(self, n, auth):
        if not basic_ok(auth):
            return self.challenge_basic()
        self.send(307, b"", [("Location", f"http://127.0.0.1:{ports['storage']}/blob")])

    def r_loop(self, n, auth):
        self.send(302, b"", [("Location", f"/v2/loop/blobs/x{n}")])

    def r_r429(self, n, auth):
        if n == 1:
            return self.send(429, b"slow down", [("Retry-After", "1")])
        self.send(200, b"ok-429")

    def r_r429date(self, n, auth):
        if n == 1:
            return self.send(429, b"slow down", [("Retry-After", formatdate(time.time() + 2, usegmt=True))])
        self.send(200, b"ok-429date")

    def r_r503(self, n, auth):
        if n <= 2:
            return self.send(503, b"busy")
        self.send(200, b"ok-503")

    def r_always503(self, n, auth):
        self.send(503, b"busy")

    def r_big(self, n, auth):
        self.send(200, b"x" * (2 * 1024 * 1024))

    def drop_or_serve(self, n, ranges):
        rng = self.headers.get("Range")
        if ranges and rng and rng.startswith("bytes=") and rng.endswith("-"):
            start = int(rng[6:-1])
            body = BLOB[start:]
            return self.send(206, body, [("Content-Range", f"bytes {start}-{len(BLOB) - 1}/{len(BLOB)}")])
        self.send_response(200)
        self.send_header("Content-Length", str(len(BLOB)))
        self.end_headers()
        if n == 1:
            self.wfile.write(BLOB[:DROP_AT])
            self.wfile.flush()
            self.connection.shutdown(socket.SHUT_RDWR)
            self.close_connection = True
            return
        self.wfile.write(BLOB)

    def r_drop_range(self, n, auth):
        with lock:
            state.setdefault("ranges", []).append(self.headers.get("Range"))
        self.drop_or_serve(n, True)

    def r_drop_norange(self, n, auth):
        self.drop_or_serve(n, False)

    def r_slow(self, n, auth):
        self.send_response(200)
        self.send_header("Content-Length", "100000")
        self.end_headers()
        try:
            for _ in range(100):
                self.wfile.write(b"s")
                self.wfile.flush()
                time.sleep(0.2)
        except OSError:
            pass
        self.close_connection = True

    def do_PUT(self):
        length = int(self.headers.get("Content-Length", "0"))
        data = self.rfile.read(length)
        self.send(201, data, [("Location", "/v2/plain/blobs/sha256:put"), ("Range", f"0-{length - 1}")])

    def do_POST(self):
        if self.path.split("?")[0] != "/token":
            return self.do_PUT()
        # The OAuth2 refresh-token grant.
        length = int(self.headers.get("Content-Length", "0"))
        form = dict(p.split("=", 1) for p in self.rfile.read(length).decode().split("&") if "=" in p)
        with lock:
            state["tokens"] += 1
            state["token_auth"].append(self.headers.get("Authorization"))
            state["oauth_form"] = form
        if form.get("grant_type") != "refresh_token" or form.get("refresh_token") != "refresh-" + PASSWORD:
            return self.send(401, b"{}")
        self.send(200, json.dumps({"access_token": "tok-full", "expires_in": 60}).encode())
    do_PATCH = do_PUT


class Server(ThreadingHTTPServer):
    def handle_error(self, request, client_address):
        pass  # dropped connections are the point of some scripts


def serve(role):
    srv = Server(("127.0.0.1", 0), Handler)
    srv.role = role
    srv.daemon_threads = True
    ports[role] = srv.server_address[1]
    threading.Thread(target=srv.serve_forever, daemon=True).start()


def main():
    serve("registry")
    serve("storage")
    print(ports["registry"], ports["storage"], flush=True)
    sys.stdin.read()


if __name__ == "__main__":
    main()
