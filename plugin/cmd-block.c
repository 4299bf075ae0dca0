/* cmd-block.c: runbook step 1: block user access (every GafaelfawrIngress to proxy-public) */
#include "../src/nublado/steps.h"
#include "cmd.h"

struct block_opts {
	struct run_opts run;
	bool ignore_self_heal;
};

static const struct opt block_opts[] = {
	CMD_OPT_IGNORE_SELF_HEAL(struct block_opts, ignore_self_heal),
	CMD_RUN_OPTS(struct block_opts), OPT_END
};

static int
cmd_block_exec(struct cmd_ctx *ctx, void *opts)
{
	const struct block_opts *o = opts;
	struct block_step b = { .ignore_self_heal = o->ignore_self_heal };
	struct step steps[] = { STEP(step_block_ops, &b) };
	struct run_cmd cmd = {
		.name = "block", .steps = steps, .n = 1,
		.question = "Block user access to the hub on context '%s'?",
	};

	return run_main(&ctx->opts, &o->run, &cmd);
}

const struct cmd_entry cmd_block_entry = {
	.name = "block",
	.summary = "Block user access: remove the GafaelfawrIngresses routing to the hub",
	.help = "Deletes every GafaelfawrIngress in the Nublado namespace that routes to the\n"
	    "proxy-public Service (proxy, proxy-spawn, proxy-labs), saving each manifest\n"
	    "first under $XDG_STATE_HOME/kubectl-nublado/CONTEXT/ingresses/ (mode 0600), and\n"
	    "waits until the Ingresses Gafaelfawr generated for them are gone. Warns when\n"
	    "Argo CD would undo the block (automated sync with selfHeal). Running it again\n"
	    "when access is already blocked says so and exits 0.",
	.opts = block_opts,
	.opts_size = sizeof(struct block_opts),
	.exec = cmd_block_exec,
	.flags = CMD_DESTRUCTIVE,
};
