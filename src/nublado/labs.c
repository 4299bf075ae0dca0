/* labs.c: select user labs by name AND label; delete in parallel; watch them go */
#include <stdlib.h>
#include <string.h>

#include <libfyaml.h>

#include "../kube/url.h"
#include "../util/buf.h"
#include "../util/jsonout.h"
#include "../util/log.h"
#include "../util/progress.h"
#include "../util/sig.h"
#include "../util/xalloc.h"
#include "../util/yaml.h"
#include "labs.h"

#define CONTROLLER_CONFIGMAP "nublado-controller-config"

int
labs_prefix(struct nub *n, char **prefix, struct err *e)
{
	char *path = kube_path("/api/v1/namespaces/%s/configmaps/%s", n->ns,
	    CONTROLLER_CONFIGMAP);
	json_object *cm = NULL;
	const char *yaml;
	struct yaml_file *f = NULL;
	struct err ge;

	*prefix = NULL;
	err_clear(&ge);
	if (kube_get(n->kube, path, NULL, &cm, &ge) < 0) {
		free(path);
		if (ge.http == 404) {
			/* Older controllers had no ConfigMap; Phalanx's prefix is the default. */
			log_debug(LOG_STEPS, "no ConfigMap %s/%s: lab prefix 'nublado'", n->ns,
			    CONTROLLER_CONFIGMAP);
			*prefix = xstrdup("nublado");
			return 0;
		}
		*e = ge;
		return err_prefix(e, "reading the lab namespace prefix");
	}
	free(path);
	yaml = jstr(cm, "data", "config.yaml", NULL);
	/* yaml_parse: quiet, and never hands libfyaml text that is not UTF-8 (it can hang on it). */
	if (yaml != NULL && yaml_parse("config.yaml", xstrdup(yaml), strlen(yaml), &f, &ge) == 0 &&
	    f->doc != NULL) {
		struct fy_node *v = fy_node_by_path(fy_document_root(f->doc),
		    "/lab/namespacePrefix", FY_NT, FYNWF_DONT_FOLLOW);
		const char *s;
		size_t len;

		if (v != NULL && fy_node_is_scalar(v) &&
		    (s = fy_node_get_scalar(v, &len)) != NULL && len > 0)
			*prefix = xstrndup(s, len);
	}
	yaml_free(f);
	json_object_put(cm);
	if (*prefix == NULL)
		*prefix = xstrdup("nublado");
	if (strchr(*prefix, '/') != NULL || **prefix == '\0') {
		err_set(e, "ConfigMap %s/%s has an invalid lab.namespacePrefix '%s'",
		    n->ns, CONTROLLER_CONFIGMAP, *prefix);
		free(*prefix);
		*prefix = NULL;
		return -1;
	}
	return 0;
}

int
labs_classify(json_object *ns, const char *prefix, const char *nublado_ns,
    const char *user, const char **why)
{
	const char *name = jstr(ns, "metadata", "name", NULL);
	const char *cat = jstr(ns, "metadata", "labels", LAB_CATEGORY_LABEL, NULL);
	const char *ulabel = jstr(ns, "metadata", "labels", LAB_USER_LABEL, NULL);
	size_t pl = strlen(prefix);
	bool by_name, by_label;

	*why = NULL;
	if (name == NULL)
		return 0;
	by_name = strncmp(name, prefix, pl) == 0 && name[pl] == '-' && name[pl + 1] != '\0';
	by_label = cat != NULL && strcmp(cat, "lab") == 0;
	if (user != NULL) {
		/* One user's lab: its name, or its user label, must point at them. */
		bool named = by_name && strcmp(name + pl + 1, user) == 0;
		bool labelled = ulabel != NULL && strcmp(ulabel, user) == 0;

		if (!named && !labelled)
			return 0;
		if (named && !labelled && ulabel != NULL) {
			*why = "its nublado.lsst.io/user label names another user";
			return -1;
		}
	}
	if (strcmp(name, nublado_ns) == 0) {
		if (by_label) {
			*why = "it is the Nublado namespace itself";
			return -1;
		}
		return 0;
	}
	if (by_name && by_label)
		return 1;
	if (by_name) {
		*why = "no label nublado.lsst.io/category=lab";
		return -1;
	}
	if (by_label) {
		*why = "labelled a lab, but its name lacks the lab prefix";
		return -1;
	}
	return 0;
}

