/* step-block.c: runbook step 1: block user access (delete the hub's GafaelfawrIngresses) */
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "../util/exitcode.h"
#include "../util/jsonout.h"
#include "../util/log.h"
#include "../util/sig.h"
#include "../util/file.h"
#include "../util/xalloc.h"
#include "argocd.h"
#include "hub.h"
#include "steps.h"

static int
block_inspect(struct run *r, void *st, struct err *e)
{
	struct block_step *s = st;
	json_object *app = NULL;
	struct err ae;

	if (ingress_find(r->n, &s->set, e) < 0)
		return -1;
	err_clear(&ae);
	if (argocd_get(r->n, &app, &ae) == 0) {
		s->self_heal = argocd_self_heal(app);
		json_object_put(app);
	} else if (ae.http == 404) {
		s->no_app = true;
	} else {
		log_debug(LOG_STEPS, "cannot read the Argo CD Application: %s", ae.msg);
	}
	s->dir = xasprintf("%s/ingresses", r->state_dir);
	return 0;
}

static int
block_plan(struct run *r, void *st, struct buf *out, bool *empty, struct err *e)
{
	struct block_step *s = st;
	json_object *rep = report_section(&r->report, "block");
	json_object *names = json_object_new_array();

	if (s->self_heal && s->set.n > 0 && !s->ignore_self_heal) {
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
		    "routes to %s or to lab creation\n", r->n->ns, HUB_SERVICE);
	} else {
		buf_printf(out, "  block user access: delete %zu GafaelfawrIngress(es) in '%s' "
		    "routing to %s or to lab creation:", s->set.n, r->n->ns, HUB_SERVICE);
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
	json_object_object_add(rep, "ingresses", names);
	json_object_object_add(rep, "selfHealWarning", json_object_new_boolean(s->self_heal));
	return 0;
}

static int
block_apply(struct run *r, void *st, struct err *e)
{
	struct block_step *s = st;

	if (s->set.n == 0)
		return 0;
	if (!r->dry_run) {
		/* The manifests on disk before the first delete: the way back without Argo CD. */
		if (mkdir_p(s->dir, e) < 0 || ingress_save(&s->set, s->dir, e) < 0)
			return -1;
		json_object_object_add(report_section(&r->report, "block"), "savedTo",
		    json_object_new_string(s->dir));
	}
	return ingress_delete(r->n, &s->set, r->dry_run, e);
}

static int
block_wait(struct run *r, void *st, struct err *e)
{
	struct block_step *s = st;

	if (s->set.n == 0 || r->dry_run)
		return 0;
	s->blocked_ms = now_ms();
	return ingress_wait_generated_gone(r->n, &s->set, r->timeout_ms, e);
}

static void
block_result(struct run *r, void *st, struct buf *out)
{
	struct block_step *s = st;

	if (s->set.n == 0)
		buf_printf(out, "access was already blocked");
	else
		buf_printf(out, "blocked: deleted %zu GafaelfawrIngress(es), manifests in %s",
		    s->set.n, s->dir);
}

/* status: access, and the manifests a block saved (the way back without Argo CD). */
static void
block_describe(struct run *r, void *st, json_object *into)
{
	struct block_step *s = st;
	json_object *names = json_object_new_array(), **saved = NULL;
	size_t nsaved = 0;
	struct err e;

	for (size_t i = 0; i < s->set.n; i++)
		json_object_array_add(names, json_object_new_string(
		    jstr(s->set.items[i], "metadata", "name", NULL)));
	json_object_object_add(into, "blocked", json_object_new_boolean(s->set.n == 0));
	json_object_object_add(into, "ingresses", names);
	json_object_object_add(into, "selfHeal", json_object_new_boolean(s->self_heal));
	err_clear(&e);
	if (ingress_saved(s->dir, &saved, &nsaved, &e) == 0 && nsaved > 0) {
		json_object *m = json_object_new_object(), *list = json_object_new_array();
		struct stat sb;

		for (size_t i = 0; i < nsaved; i++) {
			json_object_array_add(list, json_object_new_string(
			    jstr(saved[i], "metadata", "name", NULL)));
			json_object_put(saved[i]);
		}
		json_object_object_add(m, "dir", json_object_new_string(s->dir));
		json_object_object_add(m, "names", list);
		if (stat(s->dir, &sb) == 0)
			json_object_object_add(m, "savedAt", json_object_new_int64(sb.st_mtime));
		json_object_object_add(into, "savedManifests", m);
	}
	free(saved);
}

static void
block_reset(void *st)
{
	struct block_step *s = st;

	ingset_free(&s->set);
	free(s->dir);
	s->dir = NULL;
	s->self_heal = s->no_app = false;
}

const struct step_ops step_block_ops = {
	.name = "block", .title = "block user access",
	.inspect = block_inspect, .plan = block_plan, .apply = block_apply,
	.wait = block_wait, .result = block_result, .reset = block_reset,
	.describe = block_describe, .access = +1, .server_dry_run = true,
};
