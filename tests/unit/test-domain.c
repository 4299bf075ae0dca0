/* test-domain.c: the pure rules of the runbook steps (labs, ingresses, rollout, Argo CD) */
#include <string.h>

#include <criterion/criterion.h>
#include <json-c/json.h>

#include "../../src/kube/deploy.h"
#include "../../src/nublado/argocd.h"
#include "../../src/nublado/ingress.h"
#include "../../src/nublado/labs.h"

static int
classify(const char *json, const char *user, const char **why)
{
	json_object *o = json_tokener_parse(json);
	int k;

	cr_assert_not_null(o, "bad fixture %s", json);
	k = labs_classify(o, "nublado", "nublado", user, why);
	json_object_put(o);
	return k;
}

#define LAB(name, labels) "{\"metadata\":{\"name\":\"" name "\",\"labels\":{" labels "}}}"
#define CAT_LAB "\"nublado.lsst.io/category\":\"lab\""

Test(labs, both_rules_make_a_lab)
{
	const char *why;

	cr_assert_eq(classify(LAB("nublado-alice", CAT_LAB), NULL, &why), 1);
}

Test(labs, one_rule_only_is_skipped_with_a_reason)
{
	const char *why;

	cr_assert_eq(classify(LAB("nublado-users", ""), NULL, &why), -1);
	cr_assert(strstr(why, "no label") != NULL);
	cr_assert_eq(classify(LAB("jupyter-bob", CAT_LAB), NULL, &why), -1);
	cr_assert(strstr(why, "prefix") != NULL);
	cr_assert_eq(classify(LAB("nubladox", CAT_LAB), NULL, &why), -1);
}

Test(labs, never_the_nublado_namespace)
{
	const char *why;

	cr_assert_eq(classify(LAB("nublado", ""), NULL, &why), 0);
	cr_assert_eq(classify(LAB("nublado", CAT_LAB), NULL, &why), -1);
	cr_assert(strstr(why, "Nublado namespace") != NULL);
	/* "nublado-" alone is not a lab name either. */
	cr_assert_neq(classify(LAB("nublado-", CAT_LAB), NULL, &why), 1);
}

Test(labs, other_categories_and_unrelated)
{
	const char *why;

	cr_assert_eq(classify(LAB("fileservers", "\"nublado.lsst.io/category\":\"fileserver\""),
	    NULL, &why), 0);
	cr_assert_eq(classify(LAB("nublado-fs", "\"nublado.lsst.io/category\":\"fileserver\""),
	    NULL, &why), -1);
	cr_assert_eq(classify(LAB("kube-system", ""), NULL, &why), 0);
}

Test(labs, one_user)
{
	const char *why;

	cr_assert_eq(classify(LAB("nublado-alice", CAT_LAB ",\"nublado.lsst.io/user\":\"alice\""),
	    "alice", &why), 1);
	cr_assert_eq(classify(LAB("nublado-bob", CAT_LAB ",\"nublado.lsst.io/user\":\"bob\""),
	    "alice", &why), 0);
	cr_assert_eq(classify(LAB("nublado-alice", CAT_LAB ",\"nublado.lsst.io/user\":\"mallory\""),
	    "alice", &why), -1);
}

static bool
routes(const char *json)
{
	json_object *o = json_tokener_parse(json);
	bool r = ingress_routes_to_hub(o);

	json_object_put(o);
	return r;
}

Test(ingress, routes_to_proxy_public)
{
	cr_assert(routes("{\"template\":{\"spec\":{\"rules\":[{\"http\":{\"paths\":[{\"path\":\"/nb\","
	    "\"backend\":{\"service\":{\"name\":\"proxy-public\",\"port\":{\"number\":80}}}}]}}]}}}"));
	/* The second rule's second path counts too. */
	cr_assert(routes("{\"template\":{\"spec\":{\"rules\":[{\"http\":{\"paths\":[]}},{\"host\":\"x\","
	    "\"http\":{\"paths\":[{\"backend\":{\"service\":{\"name\":\"other\"}}},"
	    "{\"backend\":{\"service\":{\"name\":\"proxy-public\"}}}]}}]}}}"));
	cr_assert_not(routes("{\"template\":{\"spec\":{\"rules\":[{\"http\":{\"paths\":[{"
	    "\"backend\":{\"service\":{\"name\":\"fileserver\"}}}]}}]}}}"));
	cr_assert_not(routes("{\"spec\":{\"rules\":[]}}"));
	cr_assert_not(routes("{\"template\":{\"spec\":{\"rules\":\"nonsense\"}}}"));
}

