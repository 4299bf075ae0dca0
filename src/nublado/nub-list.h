/* nub-list.h: names for shell completion: contexts, kubeconfig entries, namespaces */
#ifndef NUB_NUB_LIST_H
#define NUB_NUB_LIST_H

#include <stdbool.h>

#include "../util/err.h"
#include "nub.h"

/*
 * The merged context names of o's kubeconfig, and the current context
 * (NULL when none), without resolving one: a broken user entry must not
 * hide them.  Caller frees (strv_free, free).
 */
int nub_list_contexts(const struct nub_opts *o, char ***names, char **current, struct err *e);
/* The names of every cluster (users: false) or user (true) in o's kubeconfig, sorted. */
int nub_list_entries(const struct nub_opts *o, bool users, char ***names, struct err *e);
/* The cluster's namespaces (one list, o->request_timeout_ms a request); caller strv_frees. */
int nub_list_namespaces(const struct nub_opts *o, char ***names, struct err *e);
/* The context o selects: --context, else the kubeconfig's current one; NULL when none. */
char *nub_list_context(const struct nub_opts *o);

#endif
