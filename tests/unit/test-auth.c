/* test-auth.c: static credentials, tokenFile and exec credential plugins (real shell scripts) */
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <limits.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <criterion/criterion.h>

#include "../../src/kube/auth.h"
#include "../../src/kube/kubeconfig.h"
#include "../../src/util/log.h"
#include "../../src/util/xalloc.h"

#define V1 "client.authentication.k8s.io/v1"
#define V1BETA1 "client.authentication.k8s.io/v1beta1"
#define CA_PEM "-----BEGIN CERTIFICATE-----\nCA-DATA\n-----END CERTIFICATE-----\n"
#define CA_B64 "LS0tLS1CRUdJTiBDRVJUSUZJQ0FURS0tLS0tCkNBLURBVEEKLS0tLS1FTkQgQ0VSVElGSUNBVEUtLS0tLQo="
#define CERT_B64 "LS0tLS1CRUdJTiBDRVJUSUZJQ0FURS0tLS0tCkNMSUVOVC1DRVJUCi0tLS0tRU5EIENFUlRJRklDQVRFLS0tLS0K"
#define KEY_B64 "LS0tLS1CRUdJTiBQUklWQVRFIEtFWS0tLS0tCkNMSUVOVC1LRVkKLS0tLS1FTkQgUFJJVkFURSBLRVktLS0tLQo="

static char tmp[PATH_MAX];

static int
rm_one(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
	(void)st;
	(void)flag;
	(void)ftw;
	return remove(path);
}

static void
setup(void)
{
	int fd;

	strcpy(tmp, "/tmp/nub-auth-XXXXXX");
	cr_assert_not_null(mkdtemp(tmp));
	setenv("HOME", tmp, 1);
	unsetenv("KUBECONFIG");
	unsetenv("KUBERNETES_SERVICE_HOST");
	/* Not a terminal, whatever ran the tests: interactive is false unless a test says so. */
	fd = open("/dev/null", O_RDONLY);
	cr_assert_geq(fd, 0);
	dup2(fd, STDIN_FILENO);
	close(fd);
}

static void
teardown(void)
{
	nftw(tmp, rm_one, 16, FTW_DEPTH | FTW_PHYS);
}

TestSuite(auth, .init = setup, .fini = teardown);

static char *
tpath(const char *rel)
{
	return xasprintf("%s/%s", tmp, rel);
}

static void
put(const char *rel, const char *text, mode_t mode)
{
	char *path = tpath(rel);
	FILE *f = fopen(path, "w");

	cr_assert_not_null(f, "%s: %s", path, strerror(errno));
	fputs(text, f);
	fclose(f);
	chmod(path, mode);
	free(path);
}

/* The file's contents ("" when missing), caller frees. */
static char *
slurp(const char *rel)
{
	char *path = tpath(rel), buf[8192];
	FILE *f = fopen(path, "r");
	size_t n = 0;

	free(path);
	if (f != NULL) {
		n = fread(buf, 1, sizeof buf - 1, f);
		fclose(f);
	}
	buf[n] = '\0';
	return xstrdup(buf);
}

/* How many times a plugin ran (it appends a line to "count" each time). */
static int
runs(void)
{
	char *s = slurp("count"), *p;
	int n = 0;

	for (p = s; *p != '\0'; p++)
		n += *p == '\n';
	free(s);
	return n;
}

/*
 * A plugin that records what it got and prints an ExecCredential.  The
 * status is $STATUS from its exec env, the apiVersion $APIV.
 */
static void
standard_plugin(void)
{
	put("plugin",
	    "#!/bin/sh\n"
	    "echo run >> \"$D/count\"\n"
	    "printf '%s' \"$KUBERNETES_EXEC_INFO\" > \"$D/info\"\n"
	    "printf '%s\\n' \"$@\" > \"$D/args\"\n"
	    "printf '%s|%s' \"$FOO\" \"$NUB_PARENT\" > \"$D/env\"\n"
	    "readlink /proc/$$/fd/0 > \"$D/stdin\"\n"
	    "sed -n 's/^SigIgn:[[:space:]]*//p' /proc/$$/status > \"$D/sigign\"\n"
	    "if [ -e /proc/$$/fd/47 ]; then echo open; else echo closed; fi > \"$D/fd47\"\n"
	    "[ -z \"$NUB_TEST_HELLO\" ] || echo 'plugin says hello on stderr' >&2\n"
	    "printf '{\"kind\":\"ExecCredential\",\"apiVersion\":\"%s\",\"status\":%s}\\n' "
	    "\"$APIV\" \"$STATUS\"\n", 0755);
}

