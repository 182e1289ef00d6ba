#ifndef CORE_TAMPER_H
#define CORE_TAMPER_H

#include <jansson.h>
#include <stddef.h>

/*
 * Tamper checks of a candidate's patch before it is graded: what the
 * patch does that a fair candidate has no reason to do. Each finding is
 * a warning shown next to the verdict (the cell is still graded):
 *
 * - it edits a file that the held-out tests patch adds or changes;
 * - it edits test files (a tests/ or test/ folder, test_*.py,
 *   *_test.py, *_test.go, *.test.js, *.spec.ts, ...) or test
 *   configuration (conftest.py, pytest.ini, tox.ini, setup.cfg's test
 *   sections, package.json's test scripts, jest/vitest configs);
 * - it contains a marker string (the PASS, FAIL or TIMEOUT marker) in
 *   what it adds;
 * - it touches .git.
 *
 * Pure: text in, JSON out.
 */

struct tamper_markers {
	const char *pass, *fail, *timeout; /* NULL or "" when unset */
};

/*
 * The warnings for patch (len bytes), given the held-out tests patch
 * (NULL when none): a JSON array of strings, empty when clean (new
 * reference).
 */
json_t *tamper_check(const char *patch, size_t len, const char *held_out,
		     size_t held_len, const struct tamper_markers *m);

/* the paths a unified diff touches, old and new names (new reference) */
json_t *tamper_paths(const char *patch, size_t len);

#endif
