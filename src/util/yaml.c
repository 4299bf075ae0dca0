/* yaml.c: read YAML with libfyaml, every error located as file:line:col */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#include "xalloc.h"
#include "yaml.h"

/* How long the probe may take: a 16 MiB file parses in well under a second. */
#define PROBE_SECONDS	10

static void
diag_discard(struct fy_diag *diag, void *user, const char *buf, size_t len)
{
	/* Errors are collected and reported with the file name; nothing goes to stderr. */
	(void)diag;
	(void)user;
	(void)buf;
	(void)len;
}

/* Only blank lines, comments and document markers: an empty document. */
static bool
blank(const char *s)
{
	while (*s != '\0') {
		while (*s == ' ' || *s == '\t' || *s == '\r')
			s++;
		if (*s == '#' || strncmp(s, "---", 3) == 0 || strncmp(s, "...", 3) == 0)
			s += strcspn(s, "\n");
		else if (*s != '\n' && *s != '\0')
			return false;
		if (*s == '\n')
			s++;
	}
	return true;
}

/*
 * Where well-formed UTF-8 ends (Unicode's table 3-7: no overlong forms, no
 * surrogates, nothing above U+10FFFF): len when it all is.
 */
static size_t
utf8_len(const unsigned char *s, size_t len)
{
	size_t i = 0, n;

	while (i < len) {
		unsigned char c = s[i], lo = 0x80, hi = 0xbf;

		if (c < 0x80) {
			i++;
			continue;
		}
		if (c >= 0xc2 && c <= 0xdf) {
			n = 1;
		} else if (c >= 0xe0 && c <= 0xef) {
			n = 2;
			lo = c == 0xe0 ? 0xa0 : 0x80;
			hi = c == 0xed ? 0x9f : 0xbf;
		} else if (c >= 0xf0 && c <= 0xf4) {
			n = 3;
			lo = c == 0xf0 ? 0x90 : 0x80;
			hi = c == 0xf4 ? 0x8f : 0xbf;
		} else {
			return i;
		}
		if (len - i - 1 < n || s[i + 1] < lo || s[i + 1] > hi)
			return i;
		for (size_t k = 2; k <= n; k++)
			if ((s[i + k] & 0xc0) != 0x80)
				return i;
		i += n + 1;
	}
	return len;
}

static struct fy_document *
build(const char *text, size_t len, struct fy_diag *diag)
{
	struct fy_parse_cfg pc;

	memset(&pc, 0, sizeof pc);
	pc.flags = FYPCF_QUIET | FYPCF_JSON_NONE;
	pc.diag = diag;
	/* Aliases stay unresolved: they are followed one at a time, so an alias bomb costs nothing. */
	return fy_document_build_from_string(&pc, text, len);
}

/* The probe's own parse: quietly, errors collected, the document dropped. */
static void
probe_parse(const char *text, size_t len)
{
	struct fy_diag_cfg dc;
	struct fy_diag *diag;

	fy_diag_cfg_default(&dc);
	dc.fp = NULL;
	dc.output_fn = diag_discard;
	diag = fy_diag_create(&dc);
	if (diag != NULL)
		fy_diag_set_collect_errors(diag, true);
	fy_document_destroy(build(text, len, diag));
	if (diag != NULL)
		fy_diag_destroy(diag);
}

/* In a child: no core file, no allocator's complaint on stderr. */
static void
probe_child_setup(void)
{
	struct rlimit none = { 0, 0 };
	int null = open("/dev/null", O_WRONLY);

	setrlimit(RLIMIT_CORE, &none);
	if (null >= 0)
		dup2(null, STDERR_FILENO);
}

static int
probe_failed(const struct yaml_file *f, int st, bool timed_out, struct err *e)
{
	if (timed_out || (WIFSIGNALED(st) && WTERMSIG(st) == SIGALRM))
		return err_set(e, "%s: invalid YAML: the YAML parser did not finish in %d s",
		    f->path, PROBE_SECONDS);
	return err_set(e, "%s: invalid YAML: the YAML parser failed on it (%s)", f->path,
	    WIFSIGNALED(st) ? strsignal(WTERMSIG(st)) : "exited");
}

#ifdef FUZZING_BUILD_MODE_UNSAFE_FOR_PRODUCTION
/*
 * Fuzzing only: one long-lived probe process instead of a fork per input
 * (forking an ASan process costs about a millisecond; the fuzzer wants
 * millions of runs).  Texts go to it over a pipe; it answers one byte per
 * text it came through.  A crash or a hang replaces it, and so does every
 * thousandth text, so a heap libfyaml damaged quietly does not linger.
 * The state is this process's alone, as the fuzzer is.
 */
