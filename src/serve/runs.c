/*
 * The runs the API starts (runs.h): a job per POST, a thread per job
 * that runs the child through os/proc.h and records how it ended, and
 * the lock handshake read from the child's descriptor 3.
 */
#include "serve/runs.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "os/proc.h"
#include "os/strbuf.h"
#include "os/xalloc.h"

/* how long a start waits for the child to try the lock */
#define HANDSHAKE_MS 30000
/* the output kept of each job (head and tail) */
#define JOB_OUTPUT_CAP (256 * 1024)
/* SIGTERM to SIGKILL on runs_stop: a stop stays within 5 s */
#define STOP_GRACE_MS 3000

enum lock_state { LOCK_UNKNOWN, LOCK_TAKEN, LOCK_BUSY };

struct job {
	struct runs *rs;
	long long id;
	struct run_request rq;
	struct proc p;
	pthread_t thread;
	int started;   /* the thread was created */
	int notify[2]; /* the side channel: read end, write end */
	enum lock_state lock;
	int announced; /* "run-started" was posted */
	int finished;
	const char *state;
	_Atomic int cancel;
	struct job *next;
};

struct runs {
	struct events *ev;
	pthread_mutex_t mu; /* guards the jobs and what they hold */
	struct job *jobs;   /* newest first */
	long long last_id;
};

struct runs *runs_new(struct events *ev)
{
	struct runs *rs = xcalloc(1, sizeof(*rs));

	rs->ev = ev;
	pthread_mutex_init(&rs->mu, NULL);
	return rs;
}

static json_t *mode_json(const struct run_request *rq)
{
	json_t *a = json_array();

	if (rq->force)
		json_array_append_new(a, json_string("force"));
	if (rq->golden)
		json_array_append_new(a, json_string("golden"));
	if (rq->original)
		json_array_append_new(a, json_string("original"));
	return a;
}

/* rs->mu held */
static json_t *job_json(const struct job *j)
{
	return json_pack(
		"{s:I, s:s, s:I, s:o, s:o, s:s, s:o}", "id", (json_int_t)j->id,
		"kind", j->rq.step_id ? "step" : "task", "task_id",
		(json_int_t)j->rq.task_id, "step_id",
		j->rq.step_id ? json_integer(j->rq.step_id) : json_null(),
		"mode", mode_json(&j->rq), "state", j->state, "exit_code",
		j->finished ? json_integer(j->p.exit_code) : json_null());
}

static void post(struct job *j, const char *type)
{
	json_t *doc = job_json(j);
	char *text = json_dumps(doc, JSON_COMPACT | JSON_SORT_KEYS);

	events_post(j->rs->ev, type, text);
	free(text);
	json_decref(doc);
}

/* "run-started", once per job (rs->mu held) */
static void announce(struct job *j)
{
	if (!j->announced) {
		j->announced = 1;
		post(j, "run-started");
	}
}

/* read the child's line if it is there (rs->mu held) */
static void read_lock_line(struct job *j)
{
	char buf[64];
	ssize_t n;

	if (j->lock != LOCK_UNKNOWN || j->notify[0] < 0)
		return;
	n = read(j->notify[0], buf, sizeof(buf) - 1);
	if (n <= 0)
		return;
	buf[n] = '\0';
	if (!strncmp(buf, "locked ", 7)) {
		j->lock = LOCK_TAKEN;
		j->state = "running";
	} else if (!strncmp(buf, "busy ", 5)) {
		j->lock = LOCK_BUSY;
	}
	if (j->lock == LOCK_TAKEN)
		announce(j);
}

static const char *end_state(const struct job *j)
{
	if (j->lock == LOCK_BUSY)
		return "refused";
	if (j->p.interrupted)
		return "interrupted";
	if (j->p.exit_code == 0)
		return "succeeded";
	if (j->p.exit_code == 1)
		return "failed";
	return "error";
}

static void *job_thread(void *arg)
{
	struct job *j = arg;
	struct runs *rs = j->rs;

	proc_run(&j->p);
	/* its results' messages come before "run-finished" */
	events_refresh(rs->ev);
	pthread_mutex_lock(&rs->mu);
	read_lock_line(j);
	j->finished = 1;
	j->state = end_state(j);
	if (j->lock != LOCK_BUSY) {
		announce(j);
		post(j, "run-finished");
	}
	close(j->notify[0]);
	close(j->notify[1]);
	j->notify[0] = j->notify[1] = -1;
	pthread_mutex_unlock(&rs->mu);
	return NULL;
}

static void build_argv(struct job *j)
{
	struct strvec *v = &j->p.argv;
	char id[32];

	snprintf(id, sizeof(id), "%lld",
		 j->rq.step_id ? j->rq.step_id : j->rq.task_id);
	strvec_pushl(v, "/proc/self/exe", j->rq.step_id ? "step" : "task",
		     "run", id, NULL);
	if (j->rq.force)
		strvec_push(v, "--force");
	if (j->rq.golden)
		strvec_push(v, "--golden");
	if (j->rq.original)
		strvec_push(v, "--original");
}

