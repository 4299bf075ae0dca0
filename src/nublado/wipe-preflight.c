/* wipe-preflight.c: wipe-db step 1: who, where, and is the drop safe (changes nothing) */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/statvfs.h>
#include <unistd.h>

#include "../kube/access.h"
#include "../util/exitcode.h"
#include "../util/log.h"
#include "../util/file.h"
#include "../util/xalloc.h"
#include "argocd.h"
#include "dburl.h"
#include "hub.h"
#include "ingress.h"
#include "journal.h"
#include "wipe.h"

/*
 * What the run will need, checked now so it cannot fail for a known reason
 * after users are blocked: the rights (as far as SelfSubjectAccessReview
 * tells), and a backup directory that takes a file and has room for it.
 */
static int
preflight_needs(struct run *r, struct wipe *w, struct err *e)
{
	const char *ns = r->n->ns;
	const struct access_need needs[] = {
		{ "delete", GAF_GROUP, GAF_PLURAL, NULL, ns },
		{ "delete", "", "namespaces", NULL, NULL },
		{ "create", "", "pods", "exec", ns },
		{ "patch", "apps", "deployments", NULL, ns },
		{ "patch", "argoproj.io", "applications", NULL, ARGOCD_NAMESPACE },
		/* The temporary psql pod (hubpod.h): made, and deleted at the end. */
		{ "get", "apps", "deployments", NULL, ns },
		{ "create", "", "pods", NULL, ns },
		{ "delete", "", "pods", NULL, ns },
	};
	/* Only a run that uses a temporary pod needs its three rights. */
	size_t nneeds = sizeof needs / sizeof needs[0] -
	    (r->n->temp_pod != NULL || r->n->temp_pod_planned ? 0 : 3);
	char **denied = NULL, *dir = NULL, *probe;
	struct statvfs vfs;
	struct err ae;
	int fd;

	err_clear(&ae);
	if (access_check(r->n->kube, needs, nneeds, &denied, &ae) < 0) {
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
	} else if (db_backup_dir(r->n, &dir, e) < 0) {
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
preflight_inspect(struct run *r, void *st, struct err *e)
{
	struct wipe *w = st;

	if (w->completed != 0 && !w->again)
		return 0;	/* plan says it is done */
	if (hub_find_pod_to_exec(r->n, w->pod_name, &w->pod, e) < 0) {
		/* After a drop the hub may be mid-restart: that is what we came to finish. */
		if (w->dropped == 0)
			return -1;
		err_clear(e);
	}
	if (dburl_resolve(r->n, w->db_url, &w->url, &w->url_source, e) < 0)
		return -1;
	if (w->dropped != 0) {
		/* An earlier run dropped already: what is there now is the new schema. */
		return 0;
	}
	if (w->pod == NULL)	/* dry run, no hub container: nothing to run psql in */
		return preflight_needs(r, w, e);
	if (db_preflight(r->n, w->pod, w->url, &w->check, e) < 0)
		return -1;
	w->checked = true;
	if (preflight_needs(r, w, e) < 0)
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
preflight_plan(struct run *r, void *st, struct buf *out, bool *empty, struct err *e)
{
	struct wipe *w = st;
	char when[64];

	*empty = true;
	if (w->completed != 0 && !w->again) {
		strftime(when, sizeof when, "%Y-%m-%d %H:%M:%S UTC", gmtime(&w->completed));
		buf_printf(out, "  the database was already wiped at %s (backup: %s)\n"
		    "    to wipe it once more, run again with --again\n", when,
		    w->backup ? w->backup : "none");
		report_add(&r->report, "alreadyCompleted", json_object_new_int64(w->completed));
		return 0;
	}
	hub_plan_pod(r->n, w->pod, out);
	buf_printf(out, "  database %s (from %s)\n", w->url, w->url_source);
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
		report_add(&r->report, "check", db_check_json(&w->check));
	}
	report_add(&r->report, "database", json_object_new_string(w->url));
	if (w->pod != NULL)
		report_add(&r->report, "hubPod", json_object_new_string(w->pod));
	report_add(&r->report, "hubPodTemporary", json_object_new_boolean(r->n->temp_pod != NULL ||
	    r->n->temp_pod_planned));
	return 0;
}

static void
preflight_reset(void *st)
{
	struct wipe *w = st;

	free(w->pod);
	free(w->url);
	free(w->url_source);
	w->pod = w->url = w->url_source = NULL;
	if (w->checked)
		db_check_clear(&w->check);
	w->checked = false;
}

const struct step_ops wipe_preflight_ops = {
	.name = "preflight", .title = "check everything before the first change",
	.inspect = preflight_inspect, .plan = preflight_plan, .apply = run_nothing,
	.wait = run_nothing, .reset = preflight_reset,
};
