/* test-exec.c: exec over WebSocket against the test cluster, the library and `psql' */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <criterion/criterion.h>
#include <openssl/evp.h>

#include "../../src/kube/exec.h"
#include "../../src/nublado/hub.h"
#include "../../src/nublado/nub.h"
#include "../../src/util/buf.h"
#include "../../src/util/sig.h"
#include "e2e.h"

/* ---- the library against the cluster ---- */

struct env {
	struct nub_opts opts;
	char kubeconfig[4096];
	struct nub *n;
	char *pod;
};

static void
env_open(struct env *v, const char *context)
{
	struct err e;

	memset(v, 0, sizeof *v);
	snprintf(v->kubeconfig, sizeof v->kubeconfig, "%s", sim_path("kubeconfig"));
	v->opts.kubeconfig = v->kubeconfig;
	v->opts.context = context;
	err_clear(&e);
	cr_assert_eq(nub_open(&v->opts, &v->n, &e), 0, "%s", e.msg);
	cr_assert_eq(hub_find_pod(v->n, &v->pod, &e), 0, "%s", e.msg);
}

static void
env_close(struct env *v)
{
	free(v->pod);
	nub_close(v->n);
}

struct got {
	struct buf out, err;
	EVP_MD_CTX *sha;	/* hash stdout instead of keeping it */
	unsigned long long out_bytes;
};

static int
collect(enum exec_channel ch, const void *p, size_t n, void *arg, struct err *e)
{
	struct got *g = arg;

	if (ch == EXEC_STDOUT && g->sha != NULL) {
		EVP_DigestUpdate(g->sha, p, n);
		g->out_bytes += n;
		return 0;
	}
	buf_append(ch == EXEC_STDOUT ? &g->out : &g->err, p, n);
	return 0;
}

static void
got_free(struct got *g)
{
	buf_free(&g->out);
	buf_free(&g->err);
	if (g->sha != NULL)
		EVP_MD_CTX_free(g->sha);
}

/* Run argv in the hub pod; returns kube_exec's result, fills g, r, e. */
static int
run_exec(struct env *v, char *const *argv, const char *input, size_t input_len,
    struct got *g, struct exec_result *r, struct err *e)
{
	struct exec_opts o = EXEC_OPTS_INIT;

	o.ns = v->n->ns;
	o.pod = v->pod;
	o.container = HUB_CONTAINER;
	o.argv = argv;
	o.output = collect;
	o.output_arg = g;
	o.stdin_buf = input;
	o.stdin_len = input_len;
	o.timeout_ms = 120000;
	err_clear(e);
	return kube_exec(v->n->kube, &o, r, e);
}

static void
clear_faults(void)
{
	sim_faults("");
}

Test(exec, stdout_and_stderr_apart)
{
	struct env v;
	struct got g = { 0 };
	struct exec_result r;
	struct err e;
	char *argv[] = { "sh", "-c", "echo out; echo err >&2; echo out2; printf 'no newline' >&2",
	    NULL };

	env_open(&v, "sim");
	cr_assert_eq(run_exec(&v, argv, NULL, 0, &g, &r, &e), 0, "%s", e.msg);
	cr_assert_eq(r.exit_code, 0);
	cr_assert_str_eq(r.protocol, EXEC_PROTO_V5);
	cr_assert_str_eq(g.out.data, "out\nout2\n");
	cr_assert_str_eq(g.err.data, "err\nno newline");
	got_free(&g);
	env_close(&v);
}

Test(exec, exit_codes)
{
	static const struct { const char *script; int code; } cases[] = {
		{ "true", 0 }, { "exit 1", 1 }, { "exit 3", 3 },
		{ "no-such-command-here", 127 }, { "exit 255", 255 },
	};
	struct env v;

	env_open(&v, "sim");
	for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		struct got g = { 0 };
		struct exec_result r;
		struct err e;
		char *argv[] = { "sh", "-c", (char *)cases[i].script, NULL };

		cr_assert_eq(run_exec(&v, argv, NULL, 0, &g, &r, &e), 0, "%s: %s",
		    cases[i].script, e.msg);
		cr_assert_eq(r.exit_code, cases[i].code, "%s: exit %d", cases[i].script, r.exit_code);
		got_free(&g);
	}
	env_close(&v);
}

