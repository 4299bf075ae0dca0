#!/usr/bin/python3
"""Tests of sim/runtime.py: PostgreSQL, the hub process (stand-in, real JupyterHub 5.2 and 3.0),
the pod exec sandbox, and a database wipe followed by a hub restart.

Run as root from tests/cluster:  /usr/bin/python3 -m unittest -v test_runtime
"""

import os
import select
import shutil
import subprocess
import sys
import tempfile
import time
import unittest
import urllib.request

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from sim.runtime import Runtime  # noqa: E402

PSQL_IN_POD = ('PGPASSWORD="$(cat /usr/local/etc/jupyterhub/existing-secret/hub.db.password)" '
               'exec psql "$0" -X -v ON_ERROR_STOP=1 -At "$@"')
HUB_TABLES_3 = {"users", "spawners", "servers", "groups", "user_group_map", "roles", "user_role_map",
                "group_role_map", "service_role_map", "services", "api_tokens", "oauth_clients",
                "oauth_codes", "alembic_version"}
HUB_TABLES_5 = HUB_TABLES_3 | {"shares", "share_codes"}
TIMINGS = {}


def host_psql(url, sql, password=None):
    env = {"PATH": "/usr/bin:/bin"}
    if password is not None:
        env["PGPASSWORD"] = password
    return subprocess.run(["psql", url, "-X", "-At", "-v", "ON_ERROR_STOP=1", "-c", sql],
                          capture_output=True, text=True, env=env)


def alive(pid):
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    try:  # a zombie is dead for our purposes
        with open(f"/proc/{pid}/stat") as f:
            return f.read().split(")")[-1].split()[0] != "Z"
    except FileNotFoundError:
        return False


