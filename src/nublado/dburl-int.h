/* dburl-int.h: what the pieces of dburl share (private to src/nublado/dburl*.c) */
#ifndef NUB_DBURL_INT_H
#define NUB_DBURL_INT_H

#include <stdbool.h>
#include <stddef.h>

#include "../util/err.h"
#include "../util/yaml.h"
#include "dburl.h"

/* ---- redaction (dburl-redact.c) ---- */

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

/* The spans of raw that may be secret, in order, not overlapping (caller frees s->v). */
void dburl_secret_spans(const char *raw, struct spans *s);
/*
 * Where the userinfo of a URL ends (its '@'), given `rest' after "://", or
 * NULL when there is none or it cannot be told.
 */
const char *dburl_userinfo_end(const char *rest);
/* A percent-decoded copy of s[0:n], for comparing parameter names. */
char *dburl_pct_decode(const char *s, size_t n);
/* Whether a query parameter name (percent-encoded as written) names a password. */
bool dburl_password_key(const char *k, size_t n);
/* libpq's message (freed here), one line, secrets of raw scrubbed (caller frees). */
char *dburl_libpq_message(char *pqmsg, const char *raw);

/* ---- values files (dburl-values.c) ---- */

/* Outcome of looking the URL up in one values document. */
enum dburl_found { DBURL_FOUND_NONE, DBURL_FOUND_VALUE, DBURL_FOUND_EMPTY };

/* Read and parse a values file (at most DBURL_MAX_FILE). */
int dburl_values_load(const char *path, struct yaml_file **out, struct err *e);
/*
 * Look `dotted' (e.g. "jupyterhub.hub.db.url") up in f.  DBURL_FOUND_VALUE
 * sets *val (a copy) and the line and column of the scalar;
 * DBURL_FOUND_EMPTY (a null or an empty string) sets the location only.  A
 * wrong type on the way is a located error.
 */
int dburl_values_find(struct yaml_file *f, const char *dotted, enum dburl_found *found,
    char **val, int *line, int *col, struct err *e);
/* Parse a found value into a new dburl; errors located at file:line:col. */
int dburl_make(const char *raw, const char *source, const char *file, const char *key,
    int line, int col, struct dburl **out, struct err *e);

#endif
