/* test-secrets.c: the secrets audit: no credential in any output or saved file, ever */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <criterion/criterion.h>
#include <openssl/evp.h>
#include <openssl/rand.h>

#include "e2e.h"

/*
 * Every secret the test knows, with what it is.  Tokens are also looked
 * for by their random part alone, keys by pieces of their body, so a
 * truncated or re-encoded leak is caught too.
 */
struct secrets {
	char *value[128];
	char *what[128];
	int n;
};

static void
secret_add(struct secrets *s, const char *what, const char *value, size_t len)
{
	if (value == NULL || len < 8 || s->n >= 128)
		return;
	s->value[s->n] = strndup(value, len);
	s->what[s->n] = strdup(what);
	s->n++;
}

static void
secret_add_str(struct secrets *s, const char *what, const char *value)
{
	if (value != NULL)
		secret_add(s, what, value, strlen(value));
}

/* A token and, when it is NAME-HEX, its random part. */
static void
secret_add_token(struct secrets *s, const char *what, const char *token)
{
	const char *dash = strrchr(token, '-');

	secret_add_str(s, what, token);
	if (dash != NULL && strlen(dash + 1) >= 16)
		secret_add(s, what, dash + 1, 16);
}

static char *
slurp(const char *path, size_t *len)
{
	FILE *f = fopen(path, "rb");
	char *buf = NULL;
	size_t n = 0, cap = 0, got;

	if (f == NULL)
		return NULL;
	do {
		if (cap - n < 65536)
			buf = realloc(buf, cap = cap * 2 + 65536);
		got = fread(buf + n, 1, cap - n - 1, f);
		n += got;
	} while (got > 0);
	fclose(f);
	buf[n] = '\0';
	if (len != NULL)
		*len = n;
	return buf;
}

static char *
trim(char *s)
{
	size_t n = strlen(s);

	while (n > 0 && (s[n - 1] == '\n' || s[n - 1] == '\r' || s[n - 1] == ' '))
		s[--n] = '\0';
	return s;
}

/* The password in postgresql://user:PASSWORD@host/db. */
static void
secret_add_url_password(struct secrets *s, const char *what, const char *url)
{
	const char *p = strstr(url, "://"), *colon, *at;

	if (p == NULL)
		return;
	p += 3;
	at = strchr(p, '@');
	colon = strchr(p, ':');
	if (at != NULL && colon != NULL && colon < at)
		secret_add(s, what, colon + 1, (size_t)(at - colon - 1));
}

/* The client key: client-key-data as written, and each line of the PEM body. */
static void
secret_add_client_key(struct secrets *s, const char *kubeconfig)
{
	char *kc = slurp(kubeconfig, NULL), *p, *end, *b64, *pem;
	int n;

	cr_assert_not_null(kc);
	p = strstr(kc, "client-key-data:");
	cr_assert_not_null(p, "no client-key-data in %s", kubeconfig);
	p += strlen("client-key-data:");
	while (*p == ' ' || *p == '"')
		p++;
	end = p + strcspn(p, "\"\n");
	b64 = strndup(p, (size_t)(end - p));
	secret_add_str(s, "client-key-data", b64);
	/* Pieces past the constant "-----BEGIN PRIVATE KEY-----" prefix. */
	for (size_t off = 40; off + 24 <= strlen(b64); off += 24)
		secret_add(s, "a piece of client-key-data", b64 + off, 24);
	pem = calloc(1, strlen(b64));
	n = EVP_DecodeBlock((unsigned char *)pem, (unsigned char *)b64, (int)strlen(b64));
	cr_assert_gt(n, 0);
	for (char *line = strtok(pem, "\n"); line != NULL; line = strtok(NULL, "\n"))
		if (strncmp(line, "-----", 5) != 0 && strlen(line) >= 16)
			secret_add_str(s, "a line of the client key PEM", line);
	free(pem);
	free(b64);
	free(kc);
}

static void
random_secret(char *out, size_t n, const char *prefix)
{
	unsigned char r[12];

	cr_assert_eq(RAND_bytes(r, sizeof r), 1);
	snprintf(out, n, "%s%02x%02x%02x%02x%02x%02x%02x%02x%02x%02x%02x%02x", prefix, r[0], r[1],
	    r[2], r[3], r[4], r[5], r[6], r[7], r[8], r[9], r[10], r[11]);
}

