/* deploy.h: `kubectl rollout restart' and `rollout status' for a Deployment */
#ifndef NUB_DEPLOY_H
#define NUB_DEPLOY_H

#include <stdbool.h>
#include <stddef.h>

#include <json-c/json.h>

#include "../util/progress.h"
#include "client.h"

/*
 * Set spec.template.metadata.annotations["kubectl.kubernetes.io/restartedAt"]
 * as kubectl and Argo CD do (strategic merge patch, fieldManager
 * kubectl-rollout).  Refuses a paused Deployment (e->exit EXIT_REFUSED).
 * `stamp' gets the RFC 3339 time written (at least 32 bytes).
 */
int kube_deploy_restart(struct kube *k, const char *ns, const char *name, bool dry_run,
    char *stamp, struct err *e);

/*
 * kubectl's rollout status rules: observedGeneration caught up, all
 * replicas updated, no old ones left, all updated ones available; the
 * Progressing condition's ProgressDeadlineExceeded is a failure.  Pure, for
 * tests: 1 done, 0 not yet (msg says why), -1 failed (msg says why).
 */
int kube_deploy_state(json_object *deploy, char *msg, size_t msglen);

/*
 * Follow deployment/name until it has rolled out (kube_deploy_state), its
 * state shown as the note of `p' (may be NULL).  0 done, -1 failed, 1 not
 * done in time ("deployment/NAME did not finish rolling out in time (STATE)",
 * e->reason "Timeout"): the caller knows what to look at next.
 */
int kube_deploy_wait(struct kube *k, const char *ns, const char *name, long timeout_ms,
    struct progress *p, struct err *e);

#endif
