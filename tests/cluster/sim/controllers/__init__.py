"""The cluster's moving parts, one module each: namespace finalisation
(namespace), garbage collection (gc), a kubelet (kubelet), the ReplicaSet and
Deployment controllers (replicaset, deployment), Gafaelfawr's Ingress
generation (gafaelfawr), Argo CD's sync of the nublado Application (argocd)
and the Nublado controller's labs the faults make (labs).

Controllers wires them: store events and admission go to each, and they share
one scheduler (timers, threads) and the workload loop."""

import threading
import time
import traceback

from .common import NS, PODS, DEPLOY, RS, ING, GAF, APP, Scheduler, is_hub_pod, pod_ready
from .namespace import NamespaceFinalizer
from .gc import GarbageCollector
from .kubelet import Kubelet
from .replicaset import ReplicaSetController
from .deployment import DeploymentController
from .gafaelfawr import GafaelfawrOperator
from .argocd import ArgoCD
from .labs import LabController

__all__ = ["Controllers", "NS", "PODS", "DEPLOY", "RS", "ING", "GAF", "APP", "is_hub_pod",
           "pod_ready"]


class Controllers:
    def __init__(self, sim):
        self.sim = sim
        self.store = sim.store
        self.api = sim.api
        self.scheduler = Scheduler()
        self.workload_dirty = threading.Event()
        self.namespaces = NamespaceFinalizer(self)
        self.labs = LabController(self)
        self.gc = GarbageCollector(self)
        self.kubelet = Kubelet(self)
        self.replicasets = ReplicaSetController(self)
        self.deployments = DeploymentController(self)
        self.gafaelfawr = GafaelfawrOperator(self)
        self.argocd = ArgoCD(self)
        # the order in which each sees a store event
        self.watchers = [self.namespaces, self.labs, self.gc, self.kubelet, self.gafaelfawr,
                         self.argocd]
        self.store.listeners.append(self.on_event)
        self.api.admission.append(self.argocd.admit)
        self.api.patch_admission.append(self.argocd.admit_patch)

    @property
    def stopping(self):
        return self.scheduler.stopping

    @stopping.setter
    def stopping(self, value):
        self.scheduler.stopping = value

    def start(self):
        for loop in (self.scheduler.run_timers, self.run_workloads):
            threading.Thread(target=loop, daemon=True).start()

    # ------------------------------------------------------------ shared services
    def after(self, delay, fn, *args):
        self.scheduler.after(delay, fn, *args)

    def spawn(self, fn, *args):
        self.scheduler.spawn(fn, *args)

    def owned(self, owner, res):
        return [o for r, o in self.store.dependents(owner["metadata"]["uid"]) if r is res]

    # ------------------------------------------------------------ events (under store lock)
    def on_event(self, res, ev):
        for w in self.watchers:
            w.on_event(res, ev)
        md = ev.obj["metadata"]
        if res in (DEPLOY, RS, PODS) and (res is not PODS or md.get("ownerReferences")):
            self.workload_dirty.set()

    def run_workloads(self):
        while not self.stopping:
            self.workload_dirty.wait(0.5)
            self.workload_dirty.clear()
            try:
                for _ in range(3):
                    for _, d in self.store.items(DEPLOY):
                        self.deployments.sync(d["metadata"]["namespace"], d["metadata"]["name"])
                    for _, rs in self.store.items(RS):
                        self.replicasets.sync(rs["metadata"]["namespace"],
                                              rs["metadata"]["name"])
            except Exception:
                traceback.print_exc()
            time.sleep(0.02)

    # ------------------------------------------------------------ entry points for the server
    def finalize_ns(self, name):
        self.namespaces.finalize(name)

    def argo_refresh(self):
        self.argocd.refresh()

    def lab_appears(self, user):
        self.labs.lab_appears(user)

    def stop_all_hubs(self):
        self.kubelet.stop_all()
