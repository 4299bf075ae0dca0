/* termsafe.c: the stdout/stderr filter that lets only our own escape sequences through */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "termsafe.h"

/* Every sequence this program itself writes (log.c, progress.c, status.c). */
static const char *const ours[] = {
	"\r\033[K", "\033[K", "\033[0m", "\033[2m", "\033[32m", "\033[33m",
	"\033[1;31m", "\033[1;33m", NULL,
};

/* 0: no sequence of ours starts so; 1: a prefix of one; 2: exactly one. */
static int
match(const char *s, size_t n)
{
	int best = 0;

	for (int i = 0; ours[i] != NULL; i++) {
		size_t l = strlen(ours[i]);

		if (n <= l && memcmp(ours[i], s, n) == 0)
			best = n == l ? 2 : best > 1 ? best : 1;
	}
	return best;
}

/* One byte that is not part of a sequence of ours. */
static void
plain(struct termsafe *st, unsigned char c, struct buf *out)
{
	char q = '?';

	if (st->cont > 0) {
		if (c >= 0x80 && c <= 0xbf) {
			st->cont--;
			buf_append(out, &c, 1);
			return;
		}
		st->cont = 0;	/* a broken sequence: judge this byte afresh */
	}
	if (c == '\n' || c == '\t' || (c >= 0x20 && c < 0x7f)) {
		buf_append(out, &c, 1);
	} else if (c >= 0xc2 && c <= 0xf4) {
		st->cont = c >= 0xf0 ? 3 : c >= 0xe0 ? 2 : 1;
		buf_append(out, &c, 1);
	} else {
		buf_append(out, &q, 1);
	}
}

/*
 * U+0080..U+009F (C1 controls: 0x9b is CSI) arrive as C2 80..C2 9F: the
 * lead byte is already out, so it is taken back and the pair made '?'.
 */
static bool
c1_pair(struct termsafe *st, unsigned char c, struct buf *out)
{
	if (st->cont == 1 && out->len > 0 && (unsigned char)out->data[out->len - 1] == 0xc2 &&
	    c >= 0x80 && c <= 0x9f) {
		out->data[out->len - 1] = '?';
		buf_append(out, "?", 1);
		st->cont = 0;
		return true;
	}
	return false;
}

void
termsafe_feed(struct termsafe *st, const char *p, size_t n, struct buf *out)
{
	for (size_t i = 0; i < n; i++) {
		unsigned char c = (unsigned char)p[i];

		if (st->nheld > 0 || c == '\033' || c == '\r') {
			int m;

			st->held[st->nheld++] = (char)c;
			m = match(st->held, st->nheld);
			if (m == 2) {
				buf_append(out, st->held, st->nheld);
				st->nheld = 0;
				st->cont = 0;
			} else if (m == 0) {
				/* Not ours: the first byte is a control; the rest judged again. */
				char rest[sizeof st->held];
				size_t nrest = st->nheld - 1;

				memcpy(rest, st->held + 1, nrest);
				st->nheld = 0;
				plain(st, (unsigned char)st->held[0], out);
				termsafe_feed(st, rest, nrest, out);
			}
			continue;
		}
		if (c1_pair(st, c, out))
			continue;
		plain(st, c, out);
	}
}

void
termsafe_finish(struct termsafe *st, struct buf *out)
{
	char rest[sizeof st->held];
	size_t n = st->nheld;

	memcpy(rest, st->held, n);
	st->nheld = 0;
	for (size_t i = 0; i < n; i++)
		plain(st, (unsigned char)rest[i], out);
}

/* ---- the streams ---- */

struct sink {
	int fd;
	struct termsafe st;
};

static int
write_all(int fd, const char *p, size_t n)
{
	while (n > 0) {
		ssize_t w = write(fd, p, n);

		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0)
			return -1;
		p += w;
		n -= (size_t)w;
	}
	return 0;
}

static ssize_t
sink_write(void *cookie, const char *p, size_t n)
{
	struct sink *s = cookie;
	struct buf out = BUF_INIT;
	int rc;

	termsafe_feed(&s->st, p, n, &out);
	rc = write_all(s->fd, out.data ? out.data : "", out.len);
	buf_free(&out);
	return rc < 0 ? -1 : (ssize_t)n;
}

static int
sink_close(void *cookie)
{
	struct sink *s = cookie;
	struct buf out = BUF_INIT;
	int rc;

	termsafe_finish(&s->st, &out);
	rc = write_all(s->fd, out.data ? out.data : "", out.len);
	buf_free(&out);
	return rc;
}

/* Program-lifetime streams: static, so nothing to free at exit. */
static struct sink out_sink = { .fd = STDOUT_FILENO }, err_sink = { .fd = STDERR_FILENO };

void
termsafe_install(void)
{
	cookie_io_functions_t io = { .write = sink_write, .close = sink_close };
	FILE *o = fopencookie(&out_sink, "w", io), *e = fopencookie(&err_sink, "w", io);

	if (o == NULL || e == NULL) {
		if (o != NULL)
			fclose(o);
		if (e != NULL)
			fclose(e);
		return;	/* no memory this early: keep the plain streams */
	}
	/* As the originals: stdout line-buffered on a terminal, stderr unbuffered. */
	setvbuf(o, NULL, isatty(STDOUT_FILENO) ? _IOLBF : _IOFBF, 0);
	setvbuf(e, NULL, _IONBF, 0);
	stdout = o;
	stderr = e;
}
