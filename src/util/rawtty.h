/* rawtty.h: our own terminal in raw mode for a remote one, and its size changes */
#ifndef NUB_RAWTTY_H
#define NUB_RAWTTY_H

#include <stdbool.h>

#include "err.h"

/*
 * Put terminal fd in raw mode (Ctrl-C and friends become bytes), keeping
 * what the user typed ahead.  The old settings come back with
 * rawtty_restore(), and at exit in any case.
 */
int rawtty_enter(int fd, struct err *e);
/* Restore the settings rawtty_enter changed; nothing when it did not. */
void rawtty_restore(void);

/* Note SIGWINCH from now on (rawtty_winch_taken), until rawtty_winch_stop(). */
void rawtty_winch_start(void);
void rawtty_winch_stop(void);
/* Whether the terminal's size changed since the last call. */
bool rawtty_winch_taken(void);

#endif
