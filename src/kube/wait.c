/* wait.c: list-then-watch on a single object */
#include <stdlib.h>
#include <string.h>

#include "../util/buf.h"
#include "../util/sig.h"
#include "../util/xalloc.h"
#include "url.h"
#include "wait.h"

struct wctx {
	kube_cond_fn cond;
	void *arg;
	json_object *seen;	/* the object from the list, if any */
};

static int
keep(json_object *item, void *arg, struct err *e)
{
	struct wctx *w = arg;

	json_object_put(w->seen);
	w->seen = json_object_get(item);
	return 0;
}

static int
on_event(enum kube_event t, json_object *obj, void *arg, struct err *e)
{
	struct wctx *w = arg;

	return w->cond(t == KUBE_DELETED ? NULL : obj, w->arg, e);
}

int
kube_wait_object(struct kube *k, const char *coll, const char *name, long timeout_ms,
    kube_cond_fn cond, void *arg, struct err *e)
{
	struct wctx w = { cond, arg, NULL };
	long long deadline = timeout_ms > 0 ? now_ms() + timeout_ms : 0;
	struct buf q = BUF_INIT;
	char *sel = xasprintf("metadata.name=%s", name);
	int rc;

	kube_query_add(&q, "fieldSelector", sel);
	free(sel);
	for (;;) {
		char *rv = NULL;
		long left;

		json_object_put(w.seen);
		w.seen = NULL;
		if (kube_list(k, coll, q.data, 0, keep, NULL, &w, &rv, e) < 0) {
			rc = -1;
			break;
		}
		rc = cond(w.seen, arg, e);
		if (rc != 0) {
			free(rv);
			rc = rc > 0 ? 0 : -1;
			break;
		}
		left = deadline ? (long)(deadline - now_ms()) : 0;
		if (deadline && left <= 0) {
			free(rv);
			e->reason = "Timeout";
			rc = 1;
			break;
		}
		rc = kube_watch(k, coll, q.data, rv, deadline ? left : 0, on_event, &w, e);
		free(rv);
		if (rc < 0 && e->http == 410) {
			err_clear(e);
			continue;	/* too old a resourceVersion: list again */
		}
		break;
	}
	json_object_put(w.seen);
	buf_free(&q);
	return rc;
}
