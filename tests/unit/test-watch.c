/* test-watch.c: the watch stream parser against a hostile server */
#include <stdlib.h>
#include <string.h>

#include <criterion/criterion.h>

#include "../../src/kube/client-test.h"

static int
count(enum kube_event type, json_object *obj, void *arg, struct err *e)
{
	(*(int *)arg)++;
	return 0;
}

Test(watch, events_parsed_in_pieces)
{
	const char *s = "{\"type\":\"ADDED\",\"object\":{\"metadata\":{\"name\":\"a\","
	    "\"resourceVersion\":\"5\"}}}\n{\"type\":\"DELETED\",\"object\":{\"metadata\":"
	    "{\"name\":\"a\",\"resourceVersion\":\"6\"}}}\n";
	struct err e;
	char *rv = NULL;
	int n = 0;

	err_clear(&e);
	cr_assert_eq(kube_watch_feed_for_tests(s, strlen(s), 3, count, &n, &rv, &e), 0, "%s", e.msg);
	cr_assert_eq(n, 2);
	cr_assert_str_eq(rv, "6");
	free(rv);
}

/* One endless line: stopped at the limit, not buffered until memory runs out. */
Test(watch, an_event_past_the_limit_is_refused)
{
	size_t len = KUBE_WATCH_LINE_MAX + 4096;
	char *big = malloc(len);
	struct err e;
	int n = 0;

	cr_assert_not_null(big);
	memset(big, 'x', len);
	err_clear(&e);
	cr_assert_eq(kube_watch_feed_for_tests(big, len, 65536, count, &n, NULL, &e), -1);
	cr_assert(strstr(e.msg, "larger than 16 MiB") != NULL, "%s", e.msg);
	cr_assert_eq(n, 0);
	free(big);
}
