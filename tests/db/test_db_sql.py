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

from sim.runtime import PG_VERSIONS, Runtime, hub5_root  # noqa: E402

ASSETS = os.path.join(TOP, "tests", "cluster", "sim", "runtime")
PKGS = ["libcurl", "json-c", "libfyaml", "libpq", "openssl"]
TABLES_5 = ["users", "spawners", "servers", "groups", "user_group_map", "roles", "user_role_map",
            "group_role_map", "service_role_map", "services", "api_tokens", "oauth_clients",
            "oauth_codes", "shares", "share_codes", "alembic_version"]
TABLES_3 = [t for t in TABLES_5 if t not in ("shares", "share_codes")]
REFUSAL = "kubectl-nublado: refusing to drop: "
ENV = {"PATH": "/usr/bin:/bin", "LC_ALL": "C.UTF-8"}


def check_table_list():
    """The ownership check's JupyterHub tables: db_jupyterhub_tables in src/nublado/db-sql.c."""
    import re
    with open(os.path.join(TOP, "src", "nublado", "db-sql.c")) as f:
        text = f.read()
    m = re.search(r"db_jupyterhub_tables\[\]\s*=\s*\{(.*?)\};", text, re.S)
    return re.findall(r'"([a-z_]+)"', m.group(1))


# ---------------------------------------------------------------- the fingerprint
USER_NS = ("n.nspname NOT IN ('pg_catalog', 'information_schema', 'pg_toast') "
           "AND n.nspname NOT LIKE 'pg\\_temp\\_%' AND n.nspname NOT LIKE 'pg\\_toast\\_temp\\_%'")
REL = "n.nspname || '.' || c.relname"
# Reading a table locked exclusively (a state of the matrix) would wait: left out, before
# and after alike (pg_get_expr locks the table too).
NOT_LOCKED = ("NOT EXISTS (SELECT 1 FROM pg_locks l WHERE l.relation = c.oid "
              "AND l.mode = 'AccessExclusiveLock' AND l.pid IS DISTINCT FROM pg_backend_pid())")
