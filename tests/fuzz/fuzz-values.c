/*
 * fuzz-values.c: the database URL from Phalanx values files (dburl_from_phalanx,
 * dburl_list_envs).  Input: VALUES_ENV [NUL VALUES_BASE]: the first part is
 * applications/nublado/values-x.yaml, the second (when there is one)
 * values.yaml beside it.  An input whose length is a multiple of 7 asks for
 * an environment that has no file (the error lists the environments).
 */
#include <stdint.h>

#include "../../src/nublado/dburl.h"
#include "../../src/util/xalloc.h"
#include "fuzz.h"

static char top[256], envfile[300], basefile[300];

int
LLVMFuzzerInitialize(int *argc, char ***argv)
{
	char p[300];

	(void)argc;
	(void)argv;
	snprintf(top, sizeof top, "%s/phalanx", fuzz_dir());
	mkdir(top, 0700);
	snprintf(p, sizeof p, "%s/applications", top);
	mkdir(p, 0700);
	snprintf(p, sizeof p, "%s/applications/nublado", top);
	mkdir(p, 0700);
	snprintf(envfile, sizeof envfile, "%s/values-x.yaml", p);
	snprintf(basefile, sizeof basefile, "%s/values.yaml", p);
	return 0;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const unsigned char *part[2];
	size_t len[2];
	struct dburl *u = NULL;
	struct err e;
	char **envs;

	if (fuzz_split(data, size, 2, part, len) == 2)
		fuzz_write(basefile, part[1], len[1]);
	else
		unlink(basefile);
	fuzz_write(envfile, part[0], len[0]);

	err_clear(&e);
	if (dburl_from_phalanx(top, size % 7 == 0 ? "y" : "x", &u, &e) == 0) {
		FUZZ_CHECK(u != NULL && u->url != NULL, "no URL");
		FUZZ_CHECK(u->file != NULL && u->key != NULL && u->source != NULL,
		    "no source");
		FUZZ_CHECK(strncmp(u->url, "postgres", 8) == 0, "url '%s'", u->url);
		free(dburl_normalised_from(u));
		dburl_free(u);
	} else {
		FUZZ_CHECK(u == NULL, "failed but set a URL");
		FUZZ_CHECK(e.msg[0] != '\0', "failed without a message");
	}

	err_clear(&e);
	if (dburl_list_envs(top, &envs, &e) == 0)
		strv_free(envs);
	return 0;
}
