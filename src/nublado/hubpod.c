/* hubpod.c: a temporary pod from the hub's template, to exec psql in */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../kube/client.h"
#include "../kube/url.h"
#include "../kube/wait.h"
#include "../util/jsonout.h"
#include "../util/log.h"
#include "../util/progress.h"
#include "../util/sig.h"
#include "../util/xalloc.h"
#include "hub.h"
#include "hubpod.h"

#define PODS "/api/v1/namespaces/%s/pods"

/* Fields of the hub container that serve JupyterHub itself, not a shell. */
static const char *const hub_only[] = {
	"args", "livenessProbe", "readinessProbe", "startupProbe", "ports", "lifecycle",
};

static json_object *
jstring(const char *s)
{
	return json_object_new_string(s);
}

/*
 * The command that waits: sh as PID 1 leaves on TERM at once (a plain sleep
 * would sit out the grace period), and stops by itself after the lifetime.
 */
static json_object *
wait_command(void)
{
	json_object *cmd = json_object_new_array();
	char *script = xasprintf("trap 'exit 0' TERM; sleep %d & wait", HUBPOD_LIFETIME_S);

	json_object_array_add(cmd, jstring("/bin/sh"));
	json_object_array_add(cmd, jstring("-c"));
	json_object_array_add(cmd, jstring(script));
	free(script);
	return cmd;
}

static json_object *
labels_for(json_object *tmpl_labels)
{
	json_object *l = json_object_new_object();
	const char *app = jstr(tmpl_labels, "app", NULL);
	const char *component = jstr(tmpl_labels, "component", NULL);

	/* What the database's NetworkPolicy admits; no `release': no Service selects it. */
	json_object_object_add(l, "app", jstring(app ? app : "jupyterhub"));
	json_object_object_add(l, "component", jstring(component ? component : "hub"));
	json_object_object_add(l, HUBPOD_LABEL, jstring(HUBPOD_MANAGED_BY));
	return l;
}

json_object *
hubpod_manifest(json_object *deploy, const char *ns, const char *why, struct err *e)
{
	json_object *tmpl = jpath(deploy, "spec", "template", NULL);
	json_object *tspec = jpath(tmpl, "spec", NULL), *spec = NULL, *containers;
	json_object *pod, *md, *ann;
	json_object *hub = NULL;
	char *desc;

	if (tspec == NULL || json_object_deep_copy(tspec, &spec, NULL) != 0 || spec == NULL) {
		err_set(e, "deployment/%s has no pod template", HUBPOD_DEPLOYMENT);
		return NULL;
	}
	containers = jpath(spec, "containers", NULL);
	for (size_t i = 0; containers != NULL && json_object_is_type(containers, json_type_array) &&
	    i < json_object_array_length(containers); i++) {
		json_object *c = json_object_array_get_idx(containers, i);
		const char *name = jstr(c, "name", NULL);

		if (name != NULL && strcmp(name, HUB_CONTAINER) == 0)
			hub = c;
	}
	if (hub == NULL) {
		json_object_put(spec);
		err_set(e, "deployment/%s has no container named \"%s\" to copy", HUBPOD_DEPLOYMENT,
		    HUB_CONTAINER);
		err_hint(e, "name a pod to run psql in with --pod");
		return NULL;
	}
	/* The same image, mounts, env and security context; a shell that waits. */
	for (size_t i = 0; i < sizeof hub_only / sizeof *hub_only; i++)
		json_object_object_del(hub, hub_only[i]);
	json_object_object_add(hub, "command", wait_command());
	/* Never restarted, gone after the lifetime even if the sleep were not. */
	json_object_object_add(spec, "restartPolicy", jstring("Never"));
	json_object_object_add(spec, "activeDeadlineSeconds",
	    json_object_new_int(HUBPOD_LIFETIME_S + 300));
	json_object_object_add(spec, "terminationGracePeriodSeconds", json_object_new_int(5));

	md = json_object_new_object();
	json_object_object_add(md, "generateName", jstring(HUBPOD_PREFIX));
	json_object_object_add(md, "namespace", jstring(ns));
	json_object_object_add(md, "labels", labels_for(jpath(tmpl, "metadata", "labels", NULL)));
	ann = json_object_new_object();
	desc = xasprintf("temporary pod made by kubectl-nublado to run psql and pg_dump against "
	    "the JupyterHub database while the hub container is not running%s%s%s; it is "
	    "deleted when the command ends and stops by itself after %d s",
	    why ? " (" : "", why ? why : "", why ? ")" : "", HUBPOD_LIFETIME_S);
	json_object_object_add(ann, "kubernetes.io/description", jstring(desc));
	free(desc);
	json_object_object_add(ann, "kubectl.kubernetes.io/default-container",
	    jstring(HUB_CONTAINER));
	json_object_object_add(md, "annotations", ann);

	pod = json_object_new_object();
	json_object_object_add(pod, "apiVersion", jstring("v1"));
	json_object_object_add(pod, "kind", jstring("Pod"));
	json_object_object_add(pod, "metadata", md);
	json_object_object_add(pod, "spec", spec);
	return pod;
}

