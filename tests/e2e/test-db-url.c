/* test-db-url.c: `db-url' against the test cluster: Secret, Phalanx values, comparison, permissions */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <criterion/criterion.h>
#include <json-c/json.h>

#include "e2e.h"

/* The URL line on stdout, newline included. */
static void
assert_url_out(const struct run *r, const char *url)
{
	char want[1024];

	snprintf(want, sizeof want, "%s\n", url);
	cr_assert_str_eq(r->out, want, "stdout: %s\nstderr: %s", r->out, r->err);
}

/* Neither stream holds the database password. */
static void
assert_no_password(const struct run *r)
{
	const char *pw = need_env("SIM_DB_PASSWORD");

	cr_assert(pw[0] != '\0');
	cr_assert(strstr(r->out, pw) == NULL, "password on stdout: %s", r->out);
	cr_assert(strstr(r->err, pw) == NULL, "password on stderr: %s", r->err);
}

static json_object *
parse_json(const struct run *r)
{
	return json_result(r->out, "db-url");
}

static const char *
jget(json_object *j, const char *key)
{
	json_object *v;

	cr_assert(json_object_object_get_ex(j, key, &v), "no key %s", key);
	return v != NULL ? json_object_get_string(v) : NULL;
}

/* A copy of the cluster's Phalanx tree, to edit (caller removes it). */
static char *
phalanx_copy(void)
{
	char tmpl[] = "/tmp/nub-phalanx.XXXXXX", cmd[2048];
	struct run r;

	cr_assert_not_null(mkdtemp(tmpl));
	snprintf(cmd, sizeof cmd, "cp -r '%s/.' '%s/'", sim_path("phalanx"), tmpl);
	run_sh(&r, cmd);
	cr_assert_eq(r.status, 0, "%s", r.err);
	run_free(&r);
	return strdup(tmpl);
}

static void
write_values(const char *dir, const char *env, const char *text)
{
	char path[1024];
	FILE *f;

	snprintf(path, sizeof path, "%s/applications/nublado/values-%s.yaml", dir, env);
	f = fopen(path, "w");
	cr_assert_not_null(f);
	fputs(text, f);
	cr_assert_eq(fclose(f), 0);
}

static void
remove_tree(char *dir)
{
	char cmd[1100];
	struct run r;

	snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
	run_sh(&r, cmd);
	run_free(&r);
	free(dir);
}

Test(db_url, default_from_cluster_secret)
{
	struct run r;

	run_nub(&r, "db-url", NULL);
	cr_assert_eq(r.status, 0, "%s", r.err);
	assert_url_out(&r, need_env("SIM_DB_URL_NOPW"));
	cr_assert(strstr(r.err, "from secret nublado/nublado-secret (values.yaml: hub.db.url)")
	    != NULL, "%s", r.err);
	cr_assert(strstr(r.err, "warning") == NULL, "%s", r.err);
	assert_no_password(&r);
	run_free(&r);
}

Test(db_url, phalanx_sim_env_same_url_with_location)
{
	struct run r;

	run_nub(&r, "db-url", "--phalanx", sim_path("phalanx"), "--env", "sim", NULL);
	cr_assert_eq(r.status, 0, "%s", r.err);
	assert_url_out(&r, need_env("SIM_DB_URL_NOPW"));
	/* values-sim.yaml wins over values.yaml; file:line:col of the value. */
	cr_assert(strstr(r.err, "/phalanx/applications/nublado/values-sim.yaml:") != NULL,
	    "%s", r.err);
	int line = 0, col = 0;
	const char *p = strstr(r.err, "values-sim.yaml:") + strlen("values-sim.yaml:");
	cr_assert_eq(sscanf(p, "%d:%d", &line, &col), 2, "%s", r.err);
	cr_assert(line > 1 && col > 1, "%s", r.err);
	cr_assert(strstr(r.err, "warning") == NULL, "the deployed value is the same: %s", r.err);
	run_free(&r);
}

Test(db_url, phalanx_unknown_env_lists_envs)
{
	struct run r;

	run_nub(&r, "db-url", "--phalanx", sim_path("phalanx"), "--env", "simm", NULL);
	cr_assert_eq(r.status, 1, "%s", r.err);
	cr_assert_str_eq(r.out, "");
	cr_assert(strstr(r.err, "environment 'simm'") != NULL, "%s", r.err);
	cr_assert(strstr(r.err, "(environments: sim)") != NULL, "%s", r.err);
	run_free(&r);
}

