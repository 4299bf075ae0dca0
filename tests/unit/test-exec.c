/* test-exec.c: the WebSocket exec pieces without a server: handshake key, Status, framing */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <criterion/criterion.h>

#include "../../src/kube/exec-test.h"
#include "../../src/kube/exec.h"
#include "../../src/util/buf.h"

/* ---- handshake ---- */

Test(exec, accept_rfc6455_example)
{
	char out[64];

	/* RFC 6455 section 1.3. */
	exec_ws_accept("dGhlIHNhbXBsZSBub25jZQ==", out);
	cr_assert_str_eq(out, "s3pPLMBiTxaQ9kYGzzhZRbK+xOo=");
}

Test(exec, accept_other_key)
{
	char out[64];

	/* python3 -c 'import base64,hashlib; print(base64.b64encode(hashlib.sha1(
	 * b"x3JJHMbDL1EzLkh9GBhXDw==258EAFA5-E914-47DA-95CA-C5AB0DC85B11").digest()))' */
	exec_ws_accept("x3JJHMbDL1EzLkh9GBhXDw==", out);
	cr_assert_str_eq(out, "HSmrc0sMlYUkAGmm5OPpG2HaGWk=");
}

/* ---- Status ---- */

static int
parse(const char *json, int *code, struct err *e)
{
	err_clear(e);
	return exec_status_parse(json, strlen(json), code, e);
}

Test(exec, status_success)
{
	struct err e;
	int code;

	/* As the API server spells it, spaces and all. */
	cr_assert_eq(parse("{\"metadata\": {}, \"status\": \"Success\"}", &code, &e), 0);
	cr_assert_eq(code, 0);
}

Test(exec, status_exit_codes)
{
	static const int codes[] = { 1, 2, 3, 127, 255 };
	struct err e;
	int code;

	for (size_t i = 0; i < sizeof codes / sizeof codes[0]; i++) {
		char json[512];

		snprintf(json, sizeof json, "{\"metadata\":{},\"status\":\"Failure\",\"message\":"
		    "\"command terminated with non-zero exit code: error executing command [sh -c "
		    "exit %d], exit code %d\",\"reason\":\"NonZeroExitCode\",\"details\":{\"causes\":"
		    "[{\"reason\":\"ExitCode\",\"message\":\"%d\"}]}}", codes[i], codes[i], codes[i]);
		cr_assert_eq(parse(json, &code, &e), 0, "%s", e.msg);
		cr_assert_eq(code, codes[i]);
	}
}

Test(exec, status_other_failure_verbatim)
{
	struct err e;
	int code;
	const char *msg = "Internal error occurred: error executing command in container: failed "
	    "to exec in container: exec: \\\"nope\\\": executable file not found in $PATH: unknown";
	char json[1024];

	snprintf(json, sizeof json, "{\"status\":\"Failure\",\"message\":\"%s\","
	    "\"reason\":\"InternalError\",\"code\":500}", msg);
	cr_assert_eq(parse(json, &code, &e), -1);
	cr_assert_str_eq(e.msg, "Internal error occurred: error executing command in container: "
	    "failed to exec in container: exec: \"nope\": executable file not found in $PATH: unknown");
	cr_assert_str_eq(e.reason, "InternalError");
}

Test(exec, status_exit_code_cause_missing_is_failure)
{
	struct err e;
	int code;

	cr_assert_eq(parse("{\"status\":\"Failure\",\"reason\":\"NonZeroExitCode\","
	    "\"message\":\"command terminated with non-zero exit code\"}", &code, &e), -1);
	cr_assert_str_eq(e.msg, "command terminated with non-zero exit code");
	cr_assert_eq(parse("{\"status\":\"Failure\",\"reason\":\"NonZeroExitCode\",\"details\":"
	    "{\"causes\":[{\"reason\":\"ExitCode\",\"message\":\"x1\"}]}}", &code, &e), -1);
}

Test(exec, status_garbage)
{
	struct err e;
	int code;

	cr_assert_eq(parse("", &code, &e), -1);
	cr_assert_eq(parse("not json", &code, &e), -1);
	cr_assert(strstr(e.msg, "not a Status") != NULL, "%s", e.msg);
	cr_assert_eq(parse("[1,2]", &code, &e), -1);
	cr_assert_eq(parse("{\"status\":\"Failure\"}", &code, &e), -1);
	cr_assert_eq(parse("{\"status\":\"Success\"} trailing", &code, &e), -1);
}

