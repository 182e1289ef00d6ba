/* Unit tests for core/rubric: the JSON and Markdown parsers, the hash. */
#include "tap.h"
#include "core/rubric.h"
#include "os/strbuf.h"
#include "os/xalloc.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define UUID1 "d0aba505-cc93-489c-bc8b-da566a1f0af5"
#define UUID2 "5f0c3a1e-9b2d-4c7e-8f61-0a2b3c4d5e6f"

enum fmt { JSON, MD };

/*
 * Parse text into *r (released first) and return the parser's result;
 * what it printed on stderr goes to *err, the parser's own err (msg,
 * may be NULL) is passed through.
 */
static int parse_msg(enum fmt f, const char *text, struct rubric *r,
		     struct strbuf *err, struct strbuf *msg)
{
	FILE *tmp = tmpfile();
	int saved = dup(2), ret;

	rubric_release(r);
	strbuf_reset(err);
	fflush(stderr);
	dup2(fileno(tmp), 2);
	ret = f == JSON ? rubric_parse_json(text, "r.json", r, msg)
			: rubric_parse_markdown(text, "r.md", r, msg);
	fflush(stderr);
	dup2(saved, 2);
	close(saved);
	rewind(tmp);
	for (int c; (c = getc(tmp)) != EOF;)
		strbuf_addch(err, c);
	fclose(tmp);
	return ret;
}

static int parse(enum fmt f, const char *text, struct rubric *r,
		 struct strbuf *err)
{
	return parse_msg(f, text, r, err, NULL);
}

static const char *skipped(const struct rubric *r, size_t i)
{
	return i < r->skipped.nr ? r->skipped.v[i] : NULL;
}

static void test_json(struct rubric *r, struct strbuf *err)
{
	int ret;

	ret = parse(
		JSON,
		"[{\"__typename\": \"RubricItem\", \"rubricItemId\": \"" UUID1
		"\", \"criterion\": \"  Adds a README  \", \"score\": 3,"
		" \"required\": true, \"authorType\": \"human\","
		" \"tags\": [\"x\"],"
		" \"forms\": {\"f1\": {\"criterion_test_command\": "
		"\"test -f README.md\"}}},"
		" {\"rubricItemId\": \"" UUID2 "\", \"criterion\": \"B\","
		" \"forms\": {\"a\": {\"criterion_test_command\": \"\"},"
		" \"z\": {\"other\": 1},"
		" \"m\": {\"criterion_test_command\": \"echo first\"},"
		" \"b\": {\"criterion_test_command\": \"echo second\"}}}]",
		r, err);
	ok(ret == 0 && r->nr == 2, "json: two items parse");
	if (r->nr == 2) {
		is_str(r->v[0].id, UUID1, "json: rubricItemId is the id");
		is_str(r->v[0].text, "Adds a README",
		       "json: criterion is the text, trimmed");
		ok(r->v[0].score == 3, "json: score");
		ok(r->v[0].required == 1, "json: required true");
		is_str(r->v[0].command, "test -f README.md",
		       "json: command from forms");
		is_str(r->v[0].counter, "1", "json: counter = index + 1");
		is_str(r->v[1].counter, "2", "json: second counter");
		ok(r->v[1].required == 0 && r->v[1].score == 0,
		   "json: required and score default to false and 0");
		is_str(r->v[1].command, "echo first",
		       "json: first non-empty form command in file order");
		ok(r->v[0].line == 0, "json: line is 0");
	}
	ok(r->skipped.nr == 0, "json: nothing skipped");

	ret = parse(JSON,
		    "[{\"rubricItemId\": \"a\", \"score\": 2.5, \"forms\": "
		    "{\"f\": {\"criterion_test_command\": \"true\"}}}]",
		    r, err);
	ok(ret == 0 && r->nr == 1 && r->v[0].score == 2.5,
	   "json: fractional score is read");

	ret = parse(
		JSON,
		"[{\"criterion\": \"no id\", \"forms\": {\"f\": "
		"{\"criterion_test_command\": \"true\"}}},"
		" {\"rubricItemId\": \"crit-2\", \"criterion\": \"no cmd\"},"
		" {\"rubricItemId\": \"crit-3\", \"forms\": {\"f\": "
		"{\"criterion_test_command\": \"true\"}}}]",
		r, err);
	ok(ret == 0, "json: items without id or command are not fatal");
	ok(r->nr == 1, "json: one item kept");
	if (r->nr == 1) {
		is_str(r->v[0].id, "crit-3", "json: the complete item kept");
		is_str(r->v[0].counter, "3",
		       "json: dropped items still use up their numbers");
	}
	ok(r->skipped.nr == 2, "json: two items listed in skipped");
	is_str(skipped(r, 0), "item 1: no rubricItemId",
	       "json: skipped by position");
	is_str(skipped(r, 1), "item 2 'crit-2': no criterion_test_command",
	       "json: skipped by position and name");

	ret = parse(JSON, "[{\"rubricItemId\": \"a\",", r, err);
	ok(ret == -1, "json: invalid JSON returns -1");
	ok(strstr(err->buf, "r.json:1:") && strstr(err->buf, "invalid JSON"),
	   "json: invalid JSON error names file and line");

	ret = parse(JSON, "{\"rubricItemId\": \"a\"}", r, err);
	ok(ret == -1 && strstr(err->buf, "expected a JSON array"),
	   "json: an object that is not an array is an error");

	ret = parse(JSON,
		    "{\"rubrics\": [{\"rubricItemId\": \"w\", \"command\": "
		    "\"echo top\"}]}",
		    r, err);
	ok(ret == 0 && r->nr == 1, "json: a {\"rubrics\": [...]} wrapper");
	if (r->nr == 1)
		is_str(r->v[0].command, "echo top",
		       "json: a top-level command is accepted");

	ret = parse(JSON, "[\"a\"]", r, err);
	ok(ret == -1 && strstr(err->buf, "item 1 is not an object"),
	   "json: an item that is not an object is an error");

	ret = parse(JSON,
		    "[{\"rubricItemId\": \"a\", \"score\": \"3\", \"forms\": "
		    "{\"f\": {\"criterion_test_command\": \"true\"}}}]",
		    r, err);
	ok(ret == -1 && strstr(err->buf, "score is not a number"),
	   "json: a string score is an error");
}

