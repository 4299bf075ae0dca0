"""The objects a fresh simulated Phalanx/Nublado cluster starts with."""

import base64
import copy

HOST = "nb.example.org"
PREFIX = "nublado"

ARGO_LABELS = {"argocd.argoproj.io/instance": "nublado"}


def users(n):
    return ["user%03d" % (i + 1) for i in range(n)]


def ns(name, labels=None, annotations=None):
    o = {"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": name}}
    if labels:
        o["metadata"]["labels"] = dict(labels)
    if annotations:
        o["metadata"]["annotations"] = dict(annotations)
    return o


def b64(s):
    return base64.b64encode(s.encode() if isinstance(s, str) else s).decode()


def hub_deployment():
    labels = {"app": "jupyterhub", "component": "hub", "release": "nublado"}
    tmpl_labels = dict(labels, **{"hub.jupyter.org/network-access-proxy-api": "true",
                                  "hub.jupyter.org/network-access-proxy-http": "true",
                                  "hub.jupyter.org/network-access-singleuser": "true",
                                  "app.kubernetes.io/component": "hub",
                                  "app.kubernetes.io/name": "jupyterhub",
                                  "app.kubernetes.io/instance": "nublado"})
    return {
        "apiVersion": "apps/v1", "kind": "Deployment",
        "metadata": {"name": "hub", "namespace": "nublado",
                     "labels": dict(labels, **{"chart": "jupyterhub-4.3.5", "heritage": "Helm",
                                               "app.kubernetes.io/component": "hub",
                                               "app.kubernetes.io/instance": "nublado",
                                               "app.kubernetes.io/managed-by": "Helm",
                                               "app.kubernetes.io/name": "jupyterhub"},
                                    **ARGO_LABELS)},
        "spec": {
            "replicas": 1,
            "selector": {"matchLabels": dict(labels)},
            "strategy": {"type": "Recreate"},
            "revisionHistoryLimit": 10,
            "progressDeadlineSeconds": 600,
            "template": {
                "metadata": {"labels": tmpl_labels,
                             "annotations": {"checksum/config-map": "1f0c5d0e2b",
                                             "checksum/secret": "8a2e6c1d90"}},
                "spec": {
                    "serviceAccountName": "hub",
                    "securityContext": {"fsGroup": 1000},
                    "terminationGracePeriodSeconds": 30,
                    "containers": [{
                        "name": "hub",
                        "image": "ghcr.io/lsst-sqre/nublado-jupyterhub:15.1.0",
                        "imagePullPolicy": "IfNotPresent",
                        "args": ["jupyterhub", "--config",
                                 "/usr/local/etc/jupyterhub/jupyterhub_config.py",
                                 "--upgrade-db"],
                        "ports": [{"name": "http", "containerPort": 8081, "protocol": "TCP"}],
                        "env": [
                            {"name": "PYTHONUNBUFFERED", "value": "1"},
                            {"name": "HELM_RELEASE_NAME", "value": "nublado"},
                            {"name": "POD_NAMESPACE", "valueFrom": {"fieldRef": {
                                "apiVersion": "v1", "fieldPath": "metadata.namespace"}}},
                            {"name": "CONFIGPROXY_AUTH_TOKEN", "valueFrom": {"secretKeyRef": {
                                "name": "hub", "key": "hub.config.ConfigurableHTTPProxy.auth_token"}}},
                        ],
                        "volumeMounts": [
                            {"name": "config", "mountPath": "/usr/local/etc/jupyterhub/jupyterhub_config.py",
                             "subPath": "jupyterhub_config.py"},
                            {"name": "secret", "mountPath": "/usr/local/etc/jupyterhub/secret/"},
                            {"name": "hub-secret", "mountPath": "/usr/local/etc/jupyterhub/existing-secret/"},
                        ],
                        "readinessProbe": {"httpGet": {"path": "/nb/hub/health", "port": "http",
                                                       "scheme": "HTTP"},
                                           "periodSeconds": 2, "failureThreshold": 1000,
                                           "timeoutSeconds": 1, "successThreshold": 1},
                        "livenessProbe": {"httpGet": {"path": "/nb/hub/health", "port": "http",
                                                      "scheme": "HTTP"},
                                          "initialDelaySeconds": 300, "periodSeconds": 10,
                                          "failureThreshold": 30, "timeoutSeconds": 3,
                                          "successThreshold": 1},
                        "resources": {"limits": {"cpu": "900m", "memory": "1Gi"}},
                        "securityContext": {"runAsUser": 1000, "runAsGroup": 1000,
                                            "allowPrivilegeEscalation": False},
                        "terminationMessagePath": "/dev/termination-log",
                        "terminationMessagePolicy": "File",
                    }],
                    "volumes": [
                        {"name": "config", "configMap": {"name": "hub", "defaultMode": 420}},
                        {"name": "secret", "secret": {"secretName": "hub", "defaultMode": 420}},
                        {"name": "hub-secret", "secret": {"secretName": "nublado-secret",
                                                          "defaultMode": 420}},
                    ],
                    "restartPolicy": "Always",
                    "dnsPolicy": "ClusterFirst",
                    "schedulerName": "default-scheduler",
                },
            },
        },
    }


