/* statedir.h: where saved manifests, backups and the wipe journal live */
#ifndef NUB_STATEDIR_H
#define NUB_STATEDIR_H

#include <stddef.h>

#include "err.h"

/*
 * The state directory's name for one cluster as seen through one context:
 * the context name percent-encoded (any byte outside [A-Za-z0-9_-], so
 * names differing only in '/', '_', ':' or '.' stay apart and ".." is no
 * path), cut to 64 bytes, then '.' and 16 hex digits of SHA-256 over the
 * context and `identity' (the server, namespace and cluster UID): two
 * clusters behind contexts of the same name never share state.  Caller frees.
 */
char *statedir_name(const char *context, const char *identity);
/* The part of every such name that the context alone makes ("sim."). */
char *statedir_context_prefix(const char *context);
/*
 * $XDG_STATE_HOME/kubectl-nublado/<name>[/<sub>] (default ~/.local/state),
 * created 0700 on the way.  `name' comes from statedir_name().  Caller
 * frees *out.
 */
int statedir(const char *name, const char *sub, char **out, struct err *e);

#endif
