/* exec.c: pods/exec over WebSocket: libcurl carries the bytes, wslay frames them */
#include <ctype.h>
#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <sys/ioctl.h>
#include <termios.h>
#include <unistd.h>

#include <curl/curl.h>
#include <json-c/json.h>
#include <openssl/rand.h>
#include <openssl/sha.h>
#include <openssl/ssl.h>
#include <wslay/wslay.h>

#include "../util/base64.h"
#include "../util/exitcode.h"
#include "../util/jsonout.h"
#include "../util/log.h"
#include "../util/sig.h"
#include "../util/xalloc.h"
#include "exec-test.h"
#include "exec.h"
#include "retry.h"
#include "status.h"
#include "url.h"

#define WS_GUID "258EAFA5-E914-47DA-95CA-C5AB0DC85B11"
#define IN_CAP (64 * 1024)		/* bytes read from the connection at a time */
#define OUT_CAP (128 * 1024)		/* output gathered before one write() */
#define STDIN_CHUNK (32 * 1024)		/* payload of one stdin message */
#define SEND_QUEUE_MAX (256 * 1024)	/* stdin queued but not yet sent */
#define SSL_READ_BUFFER (128 * 1024)	/* OpenSSL's read-ahead buffer */
#define HEADER_MAX (64 * 1024)
#define BODY_MAX (1024 * 1024)
#define STATUS_MAX (1024 * 1024)
#define CONNECT_TIMEOUT_MS 30000L
#define CLOSE_GRACE_MS 2000		/* after the Status, wait this long for the Close */
#define PING_IDLE_MS 30000		/* keep an idle interactive session alive */
#define POLL_MS 250			/* wake to notice signals */
#define BULK_ROUND (64 * 1024)		/* a read round this big means bulk output */
#define BULK_LOWAT (128 * 1024)		/* then wake when this much is waiting */
#define BULK_POLL_MS 3			/* or after this long */

/* ---- the local terminal (tty mode) ---- */

/* File scope: atexit and signal paths must find the terminal to restore. */
static struct termios term_saved;
static int term_saved_fd = -1;
static bool term_atexit_done;
static volatile sig_atomic_t winch_flag;

static void
term_restore(void)
{
	if (term_saved_fd >= 0) {
		tcsetattr(term_saved_fd, TCSADRAIN, &term_saved);
		term_saved_fd = -1;
	}
}

static int
term_raw(int fd, struct err *e)
{
	struct termios t;

	if (tcgetattr(fd, &t) < 0)
		return err_set(e, "cannot read the terminal's settings: %s", strerror(errno));
	term_saved = t;
	term_saved_fd = fd;
	if (!term_atexit_done) {
		atexit(term_restore);
		term_atexit_done = true;
	}
	cfmakeraw(&t);
	/* TCSADRAIN, not TCSAFLUSH: keep what the user typed ahead. */
	if (tcsetattr(fd, TCSADRAIN, &t) < 0) {
		term_saved_fd = -1;
		return err_set(e, "cannot put the terminal in raw mode: %s", strerror(errno));
	}
	return 0;
}

static void
on_winch(int sig)
{
	winch_flag = 1;
}

/* ---- small pieces ---- */

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

/* The ExitCode cause of a NonZeroExitCode Status, or -1. */
static int
status_exit_code(json_object *j)
{
	json_object *details, *causes;

	if (!json_object_object_get_ex(j, "details", &details) ||
	    !json_object_object_get_ex(details, "causes", &causes) ||
	    !json_object_is_type(causes, json_type_array))
		return -1;
	for (size_t i = 0; i < json_object_array_length(causes); i++) {
		json_object *c = json_object_array_get_idx(causes, i);
		const char *reason = jstr(c, "reason", NULL), *msg = jstr(c, "message", NULL);
		char *end;
		long v;

		if (reason == NULL || strcmp(reason, "ExitCode") != 0 || msg == NULL)
			continue;
		errno = 0;
		v = strtol(msg, &end, 10);
		if (errno != 0 || end == msg || *end != '\0' || v < 0 || v > 255)
			return -1;
		return (int)v;
	}
	return -1;
}

