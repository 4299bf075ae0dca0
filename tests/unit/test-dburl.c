/* test-dburl.c: the database URL: normalised for psql, never a password, found as the runbook says */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <criterion/criterion.h>
#include <libpq-fe.h>

#include "../../src/nublado/dburl.h"
#include "../../src/util/buf.h"
#include "../../src/util/exitcode.h"
#include "../../src/util/xalloc.h"

/* tests/unit/fixtures/phalanx/<rel>, found beside this file (make runs from the top). */
static char *
fixture(const char *rel)
{
	const char *f = __FILE__, *slash = strrchr(f, '/');

	if (slash == NULL)
		return xasprintf("fixtures/phalanx/%s", rel);
	return xasprintf("%.*s/fixtures/phalanx/%s", (int)(slash - f), f, rel);
}

static void
assert_no_secret(const char *what, const char *s, const char *secret)
{
	if (s != NULL)
		cr_assert(strstr(s, secret) == NULL, "%s leaks the password '%s': %s",
		    what, secret, s);
}

/* Nothing we hand out holds `secret'. */
static void
assert_clean(const struct dburl *u, const struct err *e, const char *secret)
{
	assert_no_secret("url", u->url, secret);
	assert_no_secret("raw_redacted", u->raw_redacted, secret);
	assert_no_secret("user", u->user, secret);
	assert_no_secret("host", u->host, secret);
	assert_no_secret("port", u->port, secret);
	assert_no_secret("dbname", u->dbname, secret);
	assert_no_secret("error", e->msg, secret);
	assert_no_secret("hint", e->hint, secret);
}

static void
parse_ok(const char *raw, struct dburl *u)
{
	struct err e;

	err_clear(&e);
	cr_assert_eq(dburl_parse(raw, u, &e), 0, "'%s' refused: %s", raw, e.msg);
}

static void
parse_fails(const char *raw, struct err *e)
{
	struct dburl u;

	err_clear(e);
	cr_assert_eq(dburl_parse(raw, &u, e), -1, "'%s' accepted", raw);
	cr_assert_null(u.url);
	cr_assert(e->msg[0] != '\0');
}

/* ------------------------------------------------------------ parsing */

Test(dburl, real_phalanx_values_parse_unchanged)
{
	static const struct { const char *raw, *user, *host, *db; } v[] = {
		{ "postgresql://nublado3@postgres.postgres/jupyterhub", "nublado3",
		  "postgres.postgres", "jupyterhub" },
		{ "postgresql://nublado@cloud-sql-proxy.nublado/nublado", "nublado",
		  "cloud-sql-proxy.nublado", "nublado" },
		{ "postgresql://nublado@rsp-db-rw.postgres-db/nublado", "nublado",
		  "rsp-db-rw.postgres-db", "nublado" },
		{ "postgresql://nublado3@postgres.postgres/nublado3", "nublado3",
		  "postgres.postgres", "nublado3" },
		{ "postgresql://nublado3@postgresdb01.ls.lsst.org/nublado3", "nublado3",
		  "postgresdb01.ls.lsst.org", "nublado3" },
		{ "postgresql://jhubsessions@192.168.114.188/jhubsessions01", "jhubsessions",
		  "192.168.114.188", "jhubsessions01" },
	};
	struct dburl u;

	for (size_t i = 0; i < sizeof v / sizeof v[0]; i++) {
		parse_ok(v[i].raw, &u);
		cr_assert_str_eq(u.url, v[i].raw);
		cr_assert_str_eq(u.raw_redacted, v[i].raw);
		cr_assert_str_eq(u.scheme, "postgresql");
		cr_assert_str_eq(u.user, v[i].user);
		cr_assert_str_eq(u.host, v[i].host);
		cr_assert_str_eq(u.dbname, v[i].db);
		cr_assert_null(u.port);
		cr_assert_null(u.driver);
		cr_assert_not(u.had_password);
		cr_assert_not(u.had_driver);
		cr_assert_null(dburl_normalised_from(&u));
		dburl_clear(&u);
	}
}

Test(dburl, sqlalchemy_driver_and_password_removed)
{
	struct dburl u;
	struct err e;
	char *from;

	err_clear(&e);
	parse_ok("postgresql+psycopg2://user:pw@host:5432/db", &u);
	cr_assert_str_eq(u.url, "postgresql://user@host:5432/db");
	cr_assert_str_eq(u.raw_redacted, "postgresql+psycopg2://user:***@host:5432/db");
	cr_assert(u.had_driver);
	cr_assert(u.had_password);
	cr_assert_str_eq(u.driver, "psycopg2");
	cr_assert_str_eq(u.port, "5432");
	from = dburl_normalised_from(&u);
	cr_assert_str_eq(from, "postgresql+psycopg2");
	free(from);
	assert_clean(&u, &e, ":pw@");
	dburl_clear(&u);
}

