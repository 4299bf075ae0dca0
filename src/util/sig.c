/* sig.c: the one piece of process-wide state besides the options: a signal flag */
#include <signal.h>
#include <string.h>
#include <time.h>

#include "sig.h"

/* Written from a signal handler, hence sig_atomic_t and file scope. */
static volatile sig_atomic_t got_signal;
static volatile sig_atomic_t deferring;

static void
on_signal(int sig)
{
	got_signal = sig;
}

int
sig_catch(int signo, void (*handler)(int), struct sigaction *old)
{
	struct sigaction sa;

	memset(&sa, 0, sizeof sa);
	sa.sa_handler = handler;
	sigemptyset(&sa.sa_mask);
	return sigaction(signo, &sa, old);
}

void
sig_setup(void)
{
	sig_catch(SIGINT, on_signal, NULL);
	sig_catch(SIGTERM, on_signal, NULL);
	signal(SIGPIPE, SIG_IGN);
}

bool
sig_interrupted(void)
{
	return got_signal != 0 && !deferring;
}

void
sig_defer(bool on)
{
	deferring = on;
}

long long
now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

bool
sleep_ms(long ms)
{
	long long end = now_ms() + ms;

	while (!sig_interrupted()) {
		long long left = end - now_ms();
		struct timespec ts;

		if (left <= 0)
			return true;
		if (left > 100)
			left = 100;	/* wake to notice Ctrl-C */
		ts.tv_sec = left / 1000;
		ts.tv_nsec = (left % 1000) * 1000000L;
		nanosleep(&ts, NULL);
	}
	return false;
}
