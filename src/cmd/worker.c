/*
 * task-sync worker: options, signals and the summary around worker_run
 * (worker/worker.h, docs/workers.md).
 */
#include "cmd/cmd.h"
#include "cmd/queue.h"
#include "os/error.h"
#include "os/xalloc.h"
#include "worker/worker.h"

#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define HEARTBEAT_MS_DEFAULT 5000

static void on_signal(int sig)
{
	(void)sig;
	worker_stop();
}

static void install_signals(void)
{
	struct sigaction sa;

	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_signal;
	sigemptyset(&sa.sa_mask);
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGHUP, &sa, NULL);
	signal(SIGPIPE, SIG_IGN);
}

int cmd_worker(int argc, const char **argv, struct cmd_ctx *ctx)
{
	long long conc = 1, hb = HEARTBEAT_MS_DEFAULT, poll = 0;
	const char *name = NULL;
	struct strvec task_ops = STRVEC_INIT, args = STRVEC_INIT;
	struct worker_opts o = { 0 };
	struct worker_stats s = { 0 };
	long long *tasks = NULL;
	char host[256], defname[320];
	int once = 0, ret;
	size_t i;
	const struct option opts[] = {
		OPT_ID('c', "concurrency", &conc, "N",
		       "run up to N items at once (default 1)"),
		OPT_STRING(0, "name", &name, "NAME",
			   "this worker's name, unique among the workers "
			   "(default HOST:PID)"),
		OPT_OPS(0, "task", &task_ops, "ID", 't',
			"work only on this task's items (repeatable)"),
		OPT_BOOL(0, "once", &once,
			 "exit when nothing in scope is queued or running"),
		OPT_ID(0, "heartbeat-ms", &hb, "MS",
		       "heartbeat interval (default 5000); a worker silent "
		       "for two intervals loses its items"),
		OPT_ID(0, "poll-ms", &poll, "MS",
		       "how often an idle worker looks at the queue besides "
		       "its wake-ups (default half the heartbeat interval)"),
		OPT_END_MARK,
	};
	const struct cmd_usage u = {
		"worker [--concurrency N] [--name NAME] [--task ID...] [--once] "
		"[--heartbeat-ms MS] [--poll-ms MS]",
		"Claim items of the work queue that 'task run ID --queue' "
		"filled and run them on this machine's Docker engine; any "
		"number of workers on any number of machines share one "
		"PostgreSQL database. SIGTERM stops claiming and lets the "
		"running items finish. PostgreSQL only.",
		0, 0,
		"  task-sync worker --concurrency 4\n"
		"  task-sync worker --task 3 --once\n"
	};

	ret = parse_options(argc, argv, &u, opts, "worker", &args);
	strvec_clear(&args);
	if (ret < 0) {
		strvec_clear(&task_ops);
		return PARSE_EXIT(ret);
	}
	tasks = xcalloc(task_ops.nr + 1, sizeof(*tasks));
	for (i = 0; i < task_ops.nr; i++)
		if (parse_id_arg(task_ops.v[i] + 1, "task", &tasks[i])) {
			free(tasks);
			strvec_clear(&task_ops);
			return EXIT_USAGE;
		}
	if (conc > 64) {
		free(tasks);
		strvec_clear(&task_ops);
		return usage_error("worker", "--concurrency %lld: at most 64",
				   conc);
	}
	if ((ret = cmd_queue_refuse(ctx, "worker"))) {
		free(tasks);
		strvec_clear(&task_ops);
		return ret;
	}
	if (gethostname(host, sizeof(host)))
		strcpy(host, "localhost");
	host[sizeof(host) - 1] = '\0';
	snprintf(defname, sizeof(defname), "%s:%ld", host, (long)getpid());
	o.name = name ? name : defname;
	o.host = host;
	o.concurrency = (int)conc;
	o.heartbeat_ms = (int)(hb > 600000 ? 600000 : hb);
	o.poll_ms = poll ? (int)(poll > 600000 ? 600000 : poll)
			 : o.heartbeat_ms / 2;
	if (o.poll_ms < 10)
		o.poll_ms = 10;
	o.tasks = task_ops.nr ? tasks : NULL;
	o.ntasks = task_ops.nr;
	o.once = once;
	o.out = ctx->out;
	install_signals();
	fprintf(ctx->out,
		"worker %s: started (concurrency %d, heartbeat %d ms)\n",
		o.name, o.concurrency, o.heartbeat_ms);
	fflush(ctx->out);
	ret = worker_run(cmd_load_config(ctx), &o, &s);
	fprintf(ctx->out,
		"worker %s: stopped: %lld claimed (%lld reclaimed), %lld "
		"succeeded, %lld failed, %lld lost, %lld released\n",
		o.name, s.claimed, s.reclaimed, s.succeeded, s.failed, s.lost,
		s.released);
	free(tasks);
	strvec_clear(&task_ops);
	return ret ? ts_exit_code(ret) : 0;
}
