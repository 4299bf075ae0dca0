/*
 * fuzz-backup.c: a backup file as the hub pod's pg_dump (or a hostile pod)
 * may write it, through the check that stands between it and the drop
 * (db_backup_verify).  Besides the sanitizers: a file passes only with pg_dump's
 * header and completion line and a COPY block per table, and the row counts
 * never exceed the file's lines.
 */
#include <stdint.h>

#include "../../src/nublado/backup-sql.h"
#include "../../src/nublado/db.h"
#include "fuzz.h"

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static char *const tables[] = { "users", "spawners", NULL };
	long long counts[2] = { -1, -1 };
	char path[256];
	size_t lines = 0;
	struct err e;
	int rc;

	snprintf(path, sizeof path, "%s/backup.sql", fuzz_dir());
	fuzz_write(path, data, size);
	err_clear(&e);
	rc = db_backup_verify(path, tables, counts, &e);
	FUZZ_CHECK(rc == 0 || rc == -1, "result %d", rc);
	if (rc < 0) {
		FUZZ_CHECK(e.msg[0] != '\0', "refused without a message");
		return 0;
	}
	for (size_t i = 0; i < size; i++)
		lines += data[i] == '\n';
	/* pg_dump's file, or the psql backup's: its own header and trailer. */
	if (size >= strlen(BACKUP_PSQL_HEADER) &&
	    memcmp(data, BACKUP_PSQL_HEADER, strlen(BACKUP_PSQL_HEADER)) == 0) {
		FUZZ_CHECK(memmem(data, size, "\n" BACKUP_PSQL_TRAILER,
		    strlen(BACKUP_PSQL_TRAILER) + 1) != NULL, "a psql backup without its trailer");
	} else {
		FUZZ_CHECK(size >= 31 && memcmp(data, "--\n-- PostgreSQL database dump\n", 31) == 0,
		    "accepted without pg_dump's header");
		FUZZ_CHECK(memmem(data, size, "\n-- PostgreSQL database dump complete", 37) != NULL,
		    "accepted without the completion line");
	}
	FUZZ_CHECK((memmem(data, size, "COPY public.users", 17) != NULL ||
	    memmem(data, size, "COPY \"public\".\"users\"", 21) != NULL) &&
	    (memmem(data, size, "COPY public.spawners", 20) != NULL ||
	    memmem(data, size, "COPY \"public\".\"spawners\"", 24) != NULL),
	    "accepted without COPY blocks");
	FUZZ_CHECK(counts[0] >= 0 && counts[1] >= 0 && (size_t)(counts[0] + counts[1]) <= lines,
	    "counts %lld + %lld for %zu lines", counts[0], counts[1], lines);
	return 0;
}
