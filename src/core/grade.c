#include "core/grade.h"
#include "os/crypto.h"
#include "os/xalloc.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define TRAILER "#__TS_"

long grade_deadline_ms(int timeout_s)
{
	return ((long)timeout_s + GRADE_KILL_GRACE_S + 10 + 30) * 1000;
}

void grade_nonce(char out[33])
{
	unsigned char raw[16];
	static const char hex[] = "0123456789abcdef";
	int i;
	if (crypto_random(raw, sizeof(raw)))
		abort(); /* every kernel since 3.17 has getrandom */
	for (i = 0; i < 16; i++) {
		out[2 * i] = hex[raw[i] >> 4];
		out[2 * i + 1] = hex[raw[i] & 15];
	}
	out[32] = '\0';
}

static void add_b64(struct strbuf *sb, const char *data, size_t len)
{
	size_t w = BASE64_ENCODE_RAW_LENGTH(len), i;
	char *out = xmalloc(w + 1);
	crypto_load();
	base64_encode_raw(out, len, (const uint8_t *)data);
	/* lines of 76 characters, as base64 -d expects nothing else */
	for (i = 0; i < w; i += 76) {
		size_t k = w - i < 76 ? w - i : 76;
		strbuf_add(sb, out + i, k);
		strbuf_addch(sb, '\n');
	}
	free(out);
}

/* a function's line that writes $W/NAME, or returns 1 with the error trailer */
static void add_file(struct strbuf *sb, const char *name, const char *data,
		     size_t len)
{
	strbuf_addf(sb,
		    "base64 -d > \"$W/%s\" <<'__TS_EOF__' || "
		    "{ te \"setup: cannot write %s\"; return 1; }\n",
		    name, name);
	add_b64(sb, data, len);
	strbuf_addstr(sb, "__TS_EOF__\n");
}

/* a base commit is hex (SHA-1 or SHA-256); anything else is ignored */
static int is_commit(const char *c)
{
	size_t n = c ? strspn(c, "0123456789abcdef") : 0;
	return c && !c[n] && (n == 40 || n == 64);
}

/* src/core/grade.sh, compiled in by scripts/embed.sh */
extern const char grade_sh[];

/*
 * The item's values, as grade.sh expects them before it (see its head),
 * then grade.sh itself. Every value is quoted or hex; the command and the
 * patches go as base64 in here-documents, never as shell code.
 */
char *grade_script(const struct grade_spec *g, const char *nonce)
{
	struct strbuf sb = STRBUF_INIT;
	size_t i;

	strbuf_addf(&sb, "N=%s\nAPP=", nonce);
	strbuf_add_shell_quoted(&sb, g->app);
	strbuf_addf(&sb, "\nBASE=%s\nTMO=%d GRACE=%d\nPL=(",
		    is_commit(g->base_commit) ? g->base_commit : "",
		    g->timeout_s, GRADE_KILL_GRACE_S);
	for (i = 0; i < g->npatches; i++) {
		strbuf_addch(&sb, ' ');
		strbuf_add_shell_quoted(&sb, g->patches[i].label);
	}
	strbuf_addstr(&sb, " )\n__ts_files() {\n");
	add_file(&sb, "cmd", g->command, strlen(g->command));
	for (i = 0; i < g->npatches; i++) {
		char name[32];
		snprintf(name, sizeof(name), "p%zu.patch", i);
		add_file(&sb, name, g->patches[i].content, g->patches[i].len);
	}
	strbuf_addstr(&sb, "}\n");
	strbuf_addstr(&sb, grade_sh);
	return strbuf_detach(&sb, NULL);
}

void grade_stream_init(struct grade_stream *s, const char *nonce,
		       const char *pass, const char *fail, const char *timeout)
{
	int i;
	memset(s, 0, sizeof(*s));
	memcpy(s->nonce, nonce, 33);
	s->markers[0] = pass;
	s->markers[1] = fail;
	s->markers[2] = timeout;
	for (i = 0; i < 3; i++) {
		s->marker_len[i] = s->markers[i] ? strlen(s->markers[i]) : 0;
		if (s->marker_len[i] > sizeof(s->win))
			s->marker_len[i] = sizeof(s->win);
	}
	s->exit_code = -1;
	s->left_behind = -1;
}

void grade_stream_release(struct grade_stream *s)
{
	free(s->failure);
	s->failure = NULL;
	free(s->anomaly);
	s->anomaly = NULL;
}

/* a trailer the harness would not print there: keep the first */
static void anomaly(struct grade_stream *s, const char *rest)
{
	if (!s->anomaly)
		s->anomaly = xstrfmt("harness trailer out of sequence "
				     "(forged?): '%.60s'",
				     rest);
}

/*
 * The harness prints reset-ok, apply-ok, exit, swept once each, in that
 * order, or one error before apply-ok. Anything else was printed by
 * someone who learned the nonce.
 */