/* ---- framing: a fake server's bytes through the demux ---- */

/* A server frame (never masked). */
static void
frame(struct buf *b, int fin, int opcode, const void *p, size_t n)
{
	unsigned char h[10];
	size_t hl;

	h[0] = (unsigned char)((fin ? 0x80 : 0) | opcode);
	if (n < 126) {
		h[1] = (unsigned char)n;
		hl = 2;
	} else if (n < 65536) {
		h[1] = 126;
		h[2] = (unsigned char)(n >> 8);
		h[3] = (unsigned char)n;
		hl = 4;
	} else {
		h[1] = 127;
		for (int i = 0; i < 8; i++)
			h[2 + i] = (unsigned char)((uint64_t)n >> (56 - 8 * i));
		hl = 10;
	}
	buf_append(b, h, hl);
	buf_append(b, p, n);
}

static void
msg(struct buf *b, int ch, const char *s)
{
	struct buf m = BUF_INIT;
	unsigned char c = (unsigned char)ch;

	buf_append(&m, &c, 1);
	buf_append(&m, s, strlen(s));
	frame(b, 1, 2, m.data, m.len);
	buf_free(&m);
}

static void
close_frame(struct buf *b, unsigned code)
{
	unsigned char p[2] = { (unsigned char)(code >> 8), (unsigned char)code };

	frame(b, 1, 8, p, 2);
}

struct cap {
	struct buf out, err;
	int pieces;
};

static int
capture(enum exec_channel ch, const void *p, size_t n, void *arg, struct err *e)
{
	struct cap *c = arg;

	buf_append(ch == EXEC_STDOUT ? &c->out : &c->err, p, n);
	c->pieces++;
	return 0;
}

static void
sink(const void *p, size_t n, void *arg)
{
	buf_append(arg, p, n);
}

/* Feed `in' (in pieces of `step' bytes, 0 = all at once) and finish. */
static int
run(const struct buf *in, size_t step, struct cap *c, struct buf *sent,
    struct exec_result *r, struct err *e)
{
	struct exec_opts o = EXEC_OPTS_INIT;
	struct exec_demux *d;
	int rc = 0;

	o.output = capture;
	o.output_arg = c;
	memset(c, 0, sizeof *c);
	memset(r, 0, sizeof *r);
	err_clear(e);
	d = exec_demux_new(&o, sink, sent);
	for (size_t off = 0; off < in->len && rc >= 0;) {
		size_t n = step == 0 || in->len - off < step ? in->len - off : step;

		rc = exec_demux_feed(d, in->data + off, n, e);
		off += n;
	}
	if (rc >= 0)
		rc = exec_demux_finish(d, r, e);
	exec_demux_free(d);
	return rc;
}

static void
cap_free(struct cap *c)
{
	buf_free(&c->out);
	buf_free(&c->err);
}

static void
session(struct buf *b, int code)
{
	msg(b, 1, "");				/* the empty hello */
	msg(b, 1, "hello\n");
	msg(b, 2, "oops\n");
	msg(b, 1, "world\n");
	if (code == 0) {
		msg(b, 3, "{\"metadata\": {}, \"status\": \"Success\"}");
	} else {
		char s[256];

		snprintf(s, sizeof s, "{\"status\":\"Failure\",\"reason\":\"NonZeroExitCode\","
		    "\"details\":{\"causes\":[{\"reason\":\"ExitCode\",\"message\":\"%d\"}]}}", code);
		msg(b, 3, s);
	}
	close_frame(b, 1000);
}