Test(dburl, other_drivers_and_spellings)
{
	static const struct { const char *raw, *url, *driver; } v[] = {
		{ "postgresql+asyncpg://u@h/d", "postgresql://u@h/d", "asyncpg" },
		{ "postgresql+psycopg://u@h/d", "postgresql://u@h/d", "psycopg" },
		{ "postgresql+pg8000://u@h/d", "postgresql://u@h/d", "pg8000" },
		{ "PostgreSQL+Psycopg2://u@h/d", "postgresql://u@h/d", "psycopg2" },
		{ "postgres://u@h/d", "postgres://u@h/d", NULL },
		{ "postgresql:///d", "postgresql:///d", NULL },
	};
	struct dburl u;

	for (size_t i = 0; i < sizeof v / sizeof v[0]; i++) {
		parse_ok(v[i].raw, &u);
		cr_assert_str_eq(u.url, v[i].url, "%s", v[i].raw);
		if (v[i].driver != NULL)
			cr_assert_str_eq(u.driver, v[i].driver);
		else
			cr_assert_null(u.driver);
		cr_assert_eq(u.had_driver, v[i].driver != NULL);
		dburl_clear(&u);
	}
}

Test(dburl, query_kept_password_parameter_removed)
{
	struct dburl u;

	parse_ok("postgresql://nublado@host/db?sslmode=require&application_name=x", &u);
	cr_assert_str_eq(u.url, "postgresql://nublado@host/db?sslmode=require&application_name=x");
	cr_assert_not(u.had_password);
	dburl_clear(&u);

	parse_ok("postgresql://nublado@host/db?password=hunter2&sslmode=require", &u);
	cr_assert_str_eq(u.url, "postgresql://nublado@host/db?sslmode=require");
	cr_assert_str_eq(u.raw_redacted, "postgresql://nublado@host/db?password=***&sslmode=require");
	cr_assert(u.had_password);
	dburl_clear(&u);

	parse_ok("postgresql://nublado@host/db?sslmode=require&password=hunter2", &u);
	cr_assert_str_eq(u.url, "postgresql://nublado@host/db?sslmode=require");
	cr_assert(u.had_password);
	dburl_clear(&u);
}

Test(dburl, password_in_encoded_parameter_removed)
{
	struct dburl u;
	struct err e;

	err_clear(&e);
	parse_ok("postgresql://nublado@host/db?pass%77ord=hunter2&sslmode=require", &u);
	cr_assert_str_eq(u.url, "postgresql://nublado@host/db?sslmode=require");
	cr_assert_str_eq(u.raw_redacted, "postgresql://nublado@host/db?pass%77ord=***&sslmode=require");
	cr_assert(u.had_password);
	assert_clean(&u, &e, "hunter2");
	dburl_clear(&u);
}

Test(dburl, ipv6_host)
{
	struct dburl u;

	parse_ok("postgresql+psycopg2://nublado:pw@[2001:db8::1]:6432/nublado", &u);
	cr_assert_str_eq(u.url, "postgresql://nublado@[2001:db8::1]:6432/nublado");
	cr_assert_str_eq(u.host, "2001:db8::1");
	cr_assert_str_eq(u.port, "6432");
	cr_assert(u.had_password);
	dburl_clear(&u);

	parse_ok("postgresql://[::1]/nublado", &u);
	cr_assert_str_eq(u.host, "::1");
	cr_assert_null(u.user);
	dburl_clear(&u);
}

Test(dburl, percent_encoded_user_decoded_for_display)
{
	struct dburl u;

	parse_ok("postgresql://hub%40nublado:p%40ss@host/db", &u);
	cr_assert_str_eq(u.url, "postgresql://hub%40nublado@host/db");
	cr_assert_str_eq(u.user, "hub@nublado");
	cr_assert(u.had_password);
	dburl_clear(&u);
}

Test(dburl, unix_socket_and_multiple_hosts)
{
	struct dburl u;

	parse_ok("postgresql://nublado@%2Fvar%2Frun%2Fpostgresql/nublado", &u);
	cr_assert_str_eq(u.host, "/var/run/postgresql");
	dburl_clear(&u);
	parse_ok("postgresql://nublado@h1:5432,h2:5433/nublado", &u);
	cr_assert_str_eq(u.host, "h1,h2");
	cr_assert_str_eq(u.port, "5432,5433");
	dburl_clear(&u);
}

