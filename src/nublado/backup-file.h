/* backup-file.h: a backup taken by wipe-db, read back for restore-db */
#ifndef NUB_BACKUP_FILE_H
#define NUB_BACKUP_FILE_H

#include <stddef.h>

#include "../util/err.h"
#include "db.h"

struct backup_table {
	char *name;		/* "users" */
	char *copy_line;	/* "COPY public.users (id, name, ...) FROM stdin;" as written */
	const char *data;	/* its rows in COPY text, into backup_file.text */
	size_t data_len;
	long long rows;
};

struct backup_file {
	char *path;
	char *text;		/* the whole file */
	size_t len;
	enum db_backup_kind kind;
	struct backup_table *tables;	/* in the file's order */
	size_t n_tables;
	char *revision;		/* alembic_version's rows, sorted, ','-joined; NULL if none */
	char **setvals;		/* its "SELECT pg_catalog.setval(...);" lines (strv) */
};

/*
 * Read and check a backup (complete, as before any drop: db_backup_verify),
 * its kind, tables, rows, alembic revision and sequence values.  A file that
 * is not one of ours is an error saying so.  Free with backup_file_clear.
 */
int backup_file_load(const char *path, struct backup_file *out, struct err *e);
void backup_file_clear(struct backup_file *b);
long long backup_file_rows(const struct backup_file *b);

/*
 * The script that puts the rows back into the schema a JupyterHub of the
 * same revision made, in one transaction: the hub's other sessions cut, the
 * tables locked (the hub is kept off them until the commit), the revision
 * checked, the tables emptied and loaded in `ordered' order (parents first),
 * the sequences set, and every table's count checked against the backup's
 * before COMMIT.  For psql -f -.  Caller frees.
 */
char *backup_file_restore_script(const struct backup_file *b, char *const *ordered);

/*
 * A script that prints every backed-up table's rows as they now are
 * (psql -A -t), each after a marker line, for backup_file_compare.
 */
char *backup_file_dump_script(const struct backup_file *b);
/*
 * Whether `output' of that script holds exactly the backup's rows, table by
 * table (as multisets of COPY lines).  0 when equal; -1 with e naming the
 * first table that differs and how.
 */
int backup_file_compare(const struct backup_file *b, const char *output, struct err *e);

#endif
