/* test-version.c: `version' through every kubeconfig context of the test cluster */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <criterion/criterion.h>

#include "../../src/kube/client.h"
#include "../../src/kube/kubeconfig.h"
#include "e2e.h"

static void
version_ok(const char *context)
{
	struct run r;

	run_nub(&r, "--kubeconfig", sim_path("kubeconfig"), "--context", context,
	    "version", NULL);
	cr_assert_eq(r.status, 0, "context %s: exit %d, stderr:\n%s", context, r.status, r.err);
	cr_assert(strstr(r.out, "Client Version: v") != NULL, "%s", r.out);
	cr_assert(strstr(r.out, "Server Version: v1.32.") != NULL, "%s", r.out);
	run_free(&r);
}

Test(version, client_certificate) { version_ok("sim"); }
Test(version, bearer_token) { version_ok("sim-token"); }
Test(version, token_file) { version_ok("sim-tokenfile"); }
Test(version, exec_plugin_v1) { version_ok("sim-exec"); }
Test(version, exec_plugin_v1beta1) { version_ok("sim-exec-beta"); }
Test(version, rbac_limited) { version_ok("sim-readonly"); }

Test(version, kubeconfig_env_and_current_context)
{
	struct run r;

	/* No --kubeconfig, no --context: KUBECONFIG and current-context (sim). */
	setenv("KUBECONFIG", sim_path("kubeconfig"), 1);
	run_nub(&r, "version", "-o", "json", NULL);
	cr_assert_eq(r.status, 0, "%s", r.err);
	json_object *j = json_result(r.out, "version"), *sv, *gv;
	cr_assert(json_object_object_get_ex(j, "serverVersion", &sv));
	cr_assert(json_object_object_get_ex(sv, "gitVersion", &gv));
	cr_assert(strncmp(json_object_get_string(gv), "v1.32.", 6) == 0);
	json_object_put(j);
	run_free(&r);
}

Test(version, client_only_needs_no_cluster)
{
	struct run r;

	run_nub(&r, "--kubeconfig", "/nonexistent", "version", "--client", NULL);
	cr_assert_eq(r.status, 0, "%s", r.err);
	cr_assert(strstr(r.out, "Client Version: v") != NULL);
	cr_assert(strstr(r.out, "Server Version") == NULL);
	run_free(&r);
}

/* A kubeconfig of our own making, pointing at the sim server. */
static char *
write_kubeconfig(const char *name, const char *cluster_extra, const char *user)
{
	char *path;
	FILE *f;

	if (asprintf(&path, "%s/%s", need_env("SIM_DIR"), name) < 0)
		cr_assert_fail("asprintf");
	f = fopen(path, "w");
	cr_assert_not_null(f);
	fprintf(f, "apiVersion: v1\nkind: Config\ncurrent-context: c\n"
	    "clusters:\n- name: k\n  cluster:\n    server: %s\n%s"
	    "users:\n- name: u\n  user:\n%s"
	    "contexts:\n- name: c\n  context:\n    cluster: k\n    user: u\n",
	    need_env("SIM_SERVER"), cluster_extra, user);
	fclose(f);
	return path;
}

Test(version, wrong_ca_is_a_verification_error)
{
	char extra[4096], user[4096];
	struct run r;

	snprintf(extra, sizeof extra, "    certificate-authority: %s\n", sim_path("wrong-ca.crt"));
	snprintf(user, sizeof user, "    token: %s\n", need_env("SIM_TOKEN"));
	char *kc = write_kubeconfig("kc-wrong-ca", extra, user);
	run_nub(&r, "--kubeconfig", kc, "version", NULL);
	cr_assert_eq(r.status, 1, "exit %d: %s", r.status, r.err);
	cr_assert(strstr(r.err, "certificate could not be verified") != NULL, "%s", r.err);
	cr_assert(strstr(r.err, need_env("SIM_TOKEN")) == NULL, "token leaked");
	run_free(&r);
	free(kc);
}

