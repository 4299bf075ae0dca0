/* exec-test.h: hooks into the exec internals (exec-upgrade.c), for tests and fuzzing only */
#ifndef NUB_EXEC_TEST_H
#define NUB_EXEC_TEST_H

#include <stddef.h>

#include "../util/buf.h"

/*
 * The upgrade answer's parser on `n' bytes as a server sent them: status
 * line, headers up to the blank line, then the body the way a refused
 * upgrade's is read (chunked, Content-Length, or up to the end).  Returns
 * 1 with *status and body (decoded) when complete, 0 when more bytes are
 * needed, -1 when malformed.
 */
int exec_response_parse_for_tests(const char *p, size_t n, int *status, struct buf *body);

#endif
