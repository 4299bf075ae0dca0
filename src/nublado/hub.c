/* hub.c: finding the JupyterHub pod by its labels */
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "../kube/client.h"
#include "../kube/url.h"
#include "../util/buf.h"
#include "../util/log.h"
#include "../util/sig.h"
#include "../util/jsonout.h"
#include "../util/xalloc.h"
#include "hub.h"
#include "hubpod.h"
#include "rollout.h"

/* status.conditions[type=Ready].status == "True" */
static bool
pod_ready(json_object *pod)
{
	json_object *conds = jpath(pod, "status", "conditions", NULL);

	if (conds == NULL || !json_object_is_type(conds, json_type_array))
		return false;
	for (size_t i = 0; i < json_object_array_length(conds); i++) {
		json_object *c = json_object_array_get_idx(conds, i);
		const char *type = jstr(c, "type", NULL), *status = jstr(c, "status", NULL);

		if (type != NULL && strcmp(type, "Ready") == 0)
			return status != NULL && strcmp(status, "True") == 0;
	}
	return false;
}

/* containerStatuses[name=hub].state.running: the hub process is up, Ready or not. */
static bool
hub_running(json_object *pod)
{
	json_object *cs = jpath(pod, "status", "containerStatuses", NULL);

	if (cs == NULL || !json_object_is_type(cs, json_type_array))
		return false;
	for (size_t i = 0; i < json_object_array_length(cs); i++) {
		json_object *c = json_object_array_get_idx(cs, i);
		const char *name = jstr(c, "name", NULL);

		if (name != NULL && strcmp(name, HUB_CONTAINER) == 0)
			return jpath(c, "state", "running", NULL) != NULL;
	}
	return false;
}

int
hub_pick_pod(json_object *items, const char *ns, char **pod, struct err *e)
{
	return hub_pick_pod_sick(items, ns, false, pod, NULL, e);
}

int
hub_pick_pod_sick(json_object *items, const char *ns, bool sick_ok, char **pod,
    bool *unready, struct err *e)
{
	struct buf seen = BUF_INIT, ready = BUF_INIT;
	const char *chosen = NULL;
	size_t n = items != NULL && json_object_is_type(items, json_type_array) ?
	    json_object_array_length(items) : 0;
	int nready = 0, nseen = 0;

	*pod = NULL;
	for (size_t i = 0; i < n; i++) {
		json_object *p = json_object_array_get_idx(items, i);
		const char *name = jstr(p, "metadata", "name", NULL);
		const char *phase = jstr(p, "status", "phase", NULL);
		bool terminating = jpath(p, "metadata", "deletionTimestamp", NULL) != NULL;
		bool is_ready = pod_ready(p);

		/* Our own psql pod carries the hub's labels for the database's sake. */
		if (name == NULL || hubpod_is_temporary(p))
			continue;
		nseen++;
		buf_printf(&seen, "%s%s (%s, %s%s)", seen.len ? ", " : "", name,
		    phase ? phase : "no phase", is_ready ? "ready" : "not ready",
		    terminating ? ", terminating" : "");
		if (is_ready && !terminating) {
			buf_printf(&ready, "%s%s", ready.len ? ", " : "", name);
			if (nready++ == 0)
				chosen = name;
		}
	}
	if (unready != NULL)
		*unready = false;
	if (nready == 0 && sick_ok) {
		/* A sick hub (running, not Ready) is a main reason to wipe: use it. */
		const char *running = NULL;
		int nrunning = 0;

		for (size_t i = 0; i < n; i++) {
			json_object *p = json_object_array_get_idx(items, i);

			if (jpath(p, "metadata", "deletionTimestamp", NULL) == NULL && hub_running(p) &&
			    !hubpod_is_temporary(p) && nrunning++ == 0)
				running = jstr(p, "metadata", "name", NULL);
		}
		if (nrunning == 1 && running != NULL) {
			chosen = running;
			nready = 1;
			if (unready != NULL)
				*unready = true;
		}
	}
	if (nready == 1) {
		*pod = xstrdup(chosen);
	} else if (nseen == 0) {
		err_set(e, "no hub pod in namespace \"%s\" (no pod has the labels %s)", ns,
		    HUB_LABEL_SELECTOR);
		err_hint(e, "check the Nublado namespace (-n) and that the hub is deployed: "
		    "kubectl get deployment hub -n %s", ns);
	} else if (nready == 0) {
		err_set(e, "no ready hub pod in namespace \"%s\": found %s", ns, seen.data);
		err_hint(e, "wait for the hub to become ready (kubectl get pods -n %s -l %s), "
		    "or name a pod with --pod", ns, HUB_LABEL_SELECTOR);
	} else {
		err_set(e, "%d ready hub pods in namespace \"%s\" where one was expected: %s", nready,
		    ns, ready.data);
		err_hint(e, "name the one to use with --pod");
	}
	buf_free(&seen);
	buf_free(&ready);
	return *pod != NULL ? 0 : -1;
}

struct gather {
	json_object *items;
};

static int
gather_pod(json_object *item, void *arg, struct err *e)
{
	struct gather *g = arg;

	json_object_array_add(g->items, json_object_get(item));
	return 0;
}

static void
gather_reset(void *arg)
{
	struct gather *g = arg;

	json_object_put(g->items);
	g->items = json_object_new_array();
}

/* The pods with the hub's labels (caller puts *items). */
static int
list_hub_pods(struct nub *n, json_object **items, struct err *e)
{
	struct gather g = { json_object_new_array() };
	struct buf q = BUF_INIT;
	char *path = kube_path("/api/v1/namespaces/%s/pods", n->ns);
	int rc;

	kube_query_add(&q, "labelSelector", HUB_LABEL_SELECTOR);
	rc = kube_list(n->kube, path, q.data, 500, gather_pod, gather_reset, &g, NULL, e);
	if (rc < 0) {
		err_prefix(e, "cannot list the hub pods in namespace \"%s\"", n->ns);
		json_object_put(g.items);
		g.items = NULL;
	}
	*items = g.items;
	buf_free(&q);
	free(path);
	return rc;
}

