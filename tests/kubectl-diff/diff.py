#!/usr/bin/python3
"""Differential test: the same kubeconfig through real kubectl 1.32 and kubectl-nublado.

Each case of CASES below is a kubeconfig (and command-line flags, and environment)
run as `kubectl version` and `kubectl-nublado version` against a logging endpoint in a
private network namespace: an HTTPS server (127.0.0.1 and 10.77.0.1, port 6443), a plain
HTTP server (port 8080), an HTTP CONNECT proxy (127.0.0.1:3128) and a SOCKS5 proxy
(127.0.0.1:1080) that alone can resolve `api.private.test`. What reached them is
compared: whether it worked, the server address and path, SNI, Host, credentials
(Authorization, client certificate), impersonation headers, compression, the proxy
used (and how it was asked: an IP address or a name), and what an exec plugin was
given. Any difference fails the run unless the case lists it in `differs` with the
reason (a deliberate difference); a listed difference that no longer occurs fails too,
so the table stays true. The cases marked `issue` failed before that fix.

    tests/kubectl-diff/diff.py [--bin PATH] [--kubectl PATH] [-k SUBSTRING] [-v]

Needs root (unshare -n); Python 3 standard library, openssl.
"""

import argparse
import json
import os
import select
import shutil
import socket
import socketserver
import ssl
import subprocess
import sys
import tempfile
import threading
import time

HERE = os.path.dirname(os.path.abspath(__file__))
TOP = os.path.dirname(os.path.dirname(HERE))
KUBECTL = "/usr/lib/google-cloud-sdk/bin/kubectl.1.32"
PRIVATE_IP = "10.77.0.1"        # not loopback to Go: proxies apply to it
PRIVATE_NAME = "api.private.test"   # only the SOCKS5 proxy resolves it
TLS_PORT, HTTP_PORT, CONNECT_PORT, SOCKS_PORT = 6443, 8080, 3128, 1080

# ------------------------------------------------------------------ the cases
#
# kubeconfig: the cluster and user bodies (YAML lines, indented 4), with {ca}, {wrongca},
# {cert}, {key} (base64), {certfile}, {keyfile}, {cafile}, {tokfile}, {plugin}, {dir} filled
# in. args: flags after `version`. env: extra environment. differs: {field: reason}.

CA_DATA = "    certificate-authority-data: {ca}\n"
S127 = "    server: https://127.0.0.1:6443\n"
SPRIV = "    server: https://%s:6443\n" % PRIVATE_IP
TOKEN = "    token: kubeconfig-token\n"
CERT = "    client-certificate-data: {cert}\n    client-key-data: {key}\n"

