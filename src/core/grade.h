#ifndef CORE_GRADE_H
#define CORE_GRADE_H

#include <stddef.h>

#include "os/strbuf.h"

/*
 * One grading item: a criterion's command run against one candidate in
 * its container. The whole item is ONE `docker exec -i C bash -s`: the
 * harness script built here carries the patches (base64), takes the
 * container's lock (flock on /tmp/.task-sync-grading.lock, when the
 * image has flock), resets the repository (git checkout -f of the base
 * commit when known, else git reset --hard HEAD; git clean -ffd; then
 * checks that `git status --porcelain` is empty; git runs with LC_ALL=C,
 * no hooks, no fsmonitor), applies the patches, notes the processes that
 * exist, runs the command under `timeout -k GRACE LIMIT` (SIGTERM at
 * the limit, SIGKILL one grace later), and sweeps: every process that
 * was not there before (the command's, however it detached or forks)
 * is stopped, and once a look at /proc finds none running, killed,
 * until a look finds none; the ones that were there (the container's
 * own services) live on. It reports each phase on trailer lines that
 * carry a random nonce the command is not given, and ends with exit 0.
 *
 * The host keeps the exec's stdin open until the item's last trailer
 * (proc.hold_input); a watcher in the harness reads it, and on EOF (the
 * `docker exec` client died: task-sync was killed) kills the harness
 * and sweeps, so an orphaned item ends at once and frees the lock.
 *
 * Classification (grade_classify):
 *   ERROR    the harness failed (reset, a patch that does not apply,
 *            no verdict: the command printed no marker), or its
 *            trailers are not the one sequence it prints (a repeated
 *            or missing line: forged, or the harness was killed), or
 *            the harness did not exit 0
 *   TIMEOUT  the limit passed ("timed out after N ms (limit L s)", with
 *            ", killed after a G s grace" when SIGTERM did not end it),
 *            the host deadline passed, or the TIMEOUT marker was printed
 *   FAIL     the FAIL marker; both markers; the PASS marker with a
 *            non-zero exit code
 *   PASS     the PASS marker alone, exit code 0
 */

/* seconds between SIGTERM at the limit and SIGKILL */
#define GRADE_KILL_GRACE_S 2

/*
 * The host's deadline for one item's `docker exec` (ms): the limit, the
 * grace, the wait for the container's lock (10 s) and slack for the
 * reset, the patches and the sweep (30 s).
 */
long grade_deadline_ms(int timeout_s);

struct grade_patch {
	const char *label; /* "pre_patch", "candidate", "held_out" */
	const char *content;
	size_t len;
};

struct grade_spec {
	const char *app; /* the repository folder in the container */
	const char *command;
	int timeout_s;
	const struct grade_patch *patches;
	size_t npatches;
	/* the commit to reset to (hex), or NULL for HEAD */
	const char *base_commit;
};

/* the harness script (owned by the caller); nonce: 32 hex chars */
char *grade_script(const struct grade_spec *g, const char *nonce);
/* a fresh random nonce */
void grade_nonce(char out[33]);

/* streaming state: feed every output byte through grade_feed() */
struct grade_stream {
	char nonce[33];
	const char *markers[3]; /* pass, fail, timeout */
	size_t marker_len[3];
	int seen[3];
	int in_cmd; /* between "apply-ok" and "exit" */
	int reset_ok, apply_ok, have_exit, have_swept;
	int exit_code;
	long long elapsed_ms;
	int left_behind; /* processes found after the sweep, -1 n/a */
	/* "setup: ...", "reset: ...", "patch P does not apply" */
	char *failure;
	/* the first trailer out of sequence (a forgery), or NULL */
	char *anomaly;
	/* the exit status of the harness (docker exec); the caller sets it */
	int harness_exit;
	char line[512];
	size_t line_len;
	int line_long;
	char win[512]; /* the last bytes of command output */
	size_t win_len;
};

void grade_stream_init(struct grade_stream *s, const char *nonce,
		       const char *pass, const char *fail, const char *timeout);
void grade_feed(struct grade_stream *s, const char *buf, size_t n);
void grade_stream_release(struct grade_stream *s);

/*
 * A cell's status. FLAKY is never an attempt's: it is the verdict of
 * repeated attempts that disagree (core/attempts.h).
 */
enum grade_status {
	GRADE_PASS,
	GRADE_FAIL,
	GRADE_TIMEOUT,
	GRADE_ERROR,
	GRADE_FLAKY,
};
#define GRADE_NSTATUS 5
const char *grade_status_name(enum grade_status st);

/*
 * Decide the status from the stream; host_timed_out says the host-side
 * deadline fired. *reason (owned) says why whenever it is not a plain
 * PASS/FAIL.
 */
enum grade_status grade_classify(const struct grade_stream *s, int timeout_s,
				 int host_timed_out, char **reason);

/*
 * The marker rules alone, the last part of grade_classify: which
 * markers the command printed and its exit code. TIMEOUT marker ->
 * TIMEOUT; both PASS and FAIL -> FAIL; PASS with a non-zero exit ->
 * FAIL; PASS -> PASS; FAIL -> FAIL; none -> ERROR "no verdict: ...".
 * *reason (owned, NULL for a plain PASS/FAIL) as for grade_classify.
 */
enum grade_status grade_verdict(int pass, int fail, int timeout, int exit_code,
				char **reason);

/*
 * Re-decide a stored item under (other) markers, running nothing: the
 * captured text of its `docker exec` (harness trailers and command
 * output, as rubric_shell stores it) goes through grade_feed again, so
 * markers count only in the command's part, and grade_verdict decides.
 * Text without trailers counts whole. exit_code < 0 (not stored) takes
 * the one in the exit trailer. Pure: no I/O.
 *
 * The stored text is capped (head and tail kept, the middle replaced by
 * "[... N bytes omitted ...]"), so a marker that was in the cut middle
 * is not seen again; run the step to grade such an item afresh.
 */
enum grade_status grade_reclassify(const char *output, size_t len,
				   int exit_code, const char *pass,
				   const char *fail, const char *timeout,
				   char **reason);

/*
 * Whether a stored status (with its reason) came from the markers, so
 * that grade_reclassify may change it: PASS, FAIL, the TIMEOUT marker
 * and "no verdict" ERRORs do; harness errors (reset, patches that do
 * not apply, docker failures) and timeouts at the deadline do not.
 */
int grade_from_markers(const char *status, const char *reason);

/* "PASS".."FLAKY" -> enum grade_status, or -1 */
int grade_status_parse(const char *name);

#endif