static int
leaks(const struct secrets *s, const char *text)
{
	int n = 0;

	for (int i = 0; i < s->n; i++)
		n += strstr(text, s->value[i]) != NULL;
	return n;
}

static char basic_pw[64], url_pw[64], proxy_pw[64];

/* A variable of DIR/env, or NULL (--no-runtime clusters have no database). */
static const char *
sim_maybe(const struct sim *sm, const char *name)
{
	for (int i = 0; i < sm->nenv; i++)
		if (strcmp(sm->env[i][0], name) == 0)
			return sm->env[i][1];
	return NULL;
}

static void
collect(const struct sim *sm, struct secrets *s)
{
	static const char *const token_files[] = { "tokens/admin.token", "tokens/tokenfile.token",
		"tokens/exec.token", "tokens/readonly.token", "tokens/control.token",
		"tokens/exec.secret", NULL };
	char path[1024];

	memset(s, 0, sizeof *s);
	secret_add_token(s, "SIM_TOKEN", sim_get(sm, "SIM_TOKEN"));
	secret_add_token(s, "SIM_READONLY_TOKEN", sim_get(sm, "SIM_READONLY_TOKEN"));
	secret_add_token(s, "SIM_ADMIN_TOKEN", sim_get(sm, "SIM_ADMIN_TOKEN"));
	secret_add_str(s, "SIM_DB_PASSWORD", sim_maybe(sm, "SIM_DB_PASSWORD"));
	if (sim_maybe(sm, "SIM_DB_PASSWORD") != NULL) {
		/* As the Secret nublado-secret holds it (data: base64). */
		const char *pw = sim_maybe(sm, "SIM_DB_PASSWORD");
		char b64[256];

		cr_assert_lt(strlen(pw), 150);
		EVP_EncodeBlock((unsigned char *)b64, (const unsigned char *)pw, (int)strlen(pw));
		secret_add_str(s, "SIM_DB_PASSWORD in base64", b64);
	}
	if (sim_maybe(sm, "SIM_DB_ADMIN_URL") != NULL)
		secret_add_url_password(s, "the superuser's password",
		    sim_maybe(sm, "SIM_DB_ADMIN_URL"));
	if (sim_maybe(sm, "SIM_OTHER_DB_URL") != NULL)
		secret_add_url_password(s, "the other role's password",
		    sim_maybe(sm, "SIM_OTHER_DB_URL"));
	for (int i = 0; token_files[i] != NULL; i++) {
		char *t;

		snprintf(path, sizeof path, "%s/%s", sm->dir, token_files[i]);
		t = slurp(path, NULL);
		cr_assert_not_null(t, "%s", path);
		secret_add_token(s, token_files[i], trim(t));
		free(t);
	}
	secret_add_client_key(s, sm->kubeconfig);
	random_secret(basic_pw, sizeof basic_pw, "basic-pw-");
	random_secret(url_pw, sizeof url_pw, "url-pw-");
	secret_add_str(s, "the basic-auth password", basic_pw);
	secret_add_str(s, "the --db-url password", url_pw);
	random_secret(proxy_pw, sizeof proxy_pw, "proxy-pw-");
	secret_add_str(s, "the proxy-url password", proxy_pw);
	{
		/* As curl sends it: Proxy-Authorization: Basic base64(user:password). */
		char plain[128], b64[256];

		snprintf(plain, sizeof plain, "puser:%s", proxy_pw);
		EVP_EncodeBlock((unsigned char *)b64, (const unsigned char *)plain,
		    (int)strlen(plain));
		secret_add_str(s, "the proxy-url credentials in base64", b64);
	}
	/* The matcher works: the kubeconfig holds the key, the tokens and their pieces. */
	{
		char *kc = slurp(sm->kubeconfig, NULL);

		cr_assert_geq(leaks(s, kc), 10, "the audit does not recognise the kubeconfig's secrets");
		free(kc);
	}
}