bool
hubpod_is_temporary(json_object *pod)
{
	const char *v = jstr(pod, "metadata", "labels", HUBPOD_LABEL, NULL);

	return v != NULL && strcmp(v, HUBPOD_MANAGED_BY) == 0;
}

/* ---- waiting for the container to run ---- */

struct start {
	struct progress *p;
	char note[256];
};

/*
 * Waiting reasons that do not pass by themselves: stop at once, with the
 * reason.  A first ErrImagePull may (a registry's rate limit); its
 * ImagePullBackOff has failed again.
 */
static bool
hopeless(const char *reason)
{
	static const char *const r[] = {
		"ImagePullBackOff", "InvalidImageName", "CreateContainerError",
		"CreateContainerConfigError", "CrashLoopBackOff", "RunContainerError",
	};

	for (size_t i = 0; reason != NULL && i < sizeof r / sizeof *r; i++)
		if (strcmp(reason, r[i]) == 0)
			return true;
	return false;
}

static int
started(json_object *pod, void *arg, struct err *e)
{
	struct start *s = arg;
	json_object *cs = jpath(pod, "status", "containerStatuses", NULL);
	const char *phase = jstr(pod, "status", "phase", NULL);

	if (pod == NULL)
		return err_set(e, "it was deleted while starting");
	if (phase != NULL && (strcmp(phase, "Failed") == 0 || strcmp(phase, "Succeeded") == 0))
		return err_set(e, "it ended (phase %s%s%s)", phase,
		    jstr(pod, "status", "reason", NULL) ? ", " : "",
		    jstr(pod, "status", "reason", NULL) ? jstr(pod, "status", "reason", NULL) : "");
	snprintf(s->note, sizeof s->note, "%s", phase ? phase : "Pending");
	for (size_t i = 0; cs != NULL && json_object_is_type(cs, json_type_array) &&
	    i < json_object_array_length(cs); i++) {
		json_object *c = json_object_array_get_idx(cs, i);
		const char *name = jstr(c, "name", NULL);
		const char *reason = jstr(c, "state", "waiting", "reason", NULL);

		if (name == NULL || strcmp(name, HUB_CONTAINER) != 0)
			continue;
		if (jpath(c, "state", "running", NULL) != NULL)
			return 1;
		if (jpath(c, "state", "terminated", NULL) != NULL)
			return err_set(e, "its container exited (%s)",
			    jstr(c, "state", "terminated", "reason", NULL) ?
			    jstr(c, "state", "terminated", "reason", NULL) : "terminated");
		if (reason != NULL) {
			if (hopeless(reason))
				return err_set(e, "its container cannot start: %s%s%s", reason,
				    jstr(c, "state", "waiting", "message", NULL) ? ": " : "",
				    jstr(c, "state", "waiting", "message", NULL) ?
				    jstr(c, "state", "waiting", "message", NULL) : "");
			snprintf(s->note, sizeof s->note, "%s", reason);
		}
	}
	progress_set(s->p, 0, s->note);
	return 0;
}

static int
wait_running(struct nub *n, const char *name, struct err *e)
{
	struct start s;
	char *coll = kube_path(PODS, n->ns);
	char label[160];
	int rc;

	memset(&s, 0, sizeof s);
	snprintf(label, sizeof label, "starting temporary pod %s", name);
	s.p = progress_start(label, 0, "", n->opts->err_tty);
	rc = kube_wait_object(n->kube, coll, name, HUBPOD_START_MS, started, &s, e);
	free(coll);
	progress_end(s.p, NULL);
	if (rc == 1) {
		err_set(e, "temporary pod %s did not start in %ld s (%s)", name,
		    HUBPOD_START_MS / 1000, s.note[0] ? s.note : "no status");
		err_hint(e, "look at it while it exists: kubectl -n %s describe pod %s; or name "
		    "a pod to run psql in with --pod", n->ns, name);
		return -1;
	}
	if (rc < 0 && e->exit != 130) {
		err_prefix(e, "temporary pod %s", name);
		if (e->hint[0] == '\0')
			err_hint(e, "the hub image itself may be broken: kubectl -n %s describe pod "
			    "-l %s=%s", n->ns, HUBPOD_LABEL, HUBPOD_MANAGED_BY);
	}
	return rc < 0 ? -1 : 0;
}