static void trailer(struct grade_stream *s, const char *rest)
{
	if (s->have_swept || s->failure) {
		anomaly(s, rest);
	} else if (!strcmp(rest, "reset-ok")) {
		if (s->reset_ok)
			anomaly(s, rest);
		s->reset_ok = 1;
	} else if (!strcmp(rest, "apply-ok")) {
		if (!s->reset_ok || s->apply_ok)
			anomaly(s, rest);
		s->apply_ok = 1;
		s->in_cmd = 1;
		s->win_len = 0;
	} else if (!strncmp(rest, "exit ", 5)) {
		char *end;
		if (!s->apply_ok || s->have_exit)
			anomaly(s, rest);
		s->in_cmd = 0;
		s->have_exit = 1;
		s->exit_code = (int)strtol(rest + 5, &end, 10);
		s->elapsed_ms = strtoll(end, NULL, 10);
	} else if (!strncmp(rest, "swept ", 6)) {
		if (!s->have_exit)
			anomaly(s, rest);
		s->have_swept = 1;
		s->left_behind = (int)strtol(rest + 6, NULL, 10);
	} else if (!strncmp(rest, "error ", 6)) {
		if (s->apply_ok)
			anomaly(s, rest);
		else
			s->failure = xstrdup(rest + 6);
	} else {
		anomaly(s, rest);
	}
}

static void end_line(struct grade_stream *s)
{
	size_t plen = strlen(TRAILER) + 32 + 3; /* "#__TS_<nonce>__# " */
	if (!s->line_long && s->line_len > plen &&
	    !memcmp(s->line, TRAILER, strlen(TRAILER)) &&
	    !memcmp(s->line + strlen(TRAILER), s->nonce, 32) &&
	    !memcmp(s->line + strlen(TRAILER) + 32, "__# ", 4)) {
		s->line[s->line_len] = '\0';
		trailer(s, s->line + plen + 1);
	}
	s->line_len = 0;
	s->line_long = 0;
}

/*
 * Command output: look for the markers in win (the bytes kept from
 * before) joined with seg, without copying seg, then keep seg's last
 * bytes in win for a marker that straddles the next chunk.
 */
static void scan_cmd(struct grade_stream *s, const char *seg, size_t n)
{
	char edge[2 * sizeof(s->win)];
	size_t keep, i;

	for (i = 0; i < 3; i++) {
		size_t m = s->marker_len[i], w, h;
		if (!m || s->seen[i])
			continue;
		if (memmem(seg, n, s->markers[i], m)) {
			s->seen[i] = 1;
			continue;
		}
		/* across the boundary: (m-1) old bytes + (m-1) new ones */
		w = s->win_len < m - 1 ? s->win_len : m - 1;
		h = n < m - 1 ? n : m - 1;
		memcpy(edge, s->win + s->win_len - w, w);
		memcpy(edge + w, seg, h);
		if (memmem(edge, w + h, s->markers[i], m))
			s->seen[i] = 1;
	}
	if (n >= sizeof(s->win)) {
		memcpy(s->win, seg + n - sizeof(s->win), sizeof(s->win));
		s->win_len = sizeof(s->win);
		return;
	}
	keep = sizeof(s->win) - n;
	if (s->win_len > keep) {
		memmove(s->win, s->win + s->win_len - keep, keep);
		s->win_len = keep;
	}
	memcpy(s->win + s->win_len, seg, n);
	s->win_len += n;
}

void grade_feed(struct grade_stream *s, const char *buf, size_t n)
{
	while (n) {
		const char *nl = memchr(buf, '\n', n);
		size_t len = nl ? (size_t)(nl - buf) + 1 : n;
		size_t body = nl ? len - 1 : len;
		size_t room = sizeof(s->line) - 1 - s->line_len;

		if (s->in_cmd)
			scan_cmd(s, buf, len);
		if (body > room) {
			s->line_long = 1;
			body = room;
		}
		memcpy(s->line + s->line_len, buf, body);
		s->line_len += body;
		if (nl)
			end_line(s); /* may start or end the command's part */
		buf += len;
		n -= len;
	}
}

const char *grade_status_name(enum grade_status st)
{
	static const char *const names[] = { "PASS", "FAIL", "TIMEOUT", "ERROR",
					     "FLAKY" };
	return names[st];
}