int
exec_status_parse(const char *json, size_t len, int *exit_code, struct err *e)
{
	json_tokener *tok = json_tokener_new();
	json_object *j = json_tokener_parse_ex(tok, json, (int)len);
	const char *status, *reason, *message;
	int rc = -1, code;

	*exit_code = -1;
	size_t end = j != NULL ? json_tokener_get_parse_end(tok) : 0;

	while (end < len && (json[end] == ' ' || json[end] == '\n' || json[end] == '\r' ||
	    json[end] == '\t'))
		end++;
	if (j == NULL || json_tokener_get_error(tok) != json_tokener_success || end != len ||
	    !json_object_is_type(j, json_type_object)) {
		err_set(e, "the API server sent an exit status that is not a Status object: %.*s",
		    (int)(len < 200 ? len : 200), json);
		goto out;
	}
	status = jstr(j, "status", NULL);
	reason = jstr(j, "reason", NULL);
	message = jstr(j, "message", NULL);
	if (status != NULL && strcmp(status, "Success") == 0) {
		*exit_code = 0;
		rc = 0;
	} else if (reason != NULL && strcmp(reason, "NonZeroExitCode") == 0 &&
	    (code = status_exit_code(j)) >= 0) {
		*exit_code = code;
		rc = 0;
	} else if (message != NULL && *message != '\0') {
		/* Verbatim: the server's words are the most precise we have. */
		err_set(e, "%s", message);
		e->reason = kube_status_reason(j);
	} else {
		err_set(e, "the command failed in the pod (status %s, reason %s)",
		    status ? status : "missing", reason ? reason : "none");
		e->reason = kube_status_reason(j);
	}
out:
	json_object_put(j);
	json_tokener_free(tok);
	return rc;
}

/* Write all of p, waiting out EAGAIN and EINTR (but not an interrupt). */
static int
write_full(int fd, const void *p, size_t n, const char *what, struct err *e)
{
	const char *c = p;

	while (n > 0) {
		ssize_t w = write(fd, c, n);

		if (w > 0) {
			c += w;
			n -= (size_t)w;
			continue;
		}
		if (w < 0 && errno == EINTR) {
			if (sig_interrupted()) {
				return err_interrupted(e, "interrupted");
			}
			continue;
		}
		if (w < 0 && errno == EAGAIN) {
			struct pollfd pfd = { .fd = fd, .events = POLLOUT };

			poll(&pfd, 1, POLL_MS);
			if (sig_interrupted()) {
				return err_interrupted(e, "interrupted");
			}
			continue;
		}
		return err_set(e, "cannot write the command's %s: %s", what,
		    w < 0 ? strerror(errno) : "nothing written");
	}
	return 0;
}

/* ---- a session: the framing state, transport-agnostic ---- */

struct session {
	const struct exec_opts *o;
	wslay_event_context_ptr ws;
	bool v5;

	/* Received bytes not yet given to wslay. */
	unsigned char *in;
	size_t in_off, in_len;

	/* Where framed bytes go: the connection, or a test's sink. */
	CURL *h;
	curl_socket_t sock;
	exec_sink_fn sink;
	void *sink_arg;
	bool send_blocked;
	bool transport_failed;
	CURLcode send_cc;

	/* The message being received. */
	bool data_frame;		/* current frame belongs to a data message */
	bool want_channel;		/* next payload byte is the channel */
	int channel;			/* -1 before the first byte */

	struct buf status;		/* channel 3, gathered */
	bool status_seen;
	int status_rc;
	int exit_code;
	struct err status_err;
	bool close_seen;
	uint16_t close_code;
	long long status_at;

	/* Output gathered for one write: all of it for out_fd. */
	unsigned char *out;
	size_t out_len;
	int out_fd;
	const char *out_what;

	bool failed;			/* an output failed: stop */
	struct err fail;

	uint64_t counts[3];
};

static int
out_flush(struct session *s)
{
	int rc = 0;

	if (s->out_len > 0 && !s->failed) {
		rc = write_full(s->out_fd, s->out, s->out_len, s->out_what, &s->fail);
		if (rc < 0)
			s->failed = true;
	}
	s->out_len = 0;
	return rc;
}

