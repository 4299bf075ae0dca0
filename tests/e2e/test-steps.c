/* test-steps.c: block, kill-labs, restart-hub, unblock, each alone, on private clusters */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include <criterion/criterion.h>
#include <json-c/json.h>

#include "e2e.h"

/* Does the cluster state hold an object of this kind, namespace and name? */
static bool
has(const char *state, const char *kind, const char *ns, const char *name)
{
	json_object *j = json_tokener_parse(state), *items, *o, *v;
	bool found = false;

	cr_assert_not_null(j);
	cr_assert(json_object_object_get_ex(j, "items", &items));
	for (size_t i = 0; i < json_object_array_length(items) && !found; i++) {
		const char *k, *n, *nsp = NULL;

		o = json_object_array_get_idx(items, i);
		json_object_object_get_ex(o, "kind", &v);
		k = json_object_get_string(v);
		json_object_object_get_ex(o, "metadata", &v);
		json_object *nv, *nsv;
		json_object_object_get_ex(v, "name", &nv);
		n = json_object_get_string(nv);
		if (json_object_object_get_ex(v, "namespace", &nsv))
			nsp = json_object_get_string(nsv);
		if (strcmp(k, kind) == 0 && strcmp(n, name) == 0 &&
		    (ns == NULL || (nsp != NULL && strcmp(ns, nsp) == 0)))
			found = true;
	}
	json_object_put(j);
	return found;
}

static const char *const decoys[] = { "nublado", "nublado-users", "nubladox", "fileservers",
	"kube-system", "jupyter-decoy", "argocd", NULL };

static void
decoys_intact(const char *state)
{
	for (int i = 0; decoys[i] != NULL; i++)
		cr_assert(has(state, "Namespace", NULL, decoys[i]), "decoy %s was deleted", decoys[i]);
}

Test(steps, kill_labs_deletes_only_labs)
{
	struct sim s;
	struct run r;
	char *st;

	sim_start(&s, NULL);
	sim_nub(&s, &r, "kill-labs", "-y", NULL);
	cr_assert_eq(r.status, 0, "%s%s", r.out, r.err);
	cr_assert(strstr(r.out, "skipped: nublado-users (no label") != NULL, "%s", r.out);
	cr_assert(strstr(r.out, "deleted 5 lab namespace(s)") != NULL, "%s", r.out);
	run_free(&r);
	st = sim_state_of(&s);
	for (int i = 1; i <= 5; i++) {
		char name[64];

		snprintf(name, sizeof name, "nublado-user%03d", i);
		cr_assert_not(has(st, "Namespace", NULL, name), "%s still exists", name);
	}
	decoys_intact(st);
	free(st);
	/* Again: nothing left, says so, exit 0. */
	sim_nub(&s, &r, "kill-labs", "-y", NULL);
	cr_assert_eq(r.status, 0, "%s", r.err);
	cr_assert(strstr(r.out, "Nothing to do") != NULL, "%s", r.out);
	run_free(&r);
	sim_stop(&s);
}

Test(steps, kill_labs_one_user_json)
{
	struct sim s;
	struct run r;
	char *st;

	sim_start(&s, NULL);
	sim_nub(&s, &r, "kill-labs", "--user", "user002", "-y", "-o", "json", NULL);
	cr_assert_eq(r.status, 0, "%s", r.err);
	json_object *j = json_result(r.out, "kill-labs"), *kl, *labs;
	cr_assert(json_object_object_get_ex(j, "kill-labs", &kl));
	cr_assert(json_object_object_get_ex(kl, "labs", &labs));
	cr_assert_eq(json_object_array_length(labs), 1);
	json_object_put(j);
	run_free(&r);
	st = sim_state_of(&s);
	cr_assert_not(has(st, "Namespace", NULL, "nublado-user002"));
	cr_assert(has(st, "Namespace", NULL, "nublado-user001"));
	cr_assert(has(st, "Namespace", NULL, "nublado-user003"));
	free(st);
	sim_stop(&s);
}

Test(steps, dry_run_and_no_tty_change_nothing)
{
	struct sim s;
	struct run r;
	char *before, *after;
	const char *cmds[] = { "kill-labs", "block", "restart-hub", NULL };

	sim_start(&s, NULL);
	before = sim_state_of(&s);
	for (int i = 0; cmds[i] != NULL; i++) {
		sim_nub(&s, &r, cmds[i], "--dry-run", NULL);
		cr_assert_eq(r.status, 0, "%s --dry-run: %s", cmds[i], r.err);
		cr_assert(strstr(r.out, "dry run") != NULL, "%s", r.out);
		run_free(&r);
		/* No terminal, no -y: refuse (exit 3) rather than hang. */
		sim_nub_input(&s, &r, "y\n", cmds[i], NULL);
		cr_assert_eq(r.status, 3, "%s without -y: exit %d %s", cmds[i], r.status, r.err);
		cr_assert(strstr(r.err, "--yes") != NULL, "%s", r.err);
		run_free(&r);
	}
	after = sim_state_of(&s);
	cr_assert_str_eq(before, after, "state changed");
	free(before);
	free(after);
	sim_stop(&s);
}

