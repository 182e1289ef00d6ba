/* Unit tests for os/strbuf. */
#include "tap.h"
#include "os/strbuf.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define BIG (70 * 1024) /* past the 64 KiB read chunk and any small start */

/* invariants from strbuf.h */
static int sane(const struct strbuf *sb)
{
	return sb->buf && sb->buf[sb->len] == '\0' &&
	       (!sb->alloc ? !sb->len : sb->len < sb->alloc) &&
	       strlen(sb->buf) <= sb->len;
}

static void test_init(void)
{
	struct strbuf sb = STRBUF_INIT;

	ok(sb.len == 0 && sb.alloc == 0 && sb.buf && !*sb.buf,
	   "STRBUF_INIT is empty and owns nothing");
	strbuf_reset(&sb);
	strbuf_trim(&sb);
	ok(sane(&sb) && !sb.alloc, "reset and trim of an unused strbuf");
	strbuf_release(&sb);
	ok(sb.buf == strbuf_slopbuf && !sb.alloc,
	   "release of an unused strbuf");

	strbuf_init(&sb, 100);
	ok(sb.alloc > 100 && sb.len == 0 && !*sb.buf && sane(&sb),
	   "strbuf_init with a hint allocates");
	strbuf_addstr(&sb, "abc");
	strbuf_addch(&sb, 'd');
	is_str(sb.buf, "abcd", "addstr and addch");
	strbuf_setlen(&sb, 2);
	is_str(sb.buf, "ab", "setlen truncates");
	strbuf_release(&sb);
}

static void test_growth(void)
{
	struct strbuf sb = STRBUF_INIT, want = STRBUF_INIT;
	char *chunk = malloc(BIG);
	size_t i;
	int good = 1;

	/* add: many small pieces, then one large piece */
	for (i = 0; i < BIG; i++) {
		strbuf_add(&sb, &"0123456789"[i % 10], 1);
		if (!sane(&sb))
			good = 0;
	}
	ok(good && sb.len == BIG, "add grows byte by byte past 64 KiB");
	for (i = 0; i < BIG && good; i++)
		if (sb.buf[i] != (char)('0' + i % 10))
			good = 0;
	ok(good, "content after byte-by-byte growth");

	memset(chunk, 'x', BIG);
	strbuf_add(&sb, chunk, BIG);
	ok(sane(&sb) && sb.len == 2 * BIG && sb.buf[BIG] == 'x' &&
		   sb.buf[2 * BIG - 1] == 'x' && sb.buf[BIG - 1] == '9',
	   "one large add appends past 64 KiB");
	strbuf_release(&sb);

	/* addf: a single format result larger than 64 KiB on a fresh buffer */
	chunk[BIG - 1] = '\0';
	strbuf_addf(&sb, "<%s>", chunk);
	ok(sane(&sb) && sb.len == BIG + 1 && sb.buf[0] == '<' &&
		   sb.buf[BIG] == '>' && sb.buf[1] == 'x',
	   "addf of a >64 KiB string on an empty strbuf");
	strbuf_addf(&sb, "%d-%s", 42, "end");
	ok(sane(&sb) && sb.len == BIG + 1 + 6 &&
		   !strcmp(sb.buf + BIG + 1, "42-end"),
	   "addf appends after a large addf");
	strbuf_release(&sb);

	/* addf: many small results, compared with snprintf */
	good = 1;
	for (i = 0; i < 20000; i++) {
		char tmp[32];
		int n = snprintf(tmp, sizeof(tmp), "%05zu,", i);
		strbuf_addf(&sb, "%05zu,", i);
		strbuf_add(&want, tmp, (size_t)n);
		if (!sane(&sb))
			good = 0;
	}
	ok(good && sb.len == 120000, "addf grows past 64 KiB piece by piece");
	ok(sb.len == want.len && !memcmp(sb.buf, want.buf, sb.len),
	   "addf content matches snprintf");
	strbuf_addf(&sb, "%s", "");
	ok(sb.len == 120000 && sane(&sb), "addf of an empty result");

	strbuf_release(&sb);
	strbuf_release(&want);
	free(chunk);
}

static void trim_case(const char *in, const char *want, const char *name)
{
	struct strbuf sb = STRBUF_INIT;
	strbuf_addstr(&sb, in);
	strbuf_trim(&sb);
	is_str(sb.buf, want, name);
	ok(sb.len == strlen(want) && sane(&sb), "%s: length", name);
	strbuf_release(&sb);
}

static void test_trim(void)
{
	trim_case("  \t hello world \r\n", "hello world", "trim both ends");
	trim_case("hello", "hello", "trim nothing");
	trim_case("  lead", "lead", "trim leading");
	trim_case("trail \n", "trail", "trim trailing");
	trim_case(" \t\n ", "", "trim all whitespace");
	trim_case("", "", "trim an empty string");
	trim_case(" a b ", "a b", "inner whitespace kept");
}