struct select_ctx {
	struct labset *set;
	const char *ns;
	const char *user;
};

static int
select_one(json_object *item, void *arg, struct err *e)
{
	struct select_ctx *c = arg;
	struct labset *set = c->set;
	const char *why;
	int k = labs_classify(item, set->prefix, c->ns, c->user, &why);

	if (k == 1) {
		struct lab *l;

		set->labs = xrealloc(set->labs, (set->n + 1) * sizeof *set->labs);
		l = &set->labs[set->n++];
		l->name = xstrdup(jstr(item, "metadata", "name", NULL));
		l->user = xstrdup(jstr(item, "metadata", "labels", LAB_USER_LABEL, NULL));
		l->terminating = jpath(item, "metadata", "deletionTimestamp", NULL) != NULL;
		l->created = jstr(item, "metadata", "creationTimestamp", NULL) ?
		    xstrdup(jstr(item, "metadata", "creationTimestamp", NULL)) : NULL;
		l->phase = xstrdup(jstr(item, "status", "phase", NULL) ? jstr(item, "status", "phase",
		    NULL) : (l->terminating ? "Terminating" : "Active"));
	} else if (k < 0) {
		struct lab_skip *s;

		set->skipped = xrealloc(set->skipped, (set->nskipped + 1) * sizeof *set->skipped);
		s = &set->skipped[set->nskipped++];
		s->name = xstrdup(jstr(item, "metadata", "name", NULL));
		s->why = xstrdup(why);
	}
	return 0;
}

static void
set_clear_items(struct labset *set)
{
	for (size_t i = 0; i < set->n; i++) {
		free(set->labs[i].name);
		free(set->labs[i].user);
		free(set->labs[i].created);
		free(set->labs[i].phase);
	}
	for (size_t i = 0; i < set->nskipped; i++) {
		free(set->skipped[i].name);
		free(set->skipped[i].why);
	}
	free(set->labs);
	free(set->skipped);
	set->labs = NULL;
	set->skipped = NULL;
	set->n = set->nskipped = 0;
}

static void
select_reset(void *arg)
{
	set_clear_items(((struct select_ctx *)arg)->set);
}

static int
cmp_lab(const void *a, const void *b)
{
	return strcmp(((const struct lab *)a)->name, ((const struct lab *)b)->name);
}

int
labs_select(struct nub *n, const char *user, struct labset *set, struct err *e)
{
	struct select_ctx c = { set, n->ns, user };

	memset(set, 0, sizeof *set);
	if (labs_prefix(n, &set->prefix, e) < 0)
		return -1;
	/*
	 * All namespaces, not a label-selected list: a namespace that matches
	 * only by name must be reported as skipped, not silently ignored.
	 */
	if (kube_list(n->kube, "/api/v1/namespaces", NULL, 500, select_one,
	    select_reset, &c, &set->rv, e) < 0)
		return err_prefix(e, "listing namespaces");
	if (set->n > 1)
		qsort(set->labs, set->n, sizeof *set->labs, cmp_lab);
	return 0;
}

void
labset_free(struct labset *set)
{
	set_clear_items(set);
	free(set->prefix);
	free(set->rv);
	memset(set, 0, sizeof *set);
}

struct del_ctx {
	size_t done, deleted, failed;
	struct err first;
	struct progress *p;
};

static void
deleted_one(const struct kube_req *r, struct kube_resp *resp, const struct err *e,
    void *arg)
{
	struct del_ctx *c = arg;

	c->done++;
	if (e == NULL) {
		c->deleted++;
	} else if (e->http == 404) {
		/* Gone already (an earlier run, or the controller): what we wanted. */
	} else {
		if (c->failed++ == 0)
			c->first = *e;
		log_error("deleting %s: %s", r->path, e->msg);
	}
	progress_set(c->p, c->done, NULL);
}

