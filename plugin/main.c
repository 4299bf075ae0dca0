/* main.c: global options, the command table, dispatch */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "../src/util/exitcode.h"
#include "../src/util/log.h"
#include "../src/util/sig.h"
#include "../src/util/termsafe.h"
#include "../src/nublado/steps.h"
#include "cmd.h"

extern const struct cmd_entry cmd_status_entry;
extern const struct cmd_entry cmd_block_entry;
extern const struct cmd_entry cmd_kill_labs_entry;
extern const struct cmd_entry cmd_labs_entry;
extern const struct cmd_entry cmd_db_url_entry;
extern const struct cmd_entry cmd_psql_entry;
extern const struct cmd_entry cmd_wipe_db_entry;
extern const struct cmd_entry cmd_restore_db_entry;
extern const struct cmd_entry cmd_restart_hub_entry;
extern const struct cmd_entry cmd_unblock_entry;
extern const struct cmd_entry cmd_version_entry;
extern const struct cmd_entry cmd_complete_entry;
/* plugin/cmd-complete.c: -1 unless this is a completion run (__complete, kubectl_complete-nublado) */
int cmd_complete_main(int argc, char **argv);

/* In runbook order, then the helpers. */
const struct cmd_entry *const cmd_table[] = {
	&cmd_status_entry,
	&cmd_block_entry,
	&cmd_kill_labs_entry,
	&cmd_labs_entry,
	&cmd_db_url_entry,
	&cmd_psql_entry,
	&cmd_wipe_db_entry,
	&cmd_restart_hub_entry,
	&cmd_restore_db_entry,
	&cmd_unblock_entry,
	&cmd_version_entry,
	&cmd_complete_entry,
	NULL
};

const struct opt cmd_global_opts[] = {
	{ "kubeconfig", 0, OPT_VALUE, "FILE",
	  "the kubeconfig file to use (else $KUBECONFIG, else ~/.kube/config)",
	  NULL, COMPLETE_FILE, 0 },
	{ "context", 0, OPT_VALUE, "NAME", "the kubeconfig context to use",
	  NULL, COMPLETE_CONTEXT, 0 },
	{ "namespace", 'n', OPT_VALUE, "NAME",
	  "the Nublado namespace (default \"nublado\")", NULL, COMPLETE_NAMESPACE, 0 },
	/* kubectl's config flags, as client-go applies them over the kubeconfig. */
	{ "cluster", 0, OPT_VALUE, "NAME", "the kubeconfig cluster to use (not the context's)",
	  NULL, COMPLETE_NONE, 0 },
	{ "user", 0, OPT_VALUE, "NAME", "the kubeconfig user to use (after kill-labs: "
	  "its --user)", NULL, COMPLETE_NONE, 0 },
	{ "server", 's', OPT_VALUE, "URL", "the API server's address and port", NULL,
	  COMPLETE_NONE, 0 },
	{ "tls-server-name", 0, OPT_VALUE, "NAME",
	  "server name for the certificate check and SNI (else the server's host)", NULL,
	  COMPLETE_NONE, 0 },
	{ "certificate-authority", 0, OPT_VALUE, "FILE", "CA certificate(s) to trust", NULL,
	  COMPLETE_FILE, 0 },
	{ "insecure-skip-tls-verify", 0, OPT_FLAG, NULL,
	  "do not check the server's certificate (insecure)", NULL, COMPLETE_NONE, 0 },
	{ "client-certificate", 0, OPT_VALUE, "FILE", "client certificate for TLS", NULL,
	  COMPLETE_FILE, 0 },
	{ "client-key", 0, OPT_VALUE, "FILE", "client key for TLS", NULL, COMPLETE_FILE, 0 },
	{ "token", 0, OPT_VALUE, "TOKEN", "bearer token (other users may see it in ps)", NULL,
	  COMPLETE_NONE, 0 },
	{ "as", 0, OPT_VALUE, "USER", "impersonate this user (or service account)", NULL,
	  COMPLETE_NONE, 0 },
	{ "as-group", 0, OPT_LIST, "GROUP", "impersonate this group too (repeatable)", NULL,
	  COMPLETE_NONE, 0 },
	{ "as-uid", 0, OPT_VALUE, "UID", "impersonate this UID too", NULL, COMPLETE_NONE, 0 },
	{ "disable-compression", 0, OPT_FLAG, NULL, "ask for uncompressed responses", NULL,
	  COMPLETE_NONE, 0 },
	{ "cache-dir", 0, OPT_VALUE, "DIR", "accepted for kubectl; ignored (no discovery "
	  "cache)", NULL, COMPLETE_DIR, 0 },
	{ "request-timeout", 0, OPT_VALUE, "DURATION",
	  "time limit for each API request, e.g. 30s (default: none)", NULL,
	  COMPLETE_NONE, 0 },
	{ "verbose", 'v', OPT_COUNT, NULL,
	  "say more on stderr; repeat for more (-vv requests, -vvv headers)", NULL,
	  COMPLETE_NONE, 0 },
	{ "v", 0, OPT_COUNT, "N", "verbosity as a number, as kubectl's --v=N", NULL,
	  COMPLETE_NONE, OPT_HIDDEN },
	{ "color", 0, OPT_VALUE, "WHEN", "colour: auto, always or never (NO_COLOR honoured)",
	  "auto|always|never", COMPLETE_CHOICES, 0 },
	{ "help", 'h', OPT_FLAG, NULL, "show help", NULL, COMPLETE_NONE, 0 },
	OPT_END
};

