/* test-wipe.c: wipe-db end to end, against real PostgreSQL and (mostly) a real JupyterHub */
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <criterion/criterion.h>
#include <json-c/json.h>

#include "e2e.h"

static const char *const decoys[] = { "nublado", "nublado-users", "nubladox", "fileservers",
	"kube-system", "jupyter-decoy", "argocd", NULL };

static bool
has_ns(const char *state, const char *name)
{
	char needle[300];

	/* Namespaces are cluster-scoped: "kind": "Namespace" ... "name": "X" in one object. */
	json_object *j = json_tokener_parse(state), *items;
	bool found = false;

	snprintf(needle, sizeof needle, "%s", name);
	cr_assert(json_object_object_get_ex(j, "items", &items));
	for (size_t i = 0; i < json_object_array_length(items) && !found; i++) {
		json_object *o = json_object_array_get_idx(items, i), *k, *m, *n;

		json_object_object_get_ex(o, "kind", &k);
		json_object_object_get_ex(o, "metadata", &m);
		json_object_object_get_ex(m, "name", &n);
		found = strcmp(json_object_get_string(k), "Namespace") == 0 &&
		    strcmp(json_object_get_string(n), needle) == 0;
	}
	json_object_put(j);
	return found;
}

/* The same server, another database. */
static char *
url_db(const char *url, const char *db)
{
	const char *slash = strrchr(url, '/');
	char *out;

	cr_assert(asprintf(&out, "%.*s/%s", (int)(slash - url), url, db) > 0);
	return out;
}

static int
count_labs(const char *state)
{
	int n = 0;
	const char *p = state;

	while ((p = strstr(p, "\"nublado.lsst.io/category\": \"lab\"")) != NULL) {
		n++;
		p++;
	}
	return n;
}

/* Every table's row count in the nublado DB, one "name=count" per line. */
static char *
row_counts(const char *url)
{
	return sql_value(url, "select string_agg(t || '=' || (xpath('/row/c/text()', "
	    "query_to_xml(format('select count(*) as c from public.%I', t), false, true, '')))[1]::text, ',' "
	    "order by t) from unnest(array['users','spawners','servers','groups','roles','api_tokens',"
	    "'oauth_clients','alembic_version']) t where to_regclass('public.' || t) is not null");
}

/*
 * The whole runbook against a real JupyterHub: cluster_args picks it (the
 * test cluster's --real-hub is JupyterHub 5.2, --real-hub=3 Debian 12's 3.0);
 * after the wipe the restarted hub makes its schema again: head is the
 * alembic revision it stamps, tables the number of its tables.
 */
