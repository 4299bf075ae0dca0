/* dburl.c: find the JupyterHub database URL (cluster Secret or Phalanx values), normalise it for psql */
#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <json-c/json.h>
#include <libfyaml.h>
#include <libpq-fe.h>

#include "../kube/url.h"
#include "../util/base64.h"
#include "../util/buf.h"
#include "../util/exitcode.h"
#include "../util/file.h"
#include "../util/jsonout.h"
#include "../util/log.h"
#include "../util/xalloc.h"
#include "../util/yaml.h"
#include "dburl.h"

/* ------------------------------------------------------------ redaction */

/*
 * A span of the raw value to hide.  Redaction works on spans so that the
 * same secrets can also be scrubbed from messages that quote the value
 * (libpq's do).
 */
struct span {
	size_t off, len;
};

struct spans {
	struct span *v;
	int n, cap;
};

static bool
all_digits(const char *p, const char *end)
{
	for (; p < end; p++)
		if (!isdigit((unsigned char)*p))
			return false;
	return true;
}

/*
 * Where the userinfo of a URL ends (its '@'), given `rest' after "://", or
 * NULL when there is none or it cannot be told.  The last '@' ends it, so a
 * raw '@' or ':' in a password does no harm.  A '/' or '?' before that '@'
 * is either in a password ("user:pa/ss@host") or the '@' is in the path or
 * query ("host:5432/db?x=a@b"): a colon followed by something that is not a
 * port number says password, unless an '@' already ended the authority
 * ("user:pw@host:5432/db?x=a@b").  Anything else is NULL: the caller decides
 * (refuse to parse, redact everything up to the '@').
 */
static bool password_key(const char *k, size_t n);

static const char *
userinfo_end(const char *rest)
{
	const char *at = strrchr(rest, '@');
	size_t stop;
	const char *colon;

	if (at == NULL)
		return NULL;
	stop = strcspn(rest, "/?");
	if (rest + stop > at)
		return at;
	colon = memchr(rest, ':', stop);
	/* Nor when a password parameter comes first: that '@' may be in its value. */
	if (colon != NULL && memchr(rest, '[', stop) == NULL &&
	    memchr(rest, '@', stop) == NULL && !all_digits(colon + 1, rest + stop) &&
	    !password_key(rest, (size_t)(at - rest)))
		return at;
	return NULL;
}

static void
span_add(struct spans *s, size_t off, size_t len)
{
	if (len == 0)
		return;
	if (s->n == s->cap) {
		s->cap = s->cap ? 2 * s->cap : 4;
		s->v = xrealloc(s->v, (size_t)s->cap * sizeof *s->v);
	}
	s->v[s->n].off = off;
	s->v[s->n].len = len;
	s->n++;
}

/*
 * Values of `...password=' settings (a libpq URI query, a key=value string):
 * up to '&', white space or the end; a quoted value to its closing quote.
 */
static void
password_params(const char *raw, size_t from, struct spans *s)
{
	const char *p = raw + from, *v, *q;

	while ((p = strcasestr(p, "password")) != NULL) {
		v = p + 8;
		while (*v == ' ' || *v == '\t')
			v++;
		if (*v != '=') {
			p += 8;
			continue;
		}
		v++;
		while (*v == ' ' || *v == '\t')
			v++;
		if (*v == '\'') {
			for (q = v + 1; *q != '\0' && *q != '\''; q++)
				if (*q == '\\' && q[1] != '\0')
					q++;
			if (*q == '\'')
				q++;
		} else {
			q = v + strcspn(v, "& \t\n");
		}
		span_add(s, (size_t)(v - raw), (size_t)(q - v));
		p = q;
	}
}

/* A percent-decoded copy of s[0:n], for comparing parameter names. */
static char *
pct_decode(const char *s, size_t n)
{
	char *out = xmalloc(n + 1), *o = out;
	size_t i;

	/* %00 stays as written: a NUL would end the result early (libpq refuses it anyway). */
	for (i = 0; i < n; i++) {
		if (s[i] == '%' && i + 2 < n &&
		    isxdigit((unsigned char)s[i + 1]) && isxdigit((unsigned char)s[i + 2]) &&
		    !(s[i + 1] == '0' && s[i + 2] == '0')) {
			char hex[3] = { s[i + 1], s[i + 2], '\0' };

			*o++ = (char)strtol(hex, NULL, 16);
			i += 2;
		} else {
			*o++ = s[i];
		}
	}
	*o = '\0';
	return out;
}

