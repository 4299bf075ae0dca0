/* journal.h: what an interrupted run did, on disk, bound to one cluster (wipe.json, restore.json) */
#ifndef NUB_JOURNAL_H
#define NUB_JOURNAL_H

#include <time.h>

#include <json-c/json.h>

#include "../util/err.h"

/*
 * Read $STATE/<name>: *out NULL when there is none.  A journal of another
 * cluster (or of none recorded) is refused with exit 3: what it says was
 * done was done elsewhere.  `what' names it in messages ("wipe").
 */
int journal_read(const char *path, const char *identity, const char *what,
    json_object **out, struct err *e);
/* Write j (adding the cluster) atomically; j stays the caller's. */
int journal_write(const char *path, const char *identity, const char *what, json_object *j,
    struct err *e);
/* A time field: 0 when absent; journal_put_time leaves 0 out. */
time_t journal_time(json_object *j, const char *key);
void journal_put_time(json_object *j, const char *key, time_t t);
/*
 * For `status': the journal at path as {stage, finished, times{stage:
 * "2026-...Z"}, backup}, `stages' in the order a run reaches them; NULL
 * when there is none.  Another cluster's journal or an unreadable one is
 * {error}.
 */
json_object *journal_describe(const char *path, const char *identity, const char *what,
    const char *const *stages);
/* "2026-11-29 06:47:36 UTC" */
void journal_when(time_t t, char *buf, size_t n);

#endif