static void
full_run(const char *cluster_args, const char *head, const char *tables)
{
	struct sim s;
	struct run r;
	char *st, *before_counts, *other_before, *other_db_before, *after, *users, *alembic;
	char cmd[4096];

	sim_start(&s, cluster_args);
	before_counts = row_counts(sim_get(&s, "SIM_DB_URL"));
	char *admin_nublado = url_db(sim_get(&s, "SIM_DB_ADMIN_URL"), "nublado");

	other_before = sql_value(admin_nublado, "select count(*) from other.keep");
	other_db_before = sql_value(sim_get(&s, "SIM_OTHER_DB_URL"),
	    "select count(*) from pg_class where relkind = 'r' and relnamespace = 'public'::regnamespace");
	users = sql_value(sim_get(&s, "SIM_DB_URL"), "select count(*) from users");
	cr_assert_str_neq(users, "0", "the seeded hub has no users");
	free(users);

	sim_nub(&s, &r, "wipe-db", "-y", NULL);
	cr_assert_eq(r.status, 0, "wipe-db failed:\n%s\n%s", r.out, r.err);
	cr_assert(strstr(r.out, "Summary: wiped") != NULL, "%s", r.out);
	cr_assert(strstr(r.out, "locked out for") != NULL, "%s", r.out);
	run_free(&r);

	st = sim_state_of(&s);
	cr_assert_eq(count_labs(st), 2, "lab-labelled namespaces left: want only the 2 decoys");
	for (int i = 0; decoys[i] != NULL; i++)
		cr_assert(has_ns(st, decoys[i]), "decoy %s was deleted", decoys[i]);
	cr_assert(strstr(st, "\"name\": \"proxy\"") != NULL, "ingresses not back");
	free(st);

	/* The other role's data, in this database and its own, untouched. */
	after = sql_value(admin_nublado, "select count(*) from other.keep");
	free(admin_nublado);
	cr_assert_str_eq(after, other_before);
	free(after);
	after = sql_value(sim_get(&s, "SIM_OTHER_DB_URL"),
	    "select count(*) from pg_class where relkind = 'r' and relnamespace = 'public'::regnamespace");
	cr_assert_str_eq(after, other_db_before);
	free(after);

	/* JupyterHub made its schema again: empty users, an alembic stamp. */
	users = sql_value(sim_get(&s, "SIM_DB_URL"), "select count(*) from users");
	cr_assert_str_eq(users, "0");
	alembic = sql_value(sim_get(&s, "SIM_DB_URL"), "select string_agg(version_num, ',') from alembic_version");
	cr_assert_str_eq(alembic, head);
	free(users);
	free(alembic);
	after = sql_value(sim_get(&s, "SIM_DB_URL"),
	    "select count(*) from pg_tables where schemaname = 'public' and tableowner = current_user");
	cr_assert_str_eq(after, tables);
	free(after);

	/* The backup restores into a fresh database with the original row counts. */
	snprintf(cmd, sizeof cmd,
	    "set -e; f=$(ls %s/state/kubectl-nublado/sim.*/backups/*.sql); "
	    "test \"$(stat -c %%a \"$f\")\" = 600; "
	    "psql -X -q \"%s\" -c 'create database restored owner nublado'; "
	    "psql -X -q -v ON_ERROR_STOP=1 \"$(echo '%s' | sed 's|/postgres$|/restored|')\" -f \"$f\" >/dev/null",
	    s.dir, sim_get(&s, "SIM_DB_ADMIN_URL"), sim_get(&s, "SIM_DB_ADMIN_URL"));
	run_sh(&r, cmd);
	cr_assert_eq(r.status, 0, "restore failed: %s%s", r.out, r.err);
	run_free(&r);
	{
		char url[1024], *restored;
		const char *admin = sim_get(&s, "SIM_DB_ADMIN_URL");
		const char *slash = strrchr(admin, '/');

		snprintf(url, sizeof url, "%.*s/restored", (int)(slash - admin), admin);
		restored = row_counts(url);
		cr_assert_str_eq(restored, before_counts, "restored %s, had %s", restored, before_counts);
		free(restored);
	}
	free(before_counts);
	free(other_before);
	free(other_db_before);

	/* Hub healthy: status says Ready and the database reachable. */
	sim_nub(&s, &r, "status", "-o", "json", NULL);
	cr_assert_eq(r.status, 0, "%s", r.err);
	cr_assert(strstr(r.out, "\"reachable\": true") != NULL, "%s", r.out);
	cr_assert(strstr(r.out, "\"ready\": true") != NULL, "%s", r.out);
	run_free(&r);

	/* A re-run after success does nothing and says so. */
	sim_nub(&s, &r, "wipe-db", "-y", NULL);
	cr_assert_eq(r.status, 0, "%s", r.err);
	cr_assert(strstr(r.out, "already wiped") != NULL, "%s", r.out);
	run_free(&r);
	sim_stop(&s);
}

/* JupyterHub 5 (Debian 13's 5.2.1; Nublado runs 5.4): shares and share_codes too. */
Test(wipe, full_run_with_real_hub, .timeout = 240)
{
	full_run("--real-hub", "4621fec11365", "16");
}

/* JupyterHub 3.0 (Debian 12's), the schema before 4.0: the one wipe kept on it. */
Test(wipe, full_run_with_real_hub_3, .timeout = 240)
{
	full_run("--real-hub=3", "651f5419b74d", "14");
}

/* A refusal: exit 3, the reason named, and neither cluster nor database changed. */
static void
refused(struct sim *s, const char *setup_sql, const char *want)
{
	struct run r;
	char *before, *after, *db_before, *db_after;

	if (setup_sql != NULL)
		free(sql_value(sim_get(s, "SIM_DB_ADMIN_URL"), setup_sql));
	before = sim_state_of(s);
	db_before = row_counts(sim_get(s, "SIM_DB_URL"));
	sim_nub(s, &r, "wipe-db", "-y", NULL);
	cr_assert_eq(r.status, 3, "want exit 3, got %d:\n%s\n%s", r.status, r.out, r.err);
	cr_assert(strstr(r.err, want) != NULL, "no '%s' in:\n%s", want, r.err);
	run_free(&r);
	after = sim_state_of(s);
	db_after = row_counts(sim_get(s, "SIM_DB_URL"));
	cr_assert_str_eq(before, after, "the cluster changed");
	cr_assert_str_eq(db_before, db_after, "the database changed");
	free(before);
	free(after);
	free(db_before);
	free(db_after);
}

Test(wipe, refuses_a_superuser, .timeout = 120)
{
	struct sim s;

	sim_start(&s, NULL);
	refused(&s, "alter role nublado superuser; select 1", "has SUPERUSER");
	sim_stop(&s);
}

