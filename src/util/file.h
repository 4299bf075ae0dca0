/* file.h: whole files: read one, write one atomically, make a directory path */
#ifndef NUB_FILE_H
#define NUB_FILE_H

#include <stddef.h>

#include "err.h"

/*
 * Read a whole file, at most `cap' bytes, NUL-terminated (*len excludes the
 * NUL; an empty file gives "").  Returns 0, or -1 with errno set (EISDIR for
 * a directory, EFBIG when larger than cap) and, when e is not NULL, the
 * message "cannot open 'PATH': ..." or "cannot read 'PATH': ...".  Callers
 * with a message of their own pass e = NULL and read errno.  Caller frees.
 */
int file_read(const char *path, size_t cap, char **data, size_t *len, struct err *e);
/*
 * Write a whole file, mode 0600, atomically: to "PATH.tmp" made with
 * O_EXCL|O_NOFOLLOW (a planted symlink is never followed), fsync'd, then
 * renamed over PATH.  A crash leaves the old file, never half a new one.
 */
int file_write_atomic(const char *path, const char *data, size_t len, struct err *e);
/* mkdir -p with mode 0700 for what it creates. */
int mkdir_p(const char *path, struct err *e);

#endif
