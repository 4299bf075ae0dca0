/* e2e.c: process helpers for the end-to-end tests */
#include <errno.h>
#include <fcntl.h>
#include <glob.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <criterion/criterion.h>

#include "e2e.h"

const char *
need_env(const char *name)
{
	const char *v = getenv(name);

	if (v == NULL || *v == '\0')
		cr_assert_fail("environment variable %s is not set: run the e2e tests through tests/e2e/run", name);
	return v;
}

const char *
sim_path(const char *rel)
{
	static char path[4096];

	snprintf(path, sizeof path, "%s/%s", need_env("SIM_DIR"), rel);
	return path;
}

static void
append(char **buf, size_t *len, const char *p, size_t n)
{
	*buf = realloc(*buf, *len + n + 1);
	memcpy(*buf + *len, p, n);
	*len += n;
	(*buf)[*len] = '\0';
}

static void run_argv_sig(struct run *r, char *const argv[], const char *input,
    int timeout_s, int after_ms, int sig, const char *when_seen);

void
run_argv(struct run *r, char *const argv[], const char *input, int timeout_s)
{
	run_argv_sig(r, argv, input, timeout_s, 0, 0, NULL);
}

static long long
mono_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/*
 * With sig: send it after_ms milliseconds in, or (when_seen != NULL) as soon
 * as the child's stderr shows that text.
 */
static void
run_argv_sig(struct run *r, char *const argv[], const char *input, int timeout_s,
    int after_ms, int sig, const char *when_seen)
{
	long long sig_at = after_ms > 0 ? mono_ms() + after_ms : 0;
	int in[2], out[2], err[2];
	pid_t pid;
	size_t in_off = 0, in_len = input ? strlen(input) : 0;
	time_t end = time(NULL) + timeout_s;
	int st;

	memset(r, 0, sizeof *r);
	r->out = calloc(1, 1);
	r->err = calloc(1, 1);
	if (pipe(in) < 0 || pipe(out) < 0 || pipe(err) < 0)
		cr_assert_fail("pipe: %s", strerror(errno));
	pid = fork();
	if (pid == 0) {
		dup2(in[0], 0);
		dup2(out[1], 1);
		dup2(err[1], 2);
		close(in[0]); close(in[1]); close(out[0]); close(out[1]);
		close(err[0]); close(err[1]);
		setpgid(0, 0);
		execvp(argv[0], argv);
		fprintf(stderr, "exec %s: %s\n", argv[0], strerror(errno));
		_exit(127);
	}
	close(in[0]);
	close(out[1]);
	close(err[1]);
	if (in_len == 0) {
		close(in[1]);
		in[1] = -1;
	} else {
		fcntl(in[1], F_SETFL, O_NONBLOCK);
	}
	for (int open_fds = 2; open_fds > 0;) {
		struct pollfd p[3] = { { out[0], POLLIN, 0 }, { err[0], POLLIN, 0 },
		    { in[1], POLLOUT, 0 } };
		char buf[65536];

		if (time(NULL) > end) {
			kill(-pid, SIGKILL);
			waitpid(pid, &st, 0);
			cr_assert_fail("'%s' did not finish in %d s; stderr so far:\n%s", argv[0],
			    timeout_s, r->err);
		}
		if (sig_at != 0 && mono_ms() >= sig_at) {
			kill(pid, sig);
			sig_at = 0;
		}
		if (when_seen != NULL && strstr(r->err, when_seen) != NULL) {
			kill(pid, sig);
			when_seen = NULL;
		}
		if (poll(p, in[1] >= 0 ? 3 : 2, sig_at ? 20 : 500) < 0 && errno != EINTR)
			cr_assert_fail("poll: %s", strerror(errno));
		for (int i = 0; i < 2; i++) {
			if (p[i].fd < 0 || !(p[i].revents & (POLLIN | POLLHUP)))
				continue;
			ssize_t n = read(p[i].fd, buf, sizeof buf);

			if (n <= 0) {
				close(p[i].fd);
				if (i == 0)
					out[0] = -1;
				else
					err[0] = -1;
				open_fds--;
			} else if (i == 0) {
				append(&r->out, &r->out_len, buf, (size_t)n);
			} else {
				append(&r->err, &r->err_len, buf, (size_t)n);
			}
		}
		if (in[1] >= 0 && (p[2].revents & (POLLOUT | POLLERR | POLLHUP))) {
			ssize_t n = write(in[1], input + in_off, in_len - in_off);

			if (n > 0)
				in_off += (size_t)n;
			if (n < 0 || in_off == in_len) {
				close(in[1]);
				in[1] = -1;
			}
		}
	}
	if (in[1] >= 0)
		close(in[1]);
	waitpid(pid, &st, 0);
	r->status = WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
}