/* One piece of channel 1 or 2. */
static void
deliver(struct session *s, int ch, const unsigned char *p, size_t n)
{
	const struct exec_opts *o = s->o;
	int fd;

	if (n == 0 || s->failed)
		return;
	s->counts[ch] += n;
	if (o->output != NULL) {
		if (o->output((enum exec_channel)ch, p, n, o->output_arg, &s->fail) < 0)
			s->failed = true;
		return;
	}
	fd = ch == EXEC_STDOUT ? o->stdout_fd : o->stderr_fd;
	if (fd < 0)
		return;
	/* One buffer for both streams keeps their order on a shared descriptor. */
	if (s->out_len > 0 && s->out_fd != fd && out_flush(s) < 0)
		return;
	s->out_fd = fd;
	s->out_what = ch == EXEC_STDOUT ? "output" : "error output";
	if (n >= OUT_CAP) {
		if (out_flush(s) == 0 && write_full(fd, p, n, s->out_what, &s->fail) < 0)
			s->failed = true;
		return;
	}
	if (s->out_len + n > OUT_CAP && out_flush(s) < 0)
		return;
	memcpy(s->out + s->out_len, p, n);
	s->out_len += n;
}

static ssize_t
ws_recv(wslay_event_context_ptr ctx, uint8_t *buf, size_t len, int flags, void *arg)
{
	struct session *s = arg;
	size_t n = s->in_len - s->in_off;

	if (s->failed) {
		wslay_event_set_error(ctx, WSLAY_ERR_CALLBACK_FAILURE);
		return -1;
	}
	if (n == 0) {
		wslay_event_set_error(ctx, WSLAY_ERR_WOULDBLOCK);
		return -1;
	}
	if (n > len)
		n = len;
	memcpy(buf, s->in + s->in_off, n);
	s->in_off += n;
	return (ssize_t)n;
}

static ssize_t
ws_send(wslay_event_context_ptr ctx, const uint8_t *data, size_t len, int flags,
    void *arg)
{
	struct session *s = arg;
	CURLcode cc;
	size_t sent = 0;

	if (s->h == NULL) {
		if (s->sink != NULL)
			s->sink(data, len, s->sink_arg);
		return (ssize_t)len;
	}
	cc = curl_easy_send(s->h, data, len, &sent);
	if (cc == CURLE_AGAIN) {
		s->send_blocked = true;
		wslay_event_set_error(ctx, WSLAY_ERR_WOULDBLOCK);
		return -1;
	}
	if (cc != CURLE_OK) {
		s->transport_failed = true;
		s->send_cc = cc;
		wslay_event_set_error(ctx, WSLAY_ERR_CALLBACK_FAILURE);
		return -1;
	}
	return (ssize_t)sent;
}

static int
ws_genmask(wslay_event_context_ptr ctx, uint8_t *buf, size_t len, void *arg)
{
	return RAND_bytes(buf, (int)len) == 1 ? 0 : -1;
}

static void
ws_frame_start(wslay_event_context_ptr ctx,
    const struct wslay_event_on_frame_recv_start_arg *a, void *arg)
{
	struct session *s = arg;

	switch (a->opcode) {
	case WSLAY_TEXT_FRAME:
	case WSLAY_BINARY_FRAME:
		s->data_frame = true;
		s->want_channel = true;
		s->channel = -1;
		break;
	case WSLAY_CONTINUATION_FRAME:
		s->data_frame = true;
		break;
	default:
		s->data_frame = false;	/* control frames: wslay handles them */
		break;
	}
}

static void
ws_frame_chunk(wslay_event_context_ptr ctx,
    const struct wslay_event_on_frame_recv_chunk_arg *a, void *arg)
{
	struct session *s = arg;
	const unsigned char *p = a->data;
	size_t n = a->data_length;

	if (!s->data_frame || n == 0)
		return;
	if (s->want_channel) {
		s->channel = p[0];
		s->want_channel = false;
		p++;
		n--;
	}
	switch (s->channel) {
	case EXEC_STDOUT:
	case EXEC_STDERR:
		deliver(s, s->channel, p, n);
		break;
	case EXEC_STATUS:
		if (s->status.len + n > STATUS_MAX) {
			s->failed = true;
			err_set(&s->fail, "the API server sent an exit status of more than %d bytes",
			    STATUS_MAX);
			return;
		}
		buf_append(&s->status, p, n);
		break;
	default:
		break;		/* stdin echo, resize, v5 close: nothing for us */
	}
}

