/* ingress.c: find, save, delete and restore the hub's GafaelfawrIngresses */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "../kube/url.h"
#include "../util/exitcode.h"
#include "../util/jsonout.h"
#include "../util/log.h"
#include "../util/buf.h"
#include "../util/sig.h"
#include "../util/file.h"
#include "../util/xalloc.h"
#include "ingress.h"

#define GAF_PATH "/apis/" GAF_GROUP "/" GAF_VERSION "/namespaces/%s/" GAF_PLURAL

/* Whether any of gi's template rules has an HTTP path for which match is true. */
static bool
any_path(json_object *gi, bool (*match)(json_object *path))
{
	json_object *rules = jpath(gi, "template", "spec", "rules", NULL);

	if (rules == NULL || !json_object_is_type(rules, json_type_array))
		return false;
	for (size_t i = 0; i < json_object_array_length(rules); i++) {
		json_object *paths = jpath(json_object_array_get_idx(rules, i), "http",
		    "paths", NULL);

		if (paths == NULL || !json_object_is_type(paths, json_type_array))
			continue;
		for (size_t j = 0; j < json_object_array_length(paths); j++)
			if (match(json_object_array_get_idx(paths, j)))
				return true;
	}
	return false;
}

static bool
to_hub(json_object *path)
{
	const char *svc = jstr(path, "backend", "service", "name", NULL);

	return svc != NULL && strcmp(svc, HUB_SERVICE) == 0;
}

static bool
lab_create(json_object *path)
{
	const char *p = jstr(path, "path", NULL);
	size_t n = p ? strlen(p) : 0;

	return p != NULL && strstr(p, "/spawner/v1/labs/") != NULL && n > 7 &&
	    strcmp(p + n - 7, "/create") == 0;
}

bool
ingress_routes_to_hub(json_object *gi)
{
	return any_path(gi, to_hub);
}

bool
ingress_creates_labs(json_object *gi)
{
	return any_path(gi, lab_create);
}

static int
collect(json_object *item, void *arg, struct err *e)
{
	struct ingset *set = arg;

	if (ingress_routes_to_hub(item) || ingress_creates_labs(item)) {
		set->items = xrealloc(set->items, (set->n + 1) * sizeof *set->items);
		set->items[set->n++] = json_object_get(item);
	} else {
		set->others = strv_push(set->others, jstr(item, "metadata", "name", NULL));
	}
	return 0;
}

static void
collect_reset(void *arg)
{
	struct ingset *set = arg;

	ingset_free(set);
}

int
ingress_find(struct nub *n, struct ingset *set, struct err *e)
{
	char *path = kube_path(GAF_PATH, n->ns);
	int rc;

	memset(set, 0, sizeof *set);
	rc = kube_list(n->kube, path, NULL, 500, collect, collect_reset, set, NULL, e);
	free(path);
	if (rc < 0)
		return err_prefix(e, "listing GafaelfawrIngresses in namespace '%s'", n->ns);
	return 0;
}

void
ingset_free(struct ingset *set)
{
	for (size_t i = 0; i < set->n; i++)
		json_object_put(set->items[i]);
	free(set->items);
	strv_free(set->others);
	memset(set, 0, sizeof *set);
}

/* What the server set, which a create must not carry. */
static json_object *
clean_manifest(json_object *gi)
{
	static const char *const drop[] = { "uid", "resourceVersion", "creationTimestamp",
	    "generation", "managedFields", "selfLink", "deletionTimestamp",
	    "deletionGracePeriodSeconds", "ownerReferences", NULL };
	json_object *copy = NULL, *meta;

	json_object_deep_copy(gi, &copy, NULL);
	json_object_object_del(copy, "status");
	meta = jpath(copy, "metadata", NULL);
	for (int i = 0; meta != NULL && drop[i] != NULL; i++)
		json_object_object_del(meta, drop[i]);
	return copy;
}

int
ingress_save(const struct ingset *set, const char *dir, struct err *e)
{
	for (size_t i = 0; i < set->n; i++) {
		const char *name = jstr(set->items[i], "metadata", "name", NULL);
		json_object *m;
		struct buf text = BUF_INIT;
		char *path;
		int rc;

		/* The name becomes a file name: a server's "../x" must not. */
		if (name == NULL || *name == '\0' || *name == '.' || strchr(name, '/') != NULL)
			return err_set(e, "GafaelfawrIngress with an invalid name '%s'",
			    name ? name : "");
		m = clean_manifest(set->items[i]);
		buf_puts(&text, json_object_to_json_string_ext(m, JSON_C_TO_STRING_PRETTY |
		    JSON_C_TO_STRING_NOSLASHESCAPE));
		buf_puts(&text, "\n");
		path = xasprintf("%s/%s.json", dir, name);
		rc = file_write_atomic(path, text.data, text.len, e);
		if (rc == 0)
			log_debug(LOG_STEPS, "saved %s", path);
		else
			err_prefix(e, "cannot save manifest");
		free(path);
		buf_free(&text);
		json_object_put(m);
		if (rc < 0)
			return -1;
	}
	return 0;
}

int
ingress_delete(struct nub *n, const struct ingset *set, bool dry_run, struct err *e)
{
	for (size_t i = 0; i < set->n; i++) {
		const char *name = jstr(set->items[i], "metadata", "name", NULL);
		char *base = kube_path(GAF_PATH, n->ns);
		char *seg = kube_escape(name);
		char *path = xasprintf("%s/%s", base, seg);
		struct err de;

		err_clear(&de);
		free(base);
		free(seg);
		if (kube_delete(n->kube, path, dry_run, NULL, &de) < 0 && de.http != 404) {
			*e = de;
			free(path);
			return err_prefix(e, "deleting GafaelfawrIngress '%s'", name);
		}
		free(path);
	}
	return 0;
}