Test(exec, missing_executable_is_failure_verbatim)
{
	struct env v;
	struct got g = { 0 };
	struct exec_result r;
	struct err e;
	char *argv[] = { "no-such-binary-xyz", NULL };

	env_open(&v, "sim");
	cr_assert_eq(run_exec(&v, argv, NULL, 0, &g, &r, &e), -1);
	cr_assert(strstr(e.msg, "executable file not found") != NULL, "%s", e.msg);
	got_free(&g);
	env_close(&v);
}

/* 64 MiB of random bytes: the pod hashes what it sends, we hash what arrives. */
Test(exec, binary_stdout_64mib_intact, .timeout = 300)
{
	struct env v;
	struct got g = { 0 };
	struct exec_result r;
	struct err e;
	unsigned char md[32];
	char hex[65];
	unsigned int mdlen;
	char *argv[] = { "sh", "-c", "f=$(mktemp) && head -c 67108864 /dev/urandom >\"$f\" && "
	    "sha256sum <\"$f\" >&2 && cat \"$f\"; rc=$?; rm -f \"$f\"; exit $rc", NULL };

	env_open(&v, "sim");
	g.sha = EVP_MD_CTX_new();
	EVP_DigestInit_ex(g.sha, EVP_sha256(), NULL);
	cr_assert_eq(run_exec(&v, argv, NULL, 0, &g, &r, &e), 0, "%s", e.msg);
	cr_assert_eq(r.exit_code, 0, "%s", g.err.data);
	cr_assert_eq(g.out_bytes, 67108864ULL);
	cr_assert_eq(r.stdout_bytes, 67108864ULL);
	EVP_DigestFinal_ex(g.sha, md, &mdlen);
	for (int i = 0; i < 32; i++)
		snprintf(hex + 2 * i, 3, "%02x", md[i]);
	cr_assert_not_null(g.err.data);
	cr_assert(strncmp(g.err.data, hex, 64) == 0, "pod sent %.64s, we got %s", g.err.data, hex);
	got_free(&g);
	env_close(&v);
}

Test(exec, stdin_round_trip_v5)
{
	struct env v;
	struct got g = { 0 };
	struct exec_result r;
	struct err e;
	size_t n = 3 * 1024 * 1024 + 17;
	char *in = malloc(n);
	char *argv[] = { "cat", NULL };
	unsigned int seed = 7;

	for (size_t i = 0; i < n; i++)
		in[i] = (char)rand_r(&seed);
	env_open(&v, "sim");
	/* cat ends only when stdin does: the v5 half-close. */
	cr_assert_eq(run_exec(&v, argv, in, n, &g, &r, &e), 0, "%s", e.msg);
	cr_assert_eq(r.exit_code, 0);
	cr_assert_eq(g.out.len, n);
	cr_assert(memcmp(g.out.data, in, n) == 0, "stdin came back changed");
	cr_assert_eq(r.stdin_bytes, n);
	free(in);
	got_free(&g);
	env_close(&v);
}

