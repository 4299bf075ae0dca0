"""The kubelet: a pod becomes Running; a hub pod runs a real process (through
the runtime) and is Ready only while its /hub/health answers; a dead hub
process shows as a restart; a deleted pod's process is stopped before the pod
goes.  The hub-crashloop fault makes the hub pods of that moment crash-loop
as a real kubelet reports it (CrashLoopBackOff)."""

import itertools
import threading
import time
import traceback

from .. import k8s
from .common import PODS, is_hub_pod, deleting_now

# The kubelet's container restart back-off: 10 s doubling to 5 min
# (pkg/kubelet/kubelet.go: backOffPeriod, MaxContainerBackOff).  The sim
# waits a tenth of it between restarts so restartCount grows in a test's time.
BACKOFF_START = 10
BACKOFF_MAX = 300
SIM_TIME_SCALE = 0.1

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
        self.crashing = set()   # uids of pods whose hub container crash-loops

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
        if runs_hub_process(pod) and self.sim.runtime is not None:
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
            if uid in self.crashing:
                return  # crash_loop has the pod now
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
        if pod is None or pod["metadata"]["uid"] != uid or pod["metadata"].get("deletionTimestamp") \
                or uid in self.crashing:
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

    # ------------------------------------------------------------ hub-crashloop
    def crash_loop_hubs(self):
        """Make every hub pod there now crash-loop (pods made later are healthy:
        restarting the Deployment cures it, as a wipe does a real broken hub)."""
        for _, pod in self.store.items(PODS, "nublado"):
            md = pod["metadata"]
            if not runs_hub_process(pod) or md.get("deletionTimestamp") or \
                    md["uid"] in self.crashing:
                continue
            self.crashing.add(md["uid"])
            self.ctl.spawn(self.crash_loop, md["namespace"], md["name"], md["uid"])

    def crash_loop(self, ns, name, uid):
        """The hub container exits with 1 at each start; between starts the
        kubelet waits its back-off, the container waiting in CrashLoopBackOff."""
        with self.hub_lock:
            h = self.hubs.pop(name, None)
        if h is not None:
            try:
                h.stop()
            except Exception:
                traceback.print_exc()
            self.sim.on_hub_ready_change(name, False, h)
        backoff = BACKOFF_START
        while not self.ctl.stopping:
            pod = self.store.get(PODS, ns, name)
            if pod is None or pod["metadata"]["uid"] != uid or \
                    pod["metadata"].get("deletionTimestamp"):
                return
            self.store.update(PODS, ns, name, crashed(pod, backoff))
            time.sleep(backoff * SIM_TIME_SCALE)
            backoff = min(backoff * 2, BACKOFF_MAX)

    def stop_all(self):
        with self.hub_lock:
            hs = list(self.hubs.values())
            self.hubs.clear()
        for h in hs:
            try:
                h.stop()
            except Exception:
                pass


def runs_hub_process(pod):
    """A hub pod whose hub container runs JupyterHub: its command is the
    image's (z2jh's k8s-hub image: CMD jupyterhub) or names jupyterhub.  A pod
    made from the hub's template with another command (a shell that waits)
    is an ordinary pod here."""
    if not is_hub_pod(pod):
        return False
    for c in (pod.get("spec") or {}).get("containers") or []:
        if c.get("name") == "hub":
            argv = list(c.get("command") or []) + list(c.get("args") or [])
            return not c.get("command") or \
                (bool(argv) and argv[0].rsplit("/", 1)[-1] == "jupyterhub")
    return False


def crashed(pod, backoff):
    """The status update for one more failed start of the hub container, as
    kubelet reports it: phase stays Running, the container waits in
    CrashLoopBackOff with the last run in lastState.terminated, restartCount
    grows, nothing Ready."""
    md = pod["metadata"]
    uid_hex = (md["uid"].replace("-", "") * 2)[:64]
    started = k8s.rfc3339()

    def crash_status(p):
        if p["metadata"]["uid"] != md["uid"]:
            return False
        now = k8s.rfc3339()
        st = p.setdefault("status", {})
        for cs in st.get("containerStatuses") or []:
            if cs["name"] != "hub":
                continue
            n = cs.get("restartCount", 0) + 1
            cs["ready"] = False
            cs["started"] = False
            cs["restartCount"] = n
            cs["lastState"] = {"terminated": {
                "exitCode": 1, "reason": "Error", "startedAt": started, "finishedAt": now,
                "containerID": "containerd://%s%02d" % (uid_hex[:62], n % 100)}}
            cs["state"] = {"waiting": {
                "reason": "CrashLoopBackOff",
                "message": "back-off %s restarting failed container=hub pod=%s_%s(%s)" % (
                    _duration(backoff), md["name"], md["namespace"], md["uid"])}}
        for c in st.get("conditions") or []:
            if c["type"] in ("Ready", "ContainersReady") and c["status"] != "False":
                c["status"] = "False"
                c["lastTransitionTime"] = now
                c["reason"] = "ContainersNotReady"
                c["message"] = "containers with unready status: [hub]"
    return crash_status


def _duration(seconds):
    """Go's time.Duration String for whole seconds: 10s, 1m20s, 5m0s."""
    m, s = divmod(int(seconds), 60)
    return "%dm%ds" % (m, s) if m else "%ds" % s


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
