/* psql.h: psql (or pg_dump) run in the hub pod, the password read there */
#ifndef NUB_PSQL_H
#define NUB_PSQL_H

#include <stdbool.h>
#include <stddef.h>

#include "../util/err.h"
#include "nub.h"

/* Where the hub pod keeps the database password (the first readable wins). */
#define PSQL_PASSWORD_FILE "/usr/local/etc/jupyterhub/existing-secret/hub.db.password"
#define PSQL_PASSWORD_FILE_FALLBACK "/usr/local/etc/jupyterhub/secret/hub.db.password"

/* The longest single argument execve accepts on Linux (MAX_ARG_STRLEN, NUL included). */
#define PSQL_ARG_MAX (128 * 1024 - 1)

/*
 * Make a JupyterHub database URL fit for psql: an SQLAlchemy driver suffix
 * goes ("postgresql+psycopg2://" -> "postgresql://"), and so does any
 * password (in the user part or a password= parameter: the pod supplies it),
 * with *had_password set so the caller can warn.  libpq checks the result
 * (PQconninfoParse).  Caller frees *out.  Messages never show a password.
 */
int psql_url_clean(const char *url, char **out, bool *had_password, struct err *e);

/*
 * argv that runs `tool args...' in the hub pod through `sh -c', with
 * PGPASSWORD read from the password file inside the pod: the password never
 * crosses the wire.  Every element travels as its own argument, so no shell
 * quoting is involved.  For psql, pg_dump, or anything libpq-based.
 * NULL-terminated; free with strv_free.
 */
char **pg_tool_argv(const char *tool, char *const *args);

/*
 * Long SQL never travels in the exec request's URL (front ends such as GKE's
 * DNS endpoint, Teleport or Rancher cap URLs well below our 23 KB check):
 * `script' and `stdin_sql' go on stdin, their length in the URL, and a shell
 * in the pod reads exactly that many bytes (head -c).  So psql sees the end
 * of its input without stdin being closed, which v4.channel.k8s.io cannot do.
 * Send psql_stdin()'s bytes as the session's stdin (exec_opts.stdin_buf).
 */
struct psql_cmd {
	const char *url;		/* cleaned by psql_url_clean */
	char *const *commands;		/* each becomes `-c SQL'; NULL-terminated, or NULL */
	const char *stdin_sql;		/* one more `-c SQL', its text sent on stdin */
	const char *script;		/* a script for psql -f -, sent on stdin */
	bool script_on_stdin;		/* the script is the caller's own stdin (v5 only): -f - */
	char *const *extra;		/* the user's own psql arguments, last; or NULL */
};

/*
 * The argv for psql in the hub pod: psql -X -v ON_ERROR_STOP=1 -d URL, the
 * commands or the script, then extra.  -1 when an argument is longer than
 * one execve argument can be (PSQL_ARG_MAX).
 */
int psql_argv(const struct psql_cmd *c, char ***argv, struct err *e);
/* The bytes psql_argv's command expects on stdin (script or stdin_sql), or NULL. */
const char *psql_stdin(const struct psql_cmd *c, size_t *len);

/* How psql's session in the pod is attached to ours. */
struct psql_session {
	const char *pod;		/* the hub pod (hub_find_pod_to_exec) */
	const char *container;		/* NULL: the hub's (HUB_CONTAINER) */
	bool interactive;		/* our terminal is psql's: raw mode, Ctrl-C goes to psql */
	int script_fd;			/* the -f script streamed from here (c->script_on_stdin), or -1 */
	long timeout_ms;		/* the whole session; 0 = none */
};

/*
 * Run psql as c says in the pod, its output on our stdout and stderr.
 * Its input: our terminal (interactive), the script descriptor, the bytes
 * psql_stdin() gives, or else, without -c, our stdin to its end.  Returns 0
 * with psql's own exit code in *exit_code, or -1 when it could not run.
 */
int psql_in_pod(struct nub *n, const struct psql_cmd *c, const struct psql_session *s,
    int *exit_code, struct err *e);

#endif
