"""Kubernetes API vocabulary for the simulated API server.

The resource registry, Status errors with the codes and reasons a real
kube-apiserver uses, label/field selectors, timestamps and name hashing.
"""

import json
import re
import time

GIT_VERSION = "v1.32.4"


class Resource:
    def __init__(self, group, version, plural, kind, namespaced, short=(),
                 singular=None, crd=False, generation=False, categories=(),
                 subresources=(), fields=(), verbs=None):
        self.group = group
        self.version = version
        self.plural = plural
        self.kind = kind
        self.namespaced = namespaced
        self.short = list(short)
        self.singular = singular or kind.lower()
        self.crd = crd
        self.generation = generation
        self.categories = list(categories)
        self.subresources = list(subresources)
        # field selectors supported beyond metadata.name / metadata.namespace
        self.fields = dict(fields)
        # virtual resources (reviews) are answered, never stored
        self.verbs = verbs or ["create", "delete", "get", "list", "patch", "update", "watch"]
        self.virtual = verbs == ["create"]

    @property
    def api_version(self):
        return self.version if not self.group else self.group + "/" + self.version

    @property
    def key(self):
        return self.group + "/" + self.plural

    @property
    def qualified(self):
        """What a Status message names: `deployments.apps`, `namespaces`."""
        return self.plural if not self.group else self.plural + "." + self.group


def _phase(o):
    return (o.get("status") or {}).get("phase", "")


RESOURCES = [
    Resource("", "v1", "namespaces", "Namespace", False, short=["ns"],
             subresources=["status", "finalize"],
             fields={"status.phase": _phase}),
    Resource("", "v1", "pods", "Pod", True, short=["po"], categories=["all"],
             subresources=["exec", "log", "status"],
             fields={"status.phase": _phase,
                     "spec.nodeName": lambda o: (o.get("spec") or {}).get("nodeName", ""),
                     "spec.restartPolicy": lambda o: (o.get("spec") or {}).get("restartPolicy", ""),
                     "spec.schedulerName": lambda o: (o.get("spec") or {}).get("schedulerName", ""),
                     "spec.serviceAccountName": lambda o: (o.get("spec") or {}).get("serviceAccountName", ""),
                     "status.podIP": lambda o: (o.get("status") or {}).get("podIP", ""),
                     "status.nominatedNodeName": lambda o: (o.get("status") or {}).get("nominatedNodeName", "")}),
    Resource("", "v1", "configmaps", "ConfigMap", True, short=["cm"]),
    Resource("", "v1", "secrets", "Secret", True,
             fields={"type": lambda o: o.get("type", "")}),
    Resource("", "v1", "services", "Service", True, short=["svc"], categories=["all"],
             subresources=["status"]),
    Resource("", "v1", "serviceaccounts", "ServiceAccount", True, short=["sa"]),
    Resource("apps", "v1", "deployments", "Deployment", True, short=["deploy"],
             categories=["all"], generation=True, subresources=["status", "scale"]),
    Resource("apps", "v1", "replicasets", "ReplicaSet", True, short=["rs"],
             categories=["all"], generation=True, subresources=["status", "scale"],
             fields={"status.replicas": lambda o: str((o.get("status") or {}).get("replicas", 0))}),
    Resource("networking.k8s.io", "v1", "ingresses", "Ingress", True, short=["ing"],
             generation=True, subresources=["status"]),
    Resource("gafaelfawr.lsst.io", "v1alpha1", "gafaelfawringresses", "GafaelfawrIngress",
             True, short=["gafingress", "gafingresses"], crd=True, generation=True,
             subresources=["status"]),
    Resource("argoproj.io", "v1alpha1", "applications", "Application", True,
             short=["app", "apps"], crd=True, generation=True),
    Resource("authorization.k8s.io", "v1", "selfsubjectaccessreviews",
             "SelfSubjectAccessReview", False, verbs=["create"]),
    Resource("authentication.k8s.io", "v1", "selfsubjectreviews", "SelfSubjectReview", False,
             verbs=["create"]),
]

