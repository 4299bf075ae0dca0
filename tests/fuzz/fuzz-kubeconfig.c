/*
 * fuzz-kubeconfig.c: kubeconfig loading (kcfg_load, kcfg_list_contexts).
 * Input: FILE_A [NUL FILE_B [NUL CONTEXT]].  One file is loaded as
 * --kubeconfig; two are merged through KUBECONFIG=A:B, with --context set
 * to the third part when there is one.  Relative certificate paths resolve
 * to small files made beside them (certs/ca.crt, client.crt, client.key, token).
 */
#include <stdint.h>
#include <strings.h>

#include "../../src/kube/kubeconfig.h"
#include "../../src/util/xalloc.h"
#include "fuzz.h"

static char path_a[256], path_b[256], kubeconfig_env[600], nowhere[256];

int
LLVMFuzzerInitialize(int *argc, char ***argv)
{
	const char *d = fuzz_dir();
	char p[256];

	(void)argc;
	(void)argv;
	/* Never the in-cluster fallback, never the user's own files. */
	unsetenv("KUBERNETES_SERVICE_HOST");
	unsetenv("KUBERNETES_SERVICE_PORT");
	unsetenv("KUBECONFIG");
	snprintf(path_a, sizeof path_a, "%s/config", d);
	snprintf(path_b, sizeof path_b, "%s/config-b", d);
	snprintf(nowhere, sizeof nowhere, "%s/no-such-dir", d);
	snprintf(kubeconfig_env, sizeof kubeconfig_env, "%s:%s", path_a, path_b);
	snprintf(p, sizeof p, "%s/certs", d);
	mkdir(p, 0700);
	snprintf(p, sizeof p, "%s/certs/ca.crt", d);
	fuzz_write(p, "-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n", 58);
	snprintf(p, sizeof p, "%s/certs/client.crt", d);
	fuzz_write(p, "-----BEGIN CERTIFICATE-----\nMIIC\n-----END CERTIFICATE-----\n", 58);
	snprintf(p, sizeof p, "%s/certs/client.key", d);
	fuzz_write(p, "-----BEGIN PRIVATE KEY-----\nMIID\n-----END PRIVATE KEY-----\n", 58);
	snprintf(p, sizeof p, "%s/token", d);
	fuzz_write(p, "fuzz-token\n", 11);
	return 0;
}

static void
check_sorted(char **v)
{
	FUZZ_CHECK(v != NULL, "context list is NULL");
	for (size_t i = 0; v[i] != NULL && v[i + 1] != NULL; i++)
		FUZZ_CHECK(strcmp(v[i], v[i + 1]) < 0, "contexts not sorted/unique: '%s' '%s'",
		    v[i], v[i + 1]);
}

static void
check_config(const struct kcfg *c)
{
	size_t n;
	bool listed = false;

	FUZZ_CHECK(c->server != NULL, "no server");
	FUZZ_CHECK(strncasecmp(c->server, "http://", 7) == 0 ||
	    strncasecmp(c->server, "https://", 8) == 0, "server '%s'", c->server);
	n = strlen(c->server);
	FUZZ_CHECK(n > 0 && c->server[n - 1] != '/', "trailing slash in '%s'", c->server);
	FUZZ_CHECK((c->cert_pem == NULL) == (c->key_pem == NULL), "certificate without key");
	FUZZ_CHECK(!(c->insecure && c->ca_pem != NULL), "insecure with a CA");
	FUZZ_CHECK(!((c->token != NULL || c->token_file != NULL) &&
	    (c->username != NULL || c->password != NULL)), "token and basic auth");
	check_sorted(c->contexts);
	for (size_t i = 0; c->contexts[i] != NULL; i++)
		listed = listed || strcmp(c->contexts[i], c->context) == 0;
	FUZZ_CHECK(listed, "context '%s' not in the list", c->context);
	if (c->exec != NULL) {
		FUZZ_CHECK(c->exec->command != NULL, "exec without command");
		FUZZ_CHECK(c->exec->api_version != NULL, "exec without apiVersion");
	}
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const unsigned char *part[3];
	size_t len[3], nparts;
	struct kcfg_opts o = { .default_path = nowhere, .incluster_root = nowhere };
	struct kcfg *c = NULL;
	struct err e;
	char **names, *current, *context = NULL;

	nparts = fuzz_split(data, size, 3, part, len);
	fuzz_write(path_a, part[0], len[0]);
	if (nparts == 1) {
		o.kubeconfig = path_a;
	} else {
		fuzz_write(path_b, part[1], len[1]);
		setenv("KUBECONFIG", kubeconfig_env, 1);
		if (nparts == 3) {
			context = fuzz_str(part[2], len[2]);
			o.context = context;
		}
	}

	err_clear(&e);
	if (kcfg_load(&o, &c, &e) == 0) {
		FUZZ_CHECK(c != NULL, "kcfg_load returned 0 without a config");
		check_config(c);
		kcfg_free(c);
	} else {
		FUZZ_CHECK(c == NULL, "kcfg_load failed but set a config");
		FUZZ_CHECK(e.msg[0] != '\0', "kcfg_load failed without a message");
	}

	err_clear(&e);
	if (kcfg_list_contexts(&o, &names, &current, &e) == 0) {
		check_sorted(names);
		strv_free(names);
		free(current);
	} else {
		FUZZ_CHECK(e.msg[0] != '\0', "kcfg_list_contexts failed without a message");
	}

	unsetenv("KUBECONFIG");
	free(context);
	return 0;
}
