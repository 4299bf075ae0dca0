/* cmd-restore-db.c: the way back: a backup taken by wipe-db, put into the database again */
#include <stdio.h>
#include <time.h>

#include "../src/nublado/restore.h"
#include "../src/nublado/steps.h"
#include "../src/util/exitcode.h"
#include "../src/util/log.h"
#include "../src/util/sig.h"
#include "cmd.h"

static const struct opt restore_db_opts[] = {
	{ "keep-blocked", 0, OPT_FLAG, NULL, "leave user access blocked at the end", NULL,
	  COMPLETE_NONE, 0 },
	{ "db-url", 0, OPT_VALUE, "URL", "the database URL (default: the deployed value)",
	  NULL, COMPLETE_NONE, 0 },
	{ "pod", 0, OPT_VALUE, "NAME", "run psql and the backup in this pod (default: the hub "
	  "pod, Ready or else running)", NULL, COMPLETE_NONE, 0 },
	{ "again", 0, OPT_FLAG, NULL, "restore once more though this backup was just restored",
	  NULL, COMPLETE_NONE, OPT_DESTRUCTIVE },
	{ "parallel", 0, OPT_VALUE, "N", "lab deletes in flight at once (default 32)", NULL,
	  COMPLETE_NONE, 0 },
	CMD_OPT_IGNORE_SELF_HEAL,
	CMD_OPT_YES, CMD_OPT_DRY_RUN, CMD_OPT_OUTPUT, CMD_OPT_TIMEOUT, OPT_END
};

static int
cmd_restore_db_exec(struct cmd_ctx *ctx)
{
	/* wipe-db's runbook with the backup going in where the drop was. */
	static const struct step *const runbook[] = {
		&step_restore_preflight,	/* 1. the backup, the database, do they fit */
		&step_block,			/* 2. no users while the rows change */
		&step_kill_labs,		/* 3. no lab the restored rows would forget */
		&step_restore,			/* 4+5. rows in, compared, the hub restarted at once */
		&step_unblock,			/* 6. users back in */
	};
	const struct args *a = ctx->args;
	struct step_ctx c;
	struct restore r = { 0 };
	struct nub *n = NULL;
	struct err e;
	bool keep = args_has(a, "keep-blocked");
	int rc;

	if (cmd_step_opts(ctx, &c) < 0)
		return EXIT_USAGE;
	if (a->npos != 2) {
		log_error(a->npos < 2 ? "restore-db needs the backup file to restore" :
		    "unexpected argument '%s'", a->npos < 2 ? "" : a->pos[2]);
		fprintf(stderr, "Usage: %s restore-db BACKUP [options]\n", ctx->prog);
		return EXIT_USAGE;
	}
	err_clear(&e);
	r.file = a->pos[1];
	r.db_url = args_get(a, "db-url");
	r.again = args_has(a, "again");
	r.pod_name = args_get(a, "pod");
	r.t_start = now_ms();
	c.restore = &r;
	c.after_block = true;
	c.preflight_refuses = true;
	c.tty = ctx->opts.err_tty;
	if (nub_open(&ctx->opts, &n, &e) < 0 || step_ctx_init(&c, n, &e) < 0 ||
	    restore_journal_load(&r, c.state_dir, nub_identity(n, &e), &e) < 0)
		goto fail;
	if (r.completed != 0) {
		char when[64];

		strftime(when, sizeof when, "%Y-%m-%d %H:%M:%S UTC", gmtime(&r.completed));
		step_say(&c, "%s was already restored on context '%s' at %s.\n"
		    "Nothing to do; run with --again to restore it once more.", r.file,
		    n->cfg->context, when);
		rc = EXIT_OK;
		goto done;
	}
	if (!c.dry_run && r.started == 0) {
		r.started = time(NULL);
		if (restore_journal_save(&r, &e) < 0)
			goto fail;
	}
	rc = steps_run(&c, runbook, keep ? 4 : 5,
	    "This blocks all users, deletes every lab, and REPLACES the JupyterHub database "
	    "with the backup.", c.yes ? NULL : n->cfg->context, &e);
	if (rc < 0)
		goto fail;
	if (!c.dry_run && r.restored != 0) {
		r.completed = time(NULL);
		if (restore_journal_save(&r, &e) < 0)
			log_err(&e);
		restore_summary(&r, &c);
	}
	rc = EXIT_OK;
	goto done;
fail:
	rc = e.exit ? e.exit : EXIT_ERROR;
	log_err(&e);
done:
	step_report_end(&c, rc == EXIT_OK ? NULL : &e);
	restore_clear(&r);
	step_ctx_free(&c);
	nub_close(n);
	return rc;
}

const struct cmd_entry cmd_restore_db_entry = {
	.name = "restore-db",
	.summary = "Put a backup taken by wipe-db back into the database, then restart the hub",
	.usage = "BACKUP [-y] [--dry-run] [--keep-blocked] [--again] [--db-url URL] [-o json] "
	    "[--timeout DURATION]",
	.help = "1. Preflight, changing nothing: the backup complete (as wipe-db checked it),\n"
	    "   the hub pod, the database URL, and the database's JupyterHub schema at the\n"
	    "   backup's alembic revision (a hub restarted on the wiped database makes it).\n"
	    "   A pg_dump backup also goes into a database with no JupyterHub tables (the\n"
	    "   file makes them); a psql backup holds rows only. A mismatch exits 3.\n"
	    "2. The plan, then a typed confirmation (the context name) unless -y.\n"
	    "3. block, then kill-labs.\n"
	    "4. One transaction: the hub's database sessions cut and its tables locked (the\n"
	    "   hub is kept off them), emptied, loaded from the backup, sequences set, each\n"
	    "   table's count checked; then every table compared with the backup, row by row.\n"
	    "5. At once, restart the hub (Ctrl-C waits until the restart is sent); wait for\n"
	    "   the new hub.\n"
	    "6. unblock (unless --keep-blocked), and a summary.\n"
	    "An interrupted run, run again, finishes the job (restore.json in the state\n"
	    "directory).",
	.opts = restore_db_opts,
	.exec = cmd_restore_db_exec,
	.flags = CMD_DESTRUCTIVE,
	.args = COMPLETE_BACKUP,
};
