#!/usr/bin/python3
"""campaign.py: kubectl-nublado under randomised, seeded faults, with invariants checked.

usage:
  tests/faults/campaign.py [--runs N] [--seed S] [--jobs J] [--real-hub | --real-hub-share F]
                           [--bin PATH] [--keep] [--quick] [--replay RUNSEED] [--verbose]

Each run: a private test cluster (tests/cluster/cluster up), snapshots of the
cluster and of the database, one command (wipe-db -y, kill-labs -y, unblock -y
or restart-hub -y) under a fault mix drawn from the run's seed (some faults
changed while it runs: bursts, revocations, exec drops during pg_dump or during
the drop), the invariants, then a plain re-run with the faults cleared, and the
invariants again:

  I1  no namespace outside the lab set deleted; no other object deleted but the
      hub's pods (restart), the blocked GafaelfawrIngresses (until unblock) and
      what lived in the deleted labs; no database object that the JupyterHub
      role does not own dropped or changed, in any database
  I2  no drop without a complete, verified backup on disk first (the backup's
      mtime before the moment a poller saw the tables go; the journal agrees)
  I3  the run completed (exit 0 and the result is there), or it exited
      non-zero with `error: STEP: ...' and a `hint:' line; the plain re-run
      then completes
  I4  if the drop committed, the hub restart was issued (restartedAt changed)

Prints one table row per run and a summary; exits 1 on any violation.
--quick runs a fixed, deterministic list of scenarios, one per fault kind.
"""

import argparse
import concurrent.futures
import datetime
import glob
import json
import os
import random
import re
import shutil
import signal
import ssl
import subprocess
import sys
import tempfile
import threading
import time
import urllib.request

TOP = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
CLUSTER = os.path.join(TOP, "tests", "cluster", "cluster")
STEPS = ("preflight", "block", "kill-labs", "backup", "drop", "unblock", "restart-hub")
HUB_INGRESSES = ("proxy", "proxy-labs", "proxy-spawn")
RESTARTED_AT = "kubectl.kubernetes.io/restartedAt"
DUMP_TRAILER = "-- PostgreSQL database dump complete"
PSQL_HEADER = "--\n-- kubectl-nublado database backup: psql COPY"
PSQL_TRAILER = "-- kubectl-nublado backup complete"
# The deployments' PostgreSQL majors (DOMAIN.md): in-cluster 12, Debian's 15, Cloud SQL 16,
# CloudNativePG 17.  The pod's pg_dump is 15: 16 and 17 get the psql backup.
PG_MAJORS = [12, 15, 16, 17]

KINDS = ("429", "5xx", "reset", "watch-cut", "continue-expire", "exec-drop-backup",
         "exec-drop-drop", "stuck-ns", "token-expire", "revoke", "hub-unready")
APPLIES = {
    "wipe-db": KINDS,
    "kill-labs": ("429", "5xx", "reset", "watch-cut", "continue-expire", "stuck-ns",
                  "token-expire", "revoke"),
    "unblock": ("429", "5xx", "reset", "watch-cut", "token-expire", "revoke"),
    "restart-hub": ("429", "5xx", "reset", "watch-cut", "token-expire", "revoke",
                    "hub-unready"),
}


# ------------------------------------------------------------------ scenarios

class Scenario:
    """What one run does: all of it drawn from its seed, or written by hand (--quick)."""

    def __init__(self, seed, command, kinds, real_hub=False):
        self.seed = seed
        self.command = command
        self.kinds = list(kinds)
        self.real_hub = real_hub
        self.context = "sim"
        self.labs = 5
        self.pg = 15                # the PostgreSQL major of the run's server
        self.timeout = 60           # the command's --timeout, seconds
        self.base = {}              # faults from `up'
        # chains of (trigger, changes), each chain in order, chains side by side;
        # changes set fault keys, None removes one
        self.events = []
        self.notes = []

    def faults_text(self):
        parts = ["%s=%s" % (k, v) for k, v in sorted(self.base.items())]
        for trig, ch in (ev for chain in self.events for ev in chain):
            what = ",".join("%s=%s" % (k, "off" if v is None else v) for k, v in ch.items())
            parts.append("@%s:%s" % (trig_text(trig), what))
        return " ".join(parts)


def trig_text(t):
    kind, arg = t
    if kind == "after":
        return "%.1fs" % arg
    return "%s:%s" % (kind, arg)


