/* test-badinput.c: bad input gets one clear error, the documented exit code, and changes nothing */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <criterion/criterion.h>

#include "e2e.h"

/*
 * One row of the README's bad-input table: what to write, what to run, the
 * exit code, and what the one error line must say (each `want' a substring).
 * The cluster's state is the same before and after every row.
 */
struct badcase {
	const char *name;
	int exit;			/* 0: 1 or 3 (wipe-db's preflight) */
	const char *want[3];
};

static struct sim sm;
static char *state_before;

static void
setup(void)
{
	sim_start(&sm, "--no-runtime");
	state_before = sim_state_of(&sm);
}

static void
teardown(void)
{
	free(state_before);
	sim_stop(&sm);
}

TestSuite(badinput, .init = setup, .fini = teardown, .timeout = 300);

static const char *
path_in(const char *name)
{
	static char p[4][700];
	static int i;

	i = (i + 1) % 4;
	snprintf(p[i], sizeof p[i], "%s/%s", sm.dir, name);
	return p[i];
}

static void
write_file(const char *path, const char *text)
{
	FILE *f = fopen(path, "w");

	cr_assert_not_null(f, "%s: %s", path, strerror(errno));
	fputs(text, f);
	cr_assert_eq(fclose(f), 0);
}

/* The cluster's kubeconfig with `from' replaced by `to' (the first time). */
static void
kubeconfig_with(const char *path, const char *from, const char *to)
{
	FILE *f = fopen(sm.kubeconfig, "r");
	char buf[65536], *p;
	size_t n;

	cr_assert_not_null(f);
	n = fread(buf, 1, sizeof buf - 1, f);
	fclose(f);
	buf[n] = '\0';
	p = strstr(buf, from);
	cr_assert_not_null(p, "no '%s' in the kubeconfig", from);
	f = fopen(path, "w");
	cr_assert_not_null(f);
	fprintf(f, "%.*s%s%s", (int)(p - buf), buf, to, p + strlen(from));
	fclose(f);
}

/* The cluster's kubeconfig with another server URL. */
static void
kubeconfig_server(const char *path, const char *server)
{
	FILE *f = fopen(sm.kubeconfig, "r");
	char buf[65536], *p, *eol;
	size_t n;

	cr_assert_not_null(f);
	n = fread(buf, 1, sizeof buf - 1, f);
	fclose(f);
	buf[n] = '\0';
	p = strstr(buf, "server: ");
	cr_assert_not_null(p);
	p += strlen("server: ");
	eol = strchr(p, '\n');
	f = fopen(path, "w");
	cr_assert_not_null(f);
	fprintf(f, "%.*s%s%s", (int)(p - buf), buf, server, eol);
	fclose(f);
}

static int
count_lines(const char *text, const char *prefix)
{
	int n = 0;

	for (const char *p = text; p != NULL && *p != '\0'; p = strchr(p, '\n'), p = p ? p + 1 : p)
		n += strncmp(p, prefix, strlen(prefix)) == 0;
	return n;
}

/* Run one case: argv after the binary (NULL-terminated); check it and the cluster. */
static void
check_case(const struct badcase *c, const char *const *args, int max_seconds)
{
	char *argv[40], state[700], *after;
	struct run r;
	time_t t0 = time(NULL);
	int n = 0;

	snprintf(state, sizeof state, "%s/state", sm.dir);
	setenv("XDG_STATE_HOME", state, 1);
	argv[n++] = (char *)need_env("NUB_BIN");
	for (int i = 0; args[i] != NULL && n < 39; i++)
		argv[n++] = (char *)args[i];
	argv[n] = NULL;
	run_argv(&r, argv, NULL, max_seconds + 30);
	if (c->exit != 0)
		cr_assert_eq(r.status, c->exit, "%s: want exit %d, got %d:\n%s", c->name, c->exit,
		    r.status, r.err);
	else
		cr_assert(r.status == 1 || r.status == 3, "%s: want exit 1 or 3, got %d:\n%s",
		    c->name, r.status, r.err);
	cr_assert_eq(count_lines(r.err, "error: "), 1, "%s: want one error line:\n%s", c->name,
	    r.err);
	for (int i = 0; i < 3 && c->want[i] != NULL; i++)
		cr_assert(strstr(r.err, c->want[i]) != NULL, "%s: no '%s' in:\n%s", c->name,
		    c->want[i], r.err);
	cr_assert_leq(time(NULL) - t0, max_seconds, "%s took %lds", c->name,
	    (long)(time(NULL) - t0));
	run_free(&r);
	after = sim_state_of(&sm);
	cr_assert_str_eq(after, state_before, "%s changed the cluster", c->name);
	free(after);
}

