/* rollout.h: `kubectl rollout restart' and `rollout status' for a Deployment */
#ifndef NUB_ROLLOUT_H
#define NUB_ROLLOUT_H

#include <stdbool.h>

#include "nub.h"

#define HUB_DEPLOYMENT "hub"

/*
 * Set spec.template.metadata.annotations["kubectl.kubernetes.io/restartedAt"]
 * as kubectl and Argo CD do (strategic merge patch, fieldManager
 * kubectl-rollout).  Refuses a paused Deployment (e->exit 3).  `stamp' gets
 * the RFC 3339 time written (at least 32 bytes).
 */
int rollout_restart(struct nub *n, const char *name, bool dry_run, char *stamp,
    struct err *e);

/*
 * kubectl's rollout status rules: observedGeneration caught up, all
 * replicas updated, no old ones left, all updated ones available; the
 * Progressing condition's ProgressDeadlineExceeded is a failure.  Pure, for
 * tests: 1 done, 0 not yet (msg says why), -1 failed (msg says why).
 */
int rollout_state(json_object *deploy, char *msg, size_t msglen);

int rollout_wait(struct nub *n, const char *name, long timeout_ms, bool tty,
    struct err *e);

#endif
