/* steps.h: each runbook step as a value: inspect, plan, apply, wait */
#ifndef NUB_STEPS_H
#define NUB_STEPS_H

#include <stdbool.h>
#include <stddef.h>

#include <json-c/json.h>

#include "../util/buf.h"
#include "nub.h"

struct wipe;
struct restore;

/* What every step may look at: the session and the shared command options. */
struct step_ctx {
	struct nub *n;
	bool dry_run;
	bool yes;
	bool json;		/* -o json: results as JSON on stdout, chatter on stderr */
	bool tty;		/* stderr is a terminal: progress bars */
	long timeout_ms;	/* for each wait */
	int parallel;		/* kill-labs */
	const char *user;	/* kill-labs --user */
	bool from_backup;	/* unblock --from-backup */
	bool full_sync;		/* unblock --full-sync: the whole Argo CD Application */
	bool ignore_self_heal;	/* block though Argo CD self-heal would undo it */
	char *state_dir;	/* $XDG_STATE_HOME/kubectl-nublado/<context> */
	json_object *report;	/* per-step results, for -o json */
	bool preflight_refuses;	/* wipe-db: any inspect failure is a refusal (exit 3) */
	struct wipe *wipe;	/* wipe-db's database steps share this */
	struct restore *restore;	/* restore-db's likewise */
	bool after_block;	/* block runs earlier in this command: unblock will have work */
	long long blocked_ms;	/* when block deleted the ingresses (monotonic), 0 if not */
	long long unblocked_ms;	/* when unblock saw them back, 0 if not */
};

/*
 * A runbook step.  inspect reads the cluster and changes nothing; plan
 * says in words what apply would change (nothing to do = an empty plan,
 * which makes a re-run after success or interruption finish only what is
 * left); apply changes it (server-side dry run with dry_run); wait returns
 * once the change has taken effect.  Each returns 0 or -1 with e set.
 */
struct step {
	const char *name;	/* "block", "kill-labs", ... */
	const char *title;	/* "block user access" */
	int (*inspect)(struct step_ctx *c, void **state, struct err *e);
	/* Append the plan's lines to out; *empty when there is nothing to do. */
	int (*plan)(struct step_ctx *c, void *state, struct buf *out, bool *empty,
	    struct err *e);
	int (*apply)(struct step_ctx *c, void *state, struct err *e);
	int (*wait)(struct step_ctx *c, void *state, struct err *e);
	/* What was done, one line, for the summary (may be NULL). */
	void (*result)(struct step_ctx *c, void *state, struct buf *out);
	void (*free)(void *state);
};

extern const struct step step_block;
extern const struct step step_kill_labs;
extern const struct step step_restart_hub;
extern const struct step step_unblock;

/*
 * Run steps in order: inspect all (nothing changes if one fails), print
 * the joined plan, ask (`question', naming the target; `typed' for a typed
 * confirmation), then apply and wait each.  With dry_run: inspect, plan and
 * the server-side dry run only.  Everything already done: say so, exit 0.
 */
int steps_run(struct step_ctx *c, const struct step *const *steps, size_t n,
    const char *question, const char *typed, struct err *e);

/* Fill c's common parts from the session (state dir); free with step_ctx_free. */
int step_ctx_init(struct step_ctx *c, struct nub *n, struct err *e);
void step_ctx_free(struct step_ctx *c);

/*
 * A whole command made of steps: open the session, run, print the -o json
 * report, and turn the outcome into an exit code (0, 1, 3 refused, 130).
 * `tmpl' carries the command's options; `question' may hold one %s for
 * the context name.  `typed_context' asks the user to type the context name.
 */
int steps_main(const struct nub_opts *o, const struct step_ctx *tmpl,
    const struct step *const *steps, size_t n, const char *question,
    bool typed_context);

/*
 * Finish the -o json report, if there is one: "ok", and "error" with
 * failed's message when the command failed (failed NULL: it did not); print it.
 */
void step_report_end(struct step_ctx *c, const struct err *failed);

/* Where the data goes: stdout normally, stderr under -o json (stdout is JSON then). */
void step_say(struct step_ctx *c, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

#endif