const struct cmd_entry *
cmd_find(const char *name, bool *ambiguous)
{
	const struct cmd_entry *found = NULL;
	size_t n = strlen(name);
	int matches = 0;

	*ambiguous = false;
	for (int i = 0; cmd_table[i] != NULL; i++) {
		const struct cmd_entry *c = cmd_table[i];

		if (strcmp(c->name, name) == 0)
			return c;
		/* A destructive command must be typed in full. */
		if (strncmp(c->name, name, n) == 0 && !(c->flags & CMD_DESTRUCTIVE)) {
			found = c;
			matches++;
		}
	}
	if (matches > 1) {
		*ambiguous = true;
		return NULL;
	}
	return found;
}

/* Edit distance, for "did you mean": names are short. */
static size_t
distance(const char *a, const char *b)
{
	size_t la = strlen(a), lb = strlen(b), row[64], prev, tmp;

	if (la >= 63 || lb >= 63)
		return 99;
	for (size_t j = 0; j <= lb; j++)
		row[j] = j;
	for (size_t i = 1; i <= la; i++) {
		prev = row[0];
		row[0] = i;
		for (size_t j = 1; j <= lb; j++) {
			size_t best = prev + (a[i - 1] != b[j - 1]);

			if (row[j] + 1 < best)
				best = row[j] + 1;
			if (row[j - 1] + 1 < best)
				best = row[j - 1] + 1;
			tmp = row[j];
			row[j] = best;
			prev = tmp;
		}
	}
	return row[lb];
}

/*
 * Say why a command word is no command, as git does: a destructive
 * command's prefix is refused on purpose; a typo gets the nearest name.
 */
static void
unknown_command(const char *prog, const char *name, bool ambiguous)
{
	const struct cmd_entry *near = NULL, *destructive = NULL;
	size_t best = 3, n = strlen(name);

	for (int i = 0; cmd_table[i] != NULL; i++) {
		const struct cmd_entry *c = cmd_table[i];
		size_t d;

		if (c->flags & CMD_HIDDEN)
			continue;
		if ((c->flags & CMD_DESTRUCTIVE) && n > 0 && strncmp(c->name, name, n) == 0)
			destructive = c;
		if ((d = distance(name, c->name)) < best) {
			best = d;
			near = c;
		}
	}
	if (destructive != NULL && !ambiguous)
		log_error("'%s' is not a command: a command that changes things must be typed in "
		    "full ('%s')", name, destructive->name);
	else if (ambiguous)
		log_error("ambiguous command '%s'", name);
	else
		log_error("unknown command '%s'", name);
	if (near != NULL && destructive == NULL)
		fprintf(stderr, "\nThe most similar command is\n\t%s\n", near->name);
	fprintf(stderr, "Run '%s --help' for the list of commands.\n", prog);
}