/* a pipe whose ends are both above 3, close-on-exec */
static int notify_pipe(int fds[2])
{
	int raw[2], i;

	if (pipe2(raw, O_CLOEXEC) < 0)
		return -1;
	for (i = 0; i < 2; i++) {
		fds[i] = fcntl(raw[i], F_DUPFD_CLOEXEC, 10);
		close(raw[i]);
	}
	if (fds[0] < 0 || fds[1] < 0) {
		for (i = 0; i < 2; i++)
			if (fds[i] >= 0)
				close(fds[i]);
		fds[0] = fds[1] = -1;
		return -1;
	}
	fcntl(fds[0], F_SETFL, O_NONBLOCK);
	return 0;
}

static void job_free(struct job *j)
{
	proc_release(&j->p);
	free(j);
}

/* the end of a start that failed before the child ran (err says why) */
static unsigned start_failed(struct job *j)
{
	int i;

	for (i = 0; i < 2; i++)
		if (j->notify[i] >= 0)
			close(j->notify[i]);
	job_free(j);
	return 500;
}

/* wait for the handshake (rs->mu held); the status to answer */
static unsigned handshake(struct runs *rs, struct job *j)
{
	long long until = proc_now_ms() + HANDSHAKE_MS;

	for (;;) {
		struct pollfd pfd = { j->notify[0], POLLIN, 0 };
		int fd = j->notify[0];

		read_lock_line(j);
		if (j->lock == LOCK_TAKEN)
			return 202;
		if (j->lock == LOCK_BUSY)
			return 409;
		if (j->finished)
			return 200;
		if (proc_now_ms() >= until)
			return 202; /* still deciding what to run */
		pthread_mutex_unlock(&rs->mu);
		if (fd >= 0)
			poll(&pfd, 1, 100);
		pthread_mutex_lock(&rs->mu);
	}
}

unsigned runs_start(struct runs *rs, const struct run_request *rq, json_t **job,
		    struct strbuf *err)
{
	struct job *j = xcalloc(1, sizeof(*j));
	struct proc init = PROC_INIT;
	unsigned status;

	*job = NULL;
	j->rs = rs;
	j->rq = *rq;
	j->p = init;
	j->state = "starting";
	j->notify[0] = j->notify[1] = -1;
	if (notify_pipe(j->notify) < 0) {
		strbuf_addf(err, "cannot create a pipe: %s", strerror(errno));
		return start_failed(j);
	}
	build_argv(j);
	strvec_push(&j->p.env, "TASK_SYNC_LOCK_NOTIFY_FD=3");
	j->p.pass_fd = j->notify[1];
	j->p.cancel = &j->cancel;
	j->p.kill_grace_ms = STOP_GRACE_MS;
	j->p.capture_cap = JOB_OUTPUT_CAP;
	pthread_mutex_lock(&rs->mu);
	j->id = ++rs->last_id;
	if (pthread_create(&j->thread, NULL, job_thread, j)) {
		pthread_mutex_unlock(&rs->mu);
		strbuf_addstr(err, "cannot start a thread for the run");
		return start_failed(j);
	}
	j->started = 1;
	j->next = rs->jobs;
	rs->jobs = j;
	status = handshake(rs, j);
	if (status == 409)
		strbuf_addf(err,
			    "task %lld is being run by another task-sync "
			    "process; try again when it finishes",
			    rq->task_id);
	else
		*job = job_json(j);
	pthread_mutex_unlock(&rs->mu);
	return status;
}

json_t *runs_job(struct runs *rs, long long id)
{
	struct job *j;
	json_t *doc = NULL;

	pthread_mutex_lock(&rs->mu);
	for (j = rs->jobs; j && !doc; j = j->next)
		if (j->id == id)
			doc = job_json(j);
	pthread_mutex_unlock(&rs->mu);
	return doc;
}

json_t *runs_list(struct runs *rs)
{
	struct job *j;
	json_t *a = json_array();

	pthread_mutex_lock(&rs->mu);
	for (j = rs->jobs; j; j = j->next)
		json_array_append_new(a, job_json(j));
	pthread_mutex_unlock(&rs->mu);
	return a;
}

char *runs_output(struct runs *rs, long long id)
{
	struct job *j;
	char *out = NULL;

	pthread_mutex_lock(&rs->mu);
	for (j = rs->jobs; j; j = j->next)
		if (j->id == id && j->finished)
			out = xstrdup(j->p.out.buf ? j->p.out.buf : "");
	pthread_mutex_unlock(&rs->mu);
	return out;
}

void runs_stop(struct runs *rs)
{
	struct job *j, *head;

	pthread_mutex_lock(&rs->mu);
	head = rs->jobs;
	for (j = head; j; j = j->next)
		j->cancel = 1;
	pthread_mutex_unlock(&rs->mu);
	for (j = head; j; j = j->next)
		if (j->started) {
			pthread_join(j->thread, NULL);
			j->started = 0;
		}
}

void runs_free(struct runs *rs)
{
	struct job *j, *next;

	if (!rs)
		return;
	runs_stop(rs);
	for (j = rs->jobs; j; j = next) {
		next = j->next;
		job_free(j);
	}
	pthread_mutex_destroy(&rs->mu);
	free(rs);
}
