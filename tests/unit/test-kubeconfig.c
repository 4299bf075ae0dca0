/* test-kubeconfig.c: loading, merging and resolving kubeconfig files as client-go does */
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <criterion/criterion.h>

#include "../../src/kube/kubeconfig.h"
#include "../../src/util/xalloc.h"

#define FIXTURES "tests/unit/fixtures/kubeconfig"

#define CA_PEM "-----BEGIN CERTIFICATE-----\nCA-DATA\n-----END CERTIFICATE-----\n"
#define CA_B64 "LS0tLS1CRUdJTiBDRVJUSUZJQ0FURS0tLS0tCkNBLURBVEEKLS0tLS1FTkQgQ0VSVElGSUNBVEUtLS0tLQo="
#define CERT_PEM "-----BEGIN CERTIFICATE-----\nCLIENT-CERT\n-----END CERTIFICATE-----\n"
#define CERT_B64 "LS0tLS1CRUdJTiBDRVJUSUZJQ0FURS0tLS0tCkNMSUVOVC1DRVJUCi0tLS0tRU5EIENFUlRJRklDQVRFLS0tLS0K"
#define KEY_PEM "-----BEGIN PRIVATE KEY-----\nCLIENT-KEY\n-----END PRIVATE KEY-----\n"
#define KEY_B64 "LS0tLS1CRUdJTiBQUklWQVRFIEtFWS0tLS0tCkNMSUVOVC1LRVkKLS0tLS1FTkQgUFJJVkFURSBLRVktLS0tLQo="

static char tmp[PATH_MAX];
static char fixtures[PATH_MAX];

static int
rm_one(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
	(void)st;
	(void)flag;
	(void)ftw;
	return remove(path);
}

/* Every test gets a fresh temp dir and an environment without the user's kubeconfig. */
static void
setup(void)
{
	char *home;

	strcpy(tmp, "/tmp/nub-kcfg-XXXXXX");
	cr_assert_not_null(mkdtemp(tmp));
	home = xasprintf("%s/home", tmp);
	mkdir(home, 0700);
	setenv("HOME", home, 1);
	free(home);
	unsetenv("KUBECONFIG");
	unsetenv("KUBERNETES_SERVICE_HOST");
	unsetenv("KUBERNETES_SERVICE_PORT");
	unsetenv("POD_NAMESPACE");
	cr_assert_not_null(realpath(FIXTURES, fixtures),
	    "run the unit tests from the repository root (%s not found)", FIXTURES);
}

static void
teardown(void)
{
	nftw(tmp, rm_one, 16, FTW_DEPTH | FTW_PHYS);
}

TestSuite(kubeconfig, .init = setup, .fini = teardown);

/* Write tmp/rel (making directories), return its path (caller frees). */
static char *
put(const char *rel, const char *fmt, ...)
{
	char *path = xasprintf("%s/%s", tmp, rel), *p;
	va_list ap;
	FILE *f;

	for (p = path + strlen(tmp) + 1; (p = strchr(p, '/')) != NULL; p++) {
		*p = '\0';
		mkdir(path, 0700);
		*p = '/';
	}
	f = fopen(path, "w");
	cr_assert_not_null(f, "%s: %s", path, strerror(errno));
	va_start(ap, fmt);
	vfprintf(f, fmt, ap);
	va_end(ap);
	fclose(f);
	return path;
}

static char *
tpath(const char *rel)
{
	return xasprintf("%s/%s", tmp, rel);
}

/* Load exactly one file (as --kubeconfig) with an optional --context. */
static int
load_file(const char *path, const char *context, struct kcfg **c, struct err *e)
{
	struct kcfg_opts o = { .kubeconfig = path, .context = context };

	err_clear(e);
	*c = NULL;
	return kcfg_load(&o, c, e);
}

/* Write a kubeconfig with one context "ctx" -> cluster "c" -> user "u" and load it. */
static int
load_one(const char *cluster_body, const char *user_body, struct kcfg **c, struct err *e)
{
	char *path;
	int rc;

	path = put("one/config",
	    "current-context: ctx\n"
	    "clusters:\n- name: c\n  cluster:\n%s"
	    "contexts:\n- name: ctx\n  context: {cluster: c, user: u, namespace: ns1}\n"
	    "users:\n- name: u\n  user:\n%s",
	    cluster_body, user_body);
	rc = load_file(path, NULL, c, e);
	free(path);
	return rc;
}

#define SERVER "    server: https://k.example.com:6443\n"
#define NOUSER "    {}\n"

static void
assert_fails(int rc, const struct err *e, const char *want)
{
	cr_assert_eq(rc, -1, "expected an error containing '%s'", want);
	cr_assert(strstr(e->msg, want) != NULL, "error '%s' does not contain '%s'", e->msg, want);
}

/* ---- a realistic file ---- */

Test(kubeconfig, fixture_current_context)
{
	char *path = xasprintf("%s/basic.yaml", fixtures);
	struct kcfg *c;
	struct err e;

	cr_assert_eq(load_file(path, NULL, &c, &e), 0, "%s", e.msg);
	cr_assert_str_eq(c->context, "prod");
	cr_assert_str_eq(c->cluster_name, "prod-cluster");
	cr_assert_str_eq(c->user_name, "prod-admin");
	cr_assert_str_eq(c->namespace, "nublado");
	cr_assert_str_eq(c->server, "https://prod.example.com:6443", "trailing slash stripped");
	cr_assert_str_eq(c->ca_pem, CA_PEM);
	cr_assert_eq(c->ca_len, strlen(CA_PEM));
	cr_assert_str_eq(c->ca_source, "certificate-authority-data");
	cr_assert_str_eq(c->token, "prod-token-123");
	cr_assert_null(c->username);
	cr_assert_null(c->exec);
	cr_assert_str_eq(c->source, path);
	cr_assert_str_eq(c->current_context, "prod");
	cr_assert_str_eq(c->contexts[0], "anonymous");
	cr_assert_str_eq(c->contexts[1], "dev");
	cr_assert_str_eq(c->contexts[2], "prod");
	cr_assert_null(c->contexts[3]);
	kcfg_free(c);
	free(path);
}

Test(kubeconfig, context_override)
{
	char *path = xasprintf("%s/basic.yaml", fixtures);
	struct kcfg *c;
	struct err e;

	cr_assert_eq(load_file(path, "dev", &c, &e), 0, "%s", e.msg);
	cr_assert_str_eq(c->context, "dev");
	cr_assert_str_eq(c->current_context, "prod");
	cr_assert_str_eq(c->server, "http://127.0.0.1:8080");
	cr_assert_null(c->namespace);
	cr_assert_null(c->ca_pem);
	cr_assert_str_eq(c->username, "dev");
	cr_assert_str_eq(c->password, "dev-password");
	cr_assert_null(c->token);
	kcfg_free(c);

	/* A context without a user is anonymous. */
	cr_assert_eq(load_file(path, "anonymous", &c, &e), 0, "%s", e.msg);
	cr_assert_null(c->user_name);
	cr_assert_null(c->token);
	cr_assert_null(c->username);
	kcfg_free(c);
	free(path);
}

Test(kubeconfig, unknown_context_lists_known)
{
	char *path = xasprintf("%s/basic.yaml", fixtures), *want;
	struct kcfg *c;
	struct err e;

	want = xasprintf("context 'nope' not found in %s; known contexts: anonymous, dev, prod",
	    path);
	assert_fails(load_file(path, "nope", &c, &e), &e, want);
	cr_assert_null(c);
	cr_assert(strstr(e.hint, "--context") != NULL, "hint: %s", e.hint);
	free(want);
	free(path);
}

