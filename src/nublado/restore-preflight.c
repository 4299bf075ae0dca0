/* restore-preflight.c: restore-db step 1: the backup, the database, and whether one fits the other */
#include <stdlib.h>
#include <string.h>

#include "../util/exitcode.h"
#include "../util/jsonout.h"
#include "../util/xalloc.h"
#include "backup-sql.h"
#include "dburl.h"
#include "hub.h"
#include "restore.h"

#define QUERY_TIMEOUT_MS (120 * 1000L)

/* alembic_version's rows as the backup file spells them: sorted, ','-joined. */
static char *
target_revision(const struct db_check *c)
{
	struct buf b = BUF_INIT;
	size_t n = strv_len(c->alembic);
	char **v = xcalloc(n + 1, sizeof *v);

	for (size_t i = 0; i < n; i++)
		v[i] = c->alembic[i];
	for (size_t i = 1; i < n; i++)	/* a handful of rows: insertion sort */
		for (size_t k = i; k > 0 && strcmp(v[k - 1], v[k]) > 0; k--) {
			char *t = v[k];

			v[k] = v[k - 1];
			v[k - 1] = t;
		}
	for (size_t i = 0; i < n; i++)
		buf_printf(&b, "%s%s", i ? "," : "", v[i]);
	free(v);
	return n > 0 ? buf_detach(&b) : (buf_free(&b), NULL);
}

/* Which JupyterHub a revision string means (db_jupyterhub_version's words). */
static const char *
revision_version(const char *rev)
{
	struct db_check c = { 0 };
	char *one[] = { (char *)rev, NULL };

	if (rev == NULL || strchr(rev, ',') != NULL)
		return "unknown";
	c.alembic = one;
	c.n_tables = 1;
	return db_jupyterhub_version(&c);
}

/* e (already set) becomes a refusal: nothing was changed, exit 3. */
static int
refused(struct err *e, const char *hint)
{
	err_hint(e, "%s", hint);
	e->exit = EXIT_REFUSED;
	return -1;
}

static int
preflight_inspect(struct run *rn, void *st, struct err *e)
{
	struct restore *r = st;
	char *have = NULL, *edges = NULL, *sql;
	char **names = NULL;
	int rc;

	if (r->completed != 0 && !r->again)
		return 0;	/* the plan says it is done */
	if (backup_file_load(r->file, &r->backup, e) < 0) {
		e->exit = EXIT_REFUSED;
		return err_prefix(e, "backup");
	}
	r->loaded = true;
	if (hub_find_pod_to_exec(rn->n, r->pod_name, &r->pod, e) < 0) {
		/* After the rows went in the hub may be mid-restart: finishing that is the job. */
		if (r->restored == 0)
			return -1;
		err_clear(e);
	}
	if (dburl_resolve(rn->n, r->db_url, &r->url, &r->url_source, e) < 0)
		return -1;
	if (r->restored != 0 || r->pod == NULL)
		return 0;	/* r->pod NULL: dry run, no hub container to run psql in */
	if (db_check_run(rn->n, r->pod, r->url, &r->target, e) < 0)
		return -1;
	r->checked = true;
	if (r->target.n_tables == 0) {
		if (r->backup.kind == DB_BACKUP_PSQL) {
			err_set(e, "database '%s' has no JupyterHub tables, and a psql backup holds "
			    "rows only", r->target.database ? r->target.database : "?");
			return refused(e, "restart the hub (kubectl nublado restart-hub) so "
			    "JupyterHub creates its schema, then run restore-db again");
		}
		r->full = true;	/* pg_dump's file makes the tables as well */
		return 0;
	}
	if (r->target.schema != NULL && strcmp(r->target.schema, "public") != 0) {
		err_set(e, "JupyterHub's tables are in schema '%s': restore-db handles schema "
		    "'public' only", r->target.schema);
		return refused(e, "restore by hand with psql into that schema");
	}
	have = target_revision(&r->target);
	if ((r->backup.revision == NULL) != (have == NULL) ||
	    (have != NULL && strcmp(have, r->backup.revision) != 0)) {
		err_set(e, "the backup is of JupyterHub schema revision %s (JupyterHub %s); the "
		    "database is at %s (JupyterHub %s)",
		    r->backup.revision ? r->backup.revision : "none",
		    revision_version(r->backup.revision), have ? have : "none",
		    revision_version(have));
		free(have);
		return refused(e, "restore into a database at the backup's revision: run the "
		    "JupyterHub version that took it, or restore a pg_dump backup into an "
		    "empty database");
	}
	free(have);
	for (size_t i = 0; i < r->backup.n_tables; i++) {
		if (db_check_rows(&r->target, r->backup.tables[i].name) < 0) {
			strv_free(names);
			err_set(e, "table '%s' of the backup is not in database '%s'",
			    r->backup.tables[i].name, r->target.database ? r->target.database : "?");
			return refused(e, "the database's schema is not the one the backup was "
			    "taken from");
		}
		names = strv_push(names, r->backup.tables[i].name);
	}
	/* Rows load parents first: the database's foreign keys say in which order. */
	sql = backup_fk_sql("public");
	rc = db_psql_script(rn->n, r->pod, r->url, sql, false, QUERY_TIMEOUT_MS, &edges, e);
	free(sql);
	if (rc < 0) {
		strv_free(names);
		return err_prefix(e, "reading the tables' foreign keys");
	}
	r->order = backup_order(names, edges);
	strv_free(names);
	free(edges);
	return 0;
}