/* Load a one-context kubeconfig whose user is `user' (YAML lines under "user:"). */
static struct kcfg *
config(const char *cluster_extra, const char *user_fmt, ...)
{
	char *user, *path = tpath("config");
	struct kcfg_opts o = { .kubeconfig = path };
	struct kcfg *c;
	struct err e;
	va_list ap;
	FILE *f;

	va_start(ap, user_fmt);
	cr_assert_neq(vasprintf(&user, user_fmt, ap), -1);
	va_end(ap);
	f = fopen(path, "w");
	cr_assert_not_null(f);
	fprintf(f, "current-context: ctx\n"
	    "clusters:\n- name: c\n  cluster:\n    server: https://k.example.com:6443\n%s"
	    "contexts:\n- name: ctx\n  context: {cluster: c, user: u}\n"
	    "users:\n- name: u\n  user:\n%s", cluster_extra, user);
	fclose(f);
	free(user);
	err_clear(&e);
	cr_assert_eq(kcfg_load(&o, &c, &e), 0, "%s", e.msg);
	free(path);
	return c;
}

/* An exec user running ./plugin with D, APIV and STATUS in its env. */
static struct kcfg *
exec_config(const char *cluster_extra, const char *apiv, const char *mode,
    const char *status, const char *extra)
{
	return config(cluster_extra,
	    "    exec:\n"
	    "      apiVersion: %s\n"
	    "      command: ./plugin\n"
	    "      args: [get-token, --flag, 'two words']\n"
	    "      interactiveMode: %s\n"
	    "      installHint: no hint needed\n"
	    "      env:\n"
	    "      - {name: D, value: '%s'}\n"
	    "      - {name: APIV, value: '%s'}\n"
	    "      - {name: FOO, value: bar}\n"
	    "      - name: STATUS\n        value: '%s'\n%s",
	    apiv, mode, tmp, apiv, status, extra != NULL ? extra : "");
}

#define TOKEN_FOREVER "{\"token\":\"exec-token\"}"

/* ---- static credentials ---- */

Test(auth, static_token)
{
	struct kcfg *c = config("", "    token: static-token\n");
	struct auth *a = auth_new(c);
	struct auth_creds cr;
	struct err e;

	cr_assert_eq(auth_get(a, &cr, &e), 0, "%s", e.msg);
	cr_assert_str_eq(cr.token, "static-token");
	cr_assert_null(cr.username);
	cr_assert_null(cr.cert_pem);
	cr_assert(auth_creds_need_tls(&cr));
	cr_assert_not(auth_invalidate(a), "nothing can change for a static token");
	auth_free(a);
	kcfg_free(c);
}

Test(auth, basic_auth)
{
	struct kcfg *c = config("", "    username: admin\n    password: pw\n");
	struct auth *a = auth_new(c);
	struct auth_creds cr;
	struct err e;

	cr_assert_eq(auth_get(a, &cr, &e), 0, "%s", e.msg);
	cr_assert_null(cr.token);
	cr_assert_str_eq(cr.username, "admin");
	cr_assert_str_eq(cr.password, "pw");
	cr_assert(auth_creds_need_tls(&cr));
	auth_free(a);
	kcfg_free(c);
}

Test(auth, client_cert_only)
{
	struct kcfg *c = config("", "    client-certificate-data: " CERT_B64 "\n"
	    "    client-key-data: " KEY_B64 "\n    as: someone\n");
	struct auth *a = auth_new(c);
	struct auth_creds cr;
	struct err e;

	cr_assert_eq(auth_get(a, &cr, &e), 0, "%s", e.msg);
	cr_assert_null(cr.token);
	cr_assert(strstr(cr.cert_pem, "CLIENT-CERT") != NULL);
	cr_assert_eq(cr.cert_len, strlen(cr.cert_pem));
	cr_assert(strstr(cr.key_pem, "CLIENT-KEY") != NULL);
	cr_assert_not(auth_creds_need_tls(&cr), "a client certificate is no secret on the wire");
	auth_free(a);
	kcfg_free(c);
}

