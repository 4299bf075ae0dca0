/* auth.c: credentials for requests: static ones, tokenFile, and exec credential plugins */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <json-c/json.h>

#include "../util/base64.h"
#include "../util/buf.h"
#include "../util/file.h"
#include "../util/jsonout.h"
#include "../util/log.h"
#include "../util/xalloc.h"
#include "auth.h"

extern char **environ;

/* client-go re-reads a token file at most once a minute. */
#define TOKEN_FILE_TTL	60
/* Treat an exec credential as expired this many seconds early (clock skew, request time). */
#define EXEC_MARGIN	1
/* An ExecCredential is a few KiB; anything near this is a plugin gone wrong. */
#define EXEC_MAX_OUTPUT	(1024 * 1024)

struct auth {
	const struct kcfg *cfg;

	char *file_token;	/* last token read from cfg->token_file */
	time_t file_read_at;	/* CLOCK_MONOTONIC seconds; 0 = read next time */

	bool have_exec;		/* the fields below hold a credential */
	char *exec_token;
	char *exec_cert;
	size_t exec_cert_len;
	char *exec_key;
	size_t exec_key_len;
	time_t exec_expiry;	/* 0 = no expiry given */
};

static void
free_secret(char **s, size_t len)
{
	if (*s == NULL)
		return;
	explicit_bzero(*s, len != 0 ? len : strlen(*s));
	free(*s);
	*s = NULL;
}

static void
exec_drop(struct auth *a)
{
	free_secret(&a->exec_token, 0);
	free(a->exec_cert);
	a->exec_cert = NULL;
	a->exec_cert_len = 0;
	free_secret(&a->exec_key, a->exec_key_len);
	a->exec_key_len = 0;
	a->exec_expiry = 0;
	a->have_exec = false;
}

struct auth *
auth_new(const struct kcfg *cfg)
{
	struct auth *a = xcalloc(1, sizeof *a);

	a->cfg = cfg;
	return a;
}

void
auth_free(struct auth *a)
{
	if (a == NULL)
		return;
	exec_drop(a);
	free_secret(&a->file_token, 0);
	free(a);
}

static time_t
monotonic(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	/* Never 0, which means "not read yet". */
	return ts.tv_sec + 1;
}

/*
 * client-go's exec authenticator steps aside when the user has a token (or
 * token file), basic auth (a username) or a client certificate and key: the
 * plugin is then never run.
 */
static bool
uses_exec(const struct kcfg *c)
{
	return c->exec != NULL && c->token == NULL && c->token_file == NULL &&
	    c->username == NULL && (c->cert_pem == NULL || c->key_pem == NULL);
}

/* ---- tokenFile ---- */

static int
token_file_load(struct auth *a, struct err *e)
{
	const char *path = a->cfg->token_file;
	time_t now = monotonic();
	char *s, *start, *end;
	size_t len;
	int saved;

	if (a->file_token != NULL && a->file_read_at != 0 &&
	    now - a->file_read_at < TOKEN_FILE_TTL)
		return 0;
	if (file_read(path, 1024 * 1024, &s, &len, NULL) < 0) {
		saved = errno;
		if (a->file_token != NULL) {
			/* client-go keeps using the last good token when a re-read fails. */
			log_debug(LOG_STEPS, "cannot re-read token file %s: %s; "
			    "using the previous token", path, strerror(saved));
			a->file_read_at = now;
			return 0;
		}
		err_set(e, "cannot read token file '%s': %s", path, strerror(saved));
		return -1;
	}
	for (start = s; *start == ' ' || *start == '\t' || *start == '\n' || *start == '\r';
	    start++)
		;
	end = s + len;
	while (end > start && (end[-1] == ' ' || end[-1] == '\t' || end[-1] == '\n' ||
	    end[-1] == '\r'))
		end--;
	if (end == start) {
		free_secret(&s, len);
		return err_set(e, "token file '%s' is empty", path);
	}
	free_secret(&a->file_token, 0);
	a->file_token = xstrndup(start, (size_t)(end - start));
	free_secret(&s, len);
	a->file_read_at = now;
	return 0;
}

/* ---- exec plugins ---- */

