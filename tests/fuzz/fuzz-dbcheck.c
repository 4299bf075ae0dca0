/*
 * fuzz-dbcheck.c: what psql and pg_dump print in the hub pod, read back:
 * db_check_parse (the ownership check's psql -A -t output) with everything
 * that then uses the result (print, JSON, version guess), db_tool_major (a
 * --version line), and db_backup_verify (a pg_dump file).  Input: the output.
 */
#include <stdint.h>

#include "../../src/nublado/db.h"
#include "fuzz.h"

static char dump[256];
static FILE *devnull;

int
LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void)argc;
	(void)argv;
	snprintf(dump, sizeof dump, "%s/dump.sql", fuzz_dir());
	devnull = fopen("/dev/null", "w");
	if (devnull == NULL)
		abort();
	return 0;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *out = fuzz_str(data, size);
	char *const tables[] = { "users", "spawners", "api_tokens", NULL };
	long long counts[3];
	struct db_check c;
	json_object *j;
	struct err e;

	err_clear(&e);
	if (db_check_parse(out, &c, &e) == 0) {
		db_check_print(&c, devnull, "  ", true);
		j = db_check_json(&c);
		FUZZ_CHECK(j != NULL, "no JSON");
		FUZZ_CHECK(json_object_to_json_string(j) != NULL, "JSON not printable");
		json_object_put(j);
		FUZZ_CHECK(db_jupyterhub_version(&c) != NULL, "no version");
		(void)db_check_ok(&c);
		(void)db_check_total_rows(&c);
		(void)db_check_rows(&c, "users");
		db_check_refuse(&c, "tool", "program", "pg_dump", "fuzz");
		FUZZ_CHECK(!db_check_ok(&c), "a refusal did not count");
		db_check_clear(&c);
	} else {
		FUZZ_CHECK(e.msg[0] != '\0', "failed without a message");
	}

	(void)db_tool_major(out);

	fuzz_write(dump, data, size);
	err_clear(&e);
	if (db_backup_verify(dump, tables, counts, &e) == 0)
		for (int i = 0; i < 3; i++)
			FUZZ_CHECK(counts[i] >= 0, "negative row count");
	else
		FUZZ_CHECK(e.msg[0] != '\0', "verify failed without a message");
	free(out);
	return 0;
}