static struct {
	pid_t pid;
	int to, from;
	unsigned uses;
} server = { -1, -1, -1, 0 };

static bool
io_full(int fd, void *p, size_t n, bool out)
{
	char *c = p;

	while (n > 0) {
		ssize_t r = out ? write(fd, c, n) : read(fd, c, n);

		if (r < 0 && errno == EINTR)
			continue;
		if (r <= 0)
			return false;
		c += r;
		n -= (size_t)r;
	}
	return true;
}

static void
server_stop(int *st)
{
	if (server.pid > 0) {
		kill(server.pid, SIGKILL);
		while (waitpid(server.pid, st, 0) < 0 && errno == EINTR)
			;
	}
	if (server.to >= 0)
		close(server.to);
	if (server.from >= 0)
		close(server.from);
	server.pid = -1;
	server.to = server.from = -1;
	server.uses = 0;
}

static bool
server_start(void)
{
	int down[2], up[2];

	if (pipe2(down, O_CLOEXEC) < 0)
		return false;
	if (pipe2(up, O_CLOEXEC) < 0) {
		close(down[0]);
		close(down[1]);
		return false;
	}
	server.pid = fork();
	if (server.pid == 0) {
		size_t len;
		char *text;

		probe_child_setup();
		close(down[1]);
		close(up[0]);
		signal(SIGPIPE, SIG_DFL);
		while (io_full(down[0], &len, sizeof len, false)) {
			text = malloc(len ? len : 1);
			if (text == NULL || !io_full(down[0], text, len, false))
				_exit(0);
			probe_parse(text, len);
			free(text);
			if (!io_full(up[1], "k", 1, true))
				_exit(0);
		}
		_exit(0);
	}
	close(down[0]);
	close(up[1]);
	if (server.pid < 0) {
		close(down[1]);
		close(up[0]);
		return false;
	}
	server.to = down[1];
	server.from = up[0];
	return true;
}

static int
probe(const struct yaml_file *f, struct err *e)
{
	struct pollfd pfd;
	size_t len = f->len;
	char ok;
	int st = 0, rc;

	if (server.pid > 0 && ++server.uses > 1000)
		server_stop(&st);
	if (server.pid < 0 && !server_start())
		return 0;	/* no probe: parse as before */
	signal(SIGPIPE, SIG_IGN);
	if (!io_full(server.to, &len, sizeof len, true) ||
	    !io_full(server.to, f->text, f->len, true)) {
		server_stop(&st);
		return probe_failed(f, st, false, e);
	}
	pfd.fd = server.from;
	pfd.events = POLLIN;
	while ((rc = poll(&pfd, 1, PROBE_SECONDS * 1000)) < 0 && errno == EINTR)
		;
	if (rc == 0 || !io_full(server.from, &ok, 1, false)) {
		server_stop(&st);
		return probe_failed(f, st, rc == 0, e);
	}
	return 0;
}
#else
/*
 * libfyaml 0.7 (Debian 12) crashes, frees twice or spins forever on some
 * malformed YAML ("? -:\t-"; fixed upstream since).  A child process parses
 * the text first, and only what it came through is parsed here: a bad file
 * is an error, never a crash.  -1 with e set when the child did not.
 */
/*
 * The file being probed, while the child runs: the child ends with _exit
 * holding the parent's memory, and a leak checker in it (valgrind follows
 * forks) must see that memory as in use, not lost.
 */
static const struct yaml_file *volatile probing;	/* volatile: never read, must stay */

static int
probe(const struct yaml_file *f, struct err *e)
{
	pid_t pid;
	int st;

	probing = f;
	pid = fork();
	if (pid < 0) {
		probing = NULL;
		return 0;	/* no probe: parse as before */
	}
	if (pid == 0) {
		probe_child_setup();
		signal(SIGALRM, SIG_DFL);
		alarm(PROBE_SECONDS);
		probe_parse(f->text, f->len);
		_exit(0);
	}
	while (waitpid(pid, &st, 0) < 0) {
		if (errno != EINTR) {
			probing = NULL;
			return 0;
		}
	}
	probing = NULL;
	if (WIFEXITED(st) && WEXITSTATUS(st) == 0)
		return 0;
	return probe_failed(f, st, false, e);
}
#endif