static void
ws_msg(wslay_event_context_ptr ctx, const struct wslay_event_on_msg_recv_arg *a,
    void *arg)
{
	struct session *s = arg;

	if (a->opcode == WSLAY_CONNECTION_CLOSE) {
		s->close_seen = true;
		s->close_code = a->status_code;
		return;
	}
	if (a->opcode != WSLAY_TEXT_FRAME && a->opcode != WSLAY_BINARY_FRAME)
		return;
	/* The end of a data message; the empty [0x01] after the handshake ends here too. */
	if (s->channel == EXEC_STATUS && !s->status_seen) {
		s->status_seen = true;
		s->status_at = now_ms();
		err_clear(&s->status_err);
		s->status_rc = exec_status_parse(s->status.data ? s->status.data : "",
		    s->status.len, &s->exit_code, &s->status_err);
	}
	s->channel = -1;
	s->want_channel = true;
}

static struct session *
session_new(const struct exec_opts *o)
{
	struct wslay_event_callbacks cb = {
		.recv_callback = ws_recv,
		.send_callback = ws_send,
		.genmask_callback = ws_genmask,
		.on_frame_recv_start_callback = ws_frame_start,
		.on_frame_recv_chunk_callback = ws_frame_chunk,
		.on_msg_recv_callback = ws_msg,
	};
	struct session *s = xcalloc(1, sizeof *s);

	s->o = o;
	s->in = xmalloc(IN_CAP);
	s->out = xmalloc(OUT_CAP);
	s->out_fd = -1;
	s->sock = CURL_SOCKET_BAD;
	s->channel = -1;
	s->want_channel = true;
	err_clear(&s->fail);
	err_clear(&s->status_err);
	if (wslay_event_context_client_init(&s->ws, &cb, s) != 0) {
		free(s->in);
		free(s->out);
		free(s);
		return NULL;
	}
	/* Stream the payload as it comes instead of gathering whole messages. */
	wslay_event_config_set_no_buffering(s->ws, 1);
	return s;
}

static void
session_free(struct session *s)
{
	if (s == NULL)
		return;
	wslay_event_context_free(s->ws);
	buf_free(&s->status);
	free(s->in);
	free(s->out);
	free(s);
}

/* Hand what is in s->in to wslay; -1 on a protocol or output failure. */
static int
session_consume(struct session *s, struct err *e)
{
	int rc;

	if (!wslay_event_get_read_enabled(s->ws)) {
		s->in_off = s->in_len = 0;	/* after a Close: nothing more counts */
		return 0;
	}
	rc = wslay_event_recv(s->ws);
	if (s->failed) {
		*e = s->fail;
		return -1;
	}
	if (rc != 0) {
		return err_set(e, "the exec stream from the API server is not valid WebSocket framing "
		    "(wslay error %d)", rc);
	}
	if (!wslay_event_get_read_enabled(s->ws) && !s->close_seen) {
		/* wslay refused a frame and queued a protocol-error Close. */
		return err_set(e, "the exec stream from the API server broke the WebSocket protocol");
	}
	return 0;
}

/* How the session ended, once the stream is over. */
static int
session_result(struct session *s, struct exec_result *r, struct err *e)
{
	if (r != NULL) {
		r->stdout_bytes = s->counts[EXEC_STDOUT];
		r->stderr_bytes = s->counts[EXEC_STDERR];
	}
	if (out_flush(s) < 0 || s->failed) {
		*e = s->fail;
		return -1;
	}
	if (s->status_seen) {
		if (s->status_rc < 0) {
			*e = s->status_err;
			return -1;
		}
		if (r != NULL)
			r->exit_code = s->exit_code;
		return 0;
	}
	if (s->close_seen)
		return err_set(e, "the API server closed the exec stream (code %u) before the "
		    "command's exit status arrived", (unsigned)s->close_code);
	return err_set(e, "the connection to the API server ended before the command's exit "
	    "status arrived (after %llu bytes of output)",
	    (unsigned long long)(s->counts[1] + s->counts[2]));
}

/* ---- the demux on its own (tests) ---- */

struct exec_demux {
	struct session *s;
};

