/* backup-file.c: reading a wipe-db backup back, and the scripts that restore and compare it */
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "../util/buf.h"
#include "../util/file.h"
#include "../util/xalloc.h"
#include "backup-file.h"
#include "backup-sql.h"
#include "db-sql.h"

#define MARKER "\\kubectl-nublado-table "

void
backup_file_clear(struct backup_file *b)
{
	for (size_t i = 0; i < b->n_tables; i++) {
		free(b->tables[i].name);
		free(b->tables[i].copy_line);
	}
	free(b->tables);
	free(b->path);
	free(b->text);
	free(b->revision);
	strv_free(b->setvals);
	memset(b, 0, sizeof *b);
}

long long
backup_file_rows(const struct backup_file *b)
{
	long long n = 0;

	for (size_t i = 0; i < b->n_tables; i++)
		n += b->tables[i].rows;
	return n;
}

/* The table a COPY line names in schema public, or NULL: pg_dump's and ours. */
static char *
copy_table(const char *line, size_t n)
{
	const char *p;
	size_t l;

	if (n > 12 && strncmp(line, "COPY public.", 12) == 0) {
		p = line + 12;
		l = strcspn(p, " \n");
	} else if (n > 15 && strncmp(line, "COPY \"public\".\"", 15) == 0) {
		p = line + 15;
		l = strcspn(p, "\"\n");
	} else {
		return NULL;
	}
	return l > 0 && p + l <= line + n ? xstrndup(p, l) : NULL;
}

