/* psql.c: psql's command line for the hub pod; the database password stays in the pod */
#include <stdlib.h>
#include <string.h>

#include <libpq-fe.h>

#include "../util/buf.h"
#include "../util/xalloc.h"
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
/* The script is $1: feed it to the tool's stdin (the pipeline's status is the tool's). */
static const char pipe_script[] = PRELUDE "s=$1; shift; printf '%s' \"$s\" | \"$0\" \"$@\"";

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
	if (c->script != NULL && check_len("the script", c->script, e) < 0)
		return -1;
	v = strv_push(v, "sh");
	v = strv_push(v, "-c");
	v = strv_push(v, c->script != NULL ? pipe_script : exec_script);
	v = strv_push(v, "psql");
	if (c->script != NULL)
		v = strv_push(v, c->script);
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

/* ---- the URL ---- */

/* Remove every password=... parameter from the query part of u (in place). */
static bool
drop_password_param(struct buf *u)
{
	char *q = strchr(u->data, '?');
	struct buf out = BUF_INIT;
	bool dropped = false;

	if (q == NULL)
		return false;
	buf_append(&out, u->data, (size_t)(q - u->data));
	for (char *p = q + 1; *p != '\0';) {
		size_t n = strcspn(p, "&#");

		if (n >= 9 && strncmp(p, "password=", 9) == 0) {
			dropped = true;
		} else if (n > 0) {
			buf_puts(&out, out.len == (size_t)(q - u->data) ? "?" : "&");
			buf_append(&out, p, n);
		}
		p += n;
		if (*p == '#') {
			buf_puts(&out, p);
			break;
		}
		if (*p == '&')
			p++;
	}
	if (dropped) {
		buf_free(u);
		*u = out;
	} else {
		buf_free(&out);
	}
	return dropped;
}

int
psql_url_clean(const char *url, char **out, bool *had_password, struct err *e)
{
	struct buf u = BUF_INIT;
	const char *sep = strstr(url, "://");
	size_t scheme_len = sep != NULL ? (size_t)(sep - url) : 0;
	const char *plus = sep != NULL ? memchr(url, '+', scheme_len) : NULL;
	char *authority, *at, *colon, *errmsg = NULL;
	size_t alen;
	PQconninfoOption *opts;

	*out = NULL;
	*had_password = false;
	/* postgresql+psycopg2:// is SQLAlchemy's spelling: the driver means nothing to libpq. */
	if (plus != NULL)
		scheme_len = (size_t)(plus - url);
	if (sep == NULL || !((scheme_len == 10 && strncmp(url, "postgresql", 10) == 0) ||
	    (scheme_len == 8 && strncmp(url, "postgres", 8) == 0))) {
		err_set(e, "the database URL is not a PostgreSQL URL (want postgresql://USER@HOST/DB, "
		    "got scheme '%.*s')", (int)(sep ? scheme_len : 0), sep ? url : "");
		return -1;
	}
	buf_append(&u, url, scheme_len);
	buf_puts(&u, sep);

	/* A password in user:password@host goes: the pod has it. */
	authority = u.data + scheme_len + 3;
	alen = strcspn(authority, "/?#");
	at = memrchr(authority, '@', alen);
	if (at != NULL && (colon = memchr(authority, ':', (size_t)(at - authority))) != NULL) {
		memmove(colon, at, strlen(at) + 1);
		u.len = strlen(u.data);
		*had_password = true;
	}
	if (drop_password_param(&u))
		*had_password = true;

	opts = PQconninfoParse(u.data, &errmsg);
	if (opts == NULL) {
		size_t n = errmsg ? strlen(errmsg) : 0;

		while (n > 0 && (errmsg[n - 1] == '\n' || errmsg[n - 1] == ' '))
			n--;
		err_set(e, "invalid database URL '%s': %.*s", u.data, (int)n,
		    errmsg ? errmsg : "libpq cannot parse it");
		PQfreemem(errmsg);
		buf_free(&u);
		return -1;
	}
	for (PQconninfoOption *o = opts; o->keyword != NULL; o++) {
		if (strcmp(o->keyword, "password") == 0 && o->val != NULL && *o->val != '\0') {
			/* Should not happen after the two removals: refuse rather than leak it. */
			PQconninfoFree(opts);
			buf_free(&u);
			return err_set(e, "the database URL still carries a password after cleaning; "
			    "remove it from the URL");
		}
	}
	PQconninfoFree(opts);
	*out = buf_detach(&u);
	return 0;
}
