/*
 * Unit tests for os/proc: process groups, timeouts, capture, exit codes,
 * stdin, environment, working directory and interruption.
 *
 * The test makes itself a child subreaper, so the grandchildren that
 * proc_run's children leave behind become its own children and are
 * reaped here: "the group is gone" then means no process of the group
 * exists at all, not even a zombie.
 */
#include "tap.h"
#include "os/proc.h"
#include "os/strbuf.h"

#include <dirent.h>
#include <errno.h>
#include <pthread.h>
#include <stdatomic.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

static char tmpdir[] = "/tmp/test-proc.XXXXXX";

static void sleep_ms(long ms)
{
	struct timespec ts = { ms / 1000, (ms % 1000) * 1000000L };
	while (nanosleep(&ts, &ts) < 0 && errno == EINTR)
		;
}

/* reap whatever orphans were reparented to us; never blocks */
static void reap_orphans(void)
{
	while (waitpid(-1, NULL, WNOHANG) > 0)
		;
}

/* the number in a pidfile the child wrote, waiting up to wait_ms */
static pid_t read_pidfile(const char *path, long wait_ms)
{
	long long until = proc_now_ms() + wait_ms;
	do {
		struct strbuf sb = STRBUF_INIT;
		long v = 0;
		if (!strbuf_read_file(&sb, path) && sb.len &&
		    sb.buf[sb.len - 1] == '\n')
			v = strtol(sb.buf, NULL, 10);
		strbuf_release(&sb);
		if (v > 0)
			return (pid_t)v;
		sleep_ms(10);
	} while (proc_now_ms() < until);
	return 0;
}

/*
 * 1 when no process of group pgid exists (kill(-pgid, 0) fails with
 * ESRCH) within wait_ms, reaping orphans meanwhile. Delivering SIGKILL
 * is asynchronous, so allow a moment.
 */
static int group_gone(pid_t pgid, long wait_ms)
{
	long long until = proc_now_ms() + wait_ms;
	if (pgid <= 0)
		return 0;
	for (;;) {
		reap_orphans();
		if (kill(-pgid, 0) < 0 && errno == ESRCH)
			return 1;
		if (proc_now_ms() >= until)
			return 0;
		sleep_ms(10);
	}
}

static char *tmp_path(const char *name)
{
	struct strbuf sb = STRBUF_INIT;
	strbuf_addf(&sb, "%s/%s", tmpdir, name);
	return strbuf_detach(&sb, NULL);
}

/* run sh -c SCRIPT with the given timeout; the proc is left for checks */
static int run_sh(struct proc *p, const char *script, long timeout_ms)
{
	strvec_pushl(&p->argv, "sh", "-c", script, NULL);
	p->timeout_ms = timeout_ms;
	return proc_run(p);
}

static void test_timeout_kills_tree(void)
{
	struct proc p = PROC_INIT;
	char *pidfile = tmp_path("tree.pid");
	struct strbuf script = STRBUF_INIT;
	long long t0 = proc_now_ms(), took;
	pid_t pgid;
	int ret;

	strbuf_addf(&script, "echo $$ > '%s'; sleep 100 & sleep 100", pidfile);
	ret = run_sh(&p, script.buf, 500);
	took = proc_now_ms() - t0;
	pgid = read_pidfile(pidfile, 0);
	ok(ret == 0, "timeout: proc_run returns 0 (the program ran)");
	ok(p.exit_code == 124, "timeout: exit code 124 (got %d)", p.exit_code);
	ok(p.timed_out == 1, "timeout: timed_out is set");
	ok(!p.interrupted, "timeout: not interrupted");
	ok(took >= 450 && took < 3000,
	   "timeout: returned after the deadline, within 3 s (%lld ms)", took);
	ok(p.duration_ms >= 450 && p.duration_ms < 3000,
	   "timeout: duration_ms is the time taken (%lld)", p.duration_ms);
	ok(pgid > 0, "timeout: the shell wrote its pid");
	ok(group_gone(pgid, 1000),
	   "timeout: no process of the group remains (sh and both sleeps)");
	proc_release(&p);
	strbuf_release(&script);
	free(pidfile);
}

