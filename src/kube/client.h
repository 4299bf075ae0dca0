/* client.h: the Kubernetes REST client (libcurl + json-c) */
#ifndef NUB_CLIENT_H
#define NUB_CLIENT_H

#include <stdbool.h>
#include <stddef.h>

#include <json-c/json.h>

#include "../util/buf.h"
#include "../util/err.h"
#include "kubeconfig.h"

struct kube;

/*
 * Hard limits on what a server may send: a response body (decoded, so a
 * gzip bomb stops too) and one watch event.  A list page of 500 namespaces
 * is well under 2 MiB.
 */
#define KUBE_BODY_MAX		(64 * 1024 * 1024)
#define KUBE_WATCH_LINE_MAX	(16 * 1024 * 1024)

struct kube_opts {
	long request_timeout_ms;	/* per request; 0 = none */
	int parallel;			/* bound for batches; 0 = default (32) */
	const char *user_agent;		/* NULL = kubectl-nublado/<version> */
};

/* Borrowing cfg: it must outlive the client. */
int kube_open(const struct kcfg *cfg, const struct kube_opts *o,
    struct kube **out, struct err *e);
void kube_close(struct kube *k);
const struct kcfg *kube_config(const struct kube *k);

/*
 * One request.  `path' is an escaped API path (see kube_path()); `query'
 * an encoded query string without '?' (see kube_query_add()).  Requests the
 * server may have acted on are retried only when `idempotent' says a second
 * one cannot double the effect (GET, DELETE, a merge patch that sets values).
 */
struct kube_req {
	const char *method;
	const char *path;
	const char *query;
	const char *content_type;
	const char *body;
	size_t body_len;
	bool dry_run;		/* adds dryRun=All */
	bool idempotent;
	bool secret;		/* the answer holds secrets: read uncompressed, wiped after use */
};

/* What came back.  `json' is the parsed body (any status) or NULL. */
struct kube_resp {
	long status;
	json_object *json;
	struct buf body;
	int attempts;
	double seconds;
};

void kube_resp_free(struct kube_resp *r);

/*
 * Send one request, with retries (429, 5xx for idempotent requests,
 * connection failures), one retry after a 401 with refreshed credentials, and
 * an error made from the Status body for any status >= 400.  Returns 0 on
 * 2xx; on failure -1 with e->http set.
 */
int kube_do(struct kube *k, const struct kube_req *r, struct kube_resp *resp,
    struct err *e);

/* Shorthands returning the parsed body (caller puts it). */
int kube_get(struct kube *k, const char *path, const char *query,
    json_object **out, struct err *e);
/*
 * GET an object that holds secrets (a Secret): every copy of the answer the
 * client made is zeroed before it is freed.  The caller wipes *out's strings
 * (json_wipe_strings) before putting it.
 */
int kube_get_secret(struct kube *k, const char *path, json_object **out, struct err *e);
int kube_create(struct kube *k, const char *path, json_object *obj,
    bool dry_run, json_object **out, struct err *e);
/* DELETE with {"propagationPolicy":"Background"} as kubectl sends. */
int kube_delete(struct kube *k, const char *path, bool dry_run,
    json_object **out, struct err *e);

/*
 * List a collection page by page (limit/continue), calling `each' for every
 * item; `each' returns 0 to go on, -1 to stop with its error.  An expired
 * continue token (410) restarts the list from the beginning, once per
 * expiry, after telling `reset' (may be NULL) to forget what it saw.
 * `rv_out' (may be NULL) receives the list's resourceVersion, for a watch.
 */
typedef int (*kube_item_fn)(json_object *item, void *arg, struct err *e);
typedef void (*kube_reset_fn)(void *arg);
int kube_list(struct kube *k, const char *path, const char *query, long limit,
    kube_item_fn each, kube_reset_fn reset, void *arg, char **rv_out,
    struct err *e);

/*
 * Watch a collection from resourceVersion `rv' until `fn' returns 1 (done:
 * returns 0), -1 (error: returns -1) or `timeout_ms' passes (returns 1 with
 * e->reason "Timeout").
 * A stream the server ends is re-opened from the last resourceVersion seen;
 * a 410 (ERROR event or status) returns -1 with e->http = 410 so the caller
 * relists.  BOOKMARK events only move the resourceVersion.
 */
enum kube_event { KUBE_ADDED, KUBE_MODIFIED, KUBE_DELETED };
typedef int (*kube_event_fn)(enum kube_event type, json_object *obj,
    void *arg, struct err *e);
int kube_watch(struct kube *k, const char *path, const char *query,
    const char *rv, long timeout_ms, kube_event_fn fn, void *arg,
    struct err *e);

/*
 * Many requests at once over the multi interface, at most `parallel' in
 * flight (HTTP/2 multiplexed when offered).  `done' runs for each as it
 * finishes, in the calling thread, with its response and error (status >=
 * 400 is an error there, not for the batch).  kube_batch_run fails only when
 * the transfer machinery does (or on interrupt).
 */
struct kube_batch;
typedef void (*kube_done_fn)(const struct kube_req *r, struct kube_resp *resp,
    const struct err *e, void *arg);
struct kube_batch *kube_batch_new(struct kube *k, int parallel);
/* The batch copies r (and its strings). */
void kube_batch_add(struct kube_batch *b, const struct kube_req *r,
    kube_done_fn done, void *arg);
int kube_batch_run(struct kube_batch *b, struct err *e);
void kube_batch_free(struct kube_batch *b);

/*
 * For raw connections that speak their own HTTP (exec over WebSocket):
 * put TLS, proxy and client-certificate settings on `h' (a CURL *), and
 * append the authentication header lines ("Name: value\r\n") to `lines'.
 * The lines hold secrets: wipe and free them after sending.
 */
int kube_raw_setup(struct kube *k, void *h, struct buf *lines, struct err *e);
/* The server's base URL as requests address it (no trailing slash). */
const char *kube_base_url(const struct kube *k);
/*
 * The Host header when libcurl would not write it as kubectl does
 * (tls-server-name, an explicit default port), else NULL.
 */
const char *kube_host_header(const struct kube *k);
/* client-go's escaping of an Impersonate-Extra- key (caller frees). */
char *kube_header_key_escape(const char *s);
/* The hint for a failed TLS verification on handle h (a CURL *). */
void kube_tls_hint(const struct kube *k, void *h, struct err *e);
/* After a 401: drop cached credentials; true when trying again can help. */
bool kube_reauth(struct kube *k);


/* GET /version: the server's gitVersion (caller frees). */
int kube_server_version(struct kube *k, char **git_version, struct err *e);

#endif
