/* statedir.h: where saved manifests and backups live */
#ifndef NUB_STATEDIR_H
#define NUB_STATEDIR_H

#include "err.h"

/*
 * $XDG_STATE_HOME/kubectl-nublado/<context>[/<sub>] (default
 * ~/.local/state), created 0700 on the way.  The context name is made safe
 * for a file name.  Caller frees *out.
 */
int statedir(const char *context, const char *sub, char **out, struct err *e);
/* mkdir -p with mode 0700 for what it creates. */
int mkdir_p(const char *path, struct err *e);
/* "20261125T133700Z" for file names, UTC. */
void utc_stamp(char *buf, size_t n);

#endif