static void test_md_headers(struct rubric *r, struct strbuf *err)
{
	int ret;

	ret = parse(MD,
		    "# Rubric\n\npreamble\n\n"
		    "### #1: " UUID1 "\n"
		    "**Score**: 3\n"
		    "**Required**: true\n"
		    "**Criterion**: Adds a README\n"
		    "**Held-out tests**:\n"
		    "```bash\n"
		    "test -f README.md\n"
		    "```\n"
		    "\n"
		    "### #02: " UUID2 " trailing words\n"
		    "**Criterion**: Second\n"
		    "**Held-out tests**:\n"
		    "```\n"
		    "echo two\n"
		    "```\n",
		    r, err);
	ok(ret == 0 && r->nr == 2, "md: '### #1: <uuid>' headers parse");
	if (r->nr == 2) {
		is_str(r->v[0].id, UUID1, "md: uuid is the id");
		is_str(r->v[0].counter, "1", "md: counter from the header");
		ok(r->v[0].score == 3, "md: score");
		ok(r->v[0].required == 1, "md: required");
		is_str(r->v[0].text, "Adds a README", "md: criterion");
		is_str(r->v[0].command, "test -f README.md",
		       "md: ```bash fence");
		ok(r->v[0].line == 5, "md: line of the header");
		is_str(r->v[1].counter, "02", "md: counter kept as written");
		is_str(r->v[1].title, "trailing words",
		       "md: text after the uuid is the title");
		is_str(r->v[1].command, "echo two", "md: plain ``` fence");
	}

	ret = parse(MD,
		    "### crit-01: Check for README.md\n"
		    "The repository has a README.\n"
		    "**Score**: 1\n"
		    "**Held-out tests**:\n"
		    "```sh\n"
		    "test -f README.md\n"
		    "```\n",
		    r, err);
	ok(ret == 0 && r->nr == 1, "md: '### crit-01: Title' parses");
	if (r->nr == 1) {
		is_str(r->v[0].id, "crit-01", "md: crit-01 is the id");
		is_str(r->v[0].title, "Check for README.md", "md: title");
		is_str(r->v[0].counter, "01", "md: counter from crit-01");
		is_str(r->v[0].text, "The repository has a README.",
		       "md: without **Criterion**, the plain text");
		is_str(r->v[0].command, "test -f README.md", "md: ```sh fence");
	}

	ret = parse(MD,
		    "### crit-07: " UUID1 "\n"
		    "**Criterion**: X\n"
		    "**Held-out tests**:\n"
		    "~~~\n"
		    "echo tilde\n"
		    "~~~\n",
		    r, err);
	ok(ret == 0 && r->nr == 1, "md: '### crit-07: <uuid>' parses");
	if (r->nr == 1) {
		is_str(r->v[0].id, UUID1, "md: the uuid is the id");
		is_str(r->v[0].counter, "07", "md: counter from crit-07");
		is_str(r->v[0].command, "echo tilde", "md: ~~~ fence");
	}
}

