/* db-sql.h: the SQL behind the database steps: the ownership check and the drop */
#ifndef NUB_DB_SQL_H
#define NUB_DB_SQL_H

#include <stddef.h>

/*
 * JupyterHub's tables (5.x; 3.x and 4.x have all but shares and
 * share_codes), all in one schema (public, or the first existing schema
 * of the role's search_path: the check's `server' line says), NULL-terminated, in the order the
 * plan lists them.  The SQL below carries the same list.
 */
extern const char *const db_jupyterhub_tables[];

/*
 * The read-only check, ONE psql -c string (SETs: search_path, lock_timeout
 * and statement_timeout; then one SELECT), for
 *     psql -X -q -A -t -v ON_ERROR_STOP=1 -c SQL
 * It prints one line per fact, six fields separated by tabs, each field with
 * backslash, tab, newline and carriage return escaped as \\ \t \n \r:
 *     server   VERSION_NUM  DATABASE  CURRENT_USER  SESSION_USER  SCHEMA
 *     role     NAME  SUPERUSER  CREATEROLE  BYPASSRLS  CREATEDB   (true/false)
 *     table    NAME  ROWS                  a JupyterHub table the role owns
 *     alembic  REVISION                    each row of alembic_version
 *     refuse   CODE  TYPE  IDENTITY  DETAIL  EXTRA   why DROP OWNED is unsafe
 *     warn     CODE  TYPE  IDENTITY  DETAIL  EXTRA   a notice: worth knowing, not unsafe
 *     info     CODE  TYPE  IDENTITY  DETAIL  EXTRA   what the drop also does
 *     end      N                           N = the number of lines before it
 * (unused fields are empty).  TYPE and IDENTITY are pg_identify_object()'s.
 * SCHEMA is where JupyterHub's tables are (the first existing schema of the
 * role's search_path, else public).  Tested on PostgreSQL 12 to 18; whitespace is compacted (the text travels in
 * the exec request's URL).  Static storage.
 */
const char *db_check_sql(void);

/*
 * The drop, ONE psql -c string: BEGIN; the same conditions as the check,
 * evaluated in a DO block that raises an exception naming the offending
 * objects ("kubectl-nublado: refusing to drop: ...") when any holds;
 * disconnect the role's other sessions in this database (the hub's, which
 * may hold locks); DROP OWNED BY current_user; COMMIT.  Any error rolls it
 * all back.  Static storage.
 */
const char *db_drop_sql(void);

/*
 * Timeouts of the check and the drop (SET inside their SQL): a lock held
 * elsewhere or a slow server fails them in time instead of hanging.
 */
#define DB_LOCK_TIMEOUT "10s"
#define DB_DROP_LOCK_TIMEOUT "20s"
#define DB_STATEMENT_TIMEOUT "120s"

/* The prefix of the drop's own refusal message (in psql's stderr). */
#define DB_DROP_REFUSAL "kubectl-nublado: refusing to drop: "

/*
 * SQL with comments removed and every run of whitespace outside quotes
 * (' " and $tag$) made one space.  Caller frees.
 */
char *db_sql_compact(const char *sql);

struct buf;

/* Append s as a quoted SQL identifier ("...", quotes doubled: quote_ident). */
void db_sql_ident(struct buf *b, const char *s);

/* Append s as a SQL string literal ('...', quotes doubled: quote_literal). */
void db_sql_literal(struct buf *b, const char *s);

#endif
