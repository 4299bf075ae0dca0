/* client.c: REST over libcurl's multi interface, with retries and re-authentication */
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include <curl/curl.h>
#include <openssl/ssl.h>

#include "../util/base64.h"
#include "../util/exitcode.h"
#include "../util/jsonout.h"
#include "../util/log.h"
#include "../util/sig.h"
#include "../util/xalloc.h"
#include "auth.h"
#include "client.h"
#include "client-test.h"
#include "retry.h"
#include "status.h"
#include "url.h"

#define DEFAULT_PARALLEL 32
#define CONNECT_TIMEOUT_MS 15000L

struct kube {
	const struct kcfg *cfg;
	struct auth *auth;
	CURLM *multi;		/* owns the connection cache: requests reuse connections */
	long timeout_ms;
	int parallel;
	char *user_agent;
	char *base;		/* server URL; the TLS name when tls-server-name is set */
	struct curl_slist *connect_to;
	char *host;		/* the Host header where libcurl would differ from Go */
	unsigned int rnd;
};

/* One request in flight (or waiting for its retry). */
struct xfer {
	struct kube_req req;	/* strings owned below */
	char *path, *query, *body, *method, *ctype;
	char *url;
	CURL *easy;
	struct curl_slist *headers;
	struct kube_resp resp;
	struct err err;
	long retry_after;
	int attempt;
	long waited_ms;
	long long not_before;
	long long started;
	bool reauthed;
	bool too_big;		/* the body passed KUBE_BODY_MAX: transfer stopped */
	kube_done_fn done;
	void *arg;
	/* A watch streams: bytes go here instead of into resp.body. */
	size_t (*stream)(const char *p, size_t n, void *arg);
	void *stream_arg;
	struct xfer *next;
};

struct kube_batch {
	struct kube *k;
	int parallel;
	struct xfer *pending;	/* not started, or waiting to retry */
	struct xfer *running;	/* in the multi handle */
	int active;
};

static const char *
version_string(void)
{
#ifdef NUB_VERSION
	return NUB_VERSION;
#else
	return "dev";
#endif
}

/*
 * Go writes the Host header as the URL has it: "h:443" stays so, where
 * libcurl would drop a default port.  That Host, else NULL.
 */
static char *
explicit_default_port(const char *server)
{
	CURLU *u = curl_url();
	char *host = NULL, *port = NULL, *scheme = NULL, *out = NULL;

	if (u != NULL && curl_url_set(u, CURLUPART_URL, server, 0) == CURLUE_OK &&
	    curl_url_get(u, CURLUPART_HOST, &host, 0) == CURLUE_OK &&
	    curl_url_get(u, CURLUPART_SCHEME, &scheme, 0) == CURLUE_OK &&
	    curl_url_get(u, CURLUPART_PORT, &port, 0) == CURLUE_OK &&
	    strcmp(port, strcmp(scheme, "https") == 0 ? "443" : "80") == 0)
		out = xasprintf("%s:%s", host, port);
	curl_free(host);
	curl_free(port);
	curl_free(scheme);
	curl_url_cleanup(u);
	return out;
}

int
kube_open(const struct kcfg *cfg, const struct kube_opts *o, struct kube **out,
    struct err *e)
{
	struct kube *k;

	*out = NULL;
	if (curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK)
		return err_set(e, "cannot initialise libcurl");
	k = xcalloc(1, sizeof *k);
	k->cfg = cfg;
	k->auth = auth_new(cfg);
	k->timeout_ms = o ? o->request_timeout_ms : 0;
	k->parallel = o && o->parallel > 0 ? o->parallel : DEFAULT_PARALLEL;
	k->user_agent = o && o->user_agent ? xstrdup(o->user_agent) :
	    xasprintf("kubectl-nublado/%s", version_string());
	k->rnd = (unsigned int)(now_ms() ^ getpid());
	k->multi = curl_multi_init();
	curl_multi_setopt(k->multi, CURLMOPT_PIPELINING, CURLPIPE_MULTIPLEX);
	curl_multi_setopt(k->multi, CURLMOPT_MAX_HOST_CONNECTIONS, (long)k->parallel);

	if (cfg->tls_server_name != NULL && strncmp(cfg->server, "https://", 8) == 0) {
		/*
		 * libcurl 7.88 has no option for the TLS name: address the
		 * server by that name and connect to the real host instead.
		 */
		CURLU *u = curl_url();
		char *host = NULL, *port = NULL, *path = NULL;

		if (curl_url_set(u, CURLUPART_URL, cfg->server, 0) != CURLUE_OK ||
		    curl_url_get(u, CURLUPART_HOST, &host, 0) != CURLUE_OK) {
			curl_url_cleanup(u);
			kube_close(k);
			return err_set(e, "invalid server URL '%s'", cfg->server);
		}
		if (curl_url_get(u, CURLUPART_PORT, &port, CURLU_DEFAULT_PORT) != CURLUE_OK)
			port = NULL;
		curl_url_get(u, CURLUPART_PATH, &path, 0);
		char *ct = xasprintf("%s:%s:%s:%s", cfg->tls_server_name,
		    port ? port : "443", host, port ? port : "443");
		k->connect_to = curl_slist_append(NULL, ct);
		free(ct);
		k->base = xasprintf("https://%s:%s%s", cfg->tls_server_name,
		    port ? port : "443", path && strcmp(path, "/") != 0 ? path : "");
		/* tls-server-name is for SNI and verification only: Host stays the server's (Go). */
		curl_free(port);
		if (curl_url_get(u, CURLUPART_PORT, &port, 0) != CURLUE_OK)
			port = NULL;
		k->host = port != NULL ? xasprintf("%s:%s", host, port) : xstrdup(host);
		curl_free(host);
		curl_free(port);
		curl_free(path);
		curl_url_cleanup(u);
	} else {
		k->base = xstrdup(cfg->server);
		k->host = explicit_default_port(cfg->server);
	}
	*out = k;
	return 0;
}

