/*
 * fuzz-watch.c: watch streams (one JSON event per line) through the parser
 * kube_watch uses (kube_watch_feed_for_tests).  The same bytes are fed whole
 * and in pieces of 1..16 bytes, as curl may deliver them: both must give the
 * same events, the same outcome and the same resourceVersion.  Input: the
 * stream; its last byte also picks the piece size.
 */
#include <stdint.h>

#include "../../src/kube/client-test.h"
#include "fuzz.h"

struct seen {
	unsigned long events, hash;
};

static unsigned long
mix(unsigned long h, const char *s)
{
	for (; s != NULL && *s != '\0'; s++)
		h = h * 31 + (unsigned char)*s;
	return h;
}

static int
on_event(enum kube_event type, json_object *obj, void *arg, struct err *e)
{
	struct seen *s = arg;
	json_object *md, *name;

	s->events++;
	s->hash = mix(s->hash * 7 + (unsigned long)type, json_object_to_json_string(obj));
	/* Like the callers: look at metadata.name, stop or fail on some. */
	if (json_object_object_get_ex(obj, "metadata", &md) &&
	    json_object_object_get_ex(md, "name", &name)) {
		const char *n = json_object_get_string(name);

		if (n != NULL && strcmp(n, "stop") == 0)
			return 1;
		if (n != NULL && strcmp(n, "fail") == 0)
			return err_set(e, "fuzz: the callback failed");
	}
	return 0;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct seen whole = { 0, 0 }, pieces = { 0, 0 };
	struct err e1, e2;
	char *rv1 = NULL, *rv2 = NULL;
	size_t piece = size > 0 ? data[size - 1] % 16 + 1 : 1;
	int r1, r2;

	err_clear(&e1);
	err_clear(&e2);
	r1 = kube_watch_feed_for_tests((const char *)data, size, 0, on_event, &whole, &rv1, &e1);
	r2 = kube_watch_feed_for_tests((const char *)data, size, piece, on_event, &pieces, &rv2,
	    &e2);
	FUZZ_CHECK(r1 >= -1 && r1 <= 1, "result %d", r1);
	FUZZ_CHECK(r1 == r2, "whole %d, in %zu-byte pieces %d", r1, piece, r2);
	FUZZ_CHECK(whole.events == pieces.events && whole.hash == pieces.hash,
	    "%lu events whole, %lu in pieces", whole.events, pieces.events);
	FUZZ_CHECK((rv1 == NULL) == (rv2 == NULL) && (rv1 == NULL || strcmp(rv1, rv2) == 0),
	    "resourceVersion '%s' vs '%s'", rv1 ? rv1 : "(none)", rv2 ? rv2 : "(none)");
	if (r1 < 0)
		FUZZ_CHECK(e1.msg[0] != '\0' && strcmp(e1.msg, e2.msg) == 0,
		    "messages '%s' / '%s'", e1.msg, e2.msg);
	free(rv1);
	free(rv2);
	return 0;
}
