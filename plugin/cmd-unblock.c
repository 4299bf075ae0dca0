/* cmd-unblock.c: the runbook's last step: sync Argo CD so users get back in */
#include "../src/nublado/steps.h"
#include "../src/util/exitcode.h"
#include "cmd.h"

static const struct opt unblock_opts[] = {
	{ "from-backup", 0, OPT_FLAG, NULL,
	  "recreate the ingresses saved by block, without Argo CD", NULL, COMPLETE_NONE, 0 },
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
	return steps_main(&ctx->opts, &c, steps, 1,
	    "Let users back in on context '%s'?", false);
}

const struct cmd_entry cmd_unblock_entry = {
	.name = "unblock",
	.summary = "Let users back in: sync the nublado Argo CD Application",
	.usage = "[--from-backup] [-y] [--dry-run] [-o json] [--timeout DURATION]",
	.help = "Starts a sync of Application argocd/nublado by merge-patching .operation (as\n"
	    "Argo CD's own API does; refused while another operation runs), waits for the\n"
	    "operation to succeed and checks the hub's GafaelfawrIngresses exist again.\n"
	    "--from-backup recreates the manifests that block saved instead, for when\n"
	    "Argo CD is unavailable.",
	.opts = unblock_opts,
	.exec = cmd_unblock_exec,
	.flags = CMD_DESTRUCTIVE,
};
