/* test-url.c: escaping of paths, label and field selectors */
#include <stdlib.h>

#include <criterion/criterion.h>

#include "../../src/kube/client.h"
#include "../../src/kube/url.h"

Test(url, unreserved_stay)
{
	char *s = kube_escape("nublado-user_1.x~");

	cr_assert_str_eq(s, "nublado-user_1.x~");
	free(s);
}

Test(url, label_selector_encoded)
{
	struct buf q = BUF_INIT;

	kube_query_add(&q, "labelSelector", "app=jupyterhub,component in (hub, x)");
	kube_query_add(&q, "fieldSelector", "metadata.name=nublado-foo");
	cr_assert_str_eq(q.data, "labelSelector=app%3Djupyterhub%2Ccomponent%20in%20%28hub%2C%20x%29"
	    "&fieldSelector=metadata.name%3Dnublado-foo");
	buf_free(&q);
}

Test(url, path_segments_escaped)
{
	char *p = kube_path("/api/v1/namespaces/%s/pods/%s/exec", "nublado", "a/b c");

	cr_assert_str_eq(p, "/api/v1/namespaces/nublado/pods/a%2Fb%20c/exec");
	free(p);
}

Test(url, utf8_and_reserved)
{
	char *s = kube_escape("é&?#%+");

	cr_assert_str_eq(s, "%C3%A9%26%3F%23%25%2B");
	free(s);
}

Test(url, continue_token)
{
	struct buf q = BUF_INIT;

	kube_query_add(&q, "limit", "500");
	kube_query_add(&q, "continue", "eyJ2IjoibWV0YS5rOHMuaW8vdjEiLCJydiI6MTIzfQ==");
	cr_assert_str_eq(q.data, "limit=500&continue=eyJ2IjoibWV0YS5rOHMuaW8vdjEiLCJydiI6MTIzfQ%3D%3D");
	buf_free(&q);
}

/* client-go's headerKeyEscape for Impersonate-Extra-<key> */
Test(url, impersonate_extra_key_escape)
{
	char *k = kube_header_key_escape("example.org/team 100%~!");

	cr_assert_str_eq(k, "example.org%2Fteam%20100%25~!");
	free(k);
	k = kube_header_key_escape("scopes");
	cr_assert_str_eq(k, "scopes");
	free(k);
	k = kube_header_key_escape("\xc3\xa9:");
	cr_assert_str_eq(k, "%C3%A9%3A");
	free(k);
}
