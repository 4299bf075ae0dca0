/* exec-upgrade.c: the HTTP/1.1 upgrade to WebSocket, on a connection libcurl made */
#include <ctype.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <json-c/json.h>
#include <openssl/rand.h>
#include <openssl/sha.h>
#include <openssl/ssl.h>

#include "../util/base64.h"
#include "../util/exitcode.h"
#include "../util/jsonout.h"
#include "../util/log.h"
#include "../util/sig.h"
#include "../util/xalloc.h"
#include "exec-int.h"
#include "exec-test.h"
#include "retry.h"
#include "status.h"
#include "url.h"

#define WS_GUID "258EAFA5-E914-47DA-95CA-C5AB0DC85B11"
#define SSL_READ_BUFFER (128 * 1024)	/* OpenSSL's read-ahead buffer */
#define HEADER_MAX (64 * 1024)
#define BODY_MAX (1024 * 1024)

void
exec_ws_accept(const char *key, char *out)
{
	unsigned char md[SHA_DIGEST_LENGTH];
	char *cat = xasprintf("%s%s", key, WS_GUID);
	char *b64;

	SHA1((const unsigned char *)cat, strlen(cat), md);
	b64 = base64_encode(md, sizeof md);
	strcpy(out, b64);	/* 28 characters + NUL */
	free(b64);
	free(cat);
}

struct resp {
	int status;
	char *accept, *protocol, *upgrade, *connection, *ctype, *te;
	long long clen;		/* -1 unknown */
	long retry_after;	/* -1 absent */
	size_t head_len;	/* bytes of the status line and headers, blank line included */
};

static void
resp_free(struct resp *r)
{
	free(r->accept);
	free(r->protocol);
	free(r->upgrade);
	free(r->connection);
	free(r->ctype);
	free(r->te);
}

static char *
trimdup(const char *p, size_t n)
{
	while (n > 0 && (*p == ' ' || *p == '\t')) {
		p++;
		n--;
	}
	while (n > 0 && (p[n - 1] == ' ' || p[n - 1] == '\t'))
		n--;
	return xstrndup(p, n);
}

/* Parse the status line and headers in data[0..head_len). */
static int
resp_parse(const char *data, size_t head_len, struct resp *r)
{
	const char *p = data, *end = data + head_len, *eol;
	bool first = true;

	r->clen = -1;
	r->retry_after = -1;
	r->head_len = head_len;
	while (p < end && (eol = memchr(p, '\n', (size_t)(end - p))) != NULL) {
		size_t n = (size_t)(eol - p);
		const char *colon;

		if (n > 0 && p[n - 1] == '\r')
			n--;
		if (first) {
			/* HTTP/1.1 101 Switching Protocols */
			if (n < 12 || strncmp(p, "HTTP/1.", 7) != 0 || p[8] != ' ')
				return -1;
			/* Three digits, nothing else: a server's "-1" or 20 digits is no status. */
			if (!isdigit((unsigned char)p[9]) || !isdigit((unsigned char)p[10]) ||
			    !isdigit((unsigned char)p[11]) || (n > 12 && p[12] != ' '))
				return -1;
			r->status = (p[9] - '0') * 100 + (p[10] - '0') * 10 + (p[11] - '0');
			first = false;
		} else if (n > 0 && (colon = memchr(p, ':', n)) != NULL) {
			size_t kl = (size_t)(colon - p);
			char **slot = NULL;

#define HDR(name, field) if (kl == sizeof name - 1 && strncasecmp(p, name, kl) == 0) slot = &r->field
			HDR("Sec-WebSocket-Accept", accept);
			HDR("Sec-WebSocket-Protocol", protocol);
			HDR("Upgrade", upgrade);
			HDR("Connection", connection);
			HDR("Content-Type", ctype);
			HDR("Transfer-Encoding", te);
#undef HDR
			if (slot != NULL && *slot == NULL) {
				*slot = trimdup(colon + 1, n - kl - 1);
			} else if (kl == 14 && strncasecmp(p, "Content-Length", 14) == 0) {
				char *v = trimdup(colon + 1, n - kl - 1);

				r->clen = strtoll(v, NULL, 10);
				free(v);
			} else if (kl == 11 && strncasecmp(p, "Retry-After", 11) == 0) {
				char *v = trimdup(colon + 1, n - kl - 1);

				r->retry_after = retry_after_parse(v);
				free(v);
			}
		}
		p = eol + 1;
	}
	return first ? -1 : 0;
}

