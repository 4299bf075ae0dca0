/* backup-sql.h: the backup taken with psql alone, where the pod's pg_dump cannot */
#ifndef NUB_BACKUP_SQL_H
#define NUB_BACKUP_SQL_H

/*
 * The first line of such a backup, and its last non-blank line: the check
 * before the drop looks for both (pg_dump's own are in db.c).
 */
#define BACKUP_PSQL_HEADER	"--\n-- kubectl-nublado database backup: psql COPY"
#define BACKUP_PSQL_TRAILER	"-- kubectl-nublado backup complete"

/*
 * The pod's pg_dump is older than the server (Debian 12's 15 against Cloud
 * SQL's 16) or missing: the backup is a psql script, run in the pod with
 * psql -X -q -A -t -v ON_ERROR_STOP=1 -f -, whose output IS the backup
 * file: a script psql can replay.  Everything is read in one REPEATABLE READ
 * READ ONLY transaction (one snapshot, as pg_dump's).  The file restores the
 * rows into the schema a JupyterHub of the same alembic revision made: it
 * checks that revision, empties the tables, loads each with COPY (tables in
 * `ordered', parents before the tables whose foreign keys name them), sets
 * the role's sequences, all in one transaction, and ends with the trailer.
 * `schema' holds the tables.  Caller frees.
 */
char *backup_psql_script(const char *schema, char *const *ordered, int has_alembic);

/*
 * The foreign keys between the role's tables in `schema', one
 * "CHILD|PARENT" line each (psql -A -t), for ordering the tables.
 */
char *backup_fk_sql(const char *schema);

/*
 * `tables' ordered so each comes after the tables it references (`edges':
 * backup_fk_sql's output); cycles and self-references keep the input order.
 * A new vector of the same strings (strv_free).
 */
char **backup_order(char *const *tables, const char *edges);

#endif
