/* e2e.c: process helpers for the end-to-end tests */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
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

void
run_argv(struct run *r, char *const argv[], const char *input, int timeout_s)
{
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
		if (poll(p, in[1] >= 0 ? 3 : 2, 500) < 0 && errno != EINTR)
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