enum grade_status grade_classify(const struct grade_stream *s, int timeout_s,
				 int host_timed_out, char **reason)
{
	int pass = s->seen[0], fail = s->seen[1], tmo = s->seen[2];
	long long limit_ms = (long long)timeout_s * 1000;

	*reason = NULL;
	if (s->anomaly) {
		*reason = xstrdup(s->anomaly);
		return GRADE_ERROR;
	}
	if (s->failure) {
		*reason = xstrdup(s->failure);
		return GRADE_ERROR;
	}
	/* whatever the trailers say: the harness never finished */
	if (host_timed_out) {
		*reason = xstrfmt("no answer from the container within %d s; "
				  "the item was killed",
				  timeout_s);
		return s->apply_ok ? GRADE_TIMEOUT : GRADE_ERROR;
	}
	if (!s->reset_ok || !s->apply_ok) {
		*reason = xstrdup("the harness stopped before the command ran");
		return GRADE_ERROR;
	}
	if (!s->have_exit) {
		*reason =
			s->harness_exit
				? xstrfmt("the harness stopped while the command ran "
					  "(it exited %d)",
					  s->harness_exit)
				: xstrdup("the harness stopped while the command ran");
		return GRADE_ERROR;
	}
	if (!s->have_swept) {
		*reason = xstrdup("the harness stopped before its sweep (was "
				  "it killed?)");
		return GRADE_ERROR;
	}
	if (s->harness_exit) {
		*reason = xstrfmt("the harness exited %d, not 0 (was it "
				  "killed?)",
				  s->harness_exit);
		return GRADE_ERROR;
	}
	/* timeout(1) exits 124 after SIGTERM, 137 when it took SIGKILL */
	if ((s->exit_code == 124 || s->exit_code == 137) &&
	    s->elapsed_ms >= limit_ms - 50) {
		*reason =
			s->exit_code == 137
				? xstrfmt("timed out after %lld ms (limit %d s, killed "
					  "after a %d s grace)",
					  s->elapsed_ms, timeout_s,
					  GRADE_KILL_GRACE_S)
				: xstrfmt("timed out after %lld ms (limit %d s)",
					  s->elapsed_ms, timeout_s);
		return GRADE_TIMEOUT;
	}
	return grade_verdict(pass, fail, tmo, s->exit_code, reason);
}

#define REASON_TIMEOUT_MARKER "the command printed the TIMEOUT marker"
#define REASON_NO_VERDICT "no verdict: "

enum grade_status grade_verdict(int pass, int fail, int tmo, int exit_code,
				char **reason)
{
	*reason = NULL;
	if (tmo) {
		*reason = xstrdup(REASON_TIMEOUT_MARKER);
		return GRADE_TIMEOUT;
	}
	if (pass && fail) {
		*reason = xstrdup("the command printed both the PASS and the "
				  "FAIL marker");
		return GRADE_FAIL;
	}
	if (pass && exit_code != 0) {
		*reason = xstrfmt("the PASS marker was printed but the command "
				  "exited %d",
				  exit_code);
		return GRADE_FAIL;
	}
	if (pass)
		return GRADE_PASS;
	if (fail)
		return GRADE_FAIL;
	*reason = xstrfmt(REASON_NO_VERDICT "the command printed no marker "
					    "(exit code %d)",
			  exit_code);
	return GRADE_ERROR;
}

int grade_status_parse(const char *name)
{
	int i;
	for (i = GRADE_PASS; name && i < GRADE_NSTATUS; i++)
		if (!strcmp(name, grade_status_name((enum grade_status)i)))
			return i;
	return -1;
}

int grade_from_markers(const char *status, const char *reason)
{
	switch (grade_status_parse(status)) {
	case GRADE_PASS:
	case GRADE_FAIL:
		return 1;
	case GRADE_TIMEOUT:
		return reason && !strcmp(reason, REASON_TIMEOUT_MARKER);
	case GRADE_ERROR:
		return reason && !strncmp(reason, REASON_NO_VERDICT,
					  strlen(REASON_NO_VERDICT));
	default:
		return 0;
	}
}

/* the nonce of the first harness trailer line in text, or 0 */
static int find_nonce(const char *text, size_t len, char nonce[33])
{
	size_t tl = strlen(TRAILER), i = 0, k;

	while (i < len) {
		const char *line = text + i;
		const char *nl = memchr(line, '\n', len - i);
		size_t n = nl ? (size_t)(nl - line) : len - i;
		if (n > tl + 32 + 4 && !memcmp(line, TRAILER, tl) &&
		    !memcmp(line + tl + 32, "__# ", 4)) {
			for (k = 0; k < 32; k++)
				if (!line[tl + k] ||
				    !strchr("0123456789abcdef", line[tl + k]))
					break;
			if (k == 32) {
				memcpy(nonce, line + tl, 32);
				nonce[32] = '\0';
				return 1;
			}
		}
		i += n + 1;
	}
	return 0;
}

enum grade_status grade_reclassify(const char *output, size_t len,
				   int exit_code, const char *pass,
				   const char *fail, const char *timeout,
				   char **reason)
{
	struct grade_stream s;
	char nonce[33];
	enum grade_status st;
	int traced = find_nonce(output, len, nonce);

	/*
	 * With the harness's trailers, feed the text exactly as it once
	 * streamed, so only the command's part (after "apply-ok", before
	 * "exit") counts. Without them, the whole text is the command's.
	 */
	if (!traced) {
		memset(nonce, 'x', 32); /* matches no trailer */
		nonce[32] = '\0';
	}
	grade_stream_init(&s, nonce, pass, fail, timeout);
	s.in_cmd = !traced;
	grade_feed(&s, output, len);
	if (exit_code < 0 && s.have_exit)
		exit_code = s.exit_code;
	st = grade_verdict(s.seen[0], s.seen[1], s.seen[2], exit_code, reason);
	grade_stream_release(&s);
	return st;
}