def simple_deployment(name, labels, tmpl_labels, image, strategy=None, port=8080):
    return {
        "apiVersion": "apps/v1", "kind": "Deployment",
        "metadata": {"name": name, "namespace": "nublado", "labels": dict(labels, **ARGO_LABELS)},
        "spec": {
            "replicas": 1,
            "selector": {"matchLabels": {k: tmpl_labels[k] for k in labels if k in tmpl_labels}
                         or dict(tmpl_labels)},
            "strategy": strategy or {"type": "RollingUpdate",
                                     "rollingUpdate": {"maxSurge": "25%", "maxUnavailable": "25%"}},
            "revisionHistoryLimit": 10,
            "progressDeadlineSeconds": 600,
            "template": {
                "metadata": {"labels": dict(tmpl_labels)},
                "spec": {
                    "containers": [{"name": name.split("-")[-1] if name == "proxy" else name,
                                    "image": image,
                                    "imagePullPolicy": "IfNotPresent",
                                    "ports": [{"name": "http", "containerPort": port,
                                               "protocol": "TCP"}],
                                    "terminationMessagePath": "/dev/termination-log",
                                    "terminationMessagePolicy": "File"}],
                    "restartPolicy": "Always", "dnsPolicy": "ClusterFirst",
                    "schedulerName": "default-scheduler",
                    "terminationGracePeriodSeconds": 30,
                },
            },
        },
    }


def controller_deployment():
    # templates/controller-deployment.yaml, _helpers.tpl: selector on name and instance
    labels = {"app.kubernetes.io/name": "nublado", "app.kubernetes.io/instance": "nublado"}
    d = simple_deployment("nublado-controller", labels, dict(labels),
                          "ghcr.io/lsst-sqre/nublado:15.1.0")
    d["metadata"]["labels"].update({"helm.sh/chart": "nublado-1.0.0",
                                    "app.kubernetes.io/managed-by": "Helm"})
    d["metadata"].setdefault("annotations", {})["argocd.argoproj.io/sync-wave"] = "1"
    return d


def proxy_deployment():
    labels = {"app": "jupyterhub", "component": "proxy", "release": "nublado"}
    d = simple_deployment("proxy", labels, dict(labels, **{
        "hub.jupyter.org/network-access-hub": "true",
        "hub.jupyter.org/network-access-singleuser": "true"}),
        "quay.io/jupyterhub/configurable-http-proxy:4.6.3", {"type": "Recreate"}, 8000)
    d["spec"]["template"]["spec"]["containers"][0]["name"] = "chp"
    return d


