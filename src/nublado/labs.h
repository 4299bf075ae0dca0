/* labs.h: which namespaces are user labs, deleting them, waiting until they are gone */
#ifndef NUB_LABS_H
#define NUB_LABS_H

#include <stdbool.h>
#include <stddef.h>

#include <json-c/json.h>

#include "nub.h"

#define LAB_CATEGORY_LABEL "nublado.lsst.io/category"
#define LAB_USER_LABEL "nublado.lsst.io/user"

struct lab {
	char *name;
	char *user;		/* the user label, or NULL */
	bool terminating;	/* already being deleted */
	char *created;		/* metadata.creationTimestamp (RFC 3339), or NULL */
	char *phase;		/* status.phase: Active, Terminating */
};

struct lab_skip {
	char *name;
	char *why;		/* "no label nublado.lsst.io/category=lab", ... */
};

struct labset {
	char *prefix;		/* from the controller's ConfigMap, default "nublado" */
	struct lab *labs;
	size_t n;
	struct lab_skip *skipped;
	size_t nskipped;
	char *rv;		/* the list's resourceVersion: the wait watches from it */
};

/* lab.namespacePrefix from ConfigMap nublado-controller-config (default "nublado"). */
int labs_prefix(struct nub *n, char **prefix, struct err *e);

/*
 * The rule: a lab is a namespace named "<prefix>-*" AND labelled
 * nublado.lsst.io/category=lab, never the Nublado namespace itself.  A
 * namespace that matches one half only is recorded as skipped.  With
 * `user', only that user's lab (and skips that concern the user).
 * Pure function over one namespace object, for tests: returns 1 lab, 0 not
 * related, -1 skipped with *why set (static string).
 */
int labs_classify(json_object *ns, const char *prefix, const char *nublado_ns,
    const char *user, const char **why);

/* List every namespace (paginated) and sort them into labs and skips. */
int labs_select(struct nub *n, const char *user, struct labset *set, struct err *e);
void labset_free(struct labset *set);

/*
 * Delete the labs, at most `parallel' at once.  A lab already gone counts as
 * done.  With dry_run the server checks each delete and nothing changes.
 * Returns -1 if any delete failed (the message names the first; the others
 * are logged).  `deleted' counts the DELETEs the server accepted.
 */
int labs_delete(struct nub *n, const struct labset *set, int parallel,
    bool dry_run, bool tty, size_t *deleted, struct err *e);

/*
 * Wait until none of the labs exists (404 or a DELETED event), watching
 * the lab-labelled namespaces rather than polling each.  On timeout, the
 * error lists the stuck ones with their finalizers and conditions.
 */
int labs_wait_gone(struct nub *n, const struct labset *set, long timeout_ms,
    bool tty, struct err *e);

/* The labs as JSON ({"prefix":..,"labs":[..],"skipped":[..]}). */
json_object *labset_json(const struct labset *set);

#endif