Test(auth, token_file_reread_after_invalidate)
{
	struct kcfg *c;
	struct auth *a;
	struct auth_creds cr;
	struct err e;
	char *path;

	put("tok", "  file-token-1 \n", 0600);
	c = config("", "    tokenFile: tok\n");
	a = auth_new(c);
	cr_assert_eq(auth_get(a, &cr, &e), 0, "%s", e.msg);
	cr_assert_str_eq(cr.token, "file-token-1", "trimmed");
	cr_assert(auth_creds_need_tls(&cr));

	put("tok", "file-token-2\n", 0600);
	cr_assert_eq(auth_get(a, &cr, &e), 0, "%s", e.msg);
	cr_assert_str_eq(cr.token, "file-token-1", "re-read at most once a minute");
	cr_assert(auth_invalidate(a));
	cr_assert_eq(auth_get(a, &cr, &e), 0, "%s", e.msg);
	cr_assert_str_eq(cr.token, "file-token-2");

	/* a failed re-read keeps the last good token */
	path = tpath("tok");
	unlink(path);
	free(path);
	cr_assert(auth_invalidate(a));
	cr_assert_eq(auth_get(a, &cr, &e), 0, "%s", e.msg);
	cr_assert_str_eq(cr.token, "file-token-2");
	auth_free(a);
	kcfg_free(c);
}

Test(auth, token_file_missing_or_empty)
{
	struct kcfg *c = config("", "    tokenFile: nope\n");
	struct auth *a = auth_new(c);
	struct auth_creds cr;
	struct err e;
	char *want = tpath("nope");

	err_clear(&e);
	cr_assert_eq(auth_get(a, &cr, &e), -1);
	cr_assert(strstr(e.msg, "cannot read token file") != NULL, "%s", e.msg);
	cr_assert(strstr(e.msg, want) != NULL && strstr(e.msg, "No such file") != NULL,
	    "%s", e.msg);
	put("nope", "\n\n", 0600);
	cr_assert_eq(auth_get(a, &cr, &e), -1);
	cr_assert(strstr(e.msg, "is empty") != NULL, "%s", e.msg);
	free(want);
	auth_free(a);
	kcfg_free(c);
}

Test(auth, auth_provider_unsupported)
{
	struct kcfg *c = config("", "    auth-provider:\n      name: oidc\n");
	struct auth *a = auth_new(c);
	struct auth_creds cr;
	struct err e;

	err_clear(&e);
	cr_assert_eq(auth_get(a, &cr, &e), -1);
	cr_assert_str_eq(e.msg, "auth-provider 'oidc' is not supported; use an exec plugin");
	auth_free(a);
	kcfg_free(c);
}

/* ---- exec plugins ---- */

Test(auth, exec_v1_token_info_args_env)
{
	struct kcfg *c;
	struct auth *a;
	struct auth_creds cr;
	struct err e;
	char *s;
	int fd;

	standard_plugin();
	setenv("NUB_PARENT", "inherited", 1);
	setenv("FOO", "overridden-by-exec-env", 1);
	/* an fd the plugin must not inherit */
	fd = open("/dev/null", O_RDONLY);
	cr_assert_eq(dup2(fd, 47), 47);
	close(fd);
	/* an ignored SIGPIPE (as curl users have) must not reach the plugin */
	signal(SIGPIPE, SIG_IGN);
	c = exec_config("", V1, "Never", TOKEN_FOREVER, NULL);
	a = auth_new(c);
	cr_assert_eq(auth_get(a, &cr, &e), 0, "%s", e.msg);
	cr_assert_str_eq(cr.token, "exec-token");
	cr_assert_null(cr.cert_pem);
	cr_assert(auth_creds_need_tls(&cr));

	s = slurp("info");
	cr_assert_str_eq(s, "{\"kind\":\"ExecCredential\",\"apiVersion\":\"" V1 "\","
	    "\"spec\":{\"interactive\":false}}");
	free(s);
	s = slurp("args");
	cr_assert_str_eq(s, "get-token\n--flag\ntwo words\n");
	free(s);
	s = slurp("env");
	cr_assert_str_eq(s, "bar|inherited");
	free(s);
	s = slurp("stdin");
	cr_assert_str_eq(s, "/dev/null\n");
	free(s);
	s = slurp("fd47");
	cr_assert_str_eq(s, "closed\n");
	free(s);
	s = slurp("sigign");
	cr_assert_eq(strtoull(s, NULL, 16) & (1ULL << (SIGPIPE - 1)), 0, "SigIgn %s", s);
	free(s);
	cr_assert_eq(waitpid(-1, NULL, WNOHANG), -1, "no child left behind");
	close(47);
	auth_free(a);
	kcfg_free(c);
}

