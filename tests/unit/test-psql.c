/* test-psql.c: psql's command line for the hub pod, the URL it gets, and the hub pod choice */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include <criterion/criterion.h>

#include "../../src/nublado/hub.h"
#include "../../src/nublado/psql.h"
#include "../../src/util/xalloc.h"

/* ---- the URL ---- */

static void
clean_ok(const char *in, const char *want, bool want_pw)
{
	struct err e;
	char *out;
	bool pw;

	err_clear(&e);
	cr_assert_eq(psql_url_clean(in, &out, &pw, &e), 0, "%s: %s", in, e.msg);
	cr_assert_str_eq(out, want);
	cr_assert_eq(pw, want_pw, "%s", in);
	free(out);
}

static void
clean_bad(const char *in, const char *want_in_msg)
{
	struct err e;
	char *out = (char *)"x";
	bool pw;

	err_clear(&e);
	cr_assert_eq(psql_url_clean(in, &out, &pw, &e), -1, "%s passed", in);
	cr_assert_null(out);
	cr_assert(strstr(e.msg, want_in_msg) != NULL, "%s: %s", in, e.msg);
	cr_assert(strstr(e.msg, "s3cret") == NULL, "password in message: %s", e.msg);
}

Test(psql, url_as_phalanx_writes_it)
{
	clean_ok("postgresql://nublado@cloud-sql-proxy.nublado/nublado",
	    "postgresql://nublado@cloud-sql-proxy.nublado/nublado", false);
	clean_ok("postgresql://nublado3@postgres.postgres/nublado3",
	    "postgresql://nublado3@postgres.postgres/nublado3", false);
	clean_ok("postgres://jhub@192.168.114.188/jhubsessions01",
	    "postgres://jhub@192.168.114.188/jhubsessions01", false);
}

Test(psql, url_driver_and_password_removed)
{
	clean_ok("postgresql+psycopg2://user:s3cret@host:5432/db",
	    "postgresql://user@host:5432/db", true);
	clean_ok("postgresql+asyncpg://user@host/db", "postgresql://user@host/db", false);
	/* A password with an @ in it (percent-encoded or not: the last @ ends the user part). */
	clean_ok("postgresql://user:s3c@ret@host/db", "postgresql://user@host/db", true);
	clean_ok("postgresql://user:s3cret%40x@host/db", "postgresql://user@host/db", true);
	clean_ok("postgresql://user@host/db?password=s3cret&sslmode=require",
	    "postgresql://user@host/db?sslmode=require", true);
	clean_ok("postgresql://user@host/db?sslmode=require&password=s3cret",
	    "postgresql://user@host/db?sslmode=require", true);
	clean_ok("postgresql://user@host/db?password=s3cret", "postgresql://user@host/db", true);
	/* A colon after the @ is the port, not a password. */
	clean_ok("postgresql://user@[::1]:5433/db", "postgresql://user@[::1]:5433/db", false);
}

Test(psql, url_refused)
{
	clean_bad("sqlite:///jupyterhub.sqlite", "not PostgreSQL");
	clean_bad("mysql+pymysql://u:s3cret@h/db", "not PostgreSQL");
	clean_bad("nublado@host/db", "not a database URL");
	clean_bad("postgresql://user:s3cret@host/db?bogus=1", "invalid database URL");
	clean_bad("postgresql://user:s3cret@[::1/db", "invalid database URL");
}

/* ---- argv ---- */

static void
assert_argv(char **v, const char *const *want)
{
	size_t i;

	for (i = 0; want[i] != NULL; i++) {
		cr_assert_not_null(v[i], "argv ends at %zu, want %s", i, want[i]);
		cr_assert_str_eq(v[i], want[i], "argv[%zu]", i);
	}
	cr_assert_null(v[i], "extra argv[%zu] = %s", i, v[i]);
}

static const char *const tricky_sql[] = {
	"select 'it''s', \"Quoted Col\" from t; select 2",
	"do $$ begin raise notice 'a;b'; end $$;",
	"select $tag$ $$ ' \" \\ ` $(rm -rf /) ${x} $tag$",
	"select 1;\n-- comment\nselect E'\\n\\t'\n;\n",
	"select 'ünïcödé ✓ 日本'",
	"\\echo backslash command",
	"",
	NULL
};