Test(exec, v4_protocol, .fini = clear_faults)
{
	struct env v;
	struct got g = { 0 };
	struct exec_result r;
	struct err e;
	char *argv[] = { "sh", "-c", "echo four; echo err >&2; exit 4", NULL };
	struct exec_opts o = EXEC_OPTS_INIT;
	char *cat[] = { "cat", NULL };

	sim_faults("exec-proto=v4");
	env_open(&v, "sim");
	cr_assert_eq(run_exec(&v, argv, NULL, 0, &g, &r, &e), 0, "%s", e.msg);
	cr_assert_str_eq(r.protocol, EXEC_PROTO_V4);
	cr_assert_eq(r.exit_code, 4);
	cr_assert_str_eq(g.out.data, "four\n");
	cr_assert_str_eq(g.err.data, "err\n");

	/* Input that needs its end cannot go over v4: refused up front, not a hang. */
	o.ns = v.n->ns;
	o.pod = v.pod;
	o.argv = cat;
	o.stdin_buf = "x";
	o.stdin_len = 1;
	o.stdin_needs_eof = true;
	o.timeout_ms = 20000;
	err_clear(&e);
	cr_assert_eq(kube_exec(v.n->kube, &o, &r, &e), -1);
	cr_assert(strstr(e.msg, "v4.channel.k8s.io") != NULL, "%s", e.msg);
	cr_assert(strstr(e.msg, "input ended") != NULL, "%s", e.msg);
	got_free(&g);
	env_close(&v);
}

Test(exec, server_without_websocket_exec, .fini = clear_faults)
{
	struct env v;
	struct got g = { 0 };
	struct exec_result r;
	struct err e;
	char *argv[] = { "true", NULL };

	sim_faults("exec-ws=off");
	env_open(&v, "sim");
	cr_assert_eq(run_exec(&v, argv, NULL, 0, &g, &r, &e), -1);
	cr_assert(strstr(e.msg, "does not support WebSocket exec") != NULL, "%s", e.msg);
	cr_assert(strstr(e.hint, "1.30") != NULL, "%s", e.hint);
	cr_assert_eq(e.http, 403);
	got_free(&g);
	env_close(&v);
}

Test(exec, rbac_forbidden)
{
	struct env v;
	struct got g = { 0 };
	struct exec_result r;
	struct err e;
	char *argv[] = { "true", NULL };

	env_open(&v, "sim-readonly");
	cr_assert_eq(run_exec(&v, argv, NULL, 0, &g, &r, &e), -1);
	cr_assert_eq(e.http, 403);
	cr_assert(strstr(e.msg, "not allowed to exec into pod") != NULL, "%s", e.msg);
	cr_assert(strstr(e.hint, "pods/exec") != NULL, "%s", e.hint);
	cr_assert(strstr(e.hint, "get and create") != NULL, "%s", e.hint);
	got_free(&g);
	env_close(&v);
}

Test(exec, pod_missing)
{
	struct env v;
	struct got g = { 0 };
	struct exec_result r;
	struct err e;
	char *argv[] = { "true", NULL };

	env_open(&v, "sim");
	free(v.pod);
	v.pod = strdup("hub-does-not-exist");
	cr_assert_eq(run_exec(&v, argv, NULL, 0, &g, &r, &e), -1);
	cr_assert_str_eq(e.msg, "pod \"hub-does-not-exist\" not found in namespace \"nublado\"");
	cr_assert_eq(e.http, 404);
	got_free(&g);
	env_close(&v);
}

Test(exec, container_missing)
{
	struct env v;
	struct exec_opts o = EXEC_OPTS_INIT;
	struct exec_result r;
	struct err e;
	char *argv[] = { "true", NULL };

	env_open(&v, "sim");
	o.ns = v.n->ns;
	o.pod = v.pod;
	o.container = "nope";
	o.argv = argv;
	err_clear(&e);
	cr_assert_eq(kube_exec(v.n->kube, &o, &r, &e), -1);
	cr_assert(strstr(e.msg, "container nope is not valid") != NULL, "%s", e.msg);
	env_close(&v);
}

Test(exec, dropped_mid_stream_is_failure, .fini = clear_faults)
{
	struct env v;
	struct got g = { 0 };
	struct exec_result r;
	struct err e;
	char *argv[] = { "head", "-c", "1000000", "/dev/zero", NULL };

	sim_faults("exec-drop=300000");
	env_open(&v, "sim");
	cr_assert_eq(run_exec(&v, argv, NULL, 0, &g, &r, &e), -1, "a dropped stream passed");
	cr_assert(strstr(e.msg, "before the command's exit status arrived") != NULL, "%s", e.msg);
	cr_assert_leq(g.out.len, 300000);
	got_free(&g);
	env_close(&v);
}

