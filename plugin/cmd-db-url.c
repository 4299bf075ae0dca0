/* cmd-db-url.c: runbook step 3: the JupyterHub database URL (from the cluster or Phalanx values) */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <json-c/json.h>

#include "../src/nublado/dburl.h"
#include "../src/util/exitcode.h"
#include "../src/util/jsonout.h"
#include "../src/util/log.h"
#include "../src/util/report.h"
#include "cmd.h"

struct db_url_opts {
	const char *phalanx, *env;
	const char *output;
};

#define T struct db_url_opts
static const struct opt db_url_opts[] = {
	OPT_STR("phalanx", 0, T, phalanx, "DIR", "read the value from this Phalanx checkout "
	    "instead of the cluster (with --env)", COMPLETE_DIR),
	OPT_STR("env", 0, T, env, "ENV", "the Phalanx environment: "
	    "applications/nublado/values-ENV.yaml, then values.yaml", COMPLETE_PHALANX_ENV),
	CMD_OPT_OUTPUT(T, output),
	OPT_END
};
#undef T

static int
usage_error(struct cmd_ctx *ctx, struct err *e)
{
	log_err(e);
	fprintf(stderr, "Run '%s db-url --help' for usage.\n", ctx->prog);
	return EXIT_USAGE;
}

/* The URL's parts into the report's result (the port a number, as in a Service). */
static void
report_url(struct report *rep, const struct dburl *u, const struct dburl *deployed)
{
	json_object *o = rep->result;
	char *from = dburl_normalised_from(u);

	json_object_object_add(o, "url", json_object_new_string(u->url));
	json_object_object_add(o, "scheme", json_str_or_null(u->scheme));
	json_object_object_add(o, "user", json_str_or_null(u->user));
	json_object_object_add(o, "host", json_str_or_null(u->host));
	json_object_object_add(o, "port", u->port != NULL ?
	    json_object_new_int(atoi(u->port)) : NULL);
	json_object_object_add(o, "database", json_str_or_null(u->dbname));
	json_object_object_add(o, "source", json_str_or_null(u->source));
	json_object_object_add(o, "secret", json_str_or_null(u->secret));
	json_object_object_add(o, "file", json_str_or_null(u->file));
	json_object_object_add(o, "key", json_str_or_null(u->key));
	json_object_object_add(o, "line", u->line > 0 ? json_object_new_int(u->line) : NULL);
	json_object_object_add(o, "column", u->column > 0 ? json_object_new_int(u->column) : NULL);
	json_object_object_add(o, "hadPassword", json_object_new_boolean(u->had_password));
	json_object_object_add(o, "normalisedFrom", json_str_or_null(from));
	if (deployed != NULL) {
		json_object *d = json_object_new_object();

		json_object_object_add(d, "url", json_object_new_string(deployed->url));
		json_object_object_add(d, "source", json_str_or_null(deployed->source));
		json_object_object_add(d, "matches",
		    json_object_new_boolean(strcmp(u->url, deployed->url) == 0));
		json_object_object_add(o, "deployed", d);
	}
	free(from);
}

/* "secret nublado/nublado-secret (values.yaml: hub.db.url)", "/p/values-x.yaml:42:12" */
static void
where_from(const struct dburl *u, char *buf, size_t len)
{
	if (u->secret != NULL)
		snprintf(buf, len, "secret %s (%s: %s)", u->secret, DBURL_SECRET_KEY, u->key);
	else if (u->file != NULL && u->line > 0)
		snprintf(buf, len, "%s:%d:%d", u->file, u->line, u->column);
	else
		snprintf(buf, len, "%s", u->source != NULL ? u->source : "the command line");
}

/*
 * With --phalanx the deployed value is a cross-check, not a requirement:
 * no kubeconfig, no access or no Secret only gets a line at -v.
 */
static struct dburl *
deployed_value(const struct cmd_ctx *ctx, struct report *rep)
{
	struct nub *n = NULL;
	struct dburl *c = NULL;
	struct err e;

	err_clear(&e);
	if (nub_open(&ctx->opts, &n, &e) < 0 || dburl_from_cluster(n, &c, &e) < 0)
		log_debug(LOG_STEPS, "not compared with the deployed value: %s", e.msg);
	else
		report_where(rep, n->cfg->context, n->ns);
	nub_close(n);
	return c;
}