/* ---- making and deleting it ---- */

static int
make(struct nub *n, const char *why, bool dry_run, char **name, struct err *e)
{
	char *dpath = kube_path("/apis/apps/v1/namespaces/%s/deployments/%s", n->ns,
	    HUBPOD_DEPLOYMENT);
	char *ppath = kube_path(PODS, n->ns);
	json_object *deploy = NULL, *pod = NULL, *made = NULL;
	int rc = -1;

	*name = NULL;
	if (kube_get(n->kube, dpath, NULL, &deploy, e) < 0) {
		err_prefix(e, "no hub container runs, and its pod template cannot be read");
		goto out;
	}
	if ((pod = hubpod_manifest(deploy, n->ns, why, e)) == NULL)
		goto out;
	if (kube_create(n->kube, ppath, pod, dry_run, &made, e) < 0) {
		err_prefix(e, "cannot make a temporary pod to run psql in");
		if (e->http == 403)
			err_hint(e, "this needs the right to create pods in namespace %s, or a "
			    "running hub container (--pod names another pod)", n->ns);
		goto out;
	}
	if (!dry_run) {
		const char *got = jstr(made, "metadata", "name", NULL);

		if (got == NULL) {
			err_set(e, "the server made a temporary pod but did not say its name");
			err_hint(e, "delete it by hand: kubectl -n %s delete pod -l %s=%s", n->ns,
			    HUBPOD_LABEL, HUBPOD_MANAGED_BY);
			goto out;
		}
		*name = xstrdup(got);
	}
	rc = 0;
out:
	json_object_put(made);
	json_object_put(pod);
	json_object_put(deploy);
	free(ppath);
	free(dpath);
	return rc;
}

int
hubpod_get(struct nub *n, const char *why, char **pod, struct err *e)
{
	*pod = NULL;
	if (n->temp_pod != NULL) {
		*pod = xstrdup(n->temp_pod);
		return 0;
	}
	if (n->dry_run) {
		/* Nothing is made; the server still checks that it could be. */
		if (make(n, why, true, pod, e) < 0)
			return -1;
		n->temp_pod_planned = true;
		log_warn("the hub container is not running (%s): a real run makes a temporary "
		    "pod from deployment/%s to run psql in; the checks that need psql are skipped "
		    "in a dry run", why ? why : "no hub pod", HUBPOD_DEPLOYMENT);
		return 0;
	}
	if (make(n, why, false, &n->temp_pod, e) < 0)
		return -1;
	log_warn("running psql in temporary pod %s (the hub container is not running: %s)",
	    n->temp_pod, why ? why : "no hub pod");
	if (wait_running(n, n->temp_pod, e) < 0)
		return -1;	/* n->temp_pod stays set: nub_close deletes it */
	*pod = xstrdup(n->temp_pod);
	return 0;
}

void
hubpod_delete(struct nub *n)
{
	struct kube_opts ko = { .request_timeout_ms = HUBPOD_DELETE_MS };
	struct kube *k = NULL;
	struct err e;
	char *path;
	int rc;

	if (n == NULL || n->temp_pod == NULL)
		return;
	err_clear(&e);
	path = kube_path(PODS "/%s", n->ns, n->temp_pod);
	/*
	 * Even after Ctrl-C: the delete must go out (sig_defer hides the flag
	 * from the client), on a client of its own with a short timeout (the
	 * session's may be mid-request, or have a long one).
	 */
	sig_defer(true);
	if (kube_open(n->cfg, &ko, &k, &e) == 0)
		rc = kube_delete(k, path, false, NULL, &e);
	else
		rc = kube_delete(n->kube, path, false, NULL, &e);
	sig_defer(false);
	if (rc == 0 || e.http == 404)
		fprintf(stderr, "deleted temporary pod %s\n", n->temp_pod);
	else
		log_warn("could not delete temporary pod %s: %s; delete it: kubectl -n %s delete "
		    "pod %s (it stops by itself after %d s)", n->temp_pod, e.msg, n->ns,
		    n->temp_pod, HUBPOD_LIFETIME_S);
	kube_close(k);
	free(path);
	free(n->temp_pod);
	n->temp_pod = NULL;
}
