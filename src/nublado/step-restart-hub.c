/* step-restart-hub.c: runbook step 6: restart Deployment hub, wait for a new Ready hub pod */
#include <stdlib.h>

#include "../util/log.h"
#include "../util/sig.h"
#include "hub.h"
#include "rollout.h"
#include "steps.h"

static int
restart_inspect(struct run *r, void *st, struct err *e)
{
	struct restart_step *s = st;
	struct err pe;

	err_clear(&pe);
	/* No Ready hub now is no reason not to restart: that may be the cure. */
	if (hub_find_pod(r->n, &s->old_pod, &pe) < 0)
		log_debug(LOG_STEPS, "hub pod before the restart: %s", pe.msg);
	return 0;
}

static int
restart_plan(struct run *r, void *st, struct buf *out, bool *empty, struct err *e)
{
	struct restart_step *s = st;

	*empty = false;
	buf_printf(out, "  restart deployment/%s in '%s'%s%s%s\n", HUB_DEPLOYMENT, r->n->ns,
	    s->old_pod ? " (pod " : "", s->old_pod ? s->old_pod : "",
	    s->old_pod ? " will be replaced)" : "");
	return 0;
}

static int
restart_apply(struct run *r, void *st, struct err *e)
{
	char stamp[32];

	if (kube_deploy_restart(r->n->kube, r->n->ns, HUB_DEPLOYMENT, r->dry_run, stamp, e) < 0)
		return -1;
	json_object_object_add(report_section(&r->report, "restart-hub"), "restartedAt",
	    json_object_new_string(stamp));
	return 0;
}

static int
restart_wait(struct run *r, void *st, struct err *e)
{
	struct restart_step *s = st;
	long long start = now_ms();

	if (r->dry_run)
		return 0;
	free(s->new_pod);
	if (hub_wait_replaced(r->n, s->old_pod, r->timeout_ms, r->tty,
	    "waiting for the new hub pod", &s->new_pod, e) < 0)
		return -1;
	s->seconds = (double)(now_ms() - start) / 1000.0;
	json_object_object_add(report_section(&r->report, "restart-hub"), "pod",
	    json_object_new_string(s->new_pod));
	return 0;
}

static void
restart_result(struct run *r, void *st, struct buf *out)
{
	struct restart_step *s = st;

	buf_printf(out, "hub restarted: pod %s is Ready (%.1fs)", s->new_pod ? s->new_pod : "?",
	    s->seconds);
}

static void
restart_reset(void *st)
{
	struct restart_step *s = st;

	free(s->old_pod);
	free(s->new_pod);
	s->old_pod = s->new_pod = NULL;
}

const struct step_ops step_restart_hub_ops = {
	.name = "restart-hub", .title = "restart the hub",
	.inspect = restart_inspect, .plan = restart_plan, .apply = restart_apply,
	.wait = restart_wait, .result = restart_result, .reset = restart_reset,
	.server_dry_run = true,
};