/* Whether a query parameter name (percent-encoded as written) names a password. */
static bool
password_key(const char *k, size_t n)
{
	char *d = pct_decode(k, n);
	bool yes = strcasestr(d, "password") != NULL;

	free(d);
	return yes;
}

/*
 * The first query parameter that moves the connection somewhere the URL's
 * host and port do not say (q after the '?'), or NULL.  psql in the hub pod
 * sends the pod's password to wherever it connects: ?host=, ?hostaddr=,
 * ?port= and ?service= (a pg_service.conf entry) would take it elsewhere
 * while the host shown looks right.
 */
static const char *
redirecting_key(const char *q)
{
	static const char *const keys[] = { "host", "hostaddr", "port", "service", NULL };
	const char *p = q, *amp, *eq, *found = NULL;
	size_t len;

	while (found == NULL) {
		char *k;

		amp = strchr(p, '&');
		len = amp != NULL ? (size_t)(amp - p) : strlen(p);
		eq = memchr(p, '=', len);
		k = pct_decode(p, eq != NULL ? (size_t)(eq - p) : len);
		for (int i = 0; keys[i] != NULL && found == NULL; i++)
			if (strcmp(k, keys[i]) == 0)
				found = keys[i];
		free(k);
		if (amp == NULL)
			break;
		p = amp + 1;
	}
	return found;
}

/* The values of password parameters in a URL query (q after the '?'). */
static void
query_spans(const char *raw, const char *q, struct spans *s)
{
	const char *p = q, *amp, *eq;
	size_t len;

	for (;;) {
		amp = strchr(p, '&');
		len = amp != NULL ? (size_t)(amp - p) : strlen(p);
		eq = memchr(p, '=', len);
		if (eq != NULL && password_key(p, (size_t)(eq - p)))
			span_add(s, (size_t)(eq + 1 - raw), len - (size_t)(eq + 1 - p));
		if (amp == NULL)
			break;
		p = amp + 1;
	}
}

/* The spans of raw that may be secret, in order, not overlapping (caller frees s->v). */
static void
secret_spans(const char *raw, struct spans *s)
{
	const char *sep = strstr(raw, "://"), *rest, *at, *colon, *q;

	memset(s, 0, sizeof *s);
	if (sep != NULL) {
		rest = sep + 3;
		at = userinfo_end(rest);
		if (at != NULL) {
			colon = memchr(rest, ':', (size_t)(at - rest));
			if (colon != NULL)
				span_add(s, (size_t)(colon + 1 - raw), (size_t)(at - colon - 1));
		} else if ((at = strrchr(rest, '@')) != NULL) {
			/*
			 * In doubt: everything between "://" and the '@'; all
			 * after "://" when a password parameter is anywhere (its
			 * value may hold that '@', or come after it).
			 */
			if (password_key(rest, strlen(rest))) {
				span_add(s, (size_t)(rest - raw), strlen(rest));
				return;
			}
			span_add(s, (size_t)(rest - raw), (size_t)(at - rest));
		}
		q = strchr(at != NULL ? at : rest, '?');
		if (q != NULL)
			query_spans(raw, q + 1, s);
	} else {
		/* Not a URL: "user:pw@host" or a key=value string. */
		at = strrchr(raw, '@');
		if (at != NULL && password_key(raw, strlen(raw))) {
			span_add(s, 0, strlen(raw));	/* as above: the '@' may be in it */
			return;
		}
		if (at != NULL)
			span_add(s, 0, (size_t)(at - raw));
		password_params(raw, at != NULL ? (size_t)(at - raw) : 0, s);
	}
}

char *
dburl_redact(const char *raw)
{
	struct spans s;
	struct buf b = BUF_INIT;
	size_t pos = 0;

	if (raw == NULL)
		return NULL;
	secret_spans(raw, &s);
	for (int i = 0; i < s.n; i++) {
		buf_append(&b, raw + pos, s.v[i].off - pos);
		buf_puts(&b, "***");
		pos = s.v[i].off + s.v[i].len;
	}
	buf_puts(&b, raw + pos);
	free(s.v);
	return buf_detach(&b);
}

