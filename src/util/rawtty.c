/* rawtty.c: our own terminal in raw mode for a remote one, and its size changes */
#include <errno.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <termios.h>

#include "rawtty.h"
#include "sig.h"

/* File scope: atexit and signal paths must find the terminal to restore. */
static struct termios term_saved;
static int term_saved_fd = -1;
static bool term_atexit_done;
static volatile sig_atomic_t winch_flag;
static struct sigaction old_winch;
static bool winch_set;

void
rawtty_restore(void)
{
	if (term_saved_fd >= 0) {
		tcsetattr(term_saved_fd, TCSADRAIN, &term_saved);
		term_saved_fd = -1;
	}
}

int
rawtty_enter(int fd, struct err *e)
{
	struct termios t;

	if (tcgetattr(fd, &t) < 0)
		return err_set(e, "cannot read the terminal's settings: %s", strerror(errno));
	term_saved = t;
	term_saved_fd = fd;
	if (!term_atexit_done) {
		atexit(rawtty_restore);
		term_atexit_done = true;
	}
	cfmakeraw(&t);
	/* TCSADRAIN, not TCSAFLUSH: keep what the user typed ahead. */
	if (tcsetattr(fd, TCSADRAIN, &t) < 0) {
		term_saved_fd = -1;
		return err_set(e, "cannot put the terminal in raw mode: %s", strerror(errno));
	}
	return 0;
}

static void
on_winch(int sig)
{
	winch_flag = 1;
}

void
rawtty_winch_start(void)
{
	winch_flag = 0;
	if (sig_catch(SIGWINCH, on_winch, &old_winch) == 0)
		winch_set = true;
}

void
rawtty_winch_stop(void)
{
	if (winch_set)
		sigaction(SIGWINCH, &old_winch, NULL);
	winch_set = false;
}

bool
rawtty_winch_taken(void)
{
	if (!winch_flag)
		return false;
	winch_flag = 0;
	return true;
}
