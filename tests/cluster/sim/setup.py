"""Files `cluster up` writes: certificates (openssl), tokens, the credential
plugin, the kubeconfig, the Phalanx values files and DIR/env."""

import base64
import json
import os
import re
import secrets
import subprocess
import sys

EXEC_BETA_TTL = 5  # seconds an sim-exec-beta token lives

# ---------------------------------------------------------------- tiny YAML

_PLAIN = re.compile(r"^[A-Za-z0-9_./@:-]+$")
_YAML_WORDS = {"y", "yes", "n", "no", "true", "false", "on", "off", "null", "~"}


def _scalar(v):
    if v is None:
        return "null"
    if isinstance(v, bool):
        return "true" if v else "false"
    if isinstance(v, (int, float)):
        return str(v)
    s = str(v)
    if (_PLAIN.match(s) and s.lower() not in _YAML_WORDS and not re.match(r"^[-+.0-9]", s)
            and ": " not in s and not s.endswith(":")):
        return s
    return json.dumps(s)


def to_yaml(obj, indent=0):
    pad = "  " * indent
    lines = []
    if isinstance(obj, dict):
        if not obj:
            return pad + "{}\n"
        for k, v in obj.items():
            if isinstance(v, dict) and v:
                lines.append("%s%s:\n%s" % (pad, _scalar(k), to_yaml(v, indent + 1)))
            elif isinstance(v, list) and v:
                lines.append("%s%s:\n%s" % (pad, _scalar(k), to_yaml(v, indent)))
            elif isinstance(v, (dict, list)):
                lines.append("%s%s: %s\n" % (pad, _scalar(k), "{}" if isinstance(v, dict) else "[]"))
            else:
                lines.append("%s%s: %s\n" % (pad, _scalar(k), _scalar(v)))
        return "".join(lines)
    if isinstance(obj, list):
        for v in obj:
            if isinstance(v, (dict, list)) and v:
                sub = to_yaml(v, indent + 1)
                # put the first line after the dash
                first = sub[len(pad) + 2:]
                lines.append("%s- %s" % (pad, first))
            else:
                lines.append("%s- %s\n" % (pad, _scalar(v) if not isinstance(v, (dict, list))
                                             else ("{}" if isinstance(v, dict) else "[]")))
        return "".join(lines)
    return pad + _scalar(obj) + "\n"


# ---------------------------------------------------------------- certificates

def _openssl(args, cwd):
    r = subprocess.run(["openssl"] + args, cwd=cwd, stdout=subprocess.PIPE,
                       stderr=subprocess.PIPE)
    if r.returncode != 0:
        raise RuntimeError("openssl %s failed: %s" % (args[0], r.stderr.decode(errors="replace")))


def _ca(pki, name, cn):
    _openssl(["req", "-x509", "-new", "-newkey", "ec", "-pkeyopt",
              "ec_paramgen_curve:prime256v1", "-nodes", "-keyout", name + ".key",
              "-out", name + ".crt", "-days", "3650", "-subj", "/CN=" + cn,
              "-addext", "basicConstraints=critical,CA:TRUE",
              "-addext", "keyUsage=critical,keyCertSign,cRLSign,digitalSignature"], pki)


def _leaf(pki, name, subj, ext, ca="ca"):
    with open(os.path.join(pki, name + ".ext"), "w") as f:
        f.write(ext)
    _openssl(["req", "-new", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1",
              "-nodes", "-keyout", name + ".key", "-out", name + ".csr", "-subj", subj], pki)
    _openssl(["x509", "-req", "-in", name + ".csr", "-CA", ca + ".crt", "-CAkey", ca + ".key",
              "-CAcreateserial", "-out", name + ".crt", "-days", "365",
              "-extfile", name + ".ext"], pki)


