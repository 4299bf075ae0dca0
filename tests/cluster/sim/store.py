"""The object store: every object, one global resourceVersion, an event log.

Stored objects are never mutated in place: a writer copies, changes and puts
the copy back. Readers can therefore take references under the lock and
serialise them after releasing it. The lock is held only for short critical
sections, never across I/O or a sleep.
"""

import bisect
import copy
import os
import random
import threading
import uuid

from . import k8s

EVENT_LOG_MAX = 50000


class Event:
    __slots__ = ("rv", "key", "type", "obj", "old")

    def __init__(self, rv, key, type_, obj, old):
        self.rv = rv
        self.key = key
        self.type = type_
        self.obj = obj
        self.old = old


class Store:
    def __init__(self, seed=0):
        self.lock = threading.RLock()
        self.cond = threading.Condition(self.lock)
        self.objs = {r.key: {} for r in k8s.RESOURCES}
        self.rv = 1000
        self.events = []
        self.event_rvs = []
        self.oldest_rv = self.rv  # watches from before this answer 410
        # Every cluster's objects get their own UIDs, as real clusters do (kube-system's
        # tells two clusters apart); the fault seed stays reproducible without them.
        self._uid_rng = random.Random("uid-%s-%s" % (seed, os.urandom(8).hex()))
        self.listeners = []  # callables(event), called under the lock; must not block
        self.by_ns = {}   # namespace -> set of (reskey, name)
        self.owners = {}  # owner uid -> set of (reskey, ns, name)

    # -- helpers
    def new_uid(self):
        with self.lock:
            return str(uuid.UUID(int=self._uid_rng.getrandbits(128), version=4))

    def get(self, res, ns, name):
        with self.lock:
            return self.objs[res.key].get((ns or "", name))

    def items(self, res, ns=None):
        """Sorted (ns,name) -> obj pairs for a resource, optionally one namespace."""
        with self.lock:
            d = self.objs[res.key]
            if ns:
                return sorted(((k, v) for k, v in d.items() if k[0] == ns))
            return sorted(d.items())

    def all_objects(self):
        with self.lock:
            out = []
            for r in k8s.RESOURCES:
                for k, v in sorted(self.objs[r.key].items()):
                    out.append((r, v))
            return out

    def current_rv(self):
        with self.lock:
            return self.rv

    def _index(self, res, k, old, new):
        if res.namespaced:
            if old is None and new is not None:
                self.by_ns.setdefault(k[0], set()).add((res.key, k[1]))
            elif new is None and old is not None:
                s = self.by_ns.get(k[0])
                if s is not None:
                    s.discard((res.key, k[1]))
                    if not s:
                        del self.by_ns[k[0]]
        ou = {r.get("uid") for r in (old or {}).get("metadata", {}).get("ownerReferences") or []}
        nu = {r.get("uid") for r in (new or {}).get("metadata", {}).get("ownerReferences") or []}
        for u in ou - nu:
            s = self.owners.get(u)
            if s is not None:
                s.discard((res.key,) + k)
                if not s:
                    del self.owners[u]
        for u in nu - ou:
            self.owners.setdefault(u, set()).add((res.key,) + k)

    def in_namespace(self, ns):
        with self.lock:
            out = []
            for key, name in sorted(self.by_ns.get(ns, ())):
                o = self.objs[key].get((ns, name))
                if o is not None:
                    out.append((k8s.BY_KEY[key], o))
            return out

    def dependents(self, uid):
        with self.lock:
            out = []
            for key, ns, name in sorted(self.owners.get(uid, ())):
                o = self.objs[key].get((ns, name))
                if o is not None:
                    out.append((k8s.BY_KEY[key], o))
            return out

    # -- writes (caller passes a fresh object it owns)
    def _emit(self, res, type_, obj, old):
        ev = Event(self.rv, res.key, type_, obj, old)
        self.events.append(ev)
        self.event_rvs.append(self.rv)
        if len(self.events) > EVENT_LOG_MAX:
            cut = EVENT_LOG_MAX // 2
            self.oldest_rv = self.events[cut - 1].rv
            del self.events[:cut]
            del self.event_rvs[:cut]
        for fn in self.listeners:
            try:
                fn(res, ev)
            except Exception:  # a listener must never break a write
                import traceback
                traceback.print_exc()
        self.cond.notify_all()

    def put(self, res, obj, type_=None):
        """Store obj (ADDED or MODIFIED), stamping a new resourceVersion."""
        with self.lock:
            md = obj["metadata"]
            k = (md.get("namespace", "") if res.namespaced else "", md["name"])
            old = self.objs[res.key].get(k)
            self.rv += 1
            md["resourceVersion"] = str(self.rv)
            self.objs[res.key][k] = obj
            self._index(res, k, old, obj)
            self._emit(res, type_ or ("MODIFIED" if old is not None else "ADDED"), obj, old)
            return obj

    def remove(self, res, ns, name):
        with self.lock:
            k = (ns or "", name)
            old = self.objs[res.key].pop(k, None)
            if old is None:
                return None
            self._index(res, k, old, None)
            self.rv += 1
            obj = copy.deepcopy(old)
            obj["metadata"]["resourceVersion"] = str(self.rv)
            self._emit(res, "DELETED", obj, old)
            return obj

    def update(self, res, ns, name, fn):
        """Apply fn(copy) to a stored object and put it back (if fn returns
        something other than False). Returns the new object or None."""
        with self.lock:
            cur = self.objs[res.key].get((ns or "", name))
            if cur is None:
                return None
            o = copy.deepcopy(cur)
            if fn(o) is False:
                return cur
            if o == cur:
                return cur
            return self.put(res, o)

    # -- watch support
    def events_after(self, rv):
        """Events with rv > given; None if rv is older than the log holds."""
        with self.lock:
            if rv < self.oldest_rv:
                return None
            i = bisect.bisect_right(self.event_rvs, rv)
            return self.events[i:]
