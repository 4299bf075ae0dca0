/* backup-sql.c: the psql-only backup's script, and the order tables load in */
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "../util/buf.h"
#include "../util/xalloc.h"
#include "backup-sql.h"
#include "db-sql.h"

/* psql's \qecho of one line, the line as a quoted meta-command argument. */
static void
qecho(struct buf *b, const char *line)
{
	buf_puts(b, "\\qecho '");
	for (const char *s = line; *s != '\0'; s++) {
		if (*s == '\'' || *s == '\\')
			buf_puts(b, "\\");
		buf_append(b, s, 1);
	}
	buf_puts(b, "'\n");
}

char *
backup_psql_script(const char *schema, char *const *ordered, int has_alembic)
{
	struct buf b = BUF_INIT, t = BUF_INIT;

	buf_puts(&b,
	    "BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY;\n"
	    "SET LOCAL lock_timeout = '20s';\n");
	qecho(&b, "--");
	qecho(&b, &BACKUP_PSQL_HEADER[3]);
	buf_puts(&b, "SELECT format('-- PostgreSQL %s, database %s, role %s, taken %s UTC', "
	    "current_setting('server_version'), current_database(), current_user, "
	    "to_char(now() AT TIME ZONE 'UTC', 'YYYY-MM-DD HH24:MI:SS'));\n");
	qecho(&b, "-- Rows only, in one REPEATABLE READ snapshot. It restores into the schema");
	qecho(&b, "-- a JupyterHub of the same alembic revision made (a hub restarted on the");
	qecho(&b, "-- wiped database makes it): kubectl nublado restore-db FILE");
	qecho(&b, "--");
	qecho(&b, "\\set ON_ERROR_STOP on");
	qecho(&b, "BEGIN;");
	if (has_alembic) {
		/* The restore refuses a schema of another revision, naming both. */
		buf_puts(&b, "SELECT format($f$DO $do$ BEGIN IF (SELECT string_agg(version_num, ',' "
		    "ORDER BY version_num) FROM ");
		db_sql_ident(&b, schema);
		buf_puts(&b, ".alembic_version) IS DISTINCT FROM %L THEN RAISE EXCEPTION "
		    "'kubectl-nublado: this backup is of JupyterHub schema revision %s, the database "
		    "has another: restart the hub of the same JupyterHub version on it first'; "
		    "END IF; END $do$;$f$, v, v) FROM (SELECT string_agg(version_num, ',' ORDER BY "
		    "version_num) AS v FROM ");
		db_sql_ident(&b, schema);
		buf_puts(&b, ".alembic_version) AS a;\n");
	}
	buf_puts(&t, "TRUNCATE TABLE ");
	for (size_t i = 0; ordered[i] != NULL; i++) {
		if (i > 0)
			buf_puts(&t, ", ");
		db_sql_ident(&t, schema);
		buf_puts(&t, ".");
		db_sql_ident(&t, ordered[i]);
	}
	buf_puts(&t, ";");
	qecho(&b, t.data);
	for (size_t i = 0; ordered[i] != NULL; i++) {
		struct buf rel = BUF_INIT;

		db_sql_ident(&rel, schema);
		buf_puts(&rel, ".");
		db_sql_ident(&rel, ordered[i]);
		/* COPY's own column order, generated columns left out as COPY does. */
		buf_puts(&b, "SELECT format('COPY %s (%s) FROM stdin;', ");
		db_sql_literal(&b, rel.data);
		buf_puts(&b, ", string_agg(quote_ident(attname), ', ' ORDER BY attnum)) "
		    "FROM pg_catalog.pg_attribute WHERE attrelid = ");
		db_sql_literal(&b, rel.data);
		buf_puts(&b, "::regclass AND attnum > 0 AND NOT attisdropped AND attgenerated = '';\n");
		buf_printf(&b, "COPY %s TO STDOUT;\n", rel.data);
		qecho(&b, "\\.");
		buf_free(&rel);
	}
	/* Sequences: where they stood, so new ids do not collide with restored ones. */
	buf_puts(&b, "SELECT format('SELECT pg_catalog.setval(%L, %s, %s);', "
	    "quote_ident(schemaname) || '.' || quote_ident(sequencename), "
	    "coalesce(last_value, start_value), (last_value IS NOT NULL)::text) "
	    "FROM pg_catalog.pg_sequences WHERE sequenceowner = current_user AND schemaname = ");
	db_sql_literal(&b, schema);
	buf_puts(&b, " ORDER BY sequencename;\n");
	qecho(&b, "COMMIT;");
	buf_puts(&b, "COMMIT;\n");
	qecho(&b, "--");
	qecho(&b, BACKUP_PSQL_TRAILER);
	qecho(&b, "--");
	buf_free(&t);
	return buf_detach(&b);
}

char *
backup_fk_sql(const char *schema)
{
	struct buf b = BUF_INIT;

	buf_puts(&b, "SELECT c.relname || '|' || p.relname FROM pg_catalog.pg_constraint k "
	    "JOIN pg_catalog.pg_class c ON c.oid = k.conrelid "
	    "JOIN pg_catalog.pg_class p ON p.oid = k.confrelid "
	    "JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace "
	    "WHERE k.contype = 'f' AND c.relowner = (SELECT oid FROM pg_catalog.pg_roles "
	    "WHERE rolname = current_user) AND n.nspname = ");
	db_sql_literal(&b, schema);
	buf_puts(&b, " ORDER BY 1;\n");
	return buf_detach(&b);
}

/* Whether `edges' says child references parent ("child|parent" lines). */
static bool
references(const char *edges, const char *child, const char *parent)
{
	size_t cl = strlen(child), pl = strlen(parent);

	for (const char *p = edges; p != NULL && *p != '\0';) {
		size_t n = strcspn(p, "\n");

		if (n == cl + 1 + pl && strncmp(p, child, cl) == 0 && p[cl] == '|' &&
		    strncmp(p + cl + 1, parent, pl) == 0)
			return true;
		p += n + (p[n] == '\n');
	}
	return false;
}

char **
backup_order(char *const *tables, const char *edges)
{
	size_t n = strv_len(tables), done = 0;
	bool *placed = xcalloc(n + 1, sizeof *placed);
	char **out = NULL;

	/* Kahn's algorithm, stable: the first table whose parents are all placed goes next. */
	while (done < n) {
		size_t pick = n;

		for (size_t i = 0; i < n && pick == n; i++) {
			bool ready = !placed[i];

			for (size_t j = 0; ready && j < n; j++)
				if (j != i && !placed[j] && references(edges, tables[i], tables[j]))
					ready = false;
			if (ready)
				pick = i;
		}
		if (pick == n)	/* a cycle: the first left, as listed */
			for (pick = 0; placed[pick]; pick++)
				;
		placed[pick] = true;
		out = strv_push(out, tables[pick]);
		done++;
	}
	free(placed);
	if (out == NULL)
		out = xcalloc(1, sizeof *out);
	return out;
}
