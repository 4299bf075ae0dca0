/* db.c: the JupyterHub database: ownership check, backup, drop, schema check (in the hub pod) */
#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "../kube/exec.h"
#include "../util/buf.h"
#include "../util/exitcode.h"
#include "../util/file.h"
#include "../util/jsonout.h"
#include "../util/log.h"
#include "../util/progress.h"
#include "../util/sig.h"
#include "../util/xalloc.h"
#include "backup-sql.h"
#include "db.h"
#include "hub.h"
#include "psql.h"

#define DB_FIELDS 6		/* kind + five */

/* ---- parsing the check's output ---- */

/* Undo the SQL's escaping (\\ \t \n \r) in place. */
static int
unescape(char *s)
{
	char *w = s;

	for (char *r = s; *r != '\0'; r++) {
		if (*r != '\\') {
			*w++ = *r;
			continue;
		}
		switch (*++r) {
		case '\\': *w++ = '\\'; break;
		case 't': *w++ = '\t'; break;
		case 'n': *w++ = '\n'; break;
		case 'r': *w++ = '\r'; break;
		default: return -1;
		}
	}
	*w = '\0';
	return 0;
}

static void
reason_set(struct db_reason *r, char **f)
{
	r->code = xstrdup(f[1]);
	r->type = xstrdup(f[2]);
	r->name = xstrdup(f[3]);
	r->detail = xstrdup(f[4]);
	r->extra = xstrdup(f[5]);
}

static void
reason_add(struct db_reason **v, size_t *n, char **f)
{
	*v = xrealloc(*v, (*n + 1) * sizeof **v);
	reason_set(&(*v)[*n], f);
	(*n)++;
}

static int
parse_bool(const char *s, bool *b)
{
	if (strcmp(s, "true") == 0 || strcmp(s, "t") == 0)
		*b = true;
	else if (strcmp(s, "false") == 0 || strcmp(s, "f") == 0)
		*b = false;
	else
		return -1;
	return 0;
}

static int
parse_ll(const char *s, long long *v)
{
	char *end;

	if (*s < '0' || *s > '9')
		return -1;
	errno = 0;
	*v = strtoll(s, &end, 10);
	return errno != 0 || *end != '\0' ? -1 : 0;
}

static int
table_cmp(const void *a, const void *b)
{
	const struct db_table *x = a, *y = b;
	int i, j;

	/* JupyterHub's own order (users first), then by name. */
	for (i = 0; db_jupyterhub_tables[i] && strcmp(db_jupyterhub_tables[i], x->name); i++)
		;
	for (j = 0; db_jupyterhub_tables[j] && strcmp(db_jupyterhub_tables[j], y->name); j++)
		;
	return i != j ? i - j : strcmp(x->name, y->name);
}

static int
parse_line(char *line, struct db_check *c, bool *seen_server, bool *seen_role, size_t nlines,
    bool *end, struct err *e)
{
	char *f[DB_FIELDS];
	size_t nf = 0;
	long long v;

	for (char *p = line;;) {
		char *tab = strchr(p, '\t');

		if (nf == DB_FIELDS)
			return err_set(e, "more than %d fields", DB_FIELDS);
		f[nf++] = p;
		if (tab == NULL)
			break;
		*tab = '\0';
		p = tab + 1;
	}
	if (nf != DB_FIELDS)
		return err_set(e, "%zu fields instead of %d", nf, DB_FIELDS);
	for (size_t i = 0; i < nf; i++)
		if (unescape(f[i]) < 0)
			return err_set(e, "a bad escape sequence");

	if (strcmp(f[0], "server") == 0) {
		if (parse_ll(f[1], &v) < 0 || v > 10000000)
			return err_set(e, "a bad server version '%s'", f[1]);
		c->server_version = (int)v;
		free(c->database);
		free(c->role);
		free(c->session_user);
		free(c->schema);
		c->database = xstrdup(f[2]);
		c->role = xstrdup(f[3]);
		c->session_user = xstrdup(f[4]);
		c->schema = xstrdup(f[5][0] != '\0' ? f[5] : "public");
		*seen_server = true;
	} else if (strcmp(f[0], "role") == 0) {
		if (parse_bool(f[2], &c->superuser) < 0 || parse_bool(f[3], &c->createrole) < 0 ||
		    parse_bool(f[4], &c->bypassrls) < 0 || parse_bool(f[5], &c->createdb) < 0)
			return err_set(e, "bad role attributes");
		*seen_role = true;
	} else if (strcmp(f[0], "table") == 0) {
		if (parse_ll(f[2], &v) < 0)
			return err_set(e, "a bad row count '%s' for table '%s'", f[2], f[1]);
		c->tables = xrealloc(c->tables, (c->n_tables + 1) * sizeof *c->tables);
		c->tables[c->n_tables].name = xstrdup(f[1]);
		c->tables[c->n_tables].rows = v;
		c->n_tables++;
	} else if (strcmp(f[0], "alembic") == 0) {
		c->alembic = strv_push(c->alembic, f[1]);
	} else if (strcmp(f[0], "refuse") == 0) {
		reason_add(&c->refusals, &c->n_refusals, f);
	} else if (strcmp(f[0], "warn") == 0) {
		reason_add(&c->warnings, &c->n_warnings, f);
	} else if (strcmp(f[0], "info") == 0) {
		reason_add(&c->infos, &c->n_infos, f);
	} else if (strcmp(f[0], "end") == 0) {
		if (parse_ll(f[1], &v) < 0 || (size_t)v != nlines)
			return err_set(e, "the output ends after %zu lines but says %s", nlines, f[1]);
		*end = true;
	} else {
		return err_set(e, "an unknown kind of line '%.40s'", f[0]);
	}
	return 0;
}

