/* cmd-unblock.c: the runbook's last step: sync Argo CD so users get back in */
#include "../src/nublado/steps.h"
#include "../src/util/exitcode.h"
#include "../src/util/log.h"
#include "cmd.h"

struct unblock_opts {
	struct run_opts run;
	bool from_backup;
	bool full_sync;
};

#define T struct unblock_opts
static const struct opt unblock_opts[] = {
	OPT_BOOL("full-sync", 0, T, full_sync, "sync the whole Application (the runbook's "
	    "way), not only what block removed"),
	OPT_BOOL("from-backup", 0, T, from_backup, "recreate the ingresses saved by block, "
	    "without Argo CD"),
	CMD_RUN_OPTS(T), OPT_END
};
#undef T

static int
cmd_unblock_exec(struct cmd_ctx *ctx, void *opts)
{
	const struct unblock_opts *o = opts;
	struct unblock_step u = { .from_backup = o->from_backup, .full_sync = o->full_sync };
	struct step steps[] = { STEP(step_unblock_ops, &u) };
	struct run_cmd cmd = {
		.name = "unblock", .steps = steps, .n = 1,
		.question = "Let users back in on context '%s'?",
	};

	if (o->from_backup && o->full_sync) {
		log_error("--from-backup and --full-sync exclude each other");
		return EXIT_USAGE;
	}
	return run_main(&ctx->opts, &o->run, &cmd);
}

const struct cmd_entry cmd_unblock_entry = {
	.name = "unblock",
	.summary = "Let users back in: sync the nublado Argo CD Application",
	.help = "Starts a sync of Application argocd/nublado limited to the GafaelfawrIngresses\n"
	    "that block removed (operation.sync.resources: the saved manifests Argo CD\n"
	    "manages that are missing; with none saved, its GafaelfawrIngresses out of\n"
	    "sync), by merge-patching .operation (as Argo CD's own API does; refused while\n"
	    "another operation runs), waits for the operation to succeed and checks those\n"
	    "ingresses exist again. Nothing else Phalanx's branch holds is deployed in the\n"
	    "middle of an incident; the plan lists what Argo CD reports out of sync besides.\n"
	    "--full-sync syncs the whole Application (the runbook's way) and says what it\n"
	    "will deploy. --from-backup recreates the manifests that block saved instead,\n"
	    "for when Argo CD is unavailable.",
	.opts = unblock_opts,
	.opts_size = sizeof(struct unblock_opts),
	.exec = cmd_unblock_exec,
	.flags = CMD_DESTRUCTIVE,
};
