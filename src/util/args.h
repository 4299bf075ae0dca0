/* args.h: option tables and a parser shared by every command (and completion) */
#ifndef NUB_ARGS_H
#define NUB_ARGS_H

#include <stdbool.h>

#include "err.h"

enum opt_kind {
	OPT_FLAG,	/* --yes */
	OPT_VALUE,	/* --timeout 5m, --timeout=5m, -n ns, -nns */
	OPT_COUNT,	/* -v -v, -vv, -v=3, --v=3 */
	OPT_LIST,	/* repeatable value: --exclude a --exclude b */
};

/* What completion may offer for a value (see plugin/cmd-complete.c). */
enum opt_complete {
	COMPLETE_NONE,
	COMPLETE_CHOICES,	/* from opt.choices */
	COMPLETE_FILE,
	COMPLETE_DIR,
	COMPLETE_CONTEXT,
	COMPLETE_NAMESPACE,
	COMPLETE_LAB_USER,
	COMPLETE_PHALANX_ENV,
	COMPLETE_BACKUP,	/* wipe-db's saved backups of the context, else *.sql files */
};

#define OPT_DESTRUCTIVE	0x1	/* never offered by completion (--yes) */
#define OPT_HIDDEN	0x2

struct opt {
	const char *name;	/* long name, without "--" */
	char shortname;		/* 0 for none */
	enum opt_kind kind;
	const char *metavar;	/* "DURATION" */
	const char *help;
	const char *choices;	/* "auto|always|never", or NULL */
	enum opt_complete complete;
	unsigned flags;
};

#define OPT_END { NULL, 0, OPT_FLAG, NULL, NULL, NULL, COMPLETE_NONE, 0 }

#define ARGS_MAX_OPTS 64

/* Parsed values, indexed like the option tables they came from. */
struct args {
	const struct opt *tables[2];	/* [0] global, [1] the subcommand's (may be NULL) */
	struct {
		const struct opt *opt;
		char *value;		/* last value given (OPT_VALUE) */
		char **list;		/* OPT_LIST values, NULL-terminated */
		int count;		/* times given */
	} seen[ARGS_MAX_OPTS];
	int nseen;
	char **pos;			/* positional arguments, NULL-terminated */
	int npos;
	char **rest;			/* everything after "--", NULL-terminated */
	int nrest;
	bool dashdash;
};

/*
 * Parse argv against the global table and, once a positional names it, the
 * subcommand's table; `pick' is asked for the table of the first positional
 * (the subcommand name) so options may come before or after it, as kubectl
 * allows.  Unknown options and missing values are usage errors (e->exit 2).
 */
typedef const struct opt *(*args_pick_fn)(const char *name, void *arg);
int args_parse(struct args *a, const struct opt *global, args_pick_fn pick,
    void *pick_arg, int argc, char **argv, struct err *e);
void args_free(struct args *a);

bool args_has(const struct args *a, const char *name);
const char *args_get(const struct args *a, const char *name);
int args_count(const struct args *a, const char *name);
char *const *args_list(const struct args *a, const char *name);
/* The global table's option of that name even where the command has one too. */
const char *args_get_global(const struct args *a, const char *name);

/* Look an option up by long or short name in a table; NULL if not there. */
const struct opt *opt_find(const struct opt *t, const char *name, char shortname);

/* Parse "30s", "5m", "1h30m", "250ms", or a bare number of seconds. */
int parse_duration_ms(const char *s, long *ms);

#endif