/* KUBERNETES_EXEC_INFO, in the field order client-go marshals it. */
static char *
exec_info(const struct kcfg *c, bool interactive)
{
	json_object *obj = json_object_new_object(), *spec = json_object_new_object();
	json_object *cl;
	char *s;

	json_object_object_add(obj, "kind", json_object_new_string("ExecCredential"));
	json_object_object_add(obj, "apiVersion",
	    json_object_new_string(c->exec->api_version));
	if (c->exec->provide_cluster_info) {
		cl = json_object_new_object();
		json_object_object_add(cl, "server", json_object_new_string(
		    c->server_as_written != NULL ? c->server_as_written : c->server));
		json_add_str(cl, "tls-server-name", c->tls_server_name);
		if (c->insecure)
			json_object_object_add(cl, "insecure-skip-tls-verify",
			    json_object_new_boolean(1));
		if (c->ca_pem != NULL) {
			s = base64_encode(c->ca_pem, c->ca_len);
			json_object_object_add(cl, "certificate-authority-data",
			    json_object_new_string(s));
			free(s);
		}
		json_add_str(cl, "proxy-url", c->proxy_url);
		if (c->disable_compression)
			json_object_object_add(cl, "disable-compression",
			    json_object_new_boolean(1));
		/*
		 * The cluster's extension client.authentication.k8s.io/exec, as client-go
		 * passes it: null without one (a RawExtension is never omitted).
		 */
		json_object_object_add(cl, "config", c->exec_config != NULL ?
		    json_tokener_parse(c->exec_config) : NULL);
		json_object_object_add(spec, "cluster", cl);
	}
	json_object_object_add(spec, "interactive", json_object_new_boolean(interactive));
	json_object_object_add(obj, "spec", spec);
	s = xstrdup(json_object_to_json_string_ext(obj,
	    JSON_C_TO_STRING_PLAIN | JSON_C_TO_STRING_NOSLASHESCAPE));
	json_object_put(obj);
	return s;
}

static bool
env_overridden(const char *entry, char *const *extra)
{
	size_t n = strcspn(entry, "="), i;

	if (n == strlen("KUBERNETES_EXEC_INFO") &&
	    strncmp(entry, "KUBERNETES_EXEC_INFO", n) == 0)
		return true;
	for (i = 0; extra != NULL && extra[i] != NULL; i++)
		if (strncmp(extra[i], entry, n) == 0 && extra[i][n] == '=')
			return true;
	return false;
}

/* The parent's environment, then the plugin's env entries, then KUBERNETES_EXEC_INFO. */
static char **
exec_env(char *const *extra, const char *info)
{
	char **env = NULL, *kv;
	size_t i;

	for (i = 0; environ != NULL && environ[i] != NULL; i++)
		if (!env_overridden(environ[i], extra))
			env = strv_push(env, environ[i]);
	for (i = 0; extra != NULL && extra[i] != NULL; i++)
		env = strv_push(env, extra[i]);
	kv = xasprintf("KUBERNETES_EXEC_INFO=%s", info);
	env = strv_push(env, kv);
	free(kv);
	return env;
}

static int
digits(const char **s, int n, int *out)
{
	int v = 0, i;

	for (i = 0; i < n; i++) {
		if ((*s)[i] < '0' || (*s)[i] > '9')
			return -1;
		v = v * 10 + ((*s)[i] - '0');
	}
	*s += n;
	*out = v;
	return 0;
}