Test(version, expired_token_without_plugin_is_401)
{
	char extra[4096];
	struct run r;

	snprintf(extra, sizeof extra, "    certificate-authority: %s\n", sim_path("ca.crt"));
	char *kc = write_kubeconfig("kc-expired", extra, "    token: expired-or-revoked-token\n");
	run_nub(&r, "--kubeconfig", kc, "version", NULL);
	cr_assert_eq(r.status, 1, "exit %d: %s", r.status, r.err);
	cr_assert(strstr(r.err, "Unauthorized") != NULL, "%s", r.err);
	cr_assert(strstr(r.err, "hint:") != NULL, "%s", r.err);
	cr_assert(strstr(r.err, "expired-or-revoked-token") == NULL, "token leaked");
	run_free(&r);
	free(kc);
}

Test(version, unknown_context_lists_known_ones)
{
	struct run r;

	run_nub(&r, "--kubeconfig", sim_path("kubeconfig"), "--context", "nope", "version", NULL);
	cr_assert_eq(r.status, 1);
	cr_assert(strstr(r.err, "nope") != NULL, "%s", r.err);
	cr_assert(strstr(r.err, "sim-readonly") != NULL, "%s", r.err);
	run_free(&r);
}

Test(version, verbose_logs_requests_never_tokens)
{
	struct run r;

	run_nub(&r, "--kubeconfig", sim_path("kubeconfig"), "--context", "sim-token",
	    "-vvv", "version", NULL);
	cr_assert_eq(r.status, 0, "%s", r.err);
	cr_assert(strstr(r.err, "GET ") != NULL && strstr(r.err, "/version") != NULL, "%s", r.err);
	cr_assert(strstr(r.err, "-> 200") != NULL, "%s", r.err);
	cr_assert(strstr(r.err, need_env("SIM_TOKEN")) == NULL, "token in the log:\n%s", r.err);
	cr_assert(strstr(r.err, "Authorization: <redacted>") != NULL, "%s", r.err);
	run_free(&r);
}

Test(version, no_token_over_plain_http)
{
	char user[4096];
	struct run r;
	char *kc;

	snprintf(user, sizeof user, "    token: %s\n", need_env("SIM_TOKEN"));
	/* Same port, plain http: we must refuse before sending anything. */
	char *srv = strdup(need_env("SIM_SERVER"));
	char *hostport = strstr(srv, "://") + 3;
	char path[4096];
	FILE *f;

	snprintf(path, sizeof path, "%s/kc-http", need_env("SIM_DIR"));
	f = fopen(path, "w");
	fprintf(f, "apiVersion: v1\nkind: Config\ncurrent-context: c\n"
	    "clusters:\n- name: k\n  cluster:\n    server: http://%s\n"
	    "users:\n- name: u\n  user:\n%s"
	    "contexts:\n- name: c\n  context:\n    cluster: k\n    user: u\n", hostport, user);
	fclose(f);
	kc = path;
	run_nub(&r, "--kubeconfig", kc, "version", NULL);
	cr_assert_eq(r.status, 1);
	cr_assert(strstr(r.err, "plain http") != NULL, "%s", r.err);
	run_free(&r);
	free(srv);
}

Test(version, help_through_kubectl_plugin_discovery)
{
	char cmd[8192];
	struct run r;
	char *bin = strdup(need_env("NUB_BIN"));
	char *slash = strrchr(bin, '/');

	*slash = '\0';
	snprintf(cmd, sizeof cmd, "PATH=%s:$PATH /usr/lib/google-cloud-sdk/bin/kubectl.1.32 nublado --help", bin);
	run_sh(&r, cmd);
	cr_assert_eq(r.status, 0, "%s", r.err);
	cr_assert(strstr(r.out, "Usage: kubectl nublado ") != NULL, "%s", r.out);
	cr_assert(strstr(r.out, "wipe-db") != NULL);
	cr_assert(strstr(r.out, "Exit codes:") != NULL);
	run_free(&r);
	free(bin);
}