int
db_check_parse(const char *out, struct db_check *c, struct err *e)
{
	char *copy = xstrdup(out), *p = copy;
	bool seen_server = false, seen_role = false, end = false;
	size_t nlines = 0;

	memset(c, 0, sizeof *c);
	while (*p != '\0') {
		char *nl = strchr(p, '\n');

		if (nl != NULL)
			*nl = '\0';
		if (end) {
			err_set(e, "lines after the end");
			goto bad;
		}
		if (parse_line(p, c, &seen_server, &seen_role, nlines, &end, e) < 0) {
			err_prefix(e, "line %zu", nlines + 1);
			goto bad;
		}
		nlines++;
		if (nl == NULL)
			break;
		p = nl + 1;
	}
	if (!end) {
		err_set(e, nlines == 0 ? "no output" : "the output is cut off (no end line)");
		goto bad;
	}
	if (!seen_server || !seen_role) {
		err_set(e, "no %s line", seen_server ? "role" : "server");
		goto bad;
	}
	if (c->n_tables > 1)
		qsort(c->tables, c->n_tables, sizeof *c->tables, table_cmp);
	free(copy);
	return 0;
bad:
	err_prefix(e, "cannot read the database check's output");
	free(copy);
	db_check_clear(c);
	return -1;
}

static void
reasons_free(struct db_reason *v, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		free(v[i].code);
		free(v[i].type);
		free(v[i].name);
		free(v[i].detail);
		free(v[i].extra);
	}
	free(v);
}

void
db_check_clear(struct db_check *c)
{
	if (c == NULL)
		return;
	free(c->database);
	free(c->role);
	free(c->session_user);
	free(c->schema);
	reasons_free(c->refusals, c->n_refusals);
	reasons_free(c->warnings, c->n_warnings);
	reasons_free(c->infos, c->n_infos);
	for (size_t i = 0; i < c->n_tables; i++)
		free(c->tables[i].name);
	free(c->tables);
	strv_free(c->alembic);
	free(c->psql_version);
	free(c->pg_dump_version);
	memset(c, 0, sizeof *c);
}

bool
db_check_ok(const struct db_check *c)
{
	return c->n_refusals == 0;
}

void
db_check_refuse(struct db_check *c, const char *code, const char *type, const char *name,
    const char *detail)
{
	char *f[DB_FIELDS] = { "refuse", (char *)code, (char *)type, (char *)name,
		(char *)detail, "" };

	reason_add(&c->refusals, &c->n_refusals, f);
}

void
db_check_notice(struct db_check *c, const char *code, const char *type, const char *name,
    const char *detail)
{
	char *f[DB_FIELDS] = { "warn", (char *)code, (char *)type, (char *)name,
		(char *)detail, "" };

	reason_add(&c->warnings, &c->n_warnings, f);
}

long long
db_check_rows(const struct db_check *c, const char *name)
{
	for (size_t i = 0; i < c->n_tables; i++)
		if (strcmp(c->tables[i].name, name) == 0)
			return c->tables[i].rows;
	return -1;
}

long long
db_check_total_rows(const struct db_check *c)
{
	long long t = 0;

	for (size_t i = 0; i < c->n_tables; i++)
		t += c->tables[i].rows;
	return t;
}

/*
 * alembic heads of the JupyterHub releases (jupyterhub/alembic/versions):
 * the revision a release stamps on a new database and migrates to.
 */
static const struct {
	const char *revision, *version;
} alembic_heads[] = {
	{ "4621fec11365", "5.x" },	/* the 5.x head (shares, share_codes) */
	{ "3c2384c5aae1", "5.0-dev" },	/* between 4.1 and 5.0, never a release's head */
	{ "0eee8c825d24", "4.0-4.1" },	/* the head of 4.0 and 4.1 */
	{ "651f5419b74d", "3.0-3.1" },	/* the head of 3.0 and 3.1 */
};

const char *
db_jupyterhub_version(const struct db_check *c)
{
	for (char **a = c->alembic; a != NULL && *a != NULL; a++)
		for (size_t i = 0; i < sizeof alembic_heads / sizeof *alembic_heads; i++)
			if (strcmp(*a, alembic_heads[i].revision) == 0)
				return alembic_heads[i].version;
	if (db_check_rows(c, "shares") >= 0 || db_check_rows(c, "share_codes") >= 0)
		return "5.x";
	if (c->n_tables == 0)
		return "none";
	if (db_check_rows(c, "users") >= 0 && db_check_rows(c, "api_tokens") >= 0)
		return "3.x-4.x";
	return "unknown";
}

