/* argocd.c: sync the nublado Application through the Kubernetes API alone */
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "../kube/url.h"
#include "../kube/wait.h"
#include "../util/exitcode.h"
#include "../util/jsonout.h"
#include "../util/log.h"
#include "../util/progress.h"
#include "../util/sig.h"
#include "../util/xalloc.h"
#include "argocd.h"

#define SYNC_USER "kubectl-nublado"

static char *
app_path(void)
{
	char *coll = kube_path(ARGOCD_APPS, ARGOCD_NAMESPACE);
	char *p = xasprintf("%s/%s", coll, ARGOCD_APP);

	free(coll);
	return p;
}

int
argocd_get(struct nub *n, json_object **app, struct err *e)
{
	char *path = app_path();
	int rc = kube_get(n->kube, path, NULL, app, e);

	free(path);
	if (rc < 0)
		err_prefix(e, "reading Argo CD Application %s/%s", ARGOCD_NAMESPACE, ARGOCD_APP);
	return rc;
}

bool
argocd_self_heal(json_object *app)
{
	json_object *v = jpath(app, "spec", "syncPolicy", "automated", "selfHeal", NULL);

	return v != NULL && json_object_get_boolean(v);
}

const char *
argocd_running(json_object *app)
{
	const char *phase = jstr(app, "status", "operationState", "phase", NULL);

	if (jpath(app, "operation", NULL) != NULL)
		return phase != NULL && strcmp(phase, "Running") == 0 ? phase : "Pending";
	if (phase != NULL && (strcmp(phase, "Running") == 0 ||
	    strcmp(phase, "Terminating") == 0))
		return phase;
	return NULL;
}

#define SYNC_TRIES 5

/* Has a sync that we initiated started since `since' (and perhaps finished)? */
static bool
started_by_us(json_object *app, time_t since)
{
	const char *who = jstr(app, "status", "operationState", "operation", "initiatedBy",
	    "username", NULL);
	const char *at = jstr(app, "status", "operationState", "startedAt", NULL);
	struct tm tm;

	if (who == NULL || strcmp(who, SYNC_USER) != 0 || at == NULL)
		return false;
	memset(&tm, 0, sizeof tm);
	if (strptime(at, "%Y-%m-%dT%H:%M:%SZ", &tm) == NULL)
		return false;
	/* The server's clock and ours: a second of slack. */
	return timegm(&tm) >= since - 1;
}

/* The merge patch that starts a sync (caller frees). */
static char *
sync_patch(const struct argocd_res *only, size_t nonly)
{
	json_object *p = json_object_new_object(), *op = json_object_new_object();
	json_object *who = json_object_new_object(), *sync = json_object_new_object();
	json_object *strategy = json_object_new_object();
	char *text;

	json_object_object_add(who, "username", json_object_new_string(SYNC_USER));
	json_object_object_add(op, "initiatedBy", who);
	json_object_object_add(strategy, "hook", json_object_new_object());
	json_object_object_add(sync, "syncStrategy", strategy);
	if (nonly > 0) {
		json_object *list = json_object_new_array();

		for (size_t i = 0; i < nonly; i++) {
			json_object *r = json_object_new_object();

			json_object_object_add(r, "group", json_object_new_string(only[i].group));
			json_object_object_add(r, "kind", json_object_new_string(only[i].kind));
			json_object_object_add(r, "name", json_object_new_string(only[i].name));
			json_object_object_add(r, "namespace",
			    json_object_new_string(only[i].namespace));
			json_object_array_add(list, r);
		}
		json_object_object_add(sync, "resources", list);
	}
	json_object_object_add(op, "sync", sync);
	json_object_object_add(p, "operation", op);
	text = xstrdup(json_object_to_json_string_ext(p, JSON_C_TO_STRING_PLAIN));
	json_object_put(p);
	return text;
}

static bool
res_is(json_object *r, const struct argocd_res *want)
{
	const char *g = jstr(r, "group", NULL);

	return strcmp(g ? g : "", want->group) == 0 &&
	    strcmp(jstr(r, "kind", NULL) ? jstr(r, "kind", NULL) : "", want->kind) == 0 &&
	    strcmp(jstr(r, "namespace", NULL) ? jstr(r, "namespace", NULL) : "",
	    want->namespace) == 0 &&
	    strcmp(jstr(r, "name", NULL) ? jstr(r, "name", NULL) : "", want->name) == 0;
}

bool
argocd_manages(json_object *app, const struct argocd_res *r)
{
	json_object *list = jpath(app, "status", "resources", NULL);

	for (size_t i = 0; list != NULL && i < json_object_array_length(list); i++)
		if (res_is(json_object_array_get_idx(list, i), r))
			return true;
	return false;
}

