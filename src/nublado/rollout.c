/* rollout.c: follow the hub's Deployment until its new pod is available */
#include <stdio.h>

#include "../util/progress.h"
#include "rollout.h"

int
rollout_wait(struct nub *n, const char *name, long timeout_ms, bool tty, struct err *e)
{
	struct progress *p;
	char label[128];
	int rc;

	snprintf(label, sizeof label, "waiting for deployment/%s", name);
	p = progress_start(label, 0, "", tty);
	rc = kube_deploy_wait(n->kube, n->ns, name, timeout_ms, p, e);
	progress_end(p, NULL);
	if (rc == 1) {
		err_hint(e, "check the new pod: kubectl -n %s describe pod -l app=jupyterhub,component=hub; "
		    "raise --timeout to wait longer", n->ns);
		return -1;
	}
	return rc < 0 ? -1 : 0;
}