/* Passwords with the characters that break naive parsing: none ever comes out. */
Test(dburl, odd_passwords_never_leak)
{
	static const struct { const char *raw, *secret; bool ok; const char *url; } v[] = {
		{ "postgresql://nublado:p@ss@host/db", "p@ss", true, "postgresql://nublado@host/db" },
		{ "postgresql://nublado:p:ss:x@host/db", "p:ss:x", true, "postgresql://nublado@host/db" },
		{ "postgresql://nublado:pa/ss@host/db", "pa/ss", true, "postgresql://nublado@host/db" },
		{ "postgresql://nublado:100%@host/db", "100%", true, "postgresql://nublado@host/db" },
		{ "postgresql://nublado:%40%3A%2F%25@host/db", "%40%3A%2F%25", true,
		  "postgresql://nublado@host/db" },
		{ "postgresql+psycopg2://nublado:a@b:c%e@db.example.org:5432/nublado?sslmode=require",
		  "a@b:c%e", true, "postgresql://nublado@db.example.org:5432/nublado?sslmode=require" },
		/* '@' and '/' both raw: cannot be told from an '@' in the query, refused. */
		{ "postgresql+psycopg2://nublado:a@b:c/d%e?f@db.example.org:5432/nublado?sslmode=require",
		  "a@b:c/d%e?f", false, NULL },
		{ "postgresql://nublado:p?ss@host/db", "p?ss", true, "postgresql://nublado@host/db" },
		{ "postgresql://:justapassword@host/db", "justapassword", true, "postgresql://host/db" },
		/* A password that looks like a port then a path: ambiguous, refused. */
		{ "postgresql://nublado:1234/xyz@host/db", "1234/xyz", false, NULL },
		/* libpq rejects the rest: its message must not carry the password. */
		{ "postgresql://nublado:s3cr3tpw@[::1/db", "s3cr3tpw", false, NULL },
		{ "postgresql://nublado:s3cr3tpw@host/db%zz", "s3cr3tpw", false, NULL },
		{ "postgresql://nublado:s3cr3tpw@host/db?bogus=1", "s3cr3tpw", false, NULL },
		{ "mysql+pymysql://nublado:s3cr3tpw@host/db", "s3cr3tpw", false, NULL },
		{ "nublado:s3cr3tpw@host/db", "s3cr3tpw", false, NULL },
		{ "host=h user=u password=s3cr3tpw dbname", "s3cr3tpw", false, NULL },
	};
	struct dburl u;
	struct err e;
	char *r;

	for (size_t i = 0; i < sizeof v / sizeof v[0]; i++) {
		err_clear(&e);
		memset(&u, 0, sizeof u);
		int rc = dburl_parse(v[i].raw, &u, &e);

		cr_assert_eq(rc, v[i].ok ? 0 : -1, "%s: rc %d, %s", v[i].raw, rc, e.msg);
		assert_clean(&u, &e, v[i].secret);
		r = dburl_redact(v[i].raw);
		assert_no_secret("dburl_redact", r, v[i].secret);
		free(r);
		if (v[i].ok) {
			cr_assert_str_eq(u.url, v[i].url, "%s", v[i].raw);
			cr_assert(u.had_password, "%s", v[i].raw);
		}
		dburl_clear(&u);
	}
}

Test(dburl, redact)
{
	static const struct { const char *in, *out; } v[] = {
		{ "postgresql://u@h/d", "postgresql://u@h/d" },
		{ "postgresql+psycopg2://u:pw@h:5432/d", "postgresql+psycopg2://u:***@h:5432/d" },
		{ "postgresql://u:p@ss@h/d", "postgresql://u:***@h/d" },
		{ "postgresql://u:pa/ss@h/d", "postgresql://u:***@h/d" },
		{ "postgresql://u:@h/d", "postgresql://u:@h/d" },
		{ "postgresql://u:1234/x@h/d", "postgresql://***@h/d" },
		{ "postgresql://h/d?password=x&sslmode=require",
		  "postgresql://h/d?password=***&sslmode=require" },
		{ "postgresql://h/d?sslpassword=x", "postgresql://h/d?sslpassword=***" },
		{ "u:secret@h", "***@h" },
		{ "host=h password=secret dbname=d", "host=h password=*** dbname=d" },
		{ "host=h password = 'a b\\' c' dbname=d", "host=h password = *** dbname=d" },
		{ "garbage", "garbage" },
		{ "", "" },
	};
	char *r;

	for (size_t i = 0; i < sizeof v / sizeof v[0]; i++) {
		r = dburl_redact(v[i].in);
		cr_assert_str_eq(r, v[i].out, "redact(%s)", v[i].in);
		free(r);
	}
	cr_assert_null(dburl_redact(NULL));

	/* As many password parameters as anyone cares to write: every one hidden. */
	struct buf b = BUF_INIT;
	buf_puts(&b, "postgresql://h/d?sslmode=require");
	for (int i = 0; i < 40; i++)
		buf_printf(&b, "&password=Zq%d", i);
	r = dburl_redact(b.data);
	cr_assert(strstr(r, "Zq") == NULL, "%s", r);
	free(r);
	buf_free(&b);
}

Test(dburl, sqlite_and_mysql_refused)
{
	struct err e;

	parse_fails("sqlite:///srv/jupyterhub/jupyterhub.sqlite", &e);
	cr_assert(strstr(e.msg, "SQLite") != NULL, "%s", e.msg);
	cr_assert(strstr(e.msg, "not PostgreSQL") != NULL, "%s", e.msg);
	cr_assert(strstr(e.msg, "runbook does not apply") != NULL, "%s", e.msg);

	parse_fails("sqlite://", &e);
	cr_assert(strstr(e.msg, "SQLite") != NULL, "%s", e.msg);

	parse_fails("mysql+pymysql://hub:pw@mysql/jupyterhub", &e);
	cr_assert(strstr(e.msg, "MySQL") != NULL, "%s", e.msg);
	cr_assert(strstr(e.msg, ":pw@") == NULL, "%s", e.msg);

	parse_fails("https://example.org/db", &e);
	cr_assert(strstr(e.msg, "unsupported database URL scheme 'https'") != NULL, "%s", e.msg);
}

