/* wipe.h: wipe-db's own steps (preflight, backup, drop-and-restart), journal and summary */
#ifndef NUB_WIPE_H
#define NUB_WIPE_H

#include <stdbool.h>
#include <time.h>

#include "db.h"
#include "run.h"
#include "steps.h"

/* What wipe-db's own steps share: its options, what the preflight found, the journal. */
struct wipe {
	/* options */
	const char *db_url;		/* --db-url, else the deployed value */
	const char *backup_dir;		/* --backup-dir, else the state dir's backups/ */
	bool no_backup;			/* --no-backup */
	bool again;			/* --again: a new wipe though one just finished */
	bool keep_blocked;		/* --keep-blocked: no unblock at the end */
	const char *pod_name;		/* --pod: exec there, not in the pod found by label */
	/* the runbook's other steps, read for the lockout times */
	const struct block_step *block;
	const struct unblock_step *unblock;

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
	long long t_start, t_drop, t_ready;
};

extern const struct step_ops wipe_preflight_ops;
extern const struct step_ops wipe_backup_ops;
extern const struct step_ops wipe_drop_ops;

/*
 * The hooks around the runbook (journal, "already wiped", the resumed
 * confirmation, the summary): cmd's prepare, begin, finish and arg.
 */
void wipe_hooks(struct run_cmd *cmd, struct wipe *w);
void wipe_clear(struct wipe *w);

/* wipe-journal.c: $STATE/wipe.json */
int wipe_journal_load(struct wipe *w, const char *state_dir, const char *identity,
    struct err *e);
int wipe_journal_save(const struct wipe *w, struct err *e);
/* Record when this run blocked access (if it did) for a later run's summary. */
void wipe_note_blocked(struct wipe *w);

#endif