void
run_nub(struct run *r, const char *arg, ...)
{
	char *argv[64];
	int n = 0;
	va_list ap;

	argv[n++] = (char *)need_env("NUB_BIN");
	va_start(ap, arg);
	for (const char *a = arg; a != NULL && n < 63; a = va_arg(ap, const char *))
		argv[n++] = (char *)a;
	va_end(ap);
	argv[n] = NULL;
	run_argv(r, argv, NULL, 120);
}

void
run_sh(struct run *r, const char *cmdline)
{
	char *argv[] = { "sh", "-c", (char *)cmdline, NULL };

	run_argv(r, argv, NULL, 300);
}

void
run_free(struct run *r)
{
	free(r->out);
	free(r->err);
	memset(r, 0, sizeof *r);
}

static const char *
cluster_cli(void)
{
	const char *c = getenv("SIM_CLUSTER");

	return c != NULL ? c : "tests/cluster/cluster";
}

char *
sim_state(void)
{
	char *argv[] = { (char *)cluster_cli(), "state", (char *)need_env("SIM_DIR"), NULL };
	struct run r;
	char *s;

	run_argv(&r, argv, NULL, 60);
	cr_assert_eq(r.status, 0, "cluster state failed: %s", r.err);
	s = r.out;
	r.out = NULL;
	run_free(&r);
	return s;
}

void
sim_faults(const char *spec)
{
	char *argv[] = { (char *)cluster_cli(), "faults", (char *)need_env("SIM_DIR"),
	    (char *)spec, NULL };
	struct run r;

	run_argv(&r, argv, NULL, 60);
	cr_assert_eq(r.status, 0, "cluster faults %s failed: %s", spec, r.err);
	run_free(&r);
}

void
sim_start(struct sim *s, const char *args)
{
	char cmd[2048], line[1200];
	struct run r;
	FILE *f;

	memset(s, 0, sizeof *s);
	/* Under the harness's directory, so it can stop what a failed test left running. */
	snprintf(s->dir, sizeof s->dir, "%s/nub-sim.XXXXXX",
	    getenv("NUB_E2E_TMP") ? getenv("NUB_E2E_TMP") : "/tmp");
	cr_assert_not_null(mkdtemp(s->dir));
	chmod(s->dir, 0755);
	snprintf(s->kubeconfig, sizeof s->kubeconfig, "%s/kubeconfig", s->dir);
	snprintf(cmd, sizeof cmd, "%s up %s --labs 5 %s >%s/up.log 2>&1 || { cat %s/up.log; exit 1; }",
	    cluster_cli(), s->dir, args ? args : "", s->dir, s->dir);
	run_sh(&r, cmd);
	cr_assert_eq(r.status, 0, "cluster up failed:\n%s%s", r.out, r.err);
	run_free(&r);
	snprintf(line, sizeof line, "%s/env", s->dir);
	f = fopen(line, "r");
	cr_assert_not_null(f);
	while (fgets(line, sizeof line, f) && s->nenv < 64) {
		char *eq, *name = line;

		line[strcspn(line, "\n")] = '\0';
		if (strncmp(name, "export ", 7) == 0)
			name += 7;
		if ((eq = strchr(name, '=')) == NULL)
			continue;
		*eq = '\0';
		snprintf(s->env[s->nenv][0], 512, "%.500s", name);
		snprintf(s->env[s->nenv][1], 512, "%.500s", eq + 1);
		s->nenv++;
	}
	fclose(f);
}

void
sim_stop(struct sim *s)
{
	char cmd[2048];
	struct run r;

	if (s->dir[0] == '\0')
		return;
	snprintf(cmd, sizeof cmd, "%s down %s >/dev/null 2>&1; rm -rf %s", cluster_cli(),
	    s->dir, s->dir);
	run_sh(&r, cmd);
	run_free(&r);
	s->dir[0] = '\0';
}

const char *
sim_get(const struct sim *s, const char *name)
{
	for (int i = 0; i < s->nenv; i++)
		if (strcmp(s->env[i][0], name) == 0)
			return s->env[i][1];
	cr_assert_fail("%s is not in %s/env", name, s->dir);
	return NULL;
}

char *
sim_state_of(const struct sim *s)
{
	char *argv[] = { (char *)cluster_cli(), "state", (char *)s->dir, NULL };
	struct run r;
	char *out;

	run_argv(&r, argv, NULL, 60);
	cr_assert_eq(r.status, 0, "cluster state failed: %s", r.err);
	out = r.out;
	r.out = NULL;
	run_free(&r);
	return out;
}

void
sim_kubectl(const struct sim *s, struct run *r, const char *args)
{
	char cmd[4096];

	snprintf(cmd, sizeof cmd, "%s kubectl %s -- %s", cluster_cli(), s->dir, args);
	run_sh(r, cmd);
}