static void test_md_fields(struct rubric *r, struct strbuf *err)
{
	int ret;

	ret = parse(MD,
		    "### #1: " UUID1 "\r\n"
		    "**Score**: 2\r\n"
		    "**Criterion**: CRLF text\r\n"
		    "**Held-out tests**:\r\n"
		    "```bash\r\n"
		    "echo crlf\r\n"
		    "```\r\n",
		    r, err);
	ok(ret == 0 && r->nr == 1, "md: CRLF line endings");
	if (r->nr == 1) {
		is_str(r->v[0].text, "CRLF text", "md: CRLF criterion");
		is_str(r->v[0].command, "echo crlf", "md: CRLF command");
		ok(r->v[0].score == 2, "md: CRLF score");
	}

	ret = parse(MD,
		    "### #1: " UUID1 "\n"
		    "**Criterion**: First paragraph\n"
		    "continues here.\n"
		    "\n"
		    "Second paragraph.\n"
		    "**Score**: 2.5\n"
		    "**Required**: true\n"
		    "**Held-out tests**: `pytest -q tests/test_x.py`\n",
		    r, err);
	ok(ret == 0 && r->nr == 1, "md: multi-paragraph criterion parses");
	if (r->nr == 1) {
		is_str(r->v[0].text,
		       "First paragraph\ncontinues here.\n\nSecond paragraph.",
		       "md: multi-paragraph criterion kept whole");
		ok(r->v[0].score == 2.5, "md: **Score**: 2.5");
		ok(r->v[0].required == 1, "md: **Required**: true");
		is_str(r->v[0].command, "pytest -q tests/test_x.py",
		       "md: inline `command` after **Held-out tests**:");
	}

	ret = parse(MD,
		    "### #1: " UUID1 "\n"
		    "**Criterion**: has no command\n"
		    "### #2: " UUID2 "\n"
		    "**Criterion**: has one\n"
		    "**Held-out tests**:\n"
		    "```\n"
		    "true\n"
		    "```\n",
		    r, err);
	ok(ret == 0 && r->nr == 1, "md: a section without command is dropped");
	if (r->nr == 1)
		is_str(r->v[0].id, UUID2, "md: the other section is kept");
	ok(r->skipped.nr == 1, "md: the dropped section is listed");
	is_str(skipped(r, 0),
	       "r.md:1: criterion '" UUID1 "': no held-out "
	       "test command",
	       "md: skipped names the line and id");

	ret = parse(MD,
		    "### #1: " UUID1 "\n"
		    "**Criterion**: with a fenced example\n"
		    "**Held-out tests**:\n"
		    "```sh\n"
		    "cat <<'EOF'\n"
		    "### #2: " UUID2 "\n"
		    "EOF\n"
		    "```\n",
		    r, err);
	ok(ret == 0 && r->nr == 1, "md: a heading inside a code fence is "
				   "not a section");
	if (r->nr == 1)
		is_str(r->v[0].command, "cat <<'EOF'\n### #2: " UUID2 "\nEOF",
		       "md: the fenced heading stays in the command");

	ret = parse(MD,
		    "### #1: " UUID1 "\n"
		    "Some text\n"
		    "```\n"
		    "### #2: " UUID2 "\n"
		    "```\n"
		    "**Held-out tests**: `true`\n",
		    r, err);
	ok(ret == 0 && r->nr == 1, "md: a fenced heading in plain text is "
				   "ignored too");
}

