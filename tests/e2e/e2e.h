/* e2e.h: running the plugin binary against the test cluster from criterion tests */
#ifndef NUB_E2E_H
#define NUB_E2E_H

#include <stdbool.h>
#include <stddef.h>

#include <json-c/json.h>

/*
 * The harness (tests/e2e/run) starts the test cluster and sets:
 *   NUB_BIN   the kubectl-nublado binary under test (plain or sanitizer build)
 *   SIM_DIR   the cluster's directory (kubeconfig, env, phalanx/, log/)
 * and everything DIR/env exports (KUBECONFIG, SIM_DB_URL, ...).
 */
struct run {
	int status;		/* exit code, or 128+signal */
	char *out;		/* stdout, NUL-terminated */
	size_t out_len;
	char *err;		/* stderr, NUL-terminated */
	size_t err_len;
};

/* $SIM_DIR/<rel>, as a static buffer that lasts until the next call. */
const char *sim_path(const char *rel);
/* getenv that fails the test when unset. */
const char *need_env(const char *name);

/*
 * Run argv (NULL-terminated) with `input' (may be NULL) on stdin and
 * wait, at most timeout_s seconds (then kill and fail the test).
 */
void run_argv(struct run *r, char *const argv[], const char *input, int timeout_s);
/* Run $NUB_BIN with the given arguments (NULL-terminated varargs). */
void run_nub(struct run *r, const char *arg, ...) __attribute__((sentinel));
/* Run a shell command line (sh -c). */
void run_sh(struct run *r, const char *cmdline);
void run_free(struct run *r);

/* The cluster's objects as JSON text (`cluster state DIR`), caller frees. */
char *sim_state(void);
/* Apply a fault spec to the running cluster (`cluster faults DIR SPEC`). */
void sim_faults(const char *spec);

/*
 * A private test cluster, for tests that change things: up in about a
 * second (a few more with --real-hub), gone with sim_stop.  Commands run
 * against it with --kubeconfig sim->kubeconfig and XDG_STATE_HOME in its dir.
 */
struct sim {
	char dir[512];
	char kubeconfig[600];
	char env[64][2][512];	/* DIR/env as name/value pairs */
	int nenv;
};

void sim_start(struct sim *s, const char *args);
void sim_stop(struct sim *s);
const char *sim_get(const struct sim *s, const char *name);
/* The cluster's objects as JSON text (caller frees). */
char *sim_state_of(const struct sim *s);
/* Real kubectl against it (`cluster kubectl DIR -- ARGS`). */
void sim_kubectl(const struct sim *s, struct run *r, const char *args);
/* Run $NUB_BIN with --kubeconfig for s and the given arguments. */
void sim_nub(const struct sim *s, struct run *r, const char *arg, ...) __attribute__((sentinel));
/* Like sim_nub with text on stdin. */
void sim_nub_input(const struct sim *s, struct run *r, const char *input, const char *arg, ...)
	__attribute__((sentinel));

#endif

#ifndef NUB_E2E_H2
#define NUB_E2E_H2
/* Run $NUB_BIN against s, sending `sig' to it after `after_ms' milliseconds. */
void sim_nub_signal(const struct sim *s, struct run *r, int after_ms, int sig,
    const char *arg, ...) __attribute__((sentinel));
/* Change the faults of a private cluster. */
void sim_faults_of(const struct sim *s, const char *spec);
/* Run $NUB_BIN against s, sending `sig' once its stderr shows `seen'. */
void sim_nub_signal_on(const struct sim *s, struct run *r, const char *seen, int sig,
    const char *arg, ...) __attribute__((sentinel));
/*
 * The state directory of `context' on s ($XDG_STATE_HOME/kubectl-nublado/
 * CONTEXT.DIGEST), failing the test unless there is exactly one; a static
 * buffer that lasts until the next call.
 */
const char *sim_state_dir(const struct sim *s, const char *context);
/* One value from psql -At against a database URL (caller frees). */
char *sql_value(const char *url, const char *sql);
/*
 * A command's -o json output: assert the common envelope (apiVersion,
 * kind, command, ok) and return its "result" (the caller puts it).
 */
json_object *json_result(const char *out, const char *command);
/* After the fault hub-unready: wait (5 s at most) until the hub pod reports not Ready. */
void sim_wait_hub_unready(const struct sim *s);
#endif