#define ARGS(...) ((const char *const[]){ __VA_ARGS__, NULL })

static const char bomb[] =
	"a: &a [\"lol\",\"lol\",\"lol\",\"lol\",\"lol\",\"lol\",\"lol\",\"lol\",\"lol\"]\n"
	"b: &b [*a,*a,*a,*a,*a,*a,*a,*a,*a]\n"
	"c: &c [*b,*b,*b,*b,*b,*b,*b,*b,*b]\n"
	"d: &d [*c,*c,*c,*c,*c,*c,*c,*c,*c]\n"
	"e: &e [*d,*d,*d,*d,*d,*d,*d,*d,*d]\n"
	"f: &f [*e,*e,*e,*e,*e,*e,*e,*e,*e]\n"
	"g: &g [*f,*f,*f,*f,*f,*f,*f,*f,*f]\n"
	"h: &h [*g,*g,*g,*g,*g,*g,*g,*g,*g]\n"
	"i: &i [*h,*h,*h,*h,*h,*h,*h,*h,*h]\n";

static void
write_huge(const char *path, size_t mib)
{
	FILE *f = fopen(path, "w");
	char line[1025];

	cr_assert_not_null(f);
	memset(line, 'x', sizeof line - 1);
	line[0] = '#';
	line[sizeof line - 2] = '\n';
	line[sizeof line - 1] = '\0';
	fputs("apiVersion: v1\nkind: Config\n", f);
	for (size_t i = 0; i < mib * 1024; i++)
		fputs(line, f);
	fclose(f);
}

Test(badinput, kubeconfigs)
{
	const char *k;

	k = path_in("kc-syntax");
	write_file(k, "apiVersion: v1\nclusters:\n- name: x\n  cluster:\n    server: https://a\n"
	    "   bad: [\n");
	check_case(&(struct badcase){ "malformed YAML", 1, { "kc-syntax:6:", "invalid YAML" } },
	    ARGS("--kubeconfig", k, "wipe-db", "-y"), 10);

	k = path_in("kc-types");
	write_file(k, "apiVersion: v1\nkind: Config\nclusters: []\ncontexts: []\n"
	    "current-context: [a]\n");
	check_case(&(struct badcase){ "a list for a string", 1,
	    { "kc-types:5:1:", "current-context: expected a string" } },
	    ARGS("--kubeconfig", k, "wipe-db", "-y"), 10);

	k = path_in("kc-types2");
	write_file(k, "apiVersion: v1\nkind: Config\nclusters: \"oops\"\n");
	check_case(&(struct badcase){ "a string for a list", 1, { "kc-types2:3:" } },
	    ARGS("--kubeconfig", k, "block", "-y"), 10);

	k = path_in("kc-huge");
	write_huge(k, 20);
	check_case(&(struct badcase){ "20 MiB kubeconfig", 1, { "larger than" } },
	    ARGS("--kubeconfig", k, "wipe-db", "-y"), 10);

	k = path_in("kc-bomb");
	write_file(k, "apiVersion: v1\nkind: Config\n");
	{
		FILE *f = fopen(k, "a");

		fputs(bomb, f);
		fputs("clusters: *i\ncontexts: *i\nusers: *i\ncurrent-context: x\n", f);
		fclose(f);
	}
	check_case(&(struct badcase){ "YAML alias bomb", 1, { "kc-bomb:", "expected a mapping" } },
	    ARGS("--kubeconfig", k, "wipe-db", "-y"), 5);

	k = path_in("kc-port");
	kubeconfig_server(k, "https://127.0.0.1:99999");
	check_case(&(struct badcase){ "server URL with a bad port", 1,
	    { "kc-port:", "is not a valid URL" } }, ARGS("--kubeconfig", k, "wipe-db", "-y"), 10);

	k = path_in("kc-ipv6");
	kubeconfig_server(k, "https://[::1:6443");
	check_case(&(struct badcase){ "server URL, broken IPv6", 1, { "kc-ipv6:", "not a valid URL" } },
	    ARGS("--kubeconfig", k, "block", "-y"), 10);

	k = path_in("kc-scheme");
	kubeconfig_server(k, "ftp://127.0.0.1:6443");
	check_case(&(struct badcase){ "server URL, not http(s)", 1,
	    { "kc-scheme:", "is not an http:// or https:// URL" } },
	    ARGS("--kubeconfig", k, "kill-labs", "-y"), 10);

	k = path_in("kc-userinfo");
	kubeconfig_server(k, "https://admin:s3cret-in-url@127.0.0.1:6443");
	check_case(&(struct badcase){ "server URL with user:password@", 1,
	    { "kc-userinfo:", "carries a user name or password" } },
	    ARGS("--kubeconfig", k, "block", "-y"), 10);

	k = path_in("kc-b64");
	kubeconfig_with(k, "certificate-authority-data: \"", "certificate-authority-data: \"!!");
	check_case(&(struct badcase){ "CA data not base64", 1, { "kc-b64:", "invalid base64" } },
	    ARGS("--kubeconfig", k, "wipe-db", "-y"), 10);

	k = path_in("kc-nocluster");
	write_file(k, "apiVersion: v1\nkind: Config\nclusters: []\nusers:\n- name: u\n  user: {}\n"
	    "contexts:\n- name: c\n  context: {cluster: nope, user: u}\ncurrent-context: c\n");
	check_case(&(struct badcase){ "context names a missing cluster", 1,
	    { "kc-nocluster:9:", "not defined" } }, ARGS("--kubeconfig", k, "wipe-db", "-y"), 10);

	check_case(&(struct badcase){ "no such kubeconfig", 1, { "cannot read kubeconfig" } },
	    ARGS("--kubeconfig", path_in("does-not-exist"), "wipe-db", "-y"), 10);

	check_case(&(struct badcase){ "unknown context", 1,
	    { "context 'nope' not found", "known contexts: sim, sim-exec" } },
	    ARGS("--kubeconfig", sm.kubeconfig, "--context", "nope", "wipe-db", "-y"), 10);
}