Test(kubeconfig, malformed_yaml_located)
{
	char *path = xasprintf("%s/malformed.yaml", fixtures), *want;
	struct kcfg *c;
	struct err e;

	want = xasprintf("%s:", path);
	assert_fails(load_file(path, NULL, &c, &e), &e, want);
	cr_assert(strstr(e.msg, "invalid YAML") != NULL, "%s", e.msg);
	/* path:LINE:COL: with a line inside the file */
	{
		int line = 0, col = 0;

		cr_assert_eq(sscanf(e.msg + strlen(path), ":%d:%d:", &line, &col), 2, "%s", e.msg);
		cr_assert(line >= 5 && line <= 7, "line %d in '%s'", line, e.msg);
		cr_assert(col >= 1);
	}
	free(want);
	free(path);
}

Test(kubeconfig, malformed_yaml_in_temp_file)
{
	char *path = put("bad", "clusters:\n- name: a\n\tcluster: {}\n");
	struct kcfg *c;
	struct err e;
	char *want = xasprintf("%s:3:", path);

	assert_fails(load_file(path, NULL, &c, &e), &e, want);
	free(want);
	free(path);
}

Test(kubeconfig, relative_paths_fixture)
{
	char *path = xasprintf("%s/relative/config", fixtures), *ca;
	struct kcfg *c;
	struct err e;

	cr_assert_eq(load_file(path, NULL, &c, &e), 0, "%s", e.msg);
	ca = xasprintf("%s/relative/certs/ca.crt", fixtures);
	cr_assert_str_eq(c->ca_source, ca);
	cr_assert(strstr(c->ca_pem, "CA-FILE") != NULL);
	cr_assert(strstr(c->cert_pem, "CLIENT-CERT-FILE") != NULL);
	cr_assert(strstr(c->key_pem, "CLIENT-KEY-FILE") != NULL);
	cr_assert_eq(c->cert_len, strlen(c->cert_pem));
	kcfg_free(c);
	free(ca);
	free(path);
}

/* ---- which files ---- */

#define FILE_A \
	"current-context: \"\"\n" \
	"clusters:\n- name: shared\n  cluster: {server: https://from-a}\n" \
	"contexts:\n- name: ctx-a\n  context: {cluster: shared, user: shared}\n" \
	"users:\n- name: shared\n  user: {token: token-a}\n"
#define FILE_B \
	"current-context: ctx-b\n" \
	"clusters:\n- name: shared\n  cluster: {server: https://from-b}\n" \
	"- name: only-b\n  cluster: {server: https://only-b}\n" \
	"contexts:\n- name: ctx-b\n  context: {cluster: only-b, user: shared}\n" \
	"- name: ctx-a\n  context: {cluster: only-b}\n" \
	"users:\n- name: shared\n  user: {username: b, password: pw}\n"
#define FILE_C \
	"current-context: ctx-a\n" \
	"contexts:\n- name: ctx-c\n  context: {cluster: shared}\n"

Test(kubeconfig, kubeconfig_env_merge_first_wins)
{
	char *a = put("a/config", FILE_A), *b = put("b/config", FILE_B);
	char *cc = put("c/config", FILE_C), *env, *src;
	struct kcfg_opts o = { 0 };
	struct kcfg *c;
	struct err e;

	env = xasprintf("%s:%s:%s", a, b, cc);
	setenv("KUBECONFIG", env, 1);
	err_clear(&e);
	cr_assert_eq(kcfg_load(&o, &c, &e), 0, "%s", e.msg);
	/* a's current-context is empty: b's is the first non-empty one */
	cr_assert_str_eq(c->current_context, "ctx-b");
	cr_assert_str_eq(c->context, "ctx-b");
	cr_assert_str_eq(c->server, "https://only-b");
	/* user "shared" comes whole from a: its token, none of b's basic auth */
	cr_assert_str_eq(c->token, "token-a");
	cr_assert_null(c->username);
	cr_assert_null(c->password);
	src = xasprintf("%s, %s, %s", a, b, cc);
	cr_assert_str_eq(c->source, src);
	cr_assert_str_eq(c->contexts[0], "ctx-a");
	cr_assert_str_eq(c->contexts[1], "ctx-b");
	cr_assert_str_eq(c->contexts[2], "ctx-c");
	cr_assert_null(c->contexts[3]);
	kcfg_free(c);

	/* ctx-a is a's (first wins), so its cluster "shared" is a's too */
	o.context = "ctx-a";
	cr_assert_eq(kcfg_load(&o, &c, &e), 0, "%s", e.msg);
	cr_assert_str_eq(c->server, "https://from-a");
	cr_assert_str_eq(c->user_name, "shared");
	kcfg_free(c);
	free(src);
	free(env);
	free(a);
	free(b);
	free(cc);
}

Test(kubeconfig, kubeconfig_env_missing_skipped_duplicates_dropped)
{
	char *a = put("a/config", FILE_A), *b = put("b/config", FILE_B);
	char *missing = tpath("nope/config"), *env, *src;
	struct kcfg_opts o = { 0 };
	struct kcfg *c;
	struct err e;

	/* the same file twice would otherwise be a "duplicate name" in one list */
	env = xasprintf("%s::%s:%s:%s:", missing, b, a, b);
	setenv("KUBECONFIG", env, 1);
	err_clear(&e);
	cr_assert_eq(kcfg_load(&o, &c, &e), 0, "%s", e.msg);
	src = xasprintf("%s, %s", b, a);
	cr_assert_str_eq(c->source, src);
	cr_assert_str_eq(c->server, "https://only-b");
	cr_assert_str_eq(c->username, "b", "b comes first now");
	kcfg_free(c);
	free(src);
	free(env);
	free(missing);
	free(a);
	free(b);
}

Test(kubeconfig, kubeconfig_env_all_missing)
{
	char *missing = tpath("nope/config"), *want;
	struct kcfg_opts o = { 0 };
	struct kcfg *c;
	struct err e;

	setenv("KUBECONFIG", missing, 1);
	err_clear(&e);
	want = xasprintf("no kubeconfig found (tried %s)", missing);
	assert_fails(kcfg_load(&o, &c, &e), &e, want);
	cr_assert(strstr(e.hint, "--kubeconfig") != NULL && strstr(e.hint, "KUBECONFIG") != NULL,
	    "hint: %s", e.hint);
	free(want);
	free(missing);
}

Test(kubeconfig, flag_must_exist_and_beats_env)
{
	char *a = put("a/config", FILE_A), *b = put("b/config", FILE_B);
	char *missing = tpath("nope/config");
	struct kcfg *c;
	struct err e;

	setenv("KUBECONFIG", a, 1);
	assert_fails(load_file(missing, NULL, &c, &e), &e, missing);
	cr_assert(strstr(e.msg, "No such file or directory") != NULL, "%s", e.msg);
	cr_assert_null(c);

	cr_assert_eq(load_file(b, NULL, &c, &e), 0, "%s", e.msg);
	cr_assert_str_eq(c->source, b);
	cr_assert_str_eq(c->username, "b");
	kcfg_free(c);
	free(missing);
	free(a);
	free(b);
}

Test(kubeconfig, default_path_option)
{
	char *b = put("elsewhere/kc", FILE_B);
	struct kcfg_opts o = { .default_path = b };
	struct kcfg *c;
	struct err e;

	err_clear(&e);
	cr_assert_eq(kcfg_load(&o, &c, &e), 0, "%s", e.msg);
	cr_assert_str_eq(c->source, b);
	kcfg_free(c);
	free(b);
}

