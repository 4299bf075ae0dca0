/* args.c: one option parser for every command, driven by option tables */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "args.h"
#include "xalloc.h"

const struct opt *
opt_find(const struct opt *t, const char *name, char shortname)
{
	for (; t != NULL && t->name != NULL; t++) {
		if (name != NULL && strcmp(t->name, name) == 0)
			return t;
		if (shortname != 0 && t->shortname == shortname)
			return t;
	}
	return NULL;
}

static int
record(struct args *a, const struct opt *o, const char *value, struct err *e)
{
	int i;

	for (i = 0; i < a->nseen; i++)
		if (a->seen[i].opt == o)
			break;
	if (i == a->nseen) {
		if (a->nseen == ARGS_MAX_OPTS) {
			e->exit = 2;
			return err_set(e, "too many options");
		}
		a->seen[a->nseen++].opt = o;
	}
	a->seen[i].count++;
	if (o->kind == OPT_COUNT && value != NULL) {
		char *end;
		long n = strtol(value, &end, 10);

		if (*value == '\0' || *end != '\0' || n < 0 || n > 99) {
			e->exit = 2;
			return err_set(e, "invalid value '%s' for --%s: want a number", value, o->name);
		}
		a->seen[i].count = (int)n;
	}
	if (o->kind == OPT_VALUE || o->kind == OPT_LIST) {
		if (o->choices != NULL) {
			size_t n = strlen(value);
			const char *c = o->choices;
			bool ok = false;

			while (*c != '\0') {
				size_t len = strcspn(c, "|");

				if (len == n && strncmp(c, value, n) == 0)
					ok = true;
				c += len;
				if (*c == '|')
					c++;
			}
			if (!ok) {
				e->exit = 2;
				return err_set(e, "invalid value '%s' for --%s: want one of %s",
				    value, o->name, o->choices);
			}
		}
		free(a->seen[i].value);
		a->seen[i].value = xstrdup(value);
		if (o->kind == OPT_LIST)
			a->seen[i].list = strv_push(a->seen[i].list, value);
	}
	return 0;
}

static const struct opt *
lookup(struct args *a, const char *name, char shortname)
{
	const struct opt *o = NULL;

	if (a->tables[1] != NULL)
		o = opt_find(a->tables[1], name, shortname);
	if (o == NULL)
		o = opt_find(a->tables[0], name, shortname);
	return o;
}

static void
push_pos(struct args *a, const char *s)
{
	a->pos = xrealloc(a->pos, (size_t)(a->npos + 2) * sizeof *a->pos);
	a->pos[a->npos++] = xstrdup(s);
	a->pos[a->npos] = NULL;
}

int
args_parse(struct args *a, const struct opt *global, args_pick_fn pick,
    void *pick_arg, int argc, char **argv, struct err *e)
{
	memset(a, 0, sizeof *a);
	a->tables[0] = global;
	a->pos = xcalloc(1, sizeof *a->pos);
	a->rest = xcalloc(1, sizeof *a->rest);

	for (int i = 0; i < argc; i++) {
		const char *arg = argv[i];
		const struct opt *o;

		if (strcmp(arg, "--") == 0) {
			a->dashdash = true;
			for (i++; i < argc; i++) {
				a->rest = xrealloc(a->rest, (size_t)(a->nrest + 2) * sizeof *a->rest);
				a->rest[a->nrest++] = xstrdup(argv[i]);
				a->rest[a->nrest] = NULL;
			}
			break;
		}
		if (arg[0] != '-' || arg[1] == '\0') {
			push_pos(a, arg);
			if (a->npos == 1 && pick != NULL)
				a->tables[1] = pick(arg, pick_arg);
			continue;
		}
		if (arg[1] == '-') {
			/* --name, --name=value, --name value */
			const char *eq = strchr(arg + 2, '=');
			char *name = eq ? xstrndup(arg + 2, (size_t)(eq - arg - 2)) : xstrdup(arg + 2);
			const char *value = eq ? eq + 1 : NULL;

			o = lookup(a, name, 0);
			if (o == NULL) {
				e->exit = 2;
				err_set(e, "unknown option '--%s'", name);
				free(name);
				return -1;
			}
			free(name);
			if (o->kind == OPT_FLAG && value != NULL) {
				if (strcmp(value, "true") == 0)
					value = NULL;
				else if (strcmp(value, "false") == 0)
					continue;
				else {
					e->exit = 2;
					return err_set(e, "option '--%s' takes no value", o->name);
				}
			}
			if ((o->kind == OPT_VALUE || o->kind == OPT_LIST) && value == NULL) {
				if (i + 1 >= argc) {
					e->exit = 2;
					return err_set(e, "option '--%s' needs a value", o->name);
				}
				value = argv[++i];
			}
			if (record(a, o, value, e) < 0)
				return -1;
			continue;
		}
		/* -y, -n ns, -nns, -vv, -v=3 */
		for (const char *p = arg + 1; *p != '\0'; p++) {
			o = lookup(a, NULL, *p);
			if (o == NULL) {
				e->exit = 2;
				return err_set(e, "unknown option '-%c'", *p);
			}
			if (o->kind == OPT_VALUE || o->kind == OPT_LIST) {
				const char *value = p[1] != '\0' ? p + 1 : NULL;

				if (value != NULL && *value == '=')
					value++;
				if (value == NULL) {
					if (i + 1 >= argc) {
						e->exit = 2;
						return err_set(e, "option '-%c' needs a value", *p);
					}
					value = argv[++i];
				}
				if (record(a, o, value, e) < 0)
					return -1;
				break;
			}
			if (o->kind == OPT_COUNT && p[1] == '=') {
				if (record(a, o, p + 2, e) < 0)
					return -1;
				break;
			}
			if (record(a, o, NULL, e) < 0)
				return -1;
		}
	}
	return 0;
}

