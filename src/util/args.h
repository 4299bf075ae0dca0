/* args.h: option tables and a parser shared by every command (and completion) */
#ifndef NUB_ARGS_H
#define NUB_ARGS_H

#include <stdbool.h>
#include <stddef.h>

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
	COMPLETE_KUBE_CLUSTER,	/* the kubeconfig's cluster entries (--cluster) */
	COMPLETE_KUBE_USER,	/* the kubeconfig's user entries (--user) */
};

#define OPT_DESTRUCTIVE	0x1	/* never offered by completion (--yes) */
#define OPT_HIDDEN	0x2

/* Where a parsed option lands in the command's options struct (args_bind). */
enum opt_bind {
	BIND_NONE,
	BIND_BOOL,	/* bool: given */
	BIND_STR,	/* const char *: the last value (owned by struct args) */
	BIND_INT,	/* int: a number in [lo, hi] */
	BIND_MS,	/* long: a duration in ms, at least lo */
	BIND_COUNT,	/* int: += times given (or N of -v=N) */
	BIND_LIST,	/* char *const *: every value, NULL-terminated */
};

struct opt {
	const char *name;	/* long name, without "--" */
	char shortname;		/* 0 for none */
	enum opt_kind kind;
	const char *metavar;	/* "DURATION" */
	const char *help;
	const char *choices;	/* "auto|always|never", or NULL */
	enum opt_complete complete;
	unsigned flags;
	enum opt_bind bind;
	size_t off;		/* offsetof the field in the options struct */
	long lo, hi;		/* BIND_INT's range, BIND_MS's minimum */
};

#define OPT_END { NULL, 0, OPT_FLAG, NULL, NULL, NULL, COMPLETE_NONE, 0, BIND_NONE, 0, 0, 0 }

/*
 * Option table entries bound to a field of struct T, as git's
 * parse-options does: a misspelt field does not compile, and the usage
 * line is printed from the table.
 */
#define OPT_BOOL_FLAGS(l, s, T, f, h, fl) { .name = (l), .shortname = (s), \
	.kind = OPT_FLAG, .help = (h), .flags = (fl), .bind = BIND_BOOL, .off = offsetof(T, f) }
#define OPT_BOOL(l, s, T, f, h) OPT_BOOL_FLAGS(l, s, T, f, h, 0)
#define OPT_STR(l, s, T, f, mv, h, cmp) { .name = (l), .shortname = (s), .kind = OPT_VALUE, \
	.metavar = (mv), .help = (h), .complete = (cmp), .bind = BIND_STR, .off = offsetof(T, f) }
#define OPT_CHOICE(l, s, T, f, mv, h, ch) { .name = (l), .shortname = (s), .kind = OPT_VALUE, \
	.metavar = (mv), .help = (h), .choices = (ch), .complete = COMPLETE_CHOICES, \
	.bind = BIND_STR, .off = offsetof(T, f) }
#define OPT_INT(l, s, T, f, mv, h, min, max) { .name = (l), .shortname = (s), \
	.kind = OPT_VALUE, .metavar = (mv), .help = (h), .bind = BIND_INT, \
	.off = offsetof(T, f), .lo = (min), .hi = (max) }
#define OPT_STR_LIST(l, s, T, f, mv, h) { .name = (l), .shortname = (s), .kind = OPT_LIST, \
	.metavar = (mv), .help = (h), .bind = BIND_LIST, .off = offsetof(T, f) }
#define OPT_COUNTER(l, s, T, f, mv, h, fl) { .name = (l), .shortname = (s), .kind = OPT_COUNT, \
	.metavar = (mv), .help = (h), .flags = (fl), .bind = BIND_COUNT, .off = offsetof(T, f) }
#define OPT_DURATION(l, T, f, h, min) { .name = (l), .kind = OPT_VALUE, \
	.metavar = "DURATION", .help = (h), .bind = BIND_MS, .off = offsetof(T, f), .lo = (min) }

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

/*
 * Store every option given from table `which' (0 global, 1 the
 * command's) into the struct at dst, converting as each entry's bind
 * says; a bad number or duration is a usage error (e->exit 2).
 */
int args_bind(const struct args *a, int which, void *dst, struct err *e);


/* Look an option up by long or short name in a table; NULL if not there. */
const struct opt *opt_find(const struct opt *t, const char *name, char shortname);

/* Parse "30s", "5m", "1h30m", "250ms", or a bare number of seconds. */
int parse_duration_ms(const char *s, long *ms);

#endif