Test(auth, exec_v1beta1_cluster_info)
{
	struct kcfg *c;
	struct auth *a;
	struct auth_creds cr;
	struct err e;
	char *s;

	standard_plugin();
	c = exec_config("    certificate-authority-data: " CA_B64 "\n"
	    "    tls-server-name: kube.internal\n"
	    "    proxy-url: http://proxy:3128\n"
	    "    disable-compression: true\n"
	    "    extensions:\n"
	    "    - name: client.authentication.k8s.io/exec\n"
	    "      extension: {audience: kube, count: 1}\n",
	    V1BETA1, "IfAvailable", TOKEN_FOREVER, "      provideClusterInfo: true\n");
	a = auth_new(c);
	cr_assert_eq(auth_get(a, &cr, &e), 0, "%s", e.msg);
	s = slurp("info");
	cr_assert_str_eq(s, "{\"kind\":\"ExecCredential\",\"apiVersion\":\"" V1BETA1 "\","
	    "\"spec\":{\"cluster\":{\"server\":\"https://k.example.com:6443\","
	    "\"tls-server-name\":\"kube.internal\","
	    "\"certificate-authority-data\":\"" CA_B64 "\","
	    "\"proxy-url\":\"http://proxy:3128\",\"disable-compression\":true,"
	    "\"config\":{\"audience\":\"kube\",\"count\":1}},\"interactive\":false}}");
	free(s);
	auth_free(a);
	kcfg_free(c);
}

Test(auth, exec_cached_until_expiry)
{
	struct kcfg *c;
	struct auth *a;
	struct auth_creds cr;
	struct err e;

	standard_plugin();
	c = exec_config("", V1, "Never",
	    "{\"token\":\"t\",\"expirationTimestamp\":\"2999-01-01T00:00:00.123+02:00\"}", NULL);
	a = auth_new(c);
	cr_assert_eq(auth_get(a, &cr, &e), 0, "%s", e.msg);
	cr_assert_eq(auth_get(a, &cr, &e), 0, "%s", e.msg);
	cr_assert_eq(auth_get(a, &cr, &e), 0, "%s", e.msg);
	cr_assert_eq(runs(), 1);
	cr_assert_str_eq(cr.token, "t");
	/* a 401: run it again */
	cr_assert(auth_invalidate(a));
	cr_assert_eq(auth_get(a, &cr, &e), 0, "%s", e.msg);
	cr_assert_eq(runs(), 2);
	auth_free(a);
	kcfg_free(c);
}

Test(auth, exec_without_expiry_cached)
{
	struct kcfg *c;
	struct auth *a;
	struct auth_creds cr;
	struct err e;

	standard_plugin();
	c = exec_config("", V1, "Never", TOKEN_FOREVER, NULL);
	a = auth_new(c);
	cr_assert_eq(auth_get(a, &cr, &e), 0, "%s", e.msg);
	cr_assert_eq(auth_get(a, &cr, &e), 0, "%s", e.msg);
	cr_assert_eq(runs(), 1);
	auth_free(a);
	kcfg_free(c);
}

Test(auth, exec_expired_reruns)
{
	struct kcfg *c;
	struct auth *a;
	struct auth_creds cr;
	struct err e;

	standard_plugin();
	c = exec_config("", V1, "Never",
	    "{\"token\":\"old\",\"expirationTimestamp\":\"2000-01-01T00:00:00Z\"}", NULL);
	a = auth_new(c);
	cr_assert_eq(auth_get(a, &cr, &e), 0, "%s", e.msg);
	cr_assert_str_eq(cr.token, "old");
	cr_assert_eq(auth_get(a, &cr, &e), 0, "%s", e.msg);
	cr_assert_eq(runs(), 2);
	auth_free(a);
	kcfg_free(c);
}

