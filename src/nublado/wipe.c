/* wipe.c: preflight, backup and the drop-then-restart critical section of wipe-db */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <unistd.h>

#include "../kube/access.h"
#include "../util/exitcode.h"
#include "../util/jsonout.h"
#include "../util/log.h"
#include "../util/progress.h"
#include "../util/sig.h"
#include "../util/statedir.h"
#include "../util/xalloc.h"
#include "argocd.h"
#include "dburl.h"
#include "hub.h"
#include "ingress.h"
#include "labs.h"
#include "rollout.h"
#include "wipe.h"

/* pg_dump tries before wipe-db gives up (nothing dropped). */
#define BACKUP_TRIES 3

/* A wipe finished this recently is not repeated without --again. */
#define RECENT_SECONDS (6 * 3600)

void
wipe_clear(struct wipe *w)
{
	free(w->pod);
	free(w->url);
	free(w->url_source);
	free(w->journal);
	free(w->backup);
	free(w->old_pod);
	w->old_pod = NULL;
	if (w->checked)
		db_check_clear(&w->check);
	w->pod = w->url = w->url_source = w->journal = w->backup = NULL;
	w->checked = false;
}

/* ---- the journal: $STATE/wipe.json, rewritten atomically after each stage ---- */

static time_t
jtime(json_object *o, const char *k)
{
	return (time_t)jint(o, 0, k, NULL);
}

int
wipe_journal_load(struct wipe *w, const char *state_dir, const char *identity,
    struct err *e)
{
	const char *cluster;
	json_object *j;
	struct stat sb;

	w->identity = identity;
	w->journal = xasprintf("%s/wipe.json", state_dir);
	if (access(w->journal, F_OK) != 0)
		return 0;
	j = json_object_from_file(w->journal);
	if (j == NULL)
		return err_set(e, "cannot read the journal of an earlier wipe '%s': %s",
		    w->journal, json_util_get_last_err());
	cluster = jstr(j, "cluster", NULL);
	if (cluster == NULL || strcmp(cluster, identity) != 0) {
		err_set(e, "the journal '%s' is of another cluster (%s), not this one (%s)",
		    w->journal, cluster ? cluster : "none recorded", identity);
		err_hint(e, "its backup is not of this database: move the file away, then "
		    "run wipe-db again");
		e->exit = EXIT_REFUSED;
		json_object_put(j);
		return -1;
	}
	w->started = jtime(j, "started");
	w->blocked_at = jtime(j, "blocked");
	w->backed_up = jtime(j, "backedUp");
	w->dropped = jtime(j, "dropped");
	w->restart_issued = jtime(j, "restartIssued");
	w->completed = jtime(j, "completed");
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
	const char *text;
	int rc;

#define PUT(k, v) if (v) json_object_object_add(j, k, json_object_new_int64((int64_t)(v)))
	PUT("started", w->started);
	PUT("blocked", w->blocked_at);
	PUT("backedUp", w->backed_up);
	PUT("dropped", w->dropped);
	PUT("restartIssued", w->restart_issued);
	PUT("completed", w->completed);
#undef PUT
	if (w->backup != NULL)
		json_object_object_add(j, "backup", json_object_new_string(w->backup));
	json_object_object_add(j, "cluster", json_object_new_string(w->identity));
	text = json_object_to_json_string_ext(j, JSON_C_TO_STRING_PRETTY);
	rc = file_write_atomic(w->journal, text, strlen(text), e);
	if (rc < 0)
		err_prefix(e, "cannot write the wipe journal");
	json_object_put(j);
	return rc;
}

/* When this run blocked access, as a wall-clock time for the journal (a resumed run's summary). */
void
wipe_note_blocked(struct step_ctx *c, struct wipe *w)
{
	if (w->blocked_at == 0 && c->blocked_ms != 0)
		w->blocked_at = time(NULL) - (time_t)((now_ms() - c->blocked_ms) / 1000);
}

/* ---- preflight: who, where, and is the drop safe ---- */