/* libpq's own message, verbatim (less the trailing newline). */
static void
assert_libpq_message(const char *raw, const char *what_libpq_sees)
{
	char *m = NULL, *nl;
	PQconninfoOption *o = PQconninfoParse(what_libpq_sees, &m);
	struct err e;

	cr_assert_null(o, "libpq accepted %s", what_libpq_sees);
	cr_assert_not_null(m);
	if ((nl = strchr(m, '\n')) != NULL)
		*nl = '\0';
	parse_fails(raw, &e);
	cr_assert(strstr(e.msg, m) != NULL, "want libpq's '%s' in: %s", m, e.msg);
	PQfreemem(m);
}

Test(dburl, garbage_refused_with_libpq_message)
{
	assert_libpq_message("garbage", "garbage");
	assert_libpq_message("postgresql://nublado@[::1/nublado", "postgresql://nublado@[::1/nublado");
	assert_libpq_message("postgresql://nublado@host/db?bogus=1", "postgresql://nublado@host/db?bogus=1");
	assert_libpq_message("postgresql+psycopg2://nublado:pw@host/db?bogus=1",
	    "postgresql://nublado@host/db?bogus=1");
	assert_libpq_message("postgresql://nublado@host/db%zz", "postgresql://nublado@host/db%zz");
}

Test(dburl, not_urls)
{
	struct err e;

	parse_fails("", &e);
	cr_assert(strstr(e.msg, "empty") != NULL, "%s", e.msg);
	parse_fails("host=postgres dbname=jupyterhub user=nublado", &e);
	cr_assert(strstr(e.msg, "connection string, not a URL") != NULL, "%s", e.msg);
	cr_assert(strstr(e.hint, "postgresql://") != NULL, "%s", e.hint);
	parse_fails("postgresql://nublado@host/db\nx", &e);
	cr_assert(strstr(e.msg, "control character") != NULL, "%s", e.msg);
	parse_fails("postgresql+://nublado@host/db", &e);
	cr_assert(strstr(e.msg, "scheme") != NULL, "%s", e.msg);
	parse_fails("postgresql://nublado@host/db?options=a@b", &e);
	cr_assert(strstr(e.hint, "%40") != NULL, "%s", e.hint);
	/* Not "postgresql://user@b": an '@' in both the authority and the query is refused. */
	parse_fails("postgresql+psycopg2://user:s3cr3tpw@host:5432/db?options=a@b", &e);
	cr_assert(strstr(e.hint, "%40") != NULL, "%s", e.hint);
	cr_assert(strstr(e.msg, "s3cr3tpw") == NULL, "%s", e.msg);
}

/* ------------------------------------------------------------ Phalanx */

static struct dburl *
phalanx_ok(const char *tree, const char *env)
{
	char *dir = fixture(tree);
	struct dburl *u = NULL;
	struct err e;

	err_clear(&e);
	cr_assert_eq(dburl_from_phalanx(dir, env, &u, &e), 0, "%s/%s: %s", tree, env, e.msg);
	cr_assert_not_null(u);
	free(dir);
	return u;
}

static void
phalanx_fails(const char *tree, const char *env, struct err *e)
{
	char *dir = fixture(tree);
	struct dburl *u = (struct dburl *)1;

	err_clear(e);
	cr_assert_eq(dburl_from_phalanx(dir, env, &u, e), -1, "%s/%s accepted", tree, env);
	cr_assert_null(u);
	cr_assert(e->msg[0] != '\0');
	free(dir);
}

static void
assert_suffix(const char *s, const char *suffix)
{
	size_t n = strlen(s), m = strlen(suffix);

	cr_assert(n >= m && strcmp(s + n - m, suffix) == 0, "'%s' does not end in '%s'", s, suffix);
}

Test(dburl, phalanx_env_overrides_base)
{
	struct dburl *u = phalanx_ok("main", "idfprod");

	cr_assert_str_eq(u->url, "postgresql://nublado@cloud-sql-proxy.nublado/nublado");
	assert_suffix(u->file, "main/applications/nublado/values-idfprod.yaml");
	cr_assert_str_eq(u->source, u->file);
	cr_assert_str_eq(u->key, "jupyterhub.hub.db.url");
	cr_assert_eq(u->line, 11);
	cr_assert_eq(u->column, 13);	/* a quoted scalar: where its text starts */
	dburl_free(u);

	u = phalanx_ok("main", "usdfdev");	/* plain scalar, after a comment */
	cr_assert_str_eq(u->url, "postgresql://nublado@rsp-db-rw.postgres-db/nublado");
	cr_assert_eq(u->line, 5);
	cr_assert_eq(u->column, 12);
	dburl_free(u);
}