static int
state(const char *json, char *msg)
{
	json_object *o = json_tokener_parse(json);
	int s = kube_deploy_state(o, msg, 256);

	json_object_put(o);
	return s;
}

Test(rollout, kubectl_rollout_status_rules)
{
	char msg[256];

	cr_assert_eq(state("{\"metadata\":{\"generation\":3},\"spec\":{\"replicas\":1},"
	    "\"status\":{\"observedGeneration\":2}}", msg), 0);
	cr_assert(strstr(msg, "observed") != NULL, "%s", msg);
	cr_assert_eq(state("{\"metadata\":{\"generation\":3},\"spec\":{\"replicas\":1},"
	    "\"status\":{\"observedGeneration\":3,\"updatedReplicas\":0,\"replicas\":1}}", msg), 0);
	cr_assert_eq(state("{\"metadata\":{\"generation\":3},\"spec\":{\"replicas\":1},"
	    "\"status\":{\"observedGeneration\":3,\"updatedReplicas\":1,\"replicas\":2,"
	    "\"availableReplicas\":1}}", msg), 0);
	cr_assert(strstr(msg, "old replicas") != NULL, "%s", msg);
	cr_assert_eq(state("{\"metadata\":{\"generation\":3},\"spec\":{\"replicas\":1},"
	    "\"status\":{\"observedGeneration\":3,\"updatedReplicas\":1,\"replicas\":1,"
	    "\"availableReplicas\":0}}", msg), 0);
	cr_assert_eq(state("{\"metadata\":{\"generation\":3},\"spec\":{\"replicas\":1},"
	    "\"status\":{\"observedGeneration\":3,\"updatedReplicas\":1,\"replicas\":1,"
	    "\"availableReplicas\":1}}", msg), 1);
	cr_assert_eq(state("{\"metadata\":{\"generation\":3},\"spec\":{\"replicas\":1},"
	    "\"status\":{\"observedGeneration\":3,\"conditions\":[{\"type\":\"Progressing\","
	    "\"reason\":\"ProgressDeadlineExceeded\",\"message\":\"too slow\"}]}}", msg), -1);
	cr_assert(strstr(msg, "too slow") != NULL, "%s", msg);
}

static json_object *
app(const char *json)
{
	json_object *o = json_tokener_parse(json);

	cr_assert_not_null(o);
	return o;
}

Test(argocd, operation_in_progress)
{
	json_object *a;

	a = app("{\"status\":{\"operationState\":{\"phase\":\"Succeeded\"}}}");
	cr_assert_null(argocd_running(a));
	json_object_put(a);
	a = app("{\"operation\":{\"sync\":{}},\"status\":{\"operationState\":{\"phase\":\"Succeeded\"}}}");
	cr_assert_str_eq(argocd_running(a), "Pending");
	json_object_put(a);
	a = app("{\"operation\":{\"sync\":{}},\"status\":{\"operationState\":{\"phase\":\"Running\"}}}");
	cr_assert_str_eq(argocd_running(a), "Running");
	json_object_put(a);
	a = app("{\"status\":{\"operationState\":{\"phase\":\"Running\"}}}");
	cr_assert_str_eq(argocd_running(a), "Running");
	json_object_put(a);
}

Test(argocd, self_heal)
{
	json_object *a = app("{\"spec\":{\"syncPolicy\":{\"automated\":{\"selfHeal\":true}}}}");

	cr_assert(argocd_self_heal(a));
	json_object_put(a);
	a = app("{\"spec\":{\"syncPolicy\":{\"automated\":{\"prune\":true}}}}");
	cr_assert_not(argocd_self_heal(a));
	json_object_put(a);
	a = app("{\"spec\":{}}");
	cr_assert_not(argocd_self_heal(a));
	json_object_put(a);
}
