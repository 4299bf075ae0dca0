/* db-sql.c: the SQL behind the database steps: the ownership check and the drop */
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "../util/buf.h"
#include "../util/xalloc.h"
#include "db-sql.h"

/*
 * Why one SELECT and not a script: the check runs as `psql -c' in the hub
 * pod (a -f script would need stdin, which only v5 exec can close), and
 * psql before 15 prints only the last result of a multi-statement -c.  So
 * everything is one statement: CTEs that collect facts, a UNION ALL of
 * result rows.  Row counts of tables that may not exist need dynamic SQL
 * without a function: query_to_xml(format('SELECT count(*) ... %I')) and a
 * regular expression on its text (no xpath, so no libxml needed).  The
 * catalogs are read with search_path = pg_catalog, pg_temp so that no object
 * of the role can stand in for one.
 *
 * What DROP OWNED BY current_user does (PostgreSQL 12-18, measured by
 * tests/db): it deletes every object in the current database whose
 * pg_shdepend owner entry names the role (tables, sequences, types,
 * functions, schemas, large objects, ..., and default ACLs), RESTRICT
 * (another role's object depending on one of them makes it fail), with what
 * those objects cascade to internally (indexes, constraints, row types,
 * triggers, rules, policies, statistics).  It revokes the privileges granted
 * to the role on other objects as far as the role may: a grant made by
 * another role stays, with a WARNING, but it fails (see CTE_EFFECTS) when
 * the role holds none of the privileges that let it try.  It takes the role
 * out of policies on other tables and out of other roles' default
 * privileges.  From 16 it also deletes the role memberships the role
 * granted (their grantor).  It never drops a database, a tablespace or a
 * subscription (shared objects), and it acts on objects owned by
 * current_user only: objects of roles the role is a member of are
 * untouched, so a membership, CREATEROLE or CREATEDB is a notice, never a
 * reason to refuse.  SUPERUSER is refused by rule: a wipe needs
 * JupyterHub's own role, and a superuser usually owns far more.
 */

const char *const db_jupyterhub_tables[] = {
	"users", "spawners", "servers", "groups", "user_group_map", "roles",
	"user_role_map", "group_role_map", "service_role_map", "services",
	"api_tokens", "oauth_clients", "oauth_codes", "shares", "share_codes",
	"alembic_version", NULL,
};

/* db_jupyterhub_tables as an SQL list (the unit tests compare the two). */
#define JH_TABLES \
	"'users', 'spawners', 'servers', 'groups', 'user_group_map', 'roles', " \
	"'user_role_map', 'group_role_map', 'service_role_map', 'services', " \
	"'api_tokens', 'oauth_clients', 'oauth_codes', 'shares', 'share_codes', " \
	"'alembic_version'"

#define ME "(SELECT oid FROM me)"

