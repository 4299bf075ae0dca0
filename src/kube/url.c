/* url.c: URL escaping for API paths, label and field selectors */
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include "../util/xalloc.h"
#include "url.h"

static int
unreserved(unsigned char c)
{
	return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') ||
	    (c >= '0' && c <= '9') || c == '-' || c == '.' || c == '_' || c == '~';
}

/* Not curl_easy_escape: that needs a handle, and this runs with none. */
char *
kube_escape(const char *s)
{
	static const char hex[] = "0123456789ABCDEF";
	struct buf b = BUF_INIT;

	for (const unsigned char *p = (const unsigned char *)s; *p != '\0'; p++) {
		if (unreserved(*p)) {
			buf_append(&b, p, 1);
		} else {
			char enc[3] = { '%', hex[*p >> 4], hex[*p & 15] };

			buf_append(&b, enc, 3);
		}
	}
	return buf_detach(&b);
}

char *
kube_path(const char *fmt, ...)
{
	struct buf b = BUF_INIT;
	va_list ap;

	va_start(ap, fmt);
	for (const char *p = fmt; *p != '\0'; p++) {
		if (p[0] == '%' && p[1] == 's') {
			char *seg = kube_escape(va_arg(ap, const char *));

			buf_puts(&b, seg);
			free(seg);
			p++;
		} else {
			buf_append(&b, p, 1);
		}
	}
	va_end(ap);
	return buf_detach(&b);
}

void
kube_query_add(struct buf *q, const char *key, const char *value)
{
	char *k = kube_escape(key), *v = kube_escape(value);

	buf_printf(q, "%s%s=%s", q->len > 0 ? "&" : "", k, v);
	free(k);
	free(v);
}