CASES = [
    # ---- credentials
    dict(name="client-certificate", cluster=S127 + CA_DATA, user=CERT),
    dict(name="token", cluster=S127 + CA_DATA, user=TOKEN),
    dict(name="tokenFile", cluster=S127 + CA_DATA, user="    tokenFile: {tokfile}\n"),
    dict(name="tokenFile-wins-over-token", issue="tokenFile wins over token",
         cluster=S127 + CA_DATA, user=TOKEN + "    tokenFile: {tokfile}\n"),
    dict(name="token-when-tokenFile-unreadable", cluster=S127 + CA_DATA,
         user=TOKEN + "    tokenFile: {dir}/missing-token\n"),
    dict(name="exec-plugin", cluster=S127 + CA_DATA,
         user="    exec:\n      apiVersion: client.authentication.k8s.io/v1\n"
              "      command: {plugin}\n      interactiveMode: Never\n"),
    dict(name="exec-plugin-not-run-with-client-cert", issue="client certificate wins over exec",
         cluster=S127 + CA_DATA,
         user=CERT + "    exec:\n      apiVersion: client.authentication.k8s.io/v1\n"
                     "      command: {plugin}\n      interactiveMode: Never\n"),
    dict(name="exec-plugin-cluster-info", issue="spec.cluster.config",
         cluster=S127 + CA_DATA + "    tls-server-name: kube.internal\n"
                 "    disable-compression: true\n"
                 "    extensions:\n    - name: client.authentication.k8s.io/exec\n"
                 "      extension:\n        audience: kube\n        n: 3\n"
                 "        nested: {{list: [a, 1, true, yes, 0x1F, 010, 1_000, 1.5e3, ~, '']}}\n"
                 "    - name: other\n      extension: {{x: 1}}\n",
         user="    exec:\n      apiVersion: client.authentication.k8s.io/v1beta1\n"
              "      command: {plugin}\n      provideClusterInfo: true\n"),
    dict(name="exec-plugin-cluster-info-server-as-written",
         cluster="    server: HTTPS://127.0.0.1:6443/?q=1\n" + CA_DATA
                 + "    proxy-url: http://127.0.0.1:3128\n",
         user="    exec:\n      apiVersion: client.authentication.k8s.io/v1beta1\n"
              "      command: {plugin}\n      provideClusterInfo: true\n"),
    dict(name="token-and-client-certificate", cluster=S127 + CA_DATA, user=TOKEN + CERT),
    dict(name="credentials-in-server-url",
         cluster="    server: https://url-user:url-pw@127.0.0.1:6443\n" + CA_DATA, user="    {{}}\n",
         plugin_stderr_has=["carries a user name or password"], plugin_stderr_not=["url-pw"]),
    dict(name="credentials-in-server-url-with-token",
         cluster="    server: https://url-user:url-pw@127.0.0.1:6443\n" + CA_DATA, user=TOKEN,
         differs={f: "we refuse user:password@ in a server URL (libcurl would send it as basic "
                     "auth, -vv would show it); kubectl ignores it and sends the token"
                  for f in ("ok", "reached", "listener", "path", "host", "auth", "gzip")}),
    dict(name="basic-auth", cluster=S127 + CA_DATA,
         user="    username: admin\n    password: pw\n"),
    dict(name="anonymous", cluster=S127 + CA_DATA, user="    {{}}\n",
         differs={f: "kubectl asks for a username and password on stdin when the user has no "
                     "credentials (here EOF: it fails); we never prompt, the request goes "
                     "anonymous" for f in ("ok", "reached", "listener", "path", "host", "gzip")}),
    # ---- impersonation
    dict(name="as-and-groups", cluster=S127 + CA_DATA,
         user=TOKEN + "    as: jdoe\n    as-groups: [g1, 'system:masters']\n"),
    dict(name="as-uid-and-user-extra", issue="as-uid and as-user-extra honoured",
         cluster=S127 + CA_DATA,
         user=TOKEN + "    as: jdoe\n    as-uid: uid-1\n"
                      "    as-user-extra:\n      scopes: [view, edit]\n"
                      "      example.org/team name: ['a b']\n"),
    dict(name="as-groups-without-as", issue="as-groups without as is an error",
         cluster=S127 + CA_DATA, user=TOKEN + "    as-groups: [g1]\n",
         plugin_stderr_has=["without impersonating a user"]),
    # ---- TLS and the server URL
    dict(name="tls-server-name", issue="tls-server-name keeps Host",
         cluster=S127 + CA_DATA + "    tls-server-name: kube.internal\n", user=TOKEN),
    dict(name="tls-server-name-wrong", issue="no certificate-authority hint for a wrong name",
         cluster=S127 + CA_DATA + "    tls-server-name: wrong.example\n", user=TOKEN,
         plugin_stderr_not=["certificate-authority"], plugin_stderr_has=["tls-server-name"]),
    dict(name="wrong-ca", cluster=S127 + "    certificate-authority-data: {wrongca}\n",
         user=TOKEN),
    dict(name="insecure-skip-tls-verify", cluster=S127 + "    insecure-skip-tls-verify: true\n",
         user=TOKEN),
    dict(name="server-upper-case-scheme", issue="HTTPS:// upper case",
         cluster="    server: HTTPS://127.0.0.1:6443\n" + CA_DATA, user=TOKEN),
    dict(name="server-query", issue="server URL with ?query",
         cluster="    server: https://127.0.0.1:6443?x=1\n" + CA_DATA, user=TOKEN),
    dict(name="server-path-prefix-and-query", issue="server URL with ?query", cluster="    server: https://127.0.0.1:6443/k8s/c1/?x=1\n"
         + CA_DATA, user=TOKEN),
    dict(name="server-default-port", cluster="    server: https://127.0.0.1\n" + CA_DATA,
         user=TOKEN),
    dict(name="server-explicit-default-port", cluster="    server: https://localhost:443\n"
         + CA_DATA, user=TOKEN),
    dict(name="server-ipv6", cluster="    server: https://[::1]:6443\n" + CA_DATA, user=TOKEN),
    dict(name="server-ipv6-tls-server-name", cluster="    server: https://[::1]:6443\n" + CA_DATA
         + "    tls-server-name: kube.internal\n", user=TOKEN),
    dict(name="insecure-with-tls-server-name", cluster=S127
         + "    insecure-skip-tls-verify: true\n    tls-server-name: kube.internal\n", user=TOKEN),
    dict(name="server-name-in-certificate", cluster="    server: https://localhost:6443\n" + CA_DATA,
         user=TOKEN),
    dict(name="disable-compression", issue="disable-compression honoured",
         cluster=S127 + CA_DATA + "    disable-compression: true\n", user=TOKEN),
    dict(name="plain-http-with-token", cluster="    server: http://127.0.0.1:8080\n", user=TOKEN,
         differs={f: "we refuse to send a token over plain http (before connecting); "
                     "kubectl sends the request without any credentials"
                  for f in ("ok", "reached", "listener", "path", "host", "gzip")}),
    # ---- proxies
    dict(name="proxy-url-http", cluster=SPRIV + CA_DATA + "    proxy-url: http://127.0.0.1:3128\n",
         user=TOKEN),
    dict(name="proxy-url-http-with-credentials",
         cluster=SPRIV + CA_DATA + "    proxy-url: http://pu:pp@127.0.0.1:3128\n", user=TOKEN),
    dict(name="proxy-url-socks5-upper-case-scheme",
         cluster="    server: https://%s:6443\n" % PRIVATE_NAME + CA_DATA
                 + "    proxy-url: SOCKS5://127.0.0.1:1080\n", user=TOKEN),
    dict(name="proxy-url-http-loopback-server",
         cluster=S127 + CA_DATA + "    proxy-url: http://127.0.0.1:3128\n", user=TOKEN),
    dict(name="proxy-url-http-with-tls-server-name", issue="tls-server-name keeps Host",
         cluster=SPRIV + CA_DATA + "    tls-server-name: kube.internal\n"
                 "    proxy-url: http://127.0.0.1:3128\n", user=TOKEN),
    dict(name="proxy-url-socks5-name", issue="SOCKS5 proxy resolves the name",
         cluster="    server: https://%s:6443\n" % PRIVATE_NAME + CA_DATA
                 + "    proxy-url: socks5://127.0.0.1:1080\n", user=TOKEN),
    dict(name="proxy-url-socks5-ip", cluster=SPRIV + CA_DATA
         + "    proxy-url: socks5://127.0.0.1:1080\n", user=TOKEN),
    dict(name="proxy-url-socks5-tls-server-name", issue="SOCKS5 proxy resolves the name",
         cluster="    server: https://%s:6443\n" % PRIVATE_NAME + CA_DATA
                 + "    tls-server-name: kube.internal\n"
                 "    proxy-url: socks5://127.0.0.1:1080\n", user=TOKEN),
    dict(name="proxy-url-not-subject-to-NO_PROXY", issue="NO_PROXY not applied to proxy-url",
         cluster=SPRIV + CA_DATA + "    proxy-url: http://127.0.0.1:3128\n", user=TOKEN,
         env={"NO_PROXY": PRIVATE_IP}),
    dict(name="HTTPS_PROXY", cluster=SPRIV + CA_DATA, user=TOKEN,
         env={"HTTPS_PROXY": "http://127.0.0.1:3128"}),
    dict(name="https_proxy-lower-case", cluster=SPRIV + CA_DATA, user=TOKEN,
         env={"https_proxy": "127.0.0.1:3128"}),
    dict(name="HTTPS_PROXY-not-for-loopback", issue="HTTPS_PROXY not applied to loopback",
         cluster=S127 + CA_DATA, user=TOKEN, env={"HTTPS_PROXY": "http://127.0.0.1:3128"}),
    dict(name="HTTPS_PROXY-and-NO_PROXY", cluster=SPRIV + CA_DATA, user=TOKEN,
         env={"HTTPS_PROXY": "http://127.0.0.1:3128", "NO_PROXY": "10.77.0.0/16"}),
    dict(name="HTTPS_PROXY-socks5", cluster=SPRIV + CA_DATA, user=TOKEN,
         env={"HTTPS_PROXY": "socks5://127.0.0.1:1080"}),
    dict(name="HTTPS_PROXY-socks5-name", cluster="    server: https://%s:6443\n" % PRIVATE_NAME
         + CA_DATA, user=TOKEN, env={"HTTPS_PROXY": "socks5://127.0.0.1:1080"}),
    dict(name="HTTPS_PROXY-with-credentials", cluster=SPRIV + CA_DATA, user=TOKEN,
         env={"HTTPS_PROXY": "http://eu:ep@127.0.0.1:3128"}),
    dict(name="HTTPS_PROXY-and-NO_PROXY-star", cluster=SPRIV + CA_DATA, user=TOKEN,
         env={"HTTPS_PROXY": "http://127.0.0.1:3128", "NO_PROXY": "*"}),
    dict(name="HTTPS_PROXY-and-NO_PROXY-with-port", cluster=SPRIV + CA_DATA, user=TOKEN,
         env={"HTTPS_PROXY": "http://127.0.0.1:3128", "NO_PROXY": PRIVATE_IP + ":6443"}),
    dict(name="HTTPS_PROXY-and-NO_PROXY-other-port", cluster=SPRIV + CA_DATA, user=TOKEN,
         env={"HTTPS_PROXY": "http://127.0.0.1:3128", "NO_PROXY": PRIVATE_IP + ":443"}),
    dict(name="HTTPS_PROXY-and-NO_PROXY-ip-suffix", cluster=SPRIV + CA_DATA, user=TOKEN,
         env={"HTTPS_PROXY": "http://127.0.0.1:3128", "NO_PROXY": ".0.1,0.1"}),
    dict(name="HTTPS_PROXY-and-NO_PROXY-domain", cluster="    server: https://%s:6443\n"
         % PRIVATE_NAME + CA_DATA, user=TOKEN,
         env={"HTTPS_PROXY": "socks5://127.0.0.1:1080", "NO_PROXY": "private.test"}),
    dict(name="HTTPS_PROXY-and-NO_PROXY-dot-domain", cluster="    server: https://%s:6443\n"
         % PRIVATE_NAME + CA_DATA, user=TOKEN,
         env={"HTTPS_PROXY": "socks5://127.0.0.1:1080", "no_proxy": ".api.private.test"}),
    dict(name="HTTPS_PROXY-and-NO_PROXY-star-domain", cluster="    server: https://%s:6443\n"
         % PRIVATE_NAME + CA_DATA, user=TOKEN,
         env={"HTTPS_PROXY": "socks5://127.0.0.1:1080", "NO_PROXY": " *.private.test:6443 "}),
    dict(name="HTTPS_PROXY-localhost", cluster="    server: https://localhost:6443\n" + CA_DATA,
         user=TOKEN, env={"HTTPS_PROXY": "http://127.0.0.1:3128"}),
    dict(name="ALL_PROXY-ignored", issue="ALL_PROXY ignored", cluster=SPRIV + CA_DATA, user=TOKEN,
         env={"ALL_PROXY": "http://127.0.0.1:3128", "all_proxy": "http://127.0.0.1:3128"}),
    dict(name="HTTP_PROXY-not-for-https", cluster=SPRIV + CA_DATA, user=TOKEN,
         env={"HTTP_PROXY": "http://127.0.0.1:3128"}),
    # ---- kubectl's config flags (issue 11 item 7)
    dict(name="flags-as-as-group-as-uid", issue="--as, --as-group, --as-uid",
         cluster=S127 + CA_DATA, user=TOKEN,
         args=["--as", "jdoe", "--as-group", "g1", "--as-group", "g2", "--as-uid", "u-9"]),
    dict(name="flag-as-group-without-as", issue="--as-group",
         cluster=S127 + CA_DATA, user=TOKEN, args=["--as-group", "g1"],
         plugin_stderr_has=["without impersonating a user"]),
    dict(name="flag-token", issue="--token", cluster=S127 + CA_DATA, user=TOKEN,
         args=["--token", "flag-token"]),
    dict(name="flag-token-and-kubeconfig-tokenFile", issue="--token",
         cluster=S127 + CA_DATA, user="    tokenFile: {tokfile}\n",
         args=["--token", "flag-token"]),
    dict(name="flags-server-ca-token-no-kubeconfig", issue="-s, --certificate-authority",
         kubeconfig="/dev/null",
         args=["-s", "https://127.0.0.1:6443", "--certificate-authority", "{cafile}",
               "--token", "flag-token"]),
    dict(name="flag-server-clears-tls-server-name", issue="--server",
         cluster=S127 + CA_DATA + "    tls-server-name: kube.internal\n", user=TOKEN,
         args=["--server", "https://%s:6443" % PRIVATE_IP]),
    dict(name="flag-user-and-cluster", issue="--user, --cluster",
         cluster=S127 + CA_DATA, user=TOKEN, args=["--user", "other", "--cluster", "other"]),
    dict(name="flag-insecure-skip-tls-verify", issue="--insecure-skip-tls-verify",
         cluster=S127 + "    certificate-authority-data: {wrongca}\n", user=TOKEN,
         args=["--insecure-skip-tls-verify"]),
    dict(name="flag-insecure-and-ca", issue="--insecure-skip-tls-verify",
         cluster=S127 + CA_DATA, user=TOKEN,
         args=["--insecure-skip-tls-verify", "--certificate-authority", "{cafile}"],
         plugin_stderr_has=["with the insecure flag is not allowed"]),
    dict(name="flag-tls-server-name", issue="--tls-server-name",
         cluster=S127 + CA_DATA, user=TOKEN, args=["--tls-server-name", "kube.internal"]),
    dict(name="flags-client-certificate-key", issue="--client-certificate, --client-key",
         cluster=S127 + CA_DATA, user="    {{}}\n",
         args=["--client-certificate", "{certfile}", "--client-key", "{keyfile}"]),
    dict(name="flag-client-certificate-over-data", issue="--client-certificate",
         cluster=S127 + CA_DATA, user=CERT,
         args=["--client-certificate", "{certfile}", "--client-key", "{keyfile}"],
         plugin_stderr_has=["client-certificate-data and --client-certificate are both "
                            "specified"]),
    dict(name="flag-disable-compression", issue="--disable-compression",
         cluster=S127 + CA_DATA, user=TOKEN, args=["--disable-compression"]),
    dict(name="flag-cache-dir", issue="--cache-dir", cluster=S127 + CA_DATA, user=TOKEN,
         args=["--cache-dir", "{dir}/cache"]),
]

