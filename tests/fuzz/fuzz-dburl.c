/*
 * fuzz-dburl.c: database URL normalisation (dburl_parse, dburl_redact,
 * psql_url_clean), with the property that matters: a password given in the
 * input never comes out, in the cleaned URL, the redacted copy, the parts,
 * or a message.  Input: the URL (a NUL ends it).
 *
 * "Given" is judged without the code under test, in the unambiguous cases
 * only: SCHEME://USER:PASSWORD@REST with exactly one '@' after "://", a USER
 * without ":/?#[", and a PASSWORD that cannot be read as a port and path;
 * and the values of password= and sslpassword= query parameters.  The check
 * is differential: the same URL with the letters and digits of those
 * passwords changed (each within its class, so percent-escapes and port
 * numbers stay what they were) must not show the changed letters where the
 * first results show the password's.  (Other differences are scrubbing of
 * ordinary text that equals a password, such as libpq's "connection" with a
 * password "conn": no verdict; passwords shorter than 4 bytes are not
 * judged for the same reason.)
 */
#include <ctype.h>
#include <stdint.h>

#include "../../src/nublado/dburl.h"
#include "../../src/nublado/psql.h"
#include "fuzz.h"

struct span {
	size_t off, len;
};

#define MAX_SPANS 8

struct spans {
	struct span v[MAX_SPANS];
	int n;
};

static void
add(struct spans *s, const char *raw, const char *p, size_t len)
{
	/* Shorter ones are ordinary text too (a password ":" is scrubbed out of every message). */
	if (len < 4 || s->n == MAX_SPANS)
		return;
	s->v[s->n].off = (size_t)(p - raw);
	s->v[s->n].len = len;
	s->n++;
}

static bool
all_digits(const char *p, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (p[i] < '0' || p[i] > '9')
			return false;
	return true;
}

static void
find_secrets(const char *raw, struct spans *s)
{
	const char *sep = strstr(raw, "://"), *rest, *at, *colon, *q, *p, *last, *after = NULL;
	size_t ulen, plen, cut;

	memset(s, 0, sizeof *s);
	if (sep == NULL)
		return;
	rest = sep + 3;
	at = strchr(rest, '@');
	if (at != NULL && strchr(at + 1, '@') != NULL)
		at = NULL;
	if (at != NULL) {
		ulen = strcspn(rest, ":/?#[@");
		colon = rest + ulen;
		if (*colon == ':' && colon < at) {
			p = colon + 1;
			plen = (size_t)(at - p);
			cut = strcspn(p, "/?#");
			/* "host:5432/db@x" is a port and a path as much as a password. */
			if (cut >= plen || !all_digits(p, cut))
				add(s, raw, p, plen);
		}
	}
	q = strchr(at != NULL ? at : rest, '?');
	/*
	 * "u:pa?ss@h/x&password=y" with more '@'s: the colon makes the '?'
	 * part of a password and what follows the last '@' a path, as much
	 * as a query: parameters after the last '@' are not judged then.
	 */
	last = strrchr(rest, '@');
	cut = strcspn(rest, "/?");
	colon = memchr(rest, ':', cut);
	if (at == NULL && q != NULL && last != NULL && q < last && colon != NULL &&
	    !all_digits(colon + 1, (size_t)(rest + cut - colon - 1)))
		after = last;
	for (p = q; p != NULL; p = strchr(p, '&')) {
		size_t klen, vlen;

		p++;
		klen = strcspn(p, "=&");
		if (p[klen] != '=')
			continue;
		vlen = strcspn(p + klen + 1, "&");
		if (after != NULL && p > after)
			continue;
		if ((klen == 8 && strncmp(p, "password", 8) == 0) ||
		    (klen == 11 && strncmp(p, "sslpassword", 11) == 0))
			add(s, raw, p + klen + 1, vlen);
	}
}

/* Another letter or digit of the same kind (hex digits stay hex digits). */
static char
other(char c)
{
	static const char *const classes[] = { "0123456789", "abcdef", "ghijklmnopqrstuvwxyz",
		"ABCDEF", "GHIJKLMNOPQRSTUVWXYZ" };

	for (size_t i = 0; i < sizeof classes / sizeof classes[0]; i++) {
		const char *k = strchr(classes[i], c);

		if (c != '\0' && k != NULL)
			return k[1] != '\0' ? k[1] : classes[i][0];
	}
	return c;
}

