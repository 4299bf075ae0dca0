/* statedir.c: XDG state directory per kubeconfig context */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <openssl/sha.h>

#include "buf.h"
#include "file.h"
#include "statedir.h"
#include "xalloc.h"

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
