#!/usr/bin/python3
"""fake-api.py PORTFILE: a tiny Kubernetes API over plain HTTP for the
completion tests: GET /api/v1/namespaces (labelSelector k=v honoured) lists a
few namespaces, some of them user labs; under /slow it never answers in time;
under /fail it answers 403 Forbidden.  Writes its port to PORTFILE."""
import json
import sys
import time
import urllib.parse
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

LAB = {"nublado.lsst.io/category": "lab", "argocd.argoproj.io/instance": "nublado-users"}
NAMESPACES = [
    ("default", {}),
    ("kube-system", {}),
    ("nublado", {"argocd.argoproj.io/instance": "nublado"}),
    ("nublado-alice", dict(LAB, **{"nublado.lsst.io/user": "alice"})),
    ("nublado-bob", dict(LAB, **{"nublado.lsst.io/user": "bob"})),
    ("fileservers", {"nublado.lsst.io/category": "fileserver"}),
    # labelled a lab, but not named like one: kill-labs skips it, so --user must not offer it
    ("jupyter-decoy", dict(LAB, **{"nublado.lsst.io/user": "decoy"})),
]


class Handler(BaseHTTPRequestHandler):
    def log_message(self, *args):
        pass

    def send(self, code, obj):
        body = json.dumps(obj).encode()
        self.send_response(code)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def do_GET(self):
        u = urllib.parse.urlsplit(self.path)
        if u.path.startswith("/slow/"):
            time.sleep(30)
            return
        if u.path.startswith("/fail/"):
            return self.send(403, {"kind": "Status", "apiVersion": "v1", "status": "Failure",
                                   "message": "namespaces is forbidden", "reason": "Forbidden",
                                   "code": 403})
        if u.path != "/api/v1/namespaces":
            return self.send(404, {"kind": "Status", "status": "Failure", "reason": "NotFound",
                                   "code": 404, "message": "not found"})
        q = urllib.parse.parse_qs(u.query)
        want = {}
        for term in q.get("labelSelector", [""])[0].split(","):
            if "=" in term:
                k, v = term.split("=", 1)
                want[k] = v
        items = [{"metadata": {"name": n, "labels": l}, "status": {"phase": "Active"}}
                 for n, l in NAMESPACES if all(l.get(k) == v for k, v in want.items())]
        self.send(200, {"kind": "NamespaceList", "apiVersion": "v1",
                        "metadata": {"resourceVersion": "1"}, "items": items})


srv = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
srv.daemon_threads = True
with open(sys.argv[1] + ".tmp", "w") as f:
    f.write(str(srv.server_address[1]))
import os
os.rename(sys.argv[1] + ".tmp", sys.argv[1])
srv.serve_forever()
