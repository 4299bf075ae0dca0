"""The namespace controller's finalizer: a deleted namespace stays Terminating
while its content goes (pods through the kubelet), then it is removed; the
stuck-ns fault keeps it Terminating with the conditions a real one shows."""

from .. import k8s
from .common import NS, PODS, deleting_now


class NamespaceFinalizer:
    def __init__(self, ctl):
        self.ctl = ctl
        self.store = ctl.store
        self.faults = ctl.sim.faults

    def on_event(self, res, ev):
        if res is NS and ev.type == "MODIFIED" and deleting_now(ev):
            self.ctl.after(self.faults.get("ns-delete-delay", 0.5), self.finalize,
                           ev.obj["metadata"]["name"])

    def finalize(self, name):
        o = self.store.get(NS, "", name)
        if o is None or not o["metadata"].get("deletionTimestamp"):
            return
        stuck = name in (self.faults.get("stuck-ns") or [])
        content = self.store.in_namespace(name)
        if stuck or o["metadata"].get("finalizers"):
            self.set_stuck_conditions(name, content)
            self.ctl.after(1.0, self.finalize, name)
            return
        # delete the content, pods with a process through the kubelet, then the namespace
        waiting = False
        for res, obj in content:
            md = obj["metadata"]
            if res is PODS and self.ctl.kubelet.runs(md["name"]):
                if not md.get("deletionTimestamp"):
                    self.store.update(PODS, name, md["name"], mark_deleted)
                waiting = True
                continue
            self.store.remove(res, name, md["name"])
        if waiting:
            self.ctl.after(0.2, self.finalize, name)
            return
        if self.store.in_namespace(name):
            self.ctl.after(0.1, self.finalize, name)
            return
        self.store.remove(NS, "", name)

    def set_stuck_conditions(self, name, content):
        now = k8s.rfc3339()
        n = max(1, len(content))
        kinds = sorted({r.plural + ("." + r.group if r.group else "") for r, _ in content}) or ["pods"]

        def add_conditions(o):
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
        self.store.update(NS, "", name, add_conditions)


def mark_deleted(pod):
    pod["metadata"].update(deletionTimestamp=k8s.rfc3339(), deletionGracePeriodSeconds=0)