def gafaelfawr_ingress(name, path, service, port=80, host=HOST, scopes=("exec:notebook",),
                       path_type="Prefix", extra_config=None, namespace="nublado",
                       instance="nublado", paths=None, login_redirect=True, annotations=None):
    """One GafaelfawrIngress as Phalanx renders it. `port` is a number or a port name;
    `paths` ([(path, pathType)]) replaces the single path."""
    cfg = {"baseUrl": "https://" + HOST}
    if scopes is not None:
        cfg["scopes"] = {"all": list(scopes)}
    if login_redirect:
        cfg["loginRedirect"] = True
    if extra_config:
        cfg.update(extra_config)
    backend = {"service": {"name": service,
                           "port": {"name": port} if isinstance(port, str) else {"number": port}}}
    tmpl_meta = {"name": name}
    if annotations:
        tmpl_meta["annotations"] = dict(annotations)
    return {
        "apiVersion": "gafaelfawr.lsst.io/v1alpha1", "kind": "GafaelfawrIngress",
        "metadata": {"name": name, "namespace": namespace,
                     "labels": {"app.kubernetes.io/instance": instance,
                                "app.kubernetes.io/managed-by": "Helm",
                                "app.kubernetes.io/name": "nublado",
                                "argocd.argoproj.io/instance": instance}},
        "config": cfg,
        "template": {
            "metadata": tmpl_meta,
            "spec": {"rules": [{"host": host, "http": {"paths": [
                {"path": p, "pathType": t, "backend": copy.deepcopy(backend)}
                for p, t in (paths or [(path, path_type)])]}}]},
        },
    }


def app_gafaelfawr_ingresses():
    """The GafaelfawrIngresses Phalanx's applications/nublado/templates render (upstream
    650a0ef2; tests/cluster/README.md cites each file): the proxy's three (subdomains on,
    a minimum token lifetime set) and the controller's five (file servers on)."""
    regex = {"nginx.ingress.kubernetes.io/use-regex": "true"}
    notebook = {"delegate": {"notebook": {}}}
    return [
        # proxy-ingress.yaml, proxy-spawn-ingress.yaml: to proxy-public, port by name
        gafaelfawr_ingress("proxy", "/nb", "proxy-public", port="http",
                           extra_config=dict(notebook, authCacheDuration="5m")),
        gafaelfawr_ingress("proxy-spawn", "/nb/hub/spawn", "proxy-public", port="http",
                           extra_config={"delegate": {"minimumLifetime": 2592000,
                                                      "notebook": {}}}),
        gafaelfawr_ingress("proxy-labs", "/", "proxy-public", port="http",
                           host="*." + HOST, extra_config={"userDomain": True}),
        # controller-ingress-*.yaml: to nublado-controller, port 80
        gafaelfawr_ingress("nublado-controller-admin", "/nublado", "nublado-controller",
                           scopes=("exec:admin",), login_redirect=False),
        gafaelfawr_ingress("nublado-controller-anonymous", None, "nublado-controller",
                           scopes=None, login_redirect=False,
                           extra_config={"scopes": {"anonymous": True}},
                           paths=[("/nublado/openapi.json", "Exact"), ("/nublado/docs", "Exact"),
                                  ("/nublado/redoc", "Exact")]),
        gafaelfawr_ingress("nublado-controller-hub", "/nublado/spawner/v1/labs",
                           "nublado-controller", scopes=("admin:jupyterlab",),
                           login_redirect=False, annotations=regex),
        # the users' own route to the lab API: creates labs while the proxy is blocked
        gafaelfawr_ingress("nublado-controller-user", None, "nublado-controller",
                           scopes=("exec:notebook",), login_redirect=False,
                           extra_config=notebook, annotations=regex,
                           paths=[("/nublado/spawner/v1/labs/.*/create", "ImplementationSpecific"),
                                  ("/nublado/spawner/v1/labs/.*/events", "ImplementationSpecific"),
                                  ("/nublado/spawner/v1/lab-form", "Prefix"),
                                  ("/nublado/spawner/v1/user-status", "Exact")]),
        gafaelfawr_ingress("nublado-controller-files", "/files", "nublado-controller",
                           scopes=("write:files",), login_redirect=False,
                           extra_config={"delegate": {"internal": {"service": "nublado-files",
                                                                   "scopes": []}}}),
    ]


