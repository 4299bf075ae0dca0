/* progress.c: one progress line on stderr, redrawn by a timer so a wait never looks frozen */
#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <unistd.h>
#include <time.h>

#include "progress.h"
#include "sig.h"
#include "xalloc.h"

struct progress {
	char *label, *what;
	size_t total, done;
	bool tty;
	long long started, last_draw;
	size_t last_done;
	char *last_note;
	bool drawn;
	/*
	 * The ticker: between events, the line is drawn again every second on a
	 * terminal (the elapsed time moves) and every 5 s on a pipe, so a long
	 * quiet wait (a stuck namespace, a slow hub) never looks frozen.
	 */
	pthread_t ticker;
	bool ticking, stop;
	pthread_mutex_t lock;
	pthread_cond_t wake;
};

static void draw(struct progress *p, const char *note);

static void *
tick(void *arg)
{
	struct progress *p = arg;
	long period = p->tty ? 1000 : 5000;

	pthread_mutex_lock(&p->lock);
	while (!p->stop) {
		struct timespec ts;
		long long due = p->last_draw + period;

		clock_gettime(CLOCK_REALTIME, &ts);
		{
			long long wait = due - now_ms();

			if (wait < 50)
				wait = 50;
			ts.tv_sec += wait / 1000;
			ts.tv_nsec += (wait % 1000) * 1000000L;
			if (ts.tv_nsec >= 1000000000L) {
				ts.tv_sec++;
				ts.tv_nsec -= 1000000000L;
			}
		}
		if (pthread_cond_timedwait(&p->wake, &p->lock, &ts) == ETIMEDOUT && !p->stop &&
		    now_ms() - p->last_draw >= period)
			draw(p, p->last_note);
	}
	pthread_mutex_unlock(&p->lock);
	return NULL;
}

struct progress *
progress_start(const char *label, size_t total, const char *what, bool tty)
{
	struct progress *p = xcalloc(1, sizeof *p);

	p->label = xstrdup(label);
	p->what = xstrdup(what ? what : "");
	p->total = total;
	p->tty = tty;
	p->started = now_ms();
	p->last_draw = p->started;
	p->last_done = (size_t)-1;
	pthread_mutex_init(&p->lock, NULL);
	pthread_cond_init(&p->wake, NULL);
	{
		/* Signals stay with the main thread (Ctrl-C handling lives there). */
		sigset_t all, old;

		sigfillset(&all);
		pthread_sigmask(SIG_BLOCK, &all, &old);
		p->ticking = pthread_create(&p->ticker, NULL, tick, p) == 0;
		pthread_sigmask(SIG_SETMASK, &old, NULL);
	}
	return p;
}

/* The terminal's width: a line longer than it wraps, and \r cannot redraw it. */
static size_t
columns(void)
{
	struct winsize ws;
	const char *env = getenv("COLUMNS");

	if (ioctl(STDERR_FILENO, TIOCGWINSZ, &ws) == 0 && ws.ws_col > 0)
		return ws.ws_col;
	if (env != NULL && atoi(env) > 0)
		return (size_t)atoi(env);
	return 80;
}

/* Cut line to fit in width-1 columns (UTF-8 safe), ending in "..." when cut. */
static void
fit(char *line, size_t width)
{
	size_t n = 0, max = width > 4 ? width - 1 : 3;

	for (size_t i = 0; line[i] != '\0'; i++) {
		if (((unsigned char)line[i] & 0xc0) == 0x80)
			continue;	/* a continuation byte: same column */
		if (++n > max) {
			size_t cut = i;

			/* Back off three characters for the dots. */
			for (int k = 0; k < 3 && cut > 0; k++)
				do
					cut--;
				while (cut > 0 && ((unsigned char)line[cut] & 0xc0) == 0x80);
			memcpy(line + cut, "...", 4);
			return;
		}
	}
}