static char *
server_version_str(int v)
{
	if (v >= 100000)
		return xasprintf("%d.%d", v / 10000, v % 10000);
	return xasprintf("%d.%d.%d", v / 10000, v / 100 % 100, v % 100);
}

/* ---- for people and for machines ---- */

static void
print_reasons(FILE *f, const char *indent, const struct db_reason *v, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		fprintf(f, "%s  %s %s: %s", indent, v[i].type, v[i].name, v[i].detail);
		if (v[i].extra[0] != '\0')
			fprintf(f, " (%s)", v[i].extra);
		fputc('\n', f);
	}
}

void
db_check_print(const struct db_check *c, FILE *f, const char *indent, bool verbose)
{
	char *sv = server_version_str(c->server_version);
	const char *ver = db_jupyterhub_version(c);
	size_t col;

	fprintf(f, "%sdatabase '%s' on PostgreSQL %s, as role '%s'", indent, c->database, sv,
	    c->role);
	if (c->superuser || c->createrole || c->bypassrls) {
		const char *sep = " (";

		if (c->superuser)
			fprintf(f, "%sSUPERUSER", sep), sep = ", ";
		if (c->createrole)
			fprintf(f, "%sCREATEROLE", sep), sep = ", ";
		if (c->bypassrls)
			fprintf(f, "%sBYPASSRLS", sep);
		fputc(')', f);
	}
	fputc('\n', f);
	if (c->n_tables == 0) {
		fprintf(f, "%sno JupyterHub tables owned by '%s': the drop has nothing of "
		    "JupyterHub's to remove\n", indent, c->role);
	} else {
		fprintf(f, "%sJupyterHub %s schema", indent, ver);
		if (c->alembic != NULL && c->alembic[0] != NULL)
			fprintf(f, " (alembic %s)", c->alembic[0]);
		fprintf(f, ": %zu tables, %lld rows", c->n_tables, db_check_total_rows(c));
		if (c->schema != NULL && strcmp(c->schema, "public") != 0)
			fprintf(f, ", in schema '%s'", c->schema);
		fputc('\n', f);
		col = (size_t)fprintf(f, "%s ", indent);
		for (size_t i = 0; i < c->n_tables; i++) {
			char item[160];
			int len = snprintf(item, sizeof item, " %s %lld%s", c->tables[i].name,
			    c->tables[i].rows, i + 1 < c->n_tables ? "," : "");

			if (col + (size_t)len > 78 && col > strlen(indent) + 1) {
				fprintf(f, "\n%s ", indent);
				col = strlen(indent) + 1;
			}
			fputs(item, f);
			col += (size_t)len;
		}
		fputc('\n', f);
	}
	if (c->psql_version != NULL || c->pg_dump_version != NULL)
		fprintf(f, "%sin the pod: %s; %s\n", indent,
		    c->psql_version ? c->psql_version : "no psql",
		    c->pg_dump_version ? c->pg_dump_version : "no pg_dump");
	if (c->n_refusals > 0) {
		fprintf(f, "%sthe drop is not safe (%zu reason%s):\n", indent, c->n_refusals,
		    c->n_refusals == 1 ? "" : "s");
		print_reasons(f, indent, c->refusals, c->n_refusals);
	}
	if (c->n_warnings > 0) {
		fprintf(f, "%snotice%s (not a reason to refuse):\n", indent,
		    c->n_warnings == 1 ? "" : "s");
		print_reasons(f, indent, c->warnings, c->n_warnings);
	}
	if (verbose && c->n_infos > 0) {
		fprintf(f, "%sthe drop also:\n", indent);
		print_reasons(f, indent, c->infos, c->n_infos);
	}
	free(sv);
}

static json_object *
reasons_json(const struct db_reason *v, size_t n)
{
	json_object *a = json_object_new_array();

	for (size_t i = 0; i < n; i++) {
		json_object *o = json_object_new_object();

		json_object_object_add(o, "code", json_object_new_string(v[i].code));
		json_object_object_add(o, "type", json_object_new_string(v[i].type));
		json_object_object_add(o, "name", json_object_new_string(v[i].name));
		json_object_object_add(o, "detail", json_object_new_string(v[i].detail));
		if (v[i].extra[0] != '\0')
			json_object_object_add(o, "extra", json_object_new_string(v[i].extra));
		json_object_array_add(a, o);
	}
	return a;
}

