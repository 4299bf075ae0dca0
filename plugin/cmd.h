/* cmd.h: the command table's entry type, and what each command is handed */
#ifndef NUB_CMD_H
#define NUB_CMD_H

#include <stdbool.h>
#include <stdio.h>

#include "../src/nublado/nub.h"
#include "../src/util/args.h"

#define CMD_HIDDEN		0x1	/* not listed in help (__complete) */
#define CMD_DESTRUCTIVE		0x2	/* changes the cluster: no prefix abbreviation */
#define CMD_UNIMPLEMENTED	0x4	/* listed honestly as not there yet */

struct cmd_ctx;

struct cmd_entry {
	const char *name;
	const char *summary;		/* one line for the command list */
	const char *usage;		/* what follows the name in the usage line */
	const char *help;		/* paragraphs after the usage line, or NULL */
	const struct opt *opts;		/* the command's own options */
	int (*exec)(struct cmd_ctx *ctx);
	unsigned flags;
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