Test(db_url, json_has_parts_and_source)
{
	struct run r;
	json_object *j;

	run_nub(&r, "db-url", "-o", "json", NULL);
	cr_assert_eq(r.status, 0, "%s", r.err);
	j = parse_json(&r);
	cr_assert_str_eq(jget(j, "url"), need_env("SIM_DB_URL_NOPW"));
	cr_assert_str_eq(jget(j, "scheme"), "postgresql");
	cr_assert_str_eq(jget(j, "user"), "nublado");
	cr_assert_str_eq(jget(j, "host"), "127.0.0.1");
	cr_assert_str_eq(jget(j, "port"), need_env("SIM_DB_PORT"));
	cr_assert_str_eq(jget(j, "database"), "nublado");
	cr_assert_str_eq(jget(j, "source"), "secret nublado/nublado-secret values.yaml");
	cr_assert_str_eq(jget(j, "secret"), "nublado/nublado-secret");
	cr_assert_str_eq(jget(j, "key"), "hub.db.url");
	cr_assert_null(jget(j, "file"));
	cr_assert_null(jget(j, "normalisedFrom"));
	cr_assert_str_eq(jget(j, "hadPassword"), "false");
	assert_no_password(&r);
	json_object_put(j);
	run_free(&r);
}

Test(db_url, json_from_phalanx_has_file_line_and_deployed)
{
	struct run r;
	json_object *j, *d, *v;

	run_nub(&r, "db-url", "--phalanx", sim_path("phalanx"), "--env", "sim", "-o", "json", NULL);
	cr_assert_eq(r.status, 0, "%s", r.err);
	j = parse_json(&r);
	cr_assert_str_eq(jget(j, "url"), need_env("SIM_DB_URL_NOPW"));
	cr_assert(strstr(jget(j, "file"), "/applications/nublado/values-sim.yaml") != NULL);
	cr_assert_str_eq(jget(j, "source"), jget(j, "file"));
	cr_assert_str_eq(jget(j, "key"), "jupyterhub.hub.db.url");
	cr_assert(json_object_object_get_ex(j, "line", &v));
	cr_assert(json_object_is_type(v, json_type_int) && json_object_get_int(v) > 0);
	cr_assert(json_object_object_get_ex(j, "column", &v));
	cr_assert(json_object_is_type(v, json_type_int) && json_object_get_int(v) > 0);
	cr_assert(json_object_object_get_ex(j, "deployed", &d) && d != NULL, "%s", r.out);
	cr_assert_str_eq(jget(d, "matches"), "true");
	cr_assert_str_eq(jget(d, "url"), need_env("SIM_DB_URL_NOPW"));
	json_object_put(j);
	run_free(&r);
}

Test(db_url, readonly_context_can_read_it)
{
	struct run r;

	/* The test cluster's viewers may get secrets (its RBAC allows get/list/watch). */
	run_nub(&r, "--context", "sim-readonly", "db-url", NULL);
	cr_assert_eq(r.status, 0, "%s", r.err);
	assert_url_out(&r, need_env("SIM_DB_URL_NOPW"));
	run_free(&r);
}

/* A kubeconfig acting as a user with no permissions at all (impersonation by the admin). */
static char *
nobody_kubeconfig(void)
{
	char *path;
	FILE *f;

	cr_assert(asprintf(&path, "%s/kc-dburl-nobody", need_env("SIM_DIR")) > 0);
	f = fopen(path, "w");
	cr_assert_not_null(f);
	fprintf(f, "apiVersion: v1\nkind: Config\ncurrent-context: c\n"
	    "clusters:\n- name: k\n  cluster:\n    server: %s\n    certificate-authority: %s\n"
	    "users:\n- name: u\n  user:\n    token: %s\n    as: nobody\n"
	    "contexts:\n- name: c\n  context:\n    cluster: k\n    user: u\n",
	    need_env("SIM_SERVER"), need_env("SIM_CA"), need_env("SIM_TOKEN"));
	cr_assert_eq(fclose(f), 0);
	return path;
}

Test(db_url, forbidden_names_the_permission)
{
	char *kc = nobody_kubeconfig();
	struct run r;

	run_nub(&r, "--kubeconfig", kc, "db-url", NULL);
	cr_assert_eq(r.status, 1, "%s", r.err);
	cr_assert_str_eq(r.out, "");
	cr_assert(strstr(r.err, "not allowed to read Secret nublado/nublado-secret") != NULL,
	    "%s", r.err);
	cr_assert(strstr(r.err, "get secrets in namespace 'nublado'") != NULL, "%s", r.err);
	cr_assert(strstr(r.err, "hint: ") != NULL && strstr(r.err, "--phalanx") != NULL,
	    "%s", r.err);
	run_free(&r);

	/* From Phalanx the comparison is skipped quietly (mentioned at -v). */
	run_nub(&r, "--kubeconfig", kc, "db-url", "--phalanx", sim_path("phalanx"),
	    "--env", "sim", NULL);
	cr_assert_eq(r.status, 0, "%s", r.err);
	assert_url_out(&r, need_env("SIM_DB_URL_NOPW"));
	cr_assert(strstr(r.err, "warning") == NULL && strstr(r.err, "error") == NULL, "%s", r.err);
	run_free(&r);
	run_nub(&r, "--kubeconfig", kc, "-v", "db-url", "--phalanx", sim_path("phalanx"),
	    "--env", "sim", NULL);
	cr_assert_eq(r.status, 0, "%s", r.err);
	cr_assert(strstr(r.err, "not compared with the deployed value: not allowed") != NULL,
	    "%s", r.err);
	run_free(&r);
	unlink(kc);
	free(kc);
}

