#ifndef OS_PROC_H
#define OS_PROC_H

#include <stddef.h>
#include <sys/types.h>

#include "os/strbuf.h"
#include "os/strvec.h"

/*
 * Child processes, supervised like timeout(1). Every child task-sync
 * starts goes through here:
 *   1. struct proc p = PROC_INIT; strvec_pushl(&p.argv, "docker", ..., NULL);
 *   2. set timeout_ms, capture_cap, on_output as needed;
 *   3. proc_run(&p);  (spawn, read, wait, reap)
 *   4. read p.exit_code, p.out; proc_release(&p).
 *
 * The child gets its own process group, stdin from /dev/null (or the
 * given input), and stdout+stderr on one pipe read by one poll loop.
 * Output is kept up to capture_cap bytes: the head and the tail, with a
 * marker where the middle was cut; on_output sees every byte as it
 * streams. At the deadline the whole group gets SIGTERM, then SIGKILL
 * after kill_grace_ms; leftovers of the group are killed when the main
 * child exits. The child is always reaped, and dies with the thread
 * that started it (PR_SET_PDEATHSIG: SIGKILL), so none outlives a
 * `kill -9` of task-sync.
 *
 * out is made valid UTF-8 text (strbuf_make_text: NUL and malformed
 * bytes become '?'); on_output sees the raw bytes.
 *
 * exit_code is shell-like: the exit status, 128+N for signal N, 124 for
 * a timeout, 127 when the program was not found, 126 when it could not
 * be executed, 130 when task-sync itself was interrupted.
 */

struct proc {
	struct strvec argv;
	struct strvec env; /* "K=V" added to the environment */
	const char *dir;   /* working directory, NULL = inherit */
	const char *input; /* written to stdin, NULL = /dev/null */
	size_t input_len;
	/*
	 * Non-zero: stdin stays open once input is written, until the
	 * child exits or this is cleared (by on_output, say), so the child
	 * sees EOF only when we are done or gone.
	 */
	int hold_input;
	long timeout_ms;    /* 0 = no deadline */
	long kill_grace_ms; /* default 2000 */
	size_t capture_cap; /* default 1 MiB */
	void (*on_output)(const char *buf, size_t n, void *data);
	void *data;
	int cleanup; /* runs even after an interrupt (sweeps) */
	/*
	 * When *cancel becomes non-zero (another thread sets it), the
	 * child's group is stopped as on an interrupt: SIGTERM, SIGKILL
	 * after kill_grace_ms; interrupted is set. Seen within 200 ms.
	 */
	const _Atomic int *cancel;
	/*
	 * Above 2: this descriptor is also given to the child, as its
	 * descriptor 3 (a side channel: serve learns from a task run it
	 * started whether the run lock was taken, serve/runs.c).
	 */
	int pass_fd;

	int exit_code;
	int timed_out;
	int interrupted;
	long long duration_ms;
	size_t total_bytes; /* bytes the child wrote */
	struct strbuf out;  /* captured head [+ marker + tail] */
};

/* fields not named are zero: no input, no deadline, default grace and cap */
#define PROC_INIT                                                           \
	{                                                                   \
		.argv = STRVEC_INIT, .env = STRVEC_INIT, .out = STRBUF_INIT \
	}

/*
 * Returns 0 when the program ran (whatever its exit code), -1 when it
 * could not be started (error printed; exit_code 127 or 126).
 */
int proc_run(struct proc *p);
void proc_release(struct proc *p);

/*
 * Install SIGINT/SIGTERM/SIGHUP handlers that make a running proc_run
 * kill its child group and return with interrupted set. Idempotent.
 */
void proc_install_signal_handlers(void);
/* non-zero once SIGINT/SIGTERM/SIGHUP was received */
int proc_was_interrupted(void);
/* monotonic milliseconds, for durations and deadlines */
long long proc_now_ms(void);
/* wall-clock milliseconds since the epoch, for times that are stored */
long long proc_wall_ms(void);

#endif