class RuntimeCase:
    """Shared tests; subclasses set REAL_HUB. Methods run in name order (t01, t02, ...)."""

    REAL_HUB = False
    POD = "hub-7c9d8f6b5-x2k4p"

    @classmethod
    def setUpClass(cls):
        cls.tmp = tempfile.mkdtemp(prefix="nublado-rt-")
        cls.rt = Runtime(os.path.join(cls.tmp, "cluster"), cls.REAL_HUB, 42, os.path.join(cls.tmp, "logs"))
        t = time.monotonic()
        cls.db = cls.rt.start_db()
        TIMINGS[f"{cls.__name__}.start_db"] = time.monotonic() - t
        cls.rt.write_pod_files()
        t = time.monotonic()
        cls.hub = cls.rt.start_hub(cls.POD)
        ok = cls.hub.wait_ready(60)
        TIMINGS[f"{cls.__name__}.hub_ready"] = time.monotonic() - t
        if not ok:
            with open(cls.hub.log_path) as f:
                sys.stderr.write(f.read()[-4000:])
            cls.rt.stop()
            raise RuntimeError("hub did not become ready")

    @classmethod
    def tearDownClass(cls):
        pids = cls.rt.pids()
        cls.rt.stop()
        left = [p for p in pids if alive(p)]
        # children of left-running execs (sleep 300 &) must be gone too
        for p in getattr(cls, "leftovers", []):
            if p.pty_master is not None:
                os.close(p.pty_master)
            for f in (p.stdin, p.stdout, p.stderr):
                if f is not None:
                    f.close()
        ps = subprocess.run(["ps", "-eo", "pid,args"], capture_output=True, text=True).stdout
        left += [line for line in ps.splitlines() if "sleep 30" in line]
        shutil.rmtree(cls.tmp, ignore_errors=True)
        if left:
            raise AssertionError(f"processes left after stop(): {left}")

    # -- helpers
    def pod_exec(self, argv, pod=None, tty=False, env=None, timeout=30):
        p = self.rt.exec(pod or self.POD, argv, tty, env)
        out, err = p.communicate(timeout=timeout)
        return p.returncode, out.decode(), err.decode()

    def pod_psql(self, *args, url=None, pod=None):
        return self.pod_exec(["sh", "-c", PSQL_IN_POD, url or self.db["url_nopw"], *args], pod=pod)

    def admin(self, sql, dbname="nublado"):
        return self.rt.admin_psql(sql, dbname=dbname).strip()

    def nublado_tables(self):
        out = self.admin("SELECT tablename FROM pg_tables WHERE tableowner = 'nublado' ORDER BY 1")
        return set(out.split()) if out else set()

    # -- database
    def test_t01_db_keys(self):
        for key in ("url_nopw", "url", "password", "admin_url", "other_url", "port"):
            self.assertIn(key, self.db)
        self.assertEqual(self.db["url_nopw"], f"postgresql://nublado@127.0.0.1:{self.db['port']}/nublado")
        self.assertNotIn(self.db["password"], self.db["url_nopw"])

    def test_t02_roles(self):
        row = self.admin("SELECT rolsuper, rolcreaterole, rolcreatedb, rolbypassrls, rolcanlogin "
                         "FROM pg_roles WHERE rolname = 'nublado'", "postgres")
        self.assertEqual(row, "f|f|f|f|t")
        self.assertEqual(self.admin("SELECT pg_get_userbyid(datdba) FROM pg_database WHERE datname = 'nublado'"),
                         "nublado")
        self.assertEqual(self.admin("SELECT rolsuper FROM pg_roles WHERE rolname = 'other'"), "f")

    def test_t03_passwords_over_tcp(self):
        self.assertEqual(host_psql(self.db["url"], "SELECT current_user").stdout.strip(), "nublado")
        res = host_psql(self.db["url_nopw"], "SELECT 1")
        self.assertNotEqual(res.returncode, 0)  # scram: no password, no connection
        self.assertEqual(host_psql(self.db["admin_url"], "SHOW is_superuser").stdout.strip(), "on")
        self.assertEqual(host_psql(self.db["other_url"], "SELECT count(*) FROM notes").stdout.strip(), "5")

    def test_t04_other_data(self):
        self.assertEqual(self.admin("SELECT nspowner::regrole FROM pg_namespace WHERE nspname = 'other'"), "other")
        self.assertEqual(self.admin("SELECT count(*) FROM other.keep"), "3")

    # -- hub
    def test_t10_health(self):
        self.assertTrue(self.hub.ready())
        self.assertEqual(self.hub.health_path, "/nb/hub/health")  # hub.baseUrl /nb/, as in Nublado
        with urllib.request.urlopen(self.hub.url + self.hub.health_path, timeout=5) as r:
            self.assertEqual(r.status, 200)
        self.assertEqual(self.hub.pids, [self.hub.proc.pid])
        self.assertIn(self.hub.proc.pid, self.rt.pids())

    # -- exec
    def test_t20_exec_streams_and_exit_code(self):
        code, out, err = self.pod_exec(["sh", "-c", "echo out; echo err >&2; exit 3"])
        self.assertEqual((code, out, err), (3, "out\n", "err\n"))

    def test_t21_exec_stdin(self):
        p = self.rt.exec(self.POD, ["cat"], False)
        out, err = p.communicate(b"hello\n", timeout=10)
        self.assertEqual((p.returncode, out), (0, b"hello\n"))

    def test_t22_exec_psql_with_password_file(self):
        code, out, err = self.pod_psql("-c", "SELECT current_user")
        self.assertEqual((code, out.strip()), (0, "nublado"), err)

    def test_t23_exec_env(self):
        code, out, err = self.pod_exec(["env"])
        self.assertEqual(code, 0)
        env = dict(line.split("=", 1) for line in out.splitlines() if "=" in line)
        self.assertNotIn("PGPASSWORD", env)
        self.assertNotIn(self.db["password"], out)
        self.assertEqual(env["HOSTNAME"], self.POD)
        self.assertIn("KUBERNETES_SERVICE_HOST", env)

    def test_t24_exec_files(self):
        code, out, err = self.pod_exec(["sh", "-c", "cat /usr/local/etc/jupyterhub/existing-secret/values.yaml; "
                                        "cat /usr/local/etc/jupyterhub/secret/values.yaml"])
        self.assertEqual(code, 0, err)
        self.assertEqual(out.count("url: " + self.db["url_nopw"]), 2)
        code, out, err = self.pod_exec(["touch", "/usr/local/etc/jupyterhub/x"])
        self.assertNotEqual(code, 0)  # read-only, like a Secret volume
        self.assertFalse(os.path.exists("/usr/local/etc/jupyterhub/existing-secret"))  # host untouched

    def test_t25_exec_tty(self):
        p = self.rt.exec(self.POD, ["sh", "-c", "test -t 0 && test -t 1 && stty size && echo TERM=$TERM"], True)
        buf = b""
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            r, _, _ = select.select([p.pty_master], [], [], 0.5)
            if r:
                try:
                    chunk = os.read(p.pty_master, 4096)
                except OSError:  # EIO: slave closed
                    break
                if not chunk:
                    break
                buf += chunk
            elif p.poll() is not None:
                break
        p.wait(10)
        os.close(p.pty_master)
        self.assertEqual(p.returncode, 0, buf)
        self.assertIn(b"24 80", buf)
        self.assertIn(b"TERM=xterm", buf)

    def test_t26_exec_is_fast(self):
        t = time.monotonic()
        for _ in range(10):
            self.assertEqual(self.pod_exec(["true"])[0], 0)
        per = (time.monotonic() - t) / 10
        TIMINGS[f"{type(self).__name__}.exec"] = per
        self.assertLess(per, 0.1)

    def test_t27_exec_missing_command(self):
        code, out, err = self.pod_exec(["no-such-command-here"])
        self.assertEqual(code, 127)

    def test_t28_exec_parallel(self):
        procs = [self.rt.exec(self.POD, ["sh", "-c", PSQL_IN_POD, self.db["url_nopw"], "-c", f"SELECT {i}"], False)
                 for i in range(12)]
        outs = [p.communicate(timeout=30) for p in procs]
        self.assertEqual([p.returncode for p in procs], [0] * 12)
        self.assertEqual([o.strip() for o, e in outs], [str(i).encode() for i in range(12)])

    def test_t29_exec_left_running(self):
        # Left running on purpose: tearDownClass checks that stop() ends them.
        p = self.rt.exec(self.POD, ["sh", "-c", "sleep 300 & exec sleep 301"], False)
        t = self.rt.exec(self.POD, ["sleep", "302"], True)
        type(self).leftovers = [p, t]
        time.sleep(0.2)
        self.assertIn(p.pid, self.rt.pids())
        self.assertIn(t.pid, self.rt.pids())

    # -- users
    def test_t30_seed_users(self):
        self.rt.seed_users(["ycheng", "zlopez"])
        names = set(self.admin("SELECT name FROM users").split())
        self.assertTrue({"ycheng", "zlopez"} <= names, names)

    def test_t31_pg_dump_in_pod(self):
        code, out, err = self.pod_exec(["sh", "-c", PSQL_IN_POD.replace("exec psql", "exec pg_dump")
                                        .replace(' -X -v ON_ERROR_STOP=1 -At "$@"', ' -Fp'), self.db["url_nopw"]])
        self.assertEqual(code, 0, err)
        self.assertIn("CREATE TABLE public.users", out)

    # -- wipe, the runbook's way: as nublado inside the pod, then restart the hub
    def wipe_in_pod(self):
        code, out, err = self.pod_psql("-c", "DROP OWNED BY current_user")
        self.assertEqual(code, 0, err)
        self.assertEqual(self.nublado_tables(), set())

    def restart_hub(self, new_pod):
        old_port = self.hub.port
        self.hub.stop()
        self.assertFalse(self.hub.alive())
        t = time.monotonic()
        hub = self.rt.start_hub(new_pod)
        ok = hub.wait_ready(60)
        TIMINGS[f"{type(self).__name__}.hub_restart_ready"] = time.monotonic() - t
        if not ok:
            with open(hub.log_path) as f:
                self.fail(f.read()[-3000:])
        self.assertNotEqual(hub.port, old_port)
        type(self).hub = hub
        type(self).POD = new_pod
        return hub

    def check_other_data_intact(self):
        self.assertEqual(self.admin("SELECT count(*) FROM other.keep"), "3")
        self.assertEqual(self.admin("SELECT count(*) FROM notes", "otherdb"), "5")
        self.assertEqual(self.admin("SELECT tableowner FROM pg_tables WHERE tablename = 'keep'"), "other")


