/* progress.c: one progress line on stderr */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

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
};

struct progress *
progress_start(const char *label, size_t total, const char *what, bool tty)
{
	struct progress *p = xcalloc(1, sizeof *p);

	p->label = xstrdup(label);
	p->what = xstrdup(what ? what : "");
	p->total = total;
	p->tty = tty;
	p->started = now_ms();
	p->last_done = (size_t)-1;
	return p;
}

static void
draw(struct progress *p, const char *note)
{
	double secs = (double)(now_ms() - p->started) / 1000.0;

	if (p->tty) {
		char bar[31];
		size_t fill = p->total ? p->done * 30 / p->total : 0;

		memset(bar, '#', fill);
		memset(bar + fill, '.', 30 - fill);
		bar[30] = '\0';
		if (p->total)
			fprintf(stderr, "\r\033[K%s [%s] %zu/%zu %s (%.0fs)%s%s", p->label, bar,
			    p->done, p->total, p->what, secs, note ? " " : "", note ? note : "");
		else
			fprintf(stderr, "\r\033[K%s (%.0fs)%s%s", p->label, secs,
			    note ? ": " : "", note ? note : "");
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
	free(p->last_note);
	p->last_note = xstrdup(note);
	p->last_draw = now_ms();
	p->last_done = p->done;
}

void
progress_set(struct progress *p, size_t done, const char *note)
{
	long long t = now_ms();

	if (p == NULL)
		return;
	p->done = done;
	if (p->tty) {
		if (t - p->last_draw >= 100 || done == p->total)
			draw(p, note);
		return;
	}
	/* Logs want few lines: on a quarter's progress, or every 5 s. */
	if (p->last_done == (size_t)-1 || t - p->last_draw >= 5000 ||
	    (note != NULL && (p->last_note == NULL || strcmp(note, p->last_note) != 0)) ||
	    (p->total && (done - p->last_done) * 4 >= p->total && done != p->last_done))
		draw(p, note);
}

void
progress_end(struct progress *p, const char *final)
{
	if (p == NULL)
		return;
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