def add_kind(sc, kind, rng):
    """Apply one fault kind to a scenario."""
    b = sc.base
    if kind == "429":
        b["429"] = round(rng.uniform(0.1, 0.3), 2)
        b["retry-after"] = rng.choice([0, 1, 1])
        if rng.random() < 0.3:
            b["paths"] = rng.choice(["^/api/v1/namespaces", "^/apis/", "exec$|/deployments"])
    elif kind == "5xx":
        code = rng.choice(["500", "503"])
        if rng.random() < 0.5:
            # a burst: everything fails for a while, then the server recovers
            at = round(rng.uniform(0.2, 2.5), 1)
            sc.events.append([(("after", at), {code: round(rng.uniform(0.7, 1.0), 2)}),
                              (("after-prev", round(rng.uniform(0.5, 3.0), 1)), {code: None})])
        else:
            b[code] = round(rng.uniform(0.05, 0.2), 2)
        if code == "503" and rng.random() < 0.5:
            b["retry-after"] = 1
    elif kind == "reset":
        b["reset"] = round(rng.uniform(0.05, 0.2), 2)
    elif kind == "watch-cut":
        b["watch-cut"] = round(rng.uniform(0.05, 0.6), 2)
        b["ns-delete-delay"] = round(rng.uniform(0.5, 2.0), 1)
    elif kind == "continue-expire":
        sc.labs = rng.randint(501, 530)     # pages of 500: a continue token
        sc.real_hub = False
        b["continue-expire"] = round(rng.uniform(0.3, 0.8), 2)
    elif kind == "exec-drop-backup":
        if rng.random() < 0.5:
            # every pg_dump dropped (the checks before print less than this)
            b["exec-drop"] = rng.randint(6000, 25000)
        else:
            b["latency"] = max(b.get("latency", 0), 100)
            # a dump cut short once or twice, then the connection holds
            sc.events.append([(("backup-file", ""), {"exec-drop": rng.randint(1, 25000)}),
                              (("after-prev", round(rng.uniform(0.3, 1.5), 1)),
                               {"exec-drop": None})])
    elif kind == "exec-drop-drop":
        # Latency gives the window to switch exec-drop on between the backup
        # and the drop; it goes off again a little later (or at once when the
        # journal says dropped), so the checks after may or may not see it.
        b["latency"] = max(b.get("latency", 0), 120)
        sc.events.append([(("journal", "backedUp"), {"exec-drop": 1}),
                          (("after-prev", round(rng.uniform(0.2, 2.0), 1)), {"exec-drop": None})])
    elif kind == "stuck-ns":
        names = ["nublado-user%03d" % rng.randint(1, sc.labs) for _ in range(rng.randint(1, 2))]
        b["stuck-ns"] = "|".join(sorted(set(names)))
        if rng.random() < 0.5:
            sc.events.append([(("after", round(rng.uniform(1.0, 4.0), 1)), {"stuck-ns": None})])
            sc.timeout = 60
        else:
            sc.timeout = rng.randint(3, 6)  # gives up, names the namespace
    elif kind == "token-expire":
        sc.context = "sim-exec-beta"        # tokens live 5 s
        b["latency"] = max(b.get("latency", 0), rng.randint(60, 150))
        b["ns-delete-delay"] = round(rng.uniform(1.0, 3.0), 1)
    elif kind == "revoke":
        if sc.context == "sim":
            sc.context = rng.choice(["sim-token", "sim-tokenfile", "sim-exec-beta"])
        b["revoke-after"] = rng.randint(2, 45)
    elif kind == "hub-unready":
        secs = rng.randint(2, 10)
        if sc.command == "wipe-db" and rng.random() < 0.6:
            # the new hub is slow to be Ready (before the backup: the old one is not
            # Ready either, and preflight refuses)
            sc.events.append([(("journal", "backedUp"), {"hub-unready": secs})])
        else:
            b["hub-unready"] = secs
        sc.timeout = rng.choice([60, 60, 5])


def draw(run_seed, real_hub_share, force_real_hub):
    """The scenario of a run seed.  Consecutive seeds take turns at the fault kinds."""
    rng = random.Random(run_seed)
    primary = KINDS[run_seed % len(KINDS)]
    cmd = rng.choices(["wipe-db", "kill-labs", "unblock", "restart-hub"], [60, 15, 10, 15])[0]
    if primary not in APPLIES[cmd]:
        cmd = "wipe-db"
    kinds = APPLIES[cmd]
    chosen = [primary]
    for _ in range(rng.choice([0, 0, 1, 1, 2])):
        k = rng.choice(kinds)
        if k not in chosen:
            chosen.append(k)
    real = force_real_hub or (cmd in ("wipe-db", "restart-hub") and rng.random() < real_hub_share)
    sc = Scenario(run_seed, cmd, chosen, real)
    sc.labs = rng.randint(3, 12)
    if rng.random() < 0.3:
        sc.base["latency"] = rng.randint(5, 40)
    # revoke last: it picks a bearer context unless another kind chose one
    for k in sorted(chosen, key=lambda k: k == "revoke"):
        add_kind(sc, k, rng)
    if sc.context == "sim" and rng.random() < 0.3:
        sc.context = rng.choice(["sim-token", "sim-exec-beta"])
    if "continue-expire" in chosen:
        sc.real_hub = False
    sc.pg = rng.choice(PG_MAJORS)    # drawn last: the draws before it stay as they were
    return sc