Test(dburl, phalanx_env_without_key_uses_base)
{
	const char *envs[] = { "nodb", "emptyfile" };

	for (size_t i = 0; i < 2; i++) {
		struct dburl *u = phalanx_ok("main", envs[i]);

		cr_assert_str_eq(u->url, "postgresql://nublado3@postgres.postgres/jupyterhub");
		assert_suffix(u->file, "main/applications/nublado/values.yaml");
		cr_assert_eq(u->line, 11);
		cr_assert_eq(u->column, 13);
		dburl_free(u);
	}
}

Test(dburl, phalanx_trailing_slash_on_dir)
{
	char *dir = fixture("main/");
	struct dburl *u;
	struct err e;

	err_clear(&e);
	cr_assert_eq(dburl_from_phalanx(dir, "idfprod", &u, &e), 0, "%s", e.msg);
	cr_assert(strstr(u->file, "//") == NULL, "%s", u->file);
	dburl_free(u);
	free(dir);
}

Test(dburl, phalanx_missing_env_lists_envs)
{
	struct err e;

	phalanx_fails("main", "idfprd", &e);
	cr_assert(strstr(e.msg, "values-idfprd.yaml does not exist") != NULL, "%s", e.msg);
	cr_assert(strstr(e.msg, "environment 'idfprd'") != NULL, "%s", e.msg);
	cr_assert(strstr(e.msg, "idfprod, malformed") == NULL, "%s", e.msg);
	cr_assert(strstr(e.msg, "(environments: alias, badindent, ") != NULL, "%s", e.msg);
	cr_assert(strstr(e.msg, "idfprod, list, malformed") != NULL, "%s", e.msg);
	cr_assert(strstr(e.msg, "usdfdev, wrongtype)") != NULL, "%s", e.msg);
	cr_assert(strstr(e.hint, "--env") != NULL, "%s", e.hint);

	phalanx_fails("nobase", "idfprod", &e);
	cr_assert(strstr(e.msg, "(environments: dev)") != NULL, "%s", e.msg);
}

Test(dburl, phalanx_base_lacks_key_too)
{
	struct err e;

	phalanx_fails("nobase", "dev", &e);
	cr_assert(strstr(e.msg, "neither ") != NULL, "%s", e.msg);
	cr_assert(strstr(e.msg, "values-dev.yaml nor ") != NULL, "%s", e.msg);
	cr_assert(strstr(e.msg, "values.yaml sets jupyterhub.hub.db.url") != NULL, "%s", e.msg);

	phalanx_fails("nofile", "dev", &e);
	cr_assert(strstr(e.msg, "values-dev.yaml does not set jupyterhub.hub.db.url and ") != NULL,
	    "%s", e.msg);
	cr_assert(strstr(e.msg, "values.yaml does not exist") != NULL, "%s", e.msg);
}

Test(dburl, phalanx_not_a_checkout)
{
	struct err e;
	char **envs;
	char *dir = fixture("notphalanx");

	phalanx_fails("notphalanx", "dev", &e);
	cr_assert(strstr(e.msg, "is not a Phalanx checkout") != NULL, "%s", e.msg);
	cr_assert(strstr(e.hint, "applications/") != NULL, "%s", e.hint);
	phalanx_fails("nosuchdir", "dev", &e);
	cr_assert(strstr(e.msg, "is not a Phalanx checkout") != NULL, "%s", e.msg);
	err_clear(&e);
	cr_assert_eq(dburl_list_envs(dir, &envs, &e), -1);
	cr_assert(strstr(e.msg, "is not a Phalanx checkout") != NULL, "%s", e.msg);
	free(dir);
}

Test(dburl, phalanx_bad_env_name_is_usage)
{
	static const char *bad[] = { "", "../main", "a/b", ".", ".." };
	struct err e;

	for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
		phalanx_fails("main", bad[i], &e);
		cr_assert_eq(e.exit, EXIT_USAGE, "'%s'", bad[i]);
		cr_assert(strstr(e.msg, "invalid environment name") != NULL, "%s", e.msg);
	}
}

Test(dburl, phalanx_malformed_yaml_located)
{
	struct err e;

	phalanx_fails("main", "malformed", &e);
	cr_assert(strstr(e.msg, "values-malformed.yaml:") != NULL, "%s", e.msg);
	cr_assert(strstr(e.msg, ": invalid YAML: ") != NULL, "%s", e.msg);
	/* file:line:col */
	const char *p = strstr(e.msg, "values-malformed.yaml:") + strlen("values-malformed.yaml:");
	int line, col;
	cr_assert_eq(sscanf(p, "%d:%d:", &line, &col), 2, "%s", e.msg);
	cr_assert(line >= 4 && line <= 6, "line %d: %s", line, e.msg);

	phalanx_fails("main", "badindent", &e);
	p = strstr(e.msg, "values-badindent.yaml:");
	cr_assert_not_null(p, "%s", e.msg);
	cr_assert_eq(sscanf(p + strlen("values-badindent.yaml:"), "%d:%d:", &line, &col), 2,
	    "%s", e.msg);
	cr_assert_eq(line, 5, "%s", e.msg);
	cr_assert(strstr(e.msg, "invalid YAML") != NULL, "%s", e.msg);
}