# One database, as the superuser: lines KEY<tab>VALUE (keys: kind|object|...).
FP_DB_SQL = f"""
SELECT 'rel|' || {REL}, c.relkind::text || ' ' || pg_get_userbyid(c.relowner)
  FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace WHERE {USER_NS}
UNION ALL SELECT 'acl|' || {REL} || '|' || pg_get_userbyid(a.grantee) || '|' || a.privilege_type,
    pg_get_userbyid(a.grantor) || ' ' || a.is_grantable
  FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace, aclexplode(c.relacl) a
  WHERE {USER_NS}
UNION ALL SELECT 'colacl|' || {REL} || '.' || t.attname || '|' || pg_get_userbyid(a.grantee)
    || '|' || a.privilege_type, pg_get_userbyid(a.grantor) || ' ' || a.is_grantable
  FROM pg_attribute t JOIN pg_class c ON c.oid = t.attrelid
  JOIN pg_namespace n ON n.oid = c.relnamespace, aclexplode(t.attacl) a WHERE {USER_NS}
UNION ALL SELECT 'att|' || {REL} || '.' || t.attname,
    format_type(t.atttypid, t.atttypmod) || ' ' || coalesce(pg_get_expr(d.adbin, d.adrelid), '')
  FROM pg_attribute t JOIN pg_class c ON c.oid = t.attrelid
  JOIN pg_namespace n ON n.oid = c.relnamespace
  LEFT JOIN pg_attrdef d ON d.adrelid = t.attrelid AND d.adnum = t.attnum
  WHERE t.attnum > 0 AND NOT t.attisdropped AND c.relkind IN ('r', 'p', 'v', 'm', 'f', 'c')
    AND {USER_NS} AND {NOT_LOCKED}
UNION ALL SELECT 'con|' || coalesce({REL}, co.contypid::regtype::text) || '|' || co.conname,
    co.contype::text || ' ' || pg_get_constraintdef(co.oid)
  FROM pg_constraint co LEFT JOIN pg_class c ON c.oid = co.conrelid
  LEFT JOIN pg_namespace n ON n.oid = co.connamespace WHERE {USER_NS}
UNION ALL SELECT 'view|' || {REL}, pg_get_viewdef(c.oid)
  FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
  WHERE c.relkind IN ('v', 'm') AND {USER_NS}
UNION ALL SELECT 'trg|' || {REL} || '|' || g.tgname, pg_get_triggerdef(g.oid)
  FROM pg_trigger g JOIN pg_class c ON c.oid = g.tgrelid
  JOIN pg_namespace n ON n.oid = c.relnamespace WHERE NOT g.tgisinternal
UNION ALL SELECT 'nsp|' || n.nspname, pg_get_userbyid(n.nspowner) FROM pg_namespace n
  WHERE {USER_NS}
UNION ALL SELECT 'nspacl|' || n.nspname || '|' || pg_get_userbyid(a.grantee) || '|'
    || a.privilege_type, pg_get_userbyid(a.grantor) || ' ' || a.is_grantable
  FROM pg_namespace n, aclexplode(n.nspacl) a WHERE {USER_NS}
UNION ALL SELECT 'proc|' || p.oid::regprocedure::text, pg_get_userbyid(p.proowner)
  FROM pg_proc p JOIN pg_namespace n ON n.oid = p.pronamespace WHERE {USER_NS}
UNION ALL SELECT 'procacl|' || p.oid::regprocedure::text || '|' || pg_get_userbyid(a.grantee)
    || '|' || a.privilege_type, pg_get_userbyid(a.grantor) || ' ' || a.is_grantable
  FROM pg_proc p JOIN pg_namespace n ON n.oid = p.pronamespace, aclexplode(p.proacl) a
  WHERE {USER_NS}
UNION ALL SELECT 'type|' || t.oid::regtype::text, pg_get_userbyid(t.typowner)
  FROM pg_type t JOIN pg_namespace n ON n.oid = t.typnamespace WHERE {USER_NS}
UNION ALL SELECT 'typeacl|' || t.oid::regtype::text || '|' || pg_get_userbyid(a.grantee)
    || '|' || a.privilege_type, pg_get_userbyid(a.grantor) || ' ' || a.is_grantable
  FROM pg_type t JOIN pg_namespace n ON n.oid = t.typnamespace, aclexplode(t.typacl) a
  WHERE {USER_NS}
UNION ALL SELECT 'defacl|' || pg_get_userbyid(d.defaclrole) || '|'
    || coalesce(d.defaclnamespace::regnamespace::text, '') || '|' || d.defaclobjtype::text || '|'
    || pg_get_userbyid(a.grantee) || '|' || a.privilege_type,
    pg_get_userbyid(a.grantor) || ' ' || a.is_grantable
  FROM pg_default_acl d, aclexplode(d.defaclacl) a WHERE a.grantee <> d.defaclrole
UNION ALL SELECT 'pol|' || p.polname || '|' || p.polrelid::regclass::text,
    array(SELECT CASE WHEN r = 0 THEN 'public' ELSE pg_get_userbyid(r)::text END
      FROM unnest(p.polroles) r ORDER BY 1)::text || ' ' || coalesce(pg_get_expr(p.polqual, p.polrelid), '')
  FROM pg_policy p
UNION ALL SELECT 'lo|' || m.oid, pg_get_userbyid(m.lomowner) FROM pg_largeobject_metadata m
UNION ALL SELECT 'loacl|' || m.oid || '|' || pg_get_userbyid(a.grantee) || '|' || a.privilege_type,
    pg_get_userbyid(a.grantor) FROM pg_largeobject_metadata m, aclexplode(m.lomacl) a
UNION ALL SELECT 'stx|' || n.nspname || '.' || x.stxname, pg_get_userbyid(x.stxowner) || ' '
    || x.stxrelid::regclass::text
  FROM pg_statistic_ext x JOIN pg_namespace n ON n.oid = x.stxnamespace
UNION ALL SELECT 'pub|' || pubname, pg_get_userbyid(pubowner) FROM pg_publication
UNION ALL SELECT 'ext|' || extname, pg_get_userbyid(extowner) FROM pg_extension
UNION ALL SELECT 'fdw|' || fdwname, pg_get_userbyid(fdwowner) || ' ' || coalesce(fdwacl::text, '')
  FROM pg_foreign_data_wrapper
UNION ALL SELECT 'srv|' || srvname, pg_get_userbyid(srvowner) || ' ' || coalesce(srvacl::text, '')
  FROM pg_foreign_server
UNION ALL SELECT 'evt|' || evtname, pg_get_userbyid(evtowner) FROM pg_event_trigger
UNION ALL SELECT 'rows|' || {REL}, substring(query_to_xml(format(
    'SELECT count(*) || '' '' || md5(coalesce(string_agg(x::text, chr(10) ORDER BY x::text), '''')) '
    'AS h FROM %I.%I x', n.nspname, c.relname), false, true, '')::text FROM '<h>([^<]*)</h>')
  FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
  WHERE c.relkind IN ('r', 'p', 'm') AND {USER_NS} AND {NOT_LOCKED}
"""
# The shared catalogs, once (from database postgres).
FP_CLUSTER_SQL = """
SET search_path = pg_catalog;
SELECT 'role|' || rolname, concat_ws(' ', rolsuper, rolcreaterole, rolcreatedb, rolcanlogin,
    rolbypassrls, rolreplication, rolinherit, rolconnlimit) FROM pg_roles
UNION ALL SELECT 'member|' || pg_get_userbyid(m.roleid) || '|' || pg_get_userbyid(m.member) || '|'
    || pg_get_userbyid(m.grantor), (to_jsonb(m) - 'oid' - 'roleid' - 'member' - 'grantor')::text
  FROM pg_auth_members m
UNION ALL SELECT 'db|' || datname, pg_get_userbyid(datdba) FROM pg_database
UNION ALL SELECT 'dbacl|' || d.datname || '|' || pg_get_userbyid(a.grantee) || '|' || a.privilege_type,
    pg_get_userbyid(a.grantor) || ' ' || a.is_grantable FROM pg_database d, aclexplode(d.datacl) a
UNION ALL SELECT 'spc|' || spcname, pg_get_userbyid(spcowner) || ' ' || coalesce(spcacl::text, '')
  FROM pg_tablespace
UNION ALL SELECT 'sub|' || subname, pg_get_userbyid(subowner) || ' ' || subdbid FROM pg_subscription
UNION ALL SELECT 'roleset|' || coalesce(pg_get_userbyid(setrole), '') || '|' || setdatabase,
    setconfig::text FROM pg_db_role_setting;
"""
ACL_KINDS = ("acl", "colacl", "nspacl", "procacl", "typeacl", "loacl", "dbacl")