static int
cmd_db_url_exec(struct cmd_ctx *ctx, void *opts)
{
	const struct db_url_opts *o = opts;
	const struct args *a = ctx->args;
	const char *phalanx = o->phalanx, *env = o->env;
	struct report rep;
	struct dburl *u = NULL, *deployed = NULL;
	struct nub *n = NULL;
	char where[4200], where2[4200];
	struct err e;
	int rc = EXIT_OK;

	err_clear(&e);
	e.exit = EXIT_USAGE;
	if (a->npos > 1) {
		err_set(&e, "unexpected argument '%s'", a->pos[1]);
		return usage_error(ctx, &e);
	}
	if ((phalanx != NULL) != (env != NULL)) {
		err_set(&e, "%s needs %s", phalanx != NULL ? "--phalanx" : "--env",
		    phalanx != NULL ? "--env ENV" : "--phalanx DIR");
		err_hint(&e, "the values come from DIR/applications/nublado/values-ENV.yaml, "
		    "then values.yaml; without either, from the cluster");
		return usage_error(ctx, &e);
	}
	if (phalanx != NULL && phalanx[0] == '\0') {
		err_set(&e, "--phalanx must not be empty");
		return usage_error(ctx, &e);
	}
	err_clear(&e);
	report_init(&rep, "db-url", report_format(o->output));

	if (phalanx == NULL) {
		if (nub_open(&ctx->opts, &n, &e) < 0)
			goto fail;
		report_where(&rep, n->cfg->context, n->ns);
	}
	if (dburl_choose(&(struct dburl_src){ .phalanx = phalanx, .env = env, .n = n,
	    .use = DBURL_SHOW }, &u, &e) < 0)
		goto fail;
	if (phalanx != NULL)
		deployed = deployed_value(ctx, &rep);

	where_from(u, where, sizeof where);
	if (rep.format != REPORT_NONE)
		report_url(&rep, u, deployed);
	else
		printf("%s\n", u->url);
	fprintf(stderr, "from %s\n", where);
	if (u->had_driver)
		log_debug(LOG_STEPS, "normalised from %s+%s: psql takes %s://", u->scheme,
		    u->driver, u->scheme);
	if (deployed != NULL && strcmp(u->url, deployed->url) != 0) {
		where_from(deployed, where2, sizeof where2);
		log_warn("the deployed database URL differs from the Phalanx value:\n"
		    "  %s: %s\n  %s: %s\n"
		    "the hub uses the deployed one until nublado is synced in Argo CD",
		    where, u->raw_redacted, where2, deployed->raw_redacted);
	} else if (deployed != NULL) {
		log_debug(LOG_STEPS, "the deployed value (%s) is the same",
		    deployed->source);
	}
	report_end(&rep, NULL);
	goto out;
fail:
	report_end(&rep, &e);
	log_err(&e);
	rc = e.exit ? e.exit : EXIT_ERROR;
out:
	dburl_free(u);
	dburl_free(deployed);
	nub_close(n);
	return rc;
}

const struct cmd_entry cmd_db_url_entry = {
	.name = "db-url",
	.summary = "Show the JupyterHub database URL (from the cluster or Phalanx values)",
	.help = "Prints the database URL psql takes (runbook step 3) on stdout: the +driver\n"
	    "part of an SQLAlchemy URL and any password removed, checked with libpq.\n"
	    "Where it came from goes to stderr.\n\n"
	    "Without --phalanx: the deployed value, hub.db.url in key values.yaml of the\n"
	    "Secret nublado-secret (else Secret hub) in the Nublado namespace; this needs\n"
	    "permission to get secrets there.\n\n"
	    "With --phalanx DIR --env ENV: jupyterhub.hub.db.url from\n"
	    "DIR/applications/nublado/values-ENV.yaml or, when not set there, values.yaml,\n"
	    "as the runbook says. When the cluster is reachable, the deployed value is\n"
	    "compared too and a difference is a warning.\n\n"
	    "-o json prints the parts (url, scheme, user, host, port, database) and the\n"
	    "source (file, line, column or secret). A password is never printed.",
	.opts = db_url_opts,
	.opts_size = sizeof(struct db_url_opts),
	.exec = cmd_db_url_exec,
};
