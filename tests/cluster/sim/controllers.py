"""The cluster's moving parts: namespace finalisation, garbage collection,
the Deployment and ReplicaSet controllers, a kubelet for pods (the hub pod's
process through the runtime), Gafaelfawr's Ingress generation and Argo CD's
sync of the nublado Application."""

import copy
import json
import heapq
import itertools
import threading
import time
import traceback

from . import k8s
from . import seed as seedmod
from .k8s import ApiError

R = k8s.BY_KEY
NS = R["/namespaces"]
PODS = R["/pods"]
DEPLOY = R["apps/deployments"]
RS = R["apps/replicasets"]
ING = R["networking.k8s.io/ingresses"]
GAF = R["gafaelfawr.lsst.io/gafaelfawringresses"]
APP = R["argoproj.io/applications"]


def is_hub_pod(pod):
    md = pod["metadata"]
    lb = md.get("labels") or {}
    return md.get("namespace") == "nublado" and lb.get("app") == "jupyterhub" and \
        lb.get("component") == "hub"


def _cond(conds, type_, status, reason, message, now, with_update=False):
    """Set a condition, keeping transition times unless the status changed."""
    for c in conds:
        if c["type"] == type_:
            if c.get("status") != status:
                c["lastTransitionTime"] = now
            if with_update and (c.get("reason") != reason or c.get("message") != message
                                or c.get("status") != status):
                c["lastUpdateTime"] = now
            c["status"], c["reason"], c["message"] = status, reason, message
            return
    c = {"type": type_, "status": status}
    if with_update:
        c["lastUpdateTime"] = now
    c["lastTransitionTime"] = now
    c["reason"], c["message"] = reason, message
    conds.append(c)


