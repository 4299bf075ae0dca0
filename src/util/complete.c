/* complete.c: shell completion candidates from the option and command tables */
#include <stdlib.h>
#include <string.h>

#include "complete.h"
#include "xalloc.h"

void
complete_add(struct complete_result *r, const char *value, const char *desc)
{
	if (r->n == r->cap) {
		r->cap = r->cap ? 2 * r->cap : 16;
		r->v = xrealloc(r->v, r->cap * sizeof *r->v);
	}
	r->v[r->n].value = xstrdup(value);
	r->v[r->n].desc = desc != NULL && *desc != '\0' ? xstrdup(desc) : NULL;
	r->n++;
}

static void
cands_free(struct complete_result *r)
{
	for (size_t i = 0; i < r->n; i++) {
		free(r->v[i].value);
		free(r->v[i].desc);
	}
	free(r->v);
	r->v = NULL;
	r->n = r->cap = 0;
}

void
complete_result_free(struct complete_result *r)
{
	cands_free(r);
	r->directive = 0;
}

const char *
complete_line_get(const struct complete_line *l, const char *name)
{
	const char *v = NULL;

	for (int i = 0; i < l->nseen; i++)
		if (strcmp(l->seen[i].opt->name, name) == 0 && l->seen[i].value != NULL)
			v = l->seen[i].value;
	return v;
}

static bool
takes_value(const struct opt *o)
{
	return o->kind == OPT_VALUE || o->kind == OPT_LIST;
}

static void
line_seen(struct complete_line *l, const struct opt *o, const char *value)
{
	if (l->nseen < ARGS_MAX_OPTS) {
		l->seen[l->nseen].opt = o;
		l->seen[l->nseen].value = value;
		l->nseen++;
	}
}

static bool
line_has(const struct complete_line *l, const struct opt *o)
{
	for (int i = 0; i < l->nseen; i++)
		if (l->seen[i].opt == o)
			return true;
	return false;
}

/* As the real parser looks options up: the command's table first. */
static const struct opt *
line_opt(const struct complete_line *l, const struct opt *global,
    const char *name, char shortname)
{
	const struct opt *o = NULL;

	if (l->cmd != NULL)
		o = opt_find(l->cmd->opts, name, shortname);
	return o != NULL ? o : opt_find(global, name, shortname);
}

/* The same rule as cmd_find(): the full name, or a unique prefix of a safe command. */
static const struct complete_cmd *
find_cmd(const struct complete_cmd *cmds, size_t ncmds, const char *name)
{
	const struct complete_cmd *found = NULL;
	size_t n = strlen(name);
	int matches = 0;

	for (size_t i = 0; i < ncmds; i++) {
		if (strcmp(cmds[i].name, name) == 0)
			return &cmds[i];
		if (strncmp(cmds[i].name, name, n) == 0 && !cmds[i].destructive) {
			found = &cmds[i];
			matches++;
		}
	}
	return matches == 1 ? found : NULL;
}

static void
positional(struct complete_line *l, const struct complete_cmd *cmds,
    size_t ncmds, const char *w)
{
	if (l->npos++ == 0)
		l->cmd = find_cmd(cmds, ncmds, w);
}

/*
 * Walk the words before the cursor as args_parse() would, but forgiving:
 * unknown options are skipped, not errors.  Returns the option whose value
 * the cursor word is (`--context <TAB>'), or NULL.
 */