def quick_scenarios():
    """One fixed scenario per fault kind: deterministic specs, fixed seeds."""
    out = []

    def sc(seed, cmd, kinds, base, events=(), ctx="sim", labs=5, timeout=60, real=False):
        s = Scenario(seed, cmd, kinds, real)
        s.base = dict(base)
        s.events = list(events)
        s.context, s.labs, s.timeout = ctx, labs, timeout
        # every major in turn; the backup cut (9005) and the drop cut (9006) on 16: psql's backup
        s.pg = {9005: 16, 9006: 16}.get(seed, PG_MAJORS[seed % len(PG_MAJORS)])
        out.append(s)

    sc(9001, "wipe-db", ["429"], {"429": 0.3, "retry-after": 1, "paths": "^/api"})
    sc(9002, "wipe-db", ["5xx"], {"500": 0.1, "retry-after": 1},
       [[(("after", 0.5), {"503": 1.0}), (("after", 2.5), {"503": None})]])
    sc(9003, "wipe-db", ["reset"], {"reset": 0.15}, ctx="sim-token")
    sc(9004, "kill-labs", ["continue-expire", "watch-cut"],
       {"continue-expire": 1.0, "watch-cut": 0.2, "ns-delete-delay": 1.0}, labs=510)
    sc(9005, "wipe-db", ["exec-drop-backup"], {"exec-drop": 12000})
    sc(9006, "wipe-db", ["exec-drop-drop"], {"latency": 120},
       [[(("journal", "backedUp"), {"exec-drop": 1}), (("after-prev", 1.0), {"exec-drop": None})]])
    sc(9007, "wipe-db", ["stuck-ns"], {"stuck-ns": "nublado-user002"}, timeout=4)
    sc(9008, "restart-hub", ["hub-unready", "token-expire"],
       {"hub-unready": 6, "latency": 100}, ctx="sim-exec-beta")
    sc(9009, "unblock", ["revoke"], {"revoke-after": 3}, ctx="sim-token")
    return out


# ------------------------------------------------------------------ the cluster

class Cluster:
    def __init__(self, d):
        self.dir = d
        self.env = {}
        with open(os.path.join(d, "env")) as f:
            for line in f:
                line = line.strip()
                if line.startswith("export ") and "=" in line:
                    k, v = line[7:].split("=", 1)
                    self.env[k] = v
        self.ctx = ssl.create_default_context(cafile=os.path.join(d, "ca.crt"))
        self.nublado_db = re.sub(r"/[^/]*$", "/nublado", self.env["SIM_DB_ADMIN_URL"])
        self.other_db = re.sub(r"/[^/]*$", "/otherdb", self.env["SIM_DB_ADMIN_URL"])
        self.role = re.match(r"postgresql://([^@:]+)", self.env["SIM_DB_URL_NOPW"]).group(1)

    def control(self, method, path, body=None):
        req = urllib.request.Request(self.env["SIM_SERVER"] + path, data=body, method=method,
                                     headers={"Authorization": "Bearer " + self.env["SIM_ADMIN_TOKEN"]})
        with urllib.request.urlopen(req, context=self.ctx, timeout=30) as r:
            return r.read()

    def set_faults(self, spec):
        return self.control("PUT", "/_sim/faults", spec.encode()).decode().strip()

    def state(self):
        return json.loads(self.control("GET", "/_sim/state"))["items"]


def spec_of(d):
    return ",".join("%s=%s" % (k, v) for k, v in sorted(d.items()) if v is not None)


def psql(url, sql, timeout=30):
    p = subprocess.run(["psql", "-X", "-A", "-t", "-q", "-F", "\t", "-v", "ON_ERROR_STOP=1",
                        url, "-c", sql], capture_output=True, text=True, timeout=timeout)
    if p.returncode != 0:
        raise RuntimeError("psql: %s" % p.stderr.strip())
    return [line.split("\t") for line in p.stdout.splitlines() if line]


DB_OBJECTS = r"""
select 'rel', n.nspname, c.relname, c.relkind::text, r.rolname, c.oid::text,
  case when c.relkind in ('r','p','m') and r.rolname <> '%(role)s'
    then md5(query_to_xml(format('select * from %%I.%%I', n.nspname, c.relname),
         false, false, '')::text) else '' end
from pg_class c join pg_namespace n on n.oid = c.relnamespace join pg_roles r on r.oid = c.relowner
where n.nspname <> 'information_schema' and n.nspname !~ '^pg_'
union all
select 'schema', n.nspname, '', '', r.rolname, n.oid::text, ''
from pg_namespace n join pg_roles r on r.oid = n.nspowner
where n.nspname <> 'information_schema' and n.nspname !~ '^pg_'
union all
select 'proc', n.nspname, p.proname, '', r.rolname, p.oid::text, ''
from pg_proc p join pg_namespace n on n.oid = p.pronamespace join pg_roles r on r.oid = p.proowner
where n.nspname <> 'information_schema' and n.nspname !~ '^pg_'
"""


def db_snapshot(cl):
    """Every object in the two databases, by owner; content hashes of others' tables."""
    snap = {"objects": {}, "users": None}
    for label, url in (("nublado", cl.nublado_db), ("otherdb", cl.other_db)):
        for row in psql(url, DB_OBJECTS % {"role": cl.role}):
            kind, schema, name, relkind, owner, oid, h = row + [""] * (7 - len(row))
            snap["objects"][(label, kind, schema, name)] = (owner, oid, h)
    snap["roles"] = sorted(r[0] for r in psql(cl.env["SIM_DB_ADMIN_URL"],
                                              "select rolname from pg_roles order by 1"))
    snap["databases"] = sorted(r[0] for r in psql(cl.env["SIM_DB_ADMIN_URL"],
                                                  "select datname from pg_database"))
    rows = psql(cl.nublado_db, "select count(*) from public.users") \
        if ("nublado", "rel", "public", "users") in snap["objects"] else []
    snap["users"] = int(rows[0][0]) if rows else None
    return snap


def jh_objects(snap, role):
    return {k: v for k, v in snap["objects"].items() if k[0] == "nublado" and v[0] == role}


