/* hub.h: the JupyterHub pod in the Nublado namespace */
#ifndef NUB_HUB_H
#define NUB_HUB_H

#include <json-c/json.h>

#include "../util/err.h"
#include "nub.h"

/* How the hub pod is found (never by its name: the Deployment's pods change names). */
#define HUB_LABEL_SELECTOR "app=jupyterhub,component=hub"
#define HUB_CONTAINER "hub"

/*
 * The one Ready, not terminating, pod with HUB_LABEL_SELECTOR in n->ns
 * (caller frees *pod).  No such pod, or several, is an error that lists what
 * was found (name, phase, ready, terminating) and what to do.
 */
int hub_find_pod(struct nub *n, char **pod, struct err *e);

/* What hub_find_pod decides from a pod list's items (exposed for tests). */
int hub_pick_pod(json_object *items, const char *ns, char **pod, struct err *e);

#endif