Test(wipe, refuses_a_foreign_table_owned_by_the_role, .timeout = 120)
{
	struct sim s;

	sim_start(&s, NULL);
	free(sql_value(sim_get(&s, "SIM_DB_URL"), "create table public.notes (id int); select 1"));
	refused(&s, NULL, "notes");
	sim_stop(&s);
}

/* A table named to wipe the refusal off the screen: shown, its escapes made harmless. */
Test(wipe, names_from_the_database_reach_the_terminal_without_escapes, .timeout = 120)
{
	struct sim s;
	struct run r;

	sim_start(&s, NULL);
	free(sql_value(sim_get(&s, "SIM_DB_URL"), "create table public.\"evil\033[2K\033[1A"
	    "\033]0;t\007\" (id int); select 1"));
	sim_nub(&s, &r, "--color", "always", "wipe-db", "-y", NULL);
	cr_assert_eq(r.status, 3, "%d: %s%s", r.status, r.out, r.err);
	cr_assert(strstr(r.out, "evil?[2K?[1A?]0;t?") != NULL ||
	    strstr(r.err, "evil?[2K?[1A?]0;t?") != NULL, "%s%s", r.out, r.err);
	cr_assert_null(strstr(r.out, "\033[2K"), "%s", r.out);
	cr_assert_null(strstr(r.err, "\033[2K"), "%s", r.err);
	cr_assert_null(strstr(r.err, "\033]"), "%s", r.err);
	cr_assert_null(strchr(r.out, '\007'));
	cr_assert_null(strchr(r.err, '\007'));
	run_free(&r);
	sim_stop(&s);
}

Test(wipe, refuses_another_roles_view_on_a_jupyterhub_table, .timeout = 120)
{
	struct sim s;

	sim_start(&s, NULL);
	free(sql_value(sim_get(&s, "SIM_DB_URL"), "grant select on users to other; select 1"));
	{
		char url[1024];
		const char *o = sim_get(&s, "SIM_OTHER_DB_URL");
		const char *slash = strrchr(o, '/');

		snprintf(url, sizeof url, "%.*s/nublado", (int)(slash - o), o);
		free(sql_value(url, "create view other.user_names as select name from public.users; select 1"));
	}
	refused(&s, NULL, "user_names");
	sim_stop(&s);
}

Test(wipe, dry_run_changes_nothing, .timeout = 120)
{
	struct sim s;
	struct run r;
	char *before, *after, *db_before, *db_after;

	sim_start(&s, NULL);
	before = sim_state_of(&s);
	db_before = row_counts(sim_get(&s, "SIM_DB_URL"));
	sim_nub(&s, &r, "wipe-db", "--dry-run", NULL);
	cr_assert_eq(r.status, 0, "%s\n%s", r.out, r.err);
	cr_assert(strstr(r.out, "DROP OWNED BY nublado") != NULL, "%s", r.out);
	cr_assert(strstr(r.out, "delete 5 lab namespace(s)") != NULL, "%s", r.out);
	run_free(&r);
	/* No terminal and no -y: refused, not hung. */
	sim_nub(&s, &r, "wipe-db", NULL);
	cr_assert_eq(r.status, 3, "%s", r.err);
	run_free(&r);
	after = sim_state_of(&s);
	db_after = row_counts(sim_get(&s, "SIM_DB_URL"));
	cr_assert_str_eq(before, after, "cluster state changed");
	cr_assert_str_eq(db_before, db_after);
	free(before);
	free(after);
	free(db_before);
	free(db_after);
	sim_stop(&s);
}

Test(wipe, interrupted_during_kill_labs_then_rerun_completes, .timeout = 240)
{
	struct sim s;
	struct run r;
	char *users, *st;

	/* Slow enough to be caught in the middle: 60 ms per request, two at a time. */
	sim_start(&s, "--latency-ms 60");
	sim_nub_signal_on(&s, &r, "deleting labs: 1/5", SIGINT, "wipe-db", "-y", "--parallel",
	    "1", NULL);
	cr_assert_eq(r.status, 130, "want 130, got %d:\n%s\n%s", r.status, r.out, r.err);
	cr_assert(strstr(r.err, "interrupted") != NULL, "%s", r.err);
	/* Where things stand: what was done, what is left, users locked out; no "cause". */
	cr_assert(strstr(r.err, "done: block") != NULL, "%s", r.err);
	cr_assert(strstr(r.err, "left: kill-labs, backup, drop, unblock") != NULL, "%s", r.err);
	cr_assert(strstr(r.err, "user access is BLOCKED") != NULL, "%s", r.err);
	cr_assert(strstr(r.err, "run the same command again to finish") != NULL, "%s", r.err);
	cr_assert_null(strstr(r.err, "fix the cause"), "%s", r.err);
	run_free(&r);
	/* Nothing dropped yet. */
	users = sql_value(sim_get(&s, "SIM_DB_URL"), "select count(*) > 0 from users");
	cr_assert_str_eq(users, "t");
	free(users);

	sim_nub(&s, &r, "wipe-db", "-y", NULL);
	cr_assert_eq(r.status, 0, "re-run failed:\n%s\n%s", r.out, r.err);
	cr_assert(strstr(r.out, "access is already blocked") != NULL, "%s", r.out);
	/* The summary counts from the first run: its lockout, its start. */
	cr_assert(strstr(r.out, "users were locked out for") != NULL, "%s", r.out);
	run_free(&r);
	users = sql_value(sim_get(&s, "SIM_DB_URL"), "select count(*) from users");
	cr_assert_str_eq(users, "0");
	free(users);
	st = sim_state_of(&s);
	cr_assert_eq(count_labs(st), 2);
	free(st);
	sim_stop(&s);
}

