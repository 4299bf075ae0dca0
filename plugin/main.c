/* main.c: global options, the command table, dispatch */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "../src/util/exitcode.h"
#include "../src/util/log.h"
#include "../src/util/sig.h"
#include "../src/util/termsafe.h"
#include "../src/util/xalloc.h"
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

/* The global options, bound by the table below. */
struct global_opts {
	struct nub_opts nub;
	const char *color;
	const char *cache_dir;		/* accepted for kubectl, unused */
	bool help;
};

#define G struct global_opts
const struct opt cmd_global_opts[] = {
	OPT_STR("kubeconfig", 0, G, nub.kubeconfig, "FILE",
	    "the kubeconfig file to use (else $KUBECONFIG, else ~/.kube/config)", COMPLETE_FILE),
	OPT_STR("context", 0, G, nub.context, "NAME", "the kubeconfig context to use",
	    COMPLETE_CONTEXT),
	OPT_STR("namespace", 'n', G, nub.namespace, "NAME",
	    "the Nublado namespace (default \"nublado\")", COMPLETE_NAMESPACE),
	/* kubectl's config flags, as client-go applies them over the kubeconfig. */
	OPT_STR("cluster", 0, G, nub.ov.cluster, "NAME",
	    "the kubeconfig cluster to use (not the context's)", COMPLETE_KUBE_CLUSTER),
	OPT_STR("user", 0, G, nub.ov.user, "NAME",
	    "the kubeconfig user to use (after kill-labs: its --user)", COMPLETE_KUBE_USER),
	OPT_STR("server", 's', G, nub.ov.server, "URL", "the API server's address and port",
	    COMPLETE_NONE),
	OPT_STR("tls-server-name", 0, G, nub.ov.tls_server_name, "NAME",
	    "server name for the certificate check and SNI (else the server's host)",
	    COMPLETE_NONE),
	OPT_STR("certificate-authority", 0, G, nub.ov.ca_file, "FILE",
	    "CA certificate(s) to trust", COMPLETE_FILE),
	OPT_BOOL("insecure-skip-tls-verify", 0, G, nub.ov.insecure,
	    "do not check the server's certificate (insecure)"),
	OPT_STR("client-certificate", 0, G, nub.ov.client_cert, "FILE",
	    "client certificate for TLS", COMPLETE_FILE),
	OPT_STR("client-key", 0, G, nub.ov.client_key, "FILE", "client key for TLS",
	    COMPLETE_FILE),
	OPT_STR("token", 0, G, nub.ov.token, "TOKEN",
	    "bearer token (other users may see it in ps)", COMPLETE_NONE),
	OPT_STR("as", 0, G, nub.ov.as, "USER", "impersonate this user (or service account)",
	    COMPLETE_NONE),
	OPT_STR_LIST("as-group", 0, G, nub.ov.as_groups, "GROUP",
	    "impersonate this group too (repeatable)"),
	OPT_STR("as-uid", 0, G, nub.ov.as_uid, "UID", "impersonate this UID too", COMPLETE_NONE),
	OPT_BOOL("disable-compression", 0, G, nub.ov.disable_compression,
	    "ask for uncompressed responses"),
	OPT_STR("cache-dir", 0, G, cache_dir, "DIR",
	    "accepted for kubectl; ignored (no discovery cache)", COMPLETE_DIR),
	OPT_DURATION("request-timeout", G, nub.request_timeout_ms,
	    "time limit for each API request, e.g. 30s (default: none)", 0),
	OPT_COUNTER("verbose", 'v', G, nub.verbosity, NULL,
	    "say more on stderr; repeat for more (-vv requests, -vvv headers)", 0),
	OPT_COUNTER("v", 0, G, nub.verbosity, "N", "verbosity as a number, as kubectl's --v=N",
	    OPT_HIDDEN),
	OPT_CHOICE("color", 0, G, color, "WHEN",
	    "colour: auto, always or never (NO_COLOR honoured)", "auto|always|never"),
	OPT_BOOL("help", 'h', G, help, "show help"),
	OPT_END
};
#undef G

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

/* The usage line's options, from the table: it cannot drift from what is parsed. */
static void
print_synopsis(FILE *f, const struct opt *t)
{
	for (; t != NULL && t->name != NULL; t++) {
		if (t->flags & OPT_HIDDEN)
			continue;
		if (t->shortname != 0)
			fprintf(f, " [-%c%s%s]", t->shortname, t->metavar ? " " : "",
			    t->metavar ? t->metavar : "");
		else
			fprintf(f, " [--%s%s%s]", t->name, t->metavar ? " " : "",
			    t->metavar ? t->metavar : "");
	}
}

void
cmd_usage(const struct cmd_ctx *ctx, const struct cmd_entry *c, FILE *f)
{
	if (c != NULL) {
		fprintf(f, "Usage: %s %s%s%s", ctx->prog, c->name,
		    c->operands ? " " : "", c->operands ? c->operands : "");
		print_synopsis(f, c->opts);
		fprintf(f, "\n\n%s", c->summary);
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
resolve_globals(struct cmd_ctx *ctx, struct global_opts *g, struct err *e)
{
	struct nub_opts *o = &g->nub;

	memset(g, 0, sizeof *g);
	/* kill-labs has a --user of its own: after the command name, that one is meant. */
	if (args_bind(ctx->args, 0, g, e) < 0)
		return -1;
	if (o->namespace != NULL && *o->namespace == '\0') {
		e->exit = EXIT_USAGE;
		return err_set(e, "--namespace must not be empty");
	}
	o->out_tty = isatty(STDOUT_FILENO);
	o->err_tty = isatty(STDERR_FILENO);
	o->color_out = want_color(g->color, STDOUT_FILENO);
	o->color_err = want_color(g->color, STDERR_FILENO);
	log_setup(o->verbosity, o->color_err);
	ctx->opts = *o;
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
	struct global_opts g;
	struct args args;
	void *opts;
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
	if (resolve_globals(&ctx, &g, &e) < 0) {
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
	if (c == NULL || g.help) {
		/* No command at all is a usage error; asking for help is not. */
		rc = g.help ? EXIT_OK : EXIT_USAGE;
		cmd_usage(&ctx, c, rc == EXIT_OK ? stdout : stderr);
		args_free(&args);
		return close_stdout(rc);
	}
	ctx.entry = c;
	opts = xcalloc(1, c->opts_size ? c->opts_size : 1);
	if (args_bind(&args, 1, opts, &e) < 0) {
		log_err(&e);
		fprintf(stderr, "Run '%s %s --help' for usage.\n", ctx.prog, c->name);
		rc = EXIT_USAGE;
	} else {
		rc = c->exec(&ctx, opts);
	}
	free(opts);
	args_free(&args);
	return close_stdout(rc);
}
