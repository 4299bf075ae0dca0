#!/usr/bin/python3
"""The simulated kube-apiserver: HTTPS, authentication, RBAC, discovery,
REST for the resources in k8s.RESOURCES, watch, exec, faults and the /_sim/
control endpoints. Started in the background by tests/cluster/cluster up."""

import http.server
import json
import os
import socket
import ssl
import struct
import sys
import threading
import time
import urllib.parse
import hmac
import hashlib

if __package__ in (None, ""):
    sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
    __package__ = "sim"  # noqa: A001

from sim import k8s  # noqa: E402
from sim.k8s import ApiError  # noqa: E402
from sim import tables  # noqa: E402
from sim import api as apimod  # noqa: E402

JSON_CT = "application/json"
UNPROTECTED = ("/version", "/healthz", "/livez", "/readyz")


class Log:
    def __init__(self, path):
        self.f = open(path, "a", buffering=1) if path else None
        self.lock = threading.Lock()

    def write(self, line):
        if self.f is None:
            return
        with self.lock:
            self.f.write(line + "\n")


class SimHTTPServer(http.server.ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True
    request_queue_size = 256

    def __init__(self, addr, handler, sim):
        self.sim = sim
        super().__init__(addr, handler)

    def finish_request(self, request, client_address):
        # TLS handshake in the connection's own thread, not the accept loop
        try:
            request.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
            request.settimeout(30)
            conn = self.sim.ssl_ctx.wrap_socket(request, server_side=True)
            conn.settimeout(None)
        except (ssl.SSLError, OSError):
            try:
                request.close()
            except OSError:
                pass
            return
        try:
            self.RequestHandlerClass(conn, client_address, self)
        finally:
            try:
                conn.close()
            except OSError:
                pass

    def handle_error(self, request, client_address):
        exc = sys.exc_info()[1]
        if isinstance(exc, (ConnectionError, ssl.SSLError, TimeoutError, BrokenPipeError)):
            return
        super().handle_error(request, client_address)


class Handler(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    timeout = 900  # idle keep-alive connections do not keep their thread forever
    server_version = "sim-kube-apiserver"
    sys_version = ""

    def log_message(self, fmt, *args):  # we log ourselves, one line per request
        pass

    def log_request(self, code="-", size="-"):
        pass

    # every verb goes through dispatch
    def do_GET(self):
        self.dispatch("GET")

    def do_POST(self):
        self.dispatch("POST")

    def do_PUT(self):
        self.dispatch("PUT")

    def do_PATCH(self):
        self.dispatch("PATCH")

    def do_DELETE(self):
        self.dispatch("DELETE")

    def do_HEAD(self):
        self.dispatch("HEAD")

    def do_OPTIONS(self):
        self.dispatch("OPTIONS")

    # ---------------------------------------------------------- plumbing
    @property
    def sim(self):
        return self.server.sim

    def read_body(self):
        n = int(self.headers.get("Content-Length") or 0)
        if n:
            return self.rfile.read(n)
        if self.headers.get("Transfer-Encoding", "").lower() == "chunked":
            out = b""
            while True:
                line = self.rfile.readline()
                size = int(line.split(b";")[0].strip() or b"0", 16)
                if size == 0:
                    self.rfile.readline()
                    break
                out += self.rfile.read(size)
                self.rfile.readline()
            return out
        return b""

    def send_bytes(self, code, body, ctype=JSON_CT, headers=None):
        self.status_code = code
        fault = getattr(self, "pending_reset", False)
        self.send_response(code)
        self.send_header("Content-Type", ctype)
        self.send_header("Cache-Control", "no-cache, private")
        self.send_header("Audit-Id", self.audit_id)
        for k, v in (headers or {}).items():
            self.send_header(k, str(v))
        self.send_header("Content-Length", str(len(body)))
        if self.command == "HEAD":
            self.end_headers()
            return
        if not fault:
            self._headers_buffer.append(b"\r\n")
            self._headers_buffer.append(body)
            self.flush_headers()
            return
        self.end_headers()
        if fault:
            # connection reset mid-response: headers and part of the body, then RST
            self.wfile.write(body[: max(1, len(body) // 2)])
            self.wfile.flush()
            self.abort_connection()
            return
        self.wfile.write(body)

    def abort_connection(self):
        """Close the TCP connection with a RST (SO_LINGER 0), no TLS close_notify."""
        self.abort_connection_quiet()
        raise ConnectionAbortedError("fault: reset")

    def abort_connection_quiet(self):
        self.close_connection = True
        try:
            self.connection.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER,
                                       struct.pack("ii", 1, 0))
            self.wfile.flush()
        except (OSError, ValueError):
            pass
        for f in (self.rfile, self.wfile):
            try:
                f.close()
            except (OSError, ValueError):
                pass
        try:
            self.connection.close()
        except OSError:
            pass

    def send_json(self, code, obj, headers=None):
        body = json.dumps(obj, separators=(",", ":")).encode() + b"\n"
        self.send_bytes(code, body, JSON_CT, headers)

    def send_error_status(self, e):
        if e.body is not None:
            self.send_bytes(e.code, e.body.encode() if isinstance(e.body, str) else e.body,
                            e.headers.get("Content-Type", "text/plain; charset=utf-8"),
                            {k: v for k, v in e.headers.items() if k != "Content-Type"})
        else:
            self.send_json(e.code, e.status(), e.headers)

    # ---------------------------------------------------------- auth
    def authenticate(self):
        """Return (user, groups, kind) or raise 401."""
        auth = self.headers.get("Authorization")
        if auth:
            scheme, _, cred = auth.partition(" ")
            if scheme.lower() != "bearer" or not cred.strip():
                raise k8s.UNAUTHORIZED
            tok = cred.strip()
            ent = self.sim.tokens.get(tok)
            if ent is None:
                ent = self.sim.check_expiring_token(tok)
            if ent is None:
                raise k8s.UNAUTHORIZED
            if ent["kind"] == "exec-beta":
                # Revocation strikes the tokens out there; the exec plugin's next
                # one, issued after it, is good: the refresh-on-401 path.
                if self.sim.faults.plugin_token_revoked(tok):
                    raise k8s.UNAUTHORIZED
            elif ent["kind"] != "control" and self.sim.faults.count_token_request():
                raise k8s.UNAUTHORIZED
            user, groups = ent["user"], list(ent["groups"])
            kind = ent["kind"]
        else:
            try:
                cert = self.connection.getpeercert()
            except (ValueError, AttributeError):
                cert = None
            if cert:
                user, groups = "", []
                for rdn in cert.get("subject", ()):
                    for k, v in rdn:
                        if k == "commonName":
                            user = v
                        elif k == "organizationName":
                            groups.append(v)
                groups.append("system:authenticated")
                kind = "cert"
            else:
                return "system:anonymous", ["system:unauthenticated"], "anonymous"
        imp = self.headers.get("Impersonate-User")
        if imp:
            if "system:masters" not in groups:
                raise ApiError(403, "Forbidden", 'users "%s" is forbidden: User "%s" cannot '
                               'impersonate resource "users" in API group "" at the cluster '
                               'scope' % (imp, user), {"name": imp, "kind": "users"})
            user = imp
            groups = self.headers.get_all("Impersonate-Group") or []
            groups.append("system:authenticated")
        return user, groups, kind

    def authorize(self, user, groups, verb, res_plural, group, name, ns, qualified=None):
        if "system:masters" in groups:
            return
        if "sim:viewers" in groups and verb in ("get", "list", "watch"):
            return
        raise k8s.forbidden(user, verb, res_plural, group, name, ns, qualified)

    # ---------------------------------------------------------- dispatch
    def dispatch(self, method):
        t0 = time.time()
        self.status_code = 0
        self.user = "-"
        self.pending_reset = False
        self.audit_id = self.sim.new_audit_id()
        url = urllib.parse.urlsplit(self.path)
        path = url.path
        q = urllib.parse.parse_qs(url.query, keep_blank_values=True)
        body = b""
        try:
            body = self.read_body()
            ctype = self.headers.get("Content-Type", "")
            if body and ctype.startswith("application/vnd.kubernetes.protobuf"):
                from sim import proto
                body = json.dumps(proto.decode(body)).encode()
                self.headers.replace_header("Content-Type", "application/json")
            if not path.startswith("/_sim/"):
                self.apply_faults(method, path)
            if path.startswith("/_sim/"):
                self.control(method, path, q, body)
            else:
                user, groups, kind = self.authenticate()
                self.user = user
                self.groups = groups
                self.route(method, path, q, body, user, groups, kind)
        except ApiError as e:
            try:
                self.send_error_status(e)
            except (ConnectionError, OSError):
                self.close_connection = True
        except (ConnectionError, ssl.SSLError, BrokenPipeError, TimeoutError):
            self.close_connection = True
        except Exception as e:  # a bug in the sim: answer 500 like a server would
            import traceback
            traceback.print_exc()
            try:
                self.send_json(500, ApiError(500, "InternalError",
                                             "Internal error occurred: %s" % e).status())
            except OSError:
                self.close_connection = True
        finally:
            ms = (time.time() - t0) * 1000
            self.sim.log.write("%s %s %s %s %.1fms user=%s ua=%s" % (
                time.strftime("%H:%M:%S"), method, self.path, self.status_code, ms, self.user,
                (self.headers.get("User-Agent") or "-").split(" ")[0] if self.headers else "-"))

    def apply_faults(self, method, path):
        f = self.sim.faults
        lat = f.get("latency")
        if lat:
            time.sleep(lat / 1000.0)
        if path in ("/readyz", "/livez", "/healthz"):
            return
        d = f.decide(method, path)
        if d is None:
            return
        if d == "429":
            ra = f.get("retry-after", 1)
            raise ApiError(429, "TooManyRequests", "", headers={
                "Retry-After": str(int(ra) if float(ra).is_integer() else ra),
                "Content-Type": "text/plain; charset=utf-8",
                "X-Content-Type-Options": "nosniff"},
                body="Too many requests, please try again later.\n")
        if d == "500":
            raise ApiError(500, "InternalError", "Internal error occurred: injected fault",
                           {"causes": [{"message": "injected fault"}]})
        if d == "503":
            hdr = {}
            if "retry-after" in f.cfg:
                hdr["Retry-After"] = str(int(f.get("retry-after")))
            raise ApiError(503, "ServiceUnavailable", "the server is currently unable to "
                           "handle the request", headers=hdr)
        if d == "reset":
            self.pending_reset = True

    # ---------------------------------------------------------- control
    def control(self, method, path, q, body):
        self.user = "sim-control"
        auth = self.headers.get("Authorization", "")
        if not hmac.compare_digest(auth.encode(), ("Bearer " + self.sim.control_token).encode()):
            raise k8s.UNAUTHORIZED
        if path == "/_sim/state" and method == "GET":
            self.send_bytes(200, self.sim.state_json().encode(), JSON_CT)
        elif path == "/_sim/faults" and method == "GET":
            self.send_bytes(200, (self.sim.faults.describe() + "\n").encode(), "text/plain")
        elif path == "/_sim/faults" and method in ("PUT", "POST"):
            from sim.faults import FaultError
            try:
                self.sim.set_faults(body.decode().strip())
            except FaultError as e:
                raise k8s.bad_request(str(e)) from None
            self.send_bytes(200, (self.sim.faults.describe() + "\n").encode(), "text/plain")
        elif path == "/_sim/info" and method == "GET":
            self.send_json(200, self.sim.info())
        else:
            raise ApiError(404, "NotFound", "the server could not find the requested resource")

    # ---------------------------------------------------------- routes
    def route(self, method, path, q, body, user, groups, kind):
        if path in UNPROTECTED or path.rstrip("/") in UNPROTECTED:
            p = path.rstrip("/")
            if p == "/version":
                return self.send_json(200, self.sim.version())
            return self.send_bytes(200, b"ok", "text/plain; charset=utf-8")
        if kind == "anonymous":
            # anonymous requests are authenticated as system:anonymous and then refused
            # by RBAC, as on a kubeadm cluster
            raise ApiError(403, "Forbidden", 'forbidden: User "system:anonymous" cannot get '
                           'path "%s"' % path, {})
        parts = [p for p in path.split("/") if p]
        if parts[:2] == ["openapi", "v3"]:
            doc = self.sim.openapi_v3("/".join(parts[2:]))
            if doc is None:
                raise ApiError(404, "NotFound", "the server could not find the requested resource")
            return self.send_json(200, doc)
        if not parts or parts[0] not in ("api", "apis"):
            if parts and parts[0] in ("openapi", "swagger.json", "metrics", "logs"):
                raise ApiError(404, "NotFound", "the server could not find the requested resource")
            raise ApiError(404, "NotFound", "the server could not find the requested resource")
        if parts[0] == "api":
            if len(parts) == 1:
                return self.send_json(200, self.sim.discovery_api())
            if parts[1] != "v1":
                raise ApiError(404, "NotFound", "the server could not find the requested resource")
            group, version, rest = "", "v1", parts[2:]
        else:
            if len(parts) == 1:
                return self.send_json(200, self.sim.discovery_apis())
            group = parts[1]
            if len(parts) == 2:
                g = self.sim.discovery_group(group)
                if g is None:
                    raise ApiError(404, "NotFound", "the server could not find the requested "
                                   "resource")
                return self.send_json(200, g)
            version, rest = parts[2], parts[3:]
        if not rest:
            d = self.sim.discovery_resources(group, version)
            if d is None:
                raise ApiError(404, "NotFound", "the server could not find the requested resource")
            return self.send_json(200, d)
        self.resource_request(method, group, version, rest, q, body, user, groups)

    def parse_resource_path(self, group, version, rest):
        """-> (res, ns, name, sub)"""
        def lookup(plural):
            r = k8s.BY_PATH.get((group, version, plural))
            if r is None:
                raise ApiError(404, "NotFound", "the server could not find the requested resource")
            return r
        ns = name = sub = None
        if rest[0] == "namespaces" and len(rest) >= 3 and group == "" and \
                rest[2] not in ("status", "finalize"):
            ns = rest[1]
            rest = rest[2:]
        elif rest[0] == "namespaces" and len(rest) >= 3 and group != "":
            ns = rest[1]
            rest = rest[2:]
        res = lookup(rest[0])
        if len(rest) >= 2:
            name = rest[1]
        if len(rest) >= 3:
            sub = rest[2]
            if sub not in res.subresources or len(rest) > 3:
                raise ApiError(404, "NotFound", "the server could not find the requested resource")
        if ns is not None and not res.namespaced:
            raise ApiError(404, "NotFound", "the server could not find the requested resource")
        if res.namespaced and ns is None and name is not None:
            raise ApiError(404, "NotFound", "the server could not find the requested resource")
        return res, ns, name, sub

    def resource_request(self, method, group, version, rest, q, body, user, groups):
        res, ns, name, sub = self.parse_resource_path(group, version, rest)
        api = self.sim.api
        watch = (q.get("watch") or [""])[0] in ("1", "true", "True")
        if method in ("GET", "HEAD"):
            if name is None:
                verb = "watch" if watch else "list"
            elif sub == "exec":
                verb = "create"
            else:
                verb = "get"
        else:
            verb = {"POST": "create", "PUT": "update", "PATCH": "patch",
                    "DELETE": "delete" if name else "deletecollection"}.get(method)
            if verb is None:
                raise ApiError(405, "MethodNotAllowed", "the server does not allow this method "
                               "on the requested resource")
        if res.virtual:
            return self.review(method, res, body, user, groups)
        rp = res.plural + ("/" + sub if sub else "")
        self.authorize(user, groups, verb, rp, res.group, name, ns,
                       res.qualified + ("" if not sub else ""))
        if sub == "exec":
            if method not in ("GET", "POST"):
                raise ApiError(405, "MethodNotAllowed", "the server does not allow this method "
                               "on the requested resource")
            from sim import wsexec
            return wsexec.handle(self, ns, name, q)
        if sub == "log":
            return self.pod_log(ns, name, q)
        if sub == "scale":
            return self.scale(method, res, ns, name, body, q, user)
        if name is None:
            if method == "GET" or method == "HEAD":
                if watch:
                    return self.watch(res, ns, q)
                lst = api.list(res, ns, q)
                if self.wants_table():
                    return self.send_json(200, tables.table(
                        res, lst, (q.get("includeObject") or ["Metadata"])[0]))
                return self.send_json(200, lst)
            if method == "POST":
                if name is None and ns is None and res.namespaced:
                    raise ApiError(405, "MethodNotAllowed", "the server does not allow this "
                                   "method on the requested resource")
                o = api.create(res, ns, body, q, user)
                return self.send_json(201, o)
            raise ApiError(405, "MethodNotAllowed", "the server does not allow this method on "
                           "the requested resource")
        if method in ("GET", "HEAD"):
            o = api.get(res, ns, name)
            if self.wants_table():
                lst = {"metadata": {"resourceVersion": o["metadata"]["resourceVersion"]},
                       "items": [o]}
                t = tables.table(res, lst, (q.get("includeObject") or ["Metadata"])[0])
                t["metadata"] = {"resourceVersion": o["metadata"]["resourceVersion"]}
                return self.send_json(200, t)
            return self.send_json(200, o)
        if method == "PUT":
            o = api.update(res, ns, name, body, q, user, sub)
            return self.send_json(200, o)
        if method == "PATCH":
            o = api.patch(res, ns, name, body, self.headers.get("Content-Type"), q, user, sub)
            return self.send_json(200, o)
        if method == "DELETE":
            if sub:
                raise ApiError(405, "MethodNotAllowed", "the server does not allow this method "
                               "on the requested resource")
            o = api.delete(res, ns, name, body, q, user)
            code = 200
            if res.plural not in ("namespaces", "pods") and o.get("kind") != "Status" and \
                    not (q.get("dryRun")):
                code = 202 if o["metadata"].get("deletionTimestamp") and \
                    "foregroundDeletion" in (o["metadata"].get("finalizers") or []) else 200
            return self.send_json(code, o)
        raise ApiError(405, "MethodNotAllowed", "the server does not allow this method on the "
                       "requested resource")

    def review(self, method, res, body, user, groups):
        if method != "POST":
            raise ApiError(405, "MethodNotAllowed", "the server does not allow this method on "
                           "the requested resource")
        try:
            o = json.loads(body or b"{}")
        except ValueError:
            raise k8s.bad_request("the body of the request was not valid JSON") from None
        o["apiVersion"], o["kind"] = res.api_version, res.kind
        o.setdefault("metadata", {})["creationTimestamp"] = None
        if res.plural == "selfsubjectreviews":
            o["status"] = {"userInfo": {"username": user, "groups": groups}}
            return self.send_json(201, o)
        spec = o.get("spec") or {}
        ra = spec.get("resourceAttributes")
        allowed = "system:masters" in groups
        if not allowed and "sim:viewers" in groups:
            verb = (ra or spec.get("nonResourceAttributes") or {}).get("verb", "")
            allowed = verb in ("get", "list", "watch")
        o["status"] = {"allowed": allowed}
        if allowed:
            o["status"]["reason"] = ('RBAC: allowed by ClusterRoleBinding "cluster-admin" of '
                                     'ClusterRole "cluster-admin" to Group "system:masters"'
                                     if "system:masters" in groups else
                                     'RBAC: allowed by ClusterRoleBinding "sim-view" of '
                                     'ClusterRole "view" to User "%s"' % user)
        return self.send_json(201, o)

    def scale(self, method, res, ns, name, body, q, user):
        if res.plural not in ("deployments", "replicasets"):
            raise ApiError(404, "NotFound", "the server could not find the requested resource")
        api = self.sim.api

        def as_scale(d):
            md = d["metadata"]
            sel = ",".join("%s=%s" % kv for kv in sorted(
                ((d.get("spec") or {}).get("selector") or {}).get("matchLabels", {}).items()))
            return {"kind": "Scale", "apiVersion": "autoscaling/v1",
                    "metadata": {k: md[k] for k in ("name", "namespace", "uid",
                                                    "resourceVersion", "creationTimestamp")},
                    "spec": {"replicas": (d.get("spec") or {}).get("replicas", 1)},
                    "status": {"replicas": (d.get("status") or {}).get("replicas", 0),
                               "selector": sel}}
        d = api.get(res, ns, name)
        if method in ("GET", "HEAD"):
            return self.send_json(200, as_scale(d))
        cur = as_scale(d)
        if method == "PATCH":
            from sim import patch as patchlib
            ctype = (self.headers.get("Content-Type") or "").split(";")[0].strip()
            p = json.loads(body or b"null")
            if ctype == "application/json-patch+json":
                new = patchlib.json_patch(cur, p)
            elif ctype == "application/strategic-merge-patch+json":
                new = patchlib.strategic_merge(cur, p)
            else:
                new = patchlib.merge_patch(cur, p)
        elif method == "PUT":
            new = json.loads(body or b"{}")
        else:
            raise ApiError(405, "MethodNotAllowed", "the server does not allow this method on "
                           "the requested resource")
        n = (new.get("spec") or {}).get("replicas")
        if not isinstance(n, int) or n < 0:
            raise k8s.invalid(res, name, [("spec.replicas", "must be greater than or equal "
                                           "to 0", n)])
        full = json.loads(json.dumps(d))
        full["spec"]["replicas"] = n
        out = api.update(res, ns, name, json.dumps(full).encode(), q, user)
        return self.send_json(200, as_scale(out))

    def wants_table(self):
        acc = self.headers.get("Accept", "")
        for part in acc.split(","):
            ps = [x.strip() for x in part.split(";")]
            if "as=Table" in ps and "g=meta.k8s.io" in ps and ("v=v1" in ps or "v=v1beta1" in ps):
                return True
            if ps[0] in ("application/json", "*/*"):
                return False
        return False

    def pod_log(self, ns, name, q):
        res = k8s.BY_KEY["/pods"]
        pod = self.sim.api.get(res, ns, name)
        text = self.sim.pod_log(pod, q)
        self.send_bytes(200, text.encode(), "text/plain")

    # ---------------------------------------------------------- watch
    def watch(self, res, ns, q):
        store = self.sim.store
        lsel = k8s.parse_label_selector((q.get("labelSelector") or [None])[0])
        fsel = k8s.parse_field_selector(res, (q.get("fieldSelector") or [None])[0])
        rv_param = (q.get("resourceVersion") or [""])[0]
        bookmarks = (q.get("allowWatchBookmarks") or [""])[0] in ("1", "true")
        initial = (q.get("sendInitialEvents") or [""])[0] in ("1", "true")
        try:
            timeout = float((q.get("timeoutSeconds") or ["1800"])[0])
        except ValueError:
            raise k8s.bad_request("invalid timeoutSeconds") from None
        cut = self.sim.faults.get("watch-cut")
        if cut:
            timeout = min(timeout, cut)
        deadline = time.time() + timeout

        def matches(o):
            if o is None:
                return False
            md = o["metadata"]
            if res.namespaced and ns and md.get("namespace") != ns:
                return False
            if lsel and not k8s.label_match(lsel, md.get("labels")):
                return False
            if fsel and not k8s.field_match(fsel, o):
                return False
            return True

        first = []
        with store.lock:
            cur = store.rv
            if rv_param in ("", "0") or initial:
                for _, o in store.items(res, ns if res.namespaced else None):
                    if matches(o):
                        first.append({"type": "ADDED", "object": o})
                pos = cur
            else:
                try:
                    pos = int(rv_param)
                except ValueError:
                    raise k8s.bad_request('resourceVersion: Invalid value: "%s": must be an '
                                          'integer' % rv_param) from None
                if store.events_after(pos) is None:
                    first.append({"type": "ERROR", "object": {
                        "kind": "Status", "apiVersion": "v1", "metadata": {},
                        "status": "Failure",
                        "message": "too old resource version: %d (%d)" % (pos, store.oldest_rv),
                        "reason": "Expired", "code": 410}})
                    pos = None
        self.status_code = 200
        self.send_response(200)
        self.send_header("Content-Type", JSON_CT)
        self.send_header("Cache-Control", "no-cache, private")
        self.send_header("Audit-Id", self.audit_id)
        self.send_header("Transfer-Encoding", "chunked")
        self.end_headers()

        table_mode = self.wants_table()
        include = (q.get("includeObject") or ["Metadata"])[0]
        sent_cols = [False]

        def as_table(ev):
            o = ev["object"]
            if ev["type"] in ("ERROR", "BOOKMARK") or not table_mode:
                return ev
            t = tables.table(res, {"metadata": {"resourceVersion": o["metadata"].get(
                "resourceVersion", "")}, "items": [o]}, include)
            if sent_cols[0]:
                t["columnDefinitions"] = None
            sent_cols[0] = True
            return {"type": ev["type"], "object": t}

        def emit(events):
            if not events:
                return
            events = [as_table(e) for e in events]
            data = b"".join(json.dumps(e, separators=(",", ":")).encode() + b"\n" for e in events)
            self.wfile.write(b"%x\r\n%s\r\n" % (len(data), data))
            self.wfile.flush()

        emit(first)
        if pos is not None and initial and bookmarks:
            emit([{"type": "BOOKMARK", "object": {
                "kind": res.kind, "apiVersion": res.api_version,
                "metadata": {"resourceVersion": str(pos),
                             "annotations": {"k8s.io/initial-events-end": "true"}}}}])
        last_sent = time.time()
        while pos is not None:
            now = time.time()
            if now >= deadline or self.sim.stopping:
                break
            out = []
            with store.cond:
                evs = store.events_after(pos)
                if evs is None:
                    out.append({"type": "ERROR", "object": {
                        "kind": "Status", "apiVersion": "v1", "metadata": {}, "status": "Failure",
                        "message": "too old resource version: %d (%d)" % (pos, store.oldest_rv),
                        "reason": "Expired", "code": 410}})
                    pos = None
                elif not evs:
                    store.cond.wait(min(deadline - now, 1.0))
                    continue
                else:
                    pos = evs[-1].rv
            if evs:
                for ev in evs:
                    if ev.key != res.key:
                        continue
                    om, nm = matches(ev.old), matches(ev.obj)
                    if ev.type == "ADDED" and nm:
                        out.append({"type": "ADDED", "object": ev.obj})
                    elif ev.type == "MODIFIED":
                        if om and nm:
                            out.append({"type": "MODIFIED", "object": ev.obj})
                        elif nm:
                            out.append({"type": "ADDED", "object": ev.obj})
                        elif om:
                            out.append({"type": "DELETED", "object": ev.obj})
                    elif ev.type == "DELETED" and om:
                        out.append({"type": "DELETED", "object": ev.obj})
            if out:
                emit(out)
                last_sent = time.time()
            elif bookmarks and pos is not None and time.time() - last_sent > 5:
                emit([{"type": "BOOKMARK", "object": {
                    "kind": res.kind, "apiVersion": res.api_version,
                    "metadata": {"resourceVersion": str(pos)}}}])
                last_sent = time.time()
        self.wfile.write(b"0\r\n\r\n")
        self.wfile.flush()


def main():
    from sim import cluster_main
    cluster_main.main(sys.argv[1:])


if __name__ == "__main__":
    main()
