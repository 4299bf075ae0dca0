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
	char *identity;			/* see nub_identity(); NULL until asked */
	char *cluster_uid;		/* kube-system's UID; NULL if unreadable */
	/*
	 * The pod made to exec psql in while no hub container runs (hubpod.h);
	 * nub_close deletes it.  With dry_run none is made: temp_pod_planned
	 * says a real run would make one (a plan may say so).
	 */
	char *temp_pod;
	bool dry_run;			/* set by a command's --dry-run, before the pod is looked for */
	bool temp_pod_planned;
};

/* Load the kubeconfig and open a client; the Nublado namespace is -n or "nublado". */
int nub_open(const struct nub_opts *o, struct nub **out, struct err *e);
/* Delete the temporary pod, if one was made (even after Ctrl-C), and free. */
void nub_close(struct nub *n);

/*
 * Who this cluster is, as one string: "server=URL namespace=NS uid=UID"
 * with kube-system's UID (every cluster has that namespace, its UID is made
 * when the cluster is), or "uid=-" where the user may not read it.  Asked
 * once per session.  Saved state (journal, manifests, backups) is keyed
 * and checked by it.
 */
const char *nub_identity(struct nub *n, struct err *e);
/* The state directory for this cluster (statedir.h), sub may be NULL. */
int nub_state_dir(struct nub *n, const char *sub, char **out, struct err *e);

/*
 * The Nublado namespace exists: a mistyped -n must not read as "nothing
 * to block" or "no labs".  Only a 404 is an error (saying so); any other
 * failure is left to the steps, which meet it and say it in their words.
 */
int nub_check_namespace(struct nub *n, struct err *e);
/* The API server's gitVersion (GET /version), for `version'. */
int nub_server_version(struct nub *n, char **git_version, struct err *e);

#endif
