/* restore.c: restore-db's steps: check the backup against the database, put it back, restart the hub */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "../util/exitcode.h"
#include "../util/jsonout.h"
#include "../util/log.h"
#include "../util/sig.h"
#include "../util/statedir.h"
#include "../util/xalloc.h"
#include "backup-sql.h"
#include "dburl.h"
#include "hub.h"
#include "restore.h"
#include "rollout.h"

/* A restore finished this recently is not repeated without --again. */
#define RECENT_SECONDS (6 * 3600)
#define RESTORE_TIMEOUT_MS (60 * 60 * 1000L)
#define QUERY_TIMEOUT_MS (120 * 1000L)

void
restore_clear(struct restore *r)
{
	if (r->loaded)
		backup_file_clear(&r->backup);
	if (r->checked)
		db_check_clear(&r->target);
	free(r->pod);
	free(r->old_pod);
	free(r->url);
	free(r->url_source);
	free(r->journal);
	free(r->journal_backup);
	strv_free(r->order);
	r->pod = r->old_pod = r->url = r->url_source = r->journal = r->journal_backup = NULL;
	r->order = NULL;
	r->loaded = r->checked = false;
}

/* ---- the journal: $STATE/restore.json ---- */

/* The backup's own path, so a journal about another file is not taken for this one. */
static char *
real(const char *path)
{
	char *p = realpath(path, NULL);

	return p != NULL ? p : xstrdup(path);
}

int
restore_journal_load(struct restore *r, const char *state_dir, const char *identity,
    struct err *e)
{
	json_object *j;
	const char *cluster, *file;
	char *mine;

	r->identity = identity;
	r->journal = xasprintf("%s/restore.json", state_dir);
	if (access(r->journal, F_OK) != 0)
		return 0;
	j = json_object_from_file(r->journal);
	if (j == NULL)
		return err_set(e, "cannot read the journal of an earlier restore '%s': %s",
		    r->journal, json_util_get_last_err());
	cluster = jstr(j, "cluster", NULL);
	if (cluster == NULL || strcmp(cluster, identity) != 0) {
		err_set(e, "the journal '%s' is of another cluster (%s), not this one (%s)",
		    r->journal, cluster ? cluster : "none recorded", identity);
		err_hint(e, "move the file away, then run restore-db again");
		e->exit = EXIT_REFUSED;
		json_object_put(j);
		return -1;
	}
	file = jstr(j, "backup", NULL);
	mine = real(r->file);
	if (file != NULL && strcmp(file, mine) == 0) {
		r->journal_backup = xstrdup(file);
		r->started = (time_t)jint(j, 0, "started", NULL);
		r->restored = (time_t)jint(j, 0, "restored", NULL);
		r->restart_issued = (time_t)jint(j, 0, "restartIssued", NULL);
		r->completed = (time_t)jint(j, 0, "completed", NULL);
	} else if (file != NULL && jint(j, 0, "restored", NULL) != 0 &&
	    jint(j, 0, "completed", NULL) == 0) {
		log_warn("an earlier restore of %s was interrupted after its rows went in; "
		    "this run restores %s instead", file, mine);
	}
	free(mine);
	json_object_put(j);
	if (r->completed != 0 && (r->again || time(NULL) - r->completed > RECENT_SECONDS))
		r->started = r->restored = r->restart_issued = r->completed = 0;
	return 0;
}

int
restore_journal_save(const struct restore *r, struct err *e)
{
	json_object *j = json_object_new_object();
	char *file = real(r->file);
	const char *text;
	int rc;

#define PUT(k, v) if (v) json_object_object_add(j, k, json_object_new_int64((int64_t)(v)))
	PUT("started", r->started);
	PUT("restored", r->restored);
	PUT("restartIssued", r->restart_issued);
	PUT("completed", r->completed);
#undef PUT
	json_object_object_add(j, "backup", json_object_new_string(file));
	json_object_object_add(j, "cluster", json_object_new_string(r->identity));
	text = json_object_to_json_string_ext(j, JSON_C_TO_STRING_PRETTY);
	rc = file_write_atomic(r->journal, text, strlen(text), e);
	if (rc < 0)
		err_prefix(e, "cannot write the restore journal");
	json_object_put(j);
	free(file);
	return rc;
}