void
args_free(struct args *a)
{
	for (int i = 0; i < a->nseen; i++) {
		free(a->seen[i].value);
		strv_free(a->seen[i].list);
	}
	strv_free(a->pos);
	strv_free(a->rest);
	memset(a, 0, sizeof *a);
}

static bool
in_table(const struct opt *t, const struct opt *o)
{
	for (; t != NULL && t->name != NULL; t++)
		if (t == o)
			return true;
	return false;
}

int
args_bind(const struct args *a, int which, void *dst, struct err *e)
{
	char *base = dst;

	for (int i = 0; i < a->nseen; i++) {
		const struct opt *o = a->seen[i].opt;
		const char *v = a->seen[i].value;
		void *f = base + o->off;

		if (!in_table(a->tables[which], o))
			continue;
		switch (o->bind) {
		case BIND_NONE:
			break;
		case BIND_BOOL:
			*(bool *)f = true;
			break;
		case BIND_STR:
			*(const char **)f = v;
			break;
		case BIND_COUNT:
			*(int *)f += a->seen[i].count;
			break;
		case BIND_LIST:
			*(char *const **)f = a->seen[i].list;
			break;
		case BIND_INT: {
			char *end;
			long n;

			errno = 0;
			n = strtol(v, &end, 10);
			if (*v == '\0' || *end != '\0' || errno != 0 || n < o->lo || n > o->hi) {
				e->exit = 2;
				return err_set(e, "invalid --%s '%s': want a number from %ld to %ld",
				    o->name, v, o->lo, o->hi);
			}
			*(int *)f = (int)n;
			break;
		}
		case BIND_MS:
			if (parse_duration_ms(v, (long *)f) < 0 || *(long *)f < o->lo) {
				e->exit = 2;
				return err_set(e, "invalid --%s '%s': want a duration such as 30s or 10m",
				    o->name, v);
			}
			break;
		}
	}
	return 0;
}

int
parse_duration_ms(const char *s, long *ms)
{
	double total = 0;
	const char *p = s;

	if (s == NULL || *s == '\0')
		return -1;
	while (*p != '\0') {
		char *end;
		double v;

		errno = 0;
		v = strtod(p, &end);
		if (end == p || errno != 0 || v < 0)
			return -1;
		p = end;
		if (strncmp(p, "ms", 2) == 0) {
			total += v;
			p += 2;
		} else if (*p == 's') {
			total += v * 1000;
			p++;
		} else if (*p == 'm') {
			total += v * 60000;
			p++;
		} else if (*p == 'h') {
			total += v * 3600000;
			p++;
		} else if (*p == '\0' && p == end && total == 0) {
			total = v * 1000;	/* bare number: seconds */
		} else
			return -1;
	}
	if (total > 1e12)
		return -1;
	*ms = (long)total;
	return 0;
}