Test(kubeconfig, home_kube_config)
{
	char *path = put("home/.kube/config", FILE_B);
	struct kcfg_opts o = { 0 };
	struct kcfg *c;
	struct err e;

	err_clear(&e);
	cr_assert_eq(kcfg_load(&o, &c, &e), 0, "%s", e.msg);
	cr_assert_str_eq(c->source, path);
	cr_assert_str_eq(c->context, "ctx-b");
	kcfg_free(c);
	free(path);
}

Test(kubeconfig, nothing_found)
{
	char *want = xasprintf("no kubeconfig found (tried %s/home/.kube/config)", tmp);
	struct kcfg_opts o = { 0 };
	struct kcfg *c;
	struct err e;

	err_clear(&e);
	assert_fails(kcfg_load(&o, &c, &e), &e, want);
	cr_assert_neq(e.hint[0], '\0');
	free(want);
}

Test(kubeconfig, no_current_context)
{
	char *path = put("kc", FILE_C + strlen("current-context: ctx-a\n"));
	struct kcfg *c;
	struct err e;

	assert_fails(load_file(path, NULL, &c, &e), &e, "no current context");
	cr_assert(strstr(e.msg, "known contexts: ctx-c") != NULL, "%s", e.msg);
	cr_assert(strstr(e.hint, "use --context NAME") != NULL, "hint: %s", e.hint);
	free(path);
}

Test(kubeconfig, empty_file)
{
	char *path = put("kc", "# nothing here\n---\n");
	struct kcfg *c;
	struct err e;

	assert_fails(load_file(path, NULL, &c, &e), &e, "no current context");
	cr_assert(strstr(e.msg, "no contexts are defined") != NULL, "%s", e.msg);
	free(path);
}

Test(kubeconfig, context_refers_to_missing_cluster_or_user)
{
	char *path = put("kc",
	    "clusters:\n- name: c\n  cluster: {server: https://x}\n"
	    "contexts:\n- name: no-cluster\n  context:\n    cluster: ghost\n"
	    "- name: no-user\n  context:\n    cluster: c\n    user: phantom\n"
	    "- name: empty\n  context: {}\n");
	char *want;
	struct kcfg *c;
	struct err e;

	want = xasprintf("%s:7:5: context 'no-cluster' refers to cluster 'ghost', which is "
	    "not defined in %s", path, path);
	assert_fails(load_file(path, "no-cluster", &c, &e), &e, want);
	free(want);
	want = xasprintf("%s:11:5: context 'no-user' refers to user 'phantom'", path);
	assert_fails(load_file(path, "no-user", &c, &e), &e, want);
	free(want);
	assert_fails(load_file(path, "empty", &c, &e), &e, "context 'empty' has no cluster");
	free(path);
}

/* ---- in-cluster ---- */

static void
fake_service_account(bool with_ns)
{
	free(put("root/var/run/secrets/kubernetes.io/serviceaccount/token", "sa-token\n"));
	free(put("root/var/run/secrets/kubernetes.io/serviceaccount/ca.crt", CA_PEM));
	if (with_ns)
		free(put("root/var/run/secrets/kubernetes.io/serviceaccount/namespace",
		    "nublado-dev\n"));
}

Test(kubeconfig, in_cluster_fallback)
{
	char *root = tpath("root"), *token;
	struct kcfg_opts o = { .incluster_root = root };
	struct kcfg *c;
	struct err e;

	fake_service_account(true);
	setenv("KUBERNETES_SERVICE_HOST", "10.96.0.1", 1);
	setenv("KUBERNETES_SERVICE_PORT", "443", 1);
	err_clear(&e);
	cr_assert_eq(kcfg_load(&o, &c, &e), 0, "%s", e.msg);
	cr_assert_str_eq(c->server, "https://10.96.0.1:443");
	token = xasprintf("%s/var/run/secrets/kubernetes.io/serviceaccount/token", root);
	cr_assert_str_eq(c->token_file, token);
	cr_assert_null(c->token);
	cr_assert_str_eq(c->ca_pem, CA_PEM);
	cr_assert_str_eq(c->namespace, "nublado-dev");
	cr_assert_str_eq(c->context, "");
	cr_assert_null(c->contexts[0]);
	cr_assert(strstr(c->source, "in-cluster") != NULL);
	kcfg_free(c);

	/* POD_NAMESPACE comes first, as in client-go */
	setenv("POD_NAMESPACE", "from-env", 1);
	cr_assert_eq(kcfg_load(&o, &c, &e), 0, "%s", e.msg);
	cr_assert_str_eq(c->namespace, "from-env");
	kcfg_free(c);

	/* --token replaces the service account's token file (client-go's in-cluster overrides) */
	o.ov.token = "flag-token";
	cr_assert_eq(kcfg_load(&o, &c, &e), 0, "%s", e.msg);
	cr_assert_str_eq(c->token, "flag-token");
	cr_assert_null(c->token_file);
	kcfg_free(c);
	/* kubectl ignores --as in-cluster: we refuse rather than act as the service account */
	o.ov.as = "jdoe";
	cr_assert_eq(kcfg_load(&o, &c, &e), -1);
	cr_assert(strstr(e.msg, "--as is not applied to the in-cluster configuration") != NULL,
	    "%s", e.msg);
	cr_assert_null(c);
	free(token);
	free(root);
}

Test(kubeconfig, in_cluster_ipv6_and_no_namespace)
{
	char *root = tpath("root/");
	struct kcfg_opts o = { .incluster_root = root };
	struct kcfg *c;
	struct err e;

	fake_service_account(false);
	setenv("KUBERNETES_SERVICE_HOST", "fd00:10:96::1", 1);
	setenv("KUBERNETES_SERVICE_PORT", "6443", 1);
	err_clear(&e);
	cr_assert_eq(kcfg_load(&o, &c, &e), 0, "%s", e.msg);
	cr_assert_str_eq(c->server, "https://[fd00:10:96::1]:6443");
	cr_assert_null(c->namespace);
	kcfg_free(c);
	free(root);
}

Test(kubeconfig, in_cluster_needs_token_and_env)
{
	char *root = tpath("root");
	struct kcfg_opts o = { .incluster_root = root };
	struct kcfg *c;
	struct err e;

	setenv("KUBERNETES_SERVICE_HOST", "10.96.0.1", 1);
	setenv("KUBERNETES_SERVICE_PORT", "443", 1);
	err_clear(&e);
	assert_fails(kcfg_load(&o, &c, &e), &e, "no kubeconfig found");
	fake_service_account(true);
	unsetenv("KUBERNETES_SERVICE_PORT");
	assert_fails(kcfg_load(&o, &c, &e), &e, "no kubeconfig found");
	free(root);
}

Test(kubeconfig, kubeconfig_beats_in_cluster)
{
	char *root = tpath("root"), *b = put("home/.kube/config", FILE_B);
	struct kcfg_opts o = { .incluster_root = root };
	struct kcfg *c;
	struct err e;

	fake_service_account(true);
	setenv("KUBERNETES_SERVICE_HOST", "10.96.0.1", 1);
	setenv("KUBERNETES_SERVICE_PORT", "443", 1);
	err_clear(&e);
	cr_assert_eq(kcfg_load(&o, &c, &e), 0, "%s", e.msg);
	cr_assert_str_eq(c->server, "https://only-b");
	kcfg_free(c);
	/* an empty kubeconfig is no configuration at all */
	free(put("home/.kube/config", "\n"));
	cr_assert_eq(kcfg_load(&o, &c, &e), 0, "%s", e.msg);
	cr_assert_str_eq(c->server, "https://10.96.0.1:443");
	kcfg_free(c);
	free(b);
	free(root);
}

/* ---- clusters ---- */