Test(steps, readonly_user_is_told_what_is_missing)
{
	struct sim s;
	struct run r;
	char *before, *after;

	sim_start(&s, NULL);
	before = sim_state_of(&s);
	sim_nub(&s, &r, "--context", "sim-readonly", "kill-labs", "-y", NULL);
	cr_assert_eq(r.status, 1, "%s", r.err);
	cr_assert(strstr(r.err, "forbidden") != NULL, "%s", r.err);
	cr_assert(strstr(r.err, "hint:") != NULL, "%s", r.err);
	run_free(&r);
	after = sim_state_of(&s);
	cr_assert_str_eq(before, after);
	free(before);
	free(after);
	sim_stop(&s);
}

Test(steps, block_then_unblock_by_argocd_and_from_backup)
{
	struct sim s;
	struct run r;
	char *st, path[1024];
	struct stat sb;

	sim_start(&s, NULL);
	sim_nub(&s, &r, "block", "-y", NULL);
	cr_assert_eq(r.status, 0, "%s", r.err);
	run_free(&r);
	st = sim_state_of(&s);
	for (const char *const *n = (const char *const[]){ "proxy", "proxy-spawn", "proxy-labs", NULL };
	    *n != NULL; n++) {
		cr_assert_not(has(st, "GafaelfawrIngress", "nublado", *n), "%s still there", *n);
		cr_assert_not(has(st, "Ingress", "nublado", *n), "generated %s still there", *n);
		snprintf(path, sizeof path, "%s/ingresses/%s.json", sim_state_dir(&s, "sim"), *n);
		cr_assert_eq(stat(path, &sb), 0, "%s not saved", path);
		cr_assert_eq(sb.st_mode & 0777, 0600, "%s mode %o", path, sb.st_mode & 0777);
	}
	/* The lab-creation route goes too (saved); the controller's others stay. */
	cr_assert_not(has(st, "GafaelfawrIngress", "nublado", "nublado-controller-user"));
	snprintf(path, sizeof path, "%s/ingresses/nublado-controller-user.json",
	    sim_state_dir(&s, "sim"));
	cr_assert_eq(stat(path, &sb), 0, "%s not saved", path);
	for (const char *const *n = (const char *const[]){ "nublado-controller-admin",
	    "nublado-controller-anonymous", "nublado-controller-hub", "nublado-controller-files",
	    NULL }; *n != NULL; n++)
		cr_assert(has(st, "GafaelfawrIngress", "nublado", *n), "%s was removed", *n);
	free(st);
	sim_nub(&s, &r, "block", "-y", NULL);
	cr_assert_eq(r.status, 0);
	cr_assert(strstr(r.out, "already blocked") != NULL, "%s", r.out);
	run_free(&r);

	sim_nub(&s, &r, "unblock", "-y", NULL);
	cr_assert_eq(r.status, 0, "%s", r.err);
	run_free(&r);
	st = sim_state_of(&s);
	cr_assert(has(st, "GafaelfawrIngress", "nublado", "proxy"));
	cr_assert(has(st, "GafaelfawrIngress", "nublado", "proxy-labs"));
	cr_assert(has(st, "GafaelfawrIngress", "nublado", "nublado-controller-user"));
	free(st);
	sim_nub(&s, &r, "unblock", "-y", NULL);
	cr_assert_eq(r.status, 0);
	cr_assert(strstr(r.out, "already open") != NULL, "%s", r.out);
	run_free(&r);

	/* Without Argo CD: the saved manifests. */
	sim_nub(&s, &r, "block", "-y", NULL);
	cr_assert_eq(r.status, 0, "%s", r.err);
	run_free(&r);
	sim_nub(&s, &r, "unblock", "--from-backup", "-y", NULL);
	cr_assert_eq(r.status, 0, "%s", r.err);
	cr_assert(strstr(r.out, "recreated 4") != NULL, "%s", r.out);
	run_free(&r);
	st = sim_state_of(&s);
	cr_assert(has(st, "GafaelfawrIngress", "nublado", "proxy-spawn"));
	free(st);
	sim_stop(&s);
}

