/* access.h: "kubectl auth can-i" through SelfSubjectAccessReview */
#ifndef NUB_ACCESS_H
#define NUB_ACCESS_H

#include <stdbool.h>

#include "client.h"

/* One right a command needs: verb on group/resource[/subresource] in namespace (NULL: cluster). */
struct access_need {
	const char *verb;
	const char *group;		/* "" for the core group */
	const char *resource;
	const char *subresource;	/* or NULL */
	const char *namespace;		/* or NULL */
};

/*
 * Ask the server whether the user may do each of `needs' (a
 * SelfSubjectAccessReview each, as `kubectl auth can-i' does).  *denied gets
 * the ones refused, as "verb resource[/sub] (in namespace NS)" (strv, NULL
 * when none).  0 when the server answered; -1 with e when it could not say
 * (no such API, or not allowed to ask): then nothing is known.
 */
int access_check(struct kube *k, const struct access_need *needs, size_t n, char ***denied,
    struct err *e);

#endif
