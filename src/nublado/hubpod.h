/* hubpod.h: a pod to exec psql in when no hub container runs */
#ifndef NUB_HUBPOD_H
#define NUB_HUBPOD_H

#include <stdbool.h>

#include <json-c/json.h>

#include "../util/err.h"
#include "nub.h"

/*
 * A crash-looping hub is a main reason to wipe its database, and it has no
 * running container to exec psql or pg_dump in.  The tool then makes a pod
 * of its own from Deployment hub's pod template: the same image (so the same
 * psql and pg_dump), volumes (the password file in nublado-secret), service
 * account, security context and environment, with a shell that only waits
 * instead of JupyterHub.
 *
 * Labels (tests/cluster/README.md has the upstream sources): it keeps
 * app=jupyterhub and component=hub, which Phalanx's Cloud SQL proxy
 * NetworkPolicy admits (cloudsql-networkpolicy.yaml: podSelector app,
 * component), and drops `release', which z2jh's hub Service and hub
 * NetworkPolicy select on (jupyterhub.matchLabels: component, app, release),
 * so it never becomes a hub endpoint and no ReplicaSet adopts it.  It is
 * marked HUBPOD_MANAGED_BY so the hub finders skip it.
 */
#define HUBPOD_DEPLOYMENT	"hub"
#define HUBPOD_PREFIX		"hub-psql-"	/* generateName */
#define HUBPOD_LABEL		"app.kubernetes.io/managed-by"
#define HUBPOD_MANAGED_BY	"kubectl-nublado"
/* A pod left behind (the tool killed with SIGKILL) stops by itself after this. */
#define HUBPOD_LIFETIME_S	3600
/* Scheduling and, on another node, pulling the hub image. */
#define HUBPOD_START_MS		(3 * 60 * 1000L)
/* The delete at the end, on a fresh client: short, even after Ctrl-C. */
#define HUBPOD_DELETE_MS	(15 * 1000L)

/*
 * The Pod to create from a Deployment `deploy' (GET apps/v1 deployments/hub)
 * in namespace ns; `why' (may be NULL) goes into its description.  Pure, for
 * tests.  NULL with e set when the template has no container "hub".
 */
json_object *hubpod_manifest(json_object *deploy, const char *ns, const char *why,
    struct err *e);

/* Whether a pod (JSON) is one of these temporary pods. */
bool hubpod_is_temporary(json_object *pod);

/*
 * The temporary pod to exec in (caller frees *pod): made once per session,
 * recorded in n->temp_pod at once (so nub_close deletes it whatever happens
 * after), and returned when its hub container runs.  `why' says why the hub
 * itself cannot be used ("CrashLoopBackOff").  With n->dry_run nothing is made:
 * the server checks the create (dryRun=All), n->temp_pod_planned is set and
 * *pod is NULL.  Ctrl-C while waiting: -1 with e->exit 130.
 */
int hubpod_get(struct nub *n, const char *why, char **pod, struct err *e);

/* Delete n->temp_pod, if any, on a fresh client with a short timeout; says so on stderr. */
void hubpod_delete(struct nub *n);

#endif