class StandinHubTest(RuntimeCase, unittest.TestCase):
    REAL_HUB = False

    def test_t05_schema(self):
        self.assertEqual(self.nublado_tables(), HUB_TABLES_5)
        self.assertEqual(self.admin("SELECT version_num FROM alembic_version"), "4621fec11365")
        self.assertGreaterEqual(int(self.admin("SELECT count(*) FROM users")), 3)
        seqs = self.admin("SELECT count(*) FROM pg_sequences WHERE sequenceowner = 'nublado'")
        self.assertGreaterEqual(int(seqs), 10)

    def test_t11_api(self):
        with urllib.request.urlopen(self.hub.api_url + "/", timeout=5) as r:
            self.assertIn(b'"version"', r.read())

    def test_t90_held_locks_block_drop(self):
        """A hub "idle in transaction" makes DROP OWNED wait; ending its session frees it."""
        self.rt.standin_holds_locks = True
        try:
            hub = self.rt.start_hub("hub-locks")
            self.assertTrue(hub.wait_ready(30))
            code, out, err = self.pod_psql("-c", "SET lock_timeout = '500ms'", "-c", "DROP OWNED BY current_user")
            self.assertNotEqual(code, 0)
            self.assertIn("lock timeout", err)
            self.assertIn("users", self.nublado_tables())  # the failed drop rolled back
            code, out, err = self.pod_psql("-c", "SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity "
                                                 "WHERE usename = current_user AND pid <> pg_backend_pid() "
                                                 "AND state = 'idle in transaction'")
            self.assertEqual((code, out.strip()), (0, "1"), err)
            hub.stop()
        finally:
            self.rt.standin_holds_locks = False

    def test_t91_wipe_and_restart(self):
        self.wipe_in_pod()
        self.check_other_data_intact()
        self.restart_hub("hub-7c9d8f6b5-9qwzt")
        self.assertEqual(self.nublado_tables(), HUB_TABLES_5)
        self.assertEqual(self.admin("SELECT version_num FROM alembic_version"), "4621fec11365")
        self.assertEqual(self.admin("SELECT count(*) FROM users"), "0")
        with open(self.hub.log_path) as f:
            self.assertIn("Stamping empty database", f.read())
        self.check_other_data_intact()
        code, out, err = self.pod_psql("-c", "SELECT count(*) FROM roles")
        self.assertEqual((code, out.strip()), (0, "4"), err)


