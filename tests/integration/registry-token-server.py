#!/usr/bin/env python3
# SPDX-License-Identifier: LGPL-2.1-or-later
"""A token service for docker-registry's token auth, as Docker Hub's works:
GET /token?service=S&scope=repository:NAME:ACTIONS with HTTP basic
credentials answers {"token", "access_token", "expires_in", "issued_at"}, a
JWT signed RS256 with KEY, carrying CERT in x5c (docker-registry checks it
against its rootcertbundle). Users and what they may do come from argv:
  registry-token-server.py ADDR PORT KEY CERT ISSUER LOG user:password:actions...
actions: "pull" or "pull,push" on every repository. Anonymous callers get
pull on repositories under public/. Every request is appended to LOG (never
the password)."""

import base64
import json
import sys
import time
import uuid
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlparse

import jwt
from cryptography import x509
from cryptography.hazmat.primitives import serialization

addr, port, key_path, cert_path, issuer, log_path = sys.argv[1:7]
users = {}
for spec in sys.argv[7:]:
    user, password, actions = spec.split(":", 2)
    users[user] = (password, actions.split(","))
key = open(key_path, "rb").read()
cert = x509.load_pem_x509_certificate(open(cert_path, "rb").read())
x5c = [base64.b64encode(cert.public_bytes(serialization.Encoding.DER)).decode()]


def caller(header):
    if not header or not header.startswith("Basic "):
        return None, []
    try:
        user, password = base64.b64decode(header[6:]).decode().split(":", 1)
    except Exception:
        return None, None
    if user not in users or users[user][0] != password:
        return None, None
    return user, users[user][1]


class Handler(BaseHTTPRequestHandler):
    def log_message(self, *args):
        pass

    def do_GET(self):
        url = urlparse(self.path)
        q = parse_qs(url.query)
        user, allowed = caller(self.headers.get("Authorization"))
        with open(log_path, "a") as f:
            f.write(json.dumps({"path": url.path, "query": q, "user": user,
                                "authorized": allowed is not None}) + "\n")
        if url.path != "/token" or allowed is None:
            self.send_response(401 if allowed is None else 404)
            self.send_header("Content-Length", "0")
            self.end_headers()
            return
        access = []
        for scope in q.get("scope", []):
            kind, name, actions = scope.split(":")
            grant = allowed if user else (["pull"] if name.startswith("public/") else [])
            access.append({"type": kind, "name": name,
                           "actions": [a for a in actions.split(",") if a in grant]})
        now = int(time.time())
        claims = {"iss": issuer, "sub": user or "", "aud": q.get("service", [""])[0],
                  "exp": now + 300, "nbf": now - 10, "iat": now, "jti": str(uuid.uuid4()),
                  "access": access}
        token = jwt.encode(claims, key, algorithm="RS256", headers={"x5c": x5c})
        body = json.dumps({"token": token, "access_token": token, "expires_in": 300,
                           "issued_at": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(now))}).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)


ThreadingHTTPServer((addr, int(port)), Handler).serve_forever()