/*
 * A chunked body (RFC 9112 7.1) from b->data[from..]: 1 complete, 0 not yet,
 * -1 malformed.  The server is not trusted: sizes are hex digits only,
 * checked against BODY_MAX before any arithmetic, so "-1" or 17 f's cannot
 * wrap a length.  Extensions after ';' and trailers are skipped.
 */
static int
dechunk(const struct buf *b, size_t from, struct buf *out)
{
	size_t i = from;

	buf_reset(out);
	for (;;) {
		const char *line = b->data + i;
		const char *eol = memmem(line, b->len - i, "\r\n", 2);
		size_t n = 0, d = 0;

		if (eol == NULL)
			return b->len - i > 1024 ? -1 : 0;
		for (; line + d < eol && isxdigit((unsigned char)line[d]); d++) {
			int v = isdigit((unsigned char)line[d]) ? line[d] - '0' :
			    tolower((unsigned char)line[d]) - 'a' + 10;

			if (n > (BODY_MAX - (size_t)v) / 16)
				return -1;
			n = n * 16 + (size_t)v;
		}
		if (d == 0 || (line + d < eol && line[d] != ';' && line[d] != ' ' &&
		    line[d] != '\t'))
			return -1;
		i = (size_t)(eol - b->data) + 2;
		if (n == 0)
			return 1;
		if (out->len + n > BODY_MAX)
			return -1;
		if (b->len - i < n + 2)
			return 0;
		if (memcmp(b->data + i + n, "\r\n", 2) != 0)
			return -1;
		buf_append(out, b->data + i, n);
		i += n + 2;
	}
}

int
exec_response_parse_for_tests(const char *p, size_t n, int *status, struct buf *body)
{
	const char *hdr_end = memmem(p, n, "\r\n\r\n", 4);
	struct buf b = BUF_INIT;
	struct resp r = { 0 };
	int rc;

	buf_reset(body);
	if (hdr_end == NULL)
		return n > HEADER_MAX ? -1 : 0;
	if (resp_parse(p, (size_t)(hdr_end - p) + 4, &r) < 0) {
		resp_free(&r);
		return -1;
	}
	*status = r.status;
	buf_append(&b, p, n);
	if (r.te != NULL && strcasestr(r.te, "chunked") != NULL) {
		rc = dechunk(&b, r.head_len, body);
	} else if (r.clen >= 0) {
		rc = n - r.head_len >= (size_t)r.clen;
		if (rc)
			buf_append(body, p + r.head_len, (size_t)r.clen);
	} else {
		buf_append(body, p + r.head_len, n - r.head_len);
		rc = 1;
	}
	buf_free(&b);
	resp_free(&r);
	return rc;
}

static long
left_ms(long long deadline)
{
	long long l = deadline - now_ms();

	return l < 0 ? 0 : l > POLL_MS ? POLL_MS : (long)l;
}

static int
wait_sock(curl_socket_t sock, short events, long long deadline)
{
	struct pollfd pfd = { .fd = sock, .events = events };

	return poll(&pfd, 1, (int)left_ms(deadline));
}

static int
timed_out(struct err *e, const char *what, struct exec_conn *c)
{
	err_set(e, "exec in %s: timed out %s", c->path, what);
	e->reason = "Timeout";
	return -1;
}

static int
send_all(struct exec_conn *c, const char *p, size_t n, long long deadline, struct err *e)
{
	while (n > 0) {
		size_t sent = 0;
		CURLcode cc = curl_easy_send(c->h, p, n, &sent);

		if (cc == CURLE_AGAIN) {
			if (now_ms() >= deadline)
				return timed_out(e, "sending the upgrade request", c);
			if (sig_interrupted())
				return err_interrupted(e, "interrupted");
			wait_sock(c->sock, POLLOUT, deadline);
			continue;
		}
		if (cc != CURLE_OK)
			return err_set(e, "exec in %s: cannot send the upgrade request: %s",
			    c->path, curl_easy_strerror(cc));
		p += sent;
		n -= sent;
	}
	return 0;
}

