/* cmd-kill-labs.c: runbook step 2: delete every user lab namespace */
#include "../src/nublado/steps.h"
#include "../src/util/exitcode.h"
#include "cmd.h"

static const struct opt kill_labs_opts[] = {
	{ "user", 0, OPT_VALUE, "NAME", "delete only this user's lab", NULL,
	  COMPLETE_LAB_USER, 0 },
	{ "parallel", 0, OPT_VALUE, "N", "deletes in flight at once (default 32)", NULL,
	  COMPLETE_NONE, 0 },
	CMD_OPT_YES, CMD_OPT_DRY_RUN, CMD_OPT_OUTPUT, CMD_OPT_TIMEOUT, OPT_END
};

static int
cmd_kill_labs_exec(struct cmd_ctx *ctx)
{
	static const struct step *const steps[] = { &step_kill_labs };
	struct step_ctx c;

	if (cmd_step_opts(ctx, &c) < 0)
		return EXIT_USAGE;
	c.user = args_get(ctx->args, "user");
	return steps_main(&ctx->opts, &c, steps, 1,
	    c.user ? "Delete this user's lab on context '%s'? Unsaved work in it is lost." :
	    "Delete ALL these user labs on context '%s'? Unsaved work in them is lost.", false);
}

const struct cmd_entry cmd_kill_labs_entry = {
	.name = "kill-labs",
	.summary = "Delete every user lab namespace (or one user's with --user)",
	.usage = "[--user NAME] [--parallel N] [-y] [--dry-run] [-o json] [--timeout DURATION]",
	.help = "A lab is a namespace named PREFIX-* (PREFIX from ConfigMap\n"
	    "nublado-controller-config, lab.namespacePrefix, default nublado) AND labelled\n"
	    "nublado.lsst.io/category=lab. A namespace matching only one of the two is\n"
	    "listed as skipped and never deleted; the Nublado namespace itself never is.\n"
	    "Deletes run in parallel; then a watch follows them until all are gone. On\n"
	    "--timeout the stuck namespaces are listed with their finalizers.",
	.opts = kill_labs_opts,
	.exec = cmd_kill_labs_exec,
	.flags = CMD_DESTRUCTIVE,
};
