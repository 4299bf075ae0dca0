/* status.h: the whole picture on one screen: access, labs, hub, database, Argo CD */
#ifndef NUB_STATUS_VIEW_H
#define NUB_STATUS_VIEW_H

#include <stdio.h>

#include <json-c/json.h>

#include "nub.h"

/*
 * Look at everything (read-only; each part that cannot be read says why
 * instead of failing the whole) and return it as JSON:
 * {context, server, serverVersion, access{blocked, ingresses[]},
 *  labs{prefix, active, terminating, names[]}, hub{pod, ready, restarts,
 *  age, phase}, database{url, source, reachable, tables{}, users, error},
 *  argocd{sync, health, operation, selfHeal}}.
 * `with_db' runs a read-only psql in the hub pod (a running one when none
 * is Ready; `pod_name' instead when not NULL; never a pod of its own).  When the API server
 * cannot be asked for its version, only {context, server, serverError}.
 */
json_object *status_collect(struct nub *n, bool with_db, const char *pod_name);

/* The human screen for that JSON. */
void status_print(json_object *st, FILE *f, bool color);

#endif