static void test_term_ignored_gets_kill(void)
{
	struct proc p = PROC_INIT;
	char *pidfile = tmp_path("stubborn.pid");
	struct strbuf script = STRBUF_INIT;
	long long t0 = proc_now_ms(), took;
	pid_t pgid;

	/* an ignored signal stays ignored across exec: sleep ignores TERM */
	strbuf_addf(&script,
		    "trap '' TERM; echo $$ > '%s'; sleep 100 & "
		    "sleep 100",
		    pidfile);
	p.kill_grace_ms = 300;
	run_sh(&p, script.buf, 300);
	took = proc_now_ms() - t0;
	pgid = read_pidfile(pidfile, 0);
	ok(p.exit_code == 124 && p.timed_out,
	   "TERM ignored: still a timeout, 124 (got %d)", p.exit_code);
	ok(took >= 550 && took < 3000,
	   "TERM ignored: KILL after the grace period (%lld ms)", took);
	ok(group_gone(pgid, 1000), "TERM ignored: the group is gone");
	proc_release(&p);
	strbuf_release(&script);
	free(pidfile);
}

static size_t seen_bytes;
static int seen_nonzero;

static void count_output(const char *buf, size_t n, void *data)
{
	size_t i;
	(void)data;
	seen_bytes += n;
	for (i = 0; i < n; i++)
		if (buf[i])
			seen_nonzero = 1;
}

static void test_large_output(void)
{
	struct proc p = PROC_INIT;
	const size_t cap = 64 * 1024;
	const char *marker;
	char want[64];
	int ret;

	strvec_pushl(&p.argv, "head", "-c", "100000000", "/dev/zero", NULL);
	p.capture_cap = cap;
	p.on_output = count_output;
	p.timeout_ms = 60000;
	ret = proc_run(&p);
	ok(ret == 0 && p.exit_code == 0 && !p.timed_out,
	   "100 MB: completes, exit 0 (ret %d, exit %d)", ret, p.exit_code);
	ok(p.total_bytes == 100000000,
	   "100 MB: total_bytes is 100000000 (got %zu)", p.total_bytes);
	ok(seen_bytes == 100000000 && !seen_nonzero,
	   "100 MB: on_output saw every byte (%zu)", seen_bytes);
	ok(p.out.len >= cap && p.out.len <= cap + 64,
	   "100 MB: capture bounded by the cap plus a marker (%zu)", p.out.len);
	snprintf(want, sizeof(want), "[... %zu bytes omitted ...]",
		 (size_t)100000000 - cap);
	marker = memmem(p.out.buf, p.out.len, want, strlen(want));
	ok(marker != NULL, "100 MB: the marker says '%s'", want);
	ok(marker && (size_t)(marker - p.out.buf) == cap / 2 + 1,
	   "100 MB: the marker follows a head of half the cap");
	proc_release(&p);
}

static void test_head_and_tail_kept(void)
{
	struct proc p = PROC_INIT;
	const size_t cap = 1000;
	int ret;

	seen_bytes = 0;
	strvec_pushl(&p.argv, "sh", "-c",
		     "printf HEAD-START; head -c 200000 /dev/zero | tr '\\0' x;"
		     " printf TAIL-END",
		     NULL);
	p.capture_cap = cap;
	p.on_output = count_output;
	ret = proc_run(&p);
	ok(ret == 0 && p.exit_code == 0, "head/tail: ran");
	ok(p.total_bytes == 200000 + 10 + 8,
	   "head/tail: total_bytes counts everything (%zu)", p.total_bytes);
	ok(seen_bytes == p.total_bytes, "head/tail: on_output saw every byte");
	ok(p.out.len > 10 && !strncmp(p.out.buf, "HEAD-START", 10),
	   "head/tail: the head is kept");
	ok(p.out.len > 8 && !strcmp(p.out.buf + p.out.len - 8, "TAIL-END"),
	   "head/tail: the tail is kept");
	ok(strstr(p.out.buf, "bytes omitted") != NULL,
	   "head/tail: the omitted-bytes marker is present");
	ok(p.out.len <= cap + 64, "head/tail: bounded (%zu)", p.out.len);
	proc_release(&p);

	/* under the cap nothing is cut and there is no marker */
	p = (struct proc)PROC_INIT;
	run_sh(&p, "printf 'line one\\n'; printf 'line two\\n' >&2", 0);
	is_str(p.out.buf, "line one\nline two\n",
	       "small output: stdout and stderr, whole, in order");
	ok(p.total_bytes == 18, "small output: total_bytes");
	proc_release(&p);
}

