"""Gafaelfawr's operator: each GafaelfawrIngress generates an Ingress of the
same name (ownerReference to the CR, so deleting the CR collects it) and
records its status."""

import copy

from .. import k8s
from .. import seed as seedmod
from ..k8s import ApiError
from .common import ING, GAF

GAF_USER = "system:serviceaccount:gafaelfawr:gafaelfawr-operator"


class GafaelfawrOperator:
    def __init__(self, ctl):
        self.ctl = ctl
        self.store = ctl.store
        self.api = ctl.api

    def on_event(self, res, ev):
        md = ev.obj["metadata"]
        if res is not GAF or ev.type not in ("ADDED", "MODIFIED") or md.get("deletionTimestamp"):
            return
        if ev.type == "ADDED" or ev.old["metadata"].get("generation") != md.get("generation"):
            self.ctl.after(0.1, self.sync, md["namespace"], md["name"])

    def sync(self, ns, name):
        gi = self.store.get(GAF, ns, name)
        if gi is None or gi["metadata"].get("deletionTimestamp"):
            return
        ing = ingress_for(gi, ns, name)
        iname = ing["metadata"]["name"]
        cur = self.store.get(ING, ns, iname)
        if cur is None:
            try:
                self.api.create(ING, ns, ing, {}, GAF_USER)
                self.store.update(ING, ns, iname, lambda x: x.update(status=ing["status"]))
            except ApiError:
                return
        else:
            def update_ingress(o):
                o["metadata"]["annotations"] = ing["metadata"]["annotations"]
                o["metadata"]["ownerReferences"] = ing["metadata"]["ownerReferences"]
                o["spec"] = ing["spec"]
                if ing["metadata"].get("labels"):
                    o["metadata"]["labels"] = ing["metadata"]["labels"]
            self.store.update(ING, ns, iname, update_ingress)
        o = self.store.get(ING, ns, iname)
        gen = gi["metadata"].get("generation", 1)
        now = k8s.rfc3339()

        def resources_created(g):
            verb = "update" if (g.get("status") or {}).get("create") else "create"
            g["status"] = {verb: {"lastTransitionTime": now,
                                  "message": "Ingress was %sd" % verb,
                                  "observedGeneration": gen, "reason": "Success",
                                  "resourceVersion": o["metadata"]["resourceVersion"] if o else "",
                                  "status": "True", "type": "ResourcesCreated"}}
        if o is not None:
            self.store.update(GAF, ns, name, resources_created)


def ingress_for(gi, ns, name):
    """The Ingress Gafaelfawr generates for a GafaelfawrIngress."""
    tmpl = gi.get("template") or {}
    tmd = tmpl.get("metadata") or {}
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
           "metadata": {"name": tmd.get("name") or name, "namespace": ns, "annotations": ann,
                        "ownerReferences": [{
                            "apiVersion": "gafaelfawr.lsst.io/v1alpha1",
                            "kind": "GafaelfawrIngress", "name": name,
                            "uid": gi["metadata"]["uid"], "controller": True,
                            "blockOwnerDeletion": True}]},
           "spec": dict(copy.deepcopy(tmpl.get("spec") or {}), ingressClassName="nginx"),
           "status": {"loadBalancer": {"ingress": [{"ip": "10.0.0.100"}]}}}
    if labels:
        ing["metadata"]["labels"] = labels
    return ing
