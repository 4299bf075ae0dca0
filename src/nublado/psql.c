/* psql.c: psql's command line for the hub pod, and psql run there; the password stays in the pod */
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "../kube/exec.h"
#include "../util/buf.h"
#include "../util/xalloc.h"
#include "dburl.h"
#include "hub.h"
#include "psql.h"

/*
 * Run with argv {"sh", "-c", SCRIPT, TOOL, ARGS...}: sh sets $0 = TOOL and
 * "$@" = ARGS, so nothing the caller passes is ever parsed by the shell.
 * JupyterHub itself reads the password from these files and sets PGPASSWORD
 * only in its own process; we do the same in the exec'd shell.
 */
#define PRELUDE \
	"f=" PSQL_PASSWORD_FILE "; " \
	"[ -r \"$f\" ] || f=" PSQL_PASSWORD_FILE_FALLBACK "; " \
	"if [ ! -r \"$f\" ]; then " \
	"echo \"kubectl-nublado: no readable database password file in the pod (" \
	PSQL_PASSWORD_FILE " or " PSQL_PASSWORD_FILE_FALLBACK ")\" >&2; exit 2; fi; " \
	"PGPASSWORD=$(cat \"$f\") || exit 2; export PGPASSWORD; "

/* Exec the tool: its exit code is the command's. */
static const char exec_script[] = PRELUDE "exec \"$0\" \"$@\"";
/*
 * $1 bytes of stdin are the script: the tool reads them to their end (the
 * pipeline's status is the tool's), though our side never closes stdin.
 */
static const char pipe_script[] = PRELUDE "n=$1; shift; head -c \"$n\" | \"$0\" \"$@\"";
/* $1 bytes of stdin are one more -c command for the tool. */
static const char stdin_c_script[] = PRELUDE
	"n=$1; shift; s=$(head -c \"$n\") || exit 2; exec \"$0\" \"$@\" -c \"$s\"";

char **
pg_tool_argv(const char *tool, char *const *args)
{
	char **v = NULL;

	v = strv_push(v, "sh");
	v = strv_push(v, "-c");
	v = strv_push(v, exec_script);
	v = strv_push(v, tool);
	for (; args != NULL && *args != NULL; args++)
		v = strv_push(v, *args);
	return v;
}

static int
check_len(const char *what, const char *s, struct err *e)
{
	size_t n = strlen(s);

	if (n <= PSQL_ARG_MAX)
		return 0;
	err_set(e, "%s of %zu bytes is too long to pass as one argument (at most %d)", what, n,
	    PSQL_ARG_MAX);
	err_hint(e, "put it in a file and pass -f FILE");
	return -1;
}

int
psql_argv(const struct psql_cmd *c, char ***argv, struct err *e)
{
	char **v = NULL;

	*argv = NULL;
	for (char *const *s = c->commands; s != NULL && *s != NULL; s++)
		if (check_len("the SQL", *s, e) < 0)
			return -1;
	if (c->stdin_sql != NULL && check_len("the SQL", c->stdin_sql, e) < 0)
		return -1;
	v = strv_push(v, "sh");
	v = strv_push(v, "-c");
	v = strv_push(v, c->script != NULL ? pipe_script : c->stdin_sql != NULL ?
	    stdin_c_script : exec_script);
	v = strv_push(v, "psql");
	if (c->script != NULL || c->stdin_sql != NULL) {
		char *len = xasprintf("%zu", strlen(c->script ? c->script : c->stdin_sql));

		v = strv_push(v, len);
		free(len);
	}
	/* No ~/.psqlrc surprises; a failing statement stops a script (exit 3). */
	v = strv_push(v, "-X");
	v = strv_push(v, "-v");
	v = strv_push(v, "ON_ERROR_STOP=1");
	v = strv_push(v, "-d");
	v = strv_push(v, c->url);
	for (char *const *s = c->commands; s != NULL && *s != NULL; s++) {
		v = strv_push(v, "-c");
		v = strv_push(v, *s);
	}
	if (c->script != NULL || c->script_on_stdin) {
		v = strv_push(v, "-f");
		v = strv_push(v, "-");
	}
	for (char *const *s = c->extra; s != NULL && *s != NULL; s++)
		v = strv_push(v, *s);
	*argv = v;
	return 0;
}

const char *
psql_stdin(const struct psql_cmd *c, size_t *len)
{
	const char *s = c->script != NULL ? c->script : c->stdin_sql;

	*len = s != NULL ? strlen(s) : 0;
	return s;
}

/* ---- the URL ---- */

/* One parser for database URLs: dburl's (normalise, drop the password, libpq check). */
int
psql_url_clean(const char *url, char **out, bool *had_password, struct err *e)
{
	struct dburl u;

	*out = NULL;
	*had_password = false;
	if (dburl_parse(url, &u, e) < 0)
		return -1;
	*out = xstrdup(u.url);
	*had_password = u.had_password;
	dburl_clear(&u);
	return 0;
}

int
psql_in_pod(struct nub *n, const struct psql_cmd *c, const struct psql_session *s,
    int *exit_code, struct err *e)
{
	struct exec_opts o = EXEC_OPTS_INIT;
	struct exec_result res;
	char **argv = NULL;
	int rc;

	if (psql_argv(c, &argv, e) < 0)
		return -1;
	o.ns = n->ns;
	o.pod = s->pod;
	o.container = s->container != NULL ? s->container : HUB_CONTAINER;
	o.argv = argv;
	o.stdout_fd = STDOUT_FILENO;
	o.stderr_fd = STDERR_FILENO;
	o.timeout_ms = s->timeout_ms;
	if (s->interactive) {
		o.tty = true;
		o.term_fd = STDIN_FILENO;
		o.stdin_fd = STDIN_FILENO;
	} else if (s->script_fd >= 0) {
		o.stdin_fd = s->script_fd;
		o.stdin_needs_eof = true;
	} else if ((o.stdin_buf = psql_stdin(c, &o.stdin_len)) == NULL && c->commands == NULL) {
		/* psql reads its commands from our stdin, to its end (v5 only). */
		o.stdin_fd = STDIN_FILENO;
		o.stdin_needs_eof = true;
	}
	rc = kube_exec(n->kube, &o, &res, e);
	strv_free(argv);
	if (rc < 0)
		return -1;
	*exit_code = res.exit_code;
	return 0;
}