/* msg with every secret span of raw that occurs in it replaced (caller frees). */
static char *
scrub(const char *msg, const char *raw)
{
	struct spans s;
	struct buf b = BUF_INIT;
	const char *p = msg;

	/*
	 * One pass over msg, the longest secret first at each place: a "***"
	 * put in is never searched again (with passwords "*", each pass over
	 * the whole message tripled it).
	 */
	secret_spans(raw, &s);
	while (*p != '\0') {
		size_t best = 0;

		for (int i = 0; i < s.n; i++)
			if (s.v[i].len > best && strncmp(p, raw + s.v[i].off, s.v[i].len) == 0)
				best = s.v[i].len;
		if (best > 0) {
			buf_puts(&b, "***");
			p += best;
		} else {
			buf_append(&b, p, 1);
			p++;
		}
	}
	free(s.v);
	return buf_detach(&b);
}

/* libpq's message, one line, without its trailing newline, secrets scrubbed. */
static char *
libpq_message(char *pqmsg, const char *raw)
{
	char *m = xstrdup(pqmsg != NULL ? pqmsg : "libpq gave no reason"), *out;
	size_t len = strlen(m);

	while (len > 0 && (m[len - 1] == '\n' || m[len - 1] == ' '))
		m[--len] = '\0';
	for (char *p = m; *p != '\0'; p++)
		if (*p == '\n')
			*p = ' ';
	out = scrub(m, raw);
	free(m);
	if (pqmsg != NULL)
		PQfreemem(pqmsg);
	return out;
}

/* ------------------------------------------------------------ parsing */

void
dburl_clear(struct dburl *u)
{
	if (u == NULL)
		return;
	free(u->url);
	free(u->raw_redacted);
	free(u->scheme);
	free(u->driver);
	free(u->user);
	free(u->host);
	free(u->port);
	free(u->dbname);
	free(u->source);
	free(u->secret);
	free(u->file);
	free(u->key);
	memset(u, 0, sizeof *u);
}

void
dburl_free(struct dburl *u)
{
	dburl_clear(u);
	free(u);
}

char *
dburl_normalised_from(const struct dburl *u)
{
	if (u == NULL || !u->had_driver || u->driver == NULL)
		return NULL;
	return xasprintf("%s+%s", u->scheme, u->driver);
}

/* A query string with the password settings left out; sets *removed. */
static void
query_without_passwords(struct buf *out, const char *q, bool *removed)
{
	const char *p = q, *amp, *eq;
	size_t len, klen;
	bool first = true;

	while (*p != '\0') {
		amp = strchr(p, '&');
		len = amp != NULL ? (size_t)(amp - p) : strlen(p);
		eq = memchr(p, '=', len);
		klen = eq != NULL ? (size_t)(eq - p) : len;
		if (password_key(p, klen)) {
			*removed = true;
		} else if (len > 0) {
			buf_puts(out, first ? "?" : "&");
			buf_append(out, p, len);
			first = false;
		}
		if (amp == NULL)
			break;
		p = amp + 1;
	}
}

static int
refuse_scheme(const char *base, const char *redacted, struct err *e)
{
	static const struct { const char *scheme, *name; } known[] = {
		{ "sqlite", "SQLite" }, { "mysql", "MySQL" }, { "mariadb", "MariaDB" },
		{ "oracle", "Oracle" }, { "mssql", "SQL Server" },
		{ "cockroachdb", "CockroachDB" },
	};

	for (size_t i = 0; i < sizeof known / sizeof known[0]; i++) {
		if (strcmp(base, known[i].scheme) == 0) {
			err_set(e, "JupyterHub's database is %s ('%s'), not PostgreSQL: "
			    "this runbook does not apply", known[i].name, redacted);
			err_hint(e, "this tool wipes a PostgreSQL session database only");
			return -1;
		}
	}
	err_set(e, "unsupported database URL scheme '%s' in '%s': expected postgresql://",
	    base, redacted);
	err_hint(e, "JupyterHub's PostgreSQL URLs look like postgresql://USER@HOST/DATABASE");
	return -1;
}

