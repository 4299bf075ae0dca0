/* argocd.h: the nublado Argo CD Application: self-heal check, sync, wait */
#ifndef NUB_ARGOCD_H
#define NUB_ARGOCD_H

#include <stdbool.h>

#include <json-c/json.h>

#include "nub.h"

#define ARGOCD_NAMESPACE "argocd"
#define ARGOCD_APP "nublado"
#define ARGOCD_APPS "/apis/argoproj.io/v1alpha1/namespaces/%s/applications"

int argocd_get(struct nub *n, json_object **app, struct err *e);
/* spec.syncPolicy.automated.selfHeal: Argo CD would undo a block by itself. */
bool argocd_self_heal(json_object *app);
/* The phase of a running operation ("Running"), or NULL when none runs. */
const char *argocd_running(json_object *app);
/* One resource of the Application, as operation.sync.resources names it. */
struct argocd_res {
	const char *group, *kind, *namespace, *name;
};

/*
 * Start a sync by merge-patching .operation, as Argo CD's own API does:
 * limited to `only' (n of them) when n > 0, else the whole Application.
 * Refuses (e->exit 3) while another operation runs.
 */
int argocd_sync(struct nub *n, const struct argocd_res *only, size_t nonly, bool dry_run,
    struct err *e);
/* Whether the Application lists the resource among status.resources. */
bool argocd_manages(json_object *app, const struct argocd_res *r);
/*
 * status.resources that Argo CD reports OutOfSync, as "Kind namespace/name"
 * (strv, NULL-terminated), except those in `except'.  What a whole sync
 * would deploy now, besides the ingresses.
 */
char **argocd_out_of_sync(json_object *app, const struct argocd_res *except, size_t nexcept);
/* Wait until the operation is over: Succeeded is 0, Failed/Error a clear error. */
int argocd_wait(struct nub *n, long timeout_ms, bool tty, struct err *e);

#endif
