/* jsonout.h: small json-c helpers shared by the domain code and `-o json' */
#ifndef NUB_JSONOUT_H
#define NUB_JSONOUT_H

#include <stdbool.h>

#include <json-c/json.h>

/* Follow a path of object keys ("metadata", "name", NULL); NULL if absent. */
json_object *jpath(json_object *o, ...) __attribute__((sentinel));
/* The string at a path, or NULL when absent or not a string. */
const char *jstr(json_object *o, ...) __attribute__((sentinel));
/* The integer at a path, or `def'. */
long long jint(json_object *o, long long def, ...) __attribute__((sentinel));
/* A JSON string, or JSON null for NULL ("not known", kept in the output as a key). */
json_object *json_str_or_null(const char *s);
/* Add key: v to object o, or nothing when v is NULL (a field left out). */
void json_add_str(json_object *o, const char *key, const char *v);
/* Zero every string value in o, recursively (secrets, before json_object_put). */
void json_wipe_strings(json_object *o);
/*
 * Parse text that holds secrets: the parser's own buffer is zeroed after
 * use (json_tokener_parse would free it as it is).  NULL when not JSON.
 */
json_object *json_parse_secret(const char *text, size_t len);
/* Print o on stdout, pretty, with a newline. */
void json_print(json_object *o);

#endif