/*
 * The command word of a line that failed to parse: the first word that is
 * neither an option nor a global option's value.  NULL when none.
 */
static const char *
command_word(int argc, char **argv)
{
	for (int i = 1; i < argc; i++) {
		const char *a = argv[i];
		const struct opt *o;

		if (strcmp(a, "--") == 0)
			return NULL;
		if (a[0] != '-' || a[1] == '\0')
			return a;
		if (a[1] == '-' && strchr(a, '=') == NULL)
			o = opt_find(cmd_global_opts, a + 2, 0);
		else if (a[1] != '-' && a[2] == '\0')
			o = opt_find(cmd_global_opts, NULL, a[1]);
		else
			o = NULL;
		if (o != NULL && o->kind != OPT_FLAG && o->kind != OPT_COUNT)
			i++;	/* its value */
	}
	return NULL;
}

static const struct opt *
pick_table(const char *name, void *arg)
{
	bool amb;
	const struct cmd_entry *c = cmd_find(name, &amb);

	return c != NULL ? c->opts : NULL;
}

static void
print_opts(FILE *f, const struct opt *t)
{
	for (; t != NULL && t->name != NULL; t++) {
		char left[64];

		if (t->flags & OPT_HIDDEN)
			continue;
		if (t->shortname)
			snprintf(left, sizeof left, "-%c, --%s%s%s", t->shortname, t->name,
			    t->metavar ? " " : "", t->metavar ? t->metavar : "");
		else
			snprintf(left, sizeof left, "    --%s%s%s", t->name,
			    t->metavar ? " " : "", t->metavar ? t->metavar : "");
		fprintf(f, "  %-32s %s\n", left, t->help);
	}
}

static void
print_exit_codes(FILE *f)
{
	fputs("Exit codes:\n"
	    "  0    done\n"
	    "  1    error (the message says what to do next)\n"
	    "  2    usage error\n"
	    "  3    refused by a safety check (nothing was changed)\n"
	    "  130  interrupted\n", f);
}

void
cmd_usage(const struct cmd_ctx *ctx, const struct cmd_entry *c, FILE *f)
{
	if (c != NULL) {
		fprintf(f, "Usage: %s %s%s%s\n\n%s", ctx->prog, c->name,
		    c->usage && *c->usage ? " " : "", c->usage ? c->usage : "",
		    c->summary);
		fputs("\n", f);
		if (c->help != NULL)
			fprintf(f, "\n%s\n", c->help);
		if (c->opts != NULL && c->opts[0].name != NULL) {
			fputs("\nOptions:\n", f);
			print_opts(f, c->opts);
		}
		fputs("\nGlobal options:\n", f);
		print_opts(f, cmd_global_opts);
		fputs("\n", f);
		print_exit_codes(f);
		return;
	}
	fprintf(f, "Usage: %s [global options] COMMAND [options]\n\n"
	    "Wipe the Nublado (JupyterHub) session database of a Phalanx cluster safely,\n"
	    "or run one step of the runbook at a time for manual recovery.\n\n"
	    "Commands:\n", ctx->prog);
	for (int i = 0; cmd_table[i] != NULL; i++) {
		const struct cmd_entry *e = cmd_table[i];

		if (e->flags & CMD_HIDDEN)
			continue;
		fprintf(f, "  %-13s %s\n", e->name, e->summary);
	}
	fputs("\nGlobal options:\n", f);
	print_opts(f, cmd_global_opts);
	fputs("\n", f);
	print_exit_codes(f);
	fprintf(f, "\nRun '%s COMMAND --help' for a command's options.\n", ctx->prog);
}

