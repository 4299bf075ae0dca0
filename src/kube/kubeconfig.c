/* kubeconfig.c: load, merge and resolve kubeconfig files the way client-go does */
#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <strings.h>

#include <curl/curl.h>
#include <json-c/json.h>

#include "../util/base64.h"
#include "../util/buf.h"
#include "../util/file.h"
#include "../util/log.h"
#include "../util/xalloc.h"
#include "kubeconfig-yaml.h"
#include "kubeconfig.h"

#define EXEC_V1		"client.authentication.k8s.io/v1"
#define EXEC_V1BETA1	"client.authentication.k8s.io/v1beta1"
#define EXEC_V1ALPHA1	"client.authentication.k8s.io/v1alpha1"
#define SA_DIR		"var/run/secrets/kubernetes.io/serviceaccount"
/* The cluster extension client-go hands to exec plugins as spec.cluster.config. */
#define EXEC_EXTENSION	"client.authentication.k8s.io/exec"

/* A named cluster, context or user, as the first file to define the name wrote it. */
struct named {
	char *name;
	struct yaml_file *f;
	struct fy_node *item;	/* the list entry: {name: .., cluster: {..}} */
	char where[48];		/* "clusters[2]", for messages */
};

struct nlist {
	struct named *v;
	size_t n;
};

/* Every file read, merged. */
struct merged {
	struct yaml_file **files;
	size_t nfiles;
	struct nlist clusters, contexts, users;
	char *current;		/* first non-empty current-context */
	char **tried;		/* every path looked at, for "not found" messages */
};

static void
nlist_free(struct nlist *l)
{
	size_t i;

	for (i = 0; i < l->n; i++)
		free(l->v[i].name);
	free(l->v);
}

static struct named *
nlist_find(const struct nlist *l, const char *name)
{
	size_t i;

	for (i = 0; i < l->n; i++)
		if (strcmp(l->v[i].name, name) == 0)
			return &l->v[i];
	return NULL;
}

static void
merged_free(struct merged *m)
{
	size_t i;

	nlist_free(&m->clusters);
	nlist_free(&m->contexts);
	nlist_free(&m->users);
	for (i = 0; i < m->nfiles; i++)
		yaml_free(m->files[i]);
	free(m->files);
	free(m->current);
	strv_free(m->tried);
	memset(m, 0, sizeof *m);
}

/* "a, b, c" */
static char *
join(char *const *v, const char *sep)
{
	struct buf b = BUF_INIT;
	size_t i;

	for (i = 0; v != NULL && v[i] != NULL; i++) {
		if (i > 0)
			buf_puts(&b, sep);
		buf_puts(&b, v[i]);
	}
	return buf_detach(&b);
}

static char *
sources(const struct merged *m)
{
	struct buf b = BUF_INIT;
	size_t i;

	for (i = 0; i < m->nfiles; i++) {
		if (i > 0)
			buf_puts(&b, ", ");
		buf_puts(&b, m->files[i]->path);
	}
	return buf_detach(&b);
}

/*
 * Add one file's clusters (or contexts, or users) to the merged list.  A name
 * defined by an earlier file keeps that file's whole entry; a name defined
 * twice in one file is an error, as client-go's conversion makes it.
 */
static int
collect(struct yaml_file *f, const char *list, const char *what, struct nlist *l,
    struct err *e)
{
	struct fy_node *seq, *raw, *item, *namekey;
	size_t first = l->n, j;
	void *it = NULL;
	char where[48], *name;
	int i = 0;

	if (yaml_seq(f, f->root, "", list, &seq, NULL, e) < 0)
		return -1;
	if (seq == NULL)
		return 0;
	for (; (raw = yaml_seq_item(seq, &it)) != NULL; i++) {
		snprintf(where, sizeof where, "%s[%d]", list, i);
		item = yaml_deref(raw);
		if (item == NULL)
			return yaml_err(e, f, raw, "%s: undefined alias", where);
		if (yaml_is_null(item))
			continue;
		if (fy_node_get_type(item) != FYNT_MAPPING)
			return yaml_err(e, f, raw, "%s: expected a mapping, found %s",
			    where, yaml_kind(item));
		if (yaml_str(f, item, where, "name", &name, &namekey, e) < 0)
			return -1;
		if (name == NULL) {
			log_debug(LOG_STEPS, "%s: %s without a name ignored", f->path, where);
			continue;
		}
		for (j = first; j < l->n; j++) {
			if (strcmp(l->v[j].name, name) == 0) {
				yaml_err(e, f, namekey, "%s: duplicate %s name '%s' (also %s)",
				    where, what, name, l->v[j].where);
				free(name);
				return -1;
			}
		}
		if (nlist_find(l, name) != NULL) {
			free(name);	/* an earlier file defines it: that one wins */
			continue;
		}
		l->v = xrealloc(l->v, (l->n + 1) * sizeof *l->v);
		l->v[l->n].name = name;
		l->v[l->n].f = f;
		l->v[l->n].item = item;
		memcpy(l->v[l->n].where, where, sizeof where);
		l->n++;
	}
	return 0;
}

/* Read one file into m; a missing file is skipped unless must_exist. */
static int
add_file(struct merged *m, const char *path, bool must_exist, struct err *e)
{
	struct yaml_file *f;
	char *current;
	int rc;

	m->tried = strv_push(m->tried, path);
	rc = kcfg_yaml_load(path, must_exist, &f, e);
	if (rc <= 0) {
		if (rc == 0)
			log_debug(LOG_STEPS, "kubeconfig %s: not found, skipped", path);
		return rc;
	}
	m->files = xrealloc(m->files, (m->nfiles + 1) * sizeof *m->files);
	m->files[m->nfiles++] = f;
	log_debug(LOG_STEPS, "kubeconfig %s: loaded", path);
	if (f->root == NULL)
		return 0;
	if (yaml_str(f, f->root, "", "current-context", &current, NULL, e) < 0)
		return -1;
	if (m->current == NULL)
		m->current = current;
	else
		free(current);
	if (collect(f, "clusters", "cluster", &m->clusters, e) < 0 ||
	    collect(f, "contexts", "context", &m->contexts, e) < 0 ||
	    collect(f, "users", "user", &m->users, e) < 0)
		return -1;
	return 0;
}

/* --kubeconfig, else KUBECONFIG, else the default path; merged in that order. */
static int
load_files(const struct kcfg_opts *o, struct merged *m, struct err *e)
{
	const char *env = getenv("KUBECONFIG"), *home;
	char **seen = NULL, *copy, *tok, *save = NULL, *def;
	size_t i;
	bool dup;
	int rc = 0;

	memset(m, 0, sizeof *m);
	if (o != NULL && o->kubeconfig != NULL && o->kubeconfig[0] != '\0')
		return add_file(m, o->kubeconfig, true, e);
	if (env != NULL && env[0] != '\0') {
		copy = xstrdup(env);
		for (tok = strtok_r(copy, ":", &save); tok != NULL && rc == 0;
		    tok = strtok_r(NULL, ":", &save)) {
			dup = false;
			for (i = 0; seen != NULL && seen[i] != NULL; i++)
				dup = dup || strcmp(seen[i], tok) == 0;
			if (dup)
				continue;
			seen = strv_push(seen, tok);
			rc = add_file(m, tok, false, e);
		}
		free(copy);
		strv_free(seen);
		return rc;
	}
	if (o != NULL && o->default_path != NULL)
		return add_file(m, o->default_path, false, e);
	home = getenv("HOME");
	if (home == NULL || home[0] == '\0')
		return 0;
	def = xasprintf("%s/.kube/config", strcmp(home, "/") == 0 ? "" : home);
	rc = add_file(m, def, false, e);
	free(def);
	return rc;
}

