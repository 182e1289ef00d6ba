/*
 * Unit tests for core/truth: the one reader of true/false, yes/no, 1/0.
 */
#include "tap.h"
#include "core/truth.h"

#include <jansson.h>

static void test_strings(void)
{
	static const char *const yes[] = { "true",     "TRUE", "True", "yes",
					   "YES",      "Yes",  "1",    " yes ",
					   "\ttrue\n", NULL };
	static const char *const no[] = { "false", "FALSE", "False", "no", "NO",
					  "No",    "0",     " no\t", NULL };
	static const char *const neither[] = {
		"",   " ",   "maybe", "y",   "n",          "t",        "f", "2",
		"01", "1.0", "on",    "off", "yes please", "\"true\"", NULL
	};
	int i;

	for (i = 0; yes[i]; i++)
		ok(truth_parse(yes[i]) == 1, "'%s' is true", yes[i]);
	for (i = 0; no[i]; i++)
		ok(truth_parse(no[i]) == 0, "'%s' is false", no[i]);
	for (i = 0; neither[i]; i++)
		ok(truth_parse(neither[i]) == -1, "'%s' is neither",
		   neither[i]);
	ok(truth_parse(NULL) == -1, "NULL is neither");
}

static void test_json(void)
{
	static const struct {
		const char *text;
		int want;
	} cases[] = {
		{ "true", 1 },    { "false", 0 },  { "1", 1 },
		{ "0", 0 },       { "1.0", 1 },    { "0.0", 0 },
		{ "\"Yes\"", 1 }, { "\"no\"", 0 }, { "\"TRUE\"", 1 },
		{ "\"0\"", 0 },   { "2", -1 },     { "0.5", -1 },
		{ "-1", -1 },     { "null", -1 },  { "\"maybe\"", -1 },
		{ "[]", -1 },     { "{}", -1 },    { "\"\"", -1 },
	};
	size_t i;

	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		json_t *v = json_loads(cases[i].text, JSON_DECODE_ANY, NULL);
		ok(v && truth_json(v) == cases[i].want, "JSON %s reads %d",
		   cases[i].text, cases[i].want);
		json_decref(v);
	}
	ok(truth_json(NULL) == -1, "a missing value is neither");
}

int main(void)
{
	test_strings();
	test_json();
	return tap_done();
}