static int
parse(struct yaml_file *f, struct err *e)
{
	struct fy_diag_cfg dc;
	struct fy_diag *diag;
	struct fy_diag_error *de, *first = NULL;
	void *it = NULL;
	size_t bad;
	int rc = 0;

	/*
	 * YAML is Unicode text, and client-go refuses anything else.  libfyaml
	 * 0.7 (Debian 12) can also spin forever on some ill-formed UTF-8 in a
	 * directive ("%\xff"), so it never sees any.
	 */
	bad = utf8_len((const unsigned char *)f->text, f->len);
	if (bad < f->len) {
		const char *nl = memrchr(f->text, '\n', bad);
		int line = 1;

		for (const char *p = f->text; p < f->text + bad; p++)
			line += *p == '\n';
		return err_set(e, "%s:%d:%d: invalid YAML: not UTF-8 text (byte 0x%02x)",
		    f->path, line, (int)(bad - (nl != NULL ? (size_t)(nl - f->text) + 1 : 0)) + 1,
		    (unsigned char)f->text[bad]);
	}

	if (probe(f, e) < 0)
		return -1;

	fy_diag_cfg_default(&dc);
	dc.fp = NULL;
	dc.output_fn = diag_discard;
	dc.colorize = false;
	diag = fy_diag_create(&dc);
	if (diag == NULL)
		return err_set(e, "%s: cannot set up the YAML parser", f->path);
	fy_diag_set_collect_errors(diag, true);

	f->doc = build(f->text, f->len, diag);

	while ((de = fy_diag_errors_iterate(diag, &it)) != NULL) {
		if (de->type >= FYET_ERROR) {
			first = de;
			break;
		}
	}
	if (f->doc == NULL || first != NULL) {
		if (first != NULL && first->line > 0)
			rc = err_set(e, "%s:%d:%d: invalid YAML: %s", f->path,
			    first->line, first->column, first->msg);
		else if (first != NULL)
			rc = err_set(e, "%s: invalid YAML: %s", f->path, first->msg);
		else if (!blank(f->text))
			rc = err_set(e, "%s: invalid YAML", f->path);
	}
	fy_diag_destroy(diag);
	if (rc < 0)
		return rc;
	f->root = f->doc != NULL ? fy_document_root(f->doc) : NULL;
	if (f->root != NULL && yaml_is_null(f->root))
		f->root = NULL;
	if (f->root != NULL) {
		f->root = yaml_deref(f->root);
		if (f->root == NULL || fy_node_get_type(f->root) != FYNT_MAPPING)
			return yaml_err(e, f, fy_document_root(f->doc),
			    "expected a mapping at the top level, found %s",
			    yaml_kind(f->root));
	}
	return 0;
}

int
yaml_parse(const char *name, char *text, size_t len, struct yaml_file **out, struct err *e)
{
	struct yaml_file *f = xcalloc(1, sizeof *f);

	*out = NULL;
	f->path = xstrdup(name);
	f->text = text;
	f->len = len;
	if (memchr(text, '\0', len) != NULL) {
		err_set(e, "%s: invalid YAML: it contains NUL bytes", name);
		yaml_free(f);
		return -1;
	}
	if (parse(f, e) < 0) {
		yaml_free(f);
		return -1;
	}
	*out = f;
	return 0;
}

void
yaml_free(struct yaml_file *f)
{
	if (f == NULL)
		return;
	if (f->doc != NULL)
		fy_document_destroy(f->doc);
	free(f->path);
	free(f->dir);
	free(f->text);
	free(f);
}

struct fy_node *
yaml_deref(struct fy_node *n)
{
	if (n != NULL && fy_node_is_alias(n))
		return fy_node_resolve_alias(n);
	return n;
}

bool
yaml_is_null(struct fy_node *n)
{
	const char *s;
	size_t len;

	if (n == NULL)
		return true;
	if (fy_node_get_type(n) != FYNT_SCALAR || fy_node_get_style(n) != FYNS_PLAIN)
		return false;
	s = fy_node_get_scalar(n, &len);
	if (s == NULL || len == 0)
		return true;
	return (len == 1 && s[0] == '~') ||
	    (len == 4 && (memcmp(s, "null", 4) == 0 || memcmp(s, "Null", 4) == 0 ||
	    memcmp(s, "NULL", 4) == 0));
}