# The fields compared, in the order they are reported.
FIELDS = ["ok", "reached", "listener", "path", "sni", "host", "auth", "client_cert",
          "impersonation", "gzip", "proxy", "exec_plugin"]

# ------------------------------------------------------------------ the endpoints

EVENTS = []
EVENTS_LOCK = threading.Lock()


def log(ev):
    with EVENTS_LOCK:
        EVENTS.append(ev)


def read_head(sock, limit=65536):
    data = b""
    while b"\r\n\r\n" not in data:
        chunk = sock.recv(4096)
        if not chunk:
            break
        data += chunk
        if len(data) > limit:
            break
    return data


def pipe(a, b):
    socks = [a, b]
    try:
        while True:
            r, _, _ = select.select(socks, [], [], 10)
            if not r:
                return
            for s in r:
                # TLS sockets may hold buffered bytes: read what there is.
                data = s.recv(65536)
                if not data:
                    return
                (b if s is a else a).sendall(data)
    except OSError:
        return
    finally:
        a.close()
        b.close()


def resolve(host):
    if host == PRIVATE_NAME:
        return PRIVATE_IP
    return socket.gethostbyname(host)


# The handshake runs in the handler's thread: the SNI callback leaves the name here.
SNI = threading.local()


def on_sni(sslsock, name, ctx):
    SNI.name = name


