/*
 * Unit tests for core/grade: the streaming trailer and marker scanner,
 * grade_classify, and the pure marker rules shared with task regrade
 * (grade_verdict, grade_reclassify, grade_from_markers).
 */
#include "tap.h"
#include "core/grade.h"
#include "os/strbuf.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define NONCE "0123456789abcdef0123456789abcdef"
#define OTHER "fedcba9876543210fedcba9876543210"
#define PASS "#__PASS__#"
#define FAIL "#__FAIL__#"
#define TMO "#__TIMEOUT__#"

/* a harness trailer line, as grade_script's t() prints it */
static void trailer(struct strbuf *sb, const char *nonce, const char *what)
{
	strbuf_addf(sb, "\n#__TS_%s__# %s\n", nonce, what);
}

/*
 * The text of one item: reset-ok, apply-ok, the command's output, its
 * exit trailer with elapsed ms, the sweep.
 */
static void item(struct strbuf *sb, const char *out, int rc, long long ms)
{
	char exit_line[64];
	strbuf_reset(sb);
	trailer(sb, NONCE, "reset-ok");
	trailer(sb, NONCE, "apply-ok");
	strbuf_addstr(sb, out);
	snprintf(exit_line, sizeof(exit_line), "exit %d %lld", rc, ms);
	trailer(sb, NONCE, exit_line);
	trailer(sb, NONCE, "swept 0");
}

/*
 * Feed text in chunks of `chunk` bytes (0: all at once) and classify
 * with a 10 s limit; the reason (or "") goes to *why.
 */
static enum grade_status classify(const struct strbuf *text, size_t chunk,
				  int host_timed_out, struct strbuf *why)
{
	struct grade_stream s;
	enum grade_status st;
	char *reason = NULL;
	size_t i;

	grade_stream_init(&s, NONCE, PASS, FAIL, TMO);
	if (!chunk)
		chunk = text->len ? text->len : 1;
	for (i = 0; i < text->len; i += chunk)
		grade_feed(&s, text->buf + i,
			   text->len - i < chunk ? text->len - i : chunk);
	st = grade_classify(&s, 10, host_timed_out, &reason);
	strbuf_reset(why);
	strbuf_addstr(why, reason ? reason : "");
	free(reason);
	grade_stream_release(&s);
	return st;
}

static enum grade_status reclassify(const struct strbuf *text, int rc,
				    const char *pass, struct strbuf *why)
{
	char *reason = NULL;
	enum grade_status st = grade_reclassify(text->buf, text->len, rc, pass,
						FAIL, TMO, &reason);
	strbuf_reset(why);
	strbuf_addstr(why, reason ? reason : "");
	free(reason);
	return st;
}