class DropWatch(threading.Thread):
    """Poll the users table's oid: the first moment it changed is the drop, as seen."""

    def __init__(self, cl, oid):
        super().__init__(daemon=True)
        self.cl, self.oid = cl, oid
        self.seen = []          # times the oid changed (drop of the first run, of the re-run)
        self.stop = threading.Event()

    def run(self):
        last = self.oid
        while not self.stop.is_set():
            try:
                rows = psql(self.cl.nublado_db,
                            "select coalesce(to_regclass('public.users')::oid::text, '-')", 10)
                cur = rows[0][0] if rows else "-"
            except (RuntimeError, subprocess.TimeoutExpired, OSError):
                cur = last
            if cur != last:
                if last == self.oid or (last != "-" and cur != last):
                    # the original tables went (or the new ones were dropped again)
                    self.seen.append(time.time())
                last = cur
            self.stop.wait(0.1)


# ------------------------------------------------------------------ one run

def obj_key(o):
    m = o["metadata"]
    return (o["kind"], m.get("namespace", ""), m["name"])


def labset(items):
    """The lab namespaces as kill-labs must select them (prefix nublado-, category lab)."""
    return {o["metadata"]["name"] for o in items if o["kind"] == "Namespace"
            and o["metadata"]["name"].startswith("nublado-")
            and (o["metadata"].get("labels") or {}).get("nublado.lsst.io/category") == "lab"}


def hub_ingresses(items):
    """GafaelfawrIngresses in nublado routing to proxy-public or to lab creation (what
    block removes)."""
    out = set()
    for o in items:
        if o["kind"] != "GafaelfawrIngress" or o["metadata"].get("namespace") != "nublado":
            continue
        text = json.dumps(o.get("template", {}))
        if '"proxy-public"' in text or re.search(r'/spawner/v1/labs/[^"]*/create"', text):
            out.add(o["metadata"]["name"])
    return out


def restarted_at(items):
    for o in items:
        if o["kind"] == "Deployment" and obj_key(o) == ("Deployment", "nublado", "hub"):
            return ((o["spec"]["template"]["metadata"].get("annotations") or {})
                    .get(RESTARTED_AT))
    return None


def hub_ready(items):
    for o in items:
        if o["kind"] != "Pod" or o["metadata"].get("namespace") != "nublado":
            continue
        lab = o["metadata"].get("labels") or {}
        if lab.get("app") != "jupyterhub" or lab.get("component") != "hub":
            continue
        if o["metadata"].get("deletionTimestamp"):
            continue
        for c in o.get("status", {}).get("conditions") or []:
            if c.get("type") == "Ready" and c.get("status") == "True":
                return True
    return False


def rfc3339(s):
    try:
        return datetime.datetime.strptime(s, "%Y-%m-%dT%H:%M:%SZ").replace(
            tzinfo=datetime.timezone.utc).timestamp()
    except (TypeError, ValueError):
        return None


