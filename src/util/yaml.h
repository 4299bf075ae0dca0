/* yaml.h: typed, located access to a YAML document (kubeconfig, Phalanx values) */
#ifndef NUB_YAML_H
#define NUB_YAML_H

#include <stdbool.h>
#include <stddef.h>

#include <libfyaml.h>

#include "err.h"

/* One parsed YAML document. */
struct yaml_file {
	char *path;		/* its name in messages: as named on the command line, or a source */
	char *dir;		/* read from a file: its absolute directory, for relative paths
				 * inside it (set by the loader, freed by yaml_free); else NULL */
	char *text;		/* the file's bytes; the document points into them */
	size_t len;
	struct fy_document *doc;
	struct fy_node *root;	/* NULL for an empty file */
};

/*
 * Parse YAML text (taken over; NUL-terminated) named `name' in messages:
 * located errors (path:line:column with libfyaml's own message), aliases
 * left unresolved, a mapping or nothing at the top.  0, or -1 with e set.
 */
int yaml_parse(const char *name, char *text, size_t len, struct yaml_file **out, struct err *e);
void yaml_free(struct yaml_file *f);

/*
 * Set an error located at `at' (a node of f's document, may be NULL):
 * "path:line:col: message".  Always returns -1.
 */
int yaml_err(struct err *e, const struct yaml_file *f, struct fy_node *at,
    const char *fmt, ...) __attribute__((format(printf, 4, 5)));

/*
 * Field getters.  `map' may be NULL (then every field is absent).  `where'
 * is the dotted path of map for messages ("users[0].user").  They return 0
 * (the field may be absent: NULL/false/unchanged) or -1 with a located error
 * for a wrong type.  `keyp', when not NULL, receives the key node (for
 * locating later errors about the value); NULL when absent.
 */
int yaml_str(const struct yaml_file *f, struct fy_node *map, const char *where,
    const char *key, char **out, struct fy_node **keyp, struct err *e);
int yaml_bool(const struct yaml_file *f, struct fy_node *map, const char *where,
    const char *key, bool *out, struct fy_node **keyp, struct err *e);
int yaml_strv(const struct yaml_file *f, struct fy_node *map, const char *where,
    const char *key, char ***out, struct fy_node **keyp, struct err *e);
int yaml_map(const struct yaml_file *f, struct fy_node *map, const char *where,
    const char *key, struct fy_node **out, struct fy_node **keyp, struct err *e);
int yaml_seq(const struct yaml_file *f, struct fy_node *map, const char *where,
    const char *key, struct fy_node **out, struct fy_node **keyp, struct err *e);

/* An item of a sequence, aliases followed; NULL at the end. */
struct fy_node *yaml_seq_item(struct fy_node *seq, void **iter);
/* Follow an alias; NULL when it names no anchor.  Non-aliases come back as they are. */
struct fy_node *yaml_deref(struct fy_node *n);
/* Whether n is a YAML null (absent value, ~, null). */
bool yaml_is_null(struct fy_node *n);
/* "a mapping", "a list", "a string": for "expected X, found Y" messages. */
const char *yaml_kind(struct fy_node *n);

#endif