Test(auth, exec_short_expiry)
{
	struct kcfg *c;
	struct auth *a;
	struct auth_creds cr;
	struct err e;
	char status[128], stamp[32];
	time_t t = time(NULL) + 3;
	struct tm tm;

	/* like the test cluster's tokens: valid for a few seconds, then the plugin runs again */
	gmtime_r(&t, &tm);
	strftime(stamp, sizeof stamp, "%Y-%m-%dT%H:%M:%SZ", &tm);
	snprintf(status, sizeof status, "{\"token\":\"short\",\"expirationTimestamp\":\"%s\"}",
	    stamp);
	standard_plugin();
	c = exec_config("", V1, "Never", status, NULL);
	a = auth_new(c);
	cr_assert_eq(auth_get(a, &cr, &e), 0, "%s", e.msg);
	cr_assert_eq(auth_get(a, &cr, &e), 0, "%s", e.msg);
	cr_assert_eq(runs(), 1);
	sleep(3);
	cr_assert_eq(auth_get(a, &cr, &e), 0, "%s", e.msg);
	cr_assert_eq(runs(), 2);
	auth_free(a);
	kcfg_free(c);
}

Test(auth, exec_client_certificate)
{
	struct kcfg *c;
	struct auth *a;
	struct auth_creds cr;
	struct err e;

	standard_plugin();
	c = exec_config("", V1, "Never",
	    "{\"clientCertificateData\":\"-----BEGIN CERTIFICATE-----\\nEXEC\\n"
	    "-----END CERTIFICATE-----\\n\",\"clientKeyData\":\"-----BEGIN PRIVATE KEY-----"
	    "\\nK\\n-----END PRIVATE KEY-----\\n\"}", NULL);
	a = auth_new(c);
	cr_assert_eq(auth_get(a, &cr, &e), 0, "%s", e.msg);
	cr_assert_null(cr.token);
	cr_assert_str_eq(cr.cert_pem, "-----BEGIN CERTIFICATE-----\nEXEC\n-----END CERTIFICATE-----\n");
	cr_assert_eq(cr.cert_len, strlen(cr.cert_pem));
	cr_assert_str_eq(cr.key_pem, "-----BEGIN PRIVATE KEY-----\nK\n-----END PRIVATE KEY-----\n");
	cr_assert_not(auth_creds_need_tls(&cr));
	auth_free(a);
	kcfg_free(c);
}

static void
assert_exec_fails(const char *apiv, const char *status, const char *want)
{
	struct kcfg *c = exec_config("", apiv, "Never", status, NULL);
	struct auth *a = auth_new(c);
	struct auth_creds cr;
	struct err e;

	err_clear(&e);
	cr_assert_eq(auth_get(a, &cr, &e), -1, "expected '%s'", want);
	cr_assert(strstr(e.msg, want) != NULL, "'%s' does not contain '%s'", e.msg, want);
	cr_assert_eq(waitpid(-1, NULL, WNOHANG), -1, "no child left behind");
	auth_free(a);
	kcfg_free(c);
}

Test(auth, exec_bad_output)
{
	standard_plugin();
	assert_exec_fails(V1, "{}", "returned neither a token nor a client certificate");
	assert_exec_fails(V1, "{\"clientCertificateData\":\"x\"}",
	    "returned clientCertificateData without clientKeyData");
	assert_exec_fails(V1, "{\"token\":\"t\",\"expirationTimestamp\":\"tomorrow\"}",
	    "invalid expirationTimestamp 'tomorrow'");
	assert_exec_fails(V1, "[", "invalid JSON");
	assert_exec_fails(V1, "\"str\"", "returned no status");
}

Test(auth, exec_wrong_api_version_in_output)
{
	/* the plugin answers v1beta1 to a v1 request */
	put("plugin", "#!/bin/sh\n"
	    "echo '{\"kind\":\"ExecCredential\",\"apiVersion\":\"" V1BETA1 "\","
	    "\"status\":{\"token\":\"t\"}}'\n", 0755);
	assert_exec_fails(V1, "", "returned apiVersion '" V1BETA1 "', but the kubeconfig "
	    "asks for '" V1 "'");
	put("plugin", "#!/bin/sh\n"
	    "echo '{\"kind\":\"Secret\",\"apiVersion\":\"" V1 "\",\"status\":{\"token\":\"t\"}}'\n",
	    0755);
	assert_exec_fails(V1, "", "returned kind 'Secret', expected 'ExecCredential'");
}

