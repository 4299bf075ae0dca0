/* cmd-version.c: client version, and the server's GitVersion from GET /version */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <json-c/json.h>

#include "../src/util/exitcode.h"
#include "../src/util/log.h"
#include "cmd.h"

static const struct opt version_opts[] = {
	{ "client", 0, OPT_FLAG, NULL, "show the client version only (no cluster needed)",
	  NULL, COMPLETE_NONE, 0 },
	{ "output", 'o', OPT_VALUE, "FORMAT", "output format: json", "json",
	  COMPLETE_CHOICES, 0 },
	OPT_END
};

static int
cmd_version_exec(struct cmd_ctx *ctx)
{
	bool json = args_get(ctx->args, "output") != NULL;
	bool client_only = args_has(ctx->args, "client");
	char *server = NULL;
	struct nub *n = NULL;
	struct err e;
	int rc = EXIT_OK;

	err_clear(&e);
	if (!client_only) {
		if (nub_open(&ctx->opts, &n, &e) < 0 ||
		    kube_server_version(n->kube, &server, &e) < 0) {
			rc = e.exit ? e.exit : EXIT_ERROR;
		}
	}
	if (json) {
		json_object *o = json_object_new_object(), *cv = json_object_new_object();

		json_object_object_add(cv, "gitVersion", json_object_new_string("v" NUB_VERSION));
		json_object_object_add(o, "clientVersion", cv);
		if (server != NULL) {
			json_object *sv = json_object_new_object();

			json_object_object_add(sv, "gitVersion", json_object_new_string(server));
			json_object_object_add(o, "serverVersion", sv);
		}
		puts(json_object_to_json_string_ext(o, JSON_C_TO_STRING_PRETTY |
		    JSON_C_TO_STRING_NOSLASHESCAPE));
		json_object_put(o);
	} else {
		printf("Client Version: v%s\n", NUB_VERSION);
		if (server != NULL)
			printf("Server Version: %s\n", server);
	}
	if (rc != EXIT_OK)
		log_err(&e);
	free(server);
	nub_close(n);
	return rc;
}

const struct cmd_entry cmd_version_entry = {
	.name = "version",
	.summary = "Print the client version and the API server's version",
	.usage = "[--client] [-o json]",
	.opts = version_opts,
	.exec = cmd_version_exec,
};