Test(kubeconfig, server_path_prefix_and_namespace)
{
	struct kcfg *c;
	struct err e;

	cr_assert_eq(load_one("    server: https://h.example.com/k8s/clusters/c-1//\n",
	    NOUSER, &c, &e), 0, "%s", e.msg);
	cr_assert_str_eq(c->server, "https://h.example.com/k8s/clusters/c-1");
	cr_assert_str_eq(c->namespace, "ns1");
	kcfg_free(c);
}

Test(kubeconfig, server_missing_or_bad)
{
	struct kcfg *c;
	struct err e;
	char *want = tpath("one/config:4:3: clusters[0].cluster: cluster 'c' has no server");

	assert_fails(load_one("    insecure-skip-tls-verify: true\n", NOUSER, &c, &e), &e, want);
	cr_assert_neq(e.hint[0], '\0');
	free(want);
	assert_fails(load_one("    server: k.example.com:6443\n", NOUSER, &c, &e), &e,
	    "clusters[0].cluster.server: 'k.example.com:6443' is not an http:// or https:// URL");
	assert_fails(load_one("    server: https://\n", NOUSER, &c, &e), &e, "is not an http");
}

Test(kubeconfig, ca_data_wins_over_file)
{
	struct kcfg *c;
	struct err e;

	/* the file doesn't exist: with data present it is never read */
	cr_assert_eq(load_one(SERVER "    certificate-authority: /nonexistent/ca.crt\n"
	    "    certificate-authority-data: " CA_B64 "\n", NOUSER, &c, &e), 0, "%s", e.msg);
	cr_assert_str_eq(c->ca_pem, CA_PEM);
	cr_assert_str_eq(c->ca_source, "certificate-authority-data");
	kcfg_free(c);
}

Test(kubeconfig, ca_file_unreadable)
{
	struct kcfg *c;
	struct err e;
	char *want = tpath("one/config:6:5: clusters[0].cluster.certificate-authority: "
	    "cannot read '/nonexistent/ca.crt': No such file or directory");

	assert_fails(load_one(SERVER "    certificate-authority: /nonexistent/ca.crt\n",
	    NOUSER, &c, &e), &e, want);
	free(want);
}

Test(kubeconfig, relative_paths_against_naming_file)
{
	/* the context's file, the cluster's file and the user's file are in three dirs */
	char *ctx = put("x/config", "current-context: ctx\n"
	    "contexts:\n- name: ctx\n  context: {cluster: c, user: u}\n");
	char *cl = put("y/sub/config", "clusters:\n- name: c\n  cluster:\n"
	    "    server: https://c\n    certificate-authority: ../ca.pem\n");
	char *us = put("z/config", "users:\n- name: u\n  user:\n"
	    "    client-certificate: pki/u.crt\n    client-key: pki/u.key\n"
	    "    tokenFile: tok\n");
	char *env = xasprintf("%s:%s:%s", ctx, cl, us), *want;
	struct kcfg_opts o = { 0 };
	struct kcfg *c;
	struct err e;

	free(put("y/ca.pem", CA_PEM));
	free(put("z/pki/u.crt", CERT_PEM));
	free(put("z/pki/u.key", KEY_PEM));
	setenv("KUBECONFIG", env, 1);
	err_clear(&e);
	cr_assert_eq(kcfg_load(&o, &c, &e), 0, "%s", e.msg);
	cr_assert_str_eq(c->ca_pem, CA_PEM);
	want = tpath("y/sub/../ca.pem");
	cr_assert_str_eq(c->ca_source, want);
	free(want);
	cr_assert_str_eq(c->cert_pem, CERT_PEM);
	cr_assert_str_eq(c->key_pem, KEY_PEM);
	cr_assert_eq(c->key_len, strlen(KEY_PEM));
	want = tpath("z/tok");
	cr_assert_str_eq(c->token_file, want);
	free(want);
	kcfg_free(c);

	/* a relative KUBECONFIG entry resolves against the working directory */
	cr_assert_eq(chdir(tmp), 0);
	setenv("KUBECONFIG", "x/config:y/sub/config:z/config", 1);
	cr_assert_eq(kcfg_load(&o, &c, &e), 0, "%s", e.msg);
	cr_assert_str_eq(c->cert_pem, CERT_PEM);
	want = tpath("z/tok");
	cr_assert_str_eq(c->token_file, want);
	free(want);
	kcfg_free(c);
	free(env);
	free(ctx);
	free(cl);
	free(us);
}

Test(kubeconfig, insecure_with_ca_is_an_error)
{
	struct kcfg *c;
	struct err e;

	assert_fails(load_one(SERVER "    insecure-skip-tls-verify: true\n"
	    "    certificate-authority-data: " CA_B64 "\n", NOUSER, &c, &e), &e,
	    "specifying a root certificates file with the insecure flag is not allowed");
	cr_assert(strstr(e.msg, "one/config:6:5: clusters[0].cluster:") != NULL, "%s", e.msg);
	assert_fails(load_one(SERVER "    insecure-skip-tls-verify: true\n"
	    "    certificate-authority: /nonexistent\n", NOUSER, &c, &e), &e,
	    "with the insecure flag is not allowed");
	cr_assert_eq(load_one(SERVER "    insecure-skip-tls-verify: true\n", NOUSER, &c, &e), 0,
	    "%s", e.msg);
	cr_assert(c->insecure);
	cr_assert_null(c->ca_pem);
	kcfg_free(c);
	cr_assert_eq(load_one(SERVER "    insecure-skip-tls-verify: false\n"
	    "    certificate-authority-data: " CA_B64 "\n", NOUSER, &c, &e), 0, "%s", e.msg);
	cr_assert_not(c->insecure);
	kcfg_free(c);
}

Test(kubeconfig, tls_server_name_and_proxy)
{
	struct kcfg *c;
	struct err e;

	cr_assert_eq(load_one(SERVER "    tls-server-name: kubernetes.default\n"
	    "    proxy-url: socks5://127.0.0.1:1080\n", NOUSER, &c, &e), 0, "%s", e.msg);
	cr_assert_str_eq(c->tls_server_name, "kubernetes.default");
	cr_assert_str_eq(c->proxy_url, "socks5://127.0.0.1:1080");
	kcfg_free(c);
	assert_fails(load_one(SERVER "    proxy-url: ftp://proxy\n", NOUSER, &c, &e), &e,
	    "clusters[0].cluster.proxy-url: unsupported scheme");
}

/* ---- users ---- */

Test(kubeconfig, client_cert_data)
{
	struct kcfg *c;
	struct err e;

	cr_assert_eq(load_one(SERVER, "    client-certificate-data: " CERT_B64 "\n"
	    "    client-key-data: " KEY_B64 "\n"
	    "    client-certificate: /nonexistent/c.crt\n", &c, &e), 0, "%s", e.msg);
	cr_assert_str_eq(c->cert_pem, CERT_PEM);
	cr_assert_eq(c->cert_len, strlen(CERT_PEM));
	cr_assert_str_eq(c->key_pem, KEY_PEM);
	cr_assert_null(c->token);
	kcfg_free(c);
}

Test(kubeconfig, client_cert_file_absolute)
{
	char *crt = put("pki/c.crt", CERT_PEM), *key = put("pki/c.key", KEY_PEM), *user;
	struct kcfg *c;
	struct err e;

	user = xasprintf("    client-certificate: %s\n    client-key: %s\n", crt, key);
	cr_assert_eq(load_one(SERVER, user, &c, &e), 0, "%s", e.msg);
	cr_assert_str_eq(c->cert_pem, CERT_PEM);
	cr_assert_str_eq(c->key_pem, KEY_PEM);
	kcfg_free(c);
	free(user);
	free(crt);
	free(key);
}