/* RFC 3339 ("2024-05-01T12:00:00Z", "...T12:00:00.123+02:00") to a UTC time_t. */
static int
parse_rfc3339(const char *s, time_t *out)
{
	struct tm tm;
	int y, mo, d, h, mi, sec, oh = 0, om = 0, sign = 0;
	time_t t;

	memset(&tm, 0, sizeof tm);
	if (digits(&s, 4, &y) < 0 || *s++ != '-' || digits(&s, 2, &mo) < 0 ||
	    *s++ != '-' || digits(&s, 2, &d) < 0 || (*s != 'T' && *s != 't'))
		return -1;
	s++;
	if (digits(&s, 2, &h) < 0 || *s++ != ':' || digits(&s, 2, &mi) < 0 ||
	    *s++ != ':' || digits(&s, 2, &sec) < 0)
		return -1;
	if (*s == '.') {
		for (s++; *s >= '0' && *s <= '9'; s++)
			;
	}
	if (*s == 'Z' || *s == 'z') {
		s++;
	} else if (*s == '+' || *s == '-') {
		sign = *s++ == '+' ? 1 : -1;
		if (digits(&s, 2, &oh) < 0 || *s++ != ':' || digits(&s, 2, &om) < 0)
			return -1;
	} else {
		return -1;
	}
	if (*s != '\0' || mo < 1 || mo > 12 || d < 1 || d > 31 || h > 23 || mi > 59 ||
	    sec > 60 || oh > 23 || om > 59)
		return -1;
	tm.tm_year = y - 1900;
	tm.tm_mon = mo - 1;
	tm.tm_mday = d;
	tm.tm_hour = h;
	tm.tm_min = mi;
	tm.tm_sec = sec;
	t = timegm(&tm);
	if (t == (time_t)-1)
		return -1;
	*out = t - sign * (oh * 3600 + om * 60);
	return 0;
}

/* Check and keep a plugin's ExecCredential. */
static int
exec_parse(struct auth *a, const char *out, struct err *e)
{
	const struct kcfg_exec *x = a->cfg->exec;
	enum json_tokener_error jerr;
	json_object *root, *status = NULL;
	const char *kind, *apiv, *token, *cert, *key, *exp;
	time_t expiry = 0;
	int rc = -1;

	root = json_tokener_parse_verbose(out, &jerr);
	if (root == NULL || !json_object_is_type(root, json_type_object)) {
		err_set(e, "exec plugin '%s' printed %s, not an ExecCredential",
		    x->command, root == NULL ? "invalid JSON" : "JSON that is not an object");
		goto out;
	}
	kind = jstr(root, "kind", NULL);
	apiv = jstr(root, "apiVersion", NULL);
	if (kind == NULL || strcmp(kind, "ExecCredential") != 0) {
		err_set(e, "exec plugin '%s' returned kind '%s', expected 'ExecCredential'",
		    x->command, kind != NULL ? kind : "");
		goto out;
	}
	if (apiv == NULL || strcmp(apiv, x->api_version) != 0) {
		err_set(e, "exec plugin '%s' returned apiVersion '%s', but the kubeconfig "
		    "asks for '%s'", x->command, apiv != NULL ? apiv : "", x->api_version);
		err_hint(e, "set users[].user.exec.apiVersion to the version the plugin speaks");
		goto out;
	}
	if (!json_object_object_get_ex(root, "status", &status) ||
	    !json_object_is_type(status, json_type_object)) {
		err_set(e, "exec plugin '%s' returned no status", x->command);
		goto out;
	}
	token = jstr(status, "token", NULL);
	cert = jstr(status, "clientCertificateData", NULL);
	key = jstr(status, "clientKeyData", NULL);
	exp = jstr(status, "expirationTimestamp", NULL);
	if (token != NULL && token[0] == '\0')
		token = NULL;
	if (cert != NULL && cert[0] == '\0')
		cert = NULL;
	if (key != NULL && key[0] == '\0')
		key = NULL;
	if ((cert == NULL) != (key == NULL)) {
		err_set(e, "exec plugin '%s' returned %s without %s", x->command,
		    cert != NULL ? "clientCertificateData" : "clientKeyData",
		    cert != NULL ? "clientKeyData" : "clientCertificateData");
		goto out;
	}
	if (token == NULL && cert == NULL) {
		err_set(e, "exec plugin '%s' returned neither a token nor a client "
		    "certificate and key", x->command);
		goto out;
	}
	if (exp != NULL && exp[0] != '\0' && parse_rfc3339(exp, &expiry) < 0) {
		err_set(e, "exec plugin '%s' returned an invalid expirationTimestamp '%s'",
		    x->command, exp);
		goto out;
	}
	exec_drop(a);
	a->exec_token = xstrdup(token);
	if (cert != NULL) {
		a->exec_cert_len = strlen(cert);
		a->exec_cert = xstrdup(cert);
		a->exec_key_len = strlen(key);
		a->exec_key = xstrdup(key);
	}
	a->exec_expiry = expiry;
	a->have_exec = true;
	rc = 0;
out:
	if (root != NULL)
		json_object_put(root);
	return rc;
}

