/* exec.c: pods/exec over WebSocket: kube_exec, the handshake retried, then the session loop */
#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <unistd.h>

#include <openssl/rand.h>

#include "../util/log.h"
#include "../util/rawtty.h"
#include "../util/sig.h"
#include "exec-int.h"
#include "retry.h"
#include "url.h"

#define CONNECT_TIMEOUT_MS 30000L
#define CLOSE_GRACE_MS 2000		/* after the Status, wait this long for the Close */
#define PING_IDLE_MS 30000		/* keep an idle interactive session alive */
#define BULK_ROUND (64 * 1024)		/* a read round this big means bulk output */
#define BULK_LOWAT (128 * 1024)		/* then wake when this much is waiting */
#define BULK_POLL_MS 3			/* or after this long */

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

static void
queue_resize(struct exec_session *s)
{
	struct winsize ws;
	char msg[64];
	int n;

	if (ioctl(s->o->term_fd, TIOCGWINSZ, &ws) < 0 || ws.ws_col == 0)
		return;
	n = snprintf(msg + 1, sizeof msg - 1, "{\"Width\":%u,\"Height\":%u}",
	    (unsigned)ws.ws_col, (unsigned)ws.ws_row);
	msg[0] = EXEC_RESIZE;
	exec_session_queue(s, (unsigned char *)msg, (size_t)n + 1);
}

static int
run_session(struct exec_session *s, struct exec_conn *c, long long deadline,
    struct exec_result *r, struct err *e)
{
	const struct exec_opts *o = s->o;
	struct exec_stdin st = { .active = o->stdin_buf != NULL || o->stdin_fd >= 0 };
	long long last_io = now_ms();
	bool eof = false, bulk = false;

	/* The bytes that came with the 101 are the first frames. */
	for (size_t off = 0; off < c->extra_len;) {
		size_t n = c->extra_len - off < IN_CAP ? c->extra_len - off : IN_CAP;

		memcpy(s->in, c->extra + off, n);
		s->in_off = 0;
		s->in_len = n;
		off += n;
		if (exec_session_consume(s, e) < 0)
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

		if (sig_interrupted())
			return err_interrupted(e, "interrupted");
		if (rawtty_winch_taken()) {
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
			if (exec_session_consume(s, e) < 0)
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

		if (!s->status_seen && !s->close_seen && exec_stdin_feed(s, &st, e) < 0)
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
			exec_session_flush(s);
			err_set(e, "the command in pod \"%s\" did not finish within the time limit "
			    "(%.0f s)", o->pod, (double)o->timeout_ms / 1000.0);
			e->reason = "Timeout";
			return -1;
		}
		if (exec_session_flush(s) < 0) {
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
	return exec_session_result(s, r, e);
}

int
kube_exec(struct kube *k, const struct exec_opts *o, struct exec_result *r,
    struct err *e)
{
	long long start = now_ms();
	long long deadline = o->timeout_ms > 0 ? start + o->timeout_ms : 0;
	long long hs_deadline = start + (o->connect_timeout_ms > 0 ? o->connect_timeout_ms :
	    CONNECT_TIMEOUT_MS);
	struct exec_conn c = { .sock = CURL_SOCKET_BAD };
	struct exec_session *s = NULL;
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

		rc = exec_handshake(k, o, query, hs_deadline, &c, e);
		if (rc == 1 && !reauthed && kube_reauth(k)) {
			log_debug(LOG_STEPS, "exec: 401, trying again with fresh credentials");
			reauthed = 1;
			exec_conn_free(&c);
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
			exec_conn_free(&c);
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

	s = exec_session_new(o);
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
		if (isatty(o->term_fd) && rawtty_enter(o->term_fd, e) < 0)
			goto out;
		rawtty_winch_start();
	}
	rc = run_session(s, &c, deadline, r, e);
	log_debug(LOG_STEPS, "exec: %llu bytes out, %llu bytes err, %s",
	    (unsigned long long)s->counts[1], (unsigned long long)s->counts[2],
	    rc == 0 ? "exit status received" : "failed");
out:
	rawtty_restore();
	rawtty_winch_stop();
	exec_session_free(s);
	exec_conn_free(&c);
	return rc;
}
