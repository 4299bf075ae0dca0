/* db.h: the JupyterHub database: ownership check, backup, drop, schema check (in the hub pod) */
#ifndef NUB_DB_H
#define NUB_DB_H

#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>
#include <time.h>

#include <json-c/json.h>

#include "../util/err.h"
#include "db-sql.h"
#include "nub.h"

/*
 * One line of the check: a reason to refuse, a notice (`warnings'), or something the
 * drop also does.  `type' and `name' are PostgreSQL's own words for the
 * object ("table", "public.notes"; "role", "nublado"; "pod", "pg_dump").
 */
struct db_reason {
	char *code;		/* "superuser", "owned", "dependent", ... (see db-sql.c) */
	char *type;
	char *name;
	char *detail;		/* "owned by other, depends on table public.users" */
	char *extra;		/* rarely used (a session's client address), or "" */
};

struct db_table {
	char *name;		/* "users" (schema public) */
	long long rows;
};

struct db_check {
	char *database;		/* current_database() */
	char *role;		/* current_user: whose objects DROP OWNED takes */
	char *session_user;
	char *schema;		/* where JupyterHub's tables are: "public" mostly */
	int server_version;	/* server_version_num: 150004 */
	bool superuser, createrole, bypassrls, createdb;

	struct db_reason *refusals;
	size_t n_refusals;
	struct db_reason *warnings;
	size_t n_warnings;
	struct db_reason *infos;
	size_t n_infos;

	struct db_table *tables;	/* the JupyterHub tables the role owns, by name */
	size_t n_tables;
	char **alembic;			/* alembic_version rows (NULL-terminated, maybe empty) */

	/* From the pod (db_preflight), not from the SQL: "psql (PostgreSQL) 15.4". */
	char *psql_version;
	char *pg_dump_version;
};

/*
 * Parse the check's output (db_check_sql(), psql -A -t) into *out (zeroed
 * first; free with db_check_clear).  Strict: every line must be one of the
 * documented kinds with six fields, and the final `end N' must count them;
 * anything else is an error (a cut-off or foreign output is never read as
 * "no reasons").
 */
int db_check_parse(const char *psql_output, struct db_check *out, struct err *e);
void db_check_clear(struct db_check *c);

/* No reason to refuse. */
bool db_check_ok(const struct db_check *c);
/* Add a reason to refuse found outside the SQL (the pod's tools). */
void db_check_refuse(struct db_check *c, const char *code, const char *type,
    const char *name, const char *detail);
/* Add a notice: worth saying, no reason to refuse. */
void db_check_notice(struct db_check *c, const char *code, const char *type,
    const char *name, const char *detail);
/* The rows of table `name', or -1 when the role owns no such table. */
long long db_check_rows(const struct db_check *c, const char *name);
/* The sum over the JupyterHub tables. */
long long db_check_total_rows(const struct db_check *c);

/*
 * Which JupyterHub made the schema: "5.x", "5.0-dev", "4.0-4.1", "3.0-3.1" from the
 * alembic revision when known, else from the tables ("5.x" with shares,
 * "3.x-4.x" without), "none" without any JupyterHub table.  Static string.
 */
const char *db_jupyterhub_version(const struct db_check *c);

/*
 * For people: what was checked, then each reason to refuse naming its
 * object, the warnings, and what the drop also does (info only with
 * verbose).  Each line starts with `indent'.
 */
void db_check_print(const struct db_check *c, FILE *f, const char *indent, bool verbose);
/* For -o json: every field above, "ok" included.  Caller puts it. */
json_object *db_check_json(const struct db_check *c);

/*
 * The major version in a tool's --version line ("pg_dump (PostgreSQL)
 * 15.4 (Debian ...)" -> 15, "9.6.24" -> 9), or -1.
 */
int db_tool_major(const char *version_line);

/* ---- in the hub pod (over exec; `url' is a cleaned libpq URL: dburl->url) ---- */

