/* status.c: read-only inspection of every runbook step's subject */
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "../kube/url.h"
#include "../util/buf.h"
#include "../util/jsonout.h"
#include "../util/xalloc.h"
#include "argocd.h"
#include "db.h"
#include "dburl.h"
#include "hub.h"
#include "ingress.h"
#include "labs.h"
#include "status.h"

static void
add_str(json_object *o, const char *k, const char *v)
{
	if (v != NULL)
		json_object_object_add(o, k, json_object_new_string(v));
}

static void
add_err(json_object *o, const struct err *e)
{
	json_object_object_add(o, "error", json_object_new_string(e->msg));
}

/* "3h12m" from an RFC 3339 timestamp. */
static char *
age(const char *ts)
{
	struct tm tm;
	long s;

	memset(&tm, 0, sizeof tm);
	if (ts == NULL || strptime(ts, "%Y-%m-%dT%H:%M:%SZ", &tm) == NULL)
		return xstrdup("?");
	s = (long)(time(NULL) - timegm(&tm));
	if (s < 0)
		s = 0;
	if (s < 120)
		return xasprintf("%lds", s);
	if (s < 7200)
		return xasprintf("%ldm", s / 60);
	if (s < 172800)
		return xasprintf("%ldh%ldm", s / 3600, s / 60 % 60);
	return xasprintf("%ldd", s / 86400);
}

static json_object *
access_part(struct nub *n)
{
	json_object *o = json_object_new_object(), *names = json_object_new_array();
	struct ingset set;
	struct err e;

	err_clear(&e);
	if (ingress_find(n, &set, &e) < 0) {
		add_err(o, &e);
		json_object_put(names);
		return o;
	}
	for (size_t i = 0; i < set.n; i++)
		json_object_array_add(names, json_object_new_string(
		    jstr(set.items[i], "metadata", "name", NULL)));
	json_object_object_add(o, "blocked", json_object_new_boolean(set.n == 0));
	json_object_object_add(o, "ingresses", names);
	ingset_free(&set);
	return o;
}

static json_object *
labs_part(struct nub *n)
{
	json_object *o = json_object_new_object();
	struct labset set;
	struct err e;
	size_t term = 0;

	err_clear(&e);
	if (labs_select(n, NULL, &set, &e) < 0) {
		add_err(o, &e);
		labset_free(&set);
		return o;
	}
	for (size_t i = 0; i < set.n; i++)
		term += set.labs[i].terminating;
	add_str(o, "prefix", set.prefix);
	json_object_object_add(o, "active", json_object_new_int64((int64_t)(set.n - term)));
	json_object_object_add(o, "terminating", json_object_new_int64((int64_t)term));
	json_object_object_add(o, "skipped", json_object_new_int64((int64_t)set.nskipped));
	labset_free(&set);
	return o;
}

static int
hub_pods(json_object *item, void *arg, struct err *e)
{
	json_object_array_add(arg, json_object_get(item));
	return 0;
}

static json_object *
hub_part(struct nub *n, char **ready_pod)
{
	json_object *o = json_object_new_object(), *pods = json_object_new_array(),
	    *list = json_object_new_array();
	char *path = kube_path("/api/v1/namespaces/%s/pods", n->ns);
	struct buf q = BUF_INIT;
	struct err e;

	err_clear(&e);
	*ready_pod = NULL;
	kube_query_add(&q, "labelSelector", HUB_LABEL_SELECTOR);
	if (kube_list(n->kube, path, q.data, 0, hub_pods, NULL, list, NULL, &e) < 0) {
		add_err(o, &e);
		goto out;
	}
	for (size_t i = 0; i < json_object_array_length(list); i++) {
		json_object *p = json_object_array_get_idx(list, i), *c = json_object_new_object();
		json_object *conds = jpath(p, "status", "conditions", NULL);
		json_object *cs = jpath(p, "status", "containerStatuses", NULL);
		bool ready = false;
		long long restarts = 0;
		char *a = age(jstr(p, "metadata", "creationTimestamp", NULL));

		for (size_t j = 0; conds && j < json_object_array_length(conds); j++) {
			json_object *cd = json_object_array_get_idx(conds, j);

			if (jstr(cd, "type", NULL) && strcmp(jstr(cd, "type", NULL), "Ready") == 0 &&
			    jstr(cd, "status", NULL) && strcmp(jstr(cd, "status", NULL), "True") == 0)
				ready = true;
		}
		for (size_t j = 0; cs && j < json_object_array_length(cs); j++)
			restarts += jint(json_object_array_get_idx(cs, j), 0, "restartCount", NULL);
		add_str(c, "name", jstr(p, "metadata", "name", NULL));
		add_str(c, "phase", jstr(p, "status", "phase", NULL));
		json_object_object_add(c, "ready", json_object_new_boolean(ready));
		json_object_object_add(c, "terminating", json_object_new_boolean(
		    jpath(p, "metadata", "deletionTimestamp", NULL) != NULL));
		json_object_object_add(c, "restarts", json_object_new_int64(restarts));
		add_str(c, "age", a);
		free(a);
		json_object_array_add(pods, c);
	}
	if (hub_pick_pod(list, n->ns, ready_pod, &e) < 0) {
		*ready_pod = NULL;
		add_str(o, "problem", e.msg);
	}
out:
	json_object_object_add(o, "pods", pods);
	json_object_put(list);
	buf_free(&q);
	free(path);
	return o;
}

