/* complete.h: shell completion candidates from the option and command tables */
#ifndef NUB_COMPLETE_H
#define NUB_COMPLETE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>

#include "args.h"

/*
 * The protocol is cobra's `__complete' (kubectl >= 1.26 runs
 * kubectl_complete-<plugin> the same way): the words after the program name,
 * the last one being the word under the cursor (maybe ""); out come the
 * candidates, one a line as `value<TAB>description', then `:<directive>'.
 */
#define COMPLETE_DIR_ERROR		1	/* ignore the completions */
#define COMPLETE_DIR_NOSPACE		2	/* no space after the completion */
#define COMPLETE_DIR_NOFILE		4	/* no file completion when empty */
#define COMPLETE_DIR_FILTER_EXT		8	/* candidates are file extensions */
#define COMPLETE_DIR_FILTER_DIRS	16	/* directories only */
#define COMPLETE_DIR_KEEP_ORDER		32	/* do not sort */
#define COMPLETE_DIR_DEFAULT		0	/* file completion when empty */

/* One subcommand as completion sees it (made from the command table). */
struct complete_cmd {
	const char *name;
	const char *summary;
	const struct opt *opts;		/* may be NULL */
	bool hidden;			/* never offered */
	bool destructive;		/* only its full name selects it */
	enum opt_complete args;		/* its first argument, or COMPLETE_NONE */
};

/* What the words before the cursor said. */
struct complete_line {
	const struct complete_cmd *cmd;	/* the subcommand, or NULL */
	struct {
		const struct opt *opt;
		const char *value;	/* last value given; NULL for flags */
	} seen[ARGS_MAX_OPTS];
	int nseen;
	int npos;			/* positionals, the subcommand name included */
	bool dashdash;			/* "--" came before the cursor */
};

/* The value of an option given on the line (by long name), or NULL. */
const char *complete_line_get(const struct complete_line *l, const char *name);

struct complete_cand {
	char *value;
	char *desc;			/* may be NULL */
};

struct complete_result {
	struct complete_cand *v;
	size_t n, cap;
	unsigned directive;
};

void complete_add(struct complete_result *r, const char *value, const char *desc);
void complete_result_free(struct complete_result *r);

/*
 * Values that need the world (kubeconfig, cluster, file system): add every
 * candidate for `kind' (complete_run filters them by the typed prefix) and
 * return 0, or return -1 to offer nothing.  Never print.
 */
typedef int (*complete_lookup_fn)(enum opt_complete kind,
    const struct complete_line *line, struct complete_result *r, void *arg);

/*
 * Complete the last of `argv' (argc >= 0; none means "") against the global
 * options and the commands.  Destructive and hidden options are never
 * offered, nor options already given once (repeatable ones are).
 */
void complete_run(const struct opt *global, const struct complete_cmd *cmds,
    size_t ncmds, int argc, char *const *argv, complete_lookup_fn lookup,
    void *arg, struct complete_result *out);

/* Print in the protocol's format; descriptions dropped when !desc. */
void complete_print(FILE *f, const struct complete_result *r, bool desc);

#endif
