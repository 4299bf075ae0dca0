#!/usr/bin/python3
"""The database module's SQL against real PostgreSQL servers (12 to 18): the ownership check,
the drop and the backup, run with psql the way the hub pod runs them (psql -X -q -A -t -w -v ON_ERROR_STOP=1
-c SQL, as the JupyterHub role, password from the environment), no cluster involved.

The SQL and the parser come from the C code through tests/db/db-tool.c (built here, or
DB_TOOL=path). Each test gets its own login role and database holding the JupyterHub 5.x
schema with rows (or the real 3.0 one), plus another role's schema and data beside it.

Every test runs once per server major: NUBLADO_PG_VERSIONS (e.g. "12 16", default all of
12-18) selects them; the classes are DbSqlPg12 ... DbSqlPg18. Servers other than Debian 12's 15
come from tests/pg/install (cached). Clients are always Debian 12's psql and pg_dump 15, as in
the real hub pod.

Run as root from the top of the tree:  /usr/bin/python3 -m unittest -v tests/db/test_db_sql.py
"""

import itertools

import json
import os
import secrets
import shutil
import subprocess
import sys
import tempfile
import time
import unittest
import urllib.parse

TOP = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
sys.path.insert(0, os.path.join(TOP, "tests", "cluster"))

from sim.runtime import PG_VERSIONS, Runtime  # noqa: E402

ASSETS = os.path.join(TOP, "tests", "cluster", "sim", "runtime")
PKGS = ["libcurl", "json-c", "libfyaml", "libpq", "openssl"]
TABLES_5 = ["users", "spawners", "servers", "groups", "user_group_map", "roles", "user_role_map",
            "group_role_map", "service_role_map", "services", "api_tokens", "oauth_clients",
            "oauth_codes", "shares", "share_codes", "alembic_version"]
TABLES_3 = [t for t in TABLES_5 if t not in ("shares", "share_codes")]
REFUSAL = "kubectl-nublado: refusing to drop: "
ENV = {"PATH": "/usr/bin:/bin", "LC_ALL": "C.UTF-8"}


def ident(name):
    return '"' + name.replace('"', '""') + '"'


def build_tool(out_dir):
    """db-tool from the current sources (the whole library: db.c links the exec client)."""
    if os.environ.get("DB_TOOL"):
        return os.environ["DB_TOOL"]
    pc = subprocess.run(["pkg-config", "--cflags", "--libs"] + PKGS, capture_output=True,
                        text=True, check=True).stdout.split()
    srcs = sorted(os.path.join(d, f) for d in
                  (os.path.join(TOP, "src", s) for s in os.listdir(os.path.join(TOP, "src")))
                  for f in os.listdir(d) if f.endswith(".c"))
    tool = os.path.join(out_dir, "db-tool")
    cmd = (["cc", "-std=gnu11", "-O0", "-g", "-D_GNU_SOURCE", "-DNUB_VERSION=\"test\"", "-o", tool,
            os.path.join(TOP, "tests", "db", "db-tool.c")] + srcs + pc + ["-lwslay", "-lpthread", "-lm"])
    res = subprocess.run(cmd, capture_output=True, text=True)
    if res.returncode != 0:
        raise RuntimeError("cannot build db-tool:\n" + res.stderr[-4000:])
    return tool


class Hub:
    """One JupyterHub database: its role (the hub's), password, database name, URL."""

    def __init__(self, case, role, db):
        self.case, self.role, self.db = case, role, db
        self.password = secrets.token_urlsafe(16)
        self.url = "postgresql://%s@127.0.0.1:%d/%s" % (
            urllib.parse.quote(role, safe=""), case.pg["port"], urllib.parse.quote(db, safe=""))

    def psql(self, *args, sql=None, options=None, timeout=60):
        env = dict(ENV, PGPASSWORD=self.password)
        if options:
            env["PGOPTIONS"] = options
        argv = ["psql", "-X", "-q", "-A", "-t", "-w", "-v", "ON_ERROR_STOP=1", "-d", self.url]
        if sql is not None:
            argv += ["-c", sql]
        return subprocess.run(argv + list(args), capture_output=True, text=True, env=env,
                              timeout=timeout)

    def check(self, **kw):
        """(psql result, the parsed check as JSON or None)."""
        res = self.psql(sql=self.case.check_sql, **kw)
        if res.returncode != 0:
            return res, None
        parsed = subprocess.run([self.case.tool, "parse"], input=res.stdout, capture_output=True,
                                text=True)
        self.case.assertEqual(parsed.returncode, 0, parsed.stderr + res.stdout)
        return res, json.loads(parsed.stdout)

    def drop(self):
        return self.psql(sql=self.case.drop_sql, timeout=120)

    def admin(self, sql, db=None):
        return self.case.rt.admin_psql(sql, dbname=db or self.db)