Test(exec, demux_streams_and_exit_code)
{
	static const size_t steps[] = { 0, 1, 2, 3, 7, 64 };

	for (size_t i = 0; i < sizeof steps / sizeof steps[0]; i++) {
		struct buf in = BUF_INIT, sent = BUF_INIT;
		struct exec_result r;
		struct cap c;
		struct err e;

		session(&in, 3);
		cr_assert_eq(run(&in, steps[i], &c, &sent, &r, &e), 0, "step %zu: %s", steps[i], e.msg);
		cr_assert_eq(r.exit_code, 3);
		cr_assert_str_eq(c.out.data, "hello\nworld\n");
		cr_assert_str_eq(c.err.data, "oops\n");
		cr_assert_eq(r.stdout_bytes, 12);
		cr_assert_eq(r.stderr_bytes, 5);
		/* Our reply to the Close: a masked close frame with code 1000. */
		cr_assert_geq(sent.len, 8);
		cr_assert_eq((unsigned char)sent.data[0], 0x88);
		cr_assert_eq((unsigned char)sent.data[1], 0x80 | 2);
		cr_assert_eq(((unsigned char)sent.data[6] ^ (unsigned char)sent.data[2]), 0x03);
		cr_assert_eq(((unsigned char)sent.data[7] ^ (unsigned char)sent.data[3]), 0xe8);
		buf_free(&in);
		buf_free(&sent);
		cap_free(&c);
	}
}

Test(exec, demux_success)
{
	struct buf in = BUF_INIT, sent = BUF_INIT;
	struct exec_result r;
	struct cap c;
	struct err e;

	session(&in, 0);
	cr_assert_eq(run(&in, 0, &c, &sent, &r, &e), 0, "%s", e.msg);
	cr_assert_eq(r.exit_code, 0);
	buf_free(&in);
	buf_free(&sent);
	cap_free(&c);
}

Test(exec, demux_fragments_and_ping)
{
	struct buf in = BUF_INIT, sent = BUF_INIT;
	struct exec_result r;
	struct cap c;
	struct err e;

	/* "\x01abc" "def" with a ping between the fragments, then a fragmented Status. */
	frame(&in, 0, 2, "\x01" "abc", 4);
	frame(&in, 1, 9, "pp", 2);
	frame(&in, 1, 0, "def", 3);
	frame(&in, 0, 2, "\x03{\"status\":", 11);
	frame(&in, 0, 0, "\"Succ", 5);
	frame(&in, 1, 0, "ess\"}", 5);
	close_frame(&in, 1000);
	cr_assert_eq(run(&in, 5, &c, &sent, &r, &e), 0, "%s", e.msg);
	cr_assert_str_eq(c.out.data, "abcdef");
	cr_assert_eq(r.exit_code, 0);
	/* A pong went back (masked, payload "pp"). */
	cr_assert_eq((unsigned char)sent.data[0], 0x8a);
	cr_assert_eq((unsigned char)sent.data[1], 0x80 | 2);
	buf_free(&in);
	buf_free(&sent);
	cap_free(&c);
}

Test(exec, demux_large_frames)
{
	struct buf in = BUF_INIT, sent = BUF_INIT;
	struct exec_result r;
	struct cap c;
	struct err e;
	size_t n = 300000;
	char *big = malloc(n + 1);

	big[0] = 1;
	for (size_t i = 1; i <= n; i++)
		big[i] = (char)(i * 7);
	frame(&in, 1, 2, big, n + 1);		/* 64-bit length */
	frame(&in, 1, 2, big, 1000);		/* 16-bit length */
	msg(&in, 3, "{\"status\":\"Success\"}");
	close_frame(&in, 1000);
	cr_assert_eq(run(&in, 4093, &c, &sent, &r, &e), 0, "%s", e.msg);
	cr_assert_eq(c.out.len, n + 999);
	cr_assert(memcmp(c.out.data, big + 1, n) == 0);
	cr_assert(memcmp(c.out.data + n, big + 1, 999) == 0);
	free(big);
	buf_free(&in);
	buf_free(&sent);
	cap_free(&c);
}

Test(exec, demux_close_before_status_is_error)
{
	struct buf in = BUF_INIT, sent = BUF_INIT;
	struct exec_result r;
	struct cap c;
	struct err e;

	msg(&in, 1, "partial");
	close_frame(&in, 1011);
	cr_assert_eq(run(&in, 0, &c, &sent, &r, &e), -1);
	cr_assert(strstr(e.msg, "before the command's exit status arrived") != NULL, "%s", e.msg);
	cr_assert(strstr(e.msg, "1011") != NULL, "%s", e.msg);
	buf_free(&in);
	buf_free(&sent);
	cap_free(&c);
}