/* The v1beta1 plugin's tokens change every run: "simexp.USER.EXPIRY.SIG". */
static void
assert_clean(const struct secrets *s, const char *where, const char *text)
{
	for (int i = 0; i < s->n; i++)
		cr_assert(strstr(text, s->value[i]) == NULL, "%s appears in %s", s->what[i], where);
	cr_assert(strstr(text, "simexp.") == NULL, "an exec plugin token appears in %s", where);
}

static const struct secrets *walk_secrets;
static int walk_files;

static int
walk_one(const char *path, const struct stat *sb, int type, struct FTW *ftw)
{
	if (type == FTW_D || type == FTW_DP) {
		/* XDG_STATE_HOME itself is the test's; ours start below it. */
		if (ftw->level > 0)
			cr_assert_eq(sb->st_mode & 0777, 0700, "directory %s has mode %o, want 700",
			    path, sb->st_mode & 0777);
		return 0;
	}
	if (type == FTW_F) {
		char *text = slurp(path, NULL);

		cr_assert_not_null(text, "%s", path);
		assert_clean(walk_secrets, path, text);
		free(text);
		cr_assert_eq(sb->st_mode & 0777, 0600, "%s has mode %o, want 600", path,
		    sb->st_mode & 0777);
		walk_files++;
	}
	return 0;
}

/* Every file under dir free of secrets, mode 0600; every directory 0700. */
static int
assert_dir_clean(const struct secrets *s, const char *dir)
{
	walk_secrets = s;
	walk_files = 0;
	cr_assert_eq(nftw(dir, walk_one, 16, FTW_PHYS), 0, "cannot walk %s", dir);
	return walk_files;
}

#define MAXARGS 40

/*
 * Run the binary (argv after the binary, NULL-terminated) and audit its
 * output.  want: an exit code, or ANY_FAILURE (1 or 3), or NONZERO.
 */
#define ANY_FAILURE (-1)
#define NONZERO (-2)
#define ANY_EXIT (-3)
static void
audit_argv(const struct secrets *s, struct run *r, const char *const *args, int want)
{
	char *argv[MAXARGS + 2], where[1024];
	size_t off = 0;
	int n = 0;

	argv[n++] = (char *)need_env("NUB_BIN");
	for (int i = 0; args[i] != NULL && n < MAXARGS; i++) {
		argv[n++] = (char *)args[i];
		off += (size_t)snprintf(where + off, off < sizeof where ? sizeof where - off : 0,
		    " %s", args[i]);
	}
	argv[n] = NULL;
	run_argv(r, argv, NULL, 240);
	if (off >= sizeof where)
		off = sizeof where - 1;
	where[off] = '\0';
	if (want >= 0)
		cr_assert_eq(r->status, want, "want exit %d from%s, got %d:\n%s\n%s", want, where,
		    r->status, r->out, r->err);
	else if (want == ANY_FAILURE)
		cr_assert(r->status == 1 || r->status == 3, "want a failure from%s, got %d:\n%s\n%s",
		    where, r->status, r->out, r->err);
	else if (want == NONZERO)
		cr_assert(r->status != 0 && r->status < 128, "want a failure from%s, got %d:\n%s\n%s",
		    where, r->status, r->out, r->err);
	else
		cr_assert(r->status < 128, "%s crashed (%d):\n%s", where, r->status, r->err);
	{
		char w[1100];

		snprintf(w, sizeof w, "the stdout of%s", where);
		assert_clean(s, w, r->out);
		snprintf(w, sizeof w, "the stderr of%s", where);
		assert_clean(s, w, r->err);
	}
}

/* Against a private cluster: --kubeconfig, its state dir, this context. */
static void
audit(const struct sim *sm, const struct secrets *s, struct run *r, const char *kubeconfig,
    const char *context, int want, ...)
{
	const char *args[MAXARGS + 1];
	char state[600];
	int n = 0;
	va_list ap;

	snprintf(state, sizeof state, "%s/state", sm->dir);
	setenv("XDG_STATE_HOME", state, 1);
	args[n++] = "--kubeconfig";
	args[n++] = kubeconfig;
	if (context != NULL) {
		args[n++] = "--context";
		args[n++] = context;
	}
	va_start(ap, want);
	for (const char *a = va_arg(ap, const char *); a != NULL && n < MAXARGS;
	    a = va_arg(ap, const char *))
		args[n++] = a;
	va_end(ap);
	args[n] = NULL;
	audit_argv(s, r, args, want);
}