/*
 * Preflight, changing nothing: psql and pg_dump in the pod (pg_dump no
 * older than the server), the database reachable with the pod's password
 * file, and the ownership check.  Returns 0 with *out filled when the check
 * ran, whatever it found (look at db_check_ok); -1 when it could not run.
 * A reason found, or a database psql cannot reach, has e->exit =
 * EXIT_REFUSED when -1 is returned; a refusal found returns 0 (the caller
 * decides).
 */
int db_preflight(struct nub *n, const char *pod, const char *url, struct db_check *out,
    struct err *e);

/*
 * psql in the pod on `script' (sent on stdin, psql -f -, -q -A -t), in one
 * transaction of its own when `single' (psql -1).  0 when psql exited 0,
 * with its output in *out (caller frees; may be NULL to discard); else -1
 * with psql's message (e->reason "Unknown" when the exec connection ended
 * before psql did: whether it committed is then unknown).
 */
int db_psql_script(struct nub *n, const char *pod, const char *url, const char *script,
    bool single, long timeout_ms, char **out, struct err *e);

/*
 * Run the ownership check alone (no tool check): 0 with *out filled, or -1.
 */
int db_check_run(struct nub *n, const char *pod, const char *url, struct db_check *out,
    struct err *e);

/*
 * The default backup directory: the cluster's state directory's backups/
 * (nub_state_dir, created 0700).  Caller frees.
 */
int db_backup_dir(struct nub *n, char **dir, struct err *e);

/*
 * The backup file for `context' at time t in dir: "DIR/nublado-db-CONTEXT-
 * 20261125T133700Z.sql", the context made safe for a file name.  Caller frees.
 */
char *db_backup_path(const char *dir, const char *context, time_t t);

/*
 * Back up the tables the check found (c->tables): pg_dump in the pod
 * (plain SQL, owners and grants kept, only those tables and what belongs to
 * them), streamed to a new file in dir (NULL: db_backup_dir) created
 * O_EXCL, mode 0600.  Verified before returning 0: pg_dump exited 0, the
 * file ends with pg_dump's "dump complete" trailer, and it holds a complete
 * COPY block for every table, whose row counts land in *counts (n_tables
 * entries, may be NULL).  On any failure the partial file is removed.
 * *path_out gets the file (caller frees).  No table to back up: an error.
 */
int db_backup(struct nub *n, const char *pod, const char *url, const struct db_check *c,
    const char *dir, const char *context, char **path_out, long long *counts,
    struct err *e);

/*
 * How the backup is taken: with the pod's pg_dump when it can dump this
 * server (it refuses newer majors: Debian 12's 15 against Cloud SQL's 16),
 * else with psql alone (backup-sql.h).
 */
enum db_backup_kind { DB_BACKUP_PG_DUMP, DB_BACKUP_PSQL };
enum db_backup_kind db_backup_kind(const struct db_check *c);
const char *db_backup_kind_name(enum db_backup_kind k);

/* pg_dump's arguments for that backup (after the program name); strv_free. */
char **db_dump_args(const struct db_check *c, const char *url);

/*
 * Check a plain pg_dump file: the trailer, and a COPY block per table in
 * `tables' (NULL-terminated) with its row count into counts[i] (may be
 * NULL).  For db_backup and for tests.
 */
int db_backup_verify(const char *path, char *const *tables, long long *counts,
    struct err *e);

/*
 * The drop: db_drop_sql() in one psql call, one transaction.  Its own
 * re-check failing, or DROP OWNED refusing because of dependent objects:
 * -1 with e->exit = EXIT_REFUSED and psql's message (nothing changed).  Any
 * other failure: -1, nothing changed either (the transaction rolled back), except
 * a connection lost at the end (e->reason "Unknown": check what is there).
 * A lock not granted in time is tried again, twice.  The role's other
 * sessions in the database (the hub's) are disconnected first, inside the
 * transaction, so a hub idle in a transaction cannot hold the drop up.  Not
 * interruptible by itself: callers wrap it (and the restart) in sig_defer.
 */
int db_drop(struct nub *n, const char *pod, const char *url, struct err *e);

/* alembic_version exists in schema public (JupyterHub recreated its schema). */
int db_schema_present(struct nub *n, const char *pod, const char *url, bool *present,
    struct db_check *after, struct err *e);

#endif
