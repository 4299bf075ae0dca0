/* termsafe.h: text for a terminal, with no escape sequence but our own */
#ifndef NUB_TERMSAFE_H
#define NUB_TERMSAFE_H

#include <stdbool.h>
#include <stddef.h>

#include "buf.h"

/*
 * Names, messages and rows come from API servers and databases we do not
 * trust: an ESC in a namespace or a view name could move the cursor, rewrite
 * a warning already on the screen, set the window title or the clipboard.
 * The filter passes text, newlines and tabs, valid UTF-8, and exactly the
 * sequences this program writes (a few colours, "erase line", the progress
 * line's "\r\033[K"); every other control byte (C0, DEL, C1 as UTF-8 or raw,
 * a stray continuation byte) becomes '?', which is valid text and JSON alike.
 * It works on a stream in pieces: `st' carries what a piece left half done.
 */
struct termsafe {
	char held[16];		/* the start of a sequence that may still be ours */
	size_t nheld;
	int cont;		/* UTF-8 continuation bytes still expected */
};

void termsafe_feed(struct termsafe *st, const char *p, size_t n, struct buf *out);
/* The end of the stream: what is still held goes out, made safe. */
void termsafe_finish(struct termsafe *st, struct buf *out);

/*
 * Put the filter in front of stdout and stderr (fds 1 and 2 stay as they
 * are, for raw writes such as psql's terminal).  Call once, first thing.
 */
void termsafe_install(void);

#endif