def harm(before, after, role, jh):
    """What DROP OWNED BY role changed beyond JupyterHub's objects (jh: their keys) and the
    role's own privileges and default privileges: {key: (before, after)}. Empty: harmless."""
    out = {}
    for key in set(before) | set(after):
        b, a = before.get(key), after.get(key)
        if b == a:
            continue
        db, k = key
        f = k.split("|")
        if a is None and key in jh:
            continue
        if a is None and f[0] in ACL_KINDS and len(f) >= 4 and f[-2] == role:
            continue  # the role's own privilege, revoked
        if a is None and f[0] == "defacl" and role in (f[1], f[4]):
            continue  # the role's default privileges, or its entry in another's (a notice)
        out[key] = (b, a)
    return out


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


# ---------------------------------------------------------------- the database states
class State:
    """A database state: `setup' runs as the administrator in the hub's database and
    `cluster_setup' in database postgres ({r}: the hub role quoted, {role}, {d}, {db}, {n},
    {grp}, {actor}); `holders': sessions (role, SQL) kept open during the check and the drop;
    want(major): (verdict, codes that must be among the refusals or notices) or None when the
    state cannot exist on that major. policy: a refusal by rule (the drop itself would not
    fail or harm). allow: schema-qualified names of objects made after the hub's schema that
    are JupyterHub's too (the drop may take them). dbs: more databases to fingerprint.
    may_also: other refusal codes that may come with the expected ones."""

    def __init__(self, name, setup="", want=None, cluster_setup=(), holders=(), schema="5",
                 where=None, policy=False, allow=(), dbs=(), as_admin=False, may_also=()):
        self.name, self.setup, self.want = name, setup, want
        self.cluster_setup, self.holders, self.schema, self.where = cluster_setup, holders, schema, where
        self.policy, self.allow, self.dbs, self.as_admin = policy, allow, dbs, as_admin
        self.may_also = may_also


def always(verdict, *codes):
    return lambda major: (verdict, codes)


def since(first, then, before):
    return lambda major: then if major >= first else before


def ok():
    return always("ok")


def notice(*codes):
    return always("notice", *codes)


def refuse(*codes):
    return always("refuse", *codes)


