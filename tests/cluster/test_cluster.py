#!/usr/bin/python3
"""API semantics of the test cluster that kubectl does not exercise: pagination and
expired continue tokens, selectors, watch, patch types, dry run, errors, garbage
collection, Argo CD sync, faults, authentication, and exec over WebSocket (v4/v5)
with a small client written here.

Uses the cluster in $SIM_DIR when one runs there, else starts its own.
"""

import base64
import hashlib
import http.client
import json
import os
import re
import shlex
import shutil
import socket
import ssl
import struct
import subprocess
import tempfile
import time
import unittest
import urllib.parse

HERE = os.path.dirname(os.path.abspath(__file__))
CLUSTER = os.path.join(HERE, "cluster")
SIM = {"dir": None, "own": False, "env": {}}


def setUpModule():
    d = os.environ.get("SIM_DIR")
    if not (d and os.path.exists(os.path.join(d, "ready"))):
        d = tempfile.mkdtemp(prefix="sim-api-")
        r = subprocess.run([CLUSTER, "up", d, "--seed", "11", "--labs", "12"],
                           stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
        if r.returncode != 0:
            raise RuntimeError("cluster up failed:\n" + r.stdout)
        SIM["own"] = True
    SIM["dir"] = d
    with open(os.path.join(d, "env")) as f:
        for line in f:
            k, v = line[len("export "):].strip().split("=", 1)
            SIM["env"][k] = shlex.split(v)[0] if v else ""


def tearDownModule():
    if SIM["own"]:
        subprocess.run([CLUSTER, "down", SIM["dir"]], stdout=subprocess.DEVNULL)
        if not os.environ.get("SIM_KEEP"):
            shutil.rmtree(SIM["dir"], ignore_errors=True)


def env(k):
    return SIM["env"][k]


def port():
    return int(env("SIM_SERVER").rsplit(":", 1)[1])


def ssl_ctx(cert=False):
    ctx = ssl.create_default_context(cafile=env("SIM_CA"))
    if cert:
        pki = os.path.join(SIM["dir"], "pki")
        ctx.load_cert_chain(os.path.join(pki, "admin.crt"), os.path.join(pki, "admin.key"))
    return ctx


def req(method, path, body=None, token="admin", ctype="application/json", headers=None,
        cert=False):
    """One request on a fresh connection -> (status, headers, body bytes)."""
    h = dict(headers or {})
    if token == "admin":
        h["Authorization"] = "Bearer " + env("SIM_TOKEN")
    elif token == "readonly":
        h["Authorization"] = "Bearer " + env("SIM_READONLY_TOKEN")
    elif token:
        h["Authorization"] = token
    if body is not None and not isinstance(body, (bytes, str)):
        body = json.dumps(body)
    if body is not None:
        h["Content-Type"] = ctype
    c = http.client.HTTPSConnection("127.0.0.1", port(), context=ssl_ctx(cert), timeout=30)
    try:
        c.request(method, path, body=body, headers=h)
        r = c.getresponse()
        return r.status, r.headers, r.read()
    finally:
        c.close()


def jreq(*a, **kw):
    code, hdrs, body = req(*a, **kw)
    return code, json.loads(body) if body.strip() else None


def state_text():
    return subprocess.run([CLUSTER, "state", SIM["dir"]], stdout=subprocess.PIPE,
                          check=True).stdout


def faults(spec):
    subprocess.run([CLUSTER, "faults", SIM["dir"], spec], stdout=subprocess.DEVNULL, check=True)


def wait_for(fn, timeout=10, step=0.05):
    deadline = time.time() + timeout
    while time.time() < deadline:
        v = fn()
        if v:
            return v
        time.sleep(step)
    return fn()


def create_ns(name, labels=None):
    code, o = jreq("POST", "/api/v1/namespaces", {"apiVersion": "v1", "kind": "Namespace",
                                                  "metadata": {"name": name,
                                                               "labels": labels or {}}})
    assert code == 201, (code, o)
    return o


def hub_pod():
    code, lst = jreq("GET", "/api/v1/namespaces/nublado/pods?labelSelector=" +
                     urllib.parse.quote("app=jupyterhub,component=hub"))
    names = [p["metadata"]["name"] for p in lst["items"] if not p["metadata"].get(
        "deletionTimestamp")]
    assert len(names) == 1, names
    return names[0]


# ---------------------------------------------------------------- WebSocket client

# WebSocket opcodes (RFC 6455), written out here rather than imported from the
# server, so the client stays an independent check of it
OP_BINARY = 0x2
OP_CLOSE = 0x8
FIN = 0x80
MASKED = 0x80

class WS:
    def __init__(self, path, protocols=("v5.channel.k8s.io", "v4.channel.k8s.io"),
                 token="admin"):
        raw = socket.create_connection(("127.0.0.1", port()), timeout=30)
        self.sock = ssl_ctx().wrap_socket(raw, server_hostname="127.0.0.1")
        key = base64.b64encode(os.urandom(16)).decode()
        auth = {"admin": env("SIM_TOKEN"), "readonly": env("SIM_READONLY_TOKEN")}[token]
        lines = ["GET %s HTTP/1.1" % path, "Host: 127.0.0.1:%d" % port(),
                 "Connection: Upgrade", "Upgrade: websocket", "Sec-WebSocket-Version: 13",
                 "Sec-WebSocket-Key: " + key, "Authorization: Bearer " + auth]
        if protocols:
            lines.append("Sec-WebSocket-Protocol: " + ", ".join(protocols))
        self.sock.sendall(("\r\n".join(lines) + "\r\n\r\n").encode())
        buf = b""
        while b"\r\n\r\n" not in buf:
            chunk = self.sock.recv(65536)
            if not chunk:
                break
            buf += chunk
        head, _, self.buf = buf.partition(b"\r\n\r\n")
        hl = head.decode().split("\r\n")
        self.status = int(hl[0].split()[1])
        self.headers = {}
        for ln in hl[1:]:
            k, _, v = ln.partition(":")
            self.headers[k.strip().lower()] = v.strip()
        self.body = b""
        if self.status != 101:
            n = int(self.headers.get("content-length", "0"))
            while len(self.buf) < n:
                self.buf += self.sock.recv(65536)
            self.body = self.buf[:n]
            return
        want = base64.b64encode(hashlib.sha1((key + "258EAFA5-E914-47DA-95CA-C5AB0DC85B11")
                                             .encode()).digest()).decode()
        assert self.headers["sec-websocket-accept"] == want
        self.protocol = self.headers.get("sec-websocket-protocol")

    def send(self, payload, opcode=OP_BINARY):
        mask = os.urandom(4)
        n = len(payload)
        if n < 126:
            hdr = struct.pack("!BB", FIN | opcode, MASKED | n)
        elif n < 65536:
            hdr = struct.pack("!BBH", FIN | opcode, MASKED | 126, n)
        else:
            hdr = struct.pack("!BBQ", FIN | opcode, MASKED | 127, n)
        k = (mask * (n // 4 + 1))[:n]
        masked = (int.from_bytes(payload, "big") ^ int.from_bytes(k, "big")).to_bytes(n, "big") \
            if n else b""
        self.sock.sendall(hdr + mask + masked)

    def _need(self, n):
        while len(self.buf) < n:
            chunk = self.sock.recv(1 << 20)
            if not chunk:
                raise EOFError("connection closed")
            self.buf += chunk

    def recv(self):
        self._need(2)
        b0, b1 = self.buf[0], self.buf[1]
        n = b1 & 0x7F
        i = 2
        if n == 126:
            self._need(4)
            n = struct.unpack("!H", self.buf[2:4])[0]
            i = 4
        elif n == 127:
            self._need(10)
            n = struct.unpack("!Q", self.buf[2:10])[0]
            i = 10
        assert not b1 & MASKED, "server frames must not be masked"
        self._need(i + n)
        payload = bytes(self.buf[i:i + n])
        self.buf = self.buf[i + n:]
        return b0 & 0x0F, payload

    def session(self, stdin_chunks=(), close_stdin=True):
        """Send stdin, read until Close -> (dict channel->bytes, status, close code, msgs)."""
        for c in stdin_chunks:
            self.send(b"\x00" + c)
        if close_stdin and self.protocol == "v5.channel.k8s.io":
            self.send(b"\xff\x00")
        out = {1: b"", 2: b""}
        status = None
        msgs = []
        while True:
            try:
                op, p = self.recv()
            except EOFError:
                return out, status, None, msgs
            if op == OP_CLOSE:
                code = struct.unpack("!H", p[:2])[0] if len(p) >= 2 else None
                self.send(p[:2], opcode=OP_CLOSE)
                return out, status, code, msgs
            msgs.append(p[:1] if len(p) <= 1 else p[:1] + b"...")
            if op == OP_BINARY and p:
                if p[0] == 3:
                    status = json.loads(p[1:])
                elif p[0] in out:
                    out[p[0]] += p[1:]

    def close(self):
        try:
            self.sock.close()
        except OSError:
            pass


def exec_path(pod, argv, stdin=False, tty=False, container="hub"):
    q = [("command", a) for a in argv] + [("container", container), ("stdout", "true")]
    if not tty:
        q.append(("stderr", "true"))
    if stdin:
        q.append(("stdin", "true"))
    if tty:
        q.append(("tty", "true"))
    return "/api/v1/namespaces/nublado/pods/%s/exec?%s" % (pod, urllib.parse.urlencode(q))


# ---------------------------------------------------------------- tests

class ListAndSelectorTest(unittest.TestCase):
    def test_pagination_follows_continue(self):
        code, full = jreq("GET", "/api/v1/namespaces")
        names = [o["metadata"]["name"] for o in full["items"]]
        got = []
        cont = ""
        pages = 0
        while True:
            code, page = jreq("GET", "/api/v1/namespaces?limit=4" +
                              ("&continue=" + urllib.parse.quote(cont) if cont else ""))
            self.assertEqual(code, 200)
            self.assertLessEqual(len(page["items"]), 4)
            got += [o["metadata"]["name"] for o in page["items"]]
            pages += 1
            cont = page["metadata"].get("continue")
            if cont:
                self.assertEqual(page["metadata"]["remainingItemCount"],
                                 len(names) - len(got))
            else:
                break
        self.assertEqual(got, names)
        self.assertGreater(pages, 2)
        # built-in list items carry no kind/apiVersion, the list does
        self.assertEqual(full["kind"], "NamespaceList")
        self.assertNotIn("kind", full["items"][0])

    def test_expired_continue_token(self):
        code, page = jreq("GET", "/api/v1/namespaces?limit=2")
        cont = page["metadata"]["continue"]
        faults("continue-expire=1")
        try:
            code, st = jreq("GET", "/api/v1/namespaces?limit=2&continue=" +
                            urllib.parse.quote(cont))
        finally:
            faults("")
        self.assertEqual(code, 410)
        self.assertEqual(st["reason"], "Expired")
        self.assertEqual(st["kind"], "Status")
        code, st = jreq("GET", "/api/v1/namespaces?limit=2&continue=garbage!!")
        self.assertEqual(code, 400)

    def _names(self, sel, field=False):
        q = ("fieldSelector=" if field else "labelSelector=") + urllib.parse.quote(sel)
        code, lst = jreq("GET", "/api/v1/namespaces?" + q)
        self.assertEqual(code, 200, lst)
        return {o["metadata"]["name"] for o in lst["items"]}

    def test_label_selectors(self):
        lab = self._names("nublado.lsst.io/category=lab")
        self.assertIn("nublado-user001", lab)
        self.assertIn("nubladox", lab)
        self.assertEqual(lab, self._names("nublado.lsst.io/category==lab"))
        self.assertEqual(lab, self._names("nublado.lsst.io/category in (lab,fsadmin)"))
        notlab = self._names("nublado.lsst.io/category!=lab")
        self.assertIn("nublado-users", notlab)
        self.assertFalse(lab & notlab)
        self.assertEqual(notlab, self._names("nublado.lsst.io/category notin (lab)"))
        self.assertEqual(lab, self._names("nublado.lsst.io/category"))
        self.assertEqual(notlab, self._names("!nublado.lsst.io/category"))
        both = self._names("nublado.lsst.io/category=lab,nublado.lsst.io/user=user002")
        self.assertEqual(both, {"nublado-user002"})
        code, st = jreq("GET", "/api/v1/namespaces?labelSelector=" +
                        urllib.parse.quote("a in (b"))
        self.assertEqual(code, 400)
        self.assertEqual(st["reason"], "BadRequest")

    def test_field_selectors(self):
        self.assertEqual(self._names("metadata.name=nublado", True), {"nublado"})
        self.assertNotIn("nublado", self._names("metadata.name!=nublado", True))
        self.assertIn("nublado", self._names("status.phase=Active", True))
        code, st = jreq("GET", "/api/v1/namespaces?fieldSelector=spec.nope%3Dx")
        self.assertEqual(code, 400)
        self.assertIn("field label not supported: spec.nope", st["message"])

    def test_table_output(self):
        code, hdr, body = req("GET", "/api/v1/namespaces?limit=3", headers={
            "Accept": "application/json;as=Table;v=v1;g=meta.k8s.io,application/json"})
        t = json.loads(body)
        self.assertEqual(t["kind"], "Table")
        self.assertEqual([c["name"] for c in t["columnDefinitions"]], ["Name", "Status", "Age"])
        self.assertEqual(len(t["rows"]), 3)


class WatchTest(unittest.TestCase):
    def test_watch_namespace_deletion(self):
        name = "nublado-watch1"
        create_ns(name, {"nublado.lsst.io/category": "lab"})
        code, lst = jreq("GET", "/api/v1/namespaces?fieldSelector=metadata.name%3D" + name)
        rv = lst["metadata"]["resourceVersion"]
        c = http.client.HTTPSConnection("127.0.0.1", port(), context=ssl_ctx(), timeout=30)
        c.request("GET", "/api/v1/namespaces?watch=1&allowWatchBookmarks=true&fieldSelector="
                  "metadata.name%%3D%s&resourceVersion=%s&timeoutSeconds=20" % (name, rv),
                  headers={"Authorization": "Bearer " + env("SIM_TOKEN")})
        r = c.getresponse()
        self.assertEqual(r.status, 200)
        self.assertEqual(r.headers["Transfer-Encoding"], "chunked")
        code, o = jreq("DELETE", "/api/v1/namespaces/" + name,
                       {"propagationPolicy": "Background"})
        self.assertEqual(code, 200)
        self.assertEqual(o["status"]["phase"], "Terminating")
        self.assertIn("deletionTimestamp", o["metadata"])
        # deleting again while it terminates: 200 again
        code, o2 = jreq("DELETE", "/api/v1/namespaces/" + name)
        self.assertEqual(code, 200)
        types = []
        while "DELETED" not in types:
            line = r.readline()
            if not line:
                break
            ev = json.loads(line)
            if ev["type"] != "BOOKMARK":
                self.assertEqual(ev["object"]["metadata"]["name"], name)
                types.append(ev["type"])
        c.close()
        self.assertEqual(types[0], "MODIFIED")
        self.assertEqual(types[-1], "DELETED")
        code, st = jreq("GET", "/api/v1/namespaces/" + name)
        self.assertEqual(code, 404)
        self.assertEqual(st["reason"], "NotFound")

    def test_watch_initial_events_and_too_old(self):
        c = http.client.HTTPSConnection("127.0.0.1", port(), context=ssl_ctx(), timeout=30)
        c.request("GET", "/api/v1/namespaces?watch=true&timeoutSeconds=1&labelSelector=" +
                  urllib.parse.quote("nublado.lsst.io/user=user003"),
                  headers={"Authorization": "Bearer " + env("SIM_TOKEN")})
        r = c.getresponse()
        evs = [json.loads(x) for x in r.read().splitlines()]
        c.close()
        self.assertEqual([(e["type"], e["object"]["metadata"]["name"]) for e in evs],
                         [("ADDED", "nublado-user003")])
        c = http.client.HTTPSConnection("127.0.0.1", port(), context=ssl_ctx(), timeout=30)
        c.request("GET", "/api/v1/namespaces?watch=true&resourceVersion=5",
                  headers={"Authorization": "Bearer " + env("SIM_TOKEN")})
        r = c.getresponse()
        evs = [json.loads(x) for x in r.read().splitlines()]
        c.close()
        self.assertEqual(evs[0]["type"], "ERROR")
        self.assertEqual(evs[0]["object"]["code"], 410)
        self.assertEqual(evs[0]["object"]["reason"], "Expired")

    def test_watch_cut_fault(self):
        faults("watch-cut=0.5")
        try:
            t0 = time.time()
            c = http.client.HTTPSConnection("127.0.0.1", port(), context=ssl_ctx(), timeout=30)
            c.request("GET", "/api/v1/namespaces?watch=1&resourceVersion=%s&timeoutSeconds=60"
                      % jreq("GET", "/api/v1/namespaces?limit=1")[1]["metadata"]["resourceVersion"],
                      headers={"Authorization": "Bearer " + env("SIM_TOKEN")})
            c.getresponse().read()
            c.close()
            self.assertLess(time.time() - t0, 5)
        finally:
            faults("")


class WriteSemanticsTest(unittest.TestCase):
    def test_errors(self):
        code, st = jreq("POST", "/api/v1/namespaces", {"metadata": {"name": "Bad_Name"}})
        self.assertEqual(code, 422)
        self.assertEqual(st["reason"], "Invalid")
        self.assertEqual(st["details"]["causes"][0]["field"], "metadata.name")
        code, st = jreq("POST", "/api/v1/namespaces", {"metadata": {"name": "nublado"}})
        self.assertEqual(code, 409)
        self.assertEqual(st["reason"], "AlreadyExists")
        code, cm = jreq("GET", "/api/v1/namespaces/nublado/configmaps/nublado-controller-config")
        self.assertEqual(code, 200)
        self.assertIn("namespacePrefix: nublado", cm["data"]["config.yaml"])
        stale = dict(cm, metadata=dict(cm["metadata"], resourceVersion="1"))
        code, st = jreq("PUT", "/api/v1/namespaces/nublado/configmaps/nublado-controller-config",
                        stale)
        self.assertEqual(code, 409)
        self.assertEqual(st["reason"], "Conflict")
        code, st = jreq("GET", "/apis/apps/v1/namespaces/nublado/deployments/nope")
        self.assertEqual((code, st["message"]), (404, 'deployments.apps "nope" not found'))
        self.assertEqual(st["details"], {"name": "nope", "group": "apps", "kind": "deployments"})
        code, st = jreq("GET", "/api/v1/namespaces", token="Basic " +
                        base64.b64encode(b"admin:admin").decode())
        self.assertEqual(code, 401)
        code, st = jreq("GET", "/api/v1/namespaces", token="Bearer nope")
        self.assertEqual((code, st["reason"]), (401, "Unauthorized"))
        code, st = jreq("GET", "/api/v1/namespaces", token=None)
        self.assertEqual(code, 403)
        code, st = jreq("GET", "/api/v1/namespaces/nublado", token=None, cert=True)
        self.assertEqual(code, 200)
        code, _, _ = req("GET", "/_sim/state")
        self.assertEqual(code, 401)

    def test_strategic_patch_refused_on_custom_resource(self):
        path = "/apis/gafaelfawr.lsst.io/v1alpha1/namespaces/nublado/gafaelfawringresses/proxy"
        code, st = jreq("PATCH", path, {"metadata": {"labels": {"x": "y"}}},
                        ctype="application/strategic-merge-patch+json")
        self.assertEqual(code, 415)
        self.assertEqual(st["reason"], "UnsupportedMediaType")
        code, o = jreq("PATCH", path, {"metadata": {"labels": {"x": "y"}}},
                       ctype="application/merge-patch+json")
        self.assertEqual((code, o["metadata"]["labels"]["x"]), (200, "y"))
        code, o = jreq("PATCH", path, [{"op": "remove", "path": "/metadata/labels/x"}],
                       ctype="application/json-patch+json")
        self.assertEqual(code, 200)
        self.assertNotIn("x", o["metadata"]["labels"])

    def test_strategic_patch_merges_containers_by_name(self):
        path = "/apis/apps/v1/namespaces/nublado/deployments/proxy"
        code, o = jreq("PATCH", path + "?dryRun=All", {"spec": {"template": {"spec": {
            "containers": [{"name": "chp", "image": "example/chp:2"}]}}}},
            ctype="application/strategic-merge-patch+json")
        self.assertEqual(code, 200)
        c = o["spec"]["template"]["spec"]["containers"]
        self.assertEqual(len(c), 1)
        self.assertEqual(c[0]["image"], "example/chp:2")
        self.assertIn("ports", c[0])

    def test_dry_run_leaves_state_identical(self):
        before = state_text()
        self.assertEqual(before, state_text())
        code, o = jreq("POST", "/api/v1/namespaces?dryRun=All",
                       {"metadata": {"name": "nublado-dry"}})
        self.assertEqual(code, 201)
        code, o = jreq("DELETE", "/api/v1/namespaces/nublado-user001?dryRun=All")
        self.assertEqual((code, o["status"]["phase"]), (200, "Terminating"))
        code, o = jreq("DELETE", "/apis/gafaelfawr.lsst.io/v1alpha1/namespaces/nublado/"
                       "gafaelfawringresses/proxy", {"dryRun": ["All"]})
        self.assertEqual(code, 200)
        code, o = jreq("PATCH", "/apis/apps/v1/namespaces/nublado/deployments/hub?dryRun=All",
                       {"spec": {"template": {"metadata": {"annotations": {
                           "kubectl.kubernetes.io/restartedAt": "2026-01-01T00:00:00Z"}}}}},
                       ctype="application/strategic-merge-patch+json")
        self.assertEqual(code, 200)
        code, st = jreq("POST", "/api/v1/namespaces?dryRun=Nope",
                        {"metadata": {"name": "nublado-dry"}})
        self.assertEqual(code, 400)
        time.sleep(0.3)
        self.assertEqual(before, state_text())

    def test_stuck_namespace(self):
        create_ns("nublado-stuck1", {"nublado.lsst.io/category": "lab"})
        faults("stuck-ns=nublado-stuck1,ns-delete-delay=0.1")
        try:
            code, o = jreq("DELETE", "/api/v1/namespaces/nublado-stuck1")
            self.assertEqual(code, 200)
            time.sleep(1.5)
            code, o = jreq("GET", "/api/v1/namespaces/nublado-stuck1")
            self.assertEqual((code, o["status"]["phase"]), (200, "Terminating"))
            types = {c["type"]: c for c in o["status"]["conditions"]}
            self.assertEqual(types["NamespaceFinalizersRemaining"]["status"], "True")
            self.assertEqual(types["NamespaceContentRemaining"]["reason"], "SomeResourcesRemain")
        finally:
            faults("")
        self.assertTrue(wait_for(lambda: jreq("GET", "/api/v1/namespaces/nublado-stuck1")[0]
                                 == 404, 5))

    def test_garbage_collection_and_orphan(self):
        base = "/apis/gafaelfawr.lsst.io/v1alpha1/namespaces/nublado/gafaelfawringresses"
        ing = "/apis/networking.k8s.io/v1/namespaces/nublado/ingresses/"
        for name, policy, gone in (("gc-bg", "Background", True), ("gc-orphan", "Orphan", False)):
            gi = {"apiVersion": "gafaelfawr.lsst.io/v1alpha1", "kind": "GafaelfawrIngress",
                  "metadata": {"name": name}, "config": {"baseUrl": "https://x"},
                  "template": {"metadata": {"name": name}, "spec": {"rules": [{"host": "x",
                               "http": {"paths": [{"path": "/" + name, "pathType": "Prefix",
                                                   "backend": {"service": {"name": "svc",
                                                               "port": {"number": 80}}}}]}}]}}}
            code, o = jreq("POST", base, gi)
            self.assertEqual(code, 201, o)
            self.assertTrue(wait_for(lambda: jreq("GET", ing + name)[0] == 200, 5))
            code, i = jreq("GET", ing + name)
            self.assertEqual(i["metadata"]["ownerReferences"][0]["uid"], o["metadata"]["uid"])
            code, st = jreq("DELETE", base + "/" + name, {"propagationPolicy": policy})
            self.assertEqual(code, 200)
            if gone:
                self.assertTrue(wait_for(lambda: jreq("GET", ing + name)[0] == 404, 5))
            else:
                time.sleep(0.5)
                code, i = jreq("GET", ing + name)
                self.assertEqual(code, 200)
                self.assertNotIn("ownerReferences", i["metadata"])
                jreq("DELETE", ing + name)

    def test_paused_deployment_is_honoured(self):
        path = "/apis/apps/v1/namespaces/nublado/deployments/nublado-controller"
        code, d = jreq("PATCH", path, {"spec": {"paused": True}},
                       ctype="application/merge-patch+json")
        self.assertEqual(code, 200)
        code, rs0 = jreq("GET", "/apis/apps/v1/namespaces/nublado/replicasets")
        code, d = jreq("PATCH", path, {"spec": {"template": {"metadata": {"annotations": {
            "kubectl.kubernetes.io/restartedAt": "2026-01-01T00:00:00Z"}}}}},
            ctype="application/strategic-merge-patch+json")
        time.sleep(0.6)
        code, rs1 = jreq("GET", "/apis/apps/v1/namespaces/nublado/replicasets")
        self.assertEqual(len(rs0["items"]), len(rs1["items"]))
        code, d = jreq("GET", path)
        prog = [c for c in d["status"]["conditions"] if c["type"] == "Progressing"][0]
        self.assertEqual(prog["reason"], "DeploymentPaused")
        jreq("PATCH", path, {"spec": {"paused": False}}, ctype="application/merge-patch+json")

        def done():
            d = jreq("GET", path)[1]
            st = d["status"]
            return st.get("observedGeneration") == d["metadata"]["generation"] and \
                st.get("updatedReplicas") == 1 and st.get("availableReplicas") == 1 and \
                st.get("replicas") == 1
        self.assertTrue(wait_for(done, 10))
        code, rs2 = jreq("GET", "/apis/apps/v1/namespaces/nublado/replicasets")
        self.assertEqual(len(rs2["items"]), len(rs0["items"]) + 1)


class HubPodTest(unittest.TestCase):
    DEPLOY = "/apis/apps/v1/namespaces/nublado/deployments/hub"

    def tearDown(self):
        faults("")

    def rolled_out(self):
        d = jreq("GET", self.DEPLOY)[1]
        st = d["status"]
        return st.get("observedGeneration") == d["metadata"]["generation"] and \
            st.get("updatedReplicas") == 1 and st.get("availableReplicas") == 1 and \
            st.get("replicas") == 1

    def test_hub_unready_fault_and_status_sequence(self):
        faults("hub-unready=1.5")
        old = hub_pod()
        t0 = time.time()
        code, d = jreq("PATCH", self.DEPLOY, {"spec": {"template": {"metadata": {"annotations": {
            "kubectl.kubernetes.io/restartedAt": "2026-11-25T12:00:00Z"}}}}},
            ctype="application/strategic-merge-patch+json")
        self.assertEqual(code, 200)
        seen = []
        while time.time() - t0 < 20 and not self.rolled_out():
            d = jreq("GET", self.DEPLOY)[1]
            st = d["status"]
            prog = [c for c in st.get("conditions", []) if c["type"] == "Progressing"]
            seen.append((st.get("updatedReplicas", 0), st.get("availableReplicas", 0),
                         prog[0]["reason"] if prog else None))
            time.sleep(0.05)
        self.assertTrue(self.rolled_out())
        self.assertGreater(time.time() - t0, 1.5)
        new = hub_pod()
        self.assertNotEqual(old, new)
        self.assertEqual(jreq("GET", "/api/v1/namespaces/nublado/pods/" + old)[0], 404)
        reasons = {r for _, _, r in seen}
        self.assertIn("ReplicaSetUpdated", reasons)
        # the new pod was up but not available for a while
        self.assertIn((1, 0, "ReplicaSetUpdated"), seen)
        d = jreq("GET", self.DEPLOY)[1]
        prog = [c for c in d["status"]["conditions"] if c["type"] == "Progressing"][0]
        self.assertEqual(prog["reason"], "NewReplicaSetAvailable")

    def hub_status(self, name):
        p = jreq("GET", "/api/v1/namespaces/nublado/pods/" + name)[1]
        cs = ([c for c in p["status"].get("containerStatuses") or [] if c["name"] == "hub"]
              or [{}])[0]
        ready = ([c["status"] for c in p["status"].get("conditions") or []
                  if c["type"] == "Ready"] or [None])[0]
        return p["status"]["phase"], cs, ready

    def temp_pod(self, mounts=True):
        """A pod made from the hub's template as kubectl-nublado makes it: a shell
        that waits instead of the hub, no probes, not selected by the Service."""
        d = jreq("GET", self.DEPLOY)[1]
        spec = d["spec"]["template"]["spec"]
        c = spec["containers"][0]
        c["command"] = ["/bin/sh", "-c", "sleep 3600"]
        for k in ("args", "readinessProbe", "livenessProbe", "ports"):
            c.pop(k, None)
        if not mounts:
            c["volumeMounts"] = [m for m in c["volumeMounts"] if m["name"] != "hub-secret"]
        spec["restartPolicy"] = "Never"
        code, p = jreq("POST", "/api/v1/namespaces/nublado/pods", {
            "apiVersion": "v1", "kind": "Pod", "spec": spec, "metadata": {
                "generateName": "hub-psql-", "labels": {
                    "app": "jupyterhub", "component": "hub",
                    "app.kubernetes.io/managed-by": "kubectl-nublado"}}})
        self.assertEqual(code, 201, p)
        self.addCleanup(jreq, "DELETE", "/api/v1/namespaces/nublado/pods/" + p["metadata"]["name"])
        return p["metadata"]["name"]

    def test_hub_crashloop_fault(self):
        old = hub_pod()
        faults("hub-crashloop=1")
        self.assertTrue(wait_for(lambda: self.hub_status(old)[1]["restartCount"] >= 2, 10))
        phase, cs, ready = self.hub_status(old)
        # as kubelet reports a crash loop: still Running, the container waiting
        self.assertEqual((phase, ready, cs["ready"], cs["started"]), ("Running", "False", False,
                                                                     False))
        self.assertEqual(cs["state"]["waiting"]["reason"], "CrashLoopBackOff")
        self.assertRegex(cs["state"]["waiting"]["message"],
                         r"^back-off \d+s restarting failed container=hub pod=%s_nublado\(" % old)
        self.assertEqual((cs["lastState"]["terminated"]["reason"],
                          cs["lastState"]["terminated"]["exitCode"]), ("Error", 1))
        # exec: the upgrade to the kubelet fails after the WebSocket is up (1.30+)
        ws = WS(exec_path(old, ["true"]))
        self.assertEqual(ws.status, 101)
        _, st, code, _ = ws.session()
        ws.close()
        self.assertEqual((st["reason"], st["code"]), ("InternalError", 500))
        self.assertEqual(st["message"], 'Internal error occurred: unable to upgrade '
                         'connection: container not found ("hub")')
        # a pod made from the template runs, with the template's volumes only
        tmp, bare = self.temp_pod(), self.temp_pod(mounts=False)
        for name in (tmp, bare):
            self.assertTrue(wait_for(lambda n=name: self.hub_status(n)[0] == "Running", 5))
        ws = WS(exec_path(tmp, ["sh", "-c", "test -s /usr/local/etc/jupyterhub/existing-secret/"
                                            "hub.db.password && command -v psql && command -v pg_dump"]))
        out, st, _, _ = ws.session()
        ws.close()
        self.assertEqual((st["status"], out[1].split()), ("Success", [b"/usr/bin/psql",
                                                                       b"/usr/bin/pg_dump"]))
        ws = WS(exec_path(bare, ["ls", "/usr/local/etc/jupyterhub"]))
        out, st, _, _ = ws.session()
        ws.close()
        self.assertNotIn(b"existing-secret", out[1])
        self.assertIn(b"secret", out[1].split())
        # the restart is the cure: the new pod is healthy though the fault stays set
        code, _ = jreq("PATCH", self.DEPLOY, {"spec": {"template": {"metadata": {"annotations": {
            "kubectl.kubernetes.io/restartedAt": "2026-11-29T12:00:00Z"}}}}},
            ctype="application/strategic-merge-patch+json")
        self.assertEqual(code, 200)
        self.assertTrue(wait_for(self.rolled_out, 20))
        self.doCleanups()
        self.assertTrue(wait_for(lambda: len([
            p for p in jreq("GET", "/api/v1/namespaces/nublado/pods?labelSelector=" +
                            urllib.parse.quote("app=jupyterhub,component=hub"))[1]["items"]
            if not p["metadata"].get("deletionTimestamp")]) == 1, 10))
        new = hub_pod()
        self.assertNotEqual(new, old)
        self.assertEqual(self.hub_status(new)[2], "True")

    def test_deleted_hub_pod_is_replaced(self):
        old = hub_pod()
        code, p = jreq("DELETE", "/api/v1/namespaces/nublado/pods/" + old)
        self.assertEqual(code, 200)
        self.assertIn("deletionTimestamp", p["metadata"])
        self.assertTrue(wait_for(lambda: jreq("GET", "/api/v1/namespaces/nublado/pods/" + old)[0]
                                 == 404, 15))
        self.assertTrue(wait_for(self.rolled_out, 15))
        self.assertNotEqual(hub_pod(), old)


class ArgoCDTest(unittest.TestCase):
    APP = "/apis/argoproj.io/v1alpha1/namespaces/argocd/applications/nublado"

    def test_sync_recreates_and_refuses_second_operation(self):
        base = "/apis/gafaelfawr.lsst.io/v1alpha1/namespaces/nublado/gafaelfawringresses/"
        for n in ("proxy", "proxy-labs"):
            self.assertEqual(jreq("DELETE", base + n)[0], 200)
        self.assertTrue(wait_for(lambda: jreq("GET", self.APP)[1]["status"]["sync"]["status"]
                                 == "OutOfSync", 5))
        app = jreq("GET", self.APP)[1]
        self.assertIsNone((app["spec"].get("syncPolicy") or {}).get("automated"))
        op = {"operation": {"initiatedBy": {"username": "test"}, "sync": {
            "syncStrategy": {"hook": {}},
            "resources": [{"group": "gafaelfawr.lsst.io", "kind": "GafaelfawrIngress",
                           "name": "proxy", "namespace": "nublado"}]}}}
        code, a = jreq("PATCH", self.APP, op, ctype="application/merge-patch+json")
        self.assertEqual(code, 200)
        code, st = jreq("PATCH", self.APP, op, ctype="application/merge-patch+json")
        self.assertEqual((code, st["reason"]), (409, "Conflict"))
        self.assertIn("another operation is already in progress", st["message"])
        phases = set()

        def finished():
            a = jreq("GET", self.APP)[1]
            phases.add(a["status"].get("operationState", {}).get("phase"))
            return a if "operation" not in a and a["status"]["operationState"]["phase"] == \
                "Succeeded" else None
        a = wait_for(finished, 10)
        self.assertTrue(a)
        self.assertIn("Running", phases)
        # partial sync: proxy is back, proxy-labs is still missing
        self.assertEqual(jreq("GET", base + "proxy")[0], 200)
        self.assertEqual(jreq("GET", base + "proxy-labs")[0], 404)
        self.assertEqual(a["status"]["sync"]["status"], "OutOfSync")
        op["operation"]["sync"].pop("resources")
        self.assertEqual(jreq("PATCH", self.APP, op, ctype="application/merge-patch+json")[0], 200)
        self.assertTrue(wait_for(finished, 10))
        self.assertEqual(jreq("GET", base + "proxy-labs")[0], 200)
        self.assertEqual(jreq("GET", self.APP)[1]["status"]["sync"]["status"], "Synced")

    def test_selfheal_fault(self):
        base = "/apis/gafaelfawr.lsst.io/v1alpha1/namespaces/nublado/gafaelfawringresses/"
        faults("argocd-selfheal=1")
        try:
            app = jreq("GET", self.APP)[1]
            self.assertTrue(app["spec"]["syncPolicy"]["automated"]["selfHeal"])
            self.assertEqual(jreq("DELETE", base + "proxy-spawn")[0], 200)
            self.assertTrue(wait_for(lambda: jreq("GET", base + "proxy-spawn")[0] == 200, 15))
            a = wait_for(lambda: (lambda a: a if "operation" not in a and a["status"][
                "operationState"]["phase"] == "Succeeded" else None)(jreq("GET", self.APP)[1]))
            self.assertTrue(a["status"]["operationState"]["operation"]["initiatedBy"]["automated"])
        finally:
            faults("")
        self.assertNotIn("automated", jreq("GET", self.APP)[1]["spec"].get("syncPolicy") or {})


class FaultsTest(unittest.TestCase):
    def tearDown(self):
        faults("")

    def test_429_plain_text_with_retry_after(self):
        faults("429=1,retry-after=2,paths=^/api/v1/namespaces$")
        code, hdr, body = req("GET", "/api/v1/namespaces")
        self.assertEqual(code, 429)
        self.assertEqual(hdr["Retry-After"], "2")
        self.assertTrue(hdr["Content-Type"].startswith("text/plain"))
        self.assertEqual(body, b"Too many requests, please try again later.\n")
        # other paths are untouched
        self.assertEqual(req("GET", "/api/v1/namespaces/nublado")[0], 200)

    def test_5xx_and_methods(self):
        faults("500=1,methods=DELETE")
        self.assertEqual(req("GET", "/api/v1/namespaces/nublado")[0], 200)
        code, st = jreq("DELETE", "/api/v1/namespaces/nublado-nope")
        self.assertEqual((code, st["reason"]), (500, "InternalError"))
        faults("503=1,retry-after=1")
        code, hdr, body = req("GET", "/api/v1/namespaces/nublado")
        self.assertEqual((code, hdr["Retry-After"]), (503, "1"))

    def test_deterministic_with_seed(self):
        def pattern():
            faults("429=0.5")
            return [req("GET", "/version")[0] for _ in range(20)]
        a = pattern()
        b = pattern()
        self.assertEqual(a, b)
        self.assertIn(429, a)
        self.assertIn(200, a)

    def test_reset_mid_response(self):
        faults("reset=1,paths=^/api/v1/namespaces$")
        with self.assertRaises((http.client.HTTPException, ConnectionError, ssl.SSLError,
                                OSError)):
            code, hdr, body = req("GET", "/api/v1/namespaces")
            json.loads(body)

    def test_latency(self):
        faults("latency=200")
        t0 = time.time()
        req("GET", "/version")
        self.assertGreaterEqual(time.time() - t0, 0.2)

    def test_revoke_after(self):
        faults("revoke-after=2")
        codes = [req("GET", "/api/v1/namespaces/nublado")[0] for _ in range(4)]
        self.assertEqual(codes, [200, 200, 401, 401])
        # client certificates are not tokens
        self.assertEqual(req("GET", "/api/v1/namespaces/nublado", token=None, cert=True)[0], 200)

    def test_bad_spec_is_refused(self):
        r = subprocess.run([CLUSTER, "faults", SIM["dir"], "nope=1"], stdout=subprocess.PIPE,
                           stderr=subprocess.PIPE, text=True)
        self.assertNotEqual(r.returncode, 0)
        self.assertIn("unknown fault", r.stderr)


class ExecTest(unittest.TestCase):
    def tearDown(self):
        faults("")

    def test_v5_stdout_stderr_exit_code(self):
        ws = WS(exec_path(hub_pod(), ["sh", "-c", "echo out; echo err >&2; exit 3"]))
        self.assertEqual((ws.status, ws.protocol), (101, "v5.channel.k8s.io"))
        out, st, code, msgs = ws.session()
        ws.close()
        self.assertEqual(msgs[0], b"\x01")  # the empty message on the lowest writable channel
        self.assertEqual((out[1], out[2]), (b"out\n", b"err\n"))
        self.assertEqual(st["status"], "Failure")
        self.assertEqual(st["reason"], "NonZeroExitCode")
        self.assertEqual(st["details"]["causes"], [{"reason": "ExitCode", "message": "3"}])
        self.assertEqual(code, 1000)

    def test_v5_stdin_close(self):
        ws = WS(exec_path(hub_pod(), ["sh", "-c", "wc -c; echo done"], stdin=True))
        out, st, code, _ = ws.session([b"x" * 100000, b"yz"])
        ws.close()
        self.assertEqual(out[1].split(), [b"100002", b"done"])
        self.assertEqual(st, {"metadata": {}, "status": "Success"})

    def test_v4_only_server(self):
        faults("exec-proto=v4")
        ws = WS(exec_path(hub_pod(), ["echo", "v4"]))
        self.assertEqual((ws.status, ws.protocol), (101, "v4.channel.k8s.io"))
        out, st, code, _ = ws.session()
        ws.close()
        self.assertEqual((out[1], st["status"]), (b"v4\n", "Success"))
        ws = WS(exec_path(hub_pod(), ["echo", "v5"]), protocols=("v5.channel.k8s.io",))
        self.assertEqual((ws.status, ws.body), (403, b""))
        ws.close()

    def test_websocket_off(self):
        faults("exec-ws=off")
        ws = WS(exec_path(hub_pod(), ["true"]))
        self.assertEqual((ws.status, ws.body), (403, b""))
        ws.close()

    def test_errors(self):
        ws = WS(exec_path("nope-pod", ["true"]))
        self.assertEqual(ws.status, 404)
        self.assertEqual(json.loads(ws.body)["reason"], "NotFound")
        ws.close()
        ws = WS(exec_path(hub_pod(), ["true"], container="nope"))
        self.assertEqual(ws.status, 400)
        self.assertIn("container nope is not valid for pod", json.loads(ws.body)["message"])
        ws.close()
        ws = WS(exec_path(hub_pod(), ["true"]), token="readonly")
        self.assertEqual(ws.status, 403)
        st = json.loads(ws.body)
        self.assertEqual(st["reason"], "Forbidden")
        self.assertIn('User "sim-viewer" cannot create resource "pods/exec"', st["message"])
        ws.close()

    def test_large_binary_stdout(self):
        n = 64 * 1024 * 1024
        t0 = time.time()
        ws = WS(exec_path(hub_pod(), ["head", "-c", str(n), "/dev/urandom"]))
        h = hashlib.sha256()
        total = 0
        st = None
        while True:
            op, p = ws.recv()
            if op == OP_CLOSE:
                break
            if p and p[0] == 1:
                h.update(p[1:])
                total += len(p) - 1
            elif p and p[0] == 3:
                st = json.loads(p[1:])
        ws.close()
        self.assertEqual(total, n)
        self.assertEqual(st["status"], "Success")
        self.assertLess(time.time() - t0, 30)

    def test_binary_intact(self):
        data = bytes(range(256)) * 4096
        ws = WS(exec_path(hub_pod(), ["cat"], stdin=True))
        out, st, code, _ = ws.session([data[i:i + 65536] for i in range(0, len(data), 65536)])
        ws.close()
        self.assertEqual(hashlib.sha256(out[1]).hexdigest(), hashlib.sha256(data).hexdigest())

    def test_exec_drop(self):
        faults("exec-drop=1000")
        ws = WS(exec_path(hub_pod(), ["head", "-c", "100000", "/dev/zero"]))
        out, st, code, _ = ws.session()
        ws.close()
        self.assertEqual(len(out[1]), 1000)
        self.assertIsNone(st)
        self.assertIsNone(code)

    def test_tty_and_resize(self):
        ws = WS(exec_path(hub_pod(), ["sh", "-c", "sleep 0.5; stty size"], stdin=True, tty=True))
        ws.send(b"\x04" + json.dumps({"Width": 123, "Height": 45}).encode())
        out, st, code, _ = ws.session(close_stdin=False)
        ws.close()
        self.assertIn(b"45 123", out[1])
        self.assertEqual(st["status"], "Success")


class StateTest(unittest.TestCase):
    def test_state_is_sorted_and_stable(self):
        a = state_text()
        b = state_text()
        self.assertEqual(a, b)
        items = json.loads(a)["items"]
        keys = [(o["kind"], o["metadata"].get("namespace", ""), o["metadata"]["name"])
                for o in items]
        self.assertEqual(keys, sorted(keys))
        kinds = {o["kind"] for o in items}
        for k in ("Namespace", "Pod", "Deployment", "ReplicaSet", "ConfigMap", "Secret",
                  "Service", "Ingress", "GafaelfawrIngress", "Application"):
            self.assertIn(k, kinds)
        ns = {o["metadata"]["name"]: o for o in items if o["kind"] == "Namespace"}
        self.assertEqual(ns["nublado-user001"]["metadata"]["labels"]["nublado.lsst.io/user"],
                         "user001")
        secrets = {o["metadata"]["name"]: o for o in items if o["kind"] == "Secret"}
        self.assertEqual(secrets["hub"]["data"]["hub.db.password"], "dHJ1ZQ==")
        vals = base64.b64decode(secrets["nublado-secret"]["data"]["values.yaml"]).decode()
        self.assertIn("url: " + env("SIM_DB_URL_NOPW"), vals)

    def test_phalanx_values(self):
        base = os.path.join(SIM["dir"], "phalanx", "applications", "nublado")
        with open(os.path.join(base, "values.yaml")) as f:
            self.assertIn("url: postgresql://nublado3@postgres.postgres/jupyterhub", f.read())
        with open(os.path.join(base, "values-sim.yaml")) as f:
            self.assertIn("url: " + env("SIM_DB_URL_NOPW"), f.read())


class UpstreamTableTest(unittest.TestCase):
    """The cluster's Nublado objects match README.md's table of upstream's, row by row."""

    def rows(self):
        with open(os.path.join(HERE, "README.md")) as f:
            text = f.read()
        part = text.split("## The Nublado objects, as upstream has them", 1)[1]
        out = []
        for line in part.splitlines():
            cells = [c.strip() for c in line.strip().strip("|").split("|")]
            if len(cells) == 4 and cells[0] not in ("kind", "---") and "/" in cells[1]:
                out.append(cells)
        return out

    def test_every_row_is_seeded_as_the_table_says(self):
        items = json.loads(state_text())["items"]
        by = {(o["kind"], o["metadata"].get("namespace", ""), o["metadata"]["name"]): o
              for o in items}
        rows = self.rows()
        self.assertGreaterEqual(len(rows), 13)
        for kind, nsname, source, what in rows:
            ns, name = nsname.split("/", 1)
            self.assertTrue(source.startswith(("phalanx ", "nublado ", "zero-to-jupyterhub")),
                            "row %s cites no upstream file" % nsname)
            if kind == "Pod":
                pods = [k for k in by if k[0] == "Pod" and k[1].startswith("nublado-user")]
                self.assertTrue(pods)
                for _, pns, pname in pods:
                    self.assertEqual(pname, pns[len("nublado-"):] + "-nb")
                continue
            self.assertIn((kind, ns, name), by, "%s %s is in the table, not in the cluster"
                          % (kind, nsname))
            o = by[(kind, ns, name)]
            text = json.dumps(o)
            # every word of every `quoted` value in the row is in the object
            for tok in re.findall(r"`([^`]+)`", what):
                for word in re.findall(r"[A-Za-z0-9_-]{3,}", tok):
                    if word in ("HOST", "USER", "user", "prefix"):
                        continue
                    self.assertIn(word, text, "%s %s lacks %r (from %r)" % (
                        kind, nsname, word, tok))
        # and nothing of the app's that the table leaves out
        table = {(r[0], r[1]) for r in self.rows()}
        for (kind, ns, name) in by:
            if kind == "GafaelfawrIngress" and ns == "nublado":
                self.assertIn((kind, "%s/%s" % (ns, name)), table, "%s not in the table" % name)

    def test_application_as_phalanx_has_it(self):
        app = json.loads(state_text())
        app = [o for o in app["items"] if o["kind"] == "Application" and
               o["metadata"]["name"] == "nublado"][0]
        self.assertEqual(app["spec"]["project"], "rsp")
        self.assertNotIn("syncPolicy", app["spec"])
        self.assertEqual({d["kind"] for d in app["spec"]["ignoreDifferences"]},
                         {"Secret", "Deployment"})


if __name__ == "__main__":
    unittest.main(verbosity=2)
