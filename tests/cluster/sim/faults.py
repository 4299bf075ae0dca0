"""Fault injection: the --faults SPEC grammar and the per-request decisions.

SPEC is a comma-separated list of NAME=VALUE items (see tests/cluster/README.md).
Random decisions come from one random.Random(seed), so a given seed and
request sequence gives the same faults.
"""

import random
import re
import threading
import time

FLOAT = ("429", "500", "503", "reset", "continue-expire")
SECONDS = ("retry-after", "watch-cut", "ns-delete-delay", "hub-unready")
INTS = ("latency", "exec-drop", "revoke-after")
KNOWN = set(FLOAT) | set(SECONDS) | set(INTS) | {
    "exec-proto", "exec-ws", "stuck-ns", "argocd-selfheal", "paths", "methods", "version",
    "lab-appears", "lab-at-dump", "hub-crashloop"}

DEFAULTS = {"ns-delete-delay": 0.5, "retry-after": 1}


class FaultError(ValueError):
    pass


def parse(spec):
    """Parse SPEC into a dict; raise FaultError with a clear message."""
    out = {}
    if not spec:
        return out
    for item in spec.split(","):
        item = item.strip()
        if not item:
            continue
        if "=" not in item:
            raise FaultError("fault %r: expected NAME=VALUE" % item)
        name, value = item.split("=", 1)
        name, value = name.strip(), value.strip()
        if name not in KNOWN:
            raise FaultError("unknown fault %r (known: %s)" % (name, ", ".join(sorted(KNOWN))))
        try:
            if name in FLOAT:
                v = float(value)
                if not 0 <= v <= 1:
                    raise FaultError("fault %s: %s is not a fraction in [0,1]" % (name, value))
                out[name] = v
            elif name in SECONDS:
                out[name] = float(value)
            elif name in INTS:
                out[name] = int(value)
            elif name == "exec-proto":
                if value not in ("v4", "v5"):
                    raise FaultError("fault exec-proto: expected v4 or v5")
                out[name] = value
            elif name == "exec-ws":
                if value not in ("on", "off"):
                    raise FaultError("fault exec-ws: expected on or off")
                out[name] = value
            elif name == "stuck-ns":
                out.setdefault(name, [])
                out[name].extend(v for v in value.split("|") if v)
            elif name in ("lab-appears", "lab-at-dump"):
                if not re.match(r"^[a-z][a-z0-9-]{0,30}$", value):
                    raise FaultError("fault %s: expected a user name" % name)
                out[name] = value
            elif name in ("argocd-selfheal", "hub-crashloop"):
                out[name] = value not in ("0", "false", "no", "off", "")
            elif name == "paths":
                re.compile(value)
                out[name] = value
            elif name == "version":
                if not re.match(r"^1\.[0-9]+$", value):
                    raise FaultError("fault version: expected 1.MINOR, e.g. 1.30")
                out[name] = value
            elif name == "methods":
                out[name] = [m.upper() for m in re.split(r"[|+/ ]", value) if m]
        except ValueError as e:
            if isinstance(e, FaultError):
                raise
            raise FaultError("fault %s: bad value %r" % (name, value)) from None
        except re.error as e:
            raise FaultError("fault paths: bad regular expression: %s" % e) from None
    return out


def format_spec(d):
    parts = []
    for k in sorted(d):
        v = d[k]
        if isinstance(v, list):
            v = "|".join(v)
        elif isinstance(v, bool):
            v = "1" if v else "0"
        parts.append("%s=%s" % (k, v))
    return ",".join(parts)


class Faults:
    def __init__(self, spec="", seed=0):
        self.lock = threading.Lock()
        self.rng = random.Random(seed)
        self.seed = seed
        self.cfg = parse(spec)
        self.requests_since = 0  # for revoke-after
        self.revoked_at = None   # when revoke-after struck
        self.seen_before = set() # exec-beta tokens in use by then: revoked with it
        self._paths_re = re.compile(self.cfg["paths"]) if "paths" in self.cfg else None

    def set(self, spec):
        cfg = parse(spec)
        with self.lock:
            self.cfg = cfg
            self.rng = random.Random(self.seed)  # same seed, same sequence after each change
            self.requests_since = 0
            self._paths_re = re.compile(cfg["paths"]) if "paths" in cfg else None

    def get(self, name, default=None):
        v = self.cfg.get(name)
        if v is None:
            return DEFAULTS.get(name, default)
        return v

    def describe(self):
        return format_spec(self.cfg)

    def _applies(self, method, path):
        if self._paths_re is not None and not self._paths_re.search(path):
            return False
        ms = self.cfg.get("methods")
        if ms and method not in ms:
            return False
        return True

    def decide(self, method, path):
        """Pick this request's random fault: None, '429', '500', '503', 'reset'."""
        cfg = self.cfg
        if not any(cfg.get(k) for k in ("429", "500", "503", "reset")):
            return None
        with self.lock:
            if not self._applies(method, path):
                return None
            for k in ("429", "500", "503", "reset"):
                f = cfg.get(k)
                if f and self.rng.random() < f:
                    return k
        return None

    def continue_expired(self):
        f = self.cfg.get("continue-expire")
        if not f:
            return False
        with self.lock:
            return self.rng.random() < f

    def count_token_request(self):
        """Count a bearer-token request; True when tokens are revoked."""
        n = self.cfg.get("revoke-after")
        if n is None:
            return False
        with self.lock:
            self.requests_since += 1
            if self.requests_since > n and self.revoked_at is None:
                self.revoked_at = time.time()
            return self.requests_since > n

    def plugin_token_revoked(self, token):
        """An exec-plugin token in use before revoke-after struck is revoked with
        the rest; one the plugin hands out after that is good."""
        self.count_token_request()
        with self.lock:
            if self.revoked_at is None:
                self.seen_before.add(token)
                return False
            return token in self.seen_before
