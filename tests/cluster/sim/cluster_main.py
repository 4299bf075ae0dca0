"""The server process: set up DIR, start the runtime (PostgreSQL, hub), seed
the objects, serve HTTPS until SIGTERM, then stop everything it started."""

import argparse
import copy
import hashlib
import hmac
import json
import os
import signal
import socket
import ssl
import sys
import threading
import time
import traceback

from . import k8s
from . import setup
from . import seed as seedmod
from .store import Store
from .api import Api
from .faults import Faults
from .controllers import Controllers, DEPLOY, APP, PODS
from .server import SimHTTPServer, Handler, Log


class Sim:
    def __init__(self, d, args):
        self.dir = d
        self.args = args
        self.stopping = False
        self.seed = args.seed
        spec = args.faults or ""
        if args.latency_ms:
            spec = ("latency=%d," % args.latency_ms) + spec
        self.faults = Faults(spec, args.seed)
        self.store = Store(args.seed)
        self.api = Api(self.store, self.faults, args.seed)
        self.log = Log(os.path.join(d, "log", "apiserver.log"))
        self.runtime = None
        self.db = None
        self.port = None
        self.audit_n = 0
        self.audit_lock = threading.Lock()
        self.hub_port = None
        self.argo_desired = seedmod.argo_desired()
        self.argo_kinds = {k8s.res_for(o["apiVersion"], o["kind"]).key for o in self.argo_desired}
        self.controllers = Controllers(self)
        self.tokens = {}
        self.control_token = ""
        self.exec_secret = b""
        self.ready = False      # workloads up: faults that break them may act

    # ------------------------------------------------------------ setup
    def setup_files(self):
        d = self.dir
        setup.make_certs(d)
        self.tokens = setup.make_tokens(d)
        self.control_token = setup.read_token(d, "control")
        with open(os.path.join(d, "tokens", "exec.secret")) as f:
            self.exec_secret = f.read().strip().encode()
        setup.write_credential_plugin(d)
        ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        ctx.minimum_version = ssl.TLSVersion.TLSv1_2
        ctx.load_cert_chain(os.path.join(d, "pki", "server.crt"), os.path.join(d, "pki", "server.key"))
        ctx.load_verify_locations(os.path.join(d, "pki", "ca.crt"))
        ctx.verify_mode = ssl.CERT_OPTIONAL
        ctx.set_alpn_protocols(["http/1.1"])
        self.ssl_ctx = ctx

    def new_audit_id(self):
        with self.audit_lock:
            self.audit_n += 1
            n = self.audit_n
        h = hashlib.sha1(b"%d-%d" % (self.seed, n)).hexdigest()
        return "%s-%s-%s-%s-%s" % (h[:8], h[8:12], h[12:16], h[16:20], h[20:32])

    def check_expiring_token(self, tok):
        parts = tok.split(".")
        if len(parts) != 4 or parts[0] != "simexp":
            return None
        payload = ".".join(parts[:3])
        sig = hmac.new(self.exec_secret, payload.encode(), hashlib.sha256).hexdigest()[:32]
        if not hmac.compare_digest(sig, parts[3]):
            return None
        try:
            exp = int(parts[2]) / 1000.0    # milliseconds
        except ValueError:
            return None
        if time.time() >= exp:
            return None
        return {"user": parts[1], "groups": ["system:masters", "system:authenticated"],
                "kind": "exec-beta"}

    # ------------------------------------------------------------ documents
    def version(self):
        minor = "32"
        git = k8s.GIT_VERSION
        v = self.faults.get("version")
        if v:
            minor = v.split(".")[1]
            git = "v1.%s.4" % minor
        return {"major": "1", "minor": minor, "emulationMajor": "1", "emulationMinor": minor,
                "minCompatibilityMajor": "1", "minCompatibilityMinor": str(int(minor) - 1),
                "gitVersion": git,
                "gitCommit": "59526cd4867447956156ae3a602fcbac5c5d1d79", "gitTreeState": "clean",
                "buildDate": "2025-04-22T16:03:40Z", "goVersion": "go1.23.8",
                "compiler": "gc", "platform": "linux/amd64"}

    def discovery_api(self):
        return {"kind": "APIVersions", "versions": ["v1"],
                "serverAddressByClientCIDRs": [{"clientCIDR": "0.0.0.0/0",
                                                "serverAddress": "127.0.0.1:%d" % self.port}]}

    def _group(self, g, versions):
        return {"name": g, "versions": [{"groupVersion": g + "/" + v, "version": v} for v in versions],
                "preferredVersion": {"groupVersion": g + "/" + versions[0], "version": versions[0]}}

    def discovery_apis(self):
        return {"kind": "APIGroupList", "apiVersion": "v1",
                "groups": [self._group(g, vs) for g, vs in k8s.GROUPS]}

    def discovery_group(self, group):
        for g, vs in k8s.GROUPS:
            if g == group:
                d = self._group(g, vs)
                d.update(kind="APIGroup", apiVersion="v1")
                return d
        return None

    def discovery_resources(self, group, version):
        rs = [r for r in k8s.RESOURCES if r.group == group and r.version == version]
        if not rs:
            return None
        out = []
        for r in rs:
            e = {"name": r.plural, "singularName": r.singular, "namespaced": r.namespaced,
                 "kind": r.kind, "verbs": list(r.verbs)}
            if r.short:
                e["shortNames"] = r.short
            if r.categories:
                e["categories"] = r.categories
            e["storageVersionHash"] = hashlib.sha256(r.key.encode()).hexdigest()[:11]
            out.append(e)
            for sub in r.subresources:
                se = {"name": r.plural + "/" + sub, "singularName": "", "namespaced": r.namespaced,
                      "kind": r.kind, "verbs": ["get", "patch", "update"]}
                if sub == "exec":
                    se.update(kind="PodExecOptions", verbs=["create", "get"])
                elif sub == "log":
                    se.update(verbs=["get"])
                elif sub == "finalize":
                    se.update(verbs=["update"])
                elif sub == "scale":
                    se.update(kind="Scale", group="autoscaling", version="v1")
                out.append(se)
        gv = version if not group else group + "/" + version
        return {"kind": "APIResourceList", "apiVersion": "v1", "groupVersion": gv,
                "resources": out}

    def openapi_v3(self, gv_path):
        """A minimal OpenAPI v3 tree: enough for kubectl to see that the server does
        field validation (PATCH operations with x-kubernetes-group-version-kind and
        the fieldValidation parameter), so `kubectl apply/create -f` validate server-side."""
        gvs = {}
        for r in k8s.RESOURCES:
            if r.virtual:
                continue
            key = "api/v1" if not r.group else "apis/%s/%s" % (r.group, r.version)
            gvs.setdefault(key, []).append(r)
        if not gv_path:
            return {"paths": {k: {"serverRelativeURL": "/openapi/v3/%s?hash=%s" % (
                k, hashlib.sha256(k.encode()).hexdigest()[:32].upper())} for k in sorted(gvs)}}
        rs = gvs.get(gv_path)
        if rs is None:
            return None
        params = [{"name": n, "in": "query", "description": n, "schema": {
            "type": "string", "uniqueItems": True}}
            for n in ("dryRun", "fieldManager", "fieldValidation", "pretty")]
        paths = {}
        for r in rs:
            gvk = {"group": r.group, "version": r.version, "kind": r.kind}
            base = "/" + gv_path + ("/namespaces/{namespace}" if r.namespaced else "")
            for p, verbs in ((base + "/" + r.plural, ("get", "post")),
                             (base + "/" + r.plural + "/{name}", ("get", "put", "patch",
                                                                  "delete"))):
                item = {}
                for v in verbs:
                    item[v] = {"description": "%s %s" % (v, r.kind),
                               "operationId": v + r.kind,
                               "parameters": params if v in ("post", "put", "patch") else [],
                               "responses": {"200": {"description": "OK"}},
                               "x-kubernetes-action": {"get": "get", "post": "post",
                                                       "put": "put", "patch": "patch",
                                                       "delete": "delete"}[v],
                               "x-kubernetes-group-version-kind": gvk}
                paths[p] = item
        return {"openapi": "3.0.0", "info": {"title": "Kubernetes", "version": k8s.GIT_VERSION},
                "paths": paths, "components": {"schemas": {}}}

    def state_json(self):
        items = []
        for res, o in self.store.all_objects():
            items.append(o)
        items.sort(key=lambda o: (o["kind"], o["metadata"].get("namespace", ""),
                                  o["metadata"]["name"]))
        doc = {"apiVersion": "v1", "kind": "List", "items": items,
               "metadata": {"resourceVersion": str(self.store.current_rv())}}
        return json.dumps(doc, sort_keys=True, indent=1) + "\n"

    def info(self):
        return {"port": self.port, "pid": os.getpid(), "faults": self.faults.describe(),
                "hubPort": self.hub_port, "realHub": bool(self.args.real_hub),
                "hubVersion": int(self.args.real_hub) if self.args.real_hub else None}

    def set_faults(self, spec):
        self.faults.set(spec)
        self.apply_fault_side_effects()

    def apply_fault_side_effects(self):
        # argocd-selfheal: the app gets an automated sync policy with selfHeal
        want = bool(self.faults.get("argocd-selfheal"))

        def fn(a):
            spec = a.setdefault("spec", {})
            if want:
                spec.setdefault("syncPolicy", {})["automated"] = {"prune": False,
                                                                 "selfHeal": True}
            else:
                # Phalanx's own: no syncPolicy at all
                (spec.get("syncPolicy") or {}).pop("automated", None)
                if not spec.get("syncPolicy"):
                    spec.pop("syncPolicy", None)
        self.store.update(APP, "argocd", "nublado", fn)
        if want:
            self.controllers.after(0.1, self.controllers.argo_refresh)
        # hub-crashloop: the hub pods there now crash-loop (at `up`, once they are ready)
        if self.faults.get("hub-crashloop") and self.ready:
            self.controllers.kubelet.crash_loop_hubs()
        # a namespace no longer stuck finishes terminating
        for _, o in self.store.items(k8s.BY_KEY["/namespaces"]):
            if o["metadata"].get("deletionTimestamp"):
                self.controllers.after(0.1, self.controllers.finalize_ns, o["metadata"]["name"])

    def pod_log(self, pod, q):
        name = pod["metadata"]["name"]
        path = os.path.join(self.dir, "log", "hub-%s.log" % name)
        try:
            with open(path, errors="replace") as f:
                text = f.read()
        except OSError:
            return ""
        tail = (q.get("tailLines") or [None])[0]
        if tail:
            lines = text.splitlines(True)
            text = "".join(lines[-int(tail):])
        return text

    def on_hub_ready_change(self, pod_name, ready, h):
        if ready:
            self.hub_port = getattr(h, "port", None)
            self.write_env()

    def write_env(self):
        try:
            setup.write_env(self.dir, self.port, self.db, self.hub_port,
                            getattr(self, "hub_keys", None))
        except Exception:
            traceback.print_exc()

    def write_pids(self):
        pids = [os.getpid()]
        if self.runtime is not None:
            try:
                pids += [p for p in self.runtime.pids() if p not in pids]
            except Exception:
                traceback.print_exc()
        lines = []
        for p in pids:
            lines.append("%d %s" % (p, proc_start_time(p)))
        tmp = os.path.join(self.dir, "pids.tmp")
        with open(tmp, "w") as f:
            f.write("\n".join(lines) + "\n")
        os.replace(tmp, os.path.join(self.dir, "pids"))

    # ------------------------------------------------------------ seed
    def seed_objects(self):
        values = setup.hub_secret_values(self.db["url_nopw"] if self.db else
                                         "postgresql://nublado@127.0.0.1/nublado")
        self.hub_keys = seedmod.hub_secret_keys()
        self.write_env()
        for o in seedmod.initial(self.args.labs, values, self.db["password"] if self.db else "x",
                                 self.hub_keys):
            res = k8s.res_for(o["apiVersion"], o["kind"])
            ns = o["metadata"].get("namespace", "")
            status = o.pop("status", None)
            self.api.create(res, ns, o, {}, "system:admin")
            if status is not None:
                self.store.update(res, ns, o["metadata"]["name"],
                                  lambda x, st=status: x.update(status=st))

    def wait_workloads(self, timeout):
        deadline = time.time() + timeout
        while time.time() < deadline:
            ok = True
            for _, d in self.store.items(DEPLOY):
                st = d.get("status") or {}
                if st.get("availableReplicas", 0) < (d.get("spec") or {}).get("replicas", 1) or \
                        st.get("observedGeneration") != d["metadata"].get("generation"):
                    ok = False
            for _, p in self.store.items(PODS):
                if (p.get("status") or {}).get("phase") != "Running":
                    ok = False
            if ok:
                return True
            time.sleep(0.05)
        return False