Test(exec, timeout_is_error)
{
	struct env v;
	struct exec_opts o = EXEC_OPTS_INIT;
	struct exec_result r;
	struct err e;
	char *argv[] = { "sleep", "20", NULL };
	long long t0;

	env_open(&v, "sim");
	o.ns = v.n->ns;
	o.pod = v.pod;
	o.argv = argv;
	o.timeout_ms = 1500;
	err_clear(&e);
	t0 = now_ms();
	cr_assert_eq(kube_exec(v.n->kube, &o, &r, &e), -1);
	cr_assert_str_eq(e.reason, "Timeout");
	cr_assert_lt(now_ms() - t0, 10000);
	env_close(&v);
}

Test(exec, bearer_token_and_exec_plugin_auth)
{
	static const char *const contexts[] = { "sim-token", "sim-exec", "sim-tokenfile" };

	for (size_t i = 0; i < sizeof contexts / sizeof contexts[0]; i++) {
		struct env v;
		struct got g = { 0 };
		struct exec_result r;
		struct err e;
		char *argv[] = { "echo", "hi", NULL };

		env_open(&v, contexts[i]);
		cr_assert_eq(run_exec(&v, argv, NULL, 0, &g, &r, &e), 0, "%s: %s", contexts[i], e.msg);
		cr_assert_str_eq(g.out.data, "hi\n");
		got_free(&g);
		env_close(&v);
	}
}

Test(exec, unauthorized_refreshes_once, .fini = clear_faults)
{
	struct run r;
	struct env v;

	env_open(&v, "sim");
	/* Every bearer token refused: the exec plugin runs again, one more try, then the 401. */
	sim_faults("revoke-after=0");
	run_nub(&r, "--kubeconfig", sim_path("kubeconfig"), "--context", "sim-exec", "-v", "psql",
	    "--db-url", need_env("SIM_DB_URL_NOPW"), "--pod", v.pod, "-c", "select 1", NULL);
	cr_assert_eq(r.status, 1, "%s", r.err);
	cr_assert(strstr(r.err, "trying again with fresh credentials") != NULL, "%s", r.err);
	cr_assert(strstr(r.err, "Unauthorized") != NULL, "%s", r.err);
	run_free(&r);
	env_close(&v);
}

/* ---- kubectl nublado psql ---- */

static void
nub_psql(struct run *r, const char *input, const char *const *args)
{
	char *argv[64];
	int n = 0;

	argv[n++] = (char *)need_env("NUB_BIN");
	argv[n++] = "--kubeconfig";
	argv[n++] = (char *)sim_path("kubeconfig");
	argv[n++] = "psql";
	argv[n++] = "--db-url";
	argv[n++] = (char *)need_env("SIM_DB_URL_NOPW");
	for (; *args != NULL && n < 63; args++)
		argv[n++] = (char *)*args;
	argv[n] = NULL;
	run_argv(r, argv, input, 120);
}

Test(psql, command_quote_safe)
{
	/* Every awkward thing SQL can hold, as one -c argument each. */
	static const char *const args[] = {
		"-c", "select 'it''s a \"quote\"; not; a; split' as q",
		"-c", "select $$dollar 'quoted' $x$ ; \\ ` $(echo no) ${HOME}$$",
		"-c", "select $tag$multi\nline\n$tag$ || E'\\tX' || 'ünïcödé ✓'",
		"-c", "select 1;\nselect 2; -- two statements, newline, comment",
		"--", "-A", "-t",
		NULL
	};
	struct run r;

	nub_psql(&r, NULL, (const char *const *)args + 0);
	cr_assert_eq(r.status, 0, "%s", r.err);
	cr_assert_str_eq(r.out,
	    "it's a \"quote\"; not; a; split\n"
	    "dollar 'quoted' $x$ ; \\ ` $(echo no) ${HOME}\n"
	    "multi\nline\n\tXünïcödé ✓\n"
	    "1\n2\n");
	run_free(&r);
}