static const struct opt *
walk(struct complete_line *l, const struct opt *global,
    const struct complete_cmd *cmds, size_t ncmds, int n, char *const *w)
{
	for (int i = 0; i < n; i++) {
		const char *a = w[i];
		const struct opt *o;

		if (l->dashdash || a[0] != '-' || a[1] == '\0') {
			positional(l, cmds, ncmds, a);
			continue;
		}
		if (strcmp(a, "--") == 0) {
			l->dashdash = true;
			continue;
		}
		if (a[1] == '-') {
			const char *eq = strchr(a + 2, '=');
			char *name = eq ? xstrndup(a + 2, (size_t)(eq - a - 2)) : xstrdup(a + 2);

			o = line_opt(l, global, name, 0);
			free(name);
			if (o == NULL)
				continue;
			if (takes_value(o) && eq == NULL) {
				if (i + 1 == n)
					return o;
				line_seen(l, o, w[++i]);
			} else
				line_seen(l, o, takes_value(o) ? eq + 1 : NULL);
			continue;
		}
		for (const char *p = a + 1; *p != '\0'; p++) {
			o = line_opt(l, global, NULL, *p);
			if (o == NULL)
				break;
			if (takes_value(o)) {
				const char *v = p[1] != '\0' ? p + 1 : NULL;

				if (v != NULL && *v == '=')
					v++;
				if (v == NULL) {
					if (i + 1 == n)
						return o;
					v = w[++i];
				}
				line_seen(l, o, v);
				break;
			}
			line_seen(l, o, NULL);
			if (o->kind == OPT_COUNT && p[1] == '=')
				break;
		}
	}
	return NULL;
}

static bool
has_prefix(const char *s, const char *prefix)
{
	return strncmp(s, prefix, strlen(prefix)) == 0;
}

/* Candidates for the value of `o', those starting with `typed', each after `lead'. */
static void
values(const struct opt *o, const struct complete_line *l, const char *typed,
    const char *lead, complete_lookup_fn lookup, void *arg,
    struct complete_result *out)
{
	struct complete_result all = { 0 };

	out->directive = COMPLETE_DIR_NOFILE;
	switch (o->complete) {
	case COMPLETE_NONE:
		return;
	case COMPLETE_FILE:
		out->directive = COMPLETE_DIR_DEFAULT;
		return;
	case COMPLETE_DIR:
		out->directive = COMPLETE_DIR_FILTER_DIRS;
		return;
	case COMPLETE_CHOICES:
		for (const char *c = o->choices; c != NULL && *c != '\0';) {
			size_t len = strcspn(c, "|");
			char *v = xstrndup(c, len);

			complete_add(&all, v, NULL);
			free(v);
			c += len;
			if (*c == '|')
				c++;
		}
		break;
	default:
		if (lookup == NULL || lookup(o->complete, l, &all, arg) < 0)
			cands_free(&all);
		break;
	}
	for (size_t i = 0; i < all.n; i++) {
		if (has_prefix(all.v[i].value, typed)) {
			char *v = xasprintf("%s%s", lead, all.v[i].value);

			complete_add(out, v, all.v[i].desc);
			free(v);
		}
	}
	cands_free(&all);
}

static void
flags_from(const struct opt *t, const struct opt *shadow,
    const struct complete_line *l, const char *typed, struct complete_result *out)
{
	for (; t != NULL && t->name != NULL; t++) {
		char buf[128];

		if (t->flags & (OPT_DESTRUCTIVE | OPT_HIDDEN))
			continue;
		/* The command's own option of the same name wins. */
		if (shadow != NULL && opt_find(shadow, t->name, 0) != NULL)
			continue;
		/* Given once is enough, unless it adds up or repeats. */
		if (line_has(l, t) && t->kind != OPT_COUNT && t->kind != OPT_LIST)
			continue;
		snprintf(buf, sizeof buf, "--%s", t->name);
		if (has_prefix(buf, typed))
			complete_add(out, buf, t->help);
		if (t->shortname != 0) {
			snprintf(buf, sizeof buf, "-%c", t->shortname);
			if (has_prefix(buf, typed))
				complete_add(out, buf, t->help);
		}
	}
}

