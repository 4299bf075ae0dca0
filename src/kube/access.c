/* access.c: SelfSubjectAccessReview, one per right, as kubectl auth can-i */
#include <stdlib.h>
#include <string.h>

#include "../util/jsonout.h"
#include "../util/xalloc.h"
#include "access.h"

#define SSAR_PATH "/apis/authorization.k8s.io/v1/selfsubjectaccessreviews"

static json_object *
review(const struct access_need *a)
{
	json_object *o = json_object_new_object(), *spec = json_object_new_object();
	json_object *attr = json_object_new_object();

	json_object_object_add(o, "apiVersion", json_object_new_string("authorization.k8s.io/v1"));
	json_object_object_add(o, "kind", json_object_new_string("SelfSubjectAccessReview"));
	json_object_object_add(attr, "verb", json_object_new_string(a->verb));
	json_object_object_add(attr, "group", json_object_new_string(a->group));
	json_object_object_add(attr, "resource", json_object_new_string(a->resource));
	json_add_str(attr, "subresource", a->subresource);
	json_add_str(attr, "namespace", a->namespace);
	json_object_object_add(spec, "resourceAttributes", attr);
	json_object_object_add(o, "spec", spec);
	return o;
}

int
access_check(struct kube *k, const struct access_need *needs, size_t n, char ***denied,
    struct err *e)
{
	*denied = NULL;
	for (size_t i = 0; i < n; i++) {
		const struct access_need *a = &needs[i];
		json_object *req = review(a), *resp = NULL, *allowed;
		int rc = kube_create(k, SSAR_PATH, req, false, &resp, e);

		json_object_put(req);
		if (rc < 0) {
			strv_free(*denied);
			*denied = NULL;
			return err_prefix(e, "asking the server what this user may do");
		}
		allowed = jpath(resp, "status", "allowed", NULL);
		if (allowed == NULL || !json_object_get_boolean(allowed)) {
			char *what = xasprintf("%s %s%s%s%s%s", a->verb, a->resource,
			    a->subresource ? "/" : "", a->subresource ? a->subresource : "",
			    a->namespace ? " in namespace " : "", a->namespace ? a->namespace : "");

			*denied = strv_push(*denied, what);
			free(what);
		}
		json_object_put(resp);
	}
	return 0;
}
