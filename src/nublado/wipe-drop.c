/* wipe-drop.c: wipe-db steps 5 and 6, one critical section: DROP OWNED, then restart the hub */
#include <stdlib.h>
#include <string.h>

#include "../util/jsonout.h"
#include "../util/log.h"
#include "../util/sig.h"
#include "../util/xalloc.h"
#include "hub.h"
#include "ingress.h"
#include "labs.h"
#include "rollout.h"
#include "wipe.h"

static int
drop_plan(struct run *r, void *st, struct buf *out, bool *empty, struct err *e)
{
	struct wipe *w = st;

	*empty = w->completed != 0 && !w->again;
	if (*empty)
		return 0;
	if (w->dropped != 0) {
		buf_printf(out, "  already dropped by an earlier run; %s the hub and check the new schema\n",
		    w->restart_issued ? "wait for" : "restart");
		return 0;
	}
	if (!w->checked) {
		buf_printf(out, "  DROP OWNED BY the JupyterHub role (not checked in this dry run: no "
		    "hub container to run psql in), then at once restart deployment/%s\n",
		    HUB_DEPLOYMENT);
		return 0;
	}
	buf_printf(out, "  DROP OWNED BY %s in database '%s' (one transaction, the safety check "
	    "re-run inside it)\n", w->check.role ? w->check.role : "?",
	    w->check.database ? w->check.database : "?");
	buf_printf(out, "  then at once restart deployment/%s; JupyterHub recreates its schema\n",
	    HUB_DEPLOYMENT);
	return 0;
}

/* Did a drop whose answer we lost commit?  The JupyterHub tables tell. */
static int
drop_committed(struct run *r, struct wipe *w, bool *committed, struct err *e)
{
	struct db_check after;
	int rc;

	memset(&after, 0, sizeof after);
	rc = db_check_run(r->n, w->pod, w->url, &after, e);
	if (rc == 0) {
		*committed = after.n_tables == 0;
		db_check_clear(&after);
	}
	return rc;
}

static int
drop_apply(struct run *r, void *st, struct err *e)
{
	struct wipe *w = st;
	char stamp[32];
	struct err de;
	bool committed = false;
	int rc = 0;

	if (r->dry_run)
		return 0;
	if (w->dropped == 0) {
		struct labset left;

		/* No lab may outlive its session rows: one made since kill-labs stops us here. */
		if (labs_select(r->n, NULL, &left, e) < 0)
			return err_prefix(e, "looking for labs before the drop");
		if (left.n > 0) {
			err_set(e, "lab namespace %s%s exists: a lab appeared after kill-labs; "
			    "nothing was dropped", left.labs[0].name, left.n > 1 ? " (and more)" : "");
			err_hint(e, "run wipe-db again: kill-labs deletes it first");
			labset_free(&left);
			return -1;
		}
		labset_free(&left);
		/* Still blocked?  Self-heal, or a hand, may have let users back in. */
		{
			struct ingset open;

			if (ingress_find(r->n, &open, e) < 0)
				return err_prefix(e, "looking at access before the drop");
			if (open.n > 0) {
				err_set(e, "access is open again (GafaelfawrIngress %s is back): users "
				    "could reach the hub during the drop; nothing was dropped",
				    jstr(open.items[0], "metadata", "name", NULL));
				err_hint(e, "find what recreated it (Argo CD self-heal?), stop it, then "
				    "run wipe-db again: it blocks access first");
				ingset_free(&open);
				return -1;
			}
			ingset_free(&open);
		}
		/*
		 * From here until the restart PATCH is sent, Ctrl-C waits: a
		 * dropped database under a running hub is the one state we must
		 * never leave behind.
		 */
		sig_defer(true);
		err_clear(&de);
		w->t_drop = now_ms();
		if (db_drop(r->n, w->pod, w->url, &de) == 0) {
			committed = true;
		} else if (de.reason != NULL && strcmp(de.reason, "Unknown") == 0) {
			struct err ce;

			err_clear(&ce);
			if (drop_committed(r, w, &committed, &ce) < 0) {
				/* We cannot tell: restart anyway, the safe side for the hub. */
				log_warn("cannot tell whether the drop committed (%s); restarting "
				    "the hub to be safe", ce.msg);
				committed = true;
				w->drop_unverified = true;
			}
			if (!committed) {
				sig_defer(false);
				*e = de;
				return err_prefix(e, "the drop did not happen");
			}
		} else {
			sig_defer(false);
			*e = de;
			return -1;
		}
		w->dropped = time(NULL);
		wipe_note_blocked(w);
		(void)wipe_journal_save(w, &de);
	}
	if (w->restart_issued == 0) {
		/* The pod the restart replaces: the wait wants a different one. */
		free(w->old_pod);
		w->old_pod = xstrdup(w->pod);
		if (kube_deploy_restart(r->n->kube, r->n->ns, HUB_DEPLOYMENT, false, stamp, e) < 0) {
			sig_defer(false);
			err_prefix(e, "THE DATABASE WAS DROPPED but the hub restart failed");
			err_hint(e, "restart the hub now: kubectl nublado restart-hub -y "
			    "(or kubectl -n %s rollout restart deployment/hub)", r->n->ns);
			return -1;
		}
		w->restart_issued = time(NULL);
		(void)wipe_journal_save(w, e);
	}
	sig_defer(false);
	return rc;
}