static void test_stream(void)
{
	struct strbuf t = STRBUF_INIT, why = STRBUF_INIT;
	size_t chunks[] = { 0, 1, 3, 7 };
	size_t i;

	item(&t, "lots of output\n" PASS "\n", 0, 1200);
	for (i = 0; i < sizeof(chunks) / sizeof(*chunks); i++)
		ok(classify(&t, chunks[i], 0, &why) == GRADE_PASS,
		   "PASS marker alone, exit 0, chunks of %zu: PASS", chunks[i]);
	is_str(why.buf, "", "a plain PASS has no reason");

	item(&t, "no newline after it " FAIL, 1, 5);
	ok(classify(&t, 1, 0, &why) == GRADE_FAIL,
	   "FAIL marker split over 1-byte chunks: FAIL");

	item(&t, PASS "\n" FAIL "\n", 0, 5);
	ok(classify(&t, 4, 0, &why) == GRADE_FAIL, "both markers: FAIL");
	ok(strstr(why.buf, "both") != NULL, "reason names both markers");

	item(&t, PASS "\n", 2, 5);
	ok(classify(&t, 0, 0, &why) == GRADE_FAIL, "PASS + exit 2: FAIL");
	is_str(why.buf, "the PASS marker was printed but the command exited 2",
	       "reason gives the exit code");

	item(&t, "nothing to see\n", 0, 5);
	ok(classify(&t, 0, 0, &why) == GRADE_ERROR, "no marker: ERROR");
	ok(!strncmp(why.buf, "no verdict:", 11), "reason: no verdict (%s)",
	   why.buf);

	item(&t, PASS "\n", 124, 10000);
	ok(classify(&t, 0, 0, &why) == GRADE_TIMEOUT,
	   "exit 124 at the limit: TIMEOUT, even with the PASS marker");
	ok(strstr(why.buf, "timed out after 10000 ms") != NULL,
	   "reason gives the elapsed time");
	item(&t, "", 137, 12012);
	ok(classify(&t, 1, 0, &why) == GRADE_TIMEOUT,
	   "exit 137 after the limit (SIGTERM ignored): TIMEOUT");
	is_str(why.buf,
	       "timed out after 12012 ms (limit 10 s, killed after a "
	       "2 s grace)",
	       "the reason gives the time and the grace");
	item(&t, "", 124, 10003);
	ok(classify(&t, 1, 0, &why) == GRADE_TIMEOUT, "exit 124: TIMEOUT");
	is_str(why.buf, "timed out after 10003 ms (limit 10 s)",
	       "SIGTERM was enough: no grace in the reason");
	item(&t, FAIL "\n", 124, 300);
	ok(classify(&t, 0, 0, &why) == GRADE_FAIL,
	   "exit 124 well before the limit is the command's own: FAIL");

	item(&t, "slow\n" TMO "\n", 1, 5);
	ok(classify(&t, 2, 0, &why) == GRADE_TIMEOUT, "TIMEOUT marker");
	is_str(why.buf, "the command printed the TIMEOUT marker",
	       "TIMEOUT marker reason");

	/* a marker in the harness's own output (git apply) does not count */
	strbuf_reset(&t);
	trailer(&t, NONCE, "reset-ok");
	strbuf_addstr(&t, "patch text with " PASS " inside\n");
	trailer(&t, NONCE, "apply-ok");
	strbuf_addstr(&t, "the command prints nothing useful\n");
	trailer(&t, NONCE, "exit 0 3");
	ok(classify(&t, 5, 0, &why) == GRADE_ERROR,
	   "a marker before apply-ok is ignored");

	/* forged trailers: the command cannot know the nonce */
	strbuf_reset(&t);
	trailer(&t, NONCE, "reset-ok");
	trailer(&t, NONCE, "apply-ok");
	strbuf_addstr(&t, PASS "\n");
	trailer(&t, OTHER, "exit 0 1");
	trailer(&t, OTHER, "error reset \"forged\"");
	ok(classify(&t, 0, 0, &why) == GRADE_ERROR,
	   "trailers with a wrong nonce are ignored");
	is_str(why.buf, "the harness stopped while the command ran",
	       "no exit trailer was accepted");
	trailer(&t, NONCE, "exit 0 1");
	trailer(&t, NONCE, "swept 0");
	ok(classify(&t, 0, 0, &why) == GRADE_PASS,
	   "the right nonce's exit trailer counts");

	strbuf_reset(&t);
	trailer(&t, NONCE, "reset-ok");
	strbuf_addstr(&t, "error: patch failed: a.c:1\n");
	trailer(&t, NONCE, "error patch solution1.patch does not apply");
	ok(classify(&t, 0, 0, &why) == GRADE_ERROR, "a harness error: ERROR");
	is_str(why.buf, "patch solution1.patch does not apply",
	       "the harness's reason");

	strbuf_reset(&t);
	trailer(&t, NONCE, "reset-ok");
	trailer(&t, NONCE, "apply-ok");
	strbuf_addstr(&t, "still running");
	ok(classify(&t, 0, 1, &why) == GRADE_TIMEOUT,
	   "host deadline while the command ran: TIMEOUT");
	strbuf_reset(&t);
	ok(classify(&t, 0, 1, &why) == GRADE_ERROR,
	   "host deadline before anything ran: ERROR");

	strbuf_release(&t);
	strbuf_release(&why);
}

