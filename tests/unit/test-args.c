/* test-args.c: the option parser every command shares */
#include <stdlib.h>
#include <string.h>

#include <criterion/criterion.h>

#include "../../src/util/args.h"

static const struct opt global[] = {
	{ "context", 0, OPT_VALUE, "NAME", "", NULL, COMPLETE_CONTEXT, 0, BIND_NONE, 0, 0, 0 },
	{ "namespace", 'n', OPT_VALUE, "NS", "", NULL, COMPLETE_NONE, 0, BIND_NONE, 0, 0, 0 },
	{ "verbose", 'v', OPT_COUNT, NULL, "", NULL, COMPLETE_NONE, 0, BIND_NONE, 0, 0, 0 },
	{ "color", 0, OPT_VALUE, "WHEN", "", "auto|always|never", COMPLETE_CHOICES, 0, BIND_NONE, 0, 0, 0 },
	OPT_END
};
static const struct opt sub[] = {
	{ "yes", 'y', OPT_FLAG, NULL, "", NULL, COMPLETE_NONE, OPT_DESTRUCTIVE, BIND_NONE, 0, 0, 0 },
	{ "user", 0, OPT_LIST, "NAME", "", NULL, COMPLETE_NONE, 0, BIND_NONE, 0, 0, 0 },
	OPT_END
};

static const struct opt *
pick(const char *name, void *arg)
{
	return strcmp(name, "kill-labs") == 0 ? sub : NULL;
}

static int
parse(struct args *a, struct err *e, int argc, char **argv)
{
	err_clear(e);
	return args_parse(a, global, pick, NULL, argc, argv, e);
}

/* Where the unbound tables above record things: the parser's own view. */
static const char *
seen_value(const struct args *a, const char *name, int *count, char *const **list)
{
	for (int i = 0; i < a->nseen; i++) {
		if (strcmp(a->seen[i].opt->name, name) != 0)
			continue;
		if (count != NULL)
			*count = a->seen[i].count;
		if (list != NULL)
			*list = a->seen[i].list;
		return a->seen[i].value != NULL ? a->seen[i].value : "";
	}
	return NULL;
}

Test(args, globals_before_and_after_command)
{
	char *argv[] = { "--context", "sim", "kill-labs", "-y", "-n=x", "--user", "a",
	    "--user=b", "-vv", NULL };
	char *const *users = NULL;
	struct args a;
	struct err e;
	int n = 0;

	cr_assert_eq(parse(&a, &e, 9, argv), 0, "%s", e.msg);
	cr_assert_str_eq(seen_value(&a, "context", NULL, NULL), "sim");
	cr_assert_str_eq(seen_value(&a, "namespace", NULL, NULL), "x");
	cr_assert_not_null(seen_value(&a, "yes", NULL, NULL));
	cr_assert_not_null(seen_value(&a, "verbose", &n, NULL));
	cr_assert_eq(n, 2);
	cr_assert_not_null(seen_value(&a, "user", NULL, &users));
	cr_assert_str_eq(users[0], "a");
	cr_assert_str_eq(users[1], "b");
	cr_assert_eq(a.npos, 1);
	args_free(&a);
}

Test(args, command_options_need_the_command)
{
	char *argv[] = { "-y", "kill-labs", NULL };
	struct args a;
	struct err e;

	cr_assert_eq(parse(&a, &e, 2, argv), -1);
	cr_assert_eq(e.exit, 2);
	cr_assert_str_eq(e.msg, "unknown option '-y'");
	args_free(&a);
}

Test(args, dashdash_rest)
{
	char *argv[] = { "kill-labs", "--", "-c", "select 1", NULL };
	struct args a;
	struct err e;

	cr_assert_eq(parse(&a, &e, 4, argv), 0);
	cr_assert_eq(a.nrest, 2);
	cr_assert_str_eq(a.rest[0], "-c");
	args_free(&a);
}

Test(args, bad_choice_and_missing_value)
{
	char *argv1[] = { "--color", "purple", NULL };
	char *argv2[] = { "--context", NULL };
	struct args a;
	struct err e;

	cr_assert_eq(parse(&a, &e, 2, argv1), -1);
	cr_assert(strstr(e.msg, "auto|always|never") != NULL);
	args_free(&a);
	cr_assert_eq(parse(&a, &e, 1, argv2), -1);
	cr_assert_str_eq(e.msg, "option '--context' needs a value");
	args_free(&a);
}

Test(args, verbosity_as_number)
{
	char *argv[] = { "-v=4", NULL };
	struct args a;
	struct err e;

	int n = 0;

	cr_assert_eq(parse(&a, &e, 1, argv), 0);
	cr_assert_not_null(seen_value(&a, "verbose", &n, NULL));
	cr_assert_eq(n, 4);
	args_free(&a);
}

