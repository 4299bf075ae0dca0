"""The kubelet: a pod becomes Running; a hub pod runs a real process (through
the runtime) and is Ready only while its /hub/health answers; a dead hub
process shows as a restart; a deleted pod's process is stopped before the pod
goes."""

import itertools
import threading
import time
import traceback

from .. import k8s
from .common import PODS, is_hub_pod, deleting_now

CONDITION_ORDER = ["PodReadyToStartContainers", "Initialized", "Ready", "ContainersReady",
                   "PodScheduled"]


class Kubelet:
    def __init__(self, ctl):
        self.ctl = ctl
        self.sim = ctl.sim
        self.store = ctl.store
        self.hubs = {}  # pod name -> runtime hub handle
        self.hub_lock = threading.Lock()
        self.pod_ip = itertools.count(10)

    def on_event(self, res, ev):
        if res is not PODS:
            return
        md = ev.obj["metadata"]
        if ev.type == "ADDED":
            self.ctl.after(0.05, self.start, md["namespace"], md["name"], md["uid"])
        elif ev.type == "MODIFIED" and deleting_now(ev):
            self.ctl.spawn(self.stop, md["namespace"], md["name"], md["uid"])

    def runs(self, name):
        """Whether a process runs for this pod (its deletion goes through stop)."""
        return name in self.hubs

    def start(self, ns, name, uid):
        pod = self.store.get(PODS, ns, name)
        if pod is None or pod["metadata"]["uid"] != uid or pod["metadata"].get("deletionTimestamp"):
            return
        if (pod.get("status") or {}).get("phase") not in (None, "Pending"):
            return
        if is_hub_pod(pod) and self.sim.runtime is not None:
            self.ctl.spawn(self.run_hub_pod, ns, name, uid)
            return
        self.set_running(ns, name, uid, ready=True)

    def next_pod_ip(self):
        n = next(self.pod_ip)
        return "10.244.%d.%d" % (n // 250, n % 250 + 2)

    def set_running(self, ns, name, uid, ready, started=True):
        now = k8s.rfc3339()
        ip = self.next_pod_ip()

        def running_status(p):
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
            set_pod_conditions(st.setdefault("conditions", []), spec, ready, now)
            st["containerStatuses"] = container_statuses(p, st, ready, started, now)
        self.store.update(PODS, ns, name, running_status)

    def run_hub_pod(self, ns, name, uid):
        rt = self.sim.runtime
        try:
            h = rt.start_hub(name)
        except Exception as e:
            traceback.print_exc()
            self.pod_failed(ns, name, uid, str(e))
            return
        with self.hub_lock:
            self.hubs[name] = h
        self.sim.write_pids()
        self.set_running(ns, name, uid, ready=False)
        t0 = time.time()
        ready = False
        while True:
            pod = self.store.get(PODS, ns, name)
            if pod is None or pod["metadata"]["uid"] != uid or pod["metadata"].get("deletionTimestamp"):
                return  # the stop thread stops the process
            ok = h.ready()
            delay = self.sim.faults.get("hub-unready") or 0
            if ok and time.time() - t0 < delay:
                ok = False
            if ok != ready:
                ready = ok
                self.set_running(ns, name, uid, ready=ready)
                self.sim.on_hub_ready_change(name, ready, h)
            if not h.alive():
                self.container_died(ns, name, uid, h)
                return
            time.sleep(0.1 if not ready else 0.5)

    def container_died(self, ns, name, uid, h):
        now = k8s.rfc3339()
        rc = h.returncode

        def crashed_status(p):
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
        self.store.update(PODS, ns, name, crashed_status)
        # restartPolicy Always: the kubelet starts the container again
        time.sleep(1.0)
        pod = self.store.get(PODS, ns, name)
        if pod is None or pod["metadata"]["uid"] != uid or pod["metadata"].get("deletionTimestamp"):
            return

        def restarted_status(p):
            for cs in (p.get("status") or {}).get("containerStatuses") or []:
                cs["state"] = {"running": {"startedAt": k8s.rfc3339()}}
        self.store.update(PODS, ns, name, restarted_status)
        self.run_hub_pod(ns, name, uid)

    def pod_failed(self, ns, name, uid, msg):
        def create_error_status(p):
            st = p.setdefault("status", {})
            st["phase"] = "Pending"
            st["containerStatuses"] = [{"name": c["name"], "ready": False, "restartCount": 0,
                                        "started": False, "image": c.get("image", ""),
                                        "imageID": "", "state": {"waiting": {
                                            "reason": "CreateContainerError", "message": msg}}}
                                       for c in (p.get("spec") or {}).get("containers") or []]
        self.store.update(PODS, ns, name, create_error_status)

    def stop(self, ns, name, uid):
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

    def stop_all(self):
        with self.hub_lock:
            hs = list(self.hubs.values())
            self.hubs.clear()
        for h in hs:
            try:
                h.stop()
            except Exception:
                pass


def set_pod_conditions(conds, spec, ready, now):
    """The pod's conditions as the kubelet reports them, in its order."""
    unready_msg = "containers with unready status: [%s]" % " ".join(
        x["name"] for x in spec.get("containers") or [])
    for t, v in (("PodReadyToStartContainers", "True"), ("Initialized", "True"),
                 ("Ready", "True" if ready else "False"),
                 ("ContainersReady", "True" if ready else "False"),
                 ("PodScheduled", "True")):
        c = next((c for c in conds if c["type"] == t), None)
        if c is None:
            c = {"type": t, "status": v, "lastProbeTime": None, "lastTransitionTime": now}
            if v == "False":
                c["reason"] = "ContainersNotReady"
                c["message"] = unready_msg
            conds.append(c)
        elif c["status"] != v:
            c["status"] = v
            c["lastTransitionTime"] = now
            c.pop("reason", None)
            c.pop("message", None)
            if v == "False":
                c["reason"] = "ContainersNotReady"
                c["message"] = unready_msg
    conds.sort(key=lambda c: CONDITION_ORDER.index(c["type"])
               if c["type"] in CONDITION_ORDER else 99)


def container_statuses(p, st, ready, started, now):
    """One status per container, keeping what an earlier status recorded."""
    uid_hex = (p["metadata"]["uid"].replace("-", "") * 2)[:64]
    css = []
    old = {c["name"]: c for c in st.get("containerStatuses") or []}
    for c in (p.get("spec") or {}).get("containers") or []:
        o = old.get(c["name"]) or {}
        css.append({
            "name": c["name"],
            "state": o.get("state") or {"running": {"startedAt": now}},
            "lastState": o.get("lastState", {}),
            "ready": ready,
            "restartCount": o.get("restartCount", 0),
            "image": c.get("image", ""),
            "imageID": o.get("imageID") or (c.get("image", "").split(":")[0] + "@sha256:" +
                                            uid_hex),
            "containerID": o.get("containerID") or ("containerd://" + uid_hex),
            "started": started,
        })
    return css