static void test_not_runnable(void)
{
	struct proc p = PROC_INIT;
	char *path = tmp_path("not-executable");
	FILE *f;
	int ret;

	strvec_pushl(&p.argv, "task-sync-no-such-program-xyz", NULL);
	ret = proc_run(&p);
	ok(ret == -1 && p.exit_code == 127,
	   "missing program on PATH: -1 and 127 (ret %d, exit %d)", ret,
	   p.exit_code);
	proc_release(&p);

	p = (struct proc)PROC_INIT;
	strvec_pushl(&p.argv, "/nonexistent/dir/prog", NULL);
	ret = proc_run(&p);
	ok(ret == -1 && p.exit_code == 127,
	   "missing program by path: -1 and 127 (ret %d, exit %d)", ret,
	   p.exit_code);
	proc_release(&p);

	f = fopen(path, "w");
	if (f) {
		fputs("#!/bin/sh\necho hi\n", f);
		fclose(f);
	}
	chmod(path, 0644);
	p = (struct proc)PROC_INIT;
	strvec_pushl(&p.argv, path, NULL);
	ret = proc_run(&p);
	ok(ret == -1 && p.exit_code == 126,
	   "non-executable file: -1 and 126 (ret %d, exit %d)", ret,
	   p.exit_code);
	proc_release(&p);

	p = (struct proc)PROC_INIT;
	strvec_pushl(&p.argv, tmpdir, NULL);
	ret = proc_run(&p);
	ok(ret == -1 && p.exit_code == 126,
	   "a directory: -1 and 126 (ret %d, exit %d)", ret, p.exit_code);
	proc_release(&p);

	p = (struct proc)PROC_INIT;
	ret = proc_run(&p);
	ok(ret == -1, "an empty argv is an error");
	proc_release(&p);
	free(path);
}

static void test_exit_codes(void)
{
	static const struct {
		const char *script;
		int code;
	} cases[] = {
		{ "exit 0", 0 },          { "exit 3", 3 },
		{ "exit 255", 255 },      { "kill -TERM $$", 143 },
		{ "kill -KILL $$", 137 }, { "kill -INT $$", 130 },
	};
	size_t i;

	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct proc p = PROC_INIT;
		int ret = run_sh(&p, cases[i].script, 10000);
		ok(ret == 0 && p.exit_code == cases[i].code && !p.timed_out &&
			   !p.interrupted,
		   "sh -c '%s' gives %d (got %d)", cases[i].script,
		   cases[i].code, p.exit_code);
		proc_release(&p);
	}
}

static void test_stdin(void)
{
	struct proc p = PROC_INIT;
	struct strbuf big = STRBUF_INIT;
	size_t i;
	long long t0;

	run_sh(&p, "readlink /proc/self/fd/0", 10000);
	is_str(p.out.buf, "/dev/null\n", "stdin is /dev/null by default");
	proc_release(&p);

	p = (struct proc)PROC_INIT;
	strvec_pushl(&p.argv, "cat", NULL);
	p.timeout_ms = 10000;
	proc_run(&p);
	ok(p.exit_code == 0 && p.out.len == 0 && !p.timed_out,
	   "cat with no input reads EOF at once");
	proc_release(&p);

	p = (struct proc)PROC_INIT;
	strvec_pushl(&p.argv, "cat", NULL);
	p.input = "hello\nworld\n";
	p.input_len = strlen(p.input);
	p.timeout_ms = 10000;
	proc_run(&p);
	is_str(p.out.buf, "hello\nworld\n", "input is fed to stdin");
	proc_release(&p);

	/* more than a pipe holds, both ways at once: no deadlock */
	for (i = 0; i < 50000; i++)
		strbuf_addf(&big, "%09zu\n", i);
	p = (struct proc)PROC_INIT;
	strvec_pushl(&p.argv, "cat", NULL);
	p.input = big.buf;
	p.input_len = big.len;
	p.timeout_ms = 20000;
	proc_run(&p);
	ok(p.exit_code == 0 && !p.timed_out && p.out.len == big.len &&
		   !memcmp(p.out.buf, big.buf, big.len),
	   "500 KB of input comes back whole through cat");
	proc_release(&p);

	/* a child that never reads its stdin must not hurt us (SIGPIPE) */
	p = (struct proc)PROC_INIT;
	strvec_pushl(&p.argv, "sh", "-c", "exec 0<&-; sleep 0.2; exit 5", NULL);
	p.input = big.buf;
	p.input_len = big.len;
	p.timeout_ms = 10000;
	t0 = proc_now_ms();
	proc_run(&p);
	ok(p.exit_code == 5 && proc_now_ms() - t0 < 5000,
	   "input to a child that closes stdin: no SIGPIPE, exit 5 (got %d)",
	   p.exit_code);
	proc_release(&p);
	strbuf_release(&big);
}

