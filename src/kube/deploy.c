/* deploy.c: restart a Deployment and follow it until the new pods are available */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "../util/exitcode.h"
#include "../util/jsonout.h"
#include "../util/xalloc.h"
#include "deploy.h"
#include "url.h"
#include "wait.h"

#define DEPLOYMENTS "/apis/apps/v1/namespaces/%s/deployments"

int
kube_deploy_restart(struct kube *k, const char *ns, const char *name, bool dry_run,
    char *stamp, struct err *e)
{
	char *coll = kube_path(DEPLOYMENTS, ns), *path, *patch;
	json_object *d = NULL;
	struct kube_resp resp;
	time_t t = time(NULL);
	struct tm tm;
	int rc;

	path = xasprintf("%s/%s", coll, name);
	free(coll);
	if (kube_get(k, path, NULL, &d, e) < 0) {
		free(path);
		return err_prefix(e, "reading Deployment %s/%s", ns, name);
	}
	if (jpath(d, "spec", "paused", NULL) != NULL &&
	    json_object_get_boolean(jpath(d, "spec", "paused", NULL))) {
		json_object_put(d);
		free(path);
		e->exit = EXIT_REFUSED;
		err_set(e, "Deployment %s/%s is paused: a restart would not roll out", ns, name);
		err_hint(e, "resume it first (kubectl rollout resume deployment/%s -n %s)", name, ns);
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
	rc = kube_do(k, &r, &resp, e);
	kube_resp_free(&resp);
	free(patch);
	free(path);
	if (rc < 0)
		return err_prefix(e, "restarting Deployment %s/%s", ns, name);
	return 0;
}

int
kube_deploy_state(json_object *d, char *msg, size_t msglen)
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

/* What deploy_cond leaves for the caller: the last state seen. */
struct dwait {
	struct progress *p;
	char msg[256];
};

static int
deploy_cond(json_object *d, void *arg, struct err *e)
{
	struct dwait *w = arg;
	int st;

	if (d == NULL)
		return err_set(e, "the Deployment was deleted while we waited");
	st = kube_deploy_state(d, w->msg, sizeof w->msg);
	progress_set(w->p, 0, w->msg);
	if (st < 0)
		return err_set(e, "%s", w->msg);
	return st;
}

int
kube_deploy_wait(struct kube *k, const char *ns, const char *name, long timeout_ms,
    struct progress *p, struct err *e)
{
	struct dwait w = { .p = p };
	char *coll = kube_path(DEPLOYMENTS, ns);
	int rc;

	rc = kube_wait_object(k, coll, name, timeout_ms, deploy_cond, &w, e);
	free(coll);
	if (rc == 1)
		err_set(e, "deployment/%s did not finish rolling out in time (%s)", name, w.msg);
	else if (rc < 0)
		err_prefix(e, "deployment/%s", name);
	return rc;
}