json_object *
db_check_json(const struct db_check *c)
{
	json_object *o = json_object_new_object(), *attr = json_object_new_object();
	json_object *tables = json_object_new_array(), *alembic = json_object_new_array();
	char *sv = server_version_str(c->server_version);

	json_object_object_add(o, "ok", json_object_new_boolean(db_check_ok(c)));
	json_object_object_add(o, "database", json_str_or_null(c->database));
	json_object_object_add(o, "role", json_str_or_null(c->role));
	json_object_object_add(o, "sessionUser", json_str_or_null(c->session_user));
	json_object_object_add(o, "schema", json_str_or_null(c->schema));
	json_object_object_add(o, "serverVersion", json_object_new_string(sv));
	json_object_object_add(o, "serverVersionNum", json_object_new_int(c->server_version));
	json_object_object_add(attr, "superuser", json_object_new_boolean(c->superuser));
	json_object_object_add(attr, "createrole", json_object_new_boolean(c->createrole));
	json_object_object_add(attr, "bypassrls", json_object_new_boolean(c->bypassrls));
	json_object_object_add(attr, "createdb", json_object_new_boolean(c->createdb));
	json_object_object_add(o, "attributes", attr);
	json_object_object_add(o, "jupyterhub", json_object_new_string(db_jupyterhub_version(c)));
	for (char **a = c->alembic; a != NULL && *a != NULL; a++)
		json_object_array_add(alembic, json_object_new_string(*a));
	json_object_object_add(o, "alembic", alembic);
	for (size_t i = 0; i < c->n_tables; i++) {
		json_object *t = json_object_new_object();

		json_object_object_add(t, "name", json_object_new_string(c->tables[i].name));
		json_object_object_add(t, "rows", json_object_new_int64(c->tables[i].rows));
		json_object_array_add(tables, t);
	}
	json_object_object_add(o, "tables", tables);
	json_object_object_add(o, "totalRows", json_object_new_int64(db_check_total_rows(c)));
	json_object_object_add(o, "refusals", reasons_json(c->refusals, c->n_refusals));
	json_object_object_add(o, "warnings", reasons_json(c->warnings, c->n_warnings));
	json_object_object_add(o, "info", reasons_json(c->infos, c->n_infos));
	json_add_str(o, "psqlVersion", c->psql_version);
	json_add_str(o, "pgDumpVersion", c->pg_dump_version);
	free(sv);
	return o;
}

int
db_tool_major(const char *line)
{
	const char *p = strstr(line, ") ");

	/* "psql (PostgreSQL) 15.4 (Debian ...)"; a bare "15.4" too. */
	p = p != NULL ? p + 2 : line;
	if (*p < '0' || *p > '9')
		return -1;
	return (int)strtol(p, NULL, 10);
}

/* ---- running things in the hub pod ---- */

#define OUTPUT_MAX (64L * 1024 * 1024)

struct capture {
	struct buf out, err;
	int out_fd;		/* stdout to this descriptor instead, when >= 0 */
	const char *out_path;	/* its name, for messages */
	struct progress *p;	/* bytes and rate into out_fd, or NULL */
	unsigned long long written;
	long long started;
};

static int
capture_output(enum exec_channel ch, const void *p, size_t n, void *arg, struct err *e)
{
	struct capture *c = arg;

	if (ch == EXEC_STDOUT && c->out_fd >= 0) {
		for (const char *q = p; n > 0;) {
			ssize_t w = write(c->out_fd, q, n);

			if (w < 0 && errno == EINTR)
				continue;
			if (w < 0)
				return err_set(e, "cannot write '%s': %s", c->out_path,
				    strerror(errno));
			q += w;
			n -= (size_t)w;
			c->written += (unsigned long long)w;
		}
		if (c->p != NULL) {
			char size[32], rate[32], note[96];
			long long ms = now_ms() - c->started;

			progress_size(size, sizeof size, c->written);
			progress_size(rate, sizeof rate, ms > 0 ? c->written * 1000 / (unsigned long long)ms :
			    0);
			snprintf(note, sizeof note, "%s, %s/s", size, rate);
			progress_set(c->p, 0, note);
		}
		return 0;
	}
	struct buf *b = ch == EXEC_STDOUT ? &c->out : &c->err;

	if (b->len + n > OUTPUT_MAX)
		return err_set(e, "the command in the hub pod printed more than %ld bytes",
		    OUTPUT_MAX);
	buf_append(b, p, n);
	return 0;
}

static int
pod_run_input(struct nub *n, const char *pod, char **argv, const char *input, size_t len,
    struct capture *cap, long timeout_ms, int *code, struct err *e)
{
	struct exec_opts o = EXEC_OPTS_INIT;
	struct exec_result r;

	o.ns = n->ns;
	o.pod = pod;
	o.container = HUB_CONTAINER;
	o.argv = argv;
	o.stdin_buf = input;
	o.stdin_len = len;
	o.output = capture_output;
	o.output_arg = cap;
	o.timeout_ms = timeout_ms;
	if (cap->out.data == NULL)
		buf_puts(&cap->out, "");
	if (cap->err.data == NULL)
		buf_puts(&cap->err, "");
	if (kube_exec(n->kube, &o, &r, e) < 0)
		return -1;
	*code = r.exit_code;
	return 0;
}

static int
pod_run(struct nub *n, const char *pod, char **argv, struct capture *cap, long timeout_ms,
    int *code, struct err *e)
{
	return pod_run_input(n, pod, argv, NULL, 0, cap, timeout_ms, code, e);
}

static void
capture_free(struct capture *c)
{
	buf_free(&c->out);
	buf_free(&c->err);
}