Test(psql, argv_commands_each_one_argument)
{
	struct psql_cmd c = { .url = "postgresql://u@h/db", .commands = (char *const *)tricky_sql };
	char **v;
	struct err e;
	size_t i = 0;

	err_clear(&e);
	cr_assert_eq(psql_argv(&c, &v, &e), 0, "%s", e.msg);
	cr_assert_str_eq(v[0], "sh");
	cr_assert_str_eq(v[1], "-c");
	cr_assert(strstr(v[2], PSQL_PASSWORD_FILE) != NULL);
	cr_assert(strstr(v[2], PSQL_PASSWORD_FILE_FALLBACK) != NULL);
	cr_assert(strstr(v[2], "exec \"$0\" \"$@\"") != NULL);
	cr_assert_str_eq(v[3], "psql");
	cr_assert_str_eq(v[4], "-X");
	cr_assert_str_eq(v[5], "-v");
	cr_assert_str_eq(v[6], "ON_ERROR_STOP=1");
	cr_assert_str_eq(v[7], "-d");
	cr_assert_str_eq(v[8], "postgresql://u@h/db");
	for (i = 0; tricky_sql[i] != NULL; i++) {
		cr_assert_str_eq(v[9 + 2 * i], "-c");
		cr_assert_str_eq(v[10 + 2 * i], tricky_sql[i]);
	}
	cr_assert_null(v[9 + 2 * i]);
	strv_free(v);
}

Test(psql, argv_script_and_extra)
{
	char *extra[] = { "-A", "-t", NULL };
	struct psql_cmd c = { .url = "postgresql://u@h/db", .script = "select 1;\n\\q\n",
	    .extra = extra };
	static const char *const want_tail[] = { "psql", "13", "-X", "-v",
	    "ON_ERROR_STOP=1", "-d", "postgresql://u@h/db", "-f", "-", "-A", "-t", NULL };
	const char *in;
	size_t len;
	char **v;
	struct err e;

	err_clear(&e);
	cr_assert_eq(psql_argv(&c, &v, &e), 0);
	/* The script is on stdin, never in the argv (the request's URL): its length is. */
	cr_assert(strstr(v[2], "head -c \"$n\" | \"$0\" \"$@\"") != NULL, "%s", v[2]);
	assert_argv(v + 3, want_tail);
	in = psql_stdin(&c, &len);
	cr_assert_eq(len, 13);
	cr_assert_str_eq(in, "select 1;\n\\q\n");
	strv_free(v);

	c.script = NULL;
	c.script_on_stdin = true;
	cr_assert_eq(psql_argv(&c, &v, &e), 0);
	static const char *const want_stdin[] = { "psql", "-X", "-v", "ON_ERROR_STOP=1", "-d",
	    "postgresql://u@h/db", "-f", "-", "-A", "-t", NULL };
	assert_argv(v + 3, want_stdin);
	cr_assert_null(psql_stdin(&c, &len));
	strv_free(v);
}

Test(psql, argv_stdin_sql_is_one_command_read_from_stdin)
{
	char *extra[] = { "-q", "-A", NULL };
	struct psql_cmd c = { .url = "postgresql://u@h/db", .stdin_sql = "select 'a;b'; select 2",
	    .extra = extra };
	static const char *const want_tail[] = { "psql", "22", "-X", "-v", "ON_ERROR_STOP=1",
	    "-d", "postgresql://u@h/db", "-q", "-A", NULL };
	size_t len;
	char **v;
	struct err e;

	err_clear(&e);
	cr_assert_eq(psql_argv(&c, &v, &e), 0, "%s", e.msg);
	cr_assert(strstr(v[2], "s=$(head -c \"$n\")") != NULL, "%s", v[2]);
	cr_assert(strstr(v[2], "-c \"$s\"") != NULL, "%s", v[2]);
	assert_argv(v + 3, want_tail);
	cr_assert_str_eq(psql_stdin(&c, &len), "select 'a;b'; select 2");
	cr_assert_eq(len, 22);
	strv_free(v);
}

Test(psql, argv_too_long)
{
	char *big = malloc(PSQL_ARG_MAX + 2);
	char *cmds[] = { big, NULL };
	struct psql_cmd c = { .url = "postgresql://u@h/db", .commands = cmds };
	char **v;
	struct err e;

	memset(big, 'x', PSQL_ARG_MAX + 1);
	big[PSQL_ARG_MAX + 1] = '\0';
	err_clear(&e);
	cr_assert_eq(psql_argv(&c, &v, &e), -1);
	cr_assert_null(v);
	cr_assert(strstr(e.hint, "-f FILE") != NULL);
	big[PSQL_ARG_MAX] = '\0';
	cr_assert_eq(psql_argv(&c, &v, &e), 0);
	strv_free(v);
	free(big);
}

Test(psql, pg_tool_argv_reusable)
{
	char *args[] = { "-d", "postgresql://u@h/db", "--schema-only", NULL };
	char **v = pg_tool_argv("pg_dump", args);
	static const char *const want[] = { "pg_dump", "-d", "postgresql://u@h/db",
	    "--schema-only", NULL };

	cr_assert_str_eq(v[0], "sh");
	assert_argv(v + 3, want);
	strv_free(v);
}