/* ---- the facts ---- */
#define CTE_BASE \
	"WITH\n" \
	"me_all AS (\n" \
	"  SELECT r.oid, r.rolname, r.rolsuper, r.rolcreaterole, r.rolbypassrls,\n" \
	"    r.rolcreatedb, r.rolreplication\n" \
	"  FROM pg_roles r WHERE r.rolname = current_user),\n" \
	/*
	 * A superuser is refused whatever it owns: nothing else is looked at
	 * (a bootstrap superuser owns the catalogs themselves).
	 */ \
	"me AS (SELECT * FROM me_all WHERE NOT rolsuper),\n" \
	"db AS (SELECT d.oid FROM pg_database d WHERE d.datname = current_database()),\n" \
	"v AS (SELECT current_setting('server_version_num')::int AS num),\n" \
	/*
	 * The schema JupyterHub's tables are in: the first existing schema of
	 * the role's own search_path that it may use (reset_val: the session's
	 * value before the SET above; "$user" is the role), as SQLAlchemy
	 * creates and finds them there; public when none.
	 */ \
	"pub AS (\n" \
	"  SELECT n.oid, n.nspname FROM (\n" \
	"    SELECT p.i, CASE WHEN btrim(p.s) IN ('$user', '\"$user\"') THEN current_user::text\n" \
	"      WHEN btrim(p.s) LIKE '\"%\"' THEN replace(substr(btrim(p.s), 2,\n" \
	"        length(btrim(p.s)) - 2), '\"\"', '\"')\n" \
	"      ELSE lower(btrim(p.s)) END AS s\n" \
	"    FROM unnest(string_to_array((SELECT reset_val FROM pg_settings\n" \
	"      WHERE name = 'search_path'), ',')) WITH ORDINALITY AS p(s, i)\n" \
	"    UNION ALL SELECT 1000000, 'public') p\n" \
	"  JOIN pg_namespace n ON n.nspname = p.s\n" \
	"  WHERE n.nspname NOT IN ('pg_catalog', 'information_schema')\n" \
	"    AND has_schema_privilege(n.oid, 'USAGE')\n" \
	"    AND n.nspname NOT LIKE 'pg\\_temp\\_%' AND n.nspname NOT LIKE 'pg\\_toast%'\n" \
	"  ORDER BY p.i LIMIT 1),\n" \
	/* JupyterHub's tables as they are: in public, ordinary (or partitioned) tables. */ \
	"jh_tab AS (\n" \
	"  SELECT c.oid, c.relname, c.relowner, c.reltoastrelid FROM pg_class c\n" \
	"  WHERE c.relnamespace = (SELECT oid FROM pub) AND c.relkind IN ('r', 'p')\n" \
	"    AND c.relname = ANY (ARRAY[" JH_TABLES "]::name[])\n" \
	"    AND EXISTS (SELECT 1 FROM me)),\n" \
	"jh_own AS (SELECT * FROM jh_tab WHERE relowner = " ME "),\n" \
	"jh_heap AS (\n" \
	"  SELECT oid FROM jh_own\n" \
	"  UNION SELECT reltoastrelid FROM jh_own WHERE reltoastrelid <> 0),\n" \
	/* ... with their indexes, TOAST and the sequences they own (serial: 'a', identity: 'i') */ \
	"jh_rel AS (\n" \
	"  SELECT oid FROM jh_heap\n" \
	"  UNION SELECT i.indexrelid FROM pg_index i WHERE i.indrelid IN (SELECT oid FROM jh_heap)\n" \
	"  UNION SELECT d.objid FROM pg_depend d\n" \
	"    JOIN pg_class s ON s.oid = d.objid AND s.relkind = 'S'\n" \
	"    WHERE d.classid = 'pg_class'::regclass AND d.refclassid = 'pg_class'::regclass\n" \
	"      AND d.refobjid IN (SELECT oid FROM jh_own) AND d.deptype IN ('a', 'i')\n" \
	/* a sequence the role owns that a column default uses (OWNED BY NONE: unlinked) */ \
	"  UNION SELECT s.oid FROM pg_attrdef a\n" \
	"    JOIN pg_depend d ON d.classid = 'pg_attrdef'::regclass AND d.objid = a.oid\n" \
	"      AND d.refclassid = 'pg_class'::regclass\n" \
	"    JOIN pg_class s ON s.oid = d.refobjid AND s.relkind = 'S'\n" \
	"      AND s.relowner = " ME " AND s.relnamespace = (SELECT oid FROM pub)\n" \
	"    WHERE a.adrelid IN (SELECT oid FROM jh_own)),\n" \
	/*
	 * JupyterHub before 2.0 had oauth_access_tokens.grant_type, an enum;
	 * the 2.0 migration dropped the table with alembic, which leaves the
	 * type behind.  Exactly that enum is JupyterHub's too.
	 */ \
	"legacy_type AS (\n" \
	"  SELECT t.oid, t.typarray FROM pg_type t\n" \
	"  WHERE t.typnamespace = (SELECT oid FROM pub) AND t.typname = 'granttype'\n" \
	"    AND t.typtype = 'e' AND t.typowner = " ME "\n" \
	"    AND ARRAY(SELECT e.enumlabel::text FROM pg_enum e WHERE e.enumtypid = t.oid\n" \
	"      ORDER BY e.enumlabel::text COLLATE \"C\") = ARRAY['authorization_code',\n" \
	"      'client_credentials', 'implicit', 'password', 'refresh_token']),\n" \
	/* Everything of JupyterHub's the drop may take: the relations and their row types. */ \
	"jh_obj(classid, objid) AS (\n" \
	"  SELECT 'pg_class'::regclass, oid FROM jh_rel\n" \
	"  UNION SELECT 'pg_type'::regclass, t.oid FROM pg_type t\n" \
	"    WHERE t.typrelid IN (SELECT oid FROM jh_rel)\n" \
	"  UNION SELECT 'pg_type'::regclass, t.typarray FROM pg_type t\n" \
	"    WHERE t.typrelid IN (SELECT oid FROM jh_rel) AND t.typarray <> 0\n" \
	"  UNION SELECT 'pg_type'::regclass, oid FROM legacy_type\n" \
	"  UNION SELECT 'pg_type'::regclass, typarray FROM legacy_type WHERE typarray <> 0\n" \
	/* extended statistics on JupyterHub's tables: dropped with them, harmless */ \
	"  UNION SELECT 'pg_statistic_ext'::regclass, x.oid FROM pg_statistic_ext x\n" \
	"    WHERE x.stxrelid IN (SELECT oid FROM jh_own) AND x.stxowner = " ME "),\n"

/*
 * What the role owns in this database: what DROP OWNED reads (pg_shdepend),
 * and, in case an entry is missing there, the owner columns themselves.
 */
#define OWNER(cat, col) \
	"  UNION SELECT '" cat "'::regclass, oid FROM " cat " WHERE " col " = " ME "\n"