class Run:
    def __init__(self, idx, sc, opts, workdir):
        self.idx, self.sc, self.opts = idx, sc, opts
        self.dir = os.path.join(workdir, "run-%03d-%d" % (idx, sc.seed))
        self.violations = []
        self.outcome = "?"
        self.rerun = "-"
        self.injected = {}
        self.seconds = 0.0
        self.log = []
        self.error = None

    def v(self, msg):
        self.violations.append(msg)

    def note(self, msg):
        self.log.append(msg)

    # ---- processes
    def nub(self, args, timeout, tag):
        st = os.path.join(self.dir, "state")
        env = dict(os.environ, XDG_STATE_HOME=st, NO_COLOR="1")
        env.pop("KUBECONFIG", None)
        argv = [self.opts.bin, "--kubeconfig", os.path.join(self.dir, "kubeconfig"),
                "--context", self.sc.context, "-v"] + args
        t0 = time.time()
        p = subprocess.Popen(argv, stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=env,
                             text=True, start_new_session=True)
        try:
            out, err = p.communicate(timeout=timeout)
            rc = p.returncode
        except subprocess.TimeoutExpired:
            os.killpg(p.pid, signal.SIGKILL)
            out, err = p.communicate()
            rc = None
        with open(os.path.join(self.dir, "%s.out" % tag), "w") as f:
            f.write("$ %s\n# exit %s after %.1fs\n--- stdout\n%s--- stderr\n%s" % (
                " ".join(argv), rc, time.time() - t0, out, err))
        return rc, out, err

    def up(self):
        os.makedirs(self.dir)
        os.chmod(self.dir, 0o755)
        argv = [CLUSTER, "up", self.dir, "--labs", str(self.sc.labs), "--seed", str(self.sc.seed),
                "--pg-version", str(self.sc.pg)]
        if self.sc.real_hub:
            argv.append("--real-hub")
        p = subprocess.run(argv, capture_output=True, text=True, timeout=180)
        if p.returncode != 0:
            raise RuntimeError("cluster up failed: %s%s" % (p.stdout, p.stderr))
        self.cl = Cluster(self.dir)

    def down(self):
        subprocess.run([CLUSTER, "down", self.dir], capture_output=True, timeout=120)

    # ---- faults while the command runs
    def driver(self, stop, state_dir, t0):
        """Apply the scenario's fault changes as their triggers fire (chains side by side)."""
        cur = dict(self.sc.base)
        chains = [list(c) for c in self.sc.events]
        prev_at = [t0] * len(chains)
        while not stop.is_set() and any(chains):
            now = time.time()
            for i, chain in enumerate(chains):
                if not chain:
                    continue
                (kind, arg), changes = chain[0]
                if not self.fired(kind, arg, now, t0, prev_at[i], state_dir):
                    continue
                chain.pop(0)
                for k, v in changes.items():
                    if v is None:
                        cur.pop(k, None)
                    else:
                        cur[k] = v
                prev_at[i] = time.time()
                try:
                    self.cl.set_faults(spec_of(cur))
                    self.note("%.2fs faults -> %s" % (prev_at[i] - t0, spec_of(cur)))
                except OSError as e:
                    self.note("cannot change faults: %s" % e)
            stop.wait(0.005)

    @staticmethod
    def fired(kind, arg, now, t0, prev_at, state_dir):
        if kind == "after":
            return now - t0 >= arg
        if kind == "after-prev":
            return now - prev_at >= arg
        if kind == "backup-file":
            return bool(glob.glob(os.path.join(state_dir, "*", "backups", "*.sql")))
        if kind == "journal":
            for jf in glob.glob(os.path.join(state_dir, "*", "wipe.json")):
                try:
                    with open(jf) as f:
                        if arg in json.load(f):
                            return True
                except (OSError, ValueError):
                    pass
        return False

    def count_injected(self, lines):
        """Fault answers in the API server's log (the command's part of it)."""
        c = {}
        for line in lines:
            parts = line.split()
            if len(parts) < 4 or parts[2].startswith("/_sim/"):
                continue
            code = parts[3]
            if code in ("429", "500", "503", "410", "401"):
                c[code] = c.get(code, 0) + 1
        return c

    # ---- the run
    def execute(self):
        t_start = time.time()
        try:
            self.up()
        except (RuntimeError, subprocess.TimeoutExpired) as e:
            self.outcome = "setup-failed"
            self.v("cluster up failed: %s" % str(e)[-300:])
            return
        try:
            self.body()
        except Exception as e:  # a campaign bug must not hide as a pass
            import traceback
            self.v("campaign error: %s" % e)
            self.note(traceback.format_exc())
        finally:
            self.down()
            self.seconds = time.time() - t_start
            with open(os.path.join(self.dir, "report.txt"), "w") as f:
                f.write("scenario: %s %s ctx=%s labs=%d real-hub=%s timeout=%ds\nfaults: %s\n" % (
                    self.sc.command, ",".join(self.sc.kinds), self.sc.context, self.sc.labs,
                    self.sc.real_hub, self.sc.timeout, self.sc.faults_text()))
                f.write("PostgreSQL %d\n" % self.sc.pg)
                f.write("outcome: %s, re-run: %s\n" % (self.outcome, self.rerun))
                for m in self.log:
                    f.write("note: %s\n" % m)
                for m in self.violations:
                    f.write("VIOLATION: %s\n" % m)
            if not self.violations and not self.opts.keep:
                shutil.rmtree(self.dir, ignore_errors=True)

    def body(self):
        sc, cl = self.sc, self.cl
        cmd = sc.command
        state_dir = os.path.join(self.dir, "state", "kubectl-nublado")
        s0 = cl.state()
        db0 = db_snapshot(cl)
        labs0 = labset(s0)
        ing0 = hub_ingresses(s0)
        r0 = restarted_at(s0)
        if cmd == "unblock":
            # something to unblock: block first, without faults
            rc, out, err = self.nub(["block", "-y"], 120, "setup-block")
            if rc != 0:
                raise RuntimeError("setup block failed: %s" % err)
        jh0 = jh_objects(db0, cl.role)
        users_oid = db0["objects"].get(("nublado", "rel", "public", "users"), (None, "-"))[1]
        watch = DropWatch(cl, users_oid)
        watch.start()

        # ---- the command under faults
        logf = os.path.join(self.dir, "log", "apiserver.log")
        nlog = sum(1 for _ in open(logf))
        cl.set_faults(spec_of(sc.base))
        stop = threading.Event()
        t0 = time.time()
        drv = threading.Thread(target=self.driver, args=(stop, state_dir, t0), daemon=True)
        drv.start()
        args = [cmd, "-y", "--timeout", "%ds" % sc.timeout]
        rc, out, err = self.nub(args, sc.timeout * 3 + 120, "run")
        stop.set()
        drv.join()
        cl.set_faults("")
        with open(logf) as f:
            self.injected = self.count_injected(f.readlines()[nlog:])
        time.sleep(0.3)     # let the drop poller catch up
        s1 = cl.state()
        db1 = db_snapshot(cl)
        seen_first = list(watch.seen)

        if rc is None:
            self.outcome = "hung"
            self.v("the command did not finish in %ds" % (sc.timeout * 3 + 120))
        elif rc == 0:
            self.outcome = "completed"
        else:
            self.outcome = "failed(%d)" % rc
            self.error = last_error(err)
            m = re.search(r"^error: ([a-z-]+): ", err, re.M)
            if m and m.group(1) in STEPS:
                self.outcome += "@" + m.group(1)
            self.check_message(rc, err)

        self.check_kept(s0, s1, db0, db1, labs0, ing0, after_rerun=False)
        dropped1 = self.check_drop(db0, db1, jh0, s1, r0, seen_first, state_dir, rc, err)
        if rc == 0:
            self.check_done(cmd, s0, s1, db0, db1, jh0, labs0, ing0, r0, state_dir)
        if dropped1 and rc != 0 and not self.outcome.startswith("dropped"):
            self.outcome += "+dropped"

        # ---- the plain re-run, faults off
        rc2, out2, err2 = self.nub([cmd, "-y", "--timeout", "90s"], 300, "rerun")
        time.sleep(0.3)
        watch.stop.set()
        watch.join()
        s2 = settled(cl)
        db2 = db_snapshot(cl)
        if rc2 != 0:
            self.rerun = "FAILED(%s)" % rc2
            self.v("the plain re-run exited %s: %s" % (rc2, last_error(err2)))
        else:
            self.rerun = "ok"
        self.check_kept(s0, s2, db0, db2, labs0, ing0, after_rerun=True)
        self.check_drop(db0, db2, jh0, s2, r0, watch.seen, state_dir, rc2, err2)
        if rc2 == 0:
            self.check_done(cmd, s0, s2, db0, db2, jh0, labs0, ing0, r0, state_dir)

    # ---- invariants
    def check_message(self, rc, err):
        """I3: a failure names its step and says what to do."""
        if rc not in (1, 3, 130):
            self.v("exit code %d is not a documented failure code" % rc)
        errs = [l for l in err.splitlines() if l.startswith("error: ")]
        if not errs:
            self.v("exit %d without an `error:' line" % rc)
            return
        last = errs[-1]
        if not any(last.startswith("error: %s: " % s) for s in STEPS):
            self.v("the error does not name the step: %s" % last[:200])
        if not any(l.startswith("hint: ") for l in err.splitlines()):
            self.v("no `hint:' line after: %s" % last[:200])

    def check_kept(self, s0, s1, db0, db1, labs0, ing0, after_rerun):
        """I1: nothing deleted that should stay (cluster and database)."""
        cmd = self.sc.command
        keys1 = {obj_key(o) for o in s1}
        may_kill_labs = cmd in ("wipe-db", "kill-labs")
        restarts = cmd in ("wipe-db", "restart-hub")
        blocks = cmd in ("wipe-db", "unblock") and not after_rerun
        for o in s0:
            k = obj_key(o)
            if k in keys1:
                continue
            kind, ns, name = k
            if may_kill_labs and (kind == "Namespace" and name in labs0 or ns in labs0):
                continue
            if restarts and kind in ("Pod", "ReplicaSet") and ns == "nublado" and \
                    name.startswith("hub-"):
                continue
            if blocks and ns == "nublado" and kind in ("GafaelfawrIngress", "Ingress") \
                    and name in ing0:
                continue
            if kind == "Namespace":
                self.v("namespace %s deleted (not a lab)" % name)
            else:
                self.v("%s %s/%s deleted" % (kind, ns, name))
        # the database: everything the JupyterHub role does not own stays, unchanged
        for k, (owner, oid, h) in db0["objects"].items():
            if owner == self.cl.role and k[0] == "nublado":
                continue
            now = db1["objects"].get(k)
            if now is None:
                self.v("database object %s dropped (owner %s)" % ("/".join(k), owner))
            elif now[1] != oid:
                self.v("database object %s re-created (owner %s)" % ("/".join(k), owner))
            elif now[2] != h:
                self.v("table %s changed (owner %s)" % ("/".join(k), owner))
        if db1["roles"] != db0["roles"]:
            self.v("database roles changed: %s -> %s" % (db0["roles"], db1["roles"]))
        if db1["databases"] != db0["databases"]:
            self.v("databases changed: %s -> %s" % (db0["databases"], db1["databases"]))

    def check_drop(self, db0, db1, jh0, s1, r0, seen, state_dir, rc, err):
        """I2 and I4: a drop had a complete backup before it, and a restart after it."""
        jh1 = jh_objects(db1, self.cl.role)
        gone = [k for k, v in jh0.items() if jh1.get(k, (None, None))[1] != v[1]]
        if not gone:
            return False
        if len(gone) != len(jh0):
            self.v("a partial drop: %d of %d JupyterHub objects gone" % (len(gone), len(jh0)))
        if self.sc.command != "wipe-db":
            self.v("the JupyterHub tables were dropped by %s" % self.sc.command)
            return True
        if not seen:
            self.v("the tables are gone but the poller never saw them go")
            t_drop = time.time()
        else:
            t_drop = seen[0]
        # I2: a complete backup, written before the drop
        ctxdir = context_dir(state_dir, self.sc.context)
        good = []
        for f in sorted(glob.glob(os.path.join(ctxdir, "backups", "*.sql"))):
            why = backup_problem(f, jh0, db0["users"])
            mt = os.stat(f).st_mtime
            if why is None and mt <= t_drop:
                good.append(f)
            elif why is None:
                self.note("backup %s written %.3fs after the drop" % (f, mt - t_drop))
            else:
                self.note("backup %s: %s" % (f, why))
            mode = os.stat(f).st_mode & 0o777
            if mode != 0o600:
                self.v("backup %s has mode %o, not 600" % (f, mode))
        if not good:
            self.v("the tables were dropped with no complete backup on disk before the drop")
        j = load_journal(ctxdir)
        if j is None or not j.get("dropped"):
            self.v("the tables were dropped but the journal has no `dropped'")
        else:
            if not j.get("backedUp") or j["backedUp"] > j["dropped"]:
                self.v("journal: dropped at %s without backedUp before it (%s)" % (
                    j.get("dropped"), j.get("backedUp")))
            if j.get("backup") not in good:
                self.v("journal names backup %s, not a complete one from before the drop" %
                       j.get("backup"))
        # I4: the restart was issued after the drop
        r1 = restarted_at(s1)
        if r1 == r0 or r1 is None:
            if "THE DATABASE WAS DROPPED" in err and "restart-hub" in err \
                    and "revoke" in self.sc.kinds and rc not in (0, None):
                # every credential revoked between the drop and the restart: the
                # one case no client can restart; it must say so, loudly
                self.outcome = "dropped,restart-refused(reported)"
                self.note("drop committed, restart impossible (tokens revoked), reported")
            else:
                self.v("the drop committed but the hub restart was not issued")
        else:
            t_r = rfc3339(r1)
            if t_r is not None and t_r < int(t_drop) - 1:
                self.v("restartedAt %s is before the drop (%.0f)" % (r1, t_drop))
        return True

    def check_done(self, cmd, s0, s1, db0, db1, jh0, labs0, ing0, r0, state_dir):
        """Exit 0 means the job is done."""
        names1 = {o["metadata"]["name"] for o in s1 if o["kind"] == "Namespace"}
        left = sorted(labs0 & names1)
        if cmd in ("wipe-db", "kill-labs") and left:
            self.v("exit 0 but labs remain: %s" % " ".join(left[:5]))
        if cmd in ("wipe-db", "unblock"):
            missing = ing0 - hub_ingresses(s1)
            if missing:
                self.v("exit 0 but access not restored: %s missing" % " ".join(sorted(missing)))
        if cmd in ("wipe-db", "restart-hub"):
            if restarted_at(s1) in (None, r0):
                self.v("exit 0 but the hub was not restarted")
            if not hub_ready(s1):
                self.v("exit 0 but no Ready hub pod")
        if cmd == "wipe-db":
            jh1 = jh_objects(db1, self.cl.role)
            if any(jh1.get(k, (None, None))[1] == v[1] for k, v in jh0.items()):
                self.v("exit 0 but the JupyterHub tables were not dropped")
            if ("nublado", "rel", "public", "alembic_version") not in jh1:
                self.v("exit 0 but the hub has not recreated its schema")
            elif db1["users"] not in (0, None):
                self.v("exit 0 but users has %s rows" % db1["users"])
            j = load_journal(context_dir(state_dir, self.sc.context))
            if j is None or not j.get("completed"):
                self.v("exit 0 but the journal does not say completed")


