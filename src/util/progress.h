/* progress.h: progress on long waits: a bar on a terminal, plain lines otherwise */
#ifndef NUB_PROGRESS_H
#define NUB_PROGRESS_H

#include <stdbool.h>
#include <stddef.h>

struct progress;

/* `what' names the unit ("namespaces gone"); total 0 = unknown (a spinner line). */
struct progress *progress_start(const char *label, size_t total, const char *what,
    bool tty);
/* Update; redraws at most ~10 times a second (plain lines every ~5 s or 25%). */
void progress_set(struct progress *p, size_t done, const char *note);
/* "812 B", "12.3 KiB", "4.0 MiB", "1.2 GiB": sizes for people. */
void progress_size(char *buf, size_t n, unsigned long long bytes);
/* Finish with a last line (may be NULL) and free. */
void progress_end(struct progress *p, const char *final);

#endif