void
kube_close(struct kube *k)
{
	if (k == NULL)
		return;
	if (k->multi != NULL)
		curl_multi_cleanup(k->multi);
	auth_free(k->auth);
	curl_slist_free_all(k->connect_to);
	free(k->host);
	free(k->user_agent);
	free(k->base);
	free(k);
}

const struct kcfg *
kube_config(const struct kube *k)
{
	return k->cfg;
}

void
kube_resp_free(struct kube_resp *r)
{
	if (r == NULL)
		return;
	if (r->json != NULL)
		json_object_put(r->json);
	buf_free(&r->body);
	memset(r, 0, sizeof *r);
}

static double
rnd01(struct kube *k)
{
	return (double)rand_r(&k->rnd) / ((double)RAND_MAX + 1.0);
}

/* ---- one transfer ---- */

static size_t
on_body(char *p, size_t size, size_t n, void *arg)
{
	struct xfer *x = arg;
	long http = 0;

	if (x->stream != NULL) {
		curl_easy_getinfo(x->easy, CURLINFO_RESPONSE_CODE, &http);
		if (http < 300)
			return x->stream(p, size * n, x->stream_arg);
	}
	/* A hostile or broken server (or a gzip bomb, counted decoded) stops here. */
	if (x->resp.body.len + size * n > KUBE_BODY_MAX) {
		x->too_big = true;
		return 0;
	}
	if (x->req.secret)
		buf_append_wiping(&x->resp.body, p, size * n);
	else
		buf_append(&x->resp.body, p, size * n);
	return size * n;
}

static void
too_big_err(const struct xfer *x, struct err *e)
{
	err_set(e, "%s %s: the server's answer is larger than %d MiB: not an API response",
	    x->method, x->path, KUBE_BODY_MAX >> 20);
	err_hint(e, "check that the kubeconfig's server is a Kubernetes API server");
}

static size_t
on_header(char *p, size_t size, size_t n, void *arg)
{
	struct xfer *x = arg;
	size_t len = size * n;

	if (len > 12 && strncasecmp(p, "Retry-After:", 12) == 0) {
		char v[32];
		size_t vl = len - 12 < sizeof v - 1 ? len - 12 : sizeof v - 1;

		memcpy(v, p + 12, vl);
		v[vl] = '\0';
		x->retry_after = retry_after_parse(v);
	}
	return len;
}

/* -vvv: headers as curl sends and receives them, with credentials blanked. */
static int
on_debug(CURL *h, curl_infotype type, char *data, size_t size, void *arg)
{
	const char *dir;

	if (type == CURLINFO_HEADER_OUT)
		dir = "> ";
	else if (type == CURLINFO_HEADER_IN)
		dir = "< ";
	else
		return 0;
	while (size > 0) {
		size_t n = 0;

		while (n < size && data[n] != '\n')
			n++;
		size_t line = n > 0 && data[n - 1] == '\r' ? n - 1 : n;
		if (line > 0) {
			if (line > 14 && strncasecmp(data, "Authorization:", 14) == 0)
				log_debug(LOG_HEADERS, "%sAuthorization: <redacted>", dir);
			/* proxy-url's user:password, sent on the proxy's CONNECT */
			else if (line > 20 && strncasecmp(data, "Proxy-Authorization:", 20) == 0)
				log_debug(LOG_HEADERS, "%sProxy-Authorization: <redacted>", dir);
			else
				log_debug(LOG_HEADERS, "%s%.*s", dir, (int)line, data);
		}
		if (n < size)
			n++;
		data += n;
		size -= n;
	}
	return 0;
}

static void
xfer_free(struct xfer *x)
{
	if (x == NULL)
		return;
	if (x->easy != NULL)
		curl_easy_cleanup(x->easy);
	curl_slist_free_all(x->headers);
	if (x->req.secret)
		buf_wipe(&x->resp.body);
	kube_resp_free(&x->resp);
	free(x->path);
	free(x->query);
	free(x->body);
	free(x->method);
	free(x->ctype);
	free(x->url);
	free(x);
}

static struct xfer *
xfer_new(const struct kube_req *r, kube_done_fn done, void *arg)
{
	struct xfer *x = xcalloc(1, sizeof *x);

	x->method = xstrdup(r->method ? r->method : "GET");
	x->path = xstrdup(r->path);
	x->query = xstrdup(r->query);
	x->ctype = xstrdup(r->content_type);
	if (r->body != NULL) {
		x->body = xmalloc(r->body_len + 1);
		memcpy(x->body, r->body, r->body_len);
		x->body[r->body_len] = '\0';
	}
	x->req = *r;
	x->req.method = x->method;
	x->req.path = x->path;
	x->req.query = x->query;
	x->req.content_type = x->ctype;
	x->req.body = x->body;
	x->done = done;
	x->arg = arg;
	x->retry_after = -1;
	return x;
}

static char *
make_url(struct kube *k, const char *path, const char *query, bool dry_run)
{
	struct buf b = BUF_INIT;

	buf_puts(&b, k->base);
	buf_puts(&b, path);
	if ((query != NULL && *query != '\0') || dry_run) {
		buf_puts(&b, "?");
		if (query != NULL && *query != '\0')
			buf_puts(&b, query);
		if (dry_run)
			buf_printf(&b, "%sdryRun=All", query && *query ? "&" : "");
	}
	return buf_detach(&b);
}

/* OpenSSL 3 zeroes its plaintext buffers when done with them (Secrets pass there). */
static CURLcode
cleanse_plaintext(CURL *h, void *ssl_ctx, void *arg)
{
	SSL_CTX_set_options((SSL_CTX *)ssl_ctx, SSL_OP_CLEANSE_PLAINTEXT);
	return CURLE_OK;
}

