/* exitcode.h: the exit codes every command documents */
#ifndef NUB_EXITCODE_H
#define NUB_EXITCODE_H

#define EXIT_OK		0	/* done */
#define EXIT_ERROR	1	/* something failed; the message says what to do */
#define EXIT_USAGE	2	/* bad command line */
#define EXIT_REFUSED	3	/* a safety check refused; nothing was changed */
#define EXIT_INTERRUPTED 130	/* Ctrl-C (128 + SIGINT) */

#endif
