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
#include "journal.h"
#include "status.h"
#include "steps.h"

static void
add_err(json_object *o, const struct err *e)
{
	json_object_object_add(o, "error", json_object_new_string(e->msg));
}

static char *ago_of(long long t);

/* "3h12m" from an RFC 3339 timestamp. */
static char *
age(const char *ts)
{
	struct tm tm;

	memset(&tm, 0, sizeof tm);
	if (ts == NULL || strptime(ts, "%Y-%m-%dT%H:%M:%SZ", &tm) == NULL)
		return xstrdup("?");
	return ago_of(timegm(&tm));
}

/*
 * A step's part of the screen: what its inspect finds, as its describe
 * says it, or why it could not look.
 */
static json_object *
step_part(struct run *r, const struct step_ops *ops, void *st)
{
	json_object *o = json_object_new_object();
	struct err e;

	err_clear(&e);
	if (ops->inspect(r, st, &e) < 0)
		add_err(o, &e);
	else
		ops->describe(r, st, o);
	ops->reset(st);
	return o;
}

/* What the last wipe-db and restore-db runs recorded: an interrupted one shows. */
static json_object *
journal_part(struct run *r)
{
	static const char *const wipe[] = { "started", "blocked", "backedUp", "dropped",
	    "restartIssued", "completed", NULL };
	static const char *const restore[] = { "started", "restored", "restartIssued",
	    "completed", NULL };
	json_object *o = json_object_new_object(), *j;
	const char *id;
	char *path;
	struct err e;

	err_clear(&e);
	if ((id = nub_identity(r->n, &e)) == NULL) {
		add_err(o, &e);
		return o;
	}
	path = xasprintf("%s/wipe.json", r->state_dir);
	if ((j = journal_describe(path, id, "wipe", wipe)) != NULL)
		json_object_object_add(o, "wipe", j);
	free(path);
	path = xasprintf("%s/restore.json", r->state_dir);
	if ((j = journal_describe(path, id, "restore", restore)) != NULL)
		json_object_object_add(o, "restore", j);
	free(path);
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
	bool unready = false;

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
		json_add_str(c, "name", jstr(p, "metadata", "name", NULL));
		json_add_str(c, "phase", jstr(p, "status", "phase", NULL));
		json_object_object_add(c, "ready", json_object_new_boolean(ready));
		json_object_object_add(c, "terminating", json_object_new_boolean(
		    jpath(p, "metadata", "deletionTimestamp", NULL) != NULL));
		json_object_object_add(c, "restarts", json_object_new_int64(restarts));
		json_add_str(c, "age", a);
		free(a);
		json_object_array_add(pods, c);
	}
	/* A running but not Ready hub still runs psql: a sick hub is when status matters. */
	if (hub_pick_pod_sick(list, n->ns, true, ready_pod, &unready, &e) < 0) {
		*ready_pod = NULL;
		json_add_str(o, "problem", e.msg);
	} else if (unready) {
		json_add_str(o, "problem", "no hub pod is Ready: the database check ran in a running "
		    "one");
	}
out:
	json_object_object_add(o, "pods", pods);
	json_object_put(list);
	buf_free(&q);
	free(path);
	return o;
}

/* The check's reasons as "type name: detail" lines. */
static json_object *
reasons(const struct db_reason *v, size_t n)
{
	json_object *a = json_object_new_array();

	for (size_t i = 0; i < n; i++) {
		char *line = xasprintf("%s %s: %s", v[i].type, v[i].name, v[i].detail);

		json_object_array_add(a, json_object_new_string(line));
		free(line);
	}
	return a;
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
	json_add_str(o, "url", u->url);
	json_add_str(o, "source", u->source);
	if (!with_db || pod == NULL) {
		if (with_db)
			json_add_str(o, "error", "no Ready hub pod to connect from");
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
		json_object_object_add(o, "refusals", reasons(chk.refusals, chk.n_refusals));
		json_object_object_add(o, "noticeList", reasons(chk.warnings, chk.n_warnings));
		db_check_clear(&chk);
	}
	dburl_free(u);
	return o;
}