#define CTE_OWNED \
	"owned(classid, objid) AS (\n" \
	"  SELECT s.classid::regclass, s.objid FROM pg_shdepend s\n" \
	"  WHERE s.dbid = (SELECT oid FROM db) AND s.refclassid = 'pg_authid'::regclass\n" \
	"    AND s.refobjid = " ME " AND s.deptype = 'o'\n" \
	OWNER("pg_class", "relowner") \
	OWNER("pg_type", "typowner") \
	OWNER("pg_proc", "proowner") \
	OWNER("pg_namespace", "nspowner") \
	OWNER("pg_collation", "collowner") \
	OWNER("pg_conversion", "conowner") \
	OWNER("pg_operator", "oprowner") \
	OWNER("pg_opclass", "opcowner") \
	OWNER("pg_opfamily", "opfowner") \
	OWNER("pg_ts_dict", "dictowner") \
	OWNER("pg_ts_config", "cfgowner") \
	OWNER("pg_extension", "extowner") \
	OWNER("pg_language", "lanowner") \
	OWNER("pg_foreign_data_wrapper", "fdwowner") \
	OWNER("pg_foreign_server", "srvowner") \
	OWNER("pg_event_trigger", "evtowner") \
	OWNER("pg_publication", "pubowner") \
	OWNER("pg_statistic_ext", "stxowner") \
	OWNER("pg_default_acl", "defaclrole") \
	"  UNION SELECT 'pg_largeobject'::regclass, oid FROM pg_largeobject_metadata\n" \
	"    WHERE lomowner = " ME "),\n" \
	"owned_rel AS (SELECT objid AS oid FROM owned WHERE classid = 'pg_class'::regclass),\n" \
	/*
	 * Parts of an owned object that go with it (an index with its table, a
	 * sequence with the table that owns it, a row type, an array type, an
	 * extension's members): named through their parent, not on their own.
	 */ \
	"part(classid, objid) AS (\n" \
	"  SELECT 'pg_class'::regclass, c.oid FROM pg_class c\n" \
	"    WHERE c.oid IN (SELECT oid FROM owned_rel) AND c.relkind IN ('i', 'I', 't')\n" \
	"  UNION SELECT 'pg_class'::regclass, d.objid FROM pg_depend d\n" \
	"    WHERE d.classid = 'pg_class'::regclass AND d.refclassid = 'pg_class'::regclass\n" \
	"      AND d.objid IN (SELECT oid FROM owned_rel)\n" \
	"      AND d.refobjid IN (SELECT oid FROM owned_rel)\n" \
	"      AND d.deptype IN ('a', 'i') AND d.objid <> d.refobjid\n" \
	"  UNION SELECT 'pg_type'::regclass, t.oid FROM pg_type t\n" \
	"    WHERE t.typrelid IN (SELECT oid FROM owned_rel)\n" \
	"  UNION SELECT 'pg_type'::regclass, a.oid FROM pg_type a\n" \
	"    JOIN pg_type e ON e.typarray = a.oid WHERE e.typowner = " ME "\n" \
	"  UNION SELECT d.classid::regclass, d.objid FROM pg_depend d\n" \
	"    WHERE d.refclassid = 'pg_extension'::regclass AND d.deptype = 'e'\n" \
	"      AND d.refobjid IN (SELECT objid FROM owned\n" \
	"        WHERE classid = 'pg_extension'::regclass)),\n" \
	/* Owned, plus the owner-less objects that belong to owned relations and types. */ \
	"ours(classid, objid) AS (\n" \
	"  SELECT classid, objid FROM owned\n" \
	"  UNION SELECT 'pg_constraint'::regclass, c.oid FROM pg_constraint c\n" \
	"    WHERE c.conrelid IN (SELECT oid FROM owned_rel) OR c.contypid IN\n" \
	"      (SELECT objid FROM owned WHERE classid = 'pg_type'::regclass)\n" \
	"  UNION SELECT 'pg_attrdef'::regclass, a.oid FROM pg_attrdef a\n" \
	"    WHERE a.adrelid IN (SELECT oid FROM owned_rel)\n" \
	"  UNION SELECT 'pg_trigger'::regclass, t.oid FROM pg_trigger t\n" \
	"    WHERE t.tgrelid IN (SELECT oid FROM owned_rel)\n" \
	"  UNION SELECT 'pg_rewrite'::regclass, r.oid FROM pg_rewrite r\n" \
	"    WHERE r.ev_class IN (SELECT oid FROM owned_rel)\n" \
	"  UNION SELECT 'pg_policy'::regclass, p.oid FROM pg_policy p\n" \
	"    WHERE p.polrelid IN (SELECT oid FROM owned_rel)),\n"

/*
 * Objects that are not ours but depend on ours (any dependency type: a
 * view's rule, a foreign key, a column of our type, a default calling our
 * sequence, a partition or child table, a table in our schema, ...).  DROP
 * OWNED would fail on a normal dependency and silently take an automatic
 * one with it: both are refusals.  A view is named, not its rule.
 */
