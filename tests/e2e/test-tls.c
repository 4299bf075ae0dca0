/* test-tls.c: what reaches a server: the kubeconfig's CA pins it, header values stay one header */
#include <fcntl.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <unistd.h>

#include <criterion/criterion.h>

#include "../../src/kube/client.h"
#include "../../src/kube/exec.h"
#include "../../src/kube/kubeconfig.h"
#include "e2e.h"

/* A logging TLS server whose certificate a decoy CA signed. */
struct decoy {
	char dir[256];
	int port;
};

static void
decoy_start_mode(struct decoy *d, const char *mode)
{
	char cmd[4096], path[400];
	struct run r;
	FILE *f;

	snprintf(d->dir, sizeof d->dir, "%s/decoy.XXXXXX",
	    getenv("NUB_E2E_TMP") ? getenv("NUB_E2E_TMP") : "/tmp");
	cr_assert_not_null(mkdtemp(d->dir));
	snprintf(cmd, sizeof cmd, "set -e; cd %s; "
	    "openssl req -x509 -newkey rsa:2048 -nodes -keyout ca.key -out ca.crt -days 2 "
	    "-subj /CN=decoy-system-ca 2>/dev/null; "
	    "openssl req -newkey rsa:2048 -nodes -keyout srv.key -out srv.csr -subj /CN=127.0.0.1 "
	    "2>/dev/null; printf 'subjectAltName=IP:127.0.0.1\\n' >ext; "
	    "openssl x509 -req -in srv.csr -CA ca.crt -CAkey ca.key -CAcreateserial -out srv.crt "
	    "-days 2 -extfile ext 2>/dev/null; : >requests.log; "
	    "python3 %s/tests/e2e/logging-server.py srv.crt srv.key requests.log port %s "
	    "</dev/null >server.out 2>&1 & echo $! >pid; "
	    "for i in $(seq 400); do [ -s port ] && exit 0; sleep 0.05; done; exit 1",
	    d->dir, getenv("NUB_TOP") ? getenv("NUB_TOP") : ".", mode);
	run_sh(&r, cmd);
	cr_assert_eq(r.status, 0, "decoy server: %s", r.err);
	run_free(&r);
	snprintf(path, sizeof path, "%s/port", d->dir);
	f = fopen(path, "r");
	cr_assert_not_null(f);
	cr_assert_eq(fscanf(f, "%d", &d->port), 1);
	fclose(f);
}

static void
decoy_start(struct decoy *d)
{
	decoy_start_mode(d, "");
}

static void
decoy_stop(struct decoy *d)
{
	char cmd[600];
	struct run r;

	snprintf(cmd, sizeof cmd, "kill $(cat %s/pid) 2>/dev/null; rm -rf %s", d->dir, d->dir);
	run_sh(&r, cmd);
	run_free(&r);
}

/* What the server received (caller frees). */
static char *
decoy_log(const struct decoy *d)
{
	char cmd[600], *out;
	struct run r;

	snprintf(cmd, sizeof cmd, "cat %s/requests.log", d->dir);
	run_sh(&r, cmd);
	out = r.out;
	r.out = NULL;
	run_free(&r);
	return out;
}

/* A kubeconfig at DIR/name whose only user is `user_yaml' (indented 4). */
static const char *
write_kubeconfig(const struct decoy *d, const char *name, const char *cluster_extra,
    const char *user_yaml)
{
	static char path[400];
	FILE *f;

	snprintf(path, sizeof path, "%s/%s", d->dir, name);
	f = fopen(path, "w");
	cr_assert_not_null(f);
	fprintf(f, "apiVersion: v1\nkind: Config\ncurrent-context: c\n"
	    "clusters:\n- name: c\n  cluster:\n    server: https://127.0.0.1:%d\n%s"
	    "users:\n- name: u\n  user:\n%s"
	    "contexts:\n- name: c\n  context: {cluster: c, user: u}\n",
	    d->port, cluster_extra, user_yaml);
	fclose(f);
	return path;
}

/*
 * The decoy CA trusted system-wide, in a private mount namespace (this test
 * process only): bound over Debian's bundle, which libcurl reads by default.
 */
