/* cmd-unblock.c: the runbook's last step: sync Argo CD so users get back in */
#include "../src/nublado/steps.h"
#include "../src/util/exitcode.h"
#include "../src/util/log.h"
#include "cmd.h"

static const struct opt unblock_opts[] = {
	{ "from-backup", 0, OPT_FLAG, NULL,
	  "recreate the ingresses saved by block, without Argo CD", NULL, COMPLETE_NONE, 0 },
	{ "full-sync", 0, OPT_FLAG, NULL,
	  "sync the whole Application (the runbook's way), not only what block removed", NULL,
	  COMPLETE_NONE, 0 },
	CMD_OPT_YES, CMD_OPT_DRY_RUN, CMD_OPT_OUTPUT, CMD_OPT_TIMEOUT, OPT_END
};

static int
cmd_unblock_exec(struct cmd_ctx *ctx)
{
	static const struct step *const steps[] = { &step_unblock };
	struct step_ctx c;

	if (cmd_step_opts(ctx, &c) < 0)
		return EXIT_USAGE;
	c.from_backup = args_has(ctx->args, "from-backup");
	c.full_sync = args_has(ctx->args, "full-sync");
	if (c.from_backup && c.full_sync) {
		log_error("--from-backup and --full-sync exclude each other");
		return EXIT_USAGE;
	}
	return steps_main(&ctx->opts, &c, steps, 1,
	    "Let users back in on context '%s'?", false);
}

const struct cmd_entry cmd_unblock_entry = {
	.name = "unblock",
	.summary = "Let users back in: sync the nublado Argo CD Application",
	.usage = "[--full-sync | --from-backup] [-y] [--dry-run] [-o json] [--timeout DURATION]",
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
	.exec = cmd_unblock_exec,
	.flags = CMD_DESTRUCTIVE,
};