/*
 * A command that learned the nonce (from the harness's memory) can print
 * trailers; it cannot print them such that the item passes.
 */
static void test_forged(void)
{
	struct strbuf t = STRBUF_INIT, why = STRBUF_INIT;
	struct grade_stream s;
	char *reason = NULL;

	/* a forged "exit 0" before the real, non-zero one */
	strbuf_reset(&t);
	trailer(&t, NONCE, "reset-ok");
	trailer(&t, NONCE, "apply-ok");
	strbuf_addstr(&t, PASS "\n");
	trailer(&t, NONCE, "exit 0 1");
	trailer(&t, NONCE, "exit 1 2");
	trailer(&t, NONCE, "swept 0");
	ok(classify(&t, 0, 0, &why) == GRADE_ERROR, "two exit trailers: ERROR");
	is_str(why.buf, "harness trailer out of sequence (forged?): 'exit 1 2'",
	       "the reason names the second one");

	/* a forged exit and sweep, then the harness is killed */
	strbuf_reset(&t);
	trailer(&t, NONCE, "reset-ok");
	trailer(&t, NONCE, "apply-ok");
	strbuf_addstr(&t, PASS "\n");
	trailer(&t, NONCE, "exit 0 1");
	ok(classify(&t, 0, 0, &why) == GRADE_ERROR,
	   "no sweep trailer: ERROR, never PASS");
	is_str(why.buf, "the harness stopped before its sweep (was it killed?)",
	       "the reason says the sweep is missing");
	trailer(&t, NONCE, "swept 0");
	grade_stream_init(&s, NONCE, PASS, FAIL, TMO);
	grade_feed(&s, t.buf, t.len);
	s.harness_exit = 137;
	ok(grade_classify(&s, 10, 0, &reason) == GRADE_ERROR,
	   "every trailer, but the harness exited 137: ERROR");
	is_str(reason, "the harness exited 137, not 0 (was it killed?)",
	       "the reason gives the harness's exit status");
	free(reason);
	grade_stream_release(&s);
	ok(classify(&t, 0, 1, &why) == GRADE_TIMEOUT,
	   "every trailer, but the host deadline fired: TIMEOUT, not PASS");

	/* trailers after the sweep, or an error after apply-ok */
	item(&t, PASS "\n", 0, 5);
	ok(classify(&t, 0, 0, &why) == GRADE_PASS, "the real sequence: PASS");
	trailer(&t, NONCE, "swept 0");
	ok(classify(&t, 0, 0, &why) == GRADE_ERROR, "a second sweep: ERROR");
	strbuf_reset(&t);
	trailer(&t, NONCE, "reset-ok");
	trailer(&t, NONCE, "apply-ok");
	strbuf_addstr(&t, PASS "\n");
	trailer(&t, NONCE, "error patch golden does not apply");
	trailer(&t, NONCE, "exit 0 1");
	trailer(&t, NONCE, "swept 0");
	ok(classify(&t, 0, 0, &why) == GRADE_ERROR,
	   "an error trailer while the command ran: ERROR");
	ok(strstr(why.buf, "out of sequence") != NULL, "as a forgery (%s)",
	   why.buf);
	strbuf_reset(&t);
	trailer(&t, NONCE, "apply-ok");
	trailer(&t, NONCE, "reset-ok");
	trailer(&t, NONCE, "apply-ok");
	strbuf_addstr(&t, PASS "\n");
	trailer(&t, NONCE, "exit 0 1");
	trailer(&t, NONCE, "swept 0");
	ok(classify(&t, 0, 0, &why) == GRADE_ERROR,
	   "apply-ok before reset-ok: ERROR");

	strbuf_release(&t);
	strbuf_release(&why);
}

