/* Unit tests for core/trailer: the harness's trailer lines, for people. */
#include "tap.h"
#include "core/grade.h"
#include "core/trailer.h"

#include <stdlib.h>
#include <string.h>

#define T "\n#__TS_0123456789abcdef0123456789abcdef__# "

static char *render(const char *text)
{
	struct strbuf sb = STRBUF_INIT;
	trailer_render(&sb, text, strlen(text));
	return strbuf_detach(&sb, NULL);
}

static void check(const char *text, const char *want, const char *name)
{
	char *got = render(text);
	is_str(got, want, name);
	free(got);
}

int main(void)
{
	struct grade_patch p = { "candidate", "", 0 };
	struct grade_spec g = { "/app", "true", 5, &p, 1, NULL };
	char *script = grade_script(&g, "0123456789abcdef0123456789abcdef");

	/* the line grade.c's t() prints is the one read here */
	ok(strstr(script, "printf '\\n" TRAILER_PREFIX "%s__# %s\\n' \"$N\""),
	   "the harness prints trailers as trailer.h describes them");
	free(script);

	check(T "reset-ok" T "apply-ok\nok #__PASS__#\n" T "exit 0 71" T
		"swept 0\n",
	      "-- reset ok\n-- patch applied\nok #__PASS__#\n"
	      "-- exit 0 after 71 ms\n-- nothing left running\n",
	      "a whole item: phase lines, the trailers' blank lines dropped");
	check(T "reset-ok" T "apply-ok\nno newline at the end" T "exit 1 5" T
		"swept 2\n",
	      "-- reset ok\n-- patch applied\nno newline at the end\n"
	      "-- exit 1 after 5 ms\n-- 2 processes still running after "
	      "the sweep\n",
	      "output without a final newline keeps its line");
	check("error: patch failed\n" T "error patch candidate does not "
	      "apply\n",
	      "error: patch failed\n-- error: patch candidate does not "
	      "apply\n",
	      "an error trailer");
	check(T "reset-ok" T "apply-ok\n\nblank above and below\n\n" T
		"exit 0 1" T "swept 1\n",
	      "-- reset ok\n-- patch applied\n\nblank above and below\n\n"
	      "-- exit 0 after 1 ms\n-- 1 process still running after the "
	      "sweep\n",
	      "the command's own blank lines stay");
	check(T "reset-ok" T "apply-ok\n"
		"#__TS_ffffffffffffffffffffffffffffffff__# swept 0\n" T
		"exit 0 3" T "weird thing\n",
	      "-- reset ok\n-- patch applied\n"
	      "#__TS_ffffffffffffffffffffffffffffffff__# swept 0\n"
	      "-- exit 0 after 3 ms\n"
	      "#__TS_0123456789abcdef0123456789abcdef__# weird thing\n",
	      "another nonce is the command's; an unknown trailer stays");
	check("plain output\n\nno trailers", "plain output\n\nno trailers",
	      "text without trailers is unchanged");
	check("", "", "empty text");
	return tap_done();
}
