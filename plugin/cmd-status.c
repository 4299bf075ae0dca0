/* cmd-status.c: where things stand: access, labs, hub, database, Argo CD */
#include <stdio.h>
#include <time.h>
#include <unistd.h>

#include "../src/nublado/status.h"
#include "../src/util/exitcode.h"
#include "../src/util/jsonout.h"
#include "../src/util/log.h"
#include "../src/util/report.h"
#include "../src/util/sig.h"
#include "cmd.h"

struct status_opts {
	bool no_db;
	const char *output;
	bool watch;
	long interval_ms;
	const char *pod;
};

#define T struct status_opts
static const struct opt status_opts[] = {
	OPT_BOOL("no-db", 0, T, no_db, "skip the database check (no exec into the hub pod)"),
	OPT_STR("pod", 0, T, pod, "NAME", "run the database check in this pod (default: the "
	    "hub pod, Ready or else running)", COMPLETE_NONE),
	OPT_BOOL("watch", 'w', T, watch, "look again every --interval until Ctrl-C"),
	OPT_DURATION("interval", T, interval_ms, "how often --watch looks (default 2s)", 100),
	CMD_OPT_OUTPUT(T, output),
	OPT_END
};
#undef T

#define DEFAULT_INTERVAL_MS 2000L

/* One look: the screen (or the report), 0 or the exit code of a failure. */
static int
status_once(struct cmd_ctx *ctx, const struct status_opts *so, struct nub *n)
{
	struct report rep;
	json_object *st;
	struct err e;
	int rc = EXIT_OK;

	err_clear(&e);
	report_init(&rep, "status", report_format(so->output));
	report_where(&rep, n->cfg->context, n->ns);
	st = status_collect(n, !so->no_db, so->pod);
	if (rep.format != REPORT_NONE)
		report_merge(&rep, st);
	else if (jstr(st, "serverError", NULL) == NULL && jstr(st, "namespaceError", NULL) == NULL)
		status_print(st, stdout, ctx->opts.color_out);
	if (jstr(st, "namespaceError", NULL) != NULL) {
		err_set(&e, "namespace '%s' not found on context '%s'", n->ns, n->cfg->context);
		err_hint(&e, "Nublado lives in namespace 'nublado' unless -n says otherwise; "
		    "kubectl get ns lists them");
		rc = EXIT_ERROR;
	} else if (jstr(st, "serverError", NULL) != NULL) {
		/* Nothing else can be known: an error, not a screen of question marks. */
		if (n->cfg->context != NULL && *n->cfg->context != '\0')
			err_set(&e, "cannot reach the API server of context '%s': %s",
			    n->cfg->context, jstr(st, "serverError", NULL));
		else
			err_set(&e, "%s", jstr(st, "serverError", NULL));
		rc = EXIT_ERROR;
	}
	report_end(&rep, rc != EXIT_OK ? &e : NULL);
	if (rc != EXIT_OK)
		log_err(&e);
	json_object_put(st);
	fflush(stdout);
	return rc;
}

/*
 * --watch: look again every interval, as watch(1) does: on a terminal the
 * screen is redrawn in place under a header; on a pipe each look follows
 * the last, headed by its time.  Ctrl-C ends it (exit 0); an unreachable
 * server is said each time, not fatal: it may come back.
 */
static int
status_watch(struct cmd_ctx *ctx, const struct status_opts *so, struct nub *n)
{
	long interval = so->interval_ms > 0 ? so->interval_ms : DEFAULT_INTERVAL_MS;
	bool redraw = ctx->opts.out_tty && so->output == NULL;

	for (;;) {
		char when[32];
		time_t now = time(NULL);
		struct tm tm;

		strftime(when, sizeof when, "%H:%M:%S", localtime_r(&now, &tm));
		if (so->output == NULL) {
			/*
			 * Home and clear, written past the terminal filter: the filter
			 * keeps them from any name a server sends, and so from the screen.
			 */
			if (redraw) {
				fflush(stdout);
				(void)!write(STDOUT_FILENO, "\033[H\033[2J", 7);
			}
			printf("Every %.1fs: kubectl nublado status%s   %s (Ctrl-C ends)\n\n",
			    (double)interval / 1000.0, so->no_db ? " --no-db" : "", when);
		}
		(void)status_once(ctx, so, n);
		if (!redraw && so->output == NULL)
			putchar('\n');
		fflush(stdout);
		if (!sleep_ms(interval))
			return EXIT_OK;
	}
}

static int
cmd_status_exec(struct cmd_ctx *ctx, void *opts)
{
	const struct status_opts *so = opts;
	struct nub *n = NULL;
	struct err e;
	int rc;

	err_clear(&e);
	if (nub_open(&ctx->opts, &n, &e) < 0) {
		struct report rep;

		report_init(&rep, "status", report_format(so->output));
		report_end(&rep, &e);
		log_err(&e);
		return e.exit ? e.exit : EXIT_ERROR;
	}
	rc = so->watch ? status_watch(ctx, so, n) : status_once(ctx, so, n);
	nub_close(n);
	return rc;
}

const struct cmd_entry cmd_status_entry = {
	.name = "status",
	.summary = "Show access, labs, hub, database and Argo CD state on one screen",
	.help = "Read-only: what each runbook step would find before a change, on one screen.\n"
	    "Access (the GafaelfawrIngresses routing to the hub, and the manifests block\n"
	    "saved), the labs (those stuck terminating by name), the hub pods, the database\n"
	    "(a read-only psql in the hub pod: the JupyterHub tables, users, and the\n"
	    "ownership check's verdict with its reasons), Argo CD (sync, health, selfHeal,\n"
	    "what else is out of sync), and the last wipe-db and restore-db runs from their\n"
	    "journals (an interrupted one says where it stopped). Each part that cannot be\n"
	    "read says why rather than failing the whole.\n"
	    "--watch looks again every --interval (on a terminal in place, as watch(1))\n"
	    "until Ctrl-C; with -o json|yaml it prints one document per look.",
	.opts = status_opts,
	.opts_size = sizeof(struct status_opts),
	.exec = cmd_status_exec,
};