Test(kubeconfig, cert_without_key)
{
	struct kcfg *c;
	struct err e;

	assert_fails(load_one(SERVER, "    client-certificate-data: " CERT_B64 "\n", &c, &e),
	    &e, "users[0].user: client-certificate is set but client-key is not");
	assert_fails(load_one(SERVER, "    client-key-data: " KEY_B64 "\n", &c, &e),
	    &e, "users[0].user: client-key is set but client-certificate is not");
	assert_fails(load_one(SERVER, "    client-certificate-data: " CERT_B64 "\n"
	    "    client-key: /nonexistent/k\n", &c, &e), &e,
	    "users[0].user.client-key: cannot read '/nonexistent/k': No such file");
}

Test(kubeconfig, bad_base64_located)
{
	struct kcfg *c;
	struct err e;
	char *want = tpath("one/config:13:5: users[0].user.client-key-data: invalid base64 data");

	assert_fails(load_one(SERVER, "    client-certificate-data: " CERT_B64 "\n"
	    "    client-key-data: not*base64\n", &c, &e), &e, want);
	free(want);
	want = tpath("one/config:6:5: clusters[0].cluster.certificate-authority-data: invalid");
	assert_fails(load_one(SERVER "    certificate-authority-data: ???\n", NOUSER, &c, &e),
	    &e, want);
	free(want);
}

Test(kubeconfig, token_and_token_file)
{
	char *tok = put("secrets/tok", "file-token\n"), *user;
	struct kcfg *c;
	struct err e;

	cr_assert_eq(load_one(SERVER, "    token: abc\n", &c, &e), 0, "%s", e.msg);
	cr_assert_str_eq(c->token, "abc");
	cr_assert_null(c->token_file);
	kcfg_free(c);

	cr_assert_eq(load_one(SERVER, "    tokenFile: ../secrets/tok\n", &c, &e), 0, "%s", e.msg);
	cr_assert_null(c->token);
	user = tpath("one/../secrets/tok");
	cr_assert_str_eq(c->token_file, user);
	free(user);
	kcfg_free(c);

	/* both kept: client-go reads the file for each request, the token is its fallback */
	user = xasprintf("    token: inline\n    tokenFile: %s\n", tok);
	cr_assert_eq(load_one(SERVER, user, &c, &e), 0, "%s", e.msg);
	cr_assert_str_eq(c->token, "inline");
	cr_assert_str_eq(c->token_file, tok);
	kcfg_free(c);
	free(user);
	free(tok);
}

Test(kubeconfig, basic_auth_and_conflict)
{
	struct kcfg *c;
	struct err e;

	cr_assert_eq(load_one(SERVER, "    username: admin\n    password: s3cret\n", &c, &e), 0,
	    "%s", e.msg);
	cr_assert_str_eq(c->username, "admin");
	cr_assert_str_eq(c->password, "s3cret");
	kcfg_free(c);
	assert_fails(load_one(SERVER, "    username: admin\n    password: x\n    token: t\n",
	    &c, &e), &e, "username/password or bearer token may be set, but not both");
	cr_assert(strstr(e.msg, "s3cret") == NULL && strstr(e.msg, ": t") == NULL);
	assert_fails(load_one(SERVER, "    username: admin\n    tokenFile: /x\n", &c, &e), &e,
	    "but not both");
}

Test(kubeconfig, impersonation)
{
	struct kcfg *c;
	struct err e;

	cr_assert_eq(load_one(SERVER, "    token: t\n    as: jdoe\n"
	    "    as-groups: [g1, \"system:masters\"]\n", &c, &e), 0, "%s", e.msg);
	cr_assert_str_eq(c->impersonate, "jdoe");
	cr_assert_str_eq(c->impersonate_groups[0], "g1");
	cr_assert_str_eq(c->impersonate_groups[1], "system:masters");
	cr_assert_null(c->impersonate_groups[2]);
	kcfg_free(c);
	assert_fails(load_one(SERVER, "    as-groups: g1\n", &c, &e), &e,
	    "users[0].user.as-groups: expected a list of strings, found a string");
}

Test(kubeconfig, exec_v1)
{
	struct kcfg *c;
	struct err e;
	char *want;

	cr_assert_eq(load_one(SERVER,
	    "    exec:\n"
	    "      apiVersion: client.authentication.k8s.io/v1\n"
	    "      command: ./bin/plugin\n"
	    "      args: [get-token, --cluster, c1]\n"
	    "      env:\n      - name: FOO\n        value: bar\n"
	    "      - {name: EMPTY}\n"
	    "      installHint: install it with brew\n"
	    "      provideClusterInfo: true\n"
	    "      interactiveMode: Never\n", &c, &e), 0, "%s", e.msg);
	cr_assert_not_null(c->exec);
	want = tpath("one/bin/plugin");
	cr_assert_str_eq(c->exec->command, want);
	free(want);
	cr_assert_str_eq(c->exec->args[0], "get-token");
	cr_assert_str_eq(c->exec->args[2], "c1");
	cr_assert_null(c->exec->args[3]);
	cr_assert_str_eq(c->exec->env[0], "FOO=bar");
	cr_assert_str_eq(c->exec->env[1], "EMPTY=");
	cr_assert_null(c->exec->env[2]);
	cr_assert_str_eq(c->exec->api_version, "client.authentication.k8s.io/v1");
	cr_assert_str_eq(c->exec->install_hint, "install it with brew");
	cr_assert(c->exec->provide_cluster_info);
	cr_assert_eq(c->exec->interactive, KCFG_INTERACTIVE_NEVER);
	kcfg_free(c);

	assert_fails(load_one(SERVER, "    exec:\n      apiVersion: client.authentication.k8s.io/v1\n"
	    "      command: aws\n", &c, &e), &e, "exec.interactiveMode: must be set");
	assert_fails(load_one(SERVER, "    exec:\n      apiVersion: client.authentication.k8s.io/v1\n"
	    "      command: aws\n      interactiveMode: Sometimes\n", &c, &e), &e,
	    "users[0].user.exec.interactiveMode: invalid value 'Sometimes'");
}

Test(kubeconfig, exec_v1beta1_defaults)
{
	struct kcfg *c;
	struct err e;

	cr_assert_eq(load_one(SERVER, "    exec:\n"
	    "      apiVersion: client.authentication.k8s.io/v1beta1\n"
	    "      command: gke-gcloud-auth-plugin\n", &c, &e), 0, "%s", e.msg);
	cr_assert_str_eq(c->exec->command, "gke-gcloud-auth-plugin", "bare names use PATH");
	cr_assert_eq(c->exec->interactive, KCFG_INTERACTIVE_IF_AVAILABLE);
	cr_assert_not(c->exec->provide_cluster_info);
	cr_assert_null(c->exec->args);
	cr_assert_null(c->exec->env);
	cr_assert_null(c->exec->install_hint);
	kcfg_free(c);
}

Test(kubeconfig, exec_bad_api_versions)
{
	struct kcfg *c;
	struct err e;

	assert_fails(load_one(SERVER, "    exec:\n"
	    "      apiVersion: client.authentication.k8s.io/v1alpha1\n"
	    "      command: old-plugin\n", &c, &e), &e,
	    "client.authentication.k8s.io/v1alpha1 is no longer supported");
	cr_assert(strstr(e.hint, "client.authentication.k8s.io/v1") != NULL, "%s", e.hint);
	assert_fails(load_one(SERVER, "    exec:\n      command: plugin\n", &c, &e), &e,
	    "users[0].user.exec.apiVersion: missing");
	assert_fails(load_one(SERVER, "    exec:\n      apiVersion: v1\n      command: p\n",
	    &c, &e), &e, "'v1' is not supported");
	assert_fails(load_one(SERVER, "    exec:\n"
	    "      apiVersion: client.authentication.k8s.io/v1beta1\n", &c, &e), &e,
	    "users[0].user.exec.command: missing");
	assert_fails(load_one(SERVER, "    exec:\n"
	    "      apiVersion: client.authentication.k8s.io/v1beta1\n      command: p\n"
	    "      env: [{value: x}]\n", &c, &e), &e, "exec.env[0].name: missing");
}