class RealHubCase(RuntimeCase):
    """A real JupyterHub: VERSION, TABLES and HEAD set by the subclass."""

    def test_t05_schema(self):
        self.assertEqual(self.nublado_tables(), self.TABLES)
        self.assertEqual(self.admin("SELECT version_num FROM alembic_version"), self.HEAD)
        with open(self.hub.log_path) as f:
            log = f.read()
        self.assertIn("Stamping empty database", log)
        self.assertIn("Running JupyterHub version " + self.VERSION, log)

    def test_t06_pod_stays_debian12(self):
        # The hub is whichever JupyterHub; what exec runs (sh, psql, pg_dump) is Debian 12's,
        # as in the real hub image.
        code, out, err = self.pod_exec(["sh", "-c", "cat /etc/debian_version; psql --version"])
        self.assertEqual(code, 0, err)
        self.assertTrue(out.startswith("12."), out)
        self.assertIn("psql (PostgreSQL) 15.", out)

    def test_t91_wipe_and_restart(self):
        # After serving API calls (seed_users) the real hub sits "idle in transaction":
        # a DROP OWNED would wait for its locks. Show it, then stop the hub's session.
        self.rt.seed_users(["wchen"])
        code, out, err = self.pod_psql("-c", "SET lock_timeout = '500ms'", "-c", "DROP OWNED BY current_user")
        self.assertNotEqual(code, 0)
        self.assertIn("lock timeout", err)
        code, out, err = self.pod_psql("-c", "SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity "
                                             "WHERE usename = current_user AND pid <> pg_backend_pid()")
        self.assertEqual(code, 0, err)
        self.wipe_in_pod()
        self.check_other_data_intact()
        self.restart_hub("hub-7c9d8f6b5-9qwzt")
        self.assertEqual(self.nublado_tables(), self.TABLES)
        self.assertEqual(self.admin("SELECT version_num FROM alembic_version"), self.HEAD)
        with open(self.hub.log_path) as f:
            log = f.read()
        self.assertIn("Stamping empty database",
                      log.split(f"starting {self.hub.kind} hub for pod hub-7c9d8f6b5-9qwzt")[-1])
        self.rt.seed_users(["alice"])
        self.assertEqual(self.admin("SELECT name FROM users"), "alice")
        self.check_other_data_intact()


