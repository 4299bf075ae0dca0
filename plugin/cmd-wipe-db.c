/* cmd-wipe-db.c: the runbook "Wipe the JupyterHub database", start to finish */
#include <stdio.h>
#include <time.h>

#include "../src/nublado/steps.h"
#include "../src/nublado/wipe.h"
#include "../src/util/exitcode.h"
#include "../src/util/log.h"
#include "../src/util/sig.h"
#include "cmd.h"

static const struct opt wipe_db_opts[] = {
	{ "backup-dir", 0, OPT_VALUE, "DIR",
	  "where the pg_dump backup goes (default: the state directory's backups/)", NULL,
	  COMPLETE_DIR, 0 },
	{ "no-backup", 0, OPT_FLAG, NULL, "drop without a backup (the data is then lost)",
	  NULL, COMPLETE_NONE, OPT_DESTRUCTIVE },
	{ "keep-blocked", 0, OPT_FLAG, NULL, "leave user access blocked at the end", NULL,
	  COMPLETE_NONE, 0 },
	{ "db-url", 0, OPT_VALUE, "URL", "the database URL (default: the deployed value)",
	  NULL, COMPLETE_NONE, 0 },
	{ "pod", 0, OPT_VALUE, "NAME", "run psql and the backup in this pod (default: the hub "
	  "pod, Ready or else running)", NULL, COMPLETE_NONE, 0 },
	{ "again", 0, OPT_FLAG, NULL, "wipe once more though a wipe finished recently",
	  NULL, COMPLETE_NONE, OPT_DESTRUCTIVE },
	{ "parallel", 0, OPT_VALUE, "N", "lab deletes in flight at once (default 32)", NULL,
	  COMPLETE_NONE, 0 },
	CMD_OPT_IGNORE_SELF_HEAL,
	CMD_OPT_YES, CMD_OPT_DRY_RUN, CMD_OPT_OUTPUT, CMD_OPT_TIMEOUT, OPT_END
};

static int
cmd_wipe_db_exec(struct cmd_ctx *ctx)
{
	/* The runbook, in its order; each step checks before anything changes. */
	static const struct step *const runbook[] = {
		&step_preflight,	/* 1. context, hub pod, DB URL, tools, ownership check */
		&step_block,		/* 2. delete the GafaelfawrIngresses to proxy-public */
		&step_kill_labs,	/* 3. delete every lab namespace */
		&step_backup,		/* 4. pg_dump in the pod, to a local 0600 file, verified */
		&step_drop,		/* 5+6. DROP OWNED BY current_user, restart the hub at once */
		&step_unblock,		/* 7. Argo CD sync: users back in */
	};
	struct step_ctx c;
	struct wipe w = { 0 };
	struct nub *n = NULL;
	struct err e;
	bool keep = args_has(ctx->args, "keep-blocked");
	int rc;

	if (cmd_step_opts(ctx, &c) < 0)
		return EXIT_USAGE;
	err_clear(&e);
	w.db_url = args_get(ctx->args, "db-url");
	w.backup_dir = args_get(ctx->args, "backup-dir");
	w.no_backup = args_has(ctx->args, "no-backup");
	w.again = args_has(ctx->args, "again");
	w.pod_name = args_get(ctx->args, "pod");
	w.t_start = now_ms();
	c.wipe = &w;
	c.after_block = true;
	c.preflight_refuses = true;
	c.tty = ctx->opts.err_tty;
	if (nub_open(&ctx->opts, &n, &e) < 0 || step_ctx_init(&c, n, &e) < 0 ||
	    wipe_journal_load(&w, c.state_dir, nub_identity(n, &e), &e) < 0)
		goto fail;
	if (w.completed != 0) {
		char when[64];

		strftime(when, sizeof when, "%Y-%m-%d %H:%M:%S UTC", gmtime(&w.completed));
		step_say(&c, "The database on context '%s' was already wiped at %s (backup: %s).\n"
		    "Nothing to do; run with --again to wipe it once more.", n->cfg->context, when,
		    w.backup ? w.backup : "none");
		rc = EXIT_OK;
		goto done;
	}
	if (!c.dry_run && w.started == 0) {
		w.started = time(NULL);
		if (wipe_journal_save(&w, &e) < 0)
			goto fail;
	}
	/* A resumed run says what is left, not what the first one was about to do. */
	rc = steps_run(&c, runbook, keep ? 5 : 6, w.dropped != 0 ?
	    "An earlier run already DROPPED the JupyterHub database; this finishes its job." :
	    w.backed_up != 0 ? "An earlier run took the backup; this DROPS the JupyterHub "
	    "database, after blocking users and deleting every lab if needed." :
	    "This blocks all users, deletes every lab, and DROPS the JupyterHub database.",
	    c.yes ? NULL : kcfg_name(n->cfg), &e);
	if (rc < 0)
		goto fail;
	if (!c.dry_run && w.dropped != 0) {
		w.completed = time(NULL);
		if (wipe_journal_save(&w, &e) < 0)
			log_err(&e);
		wipe_summary(&w, &c, keep);
	}
	rc = EXIT_OK;
	goto done;
fail:
	rc = e.exit ? e.exit : EXIT_ERROR;
	if (!c.dry_run && w.journal != NULL && w.started != 0 && w.blocked_at == 0 &&
	    c.blocked_ms != 0) {
		struct err je;

		/* The run that comes to finish this one reports the whole lockout. */
		err_clear(&je);
		wipe_note_blocked(&c, &w);
		(void)wipe_journal_save(&w, &je);
	}
	log_err(&e);
done:
	step_report_end(&c, rc == EXIT_OK ? NULL : &e);
	wipe_clear(&w);
	step_ctx_free(&c);
	nub_close(n);
	return rc;
}

const struct cmd_entry cmd_wipe_db_entry = {
	.name = "wipe-db",
	.summary = "Run the whole runbook: block, kill labs, back up, drop, restart, unblock",
	.usage = "[-y] [--dry-run] [--backup-dir DIR | --no-backup] [--keep-blocked] "
	    "[--db-url URL] [-o json] [--timeout DURATION]",
	.help = "1. Preflight, changing nothing: the hub pod (exactly one Ready; if none is, the\n"
	    "   one whose container runs: a sick hub is a reason to wipe; --pod names one), the database\n"
	    "   URL, psql and pg_dump in the pod, the database reachable with the pod's\n"
	    "   password file, and the ownership check: the role is no superuser, owns only\n"
	    "   JupyterHub's tables (and their sequences, indexes, types) in this database,\n"
	    "   and the drop would neither touch another role's objects, grants or\n"
	    "   memberships nor fail or wait on a lock (README: \"The ownership check\").\n"
	    "   Any failure exits 3 with the reasons, nothing changed; notices are shown.\n"
	    "2. The plan, then a typed confirmation (the context name) unless -y.\n"
	    "3. block, then kill-labs.\n"
	    "4. pg_dump in the pod, streamed to a local 0600 file, verified complete.\n"
	    "5. One transaction: the ownership check again, then DROP OWNED BY current_user.\n"
	    "6. At once, restart the hub (Ctrl-C waits until the restart is sent); wait\n"
	    "   for the new hub and its new schema (alembic_version).\n"
	    "7. unblock (unless --keep-blocked), and a summary with the backup's path and\n"
	    "   how long users were locked out.\n"
	    "An interrupted run, run again, finishes the job: a journal in the state\n"
	    "directory remembers what was done.",
	.opts = wipe_db_opts,
	.exec = cmd_wipe_db_exec,
	.flags = CMD_DESTRUCTIVE,
};
