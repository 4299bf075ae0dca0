/* steps.c: the runner, and the steps that talk only to the Kubernetes API */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../util/exitcode.h"
#include "../util/jsonout.h"
#include "../util/log.h"
#include "../util/prompt.h"
#include "../util/sig.h"
#include "../util/statedir.h"
#include "../util/xalloc.h"
#include "argocd.h"
#include "hub.h"
#include "ingress.h"
#include "labs.h"
#include "rollout.h"
#include "steps.h"

#define DEFAULT_WAIT_MS (10 * 60 * 1000L)

void
step_say(struct step_ctx *c, const char *fmt, ...)
{
	FILE *f = c->json ? stderr : stdout;
	va_list ap;

	va_start(ap, fmt);
	vfprintf(f, fmt, ap);
	va_end(ap);
	fputc('\n', f);
	fflush(f);
}

int
step_ctx_init(struct step_ctx *c, struct nub *n, struct err *e)
{
	c->n = n;
	c->report = json_object_new_object();
	if (c->timeout_ms == 0)
		c->timeout_ms = DEFAULT_WAIT_MS;
	if (c->parallel <= 0)
		c->parallel = 32;
	return nub_state_dir(n, NULL, &c->state_dir, e);
}

void
step_ctx_free(struct step_ctx *c)
{
	free(c->state_dir);
	json_object_put(c->report);
	c->state_dir = NULL;
	c->report = NULL;
}

static json_object *
report_for(struct step_ctx *c, const char *step)
{
	json_object *r;

	if (!json_object_object_get_ex(c->report, step, &r)) {
		r = json_object_new_object();
		json_object_object_add(c->report, step, r);
	}
	return r;
}

static void
report_str(struct step_ctx *c, const char *step, const char *key, const char *v)
{
	json_object_object_add(report_for(c, step), key, json_object_new_string(v));
}

/* ---- block: delete the GafaelfawrIngresses that route to proxy-public ---- */

struct block_state {
	struct ingset set;
	bool self_heal;
	bool no_app;
	char *dir;
};

static int
block_inspect(struct step_ctx *c, void **state, struct err *e)
{
	struct block_state *s = xcalloc(1, sizeof *s);
	json_object *app = NULL;
	struct err ae;

	*state = s;
	if (ingress_find(c->n, &s->set, e) < 0)
		return -1;
	err_clear(&ae);
	if (argocd_get(c->n, &app, &ae) == 0) {
		s->self_heal = argocd_self_heal(app);
		json_object_put(app);
	} else if (ae.http == 404) {
		s->no_app = true;
	} else {
		log_debug(LOG_STEPS, "cannot read the Argo CD Application: %s", ae.msg);
	}
	s->dir = xasprintf("%s/ingresses", c->state_dir);
	return 0;
}

