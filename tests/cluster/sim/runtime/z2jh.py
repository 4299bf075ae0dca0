"""Read the hub pod's mounted chart values and secrets, the way Z2JH's z2jh.py does.

The runtime copies this file to /usr/local/etc/jupyterhub/z2jh.py in the pod (as the
chart does); the hub config and the stand-in hub import it from there.

- values: secret/values.yaml, then existing-secret/values.yaml merged over it (wins);
- secrets: existing-secret/KEY first, then secret/KEY, read verbatim (no strip).
"""

import os

BASE = "/usr/local/etc/jupyterhub"
_UNSET = "never-explicitly-set"


def _scalar(text):
    text = text.strip()
    if len(text) >= 2 and text[0] == text[-1] and text[0] in "'\"":
        return text[1:-1]
    if text in ("", "null", "~"):
        return None
    if text in ("true", "false"):
        return text == "true"
    try:
        return int(text)
    except ValueError:
        return text


def _parse_yaml(text):
    """Nested block mappings of scalars: all the values files here use."""
    try:
        import yaml
    except ImportError:
        yaml = None
    if yaml is not None:
        return yaml.safe_load(text) or {}
    root = {}
    stack = [(-1, root)]
    for raw in text.splitlines():
        line = raw.split(" #", 1)[0].rstrip()
        if not line.strip() or line.lstrip().startswith("#"):
            continue
        indent = len(line) - len(line.lstrip())
        key, _, value = line.strip().partition(":")
        while stack[-1][0] >= indent:
            stack.pop()
        parent = stack[-1][1]
        if value.strip():
            parent[_scalar(key)] = _scalar(value)
        else:
            child = {}
            parent[_scalar(key)] = child
            stack.append((indent, child))
    return root


def _merge(base, over):
    out = dict(base)
    for key, value in over.items():
        if isinstance(value, dict) and isinstance(out.get(key), dict):
            out[key] = _merge(out[key], value)
        else:
            out[key] = value
    return out


def load_values(base=BASE):
    cfg = {}
    for source in ("secret/values.yaml", "existing-secret/values.yaml"):
        path = os.path.join(base, source)
        if os.path.exists(path):
            with open(path) as f:
                cfg = _merge(cfg, _parse_yaml(f.read()) or {})
    return cfg


def get_config(key, default=None, base=BASE):
    value = load_values(base)
    for part in key.split("."):
        if not isinstance(value, dict) or part not in value:
            return default
        value = value[part]
    return value


def get_secret_value(key, default=_UNSET, base=BASE):
    for source in ("existing-secret", "secret"):
        path = os.path.join(base, source, key)
        if os.path.exists(path):
            with open(path) as f:
                return f.read()
    if default != _UNSET:
        return default
    raise KeyError(f"secret key {key!r} not found in {base}/existing-secret or {base}/secret")