static int
not_a_url(const char *raw, const char *redacted, struct err *e)
{
	PQconninfoOption *o;
	char *pqmsg = NULL, *m;

	o = PQconninfoParse(raw, &pqmsg);
	if (o == NULL) {
		struct spans s;

		/*
		 * libpq quotes pieces of what it read, such as a password cut
		 * at an '=' ("user:pa=ss@h"): no scrubbing finds those, so with
		 * anything secret in it, nothing of libpq's reading is shown.
		 */
		secret_spans(raw, &s);
		free(s.v);
		if (s.n > 0) {
			if (pqmsg != NULL)
				PQfreemem(pqmsg);
			err_set(e, "'%s' is not a database URL", redacted);
		} else {
			m = libpq_message(pqmsg, raw);
			err_set(e, "'%s' is not a database URL: %s", redacted, m);
			free(m);
		}
	} else {
		PQconninfoFree(o);
		if (pqmsg != NULL)
			PQfreemem(pqmsg);
		err_set(e, "'%s' is a libpq connection string, not a URL", redacted);
	}
	err_hint(e, "JupyterHub's hub.db.url is an SQLAlchemy URL such as "
	    "postgresql://USER@HOST/DATABASE");
	return -1;
}

static void
take_part(char **dst, const char *val)
{
	free(*dst);
	*dst = val != NULL && *val != '\0' ? xstrdup(val) : NULL;
}

int
dburl_parse(const char *raw, struct dburl *u, struct err *e)
{
	const char *sep, *rest, *at, *tail, *colon, *q;
	char *redacted, *scheme = NULL, *plus, *pqmsg = NULL, *m;
	struct buf url = BUF_INIT;
	PQconninfoOption *opts, *o;
	bool secret_left = false;

	memset(u, 0, sizeof *u);
	redacted = dburl_redact(raw);
	for (const char *p = raw; *p != '\0'; p++) {
		if ((unsigned char)*p < 0x20 || *p == 0x7f) {
			err_set(e, "the database URL contains a control character at offset %zu",
			    (size_t)(p - raw));
			goto fail;
		}
	}
	if (*raw == '\0') {
		err_set(e, "the database URL is empty");
		goto fail;
	}
	sep = strstr(raw, "://");
	if (sep == NULL || sep == raw || strspn(raw, "abcdefghijklmnopqrstuvwxyz"
	    "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789+.-") != (size_t)(sep - raw)) {
		not_a_url(raw, redacted, e);
		goto fail;
	}

	/* The scheme: postgresql[+driver], as SQLAlchemy spells it. */
	scheme = xstrndup(raw, (size_t)(sep - raw));
	for (char *p = scheme; *p != '\0'; p++)
		*p = (char)tolower((unsigned char)*p);
	plus = strchr(scheme, '+');
	if (plus != NULL) {
		*plus = '\0';
		if (plus[1] == '\0' || strchr(plus + 1, '+') != NULL) {
			err_set(e, "invalid database URL scheme in '%s': expected "
			    "postgresql:// or postgresql+DRIVER://", redacted);
			goto fail;
		}
	}
	if (strcmp(scheme, "postgresql") != 0 && strcmp(scheme, "postgres") != 0) {
		refuse_scheme(scheme, redacted, e);
		goto fail;
	}
	u->scheme = xstrdup(scheme);
	if (plus != NULL) {
		u->driver = xstrdup(plus + 1);
		u->had_driver = true;
	}

	/* The userinfo, without its password. */
	rest = sep + 3;
	at = userinfo_end(rest);
	if (at == NULL && strchr(rest, '@') != NULL) {
		err_set(e, "cannot tell the user and password from the host in '%s'", redacted);
		err_hint(e, "percent-encode an '@' in a password, database name or parameter "
		    "as %%40, a '/' as %%2F");
		goto fail;
	}
	buf_printf(&url, "%s://", u->scheme);
	tail = rest;
	if (at != NULL) {
		colon = memchr(rest, ':', (size_t)(at - rest));
		if (colon != NULL && colon + 1 < at)
			u->had_password = true;
		if (colon == NULL)
			colon = at;
		if (colon > rest) {
			buf_append(&url, rest, (size_t)(colon - rest));
			buf_puts(&url, "@");
		}
		tail = at + 1;
	}
	q = strchr(tail, '?');
	if (q != NULL && redirecting_key(q + 1) != NULL) {
		const char *k = redirecting_key(q + 1);

		err_set(e, "the database URL '%s' sets %s in its query: psql would connect "
		    "where that says, not where the URL's host and port point", redacted, k);
		err_hint(e, "write the host and port before the path "
		    "(postgresql://USER@HOST:PORT/DB) and leave %s out of the query", k);
		goto fail;
	}
	if (q != NULL) {
		buf_append(&url, tail, (size_t)(q - tail));
		query_without_passwords(&url, q + 1, &u->had_password);
	} else {
		buf_puts(&url, tail);
	}
	u->url = buf_detach(&url);

	/* libpq has the last word: psql will read the URL the same way. */
	opts = PQconninfoParse(u->url, &pqmsg);
	if (opts == NULL) {
		m = libpq_message(pqmsg, raw);
		err_set(e, "invalid database URL '%s': %s", redacted, m);
		free(m);
		goto fail;
	}
	if (pqmsg != NULL)
		PQfreemem(pqmsg);
	for (o = opts; o->keyword != NULL; o++) {
		if (o->val == NULL)
			continue;
		if (strcmp(o->keyword, "user") == 0)
			take_part(&u->user, o->val);
		else if (strcmp(o->keyword, "host") == 0)
			take_part(&u->host, o->val);
		else if (strcmp(o->keyword, "hostaddr") == 0 && u->host == NULL)
			take_part(&u->host, o->val);
		else if (strcmp(o->keyword, "port") == 0)
			take_part(&u->port, o->val);
		else if (strcmp(o->keyword, "dbname") == 0)
			take_part(&u->dbname, o->val);
		else if ((strcmp(o->keyword, "password") == 0 ||
		    strcmp(o->keyword, "sslpassword") == 0) && *o->val != '\0')
			secret_left = true;
	}
	PQconninfoFree(opts);
	/* libpq takes any port text here and complains only when psql connects. */
	for (const char *pt = u->port; pt != NULL && *pt != '\0';) {
		size_t n = strcspn(pt, ",");
		long v = 0;
		bool ok = n <= 5;

		for (size_t i = 0; ok && i < n; i++) {
			ok = pt[i] >= '0' && pt[i] <= '9';
			v = v * 10 + (pt[i] - '0');
		}
		if (!ok || (n > 0 && (v < 1 || v > 65535))) {
			err_set(e, "invalid database URL '%s': port '%.*s' is not a number from 1 "
			    "to 65535", redacted, (int)n, pt);
			goto fail;
		}
		pt += n + (pt[n] == ',');
	}
	if (secret_left) {
		/* Spelled some way we did not strip: refuse, and quote nothing. */
		err_set(e, "cannot remove the password from the database URL");
		err_hint(e, "remove the password from the URL: JupyterHub reads it from hub.db.password");
		goto fail;
	}
	u->raw_redacted = redacted;
	free(scheme);
	return 0;
fail:
	free(scheme);
	free(redacted);
	buf_free(&url);
	dburl_clear(u);
	return -1;
}

