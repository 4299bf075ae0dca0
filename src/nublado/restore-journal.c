/* restore-journal.c: $STATE/restore.json: what an interrupted restore-db did */
#include <stdlib.h>
#include <string.h>

#include "../util/jsonout.h"
#include "../util/log.h"
#include "../util/xalloc.h"
#include "journal.h"
#include "restore.h"

/* A restore finished this recently is not repeated without --again. */
#define RECENT_SECONDS (6 * 3600)

/* The backup's own path, so a journal about another file is not taken for this one. */
static char *
real(const char *path)
{
	char *p = realpath(path, NULL);

	return p != NULL ? p : xstrdup(path);
}

int
restore_journal_load(struct restore *r, const char *state_dir, const char *identity,
    struct err *e)
{
	json_object *j;
	const char *file;
	char *mine;

	r->identity = identity;
	r->journal = xasprintf("%s/restore.json", state_dir);
	if (journal_read(r->journal, identity, "restore", &j, e) < 0)
		return -1;
	if (j == NULL)
		return 0;
	file = jstr(j, "backup", NULL);
	mine = real(r->file);
	if (file != NULL && strcmp(file, mine) == 0) {
		r->journal_backup = xstrdup(file);
		r->started = journal_time(j, "started");
		r->restored = journal_time(j, "restored");
		r->restart_issued = journal_time(j, "restartIssued");
		r->completed = journal_time(j, "completed");
	} else if (file != NULL && jint(j, 0, "restored", NULL) != 0 &&
	    jint(j, 0, "completed", NULL) == 0) {
		log_warn("an earlier restore of %s was interrupted after its rows went in; "
		    "this run restores %s instead", file, mine);
	}
	free(mine);
	json_object_put(j);
	if (r->completed != 0 && (r->again || time(NULL) - r->completed > RECENT_SECONDS))
		r->started = r->restored = r->restart_issued = r->completed = 0;
	return 0;
}

int
restore_journal_save(const struct restore *r, struct err *e)
{
	json_object *j = json_object_new_object();
	char *file = real(r->file);
	int rc;

	journal_put_time(j, "started", r->started);
	journal_put_time(j, "restored", r->restored);
	journal_put_time(j, "restartIssued", r->restart_issued);
	journal_put_time(j, "completed", r->completed);
	json_object_object_add(j, "backup", json_object_new_string(file));
	rc = journal_write(r->journal, r->identity, "restore", j, e);
	json_object_put(j);
	free(file);
	return rc;
}