class HTTPHandler(socketserver.BaseRequestHandler):
    tls_ctx = None

    def handle(self):
        sock = self.request
        local = "%s:%d" % sock.getsockname()[:2]
        sni = None
        cert_cn = None
        if self.tls_ctx is not None:
            SNI.name = None
            try:
                sock = self.tls_ctx.wrap_socket(sock, server_side=True)
            except (ssl.SSLError, OSError) as e:
                log(dict(kind="tls", listener=local, sni=SNI.name, error=str(e)))
                return
            sni = SNI.name
            log(dict(kind="tls", listener=local, sni=sni))
            peer = sock.getpeercert()
            for rdn in (peer or {}).get("subject", ()):
                for k, v in rdn:
                    if k == "commonName":
                        cert_cn = v
        head = read_head(sock)
        if not head:
            return
        lines = head.split(b"\r\n\r\n", 1)[0].decode("latin-1").split("\r\n")
        method, target = lines[0].split(" ")[:2]
        headers = []
        for ln in lines[1:]:
            if ":" in ln:
                k, v = ln.split(":", 1)
                headers.append((k.strip().lower(), v.strip()))
        log(dict(kind="req", listener=local, scheme="https" if self.tls_ctx else "http",
                 sni=sni, cert=cert_cn, method=method, target=target, headers=headers))
        if target.split("?")[0].endswith("/version"):
            body = json.dumps({"major": "1", "minor": "32", "gitVersion": "v1.32.4",
                               "gitCommit": "x", "gitTreeState": "clean",
                               "buildDate": "2025-01-01T00:00:00Z", "goVersion": "go1.23",
                               "compiler": "gc", "platform": "linux/amd64"}).encode()
            status = "200 OK"
        else:
            body = json.dumps({"kind": "Status", "apiVersion": "v1", "status": "Failure",
                               "reason": "NotFound", "code": 404}).encode()
            status = "404 Not Found"
        sock.sendall(("HTTP/1.1 %s\r\nContent-Type: application/json\r\n"
                      "Content-Length: %d\r\nConnection: close\r\n\r\n"
                      % (status, len(body))).encode() + body)
        try:
            sock.close()
        except OSError:
            pass


