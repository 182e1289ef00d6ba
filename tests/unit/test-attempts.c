/*
 * Unit tests for core/attempts: the repeat policy and the verdict of
 * repeated attempts (FLAKY when they disagree).
 */
#include "tap.h"
#include "core/attempts.h"

#include <jansson.h>
#include <string.h>

static void test_parse(void)
{
	static const char *const bad[] = { "",   "0",  "-1",   "21",  "x",
					   "3x", " 3", "AUTO", "1.5", NULL };
	json_t *v;
	int n = 0, i;

	ok(!attempts_parse("1", &n) && n == 1, "'1' is one attempt");
	ok(!attempts_parse("20", &n) && n == 20, "'20' is the most");
	ok(!attempts_parse("auto", &n) && n == ATTEMPTS_AUTO, "'auto'");
	for (i = 0; bad[i]; i++)
		ok(attempts_parse(bad[i], &n) == -1, "'%s' is refused", bad[i]);
	ok(attempts_parse(NULL, &n) == -1, "NULL is refused");
	v = json_integer(3);
	ok(!attempts_parse_json(v, &n) && n == 3, "JSON 3");
	json_decref(v);
	v = json_integer(0);
	ok(attempts_parse_json(v, &n) == -1, "JSON 0 is refused");
	json_decref(v);
	v = json_string("auto");
	ok(!attempts_parse_json(v, &n) && n == ATTEMPTS_AUTO, "JSON \"auto\"");
	json_decref(v);
	v = json_true();
	ok(attempts_parse_json(v, &n) == -1, "JSON true is refused");
	json_decref(v);
}

static void test_more(void)
{
	int agree[5] = { GRADE_PASS, GRADE_PASS, GRADE_PASS, GRADE_PASS,
			 GRADE_PASS };
	int differ[5] = { GRADE_PASS, GRADE_FAIL, GRADE_PASS, GRADE_PASS,
			  GRADE_PASS };

	ok(!attempts_more(1, agree, 1), "repeat 1: one attempt");
	ok(attempts_more(3, agree, 2) && !attempts_more(3, agree, 3),
	   "repeat 3: three attempts, agreeing or not");
	ok(attempts_more(3, differ, 2), "repeat 3 does not stop early");
	ok(attempts_more(ATTEMPTS_AUTO, agree, 1), "auto: at least two");
	ok(!attempts_more(ATTEMPTS_AUTO, agree, 2), "auto: two that agree");
	ok(attempts_more(ATTEMPTS_AUTO, differ, 2) &&
		   attempts_more(ATTEMPTS_AUTO, differ, 4),
	   "auto: on when they disagree");
	ok(!attempts_more(ATTEMPTS_AUTO, differ, ATTEMPTS_AUTO_MAX),
	   "auto: stops at %d", ATTEMPTS_AUTO_MAX);
	ok(attempts_wanted(ATTEMPTS_AUTO) == 2 && attempts_wanted(0) == 1 &&
		   attempts_wanted(4) == 4,
	   "the fewest attempts each policy asks for");
}

static void test_verdict(void)
{
	int agree[3] = { GRADE_FAIL, GRADE_FAIL, GRADE_FAIL };
	int differ[3] = { GRADE_PASS, GRADE_FAIL, GRADE_PASS };
	int timeouts[2] = { GRADE_TIMEOUT, GRADE_PASS };
	int passes = -1;

	ok(attempts_verdict(agree, 3, &passes) == GRADE_FAIL && passes == 0,
	   "three FAILs: FAIL");
	ok(attempts_verdict(differ, 3, &passes) == GRADE_FLAKY && passes == 2,
	   "PASS, FAIL, PASS: FLAKY, 2 passed");
	ok(attempts_verdict(timeouts, 2, &passes) == GRADE_FLAKY && passes == 1,
	   "TIMEOUT then PASS: FLAKY, never a pass");
	ok(attempts_verdict(differ, 1, &passes) == GRADE_PASS && passes == 1,
	   "one attempt: its own status");
	ok(grade_status_parse("FLAKY") == GRADE_FLAKY &&
		   !strcmp(grade_status_name(GRADE_FLAKY), "FLAKY"),
	   "FLAKY is a status name");
}

int main(void)
{
	test_parse();
	test_more();
	test_verdict();
	return tap_done();
}