static int
drop_wait(struct run *r, void *st, struct err *e)
{
	struct wipe *w = st;
	long long deadline = now_ms() + r->timeout_ms;
	bool present = false, have_after = false;
	struct db_check after;
	char *pod = NULL;

	if (r->dry_run)
		return 0;
	if (rollout_wait(r->n, HUB_DEPLOYMENT, r->timeout_ms, r->tty, e) < 0)
		return -1;
	/* The restarted hub must be Ready and have made its schema again. */
	for (;;) {
		struct err pe;

		err_clear(&pe);
		free(pod);
		pod = NULL;
		if (hub_find_pod(r->n, &pod, &pe) == 0 &&
		    (w->old_pod == NULL || strcmp(pod, w->old_pod) != 0) &&
		    db_schema_present(r->n, pod, w->url, &present, &after, &pe) == 0) {
			if (present) {
				have_after = true;
				break;
			}
			db_check_clear(&after);
		}
		/* Refused credentials do not come back by waiting. */
		if (now_ms() >= deadline || pe.http == 401 || pe.http == 403) {
			free(pod);
			*e = pe;
			if (e->msg[0] == '\0')
				err_set(e, "the restarted hub has not recreated its schema");
			err_prefix(e, "waiting for the new hub");
			if (e->hint[0] == '\0')
				err_hint(e, "look at the hub's log: kubectl -n %s logs deployment/hub",
				    r->n->ns);
			return -1;
		}
		if (!sleep_ms(500)) {
			free(pod);
						return err_set(e, "interrupted while waiting for the new hub");
		}
	}
	free(w->pod);
	w->pod = pod;
	w->t_ready = now_ms();
	if (w->drop_unverified && have_after && w->checked &&
	    db_check_total_rows(&w->check) > 0 &&
	    db_check_total_rows(&after) == db_check_total_rows(&w->check) &&
	    db_check_rows(&after, "users") == db_check_rows(&w->check, "users")) {
		/*
		 * We restarted without knowing whether the drop committed, and
		 * the tables hold exactly the rows they held: it most likely
		 * rolled back.  Say so rather than report a wipe.
		 */
		db_check_clear(&after);
		w->dropped = 0;
		w->restart_issued = 0;
		(void)wipe_journal_save(w, e);
		err_set(e, "the drop's outcome was unknown and the tables still hold the same "
		    "%lld rows: the drop most likely did not happen (the hub was restarted)",
		    db_check_total_rows(&w->check));
		err_hint(e, "check with `kubectl nublado status`, then run wipe-db again");
		return -1;
	}
	if (have_after)
		db_check_clear(&after);
	return 0;
}

static void
drop_result(struct run *r, void *st, struct buf *out)
{
	struct wipe *w = st;

	if (w->t_drop != 0)
		buf_printf(out, "dropped and restarted: hub %s is Ready with a new schema (%.1fs after "
		    "the drop)", w->pod, (double)(w->t_ready - w->t_drop) / 1000.0);
	else	/* an earlier run dropped: its time, from the journal */
		buf_printf(out, "dropped by an earlier run and restarted: hub %s is Ready with a new "
		    "schema (%lds after the drop)", w->pod, (long)(time(NULL) - w->dropped));
}

const struct step_ops wipe_drop_ops = {
	.name = "drop", .title = "drop the JupyterHub tables and restart the hub",
	.inspect = run_nothing, .plan = drop_plan, .apply = drop_apply,
	.wait = drop_wait, .result = drop_result, .reset = run_keep,
};
