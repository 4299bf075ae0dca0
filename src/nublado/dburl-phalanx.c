/* dburl-phalanx.c: the database URL from a Phalanx checkout (values-ENV.yaml, then values.yaml) */
#include <dirent.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "../util/buf.h"
#include "../util/exitcode.h"
#include "../util/xalloc.h"
#include "dburl-int.h"

static int
cmp_str(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

static char *
nublado_dir(const char *dir)
{
	size_t n = strlen(dir);

	while (n > 1 && dir[n - 1] == '/')
		n--;
	return xasprintf("%.*s/applications/nublado", (int)n, dir);
}

static int
not_phalanx(const char *dir, const char *app, struct err *e)
{
	err_set(e, "'%s' is not a Phalanx checkout: %s: %s", dir, app, strerror(errno));
	err_hint(e, "--phalanx takes the top directory of a Phalanx clone "
	    "(the one holding applications/ and environments/)");
	return -1;
}

int
dburl_list_envs(const char *phalanx_dir, char ***envs, struct err *e)
{
	char *app = nublado_dir(phalanx_dir), **v = NULL;
	struct dirent *d;
	DIR *dp;
	size_t len;

	*envs = NULL;
	dp = opendir(app);
	if (dp == NULL) {
		not_phalanx(phalanx_dir, app, e);
		free(app);
		return -1;
	}
	while ((d = readdir(dp)) != NULL) {
		len = strlen(d->d_name);
		if (len > 12 && strncmp(d->d_name, "values-", 7) == 0 &&
		    strcmp(d->d_name + len - 5, ".yaml") == 0) {
			char *name = xstrndup(d->d_name + 7, len - 12);

			v = strv_push(v, name);
			free(name);
		}
	}
	closedir(dp);
	free(app);
	if (v == NULL)
		v = xcalloc(1, sizeof *v);
	qsort(v, strv_len(v), sizeof *v, cmp_str);
	*envs = v;
	return 0;
}

/* "a, b, c", or "none" */
static char *
join_envs(char **v)
{
	struct buf b = BUF_INIT;

	for (size_t i = 0; v != NULL && v[i] != NULL; i++)
		buf_printf(&b, "%s%s", i > 0 ? ", " : "", v[i]);
	if (b.len == 0)
		buf_puts(&b, "none");
	return buf_detach(&b);
}

static int
empty_value(const char *file, int line, int col, const char *key, struct err *e)
{
	if (line > 0)
		err_set(e, "%s:%d:%d: %s is empty: no database URL is configured",
		    file, line, col, key);
	else
		err_set(e, "%s: %s is empty: no database URL is configured", file, key);
	err_hint(e, "set %s to the PostgreSQL URL, or run without --phalanx for the "
	    "deployed value", key);
	return -1;
}

int
dburl_from_phalanx(const char *dir, const char *env, struct dburl **out, struct err *e)
{
	char *app, *envfile = NULL, *base = NULL, *val = NULL, **envs = NULL, *list;
	struct yaml_file *f = NULL;
	struct stat st;
	enum dburl_found found;
	int line, col, rc = -1;

	*out = NULL;
	if (env[0] == '\0' || strchr(env, '/') != NULL || strcmp(env, ".") == 0 ||
	    strcmp(env, "..") == 0) {
		e->exit = EXIT_USAGE;
		return err_set(e, "invalid environment name '%s'", env);
	}
	app = nublado_dir(dir);
	if (stat(app, &st) < 0 || !S_ISDIR(st.st_mode)) {
		if (stat(app, &st) == 0)
			errno = ENOTDIR;
		not_phalanx(dir, app, e);
		free(app);
		return -1;
	}
	envfile = xasprintf("%s/values-%s.yaml", app, env);
	base = xasprintf("%s/values.yaml", app);

	/* The environment's file must exist: a typo in --env must not fall back to the base. */
	if (access(envfile, F_OK) < 0 && errno == ENOENT) {
		if (dburl_list_envs(dir, &envs, e) < 0)
			goto out;
		list = join_envs(envs);
		err_set(e, "no Nublado values for environment '%s': %s does not exist "
		    "(environments: %s)", env, envfile, list);
		err_hint(e, "check --env: it names a values-ENV.yaml file beside values.yaml");
		free(list);
		goto out;
	}
	if (dburl_values_load(envfile, &f, e) < 0 ||
	    dburl_values_find(f, DBURL_PHALANX_PATH, &found, &val, &line, &col, e) < 0)
		goto out;
	if (found == DBURL_FOUND_EMPTY) {
		empty_value(envfile, line, col, DBURL_PHALANX_PATH, e);
		goto out;
	}
	if (found == DBURL_FOUND_VALUE) {
		rc = dburl_make(val, envfile, envfile, DBURL_PHALANX_PATH, line, col, out, e);
		goto out;
	}
	yaml_free(f);
	f = NULL;

	/* Not set for the environment: the base values.yaml, as Helm layers them. */
	if (access(base, F_OK) < 0 && errno == ENOENT) {
		err_set(e, "%s does not set %s and %s does not exist", envfile,
		    DBURL_PHALANX_PATH, base);
		goto out;
	}
	if (dburl_values_load(base, &f, e) < 0 ||
	    dburl_values_find(f, DBURL_PHALANX_PATH, &found, &val, &line, &col, e) < 0)
		goto out;
	if (found == DBURL_FOUND_EMPTY) {
		empty_value(base, line, col, DBURL_PHALANX_PATH, e);
		goto out;
	}
	if (found == DBURL_FOUND_NONE) {
		err_set(e, "neither %s nor %s sets %s", envfile, base, DBURL_PHALANX_PATH);
		err_hint(e, "the deployed value is in the cluster: run without --phalanx");
		goto out;
	}
	rc = dburl_make(val, base, base, DBURL_PHALANX_PATH, line, col, out, e);
out:
	yaml_free(f);
	strv_free(envs);
	free(val);
	free(app);
	free(envfile);
	free(base);
	return rc;
}