class TLSHandler(HTTPHandler):
    pass


class ConnectProxy(socketserver.BaseRequestHandler):
    def handle(self):
        head = read_head(self.request)
        line = head.split(b"\r\n", 1)[0].decode("latin-1")
        parts = line.split(" ")
        if len(parts) < 2 or parts[0] != "CONNECT":
            log(dict(kind="proxy", via="http", request=line))
            self.request.sendall(b"HTTP/1.1 502 Bad Gateway\r\nContent-Length: 0\r\n\r\n")
            return
        target = parts[1]
        auth = [ln.split(":", 1)[1].strip() for ln in head.decode("latin-1").split("\r\n")[1:]
                if ln.lower().startswith("proxy-authorization:")]
        log(dict(kind="proxy", via="http-connect",
                 target=target + (" with " + auth[0] if auth else "")))
        host, port = target.rsplit(":", 1)
        try:
            up = socket.create_connection((resolve(host.strip("[]")), int(port)), timeout=5)
        except OSError:
            self.request.sendall(b"HTTP/1.1 502 Bad Gateway\r\nContent-Length: 0\r\n\r\n")
            return
        self.request.sendall(b"HTTP/1.1 200 Connection established\r\n\r\n")
        pipe(self.request, up)


class Socks5Proxy(socketserver.BaseRequestHandler):
    def recv_n(self, n):
        data = b""
        while len(data) < n:
            chunk = self.request.recv(n - len(data))
            if not chunk:
                raise OSError("short read")
            data += chunk
        return data

    def handle(self):
        try:
            ver, nmethods = self.recv_n(2)
            self.recv_n(nmethods)
            self.request.sendall(b"\x05\x00")
            ver, cmd, _, atyp = self.recv_n(4)
            if atyp == 1:
                host, kind = socket.inet_ntoa(self.recv_n(4)), "ipv4"
            elif atyp == 3:
                host, kind = self.recv_n(self.recv_n(1)[0]).decode(), "name"
            else:
                host, kind = socket.inet_ntop(socket.AF_INET6, self.recv_n(16)), "ipv6"
            port = int.from_bytes(self.recv_n(2), "big")
        except OSError:
            return
        log(dict(kind="proxy", via="socks5", target="%s %s:%d" % (kind, host, port)))
        try:
            up = socket.create_connection((resolve(host), port), timeout=5)
        except OSError:
            self.request.sendall(b"\x05\x04\x00\x01\x00\x00\x00\x00\x00\x00")
            return
        self.request.sendall(b"\x05\x00\x00\x01\x00\x00\x00\x00\x00\x00")
        pipe(self.request, up)