Test(dburl, phalanx_wrong_type_located)
{
	struct err e;

	phalanx_fails("main", "wrongtype", &e);
	cr_assert(strstr(e.msg, "values-wrongtype.yaml:4:7: jupyterhub.hub.db.url: expected a "
	    "string (the database URL), found a mapping") != NULL, "%s", e.msg);
	phalanx_fails("main", "list", &e);
	cr_assert(strstr(e.msg, "values-list.yaml:4:7: jupyterhub.hub.db.url: expected a "
	    "string (the database URL), found a list") != NULL, "%s", e.msg);
	phalanx_fails("main", "dbstring", &e);
	cr_assert(strstr(e.msg, "values-dbstring.yaml:3:5: jupyterhub.hub.db: expected a mapping, "
	    "found a string") != NULL, "%s", e.msg);
	phalanx_fails("main", "toplist", &e);
	cr_assert(strstr(e.msg, "values-toplist.yaml:1:3: expected a mapping at the top level, "
	    "found a list") != NULL, "%s", e.msg);
}

Test(dburl, phalanx_null_or_empty_is_an_error)
{
	struct err e;

	phalanx_fails("main", "null", &e);
	cr_assert(strstr(e.msg, "values-null.yaml:4:12: jupyterhub.hub.db.url is empty") != NULL,
	    "%s", e.msg);
	phalanx_fails("main", "emptystr", &e);
	cr_assert(strstr(e.msg, "values-emptystr.yaml:4:13: jupyterhub.hub.db.url is empty") != NULL,
	    "%s", e.msg);
}

Test(dburl, phalanx_bad_value_located)
{
	struct err e;

	phalanx_fails("main", "sqlite", &e);
	cr_assert(strstr(e.msg, "values-sqlite.yaml:5:12: jupyterhub.hub.db.url: JupyterHub's "
	    "database is SQLite") != NULL, "%s", e.msg);
	phalanx_fails("main", "garbage", &e);
	cr_assert(strstr(e.msg, "values-garbage.yaml:4:13: jupyterhub.hub.db.url: invalid "
	    "database URL 'postgresql://nublado@[::1/nublado': ") != NULL, "%s", e.msg);
	phalanx_fails("main", "undefalias", &e);
	cr_assert(strstr(e.msg, "values-undefalias.yaml:") != NULL, "%s", e.msg);
	cr_assert(strstr(e.msg, "nowhere") != NULL, "%s", e.msg);
}

Test(dburl, phalanx_password_removed)
{
	struct dburl *u = phalanx_ok("main", "password");
	struct err e;

	err_clear(&e);
	cr_assert_str_eq(u->url, "postgresql://nublado@db.example.org:5432/nublado?sslmode=require");
	cr_assert_str_eq(u->raw_redacted,
	    "postgresql+psycopg2://nublado:***@db.example.org:5432/nublado?sslmode=require");
	cr_assert(u->had_password);
	cr_assert(u->had_driver);
	assert_clean(u, &e, "s3cr");
	dburl_free(u);
}

Test(dburl, phalanx_alias_followed_bomb_ignored, .timeout = 10)
{
	struct timespec t0, t1;
	struct dburl *u;

	clock_gettime(CLOCK_MONOTONIC, &t0);
	u = phalanx_ok("main", "alias");
	clock_gettime(CLOCK_MONOTONIC, &t1);
	cr_assert_str_eq(u->url, "postgresql://nublado@alias.example.org/nublado");
	cr_assert_eq(u->line, 11, "the anchored scalar's line: %d", u->line);
	cr_assert((t1.tv_sec - t0.tv_sec) < 2, "took %lds", (long)(t1.tv_sec - t0.tv_sec));
	dburl_free(u);
}

/* A scratch Phalanx tree under /tmp; caller removes it with rm_tree(). */
static char *
scratch_tree(void)
{
	char tmpl[] = "/tmp/nub-dburl.XXXXXX", *d, *app;

	d = mkdtemp(tmpl);
	cr_assert_not_null(d);
	app = xasprintf("%s/applications", d);
	cr_assert_eq(mkdir(app, 0700), 0);
	free(app);
	app = xasprintf("%s/applications/nublado", d);
	cr_assert_eq(mkdir(app, 0700), 0);
	free(app);
	return xstrdup(d);
}

static void
write_file(const char *dir, const char *name, const char *text, size_t pad)
{
	char *p = xasprintf("%s/applications/nublado/%s", dir, name);
	FILE *f = fopen(p, "w");

	cr_assert_not_null(f);
	fputs(text, f);
	for (size_t i = 0; i < pad; i++)
		fputs("# padding padding padding padding padding padding padding padding\n", f);
	cr_assert_eq(fclose(f), 0);
	free(p);
}