static const char *const contexts[] = { "sim", "sim-token", "sim-tokenfile", "sim-exec",
	"sim-exec-beta", NULL };

Test(secrets, every_command_every_context_at_the_highest_verbosity, .timeout = 600)
{
	struct sim sm;
	struct secrets s;
	struct run r;
	char bdir[700], dburl[1024], state[700];

	sim_start(&sm, NULL);
	collect(&sm, &s);
	snprintf(dburl, sizeof dburl, "postgresql://nublado:%s@%s", url_pw,
	    strchr(sim_get(&sm, "SIM_DB_URL_NOPW"), '@') + 1);

	/* Reading and dry runs, in every context that can write. */
	for (int i = 0; contexts[i] != NULL; i++) {
		const char *c = contexts[i];

		audit(&sm, &s, &r, sm.kubeconfig, c, 0, "--v=9", "version", NULL);
		if (strcmp(c, "sim-token") == 0)
			cr_assert(strstr(r.err, "Authorization: <redacted>") != NULL,
			    "-vvv shows no headers, so this audit proves nothing:\n%s", r.err);
		run_free(&r);
		audit(&sm, &s, &r, sm.kubeconfig, c, 0, "-vvv", "status", NULL);
		run_free(&r);
		audit(&sm, &s, &r, sm.kubeconfig, c, 0, "-vvv", "status", "-o", "json", NULL);
		run_free(&r);
		audit(&sm, &s, &r, sm.kubeconfig, c, 0, "-vvv", "db-url", NULL);
		run_free(&r);
		audit(&sm, &s, &r, sm.kubeconfig, c, 0, "--v=9", "db-url", "-o", "json", NULL);
		run_free(&r);
		audit(&sm, &s, &r, sm.kubeconfig, c, 0, "-vvv", "db-url", "--phalanx",
		    sim_get(&sm, "SIM_PHALANX"), "--env", "sim", NULL);
		run_free(&r);
		audit(&sm, &s, &r, sm.kubeconfig, c, 0, "-vvv", "psql", "-c", "select 1", NULL);
		cr_assert(strstr(r.out, "1") != NULL, "%s", r.out);
		run_free(&r);
		/* A password in --db-url is dropped: psql still works, with the pod's file. */
		audit(&sm, &s, &r, sm.kubeconfig, c, 0, "-vvv", "psql", "--db-url", dburl, "-c",
		    "select current_user", NULL);
		run_free(&r);
		for (const char *const *cmd = (const char *const[]){ "block", "kill-labs",
		    "restart-hub", "unblock", "wipe-db", NULL }; *cmd != NULL; cmd++) {
			audit(&sm, &s, &r, sm.kubeconfig, c, 0, "-vvv", *cmd, "--dry-run", NULL);
			run_free(&r);
		}
		audit(&sm, &s, &r, sm.kubeconfig, c, 0, "-vvv", "wipe-db", "--dry-run", "--db-url",
		    dburl, NULL);
		run_free(&r);
	}

	/* The whole runbook, then each step, changing things for real. */
	snprintf(bdir, sizeof bdir, "%s/state/my-backups", sm.dir);
	audit(&sm, &s, &r, sm.kubeconfig, "sim-token", 0, "-vvv", "wipe-db", "-y", "--backup-dir",
	    bdir, NULL);
	run_free(&r);
	audit(&sm, &s, &r, sm.kubeconfig, "sim-exec-beta", 0, "-vvv", "wipe-db", "-y", NULL);
	run_free(&r);
	audit(&sm, &s, &r, sm.kubeconfig, "sim", 0, "-vvv", "wipe-db", "-y", "-o", "json", NULL);
	run_free(&r);
	for (int i = 0; contexts[i] != NULL; i++) {
		audit(&sm, &s, &r, sm.kubeconfig, contexts[i], 0, "-vvv", "block", "-y", NULL);
		run_free(&r);
		audit(&sm, &s, &r, sm.kubeconfig, contexts[i], 0, "-vvv", "kill-labs", "-y", NULL);
		run_free(&r);
		audit(&sm, &s, &r, sm.kubeconfig, contexts[i], 0, "-vvv", "restart-hub", "-y", NULL);
		run_free(&r);
		audit(&sm, &s, &r, sm.kubeconfig, contexts[i], 0, "--v=9", "unblock", "-y", NULL);
		run_free(&r);
	}
	audit(&sm, &s, &r, sm.kubeconfig, "sim-token", 0, "-vvv", "block", "-y", NULL);
	run_free(&r);
	audit(&sm, &s, &r, sm.kubeconfig, "sim-token", 0, "-vvv", "unblock", "-y", "--from-backup",
	    NULL);
	run_free(&r);

	/* The saved state: journals, ingress manifests, backups: clean, 0600 in 0700. */
	snprintf(state, sizeof state, "%s/state", sm.dir);
	cr_assert_geq(assert_dir_clean(&s, state), 10, "fewer saved files than expected");
	{
		char cmd[2048];

		snprintf(cmd, sizeof cmd, "ls %s/*.sql %s/state/kubectl-nublado/sim-exec-beta.*/"
		    "backups/*.sql %s/state/kubectl-nublado/sim-token.*/ingresses/proxy.json", bdir,
		    sm.dir, sm.dir);
		run_sh(&r, cmd);
		cr_assert_eq(r.status, 0, "backups or manifests missing: %s", r.err);
		run_free(&r);
	}
	sim_stop(&sm);
}