/*
 * What the run will need, checked now so it cannot fail for a known reason
 * after users are blocked: the rights (as far as SelfSubjectAccessReview
 * tells), and a backup directory that takes a file and has room for it.
 */
static int
preflight_needs(struct step_ctx *c, struct wipe *w, struct err *e)
{
	const char *ns = c->n->ns;
	const struct access_need needs[] = {
		{ "delete", GAF_GROUP, GAF_PLURAL, NULL, ns },
		{ "delete", "", "namespaces", NULL, NULL },
		{ "create", "", "pods", "exec", ns },
		{ "patch", "apps", "deployments", NULL, ns },
		{ "patch", "argoproj.io", "applications", NULL, ARGOCD_NAMESPACE },
	};
	char **denied = NULL, *dir = NULL, *probe;
	struct statvfs vfs;
	struct err ae;
	int fd;

	err_clear(&ae);
	if (access_check(c->n->kube, needs, sizeof needs / sizeof needs[0], &denied, &ae) < 0) {
		log_debug(LOG_STEPS, "rights not checked: %s", ae.msg);
	} else if (denied != NULL) {
		struct buf b = BUF_INIT;

		for (char **d = denied; *d != NULL; d++)
			buf_printf(&b, "%s%s", d == denied ? "" : ", ", *d);
		err_set(e, "this user may not: %s", b.data);
		err_hint(e, "use a context with those rights (or --as a user who has them); "
		    "`kubectl auth can-i` tells the same");
		e->exit = EXIT_REFUSED;
		buf_free(&b);
		strv_free(denied);
		return -1;
	}
	if (w->no_backup || w->backed_up != 0)
		return 0;
	/* Known before anyone is blocked: the backups read and verify schema public only. */
	if (w->check.schema != NULL && strcmp(w->check.schema, "public") != 0) {
		err_set(e, "JupyterHub's tables are in schema '%s': the backup handles schema "
		    "'public' only", w->check.schema);
		err_hint(e, "take a backup by hand (pg_dump --schema=%s), then run wipe-db "
		    "--no-backup", w->check.schema);
		e->exit = EXIT_REFUSED;
		return -1;
	}
	if (w->backup_dir != NULL) {
		if (mkdir_p(w->backup_dir, e) < 0) {
			e->exit = EXIT_REFUSED;
			return err_prefix(e, "--backup-dir");
		}
		dir = xstrdup(w->backup_dir);
	} else if (db_backup_dir(c->n, &dir, e) < 0) {
		return -1;
	}
	/* A file made and removed: permissions, read-only mounts, quotas all say no here. */
	probe = xasprintf("%s/.kubectl-nublado-probe-%ld", dir, (long)getpid());
	fd = open(probe, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
	if (fd < 0) {
		err_set(e, "cannot write the backup in '%s': %s", dir, strerror(errno));
		err_hint(e, "choose a writable directory with --backup-dir");
		e->exit = EXIT_REFUSED;
		free(probe);
		free(dir);
		return -1;
	}
	close(fd);
	unlink(probe);
	free(probe);
	/* COPY text is about the tables' size; a generous 1 KiB a row and 64 MiB spare. */
	if (statvfs(dir, &vfs) == 0) {
		unsigned long long freeb = (unsigned long long)vfs.f_bavail * vfs.f_frsize;
		unsigned long long need = (unsigned long long)db_check_total_rows(&w->check) * 1024 +
		    64ULL * 1024 * 1024;

		if (freeb < need) {
			err_set(e, "not enough room for the backup in '%s': %llu MiB free, about %llu "
			    "MiB needed", dir, freeb >> 20, need >> 20);
			err_hint(e, "free some space or choose another directory with --backup-dir");
			e->exit = EXIT_REFUSED;
			free(dir);
			return -1;
		}
	}
	free(dir);
	return 0;
}

static int
preflight_inspect(struct step_ctx *c, void **state, struct err *e)
{
	struct wipe *w = c->wipe;

	*state = w;
	if (w->completed != 0 && !w->again)
		return 0;	/* plan says it is done */
	c->n->dry_run = c->dry_run;	/* no temporary psql pod in a dry run (hubpod.h) */
	if (hub_find_pod_to_exec(c->n, w->pod_name, &w->pod, e) < 0) {
		/* After a drop the hub may be mid-restart: that is what we came to finish. */
		if (w->dropped == 0)
			return -1;
		err_clear(e);
	}
	if (dburl_resolve(c->n, w->db_url, &w->url, &w->url_source, e) < 0)
		return -1;
	if (w->dropped != 0) {
		/* An earlier run dropped already: what is there now is the new schema. */
		return 0;
	}
	if (w->pod == NULL)
		return 0;	/* dry run, no hub container: nothing to run psql in */
	if (db_preflight(c->n, w->pod, w->url, &w->check, e) < 0)
		return -1;
	w->checked = true;
	if (preflight_needs(c, w, e) < 0)
		return -1;
	if (!db_check_ok(&w->check)) {
		e->exit = EXIT_REFUSED;
		err_set(e, "the database role '%s' owns or touches more than JupyterHub's tables: "
		    "DROP OWNED BY would destroy other data", w->check.role);
		err_hint(e, "the reasons are listed above; give JupyterHub a dedicated role, or "
		    "remove these objects, then run again");
		fprintf(stderr, "Refusing, because:\n");
		db_check_print(&w->check, stderr, "  ", false);
		return -1;
	}
	return 0;
}

static int
preflight_plan(struct step_ctx *c, void *state, struct buf *out, bool *empty,
    struct err *e)
{
	struct wipe *w = state;
	char when[64];

	*empty = true;
	if (w->completed != 0 && !w->again) {
		strftime(when, sizeof when, "%Y-%m-%d %H:%M:%S UTC", gmtime(&w->completed));
		buf_printf(out, "  the database was already wiped at %s (backup: %s)\n"
		    "    to wipe it once more, run again with --again\n", when,
		    w->backup ? w->backup : "none");
		json_object_object_add(c->report, "alreadyCompleted", json_object_new_int64(w->completed));
		return 0;
	}
	buf_printf(out, "  hub pod %s; database %s (from %s)\n", w->pod ? w->pod : "(none Ready)",
	    w->url, w->url_source);
	if (w->checked) {
		buf_printf(out, "  checked: role '%s' is not a superuser, owns only JupyterHub %s "
		    "objects in '%s', nothing of another role depends on them or would change, "
		    "no lock or prepared transaction holds the drop up\n", w->check.role,
		    db_jupyterhub_version(&w->check), w->check.database);
		for (size_t i = 0; i < w->check.n_warnings; i++)
			buf_printf(out, "    notice: %s %s: %s\n", w->check.warnings[i].type,
			    w->check.warnings[i].name, w->check.warnings[i].detail);
		/* What else the drop does (sessions cut, privileges revoked): -o json lists it too. */
		for (size_t i = 0; i < w->check.n_infos; i++)
			buf_printf(out, "    the drop also: %s %s: %s%s%s%s\n", w->check.infos[i].type,
			    w->check.infos[i].name, w->check.infos[i].detail,
			    w->check.infos[i].extra && *w->check.infos[i].extra ? " (" : "",
			    w->check.infos[i].extra ? w->check.infos[i].extra : "",
			    w->check.infos[i].extra && *w->check.infos[i].extra ? ")" : "");
		json_object_object_add(c->report, "check", db_check_json(&w->check));
	}
	json_object_object_add(c->report, "database", json_object_new_string(w->url));
	if (w->pod != NULL)
		json_object_object_add(c->report, "hubPod", json_object_new_string(w->pod));
	return 0;
}

static int
nothing(struct step_ctx *c, void *state, struct err *e)
{
	return 0;
}

static void
no_free(void *state)
{
}

const struct step step_preflight = {
	.name = "preflight", .title = "check everything before the first change",
	.inspect = preflight_inspect, .plan = preflight_plan, .apply = nothing,
	.wait = nothing, .free = no_free,
};

/* ---- backup: pg_dump in the pod, streamed to a local 0600 file, verified ---- */

static int
backup_inspect(struct step_ctx *c, void **state, struct err *e)
{
	*state = c->wipe;
	return 0;
}

static int
backup_plan(struct step_ctx *c, void *state, struct buf *out, bool *empty, struct err *e)
{
	struct wipe *w = state;

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
backup_apply(struct step_ctx *c, void *state, struct err *e)
{
	struct wipe *w = state;
	long long *counts;
	char *path = NULL;

	if (c->dry_run)
		return 0;
	counts = xcalloc(w->check.n_tables + 1, sizeof *counts);
	/*
	 * pg_dump only reads: a dump cut short (a dropped exec connection, a
	 * flaky VPN) is worth another go.  Each failed try leaves no file.
	 */
	for (int attempt = 1;; attempt++) {
		if (db_backup(c->n, w->pod, w->url, &w->check, w->backup_dir,
		    c->n->cfg->context, &path, counts, e) == 0)
			break;
		if (attempt >= BACKUP_TRIES || e->exit == 130 || sig_interrupted())
			break;
		log_warn("%s; trying again (%d of %d)", e->msg, attempt + 1, BACKUP_TRIES);
		err_clear(e);
		if (!sleep_ms(1000L * attempt)) {
			e->exit = 130;
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
	wipe_note_blocked(c, w);
	json_object_object_add(c->report, "backup", json_object_new_string(path));
	json_object_object_add(c->report, "backupKind",
	    json_object_new_string(db_backup_kind_name(db_backup_kind(&w->check))));
	return wipe_journal_save(w, e);
}

static void
backup_result(struct step_ctx *c, void *state, struct buf *out)
{
	struct wipe *w = state;
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

const struct step step_backup = {
	.name = "backup", .title = "back up the database",
	.inspect = backup_inspect, .plan = backup_plan, .apply = backup_apply,
	.wait = nothing, .result = backup_result, .free = no_free,
};

/* ---- drop and restart: one critical section ---- */

static int
drop_inspect(struct step_ctx *c, void **state, struct err *e)
{
	*state = c->wipe;
	return 0;
}

static int
drop_plan(struct step_ctx *c, void *state, struct buf *out, bool *empty, struct err *e)
{
	struct wipe *w = state;

	*empty = w->completed != 0 && !w->again;
	if (*empty)
		return 0;
	if (w->dropped != 0) {
		buf_printf(out, "  already dropped by an earlier run; %s the hub and check the new schema\n",
		    w->restart_issued ? "wait for" : "restart");
		return 0;
	}
	buf_printf(out, "  DROP OWNED BY %s in database '%s' (one transaction, the safety check "
	    "re-run inside it)\n", w->check.role ? w->check.role : "?",
	    w->check.database ? w->check.database : "?");
	buf_printf(out, "  then at once restart deployment/%s; JupyterHub recreates its schema\n",
	    HUB_DEPLOYMENT);
	return 0;
}

/* Did a drop whose answer we lost commit?  The JupyterHub tables tell. */
static int
drop_committed(struct step_ctx *c, struct wipe *w, bool *committed, struct err *e)
{
	struct db_check after;
	int rc;

	memset(&after, 0, sizeof after);
	rc = db_check_run(c->n, w->pod, w->url, &after, e);
	if (rc == 0) {
		*committed = after.n_tables == 0;
		db_check_clear(&after);
	}
	return rc;
}

static int
drop_apply(struct step_ctx *c, void *state, struct err *e)
{
	struct wipe *w = state;
	char stamp[32];
	struct err de;
	bool committed = false;
	int rc = 0;

	if (c->dry_run)
		return 0;
	if (w->dropped == 0) {
		struct labset left;

		/* No lab may outlive its session rows: one made since kill-labs stops us here. */
		if (labs_select(c->n, NULL, &left, e) < 0)
			return err_prefix(e, "looking for labs before the drop");
		if (left.n > 0) {
			err_set(e, "lab namespace %s%s exists: a lab appeared after kill-labs; "
			    "nothing was dropped", left.labs[0].name, left.n > 1 ? " (and more)" : "");
			err_hint(e, "run wipe-db again: kill-labs deletes it first");
			labset_free(&left);
			return -1;
		}
		labset_free(&left);
		/* Still blocked?  Self-heal, or a hand, may have let users back in. */
		{
			struct ingset open;

			if (ingress_find(c->n, &open, e) < 0)
				return err_prefix(e, "looking at access before the drop");
			if (open.n > 0) {
				err_set(e, "access is open again (GafaelfawrIngress %s is back): users "
				    "could reach the hub during the drop; nothing was dropped",
				    jstr(open.items[0], "metadata", "name", NULL));
				err_hint(e, "find what recreated it (Argo CD self-heal?), stop it, then "
				    "run wipe-db again: it blocks access first");
				ingset_free(&open);
				return -1;
			}
			ingset_free(&open);
		}
		/*
		 * From here until the restart PATCH is sent, Ctrl-C waits: a
		 * dropped database under a running hub is the one state we must
		 * never leave behind.
		 */
		sig_defer(true);
		err_clear(&de);
		w->t_drop = now_ms();
		if (db_drop(c->n, w->pod, w->url, &de) == 0) {
			committed = true;
		} else if (de.reason != NULL && strcmp(de.reason, "Unknown") == 0) {
			struct err ce;

			err_clear(&ce);
			if (drop_committed(c, w, &committed, &ce) < 0) {
				/* We cannot tell: restart anyway, the safe side for the hub. */
				log_warn("cannot tell whether the drop committed (%s); restarting "
				    "the hub to be safe", ce.msg);
				committed = true;
				w->drop_unverified = true;
			}
			if (!committed) {
				sig_defer(false);
				*e = de;
				return err_prefix(e, "the drop did not happen");
			}
		} else {
			sig_defer(false);
			*e = de;
			return -1;
		}
		w->dropped = time(NULL);
		wipe_note_blocked(c, w);
		(void)wipe_journal_save(w, &de);
	}
	if (w->restart_issued == 0) {
		/* The pod the restart replaces: the wait wants a different one. */
		free(w->old_pod);
		w->old_pod = xstrdup(w->pod);
		if (rollout_restart(c->n, HUB_DEPLOYMENT, false, stamp, e) < 0) {
			sig_defer(false);
			err_prefix(e, "THE DATABASE WAS DROPPED but the hub restart failed");
			err_hint(e, "restart the hub now: kubectl nublado restart-hub -y "
			    "(or kubectl -n %s rollout restart deployment/hub)", c->n->ns);
			return -1;
		}
		w->restart_issued = time(NULL);
		(void)wipe_journal_save(w, e);
	}
	sig_defer(false);
	return rc;
}

static int
drop_wait(struct step_ctx *c, void *state, struct err *e)
{
	struct wipe *w = state;
	long long deadline = now_ms() + c->timeout_ms;
	bool present = false, have_after = false;
	struct db_check after;
	char *pod = NULL;

	if (c->dry_run)
		return 0;
	if (rollout_wait(c->n, HUB_DEPLOYMENT, c->timeout_ms, c->tty, e) < 0)
		return -1;
	/* The restarted hub must be Ready and have made its schema again. */
	for (;;) {
		struct err pe;

		err_clear(&pe);
		free(pod);
		pod = NULL;
		if (hub_find_pod(c->n, &pod, &pe) == 0 &&
		    (w->old_pod == NULL || strcmp(pod, w->old_pod) != 0) &&
		    db_schema_present(c->n, pod, w->url, &present, &after, &pe) == 0) {
			if (present) {
				have_after = true;
				break;
			}
			db_check_clear(&after);
		}
		/* Refused credentials do not come back by waiting. */
		if (now_ms() >= deadline || pe.http == 401 || pe.http == 403) {
			free(pod);
			*e = pe;
			if (e->msg[0] == '\0')
				err_set(e, "the restarted hub has not recreated its schema");
			err_prefix(e, "waiting for the new hub");
			if (e->hint[0] == '\0')
				err_hint(e, "look at the hub's log: kubectl -n %s logs deployment/hub",
				    c->n->ns);
			return -1;
		}
		if (!sleep_ms(500)) {
			free(pod);
			e->exit = 130;
			return err_set(e, "interrupted while waiting for the new hub");
		}
	}
	free(w->pod);
	w->pod = pod;
	w->t_ready = now_ms();
	if (w->drop_unverified && have_after && w->checked &&
	    db_check_total_rows(&w->check) > 0 &&
	    db_check_total_rows(&after) == db_check_total_rows(&w->check) &&
	    db_check_rows(&after, "users") == db_check_rows(&w->check, "users")) {
		/*
		 * We restarted without knowing whether the drop committed, and
		 * the tables hold exactly the rows they held: it most likely
		 * rolled back.  Say so rather than report a wipe.
		 */
		db_check_clear(&after);
		w->dropped = 0;
		w->restart_issued = 0;
		(void)wipe_journal_save(w, e);
		err_set(e, "the drop's outcome was unknown and the tables still hold the same "
		    "%lld rows: the drop most likely did not happen (the hub was restarted)",
		    db_check_total_rows(&w->check));
		err_hint(e, "check with `kubectl nublado status`, then run wipe-db again");
		return -1;
	}
	if (have_after)
		db_check_clear(&after);
	return 0;
}

static void
drop_result(struct step_ctx *c, void *state, struct buf *out)
{
	struct wipe *w = state;

	if (w->t_drop != 0)
		buf_printf(out, "dropped and restarted: hub %s is Ready with a new schema (%.1fs after "
		    "the drop)", w->pod, (double)(w->t_ready - w->t_drop) / 1000.0);
	else	/* an earlier run dropped: its time, from the journal */
		buf_printf(out, "dropped by an earlier run and restarted: hub %s is Ready with a new "
		    "schema (%lds after the drop)", w->pod, (long)(time(NULL) - w->dropped));
}

const struct step step_drop = {
	.name = "drop", .title = "drop the JupyterHub tables and restart the hub",
	.inspect = drop_inspect, .plan = drop_plan, .apply = drop_apply,
	.wait = drop_wait, .result = drop_result, .free = no_free,
};

void
wipe_summary(const struct wipe *w, struct step_ctx *c, bool kept_blocked)
{
	double total = (double)(now_ms() - w->t_start) / 1000.0;
	double outage = -1;
	long since = w->started ? (long)(time(NULL) - w->started) : 0;

	if (c->blocked_ms && c->unblocked_ms)
		outage = (double)(c->unblocked_ms - c->blocked_ms) / 1000.0;
	else if (w->blocked_at && c->unblocked_ms)	/* blocked by an earlier run */
		outage = (double)(time(NULL) - w->blocked_at) -
		    (double)(now_ms() - c->unblocked_ms) / 1000.0;
	if (since > total + 2)
		step_say(c, "\nSummary: wiped the JupyterHub database on context '%s': this run "
		    "%.1fs, %lds since the first run started", c->n->cfg->context, total, since);
	else
		step_say(c, "\nSummary: wiped the JupyterHub database on context '%s' in %.1fs",
		    c->n->cfg->context, total);
	step_say(c, "  backup:  %s", w->backup ? w->backup : "none (--no-backup)");
	if (outage >= 0)
		step_say(c, "  users were locked out for %.1fs", outage);
	else if (kept_blocked)
		step_say(c, "  access stays BLOCKED (--keep-blocked): run `kubectl nublado unblock` "
		    "to let users back in");
	json_object_object_add(c->report, "seconds", json_object_new_double(total));
	if (since > total + 2)
		json_object_object_add(c->report, "secondsSinceFirstRun", json_object_new_int64(since));
	if (outage >= 0)
		json_object_object_add(c->report, "outageSeconds", json_object_new_double(outage));
}
