/* run.h: the runner: a command made of runbook steps, and what every step may use */
#ifndef NUB_RUN_H
#define NUB_RUN_H

#include <stdbool.h>
#include <stddef.h>

#include <json-c/json.h>

#include "../util/buf.h"
#include "../util/report.h"
#include "nub.h"

/* The options every changing command shares (bound from its option table). */
struct run_opts {
	bool yes;
	bool dry_run;
	const char *output;	/* -o: NULL, "json" or "yaml" */
	long timeout_ms;	/* for each wait; 0 = the default, 10 minutes */
};

/* What every step may look at, nothing more; a step's own options are its own. */
struct run {
	struct nub *n;
	bool dry_run;
	bool yes;
	bool tty;		/* stderr is a terminal: progress bars */
	bool quiet_out;		/* -o json|yaml: stdout is the report, words go to stderr */
	long timeout_ms;
	char *state_dir;	/* $XDG_STATE_HOME/kubectl-nublado/<cluster> */
	struct report report;	/* the -o envelope; each step adds its section */
};

/*
 * A runbook step: inspect reads the cluster and changes nothing; plan says
 * in words what apply would change (nothing to do = *empty, which makes a
 * re-run after success or interruption finish only what is left); apply
 * changes it (a server-side dry run under dry_run); wait returns once the
 * change has taken effect; result is the summary line.  `st' is the step's
 * own struct (its options and what inspect found); reset forgets what
 * inspect found, so the runner may inspect again after an earlier step
 * changed the cluster.  Each returns 0 or -1 with e set.
 */
struct step_ops {
	const char *name;	/* "block", "kill-labs", ... */
	const char *title;	/* "block user access" */
	int (*inspect)(struct run *r, void *st, struct err *e);
	int (*plan)(struct run *r, void *st, struct buf *out, bool *empty, struct err *e);
	int (*apply)(struct run *r, void *st, struct err *e);
	int (*wait)(struct run *r, void *st, struct err *e);
	void (*result)(struct run *r, void *st, struct buf *out);	/* may be NULL */
	void (*reset)(void *st);
	/* What inspect found, as `status' shows it (may be NULL). */
	void (*describe)(struct run *r, void *st, json_object *into);
	/* Does a done step leave users blocked (block) or let them in (unblock)? */
	int access;		/* +1 blocks, -1 unblocks, 0 neither */
	bool server_dry_run;	/* apply under --dry-run asks the API server (dryRun=All) */
};

struct step {
	const struct step_ops *ops;
	void *st;
};

/*
 * A command made of steps.  The hooks are the command's own business
 * around the steps (wipe-db's journal and summary); each may be NULL.
 */
struct run_cmd {
	const char *name;	/* "wipe-db": the report's command */
	struct step *steps;
	size_t n;
	const char *question;	/* the confirmation; may hold one %s for the context */
	bool typed;		/* the user types the context name to confirm */
	bool refuse;		/* an inspect or plan failure is a refusal (exit 3) */
	/* The session is open, nothing inspected: 1 = nothing to do (said so), 0 = go on. */
	int (*prepare)(struct run *r, struct run_cmd *cmd, struct err *e);
	/* Confirmed: before the first change. */
	int (*begin)(struct run *r, struct run_cmd *cmd, struct err *e);
	/* After the steps: failed is NULL when they all succeeded. */
	void (*finish)(struct run *r, struct run_cmd *cmd, const struct err *failed);
	void *arg;		/* the command's own state, for the hooks */
};

/*
 * Open the session, run the steps (inspect all: nothing changes if one
 * fails; print the joined plan; confirm; apply and wait each, inspecting
 * again what an earlier step changed), print the -o report, and return the
 * exit code (0, 1, 3 refused, 130 interrupted).
 */
int run_main(const struct nub_opts *g, const struct run_opts *o, struct run_cmd *cmd);

/* For steps with nothing to do in a phase: inspect/apply/wait that do nothing, */
int run_nothing(struct run *r, void *st, struct err *e);
/* and a reset for a step whose struct another step of the command resets. */
void run_keep(void *st);

/* Where words go: stdout normally, stderr under -o (stdout is the report then). */
void run_say(struct run *r, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

#endif