static int
block_plan(struct step_ctx *c, void *state, struct buf *out, bool *empty, struct err *e)
{
	struct block_state *s = state;
	json_object *names = json_object_new_array();

	if (s->self_heal && s->set.n > 0 && !c->ignore_self_heal) {
		/* A block Argo CD undoes in seconds lets users in during the drop. */
		err_set(e, "Argo CD Application %s/%s has automated sync with selfHeal: it would "
		    "recreate the ingresses and undo the block", ARGOCD_NAMESPACE, ARGOCD_APP);
		err_hint(e, "turn selfHeal off for the Application first (Argo CD UI, or kubectl -n "
		    "%s patch application %s --type merge -p '{\"spec\":{\"syncPolicy\":"
		    "{\"automated\":null}}}'), or pass --ignore-self-heal", ARGOCD_NAMESPACE,
		    ARGOCD_APP);
		e->exit = EXIT_REFUSED;
		json_object_put(names);
		return -1;
	}
	if (s->self_heal)
		log_warn("Argo CD Application %s/%s has automated sync with selfHeal: it will "
		    "recreate the ingresses and UNDO this block (--ignore-self-heal)",
		    ARGOCD_NAMESPACE, ARGOCD_APP);
	if (s->no_app)
		log_warn("no Argo CD Application %s/%s: to unblock later use "
		    "`unblock --from-backup`", ARGOCD_NAMESPACE, ARGOCD_APP);
	*empty = s->set.n == 0;
	if (*empty) {
		buf_printf(out, "  access is already blocked: no GafaelfawrIngress in '%s' "
		    "routes to %s or to lab creation\n", c->n->ns, HUB_SERVICE);
	} else {
		buf_printf(out, "  block user access: delete %zu GafaelfawrIngress(es) in '%s' "
		    "routing to %s or to lab creation:", s->set.n, c->n->ns, HUB_SERVICE);
		for (size_t i = 0; i < s->set.n; i++) {
			const char *name = jstr(s->set.items[i], "metadata", "name", NULL);

			buf_printf(out, " %s", name);
			json_object_array_add(names, json_object_new_string(name));
		}
		buf_printf(out, "\n    (saved first to %s/)\n", s->dir);
	}
	for (char **o = s->set.others; o != NULL && *o != NULL; o++)
		buf_printf(out, "    left alone: %s (routes neither to %s nor to lab creation)\n",
		    *o, HUB_SERVICE);
	json_object_object_add(report_for(c, "block"), "ingresses", names);
	json_object_object_add(report_for(c, "block"), "selfHealWarning",
	    json_object_new_boolean(s->self_heal));
	return 0;
}

static int
block_apply(struct step_ctx *c, void *state, struct err *e)
{
	struct block_state *s = state;

	if (s->set.n == 0)
		return 0;
	if (!c->dry_run) {
		/* The manifests on disk before the first delete: the way back without Argo CD. */
		if (mkdir_p(s->dir, e) < 0 || ingress_save(&s->set, s->dir, e) < 0)
			return -1;
		report_str(c, "block", "savedTo", s->dir);
	}
	return ingress_delete(c->n, &s->set, c->dry_run, e);
}

static int
block_wait(struct step_ctx *c, void *state, struct err *e)
{
	struct block_state *s = state;

	if (s->set.n == 0 || c->dry_run)
		return 0;
	c->blocked_ms = now_ms();
	return ingress_wait_generated_gone(c->n, &s->set, c->timeout_ms, e);
}

static void
block_result(struct step_ctx *c, void *state, struct buf *out)
{
	struct block_state *s = state;

	if (s->set.n == 0)
		buf_printf(out, "access was already blocked");
	else
		buf_printf(out, "blocked: deleted %zu GafaelfawrIngress(es), manifests in %s",
		    s->set.n, s->dir);
}

static void
block_free(void *state)
{
	struct block_state *s = state;

	if (s == NULL)
		return;
	ingset_free(&s->set);
	free(s->dir);
	free(s);
}

const struct step step_block = {
	.name = "block", .title = "block user access",
	.inspect = block_inspect, .plan = block_plan, .apply = block_apply,
	.wait = block_wait, .result = block_result, .free = block_free,
};

/* ---- kill-labs: delete the lab namespaces, wait until they are gone ---- */

struct labs_state {
	struct labset set;
	size_t deleted;
	size_t appeared;	/* labs made after the list, found and deleted too */
};

/* Rounds of "list again, delete what appeared" before lab creation is called open. */
#define LAB_ROUNDS 5

static int
labs_inspect(struct step_ctx *c, void **state, struct err *e)
{
	struct labs_state *s = xcalloc(1, sizeof *s);

	*state = s;
	if (labs_select(c->n, c->user, &s->set, e) < 0)
		return -1;
	/* No lab for --user is not an error: a re-run finds it gone already. */
	if (c->user != NULL && s->set.n == 0 && s->set.nskipped == 0)
		log_debug(LOG_STEPS, "no lab for user '%s'", c->user);
	return 0;
}