def settled(cl):
    """The state once Gafaelfawr has generated an Ingress for each GafaelfawrIngress."""
    for _ in range(20):
        s = cl.state()
        keys = {obj_key(o) for o in s}
        if all(("Ingress", ns, name) in keys for kind, ns, name in keys
               if kind == "GafaelfawrIngress"):
            return s
        time.sleep(0.25)
    return s


def context_dir(state_dir, context):
    """The context's state directory: its name percent-encoded, '.', a digest of the
    cluster's identity (src/util/statedir.h); one cluster per run, so one match."""
    enc = "".join(c if c.isascii() and (c.isalnum() or c in "-_") else "%%%02X" % ord(c)
                  for c in context)
    found = glob.glob(os.path.join(state_dir, glob.escape(enc) + ".*"))
    return found[0] if len(found) == 1 else os.path.join(state_dir, enc + ".none")


def load_journal(ctxdir):
    try:
        with open(os.path.join(ctxdir, "wipe.json")) as f:
            return json.load(f)
    except (OSError, ValueError):
        return None


def backup_problem(path, jh0, users):
    """None when the backup is complete: the trailer, every table, all users rows."""
    try:
        with open(path, errors="replace") as f:
            text = f.read()
    except OSError as e:
        return str(e)
    psql = text.startswith(PSQL_HEADER)
    if (PSQL_TRAILER if psql else DUMP_TRAILER) not in text[-4096:]:
        return "no %s trailer (incomplete)" % ("psql backup" if psql else "pg_dump")
    tables = [k[3] for k, v in jh0.items() if k[1] == "rel" and k[2] == "public"]
    # pg_dump makes each table and loads it; psql's backup loads rows into the hub's schema
    have = set(re.findall(r'^COPY "public"\."(\w+)" ' if psql else r"^CREATE TABLE public\.(\w+) ",
                          text, re.M))
    for t in ("users", "alembic_version", "api_tokens", "spawners"):
        if t in tables and t not in have:
            return "table %s missing" % t
    m = re.search(r'^COPY (?:"public"\."users"|public\.users) \(.*?\) FROM stdin;\n(.*?)^\\\.$',
                  text, re.M | re.S)
    if users is not None:
        n = len(m.group(1).splitlines()) if m else 0
        if n != users:
            return "users has %d rows in the backup, %d in the database" % (n, users)
    return None


