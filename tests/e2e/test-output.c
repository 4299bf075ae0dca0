/* test-output.c: one output contract: every command's -o json and -o yaml against tests/schema */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <criterion/criterion.h>
#include <libfyaml.h>

#include "e2e.h"

/* Write text to a file in the test's private directory; the path is static. */
static const char *
save(const char *text)
{
	static char path[700];
	static int n;
	FILE *f;

	snprintf(path, sizeof path, "%s/out-%d-%d.json", need_env("NUB_E2E_TMP"), (int)getpid(),
	    n++);
	f = fopen(path, "w");
	cr_assert_not_null(f);
	fputs(text, f);
	fclose(f);
	return path;
}

/* Is text valid against tests/schema/result.schema.json?  The validator's words if not. */
static void
assert_schema(const char *text, const char *what)
{
	char cmd[2048];
	struct run v;

	snprintf(cmd, sizeof cmd, "python3 %s/tests/schema/validate.py "
	    "%s/tests/schema/result.schema.json %s", need_env("NUB_TOP"), need_env("NUB_TOP"),
	    save(text));
	run_sh(&v, cmd);
	cr_assert_eq(v.status, 0, "%s: not valid against the schema:\n%s\n%s", what, v.err, text);
	run_free(&v);
}

/* -o yaml's text as JSON text, by libfyaml (caller frees). */
static char *
yaml_to_json(const char *yaml)
{
	struct fy_document *d = fy_document_build_from_string(NULL, yaml, FY_NT);
	char *out;

	cr_assert_not_null(d, "not YAML:\n%s", yaml);
	out = fy_emit_document_to_string(d, FYECF_MODE_JSON);
	fy_document_destroy(d);
	cr_assert_not_null(out);
	return out;
}

/*
 * Run the command with -o json and with -o yaml: both valid, the same
 * document (where `same'), exit `want'; returns the JSON document.
 */
static json_object *
both(const struct sim *s, int want, bool same, const char *const *argv)
{
	char *args[32];
	struct run rj, ry;
	json_object *j, *y;
	char *yj;
	int n = 0;

	for (; argv[n] != NULL && n < 28; n++)
		args[n] = (char *)argv[n];
	args[n] = "-o";
	args[n + 1] = "json";
	for (int i = n + 2; i < 32; i++)
		args[i] = NULL;
	/* sim_nub stops at the first NULL: the rest of the slots are padding. */
	sim_nub(s, &rj, args[0], args[1], args[2], args[3], args[4], args[5], args[6],
	    args[7], NULL);
	cr_assert_eq(rj.status, want, "%s -o json: exit %d\n%s\n%s", argv[0], rj.status, rj.out,
	    rj.err);
	assert_schema(rj.out, argv[0]);
	args[n + 1] = "yaml";
	sim_nub(s, &ry, args[0], args[1], args[2], args[3], args[4], args[5], args[6],
	    args[7], NULL);
	cr_assert_eq(ry.status, want, "%s -o yaml: exit %d\n%s", argv[0], ry.status, ry.err);
	yj = yaml_to_json(ry.out);
	assert_schema(yj, argv[0]);
	j = json_tokener_parse(rj.out);
	y = json_tokener_parse(yj);
	cr_assert_not_null(j);
	cr_assert_not_null(y, "%s", yj);
	if (same)
		cr_assert(json_object_equal(j, y), "%s: -o json and -o yaml differ:\n%s\n%s",
		    argv[0], rj.out, ry.out);
	json_object_put(y);
	free(yj);
	run_free(&rj);
	run_free(&ry);
	return j;
}

static void
check(const struct sim *s, int want, bool same, const char *const *argv)
{
	json_object_put(both(s, want, same, argv));
}

#define ARGV(...) ((const char *const[]){ __VA_ARGS__, NULL })