static int
labs_plan(struct step_ctx *c, void *state, struct buf *out, bool *empty, struct err *e)
{
	struct labs_state *s = state;
	size_t terminating = 0;

	*empty = s->set.n == 0;
	for (size_t i = 0; i < s->set.n; i++)
		terminating += s->set.labs[i].terminating;
	if (*empty) {
		if (c->user != NULL)
			buf_printf(out, "  no lab namespace for user '%s' (%s-%s)\n", c->user,
			    s->set.prefix, c->user);
		else
			buf_printf(out, "  no lab namespaces (%s-* labelled %s=lab)\n",
			    s->set.prefix, LAB_CATEGORY_LABEL);
	} else if (terminating == s->set.n) {
		/* A re-run: nothing left to delete, only to wait for. */
		buf_printf(out, "  wait for %zu lab namespace(s) already terminating:", s->set.n);
		for (size_t i = 0; i < s->set.n && i < 20; i++)
			buf_printf(out, " %s", s->set.labs[i].name);
		buf_puts(out, s->set.n > 20 ? " ...\n" : "\n");
	} else {
		buf_printf(out, "  delete %zu lab namespace(s):", s->set.n);
		for (size_t i = 0; i < s->set.n; i++) {
			if (i == 20 && s->set.n > 25) {
				buf_printf(out, " ... and %zu more", s->set.n - 20);
				break;
			}
			buf_printf(out, " %s%s", s->set.labs[i].name,
			    s->set.labs[i].terminating ? " (terminating)" : "");
		}
		buf_puts(out, "\n");
		if (terminating > 0 && terminating < s->set.n)
			buf_printf(out, "    (%zu already terminating: waiting for them too)\n",
			    terminating);
	}
	for (size_t i = 0; i < s->set.nskipped; i++)
		buf_printf(out, "    skipped: %s (%s)\n", s->set.skipped[i].name,
		    s->set.skipped[i].why);
	json_object_object_add(c->report, "kill-labs", labset_json(&s->set));
	return 0;
}

static int
labs_apply(struct step_ctx *c, void *state, struct err *e)
{
	struct labs_state *s = state;

	if (s->set.n == 0)
		return 0;
	return labs_delete(c->n, &s->set, c->parallel, c->dry_run, c->tty, &s->deleted, e);
}

static int
labs_wait(struct step_ctx *c, void *state, struct err *e)
{
	struct labs_state *s = state;
	struct labset cur = { 0 }, *wait = &s->set;
	int rc = 0;

	if (c->dry_run)
		return 0;
	/*
	 * A lab can be made while we delete (a user holding a token, the hub
	 * finishing a spawn): once they are gone, list again, until none is left.
	 */
	for (int round = 0; rc == 0; round++) {
		struct labset again;

		if (wait->n > 0 && labs_wait_gone(c->n, wait, c->timeout_ms, c->tty, e) < 0) {
			rc = -1;
			break;
		}
		if (labs_select(c->n, c->user, &again, e) < 0) {
			rc = -1;
			break;
		}
		labset_free(&cur);
		cur = again;
		if (cur.n == 0)
			break;
		if (round + 1 >= LAB_ROUNDS) {
			rc = err_set(e, "lab namespaces keep appearing (%s%s): lab creation is still "
			    "open", cur.labs[0].name, cur.n > 1 ? " and more" : "");
			err_hint(e, "block user access first (kubectl nublado block), then run again");
			break;
		}
		log_warn("%zu lab namespace(s) appeared since the list, deleting them too: %s%s",
		    cur.n, cur.labs[0].name, cur.n > 1 ? " ..." : "");
		s->appeared += cur.n;
		if (labs_delete(c->n, &cur, c->parallel, false, c->tty, &s->deleted, e) < 0) {
			rc = -1;
			break;
		}
		wait = &cur;
	}
	labset_free(&cur);
	return rc;
}

static void
labs_result(struct step_ctx *c, void *state, struct buf *out)
{
	struct labs_state *s = state;

	if (s->set.n == 0)
		buf_printf(out, "no lab namespaces were left to delete");
	else
		buf_printf(out, "deleted %zu lab namespace(s)%s", s->set.n,
		    s->set.nskipped ? " (others skipped, see above)" : "");
	if (s->appeared > 0)
		buf_printf(out, "; %zu more appeared meanwhile and were deleted too", s->appeared);
}

