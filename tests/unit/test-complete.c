/* test-complete.c: completion candidates from option and command tables */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <criterion/criterion.h>

#include "../../src/util/complete.h"

static const struct opt global[] = {
	{ "kubeconfig", 0, OPT_VALUE, "FILE", "kubeconfig file", NULL, COMPLETE_FILE, 0, BIND_NONE, 0, 0, 0 },
	{ "context", 0, OPT_VALUE, "NAME", "context", NULL, COMPLETE_CONTEXT, 0, BIND_NONE, 0, 0, 0 },
	{ "namespace", 'n', OPT_VALUE, "NS", "namespace", NULL, COMPLETE_NAMESPACE, 0, BIND_NONE, 0, 0, 0 },
	{ "verbose", 'v', OPT_COUNT, NULL, "more", NULL, COMPLETE_NONE, 0, BIND_NONE, 0, 0, 0 },
	{ "v", 0, OPT_COUNT, "N", "", NULL, COMPLETE_NONE, OPT_HIDDEN, BIND_NONE, 0, 0, 0 },
	{ "request-timeout", 0, OPT_VALUE, "D", "timeout", NULL, COMPLETE_NONE, 0, BIND_NONE, 0, 0, 0 },
	{ "color", 0, OPT_VALUE, "WHEN", "colour", "auto|always|never", COMPLETE_CHOICES, 0, BIND_NONE, 0, 0, 0 },
	{ "help", 'h', OPT_FLAG, NULL, "help", NULL, COMPLETE_NONE, 0, BIND_NONE, 0, 0, 0 },
	OPT_END
};
static const struct opt kill_labs[] = {
	{ "user", 0, OPT_LIST, "NAME", "one user's lab", NULL, COMPLETE_LAB_USER, 0, BIND_NONE, 0, 0, 0 },
	{ "yes", 'y', OPT_FLAG, NULL, "do not ask", NULL, COMPLETE_NONE, OPT_DESTRUCTIVE, BIND_NONE, 0, 0, 0 },
	{ "dry-run", 0, OPT_FLAG, NULL, "show only", NULL, COMPLETE_NONE, 0, BIND_NONE, 0, 0, 0 },
	OPT_END
};
static const struct opt db_url[] = {
	{ "phalanx", 0, OPT_VALUE, "DIR", "checkout", NULL, COMPLETE_DIR, 0, BIND_NONE, 0, 0, 0 },
	{ "env", 0, OPT_VALUE, "ENV", "environment", NULL, COMPLETE_PHALANX_ENV, 0, BIND_NONE, 0, 0, 0 },
	{ "output", 'o', OPT_VALUE, "FMT", "format", "text|json", COMPLETE_CHOICES, 0, BIND_NONE, 0, 0, 0 },
	OPT_END
};
static const struct opt wipe_db[] = {
	{ "yes", 'y', OPT_FLAG, NULL, "do not ask", NULL, COMPLETE_NONE, OPT_DESTRUCTIVE, BIND_NONE, 0, 0, 0 },
	{ "backup", 0, OPT_VALUE, "FILE", "backup file", NULL, COMPLETE_FILE, 0, BIND_NONE, 0, 0, 0 },
	OPT_END
};
static const struct complete_cmd cmds[] = {
	{ "status", "show state", NULL, false, false, COMPLETE_NONE },
	{ "kill-labs", "delete labs", kill_labs, false, true, COMPLETE_NONE },
	{ "db-url", "the URL", db_url, false, false, COMPLETE_NONE },
	{ "wipe-db", "the runbook", wipe_db, false, true, COMPLETE_NONE },
	{ "restore-db", "the way back", NULL, false, true, COMPLETE_BACKUP },
	{ "version", "versions", NULL, false, false, COMPLETE_NONE },
	{ "__complete", "completion", NULL, true, false, COMPLETE_NONE },
};
#define NCMDS (sizeof cmds / sizeof cmds[0])

/* A fake world: what the lookup was asked, and what it answers. */
static struct {
	enum opt_complete kind;
	char kubeconfig[128], context[128], phalanx[256];
	int calls;
	bool fail;
} world;

static int
fake_lookup(enum opt_complete kind, const struct complete_line *l,
    struct complete_result *r, void *arg)
{
	const char *v;

