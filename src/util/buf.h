/* buf.h: a growable byte buffer, always NUL-terminated */
#ifndef NUB_BUF_H
#define NUB_BUF_H

#include <stddef.h>

struct buf {
	char *data;	/* NUL-terminated; NULL until the first append */
	size_t len;
	size_t cap;
};

#define BUF_INIT { NULL, 0, 0 }

void buf_append(struct buf *b, const void *p, size_t n);
/* For secrets: grows without leaving copies in freed memory; free with buf_wipe. */
void buf_append_wiping(struct buf *b, const void *p, size_t n);
/* Zero the whole allocation, then free it. */
void buf_wipe(struct buf *b);
void buf_puts(struct buf *b, const char *s);
void buf_printf(struct buf *b, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
/* Give the string to the caller (never NULL) and reset the buffer. */
char *buf_detach(struct buf *b);
void buf_reset(struct buf *b);
void buf_free(struct buf *b);

#endif