Test(steps, block_warns_about_self_heal)
{
	struct sim s;
	struct run r;

	sim_start(&s, "--faults argocd-selfheal=1");
	/* A block Argo CD would undo: refused, before anything changes. */
	sim_nub(&s, &r, "block", "--dry-run", NULL);
	cr_assert_eq(r.status, 3, "%d: %s", r.status, r.err);
	cr_assert(strstr(r.err, "selfHeal") != NULL && strstr(r.err, "--ignore-self-heal"),
	    "%s", r.err);
	run_free(&r);
	sim_nub(&s, &r, "block", "--dry-run", "--ignore-self-heal", NULL);
	cr_assert_eq(r.status, 0, "%s", r.err);
	cr_assert(strstr(r.err, "UNDO this block") != NULL, "%s", r.err);
	run_free(&r);
	sim_stop(&s);
}

Test(steps, restart_hub_replaces_the_pod)
{
	struct sim s;
	struct run r, k1, k2;

	sim_start(&s, NULL);
	sim_kubectl(&s, &k1, "get pods -n nublado -l app=jupyterhub,component=hub -o name");
	sim_nub(&s, &r, "restart-hub", "-y", NULL);
	cr_assert_eq(r.status, 0, "%s", r.err);
	cr_assert(strstr(r.out, "is Ready") != NULL, "%s", r.out);
	run_free(&r);
	sim_kubectl(&s, &k2, "get pods -n nublado -l app=jupyterhub,component=hub -o name");
	cr_assert_str_neq(k1.out, k2.out, "the hub pod was not replaced: %s", k2.out);
	run_free(&k1);
	run_free(&k2);
	/* Paused: refuse. */
	sim_kubectl(&s, &k1, "patch deployment hub -n nublado --type merge -p '{\"spec\":{\"paused\":true}}'");
	cr_assert_eq(k1.status, 0, "%s", k1.err);
	run_free(&k1);
	sim_nub(&s, &r, "restart-hub", "-y", NULL);
	cr_assert_eq(r.status, 3, "%s", r.err);
	cr_assert(strstr(r.err, "paused") != NULL, "%s", r.err);
	run_free(&r);
	sim_stop(&s);
}

Test(steps, kill_labs_timeout_names_the_stuck_namespace)
{
	struct sim s;
	struct run r;

	sim_start(&s, "--faults stuck-ns=nublado-user003");
	sim_nub(&s, &r, "kill-labs", "-y", "--timeout", "3s", NULL);
	cr_assert_eq(r.status, 1, "%s", r.err);
	cr_assert(strstr(r.err, "nublado-user003") != NULL, "%s", r.err);
	cr_assert(strstr(r.err, "finalizers") != NULL, "%s", r.err);
	run_free(&r);
	sim_stop(&s);
}

/*
 * unblock puts back only what block removed: another resource of the
 * Application that is out of sync (here a Service deleted by hand) is left
 * alone and named; --full-sync, the runbook's way, deploys it and says so.
 */
Test(steps, unblock_syncs_only_what_block_removed, .timeout = 120)
{
	struct sim s;
	struct run r;
	char *st;

	sim_start(&s, NULL);
	sim_kubectl(&s, &r, "-n nublado delete service nublado-controller");
	cr_assert_eq(r.status, 0, "%s", r.err);
	run_free(&r);
	sim_nub(&s, &r, "block", "-y", NULL);
	cr_assert_eq(r.status, 0, "%s", r.err);
	run_free(&r);

	sim_nub(&s, &r, "unblock", "-y", NULL);
	cr_assert_eq(r.status, 0, "%s\n%s", r.out, r.err);
	cr_assert(strstr(r.out, "sync only the blocked GafaelfawrIngresses") != NULL, "%s", r.out);
	cr_assert(strstr(r.out, "left alone") != NULL &&
	    strstr(r.out, "Service nublado/nublado-controller") != NULL, "%s", r.out);
	run_free(&r);
	st = sim_state_of(&s);
	for (const char *const *n = (const char *const[]){ "proxy", "proxy-spawn", "proxy-labs",
	    NULL }; *n != NULL; n++)
		cr_assert(has(st, "GafaelfawrIngress", "nublado", *n), "%s not back", *n);
	cr_assert_not(has(st, "Service", "nublado", "nublado-controller"),
	    "the limited sync deployed something block did not remove");
	free(st);

	sim_nub(&s, &r, "block", "-y", NULL);
	cr_assert_eq(r.status, 0, "%s", r.err);
	run_free(&r);
	sim_nub(&s, &r, "unblock", "-y", "--full-sync", NULL);
	cr_assert_eq(r.status, 0, "%s\n%s", r.out, r.err);
	cr_assert(strstr(r.out, "sync ALL of") != NULL, "%s", r.out);
	cr_assert(strstr(r.out, "out of sync too") != NULL &&
	    strstr(r.out, "Service nublado/nublado-controller") != NULL, "%s", r.out);
	run_free(&r);
	st = sim_state_of(&s);
	cr_assert(has(st, "Service", "nublado", "nublado-controller"), "--full-sync left it out");
	cr_assert(has(st, "GafaelfawrIngress", "nublado", "proxy"));
	free(st);
	sim_stop(&s);
}

