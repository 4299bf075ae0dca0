/* wipe-backup.c: wipe-db step 4: pg_dump (or psql) in the pod, to a local 0600 file, verified */
#include <stdlib.h>
#include <sys/stat.h>

#include "../util/exitcode.h"
#include "../util/log.h"
#include "../util/progress.h"
#include "../util/sig.h"
#include "../util/xalloc.h"
#include "wipe.h"

/* pg_dump tries before wipe-db gives up (nothing dropped). */
#define BACKUP_TRIES 3

static int
backup_plan(struct run *r, void *st, struct buf *out, bool *empty, struct err *e)
{
	struct wipe *w = st;

	*empty = w->completed != 0 || w->backed_up != 0 || w->dropped != 0 || !w->checked ||
	    w->no_backup;
	if (w->completed != 0 && !w->again)
		return 0;
	if (w->no_backup && w->dropped == 0) {
		buf_printf(out, "  NO BACKUP (--no-backup): the dropped data cannot be restored\n");
		return 0;
	}
	if (w->backed_up != 0 || w->dropped != 0) {
		buf_printf(out, "  backup already taken: %s\n", w->backup ? w->backup : "?");
		return 0;
	}
	if (!w->checked) {
		/* A dry run with no hub container: nothing ran psql, nothing was counted. */
		buf_printf(out, "  back up the JupyterHub tables (not counted in this dry run: no "
		    "hub container to run psql in; a real run counts and checks them first)\n");
		return 0;
	}
	buf_printf(out, "  back up %zu JupyterHub tables (%lld rows) with %s in the pod to %s/\n",
	    w->check.n_tables, db_check_total_rows(&w->check),
	    db_backup_kind(&w->check) == DB_BACKUP_PSQL ?
	    "psql (COPY in one snapshot; the pod's pg_dump cannot dump this server)" : "pg_dump",
	    w->backup_dir ? w->backup_dir : "the state directory's backups");
	for (size_t i = 0; i < w->check.n_tables; i++)
		buf_printf(out, "%s%s (%lld)", i % 6 == 0 ? (i ? "\n      " : "      ") : ", ",
		    w->check.tables[i].name, w->check.tables[i].rows);
	buf_puts(out, "\n");
	return 0;
}

static int
backup_apply(struct run *r, void *st, struct err *e)
{
	struct wipe *w = st;
	long long *counts;
	char *path = NULL;

	if (r->dry_run)
		return 0;
	counts = xcalloc(w->check.n_tables + 1, sizeof *counts);
	/*
	 * pg_dump only reads: a dump cut short (a dropped exec connection, a
	 * flaky VPN) is worth another go.  Each failed try leaves no file.
	 */
	for (int attempt = 1;; attempt++) {
		if (db_backup(r->n, w->pod, w->url, &w->check, w->backup_dir,
		    r->n->cfg->context, &path, counts, e) == 0)
			break;
		if (attempt >= BACKUP_TRIES || e->exit == EXIT_INTERRUPTED || sig_interrupted())
			break;
		log_warn("%s; trying again (%d of %d)", e->msg, attempt + 1, BACKUP_TRIES);
		err_clear(e);
		if (!sleep_ms(1000L * attempt)) {
						err_set(e, "interrupted before the backup was taken");
			break;
		}
	}
	if (path == NULL) {
		free(counts);
		err_hint(e, "nothing was dropped; fix the cause and run wipe-db again "
		    "(access stays blocked until then; `unblock` lets users back in)");
		return -1;
	}
	w->backup_rows = 0;
	for (size_t i = 0; i < w->check.n_tables; i++)
		w->backup_rows += counts[i];
	free(counts);
	free(w->backup);
	w->backup = path;
	w->backed_up = time(NULL);
	wipe_note_blocked(w);
	report_add(&r->report, "backup", json_object_new_string(path));
	report_add(&r->report, "backupKind",
	    json_object_new_string(db_backup_kind_name(db_backup_kind(&w->check))));
	return wipe_journal_save(w, e);
}

static void
backup_result(struct run *r, void *st, struct buf *out)
{
	struct wipe *w = st;
	struct stat sb;

	if (w->backup != NULL && stat(w->backup, &sb) == 0) {
		char size[32];

		progress_size(size, sizeof size, (unsigned long long)sb.st_size);
		buf_printf(out, "backed up with %s: %s (%s, %lld rows, verified)",
		    db_backup_kind_name(db_backup_kind(&w->check)), w->backup, size,
		    w->backup_rows);
	}
	else
		buf_printf(out, "backed up");
}

const struct step_ops wipe_backup_ops = {
	.name = "backup", .title = "back up the database",
	.inspect = run_nothing, .plan = backup_plan, .apply = backup_apply,
	.wait = run_nothing, .result = backup_result, .reset = run_keep,
};