static void test_env_and_dir(void)
{
	struct proc p = PROC_INIT;
	char cwd[4096], real[4096];
	int ret;

	setenv("TS_PROC_TEST_OLD", "old", 1);
	strvec_pushl(&p.env, "TS_PROC_TEST_NEW=new value",
		     "TS_PROC_TEST_OLD=replaced", NULL);
	run_sh(&p,
	       "printf '%s|%s|' \"$TS_PROC_TEST_NEW\" \"$TS_PROC_TEST_OLD\";"
	       " env | grep -c '^TS_PROC_TEST_OLD='",
	       10000);
	is_str(p.out.buf, "new value|replaced|1\n",
	       "env additions are visible and replace inherited values");
	proc_release(&p);
	unsetenv("TS_PROC_TEST_OLD");

	p = (struct proc)PROC_INIT;
	run_sh(&p, "printf %s \"$PATH\"", 10000);
	is_str(p.out.buf, getenv("PATH"),
	       "the rest of the environment is kept");
	proc_release(&p);

	p = (struct proc)PROC_INIT;
	p.dir = tmpdir;
	run_sh(&p, "pwd -P", 10000);
	if (!realpath(tmpdir, real))
		real[0] = '\0';
	strcat(real, "\n");
	is_str(p.out.buf, real, "dir is the child's working directory");
	proc_release(&p);

	p = (struct proc)PROC_INIT;
	run_sh(&p, "pwd -P", 10000);
	if (!getcwd(cwd, sizeof(cwd) - 2) || !realpath(cwd, real))
		real[0] = '\0';
	strcat(real, "\n");
	is_str(p.out.buf, real, "no dir: the working directory is inherited");
	proc_release(&p);

	p = (struct proc)PROC_INIT;
	p.dir = "/nonexistent/task-sync-dir";
	ret = run_sh(&p, "true", 10000);
	ok(ret == -1 && p.exit_code != 0,
	   "a missing dir: not started (ret %d, exit %d)", ret, p.exit_code);
	proc_release(&p);
}

static void test_grandchild_holds_pipe(void)
{
	struct proc p = PROC_INIT;
	char *pidfile = tmp_path("bg.pid"), *escaped = tmp_path("esc.pid");
	struct strbuf script = STRBUF_INIT;
	long long t0 = proc_now_ms(), took;
	pid_t pgid, esc;

	strbuf_addf(&script, "echo $$ > '%s'; sleep 100 &", pidfile);
	run_sh(&p, script.buf, 0);
	took = proc_now_ms() - t0;
	pgid = read_pidfile(pidfile, 0);
	ok(p.exit_code == 0 && !p.timed_out,
	   "background grandchild: the shell's exit 0 is reported (got %d)",
	   p.exit_code);
	ok(took < 4000, "background grandchild: returned in %lld ms", took);
	ok(group_gone(pgid, 1000),
	   "background grandchild: the sleep holding the pipe is killed");
	proc_release(&p);

	/* one that left the group: proc_run gives up on the pipe */
	strbuf_reset(&script);
	strbuf_addf(&script,
		    "setsid sh -c 'echo $$ > %s; exec sleep 100' & "
		    "while [ ! -s %s ]; do sleep 0.05; done; exit 4",
		    escaped, escaped);
	p = (struct proc)PROC_INIT;
	t0 = proc_now_ms();
	run_sh(&p, script.buf, 0);
	took = proc_now_ms() - t0;
	esc = read_pidfile(escaped, 0);
	ok(p.exit_code == 4 && took < 4500,
	   "a grandchild outside the group holding the pipe: returns "
	   "(exit %d, %lld ms)",
	   p.exit_code, took);
	if (esc > 0)
		kill(esc, SIGKILL);
	reap_orphans();
	proc_release(&p);
	strbuf_release(&script);
	free(pidfile);
	free(escaped);
}

