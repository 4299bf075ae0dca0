/* step-unblock.c: the runbook's last step: Argo CD sync (or the saved manifests), users back in */
#include <stdlib.h>
#include <string.h>

#include "../util/exitcode.h"
#include "../util/jsonout.h"
#include "../util/sig.h"
#include "../util/xalloc.h"
#include "argocd.h"
#include "hub.h"
#include "steps.h"

static bool
present(const struct ingset *set, const char *name)
{
	for (size_t i = 0; i < set->n; i++)
		if (strcmp(jstr(set->items[i], "metadata", "name", NULL), name) == 0)
			return true;
	return false;
}

/*
 * What block removed, as Argo CD names resources: the saved manifests not
 * present now that the Application manages; with none saved (a block by
 * hand), the Application's GafaelfawrIngresses in the namespace that it
 * reports out of sync.  n of them into *out (names borrowed from app/saved).
 */
static size_t
blocked_resources(struct run *r, json_object *app, json_object **saved, size_t nsaved,
    const struct ingset *now, struct argocd_res **out)
{
	json_object *list = jpath(app, "status", "resources", NULL);
	struct argocd_res *v = xcalloc(nsaved + (list ? json_object_array_length(list) : 0) + 1,
	    sizeof *v);
	size_t n = 0;

	for (size_t i = 0; i < nsaved; i++) {
		const char *name = jstr(saved[i], "metadata", "name", NULL);
		struct argocd_res res = { GAF_GROUP, GAF_KIND, r->n->ns, name };

		if (name != NULL && !present(now, name) && argocd_manages(app, &res))
			v[n++] = res;
	}
	for (size_t i = 0; n == 0 && nsaved == 0 && list != NULL &&
	    i < json_object_array_length(list); i++) {
		json_object *res = json_object_array_get_idx(list, i);
		const char *st = jstr(res, "status", NULL), *kind = jstr(res, "kind", NULL);
		const char *ns = jstr(res, "namespace", NULL), *name = jstr(res, "name", NULL);

		if (st != NULL && strcmp(st, "OutOfSync") == 0 && kind != NULL &&
		    strcmp(kind, GAF_KIND) == 0 && ns != NULL && strcmp(ns, r->n->ns) == 0 &&
		    name != NULL)
			v[n++] = (struct argocd_res){ GAF_GROUP, GAF_KIND, ns, name };
	}
	*out = v;
	return n;
}

static void
saved_free(json_object **saved, size_t n)
{
	for (size_t i = 0; i < n; i++)
		json_object_put(saved[i]);
	free(saved);
}

static int
load_saved(struct run *r, json_object ***saved, size_t *n, struct err *e)
{
	char *dir = xasprintf("%s/ingresses", r->state_dir);
	int rc = ingress_saved(dir, saved, n, e);

	free(dir);
	return rc;
}

static int
unblock_inspect(struct run *r, void *st, struct err *e)
{
	struct unblock_step *s = st;
	json_object *app = NULL;
	struct argocd_res *ours = NULL;
	size_t n;

	if (load_saved(r, &s->saved, &s->nsaved, e) < 0 || ingress_find(r->n, &s->now, e) < 0)
		return -1;
	for (size_t i = 0; i < s->nsaved; i++) {
		const char *name = jstr(s->saved[i], "metadata", "name", NULL);

		if (!present(&s->now, name))
			s->missing = strv_push(s->missing, name);
	}
	if (s->from_backup) {
		if (s->nsaved == 0) {
			err_set(e, "no saved ingress manifests in %s/ingresses", r->state_dir);
			err_hint(e, "`block` saves them; without them, sync the nublado "
			    "application in Argo CD");
			return -1;
		}
		return 0;
	}
	if (argocd_get(r->n, &app, e) < 0) {
		if (e->http == 404)
			err_hint(e, "no Argo CD Application: use `unblock --from-backup`");
		return -1;
	}
	s->app = app;
	s->running = argocd_running(app) != NULL;
	n = blocked_resources(r, app, s->saved, s->nsaved, &s->now, &ours);
	s->others = argocd_out_of_sync(app, ours, n);
	free(ours);
	return 0;
}

