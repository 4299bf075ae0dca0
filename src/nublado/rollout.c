/* rollout.c: restart a Deployment and follow it until the new pods are available */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "../kube/url.h"
#include "../kube/wait.h"
#include "../util/exitcode.h"
#include "../util/jsonout.h"
#include "../util/progress.h"
#include "../util/xalloc.h"
#include "rollout.h"

#define DEPLOYMENTS "/apis/apps/v1/namespaces/%s/deployments"

int
rollout_restart(struct nub *n, const char *name, bool dry_run, char *stamp,
    struct err *e)
{
	char *coll = kube_path(DEPLOYMENTS, n->ns), *path, *patch;
	json_object *d = NULL;
	struct kube_resp resp;
	time_t t = time(NULL);
	struct tm tm;
	int rc;

	path = xasprintf("%s/%s", coll, name);
	free(coll);
	if (kube_get(n->kube, path, NULL, &d, e) < 0) {
		free(path);
		return err_prefix(e, "reading Deployment %s/%s", n->ns, name);
	}
	if (jpath(d, "spec", "paused", NULL) != NULL &&
	    json_object_get_boolean(jpath(d, "spec", "paused", NULL))) {
		json_object_put(d);
		free(path);
		e->exit = EXIT_REFUSED;
		err_set(e, "Deployment %s/%s is paused: a restart would not roll out", n->ns, name);
		err_hint(e, "resume it first (kubectl rollout resume deployment/%s -n %s)", name, n->ns);
		return -1;
	}
	for (;;) {
		const char *cur = jstr(d, "spec", "template", "metadata", "annotations",
		    "kubectl.kubernetes.io/restartedAt", NULL);

		gmtime_r(&t, &tm);
		strftime(stamp, 32, "%Y-%m-%dT%H:%M:%SZ", &tm);
		/*
		 * A restart in the same second as the last would change nothing,
		 * and nothing would roll out: the next second does.
		 */
		if (cur == NULL || strcmp(cur, stamp) != 0)
			break;
		t++;
	}
	json_object_put(d);
	patch = xasprintf("{\"spec\":{\"template\":{\"metadata\":{\"annotations\":"
	    "{\"kubectl.kubernetes.io/restartedAt\":\"%s\"}}}}}", stamp);
	struct kube_req r = { .method = "PATCH", .path = path,
	    .query = "fieldManager=kubectl-rollout",
	    .content_type = "application/strategic-merge-patch+json", .body = patch,
	    .body_len = strlen(patch), .dry_run = dry_run, .idempotent = true };
	rc = kube_do(n->kube, &r, &resp, e);
	kube_resp_free(&resp);
	free(patch);
	free(path);
	if (rc < 0)
		return err_prefix(e, "restarting Deployment %s/%s", n->ns, name);
	return 0;
}

int
rollout_state(json_object *d, char *msg, size_t msglen)
{
	long long gen = jint(d, 0, "metadata", "generation", NULL);
	long long obs = jint(d, 0, "status", "observedGeneration", NULL);
	long long want = jint(d, 1, "spec", "replicas", NULL);
	long long replicas = jint(d, 0, "status", "replicas", NULL);
	long long updated = jint(d, 0, "status", "updatedReplicas", NULL);
	long long available = jint(d, 0, "status", "availableReplicas", NULL);
	json_object *conds = jpath(d, "status", "conditions", NULL);

	if (obs < gen) {
		snprintf(msg, msglen, "waiting for the deployment spec update to be observed");
		return 0;
	}
	for (size_t i = 0; conds != NULL && i < json_object_array_length(conds); i++) {
		json_object *c = json_object_array_get_idx(conds, i);
		const char *type = jstr(c, "type", NULL), *reason = jstr(c, "reason", NULL);

		if (type && reason && strcmp(type, "Progressing") == 0 &&
		    strcmp(reason, "ProgressDeadlineExceeded") == 0) {
			snprintf(msg, msglen, "rollout exceeded its progress deadline: %s",
			    jstr(c, "message", NULL) ? jstr(c, "message", NULL) : "");
			return -1;
		}
	}
	if (updated < want) {
		snprintf(msg, msglen, "%lld of %lld new replicas updated", updated, want);
		return 0;
	}
	if (replicas > updated) {
		snprintf(msg, msglen, "%lld old replicas pending termination", replicas - updated);
		return 0;
	}
	if (available < updated) {
		snprintf(msg, msglen, "%lld of %lld updated replicas available", available, updated);
		return 0;
	}
	snprintf(msg, msglen, "successfully rolled out");
	return 1;
}

struct rwait {
	struct progress *p;
	char msg[256];
};

static int
rollout_cond(json_object *d, void *arg, struct err *e)
{
	struct rwait *w = arg;
	int st;

	if (d == NULL)
		return err_set(e, "the Deployment was deleted while we waited");
	st = rollout_state(d, w->msg, sizeof w->msg);
	progress_set(w->p, 0, w->msg);
	if (st < 0)
		return err_set(e, "%s", w->msg);
	return st;
}

int
rollout_wait(struct nub *n, const char *name, long timeout_ms, bool tty, struct err *e)
{
	struct rwait w;
	char *coll = kube_path(DEPLOYMENTS, n->ns);
	char label[128];
	int rc;

	memset(&w, 0, sizeof w);
	snprintf(label, sizeof label, "waiting for deployment/%s", name);
	w.p = progress_start(label, 0, "", tty);
	rc = kube_wait_object(n->kube, coll, name, timeout_ms, rollout_cond, &w, e);
	free(coll);
	progress_end(w.p, NULL);
	if (rc == 1) {
		err_set(e, "deployment/%s did not finish rolling out in time (%s)", name, w.msg);
		err_hint(e, "check the new pod: kubectl -n %s describe pod -l app=jupyterhub,component=hub; "
		    "raise --timeout to wait longer", n->ns);
		return -1;
	}
	if (rc < 0)
		return err_prefix(e, "deployment/%s", name);
	return 0;
}
