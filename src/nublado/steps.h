/* steps.h: the runbook steps that talk only to the Kubernetes API, each with its own struct */
#ifndef NUB_STEPS_H
#define NUB_STEPS_H

#include <stdbool.h>
#include <stddef.h>

#include <json-c/json.h>

#include "ingress.h"
#include "labs.h"
#include "run.h"

/*
 * Each step's struct: its options first (set by the command), then what
 * inspect found and apply did (cleared by the step's reset).  A command
 * puts them in its list with STEP(step_block_ops, &b).
 */
#define STEP(ops, st) ((struct step){ &(ops), (st) })

/* block: delete the GafaelfawrIngresses that route to the hub or create labs. */
struct block_step {
	bool ignore_self_heal;	/* block though Argo CD self-heal would undo it */

	struct ingset set;
	bool self_heal;
	bool no_app;
	char *dir;		/* where the manifests are saved */
	long long blocked_ms;	/* when the ingresses were deleted (monotonic), 0 if not */
};
extern const struct step_ops step_block_ops;

/* kill-labs: delete the lab namespaces, wait until they are gone. */
struct kill_labs_step {
	const char *user;	/* --user: one user's lab */
	int parallel;		/* deletes in flight; 0 = 32 */

	struct labset set;
	size_t deleted;
	size_t appeared;	/* labs made after the list, found and deleted too */
};
extern const struct step_ops step_kill_labs_ops;

/* restart-hub: rollout restart of Deployment hub, then a Ready hub pod. */
struct restart_step {
	char *old_pod;
	char *new_pod;
	double seconds;
};
extern const struct step_ops step_restart_hub_ops;

/* unblock: Argo CD sync (or the saved manifests), then the ingresses exist. */
struct unblock_step {
	bool from_backup;	/* --from-backup: recreate from block's saved manifests */
	bool full_sync;		/* --full-sync: the whole Argo CD Application */
	bool after_block;	/* block runs earlier in the same command: there will be work */

	struct ingset now;	/* hub ingresses present now */
	json_object **saved;	/* saved by block */
	size_t nsaved;
	char **missing;		/* saved ones not present now */
	json_object *app;	/* the Argo CD Application, as inspect read it */
	bool running;		/* an Argo CD operation in progress */
	size_t created;
	char **others;		/* out of sync besides the ingresses: a full sync deploys them */
	long long unblocked_ms;	/* when the ingresses were seen back (monotonic), 0 if not */
};
extern const struct step_ops step_unblock_ops;

#endif