char **
argocd_out_of_sync(json_object *app, const struct argocd_res *except, size_t nexcept)
{
	json_object *list = jpath(app, "status", "resources", NULL);
	char **out = NULL;

	for (size_t i = 0; list != NULL && i < json_object_array_length(list); i++) {
		json_object *r = json_object_array_get_idx(list, i);
		const char *st = jstr(r, "status", NULL);
		bool skip = st == NULL || strcmp(st, "OutOfSync") != 0;
		char *what;

		for (size_t k = 0; !skip && k < nexcept; k++)
			skip = res_is(r, &except[k]);
		if (skip)
			continue;
		what = xasprintf("%s %s/%s", jstr(r, "kind", NULL) ? jstr(r, "kind", NULL) : "?",
		    jstr(r, "namespace", NULL) ? jstr(r, "namespace", NULL) : "",
		    jstr(r, "name", NULL) ? jstr(r, "name", NULL) : "?");
		out = strv_push(out, what);
		free(what);
	}
	return out;
}

int
argocd_sync(struct nub *n, const struct argocd_res *only, size_t nonly, bool dry_run,
    struct err *e)
{
	char *patch = sync_patch(only, nonly);
	json_object *app = NULL;
	const char *running;
	char *path;
	struct kube_resp resp;
	int rc;

	if (argocd_get(n, &app, e) < 0) {
		free(patch);
		return -1;
	}
	if ((running = argocd_running(app)) != NULL) {
		err_set(e, "another Argo CD operation is in progress on %s/%s (%s)",
		    ARGOCD_NAMESPACE, ARGOCD_APP, running);
		err_hint(e, "wait for it to finish (or terminate it in Argo CD), then run unblock again");
		e->exit = EXIT_REFUSED;
		json_object_put(app);
		free(patch);
		return -1;
	}
	json_object_put(app);
	path = app_path();
	/*
	 * Not idempotent: a retried PATCH after a lost answer would start a
	 * second sync, or be refused as one in progress.  So the client does
	 * not retry it; after a 5xx or a broken connection we look whether it
	 * took (a sync running, or one we started), and only if not send it
	 * again.
	 */
	struct kube_req r = { .method = "PATCH", .path = path,
	    .content_type = "application/merge-patch+json", .body = patch,
	    .body_len = strlen(patch), .dry_run = dry_run, .idempotent = false };
	time_t sent = time(NULL);

	for (int attempt = 1;; attempt++) {
		struct err ge;

		rc = kube_do(n->kube, &r, &resp, e);
		kube_resp_free(&resp);
		if (rc == 0 || dry_run || attempt >= SYNC_TRIES || e->exit == EXIT_INTERRUPTED ||
		    (e->http != 0 && e->http < 500))
			break;
		if (!sleep_ms(500L * attempt))
			break;
		err_clear(&ge);
		if (argocd_get(n, &app, &ge) < 0)
			break;
		if (argocd_running(app) != NULL || started_by_us(app, sent)) {
			json_object_put(app);
			err_clear(e);
			rc = 0;
			break;
		}
		json_object_put(app);
		log_debug(LOG_STEPS, "the Argo CD sync did not start (%s); sending it again", e->msg);
	}
	free(path);
	free(patch);
	if (rc < 0)
		return err_prefix(e, "starting the Argo CD sync");
	return 0;
}

struct sync_wait {
	struct progress *p;
};

static int
sync_done(json_object *app, void *arg, struct err *e)
{
	struct sync_wait *w = arg;
	const char *phase, *msg;

	if (app == NULL)
		return err_set(e, "Argo CD Application %s/%s disappeared", ARGOCD_NAMESPACE,
		    ARGOCD_APP);
	phase = jstr(app, "status", "operationState", "phase", NULL);
	msg = jstr(app, "status", "operationState", "message", NULL);
	progress_set(w->p, 0, phase);
	/* Our operation is over once Argo CD has cleared .operation. */
	if (jpath(app, "operation", NULL) != NULL || phase == NULL ||
	    strcmp(phase, "Running") == 0 || strcmp(phase, "Terminating") == 0)
		return 0;
	if (strcmp(phase, "Succeeded") == 0)
		return 1;
	err_set(e, "Argo CD sync of %s/%s ended %s: %s", ARGOCD_NAMESPACE, ARGOCD_APP,
	    phase, msg ? msg : "(no message)");
	err_hint(e, "look at the Application in Argo CD; `kubectl nublado unblock --from-backup` "
	    "recreates the saved ingresses without Argo CD");
	return -1;
}

int
argocd_wait(struct nub *n, long timeout_ms, bool tty, struct err *e)
{
	struct sync_wait w = { progress_start("waiting for the Argo CD sync", 0, "", tty) };
	char *coll = kube_path(ARGOCD_APPS, ARGOCD_NAMESPACE);
	int rc = kube_wait_object(n->kube, coll, ARGOCD_APP, timeout_ms, sync_done, &w, e);

	free(coll);
	progress_end(w.p, NULL);
	if (rc == 1) {
		err_set(e, "the Argo CD sync of %s/%s did not finish in time", ARGOCD_NAMESPACE,
		    ARGOCD_APP);
		err_hint(e, "run `kubectl nublado status` to see where it is; raise --timeout");
		return -1;
	}
	return rc;
}
