/* dburl-redact.c: a database URL's secrets found: the value redacted, messages scrubbed */
#include <ctype.h>
#include <stdlib.h>
#include <string.h>

#include <libpq-fe.h>

#include "../util/buf.h"
#include "../util/xalloc.h"
#include "dburl-int.h"

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
const char *
dburl_userinfo_end(const char *rest)
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
	    !dburl_password_key(rest, (size_t)(at - rest)))
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

char *
dburl_pct_decode(const char *s, size_t n)
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

bool
dburl_password_key(const char *k, size_t n)
{
	char *d = dburl_pct_decode(k, n);
	bool yes = strcasestr(d, "password") != NULL;

	free(d);
	return yes;
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
		if (eq != NULL && dburl_password_key(p, (size_t)(eq - p)))
			span_add(s, (size_t)(eq + 1 - raw), len - (size_t)(eq + 1 - p));
		if (amp == NULL)
			break;
		p = amp + 1;
	}
}

void
dburl_secret_spans(const char *raw, struct spans *s)
{
	const char *sep = strstr(raw, "://"), *rest, *at, *colon, *q;

	memset(s, 0, sizeof *s);
	if (sep != NULL) {
		rest = sep + 3;
		at = dburl_userinfo_end(rest);
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
			if (dburl_password_key(rest, strlen(rest))) {
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
		if (at != NULL && dburl_password_key(raw, strlen(raw))) {
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
	dburl_secret_spans(raw, &s);
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
	dburl_secret_spans(raw, &s);
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

char *
dburl_libpq_message(char *pqmsg, const char *raw)
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
