/* test-statedir.c: state directory names, and writing files there safely */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <criterion/criterion.h>

#include "../../src/util/file.h"
#include "../../src/util/statedir.h"
#include "../../src/util/xalloc.h"

#define ID "server=https://10.0.0.1:6443 namespace=nublado uid=1"

/* Each name is one path element: no '/', not "." or "..". */
static void
assert_one_element(const char *name)
{
	cr_assert_null(strchr(name, '/'), "%s", name);
	cr_assert_neq(name[0], '.', "%s", name);
	cr_assert(strlen(name) <= 64 * 3 + 17, "%s", name);
}

Test(statedir, names_that_differ_stay_apart)
{
	static const char *const ctx[] = { "a/b", "a_b", "a:b", "a.b", "a b", "a%2Fb", "..",
		".", "", "kubernetes-admin@kubernetes", "arn:aws:eks:us-east-1:1:cluster/idf", NULL };
	char *names[16];
	int n = 0;

	for (; ctx[n] != NULL; n++) {
		names[n] = statedir_name(ctx[n], ID);
		assert_one_element(names[n]);
		for (int j = 0; j < n; j++)
			cr_assert_str_neq(names[n], names[j], "'%s' and '%s'", ctx[n], ctx[j]);
	}
	cr_assert_eq(strncmp(names[0], "a%2Fb.", 6), 0, "%s", names[0]);
	cr_assert_eq(strncmp(names[6], "%2E%2E.", 7), 0, "%s", names[6]);
	for (int i = 0; i < n; i++)
		free(names[i]);
}

Test(statedir, same_context_other_cluster_is_another_directory)
{
	char *a = statedir_name("kubernetes-admin@kubernetes",
	    "server=https://192.168.0.10:6443 namespace=nublado uid=aaaa");
	char *b = statedir_name("kubernetes-admin@kubernetes",
	    "server=https://192.168.0.10:6443 namespace=nublado uid=bbbb");
	char *c = statedir_name("kubernetes-admin@kubernetes",
	    "server=https://192.168.0.10:6443 namespace=other uid=aaaa");
	char *a2 = statedir_name("kubernetes-admin@kubernetes",
	    "server=https://192.168.0.10:6443 namespace=nublado uid=aaaa");

	cr_assert_str_neq(a, b);
	cr_assert_str_neq(a, c);
	cr_assert_str_eq(a, a2, "the same cluster keeps its directory");
	free(a);
	free(b);
	free(c);
	free(a2);
}

Test(statedir, long_names_are_cut_but_kept_apart)
{
	char l1[400], l2[400];
	char *a, *b;

	memset(l1, 'x', sizeof l1 - 1);
	l1[sizeof l1 - 1] = '\0';
	memcpy(l2, l1, sizeof l2);
	l2[sizeof l2 - 2] = 'y';
	a = statedir_name(l1, ID);
	b = statedir_name(l2, ID);
	cr_assert(strlen(a) < 100, "%s", a);
	cr_assert_str_neq(a, b);
	free(a);
	free(b);
}

Test(statedir, created_private)
{
	char tmp[] = "/tmp/test-statedir-XXXXXX", *dir = NULL, *want;
	struct stat st;
	struct err e;

	cr_assert_not_null(mkdtemp(tmp));
	setenv("XDG_STATE_HOME", tmp, 1);
	err_clear(&e);
	cr_assert_eq(statedir("idfdev.0011223344556677", "backups", &dir, &e), 0, "%s", e.msg);
	want = xasprintf("%s/kubectl-nublado/idfdev.0011223344556677/backups", tmp);
	cr_assert_str_eq(dir, want);
	cr_assert_eq(stat(dir, &st), 0);
	cr_assert_eq(st.st_mode & 0777, 0700);
	free(want);
	free(dir);
}

Test(statedir, atomic_write_never_follows_a_planted_link)
{
	char tmp[] = "/tmp/test-statedir-XXXXXX", path[128], link[160], victim[128], buf[64];
	struct stat st;
	struct err e;
	ssize_t n;
	int fd;

	cr_assert_not_null(mkdtemp(tmp));
	snprintf(path, sizeof path, "%s/wipe.json", tmp);
	snprintf(link, sizeof link, "%s.tmp", path);
	snprintf(victim, sizeof victim, "%s/victim", tmp);
	fd = open(victim, O_WRONLY | O_CREAT, 0644);
	cr_assert(fd >= 0);
	cr_assert_eq(write(fd, "keep", 4), 4);
	close(fd);
	cr_assert_eq(symlink(victim, link), 0);
	err_clear(&e);
	cr_assert_eq(file_write_atomic(path, "{}\n", 3, &e), 0, "%s", e.msg);
	fd = open(victim, O_RDONLY);
	n = read(fd, buf, sizeof buf);
	close(fd);
	cr_assert_eq(n, 4);
	cr_assert_eq(memcmp(buf, "keep", 4), 0, "the link's target was written");
	cr_assert_eq(lstat(path, &st), 0);
	cr_assert(S_ISREG(st.st_mode));
	cr_assert_eq(st.st_mode & 0777, 0600);
	cr_assert_eq(lstat(link, &st), -1, "the temporary is gone");
	/* A symlink AT the path is replaced, its target untouched. */
	unlink(path);
	cr_assert_eq(symlink(victim, path), 0);
	cr_assert_eq(file_write_atomic(path, "{}\n", 3, &e), 0, "%s", e.msg);
	cr_assert_eq(lstat(path, &st), 0);
	cr_assert(S_ISREG(st.st_mode));
	fd = open(victim, O_RDONLY);
	n = read(fd, buf, sizeof buf);
	close(fd);
	cr_assert_eq(n, 4);
	unlink(path);
	unlink(victim);
	rmdir(tmp);
}
