/* restore.h: restore-db: a wipe-db backup put back, the hub kept off it, then restarted */
#ifndef NUB_RESTORE_H
#define NUB_RESTORE_H

#include <stdbool.h>
#include <time.h>

#include "backup-file.h"
#include "db.h"
#include "run.h"
#include "steps.h"

struct restore {
	/* options */
	const char *file;		/* the backup */
	const char *db_url;		/* --db-url, else the deployed value */
	bool again;			/* --again: restore though it was just done */
	const char *pod_name;		/* --pod: exec there */
	/* the runbook's other steps, read for the lockout time */
	const struct block_step *block;
	const struct unblock_step *unblock;

	/* found by the preflight */
	struct backup_file backup;
	bool loaded;
	char *pod, *old_pod, *url, *url_source;
	struct db_check target;		/* the database as it is now */
	bool checked;
	bool full;			/* a pg_dump file into a database with no JupyterHub tables */
	char **order;			/* the tables, parents first (strv) */

	/* the journal (restore.json in the state directory) */
	char *journal;
	const char *identity;		/* nub_identity() */
	char *journal_backup;		/* the backup an earlier run worked on */
	time_t started, restored, restart_issued, completed;

	/* results */
	bool verified;
	long long t_start, t_restore, t_ready;
};

extern const struct step_ops restore_preflight_ops;
extern const struct step_ops restore_load_ops;

/* The hooks around the runbook (journal, "already restored", summary): cmd's prepare, finish, arg. */
void restore_hooks(struct run_cmd *cmd, struct restore *r);
void restore_clear(struct restore *r);

/* restore-journal.c: $STATE/restore.json */
/* The journal of an earlier run on this cluster; another cluster's is refused (exit 3). */
int restore_journal_load(struct restore *r, const char *state_dir, const char *identity,
    struct err *e);
int restore_journal_save(const struct restore *r, struct err *e);

#endif
