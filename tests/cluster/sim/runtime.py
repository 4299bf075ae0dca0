"""Processes behind the simulated cluster: PostgreSQL (12-18), the hub pod's process, pod exec.

The API server (tests/cluster/cluster) owns the Kubernetes objects; this module owns the
real processes they stand for:

- one PostgreSQL server of the major asked for (15 by default; tests/pg/install fetches
  the others; run as the postgres user, 127.0.0.1 on a free port) with the
  databases a Nublado hub sees: `nublado` owned by the unprivileged role nublado, plus
  data of another role (`other`) that a wipe must never touch;
- the hub pod's process, started per pod name: a real JupyterHub 5.2 (real_hub=True or 5:
  Debian 13's package, chrooted in the trixie root tests/hub5/install makes, with the pod's
  files bind-mounted in), a real JupyterHub 3.0 (real_hub=3: Debian 12's /usr/bin/jupyterhub),
  or a small stand-in that behaves like JupyterHub 5.x towards its database;
- `exec` into a pod: the command runs in a private mount namespace where the pod's
  chart files appear under /usr/local/etc/jupyterhub, with a pod-like environment that
  does not carry the database password (as in the real hub pod).

Use:
    rt = Runtime(dir, real_hub, seed, log_dir, pg_version=15)   # real_hub: False, True (= 5), 3, 5
    db = rt.start_db()        # keys: port, host, socket_dir, data_dir, pid, password (nublado's),
                              # url, url_nopw, admin_url, admin_password, other_url, other_password
    rt.write_pod_files()      # pod_files() gives the same texts, for the Secrets' data
    h = rt.start_hub(pod)     # h.port, h.url, h.health_path ("/nb/hub/health"), h.ready(), h.stop()
    p = rt.exec(pod, argv, tty)
    rt.seed_users([...]); rt.pids(); rt.stop()

Layout under DIR:
    pg/data, pg/run         PostgreSQL data directory and private socket directory; when a
                            parent of DIR is closed to the postgres user they live in
                            /var/tmp/kubectl-nublado-pg/<id> instead, named in DIR/pg.location
                            (removed by stop())
    pod-files/              mounted read-only at /usr/local/etc/jupyterhub in every pod
    pods/<pod>/             per-pod working directory (cookie secret, pid file, home/)
    hub-admin-token         API token of the hub's "sim-admin" service (real hub only)
Logs go to LOG_DIR: postgres.log, hub-<pod>.log, runtime.log. No secret is printed.
"""

import fcntl
import hashlib
import http.client
import os
import pwd
import random
import re
import secrets
import shutil
import signal
import socket
import stat
import struct
import subprocess
import termios
import threading
import time
import urllib.parse
import uuid

HERE = os.path.dirname(os.path.abspath(__file__))
ASSETS = os.path.join(HERE, "runtime")
PG_VERSION = 15  # the default major: Debian 12's own, as most of the tests use
PG_VERSIONS = (12, 13, 14, 15, 16, 17, 18)
PG_INSTALL = os.path.join(os.path.dirname(os.path.dirname(HERE)), "pg", "install")
PSQL = "/usr/bin/psql"
PYTHON = "/usr/bin/python3"
JUPYTERHUB = "/usr/bin/jupyterhub"  # Debian 12's 3.0 on the host; Debian 13's 5.2 in the trixie root
HUB_VERSIONS = (3, 5)  # the real hubs: --real-hub=3, --real-hub (=5)
HUB5_INSTALL = os.path.join(os.path.dirname(os.path.dirname(HERE)), "hub5", "install")
# Mount points inside the trixie root (made by tests/hub5/install): the pod's working
# directory and the hub's admin token file; the chart's files go to POD_ETC as everywhere.
HUB5_POD_DIR = "/sim/pod"
HUB5_TOKEN_FILE = "/sim/admin-token"
POD_ETC = "/usr/local/etc/jupyterhub"
PG_FALLBACK = "/var/tmp/kubectl-nublado-pg"
# initdb output, made once per PostgreSQL version (and bin dir) and copied per run (cp -a is ~10x
# faster than initdb). NUBLADO_SIM_PG_CACHE=off disables it, or names another folder.
PG_CACHE = os.environ.get("NUBLADO_SIM_PG_CACHE", "/var/tmp/kubectl-nublado-pgcache")
INITDB_OPTS = ["-U", "postgres", "-E", "UTF8", "--locale=C.UTF-8", "--no-sync", "--no-instructions",
               "--auth-local=trust", "--auth-host=scram-sha-256"]
POD_PATH = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"

# Run argv with the pod's files bind-mounted (read-only) over /usr/local/etc/jupyterhub in
# a private mount namespace: unshare -> sh -> exec argv, so the pid stays the same.
_SANDBOX_SH = 'mount --bind -o ro "$0" ' + POD_ETC + ' && exec "$@"'

