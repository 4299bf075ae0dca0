"""The ReplicaSet controller: as many active pods as spec.replicas (the
unready, then the newest, go first), and the status counts."""

import copy
import traceback

from .. import k8s
from ..k8s import ApiError
from .common import PODS, RS, pod_ready

RS_USER = "system:serviceaccount:kube-system:replicaset-controller"


class ReplicaSetController:
    def __init__(self, ctl):
        self.ctl = ctl
        self.store = ctl.store
        self.api = ctl.api

    def sync(self, ns, name):
        rs = self.store.get(RS, ns, name)
        if rs is None or rs["metadata"].get("deletionTimestamp"):
            return
        active = self.active_pods(rs)
        want = (rs.get("spec") or {}).get("replicas", 1)
        if len(active) < want:
            for _ in range(want - len(active)):
                self.create_pod(rs)
        elif len(active) > want:
            # prefer deleting pods that are not ready, then the newest
            def unready_first(p):
                return (pod_ready(p), p["metadata"]["creationTimestamp"])
            for p in sorted(active, key=unready_first)[: len(active) - want]:
                try:
                    self.api.delete(PODS, ns, p["metadata"]["name"], b"", {})
                except ApiError:
                    pass
        active = self.active_pods(rs)
        ready = sum(1 for p in active if pod_ready(p))
        status = {"replicas": len(active), "fullyLabeledReplicas": len(active),
                  "readyReplicas": ready, "availableReplicas": ready,
                  "observedGeneration": rs["metadata"].get("generation", 1)}
        status = {k: v for k, v in status.items() if v or k in ("replicas",)}

        def set_status(o):
            if o.get("status") == status:
                return False
            o["status"] = status
        self.store.update(RS, ns, name, set_status)

    def active_pods(self, rs):
        return [p for p in self.ctl.owned(rs, PODS)
                if not p["metadata"].get("deletionTimestamp") and
                (p.get("status") or {}).get("phase") not in ("Succeeded", "Failed")]

    def create_pod(self, rs):
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
        spec = pod["spec"]
        spec["nodeName"] = "sim-node"
        spec.setdefault("serviceAccountName", "default")
        spec.setdefault("serviceAccount", spec["serviceAccountName"])
        spec.setdefault("enableServiceLinks", True)
        spec.setdefault("preemptionPolicy", "PreemptLowerPriority")
        spec.setdefault("priority", 0)
        spec.setdefault("tolerations", [
            {"key": "node.kubernetes.io/not-ready", "operator": "Exists", "effect": "NoExecute",
             "tolerationSeconds": 300},
            {"key": "node.kubernetes.io/unreachable", "operator": "Exists",
             "effect": "NoExecute", "tolerationSeconds": 300}])
        try:
            self.api.create(PODS, md["namespace"], pod, {}, RS_USER)
        except ApiError:
            traceback.print_exc()
