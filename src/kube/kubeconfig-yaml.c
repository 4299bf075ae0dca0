/* kubeconfig-yaml.c: a kubeconfig file read as YAML, relative paths resolved as client-go does */
#include <errno.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "../util/file.h"
#include "../util/xalloc.h"
#include "kubeconfig-yaml.h"

char *
kcfg_resolve_path(const char *dir, const char *path)
{
	if (path == NULL)
		return NULL;
	if (path[0] == '/' || dir == NULL || dir[0] == '\0')
		return xstrdup(path);
	/* "./bin/x" reads better in messages as "dir/bin/x" */
	while (path[0] == '.' && path[1] == '/' && path[2] != '\0')
		for (path += 2; path[0] == '/'; path++)
			;
	if (strcmp(dir, "/") == 0)
		return xasprintf("/%s", path);
	return xasprintf("%s/%s", dir, path);
}

/* The absolute directory holding `path' (client-go: filepath.Dir(filepath.Abs(path))). */
static char *
dir_of(const char *path)
{
	char cwd[PATH_MAX];
	char *abs, *slash;

	if (path[0] == '/')
		abs = xstrdup(path);
	else if (getcwd(cwd, sizeof cwd) != NULL)
		abs = kcfg_resolve_path(cwd, path);
	else
		abs = xasprintf("./%s", path);
	slash = strrchr(abs, '/');
	if (slash == abs)
		slash[1] = '\0';
	else
		*slash = '\0';
	return abs;
}

int
kcfg_yaml_load(const char *path, bool must_exist, struct yaml_file **out, struct err *e)
{
	char *text;
	size_t len;

	*out = NULL;
	if (file_read(path, KCFG_MAX_FILE, &text, &len, NULL) < 0) {
		if (errno == ENOENT && !must_exist)
			return 0;
		if (errno == EFBIG)
			return err_set(e, "kubeconfig '%s' is larger than %d MiB",
			    path, KCFG_MAX_FILE >> 20);
		return err_set(e, "cannot read kubeconfig '%s': %s", path,
		    strerror(errno));
	}
	if (memchr(text, '\0', len) != NULL) {
		free(text);
		return err_set(e, "%s: invalid YAML: the file contains NUL bytes", path);
	}
	if (yaml_parse(path, text, len, out, e) < 0)	/* takes text */
		return -1;
	(*out)->dir = dir_of(path);
	return 1;
}
