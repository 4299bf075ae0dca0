"""Argo CD's application controller for the nublado Application: sync and
health status from the objects it knows, a sync operation recreating what is
missing, one operation at a time, and self-heal when the app asks for it."""

import copy
import time

from .. import k8s
from ..k8s import ApiError
from .common import APP

ARGO_USER = "system:serviceaccount:argocd:argocd-application-controller"


def another_operation(app):
    return ApiError(409, "Conflict", "another operation is already in progress",
                    {"name": app["metadata"]["name"], "group": "argoproj.io",
                     "kind": "applications"})


def operation_running(app):
    return ((app.get("status") or {}).get("operationState") or {}).get("phase") == "Running"


class ArgoCD:
    def __init__(self, ctl):
        self.ctl = ctl
        self.sim = ctl.sim
        self.store = ctl.store
        self.api = ctl.api
        self.running = set()
        self.selfheal_pending = False

    def on_event(self, res, ev):
        o, md = ev.obj, ev.obj["metadata"]
        if res is APP and ev.type == "MODIFIED" and o.get("operation") and \
                not (ev.old or {}).get("operation"):
            key = (md["namespace"], md["name"])
            if key not in self.running:
                self.running.add(key)
                self.ctl.spawn(self.sync, md["namespace"], md["name"])
        if md.get("namespace") == "nublado" and ev.type in ("ADDED", "DELETED") and \
                res.key in self.sim.argo_kinds:
            self.ctl.after(0.05, self.refresh)

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
        if sets_op and (cur.get("operation") or operation_running(cur)):
            raise another_operation(cur)

    def admit(self, res, op, old, new, user):
        if res is not APP or op != "UPDATE" or not new.get("operation"):
            return
        if old.get("operation") and new.get("operation") != old.get("operation"):
            raise another_operation(old)
        if not old.get("operation") and operation_running(old):
            raise another_operation(old)

    # ------------------------------------------------------------ status
    def missing(self, app, only=None):
        """(resource, namespace, desired object, missing?) for what the app knows."""
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

    def refresh(self):
        app = self.store.get(APP, "argocd", "nublado")
        if app is None:
            return
        items = self.missing(app)
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

        def sync_health_status(a):
            st = a.setdefault("status", {})
            st.setdefault("sync", {})["status"] = "OutOfSync" if missing else "Synced"
            st.setdefault("health", {})["status"] = "Missing" if missing else "Healthy"
            st["resources"] = resources
        self.store.update(APP, "argocd", "nublado", sync_health_status)
        auto = ((app.get("spec") or {}).get("syncPolicy") or {}).get("automated") or {}
        if missing and auto.get("selfHeal") and not self.selfheal_pending:
            self.selfheal_pending = True
            self.ctl.after(3.0, self.selfheal)

    def selfheal(self):
        self.selfheal_pending = False
        app = self.store.get(APP, "argocd", "nublado")
        if app is None or app.get("operation"):
            return
        auto = ((app.get("spec") or {}).get("syncPolicy") or {}).get("automated") or {}
        if not auto.get("selfHeal"):
            return
        if not any(x[3] for x in self.missing(app)):
            return
        op = {"initiatedBy": {"automated": True}, "retry": {"limit": 5},
              "sync": {"revision": (app.get("status") or {}).get("sync", {}).get("revision", ""),
                       "syncStrategy": {"hook": {}}}}
        try:
            self.store.update(APP, "argocd", "nublado", lambda a: a.update(operation=op))
        except ApiError:
            pass

    # ------------------------------------------------------------ sync
    def sync(self, ns, name):
        try:
            self.run_operation(ns, name)
        finally:
            self.running.discard((ns, name))

    def run_operation(self, ns, name):
        app = self.store.get(APP, ns, name)
        if app is None or not app.get("operation"):
            return
        op = copy.deepcopy(app["operation"])
        started = k8s.rfc3339()
        rev = ((app.get("status") or {}).get("sync") or {}).get("revision", "")

        def operation_started(a):
            st = a.setdefault("status", {})
            st["operationState"] = {"operation": op, "phase": "Running",
                                    "message": "one or more tasks are running",
                                    "startedAt": started}
        self.store.update(APP, ns, name, operation_started)
        time.sleep(0.4)
        only = (op.get("sync") or {}).get("resources")
        results = self.recreate_missing(app, only) if name == "nublado" else []
        time.sleep(0.3)
        finished = k8s.rfc3339()

        def operation_succeeded(a):
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
        self.store.update(APP, ns, name, operation_succeeded)
        self.refresh()

    def recreate_missing(self, app, only):
        results = []
        for res, rns, o, miss in self.missing(app, only):
            kindq = o["kind"].lower() + ("." + res.group if res.group else "")
            msg = "%s/%s unchanged" % (kindq, o["metadata"]["name"])
            if miss:
                try:
                    self.api.create(res, rns, copy.deepcopy(o), {}, ARGO_USER)
                    msg = "%s/%s created" % (kindq, o["metadata"]["name"])
                except ApiError as e:
                    msg = e.message
            results.append({"group": res.group, "version": res.version, "kind": o["kind"],
                            "namespace": rns, "name": o["metadata"]["name"],
                            "status": "Synced", "message": msg, "hookPhase": "Running",
                            "syncPhase": "Sync"})
        return results
