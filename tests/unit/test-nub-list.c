/* test-nub-list.c: the names completion offers, read as the command line selects them */
#include <stdlib.h>
#include <string.h>

#include <criterion/criterion.h>

#include "../../src/nublado/nub-list.h"
#include "../../src/util/xalloc.h"

/* tests/unit/fixtures/kubeconfig/<rel>, found beside this file (make runs from the top). */
static char *
fixture(const char *rel)
{
	const char *f = __FILE__, *slash = strrchr(f, '/');

	if (slash == NULL)
		return xasprintf("fixtures/kubeconfig/%s", rel);
	return xasprintf("%.*s/fixtures/kubeconfig/%s", (int)(slash - f), f, rel);
}

static bool
has(char **v, const char *s)
{
	for (; v != NULL && *v != NULL; v++)
		if (strcmp(*v, s) == 0)
			return true;
	return false;
}

Test(nub_list, contexts_and_entries_of_the_named_kubeconfig)
{
	char *path = fixture("basic.yaml"), **names, *current;
	struct nub_opts o = { .kubeconfig = path };
	struct err e;

	err_clear(&e);
	cr_assert_eq(nub_list_contexts(&o, &names, &current, &e), 0, "%s", e.msg);
	cr_assert(has(names, "prod") && has(names, "dev") && has(names, "anonymous"));
	cr_assert_str_eq(current, "prod");
	strv_free(names);
	free(current);

	cr_assert_eq(nub_list_entries(&o, false, &names, &e), 0, "%s", e.msg);
	cr_assert(has(names, "prod-cluster") && has(names, "dev-cluster"));
	strv_free(names);
	cr_assert_eq(nub_list_entries(&o, true, &names, &e), 0, "%s", e.msg);
	cr_assert(has(names, "prod-admin") && !has(names, "prod-cluster"));
	strv_free(names);
	free(path);
}

Test(nub_list, the_selected_context)
{
	char *path = fixture("basic.yaml"), *ctx;
	struct nub_opts o = { .kubeconfig = path };

	ctx = nub_list_context(&o);
	cr_assert_str_eq(ctx, "prod", "the current context");
	free(ctx);
	o.context = "dev";
	ctx = nub_list_context(&o);
	cr_assert_str_eq(ctx, "dev", "--context wins");
	free(ctx);
	free(path);
}