class RealHub5Test(RealHubCase, unittest.TestCase):
    """JupyterHub 5.2.1, Debian 13's, chrooted in the trixie root (tests/hub5/install)."""

    REAL_HUB = 5
    VERSION = "5.2.1"
    TABLES = HUB_TABLES_5
    HEAD = "4621fec11365"

    def test_t07_hub_in_trixie_root(self):
        self.assertEqual(self.hub.kind, "jupyterhub5")
        pid = self.hub.proc.pid
        self.assertTrue(os.path.samefile(f"/proc/{pid}/root/usr/bin/jupyterhub",
                                         os.path.join(self.rt.hub5_root, "usr/bin/jupyterhub")))
        with open(f"/proc/{pid}/root/etc/debian_version") as f:
            self.assertTrue(f.read().startswith("13."))
        # The pod's files are there, read-only; the trixie root is read-only too.
        with open(f"/proc/{pid}/root/usr/local/etc/jupyterhub/existing-secret/values.yaml") as f:
            self.assertIn("url: " + self.db["url_nopw"], f.read())
        with open(f"/proc/{pid}/mounts") as f:  # paths as the chrooted hub sees them
            mounts = [line.split() for line in f]
        ro = {m[1]: "ro" in m[3].split(",") for m in mounts}
        self.assertTrue(ro["/"])
        self.assertTrue(ro["/usr/local/etc/jupyterhub"])
        self.assertFalse(ro["/sim/pod"])
        # The host's mount table did not change.
        with open("/proc/self/mounts") as f:
            self.assertNotIn(self.rt.hub5_root, f.read())
        # The hub's own files land in the pod directory.
        self.assertTrue(os.path.exists(os.path.join(self.rt.pod_dir(self.POD), "jupyterhub_cookie_secret")))


@unittest.skipUnless(os.path.exists("/usr/bin/jupyterhub"), "JupyterHub (Debian package jupyterhub) not installed")
class RealHub3Test(RealHubCase, unittest.TestCase):
    """JupyterHub 3.0.0, Debian 12's /usr/bin/jupyterhub (--real-hub=3)."""

    REAL_HUB = 3
    VERSION = "3.0.0"
    TABLES = HUB_TABLES_3
    HEAD = "651f5419b74d"


def tearDownModule():
    if TIMINGS:
        sys.stderr.write("\ntimings: " + ", ".join(f"{k} {v:.3f}s" for k, v in sorted(TIMINGS.items())) + "\n")


if __name__ == "__main__":
    unittest.main()