static void
labs_free(void *state)
{
	struct labs_state *s = state;

	if (s == NULL)
		return;
	labset_free(&s->set);
	free(s);
}

const struct step step_kill_labs = {
	.name = "kill-labs", .title = "delete the user labs",
	.inspect = labs_inspect, .plan = labs_plan, .apply = labs_apply,
	.wait = labs_wait, .result = labs_result, .free = labs_free,
};

/* ---- restart-hub: rollout restart of Deployment hub, then a Ready hub pod ---- */

struct restart_state {
	char *old_pod;
	char *new_pod;
	char stamp[32];
	double seconds;
};

static int
restart_inspect(struct step_ctx *c, void **state, struct err *e)
{
	struct restart_state *s = xcalloc(1, sizeof *s);
	struct err pe;

	*state = s;
	err_clear(&pe);
	/* No Ready hub now is no reason not to restart: that may be the cure. */
	if (hub_find_pod(c->n, &s->old_pod, &pe) < 0)
		log_debug(LOG_STEPS, "hub pod before the restart: %s", pe.msg);
	return 0;
}

static int
restart_plan(struct step_ctx *c, void *state, struct buf *out, bool *empty, struct err *e)
{
	struct restart_state *s = state;

	*empty = false;
	buf_printf(out, "  restart deployment/%s in '%s'%s%s%s\n", HUB_DEPLOYMENT, c->n->ns,
	    s->old_pod ? " (pod " : "", s->old_pod ? s->old_pod : "",
	    s->old_pod ? " will be replaced)" : "");
	return 0;
}

static int
restart_apply(struct step_ctx *c, void *state, struct err *e)
{
	struct restart_state *s = state;

	if (rollout_restart(c->n, HUB_DEPLOYMENT, c->dry_run, s->stamp, e) < 0)
		return -1;
	report_str(c, "restart-hub", "restartedAt", s->stamp);
	return 0;
}

static int
restart_wait(struct step_ctx *c, void *state, struct err *e)
{
	struct restart_state *s = state;
	long long start = now_ms();

	if (c->dry_run)
		return 0;
	free(s->new_pod);
	if (hub_wait_replaced(c->n, s->old_pod, c->timeout_ms, c->tty,
	    "waiting for the new hub pod", &s->new_pod, e) < 0)
		return -1;
	s->seconds = (double)(now_ms() - start) / 1000.0;
	report_str(c, "restart-hub", "pod", s->new_pod);
	return 0;
}

static void
restart_result(struct step_ctx *c, void *state, struct buf *out)
{
	struct restart_state *s = state;

	buf_printf(out, "hub restarted: pod %s is Ready (%.1fs)", s->new_pod ? s->new_pod : "?",
	    s->seconds);
}

static void
restart_free(void *state)
{
	struct restart_state *s = state;

	if (s == NULL)
		return;
	free(s->old_pod);
	free(s->new_pod);
	free(s);
}

const struct step step_restart_hub = {
	.name = "restart-hub", .title = "restart the hub",
	.inspect = restart_inspect, .plan = restart_plan, .apply = restart_apply,
	.wait = restart_wait, .result = restart_result, .free = restart_free,
};

/* ---- unblock: Argo CD sync (or the saved manifests), then the ingresses exist ---- */