struct gen_ctx {
	char *const *names;
	size_t count;
};

static int
count_generated(json_object *item, void *arg, struct err *e)
{
	struct gen_ctx *c = arg;
	json_object *owners = jpath(item, "metadata", "ownerReferences", NULL);
	const char *name = jstr(item, "metadata", "name", NULL);

	for (char *const *p = c->names; p != NULL && *p != NULL; p++) {
		bool owned = false;

		for (size_t i = 0; owners != NULL && i < json_object_array_length(owners); i++) {
			json_object *o = json_object_array_get_idx(owners, i);
			const char *kind = jstr(o, "kind", NULL), *oname = jstr(o, "name", NULL);

			if (kind && oname && strcmp(kind, "GafaelfawrIngress") == 0 &&
			    strcmp(oname, *p) == 0)
				owned = true;
		}
		if (owned || (name != NULL && strcmp(name, *p) == 0)) {
			c->count++;
			break;
		}
	}
	return 0;
}

int
ingress_generated_count(struct nub *n, char *const *names, size_t *count,
    struct err *e)
{
	struct gen_ctx c = { names, 0 };
	char *path = kube_path("/apis/networking.k8s.io/v1/namespaces/%s/ingresses", n->ns);
	int rc = kube_list(n->kube, path, NULL, 500, count_generated, NULL, &c, NULL, e);

	free(path);
	*count = c.count;
	return rc;
}

int
ingress_wait_generated_gone(struct nub *n, const struct ingset *set, long timeout_ms,
    struct err *e)
{
	char **names = NULL;
	long long deadline = now_ms() + (timeout_ms > 0 ? timeout_ms : 120000);
	size_t count = 0;
	int rc = 0;

	for (size_t i = 0; i < set->n; i++)
		names = strv_push(names, jstr(set->items[i], "metadata", "name", NULL));
	/* Garbage collection takes a moment; a short poll is the simple honest wait. */
	for (;;) {
		if (ingress_generated_count(n, names, &count, e) < 0) {
			rc = -1;
			break;
		}
		if (count == 0)
			break;
		if (now_ms() >= deadline) {
			err_set(e, "%zu generated Ingress(es) still exist after their "
			    "GafaelfawrIngresses were deleted", count);
			err_hint(e, "check the garbage collector: kubectl get ingress -n %s", n->ns);
			rc = -1;
			break;
		}
		if (!sleep_ms(250)) {
			rc = err_interrupted(e, "interrupted");
			break;
		}
	}
	strv_free(names);
	return rc;
}

static int
cmp_name(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

int
ingress_saved(const char *dir, json_object ***items, size_t *n, struct err *e)
{
	DIR *d = opendir(dir);
	struct dirent *de;
	char **files = NULL;

	*items = NULL;
	*n = 0;
	if (d == NULL) {
		if (errno == ENOENT)
			return 0;
		return err_set(e, "cannot read '%s': %s", dir, strerror(errno));
	}
	while ((de = readdir(d)) != NULL) {
		size_t l = strlen(de->d_name);

		if (de->d_name[0] != '.' && l > 5 && strcmp(de->d_name + l - 5, ".json") == 0)
			files = strv_push(files, de->d_name);
	}
	closedir(d);
	if (files == NULL)
		return 0;
	qsort(files, strv_len(files), sizeof *files, cmp_name);
	for (char **f = files; *f != NULL; f++) {
		char *path = xasprintf("%s/%s", dir, *f);
		json_object *o = json_object_from_file(path);

		if (o == NULL || jstr(o, "metadata", "name", NULL) == NULL) {
			err_set(e, "saved manifest '%s' is not a GafaelfawrIngress (%s)", path,
			    json_util_get_last_err() ? json_util_get_last_err() : "no metadata.name");
			json_object_put(o);
			free(path);
			for (size_t i = 0; i < *n; i++)
				json_object_put((*items)[i]);
			free(*items);
			*items = NULL;
			*n = 0;
			strv_free(files);
			return -1;
		}
		*items = xrealloc(*items, (*n + 1) * sizeof **items);
		(*items)[(*n)++] = o;
		free(path);
	}
	strv_free(files);
	return 0;
}

int
ingress_restore(struct nub *n, json_object **items, size_t count, bool dry_run,
    size_t *created, struct err *e)
{
	char *path = kube_path(GAF_PATH, n->ns);

	*created = 0;
	for (size_t i = 0; i < count; i++) {
		json_object *m = items[i], *meta = jpath(m, "metadata", NULL);
		struct err ce;

		/* Always into the Nublado namespace we were told, whatever the file says. */
		json_object_object_add(meta, "namespace", json_object_new_string(n->ns));
		err_clear(&ce);
		if (kube_create(n->kube, path, m, dry_run, NULL, &ce) < 0) {
			if (ce.http == 409)
				continue;	/* AlreadyExists: nothing to do */
			*e = ce;
			free(path);
			return err_prefix(e, "recreating GafaelfawrIngress '%s'",
			    jstr(m, "metadata", "name", NULL));
		}
		(*created)++;
	}
	free(path);
	return 0;
}