Test(wipe, failure_before_the_drop_then_rerun_completes, .timeout = 240)
{
	struct sim s;
	struct run r;
	char *users;

	/* A lab that never finishes terminating stops the run before the backup. */
	sim_start(&s, "--faults stuck-ns=nublado-user004");
	sim_nub(&s, &r, "wipe-db", "-y", "--timeout", "3s", NULL);
	cr_assert_eq(r.status, 1, "%s\n%s", r.out, r.err);
	cr_assert(strstr(r.err, "nublado-user004") != NULL, "%s", r.err);
	cr_assert(strstr(r.err, "hint:") != NULL, "%s", r.err);
	run_free(&r);
	users = sql_value(sim_get(&s, "SIM_DB_URL"), "select count(*) > 0 from users");
	cr_assert_str_eq(users, "t", "dropped although a step before failed");
	free(users);

	/* Whatever held the namespace lets go. */
	sim_faults_of(&s, "stuck-ns=");
	sim_nub(&s, &r, "wipe-db", "-y", NULL);
	cr_assert_eq(r.status, 0, "re-run failed:\n%s\n%s", r.out, r.err);
	run_free(&r);
	users = sql_value(sim_get(&s, "SIM_DB_URL"), "select count(*) from users");
	cr_assert_str_eq(users, "0");
	free(users);
	sim_stop(&s);
}

/* Run $NUB_BIN against s with XDG_STATE_HOME = state (shared between clusters). */
static void
nub_with_state(const struct sim *s, const char *state, struct run *r, const char *const *args)
{
	char *argv[32];
	int n = 0;

	argv[n++] = (char *)need_env("NUB_BIN");
	argv[n++] = "--kubeconfig";
	argv[n++] = (char *)s->kubeconfig;
	for (; *args != NULL && n < 31; args++)
		argv[n++] = (char *)*args;
	argv[n] = NULL;
	setenv("XDG_STATE_HOME", state, 1);
	run_argv(r, argv, NULL, 240);
}

/* "name size mtime" of every file under dir, sorted. */
static char *
listing(const char *dir)
{
	struct run r;
	char cmd[1200], *out;

	snprintf(cmd, sizeof cmd, "cd '%s' && find . -type f -printf '%%p %%s %%T@\\n' | sort", dir);
	run_sh(&r, cmd);
	cr_assert_eq(r.status, 0, "%s", r.err);
	out = r.out;
	r.out = NULL;
	run_free(&r);
	return out;
}

/*
 * Two clusters behind the same context name on the same server address (a
 * re-created cluster; kubeadm's kubernetes-admin@kubernetes everywhere):
 * the second never takes the first's journal, backup or saved manifests for
 * its own, and a journal moved across is refused before anything changes.
 */
