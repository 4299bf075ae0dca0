/* jsonout.c: path lookups into Kubernetes objects */
#include <stdarg.h>
#include <stdio.h>

#include "jsonout.h"

static json_object *
vpath(json_object *o, va_list ap)
{
	const char *k;

	while (o != NULL && (k = va_arg(ap, const char *)) != NULL) {
		if (!json_object_is_type(o, json_type_object) ||
		    !json_object_object_get_ex(o, k, &o))
			return NULL;
	}
	return o;
}

json_object *
jpath(json_object *o, ...)
{
	va_list ap;

	va_start(ap, o);
	o = vpath(o, ap);
	va_end(ap);
	return o;
}

const char *
jstr(json_object *o, ...)
{
	va_list ap;

	va_start(ap, o);
	o = vpath(o, ap);
	va_end(ap);
	return o != NULL && json_object_is_type(o, json_type_string) ?
	    json_object_get_string(o) : NULL;
}

long long
jint(json_object *o, long long def, ...)
{
	va_list ap;

	va_start(ap, def);
	o = vpath(o, ap);
	va_end(ap);
	return o != NULL && json_object_is_type(o, json_type_int) ?
	    json_object_get_int64(o) : def;
}

void
json_print(json_object *o)
{
	puts(json_object_to_json_string_ext(o, JSON_C_TO_STRING_PRETTY |
	    JSON_C_TO_STRING_SPACED | JSON_C_TO_STRING_NOSLASHESCAPE));
}