json_object *
status_collect(struct nub *n, bool with_db, const char *pod_name)
{
	json_object *st = json_object_new_object();
	char *version = NULL, *pod = NULL;
	struct err e;

	err_clear(&e);
	json_add_str(st, "context", n->cfg->context);
	json_add_str(st, "server", n->cfg->server);
	json_add_str(st, "namespace", n->ns);
	if (kube_server_version(n->kube, &version, &e) < 0) {
		/* Every other part would fail the same way, each after its retries. */
		json_add_str(st, "serverError", e.msg);
		return st;
	}
	json_add_str(st, "serverVersion", version);
	free(version);
	/* A namespace that is not there is no Nublado whose access is "blocked". */
	if (nub_check_namespace(n, &e) < 0) {
		json_add_str(st, "namespaceError", "not found");
		return st;
	}
	err_clear(&e);
	{
		struct run r = { .n = n, .dry_run = true };
		struct block_step block = { 0 };
		struct kill_labs_step labs = { 0 };
		struct unblock_step unblock = { 0 };

		report_init(&r.report, "status", REPORT_NONE);
		if (nub_state_dir(n, NULL, &r.state_dir, &e) < 0) {
			json_add_str(st, "stateError", e.msg);
			r.state_dir = xstrdup("/nonexistent");
		}
		/* The runbook's steps look, as they would before a change; nothing changes. */
		json_object_object_add(st, "access", step_part(&r, &step_block_ops, &block));
		json_object_object_add(st, "labs", step_part(&r, &step_kill_labs_ops, &labs));
		json_object_object_add(st, "hub", hub_part(n, &pod));
		json_object_object_add(st, "database", db_part(n, pod_name ? pod_name : pod,
		    with_db));
		json_object_object_add(st, "argocd", step_part(&r, &step_unblock_ops, &unblock));
		json_object_object_add(st, "journal", journal_part(&r));
		report_free(&r.report);
		free(r.state_dir);
	}
	free(pod);
	return st;
}

/* ---- the screen ---- */

static const char *
paint(bool color, const char *sgr)
{
	return color ? sgr : "";
}

/* "3h12m" for a time in the past. */
static char *
ago_of(long long t)
{
	long s = (long)(time(NULL) - (time_t)t);

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

/* The last run of `cmd', from its journal: finished, or where it stopped. */
static void
print_journal(FILE *f, json_object *j, const char *cmd, const char *bad, const char *off)
{
	const char *stage = jstr(j, "stage", NULL);

	if (j == NULL)
		return;
	if (jstr(j, "error", NULL) != NULL) {
		fprintf(f, "Last %s: ? %s\n", cmd, jstr(j, "error", NULL));
		return;
	}
	if (json_object_get_boolean(jpath(j, "finished", NULL)))
		fprintf(f, "Last %s: finished %s", cmd, jstr(j, "times", "completed", NULL));
	else
		fprintf(f, "Last %s: %sINTERRUPTED%s after '%s' (%s); `kubectl nublado %s` "
		    "finishes it", cmd, bad, off, stage ? stage : "?",
		    stage ? jstr(j, "times", stage, NULL) : "?", cmd);
	if (jstr(j, "backup", NULL) != NULL)
		fprintf(f, "; backup %s", jstr(j, "backup", NULL));
	fputc('\n', f);
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
		fprintf(f, "Access:    %sopen%s (GafaelfawrIngress", ok, off);
		v = jpath(a, "ingresses", NULL);
		for (size_t i = 0; v && i < json_object_array_length(v); i++)
			fprintf(f, "%s%s", i ? ", " : " ",
			    json_object_get_string(json_object_array_get_idx(v, i)));
		fputs(")\n", f);
	}
	if ((v = jpath(a, "savedManifests", NULL)) != NULL) {
		json_object *names = jpath(v, "names", NULL);
		char *ago = ago_of(jint(v, 0, "savedAt", NULL));

		fprintf(f, "           saved by block %s ago:", ago);
		for (size_t i = 0; names && i < json_object_array_length(names); i++)
			fprintf(f, "%s%s", i ? ", " : " ",
			    json_object_get_string(json_object_array_get_idx(names, i)));
		fprintf(f, " (in %s)\n", jstr(v, "dir", NULL));
		free(ago);
	}

	if (jstr(l, "error", NULL))
		fprintf(f, "Labs:      %s?%s %s\n", warn, off, jstr(l, "error", NULL));
	else
		fprintf(f, "Labs:      %lld active, %lld terminating (%s-* labelled lab)\n",
		    jint(l, 0, "active", NULL), jint(l, 0, "terminating", NULL),
		    jstr(l, "prefix", NULL));
	v = jpath(l, "terminatingNames", NULL);
	for (size_t i = 0; v && i < json_object_array_length(v) && i < 10; i++)
		fprintf(f, "           %sterminating:%s %s\n", warn, off,
		    json_object_get_string(json_object_array_get_idx(v, i)));

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
	if (jstr(h, "problem", NULL))
		fprintf(f, "           %s%s%s\n", warn, jstr(h, "problem", NULL), off);

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
	v = jpath(d, "refusals", NULL);
	for (size_t i = 0; v && i < json_object_array_length(v); i++)
		fprintf(f, "           %srefuses:%s %s\n", bad, off,
		    json_object_get_string(json_object_array_get_idx(v, i)));

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
		v = jpath(g, "outOfSync", NULL);
		if (v != NULL && json_object_array_length(v) > 0) {
			fprintf(f, "           out of sync besides the ingresses:");
			for (size_t i = 0; i < json_object_array_length(v); i++)
				fprintf(f, " %s", json_object_get_string(json_object_array_get_idx(v, i)));
			fputc('\n', f);
		}
	}
	print_journal(f, jpath(st, "journal", "wipe", NULL), "wipe-db", bad, off);
	print_journal(f, jpath(st, "journal", "restore", NULL), "restore-db", bad, off);
}