def proc_start_time(pid):
    try:
        with open("/proc/%d/stat" % pid) as f:
            data = f.read()
        return data.rsplit(")", 1)[1].split()[19]
    except (OSError, IndexError):
        return "0"


def parse_args(argv):
    p = argparse.ArgumentParser(prog="sim-apiserver")
    p.add_argument("dir")
    p.add_argument("--labs", type=int, default=5)
    p.add_argument("--latency-ms", type=int, default=0)
    p.add_argument("--real-hub", nargs="?", const="5", default=None, choices=["3", "5"],
                   help="a real JupyterHub: 5 (Debian 13's, chrooted; the default) or 3 (Debian 12's)")
    p.add_argument("--faults", default="")
    p.add_argument("--seed", type=int, default=1)
    p.add_argument("--port", type=int, default=0)
    p.add_argument("--pg-version", type=int, default=15, choices=range(12, 19),
                   help="the PostgreSQL server's major (clients stay psql/pg_dump 15)")
    p.add_argument("--no-runtime", action="store_true",
                   help="objects only: no PostgreSQL, no hub process (API tests)")
    return p.parse_args(argv)


def fail(d, msg):
    with open(os.path.join(d, "failed"), "w") as f:
        f.write(msg.rstrip() + "\n")
    sys.stderr.write("sim: " + msg + "\n")