struct sigint_report {
	int ret, exit_code, interrupted, was_interrupted;
	long long took;
};

static void test_sigint(void)
{
	char *pidfile = tmp_path("int.pid");
	struct sigint_report rep = { -9, -9, -9, -9, -1 };
	int fds[2], status = 0, got = 0;
	long long t0, until;
	pid_t child, pgid, w = 0;

	if (pipe(fds) < 0) {
		ok(0, "SIGINT: pipe");
		free(pidfile);
		return;
	}
	fflush(stdout);
	child = fork();
	if (child == 0) {
		struct proc p = PROC_INIT;
		struct strbuf script = STRBUF_INIT;
		long long start = proc_now_ms();
		close(fds[0]);
		proc_install_signal_handlers();
		strbuf_addf(&script, "echo $$ > '%s'; exec sleep 100", pidfile);
		strvec_pushl(&p.argv, "sh", "-c", script.buf, NULL);
		rep.ret = proc_run(&p);
		rep.exit_code = p.exit_code;
		rep.interrupted = p.interrupted;
		rep.was_interrupted = proc_was_interrupted();
		rep.took = proc_now_ms() - start;
		proc_release(&p);
		strbuf_release(&script);
		free(pidfile);
		if (write(fds[1], &rep, sizeof(rep)) < 0)
			_exit(2);
		_exit(0);
	}
	close(fds[1]);
	t0 = proc_now_ms();
	pgid = read_pidfile(pidfile, 3000);
	while (proc_now_ms() - t0 < 300)
		sleep_ms(10);
	ok(child > 0 && pgid > 0 && kill(-pgid, 0) == 0,
	   "SIGINT: the child's sleep is running in its own group");
	if (child > 0)
		kill(child, SIGINT);
	until = proc_now_ms() + 5000;
	while (child > 0 && (w = waitpid(child, &status, WNOHANG)) == 0 &&
	       proc_now_ms() < until)
		sleep_ms(10);
	if (child > 0 && w == 0) {
		kill(child, SIGKILL);
		waitpid(child, &status, 0);
	}
	got = read(fds[0], &rep, sizeof(rep)) == (ssize_t)sizeof(rep);
	close(fds[0]);
	ok(w == child && WIFEXITED(status) && WEXITSTATUS(status) == 0,
	   "SIGINT: the task-sync side exits normally, within 5 s");
	ok(got && rep.ret == 0 && rep.interrupted == 1 && rep.exit_code == 130,
	   "SIGINT: proc_run reports interrupted, exit 130 (ret %d, "
	   "interrupted %d, exit %d)",
	   rep.ret, rep.interrupted, rep.exit_code);
	ok(got && rep.was_interrupted, "SIGINT: proc_was_interrupted() is set");
	ok(got && rep.took < 3000, "SIGINT: returned promptly (%lld ms)",
	   rep.took);
	ok(group_gone(pgid, 1000), "SIGINT: the sleep's group is gone");
	free(pidfile);
}

static _Atomic int cancel_flag;

static void *set_cancel_later(void *arg)
{
	struct timespec ts = { 0, 300 * 1000000L };
	(void)arg;
	nanosleep(&ts, NULL);
	atomic_store(&cancel_flag, 1);
	return NULL;
}

/* another thread stops a child through p.cancel (docker_shell's lookup) */
static void test_cancel(void)
{
	struct proc p = PROC_INIT;
	pthread_t th;
	long long t0;

	p.cancel = &cancel_flag;
	run_sh(&p, "echo started; exit 7", 10000);
	ok(p.exit_code == 7 && !p.interrupted,
	   "a cancel flag that stays 0 changes nothing (exit %d)", p.exit_code);
	proc_release(&p);

	p = (struct proc)PROC_INIT;
	p.cancel = &cancel_flag;
	p.kill_grace_ms = 500;
	t0 = proc_now_ms();
	if (pthread_create(&th, NULL, set_cancel_later, NULL)) {
		ok(0, "pthread_create");
		return;
	}
	run_sh(&p, "sleep 30", 20000);
	pthread_join(th, NULL);
	ok(p.interrupted && !p.timed_out && p.exit_code == 130 &&
		   proc_now_ms() - t0 < 3000,
	   "a cancel set by another thread stops the child within the "
	   "grace (exit %d after %lld ms)",
	   p.exit_code, proc_now_ms() - t0);
	proc_release(&p);
	atomic_store(&cancel_flag, 0);
}