Test(badinput, options)
{
	check_case(&(struct badcase){ "--timeout nonsense", 2, { "invalid --timeout 'nonsense'" } },
	    ARGS("--kubeconfig", sm.kubeconfig, "wipe-db", "-y", "--timeout", "nonsense"), 10);
	check_case(&(struct badcase){ "unknown option", 2, { "unknown option '--frobnicate'" } },
	    ARGS("--kubeconfig", sm.kubeconfig, "wipe-db", "-y", "--frobnicate"), 10);
	check_case(&(struct badcase){ "--parallel 0", 2, { "invalid --parallel '0'" } },
	    ARGS("--kubeconfig", sm.kubeconfig, "kill-labs", "-y", "--parallel", "0"), 10);
	check_case(&(struct badcase){ "--request-timeout nonsense", 2, { "request-timeout" } },
	    ARGS("--kubeconfig", sm.kubeconfig, "--request-timeout", "soon", "block", "-y"), 10);
	check_case(&(struct badcase){ "--db-url not a URL", 2, { "'not a url' is not a database URL" } },
	    ARGS("--kubeconfig", sm.kubeconfig, "wipe-db", "-y", "--db-url", "not a url"), 10);
	check_case(&(struct badcase){ "--db-url MySQL", 2, { "MySQL", "not PostgreSQL" } },
	    ARGS("--kubeconfig", sm.kubeconfig, "wipe-db", "-y", "--db-url", "mysql://a@b/c"), 10);
	check_case(&(struct badcase){ "--db-url bad port", 2,
	    { "port 'port' is not a number", "u:***@h" } },
	    ARGS("--kubeconfig", sm.kubeconfig, "wipe-db", "-y", "--db-url",
	    "postgresql://u:secret@h:port/db"), 10);
	check_case(&(struct badcase){ "--server not http(s)", 2,
	    { "--server: 'ftp://h' is not an http:// or https:// URL" } },
	    ARGS("--kubeconfig", sm.kubeconfig, "--server", "ftp://h", "status"), 10);
	check_case(&(struct badcase){ "--as-group without --as", 0,
	    { "without impersonating a user" } },
	    ARGS("--kubeconfig", sm.kubeconfig, "--as-group", "system:masters", "wipe-db", "-y"),
	    10);
	check_case(&(struct badcase){ "destructive command abbreviated", 2,
	    { "'wipe-d' is not a command", "must be typed in full ('wipe-db')" } },
	    ARGS("--kubeconfig", sm.kubeconfig, "wipe-d", "-y"), 10);
	check_case(&(struct badcase){ "typo in a command", 2,
	    { "unknown command 'statsu'", "most similar command", "status" } },
	    ARGS("--kubeconfig", sm.kubeconfig, "statsu"), 10);
	check_case(&(struct badcase){ "unknown command before an unknown option", 2,
	    { "unknown command 'frob'" } },
	    ARGS("--kubeconfig", sm.kubeconfig, "frob", "--frobnicate"), 10);
	check_case(&(struct badcase){ "psql --db-url bad port", 2, { "port '99999' is not a number" } },
	    ARGS("--kubeconfig", sm.kubeconfig, "psql", "--db-url", "postgresql://u@h:99999/db",
	    "-c", "select 1"), 10);
}