/* Write DIR/NAME: a kubeconfig with one context `c' from these YAML fragments. */
static void
write_kubeconfig(const char *path, const char *cluster, const char *user)
{
	FILE *f = fopen(path, "w");

	cr_assert_not_null(f, "%s", path);
	fprintf(f, "apiVersion: v1\nkind: Config\ncurrent-context: c\n"
	    "clusters:\n- name: k\n  cluster:\n%s"
	    "users:\n- name: u\n  user:\n%s"
	    "contexts:\n- name: c\n  context:\n    cluster: k\n    user: u\n    namespace: nublado\n",
	    cluster, user);
	fclose(f);
}

Test(secrets, failure_paths_at_the_highest_verbosity, .timeout = 600)
{
	struct sim sm;
	struct secrets s;
	struct run r;
	char kc_basic[700], kc_wrongca[700], cluster[2048], user[1024], url[1024], state[700];
	const char *server;

	sim_start(&sm, NULL);
	collect(&sm, &s);
	server = sim_get(&sm, "SIM_SERVER");

	/* Read-only user: each change is a 403 Forbidden, with the Status message. */
	audit(&sm, &s, &r, sm.kubeconfig, "sim-readonly", 0, "-vvv", "db-url", NULL);
	run_free(&r);
	for (const char *const *cmd = (const char *const[]){ "block", "kill-labs", "restart-hub",
	    "wipe-db", NULL }; *cmd != NULL; cmd++) {
		audit(&sm, &s, &r, sm.kubeconfig, "sim-readonly", ANY_FAILURE, "-vvv", *cmd, "-y",
		    NULL);
		run_free(&r);
	}
	/* Nothing to unblock: it says access is open, without writing. */
	audit(&sm, &s, &r, sm.kubeconfig, "sim-readonly", ANY_EXIT, "-vvv", "unblock", "-y", NULL);
	run_free(&r);
	audit(&sm, &s, &r, sm.kubeconfig, "sim-readonly", 1, "-vvv", "psql", "-c", "select 1", NULL);
	cr_assert(strstr(r.err, "pods/exec") != NULL || strstr(r.err, "exec") != NULL, "%s", r.err);
	run_free(&r);

	/* Basic authentication: this server answers 401, as servers since 1.19 do. */
	snprintf(kc_basic, sizeof kc_basic, "%s/kc-basic", sm.dir);
	snprintf(cluster, sizeof cluster, "    server: %s\n    certificate-authority: %s\n", server,
	    sim_get(&sm, "SIM_CA"));
	snprintf(user, sizeof user, "    username: admin\n    password: %s\n", basic_pw);
	write_kubeconfig(kc_basic, cluster, user);
	for (const char *const *cmd = (const char *const[]){ "version", "status", "db-url",
	    NULL }; *cmd != NULL; cmd++) {
		audit(&sm, &s, &r, kc_basic, NULL, ANY_EXIT, "-vvv", *cmd, NULL);
		run_free(&r);
	}
	for (const char *const *cmd = (const char *const[]){ "block", "kill-labs", "restart-hub",
	    "unblock", "wipe-db", NULL }; *cmd != NULL; cmd++) {
		audit(&sm, &s, &r, kc_basic, NULL, ANY_FAILURE, "-vvv", *cmd, "-y", NULL);
		run_free(&r);
	}
	audit(&sm, &s, &r, kc_basic, NULL, 1, "-vvv", "psql", "--pod", "hub-x", "-c", "select 1",
	    NULL);
	run_free(&r);

	/* The wrong CA: refused before a token is sent. */
	snprintf(kc_wrongca, sizeof kc_wrongca, "%s/kc-wrongca", sm.dir);
	snprintf(cluster, sizeof cluster, "    server: %s\n    certificate-authority: %s\n", server,
	    sim_get(&sm, "SIM_WRONG_CA"));
	snprintf(user, sizeof user, "    token: %s\n", sim_get(&sm, "SIM_TOKEN"));
	write_kubeconfig(kc_wrongca, cluster, user);
	audit(&sm, &s, &r, kc_wrongca, NULL, 1, "-vvv", "version", NULL);
	cr_assert(strstr(r.err, "certificate") != NULL, "%s", r.err);
	run_free(&r);
	audit(&sm, &s, &r, kc_wrongca, NULL, 1, "-vvv", "psql", "--pod", "hub-x", "-c", "select 1",
	    NULL);
	run_free(&r);
	audit(&sm, &s, &r, kc_wrongca, NULL, ANY_FAILURE, "-vvv", "wipe-db", "-y", NULL);
	run_free(&r);

	/*
	 * Revoked tokens: 401 with the Status message for static tokens and the
	 * v1 plugin's; the v1beta1 plugin's next token is good (refresh on 401).
	 */
	sim_faults_of(&sm, "revoke-after=0");
	audit(&sm, &s, &r, sm.kubeconfig, "sim-token", ANY_EXIT, "-vvv", "status", NULL);
	run_free(&r);
	audit(&sm, &s, &r, sm.kubeconfig, "sim-exec", ANY_FAILURE, "-vvv", "wipe-db", "-y", NULL);
	run_free(&r);
	audit(&sm, &s, &r, sm.kubeconfig, "sim-exec-beta", ANY_EXIT, "-vvv", "psql", "-c",
	    "select 1", NULL);
	run_free(&r);
	audit(&sm, &s, &r, sm.kubeconfig, "sim-tokenfile", 1, "-vvv", "psql", "-c", "select 1", NULL);
	run_free(&r);
	sim_faults_of(&sm, "");

	/* A password in a bad --db-url: the message shows the URL without it. */
	snprintf(url, sizeof url, "postgresql://nublado:%s@bad host:5432/nublado", url_pw);
	audit(&sm, &s, &r, sm.kubeconfig, "sim", NONZERO, "-vvv", "psql", "--db-url", url, "-c",
	    "select 1", NULL);
	run_free(&r);
	audit(&sm, &s, &r, sm.kubeconfig, "sim", NONZERO, "-vvv", "wipe-db", "-y", "--db-url", url, NULL);
	run_free(&r);
	snprintf(url, sizeof url, "postgresql://nublado:%s@127.0.0.1:notaport/nublado", url_pw);
	audit(&sm, &s, &r, sm.kubeconfig, "sim", NONZERO, "-vvv", "psql", "--db-url", url, "-c",
	    "select 1", NULL);
	run_free(&r);
	/* Right host, wrong database: psql in the pod fails, with the pod's own password. */
	snprintf(url, sizeof url, "postgresql://nublado:%s@%s", url_pw,
	    strchr(sim_get(&sm, "SIM_DB_URL_NOPW"), '@') + 1);
	strcpy(strrchr(url, '/'), "/nosuchdb");
	audit(&sm, &s, &r, sm.kubeconfig, "sim", NONZERO, "-vvv", "psql", "--db-url", url, "-c",
	    "select 1", NULL);
	run_free(&r);
	audit(&sm, &s, &r, sm.kubeconfig, "sim", NONZERO, "-vvv", "wipe-db", "-y", "--db-url", url, NULL);
	run_free(&r);

	snprintf(state, sizeof state, "%s/state", sm.dir);
	if (access(state, F_OK) == 0)
		assert_dir_clean(&s, state);
	sim_stop(&sm);
}

