/* test-status.c: Status objects and non-JSON error bodies become one clear message */
#include <string.h>

#include <criterion/criterion.h>

#include "../../src/kube/status.h"

static void
check(long http, const char *body, const char *want_msg, const char *want_reason)
{
	json_object *j = json_tokener_parse(body);
	struct err e;

	err_clear(&e);
	cr_assert_eq(kube_status_err(http, j, body, strlen(body), "GET", "/api/v1/x", &e), -1);
	cr_assert_str_eq(e.msg, want_msg);
	cr_assert_eq(e.http, http);
	if (want_reason == NULL)
		cr_assert_null(e.reason);
	else
		cr_assert_str_eq(e.reason, want_reason);
	json_object_put(j);
}

Test(status, not_found)
{
	check(404, "{\"kind\":\"Status\",\"apiVersion\":\"v1\",\"status\":\"Failure\","
	    "\"message\":\"namespaces \\\"nublado-x\\\" not found\",\"reason\":\"NotFound\","
	    "\"details\":{\"name\":\"nublado-x\",\"kind\":\"namespaces\"},\"code\":404}",
	    "namespaces \"nublado-x\" not found (NotFound)", "NotFound");
}

Test(status, forbidden_has_hint)
{
	const char *body = "{\"kind\":\"Status\",\"status\":\"Failure\",\"message\":"
	    "\"namespaces \\\"nublado-a\\\" is forbidden: User \\\"v\\\" cannot delete resource\","
	    "\"reason\":\"Forbidden\",\"code\":403}";
	json_object *j = json_tokener_parse(body);
	struct err e;

	err_clear(&e);
	kube_status_err(403, j, body, strlen(body), "DELETE", "/api/v1/namespaces/nublado-a", &e);
	cr_assert(strstr(e.msg, "is forbidden") != NULL);
	cr_assert_str_eq(e.reason, "Forbidden");
	cr_assert(strstr(e.hint, "RBAC") != NULL);
	json_object_put(j);
}

Test(status, plain_text_429)
{
	check(429, "Too many requests, please try again later.\n",
	    "GET /api/v1/x: server answered 429 Too Many Requests: Too many requests, please try again later.",
	    "TooManyRequests");
}

Test(status, empty_body)
{
	check(503, "", "GET /api/v1/x: server answered 503 Service Unavailable", NULL);
}

Test(status, json_but_not_status)
{
	check(500, "{\"error\":\"boom\"}",
	    "GET /api/v1/x: server answered 500 Internal Server Error: {\"error\":\"boom\"}", NULL);
}

Test(status, status_without_message)
{
	check(409, "{\"kind\":\"Status\",\"status\":\"Failure\",\"reason\":\"Conflict\",\"code\":409}",
	    "GET /api/v1/x: 409 Conflict", "Conflict");
}

Test(status, unknown_reason_not_kept)
{
	check(422, "{\"kind\":\"Status\",\"message\":\"bad\",\"reason\":\"SomethingNew\",\"code\":422}",
	    "bad (SomethingNew)", NULL);
}

Test(status, html_first_line_only)
{
	check(502, "<html>\r\n<body>bad gateway</body></html>",
	    "GET /api/v1/x: server answered 502 Bad Gateway: <html>", NULL);
}