Test(kubeconfig, auth_provider_recorded)
{
	struct kcfg *c;
	struct err e;

	cr_assert_eq(load_one(SERVER, "    auth-provider:\n      name: oidc\n"
	    "      config: {idp-issuer-url: https://idp}\n", &c, &e), 0, "%s", e.msg);
	cr_assert_str_eq(c->auth_provider, "oidc");
	kcfg_free(c);
}

/* ---- wrong shapes ---- */

Test(kubeconfig, wrong_types_located)
{
	struct kcfg *c;
	struct err e;
	char *want, *path;

	want = tpath("one/config:12:5: users[0].user.token: expected a string, found a list");
	assert_fails(load_one(SERVER, "    token: [a, b]\n", &c, &e), &e, want);
	free(want);
	assert_fails(load_one(SERVER "    insecure-skip-tls-verify: maybe\n", NOUSER, &c, &e), &e,
	    "clusters[0].cluster.insecure-skip-tls-verify: expected true or false, found 'maybe'");
	assert_fails(load_one(SERVER, "    exec: [a]\n", &c, &e), &e,
	    "users[0].user.exec: expected a mapping, found a list");
	assert_fails(load_one("    - server: https://x\n", NOUSER, &c, &e), &e,
	    "clusters[0].cluster: expected a mapping, found a list");

	path = put("kc", "clusters:\n  name: a\n");
	want = xasprintf("%s:1:1: clusters: expected a list, found a mapping", path);
	assert_fails(load_file(path, NULL, &c, &e), &e, want);
	free(want);
	free(path);

	path = put("kc", "contexts:\n- just-a-string\n");
	want = xasprintf("%s:2:3: contexts[0]: expected a mapping, found a string", path);
	assert_fails(load_file(path, NULL, &c, &e), &e, want);
	free(want);
	free(path);

	path = put("kc", "- a\n- b\n");
	want = xasprintf("%s:1:3: expected a mapping at the top level, found a list", path);
	assert_fails(load_file(path, NULL, &c, &e), &e, want);
	free(want);
	free(path);

	path = put("kc", "current-context: {a: b}\n");
	assert_fails(load_file(path, NULL, &c, &e), &e,
	    "current-context: expected a string, found a mapping");
	free(path);
}

Test(kubeconfig, duplicate_names_in_one_file)
{
	char *path = put("kc", "clusters:\n- name: a\n  cluster: {server: https://1}\n"
	    "- name: a\n  cluster: {server: https://2}\n"), *want;
	struct kcfg *c;
	struct err e;

	want = xasprintf("%s:4:3: clusters[1]: duplicate cluster name 'a' (also clusters[0])",
	    path);
	assert_fails(load_file(path, NULL, &c, &e), &e, want);
	free(want);
	free(path);
}

Test(kubeconfig, anchors_followed_and_bombs_harmless)
{
	char *path = put("kc",
	    "lol1: &l1 [a, a, a, a, a, a, a, a, a, a]\n"
	    "lol2: &l2 [*l1, *l1, *l1, *l1, *l1, *l1, *l1, *l1, *l1, *l1]\n"
	    "lol3: &l3 [*l2, *l2, *l2, *l2, *l2, *l2, *l2, *l2, *l2, *l2]\n"
	    "lol4: &l4 [*l3, *l3, *l3, *l3, *l3, *l3, *l3, *l3, *l3, *l3]\n"
	    "lol5: &l5 [*l4, *l4, *l4, *l4, *l4, *l4, *l4, *l4, *l4, *l4]\n"
	    "lol6: &l6 [*l5, *l5, *l5, *l5, *l5, *l5, *l5, *l5, *l5, *l5]\n"
	    "lol7: &l7 [*l6, *l6, *l6, *l6, *l6, *l6, *l6, *l6, *l6, *l6]\n"
	    "lol8: &l8 [*l7, *l7, *l7, *l7, *l7, *l7, *l7, *l7, *l7, *l7]\n"
	    "lol9: &l9 [*l8, *l8, *l8, *l8, *l8, *l8, *l8, *l8, *l8, *l8]\n"
	    "current-context: ctx\n"
	    "clusters:\n- name: c\n  cluster: &cl {server: https://anchored}\n"
	    "contexts:\n- name: ctx\n  context: {cluster: c, user: u}\n"
	    "users:\n- name: u\n  user:\n    token: &t tok\n    as-groups: [*t, *l9]\n");
	struct kcfg *c;
	struct err e;

	/* as-groups holds the bomb: only its first level is looked at, and it is not a string */
	assert_fails(load_file(path, NULL, &c, &e), &e,
	    "users[0].user.as-groups[1]: expected a string, found a list");
	free(path);

	path = put("kc", "x: &srv https://anchored/\n"
	    "current-context: ctx\n"
	    "clusters:\n- name: c\n  cluster: {server: *srv}\n"
	    "contexts:\n- &ctx\n  name: ctx\n  context: {cluster: c}\n");
	cr_assert_eq(load_file(path, NULL, &c, &e), 0, "%s", e.msg);
	cr_assert_str_eq(c->server, "https://anchored");
	kcfg_free(c);
	free(path);
}

Test(kubeconfig, huge_file_rejected)
{
	char *path = tpath("huge");
	int fd = open(path, O_CREAT | O_WRONLY | O_TRUNC, 0600);
	struct kcfg *c;
	struct err e;

	cr_assert_geq(fd, 0);
	cr_assert_eq(ftruncate(fd, 17 * 1024 * 1024), 0);
	close(fd);
	assert_fails(load_file(path, NULL, &c, &e), &e, "is larger than 16 MiB");
	free(path);
}

Test(kubeconfig, directory_is_an_error)
{
	char *dir = tpath("home"), *env;
	struct kcfg_opts o = { 0 };
	struct kcfg *c;
	struct err e;

	env = xasprintf("%s", dir);
	setenv("KUBECONFIG", env, 1);
	err_clear(&e);
	assert_fails(kcfg_load(&o, &c, &e), &e, "Is a directory");
	free(env);
	free(dir);
}

/* ---- completion ---- */

Test(kubeconfig, list_contexts_ignores_broken_users)
{
	char *a = put("a/config", FILE_A), *b = put("b/config", FILE_B);
	char *broken = put("c/config", "users:\n- name: bad\n  user:\n"
	    "    client-key-data: '!!!'\n    exec: [1]\n"
	    "contexts:\n- name: zz\n  context: {cluster: nowhere}\n");
	char *env = xasprintf("%s:%s:%s", broken, a, b), **names, *current;
	struct kcfg_opts o = { 0 };
	struct err e;

	setenv("KUBECONFIG", env, 1);
	err_clear(&e);
	cr_assert_eq(kcfg_list_contexts(&o, &names, &current, &e), 0, "%s", e.msg);
	cr_assert_str_eq(names[0], "ctx-a");
	cr_assert_str_eq(names[1], "ctx-b");
	cr_assert_str_eq(names[2], "zz");
	cr_assert_null(names[3]);
	cr_assert_str_eq(current, "ctx-b");
	strv_free(names);
	free(current);

	/* nothing configured: no names, no error */
	unsetenv("KUBECONFIG");
	cr_assert_eq(kcfg_list_contexts(&o, &names, &current, &e), 0, "%s", e.msg);
	cr_assert_null(names[0]);
	cr_assert_null(current);
	strv_free(names);
	free(env);
	free(a);
	free(b);
	free(broken);
}