#define CTE_DEPENDENT \
	"dependent AS (\n" \
	"  SELECT\n" \
	"    CASE WHEN d.classid = 'pg_rewrite'::regclass THEN 'pg_class'::regclass\n" \
	"      ELSE d.classid::regclass END AS classid,\n" \
	"    CASE WHEN d.classid = 'pg_rewrite'::regclass\n" \
	"      THEN (SELECT r.ev_class FROM pg_rewrite r WHERE r.oid = d.objid)\n" \
	"      ELSE d.objid END AS objid,\n" \
	"    string_agg(DISTINCT ri.type || ' ' || ri.identity, ', ') AS refs\n" \
	"  FROM pg_depend d\n" \
	"  JOIN ours o ON o.classid = d.refclassid AND o.objid = d.refobjid\n" \
	"  CROSS JOIN pg_identify_object(d.refclassid, d.refobjid, 0) ri\n" \
	"  WHERE NOT EXISTS (SELECT 1 FROM ours x\n" \
	"    WHERE x.classid = d.classid AND x.objid = d.objid)\n" \
	"  GROUP BY 1, 2),\n" \
	/* Whose they are, to say so (NULL: no owner recorded, such as a cast). */ \
	"dependent_owner AS (\n" \
	"  SELECT dp.*, CASE dp.classid\n" \
	"    WHEN 'pg_class'::regclass THEN\n" \
	"      (SELECT relowner FROM pg_class WHERE oid = dp.objid)\n" \
	"    WHEN 'pg_type'::regclass THEN\n" \
	"      (SELECT typowner FROM pg_type WHERE oid = dp.objid)\n" \
	"    WHEN 'pg_proc'::regclass THEN\n" \
	"      (SELECT proowner FROM pg_proc WHERE oid = dp.objid)\n" \
	"    WHEN 'pg_constraint'::regclass THEN (SELECT coalesce(\n" \
	"        (SELECT relowner FROM pg_class WHERE oid = c.conrelid),\n" \
	"        (SELECT typowner FROM pg_type WHERE oid = c.contypid))\n" \
	"      FROM pg_constraint c WHERE c.oid = dp.objid)\n" \
	"    WHEN 'pg_attrdef'::regclass THEN (SELECT c.relowner FROM pg_attrdef a\n" \
	"      JOIN pg_class c ON c.oid = a.adrelid WHERE a.oid = dp.objid)\n" \
	"    WHEN 'pg_trigger'::regclass THEN (SELECT c.relowner FROM pg_trigger t\n" \
	"      JOIN pg_class c ON c.oid = t.tgrelid WHERE t.oid = dp.objid)\n" \
	"    WHEN 'pg_policy'::regclass THEN (SELECT c.relowner FROM pg_policy p\n" \
	"      JOIN pg_class c ON c.oid = p.polrelid WHERE p.oid = dp.objid)\n" \
	"    ELSE (SELECT s.refobjid FROM pg_shdepend s\n" \
	"      WHERE s.dbid = (SELECT oid FROM db) AND s.classid = dp.classid\n" \
	"        AND s.objid = dp.objid AND s.deptype = 'o' LIMIT 1)\n" \
	"    END AS owner\n" \
	"  FROM dependent dp),\n" \
	"shared_dep AS (\n" \
	"  SELECT s.* FROM pg_shdepend s\n" \
	"  WHERE s.refclassid = 'pg_authid'::regclass AND s.refobjid = " ME "),\n"

#define ROLENAME "(SELECT rolname FROM me_all)"
#define QROLE "quote_ident(" ROLENAME ")"

/*
 * What the drop does beyond the role's own objects, read from the catalogs
 * (measured on PostgreSQL 12-18, tests/db):
 * - revoking the role's privileges on another role's relation fails the
 *   whole drop ("permission denied for table" or "for column tableoid")
 *   unless the role holds at least one of SELECT, INSERT, UPDATE or
 *   REFERENCES on the relation itself: a grant of only TRUNCATE, DELETE,
 *   TRIGGER, MAINTAIN or USAGE (sequences), or only column grants;
 * - from 16 it deletes the role memberships the role granted (grantor);
 * - it deletes the role's entries in other roles' default privileges;
 * - it waits for every lock on what it drops: locks held by sessions it
 *   does not disconnect (another login role, one acting as the role with
 *   SET ROLE) or by prepared transactions make it time out.
 */
#define CTE_EFFECTS \
	"revoke_fails AS (\n" \
	"  SELECT c.oid, c.relkind, c.relowner FROM shared_dep s\n" \
	"  JOIN pg_class c ON c.oid = s.objid\n" \
	"  WHERE s.classid = 'pg_class'::regclass AND s.deptype = 'a'\n" \
	"    AND s.dbid = (SELECT oid FROM db) AND c.relowner <> " ME "\n" \
	"    AND NOT has_table_privilege(" ME ", c.oid, 'SELECT')\n" \
	"    AND NOT has_table_privilege(" ME ", c.oid, 'INSERT')\n" \
	"    AND NOT has_table_privilege(" ME ", c.oid, 'UPDATE')\n" \
	"    AND NOT has_table_privilege(" ME ", c.oid, 'REFERENCES')),\n" \
	"jh_lock AS (\n" \
	"  SELECT l.*, j.relname, a.usename, a.application_name, a.state\n" \
	"  FROM pg_locks l JOIN jh_own j ON j.oid = l.relation\n" \
	"  LEFT JOIN pg_stat_activity a ON a.pid = l.pid\n" \
	"  WHERE l.database = (SELECT oid FROM db) AND l.pid IS DISTINCT FROM pg_backend_pid()),\n" \
	/* A table someone holds (or waits for) exclusively: counting its rows would wait. */ \
	"jh_busy AS (SELECT DISTINCT relation AS oid FROM jh_lock WHERE mode = 'AccessExclusiveLock'),\n"

