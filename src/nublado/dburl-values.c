/* dburl-values.c: the database URL looked up in a Helm values document, located */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <libfyaml.h>

#include "../util/file.h"
#include "../util/xalloc.h"
#include "dburl-int.h"

int
dburl_values_load(const char *path, struct yaml_file **out, struct err *e)
{
	char *text;
	size_t len;

	*out = NULL;
	if (file_read(path, DBURL_MAX_FILE, &text, &len, NULL) < 0) {
		if (errno == EFBIG)
			return err_set(e, "'%s' is larger than %d MiB: not a values file",
			    path, DBURL_MAX_FILE >> 20);
		return err_set(e, "cannot read '%s': %s", path, strerror(errno));
	}
	return yaml_parse(path, text, len, out, e);
}

int
dburl_values_find(struct yaml_file *f, const char *dotted, enum dburl_found *found,
    char **val, int *line, int *col, struct err *e)
{
	char *path = xstrdup(dotted), *key, *next, where[256] = "";
	struct fy_node *map = f->root, *k = NULL, *v = NULL, *raw;
	struct fy_node_pair *p;
	struct fy_token *t;
	const struct fy_mark *mk;
	void *it;
	const char *s;
	size_t len;
	int rc = 0;

	*found = DBURL_FOUND_NONE;
	*val = NULL;
	*line = *col = 0;
	key = path;
	while ((next = strchr(key, '.')) != NULL) {
		*next = '\0';
		if (yaml_map(f, map, where, key, &map, NULL, e) < 0) {
			rc = -1;
			goto out;
		}
		if (map == NULL)
			goto out;
		snprintf(where + strlen(where), sizeof where - strlen(where), "%s%s",
		    where[0] != '\0' ? "." : "", key);
		key = next + 1;
	}
	if (map == NULL)
		goto out;
	it = NULL;
	while ((p = fy_node_mapping_iterate(map, &it)) != NULL) {
		struct fy_node *kn = yaml_deref(fy_node_pair_key(p));

		if (kn == NULL || fy_node_get_type(kn) != FYNT_SCALAR)
			continue;
		s = fy_node_get_scalar(kn, &len);
		if (s != NULL && len == strlen(key) && memcmp(s, key, len) == 0) {
			k = fy_node_pair_key(p);
			raw = fy_node_pair_value(p);
			v = yaml_deref(raw);
			if (raw != NULL && v == NULL) {
				rc = yaml_err(e, f, raw, "%s: undefined alias '%s'", dotted,
				    fy_node_get_scalar0(raw));
				goto out;
			}
			break;
		}
	}
	if (k == NULL)
		goto out;
	if (v != NULL && fy_node_get_type(v) != FYNT_SCALAR) {
		rc = yaml_err(e, f, k, "%s: expected a string (the database URL), found %s",
		    dotted, yaml_kind(v));
		goto out;
	}
	/* The value's own position; a null value has none, so the key's. */
	t = fy_node_get_scalar_token(v != NULL ? v : k);
	if (t == NULL && v != NULL)
		t = fy_node_get_scalar_token(k);
	if (t != NULL && (mk = fy_token_start_mark(t)) != NULL) {
		*line = mk->line + 1;
		*col = mk->column + 1;
	}
	s = v != NULL && !yaml_is_null(v) ? fy_node_get_scalar(v, &len) : NULL;
	if (s == NULL || len == 0) {
		*found = DBURL_FOUND_EMPTY;
		goto out;
	}
	*val = xstrndup(s, len);
	*found = DBURL_FOUND_VALUE;
out:
	free(path);
	return rc;
}

int
dburl_make(const char *raw, const char *source, const char *file, const char *key,
    int line, int col, struct dburl **out, struct err *e)
{
	struct dburl *u = xcalloc(1, sizeof *u);

	if (dburl_parse(raw, u, e) < 0) {
		if (line > 0)
			err_prefix(e, "%s:%d:%d: %s", file != NULL ? file : source, line, col, key);
		else
			err_prefix(e, "%s: %s", source, key);
		free(u);
		return -1;
	}
	u->source = xstrdup(source);
	u->file = xstrdup(file);
	u->key = xstrdup(key);
	u->line = line;
	u->column = col;
	*out = u;
	return 0;
}
