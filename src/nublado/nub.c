/* nub.c: resolve context and namespace once, up front */
#include <stdlib.h>

#include "../kube/url.h"
#include "../util/jsonout.h"
#include "../util/statedir.h"
#include "../util/xalloc.h"
#include "hubpod.h"
#include "nub.h"

int
nub_open(const struct nub_opts *o, struct nub **out, struct err *e)
{
	struct kcfg_opts ko = { .kubeconfig = o->kubeconfig, .context = o->context,
	    .ov = o->ov };
	struct kube_opts kopts = { .request_timeout_ms = o->request_timeout_ms };
	struct nub *n = xcalloc(1, sizeof *n);

	*out = NULL;
	n->opts = o;
	if (kcfg_load(&ko, &n->cfg, e) < 0) {
		free(n);
		return -1;
	}
	if (kube_open(n->cfg, &kopts, &n->kube, e) < 0) {
		nub_close(n);
		return -1;
	}
	/*
	 * The Nublado namespace is not the context's namespace: a context
	 * pointing at some other namespace must not move the hub.
	 */
	n->ns = o->namespace != NULL ? o->namespace : NUB_DEFAULT_NAMESPACE;
	*out = n;
	return 0;
}

void
nub_close(struct nub *n)
{
	if (n == NULL)
		return;
	hubpod_delete(n);
	kube_close(n->kube);
	free(n->identity);
	free(n->cluster_uid);
	kcfg_free(n->cfg);
	free(n);
}

const char *
nub_identity(struct nub *n, struct err *e)
{
	json_object *ns = NULL;
	struct err ge;

	if (n->identity != NULL)
		return n->identity;
	err_clear(&ge);
	if (kube_get(n->kube, "/api/v1/namespaces/kube-system", NULL, &ns, &ge) == 0) {
		const char *uid = jstr(ns, "metadata", "uid", NULL);

		if (uid != NULL && *uid != '\0')
			n->cluster_uid = xstrdup(uid);
		json_object_put(ns);
	} else if (ge.http != 403 && ge.http != 404) {
		/* Not a question of rights: the cluster cannot be told apart. */
		if (e != NULL)
			*e = ge;
		err_prefix(e, "cannot tell which cluster this is (namespace kube-system)");
		return NULL;
	}
	n->identity = xasprintf("server=%s namespace=%s uid=%s", n->cfg->server, n->ns,
	    n->cluster_uid ? n->cluster_uid : "-");
	return n->identity;
}

int
nub_state_dir(struct nub *n, const char *sub, char **out, struct err *e)
{
	const char *id = nub_identity(n, e);
	char *name;
	int rc;

	if (id == NULL)
		return -1;
	name = statedir_name(n->cfg->context, id);
	rc = statedir(name, sub, out, e);
	free(name);
	return rc;
}

int
nub_server_version(struct nub *n, char **git_version, struct err *e)
{
	return kube_server_version(n->kube, git_version, e);
}

int
nub_check_namespace(struct nub *n, struct err *e)
{
	char *path = kube_path("/api/v1/namespaces/%s", n->ns);
	json_object *ns = NULL;
	int rc = kube_get(n->kube, path, NULL, &ns, e);

	free(path);
	json_object_put(ns);
	if (rc < 0 && e->http == 404) {
		err_set(e, "namespace '%s' not found on context '%s'", n->ns, n->cfg->context);
		err_hint(e, "Nublado lives in namespace 'nublado' unless -n says otherwise; "
		    "kubectl get ns lists them");
		return -1;
	}
	/* Anything else (no right to get namespaces, a proxy's page) the steps meet and say. */
	err_clear(e);
	return 0;
}
