/* cmd-restore-db.c: the way back: a backup taken by wipe-db, put into the database again */
#include <stdio.h>

#include "../src/nublado/restore.h"
#include "../src/nublado/steps.h"
#include "../src/util/exitcode.h"
#include "../src/util/log.h"
#include "cmd.h"

struct restore_db_opts {
	struct run_opts run;
	struct runbook_opts rb;
};

#define T struct restore_db_opts
static const struct opt restore_db_opts[] = {
	CMD_RUNBOOK_OPTS(T, "restore once more though this backup was just restored"),
	CMD_RUN_OPTS(T), OPT_END
};
#undef T

static int
cmd_restore_db_exec(struct cmd_ctx *ctx, void *opts)
{
	const struct restore_db_opts *o = opts;
	const struct args *a = ctx->args;
	struct block_step block = { .ignore_self_heal = o->rb.ignore_self_heal };
	struct kill_labs_step labs = { .parallel = o->rb.parallel };
	struct unblock_step unblock = { .after_block = true };
	struct restore r = {
		.db_url = o->rb.db_url, .again = o->rb.again, .pod_name = o->rb.pod,
		.block = &block, .unblock = &unblock,
	};
	/* wipe-db's runbook with the backup going in where the drop was. */
	struct step runbook[] = {
		STEP(restore_preflight_ops, &r),	/* 1. the backup, the database: do they fit */
		STEP(step_block_ops, &block),		/* 2. no users while the rows change */
		STEP(step_kill_labs_ops, &labs),	/* 3. no lab the restored rows would forget */
		STEP(restore_load_ops, &r),		/* 4+5. rows in, compared, hub restarted */
		STEP(step_unblock_ops, &unblock),	/* 6. users back in */
	};
	struct run_cmd cmd = {
		.name = "restore-db", .steps = runbook, .n = sizeof runbook / sizeof runbook[0],
		.question = "This blocks all users, deletes every lab, and REPLACES the JupyterHub "
		    "database with the backup.",
		.typed = true, .refuse = true,
	};
	int rc;

	if (a->npos != 2) {
		log_error(a->npos < 2 ? "restore-db needs the backup file to restore" :
		    "unexpected argument '%s'", a->npos < 2 ? "" : a->pos[2]);
		fprintf(stderr, "Usage: %s restore-db BACKUP [options]\n", ctx->prog);
		return EXIT_USAGE;
	}
	r.file = a->pos[1];
	if (o->rb.keep_blocked)
		cmd.n--;	/* the last step, unblock, is left to the admin */
	restore_hooks(&cmd, &r);
	rc = run_main(&ctx->opts, &o->run, &cmd);
	restore_clear(&r);
	return rc;
}

const struct cmd_entry cmd_restore_db_entry = {
	.name = "restore-db",
	.summary = "Put a backup taken by wipe-db back into the database, then restart the hub",
	.operands = "BACKUP",
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
	.opts_size = sizeof(struct restore_db_opts),
	.exec = cmd_restore_db_exec,
	.flags = CMD_DESTRUCTIVE,
	.args = COMPLETE_BACKUP,
};