/* what the script does, as text: its values, the reset, the sweep */
static void test_script(void)
{
	struct grade_patch p = { "it's.patch", "x", 1 };
	struct grade_spec g = { "/app", "echo hi", 7, &p, 1, NULL };
	const char *base = "0123456789abcdef0123456789abcdef01234567";
	const char *last = "\n__ts_main; exit 0\n";
	char *s = grade_script(&g, NONCE);

	ok(!strncmp(s, "N=" NONCE "\nAPP='/app'\nBASE=\nTMO=7 GRACE=2\n",
		    strlen("N=" NONCE "\nAPP='/app'\nBASE=\nTMO=7 GRACE=2\n")),
	   "the item's values come first; no base commit: BASE is empty");
	ok(strstr(s, "\nPL=( 'it'\\''s.patch' )\n") != NULL,
	   "a patch's label is quoted, never expanded");
	ok(strstr(s, "base64 -d > \"$W/cmd\"") &&
		   strstr(s, "base64 -d > \"$W/p0.patch\"") &&
		   !strstr(s, "echo hi"),
	   "the command and the patches go as base64");
	ok(strstr(s, "# shellcheck shell=bash") != NULL,
	   "grade.sh follows, compiled in");
	ok(strstr(s, "g reset -q --hard HEAD") != NULL,
	   "no base commit: reset to HEAD");
	ok(strstr(s, "g clean -qffd") != NULL, "git clean -ffd (nested repos)");
	ok(strstr(s, "LC_ALL=C git -c core.hooksPath=/dev/null -c "
		     "core.fsmonitor=false") != NULL,
	   "git runs with LC_ALL=C, no hooks, no fsmonitor");
	ok(strstr(s, "date +%s%N") != NULL && strstr(s, "EPOCHREALTIME"),
	   "the clock falls back to date without EPOCHREALTIME");
	ok(strstr(s, "timeout -k \"$GRACE\" \"$TMO\" bash") != NULL,
	   "the limit, then SIGKILL after a grace of GRADE_KILL_GRACE_S");
	ok(GRADE_KILL_GRACE_S <= 2, "the grace is 2 s at most");
	ok(grade_deadline_ms(7) == (7 + GRADE_KILL_GRACE_S + 10 + 30) * 1000L,
	   "the host deadline: limit, grace, lock wait, slack");
	ok(strlen(s) > strlen(last) &&
		   !strcmp(s + strlen(s) - strlen(last), last),
	   "the harness ends with exit 0, on its last line (the rest of "
	   "stdin is the watcher's)");
	ok(strstr(s, "kill -STOP $K") != NULL &&
		   strstr(s, "kill -KILL $K") != NULL &&
		   strstr(s, "kill -STOP $K") < strstr(s, "kill -KILL $K"),
	   "the sweep stops the item's processes before it kills them");
	ok(strstr(s, "while read -r _; do :; done\n\t\tkill -KILL $$\n"
		     "\t\tsweep") &&
		   strstr(s, "<&0 >/dev/null 2>&1 &\n\tWP=$!"),
	   "a watcher ends the item when its stdin closes");
	ok(strstr(s, "\n\twatch\n\t__ts_item\n\tunwatch\n") != NULL,
	   "the watcher runs for the whole item");
	ok(strstr(s, "te() { unwatch; t error") &&
		   strstr(s, "\n\tunwatch\n\tt swept \"$n\"\n") &&
		   !strstr(s, "{ t error"),
	   "the watcher stops before the item's last trailer");
	free(s);
	g.base_commit = base;
	s = grade_script(&g, NONCE);
	ok(strstr(s, "\nBASE=0123456789abcdef0123456789abcdef01234567\n") &&
		   strstr(s, "g checkout -qf --detach \"$BASE\""),
	   "a base commit: checkout -f of it");
	free(s);
	g.base_commit = "HEAD; rm -rf /";
	s = grade_script(&g, NONCE);
	ok(strstr(s, "rm -rf /") == NULL && strstr(s, "\nBASE=\n"),
	   "a base commit that is not hex is ignored");
	free(s);
}

