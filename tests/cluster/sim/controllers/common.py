"""What the controllers share: the resources they watch, the hub-pod test,
condition bookkeeping, and the scheduler (timers and threads) they run on."""

import heapq
import itertools
import threading
import time
import traceback

from .. import k8s

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


def pod_ready(p):
    for c in (p.get("status") or {}).get("conditions") or []:
        if c["type"] == "Ready":
            return c["status"] == "True"
    return False


def set_condition(conds, type_, status, reason, message, now, with_update=False):
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


def deleting_now(ev):
    """Whether this event is the one that set the object's deletionTimestamp."""
    md = ev.obj["metadata"]
    return bool(md.get("deletionTimestamp") and not (ev.old or {}).get("metadata", {}).get(
        "deletionTimestamp"))


class Scheduler:
    """Delayed calls on one timer thread, and calls on threads of their own.
    Store events arrive under the store's lock, so controllers react to them
    through here rather than inline."""

    def __init__(self):
        self.heap = []
        self.seq = itertools.count()
        self.cond = threading.Condition()
        self.stopping = False

    def after(self, delay, fn, *args):
        with self.cond:
            heapq.heappush(self.heap, (time.time() + delay, next(self.seq), fn, args))
            self.cond.notify()

    def run_timers(self):
        while not self.stopping:
            with self.cond:
                while not self.heap or self.heap[0][0] > time.time():
                    wait = None if not self.heap else self.heap[0][0] - time.time()
                    self.cond.wait(wait if wait is None else max(wait, 0.001))
                    if self.stopping:
                        return
                _, _, fn, args = heapq.heappop(self.heap)
            try:
                fn(*args)
            except Exception:
                traceback.print_exc()

    def spawn(self, fn, *args):
        def run_logged():
            try:
                fn(*args)
            except Exception:
                traceback.print_exc()
        threading.Thread(target=run_logged, daemon=True).start()
