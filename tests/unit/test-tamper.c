/*
 * Unit tests for core/tamper: what a candidate's patch does that a fair
 * candidate has no reason to.
 */
#include "tap.h"
#include "core/tamper.h"

#include <jansson.h>
#include <string.h>

static const struct tamper_markers markers = { "#__PASS__#", "#__FAIL__#",
					       "#__TIMEOUT__#" };

/* the warnings of patch (held-out patch held, or NULL), joined by "|" */
static char *check(const char *patch, const char *held)
{
	json_t *w = tamper_check(patch, strlen(patch), held,
				 held ? strlen(held) : 0, &markers);
	static char buf[2048];
	size_t i;
	json_t *v;

	buf[0] = 0;
	json_array_foreach(w, i, v)
	{
		if (i)
			strcat(buf, "|");
		strncat(buf, json_string_value(v), 512);
	}
	json_decref(w);
	return buf;
}

#define DIFF(path, body)                                                \
	"diff --git a/" path " b/" path "\n--- a/" path "\n+++ b/" path \
	"\n@@ -1 +1 @@\n" body

int main(void)
{
	const char *held = DIFF("tests/test_add.py", "-x\n+y\n");
	json_t *paths;

	is_str(check(DIFF("calc.py", "-a\n+b\n"), held), "",
	       "a fix of the code alone: clean");
	is_str(check(DIFF("tests/test_add.py", "-x\n+z\n"), held),
	       "edits tests/test_add.py, which the held-out tests patch "
	       "changes",
	       "editing the held-out test");
	is_str(check(DIFF("test_other.py", "-a\n+b\n"), held),
	       "edits test file test_other.py", "a test_*.py file");
	is_str(check(DIFF("pkg/util_test.go", "-a\n+b\n"), NULL),
	       "edits test file pkg/util_test.go", "a Go test file");
	is_str(check(DIFF("web/src/app.spec.ts", "-a\n+b\n"), NULL),
	       "edits test file web/src/app.spec.ts", "a spec file");
	is_str(check(DIFF("conftest.py", "+import os\n"), NULL),
	       "edits test configuration conftest.py", "conftest.py");
	is_str(check(DIFF("setup.cfg", "-[tool:pytest]\n+[tool:pytest]\n"),
		     NULL),
	       "edits test configuration setup.cfg",
	       "setup.cfg's pytest section");
	is_str(check(DIFF("setup.cfg", "-version = 1\n+version = 2\n"), NULL),
	       "", "setup.cfg's other sections are fine");
	is_str(check(DIFF("package.json",
			  "-  \"test\": \"jest\"\n+  \"test\": \"true\"\n"),
		     NULL),
	       "edits test configuration package.json",
	       "package.json's test script");
	is_str(check(DIFF("package.json", "-  \"version\": \"1\"\n"
					  "+  \"version\": \"2\"\n"),
		     NULL),
	       "", "package.json's other keys are fine");
	is_str(check(DIFF(".git/hooks/pre-commit", "+exit 0\n"), NULL),
	       "touches .git/hooks/pre-commit (git's own files)", ".git");
	is_str(check(DIFF(".gitignore", "+*.o\n"), NULL), "",
	       ".gitignore is not .git");
	is_str(check(DIFF("calc.py", "+print('#__PASS__#')\n"), NULL),
	       "adds the PASS marker", "a PASS marker in what it adds");
	is_str(check(DIFF("calc.py", "-print('#__FAIL__#')\n"), NULL), "",
	       "removing a marker line is no finding");
	is_str(check("diff --git a/latest_tests/x b/latest_tests/x\n"
		     "--- a/latest_tests/x\n+++ b/latest_tests/x\n",
		     NULL),
	       "", "a folder that only ends in 'tests' is not tests/");
	{
		const char *p = "diff --git a/a b/b\nrename from old.py\n"
				"rename to new.py\n--- /dev/null\n"
				"+++ b/new.c\n";
		paths = tamper_paths(p, strlen(p));
	}
	ok(json_array_size(paths) == 3, "renames and new files: %zu paths",
	   json_array_size(paths));
	json_decref(paths);
	return tap_done();
}