	world.calls++;
	world.kind = kind;
	snprintf(world.kubeconfig, sizeof world.kubeconfig, "%s",
	    (v = complete_line_get(l, "kubeconfig")) ? v : "");
	snprintf(world.context, sizeof world.context, "%s",
	    (v = complete_line_get(l, "context")) ? v : "");
	if (world.fail)
		return -1;
	switch (kind) {
	case COMPLETE_CONTEXT:
		complete_add(r, "dev", NULL);
		complete_add(r, "prod", "current context");
		complete_add(r, "prod-eu", NULL);
		break;
	case COMPLETE_NAMESPACE:
		complete_add(r, "default", NULL);
		complete_add(r, "nublado", NULL);
		complete_add(r, "nublado-alice", NULL);
		break;
	case COMPLETE_LAB_USER:
		complete_add(r, "alice", "lab namespace nublado-alice");
		complete_add(r, "bob", "lab namespace nublado-bob");
		break;
	case COMPLETE_BACKUP:
		complete_add(r, "/s/sim.1/backups/nublado-db-sim-20261129T040000Z.sql", "newest");
		complete_add(r, "/s/sim.1/backups/nublado-db-sim-20261128T040000Z.sql", NULL);
		break;
	case COMPLETE_PHALANX_ENV:
		snprintf(world.phalanx, sizeof world.phalanx, "%s",
		    (v = complete_line_get(l, "phalanx")) ? v : "");
		complete_add(r, "idfdev", NULL);
		complete_add(r, "idfprod", NULL);
		break;
	default:
		return -1;
	}
	return 0;
}

static struct complete_result res;

static void
reset(void)
{
	memset(&world, 0, sizeof world);
	memset(&res, 0, sizeof res);
}

static void
done(void)
{
	complete_result_free(&res);
}

TestSuite(complete, .init = reset, .fini = done);

/* Run completion on a line (words separated by spaces; "" for an empty last word). */
static void
run(int argc, ...)
{
	char *argv[32];
	va_list ap;

	va_start(ap, argc);
	for (int i = 0; i < argc; i++)
		argv[i] = va_arg(ap, char *);
	va_end(ap);
	complete_result_free(&res);
	complete_run(global, cmds, NCMDS, argc, argv, fake_lookup, NULL, &res);
}

/* The candidates joined by spaces. */
static const char *
values_of(void)
{
	static char s[4096];

	s[0] = '\0';
	for (size_t i = 0; i < res.n; i++) {
		if (i > 0)
			strcat(s, " ");
		strcat(s, res.v[i].value);
	}
	return s;
}

static const char *
desc_of(const char *value)
{
	for (size_t i = 0; i < res.n; i++)
		if (strcmp(res.v[i].value, value) == 0)
			return res.v[i].desc ? res.v[i].desc : "";
	return NULL;
}

Test(complete, subcommands_in_table_order_without_hidden)
{
	run(1, "");
	cr_assert_str_eq(values_of(), "status kill-labs db-url wipe-db restore-db version");
	cr_assert_str_eq(desc_of("db-url"), "the URL");
	cr_assert_eq(res.directive, COMPLETE_DIR_NOFILE | COMPLETE_DIR_KEEP_ORDER);
}

Test(complete, no_arguments_at_all_is_an_empty_word)
{
	run(0);
	cr_assert_str_eq(values_of(), "status kill-labs db-url wipe-db restore-db version");
}

Test(complete, subcommand_prefix)
{
	run(1, "wi");
	cr_assert_str_eq(values_of(), "wipe-db");
	run(1, "__");
	cr_assert_str_eq(values_of(), "");
	cr_assert_eq(res.directive & COMPLETE_DIR_NOFILE, COMPLETE_DIR_NOFILE);
}

Test(complete, subcommand_after_global_options)
{
	run(4, "--context", "prod", "-v", "st");
	cr_assert_str_eq(values_of(), "status");
	run(3, "--context=prod", "-nfoo", "v");
	cr_assert_str_eq(values_of(), "version");
	/* the value of --context is not the command */
	run(3, "--context", "status", "");
	cr_assert(strstr(values_of(), "kill-labs") != NULL);
}

Test(complete, global_flags_before_a_command)
{
	run(1, "--");
	cr_assert_str_eq(values_of(),
	    "--kubeconfig --context --namespace --verbose --request-timeout --color --help");
	cr_assert_eq(res.directive, COMPLETE_DIR_NOFILE);
	cr_assert_str_eq(desc_of("--context"), "context");
}