/* ---- the rows: (order, kind, five fields) ---- */
#define CTE_ROWS \
	"r(ord, kind, f1, f2, f3, f4, f5) AS (\n" \
	"  SELECT 0, 'server', current_setting('server_version_num'), current_database()::text,\n" \
	"    current_user::text, session_user::text, coalesce((SELECT nspname FROM pub)::text, '')\n" \
	"  UNION ALL SELECT 1, 'role', rolname::text, rolsuper::text, rolcreaterole::text,\n" \
	"    rolbypassrls::text, rolcreatedb::text FROM me_all\n" \
	/* Exact counts: JupyterHub's tables are small. */ \
	"  UNION ALL SELECT 2, 'table', j.relname::text,\n" \
	"    substring(query_to_xml(format('SELECT count(*) AS n FROM %I.%I',\n" \
	"      (SELECT nspname FROM pub), j.relname), false, true, '')::text\n" \
	"      FROM '<n>([0-9]+)</n>'), '', '', ''\n" \
	"    FROM jh_own j WHERE j.oid NOT IN (SELECT oid FROM jh_busy)\n" \
	"  UNION ALL SELECT 3, 'alembic', m[1], '', '', '', '' FROM jh_own j,\n" \
	"    regexp_matches(query_to_xml(format('SELECT version_num AS v FROM %I.alembic_version',\n" \
	"      (SELECT nspname FROM pub)), false, true, '')::text, '<v>([^<]*)</v>', 'g') AS m\n" \
	"    WHERE j.relname = 'alembic_version' AND j.oid NOT IN (SELECT oid FROM jh_busy)\n" \
	/* -- refusals: what the drop would destroy, or fail on -- */ \
	"  UNION ALL SELECT 10, 'refuse', 'superuser', 'role', rolname::text,\n" \
	"    'has SUPERUSER: a wipe needs JupyterHub''s own, unprivileged role', ''\n" \
	"    FROM me_all WHERE rolsuper\n" \
	"  UNION ALL SELECT 11, 'refuse', 'owned', i.type, i.identity,\n" \
	"    CASE WHEN o.classid = 'pg_namespace'::regclass AND o.objid = (SELECT oid FROM pub)\n" \
	"      THEN 'owned by ' || " ROLENAME " || ': the drop would remove schema '\n" \
	"        || i.identity || ' itself, where JupyterHub keeps its tables'\n" \
	"      ELSE 'owned by ' || " ROLENAME " || ', not one of JupyterHub''s tables' END, ''\n" \
	"  FROM owned o, pg_identify_object(o.classid, o.objid, 0) i\n" \
	"  WHERE o.classid <> 'pg_default_acl'::regclass\n" \
	"    AND NOT EXISTS (SELECT 1 FROM jh_obj j\n" \
	"      WHERE j.classid = o.classid AND j.objid = o.objid)\n" \
	"    AND NOT EXISTS (SELECT 1 FROM part p\n" \
	"      WHERE p.classid = o.classid AND p.objid = o.objid)\n" \
	"  UNION ALL SELECT 12, 'refuse', 'not-owned', 'table',\n" \
	"    quote_ident((SELECT nspname FROM pub)) || '.' || quote_ident(t.relname),\n" \
	"    'owned by ' || pg_get_userbyid(t.relowner) || ', not ' || " ROLENAME \
	" || ': the drop would leave it', ''\n" \
	"  FROM jh_tab t WHERE t.relowner <> " ME "\n" \
	"  UNION ALL SELECT 14, 'refuse', 'dependent', i.type, i.identity,\n" \
	"    'owned by ' || coalesce(pg_get_userbyid(dp.owner)::text, 'no role')\n" \
	"      || ', depends on ' || dp.refs, ''\n" \
	"  FROM dependent_owner dp, pg_identify_object(dp.classid, dp.objid, 0) i\n" \
	"  UNION ALL SELECT 15, 'refuse', 'policy', i.type, i.identity,\n" \
	"    'names role ' || " ROLENAME " || ': the drop would change or drop it', ''\n" \
	"  FROM shared_dep s, pg_identify_object(s.classid, s.objid, 0) i\n" \
	"  WHERE s.dbid = (SELECT oid FROM db) AND s.deptype = 'r'\n" \
	"    AND NOT EXISTS (SELECT 1 FROM ours x\n" \
	"      WHERE x.classid = s.classid AND x.objid = s.objid)\n" \
	"  UNION ALL SELECT 16, 'refuse', 'membership', 'role membership',\n" \
	"    quote_ident(g.rolname) || ' to ' || quote_ident(u.rolname),\n" \
	"    'granted by ' || " ROLENAME " || ': the drop would delete it; to keep it, an admin '\n" \
	"      || 'grants it again GRANTED BY another role, then runs: REVOKE '\n" \
	"      || quote_ident(g.rolname) || ' FROM ' || quote_ident(u.rolname) || ' GRANTED BY '\n" \
	"      || " QROLE ", ''\n" \
	"  FROM pg_auth_members m JOIN pg_roles g ON g.oid = m.roleid\n" \
	"  JOIN pg_roles u ON u.oid = m.member\n" \
	"  WHERE m.grantor = " ME " AND (SELECT num FROM v) >= 160000\n" \
	"  UNION ALL SELECT 17, 'refuse', 'revoke-fails', i.type, i.identity,\n" \
	"    'owned by ' || pg_get_userbyid(f.relowner) || '; ' || " ROLENAME " || ' holds '\n" \
	"      || coalesce((SELECT string_agg(DISTINCT a.privilege_type, ', ')\n" \
	"        FROM pg_class c, aclexplode(c.relacl) a WHERE c.oid = f.oid AND a.grantee = " ME "),\n" \
	"        'column privileges') || ': the drop would fail revoking them; the owner runs: '\n" \
	"      || 'REVOKE ALL ON ' || i.identity || ' FROM ' || " QROLE ", ''\n" \
	"  FROM revoke_fails f, pg_identify_object('pg_class'::regclass, f.oid, 0) i\n" \
	"  UNION ALL SELECT 18, 'refuse', 'lock', 'table',\n" \
	"    quote_ident((SELECT nspname FROM pub)) || '.' || quote_ident(l.relname),\n" \
	"    CASE WHEN l.pid IS NULL THEN 'locked (' || l.mode || ') by a prepared transaction'\n" \
	"      WHEN l.usename = current_user THEN 'locked (' || l.mode || ') by session ' || l.pid\n" \
	"        || ' of ' || current_user || ' itself: its rows cannot be counted now; try again'\n" \
	"      ELSE CASE WHEN l.granted THEN 'locked (' ELSE 'waited for (' END || l.mode\n" \
	"        || ') by session ' || l.pid || ' of role ' || coalesce(l.usename::text, '?')\n" \
	"        || ': the drop would time out; an admin runs: SELECT pg_terminate_backend('\n" \
	"        || l.pid || ')' END, ''\n" \
	"  FROM jh_lock l\n" \
	"  WHERE l.pid IS NULL OR l.usename IS DISTINCT FROM current_user\n" \
	"    OR l.mode = 'AccessExclusiveLock'\n" \
	"  UNION ALL SELECT 19, 'refuse', 'prepared', 'prepared transaction', x.gid,\n" \
	"    'prepared by ' || x.owner || ': its locks would hold the drop up; an admin runs: '\n" \
	"      || 'ROLLBACK PREPARED (or COMMIT PREPARED) ' || quote_literal(x.gid), ''\n" \
	"  FROM pg_prepared_xacts x WHERE x.database = current_database() AND EXISTS (SELECT 1 FROM me)\n" \
	/* -- notices: true, worth knowing, and nothing the drop would break -- */ \
	"  UNION ALL SELECT 20, 'warn', 'createrole', 'role', rolname::text,\n" \
	"    'has CREATEROLE (as Cloud SQL gives its users); the drop acts only on what '\n" \
	"      || rolname || ' owns', '' FROM me WHERE rolcreaterole\n" \
	"  UNION ALL SELECT 20, 'warn', 'bypassrls', 'role', rolname::text,\n" \
	"    'has BYPASSRLS; the drop acts only on what ' || rolname || ' owns', ''\n" \
	"    FROM me WHERE rolbypassrls\n" \
	"  UNION ALL SELECT 20, 'warn', 'createdb', 'role', rolname::text, 'has CREATEDB', ''\n" \
	"    FROM me WHERE rolcreatedb\n" \
	"  UNION ALL SELECT 20, 'warn', 'replication', 'role', rolname::text, 'has REPLICATION', ''\n" \
	"    FROM me WHERE rolreplication\n" \
	"  UNION ALL SELECT 21, 'warn', 'session-user', 'role', session_user::text,\n" \
	"    'logs in as ' || session_user || ' but acts as ' || current_user\n" \
	"      || ': the drop takes what ' || current_user || ' owns', ''\n" \
	"    WHERE session_user <> current_user AND EXISTS (SELECT 1 FROM me)\n" \
	"  UNION ALL SELECT DISTINCT 22, 'warn', 'member-of', 'role', g.rolname::text,\n" \
	"    " ROLENAME " || ' is a member of it'\n" \
	"      || CASE WHEN g.rolsuper THEN ' (a superuser)' ELSE '' END\n" \
	"      || '; the drop leaves its objects alone', ''\n" \
	"  FROM pg_auth_members m JOIN pg_roles g ON g.oid = m.roleid WHERE m.member = " ME "\n" \
	"  UNION ALL SELECT DISTINCT 23, 'warn', 'members', 'role', u.rolname::text,\n" \
	"    'is a member of ' || " ROLENAME " || ' and can create objects it owns', ''\n" \
	"  FROM pg_auth_members m JOIN pg_roles u ON u.oid = m.member WHERE m.roleid = " ME "\n" \
	"  UNION ALL SELECT 24, 'warn', 'database', 'database', quote_ident(d.datname),\n" \
	"    'also owned by ' || " ROLENAME " || '; DROP OWNED never drops a database', ''\n" \
	"  FROM pg_database d WHERE d.datdba = " ME " AND d.oid <> (SELECT oid FROM db)\n" \
	"  UNION ALL SELECT 24, 'warn', 'elsewhere', 'database', quote_ident(d.datname),\n" \
	"    " ROLENAME " || ' owns ' || count(*) || ' objects there; the drop leaves them', ''\n" \
	"  FROM shared_dep s JOIN pg_database d ON d.oid = s.dbid\n" \
	"  WHERE s.deptype = 'o' AND s.dbid <> (SELECT oid FROM db) GROUP BY d.datname\n" \
	"  UNION ALL SELECT 25, 'warn', 'tablespace', 'tablespace', quote_ident(t.spcname),\n" \
	"    'owned by ' || " ROLENAME " || '; the drop leaves it', ''\n" \
	"  FROM pg_tablespace t WHERE t.spcowner = " ME "\n" \
	"  UNION ALL SELECT 25, 'warn', 'subscription', i.type, i.identity,\n" \
	"    'owned by ' || " ROLENAME " || '; the drop leaves it', ''\n" \
	"  FROM shared_dep s, pg_identify_object(s.classid, s.objid, 0) i\n" \
	"  WHERE s.classid = 'pg_subscription'::regclass AND s.deptype = 'o'\n" \
	"  UNION ALL SELECT 26, 'warn', 'default-acl', i.type, i.identity,\n" \
	"    'removed by the drop: JupyterHub''s new tables will not get these privileges', ''\n" \
	"  FROM pg_default_acl a, pg_identify_object('pg_default_acl'::regclass, a.oid, 0) i\n" \
	"  WHERE a.defaclrole = " ME "\n" \
	/* Another role's default privileges naming the role: the drop deletes the role's entry. */ \
	"  UNION ALL SELECT 26, 'warn', 'default-acl-of-other', i.type, i.identity,\n" \
	"    'names ' || " ROLENAME " || ', removed by the drop; to restore it: '\n" \
	"      || 'ALTER DEFAULT PRIVILEGES FOR ROLE ' || quote_ident(pg_get_userbyid(a.defaclrole))\n" \
	"      || coalesce(' IN SCHEMA ' || quote_ident(n.nspname), '') || ' GRANT '\n" \
	"      || string_agg(DISTINCT x.privilege_type, ', ') || ' ON '\n" \
	"      || CASE a.defaclobjtype WHEN 'r' THEN 'TABLES' WHEN 'S' THEN 'SEQUENCES'\n" \
	"        WHEN 'f' THEN 'FUNCTIONS' WHEN 'T' THEN 'TYPES' WHEN 'n' THEN 'SCHEMAS'\n" \
	"        ELSE 'LARGE OBJECTS' END || ' TO ' || " QROLE ", ''\n" \
	"  FROM pg_default_acl a CROSS JOIN aclexplode(a.defaclacl) x\n" \
	"  CROSS JOIN pg_identify_object('pg_default_acl'::regclass, a.oid, 0) i\n" \
	"  LEFT JOIN pg_namespace n ON n.oid = a.defaclnamespace\n" \
	"  WHERE a.defaclrole <> " ME " AND x.grantee = " ME "\n" \
	"  GROUP BY a.oid, a.defaclrole, a.defaclobjtype, n.nspname, i.type, i.identity\n" \
	"  UNION ALL SELECT 27, 'warn', 'grant-lost', 'table',\n" \
	"    quote_ident((SELECT nspname FROM pub)) || '.' || quote_ident(j.relname),\n" \
	"    coalesce('role ' || nullif(pg_get_userbyid(a.grantee), '-'), 'PUBLIC') || ' may '\n" \
	"      || string_agg(a.privilege_type, ', ' ORDER BY a.privilege_type)\n" \
	"      || ' it; JupyterHub will recreate it without that grant', ''\n" \
	"  FROM jh_own j JOIN pg_class c ON c.oid = j.oid, aclexplode(c.relacl) a\n" \
	"  WHERE a.grantee <> c.relowner GROUP BY j.relname, a.grantee\n" \
	/* -- what the drop also does -- */ \
	"  UNION ALL SELECT 30, 'info', 'revoke', i.type, i.identity,\n" \
	"    " ROLENAME " || ' holds privileges on it: the drop revokes them if it may '\n" \
	"      || '(a warning if not), the object stays', ''\n" \
	"  FROM shared_dep s, pg_identify_object(s.classid, s.objid, 0) i\n" \
	"  WHERE s.deptype = 'a' AND s.dbid IN (0, (SELECT oid FROM db))\n" \
	/* default privileges and memberships: notices and refusals above */ \
	"    AND s.classid NOT IN ('pg_default_acl'::regclass, 'pg_auth_members'::regclass)\n" \
	"    AND NOT EXISTS (SELECT 1 FROM ours x\n" \
	"      WHERE x.classid = s.classid AND x.objid = s.objid)\n" \
	"    AND NOT EXISTS (SELECT 1 FROM revoke_fails f\n" \
	"      WHERE s.classid = 'pg_class'::regclass AND f.oid = s.objid)\n" \
	"  UNION ALL SELECT 31, 'info', 'legacy-type', 'type',\n" \
	"    quote_ident((SELECT nspname FROM pub)) || '.granttype',\n" \
	"    'an enum left by JupyterHub before 2.0; the drop removes it', '' FROM legacy_type\n" \
	"  UNION ALL SELECT 32, 'info', 'session', 'session', a.pid::text,\n" \
	"    coalesce(nullif(a.application_name, ''), 'no application name') || ', '\n" \
	"      || coalesce(a.state, 'unknown state') || ': disconnected by the drop',\n" \
	"    coalesce(host(a.client_addr), 'local')\n" \
	"  FROM pg_stat_activity a WHERE a.usename = current_user AND EXISTS (SELECT 1 FROM me)\n" \
	"    AND a.datname = current_database() AND a.pid <> pg_backend_pid())\n"