Test(wipe, state_of_another_cluster_with_the_same_names_is_never_used, .timeout = 300)
{
	static const char *const block[] = { "block", "-y", NULL };
	static const char *const wipe[] = { "wipe-db", "-y", NULL };
	char state[] = "/tmp/nub-shared-state-XXXXXX", port[16], args[64], dir_a[1024];
	char *list_a, *after, *users, *before, *db_before, path[1200], cmd[4096];
	const char *server;
	struct sim a, b;
	struct run r;

	cr_assert_not_null(mkdtemp(state));
	sim_start(&a, NULL);
	nub_with_state(&a, state, &r, block);
	cr_assert_eq(r.status, 0, "%s", r.err);
	run_free(&r);
	nub_with_state(&a, state, &r, wipe);
	cr_assert_eq(r.status, 0, "%s", r.err);
	run_free(&r);
	server = sim_get(&a, "SIM_SERVER");
	snprintf(port, sizeof port, "%s", strrchr(server, ':') + 1);
	snprintf(cmd, sizeof cmd, "ls -d %s/kubectl-nublado/sim.*", state);
	run_sh(&r, cmd);
	cr_assert_eq(r.status, 0, "%s", r.err);
	snprintf(dir_a, sizeof dir_a, "%.*s", (int)strcspn(r.out, "\n"), r.out);
	run_free(&r);
	list_a = listing(dir_a);
	cr_assert(strstr(list_a, "./wipe.json") && strstr(list_a, "./backups/") &&
	    strstr(list_a, "./ingresses/proxy.json"), "%s", list_a);
	sim_stop(&a);

	/* The same context name, the same https://127.0.0.1:PORT: another cluster. */
	snprintf(args, sizeof args, "--port %s", port);
	sim_start(&b, args);
	cr_assert_str_eq(sim_get(&b, "SIM_SERVER"), server);
	nub_with_state(&b, state, &r, wipe);
	cr_assert_eq(r.status, 0, "%s\n%s", r.out, r.err);
	cr_assert_null(strstr(r.out, "already wiped"), "%s", r.out);
	cr_assert_null(strstr(r.out, "backup already taken"), "%s", r.out);
	run_free(&r);
	users = sql_value(sim_get(&b, "SIM_DB_URL"), "select count(*) from users");
	cr_assert_str_eq(users, "0", "cluster b's database was not wiped");
	free(users);
	after = listing(dir_a);
	cr_assert_str_eq(after, list_a, "cluster b's run touched cluster a's state");
	free(after);
	snprintf(cmd, sizeof cmd, "ls %s/kubectl-nublado/ | wc -l; ls %s/kubectl-nublado/sim.*/backups/*.sql "
	    "| wc -l", state, state);
	run_sh(&r, cmd);
	cr_assert_str_eq(r.out, "2\n2\n", "one directory and one backup per cluster: %s", r.out);
	run_free(&r);

	/* Cluster a's journal (as if interrupted after its backup) moved into b's place. */
	snprintf(cmd, sizeof cmd, "for d in %s/kubectl-nublado/sim.*; do [ \"$d\" = '%s' ] || echo \"$d\"; done",
	    state, dir_a);
	run_sh(&r, cmd);
	snprintf(path, sizeof path, "%.*s/wipe.json", (int)strcspn(r.out, "\n"), r.out);
	run_free(&r);
	snprintf(cmd, sizeof cmd, "python3 -c 'import json,sys; j=json.load(open(sys.argv[1])); "
	    "[j.pop(k,None) for k in (\"dropped\",\"restartIssued\",\"completed\")]; "
	    "json.dump(j,open(sys.argv[2],\"w\"))' '%s/wipe.json' '%s'", dir_a, path);
	run_sh(&r, cmd);
	cr_assert_eq(r.status, 0, "%s", r.err);
	run_free(&r);
	/* Give b something to lose. */
	free(sql_value(sim_get(&b, "SIM_DB_URL"),
	    "insert into users (name, admin, created, last_activity, cookie_id) "
	    "values ('after', false, now(), now(), 'cookie-after')"));
	before = sim_state_of(&b);
	db_before = sql_value(sim_get(&b, "SIM_DB_URL"), "select count(*) from users");
	nub_with_state(&b, state, &r, wipe);
	cr_assert_eq(r.status, 3, "want exit 3, got %d:\n%s\n%s", r.status, r.out, r.err);
	cr_assert(strstr(r.err, "of another cluster") != NULL, "%s", r.err);
	run_free(&r);
	after = sim_state_of(&b);
	cr_assert_str_eq(before, after, "the cluster changed");
	free(after);
	after = sql_value(sim_get(&b, "SIM_DB_URL"), "select count(*) from users");
	cr_assert_str_eq(after, db_before, "the database changed");
	free(after);
	free(before);
	free(db_before);
	free(list_a);
	sim_stop(&b);
	snprintf(cmd, sizeof cmd, "rm -rf '%s'", state);
	run_sh(&r, cmd);
	run_free(&r);
}

/*
 * No lab slips in: block takes the lab-creation route away too, so a user
 * asking for a lab during the wipe gets none; and a lab made some other way
 * (an admin, during the backup) stops the drop before anything is dropped.
 */