static void
describe_expiry(time_t t, char *buf, size_t size)
{
	struct tm tm;

	if (t == 0 || gmtime_r(&t, &tm) == NULL)
		snprintf(buf, size, "no expiry");
	else
		strftime(buf, size, "expires at %Y-%m-%dT%H:%M:%SZ", &tm);
}

/* Run the plugin: stdout captured, stderr passed through, stdin only when interactive. */
static int
exec_run(struct auth *a, struct err *e)
{
	const struct kcfg *c = a->cfg;
	const struct kcfg_exec *x = c->exec;
	posix_spawn_file_actions_t fa;
	posix_spawnattr_t attr;
	sigset_t none, deflt;
	struct buf out = BUF_INIT;
	char **argv = NULL, **envp, *info, chunk[4096], when[64];
	bool tty = isatty(STDIN_FILENO), interactive, toobig = false;
	int pfd[2], rc, status, saved;
	ssize_t n;
	pid_t pid;
	size_t i;

	if (x->interactive == KCFG_INTERACTIVE_ALWAYS && !tty) {
		err_set(e, "exec plugin '%s' needs a terminal (interactiveMode Always), "
		    "but standard input is not one", x->command);
		err_hint(e, "run the command from a terminal");
		return -1;
	}
	interactive = tty && x->interactive != KCFG_INTERACTIVE_NEVER;

	if (pipe2(pfd, O_CLOEXEC) < 0)
		return err_set(e, "exec plugin: pipe: %s", strerror(errno));
	argv = strv_push(argv, x->command);
	for (i = 0; x->args != NULL && x->args[i] != NULL; i++)
		argv = strv_push(argv, x->args[i]);
	info = exec_info(c, interactive);
	envp = exec_env(x->env, info);
	free(info);

	posix_spawn_file_actions_init(&fa);
	if (!interactive)
		posix_spawn_file_actions_addopen(&fa, STDIN_FILENO, "/dev/null", O_RDONLY, 0);
	posix_spawn_file_actions_adddup2(&fa, pfd[1], STDOUT_FILENO);
#if defined(__GLIBC__) && (__GLIBC__ > 2 || (__GLIBC__ == 2 && __GLIBC_MINOR__ >= 34))
	/* Whatever else this process has open is none of the plugin's business. */
	posix_spawn_file_actions_addclosefrom_np(&fa, STDERR_FILENO + 1);
#endif
	/* A plugin starts with no blocked signals, and with SIGPIPE etc. not ignored. */
	posix_spawnattr_init(&attr);
	sigemptyset(&none);
	sigemptyset(&deflt);
	sigaddset(&deflt, SIGPIPE);
	sigaddset(&deflt, SIGINT);
	sigaddset(&deflt, SIGTERM);
	sigaddset(&deflt, SIGQUIT);
	sigaddset(&deflt, SIGHUP);
	sigaddset(&deflt, SIGCHLD);
	posix_spawnattr_setsigmask(&attr, &none);
	posix_spawnattr_setsigdefault(&attr, &deflt);
	posix_spawnattr_setflags(&attr, POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF);
	if (strchr(x->command, '/') != NULL)
		rc = posix_spawn(&pid, x->command, &fa, &attr, argv, envp);
	else
		rc = posix_spawnp(&pid, x->command, &fa, &attr, argv, envp);
	posix_spawnattr_destroy(&attr);
	posix_spawn_file_actions_destroy(&fa);
	strv_free(argv);
	strv_free(envp);
	close(pfd[1]);
	if (rc != 0) {
		close(pfd[0]);
		if (rc == ENOENT) {
			err_set(e, "exec plugin: executable '%s' not found", x->command);
			if (x->install_hint != NULL)
				err_hint(e, "%s", x->install_hint);
			else
				err_hint(e, "install '%s' or fix the exec command of user '%s' "
				    "in %s", x->command, c->user_name ? c->user_name : "",
				    c->source ? c->source : "the kubeconfig");
			return -1;
		}
		return err_set(e, "exec plugin: cannot run '%s': %s", x->command,
		    strerror(rc));
	}

	for (;;) {
		n = read(pfd[0], chunk, sizeof chunk);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			break;
		if (out.len + (size_t)n > EXEC_MAX_OUTPUT) {
			toobig = true;
			kill(pid, SIGKILL);
			break;
		}
		buf_append(&out, chunk, (size_t)n);
	}
	saved = n < 0 ? errno : 0;
	close(pfd[0]);
	while (waitpid(pid, &status, 0) < 0 && errno == EINTR)
		;

	rc = -1;
	if (toobig)
		err_set(e, "exec plugin '%s' printed more than %d KiB", x->command,
		    EXEC_MAX_OUTPUT / 1024);
	else if (saved != 0)
		err_set(e, "exec plugin '%s': reading its output: %s", x->command,
		    strerror(saved));
	else if (WIFSIGNALED(status))
		err_set(e, "exec plugin '%s' was killed by signal %d", x->command,
		    WTERMSIG(status));
	else if (WIFEXITED(status) && WEXITSTATUS(status) != 0)
		err_set(e, "exec plugin '%s' failed with exit code %d", x->command,
		    WEXITSTATUS(status));
	else if (out.len == 0)
		err_set(e, "exec plugin '%s' printed nothing", x->command);
	else
		rc = exec_parse(a, out.data, e);
	if (out.data != NULL)
		explicit_bzero(out.data, out.len);
	buf_free(&out);
	if (rc == 0) {
		describe_expiry(a->exec_expiry, when, sizeof when);
		log_debug(LOG_STEPS, "exec plugin '%s' ran: %s, %s", x->command,
		    a->exec_token != NULL ? "token" : "client certificate", when);
	}
	return rc;
}