/* ---- preflight: the backup, the database, and whether one fits the other ---- */

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
preflight_inspect(struct step_ctx *c, void **state, struct err *e)
{
	struct restore *r = c->restore;
	char *have = NULL, *edges = NULL, *sql;
	char **names = NULL;
	int rc;

	*state = r;
	if (r->completed != 0 && !r->again)
		return 0;	/* the plan says it is done */
	if (backup_file_load(r->file, &r->backup, e) < 0) {
		e->exit = EXIT_REFUSED;
		return err_prefix(e, "backup");
	}
	r->loaded = true;
	c->n->dry_run = c->dry_run;	/* no temporary psql pod in a dry run (hubpod.h) */
	if (hub_find_pod_to_exec(c->n, r->pod_name, &r->pod, e) < 0) {
		/* After the rows went in the hub may be mid-restart: finishing that is the job. */
		if (r->restored == 0)
			return -1;
		err_clear(e);
	}
	if (dburl_resolve(c->n, r->db_url, &r->url, &r->url_source, e) < 0)
		return -1;
	if (r->restored != 0 || r->pod == NULL)
		return 0;	/* r->pod NULL: dry run, no hub container to run psql in */
	if (db_check_run(c->n, r->pod, r->url, &r->target, e) < 0)
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
	rc = db_psql_script(c->n, r->pod, r->url, sql, false, QUERY_TIMEOUT_MS, &edges, e);
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
preflight_plan(struct step_ctx *c, void *state, struct buf *out, bool *empty, struct err *e)
{
	struct restore *r = state;
	json_object *j = json_object_new_object();
	char when[64];

	*empty = true;
	if (r->completed != 0 && !r->again) {
		strftime(when, sizeof when, "%Y-%m-%d %H:%M:%S UTC", gmtime(&r->completed));
		buf_printf(out, "  %s was already restored at %s\n"
		    "    to restore it once more, run again with --again\n", r->file, when);
		json_object_put(j);
		json_object_object_add(c->report, "alreadyCompleted",
		    json_object_new_int64(r->completed));
		return 0;
	}
	buf_printf(out, "  backup %s: %s, %zu tables, %lld rows, JupyterHub revision %s\n",
	    r->file, r->backup.kind == DB_BACKUP_PSQL ? "psql (rows only)" : "pg_dump",
	    r->backup.n_tables, backup_file_rows(&r->backup),
	    r->backup.revision ? r->backup.revision : "none");
	buf_printf(out, "  hub pod %s; database %s (from %s)\n", r->pod ? r->pod : "(none Ready)",
	    r->url, r->url_source);
	json_object_object_add(j, "backup", json_object_new_string(r->file));
	json_object_object_add(j, "kind",
	    json_object_new_string(db_backup_kind_name(r->backup.kind)));
	json_object_object_add(j, "tables", json_object_new_int64((int64_t)r->backup.n_tables));
	json_object_object_add(j, "rows", json_object_new_int64(backup_file_rows(&r->backup)));
	json_object_object_add(j, "revision", r->backup.revision ?
	    json_object_new_string(r->backup.revision) : NULL);
	json_object_object_add(j, "database", json_object_new_string(r->url));
	json_object_object_add(j, "mode", json_object_new_string(r->restored ? "resume" :
	    r->full ? "full" : "rows"));
	json_object_object_add(c->report, "restore", j);
	return 0;
}

static int
nothing(struct step_ctx *c, void *state, struct err *e)
{
	return 0;
}

static void
no_free(void *state)
{
}

const struct step step_restore_preflight = {
	.name = "preflight", .title = "check the backup against the database",
	.inspect = preflight_inspect, .plan = preflight_plan, .apply = nothing,
	.wait = nothing, .result = NULL, .free = no_free,
};

/* ---- restore and restart: one critical section ---- */

static int
restore_inspect(struct step_ctx *c, void **state, struct err *e)
{
	*state = c->restore;
	return 0;
}

static int
restore_plan(struct step_ctx *c, void *state, struct buf *out, bool *empty, struct err *e)
{
	struct restore *r = state;

	*empty = r->completed != 0 && !r->again;
	if (*empty)
		return 0;
	if (r->restored != 0) {
		buf_printf(out, "  the rows went in on an earlier run; %s the hub\n",
		    r->restart_issued ? "wait for" : "restart");
		return 0;
	}
	if (r->full)
		buf_printf(out, "  the database has no JupyterHub tables: replay the whole pg_dump "
		    "file (tables and rows) in one transaction\n");
	else
		buf_printf(out, "  REPLACE the %lld rows the JupyterHub tables hold now with the "
		    "backup's, in one transaction: the hub's sessions are cut and the tables "
		    "locked until it commits\n", db_check_total_rows(&r->target));
	buf_printf(out, "  compare every table with the backup, then at once restart "
	    "deployment/%s\n", HUB_DEPLOYMENT);
	return 0;
}

/* Every table as the backup has it?  0 yes, -1 no (or unknown) with e saying why. */
static int
compare(struct step_ctx *c, struct restore *r, struct err *e)
{
	char *script = backup_file_dump_script(&r->backup), *out = NULL;
	int rc;

	rc = db_psql_script(c->n, r->pod, r->url, script, false, RESTORE_TIMEOUT_MS, &out, e);
	free(script);
	if (rc == 0)
		rc = backup_file_compare(&r->backup, out, e);
	free(out);
	return rc;
}

static int
restore_apply(struct step_ctx *c, void *state, struct err *e)
{
	struct restore *r = state;
	struct err ve, re;
	char stamp[32];
	bool mismatch = false;

	if (c->dry_run)
		return 0;
	err_clear(&ve);
	if (r->restored == 0) {
		char *script = r->full ? xstrdup(r->backup.text) :
		    backup_file_restore_script(&r->backup, r->order);
		int rc;

		/* Until the restart is sent, Ctrl-C waits: new rows under the old hub's memory. */
		sig_defer(true);
		err_clear(&re);
		r->t_restore = now_ms();
		rc = db_psql_script(c->n, r->pod, r->url, script, r->full, RESTORE_TIMEOUT_MS,
		    NULL, &re);
		free(script);
		if (rc < 0 && re.reason != NULL && strcmp(re.reason, "Unknown") == 0 &&
		    compare(c, r, &ve) == 0) {
			log_warn("the restore's answer was lost (%s), but every table holds the "
			    "backup's rows: it committed", re.msg);
			rc = 0;
		}
		if (rc < 0) {
			sig_defer(false);
			*e = re;
			err_prefix(e, "restore failed");
			if (e->hint[0] == '\0')
				err_hint(e, "the restore runs in one transaction: %s; fix the cause and "
				    "run restore-db again", re.reason ? "whether it committed is "
				    "unknown, look with `kubectl nublado status`" : "nothing was changed");
			return -1;
		}
		r->restored = time(NULL);
		(void)restore_journal_save(r, &re);
		err_clear(&ve);
		if (compare(c, r, &ve) < 0)
			mismatch = true;
		else
			r->verified = true;
	}
	if (r->restart_issued == 0) {
		free(r->old_pod);
		r->old_pod = r->pod ? xstrdup(r->pod) : NULL;
		if (rollout_restart(c->n, HUB_DEPLOYMENT, false, stamp, e) < 0) {
			sig_defer(false);
			err_prefix(e, "THE ROWS WERE RESTORED but the hub restart failed");
			err_hint(e, "restart the hub now: kubectl nublado restart-hub -y");
			return -1;
		}
		r->restart_issued = time(NULL);
		(void)restore_journal_save(r, e);
	}
	sig_defer(false);
	if (mismatch) {
		*e = ve;
		err_prefix(e, "the restored database does not match the backup (the hub was "
		    "restarted)");
		err_hint(e, "look with `kubectl nublado psql`; run restore-db --again to load the "
		    "backup once more");
		return -1;
	}
	return 0;
}

static int
restore_wait(struct step_ctx *c, void *state, struct err *e)
{
	struct restore *r = state;
	char *pod = NULL;

	if (c->dry_run)
		return 0;
	/* A new hub pod, Ready: the old one's memory of the database is gone. */
	if (hub_wait_replaced(c->n, r->old_pod, c->timeout_ms, c->tty,
	    "waiting for the restarted hub", &pod, e) < 0)
		return -1;
	free(r->pod);
	r->pod = pod;
	r->t_ready = now_ms();
	return 0;
}

static void
restore_result(struct step_ctx *c, void *state, struct buf *out)
{
	struct restore *r = state;

	buf_printf(out, "restored %lld rows into %zu tables%s; hub %s is Ready",
	    backup_file_rows(&r->backup), r->backup.n_tables,
	    r->verified ? ", every table equal to the backup" : "", r->pod ? r->pod : "?");
	json_object_object_add(c->report, "verified", json_object_new_boolean(r->verified));
}

const struct step step_restore = {
	.name = "restore", .title = "restore the database and restart the hub",
	.inspect = restore_inspect, .plan = restore_plan, .apply = restore_apply,
	.wait = restore_wait, .result = restore_result, .free = no_free,
};

void
restore_summary(const struct restore *r, struct step_ctx *c)
{
	double total = (double)(now_ms() - r->t_start) / 1000.0;

	step_say(c, "\nSummary: restored %s into the JupyterHub database on context '%s' in "
	    "%.1fs", r->file, c->n->cfg->context, total);
	if (c->blocked_ms && c->unblocked_ms)
		step_say(c, "  users were locked out for %.1fs", (double)(c->unblocked_ms -
		    c->blocked_ms) / 1000.0);
	json_object_object_add(c->report, "seconds", json_object_new_double(total));
}