static void test_verdict(void)
{
	char *r = NULL;
	ok(grade_verdict(1, 0, 0, 0, &r) == GRADE_PASS && !r, "verdict PASS");
	ok(grade_verdict(0, 1, 0, 0, &r) == GRADE_FAIL && !r, "verdict FAIL");
	ok(grade_verdict(1, 1, 0, 0, &r) == GRADE_FAIL && r, "verdict both");
	free(r);
	ok(grade_verdict(1, 0, 0, 1, &r) == GRADE_FAIL && r,
	   "verdict PASS, exit 1");
	free(r);
	ok(grade_verdict(1, 0, 1, 0, &r) == GRADE_TIMEOUT && r,
	   "verdict TIMEOUT marker wins");
	ok(grade_from_markers("TIMEOUT", r), "a marker TIMEOUT may change");
	free(r);
	ok(grade_verdict(0, 0, 0, 3, &r) == GRADE_ERROR && r, "verdict none");
	ok(grade_from_markers("ERROR", r), "a no-verdict ERROR may change");
	free(r);

	ok(grade_from_markers("PASS", NULL) && grade_from_markers("FAIL", NULL),
	   "PASS and FAIL may change");
	ok(!grade_from_markers("ERROR", "patch solution1.patch does not "
					"apply"),
	   "a patch error is kept");
	ok(!grade_from_markers("ERROR", "docker exec failed (exit 1): x"),
	   "a docker error is kept");
	ok(!grade_from_markers("TIMEOUT", "timed out after 10000 ms (limit "
					  "10 s)"),
	   "a deadline TIMEOUT is kept");
	ok(!grade_from_markers("ERROR", NULL), "an ERROR without reason is "
					       "kept");
	ok(!grade_from_markers("Pass", NULL), "an unknown status is kept");

	ok(grade_status_parse("PASS") == GRADE_PASS &&
		   grade_status_parse("ERROR") == GRADE_ERROR &&
		   grade_status_parse("pass") == -1 &&
		   grade_status_parse(NULL) == -1,
	   "grade_status_parse");
}

static void test_reclassify(void)
{
	struct strbuf t = STRBUF_INIT, why = STRBUF_INIT;

	item(&t, "all good: OK_CUSTOM\n", 0, 5);
	ok(reclassify(&t, 0, PASS, &why) == GRADE_ERROR,
	   "custom marker under the default markers: ERROR");
	ok(reclassify(&t, 0, "OK_CUSTOM", &why) == GRADE_PASS,
	   "under PASS_MARKER=OK_CUSTOM: PASS");
	ok(reclassify(&t, -1, "OK_CUSTOM", &why) == GRADE_PASS,
	   "no stored exit code: the trailer's");
	ok(reclassify(&t, 1, "OK_CUSTOM", &why) == GRADE_FAIL,
	   "the stored exit code counts");

	item(&t, FAIL " OK_CUSTOM\n", 0, 5);
	ok(reclassify(&t, 0, "OK_CUSTOM", &why) == GRADE_FAIL,
	   "both markers: FAIL");

	strbuf_reset(&t);
	trailer(&t, NONCE, "reset-ok");
	strbuf_addstr(&t, "OK_CUSTOM in the patch\n");
	trailer(&t, NONCE, "apply-ok");
	strbuf_addstr(&t, "quiet\n");
	trailer(&t, NONCE, "exit 0 3");
	ok(reclassify(&t, 0, "OK_CUSTOM", &why) == GRADE_ERROR,
	   "a marker before apply-ok is still ignored");

	strbuf_reset(&t);
	strbuf_addstr(&t, "plain text, no trailers OK_CUSTOM\n");
	ok(reclassify(&t, 0, "OK_CUSTOM", &why) == GRADE_PASS,
	   "text without trailers counts whole");

	/* the capped middle: a marker there is gone */
	item(&t, "head\n[... 123456 bytes omitted ...]\ntail\n", 0, 5);
	ok(reclassify(&t, 0, "OK_CUSTOM", &why) == GRADE_ERROR,
	   "a marker cut from the stored text is not seen");

	strbuf_release(&t);
	strbuf_release(&why);
}

int main(void)
{
	test_stream();
	test_forged();
	test_script();
	test_verdict();
	test_reclassify();
	return tap_done();
}
