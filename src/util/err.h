/* err.h: an error message that travels up from the library to the command */
#ifndef NUB_ERR_H
#define NUB_ERR_H

#include <stddef.h>

/*
 * Library functions return 0 on success and -1 on failure, filling a
 * struct err the caller owns.  The message follows git's style: lower-case,
 * no trailing full stop, what is wrong first.  `hint' is the one obvious next
 * step, when there is one.  `http' is the HTTP status behind the failure (0 if
 * none) so callers can tell a 404 from a 403 without parsing text.
 */
struct err {
	char msg[2048];
	char hint[512];
	int http;		/* HTTP status, or 0 */
	const char *reason;	/* Kubernetes Status reason (static string), or NULL */
	int exit;		/* suggested exit code, 0 = default (1) */
};

void err_clear(struct err *e);
/* Set the message; e may be NULL.  Always returns -1 for `return err_set(...)'. */
int err_set(struct err *e, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
/* Put `prefix: ' in front of the current message. */
int err_prefix(struct err *e, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
/* Ctrl-C: the message, and exit 130.  Returns -1. */
int err_interrupted(struct err *e, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
void err_hint(struct err *e, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

#endif