/*
 * The shell script itself, run here with a stand-in for the tool: where the
 * pod's password file is missing (as on this machine) it says so and exits 2
 * without running the tool.
 */
Test(psql, prelude_without_password_file)
{
	char **v;
	int p[2], status;
	pid_t pid;
	char out[1024];
	ssize_t n;

	if (access(PSQL_PASSWORD_FILE, F_OK) == 0 || access(PSQL_PASSWORD_FILE_FALLBACK, F_OK) == 0)
		cr_skip_test("this machine has a hub password file");
	v = pg_tool_argv("echo", (char *[]){ "tool ran", NULL });
	cr_assert_eq(pipe(p), 0);
	pid = fork();
	if (pid == 0) {
		dup2(p[1], 1);
		dup2(p[1], 2);
		execvp(v[0], v);
		_exit(127);
	}
	close(p[1]);
	n = read(p[0], out, sizeof out - 1);
	out[n > 0 ? n : 0] = '\0';
	waitpid(pid, &status, 0);
	close(p[0]);
	cr_assert_eq(WEXITSTATUS(status), 2);
	cr_assert(strstr(out, "no readable database password file") != NULL, "%s", out);
	cr_assert(strstr(out, "tool ran") == NULL);
	strv_free(v);
}

/* ---- choosing the hub pod ---- */

static json_object *
pod(const char *name, const char *phase, const char *ready, bool deleting)
{
	char s[1024];

	snprintf(s, sizeof s, "{\"metadata\":{\"name\":\"%s\"%s},\"status\":{\"phase\":\"%s\","
	    "\"conditions\":[{\"type\":\"PodScheduled\",\"status\":\"True\"},"
	    "{\"type\":\"Ready\",\"status\":\"%s\"}]}}", name,
	    deleting ? ",\"deletionTimestamp\":\"2026-11-25T12:00:00Z\"" : "", phase, ready);
	return json_tokener_parse(s);
}

static int
pick(json_object *items, char **name, struct err *e)
{
	int rc;

	err_clear(e);
	rc = hub_pick_pod(items, "nublado", name, e);
	json_object_put(items);
	return rc;
}

Test(hub, exactly_one_ready)
{
	json_object *a = json_object_new_array();
	char *name;
	struct err e;

	json_object_array_add(a, pod("hub-old", "Running", "True", true));
	json_object_array_add(a, pod("hub-new", "Running", "True", false));
	json_object_array_add(a, pod("hub-starting", "Pending", "False", false));
	cr_assert_eq(pick(a, &name, &e), 0, "%s", e.msg);
	cr_assert_str_eq(name, "hub-new");
	free(name);
}

Test(hub, none)
{
	char *name;
	struct err e;

	cr_assert_eq(pick(json_object_new_array(), &name, &e), -1);
	cr_assert_null(name);
	cr_assert(strstr(e.msg, "no hub pod in namespace \"nublado\"") != NULL, "%s", e.msg);
	cr_assert(strstr(e.msg, HUB_LABEL_SELECTOR) != NULL, "%s", e.msg);
	cr_assert(e.hint[0] != '\0');
}

Test(hub, none_ready_lists_what_was_found)
{
	json_object *a = json_object_new_array();
	char *name;
	struct err e;

	json_object_array_add(a, pod("hub-a", "Pending", "False", false));
	json_object_array_add(a, pod("hub-b", "Running", "True", true));
	cr_assert_eq(pick(a, &name, &e), -1);
	cr_assert(strstr(e.msg, "no ready hub pod") != NULL, "%s", e.msg);
	cr_assert(strstr(e.msg, "hub-a (Pending, not ready)") != NULL, "%s", e.msg);
	cr_assert(strstr(e.msg, "hub-b (Running, ready, terminating)") != NULL, "%s", e.msg);
	cr_assert(strstr(e.hint, "--pod") != NULL);
}

Test(hub, several_ready)
{
	json_object *a = json_object_new_array();
	char *name;
	struct err e;

	json_object_array_add(a, pod("hub-a", "Running", "True", false));
	json_object_array_add(a, pod("hub-b", "Running", "True", false));
	cr_assert_eq(pick(a, &name, &e), -1);
	cr_assert(strstr(e.msg, "2 ready hub pods") != NULL, "%s", e.msg);
	cr_assert(strstr(e.msg, "hub-a, hub-b") != NULL, "%s", e.msg);
	cr_assert(strstr(e.hint, "--pod") != NULL);
}