void
complete_run(const struct opt *global, const struct complete_cmd *cmds,
    size_t ncmds, int argc, char *const *argv, complete_lookup_fn lookup,
    void *arg, struct complete_result *out)
{
	struct complete_line l;
	const char *cur = argc > 0 ? argv[argc - 1] : "";
	const struct opt *pending, *o;

	memset(&l, 0, sizeof l);
	memset(out, 0, sizeof *out);
	pending = walk(&l, global, cmds, ncmds, argc > 0 ? argc - 1 : 0, argv);

	if (pending != NULL) {
		values(pending, &l, cur, "", lookup, arg, out);
		return;
	}
	out->directive = COMPLETE_DIR_NOFILE;
	if (!l.dashdash && has_prefix(cur, "--") && strchr(cur, '=') != NULL) {
		/* --context=<TAB>: candidates keep the --context= in front */
		const char *eq = strchr(cur, '=');
		char *name = xstrndup(cur + 2, (size_t)(eq - cur - 2));
		char *lead = xstrndup(cur, (size_t)(eq - cur + 1));

		o = line_opt(&l, global, name, 0);
		if (o != NULL && takes_value(o))
			values(o, &l, eq + 1, lead, lookup, arg, out);
		free(name);
		free(lead);
		return;
	}
	if (!l.dashdash && cur[0] == '-' && cur[1] != '-' && cur[1] != '\0' && cur[2] != '\0' &&
	    (o = line_opt(&l, global, NULL, cur[1])) != NULL && takes_value(o)) {
		/* -nkube<TAB>: the value glued to a short option */
		char lead[3] = { '-', cur[1], '\0' };

		values(o, &l, cur + 2, lead, lookup, arg, out);
		return;
	}
	if (!l.dashdash && cur[0] == '-') {
		if (l.cmd != NULL)
			flags_from(l.cmd->opts, NULL, &l, cur, out);
		flags_from(global, l.cmd != NULL ? l.cmd->opts : NULL, &l, cur, out);
		return;
	}
	if (l.npos == 0 && !l.dashdash) {
		/* In the table's (runbook) order. */
		out->directive |= COMPLETE_DIR_KEEP_ORDER;
		for (size_t i = 0; i < ncmds; i++)
			if (!cmds[i].hidden && has_prefix(cmds[i].name, cur))
				complete_add(out, cmds[i].name, cmds[i].summary);
	}
	if (l.cmd != NULL && l.npos == 1 && !l.dashdash && l.cmd->args == COMPLETE_BACKUP) {
		struct complete_result all = { 0 };

		/* The saved backups, newest first; else any *.sql file. */
		if (lookup != NULL && lookup(COMPLETE_BACKUP, &l, &all, arg) == 0)
			for (size_t i = 0; i < all.n; i++)
				if (has_prefix(all.v[i].value, cur))
					complete_add(out, all.v[i].value, all.v[i].desc);
		cands_free(&all);
		if (out->n > 0) {
			out->directive = COMPLETE_DIR_NOFILE | COMPLETE_DIR_KEEP_ORDER;
		} else {
			complete_add(out, "sql", NULL);
			out->directive = COMPLETE_DIR_FILTER_EXT;
		}
		return;
	}
	/* Other commands take no file arguments: offer nothing rather than files. */
}

/* One line of a description, tabs made spaces: the protocol is line-based. */
static void
print_desc(FILE *f, const char *d)
{
	fputc('\t', f);
	for (; *d != '\0' && *d != '\n' && *d != '\r'; d++)
		fputc(*d == '\t' ? ' ' : *d, f);
}

void
complete_print(FILE *f, const struct complete_result *r, bool desc)
{
	for (size_t i = 0; i < r->n; i++) {
		const char *v = r->v[i].value;

		if (*v == '\0' || strpbrk(v, "\t\n\r") != NULL)
			continue;
		fputs(v, f);
		if (desc && r->v[i].desc != NULL)
			print_desc(f, r->v[i].desc);
		fputc('\n', f);
	}
	fprintf(f, ":%u\n", r->directive);
}