Test(psql, exit_codes)
{
	struct run r;
	char path[4200];
	FILE *f;

	/* An SQL error in -c: psql says 1. */
	nub_psql(&r, NULL, (const char *const[]){ "-c", "select 1/0", NULL });
	cr_assert_eq(r.status, 1, "%s", r.err);
	cr_assert(strstr(r.err, "division by zero") != NULL, "%s", r.err);
	run_free(&r);

	/* A script stopping on an error (ON_ERROR_STOP): 3, and nothing after it runs. */
	snprintf(path, sizeof path, "%s/psql-script.sql", need_env("SIM_DIR"));
	f = fopen(path, "w");
	cr_assert_not_null(f);
	fputs("select 'before';\nselect nope_column from users;\nselect 'after';\n", f);
	fclose(f);
	nub_psql(&r, NULL, (const char *const[]){ "-f", path, "--", "-A", "-t", NULL });
	cr_assert_eq(r.status, 3, "%s", r.err);
	cr_assert_str_eq(r.out, "before\n");
	cr_assert(strstr(r.err, "nope_column") != NULL, "%s", r.err);
	run_free(&r);
	unlink(path);
}

Test(psql, script_file_and_stdin)
{
	struct run r;
	char path[4200];
	FILE *f;

	snprintf(path, sizeof path, "%s/psql-ok.sql", need_env("SIM_DIR"));
	f = fopen(path, "w");
	cr_assert_not_null(f);
	fputs("\\set x 41\nselect :x + 1 as answer;\nselect 'a;b' as s;\n", f);
	fclose(f);
	nub_psql(&r, NULL, (const char *const[]){ "-f", path, "--", "-A", "-t", NULL });
	cr_assert_eq(r.status, 0, "%s", r.err);
	cr_assert_str_eq(r.out, "42\na;b\n");
	run_free(&r);
	unlink(path);

	/* Commands on stdin (not a terminal): psql reads to the end (v5 half-close). */
	nub_psql(&r, "select 'from stdin';\n", (const char *const[]){ "--", "-A", "-t", NULL });
	cr_assert_eq(r.status, 0, "%s", r.err);
	cr_assert_str_eq(r.out, "from stdin\n");
	run_free(&r);
}

Test(psql, big_script_on_stdin)
{
	struct run r;
	char path[4200];
	FILE *f;

	/* Bigger than one argument may be: it goes on stdin. */
	snprintf(path, sizeof path, "%s/psql-big.sql", need_env("SIM_DIR"));
	f = fopen(path, "w");
	cr_assert_not_null(f);
	for (int i = 0; i < 6000; i++)
		fprintf(f, "select %d as n; -- padding padding padding padding\n", i);
	fclose(f);
	nub_psql(&r, NULL, (const char *const[]){ "-f", path, "--", "-A", "-t", NULL });
	cr_assert_eq(r.status, 0, "%s", r.err);
	cr_assert(strncmp(r.out, "0\n1\n2\n", 6) == 0, "%.40s", r.out);
	cr_assert(strstr(r.out, "\n5999\n") != NULL);
	run_free(&r);
	unlink(path);
}

