/* journal.c: the journals' common part: one cluster each, written atomically */
#include <string.h>
#include <unistd.h>

#include "../util/exitcode.h"
#include "../util/jsonout.h"
#include "../util/file.h"
#include "journal.h"

int
journal_read(const char *path, const char *identity, const char *what, json_object **out,
    struct err *e)
{
	const char *cluster;
	json_object *j;

	*out = NULL;
	if (access(path, F_OK) != 0)
		return 0;
	j = json_object_from_file(path);
	if (j == NULL)
		return err_set(e, "cannot read the journal of an earlier %s '%s': %s", what, path,
		    json_util_get_last_err());
	cluster = jstr(j, "cluster", NULL);
	if (cluster == NULL || strcmp(cluster, identity) != 0) {
		err_set(e, "the journal '%s' is of another cluster (%s), not this one (%s)", path,
		    cluster ? cluster : "none recorded", identity);
		err_hint(e, "what it records was done elsewhere: move the file away, then run "
		    "the %s again", what);
		e->exit = EXIT_REFUSED;
		json_object_put(j);
		return -1;
	}
	*out = j;
	return 0;
}

int
journal_write(const char *path, const char *identity, const char *what, json_object *j,
    struct err *e)
{
	const char *text;
	int rc;

	json_object_object_add(j, "cluster", json_object_new_string(identity));
	text = json_object_to_json_string_ext(j, JSON_C_TO_STRING_PRETTY);
	rc = file_write_atomic(path, text, strlen(text), e);
	if (rc < 0)
		err_prefix(e, "cannot write the %s journal", what);
	return rc;
}

time_t
journal_time(json_object *j, const char *key)
{
	return (time_t)jint(j, 0, key, NULL);
}

void
journal_put_time(json_object *j, const char *key, time_t t)
{
	if (t != 0)
		json_object_object_add(j, key, json_object_new_int64((int64_t)t));
}

void
journal_when(time_t t, char *buf, size_t n)
{
	struct tm tm;

	strftime(buf, n, "%Y-%m-%d %H:%M:%S UTC", gmtime_r(&t, &tm));
}

json_object *
journal_describe(const char *path, const char *identity, const char *what,
    const char *const *stages)
{
	json_object *j, *o = json_object_new_object(), *times = json_object_new_object();
	const char *stage = NULL;
	struct err e;

	err_clear(&e);
	if (journal_read(path, identity, what, &j, &e) < 0 || j == NULL) {
		if (j == NULL && e.msg[0] == '\0') {
			json_object_put(o);
			json_object_put(times);
			return NULL;
		}
		json_object_object_add(o, "error", json_object_new_string(e.msg));
		json_object_put(times);
		return o;
	}
	for (size_t i = 0; stages[i] != NULL; i++) {
		time_t t = journal_time(j, stages[i]);
		struct tm tm;
		char iso[32];

		if (t == 0)
			continue;
		strftime(iso, sizeof iso, "%Y-%m-%dT%H:%M:%SZ", gmtime_r(&t, &tm));
		json_object_object_add(times, stages[i], json_object_new_string(iso));
		stage = stages[i];
	}
	json_object_object_add(o, "path", json_object_new_string(path));
	json_object_object_add(o, "stage", json_str_or_null(stage));
	json_object_object_add(o, "finished", json_object_new_boolean(stage != NULL &&
	    strcmp(stage, "completed") == 0));
	json_object_object_add(o, "times", times);
	json_add_str(o, "backup", jstr(j, "backup", NULL));
	json_object_put(j);
	return o;
}
