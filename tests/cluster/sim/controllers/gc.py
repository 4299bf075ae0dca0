"""The garbage collector: dependents of a deleted owner go (Background), or
lose that ownerReference when another owner is alive; Foreground deletion
waits for the dependents before the owner goes."""

from .. import k8s
from ..k8s import ApiError
from .common import deleting_now

GC_USER = "system:serviceaccount:kube-system:generic-garbage-collector"


class GarbageCollector:
    def __init__(self, ctl):
        self.ctl = ctl
        self.store = ctl.store
        self.api = ctl.api

    def on_event(self, res, ev):
        md = ev.obj["metadata"]
        if ev.type == "DELETED" and md.get("uid") in self.store.owners:
            self.ctl.after(0.15, self.collect, md["uid"])
        if ev.type == "MODIFIED" and deleting_now(ev) and \
                "foregroundDeletion" in (md.get("finalizers") or []):
            self.ctl.after(0.05, self.foreground, res, md.get("namespace", ""), md["name"])

    def collect(self, uid):
        """The owner with this uid is gone: deal with each dependent."""
        for res, dep in self.store.dependents(uid):
            md = dep["metadata"]
            ns = md.get("namespace", "")
            alive = self.live_owners(ns, md.get("ownerReferences") or [], uid)
            if alive:
                def drop_owner_ref(o, uid=uid):
                    o["metadata"]["ownerReferences"] = [
                        r for r in o["metadata"]["ownerReferences"] if r.get("uid") != uid]
                self.store.update(res, ns, md["name"], drop_owner_ref)
                continue
            try:
                self.api.delete(res, ns, md["name"], b'{"propagationPolicy":"Background"}', {},
                                GC_USER)
            except ApiError:
                pass

    def live_owners(self, ns, refs, gone_uid):
        alive = []
        for r in refs:
            if r.get("uid") == gone_uid:
                continue
            ores = k8s.res_for(r.get("apiVersion"), r.get("kind"))
            if ores is None:
                continue
            o = self.store.get(ores, ns if ores.namespaced else "", r.get("name"))
            if o is not None and o["metadata"]["uid"] == r.get("uid"):
                alive.append(r)
        return alive

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
            self.ctl.after(0.2, self.foreground, res, ns, name)
            return
        with self.store.lock:
            o = self.store.get(res, ns, name)
            if o is None:
                return
            fins = [f for f in o["metadata"].get("finalizers") or [] if f != "foregroundDeletion"]
            if fins:
                self.store.update(res, ns, name,
                                  lambda x: x["metadata"].update(finalizers=fins))
            else:
                self.store.remove(res, ns, name)
