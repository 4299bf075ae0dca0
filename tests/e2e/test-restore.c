/* test-restore.c: restore-db: a wipe-db backup put back, or refused with nothing changed */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <criterion/criterion.h>

#include "e2e.h"

/* Every JupyterHub table's rows, as "table=md5" lines: content, not just counts. */
static char *
table_digests(const char *url)
{
	return sql_value(url, "select string_agg(t || '=' || (xpath('/row/c/text()', "
	    "query_to_xml(format('select md5(coalesce(string_agg(x::text, chr(10) order by "
	    "x::text), %L)) as c from public.%I x', '', t), false, true, '')))[1]::text, ',' "
	    "order by t) from unnest(array['users','spawners','servers','groups','roles',"
	    "'user_role_map','user_group_map','api_tokens','oauth_clients','alembic_version']) t "
	    "where to_regclass('public.' || t) is not null");
}

static char *
backup_of(const struct sim *s)
{
	struct run r;
	char cmd[1200], *f;

	snprintf(cmd, sizeof cmd, "ls %s/backups/*.sql | tail -n 1", sim_state_dir(s, "sim"));
	run_sh(&r, cmd);
	cr_assert_eq(r.status, 0, "%s", r.err);
	f = strndup(r.out, strcspn(r.out, "\n"));
	run_free(&r);
	return f;
}

/*
 * The way back: wipe, then restore-db the backup; before the hub restart
 * every table is compared with the backup (the command says so), and the
 * rows are the ones the wipe took away.
 */
static void
round_trip(const char *cluster_args)
{
	struct sim s;
	struct run r;
	char *before, *after, *file;

	sim_start(&s, cluster_args);
	before = table_digests(sim_get(&s, "SIM_DB_URL"));
	sim_nub(&s, &r, "wipe-db", "-y", NULL);
	cr_assert_eq(r.status, 0, "%s\n%s", r.out, r.err);
	run_free(&r);
	after = table_digests(sim_get(&s, "SIM_DB_URL"));
	cr_assert_str_neq(after, before, "the wipe changed nothing");
	free(after);
	file = backup_of(&s);

	/* A dry run changes nothing and says what it would do. */
	sim_nub(&s, &r, "restore-db", "--dry-run", file, NULL);
	cr_assert_eq(r.status, 0, "%s\n%s", r.out, r.err);
	cr_assert(strstr(r.out, "REPLACE the") != NULL, "%s", r.out);
	run_free(&r);

	sim_nub(&s, &r, "restore-db", "-y", "-o", "json", file, NULL);
	cr_assert_eq(r.status, 0, "%s\n%s", r.out, r.err);
	cr_assert(strstr(r.out, "\"verified\": true") != NULL, "%s", r.out);
	cr_assert(strstr(r.out, "\"kind\": \"pg_dump\"") != NULL, "%s", r.out);
	run_free(&r);
	after = table_digests(sim_get(&s, "SIM_DB_URL"));
	cr_assert_str_eq(after, before, "restored:\n%s\nbefore the wipe:\n%s", after, before);
	free(after);

	/* Run again: already done, nothing changed. */
	sim_nub(&s, &r, "restore-db", "-y", file, NULL);
	cr_assert_eq(r.status, 0, "%s", r.err);
	cr_assert(strstr(r.out, "already restored") != NULL, "%s", r.out);
	run_free(&r);
	free(before);
	free(file);
	sim_stop(&s);
}

Test(restore, round_trip_after_a_wipe, .timeout = 240)
{
	round_trip(NULL);
}

/* The same with the real JupyterHub 5, whose restarted hub makes its own schema again. */
Test(restore, round_trip_with_real_jupyterhub_5, .timeout = 240)
{
	round_trip("--real-hub");
}

