/* test-sickhub.c: a crash-looping hub: psql and the backup in a temporary pod, always deleted */
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <criterion/criterion.h>

#include "e2e.h"

#define TEMP_SELECTOR "app.kubernetes.io/managed-by=kubectl-nublado"

/* Names of the pods with these labels in nublado (kubectl -o name), caller frees. */
static char *
pods(const struct sim *s, const char *selector)
{
	struct run r;
	char args[512];
	char *out;

	snprintf(args, sizeof args, "get pods -n nublado -l %s -o name", selector);
	sim_kubectl(s, &r, args);
	cr_assert_eq(r.status, 0, "kubectl get pods: %s", r.err);
	out = r.out;
	r.out = NULL;
	run_free(&r);
	return out;
}

/* The temporary pod is gone (the sim removes a deleted pod within a second). */
static void
no_temporary_pod_left(const struct sim *s)
{
	char *left = NULL;

	for (int i = 0; i < 40; i++) {
		free(left);
		left = pods(s, TEMP_SELECTOR);
		if (left[0] == '\0')
			break;
		usleep(100 * 1000);
	}
	cr_assert_str_eq(left, "", "a temporary pod was left behind: %s", left);
	free(left);
}

static void
crash_looping(const struct sim *s)
{
	struct run r;

	for (int i = 0; i < 50; i++) {
		sim_kubectl(s, &r, "get pods -n nublado -l app=jupyterhub,component=hub "
		    "-o jsonpath='{.items[*].status.containerStatuses[*].state.waiting.reason}'");
		if (strstr(r.out, "CrashLoopBackOff") != NULL) {
			run_free(&r);
			return;
		}
		run_free(&r);
		usleep(100 * 1000);
	}
	cr_assert_fail("the hub never crash-looped");
}

/*
 * Watch the pods a selector picks, in the background, into DIR/watch-NAME
 * (kubectl get -w -o name); returns once the watch has listed.
 */
static void
watch_start(const struct sim *s, const char *name, const char *selector)
{
	char cmd[4096], file[700];
	struct run r;

	snprintf(file, sizeof file, "%s/watch-%s", s->dir, name);
	snprintf(cmd, sizeof cmd, "KUBECONFIG='%s' timeout 120 kubectl get pods -n nublado "
	    "-l '%s' -w -o name </dev/null >'%s' 2>&1 & echo $! >'%s.pid'", s->kubeconfig,
	    selector, file, file);
	run_sh(&r, cmd);
	run_free(&r);
	for (int i = 0; i < 100; i++) {
		FILE *f = fopen(file, "r");
		char line[256] = "";

		if (f != NULL) {
			if (fgets(line, sizeof line, f) == NULL)
				line[0] = '\0';
			fclose(f);
		}
		if (strstr(line, "pod/") != NULL)
			return;
		usleep(100 * 1000);
	}
	cr_assert_fail("the watch %s never listed", selector);
}

/* Stop the watch and return what it saw (caller frees). */
static char *
watch_stop(const struct sim *s, const char *name)
{
	char cmd[1600];
	struct run r;
	char *out;

	snprintf(cmd, sizeof cmd, "f='%s/watch-%s'; kill $(cat \"$f.pid\") 2>/dev/null; "
	    "sleep 0.2; cat \"$f\"", s->dir, name);
	run_sh(&r, cmd);
	out = r.out;
	r.out = NULL;
	run_free(&r);
	return out;
}

static bool
said(const struct run *r, const char *what)
{
	return strstr(r->out, what) != NULL || strstr(r->err, what) != NULL;
}