Test(secrets, tls_is_verified_unless_the_kubeconfig_says_insecure, .timeout = 120)
{
	struct sim sm;
	struct secrets s;
	struct run r;
	char kc[700], cluster[2048], user[1024];

	sim_start(&sm, "--no-runtime");
	collect(&sm, &s);
	snprintf(user, sizeof user, "    token: %s\n", sim_get(&sm, "SIM_TOKEN"));
	snprintf(kc, sizeof kc, "%s/kc-tls", sm.dir);
	/* No CA at all: the system's CAs do not know the cluster's. */
	snprintf(cluster, sizeof cluster, "    server: %s\n", sim_get(&sm, "SIM_SERVER"));
	write_kubeconfig(kc, cluster, user);
	audit(&sm, &s, &r, kc, NULL, 1, "-vvv", "version", NULL);
	cr_assert(strstr(r.err, "certificate") != NULL, "%s", r.err);
	run_free(&r);
	/* The wrong CA, then the same with insecure-skip-tls-verify: only that one connects. */
	snprintf(cluster, sizeof cluster, "    server: %s\n    certificate-authority: %s\n",
	    sim_get(&sm, "SIM_SERVER"), sim_get(&sm, "SIM_WRONG_CA"));
	write_kubeconfig(kc, cluster, user);
	audit(&sm, &s, &r, kc, NULL, 1, "-vvv", "version", NULL);
	run_free(&r);
	snprintf(cluster, sizeof cluster, "    server: %s\n    insecure-skip-tls-verify: true\n",
	    sim_get(&sm, "SIM_SERVER"));
	write_kubeconfig(kc, cluster, user);
	audit(&sm, &s, &r, kc, NULL, 0, "-vvv", "version", NULL);
	cr_assert(strstr(r.out, "Server Version") != NULL || strstr(r.out, "v1.") != NULL, "%s",
	    r.out);
	run_free(&r);
	sim_stop(&sm);
}