# The JupyterHub 5 hub: in a private mount namespace, the trixie root ($0) bound onto itself
# read-only (the cache stays as installed), /proc, a private /tmp, the pod's files ($1, read-only),
# its working directory ($2) and the admin token ($3) mounted into it; then chroot, cd to the
# pod directory and exec the hub, so the pid stays the same.
_HUB5_SH = ('r="$0" && mount --bind "$r" "$r" && mount -o remount,bind,ro "$r" '
            '&& mount -t proc proc "$r/proc" && mount -t tmpfs -o mode=1777,size=64m tmpfs "$r/tmp" '
            '&& mount --bind -o ro "$1" "$r' + POD_ETC + '" '
            '&& mount --bind "$2" "$r' + HUB5_POD_DIR + '" '
            '&& mount --bind -o ro "$3" "$r' + HUB5_TOKEN_FILE + '" '
            '&& shift 3 && exec /usr/sbin/chroot "$r" /bin/sh -c \'cd "$0" && exec "$@"\' ' + HUB5_POD_DIR + ' "$@"')

_pg_bins = {}
_hub5_root = []


def hub_version(real_hub):
    """The real hub's JupyterHub major from a --real-hub value: None (stand-in), 3 or 5."""
    if real_hub in (None, False, 0, "", "0"):
        return None
    if real_hub is True:
        return 5
    v = int(str(real_hub))
    if v not in HUB_VERSIONS:
        raise ValueError(f"no real JupyterHub {real_hub} (3 or 5)")
    return v


def hub5_root():
    """The trixie root with JupyterHub 5 (tests/hub5/install: made once per machine, cached)."""
    if not _hub5_root:
        res = subprocess.run([HUB5_INSTALL], capture_output=True, text=True)
        if res.returncode != 0:
            raise RuntimeError(f"tests/hub5/install failed: {res.stderr.strip()[-2000:]}")
        _hub5_root.append(res.stdout.strip().split("\n")[-1])
    return _hub5_root[0]


def pg_bin(major):
    """The directory with initdb and postgres of that major (tests/pg/install, cached)."""
    major = int(major)
    if major not in PG_VERSIONS:
        raise ValueError(f"no PostgreSQL {major} (one of {', '.join(map(str, PG_VERSIONS))})")
    if major not in _pg_bins:
        res = subprocess.run([PG_INSTALL, str(major)], capture_output=True, text=True)
        if res.returncode != 0:
            raise RuntimeError(f"tests/pg/install {major} failed: {res.stderr.strip()[-2000:]}")
        _pg_bins[major] = res.stdout.strip().split("\n")[-1]
    return _pg_bins[major]


SAMPLE_USERS = ["adari", "bbowen", "cmhernandez", "dpaley", "esanders", "fgarcia",
                "gkimura", "hmorales", "ijohnson", "jnakamura"]


def free_port(avoid=()):
    """A TCP port on 127.0.0.1 that nothing listens on now (and not in `avoid`)."""
    for _ in range(50):
        with socket.socket() as s:
            s.bind(("127.0.0.1", 0))
            port = s.getsockname()[1]
        if port not in avoid:
            return port
    raise RuntimeError("no free port found")


def _traversable(path, uid, gids):
    st = os.stat(path)
    if st.st_uid == uid:
        return bool(st.st_mode & stat.S_IXUSR)
    if st.st_gid in gids:
        return bool(st.st_mode & stat.S_IXGRP)
    return bool(st.st_mode & stat.S_IXOTH)


def _killpg(pid, sig):
    try:
        os.killpg(pid, sig)
        return True
    except (ProcessLookupError, PermissionError):
        return False


def _terminate(proc, sig=signal.SIGTERM, timeout=10.0, group=True):
    """Signal proc (its whole group if group), wait, then SIGKILL the group."""
    if proc.poll() is None:
        if not group or not _killpg(proc.pid, sig):
            try:
                proc.send_signal(sig)
            except ProcessLookupError:
                pass
        try:
            proc.wait(timeout)
        except subprocess.TimeoutExpired:
            pass
    if proc.poll() is None:
        if not _killpg(proc.pid, signal.SIGKILL):
            proc.kill()
        proc.wait(5)
    _killpg(proc.pid, signal.SIGKILL)  # stragglers left in the group


class Hub:
    """The hub process of one pod. Not waited for at start: poll ready()."""

    def __init__(self, pod_name, proc, port, log_path, kind, base_url="/"):
        self.pod_name = pod_name
        self.proc = proc
        self.port = port
        self.url = f"http://127.0.0.1:{port}"
        self.base_url = base_url  # hub.baseUrl: "/nb/" as in Nublado
        self.health_path = base_url + "hub/health"
        self.api_url = self.url + base_url + "hub/api"
        self.log_path = log_path
        self.kind = kind  # "jupyterhub5", "jupyterhub" (3.0) or "standin"

    @property
    def pids(self):
        return [self.proc.pid] if self.proc.poll() is None else []

    @property
    def returncode(self):
        return self.proc.poll()

    def alive(self):
        return self.proc.poll() is None

    def ready(self, timeout=0.5):
        """True when GET BASE/hub/health (health_path) answers 200."""
        if self.proc.poll() is not None:
            return False
        conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=timeout)
        try:
            conn.request("GET", self.health_path)
            return conn.getresponse().status == 200
        except (OSError, http.client.HTTPException):
            return False
        finally:
            conn.close()

    def wait_ready(self, timeout=30.0):
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.ready():
                return True
            if self.proc.poll() is not None:
                return False
            time.sleep(0.05)
        return False

    def stop(self, timeout=10.0):
        """SIGTERM (graceful, like kubelet), wait up to timeout, then SIGKILL."""
        _terminate(self.proc, signal.SIGTERM, timeout)

    def kill(self):
        """Crash it: SIGKILL, no cleanup (fault injection)."""
        _terminate(self.proc, signal.SIGKILL, 5)