/*
 * A lab made while kill-labs deletes the others (its creation route is open:
 * kill-labs alone does not block): found on the second look and deleted too.
 */
Test(steps, kill_labs_deletes_a_lab_made_meanwhile, .timeout = 120)
{
	struct sim s;
	struct run r;
	char *st;

	sim_start(&s, "--faults lab-appears=latecomer,ns-delete-delay=1");
	sim_nub(&s, &r, "kill-labs", "-y", NULL);
	cr_assert_eq(r.status, 0, "%s\n%s", r.out, r.err);
	cr_assert(strstr(r.err, "appeared since the list") != NULL, "%s", r.err);
	cr_assert(strstr(r.out, "1 more appeared meanwhile") != NULL, "%s", r.out);
	run_free(&r);
	st = sim_state_of(&s);
	cr_assert_not(has(st, "Namespace", NULL, "nublado-latecomer"), "the latecomer's lab stayed");
	cr_assert_not(has(st, "Namespace", NULL, "nublado-user001"));
	free(st);
	sim_stop(&s);
}

/* status for a namespace that is not there: an error, not "Access: BLOCKED" and exit 0. */
Test(steps, status_of_a_missing_namespace_is_an_error)
{
	struct run r;

	run_nub(&r, "--kubeconfig", sim_path("kubeconfig"), "-n", "no-such-nublado", "status",
	    NULL);
	cr_assert_eq(r.status, 1, "%d: %s\n%s", r.status, r.out, r.err);
	cr_assert(strstr(r.err, "namespace 'no-such-nublado' not found") != NULL, "%s", r.err);
	cr_assert_null(strstr(r.out, "BLOCKED"), "%s", r.out);
	run_free(&r);
}

/*
 * A mistyped -n on a command that changes things: an error before any step
 * looks, never "access is already blocked" or a default lab prefix.
 */
Test(steps, a_missing_namespace_stops_every_changing_command)
{
	static const char *const cmds[][3] = {
		{ "block", "-y", NULL }, { "kill-labs", "-y", NULL }, { "unblock", "-y", NULL },
		{ "restart-hub", "-y", NULL }, { "wipe-db", "-y", NULL }, { "labs", NULL, NULL },
	};
	struct run r;

	for (size_t i = 0; i < sizeof cmds / sizeof cmds[0]; i++) {
		run_nub(&r, "--kubeconfig", sim_path("kubeconfig"), "-n", "no-such-nublado",
		    cmds[i][0], cmds[i][1], NULL);
		cr_assert_eq(r.status, 1, "%s: %d: %s\n%s", cmds[i][0], r.status, r.out, r.err);
		cr_assert(strstr(r.err, "namespace 'no-such-nublado' not found") != NULL, "%s: %s",
		    cmds[i][0], r.err);
		cr_assert_null(strstr(r.out, "already blocked"), "%s", r.out);
		run_free(&r);
	}
}

/* labs: what kill-labs would delete, with user, age and phase; the decoys only as skipped. */
Test(steps, labs_lists_what_kill_labs_would_delete)
{
	struct run r;

	run_nub(&r, "--kubeconfig", sim_path("kubeconfig"), "labs", NULL);
	cr_assert_eq(r.status, 0, "%s", r.err);
	cr_assert(strncmp(r.out, "NAMESPACE", 9) == 0, "%s", r.out);
	cr_assert(strstr(r.out, "nublado-user001") != NULL && strstr(r.out, "user001") != NULL,
	    "%s", r.out);
	cr_assert(strstr(r.out, "Active") != NULL, "%s", r.out);
	cr_assert_null(strstr(r.out, "jupyter-decoy"), "%s", r.out);
	cr_assert(strstr(r.err, "skipped: jupyter-decoy") != NULL, "%s", r.err);
	run_free(&r);
	run_nub(&r, "--kubeconfig", sim_path("kubeconfig"), "labs", "-o", "json", NULL);
	cr_assert_eq(r.status, 0, "%s", r.err);
	cr_assert(strstr(r.out, "\"phase\": \"Active\"") != NULL, "%s", r.out);
	cr_assert(strstr(r.out, "\"created\": ") != NULL, "%s", r.out);
	run_free(&r);
}