Test(sickhub, wipe_db_with_a_crash_looping_hub, .timeout = 180)
{
	struct sim s;
	struct run r;
	char *service_saw, *db_saw, *users, *sel;

	sim_start(&s, "--faults hub-crashloop=1");
	crash_looping(&s);
	/* What the hub Service selects (its endpoints), and what the database admits. */
	sim_kubectl(&s, &r, "get service hub -n nublado -o go-template="
	    "'{{range $k, $v := .spec.selector}}{{$k}}={{$v}},{{end}}'");
	cr_assert_eq(r.status, 0, "%s", r.err);
	cr_assert(strstr(r.out, "release=nublado") != NULL, "hub Service selector: %s", r.out);
	r.out[strlen(r.out) - 1] = '\0';	/* the last comma */
	sel = strdup(r.out);
	run_free(&r);
	watch_start(&s, "service", sel);
	watch_start(&s, "db", "app=jupyterhub,component=hub");

	sim_nub(&s, &r, "wipe-db", "-y", NULL);
	cr_assert_eq(r.status, 0, "wipe-db: %d\n%s\n%s", r.status, r.out, r.err);
	cr_assert(strstr(r.err, "running psql in temporary pod hub-psql-") != NULL, "%s", r.err);
	cr_assert(strstr(r.err, "(the hub container is not running: CrashLoopBackOff)") != NULL,
	    "%s", r.err);
	/* The step results (stdout or stderr, as the terminal has it). */
	cr_assert(said(&r, "backed up with pg_dump"), "no backup:\n%s\n%s", r.out, r.err);
	cr_assert(said(&r, "dropped and restarted"), "%s\n%s", r.out, r.err);
	cr_assert(said(&r, "unblocked"), "%s\n%s", r.out, r.err);
	cr_assert(strstr(r.err, "deleted temporary pod hub-psql-") != NULL, "%s", r.err);
	run_free(&r);
	no_temporary_pod_left(&s);

	/* The database was wiped: the restarted hub made an empty schema. */
	users = sql_value(sim_get(&s, "SIM_DB_URL"), "select count(*) from users");
	cr_assert_str_eq(users, "0");
	free(users);
	/* A new hub pod, Ready (the restart cured the crash loop). */
	sim_kubectl(&s, &r, "get pods -n nublado -l app=jupyterhub,component=hub "
	    "-o jsonpath='{.items[*].status.containerStatuses[*].ready}'");
	cr_assert_str_eq(r.out, "true", "hub pods: %s", r.out);
	run_free(&r);
	/* Users are back in. */
	sim_kubectl(&s, &r, "get gafaelfawringress proxy -n nublado -o name");
	cr_assert_eq(r.status, 0, "the proxy route was not restored: %s", r.err);
	run_free(&r);

	/* The database's selector saw the temporary pod; the hub Service's never did. */
	db_saw = watch_stop(&s, "db");
	service_saw = watch_stop(&s, "service");
	cr_assert(strstr(db_saw, "pod/hub-psql-") != NULL, "db watch: %s", db_saw);
	cr_assert_null(strstr(service_saw, "hub-psql-"), "in the hub Service: %s", service_saw);
	cr_assert(strstr(service_saw, "pod/hub-") != NULL, "service watch: %s", service_saw);
	free(db_saw);
	free(service_saw);
	free(sel);
	sim_stop(&s);
}

Test(sickhub, psql_with_a_crash_looping_hub, .timeout = 120)
{
	struct sim s;
	struct run r;

	sim_start(&s, "--faults hub-crashloop=1");
	crash_looping(&s);
	sim_nub(&s, &r, "psql", "-c", "select 40 + 2", NULL);
	cr_assert_eq(r.status, 0, "psql: %d\n%s\n%s", r.status, r.out, r.err);
	cr_assert(strstr(r.out, "42") != NULL, "%s", r.out);
	cr_assert(strstr(r.err, "running psql in temporary pod hub-psql-") != NULL, "%s", r.err);
	cr_assert(strstr(r.err, "deleted temporary pod") != NULL, "%s", r.err);
	run_free(&r);
	no_temporary_pod_left(&s);
	/* The hub itself is left as it was. */
	crash_looping(&s);
	sim_stop(&s);
}