BY_PATH = {(r.group, r.version, r.plural): r for r in RESOURCES}
BY_KEY = {r.key: r for r in RESOURCES}
BY_KIND = {(r.api_version, r.kind): r for r in RESOURCES}

GROUPS = []  # (group, [versions]) in discovery order
for _r in RESOURCES:
    if _r.group and _r.group not in [g for g, _ in GROUPS]:
        GROUPS.append((_r.group, [_r.version]))


def res_for(api_version, kind):
    return BY_KIND.get((api_version, kind))


# ---------------------------------------------------------------- errors

class ApiError(Exception):
    """A Status failure a handler returns to the client."""

    def __init__(self, code, reason, message, details=None, headers=None,
                 body=None):
        super().__init__(message)
        self.code = code
        self.reason = reason
        self.message = message
        self.details = details
        self.headers = headers or {}
        self.body = body  # raw body overriding the Status (plain text 429)

    def status(self):
        s = {"kind": "Status", "apiVersion": "v1", "metadata": {},
             "status": "Failure", "message": self.message, "reason": self.reason}
        if self.details:
            s["details"] = self.details
        s["code"] = self.code
        return s


def _details(res, name):
    d = {}
    if name:
        d["name"] = name
    if res.group:
        d["group"] = res.group
    d["kind"] = res.plural
    return d


def not_found(res, name):
    return ApiError(404, "NotFound", '%s "%s" not found' % (res.qualified, name),
                    _details(res, name))


def already_exists(res, name):
    return ApiError(409, "AlreadyExists", '%s "%s" already exists' % (res.qualified, name),
                    _details(res, name))


def conflict(res, name, why="the object has been modified; please apply your "
             "changes to the latest version and try again"):
    return ApiError(409, "Conflict", 'Operation cannot be fulfilled on %s "%s": %s'
                    % (res.qualified, name, why), _details(res, name))


def forbidden(user, verb, res_plural, group, name, namespace, qualified=None):
    what = qualified or (res_plural if not group else res_plural.split("/")[0] + "." + group)
    head = '%s "%s" is forbidden' % (what, name) if name else "%s is forbidden" % what
    scope = ('in the namespace "%s"' % namespace) if namespace else "at the cluster scope"
    msg = '%s: User "%s" cannot %s resource "%s" in API group "%s" %s' % (
        head, user, verb, res_plural, group, scope)
    d = {}
    if name:
        d["name"] = name
    if group:
        d["group"] = group
    d["kind"] = res_plural.split("/")[0]
    return ApiError(403, "Forbidden", msg, d)


def invalid(res, name, causes):
    """causes: list of (field, message-after-colon, value)"""
    parts = []
    cs = []
    for field, msg, value in causes:
        if value is None:
            text = "%s: %s" % (field, msg)
            cm = msg
            reason = "FieldValueRequired"
        else:
            text = '%s: Invalid value: %s: %s' % (field, json.dumps(value), msg)
            cm = 'Invalid value: %s: %s' % (json.dumps(value), msg)
            reason = "FieldValueInvalid"
        parts.append(text)
        cs.append({"reason": reason, "message": cm, "field": field})
    if len(parts) == 1:
        joined = parts[0]
    else:
        joined = "[" + ", ".join(parts) + "]"
    d = {"name": name, "kind": res.kind, "causes": cs}
    if res.group:
        d["group"] = res.group
    return ApiError(422, "Invalid", '%s "%s" is invalid: %s' % (res.kind, name, joined), d)


def bad_request(msg):
    return ApiError(400, "BadRequest", msg)


def gone_expired(msg=None):
    return ApiError(410, "Expired", msg or (
        "The provided continue parameter is too old to display a consistent list result. "
        "You can start a new list without the continue parameter, or use the continue token "
        "in this response to retrieve the remainder of the results. Continuing with the "
        "provided token results in an inconsistent list - objects that were created, "
        "modified, or deleted between the time the first chunk was returned and now may "
        "show up in the list."))


UNAUTHORIZED = ApiError(401, "Unauthorized", "Unauthorized")