/* A database at another JupyterHub revision: exit 3, the two revisions named, nothing changed. */
Test(restore, refuses_another_schema_revision, .timeout = 240)
{
	struct sim s;
	struct run r;
	char *file, *st, *st2, *rows, *rows2;

	sim_start(&s, NULL);
	sim_nub(&s, &r, "wipe-db", "-y", NULL);
	cr_assert_eq(r.status, 0, "%s\n%s", r.out, r.err);
	run_free(&r);
	file = backup_of(&s);
	free(sql_value(sim_get(&s, "SIM_DB_URL"),
	    "update alembic_version set version_num = '651f5419b74d'; select 1"));
	st = sim_state_of(&s);
	rows = table_digests(sim_get(&s, "SIM_DB_URL"));
	sim_nub(&s, &r, "restore-db", "-y", file, NULL);
	cr_assert_eq(r.status, 3, "%d: %s\n%s", r.status, r.out, r.err);
	cr_assert(strstr(r.err, "revision 4621fec11365") != NULL &&
	    strstr(r.err, "651f5419b74d") != NULL, "%s", r.err);
	run_free(&r);
	st2 = sim_state_of(&s);
	rows2 = table_digests(sim_get(&s, "SIM_DB_URL"));
	cr_assert_str_eq(st, st2, "the cluster changed");
	cr_assert_str_eq(rows, rows2, "the database changed");
	free(st);
	free(st2);
	free(rows);
	free(rows2);

	/* Not a backup at all: refused, named. */
	sim_nub(&s, &r, "restore-db", "-y", sim_path("kubeconfig"), NULL);
	cr_assert_eq(r.status, 3, "%d: %s", r.status, r.err);
	cr_assert(strstr(r.err, "not a backup") != NULL || strstr(r.err, "pg_dump") != NULL,
	    "%s", r.err);
	run_free(&r);
	free(file);
	sim_stop(&s);
}

/*
 * The deployments' servers: in-cluster postgres 12 (usdfprod, ccin2p3,
 * ukidac), Debian's 15, Cloud SQL 16 (IDF) and CloudNativePG 17 (USDF dev).
 * The pod's tools stay Debian 12's psql and pg_dump 15, as in the hub image:
 * pg_dump takes the backup where it can (12, 15), psql alone where it cannot
 * (16, 17).  Wipe, then restore-db: every table as before the wipe.
 */
Test(restore, round_trip_on_postgresql_12_15_16_17, .timeout = 600)
{
	static const struct { const char *major, *kind; } v[] = {
		{ "12", "pg_dump" }, { "15", "pg_dump" }, { "16", "psql" }, { "17", "psql" },
	};

	for (size_t i = 0; i < sizeof v / sizeof v[0]; i++) {
		struct sim s;
		struct run r;
		char args[64], want[64], *before, *after, *file, *ver;

		snprintf(args, sizeof args, "--pg-version %s", v[i].major);
		sim_start(&s, args);
		ver = sql_value(sim_get(&s, "SIM_DB_URL"), "show server_version_num");
		cr_assert_eq(strncmp(ver, v[i].major, 2), 0, "server %s, want %s", ver, v[i].major);
		free(ver);
		before = table_digests(sim_get(&s, "SIM_DB_URL"));
		sim_nub(&s, &r, "wipe-db", "-y", "-o", "json", NULL);
		cr_assert_eq(r.status, 0, "PostgreSQL %s: %s\n%s", v[i].major, r.out, r.err);
		snprintf(want, sizeof want, "\"backupKind\": \"%s\"", v[i].kind);
		cr_assert(strstr(r.out, want) != NULL, "PostgreSQL %s: %s", v[i].major, r.out);
		run_free(&r);
		file = backup_of(&s);
		sim_nub(&s, &r, "restore-db", "-y", "-o", "json", file, NULL);
		cr_assert_eq(r.status, 0, "PostgreSQL %s: %s\n%s", v[i].major, r.out, r.err);
		cr_assert(strstr(r.out, "\"verified\": true") != NULL, "%s", r.out);
		run_free(&r);
		after = table_digests(sim_get(&s, "SIM_DB_URL"));
		cr_assert_str_eq(after, before, "PostgreSQL %s: restored\n%s\nbefore\n%s",
		    v[i].major, after, before);
		free(before);
		free(after);
		free(file);
		sim_stop(&s);
	}
}