Test(sickhub, a_failure_after_the_pod_was_made_still_deletes_it, .timeout = 120)
{
	struct sim s;
	struct run r;
	char *users;

	sim_start(&s, "--faults hub-crashloop=1");
	crash_looping(&s);
	/* psql cannot connect: exit 2, and the pod goes. */
	sim_nub(&s, &r, "psql", "--db-url", "postgresql://nobody@127.0.0.1:1/none", "-c",
	    "select 1", NULL);
	cr_assert_neq(r.status, 0, "psql to nowhere worked:\n%s\n%s", r.out, r.err);
	cr_assert(strstr(r.err, "running psql in temporary pod") != NULL, "%s", r.err);
	cr_assert(strstr(r.err, "deleted temporary pod") != NULL, "%s", r.err);
	run_free(&r);
	no_temporary_pod_left(&s);
	/* The wipe's preflight fails in the pod: nothing dropped, the pod gone. */
	sim_nub(&s, &r, "wipe-db", "-y", "--db-url", "postgresql://nobody@127.0.0.1:1/none", NULL);
	cr_assert_neq(r.status, 0, "wipe-db to nowhere worked:\n%s\n%s", r.out, r.err);
	cr_assert(strstr(r.err, "deleted temporary pod") != NULL, "%s", r.err);
	run_free(&r);
	no_temporary_pod_left(&s);
	users = sql_value(sim_get(&s, "SIM_DB_URL"), "select count(*) > 0 from users");
	cr_assert_str_eq(users, "t");
	free(users);
	sim_stop(&s);
}

Test(sickhub, ctrl_c_while_the_pod_is_in_use_deletes_it, .timeout = 120)
{
	struct sim s;
	struct run r;

	sim_start(&s, "--faults hub-crashloop=1");
	crash_looping(&s);
	/* The pod starts in well under a second here: at 2.5 s psql is sleeping in it. */
	sim_nub_signal(&s, &r, 2500, SIGINT, "psql", "-c", "select pg_sleep(30)", NULL);
	cr_assert_eq(r.status, 130, "want 130, got %d:\n%s\n%s", r.status, r.out, r.err);
	cr_assert(strstr(r.err, "running psql in temporary pod") != NULL, "%s", r.err);
	cr_assert(strstr(r.err, "deleted temporary pod") != NULL, "%s", r.err);
	run_free(&r);
	no_temporary_pod_left(&s);
	/* Ctrl-C while the pod starts (the wait for it) deletes it as well. */
	sim_nub_signal_on(&s, &r, "running psql in temporary pod", SIGINT, "psql", "-c",
	    "select pg_sleep(30)", NULL);
	cr_assert_neq(r.status, 0, "%s", r.err);
	cr_assert(strstr(r.err, "deleted temporary pod") != NULL, "%s", r.err);
	run_free(&r);
	no_temporary_pod_left(&s);
	sim_stop(&s);
}

Test(sickhub, dry_run_makes_no_pod, .timeout = 120)
{
	struct sim s;
	struct run r;
	char *users, log[700];
	FILE *f;
	char line[4096];
	int posts = 0;

	sim_start(&s, "--faults hub-crashloop=1");
	crash_looping(&s);
	sim_nub(&s, &r, "wipe-db", "--dry-run", NULL);
	cr_assert_eq(r.status, 0, "wipe-db --dry-run: %d\n%s\n%s", r.status, r.out, r.err);
	cr_assert(strstr(r.err, "a real run makes a temporary pod") != NULL, "%s", r.err);
	cr_assert_null(strstr(r.err, "running psql in temporary pod"), "%s", r.err);
	/* The plan says what a dry run could not know without psql, not "0 tables", "?". */
	cr_assert(strstr(r.out, "no hub container runs: a real run makes a temporary pod") !=
	    NULL, "%s", r.out);
	cr_assert(strstr(r.out, "not counted in this dry run") != NULL, "%s", r.out);
	cr_assert(strstr(r.out, "not checked in this dry run") != NULL, "%s", r.out);
	cr_assert_null(strstr(r.out, "DROP OWNED BY ?"), "%s", r.out);
	run_free(&r);
	no_temporary_pod_left(&s);
	/* The only pod POST was the server-side dry run. */
	snprintf(log, sizeof log, "%s/log/apiserver.log", s.dir);
	f = fopen(log, "r");
	cr_assert_not_null(f, "%s", log);
	while (fgets(line, sizeof line, f) != NULL) {
		if (strstr(line, "POST /api/v1/namespaces/nublado/pods") == NULL)
			continue;
		posts++;
		cr_assert(strstr(line, "dryRun=All") != NULL, "a pod was made: %s", line);
	}
	fclose(f);
	cr_assert_eq(posts, 1, "want one dry-run POST, saw %d", posts);
	users = sql_value(sim_get(&s, "SIM_DB_URL"), "select count(*) > 0 from users");
	cr_assert_str_eq(users, "t");
	free(users);
	crash_looping(&s);
	sim_stop(&s);
}
