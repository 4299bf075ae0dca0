/* test-progress.c: a wait never looks frozen: the line moves without events */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <criterion/criterion.h>

#include "../../src/util/progress.h"

/* stderr into a temporary file for the test's duration. */
static char *
capture_stderr(void (*fn)(void))
{
	char path[] = "/tmp/test-progress-XXXXXX", *text;
	int fd = mkstemp(path), saved = dup(2);
	FILE *f;
	long n;

	cr_assert(fd >= 0);
	fflush(stderr);
	dup2(fd, 2);
	fn();
	fflush(stderr);
	dup2(saved, 2);
	close(saved);
	f = fdopen(fd, "r");
	fseek(f, 0, SEEK_END);
	n = ftell(f);
	rewind(f);
	text = calloc(1, (size_t)n + 1);
	cr_assert_eq(fread(text, 1, (size_t)n, f), (size_t)n);
	fclose(f);
	unlink(path);
	return text;
}

static void
quiet_wait_on_a_terminal(void)
{
	struct progress *p = progress_start("waiting for the hub", 0, "", true);

	/* No event for 2.2 s: the ticker still redraws, the elapsed time moving. */
	usleep(2200 * 1000);
	progress_end(p, "done");
}

Test(progress, redrawn_by_the_timer_without_events, .timeout = 10)
{
	char *out = capture_stderr(quiet_wait_on_a_terminal);

	cr_assert(strstr(out, "waiting for the hub (1s)") != NULL, "%s", out);
	cr_assert(strstr(out, "waiting for the hub (2s)") != NULL, "%s", out);
	cr_assert(strstr(out, "done\n") != NULL, "%s", out);
	free(out);
}

Test(progress, sizes_for_people)
{
	char b[32];

	progress_size(b, sizeof b, 812);
	cr_assert_str_eq(b, "812 B");
	progress_size(b, sizeof b, 12 * 1024 + 300);
	cr_assert_str_eq(b, "12.3 KiB");
	progress_size(b, sizeof b, 5ULL << 30);
	cr_assert_str_eq(b, "5.0 GiB");
}