/* The library itself: a v1beta1 plugin's token expires, and the plugin runs again. */
Test(version, exec_plugin_refresh_after_expiry)
{
	char kcpath[4096];
	struct kcfg_opts o = { .kubeconfig = kcpath, .context = "sim-exec-beta" };
	struct kcfg *cfg;
	struct kube *k;
	struct err e;
	char *v1 = NULL, *v2 = NULL;
	char logpath[4096];
	int before = 0, after = 0;
	char line[512];
	FILE *f;

	err_clear(&e);
	snprintf(kcpath, sizeof kcpath, "%s", sim_path("kubeconfig"));
	snprintf(logpath, sizeof logpath, "%s", sim_path("log/credential.log"));
	if ((f = fopen(logpath, "r")) != NULL) {
		while (fgets(line, sizeof line, f))
			before++;
		fclose(f);
	}
	cr_assert_eq(kcfg_load(&o, &cfg, &e), 0, "%s", e.msg);
	cr_assert_eq(kube_open(cfg, NULL, &k, &e), 0, "%s", e.msg);
	cr_assert_eq(kube_server_version(k, &v1, &e), 0, "%s", e.msg);
	sleep(7);	/* the sim's v1beta1 tokens live about 5 s */
	cr_assert_eq(kube_server_version(k, &v2, &e), 0, "%s", e.msg);
	cr_assert_str_eq(v1, v2);
	f = fopen(logpath, "r");
	cr_assert_not_null(f, "no %s", logpath);
	while (fgets(line, sizeof line, f))
		after++;
	fclose(f);
	cr_assert_geq(after - before, 2, "the plugin ran %d times", after - before);
	free(v1);
	free(v2);
	kube_close(k);
	kcfg_free(cfg);
}

static int
lines_in(const char *path)
{
	char line[512];
	int n = 0;
	FILE *f = fopen(path, "r");

	if (f == NULL)
		return 0;
	while (fgets(line, sizeof line, f))
		n++;
	fclose(f);
	return n;
}

/* Tokens revoked mid-run: the 401 makes the exec plugin run again, the request is retried once. */
Test(version, revoked_token_refreshed_by_the_plugin_and_retried)
{
	struct sim s;
	struct run r;
	char log[700];
	int before;

	sim_start(&s, "--faults revoke-after=3");
	snprintf(log, sizeof log, "%s/log/credential.log", s.dir);
	before = lines_in(log);
	sim_nub(&s, &r, "--context", "sim-exec-beta", "-v=2", "status", "--no-db", NULL);
	cr_assert_eq(r.status, 0, "%s\n%s", r.out, r.err);
	cr_assert(strstr(r.err, "-> 401") != NULL, "no 401 seen:\n%s", r.err);
	cr_assert(strstr(r.out, "Access:    open") != NULL, "%s", r.out);
	cr_assert_eq(lines_in(log) - before, 2, "the plugin should have run twice");
	run_free(&r);
	sim_stop(&s);
}

/* `help [COMMAND]', as git and kubectl have it: the same text as --help, exit 0. */
Test(version, help_command)
{
	struct run r, h;

	run_nub(&r, "help", "wipe-db", NULL);
	cr_assert_eq(r.status, 0, "%s", r.err);
	run_nub(&h, "wipe-db", "--help", NULL);
	cr_assert_str_eq(r.out, h.out);
	cr_assert(strstr(r.out, "Usage:") != NULL, "%s", r.out);
	run_free(&r);
	run_free(&h);
	run_nub(&r, "help", "nope", NULL);
	cr_assert_eq(r.status, 2);
	cr_assert(strstr(r.err, "unknown command 'nope'") != NULL, "%s", r.err);
	run_free(&r);
}
