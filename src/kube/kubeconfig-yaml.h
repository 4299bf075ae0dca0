/* kubeconfig-yaml.h: typed, located access to a kubeconfig's YAML (private to src/kube) */
#ifndef NUB_KUBECONFIG_YAML_H
#define NUB_KUBECONFIG_YAML_H

#include <stdbool.h>
#include <stddef.h>

#include <libfyaml.h>

#include "../util/err.h"

/* Larger than any sane kubeconfig or certificate bundle; keeps a stray file from eating memory. */
#define KY_MAX_FILE	(16 * 1024 * 1024)

/* One parsed kubeconfig file. */
struct ky_file {
	char *path;		/* as named (on the command line or in KUBECONFIG) */
	char *dir;		/* absolute directory, for relative paths inside it */
	char *text;		/* the file's bytes; the document points into them */
	size_t len;
	struct fy_document *doc;
	struct fy_node *root;	/* NULL for an empty file */
};

/*
 * Read and parse `path'.  Returns 1 when loaded, 0 when the file does not
 * exist and `must_exist' is false, -1 on error (malformed YAML is reported
 * as path:line:column with libfyaml's own message).
 */
int ky_load(const char *path, bool must_exist, struct ky_file **out, struct err *e);
/*
 * Parse YAML text (taken over; NUL-terminated) named `name' in messages, as
 * ky_load does a file: located errors, aliases left unresolved, a mapping or
 * nothing at the top.  For other YAML documents (Phalanx values files).
 */
int ky_parse(const char *name, char *text, size_t len, struct ky_file **out, struct err *e);
void ky_free(struct ky_file *f);

/* A path made absolute against `dir' (returned as a new string); NULL in, NULL out. */
char *ky_resolve_path(const char *dir, const char *path);

/*
 * Set an error located at `at' (a node of f's document, may be NULL):
 * "path:line:col: message".  Always returns -1.
 */
int ky_err(struct err *e, const struct ky_file *f, struct fy_node *at,
    const char *fmt, ...) __attribute__((format(printf, 4, 5)));

/*
 * Field getters.  `map' may be NULL (then every field is absent).  `where'
 * is the dotted path of map for messages ("users[0].user").  They return 0
 * (the field may be absent: NULL/false/unchanged) or -1 with a located error
 * for a wrong type.  `keyp', when not NULL, receives the key node (for
 * locating later errors about the value); NULL when absent.
 */
int ky_str(const struct ky_file *f, struct fy_node *map, const char *where,
    const char *key, char **out, struct fy_node **keyp, struct err *e);
int ky_bool(const struct ky_file *f, struct fy_node *map, const char *where,
    const char *key, bool *out, struct fy_node **keyp, struct err *e);
int ky_strv(const struct ky_file *f, struct fy_node *map, const char *where,
    const char *key, char ***out, struct fy_node **keyp, struct err *e);
int ky_map(const struct ky_file *f, struct fy_node *map, const char *where,
    const char *key, struct fy_node **out, struct fy_node **keyp, struct err *e);
int ky_seq(const struct ky_file *f, struct fy_node *map, const char *where,
    const char *key, struct fy_node **out, struct fy_node **keyp, struct err *e);

/* An item of a sequence, aliases followed; NULL at the end. */
struct fy_node *ky_seq_item(struct fy_node *seq, void **iter);
/* Follow an alias; NULL when it names no anchor.  Non-aliases come back as they are. */
struct fy_node *ky_deref(struct fy_node *n);
/* Whether n is a YAML null (absent value, ~, null). */
bool ky_is_null(struct fy_node *n);
/* "a mapping", "a list", "a string": for "expected X, found Y" messages. */
const char *ky_kind(struct fy_node *n);

#endif