static int
cmp_str(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/* The lines of s[0..n) (each without its newline), sorted: a multiset. */
static char **
sorted_lines(const char *s, size_t n, size_t *count)
{
	char **v = NULL;
	size_t k = 0;

	for (const char *p = s, *end = s + n; p < end;) {
		const char *nl = memchr(p, '\n', (size_t)(end - p));
		size_t l = nl ? (size_t)(nl - p) : (size_t)(end - p);

		v = xrealloc(v, (k + 2) * sizeof *v);
		v[k++] = xstrndup(p, l);
		v[k] = NULL;
		p += l + 1;
	}
	if (k > 1)
		qsort(v, k, sizeof *v, cmp_str);
	*count = k;
	return v;
}

int
backup_file_load(const char *path, struct backup_file *out, struct err *e)
{
	char **names = NULL, **rev = NULL;
	long long *counts = NULL;
	char *p;
	int rc = -1;

	memset(out, 0, sizeof *out);
	out->path = xstrdup(path);
	if (file_read(path, SIZE_MAX, &out->text, &out->len, e) < 0)
		goto fail;
	out->kind = strncmp(out->text, BACKUP_PSQL_HEADER, strlen(BACKUP_PSQL_HEADER)) == 0 ?
	    DB_BACKUP_PSQL : DB_BACKUP_PG_DUMP;
	for (p = out->text; *p != '\0';) {
		char *nl = strchr(p, '\n');
		size_t n = nl ? (size_t)(nl - p) : strlen(p);
		char *name;

		if (n > 26 && strncmp(p, "SELECT pg_catalog.setval(", 25) == 0) {
			char *line = xstrndup(p, n);

			out->setvals = strv_push(out->setvals, line);
			free(line);
		} else if ((name = copy_table(p, n)) != NULL && nl != NULL) {
			struct backup_table *t;
			char *start = nl + 1, *q = start;

			out->tables = xrealloc(out->tables, (out->n_tables + 1) * sizeof *out->tables);
			t = &out->tables[out->n_tables++];
			memset(t, 0, sizeof *t);
			t->name = name;
			t->copy_line = xstrndup(p, n);
			names = strv_push(names, name);
			for (;;) {
				char *l = strchr(q, '\n');

				if (l == NULL)
					break;	/* cut off: db_backup_verify says so below */
				if (l - q == 2 && q[0] == '\\' && q[1] == '.')
					break;
				q = l + 1;
			}
			t->data = start;
			t->data_len = (size_t)(q - start);
			if (strcmp(name, "alembic_version") == 0) {
				size_t k;
				char **lines = sorted_lines(t->data, t->data_len, &k);
				struct buf r = BUF_INIT;

				for (size_t i = 0; i < k; i++)
					buf_printf(&r, "%s%s", i ? "," : "", lines[i]);
				strv_free(lines);
				if (k > 0)
					out->revision = buf_detach(&r);
				buf_free(&r);
			}
			p = strchr(q, '\n') ? strchr(q, '\n') + 1 : q + strlen(q);
			continue;
		}
		p += n;
		if (*p == '\n')
			p++;
	}
	if (out->n_tables == 0) {
		err_set(e, "'%s' holds no table data: not a backup taken by wipe-db", path);
		goto fail;
	}
	counts = xcalloc(out->n_tables + 1, sizeof *counts);
	if (db_backup_verify(path, names, counts, e) < 0)
		goto fail;
	for (size_t i = 0; i < out->n_tables; i++)
		out->tables[i].rows = counts[i];
	rc = 0;
	goto done;
fail:
	backup_file_clear(out);
done:
	strv_free(names);
	strv_free(rev);
	free(counts);
	return rc;
}

static const struct backup_table *
table_named(const struct backup_file *b, const char *name)
{
	for (size_t i = 0; i < b->n_tables; i++)
		if (strcmp(b->tables[i].name, name) == 0)
			return &b->tables[i];
	return NULL;
}

/* "public"."a", "public"."b", ... */
static void
table_list(struct buf *b, char *const *ordered)
{
	for (size_t i = 0; ordered[i] != NULL; i++) {
		buf_puts(b, i ? ", \"public\"." : "\"public\".");
		db_sql_ident(b, ordered[i]);
	}
}

char *
backup_file_restore_script(const struct backup_file *b, char *const *ordered)
{
	struct buf s = BUF_INIT;

	buf_puts(&s, "SET lock_timeout = '30s';\nBEGIN;\n"
	    /* The hub's own sessions: cut, so none holds a lock we wait on. */
	    "SELECT count(pg_catalog.pg_terminate_backend(pid)) FROM pg_catalog.pg_stat_activity "
	    "WHERE usename = current_user AND datname = current_database() "
	    "AND pid <> pg_catalog.pg_backend_pid();\n"
	    "LOCK TABLE ");
	table_list(&s, ordered);
	buf_puts(&s, " IN ACCESS EXCLUSIVE MODE;\n");
	if (b->revision != NULL) {
		buf_puts(&s, "DO $kn$ BEGIN IF (SELECT string_agg(version_num, ',' ORDER BY "
		    "version_num) FROM \"public\".\"alembic_version\") IS DISTINCT FROM ");
		db_sql_literal(&s, b->revision);
		buf_puts(&s, " THEN RAISE EXCEPTION 'kubectl-nublado: the database is not at the "
		    "backup''s JupyterHub schema revision'; END IF; END $kn$;\n");
	}
	buf_puts(&s, "TRUNCATE TABLE ");
	table_list(&s, ordered);
	buf_puts(&s, ";\n");
	for (size_t i = 0; ordered[i] != NULL; i++) {
		const struct backup_table *t = table_named(b, ordered[i]);

		if (t == NULL)
			continue;
		buf_printf(&s, "%s\n", t->copy_line);
		buf_append(&s, t->data, t->data_len);
		buf_puts(&s, "\\.\n");
	}
	for (char **v = b->setvals; v != NULL && *v != NULL; v++)
		buf_printf(&s, "%s\n", *v);
	/* Every table as many rows as the backup holds, or nothing is committed. */
	buf_puts(&s, "DO $kn$ DECLARE n bigint; BEGIN\n");
	for (size_t i = 0; i < b->n_tables; i++) {
		const struct backup_table *t = &b->tables[i];

		buf_puts(&s, "SELECT count(*) INTO n FROM \"public\".");
		db_sql_ident(&s, t->name);
		buf_printf(&s, "; IF n <> %lld THEN RAISE EXCEPTION 'kubectl-nublado: table %%: %% "
		    "rows after loading, the backup has %lld', ", t->rows, t->rows);
		db_sql_literal(&s, t->name);
		buf_puts(&s, ", n; END IF;\n");
	}
	buf_puts(&s, "END $kn$;\nCOMMIT;\n");
	return buf_detach(&s);
}

/* "COPY public.users (a, b) FROM stdin;" -> "COPY public.users (a, b) TO STDOUT;" */
static char *
copy_out(const char *copy_line)
{
	const char *from = strstr(copy_line, " FROM stdin;");
	size_t n = from ? (size_t)(from - copy_line) : strlen(copy_line);

	return xasprintf("%.*s TO STDOUT;", (int)n, copy_line);
}

char *
backup_file_dump_script(const struct backup_file *b)
{
	struct buf s = BUF_INIT;

	buf_puts(&s, "BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY;\n");
	for (size_t i = 0; i < b->n_tables; i++) {
		char *c = copy_out(b->tables[i].copy_line);

		/* The marker cannot be a row: COPY writes a backslash as two. */
		buf_puts(&s, "\\qecho '\\\\kubectl-nublado-table ");
		for (const char *q = b->tables[i].name; *q != '\0'; q++) {
			if (*q == '\'' || *q == '\\')
				buf_puts(&s, "\\");
			buf_append(&s, q, 1);
		}
		buf_printf(&s, "'\n%s\n", c);
		free(c);
	}
	buf_puts(&s, "COMMIT;\n");
	return buf_detach(&s);
}

int
backup_file_compare(const struct backup_file *b, const char *output, struct err *e)
{
	size_t ml = strlen(MARKER);

	for (size_t i = 0; i < b->n_tables; i++) {
		const struct backup_table *t = &b->tables[i];
		char *marker = xasprintf(MARKER "%s\n", t->name);
		const char *start = output ? strstr(output, marker) : NULL, *end;
		char **want, **got;
		size_t nw, ng, k;
		int rc = 0;

		free(marker);
		if (start == NULL)
			return err_set(e, "table %s: not read back after the restore", t->name);
		start = strchr(start, '\n') + 1;
		end = start;
		while (*end != '\0' && strncmp(end, MARKER, ml) != 0)
			end = strchr(end, '\n') ? strchr(end, '\n') + 1 : end + strlen(end);
		want = sorted_lines(t->data, t->data_len, &nw);
		got = sorted_lines(start, (size_t)(end - start), &ng);
		for (k = 0; k < nw && k < ng && strcmp(want[k], got[k]) == 0; k++)
			;
		if (nw != ng || k < nw) {
			rc = err_set(e, "table %s holds %zu rows after the restore, the backup %zu%s",
			    t->name, ng, nw, nw == ng ? ", and they differ" : "");
		}
		strv_free(want);
		strv_free(got);
		if (rc < 0)
			return -1;
	}
	return 0;
}
