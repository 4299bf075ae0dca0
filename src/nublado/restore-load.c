/* restore-load.c: restore-db steps 4 and 5, one critical section: rows in, compared, hub restarted */
#include <stdlib.h>
#include <string.h>

#include "../util/log.h"
#include "../util/sig.h"
#include "../util/xalloc.h"
#include "hub.h"
#include "restore.h"
#include "rollout.h"

#define RESTORE_TIMEOUT_MS (60 * 60 * 1000L)

static int
restore_plan(struct run *rn, void *st, struct buf *out, bool *empty, struct err *e)
{
	struct restore *r = st;

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
compare(struct run *rn, struct restore *r, struct err *e)
{
	char *script = backup_file_dump_script(&r->backup), *out = NULL;
	int rc;

	rc = db_psql_script(rn->n, r->pod, r->url, script, false, RESTORE_TIMEOUT_MS, &out, e);
	free(script);
	if (rc == 0)
		rc = backup_file_compare(&r->backup, out, e);
	free(out);
	return rc;
}

static int
restore_apply(struct run *rn, void *st, struct err *e)
{
	struct restore *r = st;
	struct err ve, re;
	char stamp[32];
	bool mismatch = false;

	if (rn->dry_run)
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
		rc = db_psql_script(rn->n, r->pod, r->url, script, r->full, RESTORE_TIMEOUT_MS,
		    NULL, &re);
		free(script);
		if (rc < 0 && re.reason != NULL && strcmp(re.reason, "Unknown") == 0 &&
		    compare(rn, r, &ve) == 0) {
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
		if (compare(rn, r, &ve) < 0)
			mismatch = true;
		else
			r->verified = true;
	}
	if (r->restart_issued == 0) {
		free(r->old_pod);
		r->old_pod = r->pod ? xstrdup(r->pod) : NULL;
		if (kube_deploy_restart(rn->n->kube, rn->n->ns, HUB_DEPLOYMENT, false, stamp, e) < 0) {
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
restore_wait(struct run *rn, void *st, struct err *e)
{
	struct restore *r = st;
	char *pod = NULL;

	if (rn->dry_run)
		return 0;
	/* A new hub pod, Ready: the old one's memory of the database is gone. */
	if (hub_wait_replaced(rn->n, r->old_pod, rn->timeout_ms, rn->tty,
	    "waiting for the restarted hub", &pod, e) < 0)
		return -1;
	free(r->pod);
	r->pod = pod;
	r->t_ready = now_ms();
	return 0;
}

static void
restore_result(struct run *rn, void *st, struct buf *out)
{
	struct restore *r = st;

	buf_printf(out, "restored %lld rows into %zu tables%s; hub %s is Ready",
	    backup_file_rows(&r->backup), r->backup.n_tables,
	    r->verified ? ", every table equal to the backup" : "", r->pod ? r->pod : "?");
	report_add(&rn->report, "verified", json_object_new_boolean(r->verified));
}

const struct step_ops restore_load_ops = {
	.name = "restore", .title = "restore the database and restart the hub",
	.inspect = run_nothing, .plan = restore_plan, .apply = restore_apply,
	.wait = restore_wait, .result = restore_result, .reset = run_keep,
};