def make_certs(d):
    pki = os.path.join(d, "pki")
    os.makedirs(pki, exist_ok=True)
    os.chmod(pki, 0o700)
    _ca(pki, "ca", "sim-kubernetes-ca")
    _leaf(pki, "server", "/CN=kube-apiserver",
          "subjectAltName=IP:127.0.0.1,DNS:localhost,DNS:kubernetes.default.svc,"
          "DNS:kubernetes.default,DNS:kubernetes\n"
          "extendedKeyUsage=serverAuth\nkeyUsage=critical,digitalSignature,keyEncipherment\n"
          "basicConstraints=CA:FALSE\n")
    _leaf(pki, "admin", "/O=system:masters/CN=sim-admin",
          "extendedKeyUsage=clientAuth\nkeyUsage=critical,digitalSignature,keyEncipherment\n"
          "basicConstraints=CA:FALSE\n")
    _ca(pki, "wrong-ca", "sim-wrong-ca")
    with open(os.path.join(pki, "ca.crt")) as f:
        ca = f.read()
    with open(os.path.join(d, "ca.crt"), "w") as f:
        f.write(ca)
    with open(os.path.join(pki, "wrong-ca.crt")) as f:
        wrong = f.read()
    with open(os.path.join(d, "wrong-ca.crt"), "w") as f:
        f.write(wrong)


# ---------------------------------------------------------------- tokens

def make_tokens(d):
    """Write DIR/tokens/*; return the token table {token: {user, groups}}."""
    t = os.path.join(d, "tokens")
    os.makedirs(t, exist_ok=True)
    os.chmod(t, 0o700)
    table = {}
    spec = {
        "admin": ("sim-token-admin", ["system:masters", "system:authenticated"]),
        "tokenfile": ("sim-tokenfile-admin", ["system:masters", "system:authenticated"]),
        "exec": ("sim-exec-admin", ["system:masters", "system:authenticated"]),
        "readonly": ("sim-viewer", ["sim:viewers", "system:authenticated"]),
        "control": ("sim-control", ["sim:control"]),
    }
    for name, (user, groups) in spec.items():
        tok = "sim-%s-%s" % (name, secrets.token_hex(16))
        with open(os.path.join(t, name + ".token"), "w") as f:
            f.write(tok + "\n")
        table[tok] = {"user": user, "groups": groups, "kind": name}
    with open(os.path.join(t, "exec.secret"), "w") as f:
        f.write(secrets.token_hex(32) + "\n")
    with open(os.path.join(t, "table.json"), "w") as f:
        json.dump(table, f)
    return table


def read_token(d, name):
    with open(os.path.join(d, "tokens", name + ".token")) as f:
        return f.read().strip()


CREDENTIAL_SCRIPT = r'''#!/usr/bin/python3
"""sim-credential: the exec credential plugin of the simulated cluster."""
import hashlib, hmac, json, os, sys, time
d = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
args = sys.argv[1:]
api = args[args.index("--api") + 1] if "--api" in args else "v1"
ttl = int(args[args.index("--ttl") + 1]) if "--ttl" in args else %(ttl)d
info = os.environ.get("KUBERNETES_EXEC_INFO", "")
with open(os.path.join(d, "log", "credential.log"), "a") as f:
    f.write("%%.3f api=%%s pid=%%d info=%%s\n" %% (time.time(), api, os.getpid(), "yes" if info else "no"))
out = {"kind": "ExecCredential", "apiVersion": "client.authentication.k8s.io/" + api, "status": {}}
if api == "v1":
    with open(os.path.join(d, "tokens", "exec.token")) as f:
        out["status"]["token"] = f.read().strip()
else:
    with open(os.path.join(d, "tokens", "exec.secret")) as f:
        key = f.read().strip().encode()
    exp = int(time.time()) + ttl
    # Milliseconds in the token: two tokens from runs a moment apart differ.
    payload = "simexp.sim-exec-beta.%%d" %% int((time.time() + ttl) * 1000)
    sig = hmac.new(key, payload.encode(), hashlib.sha256).hexdigest()[:32]
    out["status"]["token"] = payload + "." + sig
    out["status"]["expirationTimestamp"] = time.strftime("%%Y-%%m-%%dT%%H:%%M:%%SZ", time.gmtime(exp))
json.dump(out, sys.stdout)
sys.stdout.write("\n")
''' % {"ttl": EXEC_BETA_TTL}


