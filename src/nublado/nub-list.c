/* nub-list.c: names for shell completion, read as the command line would select them */
#include <stdlib.h>

#include "../util/xalloc.h"
#include "nub-list.h"

/* The kubeconfig (and overrides) these options name, as nub_open reads it. */
static struct kcfg_opts
kcfg_opts_of(const struct nub_opts *o)
{
	struct kcfg_opts ko = { .kubeconfig = o->kubeconfig, .context = o->context, .ov = o->ov };

	return ko;
}

int
nub_list_contexts(const struct nub_opts *o, char ***names, char **current, struct err *e)
{
	struct kcfg_opts ko = kcfg_opts_of(o);

	return kcfg_list_contexts(&ko, names, current, e);
}

int
nub_list_entries(const struct nub_opts *o, bool users, char ***names, struct err *e)
{
	struct kcfg_opts ko = kcfg_opts_of(o);

	return kcfg_list_entries(&ko, users, names, e);
}

static void
names_reset(void *arg)
{
	char ***names = arg;

	/* The list started over: what came before is in it again. */
	strv_free(*names);
	*names = NULL;
}

static int
names_add(json_object *item, void *arg, struct err *e)
{
	char ***names = arg;
	json_object *md, *name;

	if (json_object_object_get_ex(item, "metadata", &md) &&
	    json_object_object_get_ex(md, "name", &name))
		*names = strv_push(*names, json_object_get_string(name));
	return 0;
}

int
nub_list_namespaces(const struct nub_opts *o, char ***names, struct err *e)
{
	struct kcfg_opts ko = kcfg_opts_of(o);
	struct kube_opts kopts = { .request_timeout_ms = o->request_timeout_ms };
	struct kcfg *cfg = NULL;
	struct kube *k = NULL;
	int rc = -1;

	*names = NULL;
	if (kcfg_load(&ko, &cfg, e) < 0 || kube_open(cfg, &kopts, &k, e) < 0)
		goto out;
	rc = kube_list(k, "/api/v1/namespaces", NULL, 500, names_add, names_reset, names, NULL, e);
	if (rc < 0)
		names_reset(names);
out:
	kube_close(k);
	kcfg_free(cfg);
	return rc;
}

char *
nub_list_context(const struct nub_opts *o)
{
	struct kcfg_opts ko = kcfg_opts_of(o);
	struct kcfg *cfg = NULL;
	char *context = NULL;
	struct err e;

	err_clear(&e);
	if (o->context != NULL)
		context = xstrdup(o->context);
	else if (kcfg_load(&ko, &cfg, &e) == 0 && cfg->context != NULL)
		context = xstrdup(cfg->context);
	kcfg_free(cfg);
	return context;
}
