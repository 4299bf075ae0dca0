/*
 * fuzz-status.c: error bodies from the API server made into messages:
 * kube_status_err on whatever json_tokener_parse makes of the body (a
 * Status, other JSON, or nothing: the plain-text path), for the statuses
 * with their own hints; and exec_status_parse (the channel-3 Status that
 * ends an exec).  Input: the response body.
 */
#include <stdint.h>

#include "../../src/kube/exec.h"
#include "../../src/kube/status.h"
#include "fuzz.h"

static const long statuses[] = { 401, 403, 404, 410, 429, 500, 0, 999 };

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *body = fuzz_str(data, size);
	json_object *json = json_tokener_parse(body);
	struct err e;
	int code;

	for (size_t i = 0; i < sizeof statuses / sizeof statuses[0]; i++) {
		err_clear(&e);
		FUZZ_CHECK(kube_status_err(statuses[i], json, (const char *)data, size, "GET",
		    "/api/v1/namespaces/x", &e) == -1, "kube_status_err did not return -1");
		FUZZ_CHECK(e.msg[0] != '\0', "no message");
		FUZZ_CHECK(e.http == (int)statuses[i], "http %d", e.http);
		/* The plain-text path quotes one line, never more. */
		if (json == NULL)
			FUZZ_CHECK(strchr(e.msg, '\n') == NULL, "multi-line message '%s'", e.msg);
	}
	(void)kube_status_reason(json);
	err_clear(&e);
	FUZZ_CHECK(kube_status_err(400, NULL, NULL, 0, "GET", "/x", &e) == -1, "NULL body");
	json_object_put(json);

	err_clear(&e);
	if (exec_status_parse((const char *)data, size, &code, &e) == 0)
		FUZZ_CHECK(code >= 0 && code <= 255, "exit code %d", code);
	else
		FUZZ_CHECK(code == -1 && e.msg[0] != '\0', "failed with code %d, message '%s'",
		    code, e.msg);
	free(body);
	return 0;
}