/* A copy of the cluster's Phalanx tree with values-sim.yaml replaced. */
static const char *
phalanx_with(const char *name, const char *values_sim)
{
	const char *dir = path_in(name);
	char cmd[2048], file[1024];
	struct run r;

	snprintf(cmd, sizeof cmd, "rm -rf %s && cp -r %s %s", dir, sim_get(&sm, "SIM_PHALANX"), dir);
	run_sh(&r, cmd);
	cr_assert_eq(r.status, 0, "%s", r.err);
	run_free(&r);
	snprintf(file, sizeof file, "%s/applications/nublado/values-sim.yaml", dir);
	if (values_sim != NULL)
		write_file(file, values_sim);
	return dir;
}

Test(badinput, values_files)
{
	const char *p;
	char file[1024];

	p = phalanx_with("ph-syntax", "jupyterhub:\n  hub:\n    db:\n      url: \"postgresql://a@b/c\n");
	check_case(&(struct badcase){ "values: malformed YAML", 1,
	    { "values-sim.yaml:4:", "invalid YAML" } },
	    ARGS("--kubeconfig", sm.kubeconfig, "db-url", "--phalanx", p, "--env", "sim"), 10);

	p = phalanx_with("ph-type", "jupyterhub:\n  hub:\n    db:\n      url: [1, 2]\n");
	check_case(&(struct badcase){ "values: a list for the URL", 1,
	    { "values-sim.yaml:4:", "expected a string" } },
	    ARGS("--kubeconfig", sm.kubeconfig, "db-url", "--phalanx", p, "--env", "sim"), 10);

	p = phalanx_with("ph-type2", "jupyterhub:\n  hub: \"oops\"\n");
	check_case(&(struct badcase){ "values: a string for a mapping", 1,
	    { "values-sim.yaml:2:", "expected a mapping" } },
	    ARGS("--kubeconfig", sm.kubeconfig, "db-url", "--phalanx", p, "--env", "sim"), 10);

	p = phalanx_with("ph-missing", "jupyterhub:\n  hub:\n    db: {}\n");
	snprintf(file, sizeof file, "%s/applications/nublado/values.yaml", p);
	write_file(file, "controller: {}\n");
	check_case(&(struct badcase){ "values: no jupyterhub.hub.db.url", 1,
	    { "sets jupyterhub.hub.db.url" } },
	    ARGS("--kubeconfig", sm.kubeconfig, "db-url", "--phalanx", p, "--env", "sim"), 10);

	p = phalanx_with("ph-huge", NULL);
	snprintf(file, sizeof file, "%s/applications/nublado/values-sim.yaml", p);
	write_huge(file, 20);
	check_case(&(struct badcase){ "values: 20 MiB", 1, { "larger than" } },
	    ARGS("--kubeconfig", sm.kubeconfig, "db-url", "--phalanx", p, "--env", "sim"), 10);

	p = phalanx_with("ph-bomb", NULL);
	snprintf(file, sizeof file, "%s/applications/nublado/values-sim.yaml", p);
	write_file(file, bomb);
	{
		FILE *f = fopen(file, "a");

		fputs("jupyterhub: *i\n", f);
		fclose(f);
	}
	check_case(&(struct badcase){ "values: YAML alias bomb", 1,
	    { "values-sim.yaml:10:", "expected a mapping" } },
	    ARGS("--kubeconfig", sm.kubeconfig, "db-url", "--phalanx", p, "--env", "sim"), 5);

	p = phalanx_with("ph-mysql", "jupyterhub:\n  hub:\n    db:\n      url: mysql://a@b/c\n");
	check_case(&(struct badcase){ "values: not PostgreSQL", 1, { "values-sim.yaml:4:", "MySQL" } },
	    ARGS("--kubeconfig", sm.kubeconfig, "db-url", "--phalanx", p, "--env", "sim"), 10);

	check_case(&(struct badcase){ "values: unknown environment", 1,
	    { "values-nope.yaml does not exist", "environments: sim" } },
	    ARGS("--kubeconfig", sm.kubeconfig, "db-url", "--phalanx", sim_get(&sm, "SIM_PHALANX"),
	    "--env", "nope"), 10);

	check_case(&(struct badcase){ "values: not a Phalanx checkout", 1,
	    { "is not a Phalanx checkout" } },
	    ARGS("--kubeconfig", sm.kubeconfig, "db-url", "--phalanx", path_in("nowhere"),
	    "--env", "sim"), 10);
}