/* psql's first "ERROR:"/"FATAL:" line, or its first line, trimmed (static buffer). */
static const char *
psql_message(const char *err)
{
	static char line[1024];
	const char *p = NULL;

	for (const char *keys[] = { "ERROR:  ", "FATAL:  ", "psql: error: ", NULL }, **k = keys;
	    *k != NULL && p == NULL; k++)
		if ((p = strstr(err, *k)) != NULL)
			p += strlen(*k);
	if (p == NULL)
		p = err;
	while (*p == ' ' || *p == '\n')
		p++;
	snprintf(line, sizeof line, "%.*s", (int)strcspn(p, "\n"), p);
	if (line[0] == '\0')
		snprintf(line, sizeof line, "no message");
	return line;
}

/*
 * psql in the pod: quiet, unaligned, tuples only, never prompting for a
 * password; the SQL (tens of KB) on stdin, out of the request's URL.
 */
static int
psql_run(struct nub *n, const char *pod, const char *url, const char *sql,
    struct capture *cap, long timeout_ms, int *code, struct err *e)
{
	char *extra[] = { "-q", "-A", "-t", "-w", NULL };
	struct psql_cmd pc = { .url = url, .stdin_sql = sql, .extra = extra };
	char **argv = NULL;
	const char *in;
	size_t len;
	int rc;

	if (psql_argv(&pc, &argv, e) < 0)
		return -1;
	in = psql_stdin(&pc, &len);
	rc = pod_run_input(n, pod, argv, in, len, cap, timeout_ms, code, e);
	strv_free(argv);
	return rc;
}

#define CHECK_TIMEOUT_MS (120 * 1000L)

int
db_psql_script(struct nub *n, const char *pod, const char *url, const char *script,
    bool single, long timeout_ms, char **out, struct err *e)
{
	char *extra1[] = { "-q", "-A", "-t", "-w", "-1", NULL };
	struct psql_cmd pc = { .url = url, .script = script, .extra = extra1 };
	struct capture cap = { .out_fd = -1 };
	char **argv = NULL;
	const char *in;
	size_t len;
	int code = 0, rc = -1;

	if (out != NULL)
		*out = NULL;
	if (!single)
		extra1[4] = NULL;
	if (psql_argv(&pc, &argv, e) < 0)
		return -1;
	in = psql_stdin(&pc, &len);
	if (pod_run_input(n, pod, argv, in, len, &cap, timeout_ms, &code, e) < 0) {
		/* The session ended early: psql may or may not have finished. */
		if (e->reason == NULL)
			e->reason = "Unknown";
		goto out;
	}
	if (code != 0) {
		err_set(e, "psql exited with %d: %s", code, psql_message(cap.err.data));
		goto out;
	}
	if (out != NULL) {
		*out = cap.out.data;
		cap.out.data = NULL;
	}
	rc = 0;
out:
	strv_free(argv);
	capture_free(&cap);
	return rc;
}

int
db_check_run(struct nub *n, const char *pod, const char *url, struct db_check *out,
    struct err *e)
{
	struct capture cap = { .out_fd = -1 };
	int code;

	memset(out, 0, sizeof *out);
	log_debug(LOG_STEPS, "checking what role owns in the database (psql in pod %s)", pod);
	if (psql_run(n, pod, url, db_check_sql(), &cap, CHECK_TIMEOUT_MS, &code, e) < 0)
		goto fail;
	if (code != 0) {
		err_set(e, "the database check failed (psql exit %d): %s", code,
		    psql_message(cap.err.data));
		if (code == 2 || strstr(cap.err.data, "connection to server") != NULL)
			err_hint(e, "check the URL (%s) and the password file in the hub pod", url);
		else if (strstr(cap.err.data, "pg_statistic_ext") != NULL ||
		    strstr(cap.err.data, "pg_publication") != NULL)
			err_hint(e, "the check needs PostgreSQL 10 or later");
		e->exit = EXIT_REFUSED;
		goto fail;
	}
	if (db_check_parse(cap.out.data, out, e) < 0)
		goto fail;
	capture_free(&cap);
	return 0;
fail:
	capture_free(&cap);
	return -1;
}

/* `tool\tNAME\tVERSION' or `missing\tNAME' per tool. */
static const char tools_script[] =
	"for t in psql pg_dump; do "
	"if v=$(\"$t\" --version 2>/dev/null); then printf 'tool\\t%s\\t%s\\n' \"$t\" \"$v\"; "
	"else printf 'missing\\t%s\\n' \"$t\"; fi; done";

static int
tools_check(struct nub *n, const char *pod, struct db_check *c, struct err *e)
{
	char *argv[] = { "sh", "-c", (char *)tools_script, NULL };
	struct capture cap = { .out_fd = -1 };
	int code;

	if (pod_run(n, pod, argv, &cap, 60 * 1000L, &code, e) < 0) {
		capture_free(&cap);
		return -1;
	}
	for (char *p = cap.out.data; *p != '\0';) {
		size_t len = strcspn(p, "\n");
		char *line = xstrndup(p, len), *t1 = strchr(line, '\t'), *t2;

		if (t1 != NULL && strncmp(line, "tool\t", 5) == 0 &&
		    (t2 = strchr(t1 + 1, '\t')) != NULL) {
			*t2 = '\0';
			if (strcmp(t1 + 1, "psql") == 0) {
				free(c->psql_version);
				c->psql_version = xstrdup(t2 + 1);
			} else if (strcmp(t1 + 1, "pg_dump") == 0) {
				free(c->pg_dump_version);
				c->pg_dump_version = xstrdup(t2 + 1);
			}
		}
		free(line);
		p += len;
		if (*p == '\n')
			p++;
	}
	capture_free(&cap);
	if (c->psql_version == NULL)
		db_check_refuse(c, "tool", "program", "psql", "not found in the hub pod");
	return 0;
}

