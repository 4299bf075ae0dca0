/*
 * db-tool.c: the database module's pure parts on the command line, for
 * tests/db/test_db_sql.py (never installed, never part of the plugin):
 *
 *   db-tool check-sql             db_check_sql() on stdout
 *   db-tool drop-sql              db_drop_sql() on stdout
 *   db-tool parse                 the check's output on stdin -> db_check_json() on stdout,
 *                                 db_check_print() on stderr; exit 1 when it cannot parse
 *   db-tool dump-args URL         the check's output on stdin -> db_dump_args(), one a line
 *   db-tool verify FILE TABLE...  db_backup_verify(): "TABLE ROWS" lines
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../../src/nublado/db.h"
#include "../../src/util/buf.h"
#include "../../src/util/xalloc.h"

static char *
read_stdin(void)
{
	struct buf b = BUF_INIT;
	char chunk[65536];
	size_t n;

	while ((n = fread(chunk, 1, sizeof chunk, stdin)) > 0)
		buf_append(&b, chunk, n);
	if (b.data == NULL)
		buf_puts(&b, "");
	return buf_detach(&b);
}

static int
parse_stdin(struct db_check *c)
{
	char *in = read_stdin();
	struct err e;
	int rc;

	err_clear(&e);
	rc = db_check_parse(in, c, &e);
	free(in);
	if (rc < 0)
		fprintf(stderr, "db-tool: %s\n", e.msg);
	return rc;
}

int
main(int argc, char **argv)
{
	struct db_check c;
	struct err e;

	if (argc == 2 && strcmp(argv[1], "check-sql") == 0) {
		fputs(db_check_sql(), stdout);
	} else if (argc == 2 && strcmp(argv[1], "drop-sql") == 0) {
		fputs(db_drop_sql(), stdout);
	} else if (argc == 2 && strcmp(argv[1], "parse") == 0) {
		json_object *o;

		if (parse_stdin(&c) < 0)
			return 1;
		o = db_check_json(&c);
		puts(json_object_to_json_string_ext(o, JSON_C_TO_STRING_PRETTY |
		    JSON_C_TO_STRING_NOSLASHESCAPE));
		db_check_print(&c, stderr, "", true);
		json_object_put(o);
		db_check_clear(&c);
	} else if (argc == 3 && strcmp(argv[1], "dump-args") == 0) {
		char **args;

		if (parse_stdin(&c) < 0)
			return 1;
		args = db_dump_args(&c, argv[2]);
		for (char **a = args; *a != NULL; a++)
			puts(*a);
		strv_free(args);
		db_check_clear(&c);
	} else if (argc >= 3 && strcmp(argv[1], "verify") == 0) {
		size_t n = (size_t)argc - 3;
		long long *counts = xcalloc(n + 1, sizeof *counts);

		err_clear(&e);
		if (db_backup_verify(argv[2], argv + 3, counts, &e) < 0) {
			fprintf(stderr, "db-tool: %s\n", e.msg);
			free(counts);
			return 1;
		}
		for (size_t i = 0; i < n; i++)
			printf("%s %lld\n", argv[3 + i], counts[i]);
		free(counts);
	} else {
		fputs("usage: db-tool check-sql | drop-sql | parse | dump-args URL | "
		    "verify FILE TABLE...\n", stderr);
		return 2;
	}
	return fclose(stdout) == 0 ? 0 : 1;
}
