/* client-test.h: hooks into client.c's internals, for tests and fuzzing only */
#ifndef NUB_CLIENT_TEST_H
#define NUB_CLIENT_TEST_H

#include <stddef.h>

#include "../util/err.h"
#include "client.h"

/*
 * Feed `n' bytes of a watch stream to the parser kube_watch uses, in pieces
 * of at most `piece' bytes (0: all at once), as curl would hand them over.
 * `fn' gets each event.  Returns how the stream stands: 0 going on, 1 done
 * (fn said so), -1 error (e filled).  *rv (may be NULL) gets the last
 * resourceVersion seen, or NULL (caller frees).
 */
int kube_watch_feed_for_tests(const char *p, size_t n, size_t piece, kube_event_fn fn,
    void *arg, char **rv, struct err *e);

#endif