Test(exec, demux_eof_before_status_is_error)
{
	struct buf in = BUF_INIT, sent = BUF_INIT;
	struct exec_result r;
	struct cap c;
	struct err e;

	msg(&in, 1, "some output");
	/* The connection ends in the middle of a frame. */
	frame(&in, 1, 2, "\x01" "xyz", 4);
	in.len -= 2;
	cr_assert_eq(run(&in, 0, &c, &sent, &r, &e), -1);
	cr_assert(strstr(e.msg, "ended before the command's exit status arrived") != NULL,
	    "%s", e.msg);
	buf_free(&in);
	buf_free(&sent);
	cap_free(&c);
}

Test(exec, demux_failure_status_verbatim)
{
	struct buf in = BUF_INIT, sent = BUF_INIT;
	struct exec_result r;
	struct cap c;
	struct err e;

	msg(&in, 3, "{\"status\":\"Failure\",\"message\":\"container not running\",\"reason\":\"BadRequest\"}");
	close_frame(&in, 1000);
	cr_assert_eq(run(&in, 0, &c, &sent, &r, &e), -1);
	cr_assert_str_eq(e.msg, "container not running");
	buf_free(&in);
	buf_free(&sent);
	cap_free(&c);
}

Test(exec, demux_protocol_errors)
{
	/* Each of these breaks RFC 6455 as a client sees it. */
	static const char *const bad[] = {
		"\x82\x85" "abcd" "\x01xxxx",	/* a masked frame from the server */
		"\xc2\x01" "\x01",		/* RSV1 without an extension */
		"\x80\x01" "x",			/* a continuation with nothing to continue */
		"\x89\x7e\x00\x80",		/* a control frame longer than 125 */
		"\x09\x00",			/* a fragmented control frame */
		"\x83\x00",			/* a reserved opcode */
		"\x02\x01\x01\x82\x01\x01",	/* a new message inside a fragmented one */
	};

	for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
		struct buf in = BUF_INIT, sent = BUF_INIT;
		struct exec_result r;
		struct cap c;
		struct err e;
		size_t n = 2;

		/* Lengths: header + payload as written (some contain NULs). */
		switch (i) {
		case 0: n = 2 + 4 + 5; break;
		case 1: n = 3; break;
		case 2: n = 3; break;
		case 3: n = 4; break;
		case 4: n = 2; break;
		case 5: n = 2; break;
		case 6: n = 6; break;
		}
		buf_append(&in, bad[i], n);
		cr_assert_eq(run(&in, 0, &c, &sent, &r, &e), -1, "case %zu passed", i);
		cr_assert(e.msg[0] != '\0');
		buf_free(&in);
		buf_free(&sent);
		cap_free(&c);
	}
}

Test(exec, demux_to_descriptors)
{
	struct exec_opts o = EXEC_OPTS_INIT;
	struct buf in = BUF_INIT;
	struct exec_result r;
	struct exec_demux *d;
	struct err e;
	char got[256];
	int p[2];
	ssize_t n;

	cr_assert_eq(pipe(p), 0);
	/* stdout and stderr on one descriptor: the order must survive the buffering. */
	o.stdout_fd = p[1];
	o.stderr_fd = p[1];
	session(&in, 0);
	err_clear(&e);
	d = exec_demux_new(&o, NULL, NULL);
	cr_assert_eq(exec_demux_feed(d, in.data, in.len, &e), 1, "%s", e.msg);
	cr_assert_eq(exec_demux_finish(d, &r, &e), 0, "%s", e.msg);
	exec_demux_free(d);
	close(p[1]);
	n = read(p[0], got, sizeof got - 1);
	cr_assert_gt(n, 0);
	got[n] = '\0';
	cr_assert_str_eq(got, "hello\noops\nworld\n");
	close(p[0]);
	buf_free(&in);
}