/* on_output for test_hold_input: let stdin go once "got x" streamed */
static void release_on_got(const char *buf, size_t n, void *data)
{
	struct proc *p = data;
	if (memmem(buf, n, "got x", 5))
		p->hold_input = 0;
}

/* hold_input: EOF on stdin only when the caller lets it go, or at exit */
static void test_hold_input(void)
{
	struct proc p = PROC_INIT;
	const char *script = "read l; echo got $l; cat; echo eof";

	strvec_pushl(&p.argv, "sh", "-c", script, NULL);
	p.input = "x\n";
	p.input_len = 2;
	p.hold_input = 1;
	p.timeout_ms = 800;
	p.kill_grace_ms = 200;
	proc_run(&p);
	ok(p.timed_out && strstr(p.out.buf, "got x") &&
		   !strstr(p.out.buf, "eof"),
	   "held stdin: the input is read, and no EOF comes (%s)", p.out.buf);
	proc_release(&p);

	p = (struct proc)PROC_INIT;
	strvec_pushl(&p.argv, "sh", "-c", script, NULL);
	p.input = "x\n";
	p.input_len = 2;
	p.hold_input = 1;
	p.on_output = release_on_got;
	p.data = &p;
	p.timeout_ms = 10000;
	proc_run(&p);
	ok(!p.timed_out && p.exit_code == 0 && strstr(p.out.buf, "eof"),
	   "on_output clears hold_input: EOF at once (%s)", p.out.buf);
	proc_release(&p);
}

/* the number of file descriptors this process has open */
static int open_fds(void)
{
	DIR *d = opendir("/proc/self/fd");
	struct dirent *e;
	int n = 0;

	if (!d)
		return -1;
	while ((e = readdir(d)))
		if (e->d_name[0] != '.')
			n++;
	closedir(d);
	return n - 1; /* the directory stream's own */
}

/*
 * Every way out of proc_run closes what proc_start opened: a normal
 * run, held input, a timeout, a program that is not there, a missing
 * directory.
 */
static void test_no_fd_leaks(void)
{
	int before = open_fds(), i;

	for (i = 0; i < 5; i++) {
		struct proc p = PROC_INIT;
		run_sh(&p, "echo hi", 10000);
		proc_release(&p);

		p = (struct proc)PROC_INIT;
		strvec_pushl(&p.argv, "cat", NULL);
		p.input = "x";
		p.input_len = 1;
		p.timeout_ms = 10000;
		proc_run(&p);
		proc_release(&p);

		p = (struct proc)PROC_INIT;
		strvec_pushl(&p.argv, "sh", "-c", "read l; exit 2", NULL);
		p.input = "x\n";
		p.input_len = 2;
		p.hold_input = 1;
		p.timeout_ms = 10000;
		proc_run(&p);
		proc_release(&p);

		p = (struct proc)PROC_INIT;
		run_sh(&p, "sleep 10", 50);
		proc_release(&p);

		p = (struct proc)PROC_INIT;
		strvec_pushl(&p.argv, "task-sync-no-such-program-xyz", NULL);
		proc_run(&p);
		proc_release(&p);

		p = (struct proc)PROC_INIT;
		p.dir = "/nonexistent/task-sync-dir";
		run_sh(&p, "true", 10000);
		proc_release(&p);
	}
	ok(before > 0 && open_fds() == before,
	   "no file descriptor is left open by 30 runs (%d before, %d after)",
	   before, open_fds());
}

/* a run that could not start still reports how long it took and no output */
static void test_not_started_finishes(void)
{
	struct proc p = PROC_INIT;

	strbuf_addstr(&p.out, "stale");
	p.timed_out = p.interrupted = 1;
	strvec_pushl(&p.argv, "task-sync-no-such-program-xyz", NULL);
	proc_run(&p);
	ok(p.out.len == 0 && p.total_bytes == 0 && !p.timed_out &&
		   !p.interrupted && p.duration_ms >= 0 && p.duration_ms < 2000,
	   "not started: out and flags reset, duration_ms set (%lld)",
	   p.duration_ms);
	proc_release(&p);
}