struct exec_demux *
exec_demux_new(const struct exec_opts *o, exec_sink_fn sink, void *sink_arg)
{
	struct exec_demux *d = xcalloc(1, sizeof *d);

	d->s = session_new(o);
	d->s->sink = sink;
	d->s->sink_arg = sink_arg;
	d->s->v5 = true;
	return d;
}

int
exec_demux_feed(struct exec_demux *d, const void *p, size_t n, struct err *e)
{
	struct session *s = d->s;
	const unsigned char *c = p;

	while (n > 0) {
		size_t take = n < IN_CAP ? n : IN_CAP;

		memcpy(s->in, c, take);
		s->in_off = 0;
		s->in_len = take;
		c += take;
		n -= take;
		if (session_consume(s, e) < 0)
			return -1;
		if (wslay_event_want_write(s->ws))
			wslay_event_send(s->ws);
	}
	return s->status_seen || s->close_seen ? 1 : 0;
}

int
exec_demux_finish(struct exec_demux *d, struct exec_result *r, struct err *e)
{
	return session_result(d->s, r, e);
}

void
exec_demux_free(struct exec_demux *d)
{
	if (d == NULL)
		return;
	session_free(d->s);
	free(d);
}

/* ---- the connection ---- */

struct conn {
	CURL *h;
	curl_socket_t sock;
	char *url;		/* for messages: no secrets in it */
	char *path;		/* API path, for messages */
	const char *protocol;
	unsigned char *extra;	/* bytes after the 101's headers: the first frames */
	size_t extra_len;
	bool retry;		/* the handshake failed in a way worth another try */
	long retry_after;	/* its Retry-After (seconds), or -1 */
};

