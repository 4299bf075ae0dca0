/* nub.h: one resolved session: context, namespace, options, client (made once, passed down) */
#ifndef NUB_NUB_H
#define NUB_NUB_H

#include <stdbool.h>

#include "../kube/client.h"
#include "../kube/kubeconfig.h"
#include "../util/err.h"

/* The global options as parsed on the command line. */
struct nub_opts {
	const char *kubeconfig;
	const char *context;
	const char *namespace;		/* the Nublado namespace; NULL = default */
	long request_timeout_ms;
	int verbosity;
	bool color_out;			/* colour on stdout */
	bool color_err;			/* colour on stderr */
	bool out_tty;			/* stdout is a terminal */
	bool err_tty;			/* stderr is a terminal */
	struct kcfg_overrides ov;	/* kubectl's config flags: --server, --user, --as, ... */
};

#define NUB_DEFAULT_NAMESPACE "nublado"

struct nub {
	const struct nub_opts *opts;
	struct kcfg *cfg;
	struct kube *kube;
	const char *ns;			/* the Nublado namespace */
};

/* Load the kubeconfig and open a client; the Nublado namespace is -n or "nublado". */
int nub_open(const struct nub_opts *o, struct nub **out, struct err *e);
void nub_close(struct nub *n);

#endif