const char *
yaml_kind(struct fy_node *n)
{
	if (n == NULL)
		return "nothing";
	switch (fy_node_get_type(n)) {
	case FYNT_MAPPING:
		return "a mapping";
	case FYNT_SEQUENCE:
		return "a list";
	default:
		return yaml_is_null(n) ? "null" : "a string";
	}
}

/* Where a node starts: its own token for a scalar, else its first scalar inside. */
static bool
node_pos(struct fy_node *n, int depth, int *line, int *col)
{
	struct fy_token *t;
	const struct fy_mark *m;
	struct fy_node_pair *p;
	struct fy_node *c;
	void *it = NULL;

	if (n == NULL || depth > 16)
		return false;
	switch (fy_node_get_type(n)) {
	case FYNT_SCALAR:
		t = fy_node_get_scalar_token(n);
		if (t == NULL || (m = fy_token_start_mark(t)) == NULL)
			return false;
		*line = m->line + 1;
		*col = m->column + 1;
		return true;
	case FYNT_MAPPING:
		p = fy_node_mapping_iterate(n, &it);
		return p != NULL && node_pos(fy_node_pair_key(p), depth + 1, line, col);
	case FYNT_SEQUENCE:
		c = fy_node_sequence_iterate(n, &it);
		return node_pos(c, depth + 1, line, col);
	}
	return false;
}

int
yaml_err(struct err *e, const struct yaml_file *f, struct fy_node *at, const char *fmt, ...)
{
	char msg[sizeof e->msg];
	va_list ap;
	int line, col;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof msg, fmt, ap);
	va_end(ap);
	if (node_pos(at, 0, &line, &col))
		return err_set(e, "%s:%d:%d: %s", f->path, line, col, msg);
	return err_set(e, "%s: %s", f->path, msg);
}

/* "where.key", or just "key" at the top level, for printf's "%s%s%s" */
#define FIELD(where, key)	(where), ((where)[0] != '\0' ? "." : ""), (key)

/* Find key in map: 1 found (value may be a null), 0 absent, -1 bad alias. */
static int
lookup(const struct yaml_file *f, struct fy_node *map, const char *where,
    const char *key, struct fy_node **val, struct fy_node **keyp, struct err *e)
{
	struct fy_node_pair *p;
	struct fy_node *k, *v;
	void *it = NULL;
	const char *s;
	size_t len, klen = strlen(key);

	*val = NULL;
	if (keyp != NULL)
		*keyp = NULL;
	if (map == NULL)
		return 0;
	while ((p = fy_node_mapping_iterate(map, &it)) != NULL) {
		k = yaml_deref(fy_node_pair_key(p));
		if (k == NULL || fy_node_get_type(k) != FYNT_SCALAR)
			continue;
		s = fy_node_get_scalar(k, &len);
		if (s == NULL || len != klen || memcmp(s, key, len) != 0)
			continue;
		if (keyp != NULL)
			*keyp = fy_node_pair_key(p);
		v = fy_node_pair_value(p);
		if (v != NULL && fy_node_is_alias(v)) {
			*val = yaml_deref(v);
			if (*val == NULL)
				return yaml_err(e, f, v, "%s%s%s: undefined alias '%s'",
				    FIELD(where, key), fy_node_get_scalar0(v));
		} else {
			*val = v;
		}
		if (yaml_is_null(*val))
			*val = NULL;
		return 1;
	}
	return 0;
}

int
yaml_str(const struct yaml_file *f, struct fy_node *map, const char *where,
    const char *key, char **out, struct fy_node **keyp, struct err *e)
{
	struct fy_node *v, *k;
	const char *s;
	size_t len;
	int rc;

	*out = NULL;
	rc = lookup(f, map, where, key, &v, &k, e);
	if (keyp != NULL)
		*keyp = k;
	if (rc <= 0 || v == NULL)
		return rc;
	if (fy_node_get_type(v) != FYNT_SCALAR)
		return yaml_err(e, f, k, "%s%s%s: expected a string, found %s",
		    FIELD(where, key), yaml_kind(v));
	s = fy_node_get_scalar(v, &len);
	/* A C string would end at the NUL: "tok\0en" must not quietly become "tok". */
	if (s != NULL && memchr(s, '\0', len) != NULL)
		return yaml_err(e, f, k, "%s%s%s: the string holds a NUL character",
		    FIELD(where, key));
	/* client-go treats an empty string as "not set" everywhere it matters here. */
	if (s != NULL && len > 0)
		*out = xstrndup(s, len);
	return 0;
}

