/* prompt.c: confirmation on the terminal */
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "exitcode.h"
#include "prompt.h"
#include "sig.h"

int
prompt_confirm(const char *question, const char *typed, bool yes, struct err *e)
{
	char line[256];
	size_t n;

	if (yes)
		return 0;
	if (!isatty(STDIN_FILENO)) {
		e->exit = EXIT_REFUSED;
		err_set(e, "no terminal to confirm on, and --yes was not given");
		err_hint(e, "review the plan (--dry-run), then run again with --yes");
		return -1;
	}
	if (typed != NULL)
		fprintf(stderr, "%s\nType '%s' to go on: ", question, typed);
	else
		fprintf(stderr, "%s [y/N] ", question);
	fflush(stderr);
	if (fgets(line, sizeof line, stdin) == NULL || sig_interrupted()) {
		fputc('\n', stderr);
		e->exit = sig_interrupted() ? EXIT_INTERRUPTED : EXIT_REFUSED;
		return err_set(e, "not confirmed; nothing was changed");
	}
	n = strcspn(line, "\r\n");
	line[n] = '\0';
	if (typed != NULL ? strcmp(line, typed) == 0 :
	    (strcmp(line, "y") == 0 || strcmp(line, "Y") == 0 ||
	    strcmp(line, "yes") == 0))
		return 0;
	e->exit = EXIT_REFUSED;
	return err_set(e, "not confirmed; nothing was changed");
}