Test(db_url, no_cluster_at_all_with_phalanx_is_fine)
{
	struct run r;

	run_nub(&r, "--kubeconfig", "/nonexistent", "db-url", "--phalanx", sim_path("phalanx"),
	    "--env", "sim", NULL);
	cr_assert_eq(r.status, 0, "%s", r.err);
	assert_url_out(&r, need_env("SIM_DB_URL_NOPW"));
	run_free(&r);
}

Test(db_url, phalanx_value_differs_warns)
{
	char *dir = phalanx_copy();
	struct run r;

	write_values(dir, "sim", "jupyterhub:\n  hub:\n    db:\n"
	    "      url: postgresql+psycopg2://nublado3:hunter2@postgres.postgres/nublado3\n");
	run_nub(&r, "db-url", "--phalanx", dir, "--env", "sim", NULL);
	cr_assert_eq(r.status, 0, "%s", r.err);
	assert_url_out(&r, "postgresql://nublado3@postgres.postgres/nublado3");
	cr_assert(strstr(r.err, "warning: the deployed database URL differs") != NULL, "%s", r.err);
	cr_assert(strstr(r.err, "values-sim.yaml:4:12: postgresql+psycopg2://nublado3:***@"
	    "postgres.postgres/nublado3") != NULL, "%s", r.err);
	cr_assert(strstr(r.err, "secret nublado/nublado-secret (values.yaml: hub.db.url): ") != NULL,
	    "%s", r.err);
	cr_assert(strstr(r.err, need_env("SIM_DB_URL_NOPW")) != NULL, "%s", r.err);
	cr_assert(strstr(r.err, "warning: the URL carries a password; it was removed") != NULL,
	    "%s", r.err);
	cr_assert(strstr(r.out, "hunter2") == NULL && strstr(r.err, "hunter2") == NULL,
	    "%s%s", r.out, r.err);
	run_free(&r);

	/* JSON says the same, still without the password. */
	run_nub(&r, "db-url", "--phalanx", dir, "--env", "sim", "-o", "json", NULL);
	cr_assert_eq(r.status, 0, "%s", r.err);
	json_object *j = parse_json(&r), *d;
	cr_assert_str_eq(jget(j, "normalisedFrom"), "postgresql+psycopg2");
	cr_assert_str_eq(jget(j, "hadPassword"), "true");
	cr_assert(json_object_object_get_ex(j, "deployed", &d) && d != NULL);
	cr_assert_str_eq(jget(d, "matches"), "false");
	cr_assert(strstr(r.out, "hunter2") == NULL, "%s", r.out);
	json_object_put(j);
	run_free(&r);
	remove_tree(dir);
}

Test(db_url, phalanx_env_without_key_falls_back_to_base)
{
	char *dir = phalanx_copy();
	struct run r;

	write_values(dir, "sim", "hub:\n  useSubdomains: true\n");
	run_nub(&r, "db-url", "--phalanx", dir, "--env", "sim", NULL);
	cr_assert_eq(r.status, 0, "%s", r.err);
	/* the base values.yaml: Phalanx's default, which differs from the deployed one */
	assert_url_out(&r, "postgresql://nublado3@postgres.postgres/jupyterhub");
	cr_assert(strstr(r.err, "/applications/nublado/values.yaml:") != NULL, "%s", r.err);
	cr_assert(strstr(r.err, "warning: the deployed database URL differs") != NULL, "%s", r.err);
	run_free(&r);
	remove_tree(dir);
}

Test(db_url, phalanx_malformed_values_located)
{
	char *dir = phalanx_copy();
	struct run r;

	write_values(dir, "sim", "jupyterhub:\n  hub:\n    db:\n      url: [unclosed\n");
	run_nub(&r, "db-url", "--phalanx", dir, "--env", "sim", NULL);
	cr_assert_eq(r.status, 1, "%s", r.err);
	cr_assert_str_eq(r.out, "");
	cr_assert(strstr(r.err, "values-sim.yaml:") != NULL, "%s", r.err);
	cr_assert(strstr(r.err, "invalid YAML") != NULL, "%s", r.err);
	run_free(&r);
	remove_tree(dir);
}