Test(wipe, no_lab_slips_in, .timeout = 300)
{
	struct sim s;
	struct run r;
	char *st, *users;

	sim_start(&s, "--faults lab-appears=latecomer");
	sim_nub(&s, &r, "wipe-db", "-y", NULL);
	cr_assert_eq(r.status, 0, "%s\n%s", r.out, r.err);
	cr_assert_null(strstr(r.err, "appeared"), "%s", r.err);
	run_free(&r);
	st = sim_state_of(&s);
	cr_assert_null(strstr(st, "nublado-latecomer"), "a lab was made during the block");
	free(st);
	sim_stop(&s);

	sim_start(&s, "--faults lab-at-dump=admin1");
	sim_nub(&s, &r, "wipe-db", "-y", NULL);
	cr_assert_eq(r.status, 1, "%d: %s\n%s", r.status, r.out, r.err);
	cr_assert(strstr(r.err, "nublado-admin1") != NULL &&
	    strstr(r.err, "nothing was dropped") != NULL, "%s", r.err);
	run_free(&r);
	users = sql_value(sim_get(&s, "SIM_DB_URL"), "select count(*) from users");
	cr_assert_str_neq(users, "0", "dropped though a lab existed");
	free(users);
	/* Run again: kill-labs deletes it, then the drop goes ahead. */
	sim_nub(&s, &r, "wipe-db", "-y", NULL);
	cr_assert_eq(r.status, 0, "%s\n%s", r.out, r.err);
	run_free(&r);
	users = sql_value(sim_get(&s, "SIM_DB_URL"), "select count(*) from users");
	cr_assert_str_eq(users, "0");
	free(users);
	sim_stop(&s);
}

/* wipe-db -y on a fresh cluster: exit 0, the plan and summary (stdout and stderr). */
static char *
wipe_ok(struct sim *s)
{
	struct run r;
	char *text;

	sim_nub(s, &r, "wipe-db", "-y", NULL);
	cr_assert_eq(r.status, 0, "wipe-db failed:\n%s\n%s", r.out, r.err);
	cr_assert(strstr(r.out, "Summary: wiped") != NULL, "%s", r.out);
	cr_assert(asprintf(&text, "%s\n%s", r.out, r.err) > 0);
	run_free(&r);
	return text;
}

/*
 * The ukidac shape on PostgreSQL 12 (the in-cluster postgres application's
 * major): the role also owns a database of its own name.  A notice, not a
 * refusal; that database stays.
 */
Test(wipe, ukidac_shape_on_postgresql_12, .timeout = 240)
{
	struct sim s;
	char *v, *text, *admin_nublado;

	sim_start(&s, "--pg-version 12");
	v = sql_value(sim_get(&s, "SIM_DB_ADMIN_URL"), "show server_version_num");
	cr_assert(strncmp(v, "12", 2) == 0, "server %s", v);
	free(v);
	free(sql_value(sim_get(&s, "SIM_DB_ADMIN_URL"), "create database nublado3 owner nublado"));
	admin_nublado = url_db(sim_get(&s, "SIM_DB_ADMIN_URL"), "nublado");
	text = wipe_ok(&s);
	cr_assert(strstr(text, "notice: database nublado3: also owned by nublado") != NULL, "%s", text);
	free(text);
	v = sql_value(sim_get(&s, "SIM_DB_URL"), "select count(*) from users");
	cr_assert_str_eq(v, "0");
	free(v);
	v = sql_value(admin_nublado, "select count(*) from other.keep");
	cr_assert_str_eq(v, "3");
	free(v);
	v = sql_value(sim_get(&s, "SIM_DB_ADMIN_URL"),
	    "select count(*) from pg_database where datname = 'nublado3'");
	cr_assert_str_eq(v, "1");
	free(v);
	free(admin_nublado);
	sim_stop(&s);
}

/*
 * Cloud SQL's shape (the IDF environments): PostgreSQL 16, a role made with
 * CREATEROLE and CREATEDB, a member of cloudsqlsuperuser, which owns the
 * database.  DROP OWNED touches only the role's own objects: notices, not
 * refusals; the pod's pg_dump 15 cannot dump 16, so psql takes the backup;
 * restore-db brings every row back.
 */
