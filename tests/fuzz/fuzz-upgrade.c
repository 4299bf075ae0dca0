/*
 * fuzz-upgrade.c: the exec upgrade's answer as a hostile server may send it:
 * status line, headers and a (chunked) body, through the parser kube_exec
 * uses (exec_response_parse_for_tests).  Besides the sanitizers: the result
 * is one of three, a status has three digits, a body never outgrows the input
 * and every prefix of a complete answer is "more needed" or the same answer.
 */
#include <stdint.h>

#include "../../src/kube/exec-test.h"
#include "fuzz.h"

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct buf body = BUF_INIT, part = BUF_INIT;
	int status = -1, st2 = -1, rc, rc2;

	rc = exec_response_parse_for_tests((const char *)data, size, &status, &body);
	FUZZ_CHECK(rc >= -1 && rc <= 1, "result %d", rc);
	if (rc == 1) {
		FUZZ_CHECK(status >= 0 && status <= 999, "status %d", status);
		FUZZ_CHECK(body.len <= size, "a body of %zu bytes from %zu", body.len, size);
		/* Half the bytes: not yet complete, or already the same answer. */
		rc2 = exec_response_parse_for_tests((const char *)data, size / 2, &st2, &part);
		FUZZ_CHECK(rc2 != 1 || part.len <= body.len, "a prefix gave a longer body");
	}
	buf_free(&body);
	buf_free(&part);
	return 0;
}