int
db_preflight(struct nub *n, const char *pod, const char *url, struct db_check *out,
    struct err *e)
{
	struct db_check tools = { 0 };

	if (tools_check(n, pod, &tools, e) < 0)
		return -1;
	if (tools.psql_version == NULL) {
		err_set(e, "psql is not in the hub pod '%s'", pod);
		err_hint(e, "the hub image must have postgresql-client (psql and pg_dump)");
		e->exit = EXIT_REFUSED;
		db_check_clear(&tools);
		return -1;
	}
	if (db_check_run(n, pod, url, out, e) < 0) {
		db_check_clear(&tools);
		return -1;
	}
	out->psql_version = tools.psql_version;
	out->pg_dump_version = tools.pg_dump_version;
	tools.psql_version = tools.pg_dump_version = NULL;
	for (size_t i = 0; i < tools.n_refusals; i++) {
		struct db_reason *r = &tools.refusals[i];

		db_check_refuse(out, r->code, r->type, r->name, r->detail);
	}
	db_check_clear(&tools);

	/* pg_dump refuses a server newer than itself: psql takes the backup then. */
	if (db_backup_kind(out) == DB_BACKUP_PSQL) {
		char *why = out->pg_dump_version == NULL ?
		    xstrdup("not in the hub pod: the backup is taken with psql (COPY)") :
		    xasprintf("version %d cannot dump a PostgreSQL %d server: the backup is "
		    "taken with psql (COPY)", db_tool_major(out->pg_dump_version),
		    out->server_version / 10000);

		db_check_notice(out, "backup", "program", "pg_dump", why);
		free(why);
	}
	return 0;
}

/* ---- backup ---- */

enum db_backup_kind
db_backup_kind(const struct db_check *c)
{
	int major = c->pg_dump_version ? db_tool_major(c->pg_dump_version) : -1;

	if (major < 0 || (c->server_version >= 100000 && major < c->server_version / 10000))
		return DB_BACKUP_PSQL;
	return DB_BACKUP_PG_DUMP;
}

const char *
db_backup_kind_name(enum db_backup_kind k)
{
	return k == DB_BACKUP_PSQL ? "psql" : "pg_dump";
}

int
db_backup_dir(struct nub *n, char **dir, struct err *e)
{
	return nub_state_dir(n, "backups", dir, e);
}

char *
db_backup_path(const char *dir, const char *context, time_t t)
{
	char stamp[32], *safe = xstrdup(context && *context ? context : "in-cluster"), *p;
	struct tm tm;

	for (char *s = safe; *s != '\0'; s++)
		if (!((*s >= 'a' && *s <= 'z') || (*s >= 'A' && *s <= 'Z') ||
		    (*s >= '0' && *s <= '9') || *s == '.' || *s == '-' || *s == '_'))
			*s = '_';
	gmtime_r(&t, &tm);
	strftime(stamp, sizeof stamp, "%Y%m%dT%H%M%SZ", &tm);
	p = xasprintf("%s/nublado-db-%s-%s.sql", dir, safe, stamp);
	free(safe);
	return p;
}

/*
 * A plain dump ends with "-- PostgreSQL database dump complete", then
 * "--", blank lines and, from pg_dump 17.6/16.10/15.14 on, "\unrestrict KEY".
 * Each table's data is "COPY public.NAME (cols) FROM stdin;", one line per
 * row (COPY escapes newlines), then "\.".
 */
