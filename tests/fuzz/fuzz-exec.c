/*
 * fuzz-exec.c: an exec session's receiving side (exec_demux_*): arbitrary
 * server bytes after the 101 (WebSocket frames carrying channel 1/2/3
 * payloads, Close, ping, garbage).  The bytes are fed whole and again in
 * pieces of 1..64 bytes: both must deliver the same output and end the
 * same way.  A third run writes to /dev/null descriptors instead of the
 * callback (the buffered path).  Input: the bytes; the first also picks the
 * piece size.
 *
 * wslay checks the UTF-8 of text frames and Close reasons chunk by chunk (and
 * skips the first two bytes of every chunk of a Close, not just the code), so
 * where such frames are present whether and when a stream is refused may
 * depend on how it was cut: those inputs are only run, not compared.
 */
#include <stdint.h>

#include "../../src/kube/exec.h"
#include "fuzz.h"

struct got {
	unsigned long bytes[3], hash[3];
};

static int
on_output(enum exec_channel ch, const void *p, size_t n, void *arg, struct err *e)
{
	struct got *g = arg;
	const unsigned char *c = p;

	(void)e;
	FUZZ_CHECK(ch == EXEC_STDOUT || ch == EXEC_STDERR, "output on channel %d", (int)ch);
	FUZZ_CHECK(n > 0, "empty output piece");
	g->bytes[ch] += n;
	for (size_t i = 0; i < n; i++)
		g->hash[ch] = g->hash[ch] * 31 + c[i];
	return 0;
}

static void
sink(const void *p, size_t n, void *arg)
{
	/* Close replies and pongs: counted, not checked (masks are random). */
	*(size_t *)arg += n;
	(void)p;
}

/* Whether the frames hold a text frame or a Close (as far as they can be walked). */
static bool
utf8_checked(const uint8_t *p, size_t n)
{
	size_t off = 0;

	while (off + 2 <= n) {
		uint8_t op = p[off] & 0x0f;
		uint64_t len = p[off + 1] & 0x7f;
		size_t hdr = 2;

		if (op == 1 || op == 8)
			return true;
		if (len == 126) {
			if (off + 4 > n)
				break;
			len = (uint64_t)p[off + 2] << 8 | p[off + 3];
			hdr = 4;
		} else if (len == 127) {
			if (off + 10 > n)
				break;
			len = 0;
			for (int i = 0; i < 8; i++)
				len = len << 8 | p[off + 2 + i];
			hdr = 10;
		}
		if (p[off + 1] & 0x80)
			hdr += 4;
		if (len > n - off - hdr || hdr > n - off)
			break;
		off += hdr + (size_t)len;
	}
	return false;
}

struct outcome {
	int feed, finish, exit_code;
	struct exec_result r;
	char msg[sizeof ((struct err *)0)->msg];
};

static void
run(const struct exec_opts *o, const uint8_t *data, size_t size, size_t piece,
    struct outcome *out)
{
	struct exec_demux *d;
	struct err e;
	size_t sent = 0;
	int rc = 0;

	memset(out, 0, sizeof *out);
	d = exec_demux_new(o, sink, &sent);
	FUZZ_CHECK(d != NULL, "exec_demux_new failed");
	err_clear(&e);
	for (size_t off = 0; off < size && rc >= 0; off += piece) {
		size_t n = size - off < piece ? size - off : piece;

		rc = exec_demux_feed(d, data + off, n, &e);
		FUZZ_CHECK(rc >= -1 && rc <= 1, "feed gave %d", rc);
	}
	out->feed = rc;
	if (rc < 0) {
		FUZZ_CHECK(e.msg[0] != '\0', "feed failed without a message");
		memcpy(out->msg, e.msg, sizeof out->msg);
	} else {
		err_clear(&e);
		out->r.exit_code = -1;
		out->finish = exec_demux_finish(d, &out->r, &e);
		if (out->finish == 0)
			FUZZ_CHECK(out->r.exit_code >= 0 && out->r.exit_code <= 255,
			    "exit code %d", out->r.exit_code);
		else
			FUZZ_CHECK(e.msg[0] != '\0', "finish failed without a message");
		memcpy(out->msg, e.msg, sizeof out->msg);
	}
	exec_demux_free(d);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct exec_opts o = EXEC_OPTS_INIT, ofd = EXEC_OPTS_INIT;
	struct got g1, g2;
	struct outcome a, b, c;
	size_t piece = size > 0 ? data[0] % 64 + 1 : 1;
	int fd;

	memset(&g1, 0, sizeof g1);
	memset(&g2, 0, sizeof g2);
	o.output = on_output;
	o.output_arg = &g1;
	run(&o, data, size, size > 0 ? size : 1, &a);
	o.output_arg = &g2;
	run(&o, data, size, piece, &b);

	if (utf8_checked(data, size))
		goto fds;
	FUZZ_CHECK(a.feed == b.feed, "feed %d whole, %d in %zu-byte pieces", a.feed, b.feed,
	    piece);
	FUZZ_CHECK(memcmp(&g1, &g2, sizeof g1) == 0, "output differs in %zu-byte pieces", piece);
	if (a.feed >= 0) {
		FUZZ_CHECK(a.finish == b.finish && strcmp(a.msg, b.msg) == 0,
		    "finish %d '%s' whole, %d '%s' in pieces", a.finish, a.msg, b.finish, b.msg);
		FUZZ_CHECK(a.finish != 0 || a.r.exit_code == b.r.exit_code, "exit codes differ");
		FUZZ_CHECK(a.r.stdout_bytes == g1.bytes[1] && a.r.stderr_bytes == g1.bytes[2],
		    "byte counts %llu/%llu, delivered %lu/%lu",
		    (unsigned long long)a.r.stdout_bytes, (unsigned long long)a.r.stderr_bytes,
		    g1.bytes[1], g1.bytes[2]);
	}

fds:
	fd = open("/dev/null", O_WRONLY | O_CLOEXEC);
	ofd.stdout_fd = fd;
	ofd.stderr_fd = fd;
	run(&ofd, data, size, size > 0 ? size : 1, &c);
	FUZZ_CHECK(c.feed == a.feed && (a.feed < 0 || c.finish == a.finish),
	    "descriptors end %d/%d, callback %d/%d", c.feed, c.finish, a.feed, a.finish);
	close(fd);
	return 0;
}