struct unblock_state {
	struct ingset now;		/* hub ingresses present now */
	json_object **saved;		/* saved by block */
	size_t nsaved;
	char **missing;			/* saved ones not present now */
	const char *running;		/* an Argo CD operation in progress */
	bool no_app;
	size_t created;
	char **others;			/* out of sync besides the ingresses: a full sync deploys them */
};

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
blocked_resources(struct step_ctx *c, json_object *app, json_object **saved, size_t nsaved,
    const struct ingset *now, struct argocd_res **out)
{
	json_object *list = jpath(app, "status", "resources", NULL);
	struct argocd_res *v = xcalloc(nsaved + (list ? json_object_array_length(list) : 0) + 1,
	    sizeof *v);
	size_t n = 0;

	for (size_t i = 0; i < nsaved; i++) {
		const char *name = jstr(saved[i], "metadata", "name", NULL);
		struct argocd_res r = { GAF_GROUP, GAF_KIND, c->n->ns, name };

		if (name != NULL && !present(now, name) && argocd_manages(app, &r))
			v[n++] = r;
	}
	for (size_t i = 0; n == 0 && nsaved == 0 && list != NULL &&
	    i < json_object_array_length(list); i++) {
		json_object *r = json_object_array_get_idx(list, i);
		const char *st = jstr(r, "status", NULL), *kind = jstr(r, "kind", NULL);
		const char *ns = jstr(r, "namespace", NULL), *name = jstr(r, "name", NULL);

		if (st != NULL && strcmp(st, "OutOfSync") == 0 && kind != NULL &&
		    strcmp(kind, GAF_KIND) == 0 && ns != NULL && strcmp(ns, c->n->ns) == 0 &&
		    name != NULL)
			v[n++] = (struct argocd_res){ GAF_GROUP, GAF_KIND, ns, name };
	}
	*out = v;
	return n;
}

static int
unblock_inspect(struct step_ctx *c, void **state, struct err *e)
{
	struct unblock_state *s = xcalloc(1, sizeof *s);
	char *dir = xasprintf("%s/ingresses", c->state_dir);
	json_object *app = NULL;
	struct err ae;
	int rc;

	*state = s;
	rc = ingress_saved(dir, &s->saved, &s->nsaved, e);
	free(dir);
	if (rc < 0 || ingress_find(c->n, &s->now, e) < 0)
		return -1;
	for (size_t i = 0; i < s->nsaved; i++) {
		const char *name = jstr(s->saved[i], "metadata", "name", NULL);

		if (!present(&s->now, name))
			s->missing = strv_push(s->missing, name);
	}
	if (c->from_backup) {
		if (s->nsaved == 0) {
			err_set(e, "no saved ingress manifests in %s/ingresses", c->state_dir);
			err_hint(e, "`block` saves them; without them, sync the nublado "
			    "application in Argo CD");
			return -1;
		}
		return 0;
	}
	err_clear(&ae);
	if (argocd_get(c->n, &app, &ae) < 0) {
		if (ae.http == 404) {
			s->no_app = true;
			*e = ae;
			err_hint(e, "no Argo CD Application: use `unblock --from-backup`");
			return -1;
		}
		*e = ae;
		return -1;
	}
	s->running = argocd_running(app) ? "running" : NULL;
	{
		struct argocd_res *ours = NULL;
		size_t n = blocked_resources(c, app, s->saved, s->nsaved, &s->now, &ours);

		s->others = argocd_out_of_sync(app, ours, n);
		free(ours);
	}
	json_object_put(app);
	return 0;
}

