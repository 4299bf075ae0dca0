/* cmd-status.c: where things stand: access, labs, hub, database, Argo CD */
#include <stdio.h>

#include "../src/nublado/status.h"
#include "../src/util/exitcode.h"
#include "../src/util/jsonout.h"
#include "../src/util/log.h"
#include "cmd.h"

static const struct opt status_opts[] = {
	{ "no-db", 0, OPT_FLAG, NULL, "skip the database check (no exec into the hub pod)",
	  NULL, COMPLETE_NONE, 0 },
	CMD_OPT_OUTPUT,
	OPT_END
};

static int
cmd_status_exec(struct cmd_ctx *ctx)
{
	struct nub *n = NULL;
	json_object *st;
	struct err e;
	int rc = EXIT_OK;

	err_clear(&e);
	if (nub_open(&ctx->opts, &n, &e) < 0) {
		log_err(&e);
		return e.exit ? e.exit : EXIT_ERROR;
	}
	st = status_collect(n, !args_has(ctx->args, "no-db"));
	if (args_get(ctx->args, "output") != NULL)
		json_print(st);
	else if (jstr(st, "serverError", NULL) == NULL && jstr(st, "namespaceError", NULL) == NULL)
		status_print(st, stdout, ctx->opts.color_out);
	if (jstr(st, "namespaceError", NULL) != NULL) {
		err_set(&e, "namespace '%s' not found on context '%s'", n->ns, n->cfg->context);
		err_hint(&e, "Nublado lives in namespace 'nublado' unless -n says otherwise; "
		    "kubectl get ns lists them");
		log_err(&e);
		rc = EXIT_ERROR;
	} else if (jstr(st, "serverError", NULL) != NULL) {
		/* Nothing else can be known: an error, not a screen of question marks. */
		if (n->cfg->context != NULL && *n->cfg->context != '\0')
			log_error("cannot reach the API server of context '%s': %s", n->cfg->context,
			    jstr(st, "serverError", NULL));
		else
			log_error("%s", jstr(st, "serverError", NULL));
		rc = EXIT_ERROR;
	}
	json_object_put(st);
	nub_close(n);
	return rc;
}

const struct cmd_entry cmd_status_entry = {
	.name = "status",
	.summary = "Show access, labs, hub, database and Argo CD state on one screen",
	.usage = "[--no-db] [-o json]",
	.help = "Read-only. Each part that cannot be read says why rather than failing the\n"
	    "whole; the database part runs a read-only psql in the hub pod (the same\n"
	    "ownership check wipe-db makes) and reports the JupyterHub tables and users.",
	.opts = status_opts,
	.exec = cmd_status_exec,
};
