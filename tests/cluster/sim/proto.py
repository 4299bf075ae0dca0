"""Decode the Kubernetes protobuf envelope (`application/vnd.kubernetes.protobuf`)
for the few built-in kinds kubectl sends as protobuf (e.g. `kubectl create ns`).
Field numbers are those of k8s.io/api generated.proto."""

from .k8s import ApiError

MAGIC = b"k8s\x00"


def _varint(b, i):
    shift = result = 0
    while True:
        c = b[i]
        i += 1
        result |= (c & 0x7F) << shift
        if not c & 0x80:
            return result, i
        shift += 7


def fields(b):
    """Yield (field number, wire type, value) from one message."""
    i = 0
    while i < len(b):
        key, i = _varint(b, i)
        num, wt = key >> 3, key & 7
        if wt == 0:
            v, i = _varint(b, i)
        elif wt == 1:
            v, i = b[i:i + 8], i + 8
        elif wt == 2:
            n, i = _varint(b, i)
            v, i = b[i:i + n], i + n
        elif wt == 5:
            v, i = b[i:i + 4], i + 4
        else:
            raise ValueError("unsupported wire type %d" % wt)
        yield num, wt, v


def _s(v):
    return v.decode("utf-8")


def _map(v, bytes_value=False):
    k = val = None
    for n, _, x in fields(v):
        if n == 1:
            k = _s(x)
        elif n == 2:
            val = x if bytes_value else _s(x)
    return k, ("" if val is None and not bytes_value else val if val is not None else b"")


def _time(v):
    import time as _t
    secs = 0
    for n, _, x in fields(v):
        if n == 1:
            secs = x
    return _t.strftime("%Y-%m-%dT%H:%M:%SZ", _t.gmtime(secs))


def _owner_ref(v):
    o = {}
    for n, _, x in fields(v):
        if n == 5:
            o["apiVersion"] = _s(x)
        elif n == 1:
            o["kind"] = _s(x)
        elif n == 3:
            o["name"] = _s(x)
        elif n == 4:
            o["uid"] = _s(x)
        elif n == 6:
            o["controller"] = bool(x)
        elif n == 7:
            o["blockOwnerDeletion"] = bool(x)
    return o


def object_meta(b):
    md = {}
    for n, _, v in fields(b):
        if n == 1 and v:
            md["name"] = _s(v)
        elif n == 2 and v:
            md["generateName"] = _s(v)
        elif n == 3 and v:
            md["namespace"] = _s(v)
        elif n == 5 and v:
            md["uid"] = _s(v)
        elif n == 6 and v:
            md["resourceVersion"] = _s(v)
        elif n == 7 and v:
            md["generation"] = v
        elif n == 11:
            k, val = _map(v)
            md.setdefault("labels", {})[k] = val
        elif n == 12:
            k, val = _map(v)
            md.setdefault("annotations", {})[k] = val
        elif n == 13:
            md.setdefault("ownerReferences", []).append(_owner_ref(v))
        elif n == 14:
            md.setdefault("finalizers", []).append(_s(v))
    return md


def _namespace(b):
    o = {}
    for n, _, v in fields(b):
        if n == 1:
            o["metadata"] = object_meta(v)
        elif n == 2:
            spec = {}
            for m, _, x in fields(v):
                if m == 1:
                    spec.setdefault("finalizers", []).append(_s(x))
            o["spec"] = spec
    return o


def _configmap(b):
    import base64
    o = {}
    for n, _, v in fields(b):
        if n == 1:
            o["metadata"] = object_meta(v)
        elif n == 2:
            k, val = _map(v)
            o.setdefault("data", {})[k] = val
        elif n == 3:
            k, val = _map(v, True)
            o.setdefault("binaryData", {})[k] = base64.b64encode(val).decode()
        elif n == 4:
            o["immutable"] = bool(v)
    return o


def _secret(b):
    import base64
    o = {}
    for n, _, v in fields(b):
        if n == 1:
            o["metadata"] = object_meta(v)
        elif n == 2:
            k, val = _map(v, True)
            o.setdefault("data", {})[k] = base64.b64encode(val).decode()
        elif n == 3 and v:
            o["type"] = _s(v)
        elif n == 4:
            k, val = _map(v)
            o.setdefault("stringData", {})[k] = val
        elif n == 5:
            o["immutable"] = bool(v)
    return o


def _delete_options(b):
    o = {}
    for n, _, v in fields(b):
        if n == 1:
            o["gracePeriodSeconds"] = v
        elif n == 2:
            pre = {}
            for m, _, x in fields(v):
                if m == 1:
                    pre["uid"] = _s(x)
                elif m == 2:
                    pre["resourceVersion"] = _s(x)
            o["preconditions"] = pre
        elif n == 3:
            o["orphanDependents"] = bool(v)
        elif n == 4:
            o["propagationPolicy"] = _s(v)
        elif n == 5:
            o.setdefault("dryRun", []).append(_s(v))
    return o


def _ssar(b):
    o = {"spec": {}}
    for n, _, v in fields(b):
        if n == 1:
            o["metadata"] = object_meta(v)
        elif n == 2:
            for m, _, x in fields(v):
                if m == 1:
                    ra = {}
                    names = {1: "namespace", 2: "verb", 3: "group", 4: "version", 5: "resource",
                             6: "subresource", 7: "name"}
                    for k, _, y in fields(x):
                        if k in names and y:
                            ra[names[k]] = _s(y)
                    o["spec"]["resourceAttributes"] = ra
                elif m == 2:
                    na = {}
                    for k, _, y in fields(x):
                        if k == 1:
                            na["path"] = _s(y)
                        elif k == 2:
                            na["verb"] = _s(y)
                    o["spec"]["nonResourceAttributes"] = na
    return o


def _ssr(b):
    return {"metadata": {}}


DECODERS = {("authorization.k8s.io/v1", "SelfSubjectAccessReview"): _ssar,
            ("authentication.k8s.io/v1", "SelfSubjectReview"): _ssr,
("v1", "Namespace"): _namespace, ("v1", "ConfigMap"): _configmap,
            ("v1", "Secret"): _secret, ("v1", "DeleteOptions"): _delete_options,
            ("meta.k8s.io/v1", "DeleteOptions"): _delete_options}


def decode(body):
    """Protobuf envelope -> a JSON-like dict; ApiError 415 for kinds not known here."""
    if not body.startswith(MAGIC):
        raise ApiError(400, "BadRequest", "provided data does not appear to be a protobuf "
                       "message, expected prefix [107 56 115 0]")
    api_version = kind = ""
    raw = b""
    for n, _, v in fields(body[4:]):
        if n == 1:
            for m, _, x in fields(v):
                if m == 1:
                    api_version = _s(x)
                elif m == 2:
                    kind = _s(x)
        elif n == 2:
            raw = v
    fn = DECODERS.get((api_version, kind))
    if fn is None:
        raise ApiError(415, "UnsupportedMediaType", "the body of the request was in an unknown "
                       "format - accepted media types include: application/json, "
                       "application/yaml")
    o = fn(raw)
    o["apiVersion"] = api_version
    o["kind"] = kind
    return o