Test(auth, exec_nonzero_exit)
{
	char *want = tpath("plugin' failed with exit code 3");

	put("plugin", "#!/bin/sh\nexit 3\n", 0755);
	assert_exec_fails(V1, "", want);
	free(want);
	put("plugin", "#!/bin/sh\nkill -TERM $$\n", 0755);
	assert_exec_fails(V1, "", "was killed by signal 15");
	put("plugin", "#!/bin/sh\nexit 0\n", 0755);
	assert_exec_fails(V1, "", "printed nothing");
	put("plugin", "#!/bin/sh\nexec yes\n", 0755);
	assert_exec_fails(V1, "", "printed more than 1024 KiB");
}

Test(auth, exec_not_found_shows_install_hint)
{
	struct kcfg *c = config("", "    exec:\n"
	    "      apiVersion: " V1BETA1 "\n"
	    "      command: nub-no-such-auth-plugin\n"
	    "      installHint: |\n"
	    "        nub-no-such-auth-plugin is needed; install it with\n"
	    "          brew install nub-plugin\n");
	struct auth *a = auth_new(c);
	struct auth_creds cr;
	struct err e;

	err_clear(&e);
	cr_assert_eq(auth_get(a, &cr, &e), -1);
	cr_assert_str_eq(e.msg, "exec plugin: executable 'nub-no-such-auth-plugin' not found");
	cr_assert_str_eq(e.hint, "nub-no-such-auth-plugin is needed; install it with\n"
	    "  brew install nub-plugin\n");
	auth_free(a);
	kcfg_free(c);

	/* with a slash: a path, resolved against the kubeconfig's directory */
	c = config("", "    exec:\n      apiVersion: " V1BETA1 "\n      command: bin/gone\n");
	a = auth_new(c);
	cr_assert_eq(auth_get(a, &cr, &e), -1);
	cr_assert(strstr(e.msg, "executable '") != NULL && strstr(e.msg, "/bin/gone' not found"),
	    "%s", e.msg);
	cr_assert(strstr(e.hint, "install") != NULL, "a default hint: %s", e.hint);
	auth_free(a);
	kcfg_free(c);
}

Test(auth, exec_interactive_always_needs_terminal)
{
	struct kcfg *c;
	struct auth *a;
	struct auth_creds cr;
	struct err e;

	standard_plugin();
	c = exec_config("", V1, "Always", TOKEN_FOREVER, NULL);
	a = auth_new(c);
	err_clear(&e);
	cr_assert_eq(auth_get(a, &cr, &e), -1);
	cr_assert(strstr(e.msg, "needs a terminal") != NULL, "%s", e.msg);
	cr_assert_eq(runs(), 0);
	auth_free(a);
	kcfg_free(c);
}

Test(auth, static_token_beats_exec)
{
	struct kcfg *c;
	struct auth *a;
	struct auth_creds cr;
	struct err e;

	standard_plugin();
	c = config("", "    token: static\n    exec:\n      apiVersion: " V1BETA1 "\n"
	    "      command: ./plugin\n      env: [{name: D, value: '%s'}]\n", tmp);
	a = auth_new(c);
	cr_assert_eq(auth_get(a, &cr, &e), 0, "%s", e.msg);
	cr_assert_str_eq(cr.token, "static");
	cr_assert_eq(runs(), 0);
	auth_free(a);
	kcfg_free(c);
}

Test(auth, secrets_never_logged)
{
	struct kcfg *c;
	struct auth *a;
	struct auth_creds cr;
	struct err e;
	char *log;
	int saved, fd;

	standard_plugin();
	c = exec_config("", V1, "Never",
	    "{\"token\":\"SECRET-exec-token\",\"expirationTimestamp\":\"2999-01-01T00:00:00Z\"}",
	    NULL);
	a = auth_new(c);
	setenv("NUB_TEST_HELLO", "1", 1);
	log_setup(9, false);
	fflush(stderr);
	saved = dup(STDERR_FILENO);
	log = tpath("stderr");
	fd = open(log, O_WRONLY | O_CREAT | O_TRUNC, 0600);
	free(log);
	dup2(fd, STDERR_FILENO);
	close(fd);
	cr_assert_eq(auth_get(a, &cr, &e), 0, "%s", e.msg);
	fflush(stderr);
	dup2(saved, STDERR_FILENO);
	close(saved);
	log_setup(0, false);
	log = slurp("stderr");
	cr_assert(strstr(log, "plugin says hello on stderr") != NULL, "stderr passes through: %s",
	    log);
	cr_assert(strstr(log, "exec plugin") != NULL && strstr(log, "2999-01-01") != NULL,
	    "the run is logged: %s", log);
	cr_assert(strstr(log, "SECRET") == NULL, "a secret was logged: %s", log);
	free(log);
	auth_free(a);
	kcfg_free(c);
}