static void
trust_decoy_system_wide(const struct decoy *d)
{
	char ca[400];

	snprintf(ca, sizeof ca, "%s/ca.crt", d->dir);
	cr_assert_eq(unshare(CLONE_NEWNS), 0, "unshare: %m");
	cr_assert_eq(mount(NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL), 0, "%m");
	cr_assert_eq(mount(ca, "/etc/ssl/certs/ca-certificates.crt", NULL, MS_BIND, NULL), 0,
	    "%m");
}

/* certificate-authority-data: the test cluster's CA, which did not sign the decoy. */
static char *
other_ca_line(void)
{
	struct run r;
	char cmd[600], *line;

	snprintf(cmd, sizeof cmd, "base64 -w0 %s", need_env("SIM_CA"));
	run_sh(&r, cmd);
	cr_assert_eq(r.status, 0);
	cr_assert(asprintf(&line, "    certificate-authority-data: %s\n", r.out) > 0);
	run_free(&r);
	return line;
}

Test(tls, kubeconfig_ca_replaces_the_system_store, .timeout = 120)
{
	struct decoy d;
	struct run r;
	char *log, *ca;
	const char *kc;

	decoy_start(&d);
	trust_decoy_system_wide(&d);

	/* Control: with no CA of its own the system store applies, and the decoy is in it. */
	kc = write_kubeconfig(&d, "system.yaml", "", "    token: sekret-system-store\n");
	run_nub(&r, "--kubeconfig", kc, "version", NULL);
	cr_assert_eq(r.status, 0, "the decoy is not trusted system-wide: %s", r.err);
	run_free(&r);
	log = decoy_log(&d);
	cr_assert(strstr(log, "Bearer sekret-system-store") != NULL, "%s", log);
	free(log);

	/* The kubeconfig names a CA: that one alone; the decoy gets nothing. */
	ca = other_ca_line();
	kc = write_kubeconfig(&d, "pinned.yaml", ca, "    token: sekret-pinned\n");
	run_nub(&r, "--kubeconfig", kc, "version", NULL);
	cr_assert_eq(r.status, 1, "%d: %s%s", r.status, r.out, r.err);
	cr_assert(strstr(r.err, "certificate") != NULL, "%s", r.err);
	run_free(&r);

	/* Nor through exec (the WebSocket handshake's own connection). */
	{
		struct kcfg_opts o = { .kubeconfig = kc };
		char *argv[] = { "true", NULL };
		struct exec_opts eo = EXEC_OPTS_INIT;
		struct exec_result er;
		struct kcfg *cfg;
		struct kube *k;
		struct err e;

		err_clear(&e);
		cr_assert_eq(kcfg_load(&o, &cfg, &e), 0, "%s", e.msg);
		cr_assert_eq(kube_open(cfg, NULL, &k, &e), 0, "%s", e.msg);
		eo.ns = "nublado";
		eo.pod = "hub";
		eo.argv = argv;
		eo.timeout_ms = 20000;
		cr_assert_eq(kube_exec(k, &eo, &er, &e), -1);
		cr_assert(strstr(e.msg, "certificate") != NULL, "%s", e.msg);
		kube_close(k);
		kcfg_free(cfg);
	}
	log = decoy_log(&d);
	cr_assert(strstr(log, "sekret-pinned") == NULL, "the token reached the decoy: %s", log);
	cr_assert(strstr(log, "/exec") == NULL, "%s", log);
	free(log);
	free(ca);
	decoy_stop(&d);
}

