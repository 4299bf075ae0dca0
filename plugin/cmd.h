/* cmd.h: the command table's entry type, and what each command is handed */
#ifndef NUB_CMD_H
#define NUB_CMD_H

#include <stdbool.h>
#include <stdio.h>

#include "../src/nublado/nub.h"
#include "../src/util/args.h"

#define CMD_HIDDEN		0x1	/* not listed in help (__complete) */
#define CMD_DESTRUCTIVE		0x2	/* changes the cluster: no prefix abbreviation */

struct cmd_ctx;

/* Options every changing command shares, spelled once. */
#define CMD_OPT_YES { "yes", 'y', OPT_FLAG, NULL, \
	"do not ask for confirmation", NULL, COMPLETE_NONE, OPT_DESTRUCTIVE }
#define CMD_OPT_IGNORE_SELF_HEAL { "ignore-self-heal", 0, OPT_FLAG, NULL, \
	"block though Argo CD self-heal would undo it", NULL, COMPLETE_NONE, OPT_DESTRUCTIVE }
#define CMD_OPT_DRY_RUN { "dry-run", 0, OPT_FLAG, NULL, \
	"run every check and the server-side dry run, print the plan, change nothing", \
	NULL, COMPLETE_NONE, 0 }
#define CMD_OPT_OUTPUT { "output", 'o', OPT_VALUE, "FORMAT", \
	"json: the results as JSON on stdout", "json", COMPLETE_CHOICES, 0 }
#define CMD_OPT_TIMEOUT { "timeout", 0, OPT_VALUE, "DURATION", \
	"how long to wait for each change to take effect (default 10m)", NULL, \
	COMPLETE_NONE, 0 }

/* Fill the shared step options from the command line; -1 on a bad value (exit 2). */
struct step_ctx;
int cmd_step_opts(const struct cmd_ctx *ctx, struct step_ctx *c);

struct cmd_entry {
	const char *name;
	const char *summary;		/* one line for the command list */
	const char *usage;		/* what follows the name in the usage line */
	const char *help;		/* paragraphs after the usage line, or NULL */
	const struct opt *opts;		/* the command's own options */
	int (*exec)(struct cmd_ctx *ctx);
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
