/* Unit tests for core/model: task statuses, absolute_path, candidate roles. */
#include "tap.h"
#include "core/model.h"
#include "os/xalloc.h"

#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static void test_status(void)
{
	ok(task_status_valid("active"), "active is valid");
	ok(task_status_valid("inactive"), "inactive is valid");
	ok(task_status_valid("disabled"), "disabled is valid");
	ok(task_status_valid("running"), "running is valid");
	ok(task_status_valid(TASK_DEFAULT_STATUS), "the default is valid");
	ok(!task_status_valid(""), "empty is not valid");
	ok(!task_status_valid("Active"), "statuses are case-sensitive");
	ok(!task_status_valid("activ"), "a prefix is not valid");
	ok(!task_status_valid("active "), "trailing space is not valid");
	ok(!task_status_valid("done"), "done is not valid");
}

static void check(const char *path, const char *want)
{
	char *got = absolute_path(path);
	char name[256];
	snprintf(name, sizeof(name), "absolute_path('%s')", path);
	is_str(got, want, name);
	free(got);
}

static void test_absolute_path(void)
{
	char dir[] = "/tmp/test-model-XXXXXX";
	char old[PATH_MAX], cwd[PATH_MAX];
	char *want, *parent;

	if (!mkdtemp(dir) || !getcwd(old, sizeof(old)) || chdir(dir) ||
	    !getcwd(cwd, sizeof(cwd))) {
		ok(0, "set up a temporary directory");
		return;
	}
	/* getcwd resolves symlinks, so compare with it, not with dir */
	want = xstrfmt("%s/a", cwd);
	check("a", want);
	free(want);
	want = xstrfmt("%s/b", cwd);
	check("./a/../b/", want);
	free(want);
	want = xstrfmt("%s/a/b/c", cwd);
	check("a//b/./c/", want);
	free(want);
	check(".", cwd);
	check("./", cwd);
	parent = xstrndup(cwd, (size_t)(strrchr(cwd, '/') - cwd));
	check("..", *parent ? parent : "/");
	free(parent);
	check("../../../../../../../../../../..", "/");

	check("/abs/path", "/abs/path");
	check("/abs/path/", "/abs/path");
	check("/abs/./x/../y/", "/abs/y");
	check("//abs//path", "/abs/path");
	check("/", "/");
	check("/..", "/");
	check("/a/../../b", "/b");

	/* relative to the root directory: no doubled slash */
	if (!chdir("/")) {
		check("a", "/a");
		check("a/b/", "/a/b");
		check(".", "/");
	}

	if (chdir(old) || rmdir(dir))
		perror("test-model cleanup");
}

static void test_candidate_role(void)
{
	ok(candidate_role_len("solution1.patch") == 9,
	   "solution1.patch has the role solution1");
	ok(candidate_role_len("solution1") == 9, "solution1 is its own role");
	ok(candidate_role_len("golden") == 6, "golden is its own role");
	ok(candidate_role_len(".patch") == 6, ".patch alone is kept");
	ok(candidate_role_len("x.patch") == 1, "x.patch has the role x");
	ok(candidate_role_len("a.patch.patch") == 7,
	   "only one .patch is dropped");
	ok(candidate_role_len("") == 0, "the empty name");
}

int main(void)
{
	test_status();
	test_absolute_path();
	test_candidate_role();
	return tap_done();
}
