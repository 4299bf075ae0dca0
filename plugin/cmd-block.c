/* cmd-block.c: runbook step 1: block user access (every GafaelfawrIngress to proxy-public) */
#include "../src/nublado/steps.h"
#include "../src/util/exitcode.h"
#include "cmd.h"

static const struct opt block_opts[] = {
	CMD_OPT_IGNORE_SELF_HEAL,
	CMD_OPT_YES, CMD_OPT_DRY_RUN, CMD_OPT_OUTPUT, CMD_OPT_TIMEOUT, OPT_END
};

static int
cmd_block_exec(struct cmd_ctx *ctx)
{
	static const struct step *const steps[] = { &step_block };
	struct step_ctx c;

	if (cmd_step_opts(ctx, &c) < 0)
		return EXIT_USAGE;
	return steps_main(&ctx->opts, &c, steps, 1,
	    "Block user access to the hub on context '%s'?", false);
}

const struct cmd_entry cmd_block_entry = {
	.name = "block",
	.summary = "Block user access: remove the GafaelfawrIngresses routing to the hub",
	.usage = "[-y] [--dry-run] [-o json] [--timeout DURATION]",
	.help = "Deletes every GafaelfawrIngress in the Nublado namespace that routes to the\n"
	    "proxy-public Service (proxy, proxy-spawn, proxy-labs), saving each manifest\n"
	    "first under $XDG_STATE_HOME/kubectl-nublado/CONTEXT/ingresses/ (mode 0600), and\n"
	    "waits until the Ingresses Gafaelfawr generated for them are gone. Warns when\n"
	    "Argo CD would undo the block (automated sync with selfHeal). Running it again\n"
	    "when access is already blocked says so and exits 0.",
	.opts = block_opts,
	.exec = cmd_block_exec,
	.flags = CMD_DESTRUCTIVE,
};