#define CTES CTE_BASE CTE_OWNED CTE_DEPENDENT CTE_EFFECTS CTE_ROWS

/* A field made safe for one line of psql's unaligned output (see db-sql.h). */
#define ESC(x) \
	"replace(replace(replace(replace(coalesce(" x ", ''), chr(92), chr(92) || chr(92)), " \
	"chr(9), chr(92) || 't'), chr(10), chr(92) || 'n'), chr(13), chr(92) || 'r')"
#define TAB " || chr(9) || "

static const char check_sql[] =
	"SET search_path = pg_catalog, pg_temp;\n"
	/* A lock someone holds makes the check fail in time, never hang. */
	"SET lock_timeout = '" DB_LOCK_TIMEOUT "';\n"
	"SET statement_timeout = '" DB_STATEMENT_TIMEOUT "';\n"
	CTES
	"SELECT line FROM (\n"
	"  SELECT ord, f1, f2, f3, kind" TAB ESC("f1") TAB ESC("f2") TAB ESC("f3") TAB
	ESC("f4") TAB ESC("f5") " AS line FROM r\n"
	/* The last line says how many came before it: a cut-off output shows. */
	"  UNION ALL SELECT 99, '', '', '', 'end' || chr(9) || count(*) || repeat(chr(9), 4)\n"
	"  FROM r) z\n"
	"ORDER BY ord, f1 COLLATE \"C\", f2 COLLATE \"C\", f3 COLLATE \"C\";\n";

