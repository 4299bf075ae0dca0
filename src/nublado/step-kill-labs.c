/* step-kill-labs.c: runbook step 2: delete every user lab namespace, wait until gone */
#include "../util/log.h"
#include "steps.h"

/* Rounds of "list again, delete what appeared" before lab creation is called open. */
#define LAB_ROUNDS 5
#define DEFAULT_PARALLEL 32

static int
labs_inspect(struct run *r, void *st, struct err *e)
{
	struct kill_labs_step *s = st;

	if (labs_select(r->n, s->user, &s->set, e) < 0)
		return -1;
	/* No lab for --user is not an error: a re-run finds it gone already. */
	if (s->user != NULL && s->set.n == 0 && s->set.nskipped == 0)
		log_debug(LOG_STEPS, "no lab for user '%s'", s->user);
	return 0;
}

static int
labs_plan(struct run *r, void *st, struct buf *out, bool *empty, struct err *e)
{
	struct kill_labs_step *s = st;
	size_t terminating = 0;

	*empty = s->set.n == 0;
	for (size_t i = 0; i < s->set.n; i++)
		terminating += s->set.labs[i].terminating;
	if (*empty) {
		if (s->user != NULL)
			buf_printf(out, "  no lab namespace for user '%s' (%s-%s)\n", s->user,
			    s->set.prefix, s->user);
		else
			buf_printf(out, "  no lab namespaces (%s-* labelled %s=lab)\n",
			    s->set.prefix, LAB_CATEGORY_LABEL);
	} else if (terminating == s->set.n) {
		/* A re-run: nothing left to delete, only to wait for. */
		buf_printf(out, "  wait for %zu lab namespace(s) already terminating:", s->set.n);
		for (size_t i = 0; i < s->set.n && i < 20; i++)
			buf_printf(out, " %s", s->set.labs[i].name);
		buf_puts(out, s->set.n > 20 ? " ...\n" : "\n");
	} else {
		buf_printf(out, "  delete %zu lab namespace(s):", s->set.n);
		for (size_t i = 0; i < s->set.n; i++) {
			if (i == 20 && s->set.n > 25) {
				buf_printf(out, " ... and %zu more", s->set.n - 20);
				break;
			}
			buf_printf(out, " %s%s", s->set.labs[i].name,
			    s->set.labs[i].terminating ? " (terminating)" : "");
		}
		buf_puts(out, "\n");
		if (terminating > 0 && terminating < s->set.n)
			buf_printf(out, "    (%zu already terminating: waiting for them too)\n",
			    terminating);
	}
	for (size_t i = 0; i < s->set.nskipped; i++)
		buf_printf(out, "    skipped: %s (%s)\n", s->set.skipped[i].name,
		    s->set.skipped[i].why);
	report_add(&r->report, "kill-labs", labset_json(&s->set));
	return 0;
}

static int
parallel(const struct kill_labs_step *s)
{
	return s->parallel > 0 ? s->parallel : DEFAULT_PARALLEL;
}

static int
labs_apply(struct run *r, void *st, struct err *e)
{
	struct kill_labs_step *s = st;

	if (s->set.n == 0)
		return 0;
	return labs_delete(r->n, &s->set, parallel(s), r->dry_run, r->tty, &s->deleted, e);
}

static int
labs_wait(struct run *r, void *st, struct err *e)
{
	struct kill_labs_step *s = st;
	struct labset cur = { 0 }, *wait = &s->set;
	int rc = 0;

	if (r->dry_run)
		return 0;
	/*
	 * A lab can be made while we delete (a user holding a token, the hub
	 * finishing a spawn): once they are gone, list again, until none is left.
	 */
	for (int round = 0; rc == 0; round++) {
		struct labset again;

		if (wait->n > 0 && labs_wait_gone(r->n, wait, r->timeout_ms, r->tty, e) < 0) {
			rc = -1;
			break;
		}
		if (labs_select(r->n, s->user, &again, e) < 0) {
			rc = -1;
			break;
		}
		labset_free(&cur);
		cur = again;
		if (cur.n == 0)
			break;
		if (round + 1 >= LAB_ROUNDS) {
			rc = err_set(e, "lab namespaces keep appearing (%s%s): lab creation is still "
			    "open", cur.labs[0].name, cur.n > 1 ? " and more" : "");
			err_hint(e, "block user access first (kubectl nublado block), then run again");
			break;
		}
		log_warn("%zu lab namespace(s) appeared since the list, deleting them too: %s%s",
		    cur.n, cur.labs[0].name, cur.n > 1 ? " ..." : "");
		s->appeared += cur.n;
		if (labs_delete(r->n, &cur, parallel(s), false, r->tty, &s->deleted, e) < 0) {
			rc = -1;
			break;
		}
		wait = &cur;
	}
	labset_free(&cur);
	return rc;
}

static void
labs_result(struct run *r, void *st, struct buf *out)
{
	struct kill_labs_step *s = st;

	if (s->set.n == 0)
		buf_printf(out, "no lab namespaces were left to delete");
	else
		buf_printf(out, "deleted %zu lab namespace(s)%s", s->set.n,
		    s->set.nskipped ? " (others skipped, see above)" : "");
	if (s->appeared > 0)
		buf_printf(out, "; %zu more appeared meanwhile and were deleted too", s->appeared);
}

/* status: how many labs, and which are stuck terminating. */
static void
labs_describe(struct run *r, void *st, json_object *into)
{
	struct kill_labs_step *s = st;
	json_object *term = json_object_new_array();
	size_t nterm = 0;

	for (size_t i = 0; i < s->set.n; i++) {
		if (!s->set.labs[i].terminating)
			continue;
		nterm++;
		json_object_array_add(term, json_object_new_string(s->set.labs[i].name));
	}
	json_object_object_add(into, "prefix", json_object_new_string(s->set.prefix ?
	    s->set.prefix : ""));
	json_object_object_add(into, "active", json_object_new_int64((int64_t)(s->set.n - nterm)));
	json_object_object_add(into, "terminating", json_object_new_int64((int64_t)nterm));
	json_object_object_add(into, "terminatingNames", term);
	json_object_object_add(into, "skipped", json_object_new_int64((int64_t)s->set.nskipped));
}

static void
labs_reset(void *st)
{
	struct kill_labs_step *s = st;

	labset_free(&s->set);
	s->deleted = s->appeared = 0;
}

const struct step_ops step_kill_labs_ops = {
	.name = "kill-labs", .title = "delete the user labs",
	.inspect = labs_inspect, .plan = labs_plan, .apply = labs_apply,
	.wait = labs_wait, .result = labs_result, .reset = labs_reset,
	.describe = labs_describe,
	.server_dry_run = true,
};
