"""Server-side Table output (`Accept: application/json;as=Table;g=meta.k8s.io;v=v1`),
as kubectl asks for it, with the columns a real server prints."""

import time

from . import k8s


def _age(o, now):
    ts = o["metadata"].get("creationTimestamp")
    if not ts:
        return "<unknown>"
    return k8s.human_duration(now - k8s.parse_rfc3339(ts))


def _col(name, type_="string", fmt="", desc="", priority=0):
    return {"name": name, "type": type_, "format": fmt, "description": desc, "priority": priority}


NAME = _col("Name", fmt="name", desc="Name must be unique within a namespace.")
AGE = _col("Age", desc="CreationTimestamp is a timestamp representing the server time when "
           "this object was created.")


def _pod_status(p):
    st = p.get("status") or {}
    reason = st.get("reason") or st.get("phase") or "Unknown"
    for cs in st.get("containerStatuses") or []:
        w = (cs.get("state") or {}).get("waiting")
        t = (cs.get("state") or {}).get("terminated")
        if w and w.get("reason"):
            reason = w["reason"]
        elif t and t.get("reason"):
            reason = t["reason"]
    if reason == "Pending" and not st.get("containerStatuses"):
        reason = "Pending"
    if p["metadata"].get("deletionTimestamp"):
        reason = "Terminating"
    return reason


def _pod_row(p, now):
    st = p.get("status") or {}
    cs = st.get("containerStatuses") or []
    total = len((p.get("spec") or {}).get("containers") or [])
    ready = sum(1 for c in cs if c.get("ready"))
    restarts = sum(c.get("restartCount", 0) for c in cs)
    return [p["metadata"]["name"], "%d/%d" % (ready, total), _pod_status(p), restarts,
            _age(p, now), st.get("podIP", "<none>"),
            (p.get("spec") or {}).get("nodeName", "<none>"), "<none>", "<none>"]


def _ingress_row(o, now):
    spec = o.get("spec") or {}
    hosts = [r.get("host", "*") for r in spec.get("rules") or []]
    lb = ((o.get("status") or {}).get("loadBalancer") or {}).get("ingress") or []
    addr = ",".join(x.get("ip") or x.get("hostname", "") for x in lb)
    return [o["metadata"]["name"], spec.get("ingressClassName", "<none>"),
            ",".join(hosts) or "*", addr, "80", _age(o, now)]


def _svc_row(o, now):
    spec = o.get("spec") or {}
    ports = ",".join("%s/%s" % (p.get("port"), p.get("protocol", "TCP"))
                     for p in spec.get("ports") or []) or "<none>"
    return [o["metadata"]["name"], spec.get("type", "ClusterIP"),
            spec.get("clusterIP", "<none>"), "<none>", ports, _age(o, now),
            ",".join("%s=%s" % kv for kv in sorted((spec.get("selector") or {}).items())) or "<none>"]


COLUMNS = {
    "namespaces": ([NAME, _col("Status", desc="The status of the namespace"), AGE],
                   lambda o, now: [o["metadata"]["name"], (o.get("status") or {}).get("phase", ""),
                                   _age(o, now)]),
    "pods": ([NAME, _col("Ready", desc="The aggregate readiness state of this pod for "
                         "accepting traffic."),
              _col("Status", desc="The aggregate status of the containers in this pod."),
              _col("Restarts", "string", desc="The number of times the containers in this pod "
                   "have been restarted and when the last container in this pod has restarted."),
              AGE, _col("IP", desc="IP address allocated to the pod.", priority=1),
              _col("Node", desc="Name of the node assigned to the pod.", priority=1),
              _col("Nominated Node", priority=1), _col("Readiness Gates", priority=1)],
             _pod_row),
    "deployments": ([NAME, _col("Ready", desc="Number of the pod with ready state"),
                     _col("Up-to-date", "integer", desc="Total number of non-terminated pods "
                          "targeted by this deployment that have the desired template spec."),
                     _col("Available", "integer", desc="Total number of available pods "
                          "(ready for at least minReadySeconds) targeted by this deployment."),
                     AGE],
                    lambda o, now: [o["metadata"]["name"], "%d/%d" % (
                        (o.get("status") or {}).get("readyReplicas", 0),
                        (o.get("spec") or {}).get("replicas", 1)),
                        (o.get("status") or {}).get("updatedReplicas", 0),
                        (o.get("status") or {}).get("availableReplicas", 0), _age(o, now)]),
    "replicasets": ([NAME, _col("Desired", "integer"), _col("Current", "integer"),
                     _col("Ready", "integer"), AGE],
                    lambda o, now: [o["metadata"]["name"], (o.get("spec") or {}).get("replicas", 0),
                                    (o.get("status") or {}).get("replicas", 0),
                                    (o.get("status") or {}).get("readyReplicas", 0), _age(o, now)]),
    "configmaps": ([NAME, _col("Data", "integer"), AGE],
                   lambda o, now: [o["metadata"]["name"], len(o.get("data") or {}) +
                                   len(o.get("binaryData") or {}), _age(o, now)]),
    "secrets": ([NAME, _col("Type"), _col("Data", "integer"), AGE],
                lambda o, now: [o["metadata"]["name"], o.get("type", "Opaque"),
                                len(o.get("data") or {}), _age(o, now)]),
    "services": ([NAME, _col("Type"), _col("Cluster-IP"), _col("External-IP"),
                  _col("Port(s)"), AGE, _col("Selector", priority=1)], _svc_row),
    "ingresses": ([NAME, _col("Class"), _col("Hosts"), _col("Address"), _col("Ports"), AGE],
                  _ingress_row),
    "applications": ([NAME, _col("Sync Status"), _col("Health Status"), AGE],
                     lambda o, now: [o["metadata"]["name"],
                                     ((o.get("status") or {}).get("sync") or {}).get("status", ""),
                                     ((o.get("status") or {}).get("health") or {}).get("status", ""),
                                     _age(o, now)]),
}


def table(res, lst, include="Metadata"):
    now = time.time()
    cols, row = COLUMNS.get(res.plural, ([NAME, AGE], lambda o, now: [o["metadata"]["name"],
                                                                        _age(o, now)]))
    rows = []
    for o in lst["items"]:
        if include == "None":
            obj = None
        elif include == "Object":
            obj = dict(o, kind=res.kind, apiVersion=res.api_version)
        else:
            obj = {"kind": "PartialObjectMetadata", "apiVersion": "meta.k8s.io/v1",
                   "metadata": o["metadata"]}
        r = {"cells": row(o, now)}
        if obj is not None:
            r["object"] = obj
        rows.append(r)
    md = dict(lst["metadata"])
    md.pop("remainingItemCount", None)
    if "remainingItemCount" in lst["metadata"]:
        md["remainingItemCount"] = lst["metadata"]["remainingItemCount"]
    return {"kind": "Table", "apiVersion": "meta.k8s.io/v1", "metadata": md,
            "columnDefinitions": cols, "rows": rows}
