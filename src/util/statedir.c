/* statedir.c: XDG state directory per kubeconfig context */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <openssl/sha.h>

#include "buf.h"
#include "statedir.h"
#include "xalloc.h"

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

#define NAME_MAX_CONTEXT 64

char *
statedir_context_prefix(const char *context)
{
	const char *ctx = context && *context ? context : "in-cluster";
	struct buf b = { 0 };

	for (const unsigned char *s = (const unsigned char *)ctx; *s != '\0' &&
	    b.len < NAME_MAX_CONTEXT; s++) {
		if ((*s >= 'a' && *s <= 'z') || (*s >= 'A' && *s <= 'Z') ||
		    (*s >= '0' && *s <= '9') || *s == '-' || *s == '_')
			buf_append(&b, s, 1);
		else
			buf_printf(&b, "%%%02X", *s);
	}
	buf_puts(&b, ".");
	return buf_detach(&b);
}

char *
statedir_name(const char *context, const char *identity)
{
	unsigned char md[SHA256_DIGEST_LENGTH];
	const char *ctx = context && *context ? context : "in-cluster";
	struct buf b = { 0 }, in = { 0 };
	char *prefix = statedir_context_prefix(context);

	buf_puts(&b, prefix);
	free(prefix);
	/* The digest covers the whole name: cutting it cannot merge two. */
	buf_append(&in, ctx, strlen(ctx) + 1);
	buf_append(&in, identity ? identity : "", identity ? strlen(identity) : 0);
	SHA256((const unsigned char *)in.data, in.len, md);
	for (int i = 0; i < 8; i++)
		buf_printf(&b, "%02x", md[i]);
	buf_free(&in);
	return buf_detach(&b);
}

int
statedir(const char *name, const char *sub, char **out, struct err *e)
{
	const char *xdg = getenv("XDG_STATE_HOME"), *home = getenv("HOME");
	char *base;

	if (xdg != NULL && *xdg == '/')
		base = xasprintf("%s/kubectl-nublado/%s", xdg, name);
	else if (home != NULL && *home != '\0')
		base = xasprintf("%s/.local/state/kubectl-nublado/%s", home, name);
	else
		return err_set(e, "neither XDG_STATE_HOME nor HOME is set: no place to save state");
	if (sub != NULL) {
		char *full = xasprintf("%s/%s", base, sub);

		free(base);
		base = full;
	}
	if (mkdir_p(base, e) < 0) {
		free(base);
		return -1;
	}
	*out = base;
	return 0;
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

char *
file_read(const char *path, size_t *len, struct err *e)
{
	struct buf b = BUF_INIT;
	char chunk[65536];
	int fd = open(path, O_RDONLY | O_CLOEXEC);

	if (fd < 0) {
		err_set(e, "cannot open '%s': %s", path, strerror(errno));
		return NULL;
	}
	for (;;) {
		ssize_t r = read(fd, chunk, sizeof chunk);

		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0) {
			err_set(e, "cannot read '%s': %s", path, strerror(errno));
			close(fd);
			buf_free(&b);
			return NULL;
		}
		if (r == 0)
			break;
		buf_append(&b, chunk, (size_t)r);
	}
	close(fd);
	if (b.data == NULL)
		buf_puts(&b, "");
	*len = b.len;
	return buf_detach(&b);
}
