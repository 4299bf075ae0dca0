/* statedir.c: XDG state directory per kubeconfig context */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

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

int
statedir(const char *context, const char *sub, char **out, struct err *e)
{
	const char *xdg = getenv("XDG_STATE_HOME"), *home = getenv("HOME");
	char *base, *safe = xstrdup(context && *context ? context : "in-cluster");

	/* Context names may hold '/' or ':' (EKS ARNs): keep them one path element. */
	for (char *s = safe; *s != '\0'; s++)
		if (*s == '/' || *s == ':' || *s == ' ')
			*s = '_';
	if (xdg != NULL && *xdg == '/')
		base = xasprintf("%s/kubectl-nublado/%s", xdg, safe);
	else if (home != NULL && *home != '\0')
		base = xasprintf("%s/.local/state/kubectl-nublado/%s", home, safe);
	else {
		free(safe);
		return err_set(e, "neither XDG_STATE_HOME nor HOME is set: no place to save state");
	}
	free(safe);
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

void
utc_stamp(char *buf, size_t n)
{
	time_t t = time(NULL);
	struct tm tm;

	gmtime_r(&t, &tm);
	strftime(buf, n, "%Y%m%dT%H%M%SZ", &tm);
}
