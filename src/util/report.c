/* report.c: the -o json / -o yaml envelope, printed once at the end */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <libfyaml.h>

#include "jsonout.h"
#include "xalloc.h"
#include "report.h"

enum report_format
report_format(const char *output)
{
	if (output == NULL)
		return REPORT_NONE;
	return strcmp(output, "yaml") == 0 ? REPORT_YAML : REPORT_JSON;
}

void
report_init(struct report *r, const char *command, enum report_format f)
{
	r->format = f;
	r->root = json_object_new_object();
	r->result = json_object_new_object();
	json_object_object_add(r->root, "apiVersion", json_object_new_string(REPORT_API_VERSION));
	json_object_object_add(r->root, "kind", json_object_new_string("Result"));
	json_object_object_add(r->root, "command", json_object_new_string(command));
	json_object_object_add(r->root, "context", NULL);
	json_object_object_add(r->root, "namespace", NULL);
	json_object_object_add(r->root, "dryRun", json_object_new_boolean(false));
	json_object_object_add(r->root, "ok", json_object_new_boolean(false));
	json_object_object_add(r->root, "error", NULL);
	json_object_object_add(r->root, "result", r->result);
}

void
report_where(struct report *r, const char *context, const char *ns)
{
	json_object_object_add(r->root, "context", json_str_or_null(context));
	json_object_object_add(r->root, "namespace", json_str_or_null(ns));
}

void
report_dry_run(struct report *r, bool dry_run)
{
	json_object_object_add(r->root, "dryRun", json_object_new_boolean(dry_run));
}

json_object *
report_section(struct report *r, const char *key)
{
	json_object *o;

	if (!json_object_object_get_ex(r->result, key, &o) || o == NULL) {
		o = json_object_new_object();
		json_object_object_add(r->result, key, o);
	}
	return o;
}

void
report_add(struct report *r, const char *key, json_object *v)
{
	json_object_object_add(r->result, key, v);
}

void
report_merge(struct report *r, json_object *o)
{
	json_object_object_foreach(o, k, v)
		json_object_object_add(r->result, k, json_object_get(v));
}

/*
 * May s be a plain YAML scalar, read back as the same string by any YAML
 * reader (1.1's yes/no/on/off and timestamps too)?  Otherwise it is double
 * quoted, as kubectl quotes "2026-11-29T06:56:22Z" and "5432".
 */
static bool
plain_ok(const char *s)
{
	static const char *const words[] = { "true", "false", "yes", "no", "on", "off", "y",
	    "n", "null", NULL };

	/* A letter, '_' or '/' first: no indicator, number or space can start it. */
	if (!((*s >= 'a' && *s <= 'z') || (*s >= 'A' && *s <= 'Z') || *s == '_' || *s == '/') ||
	    strlen(s) > 200)
		return false;
	for (int i = 0; words[i] != NULL; i++)
		if (strcasecmp(s, words[i]) == 0)
			return false;
	for (const char *p = s; *p != '\0'; p++) {
		unsigned char c = (unsigned char)*p;

		if (!(c >= 'a' && c <= 'z') && !(c >= 'A' && c <= 'Z') && !(c >= '0' && c <= '9') &&
		    strchr(" _./:@+=,()-", c) == NULL)
			return false;
	}
	return strstr(s, ": ") == NULL && s[strlen(s) - 1] != ':' && s[strlen(s) - 1] != ' ';
}

/* A string as a scalar of d: plain when plain_ok, else double-quoted. */
static struct fy_node *
string_node(struct fy_document *d, const char *s)
{
	struct fy_node *n;
	json_object *j;
	const char *q;

	if (plain_ok(s))
		return fy_node_create_scalar_copy(d, s, strlen(s));
	/* A JSON string literal is a YAML double-quoted scalar. */
	j = json_object_new_string(s);
	q = json_object_to_json_string_ext(j, JSON_C_TO_STRING_NOSLASHESCAPE);
	/* The node points into its source: the document must own a copy. */
	n = fy_node_build_from_malloc_string(d, xstrdup(q), strlen(q));
	json_object_put(j);
	return n;
}

/* A JSON value as a libfyaml node of d. */
static struct fy_node *
to_node(struct fy_document *d, json_object *o)
{
	struct fy_node *n;
	const char *t;

	switch (json_object_get_type(o)) {
	case json_type_object:
		n = fy_node_create_mapping(d);
		json_object_object_foreach(o, k, v)
			fy_node_mapping_append(n, string_node(d, k), to_node(d, v));
		return n;
	case json_type_array:
		n = fy_node_create_sequence(d);
		for (size_t i = 0; i < json_object_array_length(o); i++)
			fy_node_sequence_append(n, to_node(d, json_object_array_get_idx(o, i)));
		return n;
	case json_type_string:
		return string_node(d, json_object_get_string(o));
	default:
		/* Numbers, booleans and null as JSON spells them: YAML reads them the same. */
		t = o == NULL ? "null" : json_object_to_json_string(o);
		return fy_node_create_scalar_copy(d, t, strlen(t));
	}
}

char *
report_yaml(json_object *o)
{
	struct fy_document *d = fy_document_create(NULL);
	char *out;

	if (d == NULL)
		return NULL;
	fy_document_set_root(d, to_node(d, o));
	out = fy_emit_document_to_string(d, FYECF_MODE_BLOCK | FYECF_INDENT_2 |
	    FYECF_WIDTH_INF | FYECF_NO_ENDING_NEWLINE);
	fy_document_destroy(d);
	return out;
}

int
report_print_yaml(json_object *o)
{
	char *out = report_yaml(o);

	if (out == NULL)
		return -1;
	fputs(out, stdout);
	if (*out != '\0' && out[strlen(out) - 1] != '\n')
		fputc('\n', stdout);
	free(out);
	fflush(stdout);
	return 0;
}

void
report_end(struct report *r, const struct err *failed)
{
	json_object *err = NULL;

	if (r->root == NULL)
		return;
	if (failed != NULL) {
		err = json_object_new_object();
		json_object_object_add(err, "message", json_object_new_string(failed->msg));
		json_object_object_add(err, "hint", json_str_or_null(failed->hint[0] ? failed->hint : NULL));
		json_object_object_add(err, "exitCode",
		    json_object_new_int(failed->exit ? failed->exit : 1));
	}
	json_object_object_add(r->root, "ok", json_object_new_boolean(failed == NULL));
	json_object_object_add(r->root, "error", err);
	if (r->format == REPORT_YAML) {
		(void)report_print_yaml(r->root);
	} else if (r->format == REPORT_JSON) {
		json_print(r->root);
		fflush(stdout);
	}
	report_free(r);
}

void
report_free(struct report *r)
{
	json_object_put(r->root);
	r->root = r->result = NULL;
}
