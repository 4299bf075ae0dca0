/* cmd-psql.c: psql in the hub pod against the JupyterHub database (runbook step 4) */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "../src/nublado/dburl.h"
#include "../src/nublado/hub.h"
#include "../src/nublado/psql.h"
#include "../src/util/exitcode.h"
#include "../src/util/log.h"
#include "../src/util/xalloc.h"
#include "cmd.h"

struct psql_opts {
	const char *db_url;
	const char *phalanx, *env;
	char *const *command;
	const char *file;
	bool interactive;
	const char *pod;
	const char *container;
	long timeout_ms;
};

#define T struct psql_opts
static const struct opt psql_opts[] = {
	OPT_STR("db-url", 0, T, db_url, "URL", "the JupyterHub database URL (default: the "
	    "deployed hub.db.url, as db-url shows it)", COMPLETE_NONE),
	OPT_STR("phalanx", 0, T, phalanx, "DIR", "take the URL from this Phalanx checkout's "
	    "nublado values (with --env)", COMPLETE_DIR),
	OPT_STR("env", 0, T, env, "ENV", "the Phalanx environment (values-ENV.yaml)",
	    COMPLETE_PHALANX_ENV),
	OPT_STR_LIST("command", 'c', T, command, "SQL", "run SQL and exit (repeatable, in "
	    "order)"),
	OPT_STR("file", 'f', T, file, "FILE", "run the SQL script in FILE (- for stdin) and "
	    "exit", COMPLETE_FILE),
	OPT_BOOL("interactive", 'i', T, interactive, "an interactive session on this terminal "
	    "(the default without -c/-f on a terminal)"),
	CMD_OPT_POD(T, pod),
	OPT_STR("container", 0, T, container, "NAME", "the container in the pod (default "
	    "\"hub\")", COMPLETE_NONE),
	OPT_DURATION("timeout", T, timeout_ms, "give up when psql has not finished after "
	    "this long (default: no limit)", 0),
	OPT_END
};
#undef T

static int
usage_error(struct cmd_ctx *ctx, struct err *e)
{
	log_err(e);
	fprintf(stderr, "Run '%s psql --help' for usage.\n", ctx->prog);
	return EXIT_USAGE;
}

/*
 * A script that fits one argument goes on stdin with its length, read to
 * its end in the pod without stdin being closed (any protocol); a bigger
 * one, or one with NUL bytes, is streamed from the file (v5 only).
 */
static int
load_script(const char *path, char **script, int *fd, struct err *e)
{
	struct stat sb;
	int f;

	*script = NULL;
	*fd = -1;
	if (strcmp(path, "-") == 0) {
		*fd = STDIN_FILENO;
		return 0;
	}
	f = open(path, O_RDONLY | O_CLOEXEC);
	if (f < 0 || fstat(f, &sb) < 0) {
		err_set(e, "cannot read '%s': %s", path, strerror(errno));
		if (f >= 0)
			close(f);
		return -1;
	}
	if (S_ISREG(sb.st_mode) && sb.st_size <= PSQL_ARG_MAX) {
		char *buf = xmalloc((size_t)sb.st_size + 1);
		size_t got = 0;

		while (got < (size_t)sb.st_size) {
			ssize_t n = read(f, buf + got, (size_t)sb.st_size - got);

			if (n < 0 && errno == EINTR)
				continue;
			if (n <= 0)
				break;
			got += (size_t)n;
		}
		buf[got] = '\0';
		if (got == (size_t)sb.st_size && memchr(buf, '\0', got) == NULL) {
			close(f);
			*script = buf;
			return 0;
		}
		free(buf);
		lseek(f, 0, SEEK_SET);
	}
	*fd = f;
	return 0;
}