static void
plan_sync(const struct unblock_step *s, struct buf *out)
{
	if (s->full_sync)
		buf_printf(out, "  let users back in: sync ALL of Argo CD Application %s/%s "
		    "(--full-sync)", ARGOCD_NAMESPACE, ARGOCD_APP);
	else
		buf_printf(out, "  let users back in: sync only the blocked GafaelfawrIngresses of "
		    "Argo CD Application %s/%s", ARGOCD_NAMESPACE, ARGOCD_APP);
	if (s->missing != NULL) {
		buf_puts(out, " (recreates");
		for (char **m = s->missing; *m != NULL; m++)
			buf_printf(out, " %s", *m);
		buf_puts(out, ")");
	}
	buf_puts(out, "\n");
	if (s->others != NULL && s->full_sync) {
		buf_printf(out, "    Argo CD reports these out of sync too: the full sync deploys "
		    "them from the Application's source now:\n");
		for (char **o = s->others; *o != NULL; o++)
			buf_printf(out, "      %s\n", *o);
	} else if (s->others != NULL) {
		buf_printf(out, "    left alone (out of sync in Argo CD, --full-sync would deploy "
		    "them):");
		for (char **o = s->others; *o != NULL; o++)
			buf_printf(out, " %s", *o);
		buf_puts(out, "\n");
	}
}

/* -o json: how, and which ingresses are missing now. */
static void
report_plan(struct run *r, const struct unblock_step *s, bool open)
{
	json_object *rep = report_section(&r->report, "unblock"), *missing = json_object_new_array();

	for (char **m = s->missing; m != NULL && *m != NULL; m++)
		json_object_array_add(missing, json_object_new_string(*m));
	json_object_object_add(rep, "how", json_object_new_string(s->from_backup ?
	    "saved-manifests" : s->full_sync ? "full-sync" : "limited-sync"));
	json_object_object_add(rep, "alreadyOpen", json_object_new_boolean(open));
	json_object_object_add(rep, "missing", missing);
}

static int
unblock_plan(struct run *r, void *st, struct buf *out, bool *empty, struct err *e)
{
	struct unblock_step *s = st;

	/*
	 * Open when the hub has ingresses again and none that block saved is
	 * missing; with nothing saved, any hub ingress means open.
	 */
	*empty = s->now.n > 0 && s->missing == NULL;
	report_plan(r, s, *empty && !s->after_block);
	if (*empty && s->after_block) {
		/* In wipe-db and restore-db, block runs first: then there is something to undo. */
		*empty = false;
		buf_printf(out, "  let users back in: sync Argo CD Application %s/%s\n",
		    ARGOCD_NAMESPACE, ARGOCD_APP);
		return 0;
	}
	if (*empty) {
		buf_printf(out, "  access is already open (%zu GafaelfawrIngress(es) route to %s)\n",
		    s->now.n, HUB_SERVICE);
		return 0;
	}
	if (s->from_backup) {
		buf_printf(out, "  recreate from saved manifests:");
		for (char **m = s->missing; m != NULL && *m != NULL; m++)
			buf_printf(out, " %s", *m);
		buf_puts(out, "\n");
		return 0;
	}
	if (s->running) {
		e->exit = EXIT_REFUSED;
		err_set(e, "another Argo CD operation is in progress on %s/%s", ARGOCD_NAMESPACE,
		    ARGOCD_APP);
		err_hint(e, "wait for it to finish, then run unblock again");
		return -1;
	}
	plan_sync(s, out);
	return 0;
}

static int
apply_from_backup(struct run *r, struct unblock_step *s, struct err *e)
{
	json_object **absent = xcalloc(s->nsaved + 1, sizeof *absent);
	size_t n = 0;
	int rc;

	for (size_t i = 0; i < s->nsaved; i++)
		if (!present(&s->now, jstr(s->saved[i], "metadata", "name", NULL)))
			absent[n++] = s->saved[i];
	rc = ingress_restore(r->n, absent, n, r->dry_run, &s->created, e);
	free(absent);
	return rc;
}

/* Sync only what block removed, looked at now: in wipe-db, block ran since inspect. */
static int
apply_limited_sync(struct run *r, struct unblock_step *s, struct err *e)
{
	json_object **saved = NULL, *app = NULL;
	struct argocd_res *only = NULL;
	struct ingset now = { 0 };
	size_t nsaved = 0, n;
	int rc = -1;

	if (load_saved(r, &saved, &nsaved, e) < 0 || ingress_find(r->n, &now, e) < 0 ||
	    argocd_get(r->n, &app, e) < 0)
		goto out;
	n = blocked_resources(r, app, saved, nsaved, &now, &only);
	/* A dry run blocked nothing: what block would remove is what is there. */
	for (size_t i = 0; r->dry_run && n == 0 && i < now.n; i++) {
		struct argocd_res res = { GAF_GROUP, GAF_KIND, r->n->ns,
		    jstr(now.items[i], "metadata", "name", NULL) };

		if (res.name != NULL && argocd_manages(app, &res))
			only[n++] = res;
	}
	if (n == 0) {
		err_set(e, "cannot tell which GafaelfawrIngresses block removed: none saved is "
		    "missing, and Argo CD reports none out of sync");
		err_hint(e, "run `kubectl nublado unblock --full-sync` (the whole Application) or "
		    "`unblock --from-backup`");
	} else {
		rc = argocd_sync(r->n, only, n, r->dry_run, e);
	}
	/* The missing ones are checked by the wait. */
	strv_free(s->missing);
	s->missing = NULL;
	for (size_t i = 0; i < n; i++)
		s->missing = strv_push(s->missing, only[i].name);
out:
	free(only);
	json_object_put(app);
	ingset_free(&now);
	saved_free(saved, nsaved);
	return rc;
}

