/* url.h: building API paths and query strings with correct escaping */
#ifndef NUB_URL_H
#define NUB_URL_H

#include "../util/buf.h"

/* Percent-encode everything but RFC 3986 unreserved characters (caller frees). */
char *kube_escape(const char *s);

/*
 * Build a path from segments: each `%s' in fmt is replaced by the escaped
 * string argument ("/api/v1/namespaces/%s" with "a b" -> ".../a%20b").
 * Only %s is understood.  Caller frees.
 */
char *kube_path(const char *fmt, ...);

/* Append key=value (both escaped) to a query string, with '&' as needed. */
void kube_query_add(struct buf *q, const char *key, const char *value);

#endif
