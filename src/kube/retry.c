/* retry.c: the retry decision, a pure function so it can be tested alone */
#include <stdlib.h>

#include "retry.h"

/* client-go retries 429/5xx with Retry-After up to 10 times; we bound the time too. */
#define RETRY_NOT_SENT_ATTEMPTS 3

const struct retry_policy retry_default = {
	.max_attempts = 10,
	.base_ms = 250,
	.cap_ms = 8000,
	.budget_ms = 60000,
};

bool
retry_decide(const struct retry_policy *p, enum retry_failure f, long http,
    bool idempotent, int attempt, long retry_after_s, long waited_ms,
    double rnd, long *delay_ms)
{
	long delay, exp;

	if (attempt >= p->max_attempts)
		return false;
	switch (f) {
	case RETRY_NOT_SENT:
		/*
		 * Nothing listens, or the name does not resolve: kubectl fails at
		 * once.  Two quick tries more ride out a VPN blip; ten would keep
		 * an admin waiting twenty seconds for "connection refused".
		 */
		if (attempt >= RETRY_NOT_SENT_ATTEMPTS)
			return false;
		break;
	case RETRY_BROKEN:
		if (!idempotent)
			return false;
		break;
	case RETRY_HTTP:
		if (http == 429)
			break;
		if (http == 500 || http == 502 || http == 503 || http == 504) {
			if (!idempotent)
				return false;
			break;
		}
		return false;
	}
	exp = p->base_ms;
	for (int i = 1; i < attempt && exp < p->cap_ms; i++)
		exp *= 2;
	if (exp > p->cap_ms)
		exp = p->cap_ms;
	if (retry_after_s >= 0) {
		/* The server said when: trust it, within our cap. */
		delay = retry_after_s * 1000;
		if (delay > p->cap_ms)
			delay = p->cap_ms;
	} else {
		/* Full jitter keeps many clients from retrying in step. */
		delay = (long)(rnd * (double)exp);
		if (delay < p->base_ms / 4)
			delay = p->base_ms / 4;
	}
	if (waited_ms + delay > p->budget_ms)
		return false;
	*delay_ms = delay;
	return true;
}

long
retry_after_parse(const char *v)
{
	char *end;
	long s;

	if (v == NULL)
		return -1;
	while (*v == ' ' || *v == '\t')
		v++;
	s = strtol(v, &end, 10);
	if (end == v || s < 0)
		return -1;
	while (*end == ' ' || *end == '\t' || *end == '\r' || *end == '\n')
		end++;
	if (*end != '\0')
		return -1;
	return s > 3600 ? 3600 : s;
}
