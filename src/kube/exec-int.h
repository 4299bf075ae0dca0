/* exec-int.h: what the pieces of kube_exec share (private to src/kube/exec*.c) */
#ifndef NUB_EXEC_INT_H
#define NUB_EXEC_INT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <curl/curl.h>
#include <wslay/wslay.h>

#include "../util/buf.h"
#include "../util/err.h"
#include "exec.h"

#define IN_CAP (64 * 1024)		/* bytes read from the connection at a time */
#define SEND_QUEUE_MAX (256 * 1024)	/* stdin queued but not yet sent */
#define POLL_MS 250			/* wake to notice signals */

/* ---- the connection: TLS by libcurl, upgraded by hand (exec-upgrade.c) ---- */

struct exec_conn {
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

void exec_conn_free(struct exec_conn *c);
/*
 * Connect and upgrade.  0: c is a WebSocket; 1: 401, credentials may be
 * refreshed; -1: error (c->retry says whether another try may pass).
 */
int exec_handshake(struct kube *k, const struct exec_opts *o, const char *query,
    long long deadline, struct exec_conn *c, struct err *e);

/* ---- a session: the framing state, transport-agnostic (exec-ws.c) ---- */

struct exec_session {
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

/* NULL when wslay cannot set up. */
struct exec_session *exec_session_new(const struct exec_opts *o);
void exec_session_free(struct exec_session *s);
/* Hand what is in s->in to wslay; -1 on a protocol or output failure. */
int exec_session_consume(struct exec_session *s, struct err *e);
/* Write out the output gathered; -1 with s->fail set when that failed. */
int exec_session_flush(struct exec_session *s);
/* Queue one binary message (channel byte first); -1 when closing. */
int exec_session_queue(struct exec_session *s, const unsigned char *p, size_t n);
/* How the session ended, once the stream is over. */
int exec_session_result(struct exec_session *s, struct exec_result *r, struct err *e);

/* ---- stdin to the command (exec-stdin.c) ---- */

struct exec_stdin {
	bool active;		/* there is stdin and it has not ended */
	bool ready;		/* the descriptor polled readable */
	size_t off;		/* into stdin_buf */
	uint64_t bytes;
};

/* Queue stdin while the send queue is short; -1 on a read error. */
int exec_stdin_feed(struct exec_session *s, struct exec_stdin *st, struct err *e);

#endif
