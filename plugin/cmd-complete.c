/* cmd-complete.c: the hidden __complete command (cobra's protocol), also run as kubectl_complete-nublado */
#include <fcntl.h>
#include <glob.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/time.h>
#include <unistd.h>

#include "../src/nublado/dburl.h"
#include "../src/nublado/labs.h"
#include "../src/nublado/nub-list.h"
#include "../src/nublado/nub.h"
#include "../src/util/complete.h"
#include "../src/util/exitcode.h"
#include "../src/util/log.h"
#include "../src/util/statedir.h"
#include "../src/util/xalloc.h"
#include "cmd.h"

/*
 * Cluster lookups must not make a shell wait: each request gets this long,
 * and the whole completion is cut off (printing nothing) a little later.
 */
#define COMPLETE_REQUEST_MS	2000
#define COMPLETE_DEADLINE_MS	2500

#define LAB_USER_LABEL		"nublado.lsst.io/user"

static void
deadline_reached(int sig)
{
	static const char nothing[] = ":4\n";

	/* Nothing has been written yet: say "no candidates" and go. */
	(void)sig;
	(void)!write(STDOUT_FILENO, nothing, sizeof nothing - 1);
	_exit(EXIT_OK);
}

static void
deadline_set(long ms)
{
	struct itimerval it = { .it_value = { ms / 1000, (ms % 1000) * 1000 } };
	struct sigaction sa = { .sa_handler = deadline_reached };

	if (ms > 0)
		sigaction(SIGALRM, &sa, NULL);
	setitimer(ITIMER_REAL, &it, NULL);
}

/* A shell is reading our stdout: no prompts, no messages on its terminal. */
static void
quiet(void)
{
	int fd = open("/dev/null", O_RDWR);

	if (fd < 0)
		return;
	dup2(fd, STDIN_FILENO);
	dup2(fd, STDERR_FILENO);
	if (fd > STDERR_FILENO)
		close(fd);
}

static int
add_contexts(const struct nub_opts *o, struct complete_result *r)
{
	char **names, *current;
	struct err e;

	/* Names only: a broken user entry must not hide the contexts. */
	if (nub_list_contexts(o, &names, &current, &e) < 0)
		return -1;
	for (size_t i = 0; names != NULL && names[i] != NULL; i++)
		complete_add(r, names[i], current != NULL && strcmp(names[i], current) == 0 ?
		    "current context" : NULL);
	strv_free(names);
	free(current);
	return 0;
}

/* Names in a list: kubeconfig entries, namespaces. */
static int
add_names(char **names, struct complete_result *r)
{
	for (size_t i = 0; names != NULL && names[i] != NULL; i++)
		complete_add(r, names[i], NULL);
	strv_free(names);
	return 0;
}

static int
add_entries(const struct nub_opts *o, bool users, struct complete_result *r)
{
	char **names;
	struct err e;

	return nub_list_entries(o, users, &names, &e) < 0 ? -1 : add_names(names, r);
}

static int
add_namespaces(const struct nub_opts *o, struct complete_result *r)
{
	char **names;
	struct err e;

	return nub_list_namespaces(o, &names, &e) < 0 ? -1 : add_names(names, r);
}

/*
 * kill-labs --user: the users of the namespaces kill-labs would delete, by
 * its own rule (labs_select: prefix AND label), not every lab-labelled one.
 */
static int
add_lab_users(const struct nub_opts *o, struct complete_result *r)
{
	struct labset set;
	struct nub *n = NULL;
	struct err e;
	int rc = -1;

	err_clear(&e);
	if (nub_open(o, &n, &e) == 0 && labs_select(n, NULL, &set, &e) == 0) {
		for (size_t i = 0; i < set.n; i++) {
			char *desc = xasprintf("lab namespace %s", set.labs[i].name);

			if (set.labs[i].user != NULL)
				complete_add(r, set.labs[i].user, desc);
			free(desc);
		}
		labset_free(&set);
		rc = 0;
	}
	nub_close(n);
	return rc;
}

/* db-url's own rule for what an environment is (values-ENV.yaml). */
static int
add_phalanx_envs(const char *phalanx, struct complete_result *r)
{
	char **envs;
	struct err e;

	if (phalanx == NULL || dburl_list_envs(phalanx, &envs, &e) < 0)
		return -1;
	for (size_t i = 0; envs[i] != NULL; i++)
		complete_add(r, envs[i], NULL);
	strv_free(envs);
	return 0;
}

static int
newest_first(const void *a, const void *b)
{
	return strcmp(*(char *const *)b, *(char *const *)a);
}

/*
 * wipe-db's backups for the context (every cluster behind that name: the
 * file names carry the time, the digest which cluster), newest first.  No
 * network: the state directory alone.
 */
