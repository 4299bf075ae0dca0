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
/* Print o on stdout, pretty, with a newline. */
void json_print(json_object *o);

#endif