ROLE_IF_MISSING = "DO $$BEGIN CREATE ROLE {0}; EXCEPTION WHEN duplicate_object THEN NULL; END$$;"
STATES = [
    # -- JupyterHub's objects alone: the drop takes them and nothing else
    State("clean", want=ok()),
    State("clean_jupyterhub_3_0", schema="3", want=ok()),
    State("empty", schema="none", want=ok()),
    State("statistics_on_jupyterhub_table", "SET ROLE {r}; CREATE STATISTICS public.st_users "
          "(dependencies) ON name, admin FROM public.users;", ok(), allow=("public.st_users",)),
    State("sequence_unlinked_from_its_column",
          "SET ROLE {r}; ALTER SEQUENCE public.users_id_seq OWNED BY NONE;", ok()),
    State("legacy_granttype_enum", "SET ROLE {r}; CREATE TYPE public.granttype AS ENUM "
          "('authorization_code', 'implicit', 'password', 'client_credentials', 'refresh_token');",
          ok(), allow=("public.granttype", "public._granttype")),
    State("tables_in_a_search_path_schema", where="hubs", want=ok()),
    State("revocable_grants_of_another_role",
          "SET ROLE other; CREATE SEQUENCE other.s1; GRANT SELECT ON SEQUENCE other.s1 TO {r};"
          " CREATE FUNCTION other.f() RETURNS int LANGUAGE sql AS 'SELECT 1';"
          " GRANT EXECUTE ON FUNCTION other.f() TO {r};"
          " CREATE TABLE other.t2 (a int, b int); GRANT SELECT (a) ON other.t2 TO {r};"
          " GRANT INSERT ON other.t2 TO {r}; RESET ROLE; GRANT CONNECT ON DATABASE otherdb TO {r};"
          " SELECT lo_create(0) AS lo \\gset\nGRANT SELECT ON LARGE OBJECT :lo TO {r};",
          ok()),
    State("policy_on_a_jupyterhub_table", "SET ROLE {r}; ALTER TABLE public.users ENABLE ROW "
          "LEVEL SECURITY; CREATE POLICY p_users ON public.users TO other USING (true);", ok(),
          allow=("p_users",)),
    State("grant_option_used_by_the_role",
          "SET ROLE other; CREATE TABLE other.t3 (a int); GRANT SELECT ON other.t3 TO {r} "
          "WITH GRANT OPTION; SET ROLE {r}; GRANT SELECT ON other.t3 TO bystander;", ok(),
          cluster_setup=(ROLE_IF_MISSING.format("bystander"),)),
    State("subscription_of_another_role",
          "CREATE SUBSCRIPTION sub{n} CONNECTION 'dbname=nowhere' PUBLICATION p "
          "WITH (connect = false);", ok()),
    State("hub_session_idle_in_transaction", want=ok(),
          holders=(("{role}", "BEGIN; SELECT count(*) FROM public.users;"),)),
    # -- notices: true, and nothing the drop can touch
    State("createrole", want=notice("createrole"), cluster_setup=("ALTER ROLE {r} CREATEROLE;",)),
    State("createdb", want=notice("createdb"), cluster_setup=("ALTER ROLE {r} CREATEDB;",)),
    State("bypassrls", want=notice("bypassrls"), cluster_setup=("ALTER ROLE {r} BYPASSRLS;",)),
    State("cloud_sql", want=notice("createrole", "createdb", "member-of"), cluster_setup=(
        ROLE_IF_MISSING.format("cloudsqlsuperuser") + " ALTER ROLE cloudsqlsuperuser "
        "CREATEROLE CREATEDB;",
        "ALTER ROLE {r} CREATEROLE CREATEDB; GRANT cloudsqlsuperuser TO {r};",
        "ALTER DATABASE {d} OWNER TO cloudsqlsuperuser;")),
    State("ukidac_role_owns_its_own_database", want=notice("database"),
          cluster_setup=("CREATE DATABASE {r} OWNER {r};",), dbs=("{role}",)),
    State("default_privileges_of_another_role", "ALTER DEFAULT PRIVILEGES FOR ROLE other "
          "IN SCHEMA other GRANT SELECT ON TABLES TO {r};", notice("default-acl-of-other")),
    State("grants_on_jupyterhub_tables", "SET ROLE {r}; GRANT SELECT, INSERT ON public.users "
          "TO other;", notice("grant-lost"), allow=("public.users",)),
    State("member_of_pg_read_all_data", want=since(14, ("notice", ("member-of",)), None),
          cluster_setup=("GRANT pg_read_all_data TO {r};",)),
    State("own_default_privileges", "ALTER DEFAULT PRIVILEGES FOR ROLE {r} GRANT SELECT "
          "ON TABLES TO other;", notice("default-acl")),
    State("subscription_of_the_role", "GRANT pg_create_subscription TO {r}; CREATE SUBSCRIPTION "
          "sub{n} CONNECTION 'dbname=nowhere' PUBLICATION p WITH (connect = false); "
          "ALTER SUBSCRIPTION sub{n} OWNER TO {r};",
          since(16, ("notice", ("subscription",)), None)),
    # -- memberships the role granted: deleted by the drop from 16 on
    State("membership_granted_by_the_role",
          want=since(16, ("refuse", ("membership",)), ("notice", ("member-of",))),
          cluster_setup=("CREATE ROLE {grp}; GRANT {grp} TO {r} WITH ADMIN OPTION;",
                         "SET ROLE {r}; GRANT {grp} TO other;")),
    # -- refusals
    State("superuser", want=refuse("superuser"), cluster_setup=("ALTER ROLE {r} SUPERUSER;",),
          policy=True),
    State("bootstrap_superuser", want=refuse("superuser"), as_admin=True),
    State("foreign_table", "SET ROLE {r}; CREATE TABLE public.notes (id serial PRIMARY KEY, "
          "body text); INSERT INTO public.notes (body) VALUES ('keep me');", refuse("owned")),
    State("function", "SET ROLE {r}; CREATE FUNCTION public.hello() RETURNS int LANGUAGE sql "
          "AS 'SELECT 1';", refuse("owned")),
    State("view", "SET ROLE {r}; CREATE VIEW public.active AS SELECT name FROM users;",
          refuse("owned")),
    State("large_object", "SET ROLE {r}; SELECT lo_create(424242);", refuse("owned")),
    State("schema", "CREATE SCHEMA extra AUTHORIZATION {r};", refuse("owned")),
    State("publication", "SET ROLE {r}; CREATE PUBLICATION pub{n} FOR TABLE public.users;",
          refuse("owned"), may_also=("dependent",)),
    State("other_view", "SET ROLE {r}; GRANT SELECT ON users TO other; SET ROLE other; "
          "CREATE VIEW other.users_v AS SELECT name FROM public.users;", refuse("dependent")),
    State("other_foreign_key", "SET ROLE {r}; GRANT REFERENCES ON users TO other; SET ROLE other;"
          " CREATE TABLE other.refs (u integer REFERENCES public.users (id));", refuse("dependent")),
    State("other_rowtype_column", "SET ROLE other; CREATE TABLE other.snap (u public.users);",
          refuse("dependent")),
    State("other_sequence_default", "SET ROLE {r}; GRANT USAGE ON SEQUENCE users_id_seq TO other;"
          " SET ROLE other; CREATE TABLE other.t2 (id integer DEFAULT "
          "nextval('public.users_id_seq'));", refuse("dependent")),
    State("other_table_in_role_schema", "CREATE SCHEMA extra AUTHORIZATION {r}; "
          "GRANT CREATE, USAGE ON SCHEMA extra TO other; SET ROLE other; CREATE TABLE extra.t (i int);",
          refuse("dependent"), may_also=("owned",)),
    State("table_owned_by_another_role", "ALTER TABLE public.services OWNER TO other;",
          refuse("not-owned"), policy=True, may_also=("dependent",)),
    State("policy_naming_the_role", "CREATE POLICY p ON other.keep TO {r} USING (true);",
          refuse("policy")),
    State("sequence_usage_only", "SET ROLE other; CREATE SEQUENCE other.s9; "
          "GRANT USAGE ON SEQUENCE other.s9 TO {r};", refuse("revoke-fails")),
    State("table_truncate_only", "SET ROLE other; CREATE TABLE other.t9 (a int); "
          "GRANT TRUNCATE ON other.t9 TO {r};", refuse("revoke-fails")),
    State("column_grant_only", "SET ROLE other; CREATE TABLE other.t9 (a int, b int); "
          "GRANT SELECT (a), UPDATE (b) ON other.t9 TO {r};", refuse("revoke-fails")),
    State("maintain_only", "SET ROLE other; CREATE TABLE other.t9 (a int); "
          "GRANT MAINTAIN ON other.t9 TO {r};", since(17, ("refuse", ("revoke-fails",)), None)),
    State("lock_by_another_role", "SET ROLE {r}; GRANT SELECT ON users TO other;",
          refuse("lock"), holders=(("other", "BEGIN; LOCK TABLE public.users IN ACCESS SHARE MODE;"),)),
    State("lock_by_a_login_role_acting_as_the_role", want=refuse("lock"),
          cluster_setup=("CREATE ROLE {actor} LOGIN PASSWORD '{actor_pw}'; GRANT {r} TO {actor};",),
          holders=(("actor{n}", "SET ROLE {r}; BEGIN; SELECT count(*) FROM public.users;"),)),
    State("exclusive_lock", want=refuse("lock"),
          holders=(("postgres", "BEGIN; LOCK TABLE public.users IN ACCESS EXCLUSIVE MODE;"),)),
    State("prepared_transaction", want=refuse("prepared"), may_also=("lock",),
          holders=(("{role}", "BEGIN; SELECT count(*) FROM public.users; "
                    "PREPARE TRANSACTION 'px{n}';"),)),
]
MATRIX = {}


