#!/usr/bin/env python3
"""A tiny registry v2 for tests/integration/pull.bats: serves an OCI image
layout directory (skopeo copy ... oci:DIR:TAG) read-only, behind auth.

  fake-registry.py DIR PORTFILE [--auth token|token-creds|basic] [--user U:P]
                   [--tamper] [--redirect-http]

token        401 + Bearer challenge; /token hands out a token to anyone
             (checking Basic credentials when they are sent)
token-creds  same, but /token wants the credentials
basic        401 + Basic challenge; requests need the credentials
--tamper     flips one byte in the middle of each layer blob it serves
--redirect-http  blob requests are redirected to a plain-HTTP non-loopback URL
Tags "huge" (a 5 MiB manifest), "badlayer" (a layer digest that is not one)
and "missingblob" (blobs the registry does not have) exist in every mode.
Each request is logged to stderr as "METHOD PATH AUTH-SCHEME".
"""
import base64
import hashlib
import http.server
import json
import os
import sys
import urllib.parse

args = sys.argv[1:]
ROOT, PORTFILE = args[0], args[1]
MODE = args[args.index("--auth") + 1] if "--auth" in args else "token"
USER = args[args.index("--user") + 1] if "--user" in args else "user:secret"
TAMPER = "--tamper" in args
REDIRECT_HTTP = "--redirect-http" in args
TOKENS = {"anon-token": False, "user-token": True}


def blob(digest):
    algo, _, hexd = digest.partition(":")
    if algo != "sha256" or len(hexd) != 64 or not all(c in "0123456789abcdef" for c in hexd):
        return None
    path = os.path.join(ROOT, "blobs", "sha256", hexd)
    if not os.path.exists(path):
        return None
    with open(path, "rb") as f:
        return f.read()


def layer_digests():
    out = set()
    with open(os.path.join(ROOT, "index.json")) as f:
        for m in json.load(f)["manifests"]:
            man = json.loads(blob(m["digest"]))
            for lay in man.get("layers", []):
                out.add(lay["digest"])
    return out


class Handler(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, fmt, *a):
        pass

    def send(self, code, body=b"", ctype="application/json", headers=()):
        self.send_response(code)
        self.send_header("Content-Type", ctype)
        self.send_header("Content-Length", str(len(body)))
        for k, v in headers:
            self.send_header(k, v)
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(body)

    def basic_ok(self):
        auth = self.headers.get("Authorization", "")
        return auth == "Basic " + base64.b64encode(USER.encode()).decode()

    def unauthorized(self):
        port = self.server.server_address[1]
        if MODE == "basic":
            ch = 'Basic realm="fake"'
        else:
            ch = 'Bearer realm="http://127.0.0.1:%d/token",service="x",scope="repository:busybox:pull"' % port
        err = {"errors": [{"code": "UNAUTHORIZED", "message": "authentication required"}]}
        self.send(401, json.dumps(err).encode(), headers=[("WWW-Authenticate", ch)])

    def do_GET(self):
        url = urllib.parse.urlparse(self.path)
        auth = self.headers.get("Authorization", "")
        sys.stderr.write("%s %s %s\n" % (self.command, url.path, auth.split(" ")[0] or "-"))
        sys.stderr.flush()
        if url.path == "/token":
            if MODE == "basic":
                return self.send(404)
            if auth:
                if not self.basic_ok():
                    return self.send(401, b'{"errors":[{"code":"DENIED","message":"bad credentials"}]}')
                return self.send(200, json.dumps({"token": "user-token"}).encode())
            if MODE == "token-creds":
                return self.send(401, b'{"errors":[{"code":"DENIED","message":"credentials required"}]}')
            return self.send(200, json.dumps({"access_token": "anon-token"}).encode())
        if MODE == "basic":
            if not self.basic_ok():
                return self.unauthorized()
        elif not auth.startswith("Bearer ") or auth[7:] not in TOKENS:
            return self.unauthorized()
        parts = url.path.split("/")
        # /v2/busybox/manifests/REF or /v2/busybox/blobs/DIGEST
        if url.path == "/v2/":
            return self.send(200, b"{}")
        if len(parts) != 5 or parts[1] != "v2" or parts[2] != "busybox":
            return self.send(404, b'{"errors":[{"code":"NAME_UNKNOWN","message":"repository name not known"}]}')
        kind, ref = parts[3], parts[4]
        if kind == "manifests" and ref == "huge":
            return self.send(200, b"{" + b" " * (5 << 20) + b"}", ctype="application/vnd.oci.image.manifest.v1+json")
        if kind == "manifests" and ref == "badlayer":
            bad = {"schemaVersion": 2, "mediaType": "application/vnd.oci.image.manifest.v1+json",
                   "config": {"digest": "sha256:" + "0" * 64, "size": 2}, "layers": [{"digest": "md5:x", "size": 1}]}
            return self.send(200, json.dumps(bad).encode(), ctype=bad["mediaType"])
        if kind == "manifests" and ref == "missingblob":
            bad = {"schemaVersion": 2, "mediaType": "application/vnd.oci.image.manifest.v1+json",
                   "config": {"digest": "sha256:" + "0" * 64, "size": 2},
                   "layers": [{"digest": "sha256:" + "1" * 64, "size": 1}]}
            return self.send(200, json.dumps(bad).encode(), ctype=bad["mediaType"])
        if kind == "manifests":
            with open(os.path.join(ROOT, "index.json")) as f:
                index = json.load(f)
            desc = None
            for m in index["manifests"]:
                if m["digest"] == ref or m.get("annotations", {}).get("org.opencontainers.image.ref.name") == ref:
                    desc = m
            data = blob(desc["digest"] if desc else ref)
            if data is None:
                return self.send(404, b'{"errors":[{"code":"MANIFEST_UNKNOWN","message":"manifest unknown"}]}')
            mt = json.loads(data).get("mediaType") or (desc or {}).get("mediaType") or "application/vnd.oci.image.manifest.v1+json"
            return self.send(200, data, ctype=mt, headers=[("Docker-Content-Digest", "sha256:" + hashlib.sha256(data).hexdigest())])
        if kind == "blobs":
            data = blob(ref)
            if data is None:
                return self.send(404, b'{"errors":[{"code":"BLOB_UNKNOWN","message":"blob unknown"}]}')
            if REDIRECT_HTTP:
                return self.send(307, headers=[("Location", "http://192.0.2.1/blob/" + ref)])
            if TAMPER and ref in layer_digests():
                mid = len(data) // 2
                data = data[:mid] + bytes([data[mid] ^ 0xFF]) + data[mid + 1:]
            return self.send(200, data, ctype="application/octet-stream")
        return self.send(404)

    do_HEAD = do_GET


srv = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
with open(PORTFILE + ".tmp", "w") as f:
    f.write(str(srv.server_address[1]))
os.rename(PORTFILE + ".tmp", PORTFILE)
srv.serve_forever()