/* A listening socket nobody should connect to; returns its port. */
static int
listener(int *fd)
{
	struct sockaddr_in a = { .sin_family = AF_INET };
	socklen_t len = sizeof a;

	a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	*fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0);
	cr_assert_geq(*fd, 0);
	cr_assert_eq(bind(*fd, (struct sockaddr *)&a, sizeof a), 0);
	cr_assert_eq(listen(*fd, 16), 0);
	cr_assert_eq(getsockname(*fd, (struct sockaddr *)&a, &len), 0);
	return ntohs(a.sin_port);
}

Test(secrets, no_bearer_token_over_plain_http, .timeout = 120)
{
	struct sim sm;
	struct secrets s;
	struct run r;
	char kc[700], cluster[256], user[1024];
	int fd, port, conn;

	sim_start(&sm, "--no-runtime");
	collect(&sm, &s);
	port = listener(&fd);
	snprintf(cluster, sizeof cluster, "    server: http://127.0.0.1:%d\n", port);
	snprintf(kc, sizeof kc, "%s/kc-http", sm.dir);
	for (int i = 0; i < 3; i++) {
		if (i == 0)
			snprintf(user, sizeof user, "    token: %s\n", sim_get(&sm, "SIM_TOKEN"));
		else if (i == 1)
			snprintf(user, sizeof user, "    tokenFile: %s/tokens/tokenfile.token\n", sm.dir);
		else
			snprintf(user, sizeof user, "    exec:\n      apiVersion: "
			    "client.authentication.k8s.io/v1\n      command: %s/bin/sim-credential\n"
			    "      args: [\"--api\", \"v1\"]\n      interactiveMode: Never\n", sm.dir);
		write_kubeconfig(kc, cluster, user);
		/* The REST path, and the exec path (psql --pod skips the pod lookup). */
		audit(&sm, &s, &r, kc, NULL, 1, "-vvv", "version", NULL);
		cr_assert(strstr(r.err, "plain http") != NULL, "%s", r.err);
		run_free(&r);
		audit(&sm, &s, &r, kc, NULL, 1, "-vvv", "psql", "--pod", "hub-x", "-c", "select 1",
		    NULL);
		cr_assert(strstr(r.err, "plain http") != NULL, "%s", r.err);
		run_free(&r);
		audit(&sm, &s, &r, kc, NULL, ANY_FAILURE, "-vvv", "wipe-db", "-y", NULL);
		run_free(&r);
	}
	/* Refused before connecting: nothing ever knocked. */
	conn = accept(fd, NULL, NULL);
	cr_assert(conn < 0 && (errno == EAGAIN || errno == EWOULDBLOCK),
	    "the plugin connected to the plain-http server");
	close(fd);
	sim_stop(&sm);
}

