#!/usr/bin/python3
"""Fidelity proof: real kubectl 1.30, 1.31, 1.32 and 1.33 against the test cluster.

Every command the issue lists runs with each version and its result (exit code,
output, the cluster's state afterwards) is checked. A difference from a real API
server that kubectl trips over is a bug in the cluster.

Uses the cluster in $SIM_DIR when one runs there, else starts its own.
"""

import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
import unittest

HERE = os.path.dirname(os.path.abspath(__file__))
CLUSTER = os.path.join(HERE, "cluster")
VERSIONS = ["1.30", "1.31", "1.32", "1.33"]
KUBECTL = "/usr/lib/google-cloud-sdk/bin/kubectl.%s"
DISPATCHER = "/usr/bin/kubectl"

SIM = {"dir": None, "own": False}


def setUpModule():
    d = os.environ.get("SIM_DIR")
    if d and os.path.exists(os.path.join(d, "ready")):
        SIM["dir"] = d
        return
    d = tempfile.mkdtemp(prefix="sim-kubectl-")
    r = subprocess.run([CLUSTER, "up", d, "--seed", "7", "--labs", "5"],
                       stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    if r.returncode != 0:
        raise RuntimeError("cluster up failed:\n" + r.stdout)
    SIM["dir"], SIM["own"] = d, True


def tearDownModule():
    if SIM["own"]:
        subprocess.run([CLUSTER, "down", SIM["dir"]], stdout=subprocess.DEVNULL)
        if not os.environ.get("SIM_KEEP"):
            shutil.rmtree(SIM["dir"], ignore_errors=True)


def kubeconfig():
    return os.path.join(SIM["dir"], "kubeconfig")


def run(binary, *args, context=None, input=None, timeout=90, env=None):
    argv = [binary, "--kubeconfig", kubeconfig()]
    if context:
        argv += ["--context", context]
    argv += list(args)
    e = dict(os.environ)
    e.pop("KUBECONFIG", None)
    if env:
        e.update(env)
    return subprocess.run(argv, input=input, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                          text=True, timeout=timeout, env=e)


def state():
    r = subprocess.run([CLUSTER, "state", SIM["dir"]], stdout=subprocess.PIPE, check=True)
    return json.loads(r.stdout)["items"]


def objects(kind, namespace=None):
    return {o["metadata"]["name"]: o for o in state()
            if o["kind"] == kind and (namespace is None or
                                      o["metadata"].get("namespace") == namespace)}


def set_faults(spec):
    subprocess.run([CLUSTER, "faults", SIM["dir"], spec], stdout=subprocess.DEVNULL, check=True)


class KubectlCase(unittest.TestCase):
    version = None

    def k(self, *args, **kw):
        return run(KUBECTL % self.version, *args, **kw)

    def ok(self, *args, **kw):
        r = self.k(*args, **kw)
        self.assertEqual(r.returncode, 0, "kubectl %s %s failed (%d):\n%s%s" % (
            self.version, " ".join(args), r.returncode, r.stdout, r.stderr))
        return r

    def hub_pod(self):
        r = self.ok("get", "pods", "-l", "app=jupyterhub,component=hub", "-o", "name")
        names = r.stdout.split()
        self.assertEqual(len(names), 1, r.stdout)
        return names[0].split("/", 1)[1]

    def tag(self):
        return self.version.replace(".", "")

    # -- namespaces
    def test_get_ns(self):
        r = self.ok("get", "ns")
        lines = r.stdout.splitlines()
        self.assertEqual(lines[0].split(), ["NAME", "STATUS", "AGE"])
        names = [ln.split()[0] for ln in lines[1:]]
        for n in ("nublado", "nublado-users", "nubladox", "fileservers", "kube-system",
                  "jupyter-decoy", "nublado-user001"):
            self.assertIn(n, names)

    def test_get_ns_label_selector(self):
        r = self.ok("get", "ns", "-l", "nublado.lsst.io/category=lab", "-o", "name")
        names = {x.split("/", 1)[1] for x in r.stdout.split()}
        self.assertIn("nublado-user001", names)
        self.assertIn("jupyter-decoy", names)   # lab label, other prefix
        self.assertNotIn("nublado-users", names)  # prefix, no lab label
        self.assertNotIn("nublado", names)
        self.assertNotIn("kube-system", names)

    def test_create_and_delete_ns(self):
        name = "nublado-kt%s" % self.tag()
        r = self.ok("create", "ns", name)
        self.assertEqual(r.stdout.strip(), "namespace/%s created" % name)
        self.assertIn(name, objects("Namespace"))
        r = self.k("create", "ns", name)
        self.assertEqual(r.returncode, 1)
        self.assertIn('namespaces "%s" already exists' % name, r.stderr)
        t0 = time.time()
        r = self.ok("delete", "ns", name)
        self.assertEqual(r.stdout.strip(), 'namespace "%s" deleted' % name)
        # kubectl delete waits until the namespace is gone
        self.assertNotIn(name, objects("Namespace"))
        self.assertGreater(time.time() - t0, 0.3)
        r = self.k("get", "ns", name)
        self.assertEqual(r.returncode, 1)
        self.assertIn('namespaces "%s" not found' % name, r.stderr)
        r = self.k("delete", "ns", name)
        self.assertEqual(r.returncode, 1)
        self.assertIn('namespaces "%s" not found' % name, r.stderr)

    def test_create_ns_dry_run_server(self):
        name = "nublado-dry%s" % self.tag()
        r = self.ok("create", "ns", name, "--dry-run=server")
        self.assertIn("created (server dry run)", r.stdout)
        self.assertNotIn(name, objects("Namespace"))

    # -- pods and exec
    def test_get_hub_pod(self):
        r = self.ok("get", "pods", "-l", "app=jupyterhub,component=hub")
        lines = r.stdout.splitlines()
        self.assertEqual(lines[0].split()[:3], ["NAME", "READY", "STATUS"])
        self.assertEqual(len(lines), 2, r.stdout)
        self.assertRegex(lines[1], r"^hub-[a-z0-9]+-[a-z0-9]{5}\s+1/1\s+Running\s")

    def test_exec_stdout(self):
        r = self.ok("exec", self.hub_pod(), "--", "echo", "hi")
        self.assertEqual(r.stdout, "hi\n")

    def test_exec_stderr_and_exit_code(self):
        r = self.k("exec", self.hub_pod(), "--", "sh", "-c", "echo out; echo err >&2; exit 3")
        self.assertEqual(r.returncode, 3, r.stderr)
        self.assertEqual(r.stdout, "out\n")
        self.assertIn("err\n", r.stderr)
        self.assertIn("command terminated with exit code 3", r.stderr)

    def test_exec_stdin(self):
        r = self.ok("exec", "-i", self.hub_pod(), "--", "cat", input="hello-stdin\nline 2\n")
        self.assertEqual(r.stdout, "hello-stdin\nline 2\n")

    def test_exec_in_pod_sandbox(self):
        # the password file exists in the pod, the environment does not carry it
        r = self.ok("exec", self.hub_pod(), "--", "sh", "-c",
                    "test -s /usr/local/etc/jupyterhub/existing-secret/hub.db.password && "
                    "test -s /usr/local/etc/jupyterhub/existing-secret/values.yaml && "
                    "env | grep -ci password || true")
        self.assertEqual(r.stdout.strip(), "0")

    def test_exec_missing_container(self):
        r = self.k("exec", self.hub_pod(), "-c", "nope", "--", "true")
        self.assertNotEqual(r.returncode, 0)
        self.assertIn("container nope is not valid for pod", r.stderr)

    # -- rollout
    def test_rollout_restart_and_status(self):
        before = self.hub_pod()
        gen = objects("Deployment", "nublado")["hub"]["metadata"]["generation"]
        r = self.ok("rollout", "restart", "deployment/hub")
        self.assertEqual(r.stdout.strip(), "deployment.apps/hub restarted")
        r = self.ok("rollout", "status", "deployment/hub", "--timeout=60s", timeout=90)
        self.assertIn('deployment "hub" successfully rolled out', r.stdout)
        after = self.hub_pod()
        self.assertNotEqual(before, after)
        d = objects("Deployment", "nublado")["hub"]
        self.assertEqual(d["metadata"]["generation"], gen + 1)
        self.assertEqual(d["status"]["observedGeneration"], gen + 1)
        self.assertEqual(d["status"]["updatedReplicas"], 1)
        self.assertEqual(d["status"]["availableReplicas"], 1)
        self.assertIn("kubectl.kubernetes.io/restartedAt",
                      d["spec"]["template"]["metadata"]["annotations"])
        pods = objects("Pod", "nublado")
        self.assertNotIn(before, pods)
        ready = [c for c in pods[after]["status"]["conditions"] if c["type"] == "Ready"][0]
        self.assertEqual(ready["status"], "True")
        # the new pod answers exec
        r = self.ok("exec", after, "--", "echo", "new")
        self.assertEqual(r.stdout, "new\n")

    # -- Gafaelfawr and Argo CD
    def test_gafaelfawringress_delete_and_argocd_sync(self):
        r = self.ok("get", "gafaelfawringress")
        names = [ln.split()[0] for ln in r.stdout.splitlines()[1:]]
        for n in ("proxy", "proxy-spawn", "proxy-labs", "nublado-controller-user"):
            self.assertIn(n, names)
        r = self.ok("get", "gafaelfawringress", "proxy-spawn", "-o", "json")
        gi = json.loads(r.stdout)
        self.assertEqual(gi["template"]["spec"]["rules"][0]["http"]["paths"][0]["backend"]
                         ["service"]["name"], "proxy-public")
        r = self.ok("delete", "gafaelfawringress", "proxy-spawn")
        self.assertIn('gafaelfawringress.gafaelfawr.lsst.io "proxy-spawn" deleted', r.stdout)
        # the generated Ingress is garbage-collected after its owner
        deadline = time.time() + 10
        while time.time() < deadline and "proxy-spawn" in objects("Ingress", "nublado"):
            time.sleep(0.1)
        self.assertNotIn("proxy-spawn", objects("Ingress", "nublado"))
        r = self.k("get", "gafaelfawringress", "proxy-spawn")
        self.assertEqual(r.returncode, 1)
        self.assertIn('gafaelfawringresses.gafaelfawr.lsst.io "proxy-spawn" not found', r.stderr)
        # the app is OutOfSync until a sync recreates it
        deadline = time.time() + 5
        while time.time() < deadline:
            app = objects("Application", "argocd")["nublado"]
            if app["status"]["sync"]["status"] == "OutOfSync":
                break
            time.sleep(0.1)
        self.assertEqual(app["status"]["sync"]["status"], "OutOfSync")
        op = {"operation": {"initiatedBy": {"username": "kubectl-%s" % self.tag()},
                            "sync": {"syncStrategy": {"hook": {}}}}}
        r = self.ok("patch", "application", "nublado", "-n", "argocd", "--type", "merge",
                    "-p", json.dumps(op))
        self.assertIn("application.argoproj.io/nublado patched", r.stdout)
        # a second operation while one runs is refused
        r = self.k("patch", "application", "nublado", "-n", "argocd", "--type", "merge",
                   "-p", json.dumps(op))
        self.assertEqual(r.returncode, 1, r.stdout)
        self.assertIn("another operation is already in progress", r.stderr)
        deadline = time.time() + 15
        while time.time() < deadline:
            app = objects("Application", "argocd")["nublado"]
            if app.get("status", {}).get("operationState", {}).get("phase") == "Succeeded" \
                    and "operation" not in app:
                break
            time.sleep(0.1)
        self.assertEqual(app["status"]["operationState"]["phase"], "Succeeded")
        self.assertNotIn("operation", app)
        self.assertEqual(app["status"]["operationState"]["operation"]["initiatedBy"]["username"],
                         "kubectl-%s" % self.tag())
        self.assertIn("proxy-spawn", objects("GafaelfawrIngress", "nublado"))
        deadline = time.time() + 5
        while time.time() < deadline and "proxy-spawn" not in objects("Ingress", "nublado"):
            time.sleep(0.1)
        ing = objects("Ingress", "nublado")["proxy-spawn"]
        self.assertEqual(ing["metadata"]["ownerReferences"][0]["kind"], "GafaelfawrIngress")
        self.assertEqual(objects("Application", "argocd")["nublado"]["status"]["sync"]["status"],
                         "Synced")

    def test_strategic_patch_on_custom_resource_refused(self):
        r = self.k("patch", "gafaelfawringress", "proxy", "--type", "strategic",
                   "-p", '{"metadata":{"labels":{"x":"y"}}}')
        self.assertEqual(r.returncode, 1)
        self.assertIn("application/strategic-merge-patch+json is not supported by "
                      "gafaelfawr.lsst.io/v1alpha1, Kind=GafaelfawrIngress: the body of the "
                      "request was in an unknown format", r.stderr)


def _version_case(v):
    return type("Kubectl%sTest" % v.replace(".", ""), (KubectlCase,), {"version": v})


for _v in VERSIONS:
    globals()["Kubectl%sTest" % _v.replace(".", "")] = _version_case(_v)
del KubectlCase  # only the per-version subclasses run


class AuthContextsTest(unittest.TestCase):
    """Every context of DIR/kubeconfig authenticates as documented."""

    kubectl = KUBECTL % "1.32"

    def test_each_context_reads(self):
        for ctx in ("sim", "sim-token", "sim-tokenfile", "sim-exec", "sim-exec-beta",
                    "sim-readonly"):
            r = run(self.kubectl, "get", "ns", "nublado", "-o", "name", context=ctx)
            self.assertEqual(r.returncode, 0, "%s: %s" % (ctx, r.stderr))
            self.assertEqual(r.stdout.strip(), "namespace/nublado")

    def test_current_context_and_namespace(self):
        r = run(self.kubectl, "config", "current-context")
        self.assertEqual(r.stdout.strip(), "sim")
        r = run(self.kubectl, "get", "deploy", "hub", "-o", "name")
        self.assertEqual(r.stdout.strip(), "deployment.apps/hub")

    def test_readonly_is_forbidden_to_write(self):
        r = run(self.kubectl, "delete", "ns", "nublado-user002", context="sim-readonly")
        self.assertEqual(r.returncode, 1)
        self.assertIn('Error from server (Forbidden): namespaces "nublado-user002" is forbidden: '
                      'User "sim-viewer" cannot delete resource "namespaces" in API group "" at '
                      'the cluster scope', r.stderr)
        self.assertIn("nublado-user002", objects("Namespace"))
        pod = run(self.kubectl, "get", "pods", "-l", "app=jupyterhub,component=hub", "-o",
                  "name").stdout.split()[0].split("/")[1]
        r = run(self.kubectl, "exec", pod, "--", "true", context="sim-readonly")
        self.assertNotEqual(r.returncode, 0)
        self.assertIn('cannot create resource "pods/exec" in API group "" in the namespace '
                      '"nublado"', r.stderr)
        r = run(self.kubectl, "patch", "deployment", "hub", "--type", "merge", "-p",
                '{"metadata":{"labels":{"x":"y"}}}', context="sim-readonly")
        self.assertEqual(r.returncode, 1)
        self.assertIn('cannot patch resource "deployments" in API group "apps"', r.stderr)

    def test_exec_beta_tokens_expire_and_refresh(self):
        log = os.path.join(SIM["dir"], "log", "credential.log")

        def count():
            try:
                with open(log) as f:
                    return sum(1 for ln in f if "api=v1beta1" in ln)
            except FileNotFoundError:
                return 0
        n0 = count()
        r = run(self.kubectl, "get", "ns", "nublado", context="sim-exec-beta")
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertEqual(count(), n0 + 1)
        time.sleep(6)  # past the token's expirationTimestamp
        r = run(self.kubectl, "get", "ns", "nublado", context="sim-exec-beta")
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertEqual(count(), n0 + 2)
        r = run(self.kubectl, "get", "ns", "nublado", context="sim-exec")
        self.assertEqual(r.returncode, 0, r.stderr)

    def test_wrong_ca_is_rejected(self):
        import base64
        with open(os.path.join(SIM["dir"], "wrong-ca.crt"), "rb") as f:
            wrong = base64.b64encode(f.read()).decode()
        with open(kubeconfig()) as f:
            text = f.read()
        text = re.sub(r"certificate-authority-data: \S+", "certificate-authority-data: " + wrong,
                      text)
        with tempfile.NamedTemporaryFile("w", suffix=".yaml", delete=False) as f:
            f.write(text)
        try:
            r = subprocess.run([self.kubectl, "--kubeconfig", f.name, "get", "ns"],
                               stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                               timeout=30)
            self.assertNotEqual(r.returncode, 0)
            self.assertIn("certificate", r.stderr)
        finally:
            os.unlink(f.name)


class DispatcherTest(unittest.TestCase):
    """/usr/bin/kubectl (gcloud's dispatcher) picks the client from the server's /version."""

    def user_agents(self):
        with open(os.path.join(SIM["dir"], "log", "apiserver.log")) as f:
            return [ln.rsplit("ua=", 1)[1].strip() for ln in f
                    if "/api/v1/namespaces/nublado " in ln]

    def wait_user_agent(self, before, prefix):
        """The server logs a request just after answering it: wait for the line."""
        deadline = time.time() + 5
        while time.time() < deadline:
            uas = self.user_agents()[before:]
            if uas:
                return uas[-1]
            time.sleep(0.05)
        return None

    @unittest.skipUnless(os.path.exists(DISPATCHER), "no /usr/bin/kubectl")
    def test_dispatcher_picks_132(self):
        r = run(DISPATCHER, "version", "-o", "json")
        self.assertEqual(json.loads(r.stdout)["serverVersion"]["gitVersion"][:6], "v1.32.")
        n = len(self.user_agents())
        r = run(DISPATCHER, "get", "ns", "nublado")
        self.assertEqual(r.returncode, 0, r.stderr)
        ua = self.wait_user_agent(n, "kubectl/v1.32.")
        self.assertTrue(ua and ua.startswith("kubectl/v1.32."), ua)
        try:
            set_faults("version=1.30")
            n = len(self.user_agents())
            r = run(DISPATCHER, "get", "ns", "nublado")
            self.assertEqual(r.returncode, 0, r.stderr)
            ua = self.wait_user_agent(n, "kubectl/v1.30.")
            self.assertTrue(ua and ua.startswith("kubectl/v1.30."), ua)
        finally:
            set_faults("")


if __name__ == "__main__":
    unittest.main(verbosity=2)