Test(db_url, usage_errors_exit_2)
{
	struct run r;

	run_nub(&r, "db-url", "--env", "sim", NULL);
	cr_assert_eq(r.status, 2, "%s", r.err);
	cr_assert(strstr(r.err, "--env needs --phalanx DIR") != NULL, "%s", r.err);
	run_free(&r);
	run_nub(&r, "db-url", "--phalanx", sim_path("phalanx"), NULL);
	cr_assert_eq(r.status, 2, "%s", r.err);
	cr_assert(strstr(r.err, "--phalanx needs --env ENV") != NULL, "%s", r.err);
	run_free(&r);
	run_nub(&r, "db-url", "-o", "xml", NULL);
	cr_assert_eq(r.status, 2, "%s", r.err);
	run_free(&r);
	run_nub(&r, "db-url", "extra", NULL);
	cr_assert_eq(r.status, 2, "%s", r.err);
	run_free(&r);
	run_nub(&r, "db-url", "--phalanx", sim_path("phalanx"), "--env", "../sim", NULL);
	cr_assert_eq(r.status, 2, "%s", r.err);
	cr_assert(strstr(r.err, "invalid environment name") != NULL, "%s", r.err);
	run_free(&r);
}

Test(db_url, other_namespace_has_neither_secret)
{
	struct run r;

	run_nub(&r, "-n", "nublado-none", "db-url", NULL);
	cr_assert_eq(r.status, 1, "%s", r.err);
	cr_assert(strstr(r.err, "no database URL in the cluster: no Secret "
	    "nublado-none/nublado-secret; no Secret nublado-none/hub") != NULL, "%s", r.err);
	cr_assert(strstr(r.err, "hint: read it from Phalanx instead: --phalanx DIR --env ENV")
	    != NULL, "%s", r.err);
	run_free(&r);
}

/* On a private cluster: the Secrets themselves change. */
Test(db_url, falls_back_to_z2jh_secret, .timeout = 120)
{
	struct sim s;
	struct run r;

	sim_start(&s, NULL);

	/* nublado-secret without the value: Secret hub supplies it. */
	sim_kubectl(&s, &r, "-n nublado delete secret nublado-secret");
	cr_assert_eq(r.status, 0, "%s", r.err);
	run_free(&r);
	sim_nub(&s, &r, "db-url", NULL);
	cr_assert_eq(r.status, 0, "%s", r.err);
	assert_url_out(&r, sim_get(&s, "SIM_DB_URL_NOPW"));
	cr_assert(strstr(r.err, "from secret nublado/hub (values.yaml: hub.db.url)") != NULL,
	    "%s", r.err);
	run_free(&r);

	sim_kubectl(&s, &r, "-n nublado create secret generic nublado-secret "
	    "--from-literal=values.yaml='hub: {config: {}}'");
	cr_assert_eq(r.status, 0, "%s", r.err);
	run_free(&r);
	sim_nub(&s, &r, "db-url", NULL);
	cr_assert_eq(r.status, 0, "%s", r.err);
	cr_assert(strstr(r.err, "from secret nublado/hub (") != NULL, "%s", r.err);
	run_free(&r);

	/* Malformed YAML in the Secret: located inside the key. */
	sim_kubectl(&s, &r, "-n nublado delete secret nublado-secret");
	run_free(&r);
	sim_kubectl(&s, &r, "-n nublado create secret generic nublado-secret "
	    "--from-literal=values.yaml=\"$(printf 'hub:\\n  db: [x')\"");
	cr_assert_eq(r.status, 0, "%s", r.err);
	run_free(&r);
	sim_nub(&s, &r, "db-url", NULL);
	cr_assert_eq(r.status, 1, "%s", r.err);
	cr_assert(strstr(r.err, "secret nublado/nublado-secret values.yaml:") != NULL, "%s", r.err);
	cr_assert(strstr(r.err, "invalid YAML") != NULL, "%s", r.err);
	run_free(&r);

	/* Neither: an error naming both, pointing at --phalanx. */
	sim_kubectl(&s, &r, "-n nublado delete secret nublado-secret hub");
	cr_assert_eq(r.status, 0, "%s", r.err);
	run_free(&r);
	sim_nub(&s, &r, "db-url", NULL);
	cr_assert_eq(r.status, 1, "%s", r.err);
	cr_assert(strstr(r.err, "no Secret nublado/nublado-secret; no Secret nublado/hub") != NULL,
	    "%s", r.err);
	cr_assert(strstr(r.err, "--phalanx DIR --env ENV") != NULL, "%s", r.err);
	run_free(&r);
	sim_stop(&s);
}
