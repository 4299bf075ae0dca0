/* status.c: turn what the API server says about a failure into one clear line */
#include <string.h>

#include "../util/jsonout.h"
#include "status.h"

static const char *const reasons[] = {
	"NotFound", "AlreadyExists", "Conflict", "Forbidden", "Unauthorized",
	"Invalid", "Gone", "Expired", "BadRequest", "MethodNotAllowed",
	"NotAcceptable", "UnsupportedMediaType", "TooManyRequests",
	"InternalError", "ServiceUnavailable", "Timeout", "ServerTimeout",
	"RequestEntityTooLarge", "NonZeroExitCode", NULL
};

const char *
kube_status_reason(json_object *json)
{
	json_object *r;
	const char *s;

	if (json == NULL || !json_object_object_get_ex(json, "reason", &r))
		return NULL;
	s = json_object_get_string(r);
	for (int i = 0; s != NULL && reasons[i] != NULL; i++)
		if (strcmp(s, reasons[i]) == 0)
			return reasons[i];
	return NULL;
}

const char *
kube_http_phrase(long http)
{
	switch (http) {
	case 400: return "Bad Request";
	case 401: return "Unauthorized";
	case 403: return "Forbidden";
	case 404: return "Not Found";
	case 405: return "Method Not Allowed";
	case 409: return "Conflict";
	case 410: return "Gone";
	case 415: return "Unsupported Media Type";
	case 422: return "Unprocessable Entity";
	case 429: return "Too Many Requests";
	case 500: return "Internal Server Error";
	case 502: return "Bad Gateway";
	case 503: return "Service Unavailable";
	case 504: return "Gateway Timeout";
	default: return "";
	}
}

static int
is_status(json_object *json)
{
	const char *kind = jstr(json, "kind", NULL);

	return kind != NULL && strcmp(kind, "Status") == 0;
}

int
kube_status_err(long http, json_object *json, const char *body, size_t len,
    const char *method, const char *path, struct err *e)
{
	const char *message, *reason;

	if (e == NULL)
		return -1;
	e->http = (int)http;
	e->reason = NULL;
	if (json != NULL && is_status(json)) {
		message = jstr(json, "message", NULL);
		reason = jstr(json, "reason", NULL);
		e->reason = kube_status_reason(json);
		/* An empty message or reason says nothing: fall back to the status line. */
		if (message != NULL && *message == '\0')
			message = NULL;
		if (reason != NULL && *reason == '\0')
			reason = NULL;
		if (message != NULL && reason != NULL)
			err_set(e, "%s (%s)", message, reason);
		else if (message != NULL)
			err_set(e, "%s", message);
		else
			err_set(e, "%s %s: %ld %s", method, path, http,
			    reason ? reason : kube_http_phrase(http));
	} else {
		/* Not a Status: a proxy, flow control or a non-Kubernetes server. */
		size_t n = 0;

		while (body != NULL && n < len && n < 200 && body[n] != '\n' &&
		    body[n] != '\r')
			n++;
		if (n > 0)
			err_set(e, "%s %s: server answered %ld %s: %.*s", method,
			    path, http, kube_http_phrase(http), (int)n, body);
		else
			err_set(e, "%s %s: server answered %ld %s", method, path,
			    http, kube_http_phrase(http));
	}
	switch (http) {
	case 401:
		err_hint(e, "the credentials were refused: log in again or check the user in your kubeconfig");
		if (e->reason == NULL)
			e->reason = "Unauthorized";
		break;
	case 403:
		err_hint(e, "your user lacks a permission (see README's RBAC table): ask a cluster admin, or use another --context");
		if (e->reason == NULL)
			e->reason = "Forbidden";
		break;
	case 429:
		if (e->reason == NULL)
			e->reason = "TooManyRequests";
		err_hint(e, "the API server is overloaded: wait a little and run the command again");
		break;
	default:
		break;
	}
	return -1;
}