def last_error(err):
    errs = [l for l in err.splitlines() if l.startswith("error: ")]
    return errs[-1][:200] if errs else err.strip()[-200:]


# ------------------------------------------------------------------ main

def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--runs", type=int, default=100)
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--jobs", type=int, default=2)
    ap.add_argument("--real-hub", action="store_true",
                    help="every run with a real JupyterHub (5.2, the test cluster's --real-hub)")
    ap.add_argument("--real-hub-share", type=float, default=0.2)
    ap.add_argument("--bin", default=os.path.join(TOP, "build", "kubectl-nublado"))
    ap.add_argument("--keep", action="store_true", help="keep every run's directory")
    ap.add_argument("--quick", action="store_true", help="the fixed scenarios of faults-quick")
    ap.add_argument("--replay", type=int, help="one run, this run seed")
    ap.add_argument("--workdir", help="where runs go (default: a new /tmp/nub-faults.*)")
    o = ap.parse_args()
    o.bin = os.path.abspath(o.bin)
    if not os.access(o.bin, os.X_OK):
        sys.exit("campaign: no binary %s (make it first)" % o.bin)

    if o.quick:
        scenarios = quick_scenarios()
    elif o.replay is not None:
        scenarios = [draw(o.replay, o.real_hub_share, o.real_hub)]
    else:
        # run seeds SEED*100000+1, +2, ...: each names its run (--replay)
        scenarios = [draw(o.seed * 100000 + i + 1, o.real_hub_share, o.real_hub)
                     for i in range(o.runs)]
    workdir = o.workdir or tempfile.mkdtemp(prefix="nub-faults.", dir="/tmp")
    os.makedirs(workdir, exist_ok=True)
    print("campaign: %d runs, %d at a time, in %s (binary %s)" % (
        len(scenarios), o.jobs, workdir, o.bin), flush=True)
    hdr = "%-4s %-10s %-11s %-13s %-4s %-5s %-34s %-28s %-6s %-5s %s" % (
        "run", "seed", "command", "context", "hub", "pg", "faults", "outcome", "re-run", "viol",
        "secs")
    print(hdr)
    print("-" * len(hdr), flush=True)
    t0 = time.time()
    runs = [Run(i + 1, sc, o, workdir) for i, sc in enumerate(scenarios)]
    lock = threading.Lock()

    def one(r):
        r.execute()
        with lock:
            print("%-4d %-10d %-11s %-13s %-4s pg%-3d %-34s %-28s %-6s %-5d %.0f" % (
                r.idx, r.sc.seed, r.sc.command, r.sc.context, "jh5" if r.sc.real_hub else "sim",
                r.sc.pg,
                ",".join(r.sc.kinds)[:34], r.outcome[:28], r.rerun, len(r.violations),
                r.seconds), flush=True)
            for m in r.violations:
                print("     VIOLATION: %s" % m, flush=True)
            if r.violations:
                print("     (kept %s; replay: %s --replay %d)" % (
                    r.dir, sys.argv[0], r.sc.seed), flush=True)
        return r

    interrupted = False
    with concurrent.futures.ThreadPoolExecutor(max_workers=max(1, o.jobs)) as ex:
        futs = [ex.submit(one, r) for r in runs]
        try:
            for f in futs:
                f.result()
        except KeyboardInterrupt:
            interrupted = True
            for f in futs:
                f.cancel()
    done = [r for r in runs if r.outcome != "?"]
    viol = sum(len(r.violations) for r in done)
    kinds = {}
    for r in done:
        for k in r.sc.kinds:
            kinds[k] = kinds.get(k, 0) + 1
    inj = {}
    for r in done:
        for k, n in r.injected.items():
            inj[k] = inj.get(k, 0) + n
    events = sum(len(c) for r in done for c in r.sc.events)
    outcomes = {}
    for r in done:
        key = re.sub(r"\(\d+\)", "", r.outcome)
        outcomes[key] = outcomes.get(key, 0) + 1
    print("")
    print("runs: %d (%s) in %.0fs" % (len(done), ", ".join(
        "%s %d" % kv for kv in sorted(outcomes.items())), time.time() - t0))
    print("commands: %s" % ", ".join("%s %d" % (c, sum(1 for r in done if r.sc.command == c))
                                     for c in APPLIES))
    print("real hub (JupyterHub 5): %d runs" % sum(1 for r in done if r.sc.real_hub))
    print("PostgreSQL: %s" % ", ".join("%d: %d runs" % (m, sum(1 for r in done if r.sc.pg == m))
                                       for m in PG_MAJORS))
    print("fault kinds (runs): %s" % ", ".join("%s %d" % (k, kinds.get(k, 0)) for k in KINDS))
    print("faults injected: %s HTTP fault answers (%s), %d mid-run fault changes%s" % (
        sum(inj.values()), ", ".join("%s: %d" % kv for kv in sorted(inj.items())), events,
        "; plus resets, watch cuts and exec drops (not counted)"))
    failed = [r for r in done if r.error]
    if failed:
        print("failures (each named its step and gave a hint; the plain re-run then completed):")
        for r in failed:
            print("  %4d %s" % (r.idx, re.sub(r"\s+", " ", r.error)[:160]))
    print("re-runs ok: %d of %d" % (sum(1 for r in done if r.rerun == "ok"), len(done)))
    print("invariant violations: %d" % viol)
    if viol == 0 and not interrupted and not o.keep:
        shutil.rmtree(workdir, ignore_errors=True)
    if interrupted:
        return 130
    return 1 if viol else 0


if __name__ == "__main__":
    sys.exit(main())