int
labs_delete(struct nub *n, const struct labset *set, int parallel, bool dry_run,
    bool tty, size_t *deleted, struct err *e)
{
	struct kube_batch *b = kube_batch_new(n->kube, parallel);
	struct del_ctx c;
	static const char body[] = "{\"propagationPolicy\":\"Background\"}";
	char **paths = xcalloc(set->n + 1, sizeof *paths);
	int rc;

	memset(&c, 0, sizeof c);
	c.p = progress_start(dry_run ? "checking deletes" : "deleting labs", set->n,
	    "namespaces", tty);
	for (size_t i = 0; i < set->n; i++) {
		struct kube_req r = { .method = "DELETE", .content_type = "application/json",
		    .body = body, .body_len = sizeof body - 1, .dry_run = dry_run,
		    .idempotent = true };

		paths[i] = kube_path("/api/v1/namespaces/%s", set->labs[i].name);
		r.path = paths[i];
		kube_batch_add(b, &r, deleted_one, &c);
	}
	rc = kube_batch_run(b, e);
	kube_batch_free(b);
	strv_free(paths);
	progress_end(c.p, NULL);
	if (deleted != NULL)
		*deleted = c.deleted;
	if (rc < 0)
		return -1;
	if (c.failed > 0) {
		*e = c.first;
		err_prefix(e, "%zu of %zu lab deletes failed; the first", c.failed, set->n);
		return -1;
	}
	return 0;
}

/* The names still to go, as a sorted array we strike out. */
struct wait_ctx {
	char **names;
	char **held;		/* what holds each up, from its last event ("finalizers: ...") */
	bool *gone;
	size_t n, left;
	struct progress *p;
};

static long
find_name(struct wait_ctx *w, const char *name)
{
	size_t lo = 0, hi = w->n;

	while (lo < hi) {
		size_t mid = (lo + hi) / 2;
		int c = strcmp(w->names[mid], name);

		if (c == 0)
			return (long)mid;
		if (c < 0)
			lo = mid + 1;
		else
			hi = mid;
	}
	return -1;
}

/* "left: nublado-a (finalizers: ...), nublado-b and 3 more": what is left, by name (few). */
static void
pending_note(struct wait_ctx *w)
{
	struct buf b = BUF_INIT;
	size_t shown = 0;

	for (size_t i = 0; i < w->n; i++) {
		if (w->gone[i])
			continue;
		if (shown < 2)
			buf_printf(&b, "%s%s%s%s%s", shown ? ", " : "left: ", w->names[i],
			    w->held[i] ? " (" : "", w->held[i] ? w->held[i] : "",
			    w->held[i] ? ")" : "");
		shown++;
	}
	if (shown > 2)
		buf_printf(&b, " and %zu more", shown - 2);
	progress_set(w->p, w->n - w->left, b.data);
	buf_free(&b);
}

static void
strike(struct wait_ctx *w, const char *name)
{
	long i = name ? find_name(w, name) : -1;

	if (i >= 0 && !w->gone[i]) {
		w->gone[i] = true;
		w->left--;
		pending_note(w);
	}
}

/*
 * What a terminating namespace waits for, as the progress line says it:
 * its finalizers (spec's: the namespace controller's; metadata's: some
 * other controller's).  NULL when it waits for nothing named.
 */
static char *
holding(json_object *ns)
{
	static const char *const where[][2] = {
		{ "spec", "finalizers" }, { "metadata", "finalizers" },
	};
	struct buf b = BUF_INIT;

	json_object *conds = jpath(ns, "status", "conditions", NULL);

	for (size_t k = 0; k < 2; k++) {
		json_object *fin = jpath(ns, where[k][0], where[k][1], NULL);

		for (size_t i = 0; fin && i < json_object_array_length(fin); i++)
			buf_printf(&b, "%s%s", b.len ? ", " : "finalizers: ",
			    json_object_get_string(json_object_array_get_idx(fin, i)));
	}
	/* The namespace controller's own words for what it waits on inside. */
	for (size_t i = 0; conds && i < json_object_array_length(conds); i++) {
		json_object *c = json_object_array_get_idx(conds, i);
		const char *type = jstr(c, "type", NULL), *msg = jstr(c, "message", NULL);
		const char *st = jstr(c, "status", NULL), *tail;

		if (type == NULL || st == NULL || msg == NULL || strcmp(st, "True") != 0 ||
		    strcmp(type, "NamespaceFinalizersRemaining") != 0)
			continue;
		tail = strstr(msg, "remaining: ");
		buf_printf(&b, "%scontent held by %s", b.len ? "; " : "",
		    tail != NULL ? tail + strlen("remaining: ") : msg);
	}
	return b.len ? buf_detach(&b) : (buf_free(&b), NULL);
}

