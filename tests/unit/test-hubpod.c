/* test-hubpod.c: the temporary psql pod's manifest, and the hub finders skipping it */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <criterion/criterion.h>
#include <json-c/json.h>

#include "../../src/nublado/hub.h"
#include "../../src/nublado/hubpod.h"
#include "../../src/util/jsonout.h"

/* Deployment hub as Phalanx renders it (z2jh 4.3.5), trimmed to what matters here. */
static const char deploy_json[] =
    "{\"apiVersion\":\"apps/v1\",\"kind\":\"Deployment\","
    "\"metadata\":{\"name\":\"hub\",\"namespace\":\"nublado\"},"
    "\"spec\":{\"replicas\":1,\"selector\":{\"matchLabels\":{\"app\":\"jupyterhub\","
    "\"component\":\"hub\",\"release\":\"nublado\"}},"
    "\"template\":{\"metadata\":{\"labels\":{\"app\":\"jupyterhub\",\"component\":\"hub\","
    "\"release\":\"nublado\",\"hub.jupyter.org/network-access-proxy-api\":\"true\","
    "\"app.kubernetes.io/component\":\"hub\"},"
    "\"annotations\":{\"checksum/secret\":\"8a2e\"}},"
    "\"spec\":{\"serviceAccountName\":\"hub\",\"securityContext\":{\"fsGroup\":1000},"
    "\"terminationGracePeriodSeconds\":30,\"restartPolicy\":\"Always\","
    "\"initContainers\":[{\"name\":\"init\",\"image\":\"busybox\"}],"
    "\"containers\":[{\"name\":\"hub\",\"image\":\"ghcr.io/lsst-sqre/nublado-jupyterhub:15.1.0\","
    "\"args\":[\"jupyterhub\",\"--config\",\"/usr/local/etc/jupyterhub/jupyterhub_config.py\"],"
    "\"ports\":[{\"name\":\"http\",\"containerPort\":8081}],"
    "\"env\":[{\"name\":\"PYTHONUNBUFFERED\",\"value\":\"1\"}],"
    "\"volumeMounts\":[{\"name\":\"hub-secret\","
    "\"mountPath\":\"/usr/local/etc/jupyterhub/existing-secret/\"}],"
    "\"readinessProbe\":{\"httpGet\":{\"path\":\"/nb/hub/health\",\"port\":\"http\"}},"
    "\"livenessProbe\":{\"httpGet\":{\"path\":\"/nb/hub/health\",\"port\":\"http\"}},"
    "\"startupProbe\":{\"httpGet\":{\"path\":\"/nb/hub/health\",\"port\":\"http\"}},"
    "\"lifecycle\":{\"preStop\":{\"exec\":{\"command\":[\"true\"]}}},"
    "\"securityContext\":{\"runAsUser\":1000,\"allowPrivilegeEscalation\":false}},"
    "{\"name\":\"sidecar\",\"image\":\"sidecar:1\"}],"
    "\"volumes\":[{\"name\":\"hub-secret\",\"secret\":{\"secretName\":\"nublado-secret\"}}]}}}}";

static json_object *
manifest(const char *why)
{
	json_object *d = json_tokener_parse(deploy_json), *m;
	struct err e;

	cr_assert_not_null(d, "bad fixture");
	err_clear(&e);
	m = hubpod_manifest(d, "nublado", why, &e);
	json_object_put(d);
	cr_assert_not_null(m, "%s", e.msg);
	return m;
}

static json_object *
container(json_object *pod, const char *name)
{
	json_object *cs = jpath(pod, "spec", "containers", NULL);

	for (size_t i = 0; i < json_object_array_length(cs); i++) {
		json_object *c = json_object_array_get_idx(cs, i);

		if (strcmp(jstr(c, "name", NULL), name) == 0)
			return c;
	}
	return NULL;
}

