/* dburl-parse.c: a JupyterHub database URL normalised for psql: driver and password out, libpq checks */
#include <ctype.h>
#include <stdlib.h>
#include <string.h>

#include <libpq-fe.h>

#include "../util/buf.h"
#include "../util/xalloc.h"
#include "dburl-int.h"

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
		k = dburl_pct_decode(p, eq != NULL ? (size_t)(eq - p) : len);
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
		if (dburl_password_key(p, klen)) {
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
		dburl_secret_spans(raw, &s);
		free(s.v);
		if (s.n > 0) {
			if (pqmsg != NULL)
				PQfreemem(pqmsg);
			err_set(e, "'%s' is not a database URL", redacted);
		} else {
			m = dburl_libpq_message(pqmsg, raw);
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
	at = dburl_userinfo_end(rest);
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
		m = dburl_libpq_message(pqmsg, raw);
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