class Server(socketserver.ThreadingTCPServer):
    daemon_threads = True
    allow_reuse_address = True


class Server6(Server):
    address_family = socket.AF_INET6


def serve(addr, handler):
    s = (Server6 if ":" in addr[0] else Server)(addr, handler)
    threading.Thread(target=s.serve_forever, daemon=True).start()
    return s


# ------------------------------------------------------------------ PKI

def openssl(*args, cwd):
    subprocess.run(["openssl"] + list(args), cwd=cwd, check=True,
                   stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)


def make_pki(d):
    ec = ["-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes"]
    for ca in ("ca", "wrongca"):
        openssl("req", "-x509", *ec, "-keyout", ca + ".key", "-out", ca + ".crt", "-days", "2",
                "-subj", "/CN=diff " + ca, cwd=d)
    with open(os.path.join(d, "san.ext"), "w") as f:
        f.write("subjectAltName=IP:127.0.0.1,IP:%s,DNS:localhost,DNS:%s,DNS:kube.internal\n"
                "extendedKeyUsage=serverAuth\n" % (PRIVATE_IP, PRIVATE_NAME))
    with open(os.path.join(d, "client.ext"), "w") as f:
        f.write("extendedKeyUsage=clientAuth\n")
    for name, subj, ext in (("server", "/CN=diff server", "san.ext"),
                            ("client", "/O=system:masters/CN=cert-user", "client.ext")):
        openssl("req", *ec, "-keyout", name + ".key", "-out", name + ".csr", "-subj", subj, cwd=d)
        openssl("x509", "-req", "-in", name + ".csr", "-CA", "ca.crt", "-CAkey", "ca.key",
                "-CAcreateserial", "-out", name + ".crt", "-days", "2", "-extfile", ext, cwd=d)


def b64(path):
    import base64
    with open(path, "rb") as f:
        return base64.b64encode(f.read()).decode()


# ------------------------------------------------------------------ running a case

