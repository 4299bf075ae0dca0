"""JSON merge patch (RFC 7386), JSON patch (RFC 6902) and strategic merge
patch (the subset of Kubernetes' rules that built-in objects here need)."""

import copy

from .k8s import bad_request, ApiError


def merge_patch(target, patch):
    if not isinstance(patch, dict):
        return copy.deepcopy(patch)
    if not isinstance(target, dict):
        target = {}
    out = dict(target)
    for k, v in patch.items():
        if v is None:
            out.pop(k, None)
        else:
            out[k] = merge_patch(out.get(k), v)
    return out


# strategic merge: list fields merged by key (patchMergeKey in the Go types)
MERGE_KEYS = {
    "containers": "name", "initContainers": "name", "ephemeralContainers": "name",
    "env": "name", "volumes": "name", "volumeMounts": "mountPath",
    "volumeDevices": "devicePath", "ports": "containerPort", "conditions": "type",
    "imagePullSecrets": "name", "ownerReferences": "uid", "tolerations": None,
    "hostAliases": "ip", "topologySpreadConstraints": "topologyKey",
}
MERGE_PRIMITIVE = {"finalizers"}


def strategic_merge(target, patch, field=None):
    if not isinstance(patch, dict):
        return copy.deepcopy(patch)
    if not isinstance(target, dict):
        target = {}
    directive = patch.get("$patch")
    if directive == "replace":
        return {k: copy.deepcopy(v) for k, v in patch.items() if k != "$patch"}
    if directive == "delete":
        return None
    if directive not in (None, "merge"):
        raise bad_request('Unknown patch type: %s' % directive)
    out = dict(target)
    retain = patch.get("$retainKeys")
    for k, v in patch.items():
        if k in ("$patch", "$retainKeys") or k.startswith("$setElementOrder/"):
            continue
        if k.startswith("$deleteFromPrimitiveList/"):
            name = k.split("/", 1)[1]
            if isinstance(out.get(name), list):
                out[name] = [x for x in out[name] if x not in v]
            continue
        if v is None:
            out.pop(k, None)
            continue
        cur = out.get(k)
        if isinstance(v, list):
            out[k] = _merge_list(cur, v, k)
        elif isinstance(v, dict):
            r = strategic_merge(cur, v, k)
            if r is None:
                out.pop(k, None)
            else:
                out[k] = r
        else:
            out[k] = v
    if isinstance(retain, list):
        out = {k: v for k, v in out.items() if k in retain}
    return out


def _merge_list(cur, patch, field):
    key = MERGE_KEYS.get(field)
    if field in MERGE_PRIMITIVE and isinstance(cur, list):
        out = list(cur)
        for x in patch:
            if x not in out:
                out.append(x)
        return out
    if not key or not isinstance(cur, list) or not all(isinstance(x, dict) for x in patch):
        # replace, honouring a lone {"$patch": "replace"} marker
        return [copy.deepcopy(x) for x in patch
                if not (isinstance(x, dict) and x.get("$patch") == "replace")]
    out = [copy.deepcopy(x) for x in cur]
    for item in patch:
        if item.get("$patch") == "replace":
            return [copy.deepcopy(x) for x in patch if x.get("$patch") != "replace"]
        kv = item.get(key)
        idx = next((i for i, x in enumerate(out) if isinstance(x, dict) and x.get(key) == kv), None)
        if item.get("$patch") == "delete":
            if idx is not None:
                out.pop(idx)
            continue
        if idx is None:
            out.append(strategic_merge({}, item, field))
        else:
            out[idx] = strategic_merge(out[idx], item, field)
    return out


# ---------------------------------------------------------------- RFC 6902

def _ptr(path):
    if path == "":
        return []
    if not path.startswith("/"):
        raise bad_request('the server rejected our request due to an error in our request')
    return [p.replace("~1", "/").replace("~0", "~") for p in path[1:].split("/")]


def _walk(doc, parts):
    cur = doc
    for p in parts:
        if isinstance(cur, dict):
            if p not in cur:
                raise KeyError(p)
            cur = cur[p]
        elif isinstance(cur, list):
            cur = cur[int(p)]
        else:
            raise KeyError(p)
    return cur


def json_patch(doc, ops):
    if not isinstance(ops, list):
        raise bad_request("json: cannot unmarshal object into Go value of type jsonpatch.Patch")
    doc = copy.deepcopy(doc)
    for op in ops:
        kind = op.get("op")
        try:
            parts = _ptr(op.get("path", ""))
            if kind in ("add", "replace", "test"):
                val = copy.deepcopy(op.get("value"))
            if kind == "test":
                if _walk(doc, parts) != val:
                    raise ApiError(422, "Invalid", "the server rejected our request due to an "
                                   "error in our request: testing value %s failed"
                                   % op.get("path"))
                continue
            if kind in ("move", "copy"):
                src = _ptr(op.get("from", ""))
                val = copy.deepcopy(_walk(doc, src))
                if kind == "move":
                    parent = _walk(doc, src[:-1])
                    if isinstance(parent, list):
                        parent.pop(int(src[-1]))
                    else:
                        del parent[src[-1]]
                kind = "add"
            if not parts:
                if kind in ("add", "replace"):
                    doc = val
                    continue
                raise bad_request("cannot remove the root")
            parent = _walk(doc, parts[:-1])
            last = parts[-1]
            if kind == "add":
                if isinstance(parent, list):
                    if last == "-":
                        parent.append(val)
                    else:
                        parent.insert(int(last), val)
                else:
                    parent[last] = val
            elif kind == "replace":
                if isinstance(parent, list):
                    parent[int(last)] = val
                else:
                    if last not in parent:
                        raise KeyError(last)
                    parent[last] = val
            elif kind == "remove":
                if isinstance(parent, list):
                    parent.pop(int(last))
                else:
                    del parent[last]
            else:
                raise bad_request("Unexpected kind: %s" % kind)
        except (KeyError, IndexError, ValueError, TypeError):
            raise ApiError(422, "Invalid", "the server rejected our request due to an error "
                           "in our request") from None
    return doc