Test(complete, single_dash_offers_short_forms_too)
{
	run(1, "-");
	cr_assert(strstr(values_of(), "--namespace -n ") != NULL, "%s", values_of());
	cr_assert(strstr(values_of(), "-h") != NULL);
	run(1, "-n");
	cr_assert_str_eq(values_of(), "-n");
}

Test(complete, command_flags_then_globals_never_destructive)
{
	run(2, "kill-labs", "--");
	cr_assert(strncmp(values_of(), "--user --dry-run --kubeconfig", 29) == 0, "%s", values_of());
	cr_assert_null(desc_of("--yes"));
	run(2, "kill-labs", "-");
	cr_assert_null(desc_of("-y"));
	run(2, "wipe-db", "--y");
	cr_assert_str_eq(values_of(), "");
	run(2, "wipe-db", "--b");
	cr_assert_str_eq(values_of(), "--backup");
}

Test(complete, hidden_options_are_not_offered)
{
	run(1, "--v");
	cr_assert_str_eq(values_of(), "--verbose");
}

Test(complete, options_given_once_are_not_offered_again)
{
	run(4, "--context", "dev", "status", "--c");
	cr_assert_str_eq(values_of(), "--color");
	/* counted and repeatable ones are */
	run(5, "kill-labs", "--user", "a", "-v", "--");
	cr_assert(strstr(values_of(), "--user") != NULL);
	cr_assert(strstr(values_of(), "--verbose") != NULL);
	run(3, "--color=auto", "status", "--co");
	cr_assert_str_eq(values_of(), "--context");
}

Test(complete, destructive_commands_are_not_found_by_prefix)
{
	/* `wipe' is not wipe-db, so none of wipe-db's flags apply */
	run(2, "wipe", "--ba");
	cr_assert_str_eq(values_of(), "");
	/* a safe command is */
	run(2, "db", "--ph");
	cr_assert_str_eq(values_of(), "--phalanx");
}

Test(complete, nothing_after_a_command)
{
	run(2, "status", "");
	cr_assert_str_eq(values_of(), "");
	cr_assert_eq(res.directive, COMPLETE_DIR_NOFILE);
}

Test(complete, after_dashdash_no_flags)
{
	run(3, "status", "--", "--c");
	cr_assert_str_eq(values_of(), "");
	cr_assert_eq(res.directive, COMPLETE_DIR_NOFILE);
}

Test(complete, fixed_choices)
{
	run(2, "--color", "");
	cr_assert_str_eq(values_of(), "auto always never");
	cr_assert_eq(res.directive, COMPLETE_DIR_NOFILE);
	run(2, "--color", "a");
	cr_assert_str_eq(values_of(), "auto always");
	run(3, "db-url", "-o", "j");
	cr_assert_str_eq(values_of(), "json");
	cr_assert_eq(world.calls, 0);
}

Test(complete, value_after_equals_keeps_the_option)
{
	run(1, "--color=al");
	cr_assert_str_eq(values_of(), "--color=always");
	run(1, "--context=prod");
	cr_assert_str_eq(values_of(), "--context=prod --context=prod-eu");
	cr_assert_str_eq(desc_of("--context=prod"), "current context");
	/* a flag takes no value */
	run(1, "--help=");
	cr_assert_str_eq(values_of(), "");
}

Test(complete, value_glued_to_a_short_option)
{
	run(1, "-nnub");
	cr_assert_str_eq(values_of(), "-nnublado -nnublado-alice");
}

Test(complete, kubeconfig_is_file_completion)
{
	run(2, "--kubeconfig", "");
	cr_assert_eq(res.n, 0);
	cr_assert_eq(res.directive, COMPLETE_DIR_DEFAULT);
	run(1, "--kubeconfig=");
	cr_assert_eq(res.directive, COMPLETE_DIR_DEFAULT);
	run(3, "wipe-db", "--backup", "x");
	cr_assert_eq(res.directive, COMPLETE_DIR_DEFAULT);
}

Test(complete, phalanx_is_directory_completion)
{
	run(3, "db-url", "--phalanx", "");
	cr_assert_eq(res.n, 0);
	cr_assert_eq(res.directive, COMPLETE_DIR_FILTER_DIRS);
}