static void test_md_errors(struct rubric *r, struct strbuf *err)
{
	int ret;

	ret = parse(MD, "# Rubric\n\nJust text.\n## Not a section\n", r, err);
	ok(ret == -1 && strstr(err->buf, "r.md: no criteria found"),
	   "md: no headings is an error");

	ret = parse(MD, "", r, err);
	ok(ret == -1, "md: an empty file is an error");

	ret = parse(MD,
		    "### #1: " UUID1 "\n"
		    "**Criterion**: x\n"
		    "**Held-out tests**:\n"
		    "```bash\n"
		    "echo never closed\n",
		    r, err);
	ok(ret == -1 && strstr(err->buf, "r.md:4:") &&
		   strstr(err->buf, "unclosed code fence"),
	   "md: unclosed held-out fence is an error with its line");

	ret = parse(MD,
		    "### #1: " UUID1 "\n"
		    "**Held-out tests**: `true`\n"
		    "Example:\n"
		    "```\n"
		    "no end\n"
		    "### #2: " UUID2 "\n"
		    "**Held-out tests**: `true`\n",
		    r, err);
	ok(ret == -1 && strstr(err->buf, "r.md:4:") &&
		   strstr(err->buf, "unclosed code fence"),
	   "md: an unclosed fence anywhere is an error with its line");

	ret = parse(MD,
		    "### #1: " UUID1 "\n"
		    "**Score**: lots\n"
		    "**Held-out tests**: `true`\n",
		    r, err);
	ok(ret == -1 && strstr(err->buf, "r.md:2:") &&
		   strstr(err->buf, "score is not a number"),
	   "md: a bad score is an error with its line");
}

static const char *warning(const struct rubric *r, size_t i)
{
	return i < r->warnings.nr ? r->warnings.v[i] : NULL;
}

/* headings that look like a criterion's are one, never merged into the
 * criterion before them; doubled fields are warnings */