/* ---- client-go parity (issue 11) ---- */

Test(kubeconfig, impersonation_uid_extra)
{
	struct kcfg *c;
	struct err e;

	cr_assert_eq(load_one(SERVER, "    as: jdoe\n    as-uid: u-1\n"
	    "    as-user-extra:\n      scopes: [view, edit]\n      example.org/team: [a b]\n",
	    &c, &e), 0, "%s", e.msg);
	cr_assert_str_eq(c->impersonate_uid, "u-1");
	cr_assert_str_eq(c->impersonate_extra[0], "scopes");
	cr_assert_str_eq(c->impersonate_extra[1], "view");
	cr_assert_str_eq(c->impersonate_extra[2], "scopes");
	cr_assert_str_eq(c->impersonate_extra[3], "edit");
	cr_assert_str_eq(c->impersonate_extra[4], "example.org/team");
	cr_assert_str_eq(c->impersonate_extra[5], "a b");
	cr_assert_null(c->impersonate_extra[6]);
	kcfg_free(c);
	/* client-go's validation refuses these without a user to impersonate */
	assert_fails(load_one(SERVER, "    as-groups: [g1]\n", &c, &e), &e,
	    "requesting uid, groups or user-extra for user 'u' without impersonating a user");
	assert_fails(load_one(SERVER, "    as-uid: x\n", &c, &e), &e, "without impersonating");
	assert_fails(load_one(SERVER, "    as-user-extra: {a: [b]}\n", &c, &e), &e,
	    "without impersonating");
}

Test(kubeconfig, server_scheme_case_query_fragment)
{
	struct kcfg *c;
	struct err e;

	cr_assert_eq(load_one("    server: HTTPS://k.example.com:6443\n", NOUSER, &c, &e), 0,
	    "%s", e.msg);
	cr_assert_str_eq(c->server, "https://k.example.com:6443");
	kcfg_free(c);
	cr_assert_eq(load_one("    server: https://k.example.com:6443/pre/?a=b#f\n", NOUSER,
	    &c, &e), 0, "%s", e.msg);
	cr_assert_str_eq(c->server, "https://k.example.com:6443/pre");
	kcfg_free(c);
	cr_assert_eq(load_one("    server: https://k.example.com:6443?x=1\n", NOUSER, &c, &e), 0,
	    "%s", e.msg);
	cr_assert_str_eq(c->server, "https://k.example.com:6443");
	kcfg_free(c);
	assert_fails(load_one("    server: https://?x\n", NOUSER, &c, &e), &e, "is not an http");
	/* libcurl would send these as basic auth; kubectl ignores them: refused, not shown */
	assert_fails(load_one("    server: https://u:s3cret@k.example.com\n", NOUSER, &c, &e), &e,
	    "clusters[0].cluster.server: the server URL carries a user name or password");
	cr_assert(strstr(e.msg, "s3cret") == NULL, "%s", e.msg);
}

Test(kubeconfig, disable_compression_and_exec_extension)
{
	struct kcfg *c;
	struct err e;

	cr_assert_eq(load_one(SERVER "    disable-compression: true\n"
	    "    extensions:\n"
	    "    - name: other\n      extension: {a: 1}\n"
	    "    - name: client.authentication.k8s.io/exec\n"
	    "      extension:\n        audience: kube\n        n: 3\n        f: 1.5\n"
	    "        ok: yes\n        s: \"3\"\n        none: ~\n        l: [x, 0x1F, 010, off]\n"
	    "        k: 1_000\n        e: ''\n",
	    NOUSER, &c, &e), 0, "%s", e.msg);
	cr_assert(c->disable_compression);
	/* YAML 1.1 typing, as client-go's sigs.k8s.io/yaml: the key n is false */
	cr_assert_str_eq(c->exec_config, "{\"audience\":\"kube\",\"false\":3,\"f\":1.5,"
	    "\"ok\":true,\"s\":\"3\",\"none\":null,\"l\":[\"x\",31,8,false],\"k\":1000,"
	    "\"e\":\"\"}");
	kcfg_free(c);
}

/* Load tmp/one/config-style file with overrides. */
static int
load_ov(const struct kcfg_overrides *ov, const char *context, struct kcfg **c,
    struct err *e)
{
	char *path = put("ov/config",
	    "current-context: ctx\n"
	    "clusters:\n"
	    "- name: c\n  cluster:\n    server: https://k.example.com:6443\n"
	    "    certificate-authority-data: " CA_B64 "\n    tls-server-name: file-name\n"
	    "- name: c2\n  cluster:\n    server: https://other.example.com\n"
	    "contexts:\n- name: ctx\n  context: {cluster: c, user: u}\n"
	    "users:\n- name: u\n  user:\n    token: file-token\n"
	    "- name: certuser\n  user:\n    client-certificate-data: " CERT_B64 "\n"
	    "    client-key-data: " KEY_B64 "\n");
	struct kcfg_opts o = { .kubeconfig = path, .context = context, .ov = *ov };
	int rc;

	err_clear(e);
	*c = NULL;
	rc = kcfg_load(&o, c, e);
	free(path);
	return rc;
}

Test(kubeconfig, overrides_cluster)
{
	char *ca = put("ov/ca.crt", CERT_PEM);
	struct kcfg_overrides ov = { .server = "HTTPS://s.example.com:1/" };
	struct kcfg *c;
	struct err e;

	/* --server replaces the URL and clears the file's tls-server-name */
	cr_assert_eq(load_ov(&ov, NULL, &c, &e), 0, "%s", e.msg);
	cr_assert_str_eq(c->server, "https://s.example.com:1");
	cr_assert_null(c->tls_server_name);
	cr_assert_not_null(c->ca_pem, "the file's CA stays");
	kcfg_free(c);
	ov = (struct kcfg_overrides){ .server = "https://s:1", .tls_server_name = "flag-name" };
	cr_assert_eq(load_ov(&ov, NULL, &c, &e), 0, "%s", e.msg);
	cr_assert_str_eq(c->tls_server_name, "flag-name");
	kcfg_free(c);
	/* --certificate-authority replaces the data; --insecure-skip-tls-verify clears it */
	ov = (struct kcfg_overrides){ .ca_file = ca };
	cr_assert_eq(load_ov(&ov, NULL, &c, &e), 0, "%s", e.msg);
	cr_assert_str_eq(c->ca_pem, CERT_PEM);
	cr_assert_str_eq(c->tls_server_name, "file-name");
	kcfg_free(c);
	ov = (struct kcfg_overrides){ .insecure = true };
	cr_assert_eq(load_ov(&ov, NULL, &c, &e), 0, "%s", e.msg);
	cr_assert(c->insecure);
	cr_assert_null(c->ca_pem);
	kcfg_free(c);
	ov = (struct kcfg_overrides){ .insecure = true, .ca_file = ca };
	assert_fails(load_ov(&ov, NULL, &c, &e), &e,
	    "specifying a root certificates file with the insecure flag is not allowed");
	ov = (struct kcfg_overrides){ .server = "ftp://x" };
	assert_fails(load_ov(&ov, NULL, &c, &e), &e, "--server: 'ftp://x' is not an http");
	cr_assert_eq(e.exit, 2);
	/* --cluster picks another entry; one that is not there is an error */
	ov = (struct kcfg_overrides){ .cluster = "c2", .disable_compression = true };
	cr_assert_eq(load_ov(&ov, NULL, &c, &e), 0, "%s", e.msg);
	cr_assert_str_eq(c->server, "https://other.example.com");
	cr_assert_str_eq(c->token, "file-token");
	cr_assert(c->disable_compression);
	kcfg_free(c);
	ov = (struct kcfg_overrides){ .cluster = "nope" };
	assert_fails(load_ov(&ov, NULL, &c, &e), &e, "cluster 'nope' (--cluster) is not defined");
	free(ca);
}