def services():
    def svc(name, selector, ports, ip):
        return {"apiVersion": "v1", "kind": "Service",
                "metadata": {"name": name, "namespace": "nublado",
                             "labels": {"app.kubernetes.io/instance": "nublado", **ARGO_LABELS}},
                "spec": {"type": "ClusterIP", "clusterIP": ip, "clusterIPs": [ip],
                         "selector": selector, "sessionAffinity": "None",
                         "ports": ports, "ipFamilies": ["IPv4"],
                         "ipFamilyPolicy": "SingleStack"}}
    jh = {"app": "jupyterhub", "release": "nublado"}
    return [
        svc("hub", dict(jh, component="hub"),
            [{"name": "hub", "port": 8081, "protocol": "TCP", "targetPort": "http"}], "10.96.10.11"),
        svc("proxy-api", dict(jh, component="proxy"),
            [{"name": "http-api", "port": 8001, "protocol": "TCP", "targetPort": "api"}], "10.96.10.12"),
        svc("proxy-public", dict(jh, component="proxy"),
            [{"name": "http", "port": 80, "protocol": "TCP", "targetPort": "http"}], "10.96.10.13"),
        svc("nublado-controller", {"app.kubernetes.io/name": "nublado",
                                   "app.kubernetes.io/instance": "nublado"},
            [{"name": "http", "port": 80, "protocol": "TCP", "targetPort": "http"}], "10.96.10.14"),
    ]


def controller_configmap():
    cfg = ("logLevel: INFO\n"
           "fileserver:\n  enabled: true\n  namespace: fileservers\n"
           "lab:\n  namespacePrefix: %s\n  pullSecret: pull-secret\n"
           "  sizes:\n    - size: small\n      cpu: 1.0\n      memory: 4Gi\n" % PREFIX)
    return {"apiVersion": "v1", "kind": "ConfigMap",
            "metadata": {"name": "nublado-controller-config", "namespace": "nublado",
                         "labels": {"app.kubernetes.io/instance": "nublado", **ARGO_LABELS}},
            "data": {"config.yaml": cfg}}


def hub_secret_keys():
    """The hub's own secrets in nublado-secret, random per cluster (the secrets audit and
    the memory test look for them): key -> value."""
    import secrets as rnd
    # templates/vault-secrets.yaml: the keys nublado-secret has upstream
    return {"hub.config.JupyterHub.cookie_secret": rnd.token_hex(32),
            "hub.config.CryptKeeper.keys": rnd.token_urlsafe(32),
            "hub.config.ConfigurableHTTPProxy.auth_token": rnd.token_hex(32)}


def secrets(values_yaml, db_password, hub_keys=None):
    hub_keys = hub_keys or hub_secret_keys()
    return [
        {"apiVersion": "v1", "kind": "Secret", "type": "Opaque",
         "metadata": {"name": "nublado-secret", "namespace": "nublado",
                      "labels": {"app.kubernetes.io/instance": "nublado"},
                      },
         "data": {"values.yaml": b64(values_yaml),
                  "hub.db.password": b64(db_password),
                  **{k: b64(v) for k, v in hub_keys.items()}}},
        {"apiVersion": "v1", "kind": "Secret", "type": "Opaque",
         "metadata": {"name": "hub", "namespace": "nublado",
                      "labels": {"app": "jupyterhub", "component": "hub", "release": "nublado",
                                 "app.kubernetes.io/instance": "nublado", **ARGO_LABELS}},
         "data": {"values.yaml": b64(values_yaml),
                  "hub.db.password": "dHJ1ZQ==",
                  "hub.config.ConfigurableHTTPProxy.auth_token": b64("a" * 64),
                  "hub.config.CryptKeeper.keys": b64("b" * 64),
                  "hub.config.JupyterHub.cookie_secret": b64("c" * 64)}},
    ]


def lab_pod(user, ns_name):
    return {"apiVersion": "v1", "kind": "Pod",
            "metadata": {"name": user + "-nb", "namespace": ns_name,
                         "labels": {"nublado.lsst.io/category": "lab",
                                    "nublado.lsst.io/user": user, "app": "lab"}},
            "spec": {"containers": [{"name": "notebook",
                                     "image": "ghcr.io/lsst-sqre/sciplat-lab:w_2026_47"}],
                     "restartPolicy": "OnFailure"}}