/* ------------------------------------------------------------ values YAML */

static int
values_load(const char *path, struct yaml_file **out, struct err *e)
{
	char *text;
	size_t len;

	*out = NULL;
	if (file_read(path, DBURL_MAX_FILE, &text, &len, NULL) < 0) {
		if (errno == EFBIG)
			return err_set(e, "'%s' is larger than %d MiB: not a values file",
			    path, DBURL_MAX_FILE >> 20);
		return err_set(e, "cannot read '%s': %s", path, strerror(errno));
	}
	return yaml_parse(path, text, len, out, e);
}

/* Outcome of looking the URL up in one values document. */
enum found { FOUND_NONE, FOUND_VALUE, FOUND_EMPTY };

/*
 * Look `dotted' (e.g. "jupyterhub.hub.db.url") up in f.  FOUND_VALUE sets
 * *val (a copy) and the line and column of the scalar; FOUND_EMPTY (a null or an
 * empty string) sets the location only.  A wrong type on the way is a
 * located error.
 */
static int
values_find(struct yaml_file *f, const char *dotted, enum found *found, char **val,
    int *line, int *col, struct err *e)
{
	char *path = xstrdup(dotted), *key, *next, where[256] = "";
	struct fy_node *map = f->root, *k = NULL, *v = NULL, *raw;
	struct fy_node_pair *p;
	struct fy_token *t;
	const struct fy_mark *mk;
	void *it;
	const char *s;
	size_t len;
	int rc = 0;

	*found = FOUND_NONE;
	*val = NULL;
	*line = *col = 0;
	key = path;
	while ((next = strchr(key, '.')) != NULL) {
		*next = '\0';
		if (yaml_map(f, map, where, key, &map, NULL, e) < 0) {
			rc = -1;
			goto out;
		}
		if (map == NULL)
			goto out;
		snprintf(where + strlen(where), sizeof where - strlen(where), "%s%s",
		    where[0] != '\0' ? "." : "", key);
		key = next + 1;
	}
	if (map == NULL)
		goto out;
	it = NULL;
	while ((p = fy_node_mapping_iterate(map, &it)) != NULL) {
		struct fy_node *kn = yaml_deref(fy_node_pair_key(p));

		if (kn == NULL || fy_node_get_type(kn) != FYNT_SCALAR)
			continue;
		s = fy_node_get_scalar(kn, &len);
		if (s != NULL && len == strlen(key) && memcmp(s, key, len) == 0) {
			k = fy_node_pair_key(p);
			raw = fy_node_pair_value(p);
			v = yaml_deref(raw);
			if (raw != NULL && v == NULL) {
				rc = yaml_err(e, f, raw, "%s: undefined alias '%s'", dotted,
				    fy_node_get_scalar0(raw));
				goto out;
			}
			break;
		}
	}
	if (k == NULL)
		goto out;
	if (v != NULL && fy_node_get_type(v) != FYNT_SCALAR) {
		rc = yaml_err(e, f, k, "%s: expected a string (the database URL), found %s",
		    dotted, yaml_kind(v));
		goto out;
	}
	/* The value's own position; a null value has none, so the key's. */
	t = fy_node_get_scalar_token(v != NULL ? v : k);
	if (t == NULL && v != NULL)
		t = fy_node_get_scalar_token(k);
	if (t != NULL && (mk = fy_token_start_mark(t)) != NULL) {
		*line = mk->line + 1;
		*col = mk->column + 1;
	}
	s = v != NULL && !yaml_is_null(v) ? fy_node_get_scalar(v, &len) : NULL;
	if (s == NULL || len == 0) {
		*found = FOUND_EMPTY;
		goto out;
	}
	*val = xstrndup(s, len);
	*found = FOUND_VALUE;
out:
	free(path);
	return rc;
}