static bool
merged_empty(const struct merged *m)
{
	return m->current == NULL && m->clusters.n == 0 && m->contexts.n == 0 &&
	    m->users.n == 0;
}

static int
cmp_str(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

static char **
context_names(const struct merged *m)
{
	char **v = xcalloc(m->contexts.n + 1, sizeof *v);
	size_t i;

	for (i = 0; i < m->contexts.n; i++)
		v[i] = xstrdup(m->contexts.v[i].name);
	qsort(v, m->contexts.n, sizeof *v, cmp_str);
	return v;
}

/* ---- in-cluster ---- */

static char *
sa_path(const struct kcfg_opts *o, const char *file)
{
	const char *root = o != NULL && o->incluster_root != NULL ? o->incluster_root : "/";
	size_t n = strlen(root);

	return xasprintf("%s%s" SA_DIR "/%s", root,
	    n > 0 && root[n - 1] == '/' ? "" : "/", file);
}

static char *
read_trimmed(const char *path)
{
	char *s, *p;
	size_t len;

	if (file_read(path, 1 << 20, &s, &len, NULL) < 0)
		return NULL;
	while (len > 0 && (s[len - 1] == '\n' || s[len - 1] == '\r' ||
	    s[len - 1] == ' ' || s[len - 1] == '\t'))
		s[--len] = '\0';
	for (p = s; *p == ' ' || *p == '\t' || *p == '\n'; p++)
		;
	memmove(s, p, strlen(p) + 1);
	if (s[0] == '\0') {
		free(s);
		return NULL;
	}
	return s;
}

/*
 * client-go's rest.InClusterConfig: possible when both service variables are
 * set and the token file exists.  Returns 1 and fills *out, or 0 when not
 * possible.
 */
static int
incluster(const struct kcfg_opts *o, struct kcfg **out, struct err *e)
{
	const char *host = getenv("KUBERNETES_SERVICE_HOST");
	const char *port = getenv("KUBERNETES_SERVICE_PORT");
	const char *podns = getenv("POD_NAMESPACE");
	struct kcfg *c;
	struct stat st;
	char *token, *ca, *ns;

	if (host == NULL || host[0] == '\0' || port == NULL || port[0] == '\0')
		return 0;
	token = sa_path(o, "token");
	if (stat(token, &st) < 0 || S_ISDIR(st.st_mode)) {
		log_debug(LOG_STEPS, "in-cluster: %s: not usable", token);
		free(token);
		return 0;
	}
	c = xcalloc(1, sizeof *c);
	c->context = xstrdup("");
	c->cluster_name = xstrdup("");
	c->user_name = xstrdup("");
	c->server = strchr(host, ':') != NULL ?
	    xasprintf("https://[%s]:%s", host, port) :
	    xasprintf("https://%s:%s", host, port);
	c->token_file = token;
	ca = sa_path(o, "ca.crt");
	if (file_read(ca, KCFG_MAX_FILE, &c->ca_pem, &c->ca_len, NULL) == 0) {
		c->ca_source = ca;
	} else {
		/* client-go logs this and goes on with the system CAs. */
		log_debug(LOG_STEPS, "in-cluster: cannot read %s: %s", ca, strerror(errno));
		free(ca);
	}
	if (podns != NULL && podns[0] != '\0') {
		c->namespace = xstrdup(podns);
	} else {
		ns = sa_path(o, "namespace");
		c->namespace = read_trimmed(ns);
		free(ns);
	}
	c->source = xasprintf("in-cluster service account (%s)", token);
	c->contexts = xcalloc(1, sizeof *c->contexts);
	log_debug(LOG_STEPS, "using the in-cluster configuration: %s", c->server);
	*out = c;
	(void)e;
	return 1;
}

/*
 * client-go's in-cluster config takes only --token and --certificate-authority
 * of the flags (--server leaves in-cluster).  kubectl ignores the rest there;
 * where that would silently act as the pod's service account instead of who
 * the flags name, we refuse.
 */
static int
incluster_overrides(const struct kcfg_overrides *ov, struct kcfg *c, struct err *e)
{
	const char *flag = ov->as != NULL && ov->as[0] != '\0' ? "--as" :
	    ov->as_groups != NULL && ov->as_groups[0] != NULL ? "--as-group" :
	    ov->as_uid != NULL && ov->as_uid[0] != '\0' ? "--as-uid" :
	    ov->client_cert != NULL && ov->client_cert[0] != '\0' ? "--client-certificate" :
	    ov->client_key != NULL && ov->client_key[0] != '\0' ? "--client-key" :
	    ov->user != NULL && ov->user[0] != '\0' ? "--user" : NULL;

	if (flag != NULL) {
		e->exit = 2;
		err_set(e, "%s is not applied to the in-cluster configuration (kubectl ignores "
		    "it there); refusing to act as the pod's service account instead", flag);
		err_hint(e, "use a kubeconfig (--kubeconfig FILE) with the user you mean");
		return -1;
	}
	if (ov->token != NULL && ov->token[0] != '\0') {
		c->token = xstrdup(ov->token);
		free(c->token_file);
		c->token_file = NULL;
	}
	if (ov->ca_file != NULL && ov->ca_file[0] != '\0') {
		free(c->ca_pem);
		free(c->ca_source);
		c->ca_pem = NULL;
		c->ca_len = 0;
		c->ca_source = xstrdup(ov->ca_file);
		if (file_read(ov->ca_file, KCFG_MAX_FILE, &c->ca_pem, &c->ca_len, NULL) < 0)
			return err_set(e, "--certificate-authority: cannot read '%s': %s",
			    ov->ca_file, errno == EFBIG ? "file too large" : strerror(errno));
	}
	return 0;
}

/* ---- resolving one context ---- */

/* Decode base64 field data: NULL when absent, error located at the key when malformed. */
static int
field_b64(const struct yaml_file *f, struct fy_node *map, const char *where,
    const char *key, char **out, size_t *outlen, struct err *e)
{
	struct fy_node *k;
	char *s;

	*out = NULL;
	*outlen = 0;
	if (yaml_str(f, map, where, key, &s, &k, e) < 0)
		return -1;
	if (s == NULL)
		return 0;
	if (base64_decode(s, out, outlen) < 0) {
		free(s);
		return yaml_err(e, f, k, "%s.%s: invalid base64 data", where, key);
	}
	free(s);
	return 0;
}

/* Read a file named by a field, relative to the naming file's directory. */
static int
field_file(const struct yaml_file *f, struct fy_node *map, const char *where,
    const char *key, char **path, char **data, size_t *len, struct err *e)
{
	struct fy_node *k;
	char *s;

	*path = NULL;
	if (yaml_str(f, map, where, key, &s, &k, e) < 0)
		return -1;
	if (s == NULL)
		return 0;
	*path = kcfg_resolve_path(f->dir, s);
	free(s);
	if (data == NULL)
		return 0;
	if (file_read(*path, KCFG_MAX_FILE, data, len, NULL) < 0)
		return yaml_err(e, f, k, "%s.%s: cannot read '%s': %s", where, key,
		    *path, errno == EFBIG ? "file too large" : strerror(errno));
	return 0;
}

static bool
has_prefix_ci(const char *s, const char *prefix)
{
	return strncasecmp(s, prefix, strlen(prefix)) == 0;
}

/*
 * A plain YAML scalar typed as client-go's YAML-to-JSON conversion types it
 * (sigs.k8s.io/yaml, YAML 1.1 rules: y/yes/on are true, n/no/off false, ~
 * null, 0x1F and 010 integers); NULL when it stays a string.
 */
static json_object *
yaml11_scalar(const char *str, bool *is_null)
{
	static const char *const yes[] = { "y", "Y", "yes", "Yes", "YES", "true", "True",
	    "TRUE", "on", "On", "ON", NULL };
	static const char *const no[] = { "n", "N", "no", "No", "NO", "false", "False",
	    "FALSE", "off", "Off", "OFF", NULL };
	char digits[128], *end;
	size_t n = 0;
	int base = 10;

	*is_null = false;
	if (str[0] == '\0' || strcmp(str, "~") == 0 || strcmp(str, "null") == 0 ||
	    strcmp(str, "Null") == 0 || strcmp(str, "NULL") == 0) {
		*is_null = true;
		return NULL;
	}
	for (size_t i = 0; yes[i] != NULL; i++) {
		if (strcmp(str, yes[i]) == 0)
			return json_object_new_boolean(1);
		if (strcmp(str, no[i]) == 0)
			return json_object_new_boolean(0);
	}
	/* Integers: Go's ParseInt(s, 0, 64) with the underscores removed. */
	for (const char *p = str; *p != '\0' && n + 1 < sizeof digits; p++)
		if (*p != '_')
			digits[n++] = *p;
	digits[n] = '\0';
	if (strspn(digits, "+-0123456789abcdefABCDEFxXoObB") == n && n > 0) {
		const char *d = digits + (digits[0] == '+' || digits[0] == '-');
		bool neg = digits[0] == '-';
		long long v;

		if (d[0] == '0' && (d[1] == 'x' || d[1] == 'X'))
			base = 16, d += 2;
		else if (d[0] == '0' && (d[1] == 'o' || d[1] == 'O'))
			base = 8, d += 2;
		else if (d[0] == '0' && (d[1] == 'b' || d[1] == 'B'))
			base = 2, d += 2;
		else if (d[0] == '0' && d[1] != '\0')
			base = 8, d += 1;
		if (*d != '\0' && *d != '+' && *d != '-') {
			errno = 0;
			v = strtoll(d, &end, base);
			if (*end == '\0' && errno == 0)
				return json_object_new_int64(neg ? -v : v);
		}
	}
	/* Floats: [-+]?(\.[0-9]+|[0-9]+(\.[0-9]*)?)([eE][-+]?[0-9]+)? */
	if (strspn(str, "+-.0123456789eE") == strlen(str) && strpbrk(str, "0123456789") != NULL) {
		double dv;

		errno = 0;
		dv = strtod(str, &end);
		if (*end == '\0' && errno == 0)
			return json_object_new_double(dv);
	}
	return NULL;
}

/* A YAML node as JSON, typed as client-go would (see yaml11_scalar). */
static json_object *
yaml_to_json(struct fy_node *n, int depth)
{
	json_object *j = NULL;
	const char *s;
	size_t len;
	char *str;
	void *it = NULL;
	struct fy_node *item;
	struct fy_node_pair *pair;
	bool is_null;

	n = yaml_deref(n);
	if (n == NULL || depth > 64)
		return NULL;
	switch (fy_node_get_type(n)) {
	case FYNT_SEQUENCE:
		j = json_object_new_array();
		while ((item = fy_node_sequence_iterate(n, &it)) != NULL)
			json_object_array_add(j, yaml_to_json(item, depth + 1));
		return j;
	case FYNT_MAPPING:
		j = json_object_new_object();
		while ((pair = fy_node_mapping_iterate(n, &it)) != NULL) {
			struct fy_node *key = yaml_deref(fy_node_pair_key(pair));
			json_object *kj = NULL;

			s = key != NULL && fy_node_get_type(key) == FYNT_SCALAR ?
			    fy_node_get_scalar(key, &len) : NULL;
			if (s == NULL)
				continue;
			str = xstrndup(s, len);
			/* A key that YAML types (no: 1) becomes its JSON text ("false"). */
			if (fy_node_get_style(key) == FYNS_PLAIN)
				kj = yaml11_scalar(str, &is_null);
			if (kj != NULL) {
				free(str);
				str = xstrdup(json_object_to_json_string(kj));
				json_object_put(kj);
			}
			json_object_object_add(j, str,
			    yaml_to_json(fy_node_pair_value(pair), depth + 1));
			free(str);
		}
		return j;
	default:
		break;
	}
	s = fy_node_get_scalar(n, &len);
	str = xstrndup(s != NULL ? s : "", s != NULL ? len : 0);
	is_null = false;
	if (fy_node_get_style(n) == FYNS_PLAIN)
		j = yaml11_scalar(str, &is_null);
	if (j == NULL && !is_null)
		j = json_object_new_string(str);
	free(str);
	return j;
}

/* clusters[].cluster.extensions: the entry named client.authentication.k8s.io/exec, as JSON. */
static int
exec_extension(const struct yaml_file *f, struct fy_node *body, const char *where,
    char **out, struct err *e)
{
	struct fy_node *seq, *raw, *item, *ext;
	char iwhere[96], *name;
	void *it = NULL;
	int i = 0;

	*out = NULL;
	if (yaml_seq(f, body, where, "extensions", &seq, NULL, e) < 0)
		return -1;
	for (; seq != NULL && (raw = yaml_seq_item(seq, &it)) != NULL; i++) {
		snprintf(iwhere, sizeof iwhere, "%s.extensions[%d]", where, i);
		item = yaml_deref(raw);
		if (item == NULL || fy_node_get_type(item) != FYNT_MAPPING)
			continue;
		if (yaml_str(f, item, iwhere, "name", &name, NULL, e) < 0)
			return -1;
		if (name == NULL || strcmp(name, EXEC_EXTENSION) != 0) {
			free(name);
			continue;
		}
		free(name);
		ext = fy_node_mapping_lookup_by_string(item, "extension", FY_NT);
		if (ext != NULL) {
			json_object *j = yaml_to_json(ext, 0);

			if (j != NULL) {
				*out = xstrdup(json_object_to_json_string_ext(j,
				    JSON_C_TO_STRING_PLAIN | JSON_C_TO_STRING_NOSLASHESCAPE));
				json_object_put(j);
			}
		}
		return 0;
	}
	return 0;
}

/*
 * Check a server URL (from the file or --server) and put it in the form the
 * requests are built on: the scheme in lower case (Go's url.Parse does that:
 * HTTPS:// works with kubectl), no query or fragment (client-go's REST client
 * drops them), no trailing slash.  `f' and `k' locate errors (f may be NULL).
 */
static int
check_server(const struct yaml_file *f, struct fy_node *k, const char *what,
    char *server, struct err *e)
{
	char *scheme_end = strstr(server, "://"), *q;
	const char *why = NULL;
	size_t len;
	CURLU *u;
	CURLUcode uc;

	if (!(has_prefix_ci(server, "https://") || has_prefix_ci(server, "http://")) ||
	    scheme_end == NULL || scheme_end[3] == '\0' || scheme_end[3] == '/' ||
	    scheme_end[3] == '?' || scheme_end[3] == '#') {
		why = "is not an http:// or https:// URL";
	} else {
		for (q = server; q < scheme_end; q++)
			*q = (char)tolower((unsigned char)*q);
		q = scheme_end + 3 + strcspn(scheme_end + 3, "?#");
		if (*q != '\0') {
			log_debug(LOG_STEPS, "server URL: '%s' ignored, as kubectl does", q);
			*q = '\0';
		}
		len = strlen(server);
		while (len > 0 && server[len - 1] == '/')
			server[--len] = '\0';
		/* Here, with the line, not at the first request (a bad port, a space, "[::1"). */
		u = curl_url();
		uc = u != NULL ? curl_url_set(u, CURLUPART_URL, server, 0) : CURLUE_OUT_OF_MEMORY;
		if (uc == CURLUE_OK) {
			char *user = NULL;
			bool has_user = curl_url_get(u, CURLUPART_USER, &user, 0) == CURLUE_OK;

			curl_free(user);
			curl_url_cleanup(u);
			if (!has_user)
				return 0;
			/*
			 * kubectl ignores user:password@ in the server URL, libcurl
			 * would send it as basic auth, and -vv would show it.
			 */
			if (f != NULL)
				yaml_err(e, f, k, "%s: the server URL carries a user name or "
				    "password; kubectl does not use them", what);
			else
				err_set(e, "%s: the server URL carries a user name or password; "
				    "kubectl does not use them", what);
			err_hint(e, "remove user:password@ from the server URL and give the "
			    "credentials in the kubeconfig user (token, client certificate or "
			    "exec plugin)");
			return -1;
		}
		curl_url_cleanup(u);
		if (f != NULL)
			return yaml_err(e, f, k, "%s: '%s' is not a valid URL: %s", what, server,
			    curl_url_strerror(uc));
		return err_set(e, "%s: '%s' is not a valid URL: %s", what, server,
		    curl_url_strerror(uc));
	}
	if (f != NULL)
		return yaml_err(e, f, k, "%s: '%s' %s", what, server, why);
	return err_set(e, "%s: '%s' %s", what, server, why);
}

/* --server, --certificate-authority, ... over the cluster entry, as client-go's getCluster. */
static int
override_cluster(const struct kcfg_overrides *ov, struct kcfg *c, struct err *e)
{
	bool server = ov->server != NULL && ov->server[0] != '\0';
	bool tlsname = ov->tls_server_name != NULL && ov->tls_server_name[0] != '\0';
	bool ca = ov->ca_file != NULL && ov->ca_file[0] != '\0';

	if (server) {
		free(c->server);
		free(c->server_as_written);
		c->server = xstrdup(ov->server);
		c->server_as_written = xstrdup(ov->server);
		if (check_server(NULL, NULL, "--server", c->server, e) < 0) {
			e->exit = 2;
			return -1;
		}
	}
	/* A --server clears the file's tls-server-name unless --tls-server-name comes too. */
	if (server || tlsname) {
		free(c->tls_server_name);
		c->tls_server_name = tlsname ? xstrdup(ov->tls_server_name) : NULL;
	}
	if (ov->insecure || ca) {
		free(c->ca_pem);
		free(c->ca_source);
		c->ca_pem = c->ca_source = NULL;
		c->ca_len = 0;
		c->insecure = ov->insecure;
		if (ca && ov->insecure) {
			e->exit = 2;
			return err_set(e, "specifying a root certificates file with the insecure "
			    "flag is not allowed (--certificate-authority and "
			    "--insecure-skip-tls-verify)");
		}
		if (ca) {
			if (file_read(ov->ca_file, KCFG_MAX_FILE, &c->ca_pem, &c->ca_len, NULL) < 0)
				return err_set(e, "--certificate-authority: cannot read '%s': %s",
				    ov->ca_file, errno == EFBIG ? "file too large" :
				    strerror(errno));
			c->ca_source = xstrdup(ov->ca_file);
		}
	}
	if (ov->disable_compression)
		c->disable_compression = true;
	return 0;
}

static int
resolve_cluster(const struct named *n, const struct kcfg_overrides *ov, struct kcfg *c,
    struct err *e)
{
	const struct yaml_file *f;
	struct fy_node *body, *bodykey, *k, *insecurekey;
	char where[64], what[80], *cafile = NULL;

	if (n == NULL) {
		/* No cluster entry: only the flags say where to go. */
		if (override_cluster(ov, c, e) < 0)
			return -1;
		if (c->server == NULL) {
			err_set(e, "no server: no context and no --server");
			err_hint(e, "use --context NAME, --cluster NAME or --server URL");
			return -1;
		}
		return 0;
	}
	f = n->f;
	snprintf(where, sizeof where, "%s.cluster", n->where);
	if (yaml_map(f, n->item, n->where, "cluster", &body, &bodykey, e) < 0)
		return -1;

	if (yaml_str(f, body, where, "server", &c->server, &k, e) < 0)
		return -1;
	if (c->server == NULL && (ov->server == NULL || ov->server[0] == '\0')) {
		yaml_err(e, f, bodykey != NULL ? bodykey : n->item,
		    "%s: cluster '%s' has no server", where, n->name);
		err_hint(e, "set %s.server to the API server's https:// URL", where);
		return -1;
	}
	snprintf(what, sizeof what, "%s.server", where);
	if (c->server != NULL)
		c->server_as_written = xstrdup(c->server);
	if (c->server != NULL && check_server(f, k, what, c->server, e) < 0)
		return -1;
	if (ov->insecure || (ov->ca_file != NULL && ov->ca_file[0] != '\0')) {
		/* The flags replace the file's CA and insecure setting: not even read. */
		if (yaml_str(f, body, where, "tls-server-name", &c->tls_server_name, NULL, e) < 0 ||
		    yaml_str(f, body, where, "proxy-url", &c->proxy_url, &k, e) < 0 ||
		    yaml_bool(f, body, where, "disable-compression", &c->disable_compression,
		    NULL, e) < 0 ||
		    exec_extension(f, body, where, &c->exec_config, e) < 0)
			return -1;
		goto proxy;
	}

	if (yaml_bool(f, body, where, "insecure-skip-tls-verify", &c->insecure,
	    &insecurekey, e) < 0 ||
	    field_b64(f, body, where, "certificate-authority-data", &c->ca_pem,
	    &c->ca_len, e) < 0 ||
	    yaml_str(f, body, where, "certificate-authority", &cafile, NULL, e) < 0)
		return -1;
	if (c->insecure && (c->ca_pem != NULL || cafile != NULL)) {
		free(cafile);
		yaml_err(e, f, insecurekey, "%s: specifying a root certificates file "
		    "with the insecure flag is not allowed", where);
		err_hint(e, "remove either insecure-skip-tls-verify or the certificate authority "
		    "of cluster '%s'", n->name);
		return -1;
	}
	free(cafile);
	/* The data wins; the file is then not even read. */
	if (c->ca_pem != NULL) {
		c->ca_source = xstrdup("certificate-authority-data");
	} else {
		if (field_file(f, body, where, "certificate-authority", &c->ca_source,
		    &c->ca_pem, &c->ca_len, e) < 0)
			return -1;
	}
	if (yaml_str(f, body, where, "tls-server-name", &c->tls_server_name, NULL, e) < 0)
		return -1;
	if (yaml_str(f, body, where, "proxy-url", &c->proxy_url, &k, e) < 0)
		return -1;
	if (yaml_bool(f, body, where, "disable-compression", &c->disable_compression, NULL, e) < 0 ||
	    exec_extension(f, body, where, &c->exec_config, e) < 0)
		return -1;
proxy:
	if (c->proxy_url != NULL && !has_prefix_ci(c->proxy_url, "http://") &&
	    !has_prefix_ci(c->proxy_url, "https://") &&
	    !has_prefix_ci(c->proxy_url, "socks5://"))
		return yaml_err(e, f, k, "%s.proxy-url: unsupported scheme in '%s', "
		    "must be http, https, or socks5", where, c->proxy_url);
	return override_cluster(ov, c, e);
}

static int
resolve_exec(const struct yaml_file *f, struct fy_node *body, const char *uwhere,
    struct fy_node *key, struct kcfg_exec **out, struct err *e)
{
	struct kcfg_exec *x;
	struct fy_node *k, *envseq, *raw, *item;
	char where[80], iwhere[96], *cmd, *mode = NULL, *name, *value;
	void *it = NULL;
	int i = 0;

	snprintf(where, sizeof where, "%s.exec", uwhere);
	x = xcalloc(1, sizeof *x);
	*out = x;
	if (yaml_str(f, body, where, "command", &cmd, NULL, e) < 0)
		return -1;
	if (cmd == NULL)
		return yaml_err(e, f, key, "%s.command: missing", where);
	/* A bare name is looked up in PATH; anything with a slash is a path. */
	x->command = strchr(cmd, '/') != NULL ? kcfg_resolve_path(f->dir, cmd) : xstrdup(cmd);
	free(cmd);
	if (yaml_strv(f, body, where, "args", &x->args, NULL, e) < 0 ||
	    yaml_str(f, body, where, "installHint", &x->install_hint, NULL, e) < 0 ||
	    yaml_bool(f, body, where, "provideClusterInfo", &x->provide_cluster_info,
	    NULL, e) < 0)
		return -1;

	if (yaml_str(f, body, where, "apiVersion", &x->api_version, &k, e) < 0)
		return -1;
	if (x->api_version == NULL) {
		yaml_err(e, f, key, "%s.apiVersion: missing", where);
		err_hint(e, "set it to " EXEC_V1 " (or " EXEC_V1BETA1 ") as the plugin's "
		    "documentation says");
		return -1;
	}
	if (strcmp(x->api_version, EXEC_V1ALPHA1) == 0) {
		yaml_err(e, f, k, "%s.apiVersion: %s is no longer supported", where,
		    x->api_version);
		err_hint(e, "use " EXEC_V1 " or " EXEC_V1BETA1 " (update the plugin if needed)");
		return -1;
	}
	if (strcmp(x->api_version, EXEC_V1) != 0 && strcmp(x->api_version, EXEC_V1BETA1) != 0)
		return yaml_err(e, f, k, "%s.apiVersion: '%s' is not supported (use "
		    EXEC_V1 " or " EXEC_V1BETA1 ")", where, x->api_version);

	if (yaml_str(f, body, where, "interactiveMode", &mode, &k, e) < 0)
		return -1;
	if (mode == NULL && strcmp(x->api_version, EXEC_V1) == 0)
		return yaml_err(e, f, key, "%s.interactiveMode: must be set for %s "
		    "(Never, IfAvailable or Always)", where, EXEC_V1);
	if (mode == NULL || strcmp(mode, "IfAvailable") == 0)
		x->interactive = KCFG_INTERACTIVE_IF_AVAILABLE;
	else if (strcmp(mode, "Never") == 0)
		x->interactive = KCFG_INTERACTIVE_NEVER;
	else if (strcmp(mode, "Always") == 0)
		x->interactive = KCFG_INTERACTIVE_ALWAYS;
	else {
		yaml_err(e, f, k, "%s.interactiveMode: invalid value '%s' "
		    "(Never, IfAvailable or Always)", where, mode);
		free(mode);
		return -1;
	}
	free(mode);

	if (yaml_seq(f, body, where, "env", &envseq, &k, e) < 0)
		return -1;
	for (; envseq != NULL && (raw = yaml_seq_item(envseq, &it)) != NULL; i++) {
		snprintf(iwhere, sizeof iwhere, "%s.env[%d]", where, i);
		item = yaml_deref(raw);
		if (item == NULL || fy_node_get_type(item) != FYNT_MAPPING)
			return yaml_err(e, f, raw, "%s: expected a mapping with name and value, "
			    "found %s", iwhere, yaml_kind(item));
		if (yaml_str(f, item, iwhere, "name", &name, NULL, e) < 0)
			return -1;
		if (name == NULL || strchr(name, '=') != NULL) {
			free(name);
			return yaml_err(e, f, raw, "%s.name: missing or invalid", iwhere);
		}
		if (yaml_str(f, item, iwhere, "value", &value, NULL, e) < 0) {
			free(name);
			return -1;
		}
		{
			char *kv = xasprintf("%s=%s", name, value != NULL ? value : "");

			x->env = strv_push(x->env, kv);
			free(kv);
		}
		free(name);
		free(value);
	}
	return 0;
}

/* as-user-extra: {key: [value, ...]} as key, value, key, value, ... */
static int
user_extra(const struct yaml_file *f, struct fy_node *body, const char *where,
    char ***out, struct err *e)
{
	struct fy_node *map, *key;
	struct fy_node_pair *pair;
	char xwhere[80], *name, **vals;
	void *it = NULL;
	const char *s;
	size_t len, i;

	if (yaml_map(f, body, where, "as-user-extra", &map, NULL, e) < 0)
		return -1;
	snprintf(xwhere, sizeof xwhere, "%s.as-user-extra", where);
	while (map != NULL && (pair = fy_node_mapping_iterate(map, &it)) != NULL) {
		key = yaml_deref(fy_node_pair_key(pair));
		if (key == NULL || fy_node_get_type(key) != FYNT_SCALAR)
			continue;
		s = fy_node_get_scalar(key, &len);
		name = xstrndup(s != NULL ? s : "", s != NULL ? len : 0);
		if (yaml_strv(f, map, xwhere, name, &vals, NULL, e) < 0) {
			free(name);
			return -1;
		}
		for (i = 0; vals != NULL && vals[i] != NULL; i++) {
			*out = strv_push(*out, name);
			*out = strv_push(*out, vals[i]);
		}
		strv_free(vals);
		free(name);
	}
	return 0;
}

/* --token, --client-certificate, --as, ... over the user entry, as client-go's getAuthInfo. */
static int
override_user(const struct kcfg_overrides *ov, bool cert_data, bool key_data,
    const char *uname, struct kcfg *c, struct err *e)
{
	if (ov->client_cert != NULL && ov->client_cert[0] != '\0') {
		if (cert_data) {
			e->exit = 2;
			return err_set(e, "client-certificate-data and --client-certificate are "
			    "both specified for user '%s'", uname);
		}
		free(c->cert_pem);
		c->cert_pem = NULL;
		if (file_read(ov->client_cert, KCFG_MAX_FILE, &c->cert_pem, &c->cert_len, NULL) < 0)
			return err_set(e, "--client-certificate: cannot read '%s': %s",
			    ov->client_cert, errno == EFBIG ? "file too large" : strerror(errno));
	}
	if (ov->client_key != NULL && ov->client_key[0] != '\0') {
		if (key_data) {
			e->exit = 2;
			return err_set(e, "client-key-data and --client-key are both specified "
			    "for user '%s'", uname);
		}
		if (c->key_pem != NULL)
			explicit_bzero(c->key_pem, c->key_len);
		free(c->key_pem);
		c->key_pem = NULL;
		if (file_read(ov->client_key, KCFG_MAX_FILE, &c->key_pem, &c->key_len, NULL) < 0)
			return err_set(e, "--client-key: cannot read '%s': %s",
			    ov->client_key, errno == EFBIG ? "file too large" : strerror(errno));
	}
	if (ov->token != NULL && ov->token[0] != '\0') {
		if (c->token != NULL)
			explicit_bzero(c->token, strlen(c->token));
		free(c->token);
		c->token = xstrdup(ov->token);
	}
	if (ov->as != NULL && ov->as[0] != '\0') {
		free(c->impersonate);
		c->impersonate = xstrdup(ov->as);
	}
	if (ov->as_uid != NULL && ov->as_uid[0] != '\0') {
		free(c->impersonate_uid);
		c->impersonate_uid = xstrdup(ov->as_uid);
	}
	if (ov->as_groups != NULL && ov->as_groups[0] != NULL) {
		strv_free(c->impersonate_groups);
		c->impersonate_groups = NULL;
		for (size_t i = 0; ov->as_groups[i] != NULL; i++)
			c->impersonate_groups = strv_push(c->impersonate_groups, ov->as_groups[i]);
	}
	/* client-go's validation: kubectl refuses these without a user to impersonate. */
	if (c->impersonate == NULL && (c->impersonate_uid != NULL ||
	    c->impersonate_groups != NULL || c->impersonate_extra != NULL)) {
		err_set(e, "requesting uid, groups or user-extra for user '%s' without "
		    "impersonating a user", uname);
		err_hint(e, "give the user to impersonate too: --as NAME, or 'as' in the "
		    "kubeconfig");
		return -1;
	}
	return 0;
}

static int
resolve_user(const struct named *n, const struct kcfg_overrides *ov, struct kcfg *c,
    struct err *e)
{
	const struct yaml_file *f;
	struct fy_node *body, *bodykey, *k, *execmap, *execkey, *ap, *apkey, *tokkey;
	char where[64], *path = NULL;
	bool has_cert, has_key, cert_data, key_data;

	if (n == NULL) {
		if (override_user(ov, false, false, "", c, e) < 0)
			return -1;
		if ((c->cert_pem != NULL) != (c->key_pem != NULL)) {
			e->exit = 2;
			return err_set(e, "--client-certificate and --client-key must be given "
			    "together");
		}
		return 0;
	}
	f = n->f;
	snprintf(where, sizeof where, "%s.user", n->where);
	if (yaml_map(f, n->item, n->where, "user", &body, &bodykey, e) < 0)
		return -1;
	if (bodykey == NULL)
		bodykey = n->item;

	/* Data wins over the file; the file is then not read at all. */
	if (field_b64(f, body, where, "client-certificate-data", &c->cert_pem,
	    &c->cert_len, e) < 0)
		return -1;
	cert_data = c->cert_pem != NULL;
	if (c->cert_pem == NULL && ov->client_cert == NULL) {
		if (field_file(f, body, where, "client-certificate", &path,
		    &c->cert_pem, &c->cert_len, e) < 0) {
			free(path);
			return -1;
		}
		free(path);
	}
	if (field_b64(f, body, where, "client-key-data", &c->key_pem, &c->key_len, e) < 0)
		return -1;
	key_data = c->key_pem != NULL;
	if (c->key_pem == NULL && ov->client_key == NULL) {
		if (field_file(f, body, where, "client-key", &path, &c->key_pem,
		    &c->key_len, e) < 0) {
			free(path);
			return -1;
		}
		free(path);
	}
	if (yaml_str(f, body, where, "token", &c->token, &tokkey, e) < 0)
		return -1;
	if (yaml_str(f, body, where, "as", &c->impersonate, NULL, e) < 0 ||
	    yaml_str(f, body, where, "as-uid", &c->impersonate_uid, NULL, e) < 0 ||
	    yaml_strv(f, body, where, "as-groups", &c->impersonate_groups, NULL, e) < 0 ||
	    user_extra(f, body, where, &c->impersonate_extra, e) < 0)
		return -1;
	if (override_user(ov, cert_data, key_data, n->name, c, e) < 0)
		return -1;
	has_cert = c->cert_pem != NULL;
	has_key = c->key_pem != NULL;
	if (has_cert != has_key) {
		yaml_err(e, f, bodykey, "%s: %s is set but %s is not", where,
		    has_cert ? "client-certificate" : "client-key",
		    has_cert ? "client-key" : "client-certificate");
		err_hint(e, "a client certificate needs its key: set both "
		    "client-certificate[-data] and client-key[-data] for user '%s'", n->name);
		return -1;
	}

	/*
	 * Both may be set: client-go then reads the file for each request and
	 * falls back on the token only when the file cannot be read.
	 */
	if (field_file(f, body, where, "tokenFile", &c->token_file, NULL, NULL, e) < 0)
		return -1;
	if (yaml_str(f, body, where, "username", &c->username, &k, e) < 0 ||
	    yaml_str(f, body, where, "password", &c->password, NULL, e) < 0)
		return -1;
	if ((c->username != NULL || c->password != NULL) &&
	    (c->token != NULL || c->token_file != NULL)) {
		yaml_err(e, f, bodykey, "%s: username/password or bearer token may be set, "
		    "but not both", where);
		err_hint(e, "remove either the token or the username and password of user '%s'",
		    n->name);
		return -1;
	}
	if (yaml_map(f, body, where, "exec", &execmap, &execkey, e) < 0)
		return -1;
	if (yaml_map(f, body, where, "auth-provider", &ap, &apkey, e) < 0)
		return -1;
	if (ap != NULL) {
		char apwhere[80];

		snprintf(apwhere, sizeof apwhere, "%s.auth-provider", where);
		if (yaml_str(f, ap, apwhere, "name", &c->auth_provider, NULL, e) < 0)
			return -1;
		if (c->auth_provider == NULL)
			c->auth_provider = xstrdup("(unnamed)");
		if (execmap != NULL)
			return yaml_err(e, f, apkey, "%s: auth-provider cannot be used together "
			    "with an exec plugin", where);
	}
	if (execmap != NULL)
		return resolve_exec(f, execmap, where, execkey, &c->exec, e);
	return 0;
}

/* The "known contexts: a, b" tail of a message. */
static void
known_contexts(struct buf *b, const struct merged *m)
{
	char **names = context_names(m), *list;

	if (names[0] == NULL) {
		buf_puts(b, "no contexts are defined");
	} else {
		list = join(names, ", ");
		buf_printf(b, "known contexts: %s", list);
		free(list);
	}
	strv_free(names);
}

static int
resolve(struct merged *m, const char *name, const struct kcfg_overrides *ov,
    struct kcfg *c, struct err *e)
{
	struct named *cx, *cl, *us;
	struct fy_node *body = NULL, *clkey = NULL, *uskey = NULL;
	struct buf b = BUF_INIT;
	char where[64], *src = sources(m), *msg;

	cx = name != NULL ? nlist_find(&m->contexts, name) : NULL;
	if (name == NULL) {
		/* No context at all: --server or --cluster say where (kubectl allows it). */
		free(src);
		c->context = xstrdup("");
		cx = NULL;
	} else if (cx == NULL) {
		buf_printf(&b, "context '%s' not found in %s; ", name, src);
		known_contexts(&b, m);
		msg = buf_detach(&b);
		err_set(e, "%s", msg);
		free(msg);
		err_hint(e, "use --context NAME with one of the known contexts");
		free(src);
		return -1;
	}
	if (cx != NULL) {
		free(src);
		c->context = xstrdup(name);
		snprintf(where, sizeof where, "%s.context", cx->where);
		if (yaml_map(cx->f, cx->item, cx->where, "context", &body, NULL, e) < 0 ||
		    yaml_str(cx->f, body, where, "cluster", &c->cluster_name, &clkey, e) < 0 ||
		    yaml_str(cx->f, body, where, "user", &c->user_name, &uskey, e) < 0 ||
		    yaml_str(cx->f, body, where, "namespace", &c->namespace, NULL, e) < 0)
			return -1;
	}

	/* --cluster and --user pick other entries than the context's (both must exist). */
	if (ov->cluster != NULL && ov->cluster[0] != '\0') {
		free(c->cluster_name);
		c->cluster_name = xstrdup(ov->cluster);
		if (nlist_find(&m->clusters, c->cluster_name) == NULL) {
			src = sources(m);
			err_set(e, "cluster '%s' (--cluster) is not defined in %s",
			    c->cluster_name, src);
			free(src);
			return -1;
		}
	}
	if (ov->user != NULL && ov->user[0] != '\0') {
		free(c->user_name);
		c->user_name = xstrdup(ov->user);
		if (nlist_find(&m->users, c->user_name) == NULL) {
			src = sources(m);
			err_set(e, "user '%s' (--user) is not defined in %s", c->user_name, src);
			free(src);
			return -1;
		}
	}

	cl = c->cluster_name != NULL ? nlist_find(&m->clusters, c->cluster_name) : NULL;
	if (cx != NULL && c->cluster_name == NULL && (ov->server == NULL || ov->server[0] == '\0'))
		return yaml_err(e, cx->f, cx->item, "%s: context '%s' has no cluster",
		    where, name);
	if (cx != NULL && cl == NULL && c->cluster_name != NULL &&
	    (ov->server == NULL || ov->server[0] == '\0')) {
		src = sources(m);
		yaml_err(e, cx->f, clkey, "context '%s' refers to cluster '%s', "
		    "which is not defined in %s", name, c->cluster_name, src);
		free(src);
		return -1;
	}
	if (resolve_cluster(cl, ov, c, e) < 0)
		return -1;

	/* A context without a user is anonymous; a user that isn't there is a typo. */
	us = c->user_name != NULL ? nlist_find(&m->users, c->user_name) : NULL;
	if (cx != NULL && us == NULL && c->user_name != NULL) {
		src = sources(m);
		yaml_err(e, cx->f, uskey, "context '%s' refers to user '%s', "
		    "which is not defined in %s", name, c->user_name, src);
		free(src);
		return -1;
	}
	return resolve_user(us, ov, c, e);
}

static int
no_kubeconfig(const struct merged *m, struct err *e)
{
	char *tried = join(m->tried, ", ");

	if (tried[0] != '\0')
		err_set(e, "no kubeconfig found (tried %s)", tried);
	else
		err_set(e, "no kubeconfig found (HOME is not set, KUBECONFIG is empty)");
	err_hint(e, "pass --kubeconfig FILE or set KUBECONFIG; in a pod, "
	    "KUBERNETES_SERVICE_HOST and a service account token are needed");
	free(tried);
	return -1;
}

int
kcfg_load(const struct kcfg_opts *o, struct kcfg **out, struct err *e)
{
	static const struct kcfg_overrides none;
	const struct kcfg_overrides *ov = o != NULL ? &o->ov : &none;
	bool where_given = (ov->server != NULL && ov->server[0] != '\0') ||
	    (ov->cluster != NULL && ov->cluster[0] != '\0');
	struct merged m;
	struct kcfg *c;
	struct buf b = BUF_INIT;
	const char *name;
	char *msg, *src;
	int rc;

	*out = NULL;
	if (load_files(o, &m, e) < 0) {
		merged_free(&m);
		return -1;
	}
	if (merged_empty(&m) && !where_given) {
		/* client-go's deferred loader: nothing configured, so try the pod's service account. */
		rc = incluster(o, out, e);
		if (rc > 0 && incluster_overrides(ov, *out, e) < 0) {
			kcfg_free(*out);
			*out = NULL;
			rc = -1;
		}
		if (rc != 0 || m.nfiles == 0) {
			if (rc == 0)
				no_kubeconfig(&m, e);
			merged_free(&m);
			return rc > 0 ? 0 : -1;
		}
	}

	name = o != NULL && o->context != NULL && o->context[0] != '\0' ? o->context : m.current;
	if (name == NULL && !where_given) {
		src = sources(&m);
		buf_printf(&b, "no current context in %s; ", src);
		known_contexts(&b, &m);
		msg = buf_detach(&b);
		err_set(e, "%s", msg);
		if (m.contexts.n > 0)
			err_hint(e, "use --context NAME (or 'kubectl config use-context NAME')");
		else
			err_hint(e, "add a context with 'kubectl config set-context', or use "
			    "--kubeconfig FILE to pick another file");
		free(msg);
		free(src);
		merged_free(&m);
		return -1;
	}

	c = xcalloc(1, sizeof *c);
	c->source = sources(&m);
	c->contexts = context_names(&m);
	c->current_context = xstrdup(m.current);
	if (resolve(&m, name, ov, c, e) < 0) {
		kcfg_free(c);
		merged_free(&m);
		return -1;
	}
	log_debug(LOG_STEPS, "context '%s': cluster '%s' at %s, from %s", c->context,
	    c->cluster_name ? c->cluster_name : "", c->server, c->source);
	merged_free(&m);
	*out = c;
	return 0;
}

int
kcfg_list_contexts(const struct kcfg_opts *o, char ***names, char **current,
    struct err *e)
{
	struct merged m;

	*names = NULL;
	*current = NULL;
	if (load_files(o, &m, e) < 0) {
		merged_free(&m);
		return -1;
	}
	*names = context_names(&m);
	*current = xstrdup(m.current);
	merged_free(&m);
	return 0;
}

int
kcfg_list_entries(const struct kcfg_opts *o, bool users, char ***names, struct err *e)
{
	struct merged m;
	const struct nlist *l;
	size_t i;

	*names = NULL;
	if (load_files(o, &m, e) < 0) {
		merged_free(&m);
		return -1;
	}
	l = users ? &m.users : &m.clusters;
	*names = xcalloc(l->n + 1, sizeof **names);
	for (i = 0; i < l->n; i++)
		(*names)[i] = xstrdup(l->v[i].name);
	qsort(*names, l->n, sizeof **names, cmp_str);
	merged_free(&m);
	return 0;
}

const char *
kcfg_name(const struct kcfg *c)
{
	return c->context != NULL && c->context[0] != '\0' ? c->context : c->server;
}

static void
exec_free(struct kcfg_exec *x)
{
	if (x == NULL)
		return;
	free(x->command);
	strv_free(x->args);
	strv_free(x->env);
	free(x->api_version);
	free(x->install_hint);
	free(x);
}

/* Overwrite a secret before freeing it, so it doesn't linger in freed memory. */
static void
free_secret(char *s, size_t len)
{
	if (s == NULL)
		return;
	if (len == 0)
		len = strlen(s);
	explicit_bzero(s, len);
	free(s);
}

void
kcfg_free(struct kcfg *c)
{
	if (c == NULL)
		return;
	free(c->context);
	free(c->cluster_name);
	free(c->user_name);
	free(c->namespace);
	free(c->server);
	free(c->server_as_written);
	free(c->ca_pem);
	free(c->ca_source);
	free(c->tls_server_name);
	free(c->proxy_url);
	free(c->cert_pem);
	free_secret(c->key_pem, c->key_len);
	free_secret(c->token, 0);
	free(c->token_file);
	free(c->username);
	free_secret(c->password, 0);
	free(c->impersonate);
	free(c->impersonate_uid);
	strv_free(c->impersonate_groups);
	strv_free(c->impersonate_extra);
	free(c->exec_config);
	exec_free(c->exec);
	free(c->auth_provider);
	free(c->source);
	strv_free(c->contexts);
	free(c->current_context);
	free(c);
}

/* An IPv4 or IPv6 address (brackets allowed): its family and 16 bytes, else 0. */
static int
parse_ip(const char *s, unsigned char addr[16])
{
	char buf[64];
	size_t n = strlen(s);

	if (n >= 2 && s[0] == '[' && s[n - 1] == ']') {
		if (n - 2 >= sizeof buf)
			return 0;
		memcpy(buf, s + 1, n - 2);
		buf[n - 2] = '\0';
		s = buf;
	}
	memset(addr, 0, 16);
	if (inet_pton(AF_INET, s, addr) == 1)
		return AF_INET;
	if (inet_pton(AF_INET6, s, addr) == 1) {
		/* ::ffff:a.b.c.d is a.b.c.d to Go's net.IP.Equal and Contains */
		if (IN6_IS_ADDR_V4MAPPED((struct in6_addr *)addr)) {
			memmove(addr, addr + 12, 4);
			memset(addr + 4, 0, 12);
			return AF_INET;
		}
		return AF_INET6;
	}
	return 0;
}

static bool
prefix_match(const unsigned char *a, const unsigned char *b, int bits)
{
	int full = bits / 8, rest = bits % 8;

	if (memcmp(a, b, (size_t)full) != 0)
		return false;
	return rest == 0 || ((a[full] ^ b[full]) & (0xff << (8 - rest))) == 0;
}

/*
 * One NO_PROXY entry against host (lower case, no brackets) and port, by
 * golang.org/x/net/http/httpproxy's rules: "*", an IP or CIDR, an IP:port,
 * a domain (foo.com also matches foo.com itself, .foo.com and *.foo.com
 * only subdomains), each with an optional :port.
 */
static bool
no_proxy_entry(const char *entry, const char *host, const char *port)
{
	unsigned char hip[16], eip[16];
	int hfam = parse_ip(host, hip), efam;
	char *p = xstrdup(entry), *slash, *phost, *pport = NULL, *colon;
	bool match = false;
	size_t n;

	if ((slash = strchr(p, '/')) != NULL) {
		char *end;
		long bits = strtol(slash + 1, &end, 10);

		*slash = '\0';
		efam = parse_ip(p, eip);
		if (efam != 0 && *end == '\0' && slash[1] != '\0' && bits >= 0 &&
		    bits <= (efam == AF_INET ? 32 : 128))
			match = hfam == efam && prefix_match(hip, eip, (int)bits);
		free(p);
		return match;
	}
	phost = p;
	if (p[0] == '[' && (colon = strstr(p, "]:")) != NULL) {
		colon[1] = '\0';
		pport = colon + 2;
	} else if ((colon = strchr(p, ':')) != NULL && strchr(colon + 1, ':') == NULL) {
		*colon = '\0';
		pport = colon + 1;
	}
	n = strlen(phost);
	if (n >= 2 && phost[0] == '[' && phost[n - 1] == ']') {
		phost[n - 1] = '\0';
		phost++;
	}
	if (phost[0] == '\0') {
		free(p);
		return false;
	}
	efam = parse_ip(phost, eip);
	if (efam != 0) {
		match = hfam == efam && memcmp(hip, eip, 16) == 0;
	} else if (hfam == 0) {
		bool match_host = phost[0] != '.' && phost[0] != '*';
		const char *dom = phost[0] == '*' && phost[1] == '.' ? phost + 1 : phost;
		size_t hl = strlen(host), dl = strlen(dom);

		if (dom[0] == '.')
			match = (hl >= dl && strcmp(host + hl - dl, dom) == 0) ||
			    (match_host && strcmp(host, dom + 1) == 0);
		else
			match = strcmp(host, dom) == 0 ||
			    (hl > dl && host[hl - dl - 1] == '.' && strcmp(host + hl - dl, dom) == 0);
	}
	if (match && pport != NULL && pport[0] != '\0' && strcmp(pport, port) != 0)
		match = false;
	free(p);
	return match;
}

/* Go's net/http: never for localhost or loopback, nor for what NO_PROXY names. */
static bool
go_use_proxy(const char *server, const char *no_proxy)
{
	CURLU *u = curl_url();
	char *host = NULL, *port = NULL, *h, *list, *tok, *save = NULL;
	unsigned char addr[16];
	bool use = true;
	size_t n;
	int fam;

	if (u == NULL || curl_url_set(u, CURLUPART_URL, server, 0) != CURLUE_OK ||
	    curl_url_get(u, CURLUPART_HOST, &host, 0) != CURLUE_OK ||
	    curl_url_get(u, CURLUPART_PORT, &port, CURLU_DEFAULT_PORT) != CURLUE_OK) {
		curl_free(host);
		curl_url_cleanup(u);
		return true;
	}
	h = xstrdup(host);
	n = strlen(h);
	if (n >= 2 && h[0] == '[' && h[n - 1] == ']') {
		memmove(h, h + 1, n - 2);
		h[n - 2] = '\0';
	}
	for (char *q = h; *q != '\0'; q++)
		*q = (char)tolower((unsigned char)*q);
	fam = parse_ip(h, addr);
	if (strcmp(h, "localhost") == 0 || (fam == AF_INET && addr[0] == 127) ||
	    (fam == AF_INET6 && IN6_IS_ADDR_LOOPBACK((struct in6_addr *)addr)))
		use = false;
	list = xstrdup(no_proxy != NULL ? no_proxy : "");
	for (tok = strtok_r(list, ",", &save); use && tok != NULL; tok = strtok_r(NULL, ",", &save)) {
		char *t = tok, *end;

		while (*t == ' ' || *t == '\t')
			t++;
		end = t + strlen(t);
		while (end > t && (end[-1] == ' ' || end[-1] == '\t'))
			*--end = '\0';
		for (char *q = t; *q != '\0'; q++)
			*q = (char)tolower((unsigned char)*q);
		if (*t == '\0')
			continue;
		if (strcmp(t, "*") == 0 || no_proxy_entry(t, h, port))
			use = false;
	}
	free(list);
	free(h);
	curl_free(host);
	curl_free(port);
	curl_url_cleanup(u);
	return use;
}

static const char *
env_first(const char *upper, const char *lower)
{
	const char *v = getenv(upper);

	if (v == NULL || v[0] == '\0')
		v = getenv(lower);
	return v != NULL && v[0] != '\0' ? v : NULL;
}

/* socks5:// as socks5h:// (Go's SOCKS5 dialer sends the name); a bare host:port is http. */
static char *
curl_proxy_url(const char *p)
{
	if (has_prefix_ci(p, "socks5://"))
		return xasprintf("socks5h://%s", p + strlen("socks5://"));
	if (strstr(p, "://") == NULL)
		return xasprintf("http://%s", p);
	return xstrdup(p);
}

void
kcfg_proxy(const struct kcfg *c, char **proxy, char **noproxy)
{
	const char *env, *np;

	if (c->proxy_url != NULL) {
		*proxy = curl_proxy_url(c->proxy_url);
		*noproxy = xstrdup("");
		return;
	}
	env = has_prefix_ci(c->server, "https://") ? env_first("HTTPS_PROXY", "https_proxy") :
	    env_first("HTTP_PROXY", "http_proxy");
	np = env_first("NO_PROXY", "no_proxy");
	/* Decided here, by Go's rules; libcurl's own NO_PROXY matching differs (ports). */
	*noproxy = xstrdup("");
	if (env == NULL || !go_use_proxy(c->server, np)) {
		*proxy = xstrdup("");
		return;
	}
	*proxy = curl_proxy_url(env);
}