def write_kubeconfig(case, d, fill):
    if case.get("kubeconfig"):
        return case["kubeconfig"]
    path = os.path.join(d, "kubeconfig-" + case["name"])
    text = ("apiVersion: v1\nkind: Config\ncurrent-context: c\n"
            "clusters:\n- name: k\n  cluster:\n" + case["cluster"].format(**fill) +
            "- name: other\n  cluster:\n" + SPRIV + CA_DATA.format(**fill) +
            "contexts:\n- name: c\n  context: {cluster: k, user: u}\n"
            "users:\n- name: u\n  user:\n" + case["user"].format(**fill) +
            "- name: other\n  user:\n" + CERT.format(**fill))
    with open(path, "w") as f:
        f.write(text)
    return path


def summarize(events, rc, stderr, exec_log):
    reqs = [e for e in events if e["kind"] == "req"]
    tls = [e for e in events if e["kind"] == "tls"]
    proxies = sorted({"%s %s" % (e["via"], e.get("target", e.get("request")))
                      for e in events if e["kind"] == "proxy"})
    first = reqs[0] if reqs else None
    h = first["headers"] if first else []

    def header(name):
        vals = [v for k, v in h if k == name]
        return vals[0] if vals else None

    auth = header("authorization")
    if auth is not None and auth.lower().startswith("basic "):
        import base64
        auth = "Basic " + base64.b64decode(auth[6:]).decode("latin-1")
    exec_info = None
    if os.path.exists(exec_log):
        with open(exec_log) as f:
            text = f.read()
        try:
            exec_info = json.loads(text).get("spec")
        except ValueError:
            exec_info = "not JSON: " + text
    return {
        "ok": rc == 0,
        "reached": first is not None,
        "listener": first and "%s://%s" % (first["scheme"], first["listener"]),
        "path": first and first["target"].split("?")[0],
        "sni": tls[0]["sni"] if tls else None,
        "host": header("host"),
        "auth": auth,
        "client_cert": first and first["cert"],
        "impersonation": sorted("%s: %s" % (k, v) for k, v in h if k.startswith("impersonate-")),
        "gzip": first is not None and "gzip" in (header("accept-encoding") or ""),
        "proxy": proxies,
        "exec_plugin": exec_info,
    }


def brief_diff(a, b, path=""):
    """Where two values first differ, shortly (certificates make whole values unreadable)."""
    if isinstance(a, dict) and isinstance(b, dict):
        for k in sorted(set(a) | set(b)):
            if a.get(k) != b.get(k):
                pa, pb = brief_diff(a.get(k), b.get(k), path + "." + k)
                return pa, pb
    short = lambda v: (repr(v)[:120] + "...") if len(repr(v)) > 120 else repr(v)
    if path:
        return "%s=%s" % (path, short(a)), "%s=%s" % (path, short(b))
    return short(a), short(b)


def run_one(argv, env, exec_log):
    with EVENTS_LOCK:
        EVENTS.clear()
    if os.path.exists(exec_log):
        os.unlink(exec_log)
    p = subprocess.run(argv, env=env, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                       stderr=subprocess.PIPE, text=True, timeout=60)
    time.sleep(0.05)    # the server thread logs after answering
    with EVENTS_LOCK:
        events = list(EVENTS)
    return summarize(events, p.returncode, p.stderr, exec_log), p


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--bin", default=os.path.join(TOP, "build", "kubectl-nublado"))
    ap.add_argument("--kubectl", default=KUBECTL)
    ap.add_argument("-k", dest="filter", default="")
    ap.add_argument("-v", dest="verbose", action="store_true")
    opts = ap.parse_args()

    if os.environ.get("NUB_DIFF_NETNS") != "1":
        if os.geteuid() != 0:
            print("kubectl-diff: needs root (a private network namespace)", file=sys.stderr)
            return 1
        env = dict(os.environ, NUB_DIFF_NETNS="1")
        return subprocess.call(["unshare", "-n", "--", sys.executable] + sys.argv, env=env)
    subprocess.run(["ip", "link", "set", "lo", "up"], check=True)
    subprocess.run(["ip", "addr", "add", PRIVATE_IP + "/32", "dev", "lo"], check=True)

    d = tempfile.mkdtemp(prefix="nub-kubectl-diff.")
    try:
        return run_cases(opts, d)
    finally:
        if os.environ.get("KEEP_DIFF"):
            print("kept", d)
        else:
            shutil.rmtree(d, ignore_errors=True)