def success_status(res, name, uid):
    d = {"name": name}
    if res.group:
        d["group"] = res.group
    d["kind"] = res.plural
    d["uid"] = uid
    return {"kind": "Status", "apiVersion": "v1", "metadata": {}, "status": "Success",
            "details": d}


# ---------------------------------------------------------------- time

def rfc3339(t=None):
    return time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(time.time() if t is None else t))


def parse_rfc3339(s):
    import calendar
    s = s.rstrip("Z")
    if "." in s:
        s = s.split(".")[0]
    return calendar.timegm(time.strptime(s[:19], "%Y-%m-%dT%H:%M:%S"))


def human_duration(d):
    """k8s.io/apimachinery/pkg/util/duration.HumanDuration"""
    secs = int(d)
    if secs < 0:
        return "<invalid>"
    if secs < 60 * 2:
        return "%ds" % secs
    minutes = secs // 60
    if minutes < 10:
        s = secs % 60
        return "%dm" % minutes if s == 0 else "%dm%ds" % (minutes, s)
    if minutes < 60 * 3:
        return "%dm" % minutes
    hours = secs // 3600
    if hours < 8:
        m = minutes % 60
        return "%dh" % hours if m == 0 else "%dh%dm" % (hours, m)
    if hours < 48:
        return "%dh" % hours
    if hours < 24 * 8:
        h = hours % 24
        return "%dd" % (hours // 24) if h == 0 else "%dd%dh" % (hours // 24, h)
    if hours < 24 * 365 * 2:
        return "%dd" % (hours // 24)
    if hours < 24 * 365 * 8:
        dy = (hours // 24) % 365
        return "%dy" % (hours // 24 // 365) if dy == 0 else "%dy%dd" % (hours // 24 // 365, dy)
    return "%dy" % (hours // 24 // 365)


# ---------------------------------------------------------------- names

DNS1123_LABEL = re.compile(r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?$")
DNS1123_SUBDOMAIN = re.compile(r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$")


def validate_name(res, name):
    """Return a list of invalid() causes for metadata.name."""
    if res.plural in ("namespaces", "services"):
        if len(name) > 63 or not DNS1123_LABEL.match(name):
            if len(name) > 63:
                return [("metadata.name", "must be no more than 63 characters", name)]
            return [("metadata.name",
                     "a lowercase RFC 1123 label must consist of lower case alphanumeric "
                     "characters or '-', and must start and end with an alphanumeric character "
                     "(e.g. 'my-name',  or '123-abc', regex used for validation is "
                     "'[a-z0-9]([-a-z0-9]*[a-z0-9])?')", name)]
        return []
    if len(name) > 253 or not DNS1123_SUBDOMAIN.match(name):
        return [("metadata.name",
                 "a lowercase RFC 1123 subdomain must consist of lower case alphanumeric "
                 "characters, '-' or '.', and must start and end with an alphanumeric "
                 "character (e.g. 'example.com', regex used for validation is "
                 "'[a-z0-9]([-a-z0-9]*[a-z0-9])?(\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*')", name)]
    return []


_SAFE = "bcdfghjklmnpqrstvwxz2456789"


def safe_encode(s):
    """k8s.io/apimachinery/pkg/util/rand.SafeEncodeString"""
    return "".join(_SAFE[ord(c) % len(_SAFE)] for c in s)


def fnv32a(data):
    h = 0x811C9DC5
    for b in data:
        h ^= b
        h = (h * 0x01000193) & 0xFFFFFFFF
    return h


def pod_template_hash(template, collision_count=0):
    blob = json.dumps(template, sort_keys=True, separators=(",", ":")).encode()
    if collision_count:
        blob += str(collision_count).encode()
    return safe_encode(str(fnv32a(blob)))


# ---------------------------------------------------------------- selectors

_LABEL_KEY = re.compile(r"^([a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*/)?"
                        r"[A-Za-z0-9]([-A-Za-z0-9_.]*[A-Za-z0-9])?$")
_LABEL_VALUE = re.compile(r"^(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])?$")


def _split_top(s):
    parts, depth, cur = [], 0, []
    for ch in s:
        if ch == "(":
            depth += 1
        elif ch == ")":
            depth -= 1
        if ch == "," and depth == 0:
            parts.append("".join(cur))
            cur = []
        else:
            cur.append(ch)
    parts.append("".join(cur))
    return parts


def _bad_selector(s, why):
    return bad_request("unable to parse requirement: %s" % why if why else
                       "unable to parse label selector %r" % s)


def parse_label_selector(s):
    """Return a list of (key, op, values) requirements; raise ApiError 400."""
    reqs = []
    if s is None or not s.strip():
        return reqs
    for part in _split_top(s):
        p = part.strip()
        if not p:
            raise bad_request("found '', expected: !, identifier, or 'end of string'")
        m = re.match(r"^(\S+)\s+(in|notin)\s*\((.*)\)$", p)
        if m:
            key, op = m.group(1), m.group(2)
            vals = [v.strip() for v in m.group(3).split(",")]
            if op == "in" and vals == [""]:
                raise bad_request("unable to parse requirement: for 'in', 'notin' operators, "
                                  "values set can't be empty")
        elif p.startswith("!"):
            key, op, vals = p[1:].strip(), "!", []
        elif "!=" in p:
            key, v = p.split("!=", 1)
            key, op, vals = key.strip(), "!=", [v.strip()]
        elif "==" in p:
            key, v = p.split("==", 1)
            key, op, vals = key.strip(), "=", [v.strip()]
        elif "=" in p:
            key, v = p.split("=", 1)
            key, op, vals = key.strip(), "=", [v.strip()]
        elif re.search(r"[\s()<>]", p):
            raise bad_request("unable to parse requirement: found '%s', expected: "
                              "in, notin, =, ==, !=, gt, lt" % p.split()[-1])
        else:
            key, op, vals = p, "exists", []
        if not _LABEL_KEY.match(key) or len(key.split("/")[-1]) > 63:
            raise bad_request("unable to parse requirement: <nil>: Invalid value: \"%s\": "
                              "name part must consist of alphanumeric characters, '-', '_' "
                              "or '.', and must start and end with an alphanumeric character"
                              % key)
        for v in vals:
            if len(v) > 63 or not _LABEL_VALUE.match(v):
                raise bad_request("unable to parse requirement: values[0][%s]: Invalid value: "
                                  "\"%s\": a valid label must be an empty string or consist of "
                                  "alphanumeric characters, '-', '_' or '.', and must start "
                                  "and end with an alphanumeric character" % (key, v))
        reqs.append((key, op, vals))
    return reqs


def label_match(reqs, labels):
    labels = labels or {}
    for key, op, vals in reqs:
        has = key in labels
        v = labels.get(key)
        if op == "=":
            if not has or v != vals[0]:
                return False
        elif op == "!=":
            if has and v == vals[0]:
                return False
        elif op == "in":
            if not has or v not in vals:
                return False
        elif op == "notin":
            if has and v in vals:
                return False
        elif op == "exists":
            if not has:
                return False
        elif op == "!":
            if has:
                return False
    return True


def parse_field_selector(res, s):
    reqs = []
    if s is None or not s.strip():
        return reqs
    for part in s.split(","):
        p = part.strip()
        if not p:
            continue
        if "!=" in p:
            k, v = p.split("!=", 1)
            op = "!="
        elif "==" in p:
            k, v = p.split("==", 1)
            op = "="
        elif "=" in p:
            k, v = p.split("=", 1)
            op = "="
        else:
            raise bad_request("invalid selector: '%s'; can't understand '%s'" % (s, p))
        k = k.strip()
        if k in ("metadata.name", "metadata.namespace"):
            getter = None
        elif k in res.fields:
            getter = res.fields[k]
        else:
            raise bad_request('field label not supported: %s' % k)
        reqs.append((k, op, v.strip(), getter))
    return reqs


def field_match(reqs, obj):
    md = obj.get("metadata") or {}
    for k, op, v, getter in reqs:
        if k == "metadata.name":
            actual = md.get("name", "")
        elif k == "metadata.namespace":
            actual = md.get("namespace", "")
        else:
            actual = getter(obj)
        if op == "=" and actual != v:
            return False
        if op == "!=" and actual == v:
            return False
    return True
