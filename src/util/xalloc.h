/* xalloc.h: allocation that cannot fail (out of memory aborts with a message) */
#ifndef NUB_XALLOC_H
#define NUB_XALLOC_H

#include <stddef.h>

void *xmalloc(size_t n);
void *xcalloc(size_t n, size_t size);
void *xrealloc(void *p, size_t n);
char *xstrdup(const char *s);		/* NULL in, NULL out */
char *xstrndup(const char *s, size_t n);
char *xasprintf(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
/* Free a NULL-terminated array of strings and the array. */
void strv_free(char **v);
size_t strv_len(char *const *v);
/* Append a copy of s to a NULL-terminated array (which may be NULL). */
char **strv_push(char **v, const char *s);

#endif
