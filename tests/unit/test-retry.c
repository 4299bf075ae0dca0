/* test-retry.c: which failures are retried, and how long we wait */
#include <criterion/criterion.h>

#include "../../src/kube/retry.h"

static const struct retry_policy p = { 5, 100, 1000, 5000 };

Test(retry, too_many_requests_always)
{
	long d = 0;

	cr_assert(retry_decide(&p, RETRY_HTTP, 429, false, 1, -1, 0, 0.5, &d));
	cr_assert(d >= 25 && d <= 100);
}

Test(retry, retry_after_honoured_and_capped)
{
	long d = 0;

	cr_assert(retry_decide(&p, RETRY_HTTP, 429, true, 1, 0, 0, 0.9, &d));
	cr_assert_eq(d, 0);
	cr_assert(retry_decide(&p, RETRY_HTTP, 503, true, 1, 2, 0, 0.9, &d));
	cr_assert_eq(d, 1000);	/* 2 s asked, capped at 1 s */
}

Test(retry, server_errors_only_when_idempotent)
{
	long d;

	for (long s = 500; s <= 504; s++) {
		if (s == 501)
			continue;
		cr_assert(retry_decide(&p, RETRY_HTTP, s, true, 1, -1, 0, 0.1, &d), "%ld", s);
		cr_assert_not(retry_decide(&p, RETRY_HTTP, s, false, 1, -1, 0, 0.1, &d), "%ld", s);
	}
}

Test(retry, client_errors_never)
{
	long d;
	long codes[] = { 400, 401, 403, 404, 409, 410, 415, 422, 501 };

	for (size_t i = 0; i < sizeof codes / sizeof *codes; i++)
		cr_assert_not(retry_decide(&p, RETRY_HTTP, codes[i], true, 1, -1, 0, 0.1, &d));
}

Test(retry, connections)
{
	long d;

	/* Never reached the server: safe for anything. */
	cr_assert(retry_decide(&p, RETRY_NOT_SENT, 0, false, 1, -1, 0, 0.1, &d));
	/* Broken after sending: the effect may have happened. */
	cr_assert(retry_decide(&p, RETRY_BROKEN, 0, true, 1, -1, 0, 0.1, &d));
	cr_assert_not(retry_decide(&p, RETRY_BROKEN, 0, false, 1, -1, 0, 0.1, &d));
}

Test(retry, bounded_in_count)
{
	long d;

	cr_assert(retry_decide(&p, RETRY_HTTP, 429, true, 4, -1, 0, 0.1, &d));
	cr_assert_not(retry_decide(&p, RETRY_HTTP, 429, true, 5, -1, 0, 0.1, &d));
}

Test(retry, bounded_in_time)
{
	long d;

	cr_assert_not(retry_decide(&p, RETRY_HTTP, 429, true, 2, 1, 4500, 0.1, &d));
	cr_assert(retry_decide(&p, RETRY_HTTP, 429, true, 2, 0, 4500, 0.1, &d));
}

Test(retry, backoff_grows_then_caps)
{
	long d1, d3, d9;
	struct retry_policy q = { 20, 100, 1000, 100000 };

	retry_decide(&q, RETRY_HTTP, 503, true, 1, -1, 0, 0.999, &d1);
	retry_decide(&q, RETRY_HTTP, 503, true, 3, -1, 0, 0.999, &d3);
	retry_decide(&q, RETRY_HTTP, 503, true, 9, -1, 0, 0.999, &d9);
	cr_assert(d1 <= 100);
	cr_assert(d3 > 300 && d3 <= 400);
	cr_assert(d9 > 900 && d9 <= 1000);
}

Test(retry, jitter_spreads)
{
	long lo, hi;

	retry_decide(&p, RETRY_HTTP, 503, true, 3, -1, 0, 0.0, &lo);
	retry_decide(&p, RETRY_HTTP, 503, true, 3, -1, 0, 0.99, &hi);
	cr_assert(lo < hi);
}

Test(retry, retry_after_parsing)
{
	cr_assert_eq(retry_after_parse("3"), 3);
	cr_assert_eq(retry_after_parse(" 10\r\n"), 10);
	cr_assert_eq(retry_after_parse("Wed, 21 Oct 2015 07:28:00 GMT"), -1);
	cr_assert_eq(retry_after_parse(""), -1);
	cr_assert_eq(retry_after_parse(NULL), -1);
	cr_assert_eq(retry_after_parse("-4"), -1);
	cr_assert_eq(retry_after_parse("99999"), 3600);
}

/* Connection refused: three tries in well under a second, not ten in twenty. */
Test(retry, nothing_listening_fails_fast)
{
	long d = 0, total = 0;
	int attempt = 1;

	while (retry_decide(&retry_default, RETRY_NOT_SENT, 0, true, attempt, -1, total, 0.5, &d)) {
		total += d;
		attempt++;
	}
	cr_assert_eq(attempt, 3, "gave up after %d attempts", attempt);
	cr_assert_lt(total, 1500, "%ld ms of waiting", total);
}