static int
exec_load(struct auth *a, struct err *e)
{
	time_t now = time(NULL);

	if (a->have_exec && (a->exec_expiry == 0 || now + EXEC_MARGIN < a->exec_expiry))
		return 0;
	exec_drop(a);
	return exec_run(a, e);
}

int
auth_get(struct auth *a, struct auth_creds *out, struct err *e)
{
	const struct kcfg *c = a->cfg;

	memset(out, 0, sizeof *out);
	if (c->auth_provider != NULL) {
		err_set(e, "auth-provider '%s' is not supported; use an exec plugin",
		    c->auth_provider);
		if (strcmp(c->auth_provider, "oidc") == 0)
			err_hint(e, "for OIDC, kubelogin (kubectl oidc-login) is an exec plugin "
			    "for user '%s'", c->user_name ? c->user_name : "");
		else
			err_hint(e, "replace the auth-provider of user '%s' with an exec plugin",
			    c->user_name ? c->user_name : "");
		return -1;
	}
	out->cert_pem = c->cert_pem;
	out->cert_len = c->cert_len;
	out->key_pem = c->key_pem;
	out->key_len = c->key_len;
	out->username = c->username;
	out->password = c->password;
	/*
	 * client-go reads tokenFile for every request (cached a minute) even when
	 * token is set too; the token is only the fallback for an unreadable file.
	 */
	if (c->token_file != NULL) {
		struct err ignored;

		err_clear(&ignored);
		if (token_file_load(a, c->token != NULL ? &ignored : e) < 0) {
			if (c->token == NULL)
				return -1;
			log_debug(LOG_STEPS, "%s; using the kubeconfig's token", ignored.msg);
			out->token = c->token;
		} else {
			out->token = a->file_token;
		}
	} else if (c->token != NULL) {
		out->token = c->token;
	}
	if (uses_exec(c)) {
		if (exec_load(a, e) < 0)
			return -1;
		if (a->exec_token != NULL)
			out->token = a->exec_token;
		if (a->exec_cert != NULL) {
			out->cert_pem = a->exec_cert;
			out->cert_len = a->exec_cert_len;
			out->key_pem = a->exec_key;
			out->key_len = a->exec_key_len;
		}
	}
	return 0;
}

bool
auth_invalidate(struct auth *a)
{
	const struct kcfg *c = a->cfg;

	exec_drop(a);
	a->file_read_at = 0;
	return uses_exec(c) || c->token_file != NULL;
}

bool
auth_creds_need_tls(const struct auth_creds *c)
{
	return c->token != NULL || c->username != NULL || c->password != NULL;
}
