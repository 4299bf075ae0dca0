/* cmd-restart-hub.c: runbook step 6: restart the hub Deployment, wait for a Ready hub */
#include "../src/nublado/steps.h"
#include "../src/util/exitcode.h"
#include "cmd.h"

static const struct opt restart_hub_opts[] = {
	CMD_OPT_YES, CMD_OPT_DRY_RUN, CMD_OPT_OUTPUT, CMD_OPT_TIMEOUT, OPT_END
};

static int
cmd_restart_hub_exec(struct cmd_ctx *ctx)
{
	static const struct step *const steps[] = { &step_restart_hub };
	struct step_ctx c;

	if (cmd_step_opts(ctx, &c) < 0)
		return EXIT_USAGE;
	return steps_main(&ctx->opts, &c, steps, 1,
	    "Restart the hub on context '%s'?", false);
}

const struct cmd_entry cmd_restart_hub_entry = {
	.name = "restart-hub",
	.summary = "Restart the hub Deployment and wait until the new hub is Ready",
	.usage = "[-y] [--dry-run] [-o json] [--timeout DURATION]",
	.help = "Patches Deployment hub as `kubectl rollout restart` does (refusing a paused\n"
	    "Deployment), follows the rollout as `kubectl rollout status` does, then waits\n"
	    "for the new hub pod to be Ready.",
	.opts = restart_hub_opts,
	.exec = cmd_restart_hub_exec,
	.flags = CMD_DESTRUCTIVE,
};
