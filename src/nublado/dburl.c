/* dburl.c: where a command's database URL comes from: --db-url, Phalanx or the cluster */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <json-c/json.h>

#include "../kube/url.h"
#include "../util/base64.h"
#include "../util/exitcode.h"
#include "../util/jsonout.h"
#include "../util/log.h"
#include "../util/xalloc.h"
#include "dburl-int.h"

/* ---- the cluster ---- */

/*
 * The URL from one Secret: 0 with *out, 1 when the Secret or the value is
 * not there (*why says which), -1 on error.
 */
static int
from_secret(struct nub *n, const char *name, struct dburl **out, char *why,
    size_t whylen, struct err *e)
{
	char *path = kube_path("/api/v1/namespaces/%s/secrets/%s", n->ns, name);
	char *source = xasprintf("secret %s/%s %s", n->ns, name, DBURL_SECRET_KEY);
	char *text = NULL, *val = NULL;
	json_object *obj = NULL, *data, *b64;
	struct yaml_file *f = NULL;
	enum dburl_found found;
	size_t len;
	int line, col, rc = -1;

	*out = NULL;
	if (kube_get_secret(n->kube, path, &obj, e) < 0) {
		if (e->http == 404) {
			snprintf(why, whylen, "no Secret %s/%s", n->ns, name);
			err_clear(e);
			rc = 1;
		} else if (e->http == 403) {
			err_set(e, "not allowed to read Secret %s/%s: finding the deployed "
			    "database URL needs permission to get secrets in namespace '%s'",
			    n->ns, name, n->ns);
			err_hint(e, "read it from Phalanx instead (--phalanx DIR --env ENV), "
			    "or use a context allowed to get secrets in '%s'", n->ns);
		} else {
			err_prefix(e, "reading Secret %s/%s", n->ns, name);
		}
		goto out;
	}
	if (!json_object_object_get_ex(obj, "data", &data) ||
	    !json_object_object_get_ex(data, DBURL_SECRET_KEY, &b64) ||
	    !json_object_is_type(b64, json_type_string)) {
		snprintf(why, whylen, "Secret %s/%s has no key %s", n->ns, name,
		    DBURL_SECRET_KEY);
		rc = 1;
		goto out;
	}
	if (base64_decode(json_object_get_string(b64), &text, &len) < 0) {
		err_set(e, "Secret %s/%s: key %s is not valid base64", n->ns, name,
		    DBURL_SECRET_KEY);
		goto out;
	}
	if (yaml_parse(source, text, len, &f, e) < 0)	/* takes text */
		goto out;
	if (dburl_values_find(f, DBURL_SECRET_PATH, &found, &val, &line, &col, e) < 0)
		goto out;
	if (found != DBURL_FOUND_VALUE) {
		snprintf(why, whylen, "Secret %s/%s (%s) %s %s", n->ns, name,
		    DBURL_SECRET_KEY, found == DBURL_FOUND_EMPTY ? "has an empty" : "has no",
		    DBURL_SECRET_PATH);
		rc = 1;
		goto out;
	}
	rc = dburl_make(val, source, NULL, DBURL_SECRET_PATH, 0, 0, out, e);
	if (rc == 0)
		(*out)->secret = xasprintf("%s/%s", n->ns, name);
out:
	yaml_free(f);
	/* The cookie secret, crypto key, proxy token and password came along: zero them. */
	json_wipe_strings(obj);
	json_object_put(obj);
	free(val);
	free(source);
	free(path);
	return rc;
}

int
dburl_from_cluster(struct nub *n, struct dburl **out, struct err *e)
{
	char why1[512], why2[512];
	int rc;

	*out = NULL;
	rc = from_secret(n, DBURL_SECRET, out, why1, sizeof why1, e);
	if (rc <= 0)
		return rc;
	/* Z2JH's own Secret: what the hub reads when existing-secret does not say. */
	rc = from_secret(n, DBURL_SECRET_Z2JH, out, why2, sizeof why2, e);
	if (rc <= 0)
		return rc;
	err_set(e, "no database URL in the cluster: %s; %s", why1, why2);
	err_hint(e, "read it from Phalanx instead: --phalanx DIR --env ENV");
	return -1;
}

/* --db-url: a bad one is the command line's fault, not a safety refusal. */
static int
from_flag(const char *flag, struct dburl **out, struct err *e)
{
	struct dburl *u = xcalloc(1, sizeof *u);

	if (dburl_parse(flag, u, e) < 0) {
		free(u);
		e->exit = EXIT_USAGE;
		return err_prefix(e, "--db-url");
	}
	u->source = xstrdup("--db-url");
	*out = u;
	return 0;
}

int
dburl_choose(const struct dburl_src *src, struct dburl **out, struct err *e)
{
	int rc;

	*out = NULL;
	if (src->flag != NULL)
		rc = from_flag(src->flag, out, e);
	else if (src->phalanx != NULL)
		rc = dburl_from_phalanx(src->phalanx, src->env, out, e);
	else
		rc = dburl_from_cluster(src->n, out, e);
	if (rc < 0)
		return -1;
	log_debug(LOG_STEPS, "database URL %s from %s", (*out)->url, (*out)->source);
	if ((*out)->had_password && src->use == DBURL_SHOW)
		log_warn("the URL carries a password; it was removed (JupyterHub reads the "
		    "password from hub.db.password)");
	else if ((*out)->had_password)
		log_warn("ignoring the password in the database URL: psql reads it from the hub "
		    "pod's password file");
	return 0;
}

int
dburl_resolve(struct nub *n, const char *flag, char **url, char **source, struct err *e)
{
	struct dburl_src src = { .flag = flag, .n = n };
	struct dburl *u = NULL;

	*url = *source = NULL;
	if (dburl_choose(&src, &u, e) < 0)
		return flag != NULL ? -1 : err_prefix(e, "finding the database URL");
	*url = xstrdup(u->url);
	*source = xstrdup(u->source ? u->source : "the cluster");
	dburl_free(u);
	return 0;
}
