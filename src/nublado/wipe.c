/* wipe.c: around wipe-db's runbook: the journal, "already wiped", the resumed question, the summary */
#include <stdlib.h>

#include "../util/log.h"
#include "../util/sig.h"
#include "journal.h"
#include "wipe.h"

void
wipe_clear(struct wipe *w)
{
	free(w->pod);
	free(w->url);
	free(w->url_source);
	free(w->journal);
	free(w->backup);
	free(w->old_pod);
	if (w->checked)
		db_check_clear(&w->check);
	w->pod = w->url = w->url_source = w->journal = w->backup = w->old_pod = NULL;
	w->checked = false;
}

/* The session is open: what did an earlier run do? */
static int
wipe_prepare(struct run *r, struct run_cmd *cmd, struct err *e)
{
	struct wipe *w = cmd->arg;
	const char *id = nub_identity(r->n, e);
	char when[64];

	w->t_start = now_ms();
	if (wipe_journal_load(w, r->state_dir, id, e) < 0)
		return -1;
	if (w->completed != 0) {
		journal_when(w->completed, when, sizeof when);
		run_say(r, "The database on context '%s' was already wiped at %s (backup: %s).\n"
		    "Nothing to do; run with --again to wipe it once more.", r->n->cfg->context,
		    when, w->backup ? w->backup : "none");
		report_add(&r->report, "alreadyCompleted", json_object_new_int64(w->completed));
		return 1;
	}
	/* A resumed run says what is left, not what the first one was about to do. */
	cmd->question = w->dropped != 0 ?
	    "An earlier run already DROPPED the JupyterHub database; this finishes its job." :
	    w->backed_up != 0 ? "An earlier run took the backup; this DROPS the JupyterHub "
	    "database, after blocking users and deleting every lab if needed." :
	    "This blocks all users, deletes every lab, and DROPS the JupyterHub database.";
	return 0;
}

/* Confirmed: the journal exists from before the first change. */
static int
wipe_begin(struct run *r, struct run_cmd *cmd, struct err *e)
{
	struct wipe *w = cmd->arg;

	if (w->started != 0)
		return 0;
	w->started = time(NULL);
	return wipe_journal_save(w, e);
}

static void
wipe_summary(const struct wipe *w, struct run *r)
{
	double total = (double)(now_ms() - w->t_start) / 1000.0;
	double outage = -1;
	long since = w->started ? (long)(time(NULL) - w->started) : 0;
	long long blocked = w->block ? w->block->blocked_ms : 0;
	long long unblocked = w->unblock ? w->unblock->unblocked_ms : 0;

	if (blocked && unblocked)
		outage = (double)(unblocked - blocked) / 1000.0;
	else if (w->blocked_at && unblocked)	/* blocked by an earlier run */
		outage = (double)(time(NULL) - w->blocked_at) -
		    (double)(now_ms() - unblocked) / 1000.0;
	if (since > total + 2)
		run_say(r, "\nSummary: wiped the JupyterHub database on context '%s': this run "
		    "%.1fs, %lds since the first run started", r->n->cfg->context, total, since);
	else
		run_say(r, "\nSummary: wiped the JupyterHub database on context '%s' in %.1fs",
		    r->n->cfg->context, total);
	run_say(r, "  backup:  %s", w->backup ? w->backup : "none (--no-backup)");
	if (outage >= 0)
		run_say(r, "  users were locked out for %.1fs", outage);
	else if (w->keep_blocked)
		run_say(r, "  access stays BLOCKED (--keep-blocked): run `kubectl nublado unblock` "
		    "to let users back in");
	report_add(&r->report, "seconds", json_object_new_double(total));
	if (since > total + 2)
		report_add(&r->report, "secondsSinceFirstRun", json_object_new_int64(since));
	if (outage >= 0)
		report_add(&r->report, "outageSeconds", json_object_new_double(outage));
}

static void
wipe_finish(struct run *r, struct run_cmd *cmd, const struct err *failed)
{
	struct wipe *w = cmd->arg;
	struct err je;

	err_clear(&je);
	if (failed == NULL && w->dropped != 0) {
		w->completed = time(NULL);
		if (wipe_journal_save(w, &je) < 0)
			log_err(&je);
		wipe_summary(w, r);
	} else if (failed != NULL && w->journal != NULL && w->started != 0 &&
	    w->blocked_at == 0 && w->block != NULL && w->block->blocked_ms != 0) {
		/* The run that comes to finish this one reports the whole lockout. */
		wipe_note_blocked(w);
		(void)wipe_journal_save(w, &je);
	}
}

void
wipe_hooks(struct run_cmd *cmd, struct wipe *w)
{
	cmd->prepare = wipe_prepare;
	cmd->begin = wipe_begin;
	cmd->finish = wipe_finish;
	cmd->arg = w;
}
