#!/usr/bin/python3
"""wipe-db benchmark: the whole runbook, kubectl-nublado vs the same steps by kubectl.

Each side gets a fresh test cluster (real JupyterHub, N labs, injected latency).
The kubectl side is the runbook typed out as a script: delete the hub's
GafaelfawrIngresses, `kubectl delete ns` every lab, pg_dump and psql through
`kubectl exec`, `rollout restart` + `rollout status`, the Argo CD patch, then a
poll until the sync is done.  Reports the total time and the user outage
window (block to unblock) of each, as ratios.  Figures, not assertions.
"""
import argparse
import json
import os
import shutil
import subprocess
import tempfile
import time

TOP = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
CLUSTER = os.path.join(TOP, "tests", "cluster", "cluster")
KUBECTL = "/usr/lib/google-cloud-sdk/bin/kubectl.1.32"
PW = ('PGPASSWORD="$(cat /usr/local/etc/jupyterhub/existing-secret/hub.db.password)"')


def up(d, labs, latency):
    subprocess.run([CLUSTER, "up", d, "--labs", str(labs), "--latency-ms", str(latency),
                    "--real-hub"], check=True, stdout=subprocess.DEVNULL)


def env_of(d):
    env = dict(os.environ, XDG_STATE_HOME=os.path.join(d, "state"))
    for line in open(os.path.join(d, "env")):
        k, _, v = line.strip().replace("export ", "", 1).partition("=")
        env[k] = v
    return env


def kubectl_runbook(d):
    env = env_of(d)
    k = [KUBECTL, "-n", "nublado"]

    def run(args, **kw):
        return subprocess.run(k + args, env=env, check=True, capture_output=True, text=True, **kw)

    t0 = time.monotonic()
    run(["delete", "gafaelfawringress", "proxy", "proxy-spawn", "proxy-labs"])
    t_block = time.monotonic()
    labs = run(["get", "ns", "-l", "nublado.lsst.io/category=lab", "-o", "name"]).stdout.split()
    labs = [n for n in labs if n.startswith("namespace/nublado-")]
    if labs:
        run(["delete"] + labs)
    pod = run(["get", "pods", "-l", "app=jupyterhub,component=hub", "-o",
               "jsonpath={.items[0].metadata.name}"]).stdout
    url = env["SIM_DB_URL_NOPW"]
    with open(os.path.join(d, "backup.sql"), "w") as f:
        subprocess.run(k + ["exec", pod, "--", "sh", "-c", PW + ' exec pg_dump "$0"', url],
                       env=env, check=True, stdout=f)
    run(["exec", pod, "--", "sh", "-c", PW + ' exec psql "$0" -X -v ON_ERROR_STOP=1 -c '
         '"select pg_terminate_backend(pid) from pg_stat_activity where usename = current_user '
         'and pid <> pg_backend_pid(); drop owned by current_user"', url])
    run(["rollout", "restart", "deployment/hub"])
    run(["rollout", "status", "deployment/hub", "--timeout", "300s"])
    run(["-n", "argocd", "patch", "application", "nublado", "--type", "merge", "-p",
         '{"operation":{"initiatedBy":{"username":"bench"},"sync":{"syncStrategy":{"hook":{}}}}}'])
    while True:
        phase = run(["-n", "argocd", "get", "application", "nublado", "-o",
                     "jsonpath={.status.operationState.phase}/{.operation}"]).stdout
        if phase.startswith("Succeeded/") and phase.endswith("/"):
            break
        time.sleep(0.2)
    t_end = time.monotonic()
    return t_end - t0, t_end - t_block


def nublado(d, binary):
    env = env_of(d)
    t0 = time.monotonic()
    p = subprocess.run([binary, "--kubeconfig", env["KUBECONFIG"], "wipe-db", "-y", "-o", "json"],
                       env=env, capture_output=True, text=True)
    total = time.monotonic() - t0
    if p.returncode != 0:
        raise SystemExit("wipe-db failed: %s" % p.stderr)
    report = json.loads(p.stdout)
    return total, report["result"].get("outageSeconds", float("nan"))


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--bin", default=os.path.join(TOP, "build", "kubectl-nublado"))
    ap.add_argument("--labs", type=int, default=100)
    ap.add_argument("--latency-ms", type=int, default=20)
    a = ap.parse_args()
    base = tempfile.mkdtemp(prefix="nub-wipe-bench-")
    os.chmod(base, 0o755)
    res = {}
    try:
        for side in ("kubectl-nublado", "kubectl"):
            d = os.path.join(base, side)
            up(d, a.labs, a.latency_ms)
            try:
                res[side] = nublado(d, a.bin) if side == "kubectl-nublado" else kubectl_runbook(d)
            finally:
                subprocess.run([CLUSTER, "down", d], stdout=subprocess.DEVNULL)
    finally:
        shutil.rmtree(base, ignore_errors=True)
    us, them = res["kubectl-nublado"], res["kubectl"]
    print("wipe-db: %d labs, %d ms latency, real JupyterHub" % (a.labs, a.latency_ms))
    print("%-16s %10s %12s" % ("client", "total s", "outage s"))
    print("%-16s %10.1f %12.1f" % ("kubectl-nublado", us[0], us[1]))
    print("%-16s %10.1f %12.1f" % ("kubectl (runbook)", them[0], them[1]))
    print("total: %.1fx faster; outage window: %.1fx shorter" % (them[0] / us[0], them[1] / us[1]))


if __name__ == "__main__":
    main()