/* client-go: tokenFile is read for each request even with a token; the token is the fallback */
Test(auth, token_file_wins_over_token)
{
	struct kcfg *c;
	struct auth *a;
	struct auth_creds cr;
	struct err e;
	char *path;

	put("tok", "from-file\n", 0600);
	c = config("", "    token: inline\n    tokenFile: tok\n");
	a = auth_new(c);
	cr_assert_eq(auth_get(a, &cr, &e), 0, "%s", e.msg);
	cr_assert_str_eq(cr.token, "from-file");
	auth_free(a);
	kcfg_free(c);
	path = tpath("tok");
	unlink(path);
	free(path);
	c = config("", "    token: inline\n    tokenFile: tok\n");
	a = auth_new(c);
	cr_assert_eq(auth_get(a, &cr, &e), 0, "%s", e.msg);
	cr_assert_str_eq(cr.token, "inline", "an unreadable file falls back on the token");
	auth_free(a);
	kcfg_free(c);
}

/* client-go's exec authenticator steps aside for a client certificate */
Test(auth, client_cert_beats_exec)
{
	struct kcfg *c;
	struct auth *a;
	struct auth_creds cr;
	struct err e;

	standard_plugin();
	c = config("", "    client-certificate-data: " CERT_B64 "\n"
	    "    client-key-data: " KEY_B64 "\n"
	    "    exec:\n      apiVersion: " V1BETA1 "\n"
	    "      command: ./plugin\n      env: [{name: D, value: '%s'}]\n", tmp);
	a = auth_new(c);
	cr_assert_eq(auth_get(a, &cr, &e), 0, "%s", e.msg);
	cr_assert_null(cr.token);
	cr_assert_not_null(cr.cert_pem);
	cr_assert_eq(runs(), 0, "the plugin must not run");
	auth_free(a);
	kcfg_free(c);
}

/* client-go passes the server as written, and config null when there is no extension */
Test(auth, exec_cluster_info_as_client_go)
{
	struct kcfg *c;
	struct auth *a;
	struct auth_creds cr;
	struct err e;
	char *s, *path = tpath("config");
	FILE *f;
	struct kcfg_opts o = { .kubeconfig = path };

	standard_plugin();
	f = fopen(path, "w");
	cr_assert_not_null(f);
	fprintf(f, "current-context: ctx\n"
	    "clusters:\n- name: c\n  cluster:\n    server: HTTPS://k.example.com:6443/?q=1\n"
	    "contexts:\n- name: ctx\n  context: {cluster: c, user: u}\n"
	    "users:\n- name: u\n  user:\n    exec:\n      apiVersion: " V1BETA1 "\n"
	    "      command: ./plugin\n      provideClusterInfo: true\n"
	    "      env: [{name: D, value: '%s'}, {name: APIV, value: " V1BETA1 "},"
	    " {name: STATUS, value: '" TOKEN_FOREVER "'}]\n", tmp);
	fclose(f);
	err_clear(&e);
	cr_assert_eq(kcfg_load(&o, &c, &e), 0, "%s", e.msg);
	cr_assert_str_eq(c->server, "https://k.example.com:6443");
	a = auth_new(c);
	cr_assert_eq(auth_get(a, &cr, &e), 0, "%s", e.msg);
	s = slurp("info");
	cr_assert_str_eq(s, "{\"kind\":\"ExecCredential\",\"apiVersion\":\"" V1BETA1 "\","
	    "\"spec\":{\"cluster\":{\"server\":\"HTTPS://k.example.com:6443/?q=1\","
	    "\"config\":null},\"interactive\":false}}");
	free(s);
	free(path);
	auth_free(a);
	kcfg_free(c);
}