static int
unblock_plan(struct step_ctx *c, void *state, struct buf *out, bool *empty, struct err *e)
{
	struct unblock_state *s = state;

	/*
	 * Open when the hub has ingresses again and none that block saved is
	 * missing; with nothing saved, any hub ingress means open.
	 */
	*empty = s->now.n > 0 && s->missing == NULL;
	if (*empty && c->after_block) {
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
	if (c->from_backup) {
		buf_printf(out, "  recreate from saved manifests:");
		for (char **m = s->missing; m != NULL && *m != NULL; m++)
			buf_printf(out, " %s", *m);
		buf_puts(out, "\n");
		return 0;
	}
	if (s->running != NULL) {
		e->exit = 3;
		err_set(e, "another Argo CD operation is in progress on %s/%s", ARGOCD_NAMESPACE,
		    ARGOCD_APP);
		err_hint(e, "wait for it to finish, then run unblock again");
		return -1;
	}
	if (c->full_sync) {
		buf_printf(out, "  let users back in: sync ALL of Argo CD Application %s/%s "
		    "(--full-sync)", ARGOCD_NAMESPACE, ARGOCD_APP);
	} else {
		buf_printf(out, "  let users back in: sync only the blocked GafaelfawrIngresses of "
		    "Argo CD Application %s/%s", ARGOCD_NAMESPACE, ARGOCD_APP);
	}
	if (s->missing != NULL) {
		buf_puts(out, " (recreates");
		for (char **m = s->missing; *m != NULL; m++)
			buf_printf(out, " %s", *m);
		buf_puts(out, ")");
	}
	buf_puts(out, "\n");
	if (s->others != NULL && c->full_sync) {
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
	return 0;
}

static int
unblock_apply(struct step_ctx *c, void *state, struct err *e)
{
	struct unblock_state *s = state;

	if (c->from_backup) {
		json_object **absent = xcalloc(s->nsaved + 1, sizeof *absent);
		size_t n = 0;
		int rc;

		for (size_t i = 0; i < s->nsaved; i++)
			if (!present(&s->now, jstr(s->saved[i], "metadata", "name", NULL)))
				absent[n++] = s->saved[i];
		rc = ingress_restore(c->n, absent, n, c->dry_run, &s->created, e);
		free(absent);
		return rc;
	}
	if (c->full_sync)
		return argocd_sync(c->n, NULL, 0, c->dry_run, e);
	{
		/* What block removed, looked at now: in wipe-db, block ran since inspect. */
		char *dir = xasprintf("%s/ingresses", c->state_dir);
		json_object **saved = NULL, *app = NULL;
		struct argocd_res *only = NULL;
		struct ingset now;
		size_t nsaved = 0, n = 0;
		int rc = ingress_saved(dir, &saved, &nsaved, e);

		free(dir);
		if (rc == 0 && (rc = ingress_find(c->n, &now, e)) == 0) {
			if ((rc = argocd_get(c->n, &app, e)) == 0) {
				n = blocked_resources(c, app, saved, nsaved, &now, &only);
				/* A dry run blocked nothing: what block would remove is what is there. */
				for (size_t i = 0; c->dry_run && n == 0 && i < now.n; i++) {
					struct argocd_res r = { GAF_GROUP, GAF_KIND, c->n->ns,
					    jstr(now.items[i], "metadata", "name", NULL) };

					if (r.name != NULL && argocd_manages(app, &r))
						only[n++] = r;
				}
				if (n == 0) {
					rc = err_set(e, "cannot tell which GafaelfawrIngresses block removed: "
					    "none saved is missing, and Argo CD reports none out of sync");
					err_hint(e, "run `kubectl nublado unblock --full-sync` (the whole "
					    "Application) or `unblock --from-backup`");
				} else {
					rc = argocd_sync(c->n, only, n, c->dry_run, e);
				}
				/* The missing ones are checked by the wait. */
				strv_free(s->missing);
				s->missing = NULL;
				for (size_t i = 0; i < n; i++)
					s->missing = strv_push(s->missing, only[i].name);
				free(only);
				json_object_put(app);
			}
			ingset_free(&now);
		}
		for (size_t i = 0; i < nsaved; i++)
			json_object_put(saved[i]);
		free(saved);
		return rc;
	}
}

static int
unblock_wait(struct step_ctx *c, void *state, struct err *e)
{
	struct unblock_state *s = state;
	struct ingset after;
	int rc = 0;

	if (c->dry_run)
		return 0;
	if (!c->from_backup && argocd_wait(c->n, c->timeout_ms, c->tty, e) < 0)
		return -1;
	/* Trust, then verify: the hub's ingresses must exist again. */
	if (ingress_find(c->n, &after, e) < 0)
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
		c->unblocked_ms = now_ms();
	return rc;
}

static void
unblock_result(struct step_ctx *c, void *state, struct buf *out)
{
	struct unblock_state *s = state;

	if (s->now.n > 0 && s->missing == NULL)
		buf_printf(out, "access was already open");
	else if (c->from_backup)
		buf_printf(out, "unblocked: recreated %zu GafaelfawrIngress(es) from saved manifests",
		    s->created);
	else
		buf_printf(out, "unblocked: Argo CD sync succeeded, ingresses are back");
}

static void
unblock_free(void *state)
{
	struct unblock_state *s = state;

	if (s == NULL)
		return;
	ingset_free(&s->now);
	for (size_t i = 0; i < s->nsaved; i++)
		json_object_put(s->saved[i]);
	free(s->saved);
	strv_free(s->missing);
	strv_free(s->others);
	free(s);
}

const struct step step_unblock = {
	.name = "unblock", .title = "let users back in",
	.inspect = unblock_inspect, .plan = unblock_plan, .apply = unblock_apply,
	.wait = unblock_wait, .result = unblock_result, .free = unblock_free,
};

/* ---- the runner ---- */

/*
 * After a stop part-way (an error or Ctrl-C): what was done, what is left,
 * whether users are locked out, and what to do, in front of the step's own
 * hint.  An interrupt has no cause to fix: the same command finishes.
 */
static void
where_things_stand(const struct step *const *steps, size_t n, size_t at, const bool *done,
    const bool *empty, struct err *e)
{
	struct buf b = BUF_INIT;
	bool any = false, blocked = false, unblock_left = false;
	char old[sizeof e->hint];

	for (size_t i = 0; i < n; i++) {
		if (!done[i])
			continue;
		buf_printf(&b, "%s%s", any ? ", " : "done: ", steps[i]->name);
		any = true;
		if (steps[i] == &step_block)
			blocked = true;
		if (steps[i] == &step_unblock)
			blocked = false;
	}
	if (!any)
		return;		/* nothing changed: the step's own words say it all */
	any = false;
	for (size_t i = at; i < n; i++) {
		if (empty[i] && i != at)
			continue;
		buf_printf(&b, "%s%s", any ? ", " : "; left: ", steps[i]->name);
		any = true;
		unblock_left |= steps[i] == &step_unblock;
	}
	if (blocked)
		buf_printf(&b, "; user access is BLOCKED%s", unblock_left ?
		    " (`kubectl nublado unblock` lets users back in)" : "");
	buf_puts(&b, ". ");
	snprintf(old, sizeof old, "%s", e->hint);
	if (e->exit == 130)
		err_hint(e, "%srun the same command again to finish", b.data);
	else if (old[0] != '\0')
		err_hint(e, "%s%s", b.data, old);
	else
		err_hint(e, "%sfix the cause, then run the same command again: it picks up where "
		    "this one stopped", b.data);
	buf_free(&b);
}

int
steps_run(struct step_ctx *c, const struct step *const *steps, size_t n,
    const char *question, const char *typed, struct err *e)
{
	void **state = xcalloc(n, sizeof *state);
	bool *empty = xcalloc(n, sizeof *empty);
	bool *done = xcalloc(n, sizeof *done);
	struct buf plan = BUF_INIT;
	bool all_empty = true, changed = false;
	int rc = -1;
	size_t i;

	/* 1. Look at everything before changing anything. */
	for (i = 0; i < n; i++) {
		if (steps[i]->inspect(c, &state[i], e) < 0) {
			err_prefix(e, "%s", steps[i]->name);
			if (c->preflight_refuses && e->exit != 130 && e->exit != EXIT_USAGE)
				e->exit = 3;
			if (e->hint[0] == '\0')
				err_hint(e, "nothing was changed; fix the cause, then run the same "
				    "command again");
			goto out;
		}
	}
	for (i = 0; i < n; i++) {
		if (steps[i]->plan(c, state[i], &plan, &empty[i], e) < 0) {
			err_prefix(e, "%s", steps[i]->name);
			if (c->preflight_refuses && e->exit != 130)
				e->exit = 3;
			if (e->hint[0] == '\0')
				err_hint(e, "nothing was changed; fix the cause, then run the same "
				    "command again");
			goto out;
		}
		all_empty = all_empty && empty[i];
	}
	step_say(c, "%s on context '%s' (%s), namespace '%s':\n%s",
	    c->dry_run ? "Plan (dry run)" : "Plan", c->n->cfg->context,
	    c->n->cfg->server, c->n->ns, plan.data ? plan.data : "");
	if (all_empty) {
		step_say(c, "Nothing to do.");
		rc = 0;
		goto out;
	}
	if (!c->dry_run && prompt_confirm(question, typed, c->yes, e) < 0)
		goto out;
	/* 2. Change, step by step; each waits until its change has taken effect. */
	for (i = 0; i < n; i++) {
		struct buf line = BUF_INIT;

		if (sig_interrupted()) {
			e->exit = 130;
			err_set(e, "interrupted before %s", steps[i]->name);
			err_hint(e, "run the same command again to finish");
			where_things_stand(steps, n, i, done, empty, e);
			goto out;
		}
		if (changed && !c->dry_run) {
			/*
			 * An earlier step changed the cluster: look again, so this
			 * step acts on what is there now (unblock after block).
			 */
			struct buf again = BUF_INIT;

			steps[i]->free(state[i]);
			state[i] = NULL;
			if (steps[i]->inspect(c, &state[i], e) < 0 ||
			    steps[i]->plan(c, state[i], &again, &empty[i], e) < 0) {
				buf_free(&again);
				err_prefix(e, "%s", steps[i]->name);
				where_things_stand(steps, n, i, done, empty, e);
				goto out;
			}
			buf_free(&again);
		}
		if (empty[i])
			continue;
		changed = true;
		log_debug(LOG_STEPS, "%s: %s", steps[i]->name, steps[i]->title);
		if (steps[i]->apply(c, state[i], e) < 0 ||
		    steps[i]->wait(c, state[i], e) < 0) {
			err_prefix(e, "%s", steps[i]->name);
			if (e->exit == 130 && strstr(e->hint, "fix the cause") != NULL)
				e->hint[0] = '\0';
			if (!c->dry_run)
				where_things_stand(steps, n, i, done, empty, e);
			if (e->hint[0] == '\0')
				err_hint(e, e->exit == 130 ? "run the same command again to finish" :
				    "fix the cause, then run the same command again: it picks up "
				    "where this one stopped");
			goto out;
		}
		done[i] = true;
		if (c->dry_run) {
			step_say(c, "%s: the server accepted the dry run", steps[i]->name);
		} else if (steps[i]->result != NULL) {
			steps[i]->result(c, state[i], &line);
			step_say(c, "%s", line.data ? line.data : steps[i]->name);
		}
		buf_free(&line);
	}
	rc = 0;
out:
	for (i = 0; i < n; i++)
		if (state[i] != NULL)
			steps[i]->free(state[i]);
	free(state);
	free(empty);
	free(done);
	buf_free(&plan);
	return rc;
}

void
step_report_end(struct step_ctx *c, const struct err *failed)
{
	if (!c->json || c->report == NULL)
		return;
	json_object_object_add(c->report, "ok", json_object_new_boolean(failed == NULL));
	if (failed != NULL)
		json_object_object_add(c->report, "error", json_object_new_string(failed->msg));
	json_print(c->report);
}

int
steps_main(const struct nub_opts *o, const struct step_ctx *tmpl,
    const struct step *const *steps, size_t n, const char *question,
    bool typed_context)
{
	struct step_ctx c = *tmpl;
	struct nub *nb = NULL;
	struct err e;
	char *q = NULL;
	int rc;

	err_clear(&e);
	c.report = NULL;
	c.state_dir = NULL;
	c.tty = o->err_tty;
	if (nub_open(o, &nb, &e) < 0 || step_ctx_init(&c, nb, &e) < 0) {
		log_err(&e);
		step_ctx_free(&c);
		nub_close(nb);
		return e.exit ? e.exit : 1;
	}
	q = xasprintf(question, kcfg_name(nb->cfg));
	rc = steps_run(&c, steps, n, q, typed_context ? kcfg_name(nb->cfg) : NULL, &e);
	if (c.json) {
		json_object_object_add(c.report, "context", json_object_new_string(nb->cfg->context));
		json_object_object_add(c.report, "dryRun", json_object_new_boolean(c.dry_run));
	}
	step_report_end(&c, rc < 0 ? &e : NULL);
	if (rc < 0)
		log_err(&e);
	free(q);
	step_ctx_free(&c);
	nub_close(nb);
	if (rc == 0)
		return 0;
	return e.exit ? e.exit : 1;
}
