/* file.c: whole files: read one, write one atomically, make a directory path */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "buf.h"
#include "file.h"
#include "xalloc.h"

/* Set "VERB 'PATH': strerror" in e (may be NULL), errno kept for the caller. */
static int
fail(struct err *e, const char *verb, const char *path, int saved)
{
	err_set(e, "cannot %s '%s': %s", verb, path, strerror(saved));
	errno = saved;
	return -1;
}

int
file_read(const char *path, size_t cap, char **data, size_t *len, struct err *e)
{
	struct stat st;
	struct buf b = BUF_INIT;
	char chunk[65536];
	ssize_t n;
	int fd, saved;

	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return fail(e, "open", path, errno);
	/* read() would say EISDIR too, but only on some filesystems. */
	if (fstat(fd, &st) == 0 && S_ISDIR(st.st_mode)) {
		saved = EISDIR;
		goto fail;
	}
	for (;;) {
		n = read(fd, chunk, sizeof chunk);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			saved = errno;
			goto fail;
		}
		if (n == 0)
			break;
		if (b.len + (size_t)n > cap) {
			saved = EFBIG;
			goto fail;
		}
		buf_append(&b, chunk, (size_t)n);
	}
	close(fd);
	*len = b.len;
	*data = buf_detach(&b);
	return 0;
fail:
	close(fd);
	buf_free(&b);
	return fail(e, "read", path, saved);
}

int
file_write_atomic(const char *path, const char *data, size_t len, struct err *e)
{
	char *tmp = xasprintf("%s.tmp", path);
	int fd, ok, saved;

	/* A leftover of a crash (or a planted link): removed, never followed. */
	if (unlink(tmp) < 0 && errno != ENOENT) {
		err_set(e, "cannot remove '%s': %s", tmp, strerror(errno));
		free(tmp);
		return -1;
	}
	fd = open(tmp, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
	ok = fd >= 0 && write(fd, data, len) == (ssize_t)len && fsync(fd) == 0;
	saved = errno;
	if (fd >= 0 && close(fd) != 0 && ok) {
		ok = 0;
		saved = errno;
	}
	if (ok && rename(tmp, path) != 0) {
		ok = 0;
		saved = errno;
	}
	if (!ok) {
		err_set(e, "cannot write '%s': %s", path, strerror(saved));
		if (fd >= 0)
			unlink(tmp);
	}
	free(tmp);
	return ok ? 0 : -1;
}

int
mkdir_p(const char *path, struct err *e)
{
	char *p = xstrdup(path);

	for (char *s = p + 1; ; s++) {
		if (*s != '/' && *s != '\0')
			continue;
		char c = *s;

		*s = '\0';
		if (mkdir(p, 0700) < 0 && errno != EEXIST) {
			err_set(e, "cannot create directory '%s': %s", p, strerror(errno));
			free(p);
			return -1;
		}
		*s = c;
		if (c == '\0')
			break;
	}
	free(p);
	return 0;
}