/*
 * The drop re-checks inside its own transaction, so what the operator saw
 * in the plan still holds at the moment of the drop (an object created since
 * makes it refuse).  lock_timeout: the hub may hold locks; its sessions are
 * disconnected first, and a lock that is still not granted fails the whole
 * transaction instead of waiting for ever.
 */
static const char drop_sql[] =
	"BEGIN;\n"
	"SET LOCAL search_path = pg_catalog, pg_temp;\n"
	"SET LOCAL lock_timeout = '" DB_DROP_LOCK_TIMEOUT "';\n"
	"SET LOCAL statement_timeout = '" DB_STATEMENT_TIMEOUT "';\n"
	"DO $kubectl_nublado$\n"
	"DECLARE\n"
	"  n bigint;\n"
	"  why text;\n"
	"BEGIN\n"
	"  SELECT count(*), string_agg(t, '; ') INTO n, why FROM (\n"
	CTES
	"    SELECT f2 || ' ' || f3 || ': ' || f4 AS t FROM r WHERE kind = 'refuse'\n"
	"    ORDER BY ord, f2 COLLATE \"C\", f3 COLLATE \"C\" LIMIT 20) q;\n"
	"  IF n > 0 THEN\n"
	"    RAISE EXCEPTION USING ERRCODE = 'dependent_objects_still_exist',\n"
	"      MESSAGE = '" DB_DROP_REFUSAL "' || why;\n"
	"  END IF;\n"
	"END\n"
	"$kubectl_nublado$;\n"
	"SELECT count(pg_terminate_backend(a.pid)) FROM pg_stat_activity a\n"
	"  WHERE a.usename = current_user AND a.datname = current_database()\n"
	"    AND a.pid <> pg_backend_pid();\n"
	"DROP OWNED BY current_user;\n"
	"COMMIT;\n";

