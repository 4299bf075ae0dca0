/* dburl.h: the JupyterHub database URL: where it comes from, normalised for psql, never a password */
#ifndef NUB_DBURL_H
#define NUB_DBURL_H

#include <stdbool.h>

#include "../util/err.h"
#include "nub.h"

/*
 * Runbook step 3 ("determine the URL for the JupyterHub database") as a
 * value.  JupyterHub takes an SQLAlchemy URL (postgresql+psycopg2://...);
 * psql takes a libpq URI.  `url' is what psql accepts: the +driver part and
 * any password removed (the hub pod holds the password in a file; it never
 * needs to travel), everything else as written, query parameters kept.  It
 * has passed PQconninfoParse.  The parts are libpq's reading of it, percent-
 * decoding done (for display: use `url' to connect).
 */
struct dburl {
	char *url;		/* normalised, password removed */
	char *raw_redacted;	/* the value as found, password replaced by *** */
	char *scheme;		/* "postgresql" or "postgres" */
	char *driver;		/* "psycopg2" from postgresql+psycopg2://, or NULL */
	char *user, *host, *port, *dbname;	/* NULL when not given */
	bool had_password;	/* the raw value carried one (now removed) */
	bool had_driver;	/* the scheme had +driver (now removed) */
	/*
	 * "secret nublado/nublado-secret values.yaml", a file path, or NULL
	 * when parsed from a bare string.
	 */
	char *source;
	char *secret;		/* "nublado/nublado-secret" for a Secret, else NULL */
	char *file;		/* the values file, NULL for a Secret */
	char *key;		/* "jupyterhub.hub.db.url" or "hub.db.url" */
	int line, column;	/* of the value in `file' (1-based), 0 if n/a */
};

/* The Secrets holding the deployed values (existing-secret wins, as in the hub pod). */
#define DBURL_SECRET		"nublado-secret"
#define DBURL_SECRET_Z2JH	"hub"
#define DBURL_SECRET_KEY	"values.yaml"
#define DBURL_SECRET_PATH	"hub.db.url"
#define DBURL_PHALANX_PATH	"jupyterhub.hub.db.url"
/* No values file comes near this; a bigger one is a mistake, not data. */
#define DBURL_MAX_FILE		(8 * 1024 * 1024)

/*
 * The deployed value: Secret nublado-secret in n->ns, key values.yaml,
 * hub.db.url; when that Secret or the value is absent, Secret hub.  Both
 * absent: an error naming both, hinting at --phalanx.  403: an error naming
 * the permission needed (e->http 403).
 */
int dburl_from_cluster(struct nub *n, struct dburl **out, struct err *e);

/*
 * From a Phalanx checkout, the runbook's rule: jupyterhub.hub.db.url in
 * DIR/applications/nublado/values-ENV.yaml or, when not set there,
 * values.yaml.  A missing values-ENV.yaml is an error listing the
 * environments there are (a typo must not fall back silently).  Errors in
 * the YAML are located (file:line:col).
 */
int dburl_from_phalanx(const char *dir, const char *env, struct dburl **out,
    struct err *e);

/*
 * Parse and normalise a raw value into u (zeroed first; free its fields
 * with dburl_clear).  Refuses schemes other than PostgreSQL's; libpq's own
 * message when it rejects the result.  No message ever holds the password.
 */
int dburl_parse(const char *raw, struct dburl *u, struct err *e);

/* What a command does with the URL: the password warning says why it needs none. */
enum dburl_use {
	DBURL_CONNECT,		/* psql (or pg_dump) in the hub pod connects with it */
	DBURL_SHOW,		/* it is shown (db-url); JupyterHub reads its password elsewhere */
};

/* Where a command takes its database URL from: one of these, in this order. */
struct dburl_src {
	const char *flag;		/* --db-url URL, or NULL */
	const char *phalanx, *env;	/* --phalanx DIR --env ENV, or NULL */
	struct nub *n;			/* else the deployed value; NULL will do with the others */
	enum dburl_use use;
};

/*
 * The one place a command gets its database URL: src->flag parsed (a bad
 * one is a usage error: exit 2, "--db-url: ..."; (*out)->source is
 * "--db-url"), else dburl_from_phalanx, else dburl_from_cluster.  A password
 * in the value was dropped: one warning says so, and why, for src->use.
 * Caller frees *out with dburl_free.
 */
int dburl_choose(const struct dburl_src *src, struct dburl **out, struct err *e);

/*
 * dburl_choose for the runbook's database steps (wipe-db, restore-db):
 * `flag' (--db-url) or the deployed value, as two strings the caller frees.
 */
int dburl_resolve(struct nub *n, const char *flag, char **url, char **source, struct err *e);

/* A malloc'd copy of raw with any password replaced by "***" (even in garbage). */
char *dburl_redact(const char *raw);

/* "postgresql+psycopg2" when the value had a driver, else NULL (caller frees). */
char *dburl_normalised_from(const struct dburl *u);

/* The environments of a checkout: names from values-*.yaml, sorted (NULL-terminated). */
int dburl_list_envs(const char *phalanx_dir, char ***envs, struct err *e);

void dburl_clear(struct dburl *u);
void dburl_free(struct dburl *u);

#endif