Test(psql, database_url_from_cluster_or_phalanx)
{
	struct run r;

	/* No --db-url: the deployed value (Secret nublado-secret), as db-url finds it. */
	run_nub(&r, "--kubeconfig", sim_path("kubeconfig"), "psql", "-c",
	    "select current_database() || ' as ' || current_user", "--", "-A", "-t", NULL);
	cr_assert_eq(r.status, 0, "%s", r.err);
	cr_assert_str_eq(r.out, "nublado as nublado\n");
	run_free(&r);

	run_nub(&r, "--kubeconfig", sim_path("kubeconfig"), "psql", "--phalanx",
	    need_env("SIM_PHALANX"), "--env", "sim", "-c", "select 'phalanx'", "--", "-A", "-t",
	    NULL);
	cr_assert_eq(r.status, 0, "%s", r.err);
	cr_assert_str_eq(r.out, "phalanx\n");
	run_free(&r);
}

Test(psql, password_in_url_ignored)
{
	struct run r;
	char *argv[] = { (char *)need_env("NUB_BIN"), "--kubeconfig", (char *)sim_path("kubeconfig"),
	    "psql", "--db-url", (char *)need_env("SIM_DB_URL"), "-c",
	    "select current_user", "--", "-A", "-t", NULL };
	const char *pw = need_env("SIM_DB_PASSWORD");

	run_argv(&r, argv, NULL, 60);
	cr_assert_eq(r.status, 0, "%s", r.err);
	cr_assert_str_eq(r.out, "nublado\n");
	cr_assert(strstr(r.err, "ignoring the password") != NULL, "%s", r.err);
	cr_assert(strstr(r.err, pw) == NULL, "the password was printed");
	run_free(&r);
}

Test(psql, errors_named)
{
	struct run r;

	nub_psql(&r, NULL, (const char *const[]){ "--pod", "hub-nope", "-c", "select 1", NULL });
	cr_assert_eq(r.status, 1);
	cr_assert(strstr(r.err, "pod \"hub-nope\" not found in namespace \"nublado\"") != NULL,
	    "%s", r.err);
	run_free(&r);

	nub_psql(&r, NULL, (const char *const[]){ "-c", "select 1", "-f", "/dev/null", NULL });
	cr_assert_eq(r.status, 2, "%s", r.err);
	run_free(&r);

	run_nub(&r, "--kubeconfig", sim_path("kubeconfig"), "psql", "--phalanx", "/tmp", "-c",
	    "select 1", NULL);
	cr_assert_eq(r.status, 2, "%s", r.err);
	cr_assert(strstr(r.err, "--env") != NULL, "%s", r.err);
	run_free(&r);

	run_nub(&r, "--kubeconfig", sim_path("kubeconfig"), "--context", "sim-readonly", "psql",
	    "--db-url", need_env("SIM_DB_URL_NOPW"), "-c", "select 1", NULL);
	cr_assert_eq(r.status, 1);
	cr_assert(strstr(r.err, "pods/exec") != NULL, "%s", r.err);
	run_free(&r);
}

/* ---- interactive psql under tmux ---- */

static char tmux_sock[64];

static void
tmux(struct run *r, const char *const *args)
{
	char *argv[32];
	int n = 0;

	argv[n++] = "tmux";
	argv[n++] = "-L";
	argv[n++] = tmux_sock;
	for (; *args != NULL && n < 31; args++)
		argv[n++] = (char *)*args;
	argv[n] = NULL;
	run_argv(r, argv, NULL, 30);
}

static void
tmux_ok(const char *const *args)
{
	struct run r;

	tmux(&r, args);
	cr_assert_eq(r.status, 0, "tmux %s: %s", args[0], r.err);
	run_free(&r);
}

/* The pane's text (caller frees). */
static char *
pane(void)
{
	struct run r;
	char *s;

	tmux(&r, (const char *const[]){ "capture-pane", "-p", "-J", "-t", "t", "-S", "-200", NULL });
	s = r.out;
	r.out = NULL;
	run_free(&r);
	return s;
}

