/* prompt.h: preview-then-confirm, the only way a destructive step starts */
#ifndef NUB_PROMPT_H
#define NUB_PROMPT_H

#include <stdbool.h>

#include "err.h"

/*
 * Ask before a change.  `yes' (-y) answers for the user.  With `typed'
 * NULL the user answers y/N; otherwise they must type `typed' exactly (the
 * context name, for wipe-db).  Without a terminal on stdin and without -y we
 * refuse instead of hanging: e->exit = EXIT_REFUSED.  A "no" is also a
 * refusal (EXIT_REFUSED, nothing changed).
 */
int prompt_confirm(const char *question, const char *typed, bool yes,
    struct err *e);

#endif
