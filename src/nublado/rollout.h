/* rollout.h: the hub's Deployment restarted and followed (the generic part: kube/deploy.h) */
#ifndef NUB_ROLLOUT_H
#define NUB_ROLLOUT_H

#include <stdbool.h>

#include "../kube/deploy.h"
#include "nub.h"

#define HUB_DEPLOYMENT "hub"

/*
 * kube_deploy_wait with a progress line on stderr; when the time runs out,
 * the hint names the hub's pods to look at.
 */
int rollout_wait(struct nub *n, const char *name, long timeout_ms, bool tty,
    struct err *e);

#endif