static void test_md_variants(struct rubric *r, struct strbuf *err)
{
	int ret;

	ret = parse(MD,
		    "### crit-01: First\n"
		    "**Score**: 1\n"
		    "**Held-out tests**: `echo one`\n"
		    "### Criterion 2: x\n"
		    "**Score**: 5\n"
		    "**Held-out tests**: `echo two`\n"
		    "## crit-03 : Third\n"
		    "**Score**: 3\n"
		    "**Held-out tests**: `echo three`\n"
		    "#### Criterion #4 :  " UUID1 " fourth\n"
		    "**Held-out tests**: `echo four`\n",
		    r, err);
	ok(ret == 0 && r->nr == 4,
	   "md: 'Criterion 2:', 'crit-03 :' at ## "
	   "and '#### Criterion #4 :' are criterion headings");
	if (r->nr == 4) {
		ok(r->v[0].score == 1,
		   "md: the first criterion keeps its "
		   "score (the next section is not merged into it)");
		is_str(r->v[0].command, "echo one", "md: first command");
		is_str(r->v[1].id, "Criterion 2",
		       "md: a label of words is "
		       "the id");
		is_str(r->v[1].counter, "2", "md: its number is the counter");
		ok(r->v[1].score == 5, "md: its own score");
		is_str(r->v[1].title, "x", "md: its title");
		is_str(r->v[2].id, "crit-03", "md: space before the colon");
		is_str(r->v[2].title, "Third", "md: ... and its title");
		is_str(r->v[3].id, UUID1, "md: a UUID after 'Criterion #4 :'");
		is_str(r->v[3].counter, "4", "md: counter 4");
	}
	ok(r->warnings.nr == 0, "md: no warnings for good headings");

	ret = parse(MD,
		    "## Notes: general\n"
		    "Some text.\n"
		    "### #1: " UUID1 "\n"
		    "**Score**: 2\n"
		    "**Held-out tests**: `echo one`\n"
		    "#### Details\n"
		    "A sub-heading stays in the criterion.\n"
		    "### Second criterion\n"
		    "**Score**: 9\n"
		    "**Held-out tests**: `echo other`\n",
		    r, err);
	ok(ret == 0 && r->nr == 1, "md: '## Notes: x' is not a criterion");
	if (r->nr == 1) {
		ok(r->v[0].score == 2, "md: an unrecognised heading's score "
				       "does not overwrite the criterion's");
		is_str(r->v[0].command, "echo one", "md: nor does its command");
		ok(strstr(r->v[0].text, "sub-heading") != NULL,
		   "md: a deeper heading stays in the section");
	}
	is_str(warning(r, 0),
	       "r.md:8: '### Second criterion' is not a "
	       "criterion heading (like '### #1: <id>' or '### crit-01: "
	       "Title'); its section is ignored",
	       "md: the ignored section with fields is a warning, with line");
	ok(r->warnings.nr == 1, "md: one warning");

	ret = parse(MD,
		    "### #1: " UUID1 "\n"
		    "**Score**: 2\n"
		    "**Required**: true\n"
		    "**Held-out tests**: run `pytest` like this:\n"
		    "\n"
		    "```bash\n"
		    "pytest -q tests/test_x.py\n"
		    "```\n"
		    "**Score**: 7\n"
		    "**Required**: false\n"
		    "**Command**: `echo second`\n",
		    r, err);
	ok(ret == 0 && r->nr == 1, "md: doubled fields parse");
	if (r->nr == 1) {
		is_str(r->v[0].command, "pytest -q tests/test_x.py",
		       "md: the fence after the field wins over inline code");
		ok(r->v[0].score == 2, "md: the first score is used");
		ok(r->v[0].required == 1, "md: the first required is used");
	}
	is_str(warning(r, 0),
	       "r.md:9: criterion '" UUID1 "': a second "
	       "**Score** (line 2's is used)",
	       "md: a second score warns");
	is_str(warning(r, 1),
	       "r.md:10: criterion '" UUID1 "': a second "
	       "**Required** (line 3's is used)",
	       "md: a second required warns");
	is_str(warning(r, 2),
	       "r.md:11: criterion '" UUID1 "': a second "
	       "command (line 6's is used)",
	       "md: a second command warns");

	ret = parse(MD,
		    "### crit-01: A\n"
		    "**Held-out tests**: `true`\n"
		    "\n"
		    "### crit-01 : B\n"
		    "**Held-out tests**: `false`\n",
		    r, err);
	ok(ret == -1 && strstr(err->buf, "r.md:4: duplicate criterion ID "
					 "'crit-01' (first at line 1)"),
	   "md: a duplicate ID is an error with file, line and reason");

	ret = parse(JSON,
		    "[{\"rubricItemId\": \"a\", \"command\": \"true\"},"
		    " {\"rubricItemId\": \"b\", \"command\": \"true\"},"
		    " {\"rubricItemId\": \"a\", \"command\": \"false\"}]",
		    r, err);
	ok(ret == -1 && strstr(err->buf, "r.json: item 3: duplicate "
					 "rubricItemId 'a' (first at item 1)"),
	   "json: a duplicate ID is an error naming both items");
}

static void test_hash(void)
{
	struct criterion c = { 0 };
	char *h1, *h2, *h3, *h4;

	c.id = (char *)"a";
	c.text = (char *)"Adds a README";
	c.score = 3;
	c.required = 1;
	c.command = (char *)"test -f README.md";
	h1 = criterion_hash(&c);
	h2 = criterion_hash(&c);
	c.command = (char *)"test -f README";
	h3 = criterion_hash(&c);
	/* "3|Adds a README|true|test -f README.md" */
	c.command = (char *)"test -f README.md";
	c.counter = (char *)"7";
	c.id = (char *)"other";
	h4 = criterion_hash(&c);
	ok(strlen(h1) == 64, "hash: 64 hex characters");
	is_str(h1, h2, "hash: stable");
	ok(strcmp(h1, h3) != 0, "hash: differs when the command changes");
	is_str(h1, h4, "hash: id and counter are not part of it");
	is_str(h1,
	       "3da9fdb961efe60ba652c150261e7a797f14c704beb19648aaf211096659384a",
	       "hash: SHA-256 of score|text|required|command");
	free(h1);
	free(h2);
	free(h3);
	free(h4);
}