static void
rm_tree(char *d)
{
	char *cmd = xasprintf("rm -rf '%s'", d);

	cr_assert_eq(system(cmd), 0);
	free(cmd);
	free(d);
}

Test(dburl, phalanx_huge_file_refused, .timeout = 20)
{
	char *d = scratch_tree();
	struct dburl *u;
	struct err e;

	/* 9 MiB of comments after the value: refused by size, before parsing. */
	write_file(d, "values-big.yaml",
	    "jupyterhub:\n  hub:\n    db:\n      url: postgresql://a@b/c\n", 9 * 1024 * 16);
	err_clear(&e);
	cr_assert_eq(dburl_from_phalanx(d, "big", &u, &e), -1);
	cr_assert(strstr(e.msg, "values-big.yaml' is larger than 8 MiB") != NULL, "%s", e.msg);
	rm_tree(d);
}

Test(dburl, phalanx_nul_bytes_and_deep_nesting_refused, .timeout = 20)
{
	char *d = scratch_tree(), *deep;
	struct dburl *u;
	struct err e;
	size_t n = 100000;
	FILE *f;
	char *p = xasprintf("%s/applications/nublado/values-nul.yaml", d);

	f = fopen(p, "w");
	cr_assert_not_null(f);
	fwrite("a: b\n\0c: d\n", 1, 11, f);
	fclose(f);
	free(p);
	err_clear(&e);
	cr_assert_eq(dburl_from_phalanx(d, "nul", &u, &e), -1);
	cr_assert(strstr(e.msg, "NUL") != NULL, "%s", e.msg);

	deep = xmalloc(n * 2 + 1);
	memset(deep, '[', n);
	memset(deep + n, ']', n);
	deep[2 * n] = '\0';
	write_file(d, "values-deep.yaml", deep, 0);
	free(deep);
	err_clear(&e);
	cr_assert_eq(dburl_from_phalanx(d, "deep", &u, &e), -1);
	cr_assert(strstr(e.msg, "values-deep.yaml") != NULL, "%s", e.msg);
	rm_tree(d);
}

Test(dburl, phalanx_unreadable_env_file)
{
	char *d = scratch_tree(), *p;
	struct dburl *u;
	struct err e;

	if (geteuid() == 0) {
		/* root reads anything: a directory in the file's place instead */
		p = xasprintf("%s/applications/nublado/values-locked.yaml", d);
		cr_assert_eq(mkdir(p, 0700), 0);
	} else {
		write_file(d, "values-locked.yaml", "jupyterhub: {}\n", 0);
		p = xasprintf("%s/applications/nublado/values-locked.yaml", d);
		cr_assert_eq(chmod(p, 0), 0);
	}
	err_clear(&e);
	cr_assert_eq(dburl_from_phalanx(d, "locked", &u, &e), -1);
	cr_assert(strstr(e.msg, "cannot read '") != NULL, "%s", e.msg);
	cr_assert(strstr(e.msg, "values-locked.yaml'") != NULL, "%s", e.msg);
	free(p);
	rm_tree(d);
}

Test(dburl, list_envs_sorted)
{
	char *dir = fixture("main"), **envs;
	struct err e;
	static const char *want[] = { "alias", "badindent", "dbstring", "emptyfile", "emptystr",
		"garbage", "idfprod", "list", "malformed", "nodb", "null", "password", "sqlite",
		"toplist", "undefalias", "usdfdev", "wrongtype", NULL };
	size_t i;

	err_clear(&e);
	cr_assert_eq(dburl_list_envs(dir, &envs, &e), 0, "%s", e.msg);
	for (i = 0; want[i] != NULL; i++) {
		cr_assert_not_null(envs[i], "missing %s", want[i]);
		cr_assert_str_eq(envs[i], want[i]);
	}
	cr_assert_null(envs[i]);
	strv_free(envs);
	free(dir);

	/* A tree with no environments: an empty list, not NULL. */
	dir = scratch_tree();
	write_file(dir, "values.yaml", "jupyterhub: {}\n", 0);
	write_file(dir, "values-.yaml", "x: 1\n", 0);
	cr_assert_eq(dburl_list_envs(dir, &envs, &e), 0, "%s", e.msg);
	cr_assert_not_null(envs);
	cr_assert_null(envs[0]);
	strv_free(envs);
	rm_tree(dir);
}

/*
 * Random passwords from the characters that matter to URL parsing: whatever
 * the outcome (parsed or refused), no piece of the password comes out.
 * Markers at its start, middle and end ("Zq", "Wk", "Xj") occur nowhere else.
 */
