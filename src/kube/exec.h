/* exec.h: run a command in a pod over WebSocket (pods/exec, v5/v4.channel.k8s.io) */
#ifndef NUB_EXEC_H
#define NUB_EXEC_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "../util/err.h"
#include "client.h"

/* The subprotocols we offer, best first, as one Sec-WebSocket-Protocol value. */
#define EXEC_PROTO_V5 "v5.channel.k8s.io"
#define EXEC_PROTO_V4 "v4.channel.k8s.io"

/* Channels: the first byte of every binary message. */
enum exec_channel {
	EXEC_STDIN = 0,
	EXEC_STDOUT = 1,
	EXEC_STDERR = 2,
	EXEC_STATUS = 3,
	EXEC_RESIZE = 4,
	EXEC_CLOSE = 255,	/* v5: {0xFF, channel} half-closes a stream */
};

/*
 * Where the command's output goes, when the caller wants it as it arrives
 * rather than on a file descriptor: called once per piece (any size), in
 * order.  Return 0 to go on, -1 to stop the session (fill e).
 */
typedef int (*exec_output_fn)(enum exec_channel ch, const void *p, size_t n,
    void *arg, struct err *e);

struct exec_opts {
	const char *ns;
	const char *pod;
	const char *container;		/* NULL: the pod's default container */
	char *const *argv;		/* NULL-terminated, at least one element */

	/*
	 * stdin: a buffer (stdin_buf != NULL), else a descriptor (stdin_fd >= 0),
	 * else none.  At its end a v5 session half-closes stdin, so `cat' or
	 * `psql -f -' see EOF.  A v4 session CANNOT signal the end of stdin: the
	 * command keeps waiting for more.  Callers that need stdin EOF set
	 * stdin_needs_eof, and kube_exec then fails before sending anything when
	 * the server only speaks v4; on v4 pass input as arguments instead (psql -c).
	 */
	const char *stdin_buf;
	size_t stdin_len;
	int stdin_fd;
	bool stdin_needs_eof;

	/*
	 * stdout and stderr: descriptors (-1 discards), written fully as the
	 * bytes arrive, never buffered whole; or, when `output' is set, that
	 * callback instead.  With tty the remote merges stderr into stdout.
	 */
	int stdout_fd;
	int stderr_fd;
	exec_output_fn output;
	void *output_arg;

	/*
	 * tty: a terminal in the pod.  term_fd >= 0 names our own terminal: it is
	 * put in raw mode for the session (Ctrl-C and friends go through to the
	 * remote as bytes) and restored on every way out; its size is sent at the
	 * start and again on each SIGWINCH (channel 4).
	 */
	bool tty;
	int term_fd;

	long timeout_ms;		/* the whole session, handshake included; 0 = none */
	long connect_timeout_ms;	/* TCP+TLS+upgrade; 0 = 30 s */
};

/* Every descriptor -1: start from this, then set what you need. */
#define EXEC_OPTS_INIT { .stdin_fd = -1, .stdout_fd = -1, .stderr_fd = -1, .term_fd = -1 }

struct exec_result {
	int exit_code;			/* the command's exit code (valid when kube_exec returns 0) */
	const char *protocol;		/* EXEC_PROTO_V5 or EXEC_PROTO_V4 (static), or NULL */
	uint64_t stdin_bytes;
	uint64_t stdout_bytes;
	uint64_t stderr_bytes;
};

/*
 * Run o->argv in the pod and stream until the command ends.  Returns 0 when
 * the command's exit status arrived (r->exit_code: 0, or the remote exit code
 * from a NonZeroExitCode Status); -1 otherwise, with e saying why: the
 * handshake (403 without a body: no WebSocket exec on this server; 403 with
 * a Status: the pods/exec permission; 404: which pod), another Failure Status
 * (its message verbatim), a connection that ended before the Status, a
 * timeout (e->reason "Timeout"), or an interrupt (e->exit EXIT_INTERRUPTED).
 * Credentials come from the client (same kubeconfig, exec plugins); a 401
 * refreshes them and tries once more.
 */
int kube_exec(struct kube *k, const struct exec_opts *o, struct exec_result *r,
    struct err *e);

/* ---- the pieces, exposed for tests ---- */

/* base64(SHA-1(key + the RFC 6455 GUID)): the Sec-WebSocket-Accept for key (out >= 29 bytes). */
void exec_ws_accept(const char *key, char *out);

/*
 * A channel-3 Status: 0 with *exit_code set (Success is 0, NonZeroExitCode
 * gives the ExitCode cause), or -1 with the Failure's message in e.
 */
int exec_status_parse(const char *json, size_t len, int *exit_code, struct err *e);

/*
 * The receiving side of a session without the network: feed it the bytes
 * the server sent after the 101 and it demultiplexes them to o's outputs.
 * exec_demux_feed returns 0 while the session goes on, 1 once it ended
 * (Status and/or Close seen), -1 on a protocol or output error.
 * exec_demux_finish says how it ended, as kube_exec would (the connection
 * ended after the bytes fed).  Anything the demux wants to send (close
 * replies, pongs) goes to `sink' (may be NULL).
 */
struct exec_demux;
typedef void (*exec_sink_fn)(const void *p, size_t n, void *arg);
struct exec_demux *exec_demux_new(const struct exec_opts *o, exec_sink_fn sink,
    void *sink_arg);
int exec_demux_feed(struct exec_demux *d, const void *p, size_t n, struct err *e);
int exec_demux_finish(struct exec_demux *d, struct exec_result *r, struct err *e);
void exec_demux_free(struct exec_demux *d);

#endif
