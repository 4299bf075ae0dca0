/* cmd-version.c: client version, and the server's GitVersion from GET /version */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <json-c/json.h>

#include "../src/util/exitcode.h"
#include "../src/util/log.h"
#include "../src/util/report.h"
#include "cmd.h"

struct version_opts {
	bool client;
	const char *output;
};

#define T struct version_opts
static const struct opt version_opts[] = {
	OPT_BOOL("client", 0, T, client, "show the client version only (no cluster needed)"),
	CMD_OPT_OUTPUT(T, output),
	OPT_END
};
#undef T

static int
cmd_version_exec(struct cmd_ctx *ctx, void *opts)
{
	const struct version_opts *vo = opts;
	bool client_only = vo->client;
	struct report rep;
	char *server = NULL;
	struct nub *n = NULL;
	struct err e;
	int rc = EXIT_OK;

	err_clear(&e);
	report_init(&rep, "version", report_format(vo->output));
	if (!client_only) {
		if (nub_open(&ctx->opts, &n, &e) == 0)
			report_where(&rep, n->cfg->context, n->ns);
		if (n == NULL || nub_server_version(n, &server, &e) < 0)
			rc = e.exit ? e.exit : EXIT_ERROR;
	}
	if (rep.format != REPORT_NONE) {
		json_object *o = rep.result, *cv = json_object_new_object();

		json_object_object_add(cv, "gitVersion", json_object_new_string("v" NUB_VERSION));
		json_object_object_add(o, "clientVersion", cv);
		if (server != NULL) {
			json_object *sv = json_object_new_object();

			json_object_object_add(sv, "gitVersion", json_object_new_string(server));
			json_object_object_add(o, "serverVersion", sv);
		}
	} else {
		printf("Client Version: v%s\n", NUB_VERSION);
		if (server != NULL)
			printf("Server Version: %s\n", server);
	}
	report_end(&rep, rc != EXIT_OK ? &e : NULL);
	if (rc != EXIT_OK)
		log_err(&e);
	free(server);
	nub_close(n);
	return rc;
}

const struct cmd_entry cmd_version_entry = {
	.name = "version",
	.summary = "Print the client version and the API server's version",
	.opts = version_opts,
	.opts_size = sizeof(struct version_opts),
	.exec = cmd_version_exec,
};