static void
note_held(struct wait_ctx *w, long i, json_object *ns)
{
	if (i < 0 || jpath(ns, "metadata", "deletionTimestamp", NULL) == NULL)
		return;
	free(w->held[i]);
	w->held[i] = holding(ns);
}

/* A fresh list: whatever lab is not in it is gone. */
static int
still_there(json_object *item, void *arg, struct err *e)
{
	struct wait_ctx *w = arg;
	long i = find_name(w, jstr(item, "metadata", "name", NULL));

	if (i >= 0)
		w->gone[i] = false;
	note_held(w, i, item);
	return 0;
}

static void
mark_all_gone(struct wait_ctx *w)
{
	for (size_t i = 0; i < w->n; i++)
		w->gone[i] = true;
}

static int
on_event(enum kube_event t, json_object *obj, void *arg, struct err *e)
{
	struct wait_ctx *w = arg;

	if (t == KUBE_DELETED) {
		strike(w, jstr(obj, "metadata", "name", NULL));
	} else if (t == KUBE_MODIFIED) {
		long i = find_name(w, jstr(obj, "metadata", "name", NULL));

		if (i >= 0 && !w->gone[i]) {
			note_held(w, i, obj);
			pending_note(w);
		}
	}
	return w->left == 0 ? 1 : 0;
}

static void
describe_stuck(struct nub *n, struct wait_ctx *w, struct err *e)
{
	struct buf b = BUF_INIT;
	size_t shown = 0;

	for (size_t i = 0; i < w->n; i++) {
		char *path;
		json_object *ns = NULL, *fin, *conds;
		struct err ge;

		if (w->gone[i])
			continue;
		if (shown++ == 10) {
			buf_printf(&b, "\n  ... and %zu more", w->left - 10);
			break;
		}
		err_clear(&ge);
		path = kube_path("/api/v1/namespaces/%s", w->names[i]);
		buf_printf(&b, "\n  %s", w->names[i]);
		if (kube_get(n->kube, path, NULL, &ns, &ge) == 0) {
			buf_printf(&b, " (%s)", jstr(ns, "status", "phase", NULL) ?
			    jstr(ns, "status", "phase", NULL) : "?");
			fin = jpath(ns, "spec", "finalizers", NULL);
			if (fin != NULL && json_object_array_length(fin) > 0)
				buf_printf(&b, " finalizers: %s",
				    json_object_to_json_string_ext(fin, JSON_C_TO_STRING_PLAIN));
			fin = jpath(ns, "metadata", "finalizers", NULL);
			if (fin != NULL && json_object_array_length(fin) > 0)
				buf_printf(&b, " metadata.finalizers: %s",
				    json_object_to_json_string_ext(fin, JSON_C_TO_STRING_PLAIN));
			conds = jpath(ns, "status", "conditions", NULL);
			for (size_t j = 0; conds && j < json_object_array_length(conds); j++) {
				json_object *c = json_object_array_get_idx(conds, j);
				const char *st = jstr(c, "status", NULL);

				if (st != NULL && strcmp(st, "True") == 0)
					buf_printf(&b, "\n    %s: %s", jstr(c, "type", NULL),
					    jstr(c, "message", NULL) ? jstr(c, "message", NULL) : "");
			}
		}
		json_object_put(ns);
		free(path);
	}
	err_set(e, "%zu of %zu lab namespaces are still terminating:%s", w->left, w->n,
	    b.data ? b.data : "");
	err_hint(e, "look at the finalizers above (kubectl get ns NAME -o yaml); run the "
	    "command again to keep waiting");
	buf_free(&b);
}

