/* wipe-journal.c: $STATE/wipe.json, rewritten atomically after each stage of a wipe */
#include <stdio.h>
#include <stdlib.h>
#include <sys/stat.h>

#include "../util/jsonout.h"
#include "../util/log.h"
#include "../util/sig.h"
#include "../util/xalloc.h"
#include "journal.h"
#include "wipe.h"

/* A wipe finished this recently is not repeated without --again. */
#define RECENT_SECONDS (6 * 3600)

int
wipe_journal_load(struct wipe *w, const char *state_dir, const char *identity,
    struct err *e)
{
	json_object *j;
	struct stat sb;

	w->identity = identity;
	w->journal = xasprintf("%s/wipe.json", state_dir);
	if (journal_read(w->journal, identity, "wipe", &j, e) < 0)
		return -1;
	if (j == NULL)
		return 0;
	w->started = journal_time(j, "started");
	w->blocked_at = journal_time(j, "blocked");
	w->backed_up = journal_time(j, "backedUp");
	w->dropped = journal_time(j, "dropped");
	w->restart_issued = journal_time(j, "restartIssued");
	w->completed = journal_time(j, "completed");
	if (jstr(j, "backup", NULL) != NULL)
		w->backup = xstrdup(jstr(j, "backup", NULL));
	json_object_put(j);
	/* A backup deleted since is no backup: take another before any drop. */
	if (w->backed_up != 0 && w->dropped == 0 &&
	    (w->backup == NULL || stat(w->backup, &sb) != 0 || !S_ISREG(sb.st_mode))) {
		log_warn("the backup taken earlier (%s) is gone: taking a new one",
		    w->backup ? w->backup : "no file recorded");
		free(w->backup);
		w->backup = NULL;
		w->backed_up = 0;
	}
	/* A finished wipe long ago is history: a new run starts afresh. */
	if (w->completed != 0 && (w->again || time(NULL) - w->completed > RECENT_SECONDS)) {
		free(w->backup);
		w->backup = NULL;
		w->started = w->blocked_at = w->backed_up = w->dropped = 0;
		w->restart_issued = w->completed = 0;
	}
	return 0;
}

int
wipe_journal_save(const struct wipe *w, struct err *e)
{
	json_object *j = json_object_new_object();
	int rc;

	journal_put_time(j, "started", w->started);
	journal_put_time(j, "blocked", w->blocked_at);
	journal_put_time(j, "backedUp", w->backed_up);
	journal_put_time(j, "dropped", w->dropped);
	journal_put_time(j, "restartIssued", w->restart_issued);
	journal_put_time(j, "completed", w->completed);
	json_add_str(j, "backup", w->backup);
	rc = journal_write(w->journal, w->identity, "wipe", j, e);
	json_object_put(j);
	return rc;
}

void
wipe_note_blocked(struct wipe *w)
{
	long long at = w->block != NULL ? w->block->blocked_ms : 0;

	if (w->blocked_at == 0 && at != 0)
		w->blocked_at = time(NULL) - (time_t)((now_ms() - at) / 1000);
}