def run_cases(opts, d):
    make_pki(d)
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    ctx.load_cert_chain(os.path.join(d, "server.crt"), os.path.join(d, "server.key"))
    ctx.load_verify_locations(os.path.join(d, "ca.crt"))
    ctx.verify_mode = ssl.CERT_OPTIONAL
    ctx.sni_callback = on_sni
    TLSHandler.tls_ctx = ctx
    serve(("0.0.0.0", TLS_PORT), TLSHandler)
    serve(("::1", TLS_PORT), TLSHandler)
    serve(("0.0.0.0", 443), TLSHandler)
    serve(("0.0.0.0", HTTP_PORT), HTTPHandler)
    serve(("127.0.0.1", CONNECT_PORT), ConnectProxy)
    serve(("127.0.0.1", SOCKS_PORT), Socks5Proxy)

    exec_log = os.path.join(d, "exec-info.json")
    plugin = os.path.join(d, "plugin")
    with open(plugin, "w") as f:
        f.write("#!/bin/sh\nprintf '%%s' \"$KUBERNETES_EXEC_INFO\" > '%s'\n"
                "v=$(printf '%%s' \"$KUBERNETES_EXEC_INFO\" | sed 's/.*\"apiVersion\":\"\\([^\"]*\\)\".*/\\1/')\n"
                "printf '{\"kind\":\"ExecCredential\",\"apiVersion\":\"%%s\","
                "\"status\":{\"token\":\"exec-token\"}}' \"$v\"\n" % exec_log)
    os.chmod(plugin, 0o755)
    tokfile = os.path.join(d, "token-file")
    with open(tokfile, "w") as f:
        f.write("file-token\n")
    fill = dict(ca=b64(os.path.join(d, "ca.crt")), wrongca=b64(os.path.join(d, "wrongca.crt")),
                cert=b64(os.path.join(d, "client.crt")), key=b64(os.path.join(d, "client.key")),
                certfile=os.path.join(d, "client.crt"), keyfile=os.path.join(d, "client.key"),
                cafile=os.path.join(d, "ca.crt"), tokfile=tokfile, plugin=plugin, dir=d)
    home = os.path.join(d, "home")
    os.mkdir(home)
    base_env = {"PATH": os.environ.get("PATH", "/usr/bin:/bin"), "HOME": home,
                "LANG": "C.UTF-8"}
    for k in ("ASAN_OPTIONS", "UBSAN_OPTIONS"):
        if k in os.environ:
            base_env[k] = os.environ[k]

    failures, deliberate, agreed = [], 0, 0
    for case in CASES:
        if opts.filter and opts.filter not in case["name"]:
            continue
        kc = write_kubeconfig(case, d, fill)
        args = [a.format(**fill) for a in case.get("args", [])]
        env = dict(base_env, **case.get("env", {}))
        common = ["--kubeconfig", kc, "version", "--request-timeout=5s"] + args
        want, kp = run_one([opts.kubectl] + common, env, exec_log)
        got, np_ = run_one([opts.bin] + common, env, exec_log)
        problems = []
        if np_.returncode >= 90:
            problems.append("plugin exit %d (sanitizer?):\n%s" % (np_.returncode, np_.stderr))
        differs = case.get("differs", {})
        for field in FIELDS:
            same = want[field] == got[field]
            if not same and field not in differs:
                problems.append("%s: kubectl %s, kubectl-nublado %s"
                                % ((field,) + brief_diff(want[field], got[field])))
            elif same and field in differs:
                problems.append("%s: listed as a deliberate difference (%s) but both give %r: "
                                "update the table" % (field, differs[field], want[field]))
        for s in case.get("plugin_stderr_not", []):
            if s in np_.stderr:
                problems.append("kubectl-nublado's stderr mentions %r:\n%s" % (s, np_.stderr))
        for s in case.get("plugin_stderr_has", []):
            if s not in np_.stderr:
                problems.append("kubectl-nublado's stderr lacks %r:\n%s" % (s, np_.stderr))
        tag = " (issue 11: %s)" % case["issue"] if case.get("issue") else ""
        if problems:
            failures.append(case["name"])
            print("FAIL %s%s" % (case["name"], tag))
            for p in problems:
                print("     " + p.replace("\n", "\n     "))
            print("     kubectl stderr: " + kp.stderr.strip().replace("\n", "\n       "))
            print("     kubectl-nublado stderr: " + np_.stderr.strip().replace("\n", "\n       "))
        else:
            if differs:
                deliberate += 1
                print("ok   %s%s: deliberate differences: %s" % (
                    case["name"], tag, "; ".join(sorted(set(differs.values())))))
            else:
                agreed += 1
                print("ok   %s%s" % (case["name"], tag))
        if opts.verbose:
            print("     kubectl:         " + json.dumps(want, sort_keys=True))
            print("     kubectl-nublado: " + json.dumps(got, sort_keys=True))
    print("kubectl-diff: %d cases agree, %d with deliberate differences only, %d fail%s"
          % (agreed, deliberate, len(failures), (": " + ", ".join(failures)) if failures else ""))
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