Test(complete, free_values_offer_nothing_not_files)
{
	run(2, "--request-timeout", "");
	cr_assert_eq(res.n, 0);
	cr_assert_eq(res.directive, COMPLETE_DIR_NOFILE);
}

Test(complete, contexts_see_the_kubeconfig_given_earlier)
{
	run(4, "--kubeconfig", "/tmp/k.yaml", "--context", "pr");
	cr_assert_eq(world.kind, COMPLETE_CONTEXT);
	cr_assert_str_eq(world.kubeconfig, "/tmp/k.yaml");
	cr_assert_str_eq(values_of(), "prod prod-eu");
	cr_assert_eq(res.directive, COMPLETE_DIR_NOFILE);
}

Test(complete, namespaces_use_the_context_on_the_line)
{
	run(5, "status", "--context=dev", "--kubeconfig=k", "-n", "");
	cr_assert_eq(world.kind, COMPLETE_NAMESPACE);
	cr_assert_str_eq(world.context, "dev");
	cr_assert_str_eq(world.kubeconfig, "k");
	cr_assert_str_eq(values_of(), "default nublado nublado-alice");
	run(2, "--namespace", "nublado-");
	cr_assert_str_eq(values_of(), "nublado-alice");
}

Test(complete, lab_users_only_for_kill_labs)
{
	run(3, "kill-labs", "--user", "");
	cr_assert_eq(world.kind, COMPLETE_LAB_USER);
	cr_assert_str_eq(values_of(), "alice bob");
	cr_assert_str_eq(desc_of("bob"), "lab namespace nublado-bob");
	/* --user is not an option of status */
	world.calls = 0;
	run(3, "status", "--user", "");
	cr_assert_eq(world.calls, 0);
}

Test(complete, phalanx_envs_see_the_checkout)
{
	run(5, "db-url", "--phalanx", "/src/phalanx", "--env", "idfp");
	cr_assert_eq(world.kind, COMPLETE_PHALANX_ENV);
	cr_assert_str_eq(world.phalanx, "/src/phalanx");
	cr_assert_str_eq(values_of(), "idfprod");
}

Test(complete, failed_lookups_offer_nothing)
{
	world.fail = true;
	run(2, "-n", "");
	cr_assert_eq(world.calls, 1);
	cr_assert_eq(res.n, 0);
	cr_assert_eq(res.directive, COMPLETE_DIR_NOFILE);
}

Test(complete, unknown_options_are_skipped)
{
	run(3, "--bogus", "--context", "d");
	cr_assert_str_eq(values_of(), "dev");
}

static char *
print_to_string(bool desc)
{
	char *s = NULL;
	size_t n = 0;
	FILE *f = open_memstream(&s, &n);

	complete_print(f, &res, desc);
	fclose(f);
	return s;
}

Test(complete, protocol_output)
{
	char *s;

	complete_add(&res, "prod", "current context");
	complete_add(&res, "dev", NULL);
	complete_add(&res, "bad\nvalue", NULL);
	complete_add(&res, "multi", "first line\tx\nsecond line");
	res.directive = 36;
	s = print_to_string(true);
	cr_assert_str_eq(s, "prod\tcurrent context\ndev\nmulti\tfirst line x\n:36\n");
	free(s);
	s = print_to_string(false);
	cr_assert_str_eq(s, "prod\ndev\nmulti\n:36\n");
	free(s);
}

Test(complete, restore_db_offers_saved_backups_newest_first_else_sql_files)
{
	run(2, "restore-db", "");
	cr_assert_str_eq(values_of(), "/s/sim.1/backups/nublado-db-sim-20261129T040000Z.sql "
	    "/s/sim.1/backups/nublado-db-sim-20261128T040000Z.sql");
	cr_assert(res.directive & COMPLETE_DIR_KEEP_ORDER);
	cr_assert(res.directive & COMPLETE_DIR_NOFILE);
	cr_assert_eq(world.kind, COMPLETE_BACKUP);
	/* A path of one's own: files ending in .sql. */
	run(2, "restore-db", "./my");
	cr_assert_str_eq(values_of(), "sql");
	cr_assert_eq(res.directive, COMPLETE_DIR_FILTER_EXT);
	/* Only the first argument. */
	run(3, "restore-db", "x.sql", "");
	cr_assert_str_eq(values_of(), "");
}
