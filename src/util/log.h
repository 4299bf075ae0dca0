/* log.h: chatter on stderr, gated by -v; data never goes through here */
#ifndef NUB_LOG_H
#define NUB_LOG_H

#include <stdbool.h>

#include "err.h"

/*
 * Verbosity levels (-v repeatable, or -v=N / --v=N as kubectl spells it):
 *   0  errors, warnings and progress only
 *   1  each step as it starts and ends
 *   2  each HTTP request: method, URL, status, time
 *   3  also the request and response headers (secrets redacted)
 * The level and colour are parsed options, set once in main().
 */
#define LOG_STEPS	1
#define LOG_REQUESTS	2
#define LOG_HEADERS	3

void log_setup(int verbosity, bool color_stderr);
int log_level(void);

void log_debug(int level, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
void log_warn(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void log_error(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
/* Print e (message, then its hint on its own line). */
void log_err(const struct err *e);

#endif
