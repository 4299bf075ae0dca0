/* cmd-restart-hub.c: runbook step 6: restart the hub Deployment, wait for a Ready hub */
#include "../src/nublado/steps.h"
#include "cmd.h"

struct restart_hub_opts {
	struct run_opts run;
};

static const struct opt restart_hub_opts[] = {
	CMD_RUN_OPTS(struct restart_hub_opts), OPT_END
};

static int
cmd_restart_hub_exec(struct cmd_ctx *ctx, void *opts)
{
	const struct restart_hub_opts *o = opts;
	struct restart_step s = { 0 };
	struct step steps[] = { STEP(step_restart_hub_ops, &s) };
	struct run_cmd cmd = {
		.name = "restart-hub", .steps = steps, .n = 1,
		.question = "Restart the hub on context '%s'?",
	};

	return run_main(&ctx->opts, &o->run, &cmd);
}

const struct cmd_entry cmd_restart_hub_entry = {
	.name = "restart-hub",
	.summary = "Restart the hub Deployment and wait until the new hub is Ready",
	.help = "Patches Deployment hub as `kubectl rollout restart` does (refusing a paused\n"
	    "Deployment), follows the rollout as `kubectl rollout status` does, then waits\n"
	    "for the new hub pod to be Ready.",
	.opts = restart_hub_opts,
	.opts_size = sizeof(struct restart_hub_opts),
	.exec = cmd_restart_hub_exec,
	.flags = CMD_DESTRUCTIVE,
};