def tearDownModule():
    """The verdicts measured, state x major (also into $DB_MATRIX when set)."""
    if not MATRIX:
        return
    ms = sorted({m for _, m in MATRIX})
    width = max(len(st.name) for st in STATES)
    lines = ["state".ljust(width) + "".join(f"  {m:>7}" for m in ms)]
    for st in STATES:
        if any((st.name, m) in MATRIX for m in ms):
            lines.append(st.name.ljust(width) + "".join(
                f"  {MATRIX.get((st.name, m), '-'):>7}" for m in ms))
    text = "\n".join(lines) + "\n"
    sys.stderr.write("\nthe check's verdicts (state x PostgreSQL major):\n" + text)
    if os.environ.get("DB_MATRIX"):
        with open(os.environ["DB_MATRIX"], "w") as f:
            f.write(text)


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
    def new_hub(self, schema="5", role=None, where=None):
        """A role owning a database with JupyterHub's schema (5: the simulator's 5.x, with
        rows; 5real: the real JupyterHub 5.2's create_all + stamp, Debian 13's in the trixie
        root of tests/hub5/install; 3: the real JupyterHub 3.0's, Debian 12's; none), and the
        `other` role's schema beside it.
        where: JupyterHub's schema is that one (the administrator's, open to the role, first
        in the role's search_path) instead of public. h.jh: the fingerprint keys of what
        JupyterHub made (what a drop may take)."""
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
        if where:
            script += (f"CREATE SCHEMA {ident(where)}; GRANT USAGE, CREATE ON SCHEMA {ident(where)} "
                       f"TO {r};\nALTER ROLE {r} IN DATABASE {d} SET search_path = "
                       f"{ident(where)}, public;\nSET search_path = {ident(where)};\n")
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
        if schema in ("3", "5real"):
            env = dict(ENV, PGPASSWORD=h.password)
            code = ("import sys; from jupyterhub import orm; orm.new_session_factory(sys.argv[1])")
            url = h.url.replace("postgresql://", "postgresql+psycopg2://", 1)
            argv, cwd = ["/usr/bin/python3", "-c", code, url], self.tmp
            if schema == "5real":  # the same network, so 127.0.0.1 is this server
                argv, cwd = ["/usr/sbin/chroot", hub5_root()] + argv, "/"
            res = subprocess.run(argv, capture_output=True, text=True, env=env, cwd=cwd)
            self.assertEqual(res.returncode, 0, res.stderr[-3000:])
        prefix = (where or "public") + "."
        h.jh = {key for key in self.fingerprint(h)
                if key[0] == h.db and key[1].split("|")[1].startswith(prefix)}
        return h

    def counts(self, h, tables, db=None):
        sql = " UNION ALL ".join(f"SELECT '{t}', count(*) FROM public.{t}" for t in tables)
        out = h.admin(sql + ";", db=db)
        return {line.split("|")[0]: int(line.split("|")[1]) for line in out.split()}

    def snapshot(self, h, dbs=()):
        """Everything a refused drop must leave as it was: the fingerprint (below) of the
        hub's database, the other role's database and the cluster's shared catalogs."""
        return self.fingerprint(h, dbs)

    def fingerprint(self, h, dbs=()):
        """{(database or '', key): value}: every object, owner, privilege (one entry per
        grantee and privilege), column, constraint, view, policy, default privilege,
        statistics object and large object of the databases, each table's rows (md5),
        and the cluster's roles, memberships (with their grantor), databases,
        tablespaces and subscriptions. pg_dump 15 refuses servers from 16 on, so this
        reads the catalogs itself, the same way on every major."""
        script = FP_CLUSTER_SQL.replace("SELECT 'role|'", "SELECT '' || chr(9) || z.k || chr(9) || replace("
                                        "coalesce(z.v, ''), chr(10), ' ') FROM (SELECT 'role|'", 1)
        script = script.rstrip().rstrip(";") + ") z(k, v);\n"
        for db in [h.db, "otherdb"] + list(dbs):
            script += (f"\\connect {ident(db)}\nSET search_path = pg_catalog;\n"
                       "SELECT current_database() || chr(9) || z.k || chr(9) || "
                       f"replace(coalesce(z.v, ''), chr(10), ' ') FROM ({FP_DB_SQL}) z(k, v);\n")
        fp = {}
        for line in self.rt.admin_psql(script).split("\n"):
            if line:
                db, k, v = line.split("\t", 2)
                fp[(db, k)] = v
        return fp

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

    def test_clean_jupyterhub_5_real_schema(self):
        """What the real JupyterHub 5 creates is exactly the check's table list, and all of
        it JupyterHub's: no refusal, no warning; the drop takes all of it and nothing else."""
        h = self.new_hub(schema="5real")
        made = h.admin("SELECT tablename FROM pg_tables WHERE schemaname = 'public' AND tableowner = '"
                       + h.role.replace("'", "''") + "';").split()
        self.assertEqual(sorted(made), sorted(check_table_list()))
        self.assertEqual(sorted(made), sorted(TABLES_5))
        res, rep = h.check()
        self.assertEqual(res.returncode, 0, res.stderr)
        self.assertEqual(res.stderr, "")
        self.assertTrue(rep["ok"], rep)
        self.assertEqual(rep["refusals"], [])
        self.assertEqual(rep["warnings"], [])
        self.assertEqual(sorted(t["name"] for t in rep["tables"]), sorted(TABLES_5))
        self.assertEqual(rep["jupyterhub"], "5.x")
        self.assertEqual(rep["alembic"], ["4621fec11365"])
        before = self.snapshot(h)
        res = h.drop()
        self.assertEqual(res.returncode, 0, res.stderr)
        after = self.snapshot(h)
        self.assertEqual({k for k in before if k not in after}, h.jh)  # exactly JupyterHub's objects
        self.assertEqual({k: v for k, v in after.items() if k not in h.jh},
                         {k: v for k, v in before.items() if k not in h.jh})

    def test_simulated_schema_is_jupyterhub_5s(self):
        """The simulator's JupyterHub 5.x schema (tests/cluster/sim/runtime/jupyterhub5.sql, what
        the stand-in hub and most tests use) has the real JupyterHub 5's tables, columns,
        constraints, indexes and sequences."""
        def shape(h):
            out = {}
            for (db, key), value in self.fingerprint(h).items():
                kind, _, name = key.partition("|")
                if db != h.db or kind not in ("rel", "att", "con", "type") or not name.startswith("public."):
                    continue
                out[key] = value.replace(h.role, "ROLE") if kind != "type" else "ROLE"
            return out
        sim, real = shape(self.new_hub()), shape(self.new_hub(schema="5real"))
        self.assertIn("att|public.share_codes.hashed", real)
        self.assertGreater(sum(k.startswith("con|") for k in real), 30)
        missing = sorted(f"{k} = {v}" for k, v in real.items() if sim.get(k) != v)
        extra = sorted(f"{k} = {v}" for k, v in sim.items() if real.get(k) != v)
        self.assertEqual((missing, extra), ([], []), "real JupyterHub 5 (missing) vs the simulator's (extra)")

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

    # ------------------------------------------------------------------ the matrix
    def run_state(self, st):
        """One database state on this server: the check's verdict as expected, and the drop
        doing exactly what the verdict promised. ok/notice: the drop succeeds and changes
        nothing but JupyterHub's objects and the role's own privileges (fingerprint before
        and after). refuse: the drop refuses, names the object and changes nothing; and
        (unless the refusal is policy) a bare DROP OWNED BY current_user would indeed have
        failed or harmed something else."""
        want = st.want(self.major)
        if want is None:
            self.skipTest(f"{st.name}: not possible on PostgreSQL {self.major}")
        verdict_want, codes_want = want
        h = self.new_hub(schema=st.schema, where=st.where)
        n = h.db[len("hubdb"):]
        fmt = dict(r=ident(h.role), role=h.role, d=ident(h.db), db=h.db, n=n,
                   grp=ident(f"grp{n}"), actor=ident(f"actor{n}"), actor_pw=h.password)
        for sql in st.cluster_setup:
            self.rt.admin_psql(sql.format(**fmt))
        if st.setup:
            h.admin(st.setup.format(**fmt))
        if st.as_admin:
            h = Hub(self, "postgres", h.db)
            h.password = self.pg["admin_password"]
            h.jh = set()
        holders = [self.hold(h, sql.format(**fmt), role.format(**fmt)) for role, sql in st.holders]
        try:
            t = time.monotonic()
            res, rep = h.check()
            check_s = time.monotonic() - t
            self.assertEqual(res.returncode, 0, res.stderr)
            self.assertLess(check_s, 15, "the check took too long")
            verdict = "refuse" if rep["refusals"] else "notice" if rep["warnings"] else "ok"
            MATRIX[(st.name, self.major)] = verdict
            got = {r["code"] for r in rep["refusals" if verdict == "refuse" else "warnings"]}
            self.assertEqual(verdict, verdict_want, json.dumps(rep["refusals"] + rep["warnings"],
                                                               indent=1))
            self.assertTrue(set(codes_want) <= got, f"{codes_want} not in {got}")
            if verdict == "refuse" and set(got) - set(st.may_also) - set(codes_want):
                self.fail(f"refused for more than {codes_want}: {json.dumps(rep['refusals'], indent=1)}")
            dbs = [d.format(**fmt) for d in st.dbs]
            before = self.fingerprint(h, dbs)
            jh = h.jh | {key for key in before if key[0] == h.db and
                         any(key[1].split("|")[1].startswith(a) for a in st.allow)}
            res = h.drop()
            if verdict == "refuse":
                self.assertNotEqual(res.returncode, 0, f"the drop did not refuse: {res.stderr}")
                self.assertIn(REFUSAL, res.stderr)
                self.assertIn(rep["refusals"][0]["name"], res.stderr)
                self.assertEqual(self.fingerprint(h, dbs), before)
                if st.policy:
                    return
                # the refusal is founded: a bare DROP OWNED would have failed, or harmed
                bare = h.psql(sql="SET lock_timeout = '2s'; SET statement_timeout = '20s'; "
                              "DROP OWNED BY current_user;", timeout=60)
                if bare.returncode == 0:
                    done = harm(before, self.fingerprint(h, dbs), h.role, jh)
                    self.assertTrue(done, "refused, but a bare DROP OWNED did no harm")
                return
            self.assertEqual(res.returncode, 0, res.stderr)
            after = self.fingerprint(h, dbs)
            self.assertEqual(harm(before, after, h.role, jh), {}, "the drop harmed")
            res, rep2 = h.check()
            self.assertEqual(rep2["tables"], [])
        finally:
            for p in holders:
                if p.poll() is None:
                    p.kill()
                p.wait()
                p.stderr.close()
            # Their backends sleep on (pg_sleep does not notice a client gone): end them.
            if holders:
                self.rt.admin_psql("SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity "
                                   "WHERE application_name LIKE 'holder-%';", check=False)
            for gid in self.rt.admin_psql("SELECT gid FROM pg_prepared_xacts;").split():
                self.rt.admin_psql(f"ROLLBACK PREPARED '{gid}';", dbname=h.db, check=False)

    def hold(self, h, sql, role):
        """A session of `role` (password: the hub's) running sql, then sleeping: it keeps its
        locks (or, ending in PREPARE TRANSACTION, leaves a prepared transaction)."""
        url = h.url.replace(urllib.parse.quote(h.role, safe="") + "@",
                            urllib.parse.quote(role, safe="") + "@", 1)
        if role == "postgres":
            url = (f"postgresql://postgres@127.0.0.1:{self.pg['port']}/"
                   + urllib.parse.quote(h.db, safe=""))
        pw = {"postgres": self.pg["admin_password"],
              "other": self.pg["other_password"]}.get(role, h.password)
        # Its own name: a holder of an earlier test may still sleep on the server (a
        # backend in pg_sleep does not notice its client is gone), and must not count.
        app = "holder-" + secrets.token_hex(4)
        p = subprocess.Popen(["psql", "-X", "-q", "-v", "ON_ERROR_STOP=1", "-d", url, "-c", sql,
                              "-c", "SELECT pg_sleep(60)"], stdout=subprocess.DEVNULL,
                             stderr=subprocess.PIPE, env=dict(ENV, PGPASSWORD=pw,
                                                              PGAPPNAME=app))
        for _ in range(400):
            if self.rt.admin_psql(f"SELECT count(*) FROM pg_stat_activity WHERE application_name = "
                                  f"'{app}' AND wait_event = 'PgSleep';").strip() != "0":
                break
            if p.poll() is not None:
                err = p.stderr.read().decode()
                p.stderr.close()
                self.fail("the holding session failed: " + err)
            time.sleep(0.05)
        return p

    for _st in STATES:
        locals()[f"test_state_{_st.name}"] = (lambda st: lambda self: self.run_state(st))(_st)
    del _st

    def test_refusal_names_only_the_parent(self):
        """A foreign table's sequence, index and row type go with it: one reason, not four."""
        h = self.new_hub()
        h.admin(f"SET ROLE {ident(h.role)}; CREATE TABLE public.notes (id serial PRIMARY KEY, t text);")
        res, rep = h.check()
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
        if self.major > 15:
            self.skipTest("pg_dump 15 (the hub pod's) refuses a newer server")
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
