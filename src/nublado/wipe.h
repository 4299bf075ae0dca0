/* wipe.h: the database steps of wipe-db: preflight, backup, drop-and-restart */
#ifndef NUB_WIPE_H
#define NUB_WIPE_H

#include <stdbool.h>
#include <time.h>

#include "db.h"
#include "steps.h"

/* What the database steps share (hung off step_ctx.wipe). */
struct wipe {
	/* options */
	const char *db_url;		/* --db-url, else the deployed value */
	const char *backup_dir;		/* --backup-dir, else the state dir's backups/ */
	bool no_backup;			/* --no-backup */
	bool again;			/* --again: a new wipe though one just finished */
	const char *pod_name;		/* --pod: exec there, not in the pod found by label */

	/* found by the preflight */
	char *pod;
	char *old_pod;			/* the pod this run's restart replaces */
	char *url;			/* cleaned: no password, no +driver */
	char *url_source;
	struct db_check check;
	bool checked;
	bool drop_unverified;		/* restarted without knowing whether the drop committed */

	/* the journal: what an interrupted run already did */
	char *journal;			/* path of wipe.json in the state dir */
	const char *identity;		/* nub_identity(): the journal's cluster */
	time_t started, blocked_at, backed_up, dropped, restart_issued, completed;
	char *backup;			/* backup file, once verified */
	long long backup_rows;

	/* timings (monotonic ms) for the summary */
	long long t_start, t_block, t_drop, t_ready, t_unblock;
};

extern const struct step step_preflight;
extern const struct step step_backup;
extern const struct step step_drop;

void wipe_clear(struct wipe *w);
/*
 * Load the journal of an earlier run on this cluster, if any.  A journal
 * that names another cluster (or none) is refused: its backup is not this
 * database's.  `identity' is nub_identity()'s, kept in w.
 */
int wipe_journal_load(struct wipe *w, const char *state_dir, const char *identity,
    struct err *e);
int wipe_journal_save(const struct wipe *w, struct err *e);
/* Record when this run blocked access (if it did) for a later run's summary. */
void wipe_note_blocked(struct step_ctx *c, struct wipe *w);
/* The summary lines, after a run. */
void wipe_summary(const struct wipe *w, struct step_ctx *c, bool kept_blocked);

#endif