Test(args, durations)
{
	long ms;

	cr_assert_eq(parse_duration_ms("30s", &ms), 0);
	cr_assert_eq(ms, 30000);
	cr_assert_eq(parse_duration_ms("1h30m", &ms), 0);
	cr_assert_eq(ms, 5400000);
	cr_assert_eq(parse_duration_ms("250ms", &ms), 0);
	cr_assert_eq(ms, 250);
	cr_assert_eq(parse_duration_ms("12", &ms), 0);
	cr_assert_eq(ms, 12000);
	cr_assert_eq(parse_duration_ms("0", &ms), 0);
	cr_assert_eq(ms, 0);
	cr_assert_eq(parse_duration_ms("5x", &ms), -1);
	cr_assert_eq(parse_duration_ms("", &ms), -1);
	cr_assert_eq(parse_duration_ms("-1s", &ms), -1);
}

/* Options bound to typed fields: what each command's table declares. */
struct bound {
	bool yes;
	const char *user;
	int parallel;
	long timeout_ms;
	int verbosity;
	char *const *groups;
};

#define B struct bound
static const struct opt bound_global[] = {
	OPT_COUNTER("verbose", 'v', B, verbosity, NULL, "", 0),
	OPT_COUNTER("v", 0, B, verbosity, "N", "", OPT_HIDDEN),
	OPT_STR("user", 0, B, user, "NAME", "", COMPLETE_NONE),
	OPT_END
};
static const struct opt bound_sub[] = {
	OPT_BOOL("yes", 'y', B, yes, ""),
	OPT_STR("user", 0, B, user, "NAME", "", COMPLETE_NONE),
	OPT_INT("parallel", 0, B, parallel, "N", "", 1, 500),
	OPT_DURATION("timeout", B, timeout_ms, "", 1),
	OPT_STR_LIST("group", 0, B, groups, "G", ""),
	OPT_END
};
#undef B

static const struct opt *
pick_bound(const char *name, void *arg)
{
	return strcmp(name, "cmd") == 0 ? bound_sub : NULL;
}

static int
bind_line(const char *line, struct bound *g, struct bound *c, struct err *e)
{
	char *copy = strdup(line), *argv[16], *save = NULL;
	struct args a;
	int argc = 0, rc;

	for (char *t = strtok_r(copy, " ", &save); t != NULL && argc < 16;
	    t = strtok_r(NULL, " ", &save))
		argv[argc++] = t;
	memset(g, 0, sizeof *g);
	memset(c, 0, sizeof *c);
	err_clear(e);
	rc = args_parse(&a, bound_global, pick_bound, NULL, argc, argv, e);
	if (rc == 0)
		rc = args_bind(&a, 0, g, e) < 0 || args_bind(&a, 1, c, e) < 0 ? -1 : 0;
	/* The strings bound point into a: compare them before it goes. */
	if (rc == 0 && c->groups != NULL)
		cr_assert_str_eq(c->groups[1], "b");
	if (rc == 0 && g->user != NULL)
		cr_assert_str_eq(g->user, "global-u");
	if (rc == 0 && c->user != NULL)
		cr_assert_str_eq(c->user, "own-u");
	c->groups = NULL;
	g->user = c->user = NULL;
	args_free(&a);
	free(copy);
	return rc;
}

Test(args, bind_typed_fields)
{
	struct bound g, c;
	struct err e;

	cr_assert_eq(bind_line("-vv --user global-u cmd -y --user own-u --parallel 8 "
	    "--timeout 90s --group a --group b --v=3", &g, &c, &e), 0, "%s", e.msg);
	cr_assert(c.yes);
	cr_assert_eq(c.parallel, 8);
	cr_assert_eq(c.timeout_ms, 90000);
	/* -vv and --v=3 both count into the one field, as kubectl's levels add up. */
	cr_assert_eq(g.verbosity, 5);
	cr_assert_not(g.yes);
	cr_assert_eq(g.parallel, 0);
}

Test(args, bind_refuses_bad_values)
{
	struct bound g, c;
	struct err e;

	cr_assert_eq(bind_line("cmd --parallel 0", &g, &c, &e), -1);
	cr_assert_eq(e.exit, 2);
	cr_assert_str_eq(e.msg, "invalid --parallel '0': want a number from 1 to 500");
	cr_assert_eq(bind_line("cmd --parallel 12x", &g, &c, &e), -1);
	cr_assert_eq(bind_line("cmd --parallel 501", &g, &c, &e), -1);
	cr_assert_eq(bind_line("cmd --timeout 0", &g, &c, &e), -1);
	cr_assert_str_eq(e.msg, "invalid --timeout '0': want a duration such as 30s or 10m");
	cr_assert_eq(bind_line("cmd --timeout soon", &g, &c, &e), -1);
	cr_assert_eq(e.exit, 2);
}