/* the warning at i, or NULL */
static const char *warning_at(const struct rubric *r, size_t i)
{
	return i < r->warnings.nr ? r->warnings.v[i] : NULL;
}

/* the seed: "HeldOutTest: From `forms.criterion_test_command`" */
static void test_json_command_shapes(struct rubric *r, struct strbuf *err)
{
	int ret;

	ret = parse(JSON,
		    "[{\"rubricItemId\": \"direct\", \"forms\": "
		    "{\"criterion_test_command\": \"echo direct\"}},"
		    " {\"rubricItemId\": \"by-id\", \"forms\": {\"f1\": "
		    "{\"criterion_test_command\": \"echo by-id\"}}},"
		    " {\"rubricItemId\": \"array\", \"forms\": [{\"x\": 1},"
		    " {\"criterion_test_command\": \"echo array\"}]},"
		    " {\"rubricItemId\": \"top\", \"command\": \"echo top\","
		    " \"forms\": {\"criterion_test_command\": \"echo no\"}},"
		    " {\"rubricItemId\": \"both\", \"forms\": "
		    "{\"f\": {\"criterion_test_command\": \"echo form\"},"
		    " \"criterion_test_command\": \"echo first\"}}]",
		    r, err);
	ok(ret == 0 && r->nr == 5, "json: every command shape imports");
	if (r->nr == 5) {
		is_str(r->v[0].command, "echo direct",
		       "json: forms.criterion_test_command (the seed's)");
		is_str(r->v[1].command, "echo by-id",
		       "json: forms.<form id>.criterion_test_command");
		is_str(r->v[2].command, "echo array",
		       "json: forms[i].criterion_test_command");
		is_str(r->v[3].command, "echo top",
		       "json: a top-level command comes first");
		is_str(r->v[4].command, "echo first",
		       "json: forms.criterion_test_command before a form's");
	}

	ret = parse(JSON,
		    "[{\"rubricItemId\": \"ws\", \"forms\": "
		    "{\"criterion_test_command\": \" \\t\\n \"}},"
		    " {\"rubricItemId\": \"ws-then\", \"command\": \"  \","
		    " \"forms\": {\"f\": {\"criterion_test_command\": \"\\n\"},"
		    " \"g\": {\"criterion_test_command\": \"echo g\"}}}]",
		    r, err);
	ok(ret == 0 && r->nr == 1, "json: a blank command is no command");
	if (r->nr == 1)
		is_str(r->v[0].command, "echo g",
		       "json: the first command that is not blank wins");
	is_str(skipped(r, 0),
	       "item 1 'ws': criterion_test_command is only "
	       "whitespace",
	       "json: the blank command's item says why");

	ret = parse(JSON,
		    "[{\"rubricItemId\": \"a\", \"forms\": "
		    "{\"criterion_text\": \"x\"}}, {\"rubricItemId\": \"b\","
		    " \"forms\": {\"criterion_test_command\": \"  \"}}]",
		    r, err);
	ok(ret == 0 && r->nr == 0 && r->skipped.nr == 2,
	   "json: no command anywhere parses, with nothing kept");
	is_str(skipped(r, 0), "item 1 'a': no criterion_test_command",
	       "json: a form without the key is no command");
	is_str(rubric_why_empty(r), "no item has a command",
	       "json: and says why it is empty");
	ret = parse(JSON, "[]", r, err);
	is_str(rubric_why_empty(r), "it holds no items",
	       "json: an empty array holds no items");
}

