/* fuzz.h: what the libFuzzer harnesses share (files in a private directory in /dev/shm) */
#ifndef NUB_FUZZ_H
#define NUB_FUZZ_H

#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

/* A property broke: say which and abort, so libFuzzer keeps the input. */
#define FUZZ_CHECK(cond, ...) do {					\
	if (!(cond)) {							\
		fprintf(stderr, "fuzz: property violated: %s: ", #cond);\
		fprintf(stderr, __VA_ARGS__);				\
		fputc('\n', stderr);					\
		abort();						\
	}								\
} while (0)

static char fuzz_dir_path[128];

static inline int
fuzz_rm(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
	(void)st;
	(void)flag;
	(void)ftw;
	remove(path);
	return 0;
}

/* At exit: the scratch directory goes (a crash leaves it, with the input's files). */
static inline void
fuzz_dir_remove(void)
{
	if (fuzz_dir_path[0] != '\0')
		nftw(fuzz_dir_path, fuzz_rm, 8, FTW_DEPTH | FTW_PHYS);
}

/* This process's scratch directory (/dev/shm when there is one), made once. */
static inline const char *
fuzz_dir(void)
{
	const char *base;

	if (fuzz_dir_path[0] != '\0')
		return fuzz_dir_path;
	base = access("/dev/shm", W_OK) == 0 ? "/dev/shm" : "/tmp";
	snprintf(fuzz_dir_path, sizeof fuzz_dir_path, "%s/nublado-fuzz-%ld", base,
	    (long)getpid());
	if (mkdir(fuzz_dir_path, 0700) < 0 && errno != EEXIST) {
		perror(fuzz_dir_path);
		abort();
	}
	atexit(fuzz_dir_remove);
	return fuzz_dir_path;
}

/* Write n bytes to path (replacing it); aborts on failure: the harness is broken, not the code. */
static inline void
fuzz_write(const char *path, const void *p, size_t n)
{
	int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
	const char *c = p;

	if (fd < 0) {
		perror(path);
		abort();
	}
	while (n > 0) {
		ssize_t w = write(fd, c, n);

		if (w <= 0) {
			perror(path);
			abort();
		}
		c += w;
		n -= (size_t)w;
	}
	close(fd);
}

/* The input as a C string (a NUL inside ends it); caller frees. */
static inline char *
fuzz_str(const unsigned char *data, size_t size)
{
	char *s = malloc(size + 1);

	if (s == NULL)
		abort();
	memcpy(s, data, size);
	s[size] = '\0';
	return s;
}

/*
 * Split the input at NUL bytes into at most `max' parts (the last keeps any
 * further NULs).  Returns how many; parts point into data.
 */
static inline size_t
fuzz_split(const unsigned char *data, size_t size, size_t max,
    const unsigned char **part, size_t *len)
{
	size_t n = 0;

	while (n + 1 < max) {
		const unsigned char *z = memchr(data, '\0', size);

		if (z == NULL)
			break;
		part[n] = data;
		len[n++] = (size_t)(z - data);
		size -= (size_t)(z - data) + 1;
		data = z + 1;
	}
	part[n] = data;
	len[n++] = size;
	return n;
}

#endif