/* p[0:n] with %XX escapes but %00 decoded (as the code under test reads parameter names). */
static char *
pct(const char *p, size_t n)
{
	char *d = malloc(n + 1), *o = d;

	if (d == NULL)
		abort();
	for (size_t i = 0; i < n; i++) {
		if (p[i] == '%' && i + 2 < n && isxdigit((unsigned char)p[i + 1]) &&
		    isxdigit((unsigned char)p[i + 2]) && !(p[i + 1] == '0' && p[i + 2] == '0')) {
			char hex[3] = { p[i + 1], p[i + 2], '\0' };

			*o++ = (char)strtol(hex, NULL, 16);
			i += 2;
		} else {
			*o++ = p[i];
		}
	}
	*o = '\0';
	return d;
}

/* raw with the secrets' letters and digits changed; NULL when nothing would change. */
static char *
changed(const char *raw, const struct spans *s)
{
	char *c = strdup(raw);
	bool any = false;

	if (c == NULL)
		abort();
	for (int i = 0; i < s->n; i++) {
		for (size_t j = s->v[i].off; j < s->v[i].off + s->v[i].len; j++) {
			char o = other(c[j]);

			/* Spans may overlap: change each byte once. */
			if (o != c[j] && c[j] == raw[j]) {
				c[j] = o;
				any = true;
			}
		}
	}
	/* A password that spells "password" changes what the code looks for: no verdict. */
	for (int i = 0; any && i < s->n; i++) {
		char *a = pct(raw + s->v[i].off, s->v[i].len);
		char *b = pct(c + s->v[i].off, s->v[i].len);

		if (strcasestr(a, "password") != NULL || strcasestr(b, "password") != NULL)
			any = false;
		free(a);
		free(b);
	}
	if (!any) {
		free(c);
		return NULL;
	}
	return c;
}

/* Everything the three functions say about one input, as one string. */
static char *
results(const char *raw)
{
	char *red = dburl_redact(raw), *clean = NULL, *out;
	struct dburl u;
	struct err e1, e2;
	bool had = false;
	int rc1, rc2;
	size_t len;
	FILE *f;

	FUZZ_CHECK(red != NULL, "dburl_redact gave NULL");
	err_clear(&e1);
	rc1 = dburl_parse(raw, &u, &e1);
	if (rc1 == 0)
		FUZZ_CHECK(u.url != NULL && u.raw_redacted != NULL && u.scheme != NULL,
		    "parsed without url");
	else
		FUZZ_CHECK(e1.msg[0] != '\0', "dburl_parse failed without a message");
	err_clear(&e2);
	rc2 = psql_url_clean(raw, &clean, &had, &e2);
	FUZZ_CHECK((rc2 == 0) == (clean != NULL), "psql_url_clean: rc %d, out %p", rc2,
	    (void *)clean);

	f = open_memstream(&out, &len);
	if (f == NULL)
		abort();
	fprintf(f, "redact: %s\n", red);
	fprintf(f, "parse: %d %s\n", rc1, e1.msg);
	fprintf(f, "parse hint: %s\n", e1.hint);
	if (rc1 == 0) {
		char *from = dburl_normalised_from(&u);

		fprintf(f, "url %s\nredacted %s\nscheme %s driver %s\n", u.url,
		    u.raw_redacted, u.scheme, u.driver ? u.driver : "-");
		fprintf(f, "user %s host %s port %s dbname %s\n", u.user ? u.user : "-",
		    u.host ? u.host : "-", u.port ? u.port : "-", u.dbname ? u.dbname : "-");
		fprintf(f, "had %d %d from %s\n", u.had_password, u.had_driver,
		    from ? from : "-");
		free(from);
		dburl_clear(&u);
	}
	fprintf(f, "clean: %d %s %d %s\n", rc2, clean ? clean : "-", had, e2.msg);
	fprintf(f, "clean hint: %s\n", e2.hint);
	fclose(f);
	free(clean);
	free(red);
	return out;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *raw = fuzz_str(data, size), *raw2, *r1, *r2;
	struct spans s;

	find_secrets(raw, &s);
	r1 = results(raw);
	raw2 = changed(raw, &s);
	if (raw2 != NULL) {
		size_t j = 0;

		r2 = results(raw2);
		while (r1[j] != '\0' && r1[j] == r2[j])
			j++;
		/*
		 * Where they first differ, a changed letter of the password
		 * shows through; a "***" on one side only is scrubbing of text
		 * that happens to equal a password (no verdict).
		 */
		FUZZ_CHECK(r1[j] == r2[j] || other(r1[j]) != r2[j], "a password shows through:\n"
		    "  '%s' gives\n%s  '%s' gives\n%s", raw, r1, raw2, r2);
		free(r2);
		free(raw2);
	}
	free(r1);
	free(raw);
	return 0;
}