/* Parse a found value into a new dburl; errors located at file:line:col. */
static int
make_dburl(const char *raw, const char *source, const char *file, const char *key,
    int line, int col, struct dburl **out, struct err *e)
{
	struct dburl *u = xcalloc(1, sizeof *u);

	if (dburl_parse(raw, u, e) < 0) {
		if (line > 0)
			err_prefix(e, "%s:%d:%d: %s", file != NULL ? file : source, line, col, key);
		else
			err_prefix(e, "%s: %s", source, key);
		free(u);
		return -1;
	}
	u->source = xstrdup(source);
	u->file = xstrdup(file);
	u->key = xstrdup(key);
	u->line = line;
	u->column = col;
	*out = u;
	return 0;
}

/* ------------------------------------------------------------ Phalanx */

static int
cmp_str(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

static char *
nublado_dir(const char *dir)
{
	size_t n = strlen(dir);

	while (n > 1 && dir[n - 1] == '/')
		n--;
	return xasprintf("%.*s/applications/nublado", (int)n, dir);
}

static int
not_phalanx(const char *dir, const char *app, struct err *e)
{
	err_set(e, "'%s' is not a Phalanx checkout: %s: %s", dir, app, strerror(errno));
	err_hint(e, "--phalanx takes the top directory of a Phalanx clone "
	    "(the one holding applications/ and environments/)");
	return -1;
}

int
dburl_list_envs(const char *phalanx_dir, char ***envs, struct err *e)
{
	char *app = nublado_dir(phalanx_dir), **v = NULL;
	struct dirent *d;
	DIR *dp;
	size_t len;

	*envs = NULL;
	dp = opendir(app);
	if (dp == NULL) {
		not_phalanx(phalanx_dir, app, e);
		free(app);
		return -1;
	}
	while ((d = readdir(dp)) != NULL) {
		len = strlen(d->d_name);
		if (len > 12 && strncmp(d->d_name, "values-", 7) == 0 &&
		    strcmp(d->d_name + len - 5, ".yaml") == 0) {
			char *name = xstrndup(d->d_name + 7, len - 12);

			v = strv_push(v, name);
			free(name);
		}
	}
	closedir(dp);
	free(app);
	if (v == NULL)
		v = xcalloc(1, sizeof *v);
	qsort(v, strv_len(v), sizeof *v, cmp_str);
	*envs = v;
	return 0;
}

/* "a, b, c", or "none" */
static char *
join_envs(char **v)
{
	struct buf b = BUF_INIT;

	for (size_t i = 0; v != NULL && v[i] != NULL; i++)
		buf_printf(&b, "%s%s", i > 0 ? ", " : "", v[i]);
	if (b.len == 0)
		buf_puts(&b, "none");
	return buf_detach(&b);
}

static int
empty_value(const char *file, int line, int col, const char *key, struct err *e)
{
	if (line > 0)
		err_set(e, "%s:%d:%d: %s is empty: no database URL is configured",
		    file, line, col, key);
	else
		err_set(e, "%s: %s is empty: no database URL is configured", file, key);
	err_hint(e, "set %s to the PostgreSQL URL, or run without --phalanx for the "
	    "deployed value", key);
	return -1;
}

int
dburl_from_phalanx(const char *dir, const char *env, struct dburl **out, struct err *e)
{
	char *app, *envfile = NULL, *base = NULL, *val = NULL, **envs = NULL, *list;
	struct yaml_file *f = NULL;
	struct stat st;
	enum found found;
	int line, col, rc = -1;

	*out = NULL;
	if (env[0] == '\0' || strchr(env, '/') != NULL || strcmp(env, ".") == 0 ||
	    strcmp(env, "..") == 0) {
		e->exit = EXIT_USAGE;
		return err_set(e, "invalid environment name '%s'", env);
	}
	app = nublado_dir(dir);
	if (stat(app, &st) < 0 || !S_ISDIR(st.st_mode)) {
		if (stat(app, &st) == 0)
			errno = ENOTDIR;
		not_phalanx(dir, app, e);
		free(app);
		return -1;
	}
	envfile = xasprintf("%s/values-%s.yaml", app, env);
	base = xasprintf("%s/values.yaml", app);

	/* The environment's file must exist: a typo in --env must not fall back to the base. */
	if (access(envfile, F_OK) < 0 && errno == ENOENT) {
		if (dburl_list_envs(dir, &envs, e) < 0)
			goto out;
		list = join_envs(envs);
		err_set(e, "no Nublado values for environment '%s': %s does not exist "
		    "(environments: %s)", env, envfile, list);
		err_hint(e, "check --env: it names a values-ENV.yaml file beside values.yaml");
		free(list);
		goto out;
	}
	if (values_load(envfile, &f, e) < 0 ||
	    values_find(f, DBURL_PHALANX_PATH, &found, &val, &line, &col, e) < 0)
		goto out;
	if (found == FOUND_EMPTY) {
		empty_value(envfile, line, col, DBURL_PHALANX_PATH, e);
		goto out;
	}
	if (found == FOUND_VALUE) {
		rc = make_dburl(val, envfile, envfile, DBURL_PHALANX_PATH, line, col, out, e);
		goto out;
	}
	yaml_free(f);
	f = NULL;

	/* Not set for the environment: the base values.yaml, as Helm layers them. */
	if (access(base, F_OK) < 0 && errno == ENOENT) {
		err_set(e, "%s does not set %s and %s does not exist", envfile,
		    DBURL_PHALANX_PATH, base);
		goto out;
	}
	if (values_load(base, &f, e) < 0 ||
	    values_find(f, DBURL_PHALANX_PATH, &found, &val, &line, &col, e) < 0)
		goto out;
	if (found == FOUND_EMPTY) {
		empty_value(base, line, col, DBURL_PHALANX_PATH, e);
		goto out;
	}
	if (found == FOUND_NONE) {
		err_set(e, "neither %s nor %s sets %s", envfile, base, DBURL_PHALANX_PATH);
		err_hint(e, "the deployed value is in the cluster: run without --phalanx");
		goto out;
	}
	rc = make_dburl(val, base, base, DBURL_PHALANX_PATH, line, col, out, e);
out:
	yaml_free(f);
	strv_free(envs);
	free(val);
	free(app);
	free(envfile);
	free(base);
	return rc;
}

/* ------------------------------------------------------------ the cluster */

/*
 * The URL from one Secret: 0 with *out, 1 when the Secret or the value is
 * not there (*why says which), -1 on error.
 */
static int
from_secret(struct nub *n, const char *name, struct dburl **out, char *why,
    size_t whylen, struct err *e)
{
	char *path = kube_path("/api/v1/namespaces/%s/secrets/%s", n->ns, name);
	char *source = xasprintf("secret %s/%s %s", n->ns, name, DBURL_SECRET_KEY);
	char *text = NULL, *val = NULL;
	json_object *obj = NULL, *data, *b64;
	struct yaml_file *f = NULL;
	enum found found;
	size_t len;
	int line, col, rc = -1;

	*out = NULL;
	if (kube_get_secret(n->kube, path, &obj, e) < 0) {
		if (e->http == 404) {
			snprintf(why, whylen, "no Secret %s/%s", n->ns, name);
			err_clear(e);
			rc = 1;
		} else if (e->http == 403) {
			err_set(e, "not allowed to read Secret %s/%s: finding the deployed "
			    "database URL needs permission to get secrets in namespace '%s'",
			    n->ns, name, n->ns);
			err_hint(e, "read it from Phalanx instead (--phalanx DIR --env ENV), "
			    "or use a context allowed to get secrets in '%s'", n->ns);
		} else {
			err_prefix(e, "reading Secret %s/%s", n->ns, name);
		}
		goto out;
	}
	if (!json_object_object_get_ex(obj, "data", &data) ||
	    !json_object_object_get_ex(data, DBURL_SECRET_KEY, &b64) ||
	    !json_object_is_type(b64, json_type_string)) {
		snprintf(why, whylen, "Secret %s/%s has no key %s", n->ns, name,
		    DBURL_SECRET_KEY);
		rc = 1;
		goto out;
	}
	if (base64_decode(json_object_get_string(b64), &text, &len) < 0) {
		err_set(e, "Secret %s/%s: key %s is not valid base64", n->ns, name,
		    DBURL_SECRET_KEY);
		goto out;
	}
	if (yaml_parse(source, text, len, &f, e) < 0)	/* takes text */
		goto out;
	if (values_find(f, DBURL_SECRET_PATH, &found, &val, &line, &col, e) < 0)
		goto out;
	if (found != FOUND_VALUE) {
		snprintf(why, whylen, "Secret %s/%s (%s) %s %s", n->ns, name,
		    DBURL_SECRET_KEY, found == FOUND_EMPTY ? "has an empty" : "has no",
		    DBURL_SECRET_PATH);
		rc = 1;
		goto out;
	}
	rc = make_dburl(val, source, NULL, DBURL_SECRET_PATH, 0, 0, out, e);
	if (rc == 0)
		(*out)->secret = xasprintf("%s/%s", n->ns, name);
out:
	yaml_free(f);
	/* The cookie secret, crypto key, proxy token and password came along: zero them. */
	json_wipe_strings(obj);
	json_object_put(obj);
	free(val);
	free(source);
	free(path);
	return rc;
}

int
dburl_from_cluster(struct nub *n, struct dburl **out, struct err *e)
{
	char why1[512], why2[512];
	int rc;

	*out = NULL;
	rc = from_secret(n, DBURL_SECRET, out, why1, sizeof why1, e);
	if (rc <= 0)
		return rc;
	/* Z2JH's own Secret: what the hub reads when existing-secret does not say. */
	rc = from_secret(n, DBURL_SECRET_Z2JH, out, why2, sizeof why2, e);
	if (rc <= 0)
		return rc;
	err_set(e, "no database URL in the cluster: %s; %s", why1, why2);
	err_hint(e, "read it from Phalanx instead: --phalanx DIR --env ENV");
	return -1;
}

int
dburl_resolve(struct nub *n, const char *flag, char **url, char **source, struct err *e)
{
	struct dburl *u = NULL;

	*url = *source = NULL;
	if (flag != NULL) {
		struct dburl parsed;

		if (dburl_parse(flag, &parsed, e) < 0) {
			e->exit = EXIT_USAGE;	/* a bad option, not a safety refusal */
			return err_prefix(e, "--db-url");
		}
		*url = xstrdup(parsed.url);
		*source = xstrdup("--db-url");
		if (parsed.had_password)
			log_warn("the --db-url carried a password; it was removed (the hub pod "
			    "reads its own password file)");
		dburl_clear(&parsed);
		return 0;
	}
	if (dburl_from_cluster(n, &u, e) < 0)
		return err_prefix(e, "finding the database URL");
	*url = xstrdup(u->url);
	*source = xstrdup(u->source ? u->source : "the cluster");
	dburl_free(u);
	return 0;
}