Test(output, every_command_one_envelope, .timeout = 300)
{
	struct sim s;

	sim_start(&s, NULL);
	/* Read-only commands: the same document either way. */
	check(&s, 0, true, ARGV("labs"));
	check(&s, 0, true, ARGV("db-url"));
	check(&s, 0, true, ARGV("version"));
	check(&s, 0, true, ARGV("version", "--client"));
	check(&s, 0, false, ARGV("status", "--no-db"));
	check(&s, 0, false, ARGV("status"));
	/* Dry runs of every changing command. */
	check(&s, 0, true, ARGV("block", "--dry-run"));
	check(&s, 0, true, ARGV("kill-labs", "--dry-run"));
	check(&s, 0, true, ARGV("kill-labs", "--user", "nobody", "--dry-run"));
	check(&s, 0, false, ARGV("restart-hub", "--dry-run"));
	check(&s, 0, true, ARGV("unblock", "--dry-run"));
	check(&s, 0, false, ARGV("wipe-db", "--dry-run"));
	/* Failures keep the shape: ok false, the error with its exit code. */
	check(&s, 1, true, ARGV("--context", "no-such-context", "labs"));
	check(&s, 3, false, ARGV("restore-db", "/nonexistent.sql", "--dry-run"));
	/* The real thing: block, the blocked state, and unblock. */
	check(&s, 0, false, ARGV("block", "-y"));
	check(&s, 0, true, ARGV("block", "-y"));
	check(&s, 0, false, ARGV("unblock", "-y"));
	sim_stop(&s);
}

Test(output, failure_envelope_says_why)
{
	struct sim s;
	struct run r;
	json_object *j, *err, *v;

	sim_start(&s, NULL);
	sim_nub(&s, &r, "restore-db", "/nonexistent.sql", "-o", "json", NULL);
	cr_assert_eq(r.status, 3, "%s", r.err);
	j = json_tokener_parse(r.out);
	cr_assert_not_null(j, "%s", r.out);
	cr_assert(json_object_object_get_ex(j, "ok", &v) && !json_object_get_boolean(v));
	cr_assert(json_object_object_get_ex(j, "error", &err) && err != NULL);
	cr_assert(json_object_object_get_ex(err, "exitCode", &v));
	cr_assert_eq(json_object_get_int(v), 3);
	cr_assert(json_object_object_get_ex(err, "message", &v));
	cr_assert(strstr(json_object_get_string(v), "nonexistent.sql") != NULL, "%s", r.out);
	/* Words stay on stderr: stdout is the document alone. */
	cr_assert(strstr(r.err, "nonexistent.sql") != NULL, "%s", r.err);
	json_object_put(j);
	run_free(&r);
	sim_stop(&s);
}

/* The validator must refuse what breaks the contract, or the tests above prove nothing. */
Test(output, schema_refuses_a_broken_envelope)
{
	struct run v;
	char cmd[2048];
	static const char *const bad[] = {
		"{\"apiVersion\":\"kubectl-nublado/v1\",\"kind\":\"Result\"}",
		"{\"apiVersion\":\"kubectl-nublado/v1\",\"kind\":\"Result\",\"command\":\"labs\","
		"\"context\":null,\"namespace\":null,\"dryRun\":false,\"ok\":true,\"error\":null,"
		"\"result\":{\"labs\":[]}}",
		"{\"apiVersion\":\"kubectl-nublado/v1\",\"kind\":\"Result\",\"command\":\"db-url\","
		"\"context\":\"c\",\"namespace\":\"n\",\"dryRun\":false,\"ok\":true,\"error\":null,"
		"\"result\":{\"url\":\"postgresql://h/d\",\"scheme\":\"postgresql\",\"user\":null,"
		"\"host\":\"h\",\"port\":\"5432\",\"database\":\"d\",\"source\":null,"
		"\"hadPassword\":false}}",
		"{\"apiVersion\":\"kubectl-nublado/v1\",\"kind\":\"Result\",\"command\":\"block\","
		"\"context\":\"c\",\"namespace\":\"n\",\"dryRun\":false,\"ok\":false,\"error\":null,"
		"\"result\":{}}",
		NULL
	};

	for (int i = 0; bad[i] != NULL; i++) {
		snprintf(cmd, sizeof cmd, "python3 %s/tests/schema/validate.py "
		    "%s/tests/schema/result.schema.json %s", need_env("NUB_TOP"),
		    need_env("NUB_TOP"), save(bad[i]));
		run_sh(&v, cmd);
		cr_assert_eq(v.status, 1, "accepted: %s", bad[i]);
		run_free(&v);
	}
}