class Runtime:
    def __init__(self, dir, real_hub, seed, log_dir, namespace="nublado", standin_holds_locks=False,
                 pg_version=PG_VERSION):
        self.dir = os.path.abspath(dir)
        self.pg_version = int(pg_version)
        self.pg_bin = pg_bin(self.pg_version)
        # Start stand-in hubs "idle in transaction" like a real hub that served a request
        # (a DROP OWNED then waits for their locks). May be changed between start_hub calls.
        self.standin_holds_locks = standin_holds_locks
        self.hub_version = hub_version(real_hub)  # None: the stand-in; 3 or 5: a real JupyterHub
        self.real_hub = self.hub_version is not None
        self.hub5_root = hub5_root() if self.hub_version == 5 else None
        self.seed = seed
        self.rng = random.Random(seed)
        self.log_dir = os.path.abspath(log_dir)
        self.namespace = namespace
        os.makedirs(self.dir, exist_ok=True)
        os.makedirs(self.log_dir, exist_ok=True)
        self.base_url = "/nb/"  # hub.baseUrl in the values (Nublado's); health: /nb/hub/health
        self.pod_files_dir = os.path.join(self.dir, "pod-files")
        self.pods_dir = os.path.join(self.dir, "pods")
        self.admin_token_file = os.path.join(self.dir, "hub-admin-token")
        self.db = None
        self.pg_base = None
        self._pg_external = False
        self._pg = None
        self._procs = []
        self._hubs = []
        self._ports = set()
        self._secrets = []
        self._lock = threading.Lock()
        self._crypt_key = secrets.token_hex(32)
        self._proxy_token = secrets.token_hex(32)
        self._admin_token = secrets.token_hex(32)
        self._service_ips = {
            "hub": "10.96.%d.%d" % (self.rng.randrange(1, 250), self.rng.randrange(2, 250)),
            "proxy_api": "10.96.%d.%d" % (self.rng.randrange(1, 250), self.rng.randrange(2, 250)),
            "proxy_public": "10.96.%d.%d" % (self.rng.randrange(1, 250), self.rng.randrange(2, 250)),
        }

    # ------------------------------------------------------------------ logging
    def _log(self, msg):
        with open(os.path.join(self.log_dir, "runtime.log"), "a") as f:
            f.write(time.strftime("%H:%M:%S ") + self._scrub(msg) + "\n")

    def _scrub(self, text):
        for s in self._secrets:
            text = text.replace(s, "***")
        return text

    def _track(self, proc):
        with self._lock:
            self._procs = [p for p in self._procs if p.poll() is None]
            self._procs.append(proc)
        return proc

    # ------------------------------------------------------------------ PostgreSQL
    def _choose_pg_base(self):
        pw = pwd.getpwnam("postgres")
        gids = set(os.getgrouplist("postgres", pw.pw_gid))
        # DIR is ours: let others traverse it (mkdtemp makes it 0700).
        mode = os.stat(self.dir).st_mode
        if not mode & stat.S_IXOTH:
            os.chmod(self.dir, stat.S_IMODE(mode) | stat.S_IXOTH)
        path, ok = "/", True
        for part in self.dir.strip("/").split("/"):
            path = os.path.join(path, part)
            if not _traversable(path, pw.pw_uid, gids):
                ok = False
                break
        if ok:
            return os.path.join(self.dir, "pg"), False
        # A parent of DIR is closed to postgres: keep the data elsewhere, say where.
        os.makedirs(PG_FALLBACK, mode=0o711, exist_ok=True)
        base = os.path.join(PG_FALLBACK, uuid.uuid4().hex[:12])
        with open(os.path.join(self.dir, "pg.location"), "w") as f:
            f.write(base + "\n")
        return base, True

    def _as_postgres(self, argv, **kw):
        pw = pwd.getpwnam("postgres")
        env = {"PATH": POD_PATH, "LC_ALL": "C.UTF-8", "HOME": self.pg_base}
        return subprocess.Popen(argv, user=pw.pw_uid, group=pw.pw_gid, extra_groups=[],
                                env=env, cwd=self.pg_base, stdin=subprocess.DEVNULL,
                                start_new_session=True, **kw)

    def _initdb_opts(self):
        # --no-instructions is new in 14
        return [o for o in INITDB_OPTS if self.pg_version >= 14 or o != "--no-instructions"]

    def _run_initdb(self, data, logf):
        proc = self._track(self._as_postgres(
            [os.path.join(self.pg_bin, "initdb"), "-D", data] + self._initdb_opts(),
            stdout=logf, stderr=subprocess.STDOUT))
        if proc.wait() != 0:
            raise RuntimeError(f"initdb failed (exit {proc.returncode}); see {logf.name}")

    def _initdb(self, data, logf):
        """initdb into data, through the template cache when there is one."""
        if PG_CACHE in ("", "off"):
            return self._run_initdb(data, logf)
        version = subprocess.run([os.path.join(self.pg_bin, "postgres"), "--version"], capture_output=True,
                                 text=True).stdout.strip()
        key = "\0".join([version, self.pg_bin] + self._initdb_opts())
        digest = hashlib.sha256(key.encode()).hexdigest()[:12]
        number = re.search(r"\d+(\.\d+)?", version)
        template = os.path.join(PG_CACHE, f"pg{number.group(0) if number else ''}-{digest}")
        if not os.path.isdir(template):
            os.makedirs(PG_CACHE, mode=0o755, exist_ok=True)
            work = os.path.join(PG_CACHE, "build-" + uuid.uuid4().hex[:12])
            os.makedirs(work)
            pw = pwd.getpwnam("postgres")
            os.chown(work, pw.pw_uid, pw.pw_gid)
            self._run_initdb(os.path.join(work, "data"), logf)
            try:
                os.rename(os.path.join(work, "data"), template)  # atomic; a racing run may win
            except OSError:
                pass
            shutil.rmtree(work, ignore_errors=True)
        res = subprocess.run(["cp", "-a", template, data], capture_output=True, text=True)
        if res.returncode != 0:
            self._log(f"template copy failed ({res.stderr.strip()}); running initdb")
            shutil.rmtree(data, ignore_errors=True)
            self._run_initdb(data, logf)

    def _write_pg_conf(self, data, run, port):
        with open(os.path.join(data, "postgresql.conf"), "a") as f:
            f.write(f"""
# --- kubectl-nublado test cluster ---
listen_addresses = '127.0.0.1'
port = {port}
unix_socket_directories = '{run}'
unix_socket_permissions = 0700
max_connections = 100
max_prepared_transactions = 10
shared_buffers = 32MB
fsync = off
synchronous_commit = off
full_page_writes = off
wal_level = minimal
max_wal_senders = 0
password_encryption = 'scram-sha-256'
logging_collector = off
log_destination = 'stderr'
log_line_prefix = '%m [%p] %q%u@%d '
timezone = 'UTC'
""")
        with open(os.path.join(data, "pg_hba.conf"), "w") as f:
            f.write("# TYPE  DATABASE  USER      ADDRESS        METHOD\n"
                    "local   all       postgres                 trust\n"
                    "host    all       all       127.0.0.1/32   scram-sha-256\n")

    def _wait_pg_ready(self, proc, data, timeout=15.0):
        pidfile = os.path.join(data, "postmaster.pid")
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if proc.poll() is not None:
                return False
            try:
                with open(pidfile) as f:
                    lines = f.read().split("\n")
                if len(lines) > 7 and lines[7].strip() == "ready":
                    return True
            except FileNotFoundError:
                pass
            time.sleep(0.01)
        raise RuntimeError("PostgreSQL did not become ready in time")

    def admin_psql(self, sql, dbname="postgres", check=True):
        """Run SQL as the superuser over the private socket; returns stdout (text)."""
        res = subprocess.run(
            [PSQL, "-X", "-q", "-A", "-t", "-v", "ON_ERROR_STOP=1", "-h", self.db["socket_dir"],
             "-p", str(self.db["port"]), "-U", "postgres", "-d", dbname, "-f", "-"],
            input=sql, capture_output=True, text=True, env={"PATH": POD_PATH, "PGAPPNAME": "sim-runtime"})
        if check and res.returncode != 0:
            raise RuntimeError(f"psql failed (exit {res.returncode}): {self._scrub(res.stderr.strip())}")
        return res.stdout

    def start_db(self):
        """Start PostgreSQL (self.pg_version) and create roles and data; returns the connection facts."""
        t0 = time.monotonic()
        pw = pwd.getpwnam("postgres")
        self.pg_base, self._pg_external = self._choose_pg_base()
        os.makedirs(self.pg_base, exist_ok=True)
        os.chown(self.pg_base, pw.pw_uid, pw.pw_gid)
        os.chmod(self.pg_base, 0o700)
        data = os.path.join(self.pg_base, "data")
        run = os.path.join(self.pg_base, "run")
        os.makedirs(run, exist_ok=True)
        os.chown(run, pw.pw_uid, pw.pw_gid)
        os.chmod(run, 0o700)
        logf = open(os.path.join(self.log_dir, "postgres.log"), "ab", buffering=0)
        self._initdb(data, logf)
        t_init = time.monotonic()
        for attempt in range(5):
            port = free_port(self._ports)
            self._ports.add(port)
            if attempt:
                with open(os.path.join(data, "postgresql.conf")) as f:
                    conf = f.read().split("\n# --- kubectl-nublado test cluster ---")[0]
                with open(os.path.join(data, "postgresql.conf"), "w") as f:
                    f.write(conf)
            self._write_pg_conf(data, run, port)
            proc = self._track(self._as_postgres(
                [os.path.join(self.pg_bin, "postgres"), "-D", data],
                stdout=logf, stderr=subprocess.STDOUT))
            if self._wait_pg_ready(proc, data):
                break
            proc.wait()
            self._log(f"postgres exited with {proc.returncode} on port {port}; retrying")
        else:
            raise RuntimeError("PostgreSQL failed to start; see postgres.log")
        logf.close()
        self._pg = proc
        t_up = time.monotonic()

        admin_pw = secrets.token_urlsafe(18)
        nublado_pw = secrets.token_urlsafe(18)
        other_pw = secrets.token_urlsafe(18)
        self._secrets += [admin_pw, nublado_pw, other_pw]
        self.db = {
            "port": port,
            "host": "127.0.0.1",
            "socket_dir": run,
            "data_dir": data,
            "password": nublado_pw,
            "url": f"postgresql://nublado:{nublado_pw}@127.0.0.1:{port}/nublado",
            "url_nopw": f"postgresql://nublado@127.0.0.1:{port}/nublado",
            "admin_password": admin_pw,
            "admin_url": f"postgresql://postgres:{admin_pw}@127.0.0.1:{port}/postgres",
            "other_password": other_pw,
            "other_url": f"postgresql://other:{other_pw}@127.0.0.1:{port}/otherdb",
            "pid": proc.pid,
        }
        script = f"""
ALTER ROLE postgres PASSWORD '{admin_pw}';
CREATE ROLE nublado LOGIN PASSWORD '{nublado_pw}' NOSUPERUSER NOCREATEDB NOCREATEROLE NOREPLICATION NOBYPASSRLS;
CREATE ROLE other LOGIN PASSWORD '{other_pw}' NOSUPERUSER NOCREATEDB NOCREATEROLE NOREPLICATION NOBYPASSRLS;
CREATE DATABASE nublado OWNER nublado;
CREATE DATABASE otherdb OWNER other;
\\connect otherdb
SET ROLE other;
CREATE TABLE notes (id serial PRIMARY KEY, body text NOT NULL, created timestamptz NOT NULL DEFAULT now());
INSERT INTO notes (body) SELECT 'note ' || g FROM generate_series(1, 5) AS g;
RESET ROLE;
\\connect nublado
CREATE SCHEMA other AUTHORIZATION other;
SET ROLE other;
CREATE TABLE other.keep (id serial PRIMARY KEY, label text NOT NULL);
INSERT INTO other.keep (label) VALUES ('alpha'), ('beta'), ('gamma');
GRANT USAGE ON SCHEMA other TO nublado;
GRANT SELECT ON other.keep TO nublado;
GRANT SELECT ON SEQUENCE other.keep_id_seq TO nublado;  -- so a whole-database pg_dump as nublado works
RESET ROLE;
"""
        if not self.real_hub:
            schema = ""
            for name in ("jupyterhub5.sql", "jupyterhub5-defaults.sql"):
                with open(os.path.join(ASSETS, name)) as f:
                    schema += f.read() + "\n"
            script += "SET ROLE nublado;\n" + schema + self._sample_rows_sql() + "RESET ROLE;\n"
        self.admin_psql(script)
        t_end = time.monotonic()
        self._log(f"start_db: port {port}, initdb {t_init - t0:.2f}s, start {t_up - t_init:.2f}s, "
                  f"setup {t_end - t_up:.2f}s, total {t_end - t0:.2f}s")
        self.timings = {"initdb": t_init - t0, "pg_start": t_up - t_init, "setup": t_end - t_up,
                        "start_db": t_end - t0}
        return dict(self.db)

    def _sample_rows_sql(self):
        """Some JupyterHub 5.x rows: users with spawners, one running server, a token."""
        users = self.rng.sample(SAMPLE_USERS, 3)
        out = ["INSERT INTO groups (name, properties) VALUES ('g_users', '{}');"]
        for i, name in enumerate(users):
            cookie = uuid.UUID(int=self.rng.getrandbits(128)).hex
            out.append(
                "INSERT INTO users (name, admin, created, last_activity, cookie_id, state) "
                f"VALUES ('{name}', false, now() - interval '{10 + i} days', now() - interval '{i} hours', "
                f"'{cookie}', '{{}}');")
            out.append("INSERT INTO user_role_map (user_id, role_id, managed_by_auth) SELECT u.id, r.id, false "
                       f"FROM users u, roles r WHERE u.name = '{name}' AND r.name = 'user';")
            out.append("INSERT INTO user_group_map (user_id, group_id) SELECT u.id, g.id "
                       f"FROM users u, groups g WHERE u.name = '{name}' AND g.name = 'g_users';")
            out.append("INSERT INTO oauth_clients (identifier, description, secret, redirect_uri, allowed_scopes) "
                       f"VALUES ('jupyterhub-user-{name}', 'Server at /nb/user/{name}/', "
                       f"'{uuid.UUID(int=self.rng.getrandbits(128)).hex}', '/nb/user/{name}/oauth_callback', "
                       f"'[\"access:servers!server={name}/\"]');")
            server, started = "NULL", "NULL"
            if i == 0:
                out.append("INSERT INTO servers (proto, ip, port, base_url, cookie_name) VALUES "
                           f"('http', 'lab.nublado-{name}', 8888, '/nb/user/{name}/', 'jupyterhub-user-{name}');")
                server, started = "currval('servers_id_seq')", "now() - interval '1 hour'"
            out.append(
                "INSERT INTO spawners (user_id, server_id, state, name, started, last_activity, user_options, "
                f"oauth_client_id) SELECT id, {server}, '{{}}', '', {started}, last_activity, "
                f"'{{\"image_list\": \"lighthouse.ceres/library/sketchbook:latest\"}}', 'jupyterhub-user-{name}' "
                f"FROM users WHERE name = '{name}';")
        hashed = "sha512:1:%s:%s" % (self.rng.getrandbits(64).to_bytes(8, "big").hex(),
                                    self.rng.getrandbits(512).to_bytes(64, "big").hex())
        out.append(
            "INSERT INTO api_tokens (user_id, hashed, prefix, client_id, created, last_activity, note, scopes) "
            f"SELECT id, '{hashed}', '{hashed[-4:]}', 'jupyterhub', now() - interval '1 day', now(), "
            f"'Requested via api', '[\"inherit\"]' FROM users WHERE name = '{users[0]}';")
        return "\n".join(out) + "\n"

    # ------------------------------------------------------------------ pod files
    def pod_files(self, url=None, secret_url=None, password=None):
        """{relative path: text} of the tree mounted at /usr/local/etc/jupyterhub.

        existing-secret/ is Secret nublado-secret, secret/ is Z2JH's Secret hub; both
        values.yaml carry hub.db.url (existing-secret wins). The hub Secret's
        hub.db.password is a placeholder ("true"), the real one is in existing-secret.
        """
        if self.db is None:
            raise RuntimeError("start_db() first")
        url = url or self.db["url_nopw"]
        secret_url = secret_url or url
        password = self.db["password"] if password is None else password
        existing_values = f"""\
hub:
  baseUrl: {self.base_url}
  db:
    type: postgres
    url: {url}
"""
        secret_values = f"""\
Chart:
  Name: jupyterhub
  Version: 4.3.5
Release:
  Name: nublado
  Namespace: {self.namespace}
  Service: Helm
cull:
  enabled: true
  every: 300
  timeout: 2592000
hub:
  authenticatePrometheus: false
  baseUrl: {self.base_url}
  config:
    JupyterHub:
      authenticator_class: nublado.auth.GafaelfawrAuthenticator
      spawner_class: nublado.spawner.RSPRestSpawner
  db:
    type: postgres
    upgrade: true
    url: {secret_url}
  existingSecret: nublado-secret
  loadRoles:
    server:
      scopes:
        - inherit
  networkPolicy:
    enabled: false
proxy:
  service:
    type: ClusterIP
scheduling:
  userScheduler:
    enabled: false
singleuser:
  cloudMetadata:
    blockWithIptables: false
"""
        with open(os.path.join(ASSETS, "z2jh.py")) as f:
            z2jh = f.read()
        with open(os.path.join(ASSETS, "jupyterhub_config.py")) as f:
            config = f.read()
        return {
            "existing-secret/hub.db.password": password,
            "existing-secret/values.yaml": existing_values,
            "secret/hub.db.password": "true",
            "secret/values.yaml": secret_values,
            "z2jh.py": z2jh,
            "jupyterhub_config.py": config,
        }

    def write_pod_files(self, url=None, secret_url=None, password=None, overrides=None):
        """Write the hub pod's private files (see pod_files); safe to call again.

        overrides: {relative path: text, or None to delete}, applied last (e.g. a
        values.yaml without hub.db.url, or no existing-secret/hub.db.password).
        """
        files = self.pod_files(url, secret_url, password)
        files.update(overrides or {})
        os.makedirs(POD_ETC, exist_ok=True)  # the mount point on the host (stays empty)
        os.makedirs(self.pod_files_dir, exist_ok=True)
        os.chmod(self.pod_files_dir, 0o755)
        for rel, text in files.items():
            path = os.path.join(self.pod_files_dir, rel)
            if text is None:
                if os.path.exists(path):
                    os.unlink(path)
                continue
            os.makedirs(os.path.dirname(path), exist_ok=True)
            tmp = path + ".tmp"
            with open(tmp, "w") as f:
                f.write(text)
            os.chmod(tmp, 0o644)
            os.replace(tmp, path)
        fd = os.open(self.admin_token_file, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "w") as f:
            f.write(self._admin_token)

    # ------------------------------------------------------------------ pods
    def pod_dir(self, pod_name):
        d = os.path.join(self.pods_dir, pod_name)
        os.makedirs(os.path.join(d, "home"), exist_ok=True)
        return d

    def pod_env(self, pod_name):
        """The hub container's environment as kubelet would set it (no DB password)."""
        ips = self._service_ips
        return {
            "PATH": POD_PATH,
            "HOSTNAME": pod_name,
            "HOME": os.path.join(self.pod_dir(pod_name), "home"),
            "LANG": "C.UTF-8",
            "PYTHONUNBUFFERED": "1",
            "HELM_RELEASE_NAME": "nublado",
            "POD_NAMESPACE": self.namespace,
            "CONFIGPROXY_AUTH_TOKEN": self._proxy_token,
            "JUPYTERHUB_CRYPT_KEY": self._crypt_key,
            "KUBERNETES_SERVICE_HOST": "10.96.0.1",
            "KUBERNETES_SERVICE_PORT": "443",
            "KUBERNETES_SERVICE_PORT_HTTPS": "443",
            "KUBERNETES_PORT": "tcp://10.96.0.1:443",
            "HUB_SERVICE_HOST": ips["hub"],
            "HUB_SERVICE_PORT": "8081",
            "HUB_PORT": f"tcp://{ips['hub']}:8081",
            "PROXY_API_SERVICE_HOST": ips["proxy_api"],
            "PROXY_API_SERVICE_PORT": "8001",
            "PROXY_PUBLIC_SERVICE_HOST": ips["proxy_public"],
            "PROXY_PUBLIC_SERVICE_PORT": "80",
        }

    def command_exists(self, argv0):
        """Whether argv0 resolves in the pod's PATH (a real exec of a missing binary fails
        before any process starts: the API server can answer like the container runtime)."""
        return shutil.which(argv0, path=POD_PATH) is not None

    def _sandbox(self, argv, files_dir=None):
        return ["unshare", "-m", "--propagation", "private", "/bin/sh", "-c", _SANDBOX_SH,
                files_dir or self.pod_files_dir] + list(argv)

    def mounted_files_dir(self, files):
        """The pod's files as a pod that mounts only `files' (top-level names under
        POD_ETC) sees them; None: all of them (the hub's own mounts).  z2jh.py comes
        with jupyterhub_config.py (the same ConfigMap)."""
        if files is None:
            return None
        keep = set(files)
        if "jupyterhub_config.py" in keep:
            keep.add("z2jh.py")
        have = set(os.listdir(self.pod_files_dir)) if os.path.isdir(self.pod_files_dir) else set()
        if have <= keep:
            return None
        d = os.path.join(self.dir, "pod-files-mounted", "+".join(sorted(keep & have)) or "none")
        os.makedirs(d, exist_ok=True)
        os.chmod(d, 0o755)
        for name in keep & have:
            src, dst = os.path.join(self.pod_files_dir, name), os.path.join(d, name)
            if os.path.isdir(src):
                shutil.copytree(src, dst, dirs_exist_ok=True)
            else:
                shutil.copy2(src, dst)
        return d

    def _hub5_sandbox(self, pod_dir, argv):
        return ["unshare", "-m", "--propagation", "private", "/bin/sh", "-c", _HUB5_SH,
                self.hub5_root, self.pod_files_dir, pod_dir, self.admin_token_file] + list(argv)

    def start_hub(self, pod_name):
        """Start the hub process of pod_name on a fresh port; does not wait (see Hub.ready)."""
        if not os.path.exists(os.path.join(self.pod_files_dir, "existing-secret", "values.yaml")):
            self.write_pod_files()
        pod_dir = self.pod_dir(pod_name)
        with self._lock:
            port = free_port(self._ports)
            self._ports.add(port)
        env = self.pod_env(pod_name)
        env["NUBLADO_SIM_POD_DIR"] = pod_dir
        env["NUBLADO_SIM_HUB_PORT"] = str(port)
        if self.real_hub:
            with self._lock:
                public = free_port(self._ports)
                self._ports.add(public)
            env["NUBLADO_SIM_PUBLIC_PORT"] = str(public)
            env["NUBLADO_SIM_ADMIN_TOKEN_FILE"] = self.admin_token_file
            argv = [JUPYTERHUB, "--config", POD_ETC + "/jupyterhub_config.py"]
            kind = "jupyterhub"
            if self.hub_version == 5:
                # Inside the trixie root the pod directory and the token have fixed places.
                env["NUBLADO_SIM_POD_DIR"] = HUB5_POD_DIR
                env["NUBLADO_SIM_ADMIN_TOKEN_FILE"] = HUB5_TOKEN_FILE
                env["HOME"] = HUB5_POD_DIR + "/home"
                kind = "jupyterhub5"
        else:
            argv = [PYTHON, os.path.join(ASSETS, "standin_hub.py"), "--port", str(port)]
            if self.standin_holds_locks:
                env["NUBLADO_SIM_HUB_HOLD_LOCKS"] = "1"
            kind = "standin"
        log_path = os.path.join(self.log_dir, f"hub-{pod_name}.log")
        with open(log_path, "ab", buffering=0) as logf:
            logf.write(f"--- {time.strftime('%Y-%m-%d %H:%M:%S')} starting {kind} hub for pod "
                       f"{pod_name} on port {port}\n".encode())
            cmd = self._hub5_sandbox(pod_dir, argv) if self.hub_version == 5 else self._sandbox(argv)
            proc = self._track(subprocess.Popen(
                cmd, stdin=subprocess.DEVNULL, stdout=logf, stderr=subprocess.STDOUT,
                env=env, cwd=pod_dir, start_new_session=True))
        hub = Hub(pod_name, proc, port, log_path, kind, self.base_url)
        with self._lock:
            self._hubs = [h for h in self._hubs if h.alive()] + [hub]
        self._log(f"start_hub: pod {pod_name} {kind} pid {proc.pid} port {port}")
        return hub

    def exec(self, pod_name, argv, tty, env=None, files=None):
        """Run argv in pod_name's sandbox; returns the Popen (bytes, unbuffered).

        tty=False: stdin/stdout/stderr are pipes. tty=True: all three are the slave of
        a new pty, p.pty_master is the master fd (caller owns it, 80x24 at start), and
        the command gets it as controlling terminal in a new session (TERM=xterm).
        """
        if not argv:
            raise ValueError("empty command")
        penv = self.pod_env(pod_name)
        cwd = penv["HOME"]
        files_dir = self.mounted_files_dir(files)
        if tty:
            penv["TERM"] = "xterm"
        if env:
            penv.update(env)
        if tty:
            master, slave = os.openpty()
            fcntl.ioctl(master, termios.TIOCSWINSZ, struct.pack("HHHH", 24, 80, 0, 0))
            try:
                # setsid -c: new session with the pty as controlling terminal; no fork,
                # since the child is not a group leader (no start_new_session here).
                proc = subprocess.Popen(self._sandbox(["setsid", "-c"] + list(argv), files_dir),
                                        stdin=slave, stdout=slave, stderr=slave, env=penv, cwd=cwd)
            except BaseException:
                os.close(master)
                raise
            finally:
                os.close(slave)
            proc.pty_master = master
        else:
            proc = subprocess.Popen(self._sandbox(argv, files_dir), stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                                    stderr=subprocess.PIPE, bufsize=0, env=penv, cwd=cwd,
                                    start_new_session=True)
            proc.pty_master = None
        return self._track(proc)

    # ------------------------------------------------------------------ users
    def seed_users(self, usernames, timeout=30.0):
        """Create hub users: REST API of the running real hub, or rows for the stand-in."""
        usernames = list(usernames)
        if not usernames:
            return
        if self.real_hub:
            deadline = time.monotonic() + timeout
            while True:
                hubs = [h for h in self._hubs if h.alive()]
                ready = [h for h in hubs if h.ready()]
                if ready:
                    break
                if time.monotonic() > deadline:
                    raise RuntimeError("no running hub to seed users through")
                time.sleep(0.1)
            hub = ready[-1]
            for name in usernames:
                conn = http.client.HTTPConnection("127.0.0.1", hub.port, timeout=10)
                try:
                    conn.request("POST", hub.base_url + "hub/api/users/" + urllib.parse.quote(name, safe=""),
                                 body=b"",
                                 headers={"Authorization": "token " + self._admin_token})
                    resp = conn.getresponse()
                    body = resp.read()
                finally:
                    conn.close()
                if resp.status not in (201, 409):
                    raise RuntimeError(f"hub refused user {name!r}: {resp.status} {body[:200]!r}")
            return
        sql = []
        for name in usernames:
            lit = "'" + name.replace("'", "''") + "'"
            sql.append(
                "INSERT INTO users (name, admin, created, cookie_id, state) "
                f"VALUES ({lit}, false, now(), '{uuid.uuid4().hex}', '{{}}') ON CONFLICT (name) DO NOTHING;\n"
                "INSERT INTO user_role_map (user_id, role_id, managed_by_auth) SELECT u.id, r.id, false "
                f"FROM users u, roles r WHERE u.name = {lit} AND r.name = 'user' ON CONFLICT DO NOTHING;\n")
        self.admin_psql("SET ROLE nublado;\n" + "".join(sql), dbname="nublado")

    # ------------------------------------------------------------------ lifecycle
    def pids(self):
        """Pids of every process started here that is still running (each leads its group)."""
        with self._lock:
            return [p.pid for p in self._procs if p.poll() is None]

    def stop(self):
        """Stop hubs, exec'd commands and PostgreSQL; leave no process behind."""
        for hub in list(self._hubs):
            hub.stop()
        with self._lock:
            procs = list(self._procs)
        for p in procs:
            if p is not self._pg and p.poll() is None:
                _terminate(p, signal.SIGKILL, 5)
        if self._pg is not None:
            # SIGINT to the postmaster alone = pg_ctl stop -m fast
            _terminate(self._pg, signal.SIGINT, 15, group=False)
            self._log(f"postgres stopped (exit {self._pg.returncode})")
        if self._pg_external and self.pg_base and os.path.isdir(self.pg_base):
            shutil.rmtree(self.pg_base, ignore_errors=True)
