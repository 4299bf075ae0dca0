/* cmd-kill-labs.c: runbook step 2: delete every user lab namespace */
#include "../src/nublado/steps.h"
#include "cmd.h"

struct kill_labs_opts {
	struct run_opts run;
	const char *user;
	int parallel;
};

#define T struct kill_labs_opts
static const struct opt kill_labs_opts[] = {
	OPT_STR("user", 0, T, user, "NAME", "delete only this user's lab", COMPLETE_LAB_USER),
	CMD_OPT_PARALLEL(T, parallel),
	CMD_RUN_OPTS(T), OPT_END
};
#undef T

static int
cmd_kill_labs_exec(struct cmd_ctx *ctx, void *opts)
{
	const struct kill_labs_opts *o = opts;
	struct kill_labs_step k = { .user = o->user, .parallel = o->parallel };
	struct step steps[] = { STEP(step_kill_labs_ops, &k) };
	struct run_cmd cmd = {
		.name = "kill-labs", .steps = steps, .n = 1,
		.question = o->user ? "Delete this user's lab on context '%s'? Unsaved work in it "
		    "is lost." : "Delete ALL these user labs on context '%s'? Unsaved work in them "
		    "is lost.",
	};

	return run_main(&ctx->opts, &o->run, &cmd);
}

const struct cmd_entry cmd_kill_labs_entry = {
	.name = "kill-labs",
	.summary = "Delete every user lab namespace (or one user's with --user)",
	.help = "A lab is a namespace named PREFIX-* (PREFIX from ConfigMap\n"
	    "nublado-controller-config, lab.namespacePrefix, default nublado) AND labelled\n"
	    "nublado.lsst.io/category=lab. A namespace matching only one of the two is\n"
	    "listed as skipped and never deleted; the Nublado namespace itself never is.\n"
	    "Deletes run in parallel; then a watch follows them until all are gone. On\n"
	    "--timeout the stuck namespaces are listed with their finalizers.",
	.opts = kill_labs_opts,
	.opts_size = sizeof(struct kill_labs_opts),
	.exec = cmd_kill_labs_exec,
	.flags = CMD_DESTRUCTIVE,
};