int
yaml_bool(const struct yaml_file *f, struct fy_node *map, const char *where,
    const char *key, bool *out, struct fy_node **keyp, struct err *e)
{
	static const char *const yes[] = { "true", "True", "TRUE", NULL };
	static const char *const no[] = { "false", "False", "FALSE", NULL };
	struct fy_node *v, *k;
	const char *s;
	size_t len = 0, i;
	int rc;

	*out = false;
	rc = lookup(f, map, where, key, &v, &k, e);
	if (keyp != NULL)
		*keyp = k;
	if (rc <= 0 || v == NULL)
		return rc;
	if (fy_node_get_type(v) == FYNT_SCALAR) {
		s = fy_node_get_scalar(v, &len);
		for (i = 0; s != NULL && yes[i] != NULL; i++) {
			if (strlen(yes[i]) == len && memcmp(s, yes[i], len) == 0) {
				*out = true;
				return 0;
			}
			if (strlen(no[i]) == len && memcmp(s, no[i], len) == 0)
				return 0;
		}
		return yaml_err(e, f, k, "%s%s%s: expected true or false, found '%.*s'",
		    FIELD(where, key), (int)(len > 40 ? 40 : len), s != NULL ? s : "");
	}
	return yaml_err(e, f, k, "%s%s%s: expected true or false, found %s",
	    FIELD(where, key), yaml_kind(v));
}

struct fy_node *
yaml_seq_item(struct fy_node *seq, void **iter)
{
	return fy_node_sequence_iterate(seq, iter);
}

int
yaml_strv(const struct yaml_file *f, struct fy_node *map, const char *where,
    const char *key, char ***out, struct fy_node **keyp, struct err *e)
{
	struct fy_node *v, *k, *item, *raw;
	char **strv = NULL, *copy;
	void *it = NULL;
	const char *s;
	size_t len;
	int rc, i = 0;

	*out = NULL;
	rc = lookup(f, map, where, key, &v, &k, e);
	if (keyp != NULL)
		*keyp = k;
	if (rc <= 0 || v == NULL)
		return rc;
	if (fy_node_get_type(v) != FYNT_SEQUENCE)
		return yaml_err(e, f, k, "%s%s%s: expected a list of strings, found %s",
		    FIELD(where, key), yaml_kind(v));
	while ((raw = yaml_seq_item(v, &it)) != NULL) {
		item = yaml_deref(raw);
		if (item == NULL || fy_node_get_type(item) != FYNT_SCALAR) {
			strv_free(strv);
			return yaml_err(e, f, item != NULL ? raw : k,
			    "%s%s%s[%d]: expected a string, found %s",
			    FIELD(where, key), i, yaml_kind(item));
		}
		s = fy_node_get_scalar(item, &len);
		if (s != NULL && memchr(s, '\0', len) != NULL) {
			strv_free(strv);
			return yaml_err(e, f, raw, "%s%s%s[%d]: the string holds a NUL character",
			    FIELD(where, key), i);
		}
		copy = xstrndup(s != NULL ? s : "", s != NULL ? len : 0);
		strv = strv_push(strv, copy);
		free(copy);
		i++;
	}
	*out = strv;
	return 0;
}

static int
collection(const struct yaml_file *f, struct fy_node *map, const char *where,
    const char *key, enum fy_node_type type, struct fy_node **out,
    struct fy_node **keyp, struct err *e)
{
	struct fy_node *v, *k;
	int rc;

	*out = NULL;
	rc = lookup(f, map, where, key, &v, &k, e);
	if (keyp != NULL)
		*keyp = k;
	if (rc <= 0 || v == NULL)
		return rc;
	if (fy_node_get_type(v) != type)
		return yaml_err(e, f, k, "%s%s%s: expected %s, found %s",
		    FIELD(where, key),
		    type == FYNT_MAPPING ? "a mapping" : "a list", yaml_kind(v));
	*out = v;
	return 0;
}

int
yaml_map(const struct yaml_file *f, struct fy_node *map, const char *where,
    const char *key, struct fy_node **out, struct fy_node **keyp, struct err *e)
{
	return collection(f, map, where, key, FYNT_MAPPING, out, keyp, e);
}

int
yaml_seq(const struct yaml_file *f, struct fy_node *map, const char *where,
    const char *key, struct fy_node **out, struct fy_node **keyp, struct err *e)
{
	return collection(f, map, where, key, FYNT_SEQUENCE, out, keyp, e);
}