Test(wipe, cloud_sql_role_on_16_wipes_with_notices_and_restores, .timeout = 300)
{
	struct sim s;
	struct run r;
	char *v, *text, *before, *file;
	const char *admin;

	sim_start(&s, "--pg-version 16");
	admin = sim_get(&s, "SIM_DB_ADMIN_URL");
	free(sql_value(admin, "create role cloudsqlsuperuser createrole createdb"));
	free(sql_value(admin, "alter role nublado createrole createdb"));
	free(sql_value(admin, "grant cloudsqlsuperuser to nublado"));
	free(sql_value(admin, "alter database nublado owner to cloudsqlsuperuser"));
	before = sql_value(sim_get(&s, "SIM_DB_URL"),
	    "select string_agg(name, ',' order by name) from users");
	text = wipe_ok(&s);
	cr_assert(strstr(text, "notice: role nublado: has CREATEROLE") != NULL, "%s", text);
	cr_assert(strstr(text, "notice: role cloudsqlsuperuser: nublado is a member of it") != NULL,
	    "%s", text);
	cr_assert(strstr(text, "backed up with psql") != NULL, "%s", text);
	free(text);
	v = sql_value(sim_get(&s, "SIM_DB_URL"), "select count(*) from users");
	cr_assert_str_eq(v, "0");
	free(v);
	{
		char cmd[1200];

		snprintf(cmd, sizeof cmd, "ls %s/backups/*.sql", sim_state_dir(&s, "sim"));
		run_sh(&r, cmd);
		cr_assert_eq(r.status, 0, "%s", r.err);
		file = strndup(r.out, strcspn(r.out, "\n"));
		run_free(&r);
	}
	sim_nub(&s, &r, "restore-db", "-y", file, NULL);
	cr_assert_eq(r.status, 0, "%s\n%s", r.out, r.err);
	run_free(&r);
	v = sql_value(sim_get(&s, "SIM_DB_URL"),
	    "select string_agg(name, ',' order by name) from users");
	cr_assert_str_eq(v, before, "restored %s, had %s", v, before);
	free(v);
	free(before);
	free(file);
	sim_stop(&s);
}

/*
 * Argo CD self-heal would undo the block: wipe-db refuses before anything
 * changes; told to go on anyway, it finds access open again before the drop
 * (self-heal put the ingresses back) and drops nothing.
 */
Test(wipe, self_heal_refused_and_caught_before_the_drop, .timeout = 240)
{
	struct sim s;
	struct run r;
	char *before, *after, *users;

	sim_start(&s, "--faults argocd-selfheal=1,ns-delete-delay=4");
	before = sim_state_of(&s);
	sim_nub(&s, &r, "wipe-db", "-y", NULL);
	cr_assert_eq(r.status, 3, "%d: %s\n%s", r.status, r.out, r.err);
	cr_assert(strstr(r.err, "selfHeal") != NULL, "%s", r.err);
	run_free(&r);
	after = sim_state_of(&s);
	cr_assert_str_eq(before, after, "the refusal changed the cluster");
	free(before);
	free(after);

	sim_nub(&s, &r, "wipe-db", "-y", "--ignore-self-heal", NULL);
	cr_assert_eq(r.status, 1, "%d: %s\n%s", r.status, r.out, r.err);
	cr_assert(strstr(r.err, "access is open again") != NULL &&
	    strstr(r.err, "nothing was dropped") != NULL, "%s", r.err);
	run_free(&r);
	users = sql_value(sim_get(&s, "SIM_DB_URL"), "select count(*) from users");
	cr_assert_str_neq(users, "0", "dropped while users could get in");
	free(users);
	sim_stop(&s);
}

/*
 * What the run will need is checked before anything changes (dry run too):
 * a backup directory that cannot take a file, one without room for the
 * backup, and rights the user lacks all stop the preflight with exit 3.
 */
Test(wipe, preflight_checks_the_backup_directory_and_the_rights, .timeout = 240)
{
	struct sim s;
	struct run r;
	char *before, *after, cmd[5000], dir[700];

	sim_start(&s, NULL);
	before = sim_state_of(&s);
	/* Not a directory one can write in (root ignores modes: /proc refuses anyone). */
	sim_nub(&s, &r, "wipe-db", "--dry-run", "--backup-dir", "/proc/kubectl-nublado-backups",
	    NULL);
	cr_assert_eq(r.status, 3, "%d: %s\n%s", r.status, r.out, r.err);
	cr_assert(strstr(r.err, "backup-dir") != NULL, "%s", r.err);
	run_free(&r);
	sim_nub(&s, &r, "wipe-db", "-y", "--backup-dir", "/proc/kubectl-nublado-backups", NULL);
	cr_assert_eq(r.status, 3, "%d: %s\n%s", r.status, r.out, r.err);
	run_free(&r);

	/* A directory with no room: a 1 MiB tmpfs in a mount namespace of the run's own. */
	snprintf(dir, sizeof dir, "%s/tiny", s.dir);
	mkdir(dir, 0700);
	snprintf(cmd, sizeof cmd, "unshare -m sh -c 'mount -t tmpfs -o size=1m tmpfs %s && "
	    "XDG_STATE_HOME=%s/state exec %s --kubeconfig %s wipe-db -y --backup-dir %s'",
	    dir, s.dir, need_env("NUB_BIN"), s.kubeconfig, dir);
	run_sh(&r, cmd);
	cr_assert_eq(r.status, 3, "%d: %s\n%s", r.status, r.out, r.err);
	cr_assert(strstr(r.err, "not enough room for the backup") != NULL, "%s", r.err);
	run_free(&r);

	/* The read-only user: its missing rights, named. */
	sim_nub(&s, &r, "--context", "sim-readonly", "wipe-db", "--dry-run",
	    "--db-url", sim_get(&s, "SIM_DB_URL_NOPW"), NULL);
	cr_assert_eq(r.status, 3, "%d: %s\n%s", r.status, r.out, r.err);
	cr_assert(strstr(r.err, "may not") != NULL || strstr(r.err, "forbidden") != NULL,
	    "%s", r.err);
	run_free(&r);
	after = sim_state_of(&s);
	cr_assert_str_eq(before, after, "a refused preflight changed the cluster");
	free(before);
	free(after);
	sim_stop(&s);
}

