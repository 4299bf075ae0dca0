#!/usr/bin/python3
"""kill-labs benchmark: kubectl-nublado vs the runbook's `kubectl delete ns ...`.

Same cluster build, same run: a fresh test cluster with N labs and injected
latency for each side; wall time and peak RSS of each client; the limit
RTT x ceil(N/parallel) + termination delay, and our distance from it.
Prints a table; never asserts (figures, not tests).
"""
import argparse
import json
import math
import os
import shutil
import subprocess
import sys
import tempfile
import time

TOP = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
CLUSTER = os.path.join(TOP, "tests", "cluster", "cluster")
KUBECTL = "/usr/lib/google-cloud-sdk/bin/kubectl.1.32"


def measured(argv, env=None):
    t0 = time.monotonic()
    pid = os.fork()
    if pid == 0:
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, 1)
        os.dup2(devnull, 2)
        try:
            os.execvpe(argv[0], argv, env or os.environ)
        finally:
            os._exit(127)
    _, status, ru = os.wait4(pid, 0)
    wall = time.monotonic() - t0
    return os.waitstatus_to_exitcode(status), wall, ru.ru_maxrss, ru.ru_utime + ru.ru_stime


def cluster_up(d, labs, latency, delay):
    subprocess.run([CLUSTER, "up", d, "--labs", str(labs), "--latency-ms", str(latency),
                    "--faults", "ns-delete-delay=%s" % delay],
                   check=True, stdout=subprocess.DEVNULL)


def cluster_down(d):
    subprocess.run([CLUSTER, "down", d], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)


def lab_names(d):
    out = subprocess.run([CLUSTER, "state", d], check=True, capture_output=True, text=True).stdout
    names = []
    for o in json.loads(out)["items"]:
        m = o["metadata"]
        if (o["kind"] == "Namespace" and m["name"].startswith("nublado-")
                and m.get("labels", {}).get("nublado.lsst.io/category") == "lab"):
            names.append(m["name"])
    return sorted(names)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--bin", default=os.path.join(TOP, "build", "kubectl-nublado"))
    ap.add_argument("--labs", type=int, default=1000)
    ap.add_argument("--latency-ms", type=int, default=20)
    ap.add_argument("--delete-delay", type=float, default=0.5)
    ap.add_argument("--parallel", type=int, default=32)
    a = ap.parse_args()

    base = tempfile.mkdtemp(prefix="nub-bench-")
    os.chmod(base, 0o755)
    rows = {}
    try:
        for side in ("kubectl-nublado", "kubectl"):
            d = os.path.join(base, side)
            cluster_up(d, a.labs, a.latency_ms, a.delete_delay)
            env = dict(os.environ, KUBECONFIG=os.path.join(d, "kubeconfig"),
                       XDG_STATE_HOME=os.path.join(d, "state"))
            names = lab_names(d)
            if side == "kubectl-nublado":
                argv = [a.bin, "kill-labs", "-y", "--parallel", str(a.parallel)]
            else:
                argv = [KUBECTL, "delete", "ns"] + names
            rc, wall, rss, cpu = measured(argv, env)
            left = len(lab_names(d))
            rows[side] = dict(rc=rc, wall=wall, rss=rss, cpu=cpu, deleted=len(names) - left)
            cluster_down(d)
    finally:
        for side in ("kubectl-nublado", "kubectl"):
            cluster_down(os.path.join(base, side))
        shutil.rmtree(base, ignore_errors=True)

    rtt = a.latency_ms / 1000.0
    limit = rtt * math.ceil(a.labs / a.parallel) + a.delete_delay
    us, them = rows["kubectl-nublado"], rows["kubectl"]
    print("kill-labs: %d labs, %d ms latency, %.1f s termination delay, --parallel %d"
          % (a.labs, a.latency_ms, a.delete_delay, a.parallel))
    print("%-16s %6s %9s %9s %10s %8s" % ("client", "exit", "wall s", "cpu s", "peak RSS", "deleted"))
    for side, r in rows.items():
        print("%-16s %6d %9.2f %9.2f %7d KiB %8d" % (side, r["rc"], r["wall"], r["cpu"],
                                                   r["rss"], r["deleted"]))
    print("speed-up (kubectl wall / ours): %.1fx   RSS ratio (ours / kubectl): %.2f"
          % (them["wall"] / us["wall"], us["rss"] / them["rss"]))
    print("limit RTT x ceil(N/parallel) + delay = %.2f s; ours is %.2fx the limit"
          % (limit, us["wall"] / limit))


if __name__ == "__main__":
    main()