def write_credential_plugin(d):
    b = os.path.join(d, "bin")
    os.makedirs(b, exist_ok=True)
    p = os.path.join(b, "sim-credential")
    with open(p, "w") as f:
        f.write(CREDENTIAL_SCRIPT)
    os.chmod(p, 0o755)
    return p


def write_kubeconfig(d, port):
    def b64file(p):
        with open(p, "rb") as f:
            return base64.b64encode(f.read()).decode()

    pki = os.path.join(d, "pki")
    server = "https://127.0.0.1:%d" % port
    cred = os.path.join(d, "bin", "sim-credential")
    cfg = {
        "apiVersion": "v1",
        "kind": "Config",
        "preferences": {},
        "clusters": [{"name": "sim", "cluster": {
            "server": server,
            "certificate-authority-data": b64file(os.path.join(pki, "ca.crt"))}}],
        "users": [
            {"name": "sim-admin", "user": {
                "client-certificate-data": b64file(os.path.join(pki, "admin.crt")),
                "client-key-data": b64file(os.path.join(pki, "admin.key"))}},
            {"name": "sim-token", "user": {"token": read_token(d, "admin")}},
            {"name": "sim-tokenfile", "user": {"tokenFile": "tokens/tokenfile.token"}},
            {"name": "sim-exec", "user": {"exec": {
                "apiVersion": "client.authentication.k8s.io/v1",
                # relative, with a "/": resolved against the kubeconfig's directory
                "command": "./bin/sim-credential", "args": ["--api", "v1"],
                "interactiveMode": "Never", "provideClusterInfo": False,
                "installHint": "sim-credential is written by tests/cluster/cluster up"}}},
            {"name": "sim-exec-beta", "user": {"exec": {
                "apiVersion": "client.authentication.k8s.io/v1beta1",
                "command": cred, "args": ["--api", "v1beta1"],
                "interactiveMode": "Never", "provideClusterInfo": True}}},
            {"name": "sim-readonly", "user": {"token": read_token(d, "readonly")}},
        ],
        "contexts": [
            {"name": n, "context": {"cluster": "sim", "user": u, "namespace": "nublado"}}
            for n, u in (("sim", "sim-admin"), ("sim-token", "sim-token"),
                         ("sim-tokenfile", "sim-tokenfile"), ("sim-exec", "sim-exec"),
                         ("sim-exec-beta", "sim-exec-beta"), ("sim-readonly", "sim-readonly"))
        ],
        "current-context": "sim",
    }
    p = os.path.join(d, "kubeconfig")
    with open(p + ".tmp", "w") as f:
        f.write(to_yaml(cfg))
    os.chmod(p + ".tmp", 0o600)
    os.replace(p + ".tmp", p)
    return p


# ---------------------------------------------------------------- Phalanx

def values_base():
    return {
        "controller": {
            "config": {
                "logLevel": "INFO",
                "fileserver": {"enabled": True, "namespace": "fileservers"},
                "lab": {"namespacePrefix": "nublado", "pullSecret": "pull-secret",
                        "homedirSchema": "username"},
            },
        },
        "jupyterhub": {
            "hub": {
                "authenticatePrometheus": False,
                "baseUrl": "/nb",
                "db": {
                    "type": "postgres",
                    "url": "postgresql://nublado3@postgres.postgres/jupyterhub",
                    "upgrade": True,
                },
                "existingSecret": "nublado-secret",
                "containerSecurityContext": {"runAsUser": 1000, "runAsGroup": 1000},
                "resources": {"limits": {"cpu": "900m", "memory": "1Gi"}},
            },
            "proxy": {"service": {"type": "ClusterIP"},
                      "chp": {"networkPolicy": {"interNamespaceAccessLabels": "accept"}}},
            "scheduling": {"userScheduler": {"enabled": False}},
            "cull": {"enabled": True, "users": False, "removeNamedServers": True,
                     "timeout": 432000, "every": 300, "maxAge": 2160000},
        },
        "hub": {"internalDatabase": False, "timeout": {"startup": 90}},
        "secrets": {"templateSecrets": True},
    }