Test(dburl, random_passwords_never_leak)
{
	static const char alphabet[] = "abc123@:/%?&=#[]+!$ ";
	static const char *const markers[] = { "Zq", "Wk", "Xj" };
	unsigned seed = 12345;
	char pw[64], raw[256], *r;
	struct dburl u;
	struct err e;
	int accepted = 0;

	for (int i = 0; i < 3000; i++) {
		size_t n = 0;

		n += (size_t)snprintf(pw + n, sizeof pw - n, "Zq");
		for (int k = 0, len = 1 + rand_r(&seed) % 8; k < len; k++)
			pw[n++] = alphabet[rand_r(&seed) % (sizeof alphabet - 1)];
		n += (size_t)snprintf(pw + n, sizeof pw - n, "Wk");
		for (int k = 0, len = 1 + rand_r(&seed) % 8; k < len; k++)
			pw[n++] = alphabet[rand_r(&seed) % (sizeof alphabet - 1)];
		snprintf(pw + n, sizeof pw - n, "Xj");
		snprintf(raw, sizeof raw, "%s://nublado:%s@db.example.org:5432/nublado%s",
		    i % 2 ? "postgresql+psycopg2" : "postgresql", pw,
		    i % 3 ? "?sslmode=require" : "");
		err_clear(&e);
		if (dburl_parse(raw, &u, &e) == 0)
			accepted++;
		r = dburl_redact(raw);
		for (int m = 0; m < 3; m++) {
			assert_clean(&u, &e, markers[m]);
			assert_no_secret(raw, r, markers[m]);
		}
		free(r);
		dburl_clear(&u);
	}
	/* Most shapes are parseable: refusing everything would pass the test above. */
	cr_assert(accepted > 1500, "only %d of 3000 accepted", accepted);
}

/*
 * psql in the pod sends the pod's password wherever it connects: a query that
 * moves the connection away from the host shown is refused, however spelled.
 */
Test(dburl, query_parameters_that_redirect_the_connection_are_refused)
{
	static const struct { const char *raw, *key; } v[] = {
		{ "postgresql://nublado@postgres.postgres/nublado?host=evil.example.com", "host" },
		{ "postgresql://nublado@postgres.postgres/nublado?sslmode=require&hostaddr=203.0.113.9",
		  "hostaddr" },
		{ "postgresql://nublado@cloud-sql-proxy.nublado/nublado?port=6543", "port" },
		{ "postgresql://nublado@postgres.postgres/nublado?ho%73t=evil", "host" },
		{ "postgresql+psycopg2://nublado:pw@postgres.postgres/nublado?host=evil", "host" },
		{ "postgresql://nublado@postgres.postgres/nublado?service=elsewhere", "service" },
		{ "postgresql:///nublado?host=/tmp", "host" },
	};
	struct dburl u;
	struct err e;

	for (size_t i = 0; i < sizeof v / sizeof v[0]; i++) {
		char want[64];

		parse_fails(v[i].raw, &e);
		snprintf(want, sizeof want, "sets %s in its query", v[i].key);
		cr_assert(strstr(e.msg, want) != NULL, "%s: %s", v[i].raw, e.msg);
		cr_assert(strstr(e.msg, "pw") == NULL || strstr(e.msg, "***") != NULL, "%s", e.msg);
	}
	/* Parameters that keep the target are fine. */
	err_clear(&e);
	cr_assert_eq(dburl_parse("postgresql://nublado@postgres.postgres/nublado?sslmode=verify-full"
	    "&connect_timeout=10&application_name=x", &u, &e), 0, "%s", e.msg);
	cr_assert_str_eq(u.host, "postgres.postgres");
	dburl_clear(&u);
}

/* ------------------------------------------------------------ choosing the source */

Test(dburl, choose_flag_first_password_dropped)
{
	char *dir = fixture("main");
	struct dburl_src src = { .flag = "postgresql+psycopg2://nublado:pw@h/nublado",
	    .phalanx = dir, .env = "idfprod" };
	struct dburl *u = NULL;
	struct err e;

	err_clear(&e);
	cr_assert_eq(dburl_choose(&src, &u, &e), 0, "%s", e.msg);
	cr_assert_str_eq(u->url, "postgresql://nublado@h/nublado");
	cr_assert_str_eq(u->source, "--db-url");
	cr_assert(u->had_password);
	dburl_free(u);

	src.flag = NULL;
	cr_assert_eq(dburl_choose(&src, &u, &e), 0, "%s", e.msg);
	cr_assert_str_eq(u->url, "postgresql://nublado@cloud-sql-proxy.nublado/nublado");
	assert_suffix(u->source, "main/applications/nublado/values-idfprod.yaml");
	dburl_free(u);
	free(dir);
}

Test(dburl, choose_bad_flag_is_a_usage_error)
{
	struct dburl_src src = { .flag = "postgresql://u:secret@h:port/db" };
	struct dburl *u = (struct dburl *)1;
	struct err e;

	err_clear(&e);
	cr_assert_eq(dburl_choose(&src, &u, &e), -1);
	cr_assert_null(u);
	cr_assert_eq(e.exit, EXIT_USAGE);
	cr_assert(strncmp(e.msg, "--db-url: ", 10) == 0, "%s", e.msg);
	cr_assert(strstr(e.msg, "secret") == NULL, "%s", e.msg);
}