/* TLS and proxy settings from the kubeconfig, and the client certificate. */
static void
setup_tls(struct kube *k, CURL *h, const struct auth_creds *cr)
{
	const struct kcfg *cfg = k->cfg;

	/* The kubeconfig's CA (else the system's), client certificate, or insecure. */
	if (cfg->ca_pem != NULL) {
		struct curl_blob ca = { cfg->ca_pem, cfg->ca_len, CURL_BLOB_COPY };

		curl_easy_setopt(h, CURLOPT_CAINFO_BLOB, &ca);
		/*
		 * The kubeconfig's CA replaces the system store, as in client-go:
		 * libcurl would otherwise trust /etc/ssl/certs as well, and a
		 * TLS-inspecting proxy signed by a system CA would get the token.
		 */
		curl_easy_setopt(h, CURLOPT_CAINFO, NULL);
		curl_easy_setopt(h, CURLOPT_CAPATH, NULL);
	}
	curl_easy_setopt(h, CURLOPT_SSL_CTX_FUNCTION, cleanse_plaintext);
	if (cfg->insecure) {
		curl_easy_setopt(h, CURLOPT_SSL_VERIFYPEER, 0L);
		curl_easy_setopt(h, CURLOPT_SSL_VERIFYHOST, 0L);
	}
	if (cr->cert_pem != NULL && cr->key_pem != NULL) {
		struct curl_blob cert = { (void *)cr->cert_pem, cr->cert_len, CURL_BLOB_COPY };
		struct curl_blob key = { (void *)cr->key_pem, cr->key_len, CURL_BLOB_COPY };

		curl_easy_setopt(h, CURLOPT_SSLCERTTYPE, "PEM");
		curl_easy_setopt(h, CURLOPT_SSLCERT_BLOB, &cert);
		curl_easy_setopt(h, CURLOPT_SSLKEYTYPE, "PEM");
		curl_easy_setopt(h, CURLOPT_SSLKEY_BLOB, &key);
	}
	if (k->connect_to != NULL)
		curl_easy_setopt(h, CURLOPT_CONNECT_TO, k->connect_to);
	{
		/* Go's choice of proxy, never libcurl's own (ALL_PROXY, NO_PROXY on proxy-url). */
		char *proxy, *noproxy;

		kcfg_proxy(cfg, &proxy, &noproxy);
		curl_easy_setopt(h, CURLOPT_PROXY, proxy);
		curl_easy_setopt(h, CURLOPT_NOPROXY, noproxy);
		free(proxy);
		free(noproxy);
	}
	curl_easy_setopt(h, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(h, CURLOPT_CONNECTTIMEOUT_MS, CONNECT_TIMEOUT_MS);
}

/*
 * Header values come from kubeconfigs, token files and exec plugins: a CR or
 * LF would start a header of its own (an Impersonate-Group: system:masters
 * hidden in a token), so any control byte but tab refuses the request, as Go's
 * net/http does.  The error names the header, never the value.
 */
static int
header_add(struct buf *out, const char *name, const char *value, struct err *e)
{
	for (const unsigned char *p = (const unsigned char *)value; *p != '\0'; p++)
		if ((*p < 0x20 && *p != '\t') || *p == 0x7f)
			return err_set(e, "invalid %s header value: it holds a control character "
			    "(CR, LF or another); check the kubeconfig's user entry, its token "
			    "file or exec plugin", name);
	buf_printf(out, "%s: %s\r\n", name, value);
	return 0;
}

/* The header lines that carry who we are (secrets: wipe after use). */
static int
auth_lines(struct kube *k, const struct auth_creds *cr, struct buf *out, struct err *e)
{
	const struct kcfg *cfg = k->cfg;
	int rc = 0;

	if (cr->token != NULL) {
		char *v = xasprintf("Bearer %s", cr->token);

		rc = header_add(out, "Authorization", v, e);
		explicit_bzero(v, strlen(v));
		free(v);
	} else if (cr->username != NULL) {
		char *plain = xasprintf("%s:%s", cr->username, cr->password ? cr->password : "");
		char *b64 = base64_encode(plain, strlen(plain));
		char *v = xasprintf("Basic %s", b64);

		rc = header_add(out, "Authorization", v, e);
		explicit_bzero(plain, strlen(plain));
		explicit_bzero(b64, strlen(b64));
		explicit_bzero(v, strlen(v));
		free(plain);
		free(b64);
		free(v);
	}
	if (rc == 0 && cfg->impersonate != NULL) {
		rc = header_add(out, "Impersonate-User", cfg->impersonate, e);
		if (rc == 0 && cfg->impersonate_uid != NULL)
			rc = header_add(out, "Impersonate-Uid", cfg->impersonate_uid, e);
		for (char **g = cfg->impersonate_groups; rc == 0 && g != NULL && *g != NULL; g++)
			rc = header_add(out, "Impersonate-Group", *g, e);
		for (char **x = cfg->impersonate_extra; rc == 0 && x != NULL && x[0] != NULL &&
		    x[1] != NULL; x += 2) {
			char *key = kube_header_key_escape(x[0]);
			char *name = xasprintf("Impersonate-Extra-%s", key);

			rc = header_add(out, name, x[1], e);
			free(name);
			free(key);
		}
	}
	return rc;
}

/*
 * client-go's headerKeyEscape: bytes that may not appear in a header name,
 * and '%', percent-encoded (the API server decodes them).
 */
char *
kube_header_key_escape(const char *s)
{
	static const char hex[] = "0123456789ABCDEF";
	struct buf b = BUF_INIT;

	for (const unsigned char *p = (const unsigned char *)s; *p != '\0'; p++) {
		bool legal = (*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') ||
		    (*p >= '0' && *p <= '9') || (*p != '%' && strchr("!#$&'*+-.^_`|~", *p) != NULL);

		if (legal) {
			buf_append(&b, p, 1);
		} else {
			char enc[3] = { '%', hex[*p >> 4], hex[*p & 15] };

			buf_append(&b, enc, 3);
		}
	}
	buf_puts(&b, "");
	return buf_detach(&b);
}

static void
wipe_buf(struct buf *b)
{
	if (b->data != NULL)
		explicit_bzero(b->data, b->cap);
	buf_free(b);
}

static int
get_creds(struct kube *k, struct auth_creds *cr, struct err *e)
{
	if (auth_get(k->auth, cr, e) < 0)
		return -1;
	if (auth_creds_need_tls(cr) && strncmp(k->base, "https://", 8) != 0)
		return err_set(e, "refusing to send credentials over plain http to %s",
		    k->cfg->server);
	return 0;
}

int
kube_raw_setup(struct kube *k, void *h, struct buf *lines, struct err *e)
{
	struct auth_creds cr;

	if (get_creds(k, &cr, e) < 0)
		return -1;
	if (auth_lines(k, &cr, lines, e) < 0)
		return -1;
	setup_tls(k, h, &cr);
	curl_easy_setopt(h, CURLOPT_USERAGENT, k->user_agent);
	buf_printf(lines, "User-Agent: %s\r\n", k->user_agent);
	return 0;
}

bool
kube_reauth(struct kube *k)
{
	return auth_invalidate(k->auth);
}

const char *
kube_base_url(const struct kube *k)
{
	return k->base;
}

const char *
kube_host_header(const struct kube *k)
{
	return k->host;
}

/* Put everything on a fresh or reused easy handle; credentials are looked up now. */
static int
xfer_setup(struct kube *k, struct xfer *x, struct err *e)
{
	struct auth_creds cr;
	struct buf lines = BUF_INIT;
	CURL *h;

	if (get_creds(k, &cr, e) < 0)
		return -1;
	if (x->easy == NULL)
		x->easy = curl_easy_init();
	else
		curl_easy_reset(x->easy);
	h = x->easy;
	curl_slist_free_all(x->headers);
	x->headers = NULL;
	buf_reset(&x->resp.body);
	x->too_big = false;
	x->retry_after = -1;
	free(x->url);
	x->url = make_url(k, x->path, x->query, x->req.dry_run);

	curl_easy_setopt(h, CURLOPT_URL, x->url);
	curl_easy_setopt(h, CURLOPT_PRIVATE, x);
	curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, on_body);
	curl_easy_setopt(h, CURLOPT_WRITEDATA, x);
	curl_easy_setopt(h, CURLOPT_HEADERFUNCTION, on_header);
	curl_easy_setopt(h, CURLOPT_HEADERDATA, x);
	curl_easy_setopt(h, CURLOPT_USERAGENT, k->user_agent);
	curl_easy_setopt(h, CURLOPT_HTTP_VERSION, (long)CURL_HTTP_VERSION_2TLS);
	curl_easy_setopt(h, CURLOPT_PIPEWAIT, 1L);
	if (k->timeout_ms > 0)
		curl_easy_setopt(h, CURLOPT_TIMEOUT_MS, k->timeout_ms);
	/* A Secret is read uncompressed: no inflate buffers holding it, unwiped. */
	if (!k->cfg->disable_compression && !x->req.secret)
		curl_easy_setopt(h, CURLOPT_ACCEPT_ENCODING, "");
	if (log_level() >= LOG_HEADERS) {
		curl_easy_setopt(h, CURLOPT_VERBOSE, 1L);
		curl_easy_setopt(h, CURLOPT_DEBUGFUNCTION, on_debug);
	}
	if (strcmp(x->method, "GET") != 0)
		curl_easy_setopt(h, CURLOPT_CUSTOMREQUEST, x->method);
	if (x->body != NULL) {
		curl_easy_setopt(h, CURLOPT_POSTFIELDSIZE, (long)x->req.body_len);
		curl_easy_setopt(h, CURLOPT_POSTFIELDS, x->body);
	}
	setup_tls(k, h, &cr);

	x->headers = curl_slist_append(x->headers, "Accept: application/json");
	if (x->ctype != NULL) {
		char *ct = xasprintf("Content-Type: %s", x->ctype);

		x->headers = curl_slist_append(x->headers, ct);
		free(ct);
	}
	/* tls-server-name is for SNI and verification only: Host stays the server's (as Go). */
	if (k->host != NULL) {
		char *hh = xasprintf("Host: %s", k->host);

		x->headers = curl_slist_append(x->headers, hh);
		free(hh);
	}
	if (auth_lines(k, &cr, &lines, e) < 0) {
		wipe_buf(&lines);
		return -1;
	}
	for (char *line = lines.data, *end; line != NULL && *line != '\0'; line = end + 2) {
		end = strstr(line, "\r\n");
		*end = '\0';
		x->headers = curl_slist_append(x->headers, line);
	}
	wipe_buf(&lines);
	/* No "Expect: 100-continue" round trip for bodies. */
	x->headers = curl_slist_append(x->headers, "Expect:");
	curl_easy_setopt(h, CURLOPT_HTTPHEADER, x->headers);
	return 0;
}

static enum retry_failure
classify(CURLcode cc)
{
	switch (cc) {
	case CURLE_COULDNT_RESOLVE_HOST:
	case CURLE_COULDNT_RESOLVE_PROXY:
	case CURLE_COULDNT_CONNECT:
		return RETRY_NOT_SENT;
	default:
		return RETRY_BROKEN;
	}
}

/* A TLS or configuration failure that no retry can mend. */
static bool
fatal_curl(CURLcode cc)
{
	switch (cc) {
	case CURLE_PEER_FAILED_VERIFICATION:
	case CURLE_SSL_CACERT_BADFILE:
	case CURLE_SSL_CERTPROBLEM:
	case CURLE_SSL_CIPHER:
	case CURLE_SSL_ENGINE_NOTFOUND:
	case CURLE_SSL_ISSUER_ERROR:
	case CURLE_UNSUPPORTED_PROTOCOL:
	case CURLE_URL_MALFORMAT:
		return true;
	default:
		return false;
	}
}

/*
 * Why verification failed: a trusted certificate for another name (then the
 * CA is fine: the server name or tls-server-name is wrong), else the CA.
 */
void
kube_tls_hint(const struct kube *k, void *h, struct err *e)
{
	const struct kcfg *cfg = k->cfg;
	long verify = -1;

	/*
	 * OpenSSL's own result: the chain was fine (0), or libcurl's host name
	 * check failed after it (7.88 reports X509_V_ERR_UNSPECIFIED, 1).
	 */
	if (h != NULL)
		curl_easy_getinfo((CURL *)h, CURLINFO_SSL_VERIFYRESULT, &verify);
	if (verify == 1)
		verify = 0;
	if (verify == 0 && cfg->tls_server_name != NULL)
		err_hint(e, "the certificate is not valid for the name '%s': check "
		    "tls-server-name of cluster '%s' in %s", cfg->tls_server_name,
		    cfg->cluster_name ? cfg->cluster_name : "?",
		    cfg->source ? cfg->source : "the kubeconfig");
	else if (verify == 0)
		err_hint(e, "the certificate is not valid for the server's name: check the server "
		    "URL of cluster '%s' in %s (or set its tls-server-name)",
		    cfg->cluster_name ? cfg->cluster_name : "?",
		    cfg->source ? cfg->source : "the kubeconfig");
	else
		err_hint(e, "check certificate-authority-data for cluster '%s' in %s",
		    cfg->cluster_name ? cfg->cluster_name : "?",
		    cfg->source ? cfg->source : "the kubeconfig");
}

static void
curl_failure(struct kube *k, struct xfer *x, CURLcode cc, struct err *e)
{
	e->http = 0;
	switch (cc) {
	case CURLE_PEER_FAILED_VERIFICATION:
	case CURLE_SSL_CACERT_BADFILE:
		err_set(e, "%s %s: the server's certificate could not be verified (%s)",
		    x->method, x->path, curl_easy_strerror(cc));
		kube_tls_hint(k, x->easy, e);
		break;
	case CURLE_OPERATION_TIMEDOUT:
		err_set(e, "%s %s: timed out (%s)", x->method, x->path,
		    curl_easy_strerror(cc));
		err_hint(e, "raise --request-timeout or check the connection to %s",
		    k->cfg->server);
		e->reason = "Timeout";
		break;
	case CURLE_COULDNT_CONNECT:
	case CURLE_COULDNT_RESOLVE_HOST:
		err_set(e, "cannot reach the API server %s (%s)", k->cfg->server,
		    curl_easy_strerror(cc));
		err_hint(e, "check your network/VPN and the server in context '%s'",
		    k->cfg->context ? k->cfg->context : "");
		break;
	default:
		err_set(e, "%s %s: %s", x->method, x->path, curl_easy_strerror(cc));
		break;
	}
}

static json_object *
parse_body(const struct xfer *x)
{
	if (x->req.secret)
		return json_parse_secret(x->resp.body.data, x->resp.body.len);
	return json_tokener_parse(x->resp.body.data);
}

/* What happened to a finished transfer: 0 done (ok or final error), 1 queued again. */
static int
xfer_finish(struct kube_batch *b, struct xfer *x, CURLcode cc)
{
	struct kube *k = b->k;
	long http = 0, delay = 0;
	long long t = now_ms();
	bool again;

	x->resp.attempts = x->attempt;
	x->resp.seconds = (double)(t - x->started) / 1000.0;
	if (cc == CURLE_OK)
		curl_easy_getinfo(x->easy, CURLINFO_RESPONSE_CODE, &http);
	x->resp.status = http;
	if (x->too_big) {
		too_big_err(x, &x->err);
		return 0;
	}
	if (cc != CURLE_OK)
		log_debug(LOG_REQUESTS, "%s %s -> %s (%lld ms)", x->method, x->url,
		    curl_easy_strerror(cc), t - x->started);
	else
		log_debug(LOG_REQUESTS, "%s %s -> %ld %s (%lld ms)", x->method, x->url,
		    http, kube_http_phrase(http), t - x->started);

	if (cc == CURLE_OK && http == 401 && !x->reauthed && auth_invalidate(k->auth)) {
		/* Expired or revoked credentials: fetch new ones and try once more. */
		x->reauthed = true;
		x->not_before = 0;
		return 1;
	}
	if (cc == CURLE_OK && http < 400) {
		if (x->resp.body.len > 0)
			x->resp.json = parse_body(x);
		return 0;
	}
	if (cc != CURLE_OK)
		again = !fatal_curl(cc) && retry_decide(&retry_default, classify(cc), 0,
		    x->req.idempotent, x->attempt, -1, x->waited_ms, rnd01(k), &delay);
	else
		again = retry_decide(&retry_default, RETRY_HTTP, http, x->req.idempotent,
		    x->attempt, x->retry_after, x->waited_ms, rnd01(k), &delay);
	if (again) {
		log_debug(LOG_STEPS, "retrying %s %s in %ld ms (attempt %d)",
		    x->method, x->path, delay, x->attempt + 1);
		x->waited_ms += delay;
		x->not_before = t + delay;
		return 1;
	}
	if (cc != CURLE_OK) {
		curl_failure(k, x, cc, &x->err);
	} else {
		if (x->resp.body.len > 0)
			x->resp.json = parse_body(x);
		kube_status_err(http, x->resp.json, x->resp.body.data, x->resp.body.len,
		    x->method, x->path, &x->err);
	}
	if (x->attempt > 1) {
		size_t n = strlen(x->err.msg);

		snprintf(x->err.msg + n, sizeof x->err.msg - n, " (after %d attempts)",
		    x->attempt);
	}
	return 0;
}

struct kube_batch *
kube_batch_new(struct kube *k, int parallel)
{
	struct kube_batch *b = xcalloc(1, sizeof *b);

	b->k = k;
	b->parallel = parallel > 0 ? parallel : k->parallel;
	return b;
}

void
kube_batch_add(struct kube_batch *b, const struct kube_req *r, kube_done_fn done,
    void *arg)
{
	struct xfer *x = xfer_new(r, done, arg), **p = &b->pending;

	/* Keep the caller's order. */
	while (*p != NULL)
		p = &(*p)->next;
	*p = x;
}

void
kube_batch_free(struct kube_batch *b)
{
	struct xfer *x, *next;

	if (b == NULL)
		return;
	for (x = b->pending; x != NULL; x = next) {
		next = x->next;
		xfer_free(x);
	}
	for (x = b->running; x != NULL; x = next) {
		next = x->next;
		curl_multi_remove_handle(b->k->multi, x->easy);
		xfer_free(x);
	}
	free(b);
}

static void
unlink_running(struct kube_batch *b, struct xfer *x)
{
	for (struct xfer **p = &b->running; *p != NULL; p = &(*p)->next) {
		if (*p == x) {
			*p = x->next;
			x->next = NULL;
			return;
		}
	}
}

static void
deliver(struct xfer *x)
{
	if (x->done != NULL)
		x->done(&x->req, &x->resp, x->err.msg[0] ? &x->err : NULL, x->arg);
}

int
kube_batch_run(struct kube_batch *b, struct err *e)
{
	struct kube *k = b->k;
	int running = 0;

	while (b->pending != NULL || b->active > 0) {
		long long t = now_ms();
		long long next_due = -1;
		struct xfer **p = &b->pending;
		CURLMsg *msg;
		int left;

		if (sig_interrupted())
			return err_interrupted(e, "interrupted");
		/* Start what may start. */
		while (*p != NULL && b->active < b->parallel) {
			struct xfer *x = *p;

			if (x->not_before > t) {
				if (next_due < 0 || x->not_before < next_due)
					next_due = x->not_before;
				p = &x->next;
				continue;
			}
			*p = x->next;
			x->next = NULL;
			x->attempt++;
			x->started = t;
			if (xfer_setup(k, x, &x->err) < 0) {
				deliver(x);
				xfer_free(x);
				continue;
			}
			curl_multi_add_handle(k->multi, x->easy);
			x->next = b->running;
			b->running = x;
			b->active++;
		}
		if (b->active == 0 && b->pending != NULL) {
			long wait = next_due > t ? (long)(next_due - t) : 10;

			sleep_ms(wait);
			continue;
		}
		if (curl_multi_perform(k->multi, &running) != CURLM_OK) {
			return err_set(e, "libcurl multi interface failed");
		}
		while ((msg = curl_multi_info_read(k->multi, &left)) != NULL) {
			struct xfer *x;

			if (msg->msg != CURLMSG_DONE)
				continue;
			curl_easy_getinfo(msg->easy_handle, CURLINFO_PRIVATE, (char **)&x);
			curl_multi_remove_handle(k->multi, x->easy);
			unlink_running(b, x);
			b->active--;
			if (xfer_finish(b, x, msg->data.result) == 1) {
				x->next = b->pending;
				b->pending = x;
				continue;
			}
			deliver(x);
			xfer_free(x);
		}
		if (b->active > 0) {
			int timeout = 200;

			if (next_due > 0) {
				long long d = next_due - now_ms();

				if (d < timeout)
					timeout = d > 0 ? (int)d : 0;
			}
			curl_multi_poll(k->multi, NULL, 0, timeout, NULL);
		}
	}
	return 0;
}

/* ---- single requests ---- */

struct one {
	struct kube_resp *resp;
	struct err *e;
	bool failed;
};

static void
one_done(const struct kube_req *r, struct kube_resp *resp, const struct err *e,
    void *arg)
{
	struct one *o = arg;

	/* Move the response out before the transfer is freed. */
	*o->resp = *resp;
	memset(resp, 0, sizeof *resp);
	if (e != NULL) {
		*o->e = *e;
		o->failed = true;
	}
}

int
kube_do(struct kube *k, const struct kube_req *r, struct kube_resp *resp,
    struct err *e)
{
	struct kube_batch *b = kube_batch_new(k, 1);
	struct one o = { resp, e, false };
	struct err tmp;
	int rc;

	memset(resp, 0, sizeof *resp);
	err_clear(&tmp);
	if (e == NULL)
		o.e = &tmp;
	kube_batch_add(b, r, one_done, &o);
	rc = kube_batch_run(b, e ? e : &tmp);
	kube_batch_free(b);
	if (rc < 0 || o.failed)
		return -1;
	return 0;
}

static int
do_json(struct kube *k, const struct kube_req *r, json_object **out, struct err *e)
{
	struct kube_resp resp;

	if (out != NULL)
		*out = NULL;
	if (kube_do(k, r, &resp, e) < 0) {
		if (r->secret)
			buf_wipe(&resp.body);
		kube_resp_free(&resp);
		return -1;
	}
	if (out != NULL) {
		*out = resp.json;
		resp.json = NULL;
	}
	if (r->secret)
		buf_wipe(&resp.body);
	kube_resp_free(&resp);
	return 0;
}

int
kube_get(struct kube *k, const char *path, const char *query, json_object **out,
    struct err *e)
{
	struct kube_req r = { .method = "GET", .path = path, .query = query,
	    .idempotent = true };

	return do_json(k, &r, out, e);
}

int
kube_get_secret(struct kube *k, const char *path, json_object **out, struct err *e)
{
	struct kube_req r = { .method = "GET", .path = path, .idempotent = true,
	    .secret = true };

	return do_json(k, &r, out, e);
}

int
kube_create(struct kube *k, const char *path, json_object *obj, bool dry_run,
    json_object **out, struct err *e)
{
	const char *body = json_object_to_json_string_ext(obj, JSON_C_TO_STRING_PLAIN);
	struct kube_req r = { .method = "POST", .path = path,
	    .content_type = "application/json", .body = body,
	    .body_len = strlen(body), .dry_run = dry_run, .idempotent = false };

	return do_json(k, &r, out, e);
}

int
kube_delete(struct kube *k, const char *path, bool dry_run, json_object **out,
    struct err *e)
{
	static const char body[] = "{\"propagationPolicy\":\"Background\"}";
	struct kube_req r = { .method = "DELETE", .path = path,
	    .content_type = "application/json", .body = body,
	    .body_len = sizeof body - 1, .dry_run = dry_run, .idempotent = true };

	return do_json(k, &r, out, e);
}

int
kube_server_version(struct kube *k, char **git_version, struct err *e)
{
	json_object *v = NULL, *gv;

	*git_version = NULL;
	if (kube_get(k, "/version", NULL, &v, e) < 0)
		return -1;
	if (v == NULL || !json_object_object_get_ex(v, "gitVersion", &gv) ||
	    !json_object_is_type(gv, json_type_string)) {
		json_object_put(v);
		return err_set(e, "GET /version: the answer has no gitVersion");
	}
	*git_version = xstrdup(json_object_get_string(gv));
	json_object_put(v);
	return 0;
}

/* ---- lists ---- */

int
kube_list(struct kube *k, const char *path, const char *query, long limit,
    kube_item_fn each, kube_reset_fn reset, void *arg, char **rv_out,
    struct err *e)
{
	char *cont = NULL;
	int restarts = 0;

	if (rv_out != NULL)
		*rv_out = NULL;
	for (;;) {
		struct buf q = BUF_INIT;
		json_object *page = NULL, *items;
		const char *next;
		int rc;

		if (query != NULL && *query != '\0')
			buf_puts(&q, query);
		if (limit > 0) {
			char n[32];

			snprintf(n, sizeof n, "%ld", limit);
			kube_query_add(&q, "limit", n);
		}
		if (cont != NULL)
			kube_query_add(&q, "continue", cont);
		rc = kube_get(k, path, q.data, &page, e);
		buf_free(&q);
		if (rc < 0 && e->http == 410 && cont != NULL && restarts < 5) {
			/*
			 * The continue token expired: start over from a fresh
			 * snapshot, in one page (as client-go's pager falls back
			 * to a full list), so it cannot expire again.
			 */
			log_debug(LOG_STEPS, "list %s: continue token expired, listing again in "
			    "one page", path);
			free(cont);
			cont = NULL;
			limit = 0;
			restarts++;
			if (rv_out != NULL) {
				free(*rv_out);
				*rv_out = NULL;
			}
			if (reset != NULL)
				reset(arg);
			err_clear(e);
			continue;
		}
		if (rc < 0) {
			free(cont);
			return -1;
		}
		if (rv_out != NULL && *rv_out == NULL)
			*rv_out = xstrdup(jstr(page, "metadata", "resourceVersion", NULL));
		if (json_object_object_get_ex(page, "items", &items) &&
		    json_object_is_type(items, json_type_array)) {
			size_t n = json_object_array_length(items);

			for (size_t i = 0; i < n; i++) {
				if (each(json_object_array_get_idx(items, i), arg, e) < 0) {
					json_object_put(page);
					free(cont);
					return -1;
				}
			}
		}
		next = jstr(page, "metadata", "continue", NULL);
		free(cont);
		cont = next != NULL && *next != '\0' ? xstrdup(next) : NULL;
		json_object_put(page);
		if (cont == NULL)
			return 0;
	}
}

/* ---- watches ---- */

struct watch {
	struct kube *k;
	kube_event_fn fn;
	void *arg;
	struct buf line;
	char *rv;		/* last resourceVersion seen */
	int result;		/* 0 going on, 1 done, -1 error */
	struct err *e;
	long long deadline;
};

static void
watch_event(struct watch *w, const char *s)
{
	json_object *ev = json_tokener_parse(s), *obj;
	const char *type = jstr(ev, "type", NULL);
	const char *rv;

	if (ev == NULL || type == NULL ||
	    !json_object_object_get_ex(ev, "object", &obj)) {
		json_object_put(ev);
		w->result = -1;
		err_set(w->e, "watch: the server sent an event that is not JSON");
		return;
	}
	rv = jstr(obj, "metadata", "resourceVersion", NULL);
	if (strcmp(type, "ERROR") == 0) {
		json_object *code;
		long http = json_object_object_get_ex(obj, "code", &code) ?
		    json_object_get_int(code) : 500;

		kube_status_err(http, obj, NULL, 0, "WATCH", "", w->e);
		w->result = -1;
	} else {
		if (rv != NULL) {
			free(w->rv);
			w->rv = xstrdup(rv);
		}
		if (strcmp(type, "BOOKMARK") != 0) {
			enum kube_event t = strcmp(type, "ADDED") == 0 ? KUBE_ADDED :
			    strcmp(type, "DELETED") == 0 ? KUBE_DELETED : KUBE_MODIFIED;
			int rc = w->fn(t, obj, w->arg, w->e);

			if (rc != 0)
				w->result = rc;
		}
	}
	json_object_put(ev);
}

/* One JSON event per line; a line may arrive in pieces. */
static size_t
watch_bytes(const char *p, size_t n, void *arg)
{
	struct watch *w = arg;

	for (size_t i = 0; i < n && w->result == 0; i++) {
		if (p[i] != '\n') {
			if (w->line.len >= KUBE_WATCH_LINE_MAX) {
				w->result = -1;
				err_set(w->e, "watch: the server sent an event larger than %d MiB",
				    KUBE_WATCH_LINE_MAX >> 20);
				break;
			}
			buf_append(&w->line, p + i, 1);
			continue;
		}
		if (w->line.len > 0)
			watch_event(w, w->line.data);
		buf_reset(&w->line);
	}
	/* Returning short makes curl stop the transfer: we are done. */
	return w->result == 0 ? n : 0;
}

static int
watch_progress(void *arg, curl_off_t a, curl_off_t b, curl_off_t c, curl_off_t d)
{
	struct watch *w = arg;

	return sig_interrupted() || now_ms() >= w->deadline;
}

int
kube_watch(struct kube *k, const char *path, const char *query, const char *rv,
    long timeout_ms, kube_event_fn fn, void *arg, struct err *e)
{
	struct watch w = { .k = k, .fn = fn, .arg = arg, .e = e };
	long waited = 0;
	int attempt = 0;
	bool reauthed = false;

	w.rv = xstrdup(rv);
	w.deadline = timeout_ms > 0 ? now_ms() + timeout_ms : now_ms() + 86400000LL;
	while (w.result == 0) {
		struct buf q = BUF_INIT;
		struct kube_req r = { .method = "GET", .path = path, .idempotent = true };
		long left = (long)(w.deadline - now_ms());
		struct xfer *x;
		CURLcode cc;
		long http = 0, delay;
		char secs[32];

		if (sig_interrupted()) {
			w.result = -1;
			err_interrupted(e, "interrupted");
			break;
		}
		if (left <= 0) {
			w.result = 2;
			e->reason = "Timeout";
			break;
		}
		if (query != NULL && *query != '\0')
			buf_puts(&q, query);
		kube_query_add(&q, "watch", "1");
		kube_query_add(&q, "allowWatchBookmarks", "true");
		if (w.rv != NULL)
			kube_query_add(&q, "resourceVersion", w.rv);
		/* The server ends the stream after this; we then re-watch. */
		snprintf(secs, sizeof secs, "%ld", left / 1000 + 1 < 300 ? left / 1000 + 1 : 300);
		kube_query_add(&q, "timeoutSeconds", secs);
		r.query = q.data;
		x = xfer_new(&r, NULL, NULL);
		buf_free(&q);
		x->stream = watch_bytes;
		x->stream_arg = &w;
		attempt++;
		x->started = now_ms();
		if (xfer_setup(k, x, e) < 0) {
			xfer_free(x);
			w.result = -1;
			break;
		}
		/* The stream is long-lived: no overall timeout, our own deadline instead. */
		curl_easy_setopt(x->easy, CURLOPT_TIMEOUT_MS, 0L);
		curl_easy_setopt(x->easy, CURLOPT_NOPROGRESS, 0L);
		curl_easy_setopt(x->easy, CURLOPT_XFERINFOFUNCTION, watch_progress);
		curl_easy_setopt(x->easy, CURLOPT_XFERINFODATA, &w);
		buf_reset(&w.line);
		cc = curl_easy_perform(x->easy);
		curl_easy_getinfo(x->easy, CURLINFO_RESPONSE_CODE, &http);
		log_debug(LOG_REQUESTS, "WATCH %s -> %ld (%lld ms)", x->url, http,
		    now_ms() - x->started);
		if (w.result != 0) {
			xfer_free(x);
			break;
		}
		if (x->too_big) {
			too_big_err(x, e);
			xfer_free(x);
			w.result = -1;
			break;
		}
		if (cc == CURLE_ABORTED_BY_CALLBACK) {
			xfer_free(x);
			continue;	/* deadline or interrupt: the loop top says which */
		}
		if (cc == CURLE_OK && http == 401 && !reauthed && auth_invalidate(k->auth)) {
			reauthed = true;
			xfer_free(x);
			continue;
		}
		if (cc == CURLE_OK && http < 300) {
			/* The server closed the stream (its timeout, or a cut): go on from w.rv. */
			attempt = 0;
			xfer_free(x);
			continue;
		}
		if (cc == CURLE_OK && http == 410) {
			x->resp.json = json_tokener_parse(x->resp.body.data ? x->resp.body.data : "");
			kube_status_err(http, x->resp.json, x->resp.body.data, x->resp.body.len,
			    "WATCH", path, e);
			xfer_free(x);
			w.result = -1;
			break;
		}
		if (cc == CURLE_OK ?
		    retry_decide(&retry_default, RETRY_HTTP, http, true, attempt,
		    x->retry_after, waited, rnd01(k), &delay) :
		    (!fatal_curl(cc) && retry_decide(&retry_default, classify(cc), 0, true,
		    attempt, -1, waited, rnd01(k), &delay))) {
			waited += delay;
			xfer_free(x);
			sleep_ms(delay);	/* an interrupt is seen at the top of the loop */
			continue;
		}
		if (cc != CURLE_OK) {
			curl_failure(k, x, cc, e);
		} else {
			x->resp.json = json_tokener_parse(x->resp.body.data ? x->resp.body.data : "");
			kube_status_err(http, x->resp.json, x->resp.body.data, x->resp.body.len,
			    "WATCH", path, e);
		}
		xfer_free(x);
		w.result = -1;
	}
	buf_free(&w.line);
	free(w.rv);
	return w.result < 0 ? -1 : w.result == 2 ? 1 : 0;
}

/* ---- test hook (client-test.h): the watch parser without a server ---- */

int
kube_watch_feed_for_tests(const char *p, size_t n, size_t piece, kube_event_fn fn,
    void *arg, char **rv, struct err *e)
{
	struct watch w = { .fn = fn, .arg = arg, .e = e };

	if (piece == 0)
		piece = n > 0 ? n : 1;
	while (n > 0 && w.result == 0) {
		size_t take = n < piece ? n : piece;

		if (watch_bytes(p, take, &w) != take)
			break;
		p += take;
		n -= take;
	}
	buf_free(&w.line);
	if (rv != NULL)
		*rv = w.rv;
	else
		free(w.rv);
	return w.result;
}