/* A proxy that wants credentials and refuses them: what it was sent must stay unsaid. */
static const char proxy_407[] =
	"import socket, sys\n"
	"s = socket.socket()\n"
	"s.bind(('127.0.0.1', 0))\n"
	"s.listen(16)\n"
	"print(s.getsockname()[1], flush=True)\n"
	"while True:\n"
	"    c, _ = s.accept()\n"
	"    c.recv(65536)\n"
	"    c.sendall(b'HTTP/1.1 407 Proxy Authentication Required\\r\\n'\n"
	"              b'Proxy-Authenticate: Basic realm=\"p\"\\r\\nContent-Length: 0\\r\\n\\r\\n')\n"
	"    c.close()\n";

Test(secrets, proxy_credentials, .timeout = 180)
{
	struct sim sm;
	struct secrets s;
	struct run r;
	char kc[700], cluster[2048], user[1024], line[32];
	int p[2], port;
	pid_t pid;
	FILE *f;

	sim_start(&sm, "--no-runtime");
	collect(&sm, &s);
	cr_assert_eq(pipe(p), 0);
	pid = fork();
	if (pid == 0) {
		dup2(p[1], 1);
		close(p[0]);
		close(p[1]);
		/* A failed assertion ends the test's process: this one goes with it. */
		prctl(PR_SET_PDEATHSIG, SIGKILL);
		execl("/usr/bin/python3", "python3", "-c", proxy_407, (char *)NULL);
		_exit(127);
	}
	close(p[1]);
	f = fdopen(p[0], "r");
	cr_assert_not_null(fgets(line, sizeof line, f));
	fclose(f);
	port = atoi(line);
	snprintf(kc, sizeof kc, "%s/kc-proxy", sm.dir);
	snprintf(cluster, sizeof cluster, "    server: %s\n    certificate-authority: %s\n"
	    "    proxy-url: http://puser:%s@127.0.0.1:%d\n", sim_get(&sm, "SIM_SERVER"),
	    sim_get(&sm, "SIM_CA"), proxy_pw, port);
	snprintf(user, sizeof user, "    token: %s\n", sim_get(&sm, "SIM_TOKEN"));
	write_kubeconfig(kc, cluster, user);
	audit(&sm, &s, &r, kc, NULL, 1, "-vvv", "version", NULL);
	cr_assert(strstr(r.err, "Proxy-Authorization: <redacted>") != NULL,
	    "the CONNECT's headers are not shown, so this proves nothing:\n%s", r.err);
	run_free(&r);
	audit(&sm, &s, &r, kc, NULL, 1, "-vvv", "psql", "--pod", "hub-x", "-c", "select 1", NULL);
	run_free(&r);
	audit(&sm, &s, &r, kc, NULL, ANY_FAILURE, "-vvv", "wipe-db", "-y", NULL);
	run_free(&r);
	kill(pid, SIGTERM);
	waitpid(pid, NULL, 0);
	sim_stop(&sm);
}
