/* restore.c: around restore-db's runbook: the journal, "already restored", the summary */
#include <stdlib.h>

#include "../util/log.h"
#include "../util/xalloc.h"
#include "../util/sig.h"
#include "journal.h"
#include "restore.h"

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

static int
restore_prepare(struct run *rn, struct run_cmd *cmd, struct err *e)
{
	struct restore *r = cmd->arg;
	char when[64];

	r->t_start = now_ms();
	if (restore_journal_load(r, rn->state_dir, nub_identity(rn->n, e), e) < 0)
		return -1;
	if (r->completed != 0) {
		journal_when(r->completed, when, sizeof when);
		run_say(rn, "%s was already restored on context '%s' at %s.\n"
		    "Nothing to do; run with --again to restore it once more.", r->file,
		    rn->n->cfg->context, when);
		report_add(&rn->report, "alreadyCompleted", json_object_new_int64(r->completed));
		return 1;
	}
	return 0;
}

static int
restore_begin(struct run *rn, struct run_cmd *cmd, struct err *e)
{
	struct restore *r = cmd->arg;

	if (r->started != 0)
		return 0;
	r->started = time(NULL);
	return restore_journal_save(r, e);
}

static void
restore_finish(struct run *rn, struct run_cmd *cmd, const struct err *failed)
{
	struct restore *r = cmd->arg;
	double total = (double)(now_ms() - r->t_start) / 1000.0;
	long long blocked = r->block ? r->block->blocked_ms : 0;
	long long unblocked = r->unblock ? r->unblock->unblocked_ms : 0;
	struct err je;

	if (failed != NULL || r->restored == 0)
		return;
	err_clear(&je);
	r->completed = time(NULL);
	if (restore_journal_save(r, &je) < 0)
		log_err(&je);
	run_say(rn, "\nSummary: restored %s into the JupyterHub database on context '%s' in "
	    "%.1fs", r->file, rn->n->cfg->context, total);
	if (blocked && unblocked)
		run_say(rn, "  users were locked out for %.1fs", (double)(unblocked - blocked) /
		    1000.0);
	report_add(&rn->report, "seconds", json_object_new_double(total));
}

void
restore_hooks(struct run_cmd *cmd, struct restore *r)
{
	cmd->prepare = restore_prepare;
	cmd->begin = restore_begin;
	cmd->finish = restore_finish;
	cmd->arg = r;
}