static json_object *
db_part(struct nub *n, const char *pod, bool with_db)
{
	json_object *o = json_object_new_object();
	struct dburl *u = NULL;
	struct db_check chk;
	struct err e;

	err_clear(&e);
	if (dburl_from_cluster(n, &u, &e) < 0) {
		add_err(o, &e);
		return o;
	}
	add_str(o, "url", u->url);
	add_str(o, "source", u->source);
	if (!with_db || pod == NULL) {
		if (with_db)
			add_str(o, "error", "no Ready hub pod to connect from");
		dburl_free(u);
		return o;
	}
	if (db_preflight(n, pod, u->url, &chk, &e) < 0) {
		json_object_object_add(o, "reachable", json_object_new_boolean(false));
		add_err(o, &e);
	} else {
		json_object *tables = json_object_new_object();
		long long users = -1;

		json_object_object_add(o, "reachable", json_object_new_boolean(true));
		for (size_t i = 0; i < chk.n_tables; i++) {
			json_object_object_add(tables, chk.tables[i].name,
			    json_object_new_int64(chk.tables[i].rows));
			if (strcmp(chk.tables[i].name, "users") == 0)
				users = chk.tables[i].rows;
		}
		json_object_object_add(o, "tables", tables);
		if (users >= 0)
			json_object_object_add(o, "users", json_object_new_int64(users));
		json_object_object_add(o, "safeToDrop", json_object_new_boolean(db_check_ok(&chk)));
		json_object_object_add(o, "notices", json_object_new_int64((int64_t)chk.n_warnings));
		db_check_clear(&chk);
	}
	dburl_free(u);
	return o;
}

static json_object *
argocd_part(struct nub *n)
{
	json_object *o = json_object_new_object(), *app = NULL;
	struct err e;
	const char *running;

	err_clear(&e);
	if (argocd_get(n, &app, &e) < 0) {
		add_err(o, &e);
		return o;
	}
	add_str(o, "sync", jstr(app, "status", "sync", "status", NULL));
	add_str(o, "health", jstr(app, "status", "health", "status", NULL));
	add_str(o, "lastOperation", jstr(app, "status", "operationState", "phase", NULL));
	running = argocd_running(app);
	if (running != NULL)
		add_str(o, "operation", running);
	json_object_object_add(o, "selfHeal", json_object_new_boolean(argocd_self_heal(app)));
	json_object_put(app);
	return o;
}

json_object *
status_collect(struct nub *n, bool with_db)
{
	json_object *st = json_object_new_object();
	char *version = NULL, *pod = NULL;
	struct err e;

	err_clear(&e);
	add_str(st, "context", n->cfg->context);
	add_str(st, "server", n->cfg->server);
	add_str(st, "namespace", n->ns);
	if (kube_server_version(n->kube, &version, &e) < 0) {
		/* Every other part would fail the same way, each after its retries. */
		add_str(st, "serverError", e.msg);
		return st;
	}
	add_str(st, "serverVersion", version);
	free(version);
	{
		/* A namespace that is not there is no Nublado whose access is "blocked". */
		char *path = kube_path("/api/v1/namespaces/%s", n->ns);
		json_object *nso = NULL;
		int rc = kube_get(n->kube, path, NULL, &nso, &e);

		free(path);
		json_object_put(nso);
		if (rc < 0 && e.http == 404) {
			add_str(st, "namespaceError", "not found");
			return st;
		}
		err_clear(&e);
	}
	json_object_object_add(st, "access", access_part(n));
	json_object_object_add(st, "labs", labs_part(n));
	json_object_object_add(st, "hub", hub_part(n, &pod));
	json_object_object_add(st, "database", db_part(n, pod, with_db));
	json_object_object_add(st, "argocd", argocd_part(n));
	free(pod);
	return st;
}

/* ---- the screen ---- */

static const char *
paint(bool color, const char *sgr)
{
	return color ? sgr : "";
}

