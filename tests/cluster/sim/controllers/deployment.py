"""The Deployment controller: a ReplicaSet per pod template (pod-template-hash),
Recreate and RollingUpdate, revisions and rollbacks, spec.paused, the history
limit, and the status and conditions as the real controller moves them."""

import copy
import traceback

from .. import k8s
from ..k8s import ApiError
from .common import DEPLOY, PODS, RS, set_condition

DEPLOY_USER = "system:serviceaccount:kube-system:deployment-controller"
REVISION = "deployment.kubernetes.io/revision"


def revision(o, default="0"):
    return int((o["metadata"].get("annotations") or {}).get(REVISION, default))


class DeploymentController:
    def __init__(self, ctl):
        self.ctl = ctl
        self.store = ctl.store
        self.api = ctl.api

    def sync(self, ns, name):
        d = self.store.get(DEPLOY, ns, name)
        if d is None or d["metadata"].get("deletionTimestamp"):
            return
        spec = d.get("spec") or {}
        desired = spec.get("replicas", 1)
        tmpl = spec.get("template") or {}
        rss = self.ctl.owned(d, RS)
        h = k8s.pod_template_hash(tmpl)
        new = self.newest(rss, h)
        old = [rs for rs in rss if rs is not new]
        created = False
        if spec.get("paused"):
            self.set_status(d, new, rss, paused=True)
            return
        recreate = (spec.get("strategy") or {}).get("type") == "Recreate"
        if new is None:
            rev = 1 + max([revision(rs) for rs in rss] or [0])
            new = self.create_rs(d, h, rev, 0 if recreate else desired)
            if new is None:
                return
            created = True
            rss = rss + [new]
            self.set_revision(ns, name, rev)
        elif revision(d) != revision(new, "1"):
            # a rollback to an older template: the old RS becomes the newest revision
            rev = 1 + max(revision(rs) for rs in rss)
            self.scale(new, None, rev)
            self.set_revision(ns, name, rev)
        if recreate:
            for rs in old:
                if (rs.get("spec") or {}).get("replicas", 0) > 0:
                    self.scale(rs, 0)
            old_pods = [p for rs in old for p in self.ctl.owned(rs, PODS)]
            if not old_pods and (new.get("spec") or {}).get("replicas") != desired:
                self.scale(new, desired)
        else:
            if (new.get("spec") or {}).get("replicas") != desired:
                self.scale(new, desired)
            nr = self.store.get(RS, ns, new["metadata"]["name"]) or new
            if (nr.get("status") or {}).get("availableReplicas", 0) >= desired:
                for rs in old:
                    if (rs.get("spec") or {}).get("replicas", 0) > 0:
                        self.scale(rs, 0)
        self.prune_history(ns, spec.get("revisionHistoryLimit", 10), old)
        d = self.store.get(DEPLOY, ns, name) or d
        rss = self.ctl.owned(d, RS)
        self.set_status(d, self.newest(rss, h), rss, created=created)

    @staticmethod
    def newest(rss, h):
        return next((rs for rs in rss if (rs["metadata"].get("labels") or {}).get(
            "pod-template-hash") == h), None)

    def set_revision(self, ns, name, rev):
        def annotate_revision(o):
            o["metadata"].setdefault("annotations", {})[REVISION] = str(rev)
        self.store.update(DEPLOY, ns, name, annotate_revision)

    def prune_history(self, ns, limit, old):
        idle = sorted([rs for rs in old if (rs.get("spec") or {}).get("replicas", 0) == 0 and
                       not self.ctl.owned(rs, PODS)], key=revision)
        for rs in idle[: max(0, len(idle) - limit)]:
            self.store.remove(RS, ns, rs["metadata"]["name"])

    def create_rs(self, d, h, rev, replicas):
        md = d["metadata"]
        tmpl = copy.deepcopy(d["spec"]["template"])
        tmpl.setdefault("metadata", {}).setdefault("labels", {})["pod-template-hash"] = h
        sel = copy.deepcopy(d["spec"].get("selector") or {})
        sel.setdefault("matchLabels", {})["pod-template-hash"] = h
        labels = dict(tmpl["metadata"]["labels"])
        want = d["spec"].get("replicas", 1)
        surge = 0 if (d["spec"].get("strategy") or {}).get("type") == "Recreate" else 1
        rs = {"apiVersion": "apps/v1", "kind": "ReplicaSet",
              "metadata": {"name": md["name"] + "-" + h, "namespace": md["namespace"],
                           "labels": labels,
                           "annotations": {
                               "deployment.kubernetes.io/desired-replicas": str(want),
                               "deployment.kubernetes.io/max-replicas": str(want + surge),
                               REVISION: str(rev)},
                           "ownerReferences": [{"apiVersion": "apps/v1", "kind": "Deployment",
                                                "name": md["name"], "uid": md["uid"],
                                                "controller": True, "blockOwnerDeletion": True}]},
              "spec": {"replicas": replicas, "selector": sel, "template": tmpl}}
        try:
            return self.api.create(RS, md["namespace"], rs, {}, DEPLOY_USER)
        except ApiError:
            traceback.print_exc()
            return None

    def scale(self, rs, n, rev=None):
        def set_replicas(o):
            if n is not None:
                o["spec"]["replicas"] = n
            if rev is not None:
                o["metadata"].setdefault("annotations", {})[REVISION] = str(rev)
        self.store.update(RS, rs["metadata"]["namespace"], rs["metadata"]["name"], set_replicas)

    def set_status(self, d, new, rss, paused=False, created=False):
        spec = d.get("spec") or {}
        desired = spec.get("replicas", 1)
        replicas = sum((rs.get("status") or {}).get("replicas", 0) for rs in rss)
        updated = (new.get("status") or {}).get("replicas", 0) if new else 0
        ready = sum((rs.get("status") or {}).get("readyReplicas", 0) for rs in rss)
        available = sum((rs.get("status") or {}).get("availableReplicas", 0) for rs in rss)
        max_unavail = max_unavailable(spec, desired)
        now = k8s.rfc3339()
        nname = new["metadata"]["name"] if new else ""
        complete = new is not None and updated == desired and replicas == updated and \
            available >= desired

        def deployment_status(o):
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
                set_condition(conds, "Available", "True", "MinimumReplicasAvailable",
                              "Deployment has minimum availability.", now, True)
            else:
                set_condition(conds, "Available", "False", "MinimumReplicasUnavailable",
                              "Deployment does not have minimum availability.", now, True)
            if paused:
                set_condition(conds, "Progressing", "Unknown", "DeploymentPaused",
                              "Deployment is paused", now, True)
            elif complete:
                set_condition(conds, "Progressing", "True", "NewReplicaSetAvailable",
                              'ReplicaSet "%s" has successfully progressed.' % nname, now, True)
            elif created:
                set_condition(conds, "Progressing", "True", "NewReplicaSetCreated",
                              'Created new replica set "%s"' % nname, now, True)
            elif new is not None:
                set_condition(conds, "Progressing", "True", "ReplicaSetUpdated",
                              'ReplicaSet "%s" is progressing.' % nname, now, True)
            conds.sort(key=lambda c: {"Available": 0, "Progressing": 1}.get(c["type"], 2))
            if st == o.get("status"):
                return False
            o["status"] = st
        self.store.update(DEPLOY, d["metadata"]["namespace"], d["metadata"]["name"],
                          deployment_status)


def max_unavailable(spec, desired):
    strat = spec.get("strategy") or {}
    if strat.get("type", "RollingUpdate") != "RollingUpdate":
        return 0
    mu = (strat.get("rollingUpdate") or {}).get("maxUnavailable", "25%")
    if isinstance(mu, str) and mu.endswith("%"):
        return desired * int(mu[:-1]) // 100
    return int(mu)