static int
find(struct nub *n, bool sick_ok, char **pod, bool *unready, struct err *e)
{
	json_object *items;
	int rc;

	*pod = NULL;
	if (list_hub_pods(n, &items, e) < 0)
		return -1;
	rc = hub_pick_pod_sick(items, n->ns, sick_ok, pod, unready, e);
	json_object_put(items);
	return rc;
}

int
hub_find_pod(struct nub *n, char **pod, struct err *e)
{
	return find(n, false, pod, NULL, e);
}

/* The hub container's crash, as its status says it: CrashLoopBackOff, or how it ended. */
static const char *
hub_crash(json_object *pod)
{
	json_object *cs = jpath(pod, "status", "containerStatuses", NULL);

	for (size_t i = 0; cs != NULL && json_object_is_type(cs, json_type_array) &&
	    i < json_object_array_length(cs); i++) {
		json_object *c = json_object_array_get_idx(cs, i);
		const char *name = jstr(c, "name", NULL);
		const char *w = jstr(c, "state", "waiting", "reason", NULL);
		json_object *t = jpath(c, "state", "terminated", NULL);

		if (name == NULL || strcmp(name, HUB_CONTAINER) != 0)
			continue;
		if (w != NULL && (strcmp(w, "CrashLoopBackOff") == 0 ||
		    strcmp(w, "RunContainerError") == 0))
			return w;
		if (t != NULL)
			return jstr(t, "reason", NULL) ? jstr(t, "reason", NULL) : "Terminated";
	}
	return NULL;
}

const char *
hub_not_running_reason(json_object *items)
{
	size_t n = items != NULL && json_object_is_type(items, json_type_array) ?
	    json_object_array_length(items) : 0, nhub = 0;
	const char *crash = NULL;
	bool starting = false;

	for (size_t i = 0; i < n; i++) {
		json_object *p = json_object_array_get_idx(items, i);
		const char *c;

		if (hubpod_is_temporary(p))
			continue;
		nhub++;
		if (jpath(p, "metadata", "deletionTimestamp", NULL) != NULL) {
			starting = true;	/* being replaced: its successor is coming */
			continue;
		}
		if (pod_ready(p) || hub_running(p))
			return NULL;
		if ((c = hub_crash(p)) != NULL) {
			if (crash == NULL)
				crash = c;
		} else {
			/*
			 * Pending, ContainerCreating, ImagePullBackOff: a pod from the
			 * same template would wait for the same thing.
			 */
			starting = true;
		}
	}
	if (nhub == 0)
		return "no hub pod";
	return starting ? NULL : crash;
}

int
hub_find_pod_to_exec(struct nub *n, const char *named, char **pod, struct err *e)
{
	json_object *items;
	bool unready = false;
	const char *why;
	int rc;

	*pod = NULL;
	if (named != NULL) {
		*pod = xstrdup(named);
		return 0;
	}
	if (list_hub_pods(n, &items, e) < 0)
		return -1;
	rc = hub_pick_pod_sick(items, n->ns, true, pod, &unready, e);
	if (rc < 0 && (why = hub_not_running_reason(items)) != NULL) {
		/* No hub container runs anywhere (a crash loop): a pod of our own. */
		struct err none = *e;

		err_clear(e);
		rc = hubpod_get(n, why, pod, e);
		if (rc < 0 && e->http == 404)
			*e = none;	/* no Deployment hub either: say what was looked for */
	} else if (rc == 0 && unready) {
		log_warn("hub pod %s is running but not Ready: using it (a sick hub is a reason "
		    "to wipe; --pod names another)", *pod);
	}
	json_object_put(items);
	return rc;
}

int
hub_wait_replaced(struct nub *n, const char *old_pod, long timeout_ms, bool tty,
    const char *doing, char **pod, struct err *e)
{
	long long deadline = now_ms() + timeout_ms;

	*pod = NULL;
	if (rollout_wait(n, HUB_DEPLOYMENT, timeout_ms, tty, e) < 0)
		return -1;
	for (;;) {
		struct err pe;

		err_clear(&pe);
		if (hub_find_pod(n, pod, &pe) == 0 &&
		    (old_pod == NULL || strcmp(*pod, old_pod) != 0))
			return 0;
		free(*pod);
		*pod = NULL;
		/* Refused credentials do not come back by waiting. */
		if (now_ms() >= deadline || pe.http == 401 || pe.http == 403) {
			*e = pe;
			if (e->msg[0] == '\0')
				err_set(e, "no new hub pod is Ready");
			return err_prefix(e, "%s", doing);
		}
		if (!sleep_ms(500))
			return err_interrupted(e, "interrupted while %s", doing);
	}
}

void
hub_plan_pod(const struct nub *n, const char *pod, struct buf *out)
{
	if (n->temp_pod != NULL && pod != NULL && strcmp(pod, n->temp_pod) == 0)
		buf_printf(out, "  psql runs in temporary pod %s (made from deployment/%s's "
		    "template: the hub container is not running; deleted afterwards)\n", pod,
		    HUB_DEPLOYMENT);
	else if (pod == NULL && n->temp_pod_planned)
		buf_printf(out, "  no hub container runs: a real run makes a temporary pod from "
		    "deployment/%s's template for psql (the server accepted its dry run); the "
		    "database is not checked without it\n", HUB_DEPLOYMENT);
	else
		buf_printf(out, "  hub pod %s\n", pod ? pod : "(none Ready)");
}