void
status_print(json_object *st, FILE *f, bool color)
{
	const char *ok = paint(color, "\033[32m"), *bad = paint(color, "\033[1;31m"),
	    *warn = paint(color, "\033[33m"), *off = paint(color, "\033[0m");
	json_object *a = jpath(st, "access", NULL), *l = jpath(st, "labs", NULL),
	    *h = jpath(st, "hub", NULL), *d = jpath(st, "database", NULL),
	    *g = jpath(st, "argocd", NULL), *v;

	fprintf(f, "Context:   %s (%s, %s)\n", jstr(st, "context", NULL),
	    jstr(st, "server", NULL), jstr(st, "serverVersion", NULL) ?
	    jstr(st, "serverVersion", NULL) : jstr(st, "serverError", NULL));
	fprintf(f, "Namespace: %s\n", jstr(st, "namespace", NULL));

	if (jstr(a, "error", NULL))
		fprintf(f, "Access:    %s?%s %s\n", warn, off, jstr(a, "error", NULL));
	else if (json_object_get_boolean(jpath(a, "blocked", NULL)))
		fprintf(f, "Access:    %sBLOCKED%s (no GafaelfawrIngress routes to proxy-public)\n",
		    bad, off);
	else {
		fprintf(f, "Access:    %sopen%s via", ok, off);
		v = jpath(a, "ingresses", NULL);
		for (size_t i = 0; v && i < json_object_array_length(v); i++)
			fprintf(f, " %s", json_object_get_string(json_object_array_get_idx(v, i)));
		fputc('\n', f);
	}

	if (jstr(l, "error", NULL))
		fprintf(f, "Labs:      %s?%s %s\n", warn, off, jstr(l, "error", NULL));
	else
		fprintf(f, "Labs:      %lld active, %lld terminating (%s-* labelled lab)\n",
		    jint(l, 0, "active", NULL), jint(l, 0, "terminating", NULL),
		    jstr(l, "prefix", NULL));

	v = jpath(h, "pods", NULL);
	if (jstr(h, "error", NULL))
		fprintf(f, "Hub:       %s?%s %s\n", warn, off, jstr(h, "error", NULL));
	else if (v == NULL || json_object_array_length(v) == 0)
		fprintf(f, "Hub:       %sno hub pod%s\n", bad, off);
	for (size_t i = 0; v && i < json_object_array_length(v); i++) {
		json_object *p = json_object_array_get_idx(v, i);
		bool ready = json_object_get_boolean(jpath(p, "ready", NULL));

		fprintf(f, "%s%s %s%s%s%s, %lld restarts, age %s\n", i ? "           " : "Hub:       ",
		    jstr(p, "name", NULL), ready ? ok : bad, ready ? "Ready" : "not Ready", off,
		    json_object_get_boolean(jpath(p, "terminating", NULL)) ? " (terminating)" : "",
		    jint(p, 0, "restarts", NULL), jstr(p, "age", NULL));
	}

	fprintf(f, "Database:  %s", jstr(d, "url", NULL) ? jstr(d, "url", NULL) : "?");
	if (jpath(d, "reachable", NULL) != NULL) {
		bool up = json_object_get_boolean(jpath(d, "reachable", NULL));

		fprintf(f, " %s%s%s", up ? ok : bad, up ? "reachable" : "unreachable", off);
		if (up) {
			json_object *t = jpath(d, "tables", NULL);

			fprintf(f, ", %d JupyterHub tables", t ? json_object_object_length(t) : 0);
			if (jpath(d, "users", NULL))
				fprintf(f, ", %lld users", jint(d, 0, "users", NULL));
			if (!json_object_get_boolean(jpath(d, "safeToDrop", NULL)))
				fprintf(f, ", %snot safe to drop%s (see wipe-db --dry-run)", bad, off);
			else if (jint(d, 0, "notices", NULL) > 0)
				fprintf(f, ", %lld notice%s (see wipe-db --dry-run)",
				    jint(d, 0, "notices", NULL), jint(d, 0, "notices", NULL) == 1 ? "" : "s");
		}
	}
	fputc('\n', f);
	if (jstr(d, "error", NULL))
		fprintf(f, "           %s%s%s\n", warn, jstr(d, "error", NULL), off);

	if (jstr(g, "error", NULL))
		fprintf(f, "Argo CD:   %s?%s %s\n", warn, off, jstr(g, "error", NULL));
	else {
		fprintf(f, "Argo CD:   sync %s, health %s", jstr(g, "sync", NULL) ?
		    jstr(g, "sync", NULL) : "?", jstr(g, "health", NULL) ?
		    jstr(g, "health", NULL) : "?");
		if (jstr(g, "operation", NULL))
			fprintf(f, ", %soperation %s%s", warn, jstr(g, "operation", NULL), off);
		if (json_object_get_boolean(jpath(g, "selfHeal", NULL)))
			fprintf(f, ", %sselfHeal on (would undo a block)%s", warn, off);
		fputc('\n', f);
	}
}