/* the same proc run twice: the second run's results only */
static void test_rerun_resets(void)
{
	struct proc p = PROC_INIT;

	run_sh(&p, "echo first; sleep 10", 200);
	ok(p.timed_out && p.exit_code == 124 && !strcmp(p.out.buf, "first\n"),
	   "timeout keeps what was written before it (%s)", p.out.buf);
	strvec_clear(&p.argv);
	run_sh(&p, "echo second", 10000);
	ok(!p.timed_out && p.exit_code == 0 && p.total_bytes == 7 &&
		   !strcmp(p.out.buf, "second\n"),
	   "a second run of the same proc: its own output and exit only (%s)",
	   p.out.buf);
	proc_release(&p);
}

/*
 * Output of exactly the cap is whole; one byte more is cut in the middle.
 * The cap is split in halves, rounded down, so an odd cap keeps one less.
 */
static void test_capture_boundaries(void)
{
	static const struct {
		size_t cap;
		const char *script;
		const char *want;
	} cases[] = {
		{ 10, "printf 0123456789", "0123456789" },
		{ 10, "printf 0123456789a",
		  "01234\n[... 1 bytes omitted ...]\n6789a" },
		{ 11, "printf 0123456789a",
		  "01234\n[... 1 bytes omitted ...]\n6789a" },
		/* half the cap each side, and at least one byte each */
		{ 1, "printf ab", "ab" },
		{ 1, "printf abc", "a\n[... 1 bytes omitted ...]\nc" },
		{ 4, "printf ab; sleep 0.1; printf cd; sleep 0.1; printf ef",
		  "ab\n[... 2 bytes omitted ...]\nef" },
	};
	size_t i;

	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct proc p = PROC_INIT;
		struct strbuf name = STRBUF_INIT;
		p.capture_cap = cases[i].cap;
		run_sh(&p, cases[i].script, 10000);
		strbuf_addf(&name, "cap %zu, sh -c '%s': head and tail kept",
			    cases[i].cap, cases[i].script);
		is_str(p.out.buf, cases[i].want, name.buf);
		strbuf_release(&name);
		proc_release(&p);
	}
}

/* a cancel already set when the run starts stops the child at once */
static void test_cancel_before_start(void)
{
	struct proc p = PROC_INIT;
	long long t0 = proc_now_ms();

	atomic_store(&cancel_flag, 1);
	p.cancel = &cancel_flag;
	run_sh(&p, "sleep 30", 20000);
	ok(p.interrupted && p.exit_code == 130 && proc_now_ms() - t0 < 2000,
	   "a cancel set before the start: stopped at once, 130 (exit %d, "
	   "%lld ms)",
	   p.exit_code, proc_now_ms() - t0);
	proc_release(&p);
	atomic_store(&cancel_flag, 0);
}

/* hold_input: held empty input, and a child that exits while held */
static void test_hold_input_edges(void)
{
	struct proc p = PROC_INIT;
	long long t0;

	strvec_pushl(&p.argv, "cat", NULL);
	p.input = "";
	p.input_len = 0;
	p.hold_input = 1;
	p.timeout_ms = 400;
	p.kill_grace_ms = 200;
	proc_run(&p);
	ok(p.timed_out && p.exit_code == 124,
	   "held empty input: cat sees no EOF until the deadline (exit %d)",
	   p.exit_code);
	proc_release(&p);

	p = (struct proc)PROC_INIT;
	strvec_pushl(&p.argv, "cat", NULL);
	p.input = "";
	p.input_len = 0;
	p.timeout_ms = 10000;
	proc_run(&p);
	ok(!p.timed_out && p.exit_code == 0 && p.out.len == 0,
	   "empty input, not held: EOF at once (exit %d)", p.exit_code);
	proc_release(&p);

	p = (struct proc)PROC_INIT;
	strvec_pushl(&p.argv, "sh", "-c", "read l; echo got $l; exit 3", NULL);
	p.input = "x\n";
	p.input_len = 2;
	p.hold_input = 1;
	p.timeout_ms = 10000;
	t0 = proc_now_ms();
	proc_run(&p);
	ok(!p.timed_out && p.exit_code == 3 && !strcmp(p.out.buf, "got x\n") &&
		   proc_now_ms() - t0 < 2000,
	   "held stdin, the child exits on its own: its exit 3 at once "
	   "(exit %d, %s)",
	   p.exit_code, p.out.buf);
	proc_release(&p);
}

