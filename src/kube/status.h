/* status.h: Kubernetes Status objects and other error bodies, made into one message */
#ifndef NUB_STATUS_H
#define NUB_STATUS_H

#include <stddef.h>

#include <json-c/json.h>

#include "../util/err.h"

/*
 * Fill e from an HTTP error answer: a Status body gives its message and
 * reason ("namespaces \"x\" not found"), anything else (a 429 from flow
 * control is plain text) gives the status line and the first line of the
 * body.  `json' may be NULL (the body was not JSON).  Sets e->http and
 * e->reason, and a hint for the statuses that have an obvious next step.
 * Returns -1.
 */
int kube_status_err(long http, json_object *json, const char *body,
    size_t len, const char *method, const char *path, struct err *e);

/* The reason of a Status ("NotFound"), as a static string, or NULL. */
const char *kube_status_reason(json_object *json);

/* Reason phrase for an HTTP status ("Too Many Requests"). */
const char *kube_http_phrase(long http);

#endif
