/* test-memory.c: nublado-secret's other keys do not linger in freed memory */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <criterion/criterion.h>
#include <openssl/evp.h>

#include "../../src/nublado/dburl.h"
#include "../../src/nublado/nub.h"
#include "e2e.h"

/* Occurrences of needle in this process's heap and anonymous writable mappings. */
static int
count_in_memory(const char *needle, size_t n)
{
	char line[512];
	int count = 0;
	FILE *maps = fopen("/proc/self/maps", "r");

	cr_assert_not_null(maps);
	while (fgets(line, sizeof line, maps) != NULL) {
		unsigned long lo, hi;
		char perms[8], path[256] = "";

		if (sscanf(line, "%lx-%lx %7s %*s %*s %*s %255s", &lo, &hi, perms, path) < 3)
			continue;
		/* The heap, and malloc's other arenas (threads): anonymous, read-write. */
		if (perms[0] != 'r' || perms[1] != 'w' ||
		    (path[0] != '\0' && strcmp(path, "[heap]") != 0))
			continue;
		for (const char *p = (const char *)lo, *end = (const char *)hi;
		    p < end && (p = memmem(p, (size_t)(end - p), needle, n)) != NULL; p += n)
			count++;
	}
	fclose(maps);
	return count;
}

/*
 * Reading the database URL fetches all of nublado-secret: the cookie secret,
 * crypto key and proxy token come along.  Afterwards none of them is in
 * memory we own: at most one copy, in libcurl's own receive buffer, which it
 * frees without zeroing and we cannot reach.
 */
Test(memory, hub_secrets_are_wiped_after_reading_the_url, .timeout = 120)
{
	struct nub_opts o = { 0 };
	char secrets[1024], *save = NULL;
	struct nub *n = NULL;
	struct dburl *u = NULL;
	struct err e;
	struct sim s;
	int found = 0, worst = 0;

	sim_start(&s, NULL);
	snprintf(secrets, sizeof secrets, "%s", sim_get(&s, "SIM_HUB_SECRETS"));
	o.kubeconfig = s.kubeconfig;
	err_clear(&e);
	cr_assert_eq(nub_open(&o, &n, &e), 0, "%s", e.msg);
	cr_assert_eq(dburl_from_cluster(n, &u, &e), 0, "%s", e.msg);
	dburl_free(u);
	nub_close(n);
	for (char *tok = strtok_r(secrets, " ", &save); tok != NULL;
	    tok = strtok_r(NULL, " ", &save)) {
		/* Looked for as the API sends it: base64, the first 32 characters. */
		unsigned char b64[256];
		int c;

		EVP_EncodeBlock(b64, (const unsigned char *)tok, (int)strlen(tok));
		c = count_in_memory((const char *)b64, 32);
		/* Our own b64[] is on the stack, not counted. */
		worst = c > worst ? c : worst;
		found++;
		explicit_bzero(tok, strlen(tok));
	}
	cr_assert_eq(found, 3, "SIM_HUB_SECRETS: %d values", found);
	cr_assert_leq(worst, 1, "a hub secret is still in memory %d times", worst);
	sim_stop(&s);
}
