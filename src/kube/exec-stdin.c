/* exec-stdin.c: the command's stdin, from a buffer or a descriptor, as channel 0 messages */
#include <errno.h>
#include <string.h>
#include <unistd.h>

#include "exec-int.h"

#define STDIN_CHUNK (32 * 1024)		/* payload of one stdin message */

/* Queue stdin while the send queue is short; -1 on a read error. */
int
exec_stdin_feed(struct exec_session *s, struct exec_stdin *st, struct err *e)
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
			if (exec_session_queue(s, buf, n + 1) < 0)
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

			exec_session_queue(s, close_stdin, sizeof close_stdin);
		}
	}
	return 0;
}