char *
db_sql_compact(const char *sql)
{
	struct buf b = BUF_INIT;
	const char *p = sql;
	bool space = false;

	while (*p != '\0') {
		if (*p == ' ' || *p == '\t' || *p == '\n' || *p == '\r') {
			space = b.len > 0;
			p++;
			continue;
		}
		if (p[0] == '-' && p[1] == '-') {
			p += strcspn(p, "\n");
			space = b.len > 0;
			continue;
		}
		/* One space, except just inside parentheses. */
		if (space && *p != ')' && b.data[b.len - 1] != '(')
			buf_puts(&b, " ");
		space = false;
		if (*p == '\'' || *p == '"') {
			/* A quoted literal or identifier, doubled quotes included. */
			const char *q = p + 1;
			char quote = *p;

			for (;;) {
				q += strcspn(q, (char[]){ quote, '\0' });
				if (*q == '\0')
					break;
				if (q[1] == quote) {
					q += 2;
					continue;
				}
				q++;
				break;
			}
			buf_append(&b, p, (size_t)(q - p));
			p = q;
			continue;
		}
		if (*p == '$') {
			/* $tag$ ... $tag$: PL/pgSQL inside is compacted on its own terms. */
			size_t n = 1 + strspn(p + 1, "abcdefghijklmnopqrstuvwxyz_");

			if (p[n] == '$') {
				char *tag = xstrndup(p, n + 1);
				const char *end = strstr(p + n + 1, tag);

				if (end != NULL) {
					char *body = xstrndup(p + n + 1, (size_t)(end - p - n - 1));
					char *inner = db_sql_compact(body);

					buf_puts(&b, tag);
					buf_puts(&b, inner);
					buf_puts(&b, tag);
					p = end + n + 1;
					free(inner);
					free(body);
					free(tag);
					continue;
				}
				free(tag);
			}
		}
		buf_append(&b, p, 1);
		p++;
	}
	return buf_detach(&b);
}

static char *check_compact, *drop_compact;

const char *
db_check_sql(void)
{
	if (check_compact == NULL)
		check_compact = db_sql_compact(check_sql);
	return check_compact;
}

const char *
db_drop_sql(void)
{
	if (drop_compact == NULL)
		drop_compact = db_sql_compact(drop_sql);
	return drop_compact;
}

void
db_sql_ident(struct buf *b, const char *s)
{
	buf_puts(b, "\"");
	for (; *s != '\0'; s++) {
		if (*s == '"')
			buf_puts(b, "\"");
		buf_append(b, s, 1);
	}
	buf_puts(b, "\"");
}

void
db_sql_literal(struct buf *b, const char *s)
{
	buf_puts(b, "'");
	for (; *s != '\0'; s++) {
		if (*s == '\'')
			buf_puts(b, "'");
		buf_append(b, s, 1);
	}
	buf_puts(b, "'");
}