/* Type a line into the pane (tmux reads a trailing ';' as its own separator: escape it). */
static void
type_line(const char *text)
{
	char *t = malloc(strlen(text) + 2);
	size_t n = strlen(text);

	memcpy(t, text, n + 1);
	if (n > 0 && t[n - 1] == ';') {
		t[n - 1] = '\\';
		t[n] = ';';
		t[n + 1] = '\0';
	}
	tmux_ok((const char *const[]){ "send-keys", "-t", "t", "-l", t, NULL });
	tmux_ok((const char *const[]){ "send-keys", "-t", "t", "Enter", NULL });
	free(t);
}

static void
wait_pane(const char *needle, int timeout_s)
{
	time_t end = time(NULL) + timeout_s;
	char *s = NULL;

	for (;;) {
		free(s);
		s = pane();
		if (s != NULL && strstr(s, needle) != NULL)
			break;
		if (time(NULL) > end)
			cr_assert_fail("'%s' did not appear in the pane:\n%s", needle, s ? s : "");
		usleep(100000);
	}
	free(s);
}

/* "ROWS COLS" of the pane, as stty size prints them. */
static void
pane_size(char *out, size_t len)
{
	struct run r;

	tmux(&r, (const char *const[]){ "display-message", "-p", "-t", "t",
	    "#{pane_height} #{pane_width}", NULL });
	cr_assert_eq(r.status, 0, "%s", r.err);
	r.out[strcspn(r.out, "\n")] = '\0';
	snprintf(out, len, "%s", r.out);
	run_free(&r);
}

static char *
slurp(const char *path)
{
	FILE *f = fopen(path, "r");
	struct buf b = BUF_INIT;
	char tmp[4096];
	size_t n;

	if (f == NULL)
		return NULL;
	while ((n = fread(tmp, 1, sizeof tmp, f)) > 0)
		buf_append(&b, tmp, n);
	fclose(f);
	return buf_detach(&b);
}

static void
tmux_down(void)
{
	struct run r;

	tmux(&r, (const char *const[]){ "kill-server", NULL });
	run_free(&r);
}

Test(psql, interactive_under_tmux, .timeout = 120, .fini = tmux_down)
{
	char script[4300], dir[4200], path[4300], cmd[32768];
	char *before, *after, *rc, size[64], size2[64];
	FILE *f;
	time_t end;

	snprintf(tmux_sock, sizeof tmux_sock, "nub-e2e-%d", (int)getpid());
	snprintf(dir, sizeof dir, "%s/tmux-psql", need_env("SIM_DIR"));
	mkdir(dir, 0755);
	/* The pane runs this: terminal settings before and after, and our exit code. */
	snprintf(script, sizeof script, "%s/run.sh", dir);
	snprintf(cmd, sizeof cmd,
	    "#!/bin/sh\n"
	    "stty -a > %s/before\n"
	    "'%s' --kubeconfig '%s' psql --db-url '%s'\n"
	    "echo $? > %s/rc.tmp; mv %s/rc.tmp %s/rc\n"
	    "stty -a > %s/after\n"
	    "echo PANE-DONE\n"
	    "sleep 60\n",
	    dir, need_env("NUB_BIN"), sim_path("kubeconfig"), need_env("SIM_DB_URL_NOPW"),
	    dir, dir, dir, dir);
	f = fopen(script, "w");
	cr_assert_not_null(f);
	fputs(cmd, f);
	fclose(f);
	chmod(script, 0755);

	tmux_ok((const char *const[]){ "-f", "/dev/null", "new-session", "-d", "-s", "t", "-x", "120",
	    "-y", "40", script, NULL });
	wait_pane("=>", 30);			/* psql's prompt: nublado=> */

	/* The pod's terminal has our size, and follows a resize (channel 4). */
	type_line("\\! stty size");
	pane_size(size, sizeof size);
	wait_pane(size, 15);
	tmux_ok((const char *const[]){ "resize-window", "-t", "t", "-x", "100", "-y", "30", NULL });
	usleep(300000);
	type_line("\\! stty size");
	pane_size(size2, sizeof size2);
	cr_assert_str_neq(size, size2);
	wait_pane(size2, 15);

	/* A query. */
	type_line("select 'tmux-' || 6*7 as answer;");
	wait_pane("tmux-42", 15);

	/* Ctrl-C reaches psql (it cancels the query) instead of killing us. */
	type_line("select pg_sleep(30);");
	usleep(1500000);
	tmux_ok((const char *const[]){ "send-keys", "-t", "t", "C-c", NULL });
	wait_pane("canceling statement due to user request", 15);
	type_line("select 'still-here';");
	wait_pane("still-here", 15);

	type_line("\\q");
	snprintf(path, sizeof path, "%s/rc", dir);
	end = time(NULL) + 20;
	while ((rc = slurp(path)) == NULL && time(NULL) < end)
		usleep(100000);
	cr_assert_not_null(rc, "psql did not exit");
	cr_assert_str_eq(rc, "0\n");
	wait_pane("PANE-DONE", 10);
	snprintf(path, sizeof path, "%s/before", dir);
	before = slurp(path);
	snprintf(path, sizeof path, "%s/after", dir);
	after = slurp(path);
	cr_assert_not_null(before);
	cr_assert_not_null(after);
	/* The window size changed in between; the settings must not have. */
	cr_assert_str_eq(strchr(after, '\n'), strchr(before, '\n'),
	    "terminal not restored:\nbefore: %s\nafter: %s", before, after);
	free(before);
	free(after);
	free(rc);
}