/* Read more into b (at most `max' in all); 0 on data, 1 on EOF, -1 on error. */
static int
recv_some(struct exec_conn *c, struct buf *b, size_t max, long long deadline, struct err *e)
{
	char tmp[16384];

	for (;;) {
		size_t got = 0, want = max - b->len < sizeof tmp ? max - b->len : sizeof tmp;
		CURLcode cc;

		if (want == 0)
			return err_set(e, "exec in %s: the API server's answer is too long", c->path);
		/* recv before poll: TLS may already hold decrypted bytes. */
		cc = curl_easy_recv(c->h, tmp, want, &got);
		if (cc == CURLE_OK) {
			if (got == 0)
				return 1;
			buf_append(b, tmp, got);
			return 0;
		}
		if (cc != CURLE_AGAIN)
			return err_set(e, "exec in %s: cannot read the API server's answer: %s",
			    c->path, curl_easy_strerror(cc));
		if (now_ms() >= deadline)
			return timed_out(e, "waiting for the API server's answer", c);
		if (sig_interrupted())
			return err_interrupted(e, "interrupted");
		wait_sock(c->sock, POLLIN, deadline);
	}
}

/* The error body of a refused upgrade. */
static int
read_body(struct exec_conn *c, struct buf *b, struct resp *r, struct buf *body,
    long long deadline)
{
	struct err tmp;
	bool chunked = r->te != NULL && strcasestr(r->te, "chunked") != NULL;
	/* Don't wait long for an error's explanation. */
	long long dl = now_ms() + 5000 < deadline ? now_ms() + 5000 : deadline;

	err_clear(&tmp);
	for (;;) {
		size_t have = b->len - r->head_len;

		if (chunked) {
			int rc = dechunk(b, r->head_len, body);

			if (rc < 0)
				buf_reset(body);	/* garbage explains nothing */
			if (rc != 0)
				return 0;
		} else if (r->clen >= 0 && have >= (size_t)r->clen) {
			buf_append(body, b->data + r->head_len, (size_t)r->clen);
			return 0;
		}
		if (recv_some(c, b, r->head_len + BODY_MAX, dl, &tmp) != 0) {
			/* EOF (a body without a length ends so) or trouble: keep what came. */
			if (!chunked)
				buf_append(body, b->data + r->head_len, have);
			return 0;
		}
	}
}

static bool
has_token(const char *v, const char *token)
{
	return v != NULL && strcasestr(v, token) != NULL;
}

/* A refused upgrade, made into the message the user needs. */
static int
refused(struct exec_conn *c, const struct exec_opts *o, struct resp *r, struct buf *body,
    struct err *e)
{
	json_object *j = body->len > 0 ? json_tokener_parse(body->data) : NULL;
	const char *reason = kube_status_reason(j);

	if (r->status == 403 && body->len == 0) {
		err_set(e, "this server does not support WebSocket exec: it refused the upgrade of "
		    "pods/exec with 403 and no explanation");
		err_hint(e, "exec over WebSocket (%s) comes with Kubernetes 1.30 (1.29 with the "
		    "TranslateStreamCloseWebsocketRequests feature gate); older API servers, or a proxy "
		    "that blocks WebSocket upgrades, refuse it, and kubectl-nublado does not speak the "
		    "older SPDY protocol", EXEC_PROTO_V5);
		e->http = 403;
		e->reason = "Forbidden";
	} else if (r->status == 403) {
		const char *msg = jstr(j, "message", NULL);

		err_set(e, "not allowed to exec into pod \"%s\" in namespace \"%s\": %s", o->pod,
		    o->ns, msg != NULL ? msg : body->data);
		err_hint(e, "exec needs the pods/exec permission with the verbs get and create "
		    "(both, from Kubernetes 1.35) in namespace \"%s\": ask a cluster admin, or "
		    "use a --context that has it", o->ns);
		e->http = 403;
		e->reason = "Forbidden";
	} else if (r->status == 404 && (reason == NULL || strcmp(reason, "NotFound") == 0)) {
		err_set(e, "pod \"%s\" not found in namespace \"%s\"", o->pod, o->ns);
		err_hint(e, "check the pod's name and the namespace (-n); "
		    "kubectl get pods -n %s lists them", o->ns);
		e->http = 404;
		e->reason = "NotFound";
	} else {
		kube_status_err(r->status, j, body->data, body->len, "exec in", c->path, e);
	}
	json_object_put(j);
	return -1;
}