def main(argv):
    args = parse_args(argv)
    d = os.path.abspath(args.dir)
    os.makedirs(os.path.join(d, "log"), exist_ok=True)
    for f in ("ready", "failed"):
        try:
            os.unlink(os.path.join(d, f))
        except FileNotFoundError:
            pass
    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *a: stop.set())
    signal.signal(signal.SIGINT, lambda *a: stop.set())
    sim = None
    httpd = None
    served = False
    try:
        t0 = time.time()
        sim = Sim(d, args)
        sim.setup_files()
        httpd = SimHTTPServer(("127.0.0.1", args.port), Handler, sim)
        sim.port = httpd.server_address[1]
        sim.write_pids()
        if not args.no_runtime:
            sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
            from sim.runtime import Runtime
            import shutil
            # every `up` starts from a fresh cluster: no database left from a previous run
            shutil.rmtree(os.path.join(d, "rt"), ignore_errors=True)
            sim.runtime = Runtime(os.path.join(d, "rt"), args.real_hub, args.seed,
                                  os.path.join(d, "log"), pg_version=args.pg_version)
            sim.db = sim.runtime.start_db()
            sim.write_pids()
            sim.runtime.write_pod_files()
        setup.write_phalanx(d, sim.db["url_nopw"] if sim.db else
                            "postgresql://nublado@127.0.0.1/nublado")
        setup.write_kubeconfig(d, sim.port)
        sim.write_env()
        sim.controllers.start()
        sim.seed_objects()
        sim.apply_fault_side_effects()
        th = threading.Thread(target=httpd.serve_forever, kwargs={"poll_interval": 0.2},
                              daemon=True)
        th.start()
        served = True
        if not sim.wait_workloads(28 if args.real_hub else 9):
            raise RuntimeError("workloads did not become ready (see %s/log)" % d)
        if sim.runtime is not None:
            sim.runtime.seed_users(seedmod.users(args.labs))
        sim.controllers.argo_refresh()
        sim.ready = True
        if sim.faults.get("hub-crashloop"):
            sim.controllers.kubelet.crash_loop_hubs()
        sim.write_pids()
        with open(os.path.join(d, "ready.tmp"), "w") as f:
            json.dump({"port": sim.port, "pid": os.getpid(),
                       "seconds": round(time.time() - t0, 2)}, f)
        os.replace(os.path.join(d, "ready.tmp"), os.path.join(d, "ready"))
        sys.stderr.write("sim: ready on port %d after %.2fs\n" % (sim.port, time.time() - t0))
        sys.stderr.flush()
        while not stop.wait(1.0):
            pass
    except Exception as e:
        traceback.print_exc()
        fail(d, "%s: %s" % (type(e).__name__, e))
    finally:
        if sim is not None:
            sim.stopping = True
            sim.controllers.stopping = True
        if httpd is not None:
            try:
                if served:
                    httpd.shutdown()
            except Exception:
                pass
            httpd.server_close()
        if sim is not None:
            sim.controllers.stop_all_hubs()
            if sim.runtime is not None:
                try:
                    sim.runtime.stop()
                except Exception:
                    traceback.print_exc()
        try:
            os.unlink(os.path.join(d, "ready"))
        except FileNotFoundError:
            pass
        sys.stderr.write("sim: stopped\n")
        sys.stderr.flush()
        os._exit(0)