int
db_backup_verify(const char *path, char *const *tables, long long *counts, struct err *e)
{
	size_t len, ntables = strv_len(tables);
	char *data, *p;
	const char *trailer = "-- PostgreSQL database dump complete";
	bool complete = false, *found;
	int rc = -1;

	if (file_read(path, SIZE_MAX, &data, &len, e) < 0)
		return -1;
	found = xcalloc(ntables + 1, sizeof *found);
	if (strlen(data) != len) {
		err_set(e, "backup '%s' holds a NUL byte: not a plain pg_dump file", path);
		goto out;
	}
	if (strncmp(data, BACKUP_PSQL_HEADER, strlen(BACKUP_PSQL_HEADER)) == 0) {
		trailer = BACKUP_PSQL_TRAILER;
	} else if (strncmp(data, "--\n-- PostgreSQL database dump\n", 31) != 0) {
		err_set(e, "backup '%s' does not start like a pg_dump file", path);
		goto out;
	}
	for (p = data; *p != '\0';) {
		char *nl = strchr(p, '\n');
		size_t n = nl ? (size_t)(nl - p) : strlen(p);

		if (complete) {
			/* Only the trailer's comments, blank lines and \unrestrict may follow. */
			if (n > 0 && strncmp(p, "--", 2) != 0 && strncmp(p, "\\unrestrict ", 12) != 0) {
				err_set(e, "backup '%s' goes on after pg_dump's \"dump complete\" line",
				    path);
				goto out;
			}
		} else if (n == strlen(trailer) && strncmp(p, trailer, n) == 0) {
			complete = true;
		} else if ((n > 12 && strncmp(p, "COPY public.", 12) == 0) ||
		    (n > 14 && strncmp(p, "COPY \"public\".", 14) == 0)) {
			/* pg_dump writes public.users, the psql backup "public"."users". */
			bool quoted = p[5] == '"';
			const char *name = p + (quoted ? 15 : 12);
			size_t nlen = quoted ? strcspn(name, "\"\n") : strcspn(name, " \n");
			long long rows = 0;
			size_t i;

			for (i = 0; i < ntables; i++)
				if (strlen(tables[i]) == nlen && strncmp(tables[i], name, nlen) == 0)
					break;
			/* The COPY block: rows up to "\." */
			for (p = nl ? nl + 1 : p + n;; rows++) {
				char *l = strchr(p, '\n');

				if (l == NULL) {
					err_set(e, "backup '%s' is cut off inside the data of table "
					    "'%.*s'", path, (int)nlen, name);
					goto out;
				}
				if (l - p == 2 && p[0] == '\\' && p[1] == '.') {
					p = l + 1;
					break;
				}
				p = l + 1;
			}
			if (i < ntables) {
				found[i] = true;
				if (counts != NULL)
					counts[i] = rows;
			}
			continue;
		}
		p += n;
		if (*p == '\n')
			p++;
	}
	if (!complete) {
		err_set(e, "backup '%s' is incomplete: no \"dump complete\" line at its end", path);
		goto out;
	}
	for (size_t i = 0; i < ntables; i++) {
		if (!found[i]) {
			err_set(e, "backup '%s' has no data for table '%s'", path, tables[i]);
			goto out;
		}
	}
	rc = 0;
out:
	free(found);
	free(data);
	return rc;
}

/*
 * Exactly what the drop removes: the JupyterHub tables with their sequences,
 * indexes, constraints and grants.  Plain SQL: it can be checked here without
 * a pg_restore matching the pod's pg_dump, and it restores with psql (as a
 * superuser, or as the role itself).
 */
char **
db_dump_args(const struct db_check *c, const char *url)
{
	char **args = NULL;

	args = strv_push(args, "--format=plain");
	args = strv_push(args, "--no-password");
	args = strv_push(args, "--lock-wait-timeout=20s");
	args = strv_push(args, "--strict-names");
	for (size_t i = 0; i < c->n_tables; i++) {
		char *t = xasprintf("--table=public.%s", c->tables[i].name);

		args = strv_push(args, t);
		free(t);
	}
	args = strv_push(args, "--dbname");
	args = strv_push(args, url);
	return args;
}

#define DUMP_TIMEOUT_MS (60 * 60 * 1000L)

int
db_backup(struct nub *n, const char *pod, const char *url, const struct db_check *c,
    const char *dir, const char *context, char **path_out, long long *counts,
    struct err *e)
{
	struct capture cap = { .out_fd = -1 };
	char **args = NULL, **argv = NULL, **tables = NULL, *own_dir = NULL, *path = NULL;
	char *script = NULL;
	enum db_backup_kind kind = db_backup_kind(c);
	const char *tool = kind == DB_BACKUP_PSQL ? "psql" : "pg_dump";
	int code = 0, rc = -1;

	*path_out = NULL;
	if (c->n_tables == 0)
		return err_set(e, "no JupyterHub tables to back up in database '%s'",
		    c->database ? c->database : "?");
	if (dir == NULL) {
		if (db_backup_dir(n, &own_dir, e) < 0)
			return -1;
		dir = own_dir;
	} else if (mkdir_p(dir, e) < 0) {
		return -1;
	}
	path = db_backup_path(dir, context, time(NULL));
	for (size_t i = 0; i < c->n_tables; i++)
		tables = strv_push(tables, c->tables[i].name);
	if (kind == DB_BACKUP_PSQL) {
		/* Rows load parents first: the foreign keys between the tables say how. */
		struct capture fk = { .out_fd = -1 };
		char *sql = backup_fk_sql("public");
		char **ordered = NULL;
		bool alembic = db_check_rows(c, "alembic_version") >= 0;

		if (psql_run(n, pod, url, sql, &fk, CHECK_TIMEOUT_MS, &code, e) < 0 || code != 0) {
			if (code != 0)
				err_set(e, "reading the tables' foreign keys failed (psql exit %d): %s",
				    code, psql_message(fk.err.data));
			err_prefix(e, "backup failed");
			free(sql);
			capture_free(&fk);
			goto out;
		}
		ordered = backup_order(tables, fk.out.data);
		script = backup_psql_script("public", ordered, alembic);
		strv_free(ordered);
		capture_free(&fk);
		free(sql);
		{
			char *extra[] = { "-q", "-A", "-t", "-w", NULL };
			struct psql_cmd pc = { .url = url, .script = script, .extra = extra };

			if (psql_argv(&pc, &argv, e) < 0)
				goto out;
		}
	} else {
		args = db_dump_args(c, url);
		argv = pg_tool_argv("pg_dump", args);
	}

