/* cmd-labs.c: the user labs, as kill-labs would see them (read-only) */
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "../src/nublado/labs.h"
#include "../src/util/exitcode.h"
#include "../src/util/jsonout.h"
#include "../src/util/log.h"
#include "../src/util/report.h"
#include "cmd.h"

struct labs_opts {
	const char *output;
};

static const struct opt labs_opts[] = {
	CMD_OPT_OUTPUT(struct labs_opts, output), OPT_END
};

/* kubectl's AGE column: 45s, 12m, 5h, 3d. */
static void
age(const char *rfc3339, char *buf, size_t n)
{
	struct tm tm;
	long s;

	memset(&tm, 0, sizeof tm);
	if (rfc3339 == NULL || strptime(rfc3339, "%Y-%m-%dT%H:%M:%SZ", &tm) == NULL) {
		snprintf(buf, n, "?");
		return;
	}
	s = (long)(time(NULL) - timegm(&tm));
	if (s < 0)
		s = 0;
	if (s < 120)
		snprintf(buf, n, "%lds", s);
	else if (s < 2 * 3600)
		snprintf(buf, n, "%ldm", s / 60);
	else if (s < 2 * 86400)
		snprintf(buf, n, "%ldh", s / 3600);
	else
		snprintf(buf, n, "%ldd", s / 86400);
}

static int
cmd_labs_exec(struct cmd_ctx *ctx, void *opts)
{
	const struct labs_opts *lo = opts;
	struct report rep;
	struct labset set;
	struct nub *n = NULL;
	struct err e;
	int rc = EXIT_OK;

	err_clear(&e);
	report_init(&rep, "labs", report_format(lo->output));
	if (nub_open(&ctx->opts, &n, &e) == 0)
		report_where(&rep, n->cfg->context, n->ns);
	if (n == NULL || nub_check_namespace(n, &e) < 0 || labs_select(n, NULL, &set, &e) < 0) {
		report_end(&rep, &e);
		log_err(&e);
		nub_close(n);
		return e.exit ? e.exit : EXIT_ERROR;
	}
	if (rep.format != REPORT_NONE) {
		json_object *o = labset_json(&set);

		report_merge(&rep, o);
		json_object_put(o);
	} else {
		printf("%-32s %-20s %-6s %s\n", "NAMESPACE", "USER", "AGE", "PHASE");
		for (size_t i = 0; i < set.n; i++) {
			char a[24];

			age(set.labs[i].created, a, sizeof a);
			printf("%-32s %-20s %-6s %s\n", set.labs[i].name,
			    set.labs[i].user ? set.labs[i].user : "-", a,
			    set.labs[i].phase ? set.labs[i].phase : "?");
		}
		if (set.n == 0)
			fprintf(stderr, "no lab namespaces (%s-* labelled %s=lab)\n", set.prefix,
			    LAB_CATEGORY_LABEL);
		for (size_t i = 0; i < set.nskipped; i++)
			fprintf(stderr, "skipped: %s (%s)\n", set.skipped[i].name, set.skipped[i].why);
	}
	report_end(&rep, NULL);	/* prints under -o, frees either way */
	labset_free(&set);
	nub_close(n);
	return rc;
}

const struct cmd_entry cmd_labs_entry = {
	.name = "labs",
	.summary = "List the user labs (what kill-labs would delete): user, age, phase",
	.help = "Read-only. A lab is a namespace named <prefix>-* AND labelled\n"
	    "nublado.lsst.io/category=lab (the prefix from the controller's ConfigMap);\n"
	    "namespaces matching one rule only are listed as skipped, on stderr.",
	.opts = labs_opts,
	.opts_size = sizeof(struct labs_opts),
	.exec = cmd_labs_exec,
};