static void test_json_required(struct rubric *r, struct strbuf *err)
{
	static const struct {
		const char *value;
		int want;
	} cases[] = {
		{ "true", 1 },   { "false", 0 },    { "\"yes\"", 1 },
		{ "\"No\"", 0 }, { "\"TRUE\"", 1 }, { "\"false\"", 0 },
		{ "1", 1 },      { "0", 0 },        { "\"1\"", 1 },
		{ "\"0\"", 0 },  { "null", 0 },
	};
	struct strbuf sb = STRBUF_INIT;
	size_t i;
	int ret;

	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		strbuf_reset(&sb);
		strbuf_addf(&sb,
			    "[{\"rubricItemId\": \"a\", \"required\": "
			    "%s, \"command\": \"true\"}]",
			    cases[i].value);
		ret = parse(JSON, sb.buf, r, err);
		ok(ret == 0 && r->nr == 1 && r->v[0].required == cases[i].want,
		   "json: required %s reads %d", cases[i].value, cases[i].want);
	}
	ret = parse(JSON,
		    "[{\"rubricItemId\": \"a\", \"required\": \"maybe\","
		    " \"command\": \"true\"},"
		    " {\"rubricItemId\": \"b\", \"required\": 2,"
		    " \"command\": \"true\"},"
		    " {\"rubricItemId\": \"c\", \"required\": \"yes\","
		    " \"command\": \"true\"}]",
		    r, err);
	ok(ret == 0 && r->nr == 1 && !strcmp(r->v[0].id, "c"),
	   "json: an item whose required does not read is skipped");
	is_str(warning_at(r, 0),
	       "r.json: item 1 'a': required \"maybe\" is "
	       "not true/false/yes/no/1/0 (the item is skipped)",
	       "json: and warned about, naming file, item and value");
	is_str(warning_at(r, 1),
	       "r.json: item 2 'b': required 2 is not "
	       "true/false/yes/no/1/0 (the item is skipped)",
	       "json: a number other than 0 and 1 too");
	ret = parse(JSON,
		    "[{\"rubricItemId\": \"a\", \"required\": \"maybe\","
		    " \"command\": \"true\"}]",
		    r, err);
	is_str(rubric_why_empty(r),
	       "no item's required reads as "
	       "true/false/yes/no/1/0",
	       "json: why_empty says so");
	strbuf_release(&sb);
}

static void test_md_required_blank(struct rubric *r, struct strbuf *err)
{
	int ret;

	ret = parse(MD,
		    "### crit-01: A\n**Required**: YES\n"
		    "**Held-out tests**: `true`\n"
		    "### crit-02: B\n**Required**: 0\n"
		    "**Held-out tests**: `true`\n"
		    "### crit-03: C\n**Required**: maybe\n"
		    "**Held-out tests**: `true`\n"
		    "### crit-04: D\n**Required**:\n"
		    "**Held-out tests**: `true`\n",
		    r, err);
	ok(ret == 0 && r->nr == 3, "md: a required that does not read "
				   "drops its criterion");
	if (r->nr == 3) {
		ok(r->v[0].required == 1, "md: YES is true");
		ok(r->v[1].required == 0, "md: 0 is false");
		is_str(r->v[2].id, "crit-04", "md: a blank required is kept");
		ok(r->v[2].required == 0, "md: and is not required");
	}
	is_str(warning_at(r, 0),
	       "r.md:8: criterion 'crit-03': required "
	       "\"maybe\" is not true/false/yes/no/1/0 (the criterion is "
	       "skipped)",
	       "md: the warning names line, criterion, value");

	ret = parse(MD,
		    "### crit-01: A\n**Held-out tests**: ` \t `\n"
		    "### crit-02: B\n**Held-out tests**:\n```\n  \n\t\n```\n",
		    r, err);
	ok(ret == 0 && r->nr == 0, "md: a blank command is no command");
	is_str(skipped(r, 0),
	       "r.md:1: criterion 'crit-01': held-out test "
	       "command is only whitespace",
	       "md: inline blank says why");
	is_str(skipped(r, 1),
	       "r.md:3: criterion 'crit-02': no held-out "
	       "test command",
	       "md: an empty fence is no command");
	is_str(rubric_why_empty(r), "no item has a command", "md: why_empty");

	ret = parse(MD,
		    "### crit-01: A\n**Score**: nan\n"
		    "**Held-out tests**: `true`\n",
		    r, err);
	ok(ret == -1 && strstr(err->buf, "score is not a number"),
	   "md: a score of nan is not a number");
}

