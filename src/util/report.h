/* report.h: the one shape of every command's -o json / -o yaml output */
#ifndef NUB_REPORT_H
#define NUB_REPORT_H

#include <stdbool.h>

#include <json-c/json.h>

#include "err.h"

/*
 * Every command prints the same envelope (README: "Output for scripts";
 * tests/schema/result.schema.json):
 *
 *   apiVersion: kubectl-nublado/v1
 *   kind: Result
 *   command: wipe-db
 *   context: CONTEXT        (null before the kubeconfig is read)
 *   namespace: nublado      (likewise)
 *   dryRun: false
 *   ok: true
 *   error: null             or {message, hint, exitCode}
 *   result: {...}           the command's own findings
 */
#define REPORT_API_VERSION "kubectl-nublado/v1"

enum report_format { REPORT_NONE, REPORT_JSON, REPORT_YAML };

struct report {
	enum report_format format;
	json_object *root;
	json_object *result;		/* borrowed from root */
};

/* -o's value: NULL, "json" or "yaml" (the option table allows no other). */
enum report_format report_format(const char *output);
void report_init(struct report *r, const char *command, enum report_format f);
void report_where(struct report *r, const char *context, const char *ns);
void report_dry_run(struct report *r, bool dry_run);
/* The result's member `key' (an object), made on first use. */
json_object *report_section(struct report *r, const char *key);
/* Add key = v (taking v's reference) to the result. */
void report_add(struct report *r, const char *key, json_object *v);
/* Add every member of o to the result (o stays the caller's). */
void report_merge(struct report *r, json_object *o);
/* Set ok and error (failed NULL: it did not fail), print, free. */
void report_end(struct report *r, const struct err *failed);
void report_free(struct report *r);
/*
 * Any json_object as -o yaml prints it: block style, plain scalars where
 * every YAML reader reads the same string back, double quotes elsewhere
 * (caller frees; NULL on failure).
 */
char *report_yaml(json_object *o);
int report_print_yaml(json_object *o);

#endif