static int
preflight_plan(struct run *rn, void *st, struct buf *out, bool *empty, struct err *e)
{
	struct restore *r = st;
	json_object *j = json_object_new_object();
	char when[64];

	*empty = true;
	if (r->completed != 0 && !r->again) {
		strftime(when, sizeof when, "%Y-%m-%d %H:%M:%S UTC", gmtime(&r->completed));
		buf_printf(out, "  %s was already restored at %s\n"
		    "    to restore it once more, run again with --again\n", r->file, when);
		json_object_put(j);
		report_add(&rn->report, "alreadyCompleted",
		    json_object_new_int64(r->completed));
		return 0;
	}
	buf_printf(out, "  backup %s: %s, %zu tables, %lld rows, JupyterHub revision %s\n",
	    r->file, r->backup.kind == DB_BACKUP_PSQL ? "psql (rows only)" : "pg_dump",
	    r->backup.n_tables, backup_file_rows(&r->backup),
	    r->backup.revision ? r->backup.revision : "none");
	hub_plan_pod(rn->n, r->pod, out);
	buf_printf(out, "  database %s (from %s)\n", r->url, r->url_source);
	json_object_object_add(j, "backup", json_object_new_string(r->file));
	json_object_object_add(j, "kind",
	    json_object_new_string(db_backup_kind_name(r->backup.kind)));
	json_object_object_add(j, "tables", json_object_new_int64((int64_t)r->backup.n_tables));
	json_object_object_add(j, "rows", json_object_new_int64(backup_file_rows(&r->backup)));
	json_object_object_add(j, "revision", json_str_or_null(r->backup.revision));
	json_object_object_add(j, "database", json_object_new_string(r->url));
	json_object_object_add(j, "mode", json_object_new_string(r->restored ? "resume" :
	    r->full ? "full" : "rows"));
	report_add(&rn->report, "restore", j);
	return 0;
}

static void
preflight_reset(void *st)
{
	struct restore *r = st;

	if (r->loaded)
		backup_file_clear(&r->backup);
	if (r->checked)
		db_check_clear(&r->target);
	free(r->pod);
	free(r->url);
	free(r->url_source);
	strv_free(r->order);
	r->pod = r->url = r->url_source = NULL;
	r->order = NULL;
	r->loaded = r->checked = r->full = false;
}

const struct step_ops restore_preflight_ops = {
	.name = "preflight", .title = "check the backup against the database",
	.inspect = preflight_inspect, .plan = preflight_plan, .apply = run_nothing,
	.wait = run_nothing, .reset = preflight_reset,
};
