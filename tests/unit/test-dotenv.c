/*
 * Unit tests for core/dotenv: the .env conventions (export, quotes,
 * escapes, comments, blanks around '='), and that a line which cannot be
 * read is reported with its number and skipped while the rest is read.
 */
#include "tap.h"
#include "core/dotenv.h"
#include "os/strbuf.h"

#include <string.h>

static void pair_cb(const char *key, const char *value, int line, void *data)
{
	strbuf_addf(data, "[%s=%s@%d]", key, value, line);
}

static void bad_cb(int line, const char *why, void *data)
{
	strbuf_addf(data, "{%d: %s}", line, why);
}

/* every callback as "[KEY=VALUE@LINE]" or "{LINE: why}", in order */
static const char *parse(const char *text, int *nr_bad)
{
	static struct strbuf out = STRBUF_INIT;

	strbuf_reset(&out);
	*nr_bad = dotenv_parse(text, strlen(text), pair_cb, bad_cb, &out);
	return out.buf;
}

static void test_plain(void)
{
	int bad;

	is_str(parse("A=1\n\n# c\n  # indented c\nB=two words\n", &bad),
	       "[A=1@1][B=two words@5]", "KEY=VALUE, blank and comment lines");
	ok(bad == 0, "no line skipped");
	is_str(parse("A = 1\nB\t=\t2  \n  C=3", &bad), "[A=1@1][B=2@2][C=3@3]",
	       "blanks around '=' and the value");
	is_str(parse("A=\nB=  \n", &bad), "[A=@1][B=@2]", "empty values");
	is_str(parse("A=x=y\n", &bad), "[A=x=y@1]", "split at the first '='");
	is_str(parse("A=1\r\nB=2\r\n", &bad), "[A=1@1][B=2@2]",
	       "CRLF line ends");
	is_str(parse("\xef\xbb\xbf"
		     "A=1\n",
		     &bad),
	       "[A=1@1]", "a byte order mark is skipped");
}

static void test_export(void)
{
	int bad;

	is_str(parse("export DB_HOST=db.example\nexport\tB=2\n", &bad),
	       "[DB_HOST=db.example@1][B=2@2]", "export KEY=VALUE");
	is_str(parse("export=1\nexport = 2\nexporter=3\n", &bad),
	       "[export=1@1][export=2@2][exporter=3@3]",
	       "a key named export is still a key");
	is_str(dotenv_skip_export("export  A=1"), "A=1", "skip_export");
	is_str(dotenv_skip_export("exportA=1"), "exportA=1",
	       "skip_export needs a blank");
}

static void test_comments(void)
{
	int bad;

	is_str(parse("A=1 # one\nB=2\t#two\nC=3#not a comment\n", &bad),
	       "[A=1@1][B=2@2][C=3#not a comment@3]",
	       "' #' after an unquoted value is a comment, '#' inside is not");
	is_str(parse("PASS_MARKER=#__PASS__#\nM= #x#\n", &bad),
	       "[PASS_MARKER=#__PASS__#@1][M=#x#@2]",
	       "a value may start with '#'");
	is_str(parse("A='1 # x' # c\nB=\"2 # y\"#c\n", &bad),
	       "[A=1 # x@1]{2: text after the closing quote}",
	       "'#' inside quotes is text; a comment needs a blank before it");
}

static void test_quotes(void)
{
	int bad;

	is_str(parse("A='x y'\nB=\"x y\"\nC=''\nD=\"\"\n", &bad),
	       "[A=x y@1][B=x y@2][C=@3][D=@4]", "quotes are stripped");
	is_str(parse("A='a\\nb \"q\" $X'\n", &bad), "[A=a\\nb \"q\" $X@1]",
	       "single quotes are literal");
	is_str(parse("A=\"a\\nb\"\n", &bad), "[A=a\nb@1]",
	       "double quotes: \\n is a newline");
	is_str(parse("A=\"say \\\"hi\\\" \\\\ \\t\\x\"\n", &bad),
	       "[A=say \"hi\" \\ \t\\x@1]",
	       "double quotes: \\\" \\\\ \\t; other backslashes kept");
	is_str(parse("A=it's\nB=a\"b\n", &bad), "[A=it's@1][B=a\"b@2]",
	       "a quote inside an unquoted value is kept");
}

static void test_bad_lines(void)
{
	int bad;

	is_str(parse("A=1\nnot a line\nB=2\n", &bad),
	       "[A=1@1]{2: expected KEY=VALUE}[B=2@3]",
	       "a bad line is reported and the rest is read");
	ok(bad == 1, "one line skipped");
	is_str(parse("A='open\nB=\"open\nC=3\n", &bad),
	       "{1: an unterminated ' quote (a quoted value ends on its line)}"
	       "{2: an unterminated \" quote (a quoted value ends on its line)}"
	       "[C=3@3]",
	       "unterminated quotes");
	ok(bad == 2, "two lines skipped");
	is_str(parse("A='x'y\n=1\nexport\nK Y=1\n", &bad),
	       "{1: text after the closing quote}{2: expected KEY=VALUE}"
	       "{3: expected KEY=VALUE}{4: expected KEY=VALUE}",
	       "text after a quote, no key, a bare export, a blank in a key");
	{
		static const char nul[] = "A=1\nB=x\0y\nC=3\n";
		struct strbuf out = STRBUF_INIT;
		bad = dotenv_parse(nul, sizeof(nul) - 1, pair_cb, bad_cb, &out);
		is_str(out.buf, "[A=1@1]{2: a NUL byte}[C=3@3]",
		       "a NUL byte skips its line only");
		strbuf_release(&out);
	}
	ok(dotenv_parse("x\n", 2, pair_cb, NULL, NULL) == 1, "bad may be NULL");
}

int main(void)
{
	test_plain();
	test_export();
	test_comments();
	test_quotes();
	test_bad_lines();
	return tap_done();
}
