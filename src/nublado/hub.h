/* hub.h: the JupyterHub pod in the Nublado namespace */
#ifndef NUB_HUB_H
#define NUB_HUB_H

#include <stdbool.h>

#include <json-c/json.h>

#include "../util/err.h"
#include "../util/buf.h"
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

/*
 * The pod to exec psql or pg_dump in: `named' (--pod) when given; else the
 * Ready hub pod; else, when none is Ready, the one whose hub container runs
 * (a sick hub is a main reason to wipe), with a warning; else, when the hub
 * container crashed (a crash loop) or there is no hub pod, a temporary pod
 * made from the hub's template (hubpod.h), which nub_close deletes.  In a dry run (n->dry_run)
 * that last case makes nothing: 0 with *pod NULL and n->temp_pod_planned.
 * hub_find_pod never returns the temporary pod.
 */
int hub_find_pod_to_exec(struct nub *n, const char *named, char **pod, struct err *e);

/*
 * After `rollout restart': wait for the rollout (which counts available
 * replicas), then for the one Ready hub pod to be another than old_pod
 * (NULL: any), all within timeout_ms (caller frees *pod).  `doing' names
 * the wait in errors ("waiting for the restarted hub"); Ctrl-C exits 130.
 */
int hub_wait_replaced(struct nub *n, const char *old_pod, long timeout_ms, bool tty,
    const char *doing, char **pod, struct err *e);

/*
 * Why no hub container can run among a pod list's items: the hub container
 * crashed ("CrashLoopBackOff", or how it ended: "Error", "OOMKilled") or
 * there is no hub pod ("no hub pod").  NULL when one runs, or when one is on
 * its way (Pending, ContainerCreating, ImagePullBackOff, being replaced: a pod
 * from the same template would wait for the same thing).  Exposed for tests.
 */
const char *hub_not_running_reason(json_object *items);

/* What hub_find_pod decides from a pod list's items (exposed for tests). */
int hub_pick_pod(json_object *items, const char *ns, char **pod, struct err *e);
/* The same; with sick_ok, a running but not Ready hub when none is Ready (*unready set). */
int hub_pick_pod_sick(json_object *items, const char *ns, bool sick_ok, char **pod,
    bool *unready, struct err *e);

/* The plan's line naming the pod psql runs in: the hub's, or a temporary one (made or planned). */
void hub_plan_pod(const struct nub *n, const char *pod, struct buf *out);

#endif
