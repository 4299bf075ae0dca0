/* sig.h: Ctrl-C handling, with critical sections that defer it */
#ifndef NUB_SIG_H
#define NUB_SIG_H

#include <signal.h>
#include <stdbool.h>

/* Install SIGINT/SIGTERM handlers that only set a flag. */
void sig_setup(void);
/* Install `handler' for signo, nothing blocked, no flags; the old action to *old (may be NULL). */
int sig_catch(int signo, void (*handler)(int), struct sigaction *old);
/* Whether the user asked to stop (and no critical section defers it). */
bool sig_interrupted(void);
/*
 * Enter/leave a section that must not be cut (the drop and the restart that
 * must follow it).  An interrupt inside is remembered and seen by
 * sig_interrupted() once the section is left.
 */
void sig_defer(bool on);

/* Milliseconds on a monotonic clock. */
long long now_ms(void);
/* Sleep up to ms, waking early on an interrupt; false if interrupted. */
bool sleep_ms(long ms);

#endif