/*
 * An HTTPS server (the cluster's certificate) that answers every request with
 * this status and an HTML body, as a proxy in front of an API server may.
 */
static const char html_server[] =
	"import http.server, ssl, sys\n"
	"class H(http.server.BaseHTTPRequestHandler):\n"
	"    def any(self):\n"
	"        b = b'<html><body><h1>Bad Gateway</h1><hr>nginx</body></html>\\n'\n"
	"        self.send_response(int(sys.argv[3]))\n"
	"        self.send_header('Content-Type', 'text/html')\n"
	"        self.send_header('Content-Length', str(len(b)))\n"
	"        self.end_headers()\n"
	"        self.wfile.write(b)\n"
	"    do_GET = do_POST = do_PATCH = do_DELETE = do_PUT = any\n"
	"    def log_message(self, *a): pass\n"
	"s = http.server.ThreadingHTTPServer(('127.0.0.1', 0), H)\n"
	"c = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)\n"
	"c.load_cert_chain(sys.argv[1], sys.argv[2])\n"
	"s.socket = c.wrap_socket(s.socket, server_side=True)\n"
	"print(s.server_address[1], flush=True)\n"
	"s.serve_forever()\n";

static pid_t
html_start(int status, int *port)
{
	char cert[700], key[700], code[8], line[32];
	int p[2];
	pid_t pid;
	FILE *f;

	snprintf(cert, sizeof cert, "%s/pki/server.crt", sm.dir);
	snprintf(key, sizeof key, "%s/pki/server.key", sm.dir);
	snprintf(code, sizeof code, "%d", status);
	cr_assert_eq(pipe(p), 0);
	pid = fork();
	if (pid == 0) {
		dup2(p[1], 1);
		close(p[0]);
		close(p[1]);
		/* A failed assertion ends the test's process: this one goes with it. */
		prctl(PR_SET_PDEATHSIG, SIGKILL);
		execl("/usr/bin/python3", "python3", "-c", html_server, cert, key, code, (char *)NULL);
		_exit(127);
	}
	close(p[1]);
	f = fdopen(p[0], "r");
	cr_assert_not_null(fgets(line, sizeof line, f), "the HTML server did not start");
	fclose(f);
	*port = atoi(line);
	cr_assert_gt(*port, 0);
	return pid;
}

static void
html_stop(pid_t pid)
{
	kill(pid, SIGTERM);
	waitpid(pid, NULL, 0);
}

Test(badinput, a_status_body_that_is_not_json)
{
	char to[64];
	const char *k = path_in("kc-html");

	int port;
	pid_t pid;

	/* 403 from a proxy: not retried, said at once. */
	pid = html_start(403, &port);
	snprintf(to, sizeof to, "https://127.0.0.1:%d", port);
	kubeconfig_server(k, to);
	check_case(&(struct badcase){ "HTML 403", 1, { "403", "Bad Gateway" } },
	    ARGS("--kubeconfig", k, "block", "-y"), 10);
	check_case(&(struct badcase){ "HTML 403 (wipe-db)", 0, { "preflight: ", "403" } },
	    ARGS("--kubeconfig", k, "wipe-db", "-y"), 10);
	html_stop(pid);
	/* 500: retried with backoff (about 20 s), then said. */
	pid = html_start(500, &port);
	snprintf(to, sizeof to, "https://127.0.0.1:%d", port);
	kubeconfig_server(k, to);
	check_case(&(struct badcase){ "HTML 500", 1, { "500 Internal Server Error", "Bad Gateway",
	    "after 10 attempts" } }, ARGS("--kubeconfig", k, "kill-labs", "-y"), 90);
	html_stop(pid);
}