Test(hubpod, labels_admit_the_database_but_no_service_selects_it)
{
	json_object *m = manifest("CrashLoopBackOff");
	json_object *labels = jpath(m, "metadata", "labels", NULL);

	cr_assert_str_eq(jstr(m, "apiVersion", NULL), "v1");
	cr_assert_str_eq(jstr(m, "kind", NULL), "Pod");
	cr_assert_str_eq(jstr(m, "metadata", "generateName", NULL), "hub-psql-");
	cr_assert_str_eq(jstr(m, "metadata", "namespace", NULL), "nublado");
	/* Phalanx's Cloud SQL proxy NetworkPolicy admits app=jupyterhub,component=hub. */
	cr_assert_str_eq(jstr(labels, "app", NULL), "jupyterhub");
	cr_assert_str_eq(jstr(labels, "component", NULL), "hub");
	cr_assert_str_eq(jstr(labels, HUBPOD_LABEL, NULL), HUBPOD_MANAGED_BY);
	/* z2jh's hub Service selects component, app AND release: without it, no endpoint. */
	cr_assert_null(jpath(labels, "release", NULL));
	cr_assert_null(jpath(labels, "hub.jupyter.org/network-access-proxy-api", NULL));
	cr_assert_null(jpath(labels, "pod-template-hash", NULL));
	cr_assert_eq(json_object_object_length(labels), 3);
	cr_assert(strstr(jstr(m, "metadata", "annotations", "kubernetes.io/description", NULL),
	    "(CrashLoopBackOff)") != NULL);
	cr_assert_str_eq(jstr(m, "metadata", "annotations",
	    "kubectl.kubernetes.io/default-container", NULL), "hub");
	cr_assert(hubpod_is_temporary(m));
	json_object_put(m);
}

Test(hubpod, same_image_volumes_and_identity_with_a_command_that_waits)
{
	json_object *m = manifest(NULL);
	json_object *hub = container(m, "hub"), *cmd = jpath(hub, "command", NULL);

	cr_assert_str_eq(jstr(hub, "image", NULL), "ghcr.io/lsst-sqre/nublado-jupyterhub:15.1.0");
	cr_assert_str_eq(jstr(json_object_array_get_idx(jpath(hub, "volumeMounts", NULL), 0),
	    "mountPath", NULL), "/usr/local/etc/jupyterhub/existing-secret/");
	cr_assert_str_eq(jstr(json_object_array_get_idx(jpath(hub, "env", NULL), 0), "name",
	    NULL), "PYTHONUNBUFFERED");
	cr_assert_eq(jint(hub, -1, "securityContext", "runAsUser", NULL), 1000);
	cr_assert_str_eq(jstr(m, "spec", "serviceAccountName", NULL), "hub");
	cr_assert_eq(jint(m, -1, "spec", "securityContext", "fsGroup", NULL), 1000);
	cr_assert_str_eq(jstr(json_object_array_get_idx(jpath(m, "spec", "volumes", NULL), 0),
	    "secret", "secretName", NULL), "nublado-secret");
	/* A shell that waits, bounded, instead of JupyterHub. */
	cr_assert_eq(json_object_array_length(cmd), 3);
	cr_assert_str_eq(json_object_get_string(json_object_array_get_idx(cmd, 0)), "/bin/sh");
	cr_assert(strstr(json_object_get_string(json_object_array_get_idx(cmd, 2)),
	    "sleep 3600") != NULL);
	cr_assert(strstr(json_object_get_string(json_object_array_get_idx(cmd, 2)),
	    "trap 'exit 0' TERM") != NULL);
	/* Nothing that serves or probes JupyterHub. */
	cr_assert_null(jpath(hub, "args", NULL));
	cr_assert_null(jpath(hub, "ports", NULL));
	cr_assert_null(jpath(hub, "readinessProbe", NULL));
	cr_assert_null(jpath(hub, "livenessProbe", NULL));
	cr_assert_null(jpath(hub, "startupProbe", NULL));
	cr_assert_null(jpath(hub, "lifecycle", NULL));
	/* Never restarted; gone by itself even if forgotten. */
	cr_assert_str_eq(jstr(m, "spec", "restartPolicy", NULL), "Never");
	cr_assert_gt(jint(m, 0, "spec", "activeDeadlineSeconds", NULL), HUBPOD_LIFETIME_S - 1);
	cr_assert_eq(jint(m, -1, "spec", "terminationGracePeriodSeconds", NULL), 5);
	/* The rest of the pod as the template has it. */
	cr_assert_not_null(container(m, "sidecar"));
	cr_assert_not_null(jpath(m, "spec", "initContainers", NULL));
	json_object_put(m);
}

Test(hubpod, the_deployment_is_left_unchanged)
{
	json_object *d = json_tokener_parse(deploy_json), *m;
	char *before = strdup(json_object_to_json_string(d));
	struct err e;

	err_clear(&e);
	m = hubpod_manifest(d, "nublado", NULL, &e);
	cr_assert_not_null(m);
	cr_assert_str_eq(json_object_to_json_string(d), before);
	free(before);
	json_object_put(m);
	json_object_put(d);
}

