/* run.c: the runner: inspect every step, plan, confirm, then apply and wait each */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../util/exitcode.h"
#include "../util/log.h"
#include "../util/prompt.h"
#include "../util/sig.h"
#include "../util/xalloc.h"
#include "run.h"

#define DEFAULT_WAIT_MS (10 * 60 * 1000L)

void
run_say(struct run *r, const char *fmt, ...)
{
	FILE *f = r->quiet_out ? stderr : stdout;
	va_list ap;

	va_start(ap, fmt);
	vfprintf(f, fmt, ap);
	va_end(ap);
	fputc('\n', f);
	fflush(f);
}

int
run_nothing(struct run *r, void *st, struct err *e)
{
	return 0;
}

void
run_keep(void *st)
{
}

/*
 * After a stop part-way (an error or Ctrl-C): what was done, what is left,
 * whether users are locked out, and what to do, in front of the step's own
 * hint.  An interrupt has no cause to fix: the same command finishes.
 */
static void
where_things_stand(const struct step *steps, size_t n, size_t at, const bool *done,
    const bool *empty, struct err *e)
{
	struct buf b = BUF_INIT;
	bool any = false, blocked = false, unblock_left = false;
	char old[sizeof e->hint];

	for (size_t i = 0; i < n; i++) {
		if (!done[i])
			continue;
		buf_printf(&b, "%s%s", any ? ", " : "done: ", steps[i].ops->name);
		any = true;
		if (steps[i].ops->access != 0)
			blocked = steps[i].ops->access > 0;
	}
	if (!any)
		return;		/* nothing changed: the step's own words say it all */
	any = false;
	for (size_t i = at; i < n; i++) {
		if (empty[i] && i != at)
			continue;
		buf_printf(&b, "%s%s", any ? ", " : "; left: ", steps[i].ops->name);
		any = true;
		unblock_left |= steps[i].ops->access < 0;
	}
	if (blocked)
		buf_printf(&b, "; user access is BLOCKED%s", unblock_left ?
		    " (`kubectl nublado unblock` lets users back in)" : "");
	buf_puts(&b, ". ");
	snprintf(old, sizeof old, "%s", e->hint);
	if (e->exit == EXIT_INTERRUPTED)
		err_hint(e, "%srun the same command again to finish", b.data);
	else if (old[0] != '\0')
		err_hint(e, "%s%s", b.data, old);
	else
		err_hint(e, "%sfix the cause, then run the same command again: it picks up where "
		    "this one stopped", b.data);
	buf_free(&b);
}

/* Nothing has changed yet: say so, and (wipe-db, restore-db) call it a refusal. */
static void
before_change(const struct run_cmd *cmd, const struct step *s, struct err *e)
{
	err_prefix(e, "%s", s->ops->name);
	if (cmd->refuse && e->exit != EXIT_INTERRUPTED && e->exit != EXIT_USAGE)
		e->exit = EXIT_REFUSED;
	if (e->hint[0] == '\0')
		err_hint(e, "nothing was changed; fix the cause, then run the same command again");
}

/* A step failed part-way through the changes. */
static void
after_change(struct run *r, const struct run_cmd *cmd, size_t at, const bool *done,
    const bool *empty, struct err *e)
{
	err_prefix(e, "%s", cmd->steps[at].ops->name);
	if (e->exit == EXIT_INTERRUPTED && strstr(e->hint, "fix the cause") != NULL)
		e->hint[0] = '\0';
	if (!r->dry_run)
		where_things_stand(cmd->steps, cmd->n, at, done, empty, e);
	if (e->hint[0] == '\0')
		err_hint(e, e->exit == EXIT_INTERRUPTED ? "run the same command again to finish" :
		    "fix the cause, then run the same command again: it picks up where this one "
		    "stopped");
}

/* Inspect and plan step i again: an earlier step changed what it acts on. */
static int
look_again(struct run *r, struct step *s, bool *empty, struct err *e)
{
	struct buf again = BUF_INIT;
	int rc;

	s->ops->reset(s->st);
	rc = s->ops->inspect(r, s->st, e) < 0 || s->ops->plan(r, s->st, &again, empty, e) < 0 ?
	    -1 : 0;
	buf_free(&again);
	return rc;
}

static int
run_steps(struct run *r, struct run_cmd *cmd, const char *question, const char *typed,
    struct err *e)
{
	struct step *steps = cmd->steps;
	size_t n = cmd->n, i;
	bool *empty = xcalloc(n + 1, sizeof *empty);
	bool *done = xcalloc(n + 1, sizeof *done);
	struct buf plan = BUF_INIT;
	bool all_empty = true, changed = false;
	int rc = -1;