/* Each user entry smuggles a header into a value: refused, and nothing sent. */
Test(tls, header_values_with_control_bytes_are_refused, .timeout = 120)
{
	static const struct {
		const char *user;
		const char *header;
	} cases[] = {
		{ "    token: \"abc\\r\\nImpersonate-Group: system:masters\"\n", "Authorization" },
		{ "    token: \"abc\\nImpersonate-Group: system:masters\"\n", "Authorization" },
		{ "    token: \"abc\\u0000def\"\n", "Authorization" },
		{ "    token: ok\n    as: \"admin\\r\\nImpersonate-Group: system:masters\"\n",
		  "Impersonate-User" },
		{ "    token: ok\n    as: admin\n    as-groups: [\"a\\rb\"]\n", "Impersonate-Group" },
		{ "    tokenFile: TOKENFILE\n", "Authorization" },
		{ "    exec:\n      apiVersion: client.authentication.k8s.io/v1\n"
		  "      interactiveMode: Never\n      command: PLUGIN\n", "Authorization" },
	};
	struct decoy d;
	char tokenfile[400], plugin[400], *log;

	decoy_start(&d);
	snprintf(tokenfile, sizeof tokenfile, "%s/token", d.dir);
	{
		FILE *f = fopen(tokenfile, "w");

		cr_assert_not_null(f);
		fputs("abc\r\nImpersonate-Group: system:masters\n", f);
		fclose(f);
		snprintf(plugin, sizeof plugin, "%s/plugin", d.dir);
		f = fopen(plugin, "w");
		cr_assert_not_null(f);
		fputs("#!/bin/sh\ncat <<'E'\n{\"apiVersion\":\"client.authentication.k8s.io/v1\","
		    "\"kind\":\"ExecCredential\",\"status\":{\"token\":"
		    "\"abc\\r\\nImpersonate-Group: system:masters\"}}\nE\n", f);
		fclose(f);
		chmod(plugin, 0755);
	}
	for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		char user[1200], *p, name[32];
		const char *kc;
		struct run r;

		snprintf(user, sizeof user, "%s", cases[i].user);
		if ((p = strstr(user, "TOKENFILE")) != NULL) {
			char rest[600];

			snprintf(rest, sizeof rest, "%s", p + 9);
			snprintf(p, sizeof user - (size_t)(p - user), "%s%s", tokenfile, rest);
		}
		if ((p = strstr(user, "PLUGIN")) != NULL) {
			char rest[600];

			snprintf(rest, sizeof rest, "%s", p + 6);
			snprintf(p, sizeof user - (size_t)(p - user), "%s%s", plugin, rest);
		}
		snprintf(name, sizeof name, "case%zu.yaml", i);
		kc = write_kubeconfig(&d, name, "    insecure-skip-tls-verify: true\n", user);
		run_nub(&r, "--kubeconfig", kc, "-vvv", "version", NULL);
		cr_assert_eq(r.status, 1, "case %zu: %d: %s%s", i, r.status, r.out, r.err);
		cr_assert((strstr(r.err, "invalid ") != NULL && strstr(r.err, cases[i].header) &&
		    strstr(r.err, "control character") != NULL) ||
		    strstr(r.err, "holds a NUL character") != NULL, "case %zu: %s", i, r.err);
		cr_assert(strstr(r.err, "system:masters") == NULL, "case %zu shows the value: %s",
		    i, r.err);
		run_free(&r);
	}
	log = decoy_log(&d);
	cr_assert_str_eq(log, "", "requests reached the server: %s", log);
	free(log);
	decoy_stop(&d);
}

/* A 1 GiB gzip body (1 MB sent): stopped at the body limit, in bounded memory. */
Test(tls, gzip_bomb_stops_at_the_body_limit, .timeout = 120)
{
	struct decoy d;
	struct run r;
	const char *kc;
	char cmd[1600];
	long kb = 0;

	decoy_start_mode(&d, "bomb");
	kc = write_kubeconfig(&d, "bomb.yaml", "    insecure-skip-tls-verify: true\n",
	    "    token: t\n");
	snprintf(cmd, sizeof cmd, "/usr/bin/time -f 'maxrss %%M' -o %s/rss %s --kubeconfig %s "
	    "version; echo \"rc $?\"; cat %s/rss", d.dir, need_env("NUB_BIN"), kc, d.dir);
	run_sh(&r, cmd);
	cr_assert(strstr(r.out, "rc 1") != NULL, "%s%s", r.out, r.err);
	cr_assert(strstr(r.err, "larger than 64 MiB") != NULL, "%s", r.err);
	cr_assert(strstr(r.out, "maxrss ") != NULL, "%s", r.out);
	kb = atol(strstr(r.out, "maxrss ") + 7);
	/* 64 MiB of body at most, plus the client (ASan builds double it). */
	cr_assert_lt(kb, 512 * 1024, "peak RSS %ld KiB", kb);
	run_free(&r);
	decoy_stop(&d);
}