static void
draw(struct progress *p, const char *note)
{
	double secs = (double)(now_ms() - p->started) / 1000.0;

	if (p->tty) {
		char bar[31], line[1024];
		size_t fill = p->total ? p->done * 30 / p->total : 0;

		memset(bar, '#', fill);
		memset(bar + fill, '.', 30 - fill);
		bar[30] = '\0';
		if (p->total)
			snprintf(line, sizeof line, "%s [%s] %zu/%zu %s (%.0fs)%s%s", p->label, bar,
			    p->done, p->total, p->what, secs, note ? " " : "", note ? note : "");
		else
			snprintf(line, sizeof line, "%s (%.0fs)%s%s", p->label, secs,
			    note ? ": " : "", note ? note : "");
		/* One row, always: a wrapped line would leave frozen copies above it. */
		fit(line, columns());
		fprintf(stderr, "\r\033[K%s", line);
	} else {
		if (p->total)
			fprintf(stderr, "%s: %zu/%zu %s (%.0fs)%s%s\n", p->label, p->done,
			    p->total, p->what, secs, note ? " " : "", note ? note : "");
		else
			fprintf(stderr, "%s (%.0fs)%s%s\n", p->label, secs,
			    note ? ": " : "", note ? note : "");
	}
	fflush(stderr);
	p->drawn = true;
	if (note != p->last_note) {
		free(p->last_note);
		p->last_note = xstrdup(note);
	}
	p->last_draw = now_ms();
	p->last_done = p->done;
}

void
progress_set(struct progress *p, size_t done, const char *note)
{
	long long t = now_ms();

	if (p == NULL)
		return;
	pthread_mutex_lock(&p->lock);
	p->done = done;
	if (p->tty && (t - p->last_draw >= 100 || done == p->total)) {
		draw(p, note);
	} else if (p->tty) {
		/* Not now: the ticker draws it shortly, with this note. */
		if (note != p->last_note && (note == NULL || p->last_note == NULL ||
		    strcmp(note, p->last_note) != 0)) {
			free(p->last_note);
			p->last_note = xstrdup(note);
		}
	} else if (p->last_done == (size_t)-1 || t - p->last_draw >= 5000 ||
	    (note != NULL && t - p->last_draw >= 1000 &&
	    (p->last_note == NULL || strcmp(note, p->last_note) != 0)) ||
	    (p->total && (done - p->last_done) * 4 >= p->total && done != p->last_done)) {
		/*
		 * Logs want few lines: on a quarter's progress, a new note (at
		 * most one a second: a byte count changes all the time), or every 5 s.
		 */
		draw(p, note);
	} else if (note != NULL && (p->last_note == NULL || strcmp(note, p->last_note) != 0)) {
		free(p->last_note);
		p->last_note = xstrdup(note);
	}
	pthread_mutex_unlock(&p->lock);
}

void
progress_end(struct progress *p, const char *final)
{
	if (p == NULL)
		return;
	if (p->ticking) {
		pthread_mutex_lock(&p->lock);
		p->stop = true;
		pthread_cond_signal(&p->wake);
		pthread_mutex_unlock(&p->lock);
		pthread_join(p->ticker, NULL);
	}
	pthread_mutex_destroy(&p->lock);
	pthread_cond_destroy(&p->wake);
	if (p->tty && p->drawn)
		fputs("\r\033[K", stderr);
	if (final != NULL)
		fprintf(stderr, "%s\n", final);
	fflush(stderr);
	free(p->label);
	free(p->what);
	free(p->last_note);
	free(p);
}

void
progress_size(char *buf, size_t n, unsigned long long bytes)
{
	static const char *const unit[] = { "KiB", "MiB", "GiB", "TiB" };
	double v = (double)bytes;
	int u = -1;

	if (bytes < 1024) {
		snprintf(buf, n, "%llu B", bytes);
		return;
	}
	while (v >= 1024 && u < 3) {
		v /= 1024;
		u++;
	}
	snprintf(buf, n, "%.1f %s", v, unit[u]);
}
