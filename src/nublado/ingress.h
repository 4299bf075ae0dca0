/* ingress.h: the GafaelfawrIngresses that let users reach the hub; blocking and restoring them */
#ifndef NUB_INGRESS_H
#define NUB_INGRESS_H

#include <stdbool.h>
#include <stddef.h>

#include <json-c/json.h>

#include "nub.h"

#define GAF_GROUP "gafaelfawr.lsst.io"
#define GAF_VERSION "v1alpha1"
#define GAF_PLURAL "gafaelfawringresses"
#define GAF_KIND "GafaelfawrIngress"
#define HUB_SERVICE "proxy-public"

struct ingset {
	json_object **items;	/* the users' ways in: to proxy-public, or to lab creation */
	size_t n;
	char **others;		/* names of the ones that are not (left alone) */
};

/* Does this GafaelfawrIngress send any path to Service proxy-public? */
bool ingress_routes_to_hub(json_object *gi);
/*
 * Does it route the controller's lab creation (a path ".../spawner/v1/labs/
 * .../create": upstream's nublado-controller-user)?  Users holding a notebook
 * token reach it though the proxy routes are gone: a lab could appear in the
 * middle of a wipe.  block takes it away too; unblock puts it back.
 */
bool ingress_creates_labs(json_object *gi);

/* List the Nublado namespace's GafaelfawrIngresses and pick the hub's. */
int ingress_find(struct nub *n, struct ingset *set, struct err *e);
void ingset_free(struct ingset *set);

/*
 * Save each manifest (cleaned of server-set fields) to
 * <state dir>/ingresses/<name>.json, mode 0600, before anything is deleted.
 */
int ingress_save(const struct ingset *set, const char *dir, struct err *e);

/* Delete them (server-side dry run with dry_run). */
int ingress_delete(struct nub *n, const struct ingset *set, bool dry_run,
    struct err *e);

/* Wait until the Ingresses Gafaelfawr generated for them are garbage-collected. */
int ingress_wait_generated_gone(struct nub *n, const struct ingset *set,
    long timeout_ms, struct err *e);

/* The names of the hub's GafaelfawrIngresses saved under dir (for --from-backup). */
int ingress_saved(const char *dir, json_object ***items, size_t *n, struct err *e);
/* Create saved manifests that do not exist; *created counts the new ones. */
int ingress_restore(struct nub *n, json_object **items, size_t count, bool dry_run,
    size_t *created, struct err *e);

/* The generated Ingresses that exist now for these names (for verification). */
int ingress_generated_count(struct nub *n, char *const *names, size_t *count,
    struct err *e);

#endif