int
labs_wait_gone(struct nub *n, const struct labset *set, long timeout_ms, bool tty,
    struct err *e)
{
	struct wait_ctx w;
	long long deadline = timeout_ms > 0 ? now_ms() + timeout_ms : 0;
	int rc = 0;

	memset(&w, 0, sizeof w);
	w.n = set->n;
	w.names = xcalloc(set->n + 1, sizeof *w.names);
	w.held = xcalloc(set->n + 1, sizeof *w.held);
	w.gone = xcalloc(set->n + 1, sizeof *w.gone);
	for (size_t i = 0; i < set->n; i++)
		w.names[i] = xstrdup(set->labs[i].name);	/* labs are sorted */
	w.p = progress_start("waiting for labs to go", set->n, "gone", tty);
	for (bool first = true; rc == 0; first = false) {
		struct buf q = BUF_INIT;
		char *rv = NULL;
		long left;

		kube_query_add(&q, "labelSelector", LAB_CATEGORY_LABEL "=lab");
		if (first && set->rv != NULL) {
			/*
			 * Watch from the selection's own list: every delete since
			 * then arrives as an event, no second list needed.
			 */
			rv = xstrdup(set->rv);
		} else {
			/* List (what is left, and where to watch from), then watch from there. */
			mark_all_gone(&w);
			if (kube_list(n->kube, "/api/v1/namespaces", q.data, 500, still_there,
			    NULL, &w, &rv, e) < 0) {
				buf_free(&q);
				rc = -1;
				break;
			}
		}
		w.left = 0;
		for (size_t i = 0; i < w.n; i++)
			w.left += !w.gone[i];
		pending_note(&w);
		if (w.left == 0) {
			buf_free(&q);
			free(rv);
			break;
		}
		left = deadline ? (long)(deadline - now_ms()) : 0;
		if (deadline && left <= 0) {
			buf_free(&q);
			free(rv);
			describe_stuck(n, &w, e);
			e->reason = "Timeout";
			rc = -1;
			break;
		}
		rc = kube_watch(n->kube, "/api/v1/namespaces", q.data, rv,
		    deadline ? left : 0, on_event, &w, e);
		buf_free(&q);
		free(rv);
		if (rc == 1) {
			/* Timed out: say exactly who is stuck. */
			describe_stuck(n, &w, e);
			rc = -1;
		} else if (rc < 0 && e->http == 410) {
			/* Our resourceVersion is too old: list again. */
			err_clear(e);
			rc = 0;
		} else if (rc == 0 && w.left == 0) {
			break;
		}
	}
	progress_end(w.p, NULL);
	strv_free(w.names);
	for (size_t i = 0; i < w.n; i++)
		free(w.held[i]);
	free(w.held);
	free(w.gone);
	return rc < 0 ? -1 : 0;
}

json_object *
labset_json(const struct labset *set)
{
	json_object *o = json_object_new_object(), *labs = json_object_new_array(),
	    *skipped = json_object_new_array();

	json_object_object_add(o, "prefix", json_object_new_string(set->prefix ? set->prefix : ""));
	for (size_t i = 0; i < set->n; i++) {
		json_object *l = json_object_new_object();

		json_object_object_add(l, "name", json_object_new_string(set->labs[i].name));
		json_add_str(l, "user", set->labs[i].user);
		json_object_object_add(l, "terminating",
		    json_object_new_boolean(set->labs[i].terminating));
		json_add_str(l, "created", set->labs[i].created);
		json_add_str(l, "phase", set->labs[i].phase);
		json_object_array_add(labs, l);
	}
	for (size_t i = 0; i < set->nskipped; i++) {
		json_object *s = json_object_new_object();

		json_object_object_add(s, "name", json_object_new_string(set->skipped[i].name));
		json_object_object_add(s, "reason", json_object_new_string(set->skipped[i].why));
		json_object_array_add(skipped, s);
	}
	json_object_object_add(o, "labs", labs);
	json_object_object_add(o, "skipped", skipped);
	return o;
}