Test(hubpod, a_template_without_container_hub_is_an_error)
{
	json_object *d = json_tokener_parse("{\"spec\":{\"template\":{\"spec\":{\"containers\":"
	    "[{\"name\":\"other\",\"image\":\"x\"}]}}}}");
	struct err e;

	err_clear(&e);
	cr_assert_null(hubpod_manifest(d, "nublado", NULL, &e));
	cr_assert(strstr(e.msg, "no container named \"hub\"") != NULL, "%s", e.msg);
	cr_assert(strstr(e.hint, "--pod") != NULL);
	json_object_put(d);
	d = json_tokener_parse("{\"spec\":{}}");
	err_clear(&e);
	cr_assert_null(hubpod_manifest(d, "nublado", NULL, &e));
	cr_assert(strstr(e.msg, "no pod template") != NULL, "%s", e.msg);
	json_object_put(d);
}

/* ---- the hub finders and the temporary pod ---- */

static json_object *
hub_pod(const char *name, bool ready, const char *state, bool temporary)
{
	char s[1024];

	snprintf(s, sizeof s, "{\"metadata\":{\"name\":\"%s\",\"labels\":{\"app\":\"jupyterhub\","
	    "\"component\":\"hub\"%s}},\"status\":{\"phase\":\"Running\",\"conditions\":["
	    "{\"type\":\"Ready\",\"status\":\"%s\"}],\"containerStatuses\":[{\"name\":\"hub\","
	    "\"state\":%s}]}}", name, temporary ? ",\"" HUBPOD_LABEL "\":\"" HUBPOD_MANAGED_BY
	    "\"" : "", ready ? "True" : "False", state);
	return json_tokener_parse(s);
}

#define RUNNING "{\"running\":{}}"
#define CRASHING "{\"waiting\":{\"reason\":\"CrashLoopBackOff\"}}"

Test(hubpod, hub_find_pod_never_picks_the_temporary_pod)
{
	json_object *a = json_object_new_array();
	char *name = NULL;
	struct err e;

	json_object_array_add(a, hub_pod("hub-abc", false, CRASHING, false));
	json_object_array_add(a, hub_pod("hub-psql-x", true, RUNNING, true));
	err_clear(&e);
	cr_assert_eq(hub_pick_pod(a, "nublado", &name, &e), -1);
	cr_assert_null(name);
	cr_assert(strstr(e.msg, "hub-psql-x") == NULL, "%s", e.msg);
	cr_assert(strstr(e.msg, "hub-abc") != NULL, "%s", e.msg);
	/* Not as the sick-but-running fallback either. */
	err_clear(&e);
	cr_assert_eq(hub_pick_pod_sick(a, "nublado", true, &name, NULL, &e), -1);
	cr_assert_null(name);
	cr_assert_str_eq(hub_not_running_reason(a), "CrashLoopBackOff");
	json_object_put(a);
}

Test(hubpod, only_the_temporary_pod_is_no_hub_pod)
{
	json_object *a = json_object_new_array();
	char *name = NULL;
	struct err e;

	json_object_array_add(a, hub_pod("hub-psql-x", true, RUNNING, true));
	err_clear(&e);
	cr_assert_eq(hub_pick_pod(a, "nublado", &name, &e), -1);
	cr_assert(strstr(e.msg, "no hub pod in namespace") != NULL, "%s", e.msg);
	cr_assert_str_eq(hub_not_running_reason(a), "no hub pod");
	json_object_put(a);
}

Test(hubpod, a_hub_on_its_way_needs_no_temporary_pod)
{
	json_object *a = json_object_new_array();

	/* Pulling or creating: a pod from the same template would wait the same. */
	json_object_array_add(a, hub_pod("hub-new", false,
	    "{\"waiting\":{\"reason\":\"ContainerCreating\"}}", false));
	cr_assert_null(hub_not_running_reason(a));
	json_object_put(a);
	a = json_object_new_array();
	json_object_array_add(a, hub_pod("hub-x", false,
	    "{\"waiting\":{\"reason\":\"ImagePullBackOff\"}}", false));
	cr_assert_null(hub_not_running_reason(a));
	json_object_put(a);
	/* A container that ended says how. */
	a = json_object_new_array();
	json_object_array_add(a, hub_pod("hub-y", false,
	    "{\"terminated\":{\"reason\":\"OOMKilled\",\"exitCode\":137}}", false));
	cr_assert_str_eq(hub_not_running_reason(a), "OOMKilled");
	json_object_put(a);
}

Test(hubpod, a_running_hub_container_needs_no_temporary_pod)
{
	json_object *a = json_object_new_array();

	json_object_array_add(a, hub_pod("hub-abc", false, RUNNING, false));
	cr_assert_null(hub_not_running_reason(a));
	json_object_put(a);
	a = json_object_new_array();
	cr_assert_str_eq(hub_not_running_reason(a), "no hub pod");
	json_object_put(a);
}