int
cmd_step_opts(const struct cmd_ctx *ctx, struct step_ctx *c)
{
	const char *t = args_get(ctx->args, "timeout");
	const char *par = args_get(ctx->args, "parallel");

	memset(c, 0, sizeof *c);
	c->dry_run = args_has(ctx->args, "dry-run");
	c->ignore_self_heal = args_has(ctx->args, "ignore-self-heal");
	c->yes = args_has(ctx->args, "yes");
	c->json = args_get(ctx->args, "output") != NULL;
	if (t != NULL && (parse_duration_ms(t, &c->timeout_ms) < 0 || c->timeout_ms == 0)) {
		log_error("invalid --timeout '%s': want a duration such as 90s or 10m", t);
		return -1;
	}
	if (par != NULL) {
		char *end;
		long v = strtol(par, &end, 10);

		if (*par == '\0' || *end != '\0' || v < 1 || v > 500) {
			log_error("invalid --parallel '%s': want a number from 1 to 500", par);
			return -1;
		}
		c->parallel = (int)v;
	}
	return 0;
}

/* kubectl runs us as .../kubectl-nublado: speak of ourselves as `kubectl nublado'. */
static const char *
prog_name(const char *argv0)
{
	const char *base = strrchr(argv0, '/');

	base = base ? base + 1 : argv0;
	if (strncmp(base, "kubectl-", 8) == 0)
		return "kubectl nublado";
	return base;
}

static bool
want_color(const char *when, int fd)
{
	if (when != NULL && strcmp(when, "always") == 0)
		return true;
	if (when != NULL && strcmp(when, "never") == 0)
		return false;
	/* auto: https://no-color.org says any non-empty NO_COLOR turns it off. */
	if (getenv("NO_COLOR") != NULL && *getenv("NO_COLOR") != '\0')
		return false;
	if (getenv("TERM") != NULL && strcmp(getenv("TERM"), "dumb") == 0)
		return false;
	return isatty(fd);
}

static int
resolve_globals(struct cmd_ctx *ctx, struct err *e)
{
	const struct args *a = ctx->args;
	const char *t = args_get(a, "request-timeout");
	struct nub_opts *o = &ctx->opts;

	o->kubeconfig = args_get(a, "kubeconfig");
	o->context = args_get(a, "context");
	o->namespace = args_get(a, "namespace");
	o->verbosity = args_count(a, "verbose") + args_count(a, "v");
	o->ov.cluster = args_get(a, "cluster");
	/* kill-labs has a --user of its own: after the command name, that one is meant. */
	o->ov.user = args_get_global(a, "user");
	o->ov.server = args_get(a, "server");
	o->ov.tls_server_name = args_get(a, "tls-server-name");
	o->ov.ca_file = args_get(a, "certificate-authority");
	o->ov.insecure = args_has(a, "insecure-skip-tls-verify");
	o->ov.client_cert = args_get(a, "client-certificate");
	o->ov.client_key = args_get(a, "client-key");
	o->ov.token = args_get(a, "token");
	o->ov.as = args_get(a, "as");
	o->ov.as_groups = args_list(a, "as-group");
	o->ov.as_uid = args_get(a, "as-uid");
	o->ov.disable_compression = args_has(a, "disable-compression");
	if (t != NULL && parse_duration_ms(t, &o->request_timeout_ms) < 0) {
		e->exit = EXIT_USAGE;
		return err_set(e, "invalid --request-timeout '%s': want a duration such as 30s or 2m", t);
	}
	if (o->namespace != NULL && *o->namespace == '\0') {
		e->exit = EXIT_USAGE;
		return err_set(e, "--namespace must not be empty");
	}
	o->out_tty = isatty(STDOUT_FILENO);
	o->err_tty = isatty(STDERR_FILENO);
	o->color_out = want_color(args_get(a, "color"), STDOUT_FILENO);
	o->color_err = want_color(args_get(a, "color"), STDERR_FILENO);
	log_setup(o->verbosity, o->color_err);
	return 0;
}

