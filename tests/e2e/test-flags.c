/* test-flags.c: kubectl's config flags (--as, --server, --token, ...) against the test cluster */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <criterion/criterion.h>

#include "e2e.h"

/* The API server's log lines (method path status ms user= ua=) that contain `what'. */
static int
log_lines_with(const char *what, const char *user)
{
	char line[8192], want_user[256];
	int n = 0;
	FILE *f = fopen(sim_path("log/apiserver.log"), "r");

	cr_assert_not_null(f, "no apiserver.log");
	snprintf(want_user, sizeof want_user, " user=%s ", user);
	while (fgets(line, sizeof line, f) != NULL)
		if (strstr(line, what) != NULL && strstr(line, want_user) != NULL)
			n++;
	fclose(f);
	return n;
}

/* --as and --as-group reach every REST request and the exec upgrade (psql runs over exec). */
Test(flags, as_reaches_rest_and_exec)
{
	struct run r;

	run_nub(&r, "--kubeconfig", sim_path("kubeconfig"), "--context", "sim",
	    "--as", "e2e-flags-as", "--as-group", "system:masters", "--as-group", "extra",
	    "psql", "-c", "select 1", NULL);
	cr_assert_eq(r.status, 0, "exit %d:\n%s", r.status, r.err);
	run_free(&r);
	cr_assert_gt(log_lines_with("GET /api/v1/namespaces/nublado/pods", "e2e-flags-as"), 0,
	    "the pod lookup was not made as the impersonated user");
	/* The server logs an exec when its session has ended: give it a moment. */
	for (int i = 0; i < 40 && log_lines_with("/exec?", "e2e-flags-as") == 0; i++)
		usleep(50 * 1000);
	cr_assert_gt(log_lines_with("/exec?", "e2e-flags-as"), 0,
	    "the exec upgrade was not made as the impersonated user");
}

/* The read-only user may not impersonate: the server's 403 comes through. */
Test(flags, as_forbidden_for_readonly)
{
	struct run r;

	run_nub(&r, "--kubeconfig", sim_path("kubeconfig"), "--context", "sim-readonly",
	    "--as", "someone", "status", NULL);
	cr_assert_neq(r.status, 0);
	cr_assert(strstr(r.err, "impersonate") != NULL, "%s", r.err);
	run_free(&r);
}

/* kubectl's validation: groups without a user to impersonate are refused before any request. */
Test(flags, as_group_without_as)
{
	struct run r;

	run_nub(&r, "--kubeconfig", sim_path("kubeconfig"), "--as-group", "g", "version", NULL);
	cr_assert_neq(r.status, 0);
	cr_assert(strstr(r.err, "without impersonating a user") != NULL, "%s", r.err);
	run_free(&r);
}

/* No kubeconfig at all: --server, --certificate-authority and --token are enough. */
Test(flags, server_ca_token_without_kubeconfig)
{
	struct run r;

	run_nub(&r, "--kubeconfig", "/dev/null", "-s", need_env("SIM_SERVER"),
	    "--certificate-authority", need_env("SIM_CA"), "--token", need_env("SIM_TOKEN"),
	    "version", NULL);
	cr_assert_eq(r.status, 0, "exit %d:\n%s", r.status, r.err);
	cr_assert(strstr(r.out, "Server Version: v1.32.") != NULL, "%s", r.out);
	run_free(&r);
}