def majors():
    """The server majors to test: NUBLADO_PG_VERSIONS, default all."""
    want = os.environ.get("NUBLADO_PG_VERSIONS", "").replace(",", " ").split()
    if not want:
        return list(PG_VERSIONS)
    bad = [w for w in want if not w.isdigit() or int(w) not in PG_VERSIONS]
    if bad:
        raise SystemExit(f"NUBLADO_PG_VERSIONS: no such major {bad} (one of {PG_VERSIONS})")
    return [int(w) for w in want]


SERIAL = itertools.count(1)


class DbSqlCases:
    """The cases; DbSqlPgNN (below) runs them against PostgreSQL NN."""
    major = None

    @classmethod
    def setUpClass(cls):
        cls.tmp = tempfile.mkdtemp(prefix="nublado-dbtest-")
        cls.tool = build_tool(cls.tmp)
        cls.check_sql = subprocess.run([cls.tool, "check-sql"], capture_output=True, text=True,
                                       check=True).stdout
        cls.drop_sql = subprocess.run([cls.tool, "drop-sql"], capture_output=True, text=True,
                                      check=True).stdout
        cls.rt = Runtime(os.path.join(cls.tmp, "rt"), False, 7, os.path.join(cls.tmp, "logs"),
                         pg_version=cls.major)
        cls.pg = cls.rt.start_db()
        with open(os.path.join(ASSETS, "jupyterhub5.sql")) as f:
            cls.schema5 = f.read()
        defaults = os.path.join(ASSETS, "jupyterhub5-defaults.sql")
        cls.defaults5 = ""
        if os.path.exists(defaults):
            with open(defaults) as f:
                cls.defaults5 = f.read()

    @classmethod
    def tearDownClass(cls):
        cls.rt.stop()
        shutil.rmtree(cls.tmp, ignore_errors=True)

    # ------------------------------------------------------------------ fixtures
    def new_hub(self, schema="5", role=None):
        """A role owning a database with JupyterHub's schema (5: with rows; 3: the real
        JupyterHub 3.0 create_all + stamp; none), and the `other` role's schema beside it."""
        n = next(SERIAL)
        h = Hub(self, role or f"hub{n}", f"hubdb{n}")
        r, d = ident(h.role), ident(h.db)
        self.rt.admin_psql(f"CREATE ROLE {r} LOGIN PASSWORD '{h.password}' NOSUPERUSER NOCREATEDB "
                           f"NOCREATEROLE NOBYPASSRLS;\nCREATE DATABASE {d} OWNER {r};\n")
        script = f"""
CREATE SCHEMA other AUTHORIZATION other;
SET ROLE other;
CREATE TABLE other.keep (id serial PRIMARY KEY, label text NOT NULL);
INSERT INTO other.keep (label) VALUES ('alpha'), ('beta'), ('gamma');
GRANT USAGE ON SCHEMA other TO {r};
GRANT SELECT ON other.keep TO {r};
RESET ROLE;
"""
        if schema == "5":
            script += f"SET ROLE {r};\n{self.schema5}\n{self.defaults5}\n" + """
INSERT INTO groups (name, properties) VALUES ('g_users', '{}');
INSERT INTO users (name, admin, created, last_activity, cookie_id, state)
  SELECT 'user' || g, false, now(), now(), md5(g::text), '{}' FROM generate_series(1, 7) AS g;
INSERT INTO user_group_map (user_id, group_id) SELECT u.id, g.id FROM users u, groups g;
INSERT INTO servers (proto, ip, port, base_url, cookie_name)
  VALUES ('http', 'lab.nublado-user1', 8888, '/nb/user/user1/', 'jupyterhub-user-user1');
INSERT INTO spawners (user_id, server_id, state, name, user_options)
  SELECT id, NULL, '{}', '', '{}' FROM users;
INSERT INTO api_tokens (user_id, hashed, prefix, created, scopes)
  SELECT id, 'sha512:1:' || md5(name), 'abcd', now(), '["inherit"]' FROM users WHERE name = 'user1';
RESET ROLE;
"""
        h.admin(script)
        if schema == "3":
            env = dict(ENV, PGPASSWORD=h.password)
            code = ("import sys; from jupyterhub import orm; orm.new_session_factory(sys.argv[1])")
            url = h.url.replace("postgresql://", "postgresql+psycopg2://", 1)
            res = subprocess.run(["/usr/bin/python3", "-c", code, url], capture_output=True,
                                 text=True, env=env, cwd=self.tmp)
            self.assertEqual(res.returncode, 0, res.stderr[-3000:])
        return h

    def counts(self, h, tables, db=None):
        sql = " UNION ALL ".join(f"SELECT '{t}', count(*) FROM public.{t}" for t in tables)
        out = h.admin(sql + ";", db=db)
        return {line.split("|")[0]: int(line.split("|")[1]) for line in out.split()}

    def snapshot(self, h):
        """Everything a refused drop must leave as it was: the database's schema and data,
        every role's attributes, the list of databases, the other role's own database."""
        def dump(db):
            res = subprocess.run(["pg_dump", "-h", self.pg["socket_dir"], "-p", str(self.pg["port"]),
                                  "-U", "postgres", "-d", db], capture_output=True, text=True,
                                 env=ENV, user="postgres")
            self.assertEqual(res.returncode, 0, res.stderr)
            return "\n".join(line for line in res.stdout.split("\n")
                             if not line.startswith(("\\restrict", "\\unrestrict")))
        roles = self.rt.admin_psql("SELECT rolname, rolsuper, rolcreaterole, rolbypassrls, "
                                   "rolcreatedb, rolcanlogin FROM pg_roles ORDER BY 1;")
        dbs = self.rt.admin_psql("SELECT datname, datdba::regrole FROM pg_database ORDER BY 1;")
        return {"db": dump(h.db), "otherdb": dump("otherdb"), "roles": roles, "dbs": dbs}

    def reasons(self, report, kind="refusals"):
        return {(r["code"], r["name"]) for r in report[kind]}

    # ------------------------------------------------------------------ clean databases
    def test_clean_5x(self):
        h = self.new_hub()
        res, rep = h.check()
        self.assertEqual(res.returncode, 0, res.stderr)
        self.assertEqual(res.stderr, "")
        self.assertTrue(rep["ok"], rep)
        self.assertEqual(rep["role"], h.role)
        self.assertEqual(rep["database"], h.db)
        self.assertEqual(rep["refusals"], [])
        self.assertEqual(rep["warnings"], [])
        self.assertEqual([t["name"] for t in rep["tables"]], TABLES_5)
        want = self.counts(h, TABLES_5)
        self.assertEqual({t["name"]: t["rows"] for t in rep["tables"]}, want)
        self.assertEqual(want["users"], 7)
        self.assertEqual(rep["totalRows"], sum(want.values()))
        self.assertEqual(rep["jupyterhub"], "5.x")
        self.assertEqual(len(rep["alembic"]), 1)
        # the other role's grants to the hub role: info, never a reason
        self.assertIn(("revoke", "other.keep"), self.reasons(rep, "info"))

    def test_clean_jupyterhub_3_0_real_schema(self):
        h = self.new_hub(schema="3")
        res, rep = h.check()
        self.assertEqual(res.returncode, 0, res.stderr)
        self.assertTrue(rep["ok"], rep)
        self.assertEqual(sorted(t["name"] for t in rep["tables"]), sorted(TABLES_3))
        self.assertEqual(rep["jupyterhub"], "3.0-3.1")
        self.assertEqual(rep["alembic"], ["651f5419b74d"])

    def test_legacy_granttype_enum_is_jupyterhubs(self):
        h = self.new_hub()
        h.admin(f"SET ROLE {ident(h.role)}; CREATE TYPE public.granttype AS ENUM "
                "('authorization_code', 'implicit', 'password', 'client_credentials', 'refresh_token');")
        res, rep = h.check()
        self.assertTrue(rep["ok"], rep)
        self.assertIn(("legacy-type", "public.granttype"), self.reasons(rep, "info"))
        # the same name with other labels is someone else's type
        h2 = self.new_hub()
        h2.admin(f"SET ROLE {ident(h2.role)}; CREATE TYPE public.granttype AS ENUM ('x');")
        res, rep = h2.check()
        self.assertIn(("owned", "public.granttype"), self.reasons(rep))

    def test_empty_database(self):
        h = self.new_hub(schema="none")
        res, rep = h.check()
        self.assertTrue(rep["ok"], rep)
        self.assertEqual(rep["tables"], [])
        self.assertEqual(rep["jupyterhub"], "none")

    def test_check_is_read_only(self):
        h = self.new_hub()
        before = self.snapshot(h)
        res, rep = h.check(options="-c default_transaction_read_only=on")
        self.assertEqual(res.returncode, 0, res.stderr)
        self.assertTrue(rep["ok"])
        self.assertEqual(self.snapshot(h), before)

    def test_odd_role_and_database_names(self):
        h = self.new_hub(role='Hub "Odd"\tRole')
        res, rep = h.check()
        self.assertEqual(res.returncode, 0, res.stderr)
        self.assertTrue(rep["ok"], rep)
        self.assertEqual(rep["role"], 'Hub "Odd"\tRole')
        self.assertEqual(len(rep["tables"]), 16)
        res = h.drop()
        self.assertEqual(res.returncode, 0, res.stderr)
        res, rep = h.check()
        self.assertEqual(rep["tables"], [])

    # ------------------------------------------------------------------ the drop
    def test_drop_takes_exactly_the_roles_objects(self):
        h = self.new_hub()
        keep = h.admin("SELECT string_agg(label, ',' ORDER BY id) FROM other.keep;").strip()
        notes = self.rt.admin_psql("SELECT count(*) FROM notes;", dbname="otherdb").strip()
        other_schema = self.rt.admin_psql(
            "SELECT string_agg(c.relname || ':' || c.relkind::text || ':' || c.relowner::regrole, ',' "
            "ORDER BY c.relname) FROM pg_class c WHERE c.relnamespace = 'other'::regnamespace;",
            dbname=h.db).strip()
        roles = self.rt.admin_psql("SELECT rolname, rolsuper, rolcreaterole, rolcanlogin "
                                   "FROM pg_roles ORDER BY 1;")
        res = h.drop()
        self.assertEqual(res.returncode, 0, res.stderr)
        # nothing of the role's is left in its database; the database and the role remain
        left = h.admin("SELECT count(*) FROM pg_shdepend s JOIN pg_database d ON d.oid = s.dbid "
                       f"WHERE d.datname = current_database() AND s.deptype = 'o' "
                       f"AND s.refobjid = (SELECT oid FROM pg_roles WHERE rolname = '{h.role}');")
        self.assertEqual(left.strip(), "0")
        tables = h.admin("SELECT count(*) FROM pg_class WHERE relnamespace = 'public'::regnamespace;")
        self.assertEqual(tables.strip(), "0")
        self.assertEqual(h.admin("SELECT datdba::regrole FROM pg_database "
                                 "WHERE datname = current_database();").strip(), h.role)
        # the other role's schema, table and data, and its own database: untouched
        self.assertEqual(h.admin("SELECT string_agg(label, ',' ORDER BY id) FROM other.keep;").strip(), keep)
        self.assertEqual(self.rt.admin_psql(
            "SELECT string_agg(c.relname || ':' || c.relkind::text || ':' || c.relowner::regrole, ',' "
            "ORDER BY c.relname) FROM pg_class c WHERE c.relnamespace = 'other'::regnamespace;",
            dbname=h.db).strip(), other_schema)
        self.assertEqual(self.rt.admin_psql("SELECT count(*) FROM notes;", dbname="otherdb").strip(), notes)
        self.assertEqual(self.rt.admin_psql("SELECT rolname, rolsuper, rolcreaterole, rolcanlogin "
                                            "FROM pg_roles ORDER BY 1;"), roles)
        # public itself stays (JupyterHub creates its tables there again)
        self.assertEqual(h.admin("SELECT count(*) FROM pg_namespace WHERE nspname = 'public';").strip(), "1")
        res, rep = h.check()
        self.assertTrue(rep["ok"], rep)
        self.assertEqual(rep["tables"], [])
        # twice is harmless
        self.assertEqual(h.drop().returncode, 0)

    def test_drop_disconnects_the_hubs_sessions(self):
        """A hub idle in a transaction holds locks: the drop must not wait for ever."""
        h = self.new_hub()
        env = dict(ENV, PGPASSWORD=h.password, PGAPPNAME="jupyterhub")
        holder = subprocess.Popen(
            ["psql", "-X", "-q", "-d", h.url, "-c", "BEGIN", "-c", "SELECT count(*) FROM users",
             "-c", "SELECT pg_sleep(120)"], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
            env=env)
        try:
            for _ in range(100):
                if h.admin("SELECT count(*) FROM pg_locks l JOIN pg_class c ON c.oid = l.relation "
                           "WHERE c.relname = 'users' AND l.granted;").strip() != "0":
                    break
                time.sleep(0.05)
            res, rep = h.check()
            self.assertIn("session", {r["code"] for r in rep["info"]})
            t = time.monotonic()
            res = h.drop()
            self.assertEqual(res.returncode, 0, res.stderr)
            self.assertLess(time.monotonic() - t, 15)
            holder.wait(10)
            self.assertNotEqual(holder.returncode, 0)
        finally:
            if holder.poll() is None:
                holder.kill()
                holder.wait()

    # ------------------------------------------------------------------ refusals
    # (name, SQL as the admin in the hub's database ({r}: the hub role), the reason expected)
    REFUSALS = [
        ("superuser", "ALTER ROLE {r} SUPERUSER;", ("superuser", "{role}")),
        ("createrole", "ALTER ROLE {r} CREATEROLE;", ("createrole", "{role}")),
        ("bypassrls", "ALTER ROLE {r} BYPASSRLS;", ("bypassrls", "{role}")),
        ("foreign_table", "SET ROLE {r}; CREATE TABLE public.notes (id serial PRIMARY KEY, body text);"
         " INSERT INTO public.notes (body) VALUES ('keep me');", ("owned", "public.notes")),
        ("function", "SET ROLE {r}; CREATE FUNCTION public.hello() RETURNS int LANGUAGE sql "
         "AS 'SELECT 1';", ("owned", "public.hello()")),
        ("view", "SET ROLE {r}; CREATE VIEW public.active AS SELECT name FROM users;",
         ("owned", "public.active")),
        ("large_object", "SET ROLE {r}; SELECT lo_create(424242);", ("owned", "424242")),
        ("schema", "CREATE SCHEMA extra AUTHORIZATION {r};", ("owned", "extra")),
        ("second_database", "CREATE DATABASE {d2} OWNER {r};", ("database", "{db2}")),
        ("other_view", "SET ROLE {r}; GRANT SELECT ON users TO other; SET ROLE other; "
         "CREATE VIEW other.users_v AS SELECT name FROM public.users;", ("dependent", "other.users_v")),
        ("other_foreign_key", "SET ROLE {r}; GRANT REFERENCES ON users TO other; SET ROLE other; "
         "CREATE TABLE other.refs (u integer REFERENCES public.users (id));",
         ("dependent", "refs_u_fkey on other.refs")),
        ("other_rowtype_column", "SET ROLE other; CREATE TABLE other.snap (u public.users);",
         ("dependent", "other.snap")),
        ("other_sequence_default", "SET ROLE {r}; GRANT USAGE ON SEQUENCE users_id_seq TO other; "
         "SET ROLE other; CREATE TABLE other.t2 (id integer DEFAULT nextval('public.users_id_seq'));",
         ("dependent", "for other.t2.id")),
        ("other_table_in_role_schema", "CREATE SCHEMA extra AUTHORIZATION {r}; "
         "GRANT CREATE, USAGE ON SCHEMA extra TO other; SET ROLE other; CREATE TABLE extra.t (i int);",
         ("dependent", "extra.t")),
        ("table_owned_by_another_role", "ALTER TABLE public.services OWNER TO other;",
         ("not-owned", "public.services")),
        ("policy_naming_the_role", "CREATE POLICY p ON other.keep TO {r} USING (true);",
         ("policy", "p on other.keep")),
    ]

    def refusal_case(self, name, sql, want):
        h = self.new_hub()
        db2 = f"{h.db}_second"
        fmt = dict(r=ident(h.role), role=h.role, d2=ident(db2), db2=db2)
        if name == "second_database":
            self.rt.admin_psql(sql.format(**fmt))
        else:
            h.admin(sql.format(**fmt))
        want = (want[0], want[1].format(**fmt))
        before = self.snapshot(h)
        res, rep = h.check()
        self.assertEqual(res.returncode, 0, res.stderr)
        self.assertFalse(rep["ok"], rep)
        self.assertIn(want, self.reasons(rep), json.dumps(rep["refusals"], indent=1))
        # the drop checks again, refuses with the object named, and changes nothing
        res = h.drop()
        self.assertNotEqual(res.returncode, 0)
        self.assertIn(REFUSAL, res.stderr)
        self.assertIn(want[1], res.stderr)
        self.assertEqual(self.snapshot(h), before)
        return rep

    def _refusal_test(name, sql, want):
        def test(self):
            self.refusal_case(name, sql, want)
        test.__doc__ = f"refused, named, nothing changed: {name}"
        return test

    for _name, _sql, _want in REFUSALS:
        locals()[f"test_refuse_{_name}"] = _refusal_test(_name, _sql, _want)
    del _name, _sql, _want, _refusal_test

    def test_refusal_names_only_the_parent(self):
        """A foreign table's sequence, index and row type go with it: one reason, not four."""
        rep = self.refusal_case(*self.REFUSALS[3])
        self.assertEqual([r["name"] for r in rep["refusals"]], ["public.notes"])

    def test_drop_refuses_what_appeared_after_the_check(self):
        h = self.new_hub()
        res, rep = h.check()
        self.assertTrue(rep["ok"])
        h.admin(f"SET ROLE {ident(h.role)}; CREATE TABLE public.late (i int);")
        res = h.drop()
        self.assertIn(REFUSAL + "table public.late", res.stderr)
        self.assertEqual(self.counts(h, ["users"])["users"], 7)

    # ------------------------------------------------------------------ backup
    def dump(self, h, path):
        res, rep = h.check()
        args = subprocess.run([self.tool, "dump-args", h.url], input=res.stdout, capture_output=True,
                              text=True, check=True).stdout.split("\n")[:-1]
        with open(path, "wb") as f:
            d = subprocess.run(["pg_dump"] + args, stdout=f, stderr=subprocess.PIPE,
                               env=dict(ENV, PGPASSWORD=h.password))
        self.assertEqual(d.returncode, 0, d.stderr)
        return rep

    def verify(self, path, tables):
        return subprocess.run([self.tool, "verify", path] + tables, capture_output=True, text=True)

    def test_backup_restores_with_the_original_counts(self):
        h = self.new_hub()
        path = os.path.join(self.tmp, "backup.sql")
        rep = self.dump(h, path)
        want = self.counts(h, TABLES_5)
        v = self.verify(path, TABLES_5)
        self.assertEqual(v.returncode, 0, v.stderr)
        self.assertEqual({l.split()[0]: int(l.split()[1]) for l in v.stdout.split("\n") if l}, want)
        with open(path) as f:
            text = f.read()
        self.assertNotIn("other.keep", text)  # only what the drop removes
        # into a fresh database, as the administrator (a second database owned by the
        # role would make the drop below refuse)
        fresh = h.db + "_fresh"
        self.rt.admin_psql(f"CREATE DATABASE {ident(fresh)};")
        with open(path) as f:
            res = subprocess.run(["psql", "-X", "-q", "-v", "ON_ERROR_STOP=1", "-h", self.pg["socket_dir"],
                                  "-p", str(self.pg["port"]), "-U", "postgres", "-d", fresh, "-f", "-"],
                                 stdin=f, capture_output=True, text=True, env=ENV, user="postgres")
        self.assertEqual(res.returncode, 0, res.stderr)
        self.assertEqual(self.counts(h, TABLES_5, db=fresh), want)
        # and back into the wiped database, as the hub's role itself
        self.assertEqual(h.drop().returncode, 0)
        res = h.psql("-f", path)
        self.assertEqual(res.returncode, 0, res.stderr)
        self.assertEqual(self.counts(h, TABLES_5), want)
        res, rep2 = h.check()
        self.assertTrue(rep2["ok"], rep2)
        self.assertEqual(rep2["tables"], rep["tables"])

    def test_backup_cut_short_is_refused(self):
        h = self.new_hub()
        path = os.path.join(self.tmp, "whole.sql")
        self.dump(h, path)
        with open(path, "rb") as f:
            whole = f.read()
        cut = os.path.join(self.tmp, "cut.sql")
        for at in (0, 10, len(whole) // 3, len(whole) // 2, whole.rindex(b"\\.\n"),
                   whole.index(b"-- PostgreSQL database dump complete")):
            with open(cut, "wb") as f:
                f.write(whole[:at])
            v = self.verify(cut, TABLES_5)
            self.assertNotEqual(v.returncode, 0, f"cut at {at} of {len(whole)} passed")
        # a table missing from the dump is noticed too
        v = self.verify(path, TABLES_5 + ["notes"])
        self.assertIn("no data for table 'notes'", v.stderr)


for _major in majors():
    globals()[f"DbSqlPg{_major}"] = type(f"DbSqlPg{_major}", (DbSqlCases, unittest.TestCase),
                                          {"major": _major})
del _major


if __name__ == "__main__":
    unittest.main(verbosity=2)