	/* 1. Look at everything before changing anything. */
	for (i = 0; i < n; i++) {
		if (steps[i].ops->inspect(r, steps[i].st, e) < 0) {
			before_change(cmd, &steps[i], e);
			goto out;
		}
	}
	for (i = 0; i < n; i++) {
		if (steps[i].ops->plan(r, steps[i].st, &plan, &empty[i], e) < 0) {
			before_change(cmd, &steps[i], e);
			goto out;
		}
		all_empty = all_empty && empty[i];
	}
	run_say(r, "%s on context '%s' (%s), namespace '%s':\n%s",
	    r->dry_run ? "Plan (dry run)" : "Plan", r->n->cfg->context,
	    r->n->cfg->server, r->n->ns, plan.data ? plan.data : "");
	if (all_empty) {
		run_say(r, "Nothing to do.");
		rc = 0;
		goto out;
	}
	if (!r->dry_run && prompt_confirm(question, typed, r->yes, e) < 0)
		goto out;
	if (!r->dry_run && cmd->begin != NULL && cmd->begin(r, cmd, e) < 0)
		goto out;
	/* 2. Change, step by step; each waits until its change has taken effect. */
	for (i = 0; i < n; i++) {
		struct buf line = BUF_INIT;

		if (sig_interrupted()) {
			err_interrupted(e, "interrupted before %s", steps[i].ops->name);
			err_hint(e, "run the same command again to finish");
			where_things_stand(steps, n, i, done, empty, e);
			goto out;
		}
		/* An earlier step changed the cluster: act on what is there now. */
		if (changed && !r->dry_run && look_again(r, &steps[i], &empty[i], e) < 0) {
			err_prefix(e, "%s", steps[i].ops->name);
			where_things_stand(steps, n, i, done, empty, e);
			goto out;
		}
		if (empty[i])
			continue;
		changed = true;
		log_debug(LOG_STEPS, "%s: %s", steps[i].ops->name, steps[i].ops->title);
		if (steps[i].ops->apply(r, steps[i].st, e) < 0 ||
		    steps[i].ops->wait(r, steps[i].st, e) < 0) {
			after_change(r, cmd, i, done, empty, e);
			goto out;
		}
		done[i] = true;
		if (r->dry_run) {
			run_say(r, "%s: %s", steps[i].ops->name, steps[i].ops->server_dry_run ?
			    "the server accepted the dry run" : "checked (no server-side dry run)");
		} else if (steps[i].ops->result != NULL) {
			steps[i].ops->result(r, steps[i].st, &line);
			run_say(r, "%s", line.data ? line.data : steps[i].ops->name);
		}
		buf_free(&line);
	}
	rc = 0;
out:
	free(empty);
	free(done);
	buf_free(&plan);
	return rc;
}

int
run_main(const struct nub_opts *g, const struct run_opts *o, struct run_cmd *cmd)
{
	struct run r = {
		.dry_run = o->dry_run, .yes = o->yes, .tty = g->err_tty,
		.quiet_out = o->output != NULL,
		.timeout_ms = o->timeout_ms > 0 ? o->timeout_ms : DEFAULT_WAIT_MS,
	};
	struct err e;
	char *q = NULL;
	int rc = -1;

	err_clear(&e);
	report_init(&r.report, cmd->name, report_format(o->output));
	report_dry_run(&r.report, o->dry_run);
	if (nub_open(g, &r.n, &e) < 0)
		goto out;
	report_where(&r.report, r.n->cfg->context, r.n->ns);
	r.n->dry_run = r.dry_run;	/* no temporary psql pod in a dry run (hubpod.h) */
	if (nub_check_namespace(r.n, &e) < 0 || nub_state_dir(r.n, NULL, &r.state_dir, &e) < 0)
		goto out;
	if (cmd->prepare != NULL && (rc = cmd->prepare(&r, cmd, &e)) != 0) {
		if (rc > 0)
			rc = 0;		/* nothing to do, said so */
		goto out;
	}
	q = xasprintf(cmd->question, kcfg_name(r.n->cfg));
	rc = run_steps(&r, cmd, q, cmd->typed ? kcfg_name(r.n->cfg) : NULL, &e);
	if (cmd->finish != NULL && !r.dry_run)
		cmd->finish(&r, cmd, rc < 0 ? &e : NULL);
out:
	for (size_t i = 0; i < cmd->n; i++)
		cmd->steps[i].ops->reset(cmd->steps[i].st);
	report_end(&r.report, rc < 0 ? &e : NULL);
	if (rc < 0)
		log_err(&e);
	free(q);
	free(r.state_dir);
	nub_close(r.n);
	return rc < 0 ? (e.exit ? e.exit : EXIT_ERROR) : EXIT_OK;
}