static int
unblock_apply(struct run *r, void *st, struct err *e)
{
	struct unblock_step *s = st;

	if (s->from_backup)
		return apply_from_backup(r, s, e);
	if (s->full_sync)
		return argocd_sync(r->n, NULL, 0, r->dry_run, e);
	return apply_limited_sync(r, s, e);
}

static int
unblock_wait(struct run *r, void *st, struct err *e)
{
	struct unblock_step *s = st;
	struct ingset after;
	int rc = 0;

	if (r->dry_run)
		return 0;
	if (!s->from_backup && argocd_wait(r->n, r->timeout_ms, r->tty, e) < 0)
		return -1;
	/* Trust, then verify: the hub's ingresses must exist again. */
	if (ingress_find(r->n, &after, e) < 0)
		return -1;
	if (after.n == 0) {
		rc = err_set(e, "the sync finished but no GafaelfawrIngress routes to %s",
		    HUB_SERVICE);
		err_hint(e, "check the nublado application in Argo CD, or use `unblock --from-backup`");
	}
	for (char **m = s->missing; rc == 0 && m != NULL && *m != NULL; m++) {
		if (!present(&after, *m)) {
			rc = err_set(e, "GafaelfawrIngress '%s' was not recreated", *m);
			err_hint(e, "run `kubectl nublado unblock --from-backup` to create it "
			    "from the saved manifest");
		}
	}
	ingset_free(&after);
	if (rc == 0)
		s->unblocked_ms = now_ms();
	return rc;
}

static void
unblock_result(struct run *r, void *st, struct buf *out)
{
	struct unblock_step *s = st;

	if (s->now.n > 0 && s->missing == NULL)
		buf_printf(out, "access was already open");
	else if (s->from_backup)
		buf_printf(out, "unblocked: recreated %zu GafaelfawrIngress(es) from saved manifests",
		    s->created);
	else
		buf_printf(out, "unblocked: Argo CD sync succeeded, ingresses are back");
}

/* status: Argo CD's view, and what a sync besides the ingresses would deploy. */
static void
unblock_describe(struct run *r, void *st, json_object *into)
{
	struct unblock_step *s = st;
	json_object *others = json_object_new_array();

	json_add_str(into, "sync", jstr(s->app, "status", "sync", "status", NULL));
	json_add_str(into, "health", jstr(s->app, "status", "health", "status", NULL));
	json_add_str(into, "lastOperation", jstr(s->app, "status", "operationState", "phase",
	    NULL));
	if (s->app != NULL)
		json_add_str(into, "operation", argocd_running(s->app));
	json_object_object_add(into, "selfHeal", json_object_new_boolean(s->app != NULL &&
	    argocd_self_heal(s->app)));
	for (char **o = s->others; o != NULL && *o != NULL; o++)
		json_object_array_add(others, json_object_new_string(*o));
	json_object_object_add(into, "outOfSync", others);
}

static void
unblock_reset(void *st)
{
	struct unblock_step *s = st;

	json_object_put(s->app);
	s->app = NULL;
	ingset_free(&s->now);
	saved_free(s->saved, s->nsaved);
	s->saved = NULL;
	s->nsaved = 0;
	strv_free(s->missing);
	strv_free(s->others);
	s->missing = s->others = NULL;
	s->running = false;
	s->created = 0;
}

const struct step_ops step_unblock_ops = {
	.name = "unblock", .title = "let users back in",
	.inspect = unblock_inspect, .plan = unblock_plan, .apply = unblock_apply,
	.wait = unblock_wait, .result = unblock_result, .reset = unblock_reset,
	.describe = unblock_describe,
	.access = -1, .server_dry_run = true,
};