Test(kubeconfig, overrides_user)
{
	char *crt = put("ov/c.crt", CERT_PEM), *key = put("ov/c.key", KEY_PEM);
	char *groups[] = { "g1", "g2", NULL };
	struct kcfg_overrides ov = { .token = "flag-token", .as = "jdoe", .as_groups = groups,
	    .as_uid = "u1" };
	struct kcfg *c;
	struct err e;

	cr_assert_eq(load_ov(&ov, NULL, &c, &e), 0, "%s", e.msg);
	cr_assert_str_eq(c->token, "flag-token");
	cr_assert_str_eq(c->impersonate, "jdoe");
	cr_assert_str_eq(c->impersonate_uid, "u1");
	cr_assert_str_eq(c->impersonate_groups[1], "g2");
	kcfg_free(c);
	ov = (struct kcfg_overrides){ .as_groups = groups };
	assert_fails(load_ov(&ov, NULL, &c, &e), &e,
	    "requesting uid, groups or user-extra for user 'u' without impersonating a user");
	ov = (struct kcfg_overrides){ .user = "certuser" };
	cr_assert_eq(load_ov(&ov, NULL, &c, &e), 0, "%s", e.msg);
	cr_assert_str_eq(c->user_name, "certuser");
	cr_assert_null(c->token);
	cr_assert_str_eq(c->cert_pem, CERT_PEM);
	kcfg_free(c);
	ov = (struct kcfg_overrides){ .user = "nope" };
	assert_fails(load_ov(&ov, NULL, &c, &e), &e, "user 'nope' (--user) is not defined");
	/* kubectl refuses a file flag over the entry's data */
	ov = (struct kcfg_overrides){ .user = "certuser", .client_cert = crt, .client_key = key };
	assert_fails(load_ov(&ov, NULL, &c, &e), &e,
	    "client-certificate-data and --client-certificate are both specified for user "
	    "'certuser'");
	ov = (struct kcfg_overrides){ .client_cert = crt, .client_key = key };
	cr_assert_eq(load_ov(&ov, NULL, &c, &e), 0, "%s", e.msg);
	cr_assert_str_eq(c->cert_pem, CERT_PEM);
	cr_assert_str_eq(c->key_pem, KEY_PEM);
	cr_assert_str_eq(c->token, "file-token");
	kcfg_free(c);
	free(crt);
	free(key);
}

Test(kubeconfig, overrides_without_context)
{
	struct kcfg_overrides ov = { .server = "https://s.example.com", .token = "t" };
	struct kcfg_opts o = { .kubeconfig = "/dev/null", .ov = ov };
	struct kcfg *c;
	struct err e;

	err_clear(&e);
	cr_assert_eq(kcfg_load(&o, &c, &e), 0, "%s", e.msg);
	cr_assert_str_eq(c->server, "https://s.example.com");
	cr_assert_str_eq(c->token, "t");
	cr_assert_str_eq(c->context, "");
	kcfg_free(c);
	o.ov = (struct kcfg_overrides){ .token = "t" };
	err_clear(&e);
	cr_assert_eq(kcfg_load(&o, &c, &e), -1);
}

/* Go's net/http picks the proxy: never for loopback, no ALL_PROXY, NO_PROXY not on proxy-url */
Test(kubeconfig, proxy_choice)
{
	struct kcfg c = { .server = "https://k.example.com:6443" };
	char *p, *np;

	unsetenv("HTTPS_PROXY");
	unsetenv("https_proxy");
	unsetenv("HTTP_PROXY");
	unsetenv("http_proxy");
	setenv("ALL_PROXY", "http://all:1", 1);
	setenv("NO_PROXY", "example.com", 1);
	kcfg_proxy(&c, &p, &np);
	cr_assert_str_eq(p, "", "ALL_PROXY is not read");
	free(p);
	free(np);
	setenv("HTTPS_PROXY", "proxy:3128", 1);
	setenv("https_proxy", "http://lower:1", 1);
	kcfg_proxy(&c, &p, &np);
	cr_assert_str_eq(p, "", "NO_PROXY example.com covers k.example.com");
	cr_assert_str_eq(np, "", "NO_PROXY is matched here, never by libcurl");
	free(p);
	free(np);
	setenv("NO_PROXY", ".k.example.com, 10.0.0.0/8,k.example.com:443,[::2]", 1);
	kcfg_proxy(&c, &p, &np);
	cr_assert_str_eq(p, "http://proxy:3128", "upper case first, http:// by default");
	free(p);
	free(np);
	{
		static const struct { const char *server, *no_proxy; bool proxied; } t[] = {
			{ "https://k.example.com:6443", "k.example.com:6443", false },
			{ "https://k.example.com", "k.example.com:443", false },
			{ "https://k.example.com", "*.example.com", false },
			{ "https://example.com", "*.example.com", true },
			{ "https://example.com", ".example.com", true },
			{ "https://xexample.com", "example.com", true },
			{ "https://K.Example.COM", " EXAMPLE.com ", false },
			{ "https://10.1.2.3:6443", "10.0.0.0/8", false },
			{ "https://10.1.2.3:6443", "10.1.2.3", false },
			{ "https://10.1.2.3:6443", "10.1.2.3:443", true },
			{ "https://10.1.2.3:6443", "2.3", true },
			{ "https://[fd00::1]:6443", "fd00::/64", false },
			{ "https://[fd00::1]:6443", "[fd00::1]:6443", false },
			{ "https://[fd00::1]:6443", "fd00::2", true },
			{ "https://any.where", "*", false },
			{ "https://any.where", ",,", true },
		};

		for (size_t i = 0; i < sizeof t / sizeof t[0]; i++) {
			c.server = (char *)t[i].server;
			setenv("NO_PROXY", t[i].no_proxy, 1);
			kcfg_proxy(&c, &p, &np);
			cr_assert_eq(p[0] != '\0', t[i].proxied, "%s with NO_PROXY '%s': '%s'",
			    t[i].server, t[i].no_proxy, p);
			free(p);
			free(np);
		}
		c.server = "https://k.example.com:6443";
	}
	c.server = "https://127.0.0.2:6443";
	kcfg_proxy(&c, &p, &np);
	cr_assert_str_eq(p, "");
	free(p);
	free(np);
	c.server = "https://[::1]:6443";
	kcfg_proxy(&c, &p, &np);
	cr_assert_str_eq(p, "");
	free(p);
	free(np);
	c.server = "https://LOCALHOST:6443";
	kcfg_proxy(&c, &p, &np);
	cr_assert_str_eq(p, "");
	free(p);
	free(np);
	c.proxy_url = "socks5://bastion:1080";
	kcfg_proxy(&c, &p, &np);
	cr_assert_str_eq(p, "socks5h://bastion:1080", "the proxy resolves the name");
	cr_assert_str_eq(np, "", "NO_PROXY never applies to proxy-url");
	free(p);
	free(np);
	unsetenv("HTTPS_PROXY");
	unsetenv("https_proxy");
	unsetenv("ALL_PROXY");
	unsetenv("NO_PROXY");
}