def values_env(db_url_nopw):
    return {
        "controller": {"config": {"lab": {"sizes": [
            {"size": "small", "cpu": 1.0, "memory": "4Gi"},
            {"size": "medium", "cpu": 2.0, "memory": "8Gi"}]}}},
        "jupyterhub": {"hub": {"db": {"url": db_url_nopw}},
                       "ingress": {"hosts": ["nb.example.org"]}},
        "hub": {"useSubdomains": True},
    }


def write_phalanx(d, db_url_nopw):
    app = os.path.join(d, "phalanx", "applications", "nublado")
    os.makedirs(app, exist_ok=True)
    with open(os.path.join(app, "values.yaml"), "w") as f:
        f.write("# Nublado: base values (simulated Phalanx checkout)\n")
        f.write(to_yaml(values_base()))
    with open(os.path.join(app, "values-sim.yaml"), "w") as f:
        f.write("# Nublado: values for the sim environment (wins over values.yaml)\n")
        f.write(to_yaml(values_env(db_url_nopw)))
    with open(os.path.join(app, "Chart.yaml"), "w") as f:
        f.write(to_yaml({"apiVersion": "v2", "name": "nublado", "version": "1.0.0",
                         "description": "JupyterHub and custom spawner for the Rubin "
                                        "Science Platform",
                         "dependencies": [{"name": "jupyterhub", "version": "4.3.5",
                                           "repository": "https://jupyterhub.github.io/helm-chart/"}]}))
    env = os.path.join(d, "phalanx", "environments")
    os.makedirs(env, exist_ok=True)
    with open(os.path.join(env, "values-sim.yaml"), "w") as f:
        f.write(to_yaml({"name": "sim", "fqdn": "nb.example.org",
                         "applications": {"nublado": True, "gafaelfawr": True,
                                          "argocd": True, "postgres": True}}))


def hub_secret_values(db_url_nopw):
    """The YAML kept in Secret nublado-secret / hub, key values.yaml."""
    return to_yaml({"hub": {"db": {"url": db_url_nopw, "type": "postgres"},
                            "config": {"JupyterHub": {"cookie_secret": "sim"}}}})


def write_env(d, port, db, hub_port=None, hub_keys=None):
    env = [
        ("SIM_DIR", d),
        ("KUBECONFIG", os.path.join(d, "kubeconfig")),
        ("SIM_SERVER", "https://127.0.0.1:%d" % port),
        ("SIM_CA", os.path.join(d, "ca.crt")),
        ("SIM_WRONG_CA", os.path.join(d, "wrong-ca.crt")),
        ("SIM_TOKEN", read_token(d, "admin")),
        ("SIM_READONLY_TOKEN", read_token(d, "readonly")),
        ("SIM_ADMIN_TOKEN", read_token(d, "control")),
        ("SIM_PHALANX", os.path.join(d, "phalanx")),
    ]
    if db:
        env += [
            ("SIM_DB_URL", db.get("url", "")),
            ("SIM_DB_URL_NOPW", db.get("url_nopw", "")),
            ("SIM_DB_PASSWORD", db.get("password", "")),
            ("SIM_DB_ADMIN_URL", db.get("admin_url", "")),
            ("SIM_OTHER_DB_URL", db.get("other_url", "")),
            ("SIM_DB_PORT", str(db.get("port", ""))),
        ]
    if hub_port:
        env.append(("SIM_HUB_PORT", str(hub_port)))
    if hub_keys:
        # nublado-secret's other keys (cookie secret, crypto key, proxy token), space-separated
        env.append(("SIM_HUB_SECRETS", " ".join(hub_keys[k] for k in sorted(hub_keys))))
    import shlex
    with open(os.path.join(d, "env.tmp"), "w") as f:
        for k, v in env:
            f.write("export %s=%s\n" % (k, shlex.quote(str(v))))
    os.chmod(os.path.join(d, "env.tmp"), 0o600)
    os.replace(os.path.join(d, "env.tmp"), os.path.join(d, "env"))


if __name__ == "__main__":
    make_certs(sys.argv[1])