	cap.out_fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW, 0600);
	cap.out_path = path;
	if (cap.out_fd < 0) {
		err_set(e, "cannot create backup file '%s': %s", path, strerror(errno));
		goto out;
	}
	log_debug(LOG_STEPS, "%s in pod %s to %s", tool, pod, path);
	cap.started = now_ms();
	cap.p = progress_start(kind == DB_BACKUP_PSQL ? "backing up with psql" :
	    "backing up with pg_dump", 0, "", isatty(STDERR_FILENO));
	if (pod_run_input(n, pod, argv, script, script ? strlen(script) : 0, &cap,
	    DUMP_TIMEOUT_MS, &code, e) < 0) {
		err_prefix(e, "backup failed");
		goto fail;
	}
	if (code != 0) {
		err_set(e, "backup failed: %s exited with %d: %s", tool, code,
		    psql_message(cap.err.data));
		goto fail;
	}
	progress_end(cap.p, NULL);
	cap.p = NULL;
	if (fsync(cap.out_fd) < 0 || close(cap.out_fd) < 0) {
		cap.out_fd = -1;
		err_set(e, "cannot write backup file '%s': %s", path, strerror(errno));
		goto fail;
	}
	cap.out_fd = -1;
	if (db_backup_verify(path, tables, counts, e) < 0)
		goto fail;
	*path_out = path;
	path = NULL;
	rc = 0;
	goto out;
fail:
	progress_end(cap.p, NULL);
	cap.p = NULL;
	if (cap.out_fd >= 0)
		close(cap.out_fd);
	cap.out_fd = -1;
	if (unlink(path) < 0 && errno != ENOENT)
		log_warn("cannot remove the incomplete backup '%s': %s", path, strerror(errno));
out:
	if (cap.out_fd >= 0)
		close(cap.out_fd);
	capture_free(&cap);
	strv_free(args);
	strv_free(argv);
	strv_free(tables);
	free(script);
	free(path);
	free(own_dir);
	return rc;
}

/* ---- drop ---- */

#define DROP_TIMEOUT_MS (5 * 60 * 1000L)
#define DROP_TRIES 3

int
db_drop(struct nub *n, const char *pod, const char *url, struct err *e)
{
	for (int attempt = 1;; attempt++) {
		struct capture cap = { .out_fd = -1 };
		int code;

		log_debug(LOG_STEPS, "DROP OWNED BY current_user (psql in pod %s, try %d)", pod,
		    attempt);
		if (psql_run(n, pod, url, db_drop_sql(), &cap, DROP_TIMEOUT_MS, &code, e) < 0) {
			capture_free(&cap);
			/* Refused at the handshake: psql never ran. */
			if (e->http != 0)
				return -1;
			/* Maybe sent, but the end never came back: it may or may not have happened. */
			err_prefix(e, "the drop's outcome is unknown");
			err_hint(e, "look with: kubectl nublado status");
			e->reason = "Unknown";
			return -1;
		}
		if (code == 0) {
			if (cap.err.len > 0)
				log_debug(LOG_STEPS, "psql said: %s", cap.err.data);
			capture_free(&cap);
			return 0;
		}
		const char *msg = psql_message(cap.err.data);

		if (strstr(cap.err.data, DB_DROP_REFUSAL) != NULL) {
			err_set(e, "%s", msg);
			err_hint(e, "nothing was dropped; see: kubectl nublado wipe-db --dry-run");
			e->exit = EXIT_REFUSED;
		} else if (strstr(cap.err.data, "because other objects depend on them") != NULL) {
			const char *d = strstr(cap.err.data, "DETAIL:  ");

			err_set(e, "the drop refused: %s%s%.*s", msg, d ? ": " : "",
			    d ? (int)strcspn(d + 9, "\n") : 0, d ? d + 9 : "");
			err_hint(e, "nothing was dropped");
			e->exit = EXIT_REFUSED;
		} else if (strstr(cap.err.data, "lock timeout") != NULL && attempt < DROP_TRIES) {
			log_warn("the drop waited too long for a lock (%s); trying again", msg);
			capture_free(&cap);
			continue;
		} else if (code == 2) {
			err_set(e, "the connection to the database was lost during the drop: %s", msg);
			err_hint(e, "it may or may not have happened; look with: kubectl nublado "
			    "status");
			e->reason = "Unknown";
		} else {
			err_set(e, "the drop failed (psql exit %d), nothing was dropped: %s", code,
			    msg);
		}
		capture_free(&cap);
		return -1;
	}
}

int
db_schema_present(struct nub *n, const char *pod, const char *url, bool *present,
    struct db_check *after, struct err *e)
{
	struct db_check c;

	*present = false;
	if (db_check_run(n, pod, url, &c, e) < 0)
		return -1;
	*present = db_check_rows(&c, "alembic_version") >= 0;
	if (after != NULL)
		*after = c;
	else
		db_check_clear(&c);
	return 0;
}
