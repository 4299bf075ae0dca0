/* log.c: stderr logging with git-style prefixes */
#include <stdarg.h>
#include <stdio.h>

#include "log.h"

/* Parsed options, written once by main() before any other work. */
static int verbosity;
static bool color;

void
log_setup(int v, bool c)
{
	verbosity = v;
	color = c;
}

int
log_level(void)
{
	return verbosity;
}

static void
vlog(const char *prefix, const char *sgr, const char *fmt, va_list ap)
{
	if (prefix != NULL) {
		if (color && sgr != NULL)
			fprintf(stderr, "\033[%sm%s\033[0m", sgr, prefix);
		else
			fputs(prefix, stderr);
	}
	vfprintf(stderr, fmt, ap);
	fputc('\n', stderr);
}

void
log_debug(int level, const char *fmt, ...)
{
	va_list ap;

	if (verbosity < level)
		return;
	va_start(ap, fmt);
	vlog(NULL, NULL, fmt, ap);
	va_end(ap);
}

void
log_warn(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vlog("warning: ", "1;33", fmt, ap);
	va_end(ap);
}

void
log_error(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vlog("error: ", "1;31", fmt, ap);
	va_end(ap);
}

void
log_err(const struct err *e)
{
	log_error("%s", e->msg[0] ? e->msg : "unknown error");
	if (e->hint[0] != '\0') {
		if (color)
			fprintf(stderr, "\033[2mhint: %s\033[0m\n", e->hint);
		else
			fprintf(stderr, "hint: %s\n", e->hint);
	}
}
