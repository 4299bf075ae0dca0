"""API semantics independent of HTTP: get, list, create, update, patch,
delete, with the validation, defaulting, dry-run and errors of a real
kube-apiserver."""

import base64
import copy
import json
import random
import threading
import time

from . import k8s
from .k8s import ApiError
from . import patch as patchlib


def strip_for_list(res, obj):
    """Items of a built-in list carry no kind/apiVersion (custom resources do)."""
    if res.crd:
        return obj
    return {k: v for k, v in obj.items() if k not in ("kind", "apiVersion")}


class Api:
    def __init__(self, store, faults, seed=0):
        self.store = store
        self.faults = faults
        self.admission = []  # fn(res, op, old, new, user) may raise ApiError
        self.patch_admission = []  # fn(res, cur, patch, ctype, user) may raise ApiError
        self.name_rng = random.Random("names-%s" % seed)
        self.name_lock = threading.Lock()

    # -------------------------------------------------------------- helpers
    def rand_suffix(self, n=5):
        with self.name_lock:
            return "".join(self.name_rng.choice("bcdfghjklmnpqrstvwxz2456789") for _ in range(n))

    def _get_or_404(self, res, ns, name):
        o = self.store.get(res, ns, name)
        if o is None:
            raise k8s.not_found(res, name)
        return o

    def _check_namespace(self, res, ns, name, for_create=False):
        if not res.namespaced:
            return
        nso = self.store.get(k8s.BY_KEY["/namespaces"], "", ns)
        if nso is None:
            raise k8s.not_found(k8s.BY_KEY["/namespaces"], ns)
        if for_create and nso["metadata"].get("deletionTimestamp"):
            raise ApiError(403, "Forbidden",
                           '%s "%s" is forbidden: unable to create new content in namespace %s '
                           'because it is being terminated' % (res.qualified, name, ns),
                           {"name": name, "kind": res.plural,
                            **({"group": res.group} if res.group else {}),
                            "causes": [{"reason": "NamespaceTerminating",
                                        "message": "namespace %s is being terminated" % ns,
                                        "field": "metadata.namespace"}]})

    def _admit(self, res, op, old, new, user):
        for fn in self.admission:
            fn(res, op, old, new, user)

    @staticmethod
    def _dry(q):
        vals = q.get("dryRun", [])
        for v in vals:
            if v != "All":
                raise ApiError(400, "BadRequest",
                               'dryRun: Unsupported value: "%s": supported values: "All"' % v)
        return bool(vals)

    # -------------------------------------------------------------- read
    def get(self, res, ns, name):
        if res.namespaced:
            o = self.store.get(res, ns, name)
        else:
            o = self.store.get(res, "", name)
        if o is None:
            raise k8s.not_found(res, name)
        return o

    def list(self, res, ns, q):
        """Return (list object, items) honouring selectors and pagination."""
        lsel = k8s.parse_label_selector(_one(q, "labelSelector"))
        fsel = k8s.parse_field_selector(res, _one(q, "fieldSelector"))
        limit = _one(q, "limit")
        try:
            limit = int(limit) if limit else 0
        except ValueError:
            raise k8s.bad_request('invalid value for limit: "%s"' % limit) from None
        cont = _one(q, "continue")
        start_after = None
        if cont:
            try:
                tok = json.loads(base64.urlsafe_b64decode(cont + "=" * (-len(cont) % 4)))
                start_after = tuple(tok["start"])
                tok_rv = int(tok["rv"])
            except Exception:
                raise k8s.bad_request("continue key is not valid: illegal base64 data") from None
            if tok_rv < self.store.oldest_rv or self.faults.continue_expired():
                e = k8s.gone_expired()
                raise e
        with self.store.lock:
            rv = self.store.rv
            items = self.store.items(res, ns if res.namespaced else None)
        out = []
        more = False
        remaining = 0
        last = None
        for k, o in items:
            if start_after is not None and k <= start_after:
                continue
            if lsel and not k8s.label_match(lsel, o["metadata"].get("labels")):
                continue
            if fsel and not k8s.field_match(fsel, o):
                continue
            if limit and len(out) >= limit:
                more = True
                remaining += 1
                continue
            out.append(o)
            last = k
        md = {"resourceVersion": str(rv)}
        if more:
            tok_rv = rv if not cont else tok_rv
            md["continue"] = base64.urlsafe_b64encode(json.dumps(
                {"v": "meta.k8s.io/v1", "rv": tok_rv, "start": list(last)},
                separators=(",", ":")).encode()).decode().rstrip("=")
            if not lsel and not fsel:
                md["remainingItemCount"] = remaining
        lst = {"kind": res.kind + "List", "apiVersion": res.api_version, "metadata": md,
               "items": [strip_for_list(res, o) for o in out]}
        return lst

    # -------------------------------------------------------------- create
    def _decode_body(self, body, ctype="application/json"):
        try:
            obj = json.loads(body or b"null")
        except ValueError as e:
            raise k8s.bad_request("the object provided is unrecognized (must be of type): "
                                  "couldn't get version/kind; json parse error: %s" % e) from None
        if not isinstance(obj, dict):
            raise k8s.bad_request("the object provided is unrecognized (must be of type): "
                                  "couldn't get version/kind")
        return obj

    def defaults(self, res, obj):
        md = obj["metadata"]
        if res.plural == "namespaces":
            md.setdefault("labels", {})["kubernetes.io/metadata.name"] = md["name"]
            obj.setdefault("spec", {}).setdefault("finalizers", ["kubernetes"])
            obj["status"] = {"phase": "Active"}
        elif res.plural == "deployments":
            spec = obj.setdefault("spec", {})
            spec.setdefault("replicas", 1)
            spec.setdefault("revisionHistoryLimit", 10)
            spec.setdefault("progressDeadlineSeconds", 600)
            st = spec.setdefault("strategy", {"type": "RollingUpdate"})
            if st.get("type", "RollingUpdate") == "RollingUpdate":
                st["type"] = "RollingUpdate"
                st.setdefault("rollingUpdate", {"maxSurge": "25%", "maxUnavailable": "25%"})
        elif res.plural == "services":
            spec = obj.setdefault("spec", {})
            spec.setdefault("type", "ClusterIP")
            spec.setdefault("sessionAffinity", "None")
        elif res.plural == "secrets":
            obj.setdefault("type", "Opaque")
            sd = obj.pop("stringData", None)
            if sd:
                obj.setdefault("data", {}).update(
                    {k: base64.b64encode(v.encode()).decode() for k, v in sd.items()})
        elif res.plural == "pods":
            spec = obj.setdefault("spec", {})
            spec.setdefault("restartPolicy", "Always")
            spec.setdefault("dnsPolicy", "ClusterFirst")
            spec.setdefault("schedulerName", "default-scheduler")
            spec.setdefault("terminationGracePeriodSeconds", 30)
            spec.setdefault("serviceAccountName", "default")
            obj.setdefault("status", {"phase": "Pending", "qosClass": "BestEffort"})

    def validate(self, res, obj):
        md = obj["metadata"]
        name = md.get("name", "")
        causes = k8s.validate_name(res, name)
        if res.plural == "pods":
            cs = (obj.get("spec") or {}).get("containers")
            if not cs:
                causes.append(("spec.containers", "Required value", None))
        if res.plural == "deployments":
            spec = obj.get("spec") or {}
            sel = (spec.get("selector") or {}).get("matchLabels") or {}
            tl = ((spec.get("template") or {}).get("metadata") or {}).get("labels") or {}
            if not sel:
                causes.append(("spec.selector", "Required value", None))
            elif any(tl.get(k) != v for k, v in sel.items()):
                causes.append(("spec.template.metadata.labels", "`selector` does not match "
                               "template `labels`", tl))
            r = spec.get("replicas")
            if isinstance(r, int) and r < 0:
                causes.append(("spec.replicas", "must be greater than or equal to 0", r))
        for k, v in (md.get("labels") or {}).items():
            if not isinstance(v, str) or len(v) > 63 or not k8s._LABEL_VALUE.match(v):
                causes.append(("metadata.labels", "a valid label must be an empty string or "
                               "consist of alphanumeric characters, '-', '_' or '.', and must "
                               "start and end with an alphanumeric character", v))
        if causes:
            raise k8s.invalid(res, name, causes)

    def create(self, res, ns, body, q, user="", internal=False):
        obj = self._decode_body(body) if isinstance(body, (bytes, str)) else copy.deepcopy(body)
        dry = self._dry(q)
        kind = obj.get("kind")
        apiv = obj.get("apiVersion")
        if kind and kind != res.kind or apiv and apiv != res.api_version:
            raise k8s.bad_request("the API version in the data (%s) does not match the "
                                  "expected API version (%s)" % (apiv, res.api_version)
                                  if apiv != res.api_version else
                                  "the kind in the data (%s) does not match the expected "
                                  "kind (%s)" % (kind, res.kind))
        obj["kind"], obj["apiVersion"] = res.kind, res.api_version
        md = obj.setdefault("metadata", {})
        if not isinstance(md, dict):
            raise k8s.bad_request("metadata must be an object")
        if res.namespaced:
            if md.get("namespace") and md["namespace"] != ns:
                raise k8s.bad_request("the namespace of the provided object does not match "
                                      "the namespace sent on the request")
            md["namespace"] = ns
        else:
            md.pop("namespace", None)
        if not md.get("name"):
            if md.get("generateName"):
                md["name"] = md["generateName"] + self.rand_suffix()
            else:
                raise k8s.invalid(res, "", [("metadata.name", "Required value: name or "
                                             "generateName is required", None)])
        name = md["name"]
        for f in ("resourceVersion", "uid", "deletionTimestamp", "deletionGracePeriodSeconds"):
            if f == "resourceVersion" and md.get(f):
                raise k8s.bad_request("resourceVersion should not be set on objects to be "
                                      "created")
            md.pop(f, None)
        self.defaults(res, obj)
        self.validate(res, obj)
        self._check_namespace(res, ns, name, for_create=True)
        md["uid"] = self.store.new_uid()
        md["creationTimestamp"] = k8s.rfc3339()
        if res.generation:
            md["generation"] = 1
        md.setdefault("managedFields", None)
        md.pop("managedFields", None)
        self._admit(res, "CREATE", None, obj, user)
        with self.store.lock:
            if self.store.get(res, ns if res.namespaced else "", name) is not None:
                raise k8s.already_exists(res, name)
            if dry:
                o = copy.deepcopy(obj)
                o["metadata"]["resourceVersion"] = ""
                return o
            return self.store.put(res, obj)

    # -------------------------------------------------------------- update
    def _finish_update(self, res, cur, new, user, dry, check_rv, sub=None):
        md, cmd = new.setdefault("metadata", {}), cur["metadata"]
        name = cmd["name"]
        if md.get("name", name) != name:
            raise k8s.bad_request('the name of the object (%s) does not match the name on the '
                                  'URL (%s)' % (md.get("name"), name))
        if res.namespaced and md.get("namespace", cmd.get("namespace")) != cmd.get("namespace"):
            raise k8s.bad_request("the namespace of the provided object does not match the "
                                  "namespace sent on the request")
        if md.get("uid") and md["uid"] != cmd["uid"]:
            raise k8s.invalid(res, name, [("metadata.uid", "field is immutable", md["uid"])])
        if check_rv and md.get("resourceVersion") and md["resourceVersion"] != cmd["resourceVersion"]:
            raise k8s.conflict(res, name)
        new["kind"], new["apiVersion"] = res.kind, res.api_version
        md["name"] = name
        if res.namespaced:
            md["namespace"] = cmd["namespace"]
        md["uid"] = cmd["uid"]
        md["creationTimestamp"] = cmd["creationTimestamp"]
        for f in ("deletionTimestamp", "deletionGracePeriodSeconds"):
            if f in cmd:
                md[f] = cmd[f]
            else:
                md.pop(f, None)
        has_status_sub = "status" in res.subresources
        if sub == "status":
            # only status may change through /status
            st = new.get("status")
            new = copy.deepcopy(cur)
            if st is not None:
                new["status"] = st
            md = new["metadata"]
        elif has_status_sub:
            if "status" in cur:
                new["status"] = copy.deepcopy(cur["status"])
            else:
                new.pop("status", None)
        if res.plural == "namespaces" and sub != "finalize":
            new["spec"] = copy.deepcopy(cur.get("spec", {}))
            new["status"] = copy.deepcopy(cur.get("status", {}))
            md.setdefault("labels", {})["kubernetes.io/metadata.name"] = name
        if res.generation:
            md["generation"] = cmd.get("generation", 1)
            body_new = {k: v for k, v in new.items() if k not in ("metadata", "status")}
            body_old = {k: v for k, v in cur.items() if k not in ("metadata", "status")}
            if body_new != body_old:
                md["generation"] = cmd.get("generation", 1) + 1
        md.pop("resourceVersion", None)
        self.defaults_on_update(res, new)
        self.validate(res, new)
        if cmd.get("deletionTimestamp") and cmd.get("finalizers") and \
                len(md.get("finalizers") or []) > len(cmd.get("finalizers") or []):
            raise k8s.invalid(res, name, [("metadata.finalizers", "no new finalizers can be "
                                           "added if the object is being deleted",
                                           md.get("finalizers"))])
        self._admit(res, "UPDATE", cur, new, user)
        md["resourceVersion"] = cmd["resourceVersion"]
        if new == cur:
            return cur
        if dry:
            return new
        with self.store.lock:
            now = self.store.get(res, cmd.get("namespace", ""), name)
            if now is None:
                raise k8s.not_found(res, name)
            if now["metadata"]["resourceVersion"] != cmd["resourceVersion"]:
                raise k8s.conflict(res, name)
            # an object being deleted whose last finalizer went: remove it
            if md.get("deletionTimestamp") and not md.get("finalizers") and res.plural != "namespaces":
                return self.store.remove(res, cmd.get("namespace", ""), name)
            return self.store.put(res, new)

    def defaults_on_update(self, res, obj):
        if res.plural == "deployments":
            spec = obj.setdefault("spec", {})
            spec.setdefault("replicas", 1)
            spec.setdefault("revisionHistoryLimit", 10)
            spec.setdefault("progressDeadlineSeconds", 600)

    def update(self, res, ns, name, body, q, user="", sub=None):
        dry = self._dry(q)
        new = self._decode_body(body)
        cur = self._get_or_404(res, ns, name)
        if sub == "finalize" and res.plural == "namespaces":
            return self.finalize_namespace(cur, new, dry)
        if not new.get("metadata", {}).get("resourceVersion") and res.crd:
            raise k8s.invalid(res, name, [("metadata.resourceVersion", "must be specified "
                                           "for an update", 0)])
        return self._finish_update(res, cur, new, user, dry, True, sub)

    def finalize_namespace(self, cur, new, dry):
        res = k8s.BY_KEY["/namespaces"]
        o = copy.deepcopy(cur)
        o["spec"]["finalizers"] = (new.get("spec") or {}).get("finalizers") or []
        if dry:
            return o
        out = self.store.put(res, o)
        return out

    def patch(self, res, ns, name, body, ctype, q, user="", sub=None):
        dry = self._dry(q)
        ctype = (ctype or "").split(";")[0].strip().lower()
        cur = self._get_or_404(res, ns, name)
        try:
            p = json.loads(body or b"null")
        except ValueError as e:
            raise k8s.bad_request("error decoding patch: %s" % e) from None
        for fn in self.patch_admission:
            fn(res, cur, p, ctype, user)
        if ctype == "application/strategic-merge-patch+json":
            if res.crd:
                raise ApiError(415, "UnsupportedMediaType",
                               "the body of the request was in an unknown format - accepted "
                               "media types include: application/json-patch+json, "
                               "application/merge-patch+json, application/apply-patch+yaml")
            if not isinstance(p, dict):
                raise k8s.bad_request("json: cannot unmarshal %s into Go value of type "
                                      "map[string]interface {}" % type(p).__name__)
            new = patchlib.strategic_merge(copy.deepcopy(cur), p)
        elif ctype == "application/merge-patch+json":
            if not isinstance(p, dict):
                raise k8s.bad_request("json: cannot unmarshal %s into Go value of type "
                                      "map[string]interface {}" % type(p).__name__)
            new = patchlib.merge_patch(copy.deepcopy(cur), p)
        elif ctype == "application/json-patch+json":
            new = patchlib.json_patch(cur, p)
        else:
            accepted = ("application/json-patch+json, application/merge-patch+json, "
                        "application/apply-patch+yaml" if res.crd else
                        "application/json-patch+json, application/merge-patch+json, "
                        "application/strategic-merge-patch+json, application/apply-patch+yaml")
            raise ApiError(415, "UnsupportedMediaType",
                           "the body of the request was in an unknown format - accepted media "
                           "types include: " + accepted)
        if not isinstance(new, dict):
            raise k8s.bad_request("patch did not produce an object")
        new.setdefault("metadata", {})
        # a patch carrying a resourceVersion is a precondition
        rv = new["metadata"].get("resourceVersion")
        check = rv is not None and rv != cur["metadata"]["resourceVersion"]
        if check:
            raise k8s.conflict(res, name)
        new["metadata"]["resourceVersion"] = cur["metadata"]["resourceVersion"]
        if res.plural == "namespaces" and sub is None:
            # spec/status changes are ignored on the main resource of a namespace
            pass
        return self._finish_update(res, cur, new, user, dry, False, sub)

    # -------------------------------------------------------------- delete
    def delete(self, res, ns, name, body, q, user=""):
        opts = {}
        if body:
            try:
                opts = json.loads(body)
            except ValueError:
                raise k8s.bad_request("the body of the request was not valid JSON") from None
            if not isinstance(opts, dict):
                opts = {}
        dry = self._dry(q) or bool(opts.get("dryRun"))
        if opts.get("dryRun"):
            self._dry({"dryRun": opts["dryRun"]})
        policy = opts.get("propagationPolicy") or _one(q, "propagationPolicy")
        if opts.get("orphanDependents") is True:
            policy = policy or "Orphan"
        if policy not in (None, "Orphan", "Background", "Foreground"):
            raise k8s.invalid(res, name, [("propagationPolicy", "Unsupported value: %s" % policy,
                                           policy)])
        grace = opts.get("gracePeriodSeconds")
        if grace is None and _one(q, "gracePeriodSeconds") is not None:
            grace = int(_one(q, "gracePeriodSeconds"))
        with self.store.lock:
            cur = self._get_or_404(res, ns if res.namespaced else "", name)
            pre = opts.get("preconditions") or {}
            if pre.get("uid") and pre["uid"] != cur["metadata"]["uid"]:
                raise k8s.conflict(res, name, "Precondition failed: UID in precondition: %s, "
                                   "UID in object meta: %s" % (pre["uid"], cur["metadata"]["uid"]))
            if pre.get("resourceVersion") and pre["resourceVersion"] != cur["metadata"]["resourceVersion"]:
                raise k8s.conflict(res, name, "Precondition failed: ResourceVersion in "
                                   "precondition: %s, ResourceVersion in object meta: %s"
                                   % (pre["resourceVersion"], cur["metadata"]["resourceVersion"]))
            self._admit(res, "DELETE", cur, None, user)
            md = cur["metadata"]
            if res.plural == "namespaces":
                if md.get("deletionTimestamp"):
                    return cur
                o = copy.deepcopy(cur)
                o["metadata"]["deletionTimestamp"] = k8s.rfc3339()
                o["metadata"]["deletionGracePeriodSeconds"] = 0
                o["status"]["phase"] = "Terminating"
                if dry:
                    return o
                return self.store.put(res, o)
            if res.plural == "pods":
                if md.get("deletionTimestamp") and grace is None:
                    return cur
                o = copy.deepcopy(cur)
                g = grace if grace is not None else (o.get("spec") or {}).get(
                    "terminationGracePeriodSeconds", 30)
                o["metadata"]["deletionTimestamp"] = k8s.rfc3339(time.time() + g)
                o["metadata"]["deletionGracePeriodSeconds"] = g
                if dry:
                    return o
                return self.store.put(res, o)
            fins = list(md.get("finalizers") or [])
            if policy == "Foreground" and "foregroundDeletion" not in fins:
                fins.append("foregroundDeletion")
            if fins:
                if md.get("deletionTimestamp"):
                    return cur
                o = copy.deepcopy(cur)
                o["metadata"]["deletionTimestamp"] = k8s.rfc3339()
                o["metadata"]["deletionGracePeriodSeconds"] = 0
                o["metadata"]["finalizers"] = fins
                if dry:
                    return o
                return self.store.put(res, o)
            if dry:
                return k8s.success_status(res, name, md["uid"])
            if policy == "Orphan":
                for dres, dep in self.store.dependents(md["uid"]):
                    def drop(o, uid=md["uid"]):
                        o["metadata"]["ownerReferences"] = [
                            r for r in o["metadata"].get("ownerReferences", []) if r.get("uid") != uid]
                        if not o["metadata"]["ownerReferences"]:
                            del o["metadata"]["ownerReferences"]
                    self.store.update(dres, dep["metadata"].get("namespace", ""),
                                      dep["metadata"]["name"], drop)
            self.store.remove(res, ns if res.namespaced else "", name)
            return k8s.success_status(res, name, md["uid"])


def _one(q, k):
    v = q.get(k)
    if not v:
        return None
    return v[0]
