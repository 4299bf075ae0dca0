/* cmd.h: the command table's entry type, and what each command is handed */
#ifndef NUB_CMD_H
#define NUB_CMD_H

#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>

#include "../src/nublado/nub.h"
#include "../src/util/args.h"

#define CMD_HIDDEN		0x1	/* not listed in help (__complete) */
#define CMD_DESTRUCTIVE		0x2	/* changes the cluster: no prefix abbreviation */

struct cmd_ctx;

/*
 * The options of every command made of runbook steps, spelled once; T is
 * the command's options struct, with a `struct run_opts run' member.
 */
#define CMD_OPT_YES(T) OPT_BOOL_FLAGS("yes", 'y', T, run.yes, \
	"do not ask for confirmation", OPT_DESTRUCTIVE)
#define CMD_OPT_DRY_RUN(T) OPT_BOOL("dry-run", 0, T, run.dry_run, \
	"run every check and the server-side dry run, print the plan, change nothing")
#define CMD_OPT_OUTPUT(T, f) OPT_CHOICE("output", 'o', T, f, "FORMAT", \
	"json or yaml: the result on stdout (README: \"Output for scripts\")", "json|yaml")
#define CMD_OPT_TIMEOUT(T) OPT_DURATION("timeout", T, run.timeout_ms, \
	"how long to wait for each change to take effect (default 10m)", 1)
#define CMD_RUN_OPTS(T) CMD_OPT_YES(T), CMD_OPT_DRY_RUN(T), CMD_OPT_OUTPUT(T, run.output), \
	CMD_OPT_TIMEOUT(T)
#define CMD_OPT_IGNORE_SELF_HEAL(T, f) OPT_BOOL_FLAGS("ignore-self-heal", 0, T, f, \
	"block though Argo CD self-heal would undo it", OPT_DESTRUCTIVE)
#define CMD_OPT_PARALLEL(T, f) OPT_INT("parallel", 0, T, f, "N", \
	"lab deletes in flight at once (default 32)", 1, 500)
#define CMD_OPT_POD(T, f) OPT_STR("pod", 0, T, f, "NAME", "run psql in this pod (default: " \
	"the hub pod, Ready or else running)", COMPLETE_NONE)
#define CMD_OPT_DB_URL(T, f) OPT_STR("db-url", 0, T, f, "URL", \
	"the database URL (default: the deployed value)", COMPLETE_NONE)

/* What wipe-db and restore-db share: the runbook around their database step. */
struct runbook_opts {
	bool keep_blocked;
	const char *db_url;
	const char *pod;
	bool again;
	int parallel;
	bool ignore_self_heal;
};
#define CMD_RUNBOOK_OPTS(T, again_help) \
	OPT_BOOL("keep-blocked", 0, T, rb.keep_blocked, "leave user access blocked at the end"), \
	CMD_OPT_DB_URL(T, rb.db_url), CMD_OPT_POD(T, rb.pod), \
	OPT_BOOL_FLAGS("again", 0, T, rb.again, again_help, OPT_DESTRUCTIVE), \
	CMD_OPT_PARALLEL(T, rb.parallel), CMD_OPT_IGNORE_SELF_HEAL(T, rb.ignore_self_heal)

struct cmd_entry {
	const char *name;
	const char *summary;		/* one line for the command list */
	const char *operands;		/* the usage line's operands ("BACKUP"); options come from opts */
	const char *help;		/* paragraphs after the usage line, or NULL */
	const struct opt *opts;		/* the command's own options, bound into a struct */
	size_t opts_size;		/* sizeof that struct: main zeroes one, binds, passes it */
	int (*exec)(struct cmd_ctx *ctx, void *opts);
	unsigned flags;
	enum opt_complete args;		/* what its first argument completes to */
};

struct cmd_ctx {
	const char *prog;		/* "kubectl nublado" or "kubectl-nublado" */
	const struct cmd_entry *entry;
	const struct args *args;	/* global and command options together */
	struct nub_opts opts;		/* the global options, resolved */
};

/* The table, NULL-terminated, and the global options (plugin/main.c). */
extern const struct cmd_entry *const cmd_table[];
extern const struct opt cmd_global_opts[];

const struct cmd_entry *cmd_find(const char *name, bool *ambiguous);
void cmd_usage(const struct cmd_ctx *ctx, const struct cmd_entry *entry, FILE *f);

#endif
