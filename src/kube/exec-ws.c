/* exec-ws.c: a WebSocket exec session (wslay): channels demultiplexed, the exit Status read */
#include <errno.h>
#include <poll.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <json-c/json.h>
#include <openssl/rand.h>

#include "../util/jsonout.h"
#include "../util/sig.h"
#include "../util/xalloc.h"
#include "exec-int.h"
#include "status.h"

#define OUT_CAP (128 * 1024)		/* output gathered before one write() */
#define STATUS_MAX (1024 * 1024)

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
			if (sig_interrupted())
				return err_interrupted(e, "interrupted");
			continue;
		}
		if (w < 0 && errno == EAGAIN) {
			struct pollfd pfd = { .fd = fd, .events = POLLOUT };

			poll(&pfd, 1, POLL_MS);
			if (sig_interrupted())
				return err_interrupted(e, "interrupted");
			continue;
		}
		return err_set(e, "cannot write the command's %s: %s", what,
		    w < 0 ? strerror(errno) : "nothing written");
	}
	return 0;
}

int
exec_session_flush(struct exec_session *s)
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
deliver(struct exec_session *s, int ch, const unsigned char *p, size_t n)
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
	if (s->out_len > 0 && s->out_fd != fd && exec_session_flush(s) < 0)
		return;
	s->out_fd = fd;
	s->out_what = ch == EXEC_STDOUT ? "output" : "error output";
	if (n >= OUT_CAP) {
		if (exec_session_flush(s) == 0 && write_full(fd, p, n, s->out_what, &s->fail) < 0)
			s->failed = true;
		return;
	}
	if (s->out_len + n > OUT_CAP && exec_session_flush(s) < 0)
		return;
	memcpy(s->out + s->out_len, p, n);
	s->out_len += n;
}

static ssize_t
ws_recv(wslay_event_context_ptr ctx, uint8_t *buf, size_t len, int flags, void *arg)
{
	struct exec_session *s = arg;
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
	struct exec_session *s = arg;
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
	struct exec_session *s = arg;

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
	struct exec_session *s = arg;
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
	struct exec_session *s = arg;

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

struct exec_session *
exec_session_new(const struct exec_opts *o)
{
	struct wslay_event_callbacks cb = {
		.recv_callback = ws_recv,
		.send_callback = ws_send,
		.genmask_callback = ws_genmask,
		.on_frame_recv_start_callback = ws_frame_start,
		.on_frame_recv_chunk_callback = ws_frame_chunk,
		.on_msg_recv_callback = ws_msg,
	};
	struct exec_session *s = xcalloc(1, sizeof *s);

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

void
exec_session_free(struct exec_session *s)
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
int
exec_session_consume(struct exec_session *s, struct err *e)
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
int
exec_session_result(struct exec_session *s, struct exec_result *r, struct err *e)
{
	if (r != NULL) {
		r->stdout_bytes = s->counts[EXEC_STDOUT];
		r->stderr_bytes = s->counts[EXEC_STDERR];
	}
	if (exec_session_flush(s) < 0 || s->failed) {
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

int
exec_session_queue(struct exec_session *s, const unsigned char *p, size_t n)
{
	struct wslay_event_msg m = { WSLAY_BINARY_FRAME, p, n };

	return wslay_event_queue_msg(s->ws, &m) == 0 ? 0 : -1;
}

/* ---- the demux on its own (tests) ---- */

struct exec_demux {
	struct exec_session *s;
};

struct exec_demux *
exec_demux_new(const struct exec_opts *o, exec_sink_fn sink, void *sink_arg)
{
	struct exec_demux *d = xcalloc(1, sizeof *d);

	d->s = exec_session_new(o);
	d->s->sink = sink;
	d->s->sink_arg = sink_arg;
	d->s->v5 = true;
	return d;
}

int
exec_demux_feed(struct exec_demux *d, const void *p, size_t n, struct err *e)
{
	struct exec_session *s = d->s;
	const unsigned char *c = p;

	while (n > 0) {
		size_t take = n < IN_CAP ? n : IN_CAP;

		memcpy(s->in, c, take);
		s->in_off = 0;
		s->in_len = take;
		c += take;
		n -= take;
		if (exec_session_consume(s, e) < 0)
			return -1;
		if (wslay_event_want_write(s->ws))
			wslay_event_send(s->ws);
	}
	return s->status_seen || s->close_seen ? 1 : 0;
}

int
exec_demux_finish(struct exec_demux *d, struct exec_result *r, struct err *e)
{
	return exec_session_result(d->s, r, e);
}

void
exec_demux_free(struct exec_demux *d)
{
	if (d == NULL)
		return;
	exec_session_free(d->s);
	free(d);
}