/* --certificate-authority replaces the kubeconfig's CA; --insecure-skip-tls-verify drops it. */
Test(flags, certificate_authority_and_insecure)
{
	struct run r;

	run_nub(&r, "--kubeconfig", sim_path("kubeconfig"), "--context", "sim-token",
	    "--certificate-authority", need_env("SIM_WRONG_CA"), "version", NULL);
	cr_assert_eq(r.status, 1, "exit %d:\n%s", r.status, r.err);
	cr_assert(strstr(r.err, "could not be verified") != NULL, "%s", r.err);
	run_free(&r);
	run_nub(&r, "--kubeconfig", sim_path("kubeconfig"), "--context", "sim-token",
	    "--insecure-skip-tls-verify", "version", NULL);
	cr_assert_eq(r.status, 0, "exit %d:\n%s", r.status, r.err);
	run_free(&r);
	run_nub(&r, "--kubeconfig", sim_path("kubeconfig"), "--insecure-skip-tls-verify",
	    "--certificate-authority", need_env("SIM_CA"), "version", NULL);
	cr_assert_neq(r.status, 0);
	cr_assert(strstr(r.err, "insecure flag is not allowed") != NULL, "%s", r.err);
	run_free(&r);
}

/* --user picks another kubeconfig user; after kill-labs, --user is that command's own. */
Test(flags, user_and_cluster)
{
	struct run r;

	run_nub(&r, "--kubeconfig", sim_path("kubeconfig"), "--context", "sim",
	    "--user", "sim-readonly", "--cluster", "sim", "kill-labs", "--dry-run", "-y", NULL);
	/* the read-only user may list but not delete: the dry run's delete is refused */
	cr_assert_neq(r.status, 0, "%s", r.out);
	cr_assert(strstr(r.err, "forbidden") != NULL || strstr(r.err, "Forbidden") != NULL,
	    "%s", r.err);
	run_free(&r);
	run_nub(&r, "--kubeconfig", sim_path("kubeconfig"), "--user", "nope", "version", NULL);
	cr_assert_neq(r.status, 0);
	cr_assert(strstr(r.err, "user 'nope' (--user) is not defined") != NULL, "%s", r.err);
	run_free(&r);
	run_nub(&r, "--kubeconfig", sim_path("kubeconfig"), "kill-labs", "--user", "nosuchuser",
	    "--dry-run", NULL);
	cr_assert(strstr(r.err, "(--user) is not defined") == NULL,
	    "kill-labs --user is the lab user: %s", r.err);
	run_free(&r);
}

/* Accepted as kubectl does; nothing to do with them here. */
Test(flags, cache_dir_and_disable_compression_accepted)
{
	struct run r;

	run_nub(&r, "--kubeconfig", sim_path("kubeconfig"), "--cache-dir", "/nonexistent",
	    "--disable-compression", "version", NULL);
	cr_assert_eq(r.status, 0, "exit %d:\n%s", r.status, r.err);
	run_free(&r);
}

/*
 * tls-server-name (here the flag) is for SNI and the certificate check only: every
 * request, the exec upgrade too, still says Host: <the server's address>.
 */
Test(flags, tls_server_name_keeps_host)
{
	struct run r;
	const char *server = need_env("SIM_SERVER");
	char want[256];

	snprintf(want, sizeof want, "Host: %s", server + strlen("https://"));
	run_nub(&r, "--kubeconfig", sim_path("kubeconfig"), "--context", "sim-token",
	    "--tls-server-name", "kubernetes.default", "-vvv", "psql", "-c", "select 1", NULL);
	cr_assert_eq(r.status, 0, "exit %d:\n%s", r.status, r.err);
	cr_assert(strstr(r.err, "Upgrade: websocket") != NULL, "no exec headers at -vvv:\n%s",
	    r.err);
	cr_assert(strstr(r.err, want) != NULL, "no '%s':\n%s", want, r.err);
	cr_assert(strstr(r.err, "Host: kubernetes.default") == NULL, "%s", r.err);
	run_free(&r);

	/* a name the certificate does not have: the hint is about the name, not the CA */
	run_nub(&r, "--kubeconfig", sim_path("kubeconfig"), "--context", "sim-token",
	    "--tls-server-name", "wrong.example", "version", NULL);
	cr_assert_eq(r.status, 1, "exit %d:\n%s", r.status, r.err);
	cr_assert(strstr(r.err, "tls-server-name") != NULL, "%s", r.err);
	cr_assert(strstr(r.err, "certificate-authority") == NULL, "%s", r.err);
	run_free(&r);
}