static int
connect_failure(struct exec_conn *c, struct kube *k, CURLcode cc, struct err *e)
{
	const struct kcfg *cfg = kube_config(k);

	switch (cc) {
	case CURLE_COULDNT_CONNECT:
	case CURLE_COULDNT_RESOLVE_HOST:
	case CURLE_COULDNT_RESOLVE_PROXY:
		err_set(e, "cannot reach the API server %s (%s)", cfg->server,
		    curl_easy_strerror(cc));
		err_hint(e, "check your network/VPN and the server in context '%s'",
		    cfg->context ? cfg->context : "");
		break;
	case CURLE_PEER_FAILED_VERIFICATION:
	case CURLE_SSL_CACERT_BADFILE:
		err_set(e, "exec in %s: the server's certificate could not be verified (%s)",
		    c->path, curl_easy_strerror(cc));
		kube_tls_hint(k, c->h, e);
		break;
	case CURLE_OPERATION_TIMEDOUT:
		err_set(e, "exec in %s: timed out connecting to %s", c->path, cfg->server);
		e->reason = "Timeout";
		break;
	default:
		err_set(e, "exec in %s: %s", c->path, curl_easy_strerror(cc));
		break;
	}
	return -1;
}

/* "GET /prefix/path?q HTTP/1.1" needs the base URL's host and path prefix. */
static int
target_parts(const char *base, char **host, char **prefix, struct err *e)
{
	CURLU *u = curl_url();
	char *h = NULL, *port = NULL, *path = NULL;
	int rc = 0;

	if (curl_url_set(u, CURLUPART_URL, base, 0) != CURLUE_OK ||
	    curl_url_get(u, CURLUPART_HOST, &h, 0) != CURLUE_OK) {
		rc = err_set(e, "invalid server URL '%s'", base);
		goto out;
	}
	if (curl_url_get(u, CURLUPART_PORT, &port, 0) != CURLUE_OK)
		port = NULL;
	curl_url_get(u, CURLUPART_PATH, &path, 0);
	*host = port != NULL ? xasprintf("%s:%s", h, port) : xstrdup(h);
	*prefix = xstrdup(path != NULL && strcmp(path, "/") != 0 ? path : "");
	/* kube_path gives "/api/...": no doubled slash after a prefix ending in one. */
	if (**prefix != '\0' && (*prefix)[strlen(*prefix) - 1] == '/')
		(*prefix)[strlen(*prefix) - 1] = '\0';
out:
	curl_free(h);
	curl_free(port);
	curl_free(path);
	curl_url_cleanup(u);
	return rc;
}

/*
 * Read ahead: OpenSSL then fills its buffer with as many records as the
 * socket has in one read(), instead of two reads (header, body) per record.
 * A bulk stream costs half the system calls.
 */
static CURLcode
ssl_ctx_tune(CURL *h, void *ssl_ctx, void *arg)
{
	SSL_CTX_set_read_ahead((SSL_CTX *)ssl_ctx, 1);
	SSL_CTX_set_default_read_buffer_len((SSL_CTX *)ssl_ctx, SSL_READ_BUFFER);
	return CURLE_OK;
}

static void
log_request(const char *req)
{
	for (const char *p = req, *eol; *p != '\0' && (eol = strstr(p, "\r\n")) != NULL;
	    p = eol + 2) {
		if (eol == p)
			break;
		if (strncasecmp(p, "Authorization:", 14) == 0)
			log_debug(LOG_HEADERS, "> Authorization: <redacted>");
		else
			log_debug(LOG_HEADERS, "> %.*s", (int)(eol - p), p);
	}
}

static void
log_response(const char *p, size_t n)
{
	const char *end = p + n, *eol;

	for (; p < end && (eol = memchr(p, '\n', (size_t)(end - p))) != NULL; p = eol + 1) {
		size_t len = (size_t)(eol - p);

		if (len > 0 && p[len - 1] == '\r')
			len--;
		if (len > 0)
			log_debug(LOG_HEADERS, "< %.*s", (int)len, p);
	}
}

