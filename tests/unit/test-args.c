/* test-args.c: the option parser every command shares */
#include <string.h>

#include <criterion/criterion.h>

#include "../../src/util/args.h"

static const struct opt global[] = {
	{ "context", 0, OPT_VALUE, "NAME", "", NULL, COMPLETE_CONTEXT, 0 },
	{ "namespace", 'n', OPT_VALUE, "NS", "", NULL, COMPLETE_NONE, 0 },
	{ "verbose", 'v', OPT_COUNT, NULL, "", NULL, COMPLETE_NONE, 0 },
	{ "color", 0, OPT_VALUE, "WHEN", "", "auto|always|never", COMPLETE_CHOICES, 0 },
	OPT_END
};
static const struct opt sub[] = {
	{ "yes", 'y', OPT_FLAG, NULL, "", NULL, COMPLETE_NONE, OPT_DESTRUCTIVE },
	{ "user", 0, OPT_LIST, "NAME", "", NULL, COMPLETE_NONE, 0 },
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

Test(args, globals_before_and_after_command)
{
	char *argv[] = { "--context", "sim", "kill-labs", "-y", "-n=x", "--user", "a",
	    "--user=b", "-vv", NULL };
	struct args a;
	struct err e;

	cr_assert_eq(parse(&a, &e, 9, argv), 0, "%s", e.msg);
	cr_assert_str_eq(args_get(&a, "context"), "sim");
	cr_assert_str_eq(args_get(&a, "namespace"), "x");
	cr_assert(args_has(&a, "yes"));
	cr_assert_eq(args_count(&a, "verbose"), 2);
	cr_assert_str_eq(args_list(&a, "user")[0], "a");
	cr_assert_str_eq(args_list(&a, "user")[1], "b");
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

	cr_assert_eq(parse(&a, &e, 1, argv), 0);
	cr_assert_eq(args_count(&a, "verbose"), 4);
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