static int
cmd_psql_exec(struct cmd_ctx *ctx, void *opts)
{
	const struct psql_opts *po = opts;
	const struct args *a = ctx->args;
	const char *db_url = po->db_url, *phalanx = po->phalanx, *env = po->env;
	char *const *sql = po->command;
	const char *file = po->file;
	bool interactive = po->interactive;
	struct dburl_src src = { 0 };
	struct psql_session ps = { .script_fd = -1 };
	struct psql_cmd pc = { .commands = sql, .extra = a->rest };
	struct nub *n = NULL;
	struct dburl *u = NULL;
	char *pod = NULL, *script = NULL;
	char **argv = NULL;
	int script_fd = -1, rc = EXIT_ERROR;
	struct err e;

	err_clear(&e);
	e.exit = EXIT_USAGE;
	if (a->npos > 1) {
		err_set(&e, "unexpected argument '%s'", a->pos[1]);
		err_hint(&e, "psql's own arguments go after --: %s psql -- -A -t", ctx->prog);
		return usage_error(ctx, &e);
	}
	if (sql != NULL && file != NULL) {
		err_set(&e, "-c and -f cannot be used together");
		return usage_error(ctx, &e);
	}
	if (interactive && (sql != NULL || file != NULL)) {
		err_set(&e, "-i is for an interactive session: not with -c or -f");
		return usage_error(ctx, &e);
	}
	if ((phalanx != NULL) != (env != NULL)) {
		err_set(&e, "%s needs %s", phalanx != NULL ? "--phalanx" : "--env",
		    phalanx != NULL ? "--env ENV" : "--phalanx DIR");
		return usage_error(ctx, &e);
	}
	if (db_url != NULL && phalanx != NULL) {
		err_set(&e, "--db-url and --phalanx cannot be used together");
		return usage_error(ctx, &e);
	}
	/* Interactive by default only when a person sits at a terminal. */
	if (sql == NULL && file == NULL && isatty(STDIN_FILENO) && isatty(STDOUT_FILENO))
		interactive = true;
	if (interactive && !isatty(STDIN_FILENO)) {
		err_set(&e, "-i needs a terminal on stdin");
		return usage_error(ctx, &e);
	}
	err_clear(&e);

	/* Bad input is refused before the cluster hears of it. */
	src.flag = db_url;
	src.phalanx = phalanx;
	src.env = env;
	if ((db_url != NULL || phalanx != NULL) && dburl_choose(&src, &u, &e) < 0)
		goto fail;
	if (nub_open(&ctx->opts, &n, &e) < 0)
		goto fail;
	/* Runbook step 3: the URL, from the command line, Phalanx, or the deployed values. */
	src.n = n;
	if (u == NULL && dburl_choose(&src, &u, &e) < 0)
		goto fail;
	pc.url = u->url;
	if (file != NULL) {
		if (load_script(file, &script, &script_fd, &e) < 0)
			goto fail;
		pc.script = script;
		pc.script_on_stdin = script_fd >= 0;
	}
	/* The arguments are checked (their length, NUL bytes) before a pod is looked for. */
	if (psql_argv(&pc, &argv, &e) < 0)
		goto fail;

	/* Runbook step 4: the hub pod, and psql in it. */
	if (hub_find_pod_to_exec(n, po->pod, &pod, &e) < 0)
		goto fail;
	log_debug(LOG_STEPS, "psql in pod %s/%s", n->ns, pod);
	ps.pod = pod;
	ps.container = po->container;
	ps.interactive = interactive;
	ps.script_fd = script_fd;
	ps.timeout_ms = po->timeout_ms;
	if (psql_in_pod(n, &pc, &ps, &rc, &e) < 0)
		goto fail;
	/* psql's own exit code: 0 ok, 1 fatal, 2 connection lost, 3 script error. */
	goto out;
fail:
	log_err(&e);
	rc = e.exit ? e.exit : EXIT_ERROR;
out:
	if (script_fd > STDIN_FILENO)
		close(script_fd);
	strv_free(argv);
	free(script);
	free(pod);
	dburl_free(u);
	nub_close(n);
	return rc;
}

const struct cmd_entry cmd_psql_entry = {
	.name = "psql",
	.summary = "Run psql in the hub pod against the JupyterHub database",
	.operands = "[-- PSQL-ARGS]",
	.help =
	    "Runs psql inside the hub pod (labels app=jupyterhub,component=hub), the way the\n"
	    "runbook's step 4 does with kubectl exec, without typing the password: psql reads it\n"
	    "from the pod's own password file, so it never leaves the pod. psql runs with -X and\n"
	    "ON_ERROR_STOP=1. The database URL is the deployed one (hub.db.url in the Secret\n"
	    "nublado-secret, as `db-url' shows it) unless --db-url or --phalanx/--env says\n"
	    "otherwise; a password in it is dropped.\n"
	    "\n"
	    "Without -c or -f, on a terminal, the session is interactive (Ctrl-C goes to psql);\n"
	    "otherwise psql reads commands from stdin. -c SQL may be repeated; each SQL string\n"
	    "is passed to psql as it is (quotes, semicolons, $$ and newlines included).\n"
	    "\n"
	    "The exit code is psql's: 0 done, 1 fatal error, 2 connection to the database lost,\n"
	    "3 an SQL statement failed; 1 also when the pod cannot be reached, 130 on Ctrl-C.",
	.opts = psql_opts,
	.opts_size = sizeof(struct psql_opts),
	.exec = cmd_psql_exec,
};
