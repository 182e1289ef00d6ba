/*
 * Unit tests for steps/grade_basis: the comparison of a cell's recorded
 * basis with today's (which fields count, their order, how values are
 * shown, what an unknown field or a missing basis means).
 */
#include "tap.h"
#include "steps/grade_basis.h"

#include <jansson.h>
#include <stdlib.h>

#define IMG_A \
	"sha256:433c8bafa2f119e37127b4d4946c2319caadc72cd0d809c0ec47ab1db0fc52cf"
#define IMG_B \
	"sha256:0d2e5c7a9b1f119e37127b4d4946c2319caadc72cd0d809c0ec47ab1db0fc52cf"
#define CID_A "8f06589e284358787c3ed4baf619fb0a5e727d2b0a0aa7fed83b180ec77182a3"
#define CID_B "1b7c0e4d2a93358787c3ed4baf619fb0a5e727d2b0a0aa7fed83b180ec77182a"

static json_t *basis(void)
{
	return json_pack("{s:s, s:s, s:n, s:s, s:i, s:s, s:s, s:s, s:s, s:n, "
			 "s:s, s:n, s:s}",
			 "image_id", IMG_A, "container_id", CID_A,
			 "base_commit", "app_folder", "/app", "timeout_s", 3,
			 "pass_marker", "#__PASS__#", "fail_marker",
			 "#__FAIL__#", "timeout_marker", "#__TIMEOUT__#",
			 "command", "make test", "pre_patch", "patch", CID_A,
			 "held_out_tests", "task_sync", "0.1.0");
}

static void check(const json_t *old, const json_t *now, const char *want,
		  const char *name)
{
	char *got = grade_basis_diff(old, now);
	is_str(got, want, name);
	free(got);
}

int main(void)
{
	json_t *old = basis(), *now = basis();

	check(old, now, NULL, "the same basis: nothing differs");
	check(NULL, now, "no record of what decided it", "no basis at all");

	json_object_set_new(now, "image_id", json_string(IMG_B));
	json_object_set_new(now, "container_id", json_string(CID_B));
	check(old, now,
	      "image sha256:433c8bafa2f1… → sha256:0d2e5c7a9b1f…, "
	      "container 8f06589e2843… → 1b7c0e4d2a93…",
	      "image then container, IDs shortened to 12 hex digits");

	json_decref(now);
	now = basis();
	json_object_set_new(now, "timeout_s", json_integer(10));
	json_object_set_new(now, "pass_marker", json_string("OK"));
	json_object_set_new(now, "held_out_tests", json_string(CID_B));
	check(old, now,
	      "timeout 3 s → 10 s, PASS_MARKER '#__PASS__#' → 'OK', "
	      "held-out tests none → 1b7c0e4d2a93…",
	      "timeout in seconds, markers quoted, a new held-out patch");

	json_decref(now);
	now = basis();
	json_object_set_new(
		now, "command",
		json_string(
			"python3 -m unittest tests.test_divide.TestDivide.test_quotient"));
	check(old, now,
	      "command 'make test' → 'python3 -m unittest "
	      "tests.test_divide…'",
	      "a long command is cut");

	/* what docker could not tell today is not compared */
	json_decref(now);
	now = basis();
	json_object_del(now, "image_id");
	json_object_del(now, "container_id");
	check(old, now, NULL, "unknown fields are left out");

	/* a field the old basis lacks (an older version's) differs */
	json_decref(now);
	now = basis();
	json_object_del(old, "command");
	check(old, now, "command none → 'make test'", "a field missing before");

	json_decref(old);
	json_decref(now);
	return tap_done();
}