class Controllers:
    def __init__(self, sim):
        self.sim = sim
        self.store = sim.store
        self.lab_appeared = False   # the lab-appears fault fires once
        self.api = sim.api
        self.heap = []
        self.seq = itertools.count()
        self.heap_cond = threading.Condition()
        self.workload_dirty = threading.Event()
        self.hubs = {}  # pod name -> runtime hub handle
        self.hub_lock = threading.Lock()
        self.pod_ip = itertools.count(10)
        self.argo_running = set()
        self.selfheal_pending = False
        self.stopping = False
        self.store.listeners.append(self.on_event)
        self.api.admission.append(self.admit)
        self.api.patch_admission.append(self.admit_patch)

    def start(self):
        for fn in (self._timer_loop, self._workload_loop):
            threading.Thread(target=fn, daemon=True).start()

    # ------------------------------------------------------------ scheduling
    def after(self, delay, fn, *args):
        with self.heap_cond:
            heapq.heappush(self.heap, (time.time() + delay, next(self.seq), fn, args))
            self.heap_cond.notify()

    def _timer_loop(self):
        while not self.stopping:
            with self.heap_cond:
                while not self.heap or self.heap[0][0] > time.time():
                    wait = None if not self.heap else self.heap[0][0] - time.time()
                    self.heap_cond.wait(wait if wait is None else max(wait, 0.001))
                    if self.stopping:
                        return
                _, _, fn, args = heapq.heappop(self.heap)
            try:
                fn(*args)
            except Exception:
                traceback.print_exc()

    def spawn(self, fn, *args):
        def run():
            try:
                fn(*args)
            except Exception:
                traceback.print_exc()
        threading.Thread(target=run, daemon=True).start()

    # ------------------------------------------------------------ events (under store lock)
    def on_event(self, res, ev):
        o, old = ev.obj, ev.old
        md = o["metadata"]
        deleting_now = md.get("deletionTimestamp") and not (old or {}).get("metadata", {}).get(
            "deletionTimestamp")
        if res is NS and ev.type == "MODIFIED" and deleting_now:
            self.after(self.sim.faults.get("ns-delete-delay", 0.5), self.finalize_ns, md["name"])
            user = self.sim.faults.get("lab-appears")
            if (user and not self.lab_appeared and
                    (md.get("labels") or {}).get("nublado.lsst.io/category") == "lab"):
                # a user with a notebook token asks for a lab while the others go
                self.lab_appeared = True
                if self.lab_route_open():
                    self.after(0.2, self.lab_appears, user)
        if ev.type == "DELETED" and md.get("uid") in self.store.owners:
            self.after(0.15, self.gc, md["uid"])
        if ev.type == "MODIFIED" and deleting_now and "foregroundDeletion" in (md.get("finalizers") or []):
            self.after(0.05, self.foreground, res, md.get("namespace", ""), md["name"])
        if res in (DEPLOY, RS, PODS) and (res is not PODS or md.get("ownerReferences")):
            self.workload_dirty.set()
        if res is PODS:
            if ev.type == "ADDED":
                self.after(0.05, self.kubelet_start, md["namespace"], md["name"], md["uid"])
            elif ev.type == "MODIFIED" and deleting_now:
                self.spawn(self.kubelet_stop, md["namespace"], md["name"], md["uid"])
        if res is GAF and ev.type in ("ADDED", "MODIFIED") and not md.get("deletionTimestamp"):
            if ev.type == "ADDED" or old["metadata"].get("generation") != md.get("generation"):
                self.after(0.1, self.gafaelfawr_sync, md["namespace"], md["name"])
        if res is APP and ev.type == "MODIFIED" and o.get("operation") and not (old or {}).get("operation"):
            key = (md["namespace"], md["name"])
            if key not in self.argo_running:
                self.argo_running.add(key)
                self.spawn(self.argo_sync, md["namespace"], md["name"])
        if md.get("namespace") == "nublado" and ev.type in ("ADDED", "DELETED") and \
                res.key in self.sim.argo_kinds:
            self.after(0.05, self.argo_refresh)

    # ------------------------------------------------------------ admission
    def admit_patch(self, res, cur, patch, ctype, user):
        """Argo CD refuses an operation while another one is set or running."""
        if res is not APP:
            return
        sets_op = False
        if isinstance(patch, dict):
            sets_op = patch.get("operation") is not None
        elif isinstance(patch, list):
            sets_op = any(isinstance(x, dict) and x.get("op") in ("add", "replace") and
                          str(x.get("path", "")).startswith("/operation") for x in patch)
        running = ((cur.get("status") or {}).get("operationState") or {}).get("phase") == "Running"
        if sets_op and (cur.get("operation") or running):
            raise ApiError(409, "Conflict", "another operation is already in progress",
                           {"name": cur["metadata"]["name"], "group": "argoproj.io",
                            "kind": "applications"})

    def admit(self, res, op, old, new, user):
        if res is APP and op == "UPDATE" and new.get("operation") and old.get("operation") and \
                new.get("operation") != old.get("operation"):
            raise ApiError(409, "Conflict", "another operation is already in progress",
                           {"name": old["metadata"]["name"], "group": "argoproj.io",
                            "kind": "applications"})
        if res is APP and op == "UPDATE" and new.get("operation") and not old.get("operation"):
            phase = ((old.get("status") or {}).get("operationState") or {}).get("phase")
            if phase == "Running":
                raise ApiError(409, "Conflict", "another operation is already in progress",
                               {"name": old["metadata"]["name"], "group": "argoproj.io",
                                "kind": "applications"})

    # ------------------------------------------------------------ namespaces
    def finalize_ns(self, name):
        o = self.store.get(NS, "", name)
        if o is None or not o["metadata"].get("deletionTimestamp"):
            return
        stuck = name in (self.sim.faults.get("stuck-ns") or [])
        content = self.store.in_namespace(name)
        if stuck or o["metadata"].get("finalizers"):
            self._ns_conditions(name, content, stuck)
            self.after(1.0, self.finalize_ns, name)
            return
        # delete the content, pods through the kubelet, then the namespace itself
        waiting = False
        for res, obj in content:
            md = obj["metadata"]
            if res is PODS and md["name"] in self.hubs:
                if not md.get("deletionTimestamp"):
                    self.store.update(PODS, name, md["name"], lambda p: p["metadata"].update(
                        deletionTimestamp=k8s.rfc3339(), deletionGracePeriodSeconds=0))
                waiting = True
                continue
            self.store.remove(res, name, md["name"])
        if waiting:
            self.after(0.2, self.finalize_ns, name)
            return
        if self.store.in_namespace(name):
            self.after(0.1, self.finalize_ns, name)
            return
        self.store.remove(NS, "", name)

    def _ns_conditions(self, name, content, stuck):
        now = k8s.rfc3339()
        n = max(1, len(content))
        kinds = sorted({r.plural + ("." + r.group if r.group else "") for r, _ in content}) or ["pods"]

        def fn(o):
            conds = (o.setdefault("status", {})).setdefault("conditions", [])
            if conds:
                return False
            conds.extend([
                {"type": "NamespaceDeletionDiscoveryFailure", "status": "False",
                 "lastTransitionTime": now, "reason": "ResourcesDiscovered",
                 "message": "All resources successfully discovered"},
                {"type": "NamespaceDeletionGroupVersionParsingFailure", "status": "False",
                 "lastTransitionTime": now, "reason": "ParsedGroupVersions",
                 "message": "All legacy kube types successfully parsed"},
                {"type": "NamespaceDeletionContentFailure", "status": "False",
                 "lastTransitionTime": now, "reason": "ContentDeleted",
                 "message": "All content successfully deleted, may be waiting on finalization"},
                {"type": "NamespaceContentRemaining", "status": "True",
                 "lastTransitionTime": now, "reason": "SomeResourcesRemain",
                 "message": "Some resources are remaining: %s has %d resource instances"
                            % (kinds[0], n)},
                {"type": "NamespaceFinalizersRemaining", "status": "True",
                 "lastTransitionTime": now, "reason": "SomeFinalizersRemain",
                 "message": "Some content in the namespace has finalizers remaining: "
                            "sim.lsst.io/stuck in %d resource instances" % n},
            ])
        self.store.update(NS, "", name, fn)

    # ------------------------------------------------------------ garbage collection
    def gc(self, uid):
        for res, dep in self.store.dependents(uid):
            md = dep["metadata"]
            ns = md.get("namespace", "")
            refs = md.get("ownerReferences") or []
            alive = []
            for r in refs:
                if r.get("uid") == uid:
                    continue
                ores = k8s.res_for(r.get("apiVersion"), r.get("kind"))
                if ores is None:
                    continue
                o = self.store.get(ores, ns if ores.namespaced else "", r.get("name"))
                if o is not None and o["metadata"]["uid"] == r.get("uid"):
                    alive.append(r)
            if alive:
                def drop(o, uid=uid):
                    o["metadata"]["ownerReferences"] = [
                        r for r in o["metadata"]["ownerReferences"] if r.get("uid") != uid]
                self.store.update(res, ns, md["name"], drop)
                continue
            try:
                self.api.delete(res, ns, md["name"], b'{"propagationPolicy":"Background"}', {},
                                "system:serviceaccount:kube-system:generic-garbage-collector")
            except ApiError:
                pass

    def foreground(self, res, ns, name):
        o = self.store.get(res, ns, name)
        if o is None:
            return
        deps = self.store.dependents(o["metadata"]["uid"])
        if deps:
            for dres, dep in deps:
                if not dep["metadata"].get("deletionTimestamp"):
                    try:
                        self.api.delete(dres, dep["metadata"].get("namespace", ""),
                                        dep["metadata"]["name"],
                                        b'{"propagationPolicy":"Foreground"}', {})
                    except ApiError:
                        pass
            self.after(0.2, self.foreground, res, ns, name)
            return
        with self.store.lock:
            o = self.store.get(res, ns, name)
            if o is None:
                return
            fins = [f for f in o["metadata"].get("finalizers") or [] if f != "foregroundDeletion"]
            if fins:
                self.store.update(res, ns, name, lambda x: x["metadata"].update(finalizers=fins))
            else:
                self.store.remove(res, ns, name)

    # ------------------------------------------------------------ kubelet
    def kubelet_start(self, ns, name, uid):
        pod = self.store.get(PODS, ns, name)
        if pod is None or pod["metadata"]["uid"] != uid or pod["metadata"].get("deletionTimestamp"):
            return
        if (pod.get("status") or {}).get("phase") not in (None, "Pending"):
            return
        if is_hub_pod(pod) and self.sim.runtime is not None:
            self.spawn(self._run_hub_pod, ns, name, uid)
            return
        self._set_running(ns, name, uid, ready=True)

    def _pod_ip(self):
        n = next(self.pod_ip)
        return "10.244.%d.%d" % (n // 250, n % 250 + 2)

    def _set_running(self, ns, name, uid, ready, started=True):
        now = k8s.rfc3339()
        ip = self._pod_ip()

        def fn(p):
            if p["metadata"]["uid"] != uid:
                return False
            spec = p.get("spec") or {}
            st = p.setdefault("status", {})
            st["phase"] = "Running"
            st.setdefault("hostIP", "10.0.0.2")
            st.setdefault("hostIPs", [{"ip": "10.0.0.2"}])
            if "podIP" not in st:
                st["podIP"] = ip
                st["podIPs"] = [{"ip": ip}]
            st.setdefault("startTime", now)
            st.setdefault("qosClass", "Burstable" if any(
                c.get("resources") for c in spec.get("containers") or []) else "BestEffort")
            conds = st.setdefault("conditions", [])
            for t, v in (("PodReadyToStartContainers", "True"), ("Initialized", "True"),
                         ("Ready", "True" if ready else "False"),
                         ("ContainersReady", "True" if ready else "False"),
                         ("PodScheduled", "True")):
                c = next((c for c in conds if c["type"] == t), None)
                if c is None:
                    c = {"type": t, "status": v, "lastProbeTime": None, "lastTransitionTime": now}
                    if v == "False":
                        c["reason"] = "ContainersNotReady"
                        c["message"] = "containers with unready status: [%s]" % " ".join(
                            x["name"] for x in spec.get("containers") or [])
                    conds.append(c)
                elif c["status"] != v:
                    c["status"] = v
                    c["lastTransitionTime"] = now
                    c.pop("reason", None)
                    c.pop("message", None)
                    if v == "False":
                        c["reason"] = "ContainersNotReady"
                        c["message"] = "containers with unready status: [%s]" % " ".join(
                            x["name"] for x in spec.get("containers") or [])
            order = ["PodReadyToStartContainers", "Initialized", "Ready", "ContainersReady",
                     "PodScheduled"]
            conds.sort(key=lambda c: order.index(c["type"]) if c["type"] in order else 99)
            css = []
            old = {c["name"]: c for c in st.get("containerStatuses") or []}
            for c in spec.get("containers") or []:
                o = old.get(c["name"]) or {}
                css.append({
                    "name": c["name"],
                    "state": o.get("state") or {"running": {"startedAt": now}},
                    "lastState": o.get("lastState", {}),
                    "ready": ready,
                    "restartCount": o.get("restartCount", 0),
                    "image": c.get("image", ""),
                    "imageID": o.get("imageID") or (c.get("image", "").split(":")[0] +
                                                    "@sha256:" + (p["metadata"]["uid"].replace("-", "") * 2)[:64]),
                    "containerID": o.get("containerID") or ("containerd://" + (
                        p["metadata"]["uid"].replace("-", "") * 2)[:64]),
                    "started": started,
                })
            st["containerStatuses"] = css
        self.store.update(PODS, ns, name, fn)

    def _run_hub_pod(self, ns, name, uid):
        rt = self.sim.runtime
        try:
            h = rt.start_hub(name)
        except Exception as e:
            traceback.print_exc()
            self._pod_failed(ns, name, uid, str(e))
            return
        with self.hub_lock:
            self.hubs[name] = h
        self.sim.write_pids()
        self._set_running(ns, name, uid, ready=False)
        t0 = time.time()
        ready = False
        while True:
            pod = self.store.get(PODS, ns, name)
            if pod is None or pod["metadata"]["uid"] != uid or pod["metadata"].get("deletionTimestamp"):
                return  # the kubelet_stop thread stops the process
            ok = h.ready()
            delay = self.sim.faults.get("hub-unready") or 0
            if ok and time.time() - t0 < delay:
                ok = False
            if ok != ready:
                ready = ok
                self._set_running(ns, name, uid, ready=ready)
                self.sim.on_hub_ready_change(name, ready, h)
            if not h.alive():
                self._container_died(ns, name, uid, h)
                return
            time.sleep(0.1 if not ready else 0.5)

    def _container_died(self, ns, name, uid, h):
        now = k8s.rfc3339()
        rc = h.returncode

        def fn(p):
            st = p.get("status") or {}
            for cs in st.get("containerStatuses") or []:
                cs["ready"] = False
                cs["started"] = False
                cs["lastState"] = {"terminated": {"exitCode": rc if rc is not None else 137,
                                                  "reason": "Error", "finishedAt": now}}
                cs["state"] = {"waiting": {"reason": "CrashLoopBackOff",
                                           "message": "back-off 10s restarting failed container"}}
                cs["restartCount"] = cs.get("restartCount", 0) + 1
            for c in st.get("conditions") or []:
                if c["type"] in ("Ready", "ContainersReady") and c["status"] == "True":
                    c["status"] = "False"
                    c["lastTransitionTime"] = now
                    c["reason"] = "ContainersNotReady"
                    c["message"] = "containers with unready status: [hub]"
        self.store.update(PODS, ns, name, fn)
        # restartPolicy Always: the kubelet starts the container again
        time.sleep(1.0)
        pod = self.store.get(PODS, ns, name)
        if pod is None or pod["metadata"]["uid"] != uid or pod["metadata"].get("deletionTimestamp"):
            return

        def running(p):
            for cs in (p.get("status") or {}).get("containerStatuses") or []:
                cs["state"] = {"running": {"startedAt": k8s.rfc3339()}}
        self.store.update(PODS, ns, name, running)
        self._run_hub_pod_again(ns, name, uid)

    def _run_hub_pod_again(self, ns, name, uid):
        def fn(p):
            p["status"]["phase"] = "Pending"
        self._run_hub_pod(ns, name, uid)

    def _pod_failed(self, ns, name, uid, msg):
        def fn(p):
            st = p.setdefault("status", {})
            st["phase"] = "Pending"
            st["containerStatuses"] = [{"name": c["name"], "ready": False, "restartCount": 0,
                                        "started": False, "image": c.get("image", ""),
                                        "imageID": "", "state": {"waiting": {
                                            "reason": "CreateContainerError", "message": msg}}}
                                       for c in (p.get("spec") or {}).get("containers") or []]
        self.store.update(PODS, ns, name, fn)

    def kubelet_stop(self, ns, name, uid):
        with self.hub_lock:
            h = self.hubs.pop(name, None)
        if h is not None:
            try:
                h.stop()
            except Exception:
                traceback.print_exc()
            self.sim.on_hub_ready_change(name, False, h)
        else:
            time.sleep(0.1)
        with self.store.lock:
            pod = self.store.get(PODS, ns, name)
            if pod is not None and pod["metadata"]["uid"] == uid:
                self.store.remove(PODS, ns, name)

    def stop_all_hubs(self):
        with self.hub_lock:
            hs = list(self.hubs.values())
            self.hubs.clear()
        for h in hs:
            try:
                h.stop()
            except Exception:
                pass

    # ------------------------------------------------------------ workloads
    def _workload_loop(self):
        while not self.stopping:
            self.workload_dirty.wait(0.5)
            self.workload_dirty.clear()
            try:
                for _ in range(3):
                    for _, d in self.store.items(DEPLOY):
                        self.sync_deployment(d["metadata"]["namespace"], d["metadata"]["name"])
                    for _, rs in self.store.items(RS):
                        self.sync_replicaset(rs["metadata"]["namespace"], rs["metadata"]["name"])
            except Exception:
                traceback.print_exc()
            time.sleep(0.02)

    def _owned(self, owner, res):
        return [o for r, o in self.store.dependents(owner["metadata"]["uid"]) if r is res]

    def sync_replicaset(self, ns, name):
        rs = self.store.get(RS, ns, name)
        if rs is None or rs["metadata"].get("deletionTimestamp"):
            return
        pods = self._owned(rs, PODS)
        active = [p for p in pods if not p["metadata"].get("deletionTimestamp") and
                  (p.get("status") or {}).get("phase") not in ("Succeeded", "Failed")]
        want = (rs.get("spec") or {}).get("replicas", 1)
        if len(active) < want:
            for _ in range(want - len(active)):
                self._create_pod(rs)
        elif len(active) > want:
            # prefer deleting pods that are not ready, then the newest
            def rank(p):
                return (_pod_ready(p), p["metadata"]["creationTimestamp"])
            for p in sorted(active, key=rank)[: len(active) - want]:
                try:
                    self.api.delete(PODS, ns, p["metadata"]["name"], b"", {})
                except ApiError:
                    pass
        pods = self._owned(rs, PODS)
        active = [p for p in pods if not p["metadata"].get("deletionTimestamp") and
                  (p.get("status") or {}).get("phase") not in ("Succeeded", "Failed")]
        ready = sum(1 for p in active if _pod_ready(p))
        status = {"replicas": len(active), "fullyLabeledReplicas": len(active),
                  "readyReplicas": ready, "availableReplicas": ready,
                  "observedGeneration": rs["metadata"].get("generation", 1)}
        status = {k: v for k, v in status.items() if v or k in ("replicas",)}

        def fn(o):
            if o.get("status") == status:
                return False
            o["status"] = status
        self.store.update(RS, ns, name, fn)

    def _create_pod(self, rs):
        md = rs["metadata"]
        tmpl = copy.deepcopy(rs["spec"]["template"])
        pmd = tmpl.get("metadata") or {}
        name = md["name"] + "-" + self.api.rand_suffix(5)
        pod = {"apiVersion": "v1", "kind": "Pod",
               "metadata": {"name": name, "generateName": md["name"] + "-",
                            "namespace": md["namespace"],
                            "labels": dict(pmd.get("labels") or {}),
                            "ownerReferences": [{"apiVersion": "apps/v1", "kind": "ReplicaSet",
                                                 "name": md["name"], "uid": md["uid"],
                                                 "controller": True,
                                                 "blockOwnerDeletion": True}]},
               "spec": tmpl.get("spec") or {},
               "status": {"phase": "Pending", "conditions": [
                   {"type": "PodScheduled", "status": "True", "lastProbeTime": None,
                    "lastTransitionTime": k8s.rfc3339()}], "qosClass": "BestEffort"}}
        if pmd.get("annotations"):
            pod["metadata"]["annotations"] = dict(pmd["annotations"])
        pod["spec"]["nodeName"] = "sim-node"
        pod["spec"].setdefault("serviceAccountName", "default")
        pod["spec"].setdefault("serviceAccount", pod["spec"]["serviceAccountName"])
        pod["spec"].setdefault("enableServiceLinks", True)
        pod["spec"].setdefault("preemptionPolicy", "PreemptLowerPriority")
        pod["spec"].setdefault("priority", 0)
        pod["spec"].setdefault("tolerations", [
            {"key": "node.kubernetes.io/not-ready", "operator": "Exists", "effect": "NoExecute",
             "tolerationSeconds": 300},
            {"key": "node.kubernetes.io/unreachable", "operator": "Exists",
             "effect": "NoExecute", "tolerationSeconds": 300}])
        try:
            self.api.create(PODS, md["namespace"], pod, {},
                            "system:serviceaccount:kube-system:replicaset-controller")
        except ApiError:
            traceback.print_exc()

    def sync_deployment(self, ns, name):
        d = self.store.get(DEPLOY, ns, name)
        if d is None or d["metadata"].get("deletionTimestamp"):
            return
        spec = d.get("spec") or {}
        desired = spec.get("replicas", 1)
        tmpl = spec.get("template") or {}
        rss = self._owned(d, RS)
        h = k8s.pod_template_hash(tmpl)
        new = next((rs for rs in rss if (rs["metadata"].get("labels") or {}).get(
            "pod-template-hash") == h), None)
        old = [rs for rs in rss if rs is not new]
        created = False
        if spec.get("paused"):
            self._deployment_status(d, new, rss, paused=True)
            return
        recreate = (spec.get("strategy") or {}).get("type") == "Recreate"
        if new is None:
            rev = 1 + max([int((rs["metadata"].get("annotations") or {}).get(
                "deployment.kubernetes.io/revision", "0")) for rs in rss] or [0])
            new = self._create_rs(d, h, rev, 0 if recreate else desired)
            if new is None:
                return
            created = True
            rss = rss + [new]

            def setrev(o):
                o["metadata"].setdefault("annotations", {})[
                    "deployment.kubernetes.io/revision"] = str(rev)
            self.store.update(DEPLOY, ns, name, setrev)
        else:
            rev = int((new["metadata"].get("annotations") or {}).get(
                "deployment.kubernetes.io/revision", "1"))
            cur = int((d["metadata"].get("annotations") or {}).get(
                "deployment.kubernetes.io/revision", "0"))
            if cur != rev:
                # a rollback to an older template: the old RS becomes the newest revision
                rev = 1 + max(int((rs["metadata"].get("annotations") or {}).get(
                    "deployment.kubernetes.io/revision", "0")) for rs in rss)
                self._scale(new, None, rev)
                self.store.update(DEPLOY, ns, name, lambda o: o["metadata"].setdefault(
                    "annotations", {}).update({"deployment.kubernetes.io/revision": str(rev)}))
        if recreate:
            for rs in old:
                if (rs.get("spec") or {}).get("replicas", 0) > 0:
                    self._scale(rs, 0)
            old_pods = [p for rs in old for p in self._owned(rs, PODS)]
            if not old_pods and (new.get("spec") or {}).get("replicas") != desired:
                self._scale(new, desired)
        else:
            if (new.get("spec") or {}).get("replicas") != desired:
                self._scale(new, desired)
            nr = self.store.get(RS, ns, new["metadata"]["name"]) or new
            if (nr.get("status") or {}).get("availableReplicas", 0) >= desired:
                for rs in old:
                    if (rs.get("spec") or {}).get("replicas", 0) > 0:
                        self._scale(rs, 0)
        # history limit
        limit = spec.get("revisionHistoryLimit", 10)
        idle = sorted([rs for rs in old if (rs.get("spec") or {}).get("replicas", 0) == 0 and
                       not self._owned(rs, PODS)],
                      key=lambda rs: int((rs["metadata"].get("annotations") or {}).get(
                          "deployment.kubernetes.io/revision", "0")))
        for rs in idle[: max(0, len(idle) - limit)]:
            self.store.remove(RS, ns, rs["metadata"]["name"])
        rss = self._owned(self.store.get(DEPLOY, ns, name) or d, RS)
        new = next((rs for rs in rss if (rs["metadata"].get("labels") or {}).get(
            "pod-template-hash") == h), None)
        self._deployment_status(self.store.get(DEPLOY, ns, name) or d, new, rss,
                                created=created)

    def _create_rs(self, d, h, rev, replicas):
        md = d["metadata"]
        tmpl = copy.deepcopy(d["spec"]["template"])
        tmpl.setdefault("metadata", {}).setdefault("labels", {})["pod-template-hash"] = h
        sel = copy.deepcopy(d["spec"].get("selector") or {})
        sel.setdefault("matchLabels", {})["pod-template-hash"] = h
        labels = dict(tmpl["metadata"]["labels"])
        rs = {"apiVersion": "apps/v1", "kind": "ReplicaSet",
              "metadata": {"name": md["name"] + "-" + h, "namespace": md["namespace"],
                           "labels": labels,
                           "annotations": {
                               "deployment.kubernetes.io/desired-replicas": str(
                                   d["spec"].get("replicas", 1)),
                               "deployment.kubernetes.io/max-replicas": str(
                                   d["spec"].get("replicas", 1) + (0 if (d["spec"].get(
                                       "strategy") or {}).get("type") == "Recreate" else 1)),
                               "deployment.kubernetes.io/revision": str(rev)},
                           "ownerReferences": [{"apiVersion": "apps/v1", "kind": "Deployment",
                                                "name": md["name"], "uid": md["uid"],
                                                "controller": True, "blockOwnerDeletion": True}]},
              "spec": {"replicas": replicas, "selector": sel, "template": tmpl}}
        try:
            return self.api.create(RS, md["namespace"], rs, {},
                                   "system:serviceaccount:kube-system:deployment-controller")
        except ApiError:
            traceback.print_exc()
            return None

    def _scale(self, rs, n, rev=None):
        def fn(o):
            if n is not None:
                o["spec"]["replicas"] = n
            if rev is not None:
                o["metadata"].setdefault("annotations", {})[
                    "deployment.kubernetes.io/revision"] = str(rev)
        self.store.update(RS, rs["metadata"]["namespace"], rs["metadata"]["name"], fn)

    def _deployment_status(self, d, new, rss, paused=False, created=False):
        spec = d.get("spec") or {}
        desired = spec.get("replicas", 1)
        replicas = sum((rs.get("status") or {}).get("replicas", 0) for rs in rss)
        updated = (new.get("status") or {}).get("replicas", 0) if new else 0
        ready = sum((rs.get("status") or {}).get("readyReplicas", 0) for rs in rss)
        available = sum((rs.get("status") or {}).get("availableReplicas", 0) for rs in rss)
        strat = spec.get("strategy") or {}
        max_unavail = 0
        if strat.get("type", "RollingUpdate") == "RollingUpdate":
            mu = (strat.get("rollingUpdate") or {}).get("maxUnavailable", "25%")
            if isinstance(mu, str) and mu.endswith("%"):
                max_unavail = desired * int(mu[:-1]) // 100
            else:
                max_unavail = int(mu)
        now = k8s.rfc3339()
        nname = new["metadata"]["name"] if new else ""
        complete = new is not None and updated == desired and replicas == updated and \
            available >= desired

        def fn(o):
            st = copy.deepcopy(o.get("status") or {})
            st["observedGeneration"] = o["metadata"].get("generation", 1)
            for k, v in (("replicas", replicas), ("updatedReplicas", updated),
                         ("readyReplicas", ready), ("availableReplicas", available),
                         ("unavailableReplicas", max(desired - available, 0))):
                if v:
                    st[k] = v
                else:
                    st.pop(k, None)
            conds = st.setdefault("conditions", [])
            if available >= desired - max_unavail:
                _cond(conds, "Available", "True", "MinimumReplicasAvailable",
                      "Deployment has minimum availability.", now, True)
            else:
                _cond(conds, "Available", "False", "MinimumReplicasUnavailable",
                      "Deployment does not have minimum availability.", now, True)
            if paused:
                _cond(conds, "Progressing", "Unknown", "DeploymentPaused",
                      "Deployment is paused", now, True)
            elif complete:
                _cond(conds, "Progressing", "True", "NewReplicaSetAvailable",
                      'ReplicaSet "%s" has successfully progressed.' % nname, now, True)
            elif created:
                _cond(conds, "Progressing", "True", "NewReplicaSetCreated",
                      'Created new replica set "%s"' % nname, now, True)
            elif new is not None:
                _cond(conds, "Progressing", "True", "ReplicaSetUpdated",
                      'ReplicaSet "%s" is progressing.' % nname, now, True)
            conds.sort(key=lambda c: {"Available": 0, "Progressing": 1}.get(c["type"], 2))
            if st == o.get("status"):
                return False
            o["status"] = st
        self.store.update(DEPLOY, d["metadata"]["namespace"], d["metadata"]["name"], fn)

    # ------------------------------------------------------------ Gafaelfawr
    def gafaelfawr_sync(self, ns, name):
        gi = self.store.get(GAF, ns, name)
        if gi is None or gi["metadata"].get("deletionTimestamp"):
            return
        tmpl = gi.get("template") or {}
        tmd = tmpl.get("metadata") or {}
        iname = tmd.get("name") or name
        cfg = gi.get("config") or {}
        scopes = ((cfg.get("scopes") or {}).get("all") or (cfg.get("scopes") or {}).get("any")
                  or [])
        base = cfg.get("baseUrl", "https://" + seedmod.HOST)
        q = "&".join("scope=" + s.replace(":", "%3A") for s in scopes)
        ann = {
            "nginx.ingress.kubernetes.io/auth-method": "GET",
            "nginx.ingress.kubernetes.io/auth-response-headers":
                "Authorization,Cookie,X-Auth-Request-Email,X-Auth-Request-Service,"
                "X-Auth-Request-Token,X-Auth-Request-User",
            "nginx.ingress.kubernetes.io/auth-url":
                "http://gafaelfawr.gafaelfawr.svc.cluster.local:8080/ingress/auth?" + q,
            "nginx.ingress.kubernetes.io/configuration-snippet":
                "auth_request_set $auth_error_body $upstream_http_x_error_body;\n"
                "error_page 403 = @autherror;\n",
        }
        if cfg.get("loginRedirect"):
            ann["nginx.ingress.kubernetes.io/auth-signin"] = base.rstrip("/") + "/login"
        ann.update(tmd.get("annotations") or {})
        labels = dict(tmd.get("labels") or {})
        ing = {"apiVersion": "networking.k8s.io/v1", "kind": "Ingress",
               "metadata": {"name": iname, "namespace": ns, "annotations": ann,
                            "ownerReferences": [{
                                "apiVersion": "gafaelfawr.lsst.io/v1alpha1",
                                "kind": "GafaelfawrIngress", "name": name,
                                "uid": gi["metadata"]["uid"], "controller": True,
                                "blockOwnerDeletion": True}]},
               "spec": dict(copy.deepcopy(tmpl.get("spec") or {}), ingressClassName="nginx"),
               "status": {"loadBalancer": {"ingress": [{"ip": "10.0.0.100"}]}}}
        if labels:
            ing["metadata"]["labels"] = labels
        cur = self.store.get(ING, ns, iname)
        if cur is None:
            try:
                o = self.api.create(ING, ns, ing, {}, "system:serviceaccount:gafaelfawr:gafaelfawr-operator")
                self.store.update(ING, ns, iname, lambda x: x.update(status=ing["status"]))
            except ApiError:
                return
        else:
            def fn(o):
                o["metadata"]["annotations"] = ann
                o["metadata"]["ownerReferences"] = ing["metadata"]["ownerReferences"]
                o["spec"] = ing["spec"]
                if labels:
                    o["metadata"]["labels"] = labels
            self.store.update(ING, ns, iname, fn)
        o = self.store.get(ING, ns, iname)
        gen = gi["metadata"].get("generation", 1)
        now = k8s.rfc3339()

        def status(g):
            verb = "update" if (g.get("status") or {}).get("create") else "create"
            g["status"] = {verb: {"lastTransitionTime": now,
                                  "message": "Ingress was %sd" % verb,
                                  "observedGeneration": gen, "reason": "Success",
                                  "resourceVersion": o["metadata"]["resourceVersion"] if o else "",
                                  "status": "True", "type": "ResourcesCreated"}}
        if o is not None:
            self.store.update(GAF, ns, name, status)

    # ------------------------------------------------------------ the controller's labs
    def lab_route_open(self):
        """Whether a GafaelfawrIngress still routes lab creation (upstream's
        nublado-controller-user: .../spawner/v1/labs/.*/create)."""
        for _, gi in self.store.items(GAF, "nublado"):
            text = json.dumps(gi.get("template") or {})
            if "/spawner/v1/labs/" in text and "/create" in text:
                return True
        return False

    def lab_appears(self, user):
        """The Nublado controller makes a lab: its namespace and its pod."""
        name = "%s-%s" % (seedmod.PREFIX, user)
        try:
            self.api.create(NS, "", seedmod.ns(name, {
                "nublado.lsst.io/category": "lab", "nublado.lsst.io/user": user,
                "argocd.argoproj.io/instance": "nublado-users"}), {},
                "system:serviceaccount:nublado:nublado-controller")
            self.api.create(PODS, name, seedmod.lab_pod(user, name), {},
                            "system:serviceaccount:nublado:nublado-controller")
        except ApiError:
            pass

    # ------------------------------------------------------------ Argo CD
    def _missing(self, app, only=None):
        dest = ((app.get("spec") or {}).get("destination") or {}).get("namespace", "nublado")
        out = []
        for o in self.sim.argo_desired:
            res = k8s.res_for(o["apiVersion"], o["kind"])
            ns = o["metadata"].get("namespace", dest)
            n = o["metadata"]["name"]
            if only is not None and not any(
                    (r.get("kind") == o["kind"] and r.get("name") == n and
                     r.get("group", "") == res.group and r.get("namespace", ns) == ns)
                    for r in only):
                continue
            out.append((res, ns, o, self.store.get(res, ns, n) is None))
        return out

    def argo_refresh(self):
        app = self.store.get(APP, "argocd", "nublado")
        if app is None:
            return
        items = self._missing(app)
        missing = [x for x in items if x[3]]
        resources = [{"group": res.group, "version": res.version, "kind": o["kind"],
                      "namespace": ns, "name": o["metadata"]["name"],
                      "status": "OutOfSync" if miss else "Synced",
                      "health": {"status": "Missing" if miss else "Healthy"}}
                     for res, ns, o, miss in items]
        for r in resources:
            if r["kind"] in ("ConfigMap",):
                r.pop("health")
            if r["group"] == "":
                del r["group"]

        def fn(a):
            st = a.setdefault("status", {})
            st.setdefault("sync", {})["status"] = "OutOfSync" if missing else "Synced"
            st.setdefault("health", {})["status"] = "Missing" if missing else "Healthy"
            st["resources"] = resources
        self.store.update(APP, "argocd", "nublado", fn)
        auto = ((app.get("spec") or {}).get("syncPolicy") or {}).get("automated") or {}
        if missing and auto.get("selfHeal") and not self.selfheal_pending:
            self.selfheal_pending = True
            self.after(3.0, self._selfheal)

    def _selfheal(self):
        self.selfheal_pending = False
        app = self.store.get(APP, "argocd", "nublado")
        if app is None or app.get("operation"):
            return
        auto = ((app.get("spec") or {}).get("syncPolicy") or {}).get("automated") or {}
        if not auto.get("selfHeal"):
            return
        if not any(x[3] for x in self._missing(app)):
            return
        op = {"initiatedBy": {"automated": True}, "retry": {"limit": 5},
              "sync": {"revision": (app.get("status") or {}).get("sync", {}).get("revision", ""),
                       "syncStrategy": {"hook": {}}}}
        try:
            self.store.update(APP, "argocd", "nublado", lambda a: a.update(operation=op))
        except ApiError:
            pass

    def argo_sync(self, ns, name):
        try:
            self._argo_sync(ns, name)
        finally:
            self.argo_running.discard((ns, name))

    def _argo_sync(self, ns, name):
        app = self.store.get(APP, ns, name)
        if app is None or not app.get("operation"):
            return
        op = copy.deepcopy(app["operation"])
        started = k8s.rfc3339()
        rev = ((app.get("status") or {}).get("sync") or {}).get("revision", "")

        def running(a):
            st = a.setdefault("status", {})
            st["operationState"] = {"operation": op, "phase": "Running",
                                    "message": "one or more tasks are running",
                                    "startedAt": started}
        self.store.update(APP, ns, name, running)
        time.sleep(0.4)
        only = (op.get("sync") or {}).get("resources")
        results = []
        if name == "nublado":
            for res, rns, o, miss in self._missing(app, only):
                kindq = o["kind"].lower() + ("." + res.group if res.group else "")
                msg = "%s/%s unchanged" % (kindq, o["metadata"]["name"])
                if miss:
                    try:
                        self.api.create(res, rns, copy.deepcopy(o), {},
                                        "system:serviceaccount:argocd:argocd-application-controller")
                        msg = "%s/%s created" % (kindq, o["metadata"]["name"])
                    except ApiError as e:
                        msg = e.message
                r = {"group": res.group, "version": res.version, "kind": o["kind"],
                     "namespace": rns, "name": o["metadata"]["name"], "status": "Synced",
                     "message": msg, "hookPhase": "Running", "syncPhase": "Sync"}
                results.append(r)
        time.sleep(0.3)
        finished = k8s.rfc3339()

        def done(a):
            a.pop("operation", None)
            st = a.setdefault("status", {})
            st["operationState"] = {
                "operation": op, "phase": "Succeeded",
                "message": "successfully synced (all tasks run)",
                "startedAt": started, "finishedAt": finished,
                "syncResult": {"resources": results, "revision": rev,
                               "source": copy.deepcopy((a.get("spec") or {}).get("source"))}}
            hist = st.setdefault("history", [])
            hist.append({"id": len(hist), "revision": rev, "deployStartedAt": started,
                         "deployedAt": finished,
                         "source": copy.deepcopy((a.get("spec") or {}).get("source"))})
            st["reconciledAt"] = finished
        self.store.update(APP, ns, name, done)
        self.argo_refresh()


def _pod_ready(p):
    for c in (p.get("status") or {}).get("conditions") or []:
        if c["type"] == "Ready":
            return c["status"] == "True"
    return False