def application():
    return {
        "apiVersion": "argoproj.io/v1alpha1", "kind": "Application",
        "metadata": {"name": "nublado", "namespace": "argocd",
                     "finalizers": ["resources-finalizer.argocd.argoproj.io"],
                     "labels": {"argocd.argoproj.io/instance": "science-platform"}},
        # environments/templates/applications/rsp/nublado.yaml: project rsp, no syncPolicy
        "spec": {
            "project": "rsp",
            "destination": {"namespace": "nublado", "server": "https://kubernetes.default.svc"},
            "source": {"repoURL": "https://github.com/lsst-sqre/phalanx.git",
                       "path": "applications/nublado", "targetRevision": "main",
                       "helm": {"valueFiles": ["values.yaml", "values-sim.yaml"]}},
            "ignoreDifferences": [
                {"kind": "Secret", "jsonPointers": [
                    "/data/hub.config.ConfigurableHTTPProxy.auth_token",
                    "/data/hub.config.CryptKeeper.keys",
                    "/data/hub.config.JupyterHub.cookie_secret"]},
                {"group": "apps", "kind": "Deployment", "jsonPointers": [
                    "/spec/template/metadata/annotations/checksum~1secret",
                    "/spec/template/metadata/annotations/checksum~1auth-token"]}],
        },
        "status": {
            "sync": {"status": "Synced", "revision": "3f6c1a9d2e0b7c5a4e8d1f2a3b4c5d6e7f8a9b0c",
                     "comparedTo": {"source": {"repoURL": "https://github.com/lsst-sqre/phalanx.git",
                                               "path": "applications/nublado",
                                               "targetRevision": "main"},
                                    "destination": {"namespace": "nublado",
                                                    "server": "https://kubernetes.default.svc"}}},
            "health": {"status": "Healthy"},
            "sourceType": "Helm",
        },
    }


def other_application(name, ns_name):
    a = application()
    a["metadata"]["name"] = name
    a["metadata"].pop("finalizers", None)
    a["spec"]["destination"]["namespace"] = ns_name
    a["spec"]["source"]["path"] = "applications/" + name
    return a


def initial(n_labs, values_yaml, db_password, hub_keys=None):
    """Return a list of objects in creation order (namespaces first)."""
    objs = []
    base_ns = [
        ("default", {}), ("kube-system", {}), ("kube-public", {}),
        ("argocd", {"argocd.argoproj.io/instance": "argocd"}),
        ("gafaelfawr", {"argocd.argoproj.io/instance": "gafaelfawr"}),
        ("nublado", {"argocd.argoproj.io/instance": "nublado"}),
        # decoys that must never be touched
        ("nublado-users", {"argocd.argoproj.io/instance": "nublado-users"}),
        ("nubladox", {"nublado.lsst.io/category": "lab", "nublado.lsst.io/user": "x"}),
        ("fileservers", {"argocd.argoproj.io/instance": "nublado-fileservers"}),
        ("jupyter-decoy", {"nublado.lsst.io/category": "lab",
                           "nublado.lsst.io/user": "decoy"}),
    ]
    for name, labels in base_ns:
        objs.append(ns(name, labels))
    for u in users(n_labs):
        objs.append(ns("%s-%s" % (PREFIX, u), {
            "nublado.lsst.io/category": "lab", "nublado.lsst.io/user": u,
            "argocd.argoproj.io/instance": "nublado-users"}))
    objs.append(controller_configmap())
    objs.extend(secrets(values_yaml, db_password, hub_keys))
    objs.extend(services())
    objs.append(hub_deployment())
    objs.append(controller_deployment())
    objs.append(proxy_deployment())
    objs.extend(app_gafaelfawr_ingresses())
    objs.append(application())
    objs.append(other_application("gafaelfawr", "gafaelfawr"))
    for u in users(n_labs):
        objs.append(lab_pod(u, "%s-%s" % (PREFIX, u)))
    fsp = lab_pod("user001", "fileservers")
    fsp["metadata"]["name"] = "user001-fs"  # a file server, not a lab
    fsp["metadata"]["labels"] = {"nublado.lsst.io/category": "fileserver",
                                 "nublado.lsst.io/user": "user001"}
    objs.append(fsp)
    return objs


def argo_desired():
    """What Argo CD would (re)create for the nublado app on a sync."""
    out = [controller_configmap(), hub_deployment(), controller_deployment(), proxy_deployment()]
    out.extend(services())
    out.extend(app_gafaelfawr_ingresses())
    return [copy.deepcopy(o) for o in out]
