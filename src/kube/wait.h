/* wait.h: wait for one object to reach a condition, by list then watch */
#ifndef NUB_WAIT_H
#define NUB_WAIT_H

#include <json-c/json.h>

#include "client.h"

/*
 * Called with the object's current state (NULL once it does not exist).
 * Returns 1 when the wait is over, 0 to keep waiting, -1 on a failure
 * (with e set).  `note' may be set to a short status line for progress.
 */
typedef int (*kube_cond_fn)(json_object *obj, void *arg, struct err *e);

/*
 * Watch object `name' in collection `coll' (an escaped path) until `cond'
 * says done: 0 done, -1 error, 1 timeout (e->reason "Timeout").  Uses
 * fieldSelector=metadata.name=NAME, as kubectl's wait does, and relists
 * when the watch's resourceVersion expires.
 */
int kube_wait_object(struct kube *k, const char *coll, const char *name,
    long timeout_ms, kube_cond_fn cond, void *arg, struct err *e);

#endif
