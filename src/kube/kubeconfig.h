/* kubeconfig.h: load and resolve kubeconfig files the way client-go does */
#ifndef NUB_KUBECONFIG_H
#define NUB_KUBECONFIG_H

#include <stdbool.h>
#include <stddef.h>

#include "../util/err.h"

/*
 * kubectl's config flags (--server, --user, --as, ...), applied over the
 * kubeconfig as client-go's ConfigOverrides are: a flag replaces the field,
 * an empty or false one changes nothing.  NULL fields mean "not given".
 */
struct kcfg_overrides {
	const char *user;		/* --user: the kubeconfig user entry to use */
	const char *cluster;		/* --cluster: the cluster entry */
	const char *server;		/* -s/--server; clears the file's tls-server-name */
	const char *tls_server_name;
	const char *ca_file;		/* --certificate-authority: replaces the CA and insecure */
	bool insecure;			/* --insecure-skip-tls-verify: clears the CA */
	bool disable_compression;
	const char *token;
	const char *client_cert;	/* files */
	const char *client_key;
	const char *as;
	const char *as_uid;
	char *const *as_groups;		/* NULL-terminated, or NULL */
};

/* What the command line said; NULL fields mean "not given". */
struct kcfg_opts {
	const char *kubeconfig;	/* --kubeconfig: exactly this file, must exist */
	const char *context;	/* --context */
	/*
	 * Where to look when neither --kubeconfig nor KUBECONFIG is set.  NULL
	 * means $HOME/.kube/config.  Tests point it elsewhere.
	 */
	const char *default_path;
	/* Root for in-cluster files; NULL means "/" (tests point it elsewhere). */
	const char *incluster_root;
	struct kcfg_overrides ov;
};

enum kcfg_interactive {
	KCFG_INTERACTIVE_NEVER,
	KCFG_INTERACTIVE_IF_AVAILABLE,
	KCFG_INTERACTIVE_ALWAYS,
};

/* users[].user.exec: an exec credential plugin */
struct kcfg_exec {
	char *command;		/* as written, or resolved against the file's dir if it has a '/' */
	char **args;		/* NULL-terminated, may be NULL */
	char **env;		/* NULL-terminated "NAME=value" list, may be NULL */
	char *api_version;	/* client.authentication.k8s.io/v1 or /v1beta1 */
	char *install_hint;
	bool provide_cluster_info;
	enum kcfg_interactive interactive;
};

/* The resolved connection: one context's cluster and user, merged from all files. */
struct kcfg {
	char *context;		/* the context's name ("" when in-cluster) */
	char *cluster_name;
	char *user_name;
	char *namespace;	/* the context's namespace, or NULL */

	char *server;		/* https://host:port[/prefix], no trailing slash */
	char *server_as_written; /* for KUBERNETES_EXEC_INFO: client-go passes it unchanged */
	char *ca_pem;		/* from certificate-authority-data or the file; NULL = system CAs */
	size_t ca_len;
	char *ca_source;	/* file name or "certificate-authority-data", for messages */
	bool insecure;		/* insecure-skip-tls-verify */
	char *tls_server_name;
	char *proxy_url;
	bool disable_compression;
	char *exec_config;	/* the cluster's extension client.authentication.k8s.io/exec, as JSON */

	char *cert_pem;		/* client certificate, from data or file */
	size_t cert_len;
	char *key_pem;		/* client key (secret) */
	size_t key_len;
	char *token;		/* secret */
	char *token_file;	/* absolute path; re-read on each load of credentials */
	char *username;		/* basic auth */
	char *password;		/* secret */
	char *impersonate;	/* as */
	char *impersonate_uid;	/* as-uid */
	char **impersonate_groups; /* as-groups, NULL-terminated or NULL */
	char **impersonate_extra; /* as-user-extra: key, value, key, value, ..., NULL */
	struct kcfg_exec *exec;	/* NULL unless the user has an exec plugin */
	char *auth_provider;	/* name of a legacy auth-provider (only reported) */

	char *source;		/* the file(s) the config came from, for messages */
	char **contexts;	/* every known context name, sorted, NULL-terminated */
	char *current_context;	/* the merged current-context, or NULL */
};

/*
 * Load the files (--kubeconfig, else KUBECONFIG split on ':', else the
 * default path, else the in-cluster service account), merge them (first file
 * to define a name wins, first non-empty current-context wins), pick the
 * context (--context, else current-context) and resolve it.  Errors name the
 * file and line:column where the YAML says something wrong; an unknown context
 * lists the known ones.
 */
int kcfg_load(const struct kcfg_opts *o, struct kcfg **out, struct err *e);

/*
 * Only the merged list of context names and the current context, without
 * resolving one: for completion, where a broken user entry must not matter.
 */
int kcfg_list_contexts(const struct kcfg_opts *o, char ***names,
    char **current, struct err *e);

/* The merged names of every cluster (users: false) or user (true), sorted: for completion. */
int kcfg_list_entries(const struct kcfg_opts *o, bool users, char ***names, struct err *e);

void kcfg_free(struct kcfg *c);

/*
 * What a confirmation names and asks to type: the context, or the server URL
 * when there is none (in-cluster, or only --server): never an empty string.
 */
const char *kcfg_name(const struct kcfg *c);

/*
 * The proxy to give libcurl for this cluster, as Go's net/http picks it:
 * proxy-url always (socks5 as socks5h: the proxy resolves the name), else
 * HTTPS_PROXY/HTTP_PROXY (upper case first; ALL_PROXY is not read) unless the
 * server is localhost, a loopback address or matched by NO_PROXY (Go's
 * rules); "" means no proxy.  *noproxy is what to set as CURLOPT_NOPROXY:
 * always "", so libcurl applies no rules of its own.  Both are the caller's
 * to free.
 */
void kcfg_proxy(const struct kcfg *c, char **proxy, char **noproxy);

#endif