Test(exec, demux_discards_without_outputs)
{
	struct exec_opts o = EXEC_OPTS_INIT;
	struct buf in = BUF_INIT;
	struct exec_result r;
	struct exec_demux *d;
	struct err e;

	session(&in, 42);
	err_clear(&e);
	d = exec_demux_new(&o, NULL, NULL);
	cr_assert_eq(exec_demux_feed(d, in.data, in.len, &e), 1);
	cr_assert_eq(exec_demux_finish(d, &r, &e), 0, "%s", e.msg);
	cr_assert_eq(r.exit_code, 42);
	cr_assert_eq(r.stdout_bytes, 12);
	exec_demux_free(d);
	buf_free(&in);
}

/* Arbitrary bytes, and valid streams with bytes flipped: errors, never a crash or a hang. */
Test(exec, demux_arbitrary_bytes)
{
	unsigned int seed = 12345;

	for (int round = 0; round < 3000; round++) {
		struct buf in = BUF_INIT, sent = BUF_INIT;
		struct exec_result r;
		struct cap c;
		struct err e;

		if (round % 2 == 0) {
			size_t n = (size_t)(rand_r(&seed) % 600);

			for (size_t i = 0; i < n; i++) {
				unsigned char b = (unsigned char)rand_r(&seed);

				buf_append(&in, &b, 1);
			}
		} else {
			session(&in, round % 256);
			for (int k = 0; k < 1 + round % 4; k++)
				in.data[rand_r(&seed) % in.len] ^= (char)(1 << (rand_r(&seed) % 8));
		}
		run(&in, 1 + (size_t)(rand_r(&seed) % 50), &c, &sent, &r, &e);
		buf_free(&in);
		buf_free(&sent);
		cap_free(&c);
	}
}

/* The refused upgrade's body, chunked by a hostile server. */
static int
upgrade(const char *text, int *status, struct buf *body)
{
	return exec_response_parse_for_tests(text, strlen(text), status, body);
}

Test(exec, upgrade_answer_chunked_body_decoded)
{
	struct buf b = BUF_INIT;
	int st = 0;

	cr_assert_eq(upgrade("HTTP/1.1 403 Forbidden\r\nTransfer-Encoding: chunked\r\n\r\n"
	    "5;ext=1\r\nhello\r\n6\r\n world\r\n0\r\n\r\n", &st, &b), 1);
	cr_assert_eq(st, 403);
	cr_assert_str_eq(b.data, "hello world");
	cr_assert_eq(upgrade("HTTP/1.1 403 Forbidden\r\nTransfer-Encoding: chunked\r\n\r\n"
	    "5\r\nhel", &st, &b), 0, "incomplete");
	buf_free(&b);
}

Test(exec, upgrade_answer_hostile_chunk_sizes_refused)
{
	static const char *const bad[] = {
		"-1\r\nxx\r\n0\r\n\r\n",			/* was taken as SIZE_MAX */
		"ffffffffffffffffff\r\nxx\r\n0\r\n\r\n",	/* 2^72 - 1 */
		"fffffffffffffffe\r\nxx\r\n0\r\n\r\n",		/* wraps n + 2 */
		"200000\r\nx\r\n",					/* 2 MiB: over the limit */
		"\r\nxx\r\n",					/* no size */
		"5\r\nhelloXX0\r\n\r\n",			/* no CRLF after the data */
		"0x5\r\nhello\r\n0\r\n\r\n",
	};
	struct buf b = BUF_INIT;
	int st = 0;

	for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
		char text[256];

		snprintf(text, sizeof text, "HTTP/1.1 500 Oops\r\nTransfer-Encoding: chunked"
		    "\r\n\r\n%s", bad[i]);
		cr_assert_eq(upgrade(text, &st, &b), -1, "case %zu accepted", i);
	}
	buf_free(&b);
}

Test(exec, upgrade_answer_status_line_three_digits)
{
	struct buf b = BUF_INIT;
	int st = 0;

	cr_assert_eq(upgrade("HTTP/1.1 -1 x\r\n\r\n", &st, &b), -1);
	cr_assert_eq(upgrade("HTTP/1.1 99999999999999999999 x\r\n\r\n", &st, &b), -1);
	cr_assert_eq(upgrade("HTTP/1.1 101 Switching Protocols\r\n\r\n", &st, &b), 1);
	cr_assert_eq(st, 101);
	buf_free(&b);
}