/* As curl does: a --token value is not left readable in /proc/PID/cmdline. */
static void
wipe_token_arg(int argc, char **argv)
{
	for (int i = 1; i < argc; i++) {
		if (strcmp(argv[i], "--") == 0)
			break;
		if (strcmp(argv[i], "--token") == 0 && i + 1 < argc)
			explicit_bzero(argv[i + 1], strlen(argv[i + 1]));
		else if (strncmp(argv[i], "--token=", 8) == 0)
			explicit_bzero(argv[i] + 8, strlen(argv[i] + 8));
	}
}

/* perf and git do this: a full disk or closed pipe must not look like success. */
static int
close_stdout(int rc)
{
	if (fflush(stdout) != 0 || ferror(stdout) || fclose(stdout) != 0) {
		log_error("write failure on standard output");
		if (rc == EXIT_OK)
			rc = EXIT_ERROR;
	}
	return rc;
}

int
main(int argc, char **argv)
{
	struct cmd_ctx ctx = { .prog = prog_name(argv[0]) };
	struct args args;
	struct err e;
	const struct cmd_entry *c = NULL;
	bool amb;
	int rc;

	/* Server and database text reaches the terminal with no escape but ours. */
	termsafe_install();
	/* Completion parses partial command lines itself. */
	if ((rc = cmd_complete_main(argc, argv)) >= 0)
		return rc;
	sig_setup();
	err_clear(&e);
	if (args_parse(&args, cmd_global_opts, pick_table, NULL, argc - 1, argv + 1, &e) < 0) {
		const char *word = command_word(argc, argv);
		bool amb2;

		/* "kubectl nublado wipe-d --yes": the command is what is wrong, say that. */
		if (word != NULL && strcmp(word, "help") != 0 && cmd_find(word, &amb2) == NULL) {
			unknown_command(ctx.prog, word, amb2);
		} else {
			log_error("%s", e.msg);
			fprintf(stderr, "Run '%s --help' for usage.\n", ctx.prog);
		}
		args_free(&args);
		return EXIT_USAGE;
	}
	ctx.args = &args;
	wipe_token_arg(argc, argv);
	if (resolve_globals(&ctx, &e) < 0) {
		log_err(&e);
		args_free(&args);
		return e.exit ? e.exit : EXIT_USAGE;
	}
	if (args.npos > 0 && strcmp(args.pos[0], "help") == 0) {
		/* `help [COMMAND]', as git and kubectl have it. */
		c = args.npos > 1 ? cmd_find(args.pos[1], &amb) : NULL;
		if (args.npos > 1 && c == NULL) {
			unknown_command(ctx.prog, args.pos[1], amb);
			args_free(&args);
			return EXIT_USAGE;
		}
		cmd_usage(&ctx, c, stdout);
		args_free(&args);
		return close_stdout(EXIT_OK);
	}
	if (args.npos > 0) {
		c = cmd_find(args.pos[0], &amb);
		if (c == NULL) {
			unknown_command(ctx.prog, args.pos[0], amb);
			args_free(&args);
			return EXIT_USAGE;
		}
	}
	if (c == NULL || args_has(&args, "help")) {
		/* No command at all is a usage error; asking for help is not. */
		rc = args_has(&args, "help") ? EXIT_OK : EXIT_USAGE;
		cmd_usage(&ctx, c, rc == EXIT_OK ? stdout : stderr);
		args_free(&args);
		return close_stdout(rc);
	}
	ctx.entry = c;
	rc = c->exec(&ctx);
	args_free(&args);
	return close_stdout(rc);
}