/* The text plan says what else the drop does, as -o json does: sessions cut, privileges revoked. */
Test(wipe, plan_shows_the_drops_side_effects, .timeout = 120)
{
	struct sim s;
	struct run r;

	sim_start(&s, NULL);
	sim_nub(&s, &r, "wipe-db", "--dry-run", NULL);
	cr_assert_eq(r.status, 0, "%s\n%s", r.out, r.err);
	cr_assert(strstr(r.out, "the drop also: table other.keep: nublado holds privileges") != NULL,
	    "%s", r.out);
	cr_assert(strstr(r.out, "disconnected by the drop") != NULL, "%s", r.out);
	run_free(&r);
	sim_stop(&s);
}

/*
 * A sick hub (its container runs, it is not Ready) is a main reason to wipe:
 * the preflight uses it, with a warning, instead of stopping; psql too; and
 * --pod names the pod to use.
 */
Test(wipe, a_hub_that_is_not_ready_is_used, .timeout = 240)
{
	struct sim s;
	struct run r;
	char pod[256];

	sim_start(&s, NULL);
	sim_faults_of(&s, "hub-unready=600");
	/* The hub goes not Ready (its readiness probe fails); its container keeps running. */
	sim_wait_hub_unready(&s);
	sim_kubectl(&s, &r, "get pods -n nublado -l app=jupyterhub,component=hub "
	    "-o jsonpath={.items[0].metadata.name}");
	cr_assert_eq(r.status, 0, "%s", r.err);
	snprintf(pod, sizeof pod, "%s", r.out);
	run_free(&r);
	sim_nub(&s, &r, "wipe-db", "--dry-run", NULL);
	cr_assert_eq(r.status, 0, "%d: %s\n%s", r.status, r.out, r.err);
	cr_assert(strstr(r.err, "is running but not Ready: using it") != NULL, "%s", r.err);
	cr_assert(strstr(r.out, "checked: role 'nublado'") != NULL, "%s", r.out);
	run_free(&r);
	sim_nub(&s, &r, "psql", "-c", "select 41 + 1", "--", "-A", "-t", NULL);
	cr_assert_eq(r.status, 0, "%s", r.err);
	cr_assert_str_eq(r.out, "42\n");
	run_free(&r);
	sim_nub(&s, &r, "wipe-db", "--dry-run", "--pod", pod, NULL);
	cr_assert_eq(r.status, 0, "%d: %s\n%s", r.status, r.out, r.err);
	cr_assert_null(strstr(r.err, "not Ready"), "%s", r.err);
	run_free(&r);
	sim_stop(&s);
}

/*
 * JupyterHub's tables in another schema (reached through the role's
 * search_path): the check sees them, but the backup reads schema public only,
 * so the preflight refuses before anyone is blocked.
 */
Test(wipe, tables_outside_public_refused_before_the_block, .timeout = 120)
{
	struct sim s;
	struct run r;
	char *before, *after;

	sim_start(&s, NULL);
	free(sql_value(sim_get(&s, "SIM_DB_URL"),
	    "do $$ declare t text; begin create schema jh; "
	    "for t in select tablename from pg_tables where schemaname = 'public' and "
	    "tableowner = current_user loop execute format('alter table public.%I set schema jh', t); "
	    "end loop; end $$; alter role nublado set search_path = jh, public; select 1"));
	before = sim_state_of(&s);
	sim_nub(&s, &r, "wipe-db", "-y", NULL);
	cr_assert_eq(r.status, 3, "%d: %s\n%s", r.status, r.out, r.err);
	cr_assert(strstr(r.err, "schema 'jh'") != NULL, "%s", r.err);
	run_free(&r);
	after = sim_state_of(&s);
	cr_assert_str_eq(before, after, "the refusal changed the cluster");
	free(before);
	free(after);
	sim_stop(&s);
}
