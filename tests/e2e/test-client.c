/* test-client.c: the REST client against a faulty API server (pagination, retries, watch) */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <criterion/criterion.h>

#include "../../src/kube/client.h"
#include "../../src/kube/kubeconfig.h"
#include "../../src/kube/url.h"
#include "e2e.h"

struct conn {
	struct kcfg *cfg;
	struct kube *k;
};

static void
connect_to(const struct sim *s, struct conn *c)
{
	struct kcfg_opts o = { .kubeconfig = s->kubeconfig };
	struct err e;

	err_clear(&e);
	cr_assert_eq(kcfg_load(&o, &c->cfg, &e), 0, "%s", e.msg);
	cr_assert_eq(kube_open(c->cfg, NULL, &c->k, &e), 0, "%s", e.msg);
}

static void
disconnect(struct conn *c)
{
	kube_close(c->k);
	kcfg_free(c->cfg);
}

static int
count_item(json_object *item, void *arg, struct err *e)
{
	(*(int *)arg)++;
	return 0;
}

static void
reset_count(void *arg)
{
	*(int *)arg = 0;
}

Test(client, pagination_survives_expired_continue_tokens, .timeout = 120)
{
	struct sim s;
	struct conn c;
	struct err e;
	int plain = 0, faulty = 0;

	sim_start(&s, NULL);
	connect_to(&s, &c);
	err_clear(&e);
	cr_assert_eq(kube_list(c.k, "/api/v1/namespaces", NULL, 3, count_item, reset_count,
	    &plain, NULL, &e), 0, "%s", e.msg);
	cr_assert_gt(plain, 6);
	/* A quarter of the continue tokens expire: the list starts over, and is whole. */
	sim_faults_of(&s, "continue-expire=0.25");
	cr_assert_eq(kube_list(c.k, "/api/v1/namespaces", NULL, 3, count_item, reset_count,
	    &faulty, NULL, &e), 0, "%s", e.msg);
	cr_assert_eq(faulty, plain);
	disconnect(&c);
	sim_stop(&s);
}

Test(client, retries_429_and_503_with_retry_after, .timeout = 120)
{
	struct sim s;
	struct conn c;
	struct err e;

	sim_start(&s, "--faults 429=0.3,503=0.1,retry-after=0 --seed 7");
	connect_to(&s, &c);
	for (int i = 0; i < 20; i++) {
		json_object *o = NULL;

		err_clear(&e);
		cr_assert_eq(kube_get(c.k, "/api/v1/namespaces/nublado", NULL, &o, &e), 0,
		    "request %d: %s", i, e.msg);
		json_object_put(o);
	}
	disconnect(&c);
	sim_stop(&s);
}

Test(client, never_retries_a_create_after_a_server_error, .timeout = 120)
{
	struct sim s;
	struct conn c;
	struct err e;
	json_object *ns = json_tokener_parse("{\"apiVersion\":\"v1\",\"kind\":\"Namespace\","
	    "\"metadata\":{\"name\":\"made-once\"}}");

	sim_start(&s, "--faults 500=1,methods=POST");
	connect_to(&s, &c);
	err_clear(&e);
	cr_assert_eq(kube_create(c.k, "/api/v1/namespaces", ns, false, NULL, &e), -1);
	cr_assert_eq(e.http, 500);
	cr_assert(strstr(e.msg, "after") == NULL, "a POST was retried: %s", e.msg);
	json_object_put(ns);
	disconnect(&c);
	sim_stop(&s);
}

Test(client, batch_under_connection_resets, .timeout = 120)
{
	struct sim s;
	struct run r;

	/* Resets mid-response on GETs: idempotent, retried; the deletes still all happen. */
	sim_start(&s, "--faults reset=0.3,methods=GET --seed 3");
	sim_nub(&s, &r, "kill-labs", "-y", NULL);
	cr_assert_eq(r.status, 0, "%s\n%s", r.out, r.err);
	cr_assert(strstr(r.out, "deleted 5 lab namespace(s)") != NULL, "%s", r.out);
	run_free(&r);
	sim_stop(&s);
}

Test(client, watch_streams_cut_early_are_resumed, .timeout = 120)
{
	struct sim s;
	struct run r;

	sim_start(&s, "--faults watch-cut=0.2,ns-delete-delay=2");
	sim_nub(&s, &r, "kill-labs", "-y", NULL);
	cr_assert_eq(r.status, 0, "%s\n%s", r.out, r.err);
	run_free(&r);
	sim_stop(&s);
}