static void
conn_free(struct conn *c)
{
	if (c->h != NULL)
		curl_easy_cleanup(c->h);
	free(c->url);
	free(c->path);
	free(c->extra);
	memset(c, 0, sizeof *c);
	c->sock = CURL_SOCKET_BAD;
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
timed_out(struct err *e, const char *what, struct conn *c)
{
	err_set(e, "exec in %s: timed out %s", c->path, what);
	e->reason = "Timeout";
	return -1;
}

static int
send_all(struct conn *c, const char *p, size_t n, long long deadline, struct err *e)
{
	while (n > 0) {
		size_t sent = 0;
		CURLcode cc = curl_easy_send(c->h, p, n, &sent);

		if (cc == CURLE_AGAIN) {
			if (now_ms() >= deadline)
				return timed_out(e, "sending the upgrade request", c);
			if (sig_interrupted()) {
				return err_interrupted(e, "interrupted");
			}
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
recv_some(struct conn *c, struct buf *b, size_t max, long long deadline, struct err *e)
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
		if (sig_interrupted()) {
			return err_interrupted(e, "interrupted");
		}
		wait_sock(c->sock, POLLIN, deadline);
	}
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

/* The error body of a refused upgrade. */
static int
read_body(struct conn *c, struct buf *b, struct resp *r, struct buf *body,
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
refused(struct conn *c, const struct exec_opts *o, struct resp *r, struct buf *body,
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
connect_failure(struct conn *c, struct kube *k, CURLcode cc, struct err *e)
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

/*
 * Connect and upgrade.  0: c is a WebSocket; 1: 401, credentials may be
 * refreshed; -1: error.
 */
static int
handshake(struct kube *k, const struct exec_opts *o, const char *query,
    long long deadline, struct conn *c, struct err *e)
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

static char *
exec_query(const struct exec_opts *o)
{
	struct buf q = BUF_INIT;
	bool has_stdin = o->stdin_buf != NULL || o->stdin_fd >= 0;

	for (char *const *a = o->argv; *a != NULL; a++)
		kube_query_add(&q, "command", *a);
	if (o->container != NULL)
		kube_query_add(&q, "container", o->container);
	if (has_stdin)
		kube_query_add(&q, "stdin", "true");
	kube_query_add(&q, "stdout", "true");
	/* With a tty the remote merges stderr into stdout; asking for both is an error. */
	if (o->tty)
		kube_query_add(&q, "tty", "true");
	else
		kube_query_add(&q, "stderr", "true");
	return buf_detach(&q);
}

/* ---- the session loop ---- */

static int
queue_msg(struct session *s, const unsigned char *p, size_t n)
{
	struct wslay_event_msg m = { WSLAY_BINARY_FRAME, p, n };

	return wslay_event_queue_msg(s->ws, &m) == 0 ? 0 : -1;
}

static void
queue_resize(struct session *s)
{
	struct winsize ws;
	char msg[64];
	int n;

	if (ioctl(s->o->term_fd, TIOCGWINSZ, &ws) < 0 || ws.ws_col == 0)
		return;
	n = snprintf(msg + 1, sizeof msg - 1, "{\"Width\":%u,\"Height\":%u}",
	    (unsigned)ws.ws_col, (unsigned)ws.ws_row);
	msg[0] = EXEC_RESIZE;
	queue_msg(s, (unsigned char *)msg, (size_t)n + 1);
}

struct stdin_state {
	bool active;		/* there is stdin and it has not ended */
	bool ready;		/* the descriptor polled readable */
	size_t off;		/* into stdin_buf */
	uint64_t bytes;
};

/* Queue stdin while the send queue is short; -1 on a read error. */
static int
feed_stdin(struct session *s, struct stdin_state *st, struct err *e)
{
	const struct exec_opts *o = s->o;
	unsigned char buf[STDIN_CHUNK + 1];

	buf[0] = EXEC_STDIN;
	while (st->active && wslay_event_get_queued_msg_length(s->ws) < SEND_QUEUE_MAX) {
		size_t n;

		if (o->stdin_buf != NULL) {
			n = o->stdin_len - st->off < STDIN_CHUNK ? o->stdin_len - st->off : STDIN_CHUNK;
			if (n > 0) {
				memcpy(buf + 1, o->stdin_buf + st->off, n);
				st->off += n;
			}
		} else {
			ssize_t got;

			if (!st->ready)
				return 0;
			got = read(o->stdin_fd, buf + 1, STDIN_CHUNK);
			if (got < 0 && (errno == EINTR || errno == EAGAIN)) {
				st->ready = false;
				return 0;
			}
			if (got < 0)
				return err_set(e, "cannot read the input for the command: %s",
				    strerror(errno));
			n = (size_t)got;
			/* A terminal or pipe gives what it has: poll again before the next read. */
			st->ready = false;
		}
		if (n > 0) {
			if (queue_msg(s, buf, n + 1) < 0)
				return 0;	/* closing: no more input matters */
			st->bytes += n;
			if (o->stdin_buf == NULL)
				continue;
			if (st->off < o->stdin_len)
				continue;
		}
		/* End of input: v5 half-closes stdin; v4 has no way to say so. */
		st->active = false;
		if (s->v5) {
			static const unsigned char close_stdin[2] = { EXEC_CLOSE, EXEC_STDIN };

			queue_msg(s, close_stdin, sizeof close_stdin);
		}
	}
	return 0;
}

static int
run_session(struct session *s, struct conn *c, long long deadline, struct exec_result *r,
    struct err *e)
{
	const struct exec_opts *o = s->o;
	struct stdin_state st = { .active = o->stdin_buf != NULL || o->stdin_fd >= 0 };
	long long last_io = now_ms();
	bool eof = false, bulk = false;

	/* The bytes that came with the 101 are the first frames. */
	for (size_t off = 0; off < c->extra_len;) {
		size_t n = c->extra_len - off < IN_CAP ? c->extra_len - off : IN_CAP;

		memcpy(s->in, c->extra + off, n);
		s->in_off = 0;
		s->in_len = n;
		off += n;
		if (session_consume(s, e) < 0)
			return -1;
	}
	if (o->tty && o->term_fd >= 0)
		queue_resize(s);

	for (;;) {
		struct pollfd pfd[2];
		int nfd = 0, reads = 0, timeout;
		size_t round = 0;
		bool more = false;
		long long t;

		if (sig_interrupted()) {
			return err_interrupted(e, "interrupted");
		}
		if (winch_flag) {
			winch_flag = 0;
			if (o->tty && o->term_fd >= 0)
				queue_resize(s);
		}

		/* Read what the connection has, in bounded rounds so stdin gets its turn. */
		while (!eof && wslay_event_get_read_enabled(s->ws)) {
			size_t got = 0;
			CURLcode cc;

			if (reads++ == 64) {
				more = true;
				break;
			}
			cc = curl_easy_recv(c->h, s->in, IN_CAP, &got);
			if (cc == CURLE_AGAIN)
				break;
			if (cc != CURLE_OK) {
				/* A reset is a connection that ended: the result says how much came. */
				log_debug(LOG_STEPS, "exec: reading the stream: %s", curl_easy_strerror(cc));
				eof = true;
				break;
			}
			if (got == 0) {
				eof = true;
				break;
			}
			last_io = now_ms();
			round += got;
			s->in_off = 0;
			s->in_len = got;
			if (session_consume(s, e) < 0)
				return -1;
		}
		if (!o->tty && !eof) {
			/*
			 * While output pours in, let the kernel gather a good amount
			 * before waking us: fewer, larger reads for the same bytes.  A
			 * trickle (or the final Status) turns it off again.
			 */
			bool b = round >= BULK_ROUND ? true : round < BULK_ROUND / 4 ? false : bulk;

			if (b != bulk) {
				int lowat = b ? BULK_LOWAT : 1;

				setsockopt(c->sock, SOL_SOCKET, SO_RCVLOWAT, &lowat, sizeof lowat);
				bulk = b;
			}
		}

		if (!s->status_seen && !s->close_seen && feed_stdin(s, &st, e) < 0)
			return -1;
		if (s->status_seen && wslay_event_get_read_enabled(s->ws) &&
		    !wslay_event_get_close_sent(s->ws) && now_ms() - s->status_at > CLOSE_GRACE_MS) {
			/* The Status came but the Close did not: end it ourselves. */
			wslay_event_queue_close(s->ws, WSLAY_CODE_NORMAL_CLOSURE, NULL, 0);
			wslay_event_shutdown_read(s->ws);
		}
		if (o->tty && now_ms() - last_io > PING_IDLE_MS && !s->close_seen) {
			struct wslay_event_msg ping = { WSLAY_PING, NULL, 0 };

			wslay_event_queue_msg(s->ws, &ping);
			last_io = now_ms();
		}
		s->send_blocked = false;
		if (wslay_event_want_write(s->ws) && wslay_event_send(s->ws) != 0) {
			if (s->transport_failed && (s->status_seen || s->close_seen))
				break;	/* the peer is gone after saying everything */
			if (s->transport_failed)
				log_debug(LOG_STEPS, "exec: sending: %s", curl_easy_strerror(s->send_cc));
			eof = true;
		}

		/* Over? */
		if (eof || s->failed)
			break;
		if ((s->status_seen || s->close_seen) && !wslay_event_want_write(s->ws) &&
		    (wslay_event_get_close_sent(s->ws) || !wslay_event_get_read_enabled(s->ws)))
			break;

		t = now_ms();
		if (deadline > 0 && t >= deadline) {
			out_flush(s);
			err_set(e, "the command in pod \"%s\" did not finish within the time limit "
			    "(%.0f s)", o->pod, (double)o->timeout_ms / 1000.0);
			e->reason = "Timeout";
			return -1;
		}
		if (out_flush(s) < 0) {
			*e = s->fail;
			return -1;
		}
		if (more)
			continue;

		pfd[nfd].fd = c->sock;
		pfd[nfd].events = 0;
		if (wslay_event_get_read_enabled(s->ws))
			pfd[nfd].events |= POLLIN;
		if (s->send_blocked)
			pfd[nfd].events |= POLLOUT;
		nfd++;
		if (st.active && o->stdin_buf == NULL && !st.ready &&
		    wslay_event_get_queued_msg_length(s->ws) < SEND_QUEUE_MAX) {
			pfd[nfd].fd = o->stdin_fd;
			pfd[nfd].events = POLLIN;
			nfd++;
		}
		/* In bulk, the low-water mark may hold back a short tail: look anyway soon. */
		timeout = bulk ? BULK_POLL_MS : POLL_MS;
		if (deadline > 0 && deadline - t < timeout)
			timeout = (int)(deadline - t);
		if (poll(pfd, (nfds_t)nfd, timeout) < 0 && errno != EINTR)
			return err_set(e, "poll: %s", strerror(errno));
		if (nfd > 1 && pfd[1].revents != 0)
			st.ready = true;	/* readable, EOF or error: read() says which */
	}
	if (r != NULL)
		r->stdin_bytes = st.bytes;
	return session_result(s, r, e);
}

int
kube_exec(struct kube *k, const struct exec_opts *o, struct exec_result *r,
    struct err *e)
{
	long long start = now_ms();
	long long deadline = o->timeout_ms > 0 ? start + o->timeout_ms : 0;
	long long hs_deadline = start + (o->connect_timeout_ms > 0 ? o->connect_timeout_ms :
	    CONNECT_TIMEOUT_MS);
	struct conn c = { .sock = CURL_SOCKET_BAD };
	struct session *s = NULL;
	struct sigaction winch, old_winch;
	bool winch_set = false;
	char *query;
	int rc = -1;

	if (r != NULL)
		memset(r, 0, sizeof *r);
	if (o->argv == NULL || o->argv[0] == NULL)
		return err_set(e, "exec: no command to run");
	if (o->ns == NULL || o->pod == NULL)
		return err_set(e, "exec: no pod to run in");
	if (deadline > 0 && deadline < hs_deadline)
		hs_deadline = deadline;
	query = exec_query(o);
	for (int attempt = 0, reauthed = 0;; attempt++) {
		unsigned int rnd = 0;
		long delay = 0;

		rc = handshake(k, o, query, hs_deadline, &c, e);
		if (rc == 1 && !reauthed && kube_reauth(k)) {
			log_debug(LOG_STEPS, "exec: 401, trying again with fresh credentials");
			reauthed = 1;
			conn_free(&c);
			err_clear(e);
			continue;
		}
		/*
		 * The command starts only after the upgrade, so a handshake that
		 * was throttled, refused with a 5xx or broken may be tried again,
		 * as the REST client does (Retry-After honoured, jittered backoff).
		 */
		(void)RAND_bytes((unsigned char *)&rnd, sizeof rnd);
		if (rc < 0 && c.retry && retry_decide(&retry_default,
		    e->http ? RETRY_HTTP : RETRY_BROKEN, e->http, true, attempt + 1,
		    c.retry_after, (long)(now_ms() - start), rnd / 4294967296.0, &delay) &&
		    now_ms() + delay < hs_deadline) {
			log_debug(LOG_STEPS, "retrying exec in %s/%s in %ld ms (attempt %d): %s",
			    o->ns, o->pod, delay, attempt + 2, e->msg);
			conn_free(&c);
			if (!sleep_ms(delay)) {
				err_interrupted(e, "interrupted");
				break;
			}
			err_clear(e);
			continue;
		}
		break;
	}
	free(query);
	if (rc != 0) {
		rc = -1;
		goto out;
	}
	rc = -1;
	if (r != NULL)
		r->protocol = c.protocol;
	log_debug(LOG_STEPS, "exec in pod %s/%s: %s", o->ns, o->pod, c.protocol);

	s = session_new(o);
	s->h = c.h;
	s->sock = c.sock;
	s->v5 = strcmp(c.protocol, EXEC_PROTO_V5) == 0;
	if (!s->v5 && o->stdin_needs_eof && (o->stdin_buf != NULL || o->stdin_fd >= 0)) {
		err_set(e, "this API server speaks only %s, which cannot tell the command that "
		    "its input ended, so the command would wait forever", EXEC_PROTO_V4);
		err_hint(e, "pass the input another way (for psql: -c SQL, or a smaller -f file)");
		goto out;
	}
	if (o->tty && o->term_fd >= 0) {
		if (isatty(o->term_fd) && term_raw(o->term_fd, e) < 0)
			goto out;
		memset(&winch, 0, sizeof winch);
		winch.sa_handler = on_winch;
		sigemptyset(&winch.sa_mask);
		winch_flag = 0;
		if (sigaction(SIGWINCH, &winch, &old_winch) == 0)
			winch_set = true;
	}
	rc = run_session(s, &c, deadline, r, e);
	log_debug(LOG_STEPS, "exec: %llu bytes out, %llu bytes err, %s",
	    (unsigned long long)s->counts[1], (unsigned long long)s->counts[2],
	    rc == 0 ? "exit status received" : "failed");
out:
	term_restore();
	if (winch_set)
		sigaction(SIGWINCH, &old_winch, NULL);
	session_free(s);
	conn_free(&c);
	return rc;
}
