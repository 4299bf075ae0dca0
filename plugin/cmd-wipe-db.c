/* cmd-wipe-db.c: the runbook "Wipe the JupyterHub database", start to finish */
#include "../src/nublado/steps.h"
#include "../src/nublado/wipe.h"
#include "cmd.h"

struct wipe_db_opts {
	struct run_opts run;
	struct runbook_opts rb;
	const char *backup_dir;
	bool no_backup;
};

#define T struct wipe_db_opts
static const struct opt wipe_db_opts[] = {
	OPT_STR("backup-dir", 0, T, backup_dir, "DIR", "where the backup goes (default: the "
	    "state directory's backups/)", COMPLETE_DIR),
	OPT_BOOL_FLAGS("no-backup", 0, T, no_backup, "drop without a backup (the data is then "
	    "lost)", OPT_DESTRUCTIVE),
	CMD_RUNBOOK_OPTS(T, "wipe once more though a wipe finished recently"),
	CMD_RUN_OPTS(T), OPT_END
};
#undef T

static int
cmd_wipe_db_exec(struct cmd_ctx *ctx, void *opts)
{
	const struct wipe_db_opts *o = opts;
	struct block_step block = { .ignore_self_heal = o->rb.ignore_self_heal };
	struct kill_labs_step labs = { .parallel = o->rb.parallel };
	struct unblock_step unblock = { .after_block = true };
	struct wipe w = {
		.db_url = o->rb.db_url, .backup_dir = o->backup_dir, .no_backup = o->no_backup,
		.again = o->rb.again, .keep_blocked = o->rb.keep_blocked, .pod_name = o->rb.pod,
		.block = &block, .unblock = &unblock,
	};
	/*
	 * The runbook (wipe-database.rst), numbered as it numbers its steps;
	 * every step is inspected before the first one changes anything.
	 */
	struct step runbook[] = {
		STEP(wipe_preflight_ops, &w),	/* 3-5 checked first: pod, URL, ownership */
		STEP(step_block_ops, &block),	/* 1. delete the GafaelfawrIngresses to the hub */
		STEP(step_kill_labs_ops, &labs),	/* 2. delete every lab namespace */
		STEP(wipe_backup_ops, &w),	/* (ours) a verified backup before the drop */
		STEP(wipe_drop_ops, &w),	/* 5+6. DROP OWNED BY, restart the hub at once */
		STEP(step_unblock_ops, &unblock),	/* "sync the nublado application" */
	};
	struct run_cmd cmd = {
		.name = "wipe-db", .steps = runbook, .n = sizeof runbook / sizeof runbook[0],
		.typed = true, .refuse = true,
	};
	int rc;

	if (o->rb.keep_blocked)
		cmd.n--;	/* the last step, unblock, is left to the admin */
	wipe_hooks(&cmd, &w);
	rc = run_main(&ctx->opts, &o->run, &cmd);
	wipe_clear(&w);
	return rc;
}

const struct cmd_entry cmd_wipe_db_entry = {
	.name = "wipe-db",
	.summary = "Run the whole runbook: block, kill labs, back up, drop, restart, unblock",
	.help = "The runbook (wipe-database.rst), its step numbers in brackets:\n"
	    "a. Preflight, changing nothing [3-5, checked first]: the hub pod (exactly one\n"
	    "   Ready; if none is, the one whose container runs: a sick hub is a reason to\n"
	    "   wipe; --pod names one), the database URL, psql and pg_dump in the pod, the\n"
	    "   database reachable with the pod's password file, and the ownership check: the\n"
	    "   role is no superuser, owns only JupyterHub's tables (and their sequences,\n"
	    "   indexes, types) in this database, and the drop would neither touch another\n"
	    "   role's objects, grants or memberships nor fail or wait on a lock (README: \"The\n"
	    "   ownership check\"). Any failure exits 3 with the reasons, nothing changed.\n"
	    "b. The plan, then a typed confirmation (the context name) unless -y.\n"
	    "c. block [1], then kill-labs [2].\n"
	    "d. A backup (pg_dump, or psql where pg_dump is older than the server) in the\n"
	    "   pod, streamed to a local 0600 file, verified complete.\n"
	    "e. One transaction: the ownership check again, then DROP OWNED BY current_user [5].\n"
	    "f. At once, restart the hub [6] (Ctrl-C waits until the restart is sent); wait\n"
	    "   for the new hub and its new schema (alembic_version).\n"
	    "g. unblock (the runbook's closing sync; not with --keep-blocked), and a summary\n"
	    "   with the backup's path and how long users were locked out.\n"
	    "An interrupted run, run again, finishes the job: a journal in the state\n"
	    "directory remembers what was done (`status` shows it).",
	.opts = wipe_db_opts,
	.opts_size = sizeof(struct wipe_db_opts),
	.exec = cmd_wipe_db_exec,
	.flags = CMD_DESTRUCTIVE,
};