static int
add_backups(const struct nub_opts *o, struct complete_result *r)
{
	const char *xdg = getenv("XDG_STATE_HOME"), *home = getenv("HOME");
	char *context = nub_list_context(o), *prefix, *pattern;
	glob_t g;

	prefix = statedir_context_prefix(context);
	free(context);
	if (xdg != NULL && *xdg == '/')
		pattern = xasprintf("%s/kubectl-nublado/%s*/backups/*.sql", xdg, prefix);
	else if (home != NULL && *home != '\0')
		pattern = xasprintf("%s/.local/state/kubectl-nublado/%s*/backups/*.sql", home,
		    prefix);
	else
		pattern = NULL;
	free(prefix);
	if (pattern == NULL || glob(pattern, 0, NULL, &g) != 0) {
		free(pattern);
		return -1;
	}
	free(pattern);
	/* nublado-db-CONTEXT-STAMP.sql: the stamp sorts by time. */
	qsort(g.gl_pathv, g.gl_pathc, sizeof *g.gl_pathv, newest_first);
	for (size_t i = 0; i < g.gl_pathc; i++)
		complete_add(r, g.gl_pathv[i], "a backup taken by wipe-db");
	globfree(&g);
	return 0;
}

static int
lookup(enum opt_complete kind, const struct complete_line *l,
    struct complete_result *r, void *arg)
{
	struct nub_opts o = {
		.kubeconfig = complete_line_get(l, "kubeconfig"),
		.context = complete_line_get(l, "context"),
		.namespace = complete_line_get(l, "namespace"),
		.request_timeout_ms = COMPLETE_REQUEST_MS,
		/* The cluster kubectl would talk to with these flags (client-go's overrides). */
		.ov = {
			.cluster = complete_line_get(l, "cluster"),
			.server = complete_line_get(l, "server"),
			.tls_server_name = complete_line_get(l, "tls-server-name"),
			.ca_file = complete_line_get(l, "certificate-authority"),
			.client_cert = complete_line_get(l, "client-certificate"),
			.client_key = complete_line_get(l, "client-key"),
			.token = complete_line_get(l, "token"),
			.as = complete_line_get(l, "as"),
			.as_uid = complete_line_get(l, "as-uid"),
		},
	};
	switch (kind) {
	case COMPLETE_CONTEXT:
		return add_contexts(&o, r);
	case COMPLETE_NAMESPACE:
		return add_namespaces(&o, r);
	case COMPLETE_LAB_USER:
		return add_lab_users(&o, r);
	case COMPLETE_KUBE_CLUSTER:
		return add_entries(&o, false, r);
	case COMPLETE_KUBE_USER:
		return add_entries(&o, true, r);
	case COMPLETE_PHALANX_ENV:
		return add_phalanx_envs(complete_line_get(l, "phalanx"), r);
	case COMPLETE_BACKUP:
		return add_backups(&o, r);
	default:
		return -1;
	}
}

/*
 * `kubectl-nublado __complete WORD... CUR' (cobra's hidden command, also
 * __completeNoDesc), or the binary run as kubectl_complete-nublado (kubectl
 * >= 1.26 runs that with the plugin's words).  Called first thing in main():
 * partial command lines must not reach the strict option parser.  Returns -1
 * when this is not a completion run.
 */
int
cmd_complete_main(int argc, char **argv)
{
	const char *base = argc > 0 ? strrchr(argv[0], '/') : NULL;
	struct complete_cmd *cmds;
	struct complete_result r;
	bool desc = true;
	size_t n = 0;
	int first;

	if (argc < 1)
		return -1;
	base = base != NULL ? base + 1 : argv[0];
	if (strcmp(base, "kubectl_complete-nublado") == 0)
		first = 1;
	else if (argc > 1 && strcmp(argv[1], "__complete") == 0)
		first = 2;
	else if (argc > 1 && strcmp(argv[1], "__completeNoDesc") == 0) {
		first = 2;
		desc = false;
	} else
		return -1;

	quiet();
	while (cmd_table[n] != NULL)
		n++;
	cmds = xcalloc(n + 1, sizeof *cmds);
	for (size_t i = 0; i < n; i++) {
		cmds[i].name = cmd_table[i]->name;
		cmds[i].summary = cmd_table[i]->summary;
		cmds[i].opts = cmd_table[i]->opts;
		cmds[i].hidden = (cmd_table[i]->flags & CMD_HIDDEN) != 0;
		cmds[i].destructive = (cmd_table[i]->flags & CMD_DESTRUCTIVE) != 0;
		cmds[i].args = cmd_table[i]->args;
	}
	deadline_set(COMPLETE_DEADLINE_MS);
	complete_run(cmd_global_opts, cmds, n, argc - first, argv + first, lookup, NULL, &r);
	deadline_set(0);
	complete_print(stdout, &r, desc);
	complete_result_free(&r);
	free(cmds);
	return fflush(stdout) == 0 && !ferror(stdout) ? EXIT_OK : EXIT_ERROR;
}

static int
cmd_complete_exec(struct cmd_ctx *ctx, void *opts)
{
	/* main() hands __complete over before parsing; here it came after options. */
	log_error("__complete must come first: %s __complete WORD... CURRENT", ctx->prog);
	return EXIT_USAGE;
}

const struct cmd_entry cmd_complete_entry = {
	.name = "__complete",
	.summary = "Shell completion candidates (cobra's protocol, for the completion scripts)",
	.operands = "[WORD...] CURRENT",
	.exec = cmd_complete_exec,
	.flags = CMD_HIDDEN,
};