/* The longest request path in a cluster's API log (the third field of each line). */
static size_t
longest_request(const struct sim *s, char *which, size_t wlen)
{
	char path[700], *line = NULL;
	size_t cap = 0, best = 0;
	FILE *f;

	snprintf(path, sizeof path, "%s/log/apiserver.log", s->dir);
	f = fopen(path, "r");
	cr_assert_not_null(f, "%s", path);
	while (getline(&line, &cap, f) > 0) {
		char *sp1 = strchr(line, ' '), *sp2 = sp1 ? strchr(sp1 + 1, ' ') : NULL;
		size_t n = sp2 ? strcspn(sp2 + 1, " ") : 0;

		if (n > best) {
			best = n;
			snprintf(which, wlen, "%.*s", (int)(n < 200 ? n : 200), sp2 + 1);
		}
	}
	free(line);
	fclose(f);
	return best;
}

/*
 * Access proxies and GKE's DNS endpoint cap URLs far below the check's 23 KB
 * of SQL: no request over 8 KB, with either exec protocol (v4 cannot close
 * stdin, so the pod reads a stated length), for the whole wipe and psql -f.
 */
Test(exec, no_request_url_over_8k_on_v5_or_v4, .timeout = 300)
{
	for (int proto = 0; proto < 2; proto++) {
		struct sim s;
		struct run r;
		char path[700], which[256];
		size_t longest;
		FILE *f;

		sim_start(&s, proto ? "--faults exec-proto=v4" : NULL);
		sim_nub(&s, &r, "wipe-db", "-y", NULL);
		cr_assert_eq(r.status, 0, "%s: %s\n%s", proto ? "v4" : "v5", r.out, r.err);
		run_free(&r);
		snprintf(path, sizeof path, "%s/script.sql", s.dir);
		f = fopen(path, "w");
		cr_assert_not_null(f);
		for (int i = 0; i < 600; i++)
			fprintf(f, "select %d as n; -- padding padding padding padding\n", i);
		fclose(f);
		sim_nub(&s, &r, "psql", "-f", path, "--", "-A", "-t", NULL);
		cr_assert_eq(r.status, 0, "%s", r.err);
		cr_assert(strstr(r.out, "\n599\n") != NULL, "%.80s", r.out);
		run_free(&r);
		longest = longest_request(&s, which, sizeof which);
		cr_assert_lt(longest, 8192, "%s: a request of %zu bytes: %s...",
		    proto ? "v4" : "v5", longest, which);
		sim_stop(&s);
	}
}