/* the message a failure prints is the one the caller's err gets */
static void test_err_channel(struct rubric *r, struct strbuf *err)
{
	static const struct {
		enum fmt f;
		const char *text, *want;
	} bad[] = {
		{ JSON, "[", "r.json:1:" },
		{ JSON, "{}", "r.json: expected a JSON array" },
		{ MD, "### #1: a\n```\nx\n", "r.md:2: unclosed code fence" },
		{ MD, "text\n", "r.md: no criteria found" },
	};
	struct strbuf msg = STRBUF_INIT, want = STRBUF_INIT;
	size_t i;

	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		strbuf_addstr(&msg, "stale");
		ok(parse_msg(bad[i].f, bad[i].text, r, err, &msg) == -1,
		   "err channel %zu: fails", i);
		ok(!strncmp(msg.buf, bad[i].want, strlen(bad[i].want)),
		   "err channel %zu: err holds '%s...'", i, bad[i].want);
		strbuf_reset(&want);
		strbuf_addf(&want, "error: %s\n", msg.buf);
		is_str(err->buf, want.buf,
		       "err channel: the same message "
		       "is printed once");
		strbuf_reset(&msg);
	}
	strbuf_release(&msg);
	strbuf_release(&want);
}

static void test_timeout(struct rubric *r, struct strbuf *err)
{
	struct strbuf msg = STRBUF_INIT;
	char *h0, *h1;

	ok(!parse(JSON,
		  "[{\"rubricItemId\": \"a\", \"command\": \"true\","
		  " \"timeout_seconds\": 30},"
		  " {\"rubricItemId\": \"b\", \"command\": \"true\"}]",
		  r, err) &&
		   r->nr == 2 && r->v[0].timeout_s == 30 &&
		   r->v[1].timeout_s == 0,
	   "JSON: a criterion's own timeout_seconds; none is 0");
	h1 = criterion_hash(&r->v[0]);
	r->v[0].timeout_s = 0;
	h0 = criterion_hash(&r->v[0]);
	ok(strcmp(h0, h1) != 0, "the timeout is part of the hash when set");
	free(h0);
	free(h1);
	ok(parse_msg(JSON,
		     "[{\"rubricItemId\": \"a\", \"command\": \"true\","
		     " \"timeout_seconds\": \"soon\"}]",
		     r, err, &msg) < 0 &&
		   strstr(msg.buf, "item 1 'a': timeout_seconds is not a "
				   "whole number of seconds"),
	   "JSON: a timeout that is not a number");
	ok(!parse(MD,
		  "### crit-01: t\n**Timeout**: 45 s\n**Held-out tests**:\n```sh\ntrue\n```\n"
		  "### crit-02: u\n**Timeout**: 7\n**Held-out tests**:\n```sh\ntrue\n```\n",
		  r, err) &&
		   r->nr == 2 && r->v[0].timeout_s == 45 &&
		   r->v[1].timeout_s == 7,
	   "Markdown: **Timeout**: 45 s and 7");
	strbuf_reset(&msg);
	ok(parse_msg(
		   MD,
		   "### crit-01: t\n**Timeout**: 2.5\n**Held-out tests**:\n```sh\ntrue\n```\n",
		   r, err, &msg) < 0 &&
		   strstr(msg.buf, "timeout is not a whole number"),
	   "Markdown: 2.5 s is refused");
	strbuf_release(&msg);
}

int main(void)
{
	struct rubric r = RUBRIC_INIT;
	struct strbuf err = STRBUF_INIT;

	test_json(&r, &err);
	test_md_headers(&r, &err);
	test_md_fields(&r, &err);
	test_md_errors(&r, &err);
	test_md_variants(&r, &err);
	test_json_command_shapes(&r, &err);
	test_json_required(&r, &err);
	test_md_required_blank(&r, &err);
	test_hash();
	test_timeout(&r, &err);
	test_err_channel(&r, &err);
	rubric_release(&r);
	strbuf_release(&err);
	return tap_done();
}
