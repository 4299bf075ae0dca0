/* test-backup.c: the psql-only backup: the order tables load in, the script, the check of its file */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <criterion/criterion.h>

#include "../../src/nublado/backup-sql.h"
#include "../../src/nublado/db.h"
#include "../../src/util/xalloc.h"

/* JupyterHub 5's foreign keys (psql -A -t of backup_fk_sql against its schema). */
static const char jh5_edges[] =
	"api_tokens|oauth_clients\napi_tokens|services\napi_tokens|users\n"
	"group_role_map|groups\ngroup_role_map|roles\noauth_codes|oauth_clients\n"
	"oauth_codes|users\nservice_role_map|roles\nservice_role_map|services\n"
	"services|oauth_clients\nservices|servers\nshare_codes|spawners\nshare_codes|users\n"
	"shares|groups\nshares|spawners\nshares|users\nspawners|oauth_clients\n"
	"spawners|servers\nspawners|users\nuser_group_map|groups\nuser_group_map|users\n"
	"user_role_map|roles\nuser_role_map|users\n";

static size_t
pos(char **v, const char *name)
{
	for (size_t i = 0; v[i] != NULL; i++)
		if (strcmp(v[i], name) == 0)
			return i;
	cr_assert_fail("%s not in the order", name);
	return 0;
}

Test(backup, tables_load_after_the_tables_they_reference)
{
	char *tables[] = { "users", "spawners", "servers", "groups", "user_group_map", "roles",
		"user_role_map", "group_role_map", "service_role_map", "services", "api_tokens",
		"oauth_clients", "oauth_codes", "shares", "share_codes", "alembic_version", NULL };
	char **o = backup_order(tables, jh5_edges);

	cr_assert_eq(strv_len(o), strv_len(tables));
	for (const char *p = jh5_edges; *p != '\0';) {
		char child[64], parent[64];

		cr_assert_eq(sscanf(p, "%63[^|]|%63[^\n]", child, parent), 2);
		cr_assert_lt(pos(o, parent), pos(o, child), "%s before %s", child, parent);
		p = strchr(p, '\n') + 1;
	}
	strv_free(o);
}

Test(backup, cycles_and_self_references_keep_every_table)
{
	char *tables[] = { "a", "b", "c", NULL };
	char **o = backup_order(tables, "a|b\nb|a\nc|c\n");

	cr_assert_eq(strv_len(o), 3);
	strv_free(o);
	o = backup_order((char *[]){ NULL }, "");
	cr_assert_null(o[0]);
	strv_free(o);
}

Test(backup, script_reads_one_snapshot_and_writes_a_replayable_file)
{
	char *s = backup_psql_script("public", (char *[]){ "users", "spawners", NULL }, 1);

	/* One REPEATABLE READ READ ONLY transaction around every read. */
	cr_assert_eq(strncmp(s, "BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY;\n", 49), 0, "%s", s);
	cr_assert(strstr(s, "\nCOMMIT;\n\\qecho '--'\n\\qecho '" BACKUP_PSQL_TRAILER "'") != NULL);
	/* The file: its own transaction, the revision guard, the tables emptied then loaded. */
	cr_assert(strstr(s, "\\qecho '\\\\set ON_ERROR_STOP on'") != NULL, "%s", s);
	cr_assert(strstr(s, "RAISE EXCEPTION 'kubectl-nublado: this backup is of JupyterHub schema "
	    "revision") != NULL);
	cr_assert(strstr(s, "\\qecho 'TRUNCATE TABLE \"public\".\"users\", \"public\".\"spawners\";'")
	    != NULL, "%s", s);
	cr_assert(strstr(s, "COPY \"public\".\"users\" TO STDOUT;\n\\qecho '\\\\.'\n") != NULL);
	cr_assert_lt(strstr(s, "COPY \"public\".\"users\" TO"), strstr(s, "COPY \"public\".\"spawners\" TO"));
	cr_assert(strstr(s, "pg_catalog.setval") != NULL);
	free(s);
	/* Without alembic_version: no guard. */
	s = backup_psql_script("public", (char *[]){ "users", NULL }, 0);
	cr_assert_null(strstr(s, "RAISE EXCEPTION"));
	free(s);
}

static char *
write_tmp(const char *text)
{
	char *path = xstrdup("/tmp/test-backup-XXXXXX");
	int fd = mkstemp(path);

	cr_assert(fd >= 0);
	cr_assert_eq(write(fd, text, strlen(text)), (ssize_t)strlen(text));
	close(fd);
	return path;
}

#define PSQL_FILE_HEAD BACKUP_PSQL_HEADER "\n-- PostgreSQL 16.4, database nublado\n--\n" \
	"\\set ON_ERROR_STOP on\nBEGIN;\nTRUNCATE TABLE \"public\".\"users\", \"public\".\"spawners\";\n" \
	"COPY \"public\".\"users\" (id, name) FROM stdin;\n1\talice\n2\tbob\n\\.\n"

Test(backup, verify_accepts_a_complete_psql_backup_only)
{
	char *const tables[] = { "users", "spawners", NULL };
	long long counts[2] = { -1, -1 };
	struct err e;
	char *p;

	p = write_tmp(PSQL_FILE_HEAD "COPY \"public\".\"spawners\" (id) FROM stdin;\n7\n\\.\n"
	    "SELECT pg_catalog.setval('public.users_id_seq', 2, true);\nCOMMIT;\n--\n"
	    BACKUP_PSQL_TRAILER "\n--\n");
	err_clear(&e);
	cr_assert_eq(db_backup_verify(p, tables, counts, &e), 0, "%s", e.msg);
	cr_assert_eq(counts[0], 2);
	cr_assert_eq(counts[1], 1);
	unlink(p);
	free(p);

	/* Cut before its end: no trailer. */
	p = write_tmp(PSQL_FILE_HEAD "COPY \"public\".\"spawners\" (id) FROM stdin;\n7\n\\.\n");
	cr_assert_eq(db_backup_verify(p, tables, counts, &e), -1);
	cr_assert(strstr(e.msg, "incomplete") != NULL, "%s", e.msg);
	unlink(p);
	free(p);

	/* A table missing: refused by name. */
	p = write_tmp(PSQL_FILE_HEAD "COMMIT;\n" BACKUP_PSQL_TRAILER "\n");
	cr_assert_eq(db_backup_verify(p, tables, counts, &e), -1);
	cr_assert(strstr(e.msg, "spawners") != NULL, "%s", e.msg);
	unlink(p);
	free(p);

	/* pg_dump's trailer does not end a psql backup. */
	p = write_tmp(PSQL_FILE_HEAD "COPY \"public\".\"spawners\" (id) FROM stdin;\n\\.\n"
	    "-- PostgreSQL database dump complete\n");
	cr_assert_eq(db_backup_verify(p, tables, counts, &e), -1);
	unlink(p);
	free(p);
}