/* argv for $NUB_BIN against s, XDG_STATE_HOME set to its state dir. */
static void
sim_argv(const struct sim *s, char **argv, const char *arg, va_list ap)
{
	char state[600];
	int n = 0;

	snprintf(state, sizeof state, "%s/state", s->dir);
	setenv("XDG_STATE_HOME", state, 1);
	argv[n++] = (char *)need_env("NUB_BIN");
	argv[n++] = "--kubeconfig";
	argv[n++] = (char *)s->kubeconfig;
	for (const char *a = arg; a != NULL && n < 63; a = va_arg(ap, const char *))
		argv[n++] = (char *)a;
	argv[n] = NULL;
}

static void
vsim_nub(const struct sim *s, struct run *r, const char *input, const char *arg, va_list ap)
{
	char *argv[64];

	sim_argv(s, argv, arg, ap);
	run_argv(r, argv, input, 300);
}

void
sim_nub(const struct sim *s, struct run *r, const char *arg, ...)
{
	va_list ap;

	va_start(ap, arg);
	vsim_nub(s, r, NULL, arg, ap);
	va_end(ap);
}

void
sim_nub_input(const struct sim *s, struct run *r, const char *input, const char *arg, ...)
{
	va_list ap;

	va_start(ap, arg);
	vsim_nub(s, r, input, arg, ap);
	va_end(ap);
}

void
sim_nub_signal(const struct sim *s, struct run *r, int after_ms, int sig, const char *arg, ...)
{
	char *argv[64];
	va_list ap;

	va_start(ap, arg);
	sim_argv(s, argv, arg, ap);
	va_end(ap);
	run_argv_sig(r, argv, NULL, 300, after_ms, sig, NULL);
}

void
sim_nub_signal_on(const struct sim *s, struct run *r, const char *seen, int sig,
    const char *arg, ...)
{
	char *argv[64];
	va_list ap;

	va_start(ap, arg);
	sim_argv(s, argv, arg, ap);
	va_end(ap);
	run_argv_sig(r, argv, NULL, 300, 0, sig, seen);
}

char *
sql_value(const char *url, const char *sql)
{
	char *argv[] = { "psql", "-X", "-A", "-t", "-v", "ON_ERROR_STOP=1", (char *)url, "-c",
	    (char *)sql, NULL };
	struct run r;
	char *v;

	run_argv(&r, argv, NULL, 60);
	cr_assert_eq(r.status, 0, "psql %s: %s", sql, r.err);
	r.out[strcspn(r.out, "\n")] = '\0';
	v = r.out;
	r.out = NULL;
	run_free(&r);
	return v;
}

void
sim_faults_of(const struct sim *s, const char *spec)
{
	char *argv[] = { (char *)cluster_cli(), "faults", (char *)s->dir, (char *)spec, NULL };
	struct run r;

	run_argv(&r, argv, NULL, 60);
	cr_assert_eq(r.status, 0, "cluster faults %s failed: %s", spec, r.err);
	run_free(&r);
}

const char *
sim_state_dir(const struct sim *s, const char *context)
{
	static char path[1024];
	char pattern[900];
	glob_t g;

	snprintf(pattern, sizeof pattern, "%s/state/kubectl-nublado/%s.*", s->dir, context);
	cr_assert_eq(glob(pattern, 0, NULL, &g), 0, "no state directory %s", pattern);
	cr_assert_eq(g.gl_pathc, 1, "%zu state directories %s", g.gl_pathc, pattern);
	snprintf(path, sizeof path, "%s", g.gl_pathv[0]);
	globfree(&g);
	return path;
}

json_object *
json_result(const char *out, const char *command)
{
	json_object *j = json_tokener_parse(out), *v, *res;

	cr_assert_not_null(j, "not JSON: %s", out);
	cr_assert(json_object_object_get_ex(j, "apiVersion", &v), "%s", out);
	cr_assert_str_eq(json_object_get_string(v), "kubectl-nublado/v1");
	cr_assert(json_object_object_get_ex(j, "kind", &v));
	cr_assert_str_eq(json_object_get_string(v), "Result");
	cr_assert(json_object_object_get_ex(j, "command", &v));
	cr_assert_str_eq(json_object_get_string(v), command);
	cr_assert(json_object_object_get_ex(j, "ok", &v) && json_object_get_boolean(v), "%s",
	    out);
	cr_assert(json_object_object_get_ex(j, "result", &res) && res != NULL, "%s", out);
	json_object_get(res);
	json_object_put(j);
	return res;
}

void
sim_wait_hub_unready(const struct sim *s)
{
	struct run r;

	for (int i = 0; i < 50; i++) {
		sim_kubectl(s, &r, "get pods -n nublado -l app=jupyterhub,component=hub "
		    "-o jsonpath={.items[0].status.conditions[?(@.type==\"Ready\")].status}");
		if (strcmp(r.out, "False") == 0) {
			run_free(&r);
			return;
		}
		run_free(&r);
		usleep(100 * 1000);
	}
}
