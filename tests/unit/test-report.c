/* test-report.c: the -o envelope, and -o yaml reading back as the same data */
#include <stdlib.h>
#include <string.h>

#include <criterion/criterion.h>
#include <libfyaml.h>

#include "../../src/util/report.h"

/* YAML text back to JSON through libfyaml, type-preserving (caller puts). */
static json_object *
yaml_back(const char *yaml)
{
	struct fy_document *d = fy_document_build_from_string(NULL, yaml, FY_NT);
	json_object *j;
	char *text;

	cr_assert_not_null(d, "not YAML:\n%s", yaml);
	text = fy_emit_document_to_string(d, FYECF_MODE_JSON_TP);
	cr_assert_not_null(text);
	j = json_tokener_parse(text);
	cr_assert_not_null(j, "%s", text);
	free(text);
	fy_document_destroy(d);
	return j;
}

Test(report, yaml_reads_back_as_the_same_strings)
{
	/* Strings a careless emitter prints plain and a reader takes for something else. */
	static const char *const tricky[] = { "5432", "true", "yes", "No", "off", "null", "~",
	    "", "- a", "#c", "@x", "*a", "&a", "!tag", "  lead", "trail ", "x: y", "x:",
	    "a #b", "multi\nline", "tab\there", "quote\"d", "a'b", "ü", "1.5", "0x1F", ".inf",
	    "2026-11-29T06:56:22Z", "12:30", "[a]", "{a}", "%x", "`x`", "|", ">", "?",
	    "plain words", "postgresql://u@h:5432/db", "nublado-user001", NULL };
	json_object *o = json_object_new_object(), *back;
	char *yaml;

	for (int i = 0; tricky[i] != NULL; i++) {
		char key[16];

		snprintf(key, sizeof key, "k%d", i);
		json_object_object_add(o, key, json_object_new_string(tricky[i]));
	}
	json_object_object_add(o, "weird key: #1", json_object_new_int(7));
	json_object_object_add(o, "n", json_object_new_int64(-42));
	json_object_object_add(o, "f", json_object_new_double(2.5));
	json_object_object_add(o, "b", json_object_new_boolean(false));
	json_object_object_add(o, "z", NULL);
	json_object_object_add(o, "empty", json_object_new_array());
	json_object_object_add(o, "none", json_object_new_object());
	yaml = report_yaml(o);
	cr_assert_not_null(yaml);
	back = yaml_back(yaml);
	cr_assert(json_object_equal(o, back), "YAML:\n%s\nread back:\n%s", yaml,
	    json_object_to_json_string(back));
	/* Plain where it is safe: the output reads like kubectl's. */
	cr_assert(strstr(yaml, "k36: plain words\n") != NULL, "%s", yaml);
	cr_assert(strstr(yaml, "k0: \"5432\"\n") != NULL, "%s", yaml);
	free(yaml);
	json_object_put(back);
	json_object_put(o);
}

Test(report, envelope_has_every_member)
{
	struct report r;
	struct err e;
	json_object *v;

	report_init(&r, "labs", REPORT_NONE);
	report_where(&r, "ctx", "nublado");
	report_dry_run(&r, true);
	report_add(&r, "x", json_object_new_int(1));
	json_object_object_add(report_section(&r, "block"), "y", json_object_new_int(2));
	cr_assert(json_object_object_get_ex(r.root, "apiVersion", &v));
	cr_assert_str_eq(json_object_get_string(v), "kubectl-nublado/v1");
	cr_assert(json_object_object_get_ex(r.root, "context", &v));
	cr_assert_str_eq(json_object_get_string(v), "ctx");
	cr_assert(json_object_object_get_ex(r.root, "dryRun", &v) && json_object_get_boolean(v));
	cr_assert(json_object_object_get_ex(r.result, "block", &v));
	cr_assert_eq(report_section(&r, "block"), v, "a section is made once");
	err_clear(&e);
	err_set(&e, "it broke");
	e.exit = 3;
	/* REPORT_NONE prints nothing and frees. */
	report_end(&r, &e);
	cr_assert_null(r.root);
	cr_assert_eq(report_format(NULL), REPORT_NONE);
	cr_assert_eq(report_format("yaml"), REPORT_YAML);
	cr_assert_eq(report_format("json"), REPORT_JSON);
}
