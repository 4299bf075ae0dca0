/* retry.h: when a failed request may be sent again, and after how long */
#ifndef NUB_RETRY_H
#define NUB_RETRY_H

#include <stdbool.h>

struct retry_policy {
	int max_attempts;	/* total tries, first included */
	long base_ms;		/* first backoff */
	long cap_ms;		/* one backoff at most */
	long budget_ms;		/* all waiting at most */
};

extern const struct retry_policy retry_default;

enum retry_failure {
	RETRY_HTTP,		/* an HTTP answer with `http' status */
	RETRY_NOT_SENT,		/* connect/resolve failed: the server saw nothing */
	RETRY_BROKEN,		/* sent, then the connection broke or timed out */
};

/*
 * Decide whether attempt number `attempt' (1 = the first) that failed may
 * be tried again, and after how many milliseconds.  429 is always retried
 * (flow control rejected it before any effect); 5xx and broken connections
 * only for idempotent requests; nothing else.  Retry-After (seconds, or -1
 * when absent) is honoured, capped; otherwise capped exponential backoff
 * with full jitter from `rnd' in [0,1).  `waited_ms' is the waiting so far.
 */
bool retry_decide(const struct retry_policy *p, enum retry_failure f,
    long http, bool idempotent, int attempt, long retry_after_s,
    long waited_ms, double rnd, long *delay_ms);

/* Parse a Retry-After header value (delta-seconds only); -1 if absent or bad. */
long retry_after_parse(const char *v);

#endif