static void quote_case(const char *in, const char *want, const char *name)
{
	struct strbuf sb = STRBUF_INIT;
	strbuf_add_shell_quoted(&sb, in);
	is_str(sb.buf, want, name);
	strbuf_release(&sb);
}

static void test_shell_quote(void)
{
	quote_case("it's", "'it'\\''s'", "quote it's");
	quote_case("", "''", "quote an empty string");
	quote_case("a b $HOME `x` \"y\"", "'a b $HOME `x` \"y\"'",
		   "quote shell metacharacters");
	quote_case("''", "''\\'''\\'''", "quote two single quotes");
	{
		struct strbuf sb = STRBUF_INIT;
		strbuf_addstr(&sb, "echo ");
		strbuf_add_shell_quoted(&sb, "x");
		is_str(sb.buf, "echo 'x'", "quoting appends");
		strbuf_release(&sb);
	}
}

static void test_detach(void)
{
	struct strbuf sb = STRBUF_INIT;
	size_t len = 99;
	char *s;

	strbuf_addstr(&sb, "detached");
	s = strbuf_detach(&sb, &len);
	is_str(s, "detached", "detach returns the content");
	ok(len == 8, "detach reports the length");
	ok(sb.len == 0 && sb.alloc == 0 && sb.buf == strbuf_slopbuf,
	   "detach resets the strbuf");
	strbuf_addstr(&sb, "again");
	ok(sb.buf != s, "a detached buffer is not reused");
	is_str(sb.buf, "again", "strbuf usable after detach");
	free(s);
	strbuf_release(&sb);

	s = strbuf_detach(&sb, NULL);
	ok(s && s != strbuf_slopbuf && !*s,
	   "detach of an empty strbuf gives a fresh empty string");
	free(s);
}

static void test_read_file(void)
{
	struct strbuf sb = STRBUF_INIT;
	char dir[] = "/tmp/test-strbuf-XXXXXX";
	char *path = NULL;
	FILE *f;
	size_t i;
	int good = 1;

	errno = 0;
	ok(strbuf_read_file(&sb, "/nonexistent/test-strbuf/missing") == -1,
	   "read_file of a missing file fails");
	ok(errno == ENOENT, "read_file of a missing file sets ENOENT");
	ok(sb.len == 0 && sane(&sb), "failed read_file leaves sb empty");

	if (!mkdtemp(dir)) {
		ok(0, "mkdtemp");
		return;
	}
	path = malloc(sizeof(dir) + 8);
	snprintf(path, sizeof(dir) + 8, "%s/file", dir);
	f = fopen(path, "w");
	for (i = 0; f && i < 3 * BIG; i++)
		fputc('a' + (int)(i % 26), f);
	if (f)
		fclose(f);

	strbuf_addstr(&sb, "prefix:");
	ok(strbuf_read_file(&sb, path) == 0, "read_file of a large file");
	ok(sb.len == 7 + 3 * BIG && sane(&sb), "read_file appends every byte");
	for (i = 0; i < 3 * BIG && good; i++)
		if (sb.buf[7 + i] != 'a' + (int)(i % 26))
			good = 0;
	ok(good && !strncmp(sb.buf, "prefix:", 7), "read_file content");
	strbuf_release(&sb);

	errno = 0;
	ok(strbuf_read_file(&sb, dir) == -1 && errno == EISDIR,
	   "read_file of a directory fails with EISDIR");
	strbuf_release(&sb);

	unlink(path);
	rmdir(dir);
	free(path);
}

static void text_case(const char *in, size_t n, const char *want,
		      const char *name)
{
	struct strbuf sb = STRBUF_INIT;
	strbuf_add(&sb, in, n);
	strbuf_make_text(&sb);
	ok(sb.len == n, "make_text keeps the length: %s", name);
	is_str(sb.buf, want, name);
	strbuf_release(&sb);
}

static void test_make_text(void)
{
	text_case("plain ascii", 11, "plain ascii", "ascii unchanged");
	text_case("caf\xc3\xa9 \xe2\x9c\x85", 9, "caf\xc3\xa9 \xe2\x9c\x85",
		  "valid multibyte unchanged");
	text_case("a\0b", 3, "a?b", "NUL becomes ?");
	text_case("\xff\xfe", 2, "??", "invalid bytes become ?");
	text_case("x\xe2\x9c", 3, "x??", "a cut sequence at the end");
	text_case("\xc0\xaf", 2, "??", "overlong form rejected");
	text_case("\xed\xa0\x80", 3, "???", "surrogate rejected");
}

int main(void)
{
	test_make_text();
	test_init();
	test_growth();
	test_trim();
	test_shell_quote();
	test_detach();
	test_read_file();
	return tap_done();
}