/* the wall clock agrees with time(2), and moves with the monotonic one */
static void test_wall_ms(void)
{
	long long t = (long long)time(NULL) * 1000, w = proc_wall_ms();
	long long m0 = proc_now_ms(), w0 = proc_wall_ms(), dm, dw;

	ok(w >= t && w < t + 2000, "proc_wall_ms is the epoch in ms (%lld)", w);
	sleep_ms(100);
	dm = proc_now_ms() - m0;
	dw = proc_wall_ms() - w0;
	ok(dw >= 90 && dw < dm + 50,
	   "proc_wall_ms moves with proc_now_ms (%lld ~ %lld ms)", dw, dm);
}

struct thread_run {
	const char *script;
	struct proc p;
};

static void *run_in_thread(void *arg)
{
	struct thread_run *t = arg;
	run_sh(&t->p, t->script, 20000);
	return NULL;
}

/*
 * A process task-sync started dies with it: a helper process runs
 * proc_run from a worker thread (as rubric_shell does) while its main
 * thread waits; SIGKILL of the helper takes the child along.
 */
static void test_dies_with_parent(void)
{
	char *pidfile = tmp_path("deathsig.pid");
	struct strbuf script = STRBUF_INIT;
	pid_t helper, child = 0;
	pthread_t th, quick;
	struct thread_run t = { NULL, PROC_INIT };
	struct thread_run q = { "exit 0", PROC_INIT };

	strbuf_addf(&script, "echo $$ > '%s'; exec sleep 100", pidfile);
	helper = fork();
	if (helper == 0) {
		t.script = script.buf;
		if (!pthread_create(&th, NULL, run_in_thread, &t))
			pthread_join(th, NULL);
		_exit(0);
	}
	if (helper > 0)
		child = read_pidfile(pidfile, 5000);
	ok(child > 0, "the helper's child started");
	if (helper > 0) {
		kill(helper, SIGKILL);
		waitpid(helper, NULL, 0);
	}
	ok(child > 0 && group_gone(child, 3000),
	   "kill -9 of the process that ran it kills the child too");
	if (child > 0 && !group_gone(child, 0)) {
		kill(-child, SIGKILL);
		group_gone(child, 2000);
	}
	free(pidfile);
	strbuf_release(&script);

	/* another thread ending does not take a thread's child along */
	t.script = "sleep 0.3; echo done";
	t.p = (struct proc)PROC_INIT;
	if (pthread_create(&th, NULL, run_in_thread, &t)) {
		ok(0, "pthread_create");
		return;
	}
	if (!pthread_create(&quick, NULL, run_in_thread, &q))
		pthread_join(quick, NULL);
	proc_release(&q.p);
	pthread_join(th, NULL);
	ok(t.p.exit_code == 0 && !strcmp(t.p.out.buf, "done\n"),
	   "a child outlives other threads of its parent (exit %d)",
	   t.p.exit_code);
	proc_release(&t.p);
}

int main(void)
{
	char *cmd;

	if (!mkdtemp(tmpdir)) {
		perror("mkdtemp");
		return 1;
	}
	/* orphaned grandchildren come to us, so that we can reap them */
	prctl(PR_SET_CHILD_SUBREAPER, 1);

	test_timeout_kills_tree();
	test_term_ignored_gets_kill();
	test_large_output();
	test_head_and_tail_kept();
	test_not_runnable();
	test_exit_codes();
	test_stdin();
	test_env_and_dir();
	test_grandchild_holds_pipe();
	test_sigint();
	test_cancel();
	test_hold_input();
	test_no_fd_leaks();
	test_not_started_finishes();
	test_rerun_resets();
	test_capture_boundaries();
	test_cancel_before_start();
	test_hold_input_edges();
	test_wall_ms();
	test_dies_with_parent();

	reap_orphans();
	cmd = malloc(strlen(tmpdir) + 16);
	if (cmd) {
		sprintf(cmd, "rm -rf '%s'", tmpdir);
		if (system(cmd) != 0)
			fprintf(stderr, "cannot remove %s\n", tmpdir);
		free(cmd);
	}
	return tap_done();
}
