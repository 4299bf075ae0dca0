/* test-status.c: status shows what the steps see, the journal of a stopped run, and --watch */
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <criterion/criterion.h>

#include "e2e.h"

/* Count the occurrences of needle in hay. */
static int
count(const char *hay, const char *needle)
{
	int n = 0;

	for (const char *p = hay; (p = strstr(p, needle)) != NULL; p += strlen(needle))
		n++;
	return n;
}

Test(status, shows_interrupted_wipe_saved_manifests_and_stuck_labs, .timeout = 240)
{
	struct sim s;
	struct run r;
	json_object *j, *v;

	/* A lab that never finishes terminating stops the wipe after block. */
	sim_start(&s, "--faults stuck-ns=nublado-user004");
	sim_nub(&s, &r, "wipe-db", "-y", "--timeout", "3s", NULL);
	cr_assert_eq(r.status, 1, "%s\n%s", r.out, r.err);
	/* The progress names what holds the namespace up while it waits, not only at the end. */
	cr_assert(strstr(r.err, "left: nublado-user004 (finalizers: kubernetes") != NULL, "%s",
	    r.err);
	run_free(&r);

	sim_nub(&s, &r, "status", NULL);
	cr_assert_eq(r.status, 0, "%s", r.err);
	cr_assert(strstr(r.out, "Access:    BLOCKED") != NULL, "%s", r.out);
	/* The way back without Argo CD, and how old it is. */
	cr_assert(strstr(r.out, "saved by block ") != NULL, "%s", r.out);
	cr_assert(strstr(r.out, "proxy-labs") != NULL, "%s", r.out);
	/* The namespace that holds the run up, by name. */
	cr_assert(strstr(r.out, "terminating: nublado-user004") != NULL, "%s", r.out);
	/* The journal: where the run stopped and the command that finishes it. */
	cr_assert(strstr(r.out, "Last wipe-db: INTERRUPTED after 'blocked'") != NULL, "%s", r.out);
	cr_assert(strstr(r.out, "`kubectl nublado wipe-db` finishes it") != NULL, "%s", r.out);
	run_free(&r);

	sim_nub(&s, &r, "status", "-o", "json", NULL);
	cr_assert_eq(r.status, 0, "%s", r.err);
	j = json_result(r.out, "status");
	cr_assert(json_object_object_get_ex(j, "journal", &v), "%s", r.out);
	cr_assert(json_object_object_get_ex(v, "wipe", &v), "%s", r.out);
	cr_assert(json_object_object_get_ex(v, "finished", &v) && !json_object_get_boolean(v));
	json_object_put(j);
	run_free(&r);

	/* Finished: the journal says so, with its backup. */
	sim_faults_of(&s, "stuck-ns=");
	sim_nub(&s, &r, "wipe-db", "-y", NULL);
	cr_assert_eq(r.status, 0, "%s\n%s", r.out, r.err);
	run_free(&r);
	sim_nub(&s, &r, "status", NULL);
	cr_assert(strstr(r.out, "Last wipe-db: finished ") != NULL, "%s", r.out);
	cr_assert(strstr(r.out, "; backup /") != NULL, "%s", r.out);
	run_free(&r);
	sim_stop(&s);
}

Test(status, shows_the_check_verdict_with_reasons, .timeout = 120)
{
	struct sim s;
	struct run r;

	sim_start(&s, NULL);
	/* Data of its own in the role: the drop would take it, so the check refuses. */
	free(sql_value(sim_get(&s, "SIM_DB_URL"), "create table public.precious (x int); "
	    "select 1"));
	sim_nub(&s, &r, "status", NULL);
	cr_assert_eq(r.status, 0, "%s", r.err);
	cr_assert(strstr(r.out, "not safe to drop") != NULL, "%s", r.out);
	cr_assert(strstr(r.out, "refuses:") != NULL, "%s", r.out);
	cr_assert(strstr(r.out, "precious") != NULL, "%s", r.out);
	run_free(&r);
	sim_stop(&s);
}

Test(status, watch_looks_again_until_ctrl_c, .timeout = 120)
{
	struct sim s;
	struct run r;

	sim_start(&s, NULL);
	/* On a pipe: each look follows the last under its own header. */
	sim_nub_signal(&s, &r, 2600, SIGINT, "status", "--no-db", "--watch", "--interval",
	    "500ms", NULL);
	cr_assert_eq(r.status, 0, "Ctrl-C ends a watch: want 0, got %d\n%s", r.status, r.err);
	cr_assert_geq(count(r.out, "Every 0.5s: kubectl nublado status --no-db"), 3, "%s", r.out);
	cr_assert_geq(count(r.out, "Access:    open"), 3, "%s", r.out);
	/* No escape sequences on a pipe. */
	cr_assert_null(strstr(r.out, "\033["), "%s", r.out);
	run_free(&r);
	/* -o json: one document per look. */
	sim_nub_signal(&s, &r, 1600, SIGINT, "status", "--no-db", "-w", "--interval", "500ms",
	    "-o", "json", NULL);
	cr_assert_eq(r.status, 0, "%s", r.err);
	cr_assert_geq(count(r.out, "\"apiVersion\": \"kubectl-nublado/v1\""), 2, "%s", r.out);
	run_free(&r);
	sim_nub(&s, &r, "status", "--interval", "0", NULL);
	cr_assert_eq(r.status, 2, "%s", r.err);
	run_free(&r);
	sim_stop(&s);
}

/* A sick hub (running, not Ready) is when status matters most: the database is still read. */
Test(status, reads_the_database_through_a_hub_that_is_not_ready, .timeout = 120)
{
	struct sim s;
	struct run r;
	char pod[256];

	sim_start(&s, NULL);
	sim_faults_of(&s, "hub-unready=600");
	sim_wait_hub_unready(&s);
	sim_nub(&s, &r, "status", NULL);
	cr_assert_eq(r.status, 0, "%s", r.err);
	cr_assert(strstr(r.out, "not Ready") != NULL, "%s", r.out);
	cr_assert(strstr(r.out, "the database check ran in a running one") != NULL, "%s", r.out);
	cr_assert(strstr(r.out, " reachable, ") != NULL, "%s", r.out);
	run_free(&r);
	/* --pod names the pod for the check. */
	sim_kubectl(&s, &r, "get pods -n nublado -l app=jupyterhub,component=hub "
	    "-o jsonpath={.items[0].metadata.name}");
	snprintf(pod, sizeof pod, "%s", r.out);
	run_free(&r);
	sim_nub(&s, &r, "status", "--pod", pod, NULL);
	cr_assert_eq(r.status, 0, "%s", r.err);
	cr_assert(strstr(r.out, " reachable, ") != NULL, "%s", r.out);
	run_free(&r);
	sim_nub(&s, &r, "status", "--pod", "no-such-pod", NULL);
	cr_assert(strstr(r.out, "unreachable") != NULL, "%s", r.out);
	run_free(&r);
	sim_stop(&s);
}
