/* nub.c: resolve context and namespace once, up front */
#include <stdlib.h>

#include "../util/xalloc.h"
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
	kube_close(n->kube);
	kcfg_free(n->cfg);
	free(n);
}
