/* jsonout.c: path lookups into Kubernetes objects, building and printing JSON */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include <json-c/printbuf.h>

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

json_object *
json_str_or_null(const char *s)
{
	return s != NULL ? json_object_new_string(s) : NULL;
}

void
json_add_str(json_object *o, const char *key, const char *v)
{
	if (v != NULL)
		json_object_object_add(o, key, json_object_new_string(v));
}

void
json_print(json_object *o)
{
	puts(json_object_to_json_string_ext(o, JSON_C_TO_STRING_PRETTY |
	    JSON_C_TO_STRING_SPACED | JSON_C_TO_STRING_NOSLASHESCAPE));
}

void
json_wipe_strings(json_object *o)
{
	switch (json_object_get_type(o)) {
	case json_type_string:
		/* The storage is json-c's; zeroing it in place is all a caller can do. */
		explicit_bzero((char *)json_object_get_string(o),
		    (size_t)json_object_get_string_len(o));
		break;
	case json_type_object: {
		json_object_object_foreach(o, k, v) {
			(void)k;
			json_wipe_strings(v);
		}
		break;
	}
	case json_type_array:
		for (size_t i = 0; i < json_object_array_length(o); i++)
			json_wipe_strings(json_object_array_get_idx(o, i));
		break;
	default:
		break;
	}
}

json_object *
json_parse_secret(const char *text, size_t len)
{
	struct json_tokener *tok = json_tokener_new();
	json_object *o;

	if (tok == NULL)
		return NULL;
	o = json_tokener_parse_ex(tok, text, (int)len);
	if (json_tokener_get_error(tok) != json_tokener_success) {
		json_object_put(o);
		o = NULL;
	}
	/* The tokener gathers each string in its printbuf: zero it too. */
	if (tok->pb != NULL && tok->pb->buf != NULL)
		explicit_bzero(tok->pb->buf, (size_t)tok->pb->size);
	json_tokener_free(tok);
	return o;
}