static void
wipe_free(char *p, size_t n)
{
	if (p != NULL)
		explicit_bzero(p, n);
	free(p);
}

void
exec_conn_free(struct exec_conn *c)
{
	if (c->h != NULL)
		curl_easy_cleanup(c->h);
	free(c->url);
	free(c->path);
	free(c->extra);
	memset(c, 0, sizeof *c);
	c->sock = CURL_SOCKET_BAD;
}

/*
 * Connect and upgrade.  0: c is a WebSocket; 1: 401, credentials may be
 * refreshed; -1: error.
 */
int
exec_handshake(struct kube *k, const struct exec_opts *o, const char *query,
    long long deadline, struct exec_conn *c, struct err *e)
{
	unsigned char nonce[16];
	char *key = NULL, *host = NULL, *prefix = NULL, *req = NULL;
	char want_accept[64];
	struct buf lines = BUF_INIT, rq = BUF_INIT, in = BUF_INIT, body = BUF_INIT;
	struct resp r;
	long long t0 = now_ms();
	long ct;
	CURLcode cc;
	size_t req_len = 0;
	char *hdr_end;
	int rc = -1;

	memset(&r, 0, sizeof r);
	c->path = kube_path("/api/v1/namespaces/%s/pods/%s/exec", o->ns, o->pod);
	c->url = xasprintf("%s%s?%s", kube_base_url(k), c->path, query);
	if (target_parts(kube_base_url(k), &host, &prefix, e) < 0)
		goto out;
	if (kube_host_header(k) != NULL) {	/* tls-server-name: Host stays the server's */
		free(host);
		host = xstrdup(kube_host_header(k));
	}
	c->h = curl_easy_init();
	curl_easy_setopt(c->h, CURLOPT_URL, c->url);
	if (kube_raw_setup(k, c->h, &lines, e) < 0)
		goto out;
	curl_easy_setopt(c->h, CURLOPT_CONNECT_ONLY, 1L);
	/* Else ALPN may pick h2 and our HTTP/1.1 upgrade would be nonsense. */
	curl_easy_setopt(c->h, CURLOPT_HTTP_VERSION, (long)CURL_HTTP_VERSION_1_1);
	/* Through an HTTP proxy: a CONNECT tunnel, so our bytes pass unchanged. */
	curl_easy_setopt(c->h, CURLOPT_HTTPPROXYTUNNEL, 1L);
	curl_easy_setopt(c->h, CURLOPT_SSL_CTX_FUNCTION, ssl_ctx_tune);
	ct = (long)(deadline - now_ms());
	curl_easy_setopt(c->h, CURLOPT_CONNECTTIMEOUT_MS, ct > 1 ? ct : 1L);

	cc = curl_easy_perform(c->h);
	if (cc != CURLE_OK) {
		connect_failure(c, k, cc, e);
		c->retry = cc == CURLE_COULDNT_CONNECT || cc == CURLE_SEND_ERROR ||
		    cc == CURLE_RECV_ERROR || cc == CURLE_GOT_NOTHING ||
		    cc == CURLE_SSL_CONNECT_ERROR;
		goto out;
	}
	if (curl_easy_getinfo(c->h, CURLINFO_ACTIVESOCKET, &c->sock) != CURLE_OK ||
	    c->sock == CURL_SOCKET_BAD) {
		err_set(e, "exec in %s: libcurl gave no connected socket", c->path);
		goto out;
	}

	if (RAND_bytes(nonce, sizeof nonce) != 1) {
		err_set(e, "cannot make a WebSocket key: no random bytes");
		goto out;
	}
	key = base64_encode(nonce, sizeof nonce);
	exec_ws_accept(key, want_accept);
	buf_printf(&rq, "GET %s%s?%s HTTP/1.1\r\n"
	    "Host: %s\r\n"
	    "Connection: Upgrade\r\n"
	    "Upgrade: websocket\r\n"
	    "Sec-WebSocket-Version: 13\r\n"
	    "Sec-WebSocket-Key: %s\r\n"
	    "Sec-WebSocket-Protocol: " EXEC_PROTO_V5 ", " EXEC_PROTO_V4 "\r\n",
	    prefix, c->path, query, host, key);
	buf_append(&rq, lines.data ? lines.data : "", lines.len);
	buf_puts(&rq, "\r\n");
	req_len = rq.cap;
	req = buf_detach(&rq);
	if (log_level() >= LOG_HEADERS)
		log_request(req);
	if (send_all(c, req, strlen(req), deadline, e) < 0) {
		c->retry = e->exit != EXIT_INTERRUPTED && e->reason == NULL;
		goto out;
	}

	/* The answer's headers; what follows them may already be frames. */
	while ((hdr_end = in.data ? memmem(in.data, in.len, "\r\n\r\n", 4) : NULL) == NULL) {
		int got = recv_some(c, &in, HEADER_MAX, deadline, e);

		/* Broken before the answer: no command runs before the upgrade. */
		c->retry = got == 1 || (got < 0 && e->exit != EXIT_INTERRUPTED && e->reason == NULL);
		if (got < 0)
			goto out;
		if (got == 1) {
			err_set(e, "exec in %s: the API server closed the connection without "
			    "answering the upgrade", c->path);
			goto out;
		}
	}
	if (resp_parse(in.data, (size_t)(hdr_end - in.data) + 4, &r) < 0) {
		err_set(e, "exec in %s: the answer to the upgrade is not HTTP/1.1", c->path);
		goto out;
	}
	if (log_level() >= LOG_HEADERS)
		log_response(in.data, r.head_len);
	log_debug(LOG_REQUESTS, "GET %s -> %d %s (%lld ms)", c->url, r.status,
	    r.status == 101 ? "Switching Protocols" : kube_http_phrase(r.status),
	    now_ms() - t0);
	if (r.status == 401) {
		rc = 1;
		json_object *j;

		read_body(c, &in, &r, &body, deadline);
		j = body.len > 0 ? json_tokener_parse(body.data) : NULL;
		kube_status_err(401, j, body.data, body.len, "exec in", c->path, e);
		json_object_put(j);
		goto out;
	}
	if (r.status != 101) {
		read_body(c, &in, &r, &body, deadline);
		refused(c, o, &r, &body, e);
		/* Refused before the command started: these may pass on another try. */
		c->retry = r.status == 429 || r.status == 500 || r.status == 502 ||
		    r.status == 503 || r.status == 504;
		c->retry_after = r.retry_after;
		e->http = r.status;
		goto out;
	}
	if (!has_token(r.upgrade, "websocket") || !has_token(r.connection, "upgrade")) {
		err_set(e, "exec in %s: the API server answered 101 without upgrading to "
		    "WebSocket (Upgrade: %s)", c->path, r.upgrade ? r.upgrade : "missing");
		goto out;
	}
	if (r.accept == NULL || strcmp(r.accept, want_accept) != 0) {
		err_set(e, "exec in %s: the WebSocket handshake is invalid: Sec-WebSocket-Accept "
		    "is %s, want %s", c->path, r.accept ? r.accept : "missing", want_accept);
		goto out;
	}
	if (r.protocol != NULL && strcmp(r.protocol, EXEC_PROTO_V5) == 0) {
		c->protocol = EXEC_PROTO_V5;
	} else if (r.protocol != NULL && strcmp(r.protocol, EXEC_PROTO_V4) == 0) {
		c->protocol = EXEC_PROTO_V4;
	} else {
		err_set(e, "exec in %s: the API server chose the WebSocket subprotocol %s%s%s; we "
		    "offered " EXEC_PROTO_V5 " and " EXEC_PROTO_V4, c->path,
		    r.protocol ? "'" : "", r.protocol ? r.protocol : "(none)", r.protocol ? "'" : "");
		goto out;
	}
	c->extra_len = in.len - r.head_len;
	c->extra = xmalloc(c->extra_len + 1);
	memcpy(c->extra, in.data + r.head_len, c->extra_len);
	rc = 0;
out:
	resp_free(&r);
	wipe_free(req, req_len);
	if (lines.data != NULL)
		explicit_bzero(lines.data, lines.cap);
	buf_free(&lines);
	buf_free(&in);
	buf_free(&body);
	free(key);
	free(host);
	free(prefix);
	return rc;
}
